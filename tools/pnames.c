/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names a profile prints: C++ and Rust symbols demangled (libiberty's
 * cplus_demangle, as c++filt), and code in anonymous executable memory
 * named from the JIT's /tmp/perf-PID.map, as perf does. */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef HAVE_LIBIBERTY
#include <libiberty/demangle.h>
#endif
#include "profile.h"

/* one line of a perf map: START SIZE NAME (hex) */
struct jent {
	uint64_t start, size;
	size_t line;
	char *name;
};

struct jmap {
	pid_t pid;
	struct jent *v;           /* by start, then line */
	size_t n;
	off_t size;               /* of the file when read; -1: none */
	char **old;               /* names of earlier readings, still referenced */
	size_t nold;
};

struct dent {
	const char *raw;          /* the key: a name as the unwinder gave it */
	const char *out;          /* demangled, or RAW */
};

/* names by pointer */
struct dtab {
	struct dent *v;
	size_t n, cap;
};

struct pnames {
	int demangle;
	struct dtab d;            /* raw -> demangled */
	struct dtab rev;          /* demangled -> raw */
	struct jmap *maps;
	size_t nmaps;
};

struct pnames *pnames_new(int demangle)
{
	struct pnames *pn = calloc(1, sizeof(*pn));

	if (pn)
		pn->demangle = demangle;
	return pn;
}

static void jmap_clear(struct jmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

void pnames_free(struct pnames *pn)
{
	size_t i, k;

	if (!pn)
		return;
	for (i = 0; i < pn->d.cap; i++)
		if (pn->d.v[i].raw && pn->d.v[i].out != pn->d.v[i].raw)
			free((char *)pn->d.v[i].out);
	free(pn->d.v);
	free(pn->rev.v);
	for (i = 0; i < pn->nmaps; i++) {
		jmap_clear(&pn->maps[i]);
		for (k = 0; k < pn->maps[i].nold; k++)
			free(pn->maps[i].old[k]);
		free(pn->maps[i].old);
	}
	free(pn->maps);
	free(pn);
}

int pnames_can_demangle(void)
{
#ifdef HAVE_LIBIBERTY
	return 1;
#else
	return 0;
#endif
}

/* ---- demangling --------------------------------------------------------------- */

static size_t ptr_hash(const void *p, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 20) & (cap - 1);
}

/* The slot of KEY in T: its entry, or the empty one to fill; NULL when
 * out of memory. */
