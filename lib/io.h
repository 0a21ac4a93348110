/* io.h — streaming I/O over file descriptors: EINTR, short writes, buffering, spooling and
 * atomic replacement, all in one place. */
#ifndef SECMAIL_IO_H
#define SECMAIL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define IO_BUFSIZE (256 * 1024)

/* read(2) retried on EINTR. */
ssize_t io_read(int fd, void *buf, size_t n);
/* Read until n bytes or end of file; returns the count, or -1. */
ssize_t io_read_full(int fd, void *buf, size_t n);
/* Write all n bytes, retrying on EINTR and short writes; 0 or -1 with errno set. */
int io_write_all(int fd, const void *buf, size_t n);

/* A byte sink: where a streaming transformer (transfer codec, canonicaliser) sends output,
 * so one transformer can feed a file, a digest or an OpenSSL BIO alike. */
struct sink {
	int (*write)(void *ctx, const void *p, size_t n, struct err *e);
	void *ctx;
};

static inline int
sink_write(const struct sink *s, const void *p, size_t n, struct err *e)
{
	return s->write(s->ctx, p, n, e);
}

/* Buffered output. Any failure is sticky: later writes fail at once and the first error
 * stays in `e`. */
struct io_out {
	int fd;
	const char *name;	/* for messages: "standard output", a path */
	unsigned char *buf;
	size_t len, cap;
	int failed;
	struct err e;
};

int io_out_init(struct io_out *o, int fd, const char *name, struct err *e);
int io_out_write(struct io_out *o, const void *p, size_t n);
int io_out_puts(struct io_out *o, const char *s);
int io_out_flush(struct io_out *o);
/* Flush and release the buffer (the fd stays open). */
int io_out_finish(struct io_out *o);
void io_out_free(struct io_out *o);
/* Reserve room for n bytes directly in the buffer (flushing first if needed). n <= cap. */
unsigned char *io_out_reserve(struct io_out *o, size_t n);
void io_out_commit(struct io_out *o, size_t n);

/* A sink that writes to o (errors copied into the caller's err). */
struct sink io_out_sink(struct io_out *o);

/* Buffered input with line access. */
struct io_in {
	int fd;
	const char *name;
	unsigned char *buf;
	size_t pos, len, cap;
	int eof;
	uint64_t off;		/* offset of buf[pos] in the stream */
	struct err e;
};

int io_in_init(struct io_in *in, int fd, const char *name, struct err *e);
void io_in_free(struct io_in *in);
/* Make at least `want` bytes available (fewer at end of file); returns the count or -1. */
ssize_t io_in_fill(struct io_in *in, size_t want);
/* Next line including its "\n" (the last one may lack it). *line points into the buffer and
 * stays valid until the next call. Returns the length, 0 at end of file, -1 on error (a line
 * longer than `max` is an error: EX_DATAERR). */
ssize_t io_in_line(struct io_in *in, size_t max, const unsigned char **line);
/* The next line including its "\n" when it fits the buffer (*complete = 1; also the last
 * line at end of file), else a buffer's worth of it that never ends between CR and LF
 * (*complete = 0), for streaming lines of any length. Returns the length, 0 at end of file,
 * -1 on error (in->e). */
ssize_t io_in_piece(struct io_in *in, const unsigned char **p, int *complete);
/* What is buffered now, without reading: a pointer to it in *p and its length (0 when
 * empty); valid until the next call on in. io_in_skip consumes n <= that many bytes. For
 * scanners that take many lines at once. */
size_t io_in_buffered(const struct io_in *in, const unsigned char **p);
void io_in_skip(struct io_in *in, size_t n);
/* Give back the last n bytes returned by io_in_line or io_in_read (only before any other
 * call on in). */
void io_in_unread(struct io_in *in, size_t n);
/* Up to n bytes; returns the count, 0 at end of file, -1 on error. */
ssize_t io_in_read(struct io_in *in, void *p, size_t n);

/* n <= 256 random bytes from the kernel's CSPRNG (getrandom(2)), for boundaries and ids:
 * no OpenSSL, so tools that need no cryptography do not load or initialise libcrypto.
 * 0, or -1 with e set (EX_OSERR). */
int io_random(void *buf, size_t n, struct err *e);

/* A private temporary file for spooling, already unlinked: nothing stays on disk after exit. */
int io_spool(struct err *e);

/* Atomic file creation: write to a temp file in the destination's directory, then
 * fsync + rename + fsync(dir). Abort removes the temp file. */
struct io_atomic {
	int fd;
	char tmp[4096];
	char dst[4096];
};
int io_atomic_open(struct io_atomic *a, const char *dst, int mode, struct err *e);
int io_atomic_commit(struct io_atomic *a, struct err *e);
/* As io_atomic_commit, but never replaces an existing file (EX_CANTCREAT if dst exists). */
int io_atomic_commit_noreplace(struct io_atomic *a, struct err *e);
/* The first half of a commit, for callers that choose the final name themselves: fsync and
 * close the temp file (a->tmp stays; abort on failure). */
int io_atomic_sync(struct io_atomic *a, struct err *e);
void io_atomic_abort(struct io_atomic *a);
int io_fsync_dir(const char *path, struct err *e);

/*
 * Ownership rules for what secmail keeps on disk (queues, certificate stores) and the secrets
 * it reads, in the manner of OpenSSH's StrictModes: what someone else could change is never
 * trusted.
 *
 * io_dir_private: path must be a directory owned by the effective user and not writable by
 * group or others. When it is missing and create is set, it is created mode 0700 with any
 * missing parents (also 0700). Returns 0; 1 when it is missing and create is not set; -1
 * with e set (EX_CONFIG for a directory that breaks the rules, EX_CANTCREAT when it cannot
 * be made).
 */
int io_dir_private(const char *path, int create, struct err *e);
/*
 * The open file fd (named name) must be owned by the effective user or by root and not
 * writable by group or others; with secret set (keys, passwords) it must not be readable by
 * others either (group-readable is allowed, for service groups such as ssl-cert). 0, or -1
 * with e set (EX_CONFIG, the message saying what to change).
 */
int io_file_private(int fd, const char *name, int secret, struct err *e);

#endif
