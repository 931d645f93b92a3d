/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unwind rows for 32-bit ARM Thumb-2 code that has no CFI, from its
 * instructions.
 *
 * The arm64 kernel's compat vDSO carries no .eh_frame: its CFI is only in
 * the debug file's .debug_frame.  Its functions are ordinary Thumb-2 code:
 * "push {r4-r7, lr}; add r7, sp, #12; sub sp, #n" (vpush of d8-d15 where
 * they are used) and the mirror image before each return.  Each Thumb
 * function (and each callee without a symbol) is decoded along every path
 * from its entry, tracking where the CFA is (sp or r7 plus an offset), how
 * far below it sp is, where r4-r11, lr and d8-d15 were saved and whether
 * lr still holds the return address.  An instruction that writes sp, pc,
 * r7 while it is the CFA base, lr while it is the only copy of the return
 * address, or a callee-saved register not yet saved, in a way not
 * understood; any encoding not decoded; a path that reaches an instruction
 * in two different states: each abandons the function, which then has no
 * rows.
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "analyze.h"
#include "arch.h"

#define SP 13
#define LR 14
#define PC 15
#define FP 7
#define MAX_INSNS 65536
/* Frames larger than this are not vDSO code: the function is left alone
 * (and the offsets never overflow). */
#define MAX_FRAME (1 << 20)

/* Where the CFA is (cfa_reg plus cfa_off), how far below it sp is (sp_off),
 * where registers were saved (offset from the CFA; 0: not saved), whether
 * lr holds the return address, and how many instructions of an IT block
 * are left.  Compared with memcmp: no padding. */
struct state {
	uint8_t cfa_reg;  /* SP or FP; 0: not yet reached */
	uint8_t lr_live;
	uint8_t it;
	uint8_t pad;
	int32_t cfa_off;
	int32_t sp_off;
	int32_t saved[16]; /* r4-r11, lr */
	int32_t dsaved[8]; /* d8-d15 */
};

enum flow { NEXT, END, JUMP, COND, CALL };

struct insn {
	uint32_t len;
	enum flow flow;
	uint64_t target;  /* JUMP, COND, CALL (0: not Thumb code) */
	int ret;          /* END by a return */
};

static int callee_saved(unsigned int r)
{
	return (r >= 4 && r <= 11) || r == LR;
}

static void sync_cfa(struct state *s)
{
	if (s->cfa_reg == SP)
		s->cfa_off = s->sp_off;
}

static int set_sp_off(struct state *s, int64_t off)
{
	if (off < 0 || off > MAX_FRAME)
		return -1;
	s->sp_off = (int32_t)off;
	sync_cfa(s);
	return 0;
}

/* The CFA kept in r7 moves to sp before r7 changes. */
static void release_fp(struct state *s)
{
	if (s->cfa_reg == FP) {
		s->cfa_reg = SP;
		s->cfa_off = s->sp_off;
	}
}

/* A write of core register R by an instruction whose effect on it is not
 * otherwise understood. */
static int wr(struct state *s, unsigned int r)
{
	if (r == SP || r == PC || (r == FP && s->cfa_reg == FP))
		return -1;
	if (r == LR) {
		if (!s->saved[LR])
			return -1;
		s->lr_live = 0;
		return 0;
	}
	if (callee_saved(r) && !s->saved[r])
		return -1;
	return 0;
}

static int wr_mask(struct state *s, uint32_t mask)
{
	unsigned int r;

	for (r = 0; r < 16; r++)
		if ((mask >> r & 1) && wr(s, r))
			return -1;
	return 0;
}

/* Memory [OFF, OFF+SIZE) from the CFA is written with register REG (core
 * 0-15, d registers 256+, -1 anything else): a save slot may only be
 * rewritten by its own register. */
static int write_slot(const struct state *s, int64_t off, unsigned int size, int reg)
{
	unsigned int r;

	for (r = 0; r < 16; r++)
		if (s->saved[r] && off < s->saved[r] + 4 && s->saved[r] < off + size &&
		    !(reg == (int)r && off == s->saved[r]))
			return -1;
	for (r = 0; r < 8; r++)
		if (s->dsaved[r] && off < s->dsaved[r] + 8 && s->dsaved[r] < off + size &&
		    !(reg == (int)(VS_ARM_D0 + 8 + r) && off == s->dsaved[r]))
			return -1;
	return 0;
}

