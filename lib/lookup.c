/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding an image by build-id: open images, the store, debug directories,
 * /lib/modules, debuginfod (order and rules in vdsoscope.h). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#ifdef HAVE_DEBUGINFOD
#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#endif
#include "internal.h"

#define LOOKUP_PATH_MAX 4096

struct want {
	const uint8_t *id;
	size_t len;
	char hex[129];
	char refused[600]; /* why a server's answer was not taken */
};

/* Opens BYTES (ownership taken) when they are a vDSO image with the wanted
 * build-id: 0, 1 when they are not (skipped), or a negative code. */
static int try_bytes(struct vdsoscope_image **out, const struct want *w, unsigned char *bytes,
		     size_t size, const char *where, const struct vdsoscope_open_opts *opts,
		     const char *debug_file)
{
	VDSOSCOPE_OPTS(o);
	char source[LOOKUP_PATH_MAX + 160];
	struct vdsoscope_image *img;
	uint8_t did[64];
	size_t dlen = 0;
	int rc;

	if (opts)
		memcpy(&o, opts, opts->sz < offsetof(struct vdsoscope_open_opts, store_dir)
					 ? opts->sz : offsetof(struct vdsoscope_open_opts, store_dir));
	o.sz = sizeof(o);
	o.store_dir = NULL;
	/* a stored debug file is used only when it matches */
	if (debug_file && !o.debug_file && !o.debug_dirs && !(o.flags & VDSOSCOPE_OPEN_NO_DEBUG) &&
	    !vs__build_id_of_file(debug_file, did, &dlen) && dlen == w->len &&
	    !memcmp(did, w->id, dlen))
		o.debug_file = debug_file;
	snprintf(source, sizeof(source), "build-id %s (%s)", w->hex, where);
	rc = vs__image_create(&img, bytes, size, o.load_addr, o.flags & VDSOSCOPE_OPEN_LOAD_ADDR,
			      source, &o);
	if (rc)
		return rc == -ENOMEM ? rc : 1;
	if (img->d->build_id_len != w->len || memcmp(img->d->build_id, w->id, w->len)) {
		vs__err(VDSOSCOPE_E_BUILD_ID, "%s: the file has build-id %s", where,
			*img->d->build_id_hex ? img->d->build_id_hex : "(none)");
		vdsoscope_image_close(img);
		return 1;
	}
	if (vs__check_vdso(img, where)) {
		vdsoscope_image_close(img);
		return 1;
	}
	*out = img;
	return 0;
}

static int try_file(struct vdsoscope_image **out, const struct want *w, const char *path,
		    const char *where, const struct vdsoscope_open_opts *opts,
		    const char *debug_file)
{
	unsigned char *bytes;
	size_t size;
	char what[LOOKUP_PATH_MAX + 32];

	if (vs__read_file(path, VS_MAX_IMAGE, &bytes, &size))
		return 1;
	snprintf(what, sizeof(what), "%s %s", where, path);
	return try_bytes(out, w, bytes, size, what, opts, debug_file);
}

/* 1. images open in this process */
static int from_cache(struct vdsoscope_image **out, const struct want *w,
		      const struct vdsoscope_open_opts *opts)
{
	unsigned char *copy = NULL;
	size_t size = 0;

	if (vs__cache_copy(w->id, w->len, &copy, &size))
		return -ENOMEM;
	if (!copy)
		return 1;
	return try_bytes(out, w, copy, size, "open image", opts, NULL);
}

