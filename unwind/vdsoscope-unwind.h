/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdsoscope-unwind: drop-in hooks that let libunwind and libdwfl unwind
 * through the vDSO of another process, of a core file, or of a copied stack.
 *
 * libunwind's remote unwinding finds unwind info by opening the file a
 * mapping came from, and the vDSO has none.  The address spaces made here
 * use a copy of the wrapped accessor table (_UPT_accessors, _UCD_accessors)
 * with three members replaced; for instruction pointers in the vDSO:
 *  - find_proc_info points libunwind at the image's .eh_frame_hdr table
 *    (UNW_INFO_FORMAT_REMOTE_TABLE), as perf does; for an image without a
 *    usable one (CFI only in .eh_frame by section, in .debug_frame, or in
 *    a debug file) at a table built once from the rows the library
 *    compiled, see vdsoscope_unw_table();
 *  - get_proc_name answers from vdsoscope_func_at();
 *  - access_mem answers addresses inside the image from its cached bytes, so
 *    no ptrace read is spent on them and a core without the vDSO segment
 *    works when the image is supplied.
 * Everything else, and every other address, goes to the wrapped table with
 * the caller's argument unchanged: pass unw_init_remote() the same argument
 * (_UPT_create()'s, _UCD_create()'s) as without the hook.
 *
 * The image must stay open while the address space exists.  An address
 * space may be used by one thread at a time, as libunwind requires.
 */
#ifndef VDSOSCOPE_UNWIND_H
#define VDSOSCOPE_UNWIND_H

#include <stdint.h>
#include <libunwind.h>
#include <elfutils/libdwfl.h>
#include <vdsoscope.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef VDSOSCOPE_UNWIND_API
#define VDSOSCOPE_UNWIND_API __attribute__((visibility("default")))
#endif

/* ---- libunwind ------------------------------------------------------------ */

/* What an address space's hooks did (counts since creation). */
struct vdsoscope_unw_stats {
	uint64_t mem_from_image;   /* access_mem answered from the image */
	uint64_t mem_delegated;    /* access_mem passed to the wrapped table */
	uint64_t proc_info_image;  /* find_proc_info answered for the vDSO */
	uint64_t proc_info_delegated;
	uint64_t names_image;      /* get_proc_name answered for the vDSO */
	uint64_t mem_cached;       /* access_mem answered from cached pages */
};

/* An address space whose accessors are a copy of WRAPPED with
 * find_proc_info, get_proc_name and access_mem hooked for IMG's addresses.
 * IMG may be NULL: then everything is delegated and only counted.
 * BYTEORDER as for unw_create_addr_space() (0: the host's).
 * Returns NULL and sets errno on failure.  Free with
 * vdsoscope_unw_destroy_addr_space(). */
VDSOSCOPE_UNWIND_API unw_addr_space_t
vdsoscope_unw_create_addr_space(const unw_accessors_t *wrapped,
				const struct vdsoscope_image *img, int byteorder);
/* libunwind-ptrace: unw_init_remote(&c, as, _UPT_create(tid)). */
VDSOSCOPE_UNWIND_API unw_addr_space_t
vdsoscope_unw_create_upt(const struct vdsoscope_image *img);
/* libunwind-coredump: unw_init_remote(&c, as, _UCD_create(core)). */
VDSOSCOPE_UNWIND_API unw_addr_space_t
vdsoscope_unw_create_ucd(const struct vdsoscope_image *img);
/* Accepts NULL and address spaces not made here (then does nothing). */
VDSOSCOPE_UNWIND_API void vdsoscope_unw_destroy_addr_space(unw_addr_space_t as);
/* For a ptrace address space of process PID: reads of PID's read-only
 * mappings (code, unwind tables: they cannot change) are answered from
 * pages read whole with process_vm_readv(2) and kept, instead of one
 * PTRACE_PEEKDATA per word.  Reads elsewhere (the stack) are not cached.
 * Returns 0, or -1 with errno (ENOENT: AS was not made here; the maps of
 * PID unreadable). */
