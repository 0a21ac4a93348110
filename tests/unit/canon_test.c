/* canon_test.c — CRLF canonicalisation and back: each line-end case, CR LF split across
 * chunks at every position, the sink interface, against a naive reference. */
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "tap.h"

static char *
run(enum canon_mode m, const char *in, size_t n, size_t split, size_t *outn)
{
	struct canon c;
	char *out = malloc(canon_bound(n) + 4);
	size_t o;

	canon_init(&c, m);
	o = canon_update(&c, in, split, out);
	o += canon_update(&c, in + split, n - split, out + o);
	o += canon_final(&c, out + o);
	out[o] = '\0';
	*outn = o;
	return out;
}

/* Independent reference: one byte at a time with explicit look-ahead. */
static size_t
ref(enum canon_mode m, const char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') {
			if (m == CANON_CRLF)
				out[o++] = '\r';
			out[o++] = '\n';
			i++;
		} else if (in[i] == '\r') {
			if (m != CANON_LF_TEXT)
				out[o++] = '\r';
			if (m != CANON_LF)
				out[o++] = '\n';
		} else if (in[i] == '\n') {
			if (m == CANON_CRLF)
				out[o++] = '\r';
			out[o++] = '\n';
		} else
			out[o++] = in[i];
	}
	return o;
}

static void
case_is(enum canon_mode m, const char *in, const char *want, const char *what)
{
	size_t n = strlen(in), s, on;
	int all = 1;

	for (s = 0; s <= n; s++) {
		char *o = run(m, in, n, s, &on);

		if (on != strlen(want) || memcmp(o, want, on) != 0)
			all = 0;
		free(o);
	}
	ok(all, "%s (every split point)", what);
}

struct cap {
	char buf[4096];
	size_t n;
	int fail_after;
};

static int
cap_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct cap *c = ctx;

	if (c->fail_after >= 0 && c->n + n > (size_t)c->fail_after)
		return err_set(e, EX_IOERR, "sink full");
	memcpy(c->buf + c->n, p, n);
	c->n += n;
	return 0;
}

int
main(void)
{
	static char in[3000], want[6000];
	struct cap cap;
	struct sink s = { cap_write, &cap };
	struct canon c;
	struct err e;
	size_t i, n, on, wn;
	int bad = 0;
	char *o;

	case_is(CANON_CRLF, "a\nb\n", "a\r\nb\r\n", "LF becomes CRLF");
	case_is(CANON_CRLF, "a\r\nb\r\n", "a\r\nb\r\n", "CRLF stays CRLF");
	case_is(CANON_CRLF, "a\rb\r", "a\r\nb\r\n", "bare CR becomes CRLF");
	case_is(CANON_CRLF, "\r\r\n\n", "\r\n\r\n\r\n", "CR CR LF LF");
	case_is(CANON_CRLF, "no newline", "no newline", "no line end added");
	case_is(CANON_CRLF, "", "", "empty");
	case_is(CANON_LF, "a\r\nb\r\n", "a\nb\n", "CRLF becomes LF");
	case_is(CANON_LF, "a\nb", "a\nb", "LF stays LF");
	case_is(CANON_LF, "a\rb\r", "a\rb\r", "bare CR kept as data");
	case_is(CANON_LF, "\r\r\n", "\r\n", "CR then CRLF");
	case_is(CANON_LF_TEXT, "a\rb\r\nc\nd\r", "a\nb\nc\nd\n", "text: every line end becomes LF");
	case_is(CANON_LF_TEXT, "\r\r\n\n", "\n\n\n", "text: CR CR LF LF");

	srand(7);
	for (i = 0; i < 200; i++) {
		size_t k, split;
		enum canon_mode m = (enum canon_mode)(i % 3);

		n = (size_t)rand() % sizeof in;
		for (k = 0; k < n; k++)
			in[k] = "ab\r\n"[rand() % 4];
		split = n ? (size_t)rand() % n : 0;
		o = run(m, in, n, split, &on);
		wn = ref(m, in, n, want);
		if (on != wn || memcmp(o, want, on) != 0)
			bad++;
		free(o);
	}
	ok(bad == 0, "200 random texts agree with the reference");

	/* Long runs (the vector path) between line ends of every kind, in random chunks, each
	 * written to a buffer of exactly canon_bound bytes (ASan sees any store past it):
	 * the fast path, the byte-wise canon_update_ref and the reference agree. */
	bad = 0;
	for (i = 0; i < 3000; i++) {
		enum canon_mode m = (enum canon_mode)(i % 3);
		struct canon c1, c2;
		char *o1 = malloc(canon_bound(sizeof in) + 2), *o2 = malloc(canon_bound(sizeof in) + 2);
		size_t k, at, o1n = 0, o2n = 0;

		n = (size_t)rand() % sizeof in;
		for (k = 0; k < n; k++)
			in[k] = rand() % 40 == 0 ? "\r\n"[rand() % 2] : (char)(rand() % 256);
		canon_init(&c1, m);
		canon_init(&c2, m);
		for (at = 0; at < n; at += k) {
			char *t;

			k = rand() % 4 == 0 ? n - at : (size_t)rand() % 200 + 1;
			if (k > n - at)
				k = n - at;
			t = malloc(canon_bound(k));
			on = canon_update(&c1, in + at, k, t);
			memcpy(o1 + o1n, t, on);
			o1n += on;
			free(t);
			o2n += canon_update_ref(&c2, in + at, k, o2 + o2n);
		}
		o1n += canon_final(&c1, o1 + o1n);
		o2n += canon_final(&c2, o2 + o2n);
		wn = ref(m, in, n, want);
		if (o1n != wn || memcmp(o1, want, wn) != 0 || o2n != wn || memcmp(o2, want, wn) != 0)
			bad++;
		free(o1);
		free(o2);
	}
	ok(bad == 0, "3000 random texts with long runs, in random chunks: fast, byte-wise and "
	    "reference agree (%d differ)", bad);

	memset(&cap, 0, sizeof cap);
	cap.fail_after = -1;
	canon_init(&c, CANON_CRLF);
	err_clear(&e);
	ok(canon_write(&c, &s, "a\r", 2, &e) == 0 && canon_write(&c, &s, "\nb\n", 3, &e) == 0
	    && canon_finish(&c, &s, &e) == 0, "sink: writes succeed");
	ok(cap.n == 6 && memcmp(cap.buf, "a\r\nb\r\n", 6) == 0, "sink: CR LF split across writes");
	memset(&cap, 0, sizeof cap);
	cap.fail_after = 2;
	canon_init(&c, CANON_CRLF);
	ok(canon_write(&c, &s, "abc\n", 4, &e) == -1 && e.code == EX_IOERR, "sink: a failing sink fails the write");
	return tap_done();
}