/* 2. the store */
static int from_store(struct vdsoscope_image **out, const struct want *w,
		      const struct vdsoscope_open_opts *opts, const char *root)
{
	char entry[LOOKUP_PATH_MAX], path[LOOKUP_PATH_MAX + 16], dbg[LOOKUP_PATH_MAX + 16];
	char where[LOOKUP_PATH_MAX + 32];
	unsigned char *bytes;
	size_t size;
	int rc;

	if (snprintf(entry, sizeof(entry), "%s/%s", root, w->hex) >= (int)sizeof(entry))
		return 1;
	snprintf(path, sizeof(path), "%s/vdso", entry);
	snprintf(dbg, sizeof(dbg), "%s/vdso.debug", entry);
	rc = vs__read_file(path, VS_MAX_IMAGE, &bytes, &size);
	if (rc == -ENOENT || rc == -ENOTDIR)
		return 1;
	if (rc)
		return vs__err(-rc, "store file %s", path);
	snprintf(where, sizeof(where), "store %s", path);
	rc = try_bytes(out, w, bytes, size, where, opts, access(dbg, F_OK) ? NULL : dbg);
	if (rc == 1) {
		/* the store holds something else under this name: say so */
		struct vdsoscope_image *img;
		VDSOSCOPE_OPTS(o, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
		if (vdsoscope_open_file(&img, path, &o))
			return vs__err(VDSOSCOPE_E_BUILD_ID, "store file %s is not a vDSO image (%s)",
				       path, vdsoscope_errmsg());
		rc = vs__err(VDSOSCOPE_E_BUILD_ID, "store file %s has build-id %s, not %s", path,
			     *img->d->build_id_hex ? img->d->build_id_hex : "(none)", w->hex);
		vdsoscope_image_close(img);
		return rc;
	}
	if (rc == 0)
		utimensat(AT_FDCWD, entry, NULL, 0); /* used: gc keeps it longer */
	return rc;
}

/* 3. and 4. directories */
static int from_dir(struct vdsoscope_image **out, const struct want *w, const char *dir,
		    const struct vdsoscope_open_opts *opts)
{
	char path[LOOKUP_PATH_MAX];
	char *found = NULL;
	int rc;

	/* DIR/xx/rest is an image, DIR/xx/rest.debug may be one too */
	if (snprintf(path, sizeof(path), "%s/%02x/%s", dir, w->id[0], w->hex + 2) <
	    (int)sizeof(path) - 8) {
		if ((rc = try_file(out, w, path, "file", opts, NULL)) <= 0)
			return rc;
		strcat(path, ".debug");
		if ((rc = try_file(out, w, path, "file", opts, NULL)) <= 0)
			return rc;
	}
	rc = vs__find_build_id_in_dir(dir, w->id, w->len, &found);
	if (rc <= 0)
		return rc < 0 ? rc : 1;
	rc = try_file(out, w, found, "file", opts, NULL);
	free(found);
	return rc;
}

#ifdef HAVE_DEBUGINFOD
/* libdebuginfod pulls in libcurl and its TLS stack: it is loaded when a
 * lookup first gets this far, as libdw itself does, so that every other
 * use of the library starts without it. */
static struct {
	pthread_once_t once;
	debuginfod_client *(*begin)(void);
	int (*find_executable)(debuginfod_client *, const unsigned char *, int, char **);
	int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
	void (*end)(debuginfod_client *);
} dfd = { .once = PTHREAD_ONCE_INIT };

static void dfd_load(void)
{
	void *h = dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_LOCAL);

	if (!h)
		return;
	dfd.find_executable = (int (*)(debuginfod_client *, const unsigned char *, int, char **))
		dlsym(h, "debuginfod_find_executable");
	dfd.find_debuginfo = (int (*)(debuginfod_client *, const unsigned char *, int, char **))
		dlsym(h, "debuginfod_find_debuginfo");
	dfd.end = (void (*)(debuginfod_client *))dlsym(h, "debuginfod_end");
	if (dfd.find_executable && dfd.find_debuginfo && dfd.end)
		dfd.begin = (debuginfod_client * (*)(void)) dlsym(h, "debuginfod_begin");
}

int vdsoscope_debuginfod_find(const uint8_t *id, size_t len, int debuginfo, char **path)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	debuginfod_client *c;
	int fd;

	*path = NULL;
	if (!id || !len || len > 64)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_debuginfod_find: no build-id");
	if (!urls || !*urls)
		return vs__err(VDSOSCOPE_E_NOT_FOUND, "debuginfod: DEBUGINFOD_URLS is not set");
	pthread_once(&dfd.once, dfd_load);
	if (!dfd.begin)
		return vs__err(ENOTSUP, "debuginfod: libdebuginfod.so.1 could not be loaded");
	if (!(c = dfd.begin()))
		return vs__err(VDSOSCOPE_E_NOT_FOUND, "debuginfod: no client");
	fd = (debuginfo ? dfd.find_debuginfo : dfd.find_executable)(c, id, (int)len, path);
	dfd.end(c);
	if (fd < 0) {
		free(*path);
		*path = NULL;
		return vs__err(VDSOSCOPE_E_NOT_FOUND, "debuginfod %s: no server has it", urls);
	}
	close(fd);
	return *path ? 0 : -ENOMEM;
}

