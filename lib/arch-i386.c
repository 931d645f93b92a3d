/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* i386: DWARF numbering of the SysV ABI; ebx, ebp, esi, edi survive calls. */
#include <elf.h>
#include "arch.h"

static const char *const names[] = {
	"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip",
};

/* every number readelf names, for rules of registers the step does not track */
const char *const vs__i386_dwarf_names[VS_I386_DWARF_NAMES] = {
	"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags", NULL, "st0", "st1",
	"st2", "st3", "st4", "st5", "st6", "st7", NULL, NULL, "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
	"xmm5", "xmm6", "xmm7", "mm0", "mm1", "mm2", "mm3", "mm4", "mm5", "mm6", "mm7", "fcw", "fsw",
	"mxcsr", "es", "cs", "ss", "ds", "fs", "gs", NULL, NULL, "tr", "ldtr", NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "k0", "k1", "k2", "k3", "k4", "k5",
	"k6", "k7",
};

const struct vdsoscope_arch vs__arch_i386 = {
	.name = "i386",
	.machine = EM_386,
	.elf_class = 32,
	.nregs = 9,
	.sp_reg = 4,
	.ip_reg = 8,
	.callee_saved = { 1u << 3 | 1u << 5 | 1u << 6 | 1u << 7 },
	.ra_reg = 8,
	.addr_size = 4,
	.reg_names = names,
	.reg_size = 4,
};
