/* maildir.c — a message copy delivered into a Maildir (see maildir.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "io.h"
#include "maildir.h"

int
maildir_prepare(struct maildir_copy *m, const char *dir, int fd, struct err *e)
{
	static const char *subs[] = { "tmp", "new", "cur" };
	char p[4096], host[128], name[400];
	unsigned char r[8], *buf = NULL;
	off_t start = lseek(fd, 0, SEEK_CUR);
	struct timespec ts;
	ssize_t n;
	size_t i;
	int out = -1;

	memset(m, 0, sizeof *m);
	if (start < 0)
		return err_sys(e, EX_IOERR, "cannot seek the message");
	if (io_dir_private(dir, 1, e) != 0)
		return err_wrap(e, "sent-mail folder");
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, subs[i]);
		if (io_dir_private(p, 1, e) != 0)
			return err_wrap(e, "sent-mail folder");
	}
	/* The maildir naming convention: time, a unique part, the host ('/' and ':' escaped). */
	if (RAND_bytes(r, sizeof r) != 1)
		memset(r, 0, sizeof r);
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (i = 0; host[i]; i++)
		if (host[i] == '/' || host[i] == ':')
			host[i] = '_';
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof name, "%lld.M%ldP%ldR%02x%02x%02x%02x%02x%02x%02x%02x.%s",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(), r[0], r[1], r[2], r[3], r[4],
	    r[5], r[6], r[7], host);
	if ((size_t)snprintf(m->tmp, sizeof m->tmp, "%s/tmp/%s", dir, name) >= sizeof m->tmp ||
	    (size_t)snprintf(m->dst, sizeof m->dst, "%s/cur/%s:2,S", dir, name) >= sizeof m->dst)
		return err_set(e, EX_CANTCREAT, "sent-mail folder path too long: %s", dir);
	if ((out = open(m->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return err_sys(e, EX_CANTCREAT, "cannot create %s", m->tmp);
	if ((buf = malloc(IO_BUFSIZE)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		goto fail;
	}
	while ((n = io_read(fd, buf, IO_BUFSIZE)) > 0)
		if (io_write_all(out, buf, (size_t)n) != 0) {
			err_sys(e, EX_IOERR, "cannot write %s", m->tmp);
			goto fail;
		}
	if (n < 0) {
		err_sys(e, EX_IOERR, "cannot read the message");
		goto fail;
	}
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		err_sys(e, EX_IOERR, "cannot write %s", m->tmp);
		goto fail;
	}
	out = -1;
	free(buf);
	if (lseek(fd, start, SEEK_SET) < 0) {
		unlink(m->tmp);
		return err_sys(e, EX_IOERR, "cannot seek the message");
	}
	m->ready = 1;
	return 0;
fail:
	free(buf);
	if (out >= 0)
		close(out);
	unlink(m->tmp);
	return -1;
}

int
maildir_commit(struct maildir_copy *m, struct err *e)
{
	if (!m->ready)
		return 0;
	m->ready = 0;
	if (rename(m->tmp, m->dst) != 0) {
		err_sys(e, EX_IOERR, "cannot move %s to %s", m->tmp, m->dst);
		unlink(m->tmp);
		return -1;
	}
	{
		char d[4096];

		snprintf(d, sizeof d, "%.*s", (int)(strrchr(m->dst, '/') - m->dst), m->dst);
		return io_fsync_dir(d, e) == 0 ? 0 : -1;
	}
}

void
maildir_abort(struct maildir_copy *m)
{
	if (m->ready)
		unlink(m->tmp);
	m->ready = 0;
}

/* ---- names (the batch mode's marks; see maildir.h) ---- */

size_t
maildir_base_len(const char *name)
{
	const char *c = strchr(name, ':');

	return c != NULL ? (size_t)(c - name) : strlen(name);
}

int
maildir_has_mark(const char *name, const char *what)
{
	size_t blen = maildir_base_len(name), wl = strlen(what);
	const char *p = memchr(name, ',', blen), *end = name + blen, *f, *q;

	for (; p != NULL; p = q) {
		f = p + 1;
		q = memchr(f, ',', (size_t)(end - f));
		if ((size_t)((q != NULL ? q : end) - f) == 8 + wl && memcmp(f, "secmail=", 8) == 0
		    && memcmp(f + 8, what, wl) == 0)
			return 1;
	}
	return 0;
}

int
maildir_mark_name(const char *name, const char *what, char *out, size_t n)
{
	size_t blen = maildir_base_len(name), len = 0, fl;
	const char *end = name + blen, *p, *q;
	char tmp[4096];

	p = memchr(name, ',', blen);
	q = p != NULL ? p : end;
	len = (size_t)snprintf(tmp, sizeof tmp, "%.*s", (int)(q - name), name);
	for (; p != NULL && len < sizeof tmp; p = q) {
		q = memchr(p + 1, ',', (size_t)(end - p - 1));
		fl = (size_t)((q != NULL ? q : end) - p);
		if (fl >= 3 && (p[1] == 'S' || p[1] == 'W') && p[2] == '=')
			continue;
		len += (size_t)snprintf(tmp + len, sizeof tmp - len, "%.*s", (int)fl, p);
	}
	if (len < sizeof tmp)
		len += (size_t)snprintf(tmp + len, sizeof tmp - len, ",secmail=%s%s", what, end);
	if (len >= sizeof tmp || len > NAME_MAX || len >= n)
		return -1;
	memcpy(out, tmp, len + 1);
	return 0;
}

int
maildir_flagged_away(const char *name)
{
	const char *c = strchr(name, ':');

	return c != NULL && strncmp(c, ":2,", 3) == 0 && strpbrk(c + 3, "TD") != NULL;
}
