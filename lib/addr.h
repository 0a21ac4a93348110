/* addr.h — RFC 5322 §3.4 address lists: mailboxes, groups, display names, quoted local
 * parts, comments and the obsolete forms of §4.4, reduced to the addr-specs the tools act on. */
#ifndef SECMAIL_ADDR_H
#define SECMAIL_ADDR_H

#include <stddef.h>

#include "err.h"

struct addr {
	char *name;	/* display name as written, unquoted, comments dropped, NOT RFC 2047
			 * decoded (rfc2047_decode does that); NULL if none */
	char *local;	/* local part, unquoted */
	char *domain;	/* domain as written (a domain-literal keeps its brackets) */
	char *spec;	/* "local@domain" for SMTP and comparison; the local part re-quoted
			 * when it is not a dot-atom */
	char *group;	/* display name of the group it was listed in, or NULL */
	size_t local_start, local_end;	/* where the local part is in the value parsed
					 * (offsets; set for the mailboxes of addr_parse_bare) */
};

struct addr_list {
	struct addr *v;
	size_t n, cap;
};

/* Parse an address-list (To, Cc, Bcc, From, Sender, Reply-To ...; the unfolded field value)
 * and append its mailboxes to l. Empty groups add nothing. Errors are EX_DATAERR and say
 * where the value stopped making sense. */
int addr_parse(const char *value, struct addr_list *l, struct err *e);
/*
 * Details of addr_parse (see addr.c): an empty or all-CFWS value adds nothing; empty list
 * elements (",,") are skipped (RFC 5322 §4.4); source routes are dropped; a missing comma
 * between addresses is an error (never guessed); a group missing its ";" at the very end of
 * the value is accepted; nested groups, "<>", empty labels ("a..b@x") and unterminated
 * quoted strings, comments or domain literals are errors. Limits: 256 KiB of value, 10000
 * addresses, comments nested 64 deep. On failure l is left as it was before the call.
 */
/*
 * As addr_parse, but a mailbox may also be a bare local name, as sendmail's callers write
 * them (cron: "From: root (Cron Daemon)", "To: root"; "<root>"): its domain is NULL and its
 * spec the local part alone. local_start/local_end give the local part's place in value, for
 * a caller that completes it there.
 */
int addr_parse_bare(const char *value, struct addr_list *l, struct err *e);
void addr_list_free(struct addr_list *l);
/* The specs of l as a NULL-terminated array of strings (free each, then the array, e.g. with
 * keys_addrs_free); l is freed either way. NULL with e set (EX_OSERR) when out of memory. */
char **addr_list_specs(struct addr_list *l, struct err *e);
/* As addr_parse, but skips mailboxes whose spec is already in l (collecting recipients from
 * several fields). On error l is unchanged. */
int addr_parse_unique(const char *value, struct addr_list *l, struct err *e);

/* Compare two addr-specs as RFC 8550 §3 asks of certificate matching: local parts exactly,
 * domains case-insensitively. 1 if equal. */
int addr_spec_eq(const char *a, const char *b);

#endif
