/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libunwind accessor tables that answer for the vDSO and delegate the rest. */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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
};

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

static int hook_get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf, size_t len,
			      unw_word_t *off, void *arg)
{
	struct hook *h = hook_of(as);
	struct vdsoscope_func f;

	if (!h)
		return -UNW_EINVAL;
	if (!h->img || ip < h->lo || ip >= h->hi)
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
	table.find_proc_info = hook_find_proc_info;
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
