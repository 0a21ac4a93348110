/* smtp.h — an SMTP submission client (RFC 5321, RFC 6409) over plain TCP, STARTTLS
 * (RFC 3207) or implicit TLS (RFC 8314), with TLS client certificates, AUTH (RFC 4954)
 * SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 7677, RFC 9266), PLAIN, LOGIN, EXTERNAL, XOAUTH2
 * and OAUTHBEARER (RFC 7628), PIPELINING
 * (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531) and DSN (RFC 3461). */
#ifndef SECMAIL_SMTP_H
#define SECMAIL_SMTP_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "secret.h"

enum smtp_tls {
	SMTP_TLS_STARTTLS,	/* plain connection, then STARTTLS (required) */
	SMTP_TLS_IMPLICIT,	/* TLS from the first byte (port 465) */
	SMTP_TLS_NONE		/* never TLS */
};

struct smtp_opts {
	const char *host;
	const char *port;		/* NULL: 587, or 465 for implicit TLS */
	enum smtp_tls tls;
	const char *trust_file;		/* PEM CA certificates instead of the system store */
	const char *fingerprint;	/* SHA-256 of the server certificate (hex, colons
					 * optional): pin it instead of CA and name checks */
	const char *cert_file;		/* PEM client certificate (chain) to present, or NULL */
	const char *key_file;		/* its private key (NULL: in cert_file) */
	const char *helo;		/* name for EHLO/HELO; NULL: the host name */
	const char *user;		/* AUTH when set */
	const struct secret *pass;	/* the password, or the OAuth access token */
	const char *auth;		/* a mechanism (smtp_auth_known), or NULL: the best
					 * offered (SCRAM-SHA-256-PLUS if the connection can
					 * be bound, SCRAM-SHA-256, PLAIN, LOGIN), or EXTERNAL
					 * with a client certificate and no user */
	int auth_in_clear;		/* allow AUTH without TLS */
	int timeout;			/* seconds for every step; 0: RFC 5321 §4.5.3.2 */
};

/* Server extensions seen in the EHLO reply (RFC 5321 §4.1.1.1). */
#define SMTP_EXT_PIPELINING	0x01
#define SMTP_EXT_SIZE		0x02
#define SMTP_EXT_8BITMIME	0x04
#define SMTP_EXT_SMTPUTF8	0x08
#define SMTP_EXT_DSN		0x10
#define SMTP_EXT_STARTTLS	0x20
#define SMTP_EXT_AUTH_PLAIN	0x40
#define SMTP_EXT_AUTH_LOGIN	0x80
#define SMTP_EXT_ENHANCED	0x100
#define SMTP_EXT_AUTH_SCRAM	0x200	/* SCRAM-SHA-256 */
#define SMTP_EXT_AUTH_SCRAM_PLUS 0x400	/* SCRAM-SHA-256-PLUS (RFC 7677, RFC 9266) */
#define SMTP_EXT_AUTH_EXTERNAL	0x800	/* RFC 4422 appendix A */
#define SMTP_EXT_AUTH_XOAUTH2	0x1000
#define SMTP_EXT_AUTH_OAUTHBEARER 0x2000	/* RFC 7628 */

#define SMTP_REPLY_MAX	 1000	/* octets kept of a reply's text */
#define SMTP_LINE_MAX	 4096	/* a reply line longer than this is a protocol error */

struct smtp {
	int fd;
	void *ssl_ctx;		/* SSL_CTX * */
	void *ssl;		/* SSL *, when TLS is up */
	int broken;		/* the connection cannot be used any more */
	int ext;		/* SMTP_EXT_* */
	unsigned long long maxsize;	/* SIZE value, 0 if none given */
	int timeout;
	char host[256];
	char fpr[96 + 1];	/* server certificate SHA-256, hex with colons, or "" */
	char tls_version[32];
	/* last reply */
	int code;
	char reply[SMTP_REPLY_MAX];	/* "250 2.0.0 text" of the last line */
	unsigned char rbuf[8192];
	size_t rpos, rlen;
	unsigned char wbuf[65536];
	size_t wlen;
};

