/* charset.h — text in mail: UTF-8 validation, conversion from a named (or the locale's)
 * charset to UTF-8 (iconv(3)), and Unicode NFC (GNU libunistring). Header-sized strings only;
 * every result is malloc'd and NUL-terminated (the length is returned separately because
 * converted text may contain NUL). */
#ifndef SECMAIL_CHARSET_H
#define SECMAIL_CHARSET_H

#include <stddef.h>

#include "err.h"
#include "io.h"

/* 1 if p[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
int charset_utf8_valid(const void *p, size_t n);

/* Length of the well-formed UTF-8 prefix of p[0..n). */
size_t charset_utf8_prefix(const void *p, size_t n);

/* The charset of the current locale (LC_CTYPE; the program must have called setlocale), as a
 * name iconv knows, e.g. "UTF-8" or "ISO-8859-1". Never NULL. */
const char *charset_locale(void);

/* 1 if name is a spelling of UTF-8 ("utf-8", "UTF8", case-insensitive). */
int charset_is_utf8(const char *name);

/* 1 if name is US-ASCII or one of its registered aliases ("us-ascii", "ascii", "ANSI_X3.4-1968"...). */
int charset_is_ascii(const char *name);

/*
 * Convert p[0..n) from charset `from` (NULL: the locale's) to UTF-8. The result is malloc'd,
 * NUL-terminated, its length in *outlen (may be NULL). Errors (EX_DATAERR): a charset name
 * that is not a plain MIME charset token (names holding '/' or other iconv syntax are
 * refused, so mail cannot pass iconv options), a charset iconv does not know (e->sys
 * EINVAL), bytes that are invalid in that charset or a character cut off at the end (e->sys
 * EILSEQ; nothing is silently dropped). Stateful charsets (ISO-2022-JP) are returned to
 * their initial state. Out of memory: EX_OSERR.
 */
char *charset_to_utf8(const char *from, const void *p, size_t n, size_t *outlen,
    struct err *e);

/*
 * Best-effort variant for text that must be shown whatever it holds (RFC 2047 words,
 * RFC 2231 values, file names): as charset_to_utf8, but when the charset is unknown or the
 * bytes are invalid in it, the bytes are taken as UTF-8 and each ill-formed sequence is
 * replaced by U+FFFD. Fails only when out of memory. *lossy (may be NULL) is set to 1 when
 * the fallback was used.
 */
char *charset_to_utf8_lenient(const char *from, const void *p, size_t n, size_t *outlen,
    int *lossy, struct err *e);

/* p[0..n) as UTF-8 with each ill-formed sequence replaced by U+FFFD (malloc'd). */
char *charset_utf8_repair(const void *p, size_t n, size_t *outlen, struct err *e);

/* s[0..n) (malloc'd, as returned above) as a C string: each NUL replaced by U+FFFD so the
 * text cannot be cut short where it is used as a string ("a.txt\0.pdf"). Takes ownership of
 * s; returns a malloc'd string, or NULL (EX_OSERR) with s freed. */
char *charset_nul_free(char *s, size_t n, struct err *e);

/* Unicode Normalization Form C of UTF-8 text (file names, header text). EX_DATAERR if the
 * input is not valid UTF-8. */
char *charset_nfc(const char *utf8, size_t n, size_t *outlen, struct err *e);

/*
 * Streaming conversion of text in charset `from` to UTF-8 over iconv(3), in bounded memory:
 * feed any number of chunks with charset_conv_write, then charset_conv_finish; the UTF-8 goes
 * to the sink. A character cut between chunks is carried over. Errors are those of
 * charset_to_utf8 (a bad or unknown name; EX_DATAERR with e->sys EILSEQ for bytes invalid
 * in `from` or text ending inside a character), the message naming the byte offset in the
 * input. After an error only charset_conv_free may be called.
 */
struct charset_conv {
	void *cd;			/* iconv_t */
	char from[65];
	unsigned char pend[16];		/* the start of a character cut between chunks */
	size_t npend;
	unsigned long long off;		/* input bytes converted (the offset of pend[0]) */
	char out[4096];
};

int charset_conv_init(struct charset_conv *x, const char *from, struct err *e);
int charset_conv_write(struct charset_conv *x, const struct sink *s, const void *p, size_t n,
    struct err *e);
int charset_conv_finish(struct charset_conv *x, const struct sink *s, struct err *e);
void charset_conv_free(struct charset_conv *x);

#endif
