/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The walk every instruction analyzer shares. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyze.h"

int vs__work_push(struct vs_work *w, uint64_t addr, const void *state)
{
	if (w->n == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 64;
		uint64_t *a = realloc(w->addr, nc * sizeof(*a));
		unsigned char *st;
		if (!a)
			return -ENOMEM;
		w->addr = a;
		st = realloc(w->st, nc * w->size);
		if (!st)
			return -ENOMEM;
		w->st = st;
		w->cap = nc;
	}
	w->addr[w->n] = addr;
	memcpy(w->st + w->n * w->size, state, w->size);
	w->n++;
	return 0;
}

int vs__work_pop(struct vs_work *w, uint64_t *addr, void *state)
{
	if (!w->n)
		return 0;
	w->n--;
	*addr = w->addr[w->n];
	memcpy(state, w->st + w->n * w->size, w->size);
	return 1;
}

void vs__work_free(struct vs_work *w)
{
	free(w->addr);
	free(w->st);
	vs__work_init(w, w->size);
}

static int synth_same(const struct vs_synth *a, const struct vs_synth *b)
{
	return a->func == b->func && a->cfa_reg == b->cfa_reg && a->cfa_off == b->cfa_off &&
	       a->ra == b->ra && a->ra_signed == b->ra_signed && a->signal == b->signal &&
	       a->nrules == b->nrules &&
	       !memcmp(a->rules, b->rules, a->nrules * sizeof(a->rules[0]));
}

int vs__rows_add(struct vs_rows *r, struct vs_synth *row, uint64_t start, uint64_t len)
{
	if (r->n && r->v[r->n - 1].end == start && synth_same(&r->v[r->n - 1], row)) {
		r->v[r->n - 1].end += len;
		return 0;
	}
	if (r->n == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 256;
		struct vs_synth *v = realloc(r->v, nc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = nc;
	}
	row->start = start;
	row->end = start + len;
	r->v[r->n++] = *row;
	return 0;
}

int vs__covered_by_cfi(const struct vs_data *d, uint64_t addr)
{
	size_t i;

	for (i = 0; i < d->nfdes; i++)
		if (addr >= d->fdes[i][0] && addr < d->fdes[i][1])
			return 1;
	return 0;
}

/* Where the function at ENTRY ends: its symbol's end, or where the next
 * function starts. */
static uint64_t func_end(const struct vs_data *d, const uint64_t *todo, size_t ntodo,
			 uint64_t entry)
{
	uint64_t hi = d->text_hi;
	size_t i;

	for (i = 0; i < d->nfuncs; i++) {
		const struct vs_func *f = &d->funcs[i];
		if (f->start > entry && f->start < hi)
			hi = f->start;
		if (f->start == entry && f->end > entry && f->end < hi)
			hi = f->end;
	}
	for (i = 0; i < ntodo; i++)
		if (todo[i] > entry && todo[i] < hi)
			hi = todo[i];
	return hi;
}

int vs__analyze_run(struct vs_data *d, const uint64_t *starts, size_t nstarts,
		    unsigned int align, int (*wanted)(const struct vs_data *, uint64_t),
		    vs_analyze_fn fn, struct vs_synth **out, size_t *nout)
{
	uint64_t calls[VS_MAX_CALLS], todo[VS_MAX_CALLS];
	size_t ntodo = 0, ncalls, i, j, k;
	struct vs_rows rows = { 0 };
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (d->text_hi <= d->text_lo || d->text_hi - d->text_lo > (1u << 20) ||
	    d->text_lo < d->link_base || d->text_hi - d->link_base > d->size)
		return 0;
	for (i = 0; i < nstarts && ntodo < VS_MAX_CALLS; i++)
		if (!vs__covered_by_cfi(d, starts[i]) && (!wanted || wanted(d, starts[i])))
			todo[ntodo++] = starts[i];
	for (k = 0; k < ntodo && rc != -ENOMEM; k++) {
		ncalls = 0;
		rc = fn(d, todo[k], func_end(d, todo, ntodo, todo[k]), calls, &ncalls, &rows);
		if (rc)
			continue;
		/* callees without CFI and not yet queued are functions too */
		for (i = 0; i < ncalls; i++) {
			int known = vs__covered_by_cfi(d, calls[i]) || calls[i] < d->text_lo ||
				    calls[i] >= d->text_hi || calls[i] % align;
			for (j = 0; j < ntodo && !known; j++)
				known = todo[j] == calls[i];
			if (!known && ntodo < VS_MAX_CALLS)
				todo[ntodo++] = calls[i];
		}
	}
	if (rc == -ENOMEM) {
		free(rows.v);
		return rc;
	}
	*out = rows.v;
	*nout = rows.n;
	return 0;
}
