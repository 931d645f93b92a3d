/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's calls on this process's own vDSO, checked against what the
 * dynamic linker says (dlvsym on linux-vdso.so.1) and against calling the
 * functions found.
 */
#include "config.h"
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>
#include "vdsoscope.h"
#include "vdso-elf.h"
#include "runner.h"

static struct vdsoscope_image *img;

/* what this architecture's vDSO exports: a clock_gettime, another function,
 * and the version both carry */
#if defined(__aarch64__)
#define V_VERSION "LINUX_2.6.39"
#define V_GETTIME "__kernel_clock_gettime"
#define V_OTHER "__kernel_clock_getres"
#else
#define V_VERSION "LINUX_2.6"
#define V_GETTIME "__vdso_clock_gettime"
#define V_OTHER "__vdso_time"
#endif

static void check_lookup_against_ld(void)
{
	static const char *const names[] = {
		"__vdso_clock_gettime", "clock_gettime", "__vdso_gettimeofday", "gettimeofday",
		"__vdso_time", "time", "__vdso_getcpu", "getcpu", "__vdso_clock_getres",
		"clock_getres", "__vdso_getrandom", "__kernel_clock_gettime",
		"__kernel_gettimeofday", "__kernel_clock_getres", "__kernel_rt_sigreturn",
	};
	void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
	size_t i;

	if (!h) {
		printf("dlopen(linux-vdso.so.1) failed: %s; lookups not compared with ld.so\n",
		       dlerror());
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		void *ld = dlvsym(h, names[i], V_VERSION);
		uint64_t ours = 0;
		int rc = vdsoscope_lookup(img, names[i], V_VERSION, &ours);
		struct vdsoscope_func f;
		unsigned k;
		int named = 0;

		if (!ld) {
			CHECK_EQ_INT(rc, -VDSOSCOPE_E_NOT_FOUND);
			continue;
		}
		CHECK(rc == 0, "lookup %s: %s", names[i], vdsoscope_errmsg());
		CHECK_EQ_U64(ours, (uintptr_t)ld);
		/* the function table names the same address by that name */
		CHECK_EQ_INT(vdsoscope_func_at(img, ours + 1, &f, NULL), 0);
		CHECK_EQ_U64(f.start, ours);
		for (k = 0; k < f.nnames; k++)
			named |= !strcmp(f.names[k].name, names[i]) &&
				 !strcmp(f.names[k].version, V_VERSION);
		CHECK(named, "%s not among the names of the function at 0x%llx", names[i],
		      (unsigned long long)ours);
	}
	/* a version the image lacks, and unversioned lookup */
	{
		uint64_t a, b;
		CHECK_EQ_INT(vdsoscope_lookup(img, V_OTHER, "LINUX_9.9", &a), -VDSOSCOPE_E_NOT_FOUND);
		CHECK_EQ_INT(vdsoscope_lookup(img, V_OTHER, NULL, &a), 0);
		CHECK_EQ_INT(vdsoscope_lookup(img, V_OTHER, V_VERSION, &b), 0);
		CHECK_EQ_U64(a, b);
		CHECK_EQ_INT(vdsoscope_lookup(img, "no_such_function", NULL, &a), -VDSOSCOPE_E_NOT_FOUND);
	}
	dlclose(h);
}

/* The freestanding lookup a runtime uses agrees with the library for every
 * dynamic symbol, by name and version. */
static void check_runtime_lookup(void)
{
	struct vs_elf e;
	size_t i, compared = 0;

	CHECK_EQ_INT(vs_vdso_open(&e, (uintptr_t)getauxval(AT_SYSINFO_EHDR)), 0);
	for (i = 0; i < vdsoscope_func_count(img); i++) {
		struct vdsoscope_func f;
		unsigned k;

		vdsoscope_func_get(img, i, &f);
		for (k = 0; k < f.nnames; k++) {
			const struct vdsoscope_sym *n = &f.names[k];
			if (f.flags & VDSOSCOPE_FUNC_FROM_CFI)
				continue;
			CHECK_EQ_U64(vs_vdso_sym(&e, n->name, n->version), f.start);
			CHECK_EQ_U64(vs_vdso_sym(&e, n->name, NULL), f.start);
			compared++;
		}
	}
	CHECK(compared > 0, "no symbol compared");
	CHECK_EQ_U64(vs_vdso_sym(&e, V_OTHER, "LINUX_1.0"), 0);
	CHECK_EQ_U64(vs_vdso_sym(&e, "nonexistent", NULL), 0);
	{
		uintptr_t auxv[] = { 6, 4096, 33, 0x1234000, 0, 0 };
		CHECK_EQ_U64(vs_auxv_sysinfo_ehdr(auxv), 0x1234000);
		auxv[2] = 34;
		CHECK_EQ_U64(vs_auxv_sysinfo_ehdr(auxv), 0);
	}
}

