/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sampled stacks: registers plus a stack copy, unwound through the vDSO
 * with vdsoscope_step() and through the mapped ELF files with their CFI.
 * The rule at each link-time address is computed once with libdw and kept
 * in the file's table, so a sample costs a few table look-ups per frame. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dwarf.h>
#include <gelf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include "vdsoscope-unwind.h"

#define VSYSCALL_LO 0xffffffffff600000ull
#define VSYSCALL_HI 0xffffffffff601000ull
#define MAX_RULES 8

/* ---- architectures ---------------------------------------------------------- */

struct sarch {
	unsigned int sp, ip, word;
	unsigned int ntracked;
	unsigned char tracked[MAX_RULES]; /* [0] is the return address column */
	uint64_t callee_saved;
};

static const struct sarch arch64 = {
	.sp = 7, .ip = 16, .word = 8, .ntracked = 7,
	.tracked = { 16, 3, 6, 12, 13, 14, 15 },
	.callee_saved = 1ull << 3 | 1ull << 6 | 1ull << 12 | 1ull << 13 | 1ull << 14 | 1ull << 15,
};
static const struct sarch arch32 = {
	.sp = 4, .ip = 8, .word = 4, .ntracked = 5,
	.tracked = { 8, 3, 5, 6, 7 },
	.callee_saved = 1ull << 3 | 1ull << 5 | 1ull << 6 | 1ull << 7,
};

/* ---- files ------------------------------------------------------------------ */

enum { RULE_UNDEF, RULE_SAME, RULE_OFFSET, RULE_VAL_OFFSET, RULE_EXPR, RULE_VAL_EXPR };
#define CFA_EXPR 0xff              /* row.cfa_reg: the CFA is an expression */
#define MAX_OPS 16

struct sop {                       /* one DWARF operation of a rule */
	uint8_t atom;
	uint64_t n1, n2;
};
enum { ROW_OK, ROW_NO_CFI, ROW_UNSUPPORTED };

struct row {
	uint64_t key;                 /* link-time address + 1; 0: empty slot */
	uint8_t state;                /* ROW_* */
	uint8_t cfa_reg;
	uint8_t kind[MAX_RULES];      /* by sarch.tracked index */
	int32_t off[MAX_RULES];       /* offsets; for expressions the pool index */
	uint8_t nops[MAX_RULES];      /* expressions: number of operations */
	int64_t cfa_off;              /* CFA_EXPR: the pool index */
	uint8_t cfa_nops;
	const char *func;             /* NULL: no symbol */
	uint64_t func_addr;           /* link-time */
};

struct sym {
	uint64_t addr, size;
	const char *name;
	int rank;
};

struct module {
	char *key;                    /* build-id hex, or "path:" PATH */
	char *path, *name;
	uint8_t *build_id;
	size_t build_id_len;
	int fd, debug_fd, bad;
	Elf *elf, *debug_elf;
	Dwarf *dwarf;
	Dwarf_CFI *eh, *dbg;
	GElf_Ehdr ehdr;
	struct sym *syms;
	size_t nsyms;
	struct row *rows;
	size_t nrows, cap;            /* cap: power of two */
	struct sop *ops;              /* expressions of rules, referenced by index */
	size_t nops;
	const struct sarch *arch;
};

struct vdsoscope_modules {
	struct module **v;
	size_t n;
	size_t rows_computed;
};

struct smap {
	uint64_t start, end, pgoff, bias;
	int nobias;                   /* no PT_LOAD holds pgoff */
	struct module *mod;
	char *path;
	uint8_t *build_id;
	size_t build_id_len;
};

struct vdsoscope_space {
	struct vdsoscope_modules *mods;
	const struct sarch *arch;
	const struct vdsoscope_image *vdso;
	uint64_t vdso_lo, vdso_hi;
	struct smap *maps;
	size_t nmaps;
	size_t last;                  /* index of the last map found */
};

static char *hex(const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	s[2 * n] = 0;
	return s;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->rank - y->rank;
}

/* FUNC symbols with a size from the symbol table of type TYPE, strings
 * copied (the Elf may be a separate debug file closed later). */
