/* cms.c — S/MIME SignedData with OpenSSL's CMS API: streaming signing and a verification
 * that names each way it can fail. */
#include "cms.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
#include "ossl_features.h"

/* RFC 8551 §2.5.3 id-aa-encrypKeyPref */
#define OID_ENCRYPT_KEY_PREF "1.2.840.113549.1.9.16.2.11"
/* RFC 6211 id-aa-CMSAlgorithmProtection (no NID in OpenSSL 3.0's headers) */
#define OID_ALG_PROTECTION "1.2.840.113549.1.9.52"

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

static const char *
micalg1(const char *digest, size_t n)
{
	/* RFC 8551 §3.5.3.2; RFC 8419, 9814 and 9882 register no token for SHAKE: "unknown" */
	if (n == 6 && strncmp(digest, "sha384", n) == 0)
		return "sha-384";
	if (n == 6 && strncmp(digest, "sha512", n) == 0)
		return "sha-512";
	if (n == 6 && strncmp(digest, "sha224", n) == 0)
		return "sha-224";
	if (n == 6 && strncmp(digest, "sha256", n) == 0)
		return "sha-256";
	return "unknown";
}

const char *
cms_micalg(const char *digest)
{
	/* Issue 15: two signers with different digests, "sha256,sha512" (cms_sign_digest):
	 * RFC 1847 §2.1 and RFC 8551 §3.5.3.2 list every one, comma-separated. */
	static const struct {
		const char *pair, *micalg;
	} pairs[] = {
		{ "sha256,sha384", "sha-256,sha-384" }, { "sha256,sha512", "sha-256,sha-512" },
		{ "sha384,sha256", "sha-384,sha-256" }, { "sha384,sha512", "sha-384,sha-512" },
		{ "sha512,sha256", "sha-512,sha-256" }, { "sha512,sha384", "sha-512,sha-384" },
	};
	size_t i;

	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		if (strcmp(digest, pairs[i].pair) == 0)
			return pairs[i].micalg;
	return micalg1(digest, strlen(digest));
}

/*
 * Issue 15: the digest a key's algorithm prescribes for signed attributes, in *d; *d is left
 * alone for keys that take the one asked for. EX_UNAVAILABLE for keys this OpenSSL cannot
 * make CMS signatures with.
 */
static int
key_digest(EVP_PKEY *pk, const char **d, struct err *e)
{
	const char *name = EVP_PKEY_get0_type_name(pk);

	if (EVP_PKEY_is_a(pk, "ED25519")) {
		*d = "sha512";	/* RFC 8419 §3.1 */
		return 0;
	}
	if (EVP_PKEY_is_a(pk, "ED448")) {
#ifndef HAVE_CMS_ED448_SIGN
		return err_set(e, EX_UNAVAILABLE, "this OpenSSL cannot make Ed448 CMS signatures "
		    "(RFC 8419 §3.1 wants SHAKE256 identified as id-shake256-len with 512 bits; "
		    "OpenSSL writes id-shake256 without the length)");
#else
		*d = "shake256";
		return 0;
#endif
	}
	if (name == NULL)
		return 0;
	/* RFC 9882 §3.3: SHA-512 MUST be supported for every ML-DSA parameter set (and it is the
	 * only digest as strong as ML-DSA-87). */
	if (strncmp(name, "ML-DSA-", 7) == 0) {
		*d = "sha512";
		return 0;
	}
	/* RFC 9814 §4: SHA-256 with the SHA2 128-bit sets, SHA-512 with the 192- and 256-bit
	 * ones; the SHAKE sets want SHAKE128/256, for which S/MIME has no micalg yet. */
	if (strncmp(name, "SLH-DSA-SHA2-128", 16) == 0) {
		*d = "sha256";
		return 0;
	}
	if (strncmp(name, "SLH-DSA-SHA2-", 13) == 0) {
		*d = "sha512";
		return 0;
	}
	if (strncmp(name, "SLH-DSA-SHAKE", 13) == 0)
		return err_set(e, EX_UNAVAILABLE, "%s signatures are not supported (RFC 9814 pairs "
		    "them with SHAKE, which S/MIME has no micalg for); use an SLH-DSA-SHA2 key", name);
	return 0;
}

static const char *
digest_name(const char *d, struct err *e)
{
	if (d == NULL || strcmp(d, "sha256") == 0 || strcmp(d, "sha-256") == 0
	    || strcmp(d, "SHA256") == 0)
		return "sha256";
	if (strcmp(d, "sha384") == 0 || strcmp(d, "sha-384") == 0 || strcmp(d, "SHA384") == 0)
		return "sha384";
	if (strcmp(d, "sha512") == 0 || strcmp(d, "sha-512") == 0 || strcmp(d, "SHA512") == 0)
		return "sha512";
	err_set(e, EX_USAGE, "unsupported digest '%s' (sha256, sha384 or sha512)", d);
	return NULL;
}

const char *
cms_sign_digest(const struct keys_identity *id, const struct cms_sign_opts *o, struct err *e)
{
	static const char *const pairs[] = { "sha256,sha384", "sha256,sha512", "sha384,sha256",
	    "sha384,sha512", "sha512,sha256", "sha512,sha384" };
	const char *d, *d2;
	char both[32];
	size_t i;

	if ((d = digest_name(o->digest, e)) == NULL)
		return NULL;
	d2 = d;
	if (id != NULL && id->pkey != NULL && key_digest(id->pkey, &d, e) != 0)
		return NULL;
	if (o->second == NULL || o->second->pkey == NULL)
		return d;
	if (key_digest(o->second->pkey, &d2, e) != 0)
		return NULL;
	if (strcmp(d, d2) == 0)
		return d;
	snprintf(both, sizeof both, "%s,%s", d, d2);
	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		if (strcmp(both, pairs[i]) == 0)
			return pairs[i];
	err_set(e, EX_UNAVAILABLE, "cannot sign with both keys: digests %s and %s", d, d2);
	return NULL;
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

/* ---- SMIMECapabilities (issue 13) ---- */

static const struct {
	const char *name;
	int nid;
} cap_ciphers[] = {
	{ "aes-256-gcm", NID_aes_256_gcm },
	{ "aes-128-gcm", NID_aes_128_gcm },
	{ "aes-256-cbc", NID_aes_256_cbc },
	{ "aes-128-cbc", NID_aes_128_cbc },
};

/* The presets of cms.h; what each means for correspondents is in smime-sign(1). */
static const struct {
	const char *name;
	const char *list;
} cap_presets[] = {
	{ "secmail", "aes-256-gcm,aes-128-gcm,aes-256-cbc,aes-128-cbc" },
	{ "cbc", "aes-256-cbc,aes-128-cbc" },
	{ "openssl-smime", "aes-256-cbc,aes-128-cbc" },
	{ "neomutt", "aes-256-cbc,aes-128-cbc" },
	{ "mutt", "aes-256-cbc,aes-128-cbc" },
	{ "s-nail", "aes-256-cbc,aes-128-cbc" },
	{ "gpgsm", "aes-256-cbc,aes-128-cbc" },
	{ "nss", "aes-256-cbc,aes-128-cbc" },
};

int
cms_caps_parse(const char *spec, int *nids, int max, int *n, struct err *e)
{
	char list[128], *tok, *save = NULL;
	size_t i;
	int j;

	*n = 0;
	for (i = 0; i < sizeof cap_presets / sizeof cap_presets[0]; i++)
		if (strcmp(spec, cap_presets[i].name) == 0)
			spec = cap_presets[i].list;
	if ((size_t)snprintf(list, sizeof list, "%s", spec) >= sizeof list)
		return err_set(e, EX_USAGE, "capabilities: the list is too long");
	for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		for (i = 0; i < sizeof cap_ciphers / sizeof cap_ciphers[0]; i++)
			if (strcasecmp(tok, cap_ciphers[i].name) == 0)
				break;
		if (i == sizeof cap_ciphers / sizeof cap_ciphers[0])
			return err_set(e, EX_USAGE, "capabilities: '%s' is neither a preset (secmail, "
			    "cbc, openssl-smime, neomutt, mutt, s-nail, gpgsm, nss) nor a cipher "
			    "smime-encrypt offers (aes-256-gcm, aes-128-gcm, aes-256-cbc, "
			    "aes-128-cbc)", tok);
		for (j = 0; j < *n; j++)
			if (nids[j] == cap_ciphers[i].nid)
				return err_set(e, EX_USAGE, "capabilities: %s is named twice", tok);
		if (*n >= max)
			return err_set(e, EX_USAGE, "capabilities: too many");
		nids[(*n)++] = cap_ciphers[i].nid;
	}
	if (*n == 0)
		return err_set(e, EX_USAGE, "capabilities: the list is empty");
	return 0;
}

