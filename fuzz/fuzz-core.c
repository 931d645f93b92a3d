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

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
	struct vdsoscope_image *img;
	size_t done = 0;

	if (fd < 0) {
		fd = memfd_create("fuzz-core", MFD_CLOEXEC);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0))
		abort();
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	if (vdsoscope_open_core(&img, path, &opts))
		return 0;
	fuzz_walk(img);
	vdsoscope_image_close(img);
	return 0;
}
