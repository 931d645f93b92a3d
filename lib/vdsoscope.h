/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdsoscope: symbols and unwind data of the Linux vDSO of any process.
 *
 * Contract, in short:
 *  - An image is opened from the running process, another process, a core
 *    file, an ELF file or a memory buffer.  Opening parses everything once
 *    (identity, symbols, debug file, CFI rows); afterwards the image is
 *    read-only and every query and vdsoscope_step() may be called from any
 *    number of threads at once.
 *  - Addresses given to and returned by the library are runtime addresses
 *    (where the image is or was mapped) unless a name says "link".
 *  - Functions returning int return 0 (or a count) on success and a negative
 *    error code on failure: -errno for system errors, -VDSOSCOPE_E_* for the
 *    project's own.  vdsoscope_strerror() names any of them and
 *    vdsoscope_errmsg() gives this thread's message for the last failure,
 *    naming the file, pid or address involved.
 *  - Pointer-returning functions return NULL on failure.
 *  - Strings returned point into the image and live as long as it does.
 */
#ifndef VDSOSCOPE_H
#define VDSOSCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef VDSOSCOPE_API
#define VDSOSCOPE_API __attribute__((visibility("default")))
#endif

#define VDSOSCOPE_VERSION_MAJOR 0
#define VDSOSCOPE_VERSION_MINOR 1

/* ---- errors ---------------------------------------------------------- */

/* Project error codes; returned negated.  Values below 4000 are errno. */
#define VDSOSCOPE_ERRORS(X)                                                   \
	X(NOT_ELF,        4000, "not an ELF image")                          \
	X(BAD_CLASS,      4001, "unsupported ELF class or byte order")       \
	X(BAD_MACHINE,    4002, "unsupported machine")                       \
	X(TRUNCATED,      4003, "image or file is truncated")                \
	X(BAD_PHDR,       4004, "program headers are invalid")               \
	X(BAD_DYNAMIC,    4005, "dynamic segment is invalid")                \
	X(BAD_HASH,       4006, "symbol hash table is invalid")              \
	X(BAD_SYMBOL,     4007, "symbol table is invalid")                   \
	X(BAD_VERSION,    4008, "symbol version tables are invalid")         \
	X(NO_VDSO,        4009, "process or core has no vDSO")               \
	X(NO_VDSO_SEGMENT,4010, "core file does not contain the vDSO")      \
	X(BAD_CORE,       4011, "core file is invalid")                      \
	X(NOT_IN_IMAGE,   4012, "address is not in the vDSO")                \
	X(NO_CFI,         4013, "no CFI covers the address")                 \
	X(BAD_CFI,        4014, "CFI is invalid")                            \
	X(MEMORY,         4015, "memory needed for the step is unreadable")  \
	X(BAD_EXPR,       4016, "DWARF expression cannot be evaluated")      \
	X(REG_UNDEFINED,  4017, "a register the step needs is not known")    \
	X(NOT_FOUND,      4018, "not found")                                 \
	X(BUILD_ID,       4019, "build-id does not match")                   \
	X(NO_PROCESS,     4020, "no such process")                           \
	X(INVALID,        4021, "invalid argument")                          \
	X(TOO_LARGE,      4022, "size is larger than any vDSO")

enum vdsoscope_error {
#define VDSOSCOPE__ERRENUM(name, value, text) VDSOSCOPE_E_##name = value,
	VDSOSCOPE_ERRORS(VDSOSCOPE__ERRENUM)
#undef VDSOSCOPE__ERRENUM
};

/* Text for ERR (negative or positive; errno values included).  Never NULL. */
VDSOSCOPE_API const char *vdsoscope_strerror(int err);
/* Symbolic name ("VDSOSCOPE_E_NOT_ELF", "ENOENT") for ERR.  Never NULL. */
VDSOSCOPE_API const char *vdsoscope_err_name(int err);
/* This thread's message for the last failed call; "" when none.  The fast
 * queries (vdsoscope_func_at, vdsoscope_func_get, vdsoscope_cfi_find,
 * vdsoscope_cfi_get, vdsoscope_addr_line) return codes without a message. */
VDSOSCOPE_API const char *vdsoscope_errmsg(void);

/* ---- opening ----------------------------------------------------------- */

struct vdsoscope_image;

/* Options for all vdsoscope_open_*() calls.  Declare with
 * VDSOSCOPE_OPTS(name, .field = value) so that sz is set and the rest is
 * zero; the library rejects non-zero bytes past the fields it knows. */
