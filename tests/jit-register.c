/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * jit-register FILE: registers FILE's bytes with gdb's JIT interface the
 * way libvdsoscope-agent.so registers the vDSO (plugin/jit-entry.h), as if
 * the image were mapped at the address of the copy, then calls
 * registered(), where a debugger can stop.  Prints "load 0xADDR".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jit-entry.h"

struct jit_code_entry {
	struct jit_code_entry *next_entry, *prev_entry;
	const char *symfile_addr;
	uint64_t symfile_size;
};

struct jit_descriptor {
	uint32_t version, action_flag;
	struct jit_code_entry *relevant_entry, *first_entry;
};

void __attribute__((noinline)) __jit_debug_register_code(void)
{
	__asm__ volatile("" ::: "memory");
}

struct jit_descriptor __jit_debug_descriptor = { 1, 0, 0, 0 };

void __attribute__((noinline)) registered(void)
{
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	static struct jit_code_entry entry;
	struct vdsoscope_jit_entry h;
	FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
	char *buf;
	long size;

	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "usage: jit-register FILE\n");
		return 2;
	}
	buf = malloc(sizeof(h) + (size_t)size);
	if (!buf || fread(buf + sizeof(h), 1, (size_t)size, f) != (size_t)size)
		return 1;
	fclose(f);
	memcpy(h.magic, VDSOSCOPE_JIT_MAGIC, 8);
	h.load_addr = (uintptr_t)(buf + sizeof(h));
	h.size = (uint64_t)size;
	memcpy(buf, &h, sizeof(h));
	entry.symfile_addr = buf;
	entry.symfile_size = sizeof(h) + (uint64_t)size;
	__jit_debug_descriptor.first_entry = &entry;
	__jit_debug_descriptor.relevant_entry = &entry;
	__jit_debug_descriptor.action_flag = 1; /* JIT_REGISTER_FN */
	__jit_debug_register_code();
	printf("load 0x%lx\n", (unsigned long)h.load_addr);
	fflush(stdout);
	registered();
	return 0;
}