/* Store of core register R to [sp + IMM] (CFA-relative: SP_OFF below). */
static int store_sp(struct state *s, unsigned int r, int64_t imm)
{
	int64_t off = imm - s->sp_off;

	if (r == SP || r == PC)
		return write_slot(s, off, 4, -1);
	if (write_slot(s, off, 4, (int)r))
		return -1;
	if (off >= 0)
		return -1; /* into the caller's frame */
	if (callee_saved(r) && !s->saved[r] && (r != LR || s->lr_live))
		s->saved[r] = (int32_t)off;
	return 0;
}

/* Load of core register R from the slot OFF from the CFA. */
static int load_slot(struct state *s, unsigned int r, int64_t off)
{
	if (r == SP || r == PC)
		return -1;
	if (r == FP)
		release_fp(s);
	if (callee_saved(r) && s->saved[r] == off) {
		s->saved[r] = 0;
		if (r == LR)
			s->lr_live = 1;
		return 0;
	}
	return wr(s, r);
}

static int push(struct state *s, uint32_t mask)
{
	unsigned int r, n = (unsigned int)__builtin_popcount(mask), k = 0;

	if (!n || (mask & (1u << SP | 1u << PC)) || set_sp_off(s, (int64_t)s->sp_off + 4 * n))
		return -1;
	for (r = 0; r < 16; r++)
		if (mask >> r & 1) {
			int64_t off = -(int64_t)s->sp_off + 4 * k++;
			if (write_slot(s, off, 4, (int)r))
				return -1;
			if (callee_saved(r) && !s->saved[r] && (r != LR || s->lr_live))
				s->saved[r] = (int32_t)off;
		}
	return 0;
}

/* 1 when it returned (pc popped from where lr was saved), 0, or -1. */
static int pop(struct state *s, uint32_t mask)
{
	unsigned int r, n = (unsigned int)__builtin_popcount(mask), k = 0;
	int ret = 0;

	if (!n || (mask & 1u << SP) || (uint32_t)s->sp_off < 4 * n)
		return -1;
	if (mask & 1u << FP)
		release_fp(s);
	for (r = 0; r < 16; r++)
		if (mask >> r & 1) {
			int64_t off = -(int64_t)s->sp_off + 4 * k++;
			if (r == PC) {
				if (!s->saved[LR] || s->saved[LR] != off)
					return -1;
				ret = 1;
			} else if (load_slot(s, r, off)) {
				return -1;
			}
		}
	if (set_sp_off(s, (int64_t)s->sp_off - 4 * n))
		return -1;
	if (ret && s->sp_off != 0)
		return -1;
	return ret;
}

static int vpush(struct state *s, unsigned int first, unsigned int n)
{
	unsigned int k;

	if (!n || n > 16 || first + n > 32 || set_sp_off(s, (int64_t)s->sp_off + 8 * n))
		return -1;
	for (k = 0; k < n; k++) {
		unsigned int d = first + k;
		int64_t off = -(int64_t)s->sp_off + 8 * k;
		if (write_slot(s, off, 8, (int)(VS_ARM_D0 + d)))
			return -1;
		if (d >= 8 && d <= 15 && !s->dsaved[d - 8])
			s->dsaved[d - 8] = (int32_t)off;
	}
	return 0;
}

static int vpop(struct state *s, unsigned int first, unsigned int n)
{
	unsigned int k;

	if (!n || n > 16 || first + n > 32 || (uint32_t)s->sp_off < 8 * n)
		return -1;
	for (k = 0; k < n; k++) {
		unsigned int d = first + k;
		int64_t off = -(int64_t)s->sp_off + 8 * k;
		if (d < 8 || d > 15)
			continue;
		if (s->dsaved[d - 8] != off)
			return -1; /* d8-d15 loaded with something else */
		s->dsaved[d - 8] = 0;
	}
	return set_sp_off(s, (int64_t)s->sp_off - 8 * n);
}

/* Rd = Rn + IMM (IMM may be negative) where Rn or Rd is sp or r7;
 * other registers go through wr(). */
static int add_imm(struct state *s, unsigned int d, unsigned int n, int64_t imm)
{
	if (d == SP && n == SP)
		return set_sp_off(s, (int64_t)s->sp_off - imm);
	if (d == SP && n == FP && s->cfa_reg == FP)
		return set_sp_off(s, (int64_t)s->cfa_off - imm);
	if (d == FP && n == SP) {
		/* r7 = CFA - sp_off + imm */
		if (!s->saved[FP])
			return -1;
		s->cfa_reg = FP;
		s->cfa_off = (int32_t)(s->sp_off - imm);
		return 0;
	}
	if (d == FP && n == FP && s->cfa_reg == FP) {
		int64_t o = (int64_t)s->cfa_off - imm;
		if (o < -MAX_FRAME || o > MAX_FRAME)
			return -1;
		s->cfa_off = (int32_t)o;
		return 0;
	}
	return wr(s, d);
}

