/* envmsg.c — base64 bodies, line ends and header rules around lib/envelope. */
#include "envmsg.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mime.h"

#define CHUNK 65536
#define ENVMSG_DBUF (CHUNK + 4096)

/* ---- base64 out, through lib/cte ---- */

int
envmsg_b64out_init(struct envmsg_b64out *x, struct io_out *o, int crlf, struct err *e)
{
	memset(x, 0, sizeof *x);
	x->o = o;
	x->out = io_out_sink(o);
	return cte_enc_init(&x->enc, CTE_BASE64, crlf ? CTE_CRLF : 0, e);
}

static int
b64out_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct envmsg_b64out *x = ctx;

	return cte_enc_write(&x->enc, &x->out, p, n, e);
}

struct sink
envmsg_b64out_sink(struct envmsg_b64out *x)
{
	struct sink s = { b64out_write, x };

	return s;
}

int
envmsg_b64out_final(struct envmsg_b64out *x, struct err *e)
{
	return cte_enc_finish(&x->enc, &x->out, e);
}

void
envmsg_b64out_free(struct envmsg_b64out *x)
{
	cte_enc_free(&x->enc);
}

/* ---- body source: the decoder pushes into dbuf, the reader pulls from it ---- */

static int
dbuf_put(void *ctx, const void *p, size_t n, struct err *e)
{
	struct envmsg_bodysrc *x = ctx;

	if (n > ENVMSG_DBUF - x->dlen)
		return err_set(e, EX_SOFTWARE, "decoded body chunk larger than expected");
	memcpy(x->dbuf + x->dlen, p, n);
	x->dlen += n;
	return 0;
}

int
envmsg_bodysrc_init(struct envmsg_bodysrc *x, struct io_in *in, int b64, struct err *e)
{
	memset(x, 0, sizeof *x);
	x->in = in;
	x->b64 = b64;
	x->limit = UINT64_MAX;
	x->raw = malloc(CHUNK);
	x->dbuf = malloc(ENVMSG_DBUF);
	if (x->raw == NULL || x->dbuf == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	/* strict: a corrupt body is an error, not something to guess around */
	return b64 ? cte_dec_init(&x->dec, CTE_BASE64, CTE_STRICT, e) : 0;
}

static ssize_t
bodysrc_read(void *ctx, void *p, size_t n, struct err *e)
{
	struct envmsg_bodysrc *x = ctx;
	struct sink s = { dbuf_put, x };
	ssize_t r;
	size_t k;

	if (!x->b64) {
		if (n > x->limit)
			n = (size_t)x->limit;
		r = n > 0 ? io_in_read(x->in, p, n) : 0;
		if (r < 0)
			*e = x->in->e;
		if (r > 0)
			x->limit -= (uint64_t)r;
		return r;
	}
	while (x->dpos == x->dlen) {
		if (x->ended)
			return 0;
		x->dpos = x->dlen = 0;
		k = x->limit < CHUNK ? (size_t)x->limit : CHUNK;
		r = k > 0 ? io_in_read(x->in, x->raw, k) : 0;
		if (r < 0) {
			*e = x->in->e;
			return -1;
		}
		x->limit -= (uint64_t)r;
		if (r == 0) {
			x->ended = 1;
			if (cte_dec_finish(&x->dec, &s, e) != 0)
				return err_wrap(e, "bad base64 in the body");
			continue;
		}
		if (cte_dec_write(&x->dec, &s, x->raw, (size_t)r, e) != 0)
			return err_wrap(e, "bad base64 in the body");
	}
	k = x->dlen - x->dpos;
	if (k > n)
		k = n;
	memcpy(p, x->dbuf + x->dpos, k);
	x->dpos += k;
	return (ssize_t)k;
}

struct ber_src
envmsg_bodysrc_src(struct envmsg_bodysrc *x)
{
	struct ber_src s = { bodysrc_read, x };

	return s;
}

void
envmsg_bodysrc_free(struct envmsg_bodysrc *x)
{
	if (x->b64)
		cte_dec_free(&x->dec);
	free(x->raw);
	free(x->dbuf);
	x->raw = NULL;
	x->dbuf = NULL;
}

/* ---- line ends: lib/canon as a sink ---- */

int
envmsg_eol_init(struct envmsg_eol *x, const struct sink *next, int to_crlf, struct err *e)
{
	(void)e;
	memset(x, 0, sizeof *x);
	x->next = next;
	canon_init(&x->c, to_crlf ? CANON_CRLF : CANON_LF);
	return 0;
}

static int
eol_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct envmsg_eol *x = ctx;

	return canon_write(&x->c, x->next, p, n, e);
}

