/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* perf_data_replay_buffer on arbitrary bytes: the perf.data header, the
 * attributes, HEADER_BUILD_ID, the records in time order, each process's
 * maps, and every sample unwound.  Nothing of the machine that wrote the
 * input is looked for here: no sysroot, perf cache, store or debug
 * directory exists. */
#include <stdlib.h>
#include "perf-data.h"

static void sample(void *arg, struct pproc *p, pid_t tid, uint64_t time,
		   const struct vdsoscope_regs *regs, uint64_t stack_addr, const void *stack,
		   size_t len)
{
	struct vdsoscope_frame_info frames[PROFILE_MAX_FRAMES];
	unsigned int n;

	(void)tid;
	(void)time;
	psession_unwind(arg, p, regs, stack_addr, stack, len, frames, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const none[] = { NULL };
	struct perf_data_opts o = {
		.store = "/nonexistent",
		.debug_dirs = none,
		.buildid_dir = "/nonexistent",
	};
	struct psession s;
	struct replay_cb cb = { &s, sample, NULL, NULL };

	unsetenv("DEBUGINFOD_URLS");
	if (psession_init(&s))
		abort();
	vdsoscope_modules_set_sysroot(s.mods, "/nonexistent");
	perf_data_replay_buffer(&s, "fuzz", data, size, &o, &cb);
	psession_fini(&s);
	return 0;
}
