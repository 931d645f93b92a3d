/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A process with many threads and many mappings, for timing backtraces:
 * many [THREADS [MAPPINGS]] starts THREADS threads blocked in read(2) and
 * maps its own executable MAPPINGS times (executable, apart), prints
 * "ready" and waits until its stdin closes. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int block[2];

static void *waiter(void *arg)
{
	char c;

	if (read(block[0], &c, 1) < 0)
		return arg;
	return arg;
}

int main(int argc, char **argv)
{
	long threads = argc > 1 ? atol(argv[1]) : 1000, maps = argc > 2 ? atol(argv[2]) : 10000;
	long page = sysconf(_SC_PAGESIZE), i;
	pthread_attr_t a;
	char c;
	int fd = open("/proc/self/exe", O_RDONLY);

	if (fd < 0 || pipe(block))
		return 1;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (i = 0; i < threads; i++) {
		pthread_t t;
		if (pthread_create(&t, &a, waiter, NULL))
			return 1;
	}
	for (i = 0; i < maps; i++) {
		/* two pages reserved, one mapped: neighbours never merge */
		char *p = mmap(NULL, 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED ||
		    mmap(p, page, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
			return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
