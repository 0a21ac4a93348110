/* openssl-probe.c — can the OpenSSL this is linked with do NAME for secmail? Asked at run time
 * through the provider API, the way lib/ will use it: `openssl-probe NAME` exits 0 if it can.
 * Compiled and run by scripts/openssl-features; API_* macros (-D) say which declarations the
 * headers have, from that script's compile probes. Not part of the product. */
#include <stdio.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

static const char probe_data[] = "secmail feature probe\r\n";

#define OID_SHA256		"2.16.840.1.101.3.4.2.1"
#define OID_SHA512		"2.16.840.1.101.3.4.2.3"
#define OID_SHAKE256_LEN	"2.16.840.1.101.3.4.2.18"	/* RFC 8702 id-shake256-len */
#define OID_SIGALGS		"2.16.840.1.101.3.4.3"		/* NIST sigAlgs: ML-DSA, SLH-DSA */

static EVP_PKEY *
keygen(const char *alg)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *k = NULL;

	if (c == NULL || EVP_PKEY_keygen_init(c) <= 0
	    || (strcmp(alg, "EC") == 0 && EVP_PKEY_CTX_set_group_name(c, "P-256") <= 0)
	    || EVP_PKEY_generate(c, &k) <= 0)
		k = NULL;
	EVP_PKEY_CTX_free(c);
	return k;
}

/* A certificate for subject's public key, signed by ikey (the same key when it can sign). */
static X509 *
cert(EVP_PKEY *subject, EVP_PKEY *ikey)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	const EVP_MD *md = EVP_PKEY_is_a(ikey, "EC") ? EVP_sha256() : NULL;

	if (x == NULL || n == NULL
	    || !X509_set_version(x, X509_VERSION_3)
	    || !ASN1_INTEGER_set(X509_get_serialNumber(x), 1)
	    || !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
		(const unsigned char *)"probe", -1, -1, 0)
	    || !X509_set_subject_name(x, n) || !X509_set_issuer_name(x, n)
	    || X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL
	    || X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL
	    || !X509_set_pubkey(x, subject)
	    || X509_sign(x, ikey, md) <= 0) {
		X509_free(x);
		x = NULL;
	}
	X509_NAME_free(n);
	return x;
}

static CMS_ContentInfo *
reparse(CMS_ContentInfo *cms)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	CMS_ContentInfo *back = NULL;
	int len = i2d_CMS_ContentInfo(cms, &der);

	if (len > 0) {
		p = der;
		back = d2i_CMS_ContentInfo(NULL, &p, len);
	}
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	return back;
}

/* Is a (an AlgorithmIdentifier) the OID oid with absent parameters, or, when len is not 0,
 * with an INTEGER len as parameters (id-shake256-len)? */
static int
alg_is(const X509_ALGOR *a, const char *oid, long len)
{
	const ASN1_OBJECT *obj;
	const void *val;
	int type;
	char txt[80];

	X509_ALGOR_get0(&obj, &type, &val, a);
	if (OBJ_obj2txt(txt, sizeof txt, obj, 1) <= 0 || strcmp(txt, oid) != 0)
		return 0;
	if (len == 0)
		return type == V_ASN1_UNDEF;
	return type == V_ASN1_INTEGER && ASN1_INTEGER_get(val) == len;
}

/*
 * A detached signature with signed attributes, as lib/cms.c makes it: key alg, digest md (an
 * OpenSSL name), and the SignerInfo must carry the identifiers the RFC prescribes (digest
 * dig_oid, with INTEGER dig_len parameters when not 0; signature sig_oid), and verify again
 * after a DER round trip. A library that signs with other identifiers (OpenSSL 3.6 puts
 * id-shake256 without the output length in Ed448 signatures, where RFC 8419 §3.1 wants
 * id-shake256-len 512) does not have the feature.
 */
