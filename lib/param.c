/* param.c — Content-Type / Content-Disposition values and their parameters: RFC 2045 §5.1,
 * RFC 2183 §2, RFC 2231 (continuations, charset, language), RFC 822 comments. */
#include "param.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"

/* One parameter as written, before RFC 2231 sections are joined. */
struct raw {
	char *attr;		/* lower-cased attribute, '*' suffixes included */
	char *value;		/* unquoted */
	size_t vlen;
};

struct parser {
	const char *p;
	struct raw *raw;
	size_t nraw;
	struct err *e;
};

/* RFC 2045 §5.1 tspecials. */
static int
is_tspecial(unsigned char c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>; bytes >= 0x80 are let in
 * for RFC 6532 values (best effort). */
static int
is_token_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && !is_tspecial(c);
}

/* Skip white space and RFC 822 comments. An unterminated comment runs to the end of the
 * value (best effort); nesting deeper than MIME_PARAM_COMMENT_DEPTH is an error. */
static int
skip_cfws(struct parser *ps)
{
	const char *p = ps->p;

	for (;;) {
		int depth = 0;

		while (is_ws((unsigned char)*p))
			p++;
		if (*p != '(')
			break;
		while (*p != '\0') {
			if (*p == '\\' && p[1] != '\0') {
				p += 2;
				continue;
			}
			if (*p == '(' && ++depth > MIME_PARAM_COMMENT_DEPTH) {
				ps->p = p;
				return err_set(ps->e, EX_DATAERR, "comments nested too deeply");
			}
			if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
			p++;
		}
	}
	ps->p = p;
	return 0;
}

