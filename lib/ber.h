/* ber.h — a small pull reader for BER (X.690) with bounded memory.
 *
 * OpenSSL parses a whole ContentInfo into memory; the CMS code instead walks the outer BER
 * itself, keeps the header-sized parts (within limits) and streams the one big part (the
 * content OCTET STRING, possibly constructed and indefinite-length) chunk by chunk. */
#ifndef SECMAIL_BER_H
#define SECMAIL_BER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

#define BER_BUFSIZE	65536		/* read-ahead buffer */
#define BER_MAX_DEPTH	16		/* nesting of constructed encodings */

/* A byte source the reader pulls from: returns the count, 0 at end, -1 with e set. */
struct ber_src {
	ssize_t (*read)(void *ctx, void *p, size_t n, struct err *e);
	void *ctx;
};

struct ber {
	const struct ber_src *src;
	unsigned char *buf;
	size_t pos, len;
	uint64_t off;		/* stream offset of buf[pos] */
	int eof;
	struct err *e;
};

struct ber_tlv {
	unsigned cls;		/* 0 universal, 1 application, 2 context, 3 private */
	int cons;
	unsigned long tag;
	int indef;
	uint64_t len;
	uint64_t end;		/* offset just past the content (definite only) */
	unsigned char hdr[16];
	size_t hlen;
};

#define BER_IS(t, c, k, n) ((t)->cls == (c) && (t)->cons == (k) && (t)->tag == (n))
#define BER_UNIV 0
#define BER_CTX 2

/* The state of reading the octets of an OCTET STRING that may be constructed. */
struct ber_octets {
	struct ber_tlv stack[BER_MAX_DEPTH];
	int depth;
	int inprim;
	uint64_t left;
};

int ber_init(struct ber *b, const struct ber_src *src, struct err *e);
void ber_free(struct ber *b);

/* Errors (EX_DATAERR, with the stream offset); all return -1. */
int ber_truncated(struct ber *b);
int ber_bad(struct ber *b, const char *what);

int ber_fill(struct ber *b, size_t want);
int ber_take(struct ber *b, void *p, size_t n);	/* exactly n bytes (p may be NULL) */
ssize_t ber_some(struct ber *b, void *p, size_t n);	/* 1..n bytes, -1 at end of input */
int ber_hdr(struct ber *b, struct ber_tlv *t);		/* identifier and length octets */
int ber_is_eoc(const struct ber_tlv *t);
int ber_more(struct ber *b, const struct ber_tlv *c);	/* another element inside c? */
int ber_end(struct ber *b, const struct ber_tlv *c);	/* consume the end of c */
int ber_fits(struct ber *b, const struct ber_tlv *p, const struct ber_tlv *t);
/* Append element t (header already read) with all its content to out, at most limit bytes. */
int ber_capture(struct ber *b, const struct ber_tlv *t, struct buf *out, size_t limit,
    int depth);
/* Read a header and check it is [cls cons tag] and fits in parent ("expected what"). */
int ber_expect(struct ber *b, struct ber_tlv *t, const struct ber_tlv *parent, unsigned cls,
    int cons, unsigned long tag, const char *what);

/* Start reading the content octets of OCTET STRING t (header already read); then
 * ber_octets_read gives the next bytes (de-chunking a constructed encoding, X.690 §8.7.3):
 * the count, 0 once the string has ended, -1 on error. what names the content in errors. */
void ber_octets_start(struct ber_octets *o, const struct ber_tlv *t);
ssize_t ber_octets_read(struct ber *b, struct ber_octets *o, void *out, size_t n,
    const char *what);

/* DER building. */
void der_len(struct buf *o, size_t n);
void der_wrap(struct buf *o, unsigned char tag, const struct buf *in);

#endif
