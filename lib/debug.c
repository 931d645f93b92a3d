/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Debug files: found by build-id; local symbols from .symtab and source lines
 * from DWARF (libelf, libdw).  Also the image itself when it is unstripped. */
#include "config.h"
#include <dirent.h>
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "internal.h"

#define DEBUG_FILE_MAX (512u << 20)

static pthread_once_t elf_once = PTHREAD_ONCE_INIT;

static void elf_init(void)
{
	elf_version(EV_CURRENT);
}

/* The GNU build-id note in DATA, if any. */
static int note_build_id(Elf_Data *data, uint8_t *id, size_t *len)
{
	GElf_Nhdr nh;
	size_t off = 0, noff, doff;

	while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0)
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + noff, "GNU", 4) && nh.n_descsz <= 64 &&
		    nh.n_descsz > 0) {
			memcpy(id, (char *)data->d_buf + doff, nh.n_descsz);
			*len = nh.n_descsz;
			return 0;
		}
	return -1;
}

/* Build-id from the notes of ELF (sections first, then program headers). */
static int elf_build_id(Elf *elf, uint8_t *id, size_t *len)
{
	Elf_Scn *scn = NULL;
	size_t phnum, i;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE &&
		    !note_build_id(elf_getdata(scn, NULL), id, len))
			return 0;
	}
	if (elf_getphdrnum(elf, &phnum))
		return -1;
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_NOTE &&
		    !note_build_id(elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
							ELF_T_NHDR), id, len))
			return 0;
	}
	return -1;
}

static int read_file(const char *path, unsigned char **bytes, size_t *size)
{
	int rc = vs__read_file(path, DEBUG_FILE_MAX, bytes, size);

	if (!rc && *size < 64) {
		free(*bytes);
		*bytes = NULL;
		return -EINVAL;
	}
	return rc;
}

int vs__build_id_of_file(const char *path, uint8_t *id, size_t *len)
{
	unsigned char *b;
	size_t n;
	Elf *elf;
	int rc;

	pthread_once(&elf_once, elf_init);
	if ((rc = read_file(path, &b, &n)))
		return rc;
	elf = elf_memory((char *)b, n);
	rc = elf && elf_kind(elf) == ELF_K_ELF && !elf_build_id(elf, id, len) ? 0 : -ENOENT;
	elf_end(elf);
	free(b);
	return rc;
}

/* Section headers are used only when every allocated section lies where the
 * program headers put it. */
int vs__sections_sane(void *elfp, const struct vs_data *d)
{
	Elf *elf = elfp;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) || !elf_nextscn(elf, NULL))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		uint64_t off;

		if (!gelf_getshdr(scn, &sh))
			return 0;
		if (sh.sh_type == SHT_NOBITS || !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (vs_elf_addr_to_off(&d->elf, sh.sh_addr, sh.sh_size, &off) || off != sh.sh_offset)
			return 0;
	}
	return 1;
}

static int collect_exec(struct vs_data *d, Elf *elf)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		uint64_t (*v)[2];

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_EXECINSTR) ||
		    !(sh.sh_flags & SHF_ALLOC) || !sh.sh_size || sh.sh_addr + sh.sh_size < sh.sh_addr)
			continue;
		if (d->nexec >= 256)
			break;
		v = realloc(d->exec, (d->nexec + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->exec = v;
		d->exec[d->nexec][0] = sh.sh_addr;
		d->exec[d->nexec][1] = sh.sh_addr + sh.sh_size;
		d->nexec++;
	}
	return 0;
}

int vs__exec_sections(struct vs_data *d)
{
	Elf *elf;
	int rc = 0;

	pthread_once(&elf_once, elf_init);
	elf = elf_memory((char *)d->bytes, d->size);
	if (elf && elf_kind(elf) == ELF_K_ELF && vs__sections_sane(elf, d))
		rc = collect_exec(d, elf);
	elf_end(elf);
	if (!rc && !d->nexec && d->debug_elf && vs__sections_sane(d->debug_elf, d))
		rc = collect_exec(d, d->debug_elf);
	return rc;
}

