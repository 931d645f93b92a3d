/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope_object_*: this process's own stack, unwound through its
 * executable and libc with the objects' rows, must give the return
 * addresses glibc's backtrace() (libgcc's unwinder) gives, down to _start;
 * plus the errors of bad input. */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>
#include "vdsoscope.h"
#include "runner.h"

#define MAX_FRAMES 64

struct map {
	uint64_t start, end, pgoff;
	char path[512];
};
static struct map maps[256];
static size_t nmaps;

static void read_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];

	if (!f) {
		perror("/proc/self/maps");
		exit(1);
	}
	while (nmaps < 256 && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, off;
		char perm[8];
		int n = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perm, &off, &n) < 4 ||
		    !n || perm[2] != 'x' || line[n] != '/')
			continue;
		line[n + strcspn(line + n, "\n")] = 0;
		maps[nmaps].start = lo;
		maps[nmaps].end = hi;
		maps[nmaps].pgoff = off;
		snprintf(maps[nmaps].path, sizeof(maps[nmaps].path), "%s", line + n);
		nmaps++;
	}
	fclose(f);
}

static const struct map *map_of(uint64_t pc)
{
	for (size_t i = 0; i < nmaps; i++)
		if (pc >= maps[i].start && pc < maps[i].end)
			return &maps[i];
	return NULL;
}

#define THREADS 4

/* each frame's step as the single thread did it, for the threads to redo */
struct frame_step {
	struct vdsoscope_regs in, out;
	size_t map;
	uint64_t bias;
	unsigned int flags;
	const char *name;
};
static struct frame_step steps[MAX_FRAMES];
static int nsteps;
static struct vdsoscope_object *shared[256];
static int thread_errors[THREADS];

static void *worker(void *arg)
{
	int *err = arg;

	for (int i = 0; i < nsteps; i++) {
		const struct frame_step *f = &steps[i];
		const struct vdsoscope_arch *a = vdsoscope_object_arch(shared[f->map]);
		struct vdsoscope_regs out;
		const char *name = NULL;
		unsigned int ff = 0;
		uint64_t pc = f->in.r[a->ip_reg];

		if (vdsoscope_object_step(shared[f->map], f->bias, &f->in, f->flags,
					  vdsoscope_read_self, NULL, &out, &ff)) {
			(*err)++;
			continue;
		}
		vdsoscope_object_func_at(shared[f->map], pc - 1 - f->bias, &name, NULL);
		if ((name || f->name) && (!name || !f->name || strcmp(name, f->name)))
			(*err)++;
		if (memcmp(out.valid, f->out.valid, sizeof(out.valid)))
			(*err)++;
		for (int r = 0; r < VDSOSCOPE_MAX_REGS; r++)
			if (vdsoscope_regs_has(&out, r) && out.r[r] != f->out.r[r])
				(*err)++;
	}
	return NULL;
}

/* THREADS threads redo every step on fresh objects they share, so rows are
 * compiled while others read them; the results must be the same. */
static void check_threads(void)
{
	pthread_t t[THREADS];
	int i;

	for (i = 0; i < nsteps; i++)
		if (!shared[steps[i].map] &&
		    vdsoscope_object_open(&shared[steps[i].map], maps[steps[i].map].path, NULL)) {
			CHECK(0, "reopening %s", maps[steps[i].map].path);
			return;
		}
	for (i = 0; i < THREADS; i++)
		CHECK_EQ_INT(pthread_create(&t[i], NULL, worker, &thread_errors[i]), 0);
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ_INT(thread_errors[i], 0);
	}
	for (i = 0; i < 256; i++)
		vdsoscope_object_close(shared[i]);
}

/* A reader of this process that records the addresses read and refuses
 * one of them. */
struct rec_reader {
	uint64_t seen[64];
	int n;
	uint64_t refuse;
};
static int rec_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct rec_reader *r = arg;

	if (r->n < 64)
		r->seen[r->n++] = addr;
	if (addr == r->refuse)
		return -1;
	return vdsoscope_read_self(NULL, addr, buf, len);
}

/* A frame that restores a register from its save slot: with that slot
 * unreadable the step fails, unless VDSOSCOPE_STEP_LENIENT, which leaves
 * just that register unknown. */
static void check_lenient(struct vdsoscope_object **objs)
{
	const struct vdsoscope_arch *a;
	int i, k, tried = 0;

	for (i = 0; i < nsteps && !tried; i++) {
		const struct frame_step *f = &steps[i];
		struct rec_reader rr = { .refuse = 1 };
		struct vdsoscope_regs out;
		uint64_t ra_slot;

		a = vdsoscope_object_arch(objs[f->map]);
		if (vdsoscope_object_step(objs[f->map], f->bias, &f->in, f->flags, rec_read, &rr,
					  &out, NULL) ||
		    !vdsoscope_regs_has(&out, a->sp_reg))
			continue;
		ra_slot = out.r[a->sp_reg] - a->addr_size;
		for (k = 0; k < rr.n && rr.seen[k] == ra_slot; k++)
			;
		if (k == rr.n)
			continue;
		tried = 1;
		rr.refuse = rr.seen[k];
		rr.n = 0;
		CHECK_EQ_INT(vdsoscope_object_step(objs[f->map], f->bias, &f->in, f->flags, rec_read,
						   &rr, &out, NULL), -VDSOSCOPE_E_MEMORY);
		rr.n = 0;
		CHECK_EQ_INT(vdsoscope_object_step(objs[f->map], f->bias, &f->in,
						   f->flags | VDSOSCOPE_STEP_LENIENT, rec_read, &rr,
						   &out, NULL), 0);
		CHECK_EQ_U64(out.r[a->ip_reg], f->out.r[a->ip_reg]);
		CHECK_EQ_INT(__builtin_popcountll(f->out.valid[0] & ~out.valid[0]), 1);
	}
	CHECK(tried, "no frame restores a register from the stack");
}

