/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CFI: FDEs of .eh_frame (by section or through PT_GNU_EH_FRAME) and
 * .debug_frame (the image's or its debug file's), decoded with libdw and
 * compiled once into a sorted table of rows. */
#include "config.h"
#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "arch.h"
#include <elf.h>

#define MAX_FDES (1u << 16)

struct fde {
	uint64_t lo, hi;
	int debug; /* from .debug_frame */
	/* the CIE's and the FDE's instructions, and how to read them */
	const uint8_t *cie_ins, *cie_end, *ins, *end;
	uint64_t caf;
	uint8_t enc;
};

/* DW_CFA_restore in a CIE's initial instructions, which libdw refuses: the
 * bytes become DW_CFA_nop, which is what readelf makes of them (the CIE's
 * rule is the rule being built). */
struct patch {
	const uint8_t *at;
	size_t len;
	int debug;
};

struct build {
	struct vs_data *d;
	struct fde *fdes;
	size_t nfdes, capfdes;
	size_t caprows, caprules, capops;
	size_t max_rows; /* bounds memory by the input's size */
	int check_only;  /* entries are checked, their ranges not kept */
	int err;
	unsigned int maxreg; /* highest register a rule is for */
	struct patch *patches;
	size_t npatches, cappatches;
};

static void drop(struct build *b, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void drop(struct build *b, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!b->d->cfi_dropped) {
		va_start(ap, fmt);
		vsnprintf(b->d->cfi_dropmsg, sizeof(b->d->cfi_dropmsg), fmt, ap);
		va_end(ap);
	}
	b->d->cfi_dropped += n;
}

static int fail(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct build *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->err) {
		va_start(ap, fmt);
		vsnprintf(b->d->cfi_errmsg, sizeof(b->d->cfi_errmsg), fmt, ap);
		va_end(ap);
		b->err = -VDSOSCOPE_E_BAD_CFI;
	}
	return -VDSOSCOPE_E_BAD_CFI;
}

/* ---- pointer encodings (DW_EH_PE_*) --------------------------------------- */

static int read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

static int read_sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	unsigned int shift = 0;
	uint64_t r = 0;
	uint8_t b = 0;

	while (*p < end && shift < 64) {
		b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				r |= ~0ull << shift;
			*v = (int64_t)r;
			return 0;
		}
	}
	return -1;
}

/* Decodes a pointer with encoding ENC at *P (whose link-time address is
 * P_ADDR); DATAREL is the base for DW_EH_PE_datarel. */
static int read_encoded(const struct vs_elf *e, uint8_t enc, const uint8_t **p,
			const uint8_t *end, uint64_t p_addr, uint64_t datarel, uint64_t *out)
{
	const uint8_t *start = *p;
	struct vs_elf r = *e;
	uint64_t v;
	size_t n;

	if (enc == DW_EH_PE_omit)
		return -1;
	r.data = start;
	r.size = (size_t)(end - start);
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr: n = e->is64 ? 8 : 4; break;
	case DW_EH_PE_udata2: case DW_EH_PE_sdata2: n = 2; break;
	case DW_EH_PE_udata4: case DW_EH_PE_sdata4: n = 4; break;
	case DW_EH_PE_udata8: case DW_EH_PE_sdata8: n = 8; break;
	case DW_EH_PE_uleb128:
		if (read_uleb(p, end, &v))
			return -1;
		n = 0;
		break;
	case DW_EH_PE_sleb128: {
		int64_t s;
		if (read_sleb(p, end, &s))
			return -1;
		v = (uint64_t)s;
		n = 0;
		break;
	}
	default:
		return -1;
	}
	if (n) {
		if ((size_t)(end - start) < n)
			return -1;
		switch (enc & 0x0f) {
		case DW_EH_PE_absptr: v = e->is64 ? vs_elf_u64(&r, 0) : vs_elf_u32(&r, 0); break;
		case DW_EH_PE_udata2: v = vs_elf_u16(&r, 0); break;
		case DW_EH_PE_sdata2: v = (uint64_t)(int64_t)(int16_t)vs_elf_u16(&r, 0); break;
		case DW_EH_PE_udata4: v = vs_elf_u32(&r, 0); break;
		case DW_EH_PE_sdata4: v = (uint64_t)(int64_t)(int32_t)vs_elf_u32(&r, 0); break;
		default: v = vs_elf_u64(&r, 0); break;
		}
		*p = start + n;
	}
	switch (enc & 0x70) {
	case 0: break;
	case DW_EH_PE_pcrel: v += p_addr; break;
	case DW_EH_PE_datarel: v += datarel; break;
	default: return -1;
	}
	if (!e->is64)
		v &= 0xffffffffu;
	*out = v;
	return 0;
}

/* FDE pointer encoding of a CIE ('R' in its augmentation). */
static int cie_fde_encoding(const Dwarf_CIE *cie, uint8_t *enc)
{
	const char *a = cie->augmentation;
	const uint8_t *p = cie->augmentation_data, *end = p + cie->augmentation_data_size;

	*enc = DW_EH_PE_absptr;
	if (a[0] != 'z')
		return a[0] == 0 ? 0 : -1;
	for (a++; *a; a++) {
		switch (*a) {
		case 'R':
			if (p >= end)
				return -1;
			*enc = *p++;
			break;
		case 'L':
			if (p >= end)
				return -1;
			p++;
			break;
		case 'P': {
			uint8_t penc;
			uint64_t skip;
			struct vs_elf dummy = {0};
			if (p >= end)
				return -1;
			penc = *p++;
			dummy.is64 = 1;
			if (read_encoded(&dummy, penc & 0x0f, &p, end, 0, 0, &skip))
				return -1;
			break;
		}
		case 'S':
		case 'B':
			break;
		default:
			return 0; /* 'z' tells the size: the rest can be skipped */
		}
	}
	return 0;
}

/* libdw sizes each frame by the highest register a CFI program names and
 * copies it for every DW_CFA_remember_state: both are bounded here, before
 * libdw runs the program.  Returns 0, or a message through fail(). */
#define CFI_MAX_REG (VDSOSCOPE_MAX_REGS - 1)
#define CFI_MAX_REMEMBER 64

