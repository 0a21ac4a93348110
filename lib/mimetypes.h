/* mimetypes.h — a content type for a file name (from mime.types(5), else a built-in table of
 * common types) and content sniffing: is this text or binary, and what charset could it be. */
#ifndef SECMAIL_MIMETYPES_H
#define SECMAIL_MIMETYPES_H

#include <stddef.h>
#include <stdint.h>

#include "cte.h"
#include "err.h"

#define MIMETYPES_PATH	   "/etc/mime.types"
#define MIMETYPES_MAX_FILE (4 * 1024 * 1024)	/* a bigger mime.types is an error */

struct mimetypes_ent {
	const char *ext;	/* lower case, without the dot */
	const char *type;	/* lower case "type/subtype" */
};

struct mimetypes_cached {
	char *ext;		/* lower case */
	char *type;		/* from the file, or NULL: not in it */
};

/* Where to look: the mime.types file, read only when a lookup needs it and only until the
 * extension is found, then the built-in table. Answers from the file are kept. */
struct mimetypes {
	char *path;		/* NULL: no file */
	struct mimetypes_cached *cache;
	size_t ncache;
};

/*
 * Choose the file: `path` (NULL: MIMETYPES_PATH, or $SECMAIL_MIME_TYPES when set; "" means no
 * file). Nothing is read here. A file that does not exist leaves only the built-in table,
 * silently; one that is not a regular file or is too big is an error (now, from stat(2)).
 */
int mimetypes_load(struct mimetypes *t, const char *path, struct err *e);
void mimetypes_free(struct mimetypes *t);

/* The type for a file name by its last extension, ASCII case-insensitively ("a/b.tar.GZ" ->
 * "application/gzip"), in *type, or NULL when unknown. Only the last path component is
 * looked at. The file's first line naming the extension wins over the built-in table. *type
 * stays valid until mimetypes_free. 0, or -1 when the file cannot be read. */
int mimetypes_lookup(struct mimetypes *t, const char *filename, const char **type,
    struct err *e);

/* Is s a syntactically valid "type/subtype" (RFC 2045 §5.1 tokens)? 1 or 0. */
int mimetypes_valid(const char *s);

/*
 * Content sniffing, streaming: feed any number of chunks, then ask. One definition of "text"
 * for the project: the transfer-encoding scanner's (cte.h: no NUL, no bare CR, no control
 * bytes other than TAB, LF, CR, FF, ESC). Its charset is "us-ascii" when every byte is below
 * 0x80, "utf-8" when the bytes are well-formed UTF-8 (RFC 3629), otherwise unknown 8-bit.
 */
enum sniff_kind {
	SNIFF_ASCII,		/* text, 7-bit */
	SNIFF_UTF8,		/* text, valid UTF-8 with at least one non-ASCII character */
	SNIFF_8BIT,		/* text-like but not UTF-8: some legacy charset */
	SNIFF_BINARY,
};

struct sniff {
	struct cte_stats st;	/* also what cte_choose needs; once binary is certain only
				 * st.bytes goes on counting (binary goes as base64 whatever
				 * the rest holds, so the rest is not classified) */
};

void sniff_init(struct sniff *s);
void sniff_update(struct sniff *s, const void *p, size_t n);
/* After the last chunk (it finishes the scan). An empty input is SNIFF_ASCII. */
enum sniff_kind sniff_result(struct sniff *s);
/* Binary is already certain (the rest need not be read). */
int sniff_binary_yet(const struct sniff *s);
/* "us-ascii", "utf-8", or NULL for SNIFF_8BIT / SNIFF_BINARY. */
const char *sniff_charset(enum sniff_kind k);

#endif
