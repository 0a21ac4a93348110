/* mime.c — the streaming MIME structure walker and the boundary generator (see mime.h).
 *
 * The input is read in pieces: a whole line when it fits the io_in buffer, else buffer-sized
 * pieces of it. Each line's end is held back ("pending") until the next line shows whether
 * it is a delimiter: if it is, the line end belongs to the delimiter (RFC 2046 §5.1.1), else
 * it is content. Open parts form a stack; only multiparts in their preamble or in a part
 * have active boundaries. */
#include "mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { ST_PREAMBLE, ST_PART, ST_EPILOGUE };

/* The bare-CR scan (cr_scan): looking for a line start, collecting a line that starts "--",
 * or that line ended by a CR whose next byte is not read yet. */
enum { CS_NONE, CS_CAND, CS_CR };
enum { CAND_MAX = 2 + MIME_MAX_BOUNDARY + 2 + 16 };

struct walk {
	struct mime_walk *w;
	struct io_in *in;
	struct err *e;
	struct mime_part *st[MIME_MAX_DEPTH + 2];
	int top;			/* index of the innermost open part, -1 when none */
	unsigned char pending[2];	/* held-back line end */
	size_t npending;
	int line_start;
	/* cr_scan's state, carried from one piece of input to the next */
	int cs;				/* CS_* */
	unsigned char last;		/* the byte before the piece ('\n' at the start) */
	unsigned char cand[CAND_MAX];	/* the candidate line, padding past CAND_MAX dropped */
	size_t ncand;
	uint64_t clen;			/* its whole length */
	int cand_bare;			/* it starts after a bare CR */
};

