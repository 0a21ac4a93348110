/* mailsend — submit an RFC 5322 message over SMTP, or queue it when the server cannot take
 * it now; --flush retries the queue, --list shows it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "cli.h"
#include "conf.h"
#include "deliver.h"
#include "io.h"
#include "msg.h"
#include "queue.h"
#include "rcptset.h"
#include "secret.h"
#include "smtp.h"

static const char usage[] =
    "usage: mailsend [-t] [-i] [-f FROM] [-F NAME] [-a ACCOUNT] [options] [RCPT...]\n"
    "       mailsend --flush [--force] [options]\n"
    "       mailsend --list [--queue DIR]\n"
    "\n"
    "Submit the message on standard input over SMTP; queue it if the server cannot take it now.\n"
    "\n"
    "  -a, --account NAME       use this account of the configuration file\n"
    "  -C, --config FILE        read FILE instead of the default configuration\n"
    "  -f, --from ADDR          envelope sender (default: the account's, or From/Sender)\n"
    "  -F NAME                  full name for a From field added when the message has none\n"
    "  -t                       recipients from To, Cc and Bcc (the default without RCPTs)\n"
    "  -i, -oi                  accepted for sendmail compatibility (a lone dot is data)\n"
    "      --server HOST[:PORT] the submission server\n"
    "      --tls MODE           starttls (default), implicit, or none\n"
    "      --tls-trust-file FILE  trust the CA certificates in FILE instead of the system's\n"
    "      --tls-fingerprint HEX  pin the server certificate's SHA-256 fingerprint\n"
    "      --user NAME          authenticate as NAME (SCRAM-SHA-256, PLAIN or LOGIN; TLS only)\n"
    "      --pass-file FILE     read the password from FILE\n"
    "      --pass-fd N          read the password from file descriptor N\n"
    "      --pass-env VAR       read the password from environment variable VAR\n"
    "      --auth-in-clear      allow authentication without TLS\n"
    "      --helo NAME          name to give in EHLO\n"
    "      --timeout SECS       for every SMTP step (default: RFC 5321 section 4.5.3.2)\n"
    "      --notify LIST        DSN: NEVER or SUCCESS,FAILURE,DELAY\n"
    "      --ret FULL|HDRS      DSN: what a bounce returns\n"
    "      --envid ID           DSN: envelope identifier\n"
    "      --queue DIR          the queue directory\n"
    "      --no-queue           fail with EX_TEMPFAIL instead of queueing\n"
    "      --flush              retry the queued messages that are due\n"
    "      --force              with --flush, retry every queued message now\n"
    "      --list               show the queue\n"
    "      --receipt FILE       record the server's acceptance in FILE\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n";

enum {
	O_SERVER = 256, O_TLS, O_TRUST, O_FPR, O_USER, O_PASSFILE, O_PASSFD, O_PASSENV,
	O_CLEAR, O_HELO, O_TIMEOUT, O_NOTIFY, O_RET, O_ENVID, O_QUEUE, O_NOQUEUE, O_FLUSH,
	O_FORCE, O_LIST, O_RECEIPT
};

/* Command-line settings; NULL means "from the configuration". */
struct cli {
	const char *account, *config, *from, *fullname, *server, *tls, *trust, *fpr, *user;
	const char *pass_file, *pass_env, *helo, *timeout, *notify, *ret, *envid, *queue;
	const char *receipt;
	int pass_fd, clear, no_queue, flush, force, list, t;
	struct conf conf;
	struct secret pass;
	int have_pass;
};

/* A setting: command line, else the account's (or defaults') configuration. */
static const char *
setting(const struct cli *c, const char *account, const char *cli_value, const char *key)
{
	return cli_value != NULL ? cli_value : conf_get(&c->conf, account, key);
}

