/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope_object_* on arbitrary bytes as a mapped ELF file (written to a
 * memfd and opened by its /proc/self/fd path): its .eh_frame_hdr and the
 * table's entries read back through vdsoscope_object_read, then a step,
 * a name and the inlined functions at each entry's address, its neighbours and addresses spread
 * over the file, with random registers and memory; the last 8 bytes of the
 * input seed the generator. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vdsoscope.h"
#include "fuzz-mem.h"

static void probe(struct vdsoscope_object *o, struct mem *m, uint64_t addr, uint64_t k)
{
	const struct vdsoscope_arch *a = vdsoscope_object_arch(o);
	struct vdsoscope_regs r, out;
	const char *name;
	uint64_t start;
	unsigned int flags = k & 1 ? VDSOSCOPE_STEP_CALLER : 0, ff, i;
	int depth;

	const char *inl[4];
	int ni;

	if (vdsoscope_object_func_at(o, addr, &name, &start) == 0) {
		volatile size_t n = strlen(name);
		(void)n;
	}
	ni = vdsoscope_object_inlined(o, addr, inl, 4);
	for (int j = 0; j < ni && j < 4; j++) {
		volatile size_t n = strlen(inl[j]);
		(void)n;
	}
	if (k & 2)
		flags |= VDSOSCOPE_STEP_LENIENT;
	vdsoscope_regs_clear(&r);
	r.valid[0] = mix(m->seed + k);
	r.valid[1] = mix(m->seed + k + 1);
	vdsoscope_regs_set(&r, a->ip_reg, r.r[a->ip_reg]);
	vdsoscope_regs_set(&r, a->sp_reg, r.r[a->sp_reg]);
	for (i = 0; i < VDSOSCOPE_MAX_REGS; i++)
		r.r[i] = 0x7ffc00001000ull + 8 * (mix(m->seed + k + i) & 0xff);
	r.r[a->ip_reg] = flags & VDSOSCOPE_STEP_CALLER ? addr + 1 : addr;
	for (depth = 0; depth < 3; depth++) {
		if (vdsoscope_object_step(o, 0, &r, flags, read_mem, m, &out, &ff) ||
		    !vdsoscope_regs_has(&out, a->ip_reg))
			break;
		r = out;
		flags |= VDSOSCOPE_STEP_CALLER;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG);
	static int fd = -1;
	struct vdsoscope_object *o;
	struct vdsoscope_eh_frame_hdr eh;
	struct mem m = { 0, 0 };
	char path[64];
	uint64_t i, bias;

	if (size < 8)
		return 0;
	memcpy(&m.seed, data + size - 8, 8);
	if (fd < 0 && (fd = memfd_create("fuzz-object", MFD_CLOEXEC)) < 0)
		return 0;
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (vdsoscope_object_open(&o, path, &opts))
		return 0;
	(void)vdsoscope_object_build_id(o, &(size_t){ 0 });
	(void)vdsoscope_object_bias(o, 0x400000, 0, &bias);
	if (vdsoscope_object_eh_frame_hdr(o, 0, &eh) == 0 && eh.entry_size == 8) {
		for (i = 0; i < eh.fde_count && i < 256; i++) {
			int32_t loc;
			if (vdsoscope_object_read(o, 0, eh.table + 8 * i, &loc, 4))
				break;
			probe(o, &m, eh.addr + (uint64_t)(int64_t)loc, i);
			probe(o, &m, eh.addr + (uint64_t)(int64_t)loc + 1 + (mix(i) & 15), i + 1);
		}
	}
	for (i = 0; i < 64; i++)
		probe(o, &m, size * i / 64, i);
	for (i = 0; i < 16; i++)
		probe(o, &m, mix(m.seed + i), i);
	(void)vdsoscope_object_row_count(o);
	vdsoscope_object_close(o);
	return 0;
}
