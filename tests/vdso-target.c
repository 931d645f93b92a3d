/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A target process for the tests, built for x86_64 and (with -m32) i386.
 *
 *   vdso-target wait      print "ready <vdso address>" and block until stdin
 *                         closes (a process whose vDSO the tests read)
 *   vdso-target calls     call every vDSO function through the vDSO itself,
 *                         each call preceded by an int3 so that a tracer can
 *                         single-step it; prints "call NAME ARG RESULT" after
 *                         each call and "lacks NAME" for each function this
 *                         vDSO does not have
 *   vdso-target loop      call clock_gettime through the vDSO until killed
 *   vdso-target deep-loop N   the same N calls deep (a recursion of deep())
 *   vdso-target alarm-loop   the same with SIGALRM every millisecond
 *                         (setitimer) to a handler that counts; SIGUSR2
 *                         prints "alarms N"
 *   vdso-target fault-loop   the same, every other call with a NULL
 *                         timespec: the vDSO faults, a SIGSEGV handler
 *                         jumps back out
 *   vdso-target vsyscall-loop   call the vsyscall page's time entry until
 *                         killed (x86_64)
 *   vdso-target block     block in a vDSO system call (i386: in
 *                         __kernel_vsyscall) after printing "ready"
 *   vdso-target threads   four threads, each calling another vDSO function
 *                         (clock_gettime, gettimeofday, getcpu, time) in a
 *                         loop, while main calls clock_getres; "ready" once
 *                         all run
 *   vdso-target profile-workload [SECONDS]
 *                         for SECONDS (default: 600, after printing
 *                         "ready"; with SECONDS it prints nothing)
 *                         call clock_gettime through the vDSO pointer along
 *                         three known chains: main -> profile_workload ->
 *                         outer -> inner, main -> profile_workload ->
 *                         outer2 -> middle2 -> inner2, and main ->
 *                         profile_workload -> outer3 -> middle3 (inlined
 *                         into outer3) -> inner3; the clock's
 *                         own values end the loop, so nearly all the time
 *                         is spent in the vDSO
 *   vdso-target signal    (i386) block in read(2) inside a SIGUSR1 handler
 *                         installed without SA_RESTORER, so that the
 *                         handler returns through the vDSO's sigreturn
 *                         trampoline; "ready" when inside the handler
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "vdso-elf.h"

static struct vs_elf vdso;
static unsigned long base;

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_usr2(int sig)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "alarms %ld\n", (long)alarms);

	(void)sig;
	if (write(1, b, (size_t)n) < 0)
		_exit(1);
}

static sigjmp_buf fault_jmp;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(fault_jmp, 1);
}

static void *sym(const char *name)
{
	struct vs_elf_sym s;

	if (vs_elf_lookup(&vdso, name, NULL, &s))
		return NULL;
	return (void *)(base + (unsigned long)(s.value - vdso.link_base));
}

#define TRAP() __asm__ volatile("int3" ::: "memory")

static void report(const char *name, const char *arg, long ret)
{
	printf("call %s %s %ld\n", name, arg, ret);
	fflush(stdout);
}

/* sym() that says what is missing */
static void *need(const char *name)
{
	void *p = sym(name);

	if (!p) {
		printf("lacks %s\n", name);
		fflush(stdout);
	}
	return p;
}

typedef long (*clock_fn)(long, void *);
typedef long (*tod_fn)(void *, void *);
typedef long (*time_fn)(void *);
typedef long (*cpu_fn)(unsigned *, unsigned *, void *);
typedef long (*rnd_fn)(void *, unsigned long, unsigned int, void *, unsigned long);

#if defined(__i386__)
static void on_signal(int sig)
{
	(void)sig;
}

/* Handlers installed without SA_RESTORER return through the vDSO's
 * __kernel_sigreturn (plain) and __kernel_rt_sigreturn (SA_SIGINFO).  The
 * signal is sent with int $0x80 so that it interrupts this code, not the
 * vDSO. */
static void signals(void)
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask[2];
	} ka;
	static const unsigned long flags[] = { 0, 4 /* SA_SIGINFO */ };
	long pid = getpid(), ret;
	size_t i;

	for (i = 0; i < 2; i++) {
		memset(&ka, 0, sizeof(ka));
		ka.handler = on_signal;
		ka.flags = flags[i];
		if (syscall(SYS_rt_sigaction, SIGUSR1, &ka, NULL, 8))
			return;
		TRAP();
		__asm__ volatile("push %%ebx\n\tmov %[pid], %%ebx\n\tint $0x80\n\tpop %%ebx"
				 : "=a"(ret)
				 : "a"((long)SYS_kill), [pid] "r"(pid), "c"((long)SIGUSR1)
				 : "memory");
		report(i ? "__kernel_rt_sigreturn" : "__kernel_sigreturn", "SIGUSR1", ret);
	}
}
#endif