/* Fill smtp_opts for an account. host/port point into the static buffers. */
static int
make_opts(struct cli *c, const char *account, struct smtp_opts *o, char *host, size_t hcap,
    char *port, size_t pcap, struct err *e)
{
	const char *srv = setting(c, account, c->server, "server");
	const char *tls = setting(c, account, c->tls, "tls");
	const char *t = setting(c, account, c->timeout, "timeout");
	const char *v, *colon;

	memset(o, 0, sizeof *o);
	if (srv == NULL)
		return err_set(e, EX_CONFIG, "no server: give --server or set 'server' in the configuration");
	port[0] = '\0';
	if (srv[0] == '[') {	/* [v6addr]:port */
		const char *rb = strchr(srv, ']');

		if (rb == NULL)
			return err_set(e, EX_USAGE, "bad server %s", srv);
		snprintf(host, hcap, "%.*s", (int)(rb - srv - 1), srv + 1);
		if (rb[1] == ':')
			snprintf(port, pcap, "%s", rb + 2);
	} else if ((colon = strrchr(srv, ':')) != NULL && strchr(srv, ':') == colon) {
		snprintf(host, hcap, "%.*s", (int)(colon - srv), srv);
		snprintf(port, pcap, "%s", colon + 1);
	} else {
		snprintf(host, hcap, "%s", srv);
	}
	o->host = host;
	o->port = port[0] ? port : NULL;
	if (tls == NULL || strcmp(tls, "starttls") == 0)
		o->tls = SMTP_TLS_STARTTLS;
	else if (strcmp(tls, "implicit") == 0)
		o->tls = SMTP_TLS_IMPLICIT;
	else if (strcmp(tls, "none") == 0)
		o->tls = SMTP_TLS_NONE;
	else
		return err_set(e, EX_USAGE, "--tls must be starttls, implicit or none, not %s", tls);
	o->trust_file = setting(c, account, c->trust, "tls_trust_file");
	o->fingerprint = setting(c, account, c->fpr, "tls_fingerprint");
	o->helo = setting(c, account, c->helo, "helo");
	o->user = setting(c, account, c->user, "user");
	o->auth = conf_get(&c->conf, account, "auth");
	o->auth_in_clear = c->clear || conf_bool(conf_get(&c->conf, account, "auth_in_clear")) == 1;
	if (t != NULL) {
		long long n = cli_number(t, 86400);

		if (n < 1)
			return err_set(e, EX_USAGE, "bad timeout %s", t);
		o->timeout = (int)n;
	}
	if (o->user != NULL) {
		if (!c->have_pass) {
			int rc;

			if (c->pass_fd >= 0)
				rc = secret_from_fd(&c->pass, c->pass_fd, e);
			else if (c->pass_file != NULL)
				rc = secret_from_file(&c->pass, c->pass_file, e);
			else if (c->pass_env != NULL)
				rc = secret_from_env(&c->pass, c->pass_env, e);
			else if ((v = conf_get(&c->conf, account, "pass_file")) != NULL)
				rc = secret_from_file(&c->pass, v, e);
			else if ((v = conf_get(&c->conf, account, "pass_env")) != NULL)
				rc = secret_from_env(&c->pass, v, e);
			else if ((v = conf_get(&c->conf, account, "passwordeval")) != NULL)
				rc = secret_from_command(&c->pass, v, e);
			else
				rc = err_set(e, EX_CONFIG, "a user is set but no password source "
				    "(--pass-file, --pass-fd, --pass-env, pass_file, pass_env, passwordeval)");
			if (rc != 0)
				return -1;
			c->have_pass = 1;
		}
		o->pass = &c->pass;
	}
	return 0;
}

static void
queue_dir(const struct cli *c, const char *account, char *out, size_t cap)
{
	const char *q = setting(c, account, c->queue, "queue"), *s = getenv("XDG_STATE_HOME");

	if (q != NULL)
		snprintf(out, cap, "%s", q);
	else if (s != NULL && *s == '/')
		snprintf(out, cap, "%s/secmail/queue", s);
	else
		snprintf(out, cap, "%s/.local/state/secmail/queue", getenv("HOME") ? getenv("HOME") : "");
}

static void
sched(const struct cli *c, const char *account, struct queue_sched *s)
{
	static const char *keys[] = { "retry_first", "retry_max", "give_up" };
	long long *dst[] = { &s->first, &s->max, &s->give_up };
	size_t i;

	queue_sched_default(s);
	for (i = 0; i < 3; i++) {
		const char *v = conf_get(&c->conf, account, keys[i]);
		long long n;

		if (v != NULL && (n = cli_number(v, 100LL * 365 * 86400)) > 0)
			*dst[i] = n;
	}
}

/* One syslog line per attempt (LOG_MAIL). */
static void
log_attempt(const char *from, const struct smtp_rcpt *r, size_t n, unsigned long long size,
    const char *status, const char *why)
{
	char to[1024];
	size_t i, k = 0;

	to[0] = '\0';
	for (i = 0; i < n && k + 4 < sizeof to; i++)
		k += (size_t)snprintf(to + k, sizeof to - k, "%s<%s>", i ? "," : "", r[i].addr);
	if (k >= sizeof to)
		to[sizeof to - 1] = '\0';
	syslog(LOG_INFO, "from=<%s> to=%s size=%llu status=%s (%s)", from, to, size, status, why);
}

