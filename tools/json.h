/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small streaming JSON writer for the command's --json output. */
#ifndef VDSOSCOPE_JSON_H
#define VDSOSCOPE_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The N bytes at B as lowercase hex into OUT (2N + 1 bytes): build-ids. */
static inline void hex_bytes(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

struct json {
	FILE *f;
	int depth;
	bool first[32];
	bool after_key;
};

void json_init(struct json *j, FILE *f);
void json_obj(struct json *j);       /* { */
void json_obj_end(struct json *j);   /* } */
void json_arr(struct json *j);       /* [ */
void json_arr_end(struct json *j);   /* ] */
void json_key(struct json *j, const char *k);
void json_str(struct json *j, const char *s);
void json_int(struct json *j, long long v);
void json_uint(struct json *j, unsigned long long v);
void json_hex(struct json *j, unsigned long long v); /* "0x..." string */
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* key and value together */
void json_kstr(struct json *j, const char *k, const char *s);
void json_kint(struct json *j, const char *k, long long v);
void json_kuint(struct json *j, const char *k, unsigned long long v);
void json_khex(struct json *j, const char *k, unsigned long long v);
void json_kbool(struct json *j, const char *k, bool v);
#endif
