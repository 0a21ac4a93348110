/* cms.h — OpenSSL CMS glue for S/MIME signatures (RFC 5652 SignedData, RFC 8551): streaming
 * signing of an already canonical content entity, detached or encapsulated, certs-only, and
 * verification with a verdict per RFC 7281 and one distinct reason per failure. */
#ifndef SECMAIL_CMS_H
#define SECMAIL_CMS_H

#include <stddef.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/x509.h>

#include "buf.h"
#include "err.h"
#include "io.h"
#include "keys.h"
#include "revoke.h"

/* ---- signing ---- */

struct cms_sign_opts {
	const char *digest;	/* "sha256" (default, NULL), "sha384", "sha512" */
	int pss;		/* RSA-PSS (RFC 4056) instead of PKCS#1 v1.5 for RSA keys */
	int opaque;		/* encapsulate the content (else detached) */
	X509 *enc_cert;		/* announce it with SMIMEEncryptionKeyPreference (RFC 8551
				 * §2.5.3) and carry it; NULL: none */
	time_t signing_time;	/* 0: now */
	/* RFC 2634 §2.7 ReceiptRequest (issue 14): signed receipts from every recipient, to
	 * these addresses (NULL-terminated); NULL: no request. */
	char *const *receipt_to;
	const int *caps;	/* issue 13: the SMIMECapabilities to announce (cipher NIDs, most
				 * preferred first; cms_caps_parse); NULL: CMS_CAPS_DEFAULT */
	int ncaps;
	const struct keys_identity *second;	/* issue 15: a second signer (e.g. ML-DSA
				 * beside RSA or ECDSA): one SignedData, two SignerInfos with the
				 * same signed attributes; NULL: one signer */
};

/*
 * Issue 13: what a signature announces (RFC 8551 §2.5.2), a preset or a list of the ciphers
 * smime-encrypt offers, comma-separated, most preferred first ("aes-256-cbc,aes-128-cbc").
 * Presets, for the software the signer reads mail with:
 *	secmail		aes-256-gcm, aes-128-gcm, aes-256-cbc, aes-128-cbc (the default: secmail
 *			and `openssl cms` open authEnveloped-data)
 *	cbc		aes-256-cbc, aes-128-cbc
 *	openssl-smime, neomutt, mutt, s-nail	cbc (`openssl smime` cannot open
 *			authEnveloped-data)
 *	gpgsm		cbc (GnuPG 2.2, Debian 12, cannot)
 *	nss		cbc (NSS 3.87 cmsutil, Debian 12, cannot)
 * Fills nids (at most max), *n; -1 with e set (EX_USAGE) for an unknown name, a weak cipher,
 * a repeated one or an empty list.
 */
#define CMS_CAPS_DEFAULT "secmail"
int cms_caps_parse(const char *spec, int *nids, int max, int *n, struct err *e);

/* The digest that will be used, as an OpenSSL name, or NULL with e set for an unknown name.
 * The key's algorithm may prescribe one, whatever o->digest says: SHA-512 for Ed25519 (RFC 8419
 * §3.1) and ML-DSA (RFC 9882), SHA-256 for SLH-DSA-SHA2-128*, SHA-512 for the other SHA2 sets
 * (RFC 9814 §4); keys this OpenSSL cannot make CMS signatures with (Ed448, SLH-DSA-SHAKE)
 * give EX_UNAVAILABLE. With o->second and a different digest for it, both, first signer's
 * first: "sha256,sha512" (cms_micalg lists both). */
const char *cms_sign_digest(const struct keys_identity *id, const struct cms_sign_opts *o,
    struct err *e);
/* RFC 8551 §3.5.3.2 micalg value for a digest name: "sha-256", ..., "sha-256,sha-512" for a
 * pair; "unknown" for a digest without a token. */
const char *cms_micalg(const char *digest);

struct cms_sign;

