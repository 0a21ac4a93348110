/* mime_test.c — the MIME walker: nesting, preamble and epilogue, CRLF and LF, transport
 * padding, the line end before a delimiter, raw capture, unterminated multiparts, limits,
 * long lines, chunking invariance; the boundary generator and delimiter matcher. Expected
 * transcripts are written out by hand from RFC 2046 §5.1.1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mime.h"
#include "tap.h"

struct rec {
	struct buf log;		/* "B path type/sub" / "E path bytes flags" lines */
	struct buf data;	/* "path:" + data, per data call merged */
	struct buf raw;		/* raw bytes of raw_path */
	const char *raw_path;
	const char *stop_path;
	char last[MIME_PATH_MAX];
};

static int
r_begin(void *ctx, struct mime_part *p, struct err *e)
{
	struct rec *r = ctx;

	(void)e;
	buf_addf(&r->log, "B %s %s/%s\n", p->path, p->ct.type, p->ct.subtype);
	if (r->raw_path != NULL && strcmp(p->path, r->raw_path) == 0)
		p->want_raw = 1;
	if (r->stop_path != NULL && strcmp(p->path, r->stop_path) == 0)
		return MIME_STOP;
	return 0;
}

static int
r_data(void *ctx, struct mime_part *p, const void *b, size_t n, struct err *e)
{
	struct rec *r = ctx;

	(void)e;
	if (strcmp(r->last, p->path) != 0) {
		buf_addf(&r->data, "[%s]", p->path);
		snprintf(r->last, sizeof r->last, "%s", p->path);
	}
	buf_add(&r->data, b, n);
	return 0;
}

static int
r_raw(void *ctx, struct mime_part *p, const void *b, size_t n, struct err *e)
{
	struct rec *r = ctx;

	(void)e;
	(void)p;
	buf_add(&r->raw, b, n);
	return 0;
}

static void
r_cancel(void *ctx, struct mime_part *p)
{
	struct rec *r = ctx;

	buf_addf(&r->log, "C %s\n", p->path);
}

static int
r_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct rec *r = ctx;

	(void)e;
	buf_addf(&r->log, "E %s %llu%s\n", p->path, (unsigned long long)p->body_bytes,
	    p->flags & MIME_F_UNTERMINATED ? " U" : "");
	return 0;
}

static int line_at_a_time;	/* walk line by line, the reference path */

/* Walk s with an input buffer of cap bytes (0: default). */
static int
run(const char *s, size_t n, size_t cap, struct rec *r, struct mime_walk *w, struct err *e)
{
	struct io_in in;
	FILE *f = tmpfile();
	int fd, rc;

	fd = dup(fileno(f));
	fwrite(s, 1, n, f);
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	io_in_init(&in, fd, "test", e);
	if (cap)
		in.cap = cap;
	mime_walk_init(w);
	w->begin = r_begin;
	w->data = r_data;
	w->raw = r_raw;
	w->end = r_end;
	w->cancel = r_cancel;
	w->ctx = r;
	w->line_at_a_time = line_at_a_time;
	rc = mime_walk(w, &in, NULL, e);
	close(fd);
	io_in_free(&in);
	return rc;
}

