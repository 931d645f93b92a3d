/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope backtrace: every thread of a process or core, unwound with
 * libunwind or libdwfl through the vdsoscope hooks. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elf.h>
#include <gelf.h>
#include <libunwind-ptrace.h>
#include <libunwind-coredump.h>
#include "vdsoscope.h"
#include "vdsoscope-unwind.h"
#include "json.h"
#include "backtrace.h"

#define MAX_FRAMES 256
#define MAX_THREADS 4096

struct frame {
	uint64_t pc;
	int exact;            /* pc is where execution is, not a return address */
	char func[256];       /* "" when unknown */
	uint64_t offset;
	char module[512];     /* "" when unknown */
	char build_id[129];
	const char *version;  /* vDSO frames: the symbol's version */
	int in_vdso;
	int inlined;          /* a function inlined into the frame that follows */
	int frame_pointer;    /* found through a Go frame's frame pointer */
};

struct thread {
	pid_t tid;
	char name[32];
	struct frame *frames;
	unsigned int nframes;
	char end[1024];
};

struct bt {
	const char *pid_arg, *tid_arg, *core, *image, *engine_arg, *build_id, *store;
	const char *exe, *sysroot;
	const char **debug_dirs;   /* NULL-terminated, or NULL */
	size_t ndebug_dirs;
	const char *no_vdso;       /* why the target has no vDSO image, or NULL */
	struct vdsoscope_modules *mods;
	struct vdsoscope_target *tg;
	int json, elf_class, inlines;
	pid_t pid, tid;
	struct vdsoscope_image *img;
	const char *engine, *why;
	struct thread *threads;
	unsigned int nthreads;
	/* file mappings (maps or NT_FILE): start, end, name */
	struct mapping {
		uint64_t lo, hi, off;
		char *name;
		int tried;                  /* the file was opened (or failed to) */
		const unsigned char *bytes; /* the file, mapped read-only */
		size_t size;
	} *maps;
	size_t nmaps;
	char source[4200];
	Dwfl *names;          /* libunwind on cores: names outside the vDSO */
	char *maps_text;      /* /proc/PID/maps as read */
	size_t maps_len;
	/* frames named through libdwfl, by address: threads share most return
	 * addresses, and libdwfl searches a module's symbols linearly */
	const struct frame *named[1024];
	int table;            /* libunwind: the hook's table for the vDSO, or -1 */
};

static const char bt_usage[] =
	"Usage: vdsoscope backtrace (--pid PID [--tid TID] |\n"
	"                            --core FILE [--image FILE | --build-id ID [--store DIR]]\n"
	"                                        [-e|--executable FILE] [--sysroot DIR])\n"
	"                           [--debug-dir DIR]... [--engine core|libunwind|libdwfl]\n"
	"                           [-i|--inlines] [--json]\n"
	"\n"
	"Unwinds every thread (or TID) of a process or a core file through the vDSO\n"
	"and prints each frame's address, function+offset, module (the vDSO by soname)\n"
	"and build-id and, for vDSO frames, the symbol version.  --image FILE, or\n"
	"--build-id ID looked up in the store, debug directories and debuginfod, supplies the\n"
	"vDSO of a core that lacks its segment.  For a core from another machine,\n"
	"--executable gives the main program, --sysroot the root its files are\n"
	"found under, and --debug-dir where files are found by build-id.  --inlines\n"
	"adds the functions inlined at each address as frames of their own (core engine).\n"
	"Engines: core (the default: the library's own step, x86_64 and i386),\n"
	"libunwind (x86_64 targets) and libdwfl, both through the vdsoscope hooks.\n";

int unw_table_from_env(unw_addr_space_t as)
{
	static const char *const names[] = { "none", "image", "rows" };
	const char *v = getenv("VDSOSCOPE_UNW_TABLE");
	int t;

	if (!v || !*v)
		return 0;
	for (t = 0; t < 3 && strcmp(v, names[t]); t++)
		;
	if (t == 3) {
		fprintf(stderr, "vdsoscope: VDSOSCOPE_UNW_TABLE=%s: not image, rows or none\n", v);
		return -1;
	}
	if (vdsoscope_unw_set_table(as, t)) {
		fprintf(stderr, "vdsoscope: VDSOSCOPE_UNW_TABLE=%s: %s\n", v,
			errno == ENODATA ? "the vDSO image has no such table" : strerror(errno));
		return -1;
	}
	return 0;
}

const char *unw_table_name(int table)
{
	switch (table) {
	case VDSOSCOPE_UNW_TABLE_IMAGE: return "eh_frame_hdr";
	case VDSOSCOPE_UNW_TABLE_ROWS: return "rows";
	}
	return "none";
}

static int bt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bt_err(const char *fmt, ...)
{
	va_list ap;

	fputs("vdsoscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static struct thread *new_thread(struct bt *b, pid_t tid)
{
	struct thread *t;

	if (b->nthreads == MAX_THREADS)
		return NULL;
	if (b->nthreads % 16 == 0) {
		void *p = realloc(b->threads, (b->nthreads + 16) * sizeof(*b->threads));
		if (!p)
			return NULL;
		b->threads = p;
	}
	t = &b->threads[b->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->frames = calloc(MAX_FRAMES, sizeof(*t->frames));
	if (!t->frames) {
		b->nthreads--;
		return NULL;
	}
	if (b->pid) {
		char path[64];
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)b->pid, (int)tid);
		if ((f = fopen(path, "r"))) {
			if (fgets(t->name, sizeof(t->name), f))
				t->name[strcspn(t->name, "\n")] = 0;
			fclose(f);
		}
	}
	return t;
}

static const char *map_name(const struct bt *b, uint64_t pc)
{
	size_t i;

	for (i = 0; i < b->nmaps; i++)
		if (pc >= b->maps[i].lo && pc < b->maps[i].hi)
			return b->maps[i].name;
	return NULL;
}

static int add_map(struct bt *b, uint64_t lo, uint64_t hi, uint64_t off, const char *name)
{
	if (b->nmaps % 64 == 0) {
		void *p = realloc(b->maps, (b->nmaps + 64) * sizeof(*b->maps));
		if (!p)
			return -1;
		b->maps = p;
	}
	b->maps[b->nmaps].lo = lo;
	b->maps[b->nmaps].hi = hi;
	b->maps[b->nmaps].off = off;
	b->maps[b->nmaps].tried = 0;
	b->maps[b->nmaps].bytes = NULL;
	b->maps[b->nmaps].name = strdup(name);
	if (!b->maps[b->nmaps].name)
		return -1;
	b->nmaps++;
	return 0;
}

#define MAX_MAPS_TEXT (64u << 20)

/* /proc/PID/maps, read once into B->maps_text: the file mappings it names
 * go to B->maps, its read-only ranges to *RO (*NRO of them), for the hook's
 * page cache; libdwfl gets the text as it is. */
static void read_maps(struct bt *b, uint64_t (**ro)[2], size_t *nro)
{
	char path[64], *text = NULL, *line, *next;
	size_t len = 0, cap = 0;
	ssize_t got;
	int fd;

	*ro = NULL;
	*nro = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)b->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	for (;;) {
		if (cap - len < 4096) {
			char *p = cap < MAX_MAPS_TEXT ? realloc(text, cap ? 2 * cap : 16384) : NULL;
			if (!p)
				break;
			text = p;
			cap = cap ? 2 * cap : 16384;
		}
		got = read(fd, text + len, cap - len - 1);
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	if (!text)
		return;
	text[len] = 0;
	b->maps_text = text;
	b->maps_len = len;
	for (line = text; line && *line; line = next) {
		unsigned long long lo, hi, off;
		char perms[8], *name, *nl = strchr(line, '\n');
		int n = 0;
		next = nl ? nl + 1 : NULL;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perms, &off, &n) < 4 ||
		    n == 0 || hi <= lo)
			continue;
		if (perms[0] == 'r' && perms[1] != 'w') {
			uint64_t (*v)[2] = *nro % 64 ? *ro : realloc(*ro, (*nro + 64) * sizeof(**ro));
			if (v) {
				*ro = v;
				v[*nro][0] = lo;
				v[*nro][1] = hi;
				(*nro)++;
			}
		}
		name = line + n;
		if (name[0] != '/')
			continue;
		if (nl)
			*nl = 0;
		add_map(b, lo, hi, off, name);
		if (nl)
			*nl = '\n';
	}
}


/* Names FR (pc, exact set) from the vDSO image when it is there. */
static int name_vdso(struct bt *b, struct frame *fr)
{
	struct vdsoscope_func f;
	uint64_t at = fr->exact ? fr->pc : fr->pc - 1;
	int rc;

	if (!b->img)
		return 0;
	rc = vdsoscope_func_at(b->img, at, &f, NULL);
	if (rc == -VDSOSCOPE_E_NOT_IN_IMAGE)
		return 0;
	fr->in_vdso = 1;
	if (rc == 0 && (f.flags & VDSOSCOPE_FUNC_VSYSCALL)) {
		snprintf(fr->module, sizeof(fr->module), "[vsyscall]");
		fr->build_id[0] = 0;
	} else {
		snprintf(fr->module, sizeof(fr->module), "%s", vdsoscope_soname(b->img));
		snprintf(fr->build_id, sizeof(fr->build_id), "%s", vdsoscope_build_id_hex(b->img));
	}
	if (rc == 0 && f.nnames) {
		snprintf(fr->func, sizeof(fr->func), "%s", f.names[0].name);
		fr->version = f.names[0].version;
		fr->offset = fr->pc - f.start;
	}
	return 1;
}

