/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope: describe, list, symbolize and extract a vDSO image. */
#include "config.h"
#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vdsoscope.h"
#include "json.h"
#include "verify.h"
#include "backtrace.h"
#include "store.h"
#include "breakpad.h"
#ifdef HAVE_LIBUNWIND
#include "profile.h"
#endif

#define EXIT_FAILED 1
#define EXIT_USAGE 2


static char *owned_dirs[64];
static size_t nowned_dirs;

void debug_dir_add(const char **dirs, size_t *n, const char *dir)
{
	char *sub;
	struct stat st;

	/* a debug root as gdb's debug-file-directory names it: its .build-id
	 * directory is searched first */
	if (nowned_dirs < sizeof(owned_dirs) / sizeof(owned_dirs[0]) &&
	    (sub = malloc(strlen(dir) + sizeof("/.build-id")))) {
		sprintf(sub, "%s/.build-id", dir);
		if (!stat(sub, &st) && S_ISDIR(st.st_mode)) {
			owned_dirs[nowned_dirs++] = sub;
			dirs[(*n)++] = sub;
		} else {
			free(sub);
		}
	}
	dirs[(*n)++] = dir;
}

void debug_dirs_free(void)
{
	while (nowned_dirs)
		free(owned_dirs[--nowned_dirs]);
}

static const char usage_text[] =
	"Usage: vdsoscope [COMMAND] [SOURCE] [OPTIONS]\n"
	"\n"
	"Reads the Linux vDSO of this process, another process, a core file or an\n"
	"image file, and prints its identity, symbols and unwind data.\n"
	"\n"
	"Commands:\n"
	"  info                 identity, addresses, symbol and CFI counts (default)\n"
	"  symbols              every function with its version and aliases\n"
	"  cfi                  the compiled CFI rows: CFA rule and register rules\n"
	"  symbolize ADDR...    function+offset, version and file:line of addresses;\n"
	"                       ADDR is absolute (0x7ffd...) or +OFFSET from the load\n"
	"                       address\n"
	"  extract -o FILE      write the image's bytes, as mapped, to FILE\n"
	"  breakpad -o DIR      write Breakpad symbol files (symbols, lines, STACK CFI)\n"
	"                       as DIR/NAME/ID/NAME.sym for NAME linux-gate.so and\n"
	"                       the soname\n"
	"  verify [--self-test [--bits 32|64] [--image FILE] | --pid PID [--calls N]]\n"
	"         [--engine core|libunwind]\n"
	"                       single-step vDSO calls under ptrace and check every\n"
	"                       unwind step against the state after the return\n"
	"  backtrace ...        unwind every thread of a process or core through the\n"
	"                       vDSO ('vdsoscope backtrace --help')\n"
	"  store ...            the build-id store ('vdsoscope store --help'); must\n"
	"                       be the first argument\n"
	"  profile ...          sample a process with perf events and unwind each\n"
	"                       sample through the vDSO ('vdsoscope profile --help')\n"
	"\n"
	"Source (one; default --self):\n"
	"  --self               this process\n"
	"  --pid PID            process PID (needs ptrace access to it)\n"
	"  --core FILE          a core file\n"
	"  --file FILE          an ELF image file (extracted or a debug image)\n"
	"  --build-id ID        the image with build-id ID (hex): from open images,\n"
	"                       the store, debug directories,\n"
	"                       /lib/modules/$(uname -r)/vdso, then debuginfod\n"
	"                       ($DEBUGINFOD_URLS), whose answer is kept in the store\n"
	"  --load-addr ADDR     with --file or --build-id: where the image was mapped\n"
	"\n"
	"Options:\n"
	"  --debug-dir DIR      look for the debug file in DIR (repeatable; replaces\n"
	"                       the defaults /usr/lib/debug/.build-id,\n"
	"                       /lib/modules/$(uname -r)/vdso and\n"
	"                       /usr/lib/debug/lib/modules/$(uname -r)/vdso)\n"
	"  --debug-file FILE    use FILE as the debug file (must match the build-id or\n"
	"                       the image's loadable bytes)\n"
	"  --no-debug           do not look for a debug file\n"
	"  --store DIR          the build-id store (default: $VDSOSCOPE_STORE, else\n"
	"                       $XDG_CACHE_HOME/vdsoscope, else ~/.cache/vdsoscope)\n"
	"  -o, --output FILE    output file of extract, directory of breakpad\n"
	"  --json               machine-readable output\n"
	"  -h, --help           this text\n"
	"  -V, --version        the version\n"
	"\n"
	"Exit status: 0 success; 1 the image could not be read or an address not\n"
	"resolved; 2 usage error.\n";

