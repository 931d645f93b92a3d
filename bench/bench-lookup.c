/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runtime lookup (vdso-elf.c) against glibc in the same run: the cost of
 * a first lookup (parse the vDSO and find __vdso_clock_gettime@LINUX_2.6)
 * against glibc's dlvsym() on linux-vdso.so.1, and the cost of a call through
 * the address found against glibc's clock_gettime().
 */
#include "config.h"
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <time.h>
#include "vdso-elf.h"

#define BATCHES 31

static volatile uintptr_t sink;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median over batches of ns per call of FN. */
static double measure(void (*fn)(long), long per_batch)
{
	double v[BATCHES];
	int b;

	fn(per_batch); /* warm up */
	for (b = 0; b < BATCHES; b++) {
		double t0 = now_ns();
		fn(per_batch);
		v[b] = (now_ns() - t0) / (double)per_batch;
	}
	qsort(v, BATCHES, sizeof(v[0]), cmp);
	return v[BATCHES / 2];
}

static uintptr_t ehdr;
static void *vdso_handle;
typedef int (*gettime_fn)(clockid_t, struct timespec *);
static gettime_fn cached;

static void ours_lookup(long n)
{
	struct vs_elf e;

	while (n--) {
		if (vs_vdso_open(&e, ehdr))
			abort();
		sink += vs_vdso_sym(&e, "__vdso_clock_gettime", "LINUX_2.6");
	}
}

static void glibc_lookup(long n)
{
	while (n--)
		sink += (uintptr_t)dlvsym(vdso_handle, "__vdso_clock_gettime", "LINUX_2.6");
}

static void ours_call(long n)
{
	struct timespec t;

	while (n--) {
		cached(CLOCK_MONOTONIC, &t);
		sink += (uintptr_t)t.tv_nsec;
	}
}

static void glibc_call(long n)
{
	struct timespec t;

	while (n--) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		sink += (uintptr_t)t.tv_nsec;
	}
}

static void row(const char *what, double ours, double peer, const char *peer_name)
{
	printf("%-34s %9.1f ns %9.1f ns %7.2fx  %s\n", what, ours, peer, peer / ours, peer_name);
}

int main(void)
{
	struct vs_elf e;

	ehdr = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	vdso_handle = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (!ehdr || vs_vdso_open(&e, ehdr) || !vdso_handle) {
		fprintf(stderr, "bench-lookup: no vDSO, or ld.so does not list it\n");
		return 1;
	}
	cached = (gettime_fn)vs_vdso_sym(&e, "__vdso_clock_gettime", "LINUX_2.6");
	if (!cached || cached != (gettime_fn)dlvsym(vdso_handle, "__vdso_clock_gettime", "LINUX_2.6")) {
		fprintf(stderr, "bench-lookup: the lookup disagrees with dlvsym\n");
		return 1;
	}
	printf("%-34s %12s %12s %8s  %s\n", "figure", "ours", "peer", "ratio", "peer");
	row("first lookup (parse + find)", measure(ours_lookup, 20000),
	    measure(glibc_lookup, 20000), "dlvsym(linux-vdso.so.1)");
	row("call through the cached address", measure(ours_call, 200000),
	    measure(glibc_call, 200000), "glibc clock_gettime");
	printf("(ratio: peer time / ours; above 1 means ours is faster)\n");
	return 0;
}
