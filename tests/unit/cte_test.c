/* cte_test.c — Content-Transfer-Encoding: field parsing, scanner statistics, the chooser's
 * decisions, and the encode/decode facade: round trips of random data of many sizes and
 * chunkings for every encoding, text and binary, and every error. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cte.h"
#include "tap.h"

struct mem {
	unsigned char *p;
	size_t n, cap;
	int fail;
};

static int
mem_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct mem *m = ctx;

	if (m->fail)
		return err_set(e, EX_IOERR, "write failed");
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2;
		m->p = realloc(m->p, m->cap);
	}
	memcpy(m->p + m->n, p, n);
	m->n += n;
	return 0;
}

static unsigned rng = 99;

static unsigned
rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 16;
}

static void
test_parse(void)
{
	ok(cte_parse(NULL) == CTE_7BIT, "no field: 7bit (RFC 2045 §6.1)");
	ok(cte_parse("7bit") == CTE_7BIT, "7bit");
	ok(cte_parse("8BIT") == CTE_8BIT, "8BIT, case-insensitive");
	ok(cte_parse("Binary") == CTE_BINARY, "Binary");
	ok(cte_parse(" Quoted-Printable ") == CTE_QP, "quoted-printable with white space");
	ok(cte_parse("base64 (it is)") == CTE_BASE64, "base64 with a comment");
	ok(cte_parse("(x (y)) BASE64") == CTE_BASE64, "nested comment before");
	ok(cte_parse("x-uuencode") == CTE_UNKNOWN, "x-uuencode is unknown");
	ok(cte_parse("base64 7bit") == CTE_UNKNOWN, "two tokens are unknown");
	ok(cte_parse("") == CTE_UNKNOWN, "empty is unknown");
	ok(cte_parse("base6") == CTE_UNKNOWN && cte_parse("base644") == CTE_UNKNOWN, "near misses are unknown");
	is_str(cte_name(CTE_QP), "quoted-printable", "name of QP");
	is_str(cte_name(CTE_BASE64), "base64", "name of base64");
	is_str(cte_name(CTE_UNKNOWN), "unknown", "name of unknown");
	ok(cte_parse(cte_name(CTE_8BIT)) == CTE_8BIT, "name parses back");
}

static struct cte_stats
scan(const char *p, size_t n, size_t split)
{
	struct cte_stats s;

	cte_scan_init(&s);
	cte_scan(&s, p, split);
	cte_scan(&s, p + split, n - split);
	cte_scan_final(&s);
	return s;
}

static void
test_scan(void)
{
	const char t[] = "From me\r\nhello \n.\n\xC3\xA9\x01\rx\0\xFF";
	struct cte_stats s, s2;
	size_t n = sizeof t - 1, k;
	int same = 1;

	s = scan(t, n, 0);
	ok(s.bytes == n, "bytes");
	ok(s.lines == 3, "lines");
	ok(s.nul == 1, "NUL count");
	ok(s.nonascii == 3, "non-ASCII count");
	ok(s.ctl == 1, "control count");
	ok(s.bare_cr == 1, "bare CR count");
	ok(s.bare_lf == 2, "bare LF count");
	ok(s.from_lines == 1, "lines starting From");
	ok(s.ws_lines == 1, "lines ending in white space");
	ok(s.dot_lines == 1, "lone dot lines");
	ok(s.utf8_bad == 1, "ill-formed UTF-8 (0xFF)");
	ok(s.longest == 7, "longest line (a bare CR counts)");
	ok(!s.ends_nl, "does not end with a line end");
	for (k = 0; k <= n; k++) {
		s2 = scan(t, n, k);
		if (memcmp(&s, &s2, offsetof(struct cte_stats, cur)) != 0)
			same = 0;
	}
	ok(same, "the same statistics at every split point");
	s = scan("a\r\n", 3, 2);
	ok(s.bare_cr == 0 && s.lines == 1 && s.ends_nl, "CRLF split across chunks");
	s = scan("", 0, 0);
	ok(s.ends_nl && s.lines == 0, "empty content ends with a line end");
	s = scan("\xE0\x80\x80\xED\xA0\x80\xF4\x90\x80\x80\xE2\x82", 12, 5);
	ok(s.utf8_bad >= 4, "overlong, surrogate, too large, truncated: ill-formed");
	s = scan("\xE2\x82\xAC\xF0\x9F\x98\x80", 7, 2);
	ok(s.utf8_bad == 0, "well-formed UTF-8 across a split");
}

/* Random content of several kinds, scanned by cte_scan in random pieces and by the byte-wise
 * cte_scan_ref: the same statistics. */
