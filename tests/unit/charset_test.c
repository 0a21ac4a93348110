/* charset_test.c — UTF-8 validity (RFC 3629 §3-4 edge cases), conversion to UTF-8 from named
 * charsets, refused charset names, the lenient fallback, NFC. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "tap.h"

static void
test_valid(void)
{
	ok(charset_utf8_valid("", 0), "empty is valid UTF-8");
	ok(charset_utf8_valid("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 10), "1-4 byte sequences are valid");
	ok(!charset_utf8_valid("\xC0\x80", 2), "overlong NUL is invalid (RFC 3629 §3)");
	ok(!charset_utf8_valid("\xED\xA0\x80", 3), "a surrogate is invalid");
	ok(!charset_utf8_valid("\xF4\x90\x80\x80", 4), "beyond U+10FFFF is invalid");
	ok(!charset_utf8_valid("\xE2\x82", 2), "a truncated sequence is invalid");
	ok(!charset_utf8_valid("\xFF", 1), "0xFF is invalid");
	ok(charset_utf8_prefix("ab\xFF" "cd", 5) == 2, "prefix stops at the first bad byte");
	ok(charset_is_utf8("UTF-8") && charset_is_utf8("utf8") && !charset_is_utf8("utf-16"),
	    "UTF-8 spellings");
	ok(charset_is_ascii("US-ASCII") && charset_is_ascii("ansi_x3.4-1968") && !charset_is_ascii("latin1"),
	    "US-ASCII aliases");
	ok(charset_locale() != NULL && *charset_locale() != '\0', "the locale has a charset name");
}

static void
test_convert(void)
{
	struct err e;
	size_t n;
	char *s;
	int lossy;

	err_clear(&e);
	s = charset_to_utf8("ISO-8859-1", "\xE9t\xE9", 3, &n, &e);
	is_str(s, "\xC3\xA9t\xC3\xA9", "latin-1 converts");
	ok(n == 5, "length of the converted text");
	free(s);
	s = charset_to_utf8("windows-1252", "\x80", 1, &n, &e);
	is_str(s, "\xE2\x82\xAC", "windows-1252 0x80 is the euro sign");
	free(s);
	s = charset_to_utf8("ISO-2022-JP", "\x1b$B$3$s\x1b(B", 10, &n, &e);
	is_str(s, "\xE3\x81\x93\xE3\x82\x93", "ISO-2022-JP converts (stateful)");
	free(s);
	s = charset_to_utf8("us-ascii", "a\0b", 3, &n, &e);
	ok(s != NULL && n == 3 && s[1] == '\0', "NUL survives, length says so");
	free(s);

	err_clear(&e);
	s = charset_to_utf8("shift_jis", "a\x82", 2, &n, &e);
	ok(s == NULL && e.code == EX_DATAERR, "a character cut at the end is an error, not dropped");
	is_str(e.msg, "text in shift_jis ends inside a character", "message");
	err_clear(&e);
	s = charset_to_utf8("utf-16le", "a\0b", 3, &n, &e);
	ok(s == NULL && e.code == EX_DATAERR, "odd UTF-16 length is an error");
	err_clear(&e);
	{
		/* a long stateful input (ISO-2022-JP: 2 bytes in, 3 out, escapes around) must
		 * convert whole: the output buffer grows past its first guess */
		char in[4100], *r;
		size_t k;

		memcpy(in, "\x1b$B", 3);
		for (k = 0; k < 2000; k++)
			memcpy(in + 3 + 2 * k, "$3", 2);
		memcpy(in + 4003, "\x1b(B", 3);
		r = charset_to_utf8("ISO-2022-JP", in, 4006, &n, &e);
		ok(r != NULL && n == 6000, "long stateful conversion (%zu bytes)", n);
		free(r);
	}
	err_clear(&e);
	s = charset_to_utf8("x-no-such-charset", "a", 1, &n, &e);
	ok(s == NULL && e.code == EX_DATAERR && e.sys == EINVAL, "unknown charset: EX_DATAERR, EINVAL");
	is_str(e.msg, "unknown charset x-no-such-charset", "unknown charset message");
	err_clear(&e);
	s = charset_to_utf8("utf-8", "\xFF", 1, &n, &e);
	ok(s == NULL && e.code == EX_DATAERR && e.sys == EILSEQ, "invalid UTF-8: EILSEQ");
	err_clear(&e);
	s = charset_to_utf8("us-ascii", "\xE9", 1, &n, &e);
	ok(s == NULL && e.code == EX_DATAERR && e.sys == EILSEQ, "8-bit in US-ASCII is invalid");
	err_clear(&e);
	s = charset_to_utf8("UTF-8//IGNORE", "a", 1, &n, &e);
	ok(s == NULL && e.code == EX_DATAERR, "iconv option syntax in a charset name is refused");
	err_clear(&e);
	s = charset_to_utf8("../../etc/x", "a", 1, &n, &e);
	ok(s == NULL && e.code == EX_DATAERR, "a path as charset name is refused");
	err_clear(&e);
	s = charset_to_utf8("", "a", 1, &n, &e);
	ok(s == NULL && e.code == EX_DATAERR, "an empty charset name is refused");

	err_clear(&e);
	s = charset_to_utf8_lenient("x-unknown", "\xC3\xA9", 2, &n, &lossy, &e);
	is_str(s, "\xC3\xA9", "lenient: unknown charset, valid UTF-8 bytes kept");
	free(s);
	s = charset_to_utf8_lenient("x-unknown", "a\xFF" "b", 3, &n, &lossy, &e);
	is_str(s, "a\xEF\xBF\xBD" "b", "lenient: invalid bytes become U+FFFD");
	ok(lossy == 1, "lenient: lossy reported");
	free(s);
	s = charset_to_utf8_lenient("iso-8859-1", "\xE9", 1, &n, &lossy, &e);
	is_str(s, "\xC3\xA9", "lenient: a known charset converts normally");
	ok(lossy == 0, "lenient: not lossy when converted");
	free(s);
	s = malloc(4);
	memcpy(s, "a\0b\0", 4);
	s = charset_nul_free(s, 4, &e);
	ok(s != NULL && memcmp(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD", 9) == 0 && s[8] == '\0',
	    "NUL bytes become U+FFFD");
	free(s);
	s = charset_nul_free(strdup("plain"), 5, &e);
	is_str(s, "plain", "no NUL: the same string");
	free(s);
	s = charset_utf8_repair("\xE2\x82", 2, &n, &e);
	is_str(s, "\xEF\xBF\xBD\xEF\xBF\xBD", "repair: truncated sequence, one U+FFFD per byte");
	free(s);
}