int vs__each_symbol(Elf *elf, Elf64_Word type, size_t max,
		    int (*fn)(void *arg, const char *name, const GElf_Sym *sym), void *arg)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		uint64_t budget = VS_MAX_INFLATE;
		size_t i, n;
		int rc;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		if (vs__section_inflate(elf, scn, &budget) ||
		    vs__section_inflate(elf, elf_getscn(elf, sh.sh_link), &budget) ||
		    !gelf_getshdr(scn, &sh) || !(data = elf_getdata(scn, NULL)))
			return 0;
		n = (sh.sh_size < data->d_size ? sh.sh_size : data->d_size) / sh.sh_entsize;
		for (i = 0; i < n && i < max && i < INT32_MAX; i++) {
			GElf_Sym s;
			const char *name;

			if (!gelf_getsym(data, (int)i, &s))
				break;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || s.st_shndx == SHN_UNDEF)
				continue;
			if ((rc = fn(arg, name, &s)) < 0)
				return rc;
		}
		return 0;
	}
	return 0;
}

static int keep_dbgsym(void *arg, const char *name, const GElf_Sym *s)
{
	struct vs_data *d = arg;
	size_t *cap = &d->ndbgsyms_cap;

	if (s->st_shndx == SHN_ABS)
		return 0;
	if (d->ndbgsyms == *cap) {
		size_t nc = *cap ? 2 * *cap : 256;
		struct vs_rawsym *v = realloc(d->dbgsyms, nc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->dbgsyms = v;
		*cap = nc;
	}
	d->dbgsyms[d->ndbgsyms].name = name;
	d->dbgsyms[d->ndbgsyms].value = s->st_value;
	d->dbgsyms[d->ndbgsyms].size = s->st_size;
	d->dbgsyms[d->ndbgsyms].type = GELF_ST_TYPE(s->st_info);
	d->dbgsyms[d->ndbgsyms].bind = GELF_ST_BIND(s->st_info);
	d->ndbgsyms++;
	return 0;
}

static int load_symtab(struct vs_data *d, Elf *elf)
{
	return vs__each_symbol(elf, SHT_SYMTAB, 1u << 20, keep_dbgsym, d);
}

static int line_cmp(const void *a, const void *b)
{
	const struct vs_line *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* an end of sequence sorts before a row starting at the same place */
	return (x->file != UINT32_MAX) - (y->file != UINT32_MAX);
}

static int file_index(struct vs_data *d, const char *name, uint32_t *idx)
{
	char **f;
	size_t i;

	/* lines come in runs of one file: look at the newest first */
	for (i = d->nfiles; i-- > 0;)
		if (!strcmp(d->files[i], name)) {
			*idx = (uint32_t)i;
			return 0;
		}
	f = realloc(d->files, (d->nfiles + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	d->files = f;
	f[d->nfiles] = strdup(name);
	if (!f[d->nfiles])
		return -ENOMEM;
	*idx = (uint32_t)d->nfiles++;
	return 0;
}

static int load_lines(struct vs_data *d, Elf *elf)
{
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	Dwarf_Off off = 0, next;
	size_t hsize, cap = 0;
	int rc = 0;

	if (!dw)
		return 0;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		Dwarf_Lines *lines;
		size_t n, i;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_getsrclines(&cu, &lines, &n) == 0) {
			Dwarf_Attribute at;
			const char *comp_dir = dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &at));

			for (i = 0; i < n; i++) {
				Dwarf_Line *l = dwarf_onesrcline(lines, i);
				Dwarf_Addr a;
				int ln;
				bool end = false;
				const char *src;
				uint32_t fi;

				if (!l || dwarf_lineaddr(l, &a) || dwarf_lineno(l, &ln) ||
				    dwarf_lineendsequence(l, &end))
					continue;
				src = dwarf_linesrc(l, NULL, NULL);
				if (!src)
					continue;
				if (end) {
					fi = UINT32_MAX;
				} else {
					char joined[4096];
					/* relative names are relative to the unit's
					 * directory, as addr2line prints them */
					if (src[0] != '/' && comp_dir && *comp_dir &&
					    snprintf(joined, sizeof(joined), "%s/%s", comp_dir, src) <
						    (int)sizeof(joined))
						rc = file_index(d, joined, &fi);
					else
						rc = file_index(d, src, &fi);
					if (rc)
						goto out;
				}
				if (d->nlines == cap) {
					size_t nc = cap ? 2 * cap : 256;
					struct vs_line *v = realloc(d->lines, nc * sizeof(*v));
					if (!v) {
						rc = -ENOMEM;
						goto out;
					}
					d->lines = v;
					cap = nc;
				}
				d->lines[d->nlines].addr = a;
				d->lines[d->nlines].file = fi;
				d->lines[d->nlines].line = ln;
				d->nlines++;
			}
		}
		off = next;
	}
	if (d->nlines > 1)
		qsort(d->lines, d->nlines, sizeof(*d->lines), line_cmp);
