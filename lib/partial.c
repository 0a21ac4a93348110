/* partial.c — message/partial (RFC 2046 §5.2.2): cutting a message into fragments that fit a
 * size limit, and putting fragments back together. */
#include "pack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "msg.h"
#include "param.h"

#define CHUNK (256 * 1024)
#define MAX_FRAGMENTS 100000

/* RFC 2046 §5.2.2.1: these fields of the enclosed message replace the enclosing message's. */
static int
inner_field(const char *name)
{
	return strncasecmp(name, "Content-", 8) == 0 || strcasecmp(name, "Subject") == 0 ||
	    strcasecmp(name, "Message-ID") == 0 || strcasecmp(name, "Encrypted") == 0 ||
	    strcasecmp(name, "MIME-Version") == 0;
}

static int
write_fd(int fd, const void *p, size_t n, const char *name, struct err *e)
{
	if (io_write_all(fd, p, n) != 0)
		return err_sys(e, EX_IOERR, "write error: %s", name);
	return 0;
}

/* A fragment id that will not repeat: 128 random bits, hex. */
static int
fragment_id(char *id, size_t n, struct err *e)
{
	unsigned char r[16];
	size_t i;

	if (n < 2 * sizeof r + 1)
		return err_set(e, EX_SOFTWARE, "id buffer too small");
	if (io_random(r, sizeof r, e) != 0)
		return err_wrap(e, "cannot make a random fragment id");
	for (i = 0; i < sizeof r; i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* The header of fragment `number` (RFC 2046 §5.2.2): the enclosing fields of the original,
 * then MIME-Version and the message/partial Content-Type. */
static char *
fragment_header(const struct msg_header *h, const char *id, unsigned number, unsigned total,
    const char *eol, struct err *e)
{
	struct buf b = BUF_INIT, v = BUF_INIT;
	char num[16], *f;
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (inner_field(h->f[i].name) && strcasecmp(h->f[i].name, "Subject") != 0)
			continue;
		buf_add(&b, h->f[i].raw, h->f[i].rawlen);
	}
	buf_adds(&b, "MIME-Version: 1.0");
	buf_adds(&b, eol);
	buf_adds(&v, "message/partial");
	snprintf(num, sizeof num, "%u", number);
	if (mime_param_append(&v, "id", id, e) != 0 || mime_param_append(&v, "number", num, e) != 0)
		goto fail;
	/* RFC 2046 §5.2.2: total is required on the last fragment and optional elsewhere; it
	 * goes on the last only, as munpack (mpack) needs to reassemble. */
	snprintf(num, sizeof num, "%u", total);
	if (number == total && mime_param_append(&v, "total", num, e) != 0)
		goto fail;
	if (buf_check(&v, e) != 0)
		goto fail;
	if ((f = msg_fold("Content-Type", v.p, eol, e)) == NULL)
		goto fail;
	buf_adds(&b, f);	/* folded, line end included */
	free(f);
	buf_free(&v);
	return buf_take(&b, e);
fail:
	buf_free(&b);
	buf_free(&v);
	return NULL;
}

/* Cut offsets: fragment i holds payload bytes [cut[i], cut[i+1]). */
struct cuts {
	uint64_t *v;
	size_t n, cap;
};

static int
cuts_add(struct cuts *c, uint64_t off, struct err *e)
{
	uint64_t *v;

	if (c->n == MAX_FRAGMENTS + 1)
		return err_set(e, EX_DATAERR, "more than %d fragments: choose a larger size",
		    MAX_FRAGMENTS);
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		if ((v = realloc(c->v, c->cap * sizeof *v)) == NULL)
			return err_sys(e, EX_OSERR, "out of memory");
		c->v = v;
	}
	c->v[c->n++] = off;
	return 0;
}

/*
 * Copy the payload (the inner header, a blank line, the body) to a spool, choosing cut points
 * at line ends so that no piece exceeds room octets. Lines are at most 998 octets in what
 * mime-pack writes, so a cut at a line end always exists when room exceeds that.
 */
