/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope breakpad: the image as a Breakpad symbol file (docs/symbol_files.md
 * of Breakpad): MODULE, INFO CODE_ID, FILE, FUNC with line records, PUBLIC,
 * and STACK CFI from the compiled rows. */
#include "config.h"
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "breakpad.h"

#define EXIT_FAILED 1

/* The register names Breakpad's stack walkers look up, by DWARF number, as
 * its dump_syms writes them. */
static const char *const x86_64_names[] = {
	"$rax", "$rdx", "$rcx", "$rbx", "$rsi", "$rdi", "$rbp", "$rsp",
	"$r8", "$r9", "$r10", "$r11", "$r12", "$r13", "$r14", "$r15", "$rip",
};
static const char *const x86_names[] = {
	"$eax", "$ecx", "$edx", "$ebx", "$esp", "$ebp", "$esi", "$edi", "$eip",
};
static const char *const arm64_names[] = {
	"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
	"x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23",
	"x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp",
};
static const char *const arm_names[] = {
	"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7",
	"r8", "r9", "r10", "r11", "r12", "sp", "lr", "pc",
};

struct bp_arch {
	int machine;
	const char *name;             /* MODULE's architecture */
	const char *const *regs;      /* NULL: no STACK CFI for it */
	unsigned int nregs;
};

#define REGS(a) a, sizeof(a) / sizeof(a[0])
static const struct bp_arch bp_arches[] = {
	{ EM_X86_64, "x86_64", REGS(x86_64_names) },
	{ EM_386, "x86", REGS(x86_names) },
	{ EM_AARCH64, "arm64", REGS(arm64_names) },
	{ EM_ARM, "arm", REGS(arm_names) },
	{ EM_PPC, "ppc", NULL, 0 },
	{ EM_PPC64, "ppc64", NULL, 0 },
	{ EM_MIPS, "mips", NULL, 0 },
	{ EM_S390, "s390", NULL, 0 },
	{ EM_RISCV, "riscv", NULL, 0 },
	{ EM_SPARCV9, "sparcv9", NULL, 0 },
};

static const struct bp_arch *bp_arch_of(int machine)
{
	static const struct bp_arch unknown = { 0, "unknown", NULL, 0 };
	size_t i;

	for (i = 0; i < sizeof(bp_arches) / sizeof(bp_arches[0]); i++)
		if (bp_arches[i].machine == machine)
			return &bp_arches[i];
	return &unknown;
}

void breakpad_module_id(const uint8_t *id, size_t len, char *out)
{
	uint8_t g[16] = { 0 };
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	int i;

	memcpy(g, id, len < 16 ? len : 16);
	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02X", g[order[i]]);
	strcpy(out + 32, "0");
}

/* ---- rules as postfix expressions ------------------------------------------- */

struct conv {
	const struct vdsoscope_image *img;
	const struct vdsoscope_arch *a;
	const struct bp_arch *arch;
	unsigned int ra_reg;
	int big;
};

static const char *reg_name(const struct conv *c, unsigned int reg)
{
	if (reg == c->ra_reg)
		return ".ra";
	return reg < c->arch->nregs ? c->arch->regs[reg] : NULL;
}

/* the value of a register in the frame itself (for expressions and
 * same-value rules): never ".ra" */
static const char *reg_value(const struct conv *c, unsigned int reg)
{
	return reg < c->arch->nregs ? c->arch->regs[reg] : NULL;
}

static int read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int shift = 0;

	*v = 0;
	while (*p < end) {
		uint8_t b = *(*p)++;
		if (shift < 64)
			*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

static int read_sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	unsigned int shift = 0;
	uint64_t u = 0;
	uint8_t b = 0;

	while (*p < end) {
		b = *(*p)++;
		if (shift < 64)
			u |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				u |= ~0ull << shift;
			*v = (int64_t)u;
			return 0;
		}
	}
	return -1;
}

static int read_fixed(const uint8_t **p, const uint8_t *end, unsigned int n, int big, int sign,
		      uint64_t *v)
{
	unsigned int i;

	if ((size_t)(end - *p) < n)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (uint64_t)(*p)[big ? n - 1 - i : i] << (8 * i);
	if (sign && n < 8 && (*v >> (8 * n - 1) & 1))
		*v |= ~0ull << (8 * n);
	*p += n;
	return 0;
}

