/* unpack.c — mime-unpack's work over the MIME walker: listing parts, writing one decoded, and
 * extracting attachments under safe names without clobbering. */
#include "unpack.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <unictype.h>
#include <unistr.h>

#include "buf.h"
#include "charset.h"
#include "cte.h"
#include "mime.h"
#include "msg.h"
#include "param.h"
#include "rfc2047.h"

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

/* Characters a name loses: format characters (Unicode Cf: the bidirectional controls, so
 * "<RLO>txt.exe" cannot show as "exe.txt", zero-width ones, soft hyphen, tags), invisible or
 * reordering, never part of a name a user reads. */
static int
name_drops(ucs4_t c)
{
	return buf_is_bidi(c) || uc_is_general_category(c, UC_CATEGORY_Cf);
}

/* Characters drawn as a slash or backslash (fraction and division slash, set minus, the
 * big, small and fullwidth solidus and reverse solidus): a name holding them would be
 * listed as if it were a path ("..∕..∕etc∕passwd"), and NFKC, which some tools apply, turns
 * the fullwidth ones into real separators. They become '_' as '/' and '\\' do. */
static int
name_slash(ucs4_t c)
{
	switch (c) {
	case 0x2044: case 0x2215: case 0x2216: case 0x29f5: case 0x29f8: case 0x29f9:
	case 0xfe68: case 0xff0f: case 0xff3c:
		return 1;
	default:
		return 0;
	}
}

char *
unpack_safe_name(const char *name, const char *fallback, struct err *e)
{
	struct buf b = BUF_INIT;
	char *rep, *nfc;
	const char *s, *dot;
	size_t n, k, len, extlen, stem;
	ucs4_t uc;

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
		if (c >= 0x80 && u8_mbtouc(&uc, (const uint8_t *)s, k) == (int)k) {
			if (name_drops(uc))
				continue;
			if (uc == 0x2028 || uc == 0x2029 || name_slash(uc)) {
				buf_addc(&b, '_');	/* line and paragraph separators (as LF), slashes */
				continue;
			}
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
	if (io_atomic_sync(a, e) != 0)
		return -1;
	if (unpack_link(a->tmp, dir, name, force, used, usedsz, e) != 0) {
		io_atomic_abort(a);
		return -1;
	}
	a->tmp[0] = '\0';
	return 0;
}

/* ---- the walk ---- */

/* An extracted file waiting for the walk to succeed before it gets its name. */
struct pending {
	char *tmp;
	char *name;
	char *path;	/* where it was put, once named */
};

/* What the command does with the part being walked. */
struct unpack {
	enum unpack_mode mode;
	const char *dir;
	int force;
	int keep_signatures;
	int file_mode;
	const char *want;		/* -p */
	int found;
	struct io_out *out;
	/* the current leaf (or enclosed message) whose bytes go somewhere: while it is open,
	 * nothing nested in it is selected on its own (its bytes are already in it) */
	struct mime_part *cur;
	struct mime_part *msg_sel;	/* a selected message/rfc822 part: its child goes raw */
	char number[UNPACK_NUMBER_MAX];
	char *filename;			/* decoded, UTF-8, or NULL */
	uint64_t size;
	int decoding;			/* through dec, else raw bytes */
	struct cte_dec dec;
	struct sink snk;
	struct io_atomic at;
	int at_open;
	struct io_out file;
	struct pending *pend;
	size_t npend, cappend;
	int truncated;			/* the outermost multipart lacks its close delimiter */
};

/* ---- numbering: RFC 3501 §6.4.5 (IMAP BODY[section]) ----
 *
 * A message's body is numbered under the number of what holds the message: nothing for the
 * message itself, N for the message enclosed in a message/rfc822 part N. If that body is a
 * multipart, its parts are 1, 2, ... under that number (N.1, N.2); if not, the body is part 1
 * under it (1, N.1). The parts of a multipart part M are M.1, M.2, ... A multipart that is a
 * message's body has no IMAP number: it is shown as 0 (the message) or N.0 (the message in
 * part N), never a valid IMAP part number. */

static int
is_message_body(const struct mime_part *p)
{
	return p->parent == NULL || (p->parent->flags & MIME_F_MESSAGE);
}

static int number_of(const struct mime_part *p, char *s, size_t n);

/* The number under which p's children are numbered. */
static int
prefix_of(const struct mime_part *q, char *s, size_t n)
{
	if ((q->flags & MIME_F_MULTIPART) && is_message_body(q)) {
		if (q->parent == NULL) {
			s[0] = '\0';
			return 0;
		}
		return number_of(q->parent, s, n);
	}
	return number_of(q, s, n);
}

static int
join(char *s, size_t n, const char *last)
{
	size_t len = strlen(s);
	int w = snprintf(s + len, n - len, "%s%s", len ? "." : "", last);

	return w < 0 || (size_t)w >= n - len ? -1 : 0;
}

static int
number_of(const struct mime_part *p, char *s, size_t n)
{
	char idx[24];

	if (is_message_body(p)) {
		if (p->parent == NULL)
			s[0] = '\0';
		else if (number_of(p->parent, s, n) != 0)
			return -1;
		return join(s, n, (p->flags & MIME_F_MULTIPART) ? "0" : "1");
	}
	if (prefix_of(p->parent, s, n) != 0)
		return -1;
	snprintf(idx, sizeof idx, "%zu", p->index);
	return join(s, n, idx);
}

int
unpack_part_number(const struct mime_part *p, char *s, size_t n)
{
	if (n == 0)
		return -1;
	return number_of(p, s, n);
}

/* Text for standard output, through the one buffered writer (errors are sticky there and
 * reported at the end). */
static void
outs(struct unpack *u, const char *s)
{
	io_out_write(u->out, s, strlen(s));
}

/* Sink into the part's destination, counting. */
static int
dest_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct unpack *u = ctx;
	struct io_out *o;

	u->size += n;
	if (u->mode == UNPACK_LIST)
		return 0;
	o = u->mode == UNPACK_EXTRACT ? &u->file : u->out;
	if (io_out_write(o, p, n) != 0) {
		*e = o->e;
		return -1;
	}
	return 0;
}

