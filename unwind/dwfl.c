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

/* Kept in the module's userdata slot; libdwfl has no hook to free it, so
 * it lives as long as the process (one small block per report). */
struct vdso_module {
	unsigned int magic;
	const struct vdsoscope_image *img;
	struct vdso_module *next;
};

/* libdwfl frees no module user data: the small records live as long as
 * the process, on this list */
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vdso_module *modules;

static int vdso_elf(void **userdata, char **file_name, Elf **elfp)
{
	struct vdso_module *m = *userdata;
	const void *bytes;
	size_t size;

	bytes = vdsoscope_image_data(m->img, &size);
	elf_version(EV_CURRENT);
	/* libelf does not write to a read-only Elf's memory */
	*elfp = elf_memory((char *)bytes, size);
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
