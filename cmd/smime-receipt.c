/* smime-receipt — RFC 2634 signed receipts: answer a validly signed message that asks for one
 * (the receipt message goes to standard output, ready for mailsend -t), or, with --check,
 * check a receipt against what smime-sign --receipt-request kept. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/objects.h>

#include "addr.h"
#include "ar.h"
#include "buf.h"
#include "certstore.h"
#include "cli.h"
#include "conf.h"
#include "cte.h"
#include "io.h"
#include "keys.h"
#include "msg.h"
#include "param.h"
#include "receipt.h"
#include "smime.h"

static const char usage[] =
    "usage: smime-receipt [--cert FILE --key FILE | --p12 FILE]\n"
    "                     [--pass-file FILE | --pass-fd FD | --pass-env VAR]\n"
    "                     [--ca-file FILE] [--ca-path DIR] [--cert-dir DIR]\n"
    "                     [--any-receipts-to] [-C FILE] [FILE]\n"
    "       smime-receipt --check [--receipt-dir DIR] [--ca-file FILE] [--ca-path DIR]\n"
    "                     [-C FILE] [FILE]\n"
    "\n"
    "Answer the signed message in FILE (or standard input) with a signed receipt (RFC 2634)\n"
    "when its sender asked for one and its signature passes: the receipt message goes to\n"
    "standard output, for mailsend -t, addressed to those of the request's receiptsTo\n"
    "addresses that the sender's certificate names (others are dropped with a warning).\n"
    "With --check, check the receipt message in FILE against what smime-sign\n"
    "--receipt-request kept, and say which message it proves delivered, and when: only a\n"
    "receipt from someone the message was addressed to (and on its receiptList) passes.\n"
    "\n"
    "  -c, --cert FILE         your certificate (PEM): the receipt is signed with it\n"
    "  -k, --key FILE          its private key\n"
    "  -p, --p12 FILE          PKCS#12 file with key, certificate and chain\n"
    "      --pass-file FILE    read the passphrase from FILE (first line)\n"
    "      --pass-fd FD        read the passphrase from file descriptor FD\n"
    "      --pass-env VAR      take the passphrase from environment variable VAR\n"
    "      --ca-file FILE      trust the CA certificates in FILE (instead of the system's)\n"
    "      --ca-path DIR       trust the CA certificates in DIR (hashed names)\n"
    "      --cert-dir DIR      certificate store whose entries are trusted as pinned\n"
    "      --any-receipts-to   send the receipt to every receiptsTo address, also to\n"
    "                          those the sender's certificate does not name\n"
    "      --check             check a receipt instead of making one\n"
    "      --receipt-dir DIR   where smime-sign kept the requests\n"
    "                          (default: ~/.local/state/secmail/receipts)\n"
    "  -C, --config FILE       read FILE instead of ~/.config/secmail/smime.conf\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "Exit status: 0 receipt written (or, --check, a good receipt); 1 no receipt due (or a\n"
    "receipt that proves nothing); 65 not a message or not a receipt; 66 empty input;\n"
    "75 a transient failure; 64 usage; 78 configuration.\n";

#define MAX_RECEIPT (1 << 20)

/* Transient unless about usage, configuration or an empty input. */
static _Noreturn void
die(const struct err *e)
{
	struct err t = *e;

	if (t.code == EX_IOERR || t.code == EX_OSERR || t.code == EX_CANTCREAT)
		t.code = EX_TEMPFAIL;
	cli_die_err(&t);
}

static void
put(struct io_out *o, const char *name, const char *value)
{
	struct err e;
	char *f = msg_fold(name, value, "\n", &e);

	if (f == NULL)
		die(&e);
	if (io_out_puts(o, f) != 0)
		die(&o->e);
	free(f);
}

/* The address the receipt comes from: the first of ours that the message was sent to (To,
 * Cc), else the certificate's first. */
static const char *
our_address(const struct msg_header *h, char **mine)
{
	static const char *const names[] = { "To", "Cc" };
	struct addr_list l = { NULL, 0, 0 };
	struct err e;
	size_t i, j, k;

	for (k = 0; k < 2; k++)
		for (i = msg_header_next(h, names[k], 0); i != (size_t)-1;
		    i = msg_header_next(h, names[k], i + 1))
			(void)addr_parse(h->f[i].value, &l, &e);
	for (i = 0; i < l.n; i++)
		for (j = 0; mine[j] != NULL; j++)
			if (addr_spec_eq(l.v[i].spec, mine[j])) {
				addr_list_free(&l);
				return mine[j];
			}
	addr_list_free(&l);
	return mine[0];
}

