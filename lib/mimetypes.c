/* mimetypes.c — file name to content type via mime.types(5) or a built-in table, and the
 * text/binary sniffer mime-pack uses before choosing a transfer encoding. */
#define _GNU_SOURCE		/* memrchr(3) */
#include "mimetypes.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "io.h"

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
 * not a valid type is ignored, as mailcap tools do. Lines end at LF; the fields are separated
 * by white space (SP, HT, CR, FF, VT); a line holds what comes before its first '#' or NUL.
 * The file is read a block at a time until the first line naming ext (ASCII case ignored),
 * found by searching the block for ext itself (mt_find) and checking each hit: a whole field,
 * not the first one, before any '#' or NUL of its line. That line's type, lower-cased, in
 * *type (malloc'd), or NULL when no line names ext. A file that has gone away since
 * mimetypes_load is no entry.
 */
#define MT_BLOCK 4096

static int
mt_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static unsigned char
mt_lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* p[0..n) equals ext (lower case) ignoring ASCII case. */
static int
mt_eq(const unsigned char *p, const char *ext, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (mt_lc(p[i]) != (unsigned char)ext[i])
			return 0;
	return 1;
}

/*
 * The first place in p[0..n) where ext (lower case, elen >= 1) is, ignoring ASCII case, or
 * NULL. Candidates are where the first and the last byte of ext are (a vector of positions
 * at a time, both compared with bit 0x20 set: a superset of the case-insensitive matches),
 * each then compared whole; the file need not be lower-cased first.
 */
static const unsigned char *
mt_find(const unsigned char *p, size_t n, const char *ext, size_t elen)
{
	size_t i = 0;

	if (n < elen)
		return NULL;
#ifdef __SSE2__
	{
		const __m128i f = _mm_set1_epi8((char)(ext[0] | 0x20));
		const __m128i l = _mm_set1_epi8((char)(ext[elen - 1] | 0x20));
		const __m128i b20 = _mm_set1_epi8(0x20);

		for (; n - elen + 1 - i >= 16; i += 16) {
			__m128i a = _mm_or_si128(_mm_loadu_si128((const __m128i *)(p + i)), b20);
			__m128i z = _mm_or_si128(_mm_loadu_si128((const __m128i *)(p + i + elen - 1)),
			    b20);
			unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f),
			    _mm_cmpeq_epi8(z, l)));

			for (; m != 0; m &= m - 1) {
				size_t j = i + (unsigned)__builtin_ctz(m);

				if (mt_eq(p + j, ext, elen))
					return p + j;
			}
		}
	}
#endif
	for (; i <= n - elen; i++)
		if (mt_lc(p[i]) == (unsigned char)ext[0] && mt_eq(p + i, ext, elen))
			return p + i;
	return NULL;
}

/*
 * Search b[0..n), complete lines (b[n - 1] is a LF), for the first line naming
 * ext (which holds no white space and no '#': it cannot span fields or lines). Each line is
 * looked at once (where it is cut by '#' or NUL, where its type field is) and each hit then
 * in constant time, so a hostile file costs linear time. 1: found, the type (malloc'd) in
 * *type and the end of its line (after the LF) in *at; 0: not in these lines; -1: out of
 * memory.
 */
