/* pack.c — mime-pack's work: a plain message plus files in, a MIME message out (RFC 2045,
 * 2046, 2047, 2183, 2231), streaming every body; and message/partial cutting and joining. */
#include "pack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "charset.h"
#include "cte.h"
#include "mime.h"
#include "msg.h"
#include "param.h"
#include "rfc2047.h"

#define CHUNK (256 * 1024)
/* A body on standard input up to this size stays where it was read, in the input's buffer; a
 * bigger one is spooled to a temp file (bounded memory either way). Most bodies are small:
 * no temp file and no copy for them. */
#define BODY_MEM (64 * 1024)

/* An entity to write: its content fields and where its body comes from. */
struct src {
	int fd;			/* body bytes, read from the start; -1: in mem, or none */
	const unsigned char *mem;	/* or the body itself (at most BODY_MEM bytes), in the
					 * input's buffer (not ours to free) */
	size_t memlen, memoff;
	const char *name;	/* for messages */
	struct sniff sn;	/* text or binary, charset, and what the chooser needs */
	enum sniff_kind kind;	/* after pass 1 */
	int binary_early;	/* pass 1 stopped early: the data is binary */
	int shared;		/* a file others may write to while it is read twice (not a
				 * private spool, not the input's buffer) */
	struct sniff again;	/* pass 2's counts, for a shared file that is not binary */
};

struct packer {
	const struct pack_opts *o;
	struct io_out *out;
	const char *eol;
	unsigned char *chunk;
	struct err *e;
	struct cte_enc enc;	/* one encoder for every part: its buffers are allocated once */
	int enc_ready;		/* enc holds buffers (cte_enc_free at the end) */
};

/* ---- output helpers ---- */

static int
put(struct packer *p, const void *s, size_t n)
{
	if (io_out_write(p->out, s, n) != 0) {
		*p->e = p->out->e;
		return -1;
	}
	return 0;
}

static int
puts_(struct packer *p, const char *s)
{
	return put(p, s, strlen(s));
}

/* Write text whose lines end in LF or CRLF with the output's line ends instead; carry
 * remembers a CR at the end of the previous chunk. Bare CRs are left alone (callers only
 * send text that has none). */
static int
put_lines(struct packer *p, const unsigned char *s, size_t n, int *carry)
{
	const unsigned char *q, *end = s + n;
	size_t len;

	if (*carry) {
		*carry = 0;
		if (n > 0 && s[0] == '\n') {
			if (puts_(p, p->eol) != 0)
				return -1;
			s++;
		} else if (put(p, "\r", 1) != 0)
			return -1;
	}
	while (s < end) {
		q = memchr(s, '\n', (size_t)(end - s));
		if (q == NULL) {
			len = (size_t)(end - s);
			if (len > 0 && s[len - 1] == '\r') {
				*carry = 1;
				len--;
			}
			return put(p, s, len);
		}
		len = (size_t)(q - s);
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (put(p, s, len) != 0 || puts_(p, p->eol) != 0)
			return -1;
		s = q + 1;
	}
	return 0;
}

/* A generated field, folded (msg_fold) with the output's line ends. */
static int
put_field(struct packer *p, const char *name, const char *value)
{
	char *f = msg_fold(name, value, p->eol, p->e);
	int r;

	if (f == NULL)
		return -1;
	r = puts_(p, f);
	free(f);
	return r;
}

/* The charset of the user's locale: text that is neither ASCII nor UTF-8 is taken to be in it. */
static const char *
locale_cs(const struct packer *p)
{
	return p->o->locale_charset != NULL ? p->o->locale_charset() : charset_locale();
}

/* ---- header text ---- */

static int
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static const char *const addr_fields[] = {
	"from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to",
	"resent-cc", "resent-bcc", "resent-sender", "disposition-notification-to", NULL,
};

/* Structured fields whose non-ASCII content cannot be encoded words (RFC 2047 §5 allows them
 * only in unstructured text, comments and phrases): passed through as they are. */
static const char *const raw_fields[] = {
	"date", "message-id", "in-reply-to", "references", "received", "return-path",
	"resent-date", "resent-message-id", "mime-version", "dkim-signature", NULL,
};

static int
in_list(const char *const *l, const char *name)
{
	for (; *l; l++)
		if (strcasecmp(*l, name) == 0)
			return 1;
	return 0;
}