/* DSN NOTIFY (RFC 3461 §4.1): NEVER alone, or a list of SUCCESS, FAILURE, DELAY. */
static int
check_notify(const char *v)
{
	char buf[128], *tok, *sp;
	int n = 0;

	if (strcasecmp(v, "NEVER") == 0)
		return 0;
	if (snprintf(buf, sizeof buf, "%s", v) >= (int)sizeof buf)
		return -1;
	for (tok = strtok_r(buf, ",", &sp); tok; tok = strtok_r(NULL, ",", &sp), n++)
		if (strcasecmp(tok, "SUCCESS") != 0 && strcasecmp(tok, "FAILURE") != 0 &&
		    strcasecmp(tok, "DELAY") != 0)
			return -1;
	return n > 0 ? 0 : -1;
}

/* The first mailbox of a field, or NULL. Caller frees. */
static char *
first_addr(const struct msg_header *h, const char *name)
{
	const struct msg_field *f = msg_header_get(h, name);
	struct addr_list l = { NULL, 0, 0 };
	struct err e;
	char *s = NULL;

	if (f == NULL)
		return NULL;
	if (addr_parse(f->value, &l, &e) != 0) {
		err_wrap(&e, "%s", name);
		cli_die_err(&e);
	}
	if (l.n > 0 && (s = strdup(l.v[0].spec)) == NULL)
		cli_die(EX_OSERR, "out of memory");
	addr_list_free(&l);
	return s;
}

/* The account whose 'from' matches the message's From address, else the default. */
static const char *
pick_account(const struct cli *c, const char *from)
{
	size_t i;

	if (c->account != NULL)
		return c->account;
	if (from != NULL)
		for (i = 1; i < c->conf.n; i++) {
			const char *f = conf_get(&c->conf, c->conf.s[i].name, "from");

			if (f != NULL && addr_spec_eq(f, from))
				return c->conf.s[i].name;
		}
	return c->conf.default_account;
}

/* Queue the message for the recipients whose code is not final (all when code is 0). */
static int
enqueue(struct cli *c, const char *account, const char *from, struct smtp_rcpt *r, size_t n,
    int fd, const char *why)
{
	struct queue q;
	struct queue_env env;
	struct queue_state st;
	struct queue_sched sch;
	struct err e;
	char dir[4096], id[128];
	size_t i;

	if (c->no_queue)
		cli_die(EX_TEMPFAIL, "%s", why);
	memset(&env, 0, sizeof env);
	env.from = (char *)from;
	env.notify = (char *)c->notify;
	env.ret = (char *)c->ret;
	env.envid = (char *)c->envid;
	env.account = (char *)account;
	env.created = queue_now();
	if ((env.rcpt = calloc(n ? n : 1, sizeof *env.rcpt)) == NULL)
		cli_die(EX_OSERR, "out of memory");
	for (i = 0; i < n; i++)
		if (r[i].code < 200 || (r[i].code >= 400 && r[i].code < 500))
			env.rcpt[env.nrcpt++] = (char *)r[i].addr;
	/* This attempt counts: the first retry comes no sooner than 30 minutes after it. */
	memset(&st, 0, sizeof st);
	sched(c, account, &sch);
	st.attempts = 1;
	st.next = queue_next(&sch, env.created, 1, env.created);
	snprintf(st.last, sizeof st.last, "%s", why);
	queue_dir(c, account, dir, sizeof dir);
	if (queue_open(&q, dir, &e) != 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    queue_add(&q, &env, &st, fd, id, &e) != 0) {
		err_wrap(&e, "cannot queue the message (%s)", why);
		cli_die_err(&e);
	}
	free(env.rcpt);
	cli_warn("queued as %s: %s", id, why);
	return 0;
}

