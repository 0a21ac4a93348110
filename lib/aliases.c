/* aliases.c — aliases(5) files and the default domain (see aliases.h). */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "conf.h"
#include "io.h"

#define LINE_MAX_ALIAS	(64 * 1024)

void
aliases_init(struct aliases *a)
{
	memset(a, 0, sizeof *a);
}

void
aliases_free(struct aliases *a)
{
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		free(a->v[i].name);
		for (j = 0; j < a->v[i].nto; j++)
			free(a->v[i].to[j]);
		free(a->v[i].to);
	}
	free(a->v);
	free(a->path);
	aliases_init(a);
}

/* Split a value at the commas that are not inside a quoted string, <...> or a comment. */
static int
add_targets(struct alias *x, char *v, struct err *e)
{
	char *p = v, *start = v;
	int quote = 0, angle = 0, paren = 0;

	for (;; p++) {
		if (*p == '\\' && p[1] != '\0' && (quote || paren)) {
			p++;
			continue;
		}
		if (*p == '"' && !paren)
			quote = !quote;
		else if (!quote && *p == '(')
			paren++;
		else if (!quote && *p == ')' && paren > 0)
			paren--;
		else if (!quote && !paren && *p == '<')
			angle = 1;
		else if (!quote && !paren && *p == '>')
			angle = 0;
		if (*p == '\0' || (*p == ',' && !quote && !angle && !paren)) {
			char c = *p, *t, **nv;

			*p = '\0';
			t = conf_trim(start);
			if (*t != '\0') {
				if ((nv = realloc(x->to, (x->nto + 1) * sizeof *nv)) == NULL)
					return err_set(e, EX_OSERR, "out of memory");
				x->to = nv;
				if ((nv[x->nto] = strdup(t)) == NULL)
					return err_set(e, EX_OSERR, "out of memory");
				x->nto++;
			}
			if (c == '\0')
				return 0;
			start = p + 1;
		}
	}
}

