/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope store: add, list, path, verify, gc. */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vdsoscope.h"
#include "json.h"
#include "store.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

static const char store_usage[] =
	"Usage: vdsoscope store add [--self|--pid PID|--core FILE|--file FILE|--build-id ID]\n"
	"                           [--debug-dir DIR]... [--debug-file FILE] [--no-debug]\n"
	"       vdsoscope store list\n"
	"       vdsoscope store path BUILDID [--debug]\n"
	"       vdsoscope store verify\n"
	"       vdsoscope store gc --keep N\n"
	"\n"
	"Keeps vDSO images, and their debug files, by build-id in a directory that\n"
	"`debuginfod -F DIR` serves and gdb and libdwfl read as a debug directory.\n"
	"\n"
	"  add       store the image of the source (default --self) and its debug file\n"
	"  list      the stored images, most recently used first\n"
	"  path      the stored image's file (--debug: its debug file)\n"
	"  verify    check every file: names, build-ids, links, leftovers\n"
	"  gc        keep the N most recently used images, remove the others\n"
	"\n"
	"Options:\n"
	"  --store DIR    the store (default: $VDSOSCOPE_STORE, else\n"
	"                 $XDG_CACHE_HOME/vdsoscope, else ~/.cache/vdsoscope)\n"
	"  --json         machine-readable output\n"
	"\n"
	"Exit status: 0 success; 1 failure (verify: problems found); 2 usage error.\n";

struct store_args {
	const char *sub, *arg;
	const char *store;
	const char *pid, *core, *file, *build_id, *debug_file, *keep;
	const char **debug_dirs;
	size_t ndebug_dirs;
	unsigned int sources;
	int no_debug, debug, json;
	int nargs;
};

static int usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, "vdsoscope store: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nTry 'vdsoscope store --help'.\n");
	return EXIT_USAGE;
}

static int failed(const char *what)
{
	fprintf(stderr, "vdsoscope: %s\n", *vdsoscope_errmsg() ? vdsoscope_errmsg() : what);
	return EXIT_FAILED;
}

static const char *machine_of(const struct vdsoscope_image *img, char *buf, size_t len)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);

	if (a)
		return a->name;
	snprintf(buf, len, "EM_%d", vdsoscope_machine(img));
	return buf;
}

static int open_source(const struct store_args *a, struct vdsoscope_image **img)
{
	VDSOSCOPE_OPTS(opts);
	int rc;

	if (a->ndebug_dirs)
		opts.debug_dirs = a->debug_dirs;
	opts.debug_file = a->debug_file;
	opts.store_dir = a->store;
	if (a->no_debug)
		opts.flags |= VDSOSCOPE_OPEN_NO_DEBUG;
	if (a->pid) {
		char *end;
		long pid;
		errno = 0;
		pid = strtol(a->pid, &end, 10);
		if (errno || *end || pid <= 0 || pid > 0x7fffffff || a->pid[0] < '0' || a->pid[0] > '9') {
			fprintf(stderr, "vdsoscope: --pid %s is not a process id\n", a->pid);
			return EXIT_USAGE;
		}
		rc = vdsoscope_open_pid(img, (pid_t)pid, &opts);
	} else if (a->core) {
		rc = vdsoscope_open_core(img, a->core, &opts);
	} else if (a->file) {
		rc = vdsoscope_open_file(img, a->file, &opts);
	} else if (a->build_id) {
		uint8_t id[64];
		size_t len;
		if (vdsoscope_build_id_parse(a->build_id, id, sizeof(id), &len)) {
			fprintf(stderr, "vdsoscope: %s\n", vdsoscope_errmsg());
			return EXIT_USAGE;
		}
		rc = vdsoscope_open_build_id(img, id, len, &opts);
	} else {
		rc = vdsoscope_open_self(img, &opts);
	}
	return rc ? failed(vdsoscope_strerror(rc)) : 0;
}