static char *
dupn_lower(const char *s, size_t n, int lower, struct err *e)
{
	char *r = malloc(n + 1);
	size_t i;

	if (r == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++)
		r[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
	r[n] = '\0';
	return r;
}

static size_t
token_len(const char *p)
{
	size_t n = 0;

	while (is_token_char((unsigned char)p[n]))
		n++;
	return n;
}

/* Does p start a parameter ("attr =")? Used to tolerate a missing ';'. */
static int
looks_like_param(const char *p)
{
	size_t n = token_len(p);

	if (n == 0)
		return 0;
	p += n;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '=';
}

/* Characters of an unquoted value, leniently: anything but white space, ';', comments and
 * quotes (real mailers write boundary=----=_Part_1 and worse). */
static int
is_value_char(unsigned char c)
{
	return c != '\0' && !is_ws(c) && c != ';' && c != '(' && c != ')' && c != '"';
}

static void
skip_to_semicolon(struct parser *ps)
{
	const char *p = ps->p;

	while (*p != '\0' && *p != ';')
		p++;
	ps->p = p;
}

/* A quoted-string after its opening quote (RFC 822 §3.3, \-quoting); an unterminated one runs
 * to the end (best effort). */
static void
read_quoted(struct parser *ps, struct buf *v)
{
	const char *p = ps->p;

	while (*p != '\0' && *p != '"') {
		if (*p == '\\' && p[1] != '\0')
			p++;
		/* Unfolding leaves CR LF inside a quoted-string only in broken input. */
		if (*p != '\r' && *p != '\n')
			buf_addc(v, *p);
		p++;
	}
	if (*p == '"')
		p++;
	ps->p = p;
}

static int
add_raw(struct parser *ps, const char *attr, size_t alen, struct buf *v)
{
	struct raw *r;

	if (ps->nraw >= MIME_PARAM_MAX)
		return err_set(ps->e, EX_DATAERR, "more than %d parameters", MIME_PARAM_MAX);
	if (buf_check(v, ps->e) != 0)
		return -1;
	r = realloc(ps->raw, (ps->nraw + 1) * sizeof *r);
	if (r == NULL)
		return err_set(ps->e, EX_OSERR, "out of memory");
	ps->raw = r;
	r = &ps->raw[ps->nraw];
	if ((r->attr = dupn_lower(attr, alen, 1, ps->e)) == NULL)
		return -1;
	if ((r->value = dupn_lower(v->p ? v->p : "", v->len, 0, ps->e)) == NULL) {
		free(r->attr);
		return -1;
	}
	r->vlen = v->len;
	ps->nraw++;
	return 0;
}

/* One parameter at ps->p (a token char). Ignored parameters consume up to the next ';'. */
static int
read_param(struct parser *ps)
{
	const char *attr = ps->p;
	size_t alen = token_len(attr);
	struct buf v = BUF_INIT;
	int rc, quoted = 0;

	ps->p += alen;
	if (skip_cfws(ps) != 0)
		return -1;
	if (*ps->p != '=') {
		skip_to_semicolon(ps);	/* "attachment; junk": no value, ignored */
		return 0;
	}
	ps->p++;
	if (skip_cfws(ps) != 0)
		return -1;
	if (*ps->p == '"') {
		ps->p++;
		read_quoted(ps, &v);
		quoted = 1;
	} else {
		while (is_value_char((unsigned char)*ps->p))
			buf_addc(&v, *ps->p++);
	}
	/* Anything before the next ';' is a run-on unquoted value ("name=my file.pdf"), junk
	 * after a quoted-string (dropped), or the next parameter with its ';' missing. */
	for (;;) {
		const char *ws = ps->p;

		while (is_ws((unsigned char)*ps->p))
			ps->p++;
		if (*ps->p == '(') {
			if (skip_cfws(ps) != 0) {
				buf_free(&v);
				return -1;
			}
			continue;
		}
		if (*ps->p == '\0' || *ps->p == ';' || looks_like_param(ps->p))
			break;
		if (*ps->p == '"' || *ps->p == ')') {	/* stray quote or parenthesis: drop */
			ps->p++;
			continue;
		}
		if (!quoted)
			buf_add(&v, ws, (size_t)(ps->p - ws));
		while (is_value_char((unsigned char)*ps->p)) {
			if (!quoted)
				buf_addc(&v, *ps->p);
			ps->p++;
		}
	}
	rc = add_raw(ps, attr, alen, &v);
	buf_free(&v);
	return rc;
}

/* RFC 2231 §3: "name*N" / "name*N*" / "name*". Sets base length, section (-1 for none) and
 * whether the value is extended (charset'lang'%XX). 0 if attr is not of that form. */
static int
split_attr(const char *attr, size_t *baselen, long *section, int *ext)
{
	const char *star = strchr(attr, '*'), *q;
	long n = 0;

	*section = -1;
	*ext = 0;
	*baselen = strlen(attr);
	if (star == NULL)
		return 1;
	if (star == attr)
		return 0;
	*baselen = (size_t)(star - attr);
	q = star + 1;
	if (*q == '\0') {
		*ext = 1;
		return 1;
	}
	if (!isdigit((unsigned char)*q) || (*q == '0' && isdigit((unsigned char)q[1])))
		return 0;	/* RFC 2231 §3: no leading zeros */
	while (isdigit((unsigned char)*q)) {
		n = n * 10 + (*q++ - '0');
		if (n > MIME_PARAM_SECTION_MAX)
			return 0;
	}
	if (*q == '*') {
		*ext = 1;
		q++;
	}
	if (*q != '\0')
		return 0;
	*section = n;
	return 1;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2231 §4: %XX octets; a malformed escape is kept as written. */
static void
pct_decode(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int h, l;

		if (s[i] == '%' && i + 2 < n && (h = hexval((unsigned char)s[i + 1])) >= 0
		    && (l = hexval((unsigned char)s[i + 2])) >= 0) {
			buf_addc(out, (char)(h << 4 | l));
			i += 2;
		} else {
			buf_addc(out, s[i]);
		}
	}
}

/* Find the first raw parameter with this base name and form. */
static const struct raw *
find_raw(const struct parser *ps, const char *base, size_t blen, long section, int want_ext_only,
    int *ext)
{
	size_t i, bl;
	long sec;
	int x;

	for (i = 0; i < ps->nraw; i++) {
		if (!split_attr(ps->raw[i].attr, &bl, &sec, &x))
			continue;
		if (bl != blen || memcmp(ps->raw[i].attr, base, blen) != 0 || sec != section)
			continue;
		if (want_ext_only && !x)
			continue;
		if (ext != NULL)
			*ext = x;
		return &ps->raw[i];
	}
	return NULL;
}

/* The extended value's "charset'lang'" prefix (RFC 2231 §4). */
static int
split_ext_prefix(struct mime_param *mp, const struct raw *r, size_t *skip, struct err *e)
{
	const char *a = memchr(r->value, '\'', r->vlen), *b;

	*skip = 0;
	if (a == NULL)
		return 0;
	b = memchr(a + 1, '\'', r->vlen - (size_t)(a + 1 - r->value));
	if (b == NULL)
		return 0;
	if (a > r->value && (mp->charset = dupn_lower(r->value, (size_t)(a - r->value), 0, e)) == NULL)
		return -1;
	if (b > a + 1 && (mp->lang = dupn_lower(a + 1, (size_t)(b - a - 1), 0, e)) == NULL)
		return -1;
	*skip = (size_t)(b + 1 - r->value);
	return 0;
}

/* Build the value of parameter `base` from its RFC 2231 pieces, or its plain form. 1 if
 * there is nothing usable (sections without a section 0). */
static int
assemble(const struct parser *ps, const char *base, size_t blen, struct mime_param *mp,
    struct err *e)
{
	const struct raw *r;
	struct buf v = BUF_INIT;
	int ext = 0, any_ext = 0;
	size_t skip;
	long k;

	if ((r = find_raw(ps, base, blen, -1, 1, NULL)) != NULL) {
		/* name*=charset'lang'value */
		if (split_ext_prefix(mp, r, &skip, e) != 0)
			return -1;
		pct_decode(&v, r->value + skip, r->vlen - skip);
		any_ext = 1;
	} else if (find_raw(ps, base, blen, 0, 0, NULL) != NULL) {
		for (k = 0; (r = find_raw(ps, base, blen, k, 0, &ext)) != NULL; k++) {
			skip = 0;
			if (k == 0 && ext && split_ext_prefix(mp, r, &skip, e) != 0) {
				buf_free(&v);
				return -1;
			}
			if (ext)
				pct_decode(&v, r->value + skip, r->vlen - skip);
			else
				buf_add(&v, r->value, r->vlen);
			any_ext |= ext;
		}
	} else if ((r = find_raw(ps, base, blen, -1, 0, NULL)) != NULL) {
		buf_add(&v, r->value, r->vlen);
	} else {
		return 1;	/* only sections without a section 0: nothing to join */
	}
	if (buf_check(&v, e) != 0) {
		buf_free(&v);
		return -1;
	}
	mp->extended = any_ext;
	if (any_ext) {
		const char *cs = mp->charset != NULL ? mp->charset : "us-ascii";

		size_t n;
		char *u = charset_to_utf8_lenient(cs, v.p ? v.p : "", v.len, &n, NULL, e);

		buf_free(&v);
		if (u == NULL)
			return -1;
		mp->value = charset_nul_free(u, n, e);	/* %00 must not cut the value short */
		return mp->value == NULL ? -1 : 0;
	}
	mp->value = buf_take(&v, e);
	return mp->value == NULL ? -1 : 0;
}

static int
join_params(struct parser *ps, struct mime_type *t)
{
	size_t i, j, blen;
	long sec;
	int ext;

	t->params = calloc(ps->nraw ? ps->nraw : 1, sizeof *t->params);
	if (t->params == NULL)
		return err_set(ps->e, EX_OSERR, "out of memory");
	for (i = 0; i < ps->nraw; i++) {
		const char *attr = ps->raw[i].attr;
		struct mime_param *mp;
		int seen = 0;

		if (!split_attr(attr, &blen, &sec, &ext))
			continue;	/* "a*b", "name*01": not a parameter RFC 2231 knows */
		for (j = 0; j < t->nparams && !seen; j++)
			seen = strlen(t->params[j].name) == blen
			    && memcmp(t->params[j].name, attr, blen) == 0;
		if (seen)
			continue;	/* duplicates: the first wins */
		mp = &t->params[t->nparams++];
		if ((mp->name = dupn_lower(attr, blen, 1, ps->e)) == NULL)
			return -1;
		switch (assemble(ps, attr, blen, mp, ps->e)) {
		case 0:
			break;
		case 1:
			free(mp->name);
			free(mp->charset);
			free(mp->lang);
			memset(mp, 0, sizeof *mp);
			t->nparams--;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int
parse(struct parser *ps, int is_disposition, struct mime_type *t)
{
	size_t n;

	if (skip_cfws(ps) != 0)
		return -1;
	if ((n = token_len(ps->p)) == 0)
		return err_set(ps->e, EX_DATAERR, is_disposition ? "no disposition type"
		    : "no media type");
	if ((t->type = dupn_lower(ps->p, n, 1, ps->e)) == NULL)
		return -1;
	ps->p += n;
	if (!is_disposition) {
		if (skip_cfws(ps) != 0)
			return -1;
		if (*ps->p != '/')
			return err_set(ps->e, EX_DATAERR, "media type %s has no subtype",
			    t->type);
		ps->p++;
		if (skip_cfws(ps) != 0)
			return -1;
		if ((n = token_len(ps->p)) == 0)
			return err_set(ps->e, EX_DATAERR, "media type %s has no subtype",
			    t->type);
		if ((t->subtype = dupn_lower(ps->p, n, 1, ps->e)) == NULL)
			return -1;
		ps->p += n;
	}
	for (;;) {
		if (skip_cfws(ps) != 0)
			return -1;
		if (*ps->p == '\0')
			break;
		if (*ps->p == ';') {
			ps->p++;
			continue;
		}
		if (!is_token_char((unsigned char)*ps->p)) {
			skip_to_semicolon(ps);	/* junk where a parameter should be */
			continue;
		}
		if (read_param(ps) != 0)
			return -1;
	}
	return join_params(ps, t);
}

int
mime_type_parse(const char *value, int is_disposition, struct mime_type *t, struct err *e)
{
	struct parser ps = { value, NULL, 0, e };
	size_t i;
	int rc;

	memset(t, 0, sizeof *t);
	if (strlen(value) > MIME_PARAM_VALUE_MAX)
		return err_set(e, EX_DATAERR, "%s value longer than %d bytes",
		    is_disposition ? "Content-Disposition" : "Content-Type", MIME_PARAM_VALUE_MAX);
	rc = parse(&ps, is_disposition, t);
	for (i = 0; i < ps.nraw; i++) {
		free(ps.raw[i].attr);
		free(ps.raw[i].value);
	}
	free(ps.raw);
	if (rc != 0)
		mime_type_free(t);
	return rc;
}

int
mime_type_param_count(const char *value, const char *name, struct err *e)
{
	struct parser ps = { value, NULL, 0, e };
	struct mime_type t;
	size_t i, blen;
	long sec;
	int ext, n = 0, rc;

	memset(&t, 0, sizeof t);
	if (strlen(value) > MIME_PARAM_VALUE_MAX)
		return err_set(e, EX_DATAERR, "Content-Type value longer than %d bytes",
		    MIME_PARAM_VALUE_MAX);
	rc = parse(&ps, 0, &t);
	for (i = 0; i < ps.nraw; i++) {
		/* a plain value, an extended one and a section 0 each start a value */
		if (rc == 0 && split_attr(ps.raw[i].attr, &blen, &sec, &ext) && sec <= 0
		    && blen == strlen(name) && strncasecmp(ps.raw[i].attr, name, blen) == 0)
			n++;
		free(ps.raw[i].attr);
		free(ps.raw[i].value);
	}
	free(ps.raw);
	mime_type_free(&t);
	return rc != 0 ? -1 : n;
}

void
mime_type_free(struct mime_type *t)
{
	size_t i;

	for (i = 0; i < t->nparams; i++) {
		free(t->params[i].name);
		free(t->params[i].value);
		free(t->params[i].charset);
		free(t->params[i].lang);
	}
	free(t->params);
	free(t->type);
	free(t->subtype);
	memset(t, 0, sizeof *t);
}

const struct mime_param *
mime_type_param_get(const struct mime_type *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nparams; i++)
		if (strcasecmp(t->params[i].name, name) == 0)
			return &t->params[i];
	return NULL;
}

const char *
mime_type_param(const struct mime_type *t, const char *name)
{
	const struct mime_param *mp = mime_type_param_get(t, name);

	return mp ? mp->value : NULL;
}

int
mime_type_is(const struct mime_type *t, const char *type, const char *subtype)
{
	if (t->type == NULL || strcasecmp(t->type, type) != 0)
		return 0;
	if (subtype == NULL)
		return 1;
	return t->subtype != NULL && strcasecmp(t->subtype, subtype) == 0;
}

/* --- writing --- */

/* RFC 2231 §7 attribute-char: token characters other than '*', '\'' and '%'. */
static int
is_attr_char(unsigned char c)
{
	return c < 0x80 && is_token_char(c) && c != '*' && c != '\'' && c != '%';
}

/* Width of c inside a quoted-string. */
static size_t
quoted_width(unsigned char c)
{
	return c == '"' || c == '\\' ? 2 : 1;
}

static void
add_quoted(struct buf *b, const char *s, size_t n)
{
	size_t i;

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_addc(b, '\\');
		buf_addc(b, s[i]);
	}
	buf_addc(b, '"');
}

/* Length of the UTF-8 character starting at s (valid input). */
static size_t
u8len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static size_t
pct_width(const char *s, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++)
		w += is_attr_char((unsigned char)s[i]) ? 1 : 3;
	return w;
}

static void
add_pct(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_attr_char(c))
			buf_addc(b, (char)c);
		else
			buf_addf(b, "%%%02X", c);
	}
}

