/* mimetypes.c — file name to content type via mime.types(5) or a built-in table, and the
 * text/binary sniffer mime-pack uses before choosing a transfer encoding. */
#include "mimetypes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

/* Used when there is no mime.types, and beneath it for what it lacks. */
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

/* Stable sort by extension: a merge sort (the table is small; qsort is not stable). */
static void
msort(struct mimetypes_ent *v, struct mimetypes_ent *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	msort(v, tmp, h);
	msort(v + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = ent_cmp(&v[j], &v[i]) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
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

/* Read the whole (small) file into a NUL-terminated string. */
static int
slurp(const char *path, char **out, struct err *e)
{
	struct stat st;
	char *p;
	ssize_t n;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, EX_NOINPUT, "cannot open %s", path);
	}
	if (fstat(fd, &st) != 0) {
		err_sys(e, EX_IOERR, "cannot stat %s", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MIMETYPES_MAX_FILE) {
		close(fd);
		return err_set(e, EX_DATAERR, "%s: not a regular file of at most %d bytes", path,
		    MIMETYPES_MAX_FILE);
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return err_sys(e, EX_OSERR, "out of memory");
	}
	n = io_read_full(fd, p, (size_t)st.st_size);
	if (n < 0) {
		err_sys(e, EX_IOERR, "read error: %s", path);
		free(p);
		close(fd);
		return -1;
	}
	close(fd);
	p[n] = '\0';
	*out = p;
	return 0;
}

/* mime.types(5): "type/subtype ext ext ...", '#' comments, blank lines. Lines whose type is
 * not a valid type are ignored, as mailcap tools do. */
static int
parse(struct mimetypes *t, char *text, struct err *e)
{
	size_t cap = 0;
	char *line, *next, *type, *ext, *save;
	struct mimetypes_ent *v;

	for (line = text; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if ((ext = strchr(line, '#')) != NULL)
			*ext = '\0';
		type = strtok_r(line, " \t\r\f\v", &save);
		if (type == NULL)
			continue;
		lower(type);
		if (!mimetypes_valid(type))
			continue;
		while ((ext = strtok_r(NULL, " \t\r\f\v", &save)) != NULL) {
			lower(ext);
			if (t->n == cap) {
				cap = cap ? cap * 2 : 256;
				v = realloc(t->v, cap * sizeof *v);
				if (v == NULL)
					return err_sys(e, EX_OSERR, "out of memory");
				t->v = v;
			}
			t->v[t->n].ext = ext;
			t->v[t->n].type = type;
			t->n++;
		}
	}
	return 0;
}

int
mimetypes_load(struct mimetypes *t, const char *path, struct err *e)
{
	struct mimetypes_ent *v;
	size_t i, j;

	memset(t, 0, sizeof *t);
	if (path == NULL)
		path = getenv("SECMAIL_MIME_TYPES");
	if (path == NULL)
		path = MIMETYPES_PATH;
	if (*path != '\0') {
		if (slurp(path, &t->store, e) != 0)
			return -1;
		if (t->store != NULL && parse(t, t->store, e) != 0) {
			mimetypes_free(t);
			return -1;
		}
	}
	v = realloc(t->v, (t->n + NBUILTIN) * sizeof *v);
	if (v == NULL) {
		mimetypes_free(t);
		return err_sys(e, EX_OSERR, "out of memory");
	}
	t->v = v;
	/* The file's entries go first and the sort is stable (ties broken by position), so the
	 * de-duplication below keeps the file's first mention of an extension. */
	memcpy(t->v + t->n, builtin, sizeof builtin);
	t->n += NBUILTIN;
	if ((v = malloc(t->n * sizeof *v)) == NULL) {
		mimetypes_free(t);
		return err_sys(e, EX_OSERR, "out of memory");
	}
	msort(t->v, v, t->n);
	free(v);
	for (i = j = 0; i < t->n; i++) {
		if (j > 0 && strcmp(t->v[j - 1].ext, t->v[i].ext) == 0)
			continue;
		t->v[j++] = t->v[i];
	}
	t->n = j;
	return 0;
}

void
mimetypes_free(struct mimetypes *t)
{
	free(t->v);
	free(t->store);
	memset(t, 0, sizeof *t);
}

const char *
mimetypes_lookup(const struct mimetypes *t, const char *filename)
{
	struct mimetypes_ent key, *hit;
	const char *base, *dot;
	char ext[64];
	size_t n;

	base = strrchr(filename, '/');
	base = base ? base + 1 : filename;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base || dot[1] == '\0')
		return NULL;		/* no extension; ".profile" is a name, not an extension */
	n = strlen(dot + 1);
	if (n >= sizeof ext)
		return NULL;
	memcpy(ext, dot + 1, n + 1);
	lower(ext);
	key.ext = ext;
	key.type = NULL;
	hit = bsearch(&key, t->v, t->n, sizeof *t->v, ent_cmp);
	return hit ? hit->type : NULL;
}

void
sniff_init(struct sniff *s)
{
	cte_scan_init(&s->st);
}

void
sniff_update(struct sniff *s, const void *p, size_t n)
{
	cte_scan(&s->st, p, n);
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
