/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdsoscope verify: every instruction the CPU executes in the vDSO, unwound
 * and compared with what execution shows.
 *
 * A process is single-stepped under ptrace through its vDSO calls.  At each
 * instruction boundary inside the vDSO (or x86_64's vsyscall page) the
 * registers go to the unwinder under test, repeatedly while the result is
 * still inside; when the call returns, the registers ptrace shows are the
 * truth: the caller's IP and SP, every callee-saved register, and any other
 * register the unwinder claims to know must equal them.  For a signal
 * trampoline the truth is the interrupted state that sigreturn restores.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>
#include "vdsoscope.h"
#include "json.h"
#include "verify.h"

/* The self-test's helpers, vsyscall and pushf/popf under single-stepping
 * are x86's; --pid and --trace run on every machine. */
#if defined(__x86_64__) || defined(__i386__)
#define VERIFY_X86 1
#endif
/* the libunwind engine takes x86_64's registers */
#if defined(HAVE_LIBUNWIND) && defined(__x86_64__)
#define VERIFY_LIBUNWIND 1
#endif
#ifndef NT_ARM_PAC_MASK
#define NT_ARM_PAC_MASK 0x406
#endif

#define MAX_POINTS 8192
#define MAX_FUNCS 64
#define MAX_LINES 128
#define MAX_SKIPS 16
#define MAX_HELD 16
#define MAX_TRACES 256

struct point {
	uint64_t pc;
	int rc;
	char func[64];
	struct vdsoscope_regs caller;
};

struct tally {
	char name[64];
	unsigned visited, exact, wrong;
	/* the first wrong point */
	uint64_t bad_pc;
	char bad_reg[16];
	uint64_t bad_got, bad_want;
	int bad_known, bad_rc;
};

/* calls left out of the verdict: a signal that could not wait for the
 * return reached its handler, whose registers are no truth for the call */
struct skip {
	int sig;
	const char *why;
	unsigned calls, points;
};

struct run {
	const char *what;      /* "helper x86_64" */
	const struct vdsoscope_arch *arch;
	uint64_t lo, hi;
	struct tally t[MAX_FUNCS];
	unsigned nt;
	unsigned visited, exact, wrong, calls;
	/* signals for the traced thread: held while it was in a call */
	unsigned held;
	struct skip skips[MAX_SKIPS];
	unsigned nskips;
	char *lines[MAX_LINES]; /* the helper's reports */
	unsigned nlines;
	char error[256];
	int blocked;           /* the thread stopped making progress */
};

static struct point points[MAX_POINTS];

static int in_vsyscall(uint64_t ip)
{
	return ip >= 0xffffffffff600000ull && ip < 0xffffffffff601000ull;
}

static struct tally *tally_of(struct run *r, const char *name)
{
	unsigned i;

	for (i = 0; i < r->nt; i++)
		if (!strcmp(r->t[i].name, name))
			return &r->t[i];
	if (r->nt == MAX_FUNCS)
		return &r->t[MAX_FUNCS - 1];
	memset(&r->t[r->nt], 0, sizeof(r->t[0]));
	snprintf(r->t[r->nt].name, sizeof(r->t[0].name), "%s", name);
	return &r->t[r->nt++];
}

#ifdef VERIFY_X86
static void to_dwarf(const struct user_regs_struct *u, int is32, struct vdsoscope_regs *r)
{
	memset(r, 0, sizeof(*r));
	if (is32) {
		const unsigned long long v[9] = { u->rax, u->rcx, u->rdx, u->rbx, u->rsp,
						  u->rbp, u->rsi, u->rdi, u->rip };
		for (int i = 0; i < 9; i++)
			r->r[i] = v[i] & 0xffffffffu;
		r->valid[0] = (1ull << 9) - 1;
	} else {
		const unsigned long long v[17] = { u->rax, u->rdx, u->rcx, u->rbx, u->rsi, u->rdi,
						   u->rbp, u->rsp, u->r8, u->r9, u->r10, u->r11,
						   u->r12, u->r13, u->r14, u->r15, u->rip };
		for (int i = 0; i < 17; i++)
			r->r[i] = v[i];
		r->valid[0] = (1ull << 17) - 1;
	}
}
#elif defined(__aarch64__)
/* The registers of stopped thread TID in DWARF numbering: x0-x30, sp, pc,
 * d8-d15 (the callee-saved halves of v8-v15), and the PAC mask of return
 * addresses; 0 or -1. */
static int live_regs(pid_t tid, struct vdsoscope_regs *r)
{
	uint64_t v[34], fp[66], pac[2];
	struct iovec io = { v, sizeof(v) };
	unsigned i;

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &io))
		return -1;
	vdsoscope_regs_clear(r);
	for (i = 0; i < 33; i++)
		vdsoscope_regs_set(r, i, v[i]);
	io = (struct iovec){ fp, sizeof(fp) };
	if (!ptrace(PTRACE_GETREGSET, tid, (void *)NT_FPREGSET, &io) && io.iov_len >= 16 * 16)
		for (i = 8; i < 16; i++)
			vdsoscope_regs_set(r, 64 + i, fp[2 * i]);
	io = (struct iovec){ pac, sizeof(pac) };
	if (!ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_PAC_MASK, &io) && io.iov_len == 16)
		r->pac_mask = pac[1];
	return 0;
}
#endif

int verify_core_unwind(void *ctx, const struct vdsoscope_image *img, pid_t pid,
		       const struct vdsoscope_regs *in, struct vdsoscope_regs *out)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);
	uint64_t lo, size_hi;
	size_t size;
	unsigned flags = 0, ff, depth;
	int rc = 0;

	(void)ctx;
	vdsoscope_image_data(img, &size);
	lo = vdsoscope_load_address(img);
	size_hi = lo + size;
	*out = *in;
	for (depth = 0; depth < 16; depth++) {
		uint64_t ip;

		rc = vdsoscope_step(img, out, flags, vdsoscope_read_pid, &pid, out, &ff);
		if (rc)
			return rc;
		ip = out->r[a->ip_reg];
		if ((ip < lo || ip >= size_hi) && !in_vsyscall(ip))
			return 0;
		flags = ff & VDSOSCOPE_FRAME_SIGNAL ? 0 : VDSOSCOPE_STEP_CALLER;
	}
	return -VDSOSCOPE_E_NOT_IN_IMAGE;
}

#ifdef VERIFY_LIBUNWIND
#include <libunwind-ptrace.h>
#include "vdsoscope-unwind.h"
#include "backtrace.h"

struct lu_ctx {
	const struct vdsoscope_image *img;
	unw_addr_space_t as;
	int table;              /* the hook's table for the vDSO, -1: none yet */
	int failed;             /* $VDSOSCOPE_UNW_TABLE could not be applied */
};