static int scan_program(struct build *b, const uint8_t *p, const uint8_t *end, uint8_t enc,
			unsigned int *depth, const char *what, unsigned long long off)
{
	const struct vs_elf *e = &b->d->elf;

	while (p < end) {
		uint8_t op = *p++;
		uint64_t reg = 0, v;
		int64_t sv;
		int has_reg = 0, bad = 0;

		switch (op >> 6) {
		case 1: case 2: case 3: /* advance_loc, offset, restore: 6-bit operands */
			if (op >> 6 == 2)
				bad = read_uleb(&p, end, &v);
			break;
		default:
			switch (op) {
			case DW_CFA_nop: case DW_CFA_restore_state: case DW_CFA_GNU_window_save:
				if (op == DW_CFA_restore_state && *depth)
					(*depth)--;
				break;
			case DW_CFA_remember_state:
				if (++*depth > CFI_MAX_REMEMBER)
					return fail(b, "%s at offset 0x%llx: DW_CFA_remember_state nested deeper than %u",
						    what, off, CFI_MAX_REMEMBER);
				break;
			case DW_CFA_set_loc:
				bad = read_encoded(e, enc & 0x0f, &p, end, 0, 0, &v);
				break;
			case DW_CFA_advance_loc1: bad = end - p < 1; p += bad ? 0 : 1; break;
			case DW_CFA_advance_loc2: bad = end - p < 2; p += bad ? 0 : 2; break;
			case DW_CFA_advance_loc4: bad = end - p < 4; p += bad ? 0 : 4; break;
			case DW_CFA_def_cfa_offset: case DW_CFA_GNU_args_size:
				bad = read_uleb(&p, end, &v);
				break;
			case DW_CFA_def_cfa_offset_sf:
				bad = read_sleb(&p, end, &sv);
				break;
			case DW_CFA_restore_extended: case DW_CFA_undefined: case DW_CFA_same_value:
			case DW_CFA_def_cfa_register:
				bad = read_uleb(&p, end, &reg);
				has_reg = 1;
				break;
			case DW_CFA_offset_extended: case DW_CFA_def_cfa: case DW_CFA_val_offset:
			case DW_CFA_GNU_negative_offset_extended:
				bad = read_uleb(&p, end, &reg) || read_uleb(&p, end, &v);
				has_reg = 1;
				break;
			case DW_CFA_offset_extended_sf: case DW_CFA_def_cfa_sf: case DW_CFA_val_offset_sf:
				bad = read_uleb(&p, end, &reg) || read_sleb(&p, end, &sv);
				has_reg = 1;
				break;
			case DW_CFA_register:
				bad = read_uleb(&p, end, &reg) || read_uleb(&p, end, &v);
				if (!bad && v > reg)
					reg = v; /* either register counts */
				has_reg = 1;
				break;
			case DW_CFA_expression: case DW_CFA_val_expression:
				bad = read_uleb(&p, end, &reg);
				has_reg = 1;
				/* fall through */
			case DW_CFA_def_cfa_expression:
				if (!bad && !(bad = read_uleb(&p, end, &v))) {
					bad = v > (uint64_t)(end - p);
					p += bad ? 0 : v;
				}
				break;
			default:
				return 0; /* libdw names what it cannot decode */
			}
		}
		if (has_reg && reg > CFI_MAX_REG)
			return fail(b, "%s at offset 0x%llx: register %llu is beyond any architecture",
				    what, off, (unsigned long long)reg);
		if (bad)
			return 0; /* truncated operand: libdw reports it */
	}
	return 0;
}

/* One CFA instruction, operands decoded. */
struct cfa_op {
	uint8_t op;      /* DW_CFA_advance_loc, _offset, _restore without operand bits */
	uint64_t reg;    /* the register the rule is for, when has_reg */
	uint64_t delta;  /* advance_loc*: factored; set_loc: the address */
	int has_reg;
};

static int decode_op(const struct vs_elf *e, uint8_t enc, const uint8_t **pp, const uint8_t *end,
		     struct cfa_op *o)
{
	const uint8_t *p = *pp;
	uint64_t v;
	int64_t sv;
	int bad = 0;

	if (p >= end)
		return -1;
	memset(o, 0, sizeof(*o));
	o->op = *p++;
	if (o->op >> 6) {
		uint8_t low = o->op & 0x3f;
		o->op &= 0xc0;
		if (o->op == DW_CFA_advance_loc) {
			o->delta = low;
		} else {
			o->reg = low;
			o->has_reg = 1;
			if (o->op == DW_CFA_offset)
				bad = read_uleb(&p, end, &v);
		}
		*pp = p;
		return bad ? -1 : 0;
	}
	switch (o->op) {
	case DW_CFA_nop: case DW_CFA_remember_state: case DW_CFA_restore_state:
	case DW_CFA_GNU_window_save:
		break;
	case DW_CFA_set_loc:
		bad = read_encoded(e, enc & 0x0f, &p, end, 0, 0, &o->delta);
		break;
	case DW_CFA_advance_loc1: bad = end - p < 1; if (!bad) { o->delta = p[0]; p += 1; } break;
	case DW_CFA_advance_loc2: case DW_CFA_advance_loc4: {
		struct vs_elf r = *e;
		size_t n = o->op == DW_CFA_advance_loc2 ? 2 : 4;
		bad = (size_t)(end - p) < n;
		if (!bad) {
			r.data = p;
			r.size = n;
			o->delta = n == 2 ? vs_elf_u16(&r, 0) : vs_elf_u32(&r, 0);
			p += n;
		}
		break;
	}
	case DW_CFA_def_cfa_offset: case DW_CFA_GNU_args_size:
		bad = read_uleb(&p, end, &v);
		break;
	case DW_CFA_def_cfa_offset_sf:
		bad = read_sleb(&p, end, &sv);
		break;
	case DW_CFA_def_cfa_register:
		bad = read_uleb(&p, end, &v);
		break;
	case DW_CFA_restore_extended: case DW_CFA_undefined: case DW_CFA_same_value:
		bad = read_uleb(&p, end, &o->reg);
		o->has_reg = 1;
		break;
	case DW_CFA_def_cfa:
		bad = read_uleb(&p, end, &v) || read_uleb(&p, end, &v);
		break;
	case DW_CFA_def_cfa_sf:
		bad = read_uleb(&p, end, &v) || read_sleb(&p, end, &sv);
		break;
	case DW_CFA_offset_extended: case DW_CFA_val_offset: case DW_CFA_register:
	case DW_CFA_GNU_negative_offset_extended:
		bad = read_uleb(&p, end, &o->reg) || read_uleb(&p, end, &v);
		o->has_reg = 1;
		break;
	case DW_CFA_offset_extended_sf: case DW_CFA_val_offset_sf:
		bad = read_uleb(&p, end, &o->reg) || read_sleb(&p, end, &sv);
		o->has_reg = 1;
		break;
	case DW_CFA_expression: case DW_CFA_val_expression:
		bad = read_uleb(&p, end, &o->reg);
		o->has_reg = 1;
		/* fall through */
	case DW_CFA_def_cfa_expression:
		if (!bad && !(bad = read_uleb(&p, end, &v))) {
			bad = v > (uint64_t)(end - p);
			p += bad ? 0 : v;
		}
		break;
	default:
		return -1;
	}
	*pp = p;
	return bad ? -1 : 0;
}

/* Notes the registers the program P..END gives rules for and, in a CIE
 * (CIE_DEBUG >= 0, the entry's section kind), the restores to patch. */
static int note_program(struct build *b, const uint8_t *p, const uint8_t *end, uint8_t enc,
			int cie_debug)
{
	struct cfa_op o;

	while (p < end) {
		const uint8_t *at = p;
		if (decode_op(&b->d->elf, enc, &p, end, &o))
			return 0;
		if (o.has_reg && o.reg <= CFI_MAX_REG && o.reg > b->maxreg)
			b->maxreg = (unsigned int)o.reg;
		if (cie_debug >= 0 && (o.op == DW_CFA_restore || o.op == DW_CFA_restore_extended)) {
			size_t i;
			for (i = 0; i < b->npatches && b->patches[i].at != at; i++)
				;
			if (i < b->npatches)
				continue;
			if (b->npatches == b->cappatches) {
				size_t nc = b->cappatches ? 2 * b->cappatches : 8;
				struct patch *v = realloc(b->patches, nc * sizeof(*v));
				if (!v)
					return -ENOMEM;
				b->patches = v;
				b->cappatches = nc;
			}
			b->patches[b->npatches].at = at;
			b->patches[b->npatches].len = (size_t)(p - at);
			b->patches[b->npatches].debug = cie_debug;
			b->npatches++;
		}
	}
	return 0;
}

/* Registers whose rule, at one address, is an explicit DW_CFA_same_value or
 * DW_CFA_undefined: libdw reports the same for registers the CFI does not
 * mention, from its own ABI tables. */
struct xstate {
	uint64_t same[VDSOSCOPE_REG_WORDS], undef[VDSOSCOPE_REG_WORDS];
};

static void x_set(struct xstate *s, uint64_t reg, int same, int undef)
{
	uint64_t bit;

	if (reg > CFI_MAX_REG)
		return;
	bit = 1ull << (reg & 63);
	s->same[reg >> 6] = same ? s->same[reg >> 6] | bit : s->same[reg >> 6] & ~bit;
	s->undef[reg >> 6] = undef ? s->undef[reg >> 6] | bit : s->undef[reg >> 6] & ~bit;
}

