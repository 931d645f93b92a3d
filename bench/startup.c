/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Does nothing, linked as vdsoscope is (the same shared objects): the
 * start-up and exit every vdsoscope command pays, for bench-unwind.sh. */
#include "config.h"
#include <elfutils/libdwfl.h>
#ifdef HAVE_LIBUNWIND
#include <libunwind-ptrace.h>
#include <libunwind-coredump.h>
#endif

int main(int argc, char **argv)
{
	(void)argv;
	/* never taken: the calls keep each library a dependency */
	if (argc < 0) {
		elf_version(EV_CURRENT);
		dwfl_end(NULL);
#ifdef HAVE_LIBUNWIND
		_UPT_destroy(_UPT_create(0));
		_UCD_destroy(_UCD_create(""));
		unw_init_remote(NULL, NULL, NULL);
#endif
	}
	return 0;
}