static void name_dwfl(struct bt *b, Dwfl *dwfl, struct frame *fr);

/* ---- libunwind ------------------------------------------------------------ */

/* libunwind 1.6 guesses a caller from the frame pointer when no unwind
 * info covers IP, which goes wrong where the code keeps none: the stack
 * ends there instead, saying why (1), as it does for the vDSO and every
 * module with unwind info (0). */
static int no_unwind_info(struct bt *b, struct thread *t, unw_addr_space_t as, void *arg,
			  unw_word_t ip, int exact)
{
	unw_accessors_t *acc = unw_get_accessors(as);
	unw_word_t at = exact ? ip : ip - 1;
	const struct mapping *m;
	unw_proc_info_t pi;
	int rc;

	memset(&pi, 0, sizeof(pi));
	rc = acc->find_proc_info(as, at, &pi, 0, arg);
	if (rc == 0 && at >= pi.start_ip && at < pi.end_ip)
		return 0;
	m = NULL;
	for (size_t i = 0; i < b->nmaps; i++)
		if (at >= b->maps[i].lo && at < b->maps[i].hi)
			m = &b->maps[i];
	if (!m)
		snprintf(t->end, sizeof(t->end), "the code at 0x%" PRIx64 " is anonymous executable "
			 "memory (JIT code or a trampoline): no unwind info for it", (uint64_t)ip);
	else if (m->tried && !m->bytes)
		snprintf(t->end, sizeof(t->end), "module %s not found: no unwind info for the code "
			 "at 0x%" PRIx64, m->name, (uint64_t)ip);
	else
		snprintf(t->end, sizeof(t->end), "no unwind info for the code at 0x%" PRIx64 " in %s",
			 (uint64_t)ip, m->name);
	return 1;
}

static void unwind_cursor(struct bt *b, struct thread *t, unw_addr_space_t as, void *arg)
{
	unw_cursor_t c;
	uint64_t last_pc = 0, last_sp = 0;
	int rc, exact = 1;

	if ((rc = unw_init_remote(&c, as, arg)) < 0) {
		snprintf(t->end, sizeof(t->end), "libunwind: unw_init_remote: %s", unw_strerror(rc));
		return;
	}
	for (;;) {
		struct frame *fr = &t->frames[t->nframes];
		unw_word_t ip, sp, off;
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || unw_get_reg(&c, UNW_REG_SP, &sp) < 0) {
			snprintf(t->end, sizeof(t->end), "libunwind: registers unreadable");
			return;
		}
		if (t->nframes && ip == last_pc && sp == last_sp) {
			snprintf(t->end, sizeof(t->end), "frame did not advance (same pc and sp)");
			return;
		}
		fr->pc = ip;
		fr->exact = exact;
		if (!name_vdso(b, fr)) {
			const char *m = map_name(b, ip);
			if (m)
				snprintf(fr->module, sizeof(fr->module), "%s", m);
			else if (b->nmaps)
				snprintf(fr->module, sizeof(fr->module), "[anonymous]");
			if (!m && b->nmaps)
				fr->func[0] = 0;   /* no file backs it: nothing names it */
			else if (b->names)
				name_dwfl(b, b->names, fr);
			else if (unw_get_proc_name(&c, fr->func, sizeof(fr->func), &off) == 0)
				fr->offset = off;
			else
				fr->func[0] = 0;
		}
		t->nframes++;
		last_pc = ip;
		last_sp = sp;
		exact = unw_is_signal_frame(&c) > 0;
		if (t->nframes == MAX_FRAMES) {
			snprintf(t->end, sizeof(t->end), "frame limit (%d) reached", MAX_FRAMES);
			return;
		}
		if (no_unwind_info(b, t, as, arg, ip, fr->exact))
			return;
		rc = unw_step(&c);
		if (rc == 0) {
			snprintf(t->end, sizeof(t->end), "outermost frame (libunwind found no caller)");
			return;
		}
		if (rc < 0) {
			snprintf(t->end, sizeof(t->end), "libunwind: %s", unw_strerror(rc));
			return;
		}
	}
}

static Dwfl *proc_names(struct bt *b);
static struct bt *files_bt;
static int files_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
				int need_unwind_info, void *arg);
static int upt_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
			  void *arg);
static int shadow_read(unw_word_t addr, unw_word_t *val);

static int open_target(struct bt *b);

static int run_libunwind_pid(struct bt *b)
{
	static unw_accessors_t acc;
	uint64_t (*ro)[2] = NULL;
	size_t n, i, nro = 0;
	int rc = 0;

	unw_addr_space_t as = NULL;

	if (!b->tg && open_target(b))
		return 1;
	n = vdsoscope_target_thread_count(b->tg);
	read_maps(b, &ro, &nro);
	/* names outside the vDSO from libdwfl, which opens each module once
	 * and reads its .symtab when there is one (libunwind-ptrace's
	 * get_proc_name maps the file again for every frame and sees only
	 * dynamic symbols) */
	b->names = proc_names(b);
	/* one address space for every thread: they share the process's
	 * read-only pages, cached once */
	/* the mapped files' unwind tables found from the maps, as for cores,
	 * rather than by libunwind-ptrace, which reads /proc/PID/maps and maps
	 * the file again whenever the module changes */
	files_bt = b;
	acc = _UPT_accessors;
	acc.find_proc_info = files_find_proc_info;
	acc.access_mem = upt_access_mem;
	as = vdsoscope_unw_create_addr_space(&acc, b->img, 0);
	if (as) {
		if (b->maps_text)
			vdsoscope_unw_cache_ranges(as, b->pid, (const uint64_t (*)[2])ro, nro);
		else
			vdsoscope_unw_cache_pid(as, b->pid);
		if (unw_table_from_env(as)) {
			rc = 1;
			goto out;
		}
		b->table = vdsoscope_unw_table(as);
	}
	for (i = 0; i < n; i++) {
		pid_t tid = vdsoscope_target_thread_id(b->tg, i);
		struct thread *t;
		void *upt;
		int e;
		if (b->tid && tid != b->tid)
			continue;
		if ((e = vdsoscope_target_stop(b->tg, i))) {
			if (e == -ESRCH && !b->tid)
				continue; /* exited meanwhile */
			rc = bt_err("%s", vdsoscope_target_errmsg());
			break;
		}
		if (!(t = new_thread(b, tid))) {
			vdsoscope_target_resume(b->tg, i);
			rc = bt_err("out of memory");
			break;
		}
		upt = _UPT_create(tid);
		if (!as || !upt) {
			snprintf(t->end, sizeof(t->end), "libunwind: cannot set up the address space");
		} else {
			/* the stack and registers differ from thread to thread */
			unw_flush_cache(as, 0, 0);
			unwind_cursor(b, t, as, upt);
		}
		if (upt)
			_UPT_destroy(upt);
		vdsoscope_target_resume(b->tg, i);
	}
out:
	vdsoscope_unw_destroy_addr_space(as);
	if (b->names)
		dwfl_end(b->names);
	b->names = NULL;
	free(ro);
	return rc;
}

/* libunwind-coredump 1.6 takes a module's text to start at file offset 0
 * and its bytes to be in the core; neither holds for today's split-segment
 * binaries nor for gcore's cores, which leave text out.  This table, which
 * the vDSO hook then wraps, reads what the core lacks from the mapped files
 * (NT_FILE) and finds their .eh_frame_hdr tables itself.  One core is
 * unwound at a time, so its state is static. */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as, unw_word_t ip,
					       unw_dyn_info_t *di, unw_proc_info_t *pi,
					       int need_unwind_info, void *arg);

static struct mapping *mapping_at(uint64_t addr)
{
	size_t i;

	for (i = 0; i < files_bt->nmaps; i++)
		if (addr >= files_bt->maps[i].lo && addr < files_bt->maps[i].hi)
			return &files_bt->maps[i];
	return NULL;
}

/* LEN bytes at offset OFF of M's file, which is mapped at first use:
 * unwinding reads it a word at a time. */
static int file_read(struct mapping *m, uint64_t off, void *buf, size_t len)
{
	if (!m->tried) {
		struct stat st;
		int fd = open(m->name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		void *p;
		m->tried = 1;
		if (fd < 0)
			return -1;
		if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0 &&
		    (uint64_t)st.st_size <= SIZE_MAX &&
		    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) != MAP_FAILED) {
			m->bytes = p;
			m->size = (size_t)st.st_size;
		}
		close(fd);
	}
	if (!m->bytes || off > m->size || m->size - off < len)
		return -1;
	memcpy(buf, m->bytes + off, len);
	return 0;
}

