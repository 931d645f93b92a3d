/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One vdsoscope_step() at each address ADDR (hex, link-time) of FILE:
 *   cfi-step FILE ADDR...
 * Register N of the callee holds 0x10000 * (N + 1) + 0x100, the IP holds
 * ADDR; memory byte X reads as (X * 131 + 7) & 0xff.  Prints, per address,
 * "ADDR ok NAME=VALUE..." with the caller's known registers (by DWARF
 * number order, names from the arch, else rN) or "ADDR error MESSAGE". */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "vdsoscope.h"

static int read_pattern(void *arg, uint64_t addr, void *buf, size_t len)
{
	unsigned char *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)((addr + i) * 131 + 7);
	return 0;
}

int main(int argc, char **argv)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_CACHE);
	const struct vdsoscope_arch *a;
	struct vdsoscope_image *img;
	int i, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: cfi-step FILE ADDR...\n");
		return 2;
	}
	if ((rc = vdsoscope_open_file(&img, argv[1], &opts))) {
		fprintf(stderr, "cfi-step: %s: %s\n", argv[1], vdsoscope_strerror(rc));
		return 1;
	}
	if (!(a = vdsoscope_arch(img))) {
		fprintf(stderr, "cfi-step: %s: no register table\n", argv[1]);
		vdsoscope_image_close(img);
		return 1;
	}
	for (i = 2; i < argc; i++) {
		struct vdsoscope_regs in = { 0 }, out = { 0 };
		uint64_t pc = strtoull(argv[i], NULL, 16);
		unsigned int r;

		for (r = 0; r < a->nregs; r++) {
			in.r[r] = 0x10000ull * (r + 1) + 0x100;
			in.valid[r / 64] |= 1ull << (r % 64);
		}
		in.r[a->ip_reg] = pc;
		rc = vdsoscope_step(img, &in, 0, read_pattern, NULL, &out, NULL);
		if (rc) {
			printf("%" PRIx64 " error %s\n", pc, vdsoscope_errmsg());
			continue;
		}
		printf("%" PRIx64 " ok", pc);
		for (r = 0; r < a->nregs; r++)
			if (vdsoscope_regs_has(&out, r)) {
				if (vdsoscope_arch_reg_name(a, r))
					printf(" %s=%" PRIx64, vdsoscope_arch_reg_name(a, r), out.r[r]);
				else
					printf(" r%u=%" PRIx64, r, out.r[r]);
			}
		printf("\n");
	}
	vdsoscope_image_close(img);
	return 0;
}
