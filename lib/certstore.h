/* certstore.h — the certificate store: what smime-verify --save-certs learns from verified
 * signatures and smime-encrypt reads to find recipients' certificates and algorithms.
 *
 * Format (version 1). The store is a directory (created mode 0700, with any missing parents, on
 * the first save; one owned by someone else or writable by group or others is refused). Each
 * address has one file, named by the address lower-cased, with every byte outside
 * [a-z0-9@._+-] and a leading "." written as %XX (upper-case hex); a file ".lock" serialises
 * writers (flock). Entry files are replaced atomically (io_atomic_*) and look like:
 *
 *	secmail-certstore: 1
 *	address: alice@example.org
 *	signing-time: 20261129042500Z
 *	capabilities: 2.16.840.1.101.3.4.1.46 2.16.840.1.101.3.4.1.6 ...
 *	encryption-certificate: signer
 *	received-cipher: 2.16.840.1.101.3.4.1.42
 *	origin: harvested
 *	stored: 20261130095500Z
 *
 *	-----BEGIN CERTIFICATE-----   the signer's certificate
 *	...
 *	-----BEGIN CERTIFICATE-----   the encryption certificate, only when "separate"
 *	...
 *	-----BEGIN CERTIFICATE-----   then the chain that came with the signature, if any
 *
 * - signing-time: the signingTime attribute of the signature the entry was learnt from,
 *   GeneralizedTime in UTC. An entry is only replaced by one with a later signing time
 *   (RFC 8551 §2.7.1), and only from signatures that verified (the caller's duty), unless the
 *   stored time lies in the future (certstore_put_at): a time no clock has reached yet
 *   cannot freeze an entry. An import of another certificate to encrypt to keeps the newer
 *   certificate instead (certstore_import, certstore_newer), whatever the order.
 * - capabilities: the SMIMECapabilities (RFC 8551 §2.5.2) as dotted OIDs, in the sender's
 *   order of preference; the line is absent when the signature announced none.
 * - encryption-certificate: "signer", or "separate" when SMIMEEncryptionKeyPreference
 *   (RFC 8551 §2.5.3) named another certificate carried in the message.
 * - received-cipher: the content-encryption algorithm of the last encrypted message from this
 *   address whose signature verified (smime-verify --after-decrypt; RFC 8551 §2.7.1.2: used
 *   for replies when the address announced no capabilities); absent when none was seen.
 * - origin (issue 13): how the entry got there: "harvested" (smime-verify --save-certs, from a
 *   signature that passed; also when the line is absent), "imported" (smime-certs import: a
 *   certificate that chained to a trust anchor, or a signed message that verified), "pinned"
 *   (smime-certs pin: trusted as it is, by the user's decision). A harvested signature by the
 *   same certificate keeps the origin.
 * - stored: when the entry was written (the writer's clock), GeneralizedTime in UTC.
 * Everything in an entry is authenticated: the signer's certificate and the encryption
 * certificate passed the verifier's policy, the chain is the one that verified them (never
 * the unsigned certificate set of a message as it came), or the user pinned it. Every entry's
 * signer certificate is trusted as pinned by smime-verify for its address.
 * Unknown field lines are ignored (later versions may add some).
 * The same format, for users, in secmail-certstore(5).
 */
#ifndef SECMAIL_CERTSTORE_H
#define SECMAIL_CERTSTORE_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "err.h"

#define CERTSTORE_MAX_CAPS 32
#define CERTSTORE_MAX_ENTRY (1024 * 1024)

struct certstore;	/* opaque: the directory */

struct certstore_entry {
	char *addr;		/* lower-cased address */
	X509 *cert;		/* the certificate to encrypt to: the separate encryption
				 * certificate when announced, else the signer's */
	X509 *signer;		/* the signer's certificate */
	STACK_OF(X509) *chain;	/* intermediates (may be empty, never NULL in a loaded entry) */
	int caps[CERTSTORE_MAX_CAPS];	/* SMIMECapabilities algorithm NIDs, preference order;
					 * OIDs OpenSSL does not know are NID_undef */
	int ncaps;		/* 0: nothing announced */
	int enc_separate;	/* cert != signer (SMIMEEncryptionKeyPreference) */
	time_t signing_time;
	int received_cipher;	/* NID of the last cipher seen in mail from addr, or NID_undef */
	int origin;		/* enum certstore_origin */
	time_t stored;		/* when it was written; 0 when the entry does not say */
};

