/* addr.c — RFC 5322 §3.4 address-list parsing (with the obsolete syntax of §4.4) down to the
 * addr-specs that mailsend and the S/MIME tools act on.
 *
 * The value is first cut into lexical tokens (atoms, quoted strings, domain literals and the
 * specials), with CFWS (§3.2.2: white space, folds and nested comments) dropped but remembered
 * as "white space before this token" so display names come out as written. Then a small
 * recursive-descent parser follows the grammar:
 *
 *   address-list  = address *("," address)          ; obs: empty elements allowed (§4.4)
 *   address       = mailbox / group
 *   mailbox       = name-addr / addr-spec
 *   name-addr     = [phrase] "<" [obs-route] addr-spec ">"
 *   group         = phrase ":" [mailbox *("," mailbox)] ";"
 *   addr-spec     = word *("." word) "@" (atom *("." atom) / domain-literal)
 *   obs-route     = *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]) ":"
 *
 * Deliberate choices (documented in addr.h's contract and tested):
 * - a missing comma between two addresses ("a@b c@d") is an error, not a guess;
 * - a group whose ";" is missing at the very end of the value is accepted (a common mailer
 *   bug: "undisclosed-recipients:"); a group inside a group is an error;
 * - phrases may contain "." (obs-phrase: "John Q. Public"); local parts may be obs-local-part
 *   (CFWS around the dots) but empty labels ("a..b", ".a") are errors; "<>" is an error;
 * - 8-bit bytes are taken as UTF-8 text in atoms and quoted strings (RFC 6532); other control
 *   characters are errors. */
#include "addr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

#define ADDR_MAX_VALUE	 (256 * 1024)
#define ADDR_MAX_ADDRS	 10000
#define ADDR_MAX_COMMENT 64	/* comment nesting */

enum tok_type { T_ATOM, T_QSTR, T_DLIT, T_SPECIAL, T_END };

struct tok {
	enum tok_type type;
	char c;			/* T_SPECIAL: the character */
	int space;		/* CFWS before it */
	size_t off;		/* offset in the value, for messages */
	size_t end;		/* offset just past the token */
	char *text;		/* T_ATOM/T_QSTR/T_DLIT: the text (quoted string unquoted) */
};

struct lex {
	struct tok *t;
	size_t n, cap, i;
	const char *value;
	struct err *e;
	int bare;		/* addr_parse_bare: a mailbox may lack its domain */
};

static int
is_atext(unsigned char c)
{
	/* RFC 5322 §3.2.3 atext, plus UTF-8 bytes (RFC 6532 §3.2). */
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL) || c >= 0x80;
}

static int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
lex_err(struct lex *x, size_t off, const char *what)
{
	return err_set(x->e, EX_DATAERR, "bad address at offset %zu: %s", off, what);
}

static int
lex_push(struct lex *x, enum tok_type type, char c, int space, size_t off, char *text)
{
	struct tok *t;
	size_t cap;

	if (x->n == x->cap) {
		cap = x->cap ? x->cap * 2 : 32;
		t = realloc(x->t, cap * sizeof *t);
		if (t == NULL) {
			free(text);
			return err_sys(x->e, EX_OSERR, "out of memory");
		}
		x->t = t;
		x->cap = cap;
	}
	t = &x->t[x->n++];
	t->type = type;
	t->c = c;
	t->space = space;
	t->off = off;
	t->end = off;
	t->text = text;
	return 0;
}

/* RFC 5322 §3.2.2 comment: "(" *([FWS] ccontent) [FWS] ")", nested, with quoted-pairs. */
static int
skip_comment(struct lex *x, const unsigned char *p, size_t *i)
{
	size_t start = *i, depth = 0;

	for (;;) {
		unsigned char c = p[*i];

		if (c == '\0')
			return lex_err(x, start, "unterminated comment");
		(*i)++;
		if (c == '\\') {
			if (p[*i] == '\0')
				return lex_err(x, start, "unterminated comment");
			(*i)++;
		} else if (c == '(') {
			if (++depth > ADDR_MAX_COMMENT)
				return lex_err(x, start, "comments nested too deeply");
		} else if (c == ')') {
			if (--depth == 0)
				return 0;
		}
	}
}