static void *bt[MAX_FRAMES];
static int nbt;
static ucontext_t uc;
static void unwind_from_context(void);

__attribute__((noinline)) static int inner(int x)
{
	getcontext(&uc);
	nbt = backtrace(bt, MAX_FRAMES);
	/* deeper than inner(): the frames above stay as they were */
	unwind_from_context();
	__asm__ volatile("" ::: "memory");
	return x + 1;
}
__attribute__((noinline)) static int middle(int x)
{
	int r = inner(x + 1);
	__asm__ volatile("" ::: "memory");
	return r * 3;
}
__attribute__((noinline)) static int outer(int x)
{
	int r = middle(x * 2);
	__asm__ volatile("" ::: "memory");
	return r - 1;
}

static void unwind_from_context(void)
{
	const struct vdsoscope_arch *a;
	struct vdsoscope_object *objs[256] = { 0 };
	struct vdsoscope_regs r;
	uint64_t pcs[MAX_FRAMES];
	const char *name = NULL;
	unsigned int flags = VDSOSCOPE_STEP_CALLER, ff = 0;
	int n = 0, i, j, rc = 0, outermost = 0;

	a = vdsoscope_arch_by_machine(sizeof(void *) == 8 ? 62 : 3, sizeof(void *) == 8 ? 64 : 32);
	CHECK(a != NULL, "no register table");
	if (!a)
		return;
	memset(&r, 0, sizeof(r));
#if defined(__x86_64__)
	{
		static const int dwarf_of_greg[] = {
			[REG_RAX] = 0, [REG_RDX] = 1, [REG_RCX] = 2, [REG_RBX] = 3, [REG_RSI] = 4,
			[REG_RDI] = 5, [REG_RBP] = 6, [REG_RSP] = 7, [REG_R8] = 8, [REG_R9] = 9,
			[REG_R10] = 10, [REG_R11] = 11, [REG_R12] = 12, [REG_R13] = 13,
			[REG_R14] = 14, [REG_R15] = 15, [REG_RIP] = 16,
		};
		int g[] = { REG_RBX, REG_RBP, REG_RSP, REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP };
		for (i = 0; i < (int)(sizeof(g) / sizeof(g[0])); i++) {
			r.r[dwarf_of_greg[g[i]]] = (uint64_t)uc.uc_mcontext.gregs[g[i]];
			r.valid[0] |= 1ull << dwarf_of_greg[g[i]];
		}
	}
#else
	r.r[3] = (uint32_t)uc.uc_mcontext.gregs[REG_EBX];
	r.r[4] = (uint32_t)uc.uc_mcontext.gregs[REG_ESP];
	r.r[5] = (uint32_t)uc.uc_mcontext.gregs[REG_EBP];
	r.r[6] = (uint32_t)uc.uc_mcontext.gregs[REG_ESI];
	r.r[7] = (uint32_t)uc.uc_mcontext.gregs[REG_EDI];
	r.r[8] = (uint32_t)uc.uc_mcontext.gregs[REG_EIP];
	vdsoscope_regs_clear(&r);
	r.valid[0] = 0x1f8;
#endif
	/* getcontext's saved IP is its return address in inner() */
	while (n < MAX_FRAMES && vdsoscope_regs_has(&r, a->ip_reg)) {
		uint64_t pc = r.r[a->ip_reg], bias;
		const struct map *m = map_of(pc);
		size_t k;

		pcs[n++] = pc;
		CHECK(m != NULL, "frame %d: 0x%llx in no executable mapping", n - 1,
		      (unsigned long long)pc);
		if (!m)
			return;
		k = (size_t)(m - maps);
		if (!objs[k]) {
			rc = vdsoscope_object_open(&objs[k], m->path, NULL);
			CHECK_EQ_INT(rc, 0);
			if (rc)
				return;
		}
		rc = vdsoscope_object_bias(objs[k], m->start, m->pgoff, &bias);
		CHECK_EQ_INT(rc, 0);
		if (n == 1) {
			uint64_t start;
			CHECK_EQ_INT(vdsoscope_object_func_at(objs[k], pc - 1 - bias, &name, &start), 0);
			CHECK_STR(name, "inner");
			CHECK_EQ_U64(start + bias, (uint64_t)(uintptr_t)inner);
		}
		ff = 0;
		steps[nsteps].in = r;
		steps[nsteps].map = k;
		steps[nsteps].bias = bias;
		steps[nsteps].flags = flags;
		steps[nsteps].name = NULL;
		vdsoscope_object_func_at(objs[k], pc - 1 - bias, &steps[nsteps].name, NULL);
		rc = vdsoscope_object_step(objs[k], bias, &r, flags, vdsoscope_read_self, NULL, &r, &ff);
		steps[nsteps++].out = r;
		CHECK(rc == 0, "frame %d at 0x%llx: %s (%s)", n - 1, (unsigned long long)pc,
		      vdsoscope_strerror(rc), vdsoscope_errmsg());
		if (rc)
			break;
		if (ff & VDSOSCOPE_FRAME_OUTERMOST) {
			outermost = 1;
			break;
		}
	}
	CHECK(outermost, "the unwind did not end at an outermost frame (%d frames)", n);
	check_threads();
	check_lenient(objs);
	/* backtrace()'s first frame is its own call site in inner() (with a
	 * sanitizer's interceptor, one more before it); from inner()'s caller
	 * on, both lists must be the same */
	CHECK(nbt >= 5 && n >= 5, "backtrace() gave %d frames, the objects %d", nbt, n);
	for (j = 1; j < 3 && j < nbt && n > 1; j++)
		if ((uint64_t)(uintptr_t)bt[j] == pcs[1])
			break;
	CHECK(j < 3, "middle()'s return address 0x%llx is not in backtrace()'s first frames",
	      n > 1 ? (unsigned long long)pcs[1] : 0ull);
	CHECK_EQ_INT(n - 1, nbt - j);
	for (i = 1; i < n && i - 1 + j < nbt; i++)
		CHECK_EQ_U64(pcs[i], (uint64_t)(uintptr_t)bt[i - 1 + j]);
	for (i = 0; i < 256; i++) {
		if (objs[i])
			CHECK(vdsoscope_object_row_count(objs[i]) > 0, "%s: no rows", maps[i].path);
		vdsoscope_object_close(objs[i]);
	}
}

