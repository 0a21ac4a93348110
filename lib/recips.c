/* recips.c — resolving the recipients of an encrypted message. */
#include "recips.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "certstore.h"

void
recips_opts_init(struct recips_opts *o)
{
	memset(o, 0, sizeof *o);
	keys_opts_init(&o->keys);
}

int
recips_opts_add(struct recips_strlist *l, const char *s)
{
	char **v;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		if ((v = realloc(l->v, l->cap * sizeof *v)) == NULL)
			return -1;
		l->v = v;
	}
	if ((l->v[l->n] = strdup(s)) == NULL)
		return -1;
	l->n++;
	return 0;
}

static void
strlist_free(struct recips_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

void
recips_opts_free(struct recips_opts *o)
{
	strlist_free(&o->files);
	strlist_free(&o->addrs);
}

static int
strlist_has(const struct recips_strlist *l, const char *addr)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (addr_spec_eq(l->v[i], addr))
			return 1;
	return 0;
}

/* The addresses a certificate names (keys_cert_addrs: RFC 8550 §3), appended to l. */
static int
cert_addrs(X509 *cert, struct recips_strlist *l, struct err *e)
{
	char **v = keys_cert_addrs(cert, e);
	size_t i;
	int rc = 0;

	if (v == NULL)
		return -1;
	for (i = 0; v[i] != NULL && rc == 0; i++)
		if (recips_opts_add(l, v[i]) != 0)
			rc = err_sys(e, EX_OSERR, "out of memory");
	keys_addrs_free(v);
	return rc;
}

/* Add cert to r->certs unless an equal one is there (de-duplication). */
static int
add_cert(struct recips *r, X509 *cert, struct err *e)
{
	int i;

	for (i = 0; i < sk_X509_num(r->certs); i++)
		if (X509_cmp(sk_X509_value(r->certs, i), cert) == 0)
			return 0;
	if (!X509_up_ref(cert) || !sk_X509_push(r->certs, cert)) {
		X509_free(cert);
		return err_sys(e, EX_OSERR, "out of memory");
	}
	return 0;
}

struct failures {
	struct buf b;
	int n;
	int unavailable;	/* issue 15: how many were algorithms this OpenSSL lacks */
};

/* A certificate refused for its algorithm (EX_UNAVAILABLE: X25519, ML-KEM without
 * KEMRecipientInfo) counts, so that a refusal for that alone exits 69. */
static void
fail_add_why(struct failures *f, const char *addr, const struct err *why)
{
	if (why->code == EX_UNAVAILABLE)
		f->unavailable++;
	buf_addf(&f->b, "%s%s: %s", f->n++ ? "; " : "", addr, why->msg);
}

static void
fail_add(struct failures *f, const char *addr, const char *why)
{
	buf_addf(&f->b, "%s%s: %s", f->n++ ? "; " : "", addr, why);
}

/* The addresses of the fields named `name` in h, appended to l (de-duplicated). */
static int
field_addrs(const struct msg_header *h, const char *name, struct recips_strlist *l,
    struct err *e)
{
	struct addr_list al = { 0 };
	size_t i, j;

	for (i = msg_header_next(h, name, 0); i != (size_t)-1; i = msg_header_next(h, name, i + 1)) {
		if (addr_parse(h->f[i].value, &al, e) != 0) {
			addr_list_free(&al);
			return err_wrap(e, "%s", name);
		}
	}
	for (j = 0; j < al.n; j++)
		if (!strlist_has(l, al.v[j].spec) && recips_opts_add(l, al.v[j].spec) != 0) {
			addr_list_free(&al);
			return err_sys(e, EX_OSERR, "out of memory");
		}
	addr_list_free(&al);
	return 0;
}

static void
utc(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, n, "?");
}

/* Issue 13: the validity dates at o->now, named ("since when"), then env_cert_usable, then
 * revocation. 0 usable, else why is set. */