static void
test_scan_differential(void)
{
	static const char *const bits[] = { "From ", "From", ".", " ", "\t", "\r", "\n", "\r\n",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc3", "\x80",
		"\xff", "\x01", "\x7f", "\x1b", "\f", "\0", "-", "x" };
	static unsigned char buf[20000];
	int round, differ = 0;

	for (round = 0; round < 3000; round++) {
		struct cte_stats a, b;
		size_t n = 0, len = rnd() % sizeof buf, i, k;
		int kind = (int)(rnd() % 4);

		while (n < len) {
			const char *t;

			if (kind == 0 || rnd() % 4 != 0) {	/* mostly plain text runs */
				k = rnd() % 100;
				for (i = 0; i < k && n < len; i++)
					buf[n++] = (unsigned char)(0x20 + rnd() % 0x5f);
			}
			t = bits[rnd() % (kind == 3 ? 22 : 8)];
			for (i = 0; t[i] != '\0' && n < len; i++)
				buf[n++] = (unsigned char)t[i];
			if (kind == 2 && rnd() % 3 == 0 && n < len)
				buf[n++] = (unsigned char)rnd();
			if (kind == 3 && rnd() % 50 == 0 && n < len)
				buf[n++] = 0;
		}
		cte_scan_init(&a);
		cte_scan_init(&b);
		for (i = 0; i < n; i += k) {
			k = rnd() % 3 == 0 ? n - i : rnd() % 300 + 1;
			if (k > n - i)
				k = n - i;
			cte_scan(&a, buf + i, k);
		}
		cte_scan_ref(&b, buf, n);
		cte_scan_final(&a);
		cte_scan_final(&b);
		if (memcmp(&a, &b, sizeof a) != 0)
			differ++;
	}
	ok(differ == 0, "3000 random contents (text, UTF-8, binary, line ends) in random pieces: "
	    "the fast scanner agrees with the byte-wise one (%d differ)", differ);
}

static enum cte
choose(const char *p, size_t n, int flags)
{
	struct cte_stats s = scan(p, n, n / 2);

	return cte_choose(&s, flags);
}

