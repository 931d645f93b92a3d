/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The freestanding reader lib/vdso-elf.c on arbitrary bytes: vs_elf_parse,
 * every dynamic symbol and version, vs_elf_lookup through both hash tables,
 * vs_elf_extent. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "vdso-elf.h"

static const char *const names[] = {
	"__vdso_clock_gettime", "clock_gettime", "__vdso_time", "__kernel_vsyscall",
	"__vdso_getrandom", "__kernel_rt_sigreturn", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_elf e;
	struct vs_elf_sym s;
	unsigned int i, ndx, flags;
	uint64_t end;
	const char *v;
	volatile size_t touch = 0;

	vs_elf_extent(data, size, &end);
	if (vs_elf_parse(&e, data, size))
		return 0;
	for (i = 0; i < e.nsyms && i < 100000; i++)
		if (vs_elf_sym(&e, i, &s) == 0) {
			touch += strlen(s.name);
			v = vs_elf_version_name(&e, s.version);
			if (v)
				touch += strlen(v);
		}
	for (i = 0; (v = vs_elf_verdef(&e, i, &ndx, &flags)); i++)
		touch += strlen(v);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (vs_elf_lookup(&e, names[i], NULL, &s) == 0)
			touch += strlen(s.name);
		vs_elf_lookup(&e, names[i], "LINUX_2.6", &s);
	}
	if (e.soname != ~(uint64_t)0 && (v = vs_elf_str(&e, e.soname)))
		touch += strlen(v);
	(void)touch;
	return 0;
}
