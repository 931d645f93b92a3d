/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An .eh_frame_hdr with its binary-search table and an .eh_frame, built
 * from compiled CFI rows, for unwinders that read unwind tables from the
 * target's memory (libunwind's UNW_INFO_FORMAT_REMOTE_TABLE): the hook
 * serves the bytes through access_mem at an address no process memory
 * can have. */
#ifndef VDSOSCOPE_EH_TABLE_H
#define VDSOSCOPE_EH_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <vdsoscope.h>

#define VS_HIDDEN __attribute__((visibility("hidden")))

struct vs_eh_table {
	unsigned char *bytes;   /* the header, its table, then .eh_frame */
	size_t size;
	uint64_t addr;          /* where BYTES are served: the header */
	uint64_t lo, hi;        /* the code the rows cover */
	uint64_t shift;         /* added to code addresses in the table and FDEs */
	uint64_t fde_count;
};

/* Row number IDX of CTX into *OUT; 0 or a negative code. */
typedef int (*vs_row_fn)(const void *ctx, size_t idx, struct vdsoscope_row *out);

/* Builds *T from the N rows GET gives (sorted by start, not overlapping)
 * of code for ARCH in byte order BIG, the header at ADDR.  Code address A
 * appears in the table and the FDEs as A + SHIFT (mod 2^64): the table's
 * 32-bit offsets from ADDR must reach every FDE and every shifted address.  IMG
 * encodes the rows' DWARF expressions (may be NULL when there are none).
 * Rows whose CFA is not known and registers at or above ARCH's nregs are
 * left out.  At most MAX bytes.  0, or -ENOMEM, -E2BIG (MAX, the 32-bit
 * offsets or the CIE kinds exceeded), -ENOENT (no row usable),
 * -VDSOSCOPE_E_BAD_EXPR. */
VS_HIDDEN int vs_eh_table_build(struct vs_eh_table *t, const struct vdsoscope_arch *arch,
				bool big, const struct vdsoscope_image *img, vs_row_fn get,
				const void *ctx, size_t n, uint64_t addr, uint64_t shift,
				size_t max);
VS_HIDDEN void vs_eh_table_free(struct vs_eh_table *t);

#endif
