/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sampled stacks: registers plus a stack copy, unwound through the vDSO
 * with vdsoscope_step() and through the mapped ELF files with
 * vdsoscope_object_step(), every stack word read from the copy. */
#include "config.h"
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elfutils/libdwelf.h>
#include "vdsoscope-unwind.h"
#include "unw-table.h"

#define VSYSCALL_LO 0xffffffffff600000ull
#define VSYSCALL_HI 0xffffffffff601000ull

/* ---- files ------------------------------------------------------------------ */

struct module {
	char *key;                    /* build-id hex (asked for), or "path:" PATH */
	char *path, *name;            /* as recorded */
	uint8_t want[64];             /* the build-id asked for */
	size_t want_len;
	int located, opened;          /* file and obj are known */
	char *file;                   /* the file found, or NULL */
	struct vdsoscope_object *obj; /* NULL: unreadable, or not the build asked for */
	const uint8_t *build_id;
	size_t build_id_len;
	int is_go;                    /* Go code: frame pointers where CFI stops */
};

struct vdsoscope_modules {
	struct module **v;
	size_t n;
	size_t *slots;                /* open addressing on the key: index + 1, 0 empty */
	size_t nslots;                /* a power of two, more than twice n */
	char **debug_dirs;            /* NULL-terminated, or NULL: the default */
	int no_inlined;               /* frames without inlined functions */
	char *sysroot;                /* recorded paths are looked up under it */
};

struct smap {
	uint64_t start, end, pgoff, bias;
	int ready;                    /* the module opened, bias and build-id set */
	int nobias;                   /* no PT_LOAD holds pgoff, or no object */
	struct module *mod;
	char *path;
	uint8_t *build_id;
	size_t build_id_len;
};

struct vdsoscope_space {
	struct vdsoscope_modules *mods;
	const struct vdsoscope_arch *arch;
	const struct vdsoscope_image *vdso;
	uint64_t vdso_lo, vdso_hi;
	struct smap *maps;
	size_t nmaps;
	size_t last;                  /* index of the last map found */
	uint64_t (*anon)[2];          /* executable memory no file backs */
	size_t nanon;
	unw_addr_space_t unw;         /* for the libunwind engine, made on first use */
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

static void module_free(struct module *m)
{
	if (!m)
		return;
	vdsoscope_object_close(m->obj);
	free(m->key);
	free(m->path);
	free(m->file);
	free(m);
}

/* Opens PATH; a file whose build-id is not WANT (when given) is kept without
 * its object, so that frames in it say so. */
/* Whether the file at PATH carries build-id ID (LEN bytes). */
static int has_build_id(const char *path, const uint8_t *id, size_t len)
{
	const void *got;
	struct stat st;
	Elf *e;
	int fd, same = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return 0;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && (e = elf_begin(fd, ELF_C_READ_MMAP, NULL))) {
		same = dwelf_elf_gnu_build_id(e, &got) == (ssize_t)len && !memcmp(got, id, len);
		elf_end(e);
	}
	close(fd);
	return same;
}

/* Where the file recorded as PATH is, into BUF: PATH under the sysroot;
 * when the build-id WANT is known and that is not the file, PATH itself if
 * it is that build, DIR/xx/rest in
 * the debug directories (the .build-id layout, where the binary itself has
 * no .debug suffix; DIR/xx/rest/elf where that is a directory, as in
 * perf's build-id cache), then what debuginfod serves.  NULL when none is the
 * file asked for. */
static const char *locate(const struct vdsoscope_modules *mods, const char *path,
			  const uint8_t *want, size_t want_len, char *buf, size_t len)
{
	static const char *const dflt[] = { "/usr/lib/debug/.build-id", NULL };
	const char *const *dirs = mods->debug_dirs ? (const char *const *)mods->debug_dirs : dflt;
	char hex[129], *got = NULL;
	size_t i;

	if (mods->sysroot && path[0] == '/')
		snprintf(buf, len, "%s%s", mods->sysroot, path);
	else
		snprintf(buf, len, "%s", path);
	if (!want || !want_len)
		return buf;
	if (has_build_id(buf, want, want_len))
		return buf;
	/* a file outside the sysroot is the one only if it is the same build */
	if (mods->sysroot && has_build_id(path, want, want_len))
		return snprintf(buf, len, "%s", path), buf;
	if (want_len < 2 || want_len > 64)
		return NULL;
	elf_version(EV_CURRENT);
	for (i = 0; i < want_len; i++)
		sprintf(hex + 2 * i, "%02x", want[i]);
	for (; *dirs; dirs++) {
		snprintf(buf, len, "%s/%.2s/%s", *dirs, hex, hex + 2);
		if (has_build_id(buf, want, want_len))
			return buf;
		snprintf(buf, len, "%s/%.2s/%s/elf", *dirs, hex, hex + 2);
		if (has_build_id(buf, want, want_len))
			return buf;
	}
	if (vdsoscope_debuginfod_find(want, want_len, 0, &got) == 0 &&
	    has_build_id(got, want, want_len)) {
		snprintf(buf, len, "%s", got);
		free(got);
		return buf;
	}
	free(got);
	return NULL;
}

