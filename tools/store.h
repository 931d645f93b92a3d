/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VDSOSCOPE_TOOL_STORE_H
#define VDSOSCOPE_TOOL_STORE_H
/* "vdsoscope store ...": ARGV[0] is "store".  Returns the exit status. */
int store_main(int argc, char **argv);
#endif
