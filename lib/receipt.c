/* receipt.c — RFC 2634 signed receipts over OpenSSL's ESS functions: keeping what a receipt
 * is checked against, making one, checking one. */
#include "receipt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "cte.h"
#include "io.h"

#define RECEIPT_MAX_FILE (1 << 20)

const char *
receipt_default_dir(char *buf, size_t n)
{
	const char *d;

	if ((d = getenv("XDG_STATE_HOME")) != NULL && *d == '/') {
		if ((size_t)snprintf(buf, n, "%s/secmail/receipts", d) < n)
			return buf;
	} else if ((d = getenv("HOME")) != NULL && *d == '/') {
		if ((size_t)snprintf(buf, n, "%s/.local/state/secmail/receipts", d) < n)
			return buf;
	}
	return NULL;
}

static int
record_path(const char *dir, const unsigned char *id, size_t idlen, char *path, size_t n,
    struct err *e)
{
	size_t len, i;

	if (idlen == 0 || idlen > RECEIPT_MAX_ID)
		return err_set(e, EX_DATAERR, "the receipt identifier has %zu octets", idlen);
	len = (size_t)snprintf(path, n, "%s/", dir);
	for (i = 0; i < idlen && len + 3 < n; i++)
		len += (size_t)snprintf(path + len, n - len, "%02x", id[i]);
	if (i < idlen || len + 5 >= n)
		return err_set(e, EX_USAGE, "the receipt directory path is too long");
	memcpy(path + len, ".req", 5);
	return 0;
}

static int
buf_sink(void *ctx, const void *p, size_t n, struct err *e)
{
	buf_add(ctx, p, n);
	return buf_check(ctx, e);
}

int
receipt_store(const char *dir, const unsigned char *id, size_t idlen,
    const struct buf *sigder, const struct msg_header *h, time_t sent, struct err *e)
{
	/* To, Cc and Bcc: whom a receipt may come from (receipt_verify). The record is
	 * private (0600 in a 0700 directory), so Bcc may be kept. */
	static const char *const keep[] = { "Message-ID", "Date", "From", "To", "Cc", "Bcc",
	    "Subject" };
	struct io_atomic a;
	struct buf t = BUF_INIT;
	struct cte_enc enc;
	struct sink s = { buf_sink, &t };
	char path[4096], *f;
	size_t i, j;
	int rc = -1;

	if (io_dir_private(dir, 1, e) < 0 || record_path(dir, id, idlen, path, sizeof path, e) != 0)
		return -1;
	for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
		for (j = msg_header_next(h, keep[i], 0); j != (size_t)-1;
		    j = msg_header_next(h, keep[i], j + 1)) {
			if ((f = msg_fold(keep[i], h->f[j].value, "\n", e)) == NULL)
				goto out;
			buf_adds(&t, f);
			free(f);
		}
	buf_addf(&t, "Receipt-Requested: %lld\n\n", (long long)sent);
	if (cte_enc_init(&enc, CTE_BASE64, 0, e) != 0)
		goto out;
	rc = cte_enc_write(&enc, &s, sigder->p, sigder->len, e) != 0
	    || cte_enc_finish(&enc, &s, e) != 0 ? -1 : 0;
	cte_enc_free(&enc);
	if (rc != 0 || buf_check(&t, e) != 0) {
		rc = -1;
		goto out;
	}
	rc = -1;
	if (io_atomic_open(&a, path, 0600, e) != 0)
		goto out;
	if (io_write_all(a.fd, t.p, t.len) != 0) {
		err_sys(e, EX_IOERR, "cannot write %s", a.tmp);
		io_atomic_abort(&a);
		goto out;
	}
	rc = io_atomic_commit(&a, e);
out:
	buf_free(&t);
	return rc;
}

/* ---- the recipient's side ---- */

/* Does a GeneralNames list name one of addrs (rfc822Name)? */
static int
names_any(GENERAL_NAMES *gns, char **addrs)
{
	int j, type;
	size_t k;

	for (j = 0; j < sk_GENERAL_NAME_num(gns); j++) {
		ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gns, j), &type);
		char a[256];
		int len;

		if (type != GEN_EMAIL || v == NULL || (len = ASN1_STRING_length(v)) <= 0
		    || (size_t)len >= sizeof a)
			continue;
		memcpy(a, ASN1_STRING_get0_data(v), (size_t)len);
		a[len] = '\0';
		for (k = 0; addrs[k] != NULL; k++)
			if (strlen(a) == (size_t)len && addr_spec_eq(a, addrs[k]))
				return 1;
	}
	return 0;
}