static void load_syms(struct module *m, Elf *elf, Elf64_Word type)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i, n;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		if (!(d = elf_getdata(scn, NULL)))
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym s;
			const char *name;
			struct sym *v;
			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    s.st_shndx == SHN_UNDEF || !s.st_size)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			if (m->nsyms % 256 == 0) {
				v = realloc(m->syms, (m->nsyms + 256) * sizeof(*v));
				if (!v)
					return;
				m->syms = v;
			}
			v = &m->syms[m->nsyms];
			v->addr = s.st_value;
			v->size = s.st_size;
			v->rank = GELF_ST_BIND(s.st_info) == STB_GLOBAL ? 0 :
				  GELF_ST_BIND(s.st_info) == STB_WEAK ? 1 : 2;
			/* "__libc_start_main@@GLIBC_2.34": the name alone */
			if (!(v->name = strndup(name, strcspn(name, "@"))))
				return;
			m->nsyms++;
		}
	}
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

/* The separate debug file /usr/lib/debug/.build-id/xx/yyyy.debug, when
 * the file itself has no .symtab. */
static void open_debug(struct module *m)
{
	char path[256];
	const char *id = m->key;

	if (m->build_id_len < 2 || strlen(id) < 4)
		return;
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", id, id + 2);
	if ((m->debug_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	m->debug_elf = elf_begin(m->debug_fd, ELF_C_READ_MMAP, NULL);
}

static void module_free(struct module *m)
{
	size_t i;

	if (!m)
		return;
	if (m->eh)
		dwarf_cfi_end(m->eh);
	if (m->dwarf)
		dwarf_end(m->dwarf);
	if (m->debug_elf)
		elf_end(m->debug_elf);
	if (m->elf)
		elf_end(m->elf);
	if (m->fd >= 0)
		close(m->fd);
	if (m->debug_fd >= 0)
		close(m->debug_fd);
	for (i = 0; i < m->nsyms; i++)
		free((char *)m->syms[i].name);
	free(m->syms);
	free(m->rows);
	free(m->ops);
	free(m->key);
	free(m->path);
	free(m->build_id);
	free(m);
}

/* Opens PATH; a file whose build-id is not WANT (when given) is kept as a
 * bad module, so that frames in it say so. */
static struct module *module_open(const char *path, const uint8_t *want, size_t want_len)
{
	struct module *m = calloc(1, sizeof(*m));
	const void *id = NULL;
	ssize_t idlen = 0;
	const char *slash;

	if (!m)
		return NULL;
	m->fd = m->debug_fd = -1;
	if (!(m->path = strdup(path)))
		goto fail;
	slash = strrchr(m->path, '/');
	m->name = slash ? (char *)slash + 1 : m->path;
	elf_version(EV_CURRENT);
	m->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (m->fd >= 0)
		m->elf = elf_begin(m->fd, ELF_C_READ_MMAP, NULL);
	if (!m->elf || elf_kind(m->elf) != ELF_K_ELF || !gelf_getehdr(m->elf, &m->ehdr))
		m->bad = 1;
	if (!m->bad && (idlen = dwelf_elf_gnu_build_id(m->elf, &id)) > 0) {
		if (!(m->build_id = malloc((size_t)idlen)))
			goto fail;
		memcpy(m->build_id, id, (size_t)idlen);
		m->build_id_len = (size_t)idlen;
	}
	if (want && want_len && (m->build_id_len != want_len || memcmp(m->build_id, want, want_len)))
		m->bad = 1;
	if (want && want_len) {
		m->key = hex(want, want_len);
	} else if (m->build_id_len) {
		m->key = hex(m->build_id, m->build_id_len);
	} else {
		m->key = malloc(strlen(path) + 6);
		if (m->key)
			sprintf(m->key, "path:%s", path);
	}
	if (!m->key)
		goto fail;
	if (m->bad)
		return m;
	m->arch = m->ehdr.e_ident[EI_CLASS] == ELFCLASS32 ? &arch32 : &arch64;
	m->eh = dwarf_getcfi_elf(m->elf);
	if ((m->dwarf = dwarf_begin_elf(m->elf, DWARF_C_READ, NULL)))
		m->dbg = dwarf_getcfi(m->dwarf);
	if (has_section(m->elf, SHT_SYMTAB)) {
		load_syms(m, m->elf, SHT_SYMTAB);
	} else {
		open_debug(m);
		if (m->debug_elf && has_section(m->debug_elf, SHT_SYMTAB))
			load_syms(m, m->debug_elf, SHT_SYMTAB);
		load_syms(m, m->elf, SHT_DYNSYM);
	}
	if (m->nsyms)
		qsort(m->syms, m->nsyms, sizeof(*m->syms), sym_cmp);
	return m;
fail:
	module_free(m);
	return NULL;
}

struct vdsoscope_modules *vdsoscope_modules_new(void)
{
	return calloc(1, sizeof(struct vdsoscope_modules));
}

void vdsoscope_modules_free(struct vdsoscope_modules *mods)
{
	size_t i;

	if (!mods)
		return;
	for (i = 0; i < mods->n; i++)
		module_free(mods->v[i]);
	free(mods->v);
	free(mods);
}

void vdsoscope_modules_stats(const struct vdsoscope_modules *mods, size_t *files, size_t *rows)
{
	if (files)
		*files = mods->n;
	if (rows)
		*rows = mods->rows_computed;
}

/* The module for PATH with build-id WANT (NULL: the file's own).  One
 * module per build-id, whatever the path it was found at. */
static struct module *module_get(struct vdsoscope_modules *mods, const char *path,
				 const uint8_t *want, size_t want_len)
{
	struct module *m, **v;
	size_t i;

	if (want && want_len) {
		char *key = hex(want, want_len);
		if (!key)
			return NULL;
		for (i = 0; i < mods->n; i++)
			if (!mods->v[i]->bad && !strcmp(mods->v[i]->key, key))
				break;
		free(key);
		if (i < mods->n)
			return mods->v[i];
	} else {
		for (i = 0; i < mods->n; i++)
			if (!strcmp(mods->v[i]->path, path) && !mods->v[i]->bad)
				return mods->v[i];
	}
	if (!(m = module_open(path, want, want_len)))
		return NULL;
	for (i = 0; i < mods->n && !m->bad; i++)
		if (!mods->v[i]->bad && !strcmp(mods->v[i]->key, m->key)) {
			module_free(m);
			return mods->v[i];
		}
	if (!(v = realloc(mods->v, (mods->n + 1) * sizeof(*v)))) {
		module_free(m);
		return NULL;
	}
	mods->v = v;
	mods->v[mods->n++] = m;
	return m;
}

/* ---- rows -------------------------------------------------------------------- */

/* Keeps N operations in M's pool; their index, or -1. */
static long keep_ops(struct module *m, const Dwarf_Op *ops, size_t n)
{
	struct sop *v;
	size_t i;

	if (n == 0 || n > MAX_OPS || m->nops > INT32_MAX - MAX_OPS)
		return -1;
	if (!(v = realloc(m->ops, (m->nops + n) * sizeof(*v))))
		return -1;
	m->ops = v;
	for (i = 0; i < n; i++) {
		v[m->nops + i].atom = ops[i].atom;
		v[m->nops + i].n1 = ops[i].number;
		v[m->nops + i].n2 = ops[i].number2;
	}
	m->nops += n;
	return (long)(m->nops - n);
}

/* libdw gives a register rule as DWARF operations: none (with OPS set to
 * MEM: undefined; with OPS NULL: same value), DW_OP_call_frame_cfa
 * [DW_OP_plus_uconst N] [DW_OP_stack_value] (the usual offset rules), or
 * another expression (DW_OP_stack_value last: a value, else a location). */
static int reg_rule(struct module *m, Dwarf_Frame *fr, int reg, struct row *r, unsigned int i)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t nops = 0, k = 1;
	int64_t o = 0;
	long at;

	if (dwarf_frame_register(fr, reg, mem, &ops, &nops) < 0)
		return -1;
	if (nops == 0) {
		r->kind[i] = ops ? RULE_UNDEF : RULE_SAME;
		return 0;
	}
	if (ops[0].atom == DW_OP_call_frame_cfa) {
		if (k < nops && ops[k].atom == DW_OP_plus_uconst)
			o = (int64_t)ops[k++].number;
		r->kind[i] = RULE_OFFSET;
		if (k < nops && ops[k].atom == DW_OP_stack_value) {
			r->kind[i] = RULE_VAL_OFFSET;
			k++;
		}
		if (k == nops && o >= INT32_MIN && o <= INT32_MAX) {
			r->off[i] = (int32_t)o;
			return 0;
		}
	}
	if ((at = keep_ops(m, ops, nops)) < 0)
		return -1;
	r->kind[i] = ops[nops - 1].atom == DW_OP_stack_value ? RULE_VAL_EXPR : RULE_EXPR;
	r->off[i] = (int32_t)at;
	r->nops[i] = (uint8_t)nops;
	return 0;
}

static void compute_row(struct module *m, uint64_t addr, struct row *r)
{
	Dwarf_Frame *fr = NULL;
	Dwarf_Op *ops;
	size_t nops, i;
	long at;
	const struct sarch *a = m->arch;

	r->state = ROW_NO_CFI;
	if (!(m->eh && dwarf_cfi_addrframe(m->eh, addr, &fr) == 0) &&
	    !(m->dbg && dwarf_cfi_addrframe(m->dbg, addr, &fr) == 0))
		return;
	r->state = ROW_UNSUPPORTED;
	if (dwarf_frame_info(fr, NULL, NULL, NULL) != (int)a->tracked[0])
		goto out;
	if (dwarf_frame_cfa(fr, &ops, &nops) || nops == 0)
		goto out;
	if (nops == 1 && ops[0].atom == DW_OP_bregx && ops[0].number < 64) {
		r->cfa_reg = (uint8_t)ops[0].number;
		r->cfa_off = (int64_t)ops[0].number2;
	} else if (nops == 1 && ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		r->cfa_reg = (uint8_t)(ops[0].atom - DW_OP_breg0);
		r->cfa_off = (int64_t)ops[0].number;
	} else if ((at = keep_ops(m, ops, nops)) >= 0) {
		r->cfa_reg = CFA_EXPR;
		r->cfa_off = at;
		r->cfa_nops = (uint8_t)nops;
	} else {
		goto out;
	}
	for (i = 0; i < a->ntracked; i++)
		if (reg_rule(m, fr, a->tracked[i], r, (unsigned int)i)) {
			if (i == 0)
				goto out;
			r->kind[i] = RULE_UNDEF;
		}
	r->state = ROW_OK;
out:
	free(fr);
}

static void name_row(const struct module *m, uint64_t addr, struct row *r)
{
	size_t lo = 0, hi = m->nsyms;

	/* the last symbol starting at or before ADDR; the best-ranked one of
	 * those at one address sorts first */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		const struct sym *s = &m->syms[lo - 1];
		size_t k = lo - 1;
		while (k > 0 && m->syms[k - 1].addr == s->addr)
			s = &m->syms[--k];
		if (addr - s->addr < s->size) {
			r->func = s->name;
			r->func_addr = s->addr;
			return;
		}
		/* an enclosing symbol may start earlier (rare); look one further */
		if (k == 0 || addr - m->syms[k - 1].addr >= 1u << 20)
			break;
		lo = k;
	}
}

