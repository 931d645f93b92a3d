/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VDSOSCOPE_INTERNAL_H
#define VDSOSCOPE_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <gelf.h>
#include "vdsoscope.h"
#include "vdso-elf.h"

#define VS_HIDDEN __attribute__((visibility("hidden")))

/* No vDSO is anywhere near this; anything larger is refused. */
#define VS_MAX_IMAGE (64u << 20)
/* Bounds for CFI work on untrusted input. */
#define VS_MAX_ROWS (1u << 20)
#define VS_MAX_EXPR_OPS 256
#define VS_EXPR_STACK 64
#define VS_EXPR_STEPS 1024

/* Sets this thread's message and returns -CODE. */
VS_HIDDEN int vs__err(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
VS_HIDDEN void vs__clear_err(void);

struct vs_op {
	uint8_t atom;
	uint64_t n1, n2;
};

struct vs_func {
	uint64_t start, end;  /* link-time */
	unsigned int flags;
	unsigned int nnames;
	uint32_t first;       /* index into names[] */
};

/* A rule the step must evaluate: one not met by passing a callee-saved
 * register through or setting SP to the CFA. */
/* at most this many rules are evaluated per row (registers past them are
 * unknown in the caller) */
#define VS_MAX_CRULES 128
#define VS_MAX_SPAN 256

struct vs_crule {
	uint16_t reg;
	uint8_t kind;
	uint16_t expr_len;
	uint32_t expr;
	int64_t off;          /* REGISTER: the register holding the value */
};

struct vs_row {
	uint64_t start, end, fde_start; /* link-time */
	struct vdsoscope_rule cfa;
	uint32_t regs;        /* index of nregs rules in rules[] */
	uint8_t ra;
	uint8_t signal, from_debug;
	uint8_t ncrules;      /* entries at crules[first_crule] */
	uint32_t first_crule;
	uint8_t synthesized;  /* from the instructions, not from CFI */
	uint8_t ra_signed;    /* aarch64: the return address carries a PAC */
	uint8_t outermost;    /* the CFI calls the return address undefined */
	uint8_t sp_cfa;       /* SP becomes the CFA */
	/* CFA = register + offset, every rule an 8-byte slot in the span, the
	 * image in host byte order: the step's short way */
	uint8_t fast;
	/* the return address is the PC's column and never signed (x86) */
	uint8_t plain_ra;
	/* the slots of the OFFSET rules: [CFA + span_lo, + span_len), at most
	 * VS_MAX_SPAN bytes; span_len 0 when they are farther apart */
	int32_t span_lo;
	uint32_t span_len;
	uint64_t pass[VDSOSCOPE_REG_WORDS]; /* registers that keep the callee's value */
};

struct vs_rawsym {
	const char *name;
	uint64_t value, size; /* link-time */
	unsigned char type, bind;
};

struct vs_line {
	uint64_t addr;        /* link-time */
	uint32_t file;        /* index into files[]; UINT32_MAX = end of sequence */
	int32_t line;
};

/* Parsed, immutable data of one image; shared by every handle with the same
 * bytes and debug settings. */
struct vs_data {
	struct vs_data *next; /* cache list */
	unsigned int refs;
	unsigned int cached;
	char *cache_key;      /* debug settings it was built with */

	unsigned char *bytes;
	size_t size;
	struct vs_elf elf;
	const struct vdsoscope_arch *arch;
	uint64_t link_base;
	uint64_t text_lo, text_hi; /* link-time */

	uint8_t build_id[64];
	size_t build_id_len;
	char build_id_hex[129];
	const char *soname;
	uint32_t linux_version;

	const char **versions;
	size_t nversions;

	struct vs_func *funcs;
	size_t nfuncs;
	struct vdsoscope_sym *names;
	size_t nnames;
	char **strs;          /* strings owned by this data */
	size_t nstrs;

	char *debug_path;
	int debug_by_content; /* matched by its bytes, not its build-id */
	struct vs_line *lines;
	size_t nlines;
	char **files;
	size_t nfiles;

	struct vs_row *rows;
	size_t nrows;
	struct vdsoscope_rule *rules;
	struct vs_crule *crules;
	/* row number + 1 for every byte of the image (0: no row), when the
	 * image is small enough: the step's lookup in one load */
	uint16_t *row_index;
	/* the architecture's callee-saved registers, when all are below 64:
	 * the step copies them in a loop of the same length every time */
	uint8_t saved[64];
	unsigned int nsaved;
	unsigned int nregs;
	struct vs_op *ops;
	size_t nops;
	uint64_t cfi_coverage;
	int cfi_error;        /* 0 or negative code from compiling CFI */
	char cfi_errmsg[256];
	int as_mapped;        /* VDSOSCOPE_OPEN_AS_MAPPED (with NO_DEBUG) */
	size_t cfi_dropped;   /* FDEs left out because libdw refused them */
	char cfi_dropmsg[256]; /* why, for the first of them */
	/* executable sections (link-time [lo, hi)), when section headers are
	 * known: the image's, else its debug file's */
	uint64_t (*exec)[2];
	size_t nexec;
	/* FDE ranges (link-time), sorted */
	uint64_t (*fdes)[2];
	size_t nfdes;

	/* symbols of a debug file's .symtab (or the image's own) */
	struct vs_rawsym *dbgsyms;
	size_t ndbgsyms, ndbgsyms_cap;
	/* the debug file, kept open for its .debug_frame, or NULL */
	void *debug_elf;      /* Elf * */
	unsigned char *debug_bytes;
	size_t debug_size;
	int debug_fd;
};

struct vdsoscope_image {
	struct vs_data *d;
	uint64_t load;
	uint64_t bias;        /* load - link_base (mod 2^64) */
	/* what the step reads first, copied from d: its chain of dependent
	 * loads one shorter */
	const struct vdsoscope_arch *arch;
	const uint16_t *row_index;
	const struct vs_row *rows;
	const struct vs_crule *crules;
	uint64_t link_base, size, addr_mask;
	uint64_t pc_mask;      /* addr_mask without arm's Thumb bit */
	unsigned int ip_reg;
	char source[4096 + 16];
};

/* x86_64's legacy vsyscall page, mapped at a fixed address in every 64-bit
 * process where the kernel allows it. */
#define VS_VSYSCALL_START 0xffffffffff600000ull
#define VS_VSYSCALL_END 0xffffffffff601000ull
static inline int vs__in_vsyscall(uint64_t addr)
{
	return addr >= VS_VSYSCALL_START && addr < VS_VSYSCALL_END;
}

/* image.c: D's architecture A (NULL: none) and what the step derives from it. */
VS_HIDDEN void vs__data_set_arch(struct vs_data *d, const struct vdsoscope_arch *a);
/* image.c: build or share parsed data for BYTES (ownership is taken). */
VS_HIDDEN int vs__image_create(struct vdsoscope_image **out, unsigned char *bytes,
			       size_t size, uint64_t load, int have_load,
			       const char *source,
			       const struct vdsoscope_open_opts *opts);
VS_HIDDEN int vs__check_opts(const struct vdsoscope_open_opts *opts);
/* Maps a vs_elf error number to a message about WHAT. */
VS_HIDDEN int vs__elf_err(int elf_rc, const char *what);

/* Field F of options O, or 0 when O is NULL or from a caller built before F
 * existed (O->sz does not reach it). */
#define VS_OPT(o, f)                                                           \
	((o) && (o)->sz >= offsetof(struct vdsoscope_open_opts, f) + sizeof((o)->f) \
		 ? (o)->f : 0)

/* image.c: a copy of the bytes of an open image with build-id ID (*BYTES
 * NULL when none); -ENOMEM. */
VS_HIDDEN int vs__cache_copy(const uint8_t *id, size_t len, unsigned char **bytes, size_t *size);

/* store.c */
/* Reads the regular file PATH of at most MAX bytes (malloc'ed). */
VS_HIDDEN int vs__read_file(const char *path, size_t max, unsigned char **bytes, size_t *size);
/* 0 when IMG is something the kernel maps as a vDSO and has a build-id;
 * else an error naming WHAT. */
VS_HIDDEN int vs__check_vdso(const struct vdsoscope_image *img, const char *what);

/* symbols.c */
VS_HIDDEN int vs__symbols_build(struct vs_data *d, const char *source);
VS_HIDDEN char *vs__strdup(struct vs_data *d, const char *s);

/* debug.c */
VS_HIDDEN int vs__debug_find(struct vs_data *d, const struct vdsoscope_open_opts *opts);
VS_HIDDEN int vs__build_id_of_file(const char *path, uint8_t *id, size_t *len);
VS_HIDDEN void vs__debug_free(struct vs_data *d);
/* The first *.so or *.debug file directly in DIR whose build-id is ID:
 * 1 and its path (malloc'ed) in *FOUND, 0 when none, or -ENOMEM. */
VS_HIDDEN int vs__find_build_id_in_dir(const char *dir, const uint8_t *id, size_t len,
				       char **found);
/* 1 when ELF's (an Elf *) section headers agree with D's program headers */
VS_HIDDEN int vs__sections_sane(void *elf, const struct vs_data *d);
/* The section called WANT of ELF, and its header in *SH; NULL when none. */
VS_HIDDEN Elf_Scn *vs__find_section(Elf *elf, const char *want, GElf_Shdr *sh);
/* Calls FN(ARG, name, symbol) for each defined symbol (st_shndx not
 * SHN_UNDEF, a name) of ELF's section of TYPE (SHT_SYMTAB, SHT_DYNSYM), at
 * most MAX; a negative return of FN ends the walk and is returned.  A table
 * stored compressed is inflated first (ELF as for vs__section_inflate). */
VS_HIDDEN int vs__each_symbol(Elf *elf, Elf64_Word type, size_t max,
			      int (*fn)(void *arg, const char *name, const GElf_Sym *sym),
			      void *arg);
/* Records the executable sections of the image, or of its debug file. */
VS_HIDDEN int vs__exec_sections(struct vs_data *d);

/* section.c: compressed sections (SHF_COMPRESSED, .zdebug_*), inflated by
 * libelf in place.  Inflating rewrites the section's header, so ELF must be
 * from elf_begin() or elf_memory() over bytes of our own, never an image's.
 * BUDGET bounds the bytes inflated; a section claiming more, or more than
 * its compressed bytes can hold, is refused (-VDSOSCOPE_E_TOO_LARGE,
 * -VDSOSCOPE_E_TRUNCATED, message naming the section). */
#define VS_MAX_INFLATE (512u << 20)
/* 1 when SCN is stored compressed */
VS_HIDDEN int vs__section_compressed(Elf *elf, Elf_Scn *scn);
VS_HIDDEN int vs__elf_compressed(Elf *elf);
/* 0 once SCN is plain (already or now), charged to *BUDGET */
VS_HIDDEN int vs__section_inflate(Elf *elf, Elf_Scn *scn, uint64_t *budget);
/* Every compressed section of ELF, within BUDGET in all; a refused one is
 * made SHT_NOBITS, as if stripped.  The number refused (the first one's
 * message is this thread's), or a negative code. */
VS_HIDDEN int vs__elf_inflate(Elf *elf, uint64_t budget);
/* An Elf of the SIZE BYTES, which it never writes: over BYTES themselves
 * when nothing is compressed, else over a copy (*COPY, for the caller to
 * free after elf_end) inflated by vs__elf_inflate, whose return it passes
 * on. */
VS_HIDDEN int vs__elf_private(const unsigned char *bytes, size_t size, uint64_t budget,
			      Elf **out, unsigned char **copy);

/* cfi.c: rows from the CFI; then, once functions are known, rows for code
 * without CFI where an analyzer exists, and the step's form of all rows */
VS_HIDDEN int vs__cfi_compile(struct vs_data *d);
VS_HIDDEN int vs__cfi_finish(struct vs_data *d);

/* One row compiled on its own, for a mapped ELF file: immutable once made,
 * one allocation with its rules and expressions behind it. */
struct vs_chunk {
	struct vs_row row;
	struct vs_crule *crules;
	struct vs_op *ops;
};
/* The row of FRAME (a libdw frame; DEBUG: from .debug_frame) compiled into
 * *OUT with SCRATCH, whose arch, byte order and nregs say how; SCRATCH's
 * row arrays are reused between calls. */
VS_HIDDEN int vs__cfi_chunk(struct vs_data *scratch, void *frame, int debug,
			    struct vs_chunk **out);

/* eh-frame-hdr.c: the .eh_frame_hdr at E's bytes [OFF, OFF+SIZE), which a
 * process sees at ADDR. */
VS_HIDDEN int vs__eh_frame_hdr_parse(const struct vs_elf *e, uint64_t off, uint64_t size,
				     uint64_t addr, struct vdsoscope_eh_frame_hdr *out);

/* Checks every CIE and FDE of ELF's .eh_frame and .debug_frame sections
 * (SCRATCH: byte order, its elf.data the file's bytes) the way an image's
 * are checked before libdw runs them; *HAVE_EH and *HAVE_DBG say which
 * sections there are. */
VS_HIDDEN int vs__cfi_check_file(struct vs_data *scratch, void *elf, int *have_eh,
				 int *have_dbg);

/* step.c: one frame with ROW (rules at CRULES, expressions at OPS; D gives
 * the arch and byte order); PC is the frame's IP. */
VS_HIDDEN int vs__step_row(const struct vs_data *d, const struct vs_row *row,
			   const struct vs_crule *crules, const struct vs_op *ops, uint64_t bias,
			   uint64_t pc, unsigned int flags, const struct vdsoscope_regs *in,
			   vdsoscope_read_fn read,
			   void *arg, struct vdsoscope_regs *out, unsigned int *frame_flags);

/* A row computed from instructions: CFA = cfa_reg + cfa_off; the return
 * address is column RA; each of the NRULES rules says where register REG
 * is: saved at CFA + OFF (VDSOSCOPE_RULE_OFFSET) or held in register OFF
 * (VDSOSCOPE_RULE_REGISTER; REG == OFF: it keeps its value).  RA_SIGNED:
 * the return address carries a pointer authentication code here (aarch64,
 * after paciasp and before autiasp). */
#define VS_SYNTH_RULES 48
struct vs_synth_rule {
	uint16_t reg;
	uint8_t kind;
	int32_t off;
};
struct vs_synth {
	uint64_t start, end, func; /* link-time */
	uint16_t cfa_reg, ra;
	int32_t cfa_off;
	uint8_t ra_signed, nrules;
	uint8_t signal;            /* a signal trampoline: every register from memory */
	struct vs_synth_rule rules[VS_SYNTH_RULES];
};

/* arch-aarch64.c: the row of __kernel_rt_sigreturn when no CFI covers it
 * (1), else 0. */
VS_HIDDEN int vs__aarch64_sigreturn(const struct vs_data *d, struct vs_synth *out);

/* analyze-ARCH.c: rows for the functions at STARTS (link-time) that no FDE
 * covers, and for the callees they reach.  Rows of one function are in
 * address order and do not overlap. */
VS_HIDDEN int vs__analyze_i386(struct vs_data *d, const uint64_t *starts, size_t nstarts,
			       struct vs_synth **out, size_t *nout);
VS_HIDDEN int vs__analyze_aarch64(struct vs_data *d, const uint64_t *starts, size_t nstarts,
				  struct vs_synth **out, size_t *nout);
VS_HIDDEN int vs__analyze_arm(struct vs_data *d, const uint64_t *starts, size_t nstarts,
			      struct vs_synth **out, size_t *nout);

/* expr.c: evaluates OPS; INITIAL is pushed first when HAVE_INITIAL. */
VS_HIDDEN int vs__expr_eval(const struct vs_data *d, const struct vs_op *ops, size_t n,
			    const struct vdsoscope_regs *regs, uint64_t bias,
			    vdsoscope_read_fn read, void *arg,
			    int have_initial, uint64_t initial, uint64_t *result,
			    const char **why);
VS_HIDDEN int vs__expr_format(const struct vs_data *d, const struct vs_op *ops, size_t n,
			      char *buf, size_t len);

/* acquire.c */
VS_HIDDEN int vs__read_pid_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
/* Image size as mapped: loadable bytes and section headers, rounded to
 * PAGE.  0 when the header is unusable. */
VS_HIDDEN size_t vs__mapped_size(const void *hdr, size_t avail, size_t page);

#endif