VDSOSCOPE_UNWIND_API int vdsoscope_unw_cache_pid(unw_addr_space_t as, pid_t pid);
/* The same with PID's read-only mappings given: N ranges [RO[i][0],
 * RO[i][1]) the caller took from /proc/PID/maps (copied), which is then not
 * read again.  Returns 0, or -1 with errno (ENOENT: AS was not made here). */
VDSOSCOPE_UNWIND_API int vdsoscope_unw_cache_ranges(unw_addr_space_t as, pid_t pid,
						    const uint64_t (*ro)[2], size_t n);
/* Where find_proc_info finds unwind info for the image's code. */
enum vdsoscope_unw_table {
	/* nowhere: -UNW_ENOINFO, as libunwind without the hook (also when no
	 * image was given) */
	VDSOSCOPE_UNW_TABLE_NONE = 0,
	/* the image's .eh_frame_hdr and .eh_frame, read from its bytes */
	VDSOSCOPE_UNW_TABLE_IMAGE,
	/* an .eh_frame_hdr and .eh_frame written from the image's compiled rows
	 * (vdsoscope_cfi_get(): .eh_frame, .debug_frame, the debug file's, rows
	 * from instructions), built once per address space and served through
	 * access_mem at 0xffff800000000000, in the kernel's half of the address
	 * space where no process memory is; the table places the image at
	 * 0xffff800040000000, within reach of its 32-bit offsets, and the
	 * hook translates, so unw_get_proc_info() shows the real addresses */
	VDSOSCOPE_UNW_TABLE_ROWS,
};
/* The table in use: IMAGE when the image has a usable .eh_frame_hdr
 * (version 1, table encoding datarel|sdata4), else ROWS when its rows can
 * be written, else NONE.  -1 with errno ENOENT when AS was not made here. */
VDSOSCOPE_UNWIND_API int vdsoscope_unw_table(unw_addr_space_t as);
/* Uses TABLE (enum vdsoscope_unw_table) from now on, to compare tables or
 * to see what libunwind does without one; flushes libunwind's cache of AS.
 * 0, or -1 with errno: ENOENT (AS was not made here), EINVAL (no such
 * table), ENODATA (the image has no such table, or AS has no image),
 * E2BIG (the rows would take more than 16 MiB), ENOTSUP (a rule cannot be
 * written), ENOMEM. */
VDSOSCOPE_UNWIND_API int vdsoscope_unw_set_table(unw_addr_space_t as, int table);
/* 0, or -1 with errno ENOENT when AS was not made here. */
VDSOSCOPE_UNWIND_API int vdsoscope_unw_get_stats(unw_addr_space_t as,
						 struct vdsoscope_unw_stats *out);

/* A copied stack and register set, as a sampling profiler records them:
 * the argument of unw_init_remote() for vdsoscope_unw_create_snapshot()'s
 * address space.  Memory comes from the stack copy, then the image, then
 * READ (may be NULL).  Only vDSO frames get unwind info from the hook;
 * others get it from FIND_PROC_INFO when set (called with this struct as
 * its argument), else -UNW_ENOINFO. */
struct vdsoscope_unw_snapshot {
	uint64_t regs[17];         /* UNW_X86_64_RAX..UNW_X86_64_RIP */
	uint64_t stack_addr;       /* target address of stack[0] */
	const void *stack;
	size_t stack_size;
	vdsoscope_read_fn read;
	void *read_arg;
	int (*find_proc_info)(unw_addr_space_t, unw_word_t, unw_proc_info_t *, int, void *);
};
VDSOSCOPE_UNWIND_API unw_addr_space_t
vdsoscope_unw_create_snapshot(const struct vdsoscope_image *img);

/* ---- libdwfl ---------------------------------------------------------------- */

