/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libunwind accessor tables that answer for the vDSO and delegate the rest. */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <libunwind-ptrace.h>
#include <libunwind-coredump.h>
#include "vdsoscope-unwind.h"
#include "eh-table.h"
#include "unw-table.h"

/* A table libunwind searches itself (UNW_INFO_FORMAT_REMOTE_TABLE) for the
 * code [lo, hi): the image's own .eh_frame_hdr (bytes NULL: the image's
 * range serves it), or one built from rows whose bytes are served at ADDR.
 * A built table may give code address A as A + shift: the search is then
 * asked about the shifted IP and the range it finds is shifted back. */
struct served {
	int kind;               /* enum vdsoscope_unw_table */
	uint64_t lo, hi, shift;
	const unsigned char *bytes;
	uint64_t addr;
	size_t size;
	unw_dyn_info_t di;
};

struct hook {
	struct hook *next;
	unw_addr_space_t as;
	unw_accessors_t inner;  /* the wrapped table, as copied */
	const struct vdsoscope_image *img;
	uint64_t lo, hi;        /* the image's runtime range */
	uint64_t text_lo, text_hi;
	const unsigned char *bytes;
	struct served code;     /* the image's code */
	struct served vsys;     /* x86_64's vsyscall page */
	struct vs_eh_table rows_table, vsys_table;
	int rows_rc;            /* 1: not built yet; 0: built; else why not */
	struct vdsoscope_unw_stats stats;
	/* vdsoscope_unw_cache_pid(): read-only mappings and cached pages */
	pid_t pid;
	uint64_t (*ro)[2];
	size_t nro;
	uint64_t *page_addr;    /* page address + 1 of each slot, 0: empty */
	unsigned char (*pages)[4096];
};

#define CACHE_PAGES 64

static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hook *hooks;
/* the last one found: unwinding asks about one address space many times */
static __thread struct hook *last_hook;

static struct hook *hook_of(unw_addr_space_t as)
{
	struct hook *h = last_hook;

	if (h && h->as == as)
		return h;
	pthread_mutex_lock(&hooks_lock);
	for (h = hooks; h && h->as != as; h = h->next)
		;
	pthread_mutex_unlock(&hooks_lock);
	if (h)
		last_hook = h;
	return h;
}

static int in_text(const struct hook *h, unw_word_t ip)
{
	return h->img && ip >= h->text_lo && ip < h->text_hi;
}

/*
 * Built tables are served in the kernel's half of the address space, where
 * no process memory is: ptrace and process_vm_readv cannot read there, and
 * a core holds nothing there but the vsyscall page.  x86_64's legacy
 * vsyscall page has no ELF and no CFI, but every entry is "mov $nr, %rax;
 * syscall; ret": CFA = RSP + 8, the return address at CFA - 8; that row's
 * table is served just above the page.  The rows of an image are served at
 * ROWS_TABLE and give the image as starting at ROWS_SHADOW, within reach
 * of the table's 32-bit offsets wherever the image is.
 */
#define VSYSCALL_LO 0xffffffffff600000ull
#define VSYSCALL_HI 0xffffffffff601000ull
#define VSYS_TABLE VSYSCALL_HI
#define ROWS_TABLE 0xffff800000000000ull
#define ROWS_SHADOW (ROWS_TABLE + 0x40000000ull)
#define ROWS_MAX (16u << 20)

static int vsys_row(const void *ctx, size_t idx, struct vdsoscope_row *out)
{
	static const struct vdsoscope_rule rules[17] = {
		[16] = { .kind = VDSOSCOPE_RULE_OFFSET, .off = -8 },
	};

	(void)ctx;
	if (idx)
		return -VDSOSCOPE_E_NOT_FOUND;
	memset(out, 0, sizeof(*out));
	out->start = out->fde_start = VSYSCALL_LO;
	out->end = VSYSCALL_HI;
	out->cfa.kind = VDSOSCOPE_RULE_CFA_REG_OFFSET;
	out->cfa.reg = 7;       /* rsp */
	out->cfa.off = 8;
	out->ra_reg = 16;       /* rip */
	out->nregs = 17;
	out->regs = rules;
	return 0;
}

static int image_row(const void *ctx, size_t idx, struct vdsoscope_row *out)
{
	return vdsoscope_cfi_get(ctx, idx, out);
}

static void serve_built(struct served *s, int kind, const struct vs_eh_table *t)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->lo = t->lo;
	s->hi = t->hi;
	s->shift = t->shift;
	s->bytes = t->bytes;
	s->addr = t->addr;
	s->size = t->size;
	s->di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	s->di.start_ip = t->lo + t->shift;
	s->di.end_ip = t->hi + t->shift;
	s->di.u.rti.segbase = t->addr;
	s->di.u.rti.table_data = t->addr + 12;
	s->di.u.rti.table_len = t->fde_count * 8 / sizeof(unw_word_t);
}