/* The rfc822Names of receiptsTo, NULL-terminated (keys_addrs_free). */
static char **
receipts_to(STACK_OF(GENERAL_NAMES) *to, struct err *e)
{
	char **v = calloc((size_t)sk_GENERAL_NAMES_num(to) * 4 + 1, sizeof *v);
	size_t n = 0;
	int i, j, type, len;

	if (v == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	for (i = 0; i < sk_GENERAL_NAMES_num(to); i++) {
		GENERAL_NAMES *gns = sk_GENERAL_NAMES_value(to, i);

		for (j = 0; j < sk_GENERAL_NAME_num(gns) && j < 4; j++) {
			ASN1_STRING *s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gns, j), &type);
			const unsigned char *p;
			int ok = 1, k;

			if (type != GEN_EMAIL || s == NULL || (len = ASN1_STRING_length(s)) <= 0
			    || len > 254)
				continue;
			/* an address we put into a To field: printable, no specials that could
			 * make it two */
			p = ASN1_STRING_get0_data(s);
			for (k = 0; k < len; k++)
				if (p[k] <= ' ' || p[k] >= 0x7f || strchr(",;<>()\"\\", p[k]) != NULL)
					ok = 0;
			if (!ok || memchr(p, '@', (size_t)len) == NULL)
				continue;
			if ((v[n] = malloc((size_t)len + 1)) == NULL) {
				keys_addrs_free(v);
				err_set(e, EX_OSERR, "out of memory");
				return NULL;
			}
			memcpy(v[n], p, (size_t)len);
			v[n++][len] = '\0';
		}
	}
	return v;
}

/*
 * Issue 14 review: keep only the receiptsTo addresses that the original's signer (sender)
 * names, moving the others to a new list in *dropped. RFC 2634 §2.1 leaves returning the
 * receipt to local security policy and configuration: a request is the
 * sender's word, and a stranger must not make us sign and mail receipts to third parties.
 */
