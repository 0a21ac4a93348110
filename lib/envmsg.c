/* envmsg.c — base64 bodies, line ends and header rules around lib/envelope. */
#include "envmsg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

struct env_src
envmsg_bodysrc_src(struct envmsg_bodysrc *x)
{
	struct env_src s = { bodysrc_read, x };

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