/* RFC 2047 encoding of UTF-8 text as a malloc'd string; col: where it will start. */
static char *
enc2047(const char *text, enum rfc2047_ctx ctx, size_t col, struct err *e)
{
	struct buf b = BUF_INIT;

	if (rfc2047_encode(&b, text, ctx, col, e) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, e);
}

/* A display name (or group name) as a phrase: atoms, a quoted-string, or encoded words
 * (RFC 2047 §5 rule 3). */
static int
add_phrase(struct buf *b, const char *name, struct err *e)
{
	return rfc2047_encode(b, name, RFC2047_PHRASE, 0, e);
}

/* Rebuild an address list with encoded display names. */
static char *
encode_addresses(const char *value, struct err *e)
{
	struct addr_list l = { NULL, 0, 0 };
	struct buf b = BUF_INIT;
	const char *group = NULL;
	size_t i;

	if (addr_parse(value, &l, e) != 0) {
		addr_list_free(&l);	/* what was parsed before the error */
		return NULL;
	}
	for (i = 0; i < l.n; i++) {
		const struct addr *a = &l.v[i];
		int same = group != NULL && a->group != NULL && strcmp(group, a->group) == 0;

		if (group != NULL && !same) {
			buf_addc(&b, ';');
			group = NULL;
		}
		if (i > 0)
			buf_adds(&b, ", ");
		if (a->group != NULL && !same) {
			if (add_phrase(&b, a->group, e) != 0)
				goto fail;
			buf_adds(&b, ": ");
			group = a->group;
		}
		if (a->name != NULL && *a->name != '\0') {
			if (add_phrase(&b, a->name, e) != 0)
				goto fail;
			buf_adds(&b, " <");
			buf_adds(&b, a->spec);
			buf_addc(&b, '>');
		} else
			buf_adds(&b, a->spec);
	}
	if (group != NULL)
		buf_addc(&b, ';');
	addr_list_free(&l);
	return buf_take(&b, e);
fail:
	addr_list_free(&l);
	buf_free(&b);
	return NULL;
}

/* Does the field's raw text have a line over RFC 5322 §2.1.1's 998 octets? */
static int
has_long_line(const struct msg_field *f)
{
	size_t i, start = 0;

	for (i = 0; i < f->rawlen; i++)
		if (f->raw[i] == '\n') {
			if (i - start > MSG_MAX_OUT_LINE + 1)	/* + 1: a CR before the LF */
				return 1;
			start = i + 1;
		}
	return f->rawlen - start > MSG_MAX_OUT_LINE;
}

/* One input header field, raw, or re-encoded when it holds non-ASCII text (RFC 2047) or a
 * line too long to send (then it is folded, its long words encoded). */
static int
write_input_field(struct packer *p, const struct msg_field *f)
{
	char *v;
	int carry = 0, r, long_line = has_long_line(f);

	if (long_line && in_list(raw_fields, f->name))
		return err_set(p->e, EX_DATAERR, "header field %s has a line over %d octets",
		    f->name, MSG_MAX_OUT_LINE);
	if (!long_line &&
	    (p->o->utf8_headers || is_ascii(f->value) || in_list(raw_fields, f->name)))
		return put_lines(p, (const unsigned char *)f->raw, f->rawlen, &carry);
	if (!charset_utf8_valid(f->value, strlen(f->value)))
		return err_set(p->e, EX_DATAERR, "header field %s is neither ASCII nor UTF-8",
		    f->name);
	if (in_list(addr_fields, f->name))
		v = encode_addresses(f->value, p->e);
	else
		v = enc2047(f->value, RFC2047_TEXT, strlen(f->name) + 2, p->e);
	if (v == NULL)
		return err_wrap(p->e, "header field %s", f->name);
	r = put_field(p, f->name, v);
	free(v);
	return r;
}

/* ---- reading sources: pass 1 ---- */

/* Regular files are read twice; anything else (a pipe, a terminal) is copied to a spool. */
static int
open_source(const char *path, struct src *s, unsigned char *chunk, struct err *e)
{
	struct stat st;
	ssize_t n;
	int fd, sp;

	memset(s, 0, sizeof *s);
	s->name = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, EX_NOINPUT, "cannot open %s", path);
	if (fstat(fd, &st) != 0) {
		err_sys(e, EX_IOERR, "cannot stat %s", path);
		close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(e, EX_NOINPUT, "cannot attach %s: it is a directory", path);
	}
	if (S_ISREG(st.st_mode)) {
		s->fd = fd;
		s->shared = 1;
		return 0;
	}
	if ((sp = io_spool(e)) < 0) {
		close(fd);
		return -1;
	}
	while ((n = io_read(fd, chunk, CHUNK)) > 0)
		if (io_write_all(sp, chunk, (size_t)n) != 0) {
			err_sys(e, EX_IOERR, "write error: spool file");
			goto fail;
		}
	if (n < 0) {
		err_sys(e, EX_IOERR, "read error: %s", path);
		goto fail;
	}
	close(fd);
	s->fd = sp;
	return 0;
