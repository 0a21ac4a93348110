/* smime-sign — S/MIME-sign a message, keeping its outer header fields outside the signature. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "certimport.h"
#include "cli.h"
#include "conf.h"
#include "io.h"
#include "keys.h"
#include "smime.h"

static const char usage[] =
    "usage: smime-sign [--cert FILE --key FILE [--cert FILE --key FILE] | --p12 FILE]\n"
    "                  [--chain FILE]\n"
    "                  [--pass-file FILE | --pass-fd FD | --pass-env VAR]\n"
    "                  [--opaque | --certs-only] [--digest sha256|sha384|sha512] [--pss]\n"
    "                  [--encrypt-cert FILE] [--no-from-check]\n"
    "                  [--no-header-protection | --header-protection clear|cipher]\n"
    "                  [--receipt-request[=ADDRESS,...]]\n"
    "                  [--capabilities PRESET|LIST] [--expiry-warning DAYS] [FILE]\n"
    "       smime-sign [options] --out-dir DIR [--force] FILE...\n"
    "       smime-sign [options] --maildir DIR (--to-maildir DIR | --in-place | --exec CMD)\n"
    "                  [--cur] [--force]\n"
    "\n"
    "Sign the RFC 5322 message in FILE (or standard input) with S/MIME and write it to\n"
    "standard output: multipart/signed by default.\n"
    "\n"
    "  -c, --cert FILE         signer certificate (PEM); twice: a second signer\n"
    "  -k, --key FILE          private key (PEM, may be encrypted); the n-th goes with the\n"
    "                          n-th --cert (e.g. RSA or ECDSA plus ML-DSA)\n"
    "  -p, --p12 FILE          PKCS#12 file with key, certificate and chain\n"
    "      --chain FILE        intermediate certificates to include\n"
    "      --pass-file FILE    read the passphrase from FILE (first line)\n"
    "      --pass-fd FD        read the passphrase from file descriptor FD\n"
    "      --pass-env VAR      take the passphrase from environment variable VAR\n"
    "  -o, --opaque            application/pkcs7-mime signed-data instead of multipart/signed\n"
    "      --certs-only        write a certs-only message carrying the certificates\n"
    "  -d, --digest NAME       sha256 (default), sha384 or sha512\n"
    "      --pss               RSA-PSS signatures instead of PKCS#1 v1.5\n"
    "      --encrypt-cert FILE announce FILE as the certificate to encrypt to\n"
    "      --no-from-check     sign even if the certificate does not name the From address\n"
    "      --no-header-protection  sign the content only, not the header (RFC 9788 off)\n"
    "      --header-protection MODE  clear (default: the header fields are signed too) or\n"
    "                          cipher (for a message smime-encrypt encrypts next), none\n"
    "      --receipt-request[=ADDRESS,...]  ask for a signed receipt (RFC 2634), sent to\n"
    "                          ADDRESS (default: the From address)\n"
    "      --capabilities PRESET|LIST  what to announce: secmail (default), cbc,\n"
    "                          openssl-smime, neomutt, mutt, s-nail, gpgsm, nss, or ciphers\n"
    "                          (aes-256-gcm,aes-128-gcm,aes-256-cbc,aes-128-cbc)\n"
    "      --expiry-warning DAYS  warn when a certificate the signature carries expires\n"
    "                          within DAYS (30; 0: never)\n"
    "  -C, --config FILE       read FILE instead of ~/.config/secmail/smime.conf\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    BATCH_USAGE
    "  Signed messages are skipped unless --force.\n"
    "\n"
    "Defaults: the configuration file (cert, key, p12, chain, pass_file, pass_env, digest,\n"
    "header_protection, capabilities, expiry_warning), then SECMAIL_CERT, SECMAIL_KEY,\n"
    "SECMAIL_P12, SECMAIL_CHAIN, SECMAIL_PASS_FILE, SECMAIL_DIGEST,\n"
    "SECMAIL_HEADER_PROTECTION, SECMAIL_CAPABILITIES, SECMAIL_EXPIRY_WARNING; options\n"
    "override both.\n";

/* Issue 13: what the signature announces, and the signing certificate's dates. */
enum { OPT_CAPABILITIES = 0x1310, OPT_EXPIRY_WARNING };
#define EXPIRY_WARNING_DAYS 30