static int x_has(const uint64_t *set, unsigned int reg)
{
	return reg <= CFI_MAX_REG && (set[reg >> 6] >> (reg & 63) & 1);
}

static void x_run(const struct vs_elf *e, const struct fde *f, const uint8_t *p,
		  const uint8_t *end, const struct xstate *cie, uint64_t addr, struct xstate *s)
{
	struct xstate stack[CFI_MAX_REMEMBER];
	unsigned int depth = 0;
	uint64_t loc = f->lo;
	struct cfa_op o;

	while (p < end && !decode_op(e, f->enc, &p, end, &o)) {
		switch (o.op) {
		case DW_CFA_advance_loc: case DW_CFA_advance_loc1: case DW_CFA_advance_loc2:
		case DW_CFA_advance_loc4:
			if (cie && (loc += o.delta * f->caf) > addr)
				return;
			break;
		case DW_CFA_set_loc:
			if (cie && (loc = o.delta) > addr)
				return;
			break;
		case DW_CFA_same_value: x_set(s, o.reg, 1, 0); break;
		case DW_CFA_undefined: x_set(s, o.reg, 0, 1); break;
		case DW_CFA_restore: case DW_CFA_restore_extended:
			if (cie)
				x_set(s, o.reg, x_has(cie->same, (unsigned int)o.reg),
				      x_has(cie->undef, (unsigned int)o.reg));
			break;
		case DW_CFA_remember_state:
			if (depth < CFI_MAX_REMEMBER)
				stack[depth++] = *s;
			break;
		case DW_CFA_restore_state:
			if (depth)
				*s = stack[--depth];
			break;
		default:
			if (o.has_reg)
				x_set(s, o.reg, 0, 0);
		}
	}
}

static void explicit_at(const struct vs_elf *e, const struct fde *f, uint64_t addr,
			struct xstate *out)
{
	struct xstate cie;

	memset(&cie, 0, sizeof(cie));
	x_run(e, f, f->cie_ins, f->cie_end, NULL, addr, &cie);
	*out = cie;
	x_run(e, f, f->ins, f->end, &cie, addr, out);
}

static int hi_le(uint64_t lo, uint64_t len)
{
	return len == 0 || lo + len <= lo;
}

