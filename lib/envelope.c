/* envelope.c — CMS EnvelopedData / AuthEnvelopedData over OpenSSL, streamed both ways.
 *
 * OpenSSL parses a whole ContentInfo into memory (d2i_CMS_bio), which would make memory grow
 * with the message. So decryption parses the outer BER itself: the small parts (version,
 * RecipientInfos, algorithm, attributes) are rebuilt into a ContentInfo without content that
 * OpenSSL parses and opens the content-encryption key with, and the encrypted content is fed
 * to CMS_dataInit as detached content through a BIO, chunk by chunk. */
#include "envelope.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "ber.h"
#include "buf.h"
#include "cms.h"
#include "keys.h"
#include "ossl_features.h"

/* ---- ciphers ------------------------------------------------------------------------- */

static const struct {
	const char *name;	/* ours, as on the command line */
	const char *ossl;	/* OpenSSL fetch name */
	int nid;
	int weak, aead;
} ciphers[ENV_NCIPHERS] = {
	[ENV_AES256_GCM] = { "aes-256-gcm", "AES-256-GCM", NID_aes_256_gcm, 0, 1 },
	[ENV_AES128_GCM] = { "aes-128-gcm", "AES-128-GCM", NID_aes_128_gcm, 0, 1 },
	[ENV_AES256_CBC] = { "aes-256-cbc", "AES-256-CBC", NID_aes_256_cbc, 0, 0 },
	[ENV_AES128_CBC] = { "aes-128-cbc", "AES-128-CBC", NID_aes_128_cbc, 0, 0 },
	[ENV_DES3_CBC] = { "des-ede3-cbc", "DES-EDE3-CBC", NID_des_ede3_cbc, 1, 0 },
};

enum env_cipher
env_cipher_parse(const char *name)
{
	int i;

	for (i = 0; i < ENV_NCIPHERS; i++)
		if (strcasecmp(name, ciphers[i].name) == 0)
			return (enum env_cipher)i;
	if (strcasecmp(name, "3des") == 0 || strcasecmp(name, "des3") == 0)
		return ENV_DES3_CBC;
	return ENV_CIPHER_NONE;
}

const char *
env_cipher_name(enum env_cipher c)
{
	return c >= 0 && c < ENV_NCIPHERS ? ciphers[c].name : "none";
}

int
env_cipher_is_weak(enum env_cipher c)
{
	return c >= 0 && c < ENV_NCIPHERS && ciphers[c].weak;
}

int
env_cipher_is_aead(enum env_cipher c)
{
	return c >= 0 && c < ENV_NCIPHERS && ciphers[c].aead;
}

enum env_cipher
env_cipher_from_nid(int nid)
{
	int i;

	for (i = 0; i < ENV_NCIPHERS; i++)
		if (ciphers[i].nid == nid)
			return (enum env_cipher)i;
	return ENV_CIPHER_NONE;
}

static int
list_has(const enum env_cipher *l, enum env_cipher c)
{
	for (; *l != ENV_CIPHER_NONE; l++)
		if (*l == c)
			return 1;
	return 0;
}

/* Can c go to every recipient? Not weak; in every known list; not AEAD when a recipient's
 * abilities are unknown. */
static int
cipher_common(enum env_cipher c, const enum env_cipher *const *lists, size_t nl, int unknown)
{
	size_t j;

	if (c < 0 || c >= ENV_NCIPHERS || ciphers[c].weak || (unknown && ciphers[c].aead))
		return 0;
	for (j = 0; j < nl; j++)
		if (!list_has(lists[j], c))
			return 0;
	return 1;
}

/*
 * RFC 8551 §2.7.1.1 (capabilities), §2.7.1.2 (previous use), §2.7.1.3 (default). A
 * recipient's history counts only when they announced no capabilities, so a cipher seen in
 * their mail can never take the choice below what they signed. Among the ciphers every
 * recipient can read, authenticated encryption comes first: AES-CBC content can be altered
 * undetected (the EFAIL attacks), AES-GCM cannot. That departs from §2.7.1.1's SHOULD take
 * the first capability when a recipient lists CBC before GCM, deliberately.
 */
enum env_cipher
env_cipher_choose(const enum env_cipher *const *caps, const enum env_cipher *prev, size_t n)
{
	enum env_cipher one[64][2];
	const enum env_cipher *lists[64];
	const enum env_cipher *order = NULL, *o;
	size_t i, nl = 0;
	int unknown = 0, aead;

	for (i = 0; i < n; i++) {
		const enum env_cipher *l = caps != NULL ? caps[i] : NULL;

		if (l == NULL && prev != NULL && prev[i] != ENV_CIPHER_NONE && nl < 64) {
			/* A history entry is a one-element list (RFC 8551 §2.7.1.2). */
			one[nl][0] = prev[i];
			one[nl][1] = ENV_CIPHER_NONE;
			l = one[nl];
		}
		if (l == NULL) {
			unknown = 1;
			continue;
		}
		if (nl < 64)
			lists[nl++] = l;
		if (order == NULL)
			order = l;
	}
	if (order == NULL)
		return ENV_DEFAULT_CIPHER;
	for (aead = 1; aead >= 0; aead--)
		for (o = order; *o != ENV_CIPHER_NONE; o++)
			if (env_cipher_is_aead(*o) == aead && cipher_common(*o, lists, nl, unknown))
				return *o;
	return ENV_DEFAULT_CIPHER;
}

/* ---- certificates --------------------------------------------------------------------- */

/* Issue 15: an ML-KEM public key ("ML-KEM-768"), or NULL. */
static const char *
mlkem_name(EVP_PKEY *pk)
{
	const char *name = pk != NULL ? EVP_PKEY_get0_type_name(pk) : NULL;

	return name != NULL && strncmp(name, "ML-KEM-", 7) == 0 ? name : NULL;
}

/* A certificate whose key this OpenSSL cannot read or cannot encrypt to in CMS: the reason,
 * EX_UNAVAILABLE when it is an algorithm of issue 15 this OpenSSL lacks. */
static int
unsupported_key(X509 *cert, EVP_PKEY *pk, struct err *e)
{
	ASN1_OBJECT *alg = NULL;
	const char *name = NULL;
	char oid[80];

	if (pk == NULL) {
		ERR_clear_error();
		if (X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, X509_get_X509_PUBKEY(cert))
		    && OBJ_obj2txt(oid, sizeof oid, alg, 1) > 0)
			name = keys_alg_by_oid(oid);
		if (name != NULL && strncmp(name, "ML-KEM-", 7) == 0)
			return err_set(e, EX_UNAVAILABLE, "certificate has an %s key: this OpenSSL "
			    "(%s) has no ML-KEM", name, OpenSSL_version(OPENSSL_VERSION));
		return err_set(e, EX_DATAERR, "certificate has no usable public key");
	}
	if (EVP_PKEY_is_a(pk, "X25519") || EVP_PKEY_is_a(pk, "X448"))
		return err_set(e, EX_UNAVAILABLE, "certificate has an %s key: OpenSSL's CMS cannot "
		    "encrypt to it (RFC 8418 key agreement is not implemented, openssl/openssl#22388)",
		    EVP_PKEY_get0_type_name(pk));
	if (mlkem_name(pk) != NULL)
		return err_set(e, EX_UNAVAILABLE, "certificate has an %s key: this OpenSSL (%s) "
		    "cannot encrypt to it (KEMRecipientInfo, RFC 9629, needs OpenSSL 3.6)",
		    mlkem_name(pk), OpenSSL_version(OPENSSL_VERSION));
	return err_set(e, EX_DATAERR, "certificate has a %s key, which cannot receive "
	    "encrypted mail (RSA, EC or ML-KEM needed)", EVP_PKEY_get0_type_name(pk));
}

