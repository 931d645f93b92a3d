/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* x32: an ELFCLASS32 EM_X86_64 image; registers and stack slots are 64-bit. */
#include <elf.h>
#include "arch.h"

static const char *const names[] = {
	"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
};

const struct vdsoscope_arch vs__arch_x32 = {
	.name = "x32",
	.machine = EM_X86_64,
	.elf_class = 32,
	.nregs = 17,
	.sp_reg = 7,
	.ip_reg = 16,
	.callee_saved = 1u << 3 | 1u << 6 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 15,
	.addr_size = 4,
	.reg_names = names,
	.reg_size = 8,
};