static uint32_t expand_imm(uint32_t imm12)
{
	uint32_t v = imm12 & 0xff, rot;

	if (!(imm12 & 0xc00)) {
		switch (imm12 >> 8 & 3) {
		case 0: return v;
		case 1: return v << 16 | v;
		case 2: return v << 24 | v << 8;
		default: return v << 24 | v << 16 | v << 8 | v;
		}
	}
	v = 0x80 | (imm12 & 0x7f);
	rot = imm12 >> 7 & 0x1f;
	return v >> rot | v << (32 - rot);
}

static int64_t sext(uint32_t v, unsigned int bits)
{
	return (int64_t)((uint64_t)v << (64 - bits)) >> (64 - bits);
}

/* 16-bit instruction HW at ADDR. */
static int thumb16(struct state *s, uint64_t addr, uint32_t hw, struct insn *in)
{
	uint32_t lo3 = hw & 7, r8 = hw >> 8 & 7;

	in->len = 2;
	if ((hw >> 14) == 0) { /* shift, add, sub, mov, cmp */
		uint32_t op = hw >> 11 & 7;
		if (op <= 3) /* lsl, lsr, asr, add/sub reg/imm3 */
			return (op == 3 && (hw >> 9 & 3) >= 2 && lo3 == FP && (hw >> 3 & 7) == FP &&
				s->cfa_reg == FP)
				       ? add_imm(s, FP, FP, (hw >> 9 & 1) ? -(int64_t)(hw >> 6 & 7)
									: (int64_t)(hw >> 6 & 7))
				       : wr(s, lo3);
		if (op == 5) /* cmp */
			return 0;
		if ((op == 6 || op == 7) && r8 == FP && s->cfa_reg == FP) /* adds/subs r7, #imm */
			return add_imm(s, FP, FP, op == 7 ? -(int64_t)(hw & 0xff) : (int64_t)(hw & 0xff));
		return wr(s, r8);
	}
	if ((hw >> 10) == 0x10) { /* data processing */
		uint32_t op = hw >> 6 & 15;
		return op == 8 || op == 10 || op == 11 ? 0 : wr(s, lo3);
	}
	if ((hw >> 10) == 0x11) { /* special data, branch and exchange */
		uint32_t op = hw >> 8 & 3, m = hw >> 3 & 15, d = (hw >> 4 & 8) | lo3;
		if (op == 3) {
			if (hw & 0x80) { /* blx rm */
				in->flow = CALL;
				return m == LR || m == PC ? -1 : wr(s, LR);
			}
			if (m != LR || !s->lr_live)
				return -1; /* bx to anything but the return address */
			in->flow = END;
			in->ret = 1;
			return 0;
		}
		if (op == 1) /* cmp */
			return 0;
		if (op == 2) { /* mov */
			if (d == FP && m == SP)
				return add_imm(s, FP, SP, 0);
			if (d == SP && m == FP && s->cfa_reg == FP) {
				if (set_sp_off(s, s->cfa_off))
					return -1;
				s->cfa_reg = SP;
				return 0;
			}
			return wr(s, d);
		}
		/* add rd, rm */
		return d == SP || d == PC ? -1 : wr(s, d);
	}
	if ((hw >> 11) == 9) /* ldr literal */
		return wr(s, r8);
	if ((hw >> 12) == 5) /* load/store register offset */
		return (hw >> 9 & 7) <= 2 ? 0 : wr(s, lo3);
	if ((hw >> 13) == 3 || (hw >> 12) == 8) /* ldr/str (b, h) imm */
		return (hw & 0x800) ? wr(s, lo3) : 0;
	if ((hw >> 12) == 9) { /* str/ldr rt, [sp, #imm] */
		int64_t imm = (hw & 0xff) * 4;
		if (hw & 0x800)
			return load_slot(s, r8, imm - s->sp_off);
		return store_sp(s, r8, imm);
	}
	if ((hw >> 11) == 0x14) /* adr */
		return wr(s, r8);
	if ((hw >> 11) == 0x15) /* add rd, sp, #imm */
		return add_imm(s, r8, SP, (hw & 0xff) * 4);
	if ((hw >> 12) == 0xb) { /* miscellaneous */
		if ((hw & 0xff00) == 0xb000) /* add/sub sp, #imm */
			return add_imm(s, SP, SP, (hw & 0x80) ? -(int64_t)((hw & 0x7f) * 4)
						      : (int64_t)((hw & 0x7f) * 4));
		if ((hw & 0xf500) == 0xb100) { /* cbz, cbnz */
			in->flow = COND;
			in->target = addr + 4 + ((hw >> 3 & 0x40) | (hw >> 2 & 0x3e));
			return s->it ? -1 : 0;
		}
		if ((hw & 0xff00) == 0xb200 || (hw & 0xff00) == 0xba00) /* extend, rev */
			return (hw & 0xc0) == 0x80 && (hw & 0xff00) == 0xba00 ? -1 : wr(s, lo3);
		if ((hw & 0xfe00) == 0xb400) /* push */
			return push(s, (hw & 0xff) | (hw & 0x100 ? 1u << LR : 0));
		if ((hw & 0xfe00) == 0xbc00) { /* pop */
			int rc = pop(s, (hw & 0xff) | (hw & 0x100 ? 1u << PC : 0));
			if (rc == 1) {
				in->flow = END;
				in->ret = 1;
			}
			return rc < 0 ? -1 : 0;
		}
		if ((hw & 0xff00) == 0xbe00) { /* bkpt */
			in->flow = END;
			return 0;
		}
		if ((hw & 0xff00) == 0xbf00) {
			if (hw & 0xf) { /* it */
				if (s->it || (hw >> 4 & 15) == 15)
					return -1;
				s->it = (uint8_t)(4 - __builtin_ctz(hw & 0xf));
				return 0;
			}
			return (hw & 0xf0) <= 0x40 ? 0 : -1; /* nop, yield, wfe, wfi, sev */
		}
		return -1;
	}
	if ((hw >> 12) == 0xc) { /* stm, ldm */
		uint32_t n = r8, list = hw & 0xff;
		if (!list)
			return -1;
		if (hw & 0x800)
			return wr_mask(s, list | (list >> n & 1 ? 0 : 1u << n));
		return wr(s, n);
	}
	if ((hw >> 12) == 0xd) {
		uint32_t cond = hw >> 8 & 15;
		if (cond == 15) /* svc */
			return wr(s, 0);
		if (cond == 14) { /* udf */
			in->flow = END;
			return 0;
		}
		if (s->it)
			return -1;
		in->flow = COND;
		in->target = addr + 4 + (uint64_t)sext((hw & 0xff) << 1, 9);
		return 0;
	}
	if ((hw >> 11) == 0x1c) { /* b */
		in->flow = JUMP;
		in->target = addr + 4 + (uint64_t)sext((hw & 0x7ff) << 1, 12);
		return 0;
	}
	return -1;
}

