/* param.h — Content-Type and Content-Disposition values (RFC 2045 §5.1, RFC 2183) with their
 * parameters, including RFC 2231 continuations, charsets and languages: parsing, and writing
 * parameters into a header value being built. */
#ifndef SECMAIL_PARAM_H
#define SECMAIL_PARAM_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Limits (a clear EX_DATAERR error beyond them, never unbounded work). */
#define MIME_PARAM_MAX		 256		/* parameters, counting each RFC 2231 section */
#define MIME_PARAM_VALUE_MAX	 (64 * 1024)	/* bytes of the whole field value */
#define MIME_PARAM_COMMENT_DEPTH 32		/* nested RFC 822 comments */
#define MIME_PARAM_SECTION_MAX	 999		/* highest RFC 2231 section number */

struct mime_param {
	char *name;	/* lower-cased, without any RFC 2231 '*' suffix */
	char *value;	/* RFC 2231 values: decoded to UTF-8 (see mime_type_parse). Plain values:
			 * the bytes as written, quoting removed; RFC 2047 encoded words that some
			 * mailers put in quoted strings are NOT decoded here (rfc2047_decode
			 * does that for the callers that want it, e.g. file names). */
	char *charset;	/* RFC 2231 charset as written, or NULL */
	char *lang;	/* RFC 2231 language as written, or NULL */
	int extended;	/* the value came from RFC 2231 extended form (name*= or a name*N*
			 * section): it is decoded text, and "=?" in it is not an RFC 2047
			 * encoded word */
};

struct mime_type {
	char *type;	/* lower-cased: "text", or for a disposition "attachment" */
	char *subtype;	/* lower-cased: "plain"; NULL for a disposition */
	struct mime_param *params;
	size_t nparams;
};

/*
 * Parse a Content-Type (is_disposition 0: "type/subtype *(; parameter)") or a
 * Content-Disposition (1: "disposition-type *(; parameter)") field value, unfolded.
 * On success fills *t (free with mime_type_free) and returns 0; on failure returns -1 with an
 * EX_DATAERR error (EX_OSERR when out of memory) and *t left empty. What fails: a missing or
 * malformed type or subtype (the caller applies RFC 2045 §5.2's text/plain default if it
 * wants), and the limits above.
 *
 * Accepted as written: comments "(...)" (nested, with \-quoting) anywhere white space may be;
 * case-insensitive names; quoted-strings with \-quoting; RFC 2231 sections name*0, name*1*,
 * ... in any order and name*=charset'lang'%XX.
 *
 * Best effort for sloppy real-world values (documented behaviour, tested):
 * - empty parameters and trailing ';' are ignored; a parameter without '=' is ignored;
 * - a missing ';' between parameters is tolerated ("a=1 b=2");
 * - an unquoted value running on with spaces ("name=my file.pdf") is taken up to the next
 *   ';' with comments removed and trailing white space dropped;
 * - an unterminated quoted-string or comment runs to the end of the value;
 * - junk where a parameter should start is skipped up to the next ';';
 * - RFC 2231 sections without a section 0, and names like "a*b" or "name*01", are ignored;
 * - bytes >= 0x80 are accepted in tokens and quoted-strings (RFC 6532 UTF-8 values) and kept;
 * - duplicate parameters: the first one wins; when both name and name* (or name*0...) are
 *   present the RFC 2231 one wins (mailers send both for old readers);
 * - RFC 2231 sections are joined from 0 up to the first missing number; the rest is dropped;
 *   a malformed %XX is kept literally;
 * - RFC 2231 values are converted from their charset to UTF-8; an empty charset means
 *   US-ASCII; when the charset is unknown or the bytes are invalid in it, the bytes are taken
 *   as UTF-8 with ill-formed sequences replaced by U+FFFD; an encoded NUL (%00) becomes
 *   U+FFFD so the value cannot be cut short ("evil.txt%00.pdf").
 */
int mime_type_parse(const char *value, int is_disposition, struct mime_type *t, struct err *e);
void mime_type_free(struct mime_type *t);

/* How many values the Content-Type value gives parameter `name`: each plain, RFC 2231
 * extended (name*) or section 0 (name*0, name*0*) form counts, repeated ones too. Readers
 * differ on which one wins (mime_type_parse: the extended form, then the sections, then the
 * first plain one; Python's email: the first plain one), so more than one is ambiguous.
 * -1 (e set) when the value does not parse. */
int mime_type_param_count(const char *value, const char *name, struct err *e);

/* The value of parameter `name` (case-insensitive), or NULL. */
const char *mime_type_param(const struct mime_type *t, const char *name);
/* The parameter itself, or NULL. */
const struct mime_param *mime_type_param_get(const struct mime_type *t, const char *name);
/* 1 if t is type/subtype (case-insensitive); subtype NULL matches any. */
int mime_type_is(const struct mime_type *t, const char *type, const char *subtype);

/*
 * Append "; name=value" to a header value being built in b. The value (UTF-8) is written as a
 * token when it is one, else as a quoted-string; values that are not printable ASCII are
 * written in RFC 2231 extended form name*=utf-8''%E2%82%AC, as are values holding "=?" (most
 * readers decode RFC 2047 encoded words in plain parameter values, against RFC 2047 §5, so
 * "=?utf-8?q?x=00?=.txt" would not be read as written), and values too long for one line
 * are split into RFC 2231 sections (name*0="..."; name*1="..." or name*0*=utf-8''...;
 * name*1*=...), each "; "-separated piece short enough (MIME_PARAM_PIECE) that msg_fold can
 * keep every line within 78 columns. A UTF-8 character is never split across sections.
 * "boundary" is never split (RFC 2046 §5.1.1 caps it at 70 characters, and readers expect
 * it plain): it may make a line of up to 84 columns.
 * Fails (EX_DATAERR) if name is not a token or value is not valid UTF-8; a buffer
 * allocation failure is left to buf_check. Values up to MIME_PARAM_WRITE_MAX bytes are
 * guaranteed to parse back within MIME_PARAM_MAX sections (longer ones are written but may
 * not be: no file name comes close).
 */
#define MIME_PARAM_WRITE_MAX 2048
#define MIME_PARAM_PIECE 74	/* "; " + piece + ";" on a folded line: 1 + 74 + 1 < 78 */
int mime_param_append(struct buf *b, const char *name, const char *utf8value, struct err *e);

#endif
