/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dwfl-core CORE [IMAGE]: every thread of a core through libdwfl, with the
 * vdsoscope find_elf wrapper; IMAGE supplies the vDSO when the core lacks
 * its segment.  Prints "TID n:" and "#k 0xADDR" per frame, like eu-stack. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <vdsoscope-unwind.h>

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = vdsoscope_dwfl_core_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static int frame_cb(Dwfl_Frame *f, void *arg)
{
	Dwarf_Addr pc;
	int *k = arg;

	if (!dwfl_frame_pc(f, &pc, NULL))
		return DWARF_CB_ABORT;
	printf("#%d 0x%016llx\n", (*k)++, (unsigned long long)pc);
	return DWARF_CB_OK;
}

static int thread_cb(Dwfl_Thread *t, void *arg)
{
	int k = 0;

	printf("TID %d:\n", (int)dwfl_thread_tid(t));
	dwfl_thread_getframes(t, frame_cb, &k);
	return DWARF_CB_OK;
}

int main(int argc, char **argv)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG);
	struct vdsoscope_image *img = NULL;
	Dwfl *dwfl;
	Elf *elf;
	int fd, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: dwfl-core CORE [IMAGE]\n");
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
	if (rc) {
		fprintf(stderr, "dwfl-core: %s\n", vdsoscope_errmsg());
		return 1;
	}
	elf_version(EV_CURRENT);
	fd = open(argv[1], O_RDONLY);
	elf = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ_MMAP, NULL);
	dwfl = dwfl_begin(&callbacks);
	if (!elf || !dwfl || dwfl_core_file_report(dwfl, elf, NULL) < 0 ||
	    dwfl_report_end(dwfl, NULL, NULL) || vdsoscope_dwfl_report_vdso(dwfl, img) < 0 ||
	    dwfl_core_file_attach(dwfl, elf) < 0) {
		fprintf(stderr, "dwfl-core: %s\n", dwfl_errmsg(-1));
		return 1;
	}
	dwfl_getthreads(dwfl, thread_cb, NULL);
	dwfl_end(dwfl);
	elf_end(elf);
	close(fd);
	vdsoscope_image_close(img);
	return 0;
}