static int
keep_senders(char **to, char *const *sender, char ***dropped, struct err *e)
{
	size_t i, j, k, n = 0, d = 0;

	for (i = 0; to[i] != NULL; i++)
		n++;
	if ((*dropped = calloc(n + 1, sizeof **dropped)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	for (i = j = 0; to[i] != NULL; i++) {
		for (k = 0; sender[k] != NULL; k++)
			if (addr_spec_eq(to[i], sender[k]))
				break;
		if (sender[k] != NULL)
			to[j++] = to[i];
		else
			(*dropped)[d++] = to[i];
	}
	to[j] = NULL;
	return 0;
}

int
receipt_make(const unsigned char *sig, size_t siglen, const struct keys_identity *id,
    char *const *sender, struct buf *der, char ***to, char ***dropped, char *why, size_t n,
    struct err *e)
{
	const unsigned char *p = sig;
	CMS_ContentInfo *cms = NULL, *rct = NULL;
	CMS_ReceiptRequest *rr = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(GENERAL_NAMES) *from = NULL, *rto = NULL;
	CMS_SignerInfo *si;
	const ASN1_OBJECT *ct;
	char **mine = NULL;
	unsigned char *out = NULL;
	int all = 0, i, len, rc = 1;

	*to = NULL;
	*dropped = NULL;
	why[0] = '\0';
	ERR_clear_error();
	if (siglen > LONG_MAX || (cms = d2i_CMS_ContentInfo(NULL, &p, (long)siglen)) == NULL
	    || (sis = CMS_get0_SignerInfos(cms)) == NULL || sk_CMS_SignerInfo_num(sis) < 1) {
		snprintf(why, n, "the message carries no signature to answer");
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	/* RFC 2634 §2.3: never a receipt for a receipt */
	if ((ct = CMS_get0_eContentType(cms)) != NULL
	    && OBJ_obj2nid(ct) == NID_id_smime_ct_receipt) {
		snprintf(why, n, "the message is itself a signed receipt: a receipt is never "
		    "answered with one (RFC 2634 section 2.3)");
		goto out;
	}
	if (CMS_get1_ReceiptRequest(si, &rr) <= 0) {
		snprintf(why, n, "the sender asked for no receipt");
		goto out;
	}
	CMS_ReceiptRequest_get0_values(rr, NULL, &all, &from, &rto);
	if ((mine = keys_cert_addrs(id->cert, e)) == NULL) {
		rc = -1;
		goto out;
	}
	if (from != NULL) {
		for (i = 0; i < sk_GENERAL_NAMES_num(from); i++)
			if (names_any(sk_GENERAL_NAMES_value(from, i), mine))
				break;
		if (i == sk_GENERAL_NAMES_num(from)) {
			snprintf(why, n, "the sender asked for receipts from named recipients only, "
			    "and %s is not one of them", mine[0] ? mine[0] : "this certificate");
			goto out;
		}
	} else if (all == 1 && CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_mlExpandHistory,
	    -1) >= 0) {
		snprintf(why, n, "the sender asked for receipts from first-tier recipients only, "
		    "and this copy came through a mailing list");
		goto out;
	}
	if ((*to = receipts_to(rto, e)) == NULL) {
		rc = -1;
		goto out;
	}
	if ((*to)[0] == NULL) {
		snprintf(why, n, "the receipt request names no e-mail address to send it to");
		goto out;
	}
	if (sender != NULL) {
		if (keep_senders(*to, sender, dropped, e) != 0) {
			rc = -1;
			goto out;
		}
		if ((*to)[0] == NULL) {
			struct buf b = BUF_INIT;
			size_t k;

			for (k = 0; sender[k] != NULL && k < 4; k++)
				buf_addf(&b, "%s%s", k ? ", " : "", sender[k]);
			snprintf(why, n, "the request names no address of the sender (%s) to send it "
			    "to (--any-receipts-to sends it anyway)", b.p != NULL && !b.oom ? b.p
			    : "none");
			buf_free(&b);
			goto out;
		}
	}
	if ((rct = CMS_sign_receipt(si, id->cert, id->pkey, id->chain, 0)) == NULL
	    || (len = i2d_CMS_ContentInfo(rct, &out)) <= 0) {
		rc = err_ssl(e, EX_SOFTWARE, "cannot sign the receipt");
		goto out;
	}
	buf_add(der, out, (size_t)len);
	rc = buf_check(der, e);
out:
	if (rc == -1) {
		keys_addrs_free(*dropped);
		*dropped = NULL;
	}
	if (rc != 0) {
		keys_addrs_free(*to);
		*to = NULL;
	}
	OPENSSL_free(out);
	keys_addrs_free(mine);
	CMS_ReceiptRequest_free(rr);
	CMS_ContentInfo_free(rct);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}

/* ---- the sender's side ---- */

void
receipt_result_free(struct receipt_result *r)
{
	msg_header_free(&r->kept);
	memset(r, 0, sizeof *r);
	msg_header_init(&r->kept);
}

static void
set(struct receipt_result *r, enum cms_verdict v, const char *fmt, ...) ERR_PRINTF(3, 4);

static void
set(struct receipt_result *r, enum cms_verdict v, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

/* Read DIR/<hex id>.req: the header into r->kept, the DER into der. 1 when there is none. */
static int
load_record(const char *dir, const unsigned char *id, size_t idlen, struct receipt_result *r,
    struct buf *der, struct err *e)
{
	struct io_in in;
	struct cte_dec dec;
	struct sink s = { buf_sink, der };
	const struct msg_field *f;
	unsigned char buf[8192];
	char path[4096];
	ssize_t k;
	int fd, rc = -1;

	if (record_path(dir, id, idlen, path, sizeof path, e) != 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 1;
		return err_sys(e, EX_IOERR, "cannot open %s", path);
	}
	if (io_file_private(fd, path, 0, e) != 0 || io_in_init(&in, fd, path, e) != 0) {
		close(fd);
		return -1;
	}
	if (msg_header_read(&in, &r->kept, e) != 0 || cte_dec_init(&dec, CTE_BASE64, CTE_STRICT, e)
	    != 0)
		goto out;
	while ((k = io_in_read(&in, buf, sizeof buf)) > 0 && der->len < RECEIPT_MAX_FILE)
		if (cte_dec_write(&dec, &s, buf, (size_t)k, e) != 0)
			break;
	if (k < 0)
		*e = in.e;
	else if (k > 0 && der->len >= RECEIPT_MAX_FILE)
		err_set(e, EX_DATAERR, "larger than %d bytes", RECEIPT_MAX_FILE);
	else if (k == 0 && cte_dec_finish(&dec, &s, e) == 0)
		rc = 0;
	cte_dec_free(&dec);
	if ((f = msg_header_get(&r->kept, "Receipt-Requested")) != NULL)
		r->sent = (time_t)strtoll(f->value, NULL, 10);
out:
	if (rc != 0)
		err_wrap(e, "%s", path);
	io_in_free(&in);
	close(fd);
	return rc;
}

/* The Receipt content (RFC 2634 §2.7): its signedContentIdentifier into id. */
static int
receipt_id(CMS_ContentInfo *rcms, unsigned char *id, size_t *idlen)
{
	ASN1_OCTET_STRING **pos = CMS_get0_content(rcms);
	ASN1_SEQUENCE_ANY *seq;
	const unsigned char *p;
	ASN1_TYPE *t;
	int ok = 0;

	if (pos == NULL || *pos == NULL)
		return 0;
	p = ASN1_STRING_get0_data(*pos);
	if ((seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, ASN1_STRING_length(*pos))) == NULL)
		return 0;
	if (sk_ASN1_TYPE_num(seq) == 4 && (t = sk_ASN1_TYPE_value(seq, 2)) != NULL
	    && t->type == V_ASN1_OCTET_STRING && ASN1_STRING_length(t->value.octet_string) > 0
	    && ASN1_STRING_length(t->value.octet_string) <= RECEIPT_MAX_ID) {
		*idlen = (size_t)ASN1_STRING_length(t->value.octet_string);
		memcpy(id, ASN1_STRING_get0_data(t->value.octet_string), *idlen);
		ok = 1;
	}
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return ok;
}

int
receipt_identifier(const unsigned char *rder, size_t len, unsigned char *id, size_t *idlen)
{
	const unsigned char *p = rder;
	CMS_ContentInfo *rcms;
	const ASN1_OBJECT *ct;
	int ok;

	if (len > LONG_MAX || (rcms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	ok = OBJ_obj2nid(CMS_get0_type(rcms)) == NID_pkcs7_signed
	    && (ct = CMS_get0_eContentType(rcms)) != NULL
	    && OBJ_obj2nid(ct) == NID_id_smime_ct_receipt && receipt_id(rcms, id, idlen);
	CMS_ContentInfo_free(rcms);
	ERR_clear_error();
	return ok ? 0 : -1;
}

static void
receipt_signer(CMS_ContentInfo *rcms, struct receipt_result *r)
{
	STACK_OF(X509) *signers = CMS_get0_signers(rcms);
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(rcms);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	struct err e;
	char **names;
	int i;

	if (signers != NULL && sk_X509_num(signers) > 0
	    && (names = keys_cert_addrs(sk_X509_value(signers, 0), &e)) != NULL) {
		snprintf(r->signer, sizeof r->signer, "%s", names[0] ? names[0] : "");
		keys_addrs_free(names);
	}
	sk_X509_free(signers);
	if (sis == NULL || sk_CMS_SignerInfo_num(sis) < 1)
		return;
	i = CMS_signed_get_attr_by_NID(sk_CMS_SignerInfo_value(sis, 0), NID_pkcs9_signingTime, -1);
	if (i >= 0 && (a = CMS_signed_get_attr(sk_CMS_SignerInfo_value(sis, 0), i)) != NULL
	    && (t = X509_ATTRIBUTE_get0_type(a, 0)) != NULL
	    && (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME)) {
		struct tm tm;

		if (ASN1_TIME_to_tm(t->value.utctime, &tm))
			r->signing_time = timegm(&tm);
	}
}

static X509_STORE *
anchors(const struct cms_verify_opts *o, struct err *e)
{
	X509_STORE *st = X509_STORE_new();

	if (st == NULL) {
		err_ssl(e, EX_OSERR, "out of memory");
		return NULL;
	}
	if (o->ca_file == NULL && o->ca_path == NULL ? !X509_STORE_set_default_paths(st)
	    : !X509_STORE_load_locations(st, o->ca_file, o->ca_path)) {
		err_ssl(e, EX_TEMPFAIL, "cannot load trust anchors from %s", o->ca_file ? o->ca_file
		    : o->ca_path ? o->ca_path : "the default paths");
		X509_STORE_free(st);
		return NULL;
	}
	if (o->now != 0)
		X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(st), o->now);
	ERR_clear_error();
	return st;
}

/* CMS_verify_receipt failed: why, from the error queue. */
static void
why_failed(struct receipt_result *r)
{
	unsigned long ec;
	int digest = 0, cid = 0, chain = 0;

	while ((ec = ERR_get_error()) != 0) {
		if (ERR_GET_LIB(ec) != ERR_LIB_CMS)
			continue;
		switch (ERR_GET_REASON(ec)) {
		case CMS_R_MSGSIGDIGEST_VERIFICATION_FAILURE:
		case CMS_R_NO_MATCHING_DIGEST:
		case CMS_R_NO_MATCHING_SIGNATURE: digest = 1; break;
		case CMS_R_CONTENTIDENTIFIER_MISMATCH: cid = 1; break;
		case CMS_R_CERTIFICATE_VERIFY_ERROR: chain = 1; break;
		}
	}
	if (digest)
		set(r, CMS_V_FAIL, "the receipt's msgSigDigest does not match the signature of the "
		    "message it names: it proves nothing about that message");
	else if (cid)
		set(r, CMS_V_FAIL, "the receipt's content identifier does not match the request");
	else if (chain)
		set(r, CMS_V_FAIL, "the receipt signer's certificate does not verify");
	else
		set(r, CMS_V_FAIL, "the receipt's signature does not verify");
}

/* The addresses the kept message was addressed to (To, Cc, Bcc), NULL-terminated
 * (keys_addrs_free); a field that does not parse adds nothing. */
static char **
kept_recipients(const struct msg_header *h, struct err *e)
{
	static const char *const names[] = { "To", "Cc", "Bcc" };
	struct addr_list l = { NULL, 0, 0 };
	struct err ignored;
	size_t i, k;

	for (k = 0; k < sizeof names / sizeof names[0]; k++)
		for (i = msg_header_next(h, names[k], 0); i != (size_t)-1;
		    i = msg_header_next(h, names[k], i + 1))
			(void)addr_parse_unique(h->f[i].value, &l, &ignored);
	return addr_list_specs(&l, e);
}

static int
addrs_meet(char **a, char **b)
{
	size_t i, j;

	for (i = 0; a[i] != NULL; i++)
		for (j = 0; b[j] != NULL; j++)
			if (addr_spec_eq(a[i], b[j]))
				return 1;
	return 0;
}

/* "x@y, z@w" (printable, at most n bytes) for a reason. */
static void
addrs_join(char **v, char *out, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; v[i] != NULL && i < 8; i++) {
		buf_adds(&b, i ? ", " : "");
		buf_add_printable(&b, v[i], strlen(v[i]));
	}
	if (v[i] != NULL)
		buf_adds(&b, ", ...");
	snprintf(out, n, "%.*s", b.p != NULL && !b.oom ? (int)b.len : 0, b.p != NULL ? b.p : "");
	buf_free(&b);
}

/* The receiptList of the request kept in ocms (RFC 2634 §2.7 receiptsFrom): -1 when the
 * request asks allOrFirstTier (or cannot be read), 1 when it names one of mine (every name,
 * as receipt_make reads it), else 0 with the addresses it names in names (n bytes). */
static int
receipt_list(CMS_ContentInfo *ocms, char **mine, char *names, size_t n, struct err *e)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(ocms);
	STACK_OF(GENERAL_NAMES) *from = NULL;
	CMS_ReceiptRequest *rr = NULL;
	char **v;
	int i, rc = -1;

	names[0] = '\0';
	if (sis != NULL && sk_CMS_SignerInfo_num(sis) > 0
	    && CMS_get1_ReceiptRequest(sk_CMS_SignerInfo_value(sis, 0), &rr) > 0)
		CMS_ReceiptRequest_get0_values(rr, NULL, NULL, &from, NULL);
	if (from != NULL) {
		for (i = 0; i < sk_GENERAL_NAMES_num(from); i++)
			if (names_any(sk_GENERAL_NAMES_value(from, i), mine))
				break;
		if (i < sk_GENERAL_NAMES_num(from))
			rc = 1;
		else if ((v = receipts_to(from, e)) == NULL)
			rc = -2;
		else {
			addrs_join(v, names, n);
			keys_addrs_free(v);
			rc = 0;
		}
	}
	CMS_ReceiptRequest_free(rr);
	ERR_clear_error();
	return rc;
}

/*
 * A receipt proves delivery only from someone the message was sent to (RFC 2634 §2.3: a
 * receipt is returned by the recipients the request names; anyone else who saw the signed
 * message can sign one just as well): the receipt signer's certificate must name an address
 * of the kept To, Cc or Bcc and, for a receiptList request, one on the list. 0 with r set to
 * fail when it does not, 1 when it does, -1 on errors.
 */
static int
signer_was_asked(CMS_ContentInfo *rcms, CMS_ContentInfo *ocms, struct receipt_result *r,
    struct err *e)
{
	STACK_OF(X509) *signers = CMS_get0_signers(rcms);
	char **mine = NULL, **rcpt = NULL, names[200], who[160];
	char *one[2] = { r->signer, NULL };
	int listed, rc = -1;

	if (r->signer[0] != '\0')
		addrs_join(one, who, sizeof who);
	else
		snprintf(who, sizeof who, "a certificate without an e-mail address");
	if (signers == NULL || sk_X509_num(signers) < 1) {
		set(r, CMS_V_FAIL, "the receipt's signer cannot be told");
		rc = 0;
		goto out;
	}
	if ((mine = keys_cert_addrs(sk_X509_value(signers, 0), e)) == NULL
	    || (rcpt = kept_recipients(&r->kept, e)) == NULL)
		goto out;
	rc = 0;
	if (rcpt[0] == NULL) {
		set(r, CMS_V_FAIL, "what was kept for this message names no recipient (To, Cc, "
		    "Bcc): the receipt's signer %s cannot be checked", who);
	} else if (!addrs_meet(mine, rcpt)) {
		addrs_join(rcpt, names, sizeof names);
		set(r, CMS_V_FAIL, "the receipt is signed by %s, who was not asked for one: the "
		    "message was addressed to %s", who, names);
	} else if ((listed = receipt_list(ocms, mine, names, sizeof names, e)) == -2) {
		rc = -1;
	} else if (listed == 0) {
		set(r, CMS_V_FAIL, "the receipt is signed by %s, who was not asked for one: the "
		    "request's receiptList names %s", who, names[0] ? names : "no e-mail address");
	} else {
		rc = 1;
	}
out:
	sk_X509_free(signers);
	keys_addrs_free(mine);
	keys_addrs_free(rcpt);
	return rc;
}

int
receipt_verify(const unsigned char *rder, size_t len, const char *dir,
    const struct cms_verify_opts *o, struct receipt_result *r, struct err *e)
{
	const unsigned char *p = rder;
	CMS_ContentInfo *rcms = NULL, *ocms = NULL;
	X509_STORE *st = NULL;
	const ASN1_OBJECT *ct;
	struct buf der = BUF_INIT;
	unsigned char id[RECEIPT_MAX_ID];
	size_t idlen = 0;
	int k, rc = -1;

	memset(r, 0, sizeof *r);
	msg_header_init(&r->kept);
	ERR_clear_error();
	if (len > LONG_MAX || (rcms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL
	    || OBJ_obj2nid(CMS_get0_type(rcms)) != NID_pkcs7_signed) {
		set(r, CMS_V_PERMERROR, "not a CMS signed-data structure");
		rc = 0;
		goto out;
	}
	if ((ct = CMS_get0_eContentType(rcms)) == NULL
	    || OBJ_obj2nid(ct) != NID_id_smime_ct_receipt) {
		set(r, CMS_V_PERMERROR, "the signed content is not a receipt (id-ct-receipt)");
		rc = 0;
		goto out;
	}
	if (!receipt_id(rcms, id, &idlen)) {
		set(r, CMS_V_PERMERROR, "the receipt cannot be read");
		rc = 0;
		goto out;
	}
	if ((k = load_record(dir, id, idlen, r, &der, e)) < 0)
		goto out;
	if (k > 0) {
		set(r, CMS_V_NEUTRAL, "no message with this receipt identifier was sent from here "
		    "(nothing kept in %s)", dir);
		rc = 0;
		goto out;
	}
	p = (const unsigned char *)der.p;
	if ((ocms = d2i_CMS_ContentInfo(NULL, &p, (long)der.len)) == NULL) {
		set(r, CMS_V_PERMERROR, "what was kept for this message cannot be read");
		rc = 0;
		goto out;
	}
	if ((st = anchors(o, e)) == NULL)
		goto out;
	if (CMS_verify_receipt(rcms, ocms, NULL, st, 0) == 1) {
		receipt_signer(rcms, r);
		if ((k = signer_was_asked(rcms, ocms, r, e)) < 0)
			goto out;
		if (k > 0) {
			r->verdict = CMS_V_PASS;
			snprintf(r->reason, sizeof r->reason, "a good receipt by %s", r->signer[0]
			    ? r->signer : "the recipient");
		}
	} else {
		why_failed(r);
		receipt_signer(rcms, r);
	}
	rc = 0;
out:
	X509_STORE_free(st);
	CMS_ContentInfo_free(rcms);
	CMS_ContentInfo_free(ocms);
	buf_free(&der);
	ERR_clear_error();
	return rc;
}