static void
test_choose(void)
{
	char buf[2000];

	ok(choose("hello\nworld\n", 12, 0) == CTE_7BIT, "short ASCII lines: 7bit");
	ok(choose("", 0, 0) == CTE_7BIT, "empty: 7bit");
	memset(buf, 'a', 79);
	buf[79] = '\n';
	ok(choose(buf, 80, 0) == CTE_QP, "an ASCII line of 79: quoted-printable");
	ok(choose(buf, 79, 0) == CTE_QP, "79 without line end: quoted-printable");
	ok(choose(buf + 1, 79, 0) == CTE_7BIT, "a line of 78: 7bit");
	ok(choose("caf\xC3\xA9 au lait, a mostly ASCII text\n", 35, 0) == CTE_QP, "mostly ASCII: quoted-printable");
	ok(choose("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82\n", 13, 0) == CTE_BASE64, "mostly non-ASCII: base64");
	ok(choose("caf\xC3\xA9\n", 6, CTE_ALLOW_8BIT) == CTE_8BIT, "8BITMIME allowed: 8bit");
	ok(choose("caf\xC3\xA9 au lait, a mostly ASCII text\n", 35, CTE_ALLOW_8BIT | CTE_SIGNED) == CTE_QP,
	    "signed: never 8bit");
	ok(choose("caf\xC3\xA9\n", 6, 0) == CTE_BASE64, "a third non-ASCII: base64");
	ok(choose("a\0b", 3, 0) == CTE_BASE64, "NUL: base64");
	ok(choose("a\rb", 3, 0) == CTE_BASE64, "bare CR: base64");
	ok(choose("a\x01" "b", 3, 0) == CTE_BASE64, "control byte: base64");
	ok(choose("a\0b", 3, CTE_ALLOW_BINARY) == CTE_BINARY, "BINARYMIME allowed: binary");
	ok(choose("a\0b", 3, CTE_ALLOW_BINARY | CTE_SIGNED) == CTE_BASE64, "signed: never binary");
	ok(choose("\x1b$B$3$s\x1b(B\n", 10, 0) == CTE_7BIT, "ISO-2022-JP (ESC) is 7bit text");
	ok(choose("From me\n", 8, 0) == CTE_7BIT, "From line: 7bit unsigned");
	ok(choose("From me\n", 8, CTE_SIGNED) == CTE_QP, "From line: quoted-printable when signed");
	ok(choose("a \n", 3, CTE_SIGNED) == CTE_QP, "trailing space: quoted-printable when signed");
	ok(choose("a\n.\n", 4, CTE_SIGNED) == CTE_QP, "lone dot: quoted-printable when signed");
	memset(buf, 'a', 1000);
	buf[1000] = '\n';
	ok(choose(buf, 1001, CTE_ALLOW_8BIT) == CTE_QP, "a line over 998: not 8bit");
}

static unsigned char *
enc_dec(enum cte c, int eflags, int dflags, const unsigned char *in, size_t n, unsigned step,
    size_t *outn, struct mem *encoded, int *rc)
{
	struct cte_enc x;
	struct cte_dec y;
	struct mem m = { NULL, 0, 0, 0 }, d = { NULL, 0, 0, 0 };
	struct sink sm = { mem_write, &m }, sd = { mem_write, &d };
	struct err e;
	size_t i = 0, k;

	*rc = 0;
	err_clear(&e);
	if (cte_enc_init(&x, c, eflags, &e) != 0) {
		*rc = -1;
		return NULL;
	}
	while (i < n) {
		k = step ? rnd() % step + 1 : n;
		if (k > n - i)
			k = n - i;
		if (cte_enc_write(&x, &sm, in + i, k, &e) != 0)
			*rc = -1;
		i += k;
	}
	if (cte_enc_finish(&x, &sm, &e) != 0)
		*rc = -1;
	cte_enc_free(&x);
	cte_dec_init(&y, c, dflags, &e);
	for (i = 0; i < m.n; i += k) {
		k = step ? rnd() % step + 1 : m.n;
		if (k > m.n - i)
			k = m.n - i;
		if (cte_dec_write(&y, &sd, m.p + i, k, &e) != 0)
			*rc = -2;
	}
	if (cte_dec_finish(&y, &sd, &e) != 0)
		*rc = -2;
	cte_dec_free(&y);
	if (encoded)
		*encoded = m;
	else
		free(m.p);
	*outn = d.n;
	return d.p ? d.p : calloc(1, 1);
}

static int
max_line(const unsigned char *p, size_t n)
{
	size_t i, col = 0, max = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' || p[i] == '\r')
			col = 0;
		else if (++col > max)
			max = col;
	}
	return (int)max;
}

