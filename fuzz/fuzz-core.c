/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope_open_core on arbitrary bytes, written to a memfd and opened by
 * its /proc/self/fd path: ELF header, program headers, notes, NT_AUXV, the
 * PT_LOAD holding the vDSO, then the image inside it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vdsoscope.h"
#include "fuzz-common.h"
#include "fuzz-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
	struct vdsoscope_image *img;
	const char *path = fuzz_file(data, size);

	if (vdsoscope_open_core(&img, path, &opts))
		return 0;
	fuzz_walk(img);
	vdsoscope_image_close(img);
	return 0;
}
