/* keys.h — loading an S/MIME identity (certificate, private key, chain) from PEM files or a
 * PKCS#12 bundle, with the passphrase from secret.h (never argv); certificate files; the
 * e-mail addresses a certificate names. Key material is wiped when freed. */
#ifndef SECMAIL_KEYS_H
#define SECMAIL_KEYS_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "conf.h"
#include "err.h"

#define KEYS_MAX_FILE (4 * 1024 * 1024)	/* a key, certificate or PKCS#12 file */

/* Where the identity comes from (command-line options and configuration). Every member
 * may be NULL. pass_fd is the descriptor number as text, as given to --pass-fd. */
struct keys_opts {
	const char *cert;	/* --cert: PEM (or DER) certificate; further certificates in
				 * the file are taken as chain */
	const char *key;	/* --key: PEM private key (PKCS#8, encrypted or not, or
				 * traditional); may also hold the certificate */
	const char *p12;	/* --p12: PKCS#12 with key, certificate and chain */
	const char *chain;	/* --chain: intermediate certificates (PEM) */
	const char *pass_file;	/* --pass-file */
	const char *pass_fd;	/* --pass-fd */
	const char *pass_env;	/* --pass-env: the NAME of the variable */
};

struct keys_identity {
	EVP_PKEY *pkey;		/* NULL only if no key was asked for */
	X509 *cert;		/* NULL when only --key was given and the key file holds none */
	STACK_OF(X509) *chain;	/* extra certificates, never NULL after a successful load */
};

void keys_opts_init(struct keys_opts *o);

/*
 * Load the identity o describes: --p12, or --key (+ --cert), plus --chain. Errors, each
 * its own message: no key given (EX_USAGE), a file that cannot be read (EX_NOINPUT), an
 * encrypted key or PKCS#12 with no passphrase source (EX_USAGE: "needs a passphrase"), a
 * wrong passphrase (EX_DATAERR), a file that is not a key/certificate (EX_DATAERR), a key that
 * does not match the certificate (EX_DATAERR). The passphrase is read once and wiped.
 * A PKCS#12 file protected with an algorithm only OpenSSL's legacy provider has (RC2-40,
 * as gpgsm and Windows export) is read with that provider loaded for the parse alone;
 * EX_UNAVAILABLE, saying what to do, when it cannot be loaded.
 * Issue 15: a certificate or key of an algorithm this OpenSSL does not know (ML-DSA, SLH-DSA,
 * ML-KEM on OpenSSL 3.0-3.4) is EX_UNAVAILABLE naming the algorithm, not "not a key".
 */
/*
 * Fill what the command line left unset, built-in < configuration file < environment
 * (the S/MIME tools share this): with KEYS_DEF_IDENTITY the certificate, key and PKCS#12 file
 * (SECMAIL_CERT, SECMAIL_KEY, SECMAIL_P12 as a group, else cert, key, p12); with
 * KEYS_DEF_CHAIN the chain (SECMAIL_CHAIN, else chain); with KEYS_DEF_PASS, when no
 * passphrase source was given, SECMAIL_PASS_FILE, else pass_file, else pass_env.
 */
enum { KEYS_DEF_IDENTITY = 1, KEYS_DEF_CHAIN = 2, KEYS_DEF_PASS = 4 };
void keys_opts_defaults(struct keys_opts *o, const struct conf *cf, int what);

int keys_load_identity(const struct keys_opts *o, struct keys_identity *id, struct err *e);
void keys_identity_free(struct keys_identity *id);

/* Every certificate in a file (PEM, any number; or one DER). At least one, else EX_DATAERR.
 * *out is a new stack the caller frees with sk_X509_pop_free(..., X509_free). */
int keys_load_certs(const char *path, STACK_OF(X509) **out, struct err *e);

/* 0 if pkey is the private key for cert's public key, else -1 (EX_DATAERR). */
int keys_check_pair(X509 *cert, EVP_PKEY *pkey, struct err *e);

/*
 * The e-mail addresses a certificate names (RFC 8550 §3): every subjectAltName rfc822Name,
 * and the emailAddress attributes of the subject when there are none. Returns a
 * NULL-terminated malloc'd array of malloc'd strings (keys_addrs_free), or NULL with e set.
 * Names with control characters or without an "@" are skipped.
 */
char **keys_cert_addrs(X509 *cert, struct err *e);
void keys_addrs_free(char **v);

/* Issue 13: is x valid at now? 0, or -1 with e set (EX_DATAERR: "certificate expired on
 * ... (it was valid from ... to ...)", "certificate is not valid before ...") naming the
 * dates. With warn_days > 0 and less than that many days left, warn (n bytes) says
 * "certificate expires on ..., in N days"; else it is "". */
int keys_check_validity(X509 *x, time_t now, int warn_days, char *warn, size_t n,
    struct err *e);
/* x's notBefore and notAfter as time_t: 0, or -1 when they cannot be read. */
int keys_cert_dates(X509 *x, time_t *not_before, time_t *not_after);
/* "2026-11-30 09:55:11 UTC" */
void keys_fmt_time(time_t t, char *buf, size_t n);

/*
 * Issue 15: can the OpenSSL in use, as configured now (its providers: a FIPS configuration or
 * another openssl.cnf may lack what the build offered), use algorithm alg ("ML-DSA-65",
 * "ML-KEM-768", "ED25519") for kind? 0, or -1 with e set (EX_UNAVAILABLE) naming it.
 */
enum { KEYS_ALG_SIGNATURE, KEYS_ALG_KEM };
int keys_alg_available(const char *alg, int kind, struct err *e);

/* Issue 15: the name of a post-quantum algorithm by its dotted OID ("ML-DSA-65"), for
 * messages where this OpenSSL does not know it; NULL for others. */
const char *keys_alg_by_oid(const char *oid);

/* Issue 15: is pk a post-quantum key (ML-DSA, SLH-DSA, ML-KEM)? */
int keys_is_pq(EVP_PKEY *pk);

/* "Read a whole small file into wiped-on-free memory": *len set; NULL with e set. The buffer
 * has a NUL after the data. Free with keys_file_free. */
unsigned char *keys_read_file(const char *path, size_t max, size_t *len, struct err *e);
void keys_file_free(unsigned char *p, size_t len);

#endif
