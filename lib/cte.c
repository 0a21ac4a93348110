/* cte.c — Content-Transfer-Encoding: field parsing, the content scanner and chooser, and the
 * streaming encode/decode facade over identity, quoted-printable and base64. */
#include "cte.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char *const names[] = { "7bit", "8bit", "binary", "quoted-printable", "base64",
	"unknown" };

const char *
cte_name(enum cte c)
{
	return c <= CTE_UNKNOWN ? names[c] : "unknown";
}

/* Skip white space and (nested) comments. */
static const char *
skip_cfws(const char *p)
{
	for (;;) {
		int depth = 0;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		while (*p != '\0') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
			p++;
		}
	}
}

enum cte
cte_parse(const char *value)
{
	const char *p, *t;
	size_t n;
	int i;

	if (value == NULL)
		return CTE_7BIT;	/* RFC 2045 §6.1: the default */
	p = skip_cfws(value);
	t = p;
	while ((unsigned char)*p > 0x20 && *p != 0x7f && strchr("()<>@,;:\\\"/[]?=", *p) == NULL)
		p++;
	n = (size_t)(p - t);
	if (*skip_cfws(p) != '\0')
		return CTE_UNKNOWN;
	for (i = CTE_7BIT; i < CTE_UNKNOWN; i++)
		if (strlen(names[i]) == n && strncasecmp(t, names[i], n) == 0)
			return (enum cte)i;
	return CTE_UNKNOWN;
}

/* --- scanner --- */

void
cte_scan_init(struct cte_stats *s)
{
	memset(s, 0, sizeof *s);
	s->lo = 0x80;
	s->hi = 0xbf;
}

static void
end_line(struct cte_stats *s)
{
	if (s->cur > s->longest)
		s->longest = s->cur;
	if (s->cur > 0 && (s->last == ' ' || s->last == '\t'))
		s->ws_lines++;
	if (s->cur == 1 && s->head[0] == '.')
		s->dot_lines++;
	s->cur = 0;
	s->nhead = 0;
}

/* RFC 3629 §4 well-formed sequences, one byte at a time. */
static void
utf8_step(struct cte_stats *s, unsigned char b)
{
	if (s->need > 0) {
		if (b >= s->lo && b <= s->hi) {
			s->need--;
			s->lo = 0x80;
			s->hi = 0xbf;
			return;
		}
		s->utf8_bad++;
		s->need = 0;
		s->lo = 0x80;
		s->hi = 0xbf;
	}
	if (b < 0x80)
		return;
	if (b >= 0xc2 && b <= 0xdf)
		s->need = 1;
	else if (b >= 0xe0 && b <= 0xef) {
		s->need = 2;
		if (b == 0xe0)
			s->lo = 0xa0;
		if (b == 0xed)
			s->hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		s->need = 3;
		if (b == 0xf0)
			s->lo = 0x90;
		if (b == 0xf4)
			s->hi = 0x8f;
	} else
		s->utf8_bad++;
}

/* One byte: the reference scanner, and the fast path's fallback for anything but plain
 * bytes in the middle of a line. */
static inline void
scan_byte(struct cte_stats *s, unsigned char b)
{
	utf8_step(s, b);
	if (s->cr) {
		s->cr = 0;
		if (b == '\n') {
			s->lines++;
			end_line(s);
			return;
		}
		s->bare_cr++;
		s->cur++;	/* the bare CR counts as a character of the line */
		s->last = '\r';
	}
	if (b == '\r') {
		s->cr = 1;
		return;
	}
	if (b == '\n') {
		s->bare_lf++;
		s->lines++;
		end_line(s);
		return;
	}
	if (b == 0)
		s->nul++;
	else if (b >= 0x80)
		s->nonascii++;
	else if ((b < 0x20 && b != '\t' && b != '\f' && b != 0x1b) || b == 0x7f)
		s->ctl++;
	if (s->nhead < 5) {
		s->head[s->nhead++] = b;
		if (s->nhead == 5 && memcmp(s->head, "From ", 5) == 0)
			s->from_lines++;
	}
	s->cur++;
	s->last = b;
}

void
cte_scan_ref(struct cte_stats *s, const void *p, size_t n)
{
	const unsigned char *q = p;
	size_t i;

	s->bytes += n;
	for (i = 0; i < n; i++)
		scan_byte(s, q[i]);
}

/* Plain bytes (TAB, 0x20..0x7E) from q: how many, up to n. A plain byte with no CR or UTF-8
 * sequence pending changes only the line's length, its last byte and (among its first
 * five) its head, so whole runs of them are counted at once. */
static size_t
plain_run(const unsigned char *q, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i c1f = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f), tab = _mm_set1_epi8('\t');

	/* Signed: 0x20..0x7F are > 0x1F; 0x80..0xFF are negative. Two vectors per step. */