/* libunwind-ptrace through the hook's address space: unw_step from the
 * stopped thread until the IP leaves the vDSO.  libunwind reports a
 * register it has no rule for as its current value, so only IP, SP and the
 * callee-saved registers are taken. */
static int libunwind_unwind(void *ctx, const struct vdsoscope_image *img, pid_t pid,
			    const struct vdsoscope_regs *in, struct vdsoscope_regs *out)
{
	static const int saved[] = { UNW_X86_64_RBX, UNW_X86_64_RBP, UNW_X86_64_R12,
				     UNW_X86_64_R13, UNW_X86_64_R14, UNW_X86_64_R15 };
	struct lu_ctx *lu = ctx;
	const struct vdsoscope_arch *a = vdsoscope_arch(img);
	unw_addr_space_t as;
	uint64_t lo = vdsoscope_load_address(img);
	size_t size, i, depth;
	unw_cursor_t c;
	unw_word_t ip, v;
	void *ui;
	int rc = 0;

	(void)in;
	if (a->machine != 62 || a->elf_class != 64)
		return -VDSOSCOPE_E_BAD_MACHINE;
	if (lu->img != img) {
		vdsoscope_unw_destroy_addr_space(lu->as);
		lu->as = vdsoscope_unw_create_upt(img);
		lu->img = img;
		if (lu->as) {
			vdsoscope_unw_cache_pid(lu->as, pid);
			if (unw_table_from_env(lu->as)) {
				vdsoscope_unw_destroy_addr_space(lu->as);
				lu->as = NULL;
				lu->failed = 1;
			}
		}
		if (lu->as)
			lu->table = vdsoscope_unw_table(lu->as);
	}
	as = lu->as;
	if (!as)
		return -ENOMEM;
	vdsoscope_image_data(img, &size);
	ui = _UPT_create(pid);
	if (!ui)
		return -ENOMEM;
	unw_flush_cache(as, 0, 0);
	if (unw_init_remote(&c, as, ui) < 0) {
		_UPT_destroy(ui);
		return -VDSOSCOPE_E_NO_CFI;
	}
	for (depth = 0;; depth++) {
		if (depth == 16 || unw_step(&c) <= 0 || unw_get_reg(&c, UNW_REG_IP, &ip)) {
			rc = -VDSOSCOPE_E_NO_CFI;
			break;
		}
		if ((ip < lo || ip >= lo + size) && !in_vsyscall(ip))
			break;
	}
	if (!rc) {
		memset(out, 0, sizeof(*out));
		out->r[a->ip_reg] = ip;
		vdsoscope_regs_clear(out);
		out->valid[0] = 1ull << a->ip_reg;
		if (!unw_get_reg(&c, UNW_REG_SP, &v)) {
			out->r[a->sp_reg] = v;
			out->valid[0] |= 1ull << a->sp_reg;
		}
		for (i = 0; i < sizeof(saved) / sizeof(saved[0]); i++)
			if (!unw_get_reg(&c, saved[i], &v)) {
				out->r[saved[i]] = v;
				out->valid[0] |= 1ull << saved[i];
			}
	}
	_UPT_destroy(ui);
	return rc;
}
#endif

#ifdef VERIFY_X86
/* The kernel emulates a vsyscall entry whole and the single-step trap comes
 * one instruction after the return, so there the truth is taken at a
 * breakpoint on the return address the unwinder gave: reached with the
 * expected SP, it is where the call returns. */
static int run_to_return(pid_t pid, const struct point *p, unsigned ip_reg,
			 struct vdsoscope_regs *truth)
{
	struct user_regs_struct u;
	uint64_t ra = p->caller.r[ip_reg];
	long word;
	int status;

	if (p->rc || !(vdsoscope_regs_has(&p->caller, ip_reg)))
		return -1;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)ra, NULL);
	if (errno)
		return -1;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)ra, (void *)((word & ~0xffL) | 0xcc)) ||
	    ptrace(PTRACE_CONT, pid, NULL, NULL) || waitpid(pid, &status, 0) != pid ||
	    !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP ||
	    ptrace(PTRACE_GETREGS, pid, NULL, &u) || u.rip != ra + 1)
		return -1;
	u.rip = ra;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)ra, (void *)word) ||
	    ptrace(PTRACE_SETREGS, pid, NULL, &u))
		return -1;
	to_dwarf(&u, 0, truth);
	return 0;
}

#endif

static void judge(struct run *r, struct point *pts, unsigned n,
		  const struct vdsoscope_regs *truth)
{
	const struct vdsoscope_arch *a = r->arch;
	unsigned i, reg;

	for (i = 0; i < n; i++) {
		struct point *p = &pts[i];
		struct tally *t = tally_of(r, p->func);
		int bad = -1;

		t->visited++;
		r->visited++;
		if (!p->rc) {
			if (!vdsoscope_regs_has(&p->caller, a->ip_reg))
				bad = (int)a->ip_reg;
			else if (!vdsoscope_regs_has(&p->caller, a->sp_reg))
				bad = (int)a->sp_reg;
			/* what the truth knows: every register the unwinder
			 * claims equals it, and no callee-saved one is lost */
			/* where calls leave the return address in a register
			 * the callee may reuse (arm's lr), its value in the
			 * caller once the call returned is no one's promise */
			for (reg = 0; bad < 0 && reg < a->nregs; reg++)
				if (vdsoscope_regs_has(&p->caller, reg) && vdsoscope_regs_has(truth, reg) &&
				    p->caller.r[reg] != truth->r[reg] &&
				    !(reg == a->ra_reg && reg != a->ip_reg &&
				      !(a->callee_saved[reg / 64] >> (reg % 64) & 1)))
					bad = (int)reg;
			for (reg = 0; bad < 0 && reg < a->nregs; reg++)
				if ((a->callee_saved[reg / 64] >> (reg % 64) & 1) &&
				    vdsoscope_regs_has(truth, reg) && !vdsoscope_regs_has(&p->caller, reg))
					bad = (int)reg;
		}
		if (!p->rc && bad < 0) {
			t->exact++;
			r->exact++;
			continue;
		}
		t->wrong++;
		r->wrong++;
		if (t->wrong == 1) {
			t->bad_pc = p->pc;
			t->bad_rc = p->rc;
			if (bad >= 0) {
				snprintf(t->bad_reg, sizeof(t->bad_reg), "%s",
					 vdsoscope_arch_reg_name(a, (unsigned)bad) ?: "?");
				t->bad_got = p->caller.r[bad];
				t->bad_want = truth->r[bad];
				t->bad_known = (int)(vdsoscope_regs_has(&p->caller, bad));
			}
		}
	}
}

