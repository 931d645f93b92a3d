/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aarch64: DWARF numbering of the AAPCS64 DWARF supplement.  x19-x29, sp
 * and the low halves of v8-v15 (d8-d15) survive calls; x30 holds the
 * return address, which may carry a pointer authentication code.
 */
#include "config.h"
#include <elf.h>
#include <string.h>
#include "internal.h"
#include "arch.h"

#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif

const char *const vs__aarch64_reg_names[VS_AARCH64_NREGS] = {
	"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
	"x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24",
	"x25", "x26", "x27", "x28", "x29", "x30", "sp", "pc", "elr", "ra_sign_state",
	"tpidrro_el0", "tpidr_el0", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	"vg", "ffr", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10",
	"p11", "p12", "p13", "p14", "p15", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7",
	"v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19",
	"v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31",
};

const struct vdsoscope_arch vs__arch_aarch64 = {
	.name = "aarch64",
	.machine = EM_AARCH64,
	.elf_class = 64,
	.nregs = VS_AARCH64_NREGS,
	.sp_reg = 31,
	.ip_reg = 32,
	/* x19-x29, sp; v8-v15 (their low halves, d8-d15) */
	.callee_saved = { 0x7ffull << 19 | 1ull << 31, 0xffull << (72 - 64) },
	.ra_reg = 30,
	.addr_size = 8,
	.reg_names = vs__aarch64_reg_names,
	.reg_size = 8,
};

/* Offsets from the SP at __kernel_rt_sigreturn, which points at the
 * kernel's struct rt_sigframe: siginfo (128 bytes), then the ucontext,
 * whose uc_mcontext (struct sigcontext) starts 176 bytes in: fault_address,
 * regs[31], sp, pc, pstate, then __reserved (16-aligned), whose first
 * record is always the fpsimd_context: magic, size, fpsr, fpcr, vregs[32]
 * of 16 bytes. */
#define SIGCTX 304
#define SC_REGS (SIGCTX + 8)
#define SC_SP (SC_REGS + 31 * 8)
#define SC_PC (SC_SP + 8)
#define SC_VREGS (SIGCTX + 288 + 16)

#define INSN_NOP 0xd503201fu
#define INSN_MOV_X8_SIGRETURN 0xd2801168u /* mov x8, #139 */
#define INSN_SVC_0 0xd4000001u

static uint32_t insn_at(const struct vs_data *d, uint64_t link)
{
	const unsigned char *p;

	if (link < d->link_base || link - d->link_base > d->size - 4 || d->size < 4)
		return 0;
	p = d->bytes + (link - d->link_base);
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int vs__aarch64_sigreturn(const struct vs_data *d, struct vs_synth *out)
{
	size_t i, k;
	unsigned int r;

	for (i = 0; i < d->nfuncs; i++) {
		const struct vs_func *f = &d->funcs[i];
		uint64_t at = f->start;
		int named = 0;

		for (k = 0; k < f->nnames; k++)
			named |= !strcmp(d->names[f->first + k].name, "__kernel_rt_sigreturn");
		if (!named)
			continue;
		if (insn_at(d, at) != INSN_MOV_X8_SIGRETURN || insn_at(d, at + 4) != INSN_SVC_0)
			return 0;
		for (k = 0; k < d->nrows; k++)
			if (d->rows[k].start < at + 8 && d->rows[k].end > at)
				return 0;
		memset(out, 0, sizeof(*out));
		/* the NOP before it, where a look-up of the return address
		 * minus one lands */
		out->start = at >= d->link_base + 4 && insn_at(d, at - 4) == INSN_NOP ? at - 4 : at;
		out->end = at + 8;
		out->func = at;
		out->cfa_reg = 31;
		out->cfa_off = 0;
		out->ra = 32;
		out->signal = 1;
		for (r = 0; r <= 30; r++)
			out->rules[out->nrules++] =
				(struct vs_synth_rule){ (uint16_t)r, VDSOSCOPE_RULE_OFFSET, SC_REGS + 8 * (int32_t)r };
		out->rules[out->nrules++] = (struct vs_synth_rule){ 31, VDSOSCOPE_RULE_OFFSET, SC_SP };
		out->rules[out->nrules++] = (struct vs_synth_rule){ 32, VDSOSCOPE_RULE_OFFSET, SC_PC };
		for (r = 8; r <= 15; r++)
			out->rules[out->nrules++] = (struct vs_synth_rule){
				(uint16_t)(64 + r), VDSOSCOPE_RULE_OFFSET, SC_VREGS + 16 * (int32_t)r };
		return 1;
	}
	return 0;
}