static int serve(struct hook *h, const struct served *s, unw_addr_space_t as, unw_word_t ip,
		 unw_proc_info_t *pi, int need_unwind_info, void *arg)
{
	uint64_t shift = s->shift;
	unw_dyn_info_t di = s->di;
	int rc;

	h->stats.proc_info_image++;
	if (s->kind == VDSOSCOPE_UNW_TABLE_NONE || ip < s->lo || ip >= s->hi)
		return -UNW_ENOINFO;
	rc = UNW_OBJ(dwarf_search_unwind_table)(as, ip + shift, &di, pi, need_unwind_info, arg);
	if (rc == 0) {
		pi->start_ip -= shift;
		pi->end_ip -= shift;
	}
	return rc;
}

static int in_served(const struct served *s, unw_word_t ip)
{
	return s->kind != VDSOSCOPE_UNW_TABLE_NONE && ip >= s->lo && ip < s->hi;
}

static int hook_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			       int need_unwind_info, void *arg)
{
	struct hook *h = hook_of(as);

	if (!h)
		return -UNW_EINVAL;
	if (in_served(&h->vsys, ip))
		return serve(h, &h->vsys, as, ip, pi, need_unwind_info, arg);
	if (in_text(h, ip) || in_served(&h->code, ip))
		return serve(h, &h->code, as, ip, pi, need_unwind_info, arg);
	h->stats.proc_info_delegated++;
	return h->inner.find_proc_info ? h->inner.find_proc_info(as, ip, pi, need_unwind_info, arg)
				       : -UNW_ENOINFO;
}

static int is_x86_64_vsyscall(const struct hook *h, unw_word_t ip)
{
	return h->img && ip >= VSYSCALL_LO && ip < VSYSCALL_HI;
}

static int hook_get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf, size_t len,
			      unw_word_t *off, void *arg)
{
	struct hook *h = hook_of(as);
	struct vdsoscope_func f;

	if (!h)
		return -UNW_EINVAL;
	if (!h->img || ((ip < h->lo || ip >= h->hi) && !is_x86_64_vsyscall(h, ip)))
		return h->inner.get_proc_name ? h->inner.get_proc_name(as, ip, buf, len, off, arg)
					      : -UNW_ENOINFO;
	h->stats.names_image++;
	if (vdsoscope_func_at(h->img, ip, &f, NULL) || f.nnames == 0)
		return -UNW_ENOINFO;
	if (off)
		*off = ip - f.start;
	if (!buf || len == 0)
		return -UNW_ENOMEM;
	if (strlen(f.names[0].name) >= len) {
		memcpy(buf, f.names[0].name, len - 1);
		buf[len - 1] = 0;
		return -UNW_ENOMEM;
	}
	strcpy(buf, f.names[0].name);
	return 0;
}

static int in_ro(const struct hook *h, uint64_t addr)
{
	size_t i;

	for (i = 0; i < h->nro; i++)
		if (addr >= h->ro[i][0] && addr < h->ro[i][1])
			return 1;
	return 0;
}

/* One byte range within one page, from the cache. */
static int cached(struct hook *h, uint64_t addr, unsigned char *out, size_t len)
{
	uint64_t page = addr & ~4095ull;
	size_t slot = (size_t)((page >> 12) % CACHE_PAGES);
	unsigned char *b = h->pages[slot];

	if (h->page_addr[slot] != page + 1) {
		struct iovec l = { b, 4096 }, r = { (void *)(uintptr_t)page, 4096 };
		if (process_vm_readv(h->pid, &l, 1, &r, 1, 0) != 4096) {
			h->page_addr[slot] = 0;
			return -1;
		}
		h->page_addr[slot] = page + 1; /* + 1: page 0 is a valid key */
	}
	memcpy(out, b + (addr - page), len);
	return 0;
}

/* A word of a built table's bytes, zero past their end. */
static int read_served(const struct served *s, unw_word_t addr, unw_word_t *val)
{
	size_t o, n;

	if (!s->bytes || addr < s->addr || addr - s->addr >= s->size)
		return 0;
	o = (size_t)(addr - s->addr);
	n = s->size - o;
	*val = 0;
	memcpy(val, s->bytes + o, n < sizeof(*val) ? n : sizeof(*val));
	return 1;
}

