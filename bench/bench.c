/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench: the figures behind "make bench", each against a peer measured in
 * the same run.
 *
 *   1. one vdsoscope_step() through a vDSO frame, against libdw's
 *      dwarf_cfi_addrframe() + dwarf_frame_cfa() + dwarf_frame_register()
 *      for every register on the same image bytes;
 *   2. vdsoscope_func_at(), against a libelf scan of .dynsym;
 *   3. vdsoscope_open_pid() of a live process while an image with the same
 *      bytes is open (warm), against the same open without the cache (cold).
 *
 * Usage: bench VDSO-TARGET    (the tests/vdso-target helper program)
 *
 * Times are reported, never asserted: the exit status is 0 unless something
 * failed to run.
 */
#include "config.h"
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "vdsoscope.h"

#define BATCHES 31              /* timed batches per figure; median taken */
#define BATCH_NS 4000000ull     /* each batch runs at least this long */
#define STACK_WORDS 64          /* the fake stack the steps read */
#define SYM_ADDRS 4096          /* addresses symbolized per repetition */
#define WARM_OPENS 501
#define COLD_OPENS 101

/* x86_64 DWARF register numbers */
#define X86_64_NREGS 17
#define X64_RBX 3
#define X64_RBP 6
#define X64_RSP 7
#define X64_RIP 16

static volatile uint64_t sink;

/* ---- timing ------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		perror("bench: clock_gettime(CLOCK_MONOTONIC)");
		exit(1);
	}
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One batch: REPS repetitions of some work of OPS operations each; returns
 * a checksum of the results (fed to sink so nothing is optimized away). */
typedef uint64_t (*batch_fn)(void *ctx, unsigned long reps);

/* Median nanoseconds per operation of FN over BATCHES batches, each
 * calibrated to last at least BATCH_NS.  OPS: operations per repetition. */
static double time_per_op(batch_fn fn, void *ctx, size_t ops)
{
	double per_op[BATCHES];
	unsigned long reps = 1;
	uint64_t t0, dt;
	int i;

	for (;;) {
		t0 = now_ns();
		sink += fn(ctx, reps);
		dt = now_ns() - t0;
		if (dt >= BATCH_NS || reps >= (1ul << 30))
			break;
		reps *= 2;
	}
	for (i = 0; i < BATCHES; i++) {
		t0 = now_ns();
		sink += fn(ctx, reps);
		dt = now_ns() - t0;
		per_op[i] = (double)dt / ((double)reps * (double)ops);
	}
	return median(per_op, BATCHES);
}

/* ---- results table ------------------------------------------------------- */

struct result {
	const char *figure;
	const char *unit;
	double ours, peer;
	int lower_is_better;
	const char *target;
	int met;               /* -1: the figure did not run */
};

static void print_table(const struct result *r, size_t n)
{
	size_t i;

	printf("\n%-34s %14s %14s %9s  %-22s %s\n", "figure", "ours", "peer", "ratio", "target",
	       "met");
	for (i = 0; i < n; i++) {
		char ours[32], peer[32], ratio[32];

		if (r[i].met < 0) {
			printf("%-34s %14s %14s %9s  %-22s %s\n", r[i].figure, "-", "-", "-",
			       r[i].target, "FAILED TO RUN");
			continue;
		}
		snprintf(ours, sizeof(ours), "%.2f %s", r[i].ours, r[i].unit);
		snprintf(peer, sizeof(peer), "%.2f %s", r[i].peer, r[i].unit);
		snprintf(ratio, sizeof(ratio), "%.1fx",
			 r[i].lower_is_better ? r[i].peer / r[i].ours : r[i].ours / r[i].peer);
		printf("%-34s %14s %14s %9s  %-22s %s\n", r[i].figure, ours, peer, ratio,
		       r[i].target, r[i].met ? "yes" : "NO");
	}
	printf("(ratio: how many times better ours is than the peer)\n");
}

/* ---- figure 1: one step ---------------------------------------------------- */

