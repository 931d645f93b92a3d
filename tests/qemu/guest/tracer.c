/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /init of the arm64 guest.  Runs /child64 (aarch64) and /child32 (armhf,
 * compat) once per call under ptrace, and writes to /out:
 *   vdso64.so vdso32.so          the [vdso] mappings of the two children
 *   ARCH.CALL.trace              one S line per single step, from the
 *                                child's marker until a few steps after it
 *                                left the vDSO (or [sigpage])
 *   ARCH.CALL.kK.core/.stack     the kernel's core of the child stopped
 *                                before its K-th instruction in the vDSO,
 *                                and the call stack the steps recorded
 *   summary.txt
 * then sends every file over the console between "=== BEGIN" and
 * "=== END" lines and powers the machine off.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <asm/ptrace.h>

#ifndef NT_ARM_VFP
#define NT_ARM_VFP 0x400
#endif
#ifndef NT_ARM_HW_BREAK
#define NT_ARM_HW_BREAK 0x402
#endif
#ifndef NT_ARM_PAC_MASK
#define NT_ARM_PAC_MASK 0x406
#endif

#define MAX_REGION_STEPS 400 /* recorded steps inside the vDSO per call */
#define AFTER_STEPS 8        /* recorded steps after the return */
#define MAX_OUTSIDE_STEPS 4000
#define MAX_DEPTH 64

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "tracer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	fflush(NULL);
	sync();
	reboot(RB_POWER_OFF);
	_exit(1);
}

/* ---- symbols of an ELF image (either class) ---- */

struct sym {
	uint64_t addr, size;
	char name[48];
};

struct symtab {
	struct sym *v;
	size_t n;
};