static int
add_alias(struct aliases *a, char *name, char *value, int line, struct err *e)
{
	struct alias *x;
	char *p;

	if (a->n >= ALIASES_MAX_ENTRIES)
		return err_set(e, EX_CONFIG, "%s: more than %d aliases", a->path, ALIASES_MAX_ENTRIES);
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct alias *v = realloc(a->v, cap * sizeof *v);

		if (v == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		a->v = v;
		a->cap = cap;
	}
	x = &a->v[a->n];
	memset(x, 0, sizeof *x);
	x->line = line;
	if ((x->name = strdup(name)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	for (p = x->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	a->n++;
	return add_targets(x, value, e);
}

/* One logical line "name: value" (continuations already joined). */
static int
parse_entry(struct aliases *a, char *l, int line, struct err *e)
{
	char *colon, *name;

	l = conf_trim(l);
	if (*l == '\0' || *l == '#')
		return 0;
	colon = strchr(l, ':');
	if (colon == NULL || colon == l)
		return err_set(e, EX_CONFIG, "%s:%d: expected 'name: address, ...'", a->path, line);
	*colon = '\0';
	name = conf_trim(l);
	if (*name == '"' || strpbrk(name, " \t@<>,") != NULL)
		return err_set(e, EX_CONFIG, "%s:%d: bad alias name '%s'", a->path, line, name);
	return add_alias(a, name, colon + 1, line, e);
}

int
aliases_load(struct aliases *a, const char *path, struct err *e)
{
	struct buf cur = BUF_INIT;
	char *l;
	FILE *f;
	int line = 0, start = 0, rc = 0;

	aliases_free(a);
	if ((a->path = strdup(path)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	if ((f = fopen(path, "re")) == NULL)
		return err_sys(e, EX_CONFIG, "cannot open aliases file %s", path);
	if (io_file_private(fileno(f), path, 0, e) != 0) {
		fclose(f);
		return -1;
	}
	if ((l = malloc(LINE_MAX_ALIAS + 2)) == NULL) {
		fclose(f);
		return err_set(e, EX_OSERR, "out of memory");
	}
	while (rc == 0 && fgets(l, LINE_MAX_ALIAS + 2, f) != NULL) {
		size_t n = strlen(l);

		line++;
		if (n > LINE_MAX_ALIAS) {
			rc = err_set(e, EX_CONFIG, "%s:%d: line too long", path, line);
			break;
		}
		if (l[0] == ' ' || l[0] == '\t') {	/* a continuation (aliases(5)) */
			if (cur.len > 0 && l[strspn(l, " \t\r\n")] != '#') {
				buf_addc(&cur, ' ');
				buf_adds(&cur, conf_trim(l));
			}
			continue;
		}
		if (cur.len > 0)
			rc = parse_entry(a, cur.p, start, e);
		buf_reset(&cur);
		start = line;
		buf_adds(&cur, l);
		if (cur.len > 16 * LINE_MAX_ALIAS)
			rc = err_set(e, EX_CONFIG, "%s:%d: entry too long", path, line);
	}
	if (rc == 0 && ferror(f))
		rc = err_sys(e, EX_CONFIG, "cannot read %s", path);
	if (rc == 0 && cur.len > 0)
		rc = parse_entry(a, cur.p, start, e);
	if (rc == 0 && cur.oom)
		rc = err_set(e, EX_OSERR, "out of memory");
	buf_free(&cur);
	free(l);
	fclose(f);
	return rc;
}

static const struct alias *
find(const struct aliases *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcasecmp(a->v[i].name, name) == 0)
			return &a->v[i];
	return NULL;
}

struct path {
	const char *name;
	const struct path *up;
};

static int
on_path(const struct path *p, const char *name)
{
	for (; p != NULL; p = p->up)
		if (strcasecmp(p->name, name) == 0)
			return 1;
	return 0;
}

static int
qualify(const char *name, const char *domain, struct rcptset *out, struct err *e)
{
	struct buf b = BUF_INIT;
	char *s;
	int rc;

	buf_addf(&b, "%s@%s", name, domain);
	if ((s = buf_take(&b, e)) == NULL)
		return -1;
	rc = rcptset_add(out, s, e);
	free(s);
	return rc;
}

static int
expand(const struct aliases *a, const char *name, const char *domain, const struct path *up,
    int depth, struct rcptset *out, struct err *e)
{
	const struct alias *x = find(a, name);
	struct path here = { name, up };
	size_t i, j;

	if (x == NULL || on_path(up, name))
		return qualify(name, domain, out, e);
	if (depth >= ALIASES_MAX_DEPTH)
		return err_set(e, EX_CONFIG, "%s:%d: aliases nested more than %d deep from %s",
		    a->path, x->line, ALIASES_MAX_DEPTH, name);
	for (i = 0; i < x->nto; i++) {
		const char *t = x->to[i];
		struct addr_list l = { NULL, 0, 0 };

		if (t[0] == '|' || t[0] == '/' || strncasecmp(t, ":include:", 9) == 0)
			return err_set(e, EX_CONFIG, "%s:%d: alias %s: '%s' needs a local delivery "
			    "agent; mailsend only sends mail on", a->path, x->line, x->name, t);
		if (addr_parse_bare(t, &l, e) != 0) {
			addr_list_free(&l);	/* it may hold the array, without entries */
			return err_wrap(e, "%s:%d: alias %s", a->path, x->line, x->name);
		}
		for (j = 0; j < l.n; j++) {
			int rc = l.v[j].domain != NULL ? rcptset_add(out, l.v[j].spec, e) :
			    expand(a, l.v[j].local, domain, &here, depth + 1, out, e);

			if (rc != 0) {
				addr_list_free(&l);
				return -1;
			}
		}
		addr_list_free(&l);
	}
	return 0;
}

int
aliases_expand(const struct aliases *a, const char *name, const char *domain,
    struct rcptset *out, struct err *e)
{
	return expand(a, name, domain, NULL, 0, out, e);
}

char *
aliases_header(const struct aliases *a, const char *name, const char *domain, struct err *e)
{
	struct rcptset s = RCPTSET_INIT;
	struct buf b = BUF_INIT;
	char *r;

	if (aliases_expand(a, name, domain, &s, e) != 0) {
		rcptset_free(&s);
		return NULL;
	}
	if (s.n == 1) {
		r = s.v[0];
		s.v[0] = NULL;
		s.n = 0;
		rcptset_free(&s);
		return r;
	}
	rcptset_free(&s);
	buf_addf(&b, "%s@%s", name, domain);
	return buf_take(&b, e);
}

/* A domain name as RFC 5321 §4.1.2 writes one: labels of letters, digits and hyphens. */
static int
is_domain(const char *d)
{
	size_t label = 0;

	if (*d == '\0' || strlen(d) > 253)
		return 0;
	for (; *d; d++) {
		if (*d == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)*d) || *d == '-') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0;
}

void
aliases_domain(const char *given, char *out, size_t cap)
{
	struct addrinfo hints, *res = NULL;
	char host[256];
	FILE *f;

	if (given != NULL) {
		snprintf(out, cap, "%s", given);
		return;
	}
	if ((f = fopen("/etc/mailname", "re")) != NULL) {
		char l[300];

		if (fgets(l, sizeof l, f) != NULL) {
			l[strcspn(l, "\r\n")] = '\0';
			if (is_domain(conf_trim(l))) {
				snprintf(out, cap, "%s", conf_trim(l));
				fclose(f);
				return;
			}
		}
		fclose(f);
	}
	if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	if (strchr(host, '.') == NULL && getaddrinfo(host, NULL, &hints, &res) == 0 &&
	    res != NULL && res->ai_canonname != NULL && strchr(res->ai_canonname, '.') != NULL &&
	    is_domain(res->ai_canonname))
		snprintf(out, cap, "%s", res->ai_canonname);
	else
		snprintf(out, cap, "%s", host);
	if (res != NULL)
		freeaddrinfo(res);
}