static struct dent *dtab_slot(struct dtab *t, const char *key)
{
	size_t h, i;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct dent *v = calloc(cap, sizeof(*v));
		if (!v)
			return NULL;
		for (i = 0; i < t->cap; i++) {
			if (!t->v[i].raw)
				continue;
			h = ptr_hash(t->v[i].raw, cap);
			while (v[h].raw)
				h = (h + 1) & (cap - 1);
			v[h] = t->v[i];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	h = ptr_hash(key, t->cap);
	while (t->v[h].raw && t->v[h].raw != key)
		h = (h + 1) & (t->cap - 1);
	return &t->v[h];
}

static const char *demangled(struct pnames *pn, const char *raw)
{
	struct dent *e, *r;
	char *out = NULL;

	if (!pn->demangle || !raw || raw[0] != '_' || (raw[1] != 'Z' && raw[1] != 'R'))
		return raw;
	if (!(e = dtab_slot(&pn->d, raw)))
		return raw;
	if (e->raw)
		return e->out;
#ifdef HAVE_LIBIBERTY
	out = cplus_demangle(raw, DMGL_PARAMS | DMGL_ANSI | DMGL_VERBOSE);
#endif
	if (out && !(r = dtab_slot(&pn->rev, out))) {
		free(out);
		out = NULL;
	} else if (out) {
		r->raw = out;
		r->out = raw;
		pn->rev.n++;
	}
	e->raw = raw;
	e->out = out ? out : raw;
	pn->d.n++;
	return e->out;
}

const char *pnames_system_name(const struct pnames *pn, const char *name)
{
	size_t h;

	if (!pn || !name || !pn->rev.cap)
		return name;
	h = ptr_hash(name, pn->rev.cap);
	while (pn->rev.v[h].raw) {
		if (pn->rev.v[h].raw == name)
			return pn->rev.v[h].out;
		h = (h + 1) & (pn->rev.cap - 1);
	}
	return name;
}

/* ---- perf maps ------------------------------------------------------------------ */

static int jent_cmp(const void *a, const void *b)
{
	const struct jent *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Reads /tmp/perf-PID.map into M (again, when it grew).  Names already
 * handed out stay valid until pnames_free(). */
static void jmap_read(struct jmap *m)
{
	char path[64], *line = NULL;
	size_t cap = 0, nline = 0, i;
	struct jent *v = NULL;
	size_t n = 0, vcap = 0;
	struct stat st;
	ssize_t got;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)m->pid);
	if (!(f = fopen(path, "re"))) {
		m->size = -1;
		return;
	}
	m->size = fstat(fileno(f), &st) == 0 ? st.st_size : -1;
	while ((got = getline(&line, &cap, f)) > 0) {
		unsigned long long start, size;
		int off = 0;
		nline++;
		if (line[got - 1] == '\n')
			line[--got] = 0;
		if (sscanf(line, "%llx %llx %n", &start, &size, &off) != 2 || !off || !line[off] ||
		    !size)
			continue;
		if (n == vcap) {
			struct jent *nv = realloc(v, (vcap = vcap ? 2 * vcap : 256) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		if (!(v[n].name = strdup(line + off)))
			break;
		v[n].start = start;
		v[n].size = size;
		v[n].line = nline;
		n++;
	}
	free(line);
	fclose(f);
	qsort(v, n, sizeof(*v), jent_cmp);
	/* keep the names of the reading before: frames point at them */
	if (m->n) {
		char **old = realloc(m->old, (m->nold + m->n) * sizeof(*old));
		if (old) {
			m->old = old;
			for (i = 0; i < m->n; i++) {
				old[m->nold++] = m->v[i].name;
				m->v[i].name = NULL;
			}
		}
	}
	jmap_clear(m);
	m->v = v;
	m->n = n;
}

/* The entry holding PC written last, or NULL. */
static const char *jmap_find(const struct jmap *m, uint64_t pc)
{
	size_t lo = 0, hi = m->n, i, steps;
	const struct jent *best = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* code regions are reused: of the entries that hold PC, the last line */
	for (i = lo, steps = 0; i-- > 0 && steps < 256; steps++) {
		const struct jent *e = &m->v[i];
		if (pc - e->start < e->size && (!best || e->line > best->line))
			best = e;
	}
	return best ? best->name : NULL;
}

static const char *jit_name(struct pnames *pn, pid_t pid, uint64_t pc)
{
	struct jmap *m = NULL;
	const char *name;
	struct stat st;
	char path[64];
	size_t i;

	for (i = 0; i < pn->nmaps; i++)
		if (pn->maps[i].pid == pid)
			m = &pn->maps[i];
	if (!m) {
		struct jmap *v = realloc(pn->maps, (pn->nmaps + 1) * sizeof(*v));
		if (!v)
			return NULL;
		pn->maps = v;
		m = &v[pn->nmaps++];
		memset(m, 0, sizeof(*m));
		m->pid = pid;
		jmap_read(m);
	}
	if ((name = jmap_find(m, pc)))
		return name;
	/* code compiled since: the file grew */
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)pid);
	if (stat(path, &st) == 0 && st.st_size != m->size) {
		jmap_read(m);
		return jmap_find(m, pc);
	}
	return NULL;
}

void pnames_frames(struct pnames *pn, pid_t pid, struct vdsoscope_frame_info *f, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!f[i].function && f[i].module && !strcmp(f[i].module, "[anonymous]"))
			f[i].function = jit_name(pn, pid, f[i].pc);
		else
			f[i].function = demangled(pn, f[i].function);
	}
}
