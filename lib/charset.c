/* charset.c — UTF-8 checks, conversion to UTF-8 and NFC over GNU libunistring. */
#include "charset.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iconv.h>
#include <uniconv.h>
#include <uninorm.h>
#include <unistr.h>

int
charset_utf8_valid(const void *p, size_t n)
{
	return u8_check(p, n) == NULL;
}

size_t
charset_utf8_prefix(const void *p, size_t n)
{
	const uint8_t *bad = u8_check(p, n);

	return bad == NULL ? n : (size_t)(bad - (const uint8_t *)p);
}

const char *
charset_locale(void)
{
	const char *c = locale_charset();

	return c != NULL && *c != '\0' ? c : "ASCII";
}

/* Compare ignoring case and the punctuation people put in charset names ("UTF-8", "utf8"). */
static int
loose_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == '-' || *a == '_')
			a++;
		while (*b == '-' || *b == '_')
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		if ((*a | 0x20) != (*b | 0x20))
			return 0;
		a++, b++;
	}
}

int
charset_is_utf8(const char *name)
{
	return name != NULL && loose_eq(name, "utf8");
}

int
charset_is_ascii(const char *name)
{
	/* RFC 2046 §4.1.2 and the IANA registry's aliases of US-ASCII. */
	static const char *const alias[] = { "us-ascii", "ascii", "ansi_x3.4-1968",
		"iso646-us", "us", "cp367", "ibm367", "iso-ir-6", "csascii", NULL };
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; alias[i] != NULL; i++)
		if (strcasecmp(name, alias[i]) == 0)
			return 1;
	return 0;
}

/* A MIME charset is a token (RFC 2978 §2.3); keep to the characters registered names use so
 * that nothing like "UTF-8//IGNORE" or a path reaches iconv_open. */
static int
charset_name_ok(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		    || c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
			return 0;
	}
	return n > 0 && n <= 64;
}