static void
test_roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 57, 76, 77, 1000, 16383, 16384, 16385, 70000 };
	static const unsigned steps[] = { 0, 1, 7, 4096, 20000 };
	unsigned char *in = malloc(70000), *norm = malloc(140000), *d;
	enum cte c;
	int bad = 0, badtext = 0, longlines = 0, runs = 0, rc;
	size_t si, st, i, n, dn, nn;

	for (c = CTE_7BIT; c <= CTE_BASE64; c++)
	for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
	for (st = 0; st < sizeof steps / sizeof steps[0]; st++) {
		struct mem enc;

		n = sizes[si];
		if ((c == CTE_7BIT || c == CTE_8BIT) && n > 1000 && st == 1)
			continue;	/* keep the run short */
		/* binary content (binary, qp, base64) */
		for (i = 0; i < n; i++)
			in[i] = (unsigned char)rnd();
		if (c == CTE_7BIT || c == CTE_8BIT)
			for (i = 0; i < n; i++)
				in[i] = (unsigned char)(i % 60 == 59 ? '\n' : c == CTE_7BIT ? 'a' + in[i] % 26 : 0x80 | in[i]);
		d = enc_dec(c, CTE_CRLF, 0, in, n, steps[st], &dn, &enc, &rc);
		if (rc != 0 || dn != n || memcmp(d, in, n) != 0)
			bad++;
		if ((c == CTE_QP || c == CTE_BASE64) && max_line(enc.p, enc.n) > 76)
			longlines++;
		free(enc.p);
		free(d);
		/* text content: any mix of line ends comes back as LF */
		for (i = 0; i < n; i++)
			in[i] = (unsigned char)"ab \t\r\n\xC3\xA9"[rnd() % 8];
		for (i = 0, nn = 0; i < n; i++) {
			if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
				continue;
			norm[nn++] = in[i] == '\r' ? '\n' : in[i];
		}
		if (c == CTE_7BIT)
			for (i = 0; i < n; i++)
				if (in[i] & 0x80)
					in[i] = 'x';
		if (c == CTE_7BIT)
			for (i = 0, nn = 0; i < n; i++) {
				if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
					continue;
				norm[nn++] = in[i] == '\r' ? '\n' : in[i];
			}
		d = enc_dec(c, CTE_TEXT, CTE_TEXT, in, n, steps[st], &dn, NULL, &rc);
		if (rc != 0 || dn != nn || memcmp(d, norm, nn) != 0) {
			badtext++;
			if (getenv("CTE_DEBUG"))
				printf("# text %s size %zu step %u rc %d dn %zu nn %zu\n", cte_name(c), n, steps[st], rc, dn, nn);
		}
		free(d);
		runs++;
	}
	ok(bad == 0, "binary round trips through every encoding, size and chunking (%d runs)", runs);
	ok(badtext == 0, "text round trips: line ends normalised to LF (%d bad)", badtext);
	ok(longlines == 0, "encoded lines within 76 characters");
	free(in);
	free(norm);
}

static char *
decode_str(enum cte c, int flags, const char *in, int *rc, struct err *e)
{
	struct cte_dec y;
	struct mem d = { NULL, 0, 0, 0 };
	struct sink sd = { mem_write, &d };
	char *r;

	err_clear(e);
	cte_dec_init(&y, c, flags, e);
	*rc = cte_dec_write(&y, &sd, in, strlen(in), e);
	if (*rc == 0)
		*rc = cte_dec_finish(&y, &sd, e);
	cte_dec_free(&y);
	r = malloc(d.n + 1);
	memcpy(r, d.p ? (char *)d.p : "", d.n);
	r[d.n] = '\0';
	free(d.p);
	return r;
}

