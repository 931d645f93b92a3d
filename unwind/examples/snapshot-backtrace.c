/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
/* snapshot-backtrace TID: copies TID's registers and 64 KiB of its stack
 * (as a sampling profiler records them), lets it go, and unwinds the copy
 * with the vdsoscope snapshot table: the vDSO frame and its caller come from
 * the image and the copied stack alone. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <vdsoscope-unwind.h>

int main(int argc, char **argv)
{
	static unsigned char stack[65536];
	struct vdsoscope_unw_snapshot s = { 0 };
	struct vdsoscope_image *img = NULL;
	struct user_regs_struct u;
	unw_addr_space_t as;
	unw_cursor_t c;
	pid_t tid = argc > 1 ? atoi(argv[1]) : 0;
	int status, k = 0;
	ssize_t got;

	if (tid <= 0) {
		fprintf(stderr, "usage: snapshot-backtrace TID\n");
		return 2;
	}
	if (vdsoscope_open_pid(&img, tid, NULL)) {
		fprintf(stderr, "snapshot-backtrace: %s\n", vdsoscope_errmsg());
		return 1;
	}
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) || ptrace(PTRACE_INTERRUPT, tid, 0, 0) ||
	    waitpid(tid, &status, __WALL) != tid || ptrace(PTRACE_GETREGS, tid, 0, &u)) {
		perror("snapshot-backtrace: ptrace");
		return 1;
	}
	{
		struct iovec l = { stack, sizeof(stack) }, r = { (void *)u.rsp, sizeof(stack) };
		got = process_vm_readv(tid, &l, 1, &r, 1, 0);
	}
	ptrace(PTRACE_DETACH, tid, 0, 0);
	{
		const unsigned long long v[17] = { u.rax, u.rdx, u.rcx, u.rbx, u.rsi, u.rdi, u.rbp,
						   u.rsp, u.r8, u.r9, u.r10, u.r11, u.r12, u.r13,
						   u.r14, u.r15, u.rip };
		for (k = 0; k < 17; k++)
			s.regs[k] = v[k];
	}
	s.stack_addr = u.rsp;
	s.stack = stack;
	s.stack_size = got > 0 ? (size_t)got : 0;
	as = vdsoscope_unw_create_snapshot(img);
	if (!as || unw_init_remote(&c, as, &s))
		return 1;
	k = 0;
	do {
		unw_word_t ip, off;
		char name[256];
		unw_get_reg(&c, UNW_REG_IP, &ip);
		if (unw_get_proc_name(&c, name, sizeof(name), &off))
			snprintf(name, sizeof(name), "??"), off = 0;
		printf("#%d 0x%016lx %s+0x%lx\n", k, (unsigned long)ip, name, (unsigned long)off);
	} while (++k < 2 && unw_step(&c) > 0);
	vdsoscope_unw_destroy_addr_space(as);
	vdsoscope_image_close(img);
	return 0;
}
