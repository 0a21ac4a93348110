/* cms.c — S/MIME SignedData with OpenSSL's CMS API: streaming signing and a verification
 * that names each way it can fail. */
#include "cms.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "ber.h"
#include "io.h"

/* RFC 8551 §2.5.3 id-aa-encrypKeyPref */
#define OID_ENCRYPT_KEY_PREF "1.2.840.113549.1.9.16.2.11"

/* ---- a BIO over a sink ---- */

struct sinkbio {
	struct sink s;
	struct err e;
	int failed;
};

static int
sb_write(BIO *b, const char *p, int n)
{
	struct sinkbio *c = BIO_get_data(b);

	if (c == NULL || c->failed)
		return -1;
	if (n > 0 && sink_write(&c->s, p, (size_t)n, &c->e) != 0) {
		c->failed = 1;
		return -1;
	}
	return n;
}

static long
sb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
sb_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int
sb_destroy(BIO *b)
{
	free(BIO_get_data(b));
	BIO_set_data(b, NULL);
	return 1;
}

/* The method table lives as long as the process: OpenSSL's BIO design imposes it. */
static BIO_METHOD *sb_method;

BIO *
cms_sink_bio(const struct sink *s)
{
	struct sinkbio *c;
	BIO *b;

	if (sb_method == NULL) {
		BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
		    "secmail sink");

		if (m == NULL || !BIO_meth_set_write(m, sb_write) || !BIO_meth_set_ctrl(m, sb_ctrl)
		    || !BIO_meth_set_create(m, sb_create) || !BIO_meth_set_destroy(m, sb_destroy)) {
			BIO_meth_free(m);
			return NULL;
		}
		sb_method = m;
	}
	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->s = *s;
	if ((b = BIO_new(sb_method)) == NULL) {
		free(c);
		return NULL;
	}
	BIO_set_data(b, c);
	return b;
}

const struct err *
cms_sink_bio_err(BIO *b)
{
	struct sinkbio *c = BIO_get_data(b);

	return c != NULL && c->failed ? &c->e : NULL;
}

/* ---- signing ---- */

const char *
cms_micalg(const char *digest)
{
	/* RFC 8551 §3.5.3.2 */
	if (strcmp(digest, "sha384") == 0)
		return "sha-384";
	if (strcmp(digest, "sha512") == 0)
		return "sha-512";
	if (strcmp(digest, "sha224") == 0)
		return "sha-224";
	return "sha-256";
}

const char *
cms_sign_digest(const struct keys_identity *id, const struct cms_sign_opts *o, struct err *e)
{
	const char *d = o->digest != NULL ? o->digest : "sha256";

	if (strcmp(d, "sha-256") == 0 || strcmp(d, "SHA256") == 0)
		d = "sha256";
	else if (strcmp(d, "sha-384") == 0 || strcmp(d, "SHA384") == 0)
		d = "sha384";
	else if (strcmp(d, "sha-512") == 0 || strcmp(d, "SHA512") == 0)
		d = "sha512";
	if (strcmp(d, "sha256") != 0 && strcmp(d, "sha384") != 0 && strcmp(d, "sha512") != 0) {
		err_set(e, EX_USAGE, "unsupported digest '%s' (sha256, sha384 or sha512)", d);
		return NULL;
	}
	/* RFC 8419 §3.1: Ed25519 with signed attributes uses SHA-512. */
	if (id != NULL && id->pkey != NULL && EVP_PKEY_is_a(id->pkey, "ED25519"))
		d = "sha512";
	return d;
}

struct cms_sign {
	CMS_ContentInfo *cms;
	BIO *out;	/* the sink BIO */
	BIO *chain;	/* opaque: BIO_new_CMS over out; detached: CMS_dataInit over base */
	BIO *base;	/* detached: a null BIO the content goes to (the caller writes it) */
	int detached;
};