struct vdsoscope_open_opts {
	size_t sz;
	/* NULL-terminated list of directories searched for a debug file that
	 * matches the image's build-id: DIR/xx/rest.debug (.build-id layout)
	 * and any *.so or *.debug file directly in DIR.  NULL means the
	 * default: /usr/lib/debug/.build-id, /lib/modules/$(uname -r)/vdso and
	 * /usr/lib/debug/lib/modules/$(uname -r)/vdso.
	 * An empty list (first element NULL) searches nothing. */
	const char *const *debug_dirs;
	/* A debug file to use; must match the build-id or, where the build-id
	 * differs, the image's loadable bytes.  May be NULL.  It is
	 * used even when the image carries symbols of its own. */
	const char *debug_file;
	/* For vdsoscope_open_file() and _buffer(): where the image is mapped.
	 * Ignored unless flags has VDSOSCOPE_OPEN_LOAD_ADDR; otherwise the
	 * image's link-time address is used. */
	uint64_t load_addr;
	unsigned int flags;
	/* For vdsoscope_open_build_id(): the store directory; NULL means the
	 * default (see vdsoscope_store_dir()). */
	const char *store_dir;
};
#define VDSOSCOPE_OPEN_LOAD_ADDR 0x1u  /* load_addr is valid */
#define VDSOSCOPE_OPEN_NO_DEBUG  0x2u  /* do not look for a debug file */
#define VDSOSCOPE_OPEN_NO_CACHE  0x4u  /* do not share parsed data */
/* For vdsoscope_open_build_id(): */
#define VDSOSCOPE_OPEN_NO_STORE       0x8u  /* neither search nor fill the store */
#define VDSOSCOPE_OPEN_NO_STORE_WRITE 0x10u /* search the store, never write it */
#define VDSOSCOPE_OPEN_NO_DEBUGINFOD  0x20u /* do not ask debuginfod servers */
/* With VDSOSCOPE_OPEN_NO_DEBUG: the image as a process maps it, so not its
 * own non-allocated .debug_frame either (NO_DEBUG alone keeps it, for images
 * whose only CFI it is) */
#define VDSOSCOPE_OPEN_AS_MAPPED      0x40u

#define VDSOSCOPE_OPTS(NAME, ...)                                              \
	struct vdsoscope_open_opts NAME = {                                    \
		.sz = sizeof(struct vdsoscope_open_opts), __VA_ARGS__ }

/* The running process's own vDSO (AT_SYSINFO_EHDR). */
VDSOSCOPE_API int vdsoscope_open_self(struct vdsoscope_image **out,
				      const struct vdsoscope_open_opts *opts);
/* The vDSO of process PID: /proc/PID/auxv, then process_vm_readv(2), falling
 * back to /proc/PID/mem.  Needs ptrace-read access to PID.  The process need
 * not be stopped. */
VDSOSCOPE_API int vdsoscope_open_pid(struct vdsoscope_image **out, pid_t pid,
				     const struct vdsoscope_open_opts *opts);
/* The vDSO recorded in core file PATH (NT_AUXV's AT_SYSINFO_EHDR and the
 * PT_LOAD holding it); 32- and 64-bit cores. */
VDSOSCOPE_API int vdsoscope_open_core(struct vdsoscope_image **out,
				      const char *path,
				      const struct vdsoscope_open_opts *opts);
/* The vDSO's load address (NT_AUXV's AT_SYSINFO_EHDR) recorded in core
 * file PATH, whether or not the core holds the vDSO's bytes.  With it, an
 * image file opened with VDSOSCOPE_OPEN_LOAD_ADDR stands in for the vDSO
 * of a core that lacks the segment. */
VDSOSCOPE_API int vdsoscope_core_vdso_address(const char *path, uint64_t *addr);
/* An ELF file: an extracted image or an unstripped debug image. */
VDSOSCOPE_API int vdsoscope_open_file(struct vdsoscope_image **out,
				      const char *path,
				      const struct vdsoscope_open_opts *opts);
/* LEN bytes at BUF, copied; the caller keeps BUF. */
VDSOSCOPE_API int vdsoscope_open_buffer(struct vdsoscope_image **out,
					const void *buf, size_t len,
					const struct vdsoscope_open_opts *opts);
/* The image whose GNU build-id note is ID (LEN bytes), looked for in this
 * order, the first hit winning:
 *  1. images open in this process (the library's cache of parsed images);
 *  2. the store (opts->store_dir, or the default of vdsoscope_store_dir());
 *  3. the debug directories (opts->debug_dirs, or /usr/lib/debug/.build-id
 *     and /usr/lib/debug/lib/modules/$(uname -r)/vdso): DIR/xx/rest,
 *     DIR/xx/rest.debug, and any *.so or *.debug file in DIR;
 *  4. /lib/modules/$(uname -r)/vdso;
 *  5. debuginfod servers ($DEBUGINFOD_URLS), when the library was built with
 *     libdebuginfod: the executable, and its debuginfo.  What they send is
 *     added to the store unless VDSOSCOPE_OPEN_NO_STORE_WRITE is given.
 * Whatever is found must parse as a vDSO image and carry exactly ID in its
 * build-id note, else it is skipped (a store file that does not is an error
 * naming it).  A debug file stored with the image is used as its debug file
 * unless opts name other debug settings.  The source reads
 * "build-id HEX (WHERE)".  -VDSOSCOPE_E_NOT_FOUND when no place has it. */
VDSOSCOPE_API int vdsoscope_open_build_id(struct vdsoscope_image **out,
					  const uint8_t *id, size_t len,
					  const struct vdsoscope_open_opts *opts);