/* Unwinds at IP with UW and keeps the result as the next point. */
static struct point *record(const struct vdsoscope_image *img, const struct verify_unwinder *uw,
			    pid_t pid, const struct vdsoscope_regs *regs, uint64_t ip,
			    unsigned *npoints)
{
	struct point *p = &points[*npoints < MAX_POINTS ? *npoints : MAX_POINTS - 1];
	struct vdsoscope_func f;

	p->pc = ip;
	snprintf(p->func, sizeof(p->func), "%s",
		 vdsoscope_func_at(img, ip, &f, NULL) ? "(no function)" : f.names[0].name);
	p->rc = uw->unwind(uw->ctx, img, pid, regs, &p->caller);
	if (*npoints < MAX_POINTS)
		(*npoints)++;
	return p;
}

#ifdef VERIFY_X86
/* Traces PID, stopped at its exec, through every int3-announced vDSO call
 * until it exits.  IMG is the image the unwinder uses. */
static int trace(struct run *r, pid_t pid, const struct vdsoscope_image *img,
		 const struct verify_unwinder *uw)
{
	const struct vdsoscope_arch *a = r->arch;
	unsigned npoints = 0, traps = 0;
	int status, in_call = 0;

	for (;;) {
		struct user_regs_struct u;
		struct vdsoscope_regs regs;
		uint64_t ip;
		int sig, inside;

		if (ptrace(in_call || traps ? PTRACE_SINGLESTEP : PTRACE_CONT, pid, NULL, NULL))
			break;
		if (waitpid(pid, &status, 0) != pid || WIFEXITED(status) || WIFSIGNALED(status))
			break;
		sig = WSTOPSIG(status);
		if (sig == SIGUSR1) {
			/* the handler returns through the vDSO's sigreturn */
			if (ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(long)sig) ||
			    waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
				break;
			sig = WSTOPSIG(status);
		}
		if (sig != SIGTRAP) {
			snprintf(r->error, sizeof(r->error), "the helper stopped with signal %d", sig);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		if (ptrace(PTRACE_GETREGS, pid, NULL, &u))
			break;
		to_dwarf(&u, a->elf_class == 32, &regs);
		ip = regs.r[a->ip_reg];
		inside = (ip >= r->lo && ip < r->hi) || (a->elf_class == 64 && in_vsyscall(ip));
		if (!in_call && !inside) {
			if (!traps)
				traps = 1; /* the int3: single-step from here */
			else if (traps++ > 4096)
				traps = 0; /* stepped far without entering */
			continue;
		}
		if (inside) {
			struct point *p = record(img, uw, pid, &regs, ip, &npoints);

			in_call = 1;
			if (!in_vsyscall(ip))
				continue;
			if (run_to_return(pid, p, a->ip_reg, &regs))
				p->rc = -VDSOSCOPE_E_NOT_FOUND;
		}
		/* the call returned: the registers now are the truth */
		judge(r, points, npoints, &regs);
		r->calls++;
		npoints = 0;
		in_call = 0;
		traps = 0;
	}
	waitpid(pid, &status, WNOHANG);
	return 0;
}

static int run_helper(struct run *r, const char *helper, const char *image_file,
		      const struct verify_unwinder *uw)
{
	struct vdsoscope_image *img = NULL;
	int out[2], status, rc;
	size_t size;
	pid_t pid;
	FILE *f;
	char line[256];

	if (access(helper, X_OK)) {
		snprintf(r->error, sizeof(r->error), "%s: %s", helper, strerror(errno));
		return -1;
	}
	if (pipe(out))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execl(helper, helper, "calls", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
		snprintf(r->error, sizeof(r->error), "%s did not start", helper);
		close(out[0]);
		return -1;
	}
	rc = vdsoscope_open_pid(&img, pid, NULL);
	if (!rc && image_file) {
		/* the image under test replaces the process's own, at its address */
		VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_LOAD_ADDR | VDSOSCOPE_OPEN_NO_CACHE,
			       .load_addr = vdsoscope_load_address(img));
		struct vdsoscope_image *other = NULL;
		rc = vdsoscope_open_file(&other, image_file, &opts);
		vdsoscope_image_close(img);
		img = other;
	}
	if (rc) {
		snprintf(r->error, sizeof(r->error), "%s", vdsoscope_errmsg());
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(out[0]);
		return -1;
	}
	r->arch = vdsoscope_arch(img);
	if (!r->arch) {
		snprintf(r->error, sizeof(r->error), "no register table for this machine");
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		vdsoscope_image_close(img);
		close(out[0]);
		return -1;
	}
	vdsoscope_image_data(img, &size);
	r->lo = vdsoscope_load_address(img);
	r->hi = r->lo + size;
	rc = trace(r, pid, img, uw);
	vdsoscope_image_close(img);
	f = fdopen(out[0], "r");
	while (f && fgets(line, sizeof(line), f) && r->nlines < MAX_LINES) {
		line[strcspn(line, "\n")] = 0;
		r->lines[r->nlines++] = strdup(line);
	}
	if (f)
		fclose(f);
	return rc;
}
#endif

/* What a ptrace stop of a single-stepped thread is */
enum stop_kind { STOP_STEP, STOP_GROUP, STOP_ASYNC, STOP_FAULT };

static enum stop_kind stop_kind(pid_t tid, int status, siginfo_t *si)
{
	int sig = WSTOPSIG(status);

	memset(si, 0, sizeof(*si));
	if (status >> 16 == PTRACE_EVENT_STOP)
		return STOP_GROUP;
	if (ptrace(PTRACE_GETSIGINFO, tid, NULL, si)) {
		si->si_signo = sig;
		return sig == SIGTRAP ? STOP_STEP : STOP_ASYNC;
	}
	/* the step's trap (TRAP_TRACE, TRAP_BRKPT after a system call) or
	 * ptrace's own report on entering a handler (si_code SIGTRAP); not
	 * a SIGTRAP sent by a process (si_code <= 0) or the program's int3 */
	if (sig == SIGTRAP && si->si_code > 0 && si->si_code != SI_KERNEL)
		return STOP_STEP;
#if defined(__aarch64__)
	/* arm64 reports the step over an svc as a SIGTRAP from nobody
	 * (the generic user_single_step_report(): SI_USER, pid 0) */
	if (sig == SIGTRAP && si->si_code == SI_USER && si->si_pid == 0)
		return STOP_STEP;
#endif
	/* raised by the instruction just run: it cannot wait, the call is
	 * not coming back the usual way */
	if (si->si_code > 0 && si->si_code != SI_KERNEL &&
	    (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE))
		return STOP_FAULT;
	return STOP_ASYNC;
}

