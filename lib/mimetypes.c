/* mimetypes.c — file name to content type via mime.types(5) or a built-in table, and the
 * text/binary sniffer mime-pack uses before choosing a transfer encoding. */
#include "mimetypes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Used when there is no mime.types, and beneath it for what it lacks; sorted by extension
 * (bsearch). */
static const struct mimetypes_ent builtin[] = {
	{ "7z", "application/x-7z-compressed" },
	{ "asc", "application/pgp-signature" },
	{ "avif", "image/avif" },
	{ "bmp", "image/bmp" },
	{ "bz2", "application/x-bzip2" },
	{ "c", "text/x-csrc" },
	{ "cer", "application/pkix-cert" },
	{ "crt", "application/x-x509-ca-cert" },
	{ "css", "text/css" },
	{ "csv", "text/csv" },
	{ "deb", "application/vnd.debian.binary-package" },
	{ "diff", "text/x-diff" },
	{ "doc", "application/msword" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "eml", "message/rfc822" },
	{ "epub", "application/epub+zip" },
	{ "flac", "audio/flac" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "h", "text/x-chdr" },
	{ "heic", "image/heic" },
	{ "htm", "text/html" },
	{ "html", "text/html" },
	{ "ics", "text/calendar" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript" },
	{ "json", "application/json" },
	{ "key", "application/pgp-keys" },
	{ "log", "text/plain" },
	{ "m4a", "audio/mp4" },
	{ "md", "text/markdown" },
	{ "mkv", "video/x-matroska" },
	{ "mov", "video/quicktime" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "odp", "application/vnd.oasis.opendocument.presentation" },
	{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
	{ "odt", "application/vnd.oasis.opendocument.text" },
	{ "ogg", "audio/ogg" },
	{ "p7m", "application/pkcs7-mime" },
	{ "p7s", "application/pkcs7-signature" },
	{ "patch", "text/x-diff" },
	{ "pdf", "application/pdf" },
	{ "pem", "application/x-pem-file" },
	{ "png", "image/png" },
	{ "ppt", "application/vnd.ms-powerpoint" },
	{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	{ "ps", "application/postscript" },
	{ "py", "text/x-python" },
	{ "rtf", "application/rtf" },
	{ "sh", "application/x-sh" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "tgz", "application/gzip" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "txt", "text/plain" },
	{ "vcf", "text/vcard" },
	{ "wav", "audio/wav" },
	{ "webm", "video/webm" },
	{ "webp", "image/webp" },
	{ "xls", "application/vnd.ms-excel" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ "xml", "application/xml" },
	{ "xz", "application/x-xz" },
	{ "zip", "application/zip" },
	{ "zst", "application/zstd" },
};
#define NBUILTIN (sizeof builtin / sizeof builtin[0])

static int
ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mimetypes_ent *)a)->ext, ((const struct mimetypes_ent *)b)->ext);
}

static int
is_tspecial(int c)
{
	/* RFC 2045 §5.1 tspecials */
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static int
is_token_char(int c)
{
	return c > 0x20 && c < 0x7f && !is_tspecial(c);
}

int
mimetypes_valid(const char *s)
{
	size_t n = 0;

	for (; is_token_char((unsigned char)*s); s++)
		n++;
	if (n == 0 || *s++ != '/')
		return 0;
	for (n = 0; is_token_char((unsigned char)*s); s++)
		n++;
	return n > 0 && *s == '\0';
}

static void
lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int
mimetypes_load(struct mimetypes *t, const char *path, struct err *e)
{
	struct stat st;

	memset(t, 0, sizeof *t);
	if (path == NULL)
		path = getenv("SECMAIL_MIME_TYPES");
	if (path == NULL)
		path = MIMETYPES_PATH;
	if (*path == '\0')
		return 0;
	/* Only looked at now; read when a lookup needs it. */
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, EX_NOINPUT, "cannot open %s", path);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MIMETYPES_MAX_FILE)
		return err_set(e, EX_DATAERR, "%s: not a regular file of at most %d bytes", path,
		    MIMETYPES_MAX_FILE);
	if ((t->path = strdup(path)) == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	return 0;
}

void
mimetypes_free(struct mimetypes *t)
{
	size_t i;

	for (i = 0; i < t->ncache; i++) {
		free(t->cache[i].ext);
		free(t->cache[i].type);
	}
	free(t->cache);
	free(t->path);
	memset(t, 0, sizeof *t);
}

/*
 * mime.types(5): "type/subtype ext ext ...", '#' comments, blank lines; a line whose type is
 * not a valid type is ignored, as mailcap tools do. Read line by line until the first line
 * naming ext (lower case): its type, lower-cased, in *type (malloc'd), or NULL when no line
 * does. A file that has gone away since mimetypes_load is no entry.
 */
