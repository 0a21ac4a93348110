/* recips.h — who an encrypted message is for: the To and Cc addresses (and -R ones) looked
 * up in the certificate store, certificates given as files (each covering the addresses it
 * names), the sender's own certificate, Bcc recipients kept apart; checked for usability,
 * de-duplicated, and the content-encryption algorithm chosen for all of them (RFC 8551
 * §2.7). Also the list exploder's inputs for --rewrap. */
#ifndef SECMAIL_RECIPS_H
#define SECMAIL_RECIPS_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "envelope.h"
#include "err.h"
#include "keys.h"
#include "msg.h"
#include "revoke.h"

struct recips_strlist {
	char **v;
	size_t n, cap;
};

struct recips_opts {
	struct recips_strlist files;	/* -r */
	struct recips_strlist addrs;	/* -R */
	const char *cert_dir;		/* --cert-dir, else SECMAIL_CERT_DIR / config / default */
	const char *self;		/* --self, else SECMAIL_SELF_CERT / config */
	int no_self;
	int only_named;			/* --recipients-only: -r and -R alone, never To/Cc/Bcc */
	int self_implicit;		/* self came from SECMAIL_CERT: skipped (self_missing)
					 * rather than an error when it cannot encrypt */
	const char *members;		/* --members FILE (addresses, one per line) */
	struct keys_opts keys;		/* --rewrap: the list's certificate and key */
	/* Issue 13: every certificate is checked at `now` (0: time(NULL)); with revoke, one
	 * known to be revoked is refused (and in strict mode one whose status is unknown). Its
	 * issuer is looked for among the certificates that came with it (the store entry's
	 * chain, the rest of its file) and in issuers (may be NULL). */
	time_t now;
	struct revoke *revoke;
	STACK_OF(X509) *issuers;
};

void recips_opts_init(struct recips_opts *o);
int recips_opts_add(struct recips_strlist *l, const char *s);
void recips_opts_free(struct recips_opts *o);

struct recips_bcc {
	char *addr;
	STACK_OF(X509) *certs;	/* with want_bcc: every certificate the copy is for (a -r
				 * renewal, the store's hybrid pair); NULL otherwise */
};

struct recips {
	STACK_OF(X509) *certs;	/* everyone in the shared envelope, self included, no dups */
	X509 *self;		/* the sender's certificate, or NULL */
	int self_missing;	/* none configured and not --no-self: the caller says so once */
	struct recips_bcc *bcc;
	size_t nbcc;
	char *bcc_list;		/* "a@x, b@y" for messages */
	enum env_cipher cipher;	/* RFC 8551 §2.7 choice for certs */
	EVP_PKEY *list_key;	/* --rewrap */
	X509 *list_cert;
	struct keys_identity list_id;
};

/*
 * Resolve the recipients of message h: To, Cc and Bcc, or for a re-sent message (any
 * Resent- field, RFC 5322 §3.6.6) Resent-To, Resent-Cc and Resent-Bcc. Every failing address is collected; if any, the
 * error (EX_DATAERR) lists each with its reason ("a@x: no certificate in the store; b@y:
 * certificate has expired (since 2026-01-01 00:00:00 UTC, 12 days ago); c@z: certificate was
 * revoked on ..."). Bcc addresses are listed in r->bcc; with want_bcc their
 * certificates are resolved too (and must be usable).
 */
int recips_resolve(const struct recips_opts *o, const struct msg_header *h, int want_bcc,
    struct recips *r, struct err *e);

/* --rewrap: the list's key and certificate, and the members (-r, -R, --members). */
int recips_rewrap(const struct recips_opts *o, const struct msg_header *h, struct recips *r,
    struct err *e);

void recips_free(struct recips *r);

/* The certificate store directory: `given` if not NULL, else $SECMAIL_CERT_DIR, else
 * $XDG_DATA_HOME/secmail/certs or ~/.local/share/secmail/certs; NULL if none can be named. */
const char *recips_cert_dir(const char *given, char *buf, size_t n);

#endif