struct args {
	const char *cmd;
	const char *pid, *core, *file, *build_id, *store, *out;
	const char *load_addr;
	const char *debug_file;
	const char **debug_dirs;
	size_t ndebug_dirs;
	int no_debug, json;
	unsigned int sources; /* bit per kind of source given */
	char **addrs;
	int naddrs;
};

static int fail_open(const char *what)
{
	fprintf(stderr, "vdsoscope: %s\n", *vdsoscope_errmsg() ? vdsoscope_errmsg() : what);
	return EXIT_FAILED;
}

/* Decimal, or hexadecimal with 0x; nothing else (no sign, space or octal). */
static int parse_u64(const char *s, uint64_t *v)
{
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s || !((*s >= '0' && *s <= '9') || (base == 16 && strchr("abcdefABCDEF", *s))))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, base);
	return errno || *end ? -1 : 0;
}

static const char *machine_name(const struct vdsoscope_image *img)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);

	if (a)
		return a->name;
	switch (vdsoscope_machine(img)) {
	case EM_AARCH64: return "aarch64";
	case EM_ARM: return "arm";
	case EM_RISCV: return "riscv";
	case EM_S390: return "s390";
	case EM_PPC: return "ppc";
	case EM_PPC64: return "ppc64";
	case EM_MIPS: return "mips";
	case 258: return "loongarch";
	}
	return "unknown";
}

/* ---- info ------------------------------------------------------------------ */

static void count_fdes(const struct vdsoscope_image *img, size_t *nfdes)
{
	size_t i, n = vdsoscope_cfi_count(img);
	uint64_t last = 0;
	struct vdsoscope_row r;

	*nfdes = 0;
	for (i = 0; i < n; i++)
		if (!vdsoscope_cfi_get(img, i, &r) && !r.synthesized && (i == 0 || r.fde_start != last)) {
			(*nfdes)++;
			last = r.fde_start;
		}
}

