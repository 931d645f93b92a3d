/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spin MODE: calls the vDSO until it is killed, every call through
 * main -> level1 -> level2 -> invoke -> the vDSO's function.
 *   all      clock_gettime (CLOCK_MONOTONIC, CLOCK_REALTIME_COARSE, and
 *            CLOCK_PROCESS_CPUTIME_ID, which the vDSO passes to the kernel),
 *            clock_getres and gettimeofday in turn
 *   short    the calls that finish in a few dozen instructions even when
 *            single-stepped: clock_getres, clock_gettime of
 *            CLOCK_PROCESS_CPUTIME_ID and of an invalid clock (both to the
 *            kernel), gettimeofday of the time zone only.  Stepped under
 *            emulation, a call that reads the time under the vDSO's sequence
 *            count retries until no timer tick fell into it.
 *   gettime  clock_gettime(CLOCK_MONOTONIC) only
 *   getres   clock_getres(CLOCK_MONOTONIC) only
 *   gtod     gettimeofday only
 * The functions are the vDSO's own symbols (__kernel_*), called directly.
 */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

typedef int (*gettime_fn)(clockid_t, struct timespec *);
typedef int (*gtod_fn)(struct timeval *, void *);

static gettime_fn gettime, getres;
static gtod_fn gtod;
static volatile long sink;

/* NAME's address in the vDSO, from its dynamic symbol table */
static void *vdso_fn(const char *name)
{
	const unsigned char *base = (const void *)getauxval(AT_SYSINFO_EHDR);
	const ElfW(Ehdr) *eh = (const void *)base;
	const ElfW(Shdr) *sh;
	uintptr_t low = UINTPTR_MAX;
	int i;

	if (!base)
		return NULL;
	for (i = 0; i < eh->e_phnum; i++) {
		const ElfW(Phdr) *ph = (const void *)(base + eh->e_phoff + i * eh->e_phentsize);
		if (ph->p_type == PT_LOAD && ph->p_vaddr < low)
			low = ph->p_vaddr;
	}
	sh = (const void *)(base + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const ElfW(Sym) *sym = (const void *)(base + sh[i].sh_offset);
		const char *names = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		size_t j;

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		for (j = 0; j < sh[i].sh_size / sizeof(*sym); j++)
			if (sym[j].st_shndx != SHN_UNDEF && !strcmp(names + sym[j].st_name, name))
				return (void *)(base + sym[j].st_value - low);
	}
	return NULL;
}

NOINLINE static long invoke(int what)
{
	struct timespec ts;
	struct timeval tv;
	struct timezone tz;

	switch (what) {
	case 0: return gettime(CLOCK_MONOTONIC, &ts) + ts.tv_nsec;
	case 1: return gettime(CLOCK_REALTIME_COARSE, &ts) + ts.tv_nsec;
	case 2: return gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) + ts.tv_nsec;
	case 3: return getres(CLOCK_MONOTONIC, &ts) + ts.tv_nsec;
	case 4: return gtod(&tv, NULL) + tv.tv_usec;
	case 5: return gettime(-1, &ts);
	default: return gtod(NULL, &tz) + tz.tz_minuteswest;
	}
}

NOINLINE static long level2(int what)
{
	long r = invoke(what);
	return r + 1;
}

NOINLINE static long level1(int what)
{
	long r = level2(what);
	return r + 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";
	unsigned long n;

	gettime = (gettime_fn)vdso_fn("__kernel_clock_gettime");
	getres = (gettime_fn)vdso_fn("__kernel_clock_getres");
	gtod = (gtod_fn)vdso_fn("__kernel_gettimeofday");
	if (!gettime || !getres || !gtod) {
		fprintf(stderr, "spin: the vDSO lacks a __kernel_ function\n");
		return 3;
	}
	for (n = 0;; n++) {
		static const int shortcalls[4] = { 3, 2, 5, 6 };
		int what = !strcmp(mode, "gettime") ? 0 : !strcmp(mode, "getres") ? 3 :
			   !strcmp(mode, "gtod") ? 4 : !strcmp(mode, "short") ? shortcalls[n % 4] :
			   (int)(n % 5);
		sink += level1(what);
	}
}
