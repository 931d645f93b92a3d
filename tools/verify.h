/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VDSOSCOPE_VERIFY_H
#define VDSOSCOPE_VERIFY_H
#include <sys/types.h>
#include "vdsoscope.h"

/* An unwinder under test: from the registers IN of a stopped thread PID
 * whose IP is in IMG (or the vsyscall page), the registers of the first
 * caller outside the vDSO into OUT.  Returns 0 or a negative code. */
struct verify_unwinder {
	const char *name;
	int (*unwind)(void *ctx, const struct vdsoscope_image *img, pid_t pid,
		      const struct vdsoscope_regs *in, struct vdsoscope_regs *out);
	void *ctx;
};

/* The core's vdsoscope_step(), repeated while inside the vDSO. */
int verify_core_unwind(void *ctx, const struct vdsoscope_image *img, pid_t pid,
		       const struct vdsoscope_regs *in, struct vdsoscope_regs *out);

/* x86 builds: the path of helper program NAME ("vdsoscope-helper",
 * "vdsoscope-helper32") into OUT: $VDSOSCOPE_HELPER_DIR, beside the
 * command or one directory up, else the install directory.  0 when it is
 * there and executable. */
int verify_find_helper(const char *name, char *out, size_t len);

/* vdsoscope verify ARGS (ARGV[0] is "verify"); returns the exit status. */
int cmd_verify(int argc, char **argv);
#endif