static int
buf_eq(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void
rec_free(struct rec *r)
{
	buf_free(&r->log);
	buf_free(&r->data);
	buf_free(&r->raw);
	memset(r, 0, sizeof *r);
}

static const char nested[] =
    "From: a@b.test\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "This is the preamble.\n"
    "--outer\n"
    "Content-Type: text/plain\n"
    "\n"
    "part one\n"
    "\n"
    "--outer  \t\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "\n"
    "no header here\n"
    "--inner\n"
    "Content-Type: text/html\n"
    "\n"
    "<p>x</p>\n"
    "--inner--\n"
    "inner epilogue\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inside\n"
    "\n"
    "inner message body\n"
    "--outer--\n"
    "This is the epilogue.\n";

static void
test_nested(void)
{
	struct rec r;
	struct mime_walk w;
	struct err e;
	size_t caps[] = { 0, 64, 97 }, i;

	for (i = 0; i < 3; i++) {
		memset(&r, 0, sizeof r);
		ok(run(nested, sizeof nested - 1, caps[i], &r, &w, &e) == 0, "nested walks (cap %zu)",
		    caps[i]);
		is_str(r.log.p,
		    "B 0 multipart/mixed\n"
		    "B 1 text/plain\n"
		    "E 1 9\n"
		    "B 2 multipart/alternative\n"
		    "B 2.1 text/plain\n"
		    "E 2.1 14\n"
		    "B 2.2 text/html\n"
		    "E 2.2 8\n"
		    "E 2 0\n"
		    "B 3 message/rfc822\n"
		    "B 3.1 text/plain\n"
		    "E 3.1 18\n"
		    "E 3 0\n"
		    "E 0 0\n", "tree, order and sizes (cap %zu)", caps[i]);
		is_str(r.data.p, "[1]part one\n[2.1]no header here[2.2]<p>x</p>[3.1]inner message body",
		    "leaf data without the line end before each delimiter (cap %zu)", caps[i]);
		ok(w.nparts == 7 && w.flags == 0, "7 parts, no warnings");
		rec_free(&r);
	}
}

static void
test_raw_signed(void)
{
	static const char m[] =
	    "From: a@b.test\r\n"
	    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n"
	    " micalg=sha-256; boundary=\"=_sig\"\r\n"
	    "\r\n"
	    "--=_sig\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "signed line 1\r\n"
	    "--=_sig is not a delimiter here? it is not: trailing text\r\n"
	    "\r\n"
	    "--=_sig\r\n"
	    "Content-Type: application/pkcs7-signature\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "AAEC\r\n"
	    "--=_sig--\r\n";
	static const char want[] =
	    "Content-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "signed line 1\r\n"
	    "--=_sig is not a delimiter here? it is not: trailing text\r\n";
	struct rec r;
	struct mime_walk w;
	struct err e;

	memset(&r, 0, sizeof r);
	r.raw_path = "1";
	ok(run(m, sizeof m - 1, 0, &r, &w, &e) == 0, "multipart/signed walks");
	ok(r.raw.len == sizeof want - 1 && memcmp(r.raw.p, want, r.raw.len) == 0,
	    "raw bytes of the signed part are exactly those between the delimiters");
	is_str(r.data.p, "[1]signed line 1\r\n--=_sig is not a delimiter here? it is not: trailing "
	    "text\r\n[2]AAEC", "CRLF data: the CRLF before a delimiter is not data");
	rec_free(&r);

	memset(&r, 0, sizeof r);
	r.raw_path = "0";
	run(m, sizeof m - 1, 0, &r, &w, &e);
	ok(r.raw.len == sizeof m - 1 && memcmp(r.raw.p, m, r.raw.len) == 0,
	    "raw bytes of the top level are the whole input");
	rec_free(&r);
}

static void
test_unterminated(void)
{
	static const char m1[] = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nlast part\n";
	static const char m2[] = "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nin b\n--a\n\nsecond\n--a--\n";
	static const char m3[] = "Content-Type: multipart/mixed; boundary=b\n\nonly a preamble\n";
	struct rec r;
	struct mime_walk w;
	struct err e;

	memset(&r, 0, sizeof r);
	ok(run(m1, sizeof m1 - 1, 0, &r, &w, &e) == 0, "unterminated multipart: best effort");
	is_str(r.log.p, "B 0 multipart/mixed\nB 1 text/plain\nE 1 10\nE 0 0 U\n",
	    "flagged unterminated; the last part runs to the end, line end included");
	ok(w.flags & MIME_F_UNTERMINATED, "walker reports the warning");
	rec_free(&r);

	memset(&r, 0, sizeof r);
	ok(run(m2, sizeof m2 - 1, 0, &r, &w, &e) == 0, "an outer delimiter ends the inner multipart");
	is_str(r.log.p, "B 0 multipart/mixed\nB 1 multipart/mixed\nB 1.1 text/plain\nE 1.1 4\n"
	    "E 1 0 U\nB 2 text/plain\nE 2 6\nE 0 0\n", "inner flagged, outer fine");
	rec_free(&r);

	memset(&r, 0, sizeof r);
	ok(run(m3, sizeof m3 - 1, 0, &r, &w, &e) == 0, "multipart without any delimiter");
	is_str(r.log.p, "B 0 multipart/mixed\nE 0 0 U\n", "no parts, flagged");
	rec_free(&r);
}

static void
test_oddities(void)
{
	static const char nohdrend[] = "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: text/html\n--b\nContent-Type: image/png\n\n--b--\n";
	static const char digest[] = "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	    "Subject: m1\n\nbody1\n--d\nContent-Type: text/plain\n\nt\n--d--\n";
	static const char badct[] = "Content-Type: ;;;\n\nbody\n";
	static const char nob[] = "Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n";
	static const char prefix[] = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n"
	    "--bb\n--b-\n--b --\n--b\n\nz\n--b--";
	struct rec r;
	struct mime_walk w;
	struct err e;

	memset(&r, 0, sizeof r);
	ok(run(nohdrend, sizeof nohdrend - 1, 0, &r, &w, &e) == 0, "part header ended by a delimiter");
	is_str(r.log.p, "B 0 multipart/mixed\nB 1 text/html\nE 1 0\nB 2 image/png\nE 2 0\nE 0 0\n",
	    "both parts seen, empty bodies");
	rec_free(&r);

	memset(&r, 0, sizeof r);
	ok(run(digest, sizeof digest - 1, 0, &r, &w, &e) == 0, "digest walks");
	is_str(r.log.p, "B 0 multipart/digest\nB 1 message/rfc822\nB 1.1 text/plain\nE 1.1 5\n"
	    "E 1 0\nB 2 text/plain\nE 2 1\nE 0 0\n",
	    "digest parts default to message/rfc822 (RFC 2046 §5.1.5)");
	rec_free(&r);

	memset(&r, 0, sizeof r);
	ok(run(badct, sizeof badct - 1, 0, &r, &w, &e) == 0 && (w.flags & MIME_F_BAD_TYPE),
	    "unparsable Content-Type is flagged");
	is_str(r.log.p, "B 0 text/plain\nE 0 5\n", "and taken as text/plain (RFC 2045 §5.2)");
	rec_free(&r);

	memset(&r, 0, sizeof r);
	ok(run(nob, sizeof nob - 1, 0, &r, &w, &e) == 0 && (w.flags & MIME_F_NO_BOUNDARY),
	    "multipart without boundary is flagged");
	is_str(r.log.p, "B 0 multipart/mixed\nE 0 16\n", "and walked as a leaf");
	rec_free(&r);

	memset(&r, 0, sizeof r);
	ok(run(prefix, sizeof prefix - 1, 0, &r, &w, &e) == 0, "near-delimiters");
	is_str(r.data.p, "[1]--bb\n--b-\n--b --[2]z",
	    "lines that only start like a delimiter are data");
	rec_free(&r);
}

static void
test_limits(void)
{
	struct buf b = BUF_INIT;
	struct rec r;
	struct mime_walk w;
	struct err e;
	int i;

	for (i = 0; i < 40; i++)
		buf_addf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	buf_adds(&b, "\nbottom\n");
	memset(&r, 0, sizeof r);
	ok(run(b.p, b.len, 0, &r, &w, &e) == -1 && e.code == EX_DATAERR
	    && strstr(e.msg, "deeper") != NULL, "nesting bomb stops at the depth limit: %s", e.msg);
	rec_free(&r);
	buf_reset(&b);

	for (i = 0; i < 40; i++)
		buf_adds(&b, "Content-Type: message/rfc822\n\n");
	memset(&r, 0, sizeof r);
	ok(run(b.p, b.len, 0, &r, &w, &e) == -1 && strstr(e.msg, "deeper") != NULL,
	    "message/rfc822 nesting is limited too");
	rec_free(&r);
	buf_reset(&b);

	buf_adds(&b, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 200; i++)
		buf_adds(&b, "--b\n\nx\n");
	memset(&r, 0, sizeof r);
	{
		struct io_in in;
		FILE *f = tmpfile();
		int fd = dup(fileno(f));

		fwrite(b.p, 1, b.len, f);
		fclose(f);
		lseek(fd, 0, SEEK_SET);
		io_in_init(&in, fd, "test", &e);
		mime_walk_init(&w);
		w.max_parts = 100;
		ok(mime_walk(&w, &in, NULL, &e) == -1 && strstr(e.msg, "more than 100") != NULL,
		    "part count limit: %s", e.msg);
		close(fd);
		io_in_free(&in);
	}
	rec_free(&r);
	buf_free(&b);
}

static void
test_long_lines_and_chunks(void)
{
	struct buf m = BUF_INIT, want = BUF_INIT;
	struct rec r;
	struct mime_walk w;
	struct err e;
	size_t i, caps[] = { 0, 48, 49, 53, 64, 200 }, c;

	/* A body line far longer than the buffer, next to delimiters, with CRLF. */
	buf_adds(&m, "Content-Type: multipart/mixed; boundary=bnd\r\n\r\n--bnd\r\n\r\n");
	buf_adds(&want, "[1]");
	for (i = 0; i < 5000; i++) {
		char ch = (char)('a' + i % 26);

		if (i % 1000 == 999)
			ch = '\r';	/* some bare CRs, at varying offsets */
		buf_addc(&m, ch);
		buf_addc(&want, ch);
	}
	buf_adds(&m, "\r\nshort\r\n--bnd\r\n\r\nX\r\n--bnd--\r\n");
	buf_adds(&want, "\r\nshort[2]X");
	for (c = 0; c < sizeof caps / sizeof caps[0]; c++) {
		memset(&r, 0, sizeof r);
		ok(run(m.p, m.len, caps[c], &r, &w, &e) == 0, "long line walks (cap %zu)", caps[c]);
		ok(r.data.len == want.len && memcmp(r.data.p, want.p, want.len) == 0,
		    "long line streamed intact (cap %zu)", caps[c]);
		rec_free(&r);
	}
	buf_free(&m);
	buf_free(&want);
}

static unsigned rng = 1;

static unsigned
rnd(unsigned n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 16) % n;
}