static void note_skip(struct run *r, int sig, const char *why, unsigned points)
{
	unsigned i;

	for (i = 0; i < r->nskips; i++)
		if (r->skips[i].sig == sig && r->skips[i].why == why)
			break;
	if (i == r->nskips) {
		if (r->nskips == MAX_SKIPS)
			i--;
		else
			r->nskips++;
		r->skips[i].sig = sig;
		r->skips[i].why = why;
	}
	r->skips[i].calls++;
	r->skips[i].points += points;
}

#ifdef VERIFY_X86
/* pushf and popf under single-stepping: the flags pushf stores carry the
 * trap flag the step set, and stepping over a popf makes the kernel take
 * the trap flag for the program's own (arch/x86 enable_single_step()):
 * from then on signal frames save it and detaching leaves it set, and the
 * thread dies of SIGTRAP at its next instruction (Go's asyncPreempt has
 * the pair).  So the flags a pushf stored lose the trap flag, and a popf
 * is done here instead of by the CPU. */
static int flags_insn(pid_t tid, const struct user_regs_struct *u, int is32, unsigned *size,
		      unsigned *len)
{
	unsigned char b[8];
	unsigned i;
	long w;

	*size = is32 ? 4 : 8;
	errno = 0;
	w = ptrace(PTRACE_PEEKTEXT, tid, (void *)u->rip, NULL);
	if (errno)
		return 0;
	memcpy(b, &w, sizeof(b));
	for (i = 0; i < 4; i++) {
		if (b[i] == 0x66)
			*size = 2;
		else if (is32 || b[i] < 0x40 || b[i] > 0x4f)
			break;
	}
	*len = i + 1;
	return b[i] == 0x9c || b[i] == 0x9d ? b[i] : 0;
}

/* Clears the trap flag in the flags a pushf left at SP. */
static void pushf_fix(pid_t tid, uint64_t sp)
{
	long w;

	errno = 0;
	w = ptrace(PTRACE_PEEKDATA, tid, (void *)sp, NULL);
	if (!errno && (w & 0x100))
		ptrace(PTRACE_POKEDATA, tid, (void *)sp, (void *)(w & ~0x100L));
}

/* Does the popf at U's IP; 0 or -1 (then the CPU does it). */
static int popf_do(pid_t tid, struct user_regs_struct *u, unsigned size, unsigned len)
{
	uint64_t v;
	long w;

	errno = 0;
	w = ptrace(PTRACE_PEEKDATA, tid, (void *)u->rsp, NULL);
	if (errno)
		return -1;
	v = (uint64_t)w;
	if (size == 2)
		v = (u->eflags & ~0xffffull) | (v & 0xffff);
	else if (size == 4)
		v &= 0xffffffffull;
	/* the kernel keeps what user mode may not change (IF, IOPL) */
	u->eflags = v & ~0x100ull;
	u->rsp += size;
	u->rip += len;
	return ptrace(PTRACE_SETREGS, tid, NULL, u) ? -1 : 0;
}
#endif

static int held_already(const siginfo_t *held, unsigned n, int signo)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (held[i].si_signo == signo)
			return 1;
	return 0;
}

/* Attaches to a running thread and single-steps it through up to MAX_CALLS
 * vDSO calls, or STEP_BUDGET instructions.  A signal for the thread that
 * arrives during a call is held, with its siginfo, and delivered once the
 * call has returned, so the handler runs neither inside the call nor in
 * place of its return; one that cannot wait (a fault the call raised, more
 * than MAX_HELD) is delivered at once and the call is left out, with the
 * reason. */
/* A single step that does not come back within STEP_PATIENCE seconds means
 * the thread is blocked (in a system call, its work moved to another
 * thread): the run ends there instead of waiting for ever. */
#define STEP_PATIENCE 10
/* seconds of stepping without a completed vDSO call */
#define CALL_PATIENCE 20

static void on_alarm(int sig)
{
	(void)sig;
}

/* waitpid for TID, giving up after STEP_PATIENCE seconds: returns TID, or
 * -1 with errno EINTR when the thread made no progress. */
static pid_t wait_step(pid_t tid, int *status)
{
	pid_t w;

	alarm(STEP_PATIENCE);
	w = waitpid(tid, status, __WALL);
	alarm(0);
	return w;
}

/* 1 when SIGTRAP is pending for thread TID (its SigPnd mask) */
static int sigtrap_pending(pid_t tid)
{
	char path[64], line[128];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigPnd: %llx", &mask) == 1)
			break;
	fclose(f);
	return mask >> (SIGTRAP - 1) & 1;
}

