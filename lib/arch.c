/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include <elf.h>
#include <string.h>
#include "internal.h"
#include "arch.h"

static const struct vdsoscope_arch *const arches[] = {
	&vs__arch_x86_64,
	&vs__arch_i386,
	&vs__arch_x32,
	&vs__arch_aarch64,
	&vs__arch_arm,
};

const struct vdsoscope_arch *vdsoscope_arch_by_machine(int machine, int elf_class)
{
	size_t i;

	for (i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (arches[i]->machine == machine && arches[i]->elf_class == elf_class)
			return arches[i];
	return NULL;
}

const struct vdsoscope_arch *vdsoscope_arch_by_name(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(arches) / sizeof(arches[0]); i++)
		if (!strcmp(arches[i]->name, name))
			return arches[i];
	return NULL;
}

const char *vdsoscope_arch_reg_name(const struct vdsoscope_arch *a, unsigned int reg)
{
	if (!a)
		return NULL;
	if (reg < a->nregs)
		return a->reg_names[reg];
	if (a->machine == EM_AARCH64 && reg >= 96 && reg < 128) {
		static const char *const z[32] = {
			"z0", "z1", "z2", "z3", "z4", "z5", "z6", "z7", "z8", "z9", "z10",
			"z11", "z12", "z13", "z14", "z15", "z16", "z17", "z18", "z19", "z20",
			"z21", "z22", "z23", "z24", "z25", "z26", "z27", "z28", "z29", "z30", "z31",
		};
		return z[reg - 96];
	}
	if (a->machine == EM_X86_64 && reg < VS_X86_64_DWARF_NAMES)
		return vs__x86_64_dwarf_names[reg];
	if (a->machine == EM_386 && reg < VS_I386_DWARF_NAMES)
		return vs__i386_dwarf_names[reg];
	return NULL;
}
