/* hp.c — RFC 9788 header protection: the payload header a sender writes, the outer header it
 * obscures, and the header a receiver shows, with what differed. */
#include "hp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "param.h"

const char *
hp_mode_name(enum hp_mode m)
{
	return m == HP_CLEAR ? "clear" : m == HP_CIPHER ? "cipher" : "none";
}

int
hp_mode_parse(const char *s, enum hp_mode *m)
{
	if (strcmp(s, "clear") == 0 || strcmp(s, "on") == 0)
		*m = HP_CLEAR;
	else if (strcmp(s, "cipher") == 0)
		*m = HP_CIPHER;
	else if (strcmp(s, "none") == 0 || strcmp(s, "off") == 0)
		*m = HP_NONE;
	else
		return -1;
	return 0;
}

static int
in_list(const char *name, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcasecmp(name, list[i]) == 0)
			return 1;
	return 0;
}

static int
is_content(const char *name)
{
	return strncasecmp(name, "Content-", 8) == 0;
}

int
hp_protectable(const char *name)
{
	/* Trace and transport fields (RFC 5321 §4.4, RFC 6376, RFC 8617), verdicts, Bcc. */
	static const char *const no[] = { "MIME-Version", "Received", "Return-Path",
	    "Delivered-To", "X-Original-To", "DKIM-Signature", "ARC-Seal",
	    "ARC-Message-Signature", "ARC-Authentication-Results", "Received-SPF",
	    "Authentication-Results", "Secmail-Decryption", HP_OUTER_FIELD, "Bcc", NULL };

	return !is_content(name) && !in_list(name, no);
}

int
hp_user_facing(const char *name)
{
	static const char *const yes[] = { "From", "Sender", "Reply-To", "To", "Cc", "Subject",
	    "Date", "Message-ID", "In-Reply-To", "References", "Keywords", "Comments",
	    "Followup-To", "Mail-Followup-To", "Mail-Reply-To", "Disposition-Notification-To",
	    NULL };

	return in_list(name, yes);
}

const char *
hp_hcp_baseline(const char *name, const char *value)
{
	if (strcasecmp(name, "Subject") == 0)
		return HP_OBSCURED_SUBJECT;
	if (strcasecmp(name, "Comments") == 0 || strcasecmp(name, "Keywords") == 0)
		return NULL;
	return value;
}

const char *
hp_hcp_none(const char *name, const char *value)
{
	(void)name;
	return value;
}

int
hp_complete(struct msg_header *h, time_t now, struct err *e)
{
	const struct msg_field *f = msg_header_get(h, "From");
	struct addr_list l = { NULL, 0, 0 };
	struct err ignore;
	int rc;

	if (f == NULL || msg_header_count(h, "From") != 1 || addr_parse(f->value, &l, &ignore) != 0)
		return 0;
	rc = l.n == 1 ? msg_complete_submission(h, l.v[0].spec, NULL, now, e) : 0;
	addr_list_free(&l);
	return rc;
}

/* A copy of s (n bytes) with every bare CR (one not before an LF) made a space: a reader
 * that takes a bare CR for a line end would otherwise see a field of the attacker's making
 * (a second From, an Authentication-Results claiming our authserv-id) inside another one. */
static char *
copy_no_bare_cr(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		p[i] = s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n') ? ' ' : s[i];
	p[n] = '\0';
	return p;
}

/* Insert a copy of f (its raw bytes kept, bare CRs made spaces) at index at of h. Not
 * through msg_fold: a field as it came need not be one we could fold (a word longer than a
 * line, a bare CR), and such a field must never stop the message from being written. */
