/* param_test.c — Content-Type / Content-Disposition parsing: RFC 2045 §5.1 and RFC 2183
 * examples, RFC 2231 §3-4 examples, comments, the documented best-effort cases, every
 * error; writing parameters and reading them back. */
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "param.h"
#include "tap.h"

static struct mime_type t;
static struct err e;

static int
parse(const char *v, int disp)
{
	mime_type_free(&t);
	err_clear(&e);
	return mime_type_parse(v, disp, &t, &e);
}

static const char *
param(const char *name)
{
	const char *v = mime_type_param(&t, name);

	return v ? v : "(none)";
}

static void
test_rfc_examples(void)
{
	ok(parse("text/plain; charset=us-ascii (Plain text)", 0) == 0, "RFC 2045 §5.1 example parses");
	is_str(t.type, "text", "type");
	is_str(t.subtype, "plain", "subtype");
	is_str(param("charset"), "us-ascii", "the comment is not part of the value");
	ok(t.nparams == 1, "one parameter");

	ok(parse("TEXT/Plain; CHARSET=\"us-ascii\"", 0) == 0, "case and quoting");
	is_str(t.type, "text", "type lower-cased");
	is_str(t.subtype, "plain", "subtype lower-cased");
	is_str(param("charset"), "us-ascii", "parameter names are case-insensitive; quotes removed");
	is_str(t.params[0].name, "charset", "parameter names are lower-cased");

	ok(parse("attachment; filename=genome.jpeg;\r\n modification-date=\"Wed, 12 Feb 1997 16:29:51 -0500\";", 1) == 0,
	    "RFC 2183 §2 example parses");
	is_str(t.type, "attachment", "disposition type");
	ok(t.subtype == NULL, "a disposition has no subtype");
	is_str(param("filename"), "genome.jpeg", "filename");
	is_str(param("modification-date"), "Wed, 12 Feb 1997 16:29:51 -0500", "quoted date");

	ok(parse("message/external-body; access-type=URL;\r\n URL*0=\"ftp://\";\r\n"
	    " URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"", 0) == 0, "RFC 2231 §3 example");
	is_str(param("url"), "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar", "continuations joined");
	is_str(param("access-type"), "URL", "other parameter kept");

	ok(parse("application/x-stuff;\r\n title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A", 0) == 0,
	    "RFC 2231 §4 example");
	is_str(param("title"), "This is ***fun***", "percent-decoded value");
	is_str(t.params[0].charset, "us-ascii", "charset");
	is_str(t.params[0].lang, "en-us", "language");

	ok(parse("application/x-stuff\r\n title*0*=us-ascii'en'This%20is%20even%20more%20\r\n"
	    " title*1*=%2A%2A%2Afun%2A%2A%2A%20\r\n title*2=\"isn't it!\"", 0) == 0,
	    "RFC 2231 §4.1 example (its missing semicolons tolerated)");
	is_str(param("title"), "This is even more ***fun*** isn't it!", "mixed extended and plain sections");
	is_str(t.params[0].lang, "en", "language of section 0");
}

static void
test_syntax(void)
{
	ok(parse("multipart/mixed (a (nested \\) comment) here); (x)boundary(y)=(z)\"b=1\" (end)", 0) == 0,
	    "comments anywhere, nested, with quoted parenthesis");
	is_str(t.subtype, "mixed", "subtype after comment");
	is_str(param("boundary"), "b=1", "boundary around comments");
	ok(parse(" text / html ; charset = utf-8 ", 0) == 0, "white space around / and =");
	is_str(t.subtype, "html", "subtype after spaces");
	is_str(param("charset"), "utf-8", "value after spaces");
	ok(parse("text/plain; name=\"a\\\"b\\\\c\"", 0) == 0, "backslash quoting");
	is_str(param("name"), "a\"b\\c", "quoted pairs unquoted");
	ok(parse("multipart/mixed; boundary=----=_Part_0_12.34", 0) == 0, "unquoted boundary with '='");
	is_str(param("boundary"), "----=_Part_0_12.34", "lenient unquoted value");
	ok(parse("text/plain; name=\"\"", 0) == 0 && strcmp(param("name"), "") == 0, "empty quoted value");
	ok(parse("text/plain; name=", 0) == 0 && strcmp(param("name"), "") == 0, "empty unquoted value");
	ok(parse("text/plain; name=\"caf\xC3\xA9.txt\"", 0) == 0, "raw UTF-8 in a quoted-string");
	is_str(param("name"), "caf\xC3\xA9.txt", "raw UTF-8 kept");
	ok(parse("text/plain; name=\"=?utf-8?Q?caf=C3=A9?=\"", 0) == 0, "RFC 2047 word in a value");
	is_str(param("name"), "=?utf-8?Q?caf=C3=A9?=", "left encoded (rfc2047_decode's job)");
	ok(mime_type_is(&t, "TEXT", "Plain") && mime_type_is(&t, "text", NULL)
	    && !mime_type_is(&t, "text", "html") && !mime_type_is(&t, "image", NULL), "mime_type_is");
}

static void
test_sloppy(void)
{
	ok(parse("text/plain;; charset=utf-8;;; ", 0) == 0, "empty parameters and trailing ';'");
	ok(t.nparams == 1, "only the real parameter");
	ok(parse("attachment; filename=my file name.pdf ; size=3", 1) == 0, "unquoted value with spaces");
	is_str(param("filename"), "my file name.pdf", "run-on value taken up to ';', trimmed");
	is_str(param("size"), "3", "next parameter");
	ok(parse("text/plain charset=utf-8 format=flowed", 0) == 0, "missing ';' tolerated");
	is_str(param("charset"), "utf-8", "first of the run");
	is_str(param("format"), "flowed", "second of the run");
	ok(parse("text/plain; charset=a; CharSet=b", 0) == 0, "duplicates");
	is_str(param("charset"), "a", "first duplicate wins");
	ok(t.nparams == 1, "duplicate dropped");
	ok(parse("attachment; filename=\"old.txt\"; filename*=utf-8''new%C3%A9.txt", 1) == 0,
	    "plain and RFC 2231 forms");
	is_str(param("filename"), "new\xC3\xA9.txt", "RFC 2231 form wins");
	ok(parse("text/plain; name=\"unterminated", 0) == 0, "unterminated quoted-string");
	is_str(param("name"), "unterminated", "runs to the end");
	ok(parse("text/plain; charset=utf-8 (unterminated", 0) == 0, "unterminated comment");
	is_str(param("charset"), "utf-8", "value before it kept");
	ok(parse("attachment; inline; filename=a", 1) == 0, "parameter without '='");
	is_str(param("filename"), "a", "ignored, next one read");
	ok(parse("text/plain; @junk; x=1", 0) == 0, "junk where a parameter starts");
	is_str(param("x"), "1", "skipped to the next ';'");
	ok(parse("text/plain; name=\"a\" junk; x=1", 0) == 0, "junk after a quoted value");
	is_str(param("name"), "a", "junk dropped");
	ok(parse("text/plain; n*0=a; n*2=c; n*1=b; n*4=e", 0) == 0, "sections out of order, with a gap");
	is_str(param("n"), "abc", "joined in order up to the gap");
	ok(parse("text/plain; n*1=b; n*2=c", 0) == 0 && t.nparams == 0, "sections without section 0 ignored");
	ok(parse("text/plain; n*01=a; a*b=c; *=d", 0) == 0 && t.nparams == 0,
	    "leading-zero sections and bad names ignored");
	ok(parse("text/plain; n*0=a; n*0=z; n*1=b", 0) == 0, "duplicate section");
	is_str(param("n"), "ab", "first duplicate section wins");
	ok(parse("text/plain; n*=utf-8''%ZZ%4", 0) == 0, "malformed percent escapes");
	is_str(param("n"), "%ZZ%4", "kept literally");
	ok(parse("text/plain; n*=iso-8859-1''%E9t%E9", 0) == 0, "latin-1 RFC 2231 value");
	is_str(param("n"), "\xC3\xA9t\xC3\xA9", "converted to UTF-8");
	ok(parse("text/plain; n*=utf-8'en'%E2%82%AC", 0) == 0, "UTF-8 value with language");
	is_str(param("n"), "\xE2\x82\xAC", "euro sign");
	ok(parse("text/plain; n*=x-unknown''%E2%82%AC", 0) == 0, "unknown charset, UTF-8 bytes");
	is_str(param("n"), "\xE2\x82\xAC", "kept as UTF-8");
	ok(parse("text/plain; n*=x-unknown''a%FF", 0) == 0, "unknown charset, not UTF-8");
	is_str(param("n"), "a\xEF\xBF\xBD", "replacement character");
	ok(parse("text/plain; n*=utf-8//IGNORE''a%FF", 0) == 0, "iconv syntax in the charset");
	is_str(param("n"), "a\xEF\xBF\xBD", "not passed to iconv; replacement character");
	ok(parse("attachment; filename*=utf-8''evil.txt%00.pdf", 1) == 0, "an encoded NUL in a value");
	is_str(param("filename"), "evil.txt\xEF\xBF\xBD.pdf", "NUL becomes U+FFFD, the value is not cut short");
	ok(parse("text/plain; n*=''%C3%A9", 0) == 0, "empty charset");
	is_str(param("n"), "\xC3\xA9", "US-ASCII assumed, UTF-8 fallback");
	ok(t.params[0].charset == NULL && t.params[0].lang == NULL, "no charset or language recorded");
	ok(parse("text/plain; n*=abc%20d", 0) == 0, "extended value without charset quotes");
	is_str(param("n"), "abc d", "taken as a whole");
	ok(parse("text/plain; n*=\"utf-8''a%20b\"", 0) == 0, "quoted extended value (sloppy)");
	is_str(param("n"), "a b", "decoded anyway");
}

static void
test_errors(void)
{
	struct buf b = BUF_INIT;
	int i;

	ok(parse("", 0) == -1 && e.code == EX_DATAERR, "empty value fails");
	is_str(e.msg, "no media type", "message");
	ok(parse("  (comment only)", 1) == -1 && e.code == EX_DATAERR, "no disposition type fails");
	is_str(e.msg, "no disposition type", "message");
	ok(parse("text", 0) == -1 && e.code == EX_DATAERR, "no subtype fails");
	is_str(e.msg, "media type text has no subtype", "message");
	ok(parse("text/;charset=x", 0) == -1 && e.code == EX_DATAERR, "empty subtype fails");
	ok(t.type == NULL && t.nparams == 0, "result left empty on failure");
	ok(parse("/plain", 0) == -1, "empty type fails");
	for (i = 0; i <= MIME_PARAM_MAX; i++)
		buf_addf(&b, "; p%d=1", i);
	{
		char *v = malloc(b.len + 16);

		strcpy(v, "text/plain");
		strcat(v, b.p);
		ok(parse(v, 0) == -1 && e.code == EX_DATAERR, "too many parameters fails");
		is_str(e.msg, "more than 256 parameters", "message");
		v[strlen(v) - strlen("; p256=1")] = '\0';
		ok(parse(v, 0) == 0 && t.nparams == MIME_PARAM_MAX, "exactly the maximum is fine");
		free(v);
	}
	buf_reset(&b);
	buf_adds(&b, "text/plain; x=");
	for (i = 0; i < MIME_PARAM_VALUE_MAX; i++)
		buf_addc(&b, 'a');
	ok(parse(b.p, 0) == -1 && e.code == EX_DATAERR, "over-long value fails");
	is_str(e.msg, "Content-Type value longer than 65536 bytes", "message");
	buf_reset(&b);
	buf_adds(&b, "text/plain ");
	for (i = 0; i <= MIME_PARAM_COMMENT_DEPTH; i++)
		buf_addc(&b, '(');
	ok(parse(b.p, 0) == -1 && e.code == EX_DATAERR, "comments nested too deeply fail");
	is_str(e.msg, "comments nested too deeply", "message");
	buf_free(&b);
}

/* Write one parameter and read it back; check every piece's length. */
static void
roundtrip(const char *name, const char *value, const char *want_prefix, const char *what)
{
	struct buf b = BUF_INIT;
	const char *p, *q;
	int short_pieces = 1;

	buf_adds(&b, "application/octet-stream");
	err_clear(&e);
	ok(mime_param_append(&b, name, value, &e) == 0 && buf_check(&b, &e) == 0, "%s: written", what);
	if (want_prefix != NULL)
		ok(strncmp(b.p + strlen("application/octet-stream"), want_prefix, strlen(want_prefix)) == 0,
		    "%s: form %s (got %s)", what, want_prefix, b.p);
	for (p = strchr(b.p, ';'); p != NULL; p = q) {
		q = strstr(p + 1, "; ");
		if ((size_t)((q ? q : p + strlen(p)) - (p + 2)) > MIME_PARAM_PIECE)
			short_pieces = 0;
	}
	ok(short_pieces, "%s: every piece at most %d columns", what, MIME_PARAM_PIECE);
	ok(parse(b.p, 0) == 0, "%s: parses back", what);
	is_str(param(name), value, "%s: same value back", what);
	buf_free(&b);
}

static void
test_write(void)
{
	struct buf b = BUF_INIT;
	char big[600], *u;
	int i;

	roundtrip("charset", "utf-8", "; charset=utf-8", "token");
	roundtrip("filename", "my file.txt", "; filename=\"my file.txt\"", "quoted");
	roundtrip("filename", "a\"b\\c;d", "; filename=\"a\\\"b\\\\c;d\"", "quoted with escapes");
	roundtrip("filename", "", "; filename=\"\"", "empty");
	roundtrip("filename", "\xE2\x82\xAC rates.pdf", "; filename*=utf-8''%E2%82%AC%20rates.pdf", "non-ASCII");
	roundtrip("filename", "tab\there", "; filename*=utf-8''tab%09here", "control character");
	/* Readers decode RFC 2047 words in plain values: one must not show "x.exe" here. */
	roundtrip("filename", "=?utf-8?q?x.exe=00?=.txt",
	    "; filename*=utf-8''%3D%3Futf-8%3Fq%3Fx.exe%3D00%3F%3D.txt", "looks like an encoded word");
	roundtrip("filename", "a=b?c.txt", "; filename=\"a=b?c.txt\"", "'=' and '?' apart stay plain");
	ok(parse("a/b; name*=utf-8''%3D%3Fx%3F%3D; x=\"=?y?=\"", 0) == 0 &&
	    t.params[0].extended == 1 && t.params[1].extended == 0, "extended values are marked");
	for (i = 0; i < 200; i++)
		big[i] = (char)('a' + i % 26);
	big[200] = '\0';
	roundtrip("name", big, "; name*0=", "long token");
	big[50] = ' ';
	big[51] = '"';
	roundtrip("name", big, "; name*0=\"", "long quoted");
	u = malloc(4 * 150 + 1);
	u[0] = '\0';
	for (i = 0; i < 150; i++)
		strcat(u, i % 3 ? "\xC3\xA9" : "\xF0\x9F\x98\x80");
	roundtrip("filename", u, "; filename*0*=utf-8''", "long non-ASCII");
	{
		/* No section may end in the middle of a UTF-8 character. */
		struct buf w = BUF_INIT;
		const char *p;
		int split_ok = 1;

		mime_param_append(&w, "filename", u, &e);
		for (p = w.p; (p = strstr(p, "*=")) != NULL; p += 2) {
			const char *end = strchr(p, ';');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			char sec[256];
			struct buf d = BUF_INIT;
			size_t k;

			memcpy(sec, p + 2, n - 2);
			sec[n - 2] = '\0';
			for (k = 0; sec[k]; k++) {
				if (sec[k] == '%') {
					buf_addc(&d, (char)strtol((char[]){ sec[k + 1], sec[k + 2], 0 }, NULL, 16));
					k += 2;
				} else if (sec[k] != '\'')
					buf_addc(&d, sec[k]);
			}
			if (d.p && !charset_utf8_valid(d.p + (strncmp(sec, "utf-8", 5) == 0 ? 5 : 0),
			    d.len - (strncmp(sec, "utf-8", 5) == 0 ? 5 : 0)))
				split_ok = 0;
			buf_free(&d);
		}
		ok(split_ok, "each RFC 2231 section holds whole UTF-8 characters");
		buf_free(&w);
	}
	free(u);
	/* The worst case for the section count: MIME_PARAM_WRITE_MAX bytes of 4-byte characters. */
	u = malloc(MIME_PARAM_WRITE_MAX + 1);
	u[0] = '\0';
	for (i = 0; i < MIME_PARAM_WRITE_MAX / 4; i++)
		strcat(u, "\xF0\x9F\x98\x80");
	roundtrip("filename", u, "; filename*0*=utf-8''", "longest guaranteed value");
	free(u);

	{
		/* RFC 2046 §5.1.1's longest boundary stays in one piece. */
		struct buf w = BUF_INIT;
		char bd[71];

		memset(bd, '=', 70);
		bd[70] = '\0';
		bd[5] = '_';
		err_clear(&e);
		ok(mime_param_append(&w, "boundary", bd, &e) == 0 && strchr(w.p, '*') == NULL
		    && strncmp(w.p, "; boundary=\"", 12) == 0, "a 70-character boundary is never split");
		buf_reset(&w);
		buf_adds(&w, "multipart/mixed");
		mime_param_append(&w, "boundary", bd, &e);
		ok(parse(w.p, 0) == 0, "it parses back");
		is_str(param("boundary"), bd, "same boundary");
		buf_free(&w);
	}

	err_clear(&e);
	ok(mime_param_append(&b, "bad name", "x", &e) == -1 && e.code == EX_DATAERR, "bad name fails");
	ok(mime_param_append(&b, "n*", "x", &e) == -1, "name with '*' fails");
	ok(mime_param_append(&b, "", "x", &e) == -1, "empty name fails");
	ok(mime_param_append(&b, "n", "\xFF", &e) == -1 && e.code == EX_DATAERR, "invalid UTF-8 value fails");
	is_str(e.msg, "parameter n: value is not valid UTF-8", "message");
	ok(b.len == 0, "nothing written on failure");
	buf_free(&b);
}

static void
test_param_count(void)
{
	static const struct {
		const char *value;
		int n;
	} c[] = {
		{ "multipart/signed; boundary=a", 1 },
		{ "multipart/signed; protocol=x", 0 },
		{ "multipart/signed; boundary=a; BOUNDARY=b", 2 },
		{ "multipart/signed; boundary*0=a; boundary*1=b", 1 },
		{ "multipart/signed; boundary*0=a; boundary*1=b; boundary=c", 2 },
		{ "multipart/signed; boundary*=''a; boundary=c", 2 },
		{ "multipart/signed; boundary*0*=''a; boundary*0=b", 2 },
		{ "multipart/signed; xboundary=a; boundaryx=b", 0 },
		{ "multipart", -1 },
	};
	struct err er;
	size_t i;
	int n;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		n = mime_type_param_count(c[i].value, "boundary", &er);
		ok(n == c[i].n, "boundary given %d times in '%s' (%d)", c[i].n, c[i].value, n);
	}
}

int
main(void)
{
	test_rfc_examples();
	test_syntax();
	test_sloppy();
	test_errors();
	test_write();
	test_param_count();
	mime_type_free(&t);
	return tap_done();
}
