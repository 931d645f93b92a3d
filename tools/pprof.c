/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --pprof FILE: the unwound samples as a gzip-compressed
 * perftools.profiles.Profile (tools/profile.proto).  Each distinct chain of
 * addresses is one Sample; each address one Location in the Mapping of its
 * module (the vDSO as [vdso] with its build-id), whose Lines are the
 * functions there, the innermost inlined one first.  Every Location is
 * named: pprof does not symbolize [vdso] or anonymous memory. */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "json.h"
#include "profile.h"
#include "tools/profile.pb-c.h"

#define VSYSCALL_LO 0xffffffffff600000ull

/* a hash table of byte strings, each with a number and a pointer */
struct tent {
	void *key;
	size_t len;
	uint64_t id;              /* 1, 2, ... in order of insertion */
	void *data;
};
struct tab {
	struct tent *v;
	size_t n, cap;
	struct tent **order;      /* by id - 1 */
};

struct pmapping {
	uint64_t start, limit, offset;
	int64_t file, build_id;   /* string indexes */
};

struct ploc {
	uint64_t mapping, address;
	size_t nlines;
	uint64_t *funcs;          /* function ids, innermost first */
};

struct psample {
	size_t nlocs;
	uint64_t *locs;           /* leaf first */
	uint64_t count;
};

struct pfunc {
	int64_t name, system_name; /* string indexes */
};

struct pprof {
	struct tab strs, maps, funcs, locs, samples;
	const struct pnames *names;
	int oom;
};

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ *s++) * 1099511628211ull;
	return h;
}

/* The entry of KEY; inserted (KEY copied, data NULL) when new. */
static struct tent *tab_get(struct tab *t, const void *key, size_t len)
{
	size_t h, i;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct tent *v = calloc(cap, sizeof(*v));
		struct tent **o = realloc(t->order, cap * sizeof(*o));
		if (!v || !o) {
			free(v);
			if (o)
				t->order = o;
			return NULL;
		}
		t->order = o;
		for (i = 0; i < t->cap; i++) {
			if (!t->v[i].key)
				continue;
			h = hash_bytes(t->v[i].key, t->v[i].len) & (cap - 1);
			while (v[h].key)
				h = (h + 1) & (cap - 1);
			v[h] = t->v[i];
			t->order[v[h].id - 1] = &v[h];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	h = hash_bytes(key, len) & (t->cap - 1);
	while (t->v[h].key) {
		if (t->v[h].len == len && !memcmp(t->v[h].key, key, len))
			return &t->v[h];
		h = (h + 1) & (t->cap - 1);
	}
	if (!(t->v[h].key = malloc(len ? len : 1)))
		return NULL;
	memcpy(t->v[h].key, key, len);
	t->v[h].len = len;
	t->v[h].id = ++t->n;
	t->v[h].data = NULL;
	t->order[t->n - 1] = &t->v[h];
	return &t->v[h];
}

static void tab_free(struct tab *t, void (*data_free)(void *))
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		if (t->v[i].key) {
			free(t->v[i].key);
			if (data_free)
				data_free(t->v[i].data);
		}
	free(t->v);
	free(t->order);
	memset(t, 0, sizeof(*t));
}

static void loc_free(void *d)
{
	struct ploc *l = d;

	if (l)
		free(l->funcs);
	free(l);
}

static void sample_free(void *d)
{
	struct psample *s = d;

	if (s)
		free(s->locs);
	free(s);
}

/* The index of string S in the string table (0 is ""). */
static int64_t str_id(struct pprof *pp, const char *s)
{
	struct tent *e;

	if (!pp->strs.n && !tab_get(&pp->strs, "", 0))
		return pp->oom = 1, 0;
	if (!(e = tab_get(&pp->strs, s, strlen(s))))
		return pp->oom = 1, 0;
	return (int64_t)e->id - 1;
}

struct pprof *pprof_new(const struct pnames *names)
{
	struct pprof *pp = calloc(1, sizeof(*pp));

	if (pp)
		pp->names = names;
	return pp;
}

void pprof_free(struct pprof *pp)
{
	if (!pp)
		return;
	tab_free(&pp->strs, NULL);
	tab_free(&pp->maps, free);
	tab_free(&pp->funcs, free);
	tab_free(&pp->locs, loc_free);
	tab_free(&pp->samples, sample_free);
	free(pp);
}

