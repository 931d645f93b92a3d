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
 *    (UNW_INFO_FORMAT_REMOTE_TABLE); an image without a table gives
 *    -UNW_ENOINFO, as the unwrapped table would;
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
 * vdsoscope_dwfl_report_vdso() gets an Elf made with elf_memory() on the
 * image's bytes; every other module goes to dwfl_linux_proc_find_elf()
 * (the _proc_ variant) or dwfl_build_id_find_elf() (the _core_ variant),
 * which elfutils' own tools use. */
VDSOSCOPE_UNWIND_API int vdsoscope_dwfl_proc_find_elf(Dwfl_Module *mod, void **userdata,
						      const char *name, Dwarf_Addr base,
						      char **file_name, Elf **elfp);
VDSOSCOPE_UNWIND_API int vdsoscope_dwfl_core_find_elf(Dwfl_Module *mod, void **userdata,
						      const char *name, Dwarf_Addr base,
						      char **file_name, Elf **elfp);
/* Reports IMG as module "[vdso]" of DWFL at its load address unless a
 * module already covers that address (a core that holds the vDSO, a live
 * process).  Call after dwfl_report_end(); DWFL must use one of the find_elf
 * callbacks above.  IMG must stay open as long as DWFL.  Returns 1 when
 * reported, 0 when a module was already there, -1 (errno) on failure. */
VDSOSCOPE_UNWIND_API int vdsoscope_dwfl_report_vdso(Dwfl *dwfl, const struct vdsoscope_image *img);

#ifdef __cplusplus
}
#endif
#endif /* VDSOSCOPE_UNWIND_H */
