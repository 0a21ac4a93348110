/* ar.c — Authentication-Results and Secmail-Decryption fields: reading the authserv-id the
 * way RFC 8601 §2.2 defines it, removing forged fields, and the decryption record. */
#include "ar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "rfc2047.h"

const char *
ar_default_authserv(char *buf, size_t n)
{
	if (gethostname(buf, n) != 0 || buf[0] == '\0')
		snprintf(buf, n, "localhost");
	buf[n - 1] = '\0';
	return buf;
}

/* Skip CFWS (RFC 5322 §3.2.2): white space, line breaks and comments, which nest and may
 * hold quoted-pairs. An unclosed comment runs to the end. */
static const char *
skip_cfws(const char *p)
{
	int depth;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		for (depth = 0; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

/* RFC 2045 §5.1 tspecials, plus space and controls: what ends a token. */
static int
is_tspecial(unsigned char c)
{
	return c <= ' ' || c == 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

int
ar_authserv(const char *value, char *out, size_t n)
{
	const char *p = skip_cfws(value);
	size_t k = 0;

	if (n == 0)
		return -1;
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (*p == '\r' || *p == '\n')
				continue;	/* a fold inside the string */
			if (k + 1 < n)
				out[k++] = *p;
		}
		if (*p != '"')
			return -1;
	} else {
		for (; *p != '\0' && !is_tspecial((unsigned char)*p); p++)
			if (k + 1 < n)
				out[k++] = *p;
	}
	out[k] = '\0';
	return k > 0 ? 0 : -1;
}

static int
same_id(const char *value, const char *authserv)
{
	char id[256];
	size_t n = strlen(authserv);

	if (ar_authserv(value, id, sizeof id) != 0)
		return 0;
	/* A trailing dot names the same host. */
	if (n > 0 && authserv[n - 1] == '.')
		n--;
	if (strlen(id) == n + 1 && id[n] == '.')
		id[n] = '\0';
	return strlen(id) == n && strncasecmp(id, authserv, n) == 0;
}

int
ar_claims(const char *value, const char *authserv)
{
	struct err e;
	char *d;
	int r;

	if (same_id(value, authserv))
		return 1;
	/* RFC 2047 has no place in an authserv-id, but mutt and Thunderbird's header view
	 * decode encoded-words in any field: "=?us-ascii?q?mx.example.org?=; smime=pass" is
	 * shown as our verdict. */
	if (strstr(value, "=?") == NULL || (d = rfc2047_decode(value, &e)) == NULL)
		return 0;
	r = same_id(d, authserv);
	free(d);
	return r;
}

size_t
ar_strip(struct msg_header *h, const char *authserv)
{
	size_t i, k = 0;

	for (i = h->n; i-- > 0;)
		if ((strcasecmp(h->f[i].name, AR_FIELD) == 0
		    || strcasecmp(h->f[i].name, AR_DECRYPT_FIELD) == 0)
		    && ar_claims(h->f[i].value, authserv)) {
			msg_header_delete(h, i);
			k++;
		}
	return k;
}

void
ar_add_quoted(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(b, '\\');
		buf_addc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
	}
	buf_addc(b, '"');
}

/* A cipher name as written in the record: letters, digits and "-" only. */
static int
cipher_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
		    || *s == '-'))
			return 0;
	return 1;
}

char *
ar_decrypt_value(const char *authserv, const struct ar_decrypt *d, struct err *e)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, authserv);
	if (d->result == AR_DEC_DECRYPTED) {
		if (!cipher_ok(d->cipher)) {
			err_set(e, EX_SOFTWARE, "bad cipher name for the decryption record");
			return NULL;
		}
		buf_addf(&b, "; decrypted cipher=%s integrity=%s", d->cipher, d->aead ? "aead"
		    : "none");
		if (!d->aead)
			buf_adds(&b, " (CBC: the content can be altered undetected unless it is "
			    "signed inside)");
	} else {
		buf_adds(&b, "; failed reason=");
		ar_add_quoted(&b, d->reason);
	}
	return buf_take(&b, e);
}

/* The next word of a record: letters, digits, "-", "." (after CFWS). */
static const char *
word(const char *p, char *out, size_t n)
{
	size_t k = 0;

	p = skip_cfws(p);
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
	    || *p == '-' || *p == '.') {
		if (k + 1 < n)
			out[k++] = *p;
		p++;
	}
	out[k] = '\0';
	return p;
}

int
ar_decrypt_parse(const char *value, struct ar_decrypt *d)
{
	const char *p = skip_cfws(value);
	char w[64], v[64];
	int got_cipher = 0, got_integrity = 0;
	size_t k;

	memset(d, 0, sizeof *d);
	/* Past the authserv-id (token or quoted-string) to the ";". */
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		if (*p++ != '"')
			return -1;
	} else {
		while (*p != '\0' && !is_tspecial((unsigned char)*p))
			p++;
	}
	p = skip_cfws(p);
	if (*p++ != ';')
		return -1;
	p = word(p, w, sizeof w);
	if (strcasecmp(w, "decrypted") == 0) {
		d->result = AR_DEC_DECRYPTED;
		for (;;) {
			p = word(p, w, sizeof w);
			if (w[0] == '\0')
				break;
			p = skip_cfws(p);
			if (*p++ != '=')
				return -1;
			p = word(p, v, sizeof v);
			if (strcasecmp(w, "cipher") == 0 && cipher_ok(v)
			    && strlen(v) < sizeof d->cipher) {
				memcpy(d->cipher, v, strlen(v) + 1);
				got_cipher = 1;
			} else if (strcasecmp(w, "integrity") == 0) {
				if (strcasecmp(v, "aead") == 0)
					d->aead = 1;
				else if (strcasecmp(v, "none") != 0)
					return -1;
				got_integrity = 1;
			}
		}
		return got_cipher && got_integrity && *skip_cfws(p) == '\0' ? 0 : -1;
	}
	if (strcasecmp(w, "failed") != 0)
		return -1;
	d->result = AR_DEC_FAILED;
	p = word(p, w, sizeof w);
	p = skip_cfws(p);
	if (strcasecmp(w, "reason") != 0 || *p++ != '=')
		return -1;
	p = skip_cfws(p);
	if (*p++ != '"')
		return -1;
	for (k = 0; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (k + 1 < sizeof d->reason)
			d->reason[k++] = *p;
	}
	d->reason[k] = '\0';
	if (*p++ != '"')
		return -1;
	return *skip_cfws(p) == '\0' ? 0 : -1;
}