#if defined(__x86_64__)
/* The legacy vsyscall page's three entries, where the kernel maps the page
 * (not with vsyscall=none). */
static void vsyscalls(void)
{
	char line[256];
	int mapped = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	struct { long a, b; } tv;
	unsigned cpu, node;
	long t;

	while (f && fgets(line, sizeof(line), f))
		mapped |= strstr(line, "[vsyscall]") != NULL && strstr(line, "x") != NULL;
	if (f)
		fclose(f);
	if (!mapped) {
		printf("lacks vsyscall page\n");
		return;
	}
	TRAP();
	report("vsyscall_gettimeofday", "tv", ((tod_fn)0xffffffffff600000UL)(&tv, NULL));
	TRAP();
	report("vsyscall_time", "&t", ((time_fn)0xffffffffff600400UL)(&t));
	TRAP();
	report("vsyscall_getcpu", "cpu,node", ((cpu_fn)0xffffffffff600800UL)(&cpu, &node, NULL));
}
#endif

#if defined(__x86_64__)
__attribute__((noinline)) static void vsyscall_time_loop(void)
{
	long t;
	int i;

	for (i = 0; i < 1000; i++)
		((time_fn)0xffffffffff600400UL)(&t);
	__asm__ volatile("" ::: "memory");
}
#endif

/* not inlined: gdb tests find its vsyscall calls by its symbol */
__attribute__((noinline)) static void calls(void)
{
	static const long clocks[] = {
		CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
		CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
		CLOCK_BOOTTIME, 11 /* CLOCK_TAI */, 1000 /* invalid: syscall fallback */,
	};
	const char *cg[] = { "__vdso_clock_gettime", "__vdso_clock_gettime64", NULL };
	struct { long long a, b; } ts;
	struct { long a, b; } tv, tz;
	unsigned cpu, node;
	long t;
	size_t i, k;
	clock_fn f;
	tod_fn g;
	time_fn tm;
	cpu_fn c;
	rnd_fn r;

	static const char *const clock_names[] = {
		"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID",
		"CLOCK_THREAD_CPUTIME_ID", "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE",
		"CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME", "CLOCK_TAI", "1000(invalid)",
	};

	for (k = 0; cg[k]; k++) {
#if defined(__x86_64__)
		if (k == 1)
			break; /* clock_gettime64 is i386's */
#endif
		if (!(f = (clock_fn)need(cg[k])))
			continue;
		for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
			TRAP();
			report(cg[k], clock_names[i], f(clocks[i], &ts));
		}
	}
	if ((f = (clock_fn)need("__vdso_clock_getres"))) {
		TRAP();
		report("__vdso_clock_getres", "CLOCK_MONOTONIC", f(CLOCK_MONOTONIC, &ts));
		TRAP();
		report("__vdso_clock_getres", "CLOCK_REALTIME_COARSE", f(CLOCK_REALTIME_COARSE, &ts));
	}
	if ((g = (tod_fn)need("__vdso_gettimeofday"))) {
		TRAP();
		report("__vdso_gettimeofday", "tv,tz", g(&tv, &tz));
		TRAP();
		report("__vdso_gettimeofday", "tv,NULL", g(&tv, NULL));
	}
	if ((tm = (time_fn)need("__vdso_time"))) {
		TRAP();
		report("__vdso_time", "NULL", tm(NULL));
		TRAP();
		report("__vdso_time", "&t", tm(&t));
	}
	if ((c = (cpu_fn)need("__vdso_getcpu"))) {
		TRAP();
		report("__vdso_getcpu", "cpu,node", c(&cpu, &node, NULL));
	}
	if ((r = (rnd_fn)need("__vdso_getrandom"))) {
		struct { unsigned int size_of_opaque_state, mmap_prot, mmap_flags, reserved[13]; } params;
		TRAP();
		report("__vdso_getrandom", "params", r(NULL, 0, 0, &params, ~0UL));
	}
#if defined(__x86_64__)
	vsyscalls();
#endif
#if defined(__i386__)
	signals();
	{
		void *vs = need("__kernel_vsyscall");
		long ret;
		if (vs) {
			TRAP();
			__asm__ volatile("call *%[fn]"
					 : "=a"(ret)
					 : [fn] "D"(vs), "a"((long)SYS_getpid)
					 : "memory");
			report("__kernel_vsyscall", "SYS_getpid", ret);
		}
	}