/* S, an entry of the postfix stack, as a number */
static bool literal(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || strchr(s, ' '))
		return false;
	errno = 0;
	*v = *s == '-' ? (uint64_t)strtoll(s, &end, 10) : strtoull(s, &end, 10);
	return !errno && !*end;
}

#define PF_DEPTH 8
#define PF_LEN 256

/* The DWARF expression of rule R as a Breakpad postfix expression into OUT
 * (PF_LEN bytes): the value it leaves on top of the stack, with the CFA
 * pushed first when PUSH_CFA.  -1 with *WHY for what cannot be written. */
static int expr_postfix(const struct conv *c, const struct vdsoscope_rule *r, int push_cfa,
			char *out, const char **why)
{
	uint8_t code[512];
	char st[PF_DEPTH][PF_LEN], tmp[PF_LEN];
	const uint8_t *p = code, *end;
	int n = 0, len;

	len = vdsoscope_rule_expr(c->img, r, code, sizeof(code));
	if (len < 0 || (size_t)len > sizeof(code)) {
		*why = "expression cannot be read";
		return -1;
	}
	end = code + len;
	if (push_cfa)
		strcpy(st[n++], ".cfa");
	while (p < end) {
		uint8_t op = *p++;
		const char *bin = NULL, *name;
		uint64_t u;
		int64_t s;
		int w;

		if (op >= 0x30 && op <= 0x4f) {                 /* DW_OP_lit0..31 */
			if (n == PF_DEPTH)
				goto deep;
			snprintf(st[n++], PF_LEN, "%u", op - 0x30);
			continue;
		}
		if ((op >= 0x70 && op <= 0x8f) || op == 0x92) {  /* DW_OP_breg0..31, bregx */
			if (op == 0x92) {
				if (read_uleb(&p, end, &u))
					goto bad;
			} else {
				u = op - 0x70;
			}
			if (read_sleb(&p, end, &s))
				goto bad;
			if (u > 0xffff || !(name = reg_value(c, (unsigned int)u))) {
				*why = "expression reads a register Breakpad does not name";
				return -1;
			}
			if (n == PF_DEPTH)
				goto deep;
			snprintf(st[n++], PF_LEN, "%s %" PRId64 " +", name, s);
			continue;
		}
		switch (op) {
		case 0x08: case 0x09: case 0x0a: case 0x0b:      /* DW_OP_const1u..const2s */
		case 0x0c: case 0x0d: case 0x0e: case 0x0f:      /* DW_OP_const4u..const8s */
			if (read_fixed(&p, end, 1u << ((op - 0x08) / 2), c->big, op & 1, &u))
				goto bad;
			if (n == PF_DEPTH)
				goto deep;
			if (op & 1)
				snprintf(st[n++], PF_LEN, "%" PRId64, (int64_t)u);
			else
				snprintf(st[n++], PF_LEN, "%" PRIu64, u);
			continue;
		case 0x10:                                       /* DW_OP_constu */
			if (read_uleb(&p, end, &u))
				goto bad;
			if (n == PF_DEPTH)
				goto deep;
			snprintf(st[n++], PF_LEN, "%" PRIu64, u);
			continue;
		case 0x11:                                       /* DW_OP_consts */
			if (read_sleb(&p, end, &s))
				goto bad;
			if (n == PF_DEPTH)
				goto deep;
			snprintf(st[n++], PF_LEN, "%" PRId64, s);
			continue;
		case 0x9c:                                       /* DW_OP_call_frame_cfa */
			if (!push_cfa) {
				*why = "CFA rule refers to the CFA";
				return -1;
			}
			if (n == PF_DEPTH)
				goto deep;
			strcpy(st[n++], ".cfa");
			continue;
		case 0x96:                                       /* DW_OP_nop */
			continue;
		case 0x12:                                       /* DW_OP_dup */
			if (n < 1)
				goto bad;
			if (n == PF_DEPTH)
				goto deep;
			memcpy(st[n], st[n - 1], PF_LEN);
			n++;
			continue;
		case 0x13:                                       /* DW_OP_drop */
			if (n < 1)
				goto bad;
			n--;
			continue;
		case 0x14:                                       /* DW_OP_over */
			if (n < 2)
				goto bad;
			if (n == PF_DEPTH)
				goto deep;
			memcpy(st[n], st[n - 2], PF_LEN);
			n++;
			continue;
		case 0x16:                                       /* DW_OP_swap */
			if (n < 2)
				goto bad;
			memcpy(tmp, st[n - 1], PF_LEN);
			memcpy(st[n - 1], st[n - 2], PF_LEN);
			memcpy(st[n - 2], tmp, PF_LEN);
			continue;
		case 0x06:                                       /* DW_OP_deref */
			if (n < 1)
				goto bad;
			w = snprintf(tmp, PF_LEN, "%s ^", st[n - 1]);
			if (w >= PF_LEN)
				goto deep;
			memcpy(st[n - 1], tmp, PF_LEN);
			continue;
		case 0x23:                                       /* DW_OP_plus_uconst */
			if (read_uleb(&p, end, &u) || n < 1)
				goto bad;
			w = snprintf(tmp, PF_LEN, "%s %" PRIu64 " +", st[n - 1], u);
			if (w >= PF_LEN)
				goto deep;
			memcpy(st[n - 1], tmp, PF_LEN);
			continue;
		case 0x1a:                                       /* DW_OP_and */
			/* with a mask -2^k: alignment down, Breakpad's "@" */
			if (n < 2)
				goto bad;
			if (!literal(st[n - 1], &u) || !u || ((-u) & (-u - 1))) {
				*why = "expression uses an operation Breakpad's postfix language lacks";
				return -1;
			}
			w = snprintf(tmp, PF_LEN, "%s %" PRIu64 " @", st[n - 2], -u);
			if (w >= PF_LEN)
				goto deep;
			memcpy(st[n - 2], tmp, PF_LEN);
			n--;
			continue;
		case 0x22: bin = "+"; break;                     /* DW_OP_plus */
		case 0x1c: bin = "-"; break;                     /* DW_OP_minus */
		case 0x1e: bin = "*"; break;                     /* DW_OP_mul */
		}
		if (!bin) {
			*why = "expression uses an operation Breakpad's postfix language lacks";
			return -1;
		}
		if (n < 2)
			goto bad;
		w = snprintf(tmp, PF_LEN, "%s %s %s", st[n - 2], st[n - 1], bin);
		if (w >= PF_LEN)
			goto deep;
		memcpy(st[n - 2], tmp, PF_LEN);
		n--;
	}
	if (n < 1)
		goto bad;
	memcpy(out, st[n - 1], PF_LEN);
	return 0;
bad:
	*why = "expression is malformed";
	return -1;
deep:
	*why = "expression is too large";
	return -1;
}

