/* qp.c — quoted-printable, RFC 2045 §6.7, streaming both ways. */
#include "qp.h"

#include <string.h>

static const char hexdig[] = "0123456789ABCDEF";

void
qp_enc_init(struct qp_enc *x, int flags)
{
	memset(x, 0, sizeof *x);
	x->flags = flags;
}

size_t
qp_enc_bound(size_t n)
{
	/* Each consumed byte (n plus at most 5 held) yields at most 3 characters; a soft break
	 * (at most 3) comes after at least 73 of them; the final soft break adds 3. */
	return 4 * (n + 5) + 8;
}

static size_t
put_eol(const struct qp_enc *x, char *out)
{
	if (x->flags & QP_CRLF) {
		out[0] = '\r';
		out[1] = '\n';
		return 2;
	}
	out[0] = '\n';
	return 1;
}

static int
is_literal(unsigned char c)
{
	/* §6.7 rule 2 */
	return c >= 33 && c <= 126 && c != '=';
}

static void
consume(struct qp_enc *x, unsigned k)
{
	memmove(x->hold, x->hold + k, x->nhold - k);
	x->nhold -= k;
}

/* Encode from the hold buffer whatever can be decided; with final, everything. */
static size_t
resolve(struct qp_enc *x, char *out, int final)
{
	int text = !(x->flags & QP_BINARY);
	size_t o = 0;

	while (x->nhold > 0) {
		unsigned char c = x->hold[0];
		int enc, brk_next;
		unsigned len;

		if (text && (c == '\n' || (c == '\r' && x->nhold >= 2 && x->hold[1] == '\n'))) {
			o += put_eol(x, out + o);	/* hard line break */
			x->col = 0;
			consume(x, c == '\n' ? 1 : 2);
			continue;
		}
		if (text && c == '\r' && x->nhold < 2 && !final)
			break;		/* CR: is an LF next? */
		if ((c == ' ' || c == '\t' || c == '.') && x->nhold < 2 && !final)
			break;		/* trailing white space, lone dot: what comes next? */
		brk_next = x->nhold < 2 || (text && (x->hold[1] == '\n' || x->hold[1] == '\r'));
		enc = !is_literal(c) && !((c == ' ' || c == '\t') && !brk_next);
		len = enc ? 3 : 1;
		if (x->col + len > QP_LINE_MAX - 1 || x->col == 0) {
			/* The byte starts an output line: the transport-safety rules apply. */
			if (c == 'F' && x->nhold < 5 && !final)
				break;
			if (c == 'F' && x->nhold >= 5 && memcmp(x->hold, "From ", 5) == 0)
				enc = 1;
			if (c == '.' && brk_next)
				enc = 1;
			len = enc ? 3 : 1;
		}
		if (x->col + len > QP_LINE_MAX - 1) {
			out[o++] = '=';	/* §6.7 rule 5: soft line break */
			o += put_eol(x, out + o);
			x->col = 0;
		}
		if (enc) {
			out[o++] = '=';
			out[o++] = hexdig[c >> 4];
			out[o++] = hexdig[c & 15];
		} else
			out[o++] = (char)c;
		x->col += len;
		consume(x, 1);
	}
	return o;
}

size_t
qp_enc_update(struct qp_enc *x, const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		/* Fast path: a literal in mid-line with nothing pending needs no look-ahead. */
		if (x->nhold == 0 && x->col > 0 && x->col < QP_LINE_MAX - 1 && is_literal(c)) {
			out[o++] = (char)c;
			x->col++;
			continue;
		}
		x->hold[x->nhold++] = c;
		o += resolve(x, out + o, 0);
	}
	return o;
}

size_t
qp_enc_final(struct qp_enc *x, char *out)
{
	size_t o = resolve(x, out, 1);

	if ((x->flags & QP_TERMINATE) && x->col > 0) {
		out[o++] = '=';
		o += put_eol(x, out + o);
		x->col = 0;
	}
	return o;
}

/* --- decoder --- */

