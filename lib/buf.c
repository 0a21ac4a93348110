/* buf.c — growable strings. Allocation failure is sticky and checked once, at the end. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

static int
grow(struct buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (b->oom)
		return -1;
	if (extra > (size_t)-1 / 2 - b->len) {
		b->oom = 1;
		return -1;
	}
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (grow(b, n) != 0)
		return;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

char *
buf_take(struct buf *b, struct err *e)
{
	char *p;

	if (b->oom) {
		buf_free(b);
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	if (b->p == NULL) {
		p = strdup("");
		if (p == NULL)
			err_set(e, EX_OSERR, "out of memory");
		return p;
	}
	p = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

int
buf_check(const struct buf *b, struct err *e)
{
	if (b->oom)
		return err_set(e, EX_OSERR, "out of memory");
	return 0;
}

int
buf_is_bidi(unsigned c)
{
	return c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e)
	    || (c >= 0x2066 && c <= 0x2069);
}

void
buf_add_printable(struct buf *b, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	ucs4_t c;
	int k;

	while (p < end) {
		if (*p >= 0x20 && *p < 0x7f) {
			const uint8_t *q = p;

			while (q < end && *q >= 0x20 && *q < 0x7f && *q != '\\')
				q++;
			if (q > p) {
				buf_add(b, p, (size_t)(q - p));
				p = q;
				continue;
			}
			buf_adds(b, "\\\\");	/* the backslash itself */
			p++;
			continue;
		}
		if (*p < 0x80) {
			buf_addf(b, "\\x%02x", *p++);
			continue;
		}
		k = u8_mbtoucr(&c, p, (size_t)(end - p));
		if (k < 0) {
			buf_addf(b, "\\x%02x", *p++);
			continue;
		}
		if (c < 0xa0 || buf_is_bidi(c) || c == 0x2028 || c == 0x2029)
			buf_addf(b, "\\u%04x", (unsigned)c);
		else
			buf_add(b, p, (size_t)k);
		p += k;
	}
}
