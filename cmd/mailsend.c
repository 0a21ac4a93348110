/* mailsend — a sendmail for hosts without an MTA: submit an RFC 5322 message over SMTP, or
 * queue it when the server cannot take it now; --flush retries the queue, --list shows it.
 * Accepts the sendmail command line that cron, mail programs and PHP use. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "account.h"
#include "aliases.h"
#include "cli.h"
#include "conf.h"
#include "deliver.h"
#include "io.h"
#include "msg.h"
#include "addr.h"
#include "queue.h"
#include "smtpd.h"
#include "submit.h"

static const char usage[] =
    "usage: mailsend [-t] [-i] [-f FROM] [-F NAME] [-a ACCOUNT] [options] [RCPT...]\n"
    "       mailsend --flush [--force] [options] [ID...]\n"
    "       mailsend --remove ID... | --list [--queue DIR]\n"
    "       mailsend -bs            (an SMTP session on standard input and output)\n"
    "\n"
    "Submit the message on standard input over SMTP; queue it if the server cannot take it now.\n"
    "\n"
    "  -a, --account NAME       use this account of the configuration file\n"
    "  -C, --config FILE        read FILE instead of the default configuration\n"
    "  -f, -r, --from ADDR      envelope sender (default: the account's, or Sender/From)\n"
    "  -F NAME                  full name for a From field added when the message has none\n"
    "  -t                       recipients from To, Cc and Bcc (the default without RCPTs)\n"
    "  -i, -oi                  accepted: a line with a single dot never ends the message\n"
    "      --server HOST[:PORT] the submission server\n"
    "      --tls MODE           starttls (default), implicit, or none\n"
    "      --tls-trust-file FILE  trust the CA certificates in FILE instead of the system's\n"
    "      --tls-fingerprint HEX  pin the server certificate's SHA-256 fingerprint\n"
    "      --tls-cert-file FILE present this client certificate (PEM)\n"
    "      --tls-key-file FILE  its private key (default: in the certificate file)\n"
    "      --user NAME          authenticate as NAME (TLS only)\n"
    "      --auth MECH          scram-sha-256-plus, scram-sha-256, plain, login, external,\n"
    "                           xoauth2 or oauthbearer (default: the best offered)\n"
    "      --pass-file FILE     read the password (or OAuth token) from FILE\n"
    "      --pass-fd N          ... from file descriptor N\n"
    "      --pass-env VAR       ... from environment variable VAR\n"
    "      --passwordeval CMD   ... from the first line CMD prints\n"
    "      --auth-in-clear      allow authentication without TLS\n"
    "      --helo NAME          name to give in EHLO\n"
    "      --timeout SECS       for every SMTP step (default: RFC 5321 section 4.5.3.2)\n"
    "  -N, --notify LIST        DSN: NEVER or SUCCESS,FAILURE,DELAY\n"
    "  -R, --ret FULL|HDRS      DSN: what a bounce returns\n"
    "  -V, --envid ID           DSN: envelope identifier\n"
    "      --aliases FILE       local names to addresses (aliases(5) format)\n"
    "      --default-domain D   completes bare names (default: /etc/mailname, else the FQDN)\n"
    "  -n                       do not use the aliases file\n"
    "  -G                       relay: the header is neither completed nor rewritten\n"
    "      --queue DIR          the queue directory\n"
    "      --no-queue           fail with EX_TEMPFAIL instead of queueing\n"
    "      --queue-only, -odq   queue the message without trying to send it\n"
    "      --queued-exit N      exit status when the message was queued (default 0)\n"
    "  -q, --flush [ID...]      send the queued messages that are due (or those named)\n"
    "      --force              with --flush, send every queued message now\n"
    "  -bp, --list              show the queue\n"
    "      --remove ID...       remove queued messages without sending them\n"
    "      --bcc-dir DIR        then send each Bcc copy in DIR (smime-encrypt --bcc-dir)\n"
    "                           to the one address its Bcc field names\n"
    "      --receipt FILE       record the server's acceptance in FILE\n"
    "      --sent-maildir DIR   keep a copy of each message sent in the Maildir DIR\n"
    "  -X, --logfile FILE       append one line per attempt to FILE (as syslog gets)\n"
    "  -L TAG                   syslog identifier (default mailsend)\n"
    "  -v, --verbose            each log line on standard error too\n"
    "  -oem -oee -oep -oeq      errors: mail back, mail back and exit 0, print, quiet\n"
    "  -B TYPE -m -U -O OPT -odi -odb -oXXX  accepted for sendmail compatibility\n"
    "  -h, --help               show this help and exit\n"
    "      --version            show the version and exit\n";

enum {
	O_SERVER = 256, O_TLS, O_TRUST, O_FPR, O_CERT, O_KEY, O_USER, O_AUTH, O_PASSFILE,
	O_PASSFD, O_PASSENV, O_PASSEVAL, O_CLEAR, O_HELO, O_TIMEOUT, O_QUEUE, O_NOQUEUE,
	O_QONLY, O_QEXIT, O_FLUSH, O_FORCE, O_LIST, O_REMOVE, O_RECEIPT, O_SENT, O_ALIASES,
	O_DOMAIN, O_BCCDIR, O_VERSION
};

enum mode { M_SEND, M_FLUSH, M_LIST, M_REMOVE, M_SMTP, M_NOOP };

struct opts {
	enum mode mode;
	int mode_set, force;
	const char *config, *aliases, *domain, *bcc_dir, *logfile, *tag, *qexit;
	const char *cli[AK_N];
	struct submit_cfg s;
	struct submit_log log;
	struct conf conf;
	struct aliases al;
};

static void
set_mode(struct opts *o, enum mode m, const char *what)
{
	if (o->mode_set && o->mode != m)
		cli_usage(usage, "%s goes with no other of -bs, -bp, --list, -q, --flush, --remove",
		    what);
	o->mode = m;
	o->mode_set = 1;
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

/* sendmail's -oX options (and the long -O forms are accepted and ignored). */
static void
option_o(struct opts *o, const char *v)
{
	if (strcmp(v, "i") == 0)
		return;		/* -oi: mailsend never ends a message at a single dot */
	if (v[0] == 'e' && v[1] != '\0' && v[2] == '\0') {
		switch (v[1]) {
		case 'm': case 'w': o->s.errors = SUBMIT_ERR_MAIL; return;
		case 'e': o->s.errors = SUBMIT_ERR_MAIL_ZERO; return;
		case 'p': o->s.errors = SUBMIT_ERR_PRINT; return;
		case 'q': o->s.errors = SUBMIT_ERR_QUIET; return;
		}
	}
	if (v[0] == 'd') {	/* -odq; -odi, -odb (and -odbackground ...): send now */
		if (v[1] == 'q')
			o->s.queue_only = 1;
		else if (v[1] == 'i' || v[1] == 'b')
			o->s.queue_only = 0;
		else
			cli_usage(usage, "unknown delivery mode -o%s (q, i or b)", v);
		return;
	}
	if (v[0] == 'Q' && v[1] != '\0') {	/* -oQdir: the queue directory */
		o->s.queue_dir = v + 1;
		return;
	}
	if (o->log.verbose)
		cli_warn("sendmail option -o%s ignored", v);
}

