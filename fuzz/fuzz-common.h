/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the fuzz harnesses: exercising every query of an opened image. */
#ifndef VDSOSCOPE_FUZZ_COMMON_H
#define VDSOSCOPE_FUZZ_COMMON_H
#include <stdint.h>
#include <string.h>
#include "vdsoscope.h"

/* Touches every byte a caller may read, so the sanitizers see it. */
static inline void fuzz_touch(const char *s)
{
	volatile size_t n = s ? strlen(s) : 0;
	(void)n;
}

/* Every identity query, every function and every row of IMG. */
static inline void fuzz_walk(const struct vdsoscope_image *img)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);
	struct vdsoscope_func f;
	struct vdsoscope_row r;
	const char *msg;
	char buf[512];
	size_t i, n, len;
	uint64_t lo, hi;
	unsigned int k;

	fuzz_touch(vdsoscope_soname(img));
	fuzz_touch(vdsoscope_build_id_hex(img));
	fuzz_touch(vdsoscope_image_source(img));
	fuzz_touch(vdsoscope_debug_file(img));
	(void)vdsoscope_build_id(img, &len);
	(void)vdsoscope_image_data(img, &len);
	vdsoscope_text_range(img, &lo, &hi);
	for (i = 0; i < vdsoscope_version_count(img); i++)
		fuzz_touch(vdsoscope_version_name(img, i));
	n = vdsoscope_func_count(img);
	for (i = 0; i < n; i++) {
		if (vdsoscope_func_get(img, i, &f))
			continue;
		for (k = 0; k < f.nnames; k++) {
			fuzz_touch(f.names[k].name);
			fuzz_touch(f.names[k].version);
		}
	}
	if (vdsoscope_cfi_error(img, &msg))
		fuzz_touch(msg);
	n = vdsoscope_cfi_count(img);
	for (i = 0; i < n; i++) {
		if (vdsoscope_cfi_get(img, i, &r))
			continue;
		vdsoscope_rule_format(img, &r.cfa, buf, sizeof(buf));
		(void)vdsoscope_rule_expr(img, &r.cfa, buf, sizeof(buf));
		for (k = 0; k < r.nregs; k++) {
			vdsoscope_rule_format(img, &r.regs[k], buf, sizeof(buf));
			(void)vdsoscope_rule_expr(img, &r.regs[k], buf, sizeof(buf));
		}
	}
	(void)a;
}
#endif