static int cmd_info(const struct vdsoscope_image *img, int json)
{
	size_t size, i, nfuncs = vdsoscope_func_count(img), nnames = 0, nfdes;
	uint64_t lo, hi, cov = vdsoscope_cfi_coverage(img);
	uint32_t lv = vdsoscope_linux_version(img);
	const char *cfimsg, *dropmsg, *dbg = vdsoscope_debug_file(img);
	int cfierr = vdsoscope_cfi_error(img, &cfimsg);
	size_t dropped = vdsoscope_cfi_dropped(img, &dropmsg);
	char ver[32] = "";

	vdsoscope_image_data(img, &size);
	vdsoscope_text_range(img, &lo, &hi);
	for (i = 0; i < nfuncs; i++) {
		struct vdsoscope_func f;
		if (!vdsoscope_func_get(img, i, &f) && !(f.flags & VDSOSCOPE_FUNC_FROM_CFI))
			nnames += f.nnames;
	}
	count_fdes(img, &nfdes);
	if (lv)
		snprintf(ver, sizeof(ver), "%u.%u.%u", lv >> 16, (lv >> 8) & 0xff, lv & 0xff);
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "source", vdsoscope_image_source(img));
		json_kstr(&j, "soname", vdsoscope_soname(img));
		json_kstr(&j, "build_id", vdsoscope_build_id_hex(img));
		json_kstr(&j, "machine", machine_name(img));
		json_kint(&j, "e_machine", vdsoscope_machine(img));
		json_kint(&j, "class", vdsoscope_elf_class(img));
		json_kstr(&j, "byte_order", vdsoscope_big_endian(img) ? "big" : "little");
		json_kstr(&j, "linux_version", ver);
		json_khex(&j, "load_address", vdsoscope_load_address(img));
		json_khex(&j, "link_address", vdsoscope_link_address(img));
		json_kuint(&j, "size", size);
		json_khex(&j, "text_start", lo);
		json_khex(&j, "text_end", hi);
		json_kuint(&j, "functions", nfuncs);
		json_kuint(&j, "symbols", nnames);
		json_key(&j, "versions");
		json_arr(&j);
		for (i = 0; i < vdsoscope_version_count(img); i++)
			json_str(&j, vdsoscope_version_name(img, i));
		json_arr_end(&j);
		json_kuint(&j, "fdes", nfdes);
		json_kuint(&j, "cfi_rows", vdsoscope_cfi_count(img));
		json_kuint(&j, "cfi_coverage", cov);
		json_kstr(&j, "cfi_error", cfierr ? cfimsg : "");
		json_kuint(&j, "cfi_dropped", dropped);
		json_kstr(&j, "cfi_dropped_first", dropmsg);
		json_key(&j, "debug_file");
		if (dbg)
			json_str(&j, dbg);
		else
			json_null(&j);
		json_key(&j, "debug_match");
		if (vdsoscope_debug_match(img))
			json_str(&j, vdsoscope_debug_match(img));
		else
			json_null(&j);
		json_obj_end(&j);
		return 0;
	}
	printf("source:        %s\n", vdsoscope_image_source(img));
	printf("soname:        %s\n", *vdsoscope_soname(img) ? vdsoscope_soname(img) : "(none)");
	printf("build-id:      %s\n",
	       *vdsoscope_build_id_hex(img) ? vdsoscope_build_id_hex(img) : "(none)");
	printf("machine:       %s, ELF%d, %s-endian\n", machine_name(img), vdsoscope_elf_class(img),
	       vdsoscope_big_endian(img) ? "big" : "little");
	if (lv)
		printf("linux version: %s\n", ver);
	printf("load address:  0x%llx\n", (unsigned long long)vdsoscope_load_address(img));
	printf("link address:  0x%llx\n", (unsigned long long)vdsoscope_link_address(img));
	printf("size:          %zu bytes\n", size);
	printf("text:          0x%llx-0x%llx (%llu bytes)\n", (unsigned long long)lo,
	       (unsigned long long)hi, (unsigned long long)(hi - lo));
	printf("symbols:       %zu names, %zu functions; versions:", nnames, nfuncs);
	for (i = 0; i < vdsoscope_version_count(img); i++)
		printf(" %s", vdsoscope_version_name(img, i));
	printf("%s\n", vdsoscope_version_count(img) ? "" : " (none)");
	if (cfierr)
		printf("CFI:           unusable: %s\n", cfimsg);
	else
		printf("CFI:           %zu FDEs, %zu rows, covering %llu of %llu text bytes (%.1f%%)\n",
		       nfdes, vdsoscope_cfi_count(img), (unsigned long long)cov,
		       (unsigned long long)(hi - lo), hi > lo ? 100.0 * (double)cov / (double)(hi - lo) : 0.0);
	if (!cfierr && dropped)
		printf("CFI dropped:   %zu FDE%s, first: %s\n", dropped, dropped == 1 ? "" : "s", dropmsg);
	if (dbg)
		printf("debug file:    %s (matched by %s)\n", dbg, vdsoscope_debug_match(img));
	else
		printf("debug file:    (none)\n");
	return 0;
}

/* ---- symbols --------------------------------------------------------------- */