/* The file name of a part: Content-Disposition filename (RFC 2183, RFC 2231), else the
 * Content-Type name; plain values may carry RFC 2047 words, which are decoded. An RFC 2231
 * extended value is decoded text already: what looks like an encoded word in it is taken as
 * written, as Python's email package takes it. NULL if none (or out of memory, which only
 * loses the name). */
static char *
part_filename(const struct mime_part *p)
{
	const struct msg_field *f = msg_header_get(p->h, "Content-Disposition");
	const struct mime_param *v = NULL;
	struct mime_type d;
	struct err e;
	char *r = NULL;

	memset(&d, 0, sizeof d);
	if (f != NULL && mime_type_parse(f->value, 1, &d, &e) == 0)
		v = mime_type_param_get(&d, "filename");
	if (v == NULL)
		v = mime_type_param_get(&p->ct, "name");
	if (v != NULL)
		r = v->extended ? strdup(v->value) : rfc2047_decode(v->value, &e);
	mime_type_free(&d);
	return r;
}

static int
is_attachment(const struct mime_part *p, const char *filename)
{
	const struct msg_field *f = msg_header_get(p->h, "Content-Disposition");

	return filename != NULL || (f != NULL && strncasecmp(f->value, "attachment", 10) == 0);
}

/* Is p the signature of a multipart/signed (RFC 1847 §2.1: the second body part is the
 * control information)? Only a part whose type is a signature's: anything else in that place
 * (an executable named as it likes) is an attachment like any other, and is written. */
static int
is_signature(const struct mime_part *p)
{
	return p->index == 2 && p->parent != NULL &&
	    mime_type_is(&p->parent->ct, "multipart", "signed") &&
	    (mime_type_is(&p->ct, "application", "pkcs7-signature") ||
	    mime_type_is(&p->ct, "application", "x-pkcs7-signature") ||
	    mime_type_is(&p->ct, "application", "pgp-signature"));
}

static const char *
encoding_name(const struct mime_part *p)
{
	const struct msg_field *f;

	if (p->cte != CTE_UNKNOWN)
		return cte_name(p->cte);
	f = msg_header_get(p->h, "Content-Transfer-Encoding");
	return f ? f->value : "unknown";
}

/* One line of -l. Everything taken from the message goes through buf_add_printable: a
 * terminal shows it and is not steered by it, and a tab or line end cannot break the
 * columns. */