int
env_cert_usable(X509 *cert, struct err *e)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	uint32_t ku, xku;

	if (pk == NULL)
		return unsupported_key(cert, pk, e);
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
		return err_set(e, EX_DATAERR, "certificate has expired");
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
		return err_set(e, EX_DATAERR, "certificate is not yet valid");
	ku = X509_get_key_usage(cert);	/* UINT32_MAX when absent */
	xku = X509_get_extended_key_usage(cert);
	if (EVP_PKEY_is_a(pk, "RSA")) {
		if (ku != UINT32_MAX && !(ku & KU_KEY_ENCIPHERMENT))
			return err_set(e, EX_DATAERR,
			    "certificate's key usage does not allow key encipherment");
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		if (ku != UINT32_MAX && !(ku & KU_KEY_AGREEMENT))
			return err_set(e, EX_DATAERR,
			    "certificate's key usage does not allow key agreement");
#ifdef HAVE_CMS_KEMRI
	} else if (mlkem_name(pk) != NULL) {
		/* RFC 9936, certificate conventions: keyEncipherment, and only that */
		if (ku != UINT32_MAX && ku != KU_KEY_ENCIPHERMENT)
			return err_set(e, EX_DATAERR, "certificate's key usage for an ML-KEM key "
			    "must be keyEncipherment alone");
		if (keys_alg_available(mlkem_name(pk), KEYS_ALG_KEM, e) != 0)
			return -1;
#endif
	} else {
		return unsupported_key(cert, pk, e);
	}
	/* A key anyone can break gives the content to anyone: RSA under 2048 bits, curves under
	 * 224 (RFC 8551 §6, NIST SP 800-57: 112-bit security at least). */
	if (EVP_PKEY_get_security_bits(pk) < ENV_MIN_SECURITY_BITS)
		return err_set(e, EX_DATAERR, "certificate has a %d-bit %s key (%d-bit security): "
		    "too weak to encrypt to (at least %d: RSA 2048, a 224-bit curve)",
		    EVP_PKEY_get_bits(pk), EVP_PKEY_get0_type_name(pk),
		    EVP_PKEY_get_security_bits(pk), ENV_MIN_SECURITY_BITS);
	/* RFC 8550 §4.4.4: with an extended key usage, emailProtection must be in it. */
	if ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) && !(xku & XKU_SMIME))
		return err_set(e, EX_DATAERR,
		    "certificate's extended key usage does not include emailProtection");
	return 0;
}

int
env_cert_is_mlkem(X509 *cert, int *level)
{
	const char *name = mlkem_name(X509_get0_pubkey(cert));

	if (name == NULL)
		return 0;
	if (level != NULL)
		*level = atoi(name + 7);
	return 1;
}

/* BIOs of ours (cms_sink_bio in cms.c writes into a struct sink) are ready on creation. */
static int
bio_create_ready(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* ---- encryption --------------------------------------------------------------------- */

struct env_enc {
	CMS_ContentInfo *cms;
	EVP_CIPHER *cipher;
	BIO *out;		/* the sink BIO */
	BIO *in;		/* what plaintext is written to (BIO_new_CMS chain) */
};

void
env_enc_free(struct env_enc *x)
{
	BIO *b, *next;

	if (x == NULL)
		return;
	/* Free the streaming chain up to (not including) the sink, then the sink. */
	for (b = x->in; b != NULL && b != x->out; b = next) {
		next = BIO_pop(b);
		BIO_free(b);
	}
	BIO_free(x->out);
	CMS_ContentInfo_free(x->cms);
	EVP_CIPHER_free(x->cipher);
	free(x);
}

static int
add_recipient(CMS_ContentInfo *cms, X509 *cert, int flags, struct err *e)
{
	CMS_RecipientInfo *ri;
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	int oaep = (flags & ENV_OAEP) && pk != NULL && EVP_PKEY_is_a(pk, "RSA");

	ri = CMS_add1_recipient_cert(cms, cert, oaep ? CMS_KEY_PARAM : 0);
	if (ri == NULL)
		return err_ssl(e, EX_SOFTWARE, "cannot add a recipient");
#ifdef HAVE_CMS_KEMRI
	/* RFC 9936: ML-KEM-512 wraps with id-aes128-wrap, 768 and 1024 with id-aes256-wrap
	 * (OpenSSL's default), HKDF-SHA256 for all (OpenSSL's default). */
	if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_KEM && EVP_PKEY_is_a(pk, "ML-KEM-512")) {
		EVP_CIPHER_CTX *ctx = CMS_RecipientInfo_kemri_get0_ctx(ri);

		if (ctx == NULL || !EVP_EncryptInit_ex(ctx, EVP_aes_128_wrap(), NULL, NULL, NULL))
			return err_ssl(e, EX_SOFTWARE, "cannot set up the ML-KEM-512 key wrap");
	}
#endif
	if (oaep) {
		/* RFC 8551 §2.4.2 / RFC 4055 §4: RSAES-OAEP; SHA-256 rather than the SHA-1
		 * default parameters. */
		pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
		if (pctx == NULL || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0
		    || EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0
		    || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0)
			return err_ssl(e, EX_SOFTWARE, "cannot set up RSA-OAEP");
	}
	return 0;
}

struct env_enc *
env_enc_new(STACK_OF(X509) *recips, enum env_cipher c, int flags, const struct sink *out,
    struct err *e)
{
	struct env_enc *x;
	int i;

	if (c < 0 || c >= ENV_NCIPHERS) {
		err_set(e, EX_USAGE, "no content-encryption algorithm");
		return NULL;
	}
	if (sk_X509_num(recips) == 0) {
		err_set(e, EX_USAGE, "no recipients");
		return NULL;
	}
	if ((x = calloc(1, sizeof *x)) == NULL) {
		err_sys(e, EX_OSERR, "out of memory");
		return NULL;
	}
	x->cipher = EVP_CIPHER_fetch(NULL, ciphers[c].ossl, NULL);
	if (x->cipher == NULL) {
		err_ssl(e, EX_UNAVAILABLE, "%s is not available", ciphers[c].name);
		goto fail;
	}
	/* An AEAD cipher makes CMS_encrypt build AuthEnvelopedData (RFC 5083). Recipients are
	 * added one by one so each can get its own parameters (OAEP, ECDH). */
	x->cms = CMS_encrypt(NULL, NULL, x->cipher, CMS_BINARY | CMS_STREAM | CMS_PARTIAL);
	if (x->cms == NULL) {
		err_ssl(e, EX_SOFTWARE, "cannot create the envelope");
		goto fail;
	}
	for (i = 0; i < sk_X509_num(recips); i++)
		if (add_recipient(x->cms, sk_X509_value(recips, i), flags, e) != 0)
			goto fail;
	if ((x->out = cms_sink_bio(out)) == NULL) {
		err_ssl(e, EX_SOFTWARE, "cannot create an output BIO");
		goto fail;
	}
	/* BIO_new_CMS writes the BER header now (indefinite lengths), encrypts what is written
	 * to it, and on flush the trailer (for AuthEnvelopedData the tag). */
	if ((x->in = BIO_new_CMS(x->out, x->cms)) == NULL) {
		if (cms_sink_bio_err(x->out) != NULL)
			*e = *cms_sink_bio_err(x->out);
		else
			err_ssl(e, EX_SOFTWARE, "cannot start encrypting");
		goto fail;
	}
	return x;
fail:
	env_enc_free(x);
	return NULL;
}