static int cmd_add(const struct store_args *a)
{
	struct vdsoscope_image *img;
	unsigned int what;
	char dir[4096], path[4200];
	const char *dbg;
	int rc;

	if ((rc = open_source(a, &img)))
		return rc;
	if (vdsoscope_store_dir(a->store, dir, sizeof(dir)) ||
	    vdsoscope_store_add(a->store, img, &what)) {
		rc = failed("store add");
		vdsoscope_image_close(img);
		return rc;
	}
	vdsoscope_store_path(a->store, vdsoscope_build_id_hex(img), false, path, sizeof(path));
	dbg = vdsoscope_debug_file(img);
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "build_id", vdsoscope_build_id_hex(img));
		json_kstr(&j, "source", vdsoscope_image_source(img));
		json_kstr(&j, "store", dir);
		json_kstr(&j, "image", path);
		json_kbool(&j, "image_added", what & VDSOSCOPE_STORE_IMAGE_ADDED);
		json_kbool(&j, "image_differs", what & VDSOSCOPE_STORE_IMAGE_DIFFERS);
		json_key(&j, "debug_file");
		if (dbg)
			json_str(&j, dbg);
		else
			json_null(&j);
		json_kbool(&j, "debug_added", what & VDSOSCOPE_STORE_DEBUG_ADDED);
		json_obj_end(&j);
	} else {
		printf("%s %s: %s%s%s\n", vdsoscope_build_id_hex(img),
		       what & VDSOSCOPE_STORE_IMAGE_ADDED ? "added" : "already stored", path,
		       what & VDSOSCOPE_STORE_DEBUG_ADDED ? ", with debug file " : "",
		       what & VDSOSCOPE_STORE_DEBUG_ADDED ? dbg : "");
		if (what & VDSOSCOPE_STORE_IMAGE_DIFFERS)
			fprintf(stderr, "vdsoscope: %s: the store holds other bytes with build-id %s;"
					" kept them\n", vdsoscope_image_source(img),
				vdsoscope_build_id_hex(img));
	}
	vdsoscope_image_close(img);
	return 0;
}

static int cmd_list(const struct store_args *a)
{
	struct vdsoscope_store_entry *v;
	size_t n, i;
	struct json j;

	if (vdsoscope_store_list(a->store, &v, &n))
		return failed("store list");
	if (a->json) {
		json_init(&j, stdout);
		json_arr(&j);
	} else {
		printf("%-40s %6s %6s  %-16s %-7s %-9s %s\n", "BUILD-ID", "SIZE", "DEBUG", "SONAME",
		       "MACHINE", "LINUX", "USED");
	}
	for (i = 0; i < n; i++) {
		VDSOSCOPE_OPTS(o, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_NO_CACHE);
		struct vdsoscope_image *img = NULL;
		char path[4200], mach[32] = "?", ver[32] = "-", used[32];
		const char *soname = "?";
		struct tm tm;
		time_t t = (time_t)v[i].mtime;

		if (!vdsoscope_store_path(a->store, v[i].build_id, false, path, sizeof(path)) &&
		    !vdsoscope_open_file(&img, path, &o)) {
			uint32_t lv = vdsoscope_linux_version(img);
			soname = vdsoscope_soname(img);
			snprintf(mach, sizeof(mach), "%s", machine_of(img, mach, sizeof(mach)));
			if (lv)
				snprintf(ver, sizeof(ver), "%u.%u.%u", lv >> 16, (lv >> 8) & 0xff, lv & 0xff);
		}
		strftime(used, sizeof(used), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		if (a->json) {
			json_obj(&j);
			json_kstr(&j, "build_id", v[i].build_id);
			json_kstr(&j, "image", path);
			json_kuint(&j, "size", v[i].size);
			json_kuint(&j, "debug_size", v[i].debug_size);
			json_kstr(&j, "soname", soname);
			json_kstr(&j, "machine", mach);
			json_kstr(&j, "linux_version", strcmp(ver, "-") ? ver : "");
			json_kint(&j, "used", v[i].mtime);
			json_obj_end(&j);
		} else {
			char dsz[24] = "-";
			if (v[i].debug_size)
				snprintf(dsz, sizeof(dsz), "%llu", (unsigned long long)v[i].debug_size);
			printf("%-40s %6llu %6s  %-16s %-7s %-9s %s\n", v[i].build_id,
			       (unsigned long long)v[i].size, dsz, soname, mach, ver, used);
		}
		vdsoscope_image_close(img);
	}
	if (a->json)
		json_arr_end(&j);
	free(v);
	return 0;
}

static int cmd_path(const struct store_args *a)
{
	char path[4200];
	uint8_t id[64];
	size_t len;

	if (vdsoscope_build_id_parse(a->arg, id, sizeof(id), &len))
		return usage_error("%s", vdsoscope_errmsg());
	if (vdsoscope_store_path(a->store, a->arg, a->debug, path, sizeof(path)))
		return failed("store path");
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "path", path);
		json_obj_end(&j);
	} else {
		printf("%s\n", path);
	}
	return 0;
}

