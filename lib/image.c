/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing an image once, sharing parsed images, and the identity queries. */
#include "config.h"
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vs_data *cache;

int vs__check_opts(const struct vdsoscope_open_opts *opts)
{
	size_t i;

	if (!opts)
		return 0;
	if (opts->sz < sizeof(size_t))
		return vs__err(VDSOSCOPE_E_INVALID, "options: sz %zu is too small", opts->sz);
	for (i = sizeof(*opts); i < opts->sz; i++)
		if (((const unsigned char *)opts)[i])
			return vs__err(VDSOSCOPE_E_INVALID,
				       "options: unknown non-zero byte at offset %zu", i);
	return 0;
}

int vs__elf_err(int elf_rc, const char *what)
{
	switch (elf_rc) {
	case VS_ELF_E_NOT_ELF:
		return vs__err(VDSOSCOPE_E_NOT_ELF, "%s: no ELF magic", what);
	case VS_ELF_E_BAD_CLASS:
		return vs__err(VDSOSCOPE_E_BAD_CLASS, "%s: ELF class or data byte", what);
	case VS_ELF_E_TRUNCATED:
		return vs__err(VDSOSCOPE_E_TRUNCATED, "%s: headers point past the end", what);
	case VS_ELF_E_BAD_PHDR:
		return vs__err(VDSOSCOPE_E_BAD_PHDR, "%s", what);
	case VS_ELF_E_BAD_DYNAMIC:
		return vs__err(VDSOSCOPE_E_BAD_DYNAMIC, "%s: a dynamic pointer lies outside the image",
			       what);
	case VS_ELF_E_BAD_HASH:
		return vs__err(VDSOSCOPE_E_BAD_HASH, "%s", what);
	case VS_ELF_E_BAD_SYMBOL:
		return vs__err(VDSOSCOPE_E_BAD_SYMBOL, "%s", what);
	case VS_ELF_E_BAD_VERSION:
		return vs__err(VDSOSCOPE_E_BAD_VERSION, "%s", what);
	default:
		return vs__err(VDSOSCOPE_E_NOT_FOUND, "%s", what);
	}
}

static void data_free(struct vs_data *d)
{
	size_t i;

	if (!d)
		return;
	vs__debug_free(d);
	for (i = 0; i < d->nstrs; i++)
		free(d->strs[i]);
	free(d->strs);
	free(d->versions);
	free(d->funcs);
	free(d->names);
	free(d->rows);
	free(d->rules);
	free(d->crules);
	free(d->row_index);
	free(d->ops);
	free(d->fdes);
	free(d->bytes);
	free(d->cache_key);
	free(d);
}

/* The build-id and Linux version notes. */
static void read_notes(struct vs_data *d)
{
	const struct vs_elf *e = &d->elf;
	unsigned int s;

	for (s = 0; s < e->nnotes; s++) {
		uint64_t off = e->note_off[s], end = off + e->note_size[s];

		while (off + 12 <= end) {
			uint32_t namesz = vs_elf_u32(e, off), descsz = vs_elf_u32(e, off + 4);
			uint32_t type = vs_elf_u32(e, off + 8);
			uint64_t name = off + 12, desc = name + (((uint64_t)namesz + 3) & ~3ull);
			uint64_t next = desc + (((uint64_t)descsz + 3) & ~3ull);

			if (next > end || desc > end || descsz > end - desc)
				break;
			if (namesz == 4 && !memcmp(e->data + name, "GNU", 4) && type == 3 &&
			    descsz > 0 && descsz <= sizeof(d->build_id) && !d->build_id_len) {
				size_t i;
				memcpy(d->build_id, e->data + desc, descsz);
				d->build_id_len = descsz;
				for (i = 0; i < descsz; i++)
					sprintf(d->build_id_hex + 2 * i, "%02x", d->build_id[i]);
			} else if (namesz == 6 && !memcmp(e->data + name, "Linux", 6) && type == 0 &&
				   descsz == 4) {
				d->linux_version = vs_elf_u32(e, desc);
			}
			off = next;
		}
	}
}

