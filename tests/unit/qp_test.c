/* qp_test.c — quoted-printable: each RFC 2045 §6.7 rule, the transport-safety rules, the
 * decoder's lenient cases, and random round trips of many sizes, modes and chunkings. */
#include <stdlib.h>
#include <string.h>

#include "qp.h"
#include "tap.h"

static unsigned rng = 12345;

static unsigned
rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 16;
}

/* Encode in chunks of random size (step 0: all at once). Returns a malloc'd string. */
static char *
encode(const void *in, size_t n, int flags, unsigned step, size_t *outn)
{
	struct qp_enc x;
	char *out = malloc(qp_enc_bound(n) + qp_enc_bound(0) + 1);
	size_t i = 0, o = 0, k;

	qp_enc_init(&x, flags);
	while (i < n) {
		k = step ? rnd() % step + 1 : n;
		if (k > n - i)
			k = n - i;
		o += qp_enc_update(&x, (const char *)in + i, k, out + o);
		i += k;
	}
	o += qp_enc_final(&x, out + o);
	out[o] = '\0';
	if (outn)
		*outn = o;
	return out;
}

static unsigned char *
decode(const void *in, size_t n, int flags, unsigned step, size_t *outn)
{
	struct qp_dec x;
	unsigned char *out = malloc(qp_dec_bound(n) + qp_dec_bound(0) + 1);
	size_t i = 0, o = 0, k;

	qp_dec_init(&x, flags);
	while (i < n) {
		k = step ? rnd() % step + 1 : n;
		if (k > n - i)
			k = n - i;
		/* bounds are per call: check we never exceed them */
		o += qp_dec_update(&x, (const char *)in + i, k, out + o);
		i += k;
	}
	o += qp_dec_final(&x, out + o);
	out[o] = '\0';
	*outn = o;
	return out;
}

static void
enc_is(const char *in, int flags, const char *want, const char *what)
{
	char *s = encode(in, strlen(in), flags, 0, NULL);

	is_str(s, want, "encode: %s", what);
	free(s);
	s = encode(in, strlen(in), flags, 1, NULL);
	is_str(s, want, "encode byte by byte: %s", what);
	free(s);
}

static void
dec_is(const char *in, int flags, const char *want, const char *what)
{
	size_t n;
	unsigned char *s = decode(in, strlen(in), flags, 0, &n);

	ok(n == strlen(want) && memcmp(s, want, n) == 0, "decode: %s", what);
	free(s);
	s = decode(in, strlen(in), flags, 1, &n);
	ok(n == strlen(want) && memcmp(s, want, n) == 0, "decode byte by byte: %s", what);
	free(s);
}

/* Every line at most 76 characters; none ends in space or tab; only printable ASCII. */
static int
lines_ok(const char *s, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n')) {
			if (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
				return 0;
			if (c == '\r')
				i++;
			col = 0;
			continue;
		}
		if (c < 32 || c > 126)
			if (c != ' ' && c != '\t')
				return 0;
		if (++col > QP_LINE_MAX)
			return 0;
	}
	return n == 0 || (s[n - 1] != ' ' && s[n - 1] != '\t');
}