static int add_fde(struct build *b, uint64_t lo, uint64_t hi, int debug)
{
	if (hi <= lo || b->check_only)
		return 0;
	if (b->nfdes >= MAX_FDES)
		return fail(b, "more than %u FDEs", MAX_FDES);
	if (b->nfdes == b->capfdes) {
		size_t nc = b->capfdes ? 2 * b->capfdes : 32;
		struct fde *v = realloc(b->fdes, nc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		b->fdes = v;
		b->capfdes = nc;
	}
	memset(&b->fdes[b->nfdes], 0, sizeof(b->fdes[b->nfdes]));
	b->fdes[b->nfdes].lo = lo;
	b->fdes[b->nfdes].hi = hi;
	b->fdes[b->nfdes].debug = debug;
	b->nfdes++;
	return 0;
}

/* Decodes the FDE at OFF of DATA (link-time address VADDR) and records its
 * range.  *NEXT gets the following entry's offset.  Returns 1 at the end. */
static int one_entry(struct build *b, Elf_Data *data, uint64_t vaddr, int eh, Dwarf_Off off,
		     Dwarf_Off *next, int debug)
{
	const struct vs_elf *e = &b->d->elf;
	Dwarf_CFI_Entry ent, cie;
	Dwarf_Off cnext;
	const uint8_t *p, *end;
	uint8_t enc;
	uint64_t lo, len, skip;
	unsigned int depth = 0;
	int rc;

	rc = dwarf_next_cfi(e->data, data, eh, off, next, &ent);
	if (rc == 1)
		return 1;
	if (rc < 0) {
		/* name what libdw calls "invalid DWARF" when it is plain */
		struct vs_elf r = *e;
		const char *sec = eh ? ".eh_frame" : ".debug_frame";
		uint64_t len, id;

		r.data = data->d_buf;
		r.size = data->d_size;
		if (vs_elf_in(&r, off, 8) && (len = vs_elf_u32(&r, off)) < 0xfffffff0u) {
			id = vs_elf_u32(&r, off + 4);
			if (len > data->d_size - off - 4)
				return fail(b, "%s entry at offset 0x%llx: length 0x%llx runs past the end (%zu bytes)",
					    sec, (unsigned long long)off, (unsigned long long)len,
					    data->d_size);
			if (eh && id != 0 && id > off + 4)
				return fail(b, "FDE at offset 0x%llx points at no CIE (before the start of .eh_frame)",
					    (unsigned long long)off);
			if (id != 0 && (!eh || id != 0xffffffffu)) {
				Dwarf_Off cie_off = eh ? off + 4 - id : id;
				if (!vs_elf_in(&r, cie_off + 4, 4) ||
				    vs_elf_u32(&r, cie_off + 4) != (eh ? 0 : 0xffffffffu))
					return fail(b, "FDE at offset 0x%llx points at no CIE (0x%llx)",
						    (unsigned long long)off, (unsigned long long)cie_off);
			}
		}
		return fail(b, "%s entry at offset 0x%llx: %s", sec, (unsigned long long)off,
			    dwarf_errmsg(-1));
	}
	if (dwarf_cfi_cie_p(&ent))
		return 0;
	if (ent.fde.CIE_pointer >= data->d_size ||
	    dwarf_next_cfi(e->data, data, eh, ent.fde.CIE_pointer, &cnext, &cie) != 0 ||
	    !dwarf_cfi_cie_p(&cie))
		return fail(b, "FDE at offset 0x%llx points at no CIE (0x%llx)",
			    (unsigned long long)off, (unsigned long long)ent.fde.CIE_pointer);
	if (eh) {
		if (cie_fde_encoding(&cie.cie, &enc))
			return fail(b, "CIE at offset 0x%llx: augmentation \"%s\"",
				    (unsigned long long)ent.fde.CIE_pointer, cie.cie.augmentation);
	} else {
		enc = DW_EH_PE_absptr;
	}
	p = ent.fde.start;
	end = ent.fde.end;
	if (read_encoded(e, enc, &p, end, vaddr + (uint64_t)(p - (const uint8_t *)data->d_buf), 0,
			 &lo) ||
	    read_encoded(e, enc & 0x0f, &p, end, 0, 0, &len))
		return fail(b, "FDE at offset 0x%llx: bad address encoding 0x%x",
			    (unsigned long long)off, enc);
	if (lo + len < lo)
		return fail(b, "FDE at offset 0x%llx: range wraps", (unsigned long long)off);
	if (cie.cie.augmentation[0] == 'z' && (read_uleb(&p, end, &skip) || skip > (uint64_t)(end - p)))
		return fail(b, "FDE at offset 0x%llx: augmentation data past its end",
			    (unsigned long long)off);
	if (cie.cie.augmentation[0] == 'z')
		p += skip;
	if (scan_program(b, cie.cie.initial_instructions, cie.cie.initial_instructions_end, enc,
			 &depth, "CIE", (unsigned long long)ent.fde.CIE_pointer) ||
	    scan_program(b, p, end, enc, &depth, "FDE", (unsigned long long)off))
		return -VDSOSCOPE_E_BAD_CFI;
	if (b->check_only || hi_le(lo, len))
		return add_fde(b, lo, lo + len, debug);
	if ((rc = note_program(b, cie.cie.initial_instructions, cie.cie.initial_instructions_end,
			       enc, debug)) ||
	    (rc = note_program(b, p, end, enc, -1)) ||
	    (rc = add_fde(b, lo, lo + len, debug)))
		return rc;
	{
		struct fde *f = &b->fdes[b->nfdes - 1];
		f->cie_ins = cie.cie.initial_instructions;
		f->cie_end = cie.cie.initial_instructions_end;
		f->ins = p;
		f->end = end;
		f->caf = cie.cie.code_alignment_factor;
		f->enc = enc;
	}
	return 0;
}

static int walk(struct build *b, Elf_Data *data, uint64_t vaddr, int eh, int debug)
{
	Dwarf_Off off = 0, next;
	size_t n = 0;
	int rc;

	while (off < data->d_size) {
		rc = one_entry(b, data, vaddr, eh, off, &next, debug);
		if (rc == 1)
			break;
		if (rc < 0)
			return rc;
		if (next <= off || (++n > 4 * MAX_FDES && !b->check_only))
			return fail(b, "CFI entries do not advance at offset 0x%llx",
				    (unsigned long long)off);
		off = next;
	}
	return 0;
}

/* .eh_frame through PT_GNU_EH_FRAME: the binary-search table names every
 * FDE, so no section header is needed. */
static int eh_frame_by_hdr(struct build *b)
{
	const struct vs_elf *e = &b->d->elf;
	uint64_t hdr = e->eh_frame_hdr, hdr_addr = b->d->link_base + hdr;
	const uint8_t *p = e->data + hdr, *end = p + e->eh_frame_hdr_size;
	uint64_t eh_addr, eh_off, count, i;
	uint8_t ptr_enc, cnt_enc, tab_enc;
	Elf_Data data;

	if (e->eh_frame_hdr_size < 4 || p[0] != 1)
		return fail(b, ".eh_frame_hdr: version %u", e->eh_frame_hdr_size ? p[0] : 0);
	ptr_enc = p[1];
	cnt_enc = p[2];
	tab_enc = p[3];
	p += 4;
	if (read_encoded(e, ptr_enc, &p, end, b->d->link_base + (uint64_t)(p - e->data), hdr_addr,
			 &eh_addr))
		return fail(b, ".eh_frame_hdr: eh_frame_ptr encoding 0x%x", ptr_enc);
	if (eh_addr < b->d->link_base || eh_addr - b->d->link_base >= e->load_end)
		return fail(b, ".eh_frame_hdr: .eh_frame at 0x%llx is outside the image",
			    (unsigned long long)eh_addr);
	eh_off = eh_addr - b->d->link_base;
	memset(&data, 0, sizeof(data));
	data.d_buf = (void *)(e->data + eh_off);
	data.d_size = e->load_end - eh_off;
	data.d_type = ELF_T_BYTE;
	if (cnt_enc == DW_EH_PE_omit || tab_enc == DW_EH_PE_omit)
		return walk(b, &data, eh_addr, 1, 0);
	if (read_encoded(e, cnt_enc, &p, end, b->d->link_base + (uint64_t)(p - e->data), hdr_addr,
			 &count))
		return fail(b, ".eh_frame_hdr: fde_count encoding 0x%x", cnt_enc);
	if (count > MAX_FDES)
		return fail(b, ".eh_frame_hdr: %llu FDEs", (unsigned long long)count);
	for (i = 0; i < count; i++) {
		uint64_t loc, fde;
		Dwarf_Off next;
		int rc;

		if (read_encoded(e, tab_enc, &p, end, b->d->link_base + (uint64_t)(p - e->data),
				 hdr_addr, &loc) ||
		    read_encoded(e, tab_enc, &p, end, b->d->link_base + (uint64_t)(p - e->data),
				 hdr_addr, &fde))
			return fail(b, ".eh_frame_hdr: table entry %llu is outside the segment",
				    (unsigned long long)i);
		if (fde < eh_addr || fde - eh_addr >= data.d_size)
			return fail(b, ".eh_frame_hdr: FDE %llu at 0x%llx is outside .eh_frame",
				    (unsigned long long)i, (unsigned long long)fde);
		rc = one_entry(b, &data, eh_addr, 1, fde - eh_addr, &next, 0);
		if (rc < 0)
			return rc;
		(void)loc;
	}
	return 0;
}

/* ---- rules ----------------------------------------------------------------- */

static int add_ops(struct build *b, const Dwarf_Op *ops, size_t n, uint32_t *first)
{
	struct vs_data *d = b->d;
	size_t i;

	if (n > VS_MAX_EXPR_OPS)
		return fail(b, "an expression of %zu operations", n);
	if (d->nops + n > b->capops) {
		size_t nc = b->capops ? 2 * b->capops : 64;
		struct vs_op *v;
		while (nc < d->nops + n)
			nc *= 2;
		v = realloc(d->ops, nc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->ops = v;
		b->capops = nc;
	}
	*first = (uint32_t)d->nops;
	for (i = 0; i < n; i++) {
		d->ops[d->nops].atom = ops[i].atom;
		d->ops[d->nops].n1 = ops[i].number;
		d->ops[d->nops].n2 = ops[i].number2;
		d->nops++;
	}
	return 0;
}

static int is_breg(const Dwarf_Op *op, unsigned int *reg, int64_t *off)
{
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31) {
		*reg = op->atom - DW_OP_breg0;
		*off = (int64_t)op->number;
		return 1;
	}
	if (op->atom == DW_OP_bregx) {
		*reg = (unsigned int)op->number;
		*off = (int64_t)op->number2;
		return op->number <= CFI_MAX_REG;
	}
	return 0;
}

static int cfa_rule(struct build *b, Dwarf_Frame *f, struct vdsoscope_rule *r)
{
	Dwarf_Op *ops;
	size_t n;
	unsigned int reg;
	int64_t off;

	memset(r, 0, sizeof(*r));
	if (dwarf_frame_cfa(f, &ops, &n) || n == 0) {
		r->kind = VDSOSCOPE_RULE_UNDEFINED;
		return 0;
	}
	if (n == 1 && is_breg(&ops[0], &reg, &off)) {
		r->kind = VDSOSCOPE_RULE_CFA_REG_OFFSET;
		r->reg = (uint16_t)reg;
		r->off = off;
		return 0;
	}
	r->kind = VDSOSCOPE_RULE_CFA_EXPRESSION;
	r->expr_len = (uint16_t)n;
	return add_ops(b, ops, n, &r->expr);
}

/* Whether R is what libdw reports for a register the CFI does not mention.
 * libdw fills those from its own ABI tables (which for x86_64 in 0.188 call
 * rax preserved and rbx clobbered); "same value" and "undefined" the CFI
 * does state are told apart before this (struct xstate).  An explicit
 * DW_CFA_val_offset of SP with offset 0 reads as silence: the step gives SP
 * the CFA either way. */
static int abi_default(const struct vdsoscope_arch *a, unsigned int reg,
		       const struct vdsoscope_rule *r)
{
	if (a && a->machine == EM_ARM && reg == a->ip_reg && r->kind == VDSOSCOPE_RULE_REGISTER &&
	    r->reg == a->ra_reg)
		return 1; /* libdw's arm ABI rule "pc in lr": the return address */
	return a && reg == a->sp_reg && r->kind == VDSOSCOPE_RULE_VAL_OFFSET && r->off == 0;
}

static int reg_rule(struct build *b, Dwarf_Frame *f, unsigned int reg, const struct xstate *xs,
		    struct vdsoscope_rule *r)
{
	Dwarf_Op mem[3], *ops;
	size_t n;
	unsigned int breg;
	int64_t off;
	int val;

	memset(r, 0, sizeof(*r));
	if (dwarf_frame_register(f, (int)reg, mem, &ops, &n))
		return fail(b, "register %u: %s", reg, dwarf_errmsg(-1));
	if (n == 0) {
		r->kind = ops ? VDSOSCOPE_RULE_UNDEFINED : VDSOSCOPE_RULE_SAME;
		if (xs && x_has(ops ? xs->undef : xs->same, reg))
			return 0;
		r->kind = VDSOSCOPE_RULE_UNSPECIFIED;
		return 0;
	}
	val = ops[n - 1].atom == DW_OP_stack_value;
	if (val)
		n--;
	if (n >= 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		if (n == 1) {
			r->kind = val ? VDSOSCOPE_RULE_VAL_OFFSET : VDSOSCOPE_RULE_OFFSET;
			goto out;
		}
		if (n == 2 && ops[1].atom == DW_OP_plus_uconst) {
			r->kind = val ? VDSOSCOPE_RULE_VAL_OFFSET : VDSOSCOPE_RULE_OFFSET;
			r->off = (int64_t)ops[1].number;
			goto out;
		}
		if (n == 3 && ops[1].atom == DW_OP_consts && ops[2].atom == DW_OP_plus) {
			r->kind = val ? VDSOSCOPE_RULE_VAL_OFFSET : VDSOSCOPE_RULE_OFFSET;
			r->off = (int64_t)ops[1].number;
			goto out;
		}
	}
	if (val && n == 1 && is_breg(&ops[0], &breg, &off) && off == 0) {
		r->kind = VDSOSCOPE_RULE_REGISTER;
		r->reg = (uint16_t)breg;
		goto out;
	}
	/* libdw reports DW_CFA_register as this one-operation location */
	if (!val && n == 1 && ((ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) ||
			       (ops[0].atom == DW_OP_regx && ops[0].number <= CFI_MAX_REG))) {
		r->kind = VDSOSCOPE_RULE_REGISTER;
		r->reg = (uint16_t)(ops[0].atom == DW_OP_regx ? ops[0].number
							   : (Dwarf_Word)(ops[0].atom - DW_OP_reg0));
		goto out;
	}
	/* libdw starts DW_CFA_expression bodies with DW_OP_call_frame_cfa, as
	 * DWARF pushes the CFA before evaluating them */
	r->kind = val ? VDSOSCOPE_RULE_VAL_EXPRESSION : VDSOSCOPE_RULE_EXPRESSION;
	r->expr_len = (uint16_t)n;
	return add_ops(b, ops, n, &r->expr);
out:
	if (abi_default(b->d->arch, reg, r))
		r->kind = VDSOSCOPE_RULE_UNSPECIFIED;
	return 0;
}

static int add_row(struct build *b, Dwarf_Frame *f, uint64_t lo, uint64_t hi,
		   const struct fde *fde, const struct xstate *xs)
{
	struct vs_data *d = b->d;
	struct vs_row *row;
	Dwarf_Addr s, e;
	bool sig;
	int ra, rc;
	unsigned int i;

	ra = dwarf_frame_info(f, &s, &e, &sig);
	if (ra < 0 || (unsigned int)ra >= d->nregs)
		return fail(b, "row at 0x%llx: return address column %d", (unsigned long long)lo, ra);
	if (d->nrows >= b->max_rows)
		return fail(b, "more than %zu rows for %zu bytes of image", b->max_rows, d->size);
	if (d->nrows == b->caprows) {
		size_t nc = b->caprows ? 2 * b->caprows : 64;
		struct vs_row *v = realloc(d->rows, nc * sizeof(*v));
		struct vdsoscope_rule *rv;
		if (!v)
			return -ENOMEM;
		d->rows = v;
		rv = realloc(d->rules, nc * d->nregs * sizeof(*rv));
		if (!rv)
			return -ENOMEM;
		d->rules = rv;
		b->caprows = nc;
	}
	row = &d->rows[d->nrows];
	memset(row, 0, sizeof(*row));
	row->start = lo;
	row->end = hi;
	row->fde_start = fde->lo;
	row->ra = (uint8_t)ra;
	row->signal = sig;
	row->from_debug = (uint8_t)fde->debug;
	row->regs = (uint32_t)(d->nrows * d->nregs);
	if ((rc = cfa_rule(b, f, &row->cfa)))
		return rc;
	for (i = 0; i < d->nregs; i++)
		if ((rc = reg_rule(b, f, i, xs, &d->rules[row->regs + i])))
			return rc;
	{
		Dwarf_Op mem[3], *ops;
		size_t n;
		/* no operations and OPS set: DW_CFA_undefined */
		row->outermost = !dwarf_frame_register(f, ra, mem, &ops, &n) && n == 0 && ops;
	}
	d->nrows++;
	return 0;
}

/* Compiles FDE's rows; when libdw refuses it, none of them. */
static int compile_fde(struct build *b, Dwarf_CFI *cfi, const struct fde *fde)
{
	uint64_t addr = fde->lo;
	size_t first = b->d->nrows, first_op = b->d->nops;
	int rc;

	while (addr < fde->hi) {
		Dwarf_Frame *f;
		Dwarf_Addr s, e;
		bool sig;
		struct xstate xs;

		if (dwarf_cfi_addrframe(cfi, addr, &f)) {
			drop(b, 1, "FDE 0x%llx-0x%llx (%s): %s", (unsigned long long)fde->lo,
			     (unsigned long long)fde->hi, fde->debug ? ".debug_frame" : ".eh_frame",
			     dwarf_errmsg(-1));
			b->d->nrows = first;
			b->d->nops = first_op;
			return 1;
		}
		if (dwarf_frame_info(f, &s, &e, &sig) < 0 || e <= addr || e > fde->hi)
			e = fde->hi;
		explicit_at(&b->d->elf, fde, addr, &xs);
		rc = add_row(b, f, addr, e, fde, &xs);
		free(f);
		if (rc)
			return rc;
		addr = e;
	}
	return 0;
}

static int fde_cmp(const void *a, const void *b)
{
	const struct fde *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->debug - y->debug;
}

/* Rows stay in FDE order, which is sorted; this keeps the rules in step. */
static int compile(struct build *b, Elf *eh_elf, Elf *dbg_elf)
{
	Dwarf_CFI *eh_cfi = NULL, *dbg_cfi = NULL;
	Dwarf *dbg_dw = NULL;
	size_t i, keep = 0;
	uint64_t covered_to = 0;
	int rc = 0;

	if (b->nfdes > 1)
		qsort(b->fdes, b->nfdes, sizeof(*b->fdes), fde_cmp);
	/* .eh_frame wins where both describe code; overlapping FDEs keep the
	 * first */
	for (i = 0; i < b->nfdes; i++) {
		if (keep && b->fdes[i].lo < covered_to)
			continue;
		b->fdes[keep++] = b->fdes[i];
		covered_to = b->fdes[i].hi;
	}
	b->nfdes = keep;
	for (i = 0; i < b->nfdes; i++) {
		Dwarf_CFI *cfi;

		if (!b->fdes[i].debug) {
			if (!eh_cfi && !(eh_cfi = dwarf_getcfi_elf(eh_elf)))
				return fail(b, ".eh_frame: %s", dwarf_errmsg(-1));
			cfi = eh_cfi;
		} else {
			if (!dbg_cfi) {
				dbg_dw = dwarf_begin_elf(dbg_elf, DWARF_C_READ, NULL);
				if (!dbg_dw || !(dbg_cfi = dwarf_getcfi(dbg_dw))) {
					rc = fail(b, ".debug_frame: %s", dwarf_errmsg(-1));
					break;
				}
			}
			cfi = dbg_cfi;
		}
		rc = compile_fde(b, cfi, &b->fdes[i]);
		if (rc == 1) {
			b->fdes[i].hi = b->fdes[i].lo;
			rc = 0;
		} else if (rc) {
			break;
		}
	}
	for (i = keep = 0; !rc && i < b->nfdes; i++)
		if (b->fdes[i].hi > b->fdes[i].lo)
			b->fdes[keep++] = b->fdes[i];
	if (!rc)
		b->nfdes = keep;
	if (eh_cfi)
		dwarf_cfi_end(eh_cfi);
	if (dbg_dw)
		dwarf_end(dbg_dw);
	return rc;
}

/* NAME, or the legacy .zdebug_ name of a compressed .debug_ section */
static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	char z[32];
	Elf_Scn *scn = vs__find_section(elf, name, sh);

	if (!scn && !strncmp(name, ".debug_", 7) &&
	    snprintf(z, sizeof(z), ".z%s", name + 1) < (int)sizeof(z))
		scn = vs__find_section(elf, z, sh);
	return scn;
}