struct sink
envmsg_eol_sink(struct envmsg_eol *x)
{
	struct sink s = { eol_write, x };

	return s;
}

int
envmsg_eol_final(struct envmsg_eol *x, struct err *e)
{
	return canon_finish(&x->c, x->next, e);
}

void
envmsg_eol_free(struct envmsg_eol *x)
{
	(void)x;
}

int
envmsg_is_inner(const char *name)
{
	return strncasecmp(name, "Content-", 8) == 0;
}

/* ---- the encrypting side of a message ---- */

/* Copy the rest of `in` (or the spool fd) into s. */
int
envmsg_copy_in(struct io_in *in, const struct sink *s, struct err *e)
{
	unsigned char buf[65536];
	ssize_t r;

	while ((r = io_in_read(in, buf, sizeof buf)) > 0)
		if (sink_write(s, buf, (size_t)r, e) != 0)
			return -1;
	if (r < 0) {
		*e = in->e;
		return -1;
	}
	return 0;
}

int
envmsg_copy_fd(int fd, const struct sink *s, struct err *e)
{
	unsigned char buf[65536];
	ssize_t r;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind the temporary file");
	while ((r = io_read(fd, buf, sizeof buf)) > 0)
		if (sink_write(s, buf, (size_t)r, e) != 0)
			return -1;
	if (r < 0)
		return err_sys(e, EX_IOERR, "cannot read the temporary file");
	return 0;
}

/* The content entity, canonical (RFC 8551 §3.1.1): its Content-* fields with CRLF, an
 * explicit text/plain when there is no Content-Type (RFC 2045 §5.2), the blank line, and
 * the body with every line end CRLF, from `in`. */
int
envmsg_write_entity(const struct msg_header *h, struct io_in *in, const struct sink *s,
    struct err *e)
{
	struct envmsg_eol eol;
	struct sink c;
	size_t i;
	int rc = -1;

	if (envmsg_eol_init(&eol, s, 1, e) != 0)
		return -1;
	c = envmsg_eol_sink(&eol);
	if (msg_header_get(h, "Content-Type") == NULL
	    && sink_write(&c, "Content-Type: text/plain; charset=us-ascii\r\n", 44, e) != 0)
		goto out;
	for (i = 0; i < h->n; i++)
		if (envmsg_is_inner(h->f[i].name) && sink_write(&c, h->f[i].raw, h->f[i].rawlen, e) != 0)
			goto out;
	if (sink_write(&c, "\r\n", 2, e) != 0 || envmsg_copy_in(in, &c, e) != 0)
		goto out;
	rc = envmsg_eol_final(&eol, e);
out:
	envmsg_eol_free(&eol);
	return rc;
}

/* Outer header: every field but the content ones (and Bcc), then the envelope's own
 * (RFC 8551 §3.3, §3.2.1 for the name). bcc: the one Bcc field to keep, or NULL. */
int
envmsg_outer_header(const struct msg_header *in, int auth, const char *bcc, struct msg_header *out,
    struct err *e)
{
	char ct[128];
	size_t i;

