/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compiled CFI rows written back as .eh_frame_hdr and .eh_frame.
 *
 * Layout: the header (version 1; eh_frame_ptr pcrel sdata4; fde_count
 * udata4; table datarel sdata4, relative to the header), its table, then
 * .eh_frame: one CIE per return-address column and signal-frame flag, each
 * written just before the first FDE that uses it ("zR" or "zRS", code
 * alignment 1, FDE addresses absolute), and one FDE per run of contiguous
 * rows of one source FDE.  An FDE states its first row in full and each
 * further row as DW_CFA_advance_loc and the rules that changed. */
#include "config.h"
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "eh-table.h"
#include "dwarf-write.h"

struct out {
	unsigned char *p;
	size_t len, cap, max;
	int err;
	bool big;
};

static void reserve(struct out *o, size_t more)
{
	size_t nc;
	unsigned char *p;

	if (o->err)
		return;
	if (more > o->max - o->len) {
		o->err = -E2BIG;
		return;
	}
	if (o->len + more <= o->cap)
		return;
	nc = o->cap ? o->cap : 1024;
	while (nc < o->len + more)
		nc *= 2;
	if (nc > o->max)
		nc = o->max;
	p = realloc(o->p, nc);
	if (!p) {
		o->err = -ENOMEM;
		return;
	}
	o->p = p;
	o->cap = nc;
}

static void put(struct out *o, const void *b, size_t n)
{
	reserve(o, n);
	if (o->err)
		return;
	memcpy(o->p + o->len, b, n);
	o->len += n;
}

static void u8(struct out *o, unsigned int v)
{
	unsigned char b = (unsigned char)v;
	put(o, &b, 1);
}

static void fixed(struct out *o, uint64_t v, unsigned int n)
{
	uint8_t b[8];

	vs_put_fixed(b, v, n, o->big);
	put(o, b, n);
}

/* Overwrites N bytes at OFF (space already written). */
static void patch(struct out *o, size_t off, uint64_t v, unsigned int n)
{
	if (!o->err)
		vs_put_fixed(o->p + off, v, n, o->big);
}

static void uleb(struct out *o, uint64_t v)
{
	uint8_t b[10];

	put(o, b, vs_uleb128(b, v));
}

static void sleb(struct out *o, int64_t v)
{
	uint8_t b[10];

	put(o, b, vs_sleb128(b, v));
}

static void pad(struct out *o, size_t start, unsigned int align)
{
	while (!o->err && (o->len - start) % align)
		u8(o, DW_CFA_nop);
}

/* A rule's expression as a block: ULEB length, then the bytes. */
static int expr_block(struct out *o, const struct vdsoscope_image *img,
		      const struct vdsoscope_rule *r)
{
	int n = img ? vdsoscope_rule_expr(img, r, NULL, 0) : -VDSOSCOPE_E_INVALID;

	if (n < 0)
		return n;
	uleb(o, (uint64_t)n);
	reserve(o, (size_t)n);
	if (o->err)
		return o->err;
	vdsoscope_rule_expr(img, r, o->p + o->len, (size_t)n);
	o->len += (size_t)n;
	return 0;
}

static bool same_rule(const struct vdsoscope_rule *a, const struct vdsoscope_rule *b)
{
	return a->kind == b->kind && a->reg == b->reg && a->off == b->off && a->expr == b->expr &&
	       a->expr_len == b->expr_len;
}

static bool cfa_known(const struct vdsoscope_rule *r)
{
	return r->kind == VDSOSCOPE_RULE_CFA_REG_OFFSET || r->kind == VDSOSCOPE_RULE_CFA_EXPRESSION;
}

struct state {
	struct vdsoscope_rule cfa;
	struct vdsoscope_rule regs[VDSOSCOPE_MAX_REGS];
};