static int rows_grow(struct module *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i;
	struct row *v = calloc(cap, sizeof(*v));

	if (!v)
		return -1;
	for (i = 0; i < m->cap; i++) {
		struct row *r = &m->rows[i];
		size_t h;
		if (!r->key)
			continue;
		h = (size_t)((r->key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
		while (v[h].key)
			h = (h + 1) & (cap - 1);
		v[h] = *r;
	}
	free(m->rows);
	m->rows = v;
	m->cap = cap;
	return 0;
}

static const struct row *get_row(struct vdsoscope_modules *mods, struct module *m, uint64_t addr)
{
	uint64_t key = addr + 1;
	size_t h;
	struct row *r;

	if (m->cap && m->rows) {
		h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (m->cap - 1);
		while (m->rows[h].key) {
			if (m->rows[h].key == key)
				return &m->rows[h];
			h = (h + 1) & (m->cap - 1);
		}
	}
	if ((m->nrows + 1) * 2 > m->cap && rows_grow(m))
		return NULL;
	h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (m->cap - 1);
	while (m->rows[h].key)
		h = (h + 1) & (m->cap - 1);
	r = &m->rows[h];
	memset(r, 0, sizeof(*r));
	compute_row(m, addr, r);
	name_row(m, addr, r);
	r->key = key;
	m->nrows++;
	mods->rows_computed++;
	return r;
}

/* ---- spaces ------------------------------------------------------------------- */

struct vdsoscope_space *vdsoscope_space_new(struct vdsoscope_modules *mods, int elf_class)
{
	struct vdsoscope_space *sp;

	if (!mods || (elf_class != 32 && elf_class != 64)) {
		errno = EINVAL;
		return NULL;
	}
	if (!(sp = calloc(1, sizeof(*sp))))
		return NULL;
	sp->mods = mods;
	sp->arch = elf_class == 32 ? &arch32 : &arch64;
	return sp;
}

static void clear_maps(struct vdsoscope_space *sp)
{
	size_t i;

	for (i = 0; i < sp->nmaps; i++) {
		free(sp->maps[i].path);
		free(sp->maps[i].build_id);
	}
	free(sp->maps);
	sp->maps = NULL;
	sp->nmaps = sp->last = 0;
}

void vdsoscope_space_free(struct vdsoscope_space *sp)
{
	if (!sp)
		return;
	clear_maps(sp);
	free(sp);
}

void vdsoscope_space_set_vdso(struct vdsoscope_space *sp, const struct vdsoscope_image *img)
{
	size_t size = 0;

	sp->vdso = img;
	sp->vdso_lo = sp->vdso_hi = 0;
	if (img) {
		vdsoscope_image_data(img, &size);
		sp->vdso_lo = vdsoscope_load_address(img);
		sp->vdso_hi = sp->vdso_lo + size;
	}
}

const struct vdsoscope_image *vdsoscope_space_vdso(const struct vdsoscope_space *sp)
{
	return sp->vdso;
}

/* The load bias of a mapping of M at file offset PGOFF starting at START:
 * from the PT_LOAD that holds PGOFF. */
static int map_bias(const struct module *m, uint64_t start, uint64_t pgoff, uint64_t *bias)
{
	size_t n, i;

	if (m->bad || elf_getphdrnum(m->elf, &n))
		return -1;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;
		uint64_t seg_off;
		if (!gelf_getphdr(m->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		seg_off = ph.p_offset & ~(uint64_t)0xfff;
		if (pgoff >= seg_off && pgoff < ph.p_offset + ph.p_filesz) {
			*bias = start - (ph.p_vaddr - ph.p_offset + pgoff);
			return 0;
		}
	}
	return -1;
}

static int smap_cmp(const void *a, const void *b)
{
	const struct smap *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int vdsoscope_space_add_map(struct vdsoscope_space *sp, uint64_t start, uint64_t end,
			    uint64_t pgoff, const char *path, const uint8_t *build_id, size_t len)
{
	struct smap *v, *e;
	struct module *m;

	if (!sp || !path || end <= start)
		return -EINVAL;
	if (!(m = module_get(sp->mods, path, build_id, len)))
		return -ENOMEM;
	if (!(v = realloc(sp->maps, (sp->nmaps + 1) * sizeof(*v))))
		return -ENOMEM;
	sp->maps = v;
	e = &v[sp->nmaps];
	memset(e, 0, sizeof(*e));
	e->start = start;
	e->end = end;
	e->pgoff = pgoff;
	e->mod = m;
	e->nobias = map_bias(m, start, pgoff, &e->bias) != 0;
	if (!(e->path = strdup(path)))
		return -ENOMEM;
	if (m->build_id_len && !m->bad) {
		if (!(e->build_id = malloc(m->build_id_len))) {
			free(e->path);
			return -ENOMEM;
		}
		memcpy(e->build_id, m->build_id, m->build_id_len);
		e->build_id_len = m->build_id_len;
	}
	sp->nmaps++;
	qsort(sp->maps, sp->nmaps, sizeof(*sp->maps), smap_cmp);
	sp->last = 0;
	return 0;
}

int vdsoscope_space_read_maps(struct vdsoscope_space *sp, pid_t pid)
{
	char path[64], line[4352];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (!(f = fopen(path, "r")))
		return errno == ENOENT ? -ESRCH : -errno;
	clear_maps(sp);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, off;
		char perm[8];
		int n = 0;
		char *name;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perm, &off, &n) < 4 ||
		    n == 0 || perm[2] != 'x')
			continue;
		name = line + n;
		name[strcspn(name, "\n")] = 0;
		if (name[0] != '/')
			continue;
		if ((rc = vdsoscope_space_add_map(sp, lo, hi, off, name, NULL, 0)) < 0)
			break;
	}
	fclose(f);
	return rc;
}

size_t vdsoscope_space_map_count(const struct vdsoscope_space *sp)
{
	return sp->nmaps;
}

int vdsoscope_space_map_get(const struct vdsoscope_space *sp, size_t idx,
			    struct vdsoscope_space_map *out)
{
	const struct smap *m;

	if (idx >= sp->nmaps)
		return -ENOENT;
	m = &sp->maps[idx];
	out->start = m->start;
	out->end = m->end;
	out->pgoff = m->pgoff;
	out->path = m->path;
	out->build_id = m->build_id;
	out->build_id_len = m->build_id_len;
	return 0;
}

static const struct smap *find_map(struct vdsoscope_space *sp, uint64_t pc)
{
	size_t lo = 0, hi = sp->nmaps;

	if (sp->last < sp->nmaps && pc >= sp->maps[sp->last].start && pc < sp->maps[sp->last].end)
		return &sp->maps[sp->last];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pc < sp->maps[mid].start)
			hi = mid;
		else if (pc >= sp->maps[mid].end)
			lo = mid + 1;
		else
			return &sp->maps[sp->last = mid];
	}
	return NULL;
}