static void
test_specifics(void)
{
	struct cte_enc x;
	struct mem m = { NULL, 0, 0, 0 };
	struct sink sm = { mem_write, &m };
	struct err e;
	char *s, big[1200];
	int rc;

	s = decode_str(CTE_BASE64, 0, "Zm9v\r\nYmFy\r\n", &rc, &e);
	ok(rc == 0, "base64 with CRLF lines decodes");
	is_str(s, "foobar", "bytes");
	free(s);
	s = decode_str(CTE_BASE64, 0, "Zm9v!YmFy", &rc, &e);
	is_str(s, "foobar", "lenient: characters outside the alphabet ignored (RFC 2045 §6.8)");
	free(s);
	s = decode_str(CTE_BASE64, CTE_STRICT, "Zm9v!YmFy", &rc, &e);
	ok(rc == -1 && e.code == EX_DATAERR && strncmp(e.msg, "base64: ", 8) == 0, "strict: an error naming base64");
	free(s);
	s = decode_str(CTE_BASE64, 0, "Zm9vYg==\r\n-- trailing junk\r\n", &rc, &e);
	ok(rc == 0, "lenient: junk after the padding is ignored");
	is_str(s, "foob", "bytes before the padding kept");
	free(s);
	s = decode_str(CTE_BASE64, 0, "Zm9vYmE", &rc, &e);
	ok(rc == 0, "lenient: a truncated last group decodes");
	is_str(s, "fooba", "as far as it goes");
	free(s);
	s = decode_str(CTE_BASE64, CTE_STRICT, "Zm9vYmE", &rc, &e);
	ok(rc == -1 && e.code == EX_DATAERR, "strict: a truncated last group fails");
	free(s);
	s = decode_str(CTE_QP, CTE_TEXT, "caf=C3=A9=\r\n au lait  \r\n", &rc, &e);
	is_str(s, "caf\xC3\xA9 au lait\n", "quoted-printable text to LF");
	free(s);
	s = decode_str(CTE_QP, CTE_TEXT | CTE_CRLF, "a\nb\n", &rc, &e);
	is_str(s, "a\r\nb\r\n", "quoted-printable text to CRLF");
	free(s);
	s = decode_str(CTE_UNKNOWN, 0, "=?opaque?=", &rc, &e);
	ok(rc == 0, "unknown encoding passes through");
	is_str(s, "=?opaque?=", "unchanged");
	free(s);
	s = decode_str(CTE_7BIT, CTE_TEXT | CTE_CRLF, "a\nb\r\n", &rc, &e);
	is_str(s, "a\r\nb\r\n", "identity text to CRLF");
	free(s);

	err_clear(&e);
	ok(cte_enc_init(&x, CTE_UNKNOWN, 0, &e) == -1 && e.code == EX_SOFTWARE, "unknown cannot be encoded");
	cte_enc_free(&x);
	cte_enc_init(&x, CTE_7BIT, 0, &e);
	ok(cte_enc_write(&x, &sm, "caf\xC3\xA9", 5, &e) == -1 && e.code == EX_DATAERR, "7bit refuses 8-bit data");
	is_str(e.msg, "7bit content holds 8-bit data", "message");
	cte_enc_free(&x);
	cte_enc_init(&x, CTE_8BIT, 0, &e);
	ok(cte_enc_write(&x, &sm, "a\0b", 3, &e) == -1 && e.code == EX_DATAERR, "8bit refuses NUL");
	cte_enc_free(&x);
	memset(big, 'a', sizeof big);
	cte_enc_init(&x, CTE_8BIT, 0, &e);
	ok(cte_enc_write(&x, &sm, big, 998, &e) == 0, "8bit takes a line of 998");
	ok(cte_enc_write(&x, &sm, big, 1, &e) == -1 && e.code == EX_DATAERR, "8bit refuses a line of 999");
	is_str(e.msg, "8bit content has a line over 998 octets", "message");
	cte_enc_free(&x);
	cte_enc_init(&x, CTE_BINARY, 0, &e);
	ok(cte_enc_write(&x, &sm, "a\0\xFF", 3, &e) == 0, "binary takes anything");
	cte_enc_free(&x);
	m.n = 0;
	cte_enc_init(&x, CTE_BINARY, CTE_TEXT | CTE_CRLF, &e);
	ok(cte_enc_write(&x, &sm, "a\nb\r", 4, &e) == 0 && cte_enc_finish(&x, &sm, &e) == 0
	    && m.n == 6 && memcmp(m.p, "a\r\nb\r\n", 6) == 0, "binary text is canonicalised too");
	cte_enc_free(&x);
	m.fail = 1;
	cte_enc_init(&x, CTE_BASE64, 0, &e);
	ok(cte_enc_write(&x, &sm, "ab", 2, &e) == 0, "base64 buffers a partial group");
	ok(cte_enc_finish(&x, &sm, &e) == -1 && e.code == EX_IOERR, "a failing sink fails finish");
	cte_enc_free(&x);
	m.fail = 0;
	m.n = 0;
	cte_enc_init(&x, CTE_BASE64, CTE_TEXT | CTE_CRLF, &e);
	cte_enc_write(&x, &sm, "a\nb", 3, &e);
	cte_enc_finish(&x, &sm, &e);
	ok(m.n == 10 && memcmp(m.p, "YQ0KYg==\r\n", 10) == 0, "base64 of text encodes canonical CRLF");
	ok(x.last_eol, "output ends with a line end");
	cte_enc_free(&x);
	m.n = 0;
	cte_enc_init(&x, CTE_QP, CTE_TEXT | CTE_TERMINATE, &e);
	cte_enc_write(&x, &sm, "From x", 6, &e);
	cte_enc_finish(&x, &sm, &e);
	ok(m.n == 10 && memcmp(m.p, "=46rom x=\n", 10) == 0, "quoted-printable facade: From, terminate");
	cte_enc_free(&x);
	free(m.p);
}