static void emit_cfa(struct out *o, const struct vdsoscope_image *img, const struct vdsoscope_rule *prev,
		     const struct vdsoscope_rule *r, int64_t data_align, int *rc)
{
	if (r->kind == VDSOSCOPE_RULE_CFA_EXPRESSION) {
		u8(o, DW_CFA_def_cfa_expression);
		*rc = expr_block(o, img, r);
		return;
	}
	if (r->off >= 0 && prev->kind == VDSOSCOPE_RULE_CFA_REG_OFFSET && prev->reg == r->reg) {
		u8(o, DW_CFA_def_cfa_offset);
		uleb(o, (uint64_t)r->off);
	} else if (r->off >= 0 && prev->kind == VDSOSCOPE_RULE_CFA_REG_OFFSET && prev->off == r->off) {
		u8(o, DW_CFA_def_cfa_register);
		uleb(o, r->reg);
	} else if (r->off >= 0) {
		u8(o, DW_CFA_def_cfa);
		uleb(o, r->reg);
		uleb(o, (uint64_t)r->off);
	} else {
		u8(o, DW_CFA_def_cfa_sf);
		uleb(o, r->reg);
		sleb(o, r->off / data_align);
	}
}

/* The caller's value of REG is CFA + OFF: DW_CFA_val_offset is not in
 * libunwind 1.6, so it is written as the expression. */
static void val_offset(struct out *o, unsigned int reg, int64_t off)
{
	unsigned char b[16];
	struct out e = { .p = b, .cap = sizeof(b), .max = sizeof(b) };

	if (off >= 0) {
		u8(&e, DW_OP_plus_uconst);
		uleb(&e, (uint64_t)off);
	} else {
		u8(&e, DW_OP_consts);
		sleb(&e, off);
		u8(&e, DW_OP_plus);
	}
	u8(o, DW_CFA_val_expression);
	uleb(o, reg);
	uleb(o, e.len);
	put(o, b, e.len);
}

static void emit_reg(struct out *o, const struct vdsoscope_image *img, unsigned int reg,
		     const struct vdsoscope_rule *r, int64_t data_align, int *rc)
{
	int64_t f;

	switch (r->kind) {
	case VDSOSCOPE_RULE_UNSPECIFIED:
		/* back to the CIE's state, which says nothing */
		u8(o, DW_CFA_restore_extended);
		uleb(o, reg);
		break;
	case VDSOSCOPE_RULE_UNDEFINED:
		u8(o, DW_CFA_undefined);
		uleb(o, reg);
		break;
	case VDSOSCOPE_RULE_SAME:
		u8(o, DW_CFA_same_value);
		uleb(o, reg);
		break;
	case VDSOSCOPE_RULE_OFFSET:
		f = r->off / data_align;
		if (reg < 64 && f >= 0) {
			u8(o, DW_CFA_offset | reg);
			uleb(o, (uint64_t)f);
		} else {
			u8(o, DW_CFA_offset_extended_sf);
			uleb(o, reg);
			sleb(o, f);
		}
		break;
	case VDSOSCOPE_RULE_VAL_OFFSET:
		val_offset(o, reg, r->off);
		break;
	case VDSOSCOPE_RULE_REGISTER:
		u8(o, DW_CFA_register);
		uleb(o, reg);
		uleb(o, r->reg);
		break;
	case VDSOSCOPE_RULE_EXPRESSION:
	case VDSOSCOPE_RULE_VAL_EXPRESSION:
		u8(o, r->kind == VDSOSCOPE_RULE_EXPRESSION ? DW_CFA_expression : DW_CFA_val_expression);
		uleb(o, reg);
		*rc = expr_block(o, img, r);
		break;
	default:
		*rc = -VDSOSCOPE_E_BAD_CFI;
	}
}

/* The rule row R gives register REG, as written: an unspecified return
 * address column ends the stack, as it ends vdsoscope_step(). */
static struct vdsoscope_rule rule_of(const struct vdsoscope_row *r, unsigned int reg)
{
	struct vdsoscope_rule u = { .kind = VDSOSCOPE_RULE_UNSPECIFIED };

	if (reg < r->nregs)
		u = r->regs[reg];
	if (reg == r->ra_reg && u.kind == VDSOSCOPE_RULE_UNSPECIFIED)
		u.kind = VDSOSCOPE_RULE_UNDEFINED;
	return u;
}

/* Instructions from state S (updated) to row R. */
static int emit_row(struct out *o, const struct vdsoscope_image *img, unsigned int nregs,
		    struct state *s, const struct vdsoscope_row *r, int64_t data_align)
{
	unsigned int reg;
	int rc = 0;

	if (!same_rule(&s->cfa, &r->cfa)) {
		emit_cfa(o, img, &s->cfa, &r->cfa, data_align, &rc);
		s->cfa = r->cfa;
	}
	for (reg = 0; reg < nregs && !rc; reg++) {
		struct vdsoscope_rule u = rule_of(r, reg);
		if (same_rule(&s->regs[reg], &u))
			continue;
		emit_reg(o, img, reg, &u, data_align, &rc);
		s->regs[reg] = u;
	}
	return rc ? rc : o->err;
}

