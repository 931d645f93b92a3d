/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bounded reader of a vDSO's ELF header, program headers, dynamic segment,
 * hash tables, dynamic symbols and symbol versions.
 *
 * Freestanding: no allocation, no libc, no libelf; usable by a runtime that
 * has nothing but AT_SYSINFO_EHDR.  Every offset, count and size is checked
 * against the SIZE bytes given, so it also serves images read from cores and
 * other processes.  Both ELF classes and byte orders are handled; s390x's
 * 64-bit DT_HASH entries too.  The library's symbol code is built on it.
 */
#ifndef VDSO_ELF_H
#define VDSO_ELF_H

#include <stddef.h>
#include <stdint.h>

/*
 * For a runtime without libc (the whole lookup is this header and
 * vdso-elf.c; no allocation, no system call):
 *
 *	struct vs_elf vdso;
 *	int (*gettime)(long, struct timespec *) = 0;
 *
 *	if (!vs_vdso_open(&vdso, vs_auxv_sysinfo_ehdr(auxv)))
 *		gettime = (void *)vs_vdso_sym(&vdso, "__vdso_clock_gettime", "LINUX_2.6");
 *
 * Look symbols up once and keep the addresses: a lookup walks hash chains.
 * Versions: LINUX_2.6 (x86_64, i386 time functions), LINUX_2.5 (i386
 * __kernel_vsyscall), LINUX_2.6.39 (arm64).  The compiler may expect memset
 * and memcpy to exist, as for any freestanding C.
 */

/* Error numbers match VDSOSCOPE_E_* of <vdsoscope.h>. */
#define VS_ELF_E_NOT_ELF 4000
#define VS_ELF_E_BAD_CLASS 4001
#define VS_ELF_E_TRUNCATED 4003
#define VS_ELF_E_BAD_PHDR 4004
#define VS_ELF_E_BAD_DYNAMIC 4005
#define VS_ELF_E_BAD_HASH 4006
#define VS_ELF_E_BAD_SYMBOL 4007
#define VS_ELF_E_BAD_VERSION 4008
#define VS_ELF_E_NOT_FOUND 4018

#define VS_ELF_MAX_PHDRS 64

struct vs_elf {
	const unsigned char *data;
	size_t size;
	unsigned char is64, swap;
	uint16_t machine;
	uint16_t phnum, phentsize;
	uint64_t phoff;
	uint64_t shoff;
	uint16_t shnum, shentsize, shstrndx;

	/* Link-time address of file offset 0 (first PT_LOAD's p_vaddr -
	 * p_offset), and the extent of loadable bytes. */
	uint64_t link_base;
	uint64_t load_end;       /* max p_offset + p_filesz of PT_LOAD */
	uint64_t text_lo, text_hi; /* link-time range of executable PT_LOADs */

	/* File offsets, 0 when absent. */
	uint64_t dynamic, dynamic_size;
	uint64_t note, note_size[4], note_off[4];
	unsigned int nnotes;
	uint64_t eh_frame_hdr, eh_frame_hdr_size;

	uint64_t strtab, strsz;
	uint64_t symtab, syment;
	uint64_t hash, gnu_hash;
	uint64_t versym, verdef;
	uint64_t verdefnum;
	uint64_t soname;         /* offset into strtab, ~0 when absent */
	uint32_t nsyms;          /* number of dynamic symbols */
	unsigned int hash_entsize; /* 4, or 8 on s390x / alpha */
};

struct vs_elf_sym {
	const char *name;
	uint64_t value;          /* link-time */
	uint64_t size;
	unsigned char type, bind, other;
	uint16_t shndx;
	uint16_t version;        /* versym index without the hidden bit; 0 none */
	unsigned char hidden;    /* versym hidden bit */
};

/* Parses DATA[0..SIZE).  Returns 0 or a VS_ELF_E_* number (positive). */
int vs_elf_parse(struct vs_elf *e, const void *data, size_t size);

/* Dynamic symbol IDX (< e->nsyms).  Returns 0 or VS_ELF_E_*. */
int vs_elf_sym(const struct vs_elf *e, uint32_t idx, struct vs_elf_sym *out);

/* Name of version definition with index NDX ("" when it has none, NULL when
 * no such index or the tables are bad). */
const char *vs_elf_version_name(const struct vs_elf *e, unsigned int ndx);

/* Nth version definition (0-based, in table order) with its index and
 * flags; returns NULL past the end or on bad tables. */
const char *vs_elf_verdef(const struct vs_elf *e, unsigned int n,
			  unsigned int *ndx, unsigned int *flags);

/* Looks NAME (and VERSION unless NULL) up through DT_GNU_HASH, else
 * DT_HASH.  Only defined code and data symbols count.  With VERSION NULL the
 * default (non-hidden) version is preferred.  Returns 0 and the symbol in
 * *OUT, or VS_ELF_E_NOT_FOUND / another VS_ELF_E_*. */
int vs_elf_lookup(const struct vs_elf *e, const char *name, const char *version,
		  struct vs_elf_sym *out);

/* NUL-terminated string at OFF in the dynamic string table, or NULL. */
const char *vs_elf_str(const struct vs_elf *e, uint64_t off);

/* Converts a link-time address inside a PT_LOAD to a file offset.  Returns
 * 0 and *OFF, or VS_ELF_E_BAD_DYNAMIC when no PT_LOAD holds LEN bytes there. */
int vs_elf_addr_to_off(const struct vs_elf *e, uint64_t addr, uint64_t len,
		       uint64_t *off);

/* Program header IDX: type, offset, vaddr, filesz, memsz, flags. */
int vs_elf_phdr(const struct vs_elf *e, unsigned int idx, uint32_t *type,
		uint64_t *offset, uint64_t *vaddr, uint64_t *filesz,
		uint64_t *memsz, uint32_t *flags);

/* Integer readers honouring the image's byte order; callers check bounds. */
uint16_t vs_elf_u16(const struct vs_elf *e, uint64_t off);
uint32_t vs_elf_u32(const struct vs_elf *e, uint64_t off);
uint64_t vs_elf_u64(const struct vs_elf *e, uint64_t off);
/* An address-sized word (4 or 8 bytes by class). */
uint64_t vs_elf_word(const struct vs_elf *e, uint64_t off);

/* True when [OFF, OFF+LEN) lies inside the data. */
static inline int vs_elf_in(const struct vs_elf *e, uint64_t off, uint64_t len)
{
	return off <= e->size && len <= e->size - off;
}



/* AT_SYSINFO_EHDR from an auxiliary vector (type/value pairs ending with
 * AT_NULL), or 0. */
uintptr_t vs_auxv_sysinfo_ehdr(const uintptr_t *auxv);

/* Parses this process's vDSO at EHDR (mapped memory).  Returns 0 or VS_ELF_E_*. */
int vs_vdso_open(struct vs_elf *e, uintptr_t ehdr);

/* Callable address of NAME (at VERSION unless NULL) in the vDSO E opened with
 * vs_vdso_open(), or 0 when it has none.  Thumb addresses keep bit 0. */
uintptr_t vs_vdso_sym(const struct vs_elf *e, const char *name, const char *version);

/* Bytes an image occupies (loadable bytes and its section header table),
 * from the ELF and program headers alone, which must lie in the AVAIL bytes
 * at DATA.  Returns 0 or VS_ELF_E_*. */
int vs_elf_extent(const void *data, size_t avail, uint64_t *end);
#endif