/* ---- unwinding -------------------------------------------------------------- */

struct stack {
	uint64_t addr;
	const unsigned char *bytes;
	size_t size;
	const struct vdsoscope_image *vdso;
};

static int stack_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct stack *s = arg;
	const void *img;
	size_t size;
	uint64_t lo;

	if (addr >= s->addr && addr - s->addr <= s->size && s->size - (addr - s->addr) >= len) {
		memcpy(buf, s->bytes + (addr - s->addr), len);
		return 0;
	}
	if (s->vdso) {
		img = vdsoscope_image_data(s->vdso, &size);
		lo = vdsoscope_load_address(s->vdso);
		if (addr >= lo && addr - lo <= size && size - (addr - lo) >= len) {
			memcpy(buf, (const char *)img + (addr - lo), len);
			return 0;
		}
	}
	return -VDSOSCOPE_E_MEMORY;
}

static const char *const end_names[VDSOSCOPE_END_COUNT] = {
	[VDSOSCOPE_END_ROOT] = "root",
	[VDSOSCOPE_END_MAX_FRAMES] = "max-frames",
	[VDSOSCOPE_END_NO_MAPPING] = "no-mapping",
	[VDSOSCOPE_END_NO_CFI] = "no-cfi",
	[VDSOSCOPE_END_STACK] = "outside-stack-copy",
	[VDSOSCOPE_END_REGISTER] = "register-unknown",
	[VDSOSCOPE_END_BAD_FRAME] = "bad-frame",
	[VDSOSCOPE_END_UNSUPPORTED] = "unsupported-cfi",
	[VDSOSCOPE_END_FILE] = "file-unusable",
	[VDSOSCOPE_END_VDSO] = "vdso-step-failed",
};

