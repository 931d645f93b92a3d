/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One register table per architecture, each in arch-NAME.c. */
#ifndef VDSOSCOPE_ARCH_H
#define VDSOSCOPE_ARCH_H
#include "vdsoscope.h"

extern const struct vdsoscope_arch vs__arch_x86_64 __attribute__((visibility("hidden")));
extern const struct vdsoscope_arch vs__arch_i386 __attribute__((visibility("hidden")));
extern const struct vdsoscope_arch vs__arch_x32 __attribute__((visibility("hidden")));
extern const struct vdsoscope_arch vs__arch_aarch64 __attribute__((visibility("hidden")));
extern const struct vdsoscope_arch vs__arch_arm __attribute__((visibility("hidden")));

/* arm: r0-r15, then d0-d31 at 256-287; a d register's stack slot is 8
 * bytes though reg_size (of the core registers) is 4 */
#define VS_ARM_NREGS 288
#define VS_ARM_D0 256
static inline unsigned int vs__slot_size(const struct vdsoscope_arch *a, unsigned int reg)
{
	return a->machine == 40 /* EM_ARM */ && reg >= VS_ARM_D0 ? 8 : a->reg_size;
}

/* aarch64: x0-x30, sp, pc, ..., v0-v31 (64-95) */
#define VS_AARCH64_NREGS 96
extern const char *const vs__aarch64_reg_names[VS_AARCH64_NREGS]
	__attribute__((visibility("hidden")));

/* Clears a pointer authentication code from aarch64 return address RA:
 * the bits of MASK, or bits 63-48 when MASK is 0. */
static inline uint64_t vs__strip_pac(uint64_t ra, uint64_t mask)
{
	return ra & ~(mask ? mask : 0xffff000000000000ull);
}

/* x86_64 and x32 share the DWARF register numbering */
extern const char *const vs__x86_64_reg_names[17] __attribute__((visibility("hidden")));

/* DWARF register names past the step's table (NULL where none) */
#define VS_X86_64_DWARF_NAMES 126
#define VS_I386_DWARF_NAMES 101
extern const char *const vs__x86_64_dwarf_names[VS_X86_64_DWARF_NAMES]
	__attribute__((visibility("hidden")));
extern const char *const vs__i386_dwarf_names[VS_I386_DWARF_NAMES]
	__attribute__((visibility("hidden")));

#endif
