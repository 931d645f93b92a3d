/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * clock_gettime without libc: the program starts at _start, finds the vDSO
 * in its auxiliary vector, looks up the versioned symbol with vdso-elf.c and
 * calls it.  Built with -nostdlib -ffreestanding, for x86_64 and i386.
 *
 * Prints "vdso EHDR sym NAME ADDR" for each symbol it looked up, then
 * "CLOCK SEC NSEC" for CLOCK_REALTIME (0) and CLOCK_MONOTONIC (1), then waits
 * until its standard input closes, so that its vDSO can be read meanwhile.
 */
#include <stddef.h>
#include <stdint.h>
#include "vdso-elf.h"

#if defined(__x86_64__)
#define SYS_READ 0
#define SYS_WRITE 1
#define SYS_EXIT 60
static long sys3(long n, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}
__asm__(".text\n.global _start\n_start:\n\txor %rbp,%rbp\n\tmov %rsp,%rdi\n"
	"\tand $-16,%rsp\n\tcall start_c\n\thlt\n");
#elif defined(__i386__)
#define SYS_READ 3
#define SYS_WRITE 4
#define SYS_EXIT 1
static long sys3(long n, long a, long b, long c)
{
	long ret;
	__asm__ volatile("push %%ebx\n\tmov %2, %%ebx\n\tint $0x80\n\tpop %%ebx"
			 : "=a"(ret) : "a"(n), "g"(a), "c"(b), "d"(c) : "memory");
	return ret;
}
__asm__(".text\n.global _start\n_start:\n\txor %ebp,%ebp\n\tmov %esp,%eax\n"
	"\tand $-16,%esp\n\tsub $12,%esp\n\tpush %eax\n\tcall start_c\n\thlt\n");
#else
#error "x86_64 and i386 only"
#endif

struct ts {
	long long sec;
	long long nsec;
};

static char out[512];
static unsigned int used;

static void put(const char *s)
{
	while (*s && used < sizeof(out))
		out[used++] = *s++;
}

static void put_num(unsigned long long v, int hex)
{
	char b[24];
	int n = 0;

	if (hex)
		put("0x");
	do {
		b[n++] = "0123456789abcdef"[v % (hex ? 16 : 10)];
		v /= hex ? 16 : 10;
	} while (v);
	while (n--) {
		char c[2] = { b[n], 0 };
		put(c);
	}
}

static __attribute__((noreturn)) void leave(int code)
{
	sys3(SYS_EXIT, code, 0, 0);
	for (;;)
		;
}

__attribute__((used)) void start_c(uintptr_t *sp)
{
	uintptr_t argc = sp[0], *envp = sp + argc + 2, *auxv = envp, ehdr;
	struct vs_elf vdso;
	struct ts t;
	char c;
	int clk;
#if defined(__i386__)
	/* the 64-bit-time entry fills a struct ts as is */
	const char *name = "__vdso_clock_gettime64";
#else
	const char *name = "__vdso_clock_gettime";
#endif
	int (*gettime)(long, struct ts *);

	while (*auxv)
		auxv++;
	auxv++;
	ehdr = vs_auxv_sysinfo_ehdr(auxv);
	if (vs_vdso_open(&vdso, ehdr))
		leave(2);
	gettime = (int (*)(long, struct ts *))vs_vdso_sym(&vdso, name, "LINUX_2.6");
	if (!gettime)
		leave(3);
	put("vdso ");
	put_num(ehdr, 1);
	put("\nsym ");
	put(name);
	put(" ");
	put_num((uintptr_t)gettime, 1);
	put("\n");
	for (clk = 0; clk < 2; clk++) {
		if (gettime(clk, &t))
			leave(4);
		put_num((unsigned long long)clk, 0);
		put(" ");
		put_num((unsigned long long)t.sec, 0);
		put(" ");
		put_num((unsigned long long)t.nsec, 0);
		put("\n");
	}
	sys3(SYS_WRITE, 1, (long)out, used);
	while (sys3(SYS_READ, 0, (long)&c, 1) > 0)
		;
	leave(0);
}
