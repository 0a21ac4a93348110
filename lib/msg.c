/* msg.c — RFC 5322 header reading (raw bytes kept for byte-exact pass-through), lookup,
 * editing, folding, and the Date and Message-ID values a submitting tool adds. */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "rfc2047.h"

void
msg_header_init(struct msg_header *h)
{
	memset(h, 0, sizeof *h);
}

static void
field_free(struct msg_field *f)
{
	free(f->name);
	free(f->value);
	free(f->raw);
	memset(f, 0, sizeof *f);
}

void
msg_header_free(struct msg_header *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		field_free(&h->f[i]);
	free(h->f);
	free(h->mbox_from);
	memset(h, 0, sizeof *h);
}

/* RFC 5322 §3.6.8: field-name = 1*ftext, printable US-ASCII except ':'. Returns the name's
 * length and the offset just past the colon in *colon (obs-optional, §4.5: white space may
 * sit between name and colon), or 0 if the line does not start a field. */
static size_t
field_name_len(const unsigned char *p, size_t n, size_t *colon)
{
	size_t i = 0, name;

	while (i < n && p[i] >= 33 && p[i] <= 126 && p[i] != ':')
		i++;
	name = i;
	if (name == 0)
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i >= n || p[i] != ':')
		return 0;
	*colon = i + 1;
	return name;
}

static size_t
eol_len(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n')
		return 2;
	if (n >= 1 && p[n - 1] == '\n')
		return 1;
	return 0;
}

static int
is_blank_line(const unsigned char *p, size_t n)
{
	return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n');
}

static int
grow_fields(struct msg_header *h, struct err *e)
{
	struct msg_field *f;
	size_t cap;

	if (h->n < h->cap)
		return 0;
	cap = h->cap ? h->cap * 2 : 16;
	f = realloc(h->f, cap * sizeof *f);
	if (f == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	h->f = f;
	h->cap = cap;
	return 0;
}

/* Turn the raw bytes of one field into name, unfolded value and raw copy (RFC 5322 §2.2.3:
 * unfolding removes the CRLF of each fold; the white space after it stays). */
static int
field_finish(struct msg_header *h, const struct buf *raw, struct err *e)
{
	const unsigned char *p = (const unsigned char *)raw->p;
	struct msg_field f = { NULL, NULL, NULL, 0 };
	size_t colon = 0, nlen, i;
	struct buf v = BUF_INIT;

	nlen = field_name_len(p, raw->len, &colon);
	if (grow_fields(h, e) != 0)
		return -1;
	while (colon < raw->len && (p[colon] == ' ' || p[colon] == '\t'))
		colon++;
	for (i = colon; i < raw->len; i++) {
		if (p[i] == '\r' && i + 1 < raw->len && p[i + 1] == '\n')
			continue;
		if (p[i] == '\n')
			continue;
		buf_addc(&v, (char)p[i]);
	}
	f.value = buf_take(&v, e);
	f.name = strndup((const char *)p, nlen);
	f.raw = malloc(raw->len + 1);
	if (f.value == NULL || f.name == NULL || f.raw == NULL) {
		field_free(&f);
		return err_sys(e, EX_OSERR, "out of memory");
	}
	memcpy(f.raw, p, raw->len);
	f.raw[raw->len] = '\0';
	f.rawlen = raw->len;
	h->f[h->n++] = f;
	return 0;
}

int
msg_header_read(struct io_in *in, struct msg_header *h, struct err *e)
{
	return msg_header_read_part(in, h, NULL, NULL, e);
}

/* Lenient reading: end the header before the line just read (n bytes, left unread), saying
 * why. Returns 1 (stop) when h->lenient, else 0 (the caller reports the error). */
static int
end_early(struct io_in *in, struct msg_header *h, size_t n, const char *fmt, ...)
    ERR_PRINTF(4, 5);

static int
end_early(struct io_in *in, struct msg_header *h, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!h->lenient)
		return 0;
	io_in_unread(in, n);
	va_start(ap, fmt);
	vsnprintf(h->defect, sizeof h->defect, fmt, ap);
	va_end(ap);
	return 1;
}

