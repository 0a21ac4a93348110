/* deliver.h — the queue runner behind `mailsend --flush`: retry the due messages over one
 * connection per account, bounce (RFC 3464) what fails for good, keep in failed/ what cannot
 * be bounced either. Policy lives here; the caller supplies configuration and logging. */
#ifndef SECMAIL_DELIVER_H
#define SECMAIL_DELIVER_H

#include <stddef.h>

#include "err.h"
#include "queue.h"
#include "smtp.h"

struct deliver_ops {
	void *ctx;
	/* Open a session for an account (NULL: the defaults). */
	int (*open)(void *ctx, const char *account, struct smtp *s, struct err *e);
	/* The retry schedule of an account. */
	void (*sched)(void *ctx, const char *account, struct queue_sched *s);
	/* One line per attempt; status is "sent", "deferred", "bounced" or "failed". */
	void (*log)(void *ctx, const char *from, const struct smtp_rcpt *r, size_t n,
	    unsigned long long size, const char *status, const char *why);
	/* A problem with one message that does not stop the run. */
	void (*warn)(void *ctx, const char *id, const char *msg);
};

/*
 * One pass over the queue: every message that is due at `now` (or every one with force) is
 * locked and offered to its server. Per recipient: accepted → done; refused with 5xx →
 * bounced; 4xx or no connection → retried later per the schedule, until the schedule gives
 * up (bounce with status 4.4.7). A bounce goes to the envelope sender with MAIL FROM:<>;
 * when it cannot be sent, the recipients stay queued (if others are pending) or the message
 * moves to failed/. Returns -1 only on errors that stop the run (the queue unreadable, out
 * of memory).
 */
int deliver_flush(struct queue *q, const struct deliver_ops *ops, int force, long long now,
    struct err *e);

#endif
