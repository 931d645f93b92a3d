/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Getting an image's bytes: from this process, another process, a core file,
 * an ELF file or a buffer. */
#include "config.h"
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "internal.h"

#define AUXV_MAX (64u << 10)
#define CORE_NOTES_MAX (64u << 20)

size_t vs__mapped_size(const void *hdr, size_t avail, size_t page)
{
	uint64_t end;

	if (vs_elf_extent(hdr, avail, &end) || end == 0 || end > VS_MAX_IMAGE)
		return 0;
	return (size_t)((end + page - 1) / page * page);
}

int vdsoscope_read_self(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	(void)arg;
	if (len == 0)
		return 0;
	if (addr != (uintptr_t)addr)
		return -VDSOSCOPE_E_MEMORY;
	n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
		/* no process_vm_readv here: memory of our own is known mapped
		 * only through /proc/self/mem */
		return vs__read_pid_mem(getpid(), addr, buf, len);
	}
	return -VDSOSCOPE_E_MEMORY;
}

int vs__read_pid_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	char path[64];
	ssize_t n;
	int fd, err;

	if (len == 0)
		return 0;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno == ESRCH)
		return -VDSOSCOPE_E_NO_PROCESS;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -VDSOSCOPE_E_NO_PROCESS : -errno;
	n = pread(fd, buf, len, (off_t)addr);
	err = errno;
	close(fd);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && err == EACCES)
		return -EACCES;
	return -VDSOSCOPE_E_MEMORY;
}

int vdsoscope_read_pid(void *arg, uint64_t addr, void *buf, size_t len)
{
	return vs__read_pid_mem(*(pid_t *)arg, addr, buf, len);
}

/* Reads the image at ADDR through READ; its size comes from its headers,
 * bounded by LIMIT (0: none). */
static int read_image(vdsoscope_read_fn read, void *arg, uint64_t addr, size_t limit,
		      const char *who, unsigned char **out, size_t *out_size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size;
	unsigned char *buf;
	int rc;

	buf = malloc(page);
	if (!buf)
		return -ENOMEM;
	rc = read(arg, addr, buf, page);
	if (rc) {
		free(buf);
		if (rc == -VDSOSCOPE_E_NO_PROCESS)
			return vs__err(VDSOSCOPE_E_NO_PROCESS, "%s", who);
		if (rc == -EACCES || rc == -EPERM)
			return vs__err(-rc, "%s: reading the vDSO at 0x%llx", who,
				       (unsigned long long)addr);
		return vs__err(VDSOSCOPE_E_MEMORY, "%s: reading the vDSO at 0x%llx", who,
			       (unsigned long long)addr);
	}
	size = vs__mapped_size(buf, page, page);
	if (size == 0) {
		free(buf);
		return vs__err(VDSOSCOPE_E_NOT_ELF, "%s: no usable ELF header at 0x%llx", who,
			       (unsigned long long)addr);
	}
	if (limit && size > limit)
		size = limit;
	if (size > page) {
		unsigned char *n = realloc(buf, size);
		if (!n) {
			free(buf);
			return -ENOMEM;
		}
		buf = n;
		rc = read(arg, addr + page, buf + page, size - page);
		if (rc) {
			/* headers promised more than is mapped: keep whole
			 * pages that read */
			size_t have = page;
			while (have < size && !read(arg, addr + have, buf + have, page))
				have += page;
			size = have;
		}
	} else {
		size = page < size ? page : size;
	}
	*out = buf;
	*out_size = size;
	return 0;
}

int vdsoscope_open_self(struct vdsoscope_image **out,
			const struct vdsoscope_open_opts *opts)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	unsigned char *bytes;
	size_t size;
	int rc;

	if (!out)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_open_self");
	*out = NULL;
	if ((rc = vs__check_opts(opts)))
		return rc;
	if (!base)
		return vs__err(VDSOSCOPE_E_NO_VDSO, "this process (no AT_SYSINFO_EHDR)");
	rc = read_image(vdsoscope_read_self, NULL, base, 0, "this process", &bytes, &size);
	if (rc)
		return rc;
	return vs__image_create(out, bytes, size, base, 1, "self", opts);
}

