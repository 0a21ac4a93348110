/* io.c — the one place where EINTR, short writes, buffering and durable writes are handled. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t
io_read(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t
io_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = io_read(fd, (char *)buf + got, n - got);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
io_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
io_out_init(struct io_out *o, int fd, const char *name, struct err *e)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->name = name;
	o->cap = IO_BUFSIZE;
	o->buf = malloc(o->cap);
	if (o->buf == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	return 0;
}

static int
out_fail(struct io_out *o)
{
	if (!o->failed) {
		o->failed = 1;
		err_sys(&o->e, EX_IOERR, "write error: %s", o->name);
	}
	return -1;
}

int
io_out_flush(struct io_out *o)
{
	if (o->failed)
		return -1;
	if (o->len > 0 && io_write_all(o->fd, o->buf, o->len) != 0)
		return out_fail(o);
	o->len = 0;
	return 0;
}

int
io_out_write(struct io_out *o, const void *p, size_t n)
{
	if (o->failed)
		return -1;
	if (n >= o->cap) {
		/* Large writes bypass the buffer. */
		if (io_out_flush(o) != 0)
			return -1;
		if (io_write_all(o->fd, p, n) != 0)
			return out_fail(o);
		return 0;
	}
	if (o->len + n > o->cap && io_out_flush(o) != 0)
		return -1;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

int
io_out_puts(struct io_out *o, const char *s)
{
	return io_out_write(o, s, strlen(s));
}

unsigned char *
io_out_reserve(struct io_out *o, size_t n)
{
	if (o->failed || n > o->cap)
		return NULL;
	if (o->len + n > o->cap && io_out_flush(o) != 0)
		return NULL;
	return o->buf + o->len;
}

void
io_out_commit(struct io_out *o, size_t n)
{
	o->len += n;
}

int
io_out_finish(struct io_out *o)
{
	int r = io_out_flush(o);

	free(o->buf);
	o->buf = NULL;
	o->cap = 0;
	return r;
}

void
io_out_free(struct io_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

static int
out_sink_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct io_out *o = ctx;

	if (io_out_write(o, p, n) != 0) {
		*e = o->e;
		return -1;
	}
	return 0;
}

struct sink
io_out_sink(struct io_out *o)
{
	struct sink s = { out_sink_write, o };

	return s;
}

