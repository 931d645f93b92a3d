/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One frame through the compiled rows. */
#include "config.h"
#include <elf.h>
#include <string.h>
#include "internal.h"
#include "arch.h"

/* The SIZE-byte word at B in the image's byte order. */
static inline uint64_t word_at(const struct vs_data *d, const unsigned char *b, unsigned int size)
{
	struct vs_elf r;

	if (size == 8 && !d->elf.swap) {
		uint64_t v;
		memcpy(&v, b, 8);
		return v;
	}
	if (size == 4 && !d->elf.swap) {
		uint32_t w;
		memcpy(&w, b, 4);
		return w;
	}
	r = d->elf;
	r.data = b;
	r.size = size;
	return size == 8 ? vs_elf_u64(&r, 0) : vs_elf_u32(&r, 0);
}

static inline int fetch(const struct vs_data *d, vdsoscope_read_fn read, void *arg,
			uint64_t addr, unsigned int size, uint64_t *v)
{
	unsigned char b[8];

	if (read(arg, addr, b, size))
		return -VDSOSCOPE_E_MEMORY;
	*v = word_at(d, b, size);
	return 0;
}

static const char *reg_name(const struct vdsoscope_arch *a, unsigned int reg)
{
	const char *n = vdsoscope_arch_reg_name(a, reg);

	return n ? n : "a register";
}

/* x86_64's legacy vsyscall page has no ELF and no CFI: each entry is
 * "mov $nr, %rax; syscall; ret", so at any of its instructions the return
 * address is at the stack pointer and nothing else has moved. */
static int vsyscall_step(const struct vdsoscope_regs *in, vdsoscope_read_fn read, void *arg,
			 struct vdsoscope_regs *out, unsigned int *frame_flags)
{
	const struct vdsoscope_arch *a = &vs__arch_x86_64;
	uint64_t sp, ra;
	unsigned char b[8];

	if (!vdsoscope_regs_has(in, a->sp_reg))
		return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "vsyscall page step without SP");
	sp = in->r[a->sp_reg];
	if (read(arg, sp, b, 8))
		return vs__err(VDSOSCOPE_E_MEMORY, "return address at 0x%llx (vsyscall page)",
			       (unsigned long long)sp);
	memcpy(&ra, b, 8);
	if (out != in)
		for (unsigned int r = 0; r < a->nregs; r++)
			if (a->callee_saved[0] >> r & 1)
				out->r[r] = in->r[r];
	{
		uint64_t keep = in->valid[0] & a->callee_saved[0], pm = in->pac_mask;
		vdsoscope_regs_clear(out);
		out->valid[0] = keep;
		out->pac_mask = pm;
	}
	vdsoscope_regs_set(out, a->sp_reg, sp + 8);
	vdsoscope_regs_set(out, a->ip_reg, ra);
	if (frame_flags)
		*frame_flags = 0;
	return 0;
}

/* arm's signal return outside any image: the kernel's [sigpage] holds
 * "mov r7, #NR; svc 0" (or "svc #NR"), in ARM and in Thumb, for sigreturn (119) and
 * rt_sigreturn (173).  There SP points at the frame the kernel pushed: for
 * rt_sigreturn its siginfo (128 bytes), then the ucontext, whose
 * sigcontext starts 20 bytes in with trap_no, error_code and oldmask, then
 * r0-r15; for sigreturn the ucontext itself. */
