/* deliver.h — the queue runner behind `mailsend --flush`: retry the due messages over one
 * connection per server and login, bounce (RFC 3464) what fails for good, keep in failed/
 * what cannot be bounced either, and say what was left. Policy lives here; the caller
 * supplies the settings of each entry, the schedule and the log. */
#ifndef SECMAIL_DELIVER_H
#define SECMAIL_DELIVER_H

#include <stddef.h>

#include "err.h"
#include "queue.h"
#include "smtp.h"

struct deliver_ops {
	void *ctx;
	/* A key that identifies the server and login of an entry: entries with equal keys
	 * share a connection. NULL with e set when the entry cannot be sent as it is (its
	 * account is gone, its settings are bad): it stays queued and is reported. */
	char *(*conn_key)(void *ctx, const struct queue_item *it, struct err *e);
	/* Open a session for an entry (its settings, over the command line's). */
	int (*open)(void *ctx, const struct queue_item *it, struct smtp *s, struct err *e);
	/* The retry schedule of an entry. */
	void (*sched)(void *ctx, const struct queue_item *it, struct queue_sched *s);
	/* One line per attempt; status is "sent", "deferred", "bounced" or "failed". */
	void (*log)(void *ctx, const char *from, const struct smtp_rcpt *r, size_t n,
	    unsigned long long size, const char *status, const char *why);
	/* One line about one message: what could not be delivered, and why. */
	void (*report)(void *ctx, const char *id, const char *msg);
};

/* What a run did. */
struct deliver_stats {
	size_t sent;		/* entries whose every recipient was served */
	size_t deferred;	/* due entries left in the queue (temporary failures) */
	size_t bounced;		/* entries with recipients bounced (a notification sent) */
	size_t failed;		/* entries moved to failed/ */
	size_t unusable;	/* entries that could not be read or sent as they are */
	size_t missing;		/* IDs asked for that are not in the queue */
};

/*
 * One pass over the queue: every message that is due at `now` (or every one with force, or
 * the ones named in ids when nids > 0, due or not) is locked and offered to its server. Per
 * recipient: accepted → done; refused with 5xx → bounced; 4xx or no connection → retried
 * later per the schedule, until the schedule gives up (bounce with status 4.4.7). A bounce
 * goes to the envelope sender with MAIL FROM:<>; when it cannot be sent, the recipients stay
 * queued (if others are pending) or the message moves to failed/. ops->report gets one line
 * for every message not delivered in full. Returns -1 only on errors that stop the run (the
 * queue unreadable, out of memory).
 */
int deliver_flush(struct queue *q, const struct deliver_ops *ops, char *const *ids, size_t nids,
    int force, long long now, struct deliver_stats *st, struct err *e);

#endif
