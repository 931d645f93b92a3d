/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* x32: an ELFCLASS32 EM_X86_64 image; registers and stack slots are 64-bit. */
#include <elf.h>
#include "arch.h"

const struct vdsoscope_arch vs__arch_x32 = {
	.name = "x32",
	.machine = EM_X86_64,
	.elf_class = 32,
	.nregs = 17,
	.sp_reg = 7,
	.ip_reg = 16,
	.callee_saved = { 1u << 3 | 1u << 6 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 15 },
	.ra_reg = 16,
	.addr_size = 4,
	.reg_names = vs__x86_64_reg_names,
	.reg_size = 8,
};