#define ARM_SC_R0 32
static int arm_sigpage_step(const struct vdsoscope_arch *a, const struct vdsoscope_regs *in,
			    vdsoscope_read_fn read, void *arg, struct vdsoscope_regs *out,
			    unsigned int *frame_flags)
{
	uint64_t pc, sp;
	unsigned char b[8];
	uint32_t w[16];
	unsigned int k, nr = 0;

	if (!vdsoscope_regs_has(in, a->ip_reg) || !vdsoscope_regs_has(in, a->sp_reg))
		return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "trampoline step without PC and SP");
	pc = in->r[a->ip_reg] & 0xfffffffeu;
	sp = in->r[a->sp_reg] & 0xffffffffu;
	/* at the mov, or at the svc after it */
	for (k = 0; k < 3 && !nr; k++) {
		uint64_t at = pc - (k == 0 ? 0 : k == 1 ? 4 : 2);
		uint32_t x, y;
		uint16_t h0, h1;
		if (at > pc || read(arg, at, b, 8))
			continue;
		x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		y = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
		h0 = (uint16_t)x;
		h1 = (uint16_t)(x >> 16);
		/* svc #0, or svc #NR as arm64's compat [sigpage] has it */
		if (k != 2 && (x == 0xe3a07077u || x == 0xe3a070adu) &&
		    (y == 0xef000000u || y == (0xef000000u | (x & 0xff))))
			nr = x & 0xff;
		else if (k != 1 && (h0 == 0x2777 || h0 == 0x27ad) &&
			 (h1 == 0xdf00 || h1 == (0xdf00 | (h0 & 0xff))))
			nr = h0 & 0xff;
	}
	if (!nr)
		return vs__err(VDSOSCOPE_E_NOT_IN_IMAGE, "0x%llx: no image and no signal return there",
			       (unsigned long long)pc);
	if (read(arg, sp + (nr == 173 ? 128 : 0) + ARM_SC_R0, w, sizeof(w)))
		return vs__err(VDSOSCOPE_E_MEMORY, "signal frame at 0x%llx", (unsigned long long)sp);
	vdsoscope_regs_clear(out);
	for (k = 0; k < 16; k++)
		vdsoscope_regs_set(out, k, w[k]);
	if (frame_flags)
		*frame_flags = VDSOSCOPE_FRAME_SIGNAL;
	return 0;
}

int vdsoscope_step_trampoline(const struct vdsoscope_arch *a, const struct vdsoscope_regs *in,
			      vdsoscope_read_fn read, void *arg, struct vdsoscope_regs *out,
			      unsigned int *frame_flags)
{
	if (!a || !vdsoscope_regs_has(in, a->ip_reg))
		return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "trampoline step without an IP");
	if (a == &vs__arch_x86_64 && vs__in_vsyscall(in->r[a->ip_reg]))
		return vsyscall_step(in, read, arg, out, frame_flags);
	if (a->machine == EM_ARM && a->elf_class == 32)
		return arm_sigpage_step(a, in, read, arg, out, frame_flags);
	return vs__err(VDSOSCOPE_E_NOT_IN_IMAGE, "0x%llx: no image and no trampoline there",
		       (unsigned long long)in->r[a->ip_reg]);
}

/* OUT keeps IN's registers that ROW passes through, and no other. */
static inline void pass_through(const struct vdsoscope_arch *a, const struct vs_row *row,
				const struct vdsoscope_regs *in, struct vdsoscope_regs *out)
{
	unsigned int w, nw = (a->nregs + 63) / 64;

	/* only the words the architecture's registers reach */
	for (w = 0; w < nw; w++) {
		uint64_t pass = row->pass[w] & in->valid[w];
		if (out != in) {
			uint64_t m = pass;
			while (m) {
				unsigned int r = w * 64 + (unsigned int)__builtin_ctzll(m);
				out->r[r] = in->r[r];
				m &= m - 1;
			}
		}
		out->valid[w] = pass;
	}
	for (; w < VDSOSCOPE_REG_WORDS; w++)
		out->valid[w] = 0;
}

/* The caller's PC in OUT from ROW's return address column, once the rules
 * were applied; the frame's flags. */
static inline int caller_pc(const struct vdsoscope_arch *a, const struct vs_row *row, uint64_t pc,
			    struct vdsoscope_regs *out, unsigned int *frame_flags)
{
	if (row->ra != a->ip_reg) {
		if (!vdsoscope_regs_has(out, row->ra))
			return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "return address at 0x%llx",
				       (unsigned long long)pc);
		vdsoscope_regs_set(out, a->ip_reg, out->r[row->ra]);
	} else if (!vdsoscope_regs_has(out, a->ip_reg)) {
		return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "return address at 0x%llx",
			       (unsigned long long)pc);
	}
	/* the caller sees its return address authenticated: in the PC and in
	 * the register that held it */
	if (a->machine == EM_AARCH64 && !row->signal) {
		out->r[a->ip_reg] = vs__strip_pac(out->r[a->ip_reg], out->pac_mask);
		if (row->ra != a->ip_reg)
			out->r[row->ra] = out->r[a->ip_reg];
	}
	/* arm: the caller's PC is the address, without the Thumb bit lr has */
	if (a->machine == EM_ARM)
		out->r[a->ip_reg] &= ~1ull;
	if (frame_flags)
		*frame_flags = row->signal ? VDSOSCOPE_FRAME_SIGNAL : 0;
	return 0;
}

