/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole threads of a live process or a core file, unwound with the
 * space's step (vdsoscope_space_unwind_read()): registers from ptrace or
 * NT_PRSTATUS, memory from the process or the core's PT_LOADs, mappings
 * from /proc/PID/maps or NT_FILE. */
#include "config.h"
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NT_ARM_PAC_MASK
#define NT_ARM_PAC_MASK 0x406
#endif
#ifndef NT_ARM_VFP
#define NT_ARM_VFP 0x400
#endif
#include "vdsoscope-unwind.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

/* Bounds on what a core may make us hold. */
#define MAX_THREADS 65536
#define MAX_FILES (1u << 20)
#define MAX_PATH_LEN 4096

struct seg {
	uint64_t vaddr, filesz;
	const unsigned char *bytes;
	int exec;
};

struct file_entry {
	uint64_t start, end, pgoff;
	const char *name;
};

struct tthread {
	pid_t tid;
	struct vdsoscope_regs regs;
};

struct vdsoscope_target {
	struct vdsoscope_space *sp;
	int elf_class;
	int machine;                  /* EM_X86_64, EM_386, EM_AARCH64 */
	pid_t pid;                    /* live process, or 0 */
	/* a core */
	int fd;
	Elf *elf;
	struct seg *segs;             /* sorted by vaddr */
	size_t nsegs;
	struct tthread *threads;
	size_t nthreads;
	uint64_t vdso_addr, entry;
	int have_auxv;
	char exec_path[MAX_PATH_LEN]; /* the executable as recorded, or "" */
	char *exe;                    /* the executable given for it, or NULL */
	struct file_entry *files;     /* NT_FILE; names point into the core */
	size_t nfiles;
};

static __thread char errbuf[512];

const char *vdsoscope_target_errmsg(void)
{
	return errbuf;
}

