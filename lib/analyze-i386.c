/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unwind rows for i386 code that has no CFI, from its instructions.
 *
 * Some kernels build the i386 vDSO's time functions without .eh_frame.  They
 * are ordinary frame-pointer code: "push %ebp; mov %esp,%ebp; push
 * callee-saved...; sub $n,%esp" and the mirror image before each ret.  Each
 * function (and each callee without a symbol, such as a get_pc_thunk) is
 * decoded along every path from its entry, tracking where the CFA is (ESP or
 * EBP plus an offset) and where callee-saved registers were pushed.  Any
 * instruction that moves ESP or EBP in a way not understood, any path that
 * reaches an instruction in two different states, and any opcode not decoded
 * abandon the function: it then simply has no rows.
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "analyze.h"

#define ESP 4
#define EBP 5
#define MAX_INSNS 65536

/* Immediate sizes of one-byte opcodes: 0 none, 1 ib, 2 iw, 4 iz (32-bit),
 * 6 iw+ib (enter); M: has ModRM; X: not decoded. */
#define M 0x10
#define X 0x80
static const unsigned char op1[256] = {
	/* 00 */ M, M, M, M, 1, 4, 0, 0, M, M, M, M, 1, 4, 0, X,
	/* 10 */ M, M, M, M, 1, 4, 0, 0, M, M, M, M, 1, 4, 0, 0,
	/* 20 */ M, M, M, M, 1, 4, X, 0, M, M, M, M, 1, 4, X, 0,
	/* 30 */ M, M, M, M, 1, 4, X, 0, M, M, M, M, 1, 4, X, 0,
	/* 40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 60 */ X, X, X, M, X, X, X, X, 4, M | 4, 1, M | 1, 0, 0, 0, 0,
	/* 70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 80 */ M | 1, M | 4, X, M | 1, M, M, M, M, M, M, M, M, M, M, M, M,
	/* 90 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, X, 0, 0, X, 0, 0,
	/* a0 */ 4, 4, 4, 4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0,
	/* b0 */ 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4,
	/* c0 */ M | 1, M | 1, 2, 0, X, X, M | 1, M | 4, X, 0, X, X, 0, 1, 0, X,
	/* d0 */ M, M, M, M, 1, 1, 0, 0, M, M, M, M, M, M, M, M,
	/* e0 */ 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, X, 1, 0, 0, 0, 0,
	/* f0 */ X, 0, X, X, 0, 0, M, M, 0, 0, 0, 0, 0, 0, M, M,
};

struct insn {
	uint32_t len;
	uint8_t op;        /* first opcode byte (0x0f for two-byte ones) */
	uint8_t op2;       /* second opcode byte of 0x0f xx */
	uint8_t modrm, has_modrm;
	int32_t disp;
	int64_t imm;
	int64_t rel;       /* branch displacement */
};