static uint64_t mapping_id(struct pprof *pp, const char *file, uint64_t start, uint64_t limit,
			   uint64_t offset, const uint8_t *id, size_t idlen)
{
	char key[4400], hex[129];
	struct pmapping *m;
	struct tent *e;

	if (idlen > 64)
		idlen = 0;
	hex_bytes(hex, id, idlen);
	snprintf(key, sizeof(key), "%" PRIx64 "-%" PRIx64 "@%" PRIx64 " %s %s", start, limit,
		 offset, hex, file);
	if (!(e = tab_get(&pp->maps, key, strlen(key))))
		return pp->oom = 1, 0;
	if (!e->data) {
		if (!(m = calloc(1, sizeof(*m))))
			return pp->oom = 1, 0;
		m->start = start;
		m->limit = limit;
		m->offset = offset;
		m->file = str_id(pp, file);
		m->build_id = str_id(pp, hex);
		e->data = m;
	}
	return e->id;
}

/* The Mapping of frame F of process P, 0 when none is known. */
static uint64_t frame_mapping(struct pprof *pp, struct pproc *p,
			      const struct vdsoscope_frame_info *f)
{
	struct vdsoscope_space_map m;
	const uint8_t *id;
	size_t len, idlen;

	if (f->flags & VDSOSCOPE_FRAME_INFO_VDSO) {
		if (f->pc >= VSYSCALL_LO)
			return mapping_id(pp, "[vsyscall]", VSYSCALL_LO, VSYSCALL_LO + 4096, 0, NULL, 0);
		if (!p->vdso)
			return 0;
		vdsoscope_image_data(p->vdso, &len);
		id = vdsoscope_build_id(p->vdso, &idlen);
		return mapping_id(pp, "[vdso]", vdsoscope_load_address(p->vdso),
				  vdsoscope_load_address(p->vdso) + len, 0, id, id ? idlen : 0);
	}
	if (p->sp && vdsoscope_space_map_at(p->sp, f->pc, &m) == 0)
		return mapping_id(pp, m.path, m.start, m.end, m.pgoff, m.build_id,
				  m.build_id ? m.build_id_len : 0);
	if (f->module && f->module[0] == '[')
		return mapping_id(pp, f->module, 0, 0, 0, NULL, 0);
	return 0;
}

static uint64_t function_id(struct pprof *pp, const char *name)
{
	struct tent *e = tab_get(&pp->funcs, name, strlen(name));
	struct pfunc *f;

	if (!e)
		return pp->oom = 1, 0;
	if (!e->data) {
		if (!(f = malloc(sizeof(*f))))
			return pp->oom = 1, 0;
		f->name = str_id(pp, name);
		f->system_name = str_id(pp, pnames_system_name(pp->names, name));
		e->data = f;
	}
	return e->id;
}

int pprof_add(struct pprof *pp, struct pproc *p, const struct vdsoscope_frame_info *f,
	      unsigned int n)
{
	uint64_t locs[PROFILE_MAX_FRAMES], key[PROFILE_MAX_FRAMES + 3];
	uint64_t funcs[PROFILE_MAX_FRAMES];
	unsigned int i = 0, j, k, nlocs = 0;
	struct psample *s;
	struct tent *e;

	if (n > PROFILE_MAX_FRAMES)
		n = PROFILE_MAX_FRAMES;
	while (i < n) {
		char buf[300];
		struct ploc *l;
		/* f[i..j]: the functions inlined at one address, then the one
		 * holding the code */
		for (j = i; j + 1 < n && (f[j].flags & VDSOSCOPE_FRAME_INFO_INLINED) &&
			    f[j + 1].pc == f[i].pc; j++)
			;
		key[0] = frame_mapping(pp, p, &f[j]);
		key[1] = f[i].pc;
		for (k = i; k <= j; k++) {
			const char *name = f[k].function;
			if (!name) {
				snprintf(buf, sizeof(buf), "[%s]", f[k].module ? f[k].module : "unknown");
				name = buf;
			}
			funcs[k - i] = key[2 + k - i] = function_id(pp, name);
		}
		if (pp->oom || !(e = tab_get(&pp->locs, key, (2 + j - i + 1) * sizeof(key[0]))))
			return pp->oom = 1, -ENOMEM;
		if (!e->data) {
			if (!(l = calloc(1, sizeof(*l))) ||
			    !(l->funcs = malloc((j - i + 1) * sizeof(*l->funcs)))) {
				free(l);
				return pp->oom = 1, -ENOMEM;
			}
			l->mapping = key[0];
			l->address = key[1];
			l->nlines = j - i + 1;
			memcpy(l->funcs, funcs, l->nlines * sizeof(*l->funcs));
			e->data = l;
		}
		locs[nlocs++] = e->id;
		i = j + 1;
	}
	if (!(e = tab_get(&pp->samples, locs, nlocs * sizeof(locs[0]))))
		return pp->oom = 1, -ENOMEM;
	if (!e->data) {
		if (!(s = calloc(1, sizeof(*s))) ||
		    !(s->locs = malloc((nlocs ? nlocs : 1) * sizeof(*s->locs)))) {
			free(s);
			return pp->oom = 1, -ENOMEM;
		}
		s->nlocs = nlocs;
		memcpy(s->locs, locs, nlocs * sizeof(*locs));
		e->data = s;
	}
	((struct psample *)e->data)->count++;
	return 0;
}