/* The core's PT_LOAD segments with bytes, over libelf's mapping of the
 * core: libunwind-coredump reads each word with a pread. */
static struct core_seg { uint64_t vaddr, size; const unsigned char *bytes; } *core_segs;
static size_t ncore_segs;

static void core_segments(Elf *elf)
{
	size_t nph, i, size;
	const unsigned char *raw;

	if (!elf || elf_getphdrnum(elf, &nph) || !(raw = (const unsigned char *)elf_rawfile(elf, &size)) ||
	    !(core_segs = calloc(nph ? nph : 1, sizeof(*core_segs))))
		return;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz ||
		    ph.p_offset > size || size - ph.p_offset < ph.p_filesz)
			continue;
		core_segs[ncore_segs].vaddr = ph.p_vaddr;
		core_segs[ncore_segs].size = ph.p_filesz;
		core_segs[ncore_segs].bytes = raw + ph.p_offset;
		ncore_segs++;
	}
}

static int files_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
			    void *arg)
{
	struct mapping *m;
	size_t i;

	if (!write && shadow_read(addr, val))
		return 0;
	for (i = 0; !write && i < ncore_segs; i++)
		if (addr >= core_segs[i].vaddr && addr - core_segs[i].vaddr < core_segs[i].size &&
		    core_segs[i].size - (addr - core_segs[i].vaddr) >= sizeof(*val)) {
			memcpy(val, core_segs[i].bytes + (addr - core_segs[i].vaddr), sizeof(*val));
			return 0;
		}
	if (!write && (m = mapping_at(addr)) && m->hi - addr >= sizeof(*val) &&
	    !file_read(m, m->off + (addr - m->lo), val, sizeof(*val)))
		return 0;
	return _UCD_access_mem(as, addr, val, write, arg);
}

/*
 * A module without a usable .eh_frame_hdr (a static executable linked
 * without one, a file with only .debug_frame): a binary-search table of
 * its FDEs is written here and served, with the module, at an address in
 * the kernel's half of the address space, where no process memory is and
 * within reach of the table's 32-bit offsets: code address A appears
 * there as A + shift.  .eh_frame is served as the file has it (its
 * pc-relative addresses stay right when shifted); .debug_frame is copied
 * in .eh_frame's form (CIE id 0, CIE pointers relative, FDE addresses
 * absolute and shifted) just past the module's shifted range.
 */
#define SHADOW_BASE 0xffffa00000000000ull
#define SHADOW_STEP (1ull << 33)
#define SHADOW_CODE 0x40000000ull
#define SHADOW_MAX 256

struct shadow {
	char *name;               /* the file */
	struct mapping *m;        /* a mapping of it: its bytes */
	uint64_t bias, lo, hi;    /* runtime extent of its PT_LOADs */
	uint64_t shift, base;
	Elf64_Phdr loads[16];
	int nloads;
	unsigned char *table;     /* datarel sdata4 pairs, served at base */
	size_t nent;
	unsigned char *frame;     /* .debug_frame as .eh_frame, or NULL */
	uint64_t frame_addr;
	size_t frame_size;
	int ok;
};
static struct shadow shadows[SHADOW_MAX];
static size_t nshadows;

static uint64_t le(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static uint64_t uleb(const unsigned char **p, const unsigned char *end)
{
	uint64_t v = 0;
	unsigned int sh = 0;

	while (*p < end) {
		unsigned char b = *(*p)++;
		if (sh < 64)
			v |= (uint64_t)(b & 0x7f) << sh;
		sh += 7;
		if (!(b & 0x80))
			break;
	}
	return v;
}

/* Bytes of an encoded pointer of encoding ENC (fixed sizes only), or 0. */
static unsigned int enc_size(unsigned int enc)
{
	switch (enc & 0x0f) {
	case 0x00: case 0x04: case 0x0c: return 8;
	case 0x02: case 0x0a: return 2;
	case 0x03: case 0x0b: return 4;
	}
	return 0;
}

/* The FDE pointer encoding a CIE at P (past its id) gives; -1 when not
 * readable. */
static int cie_fde_enc(const unsigned char *p, const unsigned char *end)
{
	const char *aug;
	unsigned int version;

	if (p >= end)
		return -1;
	version = *p++;
	aug = (const char *)p;
	p = memchr(p, 0, (size_t)(end - p));
	if (!p || version > 4)
		return -1;
	p++;
	if (aug[0] != 'z')
		return aug[0] ? -1 : 0x00;
	if (version == 4)
		p += 2;
	uleb(&p, end);                      /* code alignment */
	uleb(&p, end);                      /* data alignment (sleb: skipped the same) */
	if (version == 1)
		p++;
	else
		uleb(&p, end);
	uleb(&p, end);                      /* augmentation length */
	for (aug++; *aug && p < end; aug++) {
		if (*aug == 'R')
			return *p;
		if (*aug == 'L')
			p++;
		else if (*aug == 'P') {
			unsigned int n = enc_size(*p);
			if (!n)
				return -1;
			p += 1 + n;
		} else if (*aug != 'S' && *aug != 'B')
			return -1;
	}
	return 0x00;
}

static int cmp_ent(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct fde_list {
	uint64_t (*ent)[2];       /* shifted start, address of the FDE */
	size_t n, cap;
};

/* The FDEs of SEC (LEN bytes of .eh_frame at runtime ADDR, or of
 * .debug_frame when DEBUG) onto L; .debug_frame is rewritten in place as
 * S's copy.  0, or -1 when the section is not readable as a whole. */
static int shadow_fdes(struct shadow *s, struct fde_list *l, unsigned char *sec, size_t len,
		       uint64_t addr, int debug)
{
	size_t off = 0, i;

	while (len - off >= 8) {
		unsigned char *p = sec + off, *end;
		uint64_t elen = le(p, 4), id, pc, range;
		unsigned int sz = 8;
		int enc;

		if (elen == 0 && !debug)
			break;
		if (elen == 0xffffffff || elen > len - off - 4 || elen < 4)
			return -1;
		end = p + 4 + elen;
		id = le(p + 4, 4);
		off += 4 + elen;
		if (debug ? id == 0xffffffff : id == 0) {
			/* not in a form libunwind reads as .eh_frame */
			if (debug && (p[8] == 4 || cie_fde_enc(p + 8, end) != 0x00))
				return -1;
			if (debug)
				memset(p + 4, 0, 4);
			continue;
		}
		/* the CIE: .debug_frame gives its offset, .eh_frame the
		 * distance back from this field */
		if (debug ? id >= (uint64_t)(p - sec) : id > (uint64_t)(p + 4 - sec))
			return -1;
		if (debug) {
			uint64_t rel = (uint64_t)(p + 4 - sec) - id;
			if ((size_t)(end - p) < 24)
				return -1;
			pc = le(p + 8, 8) + s->bias;
			range = le(p + 16, 8);
			for (i = 0; i < 4; i++)
				p[4 + i] = (unsigned char)(rel >> (8 * i));
			for (i = 0; i < 8; i++)
				p[8 + i] = (unsigned char)((pc + s->shift) >> (8 * i));
		} else {
			if ((enc = cie_fde_enc(p + 4 - id + 8, sec + len)) < 0 ||
			    !(sz = enc_size((unsigned int)enc)) || (size_t)(end - p) < 8 + 2 * sz ||
			    ((enc & 0x70) != 0x10 && (enc & 0x70) != 0x00))
				return -1;
			pc = le(p + 8, sz);
			range = le(p + 8 + sz, sz);
			if (sz < 8 && (enc & 0x08))
				pc = (uint64_t)((int64_t)(pc << (64 - 8 * sz)) >> (64 - 8 * sz));
			if ((enc & 0x70) == 0x10)
				pc += addr + (uint64_t)(p + 8 - sec);
		}
		/* FDEs of code the linker dropped */
		if (range == 0 || pc < s->lo || pc >= s->hi)
			continue;
		if (l->n == l->cap) {
			size_t nc = l->cap ? 2 * l->cap : 256;
			void *q = realloc(l->ent, nc * sizeof(*l->ent));
			if (!q)
				return -1;
			l->ent = q;
			l->cap = nc;
		}
		l->ent[l->n][0] = pc + s->shift;
		l->ent[l->n][1] = (debug ? s->frame_addr : addr + s->shift) + (uint64_t)(p - sec);
		l->n++;
	}
	return 0;
}

/* S's table from the FDEs in L. */
static int shadow_table(struct shadow *s, struct fde_list *l)
{
	size_t i;
	int k;

	if (!l->n || !(s->table = malloc(l->n * 8)))
		return -1;
	qsort(l->ent, l->n, sizeof(*l->ent), cmp_ent);
	for (i = 0; i < l->n; i++) {
		uint64_t a = l->ent[i][0] - s->base, f = l->ent[i][1] - s->base;
		for (k = 0; k < 4; k++) {
			s->table[8 * i + k] = (unsigned char)(a >> (8 * k));
			s->table[8 * i + 4 + k] = (unsigned char)(f >> (8 * k));
		}
	}
	s->nent = l->n;
	return 0;
}

/* The FDEs of .eh_frame and .debug_frame (as copied) in M's file (header
 * EH) into S's table. */
static int shadow_build(struct shadow *s, struct mapping *m, const Elf64_Ehdr *eh)
{
	Elf64_Shdr *sh = NULL, *eh_sec = NULL, *dbg_sec = NULL;
	struct fde_list l = { 0 };
	char *names = NULL;
	unsigned char *sec = NULL;
	int i, rc = -1;

	if (!eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr) || !eh->e_shnum ||
	    eh->e_shstrndx >= eh->e_shnum || !(sh = calloc(eh->e_shnum, sizeof(*sh))) ||
	    file_read(m, eh->e_shoff, sh, eh->e_shnum * sizeof(*sh)) ||
	    sh[eh->e_shstrndx].sh_size > (1u << 24) ||
	    !(names = calloc(1, sh[eh->e_shstrndx].sh_size + 1)) ||
	    file_read(m, sh[eh->e_shstrndx].sh_offset, names, sh[eh->e_shstrndx].sh_size))
		goto out;
	for (i = 1; i < eh->e_shnum; i++) {
		if (sh[i].sh_name >= sh[eh->e_shstrndx].sh_size || sh[i].sh_type == SHT_NOBITS)
			continue;
		if (!strcmp(names + sh[i].sh_name, ".eh_frame") && (sh[i].sh_flags & SHF_ALLOC))
			eh_sec = &sh[i];
		else if (!strcmp(names + sh[i].sh_name, ".debug_frame") &&
			 !(sh[i].sh_flags & SHF_COMPRESSED))
			dbg_sec = &sh[i];
	}
	if (eh_sec && eh_sec->sh_size && eh_sec->sh_size < (1u << 28) &&
	    (sec = malloc(eh_sec->sh_size)) && !file_read(m, eh_sec->sh_offset, sec, eh_sec->sh_size))
		shadow_fdes(s, &l, sec, eh_sec->sh_size, eh_sec->sh_addr + s->bias, 0);
	free(sec);
	sec = NULL;
	if (dbg_sec && dbg_sec->sh_size && dbg_sec->sh_size < (1u << 28) &&
	    (sec = malloc(dbg_sec->sh_size)) &&
	    !file_read(m, dbg_sec->sh_offset, sec, dbg_sec->sh_size)) {
		size_t before = l.n;
		s->frame_addr = s->base + SHADOW_CODE + ((s->hi - s->lo + 4095) & ~4095ull);
		s->frame_size = dbg_sec->sh_size;
		if (shadow_fdes(s, &l, sec, dbg_sec->sh_size, 0, 1) == 0) {
			s->frame = sec;
			sec = NULL;
		} else {
			l.n = before;  /* not usable: none of its FDEs */
		}
	}
	rc = shadow_table(s, &l);
out:
	free(l.ent);
	free(sec);
	free(names);
	free(sh);
	return rc;
}

/* The table of M's file, written on first use; NULL when it has none. */
static struct shadow *shadow_of(struct mapping *m, const Elf64_Ehdr *eh, const Elf64_Phdr *ph,
				uint64_t bias)
{
	struct shadow *s;
	size_t k;
	int i;

	for (k = 0; k < nshadows; k++)
		if (!strcmp(shadows[k].name, m->name) && shadows[k].bias == bias)
			return shadows[k].ok ? &shadows[k] : NULL;
	if (nshadows == SHADOW_MAX)
		return NULL;
	s = &shadows[nshadows];
	memset(s, 0, sizeof(*s));
	if (!(s->name = strdup(m->name)))
		return NULL;
	nshadows++;
	s->m = m;
	s->bias = bias;
	s->lo = UINT64_MAX;
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (s->nloads < 16)
			s->loads[s->nloads++] = ph[i];
		if (ph[i].p_vaddr + bias < s->lo)
			s->lo = (ph[i].p_vaddr + bias) & ~4095ull;
		if (ph[i].p_vaddr + ph[i].p_memsz + bias > s->hi)
			s->hi = ph[i].p_vaddr + ph[i].p_memsz + bias;
	}
	s->base = SHADOW_BASE + (uint64_t)k * SHADOW_STEP;
	s->shift = s->base + SHADOW_CODE - s->lo;
	if (s->lo >= s->hi || s->hi - s->lo > SHADOW_CODE / 2 || shadow_build(s, m, eh))
		return NULL;
	s->ok = 1;
	return s;
}