enum certstore_origin { CERTSTORE_HARVESTED, CERTSTORE_IMPORTED, CERTSTORE_PINNED };
/* "harvested", "imported", "pinned" */
const char *certstore_origin_name(int origin);

/* Open the store at dir. A missing directory is not an error (lookups find nothing; a save
 * creates it); a path that exists but is not a directory, or a directory owned by someone
 * else or writable by group or others (io_dir_private), is (EX_CONFIG). */
int certstore_open(struct certstore **cs, const char *dir, struct err *e);

/* The store every tool uses when none is given: $XDG_DATA_HOME/secmail/certs, else
 * ~/.local/share/secmail/certs (written into buf, n bytes); NULL when neither variable names
 * an absolute directory. Tools look at --cert-dir, $SECMAIL_CERT_DIR and their configuration
 * first. */
const char *certstore_default_dir(char *buf, size_t n);
void certstore_close(struct certstore *cs);	/* NULL is fine */

/* The entry for addr. -1 with e->code EX_NOINPUT when there is none; EX_DATAERR when the
 * file is corrupt. On success ent is filled and must be freed with certstore_entry_free. */
int certstore_get(struct certstore *cs, const char *addr, struct certstore_entry *ent,
    struct err *e);

/* Save ent under ent->addr (lower-cased here) when it is newer than what is stored:
 * returns 1 if written, 0 if the stored entry has the same or a later signing time (and is
 * kept), -1 on error. ent->cert may equal ent->signer. */
int certstore_put(struct certstore *cs, const struct certstore_entry *ent, struct err *e);
/* The same, where a stored signing time later than `latest` (the caller's clock plus its
 * allowed skew) is not believed: any verified entry replaces it. certstore_put uses
 * time(NULL) plus CERTSTORE_SKEW. */
int certstore_put_at(struct certstore *cs, const struct certstore_entry *ent, time_t latest,
    struct err *e);
#define CERTSTORE_SKEW (15 * 60)	/* seconds a sender's clock may run ahead of ours */

/* Record that an encrypted message from addr used the cipher `nid` (RFC 8551 §2.7.1.2).
 * Only an address with an entry is noted: 1 if written, 0 if there is no entry or nothing
 * changed, -1 on error. The signing time and certificates are kept. */
int certstore_note_received(struct certstore *cs, const char *addr, int nid, struct err *e);

void certstore_entry_init(struct certstore_entry *ent);
void certstore_entry_free(struct certstore_entry *ent);

/* The file name an address is stored under (for tests and tools): a malloc'd string. */
char *certstore_filename(const char *addr, struct err *e);

/* Issue 13, for smime-certs. */

/* Save ent whatever is stored (a pin: the user's decision), keeping the received-cipher of an
 * entry it replaces. ent->stored is set here. 0 or -1. */
int certstore_replace(struct certstore *cs, const struct certstore_entry *ent, struct err *e);
/*
 * An import (smime-certs import). When the stored entry's certificate to encrypt to differs
 * from ent->cert, the newer of the two (certstore_newer at now) stays, whatever the stored
 * signing time; with the same certificate, ent replaces the entry when its signing time is
 * later, as certstore_put_at. So importing several certificates for an address, in one run
 * or over several, in any order, leaves the same one. 1 written, 0 kept, -1 on error.
 */
int certstore_import(struct certstore *cs, const struct certstore_entry *ent, time_t now,
    time_t latest, struct err *e);
/*
 * Is a the newer certificate to encrypt to than b, at now? One valid at now beats one that
 * is not (expired or not yet valid); then the later notBefore (a renewal is issued after
 * what it renews), then the later notAfter; equal dates: a fixed order of the encodings.
 * A certificate whose dates cannot be read loses.
 */
int certstore_newer(X509 *a, X509 *b, time_t now);
/* Remove addr's entry: 0; -1 with EX_NOINPUT when there is none. */
int certstore_remove(struct certstore *cs, const char *addr, struct err *e);
/* The addresses with an entry, sorted, as a NULL-terminated malloc'd array (free with
 * keys_addrs_free); a missing store has none. Files that are not entries are skipped. */
char **certstore_addresses(struct certstore *cs, struct err *e);
/* The directory. */
const char *certstore_dir(const struct certstore *cs);

#endif