/* Load/store single (32-bit): the forms with sp as base are understood,
 * the others write only Rt (and Rn with writeback). */
static int ldst_single(struct state *s, uint32_t hw1, uint32_t hw2)
{
	uint32_t n = hw1 & 15, t = hw2 >> 12, size = hw1 >> 5 & 3, load = hw1 >> 4 & 1;
	int imm12 = (hw1 >> 7 & 1) || n == PC, wb = 0;
	int64_t off = 0; /* from Rn, for the access */
	int64_t post = 0; /* Rn change */

	if ((hw1 >> 8 & 1) && (!load || size == 2)) /* signed loads */
		return -1;
	if (size == 3)
		return -1;
	if (n == PC) {
		if (!load)
			return -1;
		return t == PC ? -1 : (size < 2 && t == 15) ? 0 : wr(s, t);
	}
	if (imm12) {
		off = hw2 & 0xfff;
	} else if ((hw2 & 0xfc0) == 0) { /* register offset */
		if (!load)
			return n == SP ? -1 : 0;
		return (size < 2 && t == 15) ? 0 : wr(s, t);
	} else if ((hw2 & 0x800)) { /* imm8 with P U W */
		uint32_t p = hw2 >> 10 & 1, u = hw2 >> 9 & 1, w = hw2 >> 8 & 1;
		int64_t imm = u ? (int64_t)(hw2 & 0xff) : -(int64_t)(hw2 & 0xff);
		if (!p && !w)
			return -1;
		if (p && u && !w) /* unprivileged: ldrt, strt */
			return -1;
		off = p ? imm : 0;
		if (w) {
			wb = 1;
			post = imm;
		}
	} else {
		return -1;
	}
	if (n != SP) {
		if (load && !(size < 2 && t == 15) && wr(s, t))
			return -1;
		return wb ? wr(s, n) : 0;
	}
	/* sp-relative */
	if (size != 2) {
		if (load && !(t == 15) && wr(s, t))
			return -1;
		if (!load && write_slot(s, off - s->sp_off, size == 0 ? 1 : 2, -1))
			return -1;
		return wb ? add_imm(s, SP, SP, post) : 0;
	}
	if (load) {
		if (t == SP)
			return -1;
		if (t == PC) {
			/* ldr pc, [sp], #4: a return when lr was saved there */
			if (!wb || post != 4 || off != 0 || s->saved[LR] != -s->sp_off)
				return -1;
			if (set_sp_off(s, (int64_t)s->sp_off - 4) || s->sp_off != 0)
				return -1;
			return 1;
		}
		if (load_slot(s, t, off - s->sp_off))
			return -1;
		return wb ? add_imm(s, SP, SP, post) : 0;
	}
	if (wb && post == -4 && off == -4) /* str rt, [sp, #-4]!: push */
		return push(s, 1u << t);
	if (wb)
		return -1;
	return store_sp(s, t, off);
}