/* Rule R of register REG (-1: the CFA) as postfix into OUT (PF_LEN bytes). */
static int rule_postfix(const struct conv *c, const struct vdsoscope_rule *r, int reg, char *out,
			const char **why)
{
	const char *name;
	char e[PF_LEN];

	switch (r->kind) {
	case VDSOSCOPE_RULE_CFA_REG_OFFSET:
		if (!(name = reg_value(c, r->reg))) {
			*why = "CFA is based on a register Breakpad does not name";
			return -1;
		}
		snprintf(out, PF_LEN, "%s %" PRId64 " +", name, r->off);
		return 0;
	case VDSOSCOPE_RULE_CFA_EXPRESSION:
		return expr_postfix(c, r, 0, out, why);
	case VDSOSCOPE_RULE_OFFSET:
		snprintf(out, PF_LEN, ".cfa %" PRId64 " + ^", r->off);
		return 0;
	case VDSOSCOPE_RULE_VAL_OFFSET:
		snprintf(out, PF_LEN, ".cfa %" PRId64 " +", r->off);
		return 0;
	case VDSOSCOPE_RULE_REGISTER:
		if (!(name = reg_value(c, r->reg))) {
			*why = "value is in a register Breakpad does not name";
			return -1;
		}
		snprintf(out, PF_LEN, "%s", name);
		return 0;
	case VDSOSCOPE_RULE_SAME:
		if (reg < 0 || !(name = reg_value(c, (unsigned int)reg))) {
			*why = "register Breakpad does not name";
			return -1;
		}
		snprintf(out, PF_LEN, "%s", name);
		return 0;
	case VDSOSCOPE_RULE_EXPRESSION:
		if (expr_postfix(c, r, 1, e, why))
			return -1;
		if (snprintf(out, PF_LEN, "%s ^", e) >= PF_LEN) {
			*why = "expression is too large";
			return -1;
		}
		return 0;
	case VDSOSCOPE_RULE_VAL_EXPRESSION:
		return expr_postfix(c, r, 1, out, why);
	case VDSOSCOPE_RULE_UNDEFINED:
		*why = "STACK CFI has no rule for an undefined register";
		return -1;
	}
	*why = "unknown rule";
	return -1;
}

