/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /init of the guest in which vdsoscope runs natively on arm64: with /spin
 * (spin.c) as the target it runs
 *   info, symbols          /vdsoscope on its own vDSO
 *   test-api               /test-api, when the initramfs has it
 *   bt.MODE.kK             backtrace --pid of a spin MODE stopped (SIGSTOP)
 *                          at its K-th instruction inside a vDSO call;
 *                          bt.MODE.kK.pc is that instruction's address
 *   verify                 verify --pid of spin short
 *   profile                profile --pid of spin gettime
 * each into NAME.out and NAME.err, with "NAME EXIT SECONDS" lines in
 * summary.txt; then sends every file of /out over the console (=== BEGIN
 * NAME SIZE CRC32, base64, === END NAME; tests/qemu/console.py) and powers
 * the machine off.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static FILE *summary;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(summary, fmt, ap);
	va_end(ap);
	fflush(summary);
}

/* Runs ARGV with its output in /out/NAME.out and /out/NAME.err, killed
 * after LIMIT seconds; its exit status (128 + signal when killed). */
static int run(const char *name, char *const argv[], int limit)
{
	char path[128];
	double t0 = now();
	int st = 0, rc;
	pid_t pid, w;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		snprintf(path, sizeof(path), "/out/%s.out", name);
		dup2(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
		snprintf(path, sizeof(path), "/out/%s.err", name);
		dup2(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
		execv(argv[0], argv);
		_exit(127);
	}
	while ((w = waitpid(pid, &st, WNOHANG)) == 0) {
		if (now() - t0 > limit)
			kill(pid, SIGKILL);
		usleep(20000);
	}
	rc = w != pid ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	note("%s %d %.1f\n", name, rc, now() - t0);
	return rc;
}

static pid_t spawn(const char *mode)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/spin", "spin", mode, (char *)NULL);
		_exit(127);
	}
	usleep(100000);
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static int vdso_range(pid_t pid, uint64_t *lo, uint64_t *hi)
{
	char path[64], line[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", lo, hi) == 2)
			found = 1;
	fclose(f);
	return found ? 0 : -1;
}

static uint64_t pc_of(pid_t pid)
{
	uint64_t r[34] = { 0 };
	struct iovec io = { r, sizeof(r) };

	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &io))
		return 0;
	return r[32];
}

/* Single-steps PID to its K-th instruction inside a vDSO call (or the
 * last one, for a shorter call) and leaves it there in a group stop,
 * untraced.  The stop's PC, or 0. */
static uint64_t stop_in_vdso(pid_t pid, unsigned k)
{
	uint64_t lo, hi, pc = 0;
	unsigned in = 0, limit = k;
	long steps;
	int st;

	if (vdso_range(pid, &lo, &hi) || ptrace(PTRACE_SEIZE, pid, 0, 0) ||
	    ptrace(PTRACE_INTERRUPT, pid, 0, 0) || waitpid(pid, &st, __WALL) != pid)
		return 0;
	for (steps = 0; steps < 1000000; steps++) {
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) || waitpid(pid, &st, __WALL) != pid ||
		    !WIFSTOPPED(st))
			return 0;
		pc = pc_of(pid);
		if (pc >= lo && pc < hi) {
			if (++in >= limit)
				break;
		} else if (in) {
			limit = in;
			in = 0;
		}
	}
	if (ptrace(PTRACE_DETACH, pid, 0, (void *)(long)SIGSTOP) ||
	    waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st))
		return 0;
	return pc;
}

static void backtrace_at(const char *mode, unsigned k)
{
	char name[64], pids[16], path[96];
	char *argv[] = { "/vdsoscope", "backtrace", "--pid", pids, "--json", NULL };
	pid_t pid = spawn(mode);
	uint64_t pc = stop_in_vdso(pid, k);
	FILE *f;

	snprintf(name, sizeof(name), "bt.%s.k%u", mode, k);
	snprintf(pids, sizeof(pids), "%d", (int)pid);
	snprintf(path, sizeof(path), "/out/%s.pc", name);
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%#lx\n", (unsigned long)pc);
		fclose(f);
	}
	if (pc)
		run(name, argv, 30);
	else
		note("%s stop-failed\n", name);
	reap(pid);
}

