/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What libvdsoscope-agent.so registers with gdb's JIT interface and
 * vdsoscope-gdb.so's read() accepts: this header, then SIZE bytes of the
 * vDSO image as mapped at LOAD_ADDR.  Fields are in the target's byte order.
 */
#ifndef VDSOSCOPE_JIT_ENTRY_H
#define VDSOSCOPE_JIT_ENTRY_H

#include <stdint.h>

#define VDSOSCOPE_JIT_MAGIC "VDSOJIT1"

struct vdsoscope_jit_entry {
	char magic[8];
	uint64_t load_addr;
	uint64_t size;
};

#endif
