/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdsoscope-gdb.so: a gdb JIT reader (`jit-reader-load vdsoscope-gdb.so`)
 * that unwinds frames in the Linux vDSO with vdsoscope's CFI and names the
 * vDSO's functions for processes that registered their image through
 * libvdsoscope-agent.so.
 *
 * gdb asks unwind() about every frame before its own DWARF unwinder, with
 * nothing but the frame's registers (DWARF numbers) and target memory.  So:
 *  - the inferior's architecture comes from the size of register 0 (8 on
 *    amd64, 4 on i386), and only registers that gdb maps for it are read
 *    (0..16, 0..8): reg_get on any other number is an internal error in gdb;
 *  - the image is the ELF object whose header is found a few pages below
 *    the PC, accepted only when it is a vDSO; else an image handed over by
 *    `vdso load-image` or registered by the agent;
 *  - everything outside the vDSO (and x86_64's vsyscall page) is GDB_FAIL,
 *    so gdb's own unwinders run as if the reader were not there;
 *  - that answer costs two registers and no memory: once a vDSO was found
 *    in memory (near a PC, or named by vdsoscope_gdb_vdso_at()), a read of
 *    its headers at the first frame of a walk tells whether the memory being
 *    unwound is that process's, which has no other vDSO; then the PC and
 *    stack pointer registers decide (numbered by the image's machine: a
 *    caller's PC and SP are cheap for gdb, while reading registers the
 *    frames below did not save walks down to the innermost frame).
 */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gdb/jit-reader.h>
#include "vdsoscope.h"
#include "vdso-elf.h"
#include "jit-entry.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT GDB_DECLARE_GPL_COMPATIBLE_READER

#define PAGE 4096u
/* How far below the PC the ELF header of a vDSO may be. */
#define SCAN_PAGES 8u
/* No vDSO mapping is larger; bigger objects are not read at all. */
#define MAX_VDSO (256u << 10)
#define MAX_IMAGES 8
#define MAX_REJECTS 32
#define MAX_CALLERS 64

#define VSYSCALL_START 0xffffffffff600000ull
#define VSYSCALL_END 0xffffffffff601000ull

static const char *const vdso_sonames[] = {
	"linux-vdso.so.1", "linux-gate.so.1", "linux-vdso32.so.1", "linux-vdso64.so.1",
};

/* An image the reader uses.  Images read from target memory are checked
 * against it each time; given ones (load-image, agent registration) are
 * used where memory has no vDSO. */
struct image {
	struct vdsoscope_image *img;
	int given;
	unsigned long long stamp;
	size_t ident; /* leading bytes that identify an image read from memory */
};

/* An ELF header near a PC that is not a vDSO: address and first bytes. */
struct reject {
	uint64_t addr;
	unsigned char ehdr[64];
	int used;
};

struct caller {
	uint64_t ip, sp;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct image images[MAX_IMAGES];
static struct image *current; /* the one memory showed last */

/* The frame gdb asked about last: a frame asked about soon after it was
 * judged, with a stack pointer a little above its own, is its caller in the
 * same walk of the same thread's stack, so the same memory and machine as
 * when that one was judged.  (Another process's innermost frame would have
 * to fall into those few KiB above within those milliseconds; then the
 * reader leaves that walk's vDSO frames to gdb.)  IMG is the vDSO memory
 * held then, or NULL when it held none the reader knows; then NOPAGE is a
 * page whose PCs have no vDSO header in the pages below. */
#define WALK_STEP (64u << 10)
#define WALK_NS 50000000ll
static struct {
	int valid;
	long long at;
	uint64_t sp, nopage;
	unsigned int ipr, spr, width;
	struct image *img;
} walk;
static struct reject rejects[MAX_REJECTS];
static unsigned int next_reject;
static struct caller callers[MAX_CALLERS];
static unsigned int next_caller;
static unsigned long long clock_;
static struct vdsoscope_image *self_img; /* for x86_64's vsyscall page */
static char last_error[512];

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

/* ---- images ----------------------------------------------------------- */

static int is_vdso_soname(const char *s)
{
	for (size_t i = 0; i < sizeof(vdso_sonames) / sizeof(vdso_sonames[0]); i++)
		if (!strcmp(s, vdso_sonames[i]))
			return 1;
	return 0;
}

static int same_build_id(const struct vdsoscope_image *a, const struct vdsoscope_image *b)
{
	size_t la, lb;
	const uint8_t *ba = vdsoscope_build_id(a, &la), *bb = vdsoscope_build_id(b, &lb);

	return ba && bb && la == lb && la && !memcmp(ba, bb, la);
}

static int acceptable(const struct vdsoscope_image *img)
{
	if (is_vdso_soname(vdsoscope_soname(img)))
		return 1;
	for (int i = 0; i < MAX_IMAGES; i++)
		if (images[i].img && images[i].given && same_build_id(images[i].img, img))
			return 1;
	return 0;
}

static void drop_image(struct image *e)
{
	if (current == e)
		current = NULL;
	if (walk.img == e)
		walk.valid = 0;
	vdsoscope_image_close(e->img);
	memset(e, 0, sizeof(*e));
}

/* The ELF and program headers and the notes (the build-id) within the
 * first page: equal bytes at the load address are this image. */
static size_t ident_size(const struct vdsoscope_image *img)
{
	struct vs_elf e;
	size_t size, n;
	const void *d = vdsoscope_image_data(img, &size);

	if (vs_elf_parse(&e, d, size))
		return size < PAGE ? size : PAGE;
	n = e.phoff + (size_t)e.phnum * e.phentsize;
	for (unsigned int i = 0; i < e.nnotes && i < 4; i++)
		if (e.note_off[i] + e.note_size[i] <= PAGE && e.note_off[i] + e.note_size[i] > n)
			n = e.note_off[i] + e.note_size[i];
	if (n < 64)
		n = 64;
	if (n > PAGE)
		n = PAGE;
	return n < size ? n : size;
}

/* Keeps IMG (taking ownership) and returns it; evicts the least recently
 * used image read from memory, or any given one replaced at its address. */
static struct vdsoscope_image *keep_image(struct vdsoscope_image *img, int given)
{
	struct image *slot = NULL;

	for (int i = 0; i < MAX_IMAGES; i++) {
		struct image *e = &images[i];

		if (e->img && given && e->given &&
		    vdsoscope_load_address(e->img) == vdsoscope_load_address(img)) {
			drop_image(e);
		}
		if (!e->img) {
			if (!slot)
				slot = e;
		}
	}
	if (!slot)
		for (int i = 0; i < MAX_IMAGES; i++)
			if (!images[i].given && (!slot || images[i].stamp < slot->stamp))
				slot = &images[i];
	if (!slot)
		slot = &images[0];
	if (slot->img)
		drop_image(slot);
	slot->img = img;
	slot->given = given;
	slot->stamp = ++clock_;
	slot->ident = ident_size(img);
	if (!given)
		current = slot;
	return img;
}

static int in_image(const struct vdsoscope_image *img, uint64_t pc)
{
	uint64_t lo = vdsoscope_load_address(img);
	size_t size;

	vdsoscope_image_data(img, &size);
	return pc >= lo && pc - lo < size;
}

static int rejected(uint64_t addr, const unsigned char *ehdr)
{
	for (unsigned int i = 0; i < MAX_REJECTS; i++)
		if (rejects[i].used && rejects[i].addr == addr && !memcmp(rejects[i].ehdr, ehdr, 64))
			return 1;
	return 0;
}

static void reject(uint64_t addr, const unsigned char *ehdr)
{
	struct reject *r = &rejects[next_reject++ % MAX_REJECTS];

	r->addr = addr;
	memcpy(r->ehdr, ehdr, 64);
	r->used = 1;
}

static int target_read(gdb_target_read *rd, uint64_t addr, void *buf, size_t len)
{
	if (len > INT_MAX || addr + len < addr)
		return -1;
	return rd((GDB_CORE_ADDR)addr, buf, (int)len) == GDB_SUCCESS ? 0 : -1;
}

static int still_there(gdb_target_read *rd, const struct image *e)
{
	unsigned char buf[PAGE];
	size_t size;
	const unsigned char *d = vdsoscope_image_data(e->img, &size);

	return !target_read(rd, vdsoscope_load_address(e->img), buf, e->ident) &&
	       !memcmp(buf, d, e->ident);
}

/* The vDSO of the process whose memory RD reads, among the images found in
 * memory before: the one whose identifying bytes are at its address. */
static struct image *memory_vdso(gdb_target_read *rd)
{
	if (current && still_there(rd, current))
		return current;
	for (int i = 0; i < MAX_IMAGES; i++)
		if (images[i].img && !images[i].given && &images[i] != current &&
		    still_there(rd, &images[i]))
			return current = &images[i];
	return NULL;
}

/* The vDSO whose ELF header is in the few pages at or below PC, read from
 * target memory; NULL when there is none. */
static struct vdsoscope_image *image_from_memory(gdb_target_read *rd, uint64_t pc, int addr64)
{
	uint64_t page = pc & ~(uint64_t)(PAGE - 1), end, size;
	unsigned char *first = NULL, *buf = NULL;
	struct vdsoscope_image *img = NULL;
	unsigned int k;

	for (k = 0; k < SCAN_PAGES && page >= PAGE * k; k++) {
		uint64_t a = page - PAGE * k;
		unsigned char magic[4];

		if (!addr64 && a > 0xffffffffull)
			break;
		if (target_read(rd, a, magic, 4) || memcmp(magic, "\x7f" "ELF", 4))
			continue;
		first = malloc(PAGE);
		if (!first || target_read(rd, a, first, PAGE) || rejected(a, first))
			goto out;
		if (vs_elf_extent(first, PAGE, &end) || end < 64 || end > MAX_VDSO ||
		    pc - a >= ((end + PAGE - 1) & ~(uint64_t)(PAGE - 1))) {
			reject(a, first);
			goto out;
		}
		size = end;
		/* the same bytes as an image already open: use it */
		for (int i = 0; i < MAX_IMAGES; i++) {
			struct image *e = &images[i];
			size_t n;
			const void *d;

			if (!e->img || e->given || vdsoscope_load_address(e->img) != a)
				continue;
			d = vdsoscope_image_data(e->img, &n);
			if (n != size)
				continue;
			if (!buf && !(buf = malloc(size)))
				goto out;
			if (target_read(rd, a, buf, size))
				goto out;
			if (!memcmp(buf, d, size)) {
				e->stamp = ++clock_;
				img = e->img;
				goto out;
			}
		}
		if (!buf) {
			if (!(buf = malloc(size)) || target_read(rd, a, buf, size))
				goto out;
		}
		{
			VDSOSCOPE_OPTS(o, .flags = VDSOSCOPE_OPEN_LOAD_ADDR | VDSOSCOPE_OPEN_NO_DEBUG,
				       .load_addr = a);
			struct vdsoscope_image *n = NULL;

			if (vdsoscope_open_buffer(&n, buf, size, &o) || !acceptable(n) ||
			    !vdsoscope_arch(n)) {
				vdsoscope_image_close(n);
				reject(a, first);
				goto out;
			}
			img = keep_image(n, 0);
		}
		goto out;
	}
out:
	free(first);
	free(buf);
	return img;
}

static struct vdsoscope_image *given_image(uint64_t pc)
{
	for (int i = 0; i < MAX_IMAGES; i++)
		if (images[i].img && images[i].given && in_image(images[i].img, pc))
			return images[i].img;
	return NULL;
}

/* Any x86_64 image steps and names the vsyscall page: gdb's own vDSO (gdb
 * runs on x86_64 wherever it debugs amd64 code with this reader). */
static struct vdsoscope_image *vsyscall_image(void)
{
	VDSOSCOPE_OPTS(o, .flags = VDSOSCOPE_OPEN_NO_DEBUG);
	const struct vdsoscope_arch *a;

	for (int i = 0; i < MAX_IMAGES; i++)
		if (images[i].img && (a = vdsoscope_arch(images[i].img)) && a->elf_class == 64 &&
		    a->nregs == 17)
			return images[i].img;
	if (!self_img && vdsoscope_open_self(&self_img, &o))
		self_img = NULL;
	if (self_img && (!(a = vdsoscope_arch(self_img)) || strcmp(a->name, "x86_64"))) {
		vdsoscope_image_close(self_img);
		self_img = NULL;
	}
	return self_img;
}

/* ---- one frame ------------------------------------------------------------- */

struct frame {
	struct vdsoscope_image *img;
	const struct vdsoscope_arch *arch;
	int from_memory;
	unsigned int width;          /* register bytes: 8 or 4 */
	unsigned int step_flags;     /* VDSOSCOPE_STEP_CALLER or 0 */
	struct vdsoscope_regs in, out;
	unsigned int frame_flags;
};

static struct gdb_reg_value *get(struct gdb_unwind_callbacks *cb, int regnum)
{
	return cb->reg_get(cb, regnum);
}

static void put(struct gdb_reg_value *v)
{
	if (v && v->free)
		v->free(v);
}

/* Register REGNUM (one gdb maps) into F->in. */
static int read_reg(struct gdb_unwind_callbacks *cb, struct frame *f, unsigned int regnum)
{
	struct gdb_reg_value *v = get(cb, (int)regnum);
	uint64_t x = 0;
	int ok = 0;

	if (v && v->defined && v->size == (int)f->width) {
		unsigned char *p = v->value;
		for (unsigned int i = 0; i < f->width; i++)
			x |= (uint64_t)p[i] << (8 * i);
		f->in.r[regnum] = x;
		f->in.valid[regnum / 64] |= 1ull << (regnum % 64);
		ok = 1;
	}
	put(v);
	return ok;
}

struct read_arg {
	gdb_target_read *rd;
};

static int read_cb(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct read_arg *ra = arg;

	return target_read(ra->rd, addr, buf, len) ? -VDSOSCOPE_E_MEMORY : 0;
}

static int is_caller_state(uint64_t ip, uint64_t sp)
{
	for (unsigned int i = 0; i < MAX_CALLERS; i++)
		if (callers[i].ip == ip && callers[i].sp == sp && (ip || sp))
			return 1;
	return 0;
}

/* aarch64 frames are left to vdso.py's Python unwinder once it says it
 * is there: gdb's JIT interface takes registers by DWARF number only, and
 * the frames above a vDSO frame need the pointer authentication masks
 * passed through it, which have none. */
static int python_aarch64;

/* Register REGNUM of 8 or 4 bytes into *X (and its size into *SIZE). */
static int reg_value(struct gdb_unwind_callbacks *cb, unsigned int regnum, uint64_t *x,
		     unsigned int *size)
{
	struct gdb_reg_value *v = get(cb, (int)regnum);
	int ok = v && v->defined && (v->size == 8 || v->size == 4);

	*x = 0;
	for (int i = 0; ok && i < v->size; i++)
		*x |= (uint64_t)v->value[i] << (8 * i);
	if (ok && size)
		*size = (unsigned int)v->size;
	put(v);
	return ok;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* What may_be_vdso_frame() learnt for the slow way: the register numbers
 * and width when KNOWN; NO_VDSO when memory holds no vDSO the reader knows
 * (a scan that finds none near the PC then marks its page for the walk). */
struct hint {
	int known, no_vdso;
	unsigned int ipr, spr, width;
	uint64_t sp;
};

static void walk_set(const struct hint *h, struct image *img, uint64_t nopage)
{
	walk.valid = 1;
	walk.at = now_ns();
	walk.sp = h->sp;
	walk.ipr = h->ipr;
	walk.spr = h->spr;
	walk.width = h->width;
	walk.img = img;
	walk.nopage = nopage;
}

/* 0 when the frame CB describes is surely not in a vDSO: memory holds a
 * vDSO found before and the PC, read as that image's machine numbers it, is
 * outside it, the vsyscall page and the images given (or, within a walk in
 * memory without a vDSO, the PC is in a page scanned before).  1 when it
 * may be, with what was learnt in H. */
static int may_be_vdso_frame(struct gdb_unwind_callbacks *cb, struct hint *h)
{
	const struct vdsoscope_arch *a;
	struct image *e;
	uint64_t pc, sp;
	unsigned int size;

	memset(h, 0, sizeof(*h));
	if (walk.valid && now_ns() - walk.at < WALK_NS && reg_value(cb, walk.spr, &sp, &size) &&
	    size == walk.width && sp > walk.sp && sp - walk.sp <= WALK_STEP) {
		e = walk.img;
		h->ipr = walk.ipr;
		h->spr = walk.spr;
		h->width = walk.width;
		h->no_vdso = !e;
	} else {
		walk.valid = 0;
		if (!(e = memory_vdso(cb->target_read)) || !(a = vdsoscope_arch(e->img))) {
			h->no_vdso = 1;
			return 1;
		}
		h->ipr = a->ip_reg;
		h->spr = a->sp_reg;
		if (!reg_value(cb, h->spr, &sp, &h->width))
			return 1;
	}
	walk.valid = 0;
	h->sp = sp;
	if (python_aarch64 && h->ipr == 32)
		return 0;
	if (!reg_value(cb, h->ipr, &pc, &size) || size != h->width)
		return 1;
	h->known = 1;
	if ((e && in_image(e->img, pc)) || given_image(pc) ||
	    (h->ipr == 16 && pc >= VSYSCALL_START && pc < VSYSCALL_END) ||
	    (!e && (pc & ~(uint64_t)(PAGE - 1)) != walk.nopage))
		return 1;
	walk_set(h, e, walk.nopage);
	return 0;
}

/* Steps the frame CB describes into F.  0, or -1 when the frame is not the
 * reader's. */
static int step_frame(struct gdb_unwind_callbacks *cb, struct frame *f)
{
	struct gdb_reg_value *v;
	unsigned int ipr, spr, nregs;
	uint64_t ip, sp;
	struct read_arg ra = { cb->target_read };
	struct hint h;

	memset(f, 0, sizeof(*f));
	if (!may_be_vdso_frame(cb, &h))
		return -1;
	if (h.known) {
		f->width = h.width;
		ipr = h.ipr;
		spr = h.spr;
		nregs = ipr == 32 ? 33 : ipr == 16 ? 17 : 9;
		goto numbered;
	}
	v = get(cb, 0);
	if (!v)
		return -1;
	f->width = v->size == 8 || v->size == 4 ? (unsigned int)v->size : 0;
	put(v);
	if (!f->width)
		return -1;
	/* DWARF numbering: amd64 rip 16, rsp 7; i386 eip 8, esp 4; aarch64
	 * pc 32, sp 31 (amd64's 32 is xmm15 and i386's mm3, of other sizes:
	 * an 8-byte register 32 is aarch64's pc) */
	if (f->width == 8 && read_reg(cb, f, 32)) {
		if (python_aarch64)
			return -1;
		ipr = 32;
		spr = 31;
		nregs = 33;
	} else {
		ipr = f->width == 8 ? 16 : 8;
		spr = f->width == 8 ? 7 : 4;
		nregs = f->width == 8 ? 17 : 9;
	}
numbered:
	if (!read_reg(cb, f, ipr) || !read_reg(cb, f, spr))
		return -1;
	ip = f->in.r[ipr];
	sp = f->in.r[spr];

	if (ipr == 16 && ip >= VSYSCALL_START && ip < VSYSCALL_END) {
		f->img = vsyscall_image();
	} else {
		f->img = image_from_memory(cb->target_read, ip, f->width == 8);
		f->from_memory = f->img != NULL;
		if (!f->img)
			f->img = given_image(ip);
	}
	if (!f->img) {
		if (h.no_vdso) {
			h.ipr = ipr;
			h.spr = spr;
			h.width = f->width;
			h.sp = sp;
			walk_set(&h, NULL, ip & ~(uint64_t)(PAGE - 1));
		}
		return -1;
	}
	f->arch = vdsoscope_arch(f->img);
	if (!f->arch || f->arch->nregs < nregs || f->arch->ip_reg != ipr || f->arch->sp_reg != spr)
		return -1;
	for (unsigned int r = 0; r < nregs; r++)
		if (r != ipr && r != spr)
			read_reg(cb, f, r);
	/* An IP that is a return address (a frame this reader unwound into from
	 * another vDSO frame) is looked up one byte back; gdb's callbacks do
	 * not say whether a frame is the innermost. */
	f->step_flags = is_caller_state(ip, sp) ? VDSOSCOPE_STEP_CALLER : 0;
	if (vdsoscope_step(f->img, &f->in, f->step_flags, read_cb, &ra, &f->out, &f->frame_flags))
		return -1;
	return 0;
}

static void set_reg(struct gdb_unwind_callbacks *cb, unsigned int width, unsigned int regnum,
		    uint64_t x)
{
	struct gdb_reg_value *v = malloc(sizeof(*v) + width);

	if (!v)
		return;
	v->size = (int)width;
	v->defined = 1;
	v->free = (gdb_reg_value_free *)free;
	for (unsigned int i = 0; i < width; i++)
		v->value[i] = (unsigned char)(x >> (8 * i));
	cb->reg_set(cb, (int)regnum, v);
}

static enum gdb_status unwind(struct gdb_reader_funcs *self, struct gdb_unwind_callbacks *cb)
{
	struct frame f;
	enum gdb_status st = GDB_FAIL;

	pthread_mutex_lock(&lock);
	if (step_frame(cb, &f))
		goto out;
	/* A signal trampoline in memory (i386's __kernel_sigreturn and
	 * __kernel_rt_sigreturn) is left to gdb: its sigtramp unwinder
	 * recognises the bytes, shows "<signal handler called>" and knows that
	 * the interrupted frame's PC is exact.  Only when memory lacks the
	 * image (a core without the vDSO) can gdb not do that, and the reader
	 * unwinds it. */
	if ((f.frame_flags & VDSOSCOPE_FRAME_SIGNAL) && f.from_memory)
		goto out;
	for (unsigned int r = 0; r < f.arch->nregs && r <= f.arch->ip_reg; r++)
		if (vdsoscope_regs_has(&f.out, r))
			set_reg(cb, f.width, r, f.out.r[r]);
	if (!(f.frame_flags & VDSOSCOPE_FRAME_SIGNAL)) {
		uint64_t ip = f.out.r[f.arch->ip_reg];

		if (in_image(f.img, ip) || given_image(ip)) {
			struct caller *c = &callers[next_caller++ % MAX_CALLERS];

			c->ip = ip;
			c->sp = f.out.r[f.arch->sp_reg];
		}
	}
	st = GDB_SUCCESS;
out:
	pthread_mutex_unlock(&lock);
	return st;
}

static struct gdb_frame_id get_frame_id(struct gdb_reader_funcs *self,
					struct gdb_unwind_callbacks *cb)
{
	struct gdb_frame_id id = { 0, 0 };
	struct vdsoscope_func fn;
	struct vdsoscope_row row;
	struct frame f;

	/* cb->reg_set is not valid here */
	pthread_mutex_lock(&lock);
	if (!step_frame(cb, &f)) {
		uint64_t pc = f.in.r[f.arch->ip_reg];
		uint64_t at = (f.step_flags & VDSOSCOPE_STEP_CALLER) ? pc - 1 : pc;

		if (!vdsoscope_func_at(f.img, at, &fn, NULL))
			id.code_address = fn.start;
		else if (!vdsoscope_cfi_find(f.img, at, &row))
			id.code_address = row.fde_start;
		else
			id.code_address = pc;
		id.stack_address = f.out.r[f.arch->sp_reg];
	}
	pthread_mutex_unlock(&lock);
	return id;
}

/* ---- symbols of registered images ---------------------------------------- */

#define MAX_SYMTABS 64
#define MAX_FUNC_BYTES (1u << 16)

/* One symtab per source file that starts a function (by the debug file's
 * line table), holding those functions' blocks and the lines of their
 * addresses in that file; functions without lines go to "[vdso]". */
static void build_symtabs(struct gdb_symbol_callbacks *cb, struct gdb_object *obj,
			  const struct vdsoscope_image *img, size_t n)
{
	struct st {
		const char *file;
		struct gdb_symtab *tab;
		struct gdb_line_mapping *lines;
		int nlines, cap;
	} st[MAX_SYMTABS];
	int nst = 0, k;

	for (size_t i = 0; i < n; i++) {
		struct vdsoscope_func fn;
		const char *file = NULL, *f;
		int line = 0, l, last = -1;
		struct st *t = NULL;

		if (vdsoscope_func_get(img, i, &fn) || !fn.nnames || fn.end <= fn.start)
			continue;
		if (vdsoscope_addr_line(img, fn.start, &file, &line))
			file = "[vdso]";
		for (k = 0; k < nst && !t; k++)
			if (!strcmp(st[k].file, file))
				t = &st[k];
		if (!t) {
			if (nst == MAX_SYMTABS)
				t = &st[0];
			else {
				t = &st[nst++];
				t->file = file;
				t->tab = cb->symtab_open(cb, obj, file);
				t->lines = NULL;
				t->nlines = t->cap = 0;
			}
		}
		cb->block_open(cb, t->tab, NULL, fn.start, fn.end, fn.names[0].name);
		if (!strcmp(file, "[vdso]") || fn.end - fn.start > MAX_FUNC_BYTES)
			continue;
		for (uint64_t a = fn.start; a < fn.end; a++) {
			if (vdsoscope_addr_line(img, a, &f, &l) || strcmp(f, t->file) || l == last)
				continue;
			if (t->nlines == t->cap) {
				int nc = t->cap ? 2 * t->cap : 64;
				struct gdb_line_mapping *v = realloc(t->lines, nc * sizeof(*v));
				if (!v)
					break;
				t->lines = v;
				t->cap = nc;
			}
			t->lines[t->nlines].line = l;
			t->lines[t->nlines].pc = a;
			t->nlines++;
			last = l;
		}
	}
	for (k = 0; k < nst; k++) {
		if (st[k].nlines)
			cb->line_mapping_add(cb, st[k].tab, st[k].nlines, st[k].lines);
		free(st[k].lines);
		cb->symtab_close(cb, st[k].tab);
	}
}

static enum gdb_status read_debug_info(struct gdb_reader_funcs *self,
				       struct gdb_symbol_callbacks *cb, void *memory,
				       long memory_sz)
{
	struct vdsoscope_jit_entry h;
	struct vdsoscope_image *img = NULL;
	struct gdb_object *obj;
	size_t n;

	if (memory_sz < (long)sizeof(h))
		return GDB_FAIL;
	memcpy(&h, memory, sizeof(h));
	if (memcmp(h.magic, VDSOSCOPE_JIT_MAGIC, 8) || h.size > MAX_VDSO ||
	    h.size != (uint64_t)memory_sz - sizeof(h))
		return GDB_FAIL;
	{
		VDSOSCOPE_OPTS(o, .flags = VDSOSCOPE_OPEN_LOAD_ADDR, .load_addr = h.load_addr);
		if (vdsoscope_open_buffer(&img, (char *)memory + sizeof(h), h.size, &o))
			return GDB_FAIL;
	}
	if (!is_vdso_soname(vdsoscope_soname(img))) {
		vdsoscope_image_close(img);
		return GDB_FAIL;
	}
	obj = cb->object_open(cb);
	n = vdsoscope_func_count(img);
	build_symtabs(cb, obj, img, n);
	cb->object_close(cb, obj);

	/* the registration also serves unwinding where memory lacks the image */
	pthread_mutex_lock(&lock);
	keep_image(img, 1);
	pthread_mutex_unlock(&lock);
	return GDB_SUCCESS;
}

/* ---- control, for gdb-scripts/vdso.py --------------------------------------- */

/* `vdso load-image FILE ADDR`: unwind with the image in FILE, mapped at
 * ADDR, where target memory has no vDSO.  Returns 0, or a negative code
 * and the reason in vdsoscope_gdb_error(). */
EXPORT int vdsoscope_gdb_load_image(const char *path, unsigned long long addr)
{
	VDSOSCOPE_OPTS(o, .flags = VDSOSCOPE_OPEN_LOAD_ADDR | VDSOSCOPE_OPEN_NO_DEBUG,
		       .load_addr = addr);
	struct vdsoscope_image *img = NULL;
	int rc;

	if (!path)
		return -VDSOSCOPE_E_INVALID;
	rc = vdsoscope_open_file(&img, path, &o);
	if (rc) {
		set_error("%s", vdsoscope_errmsg());
		return rc;
	}
	if (!vdsoscope_arch(img)) {
		set_error("%s: no register table for this image's machine", path);
		vdsoscope_image_close(img);
		return -VDSOSCOPE_E_BAD_MACHINE;
	}
	pthread_mutex_lock(&lock);
	keep_image(img, 1);
	pthread_mutex_unlock(&lock);
	return 0;
}

/* `vdso load-image --build-id ID ADDR`: the image with build-id HEX found
 * through the library's lookup (open images, the store STORE or the
 * default one, debug directories, /lib/modules, debuginfod), mapped at ADDR;
 * its bytes are also written to OUT for gdb's add-symbol-file.  Returns 0,
 * or a negative code and the reason in vdsoscope_gdb_error(). */
EXPORT int vdsoscope_gdb_load_build_id(const char *hex, unsigned long long addr,
				       const char *store, const char *out)
{
	VDSOSCOPE_OPTS(o, .flags = VDSOSCOPE_OPEN_LOAD_ADDR, .load_addr = addr, .store_dir = store);
	struct vdsoscope_image *img = NULL;
	const void *bytes;
	uint8_t id[64];
	size_t len, size;
	FILE *f;
	int rc;

	if (!hex || !out)
		return -VDSOSCOPE_E_INVALID;
	rc = vdsoscope_build_id_parse(hex, id, sizeof(id), &len);
	if (!rc)
		rc = vdsoscope_open_build_id(&img, id, len, &o);
	if (rc) {
		set_error("%s", vdsoscope_errmsg());
		return rc;
	}
	if (!vdsoscope_arch(img)) {
		set_error("build-id %s: no register table for this image's machine", hex);
		vdsoscope_image_close(img);
		return -VDSOSCOPE_E_BAD_MACHINE;
	}
	bytes = vdsoscope_image_data(img, &size);
	f = fopen(out, "wb");
	if (!f || fwrite(bytes, 1, size, f) != size || fclose(f)) {
		set_error("%s: %s", out, strerror(errno));
		if (f)
			fclose(f);
		vdsoscope_image_close(img);
		return -errno;
	}
	pthread_mutex_lock(&lock);
	keep_image(img, 1);
	pthread_mutex_unlock(&lock);
	return 0;
}

/* `vdso.py` names the vDSO gdb found in memory (gdb's "system-supplied DSO
 * at ADDR"): the reader reads it at ADDR through READ and so knows it before
 * a PC comes near it.  0, or -1 when memory at ADDR is no vDSO image. */
EXPORT int vdsoscope_gdb_vdso_at(unsigned long long addr, gdb_target_read *read)
{
	struct vdsoscope_image *img;

	if (!read)
		return -1;
	pthread_mutex_lock(&lock);
	img = image_from_memory(read, addr, 1);
	pthread_mutex_unlock(&lock);
	return img ? 0 : -1;
}

/* Forgets the images given by vdsoscope_gdb_load_image(). */
EXPORT void vdsoscope_gdb_forget_images(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_IMAGES; i++)
		if (images[i].img && images[i].given)
			drop_image(&images[i]);
	pthread_mutex_unlock(&lock);
}

EXPORT void vdsoscope_gdb_python_aarch64(int on)
{
	python_aarch64 = on;
}

/* One aarch64 vDSO frame for a Python unwinder: IN holds x0-x30, sp and pc
 * (DWARF 0-32; bit N of IN_VALID says IN[N] is known), PAC_MASK the
 * pointer authentication mask of return addresses (0: the default), READ
 * the target's memory; CALLER: the PC is a return address.  0 with the
 * caller's registers in OUT/OUT_VALID and in *CODE the function's start;
 * 1 for a signal trampoline in memory (gdb's own sigtramp unwinder knows
 * it); -1 when the frame is not in a vDSO. */
EXPORT int vdsoscope_gdb_step_aarch64(const unsigned long long *in, unsigned long long in_valid,
				      unsigned long long pac_mask, int caller,
				      gdb_target_read *read, unsigned long long *out,
				      unsigned long long *out_valid, unsigned long long *code)
{
	struct read_arg ra = { read };
	struct vdsoscope_regs r, o;
	struct vdsoscope_image *img;
	const struct vdsoscope_arch *a;
	struct vdsoscope_func fn;
	unsigned int ff = 0, k;
	int from_memory, rc = -1;
	uint64_t pc;

	if (!(in_valid >> 32 & 1) || !(in_valid >> 31 & 1))
		return -1;
	vdsoscope_regs_clear(&r);
	for (k = 0; k <= 32; k++)
		if (in_valid >> k & 1)
			vdsoscope_regs_set(&r, k, in[k]);
	r.pac_mask = pac_mask;
	pc = in[32];
	pthread_mutex_lock(&lock);
	img = image_from_memory(read, pc, 1);
	from_memory = img != NULL;
	if (!img)
		img = given_image(pc);
	if (!img || !(a = vdsoscope_arch(img)) || strcmp(a->name, "aarch64") ||
	    vdsoscope_step(img, &r, caller ? VDSOSCOPE_STEP_CALLER : 0, read_cb, &ra, &o, &ff))
		goto out;
	if ((ff & VDSOSCOPE_FRAME_SIGNAL) && from_memory) {
		rc = 1;
		goto out;
	}
	*out_valid = 0;
	for (k = 0; k <= 32; k++)
		if (vdsoscope_regs_has(&o, k)) {
			out[k] = o.r[k];
			*out_valid |= 1ull << k;
		}
	*code = !vdsoscope_func_at(img, caller ? pc - 1 : pc, &fn, NULL) ? fn.start : pc;
	rc = 0;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

EXPORT const char *vdsoscope_gdb_error(void)
{
	return last_error;
}

/* ---- the reader ------------------------------------------------------------- */

static void destroy(struct gdb_reader_funcs *self)
{
	pthread_mutex_lock(&lock);
	memset(callers, 0, sizeof(callers));
	memset(rejects, 0, sizeof(rejects));
	walk.valid = 0;
	pthread_mutex_unlock(&lock);
}

static struct gdb_reader_funcs funcs = {
	.reader_version = GDB_READER_INTERFACE_VERSION,
	.read = read_debug_info,
	.unwind = unwind,
	.get_frame_id = get_frame_id,
	.destroy = destroy,
};

EXPORT struct gdb_reader_funcs *gdb_init_reader(void)
{
	return &funcs;
}