static uint64_t rd(const unsigned char *p, int size)
{
	uint64_t v = 0;
	int i;

	for (i = size - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* function symbols of IMG at their runtime address: IMG's lowest PT_LOAD
 * vaddr is placed at LOAD (LOAD 0 keeps the link addresses) */
static void load_syms(const unsigned char *img, size_t len, uint64_t load, struct symtab *out)
{
	int c64 = img[EI_CLASS] == ELFCLASS64;
	uint64_t phoff = c64 ? rd(img + 32, 8) : rd(img + 28, 4);
	uint64_t shoff = c64 ? rd(img + 40, 8) : rd(img + 32, 4);
	unsigned phentsize = rd(img + (c64 ? 54 : 42), 2), phnum = rd(img + (c64 ? 56 : 44), 2);
	unsigned shentsize = rd(img + (c64 ? 58 : 46), 2), shnum = rd(img + (c64 ? 60 : 48), 2);
	uint64_t first = UINT64_MAX, bias;
	const unsigned char *tab = NULL;
	unsigned i, want;

	out->v = NULL;
	out->n = 0;
	if (len < 64 || memcmp(img, ELFMAG, SELFMAG) != 0)
		return;
	for (i = 0; i < phnum && phoff + (i + 1) * phentsize <= len; i++) {
		const unsigned char *ph = img + phoff + i * phentsize;
		uint64_t vaddr = c64 ? rd(ph + 16, 8) : rd(ph + 8, 4);

		if (rd(ph, 4) == PT_LOAD && vaddr < first)
			first = vaddr;
	}
	bias = load ? load - (first & ~0xfffULL) : 0;
	for (want = SHT_SYMTAB; !tab && want; want = want == SHT_SYMTAB ? SHT_DYNSYM : 0)
		for (i = 0; i < shnum && shoff + (i + 1) * shentsize <= len; i++) {
			const unsigned char *sh = img + shoff + i * shentsize;

			if (rd(sh + 4, 4) == want) {
				tab = sh;
				break;
			}
		}
	if (!tab)
		return;
	{
		uint64_t off = c64 ? rd(tab + 24, 8) : rd(tab + 16, 4);
		uint64_t size = c64 ? rd(tab + 32, 8) : rd(tab + 20, 4);
		unsigned link = rd(tab + (c64 ? 40 : 24), 4);
		unsigned entsize = c64 ? 24 : 16;
		const unsigned char *strsh = img + shoff + link * shentsize;
		uint64_t stroff = c64 ? rd(strsh + 24, 8) : rd(strsh + 16, 4);
		uint64_t n = size / entsize, j;

		if (off + size > len || stroff >= len)
			return;
		out->v = calloc(n, sizeof *out->v);
		for (j = 0; j < n; j++) {
			const unsigned char *s = img + off + j * entsize;
			unsigned name = rd(s, 4);
			unsigned info = c64 ? s[4] : s[12];
			unsigned shndx = rd(s + (c64 ? 6 : 14), 2);
			uint64_t value = c64 ? rd(s + 8, 8) : rd(s + 4, 4);
			uint64_t ssize = c64 ? rd(s + 16, 8) : rd(s + 8, 4);
			struct sym *d;

			if ((ELF64_ST_TYPE(info) != STT_FUNC && ELF64_ST_TYPE(info) != STT_NOTYPE) ||
			    shndx == SHN_UNDEF || shndx >= SHN_LORESERVE || !name || stroff + name >= len ||
			    img[stroff + name] == '$')
				continue;
			d = &out->v[out->n++];
			d->addr = (value & ~1ULL) + bias;
			d->size = ssize;
			snprintf(d->name, sizeof d->name, "%s", (const char *)img + stroff + name);
		}
		qsort(out->v, out->n, sizeof *out->v, cmp_sym);
	}
}

static const struct sym *find_sym(const struct symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	addr &= ~1ULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (t->v[lo - 1].size && addr >= t->v[lo - 1].addr + t->v[lo - 1].size)
		return NULL;
	return &t->v[lo - 1];
}

static const char *sym_name(const struct symtab *t, uint64_t addr)
{
	const struct sym *s = find_sym(t, addr);

	return s ? s->name : NULL;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap)
			buf = realloc(buf, cap = cap ? cap * 2 : 1 << 20);
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	*len = n;
	return buf;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		die("cannot write %s: %s", path, strerror(errno));
}

/* ---- one child ---- */

struct regs {
	uint64_t pc, sp, ps, lr;
	uint64_t r[31];
	int nr;
	uint64_t d[8];
	int thumb;
};

struct arch {
	const char *name; /* aarch64 or arm */
	const char *exe;  /* in the guest */
	const char *vdso_file;
	int compat;
	struct symtab exe_syms, vdso_syms;
	uint64_t vdso_lo, vdso_hi, sigpage_lo, sigpage_hi;
	unsigned char *vdso;
	int have_vdso;
};

struct frame {
	uint64_t addr;
	int signal;
};

struct run {
	struct arch *a;
	const char *call;
	FILE *trace;
	long kstop; /* -1: at a return instruction of the function entered */
	/* results */
	long region_steps, steps;
	int entered, left, bounded, exited, status, cored, skipped, entry_depth, past_return;
	uint64_t entry_pc;
	unsigned char *seen; /* per vDSO byte */
	long distinct;
};

static int get_regs(pid_t pid, struct regs *r)
{
	uint64_t buf[64];
	unsigned char fp[1024];
	struct iovec iov = { buf, sizeof buf };
	int i;

	memset(r, 0, sizeof *r);
	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
		return -1;
	if (iov.iov_len == sizeof(struct user_pt_regs)) {
		struct user_pt_regs *u = (void *)buf;

		for (i = 0; i < 31; i++)
			r->r[i] = u->regs[i];
		r->nr = 31;
		r->sp = u->sp;
		r->pc = u->pc;
		r->ps = u->pstate;
		r->lr = u->regs[30];
		iov.iov_base = fp;
		iov.iov_len = sizeof fp;
		if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRFPREG, &iov) == 0)
			for (i = 0; i < 8; i++)
				memcpy(&r->d[i], fp + 16 * (8 + i), 8);
	} else {
		uint32_t *u = (void *)buf;

		for (i = 0; i < 16; i++)
			r->r[i] = u[i];
		r->nr = 16;
		r->sp = u[13];
		r->lr = u[14];
		r->pc = u[15];
		r->ps = u[16];
		r->thumb = !!(u[16] & 0x20);
		iov.iov_base = fp;
		iov.iov_len = sizeof fp;
		if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_ARM_VFP, &iov) == 0)
			for (i = 0; i < 8; i++)
				memcpy(&r->d[i], fp + 8 * (8 + i), 8);
	}
	return 0;
}

static void put_regs(FILE *f, const struct regs *r)
{
	int i;

	fprintf(f, "S %llx %llx %llx", (unsigned long long)r->pc, (unsigned long long)r->sp,
		(unsigned long long)r->ps);
	for (i = 0; i < r->nr; i++)
		fprintf(f, " %llx", (unsigned long long)r->r[i]);
	for (i = 0; i < 8; i++)
		fprintf(f, " %llx", (unsigned long long)r->d[i]);
	fputc('\n', f);
}