enum { D_TEXT, D_EQ, D_EQ_HEX, D_EQ_WS };
enum { EV_BREAK = 256, EV_END = 257 };

void
qp_dec_init(struct qp_dec *x, int flags)
{
	memset(x, 0, sizeof *x);
	x->flags = flags;
}

size_t
qp_dec_bound(size_t n)
{
	return 2 * n + QP_DEC_WS_MAX + 8;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static size_t
flush_ws(struct qp_dec *x, unsigned char *out)
{
	size_t n = x->nws;

	memcpy(out, x->ws, n);
	x->nws = 0;
	return n;
}

/* One event: a data byte (0..255), a line break, or the end of the data. */
static size_t
event(struct qp_dec *x, int ev, unsigned char *out)
{
	size_t o = 0;
	int h;

	for (;;) {
		switch (x->state) {
		case D_TEXT:
			if (ev == ' ' || ev == '\t') {
				if (x->nws == QP_DEC_WS_MAX)
					o += flush_ws(x, out + o);
				x->ws[x->nws++] = (unsigned char)ev;
			} else if (ev == EV_BREAK || ev == EV_END) {
				x->nws = 0;	/* rule 3: trailing white space is padding */
				if (ev == EV_BREAK) {
					if (x->flags & QP_CRLF)
						out[o++] = '\r';
					out[o++] = '\n';
				}
			} else {
				o += flush_ws(x, out + o);
				if (ev == '=')
					x->state = D_EQ;
				else
					out[o++] = (unsigned char)ev;
			}
			return o;
		case D_EQ:
			if (ev < 256 && hexval(ev) >= 0) {
				x->hex1 = (unsigned char)ev;
				x->state = D_EQ_HEX;
				return o;
			}
			if (ev == ' ' || ev == '\t') {
				x->ws[x->nws++] = (unsigned char)ev;
				x->state = D_EQ_WS;
				return o;
			}
			x->state = D_TEXT;
			if (ev == EV_BREAK || ev == EV_END)
				return o;	/* rule 5: soft line break */
			out[o++] = '=';		/* malformed: literally */
			continue;
		case D_EQ_HEX:
			x->state = D_TEXT;
			if (ev < 256 && (h = hexval(ev)) >= 0) {
				out[o++] = (unsigned char)(hexval(x->hex1) << 4 | h);
				return o;
			}
			out[o++] = '=';
			out[o++] = x->hex1;
			continue;
		case D_EQ_WS:
			if ((ev == ' ' || ev == '\t') && x->nws < QP_DEC_WS_MAX) {
				x->ws[x->nws++] = (unsigned char)ev;
				return o;
			}
			x->state = D_TEXT;
			if (ev == EV_BREAK || ev == EV_END) {
				x->nws = 0;	/* soft break with transport padding */
				return o;
			}
			out[o++] = '=';
			o += flush_ws(x, out + o);
			continue;
		}
		return o;
	}
}

size_t
qp_dec_update(struct qp_dec *x, const void *in, size_t n, unsigned char *out)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		/* Fast path: ordinary bytes in text with nothing pending. */
		if (x->state == D_TEXT && x->nws == 0 && !x->cr && c != '=' && c != ' ' && c != '\t'
		    && c != '\r' && c != '\n') {
			out[o++] = c;
			continue;
		}
		if (x->cr) {
			x->cr = 0;
			if (c == '\n') {
				o += event(x, EV_BREAK, out + o);
				continue;
			}
			o += event(x, '\r', out + o);	/* a bare CR is data */
		}
		if (c == '\r')
			x->cr = 1;
		else if (c == '\n')
			o += event(x, EV_BREAK, out + o);
		else
			o += event(x, c, out + o);
	}
	return o;
}

size_t
qp_dec_final(struct qp_dec *x, unsigned char *out)
{
	size_t o = 0;

	if (x->cr) {
		x->cr = 0;
		o += event(x, '\r', out);
	}
	o += event(x, EV_END, out + o);
	return o;
}
