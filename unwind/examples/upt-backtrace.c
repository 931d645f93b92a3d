/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* upt-backtrace [--plain|--count] PID: every thread of PID through
 * libunwind-ptrace, with the vdsoscope hook (default), with plain
 * _UPT_accessors, or (--count) with _UPT_accessors wrapped without an image,
 * which changes nothing but counts.  Prints "TID n:", one
 * "#k 0xADDR NAME+OFF" per frame, and the memory reads counted. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <libunwind-ptrace.h>
#include <vdsoscope-unwind.h>

static void unwind(unw_addr_space_t as, pid_t tid)
{
	void *upt = _UPT_create(tid);
	unw_cursor_t c;
	int k = 0;

	printf("TID %d:\n", (int)tid);
	if (unw_init_remote(&c, as, upt) == 0)
		do {
			unw_word_t ip, off;
			char name[256];
			unw_get_reg(&c, UNW_REG_IP, &ip);
			if (unw_get_proc_name(&c, name, sizeof(name), &off))
				strcpy(name, "??"), off = 0;
			printf("#%d 0x%016lx %s+0x%lx\n", k, (unsigned long)ip, name, (unsigned long)off);
		} while (++k < 64 && unw_step(&c) > 0);
	_UPT_destroy(upt);
}

int main(int argc, char **argv)
{
	int plain = argc > 2 && !strcmp(argv[1], "--plain");
	int count = argc > 2 && !strcmp(argv[1], "--count");
	pid_t pid = argc > 1 ? atoi(argv[argc - 1]) : 0;
	struct vdsoscope_image *img = NULL;
	struct vdsoscope_unw_stats st;
	unw_addr_space_t as;
	char path[64];
	struct dirent *de;
	DIR *d;

	if (pid <= 0) {
		fprintf(stderr, "usage: upt-backtrace [--plain|--count] PID\n");
		return 2;
	}
	if (vdsoscope_open_pid(&img, pid, NULL)) {
		fprintf(stderr, "upt-backtrace: %s\n", vdsoscope_errmsg());
		return 1;
	}
	if (plain)
		as = unw_create_addr_space(&_UPT_accessors, 0);
	else
		as = vdsoscope_unw_create_addr_space(&_UPT_accessors, count ? NULL : img, 0);
	/* read-only pages whole, instead of a ptrace read per word */
	if (as && !plain && !count)
		vdsoscope_unw_cache_pid(as, pid);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!as || !(d = opendir(path)))
		return 1;
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);
		int status;
		if (tid <= 0 || ptrace(PTRACE_SEIZE, tid, 0, 0) || ptrace(PTRACE_INTERRUPT, tid, 0, 0) ||
		    waitpid(tid, &status, __WALL) != tid)
			continue;
		unwind(as, tid);
		ptrace(PTRACE_DETACH, tid, 0, 0);
	}
	closedir(d);
	if (!plain && vdsoscope_unw_get_stats(as, &st) == 0)
		printf("memory reads: %llu from the image, %llu from cached pages, %llu through ptrace\n",
		       (unsigned long long)st.mem_from_image, (unsigned long long)st.mem_cached,
		       (unsigned long long)st.mem_delegated);
	if (plain)
		unw_destroy_addr_space(as);
	else
		vdsoscope_unw_destroy_addr_space(as);
	vdsoscope_image_close(img);
	return 0;
}