int
msg_header_read_part(struct io_in *in, struct msg_header *h,
    int (*stop)(void *ctx, const unsigned char *line, size_t n), void *ctx, struct err *e)
{
	struct buf raw = BUF_INIT;
	const unsigned char *line;
	unsigned long lineno = 0;
	size_t colon;
	ssize_t r;
	int first = 1;

	h->defect[0] = '\0';
	for (;;) {
		r = io_in_line(in, MSG_MAX_LINE, &line);
		if (r < 0) {
			/* Too long: nothing was taken, so the line can stay for the body. */
			if (h->lenient && in->e.code == EX_DATAERR) {
				snprintf(h->defect, sizeof h->defect, "header line %lu is longer than "
				    "%d bytes", lineno + 1, MSG_MAX_LINE);
				break;
			}
			*e = in->e;
			if (e->code == EX_DATAERR)
				err_wrap(e, "header line %lu", lineno + 1);
			goto fail;
		}
		if (r == 0)
			break;
		lineno++;
		if (memchr(line, '\0', (size_t)r) != NULL) {
			if (end_early(in, h, (size_t)r, "NUL byte in header line %lu", lineno))
				break;
			err_set(e, EX_DATAERR, "NUL byte in header line %lu", lineno);
			goto fail;
		}
		if (first) {
			first = 0;
			h->crlf = eol_len(line, (size_t)r) == 2;
			/* An mbox "From " line, unless it is an obsolete "From : x" field. */
			if (stop == NULL && (size_t)r >= 5 && memcmp(line, "From ", 5) == 0
			    && field_name_len(line, (size_t)r, &colon) == 0) {
				h->mbox_from = strndup((const char *)line, (size_t)r);
				if (h->mbox_from == NULL) {
					err_sys(e, EX_OSERR, "out of memory");
					goto fail;
				}
				h->bytes += (size_t)r;
				continue;
			}
			if (is_blank_line(line, (size_t)r)) {
				h->bytes += (size_t)r;
				break;
			}
			if (stop != NULL && stop(ctx, line, (size_t)r)) {
				io_in_unread(in, (size_t)r);
				break;
			}
			if (field_name_len(line, (size_t)r, &colon) == 0) {
				if (!end_early(in, h, (size_t)r, "header line %lu is not a header field",
				    lineno))
					io_in_unread(in, (size_t)r);
				break;
			}
		} else if (stop != NULL && stop(ctx, line, (size_t)r)) {
			io_in_unread(in, (size_t)r);
			break;
		}
		if (is_blank_line(line, (size_t)r)) {
			h->bytes += (size_t)r;
			break;
		}
		if (h->bytes + (size_t)r > MSG_MAX_HEADER) {
			if (end_early(in, h, (size_t)r, "header longer than %d bytes", MSG_MAX_HEADER))
				break;
			err_set(e, EX_DATAERR, "header longer than %d bytes", MSG_MAX_HEADER);
			goto fail;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			/* RFC 5322 §2.2.3: a continuation of the field before. */
			if (raw.len == 0) {
				if (end_early(in, h, (size_t)r, "header line %lu: continuation line "
				    "without a field", lineno))
					break;
				err_set(e, EX_DATAERR,
				    "header line %lu: continuation line without a field", lineno);
				goto fail;
			}
			if (raw.len + (size_t)r > MSG_MAX_FIELD) {
				if (end_early(in, h, (size_t)r, "header line %lu: field longer than %d "
				    "bytes", lineno, MSG_MAX_FIELD))
					break;
				err_set(e, EX_DATAERR, "header line %lu: field longer than %d bytes",
				    lineno, MSG_MAX_FIELD);
				goto fail;
			}
			buf_add(&raw, line, (size_t)r);
		} else {
			if (field_name_len(line, (size_t)r, &colon) == 0) {
				/* An excerpt of the line, without its line end. */
				int show = (int)((size_t)r - eol_len(line, (size_t)r));

				if (end_early(in, h, (size_t)r, "header line %lu is not a header field",
				    lineno))
					break;
				err_set(e, EX_DATAERR, "header line %lu: not a header field: \"%.*s\"",
				    lineno, show > 40 ? 40 : show, (const char *)line);
				goto fail;
			}
			if (raw.len > 0) {
				if (buf_check(&raw, e) != 0 || field_finish(h, &raw, e) != 0)
					goto fail;
				buf_reset(&raw);
			}
			if (h->n >= MSG_MAX_FIELDS) {
				if (end_early(in, h, (size_t)r, "more than %d header fields",
				    MSG_MAX_FIELDS))
					break;
				err_set(e, EX_DATAERR, "more than %d header fields", MSG_MAX_FIELDS);
				goto fail;
			}
			buf_add(&raw, line, (size_t)r);
		}
		h->bytes += (size_t)r;
	}
	if (raw.len > 0 && (buf_check(&raw, e) != 0 || field_finish(h, &raw, e) != 0))
		goto fail;
	buf_free(&raw);
	return 0;
fail:
	buf_free(&raw);
	return -1;
}

