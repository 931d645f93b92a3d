/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ucd-backtrace CORE [IMAGE]: every thread of a core through
 * libunwind-coredump with the vdsoscope hook.  IMAGE stands in for the vDSO
 * when the core lacks it.  libunwind 1.6 needs the mapped files named to it
 * (_UCD_add_backing_file_at_vaddr) for frames outside the vDSO; this example
 * unwinds the vDSO frames and what the stack and frame pointers give. */
#include <stdio.h>
#include <stdlib.h>
#include <libunwind-coredump.h>
#include <vdsoscope-unwind.h>

int main(int argc, char **argv)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG);
	struct vdsoscope_image *img = NULL;
	struct UCD_info *ucd;
	unw_addr_space_t as;
	int i, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: ucd-backtrace CORE [IMAGE]\n");
		return 2;
	}
	if (argc > 2) {
		rc = vdsoscope_core_vdso_address(argv[1], &opts.load_addr);
		opts.flags |= VDSOSCOPE_OPEN_LOAD_ADDR;
		if (!rc)
			rc = vdsoscope_open_file(&img, argv[2], &opts);
	} else {
		rc = vdsoscope_open_core(&img, argv[1], &opts);
	}
	if (rc || !(ucd = _UCD_create(argv[1]))) {
		fprintf(stderr, "ucd-backtrace: %s\n", rc ? vdsoscope_errmsg() : "_UCD_create failed");
		return 1;
	}
	as = vdsoscope_unw_create_ucd(img);
	for (i = 0; as && i < _UCD_get_num_threads(ucd); i++) {
		unw_cursor_t c;
		int k = 0;
		_UCD_select_thread(ucd, i);
		printf("TID %d:\n", (int)_UCD_get_pid(ucd));
		if (unw_init_remote(&c, as, ucd))
			continue;
		do {
			unw_word_t ip, off;
			char name[256];
			unw_get_reg(&c, UNW_REG_IP, &ip);
			if (unw_get_proc_name(&c, name, sizeof(name), &off))
				snprintf(name, sizeof(name), "??"), off = 0;
			printf("#%d 0x%016lx %s+0x%lx\n", k, (unsigned long)ip, name, (unsigned long)off);
		} while (++k < 64 && unw_step(&c) > 0);
	}
	vdsoscope_unw_destroy_addr_space(as);
	_UCD_destroy(ucd);
	vdsoscope_image_close(img);
	return 0;
}