fail:
	close(fd);
	close(sp);
	return -1;
}

/* The next bytes of a source, from its file or its memory: as io_read. */
static ssize_t
src_read(struct src *s, unsigned char *buf, size_t n)
{
	size_t k;

	if (s->fd >= 0)
		return io_read(s->fd, buf, n);
	k = s->memlen - s->memoff < n ? s->memlen - s->memoff : n;
	if (k > 0)
		memcpy(buf, s->mem + s->memoff, k);
	s->memoff += k;
	return (ssize_t)k;
}

static void
src_close(struct src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->mem = NULL;
	s->memlen = s->memoff = 0;
	s->shared = 0;
}

static int
rewind_source(struct src *s, struct err *e)
{
	if (s->fd < 0) {
		s->memoff = 0;
		return 0;
	}
	if (lseek(s->fd, 0, SEEK_SET) != 0)
		return err_sys(e, EX_IOERR, "cannot rewind %s", s->name);
	sniff_init(&s->again);
	return 0;
}

/* Pass 2 holds more of something than pass 1 counted? Every count only grows as bytes come,
 * so this is known before the bytes are used. */
static int
grew(const struct cte_stats *b, const struct cte_stats *a)
{
	return b->bytes > a->bytes || b->lines > a->lines || b->nul > a->nul ||
	    b->nonascii > a->nonascii || b->ctl > a->ctl || b->bare_cr > a->bare_cr ||
	    b->bare_lf > a->bare_lf || b->longest > a->longest || b->cur > a->longest ||
	    b->from_lines > a->from_lines || b->ws_lines > a->ws_lines ||
	    b->dot_lines > a->dot_lines || b->utf8_bad > a->utf8_bad;
}

static int
same(const struct cte_stats *b, const struct cte_stats *a)
{
	return !grew(b, a) && b->bytes == a->bytes && b->lines == a->lines &&
	    b->nonascii == a->nonascii && b->bare_lf == a->bare_lf &&
	    b->longest == a->longest && b->from_lines == a->from_lines &&
	    b->ws_lines == a->ws_lines && b->dot_lines == a->dot_lines &&
	    b->utf8_bad == a->utf8_bad && b->ends_nl == a->ends_nl;
}

/*
 * Pass 2's read: as src_read, but a file someone else can write to must hold what pass 1
 * saw, since the type, charset and transfer encoding were chosen from it. A file changed in
 * between (7bit text that now has a bare CR, which would arrive as a line break, or a
 * "From " line that a signature does not survive) is an error before the changed bytes are
 * used, or at its end when it shrank; bytes appended after pass 1 are left out. Binary data
 * goes as base64 and needs no check.
 */
static ssize_t
src_read_again(struct src *s, unsigned char *buf, size_t n, struct err *e)
{
	uint64_t left = s->sn.st.bytes - s->again.st.bytes;
	ssize_t r;

	/* What was appended after pass 1 is not read (a log file being written): the part
	 * is what pass 1 saw. */
	if (s->shared && !s->binary_early && n > left)
		n = (size_t)left;
	r = n > 0 ? src_read(s, buf, n) : 0;
	if (r < 0) {
		err_sys(e, EX_IOERR, "read error: %s", s->name);
		return -1;
	}
	if (!s->shared || s->binary_early)
		return r;
	if (r > 0)
		sniff_update(&s->again, buf, (size_t)r);
	else
		cte_scan_final(&s->again.st);
	if (r > 0 ? grew(&s->again.st, &s->sn.st) : !same(&s->again.st, &s->sn.st)) {
		err_set(e, EX_TEMPFAIL, "%s changed while it was being read", s->name);
		return -1;
	}
	return r;
}

/* Pass 1: sniff text/binary and gather what the transfer encoding chooser needs. Binary
 * data is base64 whatever else it holds, so the scan stops once it is certain. */
