/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdsoscope profile: samples every thread of a process with perf_event_open
 * (registers and a copy of the user stack), unwinds each sample through the
 * vDSO and the program, and prints folded stacks, JSON or a flame graph. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "json.h"
#include "perf-data.h"
#include "profile.h"
#include "backtrace.h"
#include "verify.h"

#define MAX_EVENTS 4096
#define MAX_CPUS 256
#if defined(__aarch64__)
/* PERF_REG_ARM64_X0..X30, SP, PC; SP is DWARF register 31 */
#define REGS_MASK ((1ull << 33) - 1)
#define SP64 31
#else
/* PERF_REG_X86_AX..IP and R8..R15: the general registers of both ABIs;
 * rsp is DWARF register 7 */
#define REGS_MASK 0xff01ffull
#define SP64 7
#endif
#define RING_PAGES 256

static const char usage[] =
	"Usage: vdsoscope profile (--pid PID | --replay FILE | --perf-data FILE |\n"
	"                          -- COMMAND [ARGS...])\n"
	"                         [--duration S] [--frequency HZ] [--stack-size BYTES]\n"
	"                         [--folded | --json] [--per-sample] [--svg FILE] [--pprof FILE]\n"
	"                         [--record FILE] [--engine core|libunwind] [--sysroot DIR]\n"
	"                         [--debug-dir DIR]... [--store DIR] [--no-demangle]\n"
	"\n"
	"Samples every thread of process PID (or of COMMAND, started here) with\n"
	"perf_event_open: the registers and a copy of the user stack at each sample.\n"
	"Each sample is unwound through the vDSO and the program's own frames.\n"
	"Prints one line per distinct stack, root first, and its count (--folded,\n"
	"the default: 'main;outer;inner;__vdso_clock_gettime 123'), or JSON;\n"
	"--svg also writes a flame graph, --pprof a gzipped pprof profile (go tool\n"
	"pprof FILE; the period is 1/--frequency, also for --replay); --per-sample\n"
	"prints each sample instead, as it is unwound: 'TIME PID/TID stack' (JSON\n"
	"lines with --json).  C++ and Rust names are demangled unless\n"
	"--no-demangle; code in anonymous executable memory is named from\n"
	"/tmp/perf-PID.map (a JIT's perf map), else labelled [anonymous].  A\n"
	"summary goes to stderr, with the target's CPU time in the kernel\n"
	"(/proc/PID/stat), which is not sampled.  --record keeps the samples, the\n"
	"maps, the vDSO images and those times in FILE; --replay FILE\n"
	"unwinds them again later, without the process.  --engine libunwind unwinds\n"
	"with libunwind over the stack copy (x86_64 targets) instead of the library's\n"
	"own step.  --sysroot and --debug-dir find the files of a recording from\n"
	"another machine: recorded paths under DIR, or by build-id in DIR/xx/rest.\n"
	"--perf-data FILE unwinds the samples of `perf record --call-graph dwarf -o\n"
	"FILE`, each process with its own vDSO, found by the build-id recorded in\n"
	"perf's cache (~/.debug), the store (--store DIR), the debug directories\n"
	"and debuginfod.\n"
	"Defaults: until the process exits (or Ctrl-C), 1000 Hz, 16384 bytes of stack.\n";

struct ring {
	int fd;
	void *base;
	size_t size;              /* bytes of data */
	struct perf_event_mmap_page *meta;
	unsigned char *data;
};