static void check_call_through_lookup(void)
{
	typedef int (*cg_fn)(clockid_t, struct timespec *);
	struct timespec a, b, c;
	uint64_t addr;
	cg_fn f;

	CHECK_EQ_INT(vdsoscope_lookup(img, V_GETTIME, NULL, &addr), 0);
	f = (cg_fn)(uintptr_t)addr;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_EQ_INT(f(CLOCK_MONOTONIC, &b), 0);
	clock_gettime(CLOCK_MONOTONIC, &c);
	CHECK(a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec),
	      "vDSO time went backwards");
	CHECK(b.tv_sec < c.tv_sec || (b.tv_sec == c.tv_sec && b.tv_nsec <= c.tv_nsec),
	      "vDSO time is ahead of libc's");
}

static void check_identity(void)
{
	size_t size, len;
	const unsigned char *data = vdsoscope_image_data(img, &size);
	const void *mapped = (const void *)getauxval(AT_SYSINFO_EHDR);
	struct vdsoscope_image *copy = NULL;
	VDSOSCOPE_OPTS(opts, .flags = VDSOSCOPE_OPEN_LOAD_ADDR, .load_addr = 0x1000000);

	CHECK_EQ_U64(vdsoscope_load_address(img), (uintptr_t)mapped);
	CHECK(size >= 4096 && size % 4096 == 0, "size %zu", size);
	CHECK(!memcmp(data, mapped, size), "image bytes differ from memory");
	CHECK_STR(vdsoscope_soname(img), "linux-vdso.so.1");
	CHECK_EQ_INT(vdsoscope_elf_class(img), 64);
	CHECK(vdsoscope_build_id(img, &len) && len == 20, "build-id of %zu bytes", len);

	/* the same bytes from a buffer, mapped elsewhere */
	CHECK_EQ_INT(vdsoscope_open_buffer(&copy, data, size, &opts), 0);
	if (copy) {
		uint64_t a, b;
		CHECK_STR(vdsoscope_build_id_hex(copy), vdsoscope_build_id_hex(img));
		CHECK_EQ_INT(vdsoscope_lookup(copy, V_OTHER, NULL, &a), 0);
		CHECK_EQ_INT(vdsoscope_lookup(img, V_OTHER, NULL, &b), 0);
		CHECK_EQ_U64(a - 0x1000000, b - vdsoscope_load_address(img));
		CHECK_EQ_U64(vdsoscope_func_count(copy), vdsoscope_func_count(img));
		vdsoscope_image_close(copy);
	}
}

static void check_errors(void)
{
	struct vdsoscope_image *x = (void *)1;
	struct vdsoscope_regs r = { 0 };
	struct vdsoscope_func f;
	unsigned char junk[64] = "not an ELF file";
	struct { struct vdsoscope_open_opts o; char extra[8]; } big;
	uint64_t lo, hi;

	CHECK_EQ_INT(vdsoscope_open_buffer(&x, junk, sizeof(junk), NULL), -VDSOSCOPE_E_NOT_ELF);
	CHECK(x == NULL, "handle not cleared on failure");
	CHECK(strstr(vdsoscope_errmsg(), "buffer") != NULL, "message: %s", vdsoscope_errmsg());
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.extra[3] = 1;
	CHECK_EQ_INT(vdsoscope_open_self(&x, &big.o), -VDSOSCOPE_E_INVALID);
	big.extra[3] = 0;
	CHECK_EQ_INT(vdsoscope_open_self(&x, &big.o), 0);
	vdsoscope_image_close(x);
	CHECK_EQ_INT(vdsoscope_open_pid(&x, 0x7ffffff0, NULL), -VDSOSCOPE_E_NO_PROCESS);
	CHECK_EQ_INT(vdsoscope_open_file(&x, "/nonexistent/vdso.so", NULL), -ENOENT);
	CHECK(strstr(vdsoscope_errmsg(), "/nonexistent/vdso.so") != NULL, "message: %s",
	      vdsoscope_errmsg());

	vdsoscope_text_range(img, &lo, &hi);
	CHECK_EQ_INT(vdsoscope_func_at(img, 0x10, &f, NULL), -VDSOSCOPE_E_NOT_IN_IMAGE);
	vdsoscope_regs_clear(&r);
	vdsoscope_regs_set(&r, vdsoscope_arch(img)->ip_reg, 0x10);
	vdsoscope_regs_set(&r, vdsoscope_arch(img)->sp_reg, 0x1000);
	CHECK_EQ_INT(vdsoscope_step(img, &r, 0, vdsoscope_read_self, NULL, &r, NULL),
		     -VDSOSCOPE_E_NOT_IN_IMAGE);
	/* the ELF header: no CFI */
	vdsoscope_regs_set(&r, vdsoscope_arch(img)->ip_reg, vdsoscope_load_address(img) + 4);
	CHECK_EQ_INT(vdsoscope_step(img, &r, 0, vdsoscope_read_self, NULL, &r, NULL),
		     -VDSOSCOPE_E_NO_CFI);
	CHECK(strcmp(vdsoscope_strerror(-VDSOSCOPE_E_TRUNCATED), "") != 0, "empty text");
	CHECK_STR(vdsoscope_err_name(-VDSOSCOPE_E_NO_CFI), "VDSOSCOPE_E_NO_CFI");
	CHECK_STR(vdsoscope_err_name(-ENOENT), "ENOENT");
}