static int run_pid(struct run *r, pid_t tid, unsigned max_calls, unsigned long step_budget,
		   const struct verify_unwinder *uw)
{
	struct vdsoscope_image *img = NULL;
	siginfo_t held[MAX_HELD];
	unsigned npoints = 0, nheld = 0, flush = 0;
	unsigned long steps = 0;
#ifdef VERIFY_X86
	uint64_t pushed = 0;
	unsigned fsize, flen;
#endif
	int status, in_call = 0, rc, gone = 0, inject = 0, entered = 0, idle = 0;
	time_t last_call = 0;
	size_t size;

	rc = vdsoscope_open_pid(&img, tid, NULL);
	if (rc) {
		snprintf(r->error, sizeof(r->error), "%s", vdsoscope_errmsg());
		return -1;
	}
	r->arch = vdsoscope_arch(img);
	if (!r->arch) {
		vdsoscope_image_close(img);
		snprintf(r->error, sizeof(r->error), "no register table for this machine");
		return -1;
	}
	vdsoscope_image_data(img, &size);
	r->lo = vdsoscope_load_address(img);
	r->hi = r->lo + size;
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sigaction(SIGALRM, &sa, NULL);
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) || ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) ||
	    waitpid(tid, &status, __WALL) != tid) {
		snprintf(r->error, sizeof(r->error), "pid %d: attaching: %s", (int)tid, strerror(errno));
		vdsoscope_image_close(img);
		return -1;
	}
	for (;;) {
#ifdef VERIFY_X86
		struct user_regs_struct u;
#endif
		struct vdsoscope_regs regs;
		siginfo_t si;
		const char *why;
		uint64_t ip;
		int inside, more = r->calls < max_calls && steps < step_budget && !idle;

		/* a thread that runs on but makes no vDSO call (its work moved
		 * to another thread) ends the run as a blocked one does */
		if (more && !(steps & 4095)) {
			time_t now = time(NULL);
			if (!last_call)
				last_call = now;
			else if (now - last_call > CALL_PATIENCE) {
				idle = 1;
				more = 0;
			}
		}

		if (!more) {
			/* a call cut short is not judged; what is held is
			 * delivered before the thread is let go */
			npoints = 0;
			in_call = 0;
			if ((!nheld && !inject) || flush++ > 4 * MAX_HELD)
				break;
		}
		steps++;
		/* a held signal goes in at the first stop after the call
		 * that is a signal's: not ptrace's report of a handler
		 * entered, where the kernel drops what is injected */
		if (!inject && !in_call && nheld && !entered) {
			if (!ptrace(PTRACE_SETSIGINFO, tid, NULL, &held[0]))
				inject = held[0].si_signo;
			memmove(held, held + 1, --nheld * sizeof(*held));
		}
#ifdef VERIFY_X86
		if (inject)
			pushed = 0; /* the handler runs first */
#endif
		if (ptrace(PTRACE_SINGLESTEP, tid, NULL, (void *)(long)inject)) {
			gone = 1;
			break;
		}
		if (wait_step(tid, &status) != tid) {
			if (errno != EINTR) {
				gone = 1;
				break;
			}
			/* stop it where it waits, to let it go */
			if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) ||
			    waitpid(tid, &status, __WALL) != tid) {
				gone = 1;
				break;
			}
			/* the step flag may have queued a SIGTRAP as the
			 * interrupted system call ended: take it, so that it
			 * is not delivered after the detach */
			if (sigtrap_pending(tid)) {
				int st2;
				if (!ptrace(PTRACE_CONT, tid, NULL, NULL) &&
				    wait_step(tid, &st2) == tid && WIFSTOPPED(st2))
					status = st2;
			}
			r->blocked = 1;
			snprintf(r->error, sizeof(r->error),
				 "thread %d made no progress for %d s (blocked in the kernel); "
				 "stopped after %u calls", (int)tid, STEP_PATIENCE, r->calls);
			inject = 0;
			break;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			gone = 1;
			break;
		}
		inject = 0;
		entered = 0;
		switch (stop_kind(tid, status, &si)) {
		case STOP_STEP:
			entered = si.si_code == SIGTRAP;
			break;
		case STOP_GROUP:
			continue;
		case STOP_ASYNC:
			if (!in_call) {
				inject = WSTOPSIG(status);
				continue;
			}
			/* a standard signal already pending is one signal, as
			 * the kernel keeps it: only real-time signals queue */
			if (si.si_signo < SIGRTMIN && held_already(held, nheld, si.si_signo)) {
				r->held++;
				continue;
			}
			if (nheld < MAX_HELD) {
				held[nheld++] = si;
				r->held++;
				continue;
			}
			why = "more signals than can be held";
			goto deliver;
		case STOP_FAULT:
			why = "raised by the call itself";
		deliver:
			/* delivered now: the handler's registers would be taken
			 * for the call's return */
			if (in_call)
				note_skip(r, WSTOPSIG(status), why, npoints);
			npoints = 0;
			in_call = 0;
			inject = WSTOPSIG(status);
			continue;
		}
#ifdef VERIFY_X86
		if (ptrace(PTRACE_GETREGS, tid, NULL, &u))
			break;
		if (pushed && u.rsp == pushed)
			pushf_fix(tid, pushed);
		pushed = 0;
		switch (flags_insn(tid, &u, r->arch->elf_class == 32, &fsize, &flen)) {
		case 0x9c:
			pushed = u.rsp - fsize;
			break;
		case 0x9d:
			if (!popf_do(tid, &u, fsize, flen))
				ptrace(PTRACE_GETREGS, tid, NULL, &u);
			break;
		}
		to_dwarf(&u, r->arch->elf_class == 32, &regs);
#else
		if (live_regs(tid, &regs))
			break;
#endif
		ip = regs.r[r->arch->ip_reg];
		inside = ip >= r->lo && ip < r->hi;
		if (inside && more) {
			record(img, uw, tid, &regs, ip, &npoints);
			in_call = 1;
		} else if (in_call) {
			judge(r, points, npoints, &regs);
			r->calls++;
			npoints = 0;
			in_call = 0;
			last_call = time(NULL);
		}
	}
	if (idle && !r->blocked) {
		r->blocked = 1;
		snprintf(r->error, sizeof(r->error),
			 "thread %d made no vDSO call for %d s; stopped after %u calls", (int)tid,
			 CALL_PATIENCE, r->calls);
	}
	if (!gone) {
		unsigned i;
		ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)inject);
		for (i = 0; i < nheld; i++)
			kill(tid, held[i].si_signo);
	}
	vdsoscope_image_close(img);
	return 0;
}

/* ---- recorded traces ------------------------------------------------------ */

/*
 * A trace records a thread of another machine (or an emulator) stepped one
 * instruction at a time through vDSO calls, in text:
 *   # arch aarch64            the target's architecture (aarch64, arm)
 *   # vdso LOAD SIZE          where the vDSO was mapped (hex)
 *   # pac_mask DATA INSN      NT_ARM_PAC_MASK (hex; 0 0 without)
 *   S pc sp pstate x0..x30 d8..d15     one stop (aarch64; hex)
 *   S pc sp cpsr r0..r15 d8..d15        one stop (arm; hex)
 *   M ADDR HEX                memory as it was, for the unwinder's reads
 * The truth for every point inside the vDSO is the first stop after the
 * thread left it: every register the unwinder claims must equal it there.
 * A trace that ends inside a call is judged against the call's entry: the
 * caller's PC and x30 are x30 at the entry, SP and the callee-saved
 * registers as they were.
 */
#define TRACE_MAX_MEM (1u << 20)

struct tmem {
	uint64_t addr;
	size_t len;
	unsigned char *b;
};

struct tctx {
	const unsigned char *img;
	uint64_t lo, size;
	struct tmem *m;
	size_t nm, total;
};

static int trace_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct tctx *c = arg;
	size_t i;

	if (addr >= c->lo && addr - c->lo <= c->size && len <= c->size - (addr - c->lo)) {
		memcpy(buf, c->img + (addr - c->lo), len);
		return 0;
	}
	for (i = 0; i < c->nm; i++)
		if (addr >= c->m[i].addr && addr - c->m[i].addr <= c->m[i].len &&
		    len <= c->m[i].len - (addr - c->m[i].addr)) {
			memcpy(buf, c->m[i].b + (addr - c->m[i].addr), len);
			return 0;
		}
	return -VDSOSCOPE_E_MEMORY;
}