static int
add_attrs(CMS_SignerInfo *si, const struct cms_sign_opts *o, struct err *e)
{
	/* RFC 8551 §2.5.2: what smime-encrypt can do, strongest first, unless the signer
	 * reads mail with software that cannot open all of it (o->caps). */
	static const int caps[] = { NID_aes_256_gcm, NID_aes_128_gcm, NID_aes_256_cbc,
	    NID_aes_128_cbc };
	const int *cv = o->caps != NULL ? o->caps : caps;
	size_t i, nc = o->caps != NULL ? (size_t)o->ncaps : sizeof caps / sizeof caps[0];
	STACK_OF(X509_ALGOR) *algs = NULL;
	ASN1_TIME *t;
	int ok;

	for (i = 0; i < nc; i++)
		if (!CMS_add_simple_smimecap(&algs, cv[i], -1))
			goto bad;
#ifdef HAVE_CMS_KEMRI
	/* Issue 15: an ML-KEM encryption certificate announced with it, so the signer can
	 * open KEMRecipientInfo: its algorithm too (RFC 9936: the OID, no parameters), after
	 * the content-encryption algorithms. */
	if (o->enc_cert != NULL && keys_is_pq(X509_get0_pubkey(o->enc_cert))) {
		ASN1_OBJECT *kem = NULL;

		if (!X509_PUBKEY_get0_param(&kem, NULL, NULL, NULL,
		    X509_get_X509_PUBKEY(o->enc_cert)) || OBJ_obj2nid(kem) == NID_undef
		    || !CMS_add_simple_smimecap(&algs, OBJ_obj2nid(kem), -1))
			goto bad;
	}
#endif
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

/* ---- signed receipts (RFC 2634 §2), issue 14 ---- */

/* RFC 2634 §2.7: receipts from all recipients (allOrFirstTier allReceipts), to o->receipt_to
 * as rfc822Name GeneralNames; the signedContentIdentifier is 32 random octets. */
static int
add_receipt_request(CMS_SignerInfo *si, const struct cms_sign_opts *o, struct err *e)
{
	STACK_OF(GENERAL_NAMES) *to = sk_GENERAL_NAMES_new_null();
	CMS_ReceiptRequest *rr = NULL;
	size_t i;
	int ok;

	for (i = 0; to != NULL && o->receipt_to[i] != NULL; i++) {
		GENERAL_NAMES *gns = sk_GENERAL_NAME_new_null();
		GENERAL_NAME *gn = GENERAL_NAME_new();
		ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

		if (gns == NULL || gn == NULL || ia5 == NULL
		    || !ASN1_STRING_set(ia5, o->receipt_to[i], (int)strlen(o->receipt_to[i]))) {
			sk_GENERAL_NAME_free(gns);
			GENERAL_NAME_free(gn);
			ASN1_IA5STRING_free(ia5);
			goto bad;
		}
		GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
		if (!sk_GENERAL_NAME_push(gns, gn)) {
			GENERAL_NAME_free(gn);
			sk_GENERAL_NAME_free(gns);
			goto bad;
		}
		if (!sk_GENERAL_NAMES_push(to, gns)) {
			GENERAL_NAMES_free(gns);
			goto bad;
		}
	}
	if (to == NULL || (rr = CMS_ReceiptRequest_create0(NULL, 32, 0, NULL, to)) == NULL)
		goto bad;
	ok = CMS_add1_ReceiptRequest(si, rr);
	CMS_ReceiptRequest_free(rr);
	if (!ok)
		return err_ssl(e, EX_SOFTWARE, "cannot add the receipt request");
	return 0;
bad:
	sk_GENERAL_NAMES_pop_free(to, GENERAL_NAMES_free);
	return err_ssl(e, EX_SOFTWARE, "cannot make the receipt request");
}

int
cms_sign_receipt_record(struct cms_sign *s, struct buf *der, unsigned char *id, size_t *idlen,
    struct err *e)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(s->cms);
	CMS_ReceiptRequest *rr = NULL;
	ASN1_STRING *scid = NULL;
	unsigned char *p = NULL;
	int n, all;

	if (sis == NULL || sk_CMS_SignerInfo_num(sis) < 1
	    || CMS_get1_ReceiptRequest(sk_CMS_SignerInfo_value(sis, 0), &rr) <= 0)
		return err_ssl(e, EX_SOFTWARE, "the signature carries no receipt request");
	CMS_ReceiptRequest_get0_values(rr, &scid, &all, NULL, NULL);
	if (scid == NULL || ASN1_STRING_length(scid) <= 0 || ASN1_STRING_length(scid) > 128) {
		CMS_ReceiptRequest_free(rr);
		return err_set(e, EX_SOFTWARE, "the receipt request has no usable identifier");
	}
	*idlen = (size_t)ASN1_STRING_length(scid);
	memcpy(id, ASN1_STRING_get0_data(scid), *idlen);
	CMS_ReceiptRequest_free(rr);
	/* the content (streamed, never held) is not needed: only the signer info is */
	if (!CMS_is_detached(s->cms) && !CMS_set_detached(s->cms, 1))
		return err_ssl(e, EX_SOFTWARE, "cannot detach the content");
	if ((n = i2d_CMS_ContentInfo(s->cms, &p)) <= 0)
		return err_ssl(e, EX_SOFTWARE, "cannot encode the signature");
	buf_add(der, p, (size_t)n);
	OPENSSL_free(p);
	return buf_check(der, e);
}

/* RFC 2634 §2.7: a receipt request in the signer info: note it, and its first receiptsTo
 * address. */
static void
receipt_request(CMS_SignerInfo *si, struct cms_result *r)
{
	CMS_ReceiptRequest *rr = NULL;
	STACK_OF(GENERAL_NAMES) *to = NULL;
	int i, j;

	if (CMS_get1_ReceiptRequest(si, &rr) <= 0) {
		ERR_clear_error();
		return;
	}
	r->receipt_request = 1;
	CMS_ReceiptRequest_get0_values(rr, NULL, NULL, NULL, &to);
	for (i = 0; i < sk_GENERAL_NAMES_num(to) && r->receipt_to[0] == '\0'; i++) {
		GENERAL_NAMES *gns = sk_GENERAL_NAMES_value(to, i);

		for (j = 0; j < sk_GENERAL_NAME_num(gns); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, j);
			int type;
			ASN1_STRING *v = GENERAL_NAME_get0_value(gn, &type);

			if (type == GEN_EMAIL && v != NULL && ASN1_STRING_length(v) > 0
			    && (size_t)ASN1_STRING_length(v) < sizeof r->receipt_to
			    && memchr(ASN1_STRING_get0_data(v), '\0', (size_t)ASN1_STRING_length(v))
			    == NULL) {
				memcpy(r->receipt_to, ASN1_STRING_get0_data(v),
				    (size_t)ASN1_STRING_length(v));
				r->receipt_to[ASN1_STRING_length(v)] = '\0';
				break;
			}
		}
	}
	CMS_ReceiptRequest_free(rr);
	ERR_clear_error();
}