struct mem {
	uint64_t lo, hi;       /* readable [lo, hi) */
};

/* A reader for the fake stack: plain memcpy, refusing anything outside it. */
static int read_mem(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct mem *m = arg;

	if (addr < m->lo || addr > m->hi || len > m->hi - addr)
		return -VDSOSCOPE_E_MEMORY;
	memcpy(buf, (const void *)(uintptr_t)addr, len);
	return 0;
}

struct step_ctx {
	const struct vdsoscope_image *img;
	struct vdsoscope_regs *regs;   /* one register set per PC */
	size_t n;
	struct mem mem;
	/* peer */
	Dwarf_CFI *cfi;
	uint64_t *link_pcs;
	uint64_t failures;
};

static uint64_t step_batch(void *arg, unsigned long reps)
{
	struct step_ctx *c = arg;
	struct vdsoscope_regs out;
	unsigned int ff;
	uint64_t sum = 0;
	unsigned long r;
	size_t i;

	for (r = 0; r < reps; r++)
		for (i = 0; i < c->n; i++) {
			int rc = vdsoscope_step(c->img, &c->regs[i], 0, read_mem, &c->mem, &out,
						&ff);
			if (rc)
				c->failures++;
			sum += out.r[X64_RIP] ^ out.r[X64_RSP];
		}
	return sum;
}

/* What an unwinder on libdw does per frame: find the FDE and run its
 * program up to the PC, then ask for the CFA and every register's rule. */
static int dw_frame(Dwarf_CFI *cfi, uint64_t pc, uint64_t *sum, Dwarf_Op **cfa_ops,
		    size_t *cfa_nops, Dwarf_Frame **keep)
{
	Dwarf_Op ops_mem[3], *ops;
	Dwarf_Frame *frame;
	size_t nops;
	int reg;

	if (dwarf_cfi_addrframe(cfi, pc, &frame))
		return -1;
	if (dwarf_frame_cfa(frame, &ops, &nops)) {
		free(frame);
		return -1;
	}
	*sum += nops + (nops ? ops[0].number2 : 0);
	if (cfa_ops) {
		*cfa_ops = ops;
		*cfa_nops = nops;
	}
	for (reg = 0; reg < X86_64_NREGS; reg++) {
		if (dwarf_frame_register(frame, reg, ops_mem, &ops, &nops)) {
			free(frame);
			return -1;
		}
		*sum += nops;
	}
	if (keep)
		*keep = frame;
	else
		free(frame);
	return 0;
}

static uint64_t dw_batch(void *arg, unsigned long reps)
{
	struct step_ctx *c = arg;
	uint64_t sum = 0;
	unsigned long r;
	size_t i;

	for (r = 0; r < reps; r++)
		for (i = 0; i < c->n; i++)
			if (dw_frame(c->cfi, c->link_pcs[i], &sum, NULL, NULL, NULL))
				c->failures++;
	return sum;
}

/* Checks that both sides do real work on every PC: our step succeeds with
 * the CFA and return address the row gives, and libdw's CFA rule agrees. */
