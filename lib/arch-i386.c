/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* i386: DWARF numbering of the SysV ABI; ebx, ebp, esi, edi survive calls. */
#include <elf.h>
#include "arch.h"

static const char *const names[] = {
	"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip",
};

const struct vdsoscope_arch vs__arch_i386 = {
	.name = "i386",
	.machine = EM_386,
	.elf_class = 32,
	.nregs = 9,
	.sp_reg = 4,
	.ip_reg = 8,
	.callee_saved = 1u << 3 | 1u << 5 | 1u << 6 | 1u << 7,
	.addr_size = 4,
	.reg_names = names,
	.reg_size = 4,
};