const char *vdsoscope_unwind_end_name(int end)
{
	if (end < 0 || end >= VDSOSCOPE_END_COUNT)
		return "unknown";
	return end_names[end];
}

/* Evaluates N operations at OPS (registers R, the CFA) into *OUT; *VALUE
 * says whether the result is a value (DW_OP_stack_value) or an address.
 * A VDSOSCOPE_END_* reason on failure, else -1. */
static int eval_ops(const struct sop *ops, unsigned int n, const struct vdsoscope_regs *r,
		    uint64_t cfa, const struct stack *stk, unsigned int word, uint64_t *out,
		    int *value)
{
	uint64_t st[MAX_OPS + 1], v;
	unsigned int i, sp = 0;

	*value = 0;
	for (i = 0; i < n; i++) {
		const struct sop *o = &ops[i];
		unsigned int reg;
		if (sp == MAX_OPS)
			return VDSOSCOPE_END_UNSUPPORTED;
		switch (o->atom) {
		case DW_OP_breg0 ... DW_OP_breg31:
		case DW_OP_bregx:
			reg = o->atom == DW_OP_bregx ? (unsigned int)o->n1
						     : (unsigned int)(o->atom - DW_OP_breg0);
			if (reg >= 64 || !(r->valid >> reg & 1))
				return VDSOSCOPE_END_REGISTER;
			st[sp++] = r->r[reg] + (o->atom == DW_OP_bregx ? o->n2 : o->n1);
			break;
		case DW_OP_call_frame_cfa: st[sp++] = cfa; break;
		case DW_OP_lit0 ... DW_OP_lit31: st[sp++] = o->atom - DW_OP_lit0; break;
		case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u: case DW_OP_const8u:
		case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s: case DW_OP_const8s:
		case DW_OP_constu: case DW_OP_consts:
			st[sp++] = o->n1;
			break;
		case DW_OP_plus_uconst:
			if (!sp)
				return VDSOSCOPE_END_UNSUPPORTED;
			st[sp - 1] += o->n1;
			break;
		case DW_OP_deref:
			if (!sp)
				return VDSOSCOPE_END_UNSUPPORTED;
			v = 0;
			if (stack_read((void *)stk, st[sp - 1], &v, word))
				return VDSOSCOPE_END_STACK;
			st[sp - 1] = v;
			break;
		case DW_OP_plus: case DW_OP_minus: case DW_OP_and:
			if (sp < 2)
				return VDSOSCOPE_END_UNSUPPORTED;
			sp--;
			st[sp - 1] = o->atom == DW_OP_plus ? st[sp - 1] + st[sp] :
				     o->atom == DW_OP_minus ? st[sp - 1] - st[sp] : st[sp - 1] & st[sp];
			break;
		case DW_OP_stack_value:
			if (i + 1 != n)
				return VDSOSCOPE_END_UNSUPPORTED;
			*value = 1;
			break;
		default:
			return VDSOSCOPE_END_UNSUPPORTED;
		}
	}
	if (!sp)
		return VDSOSCOPE_END_UNSUPPORTED;
	*out = word == 4 ? st[sp - 1] & 0xffffffffu : st[sp - 1];
	return -1;
}