static int step_check(struct step_ctx *c, const uint64_t *pcs, uint64_t bias)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		struct vdsoscope_regs out;
		struct vdsoscope_row row;
		Dwarf_Op *ops;
		Dwarf_Frame *frame;
		size_t nops;
		uint64_t cfa, sum = 0, ra;
		int rc;

		rc = vdsoscope_step(c->img, &c->regs[i], 0, read_mem, &c->mem, &out, NULL);
		if (rc) {
			fprintf(stderr, "bench: step at 0x%" PRIx64 ": %s (%s)\n", pcs[i],
				vdsoscope_strerror(rc), vdsoscope_errmsg());
			return -1;
		}
		rc = vdsoscope_cfi_find(c->img, pcs[i], &row);
		if (rc) {
			fprintf(stderr, "bench: no row for 0x%" PRIx64 ": %s\n", pcs[i],
				vdsoscope_strerror(rc));
			return -1;
		}
		/* the values are checked on the usual rows only */
		if (row.cfa.kind != VDSOSCOPE_RULE_CFA_REG_OFFSET ||
		    row.regs[X64_RIP].kind != VDSOSCOPE_RULE_OFFSET)
			continue;
		cfa = c->regs[i].r[row.cfa.reg] + (uint64_t)row.cfa.off;
		memcpy(&ra, (const void *)(uintptr_t)(cfa + (uint64_t)row.regs[X64_RIP].off),
		       sizeof(ra));
		if (out.r[X64_RSP] != cfa || out.r[X64_RIP] != ra) {
			fprintf(stderr, "bench: step at 0x%" PRIx64 " gave sp 0x%" PRIx64
				" ip 0x%" PRIx64 ", expected 0x%" PRIx64 " 0x%" PRIx64 "\n",
				pcs[i], out.r[X64_RSP], out.r[X64_RIP], cfa, ra);
			return -1;
		}
		if (dw_frame(c->cfi, pcs[i] - bias, &sum, &ops, &nops, &frame)) {
			fprintf(stderr, "bench: libdw has no frame for 0x%" PRIx64 ": %s\n",
				pcs[i], dwarf_errmsg(-1));
			return -1;
		}
		rc = nops == 1 && ops[0].atom == DW_OP_bregx && ops[0].number == row.cfa.reg &&
		     (int64_t)ops[0].number2 == row.cfa.off;
		free(frame);
		if (!rc) {
			fprintf(stderr, "bench: libdw's CFA rule at 0x%" PRIx64
				" differs from ours\n", pcs[i]);
			return -1;
		}
	}
	return 0;
}

/* An Elf for the image's bytes (copied: libelf wants a writable buffer). */
static Elf *elf_of_image(const struct vdsoscope_image *img, char **copy)
{
	const void *data;
	size_t size;
	Elf *elf;

	data = vdsoscope_image_data(img, &size);
	*copy = malloc(size);
	if (!*copy) {
		fprintf(stderr, "bench: out of memory\n");
		return NULL;
	}
	memcpy(*copy, data, size);
	elf = elf_memory(*copy, size);
	if (!elf) {
		fprintf(stderr, "bench: elf_memory: %s\n", elf_errmsg(-1));
		free(*copy);
		*copy = NULL;
	}
	return elf;
}