static int trace_unwind(const struct vdsoscope_image *img, struct tctx *c,
			const struct vdsoscope_regs *in, struct vdsoscope_regs *out)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);
	unsigned flags = 0, ff, depth;
	int rc;

	*out = *in;
	for (depth = 0; depth < 16; depth++) {
		uint64_t ip;

		rc = vdsoscope_step(img, out, flags, trace_read, c, out, &ff);
		if (rc)
			return rc;
		ip = out->r[a->ip_reg];
		if (ip < c->lo || ip - c->lo >= c->size)
			return 0;
		flags = ff & VDSOSCOPE_FRAME_SIGNAL ? 0 : VDSOSCOPE_STEP_CALLER;
	}
	return -VDSOSCOPE_E_NOT_IN_IMAGE;
}

/* One S line of a trace into REGS: aarch64 "pc sp pstate x0..x30
 * d8..d15", arm "pc sp cpsr r0..r15 d8..d15"; 0 or -1. */
static int trace_regs(const char *line, int arm, uint64_t pac, struct vdsoscope_regs *regs)
{
	unsigned long long v[42];
	const char *p = line + 1;
	unsigned i, n = arm ? 27 : 42;
	char *end;

	for (i = 0; i < n; i++) {
		errno = 0;
		v[i] = strtoull(p, &end, 16);
		if (end == p || errno)
			return -1;
		p = end;
	}
	vdsoscope_regs_clear(regs);
	regs->pac_mask = pac;
	if (arm) {
		for (i = 0; i < 16; i++)
			vdsoscope_regs_set(regs, i, v[3 + i] & 0xffffffffu);
		for (i = 0; i < 8; i++)
			vdsoscope_regs_set(regs, 264 + i, v[19 + i]);
		return 0;
	}
	vdsoscope_regs_set(regs, 32, v[0]);
	vdsoscope_regs_set(regs, 31, v[1]);
	for (i = 0; i < 31; i++)
		vdsoscope_regs_set(regs, i, v[3 + i]);
	for (i = 0; i < 8; i++)
		vdsoscope_regs_set(regs, 72 + i, v[34 + i]);
	return 0;
}

/* The truth a call cut short leaves: its entry's return address, SP and
 * callee-saved registers. */
static void truth_from_entry(const struct vdsoscope_arch *a, const struct vdsoscope_regs *e,
			     struct vdsoscope_regs *t)
{
	unsigned r;
	uint64_t ra = e->r[a->ra_reg];

	vdsoscope_regs_clear(t);
	for (r = 0; r < a->nregs; r++)
		if ((a->callee_saved[r / 64] >> (r % 64) & 1) && vdsoscope_regs_has(e, r))
			vdsoscope_regs_set(t, r, e->r[r]);
	/* arm: the return address has the caller's Thumb bit; aarch64: no PAC
	 * yet at the entry */
	vdsoscope_regs_set(t, a->ip_reg, a->elf_class == 32 ? ra & ~1ull : ra);
	vdsoscope_regs_set(t, a->ra_reg, ra);
}

static int run_trace(struct run *r, const char *path, const char *image_file)
{
	struct vdsoscope_open_opts o = { .sz = sizeof(o) };
	struct vdsoscope_image *img = NULL;
	struct tctx c = { 0 };
	struct vdsoscope_regs regs, entry;
	char *line = NULL, arch[32] = "";
	size_t cap = 0, size, lineno = 0;
	unsigned long long lo = 0, sz = 0, pdata = 0, pinsn = 0;
	unsigned npoints = 0, i;
	int inside = 0, entry_signal = 0, rc = -1;
	FILE *f;

	vdsoscope_regs_clear(&entry);
	if (!(f = fopen(path, "r"))) {
		snprintf(r->error, sizeof(r->error), "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		if (line[0] == '#') {
			if (sscanf(line, "# arch %31s", arch) == 1)
				continue;
			if (sscanf(line, "# vdso %llx %llx", &lo, &sz) == 2)
				continue;
			sscanf(line, "# pac_mask %llx %llx", &pdata, &pinsn);
			continue;
		}
		if (line[0] == 'M') {
			char *p = line + 1, *end;
			unsigned long long addr = strtoull(p, &end, 16);
			size_t n = 0, hl;
			struct tmem *m;
			while (*end == ' ')
				end++;
			hl = strcspn(end, " \n");
			if (hl % 2 || !hl || c.total + hl / 2 > TRACE_MAX_MEM) {
				snprintf(r->error, sizeof(r->error), "%s:%zu: bad or too much memory",
					 path, lineno);
				goto out;
			}
			if (!(m = realloc(c.m, (c.nm + 1) * sizeof(*m))) || !(m[c.nm].b = malloc(hl / 2))) {
				if (m)
					c.m = m;
				snprintf(r->error, sizeof(r->error), "out of memory");
				goto out;
			}
			c.m = m;
			for (n = 0; n < hl / 2; n++) {
				unsigned x;
				if (sscanf(end + 2 * n, "%2x", &x) != 1)
					break;
				m[c.nm].b[n] = (unsigned char)x;
			}
			m[c.nm].addr = addr;
			m[c.nm].len = n;
			c.nm++;
			c.total += n;
			continue;
		}
		if (line[0] != 'S')
			continue;
		if (!img) {
			if ((strcmp(arch, "aarch64") && strcmp(arch, "arm")) || !sz) {
				snprintf(r->error, sizeof(r->error),
					 "%s: no '# arch aarch64|arm' and '# vdso LOAD SIZE' before the first stop",
					 path);
				goto out;
			}
			o.load_addr = lo;
			o.flags = VDSOSCOPE_OPEN_LOAD_ADDR;
			if (vdsoscope_open_file(&img, image_file, &o)) {
				snprintf(r->error, sizeof(r->error), "%s", vdsoscope_errmsg());
				goto out;
			}
			r->arch = vdsoscope_arch(img);
			if (!r->arch || strcmp(r->arch->name, arch)) {
				snprintf(r->error, sizeof(r->error), "%s is not an %s image", image_file, arch);
				goto out;
			}
			c.img = vdsoscope_image_data(img, &size);
			c.lo = r->lo = lo;
			c.size = size < sz ? size : sz;
			r->hi = lo + c.size;
		}
		if (trace_regs(line, !strcmp(arch, "arm"), pinsn, &regs)) {
			snprintf(r->error, sizeof(r->error), "%s:%zu: not a stop of %s registers", path,
				 lineno, arch);
			goto out;
		}
		{
			uint64_t ip = regs.r[r->arch->ip_reg];
			int in = ip >= c.lo && ip - c.lo < c.size;
			if (in) {
				struct point *p = &points[npoints < MAX_POINTS ? npoints : MAX_POINTS - 1];
				struct vdsoscope_func fn;
				struct vdsoscope_row row;
				if (!inside) {
					entry = regs;
					entry_signal = !vdsoscope_cfi_find(img, ip, &row) && row.signal_frame;
				}
				p->pc = ip;
				snprintf(p->func, sizeof(p->func), "%s",
					 vdsoscope_func_at(img, ip, &fn, NULL) ? "(no function)"
									 : fn.names[0].name);
				p->rc = trace_unwind(img, &c, &regs, &p->caller);
				if (npoints < MAX_POINTS)
					npoints++;
			} else if (inside) {
				judge(r, points, npoints, &regs);
				r->calls++;
				npoints = 0;
			}
			inside = in;
		}
	}
	if (!img) {
		snprintf(r->error, sizeof(r->error), "%s: no stops", path);
		goto out;
	}
	if (inside && npoints) {
		struct vdsoscope_regs t;
		if (entry_signal) {
			note_skip(r, 0, "the trace ends inside a signal return", npoints);
		} else {
			truth_from_entry(r->arch, &entry, &t);
			judge(r, points, npoints, &t);
			r->calls++;
		}
	}
	rc = 0;
out:
	for (i = 0; i < c.nm; i++)
		free(c.m[i].b);
	free(c.m);
	free(line);
	fclose(f);
	vdsoscope_image_close(img);
	(void)pdata;
	return rc;
}