struct prof {
	/* arguments */
	const char *pid_arg, *svg, *record, *replay, *perf_data, *store, *pprof_path;
	double duration;
	unsigned long freq, stack_size;
	int said_engine;
	int json, per_sample;
	char **cmd;
	pid_t pid;                /* the target */
	int child;                /* we started it */
	/* perf */
	struct ring rings[MAX_CPUS]; /* one per CPU; the other events of that
				      * CPU write into it (PERF_EVENT_IOC_SET_OUTPUT) */
	int ring_cpu[MAX_CPUS];
	size_t nrings;
	int fds[MAX_EVENTS];
	size_t nfds;
	unsigned char *rec;       /* one record, unwrapped */
	/* results */
	struct psession s;
	struct pstack **stacks;
	size_t nstacks, cap;      /* open-addressing table of cap slots */
	uint64_t samples, vdso_samples, root, lost, no_regs, unknown_pid;
	uint64_t ends[VDSOSCOPE_END_COUNT];
	uint64_t unwind_ns;
	int progress;
	struct timespec t0;
	struct pnames *names;
	struct pprof *pprof;
	struct pcputime cpu;
	int64_t wall0, elapsed_ns; /* wall clock at the start, ns sampled; 0: a replay */
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int perr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int perr(const char *fmt, ...)
{
	va_list ap;

	fputs("vdsoscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- stacks --------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int stacks_grow(struct prof *p)
{
	size_t cap = p->cap ? p->cap * 2 : 256, i;
	struct pstack **v = calloc(cap, sizeof(*v));

	if (!v)
		return -1;
	for (i = 0; i < p->cap; i++) {
		size_t h;
		if (!p->stacks[i])
			continue;
		h = hash_str(p->stacks[i]->key) & (cap - 1);
		while (v[h])
			h = (h + 1) & (cap - 1);
		v[h] = p->stacks[i];
	}
	free(p->stacks);
	p->stacks = v;
	p->cap = cap;
	return 0;
}

static const char *frame_name(const struct vdsoscope_frame_info *f, char *buf, size_t len)
{
	if (f->function)
		return f->function;
	snprintf(buf, len, "[%s]", f->module ? f->module : "unknown");
	return buf;
}

static void add_stack(struct prof *p, const struct vdsoscope_frame_info *f, unsigned int n)
{
	char key[PROFILE_MAX_FRAMES * 256], tmp[300];
	size_t len = 0, h;
	unsigned int i;
	struct pstack *st;

	key[0] = 0;
	for (i = n; i-- > 0;) {
		const char *name = frame_name(&f[i], tmp, sizeof(tmp));
		size_t l = strlen(name);
		if (len + l + 2 >= sizeof(key))
			break;
		if (len)
			key[len++] = ';';
		memcpy(key + len, name, l);
		len += l;
		key[len] = 0;
	}
	/* folded stacks separate frames with ';' and the count with ' ' */
	for (h = 0; h < len; h++)
		if (key[h] == ' ')
			key[h] = '_';
	if ((p->nstacks + 1) * 2 > p->cap && stacks_grow(p))
		return;
	h = hash_str(key) & (p->cap - 1);
	while ((st = p->stacks[h])) {
		if (!strcmp(st->key, key)) {
			st->count++;
			return;
		}
		h = (h + 1) & (p->cap - 1);
	}
	if (!(st = calloc(1, sizeof(*st))) || !(st->key = strdup(key)) ||
	    !(st->frames = calloc(n ? n : 1, sizeof(*st->frames)))) {
		if (st)
			free(st->key);
		free(st);
		return;
	}
	st->count = 1;
	st->nframes = n;
	for (i = 0; i < n; i++) {
		const struct vdsoscope_frame_info *fi = &f[n - 1 - i];
		/* names live as long as the modules set and the images */
		st->frames[i].func = fi->function;
		st->frames[i].module = fi->module;
		st->frames[i].vdso = (fi->flags & VDSOSCOPE_FRAME_INFO_VDSO) != 0;
		st->frames[i].inlined = (fi->flags & VDSOSCOPE_FRAME_INFO_INLINED) != 0;
	}
	p->stacks[h] = st;
	p->nstacks++;
}

/* ---- one sample ------------------------------------------------------------------ */

/* --per-sample: one line per sample, the frames root first */
static void print_sample(const struct prof *p, const struct pproc *pp, pid_t tid, uint64_t time,
			 const struct vdsoscope_frame_info *f, unsigned int n)
{
	char tmp[300];
	unsigned int i;
	struct json j;

	if (!p->json) {
		printf("%" PRIu64 " %d/%d ", time, (int)pp->pid, (int)tid);
		for (i = n; i-- > 0;) {
			const char *name = frame_name(&f[i], tmp, sizeof(tmp));
			for (; *name; name++)
				putchar(*name == ' ' || *name == ';' ? '_' : *name);
			if (i)
				putchar(';');
		}
		putchar('\n');
		return;
	}
	json_init(&j, stdout);
	json_obj(&j);
	json_kuint(&j, "time", time);
	json_kuint(&j, "pid", (uint64_t)pp->pid);
	json_kuint(&j, "tid", (uint64_t)tid);
	json_key(&j, "frames");
	json_arr(&j);
	for (i = n; i-- > 0;) {
		json_obj(&j);
		json_key(&j, "function");
		if (f[i].function)
			json_str(&j, f[i].function);
		else
			json_null(&j);
		json_kstr(&j, "module", f[i].module ? f[i].module : "");
		json_kbool(&j, "vdso", (f[i].flags & VDSOSCOPE_FRAME_INFO_VDSO) != 0);
		if (f[i].flags & VDSOSCOPE_FRAME_INFO_INLINED)
			json_kbool(&j, "inlined", 1);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
}

static void unwind_one(struct prof *p, struct pproc *pp, pid_t tid, uint64_t time,
		       const struct vdsoscope_regs *regs, uint64_t stack_addr, const void *stack,
		       size_t len, int live)
{
	struct vdsoscope_frame_info frames[PROFILE_MAX_FRAMES];
	unsigned int n = 0;
	uint64_t t = now_ns();
	int end = psession_unwind(&p->s, pp, regs, stack_addr, stack, len, frames, &n);

	if (live && end == VDSOSCOPE_END_NO_MAPPING && psession_refresh(&p->s, pp) == 0)
		end = psession_unwind(&p->s, pp, regs, stack_addr, stack, len, frames, &n);
	p->unwind_ns += now_ns() - t;
	p->samples++;
	if (end == -ENOTSUP && !p->said_engine) {
		p->said_engine = 1;
		perr("profile: --engine libunwind unwinds x86_64 processes only (pid %d is not); "
		     "--engine core unwinds both", (int)pp->pid);
	}
	if (end < 0)
		end = VDSOSCOPE_END_FILE;
	p->ends[end]++;
	if (end == VDSOSCOPE_END_ROOT)
		p->root++;
	if (n && frames[0].flags & VDSOSCOPE_FRAME_INFO_VDSO)
		p->vdso_samples++;
	pnames_frames(p->names, pp->pid, frames, n);
	add_stack(p, frames, n);
	if (p->per_sample)
		print_sample(p, pp, tid, time, frames, n);
	if (p->pprof)
		pprof_add(p->pprof, pp, frames, n);
}

static void replay_sample(void *arg, struct pproc *pp, pid_t tid, uint64_t time,
			  const struct vdsoscope_regs *regs, uint64_t stack_addr, const void *stack,
			  size_t len)
{
	unwind_one(arg, pp, tid, time, regs, stack_addr, stack, len, 0);
}

static void replay_lost(void *arg, uint64_t n)
{
	((struct prof *)arg)->lost += n;
}

static void replay_no_regs(void *arg)
{
	((struct prof *)arg)->no_regs++;
}

static void replay_cputime(void *arg, pid_t pid, long hz, uint64_t user, uint64_t sys)
{
	cputime_recorded(&((struct prof *)arg)->cpu, pid, hz, user, sys);
}

/* A PERF_RECORD_SAMPLE of LEN bytes at R: ip, pid/tid, time, regs (abi,
 * values), stack (size, bytes, dyn_size).  Every field is checked against
 * LEN. */
static void perf_sample(struct prof *p, const unsigned char *r, size_t len)
{
	const unsigned char *q = r + sizeof(struct perf_event_header), *end = r + len;
	uint64_t ip, time, abi, vals[64], size, dyn = 0, sp;
	uint32_t pid, tid;
	struct vdsoscope_regs regs;
	unsigned int nregs = (unsigned int)__builtin_popcountll(REGS_MASK);
	const unsigned char *stack;
	struct pproc *pp;
	int cls;

#define NEED(n) do { if ((size_t)(end - q) < (n)) goto bad; } while (0)
	NEED(8 + 8 + 8 + 8);
	memcpy(&ip, q, 8);
	memcpy(&pid, q + 8, 4);
	memcpy(&tid, q + 12, 4);
	memcpy(&time, q + 16, 8);
	memcpy(&abi, q + 24, 8);
	q += 32;
	if (abi == PERF_SAMPLE_REGS_ABI_NONE) {
		p->no_regs++;
		return;
	}
	NEED(8 * (size_t)nregs);
	memcpy(vals, q, 8 * (size_t)nregs);
	q += 8 * nregs;
	NEED(8);
	memcpy(&size, q, 8);
	q += 8;
	NEED(size);
	stack = q;
	q += size;
	if (size) {
		NEED(8);
		memcpy(&dyn, q, 8);
	}
	if (dyn > size)
		dyn = size;
#undef NEED
	if ((cls = vdsoscope_regs_from_perf(&regs, abi, REGS_MASK, vals, nregs)) < 0)
		goto bad;
	sp = regs.r[cls == 64 ? SP64 : 4];
	(void)ip;
	if (!(pp = psession_find(&p->s, (pid_t)pid)) || pp->elf_class != cls)
		pp = psession_live(&p->s, (pid_t)pid, cls);
	if (!pp) {
		p->unknown_pid++;
		return;
	}
	unwind_one(p, pp, (pid_t)tid, time, &regs, sp, stack, dyn, 1);
	if (record_sample(&p->s, (pid_t)pid, (pid_t)tid, time, &regs, cls, sp, stack, dyn))
		p->s.rec_path = NULL;
	return;
bad:
	p->ends[VDSOSCOPE_END_REGISTER]++;
	p->samples++;
}

/* ---- perf ----------------------------------------------------------------------- */

static int perf_open(struct prof *p, pid_t tid, int cpu, int on_exec)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.freq = 1;
	a.sample_freq = p->freq;
	a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	a.sample_regs_user = REGS_MASK;
	a.sample_stack_user = (uint32_t)p->stack_size;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.inherit = 1;
	a.disabled = on_exec;
	a.enable_on_exec = on_exec;
	a.watermark = 1;
	a.wakeup_watermark = RING_PAGES * 4096 / 4;
	/* per CPU: the kernel refuses mmap() of inherited per-task events */
	return (int)syscall(SYS_perf_event_open, &a, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	int v = 99;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 99;
		fclose(f);
	}
	return v;
}

static int open_error(struct prof *p, pid_t tid, int e)
{
	if (e == EACCES || e == EPERM)
		return perr("pid %d: perf events are not permitted (kernel.perf_event_paranoid is "
			    "%d; sampling another user's process needs root or CAP_PERFMON, "
			    "one's own needs kernel.perf_event_paranoid <= 2): %s",
			    (int)p->pid, paranoid(), strerror(e));
	if (e == ESRCH)
		return perr("pid %d: no such process (thread %d exited)", (int)p->pid, (int)tid);
	if (e == ENOENT || e == ENOSYS || e == EOPNOTSUPP)
		return perr("perf_event_open: this kernel cannot sample user registers and stacks: %s",
			    strerror(e));
	if (e == EINVAL && p->stack_size)
		return perr("perf_event_open: %s (--stack-size %lu, --frequency %lu; see "
			    "kernel.perf_event_max_sample_rate)", strerror(e), p->stack_size,
			    p->freq);
	return perr("pid %d thread %d: perf_event_open: %s", (int)p->pid, (int)tid, strerror(e));
}

/* Keeps event FD of CPU; its samples go to that CPU's ring buffer, made
 * on the CPU's first event. */
static int event_add(struct prof *p, int fd, int cpu)
{
	struct ring *r;
	size_t page = 4096, i;

	if (p->nfds == MAX_EVENTS) {
		close(fd);
		return perr("pid %d: more than %d events (threads times CPUs)", (int)p->pid,
			    MAX_EVENTS);
	}
	p->fds[p->nfds++] = fd;
	for (i = 0; i < p->nrings; i++)
		if (p->ring_cpu[i] == cpu) {
			if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, p->rings[i].fd))
				return perr("perf: PERF_EVENT_IOC_SET_OUTPUT: %s", strerror(errno));
			return 0;
		}
	if (p->nrings == MAX_CPUS)
		return perr("more than %d CPUs", MAX_CPUS);
	r = &p->rings[p->nrings];
	r->fd = fd;
	r->base = mmap(NULL, (RING_PAGES + 1) * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->base == MAP_FAILED) {
		int e = errno;
		return perr("perf ring buffer: mmap: %s%s", strerror(e),
			    e == EPERM ? " (see kernel.perf_event_mlock_kb)" : "");
	}
	r->meta = r->base;
	r->data = (unsigned char *)r->base + page;
	r->size = RING_PAGES * page;
	p->ring_cpu[p->nrings++] = cpu;
	return 0;
}

/* Opens the event of TID on every CPU.  0, or the errno of the first
 * failure (CPUs that are offline are skipped). */
static int open_cpus(struct prof *p, pid_t tid, int on_exec, int *fatal)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF), cpu;
	int opened = 0, e = 0;

	*fatal = 0;
	for (cpu = 0; cpu < ncpu && cpu < MAX_CPUS; cpu++) {
		int fd = perf_open(p, tid, (int)cpu, on_exec);
		if (fd < 0) {
			if (errno == ENODEV)
				continue; /* offline */
			e = errno;
			break;
		}
		opened++;
		if (event_add(p, fd, (int)cpu)) {
			*fatal = 1;
			return -1;
		}
	}
	if (!e && !opened)
		e = ENODEV;
	return e;
}

