/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* perf.data files (tools/perf/Documentation/perf.data-file-format.txt in
 * the kernel tree): a header (magic "PERFILE2", its own size, the size of
 * one attribute entry, the attrs, data and event_types sections as u64
 * offset and size, a 256-bit map of feature sections), the attribute
 * entries (struct perf_event_attr, then the section of its ids), the data
 * section of records that start with struct perf_event_header, and after
 * the data one section descriptor per feature bit set.  HEADER_BUILD_ID's
 * section is a run of build_id_event records: header, pid, 24 bytes of
 * build-id, a file name.
 *
 * Every offset and size in the file is checked against the bytes there;
 * the records are indexed once and replayed in time order, since perf
 * writes each CPU's buffer as it comes. */
#include "config.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "json.h"
#include "perf-data.h"

#define PD_MAGIC 0x32454c4946524550ull          /* "PERFILE2" */
#define PD_MAGIC1 0x454c494652455050ull         /* "PERFFILE", format 1 */
#define PD_HEADER 104
#define PD_PIPE_HEADER 16
#define PD_FEAT_BUILD_ID 2
#define PD_FEAT_OSRELEASE 4
#define PD_FEAT_ARCH 6
#define PD_FEAT_BITS 256
#define PD_MAX_ATTRS 4096
#define PD_MAX_ATTR_SIZE 4096
#define PD_BUILD_ID_SIZE 20
#define PD_MISC_BUILD_ID_SIZE (1 << 15)
/* mappings held for all processes at once, and handed to the profile's
 * processes in all (each process made again when its code mappings
 * changed keeps its own list): bounds on what a file can make us keep */
#define PD_MAX_MAPS (4u << 20)
#define PD_MAX_BUILT (8u << 20)
/* code mappings of one process (each MMAP record is checked against them) */
#define PD_MAX_PROC_MAPS 4096
/* perf's own record types */
#define PD_AUXTRACE 71
#define PD_COMPRESSED 81

struct pd_attr {
	uint64_t type, read_format, regs_mask;
	int hw_index;             /* branch stacks carry hw_idx */
	int id_all;               /* other records end in sample_id */
	size_t trailer;           /* bytes of that sample_id */
	long time_at;             /* offset of its time in it, -1: none */
};

struct pd_bid {                   /* one HEADER_BUILD_ID entry */
	const char *name;
	const uint8_t *id;
	size_t len;
};

struct pd_proc {
	pid_t pid;
	int cls;                  /* of the pproc made of it, 0: none yet */
	int dirty;                /* maps changed since */
	long pidx;                /* that pproc's index in the session */
	struct vdsoscope_space_map *maps;
	size_t n, cap;
	uint64_t vstart, vend;    /* its [vdso] mapping, 0: none */
	const uint8_t *vid;       /* the build-id its MMAP2 gave, or NULL */
	size_t vidlen;
	unsigned int said;        /* classes whose missing vDSO was noted, 1: too
				   * many mappings */
};

struct pd_img {                   /* a vDSO image looked for by build-id */
	uint8_t id[64];
	size_t len;
	struct vdsoscope_image *img; /* NULL: not found */
	int said;                 /* its absence was noted */
};

struct pd_ev {
	uint64_t time, off;
};

struct pd {
	struct psession *s;
	const char *name;
	const unsigned char *base;
	size_t size;
	const struct perf_data_opts *o;
	const struct replay_cb *cb;
	struct pd_attr attr;
	struct pd_bid *bids;
	size_t nbids;
	struct pd_proc *procs;    /* sorted by pid */
	size_t nprocs;
	struct pd_img *imgs;
	size_t nimgs;
	struct vdsoscope_image *self, *self32;
	int self_tried, self32_tried, said32;
	size_t nmaps;             /* map entries held, of PD_MAX_MAPS */
	size_t built;             /* map entries handed over, of PD_MAX_BUILT */
	const char *osrelease;    /* HEADER_OSRELEASE, or NULL */
	char cache[4096];
};

