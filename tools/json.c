/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "json.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
}

static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void open_(struct json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth < 31)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	fputc(c, j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void json_obj(struct json *j) { open_(j, '{'); }
void json_obj_end(struct json *j) { close_(j, '}'); }
void json_arr(struct json *j) { open_(j, '['); }
void json_arr_end(struct json *j) { close_(j, ']'); }

static void raw_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *k)
{
	sep(j);
	raw_str(j->f, k);
	fputc(':', j->f);
	j->after_key = true;
}

void json_str(struct json *j, const char *s) { sep(j); raw_str(j->f, s); }
void json_int(struct json *j, long long v) { sep(j); fprintf(j->f, "%lld", v); }
void json_uint(struct json *j, unsigned long long v) { sep(j); fprintf(j->f, "%llu", v); }
void json_hex(struct json *j, unsigned long long v) { sep(j); fprintf(j->f, "\"0x%llx\"", v); }
void json_bool(struct json *j, bool v) { sep(j); fputs(v ? "true" : "false", j->f); }
void json_null(struct json *j) { sep(j); fputs("null", j->f); }
void json_kstr(struct json *j, const char *k, const char *s) { json_key(j, k); json_str(j, s); }
void json_kint(struct json *j, const char *k, long long v) { json_key(j, k); json_int(j, v); }
void json_kuint(struct json *j, const char *k, unsigned long long v) { json_key(j, k); json_uint(j, v); }
void json_khex(struct json *j, const char *k, unsigned long long v) { json_key(j, k); json_hex(j, v); }
void json_kbool(struct json *j, const char *k, bool v) { json_key(j, k); json_bool(j, v); }
