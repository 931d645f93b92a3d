/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unwind rows for aarch64 code that has no CFI, from its instructions.
 *
 * The arm64 vDSO has had no .eh_frame since Linux 5.8.  Its functions are
 * ordinary AAPCS64 code: leaves that keep the return address in x30, and
 * frames made by "stp x29, x30, [sp, #-n]!; mov x29, sp; stp x19, x20,
 * [sp, #16]..." (or "sub sp, sp, #n" and stores), possibly bracketed by
 * paciasp/autiasp, and the mirror image before each ret.  Each function
 * (and each callee without a symbol) is decoded along every path from its
 * entry, tracking where the CFA is (sp or x29 plus an offset), where x19-x30
 * were stored, and whether the return address is signed.  An instruction
 * that moves sp or x29 in a way not understood, one that overwrites x19-x30
 * while the caller's value is nowhere else, a path that reaches an
 * instruction in two different states, a return with the frame not undone,
 * and any encoding not decoded abandon the function: it then simply has no
 * rows.
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "analyze.h"

#define FP 29
#define LR 30
#define SP 31
#define MAX_INSNS 65536
/* Frames larger than this are not vDSO code: the function is left alone
 * (and the offsets never overflow). */
#define MAX_FRAME (1 << 20)

/* Where the CFA is (sp or x29 plus cfa_off), how far below it sp and x29
 * are (when known), where x19-x30 were stored (offset from the CFA; 0: not
 * stored, the register holds the caller's value), and with which key the
 * return address is signed (0: not signed, 1: A, 2: B). */
struct state {
	uint8_t live;
	uint8_t cfa_reg;
	uint8_t sp_known, fp_known;
	uint8_t pac;
	int32_t cfa_off;
	int32_t sp_off;
	int32_t fp_off;
	int32_t saved[12];
};

static int same(const struct state *a, const struct state *b)
{
	return a->cfa_reg == b->cfa_reg && a->sp_known == b->sp_known &&
	       a->fp_known == b->fp_known && a->pac == b->pac && a->cfa_off == b->cfa_off &&
	       a->sp_off == b->sp_off && a->fp_off == b->fp_off &&
	       !memcmp(a->saved, b->saved, sizeof(a->saved));
}

/* What an instruction does to the path */
enum { GO, END, RET, JUMP, FORK, CALL, BAD };

static int64_t sext(uint64_t v, unsigned bits)
{
	uint64_t m = (uint64_t)1 << (bits - 1);
	return (int64_t)((v ^ m) - m);
}

static int saved_at(const struct state *s, unsigned r)
{
	return s->saved[r - 19];
}

static void sync_cfa(struct state *s)
{
	if (s->cfa_reg == SP)
		s->cfa_off = s->sp_off;
}

static int set_sp(struct state *s, int64_t off)
{
	if (off < -MAX_FRAME || off > MAX_FRAME)
		return -1;
	s->sp_known = 1;
	s->sp_off = (int32_t)off;
	sync_cfa(s);
	return 0;
}

/* x29 is about to change: a CFA kept in it moves to sp. */
static int release_fp(struct state *s)
{
	if (s->cfa_reg != FP)
		return 0;
	if (!s->sp_known)
		return -1;
	s->cfa_reg = SP;
	s->cfa_off = s->sp_off;
	return 0;
}

/* sp gets a value not followed: fine only while the CFA is in x29. */
static int write_sp(struct state *s)
{
	if (s->cfa_reg != FP)
		return -1;
	s->sp_known = 0;
	s->sp_off = 0;
	return 0;
}

/* General register R (31: the zero register) gets a value not followed. */
static int write_reg(struct state *s, unsigned r)
{
	if (r < 19 || r == 31)
		return 0;
	if (r == FP) {
		if (release_fp(s))
			return -1;
		s->fp_known = 0;
		s->fp_off = 0;
	}
	return saved_at(s, r) ? 0 : -1;
}

/* The address BASE + OFF as an offset from the CFA, when BASE is known. */
static int cfa_rel(const struct state *s, unsigned base, int64_t off, int64_t *rel)
{
	if (base == SP && s->sp_known)
		*rel = off - s->sp_off;
	else if (base == FP && s->fp_known)
		*rel = off - s->fp_off;
	else
		return 0;
	return 1;
}

/* A store of SIZE bytes of register RT (GPR: a general register) at CFA +
 * REL (KNOWN).  A store over a slot still holding a caller's register
 * abandons the function. */
static int store(struct state *s, unsigned rt, int gpr, unsigned size, int known, int64_t rel)
{
	unsigned q;

	if (!known)
		return 0;
	for (q = 19; q <= 30; q++) {
		int32_t at = saved_at(s, q);
		if (at && rel < (int64_t)at + 8 && (int64_t)at < rel + size)
			return -1;
	}
	if (gpr && size == 8 && rt >= 19 && rt <= 30 && !saved_at(s, rt) && rel < 0 &&
	    rel >= -MAX_FRAME)
		s->saved[rt - 19] = (int32_t)rel;
	return 0;
}

/* A load of SIZE bytes into general register RT from CFA + REL (KNOWN):
 * from the slot where RT was stored, the register is back. */
static int load(struct state *s, unsigned rt, unsigned size, int known, int64_t rel)
{
	if (rt >= 19 && rt <= 30 && size == 8 && known && saved_at(s, rt) == rel) {
		if (rt == FP) {
			if (release_fp(s))
				return -1;
			s->fp_known = 0;
			s->fp_off = 0;
		}
		s->saved[rt - 19] = 0;
		return 0;
	}
	return write_reg(s, rt);
}

/* Base register RN moves by IMM after a pre- or post-indexed access. */
static int writeback(struct state *s, unsigned rn, int64_t imm)
{
	if (rn != SP)
		return write_reg(s, rn);
	if (!s->sp_known)
		return write_sp(s);
	return set_sp(s, (int64_t)s->sp_off - imm);
}

/* paciasp, pacibsp (SIGN) and autiasp, autibsp: sp is the modifier, which
 * DWARF takes to be the CFA. */
static int pac(struct state *s, int sign, unsigned key)
{
	if (saved_at(s, LR) || s->cfa_reg != SP || s->sp_off != 0)
		return -1;
	if (sign) {
		if (s->pac)
			return -1;
		s->pac = (uint8_t)key;
	} else {
		if (s->pac != key)
			return -1;
		s->pac = 0;
	}
	return 0;
}

/* The frame is undone: what a return or a tail call needs. */
static int returnable(const struct state *s, unsigned key)
{
	return s->cfa_reg == SP && s->sp_known && s->sp_off == 0 && !saved_at(s, LR) &&
	       s->pac == key;
}

/* Load/store pair: offset, pre- and post-indexed, no-allocate. */
static int ls_pair(struct state *s, uint32_t i)
{
	unsigned opc = i >> 30, v = (i >> 26) & 1, mode = (i >> 23) & 3, l = (i >> 22) & 1;
	unsigned rt2 = (i >> 10) & 31, rn = (i >> 5) & 31, rt = i & 31, size;
	int64_t off, rel = 0;
	int known, wb = mode == 1 || mode == 3;

	if (opc == 3)
		return BAD;
	if (v)
		size = 4u << opc;
	else if (opc == 1 && (!l || mode == 0))
		return BAD; /* stgp, unallocated */
	else
		size = opc == 2 ? 8 : 4;
	off = sext((i >> 15) & 0x7f, 7) * (int64_t)size;
	if (l && rt == rt2)
		return BAD;
	if (wb && !v && l && rn != SP && (rn == rt || rn == rt2))
		return BAD;
	known = cfa_rel(s, rn, mode == 1 ? 0 : off, &rel);
	if (l) {
		if (!v && (load(s, rt, size, known, rel) || load(s, rt2, size, known, rel + size)))
			return BAD;
	} else if (store(s, rt, !v, size, known, rel) ||
		   store(s, rt2, !v, size, known, rel + size)) {
		return BAD;
	}
	if (wb && writeback(s, rn, off))
		return BAD;
	return GO;
}

/* Load/store of one register: unsigned offset, unscaled, pre- and
 * post-indexed, unprivileged, register offset; RCPC selects ldapur/stlur. */
static int ls_reg(struct state *s, uint32_t i, int rcpc)
{
	unsigned size = i >> 30, v = (i >> 26) & 1, opc = (i >> 22) & 3;
	unsigned rn = (i >> 5) & 31, rt = i & 31, bytes;
	int64_t off = 0, rel = 0;
	int known = 0, wb = 0, pre = 1, isload;

	if (v) {
		if (rcpc || ((opc & 2) && size))
			return BAD;
		bytes = (opc & 2) ? 16 : 1u << size;
		isload = opc & 1;
	} else {
		bytes = 1u << size;
		if (opc == 3 && size >= 2)
			return BAD;
		isload = opc != 0;
	}
	if (!rcpc && (i & (1u << 24))) { /* unsigned offset */
		off = (int64_t)((i >> 10) & 0xfff) * bytes;
	} else if (rcpc || !(i & (1u << 21))) { /* imm9 */
		unsigned m = (i >> 10) & 3;
		off = sext((i >> 12) & 0x1ff, 9);
		if (rcpc && m)
			return BAD;
		if (m == 1 || m == 3) {
			wb = 1;
			pre = m == 3;
		}
		if (m == 2 && v)
			return BAD;
		if ((wb || m == 2 || rcpc) && !v && size == 3 && opc == 2)
			return BAD; /* no prfm form */
	} else if (((i >> 10) & 3) == 2) { /* register offset */
		if (!((i >> 14) & 1))
			return BAD;
		rn = 32; /* address not followed */
	} else {
		return BAD;
	}
	if (!v && size == 3 && opc == 2)
		return GO; /* prfm */
	if (wb && isload && !v && rn == rt && rn != SP)
		return BAD;
	if (rn != 32)
		known = cfa_rel(s, rn, pre ? off : 0, &rel);
	if (isload) {
		if (!v && load(s, rt, bytes, known, rel))
			return BAD;
	} else if (store(s, rt, !v, bytes, known, rel)) {
		return BAD;
	}
	if (wb && writeback(s, rn, off))
		return BAD;
	return GO;
}

/* Loads and stores: the general registers each writes. */
static int loadstore(struct state *s, uint32_t i)
{
	unsigned rn = (i >> 5) & 31, rt = i & 31, rs = (i >> 16) & 31, rt2 = (i >> 10) & 31;
	unsigned v = (i >> 26) & 1;

	if ((i & 0x3a000000) == 0x28000000)
		return ls_pair(s, i);
	if ((i & 0x3b000000) == 0x39000000 || (i & 0x3b200000) == 0x38000000 ||
	    (i & 0x3b200c00) == 0x38200800)
		return ls_reg(s, i, 0);
	if ((i & 0x3f200c00) == 0x19000000)
		return ls_reg(s, i, 1); /* ldapur, stlur */
	if ((i & 0x3b200c00) == 0x38200000) { /* atomic memory operations */
		if (v || rn == SP)
			return BAD;
		return write_reg(s, rt) ? BAD : GO;
	}
	if ((i & 0x3b000000) == 0x18000000) { /* load literal */
		unsigned opc = i >> 30;
		if (v)
			return opc == 3 ? BAD : GO;
		return opc == 3 || !write_reg(s, rt) ? GO : BAD;
	}
	if ((i & 0x3f000000) == 0x08000000) { /* exclusive, acquire/release, cas */
		unsigned l = (i >> 22) & 1;
		if (rn == SP)
			return BAD;
		if (write_reg(s, rs) || (rs < 31 && write_reg(s, rs + 1)))
			return BAD;
		if (l && (write_reg(s, rt) || write_reg(s, rt2)))
			return BAD;
		return GO;
	}
	if ((i & 0xbe000000) == 0x0c000000) { /* SIMD structures */
		if (rn == SP)
			return BAD;
		if ((i >> 23) & 1)
			return write_reg(s, rn) ? BAD : GO;
		return GO;
	}
	return BAD;
}

/* Data processing with an immediate */
static int dp_imm(struct state *s, uint32_t i)
{
	unsigned op = (i >> 23) & 7, rd = i & 31, rn = (i >> 5) & 31, sf = i >> 31;

	switch (op) {
	case 0:
	case 1: /* adr, adrp */
		break;
	case 2: { /* add, sub */
		unsigned sub = (i >> 30) & 1, setflags = (i >> 29) & 1;
		int64_t imm = (int64_t)((i >> 10) & 0xfff) << (((i >> 22) & 1) ? 12 : 0);
		int64_t delta = sub ? -imm : imm;

		if (setflags)
			break;
		if (rd == SP) {
			if (sf && rn == SP && s->sp_known)
				return set_sp(s, (int64_t)s->sp_off - delta) ? BAD : GO;
			if (sf && rn == FP && s->fp_known) {
				if (set_sp(s, (int64_t)s->fp_off - delta))
					return BAD;
				if (s->cfa_reg == FP) {
					s->cfa_reg = SP;
					s->cfa_off = s->sp_off;
				}
				return GO;
			}
			if (rn == SP && !s->sp_known && s->cfa_reg == FP)
				return GO; /* unknown stays unknown */
			return write_sp(s) ? BAD : GO;
		}
		if (rd == FP && rn == SP && sf && s->sp_known) {
			int64_t fo = (int64_t)s->sp_off - delta;
			if (!saved_at(s, FP) || fo < -MAX_FRAME || fo > MAX_FRAME)
				return BAD;
			s->fp_known = 1;
			s->fp_off = (int32_t)fo;
			s->cfa_reg = FP;
			s->cfa_off = s->fp_off;
			return GO;
		}
		break;
	}
	case 3: /* tags, min/max */
		return BAD;
	case 4: /* and, orr, eor, ands */
		if (!sf && ((i >> 22) & 1))
			return BAD;
		if (((i >> 29) & 3) != 3 && rd == SP)
			return write_sp(s) ? BAD : GO;
		break;
	case 5: /* movn, movz, movk */
		if (((i >> 29) & 3) == 1)
			return BAD;
		break;
	default: /* bitfield, extract */
		break;
	}
	return write_reg(s, rd) ? BAD : GO;
}

/* Data processing with registers only */
static int dp_reg(struct state *s, uint32_t i)
{
	unsigned op1 = (i >> 28) & 1, op2 = (i >> 21) & 15, rd = i & 31, rn = (i >> 5) & 31;

	if (!op1) {
		if ((op2 & 9) == 9) { /* add, sub, extended register */
			if ((i >> 22) & 3)
				return BAD;
			if (!((i >> 29) & 1) && rd == SP)
				return write_sp(s) ? BAD : GO;
		}
		/* logical, add, sub (shifted register) */
		return write_reg(s, rd) ? BAD : GO;
	}
	if (op2 == 2)
		return GO; /* ccmp, ccmn */
	if (op2 == 0 || op2 == 4 || (op2 & 8))
		return write_reg(s, rd) ? BAD : GO; /* adc, sbc; csel...; madd... */
	if (op2 != 6 || ((i >> 29) & 1))
		return BAD;
	if (!((i >> 30) & 1)) { /* two sources */
		unsigned opc = (i >> 10) & 63;
		if (opc == 2 || opc == 3 || (opc >= 8 && opc <= 12) || (opc >= 16 && opc <= 27))
			return write_reg(s, rd) ? BAD : GO;
		return BAD;
	}
	/* one source */
	{
		unsigned opc2 = (i >> 16) & 31, opc = (i >> 10) & 63;
		if (opc2 == 0 && opc <= 8)
			return write_reg(s, rd) ? BAD : GO;
		if (opc2 == 1 && (i >> 31) && opc <= 17) {
			if (rd == LR && rn == SP && (opc == 0 || opc == 1)) /* pacia, pacib x30, sp */
				return pac(s, 1, opc + 1) ? BAD : GO;
			if (rd == LR && rn == SP && (opc == 4 || opc == 5)) /* autia, autib x30, sp */
				return pac(s, 0, opc - 3) ? BAD : GO;
			return write_reg(s, rd) ? BAD : GO;
		}
	}
	return BAD;
}

/* SIMD and floating point: only moves and conversions to a general
 * register write one. */
static int dp_simd(struct state *s, uint32_t i)
{
	unsigned rd = i & 31, imm4 = (i >> 11) & 15, opc = (i >> 16) & 7;

	/* to and from integers: all but scvtf, ucvtf and fmov from one */
	if ((i & 0x5f20fc00) == 0x1e200000 && opc != 2 && opc != 3 && opc != 7)
		return write_reg(s, rd) ? BAD : GO;
	/* fixed point: fcvtzs, fcvtzu */
	if ((i & 0x5f200000) == 0x1e000000 && opc < 2)
		return write_reg(s, rd) ? BAD : GO;
	/* smov, umov */
	if ((i & 0xbfe08400) == 0x0e000400 && (imm4 == 5 || imm4 == 7))
		return write_reg(s, rd) ? BAD : GO;
	return GO;
}

/* Branches, exception generation, system instructions.  *T: a branch's
 * target. */
static int branch(struct state *s, uint32_t i, uint64_t pc, uint64_t *t, unsigned *key)
{
	if ((i & 0x7c000000) == 0x14000000) { /* b, bl */
		*t = pc + (uint64_t)(sext(i & 0x3ffffff, 26) * 4);
		if (!(i >> 31))
			return JUMP;
		return write_reg(s, LR) ? BAD : CALL;
	}
	if ((i & 0xff000000) == 0x54000000) { /* b.cond, bc.cond */
		*t = pc + (uint64_t)(sext((i >> 5) & 0x7ffff, 19) * 4);
		return (i & 15) >= 14 ? JUMP : FORK;
	}
	if ((i & 0x7e000000) == 0x34000000) { /* cbz, cbnz */
		*t = pc + (uint64_t)(sext((i >> 5) & 0x7ffff, 19) * 4);
		return FORK;
	}
	if ((i & 0x7e000000) == 0x36000000) { /* tbz, tbnz */
		*t = pc + (uint64_t)(sext((i >> 5) & 0x3fff, 14) * 4);
		return FORK;
	}
	if ((i & 0xff00001c) == 0xd4000000) { /* svc, brk, hlt */
		unsigned opc = (i >> 21) & 7, ll = i & 3;
		if (opc == 0 && ll == 1)
			return GO;
		if ((opc == 1 || opc == 2) && ll == 0)
			return END;
		return BAD;
	}
	if ((i & 0xfffff01f) == 0xd503201f) { /* hints */
		unsigned h = (i >> 5) & 127;
		if (h == 25 || h == 27) /* paciasp, pacibsp */
			return pac(s, 1, h == 25 ? 1 : 2) ? BAD : GO;
		if (h == 29 || h == 31) /* autiasp, autibsp */
			return pac(s, 0, h == 29 ? 1 : 2) ? BAD : GO;
		if (h == 7 || h == 24 || h == 26 || h == 28 || h == 30) /* xpaclri, ...z */
			return write_reg(s, LR) ? BAD : GO;
		if (h == 39)
			return BAD;
		return GO;
	}
	if ((i & 0xfffff01f) == 0xd503301f) { /* clrex, dsb, dmb, isb, sb */
		unsigned op2 = (i >> 5) & 7;
		return op2 == 2 || op2 >= 4 ? GO : BAD;
	}
	if ((i & 0xfff8f01f) == 0xd500401f || (i & 0xfff80000) == 0xd5080000 ||
	    (i & 0xfff00000) == 0xd5100000)
		return GO; /* msr (immediate), sys, msr */
	if ((i & 0xfff80000) == 0xd5280000 || (i & 0xfff00000) == 0xd5300000)
		return write_reg(s, i & 31) ? BAD : GO; /* sysl, mrs */
	if ((i & 0xfffffc1f) == 0xd65f0000) { /* ret */
		*key = 0;
		return ((i >> 5) & 31) == LR ? RET : BAD;
	}
	if (i == 0xd65f0bff || i == 0xd65f0fff) { /* retaa, retab */
		*key = i == 0xd65f0bff ? 1 : 2;
		return RET;
	}
	if ((i & 0xfffffc1f) == 0xd63f0000 || (i & 0xfffffc1f) == 0xd63f081f ||
	    (i & 0xfffffc1f) == 0xd63f0c1f || (i & 0xfffff800) == 0xd73f0800) {
		*t = 0; /* blr, blraaz, blrabz, blraa, blrab */
		return write_reg(s, LR) ? BAD : CALL;
	}
	return BAD;
}

/* Applies instruction I at PC to S. */
static int apply(struct state *s, uint32_t i, uint64_t pc, uint64_t *t, unsigned *key)
{
	unsigned op0 = (i >> 25) & 15;

	if ((i & 0xffff0000) == 0)
		return END; /* udf */
	if ((op0 & 0xe) == 0x8)
		return dp_imm(s, i);
	if ((op0 & 0xe) == 0xa)
		return branch(s, i, pc, t, key);
	if ((op0 & 7) == 5)
		return dp_reg(s, i);
	if ((op0 & 7) == 7)
		return dp_simd(s, i);
	if ((op0 & 5) == 4)
		return loadstore(s, i);
	return BAD;
}

struct seen {
	uint64_t lo;      /* link-time address of instruction 0 */
	size_t n;         /* instructions */
	struct state *st; /* per instruction; live 0 = not reached */
};

static void add_call(uint64_t t, uint64_t *calls, size_t *ncalls)
{
	if (t && *ncalls < VS_MAX_CALLS)
		calls[(*ncalls)++] = t;
}

/* Follows every path from ENTRY within [ENTRY, HI).  Calls and tail calls
 * are queued in CALLS.  Returns 0 when every path was understood, -1 when
 * the function must be left alone. */
static int analyze(const struct vs_data *d, struct seen *sn, uint64_t entry, uint64_t hi,
		   uint64_t *calls, size_t *ncalls)
{
	struct vs_work w;
	struct state s0, s;
	size_t steps = 0;
	uint64_t a;
	int rc = 0;

	memset(&s0, 0, sizeof(s0));
	s0.live = 1;
	s0.cfa_reg = SP;
	s0.sp_known = 1;
	vs__work_init(&w, sizeof(s0));
	if (vs__work_push(&w, entry, &s0))
		return -ENOMEM;
	while (rc == 0 && vs__work_pop(&w, &a, &s)) {
		for (;;) {
			const uint8_t *p;
			uint64_t t = 0;
			unsigned key = 0;
			size_t k;
			uint32_t i;
			int what;

			if (a < entry || a >= hi || (a & 3) || a < sn->lo ||
			    (a - sn->lo) / 4 >= sn->n || a < d->link_base || d->size < 4 ||
			    a - d->link_base > d->size - 4 || ++steps > MAX_INSNS) {
				rc = -1;
				break;
			}
			k = (size_t)((a - sn->lo) / 4);
			if (sn->st[k].live) {
				if (!same(&sn->st[k], &s))
					rc = -1;
				break;
			}
			sn->st[k] = s;
			p = d->bytes + (a - d->link_base);
			i = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			    (uint32_t)p[3] << 24;
			what = apply(&s, i, a, &t, &key);
			if (what == BAD) {
				rc = -1;
				break;
			}
			if (what == END)
				break;
			if (what == RET) {
				if (!returnable(&s, key))
					rc = -1;
				break;
			}
			if (what == JUMP || what == FORK) {
				if (t >= entry && t < hi) {
					if (what == JUMP) {
						a = t;
						continue;
					}
					if ((rc = vs__work_push(&w, t, &s)))
						break;
				} else { /* a tail call */
					if (!returnable(&s, 0)) {
						rc = -1;
						break;
					}
					add_call(t, calls, ncalls);
					if (what == JUMP)
						break;
				}
			}
			if (what == CALL)
				add_call(t, calls, ncalls);
			a += 4;
			if (a >= hi && what == CALL)
				break; /* a call that does not return ends the function */
		}
	}
	vs__work_free(&w);
	return rc;
}

/* The row of state S in function FUNC: the return address is x30's. */
static void synth_row(struct vs_synth *row, const struct state *s, uint64_t func)
{
	unsigned int r;

	memset(row, 0, sizeof(*row));
	row->func = func;
	row->cfa_reg = s->cfa_reg;
	row->cfa_off = s->cfa_off;
	row->ra = LR;
	row->ra_signed = s->pac != 0;
	for (r = 19; r <= 30; r++) {
		if (saved_at(s, r))
			row->rules[row->nrules++] =
				(struct vs_synth_rule){ (uint16_t)r, VDSOSCOPE_RULE_OFFSET, saved_at(s, r) };
		else if (r == LR)
			row->rules[row->nrules++] =
				(struct vs_synth_rule){ LR, VDSOSCOPE_RULE_REGISTER, LR };
	}
}

static int function(const struct vs_data *d, uint64_t entry, uint64_t hi, uint64_t *calls,
		    size_t *ncalls, struct vs_rows *rows)
{
	struct seen sn;
	size_t j;
	int rc;

	sn.lo = d->text_lo & ~(uint64_t)3;
	sn.n = (size_t)((d->text_hi - sn.lo + 3) / 4);
	sn.st = calloc(sn.n, sizeof(*sn.st));
	rc = sn.st ? analyze(d, &sn, entry, hi, calls, ncalls) : -ENOMEM;
	for (j = 0; rc == 0 && j < sn.n; j++) {
		struct vs_synth row;
		if (!sn.st[j].live)
			continue;
		synth_row(&row, &sn.st[j], entry);
		rc = vs__rows_add(rows, &row, sn.lo + 4 * (uint64_t)j, 4);
	}
	free(sn.st);
	return rc;
}

int vs__analyze_aarch64(struct vs_data *d, const uint64_t *starts, size_t nstarts,
			struct vs_synth **out, size_t *nout)
{
	return vs__analyze_run(d, starts, nstarts, 4, NULL, function, out, nout);
}