/* ---- the file ------------------------------------------------------------------ */

struct skipped {
	size_t rules, rows;
	uint64_t first_addr;
	char first[160];
};

static void skip_note(struct skipped *k, uint64_t addr, const char *what, const char *why)
{
	if (!k->rules && !k->rows) {
		k->first_addr = addr;
		snprintf(k->first, sizeof(k->first), "%s: %s", what, why);
	}
}

/* the rules of one row, by name index: [0] .cfa, [1 + reg] registers */
struct row_text {
	unsigned int n;
	char (*t)[PF_LEN];
	bool *has;
};

static int row_text_init(struct row_text *rt, unsigned int nregs)
{
	rt->n = nregs + 1;
	rt->t = calloc(rt->n, sizeof(*rt->t));
	rt->has = calloc(rt->n, sizeof(*rt->has));
	return rt->t && rt->has ? 0 : -1;
}

static void row_text_free(struct row_text *rt)
{
	free(rt->t);
	free(rt->has);
}

/* The rules of row R into RT; -1 (the row is left out) when its CFA or
 * return address cannot be written. */
static int row_rules(const struct conv *c, const struct vdsoscope_row *r, uint64_t load,
		     struct row_text *rt, struct skipped *k)
{
	const char *why;
	unsigned int i;
	char what[48];

	memset(rt->has, 0, rt->n * sizeof(*rt->has));
	if (rule_postfix(c, &r->cfa, -1, rt->t[0], &why)) {
		skip_note(k, r->start - load, "row's CFA", why);
		return -1;
	}
	rt->has[0] = true;
	for (i = 0; i + 1 < rt->n; i++) {
		const struct vdsoscope_rule *g = i < r->nregs ? &r->regs[i] : NULL;
		if (!g || g->kind == VDSOSCOPE_RULE_UNSPECIFIED) {
			/* a return address left in its register (aarch64's x30,
			 * arm's lr) */
			if (i == c->ra_reg && reg_value(c, i)) {
				snprintf(rt->t[1 + i], PF_LEN, "%s", reg_value(c, i));
				rt->has[1 + i] = true;
			}
			continue;
		}
		if (!reg_name(c, i))
			why = "register Breakpad does not name";
		else if (!rule_postfix(c, g, (int)i, rt->t[1 + i], &why)) {
			rt->has[1 + i] = true;
			continue;
		}
		if (i == c->ra_reg) {
			skip_note(k, r->start - load, "row's return address", why);
			return -1;
		}
		snprintf(what, sizeof(what), "rule of %s", reg_name(c, i) ? reg_name(c, i) : "a register");
		skip_note(k, r->start - load, what, why);
		k->rules++;
	}
	/* rules of registers past the arch's table */
	for (i = rt->n - 1; i < r->nregs; i++)
		if (r->regs[i].kind != VDSOSCOPE_RULE_UNSPECIFIED) {
			skip_note(k, r->start - load, "register rule", "register Breakpad does not name");
			k->rules++;
		}
	if (!rt->has[1 + c->ra_reg]) {
		skip_note(k, r->start - load, "row", "no rule for the return address");
		return -1;
	}
	return 0;
}

static bool callee_saved(const struct conv *c, unsigned int reg)
{
	return reg < VDSOSCOPE_MAX_REGS && reg != c->ra_reg && reg != c->a->sp_reg &&
	       (c->a->callee_saved[reg / 64] >> (reg % 64) & 1);
}

/* Writes to F (when not NULL) the rules of RT that differ from PREV's (all
 * of them without PREV); returns how many. */
