/* canon.c — CRLF canonical form and back, streaming. */
#include "canon.h"

#include <string.h>

void
canon_init(struct canon *c, enum canon_mode mode)
{
	c->mode = mode;
	c->cr = 0;
}

size_t
canon_bound(size_t n)
{
	return 2 * n + 2;
}

/* A CR not followed by LF. */
static size_t
bare_cr(const struct canon *c, char *out)
{
	switch (c->mode) {
	case CANON_CRLF:
		out[0] = '\r';
		out[1] = '\n';
		return 2;
	case CANON_LF_TEXT:
		out[0] = '\n';
		return 1;
	default:
		out[0] = '\r';
		return 1;
	}
}

size_t
canon_update(struct canon *c, const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char b = p[i];

		if (c->cr) {
			c->cr = 0;
			if (b == '\n') {
				if (c->mode == CANON_CRLF)
					out[o++] = '\r';
				out[o++] = '\n';
				continue;
			}
			o += bare_cr(c, out + o);
		}
		if (b == '\r') {
			c->cr = 1;
		} else if (b == '\n') {
			if (c->mode == CANON_CRLF)
				out[o++] = '\r';
			out[o++] = '\n';
		} else {
			/* Copy the run of ordinary bytes at once. */
			size_t j = i + 1;

			while (j < n && p[j] != '\r' && p[j] != '\n')
				j++;
			memcpy(out + o, p + i, j - i);
			o += j - i;
			i = j - 1;
		}
	}
	return o;
}

size_t
canon_final(struct canon *c, char *out)
{
	size_t o = 0;

	if (c->cr) {
		c->cr = 0;
		o += bare_cr(c, out);
	}
	return o;
}

#define STEP 8192

int
canon_write(struct canon *c, const struct sink *s, const void *p, size_t n, struct err *e)
{
	char out[2 * STEP + 2];
	const char *q = p;

	while (n > 0) {
		size_t k = n < STEP ? n : STEP, o = canon_update(c, q, k, out);

		if (o > 0 && sink_write(s, out, o, e) != 0)
			return -1;
		q += k;
		n -= k;
	}
	return 0;
}

int
canon_finish(struct canon *c, const struct sink *s, struct err *e)
{
	char out[2];
	size_t o = canon_final(c, out);

	return o > 0 ? sink_write(s, out, o, e) : 0;
}