/* Any ELF file by build-id from the debuginfod servers in $DEBUGINFOD_URLS:
 * the executable (DEBUGINFO 0) or its debug file (DEBUGINFO 1), downloaded
 * to debuginfod's cache; *PATH (free() it) names it.  0,
 * -VDSOSCOPE_E_NOT_FOUND (no server has it, or $DEBUGINFOD_URLS is unset),
 * -ENOTSUP (built without libdebuginfod, or it cannot be loaded). */
VDSOSCOPE_API int vdsoscope_debuginfod_find(const uint8_t *id, size_t len, int debuginfo,
					    char **path);
/* Accepts NULL. */
VDSOSCOPE_API void vdsoscope_image_close(struct vdsoscope_image *img);

/* ---- identity ------------------------------------------------------------ */

/* Build-id bytes, or NULL (and *len = 0) when the image has no build-id. */
VDSOSCOPE_API const uint8_t *vdsoscope_build_id(const struct vdsoscope_image *img,
						size_t *len);
/* Lower-case hex build-id, "" when none. */
VDSOSCOPE_API const char *vdsoscope_build_id_hex(const struct vdsoscope_image *img);
/* DT_SONAME, "" when none. */
VDSOSCOPE_API const char *vdsoscope_soname(const struct vdsoscope_image *img);
VDSOSCOPE_API int vdsoscope_machine(const struct vdsoscope_image *img);  /* EM_* */
VDSOSCOPE_API int vdsoscope_elf_class(const struct vdsoscope_image *img);/* 32 or 64 */
VDSOSCOPE_API bool vdsoscope_big_endian(const struct vdsoscope_image *img);
/* The "Linux" note's LINUX_VERSION_CODE, 0 when absent. */
VDSOSCOPE_API uint32_t vdsoscope_linux_version(const struct vdsoscope_image *img);
/* Where the image is mapped, and its link-time base address. */
VDSOSCOPE_API uint64_t vdsoscope_load_address(const struct vdsoscope_image *img);
VDSOSCOPE_API uint64_t vdsoscope_link_address(const struct vdsoscope_image *img);
/* The image's bytes as mapped, and their number. */
VDSOSCOPE_API const void *vdsoscope_image_data(const struct vdsoscope_image *img,
					       size_t *size);
/* Where the image came from: "self", "pid 123", "core FILE", "file FILE",
 * "buffer". */
VDSOSCOPE_API const char *vdsoscope_image_source(const struct vdsoscope_image *img);
/* Path of the debug file in use, or NULL. */
VDSOSCOPE_API const char *vdsoscope_debug_file(const struct vdsoscope_image *img);
/* How the debug file was matched: "build-id"; "content" when its build-id
 * differs (or one is missing) but its loadable bytes equal the image's
 * apart from the build-id note, as a kernel's debug image does where the
 * running vDSO was relinked; "self" for an unstripped image; NULL without
 * a debug file. */
VDSOSCOPE_API const char *vdsoscope_debug_match(const struct vdsoscope_image *img);
/* Runtime range [*lo, *hi) of executable code. */
VDSOSCOPE_API void vdsoscope_text_range(const struct vdsoscope_image *img,
					uint64_t *lo, uint64_t *hi);

/* ---- symbols ----------------------------------------------------------- */

#define VDSOSCOPE_SYM_GLOBAL    0x01u  /* STB_GLOBAL (else WEAK or LOCAL)   */
#define VDSOSCOPE_SYM_WEAK      0x02u
#define VDSOSCOPE_SYM_NOTYPE    0x04u  /* STT_NOTYPE code symbol             */
#define VDSOSCOPE_SYM_LOCAL     0x08u  /* from a debug file's .symtab        */
#define VDSOSCOPE_SYM_HIDDEN_VERSION 0x10u /* version is not the default    */
#define VDSOSCOPE_SYM_THUMB     0x20u  /* ARM Thumb code (bit 0 was set)     */

struct vdsoscope_sym {
	const char *name;
	const char *version;   /* "" when unversioned */
	unsigned int flags;    /* VDSOSCOPE_SYM_* */
};

/* A function: one code range with all the names that start it.  names[0]
 * is canonical: GLOBAL before WEAK before LOCAL, FUNC before NOTYPE, then
 * the longer name ("__vdso_clock_gettime" over "clock_gettime").  Code that
 * CFI covers but no symbol names is a function of its own named
 * "fde@0xLINK" (LINK: the FDE's link-time start in hex) with flag
 * VDSOSCOPE_FUNC_FROM_CFI, so an address in it is never given to the symbol
 * before it. */
#define VDSOSCOPE_FUNC_FROM_CFI 0x1u
#define VDSOSCOPE_FUNC_SIZED    0x2u   /* end comes from st_size */
/* x86_64's legacy vsyscall page at 0xffffffffff600000: not part of any image,
 * but named by vdsoscope_func_at() of an x86_64 image ("vsyscall_gettimeofday"
 * at +0x0, "vsyscall_time" at +0x400, "vsyscall_getcpu" at +0x800), and
 * stepped through by vdsoscope_step() (the return address is at SP). */
#define VDSOSCOPE_FUNC_VSYSCALL 0x4u

struct vdsoscope_func {
	uint64_t start;                    /* runtime */
	uint64_t end;                      /* runtime, exclusive */
	unsigned int flags;                /* VDSOSCOPE_FUNC_* */
	unsigned int nnames;
	const struct vdsoscope_sym *names; /* nnames entries */
};