/* find_elf callbacks for Dwfl_Callbacks: a module reported with
 * vdsoscope_dwfl_report_vdso() gets an Elf made with elf_memory() on a copy
 * of the image's bytes with an .eh_frame_hdr and .eh_frame written from the
 * image's compiled rows (vdsoscope_cfi_get(): its CFI, a debug file's, rows
 * derived from instructions), which PT_GNU_EH_FRAME and the sections named
 * .eh_frame_hdr and .eh_frame point at; the load layout, notes and dynamic
 * symbols are the image's (an image whose rows cannot be written is given
 * as it is).  The copy is written once per report and kept as long as the
 * process.  Every other module goes to dwfl_linux_proc_find_elf()
 * (the _proc_ variant) or dwfl_build_id_find_elf() (the _core_ variant),
 * which elfutils' own tools use. */
VDSOSCOPE_UNWIND_API int vdsoscope_dwfl_proc_find_elf(Dwfl_Module *mod, void **userdata,
						      const char *name, Dwarf_Addr base,
						      char **file_name, Elf **elfp);
VDSOSCOPE_UNWIND_API int vdsoscope_dwfl_core_find_elf(Dwfl_Module *mod, void **userdata,
						      const char *name, Dwarf_Addr base,
						      char **file_name, Elf **elfp);
/* Reports IMG as module "[vdso]" of DWFL at its load address.  A module
 * libdwfl made of the vDSO itself (a live process, a core that holds the
 * vDSO; any module overlapping the image) is replaced: every other module
 * is reported again as it was (dwfl_report_begin() .. dwfl_report_end()),
 * so that one is freed and pointers to it become invalid.  Call after
 * dwfl_report_end(); DWFL must use one of the find_elf callbacks above.
 * IMG must stay open as long as DWFL.  Returns 1 when reported, 0 when it
 * was reported before, -1 (errno) on failure. */
VDSOSCOPE_UNWIND_API int vdsoscope_dwfl_report_vdso(Dwfl *dwfl, const struct vdsoscope_image *img);

/* ---- sampled stacks ------------------------------------------------------- */

/* What a sampling profiler has of a thread: the registers at the sample and
 * a copy of the user stack from SP upward.  vdsoscope_space_unwind() turns
 * them into frames without touching the process, which may be gone: vDSO
 * frames are stepped with vdsoscope_step() on the process's vDSO image,
 * other frames with vdsoscope_object_step() on the ELF file mapped there;
 * every stack word comes from the copy.  x86_64 and i386 targets.
 *
 * struct vdsoscope_modules holds the ELF files as struct vdsoscope_object
 * (one per build-id, or per path when a file has none), with their symbols
 * and the rows compiled so far, so every process that maps a file shares
 * them.  struct vdsoscope_space is one process: its executable mappings and
 * its vDSO.  A modules set and its spaces may be used by one thread at a
 * time; the modules set must outlive its spaces. */
struct vdsoscope_modules;
struct vdsoscope_space;

/* NULL and errno on failure.  _free accepts NULL. */
VDSOSCOPE_UNWIND_API struct vdsoscope_modules *vdsoscope_modules_new(void);
VDSOSCOPE_UNWIND_API void vdsoscope_modules_free(struct vdsoscope_modules *mods);
/* Debug directories, NULL-terminated, copied; NULL: the default,
 * /usr/lib/debug/.build-id.  They are searched for the files' debug files
 * (DIR/xx/rest.debug) and, for a mapping whose build-id is known
 * (vdsoscope_space_add_map()) and whose recorded path holds another file or
 * none, for the file itself (DIR/xx/rest, or DIR/xx/rest/elf as in perf's
 * build-id cache ~/.debug/.build-id), before debuginfod
 * ($DEBUGINFOD_URLS).  Applies to files opened from now on.  0 or -ENOMEM. */
