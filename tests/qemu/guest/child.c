/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * child CALL: makes one vDSO call, main -> level1 -> level2 -> invoke -> vDSO,
 * right after stopping itself with SIGTRAP (the tracer's marker).  Built
 * static for aarch64 and for armhf; the armhf build runs under the arm64
 * kernel with its compat vDSO.
 *
 * CALL is NAME or NAME.CLOCK:
 *   clock_gettime.N clock_gettime64.N clock_getres.N gettimeofday time
 *                   the vDSO's own symbol, found in its dynamic symbol table
 *   libc_clock_gettime.N libc_clock_getres.N libc_gettimeofday
 *                   the same through the C library
 *   sigreturn       a SIGUSR1 handler that returns, so through the
 *                   sigreturn trampoline
 *   handler_clock_gettime.N
 *                   clock_gettime of the vDSO called from a SIGUSR1 handler
 * Exits 3 when the vDSO has no such symbol, 2 on a usage error.
 */
#include <elf.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

#if defined(__aarch64__)
#define NR_gettid 178
#define NR_tkill 130
#define NR_rt_sigaction 134
#define VDSO_PREFIX "__kernel_"
static inline __attribute__((always_inline)) long sys4(long nr, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	return x0;
}
#elif defined(__arm__)
#define NR_gettid 224
#define NR_tkill 238
#define NR_rt_sigaction 174
#define VDSO_PREFIX "__vdso_"
static inline __attribute__((always_inline)) long sys4(long nr, long a, long b, long c, long d)
{
	register long r7 __asm__("r7") = nr;
	register long r0 __asm__("r0") = a;
	register long r1 __asm__("r1") = b;
	register long r2 __asm__("r2") = c;
	register long r3 __asm__("r3") = d;
	__asm__ volatile("svc #0" : "+r"(r0) : "r"(r7), "r"(r1), "r"(r2), "r"(r3) : "memory");
	return r0;
}
#else
#error "aarch64 or arm only"
#endif
#define sys2(nr, a, b) sys4(nr, a, b, 0, 0)

/* the kernel's struct sigaction: without SA_RESTORER the handler returns
 * through the kernel's trampoline ([vdso] on arm64, [sigpage] for compat
 * tasks), not through one of the C library */
struct ksigaction {
	void (*handler)(int, siginfo_t *, void *);
	unsigned long flags;
	void (*restorer)(void);
	uint32_t mask[2];
};

/* the signal comes from the svc itself: no C library code runs between
 * the marker and the call */
#define SELF_SIGNAL(sig) sys2(NR_tkill, sys2(NR_gettid, 0, 0), (sig))

enum kind { GETTIME, GETTIME64, GETRES, GTOD, TIME, NONE };
enum path { DIRECT, SIGRET, HANDLER };

struct ts64 {
	int64_t sec, nsec;
};

static void *fn;
static enum kind kind;
static enum path path;
static long clk;
static int via_libc;
static struct timespec ts;
static struct ts64 ts64;
static struct timeval tv;
static volatile long result;
static volatile int handled;

static void *vdso_sym(const char *name)
{
	const unsigned char *base = (const void *)getauxval(AT_SYSINFO_EHDR);
	const ElfW(Ehdr) *eh = (const void *)base;
	const ElfW(Phdr) *ph;
	const ElfW(Shdr) *sh;
	uintptr_t first = UINTPTR_MAX;
	int i;

	if (!base)
		return NULL;
	ph = (const void *)(base + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < first)
			first = ph[i].p_vaddr;
	sh = (const void *)(base + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const ElfW(Sym) *sym;
		const char *str;
		size_t n, j;

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		sym = (const void *)(base + sh[i].sh_offset);
		str = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		n = sh[i].sh_size / sizeof *sym;
		for (j = 0; j < n; j++)
			if (sym[j].st_shndx != SHN_UNDEF && strcmp(str + sym[j].st_name, name) == 0)
				return (void *)(base + sym[j].st_value - first);
	}
	return NULL;
}

NOINLINE static long invoke_vdso(void)
{
	switch (kind) {
	case GETTIME:
		if (via_libc)
			return clock_gettime(clk, &ts);
		return ((int (*)(long, struct timespec *))fn)(clk, &ts);
	case GETTIME64:
		return ((int (*)(long, struct ts64 *))fn)(clk, &ts64);
	case GETRES:
		if (via_libc)
			return clock_getres(clk, &ts);
		return ((int (*)(long, struct timespec *))fn)(clk, &ts);
	case GTOD:
		if (via_libc)
			return gettimeofday(&tv, NULL);
		return ((int (*)(struct timeval *, void *))fn)(&tv, NULL);
	case TIME:
		return ((long (*)(void *))fn)(NULL);
	default:
		return -1;
	}
}

NOINLINE static void handler_level(void)
{
	result = invoke_vdso();
}

static void handler(int sig, siginfo_t *si, void *uc)
{
	handled++;
	if (path == HANDLER)
		handler_level();
}

NOINLINE static long invoke(void)
{
	if (path != DIRECT) {
		SELF_SIGNAL(SIGUSR1);
		return handled;
	}
	return invoke_vdso();
}

NOINLINE static long level2(void)
{
	long r = invoke();
	return r + 1;
}

NOINLINE static long level1(void)
{
	long r = level2();
	return r + 1;
}

static const struct {
	const char *name;
	enum kind kind;
	enum path path;
	const char *sym;
	int libc;
} calls[] = {
	{ "clock_gettime", GETTIME, DIRECT, "clock_gettime", 0 },
	{ "clock_gettime64", GETTIME64, DIRECT, "clock_gettime64", 0 },
	{ "clock_getres", GETRES, DIRECT, "clock_getres", 0 },
	{ "gettimeofday", GTOD, DIRECT, "gettimeofday", 0 },
	{ "time", TIME, DIRECT, "time", 0 },
	{ "libc_clock_gettime", GETTIME, DIRECT, NULL, 1 },
	{ "libc_clock_getres", GETRES, DIRECT, NULL, 1 },
	{ "libc_gettimeofday", GTOD, DIRECT, NULL, 1 },
	{ "sigreturn", NONE, SIGRET, NULL, 0 },
	{ "handler_clock_gettime", GETTIME, HANDLER, "clock_gettime", 0 },
};

int main(int argc, char **argv)
{
	char name[64], sym[64];
	struct ksigaction sa;
	char *dot;
	size_t i;

	if (argc != 2 || strlen(argv[1]) >= sizeof name) {
		fprintf(stderr, "usage: child CALL\n");
		return 2;
	}
	strcpy(name, argv[1]);
	dot = strchr(name, '.');
	if (dot) {
		*dot = 0;
		clk = strtol(dot + 1, NULL, 10);
	}
	for (i = 0; i < sizeof calls / sizeof calls[0]; i++)
		if (strcmp(calls[i].name, name) == 0)
			break;
	if (i == sizeof calls / sizeof calls[0]) {
		fprintf(stderr, "child: unknown call %s\n", argv[1]);
		return 2;
	}
	kind = calls[i].kind;
	path = calls[i].path;
	via_libc = calls[i].libc;
	if (calls[i].sym) {
		snprintf(sym, sizeof sym, "%s%s", VDSO_PREFIX, calls[i].sym);
		fn = vdso_sym(sym);
		if (!fn) {
			fprintf(stderr, "child: no %s in the vDSO\n", sym);
			return 3;
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.handler = handler;
	sa.flags = SA_SIGINFO;
	if (sys4(NR_rt_sigaction, SIGUSR1, (long)&sa, 0, sizeof sa.mask) != 0) {
		fprintf(stderr, "child: rt_sigaction failed\n");
		return 2;
	}

	SELF_SIGNAL(SIGTRAP);
	result = level1();
	return 0;
}
