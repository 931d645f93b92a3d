/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One register table per architecture, each in arch-NAME.c. */
#ifndef VDSOSCOPE_ARCH_H
#define VDSOSCOPE_ARCH_H
#include "vdsoscope.h"

extern const struct vdsoscope_arch vs__arch_x86_64 __attribute__((visibility("hidden")));
extern const struct vdsoscope_arch vs__arch_i386 __attribute__((visibility("hidden")));
extern const struct vdsoscope_arch vs__arch_x32 __attribute__((visibility("hidden")));
extern const struct vdsoscope_arch vs__arch_aarch64 __attribute__((visibility("hidden")));

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
