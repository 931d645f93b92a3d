/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DWARF expressions of CFI rules, with a bounded stack and bounded steps.
 * Control flow (DW_OP_skip, DW_OP_bra) is refused: no vDSO uses it, and
 * without it every expression ends. */
#include "config.h"
#include <dwarf.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "dwarf-write.h"

static uint64_t load(const struct vs_data *d, const unsigned char *b, unsigned int n)
{
	struct vs_elf r = d->elf;

	r.data = b;
	r.size = n;
	switch (n) {
	case 1: return b[0];
	case 2: return vs_elf_u16(&r, 0);
	case 4: return vs_elf_u32(&r, 0);
	default: return vs_elf_u64(&r, 0);
	}
}

static int binary_op(uint8_t a)
{
	switch (a) {
	case DW_OP_plus: case DW_OP_minus: case DW_OP_mul: case DW_OP_div: case DW_OP_mod:
	case DW_OP_and: case DW_OP_or: case DW_OP_xor: case DW_OP_shl: case DW_OP_shr:
	case DW_OP_shra: case DW_OP_eq: case DW_OP_ne: case DW_OP_lt: case DW_OP_le:
	case DW_OP_gt: case DW_OP_ge:
		return 1;
	}
	return 0;
}

int vs__expr_eval(const struct vs_data *d, const struct vs_op *ops, size_t n,
		  const struct vdsoscope_regs *regs, uint64_t bias,
		  vdsoscope_read_fn read, void *arg,
		  int have_initial, uint64_t initial, uint64_t *result, const char **why)
{
	uint64_t st[VS_EXPR_STACK];
	unsigned int sp = 0, asz = d->arch ? d->arch->addr_size : (d->elf.is64 ? 8 : 4);
	uint64_t mask = asz == 8 ? ~0ull : 0xffffffffull;
	size_t i;

	(void)bias;
#define FAIL(code, text) do { if (why) *why = (text); return -(code); } while (0)
	if (n > VS_EXPR_STEPS)
		FAIL(VDSOSCOPE_E_BAD_EXPR, "too many operations");
#define NEED(k) do { if (sp < (k)) FAIL(VDSOSCOPE_E_BAD_EXPR, "stack underflow"); } while (0)
#define PUSH(v) do { uint64_t v_ = (v); if (sp >= VS_EXPR_STACK) FAIL(VDSOSCOPE_E_BAD_EXPR, "stack overflow (more than 64 entries)"); st[sp++] = v_ & mask; } while (0)
	if (have_initial)
		PUSH(initial);
	for (i = 0; i < n; i++) {
		const struct vs_op *op = &ops[i];
		uint8_t a = op->atom;
		uint64_t x, y;

		if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
			PUSH((uint64_t)(a - DW_OP_lit0));
			continue;
		}
		if ((a >= DW_OP_breg0 && a <= DW_OP_breg31) || a == DW_OP_bregx) {
			unsigned int r = a == DW_OP_bregx ? (unsigned int)op->n1 : (unsigned int)(a - DW_OP_breg0);
			uint64_t off = a == DW_OP_bregx ? op->n2 : op->n1;
			if (!vdsoscope_regs_has(regs, r))
				FAIL(VDSOSCOPE_E_REG_UNDEFINED, "a register it reads is not known");
			PUSH(regs->r[r] + off);
			continue;
		}
		switch (a) {
		case DW_OP_addr:
		case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u: case DW_OP_const2s:
		case DW_OP_const4u: case DW_OP_const4s: case DW_OP_const8u: case DW_OP_const8s:
		case DW_OP_constu: case DW_OP_consts:
			PUSH(op->n1);
			break;
		case DW_OP_call_frame_cfa:
			if (!have_initial)
				FAIL(VDSOSCOPE_E_BAD_EXPR, "DW_OP_call_frame_cfa in the CFA's own rule");
			PUSH(initial);
			break;
		case DW_OP_dup: NEED(1); PUSH(st[sp - 1]); break;
		case DW_OP_drop: NEED(1); sp--; break;
		case DW_OP_over: NEED(2); PUSH(st[sp - 2]); break;
		case DW_OP_pick:
			if (op->n1 >= sp)
				FAIL(VDSOSCOPE_E_BAD_EXPR, "DW_OP_pick below the stack");
			PUSH(st[sp - 1 - op->n1]);
			break;
		case DW_OP_swap: NEED(2); x = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = x; break;
		case DW_OP_rot:
			NEED(3);
			x = st[sp - 1];
			st[sp - 1] = st[sp - 2];
			st[sp - 2] = st[sp - 3];
			st[sp - 3] = x;
			break;
		case DW_OP_deref:
		case DW_OP_deref_size: {
			unsigned char b[8];
			unsigned int sz = a == DW_OP_deref ? asz : (unsigned int)op->n1;
			NEED(1);
			if (sz == 0 || sz > 8 || (sz & (sz - 1)))
				FAIL(VDSOSCOPE_E_BAD_EXPR, "DW_OP_deref_size of an impossible size");
			if (read(arg, st[sp - 1], b, sz))
				FAIL(VDSOSCOPE_E_MEMORY, "memory it dereferences is unreadable");
			st[sp - 1] = load(d, b, sz) & mask;
			break;
		}
		case DW_OP_plus_uconst: NEED(1); st[sp - 1] = (st[sp - 1] + op->n1) & mask; break;
		case DW_OP_abs: NEED(1); if ((int64_t)st[sp - 1] < 0) st[sp - 1] = -st[sp - 1] & mask; break;
		case DW_OP_neg: NEED(1); st[sp - 1] = -st[sp - 1] & mask; break;
		case DW_OP_not: NEED(1); st[sp - 1] = ~st[sp - 1] & mask; break;
		case DW_OP_nop: break;
		default:
			if (!binary_op(a))
				FAIL(VDSOSCOPE_E_BAD_EXPR, "an operation CFI rules cannot use");
			NEED(2);
			y = st[--sp];
			x = st[sp - 1];
			switch (a) {
			case DW_OP_plus: x += y; break;
			case DW_OP_minus: x -= y; break;
			case DW_OP_mul: x *= y; break;
			case DW_OP_div:
				if (y == 0)
					FAIL(VDSOSCOPE_E_BAD_EXPR, "division by zero");
				if ((int64_t)x == INT64_MIN && (int64_t)y == -1)
					FAIL(VDSOSCOPE_E_BAD_EXPR, "division overflows");
				x = (uint64_t)((int64_t)x / (int64_t)y);
				break;
			case DW_OP_mod:
				if (y == 0)
					FAIL(VDSOSCOPE_E_BAD_EXPR, "modulo by zero");
				x %= y;
				break;
			case DW_OP_and: x &= y; break;
			case DW_OP_or: x |= y; break;
			case DW_OP_xor: x ^= y; break;
			case DW_OP_shl: x = y >= 64 ? 0 : x << y; break;
			case DW_OP_shr: x = y >= 64 ? 0 : x >> y; break;
			case DW_OP_shra: x = (uint64_t)((int64_t)x >> (y >= 63 ? 63 : y)); break;
			case DW_OP_eq: x = x == y; break;
			case DW_OP_ne: x = x != y; break;
			case DW_OP_lt: x = (int64_t)x < (int64_t)y; break;
			case DW_OP_le: x = (int64_t)x <= (int64_t)y; break;
			case DW_OP_gt: x = (int64_t)x > (int64_t)y; break;
			case DW_OP_ge: x = (int64_t)x >= (int64_t)y; break;
			default:
				FAIL(VDSOSCOPE_E_BAD_EXPR, "an operation CFI rules cannot use");
			}
			st[sp - 1] = x & mask;
		}
	}