static int
usable(const struct recips_opts *o, X509 *x, STACK_OF(X509) *chain, struct err *why)
{
	time_t now = o->now ? o->now : time(NULL), t;
	struct revoke_answer a;
	struct tm tm;
	char s[40];
	X509 *issuer;

	if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0) {
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) && (t = timegm(&tm)) != -1) {
			utc(t, s, sizeof s);
			return err_set(why, EX_DATAERR, "certificate has expired (since %s, %lld "
			    "days ago)", s, (long long)(now - t) / 86400);
		}
		return err_set(why, EX_DATAERR, "certificate has expired");
	}
	if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0) {
		if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) && (t = timegm(&tm)) != -1) {
			utc(t, s, sizeof s);
			return err_set(why, EX_DATAERR, "certificate is not yet valid (not before "
			    "%s)", s);
		}
		return err_set(why, EX_DATAERR, "certificate is not yet valid");
	}
	if (env_cert_usable(x, why) != 0)
		return -1;
	if (o->revoke == NULL)
		return 0;
	if ((issuer = revoke_find_issuer(x, chain)) == NULL)
		issuer = revoke_find_issuer(x, o->issuers);
	if (issuer == NULL)
		return revoke_mode(o->revoke) == REVOKE_STRICT ? err_set(why, EX_DATAERR,
		    "revocation status unknown: the certificate of its issuer is not known "
		    "(strict revocation checking)") : 0;
	if (revoke_check(o->revoke, x, issuer, &a, why) != 0)
		return -1;
	if (a.status == REVOKE_REVOKED) {
		utc(a.when, s, sizeof s);
		return err_set(why, EX_DATAERR, "certificate was revoked on %s (%s; %.200s)", s,
		    revoke_reason_name(a.reason), a.source);
	}
	if (a.status == REVOKE_UNKNOWN && revoke_mode(o->revoke) == REVOKE_STRICT)
		return err_set(why, EX_DATAERR, "revocation status unknown (%.300s; strict "
		    "revocation checking)", a.asked ? a.why : "no CRL distribution point or OCSP "
		    "responder");
	return 0;
}

/* Certificates named by -r files, each checked; the addresses they cover go to covered. */
static int
load_files(const struct recips_opts *o, const struct recips_strlist *files,
    STACK_OF(X509) *out, struct recips_strlist *covered, struct failures *f, struct err *e)
{
	size_t i;
	int j;

	for (i = 0; i < files->n; i++) {
		STACK_OF(X509) *xs = NULL;

		if (keys_load_certs(files->v[i], &xs, e) != 0)
			return -1;
		for (j = 0; j < sk_X509_num(xs); j++) {
			X509 *x = sk_X509_value(xs, j);
			struct recips_strlist names = { 0 };
			struct err why;

			if (cert_addrs(x, &names, e) != 0) {
				sk_X509_pop_free(xs, X509_free);
				return -1;
			}
			if (usable(o, x, xs, &why) != 0) {
				fail_add_why(f, names.n ? names.v[0] : files->v[i], &why);
			} else {
				size_t k;

				for (k = 0; k < names.n; k++)
					if (!strlist_has(covered, names.v[k]))
						recips_opts_add(covered, names.v[k]);
				for (k = 0; k < (size_t)sk_X509_num(out); k++)
					if (X509_cmp(sk_X509_value(out, (int)k), x) == 0)
						break;
				if (k == (size_t)sk_X509_num(out) && (!X509_up_ref(x)
				    || !sk_X509_push(out, x))) {
					strlist_free(&names);
					sk_X509_pop_free(xs, X509_free);
					return err_sys(e, EX_OSERR, "out of memory");
				}
			}
			strlist_free(&names);
		}
		sk_X509_pop_free(xs, X509_free);
	}
	return 0;
}

/* Does cert name addr, whatever the case? The store keys its entries by the lowercased
 * address (certstore.h), so the local part's case is not known there. */
static int
cert_names_ci(X509 *cert, const char *addr)
{
	struct err ignore;
	char **v = keys_cert_addrs(cert, &ignore);
	size_t i;
	int yes = 0;

	for (i = 0; v != NULL && v[i] != NULL && !yes; i++)
		yes = strcasecmp(v[i], addr) == 0;
	keys_addrs_free(v);
	return yes;
}

/* Look addr up in the store: a usable certificate, what it announced, and the cipher last
 * seen in mail from it (*prev; ENV_CIPHER_NONE if none). */