/* A module for the file recorded as PATH, with build-id WANT when known;
 * nothing is opened until a frame needs it. */
static struct module *module_new(const char *path, const uint8_t *want, size_t want_len)
{
	struct module *m = calloc(1, sizeof(*m));
	const char *slash;

	if (!m)
		return NULL;
	if (want_len > sizeof(m->want))
		want_len = 0;
	if (!(m->path = strdup(path)))
		goto fail;
	slash = strrchr(m->path, '/');
	m->name = slash ? (char *)slash + 1 : m->path;
	if (want && want_len) {
		memcpy(m->want, want, want_len);
		m->want_len = want_len;
		m->key = hex(want, want_len);
	} else if ((m->key = malloc(strlen(path) + 6))) {
		sprintf(m->key, "path:%s", path);
	}
	if (!m->key)
		goto fail;
	return m;
fail:
	module_free(m);
	return NULL;
}

/* The file found for M (see locate()), or NULL; looked for once. */
static const char *module_file(const struct vdsoscope_modules *mods, struct module *m)
{
	char buf[8192];
	const char *file;

	if (!m->located) {
		m->located = 1;
		file = locate(mods, m->path, m->want_len ? m->want : NULL, m->want_len, buf,
			      sizeof(buf));
		if (file)
			m->file = strdup(file);
	}
	return m->file;
}

/* M's object, opened at first use; NULL when its file is not found, is
 * unreadable, or is not the build asked for (frames in it then say so). */
static struct vdsoscope_object *module_obj(const struct vdsoscope_modules *mods, struct module *m)
{
	VDSOSCOPE_OPTS(opts, .debug_dirs = (const char *const *)mods->debug_dirs);
	const char *file;

	if (m->opened)
		return m->obj;
	m->opened = 1;
	if (!(file = module_file(mods, m)) || vdsoscope_object_open(&m->obj, file, &opts))
		return NULL;
	m->build_id = vdsoscope_object_build_id(m->obj, &m->build_id_len);
	if (m->want_len &&
	    (m->build_id_len != m->want_len || memcmp(m->build_id, m->want, m->want_len))) {
		vdsoscope_object_close(m->obj);
		m->obj = NULL;
		m->build_id = NULL;
		m->build_id_len = 0;
		return NULL;
	}
	m->is_go = vdsoscope_object_is_go(m->obj);
	return m->obj;
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
	free(mods->slots);
	for (i = 0; mods->debug_dirs && mods->debug_dirs[i]; i++)
		free(mods->debug_dirs[i]);
	free(mods->debug_dirs);
	free(mods->sysroot);
	free(mods);
}

int vdsoscope_modules_set_sysroot(struct vdsoscope_modules *mods, const char *dir)
{
	char *v = NULL;

	if (dir && *dir && !(v = strdup(dir)))
		return -ENOMEM;
	free(mods->sysroot);
	mods->sysroot = v;
	return 0;
}

void vdsoscope_modules_set_inlined(struct vdsoscope_modules *mods, int on)
{
	mods->no_inlined = !on;
}

int vdsoscope_modules_set_debug_dirs(struct vdsoscope_modules *mods, const char *const *dirs)
{
	char **v = NULL;
	size_t n = 0, i;

	while (dirs && dirs[n])
		n++;
	if (dirs && !(v = calloc(n + 1, sizeof(*v))))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (!(v[i] = strdup(dirs[i]))) {
			while (i--)
				free(v[i]);
			free(v);
			return -ENOMEM;
		}
	for (i = 0; mods->debug_dirs && mods->debug_dirs[i]; i++)
		free(mods->debug_dirs[i]);
	free(mods->debug_dirs);
	mods->debug_dirs = v;
	return 0;
}

void vdsoscope_modules_stats(const struct vdsoscope_modules *mods, size_t *files, size_t *rows)
{
	size_t i, n = 0;

	for (i = 0; i < mods->n; i++)
		if (mods->v[i]->obj)
			n += vdsoscope_object_row_count(mods->v[i]->obj);
	if (files)
		*files = mods->n;
	if (rows)
		*rows = n;
}

/* The module for PATH with build-id WANT (NULL: whatever file is there):
 * one per build-id, whatever the path it was recorded at, else one per
 * path. */
static size_t key_hash(const char *k)
{
	size_t h = 5381;

	while (*k)
		h = h * 33 + (unsigned char)*k++;
	return h;
}

/* Rebuilds the key table with room for twice the modules. */
static int slots_grow(struct vdsoscope_modules *mods)
{
	size_t n = mods->nslots ? mods->nslots * 2 : 64, i, *v = calloc(n, sizeof(*v));

	if (!v)
		return -1;
	for (i = 0; i < mods->n; i++) {
		size_t h = key_hash(mods->v[i]->key) & (n - 1);
		while (v[h])
			h = (h + 1) & (n - 1);
		v[h] = i + 1;
	}
	free(mods->slots);
	mods->slots = v;
	mods->nslots = n;
	return 0;
}