/* name*0="..."; name*1="..." for long printable ASCII (RFC 2231 §3). */
static void
append_sections_quoted(struct buf *b, const char *name, const char *v, size_t n)
{
	size_t i = 0, k = 0, room, w, j;

	do {
		char head[96];

		snprintf(head, sizeof head, "%s*%zu=", name, k++);
		room = MIME_PARAM_PIECE - strlen(head) - 2;
		for (j = i, w = 0; j < n && w + quoted_width((unsigned char)v[j]) <= room; j++)
			w += quoted_width((unsigned char)v[j]);
		buf_adds(b, "; ");
		buf_adds(b, head);
		add_quoted(b, v + i, j - i);
		i = j;
	} while (i < n);
}

/* name*=utf-8''%..., or name*0*=utf-8''%...; name*1*=%... (RFC 2231 §3-4). */
static void
append_extended(struct buf *b, const char *name, const char *v, size_t n)
{
	size_t i = 0, k = 0, room, w, j, cl;

	if (strlen(name) + strlen("*=utf-8''") + pct_width(v, n) <= MIME_PARAM_PIECE) {
		buf_addf(b, "; %s*=utf-8''", name);
		add_pct(b, v, n);
		return;
	}
	do {
		char head[96];

		snprintf(head, sizeof head, "%s*%zu*=%s", name, k, k == 0 ? "utf-8''" : "");
		k++;
		room = MIME_PARAM_PIECE - strlen(head);
		for (j = i, w = 0; j < n; j += cl) {
			cl = u8len((unsigned char)v[j]);
			if (w + pct_width(v + j, cl) > room)
				break;
			w += pct_width(v + j, cl);
		}
		buf_adds(b, "; ");
		buf_adds(b, head);
		add_pct(b, v + i, j - i);
		i = j;
	} while (i < n);
}