static int terr(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int terr(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return rc;
}

static int check_opts(const struct vdsoscope_target_opts *o)
{
	size_t i;

	if (!o)
		return 0;
	if (o->sz < sizeof(size_t))
		return terr(-EINVAL, "options: sz %zu is too small", o->sz);
	for (i = sizeof(*o); i < o->sz; i++)
		if (((const unsigned char *)o)[i])
			return terr(-EINVAL, "options: unknown non-zero byte at offset %zu", i);
	return 0;
}

#define OPT(o, field) \
	((o) && (o)->sz >= offsetof(struct vdsoscope_target_opts, field) + sizeof((o)->field) \
		 ? (o)->field : 0)

static struct vdsoscope_target *target_new(void)
{
	struct vdsoscope_target *t = calloc(1, sizeof(*t));

	if (t)
		t->fd = -1;
	return t;
}

void vdsoscope_target_close(struct vdsoscope_target *t)
{
	if (!t)
		return;
	vdsoscope_space_free(t->sp);
	free(t->segs);
	free(t->threads);
	free(t->files);
	free(t->exe);
	if (t->elf)
		elf_end(t->elf);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

struct vdsoscope_space *vdsoscope_target_space(struct vdsoscope_target *t)
{
	return t->sp;
}

int vdsoscope_target_elf_class(const struct vdsoscope_target *t)
{
	return t->elf_class;
}

uint64_t vdsoscope_target_vdso_address(const struct vdsoscope_target *t)
{
	return t->vdso_addr;
}

size_t vdsoscope_target_thread_count(const struct vdsoscope_target *t)
{
	return t->nthreads;
}

pid_t vdsoscope_target_thread_id(const struct vdsoscope_target *t, size_t idx)
{
	return idx < t->nthreads ? t->threads[idx].tid : 0;
}

/* ---- registers ---------------------------------------------------------------- */

/* user_regs_struct of x86_64 (ptrace, and pr_reg of a 64-bit core) in
 * DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */
static const unsigned char x86_64_slot[17] = {
	10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16,
};
/* the same slots seen from a 32-bit process: eax ecx edx ebx esp ebp esi edi eip */
static const unsigned char i386_from64_slot[9] = { 10, 11, 12, 5, 19, 4, 13, 14, 16 };
/* pr_reg of an i386 core: ebx ecx edx esi edi ebp eax ds es fs gs orig_eax
 * eip cs eflags esp ss */
static const unsigned char i386_slot[9] = { 6, 1, 2, 0, 15, 5, 3, 4, 12 };

static void regs_from64(struct vdsoscope_regs *r, const uint64_t *v, int elf_class)
{
	unsigned int i;

	vdsoscope_regs_clear(r);
	if (elf_class == 64) {
		for (i = 0; i < 17; i++)
			r->r[i] = v[x86_64_slot[i]];
		r->valid[0] = (1ull << 17) - 1;
	} else {
		for (i = 0; i < 9; i++)
			r->r[i] = v[i386_from64_slot[i]] & 0xffffffffu;
		r->valid[0] = (1ull << 9) - 1;
	}
}

/* ---- live processes ---------------------------------------------------------- */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static int pid_class(pid_t pid)
{
	char path[64];
	unsigned char h[20];
	int fd;
	ssize_t got;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return -errno;
	got = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (got != (ssize_t)sizeof(h) || memcmp(h, ELFMAG, SELFMAG))
		return -ENOEXEC;
#if defined(__x86_64__)
	if (h[EI_CLASS] == ELFCLASS64 && (h[18] | h[19] << 8) == EM_X86_64)
		return 64;
	if (h[EI_CLASS] == ELFCLASS32 && (h[18] | h[19] << 8) == EM_386)
		return 32;
#elif defined(__aarch64__)
	if (h[EI_CLASS] == ELFCLASS64 && (h[18] | h[19] << 8) == EM_AARCH64)
		return 64;
#endif
	return -ENOTSUP;
}

int vdsoscope_target_open_pid(struct vdsoscope_target **out, struct vdsoscope_modules *mods,
			      pid_t pid, const struct vdsoscope_target_opts *opts)
{
	struct vdsoscope_target *t;
	char path[64];
	struct dirent *de;
	DIR *d;
	pid_t *tids = NULL;
	size_t n = 0, i;
	int rc;

	*out = NULL;
	if ((rc = check_opts(opts)))
		return rc;
	if (!mods || pid <= 0)
		return terr(-EINVAL, "vdsoscope_target_open_pid: no modules set or pid");
	if ((rc = pid_class(pid)) < 0)
		return terr(rc, "pid %d: %s", (int)pid,
			    rc == -ENOTSUP ? "a process of an architecture this build does not trace" :
			    rc == -ENOENT ? "no such process" : strerror(-rc));
	if (!(t = target_new()))
		return -ENOMEM;
	t->pid = pid;
	t->elf_class = rc;
#if defined(__aarch64__)
	t->machine = EM_AARCH64;
#else
	t->machine = rc == 64 ? EM_X86_64 : EM_386;
#endif
	if (!(t->sp = vdsoscope_space_new_arch(mods, vdsoscope_arch_by_machine(t->machine,
										t->elf_class)))) {
		rc = -errno;
		goto fail;
	}
	if ((rc = vdsoscope_space_read_maps(t->sp, pid)) < 0) {
		terr(rc, "pid %d: /proc/%d/maps: %s", (int)pid, (int)pid, strerror(-rc));
		goto fail;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path))) {
		rc = terr(-errno, "pid %d: %s", (int)pid, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d))) {
		long tid = strtol(de->d_name, NULL, 10);
		if (tid <= 0)
			continue;
		if (n % 64 == 0) {
			void *p = n < MAX_THREADS ? realloc(tids, (n + 64) * sizeof(*tids)) : NULL;
			if (!p)
				break;
			tids = p;
		}
		tids[n++] = (pid_t)tid;
	}
	closedir(d);
	if (n)
		qsort(tids, n, sizeof(*tids), cmp_pid);
	if (!(t->threads = calloc(n ? n : 1, sizeof(*t->threads)))) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++)
		t->threads[i].tid = tids[i];
	t->nthreads = n;
	free(tids);
	*out = t;
	return 0;