static int
list_line(struct unpack *u, const struct mime_part *p, const char *number, const char *size,
    const char *name, struct err *e)
{
	struct buf b = BUF_INIT;
	const char *enc = encoding_name(p);

	buf_addf(&b, "%*s%s\t", 2 * p->depth, "", number);
	buf_add_printable(&b, p->ct.type, strlen(p->ct.type));
	buf_addc(&b, '/');
	if (p->ct.subtype != NULL)
		buf_add_printable(&b, p->ct.subtype, strlen(p->ct.subtype));
	buf_addc(&b, '\t');
	buf_add_printable(&b, enc, strlen(enc));
	buf_addf(&b, "\t%s\t", size);
	if (name != NULL)
		buf_add_printable(&b, name, strlen(name));
	else
		buf_addc(&b, '-');
	buf_addc(&b, '\n');
	if (buf_check(&b, e) != 0) {
		buf_free(&b);
		return -1;
	}
	io_out_write(u->out, b.p, b.len);
	buf_free(&b);
	return 0;
}

/* Open the destination of a selected part: a file in the directory for -x. */
static int
open_dest(struct unpack *u, const char *number, int message, struct err *e)
{
	char fallback[UNPACK_NUMBER_MAX + 16], dst[4096], *safe;
	size_t i;

	u->size = 0;
	if (u->mode != UNPACK_EXTRACT)
		return 0;
	snprintf(fallback, sizeof fallback, "part-%s%s", number, message ? ".eml" : "");
	for (i = 5; fallback[i] && strcmp(fallback + i, ".eml") != 0; i++)
		if (fallback[i] == '.')
			fallback[i] = '-';
	if ((safe = unpack_safe_name(u->filename ? u->filename : "", fallback, e)) == NULL)
		return -1;
	free(u->filename);
	u->filename = safe;
	snprintf(dst, sizeof dst, "%s/%s", u->dir, safe);
	if (io_atomic_open(&u->at, dst, u->file_mode, e) != 0)
		return -1;
	if (io_out_init(&u->file, u->at.fd, safe, e) != 0) {
		io_atomic_abort(&u->at);
		return -1;
	}
	u->at_open = 1;
	return 0;
}

/* Does the command want this part's content? */
static int
selected(struct unpack *u, const struct mime_part *p, const char *number, int attachment)
{
	switch (u->mode) {
	case UNPACK_LIST: return 1;
	case UNPACK_PART: return strcmp(number, u->want) == 0;
	case UNPACK_EXTRACT: return attachment && (u->keep_signatures || !is_signature(p));
	default: return 0;
	}
}

/* A bare CR (one not before an LF) in a header: Python's email and Thunderbird end a line
 * there, the walker does not, so they would see fields (a Content-Disposition, a filename)
 * where we see one field's value: what is listed or extracted would not be what a reader
 * shows. RFC 5322 §2.2 allows CR only in CRLF; such a header is refused. */
static int
has_bare_cr(const struct msg_header *h)
{
	const char *r;
	size_t i, k;

	for (i = 0; i < h->n; i++)
		for (r = h->f[i].raw, k = 0; k < h->f[i].rawlen; k++)
			if (r[k] == '\r' && (k + 1 == h->f[i].rawlen || r[k + 1] != '\n'))
				return 1;
	return 0;
}

static int
cb_begin(void *ctx, struct mime_part *p, struct err *e)
{
	struct unpack *u = ctx;
	char number[UNPACK_NUMBER_MAX];
	int attachment;

	if (u->cur != NULL) {
		/* Inside the part being written (an enclosed message, taken as it is): its
		 * parts are in it already. */
		p->no_data = 1;
		return 0;
	}
	if (p->parent != NULL && p->parent == u->msg_sel) {
		/* The message inside a selected message/rfc822 part: its bytes as they are. */
		u->msg_sel = NULL;
		p->want_raw = 1;
		p->no_data = 1;
		u->cur = p;
		u->decoding = 0;
		return open_dest(u, u->number, 1, e);	/* named by the message/rfc822 part */
	}
	if (unpack_part_number(p, number, sizeof number) != 0)
		return err_set(e, EX_DATAERR, "MIME part numbers too long");
	if (has_bare_cr(p->h))
		return err_set(e, EX_DATAERR, "part %s: a header field holds a bare CR (readers "
		    "differ on where its lines end)", number);
	free(u->filename);
	u->filename = part_filename(p);
	attachment = is_attachment(p, u->filename);
	if (p->flags & MIME_F_MULTIPART) {
		if (u->mode == UNPACK_LIST)
			return list_line(u, p, number, "-", NULL, e);
		if (u->mode == UNPACK_PART && strcmp(number, u->want) == 0)
			return err_set(e, EX_DATAERR, "part %s is a %s/%s: choose one of its parts",
			    number, p->ct.type, p->ct.subtype);
		return 0;
	}
	if (p->flags & MIME_F_MESSAGE) {
		if (u->mode == UNPACK_LIST)
			return list_line(u, p, number, "-", u->filename, e);
		if (selected(u, p, number, attachment)) {
			if (u->mode == UNPACK_PART)
				u->found = 1;
			u->msg_sel = p;
			snprintf(u->number, sizeof u->number, "%s", number);
		}
		return 0;
	}
	if (!selected(u, p, number, attachment)) {
		p->no_data = 1;
		return 0;
	}
	if (u->mode == UNPACK_PART)
		u->found = 1;
	snprintf(u->number, sizeof u->number, "%s", number);
	if (open_dest(u, number, 0, e) != 0)
		return -1;
	/* Bad base64 is an error, never a silently different file. Text that is not in base64
	 * gets local (LF) line ends; base64 content comes out exactly as it was encoded. */
	if (cte_dec_init(&u->dec, p->cte, CTE_STRICT | (strcmp(p->ct.type, "text") == 0 &&
	    p->cte != CTE_BASE64 ? CTE_TEXT : 0), e) != 0)
		return -1;
	u->decoding = 1;
	u->cur = p;
	return 0;
}