/* A random body line: base64-like, text, lines starting with '-', near-delimiters,
 * delimiters of this and enclosing boundaries, empty lines; LF or CRLF. */
static void
random_line(struct buf *m, int depth)
{
	static const char *const starts[] = { "", "-", "--", "--b", "--b0", "--b1-", "---", "- x",
		"From ", "." };
	size_t len = rnd(5) == 0 ? rnd(300) : rnd(80), i;

	if (rnd(4) == 0)
		buf_adds(m, starts[rnd(10)]);
	if (rnd(12) == 0) {
		buf_addf(m, "--b%u%s", rnd((unsigned)depth + 1), rnd(3) == 0 ? "--" : "");
		len = rnd(3);
	}
	for (i = 0; i < len; i++)
		buf_addc(m, "ABCxyz019+/=- \t"[rnd(16)]);
	buf_adds(m, rnd(3) == 0 ? "\r\n" : "\n");
}

static void
random_entity(struct buf *m, int depth)
{
	size_t i, n;

	if (depth < 3 && rnd(3) == 0) {
		buf_addf(m, "Content-Type: multipart/mixed; boundary=b%d\n\n", depth);
		for (i = rnd(3); i > 0; i--)
			random_line(m, depth);
		for (n = rnd(4); n > 0; n--) {
			buf_addf(m, "--b%d\n", depth);
			random_entity(m, depth + 1);
		}
		if (rnd(4) != 0)
			buf_addf(m, "--b%d--\n", depth);
		for (i = rnd(3); i > 0; i--)
			random_line(m, depth);
		return;
	}
	buf_adds(m, rnd(2) ? "Content-Transfer-Encoding: base64\n\n" : "\n");
	for (i = rnd(40); i > 0; i--)
		random_line(m, depth);
}