/* Finds AT_SYSINFO_EHDR in a raw auxv of either word size.  The 64-bit
 * reading is taken when its types are plausible up to AT_NULL. */
static int auxv_sysinfo(const unsigned char *a, size_t n, int swap_unused,
			uint64_t *addr, int *is64)
{
	size_t i;
	int ok64 = 0;

	(void)swap_unused;
	for (i = 0; i + 16 <= n; i += 16) {
		uint64_t t, v;
		memcpy(&t, a + i, 8);
		memcpy(&v, a + i + 8, 8);
		if (t == AT_NULL) {
			ok64 = 1;
			break;
		}
		if (t > 4096)
			break;
	}
	for (i = 0; i + (ok64 ? 16 : 8) <= n; i += ok64 ? 16 : 8) {
		uint64_t t, v;
		if (ok64) {
			memcpy(&t, a + i, 8);
			memcpy(&v, a + i + 8, 8);
		} else {
			uint32_t t32, v32;
			memcpy(&t32, a + i, 4);
			memcpy(&v32, a + i + 4, 4);
			t = t32;
			v = v32;
		}
		if (t == AT_NULL)
			break;
		if (t == AT_SYSINFO_EHDR) {
			*addr = v;
			*is64 = ok64;
			return v ? 0 : -1;
		}
	}
	return -1;
}

static int read_small_file(const char *path, unsigned char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;

	if (fd < 0)
		return -errno;
	while (have < cap) {
		ssize_t n = read(fd, buf + have, cap - have);
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	*len = have;
	return 0;
}

static int all_zero(const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Whether PID is gone or exiting (a zombie): its auxv is then torn down. */
static int process_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small_file(path, (unsigned char *)buf, sizeof(buf) - 1, &n))
		return 1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 1;
	/* exiting, not yet a zombie: its address space is already gone */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	return read_small_file(path, (unsigned char *)buf, sizeof(buf) - 1, &n) || n == 0;
}

int vdsoscope_open_pid(struct vdsoscope_image **out, pid_t pid,
		       const struct vdsoscope_open_opts *opts)
{
	char path[64], who[64];
	unsigned char *auxv, *bytes;
	size_t n = 0, size;
	uint64_t base;
	int rc, is64, tries;

	if (!out)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_open_pid");
	*out = NULL;
	if ((rc = vs__check_opts(opts)))
		return rc;
	if (pid <= 0)
		return vs__err(VDSOSCOPE_E_INVALID, "pid %d", (int)pid);
	snprintf(who, sizeof(who), "pid %d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	auxv = malloc(AUXV_MAX);
	if (!auxv)
		return -ENOMEM;
	rc = read_small_file(path, auxv, AUXV_MAX, &n);
	if (rc) {
		free(auxv);
		if (rc == -ENOENT || rc == -ESRCH)
			return vs__err(VDSOSCOPE_E_NO_PROCESS, "%s", who);
		return vs__err(-rc, "%s: reading %s", who, path);
	}
	if (n == 0) {
		free(auxv);
		/* a zombie, or a process that is exiting, has no auxv */
		return vs__err(VDSOSCOPE_E_NO_PROCESS, "%s: %s is empty (process exited?)", who, path);
	}
	rc = auxv_sysinfo(auxv, n, 0, &base, &is64);
	/* a process in execve(2) shows its new auxv zeroed until the kernel
	 * has written it: read it again, a bounded number of times */
	for (tries = 0; rc && tries < 1000 && all_zero(auxv, n); tries++) {
		sched_yield();
		if (read_small_file(path, auxv, AUXV_MAX, &n) || n == 0)
			break;
		rc = auxv_sysinfo(auxv, n, 0, &base, &is64);
	}
	free(auxv);
	if (rc && process_gone(pid))
		return vs__err(VDSOSCOPE_E_NO_PROCESS, "%s: exited while its auxv was read", who);
	if (rc)
		return vs__err(VDSOSCOPE_E_NO_VDSO, "%s: no AT_SYSINFO_EHDR in %s", who, path);
	rc = read_image(vdsoscope_read_pid, &pid, base, 0, who, &bytes, &size);
	if (rc && process_gone(pid))
		return vs__err(VDSOSCOPE_E_NO_PROCESS, "%s: exited while its vDSO was read", who);
	if (rc)
		return rc;
	rc = vs__image_create(out, bytes, size, base, 1, who, opts);
	/* bytes read as the process exited: its mappings were going away */
	if (rc && rc != -ENOMEM && process_gone(pid))
		return vs__err(VDSOSCOPE_E_NO_PROCESS, "%s: exited while its vDSO was read", who);
	return rc;
}

/* ---- core files -------------------------------------------------------- */

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	size_t have = 0;

	while (have < len) {
		ssize_t n = pread(fd, (char *)buf + have, len - have, (off_t)(off + have));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -VDSOSCOPE_E_TRUNCATED;
		have += (size_t)n;
	}
	return 0;
}