static int
build_payload(struct io_in *in, const struct msg_header *h, const char *eol, uint64_t room,
    int sp, struct cuts *c, struct err *e)
{
	unsigned char *chunk = malloc(CHUNK);
	uint64_t off = 0, start = 0, lastnl = 0;
	size_t i, k;
	ssize_t n;
	int r = -1;

	if (chunk == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	if (cuts_add(c, 0, e) != 0)
		goto out;
	/* Feed bytes through one loop so header and body are cut alike. */
#define FEED(ptr, len) do { \
		const unsigned char *q_ = (ptr); size_t l_ = (len); \
		if (write_fd(sp, q_, l_, "spool file", e) != 0) goto out; \
		for (k = 0; k < l_; k++) { \
			off++; \
			if (off - start > room) { \
				if (lastnl == start) { \
					err_set(e, EX_DATAERR, "a line is longer than a fragment can hold"); \
					goto out; \
				} \
				if (cuts_add(c, lastnl, e) != 0) goto out; \
				start = lastnl; \
			} \
			if (q_[k] == '\n') lastnl = off; \
		} \
	} while (0)
	for (i = 0; i < h->n; i++)
		if (inner_field(h->f[i].name))
			FEED((const unsigned char *)h->f[i].raw, h->f[i].rawlen);
	FEED((const unsigned char *)eol, strlen(eol));
	/* The enclosed header must be whole in the first fragment (RFC 2046 §5.2.2.1 takes
	 * it from there). */
	if (c->n > 1) {
		err_set(e, EX_DATAERR, "the header does not fit in one fragment: choose a larger size");
		goto out;
	}
	while ((n = io_in_read(in, chunk, CHUNK)) > 0)
		FEED(chunk, (size_t)n);
#undef FEED
	if (n < 0) {
		*e = in->e;
		goto out;
	}
	if (off > start && cuts_add(c, off, e) != 0)
		goto out;
	if (c->n == 1 && cuts_add(c, off, e) != 0)	/* an empty payload: one empty fragment */
		goto out;
	r = 0;
out:
	free(chunk);
	return r;
}

static int
write_fragment(const char *dir, unsigned i, unsigned total, const char *hdr, const char *eol,
    int sp, uint64_t from, uint64_t to, unsigned char *chunk, struct err *e)
{
	struct io_atomic a;
	char path[4096];
	uint64_t left = to - from;
	ssize_t n;

	if ((size_t)snprintf(path, sizeof path, "%s/part-%03u.eml", dir, i) >= sizeof path)
		return err_set(e, EX_CANTCREAT, "path too long: %s", dir);
	(void)total;
	if (access(path, F_OK) == 0)
		return err_set(e, EX_CANTCREAT, "cannot create %s: it exists", path);
	if (io_atomic_open(&a, path, 0644, e) != 0)
		return -1;
	if (write_fd(a.fd, hdr, strlen(hdr), path, e) != 0 ||
	    write_fd(a.fd, eol, strlen(eol), path, e) != 0)
		goto fail;
	if (lseek(sp, (off_t)from, SEEK_SET) < 0) {
		err_sys(e, EX_IOERR, "cannot seek in spool file");
		goto fail;
	}
	while (left > 0) {
		n = io_read(sp, chunk, left < CHUNK ? (size_t)left : CHUNK);
		if (n <= 0) {
			err_sys(e, EX_IOERR, "read error: spool file");
			goto fail;
		}
		if (write_fd(a.fd, chunk, (size_t)n, path, e) != 0)
			goto fail;
		left -= (uint64_t)n;
	}
	return io_atomic_commit_noreplace(&a, e);
fail:
	io_atomic_abort(&a);
	return -1;
}

