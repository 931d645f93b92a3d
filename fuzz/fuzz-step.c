/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope_step with the CFI of an image from arbitrary bytes, random
 * registers and random memory: the last 8 bytes of the input seed a
 * generator for register values and memory contents; some memory reads
 * fail.  Every row of the CFI is stepped from its start and end-1, as a
 * return address and not, and each result is stepped again. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "vdsoscope.h"
#include "fuzz-mem.h"

static void fill(struct vdsoscope_regs *r, uint64_t seed, uint64_t ip, unsigned int ipreg,
		 unsigned int spreg)
{
	unsigned int i;

	vdsoscope_regs_clear(r);
	r->valid[0] = mix(seed) | 1ull << ipreg | 1ull << spreg;
	for (i = 0; i < VDSOSCOPE_MAX_REGS; i++)
		r->r[i] = (seed & 1) ? mix(seed + i) : 0x7ffc00001000ull + 8 * (mix(seed + i) & 0xff);
	r->r[ipreg] = ip;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
	const struct vdsoscope_arch *arch;
	struct vdsoscope_image *img;
	struct mem m = { 0, 0 };
	size_t i, n;
	int k;

	if (size < 8)
		return 0;
	memcpy(&m.seed, data + size - 8, 8);
	if (vdsoscope_open_buffer(&img, data, size, &opts))
		return 0;
	arch = vdsoscope_arch(img);
	n = vdsoscope_cfi_count(img);
	for (i = 0; arch && i < n && i < 4096; i++) {
		struct vdsoscope_row row;
		struct vdsoscope_regs r, out;
		unsigned int ff;

		if (vdsoscope_cfi_get(img, i, &row))
			continue;
		for (k = 0; k < 4; k++) {
			uint64_t ip = (k & 1) ? row.end - 1 : row.start;
			unsigned int flags = k & 2 ? VDSOSCOPE_STEP_CALLER : 0;
			int depth;

			if (flags)
				ip++;
			fill(&r, m.seed + i * 4 + k, ip, arch->ip_reg, arch->sp_reg);
			for (depth = 0; depth < 4; depth++) {
				if (vdsoscope_step(img, &r, flags, read_mem, &m, &out, &ff))
					break;
				r = out;
			}
		}
	}
	vdsoscope_image_close(img);
	return 0;
}