/* Runs of lines against the line-by-line walk: 2000 random messages, several buffer sizes,
 * the same callbacks with the same bytes (data, raw, begin/end and their order). */
static void
test_runs_match_lines(void)
{
	size_t caps[] = { 0, 64, 200, 1000 }, c;
	int round, differ = 0, walked = 0, crflag = 0;
	struct mime_walk w, w2;
	struct err e1, e2;

	for (round = 0; round < 2000; round++) {
		struct buf m = BUF_INIT;

		random_entity(&m, 0);
		for (c = 0; c < sizeof caps / sizeof caps[0]; c++) {
			struct rec a, b;
			int ra, rb;

			memset(&a, 0, sizeof a);
			memset(&b, 0, sizeof b);
			a.raw_path = b.raw_path = "0";
			line_at_a_time = 0;
			ra = run(m.p, m.len, caps[c], &a, &w, &e1);
			line_at_a_time = 1;
			rb = run(m.p, m.len, caps[c], &b, &w2, &e2);
			line_at_a_time = 0;
			walked += ra == 0;
			/* no bare CR in these messages: no line reads differently elsewhere */
			crflag += ((w.flags | w2.flags) & MIME_F_CR_DELIMITER) != 0;
			if (ra != rb || (ra < 0 && strcmp(e1.msg, e2.msg) != 0) || w.flags != w2.flags
			    || !buf_eq(&a.log, &b.log) || !buf_eq(&a.data, &b.data)
			    || !buf_eq(&a.raw, &b.raw))
				differ++;
			rec_free(&a);
			rec_free(&b);
		}
		buf_free(&m);
	}
	ok(differ == 0 && walked > 7000, "2000 random messages at 4 buffer sizes: runs of lines "
	    "give the line-by-line walk (%d differ, %d walked)", differ, walked);
	ok(crflag == 0, "no bare CR, no delimiter read differently (%d flagged)", crflag);
}

