/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A find_elf wrapper that hands libdwfl the vDSO from an opened image. */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <gelf.h>
#include "vdsoscope-unwind.h"

#define VDSO_MODULE_MAGIC 0x7664736fu /* "vdso" */

struct vdso_copy {
	struct vdso_copy *next;
	unsigned char bytes[];
};

/* Kept in the module's userdata slot; libdwfl has no hook to free it, so
 * it lives as long as the process (one small block per report, and a copy
 * of the image per libdwfl look-up when the image has compressed
 * sections). */
struct vdso_module {
	unsigned int magic;
	const struct vdsoscope_image *img;
	struct vdso_module *next;
	struct vdso_copy *copies; /* images with compressed sections */
};

/* libdwfl frees no module user data: the small records live as long as
 * the process, on this list */
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

static int vdso_elf(void **userdata, char **file_name, Elf **elfp)
{
	struct vdso_module *m = *userdata;
	const void *bytes;
	size_t size;

	bytes = vdsoscope_image_data(m->img, &size);
	elf_version(EV_CURRENT);
	*elfp = image_elf(m, bytes, size);
	*file_name = NULL;
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

int vdsoscope_dwfl_report_vdso(Dwfl *dwfl, const struct vdsoscope_image *img)
{
	struct vdso_module *m;
	Dwfl_Module *mod;
	uint64_t load;
	size_t size;
	void **ud;

	if (!dwfl || !img) {
		errno = EINVAL;
		return -1;
	}
	load = vdsoscope_load_address(img);
	vdsoscope_image_data(img, &size);
	if (dwfl_addrmodule(dwfl, load))
		return 0;
	m = malloc(sizeof(*m));
	if (!m)
		return -1;
	m->magic = VDSO_MODULE_MAGIC;
	m->img = img;
	m->copies = NULL;
	dwfl_report_begin_add(dwfl);
	mod = dwfl_report_module(dwfl, "[vdso]", load, load + size);
	if (!mod || dwfl_report_end(dwfl, NULL, NULL) != 0) {
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
	if (is_ours(ud)) {
		free(m);  /* reported before: keep the first */
	} else {
		*ud = m;
		pthread_mutex_lock(&modules_lock);
		m->next = modules;
		modules = m;
		pthread_mutex_unlock(&modules_lock);
	}
	return 1;
}