static int
is_rsa(EVP_PKEY *pk)
{
	return pk != NULL && (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS"));
}

/* The new signature algorithms (issue 15), whose SignerInfos get CMSAlgorithmProtection. */
static int
is_new_sig_alg(EVP_PKEY *pk)
{
	const char *name = EVP_PKEY_get0_type_name(pk);

	return EVP_PKEY_is_a(pk, "ED25519") || EVP_PKEY_is_a(pk, "ED448") || (name != NULL
	    && (strncmp(name, "ML-DSA-", 7) == 0 || strncmp(name, "SLH-DSA-", 8) == 0));
}

/* Can this OpenSSL make a CMS signature with pk? The build-time probes first, then the
 * provider in use now (keys_alg_available): EX_UNAVAILABLE naming what is missing. */
static int
signer_supported(EVP_PKEY *pk, struct err *e)
{
	const char *name = EVP_PKEY_get0_type_name(pk);

	if (EVP_PKEY_is_a(pk, "ED25519")) {
#ifndef HAVE_CMS_ED25519_SIGN
		return err_set(e, EX_UNAVAILABLE, "this OpenSSL cannot make Ed25519 CMS signatures "
		    "(RFC 8419): %s", OpenSSL_version(OPENSSL_VERSION));
#endif
	} else if (name != NULL && strncmp(name, "ML-DSA-", 7) == 0) {
#ifndef HAVE_CMS_ML_DSA_SIGN
		return err_set(e, EX_UNAVAILABLE, "this OpenSSL cannot make %s CMS signatures "
		    "(RFC 9882): %s", name, OpenSSL_version(OPENSSL_VERSION));
#endif
	} else if (name != NULL && strncmp(name, "SLH-DSA-", 8) == 0) {
#ifndef HAVE_CMS_SLH_DSA_SIGN
		return err_set(e, EX_UNAVAILABLE, "this OpenSSL cannot make %s CMS signatures "
		    "(RFC 9814): %s", name, OpenSSL_version(OPENSSL_VERSION));
#endif
	} else {
		return 0;
	}
	return keys_alg_available(name, KEYS_ALG_SIGNATURE, e);
}

/*
 * RFC 6211 CMSAlgorithmProtection ::= SEQUENCE { digestAlgorithm DigestAlgorithmIdentifier,
 * signatureAlgorithm [1] IMPLICIT SignatureAlgorithmIdentifier OPTIONAL, ... }: the two
 * identifiers of the SignerInfo, signed, so that neither can be swapped (RFC 9882 §6).
 */
static int
add_alg_protection(CMS_SignerInfo *si, struct err *e)
{
	X509_ALGOR *dig = NULL, *sig = NULL;
	unsigned char *dd = NULL, *sd = NULL, *der = NULL, *p;
	ASN1_OBJECT *obj = NULL;
	int dl, sl, total, ok = 0;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	if (dig == NULL || sig == NULL)
		goto out;
	dl = i2d_X509_ALGOR(dig, &dd);
	sl = i2d_X509_ALGOR(sig, &sd);
	if (dl <= 0 || sl <= 0 || sd[0] != 0x30)
		goto out;
	sd[0] = 0xa1;	/* [1] IMPLICIT: the same constructed contents, context tag 1 */
	total = ASN1_object_size(1, dl + sl, V_ASN1_SEQUENCE);
	if (total <= 0 || (der = OPENSSL_malloc((size_t)total)) == NULL)
		goto out;
	p = der;
	ASN1_put_object(&p, 1, dl + sl, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(p, dd, (size_t)dl);
	memcpy(p + dl, sd, (size_t)sl);
	obj = OBJ_txt2obj(OID_ALG_PROTECTION, 1);
	ok = obj != NULL && CMS_signed_add1_attr_by_OBJ(si, obj, V_ASN1_SEQUENCE, der, total);
out:
	ASN1_OBJECT_free(obj);
	OPENSSL_free(dd);
	OPENSSL_free(sd);
	OPENSSL_free(der);
	return ok ? 0 : err_ssl(e, EX_SOFTWARE, "cannot add the CMSAlgorithmProtection attribute");
}

/* A certificate into the SignedData unless it is there already (two signers share a chain). */
static int
add_cert_once(CMS_ContentInfo *cms, X509 *x)
{
	STACK_OF(X509) *have = CMS_get1_certs(cms);
	int i, found = 0;

	for (i = 0; i < sk_X509_num(have) && !found; i++)
		found = X509_cmp(sk_X509_value(have, i), x) == 0;
	sk_X509_pop_free(have, X509_free);
	ERR_clear_error();
	return found || CMS_add1_cert(cms, x);
}

static int
add_signer(CMS_ContentInfo *cms, const struct keys_identity *id, const char *dname,
    const struct cms_sign_opts *o, int first, struct err *e)
{
	CMS_SignerInfo *si;
	const EVP_MD *md;
	int i, pss, sflags;

	if (id->pkey == NULL || id->cert == NULL)
		return err_set(e, EX_USAGE, "signing needs a certificate and its private key");
	if (signer_supported(id->pkey, e) != 0)
		return -1;
	pss = o->pss && is_rsa(id->pkey);
	/* OpenSSL 3.0 cannot stream an encapsulated signature with RSA-PSS parameters ("illegal
	 * zero content" at the end, as `openssl cms -sign -nodetach -stream` shows), and the
	 * content is never held in memory here. */
	if (pss && o->opaque)
		return err_set(e, EX_UNAVAILABLE, "RSA-PSS with --opaque is not supported (OpenSSL "
		    "cannot stream it); use the default multipart/signed form");
	if ((md = EVP_get_digestbyname(dname)) == NULL)
		return err_ssl(e, EX_SOFTWARE, "digest %s unavailable", dname);
	sflags = CMS_NOSMIMECAP | CMS_BINARY | CMS_PARTIAL | (pss ? CMS_KEY_PARAM : 0);
	if ((si = CMS_add1_signer(cms, id->cert, id->pkey, md, sflags)) == NULL)
		return err_ssl(e, EX_SOFTWARE, "cannot set up the signature");
	if (pss) {
		EVP_PKEY_CTX *pctx = CMS_SignerInfo_get0_pkey_ctx(si);

		/* RFC 4056 §3: salt as long as the digest output, MGF1 with the same hash. */
		if (pctx == NULL || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0
		    || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0
		    || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0)
			return err_ssl(e, EX_SOFTWARE, "cannot set up the signature");
	}
	if (add_attrs(si, o, e) != 0)
		return -1;
	/* One receipt request, in the first SignerInfo: the receipt binds that signature. */
	if (first && o->receipt_to != NULL && add_receipt_request(si, o, e) != 0)
		return -1;
	if (is_new_sig_alg(id->pkey) && add_alg_protection(si, e) != 0)
		return -1;
	for (i = 0; i < sk_X509_num(id->chain); i++)
		if (!add_cert_once(cms, sk_X509_value(id->chain, i)))
			return err_ssl(e, EX_SOFTWARE, "cannot set up the signature");
	return 0;
}

struct cms_sign *
cms_sign_new(const struct keys_identity *id, const struct cms_sign_opts *o,
    const struct sink *out, struct err *e)
{
	struct cms_sign *s;
	const char *dname, *comma;
	char d1[16];

	if (id->pkey == NULL || id->cert == NULL) {
		err_set(e, EX_USAGE, "signing needs a certificate and its private key");
		return NULL;
	}
	if ((dname = cms_sign_digest(id, o, e)) == NULL)
		return NULL;
	if (o->pss && !is_rsa(id->pkey) && (o->second == NULL || !is_rsa(o->second->pkey))) {
		err_set(e, EX_USAGE, "--pss needs an RSA key");
		return NULL;
	}
	/* "sha256,sha512": the first signer's digest, then the second's */
	comma = strchr(dname, ',');
	snprintf(d1, sizeof d1, "%.*s", comma != NULL ? (int)(comma - dname) : (int)strlen(dname),
	    dname);
	if ((s = calloc(1, sizeof *s)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	/* The content is already canonical (RFC 8551 §3.1.1): CMS_BINARY, no translation. */
	s->cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_STREAM | CMS_BINARY
	    | (o->opaque ? 0 : CMS_DETACHED));
	if (s->cms == NULL)
		goto bad;
	if (add_signer(s->cms, id, d1, o, 1, e) != 0)
		goto fail;
	if (o->second != NULL) {
		if (X509_cmp(o->second->cert, id->cert) == 0) {
			err_set(e, EX_USAGE, "the two signing certificates are the same");
			goto fail;
		}
		if (add_signer(s->cms, o->second, comma != NULL ? comma + 1 : d1, o, 0, e) != 0)
			goto fail;
		if (!add_cert_once(s->cms, o->second->cert))
			goto bad;
	}
	if (o->enc_cert != NULL && X509_cmp(o->enc_cert, id->cert) != 0
	    && !add_cert_once(s->cms, o->enc_cert))
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
	keys_addrs_free(r->signer_addrs);
	X509_free(r->enc_cert);
	sk_X509_pop_free(r->certs, X509_free);
	sk_X509_pop_free(r->chain, X509_free);
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

/* Signing time and SMIMECapabilities (RFC 8551 §2.5.1, §2.5.2). */
static void
signed_attrs(CMS_SignerInfo *si, struct cms_result *r)
{
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
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
	ERR_clear_error();
}

/* RFC 8551 §2.5.3 SMIMEEncryptionKeyPreference, the issuerAndSerialNumber choice (the only
 * one looked for): 1 with name and serial set, 0 when the attribute is absent or names the
 * certificate another way, -1 when it cannot be read. */
static int
enc_pref(CMS_SignerInfo *si, X509_NAME **name, ASN1_INTEGER **serial)
{
	ASN1_OBJECT *pref = OBJ_txt2obj(OID_ENCRYPT_KEY_PREF, 1);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	const unsigned char *p, *q;
	long len;
	int i, tag, cls, inf;

	*name = NULL;
	*serial = NULL;
	i = pref != NULL ? CMS_signed_get_attr_by_OBJ(si, pref, -1) : -1;
	ASN1_OBJECT_free(pref);
	if (i < 0)
		return 0;
	if ((a = CMS_signed_get_attr(si, i)) == NULL || (t = X509_ATTRIBUTE_get0_type(a, 0)) == NULL
	    || t->type != V_ASN1_OTHER)
		return -1;
	p = t->value.asn1_string->data;
	inf = ASN1_get_object(&p, &len, &tag, &cls, t->value.asn1_string->length);
	if ((inf & 0x80) || cls != V_ASN1_CONTEXT_SPECIFIC)
		return -1;
	if (tag != 0)
		return 0;	/* receipentKeyId or subjectAltKeyIdentifier */
	q = p;
	if ((*name = d2i_X509_NAME(NULL, &q, len)) == NULL
	    || (*serial = d2i_ASN1_INTEGER(NULL, &q, len - (q - p))) == NULL) {
		X509_NAME_free(*name);
		*name = NULL;
		return -1;
	}
	return 1;
}

static X509_STORE *
trust_store(const struct cms_verify_opts *o, struct err *e)
{
	X509_STORE *st;

	if (o->anchors != NULL) {
		if (!X509_STORE_up_ref(o->anchors)) {
			err_ssl(e, EX_OSERR, "out of memory");
			return NULL;
		}
		return o->anchors;
	}
	if ((st = X509_STORE_new()) == NULL) {
		err_ssl(e, EX_OSERR, "out of memory");
		return NULL;
	}
	if (o->ca_file == NULL && o->ca_path == NULL) {
		if (!X509_STORE_set_default_paths(st))
			goto bad;
	} else if (!X509_STORE_load_locations(st, o->ca_file, o->ca_path)) {
		/* The filter contract: a certificate file that cannot be read is transient. */
		err_ssl(e, EX_TEMPFAIL, "cannot load trust anchors from %s", o->ca_file ? o->ca_file
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

X509_STORE *
cms_load_anchors(const struct cms_verify_opts *o, struct err *e)
{
	struct cms_verify_opts fresh = *o;

	fresh.anchors = NULL;
	return trust_store(&fresh, e);
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

/* The chain errors that only say no trust anchor was reached. */
static int
no_anchor(int code)
{
	return code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
	    || code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
	    || code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
	    || code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
	    || code == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
	    || code == X509_V_ERR_CERT_UNTRUSTED;
}

/* A CA above an e-mail certificate whose extended key usage excludes e-mail protection (a
 * TLS-only sub-CA) does not vouch for it: OpenSSL's S/MIME purposes refuse such a CA, and so do
 * the paths that verify without one (stored and encryption certificates). The first such CA,
 * or NULL. */
static X509 *
ca_not_for_email(STACK_OF(X509) *chain)
{
	int i;

	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *ca = sk_X509_value(chain, i);

		if ((X509_get_extension_flags(ca) & EXFLAG_XKUSAGE)
		    && !(X509_get_extended_key_usage(ca) & (XKU_SMIME | XKU_ANYEKU)))
			return ca;
	}
	return NULL;
}

/* X509_verify_cert of x against st at now: the X509_V_* result; on X509_V_OK *chain (if not
 * NULL) gets the certificates above x. -1 with e set when it cannot be run. */
static int
verify_in(X509_STORE *st, X509 *x, STACK_OF(X509) *untrusted, time_t now, int purpose,
    unsigned long flags, STACK_OF(X509) **chain, struct err *e)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int code;

	if (ctx == NULL || !X509_STORE_CTX_init(ctx, st, x, untrusted)) {
		X509_STORE_CTX_free(ctx);
		return err_ssl(e, EX_OSERR, "cannot set up certificate verification");
	}
	X509_STORE_CTX_set_time(ctx, 0, now);
	if (flags != 0)
		X509_STORE_CTX_set_flags(ctx, flags);
	if (purpose != 0)
		X509_STORE_CTX_set_purpose(ctx, purpose);
	if (X509_verify_cert(ctx) == 1) {
		code = X509_V_OK;
		if (chain != NULL) {
			if ((*chain = X509_STORE_CTX_get1_chain(ctx)) == NULL) {
				X509_STORE_CTX_free(ctx);
				return err_ssl(e, EX_OSERR, "out of memory");
			}
			X509_free(sk_X509_shift(*chain));	/* x itself */
		}
	} else if ((code = X509_STORE_CTX_get_error(ctx)) == X509_V_OK) {
		code = X509_V_ERR_UNSPECIFIED;
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return code;
}

/* The chain of x: to an anchor of st, or - when none is reached and x is pinned - with x as
 * its own anchor (every other check, purpose and validity, still made). */
static int
chain_of(X509 *x, STACK_OF(X509) *untrusted, X509_STORE *st, const struct cms_verify_opts *o,
    time_t now, int purpose, STACK_OF(X509) **chain, struct err *e)
{
	X509_STORE *pst;
	int code = verify_in(st, x, untrusted, now, purpose, 0, chain, e);

	if (code == X509_V_OK || code < 0 || !no_anchor(code) || !is_pinned(o, x))
		return code;
	if ((pst = X509_STORE_new()) == NULL || !X509_STORE_add_cert(pst, x)) {
		X509_STORE_free(pst);
		return err_ssl(e, EX_OSERR, "out of memory");
	}
	code = verify_in(pst, x, NULL, now, purpose, X509_V_FLAG_PARTIAL_CHAIN, chain, e);
	X509_STORE_free(pst);
	return code;
}

/* The signer: validity, chain, purpose. 0 with a verdict set (pass stays pass), -1 on hard
 * errors. On pass r->chain holds what verified above the signer. */
static int
check_chain(X509 *signer, X509_STORE *st, const struct cms_verify_opts *o, time_t now,
    struct cms_result *r, struct err *e)
{
	char a[64], b[64];
	int code;

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
	/* emailProtection when an EKU is present, digitalSignature/nonRepudiation when a key
	 * usage is (RFC 8550 §4.4.2, §4.4.4). */
	code = chain_of(signer, r->certs, st, o, now, X509_PURPOSE_SMIME_SIGN, &r->chain, e);
	if (code < 0)
		return -1;
	switch (code) {
	case X509_V_OK:
		return 0;
	case X509_V_ERR_INVALID_PURPOSE:
		return verdict(r, CMS_V_POLICY, "the signer's certificate is not for e-mail "
		    "protection (extended key usage or key usage)");
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return verdict(r, CMS_V_FAIL, "a certificate in the signer's chain has expired");
	default:
		if (no_anchor(code))
			return verdict(r, CMS_V_FAIL, "the signer's certificate does not chain to a "
			    "trusted root (%s)", X509_verify_cert_error_string(code));
		return verdict(r, CMS_V_FAIL, "the signer's certificate does not verify: %s",
		    X509_verify_cert_error_string(code));
	}
}

/* A certificate's common name for messages (printable ASCII; others as '?'). */
static void
cert_cn(X509 *x, char *buf, size_t n)
{
	X509_NAME *nm = X509_get_subject_name(x);
	unsigned char *u = NULL;
	int i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1), len = -1, j;

	if (i >= 0)
		len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)));
	if (len < 0) {
		snprintf(buf, n, "(no common name)");
	} else {
		for (j = 0; j < len; j++)
			if (u[j] < 0x20 || u[j] >= 0x7f || u[j] == '"')
				u[j] = '?';
		snprintf(buf, n, "%.*s", len > 100 ? 100 : len, (char *)u);
	}
	OPENSSL_free(u);
	ERR_clear_error();
}

static void
utc_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL
	    || strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, n, "an unknown time");
}

/* The verdict for a revoked certificate in the signer's chain (see cms.h). */
static int
revoked(struct cms_result *r, X509 *x, const char *whose, const struct revoke_answer *a)
{
	char who[200], cn[120], when[40], st[40];

	if (x == r->signer) {
		snprintf(who, sizeof who, "%s", whose);
	} else {
		cert_cn(x, cn, sizeof cn);
		snprintf(who, sizeof who, "the certificate of \"%s\", a CA in the signer's chain", cn);
	}
	utc_time(a->when, when, sizeof when);
	if (r->signing_time != 0 && a->when > r->signing_time) {
		utc_time(r->signing_time, st, sizeof st);
		/* RFC 5280 §5.3.1: only these reasons say the key was in other hands. */
		if (!revoke_reason_voids_past(a->reason))
			return verdict(r, CMS_V_POLICY, "%s was revoked on %s (%s), after the signing "
			    "time %s; that reason does not void earlier signatures, but the signing "
			    "time is the signer's own claim and the certificate is no longer valid "
			    "(%s)", who, when, revoke_reason_name(a->reason), st, a->source);
		return verdict(r, CMS_V_FAIL, "%s was revoked on %s (%s), after the signing time "
		    "%s, which a stolen key can set to anything (%s)", who, when,
		    revoke_reason_name(a->reason), st, a->source);
	}
	return verdict(r, CMS_V_FAIL, "%s was revoked on %s (%s; %s)", who, when,
	    revoke_reason_name(a->reason), a->source);
}

/* RFC 5280 §6.3, RFC 6960: x and each CA certificate of chain (what verified above it) but
 * the trust anchor, each against its issuer. 1 when one is revoked (*which, a say which and
 * how), 0 when none is known to be (unknown says whose status is not known and why, or is
 * ""), -1 on hard errors. whose: how x is named. */
static int
chain_revocation(const struct cms_verify_opts *o, X509 *x, STACK_OF(X509) *chain,
    const char *whose, struct revoke_answer *a, X509 **which, char *unknown, size_t un,
    struct err *e)
{
	char who[200], cn[120];
	int i, n = sk_X509_num(chain), strict = revoke_mode(o->revoke) == REVOKE_STRICT;

	unknown[0] = '\0';
	for (i = -1; i < n - 1; i++) {
		*which = i < 0 ? x : sk_X509_value(chain, i);
		if (revoke_check(o->revoke, *which, sk_X509_value(chain, i + 1), a, e) != 0)
			return -1;
		if (a->status == REVOKE_REVOKED)
			return 1;
		if (a->status == REVOKE_GOOD || unknown[0] != '\0' || (!a->asked && !strict))
			continue;
		if (i < 0) {
			snprintf(who, sizeof who, "%s", whose);
		} else {
			cert_cn(*which, cn, sizeof cn);
			snprintf(who, sizeof who, "CA \"%s\"", cn);
		}
		if (a->asked)
			snprintf(unknown, un, "revocation status of %s unknown (%s)", who, a->why);
		else
			snprintf(unknown, un, "revocation status of %s unknown: it names no CRL "
			    "distribution point or OCSP responder%s%s", who, a->why[0] ? "; " : "",
			    a->why);
	}
	return 0;
}

/* A status that could not be learnt: in strict mode temperror, else the pass stays with
 * unknown in rev_note (the first one only). */
static void
revocation_unknown(const struct cms_verify_opts *o, struct cms_result *r, const char *unknown)
{
	size_t len;

	if (revoke_mode(o->revoke) == REVOKE_STRICT) {
		verdict(r, CMS_V_TEMPERROR, "%.360s (strict revocation checking)", unknown);
		return;
	}
	if (r->rev_note[0] != '\0')
		return;
	/* One line for people: a long list of sources is cut short. */
	if ((len = strlen(unknown)) >= sizeof r->rev_note)
		len = sizeof r->rev_note - 1;
	memcpy(r->rev_note, unknown, len);
	r->rev_note[len] = '\0';
}

/* The signer's chain (chain_revocation): 0 with the verdict set, -1 on hard errors. whose:
 * how the signer's certificate is named in the reason. */
static int
check_revocation(const struct cms_verify_opts *o, struct cms_result *r, const char *whose,
    struct err *e)
{
	struct revoke_answer a;
	char unknown[800];
	X509 *x;
	int k;

	if ((k = chain_revocation(o, r->signer, r->chain, whose, &a, &x, unknown, sizeof unknown,
	    e)) != 0)
		return k < 0 ? -1 : revoked(r, x, whose, &a);
	if (unknown[0] != '\0')
		revocation_unknown(o, r, unknown);
	return 0;
}

int
cms_cert_verify(X509 *x, STACK_OF(X509) *untrusted, const struct cms_verify_opts *o,
    STACK_OF(X509) **chain, char *why, size_t n, struct err *e)
{
	time_t now = o->now ? o->now : time(NULL);
	struct cms_result r;
	X509_STORE *st;
	int code;

	*chain = NULL;
	if ((st = trust_store(o, e)) == NULL)
		return -1;
	code = verify_in(st, x, untrusted, now, 0, 0, chain, e);
	X509_STORE_free(st);
	if (code < 0)
		return -1;
	if (code != X509_V_OK)
		return snprintf(why, n, "%s: %s", no_anchor(code) ? "it does not chain to a trust "
		    "anchor" : "it does not verify", X509_verify_cert_error_string(code)), 1;
	/* RFC 8550 §4.4.4 */
	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE)
	    && !(X509_get_extended_key_usage(x) & (XKU_SMIME | XKU_ANYEKU))) {
		snprintf(why, n, "it is not for e-mail protection (extended key usage)");
		goto no;
	}
	if (ca_not_for_email(*chain) != NULL) {
		snprintf(why, n, "a CA above it is not for e-mail protection (extended key usage)");
		goto no;
	}
	if (o->revoke == NULL)
		return 0;
	memset(&r, 0, sizeof r);
	r.verdict = CMS_V_PASS;
	r.signer = x;
	r.chain = *chain;
	if (check_revocation(o, &r, "the certificate", e) != 0) {
		sk_X509_pop_free(*chain, X509_free);
		*chain = NULL;
		return -1;
	}
	if (r.verdict == CMS_V_PASS)
		return 0;
	snprintf(why, n, "%s", r.reason);