/* Walk s at several buffer sizes and line by line too; 1 if every walk flags
 * MIME_F_CR_DELIMITER, 0 if none does, -1 if they disagree or one fails. */
static int
cr_flag(const char *s, const size_t *caps, size_t ncaps)
{
	struct rec r;
	struct mime_walk w;
	struct err e;
	size_t c;
	int mode, got = -2, f;

	for (mode = 0; mode < 2; mode++)
		for (c = 0; c < ncaps; c++) {
			memset(&r, 0, sizeof r);
			line_at_a_time = mode;
			if (run(s, strlen(s), caps[c], &r, &w, &e) != 0) {
				line_at_a_time = 0;
				rec_free(&r);
				return -1;
			}
			rec_free(&r);
			f = (w.flags & MIME_F_CR_DELIMITER) != 0;
			if (got != -2 && f != got)
				got = -1;
			else if (got != -1)
				got = f;
		}
	line_at_a_time = 0;
	return got;
}

/* cr_flag of a multipart/signed whose first part is the long line pad, then tail. */
static int
long_line_flag(struct buf *m, const char *pad, const char *tail, const size_t *caps, size_t n)
{
	m->len = 0;
	buf_adds(m, "Content-Type: multipart/signed; boundary=b\r\n\r\n--b\r\n\r\n");
	buf_adds(m, pad);
	buf_adds(m, tail);
	buf_addc(m, '\0');
	return cr_flag(m->p, caps, n);
}

/* Readers that end a line at a bare CR (Thunderbird, Python's email) see a delimiter after
 * one, or before one; the walk flags such lines, whatever the buffer size. */