static void
setup_caps(struct cms_sign_opts *o, const char *spec, int given, int *nids, int max)
{
	struct err e;

	if (spec == NULL)
		return;
	if (cms_caps_parse(spec, nids, max, &o->ncaps, &e) != 0) {
		if (given)
			cli_usage(usage, "%s", e.msg);
		cli_die(EX_CONFIG, "%s (SECMAIL_CAPABILITIES or the configuration)", e.msg);
	}
	o->caps = nids;
}

/* The --expiry-warning window in days: the option, else the configuration's value. */
static int
warn_window(const char *days, int given)
{
	long long d = EXPIRY_WARNING_DAYS;

	if (days != NULL && (d = cli_number(days, 36500)) < 0) {
		if (given)
			cli_usage(usage, "--expiry-warning: '%s' is not a number of days", days);
		cli_die(EX_CONFIG, "expiry_warning: '%s' is not a number of days", days);
	}
	return (int)d;
}

/*
 * An expired or not yet valid certificate is refused (a cron job would otherwise go on sending
 * signatures every reader rejects), one that expires within days is warned about. what names
 * it: NULL for a signing certificate, else where it came from ("in the chain"), and then the
 * message names its subject too, since the user may not know which certificate of a file
 * is meant.
 */
static void
check_cert(X509 *x, time_t now, int days, const char *what)
{
	static const char lead[] = "certificate ";
	char warn[200], name[256], who[320];
	const char *msg;
	struct err e;
	int rc;

	rc = keys_check_validity(x, now ? now : time(NULL), days, warn, sizeof warn, &e);
	msg = rc != 0 ? e.msg : warn;
	if (rc == 0 && warn[0] == '\0')
		return;
	if (strncmp(msg, lead, sizeof lead - 1) == 0)
		msg += sizeof lead - 1;
	if (what == NULL) {
		snprintf(who, sizeof who, "the signing certificate");
	} else {
		certimport_name(X509_get_subject_name(x), name, sizeof name);
		snprintf(who, sizeof who, "the certificate \"%s\" %s", name, what);
	}
	if (rc != 0)
		cli_die(EX_DATAERR, "cannot sign: %s %s", who, msg);
	cli_warn("warning: %s %s: renew it", who, msg);
}

/* Issue 13: the dates of every certificate the signature carries: the signer's and each in
 * its chain (--chain, the --cert file, the PKCS#12 file: an expired intermediate makes every
 * recipient reject the signature). */
static void
check_identity(const struct keys_identity *id, time_t now, int days)
{
	int i;

	check_cert(id->cert, now, days, NULL);
	for (i = 0; i < sk_X509_num(id->chain); i++)
		check_cert(sk_X509_value(id->chain, i), now, days, "in the chain");
}

/* Issue 15: --cert and --key given a second time name a second signer (e.g. ML-DSA beside
 * RSA or ECDSA): one SignedData with two SignerInfos. */
static void
second_opt(struct keys_opts *ko2, const char *arg, int key)
{
	const char **slot = key ? &ko2->key : &ko2->cert;

	if (*slot != NULL)
		cli_usage(usage, "--%s: at most two signers", key ? "key" : "cert");
	*slot = arg;
}

/* The second signer, when --cert/--key were given twice: its key is read with the first
 * one's passphrase file or variable (a descriptor can be read only once). */
static const struct keys_identity *
load_second(const struct keys_opts *ko, struct keys_opts *ko2, struct keys_identity *id2,
    int certs_only)
{
	struct err e;

	if (ko2->cert == NULL && ko2->key == NULL)
		return NULL;
	if (ko2->cert == NULL || ko2->key == NULL)
		cli_usage(usage, "a second signer needs both --cert and --key");
	if (ko->p12 != NULL)
		cli_usage(usage, "a second signer needs --cert/--key for the first one too");
	if (certs_only)
		cli_usage(usage, "--certs-only takes one certificate");
	ko2->pass_file = ko->pass_file;
	ko2->pass_env = ko->pass_env;
	if (keys_load_identity(ko2, id2, &e) != 0)
		cli_die_err(&e);
	return id2;
}

