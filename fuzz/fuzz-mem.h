/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the step harnesses: memory of random contents, derived from a
 * seed and the address, where one read in 16 fails. */
#ifndef VDSOSCOPE_FUZZ_MEM_H
#define VDSOSCOPE_FUZZ_MEM_H
#include <stddef.h>
#include <stdint.h>

struct mem {
	uint64_t seed;
	unsigned int reads;
};

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline int read_mem(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct mem *m = arg;
	unsigned char *p = buf;
	size_t i;

	if (++m->reads > 100000)
		__builtin_trap(); /* the step must bound its reads */
	if ((mix(addr ^ m->seed) & 15) == 0)
		return -1;
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)mix(m->seed + addr + i);
	return 0;
}

#endif