static int fig_step(const struct vdsoscope_image *img, struct result *res)
{
	const struct vdsoscope_arch *a = vdsoscope_arch(img);
	static uint64_t stack[STACK_WORDS];
	struct step_ctx c = { .img = img };
	uint64_t *pcs = NULL, lo, hi, bias;
	size_t i, nrows;
	char *copy = NULL;
	Elf *elf = NULL;
	int rc, ret = -1;

	if (!a || a->machine != EM_X86_64 || a->elf_class != 64) {
		fprintf(stderr, "bench: the vDSO is not x86_64 (%s); step figure skipped\n",
			a ? a->name : "unknown machine");
		return -1;
	}
	if ((rc = vdsoscope_cfi_error(img, NULL))) {
		fprintf(stderr, "bench: the vDSO's CFI did not compile: %s\n",
			vdsoscope_strerror(rc));
		return -1;
	}
	nrows = vdsoscope_cfi_count(img);
	vdsoscope_text_range(img, &lo, &hi);
	bias = vdsoscope_load_address(img) - vdsoscope_link_address(img);
	pcs = calloc(nrows ? nrows : 1, sizeof(*pcs));
	c.regs = calloc(nrows ? nrows : 1, sizeof(*c.regs));
	c.link_pcs = calloc(nrows ? nrows : 1, sizeof(*c.link_pcs));
	if (!pcs || !c.regs || !c.link_pcs) {
		fprintf(stderr, "bench: out of memory\n");
		goto out;
	}
	/* a stack of frame-pointer-like values, every word distinct */
	for (i = 0; i < STACK_WORDS; i++)
		stack[i] = (uint64_t)(uintptr_t)&stack[i < STACK_WORDS - 2 ? i + 2 : i];
	c.mem.lo = (uint64_t)(uintptr_t)stack;
	c.mem.hi = (uint64_t)(uintptr_t)(stack + STACK_WORDS);
	for (i = 0; i < nrows; i++) {
		struct vdsoscope_row row;
		struct vdsoscope_regs *r;
		unsigned int k;

		if ((rc = vdsoscope_cfi_get(img, i, &row))) {
			fprintf(stderr, "bench: CFI row %zu: %s\n", i, vdsoscope_strerror(rc));
			goto out;
		}
		if (row.start < lo || row.start >= hi)
			continue;
		r = &c.regs[c.n];
		for (k = 0; k < X86_64_NREGS; k++)
			r->r[k] = 0x1000 * (k + 1);
		r->r[X64_RSP] = (uint64_t)(uintptr_t)&stack[16];
		r->r[X64_RBP] = (uint64_t)(uintptr_t)&stack[40];
		r->r[X64_RBX] = 0x5555;
		r->r[X64_RIP] = row.start;
		vdsoscope_regs_clear(r);
		r->valid[0] = (1ull << X86_64_NREGS) - 1;
		pcs[c.n] = row.start;
		c.link_pcs[c.n] = row.start - bias;
		c.n++;
	}
	if (c.n == 0) {
		fprintf(stderr, "bench: the vDSO has no CFI rows in its text\n");
		goto out;
	}

	elf = elf_of_image(img, &copy);
	if (!elf)
		goto out;
	c.cfi = dwarf_getcfi_elf(elf);
	if (!c.cfi) {
		fprintf(stderr, "bench: dwarf_getcfi_elf: %s\n", dwarf_errmsg(-1));
		goto out;
	}
	if (step_check(&c, pcs, bias))
		goto out;

	res->ours = time_per_op(step_batch, &c, c.n);
	res->peer = time_per_op(dw_batch, &c, c.n);
	if (c.failures) {
		fprintf(stderr, "bench: %" PRIu64 " steps failed while timed\n", c.failures);
		goto out;
	}
	res->met = res->ours <= 15 && res->peer / res->ours >= 20;
	printf("step: %zu PCs (every CFI row start in the text), register sets "
	       "pointing into a %d-word buffer\n", c.n, STACK_WORDS);
	ret = 0;
out:
	if (c.cfi)
		dwarf_cfi_end(c.cfi);
	if (elf)
		elf_end(elf);
	free(copy);
	free(pcs);
	free(c.regs);
	free(c.link_pcs);
	return ret;
}

/* ---- figure 2: symbolizing --------------------------------------------------- */

struct sym_ctx {
	const struct vdsoscope_image *img;
	uint64_t addrs[SYM_ADDRS];
	uint64_t bias;
	Elf_Data *dynsym;
	size_t nsyms;
};

static uint64_t func_at_batch(void *arg, unsigned long reps)
{
	struct sym_ctx *c = arg;
	struct vdsoscope_func f;
	uint64_t sum = 0;
	unsigned long r;
	size_t i;

	for (r = 0; r < reps; r++)
		for (i = 0; i < SYM_ADDRS; i++)
			if (!vdsoscope_func_at(c->img, c->addrs[i], &f, NULL))
				sum += f.start;
	return sum;
}

/* The function symbol with the greatest st_value <= LINK, by linear scan;
 * 0 when none. */
static int dynsym_at(const struct sym_ctx *c, uint64_t link, GElf_Sym *best)
{
	int found = 0;
	size_t i;

	for (i = 1; i < c->nsyms; i++) {
		GElf_Sym s;

		if (!gelf_getsym(c->dynsym, (int)i, &s))
			continue;
		if (GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF)
			continue;
		if (s.st_value <= link && (!found || s.st_value > best->st_value)) {
			*best = s;
			found = 1;
		}
	}
	return found;
}

