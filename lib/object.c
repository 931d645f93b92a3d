/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mapped ELF files (executables, shared libraries): the same rows and step
 * as an image's, but compiled one row at a time when an address is first
 * asked for, since such files hold thousands of FDEs of which a process's
 * stacks touch a few.  Each address keeps its row and its function. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include "internal.h"

/* Addresses remembered per file; past this a row is compiled, used once
 * and dropped. */
#define MAX_ENTRIES (1u << 16)
/* inlined functions kept per address */
#define MAX_INLINED 8

struct osym {
	uint64_t addr, size;  /* link-time */
	const char *name;
	int rank;             /* global, weak, local */
};

struct entry {
	uint64_t key;         /* link-time address + 1; 0: empty slot */
	struct vs_chunk *chunk;
	int err;              /* when no chunk: why (negative code) */
	const struct osym *sym;
	uint8_t ninl, inl_done;
	const char *inl[MAX_INLINED]; /* innermost first */
};

struct vdsoscope_object {
	pthread_mutex_t lock;
	char *path;
	int fd, debug_fd;
	Elf *elf, *debug_elf;
	Dwarf *dwarf;
	Dwarf_CFI *eh, *dbg;
	Dwarf *info;          /* .debug_info (the file's or its debug file's), opened on first use */
	int info_tried;
	struct vs_data scratch; /* arch, byte order and nregs for rows and steps */
	uint8_t build_id[64];
	size_t build_id_len;
	uint64_t (*loads)[3]; /* PT_LOAD: vaddr, offset, filesz */
	size_t nloads;
	uint64_t ehf[3];      /* PT_GNU_EH_FRAME: vaddr, offset, filesz; or 0 */
	struct vs_elf raw;    /* the file's bytes, for reads and the header */
	struct osym *syms;
	size_t nsyms;
	char **owned;         /* names copied without their @VERSION */
	size_t nowned;
	int is_go;            /* built by the Go toolchain (its build-id note) */
	int cfi_err;          /* the CFI failed its checks: every step says so */
	char cfi_msg[320];
	struct entry *tab;
	size_t nentries, cap; /* cap: a power of two */
	size_t rows;
};

static int sym_cmp(const void *a, const void *b)
{
	const struct osym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->rank - y->rank;
}