/*
 * Begin a signature by id over content fed with cms_sign_write. The DER of the SignedData
 * ContentInfo goes to out: for a detached signature all of it at cms_sign_finish; with
 * opaque, streamed (indefinite-length BER) as content arrives. Signed attributes: content
 * type, message digest, signing time, SMIMECapabilities (o->caps, by default what
 * smime-encrypt supports: AES-256-GCM, AES-128-GCM, AES-256-CBC, AES-128-CBC, strongest
 * first; never 3DES/RC2/DES), SMIMEEncryptionKeyPreference when o->enc_cert. Certificates: the signer's,
 * id->chain, enc_cert.
 */
struct cms_sign *cms_sign_new(const struct keys_identity *id, const struct cms_sign_opts *o,
    const struct sink *out, struct err *e);
int cms_sign_write(struct cms_sign *s, const void *p, size_t n, struct err *e);
int cms_sign_finish(struct cms_sign *s, struct err *e);
/* After cms_sign_finish with o->receipt_to: the SignedData without its content (DER: the
 * signer info that a receipt's msgSigDigest is checked against, RFC 2634 §2.8) into der, and
 * the request's signedContentIdentifier (up to 128 octets) into id, *idlen set. */
int cms_sign_receipt_record(struct cms_sign *s, struct buf *der, unsigned char *id,
    size_t *idlen, struct err *e);
void cms_sign_free(struct cms_sign *s);

/* A degenerate SignedData with no signers carrying certs (RFC 8551 §3.6, certs-only). */
int cms_certs_only(STACK_OF(X509) *certs, const struct sink *out, struct err *e);

/* ---- verifying ---- */

/* RFC 7281 §3 result values. */
enum cms_verdict {
	CMS_V_PASS,
	CMS_V_FAIL,		/* the signature, digest or certificate chain is bad */
	CMS_V_POLICY,		/* cryptographically sound, but refused by policy: the signer
				 * does not match From, the certificate is not for e-mail
				 * protection, only a part is signed (smime.c) */
	CMS_V_NEUTRAL,		/* signed, but nothing to verify against (no signer cert,
				 * certs-only), or a key or algorithm that cannot be used */
	CMS_V_TEMPERROR,
	CMS_V_PERMERROR,	/* the structure cannot be read */
	CMS_V_NONE,		/* the message is not signed (RFC 8601 §2.7.1 "none") */
};
const char *cms_verdict_name(enum cms_verdict v);

/* Issue 15: which kinds of signature must be present and verify (smime-verify
 * --require-signature). Classical: RSA, RSA-PSS, ECDSA, EdDSA; post-quantum: ML-DSA, SLH-DSA. */
enum cms_require {
	CMS_REQUIRE_ANY,	/* at least one SignerInfo verifies (the default) */
	CMS_REQUIRE_CLASSICAL,
	CMS_REQUIRE_PQ,
	CMS_REQUIRE_BOTH,
};
/* "any", "classical", "pq", "both" -> 0 with *r; -1 for another name. */
int cms_require_parse(const char *s, enum cms_require *r);

struct cms_verify_opts {
	const char *ca_file;	/* trust anchors; both NULL: the system's default paths */
	const char *ca_path;
	STACK_OF(X509) *pinned;	/* certificates trusted as they are (the store's) */
	time_t now;		/* 0: time(NULL) */
	X509_STORE *anchors;	/* the anchors loaded once (cms_load_anchors), for many
				 * calls (batch mode); NULL: read at each call */
	struct revoke *revoke;	/* revocation of the signer's chain and of the encryption
				 * certificate (see cms_verify); NULL: not checked */
	enum cms_require require;	/* issue 15 */
};

/* Issue 15: what became of each SignerInfo, in the message's order. */
#define CMS_MAX_SIGNERS 8
enum cms_signer_outcome {
	CMS_SIGNER_PASS,	/* verified, and counts (names the identity's address, chains) */
	CMS_SIGNER_UNCHECKED,	/* an algorithm this OpenSSL cannot check: reported, ignored */
	CMS_SIGNER_NOT_COUNTED,	/* verified, but another signer's or not trusted */
};
struct cms_signer_note {
	char alg[40];		/* "RSA", "ML-DSA-65", ... */
	int pq;			/* a post-quantum algorithm */
	enum cms_signer_outcome outcome;
};