fail:
	free(tids);
	vdsoscope_target_close(t);
	return rc;
}

/* Stops TID without a signal (PTRACE_SEIZE + PTRACE_INTERRUPT). */
static int seize(pid_t tid)
{
	int st;

	if (ptrace(PTRACE_SEIZE, tid, 0, 0))
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0)) {
		int e = errno;
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return -e;
	}
	for (;;) {
		if (waitpid(tid, &st, __WALL) != tid) {
			int e = errno;
			if (e == EINTR)
				continue;
			ptrace(PTRACE_DETACH, tid, 0, 0);
			return -e;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		return 0;
	}
}

/* ---- cores ------------------------------------------------------------------- */

static int core_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct vdsoscope_target *t = arg;
	size_t lo = 0, hi = t->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct seg *s = &t->segs[mid];
		if (addr < s->vaddr) {
			hi = mid;
		} else if (addr - s->vaddr >= s->filesz) {
			lo = mid + 1;
		} else {
			if (s->filesz - (addr - s->vaddr) < len)
				return -VDSOSCOPE_E_MEMORY;
			memcpy(buf, s->bytes + (addr - s->vaddr), len);
			return 0;
		}
	}
	return -VDSOSCOPE_E_MEMORY;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static uint64_t word(const unsigned char *p, int w)
{
	uint64_t v = 0;

	if (w == 8) {
		memcpy(&v, p, 8);
	} else {
		uint32_t u;
		memcpy(&u, p, 4);
		v = u;
	}
	return v;
}

static int add_thread(struct vdsoscope_target *t, const unsigned char *d, size_t len)
{
	struct tthread *th;
	uint64_t v[27];
	unsigned int i;

	if (t->nthreads == MAX_THREADS)
		return 0;
	if (t->nthreads % 64 == 0) {
		void *p = realloc(t->threads, (t->nthreads + 64) * sizeof(*t->threads));
		if (!p)
			return -ENOMEM;
		t->threads = p;
	}
	th = &t->threads[t->nthreads];
	memset(th, 0, sizeof(*th));
	if (t->machine == EM_ARM) {
		/* pr_reg: r0-r15, cpsr, orig_r0 */
		if (len < 72 + 18 * 4)
			return 0;
		th->tid = (pid_t)word(d + 24, 4);
		vdsoscope_regs_clear(&th->regs);
		for (i = 0; i < 16; i++)
			vdsoscope_regs_set(&th->regs, i, word(d + 72 + 4 * i, 4));
	} else if (t->machine == EM_AARCH64) {
		/* pr_reg: x0-x30, sp, pc, pstate */
		if (len < 112 + 34 * 8)
			return 0;
		th->tid = (pid_t)word(d + 32, 4);
		vdsoscope_regs_clear(&th->regs);
		for (i = 0; i < 33; i++)
			vdsoscope_regs_set(&th->regs, i, word(d + 112 + 8 * i, 8));
	} else if (t->elf_class == 64) {
		if (len < 112 + 27 * 8)
			return 0;
		th->tid = (pid_t)word(d + 32, 4);
		for (i = 0; i < 27; i++)
			v[i] = word(d + 112 + 8 * i, 8);
		regs_from64(&th->regs, v, 64);
	} else {
		if (len < 72 + 17 * 4)
			return 0;
		th->tid = (pid_t)word(d + 24, 4);
		for (i = 0; i < 9; i++)
			th->regs.r[i] = word(d + 72 + 4 * i386_slot[i], 4);
		vdsoscope_regs_clear(&th->regs);
		th->regs.valid[0] = (1ull << 9) - 1;
	}
	t->nthreads++;
	return 0;
}

/* The build-id note of the ELF file mapped at START, read from the core's
 * memory (the kernel dumps the first page of such mappings). */