static uint32_t peek32(pid_t pid, uint64_t addr)
{
	long w;

	errno = 0;
	w = ptrace(PTRACE_PEEKDATA, pid, (void *)(addr & ~7ULL), NULL);
	if (errno)
		return 0;
	return (uint32_t)((unsigned long)w >> (8 * (addr & 4)));
}

static uint16_t peek16(pid_t pid, uint64_t addr)
{
	uint32_t w = peek32(pid, addr & ~3ULL);

	return addr & 2 ? w >> 16 : w & 0xffff;
}

/* the return address a call at R's pc pushes, or 0 when it is no call */
/* At arm64's rt_sigreturn ("mov x8, #139" and "svc #0"), the signal frame
 * the kernel will restore from, as an M line: the unwinder reads it there. */
#define SIGFRAME_BYTES 1024
#define STACK_BYTES 128
static void put_memory(FILE *f, pid_t pid, uint64_t at, unsigned bytes)
{
	unsigned i;

	fprintf(f, "M %llx ", (unsigned long long)at);
	for (i = 0; i < bytes; i += 8) {
		uint64_t w;
		unsigned k;
		errno = 0;
		w = (uint64_t)ptrace(PTRACE_PEEKDATA, pid, (void *)(uintptr_t)(at + i), NULL);
		if (errno)
			break;
		for (k = 0; k < 8; k++)
			fprintf(f, "%02x", (unsigned)(w >> (8 * k)) & 0xff);
	}
	fputc('\n', f);
}

static void put_sigframe(FILE *f, pid_t pid, const struct regs *r)
{
	uint32_t insn = peek32(pid, r->pc);

	if (insn == 0xd2801168u || insn == 0xd4000001u)
		put_memory(f, pid, r->sp, SIGFRAME_BYTES);
}

static uint64_t call_return(pid_t pid, const struct regs *r)
{
	if (r->nr == 31) {
		uint32_t i = peek32(pid, r->pc);

		if ((i & 0xfc000000) == 0x94000000 ||   /* bl */
		    (i & 0xfffffc1f) == 0xd63f0000 ||   /* blr */
		    (i & 0xfefff800) == 0xd63f0800)     /* blraa, blrab, blraaz, blrabz */
			return r->pc + 4;
		return 0;
	}
	if (r->thumb) {
		uint16_t h1 = peek16(pid, r->pc), h2 = peek16(pid, r->pc + 2);

		if ((h1 & 0xf800) == 0xf000 && (h2 & 0xc000) == 0xc000) /* bl, blx imm */
			return r->pc + 4;
		if ((h1 & 0xff87) == 0x4780) /* blx reg */
			return r->pc + 2;
		return 0;
	} else {
		uint32_t i = peek32(pid, r->pc);

		if (((i & 0x0f000000) == 0x0b000000 && (i >> 28) != 0xf) || /* bl */
		    (i & 0xfe000000) == 0xfa000000 ||                        /* blx imm */
		    (i & 0x0ffffff0) == 0x012fff30)                          /* blx reg */
			return r->pc + 4;
		return 0;
	}
}

static int in_vdso(const struct arch *a, uint64_t pc)
{
	return pc >= a->vdso_lo && pc < a->vdso_hi;
}

static int in_region(const struct arch *a, uint64_t pc)
{
	return in_vdso(a, pc) || (pc >= a->sigpage_lo && pc < a->sigpage_hi);
}

static void read_maps(pid_t pid, struct arch *a)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		die("cannot open %s", path);
	a->vdso_lo = a->vdso_hi = a->sigpage_lo = a->sigpage_hi = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long lo, hi;

		if (sscanf(line, "%llx-%llx", &lo, &hi) != 2)
			continue;
		if (strstr(line, "[vdso]")) {
			a->vdso_lo = lo;
			a->vdso_hi = hi;
		} else if (strstr(line, "[sigpage]")) {
			a->sigpage_lo = lo;
			a->sigpage_hi = hi;
		}
	}
	fclose(f);
	if (!a->vdso_hi)
		die("%s has no [vdso]", a->exe);
	if (!a->have_vdso) {
		size_t size = a->vdso_hi - a->vdso_lo;
		char out[128];
		int fd;

		snprintf(path, sizeof path, "/proc/%d/mem", pid);
		fd = open(path, O_RDONLY);
		a->vdso = malloc(size);
		if (fd < 0 || pread(fd, a->vdso, size, a->vdso_lo) != (ssize_t)size)
			die("cannot read the vDSO of %s: %s", a->exe, strerror(errno));
		close(fd);
		snprintf(out, sizeof out, "/out/%s", a->vdso_file);
		write_file(out, a->vdso, size);
		load_syms(a->vdso, size, 0, &a->vdso_syms);
		a->have_vdso = 1;
	}
}