/* The trust anchors o names (ca_file/ca_path, else the system's), for cms_verify_opts.anchors;
 * NULL with e set (EX_TEMPFAIL when they cannot be read). Free with X509_STORE_free. */
X509_STORE *cms_load_anchors(const struct cms_verify_opts *o, struct err *e);

/*
 * What a signature proves, for the mail policy (smime.c) to turn into a verdict. Only
 * signer, signer_addrs, chain and enc_cert are authenticated; certs is whatever the message
 * carried (the certificates set of a SignedData is not signed).
 */
struct cms_result {
	enum cms_verdict verdict;
	char reason[400];	/* why, one line: for stderr and the A-R comment */
	char *identifier;	/* the signer's address the policy matched, else its first, or
				 * NULL (set by the policy; cms_verify leaves it NULL) */
	X509 *signer;		/* the signer's certificate (when found) */
	char **signer_addrs;	/* its addresses (keys_cert_addrs), when signer is set */
	STACK_OF(X509) *certs;	/* every certificate in the message (unauthenticated) */
	STACK_OF(X509) *chain;	/* pass: the certificates that verified above the signer and
				 * the encryption certificate (intermediates, anchors); empty
				 * when pinned; NULL otherwise */
	X509 *enc_cert;		/* pass: the certificate named by SMIMEEncryptionKeyPreference,
				 * only when it passed the same checks as the signer (see
				 * cms_verify); NULL when none was named or it was refused */
	char enc_note[200];	/* why a named encryption certificate was refused, or "" */
	int caps[32];		/* SMIMECapabilities NIDs, the sender's order */
	int ncaps;
	time_t signing_time;	/* 0 when absent */
	int econtent_type;	/* NID of the eContentType (NID_pkcs7_data for mail) */
	char econtent_name[64];	/* its name or dotted OID, for messages */
	int certs_only;		/* a certs-only message (no signers) */
	char warning[300];	/* smime_verify: a problem besides the verdict, for stderr (the
				 * store could not be written), or "" */
	/* RFC 2634 §2.7: the signer asks for a signed receipt (signed attribute read on
	 * any verdict with a signer; issue 14) */
	int receipt_request;
	char receipt_to[256];	/* the first address receipts go to, or "" */
	char rev_note[300];	/* pass: the revocation status could not be learnt (soft mode),
				 * for the reason; or "" */
	struct cms_signer_note signers[CMS_MAX_SIGNERS];	/* issue 15 */
	int nsigners;
};

void cms_result_free(struct cms_result *r);

/* Issue 15: "signers: RSA pass, ML-DSA-65 not checked here" when there were several signers
 * or one was not checked, else "". */
void cms_signers_summary(const struct cms_result *r, char *buf, size_t n);

