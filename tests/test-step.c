/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdsoscope_step() against execution.  A target process calls every vDSO
 * function through the vDSO, each call announced by an int3.  Under ptrace
 * the call is single-stepped; at every instruction inside the vDSO the
 * registers are handed to vdsoscope_step() (repeated while the result is
 * still inside the vDSO), and when the call returns, the registers ptrace
 * shows are the truth: every register the step called known must have
 * exactly that value, and IP and SP must be among them.
 *
 * Usage: test-step [TARGET...]  (default: tests/vdso-target and, when built,
 * tests/vdso-target32)
 */
#include "config.h"
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vdsoscope.h"
#include "runner.h"

#define MAX_POINTS 4096
#define MAX_NAMES 64

struct result {
	uint64_t pc;
	int rc;
	struct vdsoscope_regs caller;
	char func[64];
};

struct tally {
	char name[64];
	unsigned visited, exact, wrong, nocfi;
};

static struct result points[MAX_POINTS];
static struct tally tallies[MAX_NAMES];
static unsigned ntallies;

static struct tally *tally_of(const char *name)
{
	unsigned i;

	for (i = 0; i < ntallies; i++)
		if (!strcmp(tallies[i].name, name))
			return &tallies[i];
	if (ntallies == MAX_NAMES)
		return &tallies[MAX_NAMES - 1];
	memset(&tallies[ntallies], 0, sizeof(tallies[0]));
	snprintf(tallies[ntallies].name, sizeof(tallies[0].name), "%s", name);
	return &tallies[ntallies++];
}

static int in_vsyscall(uint64_t ip)
{
	return ip >= 0xffffffffff600000ull && ip < 0xffffffffff601000ull;
}

/* Whether PID maps x86_64's vsyscall page executable. */
static int has_vsyscall(pid_t pid)
{
	char path[64], line[256];
	int yes = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		yes |= strstr(line, "[vsyscall]") && strchr(line, 'x');
	if (f)
		fclose(f);
	return yes;
}

/* ptrace's registers in DWARF numbering */
static void to_dwarf(const struct user_regs_struct *u, int is32, struct vdsoscope_regs *r)
{
	memset(r, 0, sizeof(*r));
	if (is32) {
		const unsigned long long v[9] = { u->rax, u->rcx, u->rdx, u->rbx, u->rsp,
						  u->rbp, u->rsi, u->rdi, u->rip };
		for (int i = 0; i < 9; i++)
			r->r[i] = v[i] & 0xffffffffu;
		r->valid = (1ull << 9) - 1;
	} else {
		const unsigned long long v[17] = { u->rax, u->rdx, u->rcx, u->rbx, u->rsi, u->rdi,
						   u->rbp, u->rsp, u->r8, u->r9, u->r10, u->r11,
						   u->r12, u->r13, u->r14, u->r15, u->rip };
		for (int i = 0; i < 17; i++)
			r->r[i] = v[i];
		r->valid = (1ull << 17) - 1;
	}
}

/* Plants an int3 at the return address P's step computed, runs to it and
 * puts the registers there (IP moved back onto the address) in TRUTH.
 * Fails when the process ends or stops elsewhere. */