static int
do_send(struct cli *c, int nargs, char **args)
{
	struct io_in in;
	struct msg_header h;
	struct rcptset rl = RCPTSET_INIT;
	struct smtp_opts o;
	struct smtp s;
	struct smtp_scan sc;
	struct smtp_result res;
	struct smtp_env env;
	struct smtp_rcpt *r;
	struct err e;
	char host[256], port[32], *hfrom, *from, refused[1024];
	const char *account;
	size_t i, nref = 0, ntemp = 0, k = 0;
	int fd, rc;

	msg_header_init(&h);
	if (io_in_init(&in, STDIN_FILENO, "standard input", &e) != 0 ||
	    msg_header_read(&in, &h, &e) != 0)
		cli_die_err(&e);
	for (i = 0; i < h.n; i++) {
		const char *cr = h.f[i].raw;

		/* A bare CR inside a field would be a line break for a server that normalises
		 * it (RFC 5321 §2.3.8) but not for us: a field smuggled past our reading. */
		while ((cr = memchr(cr, '\r', h.f[i].rawlen - (size_t)(cr - h.f[i].raw))) != NULL)
			if ((size_t)(++cr - h.f[i].raw) >= h.f[i].rawlen || *cr != '\n')
				cli_die(EX_DATAERR, "header field %s: a CR that does not end a line",
				    h.f[i].name);
	}
	if (nargs == 0 || c->t) {
		static const char *fields[] = { "To", "Cc", "Bcc" };

		for (k = 0; k < 3; k++)
			for (i = msg_header_next(&h, fields[k], 0); i != (size_t)-1;
			    i = msg_header_next(&h, fields[k], i + 1))
				if (rcptset_add_field(&rl, h.f[i].value, &e) != 0) {
					err_wrap(&e, "%s", fields[k]);
					cli_die_err(&e);
				}
	}
	for (i = 0; i < (size_t)nargs; i++)
		if (rcptset_add_field(&rl, args[i], &e) != 0) {
			err_wrap(&e, "recipient argument");
			cli_die_err(&e);
		}
	if (rcptset_unique(&rl, &e) != 0)
		cli_die_err(&e);
	if (rl.n == 0)
		cli_die(EX_USAGE, "no recipients: give them as arguments or in To, Cc or Bcc");
	hfrom = first_addr(&h, "From");
	account = pick_account(c, hfrom);
	if (c->from != NULL)
		from = strdup(c->from);
	else if (conf_get(&c->conf, account, "from") != NULL)
		from = strdup(conf_get(&c->conf, account, "from"));
	else if ((from = first_addr(&h, "Sender")) == NULL && hfrom != NULL)
		from = strdup(hfrom);
	if (from == NULL)
		cli_die(EX_USAGE, "no sender: give -f or a From field");
	msg_header_remove(&h, "Bcc");	/* RFC 5322 §3.6.3: Bcc recipients stay hidden */
	free(h.mbox_from);		/* an mbox "From " line is not part of the message */
	h.mbox_from = NULL;
	if (msg_complete_submission(&h, from, c->fullname, (time_t)queue_now(), &e) != 0
	    || (fd = msg_spool(&in, &h, &e)) < 0)
		cli_die_err(&e);
	io_in_free(&in);
	msg_header_free(&h);
	if (smtp_scan(fd, &sc, &e) != 0)
		cli_die_err(&e);
	if ((r = calloc(rl.n, sizeof *r)) == NULL)
		cli_die(EX_OSERR, "out of memory");
	for (i = 0; i < rl.n; i++)
		r[i].addr = rl.v[i];
	memset(&env, 0, sizeof env);
	env.from = from;
	env.rcpt = r;
	env.nrcpt = rl.n;
	env.notify = c->notify;
	env.ret = c->ret;
	env.envid = c->envid;
	if (make_opts(c, account, &o, host, sizeof host, port, sizeof port, &e) != 0)
		cli_die_err(&e);
	rc = smtp_open(&s, &o, &e);
	if (rc == 0)
		rc = smtp_send(&s, &env, fd, &sc, &res, &e);
	/* EX_NOUSER: every recipient refused, some perhaps only for now; sorted out below. */
	if (rc != 0 && e.code != EX_NOUSER) {
		int code = e.code;

		smtp_close(&s);
		log_attempt(from, r, rl.n, sc.size, code == EX_TEMPFAIL ? "deferred" : "failed", e.msg);
		if (code != EX_TEMPFAIL)
			cli_die_err(&e);
		for (i = 0; i < rl.n; i++)
			r[i].code = 0;	/* nothing was delivered: queue every recipient */
		enqueue(c, account, from, r, rl.n, fd, e.msg);
		rc = 0;
		goto out;
	}
	if (rc != 0) {
		log_attempt(from, r, rl.n, sc.size, "refused", e.msg);
	} else {
		if (res.dsn_ignored)
			cli_warn("%s does not offer DSN: --notify, --ret and --envid were not "
			    "passed on", host);
		log_attempt(from, r, rl.n, res.size, "sent", res.reply);
	}
	if (rc == 0 && c->receipt != NULL) {
		char srv[300];

		snprintf(srv, sizeof srv, "%s:%s", host, o.port ? o.port :
		    o.tls == SMTP_TLS_IMPLICIT ? "465" : "587");
		if (smtp_write_receipt(c->receipt, &s, srv, from, r, rl.n, &res, queue_now(), &e) != 0)
			cli_die_err(&e);
	}
	smtp_close(&s);
	refused[0] = '\0';
	for (i = 0, k = 0; i < rl.n; i++) {
		if (r[i].code >= 500 || r[i].code < 200) {
			nref++;
			if (k < sizeof refused)
				k += (size_t)snprintf(refused + k, sizeof refused - k, "%s<%s> (%s)",
				    nref > 1 ? ", " : "", r[i].addr, r[i].reply);
		} else if (r[i].code >= 400) {
			ntemp++;
		}
	}
	if (ntemp > 0)
		enqueue(c, account, from, r, rl.n, fd, "some recipients were deferred");
	rc = 0;
	if (nref > 0) {
		cli_warn("recipients refused: %s", refused);
		rc = EX_NOUSER;
	}
out:
	close(fd);
	free(r);
	free(from);
	free(hfrom);
	rcptset_free(&rl);
	return rc;
}

