/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VDSOSCOPE_BACKTRACE_H
#define VDSOSCOPE_BACKTRACE_H
/* vdsoscope backtrace ARGS...; ARGV[0] is "backtrace".  Returns the exit
 * status. */
int vdsoscope_cmd_backtrace(int argc, char **argv);
/* Appends --debug-dir DIR to DIRS (*N entries; room for two more): DIR, and
 * before it DIR/.build-id when DIR is a debug root such as /usr/lib/debug. */
void debug_dir_add(const char **dirs, size_t *n, const char *dir);
/* Frees what debug_dir_add() allocated. */
void debug_dirs_free(void);

#ifdef HAVE_LIBUNWIND
#include <libunwind.h>
/* Applies $VDSOSCOPE_UNW_TABLE ("image", "rows", "none": which table the
 * hook of AS gives libunwind for the vDSO's code) when it is set.  0, or -1
 * after a message on stderr. */
int unw_table_from_env(unw_addr_space_t as);
/* "eh_frame_hdr", "rows", "none" for an enum vdsoscope_unw_table. */
const char *unw_table_name(int table);
#endif
#endif