/* The short way's end on x86, where the return address is the PC's column
 * and never signed. */
static inline int fast_end(const struct vdsoscope_arch *a, const struct vs_row *row, uint64_t pc,
			   uint64_t valid0, struct vdsoscope_regs *out, unsigned int *frame_flags)
{
	if (row->plain_ra) {
		if (__builtin_expect(!(valid0 >> a->ip_reg & 1), 0))
			return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "return address at 0x%llx",
				       (unsigned long long)pc);
		if (frame_flags)
			*frame_flags = row->signal ? VDSOSCOPE_FRAME_SIGNAL : 0;
		return 0;
	}
	return caller_pc(a, row, pc, out, frame_flags);
}

/* ROW's step when it is simple (row->fast): CFA = register + offset, every
 * rule a slot of 8 bytes within the span, in host byte order.  Returns 1
 * when the span cannot be read: the general step then says why. */
static inline __attribute__((always_inline)) int
step_fast(const struct vs_data *d, const struct vdsoscope_arch *a, const struct vs_row *row,
	  const struct vs_crule *cr, uint64_t pc, const struct vdsoscope_regs *in,
	  vdsoscope_read_fn read, void *arg, struct vdsoscope_regs *out, unsigned int *frame_flags)
{
	unsigned char span[VS_MAX_SPAN];
	uint64_t cfa, v, m, valid[VDSOSCOPE_REG_WORDS];
	unsigned int i, w, n = row->ncrules, creg = row->cfa.reg;

	if (__builtin_expect(!(in->valid[creg / 64] >> (creg % 64) & 1), 0))
		return 1;
	cfa = in->r[creg] + (uint64_t)row->cfa.off;
	if (read(arg, cfa + (uint64_t)(int64_t)row->span_lo, span, row->span_len))
		return 1;
	/* the rules read only the span: OUT may be IN */
	if (a->nregs <= 64) {
		/* every register in the first word */
		uint64_t v0 = row->pass[0] & in->valid[0];
		if (out != in) {
			/* the callee-saved ones whether valid or not (the valid
			 * bits say which mean anything), then any other */
			const uint8_t *sv = d->saved;
			unsigned int ns = d->nsaved;
			for (i = 0; i < ns; i++)
				out->r[sv[i]] = in->r[sv[i]];
			for (m = v0 & ~a->callee_saved[0]; m; m &= m - 1) {
				unsigned int r = (unsigned int)__builtin_ctzll(m);
				out->r[r] = in->r[r];
			}
			out->pac_mask = in->pac_mask;
		}
		if (row->sp_cfa) {
			out->r[a->sp_reg] = cfa;
			v0 |= 1ull << (a->sp_reg % 64);
		}
		for (i = 0; i < n; i++) {
			unsigned int r = cr[i].reg;
			memcpy(&v, span + (cr[i].off - row->span_lo), 8);
			out->r[r] = v;
			v0 |= 1ull << (r % 64);
		}
		out->valid[0] = v0;
		for (w = 1; w < VDSOSCOPE_REG_WORDS; w++)
			out->valid[w] = 0;
		return fast_end(a, row, pc, v0, out, frame_flags);
	}
	for (w = 0; w < VDSOSCOPE_REG_WORDS; w++)
		valid[w] = row->pass[w] & in->valid[w];
	if (out != in) {
		for (w = 0; w < VDSOSCOPE_REG_WORDS; w++)
			for (m = valid[w]; m; m &= m - 1) {
				unsigned int r = w * 64 + (unsigned int)__builtin_ctzll(m);
				out->r[r] = in->r[r];
			}
		out->pac_mask = in->pac_mask;
	}
	if (row->sp_cfa) {
		out->r[a->sp_reg] = cfa;
		valid[a->sp_reg / 64] |= 1ull << (a->sp_reg % 64);
	}
	for (i = 0; i < n; i++) {
		unsigned int r = cr[i].reg;
		memcpy(&v, span + (cr[i].off - row->span_lo), 8);
		out->r[r] = v;
		valid[r / 64] |= 1ull << (r % 64);
	}
	memcpy(out->valid, valid, sizeof(valid));
	return caller_pc(a, row, pc, out, frame_flags);
}