static struct module *module_get(struct vdsoscope_modules *mods, const char *path,
				 const uint8_t *want, size_t want_len)
{
	struct module *m, **v;
	size_t h;

	if (!(m = module_new(path, want, want_len)))
		return NULL;
	if ((mods->n + 1) * 2 > mods->nslots && slots_grow(mods)) {
		module_free(m);
		return NULL;
	}
	for (h = key_hash(m->key) & (mods->nslots - 1); mods->slots[h];
	     h = (h + 1) & (mods->nslots - 1))
		if (!strcmp(mods->v[mods->slots[h] - 1]->key, m->key)) {
			module_free(m);
			return mods->v[mods->slots[h] - 1];
		}
	/* room for a power of two of them */
	if (!(mods->n & (mods->n - 1))) {
		if (!(v = realloc(mods->v, (mods->n ? mods->n * 2 : 1) * sizeof(*v)))) {
			module_free(m);
			return NULL;
		}
		mods->v = v;
	}
	mods->v[mods->n++] = m;
	mods->slots[h] = mods->n;
	return m;
}

/* ---- spaces ------------------------------------------------------------------- */

struct vdsoscope_space *vdsoscope_space_new_arch(struct vdsoscope_modules *mods,
						 const struct vdsoscope_arch *arch)
{
	struct vdsoscope_space *sp;

	if (!mods || !arch) {
		errno = EINVAL;
		return NULL;
	}
	if (!(sp = calloc(1, sizeof(*sp))))
		return NULL;
	sp->mods = mods;
	sp->arch = arch;
	return sp;
}

struct vdsoscope_space *vdsoscope_space_new(struct vdsoscope_modules *mods, int elf_class)
{
	if (elf_class != 32 && elf_class != 64) {
		errno = EINVAL;
		return NULL;
	}
	return vdsoscope_space_new_arch(mods, elf_class == 32 ? vdsoscope_arch_by_machine(EM_386, 32)
							      : vdsoscope_arch_by_machine(EM_X86_64, 64));
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
	free(sp->anon);
	sp->anon = NULL;
	sp->nanon = 0;
}

void vdsoscope_space_free(struct vdsoscope_space *sp)
{
	if (!sp)
		return;
	clear_maps(sp);
	vdsoscope_unw_destroy_addr_space(sp->unw);
	free(sp);
}

void vdsoscope_space_set_vdso(struct vdsoscope_space *sp, const struct vdsoscope_image *img)
{
	size_t size = 0;

	if (sp->unw && img != sp->vdso) {
		vdsoscope_unw_destroy_addr_space(sp->unw);
		sp->unw = NULL;
	}
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

static int smap_cmp(const void *a, const void *b)
{
	const struct smap *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int add_map(struct vdsoscope_space *sp, uint64_t start, uint64_t end, uint64_t pgoff,
		   const char *path, const uint8_t *build_id, size_t len)
{
	struct smap *v, *e;
	struct module *m;

	if (!sp || !path || end <= start)
		return -EINVAL;
	if (!(m = module_get(sp->mods, path, build_id, len)))
		return -ENOMEM;
	/* room for a power of two of them */
	if (!(sp->nmaps & (sp->nmaps - 1))) {
		if (!(v = realloc(sp->maps, (sp->nmaps ? sp->nmaps * 2 : 1) * sizeof(*v))))
			return -ENOMEM;
		sp->maps = v;
	}
	v = sp->maps;
	e = &v[sp->nmaps];
	memset(e, 0, sizeof(*e));
	e->start = start;
	e->end = end;
	e->pgoff = pgoff;
	e->mod = m;
	e->nobias = 1;
	if (!(e->path = strdup(path)))
		return -ENOMEM;
	if (m->want_len) {
		if (!(e->build_id = malloc(m->want_len))) {
			free(e->path);
			return -ENOMEM;
		}
		memcpy(e->build_id, m->want, m->want_len);
		e->build_id_len = m->want_len;
	}
	sp->nmaps++;
	return 0;
}

/* E with its module opened: bias and build-id known.  E itself. */
static struct smap *map_ready(const struct vdsoscope_space *sp, struct smap *e)
{
	struct vdsoscope_object *obj;

	if (e->ready)
		return e;
	e->ready = 1;
	obj = module_obj(sp->mods, e->mod);
	e->nobias = !obj || vdsoscope_object_bias(obj, e->start, e->pgoff, &e->bias) != 0;
	if (obj && !e->build_id && e->mod->build_id_len &&
	    (e->build_id = malloc(e->mod->build_id_len))) {
		memcpy(e->build_id, e->mod->build_id, e->mod->build_id_len);
		e->build_id_len = e->mod->build_id_len;
	}
	return e;
}

static void sort_maps(struct vdsoscope_space *sp)
{
	qsort(sp->maps, sp->nmaps, sizeof(*sp->maps), smap_cmp);
	sp->last = 0;
}

int vdsoscope_space_add_map(struct vdsoscope_space *sp, uint64_t start, uint64_t end,
			    uint64_t pgoff, const char *path, const uint8_t *build_id, size_t len)
{
	int rc = add_map(sp, start, end, pgoff, path, build_id, len);
	size_t k;

	if (rc)
		return rc;
	/* kept sorted: the new entry moves down to its place (maps given in
	 * address order cost nothing here) */
	k = sp->nmaps - 1;
	if (k && sp->maps[k - 1].start > sp->maps[k].start) {
		struct smap e = sp->maps[k];
		size_t lo = 0, hi = k;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (sp->maps[mid].start <= e.start)
				lo = mid + 1;
			else
				hi = mid;
		}
		memmove(&sp->maps[lo + 1], &sp->maps[lo], (k - lo) * sizeof(e));
		sp->maps[lo] = e;
	}
	sp->last = 0;
	return 0;
}

int vdsoscope_space_add_anon(struct vdsoscope_space *sp, uint64_t start, uint64_t end)
{
	uint64_t (*v)[2];

	if (!sp || end <= start)
		return -EINVAL;
	if (!(sp->nanon & (sp->nanon - 1))) {
		if (!(v = realloc(sp->anon, (sp->nanon ? sp->nanon * 2 : 1) * sizeof(*v))))
			return -ENOMEM;
		sp->anon = v;
	}
	v = sp->anon;
	v[sp->nanon][0] = start;
	v[sp->nanon][1] = end;
	sp->nanon++;
	return 0;
}

static int in_anon(const struct vdsoscope_space *sp, uint64_t pc)
{
	size_t i;

	for (i = 0; i < sp->nanon; i++)
		if (pc >= sp->anon[i][0] && pc < sp->anon[i][1])
			return 1;
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
		if (name[0] != '/') {
			/* [vdso], [vsyscall] are known by address; the rest is
			 * code no file describes (JIT compilers, trampolines) */
			if (name[0] != '[' || !strncmp(name, "[anon", 5))
				rc = vdsoscope_space_add_anon(sp, lo, hi);
			if (rc < 0)
				break;
			continue;
		}
		if ((rc = add_map(sp, lo, hi, off, name, NULL, 0)) < 0)
			break;
	}
	fclose(f);
	sort_maps(sp);
	return rc;
}