static int read_versions(struct vs_data *d)
{
	unsigned int i, ndx, flags;
	const char *name;

	for (i = 0; (name = vs_elf_verdef(&d->elf, i, &ndx, &flags)); i++) {
		const char **v;
		if (flags & 1) /* VER_FLG_BASE: the soname */
			continue;
		v = realloc(d->versions, (d->nversions + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->versions = v;
		d->versions[d->nversions++] = name;
	}
	return 0;
}

static char *debug_key(const struct vdsoscope_open_opts *opts)
{
	if (opts && (opts->flags & VDSOSCOPE_OPEN_NO_CACHE))
		return NULL;
	if (!opts || (!opts->debug_file && !opts->debug_dirs))
		return strdup(!opts || !(opts->flags & VDSOSCOPE_OPEN_NO_DEBUG) ? "default"
			      : (opts->flags & VDSOSCOPE_OPEN_AS_MAPPED) ? "mapped" : "none");
	return NULL; /* custom debug settings: not shared */
}

static struct vs_data *cache_find(const unsigned char *bytes, size_t size, const char *key)
{
	struct vs_data *d;

	for (d = cache; d; d = d->next)
		if (d->size == size && !strcmp(d->cache_key, key) && !memcmp(d->bytes, bytes, size)) {
			d->refs++;
			return d;
		}
	return NULL;
}

static int data_build(struct vs_data **out, unsigned char *bytes, size_t size,
		      const char *source, const struct vdsoscope_open_opts *opts)
{
	struct vs_data *d = calloc(1, sizeof(*d));
	int rc;

	if (!d) {
		free(bytes);
		return -ENOMEM;
	}
	d->refs = 1;
	d->bytes = bytes;
	d->size = size;
	d->debug_fd = -1;
	rc = vs_elf_parse(&d->elf, bytes, size);
	if (rc) {
		rc = vs__elf_err(rc, source);
		goto fail;
	}
	if (!d->elf.symtab) {
		rc = vs__err(VDSOSCOPE_E_BAD_DYNAMIC, "%s: no dynamic symbol table", source);
		goto fail;
	}
	vs__data_set_arch(d, vdsoscope_arch_by_machine(d->elf.machine, d->elf.is64 ? 64 : 32));
	d->link_base = d->elf.link_base;
	d->text_lo = d->elf.text_lo;
	d->text_hi = d->elf.text_hi;
	d->soname = d->elf.soname != ~(uint64_t)0 ? vs_elf_str(&d->elf, d->elf.soname) : NULL;
	if (!d->soname)
		d->soname = "";
	read_notes(d);
	if ((rc = read_versions(d)))
		goto fail;
	d->as_mapped = opts && (opts->flags & VDSOSCOPE_OPEN_NO_DEBUG) &&
		       (opts->flags & VDSOSCOPE_OPEN_AS_MAPPED);
	if (!(opts && (opts->flags & VDSOSCOPE_OPEN_NO_DEBUG)) && (rc = vs__debug_find(d, opts)))
		goto fail;
	if ((rc = vs__exec_sections(d)))
		goto fail;
	vs__cfi_compile(d); /* a CFI error leaves symbols usable: kept in d */
	if ((rc = vs__symbols_build(d, source)) || (rc = vs__cfi_finish(d)))
		goto fail;
	*out = d;
	return 0;
fail:
	data_free(d);
	return rc;
}

void vs__data_set_arch(struct vs_data *d, const struct vdsoscope_arch *a)
{
	unsigned int r;

	d->arch = a;
	d->nsaved = 0;
	if (a && a->nregs <= 64)
		for (r = 0; r < a->nregs; r++)
			if (a->callee_saved[0] >> r & 1)
				d->saved[d->nsaved++] = (uint8_t)r;
}

int vs__image_create(struct vdsoscope_image **out, unsigned char *bytes, size_t size,
		     uint64_t load, int have_load, const char *source,
		     const struct vdsoscope_open_opts *opts)
{
	struct vdsoscope_image *img;
	struct vs_data *d = NULL;
	char *key = debug_key(opts);
	int rc;

	img = calloc(1, sizeof(*img));
	if (!img) {
		free(bytes);
		free(key);
		return -ENOMEM;
	}
	if (key) {
		pthread_mutex_lock(&cache_lock);
		d = cache_find(bytes, size, key);
		pthread_mutex_unlock(&cache_lock);
	}
	if (d) {
		free(bytes);
		free(key);
	} else {
		rc = data_build(&d, bytes, size, source, opts);
		if (rc) {
			free(img);
			free(key);
			return rc;
		}
		if (key) {
			struct vs_data *other;
			d->cache_key = key;
			pthread_mutex_lock(&cache_lock);
			/* another thread may have built the same meanwhile */
			other = cache_find(d->bytes, d->size, key);
			if (other) {
				pthread_mutex_unlock(&cache_lock);
				data_free(d);
				d = other;
			} else {
				d->cached = 1;
				d->next = cache;
				cache = d;
				pthread_mutex_unlock(&cache_lock);
			}
		}
	}
	img->d = d;
	img->load = have_load ? load : d->link_base;
	img->bias = img->load - d->link_base;
	img->arch = d->arch;
	img->row_index = d->row_index;
	img->rows = d->rows;
	img->crules = d->crules;
	img->link_base = d->link_base;
	img->size = d->size;
	img->addr_mask = d->arch && d->arch->addr_size == 4 ? 0xffffffffull : ~0ull;
	img->ip_reg = d->arch ? d->arch->ip_reg : 0;
	img->pc_mask = img->addr_mask & (d->arch && d->arch->machine == EM_ARM ? ~1ull : ~0ull);
	snprintf(img->source, sizeof(img->source), "%s", source);
	*out = img;
	vs__clear_err();
	return 0;
}

int vs__cache_copy(const uint8_t *id, size_t len, unsigned char **bytes, size_t *size)
{
	struct vs_data *d;
	int rc = 0;

	*bytes = NULL;
	pthread_mutex_lock(&cache_lock);
	for (d = cache; d; d = d->next)
		if (d->build_id_len == len && !memcmp(d->build_id, id, len)) {
			*bytes = malloc(d->size ? d->size : 1);
			if (*bytes) {
				memcpy(*bytes, d->bytes, d->size);
				*size = d->size;
			} else {
				rc = -ENOMEM;
			}
			break;
		}
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

void vdsoscope_image_close(struct vdsoscope_image *img)
{
	struct vs_data *d, **pp;
	int last;

	if (!img)
		return;
	d = img->d;
	pthread_mutex_lock(&cache_lock);
	last = --d->refs == 0;
	if (last && d->cached)
		for (pp = &cache; *pp; pp = &(*pp)->next)
			if (*pp == d) {
				*pp = d->next;
				break;
			}
	pthread_mutex_unlock(&cache_lock);
	if (last)
		data_free(d);
	free(img);
}

const uint8_t *vdsoscope_build_id(const struct vdsoscope_image *img, size_t *len)
{
	*len = img->d->build_id_len;
	return img->d->build_id_len ? img->d->build_id : NULL;
}

const char *vdsoscope_build_id_hex(const struct vdsoscope_image *img)
{
	return img->d->build_id_hex;
}

const char *vdsoscope_soname(const struct vdsoscope_image *img)
{
	return img->d->soname;
}

int vdsoscope_machine(const struct vdsoscope_image *img)
{
	return img->d->elf.machine;
}

int vdsoscope_elf_class(const struct vdsoscope_image *img)
{
	return img->d->elf.is64 ? 64 : 32;
}

bool vdsoscope_big_endian(const struct vdsoscope_image *img)
{
	return img->d->bytes[5] == 2;
}

uint32_t vdsoscope_linux_version(const struct vdsoscope_image *img)
{
	return img->d->linux_version;
}

uint64_t vdsoscope_load_address(const struct vdsoscope_image *img)
{
	return img->load;
}

uint64_t vdsoscope_link_address(const struct vdsoscope_image *img)
{
	return img->d->link_base;
}

const void *vdsoscope_image_data(const struct vdsoscope_image *img, size_t *size)
{
	*size = img->d->size;
	return img->d->bytes;
}

const char *vdsoscope_image_source(const struct vdsoscope_image *img)
{
	return img->source;
}

const char *vdsoscope_debug_match(const struct vdsoscope_image *img)
{
	if (!img->d->debug_elf)
		return NULL;
	if (!img->d->debug_path)
		return "self";
	return img->d->debug_by_content ? "content" : "build-id";
}

const char *vdsoscope_debug_file(const struct vdsoscope_image *img)
{
	return img->d->debug_path;
}

void vdsoscope_text_range(const struct vdsoscope_image *img, uint64_t *lo, uint64_t *hi)
{
	*lo = img->d->text_lo + img->bias;
	*hi = img->d->text_hi + img->bias;
}

const struct vdsoscope_arch *vdsoscope_arch(const struct vdsoscope_image *img)
{
	return img->d->arch;
}

size_t vdsoscope_version_count(const struct vdsoscope_image *img)
{
	return img->d->nversions;
}

const char *vdsoscope_version_name(const struct vdsoscope_image *img, size_t idx)
{
	return idx < img->d->nversions ? img->d->versions[idx] : NULL;
}