static size_t core_build_id(struct vdsoscope_target *t, uint64_t start, uint8_t *id, size_t max)
{
	int w = t->elf_class == 64 ? 8 : 4;
	unsigned char eh[64], ph[56];
	uint64_t phoff;
	unsigned int phnum, phentsize, i;

	if (core_read(t, start, eh, w == 8 ? 64 : 52) || memcmp(eh, ELFMAG, SELFMAG) ||
	    eh[EI_CLASS] != (w == 8 ? ELFCLASS64 : ELFCLASS32))
		return 0;
	phoff = w == 8 ? word(eh + 32, 8) : word(eh + 28, 4);
	phentsize = (unsigned int)word(eh + (w == 8 ? 54 : 42), 2) & 0xffff;
	phnum = (unsigned int)word(eh + (w == 8 ? 56 : 44), 2) & 0xffff;
	if (phentsize < (w == 8 ? 56u : 32u) || phnum > 64 || phoff > 65536)
		return 0;
	for (i = 0; i < phnum; i++) {
		uint64_t off, filesz, pos;
		unsigned char note[1024];
		if (core_read(t, start + phoff + (uint64_t)i * phentsize, ph, w == 8 ? 56 : 32) ||
		    word(ph, 4) != PT_NOTE)
			continue;
		off = w == 8 ? word(ph + 8, 8) : word(ph + 4, 4);
		filesz = w == 8 ? word(ph + 32, 8) : word(ph + 16, 4);
		if (off > 65536 || filesz > sizeof(note) || filesz < 12 ||
		    core_read(t, start + off, note, (size_t)filesz))
			continue;
		for (pos = 0; pos + 12 <= filesz;) {
			uint32_t namesz = (uint32_t)word(note + pos, 4);
			uint32_t descsz = (uint32_t)word(note + pos + 4, 4);
			uint32_t type = (uint32_t)word(note + pos + 8, 4);
			uint64_t desc = pos + 12 + ((namesz + 3ull) & ~3ull);
			if (desc > filesz || descsz > filesz - desc)
				break;
			if (type == NT_GNU_BUILD_ID && namesz == 4 &&
			    !memcmp(note + pos + 12, "GNU", 4) && descsz && descsz <= max) {
				memcpy(id, note + desc, descsz);
				return descsz;
			}
			pos = desc + ((descsz + 3ull) & ~3ull);
		}
	}
	return 0;
}

/* The file recorded as NAME: the executable given for it, or NAME. */
static const char *local_name(const struct vdsoscope_target *t, const char *name)
{
	return t->exe && t->exec_path[0] && !strcmp(name, t->exec_path) ? t->exe : name;
}

static int read_notes(struct vdsoscope_target *t, Elf *elf, struct file_entry **files,
		      size_t *nfiles)
{
	size_t nph, i;
	int w = t->elf_class == 64 ? 8 : 4, rc;

	if (elf_getphdrnum(elf, &nph))
		return terr(-EINVAL, "%s", elf_errmsg(-1));
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		if (!(d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_NHDR)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			const unsigned char *p = (const unsigned char *)d->d_buf + doff;
			size_t len = nh.n_descsz;
			if (nh.n_type == NT_PRSTATUS) {
				if ((rc = add_thread(t, p, len)))
					return rc;
			} else if (t->machine == EM_AARCH64 && t->nthreads &&
				   nh.n_type == NT_FPREGSET && len >= 16 * 16) {
				/* the thread's user_fpsimd_state: d8-d15 are the
				 * low halves of v8-v15 */
				struct vdsoscope_regs *r = &t->threads[t->nthreads - 1].regs;
				unsigned int k;
				for (k = 8; k < 16; k++)
					vdsoscope_regs_set(r, 64 + k, word(p + 16 * k, 8));
			} else if (t->machine == EM_ARM && t->nthreads && nh.n_type == NT_ARM_VFP &&
				   len >= 32 * 8) {
				/* d0-d31, fpscr: d8-d15 are DWARF 264-271 */
				struct vdsoscope_regs *r = &t->threads[t->nthreads - 1].regs;
				unsigned int k;
				for (k = 8; k < 16; k++)
					vdsoscope_regs_set(r, 256 + k, word(p + 8 * k, 8));
			} else if (t->machine == EM_AARCH64 && t->nthreads &&
				   nh.n_type == NT_ARM_PAC_MASK && len >= 16 &&
				   !memcmp((const char *)d->d_buf + noff, "LINUX", 5)) {
				t->threads[t->nthreads - 1].regs.pac_mask = word(p + 8, 8);
			} else if (nh.n_type == NT_AUXV) {
				size_t k;
				t->have_auxv = 1;
				for (k = 0; k + 2 * w <= len; k += 2 * w) {
					uint64_t type = word(p + k, w), v = word(p + k + w, w);
					if (type == AT_NULL)
						break;
					if (type == AT_SYSINFO_EHDR)
						t->vdso_addr = v;
					if (type == AT_ENTRY)
						t->entry = v;
				}
			} else if (nh.n_type == NT_FILE && len >= 2 * (size_t)w && !*files) {
				uint64_t count = word(p, w), page = word(p + w, w), k;
				const char *names, *end;
				if (count > (len - 2 * w) / (3 * w) || count > MAX_FILES)
					continue;
				if (!(*files = calloc(count ? count : 1, sizeof(**files))))
					return -ENOMEM;
				names = (const char *)p + 2 * w + count * 3 * w;
				end = (const char *)p + len;
				for (k = 0; k < count && names < end; k++) {
					const unsigned char *e = p + 2 * w + k * 3 * w;
					size_t nlen = strnlen(names, (size_t)(end - names));
					struct file_entry *f = &(*files)[*nfiles];
					if (nlen == (size_t)(end - names) || nlen >= MAX_PATH_LEN)
						break;
					f->start = word(e, w);
					f->end = word(e + w, w);
					f->pgoff = word(e + 2 * w, w) * page;
					f->name = names;
					if (f->end > f->start)
						(*nfiles)++;
					names += nlen + 1;
				}
			}
		}
	}
	return 0;
}