static int run_to_return(pid_t pid, const struct result *p, struct vdsoscope_regs *truth)
{
	struct user_regs_struct u;
	uint64_t ra = p->caller.r[16];
	long word;
	int status;

	if (p->rc || !(p->caller.valid >> 16 & 1))
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

static int run_target(const char *path)
{
	struct vdsoscope_image *img = NULL;
	const struct vdsoscope_arch *a;
	unsigned npoints = 0, traps = 0, compared = 0, vsyscall_points = 0;
	int vsyscall;
	int status, rc, in_call = 0;
	uint64_t lo, hi;
	size_t size;
	pid_t pid;

	if (access(path, X_OK))
		return -1;
	pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execl(path, path, "calls", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
		fprintf(stderr, "%s: did not stop at exec\n", path);
		return 1;
	}
	rc = vdsoscope_open_pid(&img, pid, NULL);
	CHECK(rc == 0, "open pid %d: %s", pid, vdsoscope_errmsg());
	if (rc) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return 1;
	}
	a = vdsoscope_arch(img);
	vdsoscope_image_data(img, &size);
	lo = vdsoscope_load_address(img);
	hi = lo + size;
	printf("%s: %s vDSO at 0x%llx\n", path, a->name, (unsigned long long)lo);
	vsyscall = a->elf_class == 64 && has_vsyscall(pid);
	if (a->elf_class == 64 && !vsyscall)
		printf("  the vsyscall page is not mapped executable (vsyscall=none?): not visited\n");

	for (;;) {
		struct user_regs_struct u;
		struct vdsoscope_regs regs;
		int sig = 0;

		if (ptrace(in_call || traps ? PTRACE_SINGLESTEP : PTRACE_CONT, pid, NULL, NULL))
			break;
		if (waitpid(pid, &status, 0) != pid || WIFEXITED(status) || WIFSIGNALED(status))
			break;
		sig = WSTOPSIG(status);
		if (sig == SIGUSR1) {
			/* deliver it and keep single-stepping: the handler
			 * returns through the vDSO's sigreturn trampoline */
			if (ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(long)sig))
				break;
			if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
				break;
			sig = WSTOPSIG(status);
		}
		if (sig != SIGTRAP) {
			fprintf(stderr, "%s: unexpected signal %d\n", path, sig);
			kill(pid, SIGKILL);
			break;
		}
		if (ptrace(PTRACE_GETREGS, pid, NULL, &u))
			break;
		to_dwarf(&u, a->elf_class == 32, &regs);
		{
			uint64_t ip = regs.r[a->ip_reg];
			int inside = (ip >= lo && ip < hi) || (a->elf_class == 64 && in_vsyscall(ip));

			if (!in_call && !inside) {
				if (!traps) {
					/* the int3: single-step from here on */
					traps = 1;
				} else if (traps++ > 4096) {
					/* stepped far without entering: back to CONT */
					traps = 0;
				}
				continue;
			}
			if (inside) {
				struct result *p = &points[npoints < MAX_POINTS ? npoints : MAX_POINTS - 1];
				struct vdsoscope_regs cur = regs;
				struct vdsoscope_func f;
				unsigned flags = 0, ff, depth;
				pid_t tpid = pid;

				in_call = 1;
				p->pc = ip;
				snprintf(p->func, sizeof(p->func), "%s",
					 vdsoscope_func_at(img, ip, &f, NULL) ? "(no function)" : f.names[0].name);
				p->rc = 0;
				for (depth = 0; depth < 16; depth++) {
					p->rc = vdsoscope_step(img, &cur, flags, vdsoscope_read_pid, &tpid,
							       &cur, &ff);
					if (p->rc)
						break;
					ip = cur.r[a->ip_reg];
					if ((ip < lo || ip >= hi) && !in_vsyscall(ip))
						break;
					flags = ff & VDSOSCOPE_FRAME_SIGNAL ? 0 : VDSOSCOPE_STEP_CALLER;
				}
				p->caller = cur;
				if (npoints < MAX_POINTS)
					npoints++;
				if (!in_vsyscall(regs.r[a->ip_reg]))
					continue;
				/* The kernel emulates a vsyscall entry whole, and the
				 * single-step trap comes one instruction after the
				 * return.  The truth is taken with a breakpoint at
				 * the return address instead: reached with the
				 * expected SP, it shows where the call returns. */
				if (run_to_return(pid, p, &regs)) {
					fprintf(stderr, "  %s at 0x%llx: the call did not return where the step said\n",
						p->func, (unsigned long long)p->pc);
					p->rc = -VDSOSCOPE_E_MEMORY;
				}
				goto compare;
			}
		}
compare:
		/* the call returned: compare every point with the truth */
		for (unsigned i = 0; i < npoints; i++) {
			struct result *p = &points[i];
			struct tally *t = tally_of(p->func);
			int bad = -1;

			t->visited++;
			vsyscall_points += in_vsyscall(p->pc);
			if (p->rc == -VDSOSCOPE_E_NO_CFI) {
				t->nocfi++;
				continue;
			}
			if (p->rc) {
				t->wrong++;
				fprintf(stderr, "  %s at 0x%llx: step failed: %s\n", p->func,
					(unsigned long long)p->pc, vdsoscope_strerror(p->rc));
				continue;
			}
			if (!(p->caller.valid >> a->ip_reg & 1) || !(p->caller.valid >> a->sp_reg & 1))
				bad = !(p->caller.valid >> a->ip_reg & 1) ? (int)a->ip_reg : (int)a->sp_reg;
			for (unsigned r = 0; bad < 0 && r < a->nregs; r++)
				if ((p->caller.valid >> r & 1) && p->caller.r[r] != regs.r[r])
					bad = (int)r;
			for (unsigned r = 0; bad < 0 && r < a->nregs; r++)
				if ((a->callee_saved >> r & 1) && !(p->caller.valid >> r & 1))
					bad = (int)r;
			if (bad >= 0) {
				t->wrong++;
				fprintf(stderr, "  %s at 0x%llx: %s is 0x%llx%s, truth 0x%llx\n", p->func,
					(unsigned long long)p->pc, a->reg_names[bad],
					(unsigned long long)p->caller.r[bad],
					p->caller.valid >> bad & 1 ? "" : " (not known)",
					(unsigned long long)regs.r[bad]);
			} else {
				t->exact++;
				compared++;
			}
		}
		npoints = 0;
		in_call = 0;
		traps = 0;
	}
	waitpid(pid, &status, WNOHANG);
	for (unsigned i = 0; i < ntallies; i++) {
		struct tally *t = &tallies[i];
		printf("  %-26s visited %4u  exact %4u  wrong %u  no CFI %u\n", t->name, t->visited,
		       t->exact, t->wrong, t->nocfi);
		CHECK(t->wrong == 0, "%s: %u wrong", t->name, t->wrong);
	}
	CHECK(compared > 0, "%s: no point was compared", path);
	if (vsyscall)
		CHECK(vsyscall_points >= 3, "%s: %u points in the vsyscall page", path, vsyscall_points);
	ntallies = 0;
	vdsoscope_image_close(img);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("top_builddir");
	char t64[4096], t32[4096];
	int i, ran = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			ran += run_target(argv[i]) == 0;
		return test_result("test-step");
	}
	snprintf(t64, sizeof(t64), "%s/tests/vdso-target", dir ? dir : ".");
	snprintf(t32, sizeof(t32), "%s/tests/vdso-target32", dir ? dir : ".");
	ran += run_target(t64) == 0;
	if (run_target(t32) == 0)
		ran++;
	else
		printf("SKIP part: %s is not built (no gcc -m32); the i386 vDSO is not checked\n", t32);
	if (!ran)
		SKIP("no target program");
	return test_result("test-step");
}