out:
	dwarf_end(dw);
	return rc;
}

Elf_Scn *vs__find_section(Elf *elf, const char *want, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		if (gelf_getshdr(scn, sh) && (name = elf_strptr(elf, shstrndx, sh->sh_name)) &&
		    !strcmp(name, want))
			return scn;
	}
	return NULL;
}

static int has_section(Elf *elf, const char *want)
{
	GElf_Shdr sh;

	return vs__find_section(elf, want, &sh) != NULL;
}

/* Uses BYTES (ownership taken) as the debug file of D. */
static int use_debug(struct vs_data *d, unsigned char *bytes, size_t size, const char *path)
{
	Elf *elf = elf_memory((char *)bytes, size);
	int rc;

	if (!elf) {
		free(bytes);
		return 0;
	}
	d->debug_elf = elf;
	d->debug_bytes = bytes;
	d->debug_size = size;
	if (path && !(d->debug_path = strdup(path)))
		return -ENOMEM;
	/* BYTES are ours: libelf may rewrite their section headers */
	if ((rc = vs__elf_inflate(elf, VS_MAX_INFLATE)) < 0)
		return rc;
	if ((rc = load_symtab(d, elf)) || (rc = load_lines(d, elf)))
		return rc;
	return 0;
}

/* The run-time range [*LO, *HI) of ELF's build-id descriptor; 0 when it
 * has none. */
static int build_id_range(Elf *elf, uint64_t *lo, uint64_t *hi)
{
	size_t nph, i;

	if (elf_getphdrnum(elf, &nph))
		return 0;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		data = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0)
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((const char *)data->d_buf + noff, "GNU", 4)) {
				*lo = ph.p_vaddr + doff;
				*hi = *lo + nh.n_descsz;
				return 1;
			}
	}
	return 0;
}

/* 1 when CAND (SIZE bytes) loads the same bytes as D's image, its
 * build-id descriptor aside: same PT_LOADs, same contents. */
static int same_content(const struct vs_data *d, Elf *cand, const unsigned char *cbytes,
			size_t csize)
{
	Elf *img = elf_memory((char *)d->bytes, d->size);
	size_t ni, nc, i, nload = 0;
	uint64_t ilo = 0, ihi = 0, clo = 0, chi = 0;
	/* e_shoff to e_shstrndx in the ELF header */
	uint64_t sh_lo = gelf_getclass(cand) == ELFCLASS64 ? 0x28 : 0x20, sh_hi = sh_lo + 0x18;
	int ok = 0;

	if (!img || elf_kind(img) != ELF_K_ELF || elf_getphdrnum(img, &ni) ||
	    elf_getphdrnum(cand, &nc) || ni != nc || gelf_getclass(img) != gelf_getclass(cand))
		goto out;
	if (!build_id_range(img, &ilo, &ihi) || !build_id_range(cand, &clo, &chi) ||
	    ilo != clo || ihi != chi)
		goto out;
	for (i = 0; i < ni; i++) {
		GElf_Phdr a, b;
		uint64_t x;

		if (!gelf_getphdr(img, (int)i, &a) || !gelf_getphdr(cand, (int)i, &b) ||
		    a.p_type != b.p_type)
			goto out;
		if (a.p_type != PT_LOAD)
			continue;
		if (a.p_vaddr != b.p_vaddr || a.p_filesz != b.p_filesz || a.p_memsz != b.p_memsz ||
		    a.p_offset > d->size || a.p_filesz > d->size - a.p_offset ||
		    b.p_offset > csize || b.p_filesz > csize - b.p_offset)
			goto out;
		for (x = 0; x < a.p_filesz; x++) {
			uint64_t va = a.p_vaddr + x, fo = a.p_offset + x;
			if (va >= ilo && va < ihi)
				continue;
			/* where the section headers are differs once stripped */
			if (a.p_offset == b.p_offset && fo >= sh_lo && fo < sh_hi)
				continue;
			if (d->bytes[a.p_offset + x] != cbytes[b.p_offset + x])
				goto out;
		}
		nload++;
	}
	ok = nload > 0;
out:
	elf_end(img);
	return ok;
}

