/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the harnesses whose entry point takes a file name (include
 * after defining _GNU_SOURCE, for memfd_create). */
#ifndef VDSOSCOPE_FUZZ_FILE_H
#define VDSOSCOPE_FUZZ_FILE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The path of a memfd that holds DATA (SIZE bytes), made once and rewritten
 * for every input: the entry points that take a file name see a regular
 * file. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	size_t done = 0;

	if (fd < 0) {
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0))
		abort();
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	return path;
}

#endif
