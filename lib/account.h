/* account.h — how mailsend reaches and logs in to a submission server: the settings of an
 * account, taken from the command line, the configuration (mailsend.conf) or a queue entry,
 * and the password (or OAuth token) read from where they say, never stored. */
#ifndef SECMAIL_ACCOUNT_H
#define SECMAIL_ACCOUNT_H

#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "secret.h"
#include "smtp.h"

/* The settings; their names are the configuration keys (mailsend.conf(5)). */
enum account_key {
	AK_SERVER,		/* server HOST[:PORT] */
	AK_TLS,			/* tls starttls|implicit|none */
	AK_TRUST,		/* tls_trust_file */
	AK_FPR,			/* tls_fingerprint */
	AK_CERT,		/* tls_cert_file */
	AK_KEY,			/* tls_key_file */
	AK_HELO,		/* helo */
	AK_USER,		/* user */
	AK_AUTH,		/* auth */
	AK_CLEAR,		/* auth_in_clear on|off */
	AK_TIMEOUT,		/* timeout */
	/* where the secret comes from: at most one is used, in this order */
	AK_PASS_FD,		/* pass_fd N (command line only) */
	AK_PASS_FILE,		/* pass_file */
	AK_PASS_ENV,		/* pass_env */
	AK_PASSEVAL,		/* passwordeval */
	AK_N
};

extern const char *const account_keys[AK_N];

struct account {
	char *name;		/* configuration account, NULL for the defaults or none */
	char *v[AK_N];		/* the settings (NULL: unset) */
	char *origin;		/* "account NAME", "the command line", "queue entry ID": for
				 * messages */
	struct secret pass;
	int have_pass;
	char host[256], port[32];
};

void account_init(struct account *a);
void account_free(struct account *a);

/*
 * The settings for sending now: each from the command line (cli[k], NULL when not given)
 * over the configuration account `name` (its parents, then the defaults; NULL: the defaults
 * only). A password source given on the command line replaces all the configuration's. A
 * `name` that is not in c is EX_CONFIG naming it and the file.
 */
int account_resolve(struct account *a, const struct conf *c, const char *name,
    const char *const cli[AK_N], struct err *e);

/*
 * The settings recorded in a queue entry ("KEY VALUE" strings, see account_record), with the
 * command line of the flush over them (an administrator may point the queue at another
 * server). id names the entry in messages. An entry written before entries carried their
 * settings names only an account: that account is resolved from c now, and one that no
 * longer exists is EX_CONFIG naming the account and the entry.
 */
int account_from_entry(struct account *a, const struct conf *c, const char *name,
    char *const *set, size_t nset, const char *id, const char *const cli[AK_N],
    struct err *e);

/* The settings as "KEY VALUE" strings for a queue entry: everything needed to reach and log
 * in to the server again, and where the secret comes from, never the secret itself. The
 * caller frees each and the array. */
int account_record(const struct account *a, char ***set, size_t *n, struct err *e);

/* A key identifying the server and login, to share one connection between entries that
 * use the same (malloc'd). */
char *account_conn_key(const struct account *a);

/*
 * smtp_opts for the account (pointing into a), reading the secret the first time it is
 * needed. Errors name the account (a->origin) and, for the secret, where it was to come
 * from: "account work: password command failed (status 1)".
 */
int account_opts(struct account *a, struct smtp_opts *o, struct err *e);

/* "host:port" of the server, for receipts and messages (after account_opts). */
void account_server(const struct account *a, const struct smtp_opts *o, char *out, size_t cap);

#endif
