/* ar.h — the header fields that carry our verdicts: Authentication-Results (RFC 8601, with
 * the smime method of RFC 7281) and secmail's own Secmail-Decryption record, which
 * smime-decrypt writes and smime-verify folds into its verdict. Both name the authentication
 * service (authserv-id); a field that claims ours but arrives from outside is forged and is
 * removed (RFC 8601 §5). */
#ifndef SECMAIL_AR_H
#define SECMAIL_AR_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "msg.h"

#define AR_FIELD "Authentication-Results"
#define AR_DECRYPT_FIELD "Secmail-Decryption"

/* The authserv-id used when none is configured: the host name ("localhost" if unknown).
 * Returns buf. */
const char *ar_default_authserv(char *buf, size_t n);

/* The authserv-id a field value begins with (RFC 8601 §2.2: [CFWS] value, value being an
 * RFC 2045 token or quoted-string, comments nested and quoted-pairs honoured), unquoted,
 * into out (NUL-terminated, truncated to n - 1). 0, or -1 when there is none. */
int ar_authserv(const char *value, char *out, size_t n);

/* Does the field value claim this authserv-id (compared without case, as a host name)? */
int ar_claims(const char *value, const char *authserv);

/* Remove every Authentication-Results and Secmail-Decryption field that claims authserv
 * (whatever else it says). Returns how many were removed. */
size_t ar_strip(struct msg_header *h, const char *authserv);

/* Append s as an RFC 2045 quoted-string; control characters become spaces. */
void ar_add_quoted(struct buf *b, const char *s);

/*
 * The Secmail-Decryption record: what smime-decrypt did with the message.
 *
 *   Secmail-Decryption: mx.example.org; decrypted cipher=aes-256-gcm integrity=aead
 *   Secmail-Decryption: mx.example.org; decrypted cipher=aes-256-cbc integrity=none
 *       (CBC: the content can be altered undetected unless it is signed inside)
 *   Secmail-Decryption: mx.example.org; failed reason="..."
 *
 * A message that was not encrypted gets none. smime-verify takes a record into its verdict
 * only when told that its input comes from smime-decrypt (--after-decrypt); otherwise, and
 * in smime-decrypt's own input, a record claiming our authserv-id is forged and removed.
 */
enum ar_dec_result {
	AR_DEC_DECRYPTED,
	AR_DEC_FAILED,		/* encrypted, but left as it came: reason says why */
};

struct ar_decrypt {
	enum ar_dec_result result;
	char cipher[32];	/* decrypted: the content-encryption algorithm, "aes-256-gcm" */
	int aead;		/* decrypted: authenticated encryption (RFC 5083) */
	char reason[400];	/* failed: why (one line) */
};

/* The field value (without the name) for authserv; malloc'd, or NULL with e set. */
char *ar_decrypt_value(const char *authserv, const struct ar_decrypt *d, struct err *e);
/* Parse a field value written by ar_decrypt_value (the authserv-id is not checked here:
 * see ar_claims). 0, or -1 when it is not a well-formed record. */
int ar_decrypt_parse(const char *value, struct ar_decrypt *d);

#endif