static X509 *
store_cert(const struct recips_opts *o, struct certstore *cs, const char *addr,
    enum env_cipher *caps, int *known, enum env_cipher *prev, struct failures *f,
    X509 **classic)
{
	struct certstore_entry ent;
	struct err why;
	X509 *x;
	int i, n = 0;

	*known = 0;
	*prev = ENV_CIPHER_NONE;
	if (cs == NULL || certstore_get(cs, addr, &ent, &why) != 0) {
		fail_add(f, addr, cs == NULL ? "no certificate (no certificate store)" :
		    why.code == EX_NOINPUT || why.sys == 2 ? "no certificate in the store" : why.msg);
		return NULL;
	}
	/* Every way into the store files a certificate under the addresses it names
	 * (smime-verify --save-certs, smime-certs): one that does not name addr was put there by
	 * hand or by someone else (a planted file, a symlink to another entry), and would take
	 * the mail meant for addr. */
	if (!cert_names_ci(ent.cert, addr) || (ent.signer != NULL
	    && !cert_names_ci(ent.signer, addr))) {
		fail_add(f, addr, "the store entry's certificate does not name this address "
		    "(a planted or altered entry?): refused");
		certstore_entry_free(&ent);
		return NULL;
	}
	x = ent.cert;
	ent.cert = NULL;
	/* Issue 15: an encryption certificate of an algorithm this OpenSSL cannot encrypt to
	 * (ML-KEM without KEMRecipientInfo, X25519), beside a signer's certificate that can
	 * receive mail: that one, as before. */
	if (ent.enc_separate && ent.signer != NULL && usable(o, x, ent.chain, &why) != 0 && why.code == EX_UNAVAILABLE
	    && usable(o, ent.signer, ent.chain, &why) == 0) {
		X509_free(x);
		x = ent.signer;
		ent.signer = NULL;
		ent.enc_separate = 0;
	}
	if (usable(o, x, ent.chain, &why) != 0) {
		fail_add_why(f, addr, &why);
		certstore_entry_free(&ent);
		X509_free(x);
		return NULL;
	}
	/* Issue 15, hybrid: an entry whose encryption certificate is ML-KEM and whose signer's
	 * certificate can receive mail too (RSA or EC) gives both, so that the envelope opens
	 * with either key: harvest-now-decrypt-later protection from the first, older clients
	 * keep working with the second. */
	if (classic != NULL) {
		*classic = NULL;
		if (ent.enc_separate && ent.signer != NULL && env_cert_is_mlkem(x, NULL)
		    && usable(o, ent.signer, ent.chain, &why) == 0) {
			*classic = ent.signer;
			ent.signer = NULL;
		}
	}
	for (i = 0; i < ent.ncaps && n < ENV_NCIPHERS; i++) {
		enum env_cipher c = env_cipher_from_nid(ent.caps[i]);

		if (c != ENV_CIPHER_NONE)
			caps[n++] = c;
	}
	caps[n] = ENV_CIPHER_NONE;
	*known = ent.ncaps > 0;
	*prev = env_cipher_from_nid(ent.received_cipher);
	certstore_entry_free(&ent);
	return x;
}

/* --cert-dir, else $SECMAIL_CERT_DIR, else $XDG_DATA_HOME/secmail/certs, else
 * ~/.local/share/secmail/certs; NULL if none can be named. */
const char *
recips_cert_dir(const char *given, char *buf, size_t n)
{
	const char *d;

	if (given != NULL)
		return given;
	if ((d = getenv("SECMAIL_CERT_DIR")) != NULL && *d != '\0')
		return d;
	return certstore_default_dir(buf, n);	/* the one smime-verify fills */
}

/* What -r certificate x is to Bcc address addr: it does not name addr (OTHER), it names addr
 * and no To or Cc address (BCC: the Bcc copy only), or addr and a To or Cc address too
 * (SHARED: one key holder, in both). -1 on error. */
enum { BCC_CERT_OTHER, BCC_CERT_BCC, BCC_CERT_SHARED };

static int
bcc_cert_role(X509 *x, const char *addr, const struct recips_strlist *to, struct err *e)
{
	struct recips_strlist names = { 0 };
	size_t k;
	int role = BCC_CERT_OTHER;

	if (cert_addrs(x, &names, e) != 0) {
		strlist_free(&names);
		return -1;
	}
	if (strlist_has(&names, addr)) {
		role = BCC_CERT_BCC;
		for (k = 0; k < names.n; k++)
			if (strlist_has(to, names.v[k]))
				role = BCC_CERT_SHARED;
	}
	strlist_free(&names);
	return role;
}

