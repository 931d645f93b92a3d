/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The processes of a profile, the unwinding of their samples, and the
 * record file.
 *
 * Record file: "VDSOPRF\0", u32 version (1), u32 0, then records of
 * u32 type, u32 length, payload (host byte order):
 *   1 vDSO     u32 index, u32 idlen, u32 len, id[idlen], bytes[len]
 *   2 process  u32 pid, u32 class, u64 vdso_load, u32 vdso_index
 *              (~0: none), u32 nmaps, then per map u64 start, end, pgoff,
 *              u32 idlen, u32 pathlen, id[idlen], path[pathlen]
 *   3 sample   u32 pid, u32 tid, u64 time, u32 elf_class, u32 stack_len,
 *              u64 valid, u64 stack_addr, u64 reg[popcount(valid)],
 *              stack[stack_len]
 *   4 lost     u64 count
 *   5 CPU time u32 pid, u32 clock ticks per second, u64 user, u64 kernel:
 *              the target's times over the profile (/proc/PID/stat), once
 *              at the end
 * A process's class is its ELF class (32, 64) in bits 0-7 and its e_machine
 * in bits 16-31, 0 meaning x86_64 or i386 by the class.
 * A process record replaces what was known of that pid: samples are
 * unwound with the maps and vDSO recorded before them, as they were live. */
#include "config.h"
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "profile.h"

#define REC_MAGIC "VDSOPRF"
#define REC_VERSION 1
#define REC_MAX (64u << 20)      /* no record is larger */
#define NO_VDSO 0xffffffffu
#define MAX_REFRESH 16

enum { R_VDSO = 1, R_PROCESS = 2, R_SAMPLE = 3, R_LOST = 4, R_CPUTIME = 5 };

int psession_init(struct psession *s)
{
	memset(s, 0, sizeof(*s));
	if (!(s->mods = vdsoscope_modules_new()))
		return -errno;
	return 0;
}

static void proc_clear(struct pproc *p)
{
	vdsoscope_space_free(p->sp);
	vdsoscope_image_close(p->vdso);
	p->sp = NULL;
	p->vdso = NULL;
}

void psession_fini(struct psession *s)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		proc_clear(&s->procs[i]);
	free(s->procs);
	for (i = 0; i < s->nretired; i++)
		proc_clear(&s->retired[i]);
	free(s->retired);
	for (i = 0; i < s->nvdsos; i++)
		free(s->vdsos[i].bytes);
	free(s->vdsos);
	vdsoscope_modules_free(s->mods);
	if (s->rec)
		fclose(s->rec);
	memset(s, 0, sizeof(*s));
}