/* The DER of SMIMEEncryptionKeyPreference ::= CHOICE { issuerAndSerialNumber [0] ... }. */
static unsigned char *
enc_pref_der(X509 *x, int *len)
{
	unsigned char *name = NULL, *serial = NULL, *der = NULL, *p;
	int nl, sl, inner, total;

	nl = i2d_X509_NAME(X509_get_issuer_name(x), &name);
	sl = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &serial);
	if (nl <= 0 || sl <= 0)
		goto out;
	inner = nl + sl;
	total = ASN1_object_size(1, inner, 0);
	if (total <= 0 || (der = OPENSSL_malloc((size_t)total)) == NULL)
		goto out;
	p = der;
	ASN1_put_object(&p, 1, inner, 0, V_ASN1_CONTEXT_SPECIFIC);
	memcpy(p, name, (size_t)nl);
	memcpy(p + nl, serial, (size_t)sl);
	*len = total;
out:
	OPENSSL_free(name);
	OPENSSL_free(serial);
	return der;
}

static int
add_attrs(CMS_SignerInfo *si, const struct cms_sign_opts *o, struct err *e)
{
	/* RFC 8551 §2.5.2: what smime-encrypt can do, strongest first. */
	static const int caps[] = { NID_aes_256_gcm, NID_aes_128_gcm, NID_aes_256_cbc,
	    NID_aes_128_cbc };
	STACK_OF(X509_ALGOR) *algs = NULL;
	ASN1_TIME *t;
	size_t i;
	int ok;

	for (i = 0; i < sizeof caps / sizeof caps[0]; i++)
		if (!CMS_add_simple_smimecap(&algs, caps[i], -1))
			goto bad;
	ok = CMS_add_smimecap(si, algs);
	sk_X509_ALGOR_pop_free(algs, X509_ALGOR_free);
	if (!ok)
		goto bad;
	/* RFC 5652 §11.3: UTCTime up to 2049, GeneralizedTime after; ASN1_TIME_set chooses. */
	if ((t = ASN1_TIME_set(NULL, o->signing_time ? o->signing_time : time(NULL))) == NULL)
		goto bad;
	ok = CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1);
	ASN1_TIME_free(t);
	if (!ok)
		goto bad;
	if (o->enc_cert != NULL) {
		ASN1_OBJECT *obj = OBJ_txt2obj(OID_ENCRYPT_KEY_PREF, 1);
		unsigned char *der;
		int len = 0;

		der = enc_pref_der(o->enc_cert, &len);
		ok = obj != NULL && der != NULL
		    && CMS_signed_add1_attr_by_OBJ(si, obj, V_ASN1_SEQUENCE, der, len);
		ASN1_OBJECT_free(obj);
		OPENSSL_free(der);
		if (!ok)
			goto bad;
	}
	return 0;
bad:
	return err_ssl(e, EX_SOFTWARE, "cannot add the signed attributes");
}