VDSOSCOPE_UNWIND_API int vdsoscope_modules_set_debug_dirs(struct vdsoscope_modules *mods,
							  const char *const *dirs);
/* Recorded paths are looked up under DIR (copied; NULL: none), as gdb's
 * sysroot.  Applies to files opened from now on.  0 or -ENOMEM. */
VDSOSCOPE_UNWIND_API int vdsoscope_modules_set_sysroot(struct vdsoscope_modules *mods,
						       const char *dir);
/* Whether frames in the files list the functions inlined there as frames
 * of their own (VDSOSCOPE_FRAME_INFO_INLINED; the default).  Finding them
 * reads the files' .debug_info, once per file: tens of milliseconds for a
 * C library's compressed debug file. */
VDSOSCOPE_UNWIND_API void vdsoscope_modules_set_inlined(struct vdsoscope_modules *mods, int on);
/* Files opened, and unwind rows computed (each once per build-id and
 * link-time address). */
VDSOSCOPE_UNWIND_API void vdsoscope_modules_stats(const struct vdsoscope_modules *mods,
						  size_t *files, size_t *rows);

/* An empty space for a process whose code is ELF class ELF_CLASS (32 or 64;
 * 32 means i386).  NULL and errno on failure; _free accepts NULL. */
VDSOSCOPE_UNWIND_API struct vdsoscope_space *
vdsoscope_space_new(struct vdsoscope_modules *mods, int elf_class);
/* The same for processes of architecture ARCH (vdsoscope_arch_by_machine());
 * vdsoscope_space_new() takes x86_64 (ELF_CLASS 64) or i386 (32). */
VDSOSCOPE_UNWIND_API struct vdsoscope_space *
vdsoscope_space_new_arch(struct vdsoscope_modules *mods, const struct vdsoscope_arch *arch);
VDSOSCOPE_UNWIND_API void vdsoscope_space_free(struct vdsoscope_space *sp);
/* Adds the executable mapping [START, END) of file PATH at file offset
 * PGOFF.  BUILD_ID (LEN bytes; NULL: take the file's) names the file's
 * contents: a file at PATH whose build-id differs is not used, and frames
 * in it end the unwind with VDSOSCOPE_END_FILE.  0 or -errno. */
VDSOSCOPE_UNWIND_API int vdsoscope_space_add_map(struct vdsoscope_space *sp, uint64_t start,
						 uint64_t end, uint64_t pgoff, const char *path,
						 const uint8_t *build_id, size_t len);
/* Adds [START, END) as executable memory that no file backs (JIT code,
 * trampolines): a frame there is labelled "[anonymous]" and ends the
 * unwind with VDSOSCOPE_END_ANONYMOUS.  0 or -errno. */
VDSOSCOPE_UNWIND_API int vdsoscope_space_add_anon(struct vdsoscope_space *sp, uint64_t start,
						  uint64_t end);
/* The process's vDSO: IMG (opened at the process's load address) is
 * borrowed and must stay open as long as SP. */
VDSOSCOPE_UNWIND_API void vdsoscope_space_set_vdso(struct vdsoscope_space *sp,
						   const struct vdsoscope_image *img);
VDSOSCOPE_UNWIND_API const struct vdsoscope_image *
vdsoscope_space_vdso(const struct vdsoscope_space *sp);
/* Replaces SP's mappings with the executable ones of /proc/PID/maps (files,
 * and anonymous memory as with vdsoscope_space_add_anon()).  0 or -errno (-ESRCH: no such process). */
VDSOSCOPE_UNWIND_API int vdsoscope_space_read_maps(struct vdsoscope_space *sp, pid_t pid);