struct pproc *psession_find(struct psession *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

static struct pproc *proc_new(struct psession *s, pid_t pid)
{
	struct pproc *p = psession_find(s, pid);

	if (p) {
		if (s->nretired % 16 == 0) {
			void *v = realloc(s->retired, (s->nretired + 16) * sizeof(*s->retired));
			if (!v)
				return NULL;
			s->retired = v;
		}
		/* the stacks name functions from its vDSO image and the modules
		 * set, not from its space */
		vdsoscope_space_free(p->sp);
		p->sp = NULL;
		s->retired[s->nretired++] = *p;
		p->vdso = NULL;
	} else {
		if (s->nprocs % 16 == 0) {
			void *v = realloc(s->procs, (s->nprocs + 16) * sizeof(*s->procs));
			if (!v)
				return NULL;
			s->procs = v;
		}
		p = &s->procs[s->nprocs++];
		memset(p, 0, sizeof(*p));
		p->pid = pid;
	}
	p->vidx = -1;
	return p;
}

/* The vDSO bytes LEN at BYTES, kept once per content. */
static struct pvdso *vdso_bytes(struct psession *s, const void *bytes, size_t len,
				const uint8_t *id, size_t idlen)
{
	struct pvdso *v;
	size_t i;

	for (i = 0; i < s->nvdsos; i++)
		if (s->vdsos[i].len == len && !memcmp(s->vdsos[i].bytes, bytes, len))
			return &s->vdsos[i];
	if (idlen > sizeof(v->id))
		idlen = 0;
	if (!(v = realloc(s->vdsos, (s->nvdsos + 1) * sizeof(*v))))
		return NULL;
	s->vdsos = v;
	v = &v[s->nvdsos];
	memset(v, 0, sizeof(*v));
	if (!(v->bytes = malloc(len ? len : 1)))
		return NULL;
	memcpy(v->bytes, bytes, len);
	v->len = len;
	memcpy(v->id, id, idlen);
	v->idlen = idlen;
	s->nvdsos++;
	return v;
}

/* ---- writing ------------------------------------------------------------------ */

static int put(struct psession *s, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, s->rec) != n) {
		snprintf(s->err, sizeof(s->err), "record file %s: %s", s->rec_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int put_hdr(struct psession *s, uint32_t type, size_t len)
{
	uint32_t h[2] = { type, (uint32_t)len };

	return put(s, h, sizeof(h));
}

static int put32(struct psession *s, uint32_t v) { return put(s, &v, 4); }
static int put64(struct psession *s, uint64_t v) { return put(s, &v, 8); }

int record_open(struct psession *s, const char *path)
{
	char magic[8] = REC_MAGIC;
	uint32_t v[2] = { REC_VERSION, 0 };

	if (!(s->rec = fopen(path, "wb"))) {
		snprintf(s->err, sizeof(s->err), "record file %s: %s", path, strerror(errno));
		return -1;
	}
	s->rec_path = path;
	if (put(s, magic, 8) || put(s, v, sizeof(v)))
		return -1;
	return 0;
}

int record_close(struct psession *s)
{
	int rc = 0;

	if (!s->rec)
		return 0;
	if (fclose(s->rec)) {
		snprintf(s->err, sizeof(s->err), "record file %s: %s", s->rec_path, strerror(errno));
		rc = -1;
	}
	s->rec = NULL;
	return rc;
}

static int record_process(struct psession *s, struct pproc *p)
{
	size_t i, n = vdsoscope_space_map_count(p->sp), len = 4 + 4 + 8 + 4 + 4;
	uint32_t vi = p->vidx >= 0 ? (uint32_t)p->vidx : NO_VDSO;
	struct pvdso *vb = p->vidx >= 0 ? &s->vdsos[p->vidx] : NULL;
	struct vdsoscope_space_map m;

	if (!s->rec)
		return 0;
	if (vb && !vb->written) {
		if (put_hdr(s, R_VDSO, 12 + vb->idlen + vb->len) || put32(s, vi) ||
		    put32(s, (uint32_t)vb->idlen) || put32(s, (uint32_t)vb->len) ||
		    put(s, vb->id, vb->idlen) || put(s, vb->bytes, vb->len))
			return -1;
		vb->written = 1;
	}
	for (i = 0; i < n; i++) {
		vdsoscope_space_map_get(p->sp, i, &m);
		len += 32 + m.build_id_len + strlen(m.path);
	}
	if (put_hdr(s, R_PROCESS, len) || put32(s, (uint32_t)p->pid) ||
	    put32(s, (uint32_t)p->elf_class | (uint32_t)p->machine << 16) ||
	    put64(s, p->vdso ? vdsoscope_load_address(p->vdso) : 0) || put32(s, vi) ||
	    put32(s, (uint32_t)n))
		return -1;
	for (i = 0; i < n; i++) {
		vdsoscope_space_map_get(p->sp, i, &m);
		if (put64(s, m.start) || put64(s, m.end) || put64(s, m.pgoff) ||
		    put32(s, (uint32_t)m.build_id_len) || put32(s, (uint32_t)strlen(m.path)) ||
		    put(s, m.build_id, m.build_id_len) || put(s, m.path, strlen(m.path)))
			return -1;
	}
	return 0;
}

int record_sample(struct psession *s, pid_t pid, pid_t tid, uint64_t time,
		  const struct vdsoscope_regs *regs, int elf_class, uint64_t stack_addr,
		  const void *stack, size_t len)
{
	unsigned int i, nregs = (unsigned int)__builtin_popcountll(regs->valid[0]);

	if (!s->rec)
		return 0;
	if (put_hdr(s, R_SAMPLE, 40 + 8 * nregs + len) || put32(s, (uint32_t)pid) ||
	    put32(s, (uint32_t)tid) || put64(s, time) || put32(s, (uint32_t)elf_class) ||
	    put32(s, (uint32_t)len) || put64(s, regs->valid[0]) || put64(s, stack_addr))
		return -1;
	for (i = 0; i < 64; i++)
		if (vdsoscope_regs_has(regs, i) && put64(s, regs->r[i]))
			return -1;
	return put(s, stack, len);
}

int record_lost(struct psession *s, uint64_t n)
{
	if (!s->rec)
		return 0;
	return put_hdr(s, R_LOST, 8) || put64(s, n) ? -1 : 0;
}

int record_cputime(struct psession *s, pid_t pid, long hz, uint64_t user, uint64_t sys)
{
	if (!s->rec)
		return 0;
	return put_hdr(s, R_CPUTIME, 24) || put32(s, (uint32_t)pid) || put32(s, (uint32_t)hz) ||
	       put64(s, user) || put64(s, sys) ? -1 : 0;
}

/* ---- live processes ---------------------------------------------------------- */

/* An address space for a process of this machine of class ELF_CLASS. */
static struct vdsoscope_space *live_space(struct vdsoscope_modules *mods, int elf_class)
{
#if defined(__aarch64__)
	if (elf_class != 64) {
		errno = ENOTSUP;
		return NULL;
	}
	return vdsoscope_space_new_arch(mods, vdsoscope_arch_by_machine(EM_AARCH64, 64));
#else
	return vdsoscope_space_new(mods, elf_class);
#endif
}

struct pproc *psession_live(struct psession *s, pid_t pid, int elf_class)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG);
	struct pproc *p = proc_new(s, pid);
	const void *bytes;
	size_t len, idlen;
	const uint8_t *id;

	if (!p)
		return NULL;
	p->elf_class = elf_class;
#if defined(__aarch64__)
	p->machine = EM_AARCH64;
#endif
	if (!(p->sp = live_space(s->mods, elf_class)))
		return NULL;
	if (vdsoscope_open_pid(&p->vdso, pid, &opts) == 0) {
		bytes = vdsoscope_image_data(p->vdso, &len);
		id = vdsoscope_build_id(p->vdso, &idlen);
		struct pvdso *vb = vdso_bytes(s, bytes, len, id, idlen);
		p->vidx = vb ? (long)(vb - s->vdsos) : -1;
		vdsoscope_space_set_vdso(p->sp, p->vdso);
	}
	vdsoscope_space_read_maps(p->sp, pid);
	if (record_process(s, p))
		return NULL;
	return p;
}

