/* ber.c — a small pull reader for BER (X.690), header-sized parts in memory, content
 * streamed. See ber.h. */
#include "ber.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ber_init(struct ber *b, const struct ber_src *src, struct err *e)
{
	memset(b, 0, sizeof *b);
	b->src = src;
	b->e = e;
	if ((b->buf = malloc(BER_BUFSIZE)) == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	return 0;
}

void
ber_free(struct ber *b)
{
	free(b->buf);
	b->buf = NULL;
}

int
ber_fill(struct ber *b, size_t want)
{
	ssize_t r;

	if (b->len - b->pos >= want || b->eof)
		return 0;
	if (b->pos > 0) {
		memmove(b->buf, b->buf + b->pos, b->len - b->pos);
		b->len -= b->pos;
		b->pos = 0;
	}
	while (b->len < want && !b->eof) {
		r = b->src->read(b->src->ctx, b->buf + b->len, BER_BUFSIZE - b->len, b->e);
		if (r < 0)
			return -1;
		if (r == 0)
			b->eof = 1;
		b->len += (size_t)r;
	}
	return 0;
}

int
ber_truncated(struct ber *b)
{
	return err_set(b->e, EX_DATAERR, "truncated CMS data (ends at byte %llu)",
	    (unsigned long long)(b->off + (b->len - b->pos)));
}

int
ber_take(struct ber *b, void *p, size_t n)
{
	if (ber_fill(b, n) != 0)
		return -1;
	if (b->len - b->pos < n)
		return ber_truncated(b);
	if (p != NULL)
		memcpy(p, b->buf + b->pos, n);
	b->pos += n;
	b->off += n;
	return 0;
}

/* Up to n bytes: at least one, or -1 (truncated) at end of input. */
ssize_t
ber_some(struct ber *b, void *p, size_t n)
{
	size_t have;

	if (b->pos == b->len && ber_fill(b, 1) != 0)
		return -1;
	have = b->len - b->pos;
	if (have == 0)
		return ber_truncated(b);
	if (n > have)
		n = have;
	memcpy(p, b->buf + b->pos, n);
	b->pos += n;
	b->off += n;
	return (ssize_t)n;
}

int
ber_bad(struct ber *b, const char *what)
{
	return err_set(b->e, EX_DATAERR, "malformed CMS data at byte %llu: %s",
	    (unsigned long long)b->off, what);
}

/* X.690 §8.1.2 (identifier) and §8.1.3 (length). */
int
ber_hdr(struct ber *b, struct ber_tlv *t)
{
	unsigned char c;
	unsigned i, n;

	memset(t, 0, sizeof *t);
	if (ber_take(b, &c, 1) != 0)
		return -1;
	t->hdr[t->hlen++] = c;
	t->cls = c >> 6;
	t->cons = (c & 0x20) != 0;
	t->tag = c & 0x1f;
	if (t->tag == 0x1f) {
		t->tag = 0;
		for (i = 0;; i++) {
			if (i == 4)
				return ber_bad(b, "tag number too large");
			if (ber_take(b, &c, 1) != 0)
				return -1;
			t->hdr[t->hlen++] = c;
			t->tag = t->tag << 7 | (c & 0x7f);
			if (!(c & 0x80))
				break;
		}
	}
	if (ber_take(b, &c, 1) != 0)
		return -1;
	t->hdr[t->hlen++] = c;
	if (c < 0x80) {
		t->len = c;
	} else if (c == 0x80) {
		if (!t->cons)
			return ber_bad(b, "indefinite length on a primitive encoding");
		t->indef = 1;
	} else {
		n = c & 0x7f;
		if (n > 7)
			return ber_bad(b, "length too large");
		for (i = 0; i < n; i++) {
			if (ber_take(b, &c, 1) != 0)
				return -1;
			t->hdr[t->hlen++] = c;
			t->len = t->len << 8 | c;
		}
	}
	t->end = b->off + t->len;
	return 0;
}

int
ber_is_eoc(const struct ber_tlv *t)
{
	return t->cls == 0 && !t->cons && t->tag == 0 && t->len == 0 && !t->indef;
}

/* Is there another element inside container c? */
int
ber_more(struct ber *b, const struct ber_tlv *c)
{
	if (!c->indef)
		return b->off < c->end;
	if (ber_fill(b, 2) != 0)
		return -1;
	if (b->len - b->pos < 2)
		return ber_truncated(b);
	return !(b->buf[b->pos] == 0 && b->buf[b->pos + 1] == 0);
}

/* The end of container c: its end-of-contents octets, or exactly its length. */
int
ber_end(struct ber *b, const struct ber_tlv *c)
{
	unsigned char eoc[2];

	if (c->indef) {
		if (ber_take(b, eoc, 2) != 0)
			return -1;
		if (eoc[0] != 0 || eoc[1] != 0)
			return ber_bad(b, "unexpected data where the end of a structure was expected");
		return 0;
	}
	if (b->off != c->end)
		return ber_bad(b, b->off < c->end ? "unexpected data inside a structure"
		    : "element overruns its enclosing structure");
	return 0;
}

/* A child of definite-length parent p must end inside it. */
int
ber_fits(struct ber *b, const struct ber_tlv *p, const struct ber_tlv *t)
{
	if (p == NULL || p->indef || t->indef)
		return 0;
	if (t->end > p->end)
		return ber_bad(b, "element overruns its enclosing structure");
	return 0;
}

/* Append element t (header already read) with all its content to out, at most limit bytes. */
int
ber_capture(struct ber *b, const struct ber_tlv *t, struct buf *out, size_t limit, int depth)
{
	unsigned char tmp[4096];
	struct ber_tlv c;
	uint64_t left;
	size_t n;

	if (depth > BER_MAX_DEPTH)
		return ber_bad(b, "structure nested too deeply");
	buf_add(out, t->hdr, t->hlen);
	if (!t->indef) {
		if (t->len > limit || out->len + t->len > limit)
			return err_set(b->e, EX_DATAERR, "CMS structure part too large "
			    "(over %zu bytes)", limit);
		for (left = t->len; left > 0; left -= n) {
			n = left > sizeof tmp ? sizeof tmp : (size_t)left;
			if (ber_take(b, tmp, n) != 0)
				return -1;
			buf_add(out, tmp, n);
		}
		return buf_check(out, b->e);
	}
	for (;;) {
		if (ber_hdr(b, &c) != 0)
			return -1;
		if (ber_is_eoc(&c)) {
			buf_add(out, c.hdr, c.hlen);
			return buf_check(out, b->e);
		}
		if (out->len > limit)
			return err_set(b->e, EX_DATAERR, "CMS structure part too large "
			    "(over %zu bytes)", limit);
		if (ber_capture(b, &c, out, limit, depth + 1) != 0)
			return -1;
	}
}

int
ber_expect(struct ber *b, struct ber_tlv *t, const struct ber_tlv *parent, unsigned cls, int cons,
    unsigned long tag, const char *what)
{
	char msg[128];

	if (ber_hdr(b, t) != 0)
		return -1;
	if (!BER_IS(t, cls, cons, tag)) {
		snprintf(msg, sizeof msg, "expected %s", what);
		return ber_bad(b, msg);
	}
	return ber_fits(b, parent, t);
}

void
der_len(struct buf *o, size_t n)
{
	unsigned char l[9];
	int k = 0, i;

	if (n < 0x80) {
		buf_addc(o, (char)n);
		return;
	}
	while (n > 0) {
		l[k++] = (unsigned char)(n & 0xff);
		n >>= 8;
	}
	buf_addc(o, (char)(0x80 | k));
	for (i = k - 1; i >= 0; i--)
		buf_addc(o, (char)l[i]);
}

void
der_wrap(struct buf *o, unsigned char tag, const struct buf *in)
{
	buf_addc(o, (char)tag);
	der_len(o, in->len);
	buf_add(o, in->p, in->len);
}

void
ber_octets_start(struct ber_octets *o, const struct ber_tlv *t)
{
	memset(o, 0, sizeof *o);
	if (t->cons) {
		o->stack[0] = *t;
		o->depth = 1;
	} else {
		o->inprim = 1;
		o->left = t->len;
	}
}

ssize_t
ber_octets_read(struct ber *b, struct ber_octets *o, void *out, size_t n, const char *what)
{
	struct ber_tlv t, *top;
	char msg[128];
	ssize_t r;
	int m;

	for (;;) {
		if (o->inprim && o->left > 0) {
			if (n > o->left)
				n = (size_t)o->left;
			if ((r = ber_some(b, out, n)) < 0)
				return -1;
			o->left -= (uint64_t)r;
			return r;
		}
		o->inprim = 0;
		if (o->depth == 0)
			return 0;
		top = &o->stack[o->depth - 1];
		if ((m = ber_more(b, top)) < 0)
			return -1;
		if (!m) {
			if (ber_end(b, top) != 0)
				return -1;
			o->depth--;
			continue;
		}
		if (ber_hdr(b, &t) != 0 || ber_fits(b, top, &t) != 0)
			return -1;
		if (!(t.cls == BER_UNIV && t.tag == 4)) {
			snprintf(msg, sizeof msg, "%s chunk is not an OCTET STRING", what);
			return ber_bad(b, msg);
		}
		if (t.cons) {
			if (o->depth == BER_MAX_DEPTH)
				return ber_bad(b, "structure nested too deeply");
			o->stack[o->depth++] = t;
		} else {
			o->inprim = 1;
			o->left = t.len;
		}
	}
}