/* The queue runner's view of the configuration and the log. */
static int
ops_open(void *ctx, const char *account, struct smtp *s, struct err *e)
{
	struct cli *c = ctx;
	struct smtp_opts o;
	char host[256], port[32];

	memset(s, 0, sizeof *s);
	s->fd = -1;
	if (make_opts(c, account, &o, host, sizeof host, port, sizeof port, e) != 0)
		return -1;
	return smtp_open(s, &o, e);
}

static void
ops_sched(void *ctx, const char *account, struct queue_sched *s)
{
	sched(ctx, account, s);
}

static void
ops_log(void *ctx, const char *from, const struct smtp_rcpt *r, size_t n,
    unsigned long long size, const char *status, const char *why)
{
	(void)ctx;
	log_attempt(from, r, n, size, status, why);
}

static void
ops_warn(void *ctx, const char *id, const char *msg)
{
	(void)ctx;
	cli_warn("%s: %s", id, msg);
}

static int
do_flush(struct cli *c)
{
	struct deliver_ops ops = { c, ops_open, ops_sched, ops_log, ops_warn };
	struct queue q;
	struct err e;
	char dir[4096];

	queue_dir(c, c->account, dir, sizeof dir);
	if (queue_open(&q, dir, &e) != 0 || deliver_flush(&q, &ops, c->force, queue_now(), &e) != 0)
		cli_die_err(&e);
	return 0;
}