static int
cms_sign(const char *alg, const char *md, const char *dig_oid, long dig_len, const char *sig_oid)
{
	EVP_PKEY *k = keygen(alg);
	X509 *x = k != NULL ? cert(k, k) : NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	X509_ALGOR *dig, *sig;
	BIO *in = NULL;
	int ok = 0, flags = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL;

	if (x == NULL)
		goto out;
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL, flags)) == NULL
	    || (si = CMS_add1_signer(cms, x, k, EVP_get_digestbyname(md), flags)) == NULL
	    || (in = BIO_new_mem_buf(probe_data, -1)) == NULL
	    || !CMS_final(cms, in, NULL, flags))
		goto out;
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	if (!alg_is(dig, dig_oid, dig_len) || !alg_is(sig, sig_oid, 0)) {
		fprintf(stderr, "openssl-probe: %s signs with identifiers RFC 8419/9814/9882 do "
		    "not name\n", alg);
		goto out;
	}
	if ((cms = reparse(cms)) == NULL || BIO_reset(in) != 1)
		goto out;
	ok = CMS_verify(cms, NULL, NULL, in, NULL,
	    CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
	/* The signer must be the certificate given, not a stand-in. */
	if (ok) {
		STACK_OF(X509) *s = CMS_get0_signers(cms);

		ok = s != NULL && sk_X509_num(s) == 1 && X509_cmp(sk_X509_value(s, 0), x) == 0;
		sk_X509_free(s);
	}
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(x);
	EVP_PKEY_free(k);
	return ok;
}

/* An envelope to a certificate for an alg key (issued by an EC key), read back with the key. */
static int
cms_envelope(const char *alg, int want_type)
{
	EVP_PKEY *k = keygen(alg), *ca = keygen("EC");
	X509 *x = k != NULL && ca != NULL ? cert(k, ca) : NULL;
	STACK_OF(X509) *to = sk_X509_new_null();
	STACK_OF(CMS_RecipientInfo) *ris;
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL, *out = NULL;
	char *p;
	long n;
	int ok = 0;

	if (x == NULL || to == NULL || !sk_X509_push(to, x)
	    || (in = BIO_new_mem_buf(probe_data, -1)) == NULL
	    || (cms = CMS_encrypt(to, in, EVP_aes_256_cbc(), CMS_BINARY)) == NULL
	    || (cms = reparse(cms)) == NULL
	    || (ris = CMS_get0_RecipientInfos(cms)) == NULL || sk_CMS_RecipientInfo_num(ris) != 1
	    || CMS_RecipientInfo_type(sk_CMS_RecipientInfo_value(ris, 0)) != want_type
	    || (out = BIO_new(BIO_s_mem())) == NULL
	    || !CMS_decrypt(cms, k, x, NULL, out, CMS_BINARY))
		goto out;
	n = BIO_get_mem_data(out, &p);
	ok = n == (long)strlen(probe_data) && memcmp(p, probe_data, (size_t)n) == 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(out);
	sk_X509_free(to);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(ca);
	return ok;
}

/* A one-shot signature over probe_data that verifies (the pure ML-DSA / SLH-DSA / EdDSA API). */
static int
pkey_sign(const char *alg)
{
	EVP_PKEY *k = keygen(alg);
	EVP_MD_CTX *c = EVP_MD_CTX_new(), *v = EVP_MD_CTX_new();
	unsigned char sig[50000];
	size_t len = sizeof sig;
	int ok = k != NULL && c != NULL && v != NULL
	    && EVP_DigestSignInit_ex(c, NULL, NULL, NULL, NULL, k, NULL) == 1
	    && EVP_DigestSign(c, sig, &len, (const unsigned char *)probe_data,
		strlen(probe_data)) == 1
	    && EVP_DigestVerifyInit_ex(v, NULL, NULL, NULL, NULL, k, NULL) == 1
	    && EVP_DigestVerify(v, sig, len, (const unsigned char *)probe_data,
		strlen(probe_data)) == 1;

	EVP_MD_CTX_free(c);
	EVP_MD_CTX_free(v);
	EVP_PKEY_free(k);
	return ok;
}