static int is_file(const struct pprof *pp, uint64_t mapping)
{
	const struct pmapping *m = pp->maps.order[mapping - 1]->data;

	return pp->strs.order[m->file]->len && ((const char *)pp->strs.order[m->file]->key)[0] != '[';
}

/* The mapping pprof takes for the program (the first): the file holding
 * the outermost frame of the most samples, else the first file; 0 when
 * there is no file. */
static uint64_t main_mapping(const struct pprof *pp)
{
	const struct psample *best = NULL;
	const struct ploc *l;
	size_t i;

	for (i = 0; i < pp->samples.n; i++) {
		const struct psample *s = pp->samples.order[i]->data;
		if (s->nlocs && (!best || s->count > best->count))
			best = s;
	}
	if (best) {
		l = pp->locs.order[best->locs[best->nlocs - 1] - 1]->data;
		if (l->mapping && is_file(pp, l->mapping))
			return l->mapping;
	}
	for (i = 1; i <= pp->maps.n; i++)
		if (is_file(pp, i))
			return i;
	return 0;
}

/* Mapping ids as written: FIRST becomes 1. */
static uint64_t renumber(uint64_t id, uint64_t first)
{
	if (!first || !id || id > first)
		return id;
	return id == first ? 1 : id + 1;
}

/* Packs the profile and writes it to PATH gzip-compressed. */
int pprof_write(struct pprof *pp, const char *path, const struct pprof_meta *meta)
{
	Perftools__Profiles__Profile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt[3] = {
		PERFTOOLS__PROFILES__VALUE_TYPE__INIT, PERFTOOLS__PROFILES__VALUE_TYPE__INIT,
		PERFTOOLS__PROFILES__VALUE_TYPE__INIT,
	};
	Perftools__Profiles__ValueType *vtp[2] = { &vt[0], &vt[1] };
	Perftools__Profiles__Mapping *maps = NULL, **mapp = NULL;
	Perftools__Profiles__Function *funcs = NULL, **funcp = NULL;
	Perftools__Profiles__Location *locs = NULL, **locp = NULL;
	Perftools__Profiles__Line *lines = NULL, **linep = NULL;
	Perftools__Profiles__Sample *samples = NULL, **samplep = NULL;
	int64_t *values = NULL, period;
	char **strs = NULL;
	size_t i, k, nlines = 0, len, nvalues = 2 * pp->samples.n;
	uint8_t *buf = NULL;
	int64_t comment;
	uint64_t first = main_mapping(pp);
	gzFile gz = NULL;
	int rc = -ENOMEM;

	period = meta->frequency ? (int64_t)(1000000000ull / meta->frequency) : 0;
	vt[0].type = str_id(pp, "samples");
	vt[0].unit = str_id(pp, "count");
	vt[1].type = str_id(pp, "cpu");
	vt[1].unit = str_id(pp, "nanoseconds");
	vt[2].type = vt[1].type;
	vt[2].unit = vt[1].unit;
	comment = str_id(pp, meta->comment ? meta->comment : "vdsoscope profile");
	if (pp->oom)
		goto out;
	for (i = 0; i < pp->locs.n; i++)
		nlines += ((struct ploc *)pp->locs.order[i]->data)->nlines;
#define ALLOC(p, n) (p = calloc((n) ? (n) : 1, sizeof(*(p))))
	if (!ALLOC(maps, pp->maps.n) || !ALLOC(mapp, pp->maps.n) || !ALLOC(funcs, pp->funcs.n) ||
	    !ALLOC(funcp, pp->funcs.n) || !ALLOC(locs, pp->locs.n) || !ALLOC(locp, pp->locs.n) ||
	    !ALLOC(lines, nlines) || !ALLOC(linep, nlines) || !ALLOC(samples, pp->samples.n) ||
	    !ALLOC(samplep, pp->samples.n) || !ALLOC(values, nvalues) ||
	    !ALLOC(strs, pp->strs.n))
		goto out;
#undef ALLOC
	for (i = 0; i < pp->maps.n; i++) {
		const struct pmapping *m = pp->maps.order[i]->data;
		perftools__profiles__mapping__init(&maps[i]);
		maps[i].id = renumber(i + 1, first);
		maps[i].memory_start = m->start;
		maps[i].memory_limit = m->limit;
		maps[i].file_offset = m->offset;
		maps[i].filename = m->file;
		maps[i].build_id = m->build_id;
		maps[i].has_functions = 1;
		maps[i].has_inline_frames = 1;
		mapp[maps[i].id - 1] = &maps[i];
	}
	for (i = 0; i < pp->funcs.n; i++) {
		const struct pfunc *f = pp->funcs.order[i]->data;
		perftools__profiles__function__init(&funcs[i]);
		funcs[i].id = i + 1;
		funcs[i].name = f->name;
		funcs[i].system_name = f->system_name;
		funcp[i] = &funcs[i];
	}
	nlines = 0;
	for (i = 0; i < pp->locs.n; i++) {
		const struct ploc *l = pp->locs.order[i]->data;
		perftools__profiles__location__init(&locs[i]);
		locs[i].id = i + 1;
		locs[i].mapping_id = renumber(l->mapping, first);
		locs[i].address = l->address;
		locs[i].n_line = l->nlines;
		locs[i].line = &linep[nlines];
		for (k = 0; k < l->nlines; k++, nlines++) {
			perftools__profiles__line__init(&lines[nlines]);
			lines[nlines].function_id = l->funcs[k];
			linep[nlines] = &lines[nlines];
		}
		locp[i] = &locs[i];
	}
	for (i = 0; i < pp->samples.n; i++) {
		const struct psample *s = pp->samples.order[i]->data;
		perftools__profiles__sample__init(&samples[i]);
		samples[i].n_location_id = s->nlocs;
		samples[i].location_id = s->locs;
		samples[i].n_value = 2;
		samples[i].value = &values[2 * i];
		values[2 * i] = (int64_t)s->count;
		values[2 * i + 1] = (int64_t)s->count * period;
		samplep[i] = &samples[i];
	}
	for (i = 0; i < pp->strs.n; i++) {
		const struct tent *e = pp->strs.order[i];
		if (!(strs[i] = malloc(e->len + 1)))
			goto out;
		memcpy(strs[i], e->key, e->len);
		strs[i][e->len] = 0;
	}
	prof.n_sample_type = 2;
	prof.sample_type = vtp;
	prof.n_sample = pp->samples.n;
	prof.sample = samplep;
	prof.n_mapping = pp->maps.n;
	prof.mapping = mapp;
	prof.n_location = pp->locs.n;
	prof.location = locp;
	prof.n_function = pp->funcs.n;
	prof.function = funcp;
	prof.n_string_table = pp->strs.n;
	prof.string_table = strs;
	prof.time_nanos = meta->time_ns;
	prof.duration_nanos = meta->duration_ns;
	prof.period_type = &vt[2];
	prof.period = period;
	prof.n_comment = 1;
	prof.comment = &comment;
	prof.default_sample_type = vt[1].type;
	len = perftools__profiles__profile__get_packed_size(&prof);
	if (!(buf = malloc(len ? len : 1)))
		goto out;
	perftools__profiles__profile__pack(&prof, buf);
	errno = 0;
	if (!(gz = gzopen(path, "wb"))) {
		rc = errno ? -errno : -ENOMEM;
		goto out;
	}
	if (len && gzwrite(gz, buf, (unsigned int)len) != (int)len) {
		rc = errno ? -errno : -EIO;
		gzclose(gz);
		goto out;
	}
	rc = gzclose(gz) == Z_OK ? 0 : errno ? -errno : -EIO;
out:
	if (strs)
		for (i = 0; i < pp->strs.n; i++)
			free(strs[i]);
	free(strs);
	free(buf);
	free(maps);
	free(mapp);
	free(funcs);
	free(funcp);
	free(locs);
	free(locp);
	free(lines);
	free(linep);
	free(samples);
	free(samplep);
	free(values);
	return rc;
}