/* 1 when the file at PATH is an ELF file with D's build-id, or (when
 * CONTENT) one whose loadable bytes are D's apart from the build-id; then
 * *BY_CONTENT is set. */
static int matches(const struct vs_data *d, const char *path, unsigned char **bytes,
		   size_t *size, int content, int *by_content)
{
	uint8_t id[64];
	size_t len = 0;
	Elf *elf;
	int ok;

	if (read_file(path, bytes, size))
		return 0;
	elf = elf_memory((char *)*bytes, *size);
	ok = elf && elf_kind(elf) == ELF_K_ELF && !elf_build_id(elf, id, &len) &&
	     len == d->build_id_len && !memcmp(id, d->build_id, len);
	if (!ok && content && elf && elf_kind(elf) == ELF_K_ELF &&
	    same_content(d, elf, *bytes, *size)) {
		ok = 1;
		if (by_content)
			*by_content = 1;
	}
	elf_end(elf);
	if (!ok) {
		free(*bytes);
		*bytes = NULL;
	}
	return ok;
}

static int search_dir(struct vs_data *d, const char *dir, char **found, unsigned char **bytes,
		      size_t *size)
{
	char path[4096];
	DIR *dp;
	struct dirent *de;
	size_t i;
	int n, pass;

	if (!d->build_id_len)
		return 0;
	n = snprintf(path, sizeof(path), "%s/%02x/", dir, d->build_id[0]);
	for (i = 1; i < d->build_id_len && n > 0 && (size_t)n < sizeof(path) - 8; i++)
		n += snprintf(path + n, sizeof(path) - n, "%02x", d->build_id[i]);
	if (n > 0 && (size_t)n < sizeof(path) - 8) {
		strcat(path, ".debug");
		if (matches(d, path, bytes, size, 0, NULL)) {
			*found = strdup(path);
			return *found ? 1 : -ENOMEM;
		}
	}
	/* the files directly in DIR: by build-id, then by content */
	for (pass = 0; pass < 2; pass++) {
		dp = opendir(dir);
		if (!dp)
			return 0;
		while ((de = readdir(dp))) {
			size_t l = strlen(de->d_name);
			int by_content = 0;
			if (!((l > 3 && !strcmp(de->d_name + l - 3, ".so")) ||
			      (l > 6 && !strcmp(de->d_name + l - 6, ".debug"))))
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
				continue;
			if (pass == 0 ? matches(d, path, bytes, size, 0, NULL)
				      : matches(d, path, bytes, size, 1, &by_content)) {
				closedir(dp);
				d->debug_by_content = by_content;
				*found = strdup(path);
				return *found ? 1 : -ENOMEM;
			}
		}
		closedir(dp);
	}
	return 0;
}

int vs__find_build_id_in_dir(const char *dir, const uint8_t *id, size_t len, char **found)
{
	char path[4096];
	DIR *dp;
	struct dirent *de;

	pthread_once(&elf_once, elf_init);
	*found = NULL;
	dp = opendir(dir);
	if (!dp)
		return 0;
	while ((de = readdir(dp))) {
		size_t l = strlen(de->d_name), have = 0;
		uint8_t got[64];

		if (!((l > 3 && !strcmp(de->d_name + l - 3, ".so")) ||
		      (l > 6 && !strcmp(de->d_name + l - 6, ".debug"))))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (!vs__build_id_of_file(path, got, &have) && have == len && !memcmp(got, id, len)) {
			closedir(dp);
			*found = strdup(path);
			return *found ? 1 : -ENOMEM;
		}
	}
	closedir(dp);
	return 0;
}

