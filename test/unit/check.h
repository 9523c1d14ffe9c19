/*
 * A tiny test harness: each CHECK prints "ok - ..." or "not ok - ..."
 * (TAP style); test/run.sh counts them. main() returns non-zero if any
 * check failed.
 */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>
#include <string.h>

static int check_failed __attribute__((unused));

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (cond) {                                                     \
			printf("ok - ");                                        \
		} else {                                                        \
			printf("not ok - %s:%d: ", __FILE__, __LINE__);         \
			check_failed++;                                         \
		}                                                               \
		printf(__VA_ARGS__);                                            \
		printf("\n");                                                   \
	} while (0)

/* Checks that S contains NEEDLE. */
#define CHECK_HAS(s, needle, ...)                                               \
	do {                                                                    \
		const char *s_ = (s);                                           \
		CHECK(s_ && strstr(s_, needle), __VA_ARGS__);                   \
		if (!(s_ && strstr(s_, needle)))                                \
			printf("#   got: %.300s\n#   expected to contain: %s\n", \
			       s_ ? s_ : "(null)", needle);                     \
	} while (0)

#define CHECK_STR(a, b, ...)                                                    \
	do {                                                                    \
		const char *a_ = (a), *b_ = (b);                                \
		int same_ = a_ && b_ && strcmp(a_, b_) == 0;                    \
		CHECK(same_, __VA_ARGS__);                                      \
		if (!same_)                                                     \
			printf("#   got: %s\n#   expected: %s\n", a_ ? a_ : "(null)", \
			       b_ ? b_ : "(null)");                             \
	} while (0)

#endif