static void
test_nfc(void)
{
	struct err e;
	size_t n;
	char *s;

	err_clear(&e);
	s = charset_nfc("e\xCC\x81", 3, &n, &e);
	is_str(s, "\xC3\xA9", "NFC composes e + combining acute");
	free(s);
	s = charset_nfc("\xE2\x84\xAB", 3, &n, &e);
	is_str(s, "\xC3\x85", "NFC maps ANGSTROM SIGN to A with ring");
	free(s);
	s = charset_nfc("", 0, &n, &e);
	ok(s != NULL && n == 0, "NFC of empty text");
	free(s);
	s = charset_nfc("\xFF", 1, &n, &e);
	ok(s == NULL && e.code == EX_DATAERR, "NFC refuses invalid UTF-8");
}

/* ---- streaming conversion ---- */

struct mem {
	char b[256];
	size_t n;
};

static int
mem_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct mem *m = ctx;

	if (n > sizeof m->b - m->n)
		return err_set(e, EX_SOFTWARE, "test sink full");
	memcpy(m->b + m->n, p, n);
	m->n += n;
	return 0;
}

/* Convert in[0..n) fed in up to three chunks cut at i and j; 0 and the output in m, or -1. */
static int
conv3(const char *from, const char *in, size_t n, size_t i, size_t j, struct mem *m,
    struct err *e)
{
	struct charset_conv x;
	struct sink s = { mem_write, m };
	int r = -1;

	m->n = 0;
	err_clear(e);
	if (charset_conv_init(&x, from, e) != 0)
		return -1;
	if (charset_conv_write(&x, &s, in, i, e) == 0 &&
	    charset_conv_write(&x, &s, in + i, j - i, e) == 0 &&
	    charset_conv_write(&x, &s, in + j, n - j, e) == 0 &&
	    charset_conv_finish(&x, &s, e) == 0)
		r = 0;
	charset_conv_free(&x);
	return r;
}

