/* deliver.c — the queue runner (see deliver.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "io.h"

#define MAX_CONNS 32

/* An open connection per server and login during a run. */
struct conn {
	char *key;		/* ops->conn_key */
	struct smtp s;
	int up;
	struct err e;		/* why it is not up */
};

struct run {
	struct queue *q;
	const struct deliver_ops *ops;
	struct conn c[MAX_CONNS];
	size_t nc;
	long long now;
	struct deliver_stats *st;
};

static void
conn_close(struct conn *x)
{
	if (x->up)
		smtp_close(&x->s);
	x->up = 0;
	free(x->key);
	x->key = NULL;
}

/* The connection for key (taken over), opened for it if needed. */
static struct conn *
get_conn(struct run *r, char *key, const struct queue_item *it)
{
	struct conn *x;
	size_t i;

	for (i = 0; i < r->nc; i++)
		if (strcmp(r->c[i].key, key) == 0)
			break;
	if (i < r->nc && !(r->c[i].up && r->c[i].s.broken)) {
		free(key);
		return &r->c[i];	/* up, or known to be down for this run */
	}
	if (i == r->nc) {
		if (r->nc == MAX_CONNS) {
			for (i = 0; i < r->nc; i++)
				conn_close(&r->c[i]);
			r->nc = 0;
			i = 0;
		}
		r->nc++;
	} else {
		conn_close(&r->c[i]);	/* lost: try once more */
	}
	x = &r->c[i];
	memset(x, 0, sizeof *x);
	x->key = key;
	if (r->ops->open(r->ops->ctx, it, &x->s, &x->e) == 0)
		x->up = 1;
	else
		smtp_close(&x->s);
	return x;
}

/* "550 5.1.1 text" → "5.1.1"; without an enhanced code (RFC 3463), "5.0.0" or "4.0.0". */
static void
status_of(const char *reply, int code, char *out, size_t cap)
{
	const char *p = reply + (strlen(reply) > 4 ? 4 : strlen(reply));
	int a, b, d, n = 0;

	if (sscanf(p, "%1d.%3d.%3d%n", &a, &b, &d, &n) == 3 && n > 0 && a == code / 100)
		snprintf(out, cap, "%d.%d.%d", a, b, d);
	else
		snprintf(out, cap, "%d.0.0", code >= 400 && code < 500 ? 4 : 5);
}

/* Recipients to report in a bounce. */
struct bounced {
	struct queue_dsn_rcpt *v;
	char (*status)[16];
	char (*diag)[300];
	size_t n;
};

static void
bounce_add(struct bounced *b, const char *addr, const char *status, const char *diag)
{
	snprintf(b->status[b->n], sizeof b->status[b->n], "%s", status);
	snprintf(b->diag[b->n], sizeof b->diag[b->n], "%s", diag);
	b->v[b->n].addr = addr;
	b->v[b->n].status = b->status[b->n];
	b->v[b->n].diag = b->diag[b->n];
	b->n++;
}

/* Send a bounce for it to its sender over x; 0 if the server took it. */
static int
send_bounce(struct run *run, struct conn *x, struct queue_item *it, const struct bounced *b,
    struct err *e)
{
	char host[200], daemon[300];
	struct smtp_rcpt r;
	struct smtp_env env;
	struct smtp_scan sc;
	struct smtp_result res;
	int fd, rc;

	if (it->env.from[0] == '\0')
		return err_set(e, EX_UNAVAILABLE, "a bounce is never bounced");
	if (!x->up)
		return err_set(e, x->e.code, "%s", x->e.msg);
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(daemon, sizeof daemon, "MAILER-DAEMON@%s", host);
	if ((fd = io_spool(e)) < 0)
		return -1;
	if (queue_bounce(it, b->v, b->n, daemon, host, run->now, fd, e) != 0 ||
	    lseek(fd, 0, SEEK_SET) != 0 || smtp_scan(fd, &sc, e) != 0) {
		close(fd);
		return -1;
	}
	memset(&r, 0, sizeof r);
	r.addr = it->env.from;
	memset(&env, 0, sizeof env);
	env.from = "";		/* RFC 5321 §4.5.5: notifications use the null reverse-path */
	env.rcpt = &r;
	env.nrcpt = 1;
	rc = smtp_send(&x->s, &env, fd, &sc, &res, e);
	run->ops->log(run->ops->ctx, "", &r, 1, sc.size, rc == 0 ? "sent" : "failed",
	    rc == 0 ? res.reply : e->msg);
	close(fd);
	return rc;
}