static void json_names(struct json *j, const struct vdsoscope_func *f)
{
	unsigned int k;

	json_key(j, "names");
	json_arr(j);
	for (k = 0; k < f->nnames; k++) {
		const struct vdsoscope_sym *s = &f->names[k];
		json_obj(j);
		json_kstr(j, "name", s->name);
		json_kstr(j, "version", s->version);
		json_kstr(j, "bind", s->flags & VDSOSCOPE_SYM_GLOBAL ? "GLOBAL"
				     : s->flags & VDSOSCOPE_SYM_WEAK ? "WEAK" : "LOCAL");
		json_kstr(j, "type", s->flags & VDSOSCOPE_SYM_NOTYPE ? "NOTYPE" : "FUNC");
		json_kbool(j, "default_version", !(s->flags & VDSOSCOPE_SYM_HIDDEN_VERSION));
		json_kbool(j, "thumb", s->flags & VDSOSCOPE_SYM_THUMB);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static int cmd_symbols(const struct vdsoscope_image *img, int json)
{
	size_t i, n = vdsoscope_func_count(img);
	struct json j;

	if (json) {
		json_init(&j, stdout);
		json_arr(&j);
	} else {
		printf("%-*s %6s  %-28s %-12s %s\n", vdsoscope_elf_class(img) == 32 ? 10 : 18,
		       "ADDRESS", "SIZE", "FUNCTION", "VERSION", "ALIASES");
	}
	for (i = 0; i < n; i++) {
		struct vdsoscope_func f;
		unsigned int k;

		if (vdsoscope_func_get(img, i, &f))
			continue;
		if (json) {
			json_obj(&j);
			json_khex(&j, "start", f.start);
			json_khex(&j, "end", f.end);
			json_kuint(&j, "size", f.end - f.start);
			json_kbool(&j, "from_cfi", f.flags & VDSOSCOPE_FUNC_FROM_CFI);
			json_kbool(&j, "sized", f.flags & VDSOSCOPE_FUNC_SIZED);
			json_kstr(&j, "name", f.names[0].name);
			json_names(&j, &f);
			json_obj_end(&j);
			continue;
		}
		printf("0x%0*llx %6llu  %-28s %s", vdsoscope_elf_class(img) == 32 ? 8 : 16,
		       (unsigned long long)f.start, (unsigned long long)(f.end - f.start),
		       f.names[0].name, *f.names[0].version ? f.names[0].version : "-");
		if (f.nnames > 1)
			printf("%*s", (int)(12 - strlen(*f.names[0].version ? f.names[0].version : "-")) > 0
				      ? (int)(12 - strlen(*f.names[0].version ? f.names[0].version : "-")) : 1, "");
		for (k = 1; k < f.nnames; k++)
			printf("%s%s%s%s", k > 1 ? ", " : "", f.names[k].name,
			       *f.names[k].version ? "@" : "", f.names[k].version);
		printf("\n");
	}
	if (json)
		json_arr_end(&j);
	return 0;
}

/* ---- cfi ----------------------------------------------------------------- */

static const char *kind_name(unsigned int k)
{
	static const char *const names[] = {
		"unspecified", "undefined", "same_value", "offset", "val_offset", "register",
		"expression", "val_expression", "reg_offset", "cfa_expression",
	};
	return k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static void json_rule(struct json *j, const struct vdsoscope_image *img,
		      const struct vdsoscope_rule *r)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);
	char text[256];

	vdsoscope_rule_format(img, r, text, sizeof(text));
	json_obj(j);
	json_kstr(j, "kind", kind_name(r->kind));
	if (r->kind == VDSOSCOPE_RULE_OFFSET || r->kind == VDSOSCOPE_RULE_VAL_OFFSET ||
	    r->kind == VDSOSCOPE_RULE_CFA_REG_OFFSET)
		json_kint(j, "offset", r->off);
	if (r->kind == VDSOSCOPE_RULE_REGISTER || r->kind == VDSOSCOPE_RULE_CFA_REG_OFFSET) {
		json_kint(j, "reg", r->reg);
		if (vdsoscope_arch_reg_name(a, r->reg))
			json_kstr(j, "reg_name", vdsoscope_arch_reg_name(a, r->reg));
	}
	json_kstr(j, "text", text);
	json_obj_end(j);
}

static int cmd_cfi(const struct vdsoscope_image *img, int json)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);
	size_t i, n = vdsoscope_cfi_count(img);
	const char *msg;
	uint64_t fde = ~0ull;
	struct json j;
	char text[256];

	if (vdsoscope_cfi_error(img, &msg)) {
		fprintf(stderr, "vdsoscope: %s: CFI unusable: %s\n", vdsoscope_image_source(img), msg);
		return EXIT_FAILED;
	}
	/* on stderr in both forms: the JSON stays an array of rows */
	if ((i = vdsoscope_cfi_dropped(img, &msg)))
		fprintf(stderr, "vdsoscope: %s: CFI: %zu FDE%s dropped, first: %s\n",
			vdsoscope_image_source(img), i, i == 1 ? "" : "s", msg);
	if (json) {
		json_init(&j, stdout);
		json_arr(&j);
	}
	for (i = 0; i < n; i++) {
		struct vdsoscope_row r;
		unsigned int k;

		if (vdsoscope_cfi_get(img, i, &r))
			continue;
		if (json) {
			json_obj(&j);
			json_khex(&j, "start", r.start);
			json_khex(&j, "end", r.end);
			json_khex(&j, "fde", r.fde_start);
			json_kbool(&j, "signal_frame", r.signal_frame);
			json_kstr(&j, "section", r.synthesized ? "" : r.from_debug_frame ? ".debug_frame" : ".eh_frame");
			json_kbool(&j, "synthesized", r.synthesized);
			json_kbool(&j, "ra_signed", r.ra_signed);
			json_kint(&j, "ra", r.ra_reg);
			json_key(&j, "cfa");
			json_rule(&j, img, &r.cfa);
			json_key(&j, "regs");
			json_obj(&j);
			for (k = 0; k < r.nregs; k++) {
				char name[16];
				if (r.regs[k].kind == VDSOSCOPE_RULE_UNSPECIFIED)
					continue;
				if (vdsoscope_arch_reg_name(a, k))
					snprintf(name, sizeof(name), "%s", vdsoscope_arch_reg_name(a, k));
				else
					snprintf(name, sizeof(name), "r%u", k);
				json_key(&j, name);
				json_rule(&j, img, &r.regs[k]);
			}
			json_obj_end(&j);
			json_obj_end(&j);
			continue;
		}
		if (r.fde_start != fde) {
			struct vdsoscope_func f;
			/* i386 sigreturn FDEs start one NOP before their symbol */
			int named = !vdsoscope_func_at(img, r.fde_start, &f, NULL) ||
				    !vdsoscope_func_at(img, r.fde_start + 1, &f, NULL);
			fde = r.fde_start;
			printf("%s%s 0x%llx%s%s%s\n", i ? "\n" : "",
			       r.synthesized ? "NO CFI, FROM INSTRUCTIONS" : "FDE",
			       (unsigned long long)fde, named ? " " : "", named ? f.names[0].name : "",
			       r.signal_frame ? " (signal frame)" : "");
		}
		vdsoscope_rule_format(img, &r.cfa, text, sizeof(text));
		printf("  0x%llx-0x%llx  cfa=%s", (unsigned long long)r.start,
		       (unsigned long long)r.end, text);
		for (k = 0; k < r.nregs; k++) {
			if (r.regs[k].kind == VDSOSCOPE_RULE_UNSPECIFIED)
				continue;
			vdsoscope_rule_format(img, &r.regs[k], text, sizeof(text));
			if (vdsoscope_arch_reg_name(a, k))
				printf(" %s=%s", vdsoscope_arch_reg_name(a, k), text);
			else
				printf(" r%u=%s", k, text);
		}
		printf("%s\n", r.ra_signed ? " (return address signed)" : "");
	}
	if (json)
		json_arr_end(&j);
	return 0;
}