int
mime_delimiter(const void *line, size_t n, const char *boundary, size_t blen)
{
	const unsigned char *p = line;
	size_t i;
	int kind = 1;

	if (n < 2 + blen || p[0] != '-' || p[1] != '-' || memcmp(p + 2, boundary, blen) != 0)
		return 0;
	i = 2 + blen;
	if (i + 1 < n && p[i] == '-' && p[i + 1] == '-') {
		kind = 2;
		i += 2;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;	/* transport padding */
	if (i < n && p[i] == '\r')
		i++;
	if (i < n && p[i] == '\n')
		i++;
	return i == n ? kind : 0;
}

int
mime_boundary(char *out, size_t n, struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t i;

	if (n < MIME_BOUNDARY_LEN + 1)
		return err_set(e, EX_SOFTWARE, "boundary buffer too small");
	/* The kernel's CSPRNG: OpenSSL's RAND_bytes initialisation was most of the time of a
	 * small mime-pack. */
	if (io_random(r, sizeof r, e) != 0)
		return -1;
	out[0] = '=';
	out[1] = '_';
	for (i = 0; i < sizeof r; i++) {
		out[2 + 2 * i] = hex[r[i] >> 4];
		out[3 + 2 * i] = hex[r[i] & 15];
	}
	out[MIME_BOUNDARY_LEN] = '\0';
	return 0;
}

void
mime_walk_init(struct mime_walk *w)
{
	memset(w, 0, sizeof *w);
	w->max_depth = MIME_MAX_DEPTH;
	w->max_parts = MIME_MAX_PARTS;
}

/* Which open multipart, innermost first, has this line as a delimiter: its stack index and
 * the kind in *kind, or -1. */
static int
find_delimiter(const struct walk *k, const unsigned char *p, size_t n, int *kind)
{
	int i;

	if (n < 2 || p[0] != '-' || p[1] != '-')
		return -1;
	for (i = k->top; i >= 0; i--) {
		const struct mime_part *m = k->st[i];

		if (m->boundary == NULL || m->state == ST_EPILOGUE)
			continue;
		*kind = mime_delimiter(p, n, m->boundary, m->blen);
		if (*kind != 0)
			return i;
	}
	return -1;
}

/* Is the candidate line a delimiter of an open multipart? Then a reader splitting lines at a
 * bare CR sees a part boundary where this walk does not. */
static void
cr_judge(struct walk *k)
{
	int i;

	for (i = k->top; i >= 0; i--) {
		const struct mime_part *m = k->st[i];

		if (m->boundary != NULL && m->state != ST_EPILOGUE
		    && mime_delimiter(k->cand, k->ncand, m->boundary, m->blen) != 0) {
			k->w->flags |= MIME_F_CR_DELIMITER;
			return;
		}
	}
}

static int
boundary_open(const struct walk *k)
{
	int i;

	for (i = k->top; i >= 0; i--)
		if (k->st[i]->boundary != NULL && k->st[i]->state != ST_EPILOGUE)
			return 1;
	return 0;
}

/*
 * Every input byte the walk consumes passes here once, in order (body pieces, delimiter
 * lines, part headers). Readers such as Thunderbird and Python's email end a line at a bare
 * CR as well as at an LF; where that makes a delimiter this walk does not take, they see
 * other parts, and a signature verdict on our parts would describe something else. Lines
 * are looked at only where they start with '-' (memchr), so base64 costs one memchr. A
 * line judged is one after a bare CR, one ended by a bare CR, or one too long for the walk
 * to take (longer than the input buffer: io_in_piece delivers it in pieces).
 */
static void
cr_scan(struct walk *k, const unsigned char *p, size_t n)
{
	const unsigned char *q;
	size_t i = 0, j;
	unsigned char c = 0, prev;

	if (n == 0)
		return;
	if (!boundary_open(k) || (k->w->flags & MIME_F_CR_DELIMITER)) {
		k->cs = CS_NONE;
		k->last = p[n - 1];
		return;
	}
	while (i < n) {
		if (k->cs == CS_CR) {
			/* The candidate ended by a CR: bare unless an LF comes now. */
			if (k->cand_bare || p[i] != '\n' || k->clen + 2 > k->in->cap)
				cr_judge(k);
			k->cs = CS_NONE;
			continue;	/* p[i] is at a line start when it is not that LF */
		}
		if (k->cs == CS_NONE) {
			if ((q = memchr(p + i, '-', n - i)) == NULL)
				break;
			j = (size_t)(q - p);
			prev = j > 0 ? p[j - 1] : k->last;
			i = j;
			if (prev != '\n' && prev != '\r') {
				i++;
				continue;
			}
			/* A CR before '-' is bare. */
			k->cand_bare = prev == '\r';
			k->ncand = 0;
			k->clen = 0;
			k->cs = CS_CAND;
		}
		for (; i < n; i++) {
			c = p[i];
			if (c == '\r' || c == '\n')
				break;
			k->clen++;
			if (k->ncand < 2 && c != '-')
				break;
			if (k->ncand < sizeof k->cand)
				k->cand[k->ncand++] = c;
			else if (c != ' ' && c != '\t')
				break;	/* too long for a delimiter but for its padding */
		}
		if (i == n)
			break;
		if (c != '\r' && c != '\n') {
			k->cs = CS_NONE;	/* not a delimiter: look on from here */
			continue;
		}
		i++;
		if (c == '\n') {
			if (k->cand_bare || k->clen + 1 > k->in->cap)
				cr_judge(k);
			k->cs = CS_NONE;
		} else
			k->cs = CS_CR;
	}
	k->last = p[n - 1];
}

/* At the end of the input a line without a line end (or with a CR last of all) is a
 * delimiter to the walk too, unless it starts after a bare CR or is too long. */
static void
cr_finish(struct walk *k)
{
	if (!boundary_open(k))
		return;
	if ((k->cs == CS_CAND || k->cs == CS_CR)
	    && (k->cand_bare || k->clen + (k->cs == CS_CR) > k->in->cap))
		cr_judge(k);
	k->cs = CS_NONE;
}

static int
header_stop(void *ctx, const unsigned char *line, size_t n)
{
	int kind;

	return find_delimiter(ctx, line, n, &kind) >= 0;
}

/* Raw bytes go to every part from the outermost to st[upto] that asked for them. */
static int
emit_raw(struct walk *k, int upto, const void *p, size_t n)
{
	int i, r;

	if (n == 0 || k->w->raw == NULL)
		return 0;
	for (i = 0; i <= upto; i++) {
		if (!k->st[i]->want_raw)
			continue;
		r = k->w->raw(k->w->ctx, k->st[i], p, n, k->e);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Content of the innermost part: data for a leaf, raw for everyone who wants it. */
static int
emit_content(struct walk *k, const void *p, size_t n)
{
	struct mime_part *f = k->st[k->top];
	int r;

	if (n == 0)
		return 0;
	if (!(f->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE))) {
		f->body_bytes += n;
		if (k->w->data != NULL && !f->no_data) {
			r = k->w->data(k->w->ctx, f, p, n, k->e);
			if (r != 0)
				return r;
		}
	}
	return emit_raw(k, k->top, p, n);
}

static void
part_free(struct mime_part *p)
{
	if (p == NULL)
		return;
	if (p->own_header && p->h != NULL) {
		msg_header_free(p->h);
		free(p->h);
	}
	mime_type_free(&p->ct);
	free(p->boundary);
	free(p);
}

static int
set_default_type(struct mime_part *p, const char *type, const char *subtype, struct err *e)
{
	memset(&p->ct, 0, sizeof p->ct);
	p->ct.type = strdup(type);
	p->ct.subtype = strdup(subtype);
	if (p->ct.type == NULL || p->ct.subtype == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	return 0;
}

/* Content type, transfer encoding and how to walk the part. */
static int
classify(struct walk *k, struct mime_part *p)
{
	const struct msg_field *f = msg_header_get(p->h, "Content-Type");
	const struct msg_field *c = msg_header_get(p->h, "Content-Transfer-Encoding");
	const char *b;
	struct err pe;
	int digest = p->parent != NULL && mime_type_is(&p->parent->ct, "multipart", "digest");

	p->cte = cte_parse(c != NULL ? c->value : NULL);
	if (f == NULL || mime_type_parse(f->value, 0, &p->ct, &pe) != 0) {
		if (f != NULL) {
			if (pe.code == EX_OSERR) {
				*k->e = pe;
				return -1;
			}
			p->flags |= MIME_F_BAD_TYPE;
		}
		/* RFC 2045 §5.2; RFC 2046 §5.1.5 for digests. A bad Content-Type is text/plain
		 * even in a digest. */
		if (set_default_type(p, f == NULL && digest ? "message" : "text",
		    f == NULL && digest ? "rfc822" : "plain", k->e) != 0)
			return -1;
	}
	if (mime_type_is(&p->ct, "multipart", NULL)) {
		b = mime_type_param(&p->ct, "boundary");
		if (b == NULL || *b == '\0' || strlen(b) > MIME_MAX_BOUNDARY) {
			p->flags |= MIME_F_NO_BOUNDARY;
			k->w->flags |= p->flags & (MIME_F_BAD_TYPE | MIME_F_NO_BOUNDARY);
			return 0;
		}
		p->boundary = strdup(b);
		if (p->boundary == NULL)
			return err_sys(k->e, EX_OSERR, "out of memory");
		p->blen = strlen(b);
		p->state = ST_PREAMBLE;
		p->flags |= MIME_F_MULTIPART;
	} else if ((mime_type_is(&p->ct, "message", "rfc822")
	    || mime_type_is(&p->ct, "message", "global"))
	    && (p->cte == CTE_7BIT || p->cte == CTE_8BIT || p->cte == CTE_BINARY)) {
		p->flags |= MIME_F_MESSAGE;
	}
	k->w->flags |= p->flags & (MIME_F_BAD_TYPE | MIME_F_NO_BOUNDARY);
	return 0;
}

/* Replay the header's raw bytes (without the mbox From line) and its blank line. */
static int
emit_header_raw(struct walk *k, const struct msg_header *h)
{
	size_t i, used = h->mbox_from != NULL ? strlen(h->mbox_from) : 0, blank;
	int r;

	for (i = 0; i < h->n; i++) {
		cr_scan(k, (const unsigned char *)h->f[i].raw, h->f[i].rawlen);
		r = emit_raw(k, k->top, h->f[i].raw, h->f[i].rawlen);
		if (r != 0)
			return r;
		used += h->f[i].rawlen;
	}
	blank = h->bytes > used ? h->bytes - used : 0;
	if (blank <= 2)
		cr_scan(k, (const unsigned char *)"\r\n" + 2 - blank, blank);
	if (blank == 2)
		return emit_raw(k, k->top, "\r\n", 2);
	if (blank == 1)
		return emit_raw(k, k->top, "\n", 1);
	return 0;
}

/* Begin a part whose header is read now (or given, for the top-level message). */
static int
open_part(struct walk *k, struct msg_header *given)
{
	struct mime_part *parent = k->top >= 0 ? k->st[k->top] : NULL, *p;
	int r;

	if (k->w->nparts >= k->w->max_parts)
		return err_set(k->e, EX_DATAERR, "more than %zu MIME parts", k->w->max_parts);
	if (parent != NULL && parent->depth + 1 > k->w->max_depth)
		return err_set(k->e, EX_DATAERR, "MIME parts nested deeper than %d levels (in part %s)",
		    k->w->max_depth, parent->path);
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return err_sys(k->e, EX_OSERR, "out of memory");
	p->parent = parent;
	p->offset = k->in->off;
	if (parent == NULL)
		snprintf(p->path, sizeof p->path, "0");
	else {
		p->depth = parent->depth + 1;
		p->index = ++parent->nchildren;
		if (parent->parent == NULL)
			snprintf(p->path, sizeof p->path, "%zu", p->index);
		else if (snprintf(p->path, sizeof p->path, "%s.%zu", parent->path, p->index)
		    >= (int)sizeof p->path) {
			free(p);	/* cannot happen within the depth and part limits */
			return err_set(k->e, EX_SOFTWARE, "MIME part path too long");
		}
	}
	if (given != NULL) {
		p->h = given;
		p->offset -= given->bytes;
	} else {
		p->h = malloc(sizeof *p->h);
		if (p->h == NULL) {
			free(p);
			return err_sys(k->e, EX_OSERR, "out of memory");
		}
		msg_header_init(p->h);
		p->own_header = 1;
		r = parent == NULL ? msg_header_read(k->in, p->h, k->e)
		    : msg_header_read_part(k->in, p->h, header_stop, k, k->e);
		if (r != 0) {
			if (parent != NULL)
				err_wrap(k->e, "MIME part %s", p->path);
			part_free(p);
			return -1;
		}
	}
	p->body_offset = k->in->off;
	if (classify(k, p) != 0) {
		part_free(p);
		return -1;
	}
	k->st[++k->top] = p;
	k->w->nparts++;
	p->begun = 1;
	if (k->w->begin != NULL && (r = k->w->begin(k->w->ctx, p, k->e)) != 0)
		return r;
	if ((r = emit_header_raw(k, p->h)) != 0)
		return r;
	k->line_start = 1;
	/* RFC 2046 §5.2.1: the body of message/rfc822 is a message. */
	if (p->flags & MIME_F_MESSAGE)
		return open_part(k, NULL);
	return 0;
}

static int
close_top(struct walk *k)
{
	struct mime_part *p = k->st[k->top];
	int r = 0;

	if ((p->flags & MIME_F_MULTIPART) && p->state != ST_EPILOGUE) {
		p->flags |= MIME_F_UNTERMINATED;
		k->w->flags |= MIME_F_UNTERMINATED;
	}
	if (k->w->end != NULL)
		r = k->w->end(k->w->ctx, p, k->e);
	k->st[k->top--] = NULL;
	part_free(p);
	return r;
}

static size_t
eol_len(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n')
		return 2;
	return n >= 1 && p[n - 1] == '\n' ? 1 : 0;
}

static int
delimiter(struct walk *k, int at, int kind, const unsigned char *line, size_t n)
{
	struct mime_part *m = k->st[at];
	int r;

	/* The line end before the delimiter belongs to it: content of the multipart only. */
	if ((r = emit_raw(k, at, k->pending, k->npending)) != 0)
		return r;
	k->npending = 0;
	while (k->top > at)
		if ((r = close_top(k)) != 0)
			return r;
	k->line_start = 1;
	if (kind == 2) {
		/* The close delimiter's line end may be the one before an enclosing delimiter:
		 * held back like any other. */
		size_t el = eol_len(line, n);

		m->state = ST_EPILOGUE;
		memcpy(k->pending, line + n - el, el);
		k->npending = el;
		return emit_raw(k, at, line, n - el);
	}
	if ((r = emit_raw(k, at, line, n)) != 0)
		return r;
	m->state = ST_PART;
	return open_part(k, NULL);
}


/*
 * At a line start: the buffered run of whole lines none of which can be a delimiter (none
 * starts with '-'), delivered in one piece. It is what the line-by-line path below would
 * deliver (the pending line end first, each line, the last line end held back), with one
 * callback instead of one per line, so decoders see long runs. Base64 never holds '-', so
 * a base64 body goes in buffer-sized pieces. 1 when a run was delivered, 0 when there is
 * none (the caller goes line by line), else a callback's result.
 */
static int
walk_run(struct walk *k)
{
	const unsigned char *p, *q, *end;
	size_t n, el;
	int r;

	n = io_in_buffered(k->in, &p);
	if (n < 2 || p[0] == '-')
		return 0;
	end = p + n;
	for (q = p + 1; (q = memchr(q, '-', (size_t)(end - q))) != NULL; q++)
		if (q[-1] == '\n')
			break;
	if (q != NULL)
		end = q;
	else
		while (end > p && end[-1] != '\n')
			end--;	/* the last line may be incomplete: left to be read whole */
	if (end == p)
		return 0;
	n = (size_t)(end - p);
	cr_scan(k, p, n);
	if ((r = emit_content(k, k->pending, k->npending)) != 0)
		return r;
	el = eol_len(p, n);
	if ((r = emit_content(k, p, n - el)) != 0)
		return r;
	memcpy(k->pending, p + n - el, el);
	k->npending = el;
	io_in_skip(k->in, n);
	return 1;
}

static int
walk_body(struct walk *k)
{
	const unsigned char *p;
	ssize_t got;
	size_t n, el;
	int complete, at, kind, r;

	for (;;) {
		if (k->line_start && !k->w->line_at_a_time) {
			if ((r = walk_run(k)) == 1)
				continue;
			if (r != 0)
				return r;
		}
		got = io_in_piece(k->in, &p, &complete);
		if (got < 0) {
			*k->e = k->in->e;
			return -1;
		}
		if (got == 0)
			break;
		n = (size_t)got;
		cr_scan(k, p, n);
		if (k->line_start && complete && (at = find_delimiter(k, p, n, &kind)) >= 0) {
			if ((r = delimiter(k, at, kind, p, n)) != 0)
				return r;
			continue;
		}
		if ((r = emit_content(k, k->pending, k->npending)) != 0)
			return r;
		k->npending = 0;
		el = complete ? eol_len(p, n) : 0;
		if ((r = emit_content(k, p, n - el)) != 0)
			return r;
		memcpy(k->pending, p + n - el, el);
		k->npending = el;
		k->line_start = complete;
	}
	/* End of input: the last line end is content (no delimiter follows). */
	cr_finish(k);
	if ((r = emit_content(k, k->pending, k->npending)) != 0)
		return r;
	k->npending = 0;
	while (k->top >= 0)
		if ((r = close_top(k)) != 0)
			return r;
	return 0;
}

int
mime_walk(struct mime_walk *w, struct io_in *in, struct msg_header *top, struct err *e)
{
	struct walk k;
	int r;

	memset(&k, 0, sizeof k);
	k.w = w;
	k.in = in;
	k.e = e;
	k.top = -1;
	k.last = '\n';
	w->nparts = 0;
	w->flags = 0;
	if (w->max_depth > MIME_MAX_DEPTH || w->max_depth < 0)
		w->max_depth = MIME_MAX_DEPTH;
	r = open_part(&k, top);
	if (r == 0)
		r = walk_body(&k);
	while (k.top >= 0) {
		/* Error or stop: release without calling end(). */
		if (w->cancel != NULL && k.st[k.top]->begun)
			w->cancel(w->ctx, k.st[k.top]);
		part_free(k.st[k.top]);
		k.st[k.top--] = NULL;
	}
	return r < 0 ? -1 : r;
}