static int
insert_raw(struct msg_header *h, size_t at, const struct msg_field *f, struct err *e)
{
	struct msg_field *g;
	char *name, *value, *raw;

	if (at > h->n)
		at = h->n;
	if (msg_header_insert(h, at, "X", "", e) != 0)
		return -1;
	name = strdup(f->name);
	value = copy_no_bare_cr(f->value, strlen(f->value));
	raw = copy_no_bare_cr(f->raw, f->rawlen);
	if (name == NULL || value == NULL || raw == NULL) {
		free(name);
		free(value);
		free(raw);
		msg_header_delete(h, at);
		return err_set(e, EX_OSERR, "out of memory");
	}
	g = &h->f[at];
	free(g->name);
	free(g->value);
	free(g->raw);
	g->name = name;
	g->value = value;
	g->raw = raw;
	g->rawlen = f->rawlen;
	return 0;
}

static int
add_raw(struct msg_header *h, const struct msg_field *f, struct err *e)
{
	return insert_raw(h, h->n, f, e);
}

/* A field for comparing only (never written): name and value, not folded, so that a value
 * that could not be folded stops nothing. */
static int
add_unfolded(struct msg_header *h, const char *name, const char *value, struct err *e)
{
	struct msg_field f;

	memset(&f, 0, sizeof f);
	f.name = (char *)name;
	f.value = (char *)value;
	f.raw = (char *)value;
	f.rawlen = strlen(value);
	return insert_raw(h, h->n, &f, e);
}

/* insert_raw for a field from another entity (the payload is canonical, CRLF): its line
 * ends become h's, so that a reader never meets a header with two kinds. */
static int
insert_raw_eol(struct msg_header *h, size_t at, const struct msg_field *f, struct err *e)
{
	struct msg_field g = *f;
	struct buf b = BUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < f->rawlen; i++) {
		if (f->raw[i] == '\r' && i + 1 < f->rawlen && f->raw[i + 1] == '\n')
			continue;
		if (f->raw[i] == '\n')
			buf_adds(&b, h->crlf ? "\r\n" : "\n");
		else if (f->raw[i] == '\r')
			buf_addc(&b, ' ');	/* bare: see copy_no_bare_cr */
		else
			buf_add(&b, f->raw + i, 1);
	}
	if (buf_check(&b, e) != 0)
		return -1;
	g.raw = b.p != NULL ? b.p : f->raw;
	g.rawlen = b.len;
	rc = insert_raw(h, at, &g, e);
	buf_free(&b);
	return rc;
}

/* The Content-Type value with hp=mode (RFC 9788 §2.1.1), the old hp parameter dropped. */
static char *
content_type_hp(const char *value, enum hp_mode mode, struct err *e)
{
	struct mime_type ct;
	struct buf b = BUF_INIT;
	size_t i;

	if (value == NULL || mime_type_parse(value, 0, &ct, e) != 0) {
		/* RFC 2045 §5.2: no (or an unreadable) Content-Type is text/plain */
		buf_adds(&b, "text/plain; charset=us-ascii");
	} else {
		buf_addf(&b, "%s/%s", ct.type, ct.subtype);
		for (i = 0; i < ct.nparams; i++)
			if (strcmp(ct.params[i].name, "hp") != 0
			    && mime_param_append(&b, ct.params[i].name, ct.params[i].value, e) != 0) {
				mime_type_free(&ct);
				buf_free(&b);
				return NULL;
			}
		mime_type_free(&ct);
	}
	if (mime_param_append(&b, "hp", hp_mode_name(mode), e) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, e);
}

int
hp_payload_header(const struct msg_header *h, enum hp_mode mode, hp_hcp hcp,
    struct msg_header *out, struct err *e)
{
	const struct msg_field *ctf = msg_header_get(h, "Content-Type");
	struct buf b = BUF_INIT;
	char *ct;
	const char *v;
	size_t i;
	int rc;

