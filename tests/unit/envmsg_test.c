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
	struct ber_src src;
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

/* An io_in over a pipe holding text (small texts only). */
static int
pipe_in(struct io_in *in, const char *text, struct err *e)
{
	int fds[2];

	if (pipe(fds) != 0 || write(fds[1], text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fds[1]);
	return io_in_init(in, fds[0], "test", e);
}

static void
test_message(void)
{
	static const char m[] = "From: a@example.org\nTo: b@example.org\nBcc: c@example.org\n"
	    "Subject: hi\nContent-Type: text/plain;\n charset=utf-8\nX-Other: y\n\nline 1\nline 2\n";
	static const char want_outer[] = "From: a@example.org\nTo: b@example.org\nSubject: hi\n"
	    "X-Other: y\nBcc: c@example.org\nMIME-Version: 1.0\n"
	    "Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data;\n name=smime.p7m\n"
	    "Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=smime.p7m\n";
	static const char want_entity[] = "Content-Type: text/plain;\r\n charset=utf-8\r\n\r\n"
	    "line 1\r\nline 2\r\n";
	struct msg_header h, oh;
	struct io_in in;
	struct io_out o;
	struct mbuf mb = { .len = 0 };
	struct sink s = { mwrite, &mb };
	struct err e;
	int fds[2];
	char got[1024];
	ssize_t n;

	msg_header_init(&h);
	ok(pipe_in(&in, m, &e) == 0 && msg_header_read(&in, &h, &e) == 0, "test message read");
	ok(envmsg_outer_header(&h, 1, "c@example.org", &oh, &e) == 0, "outer header built");
	if (pipe(fds) != 0)
		return;
	io_out_init(&o, fds[1], "pipe", &e);
	msg_header_write(&o, &oh);
	io_out_finish(&o);
	close(fds[1]);
	n = read(fds[0], got, sizeof got - 1);
	got[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	is_str(got, want_outer, "outer: raw fields kept in order, Content-* and Bcc out, the "
	    "envelope's fields in");
	ok(envmsg_write_entity(&h, &in, &s, &e) == 0 && mb.len == strlen(want_entity)
	    && memcmp(mb.p, want_entity, mb.len) == 0, "entity: Content-* fields and body, CRLF");
	msg_header_free(&oh);
	msg_header_free(&h);
	io_in_free(&in);
}

/* A spool file holding text, rewound. */
static int
spool_of(const char *text, size_t n)
{
	struct err e;
	int fd = io_spool(&e);

	if (fd < 0 || io_write_all(fd, text, n) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	return fd;
}

/* What fd holds from its start, into out (NUL-terminated). */
static size_t
slurp(int fd, char *out, size_t cap)
{
	ssize_t r;
	size_t n = 0;

	lseek(fd, 0, SEEK_SET);
	while (n + 1 < cap && (r = read(fd, out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	return n;
}

/* Run an io_out into a fresh spool through fn, and return what it wrote. */
static char got_buf[8192];

static const char *
strip_raw(const char *hdr)
{
	struct io_out o;
	struct err e;
	int in = spool_of(hdr, strlen(hdr)), out = spool_of("", 0);

	io_out_init(&o, out, "out", &e);
	if (envmsg_header_strip_raw(in, strlen(hdr), "mx.example.org", &o, &e) != 0)
		return "(error)";
	io_out_finish(&o);
	slurp(out, got_buf, sizeof got_buf);
	close(in);
	close(out);
	return got_buf;
}

static const char *
decrypted(const char *plain, int crlf, int *bare)
{
	struct io_out o;
	struct err e;
	int in = spool_of(plain, strlen(plain)), out = spool_of("", 0);

	io_out_init(&o, out, "out", &e);
	if (envmsg_write_decrypted(in, crlf, "mx.example.org", 0, NULL, &o, bare, &e) != 0)
		return "(error)";
	io_out_finish(&o);
	slurp(out, got_buf, sizeof got_buf);
	close(in);
	close(out);
	return got_buf;
}

static enum envmsg_kind
kind_of(const char *ct, const char *disp)
{
	struct msg_header h;
	struct mime_type t;
	struct err e;
	enum envmsg_kind k;

	msg_header_init(&h);
	if (disp != NULL)
		msg_header_add(&h, "Content-Disposition", disp, &e);
	if (mime_type_parse(ct, 0, &t, &e) != 0)
		return (enum envmsg_kind)-1;
	k = envmsg_kind(&t, &h);
	mime_type_free(&t);
	msg_header_free(&h);
	return k;
}

static void
test_filter_pieces(void)
{
	static const char msg[] = "From x\nA: 1\nlong line without colon\n\nbody\n\nmore\n";
	struct io_in in;
	struct err e;
	char buf[256];
	uint64_t len;
	int fd, bare;

	ok(pipe_in(&in, msg, &e) == 0 && envmsg_spool_header(&in, &fd, &len, &e) == 0
	    && len == 37 && slurp(fd, buf, sizeof buf) == 37 && memcmp(buf, msg, 37) == 0,
	    "spool_header: every line up to and including the first empty one, as it came");
	ok(io_in_read(&in, buf, sizeof buf) == 11 && memcmp(buf, "body\n\nmore\n", 11) == 0,
	    "spool_header: the input stands at the body");
	close(fd);
	io_in_free(&in);
	ok(pipe_in(&in, "A: 1\r\nB: 2", &e) == 0 && envmsg_spool_header(&in, &fd, &len, &e) == 0
	    && len == 10, "spool_header: a header without an empty line ends at end of input");
	close(fd);
	io_in_free(&in);

	is_str(strip_raw("Secmail-Decryption: mx.example.org; decrypted cipher=x integrity=aead\n"
	    "no colon\nAuthentication-Results :\n (c) \"MX.example.org.\"; smime=pass\n"
	    "Authentication-Results: other.example; smime=pass\nX: \001\n\n"),
	    "no colon\nAuthentication-Results: other.example; smime=pass\nX: \001\n\n",
	    "strip_raw: fields claiming us go (any spelling, folded), the rest stays as it came");
	{
		static char big[80000];
		size_t k = strlen("Authentication-Results: (");

		memcpy(big, "Authentication-Results: (", k);
		memset(big + k, 'x', sizeof big - k - 40);
		strcpy(big + sizeof big - 40, ") mx.example.org; smime=pass\nA: b\n\n");
		is_str(strip_raw(big), "A: b\n\n", "strip_raw: one too long to read is removed too");
	}

	is_str(decrypted("Content-Type: text/plain\r\nSecmail-Decryption: mx.example.org; "
	    "decrypted cipher=a integrity=aead\r\nX-In: 1\r\n\r\nhi\r\n", 0, &bare),
	    "Content-Type: text/plain\nX-In: 1\n\nhi\n",
	    "write_decrypted: forged records inside go, LF output");
	ok(!bare, "... a MIME entity is not bare");
	is_str(decrypted("This is some sample content.", 1, &bare),
	    "\r\nThis is some sample content.", "write_decrypted: bare content gets the blank line");
	ok(bare, "... and is flagged bare");
	is_str(decrypted("Subject: x\r\nno field\r\n", 0, &bare),
	    "\nSubject: x\nno field\n", "write_decrypted: a broken header is content, not fields");
	is_str(decrypted("\r\nbody only\r\n", 1, &bare), "\r\nbody only\r\n",
	    "write_decrypted: an empty header is a MIME entity (no second blank line)");
	ok(!bare, "... not bare");

	ok(kind_of("application/pkcs7-mime; smime-type=enveloped-data", NULL) == ENVMSG_ENVELOPED
	    && kind_of("application/x-pkcs7-mime; smime-type=authEnveloped-data", NULL)
	    == ENVMSG_ENVELOPED, "kind: declared enveloped and authEnveloped data");
	ok(kind_of("application/x-pkcs7-mime; name=smime.p7m", NULL) == ENVMSG_MAYBE_P7
	    && kind_of("application/pkcs7-mime", NULL) == ENVMSG_MAYBE_P7,
	    "kind: pkcs7-mime without smime-type (s-nail) is decided by the CMS type");
	ok(kind_of("application/pkcs7-mime; smime-type=signed-data", NULL) == ENVMSG_PLAIN
	    && kind_of("text/plain", NULL) == ENVMSG_PLAIN
	    && kind_of("application/octet-stream; name=a.pdf", NULL) == ENVMSG_PLAIN,
	    "kind: signed data, text and other attachments are not encrypted");
	ok(kind_of("application/octet-stream; name=\"smime.P7M\"", NULL) == ENVMSG_MAYBE_FILE
	    && kind_of("application/octet-stream", "attachment; filename=x.p7m") == ENVMSG_MAYBE_FILE,
	    "kind: octet-stream named *.p7m (Content-Type name or Content-Disposition filename)");
	ok(kind_of("multipart/mixed; boundary=x", NULL) == ENVMSG_MULTIPART, "kind: multipart");
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
	test_message();
	test_filter_pieces();
	return tap_done();
}
