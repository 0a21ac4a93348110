/* certimport.h — what smime-certs import and pin put into the certificate store: certificates
 * (PEM, DER, PKCS#7/CMS certs-only) that chain to a trust anchor, signed messages that verify
 * (what they announce is stored, as smime-verify --save-certs would), and certificates the
 * user pins, each checked first. And how the tool describes a certificate. */
#ifndef SECMAIL_CERTIMPORT_H
#define SECMAIL_CERTIMPORT_H

#include <stddef.h>

#include <openssl/x509.h>

#include "certstore.h"
#include "cms.h"
#include "err.h"

struct certimport_opts {
	struct cms_verify_opts cms;	/* trust anchors, revocation, clock */
	struct certstore *store;	/* where entries go; its entries also count as pinned
					 * when a signed message is verified */
	const char *authserv_id;	/* for the verification of messages (not written out) */
	const char *fingerprint;	/* pin: only the certificate with this SHA-256 (hex, colons
					 * optional); NULL: every end-entity certificate */
};

/* What happened to one address: "imported", "pinned", "unchanged" (the store already has this
 * certificate), "kept" (the store has a newer signature, or a newer certificate to encrypt
 * to: certstore_import). */
typedef void certimport_report_fn(void *ctx, const char *what, const char *addr, X509 *cert);

/*
 * Import the file at path ("-": standard input): certificates, certs-only structures or
 * messages, or a signed message. Each end-entity certificate (not a CA) that names an e-mail
 * address must pass cms_cert_verify; a signed message must get smime=pass (From matched, chain
 * to a trust anchor or a pinned certificate). 0 when everything was stored (report called per
 * address), -1 with e set: EX_DATAERR when something was refused (what passed is stored and
 * reported all the same), EX_NOINPUT for a file that cannot be read, others as the store.
 */
int certimport_file(const char *path, const struct certimport_opts *o, certimport_report_fn *rep,
    void *ctx, struct err *e);

/* Pin the certificates in the file at path (PEM or DER): each end-entity certificate that
 * names an address, is valid now and may be used for e-mail is stored as trusted as it is,
 * whatever its issuer. With o->fingerprint only that certificate (none matching: EX_DATAERR).
 * 0, or -1 with e set. */
int certimport_pin(const char *path, const struct certimport_opts *o, certimport_report_fn *rep,
    void *ctx, struct err *e);

/* SHA-256 fingerprint "AB:CD:..." (96 bytes with the NUL). */
void certimport_fingerprint(X509 *x, char out[96]);
/* "rsa2048", "ec-prime256v1", "ed25519", ... */
void certimport_keytype(X509 *x, char *out, size_t n);
/* A name as RFC 2253 text, control and non-ASCII octets escaped (safe for terminals and
 * tab-separated output). */
void certimport_name(const X509_NAME *nm, char *out, size_t n);

#endif