/* 32-bit instruction HW1:HW2 at ADDR. */
static int thumb32(struct state *s, uint64_t addr, uint32_t hw1, uint32_t hw2, struct insn *in)
{
	uint32_t op1 = hw1 >> 11 & 3, n = hw1 & 15, d = hw2 >> 8 & 15;

	in->len = 4;
	if (op1 == 1) {
		if ((hw1 & 0x0640) == 0x0000) { /* load/store multiple */
			uint32_t op = hw1 >> 7 & 3, w = hw1 >> 5 & 1, l = hw1 >> 4 & 1, list = hw2;
			if (op == 0 || op == 3 || !list)
				return -1;
			if (n == SP && w && op == 2 && !l) /* push.w */
				return push(s, list);
			if (n == SP && w && op == 1 && l) { /* pop.w */
				int rc = pop(s, list);
				if (rc == 1) {
					in->flow = END;
					in->ret = 1;
				}
				return rc < 0 ? -1 : 0;
			}
			if (n == SP || (list & 1u << PC) || (list & 1u << SP))
				return -1;
			if (l && wr_mask(s, list))
				return -1;
			return w ? wr(s, n) : 0;
		}
		if ((hw1 & 0x0640) == 0x0040) { /* dual, exclusive, table branch */
			uint32_t o1 = hw1 >> 7 & 3, o2 = hw1 >> 4 & 3, t = hw2 >> 12, t2 = d;
			if (o1 == 0 && o2 == 0) /* strex */
				return wr(s, d);
			if (o1 == 0 && o2 == 1) /* ldrex */
				return wr(s, t);
			if (o1 == 1 && o2 == 0) /* strexb, h, d */
				return wr(s, hw2 & 15);
			if (o1 == 1 && o2 == 1) {
				if ((hw2 & 0xe0) == 0) /* tbb, tbh: targets unknown */
					return -1;
				if (wr(s, t))
					return -1;
				return (hw2 >> 4 & 15) == 7 ? wr(s, t2) : 0;
			}
			{ /* strd, ldrd */
				uint32_t p = hw1 >> 8 & 1, u = hw1 >> 7 & 1, w = hw1 >> 5 & 1,
					 l = hw1 >> 4 & 1;
				int64_t imm = (int64_t)(hw2 & 0xff) * 4;
				if (!u)
					imm = -imm;
				if (n == SP && !w && p) {
					int64_t off = imm - s->sp_off;
					if (l)
						return load_slot(s, t, off) || load_slot(s, t2, off + 4)
							       ? -1 : 0;
					return store_sp(s, t, imm) || store_sp(s, t2, imm + 4) ? -1 : 0;
				}
				if (n == SP || n == PC)
					return n == PC && l && !w ? wr_mask(s, 1u << t | 1u << t2) : -1;
				if (l && wr_mask(s, 1u << t | 1u << t2))
					return -1;
				return w ? wr(s, n) : 0;
			}
		}
		if ((hw1 & 0x0600) == 0x0200) { /* data processing, shifted register */
			uint32_t op = hw1 >> 5 & 15, sflag = hw1 >> 4 & 1;
			if (d == 15 && sflag && (op == 0 || op == 4 || op == 8 || op == 13))
				return 0; /* tst, teq, cmn, cmp */
			if (op == 2 && n == 15 && (hw2 & 0x70f0) == 0) { /* mov.w rd, rm */
				uint32_t m = hw2 & 15;
				if (d == FP && m == SP)
					return add_imm(s, FP, SP, 0);
				if (d == SP && m == FP && s->cfa_reg == FP) {
					if (set_sp_off(s, s->cfa_off))
						return -1;
					s->cfa_reg = SP;
					return 0;
				}
			}
			return wr(s, d);
		}
		/* mrrc/mrrc2 (the counter, cp15): Rt and Rt2 */
		if ((hw1 & 0xeff0) == 0xec50) {
			if (wr(s, hw2 >> 12) || wr(s, hw1 & 15))
				return -1;
			return 0;
		}
		/* mrc/mrc2: Rt, or the flags when Rt is pc */
		if ((hw1 & 0xef10) == 0xee10 && (hw2 & 0x10))
			return (hw2 >> 12) == 15 ? 0 : wr(s, hw2 >> 12);
		/* coprocessor: vpush, vpop of d registers */
		if ((hw1 & 0xffbf) == 0xed2d && (hw2 & 0x0f00) == 0x0b00 && !(hw2 & 1)) {
			uint32_t first = (hw1 >> 2 & 16) | hw2 >> 12;
			return vpush(s, first, (hw2 & 0xff) / 2);
		}
		if ((hw1 & 0xffbf) == 0xecbd && (hw2 & 0x0f00) == 0x0b00 && !(hw2 & 1)) {
			uint32_t first = (hw1 >> 2 & 16) | hw2 >> 12;
			return vpop(s, first, (hw2 & 0xff) / 2);
		}
		return -1;
	}
	if (op1 == 2) {
		if (!(hw2 & 0x8000)) {
			if (!(hw1 & 0x200)) { /* data processing, modified immediate */
				uint32_t op = hw1 >> 5 & 15, sflag = hw1 >> 4 & 1;
				uint32_t imm = expand_imm((hw1 >> 10 & 1) << 11 | (hw2 >> 4 & 0x700) |
							  (hw2 & 0xff));
				if (d == 15 && sflag && (op == 0 || op == 4 || op == 8 || op == 13))
					return 0;
				if (op == 8)
					return add_imm(s, d, n, imm);
				if (op == 13)
					return add_imm(s, d, n, -(int64_t)imm);
				return d == SP || d == PC ? -1 : wr(s, d);
			}
			{ /* plain binary immediate */
				uint32_t op = hw1 >> 4 & 31;
				uint32_t imm = (hw1 >> 10 & 1) << 11 | (hw2 >> 4 & 0x700) | (hw2 & 0xff);
				if (op == 0)
					return add_imm(s, d, n, imm);
				if (op == 10)
					return add_imm(s, d, n, -(int64_t)imm);
				if (op & 1)
					return -1;
				return d == SP || d == PC ? -1 : wr(s, d);
			}
		}
		/* branches and miscellaneous control */
		{
			uint32_t op2 = hw2 >> 12 & 5, sbit = hw1 >> 10 & 1;
			uint32_t j1 = hw2 >> 13 & 1, j2 = hw2 >> 11 & 1;
			if (op2 == 0) {
				if ((hw1 >> 7 & 7) != 7) { /* b<cond>.w */
					uint32_t imm = sbit << 20 | j2 << 19 | j1 << 18 |
						       (hw1 & 0x3f) << 12 | (hw2 & 0x7ff) << 1;
					if (s->it)
						return -1;
					in->flow = COND;
					in->target = addr + 4 + (uint64_t)sext(imm, 21);
					return 0;
				}
				if (hw1 == 0xf3af && (hw2 & 0xff00) == 0x8000) /* hints */
					return (hw2 & 0xff) <= 4 ? 0 : -1;
				if (hw1 == 0xf3bf && (hw2 & 0xff80) == 0x8f00) /* dsb, dmb, isb, clrex */
					return 0;
				if ((hw1 & 0xffef) == 0xf3ef && (hw2 & 0xf000) == 0x8000) /* mrs */
					return wr(s, d);
				if ((hw1 & 0xfff0) == 0xf7f0 && (hw2 & 0xf000) == 0xa000) { /* udf.w */
					in->flow = END;
					return 0;
				}
				return -1;
			}
			{
				uint32_t i1 = !(j1 ^ sbit), i2 = !(j2 ^ sbit);
				uint32_t imm = sbit << 24 | i1 << 23 | i2 << 22 | (hw1 & 0x3ff) << 12 |
					       (hw2 & 0x7ff) << 1;
				int64_t off = sext(imm, 25);
				if (op2 == 1) { /* b.w */
					in->flow = JUMP;
					in->target = addr + 4 + (uint64_t)off;
					return 0;
				}
				in->flow = CALL;
				if (op2 == 5) /* bl */
					in->target = addr + 4 + (uint64_t)off;
				else if (hw2 & 1)
					return -1;
				else /* blx to ARM code */
					in->target = 0;
				return wr(s, LR);
			}
		}
	}
	/* op1 == 3 */
	if ((hw1 & 0x0600) == 0x0000) /* load/store single, memory hints */
		return (hw1 & 0x0110) == 0x0100 ? -1 : ldst_single(s, hw1, hw2);
	if ((hw1 & 0x0700) == 0x0200) /* data processing, register */
		return (hw2 & 0xf000) != 0xf000 ? -1 : wr(s, d);
	if ((hw1 & 0x0780) == 0x0300) /* multiply, multiply accumulate */
		return wr(s, d);
	if ((hw1 & 0x0780) == 0x0380) { /* long multiply, divide */
		uint32_t o1 = hw1 >> 4 & 7, o2 = hw2 >> 4 & 15;
		if ((o1 == 1 || o1 == 3) && o2 == 15)
			return wr(s, d);
		return wr(s, d) || wr(s, hw2 >> 12) ? -1 : 0;
	}
	return -1;
}