static void ring_copy(const struct ring *r, uint64_t at, void *out, size_t n)
{
	size_t off = (size_t)(at % r->size), first = r->size - off;

	if (first >= n) {
		memcpy(out, r->data + off, n);
	} else {
		memcpy(out, r->data + off, first);
		memcpy((unsigned char *)out + first, r->data, n - first);
	}
}

static void drain(struct prof *p, struct ring *r)
{
	uint64_t head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = r->meta->data_tail;

	while (tail < head) {
		struct perf_event_header h;
		if (head - tail < sizeof(h))
			break;
		ring_copy(r, tail, &h, sizeof(h));
		if (h.size < sizeof(h) || h.size > head - tail || h.size > r->size) {
			/* not a record boundary: drop what is there */
			tail = head;
			break;
		}
		ring_copy(r, tail, p->rec, h.size);
		if (h.type == PERF_RECORD_SAMPLE) {
			perf_sample(p, p->rec, h.size);
		} else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
			uint64_t n;
			memcpy(&n, p->rec + sizeof(h) + 8, 8);
			p->lost += n;
			record_lost(&p->s, n);
		}
		tail += h.size;
	}
	__atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
}

static int list_threads(pid_t pid, pid_t *out, size_t max, size_t *n)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return -errno;
	while ((de = readdir(d)) && *n < max) {
		long t = strtol(de->d_name, NULL, 10);
		if (t > 0)
			out[(*n)++] = (pid_t)t;
	}
	closedir(d);
	return 0;
}