/* One mapping of a space, for writing it down. */
struct vdsoscope_space_map {
	uint64_t start, end, pgoff;
	const char *path;
	const uint8_t *build_id;   /* NULL when the file has none or is unreadable */
	size_t build_id_len;
};
VDSOSCOPE_UNWIND_API size_t vdsoscope_space_map_count(const struct vdsoscope_space *sp);
/* The file found for the mapping holding ADDR (under the sysroot, by
 * build-id in a debug directory or from debuginfod), or NULL when no file
 * of the build recorded was found.  Files are looked for, and opened, when
 * a frame first needs them (or for vdsoscope_space_map_get()). */
VDSOSCOPE_UNWIND_API const char *vdsoscope_space_map_file(const struct vdsoscope_space *sp,
							  uint64_t addr);
/* The mapping holding ADDR; -ENOENT when none does. */
VDSOSCOPE_UNWIND_API int vdsoscope_space_map_at(const struct vdsoscope_space *sp, uint64_t addr,
						struct vdsoscope_space_map *out);
VDSOSCOPE_UNWIND_API int vdsoscope_space_map_get(const struct vdsoscope_space *sp, size_t idx,
						 struct vdsoscope_space_map *out);

/* Why a frame list ended. */
enum vdsoscope_unwind_end {
	VDSOSCOPE_END_ROOT = 0,      /* the outermost frame: its CFI leaves the return
				      * address undefined (_start, a thread's start) */
	VDSOSCOPE_END_MAX_FRAMES,    /* the caller's array is full */
	VDSOSCOPE_END_NO_MAPPING,    /* an address in no known mapping */
	VDSOSCOPE_END_NO_CFI,        /* no CFI covers the address */
	VDSOSCOPE_END_STACK,         /* a word outside the stack copy was needed */
	VDSOSCOPE_END_REGISTER,      /* a register the rule needs is unknown */
	VDSOSCOPE_END_BAD_FRAME,     /* the stack pointer did not move up */
	VDSOSCOPE_END_UNSUPPORTED,   /* a CFI rule other than register+offset */
	VDSOSCOPE_END_FILE,          /* the mapped file is unreadable or another build */
	VDSOSCOPE_END_VDSO,          /* vdsoscope_step() failed otherwise */
	VDSOSCOPE_END_ANONYMOUS,     /* code in memory no file backs (JIT) */
	VDSOSCOPE_END_GO_ROOT,       /* where Go's own traceback ends (runtime.goexit,
				      * runtime.mstart, ...) */
	VDSOSCOPE_END_COUNT
};
/* "root", "no-mapping", ...: short names for summaries. */
VDSOSCOPE_UNWIND_API const char *vdsoscope_unwind_end_name(int end);

#define VDSOSCOPE_FRAME_INFO_VDSO   0x1u  /* in the vDSO (or the vsyscall page) */
#define VDSOSCOPE_FRAME_INFO_EXACT  0x2u  /* pc is where execution is, not a
					   * return address */
#define VDSOSCOPE_FRAME_INFO_INLINED 0x4u /* a function inlined at pc into the
					   * frame that follows (same pc) */
#define VDSOSCOPE_FRAME_INFO_FRAME_POINTER 0x8u /* found through the frame
					   * pointer of a Go frame whose CFI
					   * leads nowhere (Go switched stacks) */
struct vdsoscope_frame_info {
	uint64_t pc;
	uint64_t offset;        /* pc - function start */
	const char *function;   /* NULL when unknown; lives as long as the space
				 * (vDSO frames) or the modules set */
	const char *module;     /* file name without directories, the vDSO's soname,
				 * or NULL */
	unsigned int flags;     /* VDSOSCOPE_FRAME_INFO_* */
};

/* Unwinds one sample: REGS (DWARF numbering; IP and SP at least) and
 * STACK_SIZE bytes at STACK copied from target address STACK_ADDR.  Writes
 * up to MAX frames, innermost first, to FRAMES and their number to *N.
 * Returns the vdsoscope_unwind_end reason (>= 0), or -errno. */