static int
file_lookup(const char *path, const char *ext, char **type, struct err *e)
{
	char *line = NULL, *save, *tok, *ty, *hash;
	size_t cap = 0, total = 0;
	ssize_t n;
	FILE *f;
	int r = 0;

	*type = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : err_sys(e, EX_NOINPUT, "cannot open %s", path);
	while (*type == NULL && (n = getline(&line, &cap, f)) > 0) {
		if ((total += (size_t)n) > MIMETYPES_MAX_FILE) {
			r = err_set(e, EX_DATAERR, "%s: not a regular file of at most %d bytes", path,
			    MIMETYPES_MAX_FILE);
			break;
		}
		if (line[0] == '#' || (hash = strchr(line, '#')) != NULL) {
			if (line[0] == '#')
				continue;
			*hash = '\0';
		}
		if ((ty = strtok_r(line, " \t\r\n\f\v", &save)) == NULL)
			continue;
		/* The extensions first: the type is checked only on the line that names ext. */
		while ((tok = strtok_r(NULL, " \t\r\n\f\v", &save)) != NULL) {
			if (strcasecmp(tok, ext) != 0)
				continue;
			lower(ty);
			if (!mimetypes_valid(ty))
				break;
			if ((*type = strdup(ty)) == NULL)
				r = err_sys(e, EX_OSERR, "out of memory");
			break;
		}
	}
	if (r == 0 && ferror(f))
		r = err_sys(e, EX_IOERR, "read error: %s", path);
	free(line);
	fclose(f);
	if (r != 0) {
		free(*type);
		*type = NULL;
	}
	return r;
}

int
mimetypes_lookup(struct mimetypes *t, const char *filename, const char **type, struct err *e)
{
	struct mimetypes_ent key, *hit;
	struct mimetypes_cached *c;
	const char *base, *dot;
	char ext[64], *found;
	size_t n, i;

	*type = NULL;
	base = strrchr(filename, '/');
	base = base ? base + 1 : filename;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base || dot[1] == '\0')
		return 0;		/* no extension; ".profile" is a name, not an extension */
	n = strlen(dot + 1);
	if (n >= sizeof ext)
		return 0;
	memcpy(ext, dot + 1, n + 1);
	lower(ext);
	/* The file wins over the built-in table: ask it first (once per extension). */
	if (t->path != NULL) {
		for (i = 0; i < t->ncache; i++)
			if (strcmp(t->cache[i].ext, ext) == 0)
				break;
		if (i == t->ncache) {
			if (file_lookup(t->path, ext, &found, e) != 0)
				return -1;
			c = realloc(t->cache, (t->ncache + 1) * sizeof *c);
			if (c == NULL || (c[t->ncache].ext = strdup(ext)) == NULL) {
				if (c != NULL)
					t->cache = c;
				free(found);
				return err_sys(e, EX_OSERR, "out of memory");
			}
			c[t->ncache].type = found;
			t->cache = c;
			t->ncache++;
		}
		if ((*type = t->cache[i].type) != NULL)
			return 0;
	}
	key.ext = ext;
	key.type = NULL;
	hit = bsearch(&key, builtin, NBUILTIN, sizeof builtin[0], ent_cmp);
	*type = hit ? hit->type : NULL;
	return 0;
}

void
sniff_init(struct sniff *s)
{
	cte_scan_init(&s->st);
}

/*
 * Binary is final: sniff_result can only say SNIFF_BINARY once a NUL, a control byte or a
 * bare CR has been seen, and binary content goes as base64 whatever else it holds. So the
 * scan goes in growing slices (the first ones small: most binary formats show a NUL or a
 * control byte in their first bytes) and stops classifying there; the rest is only counted.
 */
#define SNIFF_SLICE_MIN 64
#define SNIFF_SLICE_MAX (64 * 1024)

void
sniff_update(struct sniff *s, const void *p, size_t n)
{
	const unsigned char *q = p;
	size_t k;

	while (n > 0 && !sniff_binary_yet(s)) {
		k = s->st.bytes < SNIFF_SLICE_MIN ? SNIFF_SLICE_MIN :
		    s->st.bytes > SNIFF_SLICE_MAX ? SNIFF_SLICE_MAX : (size_t)s->st.bytes;
		if (k > n)
			k = n;
		cte_scan(&s->st, q, k);
		q += k;
		n -= k;
	}
	s->st.bytes += n;
}

int
sniff_binary_yet(const struct sniff *s)
{
	return s->st.nul > 0 || s->st.ctl > 0 || s->st.bare_cr > 0;
}

enum sniff_kind
sniff_result(struct sniff *s)
{
	cte_scan_final(&s->st);
	if (!cte_stats_is_text(&s->st))
		return SNIFF_BINARY;
	if (s->st.nonascii == 0)
		return SNIFF_ASCII;
	if (s->st.utf8_bad == 0)
		return SNIFF_UTF8;
	/* Legacy 8-bit text has printable high bytes, but mostly ASCII; a file that is mostly
	 * high bytes is binary whatever it looks like. */
	if (s->st.nonascii * 4 > s->st.bytes)
		return SNIFF_BINARY;
	return SNIFF_8BIT;
}

const char *
sniff_charset(enum sniff_kind k)
{
	switch (k) {
	case SNIFF_ASCII: return "us-ascii";
	case SNIFF_UTF8: return "utf-8";
	default: return NULL;
	}
}