/* 5. debuginfod */
static int from_debuginfod(struct vdsoscope_image **out, struct want *w,
			   const struct vdsoscope_open_opts *opts, const char *root, int store)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	debuginfod_client *c;
	char *path = NULL, *dpath = NULL;
	unsigned char *bytes;
	size_t size;
	int fd, rc;

	if (!urls || !*urls)
		return 1;
	pthread_once(&dfd.once, dfd_load);
	if (!dfd.begin) {
		snprintf(w->refused, sizeof(w->refused), "; libdebuginfod.so.1 could not be loaded");
		return 1;
	}
	c = dfd.begin();
	if (!c)
		return 1;
	fd = dfd.find_executable(c, w->id, (int)w->len, &path);
	if (fd < 0) {
		dfd.end(c);
		return 1;
	}
	close(fd);
	if (!(opts && (opts->flags & VDSOSCOPE_OPEN_NO_DEBUG))) {
		int dbg = dfd.find_debuginfo(c, w->id, (int)w->len, &dpath);
		if (dbg >= 0)
			close(dbg);
	}
	dfd.end(c);
	rc = vs__read_file(path, VS_MAX_IMAGE, &bytes, &size);
	if (!rc) {
		char where[LOOKUP_PATH_MAX + 64];
		snprintf(where, sizeof(where), "debuginfod %s", urls);
		/* the debug file comes into play only when it matches */
		rc = try_bytes(out, w, bytes, size, where, opts, dpath);
		if (rc == 1)
			snprintf(w->refused, sizeof(w->refused), "; refused the file from %s: %s", urls,
				 *vdsoscope_errmsg() ? vdsoscope_errmsg() : "not a vDSO image with this build-id");
	} else {
		rc = 1;
	}
	if (rc == 0 && store)
		vdsoscope_store_add(root, *out, NULL); /* a cache: failing to fill it is no error */
	free(path);
	free(dpath);
	return rc;
}
#endif

int vdsoscope_open_build_id(struct vdsoscope_image **out, const uint8_t *id, size_t len,
			    const struct vdsoscope_open_opts *opts)
{
	unsigned int flags = opts ? opts->flags : 0;
	const char *store_dir = VS_OPT(opts, store_dir);
	char root[LOOKUP_PATH_MAX];
	struct want w = { id, len, "", "" };
	struct utsname u;
	int rc, have_root = 0;
	size_t i;

	if (!out || !id || !len || len > 64)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_open_build_id: build-id of %zu bytes",
			       len);
	*out = NULL;
	if ((rc = vs__check_opts(opts)))
		return rc;
	for (i = 0; i < len; i++)
		sprintf(w.hex + 2 * i, "%02x", id[i]);

	if ((rc = from_cache(out, &w, opts)) <= 0)
		goto out;
	if (!(flags & VDSOSCOPE_OPEN_NO_STORE) && !vdsoscope_store_dir(store_dir, root, sizeof(root))) {
		have_root = 1;
		if ((rc = from_store(out, &w, opts, root)) <= 0)
			goto out;
	}
	if (opts && opts->debug_dirs) {
		for (i = 0; opts->debug_dirs[i]; i++)
			if ((rc = from_dir(out, &w, opts->debug_dirs[i], opts)) <= 0)
				goto out;
	} else {
		if ((rc = from_dir(out, &w, "/usr/lib/debug/.build-id", opts)) <= 0)
			goto out;
		if (!uname(&u)) {
			char dir[600];
			snprintf(dir, sizeof(dir), "/usr/lib/debug/lib/modules/%s/vdso", u.release);
			if ((rc = from_dir(out, &w, dir, opts)) <= 0)
				goto out;
		}
	}
	if (!uname(&u)) {
		char dir[600];
		snprintf(dir, sizeof(dir), "/lib/modules/%s/vdso", u.release);
		if ((rc = from_dir(out, &w, dir, opts)) <= 0)
			goto out;
	}
#ifdef HAVE_DEBUGINFOD
	if (!(flags & VDSOSCOPE_OPEN_NO_DEBUGINFOD) &&
	    (rc = from_debuginfod(out, &w, opts, have_root ? root : NULL,
				  have_root && !(flags & VDSOSCOPE_OPEN_NO_STORE_WRITE))) <= 0)
		goto out;
#endif
	return vs__err(VDSOSCOPE_E_NOT_FOUND, "build-id %s: no open image, store%s%s, debug "
		       "directory%s%s", w.hex, have_root ? " " : "", have_root ? root : "",
#ifdef HAVE_DEBUGINFOD
		       getenv("DEBUGINFOD_URLS") && *getenv("DEBUGINFOD_URLS") &&
				       !(flags & VDSOSCOPE_OPEN_NO_DEBUGINFOD)
			       ? " or debuginfod server has it"
			       : " has it (DEBUGINFOD_URLS is not set)"
#else
		       " has it (built without libdebuginfod)"
#endif
		       , w.refused);
out:
	if (rc == 0)
		vs__clear_err();
	return rc;
}

#ifndef HAVE_DEBUGINFOD
int vdsoscope_debuginfod_find(const uint8_t *id, size_t len, int debuginfo, char **path)
{
	*path = NULL;
	return vs__err(ENOTSUP, "debuginfod: built without libdebuginfod");
}
#endif