static void
parse(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'C' },
		{ "from", required_argument, NULL, 'f' },
		{ "server", required_argument, NULL, O_SERVER },
		{ "tls", required_argument, NULL, O_TLS },
		{ "tls-trust-file", required_argument, NULL, O_TRUST },
		{ "tls-fingerprint", required_argument, NULL, O_FPR },
		{ "tls-cert-file", required_argument, NULL, O_CERT },
		{ "tls-key-file", required_argument, NULL, O_KEY },
		{ "user", required_argument, NULL, O_USER },
		{ "auth", required_argument, NULL, O_AUTH },
		{ "pass-file", required_argument, NULL, O_PASSFILE },
		{ "pass-fd", required_argument, NULL, O_PASSFD },
		{ "pass-env", required_argument, NULL, O_PASSENV },
		{ "passwordeval", required_argument, NULL, O_PASSEVAL },
		{ "auth-in-clear", no_argument, NULL, O_CLEAR },
		{ "helo", required_argument, NULL, O_HELO },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "notify", required_argument, NULL, 'N' },
		{ "ret", required_argument, NULL, 'R' },
		{ "envid", required_argument, NULL, 'V' },
		{ "aliases", required_argument, NULL, O_ALIASES },
		{ "default-domain", required_argument, NULL, O_DOMAIN },
		{ "queue", required_argument, NULL, O_QUEUE },
		{ "no-queue", no_argument, NULL, O_NOQUEUE },
		{ "queue-only", no_argument, NULL, O_QONLY },
		{ "queued-exit", required_argument, NULL, O_QEXIT },
		{ "flush", no_argument, NULL, O_FLUSH },
		{ "force", no_argument, NULL, O_FORCE },
		{ "list", no_argument, NULL, O_LIST },
		{ "remove", no_argument, NULL, O_REMOVE },
		{ "bcc-dir", required_argument, NULL, O_BCCDIR },
		{ "receipt", required_argument, NULL, O_RECEIPT },
		{ "sent-maildir", required_argument, NULL, O_SENT },
		{ "logfile", required_argument, NULL, 'X' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	/* sendmail's -V takes an envelope identifier; alone, as before, it is the version. */
	if (argc == 2 && strcmp(argv[1], "-V") == 0)
		cli_version();
	opterr = 0;	/* one usage message, ours */
	while ((ch = getopt_long(argc, argv, ":a:B:b:C:F:f:GhiL:mN:nO:o:q::R:r:tUV:vX:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a': o->s.account = optarg; break;
		case 'B':	/* the body type: mailsend looks at the message itself */
			if (strcasecmp(optarg, "7BIT") != 0 && strcasecmp(optarg, "8BITMIME") != 0)
				cli_usage(usage, "-B must be 7BIT or 8BITMIME, not %s", optarg);
			break;
		case 'b':
			if (strcmp(optarg, "m") == 0)
				set_mode(o, M_SEND, "-bm");
			else if (strcmp(optarg, "p") == 0)
				set_mode(o, M_LIST, "-bp");
			else if (strcmp(optarg, "s") == 0)
				set_mode(o, M_SMTP, "-bs");
			else if (strcmp(optarg, "i") == 0)
				set_mode(o, M_NOOP, "-bi");
			else
				cli_usage(usage, "-b%s is not supported (-bm, -bp, -bs and -bi are)",
				    optarg);
			break;
		case 'C': o->config = optarg; break;
		case 'F': o->s.fullname = optarg; break;
		case 'f': case 'r': o->s.from = optarg; break;
		case 'G': o->s.gateway = 1; break;
		case 'i': case 'U': case 'm': break;	/* -m: sendmail's "me too", the default */
		case 'L': o->tag = optarg; break;
		case 'N':
			if (check_notify(optarg) != 0)
				cli_usage(usage, "--notify (-N) must be NEVER or a list of SUCCESS, "
				    "FAILURE, DELAY, not %s", optarg);
			o->s.notify = optarg;
			break;
		case 'n': o->s.no_alias = 1; break;
		case 'O': break;
		case 'o': option_o(o, optarg); break;
		case 'q':
			if (optarg != NULL && strcmp(optarg, "f") != 0)
				cli_usage(usage, "-q%s: periodic queue runs are for cron: run mailsend "
				    "-q from a crontab", optarg);
			set_mode(o, M_FLUSH, "-q");
			break;
		case 'R':
			if (strcasecmp(optarg, "FULL") != 0 && strcasecmp(optarg, "HDRS") != 0)
				cli_usage(usage, "--ret (-R) must be FULL or HDRS, not %s", optarg);
			o->s.ret = optarg;
			break;
		case 't': o->s.use_fields = 1; break;
		case 'V': o->s.envid = optarg; break;
		case 'v': o->log.verbose = 1; break;
		case 'X': o->logfile = optarg; break;
		case O_SERVER: o->cli[AK_SERVER] = optarg; break;
		case O_TLS: o->cli[AK_TLS] = optarg; break;
		case O_TRUST: o->cli[AK_TRUST] = optarg; break;
		case O_FPR: o->cli[AK_FPR] = optarg; break;
		case O_CERT: o->cli[AK_CERT] = optarg; break;
		case O_KEY: o->cli[AK_KEY] = optarg; break;
		case O_USER: o->cli[AK_USER] = optarg; break;
		case O_AUTH: o->cli[AK_AUTH] = optarg; break;
		case O_PASSFILE: o->cli[AK_PASS_FILE] = optarg; break;
		case O_PASSFD:
			if (cli_number(optarg, 1 << 20) < 0)
				cli_usage(usage, "bad --pass-fd %s", optarg);
			o->cli[AK_PASS_FD] = optarg;
			break;
		case O_PASSENV: o->cli[AK_PASS_ENV] = optarg; break;
		case O_PASSEVAL: o->cli[AK_PASSEVAL] = optarg; break;
		case O_CLEAR: o->cli[AK_CLEAR] = "on"; break;
		case O_HELO: o->cli[AK_HELO] = optarg; break;
		case O_TIMEOUT: o->cli[AK_TIMEOUT] = optarg; break;
		case O_ALIASES: o->aliases = optarg; break;
		case O_DOMAIN: o->domain = optarg; break;
		case O_QUEUE: o->s.queue_dir = optarg; break;
		case O_NOQUEUE: o->s.no_queue = 1; break;
		case O_QONLY: o->s.queue_only = 1; break;
		case O_QEXIT: o->qexit = optarg; break;
		case O_FLUSH: set_mode(o, M_FLUSH, "--flush"); break;
		case O_FORCE: o->force = 1; break;
		case O_LIST: set_mode(o, M_LIST, "--list"); break;
		case O_REMOVE: set_mode(o, M_REMOVE, "--remove"); break;
		case O_BCCDIR: o->bcc_dir = optarg; break;
		case O_RECEIPT: o->s.receipt = optarg; break;
		case O_SENT: o->s.sent_maildir = optarg; break;
		case 'h': cli_help(usage);
		case O_VERSION: cli_version();
		case ':':
			if (optopt != 0)
				cli_usage(usage, "option -%c needs a value", optopt);
			cli_usage(usage, "option %s needs a value", argv[optind - 1]);
		default:
			if (optopt != 0)
				cli_usage(usage, "unknown option -%c", optopt);
			cli_usage(usage, "unknown option %s", argv[optind - 1]);
		}
	}
	if (o->force && o->mode != M_FLUSH)
		cli_usage(usage, "--force goes with --flush");
	if ((o->mode == M_LIST || o->mode == M_SMTP || o->mode == M_NOOP) && optind < argc)
		cli_usage(usage, "-bp, --list, -bs and -bi take no arguments");
	if (o->mode == M_REMOVE && optind == argc)
		cli_usage(usage, "--remove needs the IDs of the entries to remove (see --list)");
	if (o->bcc_dir != NULL && o->mode != M_SEND)
		cli_usage(usage, "--bcc-dir goes with sending a message");
	if (o->qexit != NULL) {
		long long n = cli_number(o->qexit, 255);

		if (n < 0)
			cli_usage(usage, "--queued-exit must be a number from 0 to 255");
		o->s.queued_exit = (int)n;
	}
}

/* Settings that come from the configuration when not given: the log file, the aliases,
 * the domain, the queued exit status. */
static void
settings(struct opts *o)
{
	const char *v, *acct = o->s.account;
	struct err e;

	if (o->logfile == NULL)
		o->logfile = conf_get(&o->conf, acct, "logfile");
	if (o->logfile != NULL) {
		o->log.file = o->logfile;
		o->log.fd = open(o->logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		if (o->log.fd < 0)
			cli_die(EX_CANTCREAT, "cannot open the log file %s: %s", o->logfile,
			    strerror(errno));
		if (io_file_private(o->log.fd, o->logfile, 0, &e) != 0)
			cli_die_err(&e);
	}
	if (o->aliases == NULL)
		o->aliases = conf_get(&o->conf, acct, "aliases");
	if (o->aliases != NULL && !o->s.no_alias && aliases_load(&o->al, o->aliases, &e) != 0)
		cli_die_err(&e);
	aliases_domain(o->domain ? o->domain : conf_get(&o->conf, acct, "default_domain"),
	    o->s.domain, sizeof o->s.domain);
	if (o->qexit == NULL && (v = conf_get(&o->conf, acct, "queued_exit")) != NULL) {
		long long n = cli_number(v, 255);

		if (n < 0)
			cli_die(EX_CONFIG, "%s: queued_exit must be a number from 0 to 255",
			    o->conf.path);
		o->s.queued_exit = (int)n;
	}
}

/* --- the queue runner's view of the configuration and the log --- */

static int
entry_account(struct opts *o, const struct queue_item *it, struct account *a, struct err *e)
{
	return account_from_entry(a, &o->conf, it->env.account, it->env.set, it->env.nset, it->id,
	    o->cli, e);
}

static char *
ops_key(void *ctx, const struct queue_item *it, struct err *e)
{
	struct account a;
	struct smtp_opts so;
	char *k = NULL;

	if (entry_account(ctx, it, &a, e) == 0 && account_opts(&a, &so, e) == 0 &&
	    (k = account_conn_key(&a)) == NULL)
		err_set(e, EX_OSERR, "out of memory");
	account_free(&a);
	return k;
}

static int
ops_open(void *ctx, const struct queue_item *it, struct smtp *s, struct err *e)
{
	struct account a;
	struct smtp_opts so;
	int rc = -1;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	if (entry_account(ctx, it, &a, e) == 0 && account_opts(&a, &so, e) == 0)
		rc = smtp_open(s, &so, e);
	account_free(&a);
	return rc;
}

static void
ops_sched(void *ctx, const struct queue_item *it, struct queue_sched *s)
{
	struct opts *o = ctx;

	submit_sched(&o->conf, it->env.account && conf_account(&o->conf, it->env.account) ?
	    it->env.account : NULL, s);
}

static void
ops_log(void *ctx, const char *from, const struct smtp_rcpt *r, size_t n,
    unsigned long long size, const char *status, const char *why)
{
	submit_log_line(&((struct opts *)ctx)->log, from, r, n, size, status, why);
}

static void
ops_report(void *ctx, const char *id, const char *msg)
{
	(void)ctx;
	cli_warn("%s: %s", id, msg);
}

static int
do_flush(struct opts *o, char **ids, size_t nids)
{
	struct deliver_ops ops = { o, ops_key, ops_open, ops_sched, ops_log, ops_report };
	struct deliver_stats st;
	struct queue q;
	struct err e;
	char dir[4096];
	size_t i;

	for (i = 0; i < nids; i++)
		if (!queue_valid_id(ids[i]))
			cli_usage(usage, "bad queue ID %s", ids[i]);
	submit_queue_dir(&o->conf, o->s.queue_dir, o->s.account, dir, sizeof dir);
	if (queue_open(&q, dir, &e) != 0 ||
	    deliver_flush(&q, &ops, ids, nids, o->force, queue_now(), &st, &e) != 0)
		cli_die_err(&e);
	/* Cron mails whatever is printed: silent with nothing to report; non-zero while
	 * anything due is left (the lines above say what and why). */
	if (st.deferred + st.unusable + st.failed > 0)
		return EX_TEMPFAIL;
	return st.missing > 0 ? EX_NOINPUT : 0;
}

static int
do_remove(struct opts *o, char **ids, size_t n)
{
	struct queue q;
	struct err e;
	char dir[4096];
	size_t i;
	int rc = 0;

	submit_queue_dir(&o->conf, o->s.queue_dir, o->s.account, dir, sizeof dir);
	if (queue_open(&q, dir, &e) != 0)
		cli_die_err(&e);
	for (i = 0; i < n; i++) {
		struct queue_item it;
		int k;

		if (!queue_valid_id(ids[i]))
			cli_usage(usage, "bad queue ID %s", ids[i]);
		k = queue_lock(&q, ids[i], &it, &e);
		if (k == 1) {
			cli_warn("%s: no such entry in the queue", ids[i]);
			rc = rc ? rc : EX_NOINPUT;
		} else if (k == 2) {
			cli_warn("%s: being sent by another mailsend right now; not removed", ids[i]);
			rc = EX_TEMPFAIL;
		} else if (k < 0 && e.code != EX_DATAERR) {
			cli_warn("%s: %s", ids[i], e.msg);
			rc = e.code;
		} else {
			/* A corrupt entry can be removed too: it is what --remove is for. */
			if (k < 0) {
				char p[4200];

				snprintf(p, sizeof p, "%s/new/%s", dir, ids[i]);
				if (unlink(p) != 0) {
					cli_warn("%s: cannot remove %s: %s", ids[i], p, strerror(errno));
					rc = EX_IOERR;
				}
				continue;
			}
			if (queue_remove(&q, &it, &e) != 0) {
				cli_warn("%s: %s", ids[i], e.msg);
				rc = e.code;
			}
			queue_item_free(&it);
		}
	}
	return rc;
}

static void
iso_time(long long t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Like mailq: one block per message. Written through io_out so that a closed pipe
 * (`mailsend --list | head`) ends quietly, as a pipeline expects. */
static int
do_list(struct opts *o)
{
	struct queue q;
	struct io_out out;
	struct err e;
	char dir[4096], **ids, t1[32], t2[32], line[1400];
	size_t n, i, j;

	submit_queue_dir(&o->conf, o->s.queue_dir, o->s.account, dir, sizeof dir);
	if (queue_open(&q, dir, &e) != 0 || queue_list(&q, &ids, &n, &e) != 0 ||
	    io_out_init(&out, STDOUT_FILENO, "standard output", &e) != 0)
		cli_die_err(&e);
	if (n == 0)
		io_out_puts(&out, "queue is empty\n");
	for (i = 0; i < n && !out.failed; i++) {
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
		snprintf(line, sizeof line, "%s %lld %s <%s>\n", it.id,
		    (long long)(it.size - it.msgoff), t1, it.env.from);
		io_out_puts(&out, line);
		if (it.st.attempts > 0) {
			snprintf(line, sizeof line, "  attempts %d, next %s: %s\n", it.st.attempts, t2,
			    it.st.last);
			io_out_puts(&out, line);
		}
		for (j = 0; j < it.env.nrcpt; j++)
			if (!queue_is_done(&it.st, it.env.rcpt[j])) {
				snprintf(line, sizeof line, "  <%s>\n", it.env.rcpt[j]);
				io_out_puts(&out, line);
			}
		queue_item_free(&it);
	}
	queue_list_free(ids, n);
	if (io_out_finish(&out) != 0)
		cli_die_err(&out.e);
	cli_close_stdout();
	return 0;
}

/* -bs: each message of the session through the normal path; what to answer. */
static int
smtp_submit(void *ctx, struct smtpd_msg *m, char *reply, size_t cap, struct err *e)
{
	struct opts *o = ctx;
	struct submit_env env = { m->from, &m->rcpt, m->notify, m->ret, m->envid };
	struct submit_result r;

	if (submit_message(&o->s, m->fd, NULL, 0, &env, &r, e) != 0)
		return -1;
	if (r.status == 0 || (r.queued && r.status == o->s.queued_exit) || r.status == EX_NOUSER) {
		/* Recipients refused after the session accepted them get a notification:
		 * -bs runs as with -oem. */
		if (r.queued)
			snprintf(reply, cap, "250 2.0.0 Ok: queued as %s", r.id);
		else
			snprintf(reply, cap, "250 2.0.0 Ok: sent (%.900s)", r.reply);
	} else if (r.status == EX_DATAERR || r.status == EX_UNAVAILABLE || r.status == EX_NOPERM ||
	    r.status == EX_USAGE || r.status == EX_NOINPUT) {
		snprintf(reply, cap, "554 5.0.0 %.900s", r.reply);
	} else {
		snprintf(reply, cap, "451 4.3.0 %.900s", r.reply);
	}
	/* A reply is one line: whatever the server said stays printable and unfolded. */
	for (char *p = reply; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return 0;
}

/* The first failure's status is the one reported. */
static int
worse(int a, int b)
{
	return a != 0 ? a : b;
}

/* --bcc-dir: each DIR/bcc-*.eml only to the one address of its Bcc field; removed once
 * sent or queued. */
static int
send_bcc_copies(struct opts *o, const char *dir)
{
	struct dirent **names = NULL;
	struct err e;
	int n, i, rc = 0;

	if (io_dir_private(dir, 0, &e) != 0) {
		if (e.code == 0)
			err_set(&e, EX_NOINPUT, "no directory %s", dir);
		cli_warn("Bcc copies: %s", e.msg);
		return e.code;
	}
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0) {
		cli_warn("Bcc copies: cannot read %s: %s", dir, strerror(errno));
		return EX_IOERR;
	}
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm);
		char path[4200];
		struct io_in in;
		struct msg_header h;
		struct addr_list al = { NULL, 0, 0 };
		struct rcptset one = RCPTSET_INIT;
		struct submit_result r;
		const struct msg_field *bcc;
		int fd, st = 0;

		if (strncmp(nm, "bcc-", 4) != 0 || l < 8 || strcmp(nm + l - 4, ".eml") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, nm);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0 || io_file_private(fd, path, 0, &e) != 0) {
			if (fd < 0)
				err_sys(&e, EX_NOINPUT, "cannot open %s", path);
			cli_warn("Bcc copy %s: %s", nm, e.msg);
			rc = worse(rc, e.code);
			if (fd >= 0)
				close(fd);
			continue;
		}
		msg_header_init(&h);
		if (io_in_init(&in, fd, path, &e) != 0 || msg_header_read(&in, &h, &e) != 0) {
			st = e.code;
		} else if ((bcc = msg_header_get(&h, "Bcc")) == NULL || msg_header_count(&h, "Bcc")
		    != 1 || addr_parse_bare(bcc->value, &al, &e) != 0 || al.n != 1) {
			err_set(&e, EX_DATAERR, "a Bcc copy must have one Bcc field naming one address");
			st = EX_DATAERR;
		} else if (rcptset_add(&one, al.v[0].spec, &e) != 0) {
			st = e.code;
		}
		io_in_free(&in);
		msg_header_free(&h);
		addr_list_free(&al);
		if (st != 0) {
			cli_warn("Bcc copy %s: %s", nm, e.msg);
			rc = worse(rc, st);
		} else if (lseek(fd, 0, SEEK_SET) != 0) {
			cli_warn("Bcc copy %s: cannot rewind: %s", nm, strerror(errno));
			rc = worse(rc, EX_IOERR);
		} else {
			struct submit_env env = { NULL, &one, NULL, NULL, NULL };

			if (submit_message(&o->s, fd, NULL, 0, &env, &r, &e) != 0) {
				cli_warn("Bcc copy %s: %s", nm, e.msg);
				rc = worse(rc, e.code);
			} else if (r.status != 0 && !(r.queued && r.status == o->s.queued_exit)) {
				cli_warn("Bcc copy %s not sent; it stays in %s", nm, dir);
				rc = worse(rc, r.status);
			} else if (unlink(path) != 0) {
				cli_warn("Bcc copy %s was sent but cannot be removed: %s", nm,
				    strerror(errno));
				rc = worse(rc, EX_IOERR);
			}
		}
		rcptset_free(&one);
		close(fd);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct err e;
	int rc;

	cli_init(argc, argv);
	memset(&o, 0, sizeof o);
	submit_init(&o.s);
	o.log.fd = -1;
	conf_init(&o.conf);
	aliases_init(&o.al);
	parse(&o, argc, argv);
	o.log.tag = o.tag ? o.tag : "mailsend";
	o.s.cli = o.cli;
	o.s.conf = &o.conf;
	o.s.aliases = &o.al;
	o.s.log = &o.log;
	if (conf_open(&o.conf, o.config, "mailsend.conf", &e) < 0)
		cli_die_err(&e);
	if (o.s.account != NULL && conf_account(&o.conf, o.s.account) == NULL)
		cli_die(EX_CONFIG, "no account %s in %s", o.s.account,
		    o.conf.path ? o.conf.path : "the configuration (none found)");
	settings(&o);
	openlog(o.log.tag, LOG_PID, LOG_MAIL);
	switch (o.mode) {
	case M_LIST:
		rc = do_list(&o);
		break;
	case M_FLUSH:
		rc = do_flush(&o, argv + optind, (size_t)(argc - optind));
		break;
	case M_REMOVE:
		rc = do_remove(&o, argv + optind, (size_t)(argc - optind));
		break;
	case M_NOOP:
		rc = 0;		/* -bi (newaliases): the aliases file is read as it is, each time */
		break;
	case M_SMTP: {
		char host[256];

		o.s.errors = o.s.errors == SUBMIT_ERR_MAIL_ZERO ? o.s.errors : SUBMIT_ERR_MAIL;
		if (gethostname(host, sizeof host) != 0)
			snprintf(host, sizeof host, "localhost");
		host[sizeof host - 1] = '\0';
		rc = smtpd_session(STDIN_FILENO, STDOUT_FILENO, host, smtp_submit, &o, &e);
		if (rc != 0)
			cli_die_err(&e);
		break;
	}
	default: {
		struct submit_result r;

		o.s.no_rcpt_ok = o.bcc_dir != NULL;
		if (submit_message(&o.s, STDIN_FILENO, argv + optind, (size_t)(argc - optind), NULL,
		    &r, &e) != 0)
			cli_die_err(&e);
		rc = r.status;
		if (o.bcc_dir != NULL) {
			if (rc == 0 || (r.queued && rc == o.s.queued_exit)) {
				int b = send_bcc_copies(&o, o.bcc_dir);

				if (b != 0)
					rc = b;
			} else {
				cli_warn("the Bcc copies in %s were not sent, since the message was not",
				    o.bcc_dir);
			}
		}
		break;
	}
	}
	submit_done(&o.s);
	aliases_free(&o.al);
	conf_free(&o.conf);
	if (o.log.fd >= 0)
		close(o.log.fd);
	closelog();
	return rc;
}