static void
stream_case(const char *from, const char *in, size_t n, const char *want, size_t wn)
{
	struct mem m;
	struct err e;
	size_t i, j, bad = 0, tried = 0;

	for (i = 0; i <= n; i++)
		for (j = i; j <= n; j++, tried++)
			if (conv3(from, in, n, i, j, &m, &e) != 0 || m.n != wn ||
			    memcmp(m.b, want, wn) != 0)
				bad++;
	ok(bad == 0, "%s: all %zu ways of cutting the input in three convert alike", from, tried);
}

static void
test_stream(void)
{
	struct charset_conv x;
	struct mem m;
	struct err e;

	/* Expected UTF-8 written out by hand from the Unicode code charts. */
	/* 日本語a in Shift_JIS (JIS X 0208 via Shift_JIS: 93FA 967B 8CEA) */
	stream_case("Shift_JIS", "\x93\xFA\x96\x7B\x8C\xEA" "a", 7,
	    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E" "a", 10);
	/* 日本語 in EUC-JP: C6FC CBDC B8EC, and half-width katakana ｱ (8E B1) */
	stream_case("EUC-JP", "\xC6\xFC\xCB\xDC\xB8\xEC\x8E\xB1", 8,
	    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xEF\xBD\xB1", 12);
	/* UTF-16 with a big-endian BOM: é U+1F600 (a surrogate pair) */
	stream_case("UTF-16", "\xFE\xFF\x00\xE9\xD8\x3D\xDE\x00", 8,
	    "\xC3\xA9\xF0\x9F\x98\x80", 6);
	/* the same, little-endian BOM */
	stream_case("UTF-16", "\xFF\xFE\xE9\x00\x3D\xD8\x00\xDE", 8,
	    "\xC3\xA9\xF0\x9F\x98\x80", 6);
	stream_case("ISO-8859-1", "\xE9t\xE9\xFF", 4, "\xC3\xA9t\xC3\xA9\xC3\xBF", 7);

	ok(conv3("EUC-JP", "ab\xC6", 3, 3, 3, &m, &e) == -1 && e.code == EX_DATAERR &&
	    e.sys == EILSEQ && strstr(e.msg, "at byte 2") != NULL,
	    "a character cut off at the end is an error naming its offset: %s", e.msg);
	ok(conv3("EUC-JP", "ab\xC6", 3, 1, 2, &m, &e) == -1 && strstr(e.msg, "at byte 2") != NULL,
	    "also when the input came in pieces");
	ok(conv3("UTF-8", "abc\xFF" "d", 5, 2, 4, &m, &e) == -1 && e.code == EX_DATAERR &&
	    strstr(e.msg, "at byte 3") != NULL, "an invalid byte is an error naming its offset: %s",
	    e.msg);
	ok(conv3("US-ASCII", "abcd\xE9", 5, 5, 5, &m, &e) == -1 && strstr(e.msg, "at byte 4") != NULL,
	    "8-bit bytes are not ASCII");
	ok(conv3("Shift_JIS", "\x93\xFA\x93\x20", 4, 3, 3, &m, &e) == -1 &&
	    strstr(e.msg, "at byte 2") != NULL,
	    "a Shift_JIS lead byte with a bad trail byte across chunks: %s", e.msg);
	err_clear(&e);
	ok(charset_conv_init(&x, "UTF-8//IGNORE", &e) == -1 && e.code == EX_DATAERR,
	    "iconv option syntax in a name is refused");
	err_clear(&e);
	ok(charset_conv_init(&x, "NO-SUCH-CHARSET", &e) == -1 && e.code == EX_DATAERR &&
	    e.sys == EINVAL, "an unknown charset is refused");
	err_clear(&e);
	if (charset_conv_init(&x, "ISO-2022-JP", &e) == 0) {
		struct sink s = { mem_write, &m };

		m.n = 0;
		/* ESC $ B F| (日) ESC ( B: ends back in ASCII */
		ok(charset_conv_write(&x, &s, "\x1B$BF|\x1B(B", 8, &e) == 0 &&
		    charset_conv_finish(&x, &s, &e) == 0 && m.n == 3 &&
		    memcmp(m.b, "\xE6\x97\xA5", 3) == 0, "ISO-2022-JP (stateful)");
		charset_conv_free(&x);
	} else
		ok(0, "ISO-2022-JP is known: %s", e.msg);
}

int
main(void)
{
	test_valid();
	test_convert();
	test_nfc();
	test_stream();
	return tap_done();
}
