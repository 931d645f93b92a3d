/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded, freestanding reader of a vDSO's dynamic symbols; see vdso-elf.h. */
#include "vdso-elf.h"

#define PT_LOAD_ 1
#define PT_DYNAMIC_ 2
#define PT_NOTE_ 4
#define PT_GNU_EH_FRAME_ 0x6474e550u
#define PF_X_ 1

#define DT_NULL_ 0
#define DT_HASH_ 4
#define DT_STRTAB_ 5
#define DT_SYMTAB_ 6
#define DT_STRSZ_ 10
#define DT_SYMENT_ 11
#define DT_SONAME_ 14
#define DT_GNU_HASH_ 0x6ffffef5u
#define DT_VERSYM_ 0x6ffffff0u
#define DT_VERDEF_ 0x6ffffffcu
#define DT_VERDEFNUM_ 0x6ffffffdu

#define EM_S390_ 22
#define EM_ALPHA_ 0x9026

#define VER_FLG_BASE_ 1
#define MAX_VERDEFS 4096

/* No memset: a freestanding build has none.  P is a struct vs_elf, whose
 * size is a multiple of 8. */
static void zero(void *p, size_t n)
{
	volatile uint64_t *w = p;

	for (n /= 8; n--;)
		*w++ = 0;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

uint16_t vs_elf_u16(const struct vs_elf *e, uint64_t off)
{
	const unsigned char *p = e->data + off;
	return e->swap ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

uint32_t vs_elf_u32(const struct vs_elf *e, uint64_t off)
{
	const unsigned char *p = e->data + off;
	if (e->swap)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

uint64_t vs_elf_u64(const struct vs_elf *e, uint64_t off)
{
	uint64_t a = vs_elf_u32(e, off), b = vs_elf_u32(e, off + 4);
	return e->swap ? a << 32 | b : b << 32 | a;
}

uint64_t vs_elf_word(const struct vs_elf *e, uint64_t off)
{
	return e->is64 ? vs_elf_u64(e, off) : vs_elf_u32(e, off);
}

int vs_elf_phdr(const struct vs_elf *e, unsigned int idx, uint32_t *type,
		uint64_t *offset, uint64_t *vaddr, uint64_t *filesz,
		uint64_t *memsz, uint32_t *flags)
{
	uint64_t p;

	if (idx >= e->phnum)
		return VS_ELF_E_BAD_PHDR;
	p = e->phoff + (uint64_t)idx * e->phentsize;
	*type = vs_elf_u32(e, p);
	if (e->is64) {
		*flags = vs_elf_u32(e, p + 4);
		*offset = vs_elf_u64(e, p + 8);
		*vaddr = vs_elf_u64(e, p + 16);
		*filesz = vs_elf_u64(e, p + 32);
		*memsz = vs_elf_u64(e, p + 40);
	} else {
		*offset = vs_elf_u32(e, p + 4);
		*vaddr = vs_elf_u32(e, p + 8);
		*filesz = vs_elf_u32(e, p + 16);
		*memsz = vs_elf_u32(e, p + 20);
		*flags = vs_elf_u32(e, p + 24);
	}
	return 0;
}

int vs_elf_addr_to_off(const struct vs_elf *e, uint64_t addr, uint64_t len,
		       uint64_t *off)
{
	unsigned int i;

	for (i = 0; i < e->phnum; i++) {
		uint32_t type, flags;
		uint64_t o, v, fs, ms;

		vs_elf_phdr(e, i, &type, &o, &v, &fs, &ms, &flags);
		if (type != PT_LOAD_ || addr < v || addr - v > fs || len > fs - (addr - v))
			continue;
		if (!vs_elf_in(e, o + (addr - v), len))
			return VS_ELF_E_TRUNCATED;
		*off = o + (addr - v);
		return 0;
	}
	return VS_ELF_E_BAD_DYNAMIC;
}

const char *vs_elf_str(const struct vs_elf *e, uint64_t off)
{
	uint64_t i;

	if (!e->strtab || off >= e->strsz)
		return 0;
	for (i = off; i < e->strsz; i++)
		if (e->data[e->strtab + i] == 0)
			return (const char *)e->data + e->strtab + off;
	return 0;
}

static int parse_header(struct vs_elf *e)
{
	const unsigned char *d = e->data;
	int big;

	if (e->size < 16 || d[0] != 0x7f || d[1] != 'E' || d[2] != 'L' || d[3] != 'F')
		return VS_ELF_E_NOT_ELF;
	if ((d[4] != 1 && d[4] != 2) || (d[5] != 1 && d[5] != 2))
		return VS_ELF_E_BAD_CLASS;
	e->is64 = d[4] == 2;
	big = d[5] == 2;
	{
		const uint16_t one = 1;
		int host_big = *(const unsigned char *)&one == 0;
		e->swap = big != host_big;
	}
	if (e->size < (e->is64 ? 64u : 52u))
		return VS_ELF_E_TRUNCATED;
	e->machine = vs_elf_u16(e, 18);
	if (e->is64) {
		e->phoff = vs_elf_u64(e, 32);
		e->shoff = vs_elf_u64(e, 40);
		e->phentsize = vs_elf_u16(e, 54);
		e->phnum = vs_elf_u16(e, 56);
		e->shentsize = vs_elf_u16(e, 58);
		e->shnum = vs_elf_u16(e, 60);
		e->shstrndx = vs_elf_u16(e, 62);
	} else {
		e->phoff = vs_elf_u32(e, 28);
		e->shoff = vs_elf_u32(e, 32);
		e->phentsize = vs_elf_u16(e, 42);
		e->phnum = vs_elf_u16(e, 44);
		e->shentsize = vs_elf_u16(e, 46);
		e->shnum = vs_elf_u16(e, 48);
		e->shstrndx = vs_elf_u16(e, 50);
	}
	if (e->phnum == 0 || e->phnum > VS_ELF_MAX_PHDRS ||
	    e->phentsize < (e->is64 ? 56u : 32u))
		return VS_ELF_E_BAD_PHDR;
	if (!vs_elf_in(e, e->phoff, (uint64_t)e->phnum * e->phentsize))
		return VS_ELF_E_TRUNCATED;
	return 0;
}

static int parse_phdrs(struct vs_elf *e)
{
	unsigned int i, nload = 0;

	e->text_lo = ~(uint64_t)0;
	for (i = 0; i < e->phnum; i++) {
		uint32_t type, flags;
		uint64_t o, v, fs, ms;

		vs_elf_phdr(e, i, &type, &o, &v, &fs, &ms, &flags);
		if (type == PT_LOAD_) {
			if (fs > ms || o + fs < o || v + ms < v)
				return VS_ELF_E_BAD_PHDR;
			if (!vs_elf_in(e, o, fs))
				return VS_ELF_E_TRUNCATED;
			if (nload++ == 0) {
				if (v < o)
					return VS_ELF_E_BAD_PHDR;
				e->link_base = v - o;
			}
			if (o + fs > e->load_end)
				e->load_end = o + fs;
			if (flags & PF_X_) {
				if (v < e->text_lo)
					e->text_lo = v;
				if (v + fs > e->text_hi)
					e->text_hi = v + fs;
			}
		} else if (type == PT_DYNAMIC_ || type == PT_NOTE_ ||
			   type == PT_GNU_EH_FRAME_) {
			if (!vs_elf_in(e, o, fs))
				return VS_ELF_E_TRUNCATED;
			if (type == PT_DYNAMIC_) {
				e->dynamic = o;
				e->dynamic_size = fs;
			} else if (type == PT_NOTE_) {
				if (e->nnotes < 4) {
					e->note_off[e->nnotes] = o;
					e->note_size[e->nnotes] = fs;
					e->nnotes++;
				}
			} else {
				e->eh_frame_hdr = o;
				e->eh_frame_hdr_size = fs;
			}
		}
	}
	if (nload == 0)
		return VS_ELF_E_BAD_PHDR;
	if (e->text_lo == ~(uint64_t)0)
		e->text_lo = e->text_hi = 0;
	return 0;
}

/* Number of symbols covered by a DT_GNU_HASH table. */
static int gnu_hash_nsyms(struct vs_elf *e, uint32_t *nsyms)
{
	uint64_t h = e->gnu_hash, buckets, chains;
	uint32_t nbuckets, symoff, bloom, i, max = 0;

	if (!vs_elf_in(e, h, 16))
		return VS_ELF_E_BAD_HASH;
	nbuckets = vs_elf_u32(e, h);
	symoff = vs_elf_u32(e, h + 4);
	bloom = vs_elf_u32(e, h + 8);
	buckets = h + 16 + (uint64_t)bloom * (e->is64 ? 8 : 4);
	if (nbuckets == 0 || !vs_elf_in(e, buckets, (uint64_t)nbuckets * 4))
		return VS_ELF_E_BAD_HASH;
	chains = buckets + (uint64_t)nbuckets * 4;
	for (i = 0; i < nbuckets; i++) {
		uint32_t b = vs_elf_u32(e, buckets + 4ull * i);
		if (b > max)
			max = b;
	}
	if (max == 0) {
		*nsyms = symoff;
		return 0;
	}
	if (max < symoff)
		return VS_ELF_E_BAD_HASH;
	for (;;) {
		uint64_t c = chains + 4ull * (max - symoff);
		if (!vs_elf_in(e, c, 4))
			return VS_ELF_E_BAD_HASH;
		if (vs_elf_u32(e, c) & 1)
			break;
		if (++max == 0)
			return VS_ELF_E_BAD_HASH;
	}
	*nsyms = max + 1;
	return 0;
}

static int parse_dynamic(struct vs_elf *e)
{
	uint64_t entsz = e->is64 ? 16 : 8, off, n;
	uint64_t strtab = 0, symtab = 0, hash = 0, gnu = 0, versym = 0, verdef = 0;
	int have_strtab = 0, have_symtab = 0;
	int rc;

	e->soname = ~(uint64_t)0;
	e->syment = e->is64 ? 24 : 16;
	if (!e->dynamic)
		return 0;
	for (n = 0, off = e->dynamic; off + entsz <= e->dynamic + e->dynamic_size;
	     off += entsz, n++) {
		uint64_t tag = vs_elf_word(e, off);
		uint64_t val = vs_elf_word(e, off + entsz / 2);

		if (tag == DT_NULL_)
			break;
		switch (tag) {
		case DT_STRTAB_: strtab = val; have_strtab = 1; break;
		case DT_SYMTAB_: symtab = val; have_symtab = 1; break;
		case DT_STRSZ_: e->strsz = val; break;
		case DT_SYMENT_: e->syment = val; break;
		case DT_SONAME_: e->soname = val; break;
		case DT_HASH_: hash = val; break;
		case DT_GNU_HASH_: gnu = val; break;
		case DT_VERSYM_: versym = val; break;
		case DT_VERDEF_: verdef = val; break;
		case DT_VERDEFNUM_: e->verdefnum = val; break;
		}
	}
	if (!have_strtab || !have_symtab)
		return 0;
	if (e->syment != (e->is64 ? 24u : 16u))
		return VS_ELF_E_BAD_DYNAMIC;
	if (vs_elf_addr_to_off(e, strtab, e->strsz, &e->strtab))
		return VS_ELF_E_BAD_DYNAMIC;
	if (e->strsz == 0)
		return VS_ELF_E_BAD_DYNAMIC;
	if (vs_elf_addr_to_off(e, symtab, e->syment, &e->symtab))
		return VS_ELF_E_BAD_DYNAMIC;
	e->hash_entsize = (e->is64 && (e->machine == EM_S390_ || e->machine == EM_ALPHA_)) ? 8 : 4;
	if (hash && vs_elf_addr_to_off(e, hash, 2ull * e->hash_entsize, &e->hash))
		return VS_ELF_E_BAD_HASH;
	if (gnu && vs_elf_addr_to_off(e, gnu, 16, &e->gnu_hash))
		return VS_ELF_E_BAD_HASH;
	if (e->hash) {
		uint64_t nb = e->hash_entsize == 8 ? vs_elf_u64(e, e->hash) : vs_elf_u32(e, e->hash);
		uint64_t nc = e->hash_entsize == 8 ? vs_elf_u64(e, e->hash + 8)
						   : vs_elf_u32(e, e->hash + 4);
		if (nb == 0 || nb > e->size || nc > e->size ||
		    !vs_elf_in(e, e->hash, (2 + nb + nc) * e->hash_entsize))
			return VS_ELF_E_BAD_HASH;
		e->nsyms = (uint32_t)nc;
	} else if (e->gnu_hash) {
		if ((rc = gnu_hash_nsyms(e, &e->nsyms)))
			return rc;
	} else {
		return VS_ELF_E_BAD_HASH;
	}
	if (!vs_elf_in(e, e->symtab, (uint64_t)e->nsyms * e->syment))
		return VS_ELF_E_BAD_SYMBOL;
	if (versym && vs_elf_addr_to_off(e, versym, 2ull * e->nsyms, &e->versym))
		return VS_ELF_E_BAD_VERSION;
	if (verdef && vs_elf_addr_to_off(e, verdef, 20, &e->verdef))
		return VS_ELF_E_BAD_VERSION;
	(void)n;
	return 0;
}

int vs_elf_parse(struct vs_elf *e, const void *data, size_t size)
{
	int rc;

	zero(e, sizeof(*e));
	e->data = data;
	e->size = size;
	if ((rc = parse_header(e)) || (rc = parse_phdrs(e)) || (rc = parse_dynamic(e)))
		return rc;
	return 0;
}

int vs_elf_sym(const struct vs_elf *e, uint32_t idx, struct vs_elf_sym *out)
{
	uint64_t p = e->symtab + (uint64_t)idx * e->syment;
	uint32_t name;
	unsigned char info;

	if (idx >= e->nsyms)
		return VS_ELF_E_BAD_SYMBOL;
	name = vs_elf_u32(e, p);
	if (e->is64) {
		info = e->data[p + 4];
		out->other = e->data[p + 5];
		out->shndx = vs_elf_u16(e, p + 6);
		out->value = vs_elf_u64(e, p + 8);
		out->size = vs_elf_u64(e, p + 16);
	} else {
		out->value = vs_elf_u32(e, p + 4);
		out->size = vs_elf_u32(e, p + 8);
		info = e->data[p + 12];
		out->other = e->data[p + 13];
		out->shndx = vs_elf_u16(e, p + 14);
	}
	out->type = info & 0xf;
	out->bind = info >> 4;
	out->name = vs_elf_str(e, name);
	if (!out->name)
		return VS_ELF_E_BAD_SYMBOL;
	out->version = 0;
	out->hidden = 0;
	if (e->versym) {
		uint16_t v = vs_elf_u16(e, e->versym + 2ull * idx);
		out->version = v & 0x7fff;
		out->hidden = (v & 0x8000) != 0;
	}
	return 0;
}

/* Walks the verdef chain; calls back through the index N (table order). */
static int verdef_at(const struct vs_elf *e, unsigned int n, unsigned int *ndx,
		     unsigned int *flags, const char **name)
{
	uint64_t off = e->verdef;
	unsigned int i, limit = e->verdefnum ? (unsigned int)(e->verdefnum < MAX_VERDEFS ? e->verdefnum : MAX_VERDEFS) : MAX_VERDEFS;

	if (!e->verdef)
		return VS_ELF_E_NOT_FOUND;
	for (i = 0; i < limit; i++) {
		uint32_t aux, next;

		if (!vs_elf_in(e, off, 20) || vs_elf_u16(e, off) != 1)
			return VS_ELF_E_BAD_VERSION;
		if (i == n) {
			*flags = vs_elf_u16(e, off + 2);
			*ndx = vs_elf_u16(e, off + 4);
			aux = vs_elf_u32(e, off + 12);
			if (vs_elf_u16(e, off + 6) == 0) {
				*name = "";
				return 0;
			}
			if (!vs_elf_in(e, off + aux, 8))
				return VS_ELF_E_BAD_VERSION;
			*name = vs_elf_str(e, vs_elf_u32(e, off + aux));
			return *name ? 0 : VS_ELF_E_BAD_VERSION;
		}
		next = vs_elf_u32(e, off + 16);
		if (next == 0)
			return VS_ELF_E_NOT_FOUND;
		off += next;
	}
	return i == MAX_VERDEFS ? VS_ELF_E_BAD_VERSION : VS_ELF_E_NOT_FOUND;
}

const char *vs_elf_verdef(const struct vs_elf *e, unsigned int n,
			  unsigned int *ndx, unsigned int *flags)
{
	const char *name;

	if (verdef_at(e, n, ndx, flags, &name))
		return 0;
	return name;
}

const char *vs_elf_version_name(const struct vs_elf *e, unsigned int ndx)
{
	unsigned int i, d, f;
	const char *name;

	for (i = 0; i < MAX_VERDEFS; i++) {
		if (verdef_at(e, i, &d, &f, &name))
			return 0;
		if (d == ndx)
			return name;
	}
	return 0;
}

static uint32_t elf_hash(const char *s)
{
	uint32_t h = 0, g;

	while (*s) {
		h = (h << 4) + (unsigned char)*s++;
		g = h & 0xf0000000u;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* 1 when IDX is a defined symbol called NAME with acceptable VERSION; sets
 * *exact when its version is the default one. */
static int match(const struct vs_elf *e, uint32_t idx, const char *name,
		 const char *version, struct vs_elf_sym *s)
{
	if (vs_elf_sym(e, idx, s) || !streq(s->name, name))
		return 0;
	if (s->shndx == 0 || (s->type != 0 && s->type != 1 && s->type != 2 && s->type != 10))
		return 0;
	if (s->bind != 1 && s->bind != 2 && s->bind != 10)
		return 0;
	if (version) {
		const char *v = s->version ? vs_elf_version_name(e, s->version) : 0;
		if (!v || !streq(v, version))
			return 0;
	}
	return 1;
}

int vs_elf_lookup(const struct vs_elf *e, const char *name, const char *version,
		  struct vs_elf_sym *out)
{
	struct vs_elf_sym s;
	int found = 0;

	if (!e->symtab)
		return VS_ELF_E_NOT_FOUND;
	if (e->gnu_hash) {
		uint64_t h = e->gnu_hash, buckets, chains, bloomw;
		uint32_t nb = vs_elf_u32(e, h), symoff = vs_elf_u32(e, h + 4);
		uint32_t bloom = vs_elf_u32(e, h + 8), shift = vs_elf_u32(e, h + 12);
		uint32_t hv = gnu_hash(name), i;
		unsigned int bits = e->is64 ? 64 : 32;

		buckets = h + 16 + (uint64_t)bloom * (bits / 8);
		if (nb == 0 || bloom == 0 || !vs_elf_in(e, buckets, 4ull * nb))
			return VS_ELF_E_BAD_HASH;
		chains = buckets + 4ull * nb;
		bloomw = vs_elf_word(e, h + 16 + (uint64_t)((hv / bits) % bloom) * (bits / 8));
		if (!((bloomw >> (hv % bits)) & (bloomw >> ((hv >> (shift & 31)) % bits)) & 1))
			return VS_ELF_E_NOT_FOUND;
		i = vs_elf_u32(e, buckets + 4ull * (hv % nb));
		if (i == 0)
			return VS_ELF_E_NOT_FOUND;
		if (i < symoff)
			return VS_ELF_E_BAD_HASH;
		for (; i < e->nsyms; i++) {
			uint64_t c = chains + 4ull * (i - symoff);
			uint32_t ch;

			if (!vs_elf_in(e, c, 4))
				return VS_ELF_E_BAD_HASH;
			ch = vs_elf_u32(e, c);
			if ((ch | 1) == (hv | 1) && match(e, i, name, version, &s)) {
				if (version || !s.hidden) {
					*out = s;
					return 0;
				}
				if (!found) {
					*out = s;
					found = 1;
				}
			}
			if (ch & 1)
				break;
		}
		return found ? 0 : VS_ELF_E_NOT_FOUND;
	}
	if (e->hash) {
		unsigned int w = e->hash_entsize;
		uint64_t nb = w == 8 ? vs_elf_u64(e, e->hash) : vs_elf_u32(e, e->hash);
		uint64_t nc = e->nsyms, i, steps;
		uint64_t bucket = e->hash + 2ull * w, chain = bucket + nb * w;
		uint32_t hv = elf_hash(name);

		i = w == 8 ? vs_elf_u64(e, bucket + (hv % nb) * 8) : vs_elf_u32(e, bucket + (hv % nb) * 4);
		for (steps = 0; i != 0 && steps < nc; steps++) {
			if (i >= nc)
				return VS_ELF_E_BAD_HASH;
			if (match(e, (uint32_t)i, name, version, &s)) {
				if (version || !s.hidden) {
					*out = s;
					return 0;
				}
				if (!found) {
					*out = s;
					found = 1;
				}
			}
			i = w == 8 ? vs_elf_u64(e, chain + i * 8) : vs_elf_u32(e, chain + i * 4);
		}
		if (i != 0 && !found)
			return VS_ELF_E_BAD_HASH; /* the chain loops */
		return found ? 0 : VS_ELF_E_NOT_FOUND;
	}
	return VS_ELF_E_NOT_FOUND;
}

int vs_elf_extent(const void *data, size_t avail, uint64_t *end)
{
	struct vs_elf e;
	uint64_t max = 0;
	unsigned int i;
	int rc;

	zero(&e, sizeof(e));
	e.data = data;
	e.size = avail;
	if ((rc = parse_header(&e)))
		return rc;
	for (i = 0; i < e.phnum; i++) {
		uint32_t type, flags;
		uint64_t o, v, fs, ms;

		vs_elf_phdr(&e, i, &type, &o, &v, &fs, &ms, &flags);
		if (type == PT_LOAD_ && o + fs >= o && o + fs > max)
			max = o + fs;
	}
	if (max == 0)
		return VS_ELF_E_BAD_PHDR;
	/* section headers count when they directly follow within a page or so
	 * of the loadable bytes, as in every vDSO */
	if (e.shoff && e.shnum && e.shoff >= max && e.shoff - max < 65536) {
		uint64_t sh_end = e.shoff + (uint64_t)e.shnum * e.shentsize;
		if (sh_end > max)
			max = sh_end;
	}
	*end = max;
	return 0;
}

/* ---- for runtimes: a symbol of this process's own vDSO ------------------- */

uintptr_t vs_auxv_sysinfo_ehdr(const uintptr_t *auxv)
{
	unsigned int i;

	/* AT_NULL ends the vector; a runaway one is cut off */
	for (i = 0; auxv && i < 2 * 512 && auxv[i] != 0; i += 2)
		if (auxv[i] == 33) /* AT_SYSINFO_EHDR */
			return auxv[i + 1];
	return 0;
}

int vs_vdso_open(struct vs_elf *e, uintptr_t ehdr)
{
	uint64_t end;
	int rc;

	if (!ehdr)
		return VS_ELF_E_NOT_FOUND;
	/* the vDSO is mapped in whole pages: its first page holds the
	 * headers, and the headers give the rest */
	rc = vs_elf_extent((const void *)ehdr, 4096, &end);
	if (rc)
		return rc;
	return vs_elf_parse(e, (const void *)ehdr, (size_t)end);
}

uintptr_t vs_vdso_sym(const struct vs_elf *e, const char *name, const char *version)
{
	struct vs_elf_sym s;

	if (!e->data || vs_elf_lookup(e, name, version, &s))
		return 0;
	return (uintptr_t)e->data + (uintptr_t)(s.value - e->link_base);
}
