/* account.c — the settings that reach a submission server (see account.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "buf.h"
#include "cli.h"

const char *const account_keys[AK_N] = {
	"server", "tls", "tls_trust_file", "tls_fingerprint", "tls_cert_file", "tls_key_file",
	"helo", "user", "auth", "auth_in_clear", "timeout",
	"pass_fd", "pass_file", "pass_env", "passwordeval",
};

static int
is_source(int k)
{
	return k >= AK_PASS_FD && k <= AK_PASSEVAL;
}

void
account_init(struct account *a)
{
	memset(a, 0, sizeof *a);
}

void
account_free(struct account *a)
{
	size_t k;

	for (k = 0; k < AK_N; k++)
		free(a->v[k]);
	free(a->name);
	free(a->origin);
	secret_free(&a->pass);
	account_init(a);
}

static int
set(struct account *a, int k, const char *v, struct err *e)
{
	free(a->v[k]);
	a->v[k] = NULL;
	if (v != NULL && (a->v[k] = strdup(v)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	return 0;
}

static int
origin(struct account *a, const char *what, const char *arg, struct err *e)
{
	char o[300];

	snprintf(o, sizeof o, "%s%s%s", what, arg ? " " : "", arg ? arg : "");
	free(a->origin);
	if ((a->origin = strdup(o)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	return 0;
}

/* The command line over what a holds: a password source given there replaces them all. */
static int
overlay(struct account *a, const char *const cli[AK_N], struct err *e)
{
	int k, src = 0;

	if (cli == NULL)
		return 0;
	for (k = AK_PASS_FD; k <= AK_PASSEVAL; k++)
		src |= cli[k] != NULL;
	for (k = 0; k < AK_N; k++) {
		if (cli[k] != NULL || (src && is_source(k)))
			if (set(a, k, cli[k], e) != 0)
				return -1;
	}
	return 0;
}