/* Number of functions; they are sorted by start address. */
VDSOSCOPE_API size_t vdsoscope_func_count(const struct vdsoscope_image *img);
/* Function number IDX (0-based) into *OUT. */
VDSOSCOPE_API int vdsoscope_func_get(const struct vdsoscope_image *img, size_t idx,
				     struct vdsoscope_func *out);
/* The function containing runtime ADDR into *OUT, and its index (IDX may be
 * NULL).  -VDSOSCOPE_E_NOT_IN_IMAGE outside the image, -VDSOSCOPE_E_NOT_FOUND
 * inside it where no function is. */
VDSOSCOPE_API int vdsoscope_func_at(const struct vdsoscope_image *img, uint64_t addr,
				    struct vdsoscope_func *out, size_t *idx);
/* Dynamic symbol NAME with VERSION (NULL: any version, preferring the
 * default one) through DT_GNU_HASH or DT_HASH.  *ADDR gets its runtime
 * (callable) address; for Thumb code bit 0 stays set. */
VDSOSCOPE_API int vdsoscope_lookup(const struct vdsoscope_image *img, const char *name,
				   const char *version, uint64_t *addr);
/* Source position of runtime ADDR from the debug file's line table. */
VDSOSCOPE_API int vdsoscope_addr_line(const struct vdsoscope_image *img, uint64_t addr,
				      const char **file, int *line);

/* Every symbol version the image defines (verdef), base name excluded. */
VDSOSCOPE_API size_t vdsoscope_version_count(const struct vdsoscope_image *img);
VDSOSCOPE_API const char *vdsoscope_version_name(const struct vdsoscope_image *img,
						 size_t idx);

/* ---- CFI ----------------------------------------------------------------- */

enum vdsoscope_rule_kind {
	VDSOSCOPE_RULE_UNSPECIFIED = 0, /* CFI says nothing: ABI default      */
	VDSOSCOPE_RULE_UNDEFINED,       /* DW_CFA_undefined                   */
	VDSOSCOPE_RULE_SAME,            /* DW_CFA_same_value                  */
	VDSOSCOPE_RULE_OFFSET,          /* saved at CFA + off                 */
	VDSOSCOPE_RULE_VAL_OFFSET,      /* value is CFA + off                 */
	VDSOSCOPE_RULE_REGISTER,        /* in register reg                    */
	VDSOSCOPE_RULE_EXPRESSION,      /* saved at address given by expr     */
	VDSOSCOPE_RULE_VAL_EXPRESSION,  /* value given by expr                */
	VDSOSCOPE_RULE_CFA_REG_OFFSET,  /* (CFA only) reg + off               */
	VDSOSCOPE_RULE_CFA_EXPRESSION,  /* (CFA only) value of expr           */
};

struct vdsoscope_rule {
	uint8_t kind;      /* enum vdsoscope_rule_kind */
	uint16_t reg;      /* REGISTER, CFA_REG_OFFSET */
	uint16_t expr_len; /* number of operations of an expression */
	uint32_t expr;     /* first operation (index, internal) */
	int64_t off;       /* OFFSET, VAL_OFFSET, CFA_REG_OFFSET */
};

struct vdsoscope_row {
	uint64_t start, end;      /* runtime, [start, end) */
	uint64_t fde_start;       /* runtime start of the FDE holding the row */
	struct vdsoscope_rule cfa;
	unsigned int ra_reg;      /* return address column */
	/* entries in regs[]: every register the CFI gives a rule for, which
	 * may be more than the arch's nregs (vdsoscope_arch_reg_name() names
	 * them; the step uses only the arch's) */
	unsigned int nregs;
	bool signal_frame;        /* 'S' augmentation */
	bool from_debug_frame;
	/* no CFI covers this code: the row was computed from its instructions
	 * (i386 frame-pointer code, aarch64 code; fde_start is then the
	 * function's start) */
	bool synthesized;
	/* aarch64: the return address carries a pointer authentication code
	 * here (after paciasp, before autiasp; DW_CFA_AARCH64_negate_ra_state) */
	bool ra_signed;
	const struct vdsoscope_rule *regs; /* by DWARF register number */
};

/* The image's .eh_frame_hdr (PT_GNU_EH_FRAME) and its binary-search table,
 * for unwinders that search the table themselves (libunwind's
 * UNW_INFO_FORMAT_REMOTE_TABLE): runtime addresses; entries of
 * ENTRY_SIZE bytes encoded by TABLE_ENC (DW_EH_PE_*; 0x3b, datarel sdata4,
 * is what the kernel's images use and what libunwind accepts), relative to
 * ADDR.  The table lies inside the image.  -VDSOSCOPE_E_NOT_FOUND when the
 * image has no header or the header has no table, -VDSOSCOPE_E_BAD_CFI for
 * encodings that cannot be read without evaluating them,
 * -VDSOSCOPE_E_TRUNCATED when the table does not fit the header. */
