/* smime.h — S/MIME at the message level (RFC 8551 §3): splitting the outer header fields
 * from the content entity, making the entity 7-bit safe and canonical, writing
 * multipart/signed (RFC 1847) or application/pkcs7-mime, and reading them back to verify,
 * with an Authentication-Results field (RFC 8601, RFC 7281). */
#ifndef SECMAIL_SMIME_H
#define SECMAIL_SMIME_H

#include "certstore.h"
#include "cms.h"
#include "err.h"
#include "hp.h"
#include "io.h"
#include "keys.h"
#include "msg.h"

#define SMIME_MAX_SIG (8 * 1024 * 1024)	/* decoded detached signature (certificates included) */

struct smime_sign_opts {
	struct cms_sign_opts cms;
	int certs_only;		/* write a certs-only message instead of signing */
	int no_from_check;	/* do not require the certificate to name the From address */
	/* RFC 9788 header protection: the protectable header fields are copied into the
	 * signed entity, whose Content-Type gets hp=clear (HP_CIPHER: hp=cipher and HP-Outer,
	 * for a message smime-encrypt encrypts next); Date and Message-ID are added first
	 * when missing (hp_complete). HP_NONE: only the content entity is signed. */
	enum hp_mode hp;
	/* RFC 2634 §2.7: ask for a signed receipt, sent to receipt_to (comma-separated
	 * addresses; NULL: the From address); what is needed to check it is kept in
	 * receipt_dir (smime_receipt_dir). */
	int receipt;
	const char *receipt_to;
	const char *receipt_dir;
};

/*
 * Sign the message on in (header not yet read) and write the result to o. The outer header
 * fields are written byte-exact; the content entity (Content-* fields and body; text/plain;
 * charset=us-ascii when there is no Content-Type) is re-encoded where it is not 7-bit safe
 * (8bit/binary parts, lines over 998 octets: quoted-printable for text, base64 otherwise)
 * and signed in canonical CRLF form (RFC 8551 §3.1). The output keeps the input's line ends.
 * Memory is bounded: a base64/quoted-printable single part streams through; otherwise the
 * body is read twice, in place from a regular file or from a spool.
 */
int smime_sign(struct io_in *in, struct io_out *o, const struct keys_identity *id,
    const struct smime_sign_opts *so, struct err *e);

/* Does any address of cert equal (RFC 8550 §3) a From address of h? 0 yes, -1 no (e set:
 * EX_DATAERR naming both). */
int smime_from_check(const struct msg_header *h, X509 *cert, struct err *e);

struct smime_verify_opts {
	struct cms_verify_opts cms;	/* pinned is filled from the store here */
	int keep;			/* pass the signed message through untouched */
	int strict;			/* write nothing unless the verdict is pass */
	int after_decrypt;		/* the input comes straight from smime-decrypt: its
					 * Secmail-Decryption record is kept and folded into
					 * the verdict (without it such a record is forged) */
	int accept_sender;		/* a signer named only by Sender passes */
	const char *authserv_id;	/* RFC 8601 §2.5; NULL: the host name */
	struct certstore *store;	/* certificates stored for the author's addresses are
					 * pinned (trusted as they are); NULL: none */
	struct certstore *save;		/* --save-certs: what a passing signature announced
					 * is stored here before the header is written (and,
					 * with after_decrypt, the cipher it came in); NULL */
	struct buf *sig_der;		/* smime-receipt: the SignedData DER of a signature
					 * that was checked goes here (a receipt answers its
					 * signer info); NULL */
};

/* --save-certs: store what a passing signature announced (RFC 8551 §2.7.1) under every
 * address the signer's certificate names: the signer's certificate, the encryption
 * certificate only when cms_verify accepted it and it names that address, and the chain that
 * verified (nothing from the message's unsigned certificate set). A stored signing time
 * later than latest does not block the update. Returns how many entries were written, or
 * -1. */
int smime_save_certs(struct certstore *cs, const struct cms_result *r, time_t latest,
    struct err *e);

/*
 * Verify the message on in and write it to o: an Authentication-Results field first (every
 * Authentication-Results and Secmail-Decryption field claiming our authserv-id removed,
 * RFC 8601 §5, ar_strip; with after_decrypt the decryption record kept), the outer header
 * fields, and the verified content entity in place of the signature wrapper - only its
 * Content-* fields join the header - or, for any other verdict, a signature that covers only
 * a part, and with keep, the message as it came. Every input but an empty one is written
 * back: a message that is not signed gets smime=none, garbage gets permerror (a malformed
 * header ends before its first bad line, and a blank line is put there: msg.h lenient
 * reading), over-long values we write are shortened. The verdict is policy_apply's.
 * Returns 0 when the message was written (any verdict; r says which), 1 when strict withheld
 * it, -1 on errors (nothing or a partial output: the caller must exit non-zero; r is left
 * empty): EX_NOINPUT for an empty input, otherwise transient ones (I/O, memory, spool, trust
 * anchors that cannot be read). On 0 and 1, free r with cms_result_free.
 */
int smime_verify(struct io_in *in, struct io_out *o, const struct smime_verify_opts *vo,
    struct cms_result *r, struct err *e);

#endif
