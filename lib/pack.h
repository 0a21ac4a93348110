/* pack.h — building a MIME message from a plain one plus files (what mime-pack does), and
 * cutting a message into message/partial fragments and joining them again (RFC 2046 §5.2.2). */
#ifndef SECMAIL_PACK_H
#define SECMAIL_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "io.h"
#include "mimetypes.h"

struct pack_att {
	const char *path;	/* the file to attach */
	const char *type;	/* content type, or NULL: from the name, else sniffed */
	const char *name;	/* announced file name, or NULL: the path's last component */
	const char *desc;	/* Content-Description, or NULL */
	const char *cid;	/* Content-ID (with or without <>), or NULL */
	int is_inline;		/* Content-Disposition: inline */
	int forward;		/* attach as message/rfc822 */
};

struct pack_opts {
	const struct pack_att *att;
	size_t natt;
	const char *html;		/* text/html alternative of the body, or NULL */
	const char *charset;		/* charset of a body that is neither ASCII nor UTF-8 */
	int utf8_headers;		/* RFC 6532: leave non-ASCII header text as UTF-8 */
	int crlf;			/* CRLF line ends in the output */
	struct mimetypes *types;
	/* The locale's charset, asked for only when text or a file name is neither ASCII nor
	 * UTF-8 (so a command can leave setlocale(3) until then); NULL: charset_locale(). */
	const char *(*locale_charset)(void);
};

/* Read a message (or a header and body, or a body alone) from in and write the MIME message
 * to out. Attached files are streamed, twice each; the body is kept in in's buffer when it is
 * at most 64 KiB (in must not be read until this returns), else spooled to a temp file. */
int pack_message(struct io_in *in, struct io_out *out, const struct pack_opts *o, struct err *e);

/* Smallest fragment size pack_split accepts. */
#define PACK_SPLIT_MIN 4096

/*
 * Cut the message in fd (read from its start) into message/partial messages of at most `size`
 * octets each, written atomically as dir/part-001.eml, ... Existing files are never replaced
 * (EX_CANTCREAT). *nparts gets the count. crlf: line ends of the generated header lines.
 */
int pack_split(int fd, const char *dir, uint64_t size, int crlf, unsigned *nparts,
    struct err *e);

/* Reassemble fragments (the files, in any order) and write the message to out. */
int pack_join(char *const *files, size_t nfiles, struct io_out *out, struct err *e);

#endif
