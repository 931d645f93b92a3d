/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checks for the C tests: each prints both values on failure; exit status
 * follows automake: 0 pass, 77 skip, 1 fail. */
#ifndef VDSOSCOPE_TEST_RUNNER_H
#define VDSOSCOPE_TEST_RUNNER_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		test_checks++;                                                   \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
			test_failures++;                                         \
		}                                                                \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                      \
	do {                                                                     \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                 \
		CHECK(a_ == b_, "%s = 0x%" PRIx64 ", %s = 0x%" PRIx64, #a, a_, #b, b_); \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                      \
	do {                                                                     \
		long long a_ = (long long)(a), b_ = (long long)(b);              \
		CHECK(a_ == b_, "%s = %lld, %s = %lld", #a, a_, #b, b_);         \
	} while (0)

#define CHECK_STR(a, b)                                                         \
	do {                                                                     \
		const char *a_ = (a), *b_ = (b);                                 \
		CHECK(a_ && b_ && !strcmp(a_, b_), "%s = \"%s\", %s = \"%s\"", #a, \
		      a_ ? a_ : "(null)", #b, b_ ? b_ : "(null)");               \
	} while (0)

#define SKIP(...)                                                                \
	do {                                                                     \
		printf("SKIP: ");                                                \
		printf(__VA_ARGS__);                                             \
		printf("\n");                                                    \
		exit(77);                                                        \
	} while (0)

static inline int test_result(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
	if (test_checks == 0) {
		printf("%s: nothing was checked\n", name);
		return 1;
	}
	return test_failures ? 1 : 0;
}
#endif
