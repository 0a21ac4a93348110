/* rfc2047.h — RFC 2047 encoded-words in header fields ("=?utf-8?Q?caf=C3=A9?="): decoding
 * from any charset to UTF-8, and encoding UTF-8 text for unstructured fields, phrases
 * (display names) and comments. */
#ifndef SECMAIL_RFC2047_H
#define SECMAIL_RFC2047_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define RFC2047_WORD_MAX 75	/* §2: an encoded-word is at most 75 characters */
#define RFC2047_LINE_MAX 76	/* §2: a line holding encoded-words is at most 76 characters */
#define RFC2047_DECODE_WORD_MAX 1024	/* decoder: longest encoded-text accepted (§2 says 75
					 * for the whole word; real mail exceeds it) */
#define RFC2047_LONG_WORD 900	/* plain words longer than this are encoded so the field can
				 * be folded (RFC 5322 §2.1.1's 998-octet limit) */

/*
 * Decode the encoded-words in a header field value (unfolded) and return it as a malloc'd
 * UTF-8 string (NULL and EX_OSERR only when out of memory). RFC 2047 §6.2: white space
 * between two adjacent encoded-words is dropped; consecutive words in the same charset are
 * joined before conversion, so a character split across words (a common encoder bug) still
 * decodes. Both B and Q, any charset libunistring/iconv knows; "charset*lang" (RFC 2231 §5)
 * is accepted. Best effort, documented:
 * - encoded-words are recognised even when not delimited by white space, as most readers do;
 * - a malformed word (bad syntax, bad base64 or Q escape, unknown encoding) is left as is;
 * - a word whose charset is unknown or whose bytes are invalid in it is decoded as UTF-8 if
 *   the bytes are valid UTF-8, else left as is;
 * - bytes outside encoded-words that are not UTF-8 become U+FFFD: the result is always
 *   valid UTF-8; a decoded NUL becomes U+FFFD too, so the string is never cut short.
 */
char *rfc2047_decode(const char *value, struct err *e);

enum rfc2047_ctx {
	RFC2047_TEXT,		/* unstructured fields (Subject, Comments): §5(1) */
	RFC2047_PHRASE,		/* a display name: §5(3); the output is a complete RFC 5322
				 * phrase (atoms, a quoted-string, or encoded-words) */
	RFC2047_COMMENT,	/* inside "( )" (the caller writes the parentheses): §5(2);
				 * '(', ')' and '\' in plain words are backslash-quoted */
};

/*
 * Append UTF-8 text to b, encoded where needed: words holding non-ASCII or control
 * characters, words that look like encoded-words ("=?"), and words longer than
 * RFC2047_LONG_WORD. Runs of such words become encoded-words in UTF-8 (the white space
 * inside a run is encoded with it); in a phrase, any need encodes the whole phrase. Each
 * encoded-word is chosen B or Q, whichever carries more of the text (if equal, the shorter;
 * Q on a tie), holds whole UTF-8
 * characters only, is at most RFC2047_WORD_MAX characters, and is separated from the next by
 * one space so that msg_fold can fold between them. `col` is the column where the text will
 * start (e.g. strlen("Subject: ")): the first encoded-word is kept short enough to end
 * within RFC2047_LINE_MAX when at least 20 columns remain there.
 * Fails (EX_DATAERR) if text is not valid UTF-8; allocation failure is left to buf_check.
 */
int rfc2047_encode(struct buf *b, const char *utf8, enum rfc2047_ctx ctx, size_t col,
    struct err *e);

#endif