int
pack_split(int fd, const char *dir, uint64_t size, int crlf, unsigned *nparts, struct err *e)
{
	const char *eol = crlf ? "\r\n" : "\n";
	struct msg_header h;
	struct cuts c = { NULL, 0, 0 };
	struct io_in in;
	unsigned char *chunk = NULL;
	char id[40], *hdr = NULL;
	size_t hmax, i;
	int sp = -1, r = -1;

	msg_header_init(&h);
	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind the spool file");
	if (io_in_init(&in, fd, "spool file", e) != 0)
		return -1;
	if (msg_header_read(&in, &h, e) != 0 || fragment_id(id, sizeof id, e) != 0)
		goto out;
	/* The largest fragment header: the numbers at their widest. */
	if ((hdr = fragment_header(&h, id, MAX_FRAGMENTS, MAX_FRAGMENTS, eol, e)) == NULL)
		goto out;
	hmax = strlen(hdr) + strlen(eol);
	free(hdr);
	hdr = NULL;
	if (hmax + 1024 > size) {
		err_set(e, EX_DATAERR, "the header (%zu octets) leaves no room in fragments of %llu",
		    hmax, (unsigned long long)size);
		goto out;
	}
	if ((sp = io_spool(e)) < 0)
		goto out;
	if (build_payload(&in, &h, eol, size - hmax, sp, &c, e) != 0)
		goto out;
	if ((chunk = malloc(CHUNK)) == NULL) {
		err_sys(e, EX_OSERR, "out of memory");
		goto out;
	}
	for (i = 0; i + 1 < c.n; i++) {
		hdr = fragment_header(&h, id, (unsigned)i + 1, (unsigned)c.n - 1, eol, e);
		if (hdr == NULL || write_fragment(dir, (unsigned)i + 1, (unsigned)c.n - 1, hdr, eol, sp,
		    c.v[i], c.v[i + 1], chunk, e) != 0)
			goto out;
		free(hdr);
		hdr = NULL;
	}
	*nparts = (unsigned)c.n - 1;
	r = 0;
out:
	free(hdr);
	free(chunk);
	free(c.v);
	if (sp >= 0)
		close(sp);
	msg_header_free(&h);
	io_in_free(&in);
	return r;
}

/* ---- joining ---- */

struct frag {
	const char *path;
	unsigned long number;
};

static int
frag_cmp(const void *a, const void *b)
{
	const struct frag *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

/* Parse a fragment's Content-Type: id, number and (when present) total. */
static int
read_fragment_params(const char *path, char **id, unsigned long *number, unsigned long *total,
    struct err *e)
{
	struct msg_header h;
	struct mime_type t;
	struct io_in in;
	const struct msg_field *f;
	const char *v;
	char *end;
	int fd, r = -1;

	*id = NULL;
	*total = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_sys(e, EX_NOINPUT, "cannot open %s", path);
	msg_header_init(&h);
	memset(&t, 0, sizeof t);
	if (io_in_init(&in, fd, path, e) != 0) {
		close(fd);
		return -1;
	}
	if (msg_header_read(&in, &h, e) != 0)
		goto out;
	f = msg_header_get(&h, "Content-Type");
	if (f == NULL || mime_type_parse(f->value, 0, &t, e) != 0 ||
	    !mime_type_is(&t, "message", "partial")) {
		err_set(e, EX_DATAERR, "%s: not a message/partial fragment", path);
		goto out;
	}
	v = mime_type_param(&t, "number");
	if (v == NULL || (*number = strtoul(v, &end, 10)) == 0 || *end != '\0' ||
	    *number > MAX_FRAGMENTS) {
		err_set(e, EX_DATAERR, "%s: message/partial without a valid number", path);
		goto out;
	}
	if ((v = mime_type_param(&t, "total")) != NULL &&
	    ((*total = strtoul(v, &end, 10)) == 0 || *end != '\0' || *total > MAX_FRAGMENTS)) {
		err_set(e, EX_DATAERR, "%s: message/partial with an invalid total", path);
		goto out;
	}
	if ((v = mime_type_param(&t, "id")) == NULL || (*id = strdup(v)) == NULL) {
		err_set(e, EX_DATAERR, "%s: message/partial without an id", path);
		goto out;
	}
	r = 0;
out:
	mime_type_free(&t);
	msg_header_free(&h);
	io_in_free(&in);
	close(fd);
	return r;
}

static int
out_fields(struct io_out *out, const struct msg_header *h, int inner)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (inner_field(h->f[i].name) == inner &&
		    io_out_write(out, h->f[i].raw, h->f[i].rawlen) != 0)
			return -1;
	return 0;
}