static int
lex_text(struct lex *x, const unsigned char *p, size_t *i, char close, enum tok_type type,
    int space)
{
	struct buf b = BUF_INIT;
	size_t start = *i;
	char *s;

	if (type == T_DLIT)
		buf_addc(&b, '[');
	(*i)++;
	for (;;) {
		unsigned char c = p[*i];

		if (c == '\0') {
			buf_free(&b);
			return lex_err(x, start, type == T_QSTR ? "unterminated quoted string"
			    : "unterminated domain literal");
		}
		(*i)++;
		if (c == (unsigned char)close)
			break;
		if (c == '\\') {
			/* quoted-pair (§3.2.1); a domain literal keeps it as written (obs-dtext) */
			c = p[*i];
			if (c == '\0' || c == '\r' || c == '\n')
				continue;
			if ((c < 32 && c != '\t') || c == 127) {
				buf_free(&b);
				return lex_err(x, *i, "control character");
			}
			(*i)++;
			if (type == T_DLIT)
				buf_addc(&b, '\\');
			buf_addc(&b, (char)c);
		} else if (c == '\r' || c == '\n') {
			continue;	/* folds inside are not content (§3.2.4 unfolding) */
		} else if (type == T_DLIT && (c == ' ' || c == '\t')) {
			continue;	/* FWS inside a domain literal is not content */
		} else if (c == '[' && type == T_DLIT) {
			buf_free(&b);
			return lex_err(x, *i - 1, "'[' inside a domain literal");
		} else if ((c < 32 && c != '\t') || c == 127) {
			buf_free(&b);
			return lex_err(x, *i - 1, "control character");
		} else
			buf_addc(&b, (char)c);
	}
	if (type == T_DLIT)
		buf_addc(&b, ']');
	s = buf_take(&b, x->e);
	if (s == NULL || lex_push(x, type, 0, space, start, s) != 0)
		return -1;
	x->t[x->n - 1].end = *i;
	return 0;
}

static int
lex_all(struct lex *x)
{
	const unsigned char *p = (const unsigned char *)x->value;
	size_t i = 0, start;
	int space = 0;
	char *s;

	for (;;) {
		unsigned char c = p[i];

		if (c == '\0')
			return lex_push(x, T_END, 0, space, i, NULL);
		if (is_wsp(c)) {
			space = 1;
			i++;
		} else if (c == '(') {
			if (skip_comment(x, p, &i) != 0)
				return -1;
			space = 1;
		} else if (c == '"') {
			if (lex_text(x, p, &i, '"', T_QSTR, space) != 0)
				return -1;
			space = 0;
		} else if (c == '[') {
			if (lex_text(x, p, &i, ']', T_DLIT, space) != 0)
				return -1;
			space = 0;
		} else if (strchr("<>@,;:.", c) != NULL) {
			if (lex_push(x, T_SPECIAL, (char)c, space, i, NULL) != 0)
				return -1;
			i++;
			x->t[x->n - 1].end = i;
			space = 0;
		} else if (is_atext(c)) {
			start = i;
			while (is_atext(p[i]))
				i++;
			s = strndup((const char *)p + start, i - start);
			if (s == NULL)
				return err_sys(x->e, EX_OSERR, "out of memory");
			if (lex_push(x, T_ATOM, 0, space, start, s) != 0)
				return -1;
			x->t[x->n - 1].end = i;
			space = 0;
		} else if (c == ')')
			return lex_err(x, i, "unbalanced ')'");
		else if (c == ']')
			return lex_err(x, i, "unbalanced ']'");
		else if (c == '\\' || c == '>')
			return lex_err(x, i, "unexpected special character");
		else
			return lex_err(x, i, c < 32 || c == 127 ? "control character"
			    : "unexpected character");
	}
}

static const struct tok *
peek(const struct lex *x)
{
	return &x->t[x->i];
}

static int
is_special(const struct tok *t, char c)
{
	return t->type == T_SPECIAL && t->c == c;
}

static int
is_word(const struct tok *t)
{
	return t->type == T_ATOM || t->type == T_QSTR;
}

static int
parse_err(struct lex *x, const char *what)
{
	const struct tok *t = peek(x);
	char near[40];

	if (t->type == T_END)
		snprintf(near, sizeof near, "end of value");
	else if (t->type == T_SPECIAL)
		snprintf(near, sizeof near, "'%c'", t->c);
	else
		snprintf(near, sizeof near, "\"%.30s\"", t->text);
	return err_set(x->e, EX_DATAERR, "bad address at offset %zu: %s (found %s)", t->off, what,
	    near);
}