static int put_rules(FILE *f, const struct conv *c, const struct row_text *rt,
		     const struct row_text *prev)
{
	unsigned int i;
	int n = 0;

	if (!prev || strcmp(rt->t[0], prev->t[0])) {
		if (f)
			fprintf(f, " .cfa: %s", rt->t[0]);
		n++;
	}
	if (!prev || !prev->has[1 + c->ra_reg] || strcmp(rt->t[1 + c->ra_reg], prev->t[1 + c->ra_reg])) {
		if (f)
			fprintf(f, " .ra: %s", rt->t[1 + c->ra_reg]);
		n++;
	}
	for (i = 0; i + 1 < rt->n; i++) {
		/* restored: the caller's value is the frame's again */
		if (prev && prev->has[1 + i] && !rt->has[1 + i]) {
			if (f)
				fprintf(f, " %s: %s", reg_name(c, i), reg_value(c, i));
			n++;
		}
		if (i == c->ra_reg || !rt->has[1 + i])
			continue;
		if (!prev || !prev->has[1 + i] || strcmp(rt->t[1 + i], prev->t[1 + i])) {
			if (f)
				fprintf(f, " %s: %s", reg_name(c, i), rt->t[1 + i]);
			n++;
		}
	}
	return n;
}

/* STACK CFI INIT for each run of contiguous rows of one FDE (or derived
 * function), then STACK CFI with what changed.  A callee-saved register
 * whose rule ends inside the run (the epilogue's restore) gets its own value
 * back ("$rbx: $rbx"); any other register losing its rule starts a new INIT,
 * which resets every register to its default. */
static int put_stack_cfi(FILE *f, const struct vdsoscope_image *img, const struct bp_arch *ba,
			 struct skipped *k)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);
	size_t i, j, m, n = vdsoscope_cfi_count(img);
	uint64_t load = vdsoscope_load_address(img);
	struct conv c = { img, a, ba, a ? a->ra_reg : 0, vdsoscope_big_endian(img) };
	struct vdsoscope_row *rows = NULL;
	struct row_text *rt = NULL;
	bool *ok = NULL;
	int rc = -1;

	if (!n)
		return 0;
	if (!ba->regs || !a) {
		k->rows = n;
		snprintf(k->first, sizeof(k->first), "Breakpad has no CFI register names for %s",
			 ba->name);
		return 0;
	}
	rows = calloc(n, sizeof(*rows));
	rt = calloc(n, sizeof(*rt));
	ok = calloc(n, sizeof(*ok));
	if (!rows || !rt || !ok)
		goto out;
	for (i = 0; i < n; i++) {
		if (row_text_init(&rt[i], ba->nregs))
			goto out;
		ok[i] = !vdsoscope_cfi_get(img, i, &rows[i]) &&
			!row_rules(&c, &rows[i], load, &rt[i], k);
		if (!ok[i])
			k->rows++;
	}
	for (i = 0; i < n; i = j) {
		if (!ok[i]) {
			j = i + 1;
			continue;
		}
		/* the run: rows that follow on, in the same FDE, each keeping
		 * every register that has a rule */
		for (j = i + 1; j < n && ok[j]; j++) {
			unsigned int q;
			int lost = 0;
			if (rows[j].start != rows[j - 1].end || rows[j].fde_start != rows[i].fde_start ||
			    rows[j].synthesized != rows[i].synthesized)
				break;
			for (q = 0; q < rt[j].n; q++)
				lost |= rt[j - 1].has[q] && !rt[j].has[q] &&
					(q == 0 || !callee_saved(&c, q - 1));
			if (lost)
				break;
		}
		fprintf(f, "STACK CFI INIT %" PRIx64 " %" PRIx64, rows[i].start - load,
			rows[j - 1].end - rows[i].start);
		put_rules(f, &c, &rt[i], NULL);
		fputc('\n', f);
		for (m = i + 1; m < j; m++) {
			/* rows that differ in what Breakpad does not see (aarch64's
			 * signed return address) */
			if (!put_rules(NULL, &c, &rt[m], &rt[m - 1]))
				continue;
			fprintf(f, "STACK CFI %" PRIx64, rows[m].start - load);
			put_rules(f, &c, &rt[m], &rt[m - 1]);
			fputc('\n', f);
		}
	}
	rc = 0;
