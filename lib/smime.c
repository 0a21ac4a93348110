/* smime.c — S/MIME signed messages: the content entity, its transport-safe canonical form,
 * the multipart/signed and application/pkcs7-mime wrappers, and verification back to the
 * entity with an Authentication-Results field. */
#include "smime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "addr.h"
#include "ar.h"
#include "buf.h"
#include "canon.h"
#include "cte.h"
#include "mime.h"
#include "param.h"
#include "policy.h"
#include "receipt.h"

#define CHUNK (256 * 1024)

/* ---- shared pieces ---- */

/* Copy the rest of in to a fresh spool file; returns the fd (at offset 0) or -1. */
static int
spool_rest(struct io_in *in, struct err *e)
{
	unsigned char *buf = malloc(CHUNK);
	ssize_t n;
	int fd;

	if (buf == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	if ((fd = io_spool(e)) < 0) {
		free(buf);
		return -1;
	}
	while ((n = io_in_read(in, buf, CHUNK)) > 0)
		if (io_write_all(fd, buf, (size_t)n) != 0) {
			err_sys(e, EX_IOERR, "cannot write temporary file");
			goto bad;
		}
	if (n < 0) {
		*e = in->e;
		goto bad;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		err_sys(e, EX_IOERR, "cannot rewind temporary file");
		goto bad;
	}
	free(buf);
	return fd;
bad:
	free(buf);
	close(fd);
	return -1;
}

/*
 * The body, readable again from its start: a regular input file is used in place (from the
 * offset where the body starts: no copy, no writes), anything else is spooled. *own says
 * whether the caller closes the fd.
 */
static int
body_open(struct io_in *in, off_t *base, int *own, struct err *e)
{
	struct stat st;
	off_t cur;

	if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode)
	    && (cur = lseek(in->fd, 0, SEEK_CUR)) >= (off_t)(in->len - in->pos)) {
		*base = cur - (off_t)(in->len - in->pos);
		*own = 0;
		return in->fd;
	}
	*base = 0;
	*own = 1;
	return spool_rest(in, e);
}

static int
body_rewind(int fd, off_t base, struct err *e)
{
	if (lseek(fd, base, SEEK_SET) != base)
		return err_sys(e, EX_IOERR, "cannot rewind the input");
	return 0;
}

/* Feed a file from offset base to its end to a sink. */
static int
file_to_sink(int fd, off_t base, const struct sink *s, struct err *e)
{
	unsigned char *buf;
	ssize_t n;

	if (body_rewind(fd, base, e) != 0)
		return -1;
	if ((buf = malloc(CHUNK)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	while ((n = io_read(fd, buf, CHUNK)) > 0)
		if (sink_write(s, buf, (size_t)n, e) != 0) {
			free(buf);
			return -1;
		}
	free(buf);
	if (n < 0)
		return err_sys(e, EX_IOERR, "cannot read temporary file");
	return 0;
}

static int
fd_sink_write(void *ctx, const void *p, size_t n, struct err *e)
{
	if (io_write_all(*(int *)ctx, p, n) != 0)
		return err_sys(e, EX_IOERR, "cannot write temporary file");
	return 0;
}

/* A sink that converts canonical CRLF text to the output's line ends. */
struct eolsink {
	struct io_out *o;
	int lf;			/* write LF line ends */
	struct canon c;
};

static int
eol_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct eolsink *x = ctx;
	struct sink os = io_out_sink(x->o);

	if (!x->lf)
		return sink_write(&os, p, n, e);
	return canon_write(&x->c, &os, p, n, e);
}

static int
eol_finish(struct eolsink *x, struct err *e)
{
	struct sink os = io_out_sink(x->o);

	return x->lf ? canon_finish(&x->c, &os, e) : 0;
}

static int
put_field(struct io_out *o, const char *name, const char *value, const char *eol, struct err *e)
{
	char *f = msg_fold(name, value, eol, e);
	int r;

	if (f == NULL)
		return -1;
	r = io_out_puts(o, f);
	free(f);
	return r != 0 ? (*e = o->e, -1) : 0;
}

static int
out_err(struct io_out *o, struct err *e)
{
	*e = o->e;
	return -1;
}

/* Is this a field of the content entity? Content-* only: MIME-Version stays outside. */
static int
is_entity_field(const char *name)
{
	return strncasecmp(name, "Content-", 8) == 0;
}

int
smime_from_check(const struct msg_header *h, X509 *cert, struct err *e)
{
	struct addr_list l = { NULL, 0, 0 };
	const struct msg_field *f = msg_header_get(h, "From");
	char **names;
	size_t i, j;

	if (f == NULL)
		return err_set(e, EX_DATAERR, "the message has no From field to check the "
		    "certificate against (--no-from-check skips the check)");
	if (addr_parse(f->value, &l, e) != 0)
		return err_wrap(e, "From");
	if ((names = keys_cert_addrs(cert, e)) == NULL) {
		addr_list_free(&l);
		return -1;
	}
	for (i = 0; i < l.n; i++)
		for (j = 0; names[j] != NULL; j++)
			if (addr_spec_eq(l.v[i].spec, names[j])) {
				keys_addrs_free(names);
				addr_list_free(&l);
				return 0;
			}
	err_set(e, EX_DATAERR, "the signing certificate is for %s, not for the From address %s "
	    "(--no-from-check skips the check)", names[0] ? names[0] : "no e-mail address",
	    l.n ? l.v[0].spec : "(none)");
	keys_addrs_free(names);
	addr_list_free(&l);
	return -1;
}

/* ---- signing ---- */

/* What the entity needs before it can be signed (RFC 8551 §3.1.2, §3.1.3). */
struct scan {
	int multipart;
	int need;		/* something must be re-encoded */
	char bad[MIME_PATH_MAX * 4];	/* paths of leaves to re-encode, " 1.2 1.3 " */
	struct cte_stats st;
	struct err *e;
};

static int
identity(enum cte c)
{
	return c == CTE_7BIT || c == CTE_8BIT || c == CTE_BINARY;
}

static int
scan_begin(void *ctx, struct mime_part *p, struct err *e)
{
	(void)ctx;
	(void)e;
	if (p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE))
		return 0;
	p->no_data = !identity(p->cte);
	return 0;
}

static int
scan_data(void *ctx, struct mime_part *p, const void *buf, size_t n, struct err *e)
{
	struct scan *s = ctx;

	(void)p;
	(void)e;
	cte_scan(&s->st, buf, n);
	return 0;
}

static int
needs_encoding(const struct cte_stats *st)
{
	return st->nonascii || st->nul || st->bare_cr || st->ctl || st->longest > 998;
}

static int
scan_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct scan *s = ctx;
	size_t len = strlen(s->bad);

	(void)e;
	if (p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE) || !identity(p->cte))
		goto next;
	cte_scan_final(&s->st);
	if (needs_encoding(&s->st)) {
		s->need = 1;
		if (len + strlen(p->path) + 2 < sizeof s->bad)
			snprintf(s->bad + len, sizeof s->bad - len, "%s%s ", len ? "" : " ", p->path);
		else
			return err_set(e, EX_DATAERR, "too many parts to re-encode");
	}
next:
	cte_scan_init(&s->st);
	return 0;
}

static int
listed(const char *bad, const char *path)
{
	char key[MIME_PATH_MAX + 2];

	snprintf(key, sizeof key, " %s ", path);
	return strstr(bad, key) != NULL;
}

/* The entity's header (content fields) as its own msg_header, for the walker. */
static int
entity_header(const struct msg_header *h, struct msg_header *eh, struct err *e)
{
	size_t i;

	msg_header_init(eh);
	eh->crlf = h->crlf;
	for (i = 0; i < h->n; i++) {
		struct msg_field *f;

		if (!is_entity_field(h->f[i].name))
			continue;
		if (msg_header_add(eh, h->f[i].name, h->f[i].value, e) != 0)
			return -1;
		/* keep the raw bytes as they came */
		f = &eh->f[eh->n - 1];
		free(f->raw);
		if ((f->raw = malloc(h->f[i].rawlen + 1)) == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		memcpy(f->raw, h->f[i].raw, h->f[i].rawlen);
		f->raw[h->f[i].rawlen] = '\0';
		f->rawlen = h->f[i].rawlen;
	}
	if (msg_header_get(eh, "Content-Type") == NULL
	    && msg_header_add(eh, "Content-Type", "text/plain; charset=us-ascii", e) != 0)
		return -1;
	return 0;
}

/* Where the canonical entity goes: the signer, and (detached) the output. */
struct feed {
	struct cms_sign *cs;
	struct eolsink *out;	/* NULL for opaque */
	int raw_out;		/* the output gets the input bytes as they are (the verifier
				 * canonicalises them the same way), saving a conversion */
	struct canon c;		/* to CRLF */
	struct sink canon_out;
};

static int
feed_canon_out(void *ctx, const void *p, size_t n, struct err *e)
{
	struct feed *f = ctx;

	if (cms_sign_write(f->cs, p, n, e) != 0)
		return -1;
	return f->out != NULL && !f->raw_out ? eol_write(f->out, p, n, e) : 0;
}

static int
feed_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct feed *f = ctx;

	if (f->raw_out && f->out != NULL && io_out_write(f->out->o, p, n) != 0)
		return out_err(f->out->o, e);
	return canon_write(&f->c, &f->canon_out, p, n, e);
}

