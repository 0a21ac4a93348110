/* submit.c — one message to the server or the queue (see submit.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "cli.h"
#include "io.h"
#include "maildir.h"
#include "msg.h"
#include "submit.h"

void
submit_log_line(struct submit_log *l, const char *from, const struct smtp_rcpt *r, size_t n,
    unsigned long long size, const char *status, const char *why)
{
	struct buf b = BUF_INIT, p = BUF_INIT;
	size_t i;

	buf_addf(&b, "from=<%s> to=", from);
	for (i = 0; i < n && b.len < 900; i++)
		buf_addf(&b, "%s<%s>", i ? "," : "", r[i].addr);
	if (i < n)
		buf_addf(&b, ",... (%zu in all)", n);
	buf_addf(&b, " size=%llu status=%s (%s)", size, status, why);
	if (b.p == NULL)
		return;
	/* Addresses and replies come from outside: no control characters into a log. */
	buf_add_printable(&p, b.p, b.len);
	if (p.p == NULL) {
		buf_free(&b);
		return;
	}
	syslog(LOG_INFO, "%s", p.p);
	if (l->verbose)
		fprintf(stderr, "%s: %s\n", l->tag, p.p);
	if (l->fd >= 0) {
		struct buf f = BUF_INIT;
		char date[64];
		time_t t = (time_t)queue_now();
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", &tm);
		buf_addf(&f, "%s %s[%ld]: %s\n", date, l->tag, (long)getpid(), p.p);
		/* One write(2) per line on an O_APPEND file: lines of concurrent runs never
		 * interleave. */
		if (f.p == NULL || io_write_all(l->fd, f.p, f.len) != 0) {
			if (!l->warned)
				fprintf(stderr, "%s: cannot write the log file %s: %s\n", l->tag, l->file,
				    strerror(errno));
			l->warned = 1;
		}
		buf_free(&f);
	}
	buf_free(&b);
	buf_free(&p);
}

void
submit_init(struct submit_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->conn.fd = -1;
}

void
submit_done(struct submit_cfg *c)
{
	if (c->conn_up)
		smtp_close(&c->conn);
	c->conn_up = 0;
	free(c->conn_key);
	c->conn_key = NULL;
}

void
submit_queue_dir(const struct conf *conf, const char *given, const char *account, char *out,
    size_t cap)
{
	const char *q = given ? given : conf_get(conf, account, "queue");
	const char *s = getenv("XDG_STATE_HOME"), *h = getenv("HOME");

	if (q != NULL)
		snprintf(out, cap, "%s", q);
	else if (s != NULL && *s == '/')
		snprintf(out, cap, "%s/secmail/queue", s);
	else
		snprintf(out, cap, "%s/.local/state/secmail/queue", h ? h : "");
}

void
submit_sched(const struct conf *conf, const char *account, struct queue_sched *s)
{
	static const char *keys[] = { "retry_first", "retry_max", "give_up" };
	long long *dst[] = { &s->first, &s->max, &s->give_up };
	size_t i;

	queue_sched_default(s);
	for (i = 0; i < 3; i++) {
		const char *v = conf_get(conf, account, keys[i]);
		long long n;

		if (v != NULL && (n = cli_number(v, 100LL * 365 * 86400)) > 0)
			*dst[i] = n;
	}
}

/* The caller's warning channel: standard error, unless -oeq. */
static void
say(const struct submit_cfg *c, const char *fmt, ...) ERR_PRINTF(2, 3);
static void
say(const struct submit_cfg *c, const char *fmt, ...)
{
	char m[1200];
	va_list ap;

	if (c->errors == SUBMIT_ERR_QUIET)
		return;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	cli_warn("%s", m);
}

/* A recipient as written (an addr-spec, or a bare local name) into the envelope. */
static int
add_recipient(const struct submit_cfg *c, const struct addr *a, struct rcptset *out,
    struct err *e)
{
	struct buf b = BUF_INIT;
	char *s;
	int rc;

	if (a->domain != NULL)
		return rcptset_add(out, a->spec, e);
	if (!c->no_alias)
		return aliases_expand(c->aliases, a->spec, c->domain, out, e);
	buf_addf(&b, "%s@%s", a->spec, c->domain);
	if ((s = buf_take(&b, e)) == NULL)
		return -1;
	rc = rcptset_add(out, s, e);
	free(s);
	return rc;
}