static int
mt_search(const unsigned char *b, size_t n, const char *ext, size_t elen, size_t *at,
    char **type, struct err *e)
{
	const unsigned char *hit;
	size_t from = 0, h, ls, le = 0, cut = 0, ts = 0, te = 0;

	while (from < n && (hit = mt_find(b + from, n - from, ext, elen)) != NULL) {
		h = (size_t)(hit - b);
		if (h >= le) {
			/* A new line: back to its start (no further than the last line's end),
			 * on to its LF, its cut ('#' or NUL: the rest is not read), its type. */
			for (ls = h; ls > le && b[ls - 1] != '\n'; ls--)
				;
			le = (size_t)((const unsigned char *)memchr(b + h, '\n', n - h) - b) + 1;
			for (cut = ls; cut < le - 1 && b[cut] != '#' && b[cut] != '\0'; cut++)
				;
			for (ts = ls; ts < cut && mt_space(b[ts]); ts++)
				;
			for (te = ts; te < cut && !mt_space(b[te]); te++)
				;
		}
		if (h + elen > cut) {
			from = le;		/* in the comment: nothing more on this line */
			continue;
		}
		if (h <= ts || !mt_space(b[h - 1]) || (h + elen < cut && !mt_space(b[h + elen]))) {
			from = h + 1;		/* part of a longer field, or the type itself */
			continue;
		}
		if ((*type = strndup((const char *)b + ts, te - ts)) == NULL)
			return err_sys(e, EX_OSERR, "out of memory");
		lower(*type);
		if (mimetypes_valid(*type)) {
			*at = le;
			return 1;
		}
		free(*type);			/* an invalid type: the line is ignored */
		*type = NULL;
		from = le;
	}
	return 0;
}

static int
too_big(const char *path, struct err *e)
{
	return err_set(e, EX_DATAERR, "%s: not a regular file of at most %d bytes", path,
	    MIMETYPES_MAX_FILE);
}

static int
file_lookup(const char *path, const char *ext, char **type, struct err *e)
{
	/* A block on the stack; the heap only for a line longer than that. */
	unsigned char sbuf[MT_BLOCK + 1], *buf = sbuf, *nb, *nl;
	size_t cap = MT_BLOCK, have = 0, done, at = 0, ncap, elen = strlen(ext);
	uint64_t total = 0, base;	/* bytes read; the file offset of buf[0] */
	ssize_t n;
	int fd, r = 0, eof = 0, found;

	*type = NULL;
	if (strpbrk(ext, " \t\r\n\f\v#") != NULL)
		return 0;		/* no field of the file can be this */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : err_sys(e, EX_NOINPUT, "cannot open %s", path);
	for (;;) {
		/* Room for a block after what is kept of a line that goes on; a long line
		 * doubles the buffer (bounded: the line must end within the size limit). */
		if (cap - have < MT_BLOCK) {
			ncap = have + MT_BLOCK > 2 * have ? have + MT_BLOCK : 2 * have;
			if ((nb = realloc(buf == sbuf ? NULL : buf, ncap + 1)) == NULL) {
				r = err_sys(e, EX_OSERR, "out of memory");
				break;
			}
			if (buf == sbuf)
				memcpy(nb, sbuf, have);
			buf = nb;
			cap = ncap;
		}
		if ((n = io_read(fd, buf + have, cap - have)) < 0) {
			r = err_sys(e, EX_IOERR, "read error: %s", path);
			break;
		}
		if (n == 0) {
			if (have == 0)
				break;
			buf[have++] = '\n';	/* the last line, unended */
			eof = 1;
			done = have;
		} else {
			nl = memrchr(buf + have, '\n', (size_t)n);
			have += (size_t)n;
			total += (uint64_t)n;
			if (nl == NULL) {
				/* A line still going on: it ends past the limit, whatever it
				 * names, once more than the limit has been read. */
				if (total > MIMETYPES_MAX_FILE) {
					r = too_big(path, e);
					break;
				}
				continue;
			}
			done = (size_t)(nl - buf) + 1;
		}
		base = total - (have - (size_t)eof);
		if ((found = mt_search(buf, done, ext, elen, &at, type, e)) < 0) {
			r = -1;
			break;
		}
		/* The line that names ext, or on a miss every line so far, must end within
		 * the limit (a file that grew since mimetypes_load; a LF that is not in the
		 * file does not count). */
		if (!found)
			at = done;
		if (base + at - (uint64_t)(eof && at == have) > MIMETYPES_MAX_FILE) {
			free(*type);
			*type = NULL;
			r = too_big(path, e);
			break;
		}
		if (found || eof)
			break;
		memmove(buf, buf + done, have - done);
		have -= done;
	}
	if (buf != sbuf)
		free(buf);
	close(fd);
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
