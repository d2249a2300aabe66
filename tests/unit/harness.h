/* Minimal unit-test harness: each check failure is reported with its line;
 * a test passes when none of its checks failed.
 */
#ifndef TT_HARNESS_H
#define TT_HARNESS_H

#include <stdio.h>
#include <string.h>

extern int harness_failed_checks;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "    %s:%d: check failed: %s\n",     \
				__FILE__, __LINE__, #cond);                  \
			harness_failed_checks++;                             \
		}                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		if (!a_ || !b_ || strcmp(a_, b_)) {                          \
			fprintf(stderr, "    %s:%d: '%s' != '%s'\n",          \
				__FILE__, __LINE__, a_ ? a_ : "(null)",      \
				b_ ? b_ : "(null)");                         \
			harness_failed_checks++;                             \
		}                                                            \
	} while (0)

typedef void (*test_fn)(void);

struct test_case {
	const char *name;
	test_fn fn;
};

#define TEST_LIST(name) const struct test_case name[]
#define TEST_ENTRY(fn) { #fn, fn }

#endif