no:
	sk_X509_pop_free(*chain, X509_free);
	*chain = NULL;
	return 1;
}

/* Is x fit to encrypt to for the signer? 0 yes (*chain: what verified above it), 1 no (why
 * in r->enc_note), -1 on hard errors. */
static int
enc_usable(X509 *x, X509_STORE *st, const struct cms_verify_opts *o, time_t now,
    struct cms_result *r, STACK_OF(X509) **chain, struct err *e)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	uint32_t flags = X509_get_extension_flags(x);
	char **names;
	size_t i, j;
	int code, rsa, named = 0;

	ERR_clear_error();
	/* The chain (under the issuer's key: a CA of the same name but another key fails). */
	code = chain_of(x, r->certs, st, o, now, 0, chain, e);
	if (code < 0)
		return -1;
	if (code != X509_V_OK) {
		snprintf(r->enc_note, sizeof r->enc_note, "it does not verify (%s)",
		    X509_verify_cert_error_string(code));
		return 1;
	}
	if (ca_not_for_email(*chain) != NULL) {
		snprintf(r->enc_note, sizeof r->enc_note, "a CA above it is not for e-mail "
		    "protection");
		return 1;
	}
	if (pk == NULL) {
		ERR_clear_error();
		snprintf(r->enc_note, sizeof r->enc_note, "its public key cannot be read");
		return 1;
	}
	/* RFC 8550 §4.4.2, §4.4.4 */
	if ((flags & EXFLAG_XKUSAGE)
	    && !(X509_get_extended_key_usage(x) & (XKU_SMIME | XKU_ANYEKU))) {
		snprintf(r->enc_note, sizeof r->enc_note, "it is not for e-mail protection");
		return 1;
	}
	/* issue 15: ML-KEM keys encapsulate: keyEncipherment (RFC 9936), as RSA */
	rsa = EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA || keys_is_pq(pk);
	if ((flags & EXFLAG_KUSAGE)
	    && !(X509_get_key_usage(x) & (rsa ? KU_KEY_ENCIPHERMENT : KU_KEY_AGREEMENT))) {
		snprintf(r->enc_note, sizeof r->enc_note, "its key usage does not permit %s",
		    rsa ? "key encipherment" : "key agreement");
		return 1;
	}
	if ((names = keys_cert_addrs(x, e)) == NULL)
		return -1;
	for (i = 0; names[i] != NULL && !named; i++)
		for (j = 0; r->signer_addrs[j] != NULL && !named; j++)
			named = addr_spec_eq(names[i], r->signer_addrs[j]);
	if (!named)
		snprintf(r->enc_note, sizeof r->enc_note, "it is for %s, not for the signer's "
		    "address %s", names[0] ? names[0] : "no e-mail address",
		    r->signer_addrs[0] ? r->signer_addrs[0] : "(none)");
	keys_addrs_free(names);
	return named ? 0 : 1;
}

