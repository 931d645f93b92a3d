/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a fuzz harness's LLVMFuzzerTestOneInput on each file named on the
 * command line, without libFuzzer: inputs that once crashed, hung or ran
 * out of memory stay fixed in every build (under the sanitizers too). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		unsigned char *buf;
		long len;

		if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
			perror(argv[i]);
			return 1;
		}
		buf = malloc(len ? (size_t)len : 1);
		if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
			perror(argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		printf("ok: %s\n", argv[i]);
		n++;
	}
	printf("%d inputs replayed\n", n);
	return n ? 0 : 1;
}
