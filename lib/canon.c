/* canon.c — CRLF canonical form and back, streaming. */
#include "canon.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
canon_update_ref(struct canon *c, const void *in, size_t n, char *out)
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
			/* The run of ordinary bytes, found byte by byte. */
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

/* Bytes before the first CR or LF in p[0..n), copied to out as they are found: 16
 * or 32 at a time (each block stored whole: out has room for 2 * (n - i), see canon_bound),
 * then byte by byte. */
static size_t
copy_run(const unsigned char *p, size_t n, char *out)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');

#define EOLS(v) _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)))
	for (; n - i >= 32; i += 32) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(p + i));
		__m128i v1 = _mm_loadu_si128((const __m128i *)(p + i + 16));
		uint32_t m = (uint32_t)EOLS(v0) | (uint32_t)EOLS(v1) << 16;

		_mm_storeu_si128((__m128i *)(out + i), v0);
		_mm_storeu_si128((__m128i *)(out + i + 16), v1);
		if (m != 0)
			return i + (unsigned)__builtin_ctz(m);
	}
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(p + i));
		unsigned m = (unsigned)EOLS(v);

		_mm_storeu_si128((__m128i *)(out + i), v);
		if (m != 0)
			return i + (unsigned)__builtin_ctz(m);
	}
#undef EOLS
#endif
	for (; i < n && p[i] != '\r' && p[i] != '\n'; i++)
		out[i] = (char)p[i];
	return i;
}

size_t
canon_update(struct canon *c, const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i = 0, o = 0, k;

	while (i < n) {
		unsigned char b = p[i];

		if (c->cr) {
			c->cr = 0;
			if (b == '\n') {
				if (c->mode == CANON_CRLF)
					out[o++] = '\r';
				out[o++] = '\n';
				i++;
				continue;
			}
			o += bare_cr(c, out + o);
		}
		if (b == '\r') {
			c->cr = 1;
			i++;
		} else if (b == '\n') {
			if (c->mode == CANON_CRLF)
				out[o++] = '\r';
			out[o++] = '\n';
			i++;
		} else {
			k = copy_run(p + i, n - i, out + o);
			i += k;
			o += k;
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
