/* rfc2047.c — RFC 2047 encoded-words: decode any charset to UTF-8, encode UTF-8 as B or Q. */
#include "rfc2047.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "charset.h"

static int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* --- decoding --- */

struct word {
	const char *start, *end;	/* the whole "=?...?=" */
	char charset[65];
	struct buf bytes;		/* decoded octets */
};

/* §4.2: Q: "_" is 0x20, "=XX" an octet. */
static int
q_decode(const char *s, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int h, l;

		if (s[i] == '_')
			buf_addc(out, ' ');
		else if (s[i] == '=') {
			if (i + 2 >= n)
				return -1;
			if ((h = hexval((unsigned char)s[i + 1])) < 0
			    || (l = hexval((unsigned char)s[i + 2])) < 0)
				return -1;
			buf_addc(out, (char)(h << 4 | l));
			i += 2;
		} else
			buf_addc(out, s[i]);
	}
	return 0;
}

/* §4.1: B, with missing padding tolerated. */
static int
b_decode(const char *s, size_t n, struct buf *out)
{
	char tmp[4];
	unsigned char *o;
	long long k;
	size_t full = n / 4 * 4, rest = n % 4;

	if (rest == 1)
		return -1;
	if ((o = malloc(b64_dec_bound(n + 4))) == NULL) {
		out->oom = 1;
		return -1;
	}
	k = b64_decode(s, full, o, 0);
	if (k < 0 || (rest > 0 && memchr(s, '=', full) != NULL)) {
		free(o);
		return -1;
	}
	buf_add(out, o, (size_t)k);
	if (rest > 0) {
		memcpy(tmp, s + full, rest);
		memset(tmp + rest, '=', 4 - rest);
		k = b64_decode(tmp, 4, o, 0);
		if (k < 0) {
			free(o);
			return -1;
		}
		buf_add(out, o, (size_t)k);
	}
	free(o);
	return 0;
}

/* Parse an encoded-word at s (which starts with "=?"). 0 and w filled, or -1 if s is not a
 * well-formed one. */
