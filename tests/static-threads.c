/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * static-threads: linked -static without .eh_frame_hdr.  main starts a
 * thread and blocks joining it; the thread raises SIGUSR2, whose handler
 * prints "ready" and blocks reading a pipe nobody writes.  A core of it
 * has one thread in pthread_join's futex wait and one in a read(2) inside
 * a signal handler, in a file whose unwind info is .eh_frame alone.
 * "static-threads vdso" first starts a third thread that loops on
 * clock_gettime (the vDSO), and says "ready" once that one runs too.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int block[2], looping[2];

__attribute__((noinline)) static void handler(int sig)
{
	char c;

	(void)sig;
	write(1, "ready\n", 6);
	read(block[0], &c, 1);
}

__attribute__((noinline)) static void *thread_main(void *arg)
{
	(void)arg;
	raise(SIGUSR2);
	return NULL;
}

__attribute__((noinline)) static void in_vdso(void)
{
	struct timespec ts;

	write(looping[1], "v", 1);
	for (;;)
		clock_gettime(CLOCK_MONOTONIC, &ts);
}

static void *looper(void *arg)
{
	in_vdso();
	return arg;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_t t, v;
	char c;

	if (pipe(block) || pipe(looping))
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigaction(SIGUSR2, &sa, NULL);
	if (argc > 1 && !strcmp(argv[1], "vdso") &&
	    (pthread_create(&v, NULL, looper, NULL) || read(looping[0], &c, 1) != 1))
		return 1;
	if (pthread_create(&t, NULL, thread_main, NULL))
		return 1;
	pthread_join(t, NULL);
	return 0;
}