/* Issue 15, RFC 9936 security considerations: the content-encryption key should be as strong
 * as the KEM that protects it. With an ML-KEM-768/1024 recipient, AES-256 in the mode chosen
 * (every client that opens KEMRecipientInfo has it). */
static void
strength_for_mlkem(struct recips *r)
{
	size_t b;
	int i, level, strong = 0;

	/* the shared envelope's certificates, then each Bcc copy's (one cipher for all) */
	for (i = 0; i < sk_X509_num(r->certs) && !strong; i++)
		strong = env_cert_is_mlkem(sk_X509_value(r->certs, i), &level) && level >= 768;
	for (b = 0; b < r->nbcc && !strong; b++)
		for (i = 0; i < sk_X509_num(r->bcc[b].certs) && !strong; i++)
			strong = env_cert_is_mlkem(sk_X509_value(r->bcc[b].certs, i), &level)
			    && level >= 768;
	if (!strong)
		return;
	if (r->cipher == ENV_AES128_GCM)
		r->cipher = ENV_AES256_GCM;
	else if (r->cipher == ENV_AES128_CBC)
		r->cipher = ENV_AES256_CBC;
}

int
recips_resolve(const struct recips_opts *o, const struct msg_header *h, int want_bcc,
    struct recips *r, struct err *e)
{
	struct recips_strlist to = { 0 }, bcc = { 0 }, covered = { 0 };
	struct failures f = { BUF_INIT, 0, 0 };
	struct certstore *cs = NULL;
	enum env_cipher (*caps)[ENV_NCIPHERS + 1] = NULL;
	const enum env_cipher **capp = NULL;
	enum env_cipher *prev = NULL;
	const char *dir, *self;
	char dirbuf[4096];
	size_t i, nc = 0;
	int rc = -1, known, resent;

