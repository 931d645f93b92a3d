/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VDSOSCOPE_ANALYZE_H
#define VDSOSCOPE_ANALYZE_H
/* What every analyze-ARCH.c shares: the list of paths still to follow, the
 * rows of reached instructions, and the walk over the functions without
 * CFI and their callees. */
#include <stddef.h>
#include <stdint.h>
#include "internal.h"

/* Paths to follow: an address and the architecture's state there. */
struct vs_work {
	uint64_t *addr;       /* link-time */
	unsigned char *st;    /* states of size bytes each */
	size_t n, cap, size;
};

static inline void vs__work_init(struct vs_work *w, size_t size)
{
	w->addr = NULL;
	w->st = NULL;
	w->n = w->cap = 0;
	w->size = size;
}
VS_HIDDEN int vs__work_push(struct vs_work *w, uint64_t addr, const void *state);
/* The last path pushed into ADDR and STATE: 1, or 0 when none is left. */
VS_HIDDEN int vs__work_pop(struct vs_work *w, uint64_t *addr, void *state);
VS_HIDDEN void vs__work_free(struct vs_work *w);

/* Rows in address order; a row equal to the one before and adjacent to it
 * extends it. */
struct vs_rows {
	struct vs_synth *v;
	size_t n, cap;
};
/* ROW for [START, START + LEN). */
VS_HIDDEN int vs__rows_add(struct vs_rows *r, struct vs_synth *row, uint64_t start, uint64_t len);

/* 1 when an FDE covers ADDR (link-time). */
VS_HIDDEN int vs__covered_by_cfi(const struct vs_data *d, uint64_t addr);

/* One function of an architecture: follows every path from ENTRY (link-time;
 * HI: where the next function starts), adds the rows of the instructions it
 * reached to ROWS and the calls it saw to CALLS (at most VS_MAX_CALLS).
 * Returns 0, -1 when the function must be left alone (no rows added), or
 * -ENOMEM. */
typedef int (*vs_analyze_fn)(const struct vs_data *d, uint64_t entry, uint64_t hi,
			     uint64_t *calls, size_t *ncalls, struct vs_rows *rows);
#define VS_MAX_CALLS 256

/* The rows of the functions at STARTS that no FDE covers (those WANTED
 * says yes to, when it is given), and of the callees they reach at
 * addresses that are multiples of ALIGN. */
VS_HIDDEN int vs__analyze_run(struct vs_data *d, const uint64_t *starts, size_t nstarts,
			      unsigned int align, int (*wanted)(const struct vs_data *, uint64_t),
			      vs_analyze_fn fn, struct vs_synth **out, size_t *nout);

#endif
