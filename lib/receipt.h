/* receipt.h — RFC 2634 §2 signed receipts: what the sender keeps when it asks for one, the
 * receipt a recipient returns for a validly signed message, and checking a receipt against
 * what was kept. The ReceiptRequest attribute itself is added by cms_sign (cms.h). */
#ifndef SECMAIL_RECEIPT_H
#define SECMAIL_RECEIPT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "cms.h"
#include "err.h"
#include "keys.h"
#include "msg.h"

#define RECEIPT_MAX_ID 128	/* signedContentIdentifier octets we accept */

/* $XDG_STATE_HOME/secmail/receipts (else ~/.local/state/secmail/receipts): where smime-sign
 * --receipt-request keeps what a receipt is checked against. NULL when neither is set. */
const char *receipt_default_dir(char *buf, size_t n);

/*
 * Keep, for the receipt that identifier id will come back with, the signature (sigder: the
 * SignedData without content, whose signer info the receipt's msgSigDigest covers, RFC 2634
 * §2.8) and what identifies the message for people (h's Message-ID, Date, To, Cc, Subject;
 * sent: when). Written atomically as DIR/<hex id>.req (a header and the base64 DER), DIR
 * created private (0700) when missing.
 */
int receipt_store(const char *dir, const unsigned char *id, size_t idlen,
    const struct buf *sigder, const struct msg_header *h, time_t sent, struct err *e);

/*
 * The recipient's side: a signed receipt (RFC 2634 §2.4, a SignedData over id-ct-receipt)
 * for the signature sig (the DER of a SignedData whose signature the caller has verified:
 * receipts are only for validly signed messages), signed by id. RFC 2634 §2.3 decides
 * whether one is due: a request must be there, the signed content must not itself be a
 * receipt, a receiptList must name one of id's addresses, firstTierRecipients excludes a
 * copy that came through a mailing list (mlExpansionHistory). sender: the addresses of the
 * original's (verified) signer certificate; receiptsTo addresses that none of them names
 * are dropped (issue 14 review: no receipts to third parties a stranger picks), or NULL to
 * keep every one. 0 with the receipt DER in der and *to (NULL-terminated, keys_addrs_free)
 * the receiptsTo addresses kept; 1 when none is due (why says so); -1 on errors. On 0 and 1
 * *dropped is NULL or the addresses dropped (keys_addrs_free), for a warning; none of them
 * is in *to.
 */
int receipt_make(const unsigned char *sig, size_t siglen, const struct keys_identity *id,
    char *const *sender, struct buf *der, char ***to, char ***dropped, char *why, size_t n,
    struct err *e);

/* The signedContentIdentifier of a receipt (rder: a SignedData over id-ct-receipt,
 * RFC 2634 §2.7 Receipt), up to RECEIPT_MAX_ID octets, into id: the name under which
 * receipt_store kept what it is checked against. 0, or -1 when rder is not such a receipt
 * (nothing is verified here). */
int receipt_identifier(const unsigned char *rder, size_t len, unsigned char *id, size_t *idlen);

/* What checking a receipt found. */
struct receipt_result {
	enum cms_verdict verdict;	/* pass: the receipt proves delivery of the message */
	char reason[400];
	char signer[256];	/* the receipt signer's first address, or "" */
	time_t signing_time;	/* when the receipt was signed (0: not said) */
	struct msg_header kept;	/* what receipt_store kept about the message (Message-ID,
				 * Date, To, Subject, ...); empty when nothing was found */
	time_t sent;		/* when it was signed and sent (kept), 0 when unknown */
};

void receipt_result_free(struct receipt_result *r);

/*
 * The sender's side: check the receipt rder (a SignedData over id-ct-receipt) against what
 * receipt_store kept in dir: the receipt's signature and chain (trust as cms_verify_opts
 * says), its signedContentIdentifier naming a kept message, and its msgSigDigest matching
 * that message's signature (RFC 2634 §2.8; OpenSSL's CMS_verify_receipt). 0 with the verdict
 * in r (fail for a msgSigDigest that does not match), -1 on errors that are not about the
 * receipt (I/O, memory, trust anchors).
 */
int receipt_verify(const unsigned char *rder, size_t len, const char *dir,
    const struct cms_verify_opts *o, struct receipt_result *r, struct err *e);

#endif