#undef NEED
#undef PUSH
	if (sp == 0)
		FAIL(VDSOSCOPE_E_BAD_EXPR, "empty result");
#undef FAIL
	*result = st[sp - 1];
	return 0;
}

/* DW_OP_ names without the prefix, for the operations without a shorter
 * spelling below */
static const char *const op_names[256] = {
	[DW_OP_addr] = "addr",
	[DW_OP_deref] = "deref",
	[DW_OP_const1u] = "const1u",
	[DW_OP_const1s] = "const1s",
	[DW_OP_const2u] = "const2u",
	[DW_OP_const2s] = "const2s",
	[DW_OP_const4u] = "const4u",
	[DW_OP_const4s] = "const4s",
	[DW_OP_const8u] = "const8u",
	[DW_OP_const8s] = "const8s",
	[DW_OP_constu] = "constu",
	[DW_OP_consts] = "consts",
	[DW_OP_dup] = "dup",
	[DW_OP_drop] = "drop",
	[DW_OP_over] = "over",
	[DW_OP_pick] = "pick",
	[DW_OP_swap] = "swap",
	[DW_OP_rot] = "rot",
	[DW_OP_xderef] = "xderef",
	[DW_OP_abs] = "abs",
	[DW_OP_and] = "and",
	[DW_OP_div] = "div",
	[DW_OP_minus] = "minus",
	[DW_OP_mod] = "mod",
	[DW_OP_mul] = "mul",
	[DW_OP_neg] = "neg",
	[DW_OP_not] = "not",
	[DW_OP_or] = "or",
	[DW_OP_plus] = "plus",
	[DW_OP_plus_uconst] = "plus_uconst",
	[DW_OP_shl] = "shl",
	[DW_OP_shr] = "shr",
	[DW_OP_shra] = "shra",
	[DW_OP_xor] = "xor",
	[DW_OP_bra] = "bra",
	[DW_OP_eq] = "eq",
	[DW_OP_ge] = "ge",
	[DW_OP_gt] = "gt",
	[DW_OP_le] = "le",
	[DW_OP_lt] = "lt",
	[DW_OP_ne] = "ne",
	[DW_OP_skip] = "skip",
	[DW_OP_regx] = "regx",
	[DW_OP_fbreg] = "fbreg",
	[DW_OP_bregx] = "bregx",
	[DW_OP_piece] = "piece",
	[DW_OP_deref_size] = "deref_size",
	[DW_OP_xderef_size] = "xderef_size",
	[DW_OP_nop] = "nop",
	[DW_OP_push_object_address] = "push_object_address",
	[DW_OP_call2] = "call2",
	[DW_OP_call4] = "call4",
	[DW_OP_call_ref] = "call_ref",
	[DW_OP_form_tls_address] = "form_tls_address",
	[DW_OP_call_frame_cfa] = "call_frame_cfa",
	[DW_OP_bit_piece] = "bit_piece",
	[DW_OP_implicit_value] = "implicit_value",
	[DW_OP_stack_value] = "stack_value",
	[DW_OP_implicit_pointer] = "implicit_pointer",
	[DW_OP_addrx] = "addrx",
	[DW_OP_constx] = "constx",
	[DW_OP_entry_value] = "entry_value",
	[DW_OP_const_type] = "const_type",
	[DW_OP_regval_type] = "regval_type",
	[DW_OP_deref_type] = "deref_type",
	[DW_OP_xderef_type] = "xderef_type",
	[DW_OP_convert] = "convert",
	[DW_OP_reinterpret] = "reinterpret",
	[DW_OP_GNU_push_tls_address] = "GNU_push_tls_address",
	[DW_OP_GNU_uninit] = "GNU_uninit",
	[DW_OP_GNU_encoded_addr] = "GNU_encoded_addr",
	[DW_OP_GNU_implicit_pointer] = "GNU_implicit_pointer",
	[DW_OP_GNU_entry_value] = "GNU_entry_value",
	[DW_OP_GNU_const_type] = "GNU_const_type",
	[DW_OP_GNU_regval_type] = "GNU_regval_type",
	[DW_OP_GNU_deref_type] = "GNU_deref_type",
	[DW_OP_GNU_convert] = "GNU_convert",
	[DW_OP_GNU_reinterpret] = "GNU_reinterpret",
	[DW_OP_GNU_parameter_ref] = "GNU_parameter_ref",
	[DW_OP_GNU_addr_index] = "GNU_addr_index",
	[DW_OP_GNU_const_index] = "GNU_const_index",
	[DW_OP_GNU_variable_value] = "GNU_variable_value",
};