static int
cb_data(void *ctx, struct mime_part *p, const void *buf, size_t n, struct err *e)
{
	struct unpack *u = ctx;

	if (p != u->cur || !u->decoding)
		return 0;
	if (cte_dec_write(&u->dec, &u->snk, buf, n, e) != 0)
		return err_wrap(e, "part %s", u->number);
	return 0;
}

static int
cb_raw(void *ctx, struct mime_part *p, const void *buf, size_t n, struct err *e)
{
	struct unpack *u = ctx;

	if (p != u->cur || u->decoding)
		return 0;
	return dest_write(u, buf, n, e);
}

static int
keep_pending(struct unpack *u, struct err *e)
{
	struct pending *v;

	if (u->npend == u->cappend) {
		size_t cap = u->cappend ? 2 * u->cappend : 16;

		if ((v = realloc(u->pend, cap * sizeof *v)) == NULL)
			return err_sys(e, EX_OSERR, "out of memory");
		u->pend = v;
		u->cappend = cap;
	}
	v = &u->pend[u->npend];
	v->tmp = strdup(u->at.tmp);
	v->name = strdup(u->filename);
	v->path = NULL;
	if (v->tmp == NULL || v->name == NULL) {
		free(v->tmp);
		free(v->name);
		return err_sys(e, EX_OSERR, "out of memory");
	}
	u->npend++;
	return 0;
}

/* The file is complete: synced and closed under its temp name, named after the walk. */
static int
finish_file(struct unpack *u, struct err *e)
{
	u->at_open = 0;
	if (io_out_finish(&u->file) != 0) {
		*e = u->file.e;
		io_atomic_abort(&u->at);
		return -1;
	}
	if (io_atomic_sync(&u->at, e) != 0)
		return -1;	/* the temp file is gone */
	if (keep_pending(u, e) != 0) {
		io_atomic_abort(&u->at);
		return -1;
	}
	return 0;
}

/* A multipart without its close delimiter that ended at an enclosing one is malformed but
 * whole (what follows is the enclosing multipart's); the outermost one ended only by the end
 * of the input is what a truncated message looks like. */
static int
outermost_multipart(const struct mime_part *p)
{
	for (p = p->parent; p != NULL; p = p->parent)
		if (p->flags & MIME_F_MULTIPART)
			return 0;
	return 1;
}

static int
cb_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct unpack *u = ctx;
	char size[32];

	if ((p->flags & MIME_F_UNTERMINATED) && outermost_multipart(p))
		u->truncated = 1;
	if (p != u->cur)
		return 0;
	u->cur = NULL;
	if (u->decoding) {
		u->decoding = 0;
		if (cte_dec_finish(&u->dec, &u->snk, e) != 0) {
			cte_dec_free(&u->dec);
			return err_wrap(e, "part %s", u->number);
		}
		cte_dec_free(&u->dec);
	}
	if (u->mode == UNPACK_LIST) {
		snprintf(size, sizeof size, "%llu", (unsigned long long)u->size);
		return list_line(u, p, u->number, size, u->filename, e);
	}
	if (u->mode == UNPACK_EXTRACT)
		return finish_file(u, e);
	return 0;
}

