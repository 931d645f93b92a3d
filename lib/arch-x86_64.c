/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* x86_64: DWARF numbering of the psABI; rbx, rbp, r12-r15 survive calls. */
#include <elf.h>
#include "arch.h"

const char *const vs__x86_64_reg_names[17] = {
	"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
};

/* every number readelf names, for rules of registers the step does not track */
const char *const vs__x86_64_dwarf_names[VS_X86_64_DWARF_NAMES] = {
	"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12",
	"r13", "r14", "r15", "rip", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
	"xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st0", "st1", "st2",
	"st3", "st4", "st5", "st6", "st7", "mm0", "mm1", "mm2", "mm3", "mm4", "mm5", "mm6", "mm7",
	"rflags", "es", "cs", "ss", "ds", "fs", "gs", NULL, NULL, "fs.base", "gs.base", NULL, NULL,
	"tr", "ldtr", "mxcsr", "fcw", "fsw", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21",
	"xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31",
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7",
};

const struct vdsoscope_arch vs__arch_x86_64 = {
	.name = "x86_64",
	.machine = EM_X86_64,
	.elf_class = 64,
	.nregs = 17,
	.sp_reg = 7,
	.ip_reg = 16,
	.callee_saved = { 1u << 3 | 1u << 6 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 15 },
	.ra_reg = 16,
	.addr_size = 8,
	.reg_names = vs__x86_64_reg_names,
	.reg_size = 8,
};