int vs__expr_format(const struct vs_data *d, const struct vs_op *ops, size_t n, char *buf,
		    size_t len)
{
	size_t i, used = 0;

	buf[0] = 0;
	for (i = 0; i < n; i++) {
		const struct vs_op *op = &ops[i];
		char one[64];
		uint8_t a = op->atom;

		if ((a >= DW_OP_breg0 && a <= DW_OP_breg31) || a == DW_OP_bregx) {
			unsigned int r = a == DW_OP_bregx ? (unsigned int)op->n1 : (unsigned int)(a - DW_OP_breg0);
			int64_t off = (int64_t)(a == DW_OP_bregx ? op->n2 : op->n1);
			const char *rn = a != DW_OP_bregx || op->n1 <= 0xffff
						 ? vdsoscope_arch_reg_name(d->arch, r) : NULL;
			if (rn)
				snprintf(one, sizeof(one), "%s%+lld", rn, (long long)off);
			else
				snprintf(one, sizeof(one), "r%u%+lld", r, (long long)off);
		} else if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
			snprintf(one, sizeof(one), "%d", a - DW_OP_lit0);
		} else if ((a >= DW_OP_reg0 && a <= DW_OP_reg31) || a == DW_OP_regx) {
			uint64_t r = a == DW_OP_regx ? op->n1 : (uint64_t)(a - DW_OP_reg0);
			const char *rn = r <= 0xffff ? vdsoscope_arch_reg_name(d->arch, (unsigned int)r) : NULL;
			if (rn)
				snprintf(one, sizeof(one), "reg(%s)", rn);
			else
				snprintf(one, sizeof(one), "reg(r%llu)", (unsigned long long)r);
		} else {
			switch (a) {
			case DW_OP_deref: snprintf(one, sizeof(one), "deref"); break;
			case DW_OP_deref_size: snprintf(one, sizeof(one), "deref%llu", (unsigned long long)op->n1); break;
			case DW_OP_call_frame_cfa: snprintf(one, sizeof(one), "cfa"); break;
			case DW_OP_plus_uconst: snprintf(one, sizeof(one), "+%llu", (unsigned long long)op->n1); break;
			case DW_OP_plus: snprintf(one, sizeof(one), "plus"); break;
			case DW_OP_minus: snprintf(one, sizeof(one), "minus"); break;
			case DW_OP_consts: snprintf(one, sizeof(one), "%lld", (long long)op->n1); break;
			case DW_OP_constu: case DW_OP_const1u: case DW_OP_const2u:
			case DW_OP_const4u: case DW_OP_const8u:
				snprintf(one, sizeof(one), "%llu", (unsigned long long)op->n1); break;
			case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s: case DW_OP_const8s:
				snprintf(one, sizeof(one), "%lld", (long long)op->n1); break;
			case DW_OP_skip: case DW_OP_bra: case DW_OP_fbreg:
				snprintf(one, sizeof(one), "%s %lld", op_names[a], (long long)op->n1); break;
			case DW_OP_pick: case DW_OP_xderef_size: case DW_OP_piece: case DW_OP_call2:
			case DW_OP_call4: case DW_OP_call_ref: case DW_OP_addr: case DW_OP_addrx:
			case DW_OP_constx: case DW_OP_GNU_addr_index: case DW_OP_GNU_const_index:
			case DW_OP_implicit_value:
				snprintf(one, sizeof(one), "%s %llu", op_names[a], (unsigned long long)op->n1); break;
			case DW_OP_bit_piece:
				snprintf(one, sizeof(one), "%s %llu %llu", op_names[a], (unsigned long long)op->n1,
					 (unsigned long long)op->n2); break;
			default:
				if (op_names[a])
					snprintf(one, sizeof(one), "%s", op_names[a]);
				else
					snprintf(one, sizeof(one), "op0x%02x", a);
				break;
			}
		}
		used += (size_t)snprintf(buf + (used < len ? used : len - 1),
					 used < len ? len - used : 1, "%s%s", i ? "; " : "", one);
	}
	return (int)used;
}