/* One frame in a mapped file: R becomes the caller's registers. */
static int step_file(struct vdsoscope_space *sp, const struct smap *m, const struct stack *stk,
		     struct vdsoscope_regs *r, int exact, struct vdsoscope_frame_info *fi)
{
	const struct sarch *a = sp->arch;
	uint64_t pc = r->r[a->ip], addr = (exact ? pc : pc - 1) - m->bias, cfa, val, in_valid;
	uint64_t in[MAX_RULES];
	struct vdsoscope_regs orig;
	const struct row *row;
	unsigned int i;
	int rc, value;

	fi->module = m->mod->name;
	if (m->mod->bad || m->nobias)
		return VDSOSCOPE_END_FILE;
	if (!(row = get_row(sp->mods, m->mod, addr)))
		return -ENOMEM;
	if (row->func) {
		fi->function = row->func;
		fi->offset = pc - m->bias - row->func_addr;
	}
	if (row->state == ROW_NO_CFI)
		return VDSOSCOPE_END_NO_CFI;
	if (row->state == ROW_UNSUPPORTED)
		return VDSOSCOPE_END_UNSUPPORTED;
	if (row->kind[0] == RULE_UNDEF)
		return VDSOSCOPE_END_ROOT;
	if (row->cfa_reg == CFA_EXPR) {
		if ((rc = eval_ops(m->mod->ops + row->cfa_off, row->cfa_nops, r, 0, stk, a->word,
				   &cfa, &value)) >= 0)
			return rc;
		/* DW_CFA_def_cfa_expression computes the CFA itself */
	} else {
		if (row->cfa_reg >= 64 || !(r->valid >> row->cfa_reg & 1))
			return VDSOSCOPE_END_REGISTER;
		cfa = r->r[row->cfa_reg] + (uint64_t)row->cfa_off;
	}
	if (a->word == 4)
		cfa &= 0xffffffffu;
	in_valid = r->valid;
	for (i = 0; i < a->ntracked; i++)
		in[i] = r->r[a->tracked[i]];
	if (row->cfa_reg == CFA_EXPR || row->nops[0] || row->nops[1] || row->nops[2] ||
	    row->nops[3] || row->nops[4] || row->nops[5] || row->nops[6] || row->nops[7])
		orig = *r;
	r->valid &= a->callee_saved | 1ull << a->sp | 1ull << a->ip;
	for (i = 0; i < a->ntracked; i++) {
		unsigned int reg = a->tracked[i];
		switch (row->kind[i]) {
		case RULE_UNDEF:
			r->valid &= ~(1ull << reg);
			break;
		case RULE_SAME:
			r->r[reg] = in[i];
			if (!(in_valid >> reg & 1))
				r->valid &= ~(1ull << reg);
			break;
		case RULE_OFFSET:
			val = 0;
			if (stack_read((void *)stk, cfa + (uint64_t)(int64_t)row->off[i], &val, a->word))
				return VDSOSCOPE_END_STACK;
			r->r[reg] = val;
			r->valid |= 1ull << reg;
			break;
		case RULE_VAL_OFFSET:
			r->r[reg] = cfa + (uint64_t)(int64_t)row->off[i];
			r->valid |= 1ull << reg;
			break;
		case RULE_EXPR:
		case RULE_VAL_EXPR:
			if ((rc = eval_ops(m->mod->ops + row->off[i], row->nops[i], &orig, cfa, stk,
					   a->word, &val, &value)) >= 0)
				return rc;
			if (!value) {
				uint64_t at = val;
				val = 0;
				if (stack_read((void *)stk, at, &val, a->word))
					return VDSOSCOPE_END_STACK;
			}
			r->r[reg] = val;
			r->valid |= 1ull << reg;
			break;
		}
	}
	/* tracked[0] is the return address column, which is the IP on x86 */
	r->r[a->sp] = cfa;
	r->valid |= 1ull << a->sp;
	return -1;
}