const char *vdsoscope_space_map_file(const struct vdsoscope_space *sp, uint64_t addr)
{
	size_t i;

	for (i = 0; i < sp->nmaps; i++)
		if (addr >= sp->maps[i].start && addr < sp->maps[i].end)
			return module_file(sp->mods, sp->maps[i].mod);
	return NULL;
}

int vdsoscope_space_map_at(const struct vdsoscope_space *sp, uint64_t addr,
			   struct vdsoscope_space_map *out)
{
	size_t i;

	for (i = 0; i < sp->nmaps; i++)
		if (addr >= sp->maps[i].start && addr < sp->maps[i].end)
			return vdsoscope_space_map_get(sp, i, out);
	return -ENOENT;
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
	m = map_ready(sp, &sp->maps[idx]);
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
		/* words, nearly always: a fixed-size copy is one load */
		if (len == 8)
			memcpy(buf, s->bytes + (addr - s->addr), 8);
		else if (len == 4)
			memcpy(buf, s->bytes + (addr - s->addr), 4);
		else
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
	[VDSOSCOPE_END_ANONYMOUS] = "anonymous-code",
	[VDSOSCOPE_END_GO_ROOT] = "go-root",
};

const char *vdsoscope_unwind_end_name(int end)
{
	if (end < 0 || end >= VDSOSCOPE_END_COUNT)
		return "unknown";
	return end_names[end];
}

/* Names the last frame of FRAMES, at PC in mapping M: its module and
 * function, and the functions inlined there as frames of their own before
 * it, innermost first, as long as FRAMES has room; the last frame stays the
 * function that holds the code.  One look-up in the file. */
static void name_in_file(const struct vdsoscope_space *sp, const struct smap *m, uint64_t pc,
			 int exact, struct vdsoscope_frame_info *frames, unsigned int max,
			 unsigned int *n)
{
	const char *names[8], *name;
	struct vdsoscope_frame_info phys;
	uint64_t start;
	int k, j;

	frames[*n - 1].module = m->mod->name;
	if (!m->mod->obj || m->nobias)
		return;
	k = vdsoscope_object_names(m->mod->obj, (exact ? pc : pc - 1) - m->bias, &name, &start,
				   sp->mods->no_inlined ? NULL : names, 8);
	if (name) {
		frames[*n - 1].function = name;
		frames[*n - 1].offset = pc - m->bias - start;
	}
	if (k > 8)
		k = 8;
	phys = frames[*n - 1];
	for (j = 0; j < k && *n < max; j++) {
		struct vdsoscope_frame_info *f = &frames[*n - 1];
		*f = phys;
		f->function = names[j];
		f->offset = 0;
		f->flags |= VDSOSCOPE_FRAME_INFO_INLINED;
		(*n)++;
	}
	frames[*n - 1] = phys;
}

static int in_vdso(const struct vdsoscope_space *sp, uint64_t pc)
{
	return sp->vdso && ((pc >= sp->vdso_lo && pc < sp->vdso_hi) ||
			    (sp->arch->addr_size == 8 && pc >= VSYSCALL_LO && pc < VSYSCALL_HI));
}

/* Names the last frame of FRAMES (its pc and flags set): the vDSO's
 * function, or the mapped file's with the functions inlined there. */