/*
 * Issue 9 item 12: base64 with much white space cost a 16 KiB copy per white-space byte in
 * the decoder every tool shares (mime-unpack, smime-verify, smime-decrypt: about 0.4 s of
 * CPU per MiB). A CPU-time limit (RLIMIT_CPU, not wall-clock time) of 3-4 s more than used
 * so far, some 50 times what linear decoding needs, kills this test with SIGXCPU (seen by the
 * runner as a crash) if the decoder falls back to that.
 */
static void
test_white_space_linear(void)
{
	static const char ws[] = " \t\r\n  ";
	size_t nraw = 3u << 20, ntext, i, j, k;
	unsigned char *raw = malloc(nraw);
	char *text = malloc(nraw * 4);
	struct cte_dec x;
	struct rlimit rl;
	struct rusage ru;
	struct mem m = { 0 };
	struct sink s = { mem_write, &m };
	struct err e;
	int mode, good = 1;
	unsigned long factor = 1;

	/* Under an emulator (make check-arm64 runs this under qemu) everything is slower by a
	 * constant factor, which SECMAIL_TEST_CPU_FACTOR gives. */
	if (getenv("SECMAIL_TEST_CPU_FACTOR") != NULL)
		factor = strtoul(getenv("SECMAIL_TEST_CPU_FACTOR"), NULL, 10);
	getrusage(RUSAGE_SELF, &ru);
	getrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = (rlim_t)ru.ru_utime.tv_sec + (rlim_t)ru.ru_stime.tv_sec
	    + 4 * (rlim_t)(factor > 0 ? factor : 1);
	setrlimit(RLIMIT_CPU, &rl);
	for (i = 0; i < nraw; i++)
		raw[i] = (unsigned char)rnd();
	/* One long line: quads separated by runs of 1..7 white-space characters. */
	ntext = b64_encode(raw, nraw, text, 0);
	for (i = ntext, j = nraw * 4; i > 0; i -= 4) {
		for (k = 1 + (i / 4) % 7; k > 0; k--)
			text[--j] = ws[k % (sizeof ws - 1)];
		memcpy(text + (j -= 4), text + i - 4, 4);
	}
	for (mode = 0; mode < 2; mode++) {
		m.n = 0;
		cte_dec_init(&x, CTE_BASE64, mode ? CTE_STRICT : 0, &e);
		if (cte_dec_write(&x, &s, text + j, nraw * 4 - j, &e) != 0 || cte_dec_finish(&x, &s, &e) != 0)
			good = 0;
		cte_dec_free(&x);
		if (m.n != nraw || memcmp(m.p, raw, nraw) != 0)
			good = 0;
	}
	ok(good, "base64 with runs of white space between all quads decodes, lenient and strict, "
	    "within a CPU-time limit");
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_CPU, &rl);
	free(m.p);
	free(raw);
	free(text);
}