static int
scan_source(struct src *s, unsigned char *chunk, struct err *e)
{
	ssize_t n;

	sniff_init(&s->sn);
	while ((n = src_read(s, chunk, CHUNK)) > 0) {
		sniff_update(&s->sn, chunk, (size_t)n);
		if (sniff_binary_yet(&s->sn)) {
			s->binary_early = 1;
			break;
		}
	}
	if (n < 0)
		return err_sys(e, EX_IOERR, "read error: %s", s->name);
	s->kind = s->binary_early ? SNIFF_BINARY : sniff_result(&s->sn);
	return rewind_source(s, e);
}

/* Pass 2: the body through the encoder into the output. text: line ends are line breaks
 * (normalised to the output's); otherwise every byte is data and arrives unchanged. */
static int
encode_source(struct packer *p, struct src *s, enum cte cte, int text)
{
	struct sink snk = io_out_sink(p->out);
	ssize_t n;
	int flags = (p->o->crlf ? CTE_CRLF : 0) | CTE_TERMINATE;

	/* Base64 text would be put in canonical CRLF form first (RFC 2045 §6.8); mime-pack
	 * sends only text that is not text-like as base64, as bytes, so they come back as
	 * they were. */
	if (text && cte != CTE_BASE64)
		flags |= CTE_TEXT;
	if (p->enc_ready) {
		if (cte_enc_reinit(&p->enc, cte, flags, p->e) != 0)
			return -1;
	} else {
		if (cte_enc_init(&p->enc, cte, flags, p->e) != 0)
			return -1;
		p->enc_ready = 1;
	}
	while ((n = src_read_again(s, p->chunk, CHUNK, p->e)) > 0)
		if (cte_enc_write(&p->enc, &snk, p->chunk, (size_t)n, p->e) != 0)
			return -1;
	if (n < 0)
		return -1;
	return cte_enc_finish(&p->enc, &snk, p->e);
}

/* ---- parts ---- */

/* The last path component: the name an attachment is announced by. */
static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	while (s != NULL && s[1] == '\0') {	/* "dir/" has no file name worth sending */
		return path;
	}
	return s ? s + 1 : path;
}

static int
is_eml(const char *path)
{
	size_t n = strlen(path);

	return n > 4 && strcasecmp(path + n - 4, ".eml") == 0;
}

/* The file name an attachment is announced by, as UTF-8 in NFC (malloc'd). */
static char *
announced_name(struct packer *p, const struct pack_att *a)
{
	const char *raw = a->name ? a->name : base_name(a->path);
	char *conv = NULL, *name;
	size_t nl;

	if (!charset_utf8_valid(raw, strlen(raw))) {
		/* A file name in the locale's legacy charset. */
		if ((conv = charset_to_utf8(locale_cs(p), raw, strlen(raw), &nl, p->e)) == NULL) {
			err_wrap(p->e, "file name of %s", a->path);
			return NULL;
		}
		raw = conv;
	}
	name = charset_nfc(raw, strlen(raw), &nl, p->e);
	free(conv);
	return name;
}

/* Content-Type, Content-Transfer-Encoding, Content-Disposition, Content-Description,
 * Content-ID of one attachment (RFC 2045 §5, §6; RFC 2183; RFC 2231; RFC 2047 §5 for the
 * old-style name= parameter that many clients still read). */
static int
attachment_fields(struct packer *p, const struct pack_att *a, const char *type,
    const char *charset, enum cte cte)
{
	struct buf b = BUF_INIT;
	char *name, *w = NULL;
	int r = -1;

	if ((name = announced_name(p, a)) == NULL)
		return -1;
	buf_adds(&b, type);
	if (charset != NULL && mime_param_append(&b, "charset", charset, p->e) != 0)
		goto out;
	if (is_ascii(name) && strstr(name, "=?") == NULL) {
		if (mime_param_append(&b, "name", name, p->e) != 0)
			goto out;
	} else {
		/* A phrase's encoded words hold no '"' or '\\': safe in a quoted-string. A name
		 * holding "=?" is encoded too, so readers do not decode it as a word. */
		if ((w = enc2047(name, RFC2047_PHRASE, 7, p->e)) == NULL)	/* " name=\"" */
			goto out;
		buf_addf(&b, "; name=\"%s\"", w);
	}
	if (buf_check(&b, p->e) != 0 || put_field(p, "Content-Type", b.p) != 0)
		goto out;
	if (put_field(p, "Content-Transfer-Encoding", cte_name(cte)) != 0)
		goto out;
	buf_reset(&b);
	buf_adds(&b, a->is_inline ? "inline" : "attachment");
	if (mime_param_append(&b, "filename", name, p->e) != 0)
		goto out;
	if (buf_check(&b, p->e) != 0 || put_field(p, "Content-Disposition", b.p) != 0)
		goto out;
	if (a->desc != NULL) {
		free(w);
		w = NULL;
		if ((w = enc2047(a->desc, RFC2047_TEXT, 21, p->e)) == NULL)
			goto out;
		if (put_field(p, "Content-Description", w) != 0)
			goto out;
	}
	if (a->cid != NULL) {
		buf_reset(&b);
		if (a->cid[0] != '<')
			buf_addc(&b, '<');
		buf_adds(&b, a->cid);
		if (a->cid[0] != '<')
			buf_addc(&b, '>');
		if (buf_check(&b, p->e) != 0 || put_field(p, "Content-ID", b.p) != 0)
			goto out;
	}
	r = 0;
out:
	free(w);
	free(name);
	buf_free(&b);
	return r;
}