static void check_own_stack(void)
{
	read_maps();
	outer(1);
}

static void check_errors(void)
{
	struct vdsoscope_object *o = NULL;
	struct vdsoscope_regs r;
	char self[4096];
	ssize_t len;
	uint64_t bias;
	const char *name;
	int rc;

	CHECK_EQ_INT(vdsoscope_object_open(&o, "/nonexistent/file", NULL), -ENOENT);
	CHECK(o == NULL, "object set on failure");
	CHECK_EQ_INT(vdsoscope_object_open(&o, "/proc/self/status", NULL), -VDSOSCOPE_E_NOT_ELF);
	CHECK_EQ_INT(vdsoscope_object_open(NULL, "/proc/self/status", NULL), -VDSOSCOPE_E_INVALID);
	CHECK_EQ_INT(vdsoscope_object_open(&o, "/", NULL), -VDSOSCOPE_E_INVALID);
	{
		/* a FIFO with no writer: refused at once, not waited on */
		char fifo[] = "/tmp/test-object.XXXXXX";
		int fd = mkstemp(fifo);
		if (fd >= 0) {
			close(fd);
			unlink(fifo);
			if (mkfifo(fifo, 0600) == 0) {
				CHECK_EQ_INT(vdsoscope_object_open(&o, fifo, NULL), -VDSOSCOPE_E_INVALID);
				unlink(fifo);
			}
		}
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(len > 0, "readlink: %s", strerror(errno));
	if (len <= 0)
		return;
	self[len] = 0;
	rc = vdsoscope_object_open(&o, self, NULL);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		return;
	CHECK_EQ_INT(vdsoscope_object_bias(o, 0x400000, 1ull << 40, &bias), -VDSOSCOPE_E_NOT_FOUND);
	CHECK_EQ_INT(vdsoscope_object_func_at(o, 0, &name, NULL), -VDSOSCOPE_E_NOT_FOUND);
	/* the ELF header is covered by no FDE */
	memset(&r, 0, sizeof(r));
	r.r[vdsoscope_object_arch(o)->ip_reg] = 0x1;
	r.r[vdsoscope_object_arch(o)->sp_reg] = 0x1000;
	vdsoscope_regs_clear(&r);
	r.valid[0] = 1ull << vdsoscope_object_arch(o)->ip_reg | 1ull << vdsoscope_object_arch(o)->sp_reg;
	CHECK_EQ_INT(vdsoscope_object_step(o, 0, &r, 0, vdsoscope_read_self, NULL, &r, NULL),
		     -VDSOSCOPE_E_NO_CFI);
	vdsoscope_regs_clear(&r);
	CHECK_EQ_INT(vdsoscope_object_step(o, 0, &r, 0, vdsoscope_read_self, NULL, &r, NULL),
		     -VDSOSCOPE_E_REG_UNDEFINED);
	vdsoscope_object_close(o);
	vdsoscope_object_close(NULL);
}

int main(void)
{
	check_own_stack();
	check_errors();
	return test_result("test-object");
}