/* FUNC symbols with a size; names without their @VERSION. */
static int keep_sym(void *arg, const char *name, const GElf_Sym *s)
{
	struct vdsoscope_object *o = arg;
	struct osym *v;
	size_t at;

	/* sizeless functions are hand-written code such as signal trampolines
	 * (__restore_rt): they name their first byte only */
	if (GELF_ST_TYPE(s->st_info) != STT_FUNC || !*name || s->st_shndx == SHN_UNDEF)
		return 0;
	if (o->nsyms % 1024 == 0) {
		v = realloc(o->syms, (o->nsyms + 1024) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		o->syms = v;
	}
	v = &o->syms[o->nsyms];
	v->addr = s->st_value;
	if (o->scratch.elf.machine == EM_ARM)
		v->addr &= ~1ull; /* Thumb code */
	v->size = s->st_size;
	v->rank = GELF_ST_BIND(s->st_info) == STB_GLOBAL ? 0 :
		  GELF_ST_BIND(s->st_info) == STB_WEAK ? 1 : 2;
	v->name = name;
	/* "memcpy@GLIBC_2.2.5" in .symtab: the name alone */
	if ((at = strcspn(name, "@")) && name[at]) {
		char **ov;
		if (o->nowned % 64 == 0) {
			ov = realloc(o->owned, (o->nowned + 64) * sizeof(*ov));
			if (!ov)
				return -ENOMEM;
			o->owned = ov;
		}
		if (!(o->owned[o->nowned] = strndup(name, at)))
			return -ENOMEM;
		v->name = o->owned[o->nowned++];
	}
	o->nsyms++;
	return 0;
}

static int load_syms(struct vdsoscope_object *o, Elf *elf, Elf64_Word type)
{
	return vs__each_symbol(elf, type, SIZE_MAX, keep_sym, o);
}

static int has_section(Elf *elf, Elf64_Word type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return 1;
	return 0;
}

/* DIR/xx/rest.debug for the object's build-id, in the option's directories
 * or /usr/lib/debug/.build-id. */
static void open_debug(struct vdsoscope_object *o, const struct vdsoscope_open_opts *opts)
{
	static const char *const dflt[] = { "/usr/lib/debug/.build-id", NULL };
	const char *const *dirs = VS_OPT(opts, debug_dirs) ? opts->debug_dirs : dflt;
	char hex[129], path[4096 + 160];
	size_t i;

	if (o->build_id_len < 2 || (VS_OPT(opts, flags) & VDSOSCOPE_OPEN_NO_DEBUG))
		return;
	for (i = 0; i < o->build_id_len; i++)
		sprintf(hex + 2 * i, "%02x", o->build_id[i]);
	for (; *dirs; dirs++) {
		const void *id;
		Elf *e;
		int fd;

		if (strlen(*dirs) > 4096)
			continue;
		snprintf(path, sizeof(path), "%s/%.2s/%s.debug", *dirs, hex, hex + 2);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		if (e && dwelf_elf_gnu_build_id(e, &id) == (ssize_t)o->build_id_len &&
		    !memcmp(id, o->build_id, o->build_id_len)) {
			o->debug_fd = fd;
			o->debug_elf = e;
			return;
		}
		if (e)
			elf_end(e);
		close(fd);
	}
}

/* Go's linker writes the owner as "Go" padded with NULs to 4 bytes */
static int is_go_note(const GElf_Nhdr *nh, const char *name)
{
	return nh->n_type == 4 && (nh->n_namesz == 3 || nh->n_namesz == 4) &&
	       !memcmp(name, "Go", 3);
}

/* The Go toolchain's build-id note: owner "Go", type 4, in a note section
 * or, for a file without section headers, a PT_NOTE segment. */
static int has_go_note(Elf *elf)
{
	Elf_Scn *scn = NULL;
	Elf_Data *d;
	GElf_Shdr sh;
	GElf_Nhdr nh;
	size_t off, noff, doff, nph, i;
	int sections = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		sections = 1;
		if (!(d = elf_getdata(scn, NULL)))
			continue;
		for (off = 0; (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0;)
			if (is_go_note(&nh, (const char *)d->d_buf + noff))
				return 1;
	}
	if (sections || elf_getphdrnum(elf, &nph))
		return 0;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE ||
		    !(d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_NHDR)))
			continue;
		for (off = 0; (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0;)
			if (is_go_note(&nh, (const char *)d->d_buf + noff))
				return 1;
	}
	return 0;
}

int vdsoscope_object_is_go(const struct vdsoscope_object *o)
{
	return o->is_go;
}

static int read_loads(struct vdsoscope_object *o)
{
	size_t n, i;

	if (elf_getphdrnum(o->elf, &n))
		return vs__err(VDSOSCOPE_E_BAD_PHDR, "%s: %s", o->path, elf_errmsg(-1));
	if (!(o->loads = calloc(n ? n : 1, sizeof(*o->loads))))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(o->elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_GNU_EH_FRAME) {
			o->ehf[0] = ph.p_vaddr;
			o->ehf[1] = ph.p_offset;
			o->ehf[2] = ph.p_filesz;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		o->loads[o->nloads][0] = ph.p_vaddr;
		o->loads[o->nloads][1] = ph.p_offset;
		o->loads[o->nloads][2] = ph.p_filesz;
		o->nloads++;
	}
	return 0;
}