static int pd_err(struct pd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pd_err(struct pd *d, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(d->s->err, sizeof(d->s->err), "perf data %s: %s", d->name, what);
	return -1;
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Whether [OFF, OFF + LEN) lies in the file. */
static int in_file(const struct pd *d, uint64_t off, uint64_t len)
{
	return off <= d->size && len <= d->size - off;
}

/* ---- header ----------------------------------------------------------------------- */

static int read_attrs(struct pd *d, uint64_t attr_size, uint64_t off, uint64_t size)
{
	uint64_t n, i;

	if (attr_size < 16 + PERF_ATTR_SIZE_VER0 || attr_size > PD_MAX_ATTR_SIZE)
		return pd_err(d, "attribute entries of %llu bytes", (unsigned long long)attr_size);
	if (!in_file(d, off, size))
		return pd_err(d, "truncated: the attributes (%llu bytes at %llu) end past the file "
			      "(%zu bytes)", (unsigned long long)size, (unsigned long long)off,
			      d->size);
	n = size / attr_size;
	if (n == 0 || size % attr_size || n > PD_MAX_ATTRS)
		return pd_err(d, "the attribute section holds %llu bytes, not a whole number of "
			      "entries of %llu", (unsigned long long)size,
			      (unsigned long long)attr_size);
	for (i = 0; i < n; i++) {
		struct perf_event_attr a;
		struct pd_attr pa;
		size_t have = (size_t)attr_size - 16;
		memset(&a, 0, sizeof(a));
		memcpy(&a, d->base + off + i * attr_size, have < sizeof(a) ? have : sizeof(a));
		memset(&pa, 0, sizeof(pa));
		pa.type = a.sample_type;
		pa.read_format = a.read_format;
		pa.regs_mask = a.sample_regs_user;
		pa.hw_index = (a.branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX) != 0;
		pa.id_all = a.sample_id_all;
		pa.time_at = -1;
		if (pa.id_all) {
			if (pa.type & PERF_SAMPLE_TID)
				pa.trailer += 8;
			if (pa.type & PERF_SAMPLE_TIME) {
				pa.time_at = (long)pa.trailer;
				pa.trailer += 8;
			}
			pa.trailer += 8 * (!!(pa.type & PERF_SAMPLE_ID) +
					   !!(pa.type & PERF_SAMPLE_STREAM_ID) +
					   !!(pa.type & PERF_SAMPLE_CPU) +
					   !!(pa.type & PERF_SAMPLE_IDENTIFIER));
		}
		if (i == 0) {
			d->attr = pa;
		} else if (pa.type != d->attr.type || pa.read_format != d->attr.read_format ||
			   pa.regs_mask != d->attr.regs_mask || pa.hw_index != d->attr.hw_index ||
			   pa.id_all != d->attr.id_all) {
			return pd_err(d, "events %llu and 0 lay their samples out differently "
				      "(sample_type 0x%llx, 0x%llx); record one event",
				      (unsigned long long)i, (unsigned long long)pa.type,
				      (unsigned long long)d->attr.type);
		}
	}
	if ((d->attr.type & (PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER)) !=
	    (PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER) || !d->attr.regs_mask)
		return pd_err(d, "the samples carry no %s (sample_type 0x%llx): record with "
			      "`perf record --call-graph dwarf`",
			      !(d->attr.type & PERF_SAMPLE_REGS_USER) || !d->attr.regs_mask
				      ? "user registers" : "stack copies",
			      (unsigned long long)d->attr.type);
	if (__builtin_popcountll(d->attr.regs_mask) > 64 - 2)
		return pd_err(d, "register mask 0x%llx", (unsigned long long)d->attr.regs_mask);
	return 0;
}

static int cmp_map(const void *a, const void *b)
{
	const struct vdsoscope_space_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_bid(const void *a, const void *b)
{
	return strcmp(((const struct pd_bid *)a)->name, ((const struct pd_bid *)b)->name);
}

/* HEADER_BUILD_ID's entries, sorted by file name. */
static int read_build_ids(struct pd *d, uint64_t off, uint64_t size)
{
	const unsigned char *p, *end;
	size_t cap = 0;

	if (!in_file(d, off, size))
		return pd_err(d, "truncated: the build-id section ends past the file");
	p = d->base + off;
	end = p + size;
	while ((size_t)(end - p) >= 8) {
		struct perf_event_header h;
		const char *name;
		size_t namelen;
		memcpy(&h, p, sizeof(h));
		if (h.size < 8 + 4 + 24 + 1 || h.size > (size_t)(end - p))
			return pd_err(d, "a build-id entry of %u bytes at offset %llu", h.size,
				      (unsigned long long)(off + (uint64_t)(p - d->base - off)));
		name = (const char *)p + 36;
		namelen = h.size - 36;
		if (memchr(name, 0, namelen)) {
			if (d->nbids == cap) {
				void *v;
				cap = cap ? cap * 2 : 16;
				if (!(v = realloc(d->bids, cap * sizeof(*d->bids))))
					return pd_err(d, "out of memory");
				d->bids = v;
			}
			d->bids[d->nbids].name = name;
			d->bids[d->nbids].id = p + 12;
			d->bids[d->nbids].len = h.misc & PD_MISC_BUILD_ID_SIZE ? p[12 + 20]
									      : PD_BUILD_ID_SIZE;
			if (d->bids[d->nbids].len > PD_BUILD_ID_SIZE)
				d->bids[d->nbids].len = PD_BUILD_ID_SIZE;
			d->nbids++;
		}
		p += h.size;
	}
	if (d->nbids)
		qsort(d->bids, d->nbids, sizeof(*d->bids), cmp_bid);
	return 0;
}

static const struct pd_bid *bid_by_name(const struct pd *d, const char *name)
{
	struct pd_bid key = { .name = name };

	if (!d->nbids)
		return NULL;
	return bsearch(&key, d->bids, d->nbids, sizeof(*d->bids), cmp_bid);
}

/* A perf_header_string section: u32 length, then the NUL-terminated
 * string; NULL when it is not one. */
static const char *feat_string(const struct pd *d, uint64_t off, uint64_t size)
{
	uint32_t len;

	if (size < 5 || !in_file(d, off, size))
		return NULL;
	len = rd32(d->base + off);
	if (len == 0 || len > size - 4 || !memchr(d->base + off + 4, 0, len))
		return NULL;
	return (const char *)d->base + off + 4;
}

static int read_header(struct pd *d, uint64_t *data_off, uint64_t *data_size)
{
	const unsigned char *h = d->base;
	uint64_t magic, hsize, attr_size, feat_off;
	unsigned int bit, k = 0;

	if (d->size < 16)
		return pd_err(d, "%zu bytes: not a perf.data file", d->size);
	magic = rd64(h);
	hsize = rd64(h + 8);
	if (magic == __builtin_bswap64(PD_MAGIC))
		return pd_err(d, "recorded on a machine of the other byte order; not supported");
	if (magic == PD_MAGIC1)
		return pd_err(d, "perf.data format 1 (magic PERFFILE); not supported");
	if (magic != PD_MAGIC)
		return pd_err(d, "not a perf.data file (no PERFILE2 magic)");
	if (hsize == PD_PIPE_HEADER)
		return pd_err(d, "a pipe-mode recording (perf record -o -), not supported; record "
			      "to a file (perf record -o FILE)");
	if (hsize < PD_HEADER || hsize > d->size)
		return pd_err(d, "%s: the header claims %llu bytes, the file has %zu",
			      hsize > d->size ? "truncated" : "not a perf.data file",
			      (unsigned long long)hsize, d->size);
	attr_size = rd64(h + 16);
	*data_off = rd64(h + 40);
	*data_size = rd64(h + 48);
	if (read_attrs(d, attr_size, rd64(h + 24), rd64(h + 32)))
		return -1;
	if (!in_file(d, *data_off, *data_size))
		return pd_err(d, "truncated: the data section (%llu bytes at %llu) ends past the file "
			      "(%zu bytes)", (unsigned long long)*data_size,
			      (unsigned long long)*data_off, d->size);
	feat_off = *data_off + *data_size;
	for (bit = 1; bit < PD_FEAT_BITS; bit++) {
		uint64_t off, size;
		if (!(h[72 + bit / 8] >> (bit % 8) & 1))
			continue;
		if (!in_file(d, feat_off + 16ull * k, 16))
			return pd_err(d, "truncated: the feature sections' table ends past the file");
		off = rd64(d->base + feat_off + 16ull * k);
		size = rd64(d->base + feat_off + 16ull * k + 8);
		k++;
		if (bit == PD_FEAT_BUILD_ID && read_build_ids(d, off, size))
			return -1;
		if (bit == PD_FEAT_OSRELEASE)
			d->osrelease = feat_string(d, off, size);
		if (bit == PD_FEAT_ARCH) {
			const char *arch = feat_string(d, off, size);
#if defined(__aarch64__)
			if (arch && strcmp(arch, "aarch64"))
				return pd_err(d, "recorded on %s; this build reads aarch64 recordings",
					      arch);
#else
			if (arch && strcmp(arch, "x86_64"))
				return pd_err(d, "recorded on %s; this build reads x86_64 recordings",
					      arch);
#endif
		}
	}
	return 0;
}

/* ---- processes ------------------------------------------------------------------- */

static struct pd_proc *proc_get(struct pd *d, pid_t pid, int make)
{
	size_t lo = 0, hi = d->nprocs;
	struct pd_proc *p;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->procs[mid].pid == pid)
			return &d->procs[mid];
		if (d->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!make)
		return NULL;
	if (d->nprocs % 64 == 0) {
		void *v = realloc(d->procs, (d->nprocs + 64) * sizeof(*d->procs));
		if (!v)
			return NULL;
		d->procs = v;
	}
	memmove(&d->procs[lo + 1], &d->procs[lo], (d->nprocs - lo) * sizeof(*d->procs));
	d->nprocs++;
	p = &d->procs[lo];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->pidx = -1;
	return p;
}

static int map_push(struct pd *d, struct pd_proc *p, const struct vdsoscope_space_map *m)
{
	if (d->nmaps >= PD_MAX_MAPS)
		return pd_err(d, "more than %u mappings of code held at once", PD_MAX_MAPS);
	if (p->n >= PD_MAX_PROC_MAPS) {
		if (d->o->notes && !(p->said & 1u))
			fprintf(d->o->notes, "vdsoscope: perf data %s: pid %d: more than %u "
				"mappings of code; later ones are left out\n", d->name, (int)p->pid,
				PD_MAX_PROC_MAPS);
		p->said |= 1u;
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		void *v = realloc(p->maps, cap * sizeof(*p->maps));
		if (!v)
			return -1;
		p->maps = v;
		p->cap = cap;
	}
	p->maps[p->n++] = *m;
	d->nmaps++;
	return 0;
}

static void maps_clear(struct pd *d, struct pd_proc *p)
{
	d->nmaps -= p->n;
	p->n = 0;
}

/* A mapping of [START, END) replaces what was there. */
static int punch(struct pd *d, struct pd_proc *p, uint64_t start, uint64_t end)
{
	size_t i = 0;

	if (p->vstart < end && start < p->vend)
		p->vstart = p->vend = 0;
	while (i < p->n) {
		struct vdsoscope_space_map *m = &p->maps[i];
		if (m->end <= start || m->start >= end) {
			i++;
			continue;
		}
		p->dirty = 1;
		if (m->start < start && m->end > end) {
			struct vdsoscope_space_map r = *m;
			r.pgoff += end - m->start;
			r.start = end;
			m->end = start;
			if (map_push(d, p, &r))
				return -1;
			i++;
		} else if (m->start < start) {
			m->end = start;
			i++;
		} else if (m->end > end) {
			m->pgoff += end - m->start;
			m->start = end;
			i++;
		} else {
			*m = p->maps[--p->n];
			d->nmaps--;
		}
	}
	return 0;
}

/* MMAP and MMAP2 records. */
static int on_mmap(struct pd *d, const unsigned char *r, size_t size, int two)
{
	const struct perf_event_header *h = (const void *)r;
	size_t fixed = two ? 8 + 8 + 24 + 24 + 8 : 8 + 8 + 24, namelen;
	struct vdsoscope_space_map m;
	const uint8_t *id = NULL;
	size_t idlen = 0;
	uint32_t pid, prot = 0;
	uint64_t addr, len;
	const char *name;
	struct pd_proc *p;
	int exec;

	if (size < fixed + d->attr.trailer + 1)
		return 0;
	pid = rd32(r + 8);
	addr = rd64(r + 16);
	len = rd64(r + 24);
	name = (const char *)r + fixed;
	namelen = size - fixed - d->attr.trailer;
	if (!memchr(name, 0, namelen) || (int32_t)pid < 0 || !len || addr + len < addr)
		return 0;
	if (two) {
		prot = rd32(r + 64);
		exec = (prot & 4) != 0;
		if (h->misc & PERF_RECORD_MISC_MMAP_BUILD_ID && r[40] && r[40] <= 20) {
			id = r + 44;
			idlen = r[40];
		}
	} else {
		exec = !(h->misc & PERF_RECORD_MISC_MMAP_DATA);
	}
	if ((h->misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL)
		return 0;
	if (!(p = proc_get(d, (pid_t)pid, 1)))
		return pd_err(d, "out of memory");
	if (punch(d, p, addr, addr + len))
		return d->s->err[0] ? -1 : pd_err(d, "out of memory");
	if (!exec)
		return 0;
	p->dirty = 1;
	if (!strcmp(name, "[vdso]")) {
		p->vstart = addr;
		p->vend = addr + len;
		p->vid = id;
		p->vidlen = idlen;
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.start = addr;
	m.end = addr + len;
	m.pgoff = rd64(r + 32);
	if (name[0] == '/') {
		const struct pd_bid *b = id ? NULL : bid_by_name(d, name);
		m.path = name;
		m.build_id = id ? id : b ? b->id : NULL;
		m.build_id_len = id ? idlen : b ? b->len : 0;
	}
	if (map_push(d, p, &m))
		return d->s->err[0] ? -1 : pd_err(d, "out of memory");
	return 0;
}

static int on_fork(struct pd *d, const unsigned char *r, size_t size)
{
	uint32_t pid, ppid;
	struct pd_proc *c, *p;
	size_t i;

	if (size < 8 + 24)
		return 0;
	pid = rd32(r + 8);
	ppid = rd32(r + 12);
	if (pid == ppid || (int32_t)pid < 0 || (int32_t)ppid < 0)
		return 0;
	if (!(c = proc_get(d, (pid_t)pid, 1)))
		return pd_err(d, "out of memory");
	maps_clear(d, c);
	c->vstart = c->vend = 0;
	c->dirty = 1;
	if (!(p = proc_get(d, (pid_t)ppid, 0)))
		return 0;
	c = proc_get(d, (pid_t)pid, 0);
	for (i = 0; i < p->n; i++)
		if (map_push(d, c, &p->maps[i]))
			return d->s->err[0] ? -1 : pd_err(d, "out of memory");
	c->vstart = p->vstart;
	c->vend = p->vend;
	c->vid = p->vid;
	c->vidlen = p->vidlen;
	return 0;
}

static int on_comm(struct pd *d, const unsigned char *r, size_t size)
{
	const struct perf_event_header *h = (const void *)r;
	struct pd_proc *p;

	if (size < 16 || !(h->misc & PERF_RECORD_MISC_COMM_EXEC) || (int32_t)rd32(r + 8) < 0)
		return 0;
	if (!(p = proc_get(d, (pid_t)rd32(r + 8), 1)))
		return pd_err(d, "out of memory");
	maps_clear(d, p);
	p->vstart = p->vend = 0;
	p->vid = NULL;
	p->dirty = 1;
	return 0;
}

/* ---- vDSO images ------------------------------------------------------------------ */

int perf_data_cache_dir(const struct perf_data_opts *o, char *buf, size_t len)
{
	const char *dir = o->buildid_dir, *home;
	int n;

	if (!dir && !(dir = getenv("PERF_BUILDID_DIR"))) {
		if (!(home = getenv("HOME")) || !*home)
			return -1;
		n = snprintf(buf, len, "%s/.debug", home);
	} else {
		n = snprintf(buf, len, "%s", dir);
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static const char *perf_cache(struct pd *d)
{
	if (!d->cache[0] && perf_data_cache_dir(d->o, d->cache, sizeof(d->cache)))
		d->cache[0] = 0;
	return d->cache[0] ? d->cache : NULL;
}

static int same_id(const struct vdsoscope_image *img, const uint8_t *id, size_t len)
{
	size_t l;
	const uint8_t *v = vdsoscope_build_id(img, &l);

	return v && l == len && !memcmp(v, id, len);
}

/* The image of build-id ID: perf's cache, this process's own vDSO, then
 * the store, debug directories and debuginfod. */
static struct vdsoscope_image *find_image(struct pd *d, const uint8_t *id, size_t len)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG, .store_dir = d->o->store,
		       .debug_dirs = d->o->debug_dirs);
	static const char *const where[] = { "[vdso]/%s/vdso", "[vdso32]/%s/vdso",
					     "[vdsox32]/%s/vdso", ".build-id/%.2s/%s",
					     ".build-id/%.2s/%s/vdso" };
	struct vdsoscope_image *img = NULL;
	const char *cache = perf_cache(d);
	char h[129], rel[300], path[4600];
	struct pd_img *c;
	size_t i;

	for (i = 0; i < d->nimgs; i++)
		if (d->imgs[i].len == len && !memcmp(d->imgs[i].id, id, len))
			return d->imgs[i].img;
	if (d->nimgs % 16 == 0) {
		void *v = realloc(d->imgs, (d->nimgs + 16) * sizeof(*d->imgs));
		if (!v)
			return NULL;
		d->imgs = v;
	}
	hex_bytes(h, id, len);
	for (i = 0; cache && i < sizeof(where) / sizeof(where[0]) && !img; i++) {
		if (i < 3)
			snprintf(rel, sizeof(rel), where[i], h);
		else
			snprintf(rel, sizeof(rel), where[i], h, h + 2);
		snprintf(path, sizeof(path), "%s/%s", cache, rel);
		if (vdsoscope_open_file(&img, path, &opts) == 0 && !same_id(img, id, len)) {
			vdsoscope_image_close(img);
			img = NULL;
		}
	}
	if (!img && d->o->self) {
		if (!d->self_tried) {
			d->self_tried = 1;
			if (vdsoscope_open_self(&d->self, &opts))
				d->self = NULL;
		}
		if (d->self && same_id(d->self, id, len)) {
			const void *bytes;
			size_t n;
			bytes = vdsoscope_image_data(d->self, &n);
			if (vdsoscope_open_buffer(&img, bytes, n, &opts))
				img = NULL;
		}
	}
	if (!img && vdsoscope_open_build_id(&img, id, len, &opts))
		img = NULL;
	c = &d->imgs[d->nimgs++];
	memcpy(c->id, id, len);
	c->len = len;
	c->img = img;
	c->said = 0;
	return img;
}

/* This kernel's i386 vDSO: the one of a 32-bit helper process. */
static struct vdsoscope_image *own_vdso32(struct pd *d)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG);
	const char *helper = d->o->helper32;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	char line[64];
	size_t got = 0;
	pid_t pid = -1;

	if (d->self32_tried)
		return d->self32;
	d->self32_tried = 1;
	if (!helper || pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		goto out;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(127);
		execl(helper, helper, "wait", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (pid < 0)
		goto out;
	while (got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
		ssize_t n = read(out[0], line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	line[got] = 0;
	if (!strncmp(line, "ready", 5) && vdsoscope_open_pid(&d->self32, pid, &opts))
		d->self32 = NULL;
out:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return d->self32;
}

/* Whether the recording was made on this kernel: its x86_64 vDSO is ours
 * and, where it says, the release too. */
static int this_kernel(struct pd *d)
{
	const struct pd_bid *b = bid_by_name(d, "[vdso]");
	struct utsname u;

	if (!b || !d->o->self || (d->osrelease && (uname(&u) || strcmp(u.release, d->osrelease))))
		return 0;
	if (!d->self_tried) {
		VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG);
		d->self_tried = 1;
		if (vdsoscope_open_self(&d->self, &opts))
			d->self = NULL;
	}
	return d->self && same_id(d->self, b->id, b->len);
}

static int fits(const struct vdsoscope_image *img, int cls)
{
	int m;

	if (!img || vdsoscope_elf_class(img) != cls)
		return 0;
	m = vdsoscope_machine(img);
	return cls == 64 ? m == EM_X86_64 : m == EM_386;
}

/* The vDSO of P when its code is of class CLS: the build-id its MMAP2
 * gave, else what HEADER_BUILD_ID names "[vdso32]" or "[vdso]" (perf
 * gives one name per kind), of the class CLS. */
static struct vdsoscope_image *proc_vdso(struct pd *d, struct pd_proc *p, int cls)
{
	const char *names[] = { cls == 32 ? "[vdso32]" : "[vdso]", cls == 32 ? "[vdso]" : "[vdso32]",
				"[vdsox32]" };
	const uint8_t *missing = NULL, *other = NULL;
	size_t i, mlen = 0, olen = 0;
	struct vdsoscope_image *img;
	char h[129];

	if (!p->vstart)
		return NULL;
	if (p->vid) {
		if (fits(img = find_image(d, p->vid, p->vidlen), cls))
			return img;
		if (img) {
			other = p->vid;
			olen = p->vidlen;
		} else {
			missing = p->vid;
			mlen = p->vidlen;
		}
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct pd_bid *b = bid_by_name(d, names[i]);
		if (!b)
			continue;
		if (fits(img = find_image(d, b->id, b->len), cls))
			return img;
		if (img && !other) {
			other = b->id;
			olen = b->len;
		} else if (!img && !missing) {
			missing = b->id;
			mlen = b->len;
		}
	}
	if (cls == 32 && !missing && this_kernel(d) && fits(img = own_vdso32(d), 32)) {
		if (d->o->notes && !d->said32) {
			d->said32 = 1;
			fprintf(d->o->notes,
				"vdsoscope: perf data %s: the recording names no i386 vDSO; its "
				"x86_64 vDSO is this kernel's, so i386 processes get this kernel's "
				"i386 vDSO (build-id %s)\n",
				d->name, vdsoscope_build_id_hex(img));
		}
		return img;
	}
	if (!d->o->notes || p->said & (unsigned int)cls)
		return NULL;
	p->said |= (unsigned int)cls;
	if (missing) {
		const char *cache = perf_cache(d);
		char store[4096];
		for (i = 0; i < d->nimgs; i++)
			if (d->imgs[i].len == mlen && !memcmp(d->imgs[i].id, missing, mlen))
				break;
		if (i < d->nimgs && d->imgs[i].said)
			return NULL;
		if (i < d->nimgs)
			d->imgs[i].said = 1;
		if (vdsoscope_store_dir(d->o->store, store, sizeof(store)))
			snprintf(store, sizeof(store), "(none)");
		hex_bytes(h, missing, mlen);
		fprintf(d->o->notes,
			"vdsoscope: perf data %s: no vDSO image of build-id %s (%s, first pid %d): "
			"not in perf's cache %s, the store %s, the debug directories%s; its vDSO "
			"frames are not unwound: add the image to the store (`vdsoscope store add "
			"--file IMAGE`, or --build-id %s where it is known; --store DIR for "
			"another store)\n",
			d->name, h, cls == 64 ? "x86_64" : "i386", (int)p->pid,
			cache ? cache : "(none: $HOME unset)", store,
			getenv("DEBUGINFOD_URLS") ? ", debuginfod" : "", h);
	} else if (other) {
		hex_bytes(h, other, olen);
		fprintf(d->o->notes,
			"vdsoscope: perf data %s: pid %d (%s): the recording names no %s vDSO (build-id "
			"%s is another kind's); its vDSO frames are not unwound\n",
			d->name, (int)p->pid, cls == 64 ? "x86_64" : "i386",
			cls == 64 ? "x86_64" : "i386", h);
	} else {
		fprintf(d->o->notes,
			"vdsoscope: perf data %s: pid %d (%s): the recording has no build-id for its "
			"vDSO; its vDSO frames are not unwound\n",
			d->name, (int)p->pid, cls == 64 ? "x86_64" : "i386");
	}
	return NULL;
}

/* ---- samples ---------------------------------------------------------------------- */

static int read_format_size(uint64_t rf, const unsigned char *q, const unsigned char *end,
			    size_t *out)
{
	size_t one = 8 * (1 + !!(rf & PERF_FORMAT_ID) + !!(rf & PERF_FORMAT_LOST));
	size_t head = 8 * (!!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
			   !!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING));
	uint64_t nr;

	if (!(rf & PERF_FORMAT_GROUP)) {
		*out = one + head;
		return 0;
	}
	if ((size_t)(end - q) < 8)
		return -1;
	nr = rd64(q);
	if (nr > (size_t)(end - q) / one)
		return -1;
	*out = 8 + head + (size_t)nr * one;
	return 0;
}

/* 0, or -1 when the recording makes us keep too much. */
static int on_sample(struct pd *d, const unsigned char *r, size_t size)
{
	const unsigned char *q = r + 8, *end = r + size, *stack;
	uint64_t t = d->attr.type, time = 0, abi, vals[64], ssize, dyn = 0, sp;
	unsigned int nregs = (unsigned int)__builtin_popcountll(d->attr.regs_mask);
	uint32_t pid = 0, tid = 0;
	struct vdsoscope_regs regs;
	struct pd_proc *p;
	struct pproc *pp;
	size_t skip;
	int cls;

#define NEED(n) do { if ((size_t)(end - q) < (n)) goto bad; } while (0)
#define SKIP(n) do { NEED(n); q += (n); } while (0)
	if (t & PERF_SAMPLE_IDENTIFIER)
		SKIP(8);
	if (t & PERF_SAMPLE_IP)
		SKIP(8);
	if (t & PERF_SAMPLE_TID) {
		NEED(8);
		pid = rd32(q);
		tid = rd32(q + 4);
		q += 8;
	}
	if (t & PERF_SAMPLE_TIME) {
		NEED(8);
		time = rd64(q);
		q += 8;
	}
	SKIP(8 * (size_t)(!!(t & PERF_SAMPLE_ADDR) + !!(t & PERF_SAMPLE_ID) +
			  !!(t & PERF_SAMPLE_STREAM_ID) + !!(t & PERF_SAMPLE_CPU) +
			  !!(t & PERF_SAMPLE_PERIOD)));
	if (t & PERF_SAMPLE_READ) {
		if (read_format_size(d->attr.read_format, q, end, &skip))
			goto bad;
		SKIP(skip);
	}
	if (t & PERF_SAMPLE_CALLCHAIN) {
		NEED(8);
		if (rd64(q) > (size_t)(end - q) / 8)
			goto bad;
		SKIP(8 + 8 * (size_t)rd64(q));
	}
	if (t & PERF_SAMPLE_RAW) {
		NEED(4);
		SKIP(4 + (size_t)rd32(q));
	}
	if (t & PERF_SAMPLE_BRANCH_STACK) {
		NEED(8);
		if (rd64(q) > (size_t)(end - q) / 24)
			goto bad;
		SKIP(8 + 8 * (size_t)d->attr.hw_index + 24 * (size_t)rd64(q));
	}
	NEED(8);
	abi = rd64(q);
	q += 8;
	if (abi != PERF_SAMPLE_REGS_ABI_NONE) {
		NEED(8 * (size_t)nregs);
		memcpy(vals, q, 8 * (size_t)nregs);
		q += 8 * nregs;
	}
	NEED(8);
	ssize = rd64(q);
	q += 8;
	NEED(ssize);
	stack = q;
	q += ssize;
	if (ssize) {
		NEED(8);
		dyn = rd64(q);
	}
#undef SKIP
#undef NEED
	if (abi == PERF_SAMPLE_REGS_ABI_NONE || !ssize) {
		if (d->cb->no_regs)
			d->cb->no_regs(d->cb->arg);
		return 0;
	}
	if (dyn > ssize)
		dyn = ssize;
	if ((cls = vdsoscope_regs_from_perf(&regs, abi, d->attr.regs_mask, vals, nregs)) < 0)
		goto bad;
	sp = regs.r[cls == 64 ? 7 : 4];
	if ((int32_t)pid < 0 || !(p = proc_get(d, (pid_t)pid, 1)))
		goto bad;
	if (p->cls != cls || p->dirty || p->pidx < 0) {
		struct vdsoscope_image *img;
		if ((d->built += p->n + 1) > PD_MAX_BUILT)
			return pd_err(d, "the processes' code mappings changed between samples more "
				      "than the %u mappings this reader keeps for them", PD_MAX_BUILT);
		img = proc_vdso(d, p, cls);
		if (p->n > 1)
			qsort(p->maps, p->n, sizeof(*p->maps), cmp_map);
		pp = psession_add(d->s, (pid_t)pid, cls, img, p->vstart, p->maps, p->n);
		if (!pp) {
			p->pidx = -1;
			goto bad;
		}
		p->pidx = pp - d->s->procs;
		p->cls = cls;
		p->dirty = 0;
	}
	pp = &d->s->procs[p->pidx];
	if (d->cb->sample)
		d->cb->sample(d->cb->arg, pp, (pid_t)tid, time, &regs, sp, stack, dyn);
	return 0;
bad:
	if (d->cb->no_regs)
		d->cb->no_regs(d->cb->arg);
	return 0;
}

/* ---- the data section ------------------------------------------------------------- */

static int cmp_ev(const void *a, const void *b)
{
	const struct pd_ev *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* The time of a record other than a sample, from its sample_id; LAST when
 * it has none. */
static uint64_t rec_time(const struct pd *d, const unsigned char *r, size_t size, uint64_t last)
{
	if (d->attr.time_at < 0 || size < 8 + d->attr.trailer)
		return last;
	return rd64(r + size - d->attr.trailer + d->attr.time_at);
}

static int replay_data(struct pd *d, uint64_t off, uint64_t size)
{
	struct pd_ev *ev = NULL;
	size_t nev = 0, cap = 0, i;
	uint64_t at = 0, last = 0;
	int rc = -1;

	while (at < size) {
		const unsigned char *r = d->base + off + at;
		struct perf_event_header h;
		uint64_t t = last, len;
		int keep = 1;
		if (size - at < sizeof(h)) {
			pd_err(d, "truncated record header at offset %llu",
			       (unsigned long long)(off + at));
			goto out;
		}
		memcpy(&h, r, sizeof(h));
		len = h.size;
		if (h.size < sizeof(h) || len > size - at) {
			pd_err(d, "the record at offset %llu claims %u bytes, %s",
			       (unsigned long long)(off + at), h.size,
			       h.size < sizeof(h) ? "less than its header"
						  : "more than the data section has left");
			goto out;
		}
		switch (h.type) {
		case PERF_RECORD_SAMPLE:
			if (d->attr.type & PERF_SAMPLE_TIME) {
				size_t k = 8 + 8 * (!!(d->attr.type & PERF_SAMPLE_IDENTIFIER) +
						    !!(d->attr.type & PERF_SAMPLE_IP) +
						    !!(d->attr.type & PERF_SAMPLE_TID));
				if (h.size >= k + 8)
					t = rd64(r + k);
			}
			break;
		case PERF_RECORD_FORK:
			if (h.size >= 8 + 24)
				t = rd64(r + 24);
			break;
		case PERF_RECORD_MMAP:
		case PERF_RECORD_MMAP2:
		case PERF_RECORD_COMM:
		case PERF_RECORD_LOST:
		case PERF_RECORD_LOST_SAMPLES:
			t = rec_time(d, r, h.size, last);
			break;
		case PD_AUXTRACE:
			if (h.size >= 16) {
				uint64_t extra = rd64(r + 8);
				if (extra > size - at - len) {
					pd_err(d, "truncated: AUXTRACE data at offset %llu",
					       (unsigned long long)(off + at));
					goto out;
				}
				len += extra;
			}
			keep = 0;
			break;
		case PD_COMPRESSED:
			pd_err(d, "compressed records (perf record -z), not supported; record "
			       "without -z");
			goto out;
		default:
			keep = 0;
		}
		if (keep) {
			if (nev == cap) {
				void *v;
				cap = cap ? cap * 2 : 4096;
				if (!(v = realloc(ev, cap * sizeof(*ev)))) {
					pd_err(d, "out of memory");
					goto out;
				}
				ev = v;
			}
			ev[nev].time = t;
			ev[nev].off = off + at;
			nev++;
			last = t;
		}
		at += len;
	}
	if (nev)
		qsort(ev, nev, sizeof(*ev), cmp_ev);
	for (i = 0; i < nev; i++) {
		const unsigned char *r = d->base + ev[i].off;
		struct perf_event_header h;
		int e = 0;
		memcpy(&h, r, sizeof(h));
		switch (h.type) {
		case PERF_RECORD_SAMPLE:
			e = on_sample(d, r, h.size);
			break;
		case PERF_RECORD_MMAP:
			e = on_mmap(d, r, h.size, 0);
			break;
		case PERF_RECORD_MMAP2:
			e = on_mmap(d, r, h.size, 1);
			break;
		case PERF_RECORD_COMM:
			e = on_comm(d, r, h.size);
			break;
		case PERF_RECORD_FORK:
			e = on_fork(d, r, h.size);
			break;
		case PERF_RECORD_LOST:
			if (h.size >= 24 && d->cb->lost)
				d->cb->lost(d->cb->arg, rd64(r + 16));
			break;
		case PERF_RECORD_LOST_SAMPLES:
			if (h.size >= 16 && d->cb->lost)
				d->cb->lost(d->cb->arg, rd64(r + 8));
			break;
		}
		if (e)
			goto out;
	}
	rc = 0;
out:
	free(ev);
	return rc;
}

int perf_data_replay_buffer(struct psession *s, const char *name, const void *data, size_t len,
			    const struct perf_data_opts *o, const struct replay_cb *cb)
{
	static const struct perf_data_opts none;
	uint64_t off = 0, size = 0;
	struct pd d;
	size_t i;
	int rc;

	memset(&d, 0, sizeof(d));
	s->err[0] = 0;
	d.s = s;
	d.name = name;
	d.base = data;
	d.size = len;
	d.o = o ? o : &none;
	d.cb = cb;
	rc = read_header(&d, &off, &size);
	if (rc == 0)
		rc = replay_data(&d, off, size);
	for (i = 0; i < d.nprocs; i++)
		free(d.procs[i].maps);
	free(d.procs);
	for (i = 0; i < d.nimgs; i++)
		vdsoscope_image_close(d.imgs[i].img);
	free(d.imgs);
	free(d.bids);
	vdsoscope_image_close(d.self);
	vdsoscope_image_close(d.self32);
	return rc;
}

int perf_data_replay(struct psession *s, const char *path, const struct perf_data_opts *o,
		     const struct replay_cb *cb)
{
	struct stat st;
	void *base = NULL;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st)) {
		snprintf(s->err, sizeof(s->err), "perf data %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(s->err, sizeof(s->err), "perf data %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size > 0 &&
	    (base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		snprintf(s->err, sizeof(s->err), "perf data %s: mmap: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	rc = perf_data_replay_buffer(s, path, base ? base : "", (size_t)st.st_size, o, cb);
	if (base)
		munmap(base, (size_t)st.st_size);
	return rc;
}