int vdsoscope_space_unwind(struct vdsoscope_space *sp, const struct vdsoscope_regs *regs,
			   uint64_t stack_addr, const void *stack, size_t stack_size,
			   struct vdsoscope_frame_info *frames, unsigned int max, unsigned int *n)
{
	const struct sarch *a = sp->arch;
	struct stack stk = { stack_addr, stack, stack_size, sp->vdso };
	struct vdsoscope_regs r = *regs;
	int exact = 1, rc;
	uint64_t mask = a->word == 4 ? 0xffffffffu : ~0ull;

	*n = 0;
	if (!(r.valid >> a->ip & 1) || !(r.valid >> a->sp & 1))
		return VDSOSCOPE_END_REGISTER;
	for (;;) {
		struct vdsoscope_frame_info *fi;
		uint64_t pc = r.r[a->ip] & mask, sp_in = r.r[a->sp] & mask;
		const struct smap *m;

		if (*n && pc == 0)
			return VDSOSCOPE_END_ROOT;
		if (*n == max)
			return VDSOSCOPE_END_MAX_FRAMES;
		fi = &frames[(*n)++];
		fi->pc = pc;
		fi->offset = 0;
		fi->function = fi->module = NULL;
		fi->flags = exact ? VDSOSCOPE_FRAME_INFO_EXACT : 0;
		r.r[a->ip] = pc;
		r.r[a->sp] = sp_in;
		if (sp->vdso && ((pc >= sp->vdso_lo && pc < sp->vdso_hi) ||
				 (a->word == 8 && pc >= VSYSCALL_LO && pc < VSYSCALL_HI))) {
			struct vdsoscope_func f;
			unsigned int ff = 0;
			fi->flags |= VDSOSCOPE_FRAME_INFO_VDSO;
			fi->module = vdsoscope_soname(sp->vdso);
			if (vdsoscope_func_at(sp->vdso, exact ? pc : pc - 1, &f, NULL) == 0 && f.nnames) {
				fi->function = f.names[0].name;
				fi->offset = pc - f.start;
			}
			rc = vdsoscope_step(sp->vdso, &r, exact ? 0 : VDSOSCOPE_STEP_CALLER, stack_read,
					    &stk, &r, &ff);
			if (rc == -VDSOSCOPE_E_MEMORY)
				return VDSOSCOPE_END_STACK;
			if (rc == -VDSOSCOPE_E_NO_CFI)
				return VDSOSCOPE_END_NO_CFI;
			if (rc == -VDSOSCOPE_E_REG_UNDEFINED)
				return VDSOSCOPE_END_REGISTER;
			if (rc < 0)
				return VDSOSCOPE_END_VDSO;
			exact = (ff & VDSOSCOPE_FRAME_SIGNAL) != 0;
			if (!exact && (r.r[a->sp] & mask) <= sp_in)
				return VDSOSCOPE_END_BAD_FRAME;
			continue;
		}
		if (!(m = find_map(sp, pc)))
			return VDSOSCOPE_END_NO_MAPPING;
		if ((rc = step_file(sp, m, &stk, &r, exact, fi)) >= 0 || rc == -ENOMEM)
			return rc;
		if (!(r.valid >> a->ip & 1))
			return VDSOSCOPE_END_ROOT;
		if ((r.r[a->sp] & mask) <= sp_in)
			return VDSOSCOPE_END_BAD_FRAME;
		exact = 0;
	}
}