/* ---- symbolize --------------------------------------------------------------- */

static int cmd_symbolize(const struct vdsoscope_image *img, char **addrs, int n, int json)
{
	struct json j;
	int i, bad = 0;

	if (json) {
		json_init(&j, stdout);
		json_arr(&j);
	}
	for (i = 0; i < n; i++) {
		struct vdsoscope_func f;
		uint64_t addr;
		const char *file = NULL, *err = NULL;
		int line = 0, rc;

		parse_u64(addrs[i] + (addrs[i][0] == '+'), &addr); /* checked in main */
		if (addrs[i][0] == '+')
			addr += vdsoscope_load_address(img);
		rc = vdsoscope_func_at(img, addr, &f, NULL);
		if (rc)
			err = rc == -VDSOSCOPE_E_NOT_IN_IMAGE ? "not in the vDSO" : "no function here";
		if (vdsoscope_addr_line(img, addr, &file, &line))
			file = NULL;
		bad |= rc != 0;
		if (json) {
			json_obj(&j);
			json_khex(&j, "address", addr);
			if (rc) {
				json_key(&j, "function");
				json_null(&j);
				json_kstr(&j, "error", err);
			} else {
				json_kstr(&j, "function", f.names[0].name);
				json_kstr(&j, "version", f.names[0].version);
				json_khex(&j, "start", f.start);
				json_kuint(&j, "offset", addr - f.start);
				json_kbool(&j, "from_cfi", f.flags & VDSOSCOPE_FUNC_FROM_CFI);
			}
			if (file) {
				json_kstr(&j, "file", file);
				json_kint(&j, "line", line);
			}
			json_obj_end(&j);
			continue;
		}
		if (rc)
			printf("0x%llx ?? (%s)", (unsigned long long)addr, err);
		else
			printf("0x%llx %s%s%s+0x%llx", (unsigned long long)addr, f.names[0].name,
			       *f.names[0].version ? "@" : "", f.names[0].version,
			       (unsigned long long)(addr - f.start));
		if (file)
			printf(" %s:%d", file, line);
		printf("\n");
	}
	if (json)
		json_arr_end(&j);
	return bad ? EXIT_FAILED : 0;
}