const struct msg_field *
msg_header_get(const struct msg_header *h, const char *name)
{
	size_t i = msg_header_next(h, name, 0);

	return i == (size_t)-1 ? NULL : &h->f[i];
}

size_t
msg_header_count(const struct msg_header *h, const char *name)
{
	size_t i, c = 0;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->f[i].name, name) == 0)
			c++;
	return c;
}

size_t
msg_header_next(const struct msg_header *h, const char *name, size_t from)
{
	size_t i;

	for (i = from; i < h->n; i++)
		if (strcasecmp(h->f[i].name, name) == 0)
			return i;
	return (size_t)-1;
}

static int
make_field(struct msg_header *h, const char *name, const char *value, struct msg_field *f,
    struct err *e)
{
	memset(f, 0, sizeof *f);
	f->raw = msg_fold(name, value, h->crlf ? "\r\n" : "\n", e);
	if (f->raw == NULL)
		return -1;
	f->rawlen = strlen(f->raw);
	f->name = strdup(name);
	f->value = strdup(value);
	if (f->name == NULL || f->value == NULL) {
		field_free(f);
		return err_sys(e, EX_OSERR, "out of memory");
	}
	return 0;
}

int
msg_header_add(struct msg_header *h, const char *name, const char *value, struct err *e)
{
	return msg_header_insert(h, h->n, name, value, e);
}

int
msg_header_insert(struct msg_header *h, size_t at, const char *name, const char *value,
    struct err *e)
{
	struct msg_field f;

	if (at > h->n)
		at = h->n;
	if (h->n >= MSG_MAX_FIELDS)
		return err_set(e, EX_DATAERR, "more than %d header fields", MSG_MAX_FIELDS);
	if (make_field(h, name, value, &f, e) != 0)
		return -1;
	if (grow_fields(h, e) != 0) {
		field_free(&f);
		return -1;
	}
	memmove(&h->f[at + 1], &h->f[at], (h->n - at) * sizeof *h->f);
	h->f[at] = f;
	h->n++;
	return 0;
}

void
msg_header_delete(struct msg_header *h, size_t i)
{
	if (i >= h->n)
		return;
	field_free(&h->f[i]);
	memmove(&h->f[i], &h->f[i + 1], (h->n - i - 1) * sizeof *h->f);
	h->n--;
}

size_t
msg_header_remove(struct msg_header *h, const char *name)
{
	size_t i = 0, c = 0;

	while (i < h->n) {
		if (strcasecmp(h->f[i].name, name) == 0) {
			msg_header_delete(h, i);
			c++;
		} else
			i++;
	}
	return c;
}

int
msg_header_write(struct io_out *o, const struct msg_header *h)
{
	size_t i;

	if (h->mbox_from != NULL && io_out_puts(o, h->mbox_from) != 0)
		return -1;
	for (i = 0; i < h->n; i++)
		if (io_out_write(o, h->f[i].raw, h->f[i].rawlen) != 0)
			return -1;
	return 0;
}

static int
valid_name(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (*p < 33 || *p > 126 || *p == ':')
			return 0;
	return 1;
}

/*
 * RFC 5322 §2.2.3 folding: a line break may be inserted before any white space. Greedy: a
 * word (white space run + following non-white run) goes on the current line while the line
 * stays within MSG_FOLD_COLUMN (76 when the value holds an encoded-word, RFC 2047 §2), else
 * the line is broken before its white space. A word that
 * cannot fit within MSG_MAX_OUT_LINE even alone is an error; trailing white space never
 * starts a line of its own (a line of only white space would be a malformed fold).
 */