static void
test_encode_rules(void)
{
	char line[200], want[300];
	int i;

	enc_is("", 0, "", "empty");
	enc_is("plain text\n", 0, "plain text\n", "rule 2: printable ASCII literal");
	enc_is("a=b\n", 0, "a=3Db\n", "rule 1: '=' encoded");
	enc_is("caf\xC3\xA9\n", 0, "caf=C3=A9\n", "rule 1: 8-bit encoded, upper-case hex");
	enc_is("a\x01\x7f" "b", 0, "a=01=7Fb", "controls and DEL encoded");
	enc_is("a \nb\t\n", 0, "a=20\nb=09\n", "rule 3: white space before a line break encoded");
	enc_is("a b\tc\n", 0, "a b\tc\n", "white space inside a line literal");
	enc_is("end ", 0, "end=20", "rule 3: white space at the end of the data encoded");
	enc_is("a\r\nb\r\n", 0, "a\nb\n", "rule 4: CRLF input is a hard line break");
	enc_is("a\nb\n", QP_CRLF, "a\r\nb\r\n", "CRLF output");
	enc_is("a\rb", 0, "a=0Db", "a bare CR in text is encoded");
	enc_is("a \r\n", 0, "a=20\n", "white space before CRLF encoded");
	enc_is("a\r\nb", QP_BINARY, "a=0D=0Ab", "binary: CR and LF are data");
	enc_is("From here\nFrom\nFromage\n", 0, "=46rom here\nFrom\nFromage\n",
	    "\"From \" at a line start encoded");
	enc_is("a From b\n", 0, "a From b\n", "\"From \" inside a line literal");
	enc_is(".\na\n.\n..\n.a\n", 0, "=2E\na\n=2E\n..\n.a\n", "a line of a lone '.' encoded");
	enc_is("x\n.", 0, "x\n=2E", "a lone '.' at the end encoded");
	enc_is("abc", QP_TERMINATE, "abc=\n", "terminate: soft break after an unterminated last line");
	enc_is("abc\n", QP_TERMINATE, "abc\n", "terminate: nothing added after a line break");

	/* rule 5: 75 characters fit; the 76th needs a soft break */
	memset(line, 'a', 75);
	strcpy(line + 75, "\n");
	enc_is(line, 0, line, "75 characters fit on a line");
	memset(line, 'a', 76);
	strcpy(line + 76, "\n");
	memset(want, 'a', 75);
	strcpy(want + 75, "=\na\n");
	enc_is(line, 0, want, "rule 5: soft break at 76");
	memset(line, 'a', 74);
	strcpy(line + 74, "\xE9\n");
	memset(want, 'a', 74);
	strcpy(want + 74, "=\n=E9\n");
	enc_is(line, 0, want, "an =XX is never split by a soft break");
	memset(line, 'a', 75);
	strcpy(line + 75, "From x\n");
	{
		char *s = encode(line, strlen(line), 0, 0, NULL);

		ok(strstr(s, "\nFrom x") == NULL, "no output line starts with \"From \"");
		free(s);
	}
	memset(line, 'a', 75);
	strcpy(line + 75, ".\n");
	memset(want, 'a', 75);
	strcpy(want + 75, "=\n=2E\n");
	enc_is(line, 0, want, "a '.' pushed onto its own line by a soft break is encoded");
	for (i = 0; i < 80; i++)
		line[i] = ' ';
	strcpy(line + 80, "\n");
	{
		char *s = encode(line, strlen(line), 0, 0, NULL);

		ok(lines_ok(s, strlen(s)), "80 spaces: no line ends in white space");
		free(s);
	}
}