	msg_header_init(out);
	out->crlf = in->crlf;
	out->mbox_from = NULL;
	for (i = 0; i < in->n; i++) {
		const struct msg_field *f = &in->f[i];

		if (envmsg_is_inner(f->name) || strcasecmp(f->name, "Bcc") == 0)
			continue;
		if (msg_header_add(out, f->name, f->value, e) != 0)
			return -1;
		/* keep the raw bytes: outer fields come out as they came */
		free(out->f[out->n - 1].raw);
		if ((out->f[out->n - 1].raw = malloc(f->rawlen)) == NULL)
			return err_sys(e, EX_OSERR, "out of memory");
		memcpy(out->f[out->n - 1].raw, f->raw, f->rawlen);
		out->f[out->n - 1].rawlen = f->rawlen;
	}
	if (bcc != NULL && msg_header_add(out, "Bcc", bcc, e) != 0)
		return -1;
	if (msg_header_get(in, "MIME-Version") == NULL && msg_header_add(out, "MIME-Version",
	    "1.0", e) != 0)
		return -1;
	snprintf(ct, sizeof ct, "application/pkcs7-mime; smime-type=%s; name=smime.p7m",
	    auth ? "authEnveloped-data" : "enveloped-data");
	if (msg_header_add(out, "Content-Type", ct, e) != 0
	    || msg_header_add(out, "Content-Transfer-Encoding", "base64", e) != 0
	    || msg_header_add(out, "Content-Disposition", "attachment; filename=smime.p7m", e) != 0)
		return -1;
	return 0;
}

/* ---- the decrypting side: an enveloped part one level down ---- */

/* Copy n bytes at offset off of fd to o. */
int
envmsg_copy_range(int fd, uint64_t off, uint64_t n, struct io_out *o, struct err *e)
{
	unsigned char buf[65536];
	ssize_t r;

	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		return err_sys(e, EX_IOERR, "cannot seek in the temporary file");
	while (n > 0) {
		r = io_read(fd, buf, n < sizeof buf ? (size_t)n : sizeof buf);
		if (r <= 0)
			return err_sys(e, EX_IOERR, "cannot read the temporary file");
		if (io_out_write(o, buf, (size_t)r) != 0) {
			*e = o->e;
			return -1;
		}
		n -= (uint64_t)r;
	}
	return 0;
}


static int
is_enveloped(const struct mime_part *p)
{
	const char *st = mime_type_param(&p->ct, "smime-type");

	if (!mime_type_is(&p->ct, "application", "pkcs7-mime")
	    && !mime_type_is(&p->ct, "application", "x-pkcs7-mime"))
		return 0;
	return st == NULL || strcasecmp(st, "enveloped-data") == 0
	    || strcasecmp(st, "authEnveloped-data") == 0;
}

static int
find_begin(void *ctx, struct mime_part *p, struct err *e)
{
	struct envmsg_part *f = ctx;

	(void)e;
	p->no_data = 1;
	if (p->depth == 1 && !f->ok && is_enveloped(p)) {
		f->offset = p->offset;
		f->body_offset = p->body_offset;
		f->cte = p->cte;
	}
	return 0;
}

static int
find_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct envmsg_part *f = ctx;

	(void)e;
	if (p->depth == 1 && !f->ok && is_enveloped(p)) {
		f->body_end = p->body_offset + p->body_bytes;
		f->ok = 1;
		return MIME_STOP;
	}
	return 0;
}

int
envmsg_find_enveloped(struct io_in *in, const struct msg_header *h, int *spool,
    struct envmsg_part *f, struct err *e)
{
	struct io_out so;
	struct sink ss;
	struct mime_walk w;
	struct io_in si;
	unsigned char buf[65536];
	ssize_t r;
	int fd;

	if ((fd = io_spool(e)) < 0 || io_out_init(&so, fd, "temporary file", e) != 0)
		return -1;
	ss = io_out_sink(&so);
	if (msg_header_write(&so, h) != 0 || io_out_puts(&so, h->crlf ? "\r\n" : "\n") != 0) {
		*e = so.e;
		return -1;
	}
	while ((r = io_in_read(in, buf, sizeof buf)) > 0)
		if (sink_write(&ss, buf, (size_t)r, e) != 0)
			return -1;
	if (r < 0) {
		*e = in->e;
		return -1;
	}
	if (io_out_finish(&so) != 0) {
		*e = so.e;
		return -1;
	}
	*spool = fd;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind the temporary file");
	memset(f, 0, sizeof *f);
	mime_walk_init(&w);
	w.begin = find_begin;
	w.end = find_end;
	w.ctx = f;
	if (io_in_init(&si, fd, "temporary file", e) != 0)
		return -1;
	r = mime_walk(&w, &si, NULL, e);
	io_in_free(&si);
	if (r < 0)
		return -1;
	if (!f->ok)
		return err_set(e, EX_DATAERR, "not an S/MIME encrypted message (no enveloped-data "
		    "part at the top level or one level down)");
	return 0;
}