static void name_of(const struct arch *a, uint64_t addr, char *buf, size_t len)
{
	const char *n;

	if (addr >= a->sigpage_lo && addr < a->sigpage_hi)
		n = "[sigpage]";
	else if (in_vdso(a, addr))
		n = sym_name(&a->vdso_syms, addr - a->vdso_lo);
	else
		n = sym_name(&a->exe_syms, addr);
	snprintf(buf, len, "%s", n ? n : "?");
}

static void wait_stop(pid_t pid, int *status);

static const char *kname(long k)
{
	static char buf[32];

	if (k < 0)
		return "kret";
	snprintf(buf, sizeof buf, "k%ld", k);
	return buf;
}

struct hwdebug {
	uint32_t dbg_info, pad;
	struct {
		uint64_t addr;
		uint32_t ctrl, pad;
	} regs[16];
};

/* execution breakpoints at ADDR[0..N); N 0 clears them; returns how many
 * were set, or -1 */
static int set_breakpoints(pid_t pid, const uint64_t *addr, const int *len2, int n)
{
	struct hwdebug h;
	struct iovec iov = { &h, sizeof h };
	int max, i;

	memset(&h, 0, sizeof h);
	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_ARM_HW_BREAK, &iov) < 0)
		return -1;
	max = h.dbg_info & 0xff;
	if (max > 16)
		max = 16;
	if (n > max)
		n = max;
	memset(h.regs, 0, sizeof h.regs);
	for (i = 0; i < n; i++) {
		h.regs[i].addr = addr[i];
		/* enabled, EL0, execute, byte address select */
		h.regs[i].ctrl = 1 | 2 << 1 | (len2[i] ? 0x3 : 0xf) << 5;
	}
	iov.iov_len = offsetof(struct hwdebug, regs) + max * sizeof h.regs[0];
	if (ptrace(PTRACE_SETREGSET, pid, (void *)NT_ARM_HW_BREAK, &iov) < 0) {
		if (n)
			set_breakpoints(pid, NULL, NULL, 0);
		return -1;
	}
	return n;
}

/* runs the child at full speed to a return instruction of the vDSO
 * function it entered at run->entry_pc: the seqcount loop of the time
 * functions retries forever when every instruction is a step */
static int skip_to_return(struct run *run, pid_t pid, const struct regs *r, uint64_t ret_addr)
{
	const struct arch *a = run->a;
	const struct sym *f = find_sym(&a->vdso_syms, run->entry_pc - a->vdso_lo);
	uint64_t addr[16], o, end;
	int len2[16], n = 0, status;
	siginfo_t si;

	if (!f || !f->size || f->addr + f->size > a->vdso_hi - a->vdso_lo)
		return -1;
	end = f->addr + f->size;
	for (o = f->addr; o + 2 <= end && n < 16;) {
		const unsigned char *p = a->vdso + o;

		if (!r->thumb) {
			uint32_t i = rd(p, 4);

			if (i == 0xd65f03c0 || i == 0xd65f0bff || i == 0xd65f0fff || /* ret, retaa, retab */
			    ((i & 0x0ffffff0) == 0x012fff10 && (i & 0xf) == 14)) {   /* bx lr */
				addr[n] = a->vdso_lo + o;
				len2[n++] = 0;
			}
			o += 4;
		} else {
			uint16_t h = rd(p, 2), h2 = o + 4 <= end ? rd(p + 2, 2) : 0;
			int wide = (h >> 11) >= 0x1d;

			if (h == 0x4770 || (h & 0xff00) == 0xbd00 ||           /* bx lr, pop {..pc} */
			    (h == 0xe8bd && (h2 & 0x8000)) ||                   /* ldmia.w sp!, {..pc} */
			    (h == 0xf85d && h2 == 0xfb04)) {                   /* ldr.w pc, [sp], #4 */
				addr[n] = a->vdso_lo + o;
				len2[n++] = 1;
			}
			o += wide ? 4 : 2;
		}
	}
	run->past_return = 0;
	if ((n == 0 || set_breakpoints(pid, addr, len2, n) < n) && ret_addr) {
		/* more returns than breakpoints: stop after the return instead */
		addr[0] = ret_addr;
		len2[0] = r->thumb && (ret_addr & 1);
		n = 1;
		run->past_return = 1;
		if (set_breakpoints(pid, addr, len2, n) <= 0)
			return -1;
	} else if (n == 0) {
		return -1;
	}
	printf("=== skip %s: %d returns from %llx\n", f->name, n, (unsigned long long)addr[0]);
	fflush(stdout);
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	wait_stop(pid, &status);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		run->exited = 1;
		run->status = status;
		return -1;
	}
	set_breakpoints(pid, NULL, NULL, 0);
	if (WSTOPSIG(status) != SIGTRAP || ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) < 0 ||
	    si.si_code != TRAP_HWBKPT)
		return -1;
	return 0;
}