/* One frame with ROW, whose rules are at CRULES and expressions at OPS. */
static inline int step_row(const struct vs_data *d, const struct vs_row *row,
			   const struct vs_crule *crules, const struct vs_op *ops, uint64_t bias,
			   uint64_t pc, unsigned int flags, const struct vdsoscope_regs *in,
			   vdsoscope_read_fn read, void *arg, struct vdsoscope_regs *out,
			   unsigned int *frame_flags)
{
	const struct vdsoscope_arch *a = d->arch;
	uint64_t cfa, mask = a->addr_size == 8 ? ~0ull : 0xffffffffull, v;
	const char *why = "";
	unsigned int i;
	int rc;

	switch (row->cfa.kind) {
	case VDSOSCOPE_RULE_CFA_REG_OFFSET:
		if (!vdsoscope_regs_has(in, row->cfa.reg))
			return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "CFA at 0x%llx needs register %u",
				       (unsigned long long)pc, row->cfa.reg);
		cfa = (in->r[row->cfa.reg] + (uint64_t)row->cfa.off) & mask;
		break;
	case VDSOSCOPE_RULE_CFA_EXPRESSION:
		rc = vs__expr_eval(d, ops + row->cfa.expr, row->cfa.expr_len, in, bias,
				   read, arg, 0, 0, &cfa, &why);
		if (rc)
			return vs__err(-rc, "CFA expression at 0x%llx: %s", (unsigned long long)pc, why);
		break;
	default:
		return vs__err(VDSOSCOPE_E_NO_CFI, "CFA undefined at 0x%llx", (unsigned long long)pc);
	}

	/* evaluate first, write after: OUT may be IN */
	{
		const struct vs_crule *cr = crules + row->first_crule;
		uint64_t vals[VS_MAX_CRULES], set[VS_MAX_CRULES / 64] = { 0 }, pacm = in->pac_mask;
		unsigned int n = row->ncrules;

		unsigned char span[VS_MAX_SPAN];
		int have_span = 0;

		/* the slots of all saved registers in one read, when it can be */
		if (row->span_len) {
			uint64_t lo = (cfa + (uint64_t)(int64_t)row->span_lo) & mask;
			have_span = lo <= mask - (row->span_len - 1) &&
				    !read(arg, lo, span, row->span_len);
		}
		for (i = 0; i < n; i++) {
			const struct vs_crule *r = &cr[i];

			switch (r->kind) {
			case VDSOSCOPE_RULE_OFFSET:
				if (have_span) {
					vals[i] = word_at(d, span + (r->off - row->span_lo),
							  vs__slot_size(a, r->reg));
					break;
				}
				v = (cfa + (uint64_t)r->off) & mask;
				if (fetch(d, read, arg, v, vs__slot_size(a, r->reg), &vals[i])) {
					if ((flags & VDSOSCOPE_STEP_LENIENT) && r->reg != row->ra)
						continue;
					return vs__err(VDSOSCOPE_E_MEMORY, "%s saved at 0x%llx (pc 0x%llx)",
						       reg_name(a, r->reg), (unsigned long long)v,
						       (unsigned long long)pc);
				}
				break;
			case VDSOSCOPE_RULE_VAL_OFFSET:
				vals[i] = (cfa + (uint64_t)r->off) & mask;
				break;
			case VDSOSCOPE_RULE_REGISTER:
				if (r->off < 0 || !vdsoscope_regs_has(in, (unsigned int)r->off))
					continue;
				vals[i] = in->r[r->off];
				break;
			case VDSOSCOPE_RULE_EXPRESSION:
			case VDSOSCOPE_RULE_VAL_EXPRESSION:
				rc = vs__expr_eval(d, ops + r->expr, r->expr_len, in, bias, read,
						   arg, 1, cfa, &v, &why);
				if (rc)
					return vs__err(-rc, "rule of %s at 0x%llx: %s", reg_name(a, r->reg),
						       (unsigned long long)pc, why);
				if (r->kind == VDSOSCOPE_RULE_EXPRESSION &&
				    fetch(d, read, arg, v & mask, vs__slot_size(a, r->reg), &v)) {
					if ((flags & VDSOSCOPE_STEP_LENIENT) && r->reg != row->ra)
						continue;
					return vs__err(VDSOSCOPE_E_MEMORY, "%s saved at 0x%llx (pc 0x%llx)",
						       reg_name(a, r->reg), (unsigned long long)(v & mask),
						       (unsigned long long)pc);
				}
				vals[i] = v;
				break;
			default:
				continue;
			}
			set[i / 64] |= 1ull << (i % 64);
		}
		/* only the words the architecture's registers reach */
		pass_through(a, row, in, out);
		out->pac_mask = pacm;
		if (row->sp_cfa)
			vdsoscope_regs_set(out, a->sp_reg, cfa);
		for (i = 0; i < n; i++)
			if (set[i / 64] >> (i % 64) & 1)
				vdsoscope_regs_set(out, cr[i].reg, vals[i]);
	}
	return caller_pc(a, row, pc, out, frame_flags);
}