/* A message/rfc822 attachment (RFC 2046 §5.2.1: only 7bit, 8bit or binary). Messages that
 * cannot go as 7bit or 8bit go as application/octet-stream in base64, unchanged. */
static int
write_forward(struct packer *p, const struct pack_att *a, struct src *s)
{
	struct pack_att opaque = *a;
	int carry = 0;
	ssize_t n;

	if (s->kind == SNIFF_BINARY || s->sn.st.longest > MSG_MAX_OUT_LINE) {
		opaque.type = "application/octet-stream";
		if (attachment_fields(p, &opaque, opaque.type, NULL, CTE_BASE64) != 0 ||
		    puts_(p, p->eol) != 0)
			return -1;
		return encode_source(p, s, CTE_BASE64, 0);
	}
	if (puts_(p, "Content-Type: message/rfc822") != 0 || puts_(p, p->eol) != 0)
		return -1;
	if (put_field(p, "Content-Transfer-Encoding", s->sn.st.nonascii ? "8bit" : "7bit") != 0)
		return -1;
	{
		struct buf b = BUF_INIT;
		char *name = announced_name(p, a);
		int r = -1;

		buf_adds(&b, a->is_inline ? "inline" : "attachment");
		if (name != NULL && mime_param_append(&b, "filename", name, p->e) == 0 &&
		    buf_check(&b, p->e) == 0)
			r = put_field(p, "Content-Disposition", b.p);
		free(name);
		buf_free(&b);
		if (r != 0)
			return -1;
	}
	if (a->desc != NULL) {
		char *w = enc2047(a->desc, RFC2047_TEXT, 21, p->e);
		int r = w ? put_field(p, "Content-Description", w) : -1;

		free(w);
		if (r != 0)
			return -1;
	}
	if (puts_(p, p->eol) != 0)
		return -1;
	while ((n = src_read_again(s, p->chunk, CHUNK, p->e)) > 0)
		if (put_lines(p, p->chunk, (size_t)n, &carry) != 0)
			return -1;
	if (n < 0)
		return -1;
	return carry ? put(p, "\r", 1) : 0;
}

static int
write_attachment(struct packer *p, const struct pack_att *a)
{
	struct src s;
	const char *type = a->type, *charset = NULL;
	enum sniff_kind k;
	enum cte cte;
	int r, text;

	if (open_source(a->path, &s, p->chunk, p->e) != 0)
		return -1;
	if (scan_source(&s, p->chunk, p->e) != 0) {
		src_close(&s);
		return -1;
	}
	if (a->forward || (type == NULL && is_eml(a->path)) ||
	    (type != NULL && strcasecmp(type, "message/rfc822") == 0)) {
		r = write_forward(p, a, &s);
		src_close(&s);
		return r;
	}
	k = s.kind;
	if (type == NULL && mimetypes_lookup(p->o->types, a->name ? a->name : a->path, &type,
	    p->e) != 0) {
		src_close(&s);
		return -1;
	}
	if (type == NULL)
		type = k == SNIFF_BINARY || k == SNIFF_8BIT ? "application/octet-stream" : "text/plain";
	text = strncasecmp(type, "text/", 5) == 0;
	if (text)
		charset = sniff_charset(k);
	/* Text whose charset is unknown, or that is binary, goes as base64 so it arrives
	 * exactly as it was; so does text with CR LF line ends, which a text encoding
	 * would not keep apart from LF. */
	if (k == SNIFF_BINARY || (text && charset == NULL) || s.sn.st.bare_lf != s.sn.st.lines)
		cte = CTE_BASE64;
	else
		/* Nothing a transport may alter ("From " munging, trailing white space):
		 * the attachment arrives exactly, and the message can be signed as is. */
		cte = cte_choose(&s.sn.st, CTE_SIGNED);
	r = attachment_fields(p, a, type, charset, cte);
	if (r == 0)
		r = puts_(p, p->eol);
	if (r == 0)
		r = encode_source(p, &s, cte, k != SNIFF_BINARY && cte != CTE_BASE64);
	src_close(&s);
	return r;
}