int
io_in_init(struct io_in *in, int fd, const char *name, struct err *e)
{
	memset(in, 0, sizeof *in);
	in->fd = fd;
	in->name = name;
	in->cap = IO_BUFSIZE;
	in->buf = malloc(in->cap);
	if (in->buf == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	return 0;
}

void
io_in_free(struct io_in *in)
{
	free(in->buf);
	in->buf = NULL;
}

ssize_t
io_in_fill(struct io_in *in, size_t want)
{
	ssize_t r;

	if (want > in->cap)
		want = in->cap;
	if (in->len - in->pos >= want || in->eof)
		return (ssize_t)(in->len - in->pos);
	if (in->pos > 0) {
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	while (in->len < want && !in->eof) {
		r = io_read(in->fd, in->buf + in->len, in->cap - in->len);
		if (r < 0)
			return err_sys(&in->e, EX_IOERR, "read error: %s", in->name);
		if (r == 0)
			in->eof = 1;
		in->len += (size_t)r;
	}
	return (ssize_t)(in->len - in->pos);
}

/* Find the next line in the buffer, reading as needed while fewer than `limit` bytes are
 * buffered. *n is the line's length with its "\n" (*complete = 1; also the last line at end
 * of file), or everything buffered when the line is longer than limit (*complete = 0). */
static int
scan_line(struct io_in *in, size_t limit, size_t *n, int *complete)
{
	size_t scanned = 0, avail;
	unsigned char *nl;

	for (;;) {
		avail = in->len - in->pos;
		nl = memchr(in->buf + in->pos + scanned, '\n', avail - scanned);
		if (nl != NULL) {
			*n = (size_t)(nl - (in->buf + in->pos)) + 1;
			*complete = 1;
			return 0;
		}
		scanned = avail;
		if (in->eof || avail >= limit) {
			*n = avail;
			*complete = in->eof;
			return 0;
		}
		if (io_in_fill(in, avail + 1) < 0)
			return -1;
	}
}

static ssize_t
take(struct io_in *in, size_t n, const unsigned char **p)
{
	*p = in->buf + in->pos;
	in->pos += n;
	in->off += n;
	return (ssize_t)n;
}

ssize_t
io_in_line(struct io_in *in, size_t max, const unsigned char **line)
{
	size_t n;
	int complete;

	if (max > in->cap)
		max = in->cap;
	if (scan_line(in, max, &n, &complete) != 0)
		return -1;
	if (!complete || n > max)
		return err_set(&in->e, EX_DATAERR, "%s: line longer than %zu bytes at offset %llu",
		    in->name, max, (unsigned long long)in->off);
	return take(in, n, line);
}

ssize_t
io_in_piece(struct io_in *in, const unsigned char **p, int *complete)
{
	size_t n;

	if (scan_line(in, in->cap, &n, complete) != 0)
		return -1;
	/* Never end a piece between CR and LF: a delimiter line must be seen whole. */
	if (!*complete && n > 1 && in->buf[in->pos + n - 1] == '\r')
		n--;
	return take(in, n, p);
}

size_t
io_in_buffered(const struct io_in *in, const unsigned char **p)
{
	*p = in->buf + in->pos;
	return in->len - in->pos;
}

void
io_in_skip(struct io_in *in, size_t n)
{
	in->pos += n;
	in->off += n;
}

void
io_in_unread(struct io_in *in, size_t n)
{
	in->pos -= n;
	in->off -= n;
}

ssize_t
io_in_read(struct io_in *in, void *p, size_t n)
{
	size_t avail = in->len - in->pos;
	ssize_t r;

	if (avail == 0) {
		if (in->eof)
			return 0;
		/* Large reads go straight to the caller's buffer. */
		if (n >= in->cap) {
			r = io_read(in->fd, p, n);
			if (r < 0)
				return err_sys(&in->e, EX_IOERR, "read error: %s", in->name);
			if (r == 0)
				in->eof = 1;
			in->off += (uint64_t)r;
			return r;
		}
		in->pos = in->len = 0;
		r = io_read(in->fd, in->buf, in->cap);
		if (r < 0)
			return err_sys(&in->e, EX_IOERR, "read error: %s", in->name);
		if (r == 0) {
			in->eof = 1;
			return 0;
		}
		in->len = (size_t)r;
		avail = in->len;
	}
	if (n > avail)
		n = avail;
	memcpy(p, in->buf + in->pos, n);
	in->pos += n;
	in->off += n;
	return (ssize_t)n;
}

int
io_random(void *buf, size_t n, struct err *e)
{
	ssize_t got;

	/* Up to 256 bytes are never cut short once the pool is initialised; before that the
	 * call blocks, and a signal may interrupt it. */
	while ((got = getrandom(buf, n, 0)) < 0 && errno == EINTR)
		;
	if (got < 0)
		return err_sys(e, EX_OSERR, "cannot generate random bytes");
	if ((size_t)got != n)
		return err_set(e, EX_OSERR, "cannot generate random bytes: short read");
	return 0;
}

int
io_spool(struct err *e)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof path, "%s/secmail.XXXXXX", dir) >= sizeof path)
		return err_set(e, EX_CANTCREAT, "temporary directory name too long");
	fd = mkstemp(path);
	if (fd < 0)
		return err_sys(e, EX_CANTCREAT, "cannot create temporary file in %s", dir);
	if (unlink(path) != 0) {
		err_sys(e, EX_CANTCREAT, "cannot unlink temporary file %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

int
io_fsync_dir(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(e, EX_IOERR, "cannot open directory %s", path);
	if (fsync(fd) != 0 && errno != EINVAL) {
		err_sys(e, EX_IOERR, "cannot fsync directory %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
io_atomic_open(struct io_atomic *a, const char *dst, int mode, struct err *e)
{
	char tmp[sizeof a->dst];
	const char *dir;

	a->fd = -1;
	if (snprintf(a->dst, sizeof a->dst, "%s", dst) >= (int)sizeof a->dst)
		return err_set(e, EX_CANTCREAT, "path too long: %s", dst);
	snprintf(tmp, sizeof tmp, "%s", dst);
	dir = dirname(tmp);
	if (snprintf(a->tmp, sizeof a->tmp, "%s/.tmp.XXXXXX", dir) >= (int)sizeof a->tmp)
		return err_set(e, EX_CANTCREAT, "path too long: %s", dst);
	a->fd = mkstemp(a->tmp);
	if (a->fd < 0)
		return err_sys(e, EX_CANTCREAT, "cannot create temporary file in %s", dir);
	if (fchmod(a->fd, (mode_t)mode) != 0) {
		err_sys(e, EX_CANTCREAT, "cannot set mode of %s", a->tmp);
		io_atomic_abort(a);
		return -1;
	}
	return 0;
}

int
io_atomic_sync(struct io_atomic *a, struct err *e)
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
	return 0;
}

static int
fsync_parent(const char *path, struct err *e)
{
	char tmp[4096];

	snprintf(tmp, sizeof tmp, "%s", path);
	return io_fsync_dir(dirname(tmp), e);
}

int
io_atomic_commit(struct io_atomic *a, struct err *e)
{
	if (io_atomic_sync(a, e) != 0)
		return -1;
	if (rename(a->tmp, a->dst) != 0) {
		err_sys(e, EX_IOERR, "cannot rename %s to %s", a->tmp, a->dst);
		io_atomic_abort(a);
		return -1;
	}
	a->tmp[0] = '\0';
	return fsync_parent(a->dst, e);
}

int
io_atomic_commit_noreplace(struct io_atomic *a, struct err *e)
{
	if (io_atomic_sync(a, e) != 0)
		return -1;
	/* link(2) fails with EEXIST rather than replace: no race with other writers. */
	if (link(a->tmp, a->dst) != 0) {
		err_sys(e, errno == EEXIST ? EX_CANTCREAT : EX_IOERR, "cannot create %s", a->dst);
		io_atomic_abort(a);
		return -1;
	}
	unlink(a->tmp);
	a->tmp[0] = '\0';
	return fsync_parent(a->dst, e);
}

void
io_atomic_abort(struct io_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->tmp[0] != '\0')
		unlink(a->tmp);
	a->tmp[0] = '\0';
}

/* mkdir -p with mode 0700 for every directory made. */
static int
mkdirs(const char *path, struct err *e)
{
	char tmp[4096], *s;

	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return err_set(e, EX_CANTCREAT, "path too long: %s", path);
	for (s = tmp + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return err_sys(e, EX_CANTCREAT, "cannot create directory %s", tmp);
			*s = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int
io_dir_private(const char *path, int create, struct err *e)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		if (errno != ENOENT)
			return err_sys(e, EX_CONFIG, "cannot use %s", path);
		if (!create)
			return 1;
		if (mkdirs(path, e) != 0 || stat(path, &st) != 0)
			return e->code ? -1 : err_sys(e, EX_CANTCREAT, "cannot create %s", path);
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(e, EX_CONFIG, "%s is not a directory", path);
	if (st.st_uid != geteuid())
		return err_set(e, EX_CONFIG, "%s belongs to uid %lu, not to you (uid %lu): refusing "
		    "to use it", path, (unsigned long)st.st_uid, (unsigned long)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return err_set(e, EX_CONFIG, "%s is writable by %s: refusing to use it (chmod "
		    "go-w %s)", path, st.st_mode & S_IWOTH ? "others" : "its group", path);
	return 0;
}

int
io_file_private(int fd, const char *name, int secret, struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return err_sys(e, EX_IOERR, "cannot stat %s", name);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return err_set(e, EX_CONFIG, "%s belongs to uid %lu, not to you (uid %lu) or root: "
		    "refusing to use it", name, (unsigned long)st.st_uid, (unsigned long)geteuid());
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH)))
		return err_set(e, EX_CONFIG, "%s is writable by %s: refusing to use it (chmod "
		    "go-w %s)", name, st.st_mode & S_IWOTH ? "others" : "its group", name);
	if (secret && S_ISREG(st.st_mode) && (st.st_mode & S_IROTH))
		return err_set(e, EX_CONFIG, "%s holds a secret and is readable by others: refusing "
		    "to use it (chmod o-rwx %s)", name, name);
	return 0;
}
