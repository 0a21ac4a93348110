/* tap.h — a minimal TAP producer for the C unit tests (plan printed at the end). */
#ifndef SECMAIL_TAP_H
#define SECMAIL_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do { \
	int ok_c_ = (cond) ? 1 : 0; \
	tap_n++; \
	if (!ok_c_) tap_failed++; \
	printf("%sok %d - ", ok_c_ ? "" : "not ", tap_n); \
	printf(__VA_ARGS__); \
	printf("\n"); \
	if (!ok_c_) printf("#   failed at %s:%d\n", __FILE__, __LINE__); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	ok(g_ != NULL && strcmp(g_, w_) == 0, __VA_ARGS__); \
	if (!(g_ != NULL && strcmp(g_, w_) == 0)) \
		printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)", w_); \
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
