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

/* Append n bytes of untrusted text so that a terminal shows it as it is and cannot be
 * steered by it: valid UTF-8 is kept, except C0/C1 controls, DEL, the bidirectional
 * controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the line/paragraph
 * separators, written as \uXXXX (or \xNN for a byte < 0x80); bytes that are not UTF-8
 * as \xNN; a backslash as \\. */
void buf_add_printable(struct buf *b, const char *s, size_t n);
/* Is c a bidirectional formatting control (the set above)? */
int buf_is_bidi(unsigned c);

#endif