#define PLAIN(v) _mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, del), \
	    _mm_cmpgt_epi8(v, c1f)), _mm_cmpeq_epi8(v, tab)))
	for (; n - i >= 32; i += 32) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(q + i));
		__m128i v1 = _mm_loadu_si128((const __m128i *)(q + i + 16));
		uint32_t m = (uint32_t)PLAIN(v0) | (uint32_t)PLAIN(v1) << 16;

		if (m != 0xffffffffu)
			return i + (unsigned)__builtin_ctz(~m);
	}
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(q + i));
		unsigned m = (unsigned)PLAIN(v);

		if (m != 0xffff)
			return i + (unsigned)__builtin_ctz(~m);
	}
#undef PLAIN
#else
	/* A word at a time: a byte is plain when it is 0x20..0x7E (TAB goes the slow way). */
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;

	for (; n - i >= 8; i += 8) {
		uint64_t w;

		memcpy(&w, q + i, 8);
		/* High bit set in a lane when the byte is < 0x20, >= 0x7F or >= 0x80. */
		if (((w - ones * 0x20) | (w + ones * 0x01) | w) & high)
			break;
	}
#endif
	while (i < n && ((q[i] >= 0x20 && q[i] < 0x7f) || q[i] == '\t'))
		i++;
	return i;
}

void
cte_scan(struct cte_stats *s, const void *p, size_t n)
{
	const unsigned char *q = p;
	size_t i = 0, k;

	s->bytes += n;
	while (i < n) {
		if (!s->cr && s->need == 0 && (k = plain_run(q + i, n - i)) > 0) {
			if (s->nhead < 5) {
				size_t h = 5 - s->nhead < k ? 5 - s->nhead : k;

				memcpy(s->head + s->nhead, q + i, h);
				s->nhead += (unsigned)h;
				if (s->nhead == 5 && memcmp(s->head, "From ", 5) == 0)
					s->from_lines++;
			}
			s->cur += k;
			s->last = q[i + k - 1];
			i += k;
			continue;
		}
		scan_byte(s, q[i++]);
	}
}

void
cte_scan_final(struct cte_stats *s)
{
	if (s->cr) {
		s->cr = 0;
		s->bare_cr++;
		s->cur++;
		s->last = '\r';
	}
	if (s->need > 0) {
		s->utf8_bad++;
		s->need = 0;
	}
	s->ends_nl = s->cur == 0;	/* empty, or the last byte ended a line */
	if (s->cur > 0)
		end_line(s);
}

int
cte_stats_is_text(const struct cte_stats *s)
{
	return s->nul == 0 && s->bare_cr == 0 && s->ctl == 0;
}

enum cte
cte_choose(const struct cte_stats *s, int flags)
{
	int signed_ = flags & CTE_SIGNED;
	uint64_t esc;

	if (!cte_stats_is_text(s))
		return (flags & CTE_ALLOW_BINARY) && !signed_ ? CTE_BINARY : CTE_BASE64;
	if (s->nonascii == 0 && s->longest <= 78
	    && (!signed_ || (s->from_lines == 0 && s->ws_lines == 0 && s->dot_lines == 0)))
		return CTE_7BIT;
	if ((flags & CTE_ALLOW_8BIT) && !signed_ && s->longest <= 998)
		return CTE_8BIT;
	/* QP costs 3 characters per escaped byte, base64 4 per 3 bytes: QP when
	 * bytes + 2 * esc <= bytes * 4 / 3, i.e. esc <= bytes / 6. */
	esc = s->nonascii;
	return esc * 6 <= s->bytes ? CTE_QP : CTE_BASE64;
}

/* --- encoder --- */

static int
alloc_bufs(char **a, char **b, struct err *e)
{
	*a = malloc(CTE_BUFSIZE);
	*b = malloc(CTE_BUFSIZE);
	if (*a == NULL || *b == NULL) {
		free(*a);
		free(*b);
		*a = *b = NULL;
		return err_set(e, EX_OSERR, "out of memory");
	}
	return 0;
}