struct seen {
	uint64_t lo;      /* link-time address of byte 0 */
	size_t len;
	struct state *st; /* per byte; cfa_reg 0 = not reached */
	uint8_t *len_at;  /* instruction length starting there, 0 = none */
};

static int is_func_start(const struct vs_data *d, uint64_t addr)
{
	size_t lo = 0, hi = d->nfuncs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->funcs[mid].start < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->nfuncs && d->funcs[lo].start == addr;
}

static void entry_state(struct state *s)
{
	memset(s, 0, sizeof(*s));
	s->cfa_reg = SP;
	s->lr_live = 1;
}

/* Follows every path from ENTRY.  Calls to Thumb code are queued in CALLS.
 * Returns 0 when every path was understood, -1 when the function must be
 * left alone. */
static int analyze(const struct vs_data *d, struct seen *sn, uint64_t entry, uint64_t *calls,
		   size_t *ncalls)
{
	struct vs_work w;
	struct state s0, s;
	size_t steps = 0;
	uint64_t a;
	int rc = 0;

	entry_state(&s0);
	vs__work_init(&w, sizeof(s0));
	if (vs__work_push(&w, entry, &s0))
		return -ENOMEM;
	while (rc == 0 && vs__work_pop(&w, &a, &s)) {
		for (;;) {
			struct insn in;
			struct state before;
			size_t off, avail;
			const uint8_t *p;
			uint32_t hw1, hw2 = 0;
			int cond, r;

			/* a jump to another function, or out of the text, is a
			 * tail call: only from a frame as at the entry */
			if (a != entry && (is_func_start(d, a) || a < sn->lo || a - sn->lo >= sn->len)) {
				struct state e;
				entry_state(&e);
				e.lr_live = s.lr_live;
				if (memcmp(&s, &e, sizeof(e)) || !s.lr_live)
					rc = -1;
				break;
			}
			if ((a & 1) || ++steps > MAX_INSNS || vs__covered_by_cfi(d, a)) {
				rc = -1;
				break;
			}
			off = (size_t)(a - sn->lo);
			if (sn->st[off].cfa_reg) {
				/* paths may differ in whether lr still holds the
				 * return address (a loop that reuses lr once it was
				 * pushed): go on from here once more with the
				 * stricter "it does not" */
				struct state t = s;
				t.lr_live = sn->st[off].lr_live;
				if (memcmp(&sn->st[off], &t, sizeof(t)))
					rc = -1;
				if (rc || !sn->st[off].lr_live || s.lr_live)
					break;
			}
			if (a < d->link_base || a - d->link_base >= d->size) {
				rc = -1;
				break;
			}
			p = d->bytes + (a - d->link_base);
			avail = d->size - (size_t)(a - d->link_base);
			if (avail < 2) {
				rc = -1;
				break;
			}
			hw1 = (uint32_t)p[0] | (uint32_t)p[1] << 8;
			if ((hw1 >> 11) >= 0x1d) {
				if (avail < 4 || off + 4 > sn->len) {
					rc = -1;
					break;
				}
				hw2 = (uint32_t)p[2] | (uint32_t)p[3] << 8;
			}
			sn->st[off] = s;
			memset(&in, 0, sizeof(in));
			in.flow = NEXT;
			before = s;
			cond = s.it > 0;
			if (cond)
				s.it--;
			r = (hw1 >> 11) >= 0x1d ? thumb32(&s, a, hw1, hw2, &in)
						: thumb16(&s, a, hw1, &in);
			if (r == 1) { /* ldr pc, [sp], #4 */
				in.flow = END;
				in.ret = 1;
				r = 0;
			}
			if (r) {
				rc = -1;
				break;
			}
			sn->len_at[off] = (uint8_t)in.len;
			if (off + in.len > sn->len) {
				rc = -1;
				break;
			}
			if (cond) {
				/* executed or not: a return or a branch ends one
				 * path; anything else must leave the state alone */
				struct state skip = before;
				skip.it--;
				if (in.flow == END || in.flow == JUMP) {
					if (in.flow == JUMP) {
						if (skip.it) {
							rc = -1;
							break;
						}
						if ((rc = vs__work_push(&w, in.target, &s)))
							break;
					}
					s = skip;
					a += in.len;
					continue;
				}
				if (in.flow != CALL && memcmp(&s, &skip, sizeof(s))) {
					rc = -1;
					break;
				}
			}
			if (in.flow == END)
				break;
			if (in.flow == JUMP) {
				if (s.it) {
					rc = -1;
					break;
				}
				a = in.target & 0xffffffffu;
				continue;
			}
			if (in.flow == COND) {
				if ((rc = vs__work_push(&w, in.target & 0xffffffffu, &s)))
					break;
			}
			if (in.flow == CALL) {
				/* the callee's return lands here with lr gone */
				if (s.saved[LR] == 0 && !s.lr_live) {
					rc = -1;
					break;
				}
				if (in.target && *ncalls < VS_MAX_CALLS)
					calls[(*ncalls)++] = in.target & 0xffffffffu;
			}
			a += in.len;
		}
	}
	vs__work_free(&w);
	return rc;
}

