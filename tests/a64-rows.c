/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rows the aarch64 analyzer computes for the functions of FILE:
 *   a64-rows FILE
 * prints "START END SIGNED CFA_REG CFA_OFF REG:KIND:OFF..." (hex addresses,
 * link-time), one line per row. */
#include "config.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

int main(int argc, char **argv)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_CACHE);
	struct vdsoscope_image *img;
	struct vs_synth *rows;
	uint64_t *starts;
	size_t n, i, k;
	struct vs_data *d;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: a64-rows FILE\n");
		return 2;
	}
	if ((rc = vdsoscope_open_file(&img, argv[1], &opts))) {
		fprintf(stderr, "a64-rows: %s: %s\n", argv[1], vdsoscope_strerror(rc));
		return 1;
	}
	d = img->d;
	starts = calloc(d->nfuncs + 1, sizeof(*starts));
	if (!starts)
		return 1;
	for (i = 0; i < d->nfuncs; i++)
		starts[i] = d->funcs[i].start;
	if ((rc = vs__analyze_aarch64(d, starts, d->nfuncs, &rows, &n))) {
		fprintf(stderr, "a64-rows: %s: %s\n", argv[1], vdsoscope_strerror(rc));
		return 1;
	}
	for (i = 0; i < n; i++) {
		printf("%" PRIx64 " %" PRIx64 " %u %u %d", rows[i].start, rows[i].end,
		       rows[i].ra_signed, rows[i].cfa_reg, rows[i].cfa_off);
		for (k = 0; k < rows[i].nrules; k++)
			printf(" %u:%u:%d", rows[i].rules[k].reg, rows[i].rules[k].kind,
			       rows[i].rules[k].off);
		printf("\n");
	}
	free(rows);
	free(starts);
	vdsoscope_image_close(img);
	return 0;
}
