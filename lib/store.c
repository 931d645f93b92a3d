/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The build-id store: a directory with each image once, by build-id (layout
 * in vdsoscope.h). */
#include "config.h"
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

#define STORE_PATH_MAX 4096
#define TMP_MAX_AGE 3600 /* seconds before gc removes a leftover temporary file */
/* room for "/BUILDID/.vdso.debug.XXXXXX.tmp" and the .build-id names */
#define STORE_ROOT_MAX (STORE_PATH_MAX - 320)

/* snprintf into a STORE_PATH_MAX buffer; paths under a root of at most
 * STORE_ROOT_MAX bytes always fit. */
static void pathf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pathf(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, STORE_PATH_MAX, fmt, ap);
	va_end(ap);
}

int vdsoscope_store_dir(const char *dir, char *buf, size_t len)
{
	const char *env = getenv("VDSOSCOPE_STORE"), *base;
	int n;

	if (!buf || !len)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_store_dir");
	if (dir && *dir)
		n = snprintf(buf, len, "%s", dir);
	else if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if ((base = getenv("XDG_CACHE_HOME")) && *base == '/')
		n = snprintf(buf, len, "%s/vdsoscope", base);
	else if ((base = getenv("HOME")) && *base)
		n = snprintf(buf, len, "%s/.cache/vdsoscope", base);
	else
		return vs__err(ENOENT, "store: no directory given and neither VDSOSCOPE_STORE, "
				       "XDG_CACHE_HOME nor HOME is set");
	if (n < 0 || (size_t)n >= len || n > STORE_ROOT_MAX)
		return vs__err(ENAMETOOLONG, "store directory");
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vdsoscope_build_id_parse(const char *hex, uint8_t *id, size_t size, size_t *len)
{
	size_t n, i;

	if (!hex || !id || !len)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_build_id_parse");
	n = strlen(hex);
	if (n < 2 || n > 128 || n % 2)
		return vs__err(VDSOSCOPE_E_INVALID,
			       "build-id '%s': want an even number of 2 to 128 hex digits", hex);
	if (n / 2 > size)
		return vs__err(VDSOSCOPE_E_INVALID, "build-id '%s': longer than %zu bytes", hex, size);
	for (i = 0; i < n; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return vs__err(VDSOSCOPE_E_INVALID, "build-id '%s': '%c' is not a hex digit",
				       hex, hi < 0 ? hex[i] : hex[i + 1]);
		id[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* 1 when NAME is a lower-case hex build-id as the store names entries. */
static int is_entry_name(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 2 || n > 128 || n % 2)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}

int vs__read_file(const char *path, size_t max, unsigned char **bytes, size_t *size)
{
	struct stat st;
	unsigned char *b;
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return S_ISREG(st.st_mode) ? -VDSOSCOPE_E_TOO_LARGE : -VDSOSCOPE_E_INVALID;
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (have < (size_t)st.st_size) {
		ssize_t n = pread(fd, b + have, (size_t)st.st_size - have, (off_t)have);
		if (n <= 0) {
			rc = n < 0 ? -errno : -VDSOSCOPE_E_TRUNCATED;
			free(b);
			close(fd);
			return rc;
		}
		have += (size_t)n;
	}
	close(fd);
	*bytes = b;
	*size = have;
	return 0;
}

/* The image is one the kernel could have mapped: nothing to load with it. */
int vs__check_vdso(const struct vdsoscope_image *img, const char *what)
{
	const struct vs_elf *e = &img->d->elf;
	unsigned int i;
	uint64_t off;

	for (i = 0; i < e->phnum; i++) {
		uint32_t type;
		uint64_t o, v, fs, ms;
		uint32_t fl;
		if (!vs_elf_phdr(e, i, &type, &o, &v, &fs, &ms, &fl) && type == PT_INTERP)
			return vs__err(VDSOSCOPE_E_INVALID, "%s: not a vDSO image: it has PT_INTERP",
				       what);
	}
	if (e->dynamic) {
		size_t w = e->is64 ? 8 : 4;
		for (off = e->dynamic; off + 2 * w <= e->dynamic + e->dynamic_size &&
				       vs_elf_in(e, off, 2 * w); off += 2 * w) {
			uint64_t tag = vs_elf_word(e, off);
			if (tag == DT_NULL)
				break;
			if (tag == DT_NEEDED) {
				const char *lib = vs_elf_str(e, vs_elf_word(e, off + w));
				return vs__err(VDSOSCOPE_E_INVALID,
					       "%s: not a vDSO image: it needs %s", what,
					       lib ? lib : "another library");
			}
		}
	}
	if (!img->d->build_id_len)
		return vs__err(VDSOSCOPE_E_INVALID,
			       "%s: the image has no build-id note; the store keeps images by build-id",
			       what);
	return 0;
}

/* Opens BYTES as an image for checking (no debug file, not shared). */
static int open_plain(struct vdsoscope_image **img, const unsigned char *bytes, size_t size)
{
	VDSOSCOPE_OPTS(o, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
	return vdsoscope_open_buffer(img, bytes, size, &o);
}

static int mkdir_p(const char *path)
{
	char buf[STORE_PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int same_content(const char *path, const unsigned char *bytes, size_t size)
{
	unsigned char *b;
	size_t n;
	int same;

	if (vs__read_file(path, VS_MAX_IMAGE + (512u << 20), &b, &n))
		return 0;
	same = n == size && !memcmp(b, bytes, size);
	free(b);
	return same;
}

/* Makes DIR/NAME hold BYTES unless it exists: 1 written, 0 there already
 * (*DIFFERS set when its content is other), or a negative code.  MTIME, when
 * not 0, is the file's modification time. */
static int put_file(const char *dir, const char *name, const unsigned char *bytes, size_t size,
		    time_t mtime, int *differs)
{
	char final[STORE_PATH_MAX], tmp[STORE_PATH_MAX], proc[64];
	int fd, rc, named = 0;

	*differs = 0;
	pathf(final, "%s/%s", dir, name);
	if (!access(final, F_OK))
		goto exists;
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
	if (fd < 0) {
		/* no O_TMPFILE here: a named temporary file */
		pathf(tmp, "%s/.%s.XXXXXX.tmp", dir, name);
		fd = mkostemps(tmp, 4, O_CLOEXEC);
		if (fd < 0)
			return -errno;
		named = 1;
	}
	rc = write_all(fd, bytes, size);
	if (!rc && fchmod(fd, 0444))
		rc = -errno;
	if (!rc && mtime) {
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = mtime } };
		if (futimens(fd, ts))
			rc = -errno;
	}
	if (!rc && fdatasync(fd))
		rc = -errno;
	if (!rc) {
		if (named) {
			if (link(tmp, final))
				rc = -errno;
		} else {
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			if (linkat(AT_FDCWD, proc, AT_FDCWD, final, AT_SYMLINK_FOLLOW))
				rc = -errno;
		}
	}
	if (named)
		unlink(tmp);
	close(fd);
	if (rc == -EEXIST)
		goto exists;
	return rc ? rc : 1;
exists:
	*differs = !same_content(final, bytes, size);
	return 0;
}

/* Points the symlink PATH at TARGET, replacing a link that points elsewhere. */
static int put_link(const char *path, const char *target)
{
	char have[STORE_PATH_MAX], tmp[STORE_PATH_MAX];
	ssize_t n;

	if (!symlink(target, path))
		return 0;
	if (errno != EEXIST)
		return -errno;
	n = readlink(path, have, sizeof(have) - 1);
	if (n >= 0) {
		have[n] = 0;
		if (!strcmp(have, target))
			return 0;
	}
	pathf(tmp, "%s.%ld.tmp", path, (long)getpid());
	unlink(tmp);
	if (symlink(target, tmp))
		return -errno;
	if (rename(tmp, path)) {
		int rc = -errno;
		unlink(tmp);
		return rc;
	}
	return 0;
}

static int own_debug(const struct vdsoscope_image *img)
{
	return img->d->debug_elf && !img->d->debug_path;
}

int vdsoscope_store_add(const char *dir, const struct vdsoscope_image *img, unsigned int *what)
{
	char root[STORE_PATH_MAX], entry[STORE_PATH_MAX], links[STORE_PATH_MAX];
	char link[STORE_PATH_MAX], target[STORE_PATH_MAX];
	const char *hex, *dbg;
	unsigned char *dbytes = NULL;
	size_t dsize = 0;
	struct stat st;
	int rc, differs, added = 0;
	unsigned int got = 0;

	if (what)
		*what = 0;
	if (!img)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_store_add");
	if ((rc = vdsoscope_store_dir(dir, root, sizeof(root))))
		return rc;
	if ((rc = vs__check_vdso(img, img->source)))
		return rc;
	hex = img->d->build_id_hex;
	dbg = img->d->debug_path;
	if (dbg) {
		uint8_t id[64];
		size_t len = 0;
		/* the debug file as the library matched it, checked again */
		if ((rc = vs__read_file(dbg, 512u << 20, &dbytes, &dsize)))
			return vs__err(-rc, "debug file %s", dbg);
		if (vs__build_id_of_file(dbg, id, &len) || len != img->d->build_id_len ||
		    memcmp(id, img->d->build_id, len)) {
			free(dbytes);
			return vs__err(VDSOSCOPE_E_BUILD_ID, "debug file %s (image has %s)", dbg, hex);
		}
	}
	pathf(entry, "%s/%s", root, hex);
	pathf(links, "%s/.build-id/%.2s", root, hex);
	/* a concurrent gc may remove the entry between mkdir and link: retry */
	for (int tries = 0; tries < 3; tries++) {
		if ((rc = mkdir_p(entry)) || (rc = mkdir_p(links))) {
			rc = vs__err(-rc, "store %s", entry);
			goto out;
		}
		rc = put_file(entry, "vdso", img->d->bytes, img->d->size, 0, &differs);
		if (rc != -ENOENT)
			break;
	}
	if (rc < 0) {
		rc = vs__err(-rc, "store %s/vdso", entry);
		goto out;
	}
	if (rc)
		got |= VDSOSCOPE_STORE_IMAGE_ADDED;
	if (differs)
		got |= VDSOSCOPE_STORE_IMAGE_DIFFERS;
	if (dbytes) {
		char image[STORE_PATH_MAX];
		time_t mtime = time(NULL) - 1;
		/* older than the image, so debuginfod's executable query (newest
		 * first) answers the image even when the debug file is unstripped */
		pathf(image, "%s/vdso", entry);
		if (!stat(image, &st))
			mtime = st.st_mtime - 1;
		rc = put_file(entry, "vdso.debug", dbytes, dsize, mtime, &differs);
		if (rc < 0) {
			rc = vs__err(-rc, "store %s/vdso.debug", entry);
			goto out;
		}
		if (rc)
			got |= VDSOSCOPE_STORE_DEBUG_ADDED;
		added = 1;
	} else {
		char path[STORE_PATH_MAX];
		pathf(path, "%s/vdso.debug", entry);
		added = !access(path, F_OK);
	}
	pathf(link, "%s/%s", links, hex + 2);
	pathf(target, "../../%s/vdso", hex);
	if ((rc = put_link(link, target))) {
		rc = vs__err(-rc, "store link %s", link);
		goto out;
	}
	if (added || own_debug(img)) {
		pathf(link, "%s/%s.debug", links, hex + 2);
		pathf(target, "../../%s/%s", hex, added ? "vdso.debug" : "vdso");
		if ((rc = put_link(link, target))) {
			rc = vs__err(-rc, "store link %s", link);
			goto out;
		}
	}
	utimensat(AT_FDCWD, entry, NULL, 0);
	if (what)
		*what = got;
	rc = 0;
	vs__clear_err();
out:
	free(dbytes);
	return rc;
}

int vdsoscope_store_path(const char *dir, const char *hex, bool debug, char *buf, size_t len)
{
	char root[STORE_PATH_MAX];
	uint8_t id[64];
	size_t idlen;
	int rc, n;

	if (!hex || !buf)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_store_path");
	if ((rc = vdsoscope_build_id_parse(hex, id, sizeof(id), &idlen)))
		return rc;
	if ((rc = vdsoscope_store_dir(dir, root, sizeof(root))))
		return rc;
	n = snprintf(buf, len, "%s/", root);
	for (size_t i = 0; i < idlen && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - n, "%02x", id[i]);
	if (n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "/%s", debug ? "vdso.debug" : "vdso");
	if (n < 0 || (size_t)n >= len)
		return vs__err(ENAMETOOLONG, "store %s", root);
	if (access(buf, F_OK))
		return vs__err(VDSOSCOPE_E_NOT_FOUND, "%s of build-id %s in store %s",
			       debug ? "debug file" : "image", hex, root);
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct vdsoscope_store_entry *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime > y->mtime ? -1 : 1;
	return strcmp(x->build_id, y->build_id);
}

int vdsoscope_store_list(const char *dir, struct vdsoscope_store_entry **entries, size_t *n)
{
	char root[STORE_PATH_MAX], path[STORE_PATH_MAX];
	struct vdsoscope_store_entry *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *dp;
	int rc;

	if (!entries || !n)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_store_list");
	*entries = NULL;
	*n = 0;
	if ((rc = vdsoscope_store_dir(dir, root, sizeof(root))))
		return rc;
	dp = opendir(root);
	if (!dp) {
		if (errno == ENOENT)
			return 0;
		return vs__err(errno, "store %s", root);
	}
	while ((de = readdir(dp))) {
		struct stat st, ds, dbg;

		if (!is_entry_name(de->d_name))
			continue;
		pathf(path, "%s/%s", root, de->d_name);
		if (stat(path, &ds) || !S_ISDIR(ds.st_mode))
			continue;
		pathf(path, "%s/%s/vdso", root, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (cnt == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct vdsoscope_store_entry *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				closedir(dp);
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		memcpy(v[cnt].build_id, de->d_name, strlen(de->d_name) + 1); /* <= 128 digits */
		v[cnt].size = (uint64_t)st.st_size;
		v[cnt].mtime = ds.st_mtime;
		pathf(path, "%s/%s/vdso.debug", root, de->d_name);
		if (!stat(path, &dbg) && S_ISREG(dbg.st_mode))
			v[cnt].debug_size = (uint64_t)dbg.st_size;
		cnt++;
	}
	closedir(dp);
	if (cnt)
		qsort(v, cnt, sizeof(*v), entry_cmp);
	*entries = v;
	*n = cnt;
	return 0;
}

struct verify {
	vdsoscope_store_problem_fn fn;
	void *arg;
	int problems;
};

static void problem(struct verify *vf, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct verify *vf, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vf->problems++;
	if (vf->fn)
		vf->fn(vf->arg, path, msg);
}

static int is_tmp_name(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && !strcmp(name + n - 4, ".tmp");
}

static void verify_entry(struct verify *vf, const char *root, const char *name)
{
	char path[STORE_PATH_MAX], link[STORE_PATH_MAX], want[STORE_PATH_MAX];
	char have[STORE_PATH_MAX];
	unsigned char *bytes;
	size_t size;
	struct dirent *de;
	DIR *dp;
	int rc, has_debug = 0, unstripped = 0;
	ssize_t n;

	pathf(path, "%s/%s", root, name);
	dp = opendir(path);
	if (!dp) {
		problem(vf, path, "not a directory");
		return;
	}
	while ((de = readdir(dp))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "vdso") || !strcmp(de->d_name, "vdso.debug"))
			continue;
		pathf(path, "%s/%s/%s", root, name, de->d_name);
		problem(vf, path, is_tmp_name(de->d_name) ? "leftover temporary file"
							   : "unexpected file in an entry");
	}
	closedir(dp);

	pathf(path, "%s/%s/vdso", root, name);
	rc = vs__read_file(path, VS_MAX_IMAGE, &bytes, &size);
	if (rc) {
		problem(vf, path, "image unreadable: %s", vdsoscope_strerror(rc));
	} else {
		struct vdsoscope_image *img;
		if (open_plain(&img, bytes, size)) {
			problem(vf, path, "not a vDSO image: %s", vdsoscope_errmsg());
		} else {
			if (vs__check_vdso(img, path))
				problem(vf, path, "%s", vdsoscope_errmsg());
			else if (strcmp(img->d->build_id_hex, name))
				problem(vf, path, "build-id note is %s, not the entry's name",
					img->d->build_id_hex);
			unstripped = own_debug(img);
			vdsoscope_image_close(img);
		}
		free(bytes);
	}

	pathf(path, "%s/%s/vdso.debug", root, name);
	if (!access(path, F_OK)) {
		uint8_t id[64];
		size_t len = 0, i;
		char hex[129] = "";
		has_debug = 1;
		if (vs__build_id_of_file(path, id, &len)) {
			problem(vf, path, "debug file is not an ELF file with a build-id");
		} else {
			for (i = 0; i < len; i++)
				sprintf(hex + 2 * i, "%02x", id[i]);
			if (strcmp(hex, name))
				problem(vf, path, "build-id note is %s, not the entry's name", hex);
		}
	}

	/* the .build-id view */
	pathf(link, "%s/.build-id/%.2s/%s", root, name, name + 2);
	pathf(want, "../../%s/vdso", name);
	n = readlink(link, have, sizeof(have) - 1);
	if (n < 0)
		problem(vf, link, "link to the image is missing");
	else if ((have[n] = 0, strcmp(have, want)))
		problem(vf, link, "points to %s, not %s", have, want);
	if (has_debug || unstripped) {
		pathf(link, "%s/.build-id/%.2s/%s.debug", root, name, name + 2);
		pathf(want, "../../%s/%s", name, has_debug ? "vdso.debug" : "vdso");
		n = readlink(link, have, sizeof(have) - 1);
		if (n < 0)
			problem(vf, link, "link to the debug file is missing");
		else if ((have[n] = 0, strcmp(have, want)))
			problem(vf, link, "points to %s, not %s", have, want);
	}
}

/* Calls FN(root, xx, name) for every file in ROOT/.build-id/xx/. */
static void each_link(const char *root, void (*fn)(void *, const char *, const char *), void *arg)
{
	char path[STORE_PATH_MAX], sub[STORE_PATH_MAX];
	struct dirent *de, *le;
	DIR *dp, *lp;

	pathf(path, "%s/.build-id", root);
	dp = opendir(path);
	if (!dp)
		return;
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		pathf(sub, "%s/%s", path, de->d_name);
		lp = opendir(sub);
		if (!lp)
			continue;
		while ((le = readdir(lp))) {
			char file[STORE_PATH_MAX];
			if (!strcmp(le->d_name, ".") || !strcmp(le->d_name, ".."))
				continue;
			pathf(file, "%s/%s", sub, le->d_name);
			fn(arg, file, le->d_name);
		}
		closedir(lp);
	}
	closedir(dp);
}

static void verify_link(void *arg, const char *file, const char *name)
{
	struct verify *vf = arg;
	struct stat st;

	if (lstat(file, &st) || !S_ISLNK(st.st_mode))
		problem(vf, file, is_tmp_name(name) ? "leftover temporary file"
						      : "not a symlink in .build-id");
	else if (stat(file, &st))
		problem(vf, file, "dangling link");
}

int vdsoscope_store_verify(const char *dir, vdsoscope_store_problem_fn fn, void *arg)
{
	char root[STORE_PATH_MAX], path[STORE_PATH_MAX];
	struct verify vf = { fn, arg, 0 };
	struct dirent *de;
	DIR *dp;
	int rc;

	if ((rc = vdsoscope_store_dir(dir, root, sizeof(root))))
		return rc;
	dp = opendir(root);
	if (!dp)
		return vs__err(errno, "store %s", root);
	while ((de = readdir(dp))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, ".build-id"))
			continue;
		if (is_entry_name(de->d_name)) {
			verify_entry(&vf, root, de->d_name);
		} else {
			pathf(path, "%s/%s", root, de->d_name);
			problem(&vf, path, "not a store entry (name is not a lower-case hex build-id)");
		}
	}
	closedir(dp);
	each_link(root, verify_link, &vf);
	vs__clear_err();
	return vf.problems;
}

static void gc_link(void *arg, const char *file, const char *name)
{
	struct stat st;
	time_t now = *(time_t *)arg;

	if (!lstat(file, &st) && S_ISLNK(st.st_mode) && stat(file, &st))
		unlink(file);
	else if (is_tmp_name(name) && !lstat(file, &st) && now - st.st_mtime > TMP_MAX_AGE)
		unlink(file);
}

static int remove_entry(const char *root, const char *name)
{
	char path[STORE_PATH_MAX];
	struct dirent *de;
	DIR *dp;

	pathf(path, "%s/.build-id/%.2s/%s.debug", root, name, name + 2);
	unlink(path);
	pathf(path, "%s/.build-id/%.2s/%s", root, name, name + 2);
	unlink(path);
	pathf(path, "%s/%s", root, name);
	dp = opendir(path);
	if (!dp)
		return -errno;
	while ((de = readdir(dp))) {
		char file[STORE_PATH_MAX];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		pathf(file, "%s/%s", path, de->d_name);
		unlink(file);
	}
	closedir(dp);
	if (rmdir(path))
		return -errno;
	return 0;
}

int vdsoscope_store_gc(const char *dir, size_t keep, size_t *removed)
{
	char root[STORE_PATH_MAX];
	struct vdsoscope_store_entry *v;
	size_t n, i, gone = 0;
	time_t now = time(NULL);
	struct dirent *de;
	DIR *dp;
	int rc;

	if (removed)
		*removed = 0;
	if ((rc = vdsoscope_store_dir(dir, root, sizeof(root))))
		return rc;
	if ((rc = vdsoscope_store_list(dir, &v, &n)))
		return rc;
	for (i = keep; i < n; i++) {
		if ((rc = remove_entry(root, v[i].build_id))) {
			free(v);
			return vs__err(-rc, "store %s/%s", root, v[i].build_id);
		}
		gone++;
	}
	free(v);
	/* entries without an image, and old temporary files in entries */
	dp = opendir(root);
	if (dp) {
		while ((de = readdir(dp))) {
			char path[STORE_PATH_MAX];
			struct stat st;
			DIR *ep;
			struct dirent *fe;

			if (!is_entry_name(de->d_name))
				continue;
			pathf(path, "%s/%s", root, de->d_name);
			ep = opendir(path);
			if (!ep)
				continue;
			while ((fe = readdir(ep))) {
				char file[STORE_PATH_MAX];
				if (!is_tmp_name(fe->d_name))
					continue;
				pathf(file, "%s/%s", path, fe->d_name);
				if (!lstat(file, &st) && now - st.st_mtime > TMP_MAX_AGE)
					unlink(file);
			}
			closedir(ep);
			pathf(path, "%s/%s/vdso", root, de->d_name);
			if (access(path, F_OK)) {
				pathf(path, "%s/%s", root, de->d_name);
				if (!lstat(path, &st) && now - st.st_mtime > TMP_MAX_AGE)
					remove_entry(root, de->d_name);
			}
		}
		closedir(dp);
	}
	each_link(root, gc_link, &now);
	if (removed)
		*removed = gone;
	vs__clear_err();
	return 0;
}