	memset(r, 0, sizeof *r);
	r->cipher = ENV_DEFAULT_CIPHER;
	if ((r->certs = sk_X509_new_null()) == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	/* A re-sent message goes to its Resent- addresses (as mailsend and sendmail -t send it):
	 * they are the ones who must be able to read it. */
	resent = msg_is_resent(h);
	if (!o->only_named && (field_addrs(h, resent ? "Resent-To" : "To", &to, e) != 0
	    || field_addrs(h, resent ? "Resent-Cc" : "Cc", &to, e) != 0
	    || field_addrs(h, resent ? "Resent-Bcc" : "Bcc", &bcc, e) != 0))
		goto out;
	for (i = 0; i < o->addrs.n; i++)
		if (!strlist_has(&to, o->addrs.v[i]) && recips_opts_add(&to, o->addrs.v[i]) != 0)
			goto oom;
	if (load_files(o, &o->files, r->certs, &covered, &f, e) != 0)
		goto out;
	if ((dir = recips_cert_dir(o->cert_dir, dirbuf, sizeof dirbuf)) != NULL && certstore_open(&cs, dir, e) != 0)
		goto out;
	caps = calloc(to.n + bcc.n + 1, sizeof *caps);
	capp = calloc(to.n + bcc.n + 1, sizeof *capp);
	prev = calloc(to.n + bcc.n + 1, sizeof *prev);
	if (caps == NULL || capp == NULL || prev == NULL)
		goto oom;
	for (i = 0; i < to.n + bcc.n + 1; i++)
		prev[i] = ENV_CIPHER_NONE;
	/* Recipients given as files have no known capabilities: they count as unknown. */
	if (sk_X509_num(r->certs) > 0)
		capp[nc++] = NULL;
	for (i = 0; i < to.n; i++) {
		X509 *x, *classic = NULL;

		if (strlist_has(&covered, to.v[i]))
			continue;
		if ((x = store_cert(o, cs, to.v[i], caps[nc], &known, &prev[nc], &f, &classic))
		    == NULL)
			continue;
		capp[nc] = known ? caps[nc] : NULL;
		nc++;
		rc = add_cert(r, x, e);
		X509_free(x);
		if (rc == 0 && classic != NULL)
			rc = add_cert(r, classic, e);
		X509_free(classic);
		if (rc != 0)
			goto out;
		rc = -1;
	}
	/* Bcc */
	if (bcc.n > 0) {
		struct buf bl = BUF_INIT;

		if ((r->bcc = calloc(bcc.n, sizeof *r->bcc)) == NULL)
			goto oom;
		for (i = 0; i < bcc.n; i++) {
			buf_addf(&bl, "%s%s", i ? ", " : "", bcc.v[i]);
			r->bcc[i].addr = strdup(bcc.v[i]);
			if (r->bcc[i].addr == NULL)
				goto oom;
			r->nbcc++;
			if (!want_bcc)
				continue;
			if ((r->bcc[i].certs = sk_X509_new_null()) == NULL)
				goto oom;
			if (strlist_has(&covered, bcc.v[i])) {
				/* Every -r certificate naming it (a renewal, a hybrid pair) goes into
				 * the Bcc copy, and out of the shared envelope unless it also names a
				 * To or Cc recipient: one left behind would name the Bcc recipient to
				 * every other recipient. */
				int j = 0, shared;

				while (j < sk_X509_num(r->certs)) {
					X509 *x = sk_X509_value(r->certs, j);

					if ((shared = bcc_cert_role(x, bcc.v[i], &to, e)) < 0)
						goto out;
					if (shared == BCC_CERT_OTHER) {
						j++;
						continue;
					}
					if (!X509_up_ref(x))
						goto oom;
					if (!sk_X509_push(r->bcc[i].certs, x)) {
						X509_free(x);
						goto oom;
					}
					if (shared == BCC_CERT_SHARED) {
						j++;
						continue;
					}
					(void)sk_X509_delete(r->certs, j);
					X509_free(x);	/* the stack's reference */
				}
			} else {
				X509 *x, *classic = NULL;

				/* hybrid as for To and Cc: the classical certificate too */
				x = store_cert(o, cs, bcc.v[i], caps[nc], &known, &prev[nc], &f, &classic);
				if (x != NULL) {
					capp[nc] = known ? caps[nc] : NULL;
					nc++;
					if (!sk_X509_push(r->bcc[i].certs, x)) {
						X509_free(x);
						X509_free(classic);
						goto oom;
					}
					if (classic != NULL && !sk_X509_push(r->bcc[i].certs, classic)) {
						X509_free(classic);
						goto oom;
					}
				}
			}
		}
		if ((r->bcc_list = buf_take(&bl, e)) == NULL)
			goto out;
	}
	/* the sender */
	self = o->self;
	if (self != NULL && !o->no_self) {
		STACK_OF(X509) *xs = NULL;
		struct err why;

		if (keys_load_certs(self, &xs, e) != 0)
			goto out;
		if (sk_X509_num(xs) == 0 || usable(o, sk_X509_value(xs, 0), xs, &why) != 0) {
			if (o->self_implicit)
				r->self_missing = 1;
			else
				fail_add(&f, "sender", sk_X509_num(xs) == 0 ? "no certificate in the "
				    "--self file" : why.msg);
		} else {
			r->self = sk_X509_value(xs, 0);
			X509_up_ref(r->self);
			if (add_cert(r, r->self, e) != 0) {
				sk_X509_pop_free(xs, X509_free);
				goto out;
			}
		}
		sk_X509_pop_free(xs, X509_free);
	} else if (!o->no_self) {
		r->self_missing = 1;
	}
	if (f.n > 0) {
		if (buf_check(&f.b, e) == 0)
			err_set(e, f.unavailable == f.n ? EX_UNAVAILABLE : EX_DATAERR, "no usable certificate for %d recipient%s (nothing "
			    "written): %s", f.n, f.n == 1 ? "" : "s", f.b.p);
		goto out;
	}
	if (sk_X509_num(r->certs) == 0) {
		if (r->nbcc > 0)
			err_set(e, EX_DATAERR, "only Bcc recipients and no sender certificate: the "
			    "message on standard output could be read by no one (give --self)");
		else
			err_set(e, EX_DATAERR, "no recipients: the message has no %s address "
			    "and none was given with -r or -R", resent ? "Resent-To or Resent-Cc "
			    "(it is re-sent)" : "To or Cc");
		goto out;
	}
	r->cipher = env_cipher_choose(capp, prev, nc);
	strength_for_mlkem(r);
	rc = 0;
	goto out;
oom:
	err_sys(e, EX_OSERR, "out of memory");
out:
	free(caps);
	free(capp);
	free(prev);
	buf_free(&f.b);
	strlist_free(&to);
	strlist_free(&bcc);
	strlist_free(&covered);
	certstore_close(cs);
	return rc;
}

int
recips_rewrap(const struct recips_opts *o, const struct msg_header *h, struct recips *r,
    struct err *e)
{
	struct recips_strlist addrs = { 0 }, covered = { 0 };
	struct failures f = { BUF_INIT, 0, 0 };
	struct certstore *cs = NULL;
	enum env_cipher caps[ENV_NCIPHERS + 1], unused;
	const char *dir;
	char dirbuf[4096];
	size_t i;
	int rc = -1, known;