VDSOSCOPE_UNWIND_API int vdsoscope_space_unwind(struct vdsoscope_space *sp,
						const struct vdsoscope_regs *regs,
						uint64_t stack_addr, const void *stack,
						size_t stack_size,
						struct vdsoscope_frame_info *frames,
						unsigned int max, unsigned int *n);

/* The same for a stopped process or a core: every word read with READ
 * (ARG), then from the vDSO image (a core without the vDSO's segment).
 * See vdsoscope_target_unwind() for a whole thread. */
VDSOSCOPE_UNWIND_API int vdsoscope_space_unwind_read(struct vdsoscope_space *sp,
						     const struct vdsoscope_regs *regs,
						     vdsoscope_read_fn read, void *arg,
						     struct vdsoscope_frame_info *frames,
						     unsigned int max, unsigned int *n);

/* The same with libunwind: vdsoscope_unw_create_snapshot()'s accessors over
 * the stack copy, the vDSO through the hook, the mapped files' own
 * .eh_frame_hdr tables searched by libunwind (read from the files), and the
 * same names.  x86_64 targets only (-ENOTSUP otherwise); ends as above,
 * libunwind's errors mapped onto the same reasons. */
VDSOSCOPE_UNWIND_API int vdsoscope_space_unwind_libunwind(struct vdsoscope_space *sp,
							  const struct vdsoscope_regs *regs,
							  uint64_t stack_addr, const void *stack,
							  size_t stack_size,
							  struct vdsoscope_frame_info *frames,
							  unsigned int max, unsigned int *n);

/* ---- processes and cores ------------------------------------------------------ */

/* A process or a core file as a set of threads to unwind with the space's
 * step: a live process's threads are stopped one at a time
 * (PTRACE_SEIZE + PTRACE_INTERRUPT) while each is unwound, and read with
 * process_vm_readv(2); a core's registers come from its NT_PRSTATUS notes,
 * its memory from its PT_LOADs, its mappings from NT_FILE, each file
 * checked against the build-id the core holds in the file's first page.
 * x86_64 and i386 targets.  A target may be used by one thread at a time. */
struct vdsoscope_target;

struct vdsoscope_target_opts {
	size_t sz;                 /* sizeof(struct vdsoscope_target_opts) */
	/* cores: the main executable (the file mapped at AT_ENTRY), in place of
	 * the path the core recorded; the sysroot, debug directories and
	 * debuginfod come from the modules set (vdsoscope_modules_set_sysroot(),
	 * vdsoscope_modules_set_debug_dirs()) */
	const char *executable;
};
#define VDSOSCOPE_TARGET_OPTS(NAME, ...)                                            \
	struct vdsoscope_target_opts NAME = {                                        \
		.sz = sizeof(struct vdsoscope_target_opts), __VA_ARGS__ }

/* 0 or -errno (-ENOTSUP: not an x86_64 or i386 target; -EINVAL: not a core,
 * or unusable); vdsoscope_target_errmsg() then says what was wrong.  The
 * target's space (vdsoscope_target_space()) has the mappings; give it the
 * vDSO with vdsoscope_space_set_vdso().  MODS must outlive the target. */
VDSOSCOPE_UNWIND_API int vdsoscope_target_open_pid(struct vdsoscope_target **out,
						   struct vdsoscope_modules *mods, pid_t pid,
						   const struct vdsoscope_target_opts *opts);
VDSOSCOPE_UNWIND_API int vdsoscope_target_open_core(struct vdsoscope_target **out,
						    struct vdsoscope_modules *mods,
						    const char *core,
						    const struct vdsoscope_target_opts *opts);
/* Accepts NULL. */
VDSOSCOPE_UNWIND_API void vdsoscope_target_close(struct vdsoscope_target *t);
/* The message of this thread's last failed vdsoscope_target_* call. */
VDSOSCOPE_UNWIND_API const char *vdsoscope_target_errmsg(void);
VDSOSCOPE_UNWIND_API struct vdsoscope_space *vdsoscope_target_space(struct vdsoscope_target *t);
/* 64 (x86_64) or 32 (i386). */
VDSOSCOPE_UNWIND_API int vdsoscope_target_elf_class(const struct vdsoscope_target *t);
/* Cores: AT_SYSINFO_EHDR, 0 when the process had no vDSO (or for a live
 * process, which the caller opens with vdsoscope_open_pid()). */
