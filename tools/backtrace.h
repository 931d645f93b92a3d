/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VDSOSCOPE_BACKTRACE_H
#define VDSOSCOPE_BACKTRACE_H
/* vdsoscope backtrace ARGS...; ARGV[0] is "backtrace".  Returns the exit
 * status. */
int vdsoscope_cmd_backtrace(int argc, char **argv);
#endif
