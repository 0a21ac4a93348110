/* envmsg_test.c — line-end conversion both ways at every chunk split, and the base64 body
 * source against a reference decoding, including bad base64. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envmsg.h"
#include "tap.h"

struct mbuf {
	char p[4096];
	size_t len;
};

static int
mwrite(void *ctx, const void *p, size_t n, struct err *e)
{
	struct mbuf *b = ctx;

	(void)e;
	if (b->len + n > sizeof b->p)
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* Convert s in two writes split at every point; all results must equal want. */
static int
conv(const char *s, int to_crlf, const char *want)
{
	size_t n = strlen(s), k;
	struct err e;

	for (k = 0; k <= n; k++) {
		struct mbuf m = { .len = 0 };
		struct sink next = { mwrite, &m };
		struct envmsg_eol x;
		struct sink c;

		if (envmsg_eol_init(&x, &next, to_crlf, &e) != 0)
			return 0;
		c = envmsg_eol_sink(&x);
		if (sink_write(&c, s, k, &e) != 0 || sink_write(&c, s + k, n - k, &e) != 0
		    || envmsg_eol_final(&x, &e) != 0)
			return 0;
		envmsg_eol_free(&x);
		if (m.len != strlen(want) || memcmp(m.p, want, m.len) != 0)
			return 0;
	}
	return 1;
}

static long
srcdecode(const char *text, int b64, unsigned char *out, size_t cap, struct err *e)
{
	int fds[2];
	struct io_in in;
	struct envmsg_bodysrc bs;
	struct env_src src;
	ssize_t r;
	size_t got = 0;

	if (pipe(fds) != 0)
		return -2;
	if (write(fds[1], text, strlen(text)) != (ssize_t)strlen(text))
		return -2;
	close(fds[1]);
	io_in_init(&in, fds[0], "test", e);
	envmsg_bodysrc_init(&bs, &in, b64, e);
	src = envmsg_bodysrc_src(&bs);
	while ((r = src.read(src.ctx, out + got, got + 3 <= cap ? 3 : cap - got, e)) > 0)
		got += (size_t)r;
	envmsg_bodysrc_free(&bs);
	io_in_free(&in);
	close(fds[0]);
	return r < 0 ? -1 : (long)got;
}

int
main(void)
{
	unsigned char out[256];
	struct err e;
	long n;

	ok(conv("a\nb\r\nc\n", 1, "a\r\nb\r\nc\r\n"), "to CRLF: bare LF gets a CR, CRLF stays, any split");
	ok(conv("a\rb\n", 1, "a\r\nb\r\n"), "to CRLF: a lone CR ends a line too (canonical form)");
	ok(conv("a\r\nb\r\n\r\n", 0, "a\nb\n\n"), "to LF: CRLF becomes LF, any split");
	ok(conv("a\rb\r", 0, "a\rb\r"), "to LF: a lone CR, also at the very end, is kept");
	ok(conv("", 0, "") && conv("", 1, ""), "empty input stays empty");
	n = srcdecode("Zm9v\r\nYmFy\n", 1, out, sizeof out, &e);
	ok(n == 6 && memcmp(out, "foobar", 6) == 0, "base64 body source decodes across lines, 3-byte reads");
	n = srcdecode("Zm9v!mFy\n", 1, out, sizeof out, &e);
	ok(n == -1 && strstr(e.msg, "bad base64") != NULL, "bad base64 is an error: %s", e.msg);
	n = srcdecode("Zm9vYm\n", 1, out, sizeof out, &e);
	ok(n == -1, "truncated base64 is an error");
	n = srcdecode("raw\001\002", 0, out, sizeof out, &e);
	ok(n == 5 && memcmp(out, "raw\001\002", 5) == 0, "binary bodies pass through");
	ok(envmsg_is_inner("Content-Type") && envmsg_is_inner("content-id")
	    && !envmsg_is_inner("MIME-Version") && !envmsg_is_inner("Subject"),
	    "Content-* go inside, MIME-Version and the rest stay outside");
	return tap_done();
}
