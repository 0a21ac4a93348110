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
#include "mime.h"
#include "msg.h"
#include "param.h"

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
	int tee;		/* every raw byte read is also written here (-1: none), so
				 * a message that cannot be decrypted goes out as it came */
};
int envmsg_bodysrc_init(struct envmsg_bodysrc *x, struct io_in *in, int b64, struct err *e);
struct ber_src envmsg_bodysrc_src(struct envmsg_bodysrc *x);
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

/* Copy the rest of in (or all of fd, from its start) to s. */
int envmsg_copy_in(struct io_in *in, const struct sink *s, struct err *e);
int envmsg_copy_fd(int fd, const struct sink *s, struct err *e);

/* The content entity in canonical form (RFC 8551 §3.1.1): h's Content-* fields, an explicit
 * "Content-Type: text/plain; charset=us-ascii" when there is none (RFC 2045 §5.2), the blank
 * line and the rest of in, all with CRLF line ends. */
int envmsg_write_entity(const struct msg_header *h, struct io_in *in, const struct sink *s,
    struct err *e);

/* The cryptographic payload of header protection (RFC 9788, hp_payload_header): every field
 * of ph, the blank line and the rest of in, all with CRLF line ends. */
int envmsg_write_payload(const struct msg_header *ph, struct io_in *in, const struct sink *s,
    struct err *e);

/* Is the content of the message (header h, body on in, nothing consumed) signed
 * (multipart/signed) with header protection: a first part whose Content-Type has an hp
 * parameter and that protects a Subject? Looked for in the first 64 KiB. Only then may
 * smime-encrypt obscure the outer Subject of a signed message: the reader gets the signed
 * one back. 1 yes, 0 no. */
int envmsg_signed_hp(const struct msg_header *h, struct io_in *in);

/* The header of the encrypted message: every field of in but the Content-* ones and Bcc, raw
 * bytes kept; a "Bcc: bcc" field when bcc is given; MIME-Version: 1.0 if in had none; then
 * the envelope's Content-Type (smime-type enveloped-data, or authEnveloped-data when auth;
 * name=smime.p7m, RFC 8551 §3.2.1, §3.3), Content-Transfer-Encoding: base64 and
 * Content-Disposition: attachment; filename=smime.p7m. out is initialised here. */
int envmsg_outer_header(const struct msg_header *in, int auth, const char *bcc,
    struct msg_header *out, struct err *e);

/* Copy n bytes at offset off of fd to o. */
int envmsg_copy_range(int fd, uint64_t off, uint64_t n, struct io_out *o, struct err *e);

/* What a Content-Type (and Content-Disposition) make of an entity, for decryption. */
enum envmsg_kind {
	ENVMSG_PLAIN,		/* not encrypted (or not a kind we open) */
	ENVMSG_MULTIPART,	/* multipart/...: parts may be encrypted */
	ENVMSG_ENVELOPED,	/* application/(x-)pkcs7-mime; smime-type=(auth)enveloped-data */
	ENVMSG_MAYBE_P7,	/* application/(x-)pkcs7-mime without smime-type (s-nail, old
				 * agents, name=smime.p7m only): the CMS content type decides */
	ENVMSG_MAYBE_FILE,	/* application/octet-stream named *.p7m (some clients): only
				 * enveloped CMS content makes it encrypted */
};
/* h's kind; ct is its Content-Type parsed (NULL: none or unparsable, RFC 2045 §5.2). */
enum envmsg_kind envmsg_kind(const struct mime_type *ct, const struct msg_header *h);

/* The header region of in (every line up to and including the first empty one, or to end of
 * input) copied as it is to a private spool, whatever it holds: lines of any length, NULs.
 * *fd is rewound; *len its size. */
int envmsg_spool_header(struct io_in *in, int *fd, uint64_t *len, struct err *e);

/* A header that msg_header_read refused (a line without a colon, a NUL, an over-long line):
 * the len bytes of fd (from its start) written to o as they are, except every
 * Authentication-Results or Secmail-Decryption field that claims authserv (RFC 8601 §5;
 * such a field too long to read, over 64 KiB, is removed as well). */
int envmsg_header_strip_raw(int fd, uint64_t len, const char *authserv, struct io_out *o,
    struct err *e);

/* The decrypted entity from fd (rewound; canonical CRLF) to o after the outer header: every
 * Authentication-Results or Secmail-Decryption field claiming authserv in its header removed
 * (the sender chose them); when it is not a MIME entity (no header: bare bytes, RFC 4134
 * §5.1), the blank line that ends the outer header first, so the bytes are its body
 * (*bare = 1). Line ends converted to LF unless crlf. content_only: of the entity's header
 * only its Content-* fields (header protection: the caller wrote the others, hp_merge);
 * else every field but those envmsg_inner_dup names for outer. */
int envmsg_write_decrypted(int fd, int crlf, const char *authserv, int content_only,
    const struct msg_header *outer, struct io_out *o, int *bare, struct err *e);

/* Is name, a field in the header of a decrypted entity that is not header protection, one to
 * leave out because the outer header (outer, may be NULL) has it and RFC 5322 §3.6 allows it
 * once (From, Sender, Reply-To, To, Cc, Bcc, Subject, Date, Message-ID, In-Reply-To,
 * References)? Anyone can encrypt to the recipient: a From inside, shown beside the outer one
 * that the MTA checked (DKIM, DMARC), would be a sender nobody checked. envmsg_write_decrypted
 * leaves these out when outer is given. */
int envmsg_inner_dup(const char *name, const struct msg_header *outer);

/* The header of the decrypted entity in fd (from its start; rewound after), for header
 * protection: 0 with h read (h->n == 0 when the entity has none, or is not a MIME entity);
 * -1 on I/O errors. */
int envmsg_read_decrypted_header(int fd, struct msg_header *h, struct err *e);

/* An encrypted part somewhere inside a multipart (RFC 8551 §3.1: a part of a larger
 * message): ENVMSG_ENVELOPED parts, and ENVMSG_MAYBE_* ones whose content begins as CMS
 * enveloped or authEnveloped data. */
struct envmsg_part {
	int ok;
	enum cte cte;
	char path[MIME_PATH_MAX];	/* its part number, "2", "1.3" (mime.h) */
	char parent[64];	/* the type of the multipart it is in, "multipart/mixed" */
	uint64_t offset;	/* its first header byte in the body */
	uint64_t body_offset;	/* its first body byte */
	uint64_t body_end;	/* just past its body (the line end before the delimiter
				 * belongs to the delimiter, RFC 2046 §5.1.1) */
};

/* Walk the body in fd (from its start; h is the message's header) for the first such part.
 * 1 found, 0 none (also when the MIME structure cannot be walked: then nothing can be
 * said to be encrypted), -1 on a system error (I/O, memory). */
int envmsg_find_enveloped(int fd, struct msg_header *h, struct envmsg_part *p, struct err *e);

#endif