/* Add the certificates of add not yet in to (both up-referenced). */
static int
merge_chain(STACK_OF(X509) *to, STACK_OF(X509) *add)
{
	int i, j;

	for (i = 0; i < sk_X509_num(add); i++) {
		X509 *x = sk_X509_value(add, i);

		for (j = 0; j < sk_X509_num(to); j++)
			if (X509_cmp(sk_X509_value(to, j), x) == 0)
				break;
		if (j < sk_X509_num(to))
			continue;
		if (!X509_up_ref(x))
			return -1;
		if (!sk_X509_push(to, x)) {
			X509_free(x);
			return -1;
		}
	}
	return 0;
}

/* The encryption certificate the signer announced, if it passes (see cms.h). */
static int
check_enc(CMS_SignerInfo *si, X509_STORE *st, const struct cms_verify_opts *o, time_t now,
    struct cms_result *r, struct err *e)
{
	X509_NAME *name;
	ASN1_INTEGER *serial;
	STACK_OF(X509) *chain = NULL;
	int i, k, found = 0, rc = 0;

	if ((k = enc_pref(si, &name, &serial)) <= 0) {
		if (k < 0)
			snprintf(r->enc_note, sizeof r->enc_note, "SMIMEEncryptionKeyPreference "
			    "cannot be read");
		ERR_clear_error();
		return 0;
	}
	for (i = 0; i < sk_X509_num(r->certs) && r->enc_cert == NULL; i++) {
		X509 *x = sk_X509_value(r->certs, i);

		if (X509_NAME_cmp(X509_get_issuer_name(x), name) != 0
		    || ASN1_INTEGER_cmp(X509_get0_serialNumber(x), serial) != 0)
			continue;
		found = 1;
		if (X509_cmp(x, r->signer) == 0) {
			r->enc_note[0] = '\0';
			break;	/* the signer's own certificate: nothing separate */
		}
		/* Every candidate is tried: a forged one with the same issuer name and serial
		 * must not hide the genuine one. */
		if ((k = enc_usable(x, st, o, now, r, &chain, e)) < 0) {
			rc = -1;
			break;
		}
		if (k == 0 && o->revoke != NULL && sk_X509_num(chain) > 0) {
			struct revoke_answer a;
			char when[40];

			if (revoke_check(o->revoke, x, sk_X509_value(chain, 0), &a, e) != 0) {
				rc = -1;
				break;
			}
			if (a.status == REVOKE_REVOKED) {
				utc_time(a.when, when, sizeof when);
				snprintf(r->enc_note, sizeof r->enc_note, "it was revoked on %s (%s)",
				    when, revoke_reason_name(a.reason));
				k = 1;
			}
		}
		if (k == 0) {
			r->enc_note[0] = '\0';
			if (merge_chain(r->chain, chain) != 0 || !X509_up_ref(x)) {
				rc = err_set(e, EX_OSERR, "out of memory");
				break;
			}
			r->enc_cert = x;
		}
		sk_X509_pop_free(chain, X509_free);
		chain = NULL;
	}
	sk_X509_pop_free(chain, X509_free);
	if (!found)
		snprintf(r->enc_note, sizeof r->enc_note, "it is not in the message");
	X509_NAME_free(name);
	ASN1_INTEGER_free(serial);
	ERR_clear_error();
	return rc;
}

