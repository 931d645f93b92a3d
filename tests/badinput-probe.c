/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library calls the command does not make, on a file:
 *   badinput-probe lookup FILE NAME      vdsoscope_lookup (any version)
 *   badinput-probe step FILE             vdsoscope_step at every row's start,
 *                                        registers 0x1000, memory all zero
 * Prints "ok" or the error's name and message; exit 0 or 1. */
#include <stdio.h>
#include <string.h>
#include "vdsoscope.h"

static int read_zero(void *arg, uint64_t addr, void *buf, size_t len)
{
	memset(buf, 0, len);
	return 0;
}

static int report(int rc, const char *what)
{
	if (rc >= 0) {
		printf("ok\n");
		return 0;
	}
	fprintf(stderr, "badinput-probe: %s: %s: %s\n", what, vdsoscope_err_name(rc),
		*vdsoscope_errmsg() ? vdsoscope_errmsg() : vdsoscope_strerror(rc));
	return 1;
}

int main(int argc, char **argv)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
	struct vdsoscope_image *img;
	int rc;

	if (argc < 3)
		return 2;
	if ((rc = vdsoscope_open_file(&img, argv[2], &opts)))
		return report(rc, "open");
	if (!strcmp(argv[1], "lookup") && argc == 4) {
		uint64_t a;
		rc = report(vdsoscope_lookup(img, argv[3], NULL, &a), "lookup");
	} else if (!strcmp(argv[1], "step")) {
		const struct vdsoscope_arch *arch = vdsoscope_arch(img);
		size_t i, n = vdsoscope_cfi_count(img);
		int err = 0;

		for (i = 0; arch && i < n && !err; i++) {
			struct vdsoscope_row row;
			struct vdsoscope_regs r;
			unsigned int k;

			vdsoscope_cfi_get(img, i, &row);
			vdsoscope_regs_clear(&r);
			for (unsigned int k = 0; k < arch->nregs && k < VDSOSCOPE_MAX_REGS; k++)
				r.valid[k / 64] |= 1ull << (k % 64);
			for (k = 0; k < VDSOSCOPE_MAX_REGS; k++)
				r.r[k] = 0x1000;
			r.r[arch->ip_reg] = row.start;
			err = vdsoscope_step(img, &r, 0, read_zero, NULL, &r, NULL);
		}
		rc = report(err, "step");
	} else {
		rc = 2;
	}
	vdsoscope_image_close(img);
	return rc;
}
