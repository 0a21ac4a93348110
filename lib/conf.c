/* conf.c — the secmail configuration file parser (see conf.h for the syntax). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof *c);
}

static void
section_free(struct conf_section *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].value);
	}
	free(s->v);
	free(s->name);
	free(s->parent);
}

void
conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		section_free(&c->s[i]);
	free(c->s);
	free(c->path);
	free(c->default_account);
	conf_init(c);
}

static struct conf_section *
section_new(struct conf *c, const char *name, const char *parent)
{
	struct conf_section *s;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct conf_section *p = realloc(c->s, cap * sizeof *p);

		if (p == NULL)
			return NULL;
		c->s = p;
		c->cap = cap;
	}
	s = &c->s[c->n];
	memset(s, 0, sizeof *s);
	if (name != NULL && (s->name = strdup(name)) == NULL)
		return NULL;
	if (parent != NULL && (s->parent = strdup(parent)) == NULL) {
		free(s->name);
		return NULL;
	}
	c->n++;
	return s;
}

static int
entry_add(struct conf_section *s, const char *k, const char *v, int line)
{
	struct conf_entry *x;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct conf_entry *p = realloc(s->v, cap * sizeof *p);

		if (p == NULL)
			return -1;
		s->v = p;
		s->cap = cap;
	}
	x = &s->v[s->n];
	x->key = strdup(k);
	x->value = strdup(v);
	x->line = line;
	if (x->key == NULL || x->value == NULL) {
		free(x->key);
		free(x->value);
		return -1;
	}
	s->n++;
	return 0;
}

char *
conf_trim(char *p)
{
	char *end;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return p;
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == ':' || *s == '"' || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/* "account NAME [: PARENT]" */
static int
parse_account(struct conf *c, char *rest, const char *path, int line, struct err *e)
{
	char *colon = strchr(rest, ':'), *name, *parent = NULL;

	if (colon != NULL) {
		*colon = '\0';
		parent = conf_trim(colon + 1);
		if (!valid_name(parent))
			return err_set(e, EX_CONFIG, "%s:%d: bad account name after ':'", path, line);
	}
	name = conf_trim(rest);
	if (!valid_name(name))
		return err_set(e, EX_CONFIG, "%s:%d: bad account name", path, line);
	if (strcmp(name, "default") == 0 && parent != NULL) {
		free(c->default_account);
		if ((c->default_account = strdup(parent)) == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		return 0;
	}
	if (conf_account(c, name) != NULL)
		return err_set(e, EX_CONFIG, "%s:%d: account %s defined twice", path, line, name);
	if (parent != NULL && conf_account(c, parent) == NULL)
		return err_set(e, EX_CONFIG, "%s:%d: account %s: no earlier account %s", path,
		    line, name, parent);
	if (section_new(c, name, parent) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	return 0;
}

static int
parse_line(struct conf *c, char *l, const char *path, int line, struct err *e)
{
	char *key, *val;
	size_t n;

	l = conf_trim(l);
	if (*l == '\0' || *l == '#')
		return 0;
	key = l;
	n = strcspn(l, " \t");
	val = l + n;
	if (*val != '\0')
		*val++ = '\0';
	val = conf_trim(val);
	if (strcmp(key, "defaults") == 0) {
		if (*val != '\0')
			return err_set(e, EX_CONFIG, "%s:%d: 'defaults' takes no value", path, line);
		if (c->n > 1)
			return err_set(e, EX_CONFIG, "%s:%d: 'defaults' must come before any account",
			    path, line);
		return 0;
	}
	if (strcmp(key, "account") == 0)
		return parse_account(c, val, path, line, e);
	n = strlen(val);
	if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
		val[n - 1] = '\0';
		val++;
	} else if (strchr(val, '"') != NULL && val[0] == '"') {
		return err_set(e, EX_CONFIG, "%s:%d: unterminated quote", path, line);
	}
	if (entry_add(&c->s[c->n - 1], key, val, line) != 0)
		return err_set(e, EX_OSERR, "out of memory");
	return 0;
}

int
conf_load(struct conf *c, const char *path, int optional, struct err *e)
{
	FILE *f;
	char l[CONF_MAX_LINE + 2];
	struct stat st;
	int line = 0, rc = 0;

	f = fopen(path, "re");
	if (f == NULL) {
		if (optional && errno == ENOENT)
			return 1;
		return err_sys(e, EX_CONFIG, "cannot open %s", path);
	}
	if (fstat(fileno(f), &st) != 0) {
		err_sys(e, EX_CONFIG, "cannot stat %s", path);
		fclose(f);
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		fclose(f);
		return err_set(e, EX_CONFIG, "%s: writable by others, refused", path);
	}
	conf_free(c);
	if ((c->path = strdup(path)) == NULL || section_new(c, NULL, NULL) == NULL) {
		fclose(f);
		return err_set(e, EX_OSERR, "out of memory");
	}
	while (fgets(l, sizeof l, f) != NULL) {
		size_t n = strlen(l);

		line++;
		if (n > CONF_MAX_LINE || (n == sizeof l - 1 && l[n - 1] != '\n')) {
			rc = err_set(e, EX_CONFIG, "%s:%d: line too long", path, line);
			break;
		}
		if (memchr(l, '\0', n) != NULL || (n > 0 && strlen(l) != n)) {
			rc = err_set(e, EX_CONFIG, "%s:%d: NUL byte", path, line);
			break;
		}
		if (line > CONF_MAX_ENTRIES) {
			rc = err_set(e, EX_CONFIG, "%s: more than %d lines", path, CONF_MAX_ENTRIES);
			break;
		}
		if ((rc = parse_line(c, l, path, line, e)) != 0)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = err_sys(e, EX_CONFIG, "read error: %s", path);
	fclose(f);
	if (rc == 0 && c->default_account != NULL && conf_account(c, c->default_account) == NULL)
		rc = err_set(e, EX_CONFIG, "%s: default account %s is not defined", path,
		    c->default_account);
	if (rc != 0)
		conf_free(c);
	return rc;
}

int
conf_find(struct conf *c, const char *name, struct err *e)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char path[4096];
	int rc;

	path[0] = '\0';
	if (xdg != NULL && *xdg == '/')
		snprintf(path, sizeof path, "%s/secmail/%s", xdg, name);
	else if (home != NULL && *home == '/')
		snprintf(path, sizeof path, "%s/.config/secmail/%s", home, name);
	if (path[0] != '\0') {
		rc = conf_load(c, path, 1, e);
		if (rc <= 0)
			return rc;
	}
	snprintf(path, sizeof path, "/etc/secmail/%s", name);
	return conf_load(c, path, 1, e);
}

const struct conf_section *
conf_account(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 1; i < c->n; i++)
		if (strcmp(c->s[i].name, name) == 0)
			return &c->s[i];
	return NULL;
}