static void
test_cr_delimiters(void)
{
	static const size_t caps[] = { 0, 64, 65, 66, 67, 68, 69, 70, 71, 72, 80 };
	const size_t n = sizeof caps / sizeof caps[0];
	struct buf m = BUF_INIT;
	char pad[120];
	size_t len;
	int bad;
#define HEAD "Content-Type: multipart/signed; boundary=b\r\n\r\n"
#define PARTS "--b\r\n\r\nsigned\r\n--b\r\nContent-Type: text/plain\r\n\r\nsig\r\n--b--\r\n"

	ok(cr_flag(HEAD "preamble\r\n" PARTS "epilogue\r\n", caps, n) == 0, "CRLF: no flag");
	ok(cr_flag("Content-Type: multipart/mixed; boundary=b\n\npre\n--b\n\nx\n--b--\n", caps, n)
	    == 0, "LF: no flag");
	ok(cr_flag(HEAD "pre\ramble\r\n--bx\r--c\r\n" PARTS, caps, n) == 0,
	    "bare CRs before no delimiter: no flag");
	ok(cr_flag(HEAD "pre\r--b\r\nContent-Type: text/plain\r\n\r\nevil\r\n" PARTS, caps, n)
	    == 1, "a delimiter after a bare CR, in the preamble");
	ok(cr_flag(HEAD "pre\r\n--b\rContent-Type: text/plain\r\n\r\nevil\r\n" PARTS, caps, n)
	    == 1, "a delimiter ended by a bare CR");
	ok(cr_flag(HEAD "pre\r\n--b--\r\r\n" PARTS, caps, n) == 1,
	    "a close delimiter ended by CR CR LF");
	ok(cr_flag(HEAD "--b\r\nX-A: y\r--b\r\n\r\nsigned\r\n--b\r\n\r\nsig\r\n--b--\r\n",
	    caps, n) == 1, "a delimiter after a bare CR in a part header");
	ok(cr_flag(HEAD PARTS "epi\r--b\r\n", caps, n) == 0,
	    "in the epilogue of the outermost multipart no delimiter counts: no flag");
	ok(cr_flag(HEAD PARTS "x\r--b", caps, n) == 0, "... nor at its end");
	ok(cr_flag(HEAD "--b\r\n\r\nsigned\r--b", caps, n) == 1,
	    "after a bare CR at the end of the input");
	ok(cr_flag(HEAD "--b\r\n\r\nsigned\r\n--b\r", caps, n) == 0,
	    "a CR at the very end ends the delimiter for the walk too: no flag");
	ok(cr_flag("Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
	    "Content-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\nx\r--o\r\n--i--\r\n"
	    "--o--\r\n", caps, n) == 1, "an enclosing multipart's delimiter after a bare CR");

	/* Straddling the pieces of a long line: with these buffer sizes and line lengths the
	 * candidate is cut at every offset. */
	for (len = 56, bad = 0; len < 110; len++) {
		memset(pad, 'a', len);
		pad[len] = '\0';
		bad += long_line_flag(&m, pad, "\r--b\r\n\r\nevil\r\n--b--\r\n", caps, n) != 1;
		bad += long_line_flag(&m, pad, "\r\n--b\rX\r\n--b--\r\n", caps, n) != 1;
		bad += long_line_flag(&m, pad, "\r\n--b\r\n\r\nx\r--c\r\n--b--\r\n", caps, n) != 0;
	}
	ok(bad == 0, "long lines cut anywhere: a delimiter after or before a bare CR flagged, "
	    "a near miss not (%d wrong)", bad);

	/* Padding past the buffer: a delimiter to readers, content to the walk. */
	memset(pad, ' ', sizeof pad);
	pad[90] = '\0';
	m.len = 0;
	buf_adds(&m, HEAD "--b");
	buf_adds(&m, pad);
	buf_adds(&m, "\r\n\r\nx\r\n--b--\r\n");
	buf_addc(&m, '\0');
	ok(cr_flag(m.p, caps + 1, 1) == 1, "a delimiter padded past a 64-byte buffer is flagged");
	ok(cr_flag(m.p, caps, 1) == 0, "... and walked as one with the default buffer");
	buf_free(&m);
#undef HEAD
#undef PARTS
}