/* A word at ADDR of a table, a shifted module or a copied .debug_frame;
 * 0 when ADDR is none of those. */
static int shadow_read(unw_word_t addr, unw_word_t *val)
{
	struct shadow *s;
	uint64_t k, real, o;
	int i;

	if (addr < SHADOW_BASE || (k = (addr - SHADOW_BASE) / SHADOW_STEP) >= nshadows ||
	    !(s = &shadows[k])->ok)
		return 0;
	*val = 0;
	if (addr - s->base < s->nent * 8) {
		o = addr - s->base;
		memcpy(val, s->table + o, s->nent * 8 - o < 8 ? s->nent * 8 - o : 8);
		return 1;
	}
	if (s->frame && addr >= s->frame_addr && addr - s->frame_addr < s->frame_size) {
		o = addr - s->frame_addr;
		memcpy(val, s->frame + o, s->frame_size - o < 8 ? s->frame_size - o : 8);
		return 1;
	}
	real = addr - s->shift - s->bias;
	for (i = 0; i < s->nloads; i++)
		if (real >= s->loads[i].p_vaddr && real - s->loads[i].p_vaddr + 8 <= s->loads[i].p_filesz)
			return !file_read(s->m, s->loads[i].p_offset + (real - s->loads[i].p_vaddr),
					  val, sizeof(*val));
	return 1;
}

/* libunwind's search of S's table for IP, with the range it finds given
 * back in real addresses. */
static int shadow_search(struct shadow *s, unw_addr_space_t as, unw_word_t ip,
			 unw_proc_info_t *pi, int need_unwind_info, void *arg)
{
	unw_dyn_info_t di;
	int rc;

	memset(&di, 0, sizeof(di));
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = s->lo + s->shift;
	di.end_ip = s->hi + s->shift;
	di.u.rti.segbase = s->base;
	di.u.rti.table_data = s->base;
	di.u.rti.table_len = s->nent * 8 / sizeof(unw_word_t);
	rc = UNW_OBJ(dwarf_search_unwind_table)(as, ip + s->shift, &di, pi, need_unwind_info, arg);
	if (rc == 0) {
		pi->start_ip -= s->shift;
		pi->end_ip -= s->shift;
	}
	return rc;
}

static int upt_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
			  void *arg)
{
	if (!write && shadow_read(addr, val))
		return 0;
	return _UPT_access_mem(as, addr, val, write, arg);
}

static int files_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
				int need_unwind_info, void *arg)
{
	struct mapping *m = mapping_at(ip);
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	uint64_t bias = 0;
	unsigned char hdr[12];
	unw_dyn_info_t di;
	int i, have_bias = 0, ehf = -1;

	if (!m || file_read(m, 0, &eh, sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum == 0 || eh.e_phnum > 64 ||
	    file_read(m, eh.e_phoff, ph, eh.e_phnum * sizeof(Elf64_Phdr)))
		return -UNW_ENOINFO;
	for (i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_GNU_EH_FRAME)
			ehf = i;
		if (ph[i].p_type == PT_LOAD && m->off >= ph[i].p_offset &&
		    m->off - ph[i].p_offset < ph[i].p_filesz && !have_bias) {
			bias = m->lo - (ph[i].p_vaddr + (m->off - ph[i].p_offset));
			have_bias = 1;
		}
	}
	if (!have_bias)
		return -UNW_ENOINFO;
	if (ehf < 0 || file_read(m, ph[ehf].p_offset, hdr, sizeof(hdr)) || hdr[0] != 1 ||
	    hdr[1] != 0x1b || hdr[2] != 0x03 || hdr[3] != 0x3b) {
		struct shadow *s = shadow_of(m, &eh, ph, bias);
		return s ? shadow_search(s, as, ip, pi, need_unwind_info, arg) : -UNW_ENOINFO;
	}
	memset(&di, 0, sizeof(di));
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = m->lo;
	di.end_ip = m->hi;
	di.u.rti.segbase = ph[ehf].p_vaddr + bias;
	di.u.rti.table_data = di.u.rti.segbase + 12;
	di.u.rti.table_len = (uint64_t)(hdr[8] | hdr[9] << 8 | hdr[10] << 16 |
					(uint32_t)hdr[11] << 24) * 8 / sizeof(unw_word_t);
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi, need_unwind_info, arg);
}

static const Dwfl_Callbacks core_callbacks;
static const struct bt *files_of;  /* the core whose files libdwfl is finding */
static void set_debuginfo_path(const struct bt *b);
static Elf *core_elf;
static int core_fd = -1;