static void synth_row(struct vs_synth *row, const struct state *s, uint64_t func)
{
	unsigned int r;

	memset(row, 0, sizeof(*row));
	row->func = func;
	row->cfa_reg = s->cfa_reg;
	row->cfa_off = s->cfa_off;
	row->ra = LR;
	for (r = 4; r <= 11; r++)
		if (s->saved[r])
			row->rules[row->nrules++] =
				(struct vs_synth_rule){ (uint16_t)r, VDSOSCOPE_RULE_OFFSET, s->saved[r] };
	if (s->saved[LR])
		row->rules[row->nrules++] =
			(struct vs_synth_rule){ LR, VDSOSCOPE_RULE_OFFSET, s->saved[LR] };
	else
		row->rules[row->nrules++] = (struct vs_synth_rule){ LR, VDSOSCOPE_RULE_REGISTER, LR };
	for (r = 0; r < 8; r++)
		if (s->dsaved[r])
			row->rules[row->nrules++] = (struct vs_synth_rule){
				(uint16_t)(VS_ARM_D0 + 8 + r), VDSOSCOPE_RULE_OFFSET, s->dsaved[r] };
}

/* 1 when the function at START is Thumb code (a symbol with bit 0 set) */
static int thumb_func(const struct vs_data *d, uint64_t start)
{
	size_t i, k;

	for (i = 0; i < d->nfuncs; i++)
		if (d->funcs[i].start == start) {
			for (k = 0; k < d->funcs[i].nnames; k++)
				if (d->names[d->funcs[i].first + k].flags & VDSOSCOPE_SYM_THUMB)
					return 1;
			return 0;
		}
	return 0;
}