/* Rewriting walk: parts listed in bad get a new encoding; structure is rebuilt. */
struct rewrite {
	const char *bad;
	struct sink out;	/* the feed (any line ends; canonicalised there) */
	struct cte_enc enc;
	struct cte_dec dec;
	struct sink encsink;	/* dec -> enc */
	int active;		/* a re-encoded leaf is in progress */
	int top_is_leaf;
};

static int
put(const struct sink *s, const char *str, struct err *e)
{
	return sink_write(s, str, strlen(str), e);
}

static int
enc_into(void *ctx, const void *p, size_t n, struct err *e)
{
	struct rewrite *w = ctx;

	return cte_enc_write(&w->enc, &w->out, p, n, e);
}

static int
rw_header(struct rewrite *w, struct mime_part *p, int reencode, enum cte c, struct err *e)
{
	size_t i;

	for (i = 0; i < p->h->n; i++) {
		if (reencode && strcasecmp(p->h->f[i].name, "Content-Transfer-Encoding") == 0)
			continue;
		if (sink_write(&w->out, p->h->f[i].raw, p->h->f[i].rawlen, e) != 0)
			return -1;
	}
	if (reencode) {
		if (put(&w->out, "Content-Transfer-Encoding: ", e) != 0
		    || put(&w->out, cte_name(c), e) != 0 || put(&w->out, "\r\n", e) != 0)
			return -1;
	}
	return put(&w->out, "\r\n", e);
}

static int
rw_begin(void *ctx, struct mime_part *p, struct err *e)
{
	struct rewrite *w = ctx;
	int re;
	enum cte c;

	if (p->parent != NULL && (p->parent->flags & MIME_F_MULTIPART)) {
		if (put(&w->out, p->index > 1 ? "\r\n--" : "--", e) != 0
		    || put(&w->out, mime_type_param(&p->parent->ct, "boundary"), e) != 0
		    || put(&w->out, "\r\n", e) != 0)
			return -1;
	}
	if (p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE))
		return p->depth == 0 ? 0 : rw_header(w, p, 0, CTE_7BIT, e);
	re = listed(w->bad, p->path);
	c = CTE_7BIT;
	/* Text gets quoted-printable (still readable), anything else base64. */
	if (re)
		c = mime_type_is(&p->ct, "text", NULL) ? CTE_QP : CTE_BASE64;
	if (p->depth != 0 && rw_header(w, p, re, c, e) != 0)
		return -1;
	w->active = re;
	if (re) {
		int text = mime_type_is(&p->ct, "text", NULL);

		if (cte_enc_init(&w->enc, c, text ? CTE_TEXT | CTE_CRLF : CTE_CRLF, e) != 0)
			return -1;
		if (cte_dec_init(&w->dec, p->cte, 0, e) != 0) {
			cte_enc_free(&w->enc);
			return -1;
		}
		w->encsink.write = enc_into;
		w->encsink.ctx = w;
	}
	return 0;
}

static int
rw_data(void *ctx, struct mime_part *p, const void *buf, size_t n, struct err *e)
{
	struct rewrite *w = ctx;

	(void)p;
	if (w->active)
		return cte_dec_write(&w->dec, &w->encsink, buf, n, e);
	return sink_write(&w->out, buf, n, e);
}

static int
rw_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct rewrite *w = ctx;
	int r = 0;

	if (p->flags & MIME_F_MULTIPART) {
		if (put(&w->out, "\r\n--", e) != 0
		    || put(&w->out, mime_type_param(&p->ct, "boundary"), e) != 0
		    || put(&w->out, "--\r\n", e) != 0)
			return -1;
		return 0;
	}
	if (p->flags & MIME_F_MESSAGE)
		return 0;
	if (w->active) {
		r = cte_dec_finish(&w->dec, &w->encsink, e);
		if (r == 0)
			r = cte_enc_finish(&w->enc, &w->out, e);
		cte_dec_free(&w->dec);
		cte_enc_free(&w->enc);
		w->active = 0;
	}
	return r;
}

/* Write the entity (header + body from the spool) to sink s, re-encoded where needed. */
static int
write_entity(struct msg_header *eh, int body, off_t base, const struct sink *s, struct err *e)
{
	struct scan sc;
	struct mime_walk w;
	struct io_in in;
	struct rewrite rw;
	size_t i;
	int r;

	/* Pass 1: which leaves are not 7-bit safe. */
	memset(&sc, 0, sizeof sc);
	cte_scan_init(&sc.st);
	mime_walk_init(&w);
	w.begin = scan_begin;
	w.data = scan_data;
	w.end = scan_end;
	w.ctx = &sc;
	if (body_rewind(body, base, e) != 0)
		return -1;
	if (io_in_init(&in, body, "message body", e) != 0)
		return -1;
	r = mime_walk(&w, &in, eh, e);
	io_in_free(&in);
	if (r < 0)
		return err_wrap(e, "reading the content to sign");
	if (!sc.need) {
		for (i = 0; i < eh->n; i++)
			if (sink_write(s, eh->f[i].raw, eh->f[i].rawlen, e) != 0)
				return -1;
		if (put(s, "\r\n", e) != 0)
			return -1;
		return file_to_sink(body, base, s, e);
	}
	/* Pass 2: rebuild with the offending leaves re-encoded (RFC 8551 §3.1.2). */
	memset(&rw, 0, sizeof rw);
	rw.bad = sc.bad;
	rw.out = *s;
	mime_walk_init(&w);
	w.begin = rw_begin;
	w.data = rw_data;
	w.end = rw_end;
	w.ctx = &rw;
	if (body_rewind(body, base, e) != 0)
		return -1;
	/* The top-level entity header: re-encoded when the top is the leaf. */
	if (listed(sc.bad, "0")) {
		for (i = eh->n; i-- > 0;)
			if (strcasecmp(eh->f[i].name, "Content-Transfer-Encoding") == 0)
				msg_header_delete(eh, i);
	}
	{
		struct mime_type ct;
		int re = listed(sc.bad, "0"), text = 0;
		const struct msg_field *f = msg_header_get(eh, "Content-Type");

		if (f != NULL && mime_type_parse(f->value, 0, &ct, e) == 0) {
			text = mime_type_is(&ct, "text", NULL);
			mime_type_free(&ct);
		}
		for (i = 0; i < eh->n; i++)
			if (sink_write(s, eh->f[i].raw, eh->f[i].rawlen, e) != 0)
				return -1;
		if (re && (put(s, "Content-Transfer-Encoding: ", e) != 0
		    || put(s, text ? "quoted-printable\r\n" : "base64\r\n", e) != 0))
			return -1;
		if (put(s, "\r\n", e) != 0)
			return -1;
	}
	if (io_in_init(&in, body, "message body", e) != 0)
		return -1;
	r = mime_walk(&w, &in, eh, e);
	io_in_free(&in);
	if (rw.active) {
		cte_dec_free(&rw.dec);
		cte_enc_free(&rw.enc);
	}
	return r < 0 ? err_wrap(e, "re-encoding the content to sign") : 0;
}

/* Is the entity one part in quoted-printable or base64 (nothing to re-encode)? */
static int
leaf_encoded(const struct msg_header *eh)
{
	const struct msg_field *f = msg_header_get(eh, "Content-Type");
	const struct msg_field *c = msg_header_get(eh, "Content-Transfer-Encoding");
	struct mime_type ct;
	struct err e;
	enum cte cte = cte_parse(c != NULL ? c->value : NULL);
	int leaf;

	if (cte != CTE_QP && cte != CTE_BASE64)
		return 0;
	if (f == NULL || mime_type_parse(f->value, 0, &ct, &e) != 0)
		return 1;	/* RFC 2045 §5.2: text/plain */
	leaf = !mime_type_is(&ct, "multipart", NULL) && !mime_type_is(&ct, "message", NULL);
	mime_type_free(&ct);
	return leaf;
}

static int
write_direct(const struct msg_header *eh, struct io_in *in, const struct sink *s, int *raw_out,
    struct err *e)
{
	unsigned char *buf;
	size_t i;
	ssize_t n;