/* The verdict for a signer certificate whose key cannot be used. */
static int
unusable_key(X509 *x, EVP_PKEY *pk, struct cms_result *r)
{
	const ASN1_OBJECT *obj = NULL;
	const void *pval = NULL;
	X509_ALGOR *alg = NULL;
	int ptype = V_ASN1_UNDEF, nid;

	X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg, X509_get_X509_PUBKEY(x));
	if (alg != NULL)
		X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	nid = obj != NULL ? OBJ_obj2nid(obj) : NID_undef;
	ERR_clear_error();
	/* RFC 3279 §2.3.2: a DSA key may inherit p, q, g from its issuer's; OpenSSL does not
	 * follow the chain for them (RFC 4134 §4.6 is such a message). */
	if (nid == NID_dsa && (ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL
	    || (pk != NULL && EVP_PKEY_missing_parameters(pk))))
		return verdict(r, CMS_V_NEUTRAL, "the signer's DSA key has no domain parameters "
		    "(inherited from its issuer, RFC 3279 section 2.3.2, which is not supported), so "
		    "the signature cannot be checked"), 1;
	if (pk == NULL) {
		char oid[80] = "";
		const char *pq = NULL;

		if (obj != NULL && OBJ_obj2txt(oid, sizeof oid, obj, 1) > 0)
			pq = keys_alg_by_oid(oid);
		if (pq != NULL)	/* issue 15: ML-DSA or SLH-DSA on an OpenSSL without them */
			return verdict(r, CMS_V_NEUTRAL, "unsupported signature algorithm %s: this "
			    "OpenSSL cannot check it", pq), 1;
		return verdict(r, CMS_V_NEUTRAL, "the signer's %s public key cannot be read, so the "
		    "signature cannot be checked", nid != NID_undef ? OBJ_nid2sn(nid) : "unknown"),
		    1;
	}
	return verdict(r, CMS_V_NEUTRAL, "the signer's %s key has no domain parameters, so the "
	    "signature cannot be checked", OBJ_nid2sn(EVP_PKEY_get_base_id(pk))), 1;
}

int
cms_require_parse(const char *s, enum cms_require *r)
{
	static const char *const names[] = { "any", "classical", "pq", "both" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0) {
			*r = (enum cms_require)i;
			return 0;
		}
	return -1;
}

/* The name of the algorithm of a signer whose key cannot be used, for the report. */
static void
unusable_alg(X509 *x, char *out, size_t n)
{
	ASN1_OBJECT *obj = NULL;
	const char *pq;
	char oid[80] = "";

	snprintf(out, n, "unknown");
	if (!X509_PUBKEY_get0_param(&obj, NULL, NULL, NULL, X509_get_X509_PUBKEY(x)) || obj == NULL)
		return;
	if (OBJ_obj2txt(oid, sizeof oid, obj, 1) > 0 && (pq = keys_alg_by_oid(oid)) != NULL)
		snprintf(out, n, "%s", pq);
	else if (OBJ_obj2nid(obj) != NID_undef)
		snprintf(out, n, "%s", OBJ_nid2sn(OBJ_obj2nid(obj)));
	else
		snprintf(out, n, "%s", oid);
}

/* Issue 15: the weakest digest (output bits) an ML-DSA or SLH-DSA key of this name may sign
 * over: its security category's strength twice (collisions), RFC 9882 and RFC 9814; 0 for
 * other keys. */
static int
min_digest_bits(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "ML-DSA-44") == 0)
		return 256;
	if (strcmp(name, "ML-DSA-65") == 0)
		return 384;
	if (strcmp(name, "ML-DSA-87") == 0)
		return 512;
	if (strncmp(name, "SLH-DSA-", 8) == 0) {
		const char *p = strrchr(name, '-');

		return p != NULL && strncmp(p + 1, "128", 3) == 0 ? 256 : p != NULL
		    && strncmp(p + 1, "192", 3) == 0 ? 384 : 512;
	}
	return 0;
}

/*
 * Before CMS_verify: a signer key that cannot be used is reported as such, never as an
 * altered message. With one SignerInfo that sets the verdict (1). With several (issue 15),
 * those this OpenSSL cannot check are moved to aside (put back before the structure is
 * freed) and noted; if none is left, the verdict is set. A digest weaker than the key's
 * strength fails. 0 otherwise.
 */
static int
signer_keys(CMS_ContentInfo *cms, STACK_OF(CMS_SignerInfo) *sis, STACK_OF(CMS_SignerInfo) *aside,
    struct cms_result *r)
{
	struct cms_signer_note *sn;
	CMS_SignerInfo *si;
	X509_ALGOR *dig;
	EVP_PKEY *pk;
	const EVP_MD *md;
	X509 *x;
	int i, n = sk_CMS_SignerInfo_num(sis), bits;

