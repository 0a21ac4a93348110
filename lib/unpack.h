/* unpack.h — mime-unpack's work: listing, printing and extracting the parts of a message over
 * the MIME walker, with file names made safe and files created without replacing others. */
#ifndef SECMAIL_UNPACK_H
#define SECMAIL_UNPACK_H

#include "err.h"
#include "io.h"

#define UNPACK_NAME_MAX	  200	/* octets of a file name we create */
#define UNPACK_UNIQUE_MAX 999	/* name-1.ext ... name-999.ext */
#define UNPACK_NUMBER_MAX 512	/* a part number: "2.1.3"; ample for MIME_MAX_DEPTH levels */

struct mime_part;

/*
 * A file name that is safe to create in a directory, from a decoded (UTF-8, possibly
 * ill-formed) name: ill-formed UTF-8 repaired to U+FFFD, NFC, '/', '\\', C0 and C1 controls,
 * DEL, U+2028/U+2029 and the characters drawn as slashes (U+2044, U+2215, U+2216, U+29F5,
 * U+29F8, U+29F9, U+FE68, U+FF0F, U+FF3C) replaced by '_', format characters (Unicode Cf: bidirectional
 * controls such as U+202E, zero-width characters) dropped, leading dots and white space and
 * trailing dots and white space dropped, cut to UNPACK_NAME_MAX octets at a character
 * boundary keeping a short extension.
 * What is left empty becomes `fallback`. Returns a malloc'd string.
 */
char *unpack_safe_name(const char *name, const char *fallback, struct err *e);

/*
 * Commit a file opened with io_atomic_open under a->dst's directory as `name` there: replace
 * an existing file when force, else take the first free one of name, name-1.ext, ...
 * name-UNPACK_UNIQUE_MAX.ext (EX_CANTCREAT when none is). The name used is copied to
 * used[0..usedsz). Never replaces a file unless force.
 */
int unpack_commit(struct io_atomic *a, const char *dir, const char *name, int force,
    char *used, size_t usedsz, struct err *e);

/* The naming part of unpack_commit for a temp file already written, synced and closed: on
 * success tmp is gone (renamed or linked and unlinked); on failure it is left to the caller. */
int unpack_link(const char *tmp, const char *dir, const char *name, int force, char *used,
    size_t usedsz, struct err *e);

enum unpack_mode {
	UNPACK_LIST = 1,	/* one line per part to out */
	UNPACK_EXTRACT,		/* attachments into dir; the names created to out */
	UNPACK_PART,		/* one part, decoded, to out */
};

struct unpack_opts {
	enum unpack_mode mode;
	const char *dir;	/* UNPACK_EXTRACT: an existing directory */
	int force;		/* UNPACK_EXTRACT: replace existing files */
	const char *part;	/* UNPACK_PART: "2", "1.3" ... (IMAP numbering) */
	int keep_signatures;	/* UNPACK_EXTRACT: also the signature parts of multipart/signed */
	int file_mode;		/* UNPACK_EXTRACT: mode of the files created; 0: 0600 */
};

/*
 * The number of part p as IMAP numbers it (RFC 3501 §6.4.5 BODY[section]) into s[0..n): a
 * message's body is numbered under what holds the message (nothing for the message itself,
 * N for the message enclosed in a message/rfc822 part N): if it is a multipart its parts are
 * 1, 2 ... (N.1, N.2 ...), else the body is part 1 (N.1); the parts of a multipart part M are
 * M.1, M.2 ... A multipart that is a message's body has no IMAP number: it is "0" for the
 * message itself and "N.0" for the message in part N. -1 if n is too small.
 */
int unpack_part_number(const struct mime_part *p, char *s, size_t n);

/*
 * Walk the message on in (mime.h) and do what o says. Parts are numbered as
 * unpack_part_number says. Decoding: base64 and quoted-printable; bad base64 is an
 * EX_DATAERR error; text that is not base64 gets LF line ends. Listing escapes what it
 * prints from the message (buf_add_printable). Extraction writes each attachment that is not
 * inside another one being written (an attached message is written whole, its parts stay in
 * it), skipping the signature part of a multipart/signed unless keep_signatures; files are
 * written to temp files and named only when the whole walk succeeded; a multipart without its
 * close delimiter is an EX_DATAERR error (after listing, or printing the part). Errors leave
 * nothing in dir, except files -f already put in place of others.
 */
int unpack_message(const struct unpack_opts *o, struct io_in *in, struct io_out *out,
    struct err *e);

#endif