/* ---- extract ------------------------------------------------------------------ */

static int cmd_extract(const struct vdsoscope_image *img, const char *out)
{
	size_t size;
	const void *data = vdsoscope_image_data(img, &size);
	FILE *f;

	f = strcmp(out, "-") ? fopen(out, "wb") : stdout;
	if (!f) {
		fprintf(stderr, "vdsoscope: %s: %s\n", out, strerror(errno));
		return EXIT_FAILED;
	}
	if (fwrite(data, 1, size, f) != size || (f != stdout ? fclose(f) : fflush(f))) {
		fprintf(stderr, "vdsoscope: writing %s: %s\n", out, strerror(errno));
		return EXIT_FAILED;
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------- */

enum { OPT_SELF = 256, OPT_PID, OPT_CORE, OPT_FILE, OPT_LOAD, OPT_DDIR, OPT_DFILE,
       OPT_NODEBUG, OPT_JSON, OPT_BUILD_ID, OPT_STORE };

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "self", no_argument, NULL, OPT_SELF },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "core", required_argument, NULL, OPT_CORE },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "build-id", required_argument, NULL, OPT_BUILD_ID },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "load-addr", required_argument, NULL, OPT_LOAD },
		{ "debug-dir", required_argument, NULL, OPT_DDIR },
		{ "debug-file", required_argument, NULL, OPT_DFILE },
		{ "no-debug", no_argument, NULL, OPT_NODEBUG },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* "+OFFSET" addresses are arguments, not options */
	while ((c = getopt_long(argc, argv, "-o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (!a->cmd)
				a->cmd = optarg;
			else
				a->addrs[a->naddrs++] = optarg;
			break;
		case OPT_SELF: a->sources |= 1; break;
		case OPT_PID: a->pid = optarg; a->sources |= 2; break;
		case OPT_CORE: a->core = optarg; a->sources |= 4; break;
		case OPT_FILE: a->file = optarg; a->sources |= 8; break;
		case OPT_BUILD_ID: a->build_id = optarg; a->sources |= 16; break;
		case OPT_STORE: a->store = optarg; break;
		case OPT_LOAD: a->load_addr = optarg; break;
		case OPT_DDIR: debug_dir_add(a->debug_dirs, &a->ndebug_dirs, optarg); break;
		case OPT_DFILE: a->debug_file = optarg; break;
		case OPT_NODEBUG: a->no_debug = 1; break;
		case OPT_JSON: a->json = 1; break;
		case 'o': a->out = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': printf("vdsoscope %s\n", vdsoscope_version()); exit(0);
		default: return -1;
		}
	}
	/* what follows "--" is arguments too */
	for (; optind < argc; optind++) {
		if (!a->cmd)
			a->cmd = argv[optind];
		else
			a->addrs[a->naddrs++] = argv[optind];
	}
	return 0;
}

