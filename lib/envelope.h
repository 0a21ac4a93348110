/* envelope.h — CMS EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083) over OpenSSL:
 * streaming encryption for many recipients, streaming decryption that releases no plaintext
 * before it is known to be good, and re-wrapping the content-encryption key for the members
 * of a distribution list without touching the content. Bytes in and out are raw BER/DER;
 * transfer encoding (base64) is the caller's business. */
#ifndef SECMAIL_ENVELOPE_H
#define SECMAIL_ENVELOPE_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ber.h"
#include "err.h"
#include "io.h"


/* Content-encryption algorithms. The first four are what smime-encrypt offers (RFC 8551
 * §2.7); the weak ones exist only so that --allow-weak can name them. */
enum env_cipher {
	ENV_AES256_GCM,
	ENV_AES128_GCM,
	ENV_AES256_CBC,
	ENV_AES128_CBC,
	ENV_DES3_CBC,		/* weak */
	ENV_NCIPHERS,
	ENV_CIPHER_NONE = -1
};

#define ENV_DEFAULT_CIPHER ENV_AES256_CBC	/* RFC 8551 §2.7.1.3: what common clients read */

/* "aes-256-gcm" ... ; ENV_CIPHER_NONE if unknown. */
enum env_cipher env_cipher_parse(const char *name);
const char *env_cipher_name(enum env_cipher c);
int env_cipher_is_weak(enum env_cipher c);
int env_cipher_is_aead(enum env_cipher c);
/* By OpenSSL NID (as found in SMIMECapabilities); ENV_CIPHER_NONE if not one of ours. */
enum env_cipher env_cipher_from_nid(int nid);

/*
 * RFC 8551 §2.7.1: choose one algorithm for n recipients. caps[i] is recipient i's announced
 * list (signed SMIMECapabilities, most preferred first, ENV_CIPHER_NONE-terminated) or NULL
 * when unknown; prev[i] what was last received from them in mail whose signature verified,
 * or ENV_CIPHER_NONE. Rules: a history entry counts (as a one-element list) only for a
 * recipient without capabilities, so history never lowers the choice below what a recipient
 * announced; recipients with neither restrict the choice to CBC (what every client reads);
 * weak algorithms are never chosen; of the ciphers every known list holds, the first
 * authenticated one (AES-GCM) in the first list's order, else the first one; with no
 * information (or nothing in common) ENV_DEFAULT_CIPHER.
 */
enum env_cipher env_cipher_choose(const enum env_cipher *const *caps, const enum env_cipher *prev,
    size_t n);

enum {
	ENV_OAEP = 1 << 0,	/* RSA recipients: RSAES-OAEP (SHA-256, MGF1-SHA-256), RFC 8017 */
};

/* Is this certificate usable as an encryption recipient now? 0, or -1 with e saying why
 * (expired, not yet valid, keyUsage without keyEncipherment/keyAgreement, EKU without
 * emailProtection, unsupported key type, a key weaker than ENV_MIN_SECURITY_BITS). */
#define ENV_MIN_SECURITY_BITS 112	/* RSA 2048, P-224 (NIST SP 800-57 part 1) */
int env_cert_usable(X509 *cert, struct err *e);
/* Issue 15: ML-KEM (RFC 9629 KEMRecipientInfo, OpenSSL 3.6) is usable when this OpenSSL's CMS
 * has it, with keyUsage keyEncipherment alone; X25519/X448 (RFC 8418) and ML-KEM on an OpenSSL
 * without KEMRecipientInfo are EX_UNAVAILABLE, saying why. */
/* Issue 15: is cert's key ML-KEM? 1 with *level (512, 768, 1024; level may be NULL), else 0. */
int env_cert_is_mlkem(X509 *cert, int *level);

/* Streaming encryption: every byte written goes into the envelope; out receives BER
 * (indefinite lengths) as it is produced. */
struct env_enc;
struct env_enc *env_enc_new(STACK_OF(X509) *recips, enum env_cipher c, int flags,
    const struct sink *out, struct err *e);
int env_enc_write(struct env_enc *x, const void *p, size_t n, struct err *e);
int env_enc_final(struct env_enc *x, struct err *e);
void env_enc_free(struct env_enc *x);