int
env_enc_write(struct env_enc *x, const void *p, size_t n, struct err *e)
{
	const char *c = p;
	int w, chunk;

	while (n > 0) {
		chunk = n > (1 << 30) ? (1 << 30) : (int)n;
		w = BIO_write(x->in, c, chunk);
		if (w <= 0) {
			if (cms_sink_bio_err(x->out) != NULL) {
				*e = *cms_sink_bio_err(x->out);
				return -1;
			}
			return err_ssl(e, EX_SOFTWARE, "encryption failed");
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
env_enc_final(struct env_enc *x, struct err *e)
{
	if (BIO_flush(x->in) <= 0 || cms_sink_bio_err(x->out) != NULL) {
		if (cms_sink_bio_err(x->out) != NULL) {
			*e = *cms_sink_bio_err(x->out);
			return -1;
		}
		return err_ssl(e, EX_SOFTWARE, "cannot finish the envelope");
	}
	return 0;
}

/* ---- the envelope's outer structure ------------------------------------------------------ */

/* id-envelopedData (RFC 5652 §6.1) and id-ct-authEnvelopedData (RFC 5083 §1.1), DER. */
static const unsigned char oid_env[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x07, 0x03 };
static const unsigned char oid_authenv[] = { 0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x09, 0x10, 0x01, 0x17 };
static const unsigned char oid_signed[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x07, 0x02 };

struct env_parse {
	struct ber b;
	int auth;
	enum env_content content;
	int cipher_nid;			/* content-encryption algorithm */
	int icvlen;			/* AuthEnvelopedData: the declared tag length */
	size_t mac_hlen;		/* header octets in front of the tag in mac */
	struct ber_tlv ci, wrap, env, eci;	/* ContentInfo, [0], (Auth)EnvelopedData, ECI */
	struct buf version, originator, rinfos, ctype, alg;
	struct buf attrs;		/* unprotectedAttrs [1] / authAttrs [1] */
	struct buf mac, unauth;		/* AuthEnvelopedData only */
	struct ber_octets oct;		/* encrypted content reader state */
	int content_done, trailer_done;
};

static void
parse_free(struct env_parse *p)
{
	ber_free(&p->b);
	buf_free(&p->version);
	buf_free(&p->originator);
	buf_free(&p->rinfos);
	buf_free(&p->ctype);
	buf_free(&p->alg);
	buf_free(&p->attrs);
	buf_free(&p->mac);
	buf_free(&p->unauth);
}

static int
parse_init(struct env_parse *p, const struct ber_src *src, struct err *e)
{
	memset(p, 0, sizeof *p);
	return ber_init(&p->b, src, e);
}

/* RFC 5084 §3.2: GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER
 * DEFAULT 12 } (DER, the algorithm's parameters). The declared ICV length, 12..16. */
static int
gcm_icvlen(int ptype, const void *pval, int *icvlen, struct err *e)
{
	struct env_mem m;
	struct ber_src src;
	struct ber b;
	struct ber_tlv seq, t;
	unsigned char v[4];
	long n = 0;
	size_t i;
	int r, rc = -1;

	if (pval == NULL || ptype != V_ASN1_SEQUENCE)
		return err_set(e, EX_DATAERR, "the AES-GCM parameters are missing (RFC 5084 §3.2)");
	m.p = ASN1_STRING_get0_data(pval);
	m.len = (size_t)ASN1_STRING_length(pval);
	m.pos = 0;
	src = env_mem_src(&m);
	if (ber_init(&b, &src, e) != 0)
		return -1;
	if (ber_expect(&b, &seq, NULL, BER_UNIV, 1, 16, "GCMParameters") != 0
	    || ber_expect(&b, &t, &seq, BER_UNIV, 0, 4, "the aes-nonce") != 0
	    || ber_take(&b, NULL, (size_t)t.len) != 0 || (r = ber_more(&b, &seq)) < 0)
		goto out;
	if (r) {
		if (ber_expect(&b, &t, &seq, BER_UNIV, 0, 2, "aes-ICVlen") != 0)
			goto out;
		if (t.len < 1 || t.len > sizeof v) {
			ber_bad(&b, "aes-ICVlen out of range");
			goto out;
		}
		if (ber_take(&b, v, (size_t)t.len) != 0)
			goto out;
		if (v[0] & 0x80)
			n = -1;
		for (i = 0; i < t.len && n >= 0; i++)
			n = n << 8 | v[i];
	} else {
		n = 12;		/* the DEFAULT */
	}
	if (ber_end(&b, &seq) != 0)
		goto out;
	if (n < ENV_GCM_MIN_ICVLEN || n > ENV_GCM_MAX_ICVLEN) {
		err_set(e, EX_DATAERR, "the AES-GCM parameters declare a %ld-octet tag "
		    "(aes-ICVlen); RFC 5084 allows 12 to 16: refused", n);
		goto out;
	}
	*icvlen = (int)n;
	rc = 0;
out:
	ber_free(&b);
	return rc;
}

/* The content-encryption algorithm must suit the envelope: AuthEnvelopedData with AES-GCM
 * and a tag length RFC 5084 allows; EnvelopedData never with an AEAD algorithm, which
 * would go unauthenticated there (RFC 5083 §1 puts AEAD in AuthEnvelopedData). */
static int
check_alg(struct env_parse *p, struct err *e)
{
	const unsigned char *q = (const unsigned char *)p->alg.p;
	X509_ALGOR *a = d2i_X509_ALGOR(NULL, &q, (long)p->alg.len);
	const ASN1_OBJECT *obj;
	const void *par;
	const EVP_CIPHER *c;
	char name[80];
	int ptype, rc = -1;

	if (a == NULL)
		return err_ssl(e, EX_DATAERR, "malformed content-encryption algorithm");
	X509_ALGOR_get0(&obj, &ptype, &par, a);
	p->cipher_nid = OBJ_obj2nid(obj);
	if (p->cipher_nid != NID_undef)
		snprintf(name, sizeof name, "%s", OBJ_nid2sn(p->cipher_nid));
	else
		OBJ_obj2txt(name, (int)sizeof name, obj, 1);
	if (p->auth) {
		if (p->cipher_nid != NID_aes_128_gcm && p->cipher_nid != NID_aes_192_gcm
		    && p->cipher_nid != NID_aes_256_gcm)
			err_set(e, EX_UNAVAILABLE, "authEnveloped-data with %s is not supported "
			    "(only AES-GCM)", name);
		else if (gcm_icvlen(ptype, par, &p->icvlen, e) == 0)
			rc = 0;
	} else {
		c = p->cipher_nid != NID_undef ? EVP_get_cipherbynid(p->cipher_nid) : NULL;
		if (c != NULL && (EVP_CIPHER_get_flags(c) & EVP_CIPH_FLAG_AEAD_CIPHER))
			err_set(e, EX_DATAERR, "enveloped-data with the AEAD algorithm %s carries no "
			    "authentication tag (RFC 5083 puts AEAD in authEnveloped-data): refused",
			    name);
		else
			rc = 0;
	}
	X509_ALGOR_free(a);
	return rc;
}

/* Everything up to the first byte of encrypted content. */
static int
parse_head(struct env_parse *p)
{
	struct ber *b = &p->b;
	struct buf oid = BUF_INIT;
	struct ber_tlv t;
	int r;

	if (ber_expect(b, &p->ci, NULL, BER_UNIV, 1, 16, "a ContentInfo SEQUENCE") != 0)
		return -1;
	if (ber_expect(b, &t, &p->ci, BER_UNIV, 0, 6, "a content type") != 0)
		return -1;
	if (ber_capture(b, &t, &oid, 64, 0) != 0) {
		buf_free(&oid);
		return -1;
	}
	if (oid.len == sizeof oid_env && memcmp(oid.p, oid_env, oid.len) == 0) {
		p->auth = 0;
		p->content = ENV_CT_ENVELOPED;
	} else if (oid.len == sizeof oid_authenv && memcmp(oid.p, oid_authenv, oid.len) == 0) {
		p->auth = 1;
		p->content = ENV_CT_AUTH_ENVELOPED;
	} else {
		r = oid.len == sizeof oid_signed && memcmp(oid.p, oid_signed, oid.len) == 0;
		p->content = r ? ENV_CT_SIGNED : ENV_CT_OTHER;
		buf_free(&oid);
		return err_set(b->e, EX_DATAERR, r ? "the CMS content is signed-data, not "
		    "enveloped-data (use smime-verify)" : "the CMS content type is not "
		    "enveloped-data or authEnveloped-data");
	}
	buf_free(&oid);
	if (ber_expect(b, &p->wrap, &p->ci, BER_CTX, 1, 0, "[0] content") != 0
	    || ber_expect(b, &p->env, &p->wrap, BER_UNIV, 1, 16, "an EnvelopedData SEQUENCE") != 0
	    || ber_expect(b, &t, &p->env, BER_UNIV, 0, 2, "a version") != 0
	    || ber_capture(b, &t, &p->version, 16, 0) != 0)
		return -1;
	if (ber_hdr(b, &t) != 0 || ber_fits(b, &p->env, &t) != 0)
		return -1;
	if (BER_IS(&t, BER_CTX, 1, 0)) {	/* originatorInfo */
		if (ber_capture(b, &t, &p->originator, ENV_MAX_PART, 0) != 0)
			return -1;
		if (ber_hdr(b, &t) != 0 || ber_fits(b, &p->env, &t) != 0)
			return -1;
	}
	if (!BER_IS(&t, BER_UNIV, 1, 17))
		return ber_bad(b, "expected RecipientInfos");
	if (ber_capture(b, &t, &p->rinfos, ENV_MAX_PART, 0) != 0)
		return -1;
	if (ber_expect(b, &p->eci, &p->env, BER_UNIV, 1, 16, "an EncryptedContentInfo") != 0
	    || ber_expect(b, &t, &p->eci, BER_UNIV, 0, 6, "a content type") != 0
	    || ber_capture(b, &t, &p->ctype, 64, 0) != 0
	    || ber_expect(b, &t, &p->eci, BER_UNIV, 1, 16, "a content-encryption algorithm") != 0
	    || ber_capture(b, &t, &p->alg, 4096, 0) != 0)
		return -1;
	if (check_alg(p, b->e) != 0)
		return -1;
	r = ber_more(b, &p->eci);
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set(b->e, EX_DATAERR, "the envelope holds no encrypted content "
		    "(detached content is not supported)");
	if (ber_hdr(b, &t) != 0 || ber_fits(b, &p->eci, &t) != 0)
		return -1;
	if (t.cls != BER_CTX || t.tag != 0)
		return ber_bad(b, "expected [0] encrypted content");
	ber_octets_start(&p->oct, &t);
	return 0;
}

/* After the content: the attributes, the MAC, and the ends of the enclosing structures. */
static int
parse_tail(struct env_parse *p)
{
	struct ber *b = &p->b;
	struct ber_tlv t;
	int r;

	if (ber_end(b, &p->eci) != 0)
		return -1;
	r = ber_more(b, &p->env);
	if (r < 0)
		return -1;
	if (r && (ber_hdr(b, &t) != 0 || ber_fits(b, &p->env, &t) != 0))
		return -1;
	if (r && BER_IS(&t, BER_CTX, 1, 1)) {	/* unprotectedAttrs / authAttrs */
		if (ber_capture(b, &t, &p->attrs, ENV_MAX_PART, 0) != 0)
			return -1;
		r = ber_more(b, &p->env);
		if (r < 0)
			return -1;
		if (r && (ber_hdr(b, &t) != 0 || ber_fits(b, &p->env, &t) != 0))
			return -1;
	}
	if (p->auth) {
		/* RFC 5083 §2.1: mac MessageAuthenticationCode (an OCTET STRING) is required. */
		if (!r || !BER_IS(&t, BER_UNIV, 0, 4))
			return ber_bad(b, "expected the authentication tag (mac)");
		/* RFC 5084 §3.2: the tag is exactly aes-ICVlen octets. A shorter one would be
		 * checked only as far as it goes, and a 4-octet tag is forged in 2^32 tries. */
		if (t.len != (uint64_t)p->icvlen)
			return err_set(b->e, EX_DATAERR, "the authentication tag is %llu octets but "
			    "the parameters declare %d (aes-ICVlen): refused, nothing decrypted",
			    (unsigned long long)t.len, p->icvlen);
		p->mac_hlen = t.hlen;
		if (ber_capture(b, &t, &p->mac, 64, 0) != 0)
			return -1;
		r = ber_more(b, &p->env);
		if (r < 0)
			return -1;
		if (r) {
			if (ber_hdr(b, &t) != 0 || ber_fits(b, &p->env, &t) != 0)
				return -1;
			if (!BER_IS(&t, BER_CTX, 1, 2))
				return ber_bad(b, "unexpected element after the authentication tag");
			if (ber_capture(b, &t, &p->unauth, ENV_MAX_PART, 0) != 0)
				return -1;
		}
	} else if (r) {
		return ber_bad(b, "unexpected element after the encrypted content");
	}
	if (ber_end(b, &p->env) != 0 || ber_end(b, &p->wrap) != 0 || ber_end(b, &p->ci) != 0)
		return -1;
	if (ber_fill(b, 1) != 0)
		return -1;
	if (b->len > b->pos)
		return ber_bad(b, "data after the end of the CMS structure");
	p->trailer_done = 1;
	return 0;
}

/* Next bytes of encrypted content (de-chunking BER constructed OCTET STRINGs): the count,
 * 0 once the content has ended (and the rest of the structure is parsed), -1 on error. */
static ssize_t
content_read(struct env_parse *p, void *out, size_t n)
{
	ssize_t r;

	if (p->content_done)
		return 0;
	if ((r = ber_octets_read(&p->b, &p->oct, out, n, "encrypted content")) != 0)
		return r;
	p->content_done = 1;
	if (parse_tail(p) != 0)
		return -1;
	return 0;
}

/* A ContentInfo holding everything of the envelope but the encrypted content. The MAC of an
 * AuthEnvelopedData is not known until the content has been read: a placeholder of the right
 * length stands in, and the real tag is given to the cipher before it finishes. */
static CMS_ContentInfo *
fake_cms(struct env_parse *p, const struct buf *rinfos, struct err *e)
{
	struct buf eci = BUF_INIT, env = BUF_INIT, inner = BUF_INIT, w = BUF_INIT, ci = BUF_INIT;
	static const unsigned char zeros[16];
	CMS_ContentInfo *cms = NULL;
	const unsigned char *q;

	buf_add(&eci, p->ctype.p, p->ctype.len);
	buf_add(&eci, p->alg.p, p->alg.len);
	buf_add(&inner, p->version.p, p->version.len);
	if (p->originator.len)
		buf_add(&inner, p->originator.p, p->originator.len);
	buf_add(&inner, rinfos->p, rinfos->len);
	der_wrap(&inner, 0x30, &eci);
	if (p->attrs.len)
		buf_add(&inner, p->attrs.p, p->attrs.len);
	if (p->auth) {
		buf_addc(&inner, 0x04);
		buf_addc(&inner, 16);
		buf_add(&inner, zeros, 16);
	}
	der_wrap(&env, 0x30, &inner);
	der_wrap(&w, 0xa0, &env);
	if (p->auth)
		buf_add(&ci, oid_authenv, sizeof oid_authenv);
	else
		buf_add(&ci, oid_env, sizeof oid_env);
	buf_add(&ci, w.p, w.len);
	buf_free(&w);
	der_wrap(&w, 0x30, &ci);
	if (buf_check(&w, e) == 0 && buf_check(&inner, e) == 0) {
		q = (const unsigned char *)w.p;
		cms = d2i_CMS_ContentInfo(NULL, &q, (long)w.len);
		if (cms == NULL)
			err_ssl(e, EX_DATAERR, "malformed envelope");
	}
	buf_free(&eci);
	buf_free(&env);
	buf_free(&inner);
	buf_free(&w);
	buf_free(&ci);
	return cms;
}

/* ---- key opening --------------------------------------------------------------------------- */

static int
ri_matches(CMS_RecipientInfo *ri, X509 *cert)
{
	STACK_OF(CMS_RecipientEncryptedKey) *reks;
	int i;

	switch (CMS_RecipientInfo_type(ri)) {
	case CMS_RECIPINFO_TRANS:
		return CMS_RecipientInfo_ktri_cert_cmp(ri, cert) == 0;
#ifdef HAVE_API_CMS_KEMRI
	case CMS_RECIPINFO_KEM:	/* RFC 9629 KEMRecipientInfo */
		return CMS_RecipientInfo_kemri_cert_cmp(ri, cert) == 0;
#endif
	case CMS_RECIPINFO_AGREE:
		reks = CMS_RecipientInfo_kari_get0_reks(ri);
		for (i = 0; i < sk_CMS_RecipientEncryptedKey_num(reks); i++)
			if (CMS_RecipientEncryptedKey_cert_cmp(
			    sk_CMS_RecipientEncryptedKey_value(reks, i), cert) == 0)
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* The short name of an algorithm identifier's OID, or the dotted OID. */
static void
algor_name(const X509_ALGOR *a, char *out, size_t n)
{
	const ASN1_OBJECT *obj = NULL;

	snprintf(out, n, "?");
	if (a == NULL)
		return;
	X509_ALGOR_get0(&obj, NULL, NULL, a);
	if (obj != NULL && OBJ_obj2nid(obj) != NID_undef)
		snprintf(out, n, "%s", OBJ_nid2sn(OBJ_obj2nid(obj)));
	else if (obj != NULL)
		OBJ_obj2txt(out, (int)n, obj, 1);
}

/* What a RecipientInfo asks of the key, for messages: "key agreement
 * dhSinglePass-stdDH-sha256kdf-scheme with an X25519 key". */
static void
ri_desc(CMS_RecipientInfo *ri, EVP_PKEY *pkey, char *out, size_t n)
{
	X509_ALGOR *alg = NULL, *pubalg = NULL;
	ASN1_OCTET_STRING *ukm = NULL, *kid = NULL;
	ASN1_BIT_STRING *pub = NULL;
	X509_NAME *iss = NULL;
	ASN1_INTEGER *sn = NULL;
	char a[80], k[80];

	snprintf(k, sizeof k, "%s", pkey != NULL ? EVP_PKEY_get0_type_name(pkey) : "?");
	switch (CMS_RecipientInfo_type(ri)) {
	case CMS_RECIPINFO_TRANS:
		CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &alg);
		algor_name(alg, a, sizeof a);
		snprintf(out, n, "key transport %s with an %s key", a, k);
		break;
	case CMS_RECIPINFO_AGREE:
		CMS_RecipientInfo_kari_get0_alg(ri, &alg, &ukm);
		algor_name(alg, a, sizeof a);
		if (CMS_RecipientInfo_kari_get0_orig_id(ri, &pubalg, &pub, &kid, &iss, &sn) == 1
		    && pubalg != NULL)
			algor_name(pubalg, k, sizeof k);
		snprintf(out, n, "key agreement %s with an %s key", a, k);
		break;
#ifdef HAVE_API_CMS_KEMRI
	case CMS_RECIPINFO_KEM:
		alg = CMS_RecipientInfo_kemri_get0_kdf_alg(ri);
		algor_name(alg, a, sizeof a);
		snprintf(out, n, "KEM recipient (KDF %s) with an %s key", a, k);
		break;
#endif
	default:
		snprintf(out, n, "RecipientInfo type %d", CMS_RecipientInfo_type(ri));
		break;
	}
}

/* The key types OpenSSL's CMS has always opened envelopes with (RFC 8551 §2.4.2, RFC 5753).
 * A failure with any other type is taken as this OpenSSL not supporting the algorithm (X25519
 * key agreement, RFC 8418, is not in OpenSSL 3.0), not as a wrong key. */
static int
pkey_cms_classic(EVP_PKEY *pkey)
{
	return EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS")
	    || EVP_PKEY_is_a(pkey, "EC") || EVP_PKEY_is_a(pkey, "DH")
	    || EVP_PKEY_is_a(pkey, "DHX")
#ifdef HAVE_CMS_KEMRI
	    || mlkem_name(pkey) != NULL
#endif
	    ;
}

/* Did OpenSSL say "not supported" (rather than "cannot decrypt")? */
static int
ssl_unsupported(void)
{
	unsigned long l;
	int lib, r;

	while ((l = ERR_peek_error()) != 0) {
		lib = ERR_GET_LIB(l);
		r = ERR_GET_REASON(l);
		if (ERR_SYSTEM_ERROR(l))
			return 0;
		if ((lib == ERR_LIB_CMS && (r == CMS_R_NOT_SUPPORTED_FOR_THIS_KEY_TYPE
		    || r == CMS_R_UNSUPPORTED_KEY_ENCRYPTION_ALGORITHM || r == CMS_R_UNKNOWN_CIPHER
		    || r == CMS_R_UNSUPPORTED_KEK_ALGORITHM || r == CMS_R_UNKNOWN_DIGEST_ALGORITHM
		    || r == CMS_R_UNSUPPORTED_RECIPIENTINFO_TYPE
		    || r == CMS_R_UNSUPPORTED_RECIPIENT_TYPE))
		    || (lib == ERR_LIB_EVP && (r == EVP_R_OPERATION_NOT_SUPPORTED_FOR_THIS_KEYTYPE
		    || r == EVP_R_UNSUPPORTED_ALGORITHM || r == EVP_R_UNSUPPORTED_CIPHER))
		    || r == ERR_R_UNSUPPORTED)
			return 1;
		return 0;
	}
	return 0;
}

/* Open the content-encryption key into cms. With a certificate, its RecipientInfo must be
 * there. Without, OpenSSL tries each and, if none opens, carries on with a random key (its
 * defence against Bleichenbacher-style oracles): the failure then shows at decryption. An
 * algorithm this OpenSSL cannot handle is EX_UNAVAILABLE, named; anything else EX_DATAERR. */
static int
open_key(CMS_ContentInfo *cms, EVP_PKEY *pkey, X509 *cert, struct err *e)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
	CMS_RecipientInfo *mine = NULL;
	char desc[200];
	int i;

	if (cert != NULL) {
		if (X509_check_private_key(cert, pkey) != 1) {
			ERR_clear_error();
			return err_set(e, EX_DATAERR, "the key does not belong to the certificate");
		}
		for (i = 0; i < sk_CMS_RecipientInfo_num(ris) && mine == NULL; i++)
			if (ri_matches(sk_CMS_RecipientInfo_value(ris, i), cert))
				mine = sk_CMS_RecipientInfo_value(ris, i);
		if (mine == NULL)
			return err_set(e, EX_DATAERR, "the message is not encrypted for this "
			    "certificate (no RecipientInfo names it; %d recipient%s)",
			    sk_CMS_RecipientInfo_num(ris), sk_CMS_RecipientInfo_num(ris) == 1 ? "" : "s");
	}
	if (CMS_decrypt_set1_pkey_and_peer(cms, pkey, cert, NULL) == 1)
		return 0;
	if (ssl_unsupported() || !pkey_cms_classic(pkey)) {
		if (mine != NULL)
			ri_desc(mine, pkey, desc, sizeof desc);
		else
			snprintf(desc, sizeof desc, "decryption with an %s key",
			    EVP_PKEY_get0_type_name(pkey));
		ERR_clear_error();	/* OpenSSL would only add "no matching recipient" */
		return err_set(e, EX_UNAVAILABLE, "%s is not supported by %s", desc,
		    OpenSSL_version(OPENSSL_VERSION));
	}
	return err_ssl(e, EX_DATAERR, "cannot open the content-encryption key (wrong key?)");
}

static int
alg_name(const struct buf *alg, char *out, size_t n)
{
	const unsigned char *q = (const unsigned char *)alg->p;
	X509_ALGOR *a = d2i_X509_ALGOR(NULL, &q, (long)alg->len);
	const ASN1_OBJECT *obj;

	if (a == NULL) {
		ERR_clear_error();
		snprintf(out, n, "?");
		return -1;
	}
	X509_ALGOR_get0(&obj, NULL, NULL, a);
	if (OBJ_obj2nid(obj) != NID_undef)
		snprintf(out, n, "%s", OBJ_nid2sn(OBJ_obj2nid(obj)));
	else
		OBJ_obj2txt(out, (int)n, obj, 1);
	X509_ALGOR_free(a);
	return 0;
}

/* ---- decryption ------------------------------------------------------------------------ */

/* The detached-content BIO: ciphertext out of the parser. At the end of the content it
 * parses the rest, and hands the real tag to the cipher before reporting end of file, so
 * the cipher's final step checks it. */
struct dcont {
	struct env_parse *p;
	EVP_CIPHER_CTX *cctx;	/* the content cipher, once CMS_dataInit has set it up */
	int failed;
	int tag_set;
	struct err e;
};

static BIO_METHOD *dcont_method;

static int
dcont_read(BIO *b, char *out, int n)
{
	struct dcont *d = BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	if (d->failed || n <= 0)
		return d->failed ? -1 : 0;
	d->p->b.e = &d->e;
	r = content_read(d->p, out, (size_t)n);
	if (r < 0) {
		d->failed = 1;
		return -1;
	}
	if (r == 0 && d->p->auth && !d->tag_set) {
		if (d->cctx == NULL || d->p->mac.len != d->p->mac_hlen + (size_t)d->p->icvlen
		    || EVP_CIPHER_CTX_ctrl(d->cctx, EVP_CTRL_AEAD_SET_TAG, d->p->icvlen,
		    d->p->mac.p + d->p->mac_hlen) <= 0) {
			err_ssl(&d->e, EX_SOFTWARE, "cannot set the authentication tag");
			d->failed = 1;
			return -1;
		}
		d->tag_set = 1;
	}
	return (int)r;
}

static long
dcont_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b, (void)num, (void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static BIO *
dcont_new(struct dcont *d)
{
	BIO *b;

	if (dcont_method == NULL) {
		BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
		    "secmail cms content");

		if (m == NULL || !BIO_meth_set_read(m, dcont_read)
		    || !BIO_meth_set_ctrl(m, dcont_ctrl) || !BIO_meth_set_create(m, bio_create_ready)) {
			BIO_meth_free(m);
			return NULL;
		}
		dcont_method = m;
	}
	if ((b = BIO_new(dcont_method)) == NULL)
		return NULL;
	BIO_set_data(b, d);
	return b;
}

static int
copy_spool(int fd, const struct sink *out, unsigned char *tmp, size_t n, struct err *e)
{
	ssize_t r;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind the temporary file");
	while ((r = io_read(fd, tmp, n)) > 0)
		if (sink_write(out, tmp, (size_t)r, e) != 0)
			return -1;
	if (r < 0)
		return err_sys(e, EX_IOERR, "cannot read the temporary file");
	return 0;
}

static void
free_chain(BIO *cont, BIO *stop)
{
	BIO *next;

	while (cont != NULL && cont != stop) {
		next = BIO_pop(cont);
		BIO_free(cont);
		cont = next;
	}
}

int
env_decrypt_spool(const struct ber_src *in, EVP_PKEY *pkey, X509 *cert, int *fdp,
    struct env_info *info, struct err *e)
{
	struct env_parse p;
	struct dcont d;
	CMS_ContentInfo *cms = NULL;
	BIO *dc = NULL, *cont = NULL, *cb;
	unsigned char *tmp = NULL;
	int fd = -1, rc = -1, r;
	const size_t tmpn = 65536;

	*fdp = -1;
	memset(&d, 0, sizeof d);
	if (info != NULL)
		memset(info, 0, sizeof *info);
	if (parse_init(&p, in, e) != 0)
		return -1;
	r = parse_head(&p);
	if (info != NULL) {
		info->content = p.content;
		info->auth = p.auth;
		info->cipher_nid = p.cipher_nid;
		if (p.alg.len > 0)
			alg_name(&p.alg, info->cipher, sizeof info->cipher);
	}
	if (r != 0)
		goto out;
	if ((cms = fake_cms(&p, &p.rinfos, e)) == NULL)
		goto out;
	if (info != NULL)
		info->nrecips = sk_CMS_RecipientInfo_num(CMS_get0_RecipientInfos(cms));
	if (open_key(cms, pkey, cert, e) != 0)
		goto out;
	d.p = &p;
	if ((dc = dcont_new(&d)) == NULL) {
		err_ssl(e, EX_SOFTWARE, "cannot create a BIO");
		goto out;
	}
	if ((cont = CMS_dataInit(cms, dc)) == NULL) {
		char name[64];

		if (d.failed) {
			*e = d.e;
		} else {
			alg_name(&p.alg, name, sizeof name);
			err_ssl(e, EX_UNAVAILABLE, "the content-encryption algorithm %s is not "
			    "supported by this OpenSSL", name);
		}
		goto out;
	}
	if ((cb = BIO_find_type(cont, BIO_TYPE_CIPHER)) == NULL
	    || BIO_get_cipher_ctx(cb, &d.cctx) <= 0) {
		err_set(e, EX_SOFTWARE, "no cipher in the decryption chain");
		goto out;
	}
	/* Everything goes to a private spool first: nothing is released until the cipher has
	 * finished (CBC padding checked; for AuthEnvelopedData, RFC 5083 §2.2, the tag). */
	if ((fd = io_spool(e)) < 0)
		goto out;
	if ((tmp = malloc(tmpn)) == NULL) {
		err_sys(e, EX_OSERR, "out of memory");
		goto out;
	}
	while ((r = BIO_read(cont, tmp, (int)tmpn)) > 0)
		if (io_write_all(fd, tmp, (size_t)r) != 0) {
			err_sys(e, EX_IOERR, "cannot write the temporary file");
			goto out;
		}
	if (d.failed) {
		*e = d.e;
		goto out;
	}
	if (r < 0 && !BIO_should_retry(cont) && ERR_peek_error() != 0) {
		err_ssl(e, EX_DATAERR, "decryption failed");
		goto out;
	}
	if (!p.trailer_done) {
		err_set(e, EX_DATAERR, "decryption stopped before the end of the content");
		goto out;
	}
	if (BIO_get_cipher_status(cb) <= 0) {
		ERR_clear_error();
		if (p.auth)
			err_set(e, EX_DATAERR, "authentication failed: the tag does not match, "
			    "the message was altered or the key is wrong; nothing written");
		else
			err_set(e, EX_DATAERR, "decryption failed: bad padding (wrong key or "
			    "corrupt data); nothing written");
		goto out;
	}
	if (p.auth && p.attrs.len) {
		err_set(e, EX_UNAVAILABLE, "authenticated attributes in authEnveloped-data are "
		    "not supported");
		goto out;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		err_sys(e, EX_IOERR, "cannot rewind the temporary file");
		goto out;
	}
	*fdp = fd;
	fd = -1;
	rc = 0;
out:
	if (tmp != NULL) {
		OPENSSL_cleanse(tmp, tmpn);
		free(tmp);
	}
	free_chain(cont, dc);
	BIO_free(dc);
	CMS_ContentInfo_free(cms);	/* clears the content-encryption key */
	if (fd >= 0)
		close(fd);
	parse_free(&p);
	return rc;
}

int
env_decrypt(const struct ber_src *in, EVP_PKEY *pkey, X509 *cert, const struct sink *out,
    struct env_info *info, struct err *e)
{
	unsigned char *tmp;
	const size_t tmpn = 65536;
	int fd, rc;

	if (env_decrypt_spool(in, pkey, cert, &fd, info, e) != 0)
		return -1;
	if ((tmp = malloc(tmpn)) == NULL) {
		close(fd);
		return err_sys(e, EX_OSERR, "out of memory");
	}
	rc = copy_spool(fd, out, tmp, tmpn, e);
	OPENSSL_cleanse(tmp, tmpn);
	free(tmp);
	close(fd);
	return rc;
}

enum env_content
env_content_type(const struct ber_src *in)
{
	struct env_parse p;
	struct err e;
	enum env_content c;

	if (parse_init(&p, in, &e) != 0)
		return ENV_CT_UNKNOWN;
	(void)parse_head(&p);	/* stops at the first problem; the type is known by then */
	c = p.content;
	parse_free(&p);
	return c;
}

/* ---- re-wrapping for a list ----------------------------------------------------------------- */

/* RFC 5652 §6.1 version of an EnvelopedData with these RecipientInfos (AuthEnvelopedData is
 * always 0, RFC 5083 §2.1). */
static int
env_version(struct env_parse *p, STACK_OF(CMS_RecipientInfo) *ris, int old)
{
	int i, all_v0 = 1, t;

	if (p->auth)
		return 0;
	if (old >= 3)
		return old;	/* originatorInfo with other/v2 attribute certs: unchanged */
	for (i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);

		t = CMS_RecipientInfo_type(ri);
		if (t == CMS_RECIPINFO_PASS || t == CMS_RECIPINFO_OTHER)
			return 3;
		if (t != CMS_RECIPINFO_TRANS)
			all_v0 = 0;
		else {
			ASN1_OCTET_STRING *kid = NULL;
			X509_NAME *iss = NULL;
			ASN1_INTEGER *sn = NULL;

			if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &kid, &iss, &sn) == 1
			    && kid != NULL)
				all_v0 = 0;
		}
	}
	if (p->originator.len == 0 && p->attrs.len == 0 && all_v0)
		return 0;
	return 2;
}