int vs__debug_find(struct vs_data *d, const struct vdsoscope_open_opts *opts)
{
	unsigned char *bytes = NULL;
	size_t size = 0;
	char *found = NULL;
	int rc;

	pthread_once(&elf_once, elf_init);

	/* an unstripped image is its own debug file, unless one is named */
	if (!(opts && opts->debug_file)) {
		Elf *self = elf_memory((char *)d->bytes, d->size);
		int own = self && elf_kind(self) == ELF_K_ELF && vs__sections_sane(self, d) &&
			  (has_section(self, ".symtab") || has_section(self, ".debug_line") ||
			   has_section(self, ".debug_frame") || has_section(self, ".zdebug_line") ||
			   has_section(self, ".zdebug_frame"));
		elf_end(self);
		if (own) {
			unsigned char *copy = malloc(d->size);
			if (!copy)
				return -ENOMEM;
			memcpy(copy, d->bytes, d->size);
			return use_debug(d, copy, d->size, NULL);
		}
	}
	if (opts && opts->debug_file) {
		int by_content = 0;
		if (!matches(d, opts->debug_file, &bytes, &size, 1, &by_content)) {
			if (access(opts->debug_file, R_OK))
				return vs__err(errno, "debug file %s", opts->debug_file);
			return vs__err(VDSOSCOPE_E_BUILD_ID, "debug file %s (image has %s)",
				       opts->debug_file,
				       d->build_id_len ? d->build_id_hex : "no build-id");
		}
		d->debug_by_content = by_content;
		return use_debug(d, bytes, size, opts->debug_file);
	}
	if (opts && opts->debug_dirs) {
		const char *const *dir;
		for (dir = opts->debug_dirs; *dir; dir++) {
			rc = search_dir(d, *dir, &found, &bytes, &size);
			if (rc < 0)
				return rc;
			if (rc)
				break;
		}
	} else {
		struct utsname u;
		char mod[512], dbgmod[600];
		const char *dirs[4];
		size_t i;

		dirs[0] = "/usr/lib/debug/.build-id";
		dirs[1] = dirs[2] = NULL;
		if (!uname(&u)) {
			snprintf(mod, sizeof(mod), "/lib/modules/%s/vdso", u.release);
			snprintf(dbgmod, sizeof(dbgmod), "/usr/lib/debug/lib/modules/%s/vdso", u.release);
			dirs[1] = mod;
			dirs[2] = dbgmod;
		}
		dirs[3] = NULL;
		for (i = 0; dirs[i]; i++) {
			rc = search_dir(d, dirs[i], &found, &bytes, &size);
			if (rc < 0)
				return rc;
			if (rc)
				break;
		}
	}
	if (!found)
		return 0;
	rc = use_debug(d, bytes, size, found);
	free(found);
	return rc;
}

void vs__debug_free(struct vs_data *d)
{
	size_t i;

	if (d->debug_elf)
		elf_end(d->debug_elf);
	free(d->debug_bytes);
	free(d->debug_path);
	free(d->dbgsyms);
	free(d->lines);
	for (i = 0; i < d->nfiles; i++)
		free(d->files[i]);
	free(d->files);
	free(d->exec);
}

int vdsoscope_addr_line(const struct vdsoscope_image *img, uint64_t addr, const char **file,
			int *line)
{
	const struct vs_data *d = img->d;
	uint64_t a = addr - img->bias;
	size_t lo = 0, hi = d->nlines;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->lines[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || d->lines[lo - 1].file == UINT32_MAX)
		return -VDSOSCOPE_E_NOT_FOUND;
	*file = d->files[d->lines[lo - 1].file];
	*line = d->lines[lo - 1].line;
	return 0;
}