struct vdsoscope_eh_frame_hdr {
	uint64_t addr;        /* runtime address of .eh_frame_hdr */
	uint64_t size;        /* bytes of the header segment */
	uint64_t table;       /* runtime address of the first table entry */
	uint64_t fde_count;   /* number of entries */
	unsigned int table_enc;
	unsigned int entry_size;
};
VDSOSCOPE_API int vdsoscope_eh_frame_hdr(const struct vdsoscope_image *img,
					 struct vdsoscope_eh_frame_hdr *out);

/* Number of compiled rows, sorted by start. */
VDSOSCOPE_API size_t vdsoscope_cfi_count(const struct vdsoscope_image *img);
VDSOSCOPE_API int vdsoscope_cfi_get(const struct vdsoscope_image *img, size_t idx,
				    struct vdsoscope_row *out);
/* The row covering runtime ADDR. */
VDSOSCOPE_API int vdsoscope_cfi_find(const struct vdsoscope_image *img, uint64_t addr,
				     struct vdsoscope_row *out);
/* 0 when the image's CFI compiled, else the negative code of what was wrong
 * (then no rows exist; symbols still work) and in *MSG (may be NULL) a text
 * naming the entry or address. */
VDSOSCOPE_API int vdsoscope_cfi_error(const struct vdsoscope_image *img, const char **msg);
/* FDEs left out of the rows because libdw refused them (or their CIE);
 * the other FDEs' rows are there.  *MSG (may be NULL) gets the reason for
 * the first of them, naming its range and section, or "". */
VDSOSCOPE_API size_t vdsoscope_cfi_dropped(const struct vdsoscope_image *img, const char **msg);
/* Bytes of executable code covered by FDEs. */
VDSOSCOPE_API uint64_t vdsoscope_cfi_coverage(const struct vdsoscope_image *img);
/* Writes RULE as text into BUF: "c-16" (saved at CFA-16), "v+8" (value
 * CFA+8), "rbp+16" (a CFA rule), "rbx" (in a register), "exp(esp+32; deref)"
 * and "vexp(...)" (DWARF expressions), "s", "undef", "u" (unspecified) into BUF
 * (LEN bytes, always terminated); returns the length it needed. */
VDSOSCOPE_API int vdsoscope_rule_format(const struct vdsoscope_image *img,
					const struct vdsoscope_rule *rule,
					char *buf, size_t len);

/* The DWARF expression of RULE (kinds EXPRESSION, VAL_EXPRESSION and
 * CFA_EXPRESSION) as the operation bytes DW_CFA_expression,
 * DW_CFA_val_expression and DW_CFA_def_cfa_expression carry, in IMG's byte
 * order; a register rule's block does not start with DW_OP_call_frame_cfa,
 * as DWARF pushes the CFA before evaluating it.  Writes at most LEN bytes to
 * BUF (may be NULL when LEN is 0) and returns the number the whole
 * expression takes, which may exceed LEN.  -VDSOSCOPE_E_INVALID when RULE
 * has no expression, -VDSOSCOPE_E_BAD_EXPR for an operation that cannot be
 * encoded. */
VDSOSCOPE_API int vdsoscope_rule_expr(const struct vdsoscope_image *img,
				      const struct vdsoscope_rule *rule, void *buf, size_t len);

/* ---- architecture ------------------------------------------------------ */

/* DWARF register numbers below VDSOSCOPE_MAX_REGS, on every architecture:
 * arm64's d8-d15 are 72-79, ppc64's link register 65, arm's d8-d15
 * 264-271. */
#define VDSOSCOPE_MAX_REGS 288
#define VDSOSCOPE_REG_WORDS ((VDSOSCOPE_MAX_REGS + 63) / 64)

struct vdsoscope_arch {
	const char *name;          /* "x86_64", "i386", "aarch64" */
	int machine;               /* EM_* */
	int elf_class;             /* 32 or 64 */
	unsigned int nregs;        /* DWARF registers 0..nregs-1 are known */
	unsigned int sp_reg;       /* stack pointer */
	unsigned int ip_reg;       /* program counter */
	/* bit N % 64 of word N / 64: register N survives a call */
	uint64_t callee_saved[VDSOSCOPE_REG_WORDS];
	unsigned int addr_size;    /* bytes of an address (DW_OP_deref) */
	const char *const *reg_names; /* nregs entries */
	unsigned int reg_size;     /* bytes of a register saved on the stack */
	/* where a call leaves the return address: a register (aarch64's
	 * x30), or ip_reg where the call pushes it on the stack */
	unsigned int ra_reg;
};

/* The architecture of IMG, or NULL when the image's machine has no register
 * table (symbols then still work; vdsoscope_step() does not). */
VDSOSCOPE_API const struct vdsoscope_arch *vdsoscope_arch(const struct vdsoscope_image *img);
/* By name or EM_* value; NULL when unknown. */
VDSOSCOPE_API const struct vdsoscope_arch *vdsoscope_arch_by_name(const char *name);
VDSOSCOPE_API const struct vdsoscope_arch *vdsoscope_arch_by_machine(int machine, int elf_class);
/* The name readelf gives DWARF register REG of A ("rbx", "xmm0", "rflags"),
 * also past A's nregs; NULL when it has none (then "r<REG>" is the usual
 * spelling).  A may be NULL. */
