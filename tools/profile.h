/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VDSOSCOPE_PROFILE_H
#define VDSOSCOPE_PROFILE_H
/* vdsoscope profile: the processes seen, the unwinding of their samples,
 * and the record file that lets them be unwound again later. */
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "vdsoscope.h"
#include "vdsoscope-unwind.h"

#define PROFILE_MAX_FRAMES 128

/* vdsoscope profile ARGS...; ARGV[0] is "profile".  Returns the exit
 * status. */
int vdsoscope_cmd_profile(int argc, char **argv);

struct pvdso {                    /* one vDSO image's bytes, by build-id */
	uint8_t id[64];
	size_t idlen;
	void *bytes;
	size_t len;
	int written;              /* already in the record file */
};

struct pproc {                    /* one process */
	pid_t pid;
	int elf_class;
	int machine;              /* e_machine, 0: x86 (by the class) */
	struct vdsoscope_space *sp;
	struct vdsoscope_image *vdso;
	long vidx;                /* index of its vDSO bytes, -1: none */
	int refreshed;            /* maps re-read after an unknown address */
};

/* Everything a live profile or a replay shares.  Errors in the record file
 * go to ERR (a message naming the file and offset). */
struct psession {
	struct vdsoscope_modules *mods;
	struct pproc *procs;
	size_t nprocs;
	struct pvdso *vdsos;
	size_t nvdsos;
	/* what a process record replaced: the stacks printed at the end
	 * still name functions and modules from them */
	struct pproc *retired;
	size_t nretired;
	FILE *rec;                /* record file being written, or NULL */
	const char *rec_path;
	int engine;               /* PROFILE_ENGINE_* */
	char err[512];
};
enum { PROFILE_ENGINE_CORE, PROFILE_ENGINE_LIBUNWIND };

int psession_init(struct psession *s);
void psession_fini(struct psession *s);
struct pproc *psession_find(struct psession *s, pid_t pid);
/* Live: the process's maps and vDSO from /proc (written to the record file
 * when one is open).  NULL when PID cannot be read. */
struct pproc *psession_live(struct psession *s, pid_t pid, int elf_class);
/* Re-reads a live process's maps once, after an address in no mapping. */
int psession_refresh(struct psession *s, struct pproc *p);
/* A process as a recording gives it (x86_64 or i386 by ELF_CLASS): its
 * vDSO IMG (may be NULL; its bytes are kept) mapped at LOAD, and N maps
 * (PATH NULL: anonymous code).  Replaces what was known of PID.  NULL and
 * errno on failure. */
struct pproc *psession_add(struct psession *s, pid_t pid, int elf_class,
			   const struct vdsoscope_image *img, uint64_t load,
			   const struct vdsoscope_space_map *maps, size_t n);
/* Unwinds one sample of P; returns the end reason or -errno. */
int psession_unwind(struct psession *s, struct pproc *p, const struct vdsoscope_regs *regs,
		    uint64_t stack_addr, const void *stack, size_t len,
		    struct vdsoscope_frame_info *frames, unsigned int *n);

/* ---- the record file ---- */
int record_open(struct psession *s, const char *path);
int record_close(struct psession *s);
int record_sample(struct psession *s, pid_t pid, pid_t tid, uint64_t time,
		  const struct vdsoscope_regs *regs, int elf_class, uint64_t stack_addr,
		  const void *stack, size_t len);
int record_lost(struct psession *s, uint64_t n);
/* The target's CPU time over the profile: clock ticks (HZ a second) in
 * user mode and in the kernel. */
int record_cputime(struct psession *s, pid_t pid, long hz, uint64_t user, uint64_t sys);

struct replay_cb {
	void *arg;
	/* P is the process's state as recorded at that point */
	void (*sample)(void *arg, struct pproc *p, pid_t tid, uint64_t time,
		       const struct vdsoscope_regs *regs, uint64_t stack_addr, const void *stack,
		       size_t len);
	void (*lost)(void *arg, uint64_t n);
	/* a sample without user registers or stack (may be NULL) */
	void (*no_regs)(void *arg);
	/* may be NULL */
	void (*cputime)(void *arg, pid_t pid, long hz, uint64_t user, uint64_t sys);
};
/* Reads PATH and calls CB for each sample; 0, or -1 with s->err set. */
int replay_file(struct psession *s, const char *path, const struct replay_cb *cb);

/* ---- output ---- */
struct pstack {
	char *key;                /* folded: names root first, ';'-separated */
	uint64_t count;
	unsigned int nframes;
	struct pframe { const char *func, *module; int vdso, inlined; } *frames; /* root first */
};
/* Writes a flame graph of the stacks; 0 or -errno. */
int flamegraph_write(FILE *f, struct pstack *const *stacks, size_t n, const char *title);

/* ---- names (pnames.c) ---- */
struct pnames;
/* DEMANGLE: C++ and Rust names demangled (where built with libiberty). */
struct pnames *pnames_new(int demangle);
void pnames_free(struct pnames *pn);
int pnames_can_demangle(void);
/* Renames the N frames of a sample of process PID in place: functions
 * demangled, code in anonymous memory named from /tmp/perf-PID.map.  The
 * names live as long as PN. */
void pnames_frames(struct pnames *pn, pid_t pid, struct vdsoscope_frame_info *f, unsigned int n);
/* The name NAME (as pnames_frames() gave it) had in the binary: the
 * mangled one when NAME was demangled, else NAME. */
const char *pnames_system_name(const struct pnames *pn, const char *name);

/* ---- CPU time of the target (cputime.c) ---- */
struct json;
struct pcputime {
	pid_t pid;
	int live, have0, have1;
	int recorded;             /* a replay of a record that has them */
	long hz;                  /* clock ticks a second */
	unsigned long long user0, sys0, user1, sys1; /* clock ticks */
};
/* FROM_ZERO: the target was started for the profile. */
void cputime_start(struct pcputime *c, pid_t pid, int from_zero);
/* Reads the times again; the last reading is the end. */
void cputime_update(struct pcputime *c);
/* The times over the profile in clock ticks, *HZ a second; 0, or -1 when
 * unknown. */
int cputime_ticks(const struct pcputime *c, unsigned long long *user, unsigned long long *sys,
		  long *hz);
/* The times a record file kept. */
void cputime_recorded(struct pcputime *c, pid_t pid, long hz, unsigned long long user,
		      unsigned long long sys);
void cputime_print(const struct pcputime *c, FILE *f);
void cputime_json(const struct pcputime *c, struct json *j);

/* ---- pprof (pprof.c) ---- */
struct pprof;
struct pprof_meta {
	unsigned long frequency;  /* Hz: the period is 1e9 / frequency ns */
	int64_t time_ns, duration_ns; /* wall clock at the start, 0: unknown */
	const char *comment;
};
/* Function names as NAMES (borrowed) gave them, their mangled forms as
 * system names.  NULL where built without protobuf-c. */
struct pprof *pprof_new(const struct pnames *names);
void pprof_free(struct pprof *pp);
/* One sample of P: its N frames, innermost first, already named. */
int pprof_add(struct pprof *pp, struct pproc *p, const struct vdsoscope_frame_info *f,
	      unsigned int n);
/* Writes PATH (gzip); 0 or -errno. */
int pprof_write(struct pprof *pp, const char *path, const struct pprof_meta *meta);

#endif