static void write_stack(struct run *run, const struct regs *r, const struct frame *st, int depth)
{
	char path[256], name[64];
	FILE *f;
	int i;

	snprintf(path, sizeof path, "/out/%s.%s.%s.stack", run->a->name, run->call, kname(run->kstop));
	f = fopen(path, "w");
	if (!f)
		die("cannot write %s", path);
	name_of(run->a, r->pc, name, sizeof name);
	fprintf(f, "%llx %s\n", (unsigned long long)r->pc, name);
	for (i = depth - 1; i >= 0; i--) {
		name_of(run->a, st[i].addr, name, sizeof name);
		fprintf(f, "%llx %s%s\n", (unsigned long long)st[i].addr, name, st[i].signal ? " signal" : "");
	}
	fclose(f);
}

static int pac_mask(pid_t pid, uint64_t m[2])
{
	struct iovec iov = { m, 16 };

	m[0] = m[1] = 0;
	return ptrace(PTRACE_GETREGSET, pid, (void *)NT_ARM_PAC_MASK, &iov);
}

static void wait_stop(pid_t pid, int *status)
{
	while (waitpid(pid, status, __WALL) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
}

/* lets the child run to its end; notes a core */
static void finish_child(struct run *run, pid_t pid, int sig)
{
	int status, loops = 0;

	for (;;) {
		if (++loops > 1000)
			die("%s %s does not end", run->a->exe, run->call);
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) < 0 && errno == ESRCH)
			;
		wait_stop(pid, &status);
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		sig = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
	}
	run->exited = 1;
	run->status = status;
	run->cored = WIFSIGNALED(status) && WCOREDUMP(status);
}