/* The bytes of section NAME, inflated when stored compressed; 0 when there
 * are none or they are refused (over VS_MAX_INFLATE, corrupt). */
static int section_data(Elf *elf, const char *name, Elf_Data *out, uint64_t *addr)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, name, &sh);
	Elf_Data *data;
	uint64_t budget = VS_MAX_INFLATE;

	if (!scn || sh.sh_type == SHT_NOBITS || vs__section_inflate(elf, scn, &budget) ||
	    !(data = elf_rawdata(scn, NULL)) || !data->d_size)
		return 0;
	*out = *data;
	*addr = sh.sh_addr;
	return 1;
}

/* The step's form of ROW (rules at RULES): the registers that pass through
 * and the few rules to evaluate, into OUT; their number. */
static unsigned int condense_row(const struct vs_data *d, struct vs_row *row,
				 const struct vdsoscope_rule *rules, struct vs_crule *out)
{
	const struct vdsoscope_arch *a = d->arch;
	unsigned int r, n = 0, k;

	memset(row->pass, 0, sizeof(row->pass));
	row->sp_cfa = 0;
	for (r = 0; r < d->nregs && r < a->nregs && r < VDSOSCOPE_MAX_REGS && n < VS_MAX_CRULES;
	     r++) {
		const struct vdsoscope_rule *x = &rules[r];
		uint64_t bit = 1ull << (r % 64);

		switch (x->kind) {
		case VDSOSCOPE_RULE_UNSPECIFIED:
			/* a return address column the CFI leaves alone (aarch64's
			 * x30 at a function's entry) keeps its value */
			if (r == a->sp_reg)
				row->sp_cfa = 1;
			else if ((a->callee_saved[r / 64] & bit) ||
				 (r == row->ra && a->ra_reg != a->ip_reg))
				row->pass[r / 64] |= bit;
			continue;
		case VDSOSCOPE_RULE_UNDEFINED:
			continue;
		case VDSOSCOPE_RULE_SAME:
			row->pass[r / 64] |= bit;
			continue;
		}
		out[n].reg = (uint16_t)r;
		out[n].kind = x->kind;
		out[n].expr_len = x->expr_len;
		out[n].expr = x->expr;
		out[n].off = x->kind == VDSOSCOPE_RULE_REGISTER ? (int64_t)x->reg : x->off;
		n++;
	}
	{
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		row->span_len = 0;
		for (k = 0; k < n; k++)
			if (out[k].kind == VDSOSCOPE_RULE_OFFSET) {
				if (out[k].off < lo)
					lo = out[k].off;
				if (out[k].off + (int64_t)vs__slot_size(a, out[k].reg) > hi)
					hi = out[k].off + (int64_t)vs__slot_size(a, out[k].reg);
			}
		if (hi > lo && hi - lo <= VS_MAX_SPAN && lo >= INT32_MIN) {
			row->span_lo = (int32_t)lo;
			row->span_len = (uint32_t)(hi - lo);
		}
	}
	row->fast = row->span_len && row->cfa.kind == VDSOSCOPE_RULE_CFA_REG_OFFSET &&
		    row->cfa.reg < VDSOSCOPE_MAX_REGS && a->addr_size == 8 && !d->elf.swap;
	for (k = 0; k < n && row->fast; k++)
		row->fast = out[k].kind == VDSOSCOPE_RULE_OFFSET && vs__slot_size(a, out[k].reg) == 8;
	row->plain_ra = row->ra == a->ip_reg && a->ip_reg < 64 && a->machine != EM_AARCH64 &&
			a->machine != EM_ARM;
	return n;
}