/* phrase = 1*word / obs-phrase (word *(word / "." / CFWS)): joined as written, with one space
 * where white space or comments separated the words. */
static char *
parse_phrase(struct lex *x)
{
	struct buf b = BUF_INIT;
	const struct tok *t;

	while (t = peek(x), is_word(t) || (b.len > 0 && is_special(t, '.'))) {
		if (b.len > 0 && t->space)
			buf_addc(&b, ' ');
		if (t->type == T_SPECIAL)
			buf_addc(&b, '.');
		else
			buf_adds(&b, t->text);
		x->i++;
	}
	return buf_take(&b, x->e);
}

/* RFC 5322 §3.2.3 dot-atom-text: the local part needs no quoting. */
static int
is_dot_atom(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int label = 0;

	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (is_atext(*p))
			label++;
		else
			return 0;
	}
	return label > 0;
}

/* local-part = dot-atom / quoted-string / obs-local-part (word *("." word)). */
static char *
parse_local(struct lex *x)
{
	struct buf b = BUF_INIT;

	for (;;) {
		if (!is_word(peek(x))) {
			int first = b.len == 0;

			buf_free(&b);
			parse_err(x, first ? "expected a local part" : "empty label in local part");
			return NULL;
		}
		buf_adds(&b, peek(x)->text);
		x->i++;
		if (!is_special(peek(x), '.'))
			break;
		buf_addc(&b, '.');
		x->i++;
	}
	return buf_take(&b, x->e);
}

/* domain = dot-atom / domain-literal / obs-domain (atom *("." atom)). */
static char *
parse_domain(struct lex *x)
{
	struct buf b = BUF_INIT;

	if (peek(x)->type == T_DLIT) {
		buf_adds(&b, peek(x)->text);
		x->i++;
		return buf_take(&b, x->e);
	}
	for (;;) {
		if (peek(x)->type != T_ATOM) {
			int first = b.len == 0;

			buf_free(&b);
			parse_err(x, first ? "expected a domain" : "empty label in domain");
			return NULL;
		}
		buf_adds(&b, peek(x)->text);
		x->i++;
		if (!is_special(peek(x), '.'))
			break;
		buf_addc(&b, '.');
		x->i++;
	}
	return buf_take(&b, x->e);
}

static char *
make_spec(const char *local, const char *domain)
{
	struct buf b = BUF_INIT;
	const char *p;

	if (is_dot_atom(local))
		buf_adds(&b, local);
	else {
		buf_addc(&b, '"');
		for (p = local; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(&b, '\\');
			buf_addc(&b, *p);
		}
		buf_addc(&b, '"');
	}
	if (domain != NULL) {	/* NULL: a bare local name (addr_parse_bare) */
		buf_addc(&b, '@');
		buf_adds(&b, domain);
	}
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return b.p;
}

static int
add_addr(struct addr_list *l, char *name, char *local, char *domain, const char *group,
    struct err *e)
{
	struct addr a = { name, local, domain, NULL, NULL, 0, 0 }, *v;
	size_t cap;