static void advance(struct out *o, uint64_t delta)
{
	if (delta < 0x40) {
		u8(o, DW_CFA_advance_loc | (unsigned int)delta);
	} else if (delta <= 0xff) {
		u8(o, DW_CFA_advance_loc1);
		fixed(o, delta, 1);
	} else if (delta <= 0xffff) {
		u8(o, DW_CFA_advance_loc2);
		fixed(o, delta, 2);
	} else {
		u8(o, DW_CFA_advance_loc4);
		fixed(o, delta, 4);
	}
}

/* The data alignment factor: the largest of 8, 4, 2, 1 (the register size
 * at most) that divides every offset written factored, negated. */
static int64_t data_alignment(const struct vdsoscope_arch *arch, vs_row_fn get, const void *ctx,
			      size_t n)
{
	int64_t g = arch->reg_size >= 8 ? 8 : arch->reg_size >= 4 ? 4 : 1;
	struct vdsoscope_row r;
	unsigned int k;
	size_t i;

	for (i = 0; i < n && g > 1; i++) {
		if (get(ctx, i, &r))
			continue;
		if (r.cfa.kind == VDSOSCOPE_RULE_CFA_REG_OFFSET && r.cfa.off < 0)
			while (r.cfa.off % g)
				g /= 2;
		for (k = 0; k < r.nregs && k < arch->nregs; k++)
			if (r.regs[k].kind == VDSOSCOPE_RULE_OFFSET)
				while (r.regs[k].off % g)
					g /= 2;
	}
	return -g;
}

struct cie {
	unsigned int ra;
	bool signal;
	size_t off;          /* in .eh_frame's buffer */
};
#define MAX_CIES 8

static size_t write_cie(struct out *o, unsigned int ra, bool signal, int64_t data_align)
{
	size_t start = o->len;

	fixed(o, 0, 4);                   /* length, patched */
	fixed(o, 0, 4);                   /* CIE id */
	u8(o, ra < 256 ? 1 : 3);
	put(o, signal ? "zRS" : "zR", signal ? 4 : 3);
	uleb(o, 1);                       /* code alignment */
	sleb(o, data_align);
	if (ra < 256)
		u8(o, ra);
	else
		uleb(o, ra);
	uleb(o, 1);                       /* augmentation data: */
	u8(o, DW_EH_PE_absptr);           /* FDE addresses */
	return start;
}

/* Pads the FDE at START, sets its length and the RANGE of code it covers. */
static void close_fde(struct out *o, size_t start, unsigned int asz, uint64_t range)
{
	pad(o, start, asz);
	patch(o, start, o->len - start - 4, 4);
	patch(o, start + 8 + asz, range, asz);
}

/* A - BASE is a signed 32-bit number */
static bool fits32(uint64_t a, uint64_t base)
{
	int64_t d = (int64_t)(a - base);

	return d >= INT32_MIN && d <= INT32_MAX;
}

struct fde_ent {
	uint64_t start;      /* shifted */
	size_t off;          /* in .eh_frame's buffer */
};