static void do_run(struct run *run)
{
	struct arch *a = run->a;
	struct frame st[MAX_DEPTH];
	int depth = 0, status, sig = 0, i;
	long after = 0, outside = 0;
	uint64_t last_sp = 0;
	siginfo_t si;
	pid_t pid;

	memset(&run->region_steps, 0, sizeof *run - offsetof(struct run, region_steps));
	printf("=== run %s %s %s\n", a->name, run->call, run->kstop ? kname(run->kstop) : "trace");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execl(a->exe, a->exe, run->call, (char *)NULL);
		_exit(127);
	}
	wait_stop(pid, &status);
	if (!WIFSTOPPED(status))
		die("%s did not start", a->exe);
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_EXITKILL);
	/* to the marker: a SIGTRAP the child sent itself */
	for (;;) {
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
		wait_stop(pid, &status);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			run->exited = 1;
			run->status = status;
			return;
		}
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP && ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == 0 && si.si_code == SI_TKILL)
			break;
	}
	read_maps(pid, a);
	if (run->trace) {
		uint64_t m[2];

		fprintf(run->trace, "# arch %s\n# exe %s\n# vdso %llx %llx\n", a->name, a->exe + 1,
			(unsigned long long)a->vdso_lo, (unsigned long long)(a->vdso_hi - a->vdso_lo));
		if (a->sigpage_hi)
			fprintf(run->trace, "# sigpage %llx %llx\n", (unsigned long long)a->sigpage_lo,
				(unsigned long long)(a->sigpage_hi - a->sigpage_lo));
		fprintf(run->trace, "# call %s\n", run->call);
		if (!a->compat) {
			pac_mask(pid, m);
			fprintf(run->trace, "# pac_mask %llx %llx\n", (unsigned long long)m[0],
				(unsigned long long)m[1]);
		}
	}
	run->seen = calloc(1, a->vdso_hi - a->vdso_lo);
	sig = 0;
	for (;;) {
		struct regs r, n;
		uint64_t ret;
		int region;

		if (get_regs(pid, &r) < 0)
			die("%s %s: cannot read registers: %s", a->exe, run->call, strerror(errno));
		region = in_region(a, r.pc);
		if (region) {
			if (!run->entered) {
				run->entered = 1;
				run->entry_pc = r.pc;
				run->entry_depth = depth;
			}
			run->region_steps++;
			if (in_vdso(a, r.pc) && !run->seen[r.pc - a->vdso_lo]++)
				run->distinct++;
			if ((run->kstop > 0 && run->region_steps == run->kstop) ||
			    (run->kstop < 0 && run->skipped)) {
				write_stack(run, &r, st, depth);
				finish_child(run, pid, SIGABRT);
				break;
			}
		} else if (run->entered) {
			run->left = 1;
		}
		if (run->trace && !a->compat && in_vdso(a, r.pc))
			put_sigframe(run->trace, pid, &r);
		/* compat functions push registers: the stack below the
		 * caller's, once each time the SP moved, for the unwinder */
		if (run->trace && a->compat && in_vdso(a, r.pc) && r.sp != last_sp) {
			put_memory(run->trace, pid, r.sp, STACK_BYTES);
			last_sp = r.sp;
		}
		if (run->trace)
			put_regs(run->trace, &r);
		if (run->left && ++after > AFTER_STEPS)
			break;
		if (region && !run->skipped && in_vdso(a, r.pc) &&
		    (run->region_steps >= MAX_REGION_STEPS || run->kstop < 0)) {
			if (skip_to_return(run, pid, &r,
					   run->entry_depth ? st[run->entry_depth - 1].addr : 0) < 0) {
				run->bounded = 1;
				if (run->exited)
					return;
				break;
			}
			run->skipped = 1;
			depth = run->entry_depth;
			if (run->past_return) {
				depth--;
				if (run->kstop < 0) {
					finish_child(run, pid, 0);
					run->cored = 0;
					return;
				}
			}
			if (run->trace)
				fprintf(run->trace, "# skipped to %s %s\n", run->past_return ? "the return from" : "a return of",
					sym_name(&a->vdso_syms, run->entry_pc - a->vdso_lo));
			continue;
		}
		if (region && run->region_steps >= MAX_REGION_STEPS + 100) {
			run->bounded = 1;
			break;
		}
		if (!run->entered && ++outside > MAX_OUTSIDE_STEPS)
			break;
		ret = call_return(pid, &r);
		ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(long)sig);
		sig = 0;
		wait_stop(pid, &status);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			run->exited = 1;
			run->status = status;
			run->cored = WIFSIGNALED(status) && WCOREDUMP(status);
			return;
		}
		run->steps++;
		while (WSTOPSIG(status) != SIGTRAP) {
			/* a signal for the child: the next step enters its handler */
			sig = WSTOPSIG(status);
			if (run->trace)
				fprintf(run->trace, "# signal %d\n", sig);
			get_regs(pid, &n);
			if (depth < MAX_DEPTH)
				st[depth++] = (struct frame){ n.pc & ~1ULL, 1 };
			ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(long)sig);
			sig = 0;
			wait_stop(pid, &status);
			if (WIFEXITED(status) || WIFSIGNALED(status)) {
				run->exited = 1;
				run->status = status;
				run->cored = WIFSIGNALED(status) && WCOREDUMP(status);
				return;
			}
			get_regs(pid, &r);
			if (r.pc != n.pc && depth < MAX_DEPTH)
				st[depth++] = (struct frame){ r.lr & ~1ULL, 0 };
			ret = 0;
		}
		get_regs(pid, &n);
		for (i = depth - 1; i >= 0; i--)
			if ((st[i].addr & ~1ULL) == (n.pc & ~1ULL))
				break;
		if (i >= 0)
			depth = i;
		else if (ret && (n.pc & ~1ULL) != (ret & ~1ULL) && depth < MAX_DEPTH)
			st[depth++] = (struct frame){ ret & ~1ULL, 0 };
	}
	if (!run->exited)
		finish_child(run, pid, 0);
}

/* ---- the plan ---- */

static FILE *summary;