/* ---- perf registers ----------------------------------------------------------- */

/* PERF_REG_X86_*: AX BX CX DX SI DI BP SP IP FLAGS CS SS DS ES FS GS R8..R15 */
static const signed char perf_to_dwarf64[24] = {
	0, 3, 2, 1, 4, 5, 6, 7, 16, -1, -1, -1, -1, -1, -1, -1, 8, 9, 10, 11, 12, 13, 14, 15,
};
static const signed char perf_to_dwarf32[24] = {
	0, 3, 1, 2, 6, 7, 5, 4, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

int vdsoscope_regs_from_perf(struct vdsoscope_regs *out, uint64_t abi, uint64_t mask,
			     const uint64_t *vals, size_t nvals)
{
	const signed char *map;
	size_t k = 0;
	unsigned int bit;

	if (abi == 2)
		map = perf_to_dwarf64;
	else if (abi == 1)
		map = perf_to_dwarf32;
	else
		return -EINVAL;
	out->valid = 0;
	for (bit = 0; bit < 64; bit++) {
		if (!(mask >> bit & 1))
			continue;
		if (k == nvals)
			return -EINVAL;
		if (bit < 24 && map[bit] >= 0) {
			out->r[(int)map[bit]] = abi == 1 ? vals[k] & 0xffffffffu : vals[k];
			out->valid |= 1ull << map[bit];
		}
		k++;
	}
	return abi == 2 ? 64 : 32;
}
