/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VDSOSCOPE_TOOL_BREAKPAD_H
#define VDSOSCOPE_TOOL_BREAKPAD_H
#include "vdsoscope.h"

/* Writes IMG's Breakpad symbol file into the symbol-store layout under DIR
 * (created as needed): DIR/NAME/ID/NAME.sym for NAME "linux-gate.so" (what
 * Breakpad's Linux client calls the vDSO) and the image's soname (what
 * Crashpad calls it), ID the module id both clients compute from the
 * build-id.  Prints the files written on stdout and, on stderr, what of the
 * CFI rows STACK CFI cannot express.  Returns the exit status. */
int breakpad_write(const struct vdsoscope_image *img, const char *dir);

/* The Breakpad module id of build-id ID (LEN bytes) into OUT (34 bytes):
 * the first 16 bytes, zero-padded, as a GUID whose first three fields are
 * little-endian, then age 0; upper-case hex. */
void breakpad_module_id(const uint8_t *id, size_t len, char *out);
#endif