static void trace_call(struct arch *a, const char *call, long *nsteps)
{
	char path[256];
	struct run run = { .a = a, .call = call };
	int attempt;

	for (attempt = 0; attempt < 3; attempt++) {
		snprintf(path, sizeof path, "/out/%s.%s.trace", a->name, call);
		run.trace = fopen(path, "w");
		if (!run.trace)
			die("cannot write %s", path);
		do_run(&run);
		fclose(run.trace);
		if (!(run.bounded || run.skipped) || !nsteps)
			break;
	}
	if (!run.entered) {
		unlink(path);
		fprintf(summary, "%s.%s.trace none exit %d\n", a->name, call,
			WIFEXITED(run.status) ? WEXITSTATUS(run.status) : 128 + WTERMSIG(run.status));
		if (nsteps)
			*nsteps = 0;
		return;
	}
	fprintf(summary, "%s.%s.trace steps %ld vdso_steps %ld distinct %ld%s%s\n", a->name, call,
		run.steps, run.region_steps, run.distinct, run.skipped ? " skipped_to_return" : "",
		run.bounded ? " bounded" : "");
	if (nsteps)
		*nsteps = run.bounded ? 0 : run.skipped ? -1 : run.region_steps;
	free(run.seen);
}

static void core_call(struct arch *a, const char *call)
{
	long n, ks[8], nk = 0, i, j;
	char from[64], to[256];

	trace_call(a, call, &n);
	if (n == 0) {
		fprintf(summary, "%s.%s cores none: no trace\n", a->name, call);
		return;
	}
	{
		long full[] = { 1, 2, n / 2, n - 1, n }, loop[] = { 1, 2, 4, 8, 16, -1 };
		long *want = n > 0 ? full : loop, nw = n > 0 ? 5 : 6;

		for (i = 0; i < nw; i++) {
			if (want[i] == -1) {
				ks[nk++] = -1;
				continue;
			}
			if (want[i] < 1 || (n > 0 && want[i] > n))
				continue;
			for (j = 0; j < nk && ks[j] != want[i]; j++)
				;
			if (j == nk)
				ks[nk++] = want[i];
		}
	}
	for (i = 0; i < nk; i++) {
		struct run run = { .a = a, .call = call, .kstop = ks[i] };
		int kept = 0;

		do_run(&run);
		snprintf(to, sizeof to, "/out/%s.%s.%s.core", a->name, call, kname(ks[i]));
		if (run.cored) {
			DIR *d = opendir("/cores");
			struct dirent *e;

			while (d && (e = readdir(d)))
				if (strncmp(e->d_name, "core.", 5) == 0) {
					snprintf(from, sizeof from, "/cores/%s", e->d_name);
					if (rename(from, to) == 0)
						kept = 1;
				}
			if (d)
				closedir(d);
		}
		free(run.seen);
		if (kept) {
			struct stat sb;

			stat(to, &sb);
			fprintf(summary, "%s.%s.%s.core bytes %lld\n", a->name, call, kname(ks[i]),
				(long long)sb.st_size);
		} else {
			snprintf(to, sizeof to, "/out/%s.%s.%s.stack", a->name, call, kname(ks[i]));
			unlink(to);
			fprintf(summary, "%s.%s.%s.core none (%ld steps in the vDSO)\n", a->name, call,
				kname(ks[i]), run.region_steps);
		}
	}
}

/* ---- over the console ---- */

static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffff;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320 : c >> 1;
	}
	return ~c;
}

