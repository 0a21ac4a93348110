/* aliases.h — local names as sendmail's callers write them (cron's "To: root", a daemon's
 * "From: www-data"): an aliases(5) file that maps them to addresses, and the default mail
 * domain that completes a bare name (/etc/mailname, Debian's convention, else the host's
 * fully qualified name). */
#ifndef SECMAIL_ALIASES_H
#define SECMAIL_ALIASES_H

#include <stddef.h>

#include "err.h"
#include "rcptset.h"

#define ALIASES_MAX_ENTRIES	100000
#define ALIASES_MAX_DEPTH	16

struct alias {
	char *name;		/* lower case */
	char **to;		/* the targets as written: addresses, or "|cmd", "/file", ... */
	size_t nto;
	int line;
};

struct aliases {
	char *path;		/* NULL: none loaded (every name is its own) */
	struct alias *v;
	size_t n, cap;
};

void aliases_init(struct aliases *a);
void aliases_free(struct aliases *a);

/*
 * Load an aliases(5) file: "name: target, target" lines, "#" comments, lines starting with
 * white space continuing the previous one. Names are compared without case. A target is an
 * address ("bob@example.org", "Bob <bob@example.org>") or another local name; pipes ("|cmd"),
 * files ("/path") and ":include:" need a local delivery agent and are refused when an alias
 * that uses them is expanded (mailsend only sends). Errors name the file and line
 * (EX_CONFIG); the file must not be writable by others (it decides where mail goes).
 */
int aliases_load(struct aliases *a, const char *path, struct err *e);

/*
 * The envelope recipients for a bare local name: its alias expanded recursively (at most
 * ALIASES_MAX_DEPTH deep; a name met again on its own path stands for itself, as in
 * "root: root, admin"), every bare name left completed with "@domain". Appended to out.
 */
int aliases_expand(const struct aliases *a, const char *name, const char *domain,
    struct rcptset *out, struct err *e);

/* What a bare name becomes in a header field: the address its alias leads to when that is
 * one address all the way down, else name@domain. Malloc'd, or NULL with e set. */
char *aliases_header(const struct aliases *a, const char *name, const char *domain,
    struct err *e);

/* The default domain: `given` (a setting) when not NULL, else the first line of
 * /etc/mailname when that is a domain name, else the host's fully qualified name
 * (getaddrinfo AI_CANONNAME), else its name. */
void aliases_domain(const char *given, char *out, size_t cap);

#endif