static void
test_decode_rules(void)
{
	dec_is("a=3Db=3d", 0, "a=b=", "=XX, upper and lower case");
	dec_is("caf=C3=A9\n", 0, "caf\xC3\xA9\n", "8-bit octets");
	dec_is("soft=\nbreak\n", 0, "softbreak\n", "rule 5: soft break");
	dec_is("soft=\r\nbreak\r\n", 0, "softbreak\n", "soft break with CRLF");
	dec_is("soft=  \t\nbreak", 0, "softbreak", "soft break followed by transport padding");
	dec_is("a  \t\nb \n", 0, "a\nb\n", "rule 3: trailing white space removed");
	dec_is("a \r\nb", 0, "a\nb", "trailing white space before CRLF removed");
	dec_is("a  ", 0, "a", "trailing white space at the end removed");
	dec_is("a b =\nc", 0, "a b c", "white space before a soft break is data");
	dec_is("a\nb\n", QP_CRLF, "a\r\nb\r\n", "hard breaks as CRLF");
	dec_is("a\r\nb", 0, "a\nb", "CRLF in, LF out");
	dec_is("a\rb\r", 0, "a\rb\r", "bare CR is data");
	dec_is("=G1", 0, "=G1", "malformed '=' + non-hex passed through");
	dec_is("=4G", 0, "=4G", "malformed '=' + one hex digit passed through");
	dec_is("=4\n", 0, "=4\n", "'=' + one hex digit at line end passed through");
	dec_is("=4", 0, "=4", "'=' + one hex digit at the end passed through");
	dec_is("= x", 0, "= x", "'=' + space + text passed through");
	dec_is("abc=", 0, "abc", "'=' at the very end: soft break");
	dec_is("=\r=41", 0, "=\rA", "'=' + bare CR passed through");
	dec_is("=46rom x\n=2E\n", 0, "From x\n.\n", "transport-safety encodings decode");
	{
		char in[QP_DEC_WS_MAX + 20];
		size_t n;
		unsigned char *s;

		memset(in, ' ', QP_DEC_WS_MAX + 10);
		strcpy(in + QP_DEC_WS_MAX + 10, "x\n");
		s = decode(in, strlen(in), 0, 7, &n);
		ok(n == strlen(in) && memcmp(s, in, n) == 0, "a white space run longer than the hold is kept");
		free(s);
	}
}

static void
test_roundtrips(void)
{
	static const int modes[] = { 0, QP_CRLF, QP_BINARY, QP_BINARY | QP_CRLF, QP_TERMINATE };
	static const unsigned steps[] = { 0, 1, 3, 64, 1000 };
	unsigned char *in = malloc(5000), *exp = malloc(10000), *d;
	size_t sizes[] = { 0, 1, 2, 5, 75, 76, 77, 152, 1000, 4999 };
	int bad_lines = 0, bad_rt = 0, bad_chunk = 0, runs = 0;
	size_t si, m, i, n, en, dn, xn;
	unsigned st, alpha;

	for (alpha = 0; alpha < 3; alpha++)
	for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
	for (m = 0; m < sizeof modes / sizeof modes[0]; m++)
	for (st = 0; st < sizeof steps / sizeof steps[0]; st++) {
		char *e1, *e2;
		int flags = modes[m];

		n = sizes[si];
		for (i = 0; i < n; i++) {
			unsigned r = rnd();

			/* binary, text-like with CR/LF/space/dot/F, and all-space data */
			in[i] = alpha == 0 ? (unsigned char)r
			    : alpha == 1 ? (unsigned char)" .F\r\n\tromxyz=\xE9"[r % 15]
			    : (unsigned char)" \t\n"[r % 3];
		}
		e1 = encode(in, n, flags, 0, &en);
		e2 = encode(in, n, flags, steps[st], NULL);
		if (strcmp(e1, e2) != 0)
			bad_chunk++;
		if (!lines_ok(e1, en))
			bad_lines++;
		d = decode(e1, en, flags & QP_CRLF, steps[st], &dn);
		/* expected: binary exact; text: CRLF -> LF, and -> CRLF when decoding with QP_CRLF */
		xn = 0;
		for (i = 0; i < n; i++) {
			if (!(flags & QP_BINARY) && (in[i] == '\n' || (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n'))) {
				if (in[i] == '\r')
					i++;
				if (flags & QP_CRLF)
					exp[xn++] = '\r';
				exp[xn++] = '\n';
			} else
				exp[xn++] = in[i];
		}
		if (dn != xn || memcmp(d, exp, xn) != 0)
			bad_rt++;
		runs++;
		free(e1);
		free(e2);
		free(d);
	}
	ok(bad_chunk == 0, "encoding is the same for every chunking (%d runs)", runs);
	ok(bad_lines == 0, "every encoded line within 76, no trailing white space, printable");
	ok(bad_rt == 0, "decode(encode(x)) gives x back (%d mismatches)", bad_rt);
	free(in);
	free(exp);
}

int
main(void)
{
	test_encode_rules();
	test_decode_rules();
	test_roundtrips();
	return tap_done();
}