/* What the message to send looks like (smtp_scan). */
struct smtp_scan {
	unsigned long long size;	/* octets on the wire with CRLF line ends */
	int eightbit;			/* any octet over 127 */
};

/* Scan a message from fd's current offset to the end, then seek back. A line over 998
 * octets (RFC 5321 §4.5.3.1.6) or a NUL octet is an EX_DATAERR error. */
int smtp_scan(int fd, struct smtp_scan *sc, struct err *e);

struct smtp_rcpt {
	const char *addr;
	int code;		/* reply code to RCPT TO (0: not tried) */
	char reply[256];
};

struct smtp_env {
	const char *from;		/* "" for a bounce (MAIL FROM:<>) */
	struct smtp_rcpt *rcpt;
	size_t nrcpt;
	const char *notify;		/* DSN NOTIFY value (RFC 3461 §4.1) or NULL */
	const char *ret;		/* "FULL" or "HDRS" or NULL */
	const char *envid;		/* ENVID or NULL */
};

struct smtp_result {
	size_t accepted;		/* recipients that have the message (0 when it failed) */
	unsigned long long size;	/* octets sent in DATA */
	char reply[SMTP_REPLY_MAX];	/* the server's reply to the end of data */
	char sha256[65];		/* of the message as sent (CRLF, before dot-stuffing) */
	int dsn_ignored;		/* DSN asked for but the server lacks it */
};

/* Connect, read the greeting, EHLO (HELO fallback), TLS, AUTH. On failure the code is
 * EX_TEMPFAIL for what may pass (refused connection, timeout, 4xx, network errors),
 * EX_PROTOCOL for TLS policy refusals (no STARTTLS, bad certificate) and garbled replies,
 * EX_NOPERM for refused authentication, EX_UNAVAILABLE for 5xx, EX_NOHOST for unknown
 * hosts. */
int smtp_open(struct smtp *s, const struct smtp_opts *o, struct err *e);

/*
 * One transaction: MAIL, RCPT for each recipient (pipelined when offered), DATA, then the
 * message from fd's current offset to its end (LF or CRLF line ends; sent with CRLF and
 * dot-stuffed, RFC 5321 §4.5.2). Every recipient's reply is recorded in env->rcpt. Returns 0
 * when the server accepted the message for at least one recipient; -1 otherwise, with the
 * reason. A failed transaction is reset (RSET) so the connection can carry the next one.
 */
int smtp_send(struct smtp *s, const struct smtp_env *env, int fd, const struct smtp_scan *sc,
    struct smtp_result *r, struct err *e);

/*
 * smtp_send, and then, while the server's limit on recipients per message answered some
 * with 452 and the last transaction delivered to others, one more transaction for those
 * on the same connection (RFC 5321 §4.5.3.1.10), until none is left or one brings no
 * progress (those keep their 4xx: deferred). A further transaction that fails leaves each
 * of its recipients deferred (451) or refused, never accepted, whatever RCPT answered. r is
 * the first transaction's, with accepted counting them all.
 */
int smtp_send_all(struct smtp *s, const struct smtp_env *env, int fd, const struct smtp_scan *sc,
    struct smtp_result *r, struct err *e);

/* As smtp_open over an already connected socket fd (taken over: smtp_close closes it);
 * o->host names the server for TLS and messages. For inetd-style use, tests and fuzzing. */
int smtp_open_fd(struct smtp *s, int fd, const struct smtp_opts *o, struct err *e);

/* Proof of submission (--receipt): the time (`now`), server, TLS version and certificate
 * fingerprint, envelope sender, each recipient's reply, size, SHA-256 of what was sent and the
 * final reply, written atomically to path. */
int smtp_write_receipt(const char *path, const struct smtp *s, const char *srv, const char *from,
    const struct smtp_rcpt *r, size_t n, const struct smtp_result *res, long long now,
    struct err *e);

/* QUIT (if the connection still works) and release everything. */
void smtp_close(struct smtp *s);

/* Is name an AUTH mechanism this client knows (any case)? */
int smtp_auth_known(const char *name);

/* Map a reply code to sysexits: 2xx/3xx 0, 4xx EX_TEMPFAIL, 5xx EX_UNAVAILABLE. */
int smtp_code_exit(int code);

#endif