/* ---- encoding -------------------------------------------------------------- */

struct enc {
	uint8_t *buf;
	size_t len, used;
	int big;
};

static void put(struct enc *e, uint8_t b)
{
	if (e->used < e->len)
		e->buf[e->used] = b;
	e->used++;
}

static void put_bytes(struct enc *e, const uint8_t *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		put(e, b[i]);
}

static void put_uleb(struct enc *e, uint64_t v)
{
	uint8_t b[10];

	put_bytes(e, b, vs_uleb128(b, v));
}

static void put_sleb(struct enc *e, int64_t v)
{
	uint8_t b[10];

	put_bytes(e, b, vs_sleb128(b, v));
}

static void put_fixed(struct enc *e, uint64_t v, unsigned int n)
{
	uint8_t b[8];

	vs_put_fixed(b, v, n, e->big);
	put_bytes(e, b, n);
}

/* OPS as DWARF bytes; -VDSOSCOPE_E_BAD_EXPR for an operation the evaluator
 * does not take either. */
static int encode(const struct vs_data *d, const struct vs_op *ops, size_t n, struct enc *e)
{
	unsigned int asz = d->arch ? d->arch->addr_size : (d->elf.is64 ? 8 : 4);
	size_t i;

	for (i = 0; i < n; i++) {
		const struct vs_op *op = &ops[i];
		uint8_t a = op->atom;

		put(e, a);
		if ((a >= DW_OP_lit0 && a <= DW_OP_lit31) || binary_op(a))
			continue;
		if (a >= DW_OP_breg0 && a <= DW_OP_breg31) {
			put_sleb(e, (int64_t)op->n1);
			continue;
		}
		switch (a) {
		case DW_OP_bregx: put_uleb(e, op->n1); put_sleb(e, (int64_t)op->n2); break;
		case DW_OP_addr: put_fixed(e, op->n1, asz); break;
		case DW_OP_const1u: case DW_OP_const1s: case DW_OP_pick: case DW_OP_deref_size:
			put_fixed(e, op->n1, 1);
			break;
		case DW_OP_const2u: case DW_OP_const2s: put_fixed(e, op->n1, 2); break;
		case DW_OP_const4u: case DW_OP_const4s: put_fixed(e, op->n1, 4); break;
		case DW_OP_const8u: case DW_OP_const8s: put_fixed(e, op->n1, 8); break;
		case DW_OP_constu: case DW_OP_plus_uconst: put_uleb(e, op->n1); break;
		case DW_OP_consts: put_sleb(e, (int64_t)op->n1); break;
		case DW_OP_call_frame_cfa: case DW_OP_dup: case DW_OP_drop: case DW_OP_over:
		case DW_OP_swap: case DW_OP_rot: case DW_OP_deref: case DW_OP_abs: case DW_OP_neg:
		case DW_OP_not: case DW_OP_nop:
			break;
		default:
			return -VDSOSCOPE_E_BAD_EXPR;
		}
	}
	return 0;
}

