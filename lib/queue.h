/* queue.h — the mailsend spool: maildir-style crash-safe storage of a message with its
 * envelope, a retry schedule (RFC 5321 §4.5.4.1), locking against concurrent flushes, and
 * RFC 3464 delivery status notifications for what cannot be delivered. */
#ifndef SECMAIL_QUEUE_H
#define SECMAIL_QUEUE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Layout of a queue directory DIR:
 *	DIR/tmp/ID	being written (never read; stale ones are removed by a flush)
 *	DIR/new/ID	a queued message: envelope lines, an empty line, the message.
 *			The envelope: "secmail-queue 1", then "created T", "from ADDR",
 *			"rcpt ADDR"..., "notify", "ret", "envid", "account NAME" and
 *			"set KEY VALUE" lines (the settings that reach the server) and
 *			"size N" (the message's octets: an entry whose message is not N
 *			octets long is damaged, reported and never sent; entries without
 *			it are older); lines of unknown keys are skipped (written by a
 *			newer version)
 *	DIR/state/ID	its retry state (attempts, next attempt, last error, recipients done);
 *			replaced atomically; missing means "due now, never tried"
 *	DIR/failed/ID	given up and the bounce could not be sent either
 * A message exists in the queue exactly when DIR/new/ID does: it appears by rename(2) after
 * fsync of the file, and the directory is fsync'd after.
 */

/* The most recipients an entry may have (the same bound as rcptset.h's RCPTSET_MAX). */
#define QUEUE_MAX_RCPT 1000000

struct queue_env {
	char *from;		/* "" for a bounce */
	char **rcpt;
	size_t nrcpt;
	char *notify, *ret, *envid;	/* DSN parameters, or NULL */
	char *account;		/* configuration account it was sent with, or NULL */
	char **set;		/* how to reach the server: "KEY VALUE" settings (account.h),
				 * never a secret; none in entries of older versions */
	size_t nset;
	long long created;	/* when it was first queued (seconds since the epoch) */
};

struct queue_state {
	int attempts;
	long long next;		/* earliest next attempt; 0: now */
	char last[512];		/* last error */
	char **done;		/* recipients already delivered or refused for good */
	size_t ndone, cap;
	int sorted;		/* done is sorted and without repeats */
};

struct queue_sched {
	long long first;	/* seconds before the first retry (default 1800: 30 min) */
	long long max;		/* longest interval (default 14400: 4 h) */
	long long give_up;	/* seconds after queueing to give up (default 432000: 5 days) */
};

struct queue {
	char dir[3800];
};

struct queue_item {
	char id[128];
	int fd;			/* open, locked; positioned at the first message byte */
	off_t msgoff;		/* offset of the message in the file */
	off_t size;		/* the file's size */
	struct queue_env env;
	struct queue_state st;
};

/* The clock: $SECMAIL_NOW (seconds since the epoch) when set, for tests; else time(2). */
long long queue_now(void);
void queue_sched_default(struct queue_sched *s);
/* When the next attempt is due after `attempts` failures of a message queued at created;
 * -1 if it is time to give up. */
long long queue_next(const struct queue_sched *s, long long created, int attempts, long long now);

/* Create DIR and its subdirectories (mode 0700) if needed. DIR and its subdirectories must
 * belong to the user and be writable by no one else, and so must every directory above DIR
 * (owned by the user or root; group- or other-writable only with the sticky bit): otherwise
 * EX_CONFIG, saying which and why (io_dir_private). */
int queue_open(struct queue *q, const char *dir, struct err *e);
/* Store env and the message read from msgfd (current offset to end), with its first retry
 * state st (NULL: due at once). The new ID is written to id (cap >= 128). */
int queue_add(struct queue *q, const struct queue_env *env, const struct queue_state *st,
    int msgfd, char *id, struct err *e);
/* IDs in new/, sorted (oldest first, since IDs start with the time). */
int queue_list(struct queue *q, char ***ids, size_t *n, struct err *e);
void queue_list_free(char **ids, size_t n);
/* Is id the name of a queue entry (no '/', not starting with '.', not too long)? */
int queue_valid_id(const char *id);
/* Open and lock a queued message. Returns 0 with it filled, 1 if it is gone (or never was),
 * 2 if another process holds it, -1 on error (a corrupt entry is EX_DATAERR, one that breaks
 * the ownership rules EX_CONFIG). */
int queue_lock(struct queue *q, const char *id, struct queue_item *it, struct err *e);
/* Read an entry without locking (for --list). */
int queue_peek(struct queue *q, const char *id, struct queue_item *it, struct err *e);
/* Record a failed attempt (it->st updated by the caller) atomically. */
int queue_save_state(struct queue *q, const struct queue_item *it, struct err *e);
/* Delivered (or bounced): remove it. */
int queue_remove(struct queue *q, struct queue_item *it, struct err *e);
/* Move it to failed/. */
int queue_fail(struct queue *q, struct queue_item *it, struct err *e);
/* Housekeeping for a flush: remove tmp/ files older than 36 hours (what a crash while
 * queueing left; the maildir convention) and state files older than an hour whose message is gone. */
int queue_clean(struct queue *q, struct err *e);
/* Unlock, close and free. */
void queue_item_free(struct queue_item *it);
void queue_env_free(struct queue_env *env);
/* Is this recipient in st->done? O(log n) (sorts st->done first when needed). */
int queue_is_done(struct queue_state *st, const char *rcpt);
int queue_mark_done(struct queue_state *st, const char *rcpt, struct err *e);

/* One recipient's fate for a bounce. */
struct queue_dsn_rcpt {
	const char *addr;
	const char *status;	/* RFC 3463 code, e.g. "5.1.1" */
	const char *diag;	/* the server's reply, or our reason */
};

/*
 * Write an RFC 3464 delivery status notification (multipart/report; report-type=
 * delivery-status, RFC 6522) about the queued message in `it` to fd: a human-readable part,
 * the message/delivery-status part and the original header (text/rfc822-headers). from is
 * the address it comes from (e.g. MAILER-DAEMON@host), mta the reporting host name.
 */
int queue_bounce(const struct queue_item *it, const struct queue_dsn_rcpt *r, size_t n,
    const char *from, const char *mta, long long now, int fd, struct err *e);

#endif