struct problems {
	struct json *j;
};

static void print_problem(void *arg, const char *path, const char *problem)
{
	struct problems *p = arg;

	if (p->j) {
		json_obj(p->j);
		json_kstr(p->j, "path", path);
		json_kstr(p->j, "problem", problem);
		json_obj_end(p->j);
	} else {
		printf("%s: %s\n", path, problem);
	}
}

static int cmd_verify(const struct store_args *a)
{
	struct vdsoscope_store_entry *v;
	struct json j;
	struct problems p = { a->json ? &j : NULL };
	char dir[4096];
	size_t n;
	int rc;

	if (vdsoscope_store_dir(a->store, dir, sizeof(dir)) || vdsoscope_store_list(a->store, &v, &n))
		return failed("store verify");
	free(v);
	if (access(dir, F_OK)) {
		fprintf(stderr, "vdsoscope: store %s: %s\n", dir, strerror(errno));
		return EXIT_FAILED;
	}
	if (a->json) {
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "store", dir);
		json_key(&j, "problems");
		json_arr(&j);
	}
	rc = vdsoscope_store_verify(a->store, print_problem, &p);
	if (rc < 0)
		return failed("store verify");
	if (a->json) {
		json_arr_end(&j);
		json_kuint(&j, "entries", n);
		json_obj_end(&j);
	} else {
		printf("%s: %zu image%s, %d problem%s\n", dir, n, n == 1 ? "" : "s", rc,
		       rc == 1 ? "" : "s");
	}
	return rc ? EXIT_FAILED : 0;
}

static int cmd_gc(const struct store_args *a)
{
	char *end;
	unsigned long long keep;
	size_t removed, n;
	struct vdsoscope_store_entry *v;

	errno = 0;
	keep = strtoull(a->keep, &end, 10);
	if (errno || *end || a->keep[0] < '0' || a->keep[0] > '9')
		return usage_error("--keep %s is not a number", a->keep);
	if (vdsoscope_store_gc(a->store, (size_t)keep, &removed) ||
	    vdsoscope_store_list(a->store, &v, &n))
		return failed("store gc");
	free(v);
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kuint(&j, "removed", removed);
		json_kuint(&j, "kept", n);
		json_obj_end(&j);
	} else {
		printf("removed %zu image%s, kept %zu\n", removed, removed == 1 ? "" : "s", n);
	}
	return 0;
}

enum { O_SELF = 256, O_PID, O_CORE, O_FILE, O_BUILD_ID, O_DDIR, O_DFILE, O_NODEBUG, O_JSON,
       O_STORE, O_KEEP, O_DEBUG };