char *
msg_fold(const char *name, const char *value, const char *eol, struct err *e)
{
	struct buf b = BUF_INIT;
	size_t col, i, ws, w, words = 0;	/* words on the current line */
	const char *v = value;
	/* RFC 2047 §2: a line holding an encoded-word is limited to 76 characters. */
	size_t fold = strstr(value, "=?") != NULL ? 76 : MSG_FOLD_COLUMN;

	if (!valid_name(name)) {
		err_set(e, EX_DATAERR, "invalid header field name \"%.60s\"", name);
		return NULL;
	}
	if (strpbrk(value, "\r\n") != NULL) {
		err_set(e, EX_DATAERR, "%s: header field value contains a line break", name);
		return NULL;
	}
	buf_adds(&b, name);
	buf_addc(&b, ':');
	col = strlen(name) + 1;
	if (col > MSG_MAX_OUT_LINE) {
		err_set(e, EX_DATAERR, "header field name longer than %d octets", MSG_MAX_OUT_LINE);
		buf_free(&b);
		return NULL;
	}
	if (*v != '\0' && *v != ' ' && *v != '\t') {
		/* The customary single space after the colon is not a fold point. */
		buf_addc(&b, ' ');
		col++;
		i = strcspn(v, " \t");
		if (col + i > MSG_MAX_OUT_LINE)
			goto toolong;
		buf_add(&b, v, i);
		col += i;
		v += i;
		words = 1;
	}
	while (*v != '\0') {
		ws = strspn(v, " \t");
		w = strcspn(v + ws, " \t");
		if (w == 0) {
			/* Trailing white space: stays on this line. */
			if (col + ws > MSG_MAX_OUT_LINE)
				goto toolong;
			buf_add(&b, v, ws);
			break;
		}
		if (col + ws + w > fold && words > 0) {
			buf_adds(&b, eol);
			col = 0;
			words = 0;
		}
		if (col + ws + w > MSG_MAX_OUT_LINE)
			goto toolong;
		buf_add(&b, v, ws + w);
		col += ws + w;
		words++;
		v += ws + w;
	}
	buf_adds(&b, eol);
	return buf_take(&b, e);
toolong:
	buf_free(&b);
	err_set(e, EX_DATAERR,
	    "%s: header field has a word too long to fold within %d octets", name, MSG_MAX_OUT_LINE);
	return NULL;
}

void
msg_header_no_bare_cr(struct msg_header *h)
{
	size_t i, k;

	for (i = 0; i < h->n; i++)
		for (k = 0; k < h->f[i].rawlen; k++)
			if (h->f[i].raw[k] == '\r' && (k + 1 >= h->f[i].rawlen
			    || h->f[i].raw[k + 1] != '\n'))
				h->f[i].raw[k] = ' ';
}

int
msg_is_content_field(const char *name)
{
	return strncasecmp(name, "Content-", 8) == 0 || strcasecmp(name, "MIME-Version") == 0;
}

/* RFC 5322 §3.3: day-name "," date time, with a numeric zone; names fixed, not localised. */
int
msg_date(time_t t, char *buf, size_t n)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	long off;
	int r;

	if (localtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0
	    || tm.tm_mon > 11)
		return -1;
	off = tm.tm_gmtoff / 60;
	r = snprintf(buf, n, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	if (r < 0 || (size_t)r >= n)
		return -1;
	return 0;
}

/* RFC 5322 §3.6.4: msg-id = "<" id-left "@" id-right ">"; id-left from 128 random bits (and
 * the time, so even a broken RNG does not repeat across seconds), id-right the domain. */
char *
msg_message_id(const char *domain, struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	char host[256], left[2 * sizeof r + 1], *out;
	const unsigned char *p;
	size_t i, len;

	if (domain == NULL || *domain == '\0') {
		if (gethostname(host, sizeof host) != 0 || host[0] == '\0'
		    || strchr(host, '.') == NULL)
			snprintf(host, sizeof host, "localhost.invalid");
		host[sizeof host - 1] = '\0';
		domain = host;
	}
	for (p = (const unsigned char *)domain; *p != '\0'; p++) {
		/* dot-atom-text (RFC 5322 §3.2.3) */
		if (*p <= 32 || *p >= 127 || strchr("()<>[]:;@\\,\"", *p) != NULL) {
			err_set(e, EX_DATAERR, "invalid Message-ID domain \"%.60s\"", domain);
			return NULL;
		}
	}
	if (domain[0] == '.' || domain[strlen(domain) - 1] == '.' || strstr(domain, "..") != NULL) {
		err_set(e, EX_DATAERR, "invalid Message-ID domain \"%.60s\"", domain);
		return NULL;
	}
	if (io_random(r, sizeof r, e) != 0)
		return NULL;
	for (i = 0; i < sizeof r; i++) {
		left[2 * i] = hex[r[i] >> 4];
		left[2 * i + 1] = hex[r[i] & 15];
	}
	left[2 * sizeof r] = '\0';
	len = strlen(domain) + sizeof left + 40;
	out = malloc(len);
	if (out == NULL) {
		err_sys(e, EX_OSERR, "out of memory");
		return NULL;
	}
	snprintf(out, len, "<%lld.%s@%s>", (long long)time(NULL), left, domain);
	return out;
}

/* "Full Name <from>" or "<from>": the full name (sendmail -F) becomes a phrase, quoted or
 * RFC 2047-encoded as it needs (RFC 5322 §3.4), so no quote or "<" in it can forge an
 * address. malloc'd, or NULL. */