out:
	for (i = 0; rt && i < n; i++)
		row_text_free(&rt[i]);
	free(rt);
	free(rows);
	free(ok);
	return rc;
}

struct line_rec {
	uint64_t start, size;
	int line;
	size_t file;
};

static int put_funcs(FILE *f, const struct vdsoscope_image *img)
{
	size_t i, nf = vdsoscope_func_count(img), nfiles = 0, nlines = 0, cap = 0, fcap = 0;
	uint64_t load = vdsoscope_load_address(img);
	bool debug = vdsoscope_debug_file(img) != NULL;
	const char **files = NULL;
	struct line_rec *lines = NULL;
	size_t *first_line = NULL;
	int rc = -1;

	if (!(first_line = calloc(nf + 1, sizeof(*first_line))))
		return -1;
	/* source lines, byte by byte, merged where file and line stay */
	for (i = 0; i < nf; i++) {
		struct vdsoscope_func fn;
		uint64_t a;

		first_line[i] = nlines;
		if (!debug || vdsoscope_func_get(img, i, &fn))
			continue;
		for (a = fn.start; a < fn.end; a++) {
			const char *file;
			int line;
			size_t x;

			if (vdsoscope_addr_line(img, a, &file, &line) || !file)
				continue;
			for (x = 0; x < nfiles; x++)
				if (!strcmp(files[x], file))
					break;
			if (x == nfiles) {
				if (nfiles == fcap) {
					const char **nfp;
					fcap = fcap ? 2 * fcap : 16;
					if (!(nfp = realloc(files, fcap * sizeof(*files))))
						goto out;
					files = nfp;
				}
				files[nfiles++] = file;
			}
			if (nlines > first_line[i] && lines[nlines - 1].file == x &&
			    lines[nlines - 1].line == line &&
			    lines[nlines - 1].start + lines[nlines - 1].size == a) {
				lines[nlines - 1].size++;
				continue;
			}
			if (nlines == cap) {
				struct line_rec *nl;
				cap = cap ? 2 * cap : 256;
				if (!(nl = realloc(lines, cap * sizeof(*lines))))
					goto out;
				lines = nl;
			}
			lines[nlines++] = (struct line_rec){ a, 1, line, x };
		}
	}
	first_line[nf] = nlines;
	for (i = 0; i < nfiles; i++)
		fprintf(f, "FILE %zu %s\n", i, files[i]);
	for (i = 0; i < nf; i++) {
		struct vdsoscope_func fn;
		size_t l;

		if (vdsoscope_func_get(img, i, &fn))
			continue;
		if (debug || (fn.flags & (VDSOSCOPE_FUNC_FROM_CFI | VDSOSCOPE_FUNC_SIZED))) {
			fprintf(f, "FUNC %s%" PRIx64 " %" PRIx64 " 0 %s\n", fn.nnames > 1 ? "m " : "",
				fn.start - load, fn.end - fn.start, fn.names[0].name);
			for (l = first_line[i]; l < first_line[i + 1]; l++)
				fprintf(f, "%" PRIx64 " %" PRIx64 " %d %zu\n", lines[l].start - load,
					lines[l].size, lines[l].line, lines[l].file);
		}
	}
	for (i = 0; i < nf; i++) {
		struct vdsoscope_func fn;

		if (vdsoscope_func_get(img, i, &fn) || (fn.flags & VDSOSCOPE_FUNC_FROM_CFI))
			continue;
		fprintf(f, "PUBLIC %s%" PRIx64 " 0 %s\n", fn.nnames > 1 ? "m " : "", fn.start - load,
			fn.names[0].name);
	}
	rc = 0;
out:
	free(files);
	free(lines);
	free(first_line);
	return rc;
}

static int mkdir_p(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0755) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