static int hook_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
			   void *arg)
{
	struct hook *h = hook_of(as);

	if (!h)
		return -UNW_EINVAL;
	if (!write && h->img && addr >= h->lo && addr < h->hi &&
	    h->hi - addr >= sizeof(*val)) {
		memcpy(val, h->bytes + (addr - h->lo), sizeof(*val));
		h->stats.mem_from_image++;
		return 0;
	}
	if (!write && (read_served(&h->code, addr, val) || read_served(&h->vsys, addr, val))) {
		h->stats.mem_from_image++;
		return 0;
	}
	if (!write && h->pages && in_ro(h, addr) && in_ro(h, addr + sizeof(*val) - 1)) {
		unsigned char b[sizeof(*val)];
		size_t first = 4096 - (addr & 4095);
		if (first > sizeof(b))
			first = sizeof(b);
		if (!cached(h, addr, b, first) &&
		    (first == sizeof(b) || !cached(h, addr + first, b + first, sizeof(b) - first))) {
			memcpy(val, b, sizeof(b));
			h->stats.mem_cached++;
			return 0;
		}
	}
	h->stats.mem_delegated++;
	return h->inner.access_mem(as, addr, val, write, arg);
}

/* The image's .eh_frame_hdr as libunwind's remote-table search wants it. */
static int serve_image(struct hook *h)
{
	struct vdsoscope_eh_frame_hdr eh;
	struct served *s = &h->code;

	unw_dyn_info_t di;

	if (vdsoscope_eh_frame_hdr(h->img, &eh) ||
	    vs__unw_table_info(&eh, h->text_lo, h->text_hi, &di))
		return -ENODATA;
	memset(s, 0, sizeof(*s));
	s->kind = VDSOSCOPE_UNW_TABLE_IMAGE;
	s->lo = h->text_lo;
	s->hi = h->text_hi;
	s->di = di;
	return 0;
}

/* A table built from the image's compiled rows, once per hook. */
static int serve_rows(struct hook *h)
{
	const struct vdsoscope_image *img = h->img;

	if (h->rows_rc == 1)
		h->rows_rc = vs_eh_table_build(&h->rows_table, vdsoscope_arch(img),
					       vdsoscope_big_endian(img), img, image_row, img,
					       vdsoscope_cfi_count(img), ROWS_TABLE,
					       ROWS_SHADOW - h->lo, ROWS_MAX);
	if (h->rows_rc)
		return h->rows_rc == -ENOENT ? -ENODATA : h->rows_rc;
	serve_built(&h->code, VDSOSCOPE_UNW_TABLE_ROWS, &h->rows_table);
	return 0;
}

unw_addr_space_t vdsoscope_unw_create_addr_space(const unw_accessors_t *wrapped,
						 const struct vdsoscope_image *img, int byteorder)
{
	unw_accessors_t table;
	struct hook *h;

	if (!wrapped || !wrapped->access_mem) {
		errno = EINVAL;
		return NULL;
	}
	if (img) {
		const struct vdsoscope_arch *a = vdsoscope_arch(img);
		if (!a || strcmp(a->name, "x86_64")) {
			errno = ENOTSUP;  /* the search function is libunwind-x86_64's */
			return NULL;
		}
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->inner = *wrapped;
	h->img = img;
	if (img) {
		size_t size;
		h->bytes = vdsoscope_image_data(img, &size);
		h->lo = vdsoscope_load_address(img);
		h->hi = h->lo + size;
		vdsoscope_text_range(img, &h->text_lo, &h->text_hi);
		h->rows_rc = 1;
		if (serve_image(h) && serve_rows(h))
			h->code.kind = VDSOSCOPE_UNW_TABLE_NONE;
		if (!vs_eh_table_build(&h->vsys_table, vdsoscope_arch(img), false, NULL, vsys_row,
				       NULL, 1, VSYS_TABLE, 0, 4096))
			serve_built(&h->vsys, VDSOSCOPE_UNW_TABLE_ROWS, &h->vsys_table);
	}
	table = *wrapped;
	table.find_proc_info = hook_find_proc_info;
	table.get_proc_name = hook_get_proc_name;
	table.access_mem = hook_access_mem;
	h->as = unw_create_addr_space(&table, byteorder);
	if (!h->as) {
		vs_eh_table_free(&h->rows_table);
		vs_eh_table_free(&h->vsys_table);
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&hooks_lock);
	h->next = hooks;
	hooks = h;
	pthread_mutex_unlock(&hooks_lock);
	return h->as;
}

int vdsoscope_unw_cache_ranges(unw_addr_space_t as, pid_t pid, const uint64_t (*ro)[2], size_t n)
{
	struct hook *h = hook_of(as);
	uint64_t (*v)[2] = NULL;

	if (!h) {
		errno = ENOENT;
		return -1;
	}
	if ((n && !ro) || n > SIZE_MAX / sizeof(*v)) {
		errno = EINVAL;
		return -1;
	}
	if (n && !(v = malloc(n * sizeof(*v))))
		return -1;
	if (n)
		memcpy(v, ro, n * sizeof(*v));
	/* the pages themselves are touched only when filled */
	if (!h->pages && (!(h->page_addr = calloc(CACHE_PAGES, sizeof(*h->page_addr))) ||
			  !(h->pages = malloc(CACHE_PAGES * sizeof(*h->pages))))) {
		free(v);
		return -1;
	}
	free(h->ro);
	h->ro = v;
	h->nro = n;
	memset(h->page_addr, 0, CACHE_PAGES * sizeof(*h->page_addr));
	h->pid = pid;
	return 0;
}

int vdsoscope_unw_cache_pid(unw_addr_space_t as, pid_t pid)
{
	char path[64], line[4352];
	uint64_t (*ro)[2] = NULL;
	size_t n = 0;
	FILE *f;
	int rc;

	if (!hook_of(as)) {
		errno = ENOENT;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		char perms[8];
		uint64_t (*v)[2];

		if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) != 3 || perms[1] == 'w' ||
		    perms[0] != 'r' || hi <= lo)
			continue;
		v = realloc(ro, (n + 1) * sizeof(*v));
		if (!v) {
			free(ro);
			fclose(f);
			return -1;
		}
		ro = v;
		ro[n][0] = lo;
		ro[n][1] = hi;
		n++;
	}
	fclose(f);
	rc = vdsoscope_unw_cache_ranges(as, pid, ro, n);
	free(ro);
	return rc;
}