int vdsoscope_object_open(struct vdsoscope_object **out, const char *path,
			  const struct vdsoscope_open_opts *opts)
{
	struct vdsoscope_object *o;
	GElf_Ehdr eh;
	const void *id;
	ssize_t idlen;
	struct stat st;
	int rc, have_eh, have_dbg;

	if (!out || !path)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_object_open");
	*out = NULL;
	if ((rc = vs__check_opts(opts)))
		return rc;
	if (!(o = calloc(1, sizeof(*o))))
		return -ENOMEM;
	pthread_mutex_init(&o->lock, NULL);
	o->fd = o->debug_fd = -1;
	if (!(o->path = strdup(path))) {
		rc = -ENOMEM;
		goto fail;
	}
	/* O_NONBLOCK: a FIFO named by a record file must not hang the open */
	if ((o->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		rc = vs__err(errno, "file %s", path);
		goto fail;
	}
	if (fstat(o->fd, &st) || !S_ISREG(st.st_mode)) {
		rc = vs__err(VDSOSCOPE_E_INVALID, "file %s: not a regular file", path);
		goto fail;
	}
	elf_version(EV_CURRENT);
	o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF || !gelf_getehdr(o->elf, &eh)) {
		rc = vs__err(VDSOSCOPE_E_NOT_ELF, "file %s", path);
		goto fail;
	}
	vs__data_set_arch(&o->scratch,
			  vdsoscope_arch_by_machine(eh.e_machine,
						    eh.e_ident[EI_CLASS] == ELFCLASS64 ? 64 : 32));
	if (!o->scratch.arch) {
		rc = vs__err(VDSOSCOPE_E_BAD_MACHINE, "file %s: machine %u, class %u", path,
			     eh.e_machine, eh.e_ident[EI_CLASS]);
		goto fail;
	}
	o->scratch.nregs = o->scratch.arch->nregs;
	o->scratch.elf.is64 = eh.e_ident[EI_CLASS] == ELFCLASS64;
	o->scratch.elf.swap = (eh.e_ident[EI_DATA] == ELFDATA2MSB) !=
			      (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
	o->scratch.elf.machine = eh.e_machine;
	o->raw = o->scratch.elf;
	o->raw.data = (const unsigned char *)elf_rawfile(o->elf, &o->raw.size);
	if (!o->raw.data)
		o->raw.size = 0;
	o->scratch.elf.data = o->raw.data;
	o->scratch.elf.size = o->raw.size;
	if ((idlen = dwelf_elf_gnu_build_id(o->elf, &id)) > 0 &&
	    (size_t)idlen <= sizeof(o->build_id)) {
		memcpy(o->build_id, id, (size_t)idlen);
		o->build_id_len = (size_t)idlen;
	}
	o->is_go = has_go_note(o->elf);
	if ((rc = read_loads(o)))
		goto fail;
	/* libdw runs a file's CFI only once all of it passed the checks an
	 * image's get (register numbers, nesting) */
	o->cfi_err = vs__cfi_check_file(&o->scratch, o->elf, &have_eh, &have_dbg);
	if (o->cfi_err) {
		snprintf(o->cfi_msg, sizeof(o->cfi_msg), "%s: %s", path, vdsoscope_errmsg());
	} else {
		if (have_eh)
			o->eh = dwarf_getcfi_elf(o->elf);
		if (have_dbg && vs__elf_inflate(o->elf, VS_MAX_INFLATE) >= 0 &&
		    (o->dwarf = dwarf_begin_elf(o->elf, DWARF_C_READ, NULL)))
			o->dbg = dwarf_getcfi(o->dwarf);
	}
	if (has_section(o->elf, SHT_SYMTAB)) {
		rc = load_syms(o, o->elf, SHT_SYMTAB);
	} else {
		open_debug(o, opts);
		rc = o->debug_elf ? load_syms(o, o->debug_elf, SHT_SYMTAB) : 0;
		if (!rc)
			rc = load_syms(o, o->elf, SHT_DYNSYM);
	}
	if (rc)
		goto fail;
	if (o->nsyms > 1)
		qsort(o->syms, o->nsyms, sizeof(*o->syms), sym_cmp);
	*out = o;
	return 0;
fail:
	vdsoscope_object_close(o);
	return rc;
}

void vdsoscope_object_close(struct vdsoscope_object *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->cap; i++)
		free(o->tab[i].chunk);
	free(o->tab);
	for (i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	free(o->owned);
	free(o->syms);
	free(o->loads);
	if (o->eh)
		dwarf_cfi_end(o->eh);
	if (o->dwarf)
		dwarf_end(o->dwarf);
	if (o->info)
		dwarf_end(o->info);
	if (o->debug_elf)
		elf_end(o->debug_elf);
	if (o->elf)
		elf_end(o->elf);
	if (o->debug_fd >= 0)
		close(o->debug_fd);
	if (o->fd >= 0)
		close(o->fd);
	pthread_mutex_destroy(&o->lock);
	free(o->path);
	free(o);
}

const uint8_t *vdsoscope_object_build_id(const struct vdsoscope_object *o, size_t *len)
{
	if (len)
		*len = o->build_id_len;
	return o->build_id_len ? o->build_id : NULL;
}

const struct vdsoscope_arch *vdsoscope_object_arch(const struct vdsoscope_object *o)
{
	return o->scratch.arch;
}

const char *vdsoscope_object_path(const struct vdsoscope_object *o)
{
	return o->path;
}

int vdsoscope_object_bias(const struct vdsoscope_object *o, uint64_t start, uint64_t pgoff,
			  uint64_t *bias)
{
	size_t i;

	for (i = 0; i < o->nloads; i++) {
		uint64_t vaddr = o->loads[i][0], off = o->loads[i][1], filesz = o->loads[i][2];

		if (pgoff >= (off & ~(uint64_t)0xfff) && pgoff < off + filesz) {
			*bias = start - (vaddr - off + pgoff);
			return 0;
		}
	}
	return vs__err(VDSOSCOPE_E_NOT_FOUND, "%s: no PT_LOAD holds file offset 0x%llx", o->path,
		       (unsigned long long)pgoff);
}

int vdsoscope_object_read(const struct vdsoscope_object *o, uint64_t bias, uint64_t addr,
			  void *buf, size_t len)
{
	uint64_t link = addr - bias;
	size_t i;

	for (i = 0; i < o->nloads; i++) {
		uint64_t vaddr = o->loads[i][0], off = o->loads[i][1], filesz = o->loads[i][2], at;

		if (link < vaddr || link - vaddr >= filesz || filesz - (link - vaddr) < len)
			continue;
		at = off + (link - vaddr);
		/* offsets come from the file: one past 2^64 wraps */
		if (at >= off && vs_elf_in(&o->raw, at, len)) {
			memcpy(buf, o->raw.data + at, len);
			return 0;
		}
	}
	return -VDSOSCOPE_E_MEMORY;
}

int vdsoscope_object_eh_frame_hdr(const struct vdsoscope_object *o, uint64_t bias,
				  struct vdsoscope_eh_frame_hdr *out)
{
	if (!o || !out)
		return -VDSOSCOPE_E_INVALID;
	return vs__eh_frame_hdr_parse(&o->raw, o->ehf[1], o->ehf[2], o->ehf[0] + bias, out);
}

size_t vdsoscope_object_row_count(const struct vdsoscope_object *o)
{
	size_t n;

	pthread_mutex_lock((pthread_mutex_t *)&o->lock);
	n = o->rows;
	pthread_mutex_unlock((pthread_mutex_t *)&o->lock);
	return n;
}

static const struct osym *find_sym(const struct vdsoscope_object *o, uint64_t addr)
{
	size_t lo = 0, hi = o->nsyms;

	/* the last symbol starting at or before ADDR; of those at one address
	 * the best ranked sorts first */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		size_t k = lo - 1;
		const struct osym *s;

		while (k > 0 && o->syms[k - 1].addr == o->syms[lo - 1].addr)
			k--;
		s = &o->syms[k];
		if (addr - s->addr < (s->size ? s->size : 1))
			return s;
		/* a symbol that encloses this one may start earlier */
		if (k == 0 || addr - o->syms[k - 1].addr >= 1u << 20)
			break;
		lo = k;
	}
	return NULL;
}

