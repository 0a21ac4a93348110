/* msg.h — RFC 5322 messages: a streaming header reader that keeps every field's raw bytes,
 * field lookup and editing, and a writer that folds generated fields. The body is never read
 * here: after msg_header_read the io_in stands at the first body byte. */
#ifndef SECMAIL_MSG_H
#define SECMAIL_MSG_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "io.h"

/* Limits on what a header may cost (a clear EX_DATAERR beyond them, never unbounded memory). */
#define MSG_MAX_LINE	 (64 * 1024)	/* one physical header line read */
#define MSG_MAX_FIELD	 (256 * 1024)	/* one field, all its folded lines */
#define MSG_MAX_FIELDS	 10000
#define MSG_MAX_HEADER	 (4 * 1024 * 1024)
#define MSG_FOLD_COLUMN	 78		/* RFC 5322 §2.1.1 SHOULD */
#define MSG_MAX_OUT_LINE 998		/* RFC 5322 §2.1.1 MUST */

struct msg_field {
	char *name;		/* as written (case kept), NUL-terminated */
	char *value;		/* unfolded (RFC 5322 §2.2.3): line breaks of folds removed,
				 * leading white space after the colon and trailing CR/LF
				 * dropped; NUL-terminated */
	char *raw;		/* the exact input bytes, folds and line ends included; for
				 * generated fields, the folded "Name: value" + line end */
	size_t rawlen;
};

struct msg_header {
	struct msg_field *f;
	size_t n, cap;
	char *mbox_from;	/* a leading mbox "From " line (raw, with line end), or NULL */
	int crlf;		/* the input used CRLF line ends (from its first line) */
	size_t bytes;		/* raw bytes consumed, including the blank line */
	int lenient;		/* set by the caller before reading: see msg_header_read */
	char defect[160];	/* lenient reading: why the header ended before a blank line
				 * ("" when it ended well); the offending line is left unread */
};

void msg_header_init(struct msg_header *h);
void msg_header_free(struct msg_header *h);

/*
 * Read header fields up to and including the empty line that ends them (or end of input).
 * Accepts LF or CRLF. A first line that is neither a field nor an mbox "From " line means the
 * input has no header: nothing is consumed and h->n is 0. A later line that is not a field is
 * an EX_DATAERR error naming its line number. Limits above are EX_DATAERR errors.
 */
int msg_header_read(struct io_in *in, struct msg_header *h, struct err *e);
/*
 * Details of msg_header_read: an mbox line is a first line starting "From " that is not an
 * obsolete "From : x" field; an empty first line is an empty header (it is consumed and
 * counted in h->bytes, h->n stays 0); a NUL byte in the header is an EX_DATAERR error; the
 * blank line's bytes are h->bytes minus the fields' rawlen and the mbox line's length.
 *
 * msg_header_read_part: the same for the header of a MIME body part (mime.c), with no mbox
 * "From " line, and stopping before any line for which stop(ctx, line, n) returns non-zero
 * (a boundary delimiter that ends a part whose header has no blank line): that line is left
 * unread. stop may be NULL.
 *
 * Lenient reading (h->lenient set after msg_header_init): for a filter that must write every
 * message back (smime-verify), nothing in the input is an error; only I/O and memory are. The
 * header ends, as Python's email package ends it, before the first line that is not a
 * well-formed field: a line without a colon, a continuation with no field before it, a NUL
 * byte, a line over MSG_MAX_LINE, a field over MSG_MAX_FIELD, a header over MSG_MAX_HEADER or
 * MSG_MAX_FIELDS fields. That line is left unread (the body starts with it) and h->defect says
 * what happened; a writer that puts a blank line after the fields makes every reader agree
 * where the header ends.
 */
int msg_header_read_part(struct io_in *in, struct msg_header *h,
    int (*stop)(void *ctx, const unsigned char *line, size_t n), void *ctx, struct err *e);