static const char *sig_name(int sig)
{
	const char *n = sigabbrev_np(sig);

	return n ? n : "?";
}

static void print_text(const struct run *r)
{
	unsigned i;

	printf("%s: %u calls, %u points\n", r->what, r->calls, r->visited);
	printf("  %-28s %7s %7s %6s\n", "FUNCTION", "POINTS", "EXACT", "WRONG");
	for (i = 0; i < r->nt; i++) {
		const struct tally *t = &r->t[i];
		printf("  %-28s %7u %7u %6u\n", t->name, t->visited, t->exact, t->wrong);
		if (t->wrong && t->bad_rc)
			printf("    first wrong at 0x%llx: %s\n", (unsigned long long)t->bad_pc,
			       vdsoscope_strerror(t->bad_rc));
		else if (t->wrong)
			printf("    first wrong at 0x%llx: %s is 0x%llx%s, truth 0x%llx\n",
			       (unsigned long long)t->bad_pc, t->bad_reg, (unsigned long long)t->bad_got,
			       t->bad_known ? "" : " (not known)", (unsigned long long)t->bad_want);
	}
	for (i = 0; i < r->nlines; i++)
		if (!strncmp(r->lines[i], "lacks ", 6))
			printf("  not visited: %s (this vDSO has none)\n", r->lines[i] + 6);
	for (i = 0; i < r->nlines; i++) {
		char name[64], arg[64];
		long ret;
		if (sscanf(r->lines[i], "call %63s %63s %ld", name, arg, &ret) == 3 && ret != 0 &&
		    strstr(name, "time") && !strstr(name, "getres") && strcmp(name, "__vdso_time") &&
		    strcmp(name, "vsyscall_time"))
			printf("  note: %s(%s) returned %ld (the kernel refused it; its path was still visited)\n",
			       name, arg, ret);
	}
	if (r->held)
		printf("  signals: %u arrived during calls, held until the call returned\n", r->held);
	for (i = 0; i < r->nskips; i++)
		printf("  left out: %u calls (%u points): SIG%s %s, delivered at once\n",
		       r->skips[i].calls, r->skips[i].points, sig_name(r->skips[i].sig),
		       r->skips[i].why);
	printf("  total: %u of %u exact (%.1f%%), %u wrong\n", r->exact, r->visited,
	       r->visited ? 100.0 * r->exact / r->visited : 0.0, r->wrong);
}