	msg_header_init(out);
	out->crlf = h->crlf;
	for (i = 0; i < h->n; i++)
		if (hp_protectable(h->f[i].name) && add_raw(out, &h->f[i], e) != 0)
			return -1;
	/* RFC 9788 §2.2: what the outer header will carry, after the policy. */
	for (i = 0; mode == HP_CIPHER && i < h->n; i++) {
		if (!hp_protectable(h->f[i].name)
		    || (v = (hcp != NULL ? hcp : hp_hcp_baseline)(h->f[i].name, h->f[i].value))
		    == NULL)
			continue;
		buf_reset(&b);
		buf_addf(&b, "%s: %s", h->f[i].name, v);
		if (buf_check(&b, e) != 0 || msg_header_add(out, HP_OUTER_FIELD, b.p, e) != 0) {
			buf_free(&b);
			return -1;
		}
	}
	buf_free(&b);
	if ((ct = content_type_hp(ctf != NULL ? ctf->value : NULL, mode, e)) == NULL)
		return -1;
	rc = msg_header_add(out, "Content-Type", ct, e);
	free(ct);
	if (rc != 0)
		return -1;
	for (i = 0; i < h->n; i++)
		if (is_content(h->f[i].name) && strcasecmp(h->f[i].name, "Content-Type") != 0
		    && add_raw(out, &h->f[i], e) != 0)
			return -1;
	return 0;
}

int
hp_obscure(struct msg_header *h, struct err *e)
{
	struct msg_field f;
	const char *v;
	size_t i;
	int n = 0;

	for (i = h->n; i-- > 0;) {
		if (!hp_protectable(h->f[i].name))
			continue;
		v = hp_hcp_baseline(h->f[i].name, h->f[i].value);
		if (v == h->f[i].value)
			continue;
		n++;
		f = h->f[i];
		if (v == NULL) {
			msg_header_delete(h, i);
			continue;
		}
		/* the new field, then the old one goes */
		if (msg_header_insert(h, i, f.name, v, e) != 0)
			return -1;
		msg_header_delete(h, i + 1);
	}
	return n;
}

enum hp_mode
hp_mode_of(const struct msg_header *payload)
{
	const struct msg_field *f = msg_header_get(payload, "Content-Type");
	struct mime_type ct;
	struct err e;
	const char *v;
	enum hp_mode m = HP_NONE;

	if (f == NULL || mime_type_parse(f->value, 0, &ct, &e) != 0)
		return HP_NONE;
	if ((v = mime_type_param(&ct, "hp")) != NULL)
		m = strcasecmp(v, "clear") == 0 ? HP_CLEAR : strcasecmp(v, "cipher") == 0
		    ? HP_CIPHER : HP_NONE;
	mime_type_free(&ct);
	return m;
}

/* ---- receiving ---- */

/* A field value compared as a reader would see it: folding white space as one space,
 * none at the ends. */
static int
same_value(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ' || *a == '\t')
			a++;
		while (*b == ' ' || *b == '\t')
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		while (*a != '\0' && *a != ' ' && *a != '\t' && *a == *b) {
			a++;
			b++;
		}
		if ((*a == ' ' || *a == '\t' || *a == '\0') && (*b == ' ' || *b == '\t' || *b == '\0'))
			continue;
		return 0;
	}
}

/* Do h and ref carry the same values (in the same order) for name? */
static int
same_fields(const struct msg_header *h, const struct msg_header *ref, const char *name)
{
	size_t i = msg_header_next(h, name, 0), j = msg_header_next(ref, name, 0);

	while (i != (size_t)-1 && j != (size_t)-1) {
		if (!same_value(h->f[i].value, ref->f[j].value))
			return 0;
		i = msg_header_next(h, name, i + 1);
		j = msg_header_next(ref, name, j + 1);
	}
	return i == j;
}

/* Does the payload protect this field? Only a field a sender protects counts: a trace field,
 * a verdict (Authentication-Results, Secmail-Decryption) or a Bcc inside the payload is the
 * sender's claim, never shown, and never hides the outer one (an MTA's Received, our own
 * record). */
static int
protects(const struct msg_header *payload, const char *name)
{
	return hp_protectable(name) && msg_header_get(payload, name) != NULL;
}