static int condense(struct vs_data *d)
{
	size_t i, n = 0;

	if (!d->arch || !d->nrows)
		return 0;
	d->crules = malloc(d->nrows * d->nregs * sizeof(*d->crules));
	if (!d->crules)
		return -ENOMEM;
	for (i = 0; i < d->nrows; i++) {
		struct vs_row *row = &d->rows[i];

		row->first_crule = (uint32_t)n;
		row->ncrules = (uint8_t)condense_row(d, row, d->rules + row->regs, d->crules + n);
		n += row->ncrules;
	}
	if (d->nrows < 0xffff && d->size <= (1u << 20)) {
		d->row_index = calloc(d->size, sizeof(*d->row_index));
		if (!d->row_index)
			return -ENOMEM;
		for (i = 0; i < d->nrows; i++) {
			uint64_t lo = d->rows[i].start, hi = d->rows[i].end, x;
			if (lo < d->link_base || hi <= lo)
				continue;
			for (x = lo - d->link_base; x < hi - d->link_base && x < d->size; x++)
				if (!d->row_index[x])
					d->row_index[x] = (uint16_t)(i + 1);
		}
	}
	return 0;
}

int vs__cfi_check_file(struct vs_data *scratch, void *elfp, int *have_eh, int *have_dbg)
{
	struct build b = { .d = scratch, .check_only = 1 };
	Elf *elf = elfp;
	Elf_Data data;
	uint64_t addr;
	int rc = 0;

	*have_eh = *have_dbg = 0;
	scratch->cfi_errmsg[0] = 0;
	if (section_data(elf, ".eh_frame", &data, &addr)) {
		*have_eh = 1;
		rc = walk(&b, &data, addr, 1, 0);
	}
	if (!rc && section_data(elf, ".debug_frame", &data, &addr)) {
		*have_dbg = 1;
		rc = walk(&b, &data, addr, 0, 1);
	}
	if (rc && b.err)
		rc = vs__err(-rc, "%s", scratch->cfi_errmsg);
	free(b.fdes);
	return rc;
}

int vs__cfi_chunk(struct vs_data *scratch, void *frame, int debug, struct vs_chunk **out)
{
	struct build b = { .d = scratch, .max_rows = 1 };
	struct vs_crule cr[VDSOSCOPE_MAX_REGS];
	struct vs_chunk *c = NULL;
	struct fde fde = { .debug = debug };
	Dwarf_Frame *f = frame;
	Dwarf_Addr s, e;
	bool sig;
	unsigned int n;
	int rc;

	*out = NULL;
	if (!scratch->arch || scratch->nregs > VDSOSCOPE_MAX_REGS)
		return -VDSOSCOPE_E_BAD_MACHINE;
	if (dwarf_frame_info(f, &s, &e, &sig) < 0 || e <= s)
		return vs__err(VDSOSCOPE_E_BAD_CFI, "a CFI row without a range: %s", dwarf_errmsg(-1));
	scratch->nrows = 0;
	scratch->nops = 0;
	scratch->cfi_errmsg[0] = 0;
	scratch->rows = NULL;
	scratch->rules = NULL;
	scratch->ops = NULL;
	fde.lo = s;
	fde.hi = e;
	rc = add_row(&b, f, s, e, &fde, NULL);
	if (rc) {
		if (b.err)
			rc = vs__err(-rc, "%s", scratch->cfi_errmsg);
		goto out;
	}
	n = condense_row(scratch, &scratch->rows[0], scratch->rules, cr);
	c = malloc(sizeof(*c) + n * sizeof(*cr) + scratch->nops * sizeof(*scratch->ops));
	if (!c) {
		rc = -ENOMEM;
		goto out;
	}
	c->row = scratch->rows[0];
	c->row.first_crule = 0;
	c->row.ncrules = (uint8_t)n;
	c->crules = (struct vs_crule *)(c + 1);
	c->ops = (struct vs_op *)(c->crules + n);
	memcpy(c->crules, cr, n * sizeof(*cr));
	if (scratch->nops)
		memcpy(c->ops, scratch->ops, scratch->nops * sizeof(*scratch->ops));
	*out = c;
out:
	free(scratch->rows);
	free(scratch->rules);
	free(scratch->ops);
	scratch->rows = NULL;
	scratch->rules = NULL;
	scratch->ops = NULL;
	scratch->nrows = scratch->nops = 0;
	return rc;
}

