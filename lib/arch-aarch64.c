/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aarch64: DWARF numbering of the AAPCS64 supplement; x19-x29 and sp
 * survive calls, x30 holds the return address. */
#include <elf.h>
#include "arch.h"

#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif

static const char *const aarch64_reg_names[33] = {
	"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10",
	"x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",
	"x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp", "pc",
};

const struct vdsoscope_arch vs__arch_aarch64 = {
	.name = "aarch64",
	.machine = EM_AARCH64,
	.elf_class = 64,
	.nregs = 33,
	.sp_reg = 31,
	.ip_reg = 32,
	.callee_saved = 0x7ffull << 19 | 1ull << 31,
	.addr_size = 8,
	.reg_names = aarch64_reg_names,
	.reg_size = 8,
};