/* Set the encoder up for c, reusing whatever buffers x already holds. */
static int
enc_setup(struct cte_enc *x, enum cte c, int flags, struct err *e)
{
	char *buf1 = x->buf1, *buf2 = x->buf2;
	struct b64_enc *b64 = x->b64;

	memset(x, 0, sizeof *x);
	x->buf1 = buf1;
	x->buf2 = buf2;
	x->b64 = b64;
	x->cte = c;
	x->flags = flags;
	x->last_eol = 1;
	if (c == CTE_UNKNOWN || (unsigned)c > CTE_UNKNOWN)
		return err_set(e, EX_SOFTWARE, "cannot encode with an unknown transfer encoding");
	canon_init(&x->canon, flags & CTE_CRLF ? CANON_CRLF : CANON_LF_TEXT);
	if (c == CTE_BASE64 || c == CTE_QP)
		canon_init(&x->canon, CANON_CRLF);	/* RFC 2045 §6.8, RFC 2049 §4 */
	if (c == CTE_BASE64) {
		if (x->b64 == NULL && (x->b64 = malloc(sizeof *x->b64)) == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		b64_enc_init(x->b64, flags & CTE_CRLF ? B64_CRLF : 0, 76);
	}
	if (c == CTE_QP)
		qp_enc_init(&x->qp, (flags & CTE_TEXT ? 0 : QP_BINARY) | (flags & CTE_CRLF ? QP_CRLF : 0)
		    | (flags & CTE_TERMINATE ? QP_TERMINATE : 0));
	if (x->buf1 == NULL && alloc_bufs(&x->buf1, &x->buf2, e) != 0)
		return -1;
	return 0;
}

int
cte_enc_init(struct cte_enc *x, enum cte c, int flags, struct err *e)
{
	memset(x, 0, sizeof *x);
	if (enc_setup(x, c, flags, e) != 0) {
		cte_enc_free(x);
		return -1;
	}
	return 0;
}

int
cte_enc_reinit(struct cte_enc *x, enum cte c, int flags, struct err *e)
{
	return enc_setup(x, c, flags, e);
}

/* 7bit and 8bit must hold what their names promise (RFC 2045 §2.7, §2.8). */
static int
check_identity(struct cte_enc *x, const unsigned char *p, size_t n, struct err *e)
{
	size_t i;

	if (x->cte == CTE_BINARY)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] == '\n' || p[i] == '\r') {
			x->col = 0;
			continue;
		}
		if (p[i] == 0)
			return err_set(e, EX_DATAERR, "%s content holds a NUL byte", cte_name(x->cte));
		if (p[i] >= 0x80 && x->cte == CTE_7BIT)
			return err_set(e, EX_DATAERR, "7bit content holds 8-bit data");
		if (++x->col > 998)
			return err_set(e, EX_DATAERR, "%s content has a line over 998 octets",
			    cte_name(x->cte));
	}
	return 0;
}

static int
emit(const struct sink *s, int *last_eol, const char *p, size_t n, struct err *e)
{
	if (n == 0)
		return 0;
	*last_eol = p[n - 1] == '\n';
	return sink_write(s, p, n, e);
}

static int
enc_round(struct cte_enc *x, const struct sink *s, const unsigned char *p, size_t n, int final,
    struct err *e)
{
	int text = x->flags & CTE_TEXT;
	size_t o;

	switch (x->cte) {
	case CTE_QP:
		if (text) {
			/* Canonical first, so a bare CR is a line break like in the other
			 * encodings, not =0D. */
			o = final ? canon_final(&x->canon, x->buf2) : canon_update(&x->canon, p, n, x->buf2);
			o = qp_enc_update(&x->qp, x->buf2, o, x->buf1);
		} else
			o = final ? 0 : qp_enc_update(&x->qp, p, n, x->buf1);
		if (final)
			o += qp_enc_final(&x->qp, x->buf1 + o);
		return emit(s, &x->last_eol, x->buf1, o, e);
	case CTE_BASE64:
		if (text) {
			o = final ? canon_final(&x->canon, x->buf2) : canon_update(&x->canon, p, n, x->buf2);
			p = (const unsigned char *)x->buf2;
			n = o;
		}
		o = n > 0 ? b64_enc_update(x->b64, p, n, x->buf1) : 0;
		if (final)
			o += b64_enc_final(x->b64, x->buf1 + o);
		return emit(s, &x->last_eol, x->buf1, o, e);
	default:
		if (!final && check_identity(x, p, n, e) != 0)
			return -1;
		if (!text)
			return final ? 0 : emit(s, &x->last_eol, (const char *)p, n, e);
		o = final ? canon_final(&x->canon, x->buf1) : canon_update(&x->canon, p, n, x->buf1);
		return emit(s, &x->last_eol, x->buf1, o, e);
	}
}

int
cte_enc_write(struct cte_enc *x, const struct sink *s, const void *p, size_t n, struct err *e)
{
	const unsigned char *q = p;

	while (n > 0) {
		size_t k = n < CTE_STEP ? n : CTE_STEP;

		if (enc_round(x, s, q, k, 0, e) != 0)
			return -1;
		q += k;
		n -= k;
	}
	return 0;
}

int
cte_enc_finish(struct cte_enc *x, const struct sink *s, struct err *e)
{
	return enc_round(x, s, NULL, 0, 1, e);
}

void
cte_enc_free(struct cte_enc *x)
{
	free(x->b64);
	free(x->buf1);
	free(x->buf2);
	x->b64 = NULL;
	x->buf1 = x->buf2 = NULL;
}

/* --- decoder --- */