/* What the ContentInfo holds (its contentType, RFC 5652 §3). */
enum env_content {
	ENV_CT_UNKNOWN,		/* not read: empty, truncated or not a ContentInfo */
	ENV_CT_ENVELOPED,	/* id-envelopedData */
	ENV_CT_AUTH_ENVELOPED,	/* id-ct-authEnvelopedData */
	ENV_CT_SIGNED,		/* id-signedData: for smime-verify */
	ENV_CT_OTHER,		/* any other content type */
};

/* What env_decrypt found (filled as far as it got, also on failure). */
struct env_info {
	enum env_content content;
	int auth;		/* authEnveloped-data: the content's integrity was checked by
				 * the AEAD tag (RFC 5083) once decryption succeeded */
	int nrecips;		/* RecipientInfos in the envelope */
	int cipher_nid;		/* content-encryption algorithm, NID_undef if unknown */
	char cipher[64];	/* ... its OpenSSL short name (or dotted OID) */
};

/* Limits on the parts held in memory (EX_DATAERR beyond them). */
#define ENV_MAX_PART	(1 << 20)	/* one RecipientInfos SET, attributes, algorithm */
#define ENV_MAX_DEPTH	16		/* nesting of constructed encodings */

/* RFC 5084 §3.2: the GCM ICV (tag) length allowed, in octets. */
#define ENV_GCM_MIN_ICVLEN 12
#define ENV_GCM_MAX_ICVLEN 16

/*
 * Decrypt a ContentInfo read from in. The key (and, when given, its certificate: then the
 * RecipientInfo for it is looked up, otherwise every one is tried) opens the content-encryption
 * key. The plaintext is spooled to a private temporary file and only copied to out once
 * decryption has finished and, for AuthEnvelopedData, the tag has verified (RFC 5083 §2.2);
 * on any failure out receives nothing. Errors: EX_DATAERR for malformed or truncated input,
 * failed authentication, no RecipientInfo for the certificate, or a key that cannot open it;
 * EX_UNAVAILABLE for algorithms OpenSSL cannot handle (the message names them: a key
 * agreement or transport algorithm, a content-encryption algorithm); EX_IOERR/EX_CANTCREAT/
 * EX_OSERR for the spool and memory (transient: the message itself may be fine).
 *
 * What is refused before any plaintext is released: authEnveloped-data with anything but
 * AES-GCM; a GCM aes-ICVlen outside 12..16 or a tag (mac) of another length than it declares
 * (RFC 5084 §3.2: a truncated tag is a forgery shortcut); enveloped-data with an AEAD
 * algorithm (there is no tag to check, RFC 5083 §1); authenticated attributes (not
 * supported); trailing data.
 */
int env_decrypt(const struct ber_src *in, EVP_PKEY *pkey, X509 *cert, const struct sink *out,
    struct env_info *info, struct err *e);

/* As env_decrypt, but the plaintext is handed over as the private spool file itself, rewound
 * (*fd; the caller closes it), once everything has been checked; *fd is -1 on failure. */
int env_decrypt_spool(const struct ber_src *in, EVP_PKEY *pkey, X509 *cert, int *fd,
    struct env_info *info, struct err *e);

/* Read only the ContentInfo's contentType from in: ENV_CT_UNKNOWN when it is not a
 * ContentInfo (or ends before its type). Consumes a few bytes of in. */
enum env_content env_content_type(const struct ber_src *in);

/*
 * Distribution-list exploder (RFC 5652 §6, RFC 2634 §5 model): open only the
 * content-encryption key with the list's key and certificate, wrap it anew for each member,
 * and write the envelope with the members' RecipientInfos in place of the old ones. The
 * encrypted content is copied through, never decrypted. flags: ENV_OAEP.
 */
int env_rewrap(const struct ber_src *in, EVP_PKEY *pkey, X509 *cert, STACK_OF(X509) *members,
    int flags, const struct sink *out, struct env_info *info, struct err *e);

/* A ber_src over a memory buffer (tests, fuzzing). */
struct env_mem {
	const unsigned char *p;
	size_t len, pos;
};
struct ber_src env_mem_src(struct env_mem *m);

#endif