int vdsoscope_rule_expr(const struct vdsoscope_image *img, const struct vdsoscope_rule *rule,
			void *buf, size_t len)
{
	const struct vs_data *d;
	const struct vs_op *ops;
	struct enc e = { .buf = buf, .len = buf ? len : 0 };
	size_t n;
	int rc;

	if (!img || !rule)
		return -VDSOSCOPE_E_INVALID;
	d = img->d;
	if (rule->kind != VDSOSCOPE_RULE_EXPRESSION && rule->kind != VDSOSCOPE_RULE_VAL_EXPRESSION &&
	    rule->kind != VDSOSCOPE_RULE_CFA_EXPRESSION)
		return -VDSOSCOPE_E_INVALID;
	if (rule->expr + (size_t)rule->expr_len > d->nops)
		return -VDSOSCOPE_E_INVALID;
	ops = d->ops + rule->expr;
	n = rule->expr_len;
	/* libdw starts a register rule's expression with DW_OP_call_frame_cfa;
	 * DW_CFA_expression and DW_CFA_val_expression push the CFA themselves */
	if (rule->kind != VDSOSCOPE_RULE_CFA_EXPRESSION && n && ops[0].atom == DW_OP_call_frame_cfa) {
		ops++;
		n--;
	}
	e.big = d->bytes[5] == 2;
	rc = encode(d, ops, n, &e);
	if (rc)
		return rc;
	return e.used > INT32_MAX ? -VDSOSCOPE_E_TOO_LARGE : (int)e.used;
}