	for (i = 0; i < eh->n; i++)
		if (sink_write(s, eh->f[i].raw, eh->f[i].rawlen, e) != 0)
			return -1;
	if (put(s, "\r\n", e) != 0)
		return -1;
	*raw_out = 1;	/* the body goes out as it came */
	if ((buf = malloc(CHUNK)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	while ((n = io_in_read(in, buf, CHUNK)) > 0)
		if (sink_write(s, buf, (size_t)n, e) != 0) {
			free(buf);
			return -1;
		}
	free(buf);
	if (n < 0) {
		*e = in->e;
		return -1;
	}
	return 0;
}

static int
b64_out_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct cte_enc *x = ((void **)ctx)[0];
	struct sink *s = ((void **)ctx)[1];

	return cte_enc_write(x, s, p, n, e);
}

/* --receipt-request: the addresses receipts go to (RFC 2634 §2.7 receiptsTo), from
 * so->receipt_to (comma-separated) or else the From address; NULL-terminated, malloc'd. */
static char **
receipt_addrs(const struct msg_header *h, const struct smime_sign_opts *so, struct err *e)
{
	const struct msg_field *f = msg_header_get(h, "From");
	struct addr_list l = { NULL, 0, 0 };

	if (addr_parse(so->receipt_to != NULL ? so->receipt_to : f != NULL ? f->value : "", &l, e)
	    != 0) {
		err_wrap(e, "--receipt-request");
		return NULL;
	}
	if (l.n == 0) {
		addr_list_free(&l);
		err_set(e, EX_USAGE, "--receipt-request: no address to send receipts to (give one, or "
		    "a From field)");
		return NULL;
	}
	return addr_list_specs(&l, e);
}

/* After signing with a receipt request: keep what the receipt will be checked against. */
static int
keep_receipt(struct cms_sign *cs, const struct msg_header *h, const struct smime_sign_opts *so,
    const char *dir, struct err *e)
{
	struct buf der = BUF_INIT;
	unsigned char rid[RECEIPT_MAX_ID];
	size_t rlen = 0;
	int rc;

	rc = cms_sign_receipt_record(cs, &der, rid, &rlen, e) != 0 || receipt_store(dir, rid, rlen,
	    &der, h, so->cms.signing_time ? so->cms.signing_time : time(NULL), e) != 0 ? -1 : 0;
	buf_free(&der);
	return rc != 0 ? err_wrap(e, "keeping the receipt request") : 0;
}

int
smime_sign(struct io_in *in, struct io_out *o, const struct keys_identity *id,
    const struct smime_sign_opts *so, struct err *e)
{
	struct msg_header h, eh;
	struct eolsink es;
	struct feed fd;
	struct cte_enc b64;
	struct sink outsink, dersink, entsink;
	struct cms_sign *cs = NULL;
	struct buf ct = BUF_INIT;
	char boundary[MIME_BOUNDARY_LEN + 1];
	const char *eol, *digest;
	void *pair[2];
	size_t i;
	int body = -1, rc = -1, b64_on = 0, direct, own = 1;
	off_t base = 0;
	struct cms_sign_opts co = so->cms;
	char **rto = NULL, rdir[4096];
	const char *rd = NULL;

	msg_header_init(&h);
	msg_header_init(&eh);
	memset(&fd, 0, sizeof fd);
	if (msg_header_read(in, &h, e) != 0)
		goto out;
	if (h.n == 0) {
		err_set(e, EX_DATAERR, "the input is not a message (no header fields)");
		goto out;
	}
	eol = h.crlf ? "\r\n" : "\n";
	if (!so->no_from_check && smime_from_check(&h, id->cert, e) != 0)
		goto out;
	if (!so->no_from_check && so->cms.second != NULL
	    && smime_from_check(&h, so->cms.second->cert, e) != 0)	/* issue 15 */
		goto out;
	if ((digest = cms_sign_digest(id, &so->cms, e)) == NULL)
		goto out;
	if (so->receipt && !so->certs_only) {
		if ((rd = so->receipt_dir) == NULL && (rd = receipt_default_dir(rdir, sizeof rdir))
		    == NULL) {
			err_set(e, EX_CONFIG, "--receipt-request: no place to keep the request (set "
			    "XDG_STATE_HOME or HOME)");
			goto out;
		}
		if ((rto = receipt_addrs(&h, so, e)) == NULL)
			goto out;
		co.receipt_to = rto;
	}
	if (so->hp != HP_NONE && !so->certs_only) {
		/* RFC 9788 §2: the header fields travel inside the signature too. */
		if (hp_complete(&h, so->cms.signing_time ? so->cms.signing_time : time(NULL), e) != 0
		    || hp_payload_header(&h, so->hp, hp_hcp_baseline, &eh, e) != 0)
			goto out;
	} else if (entity_header(&h, &eh, e) != 0) {
		goto out;
	}
	/* A single part already in quoted-printable or base64 is 7-bit safe as it stands: it is
	 * streamed straight from the input. Anything else is spooled and looked at first. */
	direct = so->certs_only || leaf_encoded(&eh);
	if (!direct && (body = body_open(in, &base, &own, e)) < 0)
		goto out;

	/* The outer header: every field that is not a content field, byte-exact. */
	if (h.mbox_from != NULL && io_out_puts(o, h.mbox_from) != 0)
		goto oerr;
	for (i = 0; i < h.n; i++)
		if (!is_entity_field(h.f[i].name)
		    && io_out_write(o, h.f[i].raw, h.f[i].rawlen) != 0)
			goto oerr;
	if (msg_header_get(&h, "MIME-Version") == NULL
	    && put_field(o, "MIME-Version", "1.0", eol, e) != 0)
		goto out;

	es.o = o;
	es.lf = !h.crlf;
	canon_init(&es.c, CANON_LF);
	outsink = io_out_sink(o);

	if (so->certs_only || so->cms.opaque) {
		const char *type = so->certs_only ? "application/pkcs7-mime; smime-type=certs-only; "
		    "name=\"smime.p7c\"" : "application/pkcs7-mime; smime-type=signed-data; "
		    "name=\"smime.p7m\"";

		if (put_field(o, "Content-Type", type, eol, e) != 0
		    || put_field(o, "Content-Transfer-Encoding", "base64", eol, e) != 0
		    || put_field(o, "Content-Disposition", so->certs_only ? "attachment; "
		    "filename=\"smime.p7c\"" : "attachment; filename=\"smime.p7m\"", eol, e) != 0)
			goto out;
		if (io_out_puts(o, eol) != 0)
			goto oerr;
	} else {
		if (mime_boundary(boundary, sizeof boundary, e) != 0)
			goto out;
		buf_addf(&ct, "multipart/signed; protocol=\"application/pkcs7-signature\"; "
		    "micalg=%s; boundary=\"%s\"", cms_micalg(digest), boundary);
		if (buf_check(&ct, e) != 0 || put_field(o, "Content-Type", ct.p, eol, e) != 0)
			goto out;
		if (io_out_puts(o, eol) != 0
		    || io_out_puts(o, "This is a cryptographically signed message in MIME format.")
		    != 0 || io_out_puts(o, eol) != 0 || io_out_puts(o, eol) != 0
		    || io_out_puts(o, "--") != 0 || io_out_puts(o, boundary) != 0
		    || io_out_puts(o, eol) != 0)
			goto oerr;
	}
	/* The DER goes through base64 (lines of 76) to the output. */
	if (cte_enc_init(&b64, CTE_BASE64, h.crlf ? CTE_CRLF : 0, e) != 0)
		goto out;
	b64_on = 1;
	pair[0] = &b64;
	pair[1] = &outsink;
	dersink.write = b64_out_write;
	dersink.ctx = pair;

	if (so->certs_only) {
		STACK_OF(X509) *certs = sk_X509_dup(id->chain);

		if (certs == NULL || !sk_X509_unshift(certs, id->cert)) {
			sk_X509_free(certs);
			err_set(e, EX_OSERR, "out of memory");
			goto out;
		}
		rc = cms_certs_only(certs, &dersink, e);
		sk_X509_free(certs);
		if (rc != 0 || cte_enc_finish(&b64, &outsink, e) != 0) {
			rc = -1;
			goto out;
		}
		rc = -1;
		goto done;
	}

	if ((cs = cms_sign_new(id, &co, &dersink, e)) == NULL)
		goto out;
	fd.cs = cs;
	fd.out = so->cms.opaque ? NULL : &es;
	canon_init(&fd.c, CANON_CRLF);
	fd.canon_out.write = feed_canon_out;
	fd.canon_out.ctx = &fd;
	entsink.write = feed_write;
	entsink.ctx = &fd;
	if ((direct ? write_direct(&eh, in, &entsink, &fd.raw_out, e) : write_entity(&eh, body, base, &entsink, e)) != 0
	    || canon_finish(&fd.c, &fd.canon_out, e) != 0)
		goto out;
	if (!so->cms.opaque) {
		/* RFC 1847 §2.1: the line end before the delimiter belongs to it. */
		if (eol_finish(&es, e) != 0)
			goto out;
		if (io_out_puts(o, eol) != 0 || io_out_puts(o, "--") != 0
		    || io_out_puts(o, boundary) != 0 || io_out_puts(o, eol) != 0)
			goto oerr;
		if (put_field(o, "Content-Type", "application/pkcs7-signature; name=\"smime.p7s\"",
		    eol, e) != 0 || put_field(o, "Content-Transfer-Encoding", "base64", eol, e) != 0
		    || put_field(o, "Content-Disposition", "attachment; filename=\"smime.p7s\"", eol,
		    e) != 0 || put_field(o, "Content-Description", "S/MIME Cryptographic Signature",
		    eol, e) != 0 || io_out_puts(o, eol) != 0)
			goto oerr2;
	}
	if (cms_sign_finish(cs, e) != 0 || cte_enc_finish(&b64, &outsink, e) != 0)
		goto out;
	if (rto != NULL && keep_receipt(cs, &h, so, rd, e) != 0)
		goto out;
	if (!so->cms.opaque) {
		if (io_out_puts(o, eol) != 0 || io_out_puts(o, "--") != 0
		    || io_out_puts(o, boundary) != 0 || io_out_puts(o, "--") != 0
		    || io_out_puts(o, eol) != 0)
			goto oerr;
	}
done:
	if (io_out_flush(o) != 0)
		goto oerr;
	rc = 0;
	goto out;
oerr2:
	if (o->failed)
		goto oerr;
	goto out;
oerr:
	out_err(o, e);
out:
	if (b64_on)
		cte_enc_free(&b64);
	cms_sign_free(cs);
	keys_addrs_free(rto);
	buf_free(&ct);
	if (body >= 0 && own)
		close(body);
	msg_header_free(&eh);
	msg_header_free(&h);
	return rc;
}

/* ---- verifying ---- */

struct membuf {
	unsigned char *p;
	size_t len, cap, max;
};

static int
membuf_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct membuf *m = ctx;