/* One encoder reinitialised for part after part (what a MIME writer does to allocate its
 * buffers once) writes what a fresh encoder writes for each, whatever the previous part left
 * behind: a pending base64 group, an unfinished QP line, a part that failed. */
static void
reinit_same(void)
{
	static const struct {
		enum cte c;
		int flags;
		const char *in;
		size_t n;
	} parts[] = {
#define P(c, f, s) { c, f, s, sizeof s - 1 }
		P(CTE_BASE64, 0, "ab"),
		P(CTE_QP, CTE_TEXT | CTE_TERMINATE, "caf\xC3\xA9 line =\nnext"),
		P(CTE_7BIT, 0, "caf\xC3\xA9"),		/* fails: 8-bit data in 7bit */
		P(CTE_7BIT, CTE_TEXT | CTE_CRLF, "a\nb\n"),
		P(CTE_BASE64, CTE_CRLF, "\0\1\2\3\4\5\6"),
		P(CTE_QP, 0, "\xFF\r\n\xFE"),
		P(CTE_8BIT, CTE_TEXT, "\xC3\xA9\r\nx"),
		P(CTE_BASE64, CTE_TEXT, "text\nlines\n"),
		P(CTE_QP, CTE_CRLF, "trailing \t"),
#undef P
	};
	struct cte_enc shared, fresh;
	struct err e;
	size_t i, bad = 0;

	err_clear(&e);
	ok(cte_enc_init(&shared, CTE_7BIT, 0, &e) == 0, "reinit: first init");
	for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		struct mem a = { NULL, 0, 0, 0 }, b = { NULL, 0, 0, 0 };
		struct sink sa = { mem_write, &a }, sb = { mem_write, &b };
		int ra, rb;

		ra = cte_enc_reinit(&shared, parts[i].c, parts[i].flags, &e) == 0 &&
		    cte_enc_write(&shared, &sa, parts[i].in, parts[i].n, &e) == 0 &&
		    cte_enc_finish(&shared, &sa, &e) == 0;
		rb = cte_enc_init(&fresh, parts[i].c, parts[i].flags, &e) == 0 &&
		    cte_enc_write(&fresh, &sb, parts[i].in, parts[i].n, &e) == 0 &&
		    cte_enc_finish(&fresh, &sb, &e) == 0;
		cte_enc_free(&fresh);
		if (ra != rb || a.n != b.n || (a.n > 0 && memcmp(a.p, b.p, a.n) != 0)) {
			printf("# part %zu: reinit %d/%zu bytes, fresh %d/%zu bytes\n", i, ra, a.n, rb, b.n);
			bad++;
		}
		free(a.p);
		free(b.p);
	}
	ok(bad == 0, "reinit: each part encodes as with a fresh encoder");
	{
		/* The 998-octet line check starts again with each part. */
		static char line[600];
		struct mem m = { NULL, 0, 0, 0 };
		struct sink sm = { mem_write, &m };

		memset(line, 'a', sizeof line);
		ok(cte_enc_reinit(&shared, CTE_8BIT, 0, &e) == 0 &&
		    cte_enc_write(&shared, &sm, line, sizeof line, &e) == 0 &&
		    cte_enc_finish(&shared, &sm, &e) == 0 &&
		    cte_enc_reinit(&shared, CTE_8BIT, 0, &e) == 0 &&
		    cte_enc_write(&shared, &sm, line, sizeof line, &e) == 0,
		    "reinit: an unended 600-octet line in one 8bit part does not count in the next");
		free(m.p);
	}
	ok(cte_enc_reinit(&shared, CTE_UNKNOWN, 0, &e) == -1 && e.code == EX_SOFTWARE,
	    "reinit: unknown cannot be encoded either");
	cte_enc_free(&shared);
}

int
main(void)
{
	test_parse();
	test_scan();
	test_scan_differential();
	test_choose();
	test_roundtrip();
	test_specifics();
	test_white_space_linear();
	reinit_same();
	return tap_done();
}
