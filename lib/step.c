/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One frame through the compiled rows. */
#include "config.h"
#include <string.h>
#include "internal.h"

static inline int fetch(const struct vs_data *d, vdsoscope_read_fn read, void *arg,
			uint64_t addr, unsigned int size, uint64_t *v)
{
	unsigned char b[8];
	struct vs_elf r;

	if (read(arg, addr, b, size))
		return -VDSOSCOPE_E_MEMORY;
	if (size == 8 && !d->elf.swap) {
		memcpy(v, b, 8);
		return 0;
	}
	if (size == 4 && !d->elf.swap) {
		uint32_t w;
		memcpy(&w, b, 4);
		*v = w;
		return 0;
	}
	r = d->elf;
	r.data = b;
	r.size = size;
	*v = size == 8 ? vs_elf_u64(&r, 0) : vs_elf_u32(&r, 0);
	return 0;
}

int vdsoscope_step(const struct vdsoscope_image *img, const struct vdsoscope_regs *in,
		   unsigned int flags, vdsoscope_read_fn read, void *arg,
		   struct vdsoscope_regs *out, unsigned int *frame_flags)
{
	const struct vs_data *d = img->d;
	const struct vdsoscope_arch *a = d->arch;
	const struct vs_row *row;
	const struct vdsoscope_rule *rules;
	struct vdsoscope_regs res;
	uint64_t pc, link, cfa, mask, v;
	size_t lo, hi;
	unsigned int i, rsz;
	int rc;

	if (!a)
		return vs__err(VDSOSCOPE_E_BAD_MACHINE, "%s: no register table for machine %u",
			       img->source, d->elf.machine);
	if (!(in->valid >> a->ip_reg & 1))
		return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "step without an IP");
	mask = a->addr_size == 8 ? ~0ull : 0xffffffffull;
	pc = in->r[a->ip_reg] & mask;
	link = (((flags & VDSOSCOPE_STEP_CALLER) ? pc - 1 : pc) - img->bias) & mask;
	if (link < d->link_base || link - d->link_base >= d->size)
		return vs__err(VDSOSCOPE_E_NOT_IN_IMAGE, "0x%llx (%s at 0x%llx)",
			       (unsigned long long)pc, img->source, (unsigned long long)img->load);
	lo = 0;
	hi = d->nrows;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->rows[mid].start <= link)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || link >= d->rows[lo - 1].end)
		return vs__err(VDSOSCOPE_E_NO_CFI, "0x%llx in %s", (unsigned long long)pc,
			       img->source);
	row = &d->rows[lo - 1];
	rules = d->rules + row->regs;

	switch (row->cfa.kind) {
	case VDSOSCOPE_RULE_CFA_REG_OFFSET:
		if (row->cfa.reg >= VDSOSCOPE_MAX_REGS || !(in->valid >> row->cfa.reg & 1))
			return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "CFA at 0x%llx needs register %u",
				       (unsigned long long)pc, row->cfa.reg);
		cfa = (in->r[row->cfa.reg] + (uint64_t)row->cfa.off) & mask;
		break;
	case VDSOSCOPE_RULE_CFA_EXPRESSION:
		rc = vs__expr_eval(d, d->ops + row->cfa.expr, row->cfa.expr_len, in, img->bias,
				   read, arg, 0, 0, &cfa);
		if (rc)
			return vs__err(-rc, "CFA expression at 0x%llx", (unsigned long long)pc);
		break;
	default:
		return vs__err(VDSOSCOPE_E_NO_CFI, "CFA undefined at 0x%llx", (unsigned long long)pc);
	}

	rsz = a->reg_size;
	res.valid = 0;
	memset(res.r, 0, d->nregs * sizeof(res.r[0]));
	for (i = 0; i < d->nregs; i++) {
		const struct vdsoscope_rule *r = &rules[i];
		uint64_t bit = 1ull << i;

		switch (r->kind) {
		case VDSOSCOPE_RULE_UNSPECIFIED:
			if (i == a->sp_reg) {
				res.r[i] = cfa;
				res.valid |= bit;
			} else if ((a->callee_saved & bit) && (in->valid & bit)) {
				res.r[i] = in->r[i];
				res.valid |= bit;
			}
			break;
		case VDSOSCOPE_RULE_UNDEFINED:
			break;
		case VDSOSCOPE_RULE_SAME:
			if (in->valid & bit) {
				res.r[i] = in->r[i];
				res.valid |= bit;
			}
			break;
		case VDSOSCOPE_RULE_OFFSET:
			if (fetch(d, read, arg, (cfa + (uint64_t)r->off) & mask, rsz, &res.r[i]))
				return vs__err(VDSOSCOPE_E_MEMORY, "%s saved at 0x%llx (pc 0x%llx)",
					       a->reg_names[i],
					       (unsigned long long)((cfa + (uint64_t)r->off) & mask),
					       (unsigned long long)pc);
			res.valid |= bit;
			break;
		case VDSOSCOPE_RULE_VAL_OFFSET:
			res.r[i] = (cfa + (uint64_t)r->off) & mask;
			res.valid |= bit;
			break;
		case VDSOSCOPE_RULE_REGISTER:
			if (r->reg < VDSOSCOPE_MAX_REGS && (in->valid >> r->reg & 1)) {
				res.r[i] = in->r[r->reg];
				res.valid |= bit;
			}
			break;
		case VDSOSCOPE_RULE_EXPRESSION:
		case VDSOSCOPE_RULE_VAL_EXPRESSION:
			rc = vs__expr_eval(d, d->ops + r->expr, r->expr_len, in, img->bias, read, arg,
					   1, cfa, &v);
			if (rc)
				return vs__err(-rc, "rule of %s at 0x%llx", a->reg_names[i],
					       (unsigned long long)pc);
			if (r->kind == VDSOSCOPE_RULE_EXPRESSION &&
			    fetch(d, read, arg, v & mask, rsz, &v))
				return vs__err(VDSOSCOPE_E_MEMORY, "%s saved at 0x%llx (pc 0x%llx)",
					       a->reg_names[i], (unsigned long long)(v & mask),
					       (unsigned long long)pc);
			res.r[i] = v;
			res.valid |= bit;
			break;
		}
	}
	if (row->ra != a->ip_reg) {
		if (!(res.valid >> row->ra & 1))
			return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "return address at 0x%llx",
				       (unsigned long long)pc);
		res.r[a->ip_reg] = res.r[row->ra];
		res.valid |= 1ull << a->ip_reg;
	} else if (!(res.valid >> a->ip_reg & 1)) {
		return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "return address at 0x%llx",
			       (unsigned long long)pc);
	}
	if (frame_flags)
		*frame_flags = row->signal ? VDSOSCOPE_FRAME_SIGNAL : 0;
	out->valid = res.valid;
	memcpy(out->r, res.r, d->nregs * sizeof(res.r[0]));
	return 0;
}