int vdsoscope_target_open_core(struct vdsoscope_target **out, struct vdsoscope_modules *mods,
			       const char *core, const struct vdsoscope_target_opts *opts)
{
	struct vdsoscope_target *t;
	struct file_entry *files = NULL;
	size_t nfiles = 0, nph, i, rawsize;
	const unsigned char *raw;
	struct stat st;
	GElf_Ehdr eh;
	int rc;

	*out = NULL;
	if ((rc = check_opts(opts)))
		return rc;
	if (!mods || !core)
		return terr(-EINVAL, "vdsoscope_target_open_core: no modules set or core");
	if (!(t = target_new()))
		return -ENOMEM;
	elf_version(EV_CURRENT);
	if ((t->fd = open(core, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		rc = terr(-errno, "core %s: %s", core, strerror(errno));
		goto out;
	}
	if (fstat(t->fd, &st) || !S_ISREG(st.st_mode)) {
		rc = terr(-EINVAL, "core %s: not a regular file", core);
		goto out;
	}
	if (!(t->elf = elf_begin(t->fd, ELF_C_READ_MMAP, NULL)) || !gelf_getehdr(t->elf, &eh) ||
	    !(raw = (const unsigned char *)elf_rawfile(t->elf, &rawsize))) {
		rc = terr(-EINVAL, "core %s: not an ELF file", core);
		goto out;
	}
	if (eh.e_type != ET_CORE) {
		rc = terr(-EINVAL, "core %s: ELF type %u is not ET_CORE", core, eh.e_type);
		goto out;
	}
	t->machine = eh.e_machine;
	t->elf_class = eh.e_ident[EI_CLASS] == ELFCLASS64 ? 64 : 32;
	if (!(eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_machine == EM_X86_64) &&
	    !(eh.e_ident[EI_CLASS] == ELFCLASS32 && eh.e_machine == EM_386) &&
	    !(eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_machine == EM_AARCH64) &&
	    !(eh.e_ident[EI_CLASS] == ELFCLASS32 && eh.e_machine == EM_ARM)) {
		rc = terr(-ENOTSUP, "core %s: machine %u (class %u): cores of x86_64, i386, "
			  "aarch64 and arm processes are read", core, eh.e_machine, t->elf_class);
		goto out;
	}
	if (!vdsoscope_arch_by_machine(t->machine, t->elf_class)) {
		rc = terr(-ENOTSUP, "core %s: this build has no register table for machine %u",
			  core, eh.e_machine);
		goto out;
	}
	if (elf_getphdrnum(t->elf, &nph)) {
		rc = terr(-EINVAL, "core %s: %s", core, elf_errmsg(-1));
		goto out;
	}
	if (!(t->segs = calloc(nph ? nph : 1, sizeof(*t->segs)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(t->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		t->segs[t->nsegs].vaddr = ph.p_vaddr;
		t->segs[t->nsegs].exec = (ph.p_flags & PF_X) != 0;
		/* bytes past the end of a truncated core are not there */
		if (ph.p_offset < rawsize) {
			uint64_t have = rawsize - ph.p_offset;
			t->segs[t->nsegs].filesz = ph.p_filesz < have ? ph.p_filesz : have;
			t->segs[t->nsegs].bytes = raw + ph.p_offset;
		}
		t->nsegs++;
	}
	qsort(t->segs, t->nsegs, sizeof(*t->segs), seg_cmp);
	if ((rc = read_notes(t, t->elf, &files, &nfiles)) < 0)
		goto out;
	if (!t->nthreads) {
		rc = terr(-EINVAL, "core %s: no NT_PRSTATUS note (no thread)", core);
		goto out;
	}
	if (!(t->sp = vdsoscope_space_new_arch(mods, vdsoscope_arch_by_machine(t->machine,
										t->elf_class)))) {
		rc = -errno;
		goto out;
	}
	{
		const char *exe = OPT(opts, executable);
		if (exe && !(t->exe = strdup(exe))) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < nfiles; i++)
		if (t->entry >= files[i].start && t->entry < files[i].end) {
			snprintf(t->exec_path, sizeof(t->exec_path), "%s", files[i].name);
			break;
		}
	/* the executable mappings: a PT_LOAD with PF_X that overlaps them (all
	 * of a file's mappings when the core has no flags for them) */
	for (i = 0; i < nfiles; i++) {
		const struct file_entry *f = &files[i];
		uint8_t id[64];
		size_t k, idlen = 0;
		int exec = 0, known = 0;
		for (k = 0; k < t->nsegs; k++)
			if (t->segs[k].vaddr < f->end && t->segs[k].vaddr >= f->start) {
				known = 1;
				exec |= t->segs[k].exec;
			}
		if (known && !exec)
			continue;
		/* the build-id from the file's first mapping */
		for (k = 0; k < nfiles && !idlen; k++)
			if (!strcmp(files[k].name, f->name) && files[k].pgoff == 0)
				idlen = core_build_id(t, files[k].start, id, sizeof(id));
		if ((rc = vdsoscope_space_add_map(t->sp, f->start, f->end, f->pgoff,
						  local_name(t, f->name), idlen ? id : NULL,
						  idlen)) < 0)
			goto out;
	}
	/* executable memory that no file backs */
	for (i = 0; i < t->nsegs; i++) {
		size_t k;
		int file = 0;
		if (!t->segs[i].exec)
			continue;
		for (k = 0; k < nfiles && !file; k++)
			file = t->segs[i].vaddr >= files[k].start && t->segs[i].vaddr < files[k].end;
		if (!file && t->segs[i].vaddr != t->vdso_addr && t->segs[i].filesz)
			vdsoscope_space_add_anon(t->sp, t->segs[i].vaddr,
						 t->segs[i].vaddr + t->segs[i].filesz);
	}
	t->files = files;
	t->nfiles = nfiles;
	files = NULL;
	rc = 0;
out:
	free(files);
	if (rc) {
		vdsoscope_target_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* ---- unwinding ---------------------------------------------------------------- */

/* The registers of stopped thread TID of a live process; -1 with errno. */
static int live_regs(const struct vdsoscope_target *t, pid_t tid, struct vdsoscope_regs *regs)
{
#if defined(__x86_64__)
	struct user_regs_struct ur;

	if (ptrace(PTRACE_GETREGS, tid, 0, &ur))
		return -1;
	regs_from64(regs, (const uint64_t *)&ur, t->elf_class);
	return 0;
#elif defined(__aarch64__)
	uint64_t v[34], fp[66], pac[2];
	struct iovec io = { v, sizeof(v) };
	unsigned int i;

	(void)t;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &io))
		return -1;
	vdsoscope_regs_clear(regs);
	for (i = 0; i < 33; i++)
		vdsoscope_regs_set(regs, i, v[i]);
	io = (struct iovec){ fp, sizeof(fp) };
	if (!ptrace(PTRACE_GETREGSET, tid, (void *)NT_FPREGSET, &io) && io.iov_len >= 16 * 16)
		for (i = 8; i < 16; i++)
			vdsoscope_regs_set(regs, 64 + i, fp[2 * i]);
	io = (struct iovec){ pac, sizeof(pac) };
	if (!ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_PAC_MASK, &io) && io.iov_len == 16)
		regs->pac_mask = pac[1];
	return 0;
#else
	(void)t;
	(void)tid;
	(void)regs;
	errno = ENOTSUP;
	return -1;
#endif
}

int vdsoscope_target_unwind(struct vdsoscope_target *t, size_t idx,
			    struct vdsoscope_frame_info *frames, unsigned int max, unsigned int *n)
{
	struct vdsoscope_regs regs;
	pid_t tid;
	int rc;

	*n = 0;
	if (idx >= t->nthreads)
		return -EINVAL;
	if (!t->pid)
		return vdsoscope_space_unwind_read(t->sp, &t->threads[idx].regs, core_read, t,
						   frames, max, n);
	tid = t->threads[idx].tid;
	if ((rc = vdsoscope_target_stop(t, idx)))
		return rc;
	if (live_regs(t, tid, &regs)) {
		rc = terr(-errno, "pid %d thread %d: reading registers: %s", (int)t->pid, (int)tid,
			  strerror(errno));
	} else {
		t->threads[idx].regs = regs;
		rc = vdsoscope_space_unwind_read(t->sp, &regs, vdsoscope_read_pid, &tid, frames,
						 max, n);
	}
	vdsoscope_target_resume(t, idx);
	return rc;
}

int vdsoscope_target_stop(struct vdsoscope_target *t, size_t idx)
{
	pid_t tid;
	int rc;

	if (idx >= t->nthreads)
		return -EINVAL;
	if (!t->pid)
		return 0;
	tid = t->threads[idx].tid;
	if ((rc = seize(tid)))
		return terr(rc, "pid %d thread %d: ptrace: %s", (int)t->pid, (int)tid,
			    rc == -ESRCH ? "the thread exited" : strerror(-rc));
	return 0;
}

void vdsoscope_target_resume(struct vdsoscope_target *t, size_t idx)
{
	if (t->pid && idx < t->nthreads)
		ptrace(PTRACE_DETACH, t->threads[idx].tid, 0, 0);
}

size_t vdsoscope_target_file_count(const struct vdsoscope_target *t)
{
	return t->nfiles;
}

int vdsoscope_target_file_get(const struct vdsoscope_target *t, size_t idx,
			      struct vdsoscope_target_file *out)
{
	const struct file_entry *f;
	const char *local, *got;
	size_t i;

	if (idx >= t->nfiles)
		return -ENOENT;
	f = &t->files[idx];
	local = local_name(t, f->name);
	out->start = f->start;
	out->end = f->end;
	out->pgoff = f->pgoff;
	out->recorded = f->name;
	out->path = local;
	/* the file the modules set found for this name, when it maps code */
	for (i = 0; i < t->nfiles; i++)
		if (!strcmp(t->files[i].name, f->name) &&
		    (got = vdsoscope_space_map_file(t->sp, t->files[i].start))) {
			out->path = got;
			break;
		}
	return 0;
}

int vdsoscope_target_regs(const struct vdsoscope_target *t, size_t idx,
			  struct vdsoscope_regs *out)
{
	if (idx >= t->nthreads)
		return -EINVAL;
	*out = t->threads[idx].regs;
	return 0;
}