static int
parse_word(const char *s, struct word *w)
{
	const char *p = s + 2, *cs = p, *text, *star;
	size_t cslen;
	char enc;

	while (*p != '\0' && *p != '?' && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f
	    && strchr("()<>@,;:\"/[]=", *p) == NULL && p - cs < 100)
		p++;
	if (*p != '?' || p == cs)
		return -1;
	cslen = (size_t)(p - cs);
	if ((star = memchr(cs, '*', cslen)) != NULL)	/* RFC 2231 §5 language */
		cslen = (size_t)(star - cs);
	if (cslen == 0 || cslen >= sizeof w->charset)
		return -1;
	memcpy(w->charset, cs, cslen);
	w->charset[cslen] = '\0';
	enc = p[1];
	if ((enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q') || p[2] != '?')
		return -1;
	text = p += 3;
	/* Longer than §2 allows is tolerated, up to a bound that keeps decoding linear. */
	while (*p != '\0' && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f
	    && !(p[0] == '?' && p[1] == '=') && p - text < RFC2047_DECODE_WORD_MAX)
		p++;
	if (p[0] != '?' || p[1] != '=')
		return -1;
	buf_reset(&w->bytes);
	if (enc == 'B' || enc == 'b') {
		if (b_decode(text, (size_t)(p - text), &w->bytes) != 0)
			return -1;
	} else if (q_decode(text, (size_t)(p - text), &w->bytes) != 0)
		return -1;
	w->start = s;
	w->end = p + 2;
	return 0;
}

struct dec {
	struct buf out;
	struct buf pend;		/* octets of consecutive words in one charset */
	char charset[65];
	const char *pstart, *pend_end;	/* their source text, to leave as is on failure */
	struct err *e;
};

static int
flush(struct dec *d)
{
	char *s;
	size_t n;

	if (d->pstart == NULL)
		return 0;
	err_clear(d->e);
	s = charset_to_utf8(d->charset, d->pend.p ? d->pend.p : "", d->pend.len, &n, d->e);
	if (s == NULL && d->e->code != EX_OSERR
	    && charset_utf8_valid(d->pend.p ? d->pend.p : "", d->pend.len))
		s = charset_to_utf8("utf-8", d->pend.p ? d->pend.p : "", d->pend.len, &n, d->e);
	if (s != NULL) {
		/* A decoded NUL would cut the string short: U+FFFD instead. */
		if ((s = charset_nul_free(s, n, d->e)) == NULL)
			return -1;
		buf_adds(&d->out, s);
		free(s);
	} else if (d->e->code == EX_OSERR) {
		return -1;
	} else {
		buf_add(&d->out, d->pstart, (size_t)(d->pend_end - d->pstart));
	}
	err_clear(d->e);
	buf_reset(&d->pend);
	d->pstart = NULL;
	return 0;
}

char *
rfc2047_decode(const char *value, struct err *e)
{
	struct dec d = { BUF_INIT, BUF_INIT, "", NULL, NULL, e };
	struct word w = { NULL, NULL, "", BUF_INIT };
	const char *p = value, *ws = NULL;
	char *r = NULL;
	int last_word = 0;

	while (*p != '\0') {
		if (p[0] == '=' && p[1] == '?' && parse_word(p, &w) == 0) {
			/* §6.2: white space between adjacent encoded-words is ignored. */
			if (d.pstart != NULL && strcasecmp(d.charset, w.charset) != 0 && flush(&d) != 0)
				goto out;
			if (d.pstart == NULL && !last_word && ws != NULL)
				buf_add(&d.out, ws, (size_t)(p - ws));
			if (d.pstart == NULL) {
				d.pstart = p;
				strcpy(d.charset, w.charset);
			}
			buf_add(&d.pend, w.bytes.p, w.bytes.len);
			d.pend_end = w.end;
			p = w.end;
			ws = NULL;
			last_word = 1;
			continue;
		}
		if (is_wsp((unsigned char)*p)) {
			if (ws == NULL)
				ws = p;
			p++;
			continue;
		}
		if (flush(&d) != 0)
			goto out;
		if (ws != NULL)
			buf_add(&d.out, ws, (size_t)(p - ws));
		ws = NULL;
		last_word = 0;
		buf_addc(&d.out, *p++);
	}
	if (flush(&d) != 0)
		goto out;
	if (ws != NULL)
		buf_add(&d.out, ws, (size_t)(p - ws));
	if (buf_check(&d.out, e) != 0 || buf_check(&d.pend, e) != 0 || buf_check(&w.bytes, e) != 0)
		goto out;
	if (charset_utf8_valid(d.out.p ? d.out.p : "", d.out.len))
		r = buf_take(&d.out, e);
	else
		r = charset_utf8_repair(d.out.p, d.out.len, NULL, e);
out:
	buf_free(&d.out);
	buf_free(&d.pend);
	buf_free(&w.bytes);
	return r;
}

/* --- encoding --- */

#define PREFIX "=?utf-8?"	/* + "Q?" or "B?" */
#define OVERHEAD 12		/* "=?utf-8?Q?" + "?=" */

static size_t
u8len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* May c stand for itself in a Q encoded-word in this context? §4.2 and §5(2), §5(3). */
static int
q_literal(unsigned char c, enum rfc2047_ctx ctx)
{
	if (c <= 0x20 || c >= 0x7f || c == '=' || c == '?' || c == '_')
		return 0;
	switch (ctx) {
	case RFC2047_PHRASE:	/* §5(3): letters, digits, "!" "*" "+" "-" "/" */
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		    || strchr("!*+-/", c) != NULL;
	case RFC2047_COMMENT:	/* §5(2): no "(", ")" or "\"" ; and no '\\' to be safe */
		return strchr("()\"\\", c) == NULL;
	default:
		return 1;
	}
}

static size_t
q_width(unsigned char c, enum rfc2047_ctx ctx)
{
	return c == ' ' || q_literal(c, ctx) ? 1 : 3;
}

static size_t
q_width_of(const unsigned char *s, size_t n, enum rfc2047_ctx ctx)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++)
		w += q_width(s[i], ctx);
	return w;
}

/* Bytes of s[0..n) (whole characters) that fit in `room` encoded characters, Q or B. */
static size_t
q_fit(const unsigned char *s, size_t n, size_t room, enum rfc2047_ctx ctx)
{
	size_t i = 0, w = 0;

	while (i < n) {
		size_t cl = u8len(s[i]), cw = 0, k;

		for (k = 0; k < cl; k++)
			cw += q_width(s[i + k], ctx);
		if (w + cw > room)
			break;
		w += cw;
		i += cl;
	}
	return i;
}

static size_t
b_fit(const unsigned char *s, size_t n, size_t room)
{
	size_t max = room / 4 * 3, i = 0;

	while (i < n && i + u8len(s[i]) <= max)
		i += u8len(s[i]);
	return i;
}

static void
emit_q(struct buf *b, const unsigned char *s, size_t n, enum rfc2047_ctx ctx)
{
	size_t i;

	buf_adds(b, PREFIX "Q?");
	for (i = 0; i < n; i++) {
		if (s[i] == ' ')
			buf_addc(b, '_');
		else if (q_literal(s[i], ctx))
			buf_addc(b, (char)s[i]);
		else
			buf_addf(b, "=%02X", s[i]);
	}
	buf_adds(b, "?=");
}