static void name_frame(struct vdsoscope_space *sp, struct vdsoscope_frame_info *frames,
		       unsigned int max, unsigned int *n, int exact)
{
	struct vdsoscope_frame_info *fi = &frames[*n - 1];
	uint64_t pc = fi->pc;
	const struct smap *m;

	if (in_vdso(sp, pc)) {
		struct vdsoscope_func f;
		fi->flags |= VDSOSCOPE_FRAME_INFO_VDSO;
		fi->module = vdsoscope_soname(sp->vdso);
		if (vdsoscope_func_at(sp->vdso, exact ? pc : pc - 1, &f, NULL) == 0 && f.nnames) {
			fi->function = f.names[0].name;
			fi->offset = pc - f.start;
		}
		return;
	}
	if ((m = find_map(sp, pc)))
		name_in_file(sp, map_ready(sp, (struct smap *)m), pc, exact, frames, max, n);
}

/* One frame in a mapped file: R becomes the caller's registers.  A
 * VDSOSCOPE_END_* reason, or -1 to go on. */
static int step_file(const struct smap *m, vdsoscope_read_fn read, void *arg,
		     struct vdsoscope_regs *r, int exact, unsigned int *ffp)
{
	unsigned int ff = 0;
	int rc;

	if (!m->mod->obj || m->nobias)
		return VDSOSCOPE_END_FILE;
	rc = vdsoscope_object_step(m->mod->obj, m->bias, r,
				   VDSOSCOPE_STEP_LENIENT | (exact ? 0 : VDSOSCOPE_STEP_CALLER), read,
				   arg, r, &ff);
	*ffp = rc == 0 ? ff : 0;
	switch (rc) {
	case 0:
		return ff & VDSOSCOPE_FRAME_OUTERMOST ? VDSOSCOPE_END_ROOT : -1;
	case -VDSOSCOPE_E_MEMORY: return VDSOSCOPE_END_STACK;
	case -VDSOSCOPE_E_NO_CFI: return VDSOSCOPE_END_NO_CFI;
	case -VDSOSCOPE_E_REG_UNDEFINED: return VDSOSCOPE_END_REGISTER;
	case -ENOMEM: return -ENOMEM;
	default: return VDSOSCOPE_END_UNSUPPORTED;
	}
}

/* Whether PC is code the space knows: the vDSO or a mapped file. */
static int known_code(struct vdsoscope_space *sp, uint64_t pc)
{
	return in_vdso(sp, pc) || find_map(sp, pc) != NULL;
}

/* Where Go's own traceback ends a goroutine's or a thread's stack. */
static int go_outermost(const char *fn)
{
	static const char *const roots[] = {
		"runtime.goexit", "runtime.mstart", "runtime.rt0_go", "runtime.mcall",
		"runtime.morestack", "runtime.systemstack_switch",
	};
	size_t i, len;

	if (!fn)
		return 0;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		len = strlen(roots[i]);
		if (!strncmp(fn, roots[i], len) && (!fn[len] || !strcmp(fn + len, ".abi0")))
			return 1;
	}
	return 0;
}

/* The caller of an x86_64 Go frame by its frame pointer: the saved rbp at
 * [rbp], the return address at [rbp+8], the caller's rsp rbp+16.  0, or -1
 * when rbp is unknown, misaligned or unreadable, or leads to no code. */
static int go_frame_pointer(struct vdsoscope_space *sp, const struct vdsoscope_regs *in,
			    vdsoscope_read_fn read, void *arg, struct vdsoscope_regs *out)
{
	uint64_t bp = in->r[6], w[2];

	if (!vdsoscope_regs_has(in, 6) || !bp || bp % 8 || bp > UINT64_MAX - 16 ||
	    read(arg, bp, w, sizeof(w)) || !known_code(sp, w[1]))
		return -1;
	vdsoscope_regs_clear(out);
	out->valid[0] = 1ull << 6 | 1ull << 7 | 1ull << 16;
	out->r[6] = w[0];
	out->r[7] = bp + 16;
	out->r[16] = w[1];
	return 0;
}

/* 1 when the caller R of the frame at PC with stack pointer SP_IN lies
 * above it.  Where calls leave the return address in a register (aarch64),
 * a function that saves nothing on the stack has its caller's SP: a few
 * such frames in a row are accepted, each at another PC (*SAME_SP counts
 * them). */
#define MAX_SAME_SP 8
static int above(const struct vdsoscope_arch *a, const struct vdsoscope_regs *r, uint64_t pc,
		 uint64_t sp_in, uint64_t mask, unsigned int *same_sp)
{
	uint64_t sp = r->r[a->sp_reg] & mask;

	if (sp > sp_in) {
		*same_sp = 0;
		return 1;
	}
	return sp == sp_in && a->ra_reg != a->ip_reg && (r->r[a->ip_reg] & mask) != pc &&
	       ++*same_sp <= MAX_SAME_SP;
}

/* The frames of REGS, every word read with READ (ARG). */
#define STACK_PREFETCH 2048

/* *D = *S, but only as far as S's valid registers reach: the whole set is
 * kilobytes, a thread's registers a few words of it. */
