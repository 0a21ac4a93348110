/* unpack.c — safe file names for extracted attachments and creating them without clobbering. */
#include "unpack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "charset.h"

#define EXT_MAX 16	/* an extension longer than this is not kept when cutting */

/* Length of the UTF-8 sequence starting with c (the input is well-formed by now). */
static size_t
u8len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Cut s to at most max octets at a character boundary. */
static size_t
u8cut(const char *s, size_t n, size_t max)
{
	size_t i = 0, k;

	while (i < n) {
		k = u8len((unsigned char)s[i]);
		if (i + k > max)
			break;
		i += k;
	}
	return i;
}

char *
unpack_safe_name(const char *name, const char *fallback, struct err *e)
{
	struct buf b = BUF_INIT;
	char *rep, *nfc;
	const char *s, *dot;
	size_t n, k, len, extlen, stem;

	if ((rep = charset_utf8_repair(name, strlen(name), &n, e)) == NULL)
		return NULL;
	nfc = charset_nfc(rep, n, &n, e);
	free(rep);
	if (nfc == NULL)
		return NULL;
	for (s = nfc; *s; s += k) {
		unsigned char c = (unsigned char)*s;

		k = u8len(c);
		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' ||
		    (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f)) {
			buf_addc(&b, '_');	/* C0, DEL, separators, C1 (U+0080..U+009F) */
			continue;
		}
		buf_add(&b, s, k);
	}
	free(nfc);
	if (buf_check(&b, e) != 0) {
		buf_free(&b);
		return NULL;
	}
	/* No ".", "..", hidden files, or names that differ only by edge white space. */
	s = b.p ? b.p : "";
	while (*s == '.' || *s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == '.' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0) {
		buf_free(&b);
		if ((nfc = strdup(fallback)) == NULL)
			err_sys(e, EX_OSERR, "out of memory");
		return nfc;
	}
	if (len > UNPACK_NAME_MAX) {
		for (dot = NULL, k = 0; k < len; k++)
			if (s[k] == '.')
				dot = s + k;
		extlen = dot ? len - (size_t)(dot - s) : 0;
		if (extlen > EXT_MAX || extlen >= len)
			extlen = 0;
		stem = u8cut(s, len - extlen, UNPACK_NAME_MAX - extlen);
		memmove((char *)s + stem, s + len - extlen, extlen);
		len = stem + extlen;
	}
	if ((nfc = malloc(len + 1)) == NULL) {
		buf_free(&b);
		err_sys(e, EX_OSERR, "out of memory");
		return NULL;
	}
	memcpy(nfc, s, len);
	nfc[len] = '\0';
	buf_free(&b);
	return nfc;
}

int
unpack_link(const char *tmp, const char *dir, const char *name, int force, char *used,
    size_t usedsz, struct err *e)
{
	const char *dot = strrchr(name, '.');
	size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	char path[4096];
	int i, w;

	for (i = 0; i <= UNPACK_UNIQUE_MAX; i++) {
		w = i == 0 ? snprintf(path, sizeof path, "%s/%s", dir, name) :
		    snprintf(path, sizeof path, "%s/%.*s-%d%s", dir, (int)stem, name, i, name + stem);
		if (w < 0 || (size_t)w >= sizeof path)
			return err_set(e, EX_CANTCREAT, "path too long in %s", dir);
		if (force) {
			if (rename(tmp, path) != 0)
				return err_sys(e, EX_CANTCREAT, "cannot create %s", path);
			break;
		}
		/* link(2) fails with EEXIST rather than replace: no race with other writers. */
		if (link(tmp, path) == 0) {
			unlink(tmp);
			break;
		}
		if (errno != EEXIST)
			return err_sys(e, EX_CANTCREAT, "cannot create %s", path);
	}
	if (i > UNPACK_UNIQUE_MAX)
		return err_set(e, EX_CANTCREAT, "cannot create %s/%s: it and %d other names exist",
		    dir, name, UNPACK_UNIQUE_MAX);
	snprintf(used, usedsz, "%s", path);
	return io_fsync_dir(dir, e);
}

int
unpack_commit(struct io_atomic *a, const char *dir, const char *name, int force, char *used,
    size_t usedsz, struct err *e)
{
	if (fsync(a->fd) != 0) {
		err_sys(e, EX_IOERR, "cannot fsync %s", a->tmp);
		io_atomic_abort(a);
		return -1;
	}
	if (close(a->fd) != 0) {
		a->fd = -1;
		err_sys(e, EX_IOERR, "cannot close %s", a->tmp);
		io_atomic_abort(a);
		return -1;
	}
	a->fd = -1;
	if (unpack_link(a->tmp, dir, name, force, used, usedsz, e) != 0) {
		io_atomic_abort(a);
		return -1;
	}
	a->tmp[0] = '\0';
	return 0;
}
