/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The function table: symbols grouped by address, FDE ranges without a
 * symbol, and the queries on it. */
#include "config.h"
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "arch.h"

struct cand {
	uint64_t start, size;
	struct vdsoscope_sym sym;
	unsigned int rank; /* canonical order: lower first */
	unsigned int from_cfi;
};

char *vs__strdup(struct vs_data *d, const char *s)
{
	char **v, *c = strdup(s);

	if (!c)
		return NULL;
	v = realloc(d->strs, (d->nstrs + 1) * sizeof(*v));
	if (!v) {
		free(c);
		return NULL;
	}
	d->strs = v;
	d->strs[d->nstrs++] = c;
	return c;
}

/* ARM and AArch64 mapping symbols: $a, $t, $d, $x, optionally ".suffix". */
static int mapping_symbol(const char *n)
{
	return n[0] == '$' && strchr("atdx", n[1]) && n[1] && (n[2] == 0 || n[2] == '.');
}

static unsigned int rank_of(unsigned int flags, size_t namelen)
{
	unsigned int bind = flags & VDSOSCOPE_SYM_GLOBAL ? 0 : flags & VDSOSCOPE_SYM_WEAK ? 1 : 2;
	unsigned int type = flags & VDSOSCOPE_SYM_NOTYPE ? 1 : 0;

	return bind << 20 | type << 19 | (namelen < 0xffff ? 0xffff - (unsigned int)namelen : 0);
}

static int add_cand(struct cand **v, size_t *n, size_t *cap, const struct cand *c)
{
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 64;
		struct cand *nv = realloc(*v, nc * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *c;
	return 0;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->sym.name, y->sym.name);
}

/* The executable range holding link-time ADDR: a section when section
 * headers are known, else the executable PT_LOADs.  0 when none. */
static int exec_range(const struct vs_data *d, uint64_t addr, uint64_t *hi)
{
	size_t i;

	if (!d->nexec) {
		*hi = d->elf.text_hi;
		return addr >= d->elf.text_lo && addr < d->elf.text_hi;
	}
	for (i = 0; i < d->nexec; i++)
		if (addr >= d->exec[i][0] && addr < d->exec[i][1]) {
			*hi = d->exec[i][1];
			return 1;
		}
	return 0;
}

/* Fills C from a symbol; returns 0 when it is not a code symbol. */
static int code_symbol(const struct vs_data *d, const char *name, uint64_t value,
		       uint64_t size, unsigned int type, unsigned int bind, unsigned int shndx,
		       struct cand *c)
{
	memset(c, 0, sizeof(*c));
	if (!name || !*name || shndx == SHN_UNDEF || shndx == SHN_ABS)
		return 0;
	if (type != STT_FUNC && type != STT_NOTYPE && type != STT_GNU_IFUNC)
		return 0;
	if (mapping_symbol(name))
		return 0;
	if (d->elf.machine == EM_ARM && (value & 1)) {
		value &= ~1ull;
		c->sym.flags |= VDSOSCOPE_SYM_THUMB;
	}
	{
		uint64_t hi;
		if (!exec_range(d, value, &hi))
			return 0;
	}
	c->start = value;
	c->size = size;
	c->sym.name = name;
	c->sym.version = "";
	if (bind == STB_GLOBAL)
		c->sym.flags |= VDSOSCOPE_SYM_GLOBAL;
	else if (bind == STB_WEAK)
		c->sym.flags |= VDSOSCOPE_SYM_WEAK;
	else
		c->sym.flags |= VDSOSCOPE_SYM_LOCAL;
	if (type == STT_NOTYPE)
		c->sym.flags |= VDSOSCOPE_SYM_NOTYPE;
	return 1;
}