int vdsoscope_step(const struct vdsoscope_image *img, const struct vdsoscope_regs *in,
		   unsigned int flags, vdsoscope_read_fn read, void *arg,
		   struct vdsoscope_regs *out, unsigned int *frame_flags)
{
	const struct vdsoscope_arch *a = img->arch;
	const struct vs_data *d = img->d;
	uint64_t pc, link, mask = img->addr_mask;
	unsigned int ip = img->ip_reg;
	size_t lo, hi;

	if (!a)
		return vs__err(VDSOSCOPE_E_BAD_MACHINE, "%s: no register table for machine %u",
			       img->source, d->elf.machine);
	if (!(in->valid[ip / 64] >> (ip % 64) & 1))
		return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "step without an IP");
	pc = in->r[ip] & img->pc_mask;
	link = (((flags & VDSOSCOPE_STEP_CALLER) ? pc - 1 : pc) - img->bias) & mask;
	if (link - img->link_base >= img->size) {
		if (a == &vs__arch_x86_64 && vs__in_vsyscall(pc))
			return vsyscall_step(in, read, arg, out, frame_flags);
		return vs__err(VDSOSCOPE_E_NOT_IN_IMAGE, "0x%llx (%s at 0x%llx)",
			       (unsigned long long)pc, img->source, (unsigned long long)img->load);
	}
	if (img->row_index) {
		lo = img->row_index[link - img->link_base];
	} else {
		lo = 0;
		hi = d->nrows;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (d->rows[mid].start <= link)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo && link >= d->rows[lo - 1].end)
			lo = 0;
	}
	if (__builtin_expect(lo == 0, 0))
		return vs__err(VDSOSCOPE_E_NO_CFI, "0x%llx in %s", (unsigned long long)pc,
			       img->source);
	{
		const struct vs_row *row = &img->rows[lo - 1];
		int rc;
		if (row->fast && (rc = step_fast(d, a, row, img->crules + row->first_crule, pc, in, read,
						 arg, out, frame_flags)) <= 0)
			return rc;
		return step_row(d, row, d->crules, d->ops, img->bias, pc, flags, in, read, arg, out,
				frame_flags);
	}
}

int vs__step_row(const struct vs_data *d, const struct vs_row *row, const struct vs_crule *crules,
		 const struct vs_op *ops, uint64_t bias, uint64_t pc, unsigned int flags,
		 const struct vdsoscope_regs *in, vdsoscope_read_fn read, void *arg,
		 struct vdsoscope_regs *out, unsigned int *frame_flags)
{
	int rc;

	if (row->fast && (rc = step_fast(d, d->arch, row, crules + row->first_crule, pc, in, read,
					 arg, out, frame_flags)) <= 0)
		return rc;
	return step_row(d, row, crules, ops, bias, pc, flags, in, read, arg, out, frame_flags);
}