/* The row of link-time address ADDR into E. */
static void compile(struct vdsoscope_object *o, uint64_t addr, struct entry *e)
{
	Dwarf_Frame *f = NULL;
	int debug = 0, rc;

	e->chunk = NULL;
	if (!(o->eh && dwarf_cfi_addrframe(o->eh, addr, &f) == 0)) {
		f = NULL;
		if (!(o->dbg && dwarf_cfi_addrframe(o->dbg, addr, &f) == 0)) {
			e->err = -VDSOSCOPE_E_NO_CFI;
			return;
		}
		debug = 1;
	}
	rc = vs__cfi_chunk(&o->scratch, f, debug, &e->chunk);
	free(f);
	e->err = rc;
	if (!rc)
		o->rows++;
}

static int grow(struct vdsoscope_object *o)
{
	size_t cap = o->cap ? 2 * o->cap : 1024, i;
	struct entry *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (i = 0; i < o->cap; i++) {
		size_t h;
		if (!o->tab[i].key)
			continue;
		h = (size_t)((o->tab[i].key * 0x9e3779b97f4a7c15ull) >> 24) & (cap - 1);
		while (v[h].key)
			h = (h + 1) & (cap - 1);
		v[h] = o->tab[i];
	}
	free(o->tab);
	o->tab = v;
	o->cap = cap;
	return 0;
}

