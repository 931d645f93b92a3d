/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VDSOSCOPE_PERF_DATA_H
#define VDSOSCOPE_PERF_DATA_H
/* Recordings of `perf record --call-graph dwarf` (perf.data files) unwound
 * through the profile's processes. */
#include <stddef.h>
#include <stdio.h>
#include "profile.h"

struct perf_data_opts {
	/* the store searched for vDSO images by build-id; NULL: the default */
	const char *store;
	/* NULL-terminated directories searched for vDSO images by build-id
	 * (DIR/xx/rest); NULL: the library's defaults */
	const char *const *debug_dirs;
	/* perf's build-id cache; NULL: $PERF_BUILDID_DIR, else $HOME/.debug */
	const char *buildid_dir;
	/* use the running process's own vDSO when its build-id is the one
	 * recorded */
	int self;
	/* a 32-bit program that prints "ready" and waits for the end of its
	 * input (vdsoscope-helper32 wait): with SELF, its vDSO stands in for
	 * the i386 vDSO of a recording that lists only the x86_64 one when
	 * that is this kernel's own; NULL: none */
	const char *helper32;
	/* where to say which vDSO images are missing; NULL: nowhere */
	FILE *notes;
};

/* perf's build-id cache as O names it (O->buildid_dir, else
 * $PERF_BUILDID_DIR, else $HOME/.debug), into BUF; -1 when there is none. */
int perf_data_cache_dir(const struct perf_data_opts *o, char *buf, size_t len);

/* Reads perf.data file PATH and calls CB->sample for each sample that has
 * user registers and a stack copy, in time order, with the process as its
 * MMAP/MMAP2/COMM/FORK records made it up to then (each process's vDSO
 * found by build-id in perf's cache, the store, the debug directories and
 * debuginfod).  CB->no_regs counts the others, CB->lost perf's lost
 * records.  0, or -1 with S->err naming the file and what is wrong. */
int perf_data_replay(struct psession *s, const char *path, const struct perf_data_opts *o,
		     const struct replay_cb *cb);
/* The same for the LEN bytes at DATA, named NAME in messages. */
int perf_data_replay_buffer(struct psession *s, const char *name, const void *data, size_t len,
			    const struct perf_data_opts *o, const struct replay_cb *cb);

#endif
