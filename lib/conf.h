/* conf.h — secmail configuration files: `key value` lines, `#` comments, a `defaults`
 * section and named `account` sections (msmtp-like), shared by mailsend and the S/MIME tools. */
#ifndef SECMAIL_CONF_H
#define SECMAIL_CONF_H

#include <stddef.h>

#include "err.h"

/*
 * Syntax, one statement per line; leading and trailing white space ignored:
 *
 *	# comment			(only where a line starts with #)
 *	defaults			following keys apply to every account
 *	account NAME			start an account; keys until the next section are its own
 *	account NAME : PARENT		... inheriting PARENT's keys first
 *	account default : NAME		the account used when none is chosen
 *	KEY VALUE			VALUE is the rest of the line (may contain spaces);
 *					a VALUE in double quotes keeps leading/trailing space
 *
 * Keys before any section belong to the defaults. Lookups fall back from the account to its
 * parent chain to the defaults. Limits: lines of CONF_MAX_LINE octets, CONF_MAX_ENTRIES
 * statements; beyond them, or on a syntax error, conf_load fails with EX_CONFIG naming the
 * file and line.
 */
#define CONF_MAX_LINE	 4096
#define CONF_MAX_ENTRIES 10000

struct conf_entry {
	char *key;
	char *value;
	int line;
};

struct conf_section {
	char *name;		/* NULL for the defaults */
	char *parent;		/* NULL if none */
	struct conf_entry *v;
	size_t n, cap;
};

struct conf {
	char *path;		/* the file loaded, or NULL if none */
	struct conf_section *s;	/* s[0] is the defaults */
	size_t n, cap;
	char *default_account;
};

void conf_init(struct conf *c);
void conf_free(struct conf *c);

/* Load one file. A missing file is not an error when `optional` is set: returns 1 and c stays
 * empty. Returns 0 on success, -1 on error. A file that others may write is refused
 * (EX_CONFIG), since it may name a password command. */
int conf_load(struct conf *c, const char *path, int optional, struct err *e);

/*
 * Find and load the first existing file of: $XDG_CONFIG_HOME/secmail/NAME (or
 * ~/.config/secmail/NAME), /etc/secmail/NAME. Returns 1 if none exists (c stays empty).
 */
int conf_find(struct conf *c, const char *name, struct err *e);
/* A tool's configuration: the file given with --config (it must exist) or else conf_find(name).
 * 0 or 1 as those; -1 on error. */
int conf_open(struct conf *c, const char *given, const char *name, struct err *e);

/* The account section by name (NULL if absent). */
const struct conf_section *conf_account(const struct conf *c, const char *name);
/* Value of key for account (NULL: the defaults only), following parents then the defaults;
 * NULL if unset. */
const char *conf_get(const struct conf *c, const char *account, const char *key);
/* A tool setting by precedence: the environment variable `var` when set and not empty, else
 * `key` from the file's defaults (NULL if neither; c and key may be NULL). */
const char *conf_setting(const struct conf *c, const char *var, const char *key);
/* Line number where the effective value was set (0 if unset), for error messages. */
int conf_line(const struct conf *c, const char *account, const char *key);

/* The line with leading blanks and trailing blanks and line ends cut off, in place. */
char *conf_trim(char *p);
/* Interpret a boolean value: on/yes/true/1 → 1, off/no/false/0 → 0, else -1. */
int conf_bool(const char *v);

#endif