#endif
	(void)t;
}

/* Each spinner calls one vDSO function forever; noinline keeps a frame of
 * its own between the vDSO and the thread's start. */
static volatile int started;

__attribute__((noinline)) static void spin_clock(void)
{
	clock_fn f = (clock_fn)sym("__vdso_clock_gettime");
	struct { long long a, b; } ts;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	for (;;)
		f(CLOCK_MONOTONIC, &ts);
}

__attribute__((noinline)) static void spin_tod(void)
{
	tod_fn f = (tod_fn)sym("__vdso_gettimeofday");
	struct { long a, b; } tv;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	for (;;)
		f(&tv, NULL);
}

__attribute__((noinline)) static void spin_cpu(void)
{
	cpu_fn f = (cpu_fn)sym("__vdso_getcpu");
	unsigned cpu, node;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	for (;;)
		f(&cpu, &node, NULL);
}

__attribute__((noinline)) static void spin_time(void)
{
	time_fn f = (time_fn)sym("__vdso_time");
	long t;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	for (;;)
		f(&t);
}

__attribute__((noinline)) static void spin_getres(void)
{
	clock_fn f = (clock_fn)sym("__vdso_clock_getres");
	struct { long long a, b; } ts;

	for (;;)
		f(CLOCK_MONOTONIC, &ts);
}

static void *thread_main(void *arg)
{
	((void (*)(void))arg)();
	return NULL;
}

__attribute__((noinline)) static int threads(void)
{
	void (*const fns[])(void) = { spin_clock, spin_tod, spin_cpu, spin_time };
	pthread_t th;
	size_t i;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (pthread_create(&th, NULL, thread_main, (void *)fns[i]))
			return 1;
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < (int)i)
		;
	printf("ready 0x%lx\n", base);
	fflush(stdout);
	spin_getres();
	return 0;
}

/* The profiling workload.  Not static, so that the names stay as they
 * are; the empty asm after each call keeps it from becoming a tail call. */
static clock_fn wl_clock;

__attribute__((noinline)) long long inner(void)
{
	struct { long sec, nsec; } ts = { 0, 0 };

	wl_clock(CLOCK_MONOTONIC, &ts);
	__asm__ volatile("" ::: "memory");
	return ts.sec * 1000000000LL + ts.nsec;
}

__attribute__((noinline)) long long outer(void)
{
	long long t = 0;
	int i;

	for (i = 0; i < 64; i++)
		t = inner();
	__asm__ volatile("" ::: "memory");
	return t;
}

__attribute__((noinline)) long long inner2(void)
{
	struct { long sec, nsec; } ts = { 0, 0 };

	wl_clock(CLOCK_MONOTONIC, &ts);
	__asm__ volatile("" ::: "memory");
	return ts.sec * 1000000000LL + ts.nsec;
}

__attribute__((noinline)) long long middle2(void)
{
	long long t = inner2();

	__asm__ volatile("" ::: "memory");
	return t;
}

__attribute__((noinline)) long long outer2(void)
{
	long long t = 0;
	int i;

	for (i = 0; i < 32; i++)
		t = middle2();
	__asm__ volatile("" ::: "memory");
	return t;
}

__attribute__((noinline)) long long inner3(void)
{
	struct { long sec, nsec; } ts = { 0, 0 };

	wl_clock(CLOCK_MONOTONIC, &ts);
	__asm__ volatile("" ::: "memory");
	return ts.sec * 1000000000LL + ts.nsec;
}

static inline __attribute__((always_inline)) long long middle3(void)
{
	long long t = inner3();

	__asm__ volatile("" ::: "memory");
	return t;
}

__attribute__((noinline)) long long outer3(void)
{
	long long t = 0;
	int i;

	for (i = 0; i < 16; i++)
		t = middle3();
	__asm__ volatile("" ::: "memory");
	return t;
}

__attribute__((noinline)) static int profile_workload(const char *arg)
{
	long secs = arg ? strtol(arg, NULL, 10) : 600;
	long long end;

	if (!(wl_clock = (clock_fn)sym("__vdso_clock_gettime")))
		return 2;
	if (!arg) {
		printf("ready 0x%lx\n", base);
		fflush(stdout);
	}
	end = outer() + (secs > 0 ? secs : 1) * 1000000000LL;
	while (outer() < end && outer2() < end && outer3() < end)
		;
	return 0;
}