int
mime_param_append(struct buf *b, const char *name, const char *value, struct err *e)
{
	size_t nlen = strlen(name), n = strlen(value), i, qw = 2;
	int token = n > 0, printable = 1, unsplit;

	for (i = 0; i < nlen; i++)
		if (!is_attr_char((unsigned char)name[i]))
			break;
	if (nlen == 0 || i < nlen || nlen > 32)
		return err_set(e, EX_DATAERR, "bad parameter name");
	if (!charset_utf8_valid(value, n))
		return err_set(e, EX_DATAERR, "parameter %s: value is not valid UTF-8", name);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c >= 0x80 || !is_token_char(c))
			token = 0;
		if (c < 0x20 || c >= 0x7f || (c == '=' && i + 1 < n && value[i + 1] == '?'))
			printable = 0;	/* "=?": read as an encoded word by most readers */
		qw += quoted_width(c);
	}
	/* RFC 2046 §5.1.1: a boundary is at most 70 characters and readers look for it
	 * plainly; many do not join RFC 2231 sections for it. Never split it. */
	unsplit = strcasecmp(name, "boundary") == 0;
	if (token && (nlen + 1 + n <= MIME_PARAM_PIECE || unsplit)) {
		/* Not buf_addf: printf machinery costs a small mime-pack more than the rest. */
		buf_adds(b, "; ");
		buf_adds(b, name);
		buf_addc(b, '=');
		buf_adds(b, value);
	} else if (printable && (nlen + 1 + qw <= MIME_PARAM_PIECE || unsplit)) {
		buf_adds(b, "; ");
		buf_adds(b, name);
		buf_addc(b, '=');
		add_quoted(b, value, n);
	} else if (printable)
		append_sections_quoted(b, name, value, n);
	else
		append_extended(b, name, value, n);
	return 0;
}