static uint64_t dynsym_batch(void *arg, unsigned long reps)
{
	struct sym_ctx *c = arg;
	uint64_t sum = 0;
	unsigned long r;
	GElf_Sym s;
	size_t i;

	for (r = 0; r < reps; r++)
		for (i = 0; i < SYM_ADDRS; i++)
			if (dynsym_at(c, c->addrs[i] - c->bias, &s))
				sum += s.st_value;
	return sum;
}

static Elf_Data *find_dynsym(Elf *elf, size_t *nsyms)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh)) {
			fprintf(stderr, "bench: gelf_getshdr: %s\n", elf_errmsg(-1));
			return NULL;
		}
		if (sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data) {
			fprintf(stderr, "bench: elf_getdata(.dynsym): %s\n", elf_errmsg(-1));
			return NULL;
		}
		*nsyms = sh.sh_size / sh.sh_entsize;
		return data;
	}
	fprintf(stderr, "bench: the image has no SHT_DYNSYM section\n");
	return NULL;
}

/* Shuffled addresses spread evenly over [lo, hi), so that the order does
 * not favour the branch predictor. */
static void spread_addrs(uint64_t *v, size_t n, uint64_t lo, uint64_t hi)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = lo + (hi - lo) * i / n;
	for (i = n - 1; i > 0; i--) {
		size_t j;
		uint64_t t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (size_t)(x % (i + 1));
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static int fig_symbolize(const struct vdsoscope_image *img, struct result *res)
{
	struct sym_ctx *c;
	size_t i, found = 0, mismatch = 0;
	uint64_t lo, hi;
	char *copy = NULL;
	Elf *elf;
	int ret = -1;

	c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "bench: out of memory\n");
		return -1;
	}
	c->img = img;
	c->bias = vdsoscope_load_address(img) - vdsoscope_link_address(img);
	vdsoscope_text_range(img, &lo, &hi);
	if (hi <= lo) {
		fprintf(stderr, "bench: the vDSO has an empty text range\n");
		goto out_free;
	}
	spread_addrs(c->addrs, SYM_ADDRS, lo, hi);
	elf = elf_of_image(img, &copy);
	if (!elf)
		goto out_free;
	c->dynsym = find_dynsym(elf, &c->nsyms);
	if (!c->dynsym)
		goto out;

	/* where ours names a symbol's function, the scan must find the same */
	for (i = 0; i < SYM_ADDRS; i++) {
		struct vdsoscope_func f;
		GElf_Sym s;
		int rc = vdsoscope_func_at(img, c->addrs[i], &f, NULL);

		if (rc == -VDSOSCOPE_E_NOT_FOUND)
			continue;
		if (rc) {
			fprintf(stderr, "bench: func_at(0x%" PRIx64 "): %s\n", c->addrs[i],
				vdsoscope_strerror(rc));
			goto out;
		}
		found++;
		if (f.flags & VDSOSCOPE_FUNC_FROM_CFI)
			continue;
		if (!dynsym_at(c, c->addrs[i] - c->bias, &s) || s.st_value + c->bias != f.start)
			mismatch++;
	}
	printf("func_at: %d addresses spread over the %" PRIu64 " text bytes, shuffled; "
	       "%zu in a function; .dynsym has %zu entries\n",
	       SYM_ADDRS, hi - lo, found, c->nsyms);
	if (mismatch)
		printf("note: for %zu addresses the .dynsym scan names another function "
		       "than func_at\n", mismatch);

	res->ours = 1e3 / time_per_op(func_at_batch, c, SYM_ADDRS);
	res->peer = 1e3 / time_per_op(dynsym_batch, c, SYM_ADDRS);
	res->met = res->ours >= 50;
	ret = 0;
out:
	elf_end(elf);
	free(copy);
out_free:
	free(c);
	return ret;
}

/* ---- figure 3: opening a live process ------------------------------------------ */

struct child {
	pid_t pid;
	int in;                /* its stdin (write end), or -1 */
	int out;               /* its stdout (read end), or -1 */
};