/* Date and Message-ID that the sender did not protect stay (an MTA adds them when missing):
 * dropping them would break threads. Other fields a reader sees do not. */
static int
kept_unprotected(const char *name)
{
	return strcasecmp(name, "Date") == 0 || strcasecmp(name, "Message-ID") == 0;
}

static void
list_add(char *list, size_t n, const char *name)
{
	size_t len = strlen(list), k = strlen(name);
	const char *p;

	/* each name once */
	for (p = list; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 2 : 0))
		if (strncasecmp(p, name, k) == 0 && (p[k] == ',' || p[k] == '\0'))
			return;
	if (len + k + 3 < n)
		snprintf(list + len, n - len, "%s%s", len ? ", " : "", name);
	else if (len + 5 < n && strstr(list, "...") == NULL)
		snprintf(list + len, n - len, ", ...");
}

/* The HP-Outer fields of payload as a header of their own ("HP-Outer: Subject: [...]" gives
 * Subject: [...]). 1 when there was any, 0 none, -1 out of memory. */
static int
hp_outer_fields(const struct msg_header *payload, struct msg_header *ref, struct err *e)
{
	char name[128];
	const char *v, *colon;
	size_t i, k;
	int any = 0;

	msg_header_init(ref);
	for (i = msg_header_next(payload, HP_OUTER_FIELD, 0); i != (size_t)-1;
	    i = msg_header_next(payload, HP_OUTER_FIELD, i + 1)) {
		v = payload->f[i].value;
		any = 1;
		if ((colon = strchr(v, ':')) == NULL || (k = (size_t)(colon - v)) == 0
		    || k >= sizeof name)
			continue;
		memcpy(name, v, k);
		name[k] = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (strpbrk(name, " \t") != NULL)
			continue;
		if (add_unfolded(ref, name, v, e) != 0)
			return -1;
	}
	return any;
}

/* Is name the same outside as in ref, or (obscured, for a message that came encrypted) as
 * the baseline policy would have made it outside? */
static int
same_or_obscured(const struct msg_header *outer, const struct msg_header *ref,
    const struct msg_header *obscured, const char *name)
{
	return same_fields(outer, ref, name)
	    || (obscured != NULL && same_fields(outer, obscured, name));
}

static void
compare(const struct msg_header *outer, const struct msg_header *ref,
    const struct msg_header *payload, const struct msg_header *obscured, struct hp_info *info)
{
	const struct msg_header *both[2] = { outer, ref };
	size_t k, i;

	for (k = 0; k < 2; k++)
		for (i = 0; i < both[k]->n; i++) {
			const char *name = both[k]->f[i].name;

			if (!hp_user_facing(name) || same_or_obscured(outer, ref, obscured, name))
				continue;
			if (protects(payload, name) || msg_header_get(ref, name) != NULL)
				list_add(info->differ, sizeof info->differ, name);
			else if (!kept_unprotected(name))
				list_add(info->added, sizeof info->added, name);
		}
}

/* The protected fields as hcp_baseline leaves them outside. */
static int
obscured_copy(const struct msg_header *payload, struct msg_header *out, struct err *e)
{
	size_t i;

	msg_header_init(out);
	for (i = 0; i < payload->n; i++)
		if (protects(payload, payload->f[i].name)
		    && add_unfolded(out, payload->f[i].name, payload->f[i].value, e) != 0)
			return -1;
	return hp_obscure(out, e) < 0 ? -1 : 0;
}

static int
merge(const struct msg_header *outer, const struct msg_header *payload, int encrypted,
    struct msg_header *out, struct hp_info *info, struct err *e)
{
	struct msg_header ref;
	size_t i, at = (size_t)-1;
	int any;