static void regs_copy(struct vdsoscope_regs *d, const struct vdsoscope_regs *s)
{
	unsigned int w, top = 0;

	for (w = 0; w < VDSOSCOPE_REG_WORDS; w++)
		if (s->valid[w])
			top = w * 64 + 64 - (unsigned int)__builtin_clzll(s->valid[w]);
	memcpy(d->valid, s->valid, sizeof(d->valid));
	d->pac_mask = s->pac_mask;
	memcpy(d->r, s->r, top * sizeof(d->r[0]));
}

static int unwind_with(struct vdsoscope_space *sp, const struct vdsoscope_regs *regs,
		       vdsoscope_read_fn read, void *arg, struct vdsoscope_frame_info *frames,
		       unsigned int max, unsigned int *n)
{
	const struct vdsoscope_arch *a = sp->arch;
	struct vdsoscope_regs r, in;
	unsigned int next_flags = 0, same_sp = 0;
	int exact = 1, rc;
	uint64_t mask = a->addr_size == 4 ? 0xffffffffu : ~0ull;

	*n = 0;
	regs_copy(&r, regs);
	vdsoscope_regs_clear(&in);
	in.r[6] = 0;
	if (!vdsoscope_regs_has(&r, a->ip_reg) || !vdsoscope_regs_has(&r, a->sp_reg))
		return VDSOSCOPE_END_REGISTER;
	for (;;) {
		struct vdsoscope_frame_info *fi;
		uint64_t pc = r.r[a->ip_reg] & mask, sp_in = r.r[a->sp_reg] & mask;
		const struct smap *m;
		unsigned int ff = 0;

		if (*n && pc == 0)
			return VDSOSCOPE_END_ROOT;
		if (*n == max)
			return VDSOSCOPE_END_MAX_FRAMES;
		fi = &frames[(*n)++];
		fi->pc = pc;
		fi->offset = 0;
		fi->function = fi->module = NULL;
		fi->flags = (exact ? VDSOSCOPE_FRAME_INFO_EXACT : 0) | next_flags;
		next_flags = 0;
		r.r[a->ip_reg] = pc;
		r.r[a->sp_reg] = sp_in;
		if (in_vdso(sp, pc)) {
			unsigned int ff = 0;
			rc = vdsoscope_step(sp->vdso, &r,
					    VDSOSCOPE_STEP_LENIENT | (exact ? 0 : VDSOSCOPE_STEP_CALLER),
					    read, arg, &r, &ff);
			/* a signal trampoline's own frame is where execution
			 * resumes: named at its pc, as libdwfl and gdb do */
			if (rc == 0 && (ff & VDSOSCOPE_FRAME_SIGNAL))
				fi->flags |= VDSOSCOPE_FRAME_INFO_EXACT;
			name_frame(sp, frames, max, n, fi->flags & VDSOSCOPE_FRAME_INFO_EXACT);
			if (rc == -VDSOSCOPE_E_MEMORY)
				return VDSOSCOPE_END_STACK;
			if (rc == -VDSOSCOPE_E_NO_CFI)
				return VDSOSCOPE_END_NO_CFI;
			if (rc == -VDSOSCOPE_E_REG_UNDEFINED)
				return VDSOSCOPE_END_REGISTER;
			if (rc < 0)
				return VDSOSCOPE_END_VDSO;
			exact = (ff & VDSOSCOPE_FRAME_SIGNAL) != 0;
			if (!exact && !above(a, &r, pc, sp_in, mask, &same_sp))
				return VDSOSCOPE_END_BAD_FRAME;
			continue;
		}
		if (!(m = find_map(sp, pc))) {
			/* arm's signal return lives in the kernel's [sigpage] */
			if (a->machine == EM_ARM &&
			    vdsoscope_step_trampoline(a, &r, read, arg, &r, &ff) == 0) {
				fi->module = "[sigpage]";
				fi->flags |= VDSOSCOPE_FRAME_INFO_EXACT;
				exact = 1;
				continue;
			}
			if (in_anon(sp, pc)) {
				fi->module = "[anonymous]";
				return VDSOSCOPE_END_ANONYMOUS;
			}
			return VDSOSCOPE_END_NO_MAPPING;
		}
		m = map_ready(sp, (struct smap *)m);
		if (m->mod->is_go && a->machine == EM_X86_64 && a->elf_class == 64)
			regs_copy(&in, &r);
		rc = step_file(m, read, arg, &r, exact, &ff);
		if (ff & VDSOSCOPE_FRAME_SIGNAL)
			fi->flags |= VDSOSCOPE_FRAME_INFO_EXACT;
		name_in_file(sp, m, pc, fi->flags & VDSOSCOPE_FRAME_INFO_EXACT, frames, max, n);
		if (rc == -ENOMEM)
			return rc;
		if (m->mod->is_go && go_outermost(frames[*n - 1].function))
			return VDSOSCOPE_END_GO_ROOT;
		/* Go calls the vDSO, and much else, on a stack of its own where
		 * the CFI of the calling frame does not hold: where it leads
		 * nowhere, the frame pointer does */
		if (m->mod->is_go && a->machine == EM_X86_64 && a->elf_class == 64 &&
		    rc != VDSOSCOPE_END_ROOT &&
		    (rc >= 0 || !vdsoscope_regs_has(&r, a->ip_reg) || !known_code(sp, r.r[a->ip_reg])) &&
		    go_frame_pointer(sp, &in, read, arg, &r) == 0) {
			next_flags = VDSOSCOPE_FRAME_INFO_FRAME_POINTER;
			exact = 0;
			continue;
		}
		if (rc >= 0)
			return rc;
		if (!vdsoscope_regs_has(&r, a->ip_reg))
			return VDSOSCOPE_END_ROOT;
		if (!above(a, &r, pc, sp_in, mask, &same_sp))
			return VDSOSCOPE_END_BAD_FRAME;
		exact = 0;
	}
}