static int child_start(const char *path, struct child *ch)
{
	int to[2], from[2];

	ch->pid = -1;
	ch->in = ch->out = -1;
	if (pipe2(to, O_CLOEXEC)) {
		perror("bench: pipe2");
		return -1;
	}
	if (pipe2(from, O_CLOEXEC)) {
		perror("bench: pipe2");
		close(to[0]);
		close(to[1]);
		return -1;
	}
	fflush(stdout);         /* or the child would inherit what is buffered */
	ch->pid = fork();
	if (ch->pid < 0) {
		perror("bench: fork");
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		return -1;
	}
	if (ch->pid == 0) {
		if (dup2(to[0], 0) < 0 || dup2(from[1], 1) < 0) {
			perror("bench: dup2");
			_exit(127);
		}
		execl(path, path, "wait", (char *)NULL);
		fprintf(stderr, "bench: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	ch->in = to[1];
	ch->out = from[0];
	return 0;
}

/* Reads the "ready 0x..." line; its address into *ADDR. */
static int child_ready(struct child *ch, uint64_t *addr)
{
	char line[128];
	size_t have = 0;

	while (have < sizeof(line) - 1) {
		ssize_t n = read(ch->out, line + have, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("bench: reading from the target");
			return -1;
		}
		if (n == 0)
			break;
		if (line[have] == '\n')
			break;
		have++;
	}
	line[have] = 0;
	if (sscanf(line, "ready %" SCNx64, addr) != 1) {
		fprintf(stderr, "bench: the target said \"%s\", not \"ready 0x...\"\n", line);
		return -1;
	}
	return 0;
}

/* Closes its stdin and reaps it; returns -1 unless it exited with 0. */
static int child_stop(struct child *ch)
{
	int status;

	if (ch->in >= 0)
		close(ch->in);
	if (ch->out >= 0)
		close(ch->out);
	ch->in = ch->out = -1;
	if (ch->pid <= 0)
		return 0;
	while (waitpid(ch->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("bench: waitpid");
			return -1;
		}
	}
	ch->pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench: the target ended with status 0x%x\n", status);
		return -1;
	}
	return 0;
}

/* Microseconds of one open of PID with OPTS (and its close, when CLOSE_TOO);
 * *IMG gets the handle unless it is closed.  Negative on failure. */
static double open_us(pid_t pid, const struct vdsoscope_open_opts *opts, int close_too,
		      struct vdsoscope_image **img, const void **data)
{
	struct vdsoscope_image *h;
	size_t size;
	uint64_t t0, t1;
	int rc;

	t0 = now_ns();
	rc = vdsoscope_open_pid(&h, pid, opts);
	if (!rc && close_too) {
		*data = vdsoscope_image_data(h, &size);
		vdsoscope_image_close(h);
	}
	t1 = now_ns();
	if (rc) {
		fprintf(stderr, "bench: vdsoscope_open_pid(%d): %s (%s)\n", (int)pid,
			vdsoscope_strerror(rc), vdsoscope_errmsg());
		return -1;
	}
	if (!close_too) {
		*img = h;
		*data = vdsoscope_image_data(h, &size);
	}
	return (double)(t1 - t0) / 1e3;
}

static int fig_open(const char *target, struct result *res)
{
	static double warm[WARM_OPENS], cold[COLD_OPENS];
	VDSOSCOPE_OPTS(no_cache, .flags = VDSOSCOPE_OPEN_NO_CACHE);
	struct vdsoscope_image *first = NULL;
	const void *first_data, *data;
	struct child ch;
	uint64_t addr;
	double first_us;
	int i, shared = 0, ret = -1;

	if (child_start(target, &ch))
		return -1;
	if (child_ready(&ch, &addr))
		goto out;

	/* cold: the cache holds no image with these bytes; this handle stays
	 * open so that the later opens find it */
	first_us = open_us(ch.pid, NULL, 0, &first, &first_data);
	if (first_us < 0)
		goto out;
	if (vdsoscope_load_address(first) != addr) {
		fprintf(stderr, "bench: the target's vDSO is at 0x%" PRIx64
			", the library read it at 0x%" PRIx64 "\n",
			addr, vdsoscope_load_address(first));
		goto out;
	}
	for (i = 0; i < 10; i++)
		if (open_us(ch.pid, NULL, 1, NULL, &data) < 0)
			goto out;
	for (i = 0; i < WARM_OPENS; i++) {
		warm[i] = open_us(ch.pid, NULL, 1, NULL, &data);
		if (warm[i] < 0)
			goto out;
		shared += data == first_data;
	}
	for (i = 0; i < COLD_OPENS; i++) {
		cold[i] = open_us(ch.pid, &no_cache, 1, NULL, &data);
		if (cold[i] < 0)
			goto out;
		if (data == first_data) {
			fprintf(stderr, "bench: an open with VDSOSCOPE_OPEN_NO_CACHE shared "
				"the cached image\n");
			goto out;
		}
	}
	res->ours = median(warm, WARM_OPENS);
	res->peer = median(cold, COLD_OPENS);
	res->met = res->ours <= 20;
	printf("open_pid: target pid %d, vDSO at 0x%" PRIx64 "; first open (cold, cached "
	       "afterwards) %.2f us; %d warm opens+closes, %d/%d shared the cached image; "
	       "%d cold opens (NO_CACHE)+closes\n",
	       (int)ch.pid, addr, first_us, WARM_OPENS, shared, WARM_OPENS, COLD_OPENS);
	if (shared != WARM_OPENS)
		printf("note: %d warm opens did not share the cached image\n",
		       WARM_OPENS - shared);
	ret = 0;
out:
	vdsoscope_image_close(first);
	if (child_stop(&ch))
		ret = -1;
	return ret;
}

/* ---- main ------------------------------------------------------------------- */

/* Runs everything on the CPU we started on, so that migrations do not add
 * noise.  Not being able to is no failure. */
static void pin_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0) {
		perror("bench: sched_getcpu (not pinning)");
		return;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("bench: sched_setaffinity (not pinning)");
}