static int
add_list(const struct submit_cfg *c, const char *value, struct rcptset *out, struct err *e)
{
	struct addr_list l = { NULL, 0, 0 };
	size_t i;

	if (addr_parse_bare(value, &l, e) != 0) {
		addr_list_free(&l);	/* it may hold the array, without entries */
		return -1;
	}
	for (i = 0; i < l.n; i++)
		if (add_recipient(c, &l.v[i], out, e) != 0) {
			addr_list_free(&l);
			return -1;
		}
	addr_list_free(&l);
	return 0;
}

/* What a bare name becomes in the header and as a sender: its alias when that is one
 * address, else name@domain. */
static char *
complete_name(const struct submit_cfg *c, const char *name, struct err *e)
{
	struct buf b = BUF_INIT;

	if (!c->no_alias)
		return aliases_header(c->aliases, name, c->domain, e);
	buf_addf(&b, "%s@%s", name, c->domain);
	return buf_take(&b, e);
}

/*
 * Rewrite the bare names of an address field in place ("root (Cron Daemon)" becomes
 * "admin@example.org (Cron Daemon)"): the rest of the field, display names and comments,
 * stays as written. msmtp rewrites only the envelope; a reader needs the header too.
 */
static int
rewrite_field(const struct submit_cfg *c, struct msg_header *h, size_t i, struct err *e)
{
	struct addr_list l = { NULL, 0, 0 };
	struct buf b = BUF_INIT;
	const char *v = h->f[i].value;
	char *name = NULL, *nv = NULL;
	size_t k, at = 0, bare = 0;
	int rc = -1;

	if (addr_parse_bare(v, &l, e) != 0) {
		addr_list_free(&l);
		return err_wrap(e, "%s", h->f[i].name);
	}
	for (k = 0; k < l.n; k++)
		bare += l.v[k].domain == NULL;
	if (bare == 0) {
		addr_list_free(&l);
		return 0;
	}
	for (k = 0; k < l.n; k++) {
		char *s;

		if (l.v[k].domain != NULL)
			continue;
		if ((s = complete_name(c, l.v[k].spec, e)) == NULL)
			goto out;
		buf_add(&b, v + at, l.v[k].local_start - at);
		buf_adds(&b, s);
		free(s);
		at = l.v[k].local_end;
	}
	buf_adds(&b, v + at);
	if ((nv = buf_take(&b, e)) == NULL || (name = strdup(h->f[i].name)) == NULL) {
		if (name == NULL && nv != NULL)
			err_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	msg_header_delete(h, i);
	if (msg_header_insert(h, i, name, nv, e) != 0)
		goto out;
	rc = 0;
out:
	free(name);
	free(nv);
	buf_free(&b);
	addr_list_free(&l);
	return rc;
}

/* The first mailbox of a field, completed when bare; NULL if none. */
static int
first_addr(const struct submit_cfg *c, const struct msg_header *h, const char *field, char **out,
    struct err *e)
{
	const struct msg_field *f = msg_header_get(h, field);
	struct addr_list l = { NULL, 0, 0 };

	*out = NULL;
	if (f == NULL)
		return 0;
	if (addr_parse_bare(f->value, &l, e) != 0) {
		addr_list_free(&l);
		return err_wrap(e, "%s", field);
	}
	if (l.n > 0) {
		*out = l.v[0].domain ? strdup(l.v[0].spec) : complete_name(c, l.v[0].spec, e);
		if (*out == NULL) {
			addr_list_free(&l);
			return e->code ? -1 : err_set(e, EX_OSERR, "out of memory");
		}
	}
	addr_list_free(&l);
	return 0;
}

/* The account whose 'from' matches the message's From address, else the default. */
static const char *
pick_account(const struct submit_cfg *c, const char *from)
{
	size_t i;

	if (c->account != NULL)
		return c->account;
	if (from != NULL)
		for (i = 1; i < c->conf->n; i++) {
			const char *f = conf_get(c->conf, c->conf->s[i].name, "from");

			if (f != NULL && addr_spec_eq(f, from))
				return c->conf->s[i].name;
		}
	return c->conf->default_account;
}

/* RFC 5321 §2.3.8: a CR inside a header field that a server would take for a line end. */
static const char *
bare_cr_field(const struct msg_header *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		const char *p = h->f[i].raw, *end = p + h->f[i].rawlen;

		while ((p = memchr(p, '\r', (size_t)(end - p))) != NULL)
			if (++p >= end || *p != '\n')
				return h->f[i].name;
	}
	return NULL;
}