/* ---- many threads on one image ------------------------------------------- */

#define THREADS 8
static uint64_t expect_start[4096];
static size_t naddrs;
static uint64_t addrs[4096];
static int thread_errors[THREADS];

static int read_zero(void *arg, uint64_t addr, void *buf, size_t len)
{
	memset(buf, 0x5a, len);
	return 0;
}

static void *worker(void *arg)
{
	const struct vdsoscope_arch *a_ = vdsoscope_arch(img);
	int id = (int)(intptr_t)arg, round;
	unsigned int k;
	size_t i;

	for (round = 0; round < 200; round++)
		for (i = 0; i < naddrs; i++) {
			struct vdsoscope_func f;
			struct vdsoscope_regs r = { 0 };
			uint64_t a;

			if (vdsoscope_func_at(img, addrs[i], &f, NULL) == 0) {
				if (f.start != expect_start[i])
					thread_errors[id]++;
			} else if (expect_start[i] != 0) {
				thread_errors[id]++;
			}
			vdsoscope_regs_clear(&r);
			for (k = 0; k < a_->nregs && k < 64; k++)
				vdsoscope_regs_set(&r, k, 0x1000);
			vdsoscope_regs_set(&r, a_->ip_reg, addrs[i]);
			vdsoscope_step(img, &r, 0, read_zero, NULL, &r, NULL);
			if (vdsoscope_lookup(img, V_GETTIME, NULL, &a))
				thread_errors[id]++;
		}
	return NULL;
}

static void check_threads(void)
{
	pthread_t t[THREADS];
	uint64_t lo, hi, a;
	int i, errors = 0;

	vdsoscope_text_range(img, &lo, &hi);
	for (a = lo; a < hi && naddrs < 4096; a += 7) {
		struct vdsoscope_func f;
		addrs[naddrs] = a;
		expect_start[naddrs] = vdsoscope_func_at(img, a, &f, NULL) ? 0 : f.start;
		naddrs++;
	}
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		errors += thread_errors[i];
	}
	CHECK_EQ_INT(errors, 0);
}

/* The lookup by build-id finds the open image first, with the same bytes
 * getauxval(AT_SYSINFO_EHDR) points at; options from a caller built before
 * store_dir existed (smaller sz) are accepted. */
static void check_open_build_id(void)
{
	struct vs_old_opts {
		size_t sz;
		const char *const *debug_dirs;
		const char *debug_file;
		uint64_t load_addr;
		unsigned int flags;
	} old = { sizeof(old), NULL, NULL, 0, VDSOSCOPE_OPEN_NO_DEBUG };
	VDSOSCOPE_OPTS(o, .flags = VDSOSCOPE_OPEN_NO_STORE | VDSOSCOPE_OPEN_NO_DEBUGINFOD,
		       .store_dir = "/nonexistent");
	struct vdsoscope_image *b = NULL;
	const uint8_t *id;
	size_t len, n1, n2;
	const void *d1, *d2;
	uint8_t zero[20] = { 0 };
	int rc;

	id = vdsoscope_build_id(img, &len);
	if (!id) {
		printf("the vDSO has no build-id; open_build_id not checked\n");
		return;
	}
	rc = vdsoscope_open_build_id(&b, id, len, &o);
	CHECK(rc == 0, "open_build_id: %s", vdsoscope_errmsg());
	if (rc)
		return;
	CHECK(strstr(vdsoscope_image_source(b), "(open image)") != NULL, "source %s",
	      vdsoscope_image_source(b));
	d1 = vdsoscope_image_data(img, &n1);
	d2 = vdsoscope_image_data(b, &n2);
	CHECK(n1 == n2 && !memcmp(d1, d2, n1) &&
		      !memcmp(d1, (const void *)getauxval(AT_SYSINFO_EHDR), n1),
	      "bytes differ");
	vdsoscope_image_close(b);

	rc = vdsoscope_open_build_id(&b, id, len, (const struct vdsoscope_open_opts *)&old);
	CHECK(rc == 0, "open_build_id with old options: %s", vdsoscope_errmsg());
	vdsoscope_image_close(b);

	b = NULL;
	rc = vdsoscope_open_build_id(&b, zero, sizeof(zero), &o);
	CHECK_EQ_INT(rc, -VDSOSCOPE_E_NOT_FOUND);
	CHECK(b == NULL && strstr(vdsoscope_errmsg(), "0000000000") != NULL, "message %s",
	      vdsoscope_errmsg());
	CHECK_EQ_INT(vdsoscope_open_build_id(&b, id, 0, &o), -VDSOSCOPE_E_INVALID);
}

int main(void)
{
	int rc = vdsoscope_open_self(&img, NULL);

	if (rc == -VDSOSCOPE_E_NO_VDSO)
		SKIP("this process has no vDSO");
	CHECK(rc == 0, "open self: %s", vdsoscope_errmsg());
	if (rc)
		return test_result("test-api");
	check_identity();
	check_lookup_against_ld();
	check_call_through_lookup();
	check_runtime_lookup();
	check_errors();
	check_threads();
	check_open_build_id();
	vdsoscope_image_close(img);
	return test_result("test-api");
}