static int func_cmp(const void *a, const void *b)
{
	const struct vs_func *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int vs__symbols_build(struct vs_data *d, const char *source)
{
	struct cand *c = NULL, one;
	size_t n = 0, cap = 0, i, j, k;
	int rc = 0;

	for (i = 1; i < d->elf.nsyms; i++) {
		struct vs_elf_sym s;

		if (vs_elf_sym(&d->elf, (uint32_t)i, &s)) {
			rc = vs__err(VDSOSCOPE_E_BAD_SYMBOL,
				     "%s: dynamic symbol %zu: name outside the string table or without its NUL",
				     source, i);
			goto out;
		}
		if (!code_symbol(d, s.name, s.value, s.size, s.type, s.bind, s.shndx, &one))
			continue;
		if (s.version > 1) {
			const char *v = vs_elf_version_name(&d->elf, s.version);
			if (!v) {
				rc = vs__err(VDSOSCOPE_E_BAD_VERSION, "%s: symbol %s: version index %u",
					     source, s.name, s.version);
				goto out;
			}
			one.sym.version = v;
		}
		if (s.hidden)
			one.sym.flags |= VDSOSCOPE_SYM_HIDDEN_VERSION;
		one.rank = rank_of(one.sym.flags, strlen(s.name));
		if ((rc = add_cand(&c, &n, &cap, &one)))
			goto out;
	}
	for (i = 0; i < d->ndbgsyms; i++) {
		const struct vs_rawsym *s = &d->dbgsyms[i];
		int dup = 0;

		if (!code_symbol(d, s->name, s->value, s->size, s->type, s->bind, 1, &one))
			continue;
		for (j = 0; j < n && !dup; j++)
			dup = c[j].start == one.start && !strcmp(c[j].sym.name, one.sym.name);
		if (dup)
			continue;
		one.sym.flags |= VDSOSCOPE_SYM_LOCAL;
		one.sym.flags &= ~(VDSOSCOPE_SYM_GLOBAL | VDSOSCOPE_SYM_WEAK);
		one.rank = rank_of(one.sym.flags, strlen(s->name));
		if ((rc = add_cand(&c, &n, &cap, &one)))
			goto out;
	}
	if (n > 1)
		qsort(c, n, sizeof(*c), cand_cmp);

	/* an unsized NOTYPE symbol inside a sized function is a label in it
	 * (int80_landing_pad in __kernel_vsyscall), not a function */
	for (i = 0, k = 0; i < n; i++) {
		int label = 0;
		if ((c[i].sym.flags & VDSOSCOPE_SYM_NOTYPE) && !c[i].size)
			for (j = 0; j < n && !label; j++)
				label = c[j].size && c[j].start < c[i].start &&
					c[i].start - c[j].start < c[j].size;
		if (!label)
			c[k++] = c[i];
	}
	n = k;

	/* code with CFI that no symbol starts and no sized symbol covers */
	for (i = 0; i < d->nfdes; i++) {
		uint64_t lo = d->fdes[i][0];
		int covered = 0;
		char name[40];

		/* a symbol starting inside the FDE owns it (i386 sigreturn
		 * FDEs begin one NOP early, for unwinders that look up pc-1) */
		for (j = 0; j < n && !covered; j++)
			covered = (c[j].start >= lo && c[j].start < d->fdes[i][1]) ||
				  (c[j].size && c[j].start < lo && lo - c[j].start < c[j].size);
		{
			uint64_t hi;
			if (covered || !exec_range(d, lo, &hi))
				continue;
		}
		snprintf(name, sizeof(name), "fde@0x%llx", (unsigned long long)lo);
		memset(&one, 0, sizeof(one));
		one.start = lo;
		one.size = d->fdes[i][1] - lo;
		one.sym.version = "";
		one.sym.name = vs__strdup(d, name);
		one.from_cfi = 1;
		if (!one.sym.name || (rc = add_cand(&c, &n, &cap, &one))) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (n > 1)
		qsort(c, n, sizeof(*c), cand_cmp);

	d->names = calloc(n ? n : 1, sizeof(*d->names));
	d->funcs = calloc(n ? n : 1, sizeof(*d->funcs));
	if (!d->names || !d->funcs) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0, k = 0; i < n; i = j) {
		struct vs_func *f = &d->funcs[k++];
		uint64_t end = 0;

		f->start = c[i].start;
		f->first = (uint32_t)i;
		for (j = i; j < n && c[j].start == c[i].start; j++) {
			d->names[j] = c[j].sym;
			if (c[j].size && c[j].start + c[j].size > end)
				end = c[j].start + c[j].size;
			if (c[j].from_cfi)
				f->flags |= VDSOSCOPE_FUNC_FROM_CFI;
		}
		f->nnames = (unsigned int)(j - i);
		f->end = end;
		if (end && !(f->flags & VDSOSCOPE_FUNC_FROM_CFI))
			f->flags |= VDSOSCOPE_FUNC_SIZED;
	}
	d->nnames = n;
	d->nfuncs = k;
	for (i = 0; i < k; i++) {
		uint64_t next = i + 1 < k ? d->funcs[i + 1].start : d->elf.text_hi, hi;
		if (exec_range(d, d->funcs[i].start, &hi) && hi < next)
			next = hi;
		if (!d->funcs[i].end)
			d->funcs[i].end = next;
	}
	if (k > 1)
		qsort(d->funcs, k, sizeof(*d->funcs), func_cmp);
out:
	free(c);
	return rc;
}

static void func_out(const struct vdsoscope_image *img, const struct vs_func *f,
		     struct vdsoscope_func *out)
{
	out->start = f->start + img->bias;
	out->end = f->end + img->bias;
	out->flags = f->flags;
	out->nnames = f->nnames;
	out->names = img->d->names + f->first;
}

size_t vdsoscope_func_count(const struct vdsoscope_image *img)
{
	return img->d->nfuncs;
}

int vdsoscope_func_get(const struct vdsoscope_image *img, size_t idx, struct vdsoscope_func *out)
{
	if (idx >= img->d->nfuncs)
		return -VDSOSCOPE_E_NOT_FOUND;
	func_out(img, &img->d->funcs[idx], out);
	return 0;
}

/* The three entries of x86_64's vsyscall page, 1 KiB apart. */
static const struct vdsoscope_sym vsyscall_names[3] = {
	{ "vsyscall_gettimeofday", "", VDSOSCOPE_SYM_GLOBAL },
	{ "vsyscall_time", "", VDSOSCOPE_SYM_GLOBAL },
	{ "vsyscall_getcpu", "", VDSOSCOPE_SYM_GLOBAL },
};

static int vsyscall_func(uint64_t addr, struct vdsoscope_func *out)
{
	unsigned int n = (unsigned int)((addr - VS_VSYSCALL_START) >> 10);

	if (n > 2)
		return -VDSOSCOPE_E_NOT_FOUND;
	out->start = VS_VSYSCALL_START + ((uint64_t)n << 10);
	out->end = out->start + 1024;
	out->flags = VDSOSCOPE_FUNC_VSYSCALL;
	out->nnames = 1;
	out->names = &vsyscall_names[n];
	return 0;
}

int vdsoscope_func_at(const struct vdsoscope_image *img, uint64_t addr,
		      struct vdsoscope_func *out, size_t *idx)
{
	const struct vs_data *d = img->d;
	uint64_t a = addr - img->bias;
	size_t lo = 0, hi = d->nfuncs;

	if (a >= d->size + d->link_base || a < d->link_base) {
		if (d->arch == &vs__arch_x86_64 && vs__in_vsyscall(addr))
			return vsyscall_func(addr, out);
		return -VDSOSCOPE_E_NOT_IN_IMAGE;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->funcs[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || a >= d->funcs[lo - 1].end)
		return -VDSOSCOPE_E_NOT_FOUND;
	func_out(img, &d->funcs[lo - 1], out);
	if (idx)
		*idx = lo - 1;
	return 0;
}

int vdsoscope_lookup(const struct vdsoscope_image *img, const char *name, const char *version,
		     uint64_t *addr)
{
	struct vs_elf_sym s;
	int rc;

	if (!name)
		return vs__err(VDSOSCOPE_E_INVALID, "lookup without a name");
	rc = vs_elf_lookup(&img->d->elf, name, version, &s);
	if (rc == VS_ELF_E_NOT_FOUND)
		return vs__err(VDSOSCOPE_E_NOT_FOUND, "symbol %s%s%s", name, version ? "@" : "",
			       version ? version : "");
	if (rc)
		return vs__elf_err(rc, img->source);
	*addr = s.value + img->bias;
	return 0;
}