/* The receiptsTo addresses receipt_make dropped, in one line. */
static void
warn_dropped(char **dropped)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; dropped != NULL && dropped[i] != NULL && i < 8; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", dropped[i]);
	if (i == 0)
		return;
	if (dropped[i] != NULL)
		buf_adds(&b, ", ...");
	cli_warn("warning: not sending the receipt to %s: the sender's certificate does not "
	    "name %s", b.p != NULL && !b.oom ? b.p : "?", i > 1 ? "them" : "it");
	buf_free(&b);
}

static int
make(struct io_in *in, struct smime_verify_opts *vo, struct keys_opts *ko, int any_to)
{
	static char *const nobody[] = { NULL };
	struct keys_identity id;
	struct cms_result r;
	struct buf sig = BUF_INIT, der = BUF_INIT, b = BUF_INIT;
	struct msg_header h;
	struct io_out so, o;
	struct io_in hin;
	struct cte_enc enc;
	struct sink os;
	struct err e;
	char **to = NULL, **dropped = NULL, **mine, why[300], date[64], *mid;
	const struct msg_field *f;
	size_t i;
	int sp, rc;

	if (keys_load_identity(ko, &id, &e) != 0) {
		if (e.code == EX_NOINPUT)
			e.code = EX_TEMPFAIL;
		cli_die_err(&e);
	}
	if (id.cert == NULL)
		cli_die(EX_USAGE, "no certificate to sign the receipt with: give --cert or --p12");
	/* The message is verified as smime-verify would; its output (the header a reader
	 * sees, protected fields included) says where the receipt refers to. */
	vo->sig_der = &sig;
	if ((sp = io_spool(&e)) < 0 || io_out_init(&so, sp, "temporary file", &e) != 0)
		die(&e);
	if (smime_verify(in, &so, vo, &r, &e) < 0)
		die(&e);
	if (io_out_finish(&so) != 0)
		die(&so.e);
	if (r.econtent_type == NID_id_smime_ct_receipt)
		cli_die(1, "no receipt: the message is itself a signed receipt, and a receipt is "
		    "never answered with one (RFC 2634 section 2.3)");
	if (r.verdict != CMS_V_PASS)
		cli_die(1, "no receipt: a receipt is only for a validly signed message (smime=%s: "
		    "%s)", cms_verdict_name(r.verdict), r.reason);
	/* Issue 14 review: by default only to the sender's own addresses (RFC 2634 §2.1:
	 * receipts go out as local policy and configuration say). */
	if ((rc = receipt_make((const unsigned char *)sig.p, sig.len, &id, any_to ? NULL
	    : r.signer_addrs != NULL ? r.signer_addrs : nobody, &der, &to, &dropped, why,
	    sizeof why, &e)) < 0)
		die(&e);
	warn_dropped(dropped);
	keys_addrs_free(dropped);
	if (rc != 0)
		cli_die(1, "no receipt: %s", why);
	if (lseek(sp, 0, SEEK_SET) != 0 || io_in_init(&hin, sp, "temporary file", &e) != 0)
		die(&e);
	msg_header_init(&h);
	h.lenient = 1;
	if (msg_header_read(&hin, &h, &e) != 0)
		die(&e);
	if ((mine = keys_cert_addrs(id.cert, &e)) == NULL)
		die(&e);
	if (io_out_init(&o, STDOUT_FILENO, "standard output", &e) != 0)
		die(&e);
	/* RFC 2634 §2.4: an application/pkcs7-mime signed-receipt. The original Subject is not
	 * repeated: the receipt travels in the clear, the message may not have. */
	put(&o, "From", mine[0] != NULL ? our_address(&h, mine) : "");
	for (i = 0; to[i] != NULL; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", to[i]);
	if (buf_check(&b, &e) != 0)
		die(&e);
	put(&o, "To", b.p);
	put(&o, "Subject", "Signed receipt");
	if (msg_date(vo->cms.now ? vo->cms.now : time(NULL), date, sizeof date) != 0)
		cli_die(EX_SOFTWARE, "cannot format the date");
	put(&o, "Date", date);
	if ((mid = msg_message_id(mine[0] != NULL && strchr(mine[0], '@') ?
	    strchr(mine[0], '@') + 1 : NULL, &e)) == NULL && (mid = msg_message_id(NULL, &e)) == NULL)
		die(&e);
	put(&o, "Message-ID", mid);
	free(mid);
	if ((f = msg_header_get(&h, "Message-ID")) != NULL && strlen(f->value) < 990
	    && strpbrk(f->value, "\r\n") == NULL) {
		put(&o, "In-Reply-To", f->value);
		put(&o, "References", f->value);
	}
	put(&o, "MIME-Version", "1.0");
	put(&o, "Content-Type", "application/pkcs7-mime; smime-type=signed-receipt; "
	    "name=smime.p7m");
	put(&o, "Content-Transfer-Encoding", "base64");
	put(&o, "Content-Disposition", "attachment; filename=smime.p7m");
	if (io_out_puts(&o, "\n") != 0)
		die(&o.e);
	os = io_out_sink(&o);
	if (cte_enc_init(&enc, CTE_BASE64, 0, &e) != 0 || cte_enc_write(&enc, &os, der.p, der.len,
	    &e) != 0 || cte_enc_finish(&enc, &os, &e) != 0)
		die(&e);
	cte_enc_free(&enc);
	if (io_out_finish(&o) != 0)
		die(&o.e);
	cli_close_stdout();
	keys_addrs_free(mine);
	keys_addrs_free(to);
	msg_header_free(&h);
	io_in_free(&hin);
	close(sp);
	buf_free(&sig);
	buf_free(&der);
	buf_free(&b);
	cms_result_free(&r);
	keys_identity_free(&id);
	return EX_OK;
}

static int
buf_sink(void *ctx, const void *p, size_t n, struct err *e)
{
	struct buf *b = ctx;

	if (b->len + n > MAX_RECEIPT)
		return err_set(e, EX_DATAERR, "the receipt is larger than %d bytes", MAX_RECEIPT);
	buf_add(b, p, n);
	return buf_check(b, e);
}

/* The printable form of an untrusted value, for standard output. */
static void
add_value(struct buf *b, const struct msg_header *h, const char *name)
{
	const struct msg_field *f = msg_header_get(h, name);

	if (f != NULL)
		buf_add_printable(b, f->value, strlen(f->value));
	else
		buf_adds(b, "(none)");
}

static int
check(struct io_in *in, const struct cms_verify_opts *co, const char *dir)
{
	struct msg_header h;
	struct mime_type ct;
	struct receipt_result rr;
	struct buf der = BUF_INIT, line = BUF_INIT;
	struct cte_dec dec;
	struct sink s = { buf_sink, &der };
	const struct msg_field *f;
	unsigned char buf[8192];
	struct err e;
	ssize_t n;
	char when[64];
	struct tm tm;

	msg_header_init(&h);
	if (msg_header_read(in, &h, &e) != 0)
		cli_die_err(&e);
	if ((f = msg_header_get(&h, "Content-Type")) == NULL || mime_type_parse(f->value, 0, &ct, &e)
	    != 0)
		cli_die(EX_DATAERR, "not a receipt: no application/pkcs7-mime content");
	if (!(mime_type_is(&ct, "application", "pkcs7-mime")
	    || mime_type_is(&ct, "application", "x-pkcs7-mime")))
		cli_die(EX_DATAERR, "not a receipt: the content is %s/%s, not application/pkcs7-mime "
		    "(smime-type=signed-receipt)", ct.type, ct.subtype);
	mime_type_free(&ct);
	f = msg_header_get(&h, "Content-Transfer-Encoding");
	if (cte_dec_init(&dec, cte_parse(f != NULL ? f->value : NULL), CTE_STRICT, &e) != 0)
		cli_die_err(&e);
	while ((n = io_in_read(in, buf, sizeof buf)) > 0)
		if (cte_dec_write(&dec, &s, buf, (size_t)n, &e) != 0)
			cli_die_err(&e);
	if (n < 0)
		die(&in->e);
	if (cte_dec_finish(&dec, &s, &e) != 0)
		cli_die_err(&e);
	cte_dec_free(&dec);
	if (receipt_verify((const unsigned char *)der.p, der.len, dir, co, &rr, &e) != 0)
		die(&e);
	if (rr.verdict != CMS_V_PASS)
		cli_die(rr.verdict == CMS_V_PERMERROR ? EX_DATAERR : 1, "%s: %s",
		    cms_verdict_name(rr.verdict), rr.reason);
	/* One line: which message, sent when, to whom; who signed the receipt, when. */
	buf_adds(&line, "delivered: ");
	add_value(&line, &rr.kept, "Message-ID");
	buf_adds(&line, " \"");
	add_value(&line, &rr.kept, "Subject");
	buf_adds(&line, "\" sent ");
	add_value(&line, &rr.kept, "Date");
	buf_adds(&line, " to ");
	add_value(&line, &rr.kept, "To");
	buf_adds(&line, "; receipt signed by ");
	buf_add_printable(&line, rr.signer[0] ? rr.signer : "?", strlen(rr.signer[0] ? rr.signer
	    : "?"));
	if (rr.signing_time != 0 && gmtime_r(&rr.signing_time, &tm) != NULL
	    && strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
		buf_addf(&line, " at %s", when);
	buf_adds(&line, "\n");
	if (buf_check(&line, &e) != 0)
		die(&e);
	if (io_write_all(STDOUT_FILENO, line.p, line.len) != 0) {
		err_sys(&e, EX_IOERR, "write error: standard output");
		cli_die_err(&e);
	}
	cli_close_stdout();
	buf_free(&line);
	buf_free(&der);
	receipt_result_free(&rr);
	msg_header_free(&h);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "p12", required_argument, NULL, 'p' },
		{ "pass-file", required_argument, NULL, 'F' },
		{ "pass-fd", required_argument, NULL, 'D' },
		{ "pass-env", required_argument, NULL, 'E' },
		{ "ca-file", required_argument, NULL, 'A' },
		{ "ca-path", required_argument, NULL, 'P' },
		{ "cert-dir", required_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'K' },
		{ "any-receipts-to", no_argument, NULL, 'Y' },
		{ "receipt-dir", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct smime_verify_opts vo;
	struct keys_opts ko;
	struct conf cf;
	struct io_in in;
	struct err e;
	const char *name = "standard input", *config = NULL, *dir = NULL, *cert_dir = NULL, *now;
	char defdir[4096], rdir[4096], host[256];
	int c, fd = STDIN_FILENO, checking = 0, any_to = 0, rc;
	ssize_t got;

	cli_init(argc, argv);
	memset(&vo, 0, sizeof vo);
	keys_opts_init(&ko);
	while ((c = getopt_long(argc, argv, "c:k:p:C:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': ko.cert = optarg; break;
		case 'k': ko.key = optarg; break;
		case 'p': ko.p12 = optarg; break;
		case 'F': ko.pass_file = optarg; break;
		case 'D': ko.pass_fd = optarg; break;
		case 'E': ko.pass_env = optarg; break;
		case 'A': vo.cms.ca_file = optarg; break;
		case 'P': vo.cms.ca_path = optarg; break;
		case 'd': cert_dir = optarg; break;
		case 'K': checking = 1; break;
		case 'Y': any_to = 1; break;
		case 'r': dir = optarg; break;
		case 'C': config = optarg; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: cli_usage(usage, NULL);
		}
	}
	if (argc - optind > 1)
		cli_usage(usage, "too many arguments");
	conf_init(&cf);
	if (conf_open(&cf, config, "smime.conf", &e) < 0)
		cli_die_err(&e);
	if (vo.cms.ca_file == NULL && vo.cms.ca_path == NULL) {
		vo.cms.ca_file = conf_setting(&cf, "SECMAIL_CA_FILE", "ca_file");
		vo.cms.ca_path = conf_setting(&cf, "SECMAIL_CA_PATH", "ca_path");
	}
	if ((now = conf_setting(NULL, "SECMAIL_NOW", NULL)) != NULL)
		vo.cms.now = (time_t)cli_number(now, (long long)1 << 40);
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		name = argv[optind];
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0) {
			err_sys(&e, EX_NOINPUT, "cannot open %s", name);
			cli_die_err(&e);
		}
	}
	if (io_in_init(&in, fd, name, &e) != 0)
		die(&e);
	if ((got = io_in_fill(&in, 1)) < 0)
		die(&in.e);
	if (got == 0)
		cli_die(EX_NOINPUT, "%s is empty: no message", name);
	if (checking) {
		if (dir == NULL && (dir = conf_setting(&cf, "SECMAIL_RECEIPT_DIR", "receipt_dir"))
		    == NULL && (dir = receipt_default_dir(rdir, sizeof rdir)) == NULL)
			cli_die(EX_CONFIG, "no receipt directory: give --receipt-dir");
		rc = check(&in, &vo.cms, dir);
	} else {
		keys_opts_defaults(&ko, &cf, KEYS_DEF_IDENTITY | KEYS_DEF_CHAIN | KEYS_DEF_PASS);
		if (cert_dir == NULL)
			cert_dir = conf_setting(&cf, "SECMAIL_CERT_DIR", "cert_dir");
		if (cert_dir == NULL)
			cert_dir = certstore_default_dir(defdir, sizeof defdir);
		if (cert_dir != NULL && certstore_open(&vo.store, cert_dir, &e) != 0)
			cli_die_err(&e);
		vo.authserv_id = ar_default_authserv(host, sizeof host);
		rc = make(&in, &vo, &ko, any_to);
		certstore_close(vo.store);
	}
	io_in_free(&in);
	conf_free(&cf);
	return rc;
}
