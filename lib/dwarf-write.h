/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Numbers as DWARF writes them: LEB128 and fixed-size. */
#ifndef VDSOSCOPE_DWARF_WRITE_H
#define VDSOSCOPE_DWARF_WRITE_H

#include <stdbool.h>
#include <stdint.h>

/* The N low bytes of V into B, most significant first when BIG. */
static inline void vs_put_fixed(uint8_t *b, uint64_t v, unsigned int n, bool big)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (big ? n - 1 - i : i)));
}

/* V as ULEB128 into B (10 bytes at least); returns the number of bytes. */
static inline unsigned int vs_uleb128(uint8_t *b, uint64_t v)
{
	unsigned int n = 0;

	do {
		uint8_t x = v & 0x7f;
		v >>= 7;
		b[n++] = x | (v ? 0x80 : 0);
	} while (v);
	return n;
}

/* V as SLEB128 into B (10 bytes at least); returns the number of bytes. */
static inline unsigned int vs_sleb128(uint8_t *b, int64_t v)
{
	unsigned int n = 0;

	for (;;) {
		uint8_t x = v & 0x7f;
		v >>= 7; /* an arithmetic shift with gcc and clang */
		if ((v == 0 && !(x & 0x40)) || (v == -1 && (x & 0x40))) {
			b[n++] = x;
			return n;
		}
		b[n++] = x | 0x80;
	}
}

#endif
