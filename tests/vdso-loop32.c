/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdso-loop32: built with -m32 -O2, calls glibc's time functions in a loop
 * (clock_gettime, __clock_gettime64, gettimeofday, time), each of which
 * reaches the vDSO; prints "ready" first.  The glibc entries are called as
 * a program does, so the stack above the vDSO is glibc's and the program's
 * optimised code.
 */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

struct ts64 {
	long long sec;
	long long nsec;
};
/* glibc 2.34's 64-bit time entry (what clock_gettime is with
 * _TIME_BITS=64) */
extern int __clock_gettime64(clockid_t clk, struct ts64 *ts);

volatile long long sink;

__attribute__((noinline)) static void spin(void)
{
	struct timespec ts;
	struct ts64 t64;
	struct timeval tv;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		__clock_gettime64(CLOCK_REALTIME, &t64);
		gettimeofday(&tv, NULL);
		sink += ts.tv_nsec + t64.nsec + tv.tv_usec + time(NULL);
	}
}

int main(void)
{
	printf("ready\n");
	fflush(stdout);
	spin();
	return 0;
}