unw_addr_space_t vdsoscope_unw_create_upt(const struct vdsoscope_image *img)
{
	return vdsoscope_unw_create_addr_space(&_UPT_accessors, img, 0);
}

unw_addr_space_t vdsoscope_unw_create_ucd(const struct vdsoscope_image *img)
{
	return vdsoscope_unw_create_addr_space(&_UCD_accessors, img, 0);
}

void vdsoscope_unw_destroy_addr_space(unw_addr_space_t as)
{
	struct hook **p, *h = NULL;

	if (!as)
		return;
	pthread_mutex_lock(&hooks_lock);
	for (p = &hooks; *p; p = &(*p)->next)
		if ((*p)->as == as) {
			h = *p;
			*p = h->next;
			break;
		}
	pthread_mutex_unlock(&hooks_lock);
	if (!h)
		return;
	if (last_hook == h)
		last_hook = NULL;
	unw_destroy_addr_space(as);
	vs_eh_table_free(&h->rows_table);
	vs_eh_table_free(&h->vsys_table);
	free(h->ro);
	free(h->page_addr);
	free(h->pages);
	free(h);
}

int vdsoscope_unw_get_stats(unw_addr_space_t as, struct vdsoscope_unw_stats *out)
{
	struct hook *h = hook_of(as);

	if (!h || !out) {
		errno = h ? EINVAL : ENOENT;
		return -1;
	}
	*out = h->stats;
	return 0;
}

int vdsoscope_unw_table(unw_addr_space_t as)
{
	struct hook *h = hook_of(as);

	if (!h) {
		errno = ENOENT;
		return -1;
	}
	return h->code.kind;
}

int vdsoscope_unw_set_table(unw_addr_space_t as, int table)
{
	struct hook *h = hook_of(as);
	struct served keep;
	int rc = 0;

	if (!h) {
		errno = ENOENT;
		return -1;
	}
	if (table != VDSOSCOPE_UNW_TABLE_NONE && table != VDSOSCOPE_UNW_TABLE_IMAGE &&
	    table != VDSOSCOPE_UNW_TABLE_ROWS) {
		errno = EINVAL;
		return -1;
	}
	if (!h->img && table != VDSOSCOPE_UNW_TABLE_NONE) {
		errno = ENODATA;
		return -1;
	}
	keep = h->code;
	if (table == VDSOSCOPE_UNW_TABLE_IMAGE)
		rc = serve_image(h);
	else if (table == VDSOSCOPE_UNW_TABLE_ROWS)
		rc = serve_rows(h);
	else
		h->code.kind = VDSOSCOPE_UNW_TABLE_NONE;
	if (rc) {
		h->code = keep;
		errno = rc == -ENODATA || rc == -ENOMEM || rc == -E2BIG ? -rc : ENOTSUP;
		return -1;
	}
	/* what libunwind cached came from the other table */
	unw_flush_cache(as, 0, 0);
	return 0;
}