	if (l->n >= ADDR_MAX_ADDRS) {
		err_set(e, EX_DATAERR, "more than %d addresses", ADDR_MAX_ADDRS);
		goto fail;
	}
	a.spec = make_spec(local, domain);
	if (group != NULL)
		a.group = strdup(group);
	if (a.spec == NULL || (group != NULL && a.group == NULL)) {
		err_sys(e, EX_OSERR, "out of memory");
		goto fail;
	}
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 8;
		v = realloc(l->v, cap * sizeof *v);
		if (v == NULL) {
			err_sys(e, EX_OSERR, "out of memory");
			goto fail;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = a;
	return 0;
fail:
	free(a.name);
	free(a.local);
	free(a.domain);
	free(a.spec);
	free(a.group);
	return -1;
}

/* add_addr, recording where the local part is in the value (for addr_parse_bare callers). */
static int
add_located(struct addr_list *l, char *name, char *local, char *domain, const char *group,
    size_t lstart, size_t lend, struct err *e)
{
	if (add_addr(l, name, local, domain, group, e) != 0)
		return -1;
	l->v[l->n - 1].local_start = lstart;
	l->v[l->n - 1].local_end = lend;
	return 0;
}

/* addr-spec after its local part has been read: "@" domain. */
static int
parse_at_domain(struct lex *x, char **domain)
{
	if (!is_special(peek(x), '@'))
		return parse_err(x, "expected '@'");
	x->i++;
	*domain = parse_domain(x);
	return *domain == NULL ? -1 : 0;
}

/* obs-route = obs-domain-list ":"; the route is dropped (RFC 5322 §4.4: to be ignored). */
static int
skip_route(struct lex *x)
{
	char *d;

	while (is_special(peek(x), ',') || is_special(peek(x), '@')) {
		if (is_special(peek(x), ',')) {
			x->i++;
			continue;
		}
		x->i++;
		d = parse_domain(x);
		if (d == NULL)
			return -1;
		free(d);
	}
	if (!is_special(peek(x), ':'))
		return parse_err(x, "expected ':' after a source route");
	x->i++;
	return 0;
}

/* angle-addr = "<" [obs-route] addr-spec ">" */
static int
parse_angle(struct lex *x, char *name, const char *group, struct addr_list *l)
{
	char *local = NULL, *domain = NULL;
	size_t lstart, lend;

	x->i++;	/* '<' */
	if (is_special(peek(x), '>')) {
		free(name);
		return parse_err(x, "empty address <>");
	}
	if ((is_special(peek(x), '@') || is_special(peek(x), ',')) && skip_route(x) != 0)
		goto fail;
	lstart = peek(x)->off;
	local = parse_local(x);
	if (local == NULL)
		goto fail;
	lend = x->t[x->i - 1].end;
	if (!(x->bare && is_special(peek(x), '>')) && parse_at_domain(x, &domain) != 0)
		goto fail;
	if (!is_special(peek(x), '>')) {
		parse_err(x, "expected '>'");
		goto fail;
	}
	x->i++;
	return add_located(l, name, local, domain, group, lstart, lend, x->e);
fail:
	free(name);
	free(local);
	free(domain);
	return -1;
}

/* mailbox (in a group: group set; nested groups refused). */
static int
parse_mailbox(struct lex *x, const char *group, struct addr_list *l, int *was_group)
{
	size_t start = x->i;
	char *phrase, *local, *domain = NULL;
	const struct tok *t;

	*was_group = 0;
	if (is_special(peek(x), '<'))
		return parse_angle(x, NULL, group, l);
	/* Look ahead past the words and dots to see what they are. */
	while (t = peek(x), is_word(t) || is_special(t, '.'))
		x->i++;
	t = peek(x);
	if (x->i == start)
		return parse_err(x, "expected an address");
	if (is_special(t, '@')) {
		x->i = start;
		local = parse_local(x);
		if (local == NULL)
			return -1;
		if (!is_special(peek(x), '@')) {
			free(local);
			return parse_err(x, "white space inside a local part (missing '<' or ',')");
		}
		if (parse_at_domain(x, &domain) != 0) {
			free(local);
			return -1;
		}
		return add_addr(l, NULL, local, domain, group, x->e);
	}
	if (x->bare && (t->type == T_END || is_special(t, ',') || (group && is_special(t, ';')))) {
		/* A bare local name ("root"), when it reads as a whole local part. */
		size_t stop = x->i;

		x->i = start;
		local = parse_local(x);
		if (local != NULL && x->i == stop)
			return add_located(l, NULL, local, NULL, group, x->t[start].off,
			    x->t[stop - 1].end, x->e);
		free(local);
		err_clear(x->e);
	}
	x->i = start;
	phrase = parse_phrase(x);
	if (phrase == NULL)
		return -1;
	if (is_special(peek(x), '.')) {
		free(phrase);
		return parse_err(x, "a phrase cannot start with '.'");
	}
	if (is_special(peek(x), '<'))
		return parse_angle(x, phrase, group, l);
	if (is_special(peek(x), ':')) {
		if (group != NULL) {
			free(phrase);
			return parse_err(x, "a group inside a group");
		}
		*was_group = 1;
		x->i = start;
		free(phrase);
		return 0;
	}
	free(phrase);
	return parse_err(x, "expected '<', '@' or ':' after a name (not an address)");
}

/* group = display-name ":" [group-list] ";"; an empty group adds nothing. */
static int
parse_group(struct lex *x, struct addr_list *l)
{
	char *name = parse_phrase(x);
	int g;

	if (name == NULL)
		return -1;
	x->i++;	/* ':' */
	for (;;) {
		const struct tok *t = peek(x);

		if (is_special(t, ';')) {
			x->i++;
			break;
		}
		if (t->type == T_END)
			break;	/* missing ';' at the very end: accepted */
		if (is_special(t, ',')) {
			x->i++;	/* obs-group-list / obs-mbox-list: empty elements */
			continue;
		}
		if (parse_mailbox(x, name, l, &g) != 0)
			goto fail;
		if (g) {
			parse_err(x, "a group inside a group");
			goto fail;
		}
		t = peek(x);
		if (!is_special(t, ',') && !is_special(t, ';') && t->type != T_END) {
			parse_err(x, "expected ',' or ';' after an address in a group");
			goto fail;
		}
	}
	free(name);
	return 0;
fail:
	free(name);
	return -1;
}

static int
parse_list(const char *value, struct addr_list *l, int bare, struct err *e)
{
	struct lex x = { NULL, 0, 0, 0, value, e, bare };
	size_t i, n0 = l->n;
	int rc = -1, g;

	if (strlen(value) > ADDR_MAX_VALUE) {
		err_set(e, EX_DATAERR, "address list longer than %d bytes", ADDR_MAX_VALUE);
		return -1;
	}
	if (lex_all(&x) != 0)
		goto out;
	for (;;) {
		const struct tok *t = peek(&x);

		if (t->type == T_END)
			break;
		if (is_special(t, ',')) {
			x.i++;	/* obs-addr-list: empty elements */
			continue;
		}
		if (parse_mailbox(&x, NULL, l, &g) != 0)
			goto out;
		if (g && parse_group(&x, l) != 0)
			goto out;
		t = peek(&x);
		if (t->type != T_END && !is_special(t, ',')) {
			parse_err(&x, "expected ',' between addresses");
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0) {
		/* Leave l as it was. */
		while (l->n > n0) {
			struct addr *a = &l->v[--l->n];

			free(a->name);
			free(a->local);
			free(a->domain);
			free(a->spec);
			free(a->group);
		}
		if (n0 == 0) {	/* an array this call allocated goes too */
			free(l->v);
			l->v = NULL;
			l->cap = 0;
		}
	}
	for (i = 0; i < x.n; i++)
		free(x.t[i].text);
	free(x.t);
	return rc;
}

int
addr_parse(const char *value, struct addr_list *l, struct err *e)
{
	return parse_list(value, l, 0, e);
}

int
addr_parse_bare(const char *value, struct addr_list *l, struct err *e)
{
	return parse_list(value, l, 1, e);
}

void
addr_list_free(struct addr_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].local);
		free(l->v[i].domain);
		free(l->v[i].spec);
		free(l->v[i].group);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

char **
addr_list_specs(struct addr_list *l, struct err *e)
{
	char **v;
	size_t i;

	if ((v = calloc(l->n + 1, sizeof *v)) != NULL)
		for (i = 0; i < l->n; i++)
			if ((v[i] = strdup(l->v[i].spec)) == NULL) {
				while (i > 0)
					free(v[--i]);
				free(v);
				v = NULL;
				break;
			}
	addr_list_free(l);
	if (v == NULL)
		err_set(e, EX_OSERR, "out of memory");
	return v;
}

int
addr_spec_eq(const char *a, const char *b)
{
	const char *da = strrchr(a, '@'), *db = strrchr(b, '@');

	if (da == NULL || db == NULL)
		return strcmp(a, b) == 0;
	return da - a == db - b && memcmp(a, b, (size_t)(da - a)) == 0
	    && strcasecmp(da + 1, db + 1) == 0;
}

int
addr_parse_unique(const char *value, struct addr_list *l, struct err *e)
{
	struct addr_list add = { NULL, 0, 0 };
	size_t i, j;

	if (addr_parse(value, &add, e) != 0)
		return -1;
	if (l->cap - l->n < add.n) {
		size_t cap = l->n + add.n;
		struct addr *v = realloc(l->v, cap * sizeof *v);

		if (v == NULL) {
			addr_list_free(&add);
			return err_set(e, EX_OSERR, "out of memory");
		}
		l->v = v;
		l->cap = cap;
	}
	for (i = 0; i < add.n; i++) {
		for (j = 0; j < l->n; j++)
			if (strcmp(l->v[j].spec, add.v[i].spec) == 0)
				break;
		if (j < l->n)
			continue;
		l->v[l->n++] = add.v[i];
		memset(&add.v[i], 0, sizeof add.v[i]);
	}
	addr_list_free(&add);
	return 0;
}
