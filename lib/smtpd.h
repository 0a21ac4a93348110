/* smtpd.h — the server side of an SMTP session on standard input and output, for
 * `sendmail -bs` (what PHP mailers and some frameworks speak to a local sendmail): EHLO/HELO,
 * MAIL, RCPT, DATA, RSET, NOOP, VRFY, QUIT (RFC 5321), each message handed to a callback
 * that submits it through the normal path and says what to answer. */
#ifndef SECMAIL_SMTPD_H
#define SECMAIL_SMTPD_H

#include <stddef.h>

#include "err.h"
#include "rcptset.h"

#define SMTPD_CMD_MAX	2048	/* a command line longer than this is refused (500) */

/* One message as the client gave it. */
struct smtpd_msg {
	char *from;		/* reverse-path without the brackets ("" for <>) */
	struct rcptset rcpt;	/* forward-paths without the brackets */
	char *notify;		/* RFC 3461: the first NOTIFY= seen, or NULL */
	char *ret, *envid;	/* RET=, ENVID= (xtext decoded), or NULL */
	int fd;			/* the data, dot-unstuffed, in a private spool, rewound */
};

/* Submit msg; write the reply line (without CRLF, e.g. "250 2.0.0 Ok: queued as X") to
 * reply. Returns 0; -1 only for errors that should end the session. */
typedef int (*smtpd_submit)(void *ctx, struct smtpd_msg *msg, char *reply, size_t cap,
    struct err *e);

/* Serve one session on in/out until QUIT or end of input. host names us in the greeting. */
int smtpd_session(int in, int out, const char *host, smtpd_submit submit, void *ctx,
    struct err *e);

#endif
