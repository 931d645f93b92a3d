/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A program for backtraces of cores: the main thread waits in
 * pthread_join, one thread loops on clock_gettime (the vDSO), one blocks in
 * a SIGUSR2 handler.  It prints its pid once all three are on their way,
 * then blocks until killed. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int ready[2], block[2];

static void handler(int sig)
{
	char c = 'h';

	(void)sig;
	if (write(ready[1], &c, 1) != 1)
		_exit(1);
	if (read(block[0], &c, 1) < 0)
		_exit(1);
}

__attribute__((noinline)) static void in_vdso(void)
{
	struct timespec ts;
	char c = 'v';

	if (write(ready[1], &c, 1) != 1)
		_exit(1);
	for (;;)
		clock_gettime(CLOCK_MONOTONIC, &ts);
}

static void *looper(void *arg)
{
	in_vdso();
	return arg;
}

__attribute__((noinline)) static void signalled(void)
{
	raise(SIGUSR2);
	__asm__ volatile("");
}

static void *sigthread(void *arg)
{
	signalled();
	return arg;
}

int main(void)
{
	pthread_t a, b;
	char c;
	int n;

	if (pipe(ready) || pipe(block))
		return 1;
	signal(SIGUSR2, handler);
	if (pthread_create(&a, NULL, looper, NULL) || pthread_create(&b, NULL, sigthread, NULL))
		return 1;
	for (n = 0; n < 2; n++)
		if (read(ready[0], &c, 1) != 1)
			return 1;
	printf("%d\n", (int)getpid());
	fflush(stdout);
	pthread_join(b, NULL);
	return 0;
}