	(void)h;
	memset(r, 0, sizeof *r);
	if ((r->certs = sk_X509_new_null()) == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	if (keys_load_identity(&o->keys, &r->list_id, e) != 0)
		return err_wrap(e, "list key");
	r->list_key = r->list_id.pkey;
	r->list_cert = r->list_id.cert;
	if (r->list_cert == NULL)
		return err_set(e, EX_USAGE, "--rewrap needs the list's certificate (--cert or --p12)");
	for (i = 0; i < o->addrs.n; i++)
		if (recips_opts_add(&addrs, o->addrs.v[i]) != 0)
			goto oom;
	if (o->members != NULL) {
		FILE *fp = fopen(o->members, "r");
		char line[1024];

		if (fp == NULL) {
			err_sys(e, EX_NOINPUT, "cannot open %s", o->members);
			goto out;
		}
		while (fgets(line, sizeof line, fp) != NULL) {
			char *s = line, *t;

			while (*s == ' ' || *s == '\t')
				s++;
			t = s + strcspn(s, " \t\r\n#");
			*t = '\0';
			if (*s != '\0' && !strlist_has(&addrs, s) && recips_opts_add(&addrs, s) != 0) {
				fclose(fp);
				goto oom;
			}
		}
		fclose(fp);
	}
	if (load_files(o, &o->files, r->certs, &covered, &f, e) != 0)
		goto out;
	if ((dir = recips_cert_dir(o->cert_dir, dirbuf, sizeof dirbuf)) != NULL && certstore_open(&cs, dir, e) != 0)
		goto out;
	for (i = 0; i < addrs.n; i++) {
		X509 *x;

		if (strlist_has(&covered, addrs.v[i]))
			continue;
		if ((x = store_cert(o, cs, addrs.v[i], caps, &known, &unused, &f, NULL)) == NULL)
			continue;
		rc = add_cert(r, x, e);
		X509_free(x);
		if (rc != 0)
			goto out;
		rc = -1;
	}
	if (f.n > 0) {
		if (buf_check(&f.b, e) == 0)
			err_set(e, f.unavailable == f.n ? EX_UNAVAILABLE : EX_DATAERR,
			    "no usable certificate for %d member%s (nothing "
			    "written): %s", f.n, f.n == 1 ? "" : "s", f.b.p);
		goto out;
	}
	if (sk_X509_num(r->certs) == 0) {
		err_set(e, EX_USAGE, "--rewrap needs member certificates (-r, -R or --members)");
		goto out;
	}
	rc = 0;
	goto out;
oom:
	err_sys(e, EX_OSERR, "out of memory");
out:
	buf_free(&f.b);
	strlist_free(&addrs);
	strlist_free(&covered);
	certstore_close(cs);
	return rc;
}

void
recips_free(struct recips *r)
{
	size_t i;

	sk_X509_pop_free(r->certs, X509_free);
	X509_free(r->self);
	for (i = 0; i < r->nbcc; i++) {
		free(r->bcc[i].addr);
		sk_X509_pop_free(r->bcc[i].certs, X509_free);
	}
	free(r->bcc);
	free(r->bcc_list);
	keys_identity_free(&r->list_id);
	memset(r, 0, sizeof *r);
}