int store_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "self", no_argument, NULL, O_SELF },
		{ "pid", required_argument, NULL, O_PID },
		{ "core", required_argument, NULL, O_CORE },
		{ "file", required_argument, NULL, O_FILE },
		{ "build-id", required_argument, NULL, O_BUILD_ID },
		{ "debug-dir", required_argument, NULL, O_DDIR },
		{ "debug-file", required_argument, NULL, O_DFILE },
		{ "no-debug", no_argument, NULL, O_NODEBUG },
		{ "json", no_argument, NULL, O_JSON },
		{ "store", required_argument, NULL, O_STORE },
		{ "keep", required_argument, NULL, O_KEEP },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_args a = { 0 };
	int c, rc;

	a.debug_dirs = calloc((size_t)argc + 1, sizeof(*a.debug_dirs));
	if (!a.debug_dirs)
		return EXIT_FAILED;
	optind = 1;
	while ((c = getopt_long(argc, argv, "-h", opts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (!a.sub)
				a.sub = optarg;
			else if (!a.arg)
				a.arg = optarg, a.nargs++;
			else
				a.nargs++;
			break;
		case O_SELF: a.sources |= 1; break;
		case O_PID: a.pid = optarg; a.sources |= 2; break;
		case O_CORE: a.core = optarg; a.sources |= 4; break;
		case O_FILE: a.file = optarg; a.sources |= 8; break;
		case O_BUILD_ID: a.build_id = optarg; a.sources |= 16; break;
		case O_DDIR: a.debug_dirs[a.ndebug_dirs++] = optarg; break;
		case O_DFILE: a.debug_file = optarg; break;
		case O_NODEBUG: a.no_debug = 1; break;
		case O_JSON: a.json = 1; break;
		case O_STORE: a.store = optarg; break;
		case O_KEEP: a.keep = optarg; break;
		case O_DEBUG: a.debug = 1; break;
		case 'h': fputs(store_usage, stdout); free(a.debug_dirs); return 0;
		default:
			free(a.debug_dirs);
			fputs("Try 'vdsoscope store --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (!a.sub)
			a.sub = argv[optind];
		else if (!a.arg)
			a.arg = argv[optind], a.nargs++;
		else
			a.nargs++;
	}
	if (a.store && !*a.store)
		rc = usage_error("%s--store needs a directory", "");
	else if (!a.sub)
		rc = usage_error("%sgive a command: add, list, path, verify or gc", "");
	else if (strcmp(a.sub, "add") && strcmp(a.sub, "list") && strcmp(a.sub, "path") &&
		 strcmp(a.sub, "verify") && strcmp(a.sub, "gc"))
		rc = usage_error("unknown command '%s'", a.sub);
	else if (strcmp(a.sub, "add") &&
		 (a.sources || a.ndebug_dirs || a.debug_file || a.no_debug))
		rc = usage_error("a source and debug options go with 'add', not '%s'", a.sub);
	else if (a.sources & (a.sources - 1))
		rc = usage_error("%sgive one of --self, --pid, --core, --file, --build-id", "");
	else if (!strcmp(a.sub, "path") ? a.nargs != 1 : a.nargs != 0)
		rc = usage_error(!strcmp(a.sub, "path") ? "%s: path takes one build-id"
							 : "unexpected argument '%s'",
				 !strcmp(a.sub, "path") ? "store path" : a.arg);
	else if (a.debug && strcmp(a.sub, "path"))
		rc = usage_error("--debug goes with 'path', not '%s'", a.sub);
	else if (!strcmp(a.sub, "gc") != !!a.keep)
		rc = usage_error("%s", a.keep ? "--keep goes with 'gc'" : "gc needs --keep N");
	else if (!strcmp(a.sub, "add"))
		rc = cmd_add(&a);
	else if (!strcmp(a.sub, "list"))
		rc = cmd_list(&a);
	else if (!strcmp(a.sub, "path"))
		rc = cmd_path(&a);
	else if (!strcmp(a.sub, "verify"))
		rc = cmd_verify(&a);
	else
		rc = cmd_gc(&a);
	free(a.debug_dirs);
	if (fflush(stdout)) {
		fprintf(stderr, "vdsoscope: writing output: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	return rc;
}
