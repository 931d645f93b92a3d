/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope_open_buffer on arbitrary bytes: ELF and program headers, the
 * dynamic segment, hash tables, symbols, versions, notes, section headers
 * and CFI through libdw; then every query of what opened, and the
 * .eh_frame_hdr/.eh_frame the libunwind hook writes from the rows. */
#include <stddef.h>
#include <stdint.h>
#include "vdsoscope.h"
#include "fuzz-common.h"
#include "eh-table.h"

static int row(const void *ctx, size_t idx, struct vdsoscope_row *out)
{
	return vdsoscope_cfi_get(ctx, idx, out);
}

/* As the hook places it for 64-bit images; above the image for others. */
static void eh_table(const struct vdsoscope_image *img)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);
	struct vs_eh_table t;
	uint64_t addr, shift = 0;
	size_t size;

	if (!a)
		return;
	vdsoscope_image_data(img, &size);
	addr = (vdsoscope_load_address(img) + size + 4095) & ~4095ull;
	if (a->addr_size == 8) {
		addr = 0xffff800000000000ull;
		shift = addr + 0x40000000ull - vdsoscope_load_address(img);
	}
	if (!vs_eh_table_build(&t, a, vdsoscope_big_endian(img), img, row, img,
			       vdsoscope_cfi_count(img), addr, shift, 1u << 20)) {
		volatile unsigned char sink = t.size ? t.bytes[t.size - 1] : 0;
		(void)sink;
		vs_eh_table_free(&t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
	struct vdsoscope_image *img;

	if (vdsoscope_open_buffer(&img, data, size, &opts))
		return 0;
	fuzz_walk(img);
	eh_table(img);
	vdsoscope_image_close(img);
	return 0;
}