int main(int argc, char **argv)
{
	struct result res[] = {
		{ "step through a vDSO frame", "ns", 0, 0, 1, "<=15 ns, >=20x", -1 },
		{ "symbolize (func_at)", "M/s", 0, 0, 0, ">=50 M/s", -1 },
		{ "open_pid, image cached (median)", "us", 0, 0, 1, "<=20 us", -1 },
	};
	struct vdsoscope_image *self;
	int rc, failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: bench VDSO-TARGET\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (elf_version(EV_CURRENT) == EV_NONE) {
		fprintf(stderr, "bench: libelf: %s\n", elf_errmsg(-1));
		return 1;
	}
	pin_cpu();

	rc = vdsoscope_open_self(&self, NULL);
	if (rc) {
		fprintf(stderr, "bench: vdsoscope_open_self: %s (%s)\n", vdsoscope_strerror(rc),
			vdsoscope_errmsg());
		return 1;
	}
	printf("vdsoscope %s bench; this process's vDSO at 0x%" PRIx64 ", build-id %s, "
	       "%zu CFI rows, %zu functions\n", vdsoscope_version(),
	       vdsoscope_load_address(self), vdsoscope_build_id_hex(self),
	       vdsoscope_cfi_count(self), vdsoscope_func_count(self));
	if (fig_step(self, &res[0]))
		failed = 1;
	if (fig_symbolize(self, &res[1]))
		failed = 1;
	/* closed first: it has the same bytes as the target's image, and the
	 * open figure starts from an empty cache */
	vdsoscope_image_close(self);
	if (fig_open(argv[1], &res[2]))
		failed = 1;

	print_table(res, sizeof(res) / sizeof(res[0]));
	printf("peers: step: libdw dwarf_cfi_addrframe + dwarf_frame_cfa + "
	       "dwarf_frame_register x%d on the same bytes; func_at: libelf gelf_getsym "
	       "scan of .dynsym; open_pid: the same open with VDSOSCOPE_OPEN_NO_CACHE\n",
	       X86_64_NREGS);
	return failed;
}