static void
iso_time(long long t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Like mailq: one block per message. */
static int
do_list(struct cli *c)
{
	struct queue q;
	struct err e;
	char dir[4096], **ids, t1[32], t2[32];
	size_t n, i, j;

	queue_dir(c, c->account, dir, sizeof dir);
	if (queue_open(&q, dir, &e) != 0 || queue_list(&q, &ids, &n, &e) != 0)
		cli_die_err(&e);
	if (n == 0)
		printf("queue is empty\n");
	for (i = 0; i < n; i++) {
		struct queue_item it;
		int rc = queue_peek(&q, ids[i], &it, &e);

		if (rc == 1)
			continue;
		if (rc < 0) {
			cli_warn("%s: %s", ids[i], e.msg);
			continue;
		}
		iso_time(it.env.created, t1, sizeof t1);
		iso_time(it.st.next, t2, sizeof t2);
		printf("%s %lld %s <%s>\n", it.id, (long long)(it.size - it.msgoff), t1, it.env.from);
		if (it.st.attempts > 0)
			printf("  attempts %d, next %s: %s\n", it.st.attempts, t2, it.st.last);
		for (j = 0; j < it.env.nrcpt; j++)
			if (!queue_is_done(&it.st, it.env.rcpt[j]))
				printf("  <%s>\n", it.env.rcpt[j]);
		queue_item_free(&it);
	}
	queue_list_free(ids, n);
	if (fflush(stdout) != 0 || ferror(stdout))
		cli_die(EX_IOERR, "write error: standard output: %s", strerror(errno));
	cli_close_stdout();
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'C' },
		{ "from", required_argument, NULL, 'f' },
		{ "server", required_argument, NULL, O_SERVER },
		{ "tls", required_argument, NULL, O_TLS },
		{ "tls-trust-file", required_argument, NULL, O_TRUST },
		{ "tls-fingerprint", required_argument, NULL, O_FPR },
		{ "user", required_argument, NULL, O_USER },
		{ "pass-file", required_argument, NULL, O_PASSFILE },
		{ "pass-fd", required_argument, NULL, O_PASSFD },
		{ "pass-env", required_argument, NULL, O_PASSENV },
		{ "auth-in-clear", no_argument, NULL, O_CLEAR },
		{ "helo", required_argument, NULL, O_HELO },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "notify", required_argument, NULL, O_NOTIFY },
		{ "ret", required_argument, NULL, O_RET },
		{ "envid", required_argument, NULL, O_ENVID },
		{ "queue", required_argument, NULL, O_QUEUE },
		{ "no-queue", no_argument, NULL, O_NOQUEUE },
		{ "flush", no_argument, NULL, O_FLUSH },
		{ "force", no_argument, NULL, O_FORCE },
		{ "list", no_argument, NULL, O_LIST },
		{ "receipt", required_argument, NULL, O_RECEIPT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli c;
	struct err e;
	int ch, rc;

	cli_init(argc, argv);
	memset(&c, 0, sizeof c);
	c.pass_fd = -1;
	conf_init(&c.conf);
	while ((ch = getopt_long(argc, argv, "a:C:f:F:tio:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': c.account = optarg; break;
		case 'C': c.config = optarg; break;
		case 'f': c.from = optarg; break;
		case 'F': c.fullname = optarg; break;
		case 't': c.t = 1; break;
		case 'i': break;
		case 'o': break;	/* -oi and other sendmail -oX options: nothing to do */
		case O_SERVER: c.server = optarg; break;
		case O_TLS: c.tls = optarg; break;
		case O_TRUST: c.trust = optarg; break;
		case O_FPR: c.fpr = optarg; break;
		case O_USER: c.user = optarg; break;
		case O_PASSFILE: c.pass_file = optarg; break;
		case O_PASSFD:
			if ((c.pass_fd = (int)cli_number(optarg, 1 << 20)) < 0)
				cli_usage(usage, "bad --pass-fd %s", optarg);
			break;
		case O_PASSENV: c.pass_env = optarg; break;
		case O_CLEAR: c.clear = 1; break;
		case O_HELO: c.helo = optarg; break;
		case O_TIMEOUT: c.timeout = optarg; break;
		case O_NOTIFY: c.notify = optarg; break;
		case O_RET: c.ret = optarg; break;
		case O_ENVID: c.envid = optarg; break;
		case O_QUEUE: c.queue = optarg; break;
		case O_NOQUEUE: c.no_queue = 1; break;
		case O_FLUSH: c.flush = 1; break;
		case O_FORCE: c.force = 1; break;
		case O_LIST: c.list = 1; break;
		case O_RECEIPT: c.receipt = optarg; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: cli_usage(usage, "unknown option");
		}
	}
	if (c.flush + c.list > 1)
		cli_usage(usage, "--flush and --list exclude each other");
	if (c.force && !c.flush)
		cli_usage(usage, "--force goes with --flush");
	if ((c.flush || c.list) && optind < argc)
		cli_usage(usage, "--flush and --list take no recipients");
	if (c.ret != NULL && strcasecmp(c.ret, "FULL") != 0 && strcasecmp(c.ret, "HDRS") != 0)
		cli_usage(usage, "--ret must be FULL or HDRS");
	if (c.notify != NULL && check_notify(c.notify) != 0)
		cli_usage(usage, "--notify must be NEVER or a list of SUCCESS, FAILURE, DELAY");
	rc = conf_open(&c.conf, c.config, "mailsend.conf", &e);
	if (rc < 0)
		cli_die_err(&e);
	if (c.account != NULL && conf_account(&c.conf, c.account) == NULL)
		cli_die(EX_CONFIG, "no account %s in %s", c.account,
		    c.conf.path ? c.conf.path : "the configuration (none found)");
	openlog("mailsend", LOG_PID, LOG_MAIL);
	if (c.list)
		rc = do_list(&c);
	else if (c.flush)
		rc = do_flush(&c);
	else
		rc = do_send(&c, argc - optind, argv + optind);
	secret_free(&c.pass);
	conf_free(&c.conf);
	closelog();
	return rc;
}
