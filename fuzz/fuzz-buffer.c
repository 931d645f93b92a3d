/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope_open_buffer on arbitrary bytes: ELF and program headers, the
 * dynamic segment, hash tables, symbols, versions, notes, section headers
 * and CFI through libdw; then every query of what opened. */
#include <stddef.h>
#include <stdint.h>
#include "vdsoscope.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
	struct vdsoscope_image *img;

	if (vdsoscope_open_buffer(&img, data, size, &opts))
		return 0;
	fuzz_walk(img);
	vdsoscope_image_close(img);
	return 0;
}