/* Case-insensitive lookups. */
const struct msg_field *msg_header_get(const struct msg_header *h, const char *name);
size_t msg_header_count(const struct msg_header *h, const char *name);
/* Index of the next field named `name` at or after `from`, or (size_t)-1. */
size_t msg_header_next(const struct msg_header *h, const char *name, size_t from);

/* Editing. Generated fields are folded with msg_fold and end in CRLF when h->crlf, else LF. */
int msg_header_add(struct msg_header *h, const char *name, const char *value, struct err *e);
int msg_header_insert(struct msg_header *h, size_t at, const char *name, const char *value,
    struct err *e);
/* Remove every field with this name; returns how many. */
size_t msg_header_remove(struct msg_header *h, const char *name);
/* Remove the field at index i. */
void msg_header_delete(struct msg_header *h, size_t i);

/* Write the header fields (raw bytes; mbox_from first if present) and NOT the blank line. */
int msg_header_write(struct io_out *o, const struct msg_header *h);

/*
 * "Name: value" folded at white space so lines stay near MSG_FOLD_COLUMN and never exceed
 * MSG_MAX_OUT_LINE (a value with no white space for 998 octets is an EX_DATAERR error), each
 * line ended with eol ("\r\n" or "\n"). Returns a malloc'd string.
 */
char *msg_fold(const char *name, const char *value, const char *eol, struct err *e);

/* Is this a MIME content field (Content-* or MIME-Version)? S/MIME signs and encrypts the
 * content fields with the body and keeps the others outside. */
int msg_is_content_field(const char *name);
/* Every bare CR (one not before an LF) in the fields' raw bytes made a space, so that no
 * reader that takes it for a line end sees a field there (a second From, a verdict claiming
 * our authserv-id) that our parser read as part of another field. The values keep theirs. */
void msg_header_no_bare_cr(struct msg_header *h);

/* RFC 5322 §3.3 date-time for t in the local time zone with a numeric zone and English names,
 * e.g. "Sun, 29 Nov 2026 04:21:15 +0100". 0, or -1 if buf (n bytes; 32 suffice) is too small. */
int msg_date(time_t t, char *buf, size_t n);
/* A new RFC 5322 §3.6.4 msg-id, angle brackets included: "<time.128-bit-random-hex@domain>"
 * (random from RAND_bytes). domain NULL or "" means the host name when it is qualified, else
 * "localhost.invalid". A domain that is not a dot-atom is EX_DATAERR. Caller frees. */
char *msg_message_id(const char *domain, struct err *e);

/*
 * RFC 6409 §8.1, §8.3: what a submission agent adds to a message that lacks it: From (from
 * `from`, with the display name `fullname` if not NULL), Date (`now`) and Message-ID (on
 * from's domain, else the host name).
 */
int msg_complete_submission(struct msg_header *h, const char *from, const char *fullname,
    time_t now, struct err *e);
/* RFC 5322 §3.6.6: is the message re-sent (has it any Resent-* field)? Its recipients are then
 * those of Resent-To, Resent-Cc and Resent-Bcc, not the original To, Cc and Bcc (sendmail and
 * Postfix -t read them so too). */
int msg_is_resent(const struct msg_header *h);

/*
 * RFC 5322 §3.6.6: each block of resent fields has a Resent-Date and a Resent-From (and,
 * SHOULD, a Resent-Message-ID). The topmost block (the first run of Resent-* fields, the
 * newest) gets those it lacks, at its top, as sendmail and Postfix add them; a header without
 * Resent-* fields is left alone.
 */
int msg_complete_resent(struct msg_header *h, const char *from, const char *fullname,
    time_t now, struct err *e);

/* Write h, the blank line and the rest of `in` (the body) to a private spool file (io_spool),
 * rewound; returns its fd, or -1. */
int msg_spool(struct io_in *in, const struct msg_header *h, struct err *e);

#endif
