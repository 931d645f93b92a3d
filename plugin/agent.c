/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvdsoscope-agent.so: registers this process's vDSO image with gdb's JIT
 * interface when it is loaded (LD_PRELOAD, or linked).  A debugger with
 * vdsoscope-gdb.so loaded then names and unwinds the vDSO's functions even
 * where it cannot find the vDSO itself (a core without the vDSO segment, a
 * remote stub without auxv): the copy lives in the process's own memory and
 * so also in its core files.
 *
 * The descriptor and the breakpoint function are the JIT interface's
 * documented ones; a program that registers JIT code of its own defines
 * them too and must not link the agent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include "vdso-elf.h"
#include "jit-entry.h"

#define EXPORT __attribute__((visibility("default")))

typedef enum {
	JIT_NOACTION = 0,
	JIT_REGISTER_FN,
	JIT_UNREGISTER_FN
} jit_actions_t;

struct jit_code_entry {
	struct jit_code_entry *next_entry;
	struct jit_code_entry *prev_entry;
	const char *symfile_addr;
	uint64_t symfile_size;
};

struct jit_descriptor {
	uint32_t version;
	uint32_t action_flag;
	struct jit_code_entry *relevant_entry;
	struct jit_code_entry *first_entry;
};

EXPORT void __attribute__((noinline)) __jit_debug_register_code(void);
EXPORT void __attribute__((noinline)) __jit_debug_register_code(void)
{
	/* gdb sets a breakpoint here */
	__asm__ volatile("" ::: "memory");
}

EXPORT struct jit_descriptor __jit_debug_descriptor = { 1, 0, 0, 0 };

static struct jit_code_entry entry;

__attribute__((constructor)) static void register_vdso(void)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	struct vdsoscope_jit_entry h;
	uint64_t size;
	char *buf;

	/* the ELF and program headers are in the image's first page */
	if (!base || vs_elf_extent((const void *)base, 4096, &size) || size < 64 ||
	    size > (256u << 10))
		return;
	buf = malloc(sizeof(h) + size);
	if (!buf)
		return;
	memcpy(h.magic, VDSOSCOPE_JIT_MAGIC, 8);
	h.load_addr = base;
	h.size = size;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), (const void *)base, size);

	entry.symfile_addr = buf;
	entry.symfile_size = sizeof(h) + size;
	entry.next_entry = __jit_debug_descriptor.first_entry;
	if (entry.next_entry)
		entry.next_entry->prev_entry = &entry;
	__jit_debug_descriptor.first_entry = &entry;
	__jit_debug_descriptor.relevant_entry = &entry;
	__jit_debug_descriptor.action_flag = JIT_REGISTER_FN;
	__jit_debug_register_code();
}