struct core {
	int fd;
	uint64_t file_size;
	struct vs_elf e;       /* header fields only */
	unsigned char hdr[64];
	unsigned char *ph;
	const char *path;
};

static int core_phdr(struct core *c, unsigned int i, uint32_t *type, uint64_t *off,
		     uint64_t *vaddr, uint64_t *filesz, uint64_t *memsz)
{
	struct vs_elf p = c->e;
	uint64_t q = (uint64_t)i * c->e.phentsize;

	p.data = c->ph;
	p.size = (size_t)c->e.phnum * c->e.phentsize;
	*type = vs_elf_u32(&p, q);
	if (p.is64) {
		*off = vs_elf_u64(&p, q + 8);
		*vaddr = vs_elf_u64(&p, q + 16);
		*filesz = vs_elf_u64(&p, q + 32);
		*memsz = vs_elf_u64(&p, q + 40);
	} else {
		*off = vs_elf_u32(&p, q + 4);
		*vaddr = vs_elf_u32(&p, q + 8);
		*filesz = vs_elf_u32(&p, q + 16);
		*memsz = vs_elf_u32(&p, q + 20);
	}
	return 0;
}

/* Looks for NT_AUXV in one PT_NOTE's bytes. */
static int core_auxv(struct core *c, const unsigned char *notes, size_t len, uint64_t *base)
{
	struct vs_elf n = c->e;
	size_t off = 0;
	unsigned int word = c->e.is64 ? 8 : 4;

	n.data = notes;
	n.size = len;
	while (off + 12 <= len) {
		uint32_t namesz = vs_elf_u32(&n, off), descsz = vs_elf_u32(&n, off + 4);
		uint32_t type = vs_elf_u32(&n, off + 8);
		uint64_t desc = off + 12 + (((uint64_t)namesz + 3) & ~3ull);
		uint64_t next = desc + (((uint64_t)descsz + 3) & ~3ull);

		if (desc > len || next > len || descsz > len)
			return vs__err(VDSOSCOPE_E_BAD_CORE, "core %s: a note runs past its segment",
				       c->path);
		if (type == NT_AUXV && namesz == 5 && !memcmp(notes + off + 12, "CORE", 5)) {
			uint64_t i;
			for (i = 0; i + 2 * word <= descsz; i += 2 * word) {
				uint64_t t = word == 8 ? vs_elf_u64(&n, desc + i) : vs_elf_u32(&n, desc + i);
				uint64_t v = word == 8 ? vs_elf_u64(&n, desc + i + word)
						       : vs_elf_u32(&n, desc + i + word);
				if (t == AT_NULL)
					break;
				if (t == AT_SYSINFO_EHDR && !v)
					return vs__err(VDSOSCOPE_E_NO_VDSO,
						       "core %s: AT_SYSINFO_EHDR is 0: the process had no vDSO",
						       c->path);
				if (t == AT_SYSINFO_EHDR) {
					*base = v;
					return 0;
				}
			}
			return vs__err(VDSOSCOPE_E_NO_VDSO,
				       "core %s: NT_AUXV has no AT_SYSINFO_EHDR", c->path);
		}
		off = (size_t)next;
	}
	return 1;
}