	if (CMS_set1_signers_certs(cms, NULL, 0) < 0)
		return 0;	/* CMS_verify reports it */
	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		pk = NULL;
		x = NULL;
		dig = NULL;
		si = sk_CMS_SignerInfo_value(sis, i);
		CMS_SignerInfo_get0_algs(si, &pk, &x, &dig, NULL);
		if (x == NULL)
			continue;	/* not in the message: CMS_verify says so */
		if (pk == NULL)
			pk = X509_get0_pubkey(x);
		if (pk == NULL || EVP_PKEY_missing_parameters(pk)) {
			if (n == 1)
				return unusable_key(x, pk, r);
			if (r->nsigners < CMS_MAX_SIGNERS) {
				sn = &r->signers[r->nsigners++];
				unusable_alg(x, sn->alg, sizeof sn->alg);
				sn->pq = strncmp(sn->alg, "ML-DSA-", 7) == 0
				    || strncmp(sn->alg, "SLH-DSA-", 8) == 0;
				sn->outcome = CMS_SIGNER_UNCHECKED;
			}
			if (!sk_CMS_SignerInfo_push(aside, sk_CMS_SignerInfo_delete(sis, i)))
				return verdict(r, CMS_V_TEMPERROR, "out of memory"), 1;
			i--;
			continue;
		}
		bits = min_digest_bits(EVP_PKEY_get0_type_name(pk));
		md = NULL;
		if (dig != NULL) {
			const ASN1_OBJECT *dobj = NULL;

			X509_ALGOR_get0(&dobj, NULL, NULL, dig);
			md = dobj != NULL ? EVP_get_digestbyobj(dobj) : NULL;
		}
		if (bits > 0 && md != NULL && EVP_MD_get_size(md) * 8 < bits)
			return verdict(r, CMS_V_FAIL, "the %s signature is over a %s digest, weaker "
			    "than the key (at least %d bits needed, RFC 9882/RFC 9814)",
			    EVP_PKEY_get0_type_name(pk), EVP_MD_get0_name(md), bits), 1;
	}
	ERR_clear_error();
	if (sk_CMS_SignerInfo_num(sis) == 0) {
		char list[200] = "";

		for (i = 0; i < r->nsigners; i++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
			    r->signers[i].alg);
		return verdict(r, CMS_V_NEUTRAL, "unsupported signature algorithms %s: this OpenSSL "
		    "cannot check any of them", list), 1;
	}
	return 0;
}

/* Does x name one of addrs? */
static int
names_one_of(X509 *x, char **addrs, struct err *e)
{
	char **names;
	size_t i, j;
	int found = 0;

	if ((names = keys_cert_addrs(x, e)) == NULL)
		return -1;
	for (i = 0; names[i] != NULL && !found; i++)
		for (j = 0; addrs[j] != NULL && !found; j++)
			found = addr_spec_eq(names[i], addrs[j]);
	keys_addrs_free(names);
	return found;
}

enum { FURTHER_COUNTS, FURTHER_REVOKED, FURTHER_UNKNOWN };
#define FURTHER_WHY	400

/* Issue 13 for a further signer whose chain verified (i: its index): FURTHER_COUNTS, or it
 * does not count: FURTHER_REVOKED (revoked_why says so, for the first one) or, in strict
 * mode, FURTHER_UNKNOWN (pending says why, for the first one); -1 on hard errors. In soft
 * mode an unknown status counts, noted as for the signer. Both strings FURTHER_WHY long. */
static int
further_revocation(const struct cms_verify_opts *o, X509 *x, STACK_OF(X509) *chain, int i,
    const char *alg, struct cms_result *r, char *revoked_why, char *pending, struct err *e)
{
	struct revoke_answer a;
	char whose[120], unknown[800], when[40];
	X509 *which;
	int k;

	snprintf(whose, sizeof whose, "the certificate of signer %d (%s)", i + 1, alg);
	if ((k = chain_revocation(o, x, chain, whose, &a, &which, unknown, sizeof unknown, e)) < 0)
		return -1;
	if (k > 0) {
		utc_time(a.when, when, sizeof when);
		if (revoked_why[0] == '\0')
			snprintf(revoked_why, FURTHER_WHY, "%s%.80s was revoked on %s (%s; %.200s)",
			    which == x ? "" : "a CA above ", whose, when, revoke_reason_name(a.reason),
			    a.source);
		return FURTHER_REVOKED;
	}
	if (unknown[0] == '\0')
		return FURTHER_COUNTS;
	if (revoke_mode(o->revoke) != REVOKE_STRICT) {
		revocation_unknown(o, r, unknown);
		return FURTHER_COUNTS;
	}
	if (pending[0] == '\0')
		snprintf(pending, FURTHER_WHY, "%.360s", unknown);
	return FURTHER_UNKNOWN;
}

/* The policy wants a kind of signature no signer that counts supplied: fail, or temperror
 * when a further signer of that kind did not count only because its revocation status is
 * unknown (strict mode). */
static int
missing_kind(const struct cms_verify_opts *o, struct cms_result *r, const char *kind,
    int unknown, const char *pending, const char *revoked_why)
{
	if (unknown) {
		revocation_unknown(o, r, pending);
		return 0;
	}
	return verdict(r, CMS_V_FAIL, "no verified %s signature, which the policy requires%s%.300s",
	    kind, revoked_why[0] ? ": " : "", revoked_why);
}

/*
 * Issue 15, after the first signer's checks passed: note every verified signer, count the
 * kinds o->require asks for (a further signer only when it names the identity's address,
 * its chain verifies and, issue 13, it is not revoked), and fail when one is missing. -1 on
 * hard errors.
 */
static int
signer_policy(CMS_ContentInfo *cms, X509_STORE *st, const struct cms_verify_opts *o,
    time_t now, struct cms_result *r, struct err *e)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	struct cms_signer_note *sn;
	char revoked_why[FURTHER_WHY] = "", pending[FURTHER_WHY] = "";
	int i, have_c = 0, have_pq = 0, unk_c = 0, unk_pq = 0, code, named, k;

	for (i = 0; i < sk_CMS_SignerInfo_num(sis) && r->nsigners < CMS_MAX_SIGNERS; i++) {
		EVP_PKEY *pk = NULL;
		X509 *x = NULL;
		STACK_OF(X509) *chain = NULL;

		CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, i), &pk, &x, NULL, NULL);
		if (x == NULL)
			continue;
		if (pk == NULL)
			pk = X509_get0_pubkey(x);
		sn = &r->signers[r->nsigners++];
		snprintf(sn->alg, sizeof sn->alg, "%s", pk != NULL ? EVP_PKEY_get0_type_name(pk) : "?");
		sn->pq = keys_is_pq(pk);
		sn->outcome = CMS_SIGNER_PASS;
		if (X509_cmp(x, r->signer) != 0) {
			if ((named = names_one_of(x, r->signer_addrs, e)) < 0)
				return -1;
			code = X509_V_ERR_UNSPECIFIED;
			if (named && (code = chain_of(x, r->certs, st, o, now, X509_PURPOSE_SMIME_SIGN,
			    &chain, e)) < 0)
				return -1;
			k = FURTHER_COUNTS;
			if (code == X509_V_OK && o->revoke != NULL && (k = further_revocation(o, x,
			    chain, r->nsigners - 1, sn->alg, r, revoked_why, pending, e)) < 0) {
				sk_X509_pop_free(chain, X509_free);
				return -1;
			}
			sk_X509_pop_free(chain, X509_free);
			if (k == FURTHER_UNKNOWN)
				*(sn->pq ? &unk_pq : &unk_c) = 1;
			if (code != X509_V_OK || k != FURTHER_COUNTS)
				sn->outcome = CMS_SIGNER_NOT_COUNTED;
		}
		if (sn->outcome == CMS_SIGNER_PASS)
			*(sn->pq ? &have_pq : &have_c) = 1;
	}
	if ((o->require == CMS_REQUIRE_CLASSICAL || o->require == CMS_REQUIRE_BOTH) && !have_c)
		return missing_kind(o, r, "classical", unk_c, pending, revoked_why);
	if ((o->require == CMS_REQUIRE_PQ || o->require == CMS_REQUIRE_BOTH) && !have_pq)
		return missing_kind(o, r, "post-quantum", unk_pq, pending, revoked_why);
	return 0;
}