/* Everything about one message that the steps below share. */
struct job {
	struct submit_cfg *c;
	struct account acct;
	const char *account;
	char *from;
	struct rcptset rcpt;
	struct smtp_rcpt *r;
	struct smtp_scan sc;
	int fd;
	const char *notify, *ret, *envid;
	char server[300];
	struct maildir_copy copy;
	char qdir[4096];
};

/* Queue for the recipients whose code is not final (all when code is 0); due at `next`. */
static int
enqueue(struct job *j, long long next, int attempts, const char *why, struct submit_result *r,
    struct err *e)
{
	struct queue q;
	struct queue_env env;
	struct queue_state st;
	size_t i;
	int rc = -1;

	memset(&env, 0, sizeof env);
	memset(&st, 0, sizeof st);
	env.from = j->from;
	env.notify = (char *)j->notify;
	env.ret = (char *)j->ret;
	env.envid = (char *)j->envid;
	env.account = (char *)j->account;
	env.created = queue_now();
	if ((env.rcpt = calloc(j->rcpt.n ? j->rcpt.n : 1, sizeof *env.rcpt)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	for (i = 0; i < j->rcpt.n; i++)
		if (j->r[i].code < 200 || (j->r[i].code >= 400 && j->r[i].code < 500))
			env.rcpt[env.nrcpt++] = (char *)j->r[i].addr;
	if (account_record(&j->acct, &env.set, &env.nset, e) != 0)
		goto out;
	st.attempts = attempts;
	st.next = next;
	snprintf(st.last, sizeof st.last, "%s", why);
	if (queue_open(&q, j->qdir, e) != 0 || lseek(j->fd, 0, SEEK_SET) != 0 ||
	    queue_add(&q, &env, &st, j->fd, r->id, e) != 0) {
		if (e->code == 0)
			err_sys(e, EX_IOERR, "cannot rewind the message");
		err_wrap(e, "cannot queue the message (%s)", why);
		goto out;
	}
	r->queued = 1;
	rc = 0;
out:
	for (i = 0; i < env.nset; i++)
		free(env.set[i]);
	free(env.set);
	free(env.rcpt);
	return rc;
}

/* Open, or reuse, the connection for the account. */
static int
connect_server(struct job *j, struct smtp_opts *o, struct err *e)
{
	struct submit_cfg *c = j->c;
	char *key = account_conn_key(&j->acct);

	if (key == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	if (c->conn_up && !c->conn.broken && c->conn_key && strcmp(c->conn_key, key) == 0) {
		free(key);
		return 0;
	}
	submit_done(c);
	if (smtp_open(&c->conn, o, e) != 0) {
		smtp_close(&c->conn);
		free(key);
		return -1;
	}
	c->conn_up = 1;
	c->conn_key = key;
	return 0;
}

/* "550 5.1.1 text" → "5.1.1" (RFC 3463); without an enhanced code, "5.0.0". */
static const char *
enhanced(const char *reply, char *out, size_t cap)
{
	int a, b, d, n = 0;

	if (strlen(reply) > 4 && sscanf(reply + 4, "%1d.%3d.%3d%n", &a, &b, &d, &n) == 3 && n > 0 &&
	    a == 5)
		snprintf(out, cap, "%d.%d.%d", a, b, d);
	else
		snprintf(out, cap, "5.0.0");
	return out;
}

/*
 * -oem/-oee: report recipients the server refused for good to the sender, as an RFC 3464
 * notification, over the same connection when it still works, else through the queue.
 */
static void
mail_back(struct job *j, const char *why)
{
	struct queue_item it;
	struct queue_dsn_rcpt *d;
	char (*st)[16];
	struct smtp_rcpt br;
	struct smtp_env env;
	struct smtp_scan sc;
	struct smtp_result res;
	struct err e;
	char host[256], daemon[300];
	size_t i, n = 0;
	int fd = -1;

	if (j->from[0] == '\0' || (d = calloc(j->rcpt.n, sizeof *d)) == NULL)
		return;
	if ((st = calloc(j->rcpt.n, sizeof *st)) == NULL) {
		free(d);
		return;
	}
	for (i = 0; i < j->rcpt.n; i++)
		if (j->r[i].code >= 500 || j->r[i].code == 0) {
			d[n].addr = j->r[i].addr;
			d[n].status = enhanced(j->r[i].reply, st[n], sizeof st[n]);
			d[n].diag = j->r[i].code ? j->r[i].reply : why;
			n++;
		}
	memset(&it, 0, sizeof it);
	it.fd = j->fd;
	it.env.from = j->from;
	it.env.envid = (char *)j->envid;
	it.env.created = queue_now();
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(daemon, sizeof daemon, "MAILER-DAEMON@%s", j->c->domain);
	if (n == 0 || (fd = io_spool(&e)) < 0 ||
	    queue_bounce(&it, d, n, daemon, host, queue_now(), fd, &e) != 0 ||
	    lseek(fd, 0, SEEK_SET) != 0 || smtp_scan(fd, &sc, &e) != 0)
		goto out;
	memset(&br, 0, sizeof br);
	br.addr = j->from;
	memset(&env, 0, sizeof env);
	env.from = "";		/* RFC 5321 §4.5.5 */
	env.rcpt = &br;
	env.nrcpt = 1;
	if (j->c->conn_up && !j->c->conn.broken &&
	    smtp_send(&j->c->conn, &env, fd, &sc, &res, &e) == 0) {
		submit_log_line(j->c->log, "", &br, 1, sc.size, "sent", res.reply);
	} else {
		/* Queue it; the next flush sends it. */
		struct queue q;
		struct queue_env qe;
		char *rc1[1] = { j->from }, id[128];

		memset(&qe, 0, sizeof qe);
		qe.from = "";
		qe.rcpt = rc1;
		qe.nrcpt = 1;
		qe.created = queue_now();
		if (account_record(&j->acct, &qe.set, &qe.nset, &e) == 0 &&
		    queue_open(&q, j->qdir, &e) == 0 && lseek(fd, 0, SEEK_SET) == 0)
			(void)queue_add(&q, &qe, NULL, fd, id, &e);
		for (i = 0; i < qe.nset; i++)
			free(qe.set[i]);
		free(qe.set);
	}
out:
	if (fd >= 0)
		close(fd);
	free(st);
	free(d);
}

/* Read, complete and spool the message; work out the envelope. 0; 1 when there is no one
 * to send it to and that is allowed (no_rcpt_ok); -1 with the reason in e. */
static int
prepare(struct job *j, int infd, char *const *args, size_t nargs, const struct submit_env *env,
    struct err *e)
{
	struct submit_cfg *c = j->c;
	static const char *addr_fields[] = { "To", "Cc", "Bcc", "From", "Sender", "Reply-To",
	    "Resent-To", "Resent-Cc", "Resent-Bcc", "Resent-From", "Resent-Sender" };
	static const char *resent_rcpt[] = { "Resent-To", "Resent-Cc", "Resent-Bcc" };
	struct io_in in;
	struct msg_header h;
	const char *bad, *cf;
	char *hfrom = NULL;
	size_t i, k;
	int rc = -1;

	msg_header_init(&h);
	if (io_in_init(&in, infd, "standard input", e) != 0)
		return -1;
	if (msg_header_read(&in, &h, e) != 0)
		goto out;
	if (h.bytes == 0 && io_in_fill(&in, 1) == 0) {
		err_set(e, EX_NOINPUT, "empty message: nothing to send");
		goto out;
	}
	if ((bad = bare_cr_field(&h)) != NULL) {
		/* A bare CR inside a field would be a line break for a server that normalises
		 * it (RFC 5321 §2.3.8) but not for us: a field smuggled past our reading. */
		err_set(e, EX_DATAERR, "header field %s: a CR that does not end a line", bad);
		goto out;
	}
	/* The envelope first, from the fields as written (an alias to many addresses
	 * expands in full here, while the header shows one name). */
	if (env != NULL && env->rcpt != NULL) {
		for (i = 0; i < env->rcpt->n; i++)
			if (add_list(c, env->rcpt->v[i], &j->rcpt, e) != 0) {
				err_wrap(e, "recipient %s", env->rcpt->v[i]);
				goto out;
			}
	} else {
		const char **rf = msg_is_resent(&h) ? resent_rcpt : addr_fields;

		if (c->use_fields || nargs == 0)
			for (k = 0; k < 3; k++)
				for (i = msg_header_next(&h, rf[k], 0); i != (size_t)-1;
				    i = msg_header_next(&h, rf[k], i + 1))
					if (add_list(c, h.f[i].value, &j->rcpt, e) != 0) {
						err_wrap(e, "%s", rf[k]);
						goto out;
					}
		for (i = 0; i < nargs; i++)
			if (add_list(c, args[i], &j->rcpt, e) != 0) {
				err_wrap(e, "recipient argument");
				goto out;
			}
	}
	if (rcptset_unique(&j->rcpt, e) != 0)
		goto out;
	if (j->rcpt.n == 0) {
		if (c->no_rcpt_ok) {
			rc = 1;
			goto out;
		}
		err_set(e, EX_USAGE, "no recipients: give them as arguments or in To, Cc or Bcc");
		goto out;
	}
	if (!c->gateway)
		for (i = 0; i < h.n; i++)
			for (k = 0; k < sizeof addr_fields / sizeof addr_fields[0]; k++)
				if (strcasecmp(h.f[i].name, addr_fields[k]) == 0 &&
				    rewrite_field(c, &h, i, e) != 0)
					goto out;
	if (first_addr(c, &h, "From", &hfrom, e) != 0)
		goto out;
	j->account = pick_account(c, hfrom);
	if (account_resolve(&j->acct, c->conf, j->account, c->cli, e) != 0)
		goto out;
	cf = conf_get(c->conf, j->account, "from");
	if (env != NULL && env->from != NULL) {
		/* -bs: "MAIL FROM:<root>" is a bare name too */
		j->from = env->from[0] != '\0' && strchr(env->from, '@') == NULL ?
		    complete_name(c, env->from, e) : strdup(env->from);
	} else if (c->from != NULL && (c->from[0] == '\0' || strcmp(c->from, "<>") == 0)) {
		j->from = strdup("");	/* -f '<>': the null sender, as for a notification */
	} else if (c->from != NULL) {
		struct addr_list l = { NULL, 0, 0 };

		/* -f root: a bare name too */
		if (addr_parse_bare(c->from, &l, e) != 0) {
			addr_list_free(&l);
			err_wrap(e, "-f");
			goto out;
		}
		if (l.n != 1) {
			err_set(e, EX_USAGE, "-f must be one address, not %s", c->from);
			addr_list_free(&l);
			goto out;
		}
		j->from = l.v[0].domain ? strdup(l.v[0].spec) : complete_name(c, l.v[0].spec, e);
		addr_list_free(&l);
	} else if (cf != NULL) {
		j->from = strdup(cf);
	} else if (first_addr(c, &h, "Sender", &j->from, e) != 0) {
		goto out;
	} else if (j->from == NULL && hfrom != NULL) {
		j->from = strdup(hfrom);
	}
	if (j->from == NULL) {
		err_set(e, e->code == EX_OSERR ? EX_OSERR : EX_USAGE, "no sender: give -f or a From "
		    "field");
		goto out;
	}
	msg_header_remove(&h, "Bcc");	/* RFC 5322 §3.6.3: Bcc recipients stay hidden */
	msg_header_remove(&h, "Resent-Bcc");	/* §3.6.6: the same for a re-sent message */
	free(h.mbox_from);		/* an mbox "From " line is not part of the message */
	h.mbox_from = NULL;
	if (!c->gateway && (msg_complete_submission(&h, j->from, c->fullname,
	    (time_t)queue_now(), e) != 0 || msg_complete_resent(&h, j->from, c->fullname,
	    (time_t)queue_now(), e) != 0))
		goto out;
	if ((j->fd = msg_spool(&in, &h, e)) < 0)
		goto out;
	if (smtp_scan(j->fd, &j->sc, e) != 0)
		goto out;
	if ((j->r = calloc(j->rcpt.n, sizeof *j->r)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	for (i = 0; i < j->rcpt.n; i++)
		j->r[i].addr = j->rcpt.v[i];
	rc = 0;
out:
	free(hfrom);
	io_in_free(&in);
	msg_header_free(&h);
	return rc;
}

/* The message could not be submitted: say so per -oeX, and the status. */
static void
failed(struct job *j, const struct err *e, struct submit_result *r)
{
	r->status = e->code ? e->code : EX_SOFTWARE;
	snprintf(r->reply, sizeof r->reply, "%s", e->msg);
	say(j->c, "%s", e->msg);
}

int
submit_message(struct submit_cfg *c, int infd, char *const *args, size_t nargs,
    const struct submit_env *env, struct submit_result *r, struct err *e)
{
	struct job j;
	struct smtp_opts o;
	struct smtp_env se;
	struct smtp_result res;
	struct queue_sched sch;
	struct err se_err;
	const char *keep;
	size_t i, nref = 0, ntemp = 0;
	int rc;

	memset(r, 0, sizeof *r);
	memset(&j, 0, sizeof j);
	j.c = c;
	j.fd = -1;
	j.notify = env && env->notify ? env->notify : c->notify;
	j.ret = env && env->ret ? env->ret : c->ret;
	j.envid = env && env->envid ? env->envid : c->envid;
	account_init(&j.acct);
	err_clear(e);
	if ((rc = prepare(&j, infd, args, nargs, env, e)) != 0) {
		if (rc < 0)
			failed(&j, e, r);
		else
			snprintf(r->reply, sizeof r->reply, "no recipients: nothing sent");
		goto done;
	}
	submit_queue_dir(c->conf, c->queue_dir, j.account, j.qdir, sizeof j.qdir);
	submit_sched(c->conf, j.account, &sch);
	/* The kept copy is written before anything is sent, so that all that remains after
	 * the server's acceptance is a rename: a copy that cannot be written stops the send. */
	keep = c->sent_maildir ? c->sent_maildir : conf_get(c->conf, j.account, "sent_maildir");
	if (keep != NULL && maildir_prepare(&j.copy, keep, j.fd, e) != 0) {
		failed(&j, e, r);
		goto done;
	}
	if (c->queue_only) {
		/* -odq: due at once; the next flush sends it. */
		if (enqueue(&j, queue_now(), 0, "queued without an attempt (--queue-only)", r, e) != 0) {
			failed(&j, e, r);
			goto done;
		}
		submit_log_line(c->log, j.from, j.r, j.rcpt.n, j.sc.size, "queued", r->id);
		r->status = c->queued_exit;
		goto done;
	}
	memset(&se, 0, sizeof se);
	se.from = j.from;
	se.rcpt = j.r;
	se.nrcpt = j.rcpt.n;
	se.notify = j.notify;
	se.ret = j.ret;
	se.envid = j.envid;
	if (account_opts(&j.acct, &o, e) != 0) {
		failed(&j, e, r);
		goto done;
	}
	account_server(&j.acct, &o, j.server, sizeof j.server);
	rc = connect_server(&j, &o, e);
	if (rc == 0)
		rc = smtp_send_all(&c->conn, &se, j.fd, &j.sc, &res, e);
	/* EX_NOUSER: every recipient refused, some perhaps only for now; sorted out below.
	 * EX_PROTOCOL (no STARTTLS, a certificate not trusted, replies that are not SMTP, a
	 * server that cannot prove it knows the password) is deferred as --flush defers it:
	 * nothing was sent, and a caller such as cron throws away what we refuse, so a man in
	 * the middle who strips STARTTLS would otherwise make its mail disappear. */
	if (rc != 0 && e->code != EX_NOUSER) {
		int code = e->code, temp = code == EX_TEMPFAIL || code == EX_PROTOCOL;

		submit_log_line(c->log, j.from, j.r, j.rcpt.n, j.sc.size,
		    temp ? "deferred" : "failed", e->msg);
		if (!temp) {
			if (c->errors >= SUBMIT_ERR_MAIL && (code == EX_UNAVAILABLE ||
			    code == EX_DATAERR)) {
				for (i = 0; i < j.rcpt.n; i++)
					j.r[i].code = 0;
				mail_back(&j, e->msg);
			}
			failed(&j, e, r);
			if (c->errors == SUBMIT_ERR_MAIL_ZERO)
				r->status = 0;
			goto done;
		}
		if (c->no_queue) {
			failed(&j, e, r);
			goto done;
		}
		for (i = 0; i < j.rcpt.n; i++)
			j.r[i].code = 0;	/* nothing was delivered: queue every recipient */
		se_err = *e;
		if (enqueue(&j, queue_next(&sch, queue_now(), 1, queue_now()), 1, se_err.msg, r,
		    e) != 0) {
			failed(&j, e, r);
			goto done;
		}
		snprintf(r->reply, sizeof r->reply, "%s", se_err.msg);
		say(c, "queued as %s: %s", r->id, se_err.msg);
		r->status = c->queued_exit;
		if (j.copy.ready && maildir_commit(&j.copy, e) != 0)
			say(c, "%s", e->msg);
		goto done;
	}
	if (rc != 0) {
		submit_log_line(c->log, j.from, j.r, j.rcpt.n, j.sc.size, "refused", e->msg);
		snprintf(r->reply, sizeof r->reply, "%s", e->msg);
	} else {
		if (res.dsn_ignored)
			say(c, "%s does not offer DSN: --notify, --ret and --envid were not passed on",
			    o.host);
		submit_log_line(c->log, j.from, j.r, j.rcpt.n, res.size, "sent", res.reply);
		snprintf(r->reply, sizeof r->reply, "%s", res.reply);
		if (c->receipt != NULL && smtp_write_receipt(c->receipt, &c->conn, j.server, j.from,
		    j.r, j.rcpt.n, &res, queue_now(), e) != 0)
			say(c, "the message was sent, but the receipt was not written: %s", e->msg);
	}
	{
		struct buf ref = BUF_INIT;

		for (i = 0; i < j.rcpt.n; i++) {
			if (j.r[i].code >= 500 || j.r[i].code < 200) {
				if (nref++ < 20)
					buf_addf(&ref, "%s<%s> (%s)", nref > 1 ? ", " : "", j.r[i].addr,
					    j.r[i].reply);
			} else if (j.r[i].code >= 400) {
				ntemp++;
			}
		}
		if (nref > 20)
			buf_addf(&ref, " and %zu more", nref - 20);
		if (ntemp > 0) {
			if (c->no_queue) {
				say(c, "%zu recipient%s deferred and not queued (--no-queue)", ntemp,
				    ntemp == 1 ? "" : "s");
				r->status = EX_TEMPFAIL;
			} else if (enqueue(&j, queue_next(&sch, queue_now(), 1, queue_now()), 1,
			    "some recipients were deferred", r, e) != 0) {
				failed(&j, e, r);
			} else {
				say(c, "queued as %s: %zu recipient%s deferred", r->id, ntemp,
				    ntemp == 1 ? "" : "s");
				r->status = c->queued_exit;
			}
		}
		if (nref > 0) {
			say(c, "recipients refused: %s", ref.p ? ref.p : "");
			r->status = EX_NOUSER;
			if (c->errors >= SUBMIT_ERR_MAIL) {
				mail_back(&j, "refused");
				if (c->errors == SUBMIT_ERR_MAIL_ZERO)
					r->status = 0;
			}
		}
		buf_free(&ref);
	}
	if (rc == 0 || ntemp > 0) {
		if (j.copy.ready && maildir_commit(&j.copy, e) != 0)
			say(c, "the message was sent, but the copy was not kept: %s", e->msg);
	}
done:
	maildir_abort(&j.copy);
	if (j.fd >= 0)
		close(j.fd);
	free(j.r);
	free(j.from);
	rcptset_free(&j.rcpt);
	account_free(&j.acct);
	return 0;
}