static void print_json(struct json *j, const struct run *r)
{
	unsigned i;

	json_obj(j);
	json_kstr(j, "target", r->what);
	json_kstr(j, "arch", r->arch ? r->arch->name : "");
	json_khex(j, "load_address", r->lo);
	json_kuint(j, "calls", r->calls);
	json_kuint(j, "points", r->visited);
	json_kuint(j, "exact", r->exact);
	json_kuint(j, "wrong", r->wrong);
	if (*r->error)
		json_kstr(j, "error", r->error);
	json_kbool(j, "blocked", r->blocked);
	json_kuint(j, "signals_held", r->held);
	json_key(j, "left_out");
	json_arr(j);
	for (i = 0; i < r->nskips; i++) {
		char sig[32];
		snprintf(sig, sizeof(sig), "SIG%s", sig_name(r->skips[i].sig));
		json_obj(j);
		json_kstr(j, "signal", sig);
		json_kstr(j, "reason", r->skips[i].why);
		json_kuint(j, "calls", r->skips[i].calls);
		json_kuint(j, "points", r->skips[i].points);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "functions");
	json_arr(j);
	for (i = 0; i < r->nt; i++) {
		const struct tally *t = &r->t[i];
		json_obj(j);
		json_kstr(j, "name", t->name);
		json_kuint(j, "points", t->visited);
		json_kuint(j, "exact", t->exact);
		json_kuint(j, "wrong", t->wrong);
		if (t->wrong) {
			json_key(j, "first_wrong");
			json_obj(j);
			json_khex(j, "address", t->bad_pc);
			if (t->bad_rc) {
				json_kstr(j, "error", vdsoscope_strerror(t->bad_rc));
			} else {
				json_kstr(j, "register", t->bad_reg);
				json_khex(j, "value", t->bad_got);
				json_kbool(j, "known", t->bad_known);
				json_khex(j, "truth", t->bad_want);
			}
			json_obj_end(j);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "not_visited");
	json_arr(j);
	for (i = 0; i < r->nlines; i++)
		if (!strncmp(r->lines[i], "lacks ", 6))
			json_str(j, r->lines[i] + 6);
	json_arr_end(j);
	json_key(j, "helper_calls");
	json_arr(j);
	for (i = 0; i < r->nlines; i++)
		if (!strncmp(r->lines[i], "call ", 5))
			json_str(j, r->lines[i] + 5);
	json_arr_end(j);
	json_obj_end(j);
}

#ifdef VERIFY_X86
/* The helpers: $VDSOSCOPE_HELPER_DIR, next to this program (and one level
 * up, for the build tree's libtool layout), then the install directory. */
int verify_find_helper(const char *name, char *out, size_t len)
{
	const char *env = getenv("VDSOSCOPE_HELPER_DIR");
	char self[PATH_MAX - 64], *slash, *real;
	ssize_t n;

	if (env) {
		snprintf(out, len, "%s/%s", env, name);
		return access(out, X_OK);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(out, len, "%s/%s", self, name);
			if (!access(out, X_OK))
				return 0;
			snprintf(out, len, "%s/../%s", self, name);
			if (!access(out, X_OK) && (real = realpath(out, NULL))) {
				snprintf(out, len, "%s", real);
				free(real);
				return 0;
			}
		}
	}
	snprintf(out, len, "%s/%s", PKGLIBEXECDIR, name);
	return access(out, X_OK);
}
#endif

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "self-test", no_argument, NULL, 's' },
		{ "pid", required_argument, NULL, 'p' },
		{ "image", required_argument, NULL, 'i' },
		{ "bits", required_argument, NULL, 'b' },
		{ "calls", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "engine", required_argument, NULL, 'e' },
		{ "trace", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_unwinder uw = { "vdsoscope_step", verify_core_unwind, NULL };
#ifdef VERIFY_LIBUNWIND
	static struct lu_ctx lu = { .table = -1 };
#endif
	static struct run runs[MAX_TRACES];
	const char *image = NULL, *traces[MAX_TRACES];
	int ntraces = 0;
	int c, json = 0, bits = 0, nruns = 0, i, bad = 0, use_libunwind = 0;
	long pid = 0, max_calls = 20;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': break;
		case 'p':
			pid = strtol(optarg, &end, 10);
			if (*end || pid <= 0) {
				fprintf(stderr, "vdsoscope: --pid %s is not a process id\n", optarg);
				return 2;
			}
			break;
		case 'i': image = optarg; break;
		case 't':
			if (ntraces == MAX_TRACES) {
				fprintf(stderr, "vdsoscope: verify: at most %d traces\n", MAX_TRACES);
				return 2;
			}
			traces[ntraces++] = optarg;
			break;
		case 'b':
			bits = atoi(optarg);
			if (bits != 32 && bits != 64) {
				fprintf(stderr, "vdsoscope: --bits takes 32 or 64\n");
				return 2;
			}
			break;
		case 'c':
			max_calls = strtol(optarg, &end, 10);
			if (*end || max_calls <= 0) {
				fprintf(stderr, "vdsoscope: --calls takes a positive number\n");
				return 2;
			}
			break;
		case 'j': json = 1; break;
		case 'e':
			if (!strcmp(optarg, "core")) {
				break;
			} else if (!strcmp(optarg, "libunwind")) {
#ifdef VERIFY_LIBUNWIND
				uw.name = "libunwind (vdsoscope-unwind hook)";
				uw.unwind = libunwind_unwind;
				uw.ctx = &lu;
				use_libunwind = 1;
				break;
#elif defined(HAVE_LIBUNWIND)
				fprintf(stderr, "vdsoscope: verify: the libunwind engine is for x86_64 targets\n");
				return 1;
#else
				fprintf(stderr, "vdsoscope: verify: this build has no libunwind\n");
				return 1;
#endif
			}
			fprintf(stderr, "vdsoscope: verify: --engine takes core or libunwind\n");
			return 2;
		case 'h':
			printf("Usage: vdsoscope verify [--self-test [--bits 32|64] [--image FILE] | --pid PID [--calls N]]\n"
			       "                        [--engine core|libunwind] [--json]\n"
			       "       vdsoscope verify --trace FILE [--trace FILE...] --image FILE [--json]\n"
#ifndef VERIFY_X86
			       "The self-test (the default) runs on x86 only; --pid and --trace run here.\n"
#endif
			       );
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vdsoscope: verify: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (use_libunwind) {
		/* the hook is for x86_64 images */
		if (bits == 32) {
			fprintf(stderr, "vdsoscope: verify: the libunwind engine is for x86_64 targets\n");
			return 2;
		}
		bits = 64;
	}
	if (ntraces) {
		if (!image || pid || use_libunwind) {
			fprintf(stderr, "vdsoscope: verify: --trace needs --image (the traced vDSO) "
					"and goes without --pid and --engine\n");
			return 2;
		}
		for (i = 0; i < ntraces; i++) {
			runs[i].what = traces[i];
			if (run_trace(&runs[i], traces[i], image))
				bad = 1;
		}
		nruns = ntraces;
	} else if (pid) {
		static char what[64];
		snprintf(what, sizeof(what), "pid %ld", pid);
		runs[0].what = what;
		if (run_pid(&runs[0], (pid_t)pid, (unsigned)max_calls, 20000000ul, &uw))
			bad = 1;
		nruns = 1;
	} else {
#ifdef VERIFY_X86
		static const char *const names[2] = { "vdsoscope-helper", "vdsoscope-helper32" };
		static char paths[2][PATH_MAX];
		for (i = 0; i < 2; i++) {
			if ((bits == 64 && i == 1) || (bits == 32 && i == 0))
				continue;
			if (verify_find_helper(names[i], paths[i], sizeof(paths[i]))) {
				if (bits || i == 0) {
					fprintf(stderr, "vdsoscope: verify: no %s (set VDSOSCOPE_HELPER_DIR)\n",
						names[i]);
					return 1;
				}
				fprintf(stderr, "vdsoscope: verify: no %s: the 32-bit vDSO is not checked\n",
					names[i]);
				continue;
			}
			runs[nruns].what = paths[i];
			if (run_helper(&runs[nruns], paths[i], image, &uw))
				bad = 1;
			nruns++;
		}
#else
		fprintf(stderr, "vdsoscope: verify: the self-test runs on x86 only; "
				"give --pid PID or --trace FILE\n");
		return 2;
#endif
	}
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "unwinder", uw.name);
#ifdef VERIFY_LIBUNWIND
		if (lu.table >= 0)
			json_kstr(&j, "unwind_table", unw_table_name(lu.table));
#endif
		json_key(&j, "runs");
		json_arr(&j);
		for (i = 0; i < nruns; i++)
			print_json(&j, &runs[i]);
		json_arr_end(&j);
		json_obj_end(&j);
	}
#ifdef VERIFY_LIBUNWIND
	if (lu.failed)
		bad = 1;
	if (!json && lu.table >= 0)
		printf("libunwind's table for the vDSO: %s\n",
		       lu.table == VDSOSCOPE_UNW_TABLE_IMAGE ? "the image's .eh_frame_hdr"
		       : lu.table == VDSOSCOPE_UNW_TABLE_ROWS ? "built from the image's CFI rows"
							       : "none");
#endif
	for (i = 0; i < nruns; i++) {
		if (!json)
			print_text(&runs[i]);
		if (*runs[i].error) {
			fprintf(stderr, "vdsoscope: verify: %s: %s\n", runs[i].what, runs[i].error);
			bad = 1;
		}
		if (runs[i].wrong || runs[i].visited == 0)
			bad = 1;
	}
	return bad ? 1 : 0;
}