VDSOSCOPE_API const char *vdsoscope_arch_reg_name(const struct vdsoscope_arch *a, unsigned int reg);

/* ---- stepping ---------------------------------------------------------- */


/* A register set in DWARF numbering: r[N] is known when bit N of valid is
 * set (word N / 64, bit N % 64).  Only the valid words need clearing to
 * start an empty set (vdsoscope_regs_clear()).  pac_mask: the bits a
 * return address may carry as a pointer authentication code (aarch64:
 * NT_ARM_PAC_MASK's instruction mask), cleared from every return address
 * the step computes; 0: the architecture's default (aarch64: bits 63-48). */
struct vdsoscope_regs {
	uint64_t valid[VDSOSCOPE_REG_WORDS];
	uint64_t pac_mask;
	uint64_t r[VDSOSCOPE_MAX_REGS];
};

static inline void vdsoscope_regs_clear(struct vdsoscope_regs *s)
{
	for (unsigned int i = 0; i < VDSOSCOPE_REG_WORDS; i++)
		s->valid[i] = 0;
	s->pac_mask = 0;
}

static inline int vdsoscope_regs_has(const struct vdsoscope_regs *s, unsigned int reg)
{
	return reg < VDSOSCOPE_MAX_REGS && (s->valid[reg / 64] >> (reg % 64) & 1);
}

static inline void vdsoscope_regs_set(struct vdsoscope_regs *s, unsigned int reg, uint64_t v)
{
	if (reg < VDSOSCOPE_MAX_REGS) {
		s->r[reg] = v;
		s->valid[reg / 64] |= 1ull << (reg % 64);
	}
}

static inline void vdsoscope_regs_drop(struct vdsoscope_regs *s, unsigned int reg)
{
	if (reg < VDSOSCOPE_MAX_REGS)
		s->valid[reg / 64] &= ~(1ull << (reg % 64));
}

/* Reads LEN bytes at target address ADDR into BUF.  Returns 0, or a negative
 * code when any byte is unreadable.  Must be safe to call from the thread
 * that called vdsoscope_step(). */