/* The entry of ADDR, made on first use; with the lock held.  NULL when the
 * table is full (*TMP then holds a computed entry the caller frees). */
static const struct entry *lookup(struct vdsoscope_object *o, uint64_t addr, struct entry *tmp)
{
	uint64_t key = addr + 1;
	struct entry *e;
	size_t h;

	if (o->cap) {
		h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 24) & (o->cap - 1);
		for (; o->tab[h].key; h = (h + 1) & (o->cap - 1))
			if (o->tab[h].key == key)
				return &o->tab[h];
	}
	if (o->nentries >= MAX_ENTRIES ||
	    ((o->nentries + 1) * 2 > o->cap && grow(o))) {
		memset(tmp, 0, sizeof(*tmp));
		compile(o, addr, tmp);
		tmp->sym = find_sym(o, addr);
		return NULL;
	}
	h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 24) & (o->cap - 1);
	while (o->tab[h].key)
		h = (h + 1) & (o->cap - 1);
	e = &o->tab[h];
	compile(o, addr, e);
	e->sym = find_sym(o, addr);
	e->key = key;
	o->nentries++;
	return e;
}

static int has_named_section(Elf *elf, const char *name)
{
	GElf_Shdr sh;

	return vs__find_section(elf, name, &sh) && sh.sh_type != SHT_NOBITS && sh.sh_size;
}

/* The scopes under PARENT that hold ADDR, depth first: the names of the
 * inlined subroutines among them go to E innermost first.  A walk of the
 * DIEs themselves (dwarf_getscopes leaks on some malformed DWARF), bounded
 * in depth and in DIEs visited.  1 when a scope holds ADDR. */