/* Opens the vDSO of core PATH, or with BASE_ONLY set only finds its address. */
static int open_core(struct vdsoscope_image **out, const char *path,
		     const struct vdsoscope_open_opts *opts, uint64_t *base_only)
{
	struct core c = { .fd = -1, .path = path };
	struct stat st;
	uint64_t base = 0;
	unsigned char *bytes = NULL;
	char *source = NULL;
	unsigned int i;
	int rc, found = 0;

	if (!out || !path)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_open_core");
	*out = NULL;
	if ((rc = vs__check_opts(opts)))
		return rc;
	c.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (c.fd < 0)
		return vs__err(errno, "core %s", path);
	if (fstat(c.fd, &st) || !S_ISREG(st.st_mode)) {
		rc = vs__err(VDSOSCOPE_E_BAD_CORE, "core %s: not a regular file", path);
		goto out;
	}
	c.file_size = (uint64_t)st.st_size;
	if (c.file_size < 16 || pread_all(c.fd, c.hdr, c.file_size < 64 ? (size_t)c.file_size : 64, 0)) {
		rc = vs__err(VDSOSCOPE_E_NOT_ELF, "core %s", path);
		goto out;
	}
	{
		/* header through the bounded reader; phdrs are checked below
		 * against the file, not this buffer */
		struct vs_elf *e = &c.e;
		uint64_t end;
		e->data = c.hdr;
		e->size = c.file_size < 64 ? (size_t)c.file_size : 64;
		rc = vs_elf_extent(c.hdr, 16, &end); /* only to classify */
		if (rc == VS_ELF_E_NOT_ELF || rc == VS_ELF_E_BAD_CLASS) {
			rc = vs__elf_err(rc, path);
			goto out;
		}
		e->is64 = c.hdr[4] == 2;
		{
			const uint16_t one = 1;
			e->swap = (c.hdr[5] == 2) != (*(const unsigned char *)&one == 0);
		}
		if (c.file_size < (e->is64 ? 64u : 52u)) {
			rc = vs__err(VDSOSCOPE_E_TRUNCATED, "core %s: ELF header", path);
			goto out;
		}
		if (vs_elf_u16(e, 16) != ET_CORE) {
			rc = vs__err(VDSOSCOPE_E_BAD_CORE, "core %s: ELF type %u is not ET_CORE", path,
				     vs_elf_u16(e, 16));
			goto out;
		}
		e->machine = vs_elf_u16(e, 18);
		e->phoff = e->is64 ? vs_elf_u64(e, 32) : vs_elf_u32(e, 28);
		e->phentsize = vs_elf_u16(e, e->is64 ? 54 : 42);
		e->phnum = vs_elf_u16(e, e->is64 ? 56 : 44);
	}
	if (c.e.phnum == 0 || c.e.phnum == 0xffff || c.e.phentsize < (c.e.is64 ? 56u : 32u)) {
		rc = vs__err(VDSOSCOPE_E_BAD_PHDR, "core %s: %u program headers of %u bytes", path,
			     c.e.phnum, c.e.phentsize);
		goto out;
	}
	if (c.e.phoff > c.file_size ||
	    (uint64_t)c.e.phnum * c.e.phentsize > c.file_size - c.e.phoff) {
		rc = vs__err(VDSOSCOPE_E_TRUNCATED, "core %s: program headers past the end", path);
		goto out;
	}
	c.ph = malloc((size_t)c.e.phnum * c.e.phentsize);
	if (!c.ph) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = pread_all(c.fd, c.ph, (size_t)c.e.phnum * c.e.phentsize, c.e.phoff))) {
		rc = vs__err(-rc, "core %s: program headers", path);
		goto out;
	}
	for (i = 0; i < c.e.phnum && !found; i++) {
		uint32_t type;
		uint64_t off, va, fs, ms;
		unsigned char *notes;

		core_phdr(&c, i, &type, &off, &va, &fs, &ms);
		if (type != PT_NOTE)
			continue;
		if (fs > CORE_NOTES_MAX) {
			rc = vs__err(VDSOSCOPE_E_TOO_LARGE, "core %s: note segment of %llu bytes", path,
				     (unsigned long long)fs);
			goto out;
		}
		if (off > c.file_size || fs > c.file_size - off) {
			rc = vs__err(VDSOSCOPE_E_TRUNCATED, "core %s: note segment past the end", path);
			goto out;
		}
		notes = malloc(fs ? fs : 1);
		if (!notes) {
			rc = -ENOMEM;
			goto out;
		}
		rc = pread_all(c.fd, notes, fs, off);
		if (!rc)
			rc = core_auxv(&c, notes, fs, &base);
		free(notes);
		if (rc < 0)
			goto out;
		found = rc == 0;
	}
	if (!found) {
		rc = vs__err(VDSOSCOPE_E_NO_VDSO, "core %s: no NT_AUXV note", path);
		goto out;
	}
	if (base_only) {
		*base_only = base;
		rc = 0;
		goto out;
	}
	rc = vs__err(VDSOSCOPE_E_NO_VDSO_SEGMENT, "core %s: no PT_LOAD holds the vDSO at 0x%llx",
		     path, (unsigned long long)base);
	for (i = 0; i < c.e.phnum; i++) {
		uint32_t type;
		uint64_t off, va, fs, ms, size;

		core_phdr(&c, i, &type, &off, &va, &fs, &ms);
		if (type != PT_LOAD || base < va || base - va >= ms)
			continue;
		if (base - va >= fs) {
			rc = vs__err(VDSOSCOPE_E_NO_VDSO_SEGMENT,
				     "core %s: the segment at 0x%llx holding the vDSO has no bytes in the file",
				     path, (unsigned long long)va);
			break;
		}
		size = fs - (base - va);
		if (size > VS_MAX_IMAGE) {
			rc = vs__err(VDSOSCOPE_E_TOO_LARGE, "core %s: vDSO segment of %llu bytes", path,
				     (unsigned long long)size);
			break;
		}
		if (off > c.file_size || off + (base - va) >= c.file_size) {
			rc = vs__err(VDSOSCOPE_E_TRUNCATED,
				     "core %s: the vDSO segment lies past the end of the file", path);
			break;
		}
		if (size > c.file_size - off - (base - va)) {
			rc = vs__err(VDSOSCOPE_E_TRUNCATED,
				     "core %s: file ends inside the vDSO segment (%llu of %llu bytes)",
				     path, (unsigned long long)(c.file_size - off - (base - va)),
				     (unsigned long long)size);
			break;
		}
		bytes = malloc(size);
		if (!bytes) {
			rc = -ENOMEM;
			break;
		}
		if ((rc = pread_all(c.fd, bytes, size, off + (base - va)))) {
			rc = vs__err(-rc, "core %s: reading the vDSO segment", path);
			break;
		}
		/* the segment is the whole mapping; trim to what the headers
		 * cover, rounded to the mapping's pages */
		{
			size_t page = 4096, want = vs__mapped_size(bytes, size, page);
			if (want == 0) {
				rc = vs__err(VDSOSCOPE_E_NOT_ELF,
					     "core %s: no ELF header at the vDSO address 0x%llx",
					     path, (unsigned long long)base);
				break;
			}
			if (want < size)
				size = want;
		}
		source = malloc(strlen(path) + 8);
		if (!source) {
			rc = -ENOMEM;
			break;
		}
		sprintf(source, "core %s", path);
		close(c.fd);
		c.fd = -1;
		free(c.ph);
		c.ph = NULL;
		rc = vs__image_create(out, bytes, size, base, 1, source, opts);
		bytes = NULL;
		break;
	}