int vdsoscope_space_unwind(struct vdsoscope_space *sp, const struct vdsoscope_regs *regs,
			   uint64_t stack_addr, const void *stack, size_t stack_size,
			   struct vdsoscope_frame_info *frames, unsigned int max, unsigned int *n)
{
	struct stack stk = { stack_addr, stack, stack_size, sp->vdso };
	unsigned int spr = sp->arch->sp_reg;
	uint64_t at, end;

	/* a recorded stack is cold: the frames' words come from the first
	 * kilobytes above the SP, asked for all at once rather than one miss
	 * after the other */
	if (vdsoscope_regs_has(regs, spr) && regs->r[spr] >= stack_addr &&
	    regs->r[spr] - stack_addr < stack_size) {
		at = (regs->r[spr] - stack_addr) & ~(uint64_t)63;
		end = stack_size - at > STACK_PREFETCH ? at + STACK_PREFETCH : stack_size;
		for (; at < end; at += 64)
			__builtin_prefetch((const char *)stack + at);
	}
	return unwind_with(sp, regs, stack_read, &stk, frames, max, n);
}

struct user_read {
	vdsoscope_read_fn read;
	void *arg;
	const struct vdsoscope_image *vdso;
};

/* The caller's reader, then the vDSO image's bytes (a core without the
 * vDSO's segment). */
static int user_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct user_read *u = arg;
	const void *img;
	size_t size;
	uint64_t lo;

	if (u->read(u->arg, addr, buf, len) == 0)
		return 0;
	if (u->vdso) {
		img = vdsoscope_image_data(u->vdso, &size);
		lo = vdsoscope_load_address(u->vdso);
		if (addr >= lo && addr - lo <= size && size - (addr - lo) >= len) {
			memcpy(buf, (const char *)img + (addr - lo), len);
			return 0;
		}
	}
	return -VDSOSCOPE_E_MEMORY;
}

int vdsoscope_space_unwind_read(struct vdsoscope_space *sp, const struct vdsoscope_regs *regs,
				vdsoscope_read_fn read, void *arg,
				struct vdsoscope_frame_info *frames, unsigned int max,
				unsigned int *n)
{
	struct user_read u = { read, arg, sp->vdso };

	if (!sp || !regs || !read || !frames || !n)
		return -EINVAL;
	return unwind_with(sp, regs, user_read, &u, frames, max, n);
}

/* ---- the same through libunwind ---------------------------------------------- */


struct unw_ctx {
	struct vdsoscope_unw_snapshot snap; /* first: it is libunwind's argument */
	struct vdsoscope_space *sp;
};

/* Bytes of the mapped files (unwind tables, FDEs): the file whose
 * PT_LOADs hold ADDR with the bias of one of its mappings. */
static int files_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct vdsoscope_space *sp = arg;
	const struct smap *m = &sp->maps[sp->last < sp->nmaps ? sp->last : 0];
	size_t i;

	if (sp->nmaps && m->ready && m->mod->obj && !m->nobias &&
	    vdsoscope_object_read(m->mod->obj, m->bias, addr, buf, len) == 0)
		return 0;
	/* the files frames reached so far: libunwind reads the tables of the
	 * one it is unwinding */
	for (i = 0; i < sp->nmaps; i++) {
		m = &sp->maps[i];
		if (m->ready && m->mod->obj && !m->nobias &&
		    vdsoscope_object_read(m->mod->obj, m->bias, addr, buf, len) == 0)
			return 0;
	}
	return -VDSOSCOPE_E_MEMORY;
}

/* Unwind info outside the vDSO: the mapped file's .eh_frame_hdr table,
 * searched by libunwind itself as for any remote table. */
static int files_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
				int need_unwind_info, void *arg)
{
	struct unw_ctx *c = arg;
	const struct smap *m = find_map(c->sp, ip);
	struct vdsoscope_eh_frame_hdr eh;
	unw_dyn_info_t di;

	if (m)
		m = map_ready(c->sp, (struct smap *)m);
	if (!m || !m->mod->obj || m->nobias ||
	    vdsoscope_object_eh_frame_hdr(m->mod->obj, m->bias, &eh) ||
	    vs__unw_table_info(&eh, m->start, m->end, &di))
		return -UNW_ENOINFO;
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi, need_unwind_info, arg);
}


