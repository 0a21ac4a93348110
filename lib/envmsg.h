/* envmsg.h — the message side of S/MIME envelopes, shared by smime-encrypt and smime-decrypt:
 * base64 bodies in and out of lib/envelope, line ends between the canonical CRLF inside an
 * envelope and the message's own convention, and the header rewrites (RFC 8551 §3.3). */
#ifndef SECMAIL_ENVMSG_H
#define SECMAIL_ENVMSG_H

#include <stddef.h>
#include <stdint.h>

#include "canon.h"
#include "cte.h"
#include "envelope.h"
#include "io.h"
#include "msg.h"

/* A sink that base64-encodes (lib/cte: 76 columns, CRLF or LF line ends) into an io_out. */
struct envmsg_b64out {
	struct io_out *o;
	struct sink out;
	struct cte_enc enc;
};
int envmsg_b64out_init(struct envmsg_b64out *x, struct io_out *o, int crlf, struct err *e);
struct sink envmsg_b64out_sink(struct envmsg_b64out *x);
int envmsg_b64out_final(struct envmsg_b64out *x, struct err *e);
void envmsg_b64out_free(struct envmsg_b64out *x);

/* A source that reads the rest of `in` (a body), base64-decoding it (lib/cte, strict) when
 * b64 is set. Bad base64 is an EX_DATAERR error naming the body offset. */
struct envmsg_bodysrc {
	struct io_in *in;
	int b64;
	struct cte_dec dec;
	unsigned char *raw;
	unsigned char *dbuf;	/* decoded bytes not yet handed out */
	size_t dpos, dlen;
	int ended;
	uint64_t limit;		/* body bytes left to read (UINT64_MAX: to end of input) */
};
int envmsg_bodysrc_init(struct envmsg_bodysrc *x, struct io_in *in, int b64, struct err *e);
struct env_src envmsg_bodysrc_src(struct envmsg_bodysrc *x);
void envmsg_bodysrc_free(struct envmsg_bodysrc *x);

/* lib/canon as a sink in front of another: to canonical CRLF (RFC 8551 §3.1.1) or from
 * CRLF to LF (for LF mailboxes). */
struct envmsg_eol {
	const struct sink *next;
	struct canon c;
};
int envmsg_eol_init(struct envmsg_eol *x, const struct sink *next, int to_crlf, struct err *e);
struct sink envmsg_eol_sink(struct envmsg_eol *x);
int envmsg_eol_final(struct envmsg_eol *x, struct err *e);
void envmsg_eol_free(struct envmsg_eol *x);

/* Is this field part of the content entity (Content-*), which goes inside the envelope?
 * MIME-Version stays outside. */
int envmsg_is_inner(const char *name);

#endif
