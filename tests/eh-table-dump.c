/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* eh-table-dump IMAGE OUT: the .eh_frame_hdr and .eh_frame the libunwind
 * hook builds from IMAGE's compiled rows (any architecture the library has
 * a register table for), with code at its link-time addresses and the
 * header where the image ends, written to OUT.  Prints "ADDR EH_FRAME_OFFSET
 * SIZE FDES" for tests/elfmut.py's wrap-eh-frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vdsoscope.h"
#include "eh-table.h"

static int row(const void *ctx, size_t idx, struct vdsoscope_row *out)
{
	return vdsoscope_cfi_get(ctx, idx, out);
}

int main(int argc, char **argv)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG);
	struct vdsoscope_image *img;
	struct vs_eh_table t;
	size_t size, eh;
	uint64_t addr;
	FILE *f;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: eh-table-dump IMAGE OUT\n");
		return 2;
	}
	if (vdsoscope_open_file(&img, argv[1], &opts)) {
		fprintf(stderr, "eh-table-dump: %s\n", vdsoscope_errmsg());
		return 1;
	}
	vdsoscope_image_data(img, &size);
	addr = (vdsoscope_load_address(img) + size + 4095) & ~4095ull;
	rc = vs_eh_table_build(&t, vdsoscope_arch(img), vdsoscope_big_endian(img), img, row, img,
			       vdsoscope_cfi_count(img), addr, 0, 1u << 24);
	if (rc) {
		fprintf(stderr, "eh-table-dump: %s: %s\n", argv[1], vdsoscope_strerror(rc));
		return 1;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(t.bytes, 1, t.size, f) != t.size || fclose(f)) {
		perror(argv[2]);
		return 1;
	}
	/* the header's eh_frame_ptr, pcrel from its own field */
	eh = 4 + (size_t)(t.bytes[4] | t.bytes[5] << 8 | t.bytes[6] << 16 | (uint32_t)t.bytes[7] << 24);
	if (vdsoscope_big_endian(img))
		eh = 4 + (size_t)((uint32_t)t.bytes[4] << 24 | t.bytes[5] << 16 | t.bytes[6] << 8 | t.bytes[7]);
	printf("0x%llx %zu %zu %llu\n", (unsigned long long)addr, eh, t.size,
	       (unsigned long long)t.fde_count);
	vs_eh_table_free(&t);
	vdsoscope_image_close(img);
	return 0;
}