static int row_cmp(const void *a, const void *b)
{
	const struct vs_row *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

typedef int analyzer_fn(struct vs_data *d, const uint64_t *starts, size_t nstarts,
			struct vs_synth **out, size_t *nout);

/* Adds the rows ANALYZE computes; each row's rules follow the arch's
 * register numbering (i386: EBP 5, ESP 4, EIP 8; aarch64: x29 29, x30 30,
 * sp 31). */
static int add_synthesized(struct vs_data *d, analyzer_fn *analyze)
{
	struct vs_synth *syn, sig;
	uint64_t *starts;
	size_t nsyn, i, n, need;
	int rc = 0, have_sig = d->arch->machine == EM_AARCH64 && vs__aarch64_sigreturn(d, &sig);

	if (!d->nfuncs)
		return 0;
	starts = malloc(d->nfuncs * sizeof(*starts));
	if (!starts)
		return -ENOMEM;
	for (i = n = 0; i < d->nfuncs; i++)
		if (!have_sig || d->funcs[i].start != sig.func)
			starts[n++] = d->funcs[i].start;
	rc = analyze(d, starts, n, &syn, &nsyn);
	free(starts);
	if (!rc && have_sig) {
		struct vs_synth *v = realloc(syn, (nsyn + 1) * sizeof(*v));
		if (!v)
			rc = -ENOMEM;
		else
			(syn = v)[nsyn++] = sig;
	}
	if (rc || !nsyn) {
		free(syn);
		return rc;
	}
	need = d->nrows + nsyn;
	{
		struct vs_row *v = realloc(d->rows, need * sizeof(*v));
		struct vdsoscope_rule *rv;
		if (!v) {
			free(syn);
			return -ENOMEM;
		}
		d->rows = v;
		rv = realloc(d->rules, need * d->nregs * sizeof(*rv));
		if (!rv) {
			free(syn);
			return -ENOMEM;
		}
		d->rules = rv;
	}
	for (i = 0, n = d->nrows; i < nsyn; i++, n++) {
		struct vs_row *row = &d->rows[n];
		struct vdsoscope_rule *rules = d->rules + n * d->nregs;
		unsigned int r;

		memset(row, 0, sizeof(*row));
		memset(rules, 0, d->nregs * sizeof(*rules));
		row->start = syn[i].start;
		row->end = syn[i].end;
		row->fde_start = syn[i].func;
		row->ra = (uint8_t)syn[i].ra;
		row->synthesized = 1;
		row->ra_signed = syn[i].ra_signed;
		row->signal = syn[i].signal;
		row->regs = (uint32_t)(n * d->nregs);
		row->cfa.kind = VDSOSCOPE_RULE_CFA_REG_OFFSET;
		row->cfa.reg = syn[i].cfa_reg;
		row->cfa.off = syn[i].cfa_off;
		for (r = 0; r < syn[i].nrules; r++) {
			const struct vs_synth_rule *sr = &syn[i].rules[r];
			if (sr->reg >= d->nregs)
				continue;
			rules[sr->reg].kind = sr->kind;
			rules[sr->reg].off = sr->off;
			if (sr->kind == VDSOSCOPE_RULE_REGISTER)
				rules[sr->reg].reg = (uint16_t)sr->off;
		}
	}
	d->nrows = n;
	free(syn);
	qsort(d->rows, d->nrows, sizeof(*d->rows), row_cmp);
	return 0;
}

int vs__cfi_finish(struct vs_data *d)
{
	int rc = 0;

	if (d->cfi_error)
		return 0;
	if (d->arch && d->arch->machine == EM_386 && d->arch->elf_class == 32)
		rc = add_synthesized(d, vs__analyze_i386);
	else if (d->arch && d->arch->machine == EM_AARCH64)
		rc = add_synthesized(d, vs__analyze_aarch64);
	else if (d->arch && d->arch->machine == EM_ARM)
		rc = add_synthesized(d, vs__analyze_arm);
	return rc ? rc : condense(d);
}

static int in(const uint8_t *p, const void *base, size_t size)
{
	return base && p >= (const uint8_t *)base && p < (const uint8_t *)base + size;
}

/* Writes DW_CFA_nop over the CIE restores of B into copies of the image
 * (*ELF, over *COPY) and of the debug file (*DBG, over *DBG_COPY).  Bytes
 * not found in either stay as they are; libdw then refuses their CIE, and
 * only the FDEs using it are dropped. */
static int apply_patches(struct build *b, Elf **elf, unsigned char **copy, Elf **dbg,
			 unsigned char **dbg_copy)
{
	struct vs_data *d = b->d;
	size_t i, dsize = 0;
	const char *draw = NULL;

	if (d->debug_elf)
		draw = elf_rawfile(d->debug_elf, &dsize);
	for (i = 0; i < b->npatches; i++) {
		const struct patch *pt = &b->patches[i];
		unsigned char *to;

		if (pt->debug == 2) {
			if (!in(pt->at, draw, dsize) || (size_t)(pt->at - (const uint8_t *)draw) + pt->len > dsize)
				continue;
			if (!*dbg_copy) {
				if (!(*dbg_copy = malloc(dsize)))
					return -ENOMEM;
				memcpy(*dbg_copy, draw, dsize);
				if (!(*dbg = elf_memory((char *)*dbg_copy, dsize)))
					return fail(b, "libelf: %s", elf_errmsg(-1));
			}
			to = *dbg_copy + (pt->at - (const uint8_t *)draw);
		} else if (*copy && in(pt->at, *copy, d->size)) {
			to = (unsigned char *)pt->at;
		} else if (in(pt->at, d->bytes, d->size)) {
			if (!*copy) {
				if (!(*copy = malloc(d->size)))
					return -ENOMEM;
				memcpy(*copy, d->bytes, d->size);
				if (*elf)
					elf_end(*elf);
				if (!(*elf = elf_memory((char *)*copy, d->size)))
					return fail(b, "libelf: %s", elf_errmsg(-1));
			}
			to = *copy + (pt->at - (const uint8_t *)d->bytes);
		} else {
			continue;
		}
		memset(to, DW_CFA_nop, pt->len);
	}
	return 0;
}

int vs__cfi_compile(struct vs_data *d)
{
	struct build b = { .d = d };
	unsigned char *copy = NULL, *dbg_copy = NULL;
	Elf *elf = NULL, *dbg = NULL;
	Elf_Data data;
	GElf_Shdr dsh;
	uint64_t addr;
	int sane, own_dbg, rc = 0;
	size_t i;

	d->cfi_dropped = 0;
	d->cfi_dropmsg[0] = 0;
	/* without a register table, every column up to PowerPC's 65 and more */
	d->nregs = d->arch ? d->arch->nregs : 128;
	if (d->size < 64)
		return 0;
	/* every row costs CFI at least a byte; real vDSOs have tens */
	b.max_rows = 4096 + d->size / 8;
	if (b.max_rows > VS_MAX_ROWS)
		b.max_rows = VS_MAX_ROWS;
	if (b.max_rows > (4u << 20) / d->nregs)
		b.max_rows = (4u << 20) / d->nregs;
	elf = elf_memory((char *)d->bytes, d->size);
	sane = elf && vs__sections_sane(elf, d);
	if (sane && vs__elf_compressed(elf)) {
		/* inflating rewrites section headers: never the image's own */
		elf_end(elf);
		if (vs__elf_private(d->bytes, d->size, VS_MAX_INFLATE, &elf, &copy) < 0) {
			rc = fail(&b, "%s", vdsoscope_errmsg());
			goto out;
		}
	} else if (elf && !sane) {
		/* headers that disagree with the program headers are ignored:
		 * libdw then works from PT_GNU_EH_FRAME too */
		elf_end(elf);
		copy = malloc(d->size);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, d->bytes, d->size);
		if (d->elf.is64) {
			memset(copy + 40, 0, 8);
			memset(copy + 58, 0, 6);
		} else {
			memset(copy + 32, 0, 4);
			memset(copy + 46, 0, 6);
		}
		elf = elf_memory((char *)copy, d->size);
	}
	if (!elf) {
		rc = fail(&b, "libelf: %s", elf_errmsg(-1));
		goto out;
	}
	if (sane) {
		GElf_Shdr sh;
		if (vs__find_section(elf, ".text", &sh) && sh.sh_type == SHT_PROGBITS && sh.sh_size) {
			d->text_lo = sh.sh_addr;
			d->text_hi = sh.sh_addr + sh.sh_size;
		}
	}
	if (sane && section_data(elf, ".eh_frame", &data, &addr))
		rc = walk(&b, &data, addr, 1, 0);
	else if (d->elf.eh_frame_hdr)
		rc = eh_frame_by_hdr(&b);
	own_dbg = sane && find_section(elf, ".debug_frame", &dsh) && dsh.sh_type != SHT_NOBITS &&
		  (!d->as_mapped || (dsh.sh_flags & SHF_ALLOC));
	if (!rc && own_dbg && section_data(elf, ".debug_frame", &data, &addr))
		rc = walk(&b, &data, addr, 0, 1);
	else if (!rc && d->debug_elf && section_data(d->debug_elf, ".debug_frame", &data, &addr))
		rc = walk(&b, &data, addr, 0, 2);
	if (!rc && b.maxreg >= d->nregs) {
		d->nregs = b.maxreg + 1;
		if (b.max_rows > (4u << 20) / d->nregs)
			b.max_rows = (4u << 20) / d->nregs;
	}
	if (!rc && b.npatches)
		rc = apply_patches(&b, &elf, &copy, &dbg, &dbg_copy);
	if (!rc)
		rc = compile(&b, elf, own_dbg ? elf : dbg ? dbg : d->debug_elf);
	if (!rc) {
		d->fdes = malloc((b.nfdes ? b.nfdes : 1) * sizeof(*d->fdes));
		if (!d->fdes) {
			rc = -ENOMEM;
			goto out;
		}
		for (i = 0; i < b.nfdes; i++) {
			uint64_t lo = b.fdes[i].lo, hi = b.fdes[i].hi;
			d->fdes[i][0] = lo;
			d->fdes[i][1] = hi;
			if (lo < d->text_lo)
				lo = d->text_lo;
			if (hi > d->text_hi)
				hi = d->text_hi;
			if (hi > lo)
				d->cfi_coverage += hi - lo;
		}
		d->nfdes = b.nfdes;
	}
out:
	for (i = 0; i < d->nrows; i++)
		if (d->rows[i].from_debug == 2)
			d->rows[i].from_debug = 1;
	if (rc) {
		/* no half tables: a step either has every row or none */
		if (!b.err)
			snprintf(d->cfi_errmsg, sizeof(d->cfi_errmsg), "%s", vdsoscope_strerror(rc));
		d->cfi_error = rc;
		d->nrows = 0;
		d->nops = 0;
	}
	free(b.fdes);
	free(b.patches);
	if (elf)
		elf_end(elf);
	if (dbg)
		elf_end(dbg);
	free(copy);
	free(dbg_copy);
	return rc;
}