static char *
from_value(const char *from, const char *fullname, size_t col, struct err *e)
{
	struct buf b = BUF_INIT;

	if (fullname != NULL && fullname[0] != '\0') {
		if (rfc2047_encode(&b, fullname, RFC2047_PHRASE, col, e) != 0) {
			buf_free(&b);
			err_wrap(e, "the full name");
			return NULL;
		}
		buf_addc(&b, ' ');
	}
	buf_addf(&b, "<%s>", from);
	return buf_take(&b, e);
}

/* Insert name: value at h's index at, value from_value / msg_date / msg_message_id. */
static int
insert_made(struct msg_header *h, size_t at, const char *name, char *value, struct err *e)
{
	int r;

	if (value == NULL)
		return -1;
	r = msg_header_insert(h, at, name, value, e);
	free(value);
	return r;
}

static char *
date_value(time_t now, struct err *e)
{
	char v[64], *s;

	if (msg_date(now, v, sizeof v) != 0) {
		err_set(e, EX_SOFTWARE, "cannot format the date");
		return NULL;
	}
	if ((s = strdup(v)) == NULL)
		err_sys(e, EX_OSERR, "out of memory");
	return s;
}

static char *
id_value(const char *from, struct err *e)
{
	const char *dom = strrchr(from, '@');
	char *id = msg_message_id(dom != NULL && dom[1] ? dom + 1 : NULL, e);

	return id != NULL ? id : msg_message_id(NULL, e);	/* e.g. a domain-literal sender */
}

int
msg_complete_submission(struct msg_header *h, const char *from, const char *fullname,
    time_t now, struct err *e)
{
	if (msg_header_get(h, "From") == NULL &&
	    insert_made(h, h->n, "From", from_value(from, fullname, 6, e), e) != 0)
		return -1;
	if (msg_header_get(h, "Date") == NULL &&
	    insert_made(h, h->n, "Date", date_value(now, e), e) != 0)
		return -1;
	if (msg_header_get(h, "Message-ID") == NULL &&
	    insert_made(h, h->n, "Message-ID", id_value(from, e), e) != 0)
		return -1;
	return 0;
}

int
msg_is_resent(const struct msg_header *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strncasecmp(h->f[i].name, "Resent-", 7) == 0)
			return 1;
	return 0;
}

int
msg_complete_resent(struct msg_header *h, const char *from, const char *fullname, time_t now,
    struct err *e)
{
	size_t top, end, i;
	int date = 0, rfrom = 0, id = 0;

	for (top = 0; top < h->n && strncasecmp(h->f[top].name, "Resent-", 7) != 0; top++)
		;
	if (top == h->n)
		return 0;
	for (end = top; end < h->n && strncasecmp(h->f[end].name, "Resent-", 7) == 0; end++)
		;
	for (i = top; i < end; i++) {
		date |= strcasecmp(h->f[i].name, "Resent-Date") == 0;
		rfrom |= strcasecmp(h->f[i].name, "Resent-From") == 0;
		id |= strcasecmp(h->f[i].name, "Resent-Message-ID") == 0;
	}
	/* at the top of the block, so it stays one block */
	if (!id && insert_made(h, top, "Resent-Message-ID", id_value(from, e), e) != 0)
		return -1;
	if (!rfrom && insert_made(h, top, "Resent-From", from_value(from, fullname, 13, e),
	    e) != 0)
		return -1;
	if (!date && insert_made(h, top, "Resent-Date", date_value(now, e), e) != 0)
		return -1;
	return 0;
}

int
msg_spool(struct io_in *in, const struct msg_header *h, struct err *e)
{
	unsigned char *buf = NULL;
	struct io_out o;
	ssize_t n = 0;
	int fd;

	if ((fd = io_spool(e)) < 0)
		return -1;
	if (io_out_init(&o, fd, "spool file", e) != 0) {
		close(fd);
		return -1;
	}
	if ((buf = malloc(IO_BUFSIZE)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		goto fail;
	}
	msg_header_write(&o, h);
	io_out_puts(&o, h->crlf ? "\r\n" : "\n");
	while ((n = io_in_read(in, buf, IO_BUFSIZE)) > 0)
		io_out_write(&o, buf, (size_t)n);
	if (n < 0) {
		*e = in->e;
		goto fail;
	}
	if (io_out_finish(&o) != 0) {
		*e = o.e;
		goto fail;
	}
	free(buf);
	if (lseek(fd, 0, SEEK_SET) != 0) {
		err_sys(e, EX_IOERR, "cannot rewind the spool file");
		close(fd);
		return -1;
	}
	return fd;
fail:
	free(buf);
	io_out_free(&o);
	close(fd);
	return -1;
}