int
cte_dec_init(struct cte_dec *x, enum cte c, int flags, struct err *e)
{
	memset(x, 0, sizeof *x);
	x->cte = (unsigned)c > CTE_UNKNOWN ? CTE_UNKNOWN : c;
	x->flags = flags;
	canon_init(&x->canon, flags & CTE_CRLF ? CANON_CRLF : CANON_LF_TEXT);
	/* Binary content in QP: a hard break stands for CRLF (RFC 2045 §6.7 rule 4). */
	qp_dec_init(&x->qp, flags & CTE_TEXT ? 0 : QP_CRLF);
	b64_dec_init(&x->b64, flags & CTE_STRICT ? 0 : B64_IGNORE_GARBAGE);
	return alloc_bufs(&x->buf1, &x->buf2, e);
}

static int
b64_err(struct cte_dec *x, struct err *e)
{
	return err_set(e, EX_DATAERR, "base64: %s", x->b64.msg);
}

/* Decode one round into buf1; returns the length, or -1. */
static long
dec_stage(struct cte_dec *x, const unsigned char *p, size_t n, int final, struct err *e)
{
	size_t o = 0, k;

	switch (x->cte) {
	case CTE_QP:
		return (long)(final ? qp_dec_final(&x->qp, (unsigned char *)x->buf1)
		    : qp_dec_update(&x->qp, p, n, (unsigned char *)x->buf1));
	case CTE_BASE64:
		if (x->done)
			return 0;
		if (!final) {
			if (b64_dec_update(&x->b64, p, n, (unsigned char *)x->buf1, &o) == 0)
				return (long)o;
			/* Lenient: the padding marks the end (RFC 2045 §6.8); ignore the rest. */
			if (!(x->flags & CTE_STRICT) && x->b64.ended) {
				x->done = 1;	/* dec_round fed the padding alone */
				return 0;
			}
			return b64_err(x, e);
		}
		if (!(x->flags & CTE_STRICT) && x->b64.nq >= 2 && x->b64.npad == 0) {
			static const char pad[] = "==";

			if (b64_dec_update(&x->b64, pad, 4 - x->b64.nq, (unsigned char *)x->buf1, &o) != 0)
				return b64_err(x, e);
		}
		if (b64_dec_final(&x->b64, (unsigned char *)x->buf1 + o, &k) != 0) {
			if (!(x->flags & CTE_STRICT))
				return (long)o;	/* a lone sextet carries no whole byte */
			return b64_err(x, e);
		}
		return (long)(o + k);
	default:
		if (final)
			return 0;
		memcpy(x->buf1, p, n);
		return (long)n;
	}
}

/* Decode one piece and write it out (text: line ends normalised). */
static int
dec_piece(struct cte_dec *x, const struct sink *s, const unsigned char *p, size_t n, int final,
    struct err *e)
{
	long got;
	size_t o;

	if ((got = dec_stage(x, p, n, final, e)) < 0)
		return -1;
	if (!(x->flags & CTE_TEXT))
		return got > 0 ? sink_write(s, x->buf1, (size_t)got, e) : 0;
	o = canon_update(&x->canon, x->buf1, (size_t)got, x->buf2);
	if (final)
		o += canon_final(&x->canon, x->buf2 + o);
	return o > 0 ? sink_write(s, x->buf2, o, e) : 0;
}

static int
dec_round(struct cte_dec *x, const struct sink *s, const unsigned char *p, size_t n, int final,
    struct err *e)
{
	/* Lenient base64: feed up to each '=' (and a second one after it) separately, so
	 * that when junk follows the padding, everything decoded before it is kept. */
	while (x->cte == CTE_BASE64 && !final && !(x->flags & CTE_STRICT) && !x->done && n > 0) {
		const unsigned char *eq = memchr(p, '=', n);
		size_t head;

		if (eq == NULL)
			break;
		head = (size_t)(eq - p) + 1;
		if (head < n && p[head] == '=')
			head++;
		if (dec_piece(x, s, p, head, 0, e) != 0)
			return -1;
		p += head;
		n -= head;
	}
	if (n == 0 && !final)
		return 0;
	return dec_piece(x, s, p, n, final, e);
}

int
cte_dec_write(struct cte_dec *x, const struct sink *s, const void *p, size_t n, struct err *e)
{
	const unsigned char *q = p;

	while (n > 0) {
		size_t k = n < CTE_STEP ? n : CTE_STEP;

		if (dec_round(x, s, q, k, 0, e) != 0)
			return -1;
		q += k;
		n -= k;
	}
	return 0;
}

int
cte_dec_finish(struct cte_dec *x, const struct sink *s, struct err *e)
{
	return dec_round(x, s, NULL, 0, 1, e);
}

void
cte_dec_free(struct cte_dec *x)
{
	free(x->buf1);
	free(x->buf2);
	x->buf1 = x->buf2 = NULL;
}
