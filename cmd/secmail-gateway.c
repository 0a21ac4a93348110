/* secmail-gateway — the S/MIME gateway that Postfix runs as a content filter (pipe(8)), one
 * recipient per run: outbound mail signed with the sender's key and encrypted for the
 * recipient, inbound mail decrypted with the recipient's key and verified, then handed back
 * to Postfix with sendmail -G -i. The S/MIME work is done by the secmail tools themselves. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "ar.h"
#include "buf.h"
#include "cli.h"
#include "gateway.h"
#include "io.h"
#include "run.h"

static const char usage[] =
    "usage: secmail-gateway [-c FILE] (--outbound | --inbound) -f SENDER [--stdout]\n"
    "                       [--] RECIPIENT\n"
    "\n"
    "Sign and encrypt (--outbound) or decrypt and verify (--inbound) the message on standard\n"
    "input for one recipient, as the policy file says, and hand it back to Postfix with\n"
    "sendmail -G -i -f SENDER -- RECIPIENT.\n"
    "\n"
    "  -c, --config FILE   the policy file (default /etc/secmail/gateway.conf)\n"
    "      --outbound      mail from a local sender: sign, and encrypt where possible\n"
    "      --inbound       mail for a local recipient: decrypt, verify, harvest certificates\n"
    "  -f, --sender ADDR   the envelope sender (empty for the null sender)\n"
    "      --stdout        write the result to standard output instead of reinjecting it\n"
    "  -h, --help          show this help and exit\n"
    "  -V, --version       show the version and exit\n"
    "\n"
    "Exit status: 0 done; 69 (EX_UNAVAILABLE) the message is returned: encryption is\n"
    "required and impossible; 75 (EX_TEMPFAIL) for everything else that goes wrong, the\n"
    "configuration included: Postfix keeps the message and tries again.\n";

#define DEFAULT_CONF "/etc/secmail/gateway.conf"

/* The directory this program lives in: the other secmail tools are found there. */
static const char *
own_dir(void)
{
	static char d[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", d, sizeof d - 1);
	char *s;

	if (n <= 0)
		return NULL;
	d[n] = '\0';
	if ((s = strrchr(d, '/')) == NULL)
		return NULL;
	*s = '\0';
	return d;
}

/* Run one tool over *fd; on success *fd is its output (rewound). Returns its status. */
static int
step(const struct gw_policy *p, char **argv, int *fd, struct run_result *r)
{
	char path[PATH_MAX];
	struct err e;
	int out;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", p->tools, argv[0]) >= sizeof path)
		cli_die(EX_TEMPFAIL, "configuration error: tools: directory name too long");
	argv[0] = path;
	if ((out = io_spool(&e)) < 0 || lseek(*fd, 0, SEEK_SET) != 0
	    || run_filter(argv, *fd, out, r, &e) != 0)
		cli_die(EX_TEMPFAIL, "%s", e.msg);
	if (r->status != 0) {
		close(out);
		if (lseek(*fd, 0, SEEK_SET) != 0)
			cli_die(EX_TEMPFAIL, "cannot rewind a temporary file");
		return r->status;
	}
	if (lseek(out, 0, SEEK_SET) != 0)
		cli_die(EX_TEMPFAIL, "cannot rewind a temporary file");
	close(*fd);
	*fd = out;
	return 0;
}

/* A tool failed: Postfix keeps the message and tries again. Even a tool we called wrongly
 * (EX_USAGE, EX_CONFIG) must not bounce the mail, and pipe(8) returns it to the sender for
 * every status but EX_TEMPFAIL and EX_OSERR (EX_CONFIG is 5.3.5 there). */
static _Noreturn void
tool_failed(const char *what, const char *tool, const struct run_result *r)
{
	cli_die(EX_TEMPFAIL, "%s: %s %s %d%s%s", what, tool, r->signaled ? "killed by signal"
	    : "exited with status", r->signaled ? r->status - 128 : r->status, r->msg[0] ? ": " : "",
	    r->msg);
}

/* A mistake in master.cf or the policy: the same, so that no mail is returned for it. */
static _Noreturn void
config_error(const char *fmt, const char *arg)
{
	cli_die(EX_TEMPFAIL, "configuration error: %s%s", fmt, arg);
}

/* smime-encrypt refused a message with EX_DATAERR: is the recipient's certificate usable
 * all the same (the same command takes a minimal message)? */
static int
cert_usable(const struct gw_policy *p, char **av)
{
	static const char probe[] = "Subject: probe\n\nprobe\n";
	struct run_result r;
	struct err e;
	int fd, rc;

	if ((fd = io_spool(&e)) < 0)
		cli_die(EX_TEMPFAIL, "%s", e.msg);
	if (io_write_all(fd, probe, sizeof probe - 1) != 0)
		cli_die(EX_TEMPFAIL, "cannot spool the message: %s", strerror(errno));
	av[0] = "smime-encrypt";	/* step() pointed it at its own buffer */
	rc = step(p, av, &fd, &r);
	close(fd);
	return rc == 0;
}

/* Is a exactly one addr-spec, as an address-list parser (sendmail's) reads it? */
static int
one_address(const char *a)
{
	struct addr_list al = { 0 };
	struct err e;
	int ok;

	ok = addr_parse(a, &al, &e) == 0 && al.n == 1 && strcmp(al.v[0].spec, a) == 0;
	addr_list_free(&al);
	return ok;
}

static void
outbound(const struct gw_policy *p, const char *authserv, const char *sender, const char *rcpt,
    int *fd, struct buf *sum)
{
	struct gw_ident me, you;
	struct run_result r;
	char *from, *av[24];
	int n, have = 0, forged;
	enum gw_kind k;
	struct err e;

	/* A verdict that claims our authserv-id was not written by us: a local recipient would
	 * get it as ours (their mail never passes the inbound filter), others as a lie told in
	 * our name. Removed before anything is signed or encrypted with the header. */
	if ((forged = gw_strip_verdicts(fd, authserv, &e)) < 0
	    || gw_inspect(*fd, &k, &from, &e) != 0)
		cli_die(EX_TEMPFAIL, "%s", e.msg);
	if (forged > 0)
		buf_addf(sum, "%d forged verdict field%s removed, ", forged, forged > 1 ? "s" : "");
	if (k == GW_ENCRYPTED) {
		free(from);
		buf_addf(sum, "already encrypted: passed unchanged");
		return;
	}
	have = gw_ident(p, sender, &me);
	/* The envelope sender's key (Postfix authenticated the sender) signs only a message
	 * that shows the same author: smime-sign would refuse any other. */
	if (k == GW_SIGNED) {
		buf_addf(sum, "already signed");
	} else if (!p->sign || !have) {
		buf_addf(sum, "not signed (%s)", !p->sign ? "sign off" : "no key for the sender");
	} else if (from == NULL || !addr_spec_eq(from, sender)) {
		buf_addf(sum, "not signed (From is not the sender)");
	} else {
		n = 0;
		av[n++] = "smime-sign";
		memcpy(av + n, me.argv, (size_t)me.n * sizeof *av);
		n += me.n;
		if (!p->hp)
			av[n++] = "--no-header-protection";
		av[n] = NULL;
		if (step(p, av, fd, &r) != 0)
			tool_failed("cannot sign", "smime-sign", &r);
		buf_addf(sum, "signed by %s", sender);
	}
	free(from);
	/* A recipient whose key the gateway holds is a local user: the message stays on this
	 * site and never passes the inbound filter, which alone could decrypt it. */
	if (gw_ident(p, rcpt, &you)) {
		buf_addf(sum, ", not encrypted (%s is a local recipient)", rcpt);
		return;
	}
	n = 0;
	av[n++] = "smime-encrypt";
	av[n++] = "--recipients-only";
	av[n++] = "-R";
	av[n++] = (char *)rcpt;
	av[n++] = "--cert-dir";
	av[n++] = (char *)p->store;
	/* The copy is for the recipient: the sender's own certificate need not open it (and
	 * a signing-only one must not stop it). */
	av[n++] = "--no-self";
	if (p->cipher != NULL) {
		av[n++] = "--cipher";
		av[n++] = (char *)p->cipher;
	}
	/* RFC 9788: the header travels protected inside; the outer Subject is obscured only for
	 * the domains the policy names. A gateway cannot know whether the recipient's reader
	 * restores a protected Subject (no legacy display element is written), and its users
	 * never chose to hide it: elsewhere the outer fields stay as they are
	 * (hcp_no_confidentiality). */
	if (!p->hp)
		av[n++] = "--no-header-protection";
	else if (!gw_obscured(p, rcpt))
		av[n++] = "--no-header-confidentiality";
	av[n] = NULL;
	/* On failure *fd is still the message as signed. */
	switch (step(p, av, fd, &r)) {
	case 0:
		buf_addf(sum, ", encrypted for %s%s", rcpt, gw_obscured(p, rcpt)
		    ? " (Subject obscured)" : "");
		break;
	case EX_DATAERR:	/* no usable certificate (the reason says which), or ... */
		/* ... a message smime-encrypt cannot take (a header it cannot fold): then the
		 * recipient's certificate is there and the text must not leave in the clear */
		if (cert_usable(p, av))
			cli_die(EX_UNAVAILABLE, "%s: the message cannot be encrypted, and the "
			    "recipient's certificate is in the store: %s", rcpt, r.msg);
		/* FALLTHROUGH */
	case EX_UNAVAILABLE:	/* an algorithm the recipient's key needs is not available */
		if (gw_required(p, rcpt))
			cli_die(EX_UNAVAILABLE, "%s: the policy requires encryption for this "
			    "domain, and the message cannot be encrypted for it: %s", rcpt, r.msg);
		buf_addf(sum, ", not encrypted (%s)", r.msg);
		break;
	default:
		tool_failed("cannot encrypt", "smime-encrypt", &r);
	}
}

static void
inbound(const struct gw_policy *p, const char *authserv, const char *rcpt, int *fd, struct buf *sum)
{
	struct gw_ident me;
	struct run_result r;
	struct err e;
	char *av[24], v[64];
	int n = 0, have = gw_ident(p, rcpt, &me);

	/* smime-decrypt passes what is not encrypted through, and writes a Secmail-Decryption
	 * record for what is; smime-verify folds that record into one verdict (the filter
	 * contract in README.md). */
	if (have) {
		av[n++] = "smime-decrypt";
		memcpy(av + n, me.argv, (size_t)me.n * sizeof *av);
		n += me.n;
		av[n++] = "--authserv-id";
		av[n++] = (char *)authserv;
		av[n] = NULL;
		if (step(p, av, fd, &r) != 0)
			tool_failed("cannot decrypt", "smime-decrypt", &r);
		buf_addf(sum, "for %s (key held)", rcpt);
	} else {
		buf_addf(sum, "for %s (no key: not decrypted)", rcpt);
	}
	n = 0;
	av[n++] = "smime-verify";
	if (have)
		av[n++] = "--after-decrypt";
	av[n++] = "--authserv-id";
	av[n++] = (char *)authserv;
	if (p->ca_file != NULL) {
		av[n++] = "--ca-file";
		av[n++] = (char *)p->ca_file;
	}
	if (p->ca_path != NULL) {
		av[n++] = "--ca-path";
		av[n++] = (char *)p->ca_path;
	}
	av[n++] = p->harvest ? "--save-certs" : "--cert-dir";
	av[n++] = (char *)p->store;
	av[n] = NULL;
	if (step(p, av, fd, &r) != 0)
		tool_failed("cannot verify", "smime-verify", &r);
	if (gw_verdict(*fd, authserv, v, sizeof v, &e) != 0)
		cli_die(EX_TEMPFAIL, "%s", e.msg);
	buf_addf(sum, ", %s", v[0] ? v : "no verdict");
}

/* Hand the message back to Postfix: -G, a relayed message, not a new submission; -i, a line
 * with a single dot is text. Postfix has it safely queued when sendmail exits 0. */
static void
reinject(const struct gw_policy *p, const char *sender, const char *rcpt, int fd)
{
	char *av[] = { (char *)p->sendmail, "-G", "-i", "-f", (char *)(*sender ? sender : "<>"),
		"--", (char *)rcpt, NULL };
	struct run_result r;
	struct err e;

	if (lseek(fd, 0, SEEK_SET) != 0 || run_filter(av, fd, -1, &r, &e) != 0)
		cli_die(EX_TEMPFAIL, "cannot hand the message back to Postfix: %s", e.msg);
	if (r.status != 0)
		cli_die(EX_TEMPFAIL, "cannot hand the message back to Postfix: %s %s %d%s%s",
		    p->sendmail, r.signaled ? "killed by signal" : "exited with status",
		    r.signaled ? r.status - 128 : r.status, r.msg[0] ? ": " : "", r.msg);
}

/* Standard input into a private spool: it is read more than once, and Postfix must see all
 * of it consumed before the verdict. */
static int
spool_stdin(void)
{
	unsigned char b[65536];
	struct err e;
	ssize_t n;
	off_t total = 0;
	int fd;

	if ((fd = io_spool(&e)) < 0)
		cli_die(EX_TEMPFAIL, "%s", e.msg);
	while ((n = io_read(STDIN_FILENO, b, sizeof b)) > 0) {
		if (io_write_all(fd, b, (size_t)n) != 0)
			cli_die(EX_TEMPFAIL, "cannot spool the message: %s", strerror(errno));
		total += n;
	}
	if (n < 0)
		cli_die(EX_TEMPFAIL, "cannot read the message: %s", strerror(errno));
	if (total == 0)
		cli_die(EX_NOINPUT, "empty input: not a message");
	if (lseek(fd, 0, SEEK_SET) != 0)
		cli_die(EX_TEMPFAIL, "cannot rewind the spooled message");
	return fd;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "outbound", no_argument, NULL, 'O' },
		{ "inbound", no_argument, NULL, 'I' },
		{ "sender", required_argument, NULL, 'f' },
		{ "stdout", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = DEFAULT_CONF, *sender = NULL, *rcpt, *authserv;
	struct gw_policy p;
	struct buf sum = BUF_INIT;
	struct err e;
	char host[256];
	int ch, mode = 0, to_stdout = 0, fd;

	cli_init(argc, argv);
	opterr = 0;	/* reported below, as a configuration error */
	while ((ch = getopt_long(argc, argv, "c:f:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'O': case 'I':
			if (mode != 0 && mode != ch)
				config_error("--outbound and --inbound exclude each other", "");
			mode = ch;
			break;
		case 'f': sender = optarg; break;
		case 's': to_stdout = 1; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: config_error("unknown option or missing value: ", argv[optind - 1]);
		}
	}
	if (mode == 0)
		config_error("--outbound or --inbound is required", "");
	if (sender == NULL)
		config_error("-f SENDER is required (pipe(8): -f ${sender}, null_sender=)", "");
	if (argc - optind != 1)
		config_error("one recipient per run (main.cf: TRANSPORT_destination_recipient_limit "
		    "= 1); arguments given: ", argc - optind > 1 ? "more than one" : "none");
	rcpt = argv[optind];
	/* Postfix's sendmail reads each recipient (and -f) as an address list: "a@x, b@y" would
	 * reach b, unencrypted, under a's policy. pipe(8) with flags=q quotes what needs it. */
	if (!one_address(rcpt))
		config_error("the recipient is not one address as sendmail reads it (pipe(8) "
		    "needs flags=q): ", rcpt);
	if (*sender != '\0' && !one_address(sender))
		config_error("the sender is not one address as sendmail reads it (pipe(8) "
		    "needs flags=q): ", sender);
	if (gw_policy_load(&p, conf_path, own_dir(), &e) != 0)
		config_error("", e.msg);
	authserv = p.authserv != NULL ? p.authserv : ar_default_authserv(host, sizeof host);
	fd = spool_stdin();
	if (mode == 'O')
		outbound(&p, authserv, sender, rcpt, &fd, &sum);
	else
		inbound(&p, authserv, rcpt, &fd, &sum);
	if (to_stdout) {
		unsigned char b[65536];
		struct io_out o;
		ssize_t n;

		if (lseek(fd, 0, SEEK_SET) != 0)
			cli_die(EX_TEMPFAIL, "cannot rewind a temporary file");
		if (io_out_init(&o, STDOUT_FILENO, "standard output", &e) != 0)
			cli_die_err(&e);
		while ((n = io_read(fd, b, sizeof b)) > 0)
			if (io_out_write(&o, b, (size_t)n) != 0)
				cli_die_err(&o.e);
		if (n < 0)
			cli_die(EX_IOERR, "cannot read a temporary file: %s", strerror(errno));
		if (io_out_finish(&o) != 0)
			cli_die_err(&o.e);
		io_out_free(&o);
		cli_close_stdout();
	} else {
		reinject(&p, sender, rcpt, fd);
	}
	cli_warn("%s: %s", mode == 'O' ? "outbound" : "inbound", sum.p != NULL ? sum.p : "");
	buf_free(&sum);
	gw_policy_free(&p);
	close(fd);
	return EX_OK;
}
