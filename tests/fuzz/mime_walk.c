/* mime_walk.c — libFuzzer target: the MIME walker must never crash or exceed its limits, its
 * raw capture of the top-level message must reproduce the input byte for byte (less a
 * leading mbox "From " line that is not an obsolete "From : x" field), each leaf's body_bytes must equal the data delivered, and the
 * same input must give the same walk with a small input buffer (long-line path) unless a
 * line exceeded it, and the walk taking runs of lines must deliver exactly what the
 * line-by-line walk does (same callbacks, same bytes). The walk's flags, MIME_F_CR_DELIMITER
 * among them, must not depend on the buffer size (lines within it) or the way of walking. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

struct st {
	struct buf raw, log, data;	/* data: "[path]" when the part changes, then its bytes */
	uint64_t got;
	int flags;			/* the walk's */
	char last[MIME_PATH_MAX];
};

static int
f_begin(void *ctx, struct mime_part *p, struct err *e)
{
	struct st *s = ctx;

	(void)e;
	if (p->depth == 0)
		p->want_raw = 1;
	if (p->depth > MIME_MAX_DEPTH)
		abort();
	buf_addf(&s->log, "B%s %s/%s;", p->path, p->ct.type, p->ct.subtype);
	s->got = 0;
	return 0;
}

static int
f_data(void *ctx, struct mime_part *p, const void *b, size_t n, struct err *e)
{
	struct st *s = ctx;

	(void)e;
	s->got += n;
	if (strcmp(s->last, p->path) != 0) {
		buf_addf(&s->data, "[%s]", p->path);
		memcpy(s->last, p->path, sizeof s->last);
	}
	buf_add(&s->data, b, n);
	return 0;
}

static int
f_raw(void *ctx, struct mime_part *p, const void *b, size_t n, struct err *e)
{
	struct st *s = ctx;

	(void)p;
	(void)e;
	buf_add(&s->raw, b, n);
	return 0;
}

static int
f_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct st *s = ctx;

	(void)e;
	if (!(p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE)) && p->body_bytes != s->got)
		abort();
	s->got = 0;
	buf_addf(&s->log, "E%s %llu %d;", p->path, (unsigned long long)p->body_bytes, p->flags);
	return 0;
}

static int
walk(const uint8_t *data, size_t size, size_t cap, int lines, struct st *s, struct err *e)
{
	struct mime_walk w;
	struct io_in in;
	int r;

	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size
	    || lseek(memfd, 0, SEEK_SET) != 0)
		abort();
	if (io_in_init(&in, memfd, "fuzz", e) != 0)
		abort();
	if (cap)
		in.cap = cap;
	mime_walk_init(&w);
	w.begin = f_begin;
	w.data = f_data;
	w.raw = f_raw;
	w.end = f_end;
	w.ctx = s;
	w.line_at_a_time = lines;
	r = mime_walk(&w, &in, NULL, e);
	s->flags = w.flags;
	if (w.nparts > MIME_MAX_PARTS)
		abort();
	io_in_free(&in);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st a, b;
	struct err e;
	int ra, rb;

	if (memfd < 0 && (memfd = memfd_create("fuzz", 0)) < 0)
		abort();
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	ra = walk(data, size, 0, 0, &a, &e);
	if (ra == 0) {
		size_t skip = 0;

		if (size >= 5 && memcmp(data, "From ", 5) == 0) {
			const uint8_t *nl = memchr(data, '\n', size);
			size_t i = 4;

			while (i < size && (data[i] == ' ' || data[i] == '\t'))
				i++;
			if (i >= size || data[i] != ':')	/* "From : x" is a field */
				skip = nl ? (size_t)(nl - data) + 1 : size;
		}
		if (a.raw.len != size - skip || (a.raw.len && memcmp(a.raw.p, data + skip, a.raw.len)))
			abort();
	}
	/* A small buffer: same walk when no line is longer than it. */
	{
		size_t longest = 0, cur = 0, i;

		for (i = 0; i < size; i++) {
			cur++;
			if (data[i] == '\n') {
				if (cur > longest)
					longest = cur;
				cur = 0;
			}
		}
		if (cur > longest)
			longest = cur;
		if (longest < 512) {
			rb = walk(data, size, 512, 0, &b, &e);
			if (ra != rb || (ra == 0 && (a.flags != b.flags || a.log.len != b.log.len
			    || memcmp(a.log.p, b.log.p, a.log.len) != 0)))
				abort();
		}
	}
	/* Runs of lines against the line-by-line reference (the pieces differ, the bytes
	 * of each part do not). */
	{
		struct st c;
		struct err e2;
		int rc;

		memset(&c, 0, sizeof c);
		rc = walk(data, size, 0, 1, &c, &e2);
		if (rc != ra || (ra < 0 && strcmp(e.msg, e2.msg) != 0) || (ra == 0 && a.flags != c.flags)
		    || a.log.len != c.log.len || memcmp(a.log.p, c.log.p, a.log.len) != 0
		    || a.raw.len != c.raw.len || memcmp(a.raw.p, c.raw.p, a.raw.len) != 0
		    || a.data.len != c.data.len || memcmp(a.data.p, c.data.p, a.data.len) != 0)
			abort();
		buf_free(&c.raw);
		buf_free(&c.log);
		buf_free(&c.data);
	}
	buf_free(&a.raw);
	buf_free(&a.log);
	buf_free(&a.data);
	buf_free(&b.raw);
	buf_free(&b.log);
	buf_free(&b.data);
	return 0;
}
