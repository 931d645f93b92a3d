/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Symbol queries on an image from arbitrary bytes: vdsoscope_lookup of
 * known and input-derived names and versions through DT_GNU_HASH and
 * DT_HASH, and vdsoscope_func_at over every address of the image and
 * around it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "vdsoscope.h"
#include "fuzz-common.h"

static const char *const names[] = {
	"__vdso_clock_gettime", "clock_gettime", "__vdso_gettimeofday", "gettimeofday",
	"__vdso_time", "time", "__vdso_getcpu", "__vdso_getrandom", "__kernel_vsyscall",
	"__kernel_sigreturn", "__kernel_rt_sigreturn", "__vdso_clock_gettime64", "",
	"LINUX_2.6", "linux-vdso.so.1",
};
static const char *const versions[] = { NULL, "LINUX_2.6", "LINUX_2.5", "", "LINUX_2.6.39" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE |
				       VDSOSCOPE_OPEN_LOAD_ADDR,
		       .load_addr = 0x7f0000000000ull);
	struct vdsoscope_image *img;
	struct vdsoscope_func f;
	char name[32];
	uint64_t a, lo, hi, step;
	size_t i, j, idx;

	if (vdsoscope_open_buffer(&img, data, size, &opts))
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (j = 0; j < sizeof(versions) / sizeof(versions[0]); j++)
			vdsoscope_lookup(img, names[i], versions[j], &a);
	/* names taken from the input's last bytes */
	if (size >= 8) {
		size_t n = size - 8 < sizeof(name) - 1 ? size - 8 : sizeof(name) - 1;
		memcpy(name, data + size - n, n);
		name[n] = 0;
		vdsoscope_lookup(img, name, NULL, &a);
		vdsoscope_lookup(img, name, name + n / 2, &a);
	}
	lo = vdsoscope_load_address(img);
	hi = lo + size;
	step = size > 65536 ? size / 65536 : 1;
	for (a = lo - 64; a < hi + 64; a += step)
		if (vdsoscope_func_at(img, a, &f, &idx) == 0)
			fuzz_touch(f.names[0].name);
	vdsoscope_text_range(img, &lo, &hi);
	vdsoscope_func_at(img, lo, &f, NULL);
	vdsoscope_func_at(img, hi, &f, NULL);
	vdsoscope_func_at(img, hi - 1, &f, NULL);
	vdsoscope_func_at(img, 0, &f, NULL);
	vdsoscope_func_at(img, ~0ull, &f, NULL);
	vdsoscope_image_close(img);
	return 0;
}