void
cms_signers_summary(const struct cms_result *r, char *buf, size_t n)
{
	static const char *const what[] = { "pass", "not checked here", "not counted (another "
	    "signer or untrusted)" };
	size_t len;
	int i;

	buf[0] = '\0';
	if (r->nsigners < 2 && !(r->nsigners == 1 && r->signers[0].outcome != CMS_SIGNER_PASS))
		return;
	for (i = 0; i < r->nsigners; i++) {
		len = strlen(buf);
		snprintf(buf + len, n - len, "%s%s %s", i ? ", " : "signers: ", r->signers[i].alg,
		    what[r->signers[i].outcome]);
	}
}

/* A verdict other than pass names the signers after its reason. */
static void
signers_summary(struct cms_result *r)
{
	char sum[200];
	size_t len = strlen(r->reason);

	cms_signers_summary(r, sum, sizeof sum);
	if (sum[0] != '\0' && r->verdict != CMS_V_PASS)
		snprintf(r->reason + len, sizeof r->reason - len, " (%s)", sum);
}

/* CMS_verify failed: say why, truthfully (the error queue, newest last). */
static void
verify_failed(CMS_SignerInfo *si, unsigned long last, struct cms_result *r)
{
	unsigned long ec;
	int digest_attr = 0, digest_len = 0, sig = 0, algo = 0;
	char algname[128] = "";

	while ((ec = ERR_get_error()) != 0) {
		if (ERR_GET_LIB(ec) != ERR_LIB_CMS)
			continue;
		switch (ERR_GET_REASON(ec)) {
		case CMS_R_ERROR_READING_MESSAGEDIGEST_ATTRIBUTE: digest_attr = 1; break;
		case CMS_R_MESSAGEDIGEST_ATTRIBUTE_WRONG_LENGTH: digest_len = 1; break;
		case CMS_R_VERIFICATION_FAILURE: sig = 1; break;
		case CMS_R_UNKNOWN_DIGEST_ALGORITHM:
		case CMS_R_UNSUPPORTED_SIGNATURE_ALGORITHM:
		case CMS_R_UNKNOWN_ID:
			algo = 1;
			if (ERR_reason_error_string(ec) != NULL)
				snprintf(algname, sizeof algname, "%s", ERR_reason_error_string(ec));
			break;
		}
	}
	switch (ERR_GET_REASON(last)) {
	case CMS_R_SIGNER_CERTIFICATE_NOT_FOUND:
		verdict(r, CMS_V_NEUTRAL, "the signer's certificate is not in the message");
		return;
	case CMS_R_CONTENT_VERIFY_ERROR:
		if (digest_attr)
			verdict(r, CMS_V_PERMERROR, "the signed attributes carry no message digest");
		else if (digest_len)
			verdict(r, CMS_V_FAIL, "the message digest attribute has the wrong length");
		else if (algo)
			verdict(r, CMS_V_NEUTRAL, "the signature uses an algorithm that cannot be "
			    "checked here (%s)", algname);
		else if (CMS_signed_get_attr_count(si) >= 0)
			verdict(r, CMS_V_FAIL, "message digest mismatch: the content was altered "
			    "after signing");
		else
			verdict(r, CMS_V_FAIL, "the signature does not match the content: the content "
			    "was altered after signing, or the signature was not made with the "
			    "signer's key (without signed attributes the two cannot be told apart)");
		return;
	case CMS_R_VERIFICATION_FAILURE:
		verdict(r, CMS_V_FAIL, "the signature does not verify with the signer's key");
		return;
	}
	if (algo)
		verdict(r, CMS_V_NEUTRAL, "the signature uses an algorithm that cannot be checked "
		    "here (%s)", algname);
	else if (sig)
		verdict(r, CMS_V_FAIL, "the signature does not verify with the signer's key");
	else
		verdict(r, CMS_V_FAIL, "the signature does not verify: %s",
		    ERR_reason_error_string(last) ? ERR_reason_error_string(last) : "unknown");
}

/* Issue 15: several signers and CMS_verify failed: name the one whose signature does not
 * verify, when it is one signature (and not the content) that is bad. */
static void
which_failed(STACK_OF(CMS_SignerInfo) *sis, struct cms_result *r)
{
	EVP_PKEY *pk;
	int i;
	size_t len;

	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		pk = NULL;
		CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, i), &pk, NULL, NULL, NULL);
		if (CMS_SignerInfo_verify(sk_CMS_SignerInfo_value(sis, i)) == 1)
			continue;
		len = strlen(r->reason);
		snprintf(r->reason + len, sizeof r->reason - len, " (the %s signature, SignerInfo %d "
		    "of %d)", pk != NULL ? EVP_PKEY_get0_type_name(pk) : "?", i + 1,
		    sk_CMS_SignerInfo_num(sis));
		break;
	}
	ERR_clear_error();
}

int
cms_verify(const unsigned char *der, size_t derlen, BIO *content, BIO *content_out,
    const struct cms_verify_opts *o, struct cms_result *r, struct err *e)
{
	STACK_OF(CMS_SignerInfo) *sis, *aside = NULL;
	STACK_OF(X509) *signers = NULL;
	X509_STORE *st = NULL;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	const ASN1_OBJECT *ctype;
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
	if ((ctype = CMS_get0_eContentType(cms)) != NULL) {
		r->econtent_type = OBJ_obj2nid(ctype);
		if (OBJ_obj2txt(r->econtent_name, sizeof r->econtent_name, ctype, 0) <= 0)
			snprintf(r->econtent_name, sizeof r->econtent_name, "?");
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
	if ((aside = sk_CMS_SignerInfo_new_null()) == NULL)
		goto oom;
	if (signer_keys(cms, sis, aside, r))
		goto done;
	si = sk_CMS_SignerInfo_value(sis, 0);
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
		verify_failed(si, ec, r);
		if (sk_CMS_SignerInfo_num(sis) > 1)
			which_failed(sis, r);
		goto done;
	}
	signers = CMS_get0_signers(cms);
	if (signers == NULL || sk_X509_num(signers) == 0 || sk_X509_value(signers, 0) == NULL) {
		verdict(r, CMS_V_NEUTRAL, "the signer's certificate is not in the message");
		goto done;
	}
	r->signer = sk_X509_value(signers, 0);
	X509_up_ref(r->signer);
	if ((r->signer_addrs = keys_cert_addrs(r->signer, e)) == NULL) {
		rc = -1;
		goto done;
	}
	signed_attrs(si, r);
	receipt_request(si, r);
	r->verdict = CMS_V_PASS;
	if ((st = trust_store(o, e)) == NULL || check_chain(r->signer, st, o, now, r, e) != 0
	    || (r->verdict == CMS_V_PASS && o->revoke != NULL && check_revocation(o, r,
	    "the signer's certificate", e) != 0)
	    || (r->verdict == CMS_V_PASS && check_enc(si, st, o, now, r, e) != 0)
	    || (r->verdict == CMS_V_PASS && signer_policy(cms, st, o, now, r, e) != 0)) {
		rc = -1;
		goto done;
	}
	if (r->verdict == CMS_V_PASS)
		snprintf(r->reason, sizeof r->reason, "good signature by %s",
		    r->signer_addrs[0] ? r->signer_addrs[0] : "the signer");
	signers_summary(r);
	goto done;
oom:
	err_set(e, EX_OSERR, "out of memory");
	rc = -1;
done:
	X509_STORE_free(st);
	sk_X509_free(signers);
	/* the SignerInfos set aside go back, to be freed with the structure */
	while (aside != NULL && sk_CMS_SignerInfo_num(aside) > 0)
		if (!sk_CMS_SignerInfo_push(CMS_get0_SignerInfos(cms), sk_CMS_SignerInfo_pop(aside)))
			break;
	sk_CMS_SignerInfo_free(aside);
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
cms_opaque_split(int in, int content, struct buf *der, int *has_content, int *type,
    struct err *e)
{
	struct fdsrc fs = { in };
	struct ber_src src = { fd_src_read, &fs };
	struct ber b;
	struct ber_tlv ci, wrap, sd, eci, t;
	struct buf oid = { 0 }, ver = { 0 }, algs = { 0 }, ctype = { 0 }, rest = { 0 },
	    x = { 0 }, y = { 0 };
	int m, rc = -1;

	*has_content = 0;
	if (type != NULL)
		*type = NID_pkcs7_signed;
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
		if (type != NULL)
			*type = nid;
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