/*
 * Verify the SignedData in der/derlen. content: the detached content (already canonical), or
 * NULL for encapsulated content, which is then written to content_out (may be NULL). Returns
 * 0 with the verdict in r (any verdict; free it with cms_result_free), -1 only for errors that
 * are not about the message (memory, I/O on content BIOs: EX_IOERR/EX_OSERR; unreadable trust
 * anchors: EX_TEMPFAIL), with r left empty.
 *
 * What pass means here (the mail rules, such as matching From, are smime.c's): the signature
 * and the message digest verify (RFC 5652 §5.6); the signer certificate chains to a trust
 * anchor (o->ca_file/ca_path or the system bundle), or is pinned (o->pinned: then it is its
 * own anchor, every other check still applies); it is valid now and at the signing time, when
 * the signature states one; with an extended key usage it includes emailProtection, with a
 * key usage digitalSignature or nonRepudiation (X509_PURPOSE_SMIME_SIGN). A failure names its
 * cause truthfully: "altered" only when the message digest differs; a signer key that cannot
 * be used (a DSA key inheriting its parameters, RFC 3279 §2.3.2) is neutral.
 *
 * The encryption certificate (RFC 8551 §2.5.3, issuerAndSerialNumber) is taken only after a
 * pass and only if it passes the signer's policy too: it chains to a trust anchor (or is
 * pinned) - which also proves it was issued under the issuer's key, not by another CA of the
 * same name -, is valid now, has emailProtection when it has an extended key usage, permits
 * keyEncipherment (RSA) or keyAgreement (other keys) when it has a key usage, and names one of
 * the signer's addresses. Otherwise enc_cert stays NULL and enc_note says why.
 *
 * Several SignerInfos (issue 15): every one whose algorithm this OpenSSL can check must verify
 * (one that does not fails the verdict: someone tampered), those it cannot check are reported
 * and ignored; the identity is the first that verified; another counts for o->require only
 * when its certificate names one of the identity's addresses and chains like the first. A
 * kind o->require asks for that is missing fails, saying what was missing. A SignerInfo whose
 * digest is weaker than its ML-DSA or SLH-DSA key's strength (RFC 9882, RFC 9814: SHA-256 for
 * the 128-bit sets, at least SHA-384 for 192, SHA-512 for 256) fails. The reason lists each
 * signer's algorithm and outcome when there are several or one was not checked.
 *
 * Revocation (o->revoke, after the chain verified; RFC 5280 §6.3, RFC 6960): the signer's
 * certificate and every CA certificate above it but the trust anchor (a pinned certificate
 * has none). Revoked: fail, naming the certificate, the revocation time, the reason code and
 * who said so - except a revocation after the signing time for a reason that does not void
 * earlier signatures (revoke_reason_voids_past: superseded, affiliationChanged,
 * cessationOfOperation, privilegeWithdrawn), which is policy: the signature is sound, but the
 * signing time is the signer's own claim and the certificate is no longer valid. Status
 * unknown: in strict mode temperror; otherwise the pass stays, with rev_note saying what was
 * asked, when something could have been asked. A revoked encryption certificate is refused.
 */
int cms_verify(const unsigned char *der, size_t derlen, BIO *content, BIO *content_out,
    const struct cms_verify_opts *o, struct cms_result *r, struct err *e);

/*
 * Issue 13 (smime-certs import): may certificate x, as it came with the certificates in
 * untrusted, be trusted for e-mail? It must chain to a trust anchor of o (ca_file/ca_path or
 * the system's; pinned certificates do not count) at o->now, have emailProtection when it has
 * an extended key usage, and, with o->revoke, not be revoked (nor its CAs; in strict mode
 * their status must be known). 0 with *chain (the certificates above x, the anchor
 * included); 1 when not, why (n bytes) saying why; -1 with e set on hard errors (trust
 * anchors that cannot be read: EX_TEMPFAIL).
 */
int cms_cert_verify(X509 *x, STACK_OF(X509) *untrusted, const struct cms_verify_opts *o,
    STACK_OF(X509) **chain, char *why, size_t n, struct err *e);

/* A BIO writing to a sink (errors kept for cms_sink_bio_err). */
BIO *cms_sink_bio(const struct sink *s);
const struct err *cms_sink_bio_err(BIO *b);

/* Opaque signed-data, streamed with bounded memory: read a (BER) ContentInfo from fd in,
 * write the eContent octets to fd content (*has_content set when there is one) and put in der
 * the same ContentInfo with the content left out, for cms_verify with the content detached.
 * 0; 1 when the ContentInfo is not signed-data (e says what it is, *type is its NID, e.g.
 * NID_pkcs7_enveloped or NID_id_smime_ct_authEnvelopedData); -1 with e set (EX_DATAERR for
 * malformed input). type may be NULL. */
int cms_opaque_split(int in, int content, struct buf *der, int *has_content, int *type,
    struct err *e);

#endif
