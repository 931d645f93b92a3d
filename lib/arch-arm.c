/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * arm (AArch32; the arm64 kernel's compat vDSO): DWARF numbering of the
 * ARM DWARF ABI: r0-r15 are 0-15 (sp 13, lr 14, pc 15), the VFP registers
 * d0-d31 are 256-287.  r4-r11, sp and d8-d15 survive calls; a call leaves
 * the return address in lr.  readelf names none of them ("r13", "r264").
 */
#include <elf.h>
#include "arch.h"

#ifndef EM_ARM
#define EM_ARM 40
#endif

static const char *const names[VS_ARM_NREGS] = {
	"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12",
	"r13", "r14", "r15",
};

const struct vdsoscope_arch vs__arch_arm = {
	.name = "arm",
	.machine = EM_ARM,
	.elf_class = 32,
	.nregs = VS_ARM_NREGS,
	.sp_reg = 13,
	.ip_reg = 15,
	/* r4-r11, sp; d8-d15 */
	.callee_saved = { 0xff0ull | 1ull << 13, 0, 0, 0, 0xffull << (VS_ARM_D0 + 8 - 256) },
	.ra_reg = 14,
	.addr_size = 4,
	.reg_names = names,
	.reg_size = 4,
};