struct cms_sign *
cms_sign_new(const struct keys_identity *id, const struct cms_sign_opts *o,
    const struct sink *out, struct err *e)
{
	struct cms_sign *s;
	CMS_SignerInfo *si;
	const EVP_MD *md;
	const char *dname;
	int i, rsa, sflags;

	if (id->pkey == NULL || id->cert == NULL) {
		err_set(e, EX_USAGE, "signing needs a certificate and its private key");
		return NULL;
	}
	if ((dname = cms_sign_digest(id, o, e)) == NULL)
		return NULL;
	if (EVP_PKEY_is_a(id->pkey, "ED25519") && OpenSSL_version_num() < 0x30200000L) {
		err_set(e, EX_UNAVAILABLE, "Ed25519 signatures in CMS need OpenSSL 3.2 or later "
		    "(this is %s)", OpenSSL_version(OPENSSL_VERSION));
		return NULL;
	}
	rsa = EVP_PKEY_is_a(id->pkey, "RSA") || EVP_PKEY_is_a(id->pkey, "RSA-PSS");
	if (o->pss && !rsa) {
		err_set(e, EX_USAGE, "--pss needs an RSA key");
		return NULL;
	}
	/* OpenSSL 3.0 cannot stream an encapsulated signature with RSA-PSS parameters ("illegal
	 * zero content" at the end, as `openssl cms -sign -nodetach -stream` shows), and the
	 * content is never held in memory here. */
	if (o->pss && o->opaque) {
		err_set(e, EX_UNAVAILABLE, "RSA-PSS with --opaque is not supported (OpenSSL cannot "
		    "stream it); use the default multipart/signed form");
		return NULL;
	}
	if ((md = EVP_get_digestbyname(dname)) == NULL) {
		err_ssl(e, EX_SOFTWARE, "digest %s unavailable", dname);
		return NULL;
	}
	if ((s = calloc(1, sizeof *s)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	/* The content is already canonical (RFC 8551 §3.1.1): CMS_BINARY, no translation. */
	s->cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_STREAM | CMS_BINARY
	    | (o->opaque ? 0 : CMS_DETACHED));
	if (s->cms == NULL)
		goto bad;
	sflags = CMS_NOSMIMECAP | CMS_BINARY | CMS_PARTIAL | (o->pss ? CMS_KEY_PARAM : 0);
	if ((si = CMS_add1_signer(s->cms, id->cert, id->pkey, md, sflags)) == NULL)
		goto bad;
	if (o->pss) {
		EVP_PKEY_CTX *pctx = CMS_SignerInfo_get0_pkey_ctx(si);

		/* RFC 4056 §3: salt as long as the digest output, MGF1 with the same hash. */
		if (pctx == NULL || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0
		    || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0
		    || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0)
			goto bad;
	}
	if (add_attrs(si, o, e) != 0)
		goto fail;
	for (i = 0; i < sk_X509_num(id->chain); i++)
		if (!CMS_add1_cert(s->cms, sk_X509_value(id->chain, i)))
			goto bad;
	if (o->enc_cert != NULL && X509_cmp(o->enc_cert, id->cert) != 0
	    && !CMS_add1_cert(s->cms, o->enc_cert))
		goto bad;
	if ((s->out = cms_sink_bio(out)) == NULL)
		goto bad;
	/* Detached: digest BIOs over a null BIO, then the structure alone at the end (what
	 * SMIME_write_CMS does). Opaque: the NDEF BIO streams the content inside the DER. */
	s->detached = !o->opaque;
	if (s->detached) {
		if ((s->base = BIO_new(BIO_s_null())) == NULL
		    || (s->chain = CMS_dataInit(s->cms, s->base)) == NULL)
			goto bad;
	} else if ((s->chain = BIO_new_CMS(s->out, s->cms)) == NULL) {
		goto bad;
	}
	return s;
bad:
	err_ssl(e, EX_SOFTWARE, "cannot set up the signature");
fail:
	cms_sign_free(s);
	return NULL;
}

static int
sign_fail(struct cms_sign *s, struct err *e)
{
	const struct err *se = s->out != NULL ? cms_sink_bio_err(s->out) : NULL;

	if (se != NULL) {
		*e = *se;
		ERR_clear_error();
		return -1;
	}
	return err_ssl(e, EX_SOFTWARE, "signing failed");
}

int
cms_sign_write(struct cms_sign *s, const void *p, size_t n, struct err *e)
{
	const char *q = p;

	while (n > 0) {
		int k = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;
		int w = BIO_write(s->chain, q, k);

		if (w <= 0)
			return sign_fail(s, e);
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

int
cms_sign_finish(struct cms_sign *s, struct err *e)
{
	if (s->detached) {
		if (!CMS_dataFinal(s->cms, s->chain) || i2d_CMS_bio(s->out, s->cms) != 1
		    || BIO_flush(s->out) <= 0)
			return sign_fail(s, e);
	} else if (BIO_flush(s->chain) <= 0) {
		/* Flushing the NDEF BIO computes the digest, signs and writes the trailer. */
		return sign_fail(s, e);
	}
	if (cms_sink_bio_err(s->out) != NULL)
		return sign_fail(s, e);
	return 0;
}

void
cms_sign_free(struct cms_sign *s)
{
	BIO *b, *next;

	if (s == NULL)
		return;
	/* Free the BIOs BIO_new_CMS pushed in front of ours, then ours. */
	for (b = s->chain; b != NULL && b != s->out && b != s->base; b = next) {
		next = BIO_pop(b);
		BIO_free(b);
	}
	BIO_free(s->base);
	BIO_free(s->out);
	CMS_ContentInfo_free(s->cms);
	free(s);
}

int
cms_certs_only(STACK_OF(X509) *certs, const struct sink *out, struct err *e)
{
	CMS_ContentInfo *cms;
	BIO *b = NULL;
	int ok;

	cms = CMS_sign(NULL, NULL, certs, NULL, CMS_PARTIAL | CMS_DETACHED | CMS_BINARY);
	ok = cms != NULL && (b = cms_sink_bio(out)) != NULL && i2d_CMS_bio(b, cms) == 1;
	if (!ok) {
		const struct err *se = b != NULL ? cms_sink_bio_err(b) : NULL;

		if (se != NULL)
			*e = *se;
		else
			err_ssl(e, EX_SOFTWARE, "cannot write the certs-only structure");
	}
	BIO_free(b);
	CMS_ContentInfo_free(cms);
	return ok ? 0 : -1;
}

/* ---- verifying ---- */

const char *
cms_verdict_name(enum cms_verdict v)
{
	switch (v) {
	case CMS_V_PASS: return "pass";
	case CMS_V_FAIL: return "fail";
	case CMS_V_POLICY: return "policy";
	case CMS_V_NEUTRAL: return "neutral";
	case CMS_V_TEMPERROR: return "temperror";
	case CMS_V_PERMERROR: return "permerror";
	case CMS_V_NONE: return "none";
	}
	return "permerror";
}

void
cms_result_free(struct cms_result *r)
{
	free(r->identifier);
	X509_free(r->signer);
	X509_free(r->enc_cert);
	sk_X509_pop_free(r->certs, X509_free);
	memset(r, 0, sizeof *r);
}

static int
verdict(struct cms_result *r, enum cms_verdict v, const char *fmt, ...) ERR_PRINTF(3, 4);

static int
verdict(struct cms_result *r, enum cms_verdict v, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return 0;
}

static void
fmt_time(const ASN1_TIME *t, char *buf, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long len;

	snprintf(buf, n, "?");
	if (b == NULL)
		return;
	if (ASN1_TIME_print(b, t) == 1 && (len = BIO_get_mem_data(b, &p)) > 0)
		snprintf(buf, n, "%.*s", (int)len, p);
	BIO_free(b);
}

static void
signed_attrs(CMS_SignerInfo *si, STACK_OF(X509) *certs, struct cms_result *r)
{
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	ASN1_OBJECT *pref;
	int i;

	i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	if (i >= 0 && (a = CMS_signed_get_attr(si, i)) != NULL
	    && (t = X509_ATTRIBUTE_get0_type(a, 0)) != NULL
	    && (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME)) {
		struct tm tm;

		if (ASN1_TIME_to_tm(t->value.utctime, &tm))
			r->signing_time = timegm(&tm);
	}
	i = CMS_signed_get_attr_by_NID(si, NID_SMIMECapabilities, -1);
	if (i >= 0 && (a = CMS_signed_get_attr(si, i)) != NULL
	    && (t = X509_ATTRIBUTE_get0_type(a, 0)) != NULL && t->type == V_ASN1_SEQUENCE) {
		const unsigned char *p = t->value.sequence->data;
		X509_ALGORS *algs = d2i_X509_ALGORS(NULL, &p, t->value.sequence->length);
		int j;

		for (j = 0; algs != NULL && j < sk_X509_ALGOR_num(algs) && r->ncaps < 32; j++) {
			const ASN1_OBJECT *obj;

			X509_ALGOR_get0(&obj, NULL, NULL, sk_X509_ALGOR_value(algs, j));
			r->caps[r->ncaps++] = OBJ_obj2nid(obj);
		}
		sk_X509_ALGOR_pop_free(algs, X509_ALGOR_free);
	}
	/* RFC 8551 §2.5.3: only the issuerAndSerialNumber choice is looked for. */
	pref = OBJ_txt2obj(OID_ENCRYPT_KEY_PREF, 1);
	i = pref != NULL ? CMS_signed_get_attr_by_OBJ(si, pref, -1) : -1;
	ASN1_OBJECT_free(pref);
	if (i >= 0 && (a = CMS_signed_get_attr(si, i)) != NULL
	    && (t = X509_ATTRIBUTE_get0_type(a, 0)) != NULL && t->type == V_ASN1_OTHER) {
		const unsigned char *p = t->value.asn1_string->data, *q;
		long len;
		int tag, cls, inf;
		X509_NAME *name = NULL;
		ASN1_INTEGER *serial = NULL;

		inf = ASN1_get_object(&p, &len, &tag, &cls, t->value.asn1_string->length);
		q = p;
		if (!(inf & 0x80) && tag == 0 && cls == V_ASN1_CONTEXT_SPECIFIC
		    && (name = d2i_X509_NAME(NULL, &q, len)) != NULL
		    && (serial = d2i_ASN1_INTEGER(NULL, &q, len - (q - p))) != NULL) {
			for (i = 0; i < sk_X509_num(certs); i++) {
				X509 *x = sk_X509_value(certs, i);

				if (X509_NAME_cmp(X509_get_issuer_name(x), name) == 0
				    && ASN1_INTEGER_cmp(X509_get_serialNumber(x), serial) == 0
				    && X509_up_ref(x)) {
					r->enc_cert = x;
					break;
				}
			}
		}
		X509_NAME_free(name);
		ASN1_INTEGER_free(serial);
	}
	ERR_clear_error();
}

static X509_STORE *
trust_store(const struct cms_verify_opts *o, struct err *e)
{
	X509_STORE *st = X509_STORE_new();

	if (st == NULL) {
		err_ssl(e, EX_OSERR, "out of memory");
		return NULL;
	}
	if (o->ca_file == NULL && o->ca_path == NULL) {
		if (!X509_STORE_set_default_paths(st))
			goto bad;
	} else if (!X509_STORE_load_locations(st, o->ca_file, o->ca_path)) {
		err_ssl(e, EX_NOINPUT, "cannot load trust anchors from %s", o->ca_file ? o->ca_file
		    : o->ca_path);
		X509_STORE_free(st);
		return NULL;
	}
	ERR_clear_error();
	return st;
bad:
	err_ssl(e, EX_SOFTWARE, "cannot set up the trust store");
	X509_STORE_free(st);
	return NULL;
}

static int
is_pinned(const struct cms_verify_opts *o, X509 *x)
{
	int i;

	for (i = 0; o->pinned != NULL && i < sk_X509_num(o->pinned); i++)
		if (X509_cmp(sk_X509_value(o->pinned, i), x) == 0)
			return 1;
	return 0;
}

/* Chain, purpose and validity. 0 with a verdict set (pass stays pass), -1 on hard errors. */
static int
check_chain(X509 *signer, STACK_OF(X509) *certs, const struct cms_verify_opts *o, time_t now,
    struct cms_result *r, struct err *e)
{
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *st;
	char a[64], b[64];
	int rc = -1, ok, code;

	/* Validity now, then at the signing time (both must hold: the signing time is the
	 * signer's claim, so it cannot excuse a certificate that has since expired). */
	if (X509_cmp_time(X509_get0_notAfter(signer), &now) < 0) {
		fmt_time(X509_get0_notAfter(signer), a, sizeof a);
		return verdict(r, CMS_V_FAIL, "the signer's certificate expired on %s", a);
	}
	if (X509_cmp_time(X509_get0_notBefore(signer), &now) > 0) {
		fmt_time(X509_get0_notBefore(signer), a, sizeof a);
		return verdict(r, CMS_V_FAIL, "the signer's certificate is not valid before %s", a);
	}
	if (r->signing_time != 0 && (X509_cmp_time(X509_get0_notBefore(signer), &r->signing_time) > 0
	    || X509_cmp_time(X509_get0_notAfter(signer), &r->signing_time) < 0)) {
		fmt_time(X509_get0_notBefore(signer), a, sizeof a);
		fmt_time(X509_get0_notAfter(signer), b, sizeof b);
		return verdict(r, CMS_V_FAIL, "the signing time is outside the signer's certificate "
		    "validity (%s to %s)", a, b);
	}
	if ((st = trust_store(o, e)) == NULL)
		return -1;
	if ((ctx = X509_STORE_CTX_new()) == NULL || !X509_STORE_CTX_init(ctx, st, signer, certs)) {
		err_ssl(e, EX_OSERR, "cannot set up certificate verification");
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, now);
	/* emailProtection when an EKU is present, digitalSignature/nonRepudiation when a key
	 * usage is (RFC 8550 §4.4.2, §4.4.4). */
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SMIME_SIGN);
	ok = X509_verify_cert(ctx);
	code = X509_STORE_CTX_get_error(ctx);
	rc = 0;
	if (ok == 1)
		goto out;
	switch (code) {
	case X509_V_ERR_INVALID_PURPOSE:
		verdict(r, CMS_V_POLICY, "the signer's certificate is not for e-mail protection "
		    "(extended key usage or key usage)");
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		verdict(r, CMS_V_FAIL, "a certificate in the signer's chain has expired");
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		if (is_pinned(o, signer)) {
			ERR_clear_error();
			break;	/* pinned in the certificate store: trusted as it is */
		}
		verdict(r, CMS_V_FAIL, "the signer's certificate does not chain to a trusted root "
		    "(%s)", X509_verify_cert_error_string(code));
		break;
	default:
		verdict(r, CMS_V_FAIL, "the signer's certificate does not verify: %s",
		    X509_verify_cert_error_string(code));
	}
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

static int
check_addrs(X509 *signer, const struct cms_verify_opts *o, struct cms_result *r, struct err *e)
{
	char **names;
	size_t i, j;

	if ((names = keys_cert_addrs(signer, e)) == NULL)
		return -1;
	if (names[0] != NULL && (r->identifier = strdup(names[0])) == NULL)
		goto oom;
	if (o == NULL || o->addrs == NULL) {
		keys_addrs_free(names);
		return 0;
	}
	for (i = 0; o->addrs[i] != NULL; i++)
		for (j = 0; names[j] != NULL; j++)
			if (addr_spec_eq(o->addrs[i], names[j])) {
				free(r->identifier);
				if ((r->identifier = strdup(names[j])) == NULL)
					goto oom;
				keys_addrs_free(names);
				return 0;
			}
	if (names[0] == NULL)
		verdict(r, CMS_V_POLICY, "the signer's certificate names no e-mail address");
	else
		verdict(r, CMS_V_POLICY, "the signer's certificate is for %s, not for the From or "
		    "Sender address %s", names[0], o->addrs[0] ? o->addrs[0] : "(the message has none)");
	keys_addrs_free(names);
	return 0;
oom:
	keys_addrs_free(names);
	return err_set(e, EX_OSERR, "out of memory");
}

int
cms_verify(const unsigned char *der, size_t derlen, BIO *content, BIO *content_out,
    const struct cms_verify_opts *o, struct cms_result *r, struct err *e)
{
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *signers = NULL;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	const unsigned char *p = der;
	unsigned long ec;
	time_t now = o->now ? o->now : time(NULL);
	int rc = 0;

	memset(r, 0, sizeof *r);
	ERR_clear_error();
	if (derlen > LONG_MAX || (cms = d2i_CMS_ContentInfo(NULL, &p, (long)derlen)) == NULL) {
		verdict(r, CMS_V_PERMERROR, "the signature is not a valid CMS structure");
		return 0;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		verdict(r, CMS_V_PERMERROR, "the CMS structure is not signed-data (it is %s)",
		    OBJ_nid2sn(OBJ_obj2nid(CMS_get0_type(cms))));
		goto done;
	}
	r->certs = CMS_get1_certs(cms);
	if (r->certs == NULL && (r->certs = sk_X509_new_null()) == NULL)
		goto oom;
	sis = CMS_get0_SignerInfos(cms);
	if (sis == NULL || sk_CMS_SignerInfo_num(sis) == 0) {
		r->certs_only = 1;
		verdict(r, CMS_V_NEUTRAL, "certificates only, no signature (%d certificate%s)",
		    sk_X509_num(r->certs), sk_X509_num(r->certs) == 1 ? "" : "s");
		goto done;
	}
	if ((content == NULL) == (CMS_get0_content(cms) == NULL || *CMS_get0_content(cms) == NULL)) {
		verdict(r, CMS_V_PERMERROR, content == NULL ? "the signature is detached but no "
		    "content was found" : "the signature carries its own content inside a "
		    "multipart/signed");
		goto done;
	}
	/* Signature and message digest (RFC 5652 §5.6); the chain is checked separately below
	 * so that each failure has its own message. */
	if (CMS_verify(cms, NULL, NULL, content, content_out, CMS_NO_SIGNER_CERT_VERIFY
	    | CMS_BINARY) != 1) {
		ec = ERR_peek_last_error();
		if (ERR_GET_LIB(ec) == ERR_LIB_BIO || ERR_GET_LIB(ec) == ERR_LIB_SYS) {
			err_ssl(e, EX_IOERR, "cannot read the signed content");
			rc = -1;
			goto done;
		}
		switch (ERR_GET_REASON(ec)) {
		case CMS_R_SIGNER_CERTIFICATE_NOT_FOUND:
			verdict(r, CMS_V_NEUTRAL, "the signer's certificate is not in the message");
			break;
		case CMS_R_CONTENT_VERIFY_ERROR:
			verdict(r, CMS_V_FAIL, "message digest mismatch: the content was altered "
			    "after signing");
			break;
		case CMS_R_VERIFICATION_FAILURE:
			verdict(r, CMS_V_FAIL, "the signature does not verify with the signer's key");
			break;
		default:
			verdict(r, CMS_V_FAIL, "the signature does not verify: %s",
			    ERR_reason_error_string(ec) ? ERR_reason_error_string(ec) : "unknown");
		}
		goto done;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	signers = CMS_get0_signers(cms);
	if (signers == NULL || sk_X509_num(signers) == 0 || sk_X509_value(signers, 0) == NULL) {
		verdict(r, CMS_V_NEUTRAL, "the signer's certificate is not in the message");
		goto done;
	}
	r->signer = sk_X509_value(signers, 0);
	X509_up_ref(r->signer);
	signed_attrs(si, r->certs, r);
	r->verdict = CMS_V_PASS;
	if (check_chain(r->signer, r->certs, o, now, r, e) != 0) {
		rc = -1;
		goto done;
	}
	/* The first failure is the verdict: a later check must not overwrite it. */
	if (r->verdict != CMS_V_PASS) {
		if (check_addrs(r->signer, NULL, r, e) != 0)	/* the identifier only */
			rc = -1;
		goto done;
	}
	if (check_addrs(r->signer, o, r, e) != 0) {
		rc = -1;
		goto done;
	}
	if (r->verdict == CMS_V_PASS)
		snprintf(r->reason, sizeof r->reason, "good signature by %s",
		    r->identifier ? r->identifier : "the signer");
	goto done;
oom:
	err_set(e, EX_OSERR, "out of memory");
	rc = -1;
done:
	sk_X509_free(signers);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	if (rc != 0)
		cms_result_free(r);
	return rc;
}

/* ---- opaque signed-data, streamed --------------------------------------------------------- */

#define CMS_PART_MAX	(1 << 20)	/* certificates, CRLs, signer infos together */

/* id-signedData (RFC 5652 §5.1), DER. */
static const unsigned char oid_signed[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x07, 0x02 };

struct fdsrc {
	int fd;
};

static ssize_t
fd_src_read(void *ctx, void *p, size_t n, struct err *e)
{
	ssize_t r = io_read(((struct fdsrc *)ctx)->fd, p, n);

	if (r < 0)
		err_sys(e, EX_IOERR, "cannot read temporary file");
	return r;
}

static int
take_elem(struct ber *b, const struct ber_tlv *parent, unsigned cls, int cons,
    unsigned long tag, const char *what, struct buf *out, size_t limit)
{
	struct ber_tlv t;

	if (ber_expect(b, &t, parent, cls, cons, tag, what) != 0)
		return -1;
	return ber_capture(b, &t, out, limit, 0);
}

/* The eContent [0] EXPLICIT OCTET STRING (RFC 5652 §5.2), its octets to fd. */
static int
econtent(struct ber *b, const struct ber_tlv *eci, int fd, struct err *e)
{
	struct ber_tlv w, os;
	struct ber_octets o;
	unsigned char tmp[16384];
	ssize_t r;

	if (ber_expect(b, &w, eci, BER_CTX, 1, 0, "[0] eContent") != 0
	    || ber_hdr(b, &os) != 0 || ber_fits(b, &w, &os) != 0)
		return -1;
	if (os.cls != BER_UNIV || os.tag != 4)
		return ber_bad(b, "expected eContent OCTET STRING");
	ber_octets_start(&o, &os);
	while ((r = ber_octets_read(b, &o, tmp, sizeof tmp, "eContent")) > 0)
		if (io_write_all(fd, tmp, (size_t)r) != 0)
			return err_sys(e, EX_IOERR, "cannot write temporary file");
	if (r < 0)
		return -1;
	return ber_end(b, &w);
}

int
cms_opaque_split(int in, int content, struct buf *der, int *has_content, struct err *e)
{
	struct fdsrc fs = { in };
	struct ber_src src = { fd_src_read, &fs };
	struct ber b;
	struct ber_tlv ci, wrap, sd, eci, t;
	struct buf oid = { 0 }, ver = { 0 }, algs = { 0 }, ctype = { 0 }, rest = { 0 },
	    x = { 0 }, y = { 0 };
	int m, rc = -1;

	*has_content = 0;
	if (ber_init(&b, &src, e) != 0)
		return -1;
	if (ber_expect(&b, &ci, NULL, BER_UNIV, 1, 16, "ContentInfo SEQUENCE") != 0
	    || take_elem(&b, &ci, BER_UNIV, 0, 6, "content type", &oid, 64) != 0)
		goto out;
	if (oid.len != sizeof oid_signed || memcmp(oid.p, oid_signed, oid.len) != 0) {
		const unsigned char *p = (const unsigned char *)oid.p;
		ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, (long)oid.len);
		int nid = o != NULL ? OBJ_obj2nid(o) : NID_undef;

		ASN1_OBJECT_free(o);
		err_set(e, EX_DATAERR, "the CMS structure is not signed-data (it is %s)",
		    nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
		rc = 1;
		goto out;
	}
	/* ContentInfo (RFC 5652 §3), SignedData (§5.1), EncapsulatedContentInfo (§5.2). */
	if (ber_expect(&b, &wrap, &ci, BER_CTX, 1, 0, "[0] content") != 0
	    || ber_expect(&b, &sd, &wrap, BER_UNIV, 1, 16, "SignedData SEQUENCE") != 0
	    || take_elem(&b, &sd, BER_UNIV, 0, 2, "SignedData version", &ver, 16) != 0
	    || take_elem(&b, &sd, BER_UNIV, 1, 17, "digestAlgorithms SET", &algs, 4096) != 0
	    || ber_expect(&b, &eci, &sd, BER_UNIV, 1, 16, "EncapsulatedContentInfo") != 0
	    || take_elem(&b, &eci, BER_UNIV, 0, 6, "eContentType", &ctype, 256) != 0)
		goto out;
	if ((m = ber_more(&b, &eci)) < 0)
		goto out;
	if (m) {
		if (econtent(&b, &eci, content, e) != 0)
			goto out;
		*has_content = 1;
	}
	if (ber_end(&b, &eci) != 0)
		goto out;
	/* certificates [0], crls [1], signerInfos: kept as they are. */
	while ((m = ber_more(&b, &sd)) > 0)
		if (ber_hdr(&b, &t) != 0 || ber_fits(&b, &sd, &t) != 0
		    || ber_capture(&b, &t, &rest, CMS_PART_MAX, 0) != 0)
			goto out;
	if (m < 0 || ber_end(&b, &sd) != 0 || ber_end(&b, &wrap) != 0 || ber_end(&b, &ci) != 0)
		goto out;
	/* The same SignedData with the content left out (detached, RFC 5652 §5.2). */
	buf_add(&x, ver.p, ver.len);
	buf_add(&x, algs.p, algs.len);
	der_wrap(&x, 0x30, &ctype);
	buf_add(&x, rest.p, rest.len);
	der_wrap(&y, 0x30, &x);
	buf_reset(&x);
	der_wrap(&x, 0xa0, &y);
	buf_reset(&y);
	buf_add(&y, oid.p, oid.len);
	buf_add(&y, x.p, x.len);
	der_wrap(der, 0x30, &y);
	if (buf_check(&x, e) != 0 || buf_check(&y, e) != 0 || buf_check(der, e) != 0)
		goto out;
	rc = 0;
out:
	ber_free(&b);
	buf_free(&oid);
	buf_free(&ver);
	buf_free(&algs);
	buf_free(&ctype);
	buf_free(&rest);
	buf_free(&x);
	buf_free(&y);
	return rc;
}