/* ---- over the console ---- */

static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffff;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320 : c >> 1;
	}
	return ~c;
}

static void send(const char *name)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char path[300];
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, i;
	FILE *f;

	snprintf(path, sizeof(path), "/out/%s", name);
	if (!(f = fopen(path, "rb")))
		return;
	for (;;) {
		if (len == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 65536)))
			return;
		i = fread(buf + len, 1, cap - len, f);
		if (!i)
			break;
		len += i;
	}
	fclose(f);
	printf("=== BEGIN %s %zu %08x\n", name, len, crc32(buf, len));
	for (i = 0; i < len; i += 3) {
		uint32_t v = buf[i] << 16 | (i + 1 < len ? buf[i + 1] << 8 : 0) | (i + 2 < len ? buf[i + 2] : 0);

		putchar(b64[v >> 18 & 63]);
		putchar(b64[v >> 12 & 63]);
		putchar(i + 1 < len ? b64[v >> 6 & 63] : '=');
		putchar(i + 2 < len ? b64[v & 63] : '=');
		if (i % 57 == 54 || i + 3 >= len)
			putchar('\n');
	}
	printf("=== END %s\n", name);
	free(buf);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void send_all(void)
{
	struct dirent **e;
	int n, i, files = 0;

	n = scandir("/out", &e, NULL, by_name);
	for (i = 0; i < n; i++) {
		if (e[i]->d_name[0] != '.') {
			send(e[i]->d_name);
			files++;
		}
		free(e[i]);
	}
	printf("=== DONE %d files\n", files);
	fflush(stdout);
}

static void setup(void)
{
	int fd;

	mkdir("/proc", 0755);
	mkdir("/dev", 0755);
	mkdir("/tmp", 01777);
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
	fd = open("/proc/sys/kernel/printk", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1\n", 2) != 2)
			perror("printk");
		close(fd);
	}
}

int main(void)
{
	static const unsigned ks[] = { 1, 3, 8, 20 };
	static const char *const modes[] = { "gettime", "getres", "gtod" };
	char pids[16];
	char *info[] = { "/vdsoscope", "info", "--json", NULL };
	char *syms[] = { "/vdsoscope", "symbols", "--json", NULL };
	char *api[] = { "/test-api", NULL };
	char *verify[] = { "/vdsoscope", "verify", "--pid", pids, "--calls", "80", "--json", NULL };
	char *profile[] = { "/vdsoscope", "profile", "--pid", pids, "--duration", "3", "--json", NULL };
	char *record[] = { "/vdsoscope", "profile", "--pid", pids, "--duration", "1", "--frequency",
			   "200", "--stack-size", "4096", "--record", "/out/profile.rec", NULL };
	double t0;
	size_t m, k;
	pid_t pid;
	FILE *f;

	setup();
	t0 = now();
	if (!(summary = fopen("/out/summary.txt", "w")))
		return 1;
	if ((f = fopen("/proc/sys/kernel/osrelease", "r"))) {
		char rel[128] = "?";

		if (fgets(rel, sizeof(rel), f))
			rel[strcspn(rel, "\n")] = 0;
		fclose(f);
		note("# kernel %s\n", rel);
	}
	printf("=== START\n");
	fflush(stdout);
	run("info", info, 30);
	run("symbols", syms, 30);
	if (!access("/test-api", X_OK))
		run("test-api", api, 60);
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		for (k = 0; k < sizeof(ks) / sizeof(ks[0]); k++)
			backtrace_at(modes[m], ks[k]);
	pid = spawn("short");
	snprintf(pids, sizeof(pids), "%d", (int)pid);
	run("verify", verify, 60);
	reap(pid);
	pid = spawn("gettime");
	snprintf(pids, sizeof(pids), "%d", (int)pid);
	run("profile", profile, 30);
	reap(pid);
	pid = spawn("gettime");
	snprintf(pids, sizeof(pids), "%d", (int)pid);
	run("profile-record", record, 30);
	reap(pid);
	note("# guest seconds %.1f\n", now() - t0);
	fclose(summary);
	send_all();
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
