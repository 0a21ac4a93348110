/* policy.c — the S/MIME mail policy: one verdict from what the signature proves and what the
 * message shows (rules and order in policy.h and smime-verify(1)). */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/objects.h>

#include "addr.h"
#include "rfc2047.h"

static void
setf(char *why, size_t n, const char *fmt, ...) ERR_PRINTF(3, 4);

static void
setf(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

enum cms_verdict
policy_content_type(int nid, const char *name, char *why, size_t n)
{
	/* RFC 8551 §3.1: S/MIME signs MIME entities, carried as id-data. Anything else (a
	 * time-stamp token, a receipt) is a valid signature over something that is not mail. */
	if (nid == NID_pkcs7_data)
		return CMS_V_PASS;
	setf(why, n, "the signed content is %s, not a MIME entity (id-data): it is not mail",
	    name != NULL && *name ? name : "of an unknown type");
	return CMS_V_POLICY;
}

enum cms_verdict
policy_signing_time(time_t t, time_t now, char *why, size_t n)
{
	struct tm tm;
	char s[32];

	if (t == 0 || t <= now + POLICY_CLOCK_SKEW)
		return CMS_V_PASS;
	if (gmtime_r(&t, &tm) == NULL || strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(s, sizeof s, "?");
	setf(why, n, "the signing time %s is in the future (more than %d minutes ahead of this "
	    "host's clock)", s, POLICY_CLOCK_SKEW / 60);
	return CMS_V_POLICY;
}

static int
named(const char *spec, char *const *signer)
{
	size_t i;

	for (i = 0; signer[i] != NULL; i++)
		if (addr_spec_eq(spec, signer[i]))
			return (int)i + 1;
	return 0;
}

/* The one mailbox of a single Sender field that the certificate names, or NULL. */
static const char *
sender_named(const struct msg_header *h, char *const *signer, struct addr_list *l)
{
	const struct msg_field *f = msg_header_get(h, "Sender");
	struct err e;

	if (f == NULL || msg_header_count(h, "Sender") != 1 || addr_parse(f->value, l, &e) != 0
	    || l->n != 1 || !named(l->v[0].spec, signer))
		return NULL;
	return l->v[0].spec;
}

enum cms_verdict
policy_from(const struct msg_header *h, char *const *signer, int accept_sender, char **matched,
    int *by_sender, char *why, size_t n)
{
	struct addr_list l = { NULL, 0, 0 }, sl = { NULL, 0, 0 };
	const struct msg_field *f;
	const char *sender;
	char shown[256];
	size_t nfrom = msg_header_count(h, "From"), i;
	struct err e;
	int k;

	*matched = NULL;
	*by_sender = 0;
	/* RFC 5322 §3.6: exactly one From. With two, a reader may show either. */
	if (nfrom == 0) {
		setf(why, n, "the message has no From field to match the signer against");
		return CMS_V_POLICY;
	}
	if (nfrom > 1) {
		setf(why, n, "the message has %zu From fields (RFC 5322 allows one): a reader may "
		    "show either author", nfrom);
		return CMS_V_POLICY;
	}
	f = msg_header_get(h, "From");
	if (addr_parse(f->value, &l, &e) != 0) {
		setf(why, n, "the From field cannot be read (%s)", e.msg);
		return CMS_V_POLICY;
	}
	if (l.n == 0) {
		setf(why, n, "the From field names no mailbox");
		goto policy;
	}
	if (signer[0] == NULL) {
		setf(why, n, "the signer's certificate names no e-mail address");
		goto policy;
	}
	/* Every author the reader sees must be the signer. */
	for (i = 0; i < l.n; i++)
		if (!named(l.v[i].spec, signer))
			break;
	if (i < l.n) {
		if ((sender = sender_named(h, signer, &sl)) != NULL && accept_sender) {
			*by_sender = 1;
			*matched = strdup(signer[named(sender, signer) - 1]);
			addr_list_free(&sl);
			addr_list_free(&l);
			return CMS_V_PASS;
		}
		if (sender != NULL)
			setf(why, n, "the signer's certificate is for %s, the Sender, not for the From "
			    "address %s (the author a reader sees)", signer[named(sender, signer) - 1],
			    l.v[i].spec);
		else
			setf(why, n, "the signer's certificate is for %s, not for the From address %s",
			    signer[0], l.v[i].spec);
		addr_list_free(&sl);
		goto policy;
	}
	for (i = 0; i < l.n; i++)
		if (l.v[i].name != NULL && policy_name_spoof(l.v[i].name, l.v[i].spec, shown,
		    sizeof shown)) {
			setf(why, n, "the From display name shows the address %s, but the mailbox is "
			    "%s", shown, l.v[i].spec);
			goto policy;
		}
	/* Comments and group names are display names too: "mallory@example.net
	 * (alice@example.org)" is shown as alice@example.org by mutt, Python's parseaddr and
	 * webmail built on nodemailer's addressparser; so is a group "alice@example.org":. */
	if (policy_field_spoof(f->value, &l, shown, sizeof shown)) {
		setf(why, n, "the From field shows the address %s in a comment or group name, but "
		    "its mailbox is %s", shown, l.v[0].spec);
		goto policy;
	}
	k = named(l.v[0].spec, signer);
	*matched = strdup(signer[k - 1]);
	addr_list_free(&l);
	return CMS_V_PASS;
policy:
	addr_list_free(&l);
	return CMS_V_POLICY;
}

/* Characters that end an address-looking run in a display name. */
static int
stops(unsigned char c)
{
	return c <= ' ' || strchr("<>()[]\",;:", c) != NULL;
}

/* The "at" sign at p: "@", U+FF20 FULLWIDTH or U+FE6B SMALL COMMERCIAL AT; its length or 0. */
static size_t
at_sign(const unsigned char *p)
{
	if (p[0] == '@')
		return 1;
	if (p[0] == 0xef && ((p[1] == 0xbc && p[2] == 0xa0) || (p[1] == 0xb9 && p[2] == 0xab)))
		return 3;
	return 0;
}

/* Every address-looking run of text (RFC 2047 decoded here) must be one that own() accepts;
 * 1 with the first other one in shown, else 0. */
static int
spoof_scan(const char *text, int (*own)(const char *shown, const void *ctx), const void *ctx,
    char *shown, size_t n)
{
	struct err e;
	char *d = rfc2047_decode(text, &e);
	const unsigned char *s, *p, *a, *b;
	size_t at;
	int hit = 0;

	if (d == NULL)
		return 0;
	s = (const unsigned char *)d;
	for (p = s; *p != '\0' && !hit; p++) {
		if ((at = at_sign(p)) == 0)
			continue;
		for (a = p; a > s && !stops(a[-1]); a--)
			;
		for (b = p + at; *b != '\0' && !stops(*b); b++)
			;
		/* 'alice@example.org' (Outlook quotes names so), a full stop after it */
		while (a < p && *a == '\'')
			a++;
		while (b > p + at && (b[-1] == '\'' || b[-1] == '.'))
			b--;
		if (a == p || b == p + at)
			continue;	/* "Alice @ home": no address */
		snprintf(shown, n, "%.*s", (int)(b - a), (const char *)a);
		hit = !(at == 1 && own(shown, ctx));
		p = b - 1;
	}
	free(d);
	return hit;
}

static int
is_spec(const char *shown, const void *spec)
{
	return addr_spec_eq(shown, spec);
}

static int
in_list(const char *shown, const void *list)
{
	const struct addr_list *l = list;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (addr_spec_eq(shown, l->v[i].spec))
			return 1;
	return 0;
}

int
policy_name_spoof(const char *name, const char *spec, char *shown, size_t n)
{
	return spoof_scan(name, is_spec, spec, shown, n);
}

int
policy_field_spoof(const char *value, const struct addr_list *l, char *shown, size_t n)
{
	return spoof_scan(value, in_list, l, shown, n);
}

static int
same_outer(const struct msg_field *f, const struct msg_header *outer)
{
	size_t i, a, b;

	for (i = msg_header_next(outer, f->name, 0); i != (size_t)-1;
	    i = msg_header_next(outer, f->name, i + 1)) {
		a = strlen(f->value);
		b = strlen(outer->f[i].value);
		while (a > 0 && (f->value[a - 1] == ' ' || f->value[a - 1] == '\t'))
			a--;
		while (b > 0 && (outer->f[i].value[b - 1] == ' ' || outer->f[i].value[b - 1] == '\t'))
			b--;
		if (a == b && memcmp(f->value, outer->f[i].value, a) == 0)
			return 1;
	}
	return 0;
}

int
policy_inner_fields(const struct msg_header *entity, const struct msg_header *outer, char *why,
    size_t n)
{
	size_t i, j, len = 0;
	int k = 0;

	why[0] = '\0';
	for (i = 0; i < entity->n; i++) {
		const char *name = entity->f[i].name;

		if (msg_is_content_field(name) || same_outer(&entity->f[i], outer))
			continue;
		for (j = 0; j < i; j++)	/* each name once */
			if (strcasecmp(entity->f[j].name, name) == 0 && !msg_is_content_field(name)
			    && !same_outer(&entity->f[j], outer))
				break;
		if (j < i)
			continue;
		if (len + strlen(name) + 3 < n) {
			len += (size_t)snprintf(why + len, n - len, "%s%s", k ? ", " : "", name);
		} else if (len + 5 < n && !strstr(why, "...")) {
			len += (size_t)snprintf(why + len, n - len, ", ...");
		}
		k++;
	}
	return k > 0;
}

/* Append to the reason ("; " + text), truncating. */
static void
add_note(struct cms_result *r, const char *fmt, ...) ERR_PRINTF(2, 3);

static void
add_note(struct cms_result *r, const char *fmt, ...)
{
	size_t len = strlen(r->reason);
	va_list ap;

	if (len + 3 >= sizeof r->reason)
		return;
	if (len > 0) {
		memcpy(r->reason + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(r->reason + len, sizeof r->reason - len, fmt, ap);
	va_end(ap);
}

/* Replace the verdict and its reason (the arguments must not point into r->reason). */
static void
reword(struct cms_result *r, enum cms_verdict v, const char *fmt, ...) ERR_PRINTF(3, 4);

static void
reword(struct cms_result *r, enum cms_verdict v, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

/* The old reason with a prefix. */
static void
prefix(struct cms_result *r, enum cms_verdict v, const char *pre)
{
	char old[sizeof r->reason];

	size_t a = strlen(pre), b;

	memcpy(old, r->reason, sizeof old);
	r->verdict = v;
	if (a >= sizeof r->reason)
		a = sizeof r->reason - 1;
	memcpy(r->reason, pre, a);
	b = strlen(old);
	if (b > sizeof r->reason - 1 - a)
		b = sizeof r->reason - 1 - a;	/* truncated: the reason is one line for people */
	memcpy(r->reason + a, old, b);
	r->reason[a + b] = '\0';
}

static void
rule(struct cms_result *r, enum cms_verdict v, const char *why)
{
	if (r->verdict == CMS_V_PASS && v != CMS_V_PASS)
		reword(r, v, "%s", why);
}

/* Rule 5: wrapping (RFC 7281 body.smime-part names the part in the field). */
static void
wrapping(const struct policy_facts *f, struct cms_result *r)
{
	char pre[160], old[sizeof r->reason];
	const struct msg_field *from = msg_header_get(f->outer, "From");

	if (f->part == NULL)
		return;
	if (r->verdict != CMS_V_PASS) {
		snprintf(pre, sizeof pre, "part %s: ", f->part);
		prefix(r, r->verdict, pre);
		return;
	}
	memcpy(old, r->reason, sizeof old);
	if (f->forwarded)
		reword(r, CMS_V_POLICY, "only the message forwarded in part %s is signed (%.200s); "
		    "the message around it%s%.80s%s is not", f->part, old, from ? " (From: " : "",
		    from ? from->value : "", from ? ")" : "");
	else
		reword(r, CMS_V_POLICY, "only part %s is signed (%.250s); the rest of the message "
		    "is not", f->part, old);
}

/* Rule 6: what smime-decrypt did, and what that means for the message as a whole. */
static void
decryption(const struct ar_decrypt *d, struct cms_result *r)
{
	char pre[200];

	if (d->result == AR_DEC_FAILED) {
		reword(r, CMS_V_PERMERROR, "the message could not be decrypted: %.300s", d->reason);
		return;
	}
	if (d->aead) {
		snprintf(pre, sizeof pre, "decrypted (%s, authenticated encryption); ", d->cipher);
		prefix(r, r->verdict, pre);
		return;
	}
	/* CBC: integrity only from a signature inside (EFAIL, issue 9 item 10). */
	if (r->verdict == CMS_V_PASS) {
		snprintf(pre, sizeof pre, "decrypted (%s, no integrity protection of its own; the "
		    "signature inside covers the content); ", d->cipher);
		prefix(r, r->verdict, pre);
	} else if (r->verdict == CMS_V_NONE) {
		reword(r, CMS_V_NONE, "decrypted (%s, no integrity protection): the content is not "
		    "signed, so it may have been altered on the way", d->cipher);
	} else {
		snprintf(pre, sizeof pre, "decrypted (%s, no integrity protection; the content may "
		    "have been altered): ", d->cipher);
		prefix(r, r->verdict, pre);
	}
}

void
policy_apply(const struct policy_facts *f, struct cms_result *r)
{
	char why[sizeof r->reason];
	char *matched = NULL;
	int by_sender = 0;
	enum cms_verdict v;

	if (r->verdict == CMS_V_PASS)
		rule(r, policy_content_type(r->econtent_type, r->econtent_name, why, sizeof why), why);
	if (r->verdict == CMS_V_PASS)
		rule(r, policy_signing_time(r->signing_time, f->now, why, sizeof why), why);
	if (r->signer != NULL && r->signer_addrs != NULL) {
		v = policy_from(f->author, r->signer_addrs, f->accept_sender, &matched, &by_sender,
		    why, sizeof why);
		free(r->identifier);
		r->identifier = matched != NULL ? matched
		    : r->signer_addrs[0] != NULL ? strdup(r->signer_addrs[0]) : NULL;
		if (r->verdict == CMS_V_PASS && v != CMS_V_PASS)
			reword(r, v, "%s", why);
		else if (r->verdict == CMS_V_PASS && r->identifier != NULL)
			reword(r, CMS_V_PASS, "good signature by %s%s", r->identifier, by_sender
			    ? " (the Sender, accepted with --accept-sender; not the From address)" : "");
	}
	if (r->verdict == CMS_V_PASS && f->hp != NULL) {
		hp_describe(f->hp, why, 300);
		add_note(r, "%s", why);
	}
	if (r->verdict == CMS_V_PASS && f->entity != NULL
	    && (f->hp == NULL || f->hp->mode == HP_NONE)
	    && policy_inner_fields(f->entity, f->outer, why, 120))
		add_note(r, "the signed part carries header fields that differ from the message's, "
		    "not shown: %s", why);
	/* RFC 2634 §2.7: a receipt is due only for a valid signature (smime-receipt makes it) */
	if (r->verdict == CMS_V_PASS && r->receipt_request)
		add_note(r, "a signed receipt is requested%s%s", r->receipt_to[0] ? " to " : "",
		    r->receipt_to);
	if (r->verdict == CMS_V_PASS && r->enc_note[0] != '\0')
		add_note(r, "its encryption certificate was ignored: %s", r->enc_note);
	/* Issue 15: with several signers, or one this OpenSSL cannot check, each one's lot */
	if (r->verdict == CMS_V_PASS) {
		cms_signers_summary(r, why, sizeof why);
		if (why[0] != '\0')
			add_note(r, "%s", why);
	}
	/* Issue 13: a pass whose revocation status nobody could tell (soft mode) says so. */
	if (r->verdict == CMS_V_PASS && r->rev_note[0] != '\0')
		add_note(r, "%s", r->rev_note);
	wrapping(f, r);
	if (f->dec != NULL)
		decryption(f->dec, r);
}