int vdsoscope_space_unwind_libunwind(struct vdsoscope_space *sp, const struct vdsoscope_regs *regs,
				     uint64_t stack_addr, const void *stack, size_t stack_size,
				     struct vdsoscope_frame_info *frames, unsigned int max,
				     unsigned int *n)
{
	struct unw_ctx c;
	unw_cursor_t cur;
	uint64_t prev_sp = 0;
	int exact = 1, rc, r;

	*n = 0;
	if (sp->arch->machine != EM_X86_64 || sp->arch->elf_class != 64)
		return -ENOTSUP;  /* libunwind's remote unwinding is the host's architecture */
	if (!vdsoscope_regs_has(regs, 16) || !vdsoscope_regs_has(regs, 7))
		return VDSOSCOPE_END_REGISTER;
	if (!sp->unw) {
		if (!(sp->unw = vdsoscope_unw_create_snapshot(sp->vdso)))
			return -errno;
		unw_set_caching_policy(sp->unw, UNW_CACHE_GLOBAL);
	}
	memset(&c, 0, sizeof(c));
	for (r = 0; r < 17; r++)
		c.snap.regs[r] = vdsoscope_regs_has(regs, r) ? regs->r[r] : 0;
	c.snap.stack_addr = stack_addr;
	c.snap.stack = stack;
	c.snap.stack_size = stack_size;
	c.snap.read = files_read;
	c.snap.read_arg = sp;
	c.snap.find_proc_info = files_find_proc_info;
	c.sp = sp;
	if (unw_init_remote(&cur, sp->unw, &c.snap) < 0)
		return VDSOSCOPE_END_REGISTER;
	for (;;) {
		struct vdsoscope_frame_info *fi;
		unw_proc_info_t pi;
		unw_word_t ip, spv, at;

		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || unw_get_reg(&cur, UNW_REG_SP, &spv) < 0)
			return VDSOSCOPE_END_REGISTER;
		if (*n && ip == 0)
			return VDSOSCOPE_END_ROOT;
		if (*n == max)
			return VDSOSCOPE_END_MAX_FRAMES;
		if (*n && spv <= prev_sp && !exact)
			return VDSOSCOPE_END_BAD_FRAME;
		prev_sp = spv;
		fi = &frames[(*n)++];
		memset(fi, 0, sizeof(*fi));
		fi->pc = ip;
		fi->flags = exact ? VDSOSCOPE_FRAME_INFO_EXACT : 0;
		name_frame(sp, frames, max, n, exact);
		/* where no unwind info covers the frame, libunwind would guess
		 * its caller from the frame pointer: the stack ends there */
		memset(&pi, 0, sizeof(pi));
		at = exact ? ip : ip - 1;
		if (unw_get_accessors(sp->unw)->find_proc_info(sp->unw, at, &pi, 0, &c.snap) < 0 ||
		    at < pi.start_ip || at >= pi.end_ip) {
			const struct smap *m;
			if (fi->flags & VDSOSCOPE_FRAME_INFO_VDSO)
				return VDSOSCOPE_END_NO_CFI;
			if (!(m = find_map(sp, ip)))
				return in_anon(sp, ip) ? VDSOSCOPE_END_ANONYMOUS : VDSOSCOPE_END_NO_MAPPING;
			m = map_ready(sp, (struct smap *)m);
			return !m->mod->obj || m->nobias ? VDSOSCOPE_END_FILE : VDSOSCOPE_END_NO_CFI;
		}
		exact = unw_is_signal_frame(&cur) > 0;
		rc = unw_step(&cur);
		if (rc == 0)
			return VDSOSCOPE_END_ROOT;
		if (rc < 0) {
			if (!(fi->flags & VDSOSCOPE_FRAME_INFO_VDSO) && !find_map(sp, ip))
				return VDSOSCOPE_END_NO_MAPPING;
			switch (rc) {
			case -UNW_ENOINFO: return VDSOSCOPE_END_NO_CFI;
			case -UNW_EINVAL: return VDSOSCOPE_END_STACK;
			case -UNW_EBADREG: return VDSOSCOPE_END_REGISTER;
			case -UNW_EBADFRAME: return VDSOSCOPE_END_BAD_FRAME;
			default: return VDSOSCOPE_END_UNSUPPORTED;
			}
		}
	}
}

/* ---- perf registers ----------------------------------------------------------- */

#if defined(__aarch64__)
/* PERF_REG_ARM64_*: X0..X30 SP PC, the DWARF numbers 0-32 in the same order */
int vdsoscope_regs_from_perf(struct vdsoscope_regs *out, uint64_t abi, uint64_t mask,
			     const uint64_t *vals, size_t nvals)
{
	size_t k = 0;
	unsigned int bit;

	if (abi != 2)
		return -EINVAL;
	vdsoscope_regs_clear(out);
	for (bit = 0; bit < 64; bit++) {
		if (!(mask >> bit & 1))
			continue;
		if (k == nvals)
			return -EINVAL;
		if (bit <= 32)
			vdsoscope_regs_set(out, bit, vals[k]);
		k++;
	}
	return 64;
}
#else
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
	vdsoscope_regs_clear(out);
	for (bit = 0; bit < 64; bit++) {
		if (!(mask >> bit & 1))
			continue;
		if (k == nvals)
			return -EINVAL;
		if (bit < 24 && map[bit] >= 0) {
			out->r[(int)map[bit]] = abi == 1 ? vals[k] & 0xffffffffu : vals[k];
			out->valid[0] |= 1ull << map[bit];
		}
		k++;
	}
	return abi == 2 ? 64 : 32;
}
#endif