VDSOSCOPE_UNWIND_API uint64_t vdsoscope_target_vdso_address(const struct vdsoscope_target *t);
/* Threads in ascending id order (a live process's as listed at open). */
VDSOSCOPE_UNWIND_API size_t vdsoscope_target_thread_count(const struct vdsoscope_target *t);
VDSOSCOPE_UNWIND_API pid_t vdsoscope_target_thread_id(const struct vdsoscope_target *t, size_t idx);
/* Unwinds thread IDX as vdsoscope_space_unwind_read() does: returns the
 * vdsoscope_unwind_end reason (>= 0), or -errno (-ESRCH: the thread exited;
 * vdsoscope_target_errmsg() says more). */
VDSOSCOPE_UNWIND_API int vdsoscope_target_unwind(struct vdsoscope_target *t, size_t idx,
						 struct vdsoscope_frame_info *frames,
						 unsigned int max, unsigned int *n);
/* A core's file mappings as NT_FILE lists them (every one, code or not):
 * RECORDED is the path the core names, PATH the file to read for it (the
 * executable given, or the file the modules set found by sysroot,
 * build-id or debuginfod for the same name).  Both live as long as T. */
struct vdsoscope_target_file {
	uint64_t start, end, pgoff;
	const char *recorded;
	const char *path;
};
VDSOSCOPE_UNWIND_API size_t vdsoscope_target_file_count(const struct vdsoscope_target *t);
/* 0, or -ENOENT past the end. */
VDSOSCOPE_UNWIND_API int vdsoscope_target_file_get(const struct vdsoscope_target *t, size_t idx,
						   struct vdsoscope_target_file *out);
/* Live processes: stops thread IDX (PTRACE_SEIZE + PTRACE_INTERRUPT, no
 * signal) for a caller that reads it itself with ptrace (libunwind-ptrace),
 * until vdsoscope_target_resume() detaches.  0, or -errno (-ESRCH: the
 * thread exited).  Cores: 0, and resume does nothing. */
VDSOSCOPE_UNWIND_API int vdsoscope_target_stop(struct vdsoscope_target *t, size_t idx);
VDSOSCOPE_UNWIND_API void vdsoscope_target_resume(struct vdsoscope_target *t, size_t idx);
/* The registers thread IDX was unwound from (a core's at open, a live
 * thread's at its last vdsoscope_target_unwind()). */
VDSOSCOPE_UNWIND_API int vdsoscope_target_regs(const struct vdsoscope_target *t, size_t idx,
					       struct vdsoscope_regs *out);

/* perf_event's user registers (PERF_SAMPLE_REGS_USER on x86: the values of
 * the bits set in MASK, in bit order, PERF_REG_X86_* numbering) in DWARF
 * numbering for an ABI of PERF_SAMPLE_REGS_ABI_64 (2, x86_64) or _32 (1,
 * i386; values are cut to 32 bits).  Returns the ELF class (64 or 32) or
 * -EINVAL.  Built for aarch64, where the samples are of this machine: MASK
 * has PERF_REG_ARM64_* numbering (x0-x30, sp, pc: DWARF 0-32) and ABI is
 * 2 only (compat tasks' samples give -EINVAL). */
VDSOSCOPE_UNWIND_API int vdsoscope_regs_from_perf(struct vdsoscope_regs *out, uint64_t abi,
						  uint64_t mask, const uint64_t *vals,
						  size_t nvals);

#ifdef __cplusplus
}
#endif
#endif /* VDSOSCOPE_UNWIND_H */
