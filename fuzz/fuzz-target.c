/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope_target_open_core on arbitrary bytes, written to a memfd: notes
 * (NT_PRSTATUS, NT_AUXV, NT_FILE), PT_LOADs, build-id notes read from the
 * core's memory; then every thread unwound, with the core's own vDSO when
 * it has one. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vdsoscope.h"
#include "vdsoscope-unwind.h"
#include "fuzz-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
	struct vdsoscope_frame_info frames[64];
	struct vdsoscope_modules *mods;
	struct vdsoscope_target *t;
	struct vdsoscope_image *img = NULL;
	const char *path = fuzz_file(data, size);
	size_t i;
	unsigned int n;

	if (!(mods = vdsoscope_modules_new()))
		abort();
	/* no file of the machine that wrote the input is this machine's */
	vdsoscope_modules_set_sysroot(mods, "/nonexistent");
	if (vdsoscope_target_open_core(&t, mods, path, NULL) == 0) {
		if (vdsoscope_open_core(&img, path, &opts) == 0)
			vdsoscope_space_set_vdso(vdsoscope_target_space(t), img);
		for (i = 0; i < vdsoscope_target_thread_count(t) && i < 64; i++)
			vdsoscope_target_unwind(t, i, frames, 64, &n);
		vdsoscope_target_close(t);
		vdsoscope_image_close(img);
	}
	vdsoscope_modules_free(mods);
	return 0;
}