/* Decodes the instruction at P (AVAIL bytes).  Returns 0 or -1. */
static int decode(const uint8_t *p, size_t avail, struct insn *in)
{
	size_t i = 0, imm = 0;
	int opsize16 = 0;
	uint8_t f;

	memset(in, 0, sizeof(*in));
	for (;; i++) {
		if (i >= avail || i > 4)
			return -1;
		if (p[i] == 0x66)
			opsize16 = 1;
		else if (p[i] == 0x67)
			return -1; /* 16-bit addressing: never in the vDSO */
		else if (p[i] != 0xf0 && p[i] != 0xf2 && p[i] != 0xf3 && p[i] != 0x2e &&
			 p[i] != 0x3e && p[i] != 0x26 && p[i] != 0x36 && p[i] != 0x64 && p[i] != 0x65)
			break;
	}
	in->op = p[i++];
	if (in->op == 0x0f) {
		uint8_t b;
		if (i >= avail)
			return -1;
		b = in->op2 = p[i++];
		if (b >= 0x80 && b <= 0x8f) {
			imm = 4;
			in->rel = 1;
		} else if (b == 0x38) {
			if (i >= avail)
				return -1;
			i++;
			in->has_modrm = 1;
		} else if (b == 0x3a) {
			if (i >= avail)
				return -1;
			i++;
			in->has_modrm = 1;
			imm = 1;
		} else if (b == 0x05 || b == 0x06 || b == 0x07 || b == 0x08 || b == 0x09 ||
			   b == 0x0b || b == 0x0e || b == 0x77 || (b >= 0x30 && b <= 0x37) ||
			   b == 0xa0 || b == 0xa1 || b == 0xa2 || b == 0xa8 || b == 0xa9 ||
			   b == 0xaa || (b >= 0xc8 && b <= 0xcf)) {
			/* no ModRM */
		} else if (b == 0x70 || b == 0x71 || b == 0x72 || b == 0x73 || b == 0xa4 ||
			   b == 0xac || b == 0xba || b == 0xc2 || b == 0xc4 || b == 0xc5 || b == 0xc6) {
			in->has_modrm = 1;
			imm = 1;
		} else if (b == 0x04 || b == 0x0a || b == 0x0c || b == 0x0f || b == 0x24 ||
			   b == 0x25 || b == 0x26 || b == 0x27 || b == 0x36 || b == 0x39 ||
			   b == 0x3b || b == 0x3c || b == 0x3d || b == 0x3e || b == 0x3f ||
			   b == 0x7a || b == 0x7b || b == 0xff) {
			return -1;
		} else {
			in->has_modrm = 1;
		}
	} else {
		f = op1[in->op];
		if (f & X)
			return -1;
		in->has_modrm = (f & M) != 0;
		imm = f & 0x0f;
		if (imm == 4 && opsize16 && in->op != 0xe8 && in->op != 0xe9 &&
		    !(in->op >= 0xa0 && in->op <= 0xa3))
			imm = 2;
		if (in->op == 0xf6 || in->op == 0xf7) {
			/* test has an immediate, the others none */
			if (i >= avail)
				return -1;
			if (((p[i] >> 3) & 7) < 2)
				imm = in->op == 0xf6 ? 1 : (opsize16 ? 2 : 4);
		}
		if ((in->op >= 0x70 && in->op <= 0x7f) || in->op == 0xeb || in->op == 0xe8 ||
		    in->op == 0xe9 || (in->op >= 0xe0 && in->op <= 0xe3))
			in->rel = 1;
	}
	if (in->has_modrm) {
		uint8_t mod, rm;
		if (i >= avail)
			return -1;
		in->modrm = p[i++];
		mod = in->modrm >> 6;
		rm = in->modrm & 7;
		if (mod != 3 && rm == 4) {
			if (i >= avail)
				return -1;
			if (mod == 0 && (p[i] & 7) == 5)
				mod = 2; /* disp32, no base */
			i++;
		}
		if (mod == 1) {
			if (i >= avail)
				return -1;
			in->disp = (int8_t)p[i++];
		} else if (mod == 2 || (mod == 0 && rm == 5)) {
			if (i + 4 > avail)
				return -1;
			in->disp = (int32_t)((uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
					     (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24);
			i += 4;
		}
	}
	if (i + imm > avail)
		return -1;
	if (imm == 1)
		in->imm = (int8_t)p[i];
	else if (imm == 2)
		in->imm = (int16_t)(p[i] | p[i + 1] << 8);
	else if (imm == 4)
		in->imm = (int32_t)((uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
				    (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24);
	if (in->rel)
		in->rel = in->imm;
	i += imm;
	in->len = (uint32_t)i;
	return 0;
}

/* Where the CFA is (ESP or EBP plus cfa_off), how far below it ESP is
 * (sp_off, when sp_known), and where callee-saved registers were pushed
 * (offset from the CFA; 0: not saved). */
struct state {
	uint8_t cfa_reg;    /* ESP or EBP; 0: not yet reached */
	uint8_t sp_known;
	int32_t cfa_off;
	int32_t sp_off;
	int32_t saved[8];
};

static int same(const struct state *a, const struct state *b)
{
	return a->cfa_reg == b->cfa_reg && a->sp_known == b->sp_known &&
	       a->cfa_off == b->cfa_off && a->sp_off == b->sp_off &&
	       !memcmp(a->saved, b->saved, sizeof(a->saved));
}

/* The register an instruction writes through its ModRM operands, or -1. */
static int dest_reg(const struct insn *in)
{
	uint8_t op = in->op, reg = (in->modrm >> 3) & 7, rm = in->modrm & 7;
	int rm_is_reg = in->has_modrm && (in->modrm >> 6) == 3;

	if (!in->has_modrm)
		return -1;
	if (op == 0x0f) {
		uint8_t b = in->op2;
		if ((b >= 0x40 && b <= 0x4f) || b == 0xaf || b == 0xb6 || b == 0xb7 ||
		    b == 0xbe || b == 0xbf || b == 0xbc || b == 0xbd)
			return reg;
		if (((b >= 0x90 && b <= 0x9f) || b == 0xa4 || b == 0xa5 || b == 0xac ||
		     b == 0xad || b == 0xab || b == 0xb3 || b == 0xbb || b == 0xc1 ||
		     b == 0xb1) && rm_is_reg)
			return rm;
		return -1;
	}
	if (op <= 0x3f && (op & 7) <= 3) {
		if ((op & 0x38) == 0x38)
			return -1; /* cmp */
		if (op & 2)
			return reg;
		return rm_is_reg ? rm : -1;
	}
	switch (op) {
	case 0x8a: case 0x8b: case 0x8d: case 0x69: case 0x6b:
		return reg;
	case 0x88: case 0x89: case 0xc6: case 0xc7: case 0xc0: case 0xc1:
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		return rm_is_reg ? rm : -1;
	case 0x80: case 0x81: case 0x83:
		return reg != 7 && rm_is_reg ? rm : -1;
	case 0xf6: case 0xf7:
		return (reg == 2 || reg == 3) && rm_is_reg ? rm : -1;
	case 0xfe: case 0xff:
		return reg <= 1 && rm_is_reg ? rm : -1;
	case 0x86: case 0x87:
		return rm_is_reg ? (rm == ESP || rm == EBP ? rm : reg) : reg;
	}
	return -1;
}

static void sync_cfa(struct state *s)
{
	if (s->cfa_reg == ESP)
		s->cfa_off = s->sp_off;
}

/* Frames larger than this are not vDSO code: the function is left alone
 * (and the offsets never overflow). */
#define MAX_FRAME (1 << 20)

static int set_sp_off(struct state *s, int64_t off)
{
	if (off < -MAX_FRAME || off > MAX_FRAME)
		return -1;
	s->sp_off = (int32_t)off;
	sync_cfa(s);
	return 0;
}

static int push(struct state *s, int reg)
{
	if (!s->sp_known)
		return reg >= 0 && (reg == 3 || reg >= 5) && !s->saved[reg] ? -1 : 0;
	s->sp_off += 4;
	sync_cfa(s);
	if (reg >= 0 && (reg == 3 || reg >= 5) && !s->saved[reg])
		s->saved[reg] = -s->sp_off;
	return 0;
}

/* EBP is about to change: a CFA kept in it moves to ESP. */
static int release_ebp(struct state *s)
{
	if (s->cfa_reg != EBP)
		return 0;
	if (!s->sp_known)
		return -1;
	s->cfa_reg = ESP;
	s->cfa_off = s->sp_off;
	return 0;
}

/* Applies IN to S.  Returns 0, or -1 when the effect on ESP or EBP is not
 * understood. */
static int apply(struct state *s, const struct insn *in)
{
	uint8_t op = in->op, reg = (in->modrm >> 3) & 7, rm = in->modrm & 7;
	int d;

	if (op >= 0x50 && op <= 0x57) /* push r32 */
		return push(s, op - 0x50);
	if (op >= 0x58 && op <= 0x5f) { /* pop r32 */
		unsigned r = op - 0x58;
		if (r == ESP || (r == EBP && release_ebp(s)) || !s->sp_known)
			return -1;
		if (s->saved[r] == -s->sp_off)
			s->saved[r] = 0;
		s->sp_off -= 4;
		sync_cfa(s);
		return 0;
	}
	if (op == 0x68 || op == 0x6a || (op == 0xff && reg == 6) || (op == 0xe8 && in->rel == 0))
		return push(s, -1); /* push imm, push m, call to the next insn */
	if (op == 0x8f) { /* pop m */
		if (!s->sp_known)
			return -1;
		s->sp_off -= 4;
		sync_cfa(s);
		return 0;
	}
	if (op == 0xc9) { /* leave: mov %ebp,%esp; pop %ebp */
		if (s->cfa_reg != EBP)
			return -1;
		s->sp_known = 1;
		s->sp_off = s->cfa_off;
		s->cfa_reg = ESP;
		if (s->saved[EBP] == -s->sp_off)
			s->saved[EBP] = 0;
		s->sp_off -= 4;
		sync_cfa(s);
		return 0;
	}
	if ((op == 0x89 && in->modrm == 0xe5) || (op == 0x8b && in->modrm == 0xec)) {
		/* mov %esp,%ebp */
		if (!s->sp_known)
			return -1;
		s->cfa_reg = EBP;
		s->cfa_off = s->sp_off;
		return 0;
	}
	if ((op == 0x89 && in->modrm == 0xec) || (op == 0x8b && in->modrm == 0xe5)) {
		/* mov %ebp,%esp */
		if (s->cfa_reg != EBP)
			return -1;
		s->sp_known = 1;
		s->sp_off = s->cfa_off;
		s->cfa_reg = ESP;
		return 0;
	}
	if ((op == 0x83 || op == 0x81) && (in->modrm >> 6) == 3 && rm == ESP) {
		if ((reg == 0 || reg == 5) && s->sp_known) { /* add/sub $imm,%esp */
			return set_sp_off(s, (int64_t)s->sp_off + (reg == 5 ? in->imm : -in->imm));
		}
		if (reg == 4 && s->cfa_reg == EBP) { /* and $-n,%esp: realigned */
			s->sp_known = 0;
			s->sp_off = 0;
			return 0;
		}
		if (reg == 7)
			return 0; /* cmp */
		return -1;
	}
	if (op == 0x8d && reg == ESP) { /* lea disp(base),%esp */
		unsigned mod = in->modrm >> 6;
		if (mod == 3 || (mod == 0 && rm != ESP))
			return -1;
		if (rm == EBP && s->cfa_reg == EBP) {
			s->sp_known = 1;
			return set_sp_off(s, (int64_t)s->cfa_off - in->disp);
		}
		if (rm == ESP && s->sp_known) {
			return set_sp_off(s, (int64_t)s->sp_off - in->disp);
		}
		return -1;
	}
	if ((op >= 0xb8 && op <= 0xbf) || (op >= 0x40 && op <= 0x4f) || (op >= 0x91 && op <= 0x97)) {
		/* mov $imm,r; inc r; dec r; xchg %eax,r */
		unsigned r = op & 7;
		if (r == ESP)
			return -1;
		return r == EBP ? release_ebp(s) : 0;
	}
	d = dest_reg(in);
	if (d == ESP)
		return -1;
	if (d == EBP || ((op == 0x86 || op == 0x87) && (reg == EBP || rm == EBP)))
		return release_ebp(s);
	if ((op == 0x86 || op == 0x87) && (reg == ESP))
		return -1;
	return 0;
}

struct seen {
	uint64_t lo;      /* link-time address of byte 0 */
	size_t len;
	struct state *st; /* per byte; cfa_reg 0 = not reached */
	uint8_t *len_at;  /* instruction length starting there, 0 = none */
};

/* Follows every path from ENTRY.  Calls inside [lo, hi) to addresses that
 * are not known functions are queued in CALLS.  Returns 0 when every path
 * was understood, -1 when the function must be left alone. */
static int analyze(const struct vs_data *d, struct seen *sn, uint64_t entry, uint64_t *calls,
		   size_t *ncalls)
{
	struct vs_work w;
	struct state s0, s;
	size_t steps = 0;
	uint64_t a;
	int rc = 0;

	memset(&s0, 0, sizeof(s0));
	s0.cfa_reg = ESP;
	s0.cfa_off = 4;
	s0.sp_off = 4;
	s0.sp_known = 1;
	vs__work_init(&w, sizeof(s0));
	if (vs__work_push(&w, entry, &s0))
		return -ENOMEM;
	while (rc == 0 && vs__work_pop(&w, &a, &s)) {
		for (;;) {
			struct insn in;
			size_t off;

			if (a < sn->lo || a - sn->lo >= sn->len || ++steps > MAX_INSNS) {
				rc = -1;
				break;
			}
			off = (size_t)(a - sn->lo);
			if (sn->st[off].cfa_reg) {
				if (!same(&sn->st[off], &s))
					rc = -1;
				break;
			}
			if (decode(d->bytes + (a - d->link_base), d->size - (size_t)(a - d->link_base),
				   &in)) {
				rc = -1;
				break;
			}
			if (off + in.len > sn->len) {
				rc = -1;
				break;
			}
			sn->st[off] = s;
			sn->len_at[off] = (uint8_t)in.len;
			if (apply(&s, &in)) {
				rc = -1;
				break;
			}
			if (in.op == 0xc3 || in.op == 0xc2) /* ret */
				break;
			if (in.op == 0xe9 || in.op == 0xeb) { /* jmp */
				a = a + in.len + (uint64_t)in.rel;
				a &= 0xffffffffu;
				continue;
			}
			if ((in.op >= 0x70 && in.op <= 0x7f) || (in.op == 0x0f && in.op2 >= 0x80 &&
								  in.op2 <= 0x8f) ||
			    (in.op >= 0xe0 && in.op <= 0xe3)) {
				uint64_t t = (a + in.len + (uint64_t)in.rel) & 0xffffffffu;
				if ((rc = vs__work_push(&w, t, &s)))
					break;
			}
			if (in.op == 0xe8 && in.rel != 0 && *ncalls < VS_MAX_CALLS) {
				uint64_t t = (a + in.len + (uint64_t)in.rel) & 0xffffffffu;
				calls[(*ncalls)++] = t;
			}
			if (in.op == 0xff && (((in.modrm >> 3) & 7) == 4 || ((in.modrm >> 3) & 7) == 5)) {
				rc = -1; /* indirect jump: targets unknown */
				break;
			}
			if (in.op == 0xcc || in.op == 0xf4 || (in.op == 0x0f && in.op2 == 0x0b))
				break;
			a += in.len;
		}
	}
	vs__work_free(&w);
	return rc;
}

/* The row of state S in function FUNC: the return address at CFA-4. */
static void synth_row(struct vs_synth *row, const struct state *s, uint64_t func)
{
	unsigned int r;

	memset(row, 0, sizeof(*row));
	row->func = func;
	row->cfa_reg = s->cfa_reg;
	row->cfa_off = s->cfa_off;
	row->ra = 8;
	row->rules[row->nrules++] = (struct vs_synth_rule){ 8, VDSOSCOPE_RULE_OFFSET, -4 };
	for (r = 0; r < 8; r++)
		if (s->saved[r])
			row->rules[row->nrules++] =
				(struct vs_synth_rule){ (uint16_t)r, VDSOSCOPE_RULE_OFFSET, s->saved[r] };
}

/* The function at ENTRY; the image's text bounds it, not HI. */
static int function(const struct vs_data *d, uint64_t entry, uint64_t hi, uint64_t *calls,
		    size_t *ncalls, struct vs_rows *rows)
{
	struct seen sn = { .lo = d->text_lo, .len = (size_t)(d->text_hi - d->text_lo) };
	size_t off;
	int rc;

	(void)hi;
	sn.st = calloc(sn.len, sizeof(*sn.st));
	sn.len_at = calloc(sn.len, 1);
	rc = sn.st && sn.len_at ? analyze(d, &sn, entry, calls, ncalls) : -ENOMEM;
	for (off = 0; rc == 0 && off < sn.len; off++) {
		struct vs_synth row;
		if (!sn.st[off].cfa_reg)
			continue;
		synth_row(&row, &sn.st[off], entry);
		rc = vs__rows_add(rows, &row, sn.lo + off, sn.len_at[off]);
	}
	free(sn.st);
	free(sn.len_at);
	return rc;
}

int vs__analyze_i386(struct vs_data *d, const uint64_t *starts, size_t nstarts,
		     struct vs_synth **out, size_t *nout)
{
	return vs__analyze_run(d, starts, nstarts, 1, NULL, function, out, nout);
}