/* DIR/NAME/ID/NAME.sym, written whole to a temporary file and renamed */
static int write_sym(const char *dir, const char *name, const char *id, const char *text,
		     size_t len)
{
	size_t plen = strlen(dir) + 2 * strlen(name) + strlen(id) + 32;
	char *path = malloc(plen), *tmp = malloc(plen + 16);
	FILE *f = NULL;
	int fd, rc = -1;
	struct stat st;

	if (!path || !tmp)
		goto out;
	snprintf(path, plen, "%s/%s/%s", dir, name, id);
	if (mkdir_p(path) || stat(path, &st) || !S_ISDIR(st.st_mode)) {
		if (!errno)
			errno = ENOTDIR;
		fprintf(stderr, "vdsoscope: %s: cannot create the directory: %s\n", path,
			strerror(errno));
		goto out;
	}
	snprintf(tmp, plen + 16, "%s/.%s.sym.XXXXXX", path, name);
	snprintf(path + strlen(path), plen - strlen(path), "/%s.sym", name);
	if ((fd = mkstemp(tmp)) < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "vdsoscope: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (fchmod(fd, 0644) || fwrite(text, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "vdsoscope: writing %s: %s\n", tmp, strerror(errno));
		f = NULL;
		unlink(tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path)) {
		fprintf(stderr, "vdsoscope: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	printf("%s\n", path);
	rc = 0;
out:
	if (f)
		fclose(f);
	free(path);
	free(tmp);
	return rc;
}

/* TEXT (LEN bytes, its MODULE line without the name) as NAME's file */
static int write_named(const char *dir, const char *name, const char *mid, const char *text,
		       size_t len)
{
	const char *nl = strchr(text, '\n');
	size_t head = (size_t)(nl - text), nlen = strlen(name);
	char *one;
	int rc;

	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		fprintf(stderr, "vdsoscope: soname '%s' cannot name a file\n", name);
		return EXIT_FAILED;
	}
	if (!(one = malloc(len + nlen + 1))) {
		fprintf(stderr, "vdsoscope: %s\n", strerror(ENOMEM));
		return EXIT_FAILED;
	}
	memcpy(one, text, head);
	memcpy(one + head, name, nlen);
	memcpy(one + head + nlen, nl, len - head);
	rc = write_sym(dir, name, mid, one, len + nlen) ? EXIT_FAILED : 0;
	free(one);
	return rc;
}

int breakpad_write(const struct vdsoscope_image *img, const char *dir)
{
	const struct bp_arch *ba = bp_arch_of(vdsoscope_machine(img));
	const char *names[2] = { "linux-gate.so", vdsoscope_soname(img) };
	size_t idlen, len = 0, i;
	const uint8_t *id = vdsoscope_build_id(img, &idlen);
	struct skipped k = { 0 };
	char mid[34], *text = NULL;
	FILE *f;
	int rc = EXIT_FAILED;

	if (!id || !idlen) {
		fprintf(stderr, "vdsoscope: %s: the image has no build-id note, from which Breakpad "
			"names modules\n", vdsoscope_image_source(img));
		return EXIT_FAILED;
	}
	breakpad_module_id(id, idlen, mid);
	if (!(f = open_memstream(&text, &len))) {
		fprintf(stderr, "vdsoscope: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	/* the name is filled in per file */
	fprintf(f, "MODULE Linux %s %s ", ba->name, mid);
	fputs("\nINFO CODE_ID ", f);
	for (i = 0; i < idlen; i++)
		fprintf(f, "%02X", id[i]);
	fputc('\n', f);
	if (put_funcs(f, img) || put_stack_cfi(f, img, ba, &k)) {
		fclose(f);
		free(text);
		fprintf(stderr, "vdsoscope: %s\n", strerror(ENOMEM));
		return EXIT_FAILED;
	}
	if (fclose(f)) {
		free(text);
		fprintf(stderr, "vdsoscope: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	if (k.rules || k.rows)
		fprintf(stderr, "vdsoscope: %s: STACK CFI leaves out %zu row%s and %zu register "
			"rule%s that Breakpad cannot express; first at +0x%" PRIx64 ", %s\n",
			vdsoscope_image_source(img), k.rows, k.rows == 1 ? "" : "s", k.rules,
			k.rules == 1 ? "" : "s", k.first_addr, k.first);
	rc = 0;
	for (i = 0; i < 2 && !rc; i++)
		if (*names[i] && !(i == 1 && !strcmp(names[1], names[0])))
			rc = write_named(dir, names[i], mid, text, len);
	free(text);
	return rc;
}
