/* sasl.h — the client side of the SASL mechanisms mailsend speaks (RFC 4422), as message
 * computations only: SCRAM-SHA-256 and SCRAM-SHA-256-PLUS with tls-exporter channel binding
 * (RFC 5802, RFC 7677, RFC 9266), XOAUTH2 and OAUTHBEARER (RFC 7628). Carrying the messages
 * (SMTP AUTH, RFC 4954) is smtp.c's job. */
#ifndef SECMAIL_SASL_H
#define SECMAIL_SASL_H

#include <stddef.h>

#include "err.h"

#define SASL_SCRAM_MIN_ITER	4096	/* RFC 7677 §4 */
#define SASL_SCRAM_MAX_ITER	1000000	/* a server must not make us spin for long */
#define SASL_CBIND_LEN		32	/* RFC 9266 §2: tls-exporter, 32 octets */

struct sasl_scram {
	const char *mech;		/* "SCRAM-SHA-256" or "SCRAM-SHA-256-PLUS", for messages */
	char gs2[32];			/* GS2 header: "n,,", "y,," or "p=tls-exporter,," */
	char first_bare[700];		/* client-first-message-bare */
	char nonce[100];
	unsigned char cbind[SASL_CBIND_LEN];
	int plus;
	unsigned char server_sig[32];	/* expected in the server-final-message */
};

/*
 * The client-first-message into out (NUL-terminated). user is escaped as RFC 5802 §5.1
 * saslname; nonce NULL means 24 random octets in base64 (a fixed one is for test vectors).
 * cbind (SASL_CBIND_LEN octets of tls-exporter, RFC 9266) selects SCRAM-SHA-256-PLUS; without
 * it, server_plus says whether the server offered PLUS: the GS2 flag is then "n" (we cannot
 * bind this connection, RFC 5802 §6) rather than "y", which would tell a server offering
 * PLUS that it had been downgraded.
 */
int sasl_scram_first(struct sasl_scram *x, const char *user, const char *nonce,
    const unsigned char *cbind, int server_plus, char *out, size_t cap, struct err *e);
/* The client-final-message for the server-first-message, with the password (used as is:
 * SASLprep, RFC 4013, is not applied, which is exact for ASCII passwords). Checks that the
 * server nonce extends ours and bounds the iteration count. Remembers the server signature
 * to expect. */
int sasl_scram_final(struct sasl_scram *x, const char *server_first, const char *pass,
    char *out, size_t cap, struct err *e);
/* RFC 5802 §3: the server-final-message must carry v= with the signature we computed; an
 * e= attribute is the server's error. EX_PROTOCOL otherwise. */
int sasl_scram_verify(const struct sasl_scram *x, const char *server_final, struct err *e);
/* Wipe what the exchange computed. */
void sasl_scram_clear(struct sasl_scram *x);

/* XOAUTH2 initial response (Google's and Microsoft's): "user=U" ^A "auth=Bearer T" ^A ^A.
 * Malloc'd (wipe it), length in *len. A token outside RFC 6750's b64token characters or a
 * user with control characters is EX_CONFIG. */
char *sasl_xoauth2(const char *user, const char *token, size_t *len, struct err *e);
/* OAUTHBEARER initial response (RFC 7628 §3.1): "n,a=U," ^A "host=H" ^A "port=P" ^A
 * "auth=Bearer T" ^A ^A. Same rules as sasl_xoauth2. */
char *sasl_oauthbearer(const char *user, const char *host, const char *port, const char *token,
    size_t *len, struct err *e);

#endif