/* The walk ended early: release the part in progress (its file is dropped by drop_files). */
static void
cb_cancel(void *ctx, struct mime_part *p)
{
	struct unpack *u = ctx;

	if (p != u->cur)
		return;
	u->cur = NULL;
	if (u->decoding)
		cte_dec_free(&u->dec);
	u->decoding = 0;
}

/* Does an earlier attachment of this run have the name of attachment i? Names that differ
 * only in ASCII case count as the same: they are one file on case-insensitive file systems. */
static int
named_before(const struct unpack *u, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (strcasecmp(u->pend[j].name, u->pend[i].name) == 0)
			return 1;
	return 0;
}

static void
unlink_named(struct unpack *u, size_t n)
{
	size_t j;

	for (j = 0; j < n && !u->force; j++)
		unlink(u->pend[j].path);
}

/* After a successful walk: give the extracted files their names. If one cannot be named,
 * the ones named before it are removed again (unless -f replaced an existing file there:
 * what it held is gone either way), so a failed run leaves the directory as it was. -f
 * replaces files that were there before, never one this run wrote: a second attachment of
 * the same name gets a name of its own. */
static int
name_files(struct unpack *u, struct err *e)
{
	char used[4096];
	size_t i;

	for (i = 0; i < u->npend; i++) {
		if (unpack_link(u->pend[i].tmp, u->dir, u->pend[i].name,
		    u->force && !named_before(u, i), used, sizeof used, e) != 0) {
			unlink_named(u, i);
			return -1;
		}
		free(u->pend[i].tmp);
		u->pend[i].tmp = NULL;
		if ((u->pend[i].path = strdup(used)) == NULL) {
			err_sys(e, EX_OSERR, "out of memory");
			unlink_named(u, i);
			unlink(used);
			return -1;
		}
	}
	for (i = 0; i < u->npend; i++) {
		outs(u, u->pend[i].path);
		outs(u, "\n");
	}
	return 0;
}

static void
free_pending(struct unpack *u)
{
	size_t i;

	for (i = 0; i < u->npend; i++) {
		free(u->pend[i].tmp);
		free(u->pend[i].name);
		free(u->pend[i].path);
	}
	free(u->pend);
	u->pend = NULL;
	u->npend = u->cappend = 0;
}

static void
drop_files(struct unpack *u)
{
	size_t i;

	if (u->at_open) {
		io_out_free(&u->file);
		io_atomic_abort(&u->at);
		u->at_open = 0;
	}
	for (i = 0; i < u->npend; i++)
		if (u->pend[i].tmp != NULL)
			unlink(u->pend[i].tmp);
}

int
unpack_message(const struct unpack_opts *o, struct io_in *in, struct io_out *out, struct err *e)
{
	struct unpack u;
	struct mime_walk w;
	int r = -1;

	memset(&u, 0, sizeof u);
	u.mode = o->mode;
	u.dir = o->dir;
	u.force = o->force;
	u.keep_signatures = o->keep_signatures;
	u.file_mode = o->file_mode ? o->file_mode : 0600;
	u.want = o->part;
	u.out = out;
	u.snk.write = dest_write;
	u.snk.ctx = &u;
	mime_walk_init(&w);
	w.begin = cb_begin;
	w.data = cb_data;
	w.raw = cb_raw;
	w.end = cb_end;
	w.cancel = cb_cancel;
	w.ctx = &u;
	if (mime_walk(&w, in, NULL, e) < 0)
		goto out;
	/* Best effort is not good enough for files: a message whose outermost multipart lacks
	 * its close delimiter may have lost its end, so nothing is extracted from it. */
	if (u.truncated) {
		err_set(e, EX_DATAERR, "%s: a multipart lacks its closing boundary: the message is "
		    "truncated or malformed", in->name);
		goto out;
	}
	/* A reader that ends lines at a bare CR too would see parts this walk did not: an
	 * attachment a scan of ours missed. */
	if (w.flags & MIME_F_CR_DELIMITER) {
		err_set(e, EX_DATAERR, "%s: a MIME boundary after or before a bare CR: readers "
		    "that end lines there see other parts", in->name);
		goto out;
	}
	if (u.mode == UNPACK_PART && !u.found) {
		err_set(e, EX_DATAERR, "no part %s in the message", u.want);
		goto out;
	}
	if (u.mode == UNPACK_EXTRACT && name_files(&u, e) != 0)
		goto out;
	r = 0;
out:
	if (r != 0)
		drop_files(&u);
	free(u.filename);
	free_pending(&u);
	return r;
}