struct pproc *psession_add(struct psession *s, pid_t pid, int elf_class,
			   const struct vdsoscope_image *img, uint64_t load,
			   const struct vdsoscope_space_map *maps, size_t n)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_LOAD_ADDR,
		       .load_addr = load);
	struct pproc *p = psession_find(s, pid);
	struct pvdso *vb = NULL;
	size_t i;

	if (img) {
		size_t len, idlen;
		const void *bytes = vdsoscope_image_data(img, &len);
		const uint8_t *id = vdsoscope_build_id(img, &idlen);
		if (!(vb = vdso_bytes(s, bytes, len, id, idlen)))
			return NULL;
	}
	if (p && p->elf_class == elf_class && p->vdso && vb && p->vidx == vb - s->vdsos &&
	    vdsoscope_load_address(p->vdso) == load) {
		/* the same vDSO where it was: only the maps are new */
		vdsoscope_space_free(p->sp);
		p->sp = NULL;
	} else {
		if (!(p = proc_new(s, pid)))
			return NULL;
		p->elf_class = elf_class;
		if (vb) {
			p->vidx = (long)(vb - s->vdsos);
			if (vdsoscope_open_buffer(&p->vdso, vb->bytes, vb->len, &opts))
				p->vdso = NULL;
		}
	}
	if (!(p->sp = vdsoscope_space_new(s->mods, elf_class)))
		return NULL;
	if (p->vdso)
		vdsoscope_space_set_vdso(p->sp, p->vdso);
	for (i = 0; i < n; i++) {
		int rc = maps[i].path ? vdsoscope_space_add_map(p->sp, maps[i].start, maps[i].end,
								maps[i].pgoff, maps[i].path,
								maps[i].build_id,
								maps[i].build_id_len)
				      : vdsoscope_space_add_anon(p->sp, maps[i].start, maps[i].end);
		if (rc == -ENOMEM) {
			errno = ENOMEM;
			return NULL;
		}
	}
	return p;
}

int psession_refresh(struct psession *s, struct pproc *p)
{
	if (p->refreshed >= MAX_REFRESH)
		return -1;
	p->refreshed++;
	if (vdsoscope_space_read_maps(p->sp, p->pid))
		return -1;
	return record_process(s, p);
}