int vs_eh_table_build(struct vs_eh_table *t, const struct vdsoscope_arch *arch, bool big,
		      const struct vdsoscope_image *img, vs_row_fn get, const void *ctx,
		      size_t n, uint64_t addr, uint64_t shift, size_t max)
{
	struct out fr = { .max = max, .big = big }, hdr = { .max = max, .big = big };
	struct fde_ent *fdes = NULL;
	struct cie cies[MAX_CIES];
	struct state *s = NULL;
	struct vdsoscope_row r, prev = { 0 };
	unsigned int asz, nregs, ncies = 0, k;
	int64_t data_align;
	size_t i, nfdes = 0, capfdes = 0, fde_start = 0, eh_off;
	uint64_t lo = 0, hi = 0, fde_lo = 0;
	bool open = false, have = false;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (!arch || !get || (arch->addr_size != 4 && arch->addr_size != 8))
		return -EINVAL;
	asz = arch->addr_size;
	nregs = arch->nregs < VDSOSCOPE_MAX_REGS ? arch->nregs : VDSOSCOPE_MAX_REGS;
	data_align = data_alignment(arch, get, ctx, n);
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (get(ctx, i, &r) || !cfa_known(&r.cfa) || r.end <= r.start)
			continue;
		if (!have)
			lo = r.start;
		have = true;
		hi = r.end;
	}
	if (!have) {
		rc = -ENOENT;
		goto out;
	}
	for (i = 0; i < n && !rc; i++) {
		struct cie *c = NULL;
		if (get(ctx, i, &r) || !cfa_known(&r.cfa) || r.end <= r.start)
			continue;
		if (open && (r.start != prev.end || r.fde_start != prev.fde_start ||
			     r.ra_reg != prev.ra_reg || r.signal_frame != prev.signal_frame)) {
			close_fde(&fr, fde_start, asz, prev.end - fde_lo);
			open = false;
		}
		if (open) {
			advance(&fr, r.start - prev.start);
			rc = emit_row(&fr, img, nregs, s, &r, data_align);
			prev = r;
			continue;
		}
		for (k = 0; k < ncies; k++)
			if (cies[k].ra == r.ra_reg && cies[k].signal == r.signal_frame)
				c = &cies[k];
		if (!c) {
			if (ncies == MAX_CIES) {
				rc = -E2BIG;
				break;
			}
			c = &cies[ncies++];
			c->ra = r.ra_reg;
			c->signal = r.signal_frame;
			c->off = write_cie(&fr, r.ra_reg, r.signal_frame, data_align);
			pad(&fr, c->off, asz);
			patch(&fr, c->off, fr.len - c->off - 4, 4);
		}
		if (nfdes == capfdes) {
			size_t nc = capfdes ? 2 * capfdes : 16;
			void *p = realloc(fdes, nc * sizeof(*fdes));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			fdes = p;
			capfdes = nc;
		}
		fde_start = fr.len;
		fde_lo = r.start;
		fdes[nfdes].start = r.start + shift;
		fdes[nfdes].off = fde_start;
		nfdes++;
		fixed(&fr, 0, 4);                             /* length, patched */
		fixed(&fr, fr.len - c->off, 4);               /* back to the CIE */
		fixed(&fr, r.start + shift, asz);
		fixed(&fr, 0, asz);                           /* range, patched */
		uleb(&fr, 0);                                 /* no augmentation data */
		memset(s, 0, sizeof(*s));
		rc = emit_row(&fr, img, nregs, s, &r, data_align);
		open = true;
		prev = r;
	}
	if (!rc && open)
		close_fde(&fr, fde_start, asz, prev.end - fde_lo);
	fixed(&fr, 0, 4);                                     /* terminator */
	if (!rc)
		rc = fr.err;
	if (rc)
		goto out;

	/* the header, its table, .eh_frame after it */
	eh_off = 12 + 8 * nfdes;
	eh_off = (eh_off + 7) & ~(size_t)7;
	if (nfdes > UINT32_MAX || eh_off + fr.len > max || eh_off + fr.len > INT32_MAX ||
	    !fits32(lo + shift, addr) || !fits32(hi + shift, addr)) {
		rc = -E2BIG;
		goto out;
	}
	u8(&hdr, 1);
	u8(&hdr, DW_EH_PE_pcrel | DW_EH_PE_sdata4);
	u8(&hdr, DW_EH_PE_udata4);
	u8(&hdr, DW_EH_PE_datarel | DW_EH_PE_sdata4);
	fixed(&hdr, eh_off - 4, 4);
	fixed(&hdr, nfdes, 4);
	for (i = 0; i < nfdes; i++) {
		fixed(&hdr, fdes[i].start - addr, 4);
		fixed(&hdr, eh_off + fdes[i].off, 4);
	}
	while (hdr.len < eh_off)
		u8(&hdr, 0);
	put(&hdr, fr.p, fr.len);
	if ((rc = hdr.err))
		goto out;
	t->bytes = hdr.p;
	hdr.p = NULL;
	t->size = hdr.len;
	t->addr = addr;
	t->lo = lo;
	t->hi = hi;
	t->shift = shift;
	t->fde_count = nfdes;
out:
	free(hdr.p);
	free(fr.p);
	free(fdes);
	free(s);
	return rc;
}

void vs_eh_table_free(struct vs_eh_table *t)
{
	if (!t)
		return;
	free(t->bytes);
	memset(t, 0, sizeof(*t));
}