	if (m->len + n > m->max)
		return err_set(e, EX_DATAERR, "the signature part is larger than %zu bytes", m->max);
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 16384;
		unsigned char *q;

		while (cap < m->len + n)
			cap *= 2;
		if ((q = realloc(m->p, cap)) == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->len, p, n);
	m->len += n;
	return 0;
}

/* A copy of every field of src (raw bytes kept) appended to dst. */
static int
copy_header(const struct msg_header *src, struct msg_header *dst, struct err *e)
{
	size_t i;

	dst->crlf = src->crlf;
	for (i = 0; i < src->n; i++) {
		struct msg_field *f;

		if (dst->n >= dst->cap) {
			size_t cap = dst->cap ? dst->cap * 2 : 16;

			if ((f = realloc(dst->f, cap * sizeof *f)) == NULL)
				return err_set(e, EX_OSERR, "out of memory");
			dst->f = f;
			dst->cap = cap;
		}
		f = &dst->f[dst->n];
		f->name = strdup(src->f[i].name);
		f->value = strdup(src->f[i].value);
		f->raw = malloc(src->f[i].rawlen + 1);
		f->rawlen = src->f[i].rawlen;
		dst->n++;
		if (f->name == NULL || f->value == NULL || f->raw == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		memcpy(f->raw, src->f[i].raw, f->rawlen);
		f->raw[f->rawlen] = '\0';
	}
	return 0;
}

/* The walk over a multipart/signed: where the first part's bytes are, its header, and the
 * second part decoded into memory. */
struct vwalk {
	struct membuf sig;
	struct sink sigsink;
	struct cte_dec dec;
	int dec_on;
	int nparts;		/* children of the multipart/signed seen */
	int sig_type_ok;
	char sig_type[64];
	struct mime_part *signed_part;	/* the multipart/signed being read */
	int signed_done;
	char signed_path[MIME_PATH_MAX];	/* its part path ("0": the message itself) */
	int forwarded;		/* it is the message inside a message/rfc822 part */
	struct msg_header author;	/* that message's header */
	struct msg_header entity;	/* the signed entity's header */
	uint64_t entity_hdr;	/* its bytes, blank line included */
	uint64_t raw_start;	/* where the signed part's bytes are in the body */
	uint64_t raw_len;
	int raw_seen;
};

static int
vw_begin(void *ctx, struct mime_part *p, struct err *e)
{
	struct vwalk *v = ctx;

	/* The multipart/signed: the message itself, or nested one level, as the first
	 * multipart/signed part of a multipart, or as the message inside a message/rfc822 part
	 * (then its own From is the one to match). Nested, it only ever covers a part. */
	if (v->signed_part == NULL && !v->signed_done && mime_type_is(&p->ct, "multipart", "signed")
	    && (p->depth == 0 || (p->depth == 1 && (p->parent->flags & MIME_F_MULTIPART))
	    || (p->depth == 2 && (p->parent->flags & MIME_F_MESSAGE)))) {
		v->signed_part = p;
		snprintf(v->signed_path, sizeof v->signed_path, "%s", p->path);
		if (p->depth == 2) {
			v->forwarded = 1;
			if (copy_header(p->h, &v->author, e) != 0)
				return -1;
		}
		return 0;
	}
	if (v->signed_part == NULL || p->parent != v->signed_part) {
		p->no_data = 1;
		return 0;
	}
	v->nparts++;
	if (p->index == 1) {
		p->want_raw = 1;
		p->no_data = 1;
		v->entity_hdr = p->body_offset - p->offset;
		return copy_header(p->h, &v->entity, e);
	}
	if (p->index != 2) {
		p->no_data = 1;
		return 0;
	}
	snprintf(v->sig_type, sizeof v->sig_type, "%s/%s", p->ct.type ? p->ct.type : "?",
	    p->ct.subtype ? p->ct.subtype : "?");
	/* RFC 8551 §3.5.3; the x- form of RFC 2311 is still sent. */
	v->sig_type_ok = mime_type_is(&p->ct, "application", "pkcs7-signature")
	    || mime_type_is(&p->ct, "application", "x-pkcs7-signature");
	if (!v->sig_type_ok) {
		p->no_data = 1;
		return 0;
	}
	if (cte_dec_init(&v->dec, p->cte, CTE_STRICT, e) != 0)
		return -1;
	v->dec_on = 1;
	return 0;
}

static int
vw_raw(void *ctx, struct mime_part *p, const void *buf, size_t n, struct err *e)
{
	struct vwalk *v = ctx;

	/* The signed part's bytes are one contiguous range of the body: remember where, and
	 * read them again (canonicalised) for the digest and (as they are) for the output. */
	(void)buf;
	(void)e;
	if (!v->raw_seen) {
		v->raw_start = p->offset;
		v->raw_seen = 1;
	}
	v->raw_len += n;
	return 0;
}

static int
vw_data(void *ctx, struct mime_part *p, const void *buf, size_t n, struct err *e)
{
	struct vwalk *v = ctx;

	if (p->parent == v->signed_part && p->index == 2 && v->dec_on)
		return cte_dec_write(&v->dec, &v->sigsink, buf, n, e);
	return 0;
}

static int
vw_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct vwalk *v = ctx;
	int r = 0;

	if (v->signed_part == NULL)
		return 0;
	if (p == v->signed_part) {
		v->signed_part = NULL;	/* only the first one is verified */
		v->signed_done = 1;
		return 0;
	}
	if (p->parent == v->signed_part && p->index == 2 && v->dec_on) {
		r = cte_dec_finish(&v->dec, &v->sigsink, e);
		cte_dec_free(&v->dec);
		v->dec_on = 0;
	}
	return r;
}

static void
set_verdict(struct cms_result *r, enum cms_verdict v, const char *fmt, ...) ERR_PRINTF(3, 4);

static void
set_verdict(struct cms_result *r, enum cms_verdict v, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

/* RFC 7281 §3 properties are left out when they could not be folded (RFC 5322 §2.1.1): an
 * identifier is an address (at most 254 octets, RFC 5321 §4.5.3.1.3); a serial number is at
 * most 20 octets (RFC 5280 §4.1.2.2) - a longer one is an attacker's, and is not repeated. */
#define AR_MAX_IDENTIFIER 254
#define AR_MAX_SERIAL_HEX 40

/* The Authentication-Results value (RFC 8601 §2.2, RFC 7281 §2). */
static char *
ar_value(const char *authserv, const struct cms_result *r, const char *part, struct err *e)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s; smime=%s", authserv, cms_verdict_name(r->verdict));
	if (r->reason[0] != '\0') {
		/* The reason quotes the input (addresses, display names, smime-decrypt's
		 * reason): no control or bidi character reaches a reader's screen. */
		struct buf t = BUF_INIT;
		char *clean;

		buf_add_printable(&t, r->reason, strlen(r->reason));
		if ((clean = buf_take(&t, e)) == NULL) {
			buf_free(&b);
			return NULL;
		}
		buf_adds(&b, " reason=");
		ar_add_quoted(&b, clean);
		free(clean);
	}
	if (r->identifier != NULL && strlen(r->identifier) <= AR_MAX_IDENTIFIER
	    && strpbrk(r->identifier, " ;()\"\\") == NULL)
		buf_addf(&b, " body.smime-identifier=%s", r->identifier);
	/* RFC 7281 §3: which body part carried the signature, when not the message itself. */
	if (part != NULL)
		buf_addf(&b, " body.smime-part=%s", part);
	if (r->signer != NULL) {
		const ASN1_INTEGER *sn = X509_get0_serialNumber(r->signer);
		BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;

		if (hex != NULL && strlen(hex) <= AR_MAX_SERIAL_HEX)
			buf_addf(&b, " body.smime-serial=%s", hex);
		OPENSSL_free(hex);
		BN_free(bn);
		ERR_clear_error();
	}
	return buf_take(&b, e);
}