typedef int (*vdsoscope_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

/* Flags for vdsoscope_step() */
#define VDSOSCOPE_STEP_CALLER 0x1u /* IP is a return address: look up IP-1 */
/* A register other than the return address whose save slot cannot be read
 * becomes unknown instead of failing the step: for stack copies that start
 * at SP, where an epilogue's popped slot lies below the copy. */
#define VDSOSCOPE_STEP_LENIENT 0x2u
/* Flags it reports */
#define VDSOSCOPE_FRAME_SIGNAL 0x1u /* the frame was a signal trampoline */
#define VDSOSCOPE_FRAME_OUTERMOST 0x2u /* the CFI ends the stack here */

/* One frame: from the registers IN of a frame whose IP is in IMG, compute
 * the caller's registers into OUT (which may equal IN).  Memory comes
 * through READ(ARG, ...).  Registers the CFI does not describe: callee-saved
 * ones pass through unchanged, others become invalid.  OUT's IP is the
 * return address, its SP the CFA.  *FRAME_FLAGS (may be NULL) gets
 * VDSOSCOPE_FRAME_SIGNAL for a signal frame, after which the caller's IP is
 * exact (do not pass VDSOSCOPE_STEP_CALLER for it).
 * Errors: -VDSOSCOPE_E_NOT_IN_IMAGE, -VDSOSCOPE_E_NO_CFI,
 * -VDSOSCOPE_E_MEMORY, -VDSOSCOPE_E_BAD_EXPR, -VDSOSCOPE_E_REG_UNDEFINED. */
VDSOSCOPE_API int vdsoscope_step(const struct vdsoscope_image *img,
				 const struct vdsoscope_regs *in, unsigned int flags,
				 vdsoscope_read_fn read, void *arg,
				 struct vdsoscope_regs *out, unsigned int *frame_flags);

/* A frame at kernel code outside any ELF image, recognised by its
 * instructions: x86_64's vsyscall page, and arm's [sigpage] signal return
 * (sigreturn and rt_sigreturn, ARM and Thumb; then OUT has r0-r15 from the
 * signal frame and *FRAME_FLAGS VDSOSCOPE_FRAME_SIGNAL).  As
 * vdsoscope_step() otherwise; -VDSOSCOPE_E_NOT_IN_IMAGE when the code at
 * IP is none of them. */
VDSOSCOPE_API int vdsoscope_step_trampoline(const struct vdsoscope_arch *a,
					    const struct vdsoscope_regs *in,
					    vdsoscope_read_fn read, void *arg,
					    struct vdsoscope_regs *out, unsigned int *frame_flags);

/* Ready readers.  vdsoscope_read_self: ARG unused, this process's memory
 * (through process_vm_readv on itself, so bad addresses fail cleanly).
 * vdsoscope_read_pid: ARG is a pid_t * ; process_vm_readv, then
 * /proc/PID/mem. */
VDSOSCOPE_API int vdsoscope_read_self(void *arg, uint64_t addr, void *buf, size_t len);
VDSOSCOPE_API int vdsoscope_read_pid(void *arg, uint64_t addr, void *buf, size_t len);

/* ---- mapped ELF files ------------------------------------------------------ */

/*
 * An executable or shared library as processes map it, for unwinding the
 * frames outside the vDSO with the same rows and step.  Its CFI (.eh_frame,
 * else its .debug_frame) is compiled one row at a time, the first time an
 * address is asked for, and kept per address with the address's function:
 * (.symtab, else the debug file's found by build-id, and .dynsym).  The
 * .eh_frame and .debug_frame sections are checked whole at open as an
 * image's are; when they fail, every step returns the reason
 * (-VDSOSCOPE_E_BAD_CFI) and names still work.  An object may be used from
 * several threads.
 */
struct vdsoscope_object;

/* Opens the ELF file PATH.  OPTS: debug_dirs (DIR/xx/rest.debug; default
 * /usr/lib/debug/.build-id) and VDSOSCOPE_OPEN_NO_DEBUG are used.
 * Errors: an errno value, -VDSOSCOPE_E_NOT_ELF, -VDSOSCOPE_E_BAD_MACHINE
 * (no register table for it), -VDSOSCOPE_E_BAD_PHDR. */
VDSOSCOPE_API int vdsoscope_object_open(struct vdsoscope_object **out, const char *path,
					const struct vdsoscope_open_opts *opts);
VDSOSCOPE_API void vdsoscope_object_close(struct vdsoscope_object *obj);
VDSOSCOPE_API const char *vdsoscope_object_path(const struct vdsoscope_object *obj);
/* NULL and *LEN 0 when the file has no build-id note. */
VDSOSCOPE_API const uint8_t *vdsoscope_object_build_id(const struct vdsoscope_object *obj,
						       size_t *len);
VDSOSCOPE_API const struct vdsoscope_arch *vdsoscope_object_arch(const struct vdsoscope_object *obj);
/* 1 when the file was built by the Go toolchain (it carries Go's build-id
 * note), else 0.  Go code keeps frame pointers on x86_64 and arm64 and
 * calls the vDSO on a stack of its own, where CFI cannot follow. */
VDSOSCOPE_API int vdsoscope_object_is_go(const struct vdsoscope_object *obj);
/* The load bias (run-time minus link-time address) of a mapping of the file
 * at START from file offset PGOFF, from the PT_LOAD that holds PGOFF;
 * -VDSOSCOPE_E_NOT_FOUND when none does. */
VDSOSCOPE_API int vdsoscope_object_bias(const struct vdsoscope_object *obj, uint64_t start,
					uint64_t pgoff, uint64_t *bias);
/* The function symbol holding link-time address ADDR: its name and
 * link-time start.  -VDSOSCOPE_E_NOT_FOUND when none does. */
VDSOSCOPE_API int vdsoscope_object_func_at(struct vdsoscope_object *obj, uint64_t addr,
					   const char **name, uint64_t *start);
/* The functions inlined at link-time ADDR, innermost first (from the file's
 * or its debug file's .debug_info): up to MAX names into NAMES, living as
 * long as OBJ.  Returns how many there are (0 without DWARF). */
VDSOSCOPE_API int vdsoscope_object_inlined(struct vdsoscope_object *obj, uint64_t addr,
					   const char **names, unsigned int max);
/* Both in one look-up: the function symbol holding ADDR into *NAME and
 * *START (NULL and 0 when none; either may be NULL) and, when INLINED is
 * not NULL, the inlined functions as above.  Returns their number. */
VDSOSCOPE_API int vdsoscope_object_names(struct vdsoscope_object *obj, uint64_t addr,
					 const char **name, uint64_t *start,
					 const char **inlined, unsigned int max);
/* As vdsoscope_step(), for a frame whose IP is in OBJ mapped with BIAS.
 * Where the CFI makes the return address undefined (the outermost frame,
 * such as _start), it returns 0 with OUT->valid 0 and *FRAME_FLAGS
 * VDSOSCOPE_FRAME_OUTERMOST. */
VDSOSCOPE_API int vdsoscope_object_step(struct vdsoscope_object *obj, uint64_t bias,
					const struct vdsoscope_regs *in, unsigned int flags,
					vdsoscope_read_fn read, void *arg,
					struct vdsoscope_regs *out, unsigned int *frame_flags);
/* LEN bytes of the file as mapped with BIAS at runtime ADDR (file-backed
 * bytes of a PT_LOAD only); 0 or -VDSOSCOPE_E_MEMORY.  A vdsoscope_read_fn
 * for code and unwind tables when the process is gone. */
VDSOSCOPE_API int vdsoscope_object_read(const struct vdsoscope_object *obj, uint64_t bias,
					uint64_t addr, void *buf, size_t len);
/* The file's .eh_frame_hdr (PT_GNU_EH_FRAME) as mapped with BIAS;
 * -VDSOSCOPE_E_NOT_FOUND when it has none. */
VDSOSCOPE_API int vdsoscope_object_eh_frame_hdr(const struct vdsoscope_object *obj,
						uint64_t bias,
						struct vdsoscope_eh_frame_hdr *out);
/* Rows compiled so far. */
VDSOSCOPE_API size_t vdsoscope_object_row_count(const struct vdsoscope_object *obj);

/* ---- the build-id store ---------------------------------------------------- */

/*
 * A directory that keeps each vDSO image once, by build-id, with its debug
 * file when one is known.  Layout (BUILDID in lower-case hex, XX its first
 * two digits, REST the others):
 *
 *   DIR/BUILDID/vdso               the image's bytes as mapped, mode 0444
 *   DIR/BUILDID/vdso.debug         its debug file, when one was found; its
 *                                  mtime is one second older than vdso's
 *   DIR/.build-id/XX/REST          symlink to ../../BUILDID/vdso
 *   DIR/.build-id/XX/REST.debug    symlink to ../../BUILDID/vdso.debug, or to
 *                                  ../../BUILDID/vdso when the image is
 *                                  unstripped and no other debug file is known
 *
 * `debuginfod -F DIR` serves it (it indexes the regular files and skips the
 * symlinks; the executable query answers the newest file, which is always
 * the image), and DIR is a debug-file-directory for gdb and a debuginfo path
 * for libdwfl.  Files appear whole or not at all: each is written to an
 * unnamed file (O_TMPFILE), or a temporary one, in its directory and linked
 * to its name; an existing name is never replaced, so any number of
 * concurrent adds leave one copy.
 *
 * What "matches its build-id" means: a build-id is a hash the linker made
 * over the linked object, which cannot be recomputed from the mapped image.
 * So the store checks that a file parses as a vDSO image (ELF, program
 * headers, a dynamic symbol table, no PT_INTERP, no DT_NEEDED), that its own
 * build-id note equals the name it is stored under, and that a debug file's
 * note equals the image's.
 *
 * Every call taking DIR: NULL means $VDSOSCOPE_STORE when set and not empty,
 * else $XDG_CACHE_HOME/vdsoscope, else $HOME/.cache/vdsoscope.
 */

/* The store directory DIR stands for, into BUF (LEN bytes).  -ENOENT when
 * no default can be formed (no HOME), -ENAMETOOLONG when BUF is short. */
VDSOSCOPE_API int vdsoscope_store_dir(const char *dir, char *buf, size_t len);

/* Parses hex build-id HEX (2 to 128 hex digits, even count) into ID (SIZE
 * bytes); *LEN gets the number of bytes.  -VDSOSCOPE_E_INVALID naming what
 * is wrong. */
VDSOSCOPE_API int vdsoscope_build_id_parse(const char *hex, uint8_t *id, size_t size,
					   size_t *len);

#define VDSOSCOPE_STORE_IMAGE_ADDED   0x1u /* the image was written */
#define VDSOSCOPE_STORE_DEBUG_ADDED   0x2u /* the debug file was written */
#define VDSOSCOPE_STORE_IMAGE_DIFFERS 0x4u /* other bytes with this build-id
					      were stored already and kept */

/* Stores IMG's bytes and its debug file (vdsoscope_debug_file()), creating
 * DIR as needed.  *WHAT (may be NULL) gets VDSOSCOPE_STORE_* bits; 0 means
 * everything was there already.  Refused: an image without a build-id, or
 * one that is not a vDSO image (-VDSOSCOPE_E_INVALID). */
VDSOSCOPE_API int vdsoscope_store_add(const char *dir, const struct vdsoscope_image *img,
				      unsigned int *what);

/* Path of the stored image (DEBUG false) or debug file (DEBUG true) of hex
 * build-id HEX, into BUF.  -VDSOSCOPE_E_NOT_FOUND when it is not there. */
VDSOSCOPE_API int vdsoscope_store_path(const char *dir, const char *hex, bool debug,
				       char *buf, size_t len);

struct vdsoscope_store_entry {
	char build_id[129];  /* hex */
	uint64_t size;       /* bytes of the image */
	uint64_t debug_size; /* bytes of the debug file; 0 when none */
	int64_t mtime;       /* last add or lookup (seconds since the epoch) */
};

/* Every entry that has an image, newest first, into *ENTRIES (free() it)
 * and their number into *N.  A missing DIR is an empty store. */
VDSOSCOPE_API int vdsoscope_store_list(const char *dir, struct vdsoscope_store_entry **entries,
				       size_t *n);

/* Called once per problem found: PATH is the file, PROBLEM says what. */
typedef void (*vdsoscope_store_problem_fn)(void *arg, const char *path, const char *problem);

/* Checks every file of the store against the rules above: entry names,
 * images and debug files (parse, build-id), leftover temporary files, and
 * the .build-id links (present, pointing where they should, not dangling).
 * Returns the number of problems (0: all good) or a negative code. */
VDSOSCOPE_API int vdsoscope_store_verify(const char *dir, vdsoscope_store_problem_fn fn,
					 void *arg);

/* Keeps the KEEP entries used or added last and removes the others (links
 * first, then files), plus leftover temporary files older than an hour and
 * dangling .build-id links.  *REMOVED (may be NULL) gets the number of
 * entries removed. */
VDSOSCOPE_API int vdsoscope_store_gc(const char *dir, size_t keep, size_t *removed);

/* Library version as "MAJOR.MINOR.PATCH". */
VDSOSCOPE_API const char *vdsoscope_version(void);

#ifdef __cplusplus
}
#endif
#endif /* VDSOSCOPE_H */
