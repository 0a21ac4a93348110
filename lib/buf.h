/* buf.h — a growable byte string, NUL-terminated, for building header values and the like
 * (never for message bodies: those are streamed). */
#ifndef SECMAIL_BUF_H
#define SECMAIL_BUF_H

#include <stddef.h>

#include "err.h"

struct buf {
	char *p;	/* NUL-terminated once anything was added; NULL when empty and unused */
	size_t len, cap;
	int oom;	/* an allocation failed: the content is incomplete */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) ERR_PRINTF(2, 3);
void buf_reset(struct buf *b);		/* length 0, memory kept */
void buf_free(struct buf *b);
/* Hand over the string (caller frees); "" if empty. NULL, with e set, if allocation failed. */
char *buf_take(struct buf *b, struct err *e);
/* 0, or -1 with e set to "out of memory" if any allocation failed. */
int buf_check(const struct buf *b, struct err *e);

#endif