/* ---- the body ---- */

/* The stdin body, sniffed: left in the input's buffer when it ends within BODY_MEM bytes,
 * else spooled. */
static int
spool_body(struct packer *p, struct io_in *in, struct src *s)
{
	const unsigned char *b;
	ssize_t n;
	size_t m;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->name = "standard input";
	sniff_init(&s->sn);
	if (io_in_fill(in, BODY_MEM + 1) < 0) {
		*p->e = in->e;
		return -1;
	}
	m = io_in_buffered(in, &b);
	sniff_update(&s->sn, b, m);
	if (in->eof && m <= BODY_MEM) {
		s->mem = b;		/* valid as long as nothing more is read from in */
		s->memlen = m;
		io_in_skip(in, m);
		s->kind = sniff_result(&s->sn);
		return 0;
	}
	/* Too big to keep: what is buffered, then the rest, go to a spool file. */
	if ((s->fd = io_spool(p->e)) < 0)
		return -1;
	if (io_write_all(s->fd, b, m) != 0) {
		err_sys(p->e, EX_IOERR, "write error: spool file");
		goto fail;
	}
	io_in_skip(in, m);
	while ((n = io_in_read(in, p->chunk, CHUNK)) > 0) {
		sniff_update(&s->sn, p->chunk, (size_t)n);
		if (io_write_all(s->fd, p->chunk, (size_t)n) != 0) {
			err_sys(p->e, EX_IOERR, "write error: spool file");
			goto fail;
		}
	}
	if (n < 0) {
		*p->e = in->e;
		goto fail;
	}
	s->kind = sniff_result(&s->sn);
	if (rewind_source(s, p->e) != 0)
		goto fail;
	return 0;
fail:
	src_close(s);
	return -1;
}

/* Where converted text goes: a spool file, sniffed on the way for the chooser. */
struct spool_sink {
	int fd;
	struct sniff *sn;
};

static int
spool_sink_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct spool_sink *ss = ctx;

	sniff_update(ss->sn, p, n);
	if (io_write_all(ss->fd, p, n) != 0)
		return err_sys(e, EX_IOERR, "write error: spool file");
	return 0;
}

/* Replace the source by its text converted from charset `from` to UTF-8, streaming it
 * through a new spool file (bounded memory), so nothing of the part is written before the
 * whole text is known to be valid in that charset. */
static int
convert_source(struct packer *p, struct src *s, const char *from)
{
	struct charset_conv x;
	struct sniff sn;
	struct spool_sink ss;
	struct sink snk = { spool_sink_write, &ss };
	ssize_t n;
	int sp;

	if (charset_conv_init(&x, from, p->e) != 0)
		return -1;
	if ((sp = io_spool(p->e)) < 0) {
		charset_conv_free(&x);
		return -1;
	}
	sniff_init(&sn);
	ss.fd = sp;
	ss.sn = &sn;
	while ((n = src_read(s, p->chunk, CHUNK)) > 0)
		if (charset_conv_write(&x, &snk, p->chunk, (size_t)n, p->e) != 0)
			goto fail;
	if (n < 0) {
		err_sys(p->e, EX_IOERR, "read error: %s", s->name);
		goto fail;
	}
	if (charset_conv_finish(&x, &snk, p->e) != 0)
		goto fail;
	charset_conv_free(&x);
	if (lseek(sp, 0, SEEK_SET) != 0) {
		err_sys(p->e, EX_IOERR, "cannot rewind spool file");
		close(sp);
		return -1;
	}
	src_close(s);
	s->fd = sp;
	s->sn = sn;
	s->kind = sniff_result(&s->sn);
	s->binary_early = 0;
	return 0;
fail:
	charset_conv_free(&x);
	close(sp);
	return -1;
}