/* Decode the body (its transfer encoding) into a spool file; -1 with a permerror-worthy
 * message in e on bad encoding. */
static int
decode_to_spool(int body, off_t base, enum cte c, int out, struct err *e)
{
	struct cte_dec d;
	struct sink fs = { fd_sink_write, &out };
	unsigned char *buf;
	ssize_t n;
	int r = 0;

	if (body_rewind(body, base, e) != 0)
		return -1;
	if ((buf = malloc(CHUNK)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	if (cte_dec_init(&d, c, CTE_STRICT, e) != 0) {
		free(buf);
		return -1;
	}
	while (r == 0 && (n = io_read(body, buf, CHUNK)) > 0)
		r = cte_dec_write(&d, &fs, buf, (size_t)n, e);
	if (r == 0 && n < 0)
		r = err_sys(e, EX_IOERR, "cannot read temporary file");
	if (r == 0)
		r = cte_dec_finish(&d, &fs, e);
	cte_dec_free(&d);
	free(buf);
	return r;
}

/* A read BIO over a byte range of a file, in canonical CRLF form: the detached content
 * handed to CMS_verify without another copy on disk. */
#define RANGE_STEP (64 * 1024)

struct rangebio {
	int fd;
	off_t pos, end;
	struct canon c;
	int done;
	size_t olen, opos;
	unsigned char in[RANGE_STEP];
	unsigned char out[2 * RANGE_STEP + 2];
};

static int
rb_read(BIO *b, char *buf, int len)
{
	struct rangebio *r = BIO_get_data(b);
	ssize_t n;
	size_t k;

	if (r == NULL || len <= 0)
		return -1;
	while (r->opos == r->olen) {
		if (r->pos < r->end) {
			k = (size_t)(r->end - r->pos) < RANGE_STEP ? (size_t)(r->end - r->pos) : RANGE_STEP;
			do
				n = pread(r->fd, r->in, k, r->pos);
			while (n < 0 && errno == EINTR);
			if (n <= 0)
				return -1;	/* the range was there a moment ago */
			r->pos += n;
			r->olen = canon_update(&r->c, r->in, (size_t)n, (char *)r->out);
		} else if (!r->done) {
			r->olen = canon_final(&r->c, (char *)r->out);
			r->done = 1;
		} else {
			return 0;
		}
		r->opos = 0;
	}
	k = r->olen - r->opos < (size_t)len ? r->olen - r->opos : (size_t)len;
	memcpy(buf, r->out + r->opos, k);
	r->opos += k;
	return (int)k;
}

static long
rb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct rangebio *r = BIO_get_data(b);

	(void)num;
	(void)ptr;
	if (cmd == BIO_CTRL_EOF)
		return r == NULL || (r->done && r->opos == r->olen);
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
rb_destroy(BIO *b)
{
	free(BIO_get_data(b));
	BIO_set_data(b, NULL);
	return 1;
}

static int
rb_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* OpenSSL's BIO design imposes a method table that lives as long as the process. */
static BIO_METHOD *rb_method;

static BIO *
range_bio(int fd, off_t start, off_t len)
{
	struct rangebio *r;
	BIO *b;

	if (rb_method == NULL) {
		BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
		    "secmail range");

		if (m == NULL || !BIO_meth_set_read(m, rb_read) || !BIO_meth_set_ctrl(m, rb_ctrl)
		    || !BIO_meth_set_create(m, rb_create) || !BIO_meth_set_destroy(m, rb_destroy)) {
			BIO_meth_free(m);
			return NULL;
		}
		rb_method = m;
	}
	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->fd = fd;
	r->pos = start;
	r->end = start + len;
	canon_init(&r->c, CANON_CRLF);
	if ((b = BIO_new(rb_method)) == NULL) {
		free(r);
		return NULL;
	}
	BIO_set_data(b, r);
	return b;
}

/* Copy a byte range of a file to a sink. */
static int
range_to_sink(int fd, off_t start, off_t len, const struct sink *s, struct err *e)
{
	unsigned char *buf;
	ssize_t n;
	size_t k;

	if ((buf = malloc(CHUNK)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	while (len > 0) {
		k = (size_t)len < CHUNK ? (size_t)len : CHUNK;
		do
			n = pread(fd, buf, k, start);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			free(buf);
			return n < 0 ? err_sys(e, EX_IOERR, "cannot read the input again")
			    : err_set(e, EX_IOERR, "the input shrank while being read");
		}
		if (sink_write(s, buf, (size_t)n, e) != 0) {
			free(buf);
			return -1;
		}
		start += n;
		len -= n;
	}
	free(buf);
	return 0;
}

/* The store's certificates for the author's addresses (From; Sender too with
 * accept_sender): pinned, trusted as they are. */
static STACK_OF(X509) *
pin_certs(struct certstore *cs, const struct msg_header *h, int sender, struct err *e)
{
	static const char *const names[] = { "From", "Sender" };
	STACK_OF(X509) *st = sk_X509_new_null();
	struct addr_list l = { NULL, 0, 0 };
	struct certstore_entry ent;
	struct err ignore;
	size_t i, k;

	if (st == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	for (k = 0; k < (sender ? 2u : 1u); k++)
		for (i = msg_header_next(h, names[k], 0); i != (size_t)-1;
		    i = msg_header_next(h, names[k], i + 1))
			if (addr_parse(h->f[i].value, &l, &ignore) != 0)
				continue;	/* an unparsable From matches nothing */
	for (i = 0; cs != NULL && i < l.n; i++) {
		if (certstore_get(cs, l.v[i].spec, &ent, &ignore) != 0)
			continue;
		if (sk_X509_push(st, ent.signer))
			ent.signer = NULL;
		certstore_entry_free(&ent);
	}
	addr_list_free(&l);
	return st;
}

/* Does x name addr? */
static int
cert_names(X509 *x, const char *addr)
{
	struct err e;
	char **names = keys_cert_addrs(x, &e);
	size_t i;
	int yes = 0;

	for (i = 0; names != NULL && names[i] != NULL && !yes; i++)
		yes = addr_spec_eq(names[i], addr);
	keys_addrs_free(names);
	return yes;
}

int
smime_save_certs(struct certstore *cs, const struct cms_result *r, time_t latest,
    struct err *e)
{
	struct certstore_entry ent;
	size_t i;
	int n = 0, k;

	if (r->verdict != CMS_V_PASS || r->signer == NULL || r->signer_addrs == NULL)
		return 0;
	for (i = 0; r->signer_addrs[i] != NULL; i++) {
		certstore_entry_init(&ent);
		ent.addr = r->signer_addrs[i];
		ent.signer = r->signer;
		/* Only what passed the signer's policy, for this very address (issue 9 item 1). */
		ent.cert = r->enc_cert != NULL && cert_names(r->enc_cert, ent.addr) ? r->enc_cert
		    : r->signer;
		ent.signing_time = r->signing_time;
		ent.ncaps = r->ncaps < CERTSTORE_MAX_CAPS ? r->ncaps : CERTSTORE_MAX_CAPS;
		memcpy(ent.caps, r->caps, (size_t)ent.ncaps * sizeof ent.caps[0]);
		ent.chain = r->chain;
		k = certstore_put_at(cs, &ent, latest, e);
		if (k < 0)
			return -1;
		n += k;
	}
	return n;
}

enum kind {
	K_NONE,
	K_DETACHED,	/* multipart/signed */
	K_OPAQUE,	/* application/pkcs7-mime signed-data or certs-only (or no smime-type) */
	K_NESTED,	/* a multipart or message/rfc822 that may hold a multipart/signed */
	K_ENCRYPTED,	/* enveloped-data or authEnveloped-data, still encrypted */
	K_BROKEN,	/* a malformed header, or none */
};

static enum kind
message_kind(const struct msg_header *h, struct mime_type *ct, enum cte *c, struct err *e)
{
	const struct msg_field *f = msg_header_get(h, "Content-Type");
	const char *st;

	*c = cte_parse(msg_header_get(h, "Content-Transfer-Encoding") ?
	    msg_header_get(h, "Content-Transfer-Encoding")->value : NULL);
	if (h->n == 0 || h->defect[0] != '\0')
		return K_BROKEN;
	if (f == NULL || mime_type_parse(f->value, 0, ct, e) != 0) {
		err_clear(e);
		return K_NONE;
	}
	if (mime_type_is(ct, "multipart", "signed"))
		return K_DETACHED;
	if (mime_type_is(ct, "multipart", NULL) || mime_type_is(ct, "message", "rfc822"))
		return K_NESTED;
	if (mime_type_is(ct, "application", "pkcs7-mime")
	    || mime_type_is(ct, "application", "x-pkcs7-mime")) {
		st = mime_type_param(ct, "smime-type");
		/* RFC 8551 §3.2.2; without smime-type (s-nail, old clients) the CMS type
		 * decides. */
		if (st == NULL || strcasecmp(st, "signed-data") == 0 || strcasecmp(st, "certs-only") == 0
		    || strcasecmp(st, "signed-receipt") == 0)
			return K_OPAQUE;
		if (strcasecmp(st, "enveloped-data") == 0
		    || strcasecmp(st, "authEnveloped-data") == 0)
			return K_ENCRYPTED;
	}
	return K_NONE;
}

/* One verification: everything the steps below share. */
struct verify {
	const struct smime_verify_opts *vo;
	struct cms_verify_opts co;
	struct msg_header h;
	struct mime_type ct;
	enum cte cte;
	enum kind kind;
	const char *authserv;
	char host[256];
	struct ar_decrypt dec;
	int have_dec;
	struct vwalk v;
	int body, own;		/* the body, readable again from base */
	off_t base;
	int content;		/* opaque: the encapsulated content (canonical) */
	struct msg_header entity;	/* opaque: the signed entity's header */
	off_t entity_hdr;
	int have_entity;
	STACK_OF(X509) *pinned;
	struct msg_header shown;	/* header protection: the header a reader gets */
	struct hp_info hpi;
	int have_hp;
	struct err *e;
};

static void
verify_free(struct verify *s)
{
	free(s->v.sig.p);
	if (s->v.dec_on)
		cte_dec_free(&s->v.dec);
	msg_header_free(&s->v.author);
	msg_header_free(&s->v.entity);
	msg_header_free(&s->entity);
	msg_header_free(&s->shown);
	msg_header_free(&s->h);
	mime_type_free(&s->ct);
	sk_X509_pop_free(s->pinned, X509_free);
	if (s->content >= 0)
		close(s->content);
	if (s->body >= 0 && s->own)
		close(s->body);
}

/* Transient failures only: I/O, memory, temporary files. Anything else a reader reports is
 * about the input, which gets a verdict, never a lost message. */
static int
transient(const struct err *e)
{
	return e->code == EX_IOERR || e->code == EX_OSERR || e->code == EX_CANTCREAT
	    || e->code == EX_TEMPFAIL;
}

/* With --after-decrypt: the first Secmail-Decryption record claiming our authserv-id (what
 * smime-decrypt wrote; it removed forged ones). Every field claiming us is then removed
 * (ar_strip) and the record put back as it came, at the top. */
static int
strip_forged(struct verify *s)
{
	struct msg_field *f = NULL;
	char *raw = NULL, *value = NULL;
	size_t i, rawlen = 0;

	for (i = 0; s->vo->after_decrypt && i < s->h.n; i++)
		if (strcasecmp(s->h.f[i].name, AR_DECRYPT_FIELD) == 0
		    && ar_claims(s->h.f[i].value, s->authserv)) {
			if (ar_decrypt_parse(s->h.f[i].value, &s->dec) == 0)
				f = &s->h.f[i];
			break;
		}
	if (f != NULL) {
		rawlen = f->rawlen;
		if ((raw = malloc(rawlen + 1)) == NULL || (value = strdup(f->value)) == NULL) {
			free(raw);
			return err_set(s->e, EX_OSERR, "out of memory");
		}
		memcpy(raw, f->raw, rawlen + 1);
	}
	ar_strip(&s->h, s->authserv);
	if (f == NULL)
		return 0;
	/* Put back, as it came (a record that parsed always folds again). */
	if (msg_header_insert(&s->h, 0, AR_DECRYPT_FIELD, value, s->e) != 0) {
		free(raw);
		free(value);
		return transient(s->e) ? -1 : (err_clear(s->e), 0);
	}
	s->have_dec = 1;
	free(value);
	free(s->h.f[0].raw);
	s->h.f[0].raw = raw;
	s->h.f[0].rawlen = rawlen;
	return 0;
}

static int
pins(struct verify *s, const struct msg_header *author)
{
	sk_X509_pop_free(s->pinned, X509_free);
	s->pinned = NULL;
	if (s->vo->store != NULL && (s->pinned = pin_certs(s->vo->store, author,
	    s->vo->accept_sender, s->e)) == NULL)
		return -1;
	s->co.pinned = s->pinned;
	return 0;
}

/* multipart/signed, at the top or nested: 0 with r set, -1 on transient errors. */
static int
verify_detached(struct verify *s, struct cms_result *r)
{
	struct vwalk *v = &s->v;
	struct mime_walk w;
	struct io_in bin;
	struct err *e = s->e;
	BIO *cbio;
	int walked, rc;

	v->sig.max = SMIME_MAX_SIG;
	v->sigsink.write = membuf_write;
	v->sigsink.ctx = &v->sig;
	mime_walk_init(&w);
	w.begin = vw_begin;
	w.raw = vw_raw;
	w.data = vw_data;
	w.end = vw_end;
	w.ctx = v;
	if (body_rewind(s->body, s->base, e) != 0
	    || io_in_init(&bin, s->body, "message body", e) != 0)
		return -1;
	walked = mime_walk(&w, &bin, &s->h, e);
	io_in_free(&bin);
	if (walked < 0 && transient(e))
		return -1;
	if (s->kind == K_NESTED && !v->signed_done && walked >= 0)
		set_verdict(r, CMS_V_NONE, "the message is not S/MIME signed");
	else if (walked < 0)
		set_verdict(r, CMS_V_PERMERROR, "cannot read the signed message: %s", e->msg);
	else if (w.flags & MIME_F_CR_DELIMITER)
		set_verdict(r, CMS_V_PERMERROR, "a MIME boundary after or before a bare CR: "
		    "readers that end lines there see other parts than the ones checked");
	else if (v->nparts == 0)
		set_verdict(r, CMS_V_PERMERROR, "the multipart/signed has no parts (wrong "
		    "boundary?)");
	else if (v->nparts < 2)
		set_verdict(r, CMS_V_PERMERROR, "the multipart/signed has no signature part");
	else if (!v->sig_type_ok)
		set_verdict(r, CMS_V_PERMERROR, "the second part of the multipart/signed is "
		    "%s, not application/pkcs7-signature", v->sig_type);
	else if (v->nparts > 2)
		set_verdict(r, CMS_V_PERMERROR, "the multipart/signed has %d parts, not 2",
		    v->nparts);
	else if (v->sig.len == 0)
		set_verdict(r, CMS_V_PERMERROR, "the signature part is empty");
	else {
		if (pins(s, v->forwarded ? &v->author : &s->h) != 0)
			return -1;
		if ((cbio = range_bio(s->body, s->base + (off_t)v->raw_start, (off_t)v->raw_len))
		    == NULL)
			return err_ssl(e, EX_OSERR, "out of memory");
		rc = cms_verify(v->sig.p, v->sig.len, cbio, NULL, &s->co, r, e);
		BIO_free(cbio);
		if (rc == 0 && s->vo->sig_der != NULL) {
			buf_add(s->vo->sig_der, v->sig.p, v->sig.len);
			if (buf_check(s->vo->sig_der, e) != 0) {
				cms_result_free(r);
				return -1;
			}
		}
		return rc;
	}
	err_clear(e);
	return 0;
}

/* Never takes a line for an mbox "From " line: the signed entity has none. */
static int
no_stop(void *ctx, const unsigned char *line, size_t n)
{
	(void)ctx;
	(void)line;
	(void)n;
	return 0;
}

/* The header of the opaque content (canonical CRLF), read leniently. */
static int
opaque_entity(struct verify *s)
{
	struct io_in cin;
	int rc;

	if (lseek(s->content, 0, SEEK_SET) != 0)
		return err_sys(s->e, EX_IOERR, "cannot rewind temporary file");
	if (io_in_init(&cin, s->content, "signed content", s->e) != 0)
		return -1;
	s->entity.lenient = 1;
	rc = msg_header_read_part(&cin, &s->entity, no_stop, NULL, s->e);
	io_in_free(&cin);
	if (rc != 0)
		return -1;
	s->entity_hdr = (off_t)s->entity.bytes;
	s->have_entity = 1;
	return 0;
}

/* application/pkcs7-mime: 0 with r set, -1 on transient errors. */
static int
verify_opaque(struct verify *s, struct cms_result *r)
{
	struct buf dcms = { 0 };
	struct err *e = s->e;
	BIO *cbio = NULL;
	off_t clen;
	int dfd, split, hasc = 0, type = NID_undef, rc = -1;

	if ((dfd = io_spool(e)) < 0 || (s->content = io_spool(e)) < 0)
		goto out;
	if (decode_to_spool(s->body, s->base, s->cte, dfd, e) != 0) {
		if (e->code != EX_DATAERR)
			goto out;
		set_verdict(r, CMS_V_PERMERROR, "cannot decode the S/MIME body: %s", e->msg);
		rc = 0;
		goto out;
	}
	if (lseek(dfd, 0, SEEK_SET) != 0) {
		err_sys(e, EX_IOERR, "cannot rewind temporary file");
		goto out;
	}
	/* The content streams into its spool; only the rest is parsed whole. */
	if ((split = cms_opaque_split(dfd, s->content, &dcms, &hasc, &type, e)) != 0) {
		if (split < 0 && e->code != EX_DATAERR)
			goto out;
		if (split > 0 && (type == NID_pkcs7_enveloped
		    || type == NID_id_smime_ct_authEnvelopedData))
			set_verdict(r, CMS_V_NONE, "the message is encrypted (%s) and was not "
			    "decrypted: there is no signature to check", OBJ_nid2sn(type));
		else if (split > 0)
			set_verdict(r, CMS_V_PERMERROR, "%s", e->msg);
		else
			set_verdict(r, CMS_V_PERMERROR, "the signature is not a valid CMS "
			    "structure: %s", e->msg);
		rc = 0;
		goto out;
	}
	if ((clen = lseek(s->content, 0, SEEK_END)) < 0) {
		err_sys(e, EX_IOERR, "cannot seek temporary file");
		goto out;
	}
	if (hasc && (cbio = range_bio(s->content, 0, clen)) == NULL) {
		err_ssl(e, EX_OSERR, "out of memory");
		goto out;
	}
	if (pins(s, &s->h) != 0 || cms_verify((const unsigned char *)dcms.p, dcms.len, cbio, NULL,
	    &s->co, r, e) != 0)
		goto out;
	rc = r->verdict == CMS_V_PASS ? opaque_entity(s) : 0;
	if (rc == 0 && s->vo->sig_der != NULL) {
		buf_add(s->vo->sig_der, dcms.p, dcms.len);
		rc = buf_check(s->vo->sig_der, e);
	}
	if (rc != 0)
		cms_result_free(r);
out:
	BIO_free(cbio);
	buf_free(&dcms);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* A signed message whose structure readers may read differently from us (with --keep it
 * is written as it came, and a reader parses it itself): two Content-Type or
 * Content-Transfer-Encoding fields (we take the first, some take the last), a boundary given
 * more than once (RFC 2231 forms against a plain one: readers differ on which wins), or a
 * transfer encoding on the multipart/signed (RFC 2045 §6.4 allows none but 7bit, 8bit and
 * binary; a reader that decodes it sees other parts). 1 with r set, else 0. */
static int
ambiguous(struct verify *s, struct cms_result *r)
{
	const struct msg_field *f = msg_header_get(&s->h, "Content-Type");
	size_t nct = msg_header_count(&s->h, "Content-Type");
	size_t ncte = msg_header_count(&s->h, "Content-Transfer-Encoding");
	struct err e;
	int nb;

	if (nct > 1 || ncte > 1) {
		set_verdict(r, CMS_V_PERMERROR, "the message has %zu %s fields (RFC 2045 allows "
		    "one): a reader may take another than the one checked", nct > 1 ? nct : ncte,
		    nct > 1 ? "Content-Type" : "Content-Transfer-Encoding");
		return 1;
	}
	if (s->kind != K_DETACHED)
		return 0;
	if (!identity(s->cte)) {
		set_verdict(r, CMS_V_PERMERROR, "the multipart/signed has a Content-Transfer-Encoding "
		    "(RFC 2045 allows none on a multipart): a reader that decodes it sees other "
		    "parts");
		return 1;
	}
	if (f != NULL && (nb = mime_type_param_count(f->value, "boundary", &e)) > 1) {
		set_verdict(r, CMS_V_PERMERROR, "the multipart/signed gives its boundary %d times: "
		    "readers differ on which one holds, so they may see other parts", nb);
		return 1;
	}
	return 0;
}

/* The verdict before the mail policy: 0 with r set, -1 on transient errors. */
static int
verify_kind(struct verify *s, struct cms_result *r)
{
	switch (s->kind) {
	case K_BROKEN:
		if (s->h.n == 0 && s->h.defect[0] == '\0')
			set_verdict(r, CMS_V_PERMERROR, "the input is not a message (no header "
			    "fields)");
		else
			set_verdict(r, CMS_V_PERMERROR, "the header is malformed: %s; the header "
			    "ends there (a blank line was put before that line)",
			    s->h.defect[0] ? s->h.defect : "no header fields");
		return 0;
	case K_ENCRYPTED:
		set_verdict(r, CMS_V_NONE, "the message is encrypted and was not decrypted: there "
		    "is no signature to check");
		return 0;
	case K_NONE:
		set_verdict(r, CMS_V_NONE, "the message is not S/MIME signed");
		return 0;
	case K_DETACHED:
	case K_NESTED:
		if (s->kind == K_DETACHED && ambiguous(s, r))
			return 0;
		return verify_detached(s, r);
	case K_OPAQUE:
		if (ambiguous(s, r))
			return 0;
		return verify_opaque(s, r);
	}
	return 0;
}

/* The signed part's path when it is not the whole message. */
static const char *
signed_part(const struct verify *s)
{
	return s->kind == K_NESTED && s->v.signed_done ? s->v.signed_path : NULL;
}

/* RFC 9788 §4: a signature over the whole message whose signed entity carries hp: the
 * protected fields are what a reader gets, and the policy checks them. When the two headers
 * together hold more fields than a header may (an attacker adding fields outside), the
 * protected one cannot be shown: permerror, the message written as it came. 0, or -1
 * (memory). */
static int
protected_header(struct verify *s, const struct msg_header *entity, struct cms_result *r)
{
	int encrypted = s->have_dec && s->dec.result == AR_DEC_DECRYPTED;
	struct err e;

	memset(&s->hpi, 0, sizeof s->hpi);
	if (r->verdict != CMS_V_PASS || entity == NULL || signed_part(s) != NULL
	    || s->v.forwarded || hp_mode_of(entity) == HP_NONE)
		return 0;
	if (hp_merge(&s->h, entity, encrypted, &s->shown, &s->hpi, &e) != 0) {
		if (e.code != EX_DATAERR) {
			*s->e = e;
			return -1;
		}
		r->verdict = CMS_V_PERMERROR;
		snprintf(r->reason, sizeof r->reason, "the header is protected (hp=%s), but it "
		    "cannot be shown: %.200s", hp_mode_name(hp_mode_of(entity)), e.msg);
		memset(&s->hpi, 0, sizeof s->hpi);
		return 0;
	}
	s->have_hp = 1;
	return 0;
}

/* RFC 2634 §1.1 triple wrapping, or a gateway signing what was encrypted already: the
 * signature covers the ciphertext; what it decrypts to (which a reader shows) the signer
 * need not have seen. A pass says so. */
static void
encrypted_note(const struct msg_header *entity, struct cms_result *r)
{
	const struct msg_field *f = entity != NULL ? msg_header_get(entity, "Content-Type") : NULL;
	struct mime_type ct;
	enum cte c;
	struct err e;
	size_t len;

	memset(&ct, 0, sizeof ct);
	if (r->verdict != CMS_V_PASS || f == NULL)
		return;
	if (message_kind(entity, &ct, &c, &e) == K_ENCRYPTED) {
		len = strlen(r->reason);
		snprintf(r->reason + len, sizeof r->reason - len, "%sthe signed content is encrypted: "
		    "the signature covers the ciphertext, not what it decrypts to", len ? "; " : "");
	}
	mime_type_free(&ct);
}

static int
policy(struct verify *s, struct cms_result *r)
{
	struct policy_facts f;

	memset(&f, 0, sizeof f);
	f.outer = &s->h;
	f.author = s->v.forwarded ? &s->v.author : &s->h;
	f.part = signed_part(s);
	f.forwarded = s->v.forwarded;
	f.now = s->co.now ? s->co.now : time(NULL);
	f.accept_sender = s->vo->accept_sender;
	f.dec = s->have_dec ? &s->dec : NULL;
	if (s->kind == K_DETACHED && s->v.nparts >= 1)
		f.entity = &s->v.entity;
	else if (s->kind == K_OPAQUE && s->have_entity)
		f.entity = &s->entity;
	if (protected_header(s, f.entity, r) != 0)
		return -1;
	/* With --keep the outer header is written, so its From is the one a reader sees (one
	 * that knows RFC 9788 sees the protected From, checked below). */
	if (s->have_hp && !s->vo->keep)
		f.author = &s->shown;
	s->hpi.outer_written = s->have_hp && s->vo->keep;
	if (f.entity != NULL && f.part == NULL && !f.forwarded)
		f.hp = &s->hpi;
	policy_apply(&f, r);
	encrypted_note(f.entity, r);
	if (s->have_hp && s->vo->keep && r->verdict == CMS_V_PASS && r->signer_addrs != NULL) {
		char why[sizeof r->reason], *m = NULL;
		int by = 0;

		if (policy_from(&s->shown, r->signer_addrs, s->vo->accept_sender, &m, &by, why,
		    sizeof why) != CMS_V_PASS)
			set_verdict(r, CMS_V_POLICY, "the protected header (what a reader of RFC 9788 "
			    "shows): %.400s", why);
		free(m);
	}
	return 0;
}

/* --save-certs, and the cipher the message came in: before the header is written, so a
 * failure can be told in it (and never turns into a failure exit after the message). */
static void
save(struct verify *s, struct cms_result *r)
{
	struct err e;
	time_t now = s->co.now ? s->co.now : time(NULL);
	int nid;

	if (s->vo->save == NULL || r->verdict != CMS_V_PASS)
		return;
	if (smime_save_certs(s->vo->save, r, now + POLICY_CLOCK_SKEW, &e) < 0)
		goto bad;
	/* Issue 9 item 2: the cipher counts only from a message whose signature passed. */
	if (s->have_dec && s->dec.result == AR_DEC_DECRYPTED && r->identifier != NULL
	    && (nid = OBJ_txt2nid(s->dec.cipher)) != NID_undef
	    && certstore_note_received(s->vo->save, r->identifier, nid, &e) < 0)
		goto bad;
	ERR_clear_error();
	return;
bad:
	ERR_clear_error();
	snprintf(r->warning, sizeof r->warning, "the certificate store was not updated: %.250s",
	    e.msg);
	{
		size_t len = strlen(r->reason);

		snprintf(r->reason + len, sizeof r->reason - len, "%s(certificate store not "
		    "updated: %.150s)", len ? "; " : "", e.msg);
	}
}

/* The Authentication-Results field; when ours cannot be folded (it always can: every
 * property is bounded), a short one, never none. */
static int
put_ar(struct io_out *o, const char *authserv, const struct cms_result *r, const char *part,
    const char *eol, struct err *e)
{
	char *ar = ar_value(authserv, r, part, e);
	int rc;

	if (ar == NULL)
		return -1;
	rc = put_field(o, "Authentication-Results", ar, eol, e);
	free(ar);
	if (rc == 0 || o->failed)
		return rc;
	if ((ar = ar_value(authserv, &(struct cms_result){ .verdict = r->verdict }, NULL, e))
	    == NULL)
		return -1;
	rc = put_field(o, "Authentication-Results", ar, eol, e);
	free(ar);
	return rc;
}

/* A field as it came, but for its bare CRs (one not before an LF), written as spaces: a
 * reader that takes a bare CR for a line end would see a field hidden inside another one
 * (an Authentication-Results claiming our authserv-id, a second From) that ar_strip and the
 * policy never saw. */
static int
put_raw(struct io_out *o, const char *raw, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++)
		if (raw[i] == '\r' && (i + 1 >= n || raw[i + 1] != '\n')) {
			if (io_out_write(o, raw + start, i - start) != 0 || io_out_puts(o, " ") != 0)
				return -1;
			start = i + 1;
		}
	return io_out_write(o, raw + start, n - start);
}

static int
write_header(struct verify *s, struct io_out *o, const struct cms_result *r, int content_too)
{
	const char *eol = s->h.crlf ? "\r\n" : "\n";
	/* A pass with header protection: the protected fields in place of the outer ones. */
	const struct msg_header *h = !content_too && s->have_hp ? &s->shown : &s->h;
	size_t i;

	if (s->h.mbox_from != NULL && io_out_puts(o, s->h.mbox_from) != 0)
		return out_err(o, s->e);
	if (put_ar(o, s->authserv, r, signed_part(s), eol, s->e) != 0)
		return o->failed ? out_err(o, s->e) : -1;
	for (i = 0; i < h->n; i++) {
		if (!content_too && is_entity_field(h->f[i].name))
			continue;
		if (put_raw(o, h->f[i].raw, h->f[i].rawlen) != 0)
			return out_err(o, s->e);
	}
	return 0;
}

/* The content fields of the signed entity: only they join the outer header (issue 9 item
 * 5d: a From inside the signature is never shown as the message's). A bare CR in them is
 * written as a space: the digest takes it for a line end (RFC 8551 §3.1.1 canonical form),
 * so anyone may turn a signed CRLF into one, and a reader that splits lines at it would
 * see a signed From or Subject as a field of the message, which our parser never did. */
static int
entity_fields(struct msg_header *eh, const struct sink *sk, struct err *e)
{
	size_t i;

	msg_header_no_bare_cr(eh);
	for (i = 0; i < eh->n; i++)
		if (is_entity_field(eh->f[i].name)
		    && sink_write(sk, eh->f[i].raw, eh->f[i].rawlen, e) != 0)
			return -1;
	return 0;
}

static int
write_message(struct verify *s, struct io_out *o, const struct cms_result *r)
{
	struct sink os = io_out_sink(o);
	const char *eol = s->h.crlf ? "\r\n" : "\n";
	struct eolsink es;
	struct sink esink;
	struct err *e = s->e;

	/* Anything that did not pass, a signature over only a part, and --keep: the message
	 * as it came, so the reader can still look at what was sent. */
	if (s->vo->keep || r->verdict != CMS_V_PASS || signed_part(s) != NULL) {
		if (write_header(s, o, r, 1) != 0)
			return -1;
		if (io_out_puts(o, eol) != 0)
			return out_err(o, e);
		return file_to_sink(s->body, s->base, &os, e);
	}
	if (write_header(s, o, r, 0) != 0)
		return -1;
	if (s->kind == K_DETACHED) {
		/* The signed part as it came, its content fields joining the header. */
		struct vwalk *v = &s->v;
		uint64_t hdr = v->entity_hdr <= v->raw_len ? v->entity_hdr : v->raw_len;
		size_t i, fields = 0;

		for (i = 0; i < v->entity.n; i++)
			fields += v->entity.f[i].rawlen;
		if (entity_fields(&v->entity, &os, e) != 0)
			return -1;
		/* Its own blank line when it has one, else ours. */
		if (fields < hdr)
			hdr = fields;
		else if (io_out_puts(o, eol) != 0)
			return out_err(o, e);
		return range_to_sink(s->body, s->base + (off_t)(v->raw_start + hdr),
		    (off_t)(v->raw_len - hdr), &os, e);
	}
	/* Opaque: the encapsulated (canonical) content in the message's line ends. */
	es.o = o;
	es.lf = !s->h.crlf;
	canon_init(&es.c, CANON_LF);
	esink.write = eol_write;
	esink.ctx = &es;
	if (entity_fields(&s->entity, &esink, e) != 0 || sink_write(&esink, "\r\n", 2, e) != 0
	    || file_to_sink(s->content, s->entity_hdr, &esink, e) != 0 || eol_finish(&es, e) != 0)
		return -1;
	return 0;
}

int
smime_verify(struct io_in *in, struct io_out *o, const struct smime_verify_opts *vo,
    struct cms_result *r, struct err *e)
{
	struct verify s;
	ssize_t n;
	int rc = -1;

	memset(r, 0, sizeof *r);
	memset(&s, 0, sizeof s);
	s.vo = vo;
	s.co = vo->cms;
	s.e = e;
	s.body = s.content = -1;
	s.own = 1;
	msg_header_init(&s.h);
	s.h.lenient = 1;
	s.authserv = vo->authserv_id != NULL ? vo->authserv_id
	    : ar_default_authserv(s.host, sizeof s.host);
	/* The filter contract: empty input is never turned into a message. */
	if ((n = io_in_fill(in, 1)) <= 0) {
		if (n < 0)
			*e = in->e;
		else
			err_set(e, EX_NOINPUT, "the input is empty: no message to verify");
		goto out;
	}
	if (msg_header_read(in, &s.h, e) != 0 || strip_forged(&s) != 0)
		goto out;
	if ((s.body = body_open(in, &s.base, &s.own, e)) < 0)
		goto out;
	s.kind = message_kind(&s.h, &s.ct, &s.cte, e);
	if (verify_kind(&s, r) != 0)
		goto out;
	if (policy(&s, r) != 0) {
		cms_result_free(r);
		goto out;
	}
	save(&s, r);
	if (vo->strict && r->verdict != CMS_V_PASS) {
		rc = 1;
		goto out;
	}
	if (write_message(&s, o, r) != 0 || io_out_flush(o) != 0) {
		if (o->failed)
			out_err(o, e);
		goto out;
	}
	rc = 0;
out:
	verify_free(&s);
	if (rc < 0)
		cms_result_free(r);
	return rc;
}