static char *
dup_bytes(const void *p, size_t n, size_t *outlen, struct err *e)
{
	char *r = malloc(n + 1);

	if (r == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	if (n > 0)
		memcpy(r, p, n);
	r[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return r;
}

/*
 * iconv(3) itself rather than libunistring's u8_conv_from_encoding: the latter silently drops
 * an incomplete character at the end of the input ("a\x82" in Shift_JIS gives "a"), which
 * would be silent corruption; iconv reports it (EINVAL).
 */
static char *
iconv_utf8(const char *from, const void *p, size_t n, size_t *outlen, struct err *e)
{
	iconv_t cd;
	char *buf, *in = (char *)(uintptr_t)p, *out, *nb;
	size_t cap, inleft = n, outleft, r, off;
	int flushing = 0;

	if ((cd = iconv_open("UTF-8", from)) == (iconv_t)-1) {
		if (errno == EINVAL) {
			err_set(e, EX_DATAERR, "unknown charset %s", from);
			e->sys = EINVAL;
		} else
			err_sys(e, EX_OSERR, "iconv_open %s", from);
		return NULL;
	}
	cap = n < (size_t)-1 / 4 ? n + n / 2 + 16 : 0;	/* grows on E2BIG */
	if (cap == 0 || (buf = malloc(cap)) == NULL) {
		iconv_close(cd);
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	out = buf;
	outleft = cap - 1;
	for (;;) {
		r = flushing ? iconv(cd, NULL, NULL, &out, &outleft)
		    : iconv(cd, &in, &inleft, &out, &outleft);
		if (r != (size_t)-1) {
			if (flushing)
				break;
			flushing = 1;	/* return a stateful encoding to its initial state */
			continue;
		}
		off = (size_t)(out - buf);
		if (errno == E2BIG && cap < (size_t)-1 / 2 && (nb = realloc(buf, cap * 2)) != NULL) {
			buf = nb;
			out = buf + off;
			outleft += cap;
			cap *= 2;
			continue;
		}
		if (errno == EILSEQ || errno == EINVAL) {
			err_set(e, EX_DATAERR, errno == EILSEQ ? "text is not valid %s"
			    : "text in %s ends inside a character", from);
			e->sys = EILSEQ;
		} else
			err_set(e, EX_OSERR, "out of memory");
		iconv_close(cd);
		free(buf);
		return NULL;
	}
	iconv_close(cd);
	*out = '\0';
	if (outlen != NULL)
		*outlen = (size_t)(out - buf);
	return buf;
}

char *
charset_to_utf8(const char *from, const void *p, size_t n, size_t *outlen, struct err *e)
{
	if (from == NULL)
		from = charset_locale();
	if (!charset_name_ok(from)) {
		err_set(e, EX_DATAERR, "bad charset name");
		e->sys = EINVAL;
		return NULL;
	}
	if (charset_is_utf8(from) || charset_is_ascii(from)) {
		/* Spare iconv the common cases; ASCII must be 7-bit, UTF-8 well-formed. */
		int ok = 1;
		size_t i;

		if (charset_is_utf8(from))
			ok = charset_utf8_valid(p, n);
		else
			for (i = 0; i < n && ok; i++)
				ok = !(((const unsigned char *)p)[i] & 0x80);
		if (!ok) {
			err_set(e, EX_DATAERR, "text is not valid %s", from);
			e->sys = EILSEQ;
			return NULL;
		}
		return dup_bytes(p, n, outlen, e);
	}
	return iconv_utf8(from, p, n, outlen, e);
}

char *
charset_utf8_repair(const void *p, size_t n, size_t *outlen, struct err *e)
{
	const uint8_t *s = p;
	char *r, *o;
	size_t i = 0;

	/* Each ill-formed byte may become U+FFFD (3 bytes). */
	if (n > ((size_t)-1 - 1) / 3) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	if ((r = malloc(n * 3 + 1)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	o = r;
	while (i < n) {
		ucs4_t uc;
		int k = u8_mbtoucr(&uc, s + i, n - i);

		if (k > 0) {
			memcpy(o, s + i, (size_t)k);
			o += k;
			i += (size_t)k;
		} else {
			/* One U+FFFD per maximal ill-formed subpart is Unicode's advice; one per
			 * byte is simpler and as safe. */
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	if (outlen != NULL)
		*outlen = (size_t)(o - r);
	return r;
}

char *
charset_to_utf8_lenient(const char *from, const void *p, size_t n, size_t *outlen, int *lossy,
    struct err *e)
{
	char *r;

	if (lossy != NULL)
		*lossy = 0;
	r = charset_to_utf8(from, p, n, outlen, e);
	if (r != NULL || e->code == EX_OSERR)
		return r;
	if (lossy != NULL)
		*lossy = !charset_utf8_valid(p, n) || !charset_is_utf8(from);
	err_clear(e);
	return charset_utf8_repair(p, n, outlen, e);
}

char *
charset_nfc(const char *utf8, size_t n, size_t *outlen, struct err *e)
{
	uint8_t *r;
	char *s;
	size_t len = 0;

	if (!charset_utf8_valid(utf8, n)) {
		err_set(e, EX_DATAERR, "text is not valid UTF-8");
		return NULL;
	}
	if (n == 0)
		return dup_bytes("", 0, outlen, e);
	r = u8_normalize(UNINORM_NFC, (const uint8_t *)utf8, n, NULL, &len);
	if (r == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	s = dup_bytes(r, len, outlen, e);
	free(r);
	return s;
}

char *
charset_nul_free(char *s, size_t n, struct err *e)
{
	size_t i, nul = 0;
	char *r, *o;

	for (i = 0; i < n; i++)
		nul += s[i] == '\0';
	if (nul == 0)
		return s;
	if ((r = malloc(n + 2 * nul + 1)) == NULL) {
		free(s);
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	for (i = 0, o = r; i < n; i++) {
		if (s[i] == '\0') {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	free(s);
	return r;
}

/* ---- streaming conversion ---- */

int
charset_conv_init(struct charset_conv *x, const char *from, struct err *e)
{
	iconv_t cd;

	memset(x, 0, sizeof *x);
	x->cd = NULL;
	if (from == NULL)
		from = charset_locale();
	if (!charset_name_ok(from)) {
		err_set(e, EX_DATAERR, "bad charset name");
		e->sys = EINVAL;
		return -1;
	}
	if ((cd = iconv_open("UTF-8", from)) == (iconv_t)-1) {
		if (errno == EINVAL) {
			err_set(e, EX_DATAERR, "unknown charset %s", from);
			e->sys = EINVAL;
			return -1;
		}
		return err_sys(e, EX_OSERR, "iconv_open %s", from);
	}
	x->cd = (void *)cd;
	memcpy(x->from, from, strlen(from) + 1);	/* charset_name_ok: at most 64 */
	return 0;
}

static int
conv_bad(struct charset_conv *x, unsigned long long at, int truncated, struct err *e)
{
	if (truncated)
		err_set(e, EX_DATAERR, "text in %s ends inside a character at byte %llu",
		    x->from, at);
	else
		err_set(e, EX_DATAERR, "text is not valid %s at byte %llu", x->from, at);
	e->sys = EILSEQ;
	return -1;
}

/* Run iconv over *in, sending full output buffers to the sink. Returns 0 when all input is
 * converted, 1 when the rest (*inleft bytes) is an incomplete character, -1 on error. The
 * offset of *in is x->off on entry and is kept up to date. */
static int
conv_run(struct charset_conv *x, const struct sink *s, char **in, size_t *inleft,
    struct err *e)
{
	for (;;) {
		char *out = x->out, *start = *in;
		size_t outleft = sizeof x->out, r;
		int er;

		r = iconv((iconv_t)x->cd, in, inleft, &out, &outleft);
		er = errno;
		x->off += (unsigned long long)(*in - start);
		if (out > x->out && sink_write(s, x->out, (size_t)(out - x->out), e) != 0)
			return -1;
		if (r != (size_t)-1)
			return 0;
		if (er == E2BIG)
			continue;
		if (er == EINVAL)
			return 1;
		if (er == EILSEQ)
			return conv_bad(x, x->off, 0, e);
		errno = er;
		return err_sys(e, EX_SOFTWARE, "iconv %s", x->from);
	}
}

int
charset_conv_write(struct charset_conv *x, const struct sink *s, const void *p, size_t n,
    struct err *e)
{
	const char *src = p;
	char *in;
	size_t inleft, take, had;
	int r;

	/* A character begun in the last chunk: complete it from this one first. */
	while (x->npend > 0 && n > 0) {
		had = x->npend;
		take = sizeof x->pend - had < n ? sizeof x->pend - had : n;
		memcpy(x->pend + had, src, take);
		in = (char *)x->pend;
		inleft = had + take;
		if ((r = conv_run(x, s, &in, &inleft, e)) < 0)
			return -1;
		if (r == 1 && inleft >= had + take && had + take == sizeof x->pend)
			return conv_bad(x, x->off, 0, e);	/* no character is that long */
		if (inleft <= take) {
			/* The pending bytes are used; inleft bytes of this chunk are left over
			 * (r == 1) or none. Go on with the chunk itself. */
			src += take - inleft;
			n -= take - inleft;
			x->npend = 0;
			continue;
		}
		/* Still inside a character that began in an earlier chunk. */
		if (take < n && r == 1)
			return conv_bad(x, x->off, 0, e);
		memmove(x->pend, in, inleft);
		x->npend = inleft;
		return 0;
	}
	if (n == 0)
		return 0;
	in = (char *)(uintptr_t)src;
	inleft = n;
	if ((r = conv_run(x, s, &in, &inleft, e)) < 0)
		return -1;
	if (r == 1) {
		if (inleft >= sizeof x->pend)
			return conv_bad(x, x->off, 0, e);
		memcpy(x->pend, in, inleft);
		x->npend = inleft;
	}
	return 0;
}

int
charset_conv_finish(struct charset_conv *x, const struct sink *s, struct err *e)
{
	char *out = x->out;
	size_t outleft = sizeof x->out;

	if (x->npend > 0)
		return conv_bad(x, x->off, 1, e);
	/* Return a stateful encoding to its initial state (ISO-2022-JP). */
	if (iconv((iconv_t)x->cd, NULL, NULL, &out, &outleft) == (size_t)-1)
		return err_sys(e, EX_SOFTWARE, "iconv %s", x->from);
	if (out > x->out && sink_write(s, x->out, (size_t)(out - x->out), e) != 0)
		return -1;
	return 0;
}

void
charset_conv_free(struct charset_conv *x)
{
	if (x->cd != NULL)
		iconv_close((iconv_t)x->cd);
	x->cd = NULL;
	x->npend = 0;
}