/* Copy one fragment's body (after its header; for the first, after the enclosed header too,
 * whose fields are merged per RFC 2046 §5.2.2.1) to out. */
static int
copy_fragment(const char *path, int first, struct io_out *out, struct err *e)
{
	struct msg_header h, inner;
	struct io_in in;
	unsigned char *chunk = NULL;
	ssize_t n;
	int fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_sys(e, EX_NOINPUT, "cannot open %s", path);
	msg_header_init(&h);
	msg_header_init(&inner);
	if (io_in_init(&in, fd, path, e) != 0) {
		close(fd);
		return -1;
	}
	if (msg_header_read(&in, &h, e) != 0)
		goto out;
	if (first) {
		if (msg_header_read(&in, &inner, e) != 0)
			goto out;
		if (out_fields(out, &h, 0) != 0 || out_fields(out, &inner, 1) != 0 ||
		    io_out_puts(out, h.crlf ? "\r\n" : "\n") != 0)
			goto outerr;
	}
	if ((chunk = malloc(CHUNK)) == NULL) {
		err_sys(e, EX_OSERR, "out of memory");
		goto out;
	}
	while ((n = io_in_read(&in, chunk, CHUNK)) > 0)
		if (io_out_write(out, chunk, (size_t)n) != 0)
			goto outerr;
	if (n < 0) {
		*e = in.e;
		goto out;
	}
	r = 0;
	goto out;
outerr:
	*e = out->e;
out:
	free(chunk);
	msg_header_free(&h);
	msg_header_free(&inner);
	io_in_free(&in);
	close(fd);
	return r;
}

int
pack_join(char *const *files, size_t nfiles, struct io_out *out, struct err *e)
{
	struct frag *v;
	char *id0 = NULL, *id;
	unsigned long total = 0, t;
	size_t i;
	int r = -1;

	if (nfiles == 0)
		return err_set(e, EX_USAGE, "no fragments to join");
	if (nfiles > MAX_FRAGMENTS)
		return err_set(e, EX_DATAERR, "more than %d fragments", MAX_FRAGMENTS);
	if ((v = calloc(nfiles, sizeof *v)) == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	for (i = 0; i < nfiles; i++) {
		v[i].path = files[i];
		if (read_fragment_params(files[i], &id, &v[i].number, &t, e) != 0)
			goto out;
		if (id0 == NULL)
			id0 = id;
		else {
			int same = strcmp(id, id0) == 0;

			free(id);
			if (!same) {
				err_set(e, EX_DATAERR, "%s: belongs to another message (id differs)",
				    files[i]);
				goto out;
			}
		}
		if (t != 0) {
			if (total != 0 && t != total) {
				err_set(e, EX_DATAERR, "%s: total %lu differs from %lu", files[i], t, total);
				goto out;
			}
			total = t;
		}
	}
	qsort(v, nfiles, sizeof *v, frag_cmp);
	if (total == 0) {
		err_set(e, EX_DATAERR, "no fragment gives the total (the last one must)");
		goto out;
	}
	for (i = 0; i < nfiles; i++)
		if (v[i].number != i + 1) {
			if (i > 0 && v[i].number == v[i - 1].number)
				err_set(e, EX_DATAERR, "fragment %lu given twice (%s, %s)", v[i].number,
				    v[i - 1].path, v[i].path);
			else
				err_set(e, EX_DATAERR, "fragment %zu of %lu is missing", i + 1, total);
			goto out;
		}
	if (nfiles != total) {
		err_set(e, EX_DATAERR, "fragment %zu of %lu is missing", nfiles + 1, total);
		goto out;
	}
	for (i = 0; i < nfiles; i++)
		if (copy_fragment(v[i].path, i == 0, out, e) != 0)
			goto out;
	r = 0;
out:
	free(id0);
	free(v);
	return r;
}