static int walk_scopes(Dwarf_Die *parent, Dwarf_Addr addr, struct entry *e, unsigned int depth,
		       unsigned long *budget)
{
	Dwarf_Die child;

	if (depth > 64 || dwarf_child(parent, &child) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&child);

		if (*budget == 0)
			return 0;
		(*budget)--;
		switch (tag) {
		case DW_TAG_namespace:
		case DW_TAG_module:
			/* no range of their own: their functions may hold ADDR */
			if (walk_scopes(&child, addr, e, depth + 1, budget))
				return 1;
			continue;
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
			break;
		default:
			continue;
		}
		if (dwarf_haspc(&child, addr) != 1)
			continue;
		walk_scopes(&child, addr, e, depth + 1, budget);
		if (tag == DW_TAG_inlined_subroutine && e->ninl < MAX_INLINED) {
			Dwarf_Attribute at;
			const char *name = dwarf_formstring(dwarf_attr_integrate(&child, DW_AT_name, &at));
			e->inl[e->ninl++] = name ? name : "??";
		}
		return 1;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

/* The functions inlined at ADDR into E. */
static void find_inlined(struct vdsoscope_object *o, uint64_t addr, struct entry *e)
{
	Dwarf_Die cu;
	unsigned long budget = 1ul << 20;

	e->inl_done = 1;
	e->ninl = 0;
	if (!o->info_tried) {
		Elf *elf = has_named_section(o->elf, ".debug_info") ? o->elf :
			   has_named_section(o->elf, ".zdebug_info") ? o->elf :
			   o->debug_elf && (has_named_section(o->debug_elf, ".debug_info") ||
					    has_named_section(o->debug_elf, ".zdebug_info")) ? o->debug_elf :
			   NULL;
		o->info_tried = 1;
		if (elf && !o->cfi_err && vs__elf_inflate(elf, VS_MAX_INFLATE) >= 0)
			o->info = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	}
	if (o->info && dwarf_addrdie(o->info, addr, &cu))
		walk_scopes(&cu, addr, e, 0, &budget);
}

int vdsoscope_object_names(struct vdsoscope_object *o, uint64_t addr, const char **name,
			   uint64_t *start, const char **inlined, unsigned int max)
{
	const struct entry *e;
	struct entry tmp;
	const struct osym *s;
	unsigned int i;
	int n = 0;

	pthread_mutex_lock(&o->lock);
	e = lookup(o, addr, &tmp);
	if (!e)
		e = &tmp;
	if (inlined) {
		if (e == &tmp || !e->inl_done)
			find_inlined(o, addr, (struct entry *)e);
		n = e->ninl;
		for (i = 0; i < e->ninl && i < max; i++)
			inlined[i] = e->inl[i];
	}
	s = e->sym;
	if (e == &tmp)
		free(tmp.chunk);
	pthread_mutex_unlock(&o->lock);
	if (name)
		*name = s ? s->name : NULL;
	if (start)
		*start = s ? s->addr : 0;
	return n;
}

int vdsoscope_object_func_at(struct vdsoscope_object *o, uint64_t addr, const char **name,
			     uint64_t *start)
{
	const char *n;

	vdsoscope_object_names(o, addr, &n, start, NULL, 0);
	if (!n)
		return -VDSOSCOPE_E_NOT_FOUND;
	if (name)
		*name = n;
	return 0;
}

int vdsoscope_object_inlined(struct vdsoscope_object *o, uint64_t addr, const char **names,
			     unsigned int max)
{
	return vdsoscope_object_names(o, addr, NULL, NULL, names, max);
}

int vdsoscope_object_step(struct vdsoscope_object *o, uint64_t bias,
			  const struct vdsoscope_regs *in, unsigned int flags,
			  vdsoscope_read_fn read, void *arg, struct vdsoscope_regs *out,
			  unsigned int *frame_flags)
{
	const struct vdsoscope_arch *a = o->scratch.arch;
	const struct entry *e;
	struct entry tmp;
	const struct vs_chunk *c;
	uint64_t mask = a->addr_size == 8 ? ~0ull : 0xffffffffull, pc, addr;
	int rc;

	if (o->cfi_err)
		return vs__err(-o->cfi_err, "%s", o->cfi_msg);
	if (!vdsoscope_regs_has(in, a->ip_reg))
		return vs__err(VDSOSCOPE_E_REG_UNDEFINED, "step without an IP");
	pc = in->r[a->ip_reg] & mask;
	if (a->machine == EM_ARM)
		pc &= ~1ull; /* Thumb */
	addr = (((flags & VDSOSCOPE_STEP_CALLER) ? pc - 1 : pc) - bias) & mask;
	pthread_mutex_lock(&o->lock);
	e = lookup(o, addr, &tmp);
	if (!e)
		e = &tmp;
	/* chunks never move or change once made */
	c = e->chunk;
	rc = e->err;
	pthread_mutex_unlock(&o->lock);
	if (!c) {
		if (rc == -VDSOSCOPE_E_NO_CFI)
			return vs__err(VDSOSCOPE_E_NO_CFI, "0x%llx in %s", (unsigned long long)pc,
				       o->path);
		return rc ? rc : -ENOMEM;
	}
	if (c->row.outermost) {
		vdsoscope_regs_clear(out);
		if (frame_flags)
			*frame_flags = VDSOSCOPE_FRAME_OUTERMOST;
		rc = 0;
	} else {
		rc = vs__step_row(&o->scratch, &c->row, c->crules, c->ops, bias, pc, flags, in, read,
				  arg, out, frame_flags);
	}
	if (e == &tmp)
		free(tmp.chunk);
	return rc;
}
