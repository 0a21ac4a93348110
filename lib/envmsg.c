/* envmsg.c — base64 bodies, line ends and header rules around lib/envelope. */
#include "envmsg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHUNK 65536

/* ---- base64 out ---- */

int
envmsg_b64out_init(struct envmsg_b64out *x, struct io_out *o, int crlf, struct err *e)
{
	memset(x, 0, sizeof *x);
	x->o = o;
	b64_enc_init(&x->enc, crlf ? B64_CRLF : 0, 76);
	x->tmpcap = b64_enc_bound(&x->enc, CHUNK) + 16;
	if ((x->tmp = malloc(x->tmpcap)) == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	return 0;
}

static int
b64out_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct envmsg_b64out *x = ctx;
	const unsigned char *c = p;
	size_t k, w;

	while (n > 0) {
		k = n > CHUNK ? CHUNK : n;
		w = b64_enc_update(&x->enc, c, k, x->tmp);
		if (io_out_write(x->o, x->tmp, w) != 0) {
			*e = x->o->e;
			return -1;
		}
		c += k;
		n -= k;
	}
	return 0;
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
	size_t w = b64_enc_final(&x->enc, x->tmp);

	if (io_out_write(x->o, x->tmp, w) != 0) {
		*e = x->o->e;
		return -1;
	}
	return 0;
}

void
envmsg_b64out_free(struct envmsg_b64out *x)
{
	free(x->tmp);
	x->tmp = NULL;
}

/* ---- body source ---- */

int
envmsg_bodysrc_init(struct envmsg_bodysrc *x, struct io_in *in, int b64, struct err *e)
{
	memset(x, 0, sizeof *x);
	x->in = in;
	x->b64 = b64;
	b64_dec_init(&x->dec, 0);
	x->raw = malloc(CHUNK);
	x->dbuf = malloc(b64_dec_bound(CHUNK) + 64);
	if (x->raw == NULL || x->dbuf == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	return 0;
}

static ssize_t
bodysrc_read(void *ctx, void *p, size_t n, struct err *e)
{
	struct envmsg_bodysrc *x = ctx;
	ssize_t r;
	size_t k;

	if (!x->b64) {
		r = io_in_read(x->in, p, n);
		if (r < 0)
			*e = x->in->e;
		return r;
	}
	while (x->dpos == x->dlen) {
		if (x->ended)
			return 0;
		x->dpos = x->dlen = 0;
		r = io_in_read(x->in, x->raw, CHUNK);
		if (r < 0) {
			*e = x->in->e;
			return -1;
		}
		if (r == 0) {
			x->ended = 1;
			if (b64_dec_final(&x->dec, x->dbuf, &x->dlen) != 0)
				return err_set(e, EX_DATAERR, "bad base64 in the body: %s",
				    x->dec.msg);
			continue;
		}
		if (b64_dec_update(&x->dec, x->raw, (size_t)r, x->dbuf, &x->dlen) != 0)
			return err_set(e, EX_DATAERR, "bad base64 in the body: %s", x->dec.msg);
	}
	k = x->dlen - x->dpos;
	if (k > n)
		k = n;
	memcpy(p, x->dbuf + x->dpos, k);
	x->dpos += k;
	return (ssize_t)k;
}

struct env_src
envmsg_bodysrc_src(struct envmsg_bodysrc *x)
{
	struct env_src s = { bodysrc_read, x };

	return s;
}

void
envmsg_bodysrc_free(struct envmsg_bodysrc *x)
{
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
