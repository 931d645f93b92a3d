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

/* Exported by libunwind-<arch>.so but declared in no public header. */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
					      unw_dyn_info_t *di, unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

struct hook {
	struct hook *next;
	unw_addr_space_t as;
	unw_accessors_t inner;  /* the wrapped table, as copied */
	const struct vdsoscope_image *img;
	uint64_t lo, hi;        /* the image's runtime range */
	uint64_t text_lo, text_hi;
	const unsigned char *bytes;
	int have_table;
	unw_dyn_info_t di;
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
 * x86_64's legacy vsyscall page has no ELF and no CFI, but every entry is
 * "mov $nr, %rax; syscall; ret": CFA = RSP + 8, return address at CFA - 8.
 * libunwind is given that as a one-FDE .eh_frame_hdr/.eh_frame served by
 * access_mem from just above the page, in kernel address space, where no
 * user memory can be.
 */
#define VSYSCALL_LO 0xffffffffff600000ull
#define VSYSCALL_HI 0xffffffffff601000ull
#define VSYS_TABLE VSYSCALL_HI
static const unsigned char vsys_blob[] = {
	/* .eh_frame_hdr: version, eh_frame_ptr pcrel|sdata4, fde_count
	 * udata4, table datarel|sdata4 */
	1, 0x1b, 0x03, 0x3b,
	20, 0, 0, 0,                 /* .eh_frame at hdr + 4 + 20 = hdr + 24 */
	1, 0, 0, 0,                  /* one FDE */
	0x00, 0xf0, 0xff, 0xff,      /* starts at hdr - 0x1000: the page */
	48, 0, 0, 0,                 /* FDE at hdr + 48 */
	0, 0, 0, 0,
	/* CIE at +24: length 20, id 0, version 1, "zR", code 1, data -8,
	 * RA column 16, aug size 1, FDE pointers absolute; DW_CFA_def_cfa
	 * rsp 8; DW_CFA_offset rip, cfa-8; two nops */
	20, 0, 0, 0, 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x00,
	0x0c, 7, 8, 0x90, 1, 0, 0,
	/* FDE at +48: length 24, CIE 28 bytes back, the page, no
	 * augmentation data, three nops */
	24, 0, 0, 0, 28, 0, 0, 0,
	0x00, 0x00, 0x60, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x00, 0x10, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0,
	/* terminator */
	0, 0, 0, 0,
};

static int is_x86_64_vsyscall(const struct hook *h, unw_word_t ip)
{
	return h->img && ip >= VSYSCALL_LO && ip < VSYSCALL_HI;
}

static int hook_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			       int need_unwind_info, void *arg)
{
	struct hook *h = hook_of(as);

	if (!h)
		return -UNW_EINVAL;
	if (!in_text(h, ip)) {
		h->stats.proc_info_delegated++;
		return h->inner.find_proc_info ? h->inner.find_proc_info(as, ip, pi, need_unwind_info, arg)
					       : -UNW_ENOINFO;
	}
	h->stats.proc_info_image++;
	if (!h->have_table)
		return -UNW_ENOINFO;
	return _Ux86_64_dwarf_search_unwind_table(as, ip, &h->di, pi, need_unwind_info, arg);
}

static int hook_find_proc_info_all(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
				   int need_unwind_info, void *arg)
{
	struct hook *h = hook_of(as);

	if (h && is_x86_64_vsyscall(h, ip)) {
		unw_dyn_info_t di;

		memset(&di, 0, sizeof(di));
		di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
		di.start_ip = VSYSCALL_LO;
		di.end_ip = VSYSCALL_HI;
		di.u.rti.segbase = VSYS_TABLE;
		di.u.rti.table_data = VSYS_TABLE + 12;
		di.u.rti.table_len = 8 / sizeof(unw_word_t);
		h->stats.proc_info_image++;
		return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
	}
	return hook_find_proc_info(as, ip, pi, need_unwind_info, arg);
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
	if (!write && h->img && addr >= VSYS_TABLE && addr < VSYS_TABLE + sizeof(vsys_blob)) {
		size_t o = (size_t)(addr - VSYS_TABLE), n = sizeof(vsys_blob) - o;
		*val = 0;
		memcpy(val, vsys_blob + o, n < sizeof(*val) ? n : sizeof(*val));
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
static void setup_table(struct hook *h)
{
	struct vdsoscope_eh_frame_hdr eh;

	if (vdsoscope_eh_frame_hdr(h->img, &eh) || eh.table_enc != 0x3b || eh.entry_size != 8 ||
	    eh.fde_count == 0)
		return;
	memset(&h->di, 0, sizeof(h->di));
	h->di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	h->di.start_ip = h->text_lo;
	h->di.end_ip = h->text_hi;
	h->di.u.rti.name_ptr = 0;
	h->di.u.rti.segbase = eh.addr;
	h->di.u.rti.table_data = eh.table;
	h->di.u.rti.table_len = eh.fde_count * 8 / sizeof(unw_word_t);
	h->have_table = 1;
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
		setup_table(h);
	}
	table = *wrapped;
	table.find_proc_info = hook_find_proc_info_all;
	table.get_proc_name = hook_get_proc_name;
	table.access_mem = hook_access_mem;
	h->as = unw_create_addr_space(&table, byteorder);
	if (!h->as) {
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

int vdsoscope_unw_cache_pid(unw_addr_space_t as, pid_t pid)
{
	struct hook *h = hook_of(as);
	char path[64], line[4352];
	FILE *f;

	if (!h) {
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
		v = realloc(h->ro, (h->nro + 1) * sizeof(*v));
		if (!v) {
			fclose(f);
			return -1;
		}
		h->ro = v;
		h->ro[h->nro][0] = lo;
		h->ro[h->nro][1] = hi;
		h->nro++;
	}
	fclose(f);
	/* the pages themselves are touched only when filled */
	if (!h->pages && (!(h->page_addr = calloc(CACHE_PAGES, sizeof(*h->page_addr))) ||
			  !(h->pages = malloc(CACHE_PAGES * sizeof(*h->pages)))))
		return -1;
	h->pid = pid;
	return 0;
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