	memset(info, 0, sizeof *info);
	msg_header_init(out);
	out->crlf = outer->crlf;
	info->mode = hp_mode_of(payload);
	info->trusted_cipher = info->mode == HP_CIPHER && encrypted;
	info->cipher_ignored = info->mode == HP_CIPHER && !encrypted;
	for (i = 0; i < outer->n; i++) {
		const char *name = outer->f[i].name;

		/* HP-Outer means something only inside the payload: one outside is noise */
		if (is_content(name) || strcasecmp(name, HP_OUTER_FIELD) == 0)
			continue;
		if (protects(payload, name) || (hp_user_facing(name) && !kept_unprotected(name))) {
			if (at == (size_t)-1)
				at = out->n;
			continue;
		}
		if (add_raw(out, &outer->f[i], e) != 0)
			return -1;
	}
	if (at == (size_t)-1)
		at = out->n;
	for (i = 0; i < payload->n; i++)
		if (protects(payload, payload->f[i].name)
		    && insert_raw_eol(out, at++, &payload->f[i], e) != 0)
			return -1;
	/* What differed: against HP-Outer when it can be believed (RFC 9788 §2.2), else against
	 * the protected fields themselves. */
	if (info->trusted_cipher) {
		if ((any = hp_outer_fields(payload, &ref, e)) < 0) {
			msg_header_free(&ref);
			return -1;
		}
		if (any) {
			compare(outer, &ref, payload, NULL, info);
			for (i = 0; i < payload->n; i++)
				if (hp_user_facing(payload->f[i].name)
				    && protects(payload, payload->f[i].name)
				    && !same_fields(payload, &ref, payload->f[i].name))
					list_add(info->confidential, sizeof info->confidential,
					    payload->f[i].name);
		}
		msg_header_free(&ref);
		return 0;
	}
	if (!encrypted) {
		compare(outer, payload, payload, NULL, info);
		return 0;
	}
	/* Encrypted without HP-Outer to go by (a signed hp=clear part that smime-encrypt
	 * wrapped): what the baseline policy obscures outside is not an alteration. */
	if (obscured_copy(payload, &ref, e) != 0) {
		msg_header_free(&ref);
		return -1;
	}
	compare(outer, payload, payload, &ref, info);
	for (i = 0; i < payload->n; i++)
		if (hp_user_facing(payload->f[i].name) && !same_fields(payload, &ref,
		    payload->f[i].name) && same_fields(outer, &ref, payload->f[i].name))
			list_add(info->confidential, sizeof info->confidential, payload->f[i].name);
	msg_header_free(&ref);
	return 0;
}

int
hp_merge(const struct msg_header *outer, const struct msg_header *payload, int encrypted,
    struct msg_header *out, struct hp_info *info, struct err *e)
{
	if (merge(outer, payload, encrypted, out, info, e) == 0)
		return 0;
	msg_header_free(out);
	return -1;
}

void
hp_describe(const struct hp_info *info, char *buf, size_t n)
{
	size_t len;

	if (n == 0)
		return;
	if (info->mode == HP_NONE) {
		snprintf(buf, n, "the header is not protected (only the content is)");
		return;
	}
	snprintf(buf, n, "the header is protected (hp=%s)", hp_mode_name(info->mode));
	len = strlen(buf);
	if (info->cipher_ignored && len < n)
		len += (size_t)snprintf(buf + len, n - len, ", but the message was not encrypted: "
		    "taken as hp=clear, HP-Outer ignored");
	if (info->confidential[0] != '\0' && len < n)
		len += (size_t)snprintf(buf + len, n - len, "; confidential: %s", info->confidential);
	if (info->differ[0] != '\0' && len < n)
		len += (size_t)snprintf(buf + len, n - len, "; altered outside, the %s %s shown: %s",
		    info->outer_written ? "altered" : "protected",
		    strchr(info->differ, ',') ? "ones" : "one", info->differ);
	if (info->added[0] != '\0' && len < n)
		snprintf(buf + len, n - len, "; added outside, %s: %s", info->outer_written
		    ? "shown" : "not shown", info->added);
}