/* Everything after the subcommands with their own parsing; A's arrays are
 * the caller's, freed on every path. */
static int run(struct args *a, int argc, char **argv)
{
	struct vdsoscope_image *img = NULL;
	VDSOSCOPE_OPTS(opts);
	uint64_t load;
	int rc;

	if (parse_args(argc, argv, a)) {
		fputs("Try 'vdsoscope --help'.\n", stderr);
		return EXIT_USAGE;
	}
	if (!a->cmd)
		a->cmd = "info";
	if (!strcmp(a->cmd, "store")) {
		fprintf(stderr, "vdsoscope: 'store' must be the first argument\n");
		return EXIT_USAGE;
	}
	if (strcmp(a->cmd, "info") && strcmp(a->cmd, "symbols") && strcmp(a->cmd, "cfi") &&
	    strcmp(a->cmd, "symbolize") && strcmp(a->cmd, "extract") && strcmp(a->cmd, "breakpad")) {
		fprintf(stderr, "vdsoscope: unknown command '%s'\nTry 'vdsoscope --help'.\n", a->cmd);
		return EXIT_USAGE;
	}
	if (a->naddrs && strcmp(a->cmd, "symbolize")) {
		fprintf(stderr, "vdsoscope: unexpected argument '%s'\n", a->addrs[0]);
		return EXIT_USAGE;
	}
	if (a->sources & (a->sources - 1)) {
		fprintf(stderr, "vdsoscope: give one of --self, --pid, --core, --file, --build-id\n");
		return EXIT_USAGE;
	}
	if (!strcmp(a->cmd, "symbolize")) {
		int i;
		uint64_t v;
		if (a->naddrs == 0) {
			fprintf(stderr, "vdsoscope: symbolize needs at least one address\n");
			return EXIT_USAGE;
		}
		for (i = 0; i < a->naddrs; i++)
			if (parse_u64(a->addrs[i] + (a->addrs[i][0] == '+'), &v)) {
				fprintf(stderr, "vdsoscope: %s is not an address\n", a->addrs[i]);
				return EXIT_USAGE;
			}
	}
	if (!strcmp(a->cmd, "extract") && !a->out) {
		fprintf(stderr, "vdsoscope: extract needs -o FILE\n");
		return EXIT_USAGE;
	}
	if (!strcmp(a->cmd, "breakpad") && (!a->out || !*a->out)) {
		fprintf(stderr, "vdsoscope: breakpad needs -o DIR\n");
		return EXIT_USAGE;
	}
	if (a->store && !*a->store) {
		fprintf(stderr, "vdsoscope: --store needs a directory\n");
		return EXIT_USAGE;
	}
	if (a->load_addr && !a->file && !a->build_id) {
		fprintf(stderr, "vdsoscope: --load-addr goes with --file or --build-id\n");
		return EXIT_USAGE;
	}
	if (a->load_addr) {
		if (parse_u64(a->load_addr, &load)) {
			fprintf(stderr, "vdsoscope: --load-addr %s is not an address\n", a->load_addr);
			return EXIT_USAGE;
		}
		opts.load_addr = load;
		opts.flags |= VDSOSCOPE_OPEN_LOAD_ADDR;
	}
	if (a->ndebug_dirs)
		opts.debug_dirs = a->debug_dirs;
	opts.debug_file = a->debug_file;
	if (a->no_debug)
		opts.flags |= VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_AS_MAPPED;
	opts.store_dir = a->store;

	if (a->pid) {
		uint64_t pid;
		if (parse_u64(a->pid, &pid) || pid == 0 || pid > 0x7fffffff) {
			fprintf(stderr, "vdsoscope: --pid %s is not a process id\n", a->pid);
			return EXIT_USAGE;
		}
		rc = vdsoscope_open_pid(&img, (pid_t)pid, &opts);
	} else if (a->core) {
		rc = vdsoscope_open_core(&img, a->core, &opts);
	} else if (a->file) {
		rc = vdsoscope_open_file(&img, a->file, &opts);
	} else if (a->build_id) {
		uint8_t id[64];
		size_t len;
		if (vdsoscope_build_id_parse(a->build_id, id, sizeof(id), &len)) {
			fprintf(stderr, "vdsoscope: --build-id: %s\n", vdsoscope_errmsg());
			return EXIT_USAGE;
		}
		rc = vdsoscope_open_build_id(&img, id, len, &opts);
	} else {
		rc = vdsoscope_open_self(&img, &opts);
	}
	if (rc)
		return fail_open(vdsoscope_strerror(rc));

	if (!strcmp(a->cmd, "info"))
		rc = cmd_info(img, a->json);
	else if (!strcmp(a->cmd, "symbols"))
		rc = cmd_symbols(img, a->json);
	else if (!strcmp(a->cmd, "cfi"))
		rc = cmd_cfi(img, a->json);
	else if (!strcmp(a->cmd, "symbolize"))
		rc = cmd_symbolize(img, a->addrs, a->naddrs, a->json);
	else if (!strcmp(a->cmd, "breakpad"))
		rc = breakpad_write(img, a->out);
	else
		rc = cmd_extract(img, a->out);
	vdsoscope_image_close(img);
	if (fflush(stdout)) {
		fprintf(stderr, "vdsoscope: writing output: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	int rc = EXIT_FAILED;

	if (argc > 1 && !strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "backtrace")) {
#ifdef HAVE_LIBUNWIND
		return vdsoscope_cmd_backtrace(argc - 1, argv + 1);
#else
		fprintf(stderr, "vdsoscope: backtrace needs libunwind; this build has none\n");
		return EXIT_FAILED;
#endif
	}
	if (argc > 1 && !strcmp(argv[1], "store"))
		return store_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "profile")) {
#ifdef HAVE_LIBUNWIND
		return vdsoscope_cmd_profile(argc - 1, argv + 1);
#else
		fprintf(stderr, "vdsoscope: profile needs the unwind library (libunwind); this build has none\n");
		return EXIT_FAILED;
#endif
	}
	a.addrs = calloc((size_t)argc + 1, sizeof(*a.addrs));
	a.debug_dirs = calloc(2 * (size_t)argc + 1, sizeof(*a.debug_dirs));
	if (a.addrs && a.debug_dirs)
		rc = run(&a, argc, argv);
	free(a.addrs);
	free(a.debug_dirs);
	debug_dirs_free();
	return rc;
}
