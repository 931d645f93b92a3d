/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A find_elf wrapper that hands libdwfl the vDSO from an opened image, with
 * unwind tables written from the rows the library compiled. */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <gelf.h>
#include "vdsoscope-unwind.h"
#include "eh-table.h"
#include "dwarf-write.h"

#define VDSO_MODULE_MAGIC 0x7664736fu /* "vdso" */
#define ROWS_MAX (16u << 20)

struct vdso_copy {
	struct vdso_copy *next;
	unsigned char bytes[];
};

/* Kept in the module's userdata slot; libdwfl has no hook to free it, so
 * it lives as long as the process (one record per report, with the ELF
 * written for it, and a copy of that per libdwfl look-up when the image
 * has compressed sections). */
struct vdso_module {
	unsigned int magic;
	const struct vdsoscope_image *img;
	unsigned char *elf;     /* the image with the written tables, or NULL */
	size_t elf_size;
	struct vdso_module *next;
	struct vdso_copy *copies; /* images with compressed sections */
};

/* libdwfl frees no module user data: the records live as long as the
 * process, on this list */
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vdso_module *modules;

#define MAX_INFLATE (512u << 20)
#define ZLIB_MAX_RATIO 1032u

/* The size a compressed section claims to inflate to and its compressed
 * bytes; 0 when it is not compressed, UINT64_MAX when unreadable. */
static uint64_t claimed(Elf *elf, Elf_Scn *scn, size_t shstrndx, int *gnu, uint64_t *packed)
{
	const char *name;
	Elf_Data *raw;
	GElf_Shdr sh;
	GElf_Chdr ch;
	uint64_t n = 0;
	int i;

	*gnu = 0;
	if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
		return 0;
	if (sh.sh_flags & SHF_COMPRESSED) {
		*packed = sh.sh_size;
		return (sh.sh_flags & SHF_ALLOC) || !gelf_getchdr(scn, &ch) ||
		       ch.ch_type != ELFCOMPRESS_ZLIB ? UINT64_MAX : ch.ch_size;
	}
	name = elf_strptr(elf, shstrndx, sh.sh_name);
	if (!name || strncmp(name, ".zdebug", 7) || !(raw = elf_rawdata(scn, NULL)) ||
	    raw->d_size < 12 || memcmp(raw->d_buf, "ZLIB", 4))
		return 0;
	for (i = 0; i < 8; i++)
		n = n << 8 | ((const unsigned char *)raw->d_buf)[4 + i];
	*gnu = 1;
	*packed = raw->d_size;
	return n;
}

/* libdw inflates compressed sections by rewriting their headers, which
 * elf_memory() keeps in the caller's bytes: an image with such sections
 * (an unstripped one from a file) goes to libdwfl as a copy of its own,
 * inflated here within the library's bounds; a section that claims more,
 * or cannot be inflated, is made SHT_NOBITS, as if stripped. */
static Elf *image_elf(struct vdso_module *m, const void *bytes, size_t size)
{
	Elf *elf = elf_memory((char *)bytes, size);
	struct vdso_copy *c;
	uint64_t budget = MAX_INFLATE, want, packed = 0;
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	int gnu, any = 0;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return elf;
	while (!any && (scn = elf_nextscn(elf, scn)))
		any = claimed(elf, scn, shstrndx, &gnu, &packed) != 0;
	if (!any)
		return elf;
	elf_end(elf);
	if (!(c = malloc(sizeof(*c) + size)))
		return NULL;
	memcpy(c->bytes, bytes, size);
	if (!(elf = elf_memory((char *)c->bytes, size))) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&modules_lock);
	c->next = m->copies;
	m->copies = c;
	pthread_mutex_unlock(&modules_lock);
	scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!(want = claimed(elf, scn, shstrndx, &gnu, &packed)))
			continue;
		if (want <= budget && want / ZLIB_MAX_RATIO <= packed &&
		    (gnu ? elf_compress_gnu(scn, 0, 0) : elf_compress(scn, 0, 0)) >= 0) {
			budget -= want;
			continue;
		}
		if (gelf_getshdr(scn, &sh)) {
			sh.sh_type = SHT_NOBITS;
			sh.sh_flags &= ~(uint64_t)SHF_COMPRESSED;
			gelf_update_shdr(scn, &sh);
		}
	}
	return elf;
}

