/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The accessor table for a copied stack and register set.  It has no table
 * to wrap, so it starts from a zeroed one of the size these headers give;
 * the vDSO hooks come from vdsoscope_unw_create_addr_space(). */
#include "config.h"
#include <string.h>
#include "vdsoscope-unwind.h"

static int snap_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			       int need_unwind_info, void *arg)
{
	struct vdsoscope_unw_snapshot *s = arg;

	if (s->find_proc_info)
		return s->find_proc_info(as, ip, pi, need_unwind_info, arg);
	return -UNW_ENOINFO;
}

static void snap_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
}

static int snap_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	return -UNW_ENOINFO;
}

static int snap_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
			   void *arg)
{
	struct vdsoscope_unw_snapshot *s = arg;

	if (write)
		return -UNW_EINVAL;
	if (addr >= s->stack_addr && addr - s->stack_addr <= s->stack_size &&
	    s->stack_size - (addr - s->stack_addr) >= sizeof(*val)) {
		memcpy(val, (const char *)s->stack + (addr - s->stack_addr), sizeof(*val));
		return 0;
	}
	if (s->read && s->read(s->read_arg, addr, val, sizeof(*val)) == 0)
		return 0;
	return -UNW_EINVAL;
}

static int snap_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write,
			   void *arg)
{
	struct vdsoscope_unw_snapshot *s = arg;

	if (reg < 0 || reg >= (int)(sizeof(s->regs) / sizeof(s->regs[0])))
		return -UNW_EBADREG;
	if (write)
		s->regs[reg] = *val;
	else
		*val = s->regs[reg];
	return 0;
}

static int snap_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
			     void *arg)
{
	return -UNW_EBADREG;
}

static int snap_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	return -UNW_EINVAL;
}

static int snap_get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf, size_t len,
			      unw_word_t *off, void *arg)
{
	return -UNW_ENOINFO;
}

unw_addr_space_t vdsoscope_unw_create_snapshot(const struct vdsoscope_image *img)
{
	unw_accessors_t t;

	memset(&t, 0, sizeof(t));
	t.find_proc_info = snap_find_proc_info;
	t.put_unwind_info = snap_put_unwind_info;
	t.get_dyn_info_list_addr = snap_get_dyn_info_list_addr;
	t.access_mem = snap_access_mem;
	t.access_reg = snap_access_reg;
	t.access_fpreg = snap_access_fpreg;
	t.resume = snap_resume;
	t.get_proc_name = snap_get_proc_name;
	return vdsoscope_unw_create_addr_space(&t, img, 0);
}
