/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdso-walk PID MAX COMMAND: single-steps the single-threaded process PID
 * and stops it at each distinct instruction address inside its vDSO once,
 * up to MAX stops, until MAX_IDLE calls into the vDSO found no new address.
 * At each stop the process is left in group-stop (as after SIGSTOP) and
 * untraced, and COMMAND runs under /bin/sh with
 *   WALK_N     the stop's number (1, 2, ...)
 *   WALK_IP    the instruction pointer (hex)
 *   WALK_RA    the return address the call into the vDSO pushed: the
 *              first frame outside the vDSO (hex)
 *   WALK_CALL  the number of the call into the vDSO the stop is in
 *   WALK_ENTRY 1 when the stop is at the instruction the call entered at
 * then the process is traced again.  A COMMAND that fails ends the walk.
 * Prints "stops N calls C" at the end.  The target's stack words are 4
 * bytes (an i386 process) unless WALK_WORD=8.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_IDLE 300
#define MAX_STEPS 50000000L

static unsigned long vlo, vhi;

static int vdso_range(pid_t pid)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &vlo, &vhi) == 2)
			break;
	fclose(f);
	return vlo ? 0 : -1;
}

static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : 0;
}

static int wait_stop(pid_t pid, int *sig)
{
	int st;

	if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st)) {
		fprintf(stderr, "vdso-walk: pid %d: %s\n", (int)pid,
			WIFEXITED(st) || WIFSIGNALED(st) ? "exited" : strerror(errno));
		return -1;
	}
	*sig = WSTOPSIG(st);
	return 0;
}

/* Leaves PID in group-stop, untraced, runs COMMAND, traces it again.
 * Returns COMMAND's status, or -1. */
static int stop_and_run(pid_t pid, const char *cmd)
{
	pid_t child;
	int st, sig;

	kill(pid, SIGSTOP);
	ptrace(PTRACE_DETACH, pid, 0, 0);
	while (state_of(pid) != 'T')
		sched_yield();
	child = fork();
	if (child == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (child < 0 || waitpid(child, &st, 0) != child)
		return -1;
	/* traced again, then woken: it stops for SIGCONT before running */
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) || kill(pid, SIGCONT) || wait_stop(pid, &sig))
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int seen_has(unsigned char *seen, unsigned long ip)
{
	unsigned long o = ip - vlo;
	int r = seen[o / 8] >> (o % 8) & 1;

	seen[o / 8] |= (unsigned char)(1u << (o % 8));
	return r;
}

int main(int argc, char **argv)
{
	struct user_regs_struct regs;
	unsigned char *seen;
	unsigned long ra = 0, entry_ip = 0, stopped_ip = 0;
	long steps = 0, idle = 0, max, stops = 0, calls = 0;
	int was_in = 1, sig = 0, word = 4;
	char v[64];
	pid_t pid;

	if (argc != 4 || (pid = atoi(argv[1])) <= 0 || (max = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: vdso-walk PID MAX COMMAND\n");
		return 2;
	}
	if (getenv("WALK_WORD") && atoi(getenv("WALK_WORD")) == 8)
		word = 8;
	if (vdso_range(pid) || !(seen = calloc((vhi - vlo) / 8 + 1, 1))) {
		fprintf(stderr, "vdso-walk: pid %d: no [vdso] mapping\n", (int)pid);
		return 1;
	}
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) || ptrace(PTRACE_INTERRUPT, pid, 0, 0) ||
	    wait_stop(pid, &sig)) {
		fprintf(stderr, "vdso-walk: pid %d: %s\n", (int)pid, strerror(errno));
		return 1;
	}
	for (;;) {
		int in;

		if (ptrace(PTRACE_GETREGS, pid, 0, &regs)) {
			perror("vdso-walk: PTRACE_GETREGS");
			return 1;
		}
		in = regs.rip >= vlo && regs.rip < vhi;
		/* stopped inside a call: where it came from is not known */
		if (was_in && !ra && !calls) {
			was_in = in;
			goto step;
		}
		if (in && !was_in) {
			errno = 0;
			ra = (unsigned long)ptrace(PTRACE_PEEKDATA, pid, regs.rsp, 0);
			if (word == 4)
				ra &= 0xffffffffUL;
			entry_ip = regs.rip;
			calls++;
			if (++idle > MAX_IDLE)
				break;
		}
		was_in = in;
		if (in && !seen_has(seen, regs.rip)) {
			int rc;
			idle = 0;
			stops++;
			snprintf(v, sizeof(v), "%ld", stops);
			setenv("WALK_N", v, 1);
			snprintf(v, sizeof(v), "%lx", (unsigned long)regs.rip);
			setenv("WALK_IP", v, 1);
			snprintf(v, sizeof(v), "%lx", ra);
			setenv("WALK_RA", v, 1);
			snprintf(v, sizeof(v), "%ld", calls);
			setenv("WALK_CALL", v, 1);
			setenv("WALK_ENTRY", regs.rip == entry_ip ? "1" : "0", 1);
			stopped_ip = regs.rip;
			rc = stop_and_run(pid, argv[3]);
			if (rc) {
				fprintf(stderr, "vdso-walk: stop %ld: command exited %d\n", stops, rc);
				return 1;
			}
			if (ptrace(PTRACE_GETREGS, pid, 0, &regs)) {
				perror("vdso-walk: PTRACE_GETREGS");
				return 1;
			}
			/* the command let it run: the call it was in is not known */
			if (regs.rip != stopped_ip) {
				fprintf(stderr, "vdso-walk: stop %ld: the process ran on\n", stops);
				return 1;
			}
			if (stops == max)
				break;
		}
		if (++steps > MAX_STEPS) {
			fprintf(stderr, "vdso-walk: %ld steps\n", steps);
			break;
		}
	step:
		/* a stop for another reason (SIGCONT, a group-stop after the
		 * command) ran no instruction: the IP is looked at again */
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) || wait_stop(pid, &sig))
			return 1;
	}
	printf("stops %ld calls %ld\n", stops, calls);
	ptrace(PTRACE_DETACH, pid, 0, 0);
	free(seen);
	return 0;
}
