/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* x86_64: DWARF numbering of the psABI; rbx, rbp, r12-r15 survive calls. */
#include <elf.h>
#include "arch.h"

const char *const vs__x86_64_reg_names[17] = {
	"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
};

const struct vdsoscope_arch vs__arch_x86_64 = {
	.name = "x86_64",
	.machine = EM_X86_64,
	.elf_class = 64,
	.nregs = 17,
	.sp_reg = 7,
	.ip_reg = 16,
	.callee_saved = 1u << 3 | 1u << 6 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 15,
	.addr_size = 8,
	.reg_names = vs__x86_64_reg_names,
	.reg_size = 8,
};
