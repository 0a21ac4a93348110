/* submit.h — one message from a sendmail caller to the submission server, or to the queue
 * when the server cannot take it now: the header completed and local names rewritten, the
 * envelope worked out, the account's settings resolved, the attempt logged, the receipt and
 * the kept copy written. mailsend's send, -bs and --bcc-dir modes all go through here. */
#ifndef SECMAIL_SUBMIT_H
#define SECMAIL_SUBMIT_H

#include <stddef.h>

#include "account.h"
#include "aliases.h"
#include "conf.h"
#include "err.h"
#include "queue.h"
#include "rcptset.h"
#include "smtp.h"

/* Where attempts are logged: syslog (LOG_MAIL, under tag) and a log file, one line each. */
struct submit_log {
	const char *tag;	/* syslog identifier and log file tag ("mailsend") */
	const char *file;	/* log file, or NULL */
	int fd;			/* open log file, or -1 */
	int verbose;		/* -v: each line on standard error too */
	int warned;		/* the log file could not be written: said once */
};

void submit_log_line(struct submit_log *l, const char *from, const struct smtp_rcpt *r, size_t n,
    unsigned long long size, const char *status, const char *why);

/* How errors the server reports about a message are reported (sendmail -oeX). */
enum submit_errors {
	SUBMIT_ERR_PRINT,	/* -oep: on standard error (the default) */
	SUBMIT_ERR_QUIET,	/* -oeq: only the exit status */
	SUBMIT_ERR_MAIL,	/* -oem, -oew: also a delivery status notification to the sender */
	SUBMIT_ERR_MAIL_ZERO,	/* -oee: that, and exit 0 once the notification is on its way */
};

/* What stays the same for every message of one run. */
struct submit_cfg {
	const struct conf *conf;
	const char *account;		/* -a, or NULL: chosen by the From address */
	const char *const *cli;		/* account settings given on the command line [AK_N] */
	const char *queue_dir;		/* --queue, or NULL: the account's or the default */
	const char *from, *fullname;	/* -f, -F */
	const char *notify, *ret, *envid;	/* DSN */
	const char *receipt;		/* --receipt FILE */
	const char *sent_maildir;	/* --sent-maildir DIR (else the account's setting) */
	int use_fields;			/* recipients from To, Cc and Bcc (-t, or no arguments) */
	int no_queue, queue_only;	/* --no-queue; -odq, --queue-only */
	int queued_exit;		/* exit status for a queued message (default 0) */
	int gateway;			/* -G: relay; the header is not completed or rewritten */
	int no_rcpt_ok;			/* a message without recipients is not sent, and that is
					 * no error (--bcc-dir: every recipient was a Bcc one) */
	int no_alias;			/* -n: bare names are completed, aliases not used */
	enum submit_errors errors;
	struct aliases *aliases;	/* loaded from the setting or --aliases (may be empty) */
	char domain[256];		/* the default domain for bare names */
	struct submit_log *log;
	/* the open connection, kept for the next message of the run */
	struct smtp conn;
	char *conn_key;
	int conn_up;
};

void submit_init(struct submit_cfg *c);
/* QUIT the connection kept open, if any. */
void submit_done(struct submit_cfg *c);

/* The envelope, when the caller gives it rather than the header (-bs, --bcc-dir). */
struct submit_env {
	const char *from;		/* NULL: as usual (-f, account, Sender, From) */
	const struct rcptset *rcpt;	/* the recipients, bare names allowed */
	const char *notify, *ret, *envid;	/* NULL: the run's */
};

struct submit_result {
	int status;			/* exit status for this message */
	int queued;			/* some or all recipients were queued */
	char id[128];			/* the queue entry, when queued */
	char reply[SMTP_REPLY_MAX];	/* the server's reply, or why it failed */
};

/*
 * Submit the message read from fd (to its end). args are recipient arguments (address lists,
 * bare names allowed), used unless env gives the envelope. Every problem is reported here
 * (standard error per cfg->errors, the log) and reflected in r->status; -1 only when the
 * message could not even be read or spooled (e set).
 */
int submit_message(struct submit_cfg *c, int fd, char *const *args, size_t nargs,
    const struct submit_env *env, struct submit_result *r, struct err *e);

/* The queue directory for an account (its 'queue' setting, else $XDG_STATE_HOME/secmail/queue
 * or ~/.local/state/secmail/queue), unless given. */
void submit_queue_dir(const struct conf *conf, const char *given, const char *account, char *out,
    size_t cap);
/* The retry schedule of an account (retry_first, retry_max, give_up). */
void submit_sched(const struct conf *conf, const char *account, struct queue_sched *s);

#endif
