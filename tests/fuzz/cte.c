/* cte.c — libFuzzer target: the transfer-encoding decoders (lenient and strict base64,
 * quoted-printable, identity; text and binary) must not crash and must give the same bytes
 * and verdict whether the input comes whole or split; encoding the input with each encoding
 * must decode back to it. The vector scanner and canonicaliser must agree with their
 * byte-wise references (cte_scan_ref, canon_update_ref) at any split. First byte: encoding,
 * flags; second: split point. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cte.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	unsigned char *p;
	size_t n;
};

static int
mem_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct mem *m = ctx;
	unsigned char *q = realloc(m->p, m->n + n);

	if (q == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	m->p = q;
	memcpy(m->p + m->n, p, n);
	m->n += n;
	return 0;
}

static int
decode(enum cte c, int flags, const uint8_t *in, size_t n, size_t split, struct mem *m)
{
	struct cte_dec x;
	struct sink s = { mem_write, m };
	struct err e;
	int rc = 0;

	err_clear(&e);
	if (cte_dec_init(&x, c, flags, &e) != 0)
		abort();
	if (cte_dec_write(&x, &s, in, split, &e) != 0 || cte_dec_write(&x, &s, in + split, n - split, &e) != 0
	    || cte_dec_finish(&x, &s, &e) != 0)
		rc = -1;
	if (rc != 0 && e.code != EX_DATAERR)
		abort();
	cte_dec_free(&x);
	return rc;
}

static void
encode(enum cte c, int flags, const uint8_t *in, size_t n, struct mem *m)
{
	struct cte_enc x;
	struct sink s = { mem_write, m };
	struct err e;

	err_clear(&e);
	if (cte_enc_init(&x, c, flags, &e) != 0 || cte_enc_write(&x, &s, in, n, &e) != 0
	    || cte_enc_finish(&x, &s, &e) != 0)
		abort();
	cte_enc_free(&x);
}

static void
scan_and_canon(const uint8_t *in, size_t n, size_t split)
{
	struct cte_stats s1, s2;
	struct canon c1, c2;
	char *o1 = malloc(canon_bound(n) + 2), *o2 = malloc(canon_bound(n) + 2);
	size_t n1, n2;
	int m;

	cte_scan_init(&s1);
	cte_scan_init(&s2);
	cte_scan(&s1, in, split);
	cte_scan(&s1, in + split, n - split);
	cte_scan_ref(&s2, in, n);
	cte_scan_final(&s1);
	cte_scan_final(&s2);
	if (memcmp(&s1, &s2, sizeof s1) != 0)
		abort();
	for (m = CANON_CRLF; m <= CANON_LF_TEXT; m++) {
		canon_init(&c1, (enum canon_mode)m);
		canon_init(&c2, (enum canon_mode)m);
		n1 = canon_update(&c1, in, split, o1);
		n1 += canon_update(&c1, in + split, n - split, o1 + n1);
		n1 += canon_final(&c1, o1 + n1);
		n2 = canon_update_ref(&c2, in, n, o2);
		n2 += canon_final(&c2, o2 + n2);
		if (n1 != n2 || memcmp(o1, o2, n1) != 0)
			abort();
	}
	free(o1);
	free(o2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem a = { NULL, 0 }, b = { NULL, 0 }, en = { NULL, 0 }, de = { NULL, 0 };
	enum cte c;
	size_t split;
	int flags, ra, rb;

	if (size < 2)
		return 0;
	c = (enum cte)(data[0] % 6);
	flags = (data[0] >> 3) & (CTE_TEXT | CTE_CRLF | CTE_STRICT);
	split = data[1];
	data += 2;
	size -= 2;
	if (split > size)
		split = size;
	scan_and_canon(data, size, split);
	ra = decode(c, flags, data, size, 0, &a);
	rb = decode(c, flags, data, size, split, &b);
	if (ra != rb || (ra == 0 && (a.n != b.n || (a.n > 0 && memcmp(a.p, b.p, a.n) != 0))))
		abort();
	/* binary round trip through the encodings that carry anything */
	if (c == CTE_BINARY || c == CTE_QP || c == CTE_BASE64) {
		encode(c, 0, data, size, &en);
		if (decode(c, 0, en.p ? en.p : (const uint8_t *)"", en.n, en.n / 2, &de) != 0
		    || de.n != size || (size > 0 && memcmp(de.p, data, size) != 0))
			abort();
	}
	free(a.p);
	free(b.p);
	free(en.p);
	free(de.p);
	return 0;
}