int
account_resolve(struct account *a, const struct conf *c, const char *name,
    const char *const cli[AK_N], struct err *e)
{
	int k;

	account_init(a);
	if (name != NULL && conf_account(c, name) == NULL)
		return err_set(e, EX_CONFIG, "no account %s in %s", name,
		    c->path ? c->path : "the configuration (none found)");
	if (name != NULL && (a->name = strdup(name)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	for (k = 0; k < AK_N; k++)
		if (k != AK_PASS_FD && set(a, k, conf_get(c, name, account_keys[k]), e) != 0)
			return -1;
	if (overlay(a, cli, e) != 0)
		return -1;
	if (name != NULL)
		return origin(a, "account", name, e);
	return origin(a, c->path ? "the defaults of the configuration" : "the command line", NULL,
	    e);
}

int
account_from_entry(struct account *a, const struct conf *c, const char *name,
    char *const *setv, size_t nset, const char *id, const char *const cli[AK_N],
    struct err *e)
{
	size_t i;
	int k;

	account_init(a);
	if (nset == 0) {
		/* An entry from before entries carried their settings: only the account. */
		if (name != NULL && conf_account(c, name) == NULL)
			return err_set(e, EX_CONFIG, "queue entry %s was queued for account %s, which "
			    "is not in %s (renamed or removed?)", id, name,
			    c->path ? c->path : "the configuration (none found)");
		if (account_resolve(a, c, name, cli, e) != 0)
			return -1;
		return 0;
	}
	account_init(a);
	if (name != NULL && (a->name = strdup(name)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	for (i = 0; i < nset; i++) {
		const char *sp = strchr(setv[i], ' ');

		if (sp == NULL)
			continue;
		for (k = 0; k < AK_N; k++)
			if (strlen(account_keys[k]) == (size_t)(sp - setv[i]) &&
			    memcmp(account_keys[k], setv[i], (size_t)(sp - setv[i])) == 0 &&
			    set(a, k, sp + 1, e) != 0)
				return -1;	/* unknown keys: from a newer version */
	}
	if (overlay(a, cli, e) != 0 || origin(a, "queue entry", id, e) != 0)
		return -1;
	return 0;
}

int
account_record(const struct account *a, char ***out, size_t *n, struct err *e)
{
	char **v = calloc(AK_N, sizeof *v);
	int k;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	for (k = 0; k < AK_N; k++) {
		struct buf b = BUF_INIT;

		if (a->v[k] == NULL)
			continue;
		if (strpbrk(a->v[k], "\r\n") != NULL) {
			while (*n > 0)
				free(v[--*n]);
			free(v);
			return err_set(e, EX_DATAERR, "line break in the %s setting", account_keys[k]);
		}
		buf_addf(&b, "%s %s", account_keys[k], a->v[k]);
		if ((v[*n] = buf_take(&b, e)) == NULL) {
			while (*n > 0)
				free(v[--*n]);
			free(v);
			return -1;
		}
		(*n)++;
	}
	*out = v;
	return 0;
}

char *
account_conn_key(const struct account *a)
{
	struct buf b = BUF_INIT;
	int k;

	for (k = 0; k < AK_N; k++)
		buf_addf(&b, "%s\n", a->v[k] ? a->v[k] : "");
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return b.p ? b.p : strdup("");
}

/* HOST[:PORT], [V6ADDR][:PORT] */
static int
split_server(struct account *a, const char *srv, struct err *e)
{
	const char *colon;

	a->port[0] = '\0';
	if (srv[0] == '[') {
		const char *rb = strchr(srv, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return err_set(e, EX_USAGE, "%s: bad server %s", a->origin, srv);
		snprintf(a->host, sizeof a->host, "%.*s", (int)(rb - srv - 1), srv + 1);
		if (rb[1] == ':')
			snprintf(a->port, sizeof a->port, "%s", rb + 2);
	} else if ((colon = strrchr(srv, ':')) != NULL && strchr(srv, ':') == colon) {
		snprintf(a->host, sizeof a->host, "%.*s", (int)(colon - srv), srv);
		snprintf(a->port, sizeof a->port, "%s", colon + 1);
	} else {
		snprintf(a->host, sizeof a->host, "%s", srv);
	}
	if (a->host[0] == '\0')
		return err_set(e, EX_USAGE, "%s: bad server %s", a->origin, srv);
	return 0;
}

/* Read the secret from its source; errors name the account and the source. */
static int
read_secret(struct account *a, struct err *e)
{
	int rc;

	if (a->v[AK_PASS_FD] != NULL) {
		long long fd = cli_number(a->v[AK_PASS_FD], 1 << 20);

		if (a->origin != NULL && strncmp(a->origin, "queue entry", 11) == 0)
			return err_set(e, EX_CONFIG, "%s: its password came from file descriptor %s "
			    "when it was queued; give --flush a password source (--pass-file, "
			    "--pass-env, --passwordeval or --pass-fd)", a->origin, a->v[AK_PASS_FD]);
		if (fd < 0)
			return err_set(e, EX_USAGE, "bad --pass-fd %s", a->v[AK_PASS_FD]);
		rc = secret_from_fd(&a->pass, (int)fd, e);
	} else if (a->v[AK_PASS_FILE] != NULL) {
		rc = secret_from_file(&a->pass, a->v[AK_PASS_FILE], e);
	} else if (a->v[AK_PASS_ENV] != NULL) {
		rc = secret_from_env(&a->pass, a->v[AK_PASS_ENV], e);
	} else if (a->v[AK_PASSEVAL] != NULL) {
		rc = secret_from_command(&a->pass, a->v[AK_PASSEVAL], e);
	} else {
		return err_set(e, EX_CONFIG, "%s: a user or an OAuth mechanism is set but no password "
		    "source (--pass-file, --pass-fd, --pass-env, --passwordeval, pass_file, pass_env, "
		    "passwordeval)", a->origin);
	}
	if (rc != 0)
		return err_wrap(e, "%s", a->origin);
	a->have_pass = 1;
	return 0;
}

int
account_opts(struct account *a, struct smtp_opts *o, struct err *e)
{
	const char *tls = a->v[AK_TLS], *t = a->v[AK_TIMEOUT], *auth = a->v[AK_AUTH];
	int clear;

	memset(o, 0, sizeof *o);
	if (a->v[AK_SERVER] == NULL)
		return err_set(e, EX_CONFIG, "%s: no server: give --server or set 'server' in the "
		    "configuration", a->origin);
	if (split_server(a, a->v[AK_SERVER], e) != 0)
		return -1;
	o->host = a->host;
	o->port = a->port[0] ? a->port : NULL;
	if (tls == NULL || strcmp(tls, "starttls") == 0)
		o->tls = SMTP_TLS_STARTTLS;
	else if (strcmp(tls, "implicit") == 0)
		o->tls = SMTP_TLS_IMPLICIT;
	else if (strcmp(tls, "none") == 0)
		o->tls = SMTP_TLS_NONE;
	else
		return err_set(e, EX_USAGE, "%s: tls must be starttls, implicit or none, not %s",
		    a->origin, tls);
	o->trust_file = a->v[AK_TRUST];
	o->fingerprint = a->v[AK_FPR];
	o->cert_file = a->v[AK_CERT];
	o->key_file = a->v[AK_KEY];
	o->helo = a->v[AK_HELO];
	o->user = a->v[AK_USER];
	o->auth = auth;
	if (auth != NULL && !smtp_auth_known(auth))
		return err_set(e, EX_CONFIG, "%s: unknown AUTH mechanism %s (scram-sha-256-plus, "
		    "scram-sha-256, plain, login, external, xoauth2 or oauthbearer)", a->origin, auth);
	clear = a->v[AK_CLEAR] ? conf_bool(a->v[AK_CLEAR]) : 0;
	if (clear < 0)
		return err_set(e, EX_CONFIG, "%s: auth_in_clear must be on or off, not %s", a->origin,
		    a->v[AK_CLEAR]);
	o->auth_in_clear = clear;
	if (t != NULL) {
		long long n = cli_number(t, 86400);

		if (n < 1)
			return err_set(e, EX_USAGE, "%s: bad timeout %s", a->origin, t);
		o->timeout = (int)n;
	}
	/* A secret is needed for every mechanism but EXTERNAL. */
	if ((o->user != NULL || (auth != NULL && strcasecmp(auth, "external") != 0)) &&
	    !(auth != NULL && strcasecmp(auth, "external") == 0)) {
		if (!a->have_pass && read_secret(a, e) != 0)
			return -1;
		o->pass = &a->pass;
	}
	return 0;
}

void
account_server(const struct account *a, const struct smtp_opts *o, char *out, size_t cap)
{
	const char *port = o->port ? o->port : o->tls == SMTP_TLS_IMPLICIT ? "465" : "587";

	snprintf(out, cap, strchr(a->host, ':') ? "[%s]:%s" : "%s:%s", a->host, port);
}
