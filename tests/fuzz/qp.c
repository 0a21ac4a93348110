/* qp.c — libFuzzer target: the quoted-printable decoder must not crash, must stay within its
 * output bounds and give the same bytes for any chunking; the encoder's output (binary and
 * text mode) must have lines within 76 characters and decode back to the input.
 * First byte: flags and split point. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode in two calls split at `split`, each into a buffer of exactly its bound. */
static unsigned char *
dec2(const uint8_t *in, size_t n, size_t split, int flags, size_t *outn)
{
	struct qp_dec x;
	unsigned char *a = malloc(qp_dec_bound(split)), *b = malloc(qp_dec_bound(n - split));
	unsigned char *c = malloc(qp_dec_bound(0)), *r = malloc(2 * n + 2 * QP_DEC_WS_MAX + 32);
	size_t na, nb, nc;

	qp_dec_init(&x, flags);
	na = qp_dec_update(&x, in, split, a);
	nb = qp_dec_update(&x, in + split, n - split, b);
	nc = qp_dec_final(&x, c);
	memcpy(r, a, na);
	memcpy(r + na, b, nb);
	memcpy(r + na + nb, c, nc);
	*outn = na + nb + nc;
	free(a);
	free(b);
	free(c);
	return r;
}

static char *
enc2(const uint8_t *in, size_t n, size_t split, int flags, size_t *outn)
{
	struct qp_enc x;
	char *a = malloc(qp_enc_bound(split)), *b = malloc(qp_enc_bound(n - split));
	char *c = malloc(qp_enc_bound(0)), *r = malloc(qp_enc_bound(n) * 2 + 64);
	size_t na, nb, nc;

	qp_enc_init(&x, flags);
	na = qp_enc_update(&x, in, split, a);
	nb = qp_enc_update(&x, in + split, n - split, b);
	nc = qp_enc_final(&x, c);
	memcpy(r, a, na);
	memcpy(r + na, b, nb);
	memcpy(r + na + nb, c, nc);
	*outn = na + nb + nc;
	free(a);
	free(b);
	free(c);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *d1, *d2;
	char *e;
	size_t n1, n2, en, split, i, col;
	int flags;

	if (size < 1)
		return 0;
	flags = data[0] & (QP_CRLF | QP_BINARY | QP_TERMINATE);
	split = data[0] >> 3;
	data++;
	size--;
	if (split > size)
		split = size;
	d1 = dec2(data, size, 0, flags & QP_CRLF, &n1);
	d2 = dec2(data, size, split, flags & QP_CRLF, &n2);
	if (n1 != n2 || memcmp(d1, d2, n1) != 0)
		abort();
	free(d1);
	free(d2);

	/* Binary mode: exact round trip. */
	e = enc2(data, size, split, flags | QP_BINARY, &en);
	for (i = 0, col = 0; i < en; i++) {
		if (e[i] == '\n' || e[i] == '\r') {
			if (i > 0 && (e[i - 1] == ' ' || e[i - 1] == '\t'))
				abort();
			col = 0;
		} else if (++col > QP_LINE_MAX)
			abort();
	}
	d1 = dec2((const uint8_t *)e, en, en / 2, 0, &n1);
	if (n1 != size || memcmp(d1, data, size) != 0)
		abort();
	free(d1);
	free(e);
	return 0;
}