static int image_row(const void *ctx, size_t idx, struct vdsoscope_row *out)
{
	return vdsoscope_cfi_get(ctx, idx, out);
}

struct put {
	unsigned char *p;
	bool big;
	bool is64;
};

/* FIELD of an ELF header, program or section header of either class at P
 * (the structure's bytes), set to V. */
#define PUT(w, p, type, field, v)                                                          \
	((w)->is64 ? vs_put_fixed((p) + offsetof(Elf64_##type, field), (v),                 \
				  sizeof(((Elf64_##type *)0)->field), (w)->big)            \
		   : vs_put_fixed((p) + offsetof(Elf32_##type, field), (v),                 \
				  sizeof(((Elf32_##type *)0)->field), (w)->big))

static void put_phdr(const struct put *w, unsigned char *p, const GElf_Phdr *ph)
{
	PUT(w, p, Phdr, p_type, ph->p_type);
	PUT(w, p, Phdr, p_flags, ph->p_flags);
	PUT(w, p, Phdr, p_offset, ph->p_offset);
	PUT(w, p, Phdr, p_vaddr, ph->p_vaddr);
	PUT(w, p, Phdr, p_paddr, ph->p_paddr);
	PUT(w, p, Phdr, p_filesz, ph->p_filesz);
	PUT(w, p, Phdr, p_memsz, ph->p_memsz);
	PUT(w, p, Phdr, p_align, ph->p_align);
}

static uint64_t get_fixed(const unsigned char *b, unsigned int n, bool big)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * (big ? n - 1 - i : i));
	return v;
}

/*
 * The image as an ELF file whose unwind tables are written from its rows:
 * its bytes (file offsets are offsets in the image, as for elf_memory() on
 * them), then an .eh_frame_hdr with its table and an .eh_frame placed
 * just past the image's link-time range, then a new program header table
 * whose PT_GNU_EH_FRAME (replaced or added) points at them.  Sections
 * named .eh_frame_hdr and .eh_frame point at them too; an image without
 * usable section headers gets none, and libdw then reads the table through
 * PT_GNU_EH_FRAME and libdwfl the symbols through PT_DYNAMIC.  The load
 * layout, notes and dynamic symbols are the image's.
 */
static int write_elf(struct vdso_module *m)
{
	const struct vdsoscope_image *img = m->img;
	const struct vdsoscope_arch *arch = vdsoscope_arch(img);
	struct vs_eh_table t;
	struct put w = { .big = vdsoscope_big_endian(img), .is64 = vdsoscope_elf_class(img) == 64 };
	const unsigned char *bytes;
	unsigned char *out = NULL;
	size_t size, nph, nsh = 0, shstrndx = 0, i, tab_off, ph_off, phent, total, eh_off;
	uint64_t link = vdsoscope_link_address(img), vaddr;
	GElf_Ehdr eh;
	GElf_Phdr ph;
	Elf *elf;
	int rc, ehf = -1;

	bytes = vdsoscope_image_data(img, &size);
	if (!arch || !bytes)
		return -ENODATA;
	elf_version(EV_CURRENT);
	if (!(elf = elf_memory((char *)bytes, size)))
		return -ENODATA;
	if (!gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &nph) || nph >= 0xffff) {
		elf_end(elf);
		return -ENODATA;
	}
	if (elf_getshdrnum(elf, &nsh) || elf_getshdrstrndx(elf, &shstrndx) || eh.e_shoff == 0 ||
	    eh.e_shentsize != (w.is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr)) ||
	    eh.e_shoff > size || (size - eh.e_shoff) / eh.e_shentsize < nsh)
		nsh = 0;
	vaddr = (link + size + 4095) & ~(uint64_t)4095;
	rc = vs_eh_table_build(&t, arch, w.big, img, image_row, img, vdsoscope_cfi_count(img),
			       vaddr, link - vdsoscope_load_address(img), ROWS_MAX);
	if (rc) {
		elf_end(elf);
		return rc;
	}
	if (!w.is64 && vaddr + t.size > UINT32_MAX) {
		rc = -E2BIG;
		goto out;
	}
	phent = w.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	tab_off = (size + 15) & ~(size_t)15;
	ph_off = (tab_off + t.size + 7) & ~(size_t)7;
	total = ph_off + (nph + 1) * phent;
	if (!(out = calloc(1, total))) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(out, bytes, size);
	memcpy(out + tab_off, t.bytes, t.size);
	/* .eh_frame follows the table: the header's eh_frame_ptr (pcrel) */
	eh_off = 4 + (size_t)(int32_t)get_fixed(t.bytes + 4, 4, w.big);
	for (i = 0; i < nph; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph)) {
			rc = -ENODATA;
			goto out;
		}
		if (ph.p_type == PT_GNU_EH_FRAME && ehf < 0) {
			ehf = (int)i;
			continue;
		}
		put_phdr(&w, out + ph_off + i * phent, &ph);
	}
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_GNU_EH_FRAME;
	ph.p_flags = PF_R;
	ph.p_offset = tab_off;
	ph.p_vaddr = ph.p_paddr = vaddr;
	ph.p_filesz = ph.p_memsz = t.size;
	ph.p_align = 4;
	if (ehf < 0)
		ehf = (int)nph++;
	put_phdr(&w, out + ph_off + (size_t)ehf * phent, &ph);
	PUT(&w, out, Ehdr, e_phoff, ph_off);
	PUT(&w, out, Ehdr, e_phentsize, phent);
	PUT(&w, out, Ehdr, e_phnum, nph);
	if (nsh == 0) {
		PUT(&w, out, Ehdr, e_shoff, 0);
		PUT(&w, out, Ehdr, e_shnum, 0);
		PUT(&w, out, Ehdr, e_shstrndx, 0);
	}
	for (i = 1; i < nsh; i++) {
		Elf_Scn *scn = elf_getscn(elf, i);
		unsigned char *sp = out + eh.e_shoff + i * eh.e_shentsize;
		const char *name;
		GElf_Shdr sh;
		if (!scn || !gelf_getshdr(scn, &sh) ||
		    !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(name, ".eh_frame_hdr")) {
			PUT(&w, sp, Shdr, sh_addr, vaddr);
			PUT(&w, sp, Shdr, sh_offset, tab_off);
			PUT(&w, sp, Shdr, sh_size, eh_off);
		} else if (!strcmp(name, ".eh_frame")) {
			PUT(&w, sp, Shdr, sh_addr, vaddr + eh_off);
			PUT(&w, sp, Shdr, sh_offset, tab_off + eh_off);
			PUT(&w, sp, Shdr, sh_size, t.size - eh_off);
		}
	}
	m->elf = out;
	m->elf_size = total;
	out = NULL;
out:
	free(out);
	vs_eh_table_free(&t);
	elf_end(elf);
	return rc;
}

static int vdso_elf(void **userdata, char **file_name, Elf **elfp)
{
	struct vdso_module *m = *userdata;
	const void *bytes;
	size_t size;

	elf_version(EV_CURRENT);
	*file_name = NULL;
	pthread_mutex_lock(&modules_lock);
	if (!m->elf)
		write_elf(m);
	pthread_mutex_unlock(&modules_lock);
	if (m->elf) {
		*elfp = image_elf(m, m->elf, m->elf_size);
		return -1;
	}
	/* no rows to write: the image as it is, with its own tables */
	bytes = vdsoscope_image_data(m->img, &size);
	*elfp = image_elf(m, bytes, size);
	return -1;
}

static int is_ours(void **userdata)
{
	const struct vdso_module *m = userdata ? *userdata : NULL;

	return m && m->magic == VDSO_MODULE_MAGIC;
}

int vdsoscope_dwfl_proc_find_elf(Dwfl_Module *mod, void **userdata, const char *name,
				 Dwarf_Addr base, char **file_name, Elf **elfp)
{
	if (is_ours(userdata))
		return vdso_elf(userdata, file_name, elfp);
	return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
}

int vdsoscope_dwfl_core_find_elf(Dwfl_Module *mod, void **userdata, const char *name,
				 Dwarf_Addr base, char **file_name, Elf **elfp)
{
	if (is_ours(userdata))
		return vdso_elf(userdata, file_name, elfp);
	return dwfl_build_id_find_elf(mod, userdata, name, base, file_name, elfp);
}

/* The modules to report again: all but those overlapping [lo, hi). */
struct keep {
	uint64_t lo, hi;
	struct keep_mod { const char *name; Dwarf_Addr start, end; } *v;
	size_t n, cap;
	int err;
};

static int keep_module(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr start,
		       void *arg)
{
	struct keep *k = arg;
	Dwarf_Addr end;

	(void)ud;
	name = dwfl_module_info(mod, NULL, &start, &end, NULL, NULL, NULL, NULL);
	if (start < k->hi && end > k->lo)
		return DWARF_CB_OK;
	if (k->n == k->cap) {
		size_t nc = k->cap ? 2 * k->cap : 32;
		void *p = realloc(k->v, nc * sizeof(*k->v));
		if (!p) {
			k->err = ENOMEM;
			return DWARF_CB_ABORT;
		}
		k->v = p;
		k->cap = nc;
	}
	k->v[k->n].name = name;
	k->v[k->n].start = start;
	k->v[k->n].end = end;
	k->n++;
	return DWARF_CB_OK;
}

int vdsoscope_dwfl_report_vdso(Dwfl *dwfl, const struct vdsoscope_image *img)
{
	struct keep k = { 0 };
	struct vdso_module *m;
	Dwfl_Module *mod;
	uint64_t load;
	size_t size, i;
	void **ud;

	if (!dwfl || !img) {
		errno = EINVAL;
		return -1;
	}
	load = vdsoscope_load_address(img);
	vdsoscope_image_data(img, &size);
	mod = dwfl_addrmodule(dwfl, load);
	if (mod) {
		dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
		if (is_ours(ud))
			return 0;  /* reported before: keep the first */
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -1;
	m->magic = VDSO_MODULE_MAGIC;
	m->img = img;
	/* libdwfl cannot drop one module: report all others again, so that
	 * the one it made of the vDSO (with the image's own unwind tables)
	 * goes away and ours takes its place */
	k.lo = load;
	k.hi = load + size;
	if (dwfl_getmodules(dwfl, keep_module, &k, 0) < 0 && k.err) {
		free(k.v);
		free(m);
		errno = k.err;
		return -1;
	}
	dwfl_report_begin(dwfl);
	for (i = 0; i < k.n; i++)
		dwfl_report_module(dwfl, k.v[i].name, k.v[i].start, k.v[i].end);
	free(k.v);
	mod = dwfl_report_module(dwfl, "[vdso]", load, load + size);
	if (dwfl_report_end(dwfl, NULL, NULL) != 0 || !mod) {
		free(m);
		errno = EINVAL;
		return -1;
	}
	dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	if (*ud && !is_ours(ud)) {
		free(m);
		errno = EEXIST;
		return -1;
	}
	*ud = m;
	pthread_mutex_lock(&modules_lock);
	m->next = modules;
	modules = m;
	pthread_mutex_unlock(&modules_lock);
	return 1;
}