/* Encapsulate to alg's public key, decapsulate with the private key: the same secret. */
static int
pkey_kem(const char *alg)
{
	EVP_PKEY *k = keygen(alg);
	EVP_PKEY_CTX *e = k != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL) : NULL;
	EVP_PKEY_CTX *d = k != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL) : NULL;
	unsigned char ct[2048], s1[64], s2[64];
	size_t ctlen = sizeof ct, l1 = sizeof s1, l2 = sizeof s2;
	int ok = e != NULL && d != NULL
	    && EVP_PKEY_encapsulate_init(e, NULL) == 1
	    && EVP_PKEY_encapsulate(e, ct, &ctlen, s1, &l1) == 1
	    && EVP_PKEY_decapsulate_init(d, NULL) == 1
	    && EVP_PKEY_decapsulate(d, s2, &l2, ct, ctlen) == 1
	    && l1 == l2 && memcmp(s1, s2, l1) == 0;

	EVP_PKEY_CTX_free(e);
	EVP_PKEY_CTX_free(d);
	EVP_PKEY_free(k);
	return ok;
}

static int
all_keygen(const char *const *algs)
{
	EVP_PKEY *k;

	for (; *algs != NULL; algs++) {
		if ((k = keygen(*algs)) == NULL)
			return 0;
		EVP_PKEY_free(k);
	}
	return 1;
}

int
main(int argc, char **argv)
{
	static const char *const ml_dsa[] = { "ML-DSA-44", "ML-DSA-65", "ML-DSA-87", NULL };
	static const char *const ml_kem[] = { "ML-KEM-512", "ML-KEM-768", "ML-KEM-1024", NULL };
	const char *p = argc == 2 ? argv[1] : "";
	int ok;

	if (strcmp(p, "CMS_ED25519_SIGN") == 0)	/* RFC 8419 §3.1: SHA-512 */
		ok = cms_sign("ED25519", "SHA512", OID_SHA512, 0, "1.3.101.112");
	else if (strcmp(p, "CMS_ED448_SIGN") == 0)	/* RFC 8419 §3.1: id-shake256-len 512 */
		ok = cms_sign("ED448", "SHAKE256", OID_SHAKE256_LEN, 512, "1.3.101.113");
	else if (strcmp(p, "ML_DSA") == 0)
		ok = all_keygen(ml_dsa) && pkey_sign("ML-DSA-65");
	else if (strcmp(p, "CMS_ML_DSA_SIGN") == 0)	/* RFC 9882 §3.3: SHA-512 */
		ok = cms_sign("ML-DSA-44", "SHA512", OID_SHA512, 0, OID_SIGALGS ".17")
		    && cms_sign("ML-DSA-65", "SHA512", OID_SHA512, 0, OID_SIGALGS ".18")
		    && cms_sign("ML-DSA-87", "SHA512", OID_SHA512, 0, OID_SIGALGS ".19");
	else if (strcmp(p, "SLH_DSA") == 0)
		ok = pkey_sign("SLH-DSA-SHA2-128f");
	else if (strcmp(p, "CMS_SLH_DSA_SIGN") == 0)	/* RFC 9814 §4: SHA-256 for SHA2-128 */
		ok = cms_sign("SLH-DSA-SHA2-128f", "SHA256", OID_SHA256, 0, OID_SIGALGS ".21");
	else if (strcmp(p, "ML_KEM") == 0)
		ok = all_keygen(ml_kem) && pkey_kem("ML-KEM-768");
	else if (strcmp(p, "CMS_X25519") == 0)	/* RFC 8418 */
		ok = cms_envelope("X25519", CMS_RECIPINFO_AGREE);
	else if (strcmp(p, "CMS_X448") == 0)
		ok = cms_envelope("X448", CMS_RECIPINFO_AGREE);
	else if (strcmp(p, "CMS_KEMRI") == 0) {	/* RFC 9629 */
#if defined(API_CMS_KEMRI)
		ok = cms_envelope("ML-KEM-768", CMS_RECIPINFO_KEM);
#else
		ok = 0;
#endif
	} else {
		fprintf(stderr, "openssl-probe: unknown probe '%s'\n", p);
		return 2;
	}
	if (!ok)
		ERR_print_errors_fp(stderr);
	return ok ? 0 : 1;
}