struct signer {
	const struct keys_identity *id;
	const struct smime_sign_opts *so;
};

/* One message, from m->in to m->out: the single-message path and every message of a batch. */
static int
sign_one(void *ctx, const struct batch_msg *m, struct err *e)
{
	const struct signer *sg = ctx;
	struct io_in in;
	struct io_out o;
	int rc = -1;

	if (io_in_init(&in, m->in, m->name, e) != 0)
		return -1;
	if (io_out_init(&o, m->out, m->out_name, e) == 0) {
		if (smime_sign(&in, &o, sg->id, sg->so, e) == 0) {
			if (io_out_finish(&o) == 0)
				rc = 0;
			else
				*e = o.e;
		}
		io_out_free(&o);
	}
	io_in_free(&in);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "p12", required_argument, NULL, 'p' },
		{ "chain", required_argument, NULL, 'H' },
		{ "pass-file", required_argument, NULL, 'F' },
		{ "pass-fd", required_argument, NULL, 'D' },
		{ "pass-env", required_argument, NULL, 'E' },
		{ "opaque", no_argument, NULL, 'o' },
		{ "certs-only", no_argument, NULL, 'O' },
		{ "digest", required_argument, NULL, 'd' },
		{ "pss", no_argument, NULL, 'P' },
		{ "encrypt-cert", required_argument, NULL, 'e' },
		{ "no-from-check", no_argument, NULL, 'n' },
		/* issue 14: header protection and receipts */
		{ "no-header-protection", no_argument, NULL, 'N' },
		{ "header-protection", required_argument, NULL, 'M' },
		{ "receipt-request", optional_argument, NULL, 'R' },
		{ "capabilities", required_argument, NULL, OPT_CAPABILITIES },
		{ "expiry-warning", required_argument, NULL, OPT_EXPIRY_WARNING },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		BATCH_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct smime_sign_opts so;
	struct keys_opts ko;
	struct keys_identity id, id2;
	struct keys_opts ko2;
	STACK_OF(X509) *enc = NULL;
	const char *encfile = NULL, *now, *config = NULL;
	const char *caps = NULL, *warn_days = NULL;
	int capnids[8], caps_given, warn_given, hp_given;
	struct conf cf;
	struct batch bt;
	struct signer sg;
	struct batch_msg m;
	const char *bad;
	struct err e;
	const char *hpmode = NULL;
	int c, pass_given = 0, rc, days;

	cli_init(argc, argv);
	batch_init(&bt, "signed", BATCH_SKIP_SIGNED);
	memset(&so, 0, sizeof so);
	keys_opts_init(&ko);
	keys_opts_init(&ko2);
	while ((c = getopt_long(argc, argv, "c:k:p:od:C:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': ko.cert == NULL ? (void)(ko.cert = optarg) : second_opt(&ko2, optarg, 0); break;
		case 'k': ko.key == NULL ? (void)(ko.key = optarg) : second_opt(&ko2, optarg, 1); break;
		case 'p': ko.p12 = optarg; break;
		case 'H': ko.chain = optarg; break;
		case 'F': ko.pass_file = optarg; pass_given = 1; break;
		case 'D': ko.pass_fd = optarg; pass_given = 1; break;
		case 'E': ko.pass_env = optarg; pass_given = 1; break;
		case 'o': so.cms.opaque = 1; break;
		case 'O': so.certs_only = 1; break;
		case 'd': so.cms.digest = optarg; break;
		case 'P': so.cms.pss = 1; break;
		case 'e': encfile = optarg; break;
		case 'n': so.no_from_check = 1; break;
		case 'N': hpmode = "none"; break;
		case 'M': hpmode = optarg; break;
		case 'R': so.receipt = 1; so.receipt_to = optarg; break;
		case 'C': config = optarg; break;
		case OPT_CAPABILITIES: caps = optarg; break;
		case OPT_EXPIRY_WARNING: warn_days = optarg; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default:
			if (batch_option(&bt, c, optarg))
				break;
			cli_usage(usage, NULL);
		}
	}
	if (!batch_active(&bt) && argc - optind > 1)
		cli_usage(usage, "too many arguments");
	if (batch_active(&bt) && (bad = batch_check(&bt, argc - optind)) != NULL)
		cli_usage(usage, "%s", bad);
	if (so.cms.opaque && so.certs_only)
		cli_usage(usage, "--opaque and --certs-only exclude each other");
	/* Built-in < configuration file < environment < command line. */
	conf_init(&cf);
	if (conf_open(&cf, config, "smime.conf", &e) < 0)
		cli_die_err(&e);
	keys_opts_defaults(&ko, &cf, KEYS_DEF_IDENTITY | KEYS_DEF_CHAIN | (pass_given ? 0 : KEYS_DEF_PASS));
	if (so.cms.digest == NULL)
		so.cms.digest = conf_setting(&cf, "SECMAIL_DIGEST", "digest");
	hp_given = hpmode != NULL;
	if (hpmode == NULL)
		hpmode = conf_setting(&cf, "SECMAIL_HEADER_PROTECTION", "header_protection");
	if (hp_mode_parse(hpmode != NULL ? hpmode : "clear", &so.hp) != 0) {
		if (hp_given)
			cli_usage(usage, "--header-protection: '%s' is not clear, cipher or none",
			    hpmode);
		cli_die(EX_CONFIG, "header_protection (SECMAIL_HEADER_PROTECTION or the "
		    "configuration): '%s' is not clear, cipher or none", hpmode);
	}
	/* Tests inject the clock (signing time) here. */
	if ((now = conf_setting(NULL, "SECMAIL_NOW", NULL)) != NULL)
		so.cms.signing_time = (time_t)cli_number(now, (long long)1 << 40);
	caps_given = caps != NULL;
	if (caps == NULL)
		caps = conf_setting(&cf, "SECMAIL_CAPABILITIES", "capabilities");
	setup_caps(&so.cms, caps, caps_given, capnids, (int)(sizeof capnids / sizeof capnids[0]));
	warn_given = warn_days != NULL;
	if (warn_days == NULL)
		warn_days = conf_setting(&cf, "SECMAIL_EXPIRY_WARNING", "expiry_warning");

	if (!batch_active(&bt) && batch_single(&m, optind < argc ? argv[optind] : NULL, &e) != 0)
		cli_die_err(&e);
	if (keys_load_identity(&ko, &id, &e) != 0)
		cli_die_err(&e);
	if (id.cert == NULL)
		cli_die(EX_USAGE, "no signer certificate: give --cert or --p12");
	days = warn_window(warn_days, warn_given);
	if (!so.certs_only)
		check_identity(&id, so.cms.signing_time, days);
	so.cms.second = load_second(&ko, &ko2, &id2, so.certs_only);
	if (so.cms.second != NULL)
		check_identity(&id2, so.cms.signing_time, days);
	if (encfile != NULL) {
		if (keys_load_certs(encfile, &enc, &e) != 0)
			cli_die_err(&e);
	}
	so.cms.enc_cert = enc != NULL ? sk_X509_value(enc, 0) : NULL;
	/* Replies would be encrypted to a dead key. */
	if (so.cms.enc_cert != NULL && !so.certs_only)
		check_cert(so.cms.enc_cert, so.cms.signing_time, days, "given with --encrypt-cert");
	sg.id = &id;
	sg.so = &so;
	/* Batch mode: the key is loaded once, sign_one runs for every message (lib/batch.h). */
	if (batch_active(&bt)) {
		rc = batch_run(&bt, argv + optind, argc - optind, sign_one, &sg, &e);
		keys_identity_free(&id);
		if (so.cms.second != NULL)
			keys_identity_free(&id2);
		sk_X509_pop_free(enc, X509_free);
		conf_free(&cf);
		if (rc < 0)
			cli_die_err(&e);
		return rc;
	}
	if (sign_one(&sg, &m, &e) != 0) {
		keys_identity_free(&id);
		if (so.cms.second != NULL)
			keys_identity_free(&id2);
		cli_die_err(&e);
	}
	keys_identity_free(&id);
	if (so.cms.second != NULL)
		keys_identity_free(&id2);
	sk_X509_pop_free(enc, X509_free);
	conf_free(&cf);
	cli_close_stdout();
	return EX_OK;
}