/* ---- queries ----------------------------------------------------------------- */

static void row_out(const struct vdsoscope_image *img, const struct vs_row *r,
		    struct vdsoscope_row *out)
{
	out->start = r->start + img->bias;
	out->end = r->end + img->bias;
	out->fde_start = r->fde_start + img->bias;
	out->cfa = r->cfa;
	out->ra_reg = r->ra;
	out->nregs = img->d->nregs;
	out->signal_frame = r->signal;
	out->from_debug_frame = r->from_debug != 0;
	out->synthesized = r->synthesized != 0;
	out->ra_signed = r->ra_signed != 0;
	out->regs = img->d->rules + r->regs;
}

size_t vdsoscope_cfi_count(const struct vdsoscope_image *img)
{
	return img->d->nrows;
}

int vdsoscope_cfi_get(const struct vdsoscope_image *img, size_t idx, struct vdsoscope_row *out)
{
	if (idx >= img->d->nrows)
		return -VDSOSCOPE_E_NOT_FOUND;
	row_out(img, &img->d->rows[idx], out);
	return 0;
}

int vdsoscope_cfi_find(const struct vdsoscope_image *img, uint64_t addr, struct vdsoscope_row *out)
{
	const struct vs_data *d = img->d;
	uint64_t a = addr - img->bias;
	size_t lo = 0, hi = d->nrows;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->rows[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || a >= d->rows[lo - 1].end)
		return -VDSOSCOPE_E_NO_CFI;
	row_out(img, &d->rows[lo - 1], out);
	return 0;
}

uint64_t vdsoscope_cfi_coverage(const struct vdsoscope_image *img)
{
	return img->d->cfi_coverage;
}

int vdsoscope_cfi_error(const struct vdsoscope_image *img, const char **msg)
{
	if (msg)
		*msg = img->d->cfi_error ? img->d->cfi_errmsg : "";
	return img->d->cfi_error;
}

size_t vdsoscope_cfi_dropped(const struct vdsoscope_image *img, const char **msg)
{
	if (msg)
		*msg = img->d->cfi_dropped ? img->d->cfi_dropmsg : "";
	return img->d->cfi_dropped;
}

static const char *reg_name(const struct vs_data *d, unsigned int reg, char *tmp, size_t len)
{
	const char *n = vdsoscope_arch_reg_name(d->arch, reg);

	if (n)
		return n;
	snprintf(tmp, len, "r%u", reg);
	return tmp;
}

int vdsoscope_rule_format(const struct vdsoscope_image *img, const struct vdsoscope_rule *r,
			  char *buf, size_t len)
{
	const struct vs_data *d = img->d;
	char tmp[16], ex[256];

	switch (r->kind) {
	case VDSOSCOPE_RULE_UNSPECIFIED: return snprintf(buf, len, "u");
	case VDSOSCOPE_RULE_UNDEFINED: return snprintf(buf, len, "undef");
	case VDSOSCOPE_RULE_SAME: return snprintf(buf, len, "s");
	case VDSOSCOPE_RULE_OFFSET: return snprintf(buf, len, "c%+lld", (long long)r->off);
	case VDSOSCOPE_RULE_VAL_OFFSET: return snprintf(buf, len, "v%+lld", (long long)r->off);
	case VDSOSCOPE_RULE_REGISTER:
		return snprintf(buf, len, "%s", reg_name(d, r->reg, tmp, sizeof(tmp)));
	case VDSOSCOPE_RULE_CFA_REG_OFFSET:
		return snprintf(buf, len, "%s%+lld", reg_name(d, r->reg, tmp, sizeof(tmp)),
				(long long)r->off);
	case VDSOSCOPE_RULE_EXPRESSION:
	case VDSOSCOPE_RULE_VAL_EXPRESSION:
	case VDSOSCOPE_RULE_CFA_EXPRESSION:
		if (r->expr + (size_t)r->expr_len > d->nops)
			return snprintf(buf, len, "?");
		vs__expr_format(d, d->ops + r->expr, r->expr_len, ex, sizeof(ex));
		return snprintf(buf, len, "%s(%s)",
				r->kind == VDSOSCOPE_RULE_VAL_EXPRESSION ? "vexp" : "exp", ex);
	}
	return snprintf(buf, len, "?");
}
