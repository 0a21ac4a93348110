/* envmsg.c — base64 bodies, line ends and header rules around lib/envelope. */
#include "envmsg.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ar.h"
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
	x->tee = -1;
	x->raw = malloc(CHUNK);
	x->dbuf = malloc(ENVMSG_DBUF);
	if (x->raw == NULL || x->dbuf == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	/* strict: a corrupt body is an error, not something to guess around */
	return b64 ? cte_dec_init(&x->dec, CTE_BASE64, CTE_STRICT, e) : 0;
}

static int
tee(struct envmsg_bodysrc *x, const void *p, ssize_t r, struct err *e)
{
	if (x->tee >= 0 && r > 0 && io_write_all(x->tee, p, (size_t)r) != 0)
		return err_sys(e, EX_IOERR, "cannot write the temporary file");
	return 0;
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
		if (tee(x, p, r, e) != 0)
			return -1;
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
		if (tee(x, x->raw, r, e) != 0)
			return -1;
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

int
envmsg_write_payload(const struct msg_header *ph, struct io_in *in, const struct sink *s,
    struct err *e)
{
	struct envmsg_eol eol;
	struct sink c;
	size_t i;
	int rc = -1;

	if (envmsg_eol_init(&eol, s, 1, e) != 0)
		return -1;
	c = envmsg_eol_sink(&eol);
	for (i = 0; i < ph->n; i++)
		if (sink_write(&c, ph->f[i].raw, ph->f[i].rawlen, e) != 0)
			goto out;
	if (sink_write(&c, "\r\n", 2, e) != 0 || envmsg_copy_in(in, &c, e) != 0)
		goto out;
	rc = envmsg_eol_final(&eol, e);
out:
	envmsg_eol_free(&eol);
	return rc;
}

#define PEEK_HP (64 * 1024)

/* The next line of p[0..n) from *pos, without its line end; NULL at the end. */
static const char *
next_line(const unsigned char *p, size_t n, size_t *pos, size_t *len)
{
	const unsigned char *nl;
	size_t start = *pos;

	if (start >= n)
		return NULL;
	nl = memchr(p + start, '\n', n - start);
	if (nl == NULL)
		return NULL;	/* a partial line: not looked at */
	*pos = (size_t)(nl - p) + 1;
	*len = (size_t)(nl - p) - start;
	if (*len > 0 && p[start + *len - 1] == '\r')
		(*len)--;
	return (const char *)p + start;
}

/* Judge one unfolded field of the first part's header. */
static void
peek_field(struct buf *f, int *hp, int *subject)
{
	struct mime_type ct;
	struct err e;
	const char *v;

	if (f->len == 0 || buf_check(f, &e) != 0)
		return;
	if (strncasecmp(f->p, "Subject:", 8) == 0)
		*subject = 1;
	if (strncasecmp(f->p, "Content-Type:", 13) == 0
	    && mime_type_parse(f->p + 13, 0, &ct, &e) == 0) {
		v = mime_type_param(&ct, "hp");
		*hp = v != NULL && (strcasecmp(v, "clear") == 0 || strcasecmp(v, "cipher") == 0);
		mime_type_free(&ct);
	}
}

int
envmsg_signed_hp(const struct msg_header *h, struct io_in *in)
{
	const struct msg_field *f = msg_header_get(h, "Content-Type");
	const unsigned char *p;
	const char *line, *b;
	struct mime_type ct;
	struct buf fld = BUF_INIT;
	struct err e;
	size_t n, pos = 0, len, blen;
	int found = 0, hp = 0, subject = 0;

	if (f == NULL || mime_type_parse(f->value, 0, &ct, &e) != 0)
		return 0;
	if (!mime_type_is(&ct, "multipart", "signed") || (b = mime_type_param(&ct, "boundary"))
	    == NULL || (blen = strlen(b)) == 0 || blen > MIME_MAX_BOUNDARY) {
		mime_type_free(&ct);
		return 0;
	}
	if (io_in_fill(in, PEEK_HP) < 0) {
		mime_type_free(&ct);
		return 0;
	}
	n = io_in_buffered(in, &p);
	if (n > PEEK_HP)
		n = PEEK_HP;
	while ((line = next_line(p, n, &pos, &len)) != NULL) {
		if (!found) {
			found = mime_delimiter(line, len, b, blen) == 1;
			continue;
		}
		if (len == 0 || mime_delimiter(line, len, b, blen) != 0)
			break;
		if (line[0] != ' ' && line[0] != '\t') {
			peek_field(&fld, &hp, &subject);
			buf_reset(&fld);
		}
		buf_add(&fld, line, len);
	}
	/* the header must have ended within what was looked at */
	if (line != NULL)
		peek_field(&fld, &hp, &subject);
	else
		hp = 0;
	buf_free(&fld);
	mime_type_free(&ct);
	return found && hp && subject;
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


/* ---- what is encrypted ---- */

/* Does the file name end in ".p7m" (RFC 8551 §3.2.1's name for enveloped data)? */
static int
is_p7m(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	return n >= 4 && strcasecmp(name + n - 4, ".p7m") == 0;
}

enum envmsg_kind
envmsg_kind(const struct mime_type *ct, const struct msg_header *h)
{
	const struct msg_field *f;
	struct mime_type d;
	struct err e;
	const char *st;
	int named = 0;

	if (ct == NULL)
		return ENVMSG_PLAIN;
	if (mime_type_is(ct, "multipart", NULL))
		return ENVMSG_MULTIPART;
	if (mime_type_is(ct, "application", "pkcs7-mime")
	    || mime_type_is(ct, "application", "x-pkcs7-mime")) {
		if ((st = mime_type_param(ct, "smime-type")) == NULL)
			return ENVMSG_MAYBE_P7;
		return strcasecmp(st, "enveloped-data") == 0
		    || strcasecmp(st, "authEnveloped-data") == 0 ? ENVMSG_ENVELOPED : ENVMSG_PLAIN;
	}
	if (!mime_type_is(ct, "application", "octet-stream"))
		return ENVMSG_PLAIN;
	named = is_p7m(mime_type_param(ct, "name"));
	if (!named && h != NULL && (f = msg_header_get(h, "Content-Disposition")) != NULL
	    && mime_type_parse(f->value, 1, &d, &e) == 0) {
		named = is_p7m(mime_type_param(&d, "filename"));
		mime_type_free(&d);
	}
	return named ? ENVMSG_MAYBE_FILE : ENVMSG_PLAIN;
}

/* ---- header regions kept as they came ---- */

int
envmsg_spool_header(struct io_in *in, int *fdp, uint64_t *len, struct err *e)
{
	const unsigned char *p;
	ssize_t r;
	int fd, complete, bol = 1;

	*len = 0;
	if ((*fdp = fd = io_spool(e)) < 0)
		return -1;
	while ((r = io_in_piece(in, &p, &complete)) > 0) {
		if (io_write_all(fd, p, (size_t)r) != 0)
			return err_sys(e, EX_IOERR, "cannot write the temporary file");
		*len += (uint64_t)r;
		if (bol && complete && (p[0] == '\n' || (r == 2 && p[0] == '\r' && p[1] == '\n')))
			break;	/* the empty line that ends the header */
		bol = complete;
	}
	if (r < 0) {
		*e = in->e;
		return -1;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind the temporary file");
	return 0;
}

#define STRIP_MAX (64 * 1024)	/* the longest verdict field read to see whose it is */

/* Is this line the start of a field named Authentication-Results or Secmail-Decryption
 * (white space allowed before the colon, RFC 5322 §4.5.3)? */
static int
verdict_field(const unsigned char *p, size_t n)
{
	static const char *const names[] = { AR_FIELD, AR_DECRYPT_FIELD };
	size_t i, k;

	for (i = 0; i < 2; i++) {
		k = strlen(names[i]);
		if (n <= k || strncasecmp((const char *)p, names[i], k) != 0)
			continue;
		while (k < n && (p[k] == ' ' || p[k] == '\t'))
			k++;
		if (k < n && p[k] == ':')
			return 1;
	}
	return 0;
}

/* Write a piece of the raw header with every bare CR as a space (msg_header_no_bare_cr):
 * *cr carries a CR that ended the piece before, whose fate the next byte decides. */
static int
write_no_bare_cr(struct io_out *o, const unsigned char *p, size_t n, int *cr)
{
	size_t i, start = 0;

	if (*cr && n > 0) {
		*cr = 0;
		if (io_out_puts(o, p[0] == '\n' ? "\r" : " ") != 0)
			return -1;
	}
	for (i = 0; i < n; i++) {
		if (p[i] != '\r' || (i + 1 < n && p[i + 1] == '\n'))
			continue;
		if (io_out_write(o, p + start, i - start) != 0)
			return -1;
		start = i + 1;
		if (i + 1 == n)
			*cr = 1;
		else if (io_out_puts(o, " ") != 0)
			return -1;
	}
	return io_out_write(o, p + start, n - start);
}

/* A buffered verdict field: written unless it claims authserv. */
static int
flush_field(struct buf *f, int over, const char *authserv, struct io_out *o, struct err *e)
{
	const char *colon;
	int rc = 0;

	if (f->len > 0 && !over) {
		if (buf_check(f, e) != 0)
			return -1;
		colon = memchr(f->p, ':', f->len);
		if (memchr(f->p, '\0', f->len) != NULL || colon == NULL
		    || !ar_claims(colon + 1, authserv)) {
			int cr = 0;

			rc = write_no_bare_cr(o, (const unsigned char *)f->p, f->len, &cr);
			if (rc == 0 && cr)
				rc = io_out_puts(o, " ");
		}
		if (rc != 0)
			*e = o->e;
	}
	buf_reset(f);
	return rc;
}

int
envmsg_header_strip_raw(int fd, uint64_t len, const char *authserv, struct io_out *o,
    struct err *e)
{
	struct io_in in;
	struct buf f = BUF_INIT;
	const unsigned char *p;
	uint64_t done = 0;
	ssize_t r;
	int complete, bol = 1, hold = 0, over = 0, cr = 0, rc = -1;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind the temporary file");
	if (io_in_init(&in, fd, "temporary file", e) != 0)
		return -1;
	while (done < len && (r = io_in_piece(&in, &p, &complete)) > 0) {
		if ((uint64_t)r > len - done)
			r = (ssize_t)(len - done);
		done += (uint64_t)r;
		if (bol && p[0] != ' ' && p[0] != '\t') {
			/* a new field (or a line that is none): the one held before is done */
			if (flush_field(&f, over, authserv, o, e) != 0)
				goto out;
			hold = verdict_field(p, (size_t)r);
			over = 0;
		}
		bol = complete;
		if (!hold) {
			/* a record of ours hidden behind a bare CR is no field to us, and one to
			 * a reader that ends lines there */
			if (write_no_bare_cr(o, p, (size_t)r, &cr) != 0) {
				*e = o->e;
				goto out;
			}
		} else if (!over) {
			if (f.len + (size_t)r > STRIP_MAX) {
				over = 1;	/* ours by name, too long to tell: removed */
				buf_reset(&f);
			} else {
				buf_add(&f, p, (size_t)r);
			}
		}
	}
	if (done < len) {
		err_set(e, EX_IOERR, "the temporary file is shorter than written");
		goto out;
	}
	if (cr && io_out_puts(o, " ") != 0) {
		*e = o->e;
		goto out;
	}
	rc = flush_field(&f, over, authserv, o, e);
out:
	buf_free(&f);
	io_in_free(&in);
	return rc;
}

/* ---- the decrypted entity ---- */

int
envmsg_read_decrypted_header(int fd, struct msg_header *h, struct err *e)
{
	struct io_in in;
	int ok;

	msg_header_init(h);
	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind the temporary file");
	if (io_in_init(&in, fd, "temporary file", e) != 0)
		return -1;
	ok = msg_header_read(&in, h, e) == 0;
	io_in_free(&in);
	if (!ok && e->code != EX_DATAERR)
		return -1;
	if (!ok || h->mbox_from != NULL) {
		msg_header_free(h);
		msg_header_init(h);
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind the temporary file");
	return 0;
}

int
envmsg_inner_dup(const char *name, const struct msg_header *outer)
{
	/* RFC 5322 §3.6: the fields a message has at most once */
	static const char *const once[] = { "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	    "Subject", "Date", "Message-ID", "In-Reply-To", "References", NULL };
	size_t i;

	if (outer == NULL || msg_header_get(outer, name) == NULL)
		return 0;
	for (i = 0; once[i] != NULL; i++)
		if (strcasecmp(name, once[i]) == 0)
			return 1;
	return 0;
}

int
envmsg_write_decrypted(int fd, int crlf, const char *authserv, int content_only,
    const struct msg_header *outer, struct io_out *o, int *bare, struct err *e)
{
	struct msg_header ih;
	struct io_in in;
	struct envmsg_eol eol;
	struct sink raw = io_out_sink(o), sk;
	size_t i, fields = 0;
	int rc = -1, ok;

	*bare = 0;
	msg_header_init(&ih);
	if (envmsg_eol_init(&eol, &raw, 0, e) != 0 || io_in_init(&in, fd, "temporary file", e) != 0)
		return -1;
	sk = crlf ? raw : envmsg_eol_sink(&eol);
	ok = msg_header_read(&in, &ih, e) == 0;
	if (!ok && e->code != EX_DATAERR)
		goto out;
	/* A MIME entity starts with header fields, or with the empty line of an empty header;
	 * anything else (no field, a broken header, an mbox line) is taken as bare content. */
	if (!ok || ih.mbox_from != NULL || (ih.n == 0 && ih.bytes == 0)) {
		*bare = 1;
		if (io_out_puts(o, crlf ? "\r\n" : "\n") != 0) {
			*e = o->e;
			goto out;
		}
		io_in_free(&in);
		if (lseek(fd, 0, SEEK_SET) != 0 || io_in_init(&in, fd, "temporary file", e) != 0) {
			err_sys(e, EX_IOERR, "cannot rewind the temporary file");
			goto out;
		}
	} else {
		for (i = 0; i < ih.n; i++)
			fields += ih.f[i].rawlen;
		ar_strip(&ih, authserv);
		/* the payload is anyone's: no record of ours hidden behind a bare CR */
		msg_header_no_bare_cr(&ih);
		for (i = 0; i < ih.n; i++)
			if ((content_only ? envmsg_is_inner(ih.f[i].name)
			    : !envmsg_inner_dup(ih.f[i].name, outer))
			    && sink_write(&sk, ih.f[i].raw, ih.f[i].rawlen, e) != 0)
				goto out;
		/* the empty line as it was (absent when the entity is a header alone) */
		if (ih.bytes > fields && sink_write(&sk, "\r\n" + (ih.bytes - fields == 1),
		    ih.bytes - fields == 1 ? 1 : 2, e) != 0)
			goto out;
	}
	if (envmsg_copy_in(&in, &sk, e) != 0 || (!crlf && envmsg_eol_final(&eol, e) != 0))
		goto out;
	rc = 0;
out:
	envmsg_eol_free(&eol);
	msg_header_free(&ih);
	io_in_free(&in);
	return rc;
}

/* ---- an encrypted part inside a multipart ---- */

#define PEEK_MAX 8192	/* encoded bytes of a candidate part looked at for its CMS type */

struct finder {
	struct envmsg_part *f;
	enum envmsg_kind kind;	/* of the leaf being walked */
	struct buf peek;
};

static int
find_begin(void *ctx, struct mime_part *p, struct err *e)
{
	struct finder *x = ctx;

	(void)e;
	p->no_data = 1;
	if (p->depth == 0 || (p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE)))
		return 0;
	x->kind = envmsg_kind(&p->ct, p->h);
	buf_reset(&x->peek);
	if (x->kind == ENVMSG_MAYBE_P7 || x->kind == ENVMSG_MAYBE_FILE)
		p->no_data = 0;
	return 0;
}

static int
find_data(void *ctx, struct mime_part *p, const void *b, size_t n, struct err *e)
{
	struct finder *x = ctx;

	(void)p, (void)e;
	if (x->peek.len < PEEK_MAX)
		buf_add(&x->peek, b, n < PEEK_MAX - x->peek.len ? n : PEEK_MAX - x->peek.len);
	return 0;
}

static int
peek_put(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)e;
	buf_add(ctx, p, n);
	return 0;
}

/* Does the start of this (transfer-encoded) body look like CMS (auth)enveloped data? */
static int
peek_enveloped(const struct buf *peek, enum cte cte)
{
	struct buf d = BUF_INIT;
	struct sink s = { peek_put, &d };
	struct cte_dec dec;
	struct env_mem m;
	struct ber_src src;
	struct err e;
	enum env_content c = ENV_CT_UNKNOWN;

	if (cte != CTE_BASE64) {
		buf_add(&d, peek->p, peek->len);
	} else if (cte_dec_init(&dec, CTE_BASE64, 0, &e) == 0) {
		(void)cte_dec_write(&dec, &s, peek->p, peek->len, &e);	/* as far as it goes */
		cte_dec_free(&dec);
	}
	if (d.len > 0 && !d.oom) {
		m.p = (const unsigned char *)d.p;
		m.len = d.len;
		m.pos = 0;
		src = env_mem_src(&m);
		c = env_content_type(&src);
	}
	buf_free(&d);
	return c == ENV_CT_ENVELOPED || c == ENV_CT_AUTH_ENVELOPED;
}

static int
find_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct finder *x = ctx;
	struct envmsg_part *f = x->f;

	(void)e;
	if (p->depth == 0 || (p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE)))
		return 0;
	if (x->kind == ENVMSG_ENVELOPED || ((x->kind == ENVMSG_MAYBE_P7
	    || x->kind == ENVMSG_MAYBE_FILE) && peek_enveloped(&x->peek, p->cte))) {
		f->ok = 1;
		f->cte = p->cte;
		f->offset = p->offset;
		f->body_offset = p->body_offset;
		f->body_end = p->body_offset + p->body_bytes;
		snprintf(f->path, sizeof f->path, "%s", p->path);
		if (p->parent != NULL)
			snprintf(f->parent, sizeof f->parent, "%s/%s", p->parent->ct.type,
			    p->parent->ct.subtype != NULL ? p->parent->ct.subtype : "");
		return MIME_STOP;
	}
	return 0;
}

int
envmsg_find_enveloped(int fd, struct msg_header *h, struct envmsg_part *f, struct err *e)
{
	struct finder x;
	struct mime_walk w;
	struct io_in in;
	struct err we;
	int r;

	memset(f, 0, sizeof *f);
	memset(&x, 0, sizeof x);
	x.f = f;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind the temporary file");
	if (io_in_init(&in, fd, "temporary file", e) != 0)
		return -1;
	mime_walk_init(&w);
	w.begin = find_begin;
	w.data = find_data;
	w.end = find_end;
	w.ctx = &x;
	r = mime_walk(&w, &in, h, &we);
	io_in_free(&in);
	if (x.peek.oom)
		r = err_sys(&we, EX_OSERR, "out of memory");
	buf_free(&x.peek);
	if (r < 0 && we.code != EX_DATAERR) {
		*e = we;
		return -1;
	}
	return f->ok;
}