int psession_unwind(struct psession *s, struct pproc *p, const struct vdsoscope_regs *regs,
		    uint64_t stack_addr, const void *stack, size_t len,
		    struct vdsoscope_frame_info *frames, unsigned int *n)
{
	if (s->engine == PROFILE_ENGINE_LIBUNWIND)
		return vdsoscope_space_unwind_libunwind(p->sp, regs, stack_addr, stack, len, frames,
							PROFILE_MAX_FRAMES, n);
	return vdsoscope_space_unwind(p->sp, regs, stack_addr, stack, len, frames,
				      PROFILE_MAX_FRAMES, n);
}

/* ---- reading ------------------------------------------------------------------ */

struct rd {
	const unsigned char *p, *end;
};

static int get(struct rd *r, void *out, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return -1;
	memcpy(out, r->p, n);
	r->p += n;
	return 0;
}

static const void *take(struct rd *r, size_t n)
{
	const void *q = r->p;

	if ((size_t)(r->end - r->p) < n)
		return NULL;
	r->p += n;
	return q;
}

static int replay_process(struct psession *s, struct rd *r, const char **what)
{
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_NO_DEBUG | VDSOSCOPE_OPEN_LOAD_ADDR);
	uint32_t pid, cls, vi, nmaps, i, machine;
	const struct vdsoscope_arch *arch;
	uint64_t load;
	struct pproc *p;

	if (get(r, &pid, 4) || get(r, &cls, 4) || get(r, &load, 8) || get(r, &vi, 4) ||
	    get(r, &nmaps, 4))
		return *what = "process record too short", -1;
	machine = cls >> 16;
	cls &= 0xff;
	if (cls != 32 && cls != 64)
		return *what = "process record: ELF class is neither 32 nor 64", -1;
	arch = machine ? vdsoscope_arch_by_machine((int)machine, (int)cls)
		       : vdsoscope_arch_by_machine(cls == 64 ? EM_X86_64 : EM_386, (int)cls);
	if (!arch)
		return *what = "process record: a machine this build has no register table for", -1;
	if (vi != NO_VDSO && vi >= s->nvdsos)
		return *what = "process record names a vDSO not recorded before it", -1;
	if (!(p = proc_new(s, (pid_t)pid)) || !(p->sp = vdsoscope_space_new_arch(s->mods, arch)))
		return *what = "out of memory", -1;
	p->elf_class = (int)cls;
	p->machine = (int)machine;
	if (vi != NO_VDSO) {
		p->vidx = (long)vi;
		opts.load_addr = load;
		if (vdsoscope_open_buffer(&p->vdso, s->vdsos[vi].bytes, s->vdsos[vi].len, &opts) == 0)
			vdsoscope_space_set_vdso(p->sp, p->vdso);
	}
	for (i = 0; i < nmaps; i++) {
		uint64_t start, end, pgoff;
		uint32_t idlen, pathlen;
		const void *id;
		const char *path;
		char buf[4096];
		if (get(r, &start, 8) || get(r, &end, 8) || get(r, &pgoff, 8) || get(r, &idlen, 4) ||
		    get(r, &pathlen, 4) || !(id = take(r, idlen)) || !(path = take(r, pathlen)))
			return *what = "process record: a map entry runs past the record", -1;
		if (pathlen == 0 || pathlen >= sizeof(buf) || idlen > 64 || end <= start)
			return *what = "process record: a map entry is malformed", -1;
		memcpy(buf, path, pathlen);
		buf[pathlen] = 0;
		vdsoscope_space_add_map(p->sp, start, end, pgoff, buf, id, idlen);
	}
	if (r->p != r->end)
		return *what = "process record has bytes after its maps", -1;
	return 0;
}