/* The RecipientInfos SET of cms, DER, through a second pass of the parser over i2d. */
static int
rinfos_der(CMS_ContentInfo *cms, struct buf *out, struct err *e)
{
	unsigned char *der = NULL;
	struct env_mem m;
	struct ber_src src;
	struct env_parse q;
	int n, rc = -1;

	if ((n = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		return err_ssl(e, EX_SOFTWARE, "cannot encode the new recipients");
	m.p = der;
	m.len = (size_t)n;
	m.pos = 0;
	src = env_mem_src(&m);
	if (parse_init(&q, &src, e) == 0 && parse_head(&q) != 0) {
		/* no content in the fake: parse_head stops with "no encrypted content" after
		 * the RecipientInfos were captured */
	}
	if (q.rinfos.len > 0) {
		buf_add(out, q.rinfos.p, q.rinfos.len);
		rc = buf_check(out, e);
	}
	parse_free(&q);
	OPENSSL_free(der);
	return rc;
}

static int
put(const struct sink *out, const void *p, size_t n, struct err *e)
{
	return sink_write(out, p, n, e);
}

int
env_rewrap(const struct ber_src *in, EVP_PKEY *pkey, X509 *cert, STACK_OF(X509) *members,
    int flags, const struct sink *out, struct env_info *info, struct err *e)
{
	static const unsigned char eoc2[] = { 0, 0 };
	static const unsigned char indef_seq[] = { 0x30, 0x80 }, indef_ctx0[] = { 0xa0, 0x80 };
	STACK_OF(CMS_RecipientInfo) *ris, *old = NULL;
	struct env_parse p;
	struct buf nri = BUF_INIT, ver = BUF_INIT;
	CMS_ContentInfo *cms = NULL;
	unsigned char *tmp = NULL, hdr[16];
	ssize_t r;
	int i, n, rc = -1, oldver;
	const size_t tmpn = 65536;

	if (info != NULL)
		memset(info, 0, sizeof *info);
	if (cert == NULL)
		return err_set(e, EX_USAGE, "re-wrapping needs the list's certificate");
	if (sk_X509_num(members) == 0)
		return err_set(e, EX_USAGE, "re-wrapping needs at least one member certificate");
	if (parse_init(&p, in, e) != 0)
		return -1;
	if (parse_head(&p) != 0)
		goto out;
	if (info != NULL) {
		info->auth = p.auth;
		alg_name(&p.alg, info->cipher, sizeof info->cipher);
	}
	if ((cms = fake_cms(&p, &p.rinfos, e)) == NULL || open_key(cms, pkey, cert, e) != 0)
		goto out;
	/* Take the old RecipientInfos out (kept to be freed with cms), add the members'. */
	ris = CMS_get0_RecipientInfos(cms);
	if ((old = sk_CMS_RecipientInfo_new_null()) == NULL) {
		err_sys(e, EX_OSERR, "out of memory");
		goto out;
	}
	while (sk_CMS_RecipientInfo_num(ris) > 0)
		if (!sk_CMS_RecipientInfo_push(old, sk_CMS_RecipientInfo_shift(ris))) {
			err_sys(e, EX_OSERR, "out of memory");
			goto out;
		}
	if (info != NULL)
		info->nrecips = sk_CMS_RecipientInfo_num(old);
	for (i = 0; i < sk_X509_num(members); i++) {
		CMS_RecipientInfo *ri;

		if (add_recipient(cms, sk_X509_value(members, i), flags, e) != 0)
			goto out;
		ri = sk_CMS_RecipientInfo_value(ris, sk_CMS_RecipientInfo_num(ris) - 1);
#ifdef HAVE_CMS_KEMRI
		if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_KEM) {
			/* RFC 9936 §3: id-aes256-wrap for ML-KEM-768 and -1024 (add_recipient set
			 * id-aes128-wrap for ML-KEM-512). OpenSSL would take the default from the
			 * content cipher, which is never set up when the content is not
			 * decrypted, as for kari below. */
			EVP_CIPHER_CTX *kctx = CMS_RecipientInfo_kemri_get0_ctx(ri);

			if (kctx != NULL)
				EVP_CIPHER_CTX_set_flags(kctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
			if (kctx == NULL || (EVP_CIPHER_CTX_get0_cipher(kctx) == NULL &&
			    EVP_EncryptInit_ex(kctx, EVP_aes_256_wrap(), NULL, NULL, NULL) != 1)) {
				err_ssl(e, EX_SOFTWARE, "cannot set up the ML-KEM key wrap");
				goto out;
			}
		}
#endif
		if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_AGREE) {
			/* RFC 5753 §7.2 / RFC 8551: the key wrap matching the content key size.
			 * Set here because OpenSSL would take it from the content cipher, which
			 * is never set up when the content is not decrypted. */
			EVP_CIPHER_CTX *wctx = CMS_RecipientInfo_kari_get0_ctx(ri);
			const unsigned char *q = (const unsigned char *)p.alg.p;
			X509_ALGOR *a = d2i_X509_ALGOR(NULL, &q, (long)p.alg.len);
			const ASN1_OBJECT *obj = NULL;
			const EVP_CIPHER *cc, *wrap;

			if (a != NULL)
				X509_ALGOR_get0(&obj, NULL, NULL, a);
			cc = obj != NULL ? EVP_get_cipherbyobj(obj) : NULL;
			X509_ALGOR_free(a);
			wrap = cc != NULL && EVP_CIPHER_get_key_length(cc) <= 16
			    ? EVP_aes_128_wrap() : cc != NULL && EVP_CIPHER_get_key_length(cc) <= 24
			    ? EVP_aes_192_wrap() : EVP_aes_256_wrap();
			EVP_CIPHER_CTX_set_flags(wctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
			if (EVP_EncryptInit_ex(wctx, wrap, NULL, NULL, NULL) != 1) {
				err_ssl(e, EX_SOFTWARE, "cannot set up the key wrap");
				goto out;
			}
		}
		if (CMS_RecipientInfo_encrypt(cms, ri) != 1) {
			err_ssl(e, EX_SOFTWARE, "cannot wrap the key for member %d", i + 1);
			goto out;
		}
	}
	if (rinfos_der(cms, &nri, e) != 0)
		goto out;
	/* Version: recomputed for the new RecipientInfos (RFC 5652 §6.1). */
	oldver = p.version.len == 3 ? (unsigned char)p.version.p[2] : 0;
	buf_addc(&ver, 0x02);
	buf_addc(&ver, 0x01);
	buf_addc(&ver, (char)env_version(&p, ris, oldver));
	if (buf_check(&ver, e) != 0)
		goto out;
	/* Out: indefinite-length wrappers around the same content, re-chunked. */
	if (put(out, indef_seq, 2, e) || put(out, p.auth ? oid_authenv : oid_env,
	    p.auth ? sizeof oid_authenv : sizeof oid_env, e) || put(out, indef_ctx0, 2, e)
	    || put(out, indef_seq, 2, e) || put(out, ver.p, ver.len, e)
	    || (p.originator.len && put(out, p.originator.p, p.originator.len, e))
	    || put(out, nri.p, nri.len, e) || put(out, indef_seq, 2, e)
	    || put(out, p.ctype.p, p.ctype.len, e) || put(out, p.alg.p, p.alg.len, e)
	    || put(out, indef_ctx0, 2, e))
		goto out;
	if ((tmp = malloc(tmpn)) == NULL) {
		err_sys(e, EX_OSERR, "out of memory");
		goto out;
	}
	while ((r = content_read(&p, tmp, tmpn)) > 0) {
		n = 0;
		hdr[n++] = 0x04;
		if (r < 0x80) {
			hdr[n++] = (unsigned char)r;
		} else if (r < 0x10000) {
			hdr[n++] = 0x82;
			hdr[n++] = (unsigned char)(r >> 8);
			hdr[n++] = (unsigned char)r;
		} else {
			hdr[n++] = 0x83;
			hdr[n++] = (unsigned char)(r >> 16);
			hdr[n++] = (unsigned char)(r >> 8);
			hdr[n++] = (unsigned char)r;
		}
		if (put(out, hdr, (size_t)n, e) || put(out, tmp, (size_t)r, e))
			goto out;
	}
	if (r < 0)
		goto out;
	if (put(out, eoc2, 2, e) || put(out, eoc2, 2, e)
	    || (p.attrs.len && put(out, p.attrs.p, p.attrs.len, e))
	    || (p.mac.len && put(out, p.mac.p, p.mac.len, e))
	    || (p.unauth.len && put(out, p.unauth.p, p.unauth.len, e))
	    || put(out, eoc2, 2, e) || put(out, eoc2, 2, e) || put(out, eoc2, 2, e))
		goto out;
	rc = 0;
out:
	if (old != NULL) {
		/* Give the old RecipientInfos back so that cms frees them. */
		ris = cms != NULL ? CMS_get0_RecipientInfos(cms) : NULL;
		while (sk_CMS_RecipientInfo_num(old) > 0)
			if (ris == NULL || !sk_CMS_RecipientInfo_push(ris,
			    sk_CMS_RecipientInfo_shift(old)))
				break;
		sk_CMS_RecipientInfo_free(old);
	}
	free(tmp);
	buf_free(&nri);
	buf_free(&ver);
	CMS_ContentInfo_free(cms);	/* clears the content-encryption key */
	parse_free(&p);
	return rc;
}

/* ---- memory source ------------------------------------------------------------------------ */

static ssize_t
mem_read(void *ctx, void *p, size_t n, struct err *e)
{
	struct env_mem *m = ctx;

	(void)e;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	if (n > 0)
		memcpy(p, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

struct ber_src
env_mem_src(struct env_mem *m)
{
	struct ber_src s = { mem_read, m };

	return s;
}