out:
	free(bytes);
	free(source);
	free(c.ph);
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}

int vdsoscope_open_core(struct vdsoscope_image **out, const char *path,
			const struct vdsoscope_open_opts *opts)
{
	return open_core(out, path, opts, NULL);
}

int vdsoscope_core_vdso_address(const char *path, uint64_t *addr)
{
	struct vdsoscope_image *dummy;

	if (!addr)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_core_vdso_address");
	return open_core(&dummy, path, NULL, addr);
}

/* ---- files and buffers --------------------------------------------------- */

int vdsoscope_open_file(struct vdsoscope_image **out, const char *path,
			const struct vdsoscope_open_opts *opts)
{
	struct stat st;
	unsigned char *bytes;
	char *source;
	int fd, rc;

	if (!out || !path)
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_open_file");
	*out = NULL;
	if ((rc = vs__check_opts(opts)))
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return vs__err(errno, "file %s", path);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return vs__err(VDSOSCOPE_E_INVALID, "file %s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > VS_MAX_IMAGE) {
		close(fd);
		return vs__err(VDSOSCOPE_E_TOO_LARGE, "file %s: %lld bytes", path,
			       (long long)st.st_size);
	}
	bytes = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!bytes) {
		close(fd);
		return -ENOMEM;
	}
	rc = pread_all(fd, bytes, (size_t)st.st_size, 0);
	close(fd);
	if (rc) {
		free(bytes);
		return vs__err(-rc, "file %s", path);
	}
	if (st.st_size >= 18 && !memcmp(bytes, ELFMAG, SELFMAG) &&
	    (bytes[5] == ELFDATA2MSB ? bytes[16] << 8 | bytes[17] : bytes[17] << 8 | bytes[16]) == ET_CORE) {
		free(bytes);
		return vs__err(VDSOSCOPE_E_INVALID, "file %s is a core file (open it as a core)",
			       path);
	}
	source = malloc(strlen(path) + 8);
	if (!source) {
		free(bytes);
		return -ENOMEM;
	}
	sprintf(source, "file %s", path);
	rc = vs__image_create(out, bytes, (size_t)st.st_size,
			      opts && (opts->flags & VDSOSCOPE_OPEN_LOAD_ADDR) ? opts->load_addr : 0,
			      opts && (opts->flags & VDSOSCOPE_OPEN_LOAD_ADDR), source, opts);
	free(source);
	return rc;
}

int vdsoscope_open_buffer(struct vdsoscope_image **out, const void *buf, size_t len,
			  const struct vdsoscope_open_opts *opts)
{
	unsigned char *bytes;
	int rc;

	if (!out || (!buf && len))
		return vs__err(VDSOSCOPE_E_INVALID, "vdsoscope_open_buffer");
	*out = NULL;
	if ((rc = vs__check_opts(opts)))
		return rc;
	if (len > VS_MAX_IMAGE)
		return vs__err(VDSOSCOPE_E_TOO_LARGE, "buffer of %zu bytes", len);
	bytes = malloc(len ? len : 1);
	if (!bytes)
		return -ENOMEM;
	memcpy(bytes, buf, len);
	return vs__image_create(out, bytes, len,
				opts && (opts->flags & VDSOSCOPE_OPEN_LOAD_ADDR) ? opts->load_addr : 0,
				opts && (opts->flags & VDSOSCOPE_OPEN_LOAD_ADDR), "buffer", opts);
}