static void send_file(const char *name)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char path[256], line[128];
	unsigned char *buf;
	size_t len, off, zeros = 0;

	snprintf(path, sizeof path, "/out/%s", name);
	buf = read_file(path, &len);
	if (!buf)
		die("cannot read %s", path);
	printf("=== BEGIN %s %zu %08x\n", name, len, crc32(buf, len));
	/* 512-byte blocks of zeros as "Z count", the rest base64 */
	for (off = 0; off < len;) {
		size_t blk = len - off < 512 ? len - off : 512, i, k;

		for (i = 0; i < blk && !buf[off + i]; i++)
			;
		if (i == blk) {
			zeros += blk;
			off += blk;
			continue;
		}
		if (zeros) {
			printf("Z %zu\n", zeros);
			zeros = 0;
		}
		for (i = 0; i < blk; i += 57) {
			size_t m = blk - i < 57 ? blk - i : 57, o = 0;
			const unsigned char *p = buf + off + i;

			for (k = 0; k < m; k += 3) {
				uint32_t v = p[k] << 16 | (k + 1 < m ? p[k + 1] << 8 : 0) | (k + 2 < m ? p[k + 2] : 0);

				line[o++] = b64[v >> 18 & 63];
				line[o++] = b64[v >> 12 & 63];
				line[o++] = k + 1 < m ? b64[v >> 6 & 63] : '=';
				line[o++] = k + 2 < m ? b64[v & 63] : '=';
			}
			line[o] = 0;
			printf("%s\n", line);
		}
		off += blk;
	}
	if (zeros)
		printf("Z %zu\n", zeros);
	printf("=== END %s\n", name);
	free(buf);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void send_all(void)
{
	DIR *d = opendir("/out");
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			names = realloc(names, (n + 1) * sizeof *names);
			names[n++] = strdup(e->d_name);
		}
	if (d)
		closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (i = 0; i < n; i++)
		send_file(names[i]);
	printf("=== DONE %zu files\n", n);
	fflush(stdout);
	fflush(stdout);
}

static void setup(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	int fd;

	mkdir("/proc", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	mkdir("/out", 0755);
	mkdir("/cores", 0755);
	fd = open("/proc/sys/kernel/printk", O_WRONLY);
	if (fd >= 0) {
		write(fd, "1\n", 2);
		close(fd);
	}
	fd = open("/proc/sys/kernel/core_pattern", O_WRONLY);
	if (fd < 0 || write(fd, "/cores/core.%p\n", 15) != 15)
		die("cannot set core_pattern");
	close(fd);
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		die("setrlimit: %s", strerror(errno));
}

static void load_exe_syms(struct arch *a)
{
	size_t len;
	unsigned char *img = read_file(a->exe, &len);

	if (!img)
		die("no %s", a->exe);
	load_syms(img, len, 0, &a->exe_syms);
}

int main(void)
{
	static struct arch a64 = { .name = "aarch64", .exe = "/child64", .vdso_file = "vdso64.so" };
	static struct arch a32 = { .name = "arm", .exe = "/child32", .vdso_file = "vdso32.so", .compat = 1 };
	static const char *core_calls[] = { "clock_gettime.0", "clock_gettime.1", "clock_gettime.6",
					    "gettimeofday", "clock_getres.1", "handler_clock_gettime.1",
					    "sigreturn" };
	struct timespec t0, t1;
	char call[64];
	int i;
	size_t c;

	setup();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	summary = fopen("/out/summary.txt", "w");
	if (!summary)
		die("cannot write the summary");
	{
		char rel[256] = "?";
		FILE *f = fopen("/proc/sys/kernel/osrelease", "r");

		if (f) {
			if (fgets(rel, sizeof rel, f))
				rel[strcspn(rel, "\n")] = 0;
			fclose(f);
		}
		fprintf(summary, "# kernel %s\n", rel);
	}
	load_exe_syms(&a64);
	load_exe_syms(&a32);
	printf("=== START\n");
	fflush(stdout);

	for (i = 0; i < 12; i++) {
		snprintf(call, sizeof call, "clock_gettime.%d", i);
		trace_call(&a64, call, NULL);
		trace_call(&a32, call, NULL);
		snprintf(call, sizeof call, "clock_gettime64.%d", i);
		trace_call(&a32, call, NULL);
	}
	for (i = 0; i < 8; i += 1) {
		if (i == 2 || i == 3)
			continue;
		snprintf(call, sizeof call, "clock_getres.%d", i);
		trace_call(&a64, call, NULL);
		trace_call(&a32, call, NULL);
	}
	trace_call(&a64, "gettimeofday", NULL);
	trace_call(&a32, "gettimeofday", NULL);
	trace_call(&a32, "time", NULL);
	trace_call(&a64, "libc_clock_gettime.1", NULL);
	trace_call(&a64, "libc_clock_getres.1", NULL);
	trace_call(&a64, "libc_gettimeofday", NULL);
	trace_call(&a32, "libc_clock_gettime.1", NULL);
	trace_call(&a32, "libc_gettimeofday", NULL);
	for (c = 0; c < sizeof core_calls / sizeof core_calls[0]; c++) {
		core_call(&a64, core_calls[c]);
		core_call(&a32, core_calls[c]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(summary, "# guest seconds %.1f\n", t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	fclose(summary);
	send_all();
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