static void
report(struct run *run, const char *id, const char *fmt, ...) ERR_PRINTF(3, 4);
static void
report(struct run *run, const char *id, const char *fmt, ...)
{
	char m[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	run->ops->report(run->ops->ctx, id, m);
}

/* "<a>, <b> and 3 more" for a report line. */
static void
rcpt_list(const struct queue_dsn_rcpt *v, size_t n, char *out, size_t cap)
{
	size_t i, k = 0;

	out[0] = '\0';
	for (i = 0; i < n && i < 3; i++)
		k += (size_t)snprintf(out + k, k < cap ? cap - k : 0, "%s<%s>", i ? ", " : "",
		    v[i].addr);
	if (n > 3 && k < cap)
		snprintf(out + k, cap - k, " and %zu more", n - 3);
}

static void
when(long long t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Offer one locked message to its server and record the outcome. */
static int
flush_one(struct run *run, struct queue_item *it, char *key, struct err *fatal)
{
	struct conn *x = get_conn(run, key, it);
	struct smtp_rcpt *r;
	struct smtp_env env;
	struct smtp_scan sc;
	struct smtp_result res;
	struct queue_sched sch;
	struct bounced b;
	struct err e;
	size_t i, n = 0, left = 0, nb = it->env.nrcpt;
	char st[16];
	int rc = -1, permanent = 0, ret = -1;

	memset(&b, 0, sizeof b);
	r = calloc(nb, sizeof *r);
	b.v = calloc(nb, sizeof *b.v);
	b.status = calloc(nb, sizeof *b.status);
	b.diag = calloc(nb, sizeof *b.diag);
	if (r == NULL || b.v == NULL || b.status == NULL || b.diag == NULL) {
		err_set(fatal, EX_OSERR, "out of memory");
		goto out;
	}
	for (i = 0; i < it->env.nrcpt; i++)
		if (!queue_is_done(&it->st, it->env.rcpt[i]))
			r[n++].addr = it->env.rcpt[i];
	memset(&env, 0, sizeof env);
	env.from = it->env.from;
	env.rcpt = r;
	env.nrcpt = n;
	env.notify = it->env.notify;
	env.ret = it->env.ret;
	env.envid = it->env.envid;
	sc.size = 0;
	if (!x->up) {
		e = x->e;
	} else if (smtp_scan(it->fd, &sc, &e) != 0) {
		permanent = 1;		/* a queued message that can never be sent as it is */
	} else {
		rc = smtp_send_all(&x->s, &env, it->fd, &sc, &res, &e);
		/* A refusal by a working server is final; a lost connection or a garbled
		 * reply may pass. */
		if (rc != 0 && e.code != EX_TEMPFAIL && e.code != EX_PROTOCOL &&
		    e.code != EX_NOUSER && !x->s.broken)
			permanent = 1;	/* EX_NOUSER: each recipient's own reply decides */
	}
	run->ops->log(run->ops->ctx, env.from, r, n, rc == 0 ? res.size : sc.size,
	    rc == 0 ? "sent" : permanent ? "bounced" : "deferred", rc == 0 ? res.reply : e.msg);
	/* Delivered recipients are done whatever happens next. */
	for (i = 0; i < n; i++)
		if (rc == 0 && r[i].code >= 200 && r[i].code < 300 &&
		    queue_mark_done(&it->st, r[i].addr, fatal) != 0)
			goto out;
	for (i = 0; i < n; i++) {
		if (rc == 0 && r[i].code >= 200 && r[i].code < 300)
			continue;
		if (r[i].code >= 500) {	/* refused for good, even if the transaction failed later */
			status_of(r[i].reply, r[i].code, st, sizeof st);
			bounce_add(&b, r[i].addr, st, r[i].reply);
		} else if (permanent) {
			bounce_add(&b, r[i].addr, "5.0.0", e.msg);
		} else {
			left++;
		}
	}
	if (left > 0) {
		run->ops->sched(run->ops->ctx, it, &sch);
		it->st.attempts++;
		snprintf(it->st.last, sizeof it->st.last, "%s", rc == 0 ? "recipient deferred" : e.msg);
		it->st.next = queue_next(&sch, it->env.created, it->st.attempts, run->now);
		if (it->st.next < 0) {
			/* RFC 5321 §4.5.4.1: give up; RFC 3463 4.4.7: delivery time expired */
			for (i = 0; i < n; i++)
				if (!queue_is_done(&it->st, r[i].addr) && r[i].code < 500)
					bounce_add(&b, r[i].addr, "4.4.7", it->st.last);
			left = 0;
		}
	}
	/* Those delivered are on disk before the bounce is tried: a crash while it is being
	 * sent must not bring them the message again. */
	if (b.n > 0 && rc == 0 && it->st.ndone > 0 && queue_save_state(run->q, it, &e) != 0)
		report(run, it->id, "%s", e.msg);
	if (b.n > 0) {
		char who[300];
		struct err be;

		rcpt_list(b.v, b.n, who, sizeof who);
		if (send_bounce(run, x, it, &b, &be) == 0) {
			for (i = 0; i < b.n; i++)
				if (queue_mark_done(&it->st, b.v[i].addr, fatal) != 0)
					goto out;
			run->st->bounced++;
			report(run, it->id, "not delivered to %s (%s); a delivery status notification "
			    "went to <%s>", who, b.v[0].diag, it->env.from);
		} else if (left == 0) {
			report(run, it->id, "not delivered to %s (%s); the notification could not be "
			    "sent either (%s): kept in failed/", who, b.v[0].diag, be.msg);
			if (queue_fail(run->q, it, &e) != 0)
				report(run, it->id, "%s", e.msg);
			run->st->failed++;
			ret = 0;
			goto out;
		} else {
			/* Others are still pending: keep the refused ones queued too, so the
			 * next attempt finds them refused again and bounces them then. */
			report(run, it->id, "refused for %s (%s); bounce not sent (%s): will try again",
			    who, b.v[0].diag, be.msg);
		}
	}
	if (left > 0) {
		char next[32];

		when(it->st.next, next, sizeof next);
		run->st->deferred++;
		report(run, it->id, "deferred for %zu recipient%s: %s; next attempt %s", left,
		    left == 1 ? "" : "s", it->st.last, next);
		if (queue_save_state(run->q, it, &e) != 0)
			report(run, it->id, "%s", e.msg);
	} else {
		if (b.n == 0)
			run->st->sent++;
		if (queue_remove(run->q, it, &e) != 0)
			report(run, it->id, "%s", e.msg);
	}
	ret = 0;
out:
	free(r);
	free(b.v);
	free(b.status);
	free(b.diag);
	return ret;
}

/* Should this entry be offered now? Named ones always; the others when due or forced. */
static int
wanted(char *const *ids, size_t nids, const char *id, int force, const struct queue_item *it,
    long long now)
{
	size_t i;

	if (nids == 0)
		return force || it->st.next <= now;
	for (i = 0; i < nids; i++)
		if (strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

int
deliver_flush(struct queue *q, const struct deliver_ops *ops, char *const *want, size_t nwant,
    int force, long long now, struct deliver_stats *st, struct err *e)
{
	struct run *run;
	char **ids;
	size_t n, i;
	int rc = 0;

	memset(st, 0, sizeof *st);
	if (queue_clean(q, e) != 0 || queue_list(q, &ids, &n, e) != 0)
		return -1;
	if ((run = calloc(1, sizeof *run)) == NULL) {
		queue_list_free(ids, n);
		return err_set(e, EX_OSERR, "out of memory");
	}
	run->q = q;
	run->ops = ops;
	run->now = now;
	run->st = st;
	for (i = 0; i < nwant; i++) {
		size_t j;

		for (j = 0; j < n && strcmp(ids[j], want[i]) != 0; j++)
			;
		if (j == n) {
			st->missing++;
			report(run, want[i], "no such entry in the queue");
		}
	}
	for (i = 0; i < n && rc == 0; i++) {
		struct queue_item it;
		struct err le;
		char *key;
		int k;

		if (nwant > 0 && !wanted(want, nwant, ids[i], 1, NULL, now))
			continue;
		k = queue_lock(q, ids[i], &it, &le);
		if (k > 0)
			continue;	/* another flush has it, or it is gone */
		if (k < 0) {
			st->unusable++;
			report(run, ids[i], "%s", le.msg);
			continue;
		}
		if (wanted(want, nwant, ids[i], force, &it, now)) {
			if ((key = ops->conn_key(ops->ctx, &it, &le)) == NULL) {
				st->unusable++;
				report(run, it.id, "%s", le.msg);
			} else {
				rc = flush_one(run, &it, key, e);
			}
		}
		queue_item_free(&it);
	}
	for (i = 0; i < run->nc; i++)
		conn_close(&run->c[i]);
	free(run);
	queue_list_free(ids, n);
	return rc;
}