/* The body as a text/plain part: charset by content (RFC 2046 §4.1.2), transfer encoding by
 * the chooser. Text in the charset named with --charset (or, when it is neither ASCII nor
 * UTF-8, in the locale's) is converted to UTF-8 and labelled so. */
static int
write_text(struct packer *p, struct src *s, const char *subtype)
{
	enum sniff_kind k = s->kind;
	const char *charset = sniff_charset(k);
	struct buf b = BUF_INIT;
	enum cte cte;
	const char *from = NULL;

	if (p->o->charset != NULL && !charset_is_utf8(p->o->charset))
		from = p->o->charset;	/* declared: convert whatever the bytes look like */
	else if (charset == NULL) {
		from = p->o->charset ? p->o->charset : locale_cs(p);
		if (charset_is_utf8(from) || charset_is_ascii(from))
			return err_set(p->e, EX_DATAERR, "%s: the %s text is not valid %s; name its "
			    "charset with --charset", s->name, subtype, from);
	}
	if (from != NULL) {
		if (convert_source(p, s, from) != 0)
			return err_wrap(p->e, "%s", s->name);
		charset = sniff_charset(s->kind);
		if (charset == NULL)
			charset = "utf-8";	/* UTF-8 that is not text-like: goes as base64 */
	}
	cte = cte_choose(&s->sn.st, CTE_SIGNED);
	buf_adds(&b, "text/");
	buf_adds(&b, subtype);
	if (mime_param_append(&b, "charset", charset, p->e) != 0 || buf_check(&b, p->e) != 0) {
		buf_free(&b);
		return -1;
	}
	if (put_field(p, "Content-Type", b.p) != 0 ||
	    put_field(p, "Content-Transfer-Encoding", cte_name(cte)) != 0 ||
	    puts_(p, p->eol) != 0) {
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	return encode_source(p, s, cte, 1);
}

/* A multipart's delimiter lines (RFC 2046 §5.1.1): the line end before "--" belongs to it. */
static int
delimiter(struct packer *p, const char *boundary, int close_)
{
	if (puts_(p, p->eol) != 0 || puts_(p, "--") != 0 || puts_(p, boundary) != 0)
		return -1;
	if (close_ && puts_(p, "--") != 0)
		return -1;
	return puts_(p, p->eol);
}

static int
multipart_fields(struct packer *p, const char *subtype, const char *boundary)
{
	struct buf b = BUF_INIT;
	int r;

	buf_adds(&b, "multipart/");
	buf_adds(&b, subtype);
	if (mime_param_append(&b, "boundary", boundary, p->e) != 0 || buf_check(&b, p->e) != 0) {
		buf_free(&b);
		return -1;
	}
	r = put_field(p, "Content-Type", b.p);
	buf_free(&b);
	return r;
}

/* The body part: text/plain, or multipart/alternative of text and HTML. */
static int
write_body_part(struct packer *p, struct src *body)
{
	struct src html;
	char boundary[MIME_BOUNDARY_LEN + 1];
	int r;

	if (p->o->html == NULL)
		return write_text(p, body, "plain");
	if (mime_boundary(boundary, sizeof boundary, p->e) != 0)
		return -1;
	if (multipart_fields(p, "alternative", boundary) != 0 || puts_(p, p->eol) != 0)
		return -1;
	/* RFC 2046 §5.1.4: plainest first. The line end before the first delimiter is
	 * optional; there is no preamble. */
	if (puts_(p, "--") != 0 || puts_(p, boundary) != 0 || puts_(p, p->eol) != 0 ||
	    write_text(p, body, "plain") != 0)
		return -1;
	if (delimiter(p, boundary, 0) != 0)
		return -1;
	if (open_source(p->o->html, &html, p->chunk, p->e) != 0)
		return -1;
	html.name = p->o->html;
	r = scan_source(&html, p->chunk, p->e);
	if (r == 0)
		r = write_text(p, &html, "html");
	src_close(&html);
	if (r != 0)
		return -1;
	return delimiter(p, boundary, 1);
}

/* An input that already is MIME, with attachments: its content fields and body verbatim
 * become the first part. */
static int
write_mime_body(struct packer *p, const struct msg_header *h, struct src *body, int fields)
{
	size_t i;
	int carry = 0;
	ssize_t n;

	for (i = 0; fields && i < h->n; i++)
		if (strncasecmp(h->f[i].name, "Content-", 8) == 0 &&
		    write_input_field(p, &h->f[i]) != 0)
			return -1;
	if (puts_(p, p->eol) != 0)
		return -1;
	/* The body is copied as it is when the line ends agree: it may be "binary". */
	while ((n = src_read(body, p->chunk, CHUNK)) > 0)
		if ((h->crlf == p->o->crlf ? put(p, p->chunk, (size_t)n) :
		    put_lines(p, p->chunk, (size_t)n, &carry)) != 0)
			return -1;
	if (n < 0)
		return err_sys(p->e, EX_IOERR, "read error: %s", body->name);
	return carry ? put(p, "\r", 1) : 0;
}

int
pack_message(struct io_in *in, struct io_out *out, const struct pack_opts *o, struct err *e)
{
	struct packer p;
	struct msg_header h;
	struct src body;
	char boundary[MIME_BOUNDARY_LEN + 1];
	int is_mime, with_body, r = -1, carry = 0;
	size_t i;

	memset(&p, 0, sizeof p);
	p.o = o;
	p.out = out;
	p.eol = o->crlf ? "\r\n" : "\n";
	p.e = e;
	memset(&body, 0, sizeof body);
	body.fd = -1;
	msg_header_init(&h);
	if ((p.chunk = malloc(CHUNK)) == NULL) {
		err_sys(e, EX_OSERR, "out of memory");
		goto out;
	}
	if (msg_header_read(in, &h, e) != 0)
		goto out;
	is_mime = msg_header_get(&h, "Content-Type") != NULL ||
	    msg_header_get(&h, "Content-Transfer-Encoding") != NULL;
	if (is_mime && o->html != NULL) {
		err_set(e, EX_USAGE, "--html needs a plain body, and the input already is MIME");
		goto out;
	}
	/* Every file must be readable before the first byte goes out: a missing attachment
	 * should not leave half a message in a pipeline. */
	for (i = 0; i < o->natt + (o->html != NULL); i++) {
		const char *path = i < o->natt ? o->att[i].path : o->html;
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			err_sys(e, EX_NOINPUT, "cannot open %s", path);
			goto out;
		}
		if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
			close(fd);
			err_set(e, EX_NOINPUT, "cannot attach %s: it is a directory", path);
			goto out;
		}
		close(fd);
	}
	if (spool_body(&p, in, &body) != 0)
		goto out;

	/* RFC 5322 header, then our MIME-Version (RFC 2045 §4) unless there is one. */
	if (h.mbox_from != NULL && put_lines(&p, (unsigned char *)h.mbox_from,
	    strlen(h.mbox_from), &carry) != 0)
		goto out;
	for (i = 0; i < h.n; i++) {
		if (!(is_mime && o->natt == 0) && strncasecmp(h.f[i].name, "Content-", 8) == 0)
			continue;	/* replaced by ours, or moved into the first part */
		if (write_input_field(&p, &h.f[i]) != 0)
			goto out;
	}
	if (msg_header_get(&h, "MIME-Version") == NULL && put_field(&p, "MIME-Version", "1.0") != 0)
		goto out;

	if (o->natt == 0) {
		if (is_mime)
			r = write_mime_body(&p, &h, &body, 0);	/* fields written above */
		else
			r = write_body_part(&p, &body);
		goto out;
	}
	if (mime_boundary(boundary, sizeof boundary, e) != 0 ||
	    multipart_fields(&p, "mixed", boundary) != 0 || puts_(&p, p.eol) != 0)
		goto out;
	/* An empty body before attachments is left out rather than sent as an empty part. */
	with_body = is_mime || body.sn.st.bytes > 0 || o->html != NULL;
	if (puts_(&p, "--") != 0 || puts_(&p, boundary) != 0 || puts_(&p, p.eol) != 0)
		goto out;
	if (with_body) {
		if ((is_mime ? write_mime_body(&p, &h, &body, 1) : write_body_part(&p, &body)) != 0)
			goto out;
	}
	for (i = 0; i < o->natt; i++) {
		if ((with_body || i > 0) && delimiter(&p, boundary, 0) != 0)
			goto out;
		if (write_attachment(&p, &o->att[i]) != 0)
			goto out;
	}
	r = delimiter(&p, boundary, 1);
out:
	src_close(&body);
	if (p.enc_ready)
		cte_enc_free(&p.enc);
	msg_header_free(&h);
	free(p.chunk);
	return r;
}
