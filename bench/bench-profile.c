/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-profile [--engine libunwind] [--perf-data] FILE: offline
 * unwinding of the recorded samples (from `vdsoscope profile --record
 * FILE`) whose IP is in the vDSO, or with --perf-data of every sample with
 * user registers of `perf record --call-graph dwarf -o FILE`.  Prints the
 * samples per second of vdsoscope_space_unwind() (or of libunwind over the
 * snapshot accessors) over them, after one pass that fills the row tables
 * and caches (as any long profile has). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "perf-data.h"
#include "profile.h"

struct saved {
	pid_t pid;
	struct vdsoscope_regs regs;
	uint64_t stack_addr;
	void *stack;
	size_t len;
};

static struct saved *v;
static size_t n, cap, all;
static int keep_all;

static void keep(void *arg, struct pproc *p, pid_t tid, uint64_t time,
		 const struct vdsoscope_regs *regs, uint64_t stack_addr, const void *stack,
		 size_t len)
{
	const struct vdsoscope_image *img = vdsoscope_space_vdso(p->sp);
	uint64_t ip = regs->r[p->elf_class == 64 ? 16 : 8], lo, size;
	size_t sz;

	all++;
	if (keep_all)
		goto keep;
	if (!img)
		return;
	lo = vdsoscope_load_address(img);
	vdsoscope_image_data(img, &sz);
	size = sz;
	if (ip < lo || ip - lo >= size)
		return;
keep:
	if (n == cap) {
		cap = cap ? 2 * cap : 4096;
		if (!(v = realloc(v, cap * sizeof(*v))))
			exit(1);
	}
	v[n].pid = p->pid;
	v[n].regs = *regs;
	v[n].stack_addr = stack_addr;
	v[n].len = len;
	if (!(v[n].stack = malloc(len ? len : 1)))
		exit(1);
	memcpy(v[n].stack, stack, len);
	n++;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct vdsoscope_frame_info frames[PROFILE_MAX_FRAMES];
	struct replay_cb cb = { NULL, keep, NULL };
	struct psession s;
	unsigned long rounds = 0, root = 0, frames_total = 0;
	unsigned int k;
	double t0, t;
	size_t i;

	struct perf_data_opts po = { .self = 1, .notes = stderr };
	int unw = 0, a = 1;

	for (; a < argc - 1; a++) {
		if (!strcmp(argv[a], "--engine") && a + 1 < argc - 1 &&
		    !strcmp(argv[a + 1], "libunwind"))
			unw = 1, a++;
		else if (!strcmp(argv[a], "--perf-data"))
			keep_all = 1;
		else
			break;
	}
	if (a != argc - 1) {
		fprintf(stderr, "usage: bench-profile [--engine libunwind] [--perf-data] FILE\n");
		return 2;
	}
	if (psession_init(&s))
		return 1;
	s.engine = unw ? PROFILE_ENGINE_LIBUNWIND : PROFILE_ENGINE_CORE;
	if (keep_all ? perf_data_replay(&s, argv[a], &po, &cb) : replay_file(&s, argv[a], &cb)) {
		fprintf(stderr, "bench-profile: %s\n", s.err);
		return 1;
	}
	if (!n) {
		fprintf(stderr, "bench-profile: no sample of %s is %s\n", argv[a],
			keep_all ? "unwindable" : "in the vDSO");
		return 1;
	}
	/* the processes as recorded last; the workload maps nothing late */
	for (i = 0; i < n; i++) {
		struct pproc *p = psession_find(&s, v[i].pid);
		psession_unwind(&s, p, &v[i].regs, v[i].stack_addr, v[i].stack, v[i].len, frames, &k);
	}
	t0 = now();
	do {
		for (i = 0; i < n; i++) {
			struct pproc *p = psession_find(&s, v[i].pid);
			int end = psession_unwind(&s, p, &v[i].regs, v[i].stack_addr, v[i].stack,
						  v[i].len, frames, &k);
			root += end == VDSOSCOPE_END_ROOT;
			frames_total += k;
		}
		rounds++;
		t = now() - t0;
	} while (t < 1.0);
	printf("%zu of %zu recorded samples %s; %lu rounds, %.1f frames each, "
	       "%.1f%% to the root\n", n, all, keep_all ? "with user registers" : "in the vDSO",
	       rounds, (double)frames_total / (double)(rounds * n),
	       100.0 * (double)root / (double)(rounds * n));
	printf("offline unwinding: %.0f samples/s (%.0f ns per sample)\n",
	       (double)(rounds * n) / t, t * 1e9 / (double)(rounds * n));
	for (i = 0; i < n; i++)
		free(v[i].stack);
	free(v);
	psession_fini(&s);
	return 0;
}