/* The function at ENTRY; the image's text bounds it, not HI. */
static int function(const struct vs_data *d, uint64_t entry, uint64_t hi, uint64_t *calls,
		    size_t *ncalls, struct vs_rows *rows)
{
	struct seen sn = { .lo = d->text_lo, .len = (size_t)(d->text_hi - d->text_lo) };
	size_t off;
	int rc;

	(void)hi;
	if (entry < sn.lo || entry - sn.lo >= sn.len)
		return -1;
	sn.st = calloc(sn.len, sizeof(*sn.st));
	sn.len_at = calloc(sn.len, 1);
	rc = sn.st && sn.len_at ? analyze(d, &sn, entry, calls, ncalls) : -ENOMEM;
	for (off = 0; rc == 0 && off < sn.len; off++) {
		struct vs_synth row;
		if (!sn.st[off].cfa_reg || !sn.len_at[off])
			continue;
		synth_row(&row, &sn.st[off], entry);
		rc = vs__rows_add(rows, &row, sn.lo + off, sn.len_at[off]);
	}
	free(sn.st);
	free(sn.len_at);
	return rc;
}

int vs__analyze_arm(struct vs_data *d, const uint64_t *starts, size_t nstarts,
		    struct vs_synth **out, size_t *nout)
{
	return vs__analyze_run(d, starts, nstarts, 2, thumb_func, function, out, nout);
}