static void
emit_b(struct buf *b, const unsigned char *s, size_t n)
{
	char tmp[RFC2047_WORD_MAX + 4];

	buf_adds(b, PREFIX "B?");
	buf_add(b, tmp, b64_encode(s, n, tmp, 0));
	buf_adds(b, "?=");
}

/* Encode s[0..n) as encoded-words separated by single spaces. *col tracks the column. */
static void
encode_run(struct buf *b, const unsigned char *s, size_t n, enum rfc2047_ctx ctx, size_t *col)
{
	size_t i = 0, limit, nq, nb;
	int first = 1;

	while (i < n) {
		limit = RFC2047_WORD_MAX;
		if (first && *col + RFC2047_WORD_MAX > RFC2047_LINE_MAX
		    && RFC2047_LINE_MAX - (*col < RFC2047_LINE_MAX ? *col : RFC2047_LINE_MAX) >= 20)
			limit = RFC2047_LINE_MAX - *col;
		if (!first)
			buf_addc(b, ' ');
		nq = q_fit(s + i, n - i, limit - OVERHEAD, ctx);
		nb = b_fit(s + i, n - i, limit - OVERHEAD);
		/* The one that carries more; if equal, the shorter; if that too, Q (readable). */
		if (nq == nb && q_width_of(s + i, nq, ctx) > (nb + 2) / 3 * 4)
			nq = 0;
		if (nq >= nb)
			emit_q(b, s + i, nq, ctx);
		else
			emit_b(b, s + i, nb);
		i += nq >= nb ? nq : nb;
		first = 0;
		*col = 1 + RFC2047_WORD_MAX;	/* after a fold, conservatively */
	}
}

/* Does this plain word need encoding? */
static int
needs_encoding(const char *w, size_t n)
{
	size_t i;

	if (n > RFC2047_LONG_WORD)
		return 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c >= 0x7f || c < 0x20)
			return 1;
		if (c == '=' && i + 1 < n && w[i + 1] == '?')
			return 1;
	}
	return 0;
}

static int
is_sp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 §3.2.3 atext. */
static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	    || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static void
encode_phrase(struct buf *b, const char *s, size_t n, size_t col)
{
	size_t i;
	int any = 0, atoms = 1;

	for (i = 0; i < n; i++) {
		size_t j = i;

		while (j < n && !is_sp((unsigned char)s[j]))
			j++;
		if (needs_encoding(s + i, j - i))
			any = 1;
		for (; i < j; i++)
			if (!is_atext((unsigned char)s[i]))
				atoms = 0;
		if (j < n && (j == 0 || j + 1 == n || is_sp((unsigned char)s[j + 1])))
			atoms = 0;	/* leading, trailing or doubled white space */
	}
	if (any) {
		encode_run(b, (const unsigned char *)s, n, RFC2047_PHRASE, &col);
	} else if (atoms && n > 0) {
		buf_add(b, s, n);
	} else {
		/* RFC 5322 §3.2.4 quoted-string */
		buf_addc(b, '"');
		for (i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_addc(b, '\\');
			buf_addc(b, s[i]);
		}
		buf_addc(b, '"');
	}
}

int
rfc2047_encode(struct buf *b, const char *utf8, enum rfc2047_ctx ctx, size_t col, struct err *e)
{
	size_t n = strlen(utf8), i = 0;

	if (!charset_utf8_valid(utf8, n))
		return err_set(e, EX_DATAERR, "header text is not valid UTF-8");
	if (ctx == RFC2047_PHRASE) {
		encode_phrase(b, utf8, n, col);
		return 0;
	}
	while (i < n) {
		size_t j = i, k, run_end;

		if (is_sp((unsigned char)utf8[i])) {
			buf_addc(b, utf8[i++]);
			col++;
			continue;
		}
		while (j < n && !is_sp((unsigned char)utf8[j]))
			j++;
		if (!needs_encoding(utf8 + i, j - i)) {
			for (k = i; k < j; k++) {
				if (ctx == RFC2047_COMMENT && strchr("()\\", utf8[k]) != NULL)
					buf_addc(b, '\\');
				buf_addc(b, utf8[k]);
			}
			col += j - i;
			i = j;
			continue;
		}
		/* A run: this word and the following ones that need encoding, with the white
		 * space between them (encoded too, since decoders drop it between words). */
		run_end = j;
		for (;;) {
			size_t s = run_end, t;

			while (s < n && is_sp((unsigned char)utf8[s]))
				s++;
			if (s == n)
				break;
			for (t = s; t < n && !is_sp((unsigned char)utf8[t]); t++)
				;
			if (!needs_encoding(utf8 + s, t - s))
				break;
			run_end = t;
		}
		encode_run(b, (const unsigned char *)utf8 + i, run_end - i, ctx, &col);
		i = run_end;
	}
	return 0;
}