/* A libdwfl view of the core's modules, for symbols outside the vDSO. */
static Dwfl *core_names(struct bt *b)
{
	Dwfl *d;

	files_of = b;
	set_debuginfo_path(b);
	d = dwfl_begin(&core_callbacks);

	elf_version(EV_CURRENT);
	if (core_fd < 0)
		core_fd = open(b->core, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (!core_elf && core_fd >= 0)
		core_elf = elf_begin(core_fd, ELF_C_READ_MMAP, NULL);
	if (!d || !core_elf || dwfl_core_file_report(d, core_elf, NULL) < 0 ||
	    dwfl_report_end(d, NULL, NULL)) {
		if (d)
			dwfl_end(d);
		return NULL;
	}
	return d;
}

static int run_libunwind_core(struct bt *b)
{
	unw_accessors_t files = _UCD_accessors;
	struct UCD_info *ucd;
	unw_addr_space_t as;
	int i, n, rc = 0;

	ucd = _UCD_create(b->core);
	if (!ucd)
		return bt_err("core %s: libunwind-coredump cannot read it", b->core);
	files_bt = b;
	b->names = core_names(b);
	core_segments(core_elf);
	files.access_mem = files_access_mem;
	files.find_proc_info = files_find_proc_info;
	as = vdsoscope_unw_create_addr_space(&files, b->img, 0);
	if (!as) {
		rc = bt_err("libunwind: cannot set up the address space: %s", strerror(errno));
		goto out;
	}
	if (unw_table_from_env(as)) {
		rc = 1;
		goto out;
	}
	b->table = vdsoscope_unw_table(as);
	n = _UCD_get_num_threads(ucd);
	for (i = 0; i < n; i++) {
		struct thread *t;
		_UCD_select_thread(ucd, i);
		if (b->tid && _UCD_get_pid(ucd) != b->tid)
			continue;
		if (!(t = new_thread(b, _UCD_get_pid(ucd))))
			break;
		unw_flush_cache(as, 0, 0);
		unwind_cursor(b, t, as, ucd);
	}
out:
	vdsoscope_unw_destroy_addr_space(as);
	_UCD_destroy(ucd);
	if (b->names)
		dwfl_end(b->names);
	b->names = NULL;
	return rc;
}

/* ---- libdwfl ---------------------------------------------------------------- */

static char *debuginfo_path;

/* libdwfl's debuginfo path: the --debug-dir roots before the default. */
static void set_debuginfo_path(const struct bt *b)
{
	size_t i, len = sizeof(":.debug:/usr/lib/debug");
	char *p;

	if (debuginfo_path || !b->ndebug_dirs)
		return;
	for (i = 0; i < b->ndebug_dirs; i++)
		len += strlen(b->debug_dirs[i]) + 1;
	if (!(p = malloc(len)))
		return;
	strcpy(p, ":.debug");
	for (i = 0; i < b->ndebug_dirs; i++) {
		strcat(p, ":");
		strcat(p, b->debug_dirs[i]);
	}
	strcat(p, ":/usr/lib/debug");
	debuginfo_path = p;
}

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = vdsoscope_dwfl_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* A core's module: the vDSO or what libdwfl finds by build-id, else the
 * file the target found for the recorded name (the executable given, the
 * sysroot); libdwfl then checks its build-id against the core's. */
static int core_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
			 char **file_name, Elf **elfp)
{
	int fd = vdsoscope_dwfl_core_find_elf(mod, userdata, name, base, file_name, elfp);
	struct vdsoscope_target_file f;
	size_t i, n;

	if (fd >= 0 || *elfp || !files_of || !files_of->tg || !name)
		return fd;
	n = vdsoscope_target_file_count(files_of->tg);
	for (i = 0; i < n; i++) {
		if (vdsoscope_target_file_get(files_of->tg, i, &f) || strcmp(f.recorded, name) ||
		    !strcmp(f.path, name))
			continue;
		if ((fd = open(f.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) >= 0) {
			free(*file_name);
			*file_name = strdup(f.path);
		}
		return fd;
	}
	return -1;
}

static const Dwfl_Callbacks core_callbacks = {
	.find_elf = core_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static Dwfl *proc_names(struct bt *b)
{
	Dwfl *d = dwfl_begin(&proc_callbacks);
	FILE *f = NULL;
	int rc;

	elf_version(EV_CURRENT);
	if (!d)
		return NULL;
	dwfl_report_begin(d);
	/* the maps read once: libdwfl's reading of a copy drops the vDSO, which
	 * is reported from the image below */
	if (b->maps_text && b->maps_len)
		f = fmemopen(b->maps_text, b->maps_len, "r");
	rc = f ? dwfl_linux_proc_maps_report(d, f) : dwfl_linux_proc_report(d, b->pid);
	if (f)
		fclose(f);
	if (rc || dwfl_report_end(d, NULL, NULL) ||
	    (b->img && vdsoscope_dwfl_report_vdso(d, b->img) < 0)) {
		dwfl_end(d);
		return NULL;
	}
	return d;
}

struct dwfl_walk {
	struct bt *b;
	struct thread *t;
	Dwfl *dwfl;
};

/* Names FR from the module libdwfl reports at its address. */
static void name_dwfl(struct bt *b, Dwfl *dwfl, struct frame *fr)
{
	uint64_t pc = fr->pc, at = fr->exact ? pc : pc - 1;
	size_t slot = (size_t)((pc ^ pc >> 10 ^ pc >> 20) % (sizeof(b->named) / sizeof(b->named[0])));
	const struct frame *same = b->named[slot];
	Dwfl_Module *mod;
	const char *name, *sym;
	const unsigned char *id;
	GElf_Addr vaddr;
	GElf_Off off;
	GElf_Sym s;
	int len;

	if (same && same->pc == pc && same->exact == fr->exact) {
		memcpy(fr->module, same->module, sizeof(fr->module));
		memcpy(fr->build_id, same->build_id, sizeof(fr->build_id));
		memcpy(fr->func, same->func, sizeof(fr->func));
		fr->offset = same->offset;
		return;
	}
	b->named[slot] = fr;
	if (!(mod = dwfl_addrmodule(dwfl, at)))
		return;
	name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	snprintf(fr->module, sizeof(fr->module), "%s", name ? name : "");
	/* the symbol look-up loads the module's file, which holds its build-id */
	sym = dwfl_module_addrinfo(mod, at, &off, &s, NULL, NULL, NULL);
	len = dwfl_module_build_id(mod, &id, &vaddr);
	if (len > 0)
		hex_bytes(fr->build_id, id, len < 64 ? (size_t)len : 64);
	if (sym) {
		snprintf(fr->func, sizeof(fr->func), "%s", sym);
		fr->offset = off + (pc - at);
	}
}

/* 1, with T's end set, when no CFI of its module covers frame FR, or its
 * module's file was not found; 0 when CFI covers it. */
static int dwfl_no_cfi(Dwfl *dwfl, const struct frame *fr, struct thread *t)
{
	uint64_t at = fr->exact ? fr->pc : fr->pc - 1;
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, at);
	Dwarf_CFI *cfi;
	Dwarf_Frame *f;
	Dwarf_Addr bias;
	const char *name;
	int k;

	if (!mod) {
		snprintf(t->end, sizeof(t->end), "no module holds the code at %#" PRIx64
			 ": no unwind info for it", fr->pc);
		return 1;
	}
	name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	if (!dwfl_module_getelf(mod, &bias)) {
		snprintf(t->end, sizeof(t->end), "module %.512s not found: no unwind info for the "
			 "code at %#" PRIx64, name ? name : "?", fr->pc);
		return 1;
	}
	for (k = 0; k < 2; k++) {
		cfi = k ? dwfl_module_dwarf_cfi(mod, &bias) : dwfl_module_eh_cfi(mod, &bias);
		if (cfi && dwarf_cfi_addrframe(cfi, at - bias, &f) == 0) {
			free(f);
			return 0;
		}
	}
	snprintf(t->end, sizeof(t->end), "no unwind info for the code at %#" PRIx64 " in %.512s",
		 fr->pc, name ? name : "?");
	return 1;
}

static int dwfl_frame_cb(Dwfl_Frame *state, void *arg)
{
	struct dwfl_walk *w = arg;
	struct thread *t = w->t;
	struct frame *fr = &t->frames[t->nframes];
	Dwarf_Addr pc;
	bool act;

	if (!dwfl_frame_pc(state, &pc, &act)) {
		snprintf(t->end, sizeof(t->end), "libdwfl: %s", dwfl_errmsg(-1));
		return DWARF_CB_ABORT;
	}
	/* a caller of code no CFI covers is libdwfl's frame-pointer guess */
	if (t->nframes && dwfl_no_cfi(w->dwfl, &t->frames[t->nframes - 1], t))
		return DWARF_CB_ABORT;
	fr->pc = pc;
	fr->exact = act;
	if (!name_vdso(w->b, fr)) {
		if (w->b->nmaps && !map_name(w->b, pc)) {
			/* no file backs it: libdwfl has no unwind info there, and
			 * what it would do next is a frame-pointer guess */
			snprintf(fr->module, sizeof(fr->module), "[anonymous]");
			t->nframes++;
			snprintf(t->end, sizeof(t->end), "the code at %#" PRIx64 " is anonymous "
				 "executable memory (JIT code or a trampoline): no unwind info for it",
				 pc);
			return DWARF_CB_ABORT;
		}
		name_dwfl(w->b, w->dwfl, fr);
	}
	t->nframes++;
	if (t->nframes == MAX_FRAMES) {
		snprintf(t->end, sizeof(t->end), "frame limit (%d) reached", MAX_FRAMES);
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

/* Why libdwfl could not step from T's last frame, naming its module and
 * saying when that module's file was not found. */
static void dwfl_end_reason(Dwfl *dwfl, struct thread *t)
{
	char msg[128];
	const struct frame *fr;

	snprintf(msg, sizeof(msg), "%s", dwfl_errmsg(-1));
	if (!t->nframes) {
		snprintf(t->end, sizeof(t->end), "libdwfl: %s", msg);
		return;
	}
	fr = &t->frames[t->nframes - 1];
	if (!dwfl_no_cfi(dwfl, fr, t))
		snprintf(t->end, sizeof(t->end), "libdwfl: %s (at 0x%" PRIx64 ")", msg, fr->pc);
}

static void dwfl_unwind_thread(struct bt *b, Dwfl *dwfl, Dwfl_Thread *th)
{
	struct dwfl_walk w = { .b = b, .dwfl = dwfl };
	int rc;

	if (!(w.t = new_thread(b, dwfl_thread_tid(th))))
		return;
	rc = dwfl_thread_getframes(th, dwfl_frame_cb, &w);
	if (rc == 0)
		snprintf(w.t->end, sizeof(w.t->end), "outermost frame (libdwfl found no caller)");
	else if (!w.t->end[0])
		dwfl_end_reason(dwfl, w.t);
}

static int dwfl_thread_cb(Dwfl_Thread *th, void *arg)
{
	struct dwfl_walk *w = arg;

	if (w->b->tid && dwfl_thread_tid(th) != w->b->tid)
		return DWARF_CB_OK;
	dwfl_unwind_thread(w->b, w->dwfl, th);
	return DWARF_CB_OK;
}

static int cmp_thread(const void *a, const void *b)
{
	return ((const struct thread *)a)->tid - ((const struct thread *)b)->tid;
}

static int run_libdwfl(struct bt *b)
{
	struct dwfl_walk w = { .b = b };
	Elf *elf = NULL;
	int fd = -1, rc = 0, err;

	elf_version(EV_CURRENT);
	files_of = b;
	set_debuginfo_path(b);
	w.dwfl = dwfl_begin(b->core ? &core_callbacks : &proc_callbacks);
	if (!w.dwfl)
		return bt_err("libdwfl: %s", dwfl_errmsg(-1));
	if (b->core) {
		fd = open(b->core, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0 || !(elf = elf_begin(fd, ELF_C_READ_MMAP, NULL))) {
			rc = bt_err("core %s: %s", b->core, fd < 0 ? strerror(errno) : elf_errmsg(-1));
			goto out;
		}
		dwfl_report_begin(w.dwfl);
		if (dwfl_core_file_report(w.dwfl, elf, b->exe) < 0) {
			rc = bt_err("core %s: libdwfl: %s", b->core, dwfl_errmsg(-1));
			goto out;
		}
		dwfl_report_end(w.dwfl, NULL, NULL);
		if (b->img && vdsoscope_dwfl_report_vdso(w.dwfl, b->img) < 0) {
			rc = bt_err("libdwfl: cannot report the vDSO: %s", strerror(errno));
			goto out;
		}
		if ((err = dwfl_core_file_attach(w.dwfl, elf)) < 0) {
			rc = bt_err("core %s: libdwfl: %s", b->core, dwfl_errmsg(-1));
			goto out;
		}
	} else {
		uint64_t (*ro)[2];
		size_t nro;
		read_maps(b, &ro, &nro);
		free(ro);
		dwfl_report_begin(w.dwfl);
		if ((err = dwfl_linux_proc_report(w.dwfl, b->pid))) {
			rc = bt_err("pid %d: libdwfl: %s", (int)b->pid,
				    err > 0 ? strerror(err) : dwfl_errmsg(-1));
			goto out;
		}
		dwfl_report_end(w.dwfl, NULL, NULL);
		if (b->img && vdsoscope_dwfl_report_vdso(w.dwfl, b->img) < 0) {
			rc = bt_err("libdwfl: cannot report the vDSO: %s", strerror(errno));
			goto out;
		}
		if ((err = dwfl_linux_proc_attach(w.dwfl, b->pid, false))) {
			rc = bt_err("pid %d: libdwfl attach: %s", (int)b->pid,
				    err > 0 ? strerror(err) : dwfl_errmsg(-1));
			goto out;
		}
	}
	if (dwfl_getthreads(w.dwfl, dwfl_thread_cb, &w) < 0 && b->nthreads == 0)
		rc = bt_err("%s: libdwfl: %s", b->source, dwfl_errmsg(-1));
	qsort(b->threads, b->nthreads, sizeof(*b->threads), cmp_thread);
out:
	dwfl_end(w.dwfl);
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- the library's own step ------------------------------------------------------ */

/* What ended a thread's frames, in words that name the frame's code. */
static void end_text(struct thread *t, int why, const struct frame *last,
		     struct vdsoscope_space *sp, const char *sysroot)
{
	char local[8192];
	struct vdsoscope_space_map m;
	uint64_t pc = last ? last->pc : 0;
	const char *mod = last && last->module[0] ? last->module : "no module";

	switch (why) {
	case VDSOSCOPE_END_ROOT:
		snprintf(t->end, sizeof(t->end), "outermost frame (the CFI leaves the return address "
			 "undefined)");
		break;
	case VDSOSCOPE_END_MAX_FRAMES:
		snprintf(t->end, sizeof(t->end), "frame limit (%d) reached", MAX_FRAMES);
		break;
	case VDSOSCOPE_END_NO_MAPPING:
		snprintf(t->end, sizeof(t->end), "no mapping holds the code at %#" PRIx64
			 ": no unwind info for it", pc);
		break;
	case VDSOSCOPE_END_ANONYMOUS:
		snprintf(t->end, sizeof(t->end), "the code at %#" PRIx64 " is anonymous executable "
			 "memory (JIT code or a trampoline): no unwind info for it", pc);
		break;
	case VDSOSCOPE_END_NO_CFI:
		snprintf(t->end, sizeof(t->end), "no unwind info for the code at %#" PRIx64 " in %.512s",
			 pc, mod);
		break;
	case VDSOSCOPE_END_STACK:
		snprintf(t->end, sizeof(t->end), "the frame at %#" PRIx64 " needs memory that cannot "
			 "be read", pc);
		break;
	case VDSOSCOPE_END_REGISTER:
		snprintf(t->end, sizeof(t->end), "the unwind rule at %#" PRIx64 " in %s needs a "
			 "register whose value is unknown", pc, mod);
		break;
	case VDSOSCOPE_END_BAD_FRAME:
		snprintf(t->end, sizeof(t->end), "the caller of the frame at %#" PRIx64 " would not "
			 "be above it on the stack (corrupt stack)", pc);
		break;
	case VDSOSCOPE_END_UNSUPPORTED:
		snprintf(t->end, sizeof(t->end), "the unwind rule at %#" PRIx64 " in %s cannot be "
			 "evaluated", pc, mod);
		break;
	case VDSOSCOPE_END_FILE:
		if (sp && !vdsoscope_space_map_at(sp, pc, &m))
			snprintf(local, sizeof(local), "%s%s", sysroot ? sysroot : "", m.path);
		if (sp && !vdsoscope_space_map_at(sp, pc, &m) && access(local, R_OK))
			snprintf(t->end, sizeof(t->end), "the file of the code at %#" PRIx64 " was not "
				 "found: %.512s (give it with --executable, --sysroot or --debug-dir)", pc,
				 local);
		else if (sp && !vdsoscope_space_map_at(sp, pc, &m))
			snprintf(t->end, sizeof(t->end), "the file of the code at %#" PRIx64 ", %.512s, "
				 "is not the build the process ran or is unreadable", pc, local);
		else
			snprintf(t->end, sizeof(t->end), "the file of the code at %#" PRIx64
				 " is unusable", pc);
		break;
	case VDSOSCOPE_END_GO_ROOT:
		snprintf(t->end, sizeof(t->end), "outermost frame (Go's own traceback ends at %s)",
			 last && last->func[0] ? last->func : "this function");
		break;
	case VDSOSCOPE_END_VDSO:
		snprintf(t->end, sizeof(t->end), "the vDSO's unwind rule at %#" PRIx64
			 " cannot be evaluated", pc);
		break;
	default:
		snprintf(t->end, sizeof(t->end), "%s", vdsoscope_unwind_end_name(why));
	}
}

static void frame_from_info(struct bt *b, struct vdsoscope_space *sp, struct frame *fr,
			    const struct vdsoscope_frame_info *fi)
{
	struct vdsoscope_space_map m;

	fr->pc = fi->pc;
	fr->exact = (fi->flags & VDSOSCOPE_FRAME_INFO_EXACT) != 0;
	fr->inlined = (fi->flags & VDSOSCOPE_FRAME_INFO_INLINED) != 0;
	fr->frame_pointer = (fi->flags & VDSOSCOPE_FRAME_INFO_FRAME_POINTER) != 0;
	if ((fi->flags & VDSOSCOPE_FRAME_INFO_VDSO) && b->img && name_vdso(b, fr))
		return;
	if (fi->function) {
		snprintf(fr->func, sizeof(fr->func), "%s", fi->function);
		fr->offset = fi->offset;
	}
	if (!vdsoscope_space_map_at(sp, fi->pc, &m)) {
		snprintf(fr->module, sizeof(fr->module), "%s", m.path);
		if (m.build_id)
			hex_bytes(fr->build_id, m.build_id,
				  m.build_id_len < 64 ? m.build_id_len : 64);
	} else if (fi->module) {
		snprintf(fr->module, sizeof(fr->module), "%s", fi->module);
	}
}

/* The modules set and the target of B: made once, shared by the engines
 * (the core engine unwinds with them, the others take a core's files from
 * them). */
static int open_target(struct bt *b)
{
	VDSOSCOPE_TARGET_OPTS(o, .executable = b->exe);
	int rc;

	if (!(b->mods = vdsoscope_modules_new()) ||
	    (b->debug_dirs && vdsoscope_modules_set_debug_dirs(b->mods, b->debug_dirs)) ||
	    vdsoscope_modules_set_sysroot(b->mods, b->sysroot))
		return bt_err("out of memory");
	vdsoscope_modules_set_inlined(b->mods, b->inlines);
	rc = b->pid ? vdsoscope_target_open_pid(&b->tg, b->mods, b->pid, &o)
		    : vdsoscope_target_open_core(&b->tg, b->mods, b->core, &o);
	if (rc)
		return bt_err("%s", *vdsoscope_target_errmsg() ? vdsoscope_target_errmsg()
							       : strerror(-rc));
	if (b->img)
		vdsoscope_space_set_vdso(vdsoscope_target_space(b->tg), b->img);
	return 0;
}

/* A core's file mappings for the libunwind and libdwfl engines: the files
 * the target found for them (the executable given, the sysroot, by
 * build-id). */
static int core_files(struct bt *b)
{
	struct vdsoscope_target_file f;
	size_t i, n;

	n = vdsoscope_target_file_count(b->tg);
	for (i = 0; i < n; i++)
		if (!vdsoscope_target_file_get(b->tg, i, &f) &&
		    add_map(b, f.start, f.end, f.pgoff, f.path))
			return bt_err("out of memory");
	return 0;
}

static int run_core(struct bt *b)
{
	struct vdsoscope_frame_info *fi = calloc(MAX_FRAMES, sizeof(*fi));
	struct vdsoscope_space *sp;
	size_t i, n;
	int rc = 0, why;

	if (!fi)
		return bt_err("out of memory");
	if (!b->tg && (rc = open_target(b)))
		goto out;
	sp = vdsoscope_target_space(b->tg);
	n = vdsoscope_target_thread_count(b->tg);
	for (i = 0; i < n; i++) {
		pid_t tid = vdsoscope_target_thread_id(b->tg, i);
		unsigned int k, nf = 0;
		struct thread *t;
		if (b->tid && tid != b->tid)
			continue;
		why = vdsoscope_target_unwind(b->tg, i, fi, MAX_FRAMES, &nf);
		if (why == -ESRCH && !b->tid)
			continue; /* exited meanwhile */
		if (why < 0 && nf == 0) {
			rc = bt_err("%s", vdsoscope_target_errmsg());
			break;
		}
		if (!(t = new_thread(b, tid))) {
			rc = bt_err("out of memory");
			break;
		}
		for (k = 0; k < nf; k++)
			frame_from_info(b, sp, &t->frames[k], &fi[k]);
		t->nframes = nf;
		end_text(t, why, nf ? &t->frames[nf - 1] : NULL, sp, b->sysroot);
	}
out:
	free(fi);
	return rc;
}

/* ---- output ------------------------------------------------------------------ */

static void print_text(const struct bt *b)
{
	unsigned int i, k;
	int w = b->elf_class == 32 ? 10 : 18;

	printf("engine: %s (%s)\n", b->engine, b->why);
	printf("source: %s\n", b->source);
	if (b->img)
		printf("vdso:   %s build-id %s at 0x%" PRIx64 " (%s)\n", vdsoscope_soname(b->img),
		       vdsoscope_build_id_hex(b->img), vdsoscope_load_address(b->img),
		       vdsoscope_image_source(b->img));
	else
		printf("vdso:   none (%s)\n", b->no_vdso);
	if (b->table == VDSOSCOPE_UNW_TABLE_IMAGE)
		printf("table:  the image's .eh_frame_hdr\n");
	else if (b->table == VDSOSCOPE_UNW_TABLE_ROWS)
		printf("table:  built from the image's CFI rows\n");
	else if (b->table == VDSOSCOPE_UNW_TABLE_NONE)
		printf("table:  none (libunwind has no unwind info for the vDSO)\n");
	for (i = 0; i < b->nthreads; i++) {
		const struct thread *t = &b->threads[i];
		printf("\nthread %d%s%s%s:\n", (int)t->tid, t->name[0] ? " (" : "", t->name,
		       t->name[0] ? ")" : "");
		for (k = 0; k < t->nframes; k++) {
			const struct frame *f = &t->frames[k];
			printf("#%-3u %#0*" PRIx64 "  ", k, w, f->pc);
			if (f->func[0]) {
				printf("%s", f->func);
				if (f->version && *f->version)
					printf("@%s", f->version);
				printf("+%#" PRIx64, f->offset);
				if (f->inlined)
					printf(" (inlined)");
				if (f->frame_pointer)
					printf(" (by frame pointer)");
			} else {
				printf("??");
			}
			if (f->in_vdso && f->build_id[0])
				printf("  [%s build-id %s]", f->module, f->build_id);
			else if (f->module[0] == '[')
				printf("  %s", f->module);
			else if (f->module[0])
				printf("  [%s]", f->module);
			putchar('\n');
		}
		printf("end: %s\n", t->end);
	}
}

static void print_json(const struct bt *b)
{
	struct json j;
	unsigned int i, k;

	json_init(&j, stdout);
	json_obj(&j);
	json_kstr(&j, "engine", b->engine);
	json_kstr(&j, "engine_reason", b->why);
	json_kstr(&j, "source", b->source);
	json_key(&j, "vdso");
	if (b->img) {
		json_obj(&j);
		json_kstr(&j, "soname", vdsoscope_soname(b->img));
		json_kstr(&j, "build_id", vdsoscope_build_id_hex(b->img));
		json_khex(&j, "load_address", vdsoscope_load_address(b->img));
		json_kstr(&j, "image_source", vdsoscope_image_source(b->img));
		if (b->table >= 0)
			json_kstr(&j, "unwind_table", unw_table_name(b->table));
		json_obj_end(&j);
	} else {
		json_null(&j);
		json_kstr(&j, "no_vdso", b->no_vdso);
	}
	json_key(&j, "threads");
	json_arr(&j);
	for (i = 0; i < b->nthreads; i++) {
		const struct thread *t = &b->threads[i];
		json_obj(&j);
		json_kint(&j, "tid", t->tid);
		json_kstr(&j, "name", t->name);
		json_key(&j, "frames");
		json_arr(&j);
		for (k = 0; k < t->nframes; k++) {
			const struct frame *f = &t->frames[k];
			json_obj(&j);
			json_khex(&j, "address", f->pc);
			json_kbool(&j, "exact", f->exact);
			json_key(&j, "function");
			if (f->func[0])
				json_str(&j, f->func);
			else
				json_null(&j);
			json_kuint(&j, "offset", f->offset);
			json_kstr(&j, "module", f->module);
			json_kstr(&j, "build_id", f->build_id);
			json_kbool(&j, "vdso", f->in_vdso);
			json_kbool(&j, "inlined", f->inlined);
			json_kbool(&j, "frame_pointer", f->frame_pointer);
			if (f->in_vdso && b->img) {
				struct vdsoscope_func fn;
				unsigned int a;
				json_kstr(&j, "version", f->version ? f->version : "");
				json_key(&j, "aliases");
				json_arr(&j);
				if (!vdsoscope_func_at(b->img, f->exact ? f->pc : f->pc - 1, &fn, NULL))
					for (a = 0; a < fn.nnames; a++)
						json_str(&j, fn.names[a].name);
				json_arr_end(&j);
			}
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_kstr(&j, "end", t->end);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	putchar('\n');
}

/* ---- the command -------------------------------------------------------------- */

static int parse_id(const char *s, pid_t *out)
{
	char *end;
	long v;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 0x7fffffff)
		return -1;
	*out = (pid_t)v;
	return 0;
}

static int open_image(struct bt *b)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG);
	int rc;

	if (b->pid) {
		rc = vdsoscope_open_pid(&b->img, b->pid, &opts);
	} else if (b->image || b->build_id) {
		/* the image stands in for the core's missing vDSO segment, at
		 * the address the core's auxv gives */
		uint64_t base;
		if ((rc = vdsoscope_core_vdso_address(b->core, &base)) == 0) {
			opts.load_addr = base;
			opts.flags |= VDSOSCOPE_OPEN_LOAD_ADDR;
			opts.store_dir = b->store;
			if (b->image) {
				rc = vdsoscope_open_file(&b->img, b->image, &opts);
			} else {
				uint8_t id[64];
				size_t len;
				rc = vdsoscope_build_id_parse(b->build_id, id, sizeof(id), &len);
				if (rc)
					return bt_err("backtrace: --build-id %s is not a build-id", b->build_id);
				rc = vdsoscope_open_build_id(&b->img, id, len, &opts);
			}
		}
	} else {
		rc = vdsoscope_open_core(&b->img, b->core, &opts);
		if (rc == -VDSOSCOPE_E_NO_VDSO) {
			/* a process without one still has stacks */
			static char why[512];
			snprintf(why, sizeof(why), "%s", vdsoscope_errmsg());
			b->no_vdso = why;
			return 0;
		}
		if (rc == -VDSOSCOPE_E_NO_VDSO_SEGMENT) {
			bt_err("%s; give the image with --image FILE or --build-id ID", vdsoscope_errmsg());
			return 1;
		}
	}
	if (rc)
		return bt_err("%s", *vdsoscope_errmsg() ? vdsoscope_errmsg() : vdsoscope_strerror(rc));
	return 0;
}

/* The architecture of a core without a vDSO image, from its header. */
static const char *core_arch(const struct bt *b)
{
	unsigned char h[20];
	int fd;
	ssize_t got = -1;

	if (!b->core || (fd = open(b->core, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return "unknown";
	got = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (got != (ssize_t)sizeof(h) || memcmp(h, ELFMAG, SELFMAG))
		return "unknown";
	if (h[EI_CLASS] == ELFCLASS64 && (h[18] | h[19] << 8) == EM_X86_64)
		return "x86_64";
	if (h[EI_CLASS] == ELFCLASS32 && (h[18] | h[19] << 8) == EM_386)
		return "i386";
	if (h[EI_CLASS] == ELFCLASS64 && (h[18] | h[19] << 8) == EM_AARCH64)
		return "aarch64";
	if (h[EI_CLASS] == ELFCLASS32 && (h[18] | h[19] << 8) == EM_ARM)
		return "arm";
	return "another architecture";
}

int vdsoscope_cmd_backtrace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "tid", required_argument, NULL, 't' },
		{ "core", required_argument, NULL, 'c' },
		{ "image", required_argument, NULL, 'M' },
		{ "build-id", required_argument, NULL, 'b' },
		{ "store", required_argument, NULL, 's' },
		{ "engine", required_argument, NULL, 'E' },
		{ "executable", required_argument, NULL, 'e' },
		{ "sysroot", required_argument, NULL, 'r' },
		{ "debug-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "inlines", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *ddirs[66];
	struct bt b = { .table = -1 };
	const char *arch;
	int c, rc, is64;
	unsigned int i;

	optind = 1;
	b.debug_dirs = ddirs;
	while ((c = getopt_long(argc, argv, "he:i", opts, NULL)) != -1) {
		switch (c) {
		case 'p': b.pid_arg = optarg; break;
		case 't': b.tid_arg = optarg; break;
		case 'c': b.core = optarg; break;
		case 'M': b.image = optarg; break;
		case 'b': b.build_id = optarg; break;
		case 's': b.store = optarg; break;
		case 'E': b.engine_arg = optarg; break;
		case 'e': b.exe = optarg; break;
		case 'r': b.sysroot = optarg; break;
		case 'd':
			if (b.ndebug_dirs + 2 >= sizeof(ddirs) / sizeof(ddirs[0])) {
				bt_err("backtrace: more than 32 --debug-dir");
				debug_dirs_free();
				return 2;
			}
			debug_dir_add(b.debug_dirs, &b.ndebug_dirs, optarg);
			break;
		case 'j': b.json = 1; break;
		case 'I': case 'i': b.inlines = 1; break;
		case 'h': fputs(bt_usage, stdout); return 0;
		default: fputs("Try 'vdsoscope backtrace --help'.\n", stderr); return 2;
		}
	}
	if (optind < argc) {
		bt_err("backtrace: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!b.pid_arg == !b.core) {
		bt_err("backtrace: give one of --pid PID, --core FILE");
		return 2;
	}
	if (b.tid_arg && !b.pid_arg && !b.core) {
		bt_err("backtrace: --tid goes with --pid or --core");
		return 2;
	}
	if ((b.image || b.build_id) && !b.core) {
		bt_err("backtrace: --image and --build-id go with --core");
		return 2;
	}
	if (b.image && b.build_id) {
		bt_err("backtrace: give one of --image FILE, --build-id ID");
		return 2;
	}
	if (b.pid_arg && parse_id(b.pid_arg, &b.pid)) {
		bt_err("backtrace: --pid %s is not a process id", b.pid_arg);
		return 2;
	}
	if (b.tid_arg && parse_id(b.tid_arg, &b.tid)) {
		bt_err("backtrace: --tid %s is not a thread id", b.tid_arg);
		return 2;
	}
	if (b.engine_arg && strcmp(b.engine_arg, "core") && strcmp(b.engine_arg, "libunwind") &&
	    strcmp(b.engine_arg, "libdwfl")) {
		bt_err("backtrace: unknown engine '%s' (core, libunwind or libdwfl)", b.engine_arg);
		return 2;
	}
	if ((b.exe || b.sysroot) && !b.core) {
		bt_err("backtrace: --executable and --sysroot go with --core");
		return 2;
	}
	b.debug_dirs[b.ndebug_dirs] = NULL;
	if (!b.ndebug_dirs)
		b.debug_dirs = NULL;
	if (b.pid && b.tid) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)b.pid, (int)b.tid);
		if (access(path, F_OK)) {
			bt_err("pid %d has no thread %d", (int)b.pid, (int)b.tid);
			return 1;
		}
	}
	if (b.pid)
		snprintf(b.source, sizeof(b.source), "pid %d", (int)b.pid);
	else
		snprintf(b.source, sizeof(b.source), "core %s", b.core);
	if (open_image(&b))
		return 1;
	arch = b.img && vdsoscope_arch(b.img) ? vdsoscope_arch(b.img)->name : core_arch(&b);
	b.elf_class = !strcmp(arch, "i386") ? 32 : 64;
	is64 = !strcmp(arch, "x86_64");
	if (b.engine_arg) {
		b.engine = b.engine_arg;
		b.why = "requested";
	} else if (is64 || !strcmp(arch, "i386") || !strcmp(arch, "aarch64") ||
		   (b.core && !strcmp(arch, "arm"))) {
		b.engine = "core";
		b.why = "the default: the library's own step";
	} else {
		b.engine = "libdwfl";
		b.why = "the library steps x86_64, i386, aarch64 and arm targets";
	}
	if (!strcmp(b.engine, "libunwind") && !is64) {
		rc = bt_err("%s: the libunwind engine unwinds x86_64 targets only; this target is %s "
			    "(use --engine core or libdwfl)", b.source, arch);
		goto out;
	}
	if (!strcmp(b.engine, "core")) {
		rc = run_core(&b);
		goto done;
	}
	/* the other engines read a core's files where the target found them;
	 * a core of another architecture has no target: libdwfl alone reads it */
	if (b.core && strcmp(arch, "x86_64") && strcmp(arch, "i386") && (b.exe || b.sysroot)) {
		rc = bt_err("backtrace: --executable and --sysroot need an x86_64 or i386 core "
			    "(libdwfl reads this one as it is)");
		goto out;
	}
	if (b.core && (!strcmp(arch, "x86_64") || !strcmp(arch, "i386")) &&
	    ((rc = open_target(&b)) || (rc = core_files(&b))))
		goto out;
	if (!strcmp(b.engine, "libunwind"))
		rc = b.pid ? run_libunwind_pid(&b) : run_libunwind_core(&b);
	else
		rc = run_libdwfl(&b);
done:
	if (rc == 0 && b.nthreads == 0)
		rc = bt_err("%s: no thread%s could be unwound", b.source, b.tid ? " with that id" : "");
	if (rc == 0) {
		if (b.json)
			print_json(&b);
		else
			print_text(&b);
	}
out:
	for (i = 0; i < b.nthreads; i++)
		free(b.threads[i].frames);
	free(b.threads);
	for (size_t k = 0; k < b.nmaps; k++) {
		free(b.maps[k].name);
		if (b.maps[k].bytes)
			munmap((void *)b.maps[k].bytes, b.maps[k].size);
	}
	free(b.maps);
	free(b.maps_text);
	free(core_segs);
	core_segs = NULL;
	ncore_segs = 0;
	if (core_elf)
		elf_end(core_elf);
	if (core_fd >= 0)
		close(core_fd);
	vdsoscope_target_close(b.tg);
	vdsoscope_modules_free(b.mods);
	free(debuginfo_path);
	debuginfo_path = NULL;
	vdsoscope_image_close(b.img);
	debug_dirs_free();
	return rc;
}