static void
test_stop(void)
{
	struct rec r;
	struct mime_walk w;
	struct err e;

	memset(&r, 0, sizeof r);
	r.stop_path = "2.1";
	ok(run(nested, sizeof nested - 1, 0, &r, &w, &e) == MIME_STOP, "a callback can stop the walk");
	is_str(r.log.p, "B 0 multipart/mixed\nB 1 text/plain\nE 1 9\nB 2 multipart/alternative\n"
	    "B 2.1 text/plain\nC 2.1\nC 2\nC 0\n",
	    "nothing after the stop but cancel() of the open parts, innermost first");
	rec_free(&r);
}

/* A caller that read the header itself (smime-verify, smime-decrypt) hands it over. */
static void
test_given_header(void)
{
	struct rec r;
	struct mime_walk w;
	struct msg_header h;
	struct io_in in;
	struct err e;
	FILE *f = tmpfile();
	int fd = dup(fileno(f));

	fwrite(nested, 1, sizeof nested - 1, f);
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	io_in_init(&in, fd, "test", &e);
	msg_header_init(&h);
	ok(msg_header_read(&in, &h, &e) == 0, "caller reads the header");
	memset(&r, 0, sizeof r);
	r.raw_path = "0";
	mime_walk_init(&w);
	w.begin = r_begin;
	w.data = r_data;
	w.raw = r_raw;
	w.end = r_end;
	w.ctx = &r;
	ok(mime_walk(&w, &in, &h, &e) == 0, "walk with the given header");
	ok(strncmp(r.log.p, "B 0 multipart/mixed\nB 1 text/plain\nE 1 9\n", 40) == 0,
	    "same tree as when the walker reads the header");
	ok(r.raw.len == sizeof nested - 1 && memcmp(r.raw.p, nested, r.raw.len) == 0,
	    "raw capture still includes the given header");
	ok(h.n == 2, "the caller's header is left to the caller");
	msg_header_free(&h);
	rec_free(&r);
	close(fd);
	io_in_free(&in);
}

static void
test_boundary(void)
{
	char a[MIME_BOUNDARY_LEN + 1], b[MIME_BOUNDARY_LEN + 1];
	struct err e;
	size_t i;
	int okk = 1;

	ok(mime_boundary(a, sizeof a, &e) == 0 && mime_boundary(b, sizeof b, &e) == 0, "boundaries");
	ok(strlen(a) == MIME_BOUNDARY_LEN && strncmp(a, "=_", 2) == 0, "form: %s", a);
	ok(strcmp(a, b) != 0, "two boundaries differ");
	for (i = 0; a[i]; i++)
		if (!strchr("=_0123456789abcdef", a[i]))
			okk = 0;
	ok(okk && strlen(a) <= 70, "only bchars, within RFC 2046's 70");
	ok(mime_boundary(a, 10, &e) == -1, "small buffer refused");

	ok(mime_delimiter("--xy\r\n", 6, "xy", 2) == 1, "delimiter CRLF");
	ok(mime_delimiter("--xy", 4, "xy", 2) == 1, "delimiter at end of input");
	ok(mime_delimiter("--xy-- \t\n", 9, "xy", 2) == 2, "close delimiter with padding");
	ok(mime_delimiter("--xyz\n", 6, "xy", 2) == 0, "longer boundary is not a match");
	ok(mime_delimiter("--xy-\n", 6, "xy", 2) == 0, "single dash after is not a match");
	ok(mime_delimiter("-xy\n", 4, "xy", 2) == 0, "one dash is not a delimiter");
	ok(mime_delimiter("--xy\r\r\n", 7, "xy", 2) == 0, "CR CR LF is not a line end");
}

int
main(void)
{
	test_nested();
	test_raw_signed();
	test_unterminated();
	test_oddities();
	test_limits();
	test_long_lines_and_chunks();
	test_runs_match_lines();
	test_cr_delimiters();
	test_stop();
	test_given_header();
	test_boundary();
	return tap_done();
}