static const struct conf_entry *
lookup(const struct conf *c, const char *account, const char *key)
{
	const struct conf_section *s;
	size_t depth, i;

	if (c->n == 0)
		return NULL;
	s = account != NULL ? conf_account(c, account) : NULL;
	/* Parents must be defined earlier, so the chain cannot loop; bound it anyway. */
	for (depth = 0; s != NULL && depth < c->n; depth++) {
		for (i = s->n; i-- > 0;)
			if (strcmp(s->v[i].key, key) == 0)
				return &s->v[i];
		s = s->parent != NULL ? conf_account(c, s->parent) : NULL;
	}
	s = &c->s[0];
	for (i = s->n; i-- > 0;)
		if (strcmp(s->v[i].key, key) == 0)
			return &s->v[i];
	return NULL;
}

const char *
conf_get(const struct conf *c, const char *account, const char *key)
{
	const struct conf_entry *x = lookup(c, account, key);

	return x != NULL ? x->value : NULL;
}

int
conf_line(const struct conf *c, const char *account, const char *key)
{
	const struct conf_entry *x = lookup(c, account, key);

	return x != NULL ? x->line : 0;
}

int
conf_bool(const char *v)
{
	static const char *yes[] = { "on", "yes", "true", "1" }, *no[] = { "off", "no", "false", "0" };
	size_t i;

	if (v == NULL)
		return -1;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

const char *
conf_setting(const struct conf *c, const char *var, const char *key)
{
	const char *v = getenv(var);

	if (v != NULL && *v != '\0')
		return v;
	return c != NULL && key != NULL ? conf_get(c, NULL, key) : NULL;
}

int
conf_open(struct conf *c, const char *given, const char *name, struct err *e)
{
	return given != NULL ? conf_load(c, given, 0, e) : conf_find(c, name, e);
}