int replay_file(struct psession *s, const char *path, const struct replay_cb *cb)
{
	FILE *f = fopen(path, "rb");
	unsigned char head[16], *buf = NULL;
	size_t cap = 0;
	uint64_t off = 16;
	const char *what = NULL;
	int rc = -1;

	if (!f) {
		snprintf(s->err, sizeof(s->err), "record file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(head, 1, 16, f) != 16 || memcmp(head, REC_MAGIC, 8)) {
		snprintf(s->err, sizeof(s->err), "record file %s: not a vdsoscope profile record", path);
		goto out;
	}
	if (head[8] != REC_VERSION || head[9] || head[10] || head[11]) {
		snprintf(s->err, sizeof(s->err), "record file %s: version %u, this build reads %u",
			 path, head[8], REC_VERSION);
		goto out;
	}
	for (;;) {
		uint32_t h[2];
		size_t got = fread(h, 1, sizeof(h), f);
		struct rd r;
		if (got == 0)
			break;
		if (got != sizeof(h)) {
			snprintf(s->err, sizeof(s->err),
				 "record file %s: truncated record header at offset %llu", path,
				 (unsigned long long)off);
			goto out;
		}
		if (h[1] > REC_MAX) {
			snprintf(s->err, sizeof(s->err),
				 "record file %s: record at offset %llu claims %u bytes", path,
				 (unsigned long long)off, h[1]);
			goto out;
		}
		if (h[1] > cap) {
			void *v = realloc(buf, h[1]);
			if (!v) {
				snprintf(s->err, sizeof(s->err), "out of memory");
				goto out;
			}
			buf = v;
			cap = h[1];
		}
		if ((got = fread(buf, 1, h[1], f)) != h[1]) {
			snprintf(s->err, sizeof(s->err),
				 "record file %s: truncated: the record at offset %llu has %u bytes, "
				 "the file only %zu more",
				 path, (unsigned long long)off, h[1], got);
			goto out;
		}
		r.p = buf;
		r.end = buf + h[1];
		switch (h[0]) {
		case R_VDSO: {
			uint32_t idx, idlen, len;
			const void *id, *bytes;
			if (get(&r, &idx, 4) || get(&r, &idlen, 4) || get(&r, &len, 4) ||
			    !(id = take(&r, idlen)) || !(bytes = take(&r, len)) || r.p != r.end) {
				what = "vDSO record does not add up";
				break;
			}
			if (idx != s->nvdsos || idlen > 64) {
				what = "vDSO record out of sequence";
				break;
			}
			if (!vdso_bytes(s, bytes, len, id, idlen) || s->nvdsos != idx + 1)
				what = "vDSO record repeats an earlier image";
			break;
		}
		case R_PROCESS:
			replay_process(s, &r, &what);
			break;
		case R_SAMPLE: {
			uint32_t pid, tid, cls, slen;
			uint64_t time, stack_addr;
			struct vdsoscope_regs regs;
			const void *stack;
			struct pproc *p;
			unsigned int i;
			vdsoscope_regs_clear(&regs);
			if (get(&r, &pid, 4) || get(&r, &tid, 4) || get(&r, &time, 8) ||
			    get(&r, &cls, 4) || get(&r, &slen, 4) || get(&r, &regs.valid[0], 8) ||
			    get(&r, &stack_addr, 8)) {
				what = "sample record too short";
				break;
			}
			for (i = 0; i < 64 && !what; i++)
				if (vdsoscope_regs_has(&regs, i) && get(&r, &regs.r[i], 8))
					what = "sample record: registers run past the record";
			if (what)
				break;
			if (!(stack = take(&r, slen)) || r.p != r.end) {
				what = "sample record: the stack copy does not fit the record";
				break;
			}
			if (!(p = psession_find(s, (pid_t)pid)) || p->elf_class != (int)cls) {
				what = "sample of a process not recorded before it";
				break;
			}
			if (cb->sample)
				cb->sample(cb->arg, p, (pid_t)tid, time, &regs, stack_addr, stack, slen);
			break;
		}
		case R_LOST: {
			uint64_t n;
			if (get(&r, &n, 8) || r.p != r.end)
				what = "lost record is not 8 bytes";
			else if (cb->lost)
				cb->lost(cb->arg, n);
			break;
		}
		case R_CPUTIME: {
			uint32_t pid, hz;
			uint64_t user, sys;
			if (get(&r, &pid, 4) || get(&r, &hz, 4) || get(&r, &user, 8) ||
			    get(&r, &sys, 8) || r.p != r.end || !hz)
				what = "CPU time record is not 24 bytes with a clock rate";
			else if (cb->cputime)
				cb->cputime(cb->arg, (pid_t)pid, (long)hz, user, sys);
			break;
		}
		default:
			snprintf(s->err, sizeof(s->err),
				 "record file %s: unknown record type %u at offset %llu", path, h[0],
				 (unsigned long long)off);
			goto out;
		}
		if (what) {
			snprintf(s->err, sizeof(s->err), "record file %s: %s (offset %llu)", path,
				 what, (unsigned long long)off);
			goto out;
		}
		off += 8 + h[1];
	}
	if (ferror(f)) {
		snprintf(s->err, sizeof(s->err), "record file %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}
