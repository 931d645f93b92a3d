/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdso-stop [--vsyscall] PID: stops every thread of PID with its instruction
 * pointer inside the vDSO's code (or x86_64's vsyscall page) and leaves the process in group-stop (as after
 * SIGSTOP), so that several tools can unwind the same state.
 *
 * Each thread is seized and interrupted under ptrace, then single-stepped
 * until its IP is in the [vdso] mapping (threads blocked in a system call
 * are left where they are: their IP is already there or will not move).
 * Prints "TID IP SP" per thread, the registers ptrace saw: the truth for
 * the innermost frame.  Exits 0 once every thread is in state T.
 */
#include <dirent.h>
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

#define MAX_THREADS 64
#define MAX_STEPS 1000000

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

static char state_of(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : 0;
}

/* The in-syscall check: orig_rax >= 0 and the IP right after a syscall. */
static int in_syscall(pid_t tid)
{
	char path[64], buf[64];
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	if ((f = fopen(path, "r"))) {
		r = fgets(buf, sizeof(buf), f) && strncmp(buf, "running", 7) && buf[0] != '-';
		fclose(f);
	}
	return r;
}

int main(int argc, char **argv)
{
	pid_t pid, tids[MAX_THREADS];
	struct user_regs_struct regs[MAX_THREADS];
	int n = 0, i, st, all;
	char path[64];
	struct dirent *de;
	DIR *d;

	if (argc == 3 && !strcmp(argv[1], "--vsyscall")) {
		/* x86_64's vsyscall page instead of the vDSO */
		vlo = 0xffffffffff600000ul;
		vhi = 0xffffffffff601000ul;
		argv++;
		argc--;
	}
	if (argc != 2 || (pid = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: vdso-stop [--vsyscall] PID\n");
		return 2;
	}
	if (!vhi && vdso_range(pid)) {
		fprintf(stderr, "vdso-stop: pid %d: no [vdso] mapping\n", (int)pid);
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path))) {
		perror(path);
		return 1;
	}
	while ((de = readdir(d)) && n < MAX_THREADS)
		if (atoi(de->d_name) > 0)
			tids[n++] = atoi(de->d_name);
	closedir(d);
	for (i = 0; i < n; i++) {
		int blocked = in_syscall(tids[i]);
		long steps = 0;

		if (ptrace(PTRACE_SEIZE, tids[i], 0, 0) || ptrace(PTRACE_INTERRUPT, tids[i], 0, 0) ||
		    waitpid(tids[i], &st, __WALL) != tids[i]) {
			fprintf(stderr, "vdso-stop: thread %d: %s\n", (int)tids[i], strerror(errno));
			return 1;
		}
		for (;;) {
			if (ptrace(PTRACE_GETREGS, tids[i], 0, &regs[i])) {
				perror("PTRACE_GETREGS");
				return 1;
			}
			if (blocked || (regs[i].rip >= vlo && regs[i].rip < vhi))
				break;
			if (++steps > MAX_STEPS) {
				fprintf(stderr, "vdso-stop: thread %d never entered the vDSO\n",
					(int)tids[i]);
				return 1;
			}
			if (ptrace(PTRACE_SINGLESTEP, tids[i], 0, 0) ||
			    waitpid(tids[i], &st, __WALL) != tids[i]) {
				perror("PTRACE_SINGLESTEP");
				return 1;
			}
		}
	}
	/* pending for the whole process: every thread stops when it leaves
	 * the ptrace stop, before running any instruction */
	kill(pid, SIGSTOP);
	for (i = 0; i < n; i++)
		ptrace(PTRACE_DETACH, tids[i], 0, 0);
	do {
		all = 1;
		for (i = 0; i < n; i++)
			if (state_of(pid, tids[i]) != 'T')
				all = 0;
		if (!all)
			sched_yield();
	} while (!all);
	for (i = 0; i < n; i++)
		printf("%d 0x%llx 0x%llx\n", (int)tids[i], (unsigned long long)regs[i].rip,
		       (unsigned long long)regs[i].rsp);
	return 0;
}
