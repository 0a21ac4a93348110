/* rfc2047_test.c — encoded-words: the RFC 2047 §8 examples, charsets, the documented
 * best-effort cases, and encoding: when, B or Q, word limits, contexts, round trips. */
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "rfc2047.h"
#include "tap.h"

static struct err e;

static void
dec(const char *in, const char *want, const char *what)
{
	char *s;

	err_clear(&e);
	s = rfc2047_decode(in, &e);
	is_str(s, want, "decode: %s", what);
	free(s);
}

static void
test_decode(void)
{
	/* RFC 2047 §8 */
	dec("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>", "§8 From");
	dec("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>",
	    "Keld J\xC3\xB8rn Simonsen <keld@dkuug.dk>", "§8 To");
	dec("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
	    "Andr\xC3\xA9 Pirard <PIRARD@vm1.ulg.ac.be>", "§8 CC");
	dec("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
	    "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
	    "If you can read this you understand the example.", "§8 Subject");
	dec("(=?ISO-8859-1?Q?a?=)", "(a)", "§8 (a)");
	dec("(=?ISO-8859-1?Q?a?= b)", "(a b)", "§8 (a b)");
	dec("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)", "§8 adjacent words joined");
	dec("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)", "§8 any white space dropped");
	dec("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)", "§8 folding dropped");
	dec("(=?ISO-8859-1?Q?a_b?=)", "(a b)", "§8 underscore is space");
	dec("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)", "§8 different charsets");
	/* more */
	dec("plain text", "plain text", "no words");
	dec("", "", "empty");
	dec("=?utf-8?q?caf=c3=a9?=", "caf\xC3\xA9", "lower-case q and hex");
	dec("=?UTF-8*en?Q?x?=", "x", "RFC 2231 §5 language suffix");
	dec("=?utf-8?B?4oKs?= a =?utf-8?b?4oKs?=", "\xE2\x82\xAC a \xE2\x82\xAC", "text between words kept");
	dec("=?utf-8?B?4oI=?= =?utf-8?B?rA==?=", "\xE2\x82\xAC", "split character across words");
	dec("=?utf-8?B?4oI?= =?utf-8?B?rA?=", "\xE2\x82\xAC", "split character, unpadded base64");
	dec("=?utf-8?q?" "?=", "", "empty encoded text");
	dec("a=?utf-8?q?b?=c", "abc", "not delimited by white space (lenient)");
	dec("=?ISO-2022-JP?B?GyRCJDMkcxsoQg==?=", "\xE3\x81\x93\xE3\x82\x93", "ISO-2022-JP");
	dec("=?koi8-r?B?8NLJ18XU?=", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", "KOI8-R");
	/* malformed: left as is */
	dec("=?utf-8?x?abc?=", "=?utf-8?x?abc?=", "unknown encoding left as is");
	dec("=?utf-8?q?a=ZZ?=", "=?utf-8?q?a=ZZ?=", "bad Q escape left as is");
	dec("=?utf-8?q?a=4?=", "=?utf-8?q?a=4?=", "truncated Q escape left as is");
	dec("=?utf-8?b?!!!!?=", "=?utf-8?b?!!!!?=", "bad base64 left as is");
	dec("=?utf-8?b?Zg==Zg?=", "=?utf-8?b?Zg==Zg?=", "base64 after padding left as is");
	dec("=?utf-8?q?unterminated", "=?utf-8?q?unterminated", "unterminated word left as is");
	dec("=?" "?q?a?=", "=?" "?q?a?=", "empty charset left as is");
	dec("=?utf-8?q?a b?=", "=?utf-8?q?a b?=", "space inside a word: not a word");
	dec("=?x-unknown?q?caf=C3=A9?=", "caf\xC3\xA9", "unknown charset, UTF-8 bytes: decoded");
	dec("=?x-unknown?q?caf=E9?=", "=?x-unknown?q?caf=E9?=", "unknown charset, not UTF-8: left as is");
	dec("=?utf-8?q?caf=E9?= x", "=?utf-8?q?caf=E9?= x", "invalid bytes in the charset: left as is");
	dec("=?utf-8//IGNORE?q?a=FF?=", "=?utf-8//IGNORE?q?a=FF?=", "iconv syntax in charset: not a word");
	dec("=?utf-8?q?evil.txt=00.pdf?=", "evil.txt\xEF\xBF\xBD.pdf", "a decoded NUL becomes U+FFFD, not the end");
	dec("=?x-unknown?b?YQBi?=", "a\xEF\xBF\xBD" "b", "NUL in an unknown charset's UTF-8 too");
	dec("raw \xE9t\xE9", "raw \xEF\xBF\xBDt\xEF\xBF\xBD", "8-bit outside words becomes U+FFFD");
	dec("raw caf\xC3\xA9 =?utf-8?q?x?=", "raw caf\xC3\xA9 x", "UTF-8 outside words kept (RFC 6532)");
	{
		/* Adversarial: many unterminated word starts in one long value must stay fast
		 * (bounded scan) and come back unchanged. */
		size_t n = 200000, i;
		char *in = malloc(n + 1), *out;

		for (i = 0; i < n; i++)
			in[i] = "=?a?q?xxxxxx"[i % 12];
		in[n] = '\0';
		out = rfc2047_decode(in, &e);
		ok(out != NULL && strcmp(out, in) == 0, "decode: 200 KB of unterminated words unchanged");
		free(out);
		free(in);
	}
	{
		char in[1200], *out;

		memcpy(in, "=?utf-8?q?", 10);
		memset(in + 10, 'a', RFC2047_DECODE_WORD_MAX + 1);
		strcpy(in + 11 + RFC2047_DECODE_WORD_MAX, "?=");
		out = rfc2047_decode(in, &e);
		is_str(out, in, "decode: encoded text over the bound left as is");
		free(out);
	}
}

/* Every encoded-word in s: at most 75 characters, decodes alone to whole UTF-8 characters,
 * uses only the characters its context allows. */
static int
words_ok(const char *s, enum rfc2047_ctx ctx)
{
	const char *p = s;

	while ((p = strstr(p, "=?")) != NULL) {
		const char *end = strstr(p + 10, "?=");
		char w[128], *d;
		size_t n;

		if (end == NULL)
			return 0;
		n = (size_t)(end + 2 - p);
		if (n > RFC2047_WORD_MAX)
			return 0;
		memcpy(w, p, n);
		w[n] = '\0';
		if (p[8] == 'Q' && ctx == RFC2047_PHRASE) {
			const char *q;

			for (q = p + 10; q < end; q++)
				if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/=_", *q))
					return 0;
		}
		if (p[8] == 'Q' && ctx == RFC2047_COMMENT && strpbrk(w, "()\"\\") != NULL)
			return 0;
		d = rfc2047_decode(w, &e);
		if (d == NULL || strcmp(d, w) == 0 || !charset_utf8_valid(d, strlen(d))) {
			free(d);
			return 0;
		}
		free(d);
		p = end + 2;
	}
	return 1;
}

static char *
enc(const char *in, enum rfc2047_ctx ctx, size_t col)
{
	struct buf b = BUF_INIT;

	err_clear(&e);
	if (rfc2047_encode(&b, in, ctx, col, &e) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, &e);
}

static void
roundtrip(const char *in, const char *what)
{
	static const char *ctxname[] = { "text", "phrase", "comment" };
	int c;

	for (c = RFC2047_TEXT; c <= RFC2047_COMMENT; c++) {
		char *s = enc(in, (enum rfc2047_ctx)c, 9), *d;

		ok(s != NULL && words_ok(s, (enum rfc2047_ctx)c), "encode %s (%s): words well-formed", what, ctxname[c]);
		d = s ? rfc2047_decode(s, &e) : NULL;
		if (c == RFC2047_TEXT || (c == RFC2047_PHRASE && s != NULL && s[0] == '='))
			is_str(d, in, "encode %s (%s): decodes back", what, ctxname[c]);
		free(s);
		free(d);
	}
}

static void
test_encode(void)
{
	char *s, big[2000];
	size_t i;

	s = enc("Hello world", RFC2047_TEXT, 9);
	is_str(s, "Hello world", "ASCII text is left alone");
	free(s);
	s = enc("r\xC3\xA9sum\xC3\xA9-final-version au lait", RFC2047_TEXT, 9);
	is_str(s, "=?utf-8?Q?r=C3=A9sum=C3=A9-final-version?= au lait",
	    "only the word that needs it is encoded; mostly ASCII: Q (shorter)");
	free(s);
	s = enc("caf\xC3\xA9", RFC2047_TEXT, 9);
	is_str(s, "=?utf-8?B?Y2Fmw6k=?=", "B when it is shorter (8 < 9 characters)");
	free(s);
	s = enc("\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF", RFC2047_TEXT, 9);
	is_str(s, "=?utf-8?B?44GT44KT44Gr44Gh44Gv?=", "mostly non-ASCII: B");
	free(s);
	s = enc("a \xC3\xA9 \xC3\xA9 b", RFC2047_TEXT, 9);
	is_str(s, "a =?utf-8?B?w6kgw6k=?= b", "adjacent words: one run, space encoded with them");
	free(s);
	s = enc("look =?utf-8?q?x?= here", RFC2047_TEXT, 9);
	ok(s != NULL && strstr(s, "look =?utf-8?") == s && strstr(s, " here") != NULL,
	    "a word that looks like an encoded-word is encoded");
	roundtrip("look =?utf-8?q?x?= here", "encoded-word lookalike");
	free(s);
	s = enc("tab\tand\x01" "ctl", RFC2047_TEXT, 9);
	ok(s != NULL && strstr(s, "tab\t=?utf-8?Q?and=01ctl?=") != NULL, "control characters are encoded, tab kept");
	free(s);
	s = enc("J. Smith", RFC2047_PHRASE, 6);
	is_str(s, "\"J. Smith\"", "phrase: specials quoted");
	free(s);
	s = enc("John Smith", RFC2047_PHRASE, 6);
	is_str(s, "John Smith", "phrase: atoms as is");
	free(s);
	s = enc("a \"q\" \\", RFC2047_PHRASE, 6);
	is_str(s, "\"a \\\"q\\\" \\\\\"", "phrase: quotes and backslashes escaped");
	free(s);
	s = enc("Andr\xC3\xA9 (x) Pirard-Smithsonian", RFC2047_PHRASE, 6);
	is_str(s, "=?utf-8?Q?Andr=C3=A9_=28x=29_Pirard-Smithsonian?=",
	    "phrase: any need encodes the whole, §5(3) chars only");
	free(s);
	s = enc("(x) \\ r\xC3\xA9sum\xC3\xA9-final-version", RFC2047_COMMENT, 0);
	is_str(s, "\\(x\\) \\\\ =?utf-8?Q?r=C3=A9sum=C3=A9-final-version?=",
	    "comment: parentheses and backslash quoted");
	free(s);
	s = enc("", RFC2047_TEXT, 0);
	is_str(s, "", "empty text");
	free(s);

	for (i = 0; i < 1000; i++)
		big[i] = 'x';
	big[1000] = '\0';
	s = enc(big, RFC2047_TEXT, 9);
	ok(s != NULL && strncmp(s, "=?utf-8?", 8) == 0, "a word over %d characters is encoded", RFC2047_LONG_WORD);
	free(s);
	roundtrip(big, "long ASCII word");

	s = enc("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
	    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", RFC2047_TEXT, 40);
	ok(s != NULL && strchr(s, ' ') - s <= 76 - 40, "first word ends within 76 columns from col 40");
	free(s);

	big[0] = '\0';
	for (i = 0; i < 60; i++)
		strcat(big, i % 4 == 0 ? "\xF0\x9F\x98\x80" : i % 4 == 1 ? "a" : i % 4 == 2 ? " " : "\xC3\xA9");
	roundtrip(big, "mixed 1-4 byte characters and spaces");
	big[0] = '\0';
	for (i = 0; i < 100; i++)
		strcat(big, "\xE2\x82\xAC");
	roundtrip(big, "100 euro signs");
	roundtrip("  leading and trailing  \xC3\xA9  ", "white space at the ends");
	roundtrip("=?=?_?= \xC3\xA9_=?", "specials in Q");

	err_clear(&e);
	s = enc("bad \xFF", RFC2047_TEXT, 0);
	ok(s == NULL && e.code == EX_DATAERR, "invalid UTF-8 fails");
	is_str(e.msg, "header text is not valid UTF-8", "message");
}

int
main(void)
{
	test_decode();
	test_encode();
	return tap_done();
}