static int attach_pid(struct prof *p)
{
	static pid_t tids[MAX_EVENTS];
	size_t n, i;
	int e;

	if ((e = list_threads(p->pid, tids, MAX_EVENTS, &n)))
		return perr("pid %d: %s", (int)p->pid,
			    e == -ENOENT ? "no such process" : strerror(-e));
	for (i = 0; i < n; i++) {
		int fatal, err = open_cpus(p, tids[i], 0, &fatal);
		if (fatal)
			return 1;
		if (err == ESRCH && i > 0)
			continue; /* a thread that ended meanwhile */
		if (err)
			return open_error(p, tids[i], err);
	}
	return 0;
}

/* Starts the command stopped before exec, opens the event on it with
 * enable_on_exec, then lets it exec. */
static int start_command(struct prof *p)
{
	int go[2], fail[2], e = 0, fatal;
	ssize_t got;
	char c = 0;

	if (pipe2(go, O_CLOEXEC) || pipe2(fail, O_CLOEXEC))
		return perr("pipe: %s", strerror(errno));
	p->pid = fork();
	if (p->pid < 0)
		return perr("fork: %s", strerror(errno));
	if (p->pid == 0) {
		close(go[1]);
		close(fail[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(p->cmd[0], p->cmd);
		e = errno;
		if (write(fail[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	p->child = 1;
	close(go[0]);
	close(fail[1]);
	if ((e = open_cpus(p, p->pid, 1, &fatal))) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->child = 0;
		return fatal ? 1 : open_error(p, p->pid, e);
	}
	if (write(go[1], &c, 1) != 1)
		return perr("cannot start %s: %s", p->cmd[0], strerror(errno));
	close(go[1]);
	got = read(fail[0], &e, sizeof(e));
	close(fail[0]);
	if (got == (ssize_t)sizeof(e)) {
		waitpid(p->pid, NULL, 0);
		p->child = 0;
		return perr("cannot run %s: %s", p->cmd[0], strerror(e));
	}
	return 0;
}

/* 1 when the target is gone (or a zombie). */
static int target_gone(struct prof *p)
{
	char path[64], buf[256], *q;
	int st;
	FILE *f;

	/* before the child is reaped: its last times */
	cputime_update(&p->cpu);
	if (p->child) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->child = 0;
			return 1;
		}
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	if (!(f = fopen(path, "r")))
		return 1;
	q = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (q && (q = strrchr(buf, ')')) && (q[2] == 'Z' || q[2] == 'X'))
		return 1;
	return 0;
}

static void progress(struct prof *p, int last)
{
	if (!p->progress)
		return;
	if (last) {
		fputs("\r\033[K", stderr);
		return;
	}
	fprintf(stderr, "\rprofile: %.1f s, %" PRIu64 " samples, %" PRIu64 " lost\033[K",
		since(&p->t0), p->samples, p->lost);
}

static int sample_loop(struct prof *p)
{
	struct pollfd pfd[MAX_EVENTS];
	double next_progress = 0;
	size_t i;
	int gone = 0;

	for (i = 0; i < p->nrings; i++) {
		pfd[i].fd = p->rings[i].fd;
		pfd[i].events = POLLIN;
	}
	while (!stop_flag) {
		double t = since(&p->t0);
		if (p->duration > 0 && t >= p->duration)
			break;
		if (poll(pfd, p->nrings, 50) < 0 && errno != EINTR)
			return perr("poll: %s", strerror(errno));
		for (i = 0; i < p->nrings; i++)
			drain(p, &p->rings[i]);
		if (t >= next_progress) {
			progress(p, 0);
			next_progress = t + 0.25;
		}
		if (target_gone(p)) {
			gone = 1;
			break;
		}
	}
	for (i = 0; i < p->nfds; i++)
		ioctl(p->fds[i], PERF_EVENT_IOC_DISABLE, 0);
	for (i = 0; i < p->nrings; i++)
		drain(p, &p->rings[i]);
	progress(p, 1);
	if (gone && !p->child && p->cmd == NULL)
		fprintf(stderr, "vdsoscope: pid %d exited after %.1f s\n", (int)p->pid,
			since(&p->t0));
	return 0;
}

/* ---- output ---------------------------------------------------------------------- */

static int cmp_stack(const void *a, const void *b)
{
	const struct pstack *x = *(struct pstack *const *)a, *y = *(struct pstack *const *)b;

	return strcmp(x->key, y->key);
}

static struct pstack **sorted_stacks(struct prof *p)
{
	struct pstack **v = malloc((p->nstacks ? p->nstacks : 1) * sizeof(*v));
	size_t i, n = 0;

	if (!v)
		return NULL;
	for (i = 0; i < p->cap; i++)
		if (p->stacks[i])
			v[n++] = p->stacks[i];
	qsort(v, n, sizeof(*v), cmp_stack);
	return v;
}

static void print_folded(struct pstack **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%s %" PRIu64 "\n", v[i]->key[0] ? v[i]->key : "[no frames]", v[i]->count);
}

static void json_summary(struct json *j, const struct prof *p)
{
	int e;

	json_kuint(j, "samples", p->samples);
	json_kuint(j, "vdso_samples", p->vdso_samples);
	json_kuint(j, "unwound_to_root", p->root);
	json_kuint(j, "lost", p->lost);
	json_kuint(j, "without_user_registers", p->no_regs);
	json_key(j, "ends");
	json_obj(j);
	for (e = 0; e < VDSOSCOPE_END_COUNT; e++)
		if (p->ends[e])
			json_kuint(j, vdsoscope_unwind_end_name(e), p->ends[e]);
	json_obj_end(j);
	cputime_json(&p->cpu, j);
}

static void print_json(const struct prof *p, struct pstack **v, size_t n)
{
	struct json j;
	size_t i;
	unsigned int k;

	json_init(&j, stdout);
	json_obj(&j);
	json_key(&j, "summary");
	json_obj(&j);
	json_summary(&j, p);
	json_obj_end(&j);
	json_key(&j, "stacks");
	json_arr(&j);
	for (i = 0; i < n; i++) {
		json_obj(&j);
		json_kuint(&j, "count", v[i]->count);
		json_key(&j, "frames");
		json_arr(&j);
		for (k = 0; k < v[i]->nframes; k++) {
			const struct pframe *f = &v[i]->frames[k];
			json_obj(&j);
			json_key(&j, "function");
			if (f->func)
				json_str(&j, f->func);
			else
				json_null(&j);
			json_kstr(&j, "module", f->module ? f->module : "");
			json_kbool(&j, "vdso", f->vdso);
			if (f->inlined)
				json_kbool(&j, "inlined", 1);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	putchar('\n');
}

static void print_summary(const struct prof *p)
{
	int e, first = 1;
	double ms = (double)p->unwind_ns / 1e6;

	fprintf(stderr, "samples: %" PRIu64 " (%" PRIu64 " in the vDSO), unwound to the root: %"
		PRIu64 " (%.1f%%), lost: %" PRIu64 "\n", p->samples, p->vdso_samples, p->root,
		p->samples ? 100.0 * (double)p->root / (double)p->samples : 0.0, p->lost);
	for (e = 1; e < VDSOSCOPE_END_COUNT; e++) {
		if (!p->ends[e])
			continue;
		fprintf(stderr, "%s%s %" PRIu64, first ? "incomplete: " : ", ",
			vdsoscope_unwind_end_name(e), p->ends[e]);
		first = 0;
	}
	if (p->no_regs)
		fprintf(stderr, "%swithout user registers %" PRIu64, first ? "incomplete: " : ", ",
			p->no_regs);
	if (!first || p->no_regs)
		fputc('\n', stderr);
	if (p->samples)
		fprintf(stderr, "unwinding: %.1f ms, %.2f M samples/s\n", ms,
			ms > 0 ? (double)p->samples / ms / 1000.0 : 0.0);
	cputime_print(&p->cpu, stderr);
}

/* ---- the command ------------------------------------------------------------------- */

static int parse_num(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || *out < 0 ? -1 : 0;
}

int vdsoscope_cmd_profile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "frequency", required_argument, NULL, 'F' },
		{ "stack-size", required_argument, NULL, 's' },
		{ "folded", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "per-sample", no_argument, NULL, 'E' },
		{ "svg", required_argument, NULL, 'g' },
		{ "record", required_argument, NULL, 'r' },
		{ "replay", required_argument, NULL, 'R' },
		{ "perf-data", required_argument, NULL, 'P' },
		{ "store", required_argument, NULL, 'T' },
		{ "engine", required_argument, NULL, 'e' },
		{ "sysroot", required_argument, NULL, 'S' },
		{ "debug-dir", required_argument, NULL, 'D' },
		{ "pprof", required_argument, NULL, 'O' },
		{ "no-demangle", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct prof p;
	static const char *ddirs[66];
	static char perf_ids[4200];
	const char *sysroot = NULL;
	size_t nddirs = 0;
	struct pstack **v = NULL;
	struct sigaction sa;
	unsigned long long ut, kt;
	long hz;
	char title[4200];
	double d;
	int c, rc = 0, folded = 0, engine = PROFILE_ENGINE_CORE, demangle = 1;
	size_t i;

	memset(&p, 0, sizeof(p));
	p.freq = 1000;
	p.stack_size = 16384;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': p.pid_arg = optarg; break;
		case 'd':
			if (parse_num(optarg, &p.duration) || p.duration <= 0) {
				perr("profile: --duration %s is not a positive number of seconds", optarg);
				return 2;
			}
			break;
		case 'F':
			if (parse_num(optarg, &d) || d < 1 || d > 100000 || d != (double)(long)d) {
				perr("profile: --frequency %s is not a whole number from 1 to 100000", optarg);
				return 2;
			}
			p.freq = (unsigned long)d;
			break;
		case 's':
			if (parse_num(optarg, &d) || d < 8 || d > 65000 || d != (double)(long)d) {
				perr("profile: --stack-size %s is not a number of bytes from 8 to 65000",
				     optarg);
				return 2;
			}
			p.stack_size = (unsigned long)d & ~7ul;
			break;
		case 'f': folded = 1; break;
		case 'j': p.json = 1; break;
		case 'E': p.per_sample = 1; break;
		case 'g': p.svg = optarg; break;
		case 'r': p.record = optarg; break;
		case 'R': p.replay = optarg; break;
		case 'P': p.perf_data = optarg; break;
		case 'T': p.store = optarg; break;
		case 'e':
			if (!strcmp(optarg, "core")) {
				engine = PROFILE_ENGINE_CORE;
			} else if (!strcmp(optarg, "libunwind")) {
				engine = PROFILE_ENGINE_LIBUNWIND;
			} else {
				perr("profile: --engine %s: use core or libunwind", optarg);
				return 2;
			}
			break;
		case 'S': sysroot = optarg; break;
		case 'D':
			if (nddirs + 2 >= sizeof(ddirs) / sizeof(ddirs[0])) {
				perr("profile: more than 32 --debug-dir");
				return 2;
			}
			debug_dir_add(ddirs, &nddirs, optarg);
			break;
		case 'O': p.pprof_path = optarg; break;
		case 'N': demangle = 0; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs("Try 'vdsoscope profile --help'.\n", stderr); return 2;
		}
	}
	if (optind < argc)
		p.cmd = argv + optind;
	if (folded && p.json) {
		perr("profile: --folded and --json exclude each other");
		return 2;
	}
	if (!!p.pid_arg + !!p.cmd + !!p.replay + !!p.perf_data != 1) {
		perr("profile: give one of --pid PID, --replay FILE, --perf-data FILE, -- COMMAND");
		return 2;
	}
	if ((p.replay || p.perf_data) && (p.record || p.duration > 0)) {
		perr("profile: --%s goes without --record and --duration",
		     p.replay ? "replay" : "perf-data");
		return 2;
	}
	if (p.store && !p.perf_data) {
		perr("profile: --store goes with --perf-data");
		return 2;
	}
	if (p.pid_arg) {
		char *end;
		long v2;
		errno = 0;
		v2 = strtol(p.pid_arg, &end, 10);
		if (errno || *end || v2 <= 0 || v2 > 0x7fffffff || p.pid_arg[0] < '0' ||
		    p.pid_arg[0] > '9') {
			perr("profile: --pid %s is not a process id", p.pid_arg);
			return 2;
		}
		p.pid = (pid_t)v2;
	}
#ifndef HAVE_PPROF
	if (p.pprof_path) {
		perr("profile: --pprof: this vdsoscope was built without protobuf-c "
		     "(configure found no protoc-c or libprotobuf-c)");
		return 2;
	}
#endif
	if (psession_init(&p.s))
		return perr("out of memory");
	ddirs[nddirs] = NULL;
	if (p.perf_data) {
		/* the files of a recording are also where perf keeps them */
		struct perf_data_opts none = { 0 };
		const char *mdirs[68];
		size_t k = 0;
		if (!nddirs)
			mdirs[k++] = "/usr/lib/debug/.build-id";
		for (i = 0; i < nddirs; i++)
			mdirs[k++] = ddirs[i];
		if (perf_data_cache_dir(&none, perf_ids, sizeof(perf_ids) - 10) == 0) {
			strcat(perf_ids, "/.build-id");
			mdirs[k++] = perf_ids;
		}
		mdirs[k] = NULL;
		if (vdsoscope_modules_set_debug_dirs(p.s.mods, mdirs)) {
			psession_fini(&p.s);
			debug_dirs_free();
			return perr("out of memory");
		}
	}
	if ((nddirs && !p.perf_data && vdsoscope_modules_set_debug_dirs(p.s.mods, ddirs)) ||
	    vdsoscope_modules_set_sysroot(p.s.mods, sysroot)) {
		psession_fini(&p.s);
		debug_dirs_free();
		return perr("out of memory");
	}
	p.s.engine = engine;
	if (!(p.names = pnames_new(demangle)) || (p.pprof_path && !(p.pprof = pprof_new(p.names)))) {
		rc = perr("out of memory");
		goto out;
	}
	if (p.replay || p.perf_data) {
		struct replay_cb cb = { &p, replay_sample, replay_lost, replay_no_regs,
					 replay_cputime };
		struct perf_data_opts po = {
			.store = p.store,
			.debug_dirs = nddirs ? ddirs : NULL,
			.self = 1,
			.notes = stderr,
		};
#if defined(__x86_64__)
		static char helper32[4096];
		if (verify_find_helper("vdsoscope-helper32", helper32, sizeof(helper32)) == 0)
			po.helper32 = helper32;
#endif
		if (p.replay ? replay_file(&p.s, p.replay, &cb)
			     : perf_data_replay(&p.s, p.perf_data, &po, &cb)) {
			debug_dirs_free();
			rc = perr("%s", p.s.err);
			goto out;
		}
		debug_dirs_free();
	} else {
		debug_dirs_free();
		if (!(p.rec = malloc(1 << 16))) {
			rc = perr("out of memory");
			goto out;
		}
		if (p.record && record_open(&p.s, p.record)) {
			rc = perr("%s", p.s.err);
			goto out;
		}
		if ((rc = p.cmd ? start_command(&p) : attach_pid(&p)))
			goto out;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		p.progress = isatty(2);
		clock_gettime(CLOCK_MONOTONIC, &p.t0);
		p.wall0 = (int64_t)time(NULL) * 1000000000;
		cputime_start(&p.cpu, p.pid, p.cmd != NULL);
		rc = sample_loop(&p);
		p.elapsed_ns = (int64_t)(since(&p.t0) * 1e9);
		cputime_update(&p.cpu);
		if (p.child) {
			kill(p.pid, SIGKILL);
			waitpid(p.pid, NULL, 0);
			p.child = 0;
		}
		if (cputime_ticks(&p.cpu, &ut, &kt, &hz) == 0 &&
		    record_cputime(&p.s, p.pid, hz, ut, kt))
			p.s.rec_path = NULL;
		if (p.record && !p.s.rec_path) {
			rc = perr("record file %s: write failed", p.record);
			goto out;
		}
		if (record_close(&p.s)) {
			rc = perr("%s", p.s.err);
			goto out;
		}
		if (rc)
			goto out;
	}
	if (!(v = sorted_stacks(&p))) {
		rc = perr("out of memory");
		goto out;
	}
	if (p.per_sample)
		;
	else if (p.json)
		print_json(&p, v, p.nstacks);
	else
		print_folded(v, p.nstacks);
	snprintf(title, sizeof(title), "vdsoscope profile: %s",
		 p.replay ? p.replay : p.perf_data ? p.perf_data : p.cmd ? p.cmd[0] : p.pid_arg);
	if (p.svg) {
		FILE *f = fopen(p.svg, "w");
		if (!f || flamegraph_write(f, v, p.nstacks, title) || fclose(f)) {
			rc = perr("--svg %s: %s", p.svg, strerror(errno));
			goto out;
		}
	}
	if (p.pprof) {
		struct pprof_meta m = { p.freq, p.wall0, p.elapsed_ns, title };
		int e;

		if ((e = pprof_write(p.pprof, p.pprof_path, &m))) {
			rc = perr("--pprof %s: %s", p.pprof_path, strerror(-e));
			goto out;
		}
	}
	fflush(stdout);
	print_summary(&p);
	if (p.samples == 0 && !p.replay && !p.perf_data)
		fprintf(stderr, "vdsoscope: no samples: the target did not run on a CPU\n");
out:
	if (p.child) {
		kill(p.pid, SIGKILL);
		waitpid(p.pid, NULL, 0);
	}
	for (i = 0; i < p.nrings; i++)
		if (p.rings[i].base && p.rings[i].base != MAP_FAILED)
			munmap(p.rings[i].base, (RING_PAGES + 1) * 4096);
	for (i = 0; i < p.nfds; i++)
		close(p.fds[i]);
	for (i = 0; i < p.cap; i++)
		if (p.stacks && p.stacks[i]) {
			free(p.stacks[i]->key);
			free(p.stacks[i]->frames);
			free(p.stacks[i]);
		}
	free(p.stacks);
	free(v);
	free(p.rec);
	pprof_free(p.pprof);
	psession_fini(&p.s);
	pnames_free(p.names);
	return rc;
}