#if defined(__i386__)
static void blocking_handler(int sig)
{
	char buf[1];

	(void)sig;
	printf("ready 0x%lx\n", base);
	fflush(stdout);
	if (read(0, buf, 1) < 0)
		_exit(1);
}

/* The handler blocks; when stdin closes it returns through the vDSO. */
__attribute__((noinline)) static int signal_mode(void)
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask[2];
	} ka;

	memset(&ka, 0, sizeof(ka));
	ka.handler = blocking_handler;
	if (syscall(SYS_rt_sigaction, SIGUSR1, &ka, NULL, 8))
		return 1;
	raise(SIGUSR1);
	return 0;
}
#endif

static volatile int deep_stop;

/* N frames of deep() above the loop; the volatile keeps each call a real
 * call (no tail call, no loop made of the recursion). */
__attribute__((noinline)) static int deep(int n, clock_fn f)
{
	volatile int here = n;
	struct { long long a, b; } ts;

	if (n > 0)
		return deep(n - 1, f) + here;
	printf("ready 0x%lx\n", base);
	fflush(stdout);
	while (!deep_stop)
		f(CLOCK_MONOTONIC, &ts);
	return here;
}

int main(int argc, char **argv)
{
	uint64_t end;
	char buf[16];

	base = getauxval(AT_SYSINFO_EHDR);
	if (!base || vs_elf_extent((void *)base, 4096, &end) ||
	    vs_elf_parse(&vdso, (void *)base, (size_t)end)) {
		fprintf(stderr, "vdso-target: no usable vDSO\n");
		return 2;
	}
	if (argc > 1 && !strcmp(argv[1], "calls")) {
		calls();
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "threads"))
		return threads();
	if (argc > 1 && !strcmp(argv[1], "profile-workload"))
		return profile_workload(argc > 2 ? argv[2] : NULL);
#if defined(__i386__)
	if (argc > 1 && !strcmp(argv[1], "signal"))
		return signal_mode();
#endif
#if defined(__x86_64__)
	if (argc > 1 && !strcmp(argv[1], "vsyscall-loop")) {
		/* the vsyscall page's time entry, from a named caller */
		printf("ready 0x%lx\n", base);
		fflush(stdout);
		for (;;)
			vsyscall_time_loop();
	}
#endif
	if (argc > 1 && !strcmp(argv[1], "loop")) {
		clock_fn f = (clock_fn)sym("__vdso_clock_gettime");
		struct { long long a, b; } ts;
		printf("ready 0x%lx\n", base);
		fflush(stdout);
		for (;;)
			f(CLOCK_MONOTONIC, &ts);
	}
	if (argc > 2 && !strcmp(argv[1], "deep-loop"))
		return deep(atoi(argv[2]), (clock_fn)sym("__vdso_clock_gettime"));
	if (argc > 1 && !strcmp(argv[1], "alarm-loop")) {
		clock_fn f = (clock_fn)sym("__vdso_clock_gettime");
		struct { long long a, b; } ts;
		struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGALRM, &sa, NULL);
		sa.sa_handler = on_usr2;
		sigaction(SIGUSR2, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		printf("ready 0x%lx\n", base);
		fflush(stdout);
		for (;;)
			f(CLOCK_MONOTONIC, &ts);
	}
	if (argc > 1 && !strcmp(argv[1], "fault-loop")) {
		clock_fn f = (clock_fn)sym("__vdso_clock_gettime");
		static struct { long long a, b; } ts;
		struct sigaction sa;
		static void *volatile no_ts;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_segv;
		sigaction(SIGSEGV, &sa, NULL);
		printf("ready 0x%lx\n", base);
		fflush(stdout);
		for (;;) {
			f(CLOCK_MONOTONIC, &ts);
			if (!sigsetjmp(fault_jmp, 1))
				f(CLOCK_MONOTONIC, no_ts);
		}
	}
	if (argc > 1 && !strcmp(argv[1], "block")) {
		printf("ready 0x%lx\n", base);
		fflush(stdout);
#if defined(__i386__)
		{
			void *vs = sym("__kernel_vsyscall");
			long ret;
			/* read(0, buf, 1) through __kernel_vsyscall */
			__asm__ volatile("push %%ebx\n\tmov %[fd], %%ebx\n\tcall *%[fn]\n\tpop %%ebx"
					 : "=a"(ret)
					 : [fn] "D"(vs), "a"((long)SYS_read), [fd] "i"(0),
					   "c"(buf), "d"(1)
					 : "memory");
		}
#else
		if (read(0, buf, 1) < 0)
			return 1;
#endif
		return 0;
	}
	printf("ready 0x%lx\n", base);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
