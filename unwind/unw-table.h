/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside libvdsoscope-unwind: handing libunwind a .eh_frame_hdr table to
 * search itself, the way its own remote unwinding does. */
#ifndef VDSOSCOPE_UNW_TABLE_H
#define VDSOSCOPE_UNW_TABLE_H
#include <string.h>
#include <libunwind.h>
#include "vdsoscope-unwind.h"

/* Exported by libunwind-<arch>.so but declared in no public header
 * (_Ux86_64_dwarf_search_unwind_table on x86_64). */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as, unw_word_t ip,
					       unw_dyn_info_t *di, unw_proc_info_t *pi,
					       int need_unwind_info, void *arg);

/* DI for the code [LO, HI) from the header EH, when its table is the one
 * libunwind reads (datarel|sdata4 pairs, at least one); else -1. */
static inline int vs__unw_table_info(const struct vdsoscope_eh_frame_hdr *eh, uint64_t lo,
				     uint64_t hi, unw_dyn_info_t *di)
{
	if (eh->table_enc != 0x3b || eh->entry_size != 8 || eh->fde_count == 0)
		return -1;
	memset(di, 0, sizeof(*di));
	di->format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di->start_ip = lo;
	di->end_ip = hi;
	di->u.rti.segbase = eh->addr;
	di->u.rti.table_data = eh->table;
	di->u.rti.table_len = eh->fde_count * 8 / sizeof(unw_word_t);
	return 0;
}

#endif
