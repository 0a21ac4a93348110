/* smime-verify — verify an S/MIME signed message and say so in Authentication-Results. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ar.h"
#include "batch.h"
#include "certstore.h"
#include "cli.h"
#include "conf.h"
#include "io.h"
#include "revoke.h"
#include "smime.h"

static const char usage[] =
    "usage: smime-verify [-Eks] [--after-decrypt] [--accept-sender] [--ca-file FILE]\n"
    "                    [--ca-path DIR] [--save-certs DIR] [--cert-dir DIR]\n"
    "                    [--authserv-id ID] [--crl-file FILE] [--crl-path DIR]\n"
    "                    [--revocation soft|strict|off] [--no-fetch]\n"
    "                    [--require-signature any|classical|pq|both] [-C FILE] [FILE]\n"
    "       smime-verify [options] --out-dir DIR [--force] FILE...\n"
    "       smime-verify [options] --maildir DIR (--to-maildir DIR | --in-place | --exec CMD)\n"
    "                    [--cur]\n"
    "\n"
    "Verify the S/MIME signature of the message in FILE (or standard input) and write the\n"
    "message to standard output with an Authentication-Results field. Exit 0 whenever the\n"
    "message was written, whatever the verdict (it travels in the field).\n"
    "\n"
    "  -E, --exit-code         exit 0 only for pass, 1 for any other verdict\n"
    "      --after-decrypt     the input comes from smime-decrypt: fold its record in\n"
    "      --accept-sender     a signer named only by the Sender field passes too\n"
    "      --ca-file FILE      trust the CA certificates in FILE (instead of the system's)\n"
    "      --ca-path DIR       trust the CA certificates in DIR (hashed names)\n"
    "  -k, --keep              write the signed message unchanged (only add the field)\n"
    "  -s, --strict            write nothing unless the signature passes (exit 1 then)\n"
    "      --save-certs DIR    store the signer's certificate and preferences in DIR\n"
    "      --cert-dir DIR      certificate store whose entries are trusted as pinned\n"
    "                          (default: ~/.local/share/secmail/certs)\n"
    "      --authserv-id ID    the authentication service name (default: host name)\n"
    "      --crl-file FILE     revocation: also the CRLs in FILE (PEM or DER)\n"
    "      --crl-path DIR      revocation: also the CRLs in the files of DIR\n"
    "      --revocation MODE   soft (default; status unknown: pass with a note), strict\n"
    "                          (status unknown: temperror) or off\n"
    "      --no-fetch          never fetch CRLs or ask OCSP responders (files, cache)\n"
    "      --require-signature any|classical|pq|both  the kinds of signature that must be\n"
    "                          present and verify (any: one; classical: RSA, ECDSA or\n"
    "                          EdDSA; pq: ML-DSA or SLH-DSA; both)\n"
    "  -C, --config FILE       read FILE instead of ~/.config/secmail/smime.conf\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    BATCH_USAGE
    "  In a Maildir, --after-decrypt applies to the messages smime-decrypt wrote.\n"
    "\n"
    "Defaults: the configuration file (ca_file, ca_path, cert_dir, authserv_id,\n"
    "require_signature), then SECMAIL_CA_FILE, SECMAIL_CA_PATH, SECMAIL_CERT_DIR,\n"
    "SECMAIL_AUTHSERV_ID, SECMAIL_REQUIRE_SIGNATURE; revocation:\n"
    "crl_file, crl_path, revocation, fetch, fetch_timeout, fetch_budget, revocation_cache,\n"
    "then SECMAIL_CRL_FILE, SECMAIL_CRL_PATH, SECMAIL_REVOCATION, SECMAIL_FETCH_TIMEOUT,\n"
    "SECMAIL_FETCH_BUDGET, SECMAIL_REVOCATION_CACHE.\n"
    "Exit status: 0 written, 1 withheld (--strict) or not pass (-E), 66 empty input,\n"
    "75 a transient failure (nothing complete written: retry), 64 usage, 78 configuration.\n";

/* The filter contract: once nothing complete could be written, every failure that is not
 * about usage, configuration or an empty input is transient (EX_TEMPFAIL), so the MTA
 * retries instead of filing a truncated message or bouncing it. */
static _Noreturn void
die_filter(const struct err *e)
{
	struct err t = *e;

	if (t.code != EX_NOINPUT && t.code != EX_USAGE && t.code != EX_CONFIG)
		t.code = EX_TEMPFAIL;
	cli_die_err(&t);
}

/* An authserv-id is written as a token (RFC 8601 §2.2, RFC 2045 value). */
static void
check_authserv(const char *id)
{
	char back[256];

	if (id != NULL && (strlen(id) >= sizeof back || ar_authserv(id, back, sizeof back) != 0
	    || strcmp(back, id) != 0 || strchr(id, '"') != NULL))
		cli_die(EX_CONFIG, "authserv-id \"%.80s\" is not a host name or token", id);
}

static struct certstore *
open_store(const char *dir)
{
	struct certstore *cs;
	struct err e;

	if (dir != NULL && certstore_open(&cs, dir, &e) != 0)
		cli_die_err(&e);
	return dir != NULL ? cs : NULL;
}

/* Issue 15: which kinds of signature must verify (--require-signature). */
enum { OPT_REQUIRE_SIGNATURE = 0x1510 };

static void
setup_require(struct cms_verify_opts *o, const char *given, struct conf *cf)
{
	const char *v = given != NULL ? given : conf_setting(cf, "SECMAIL_REQUIRE_SIGNATURE",
	    "require_signature");

	if (v == NULL)
		return;
	if (cms_require_parse(v, &o->require) != 0) {
		if (given != NULL)
			cli_usage(usage, "--require-signature: '%s' is not any, classical, pq or "
			    "both", v);
		cli_die(EX_CONFIG, "require_signature: '%s' is not any, classical, pq or both "
		    "(SECMAIL_REQUIRE_SIGNATURE or the configuration)", v);
	}
}

struct verifier {
	const struct smime_verify_opts *vo;
	enum cms_verdict verdict;	/* of the last message */
	int withheld;			/* --strict held it back */
	char rv_warned[300];		/* the revocation warning said already (once a run) */
};

/* One message, from m->in to m->out: the single-message path and every message of a batch.
 * 0 when a message was written (whatever the verdict) or --strict withheld it. */
static int
verify_one(void *ctx, const struct batch_msg *m, struct err *e)
{
	struct verifier *vf = ctx;
	struct smime_verify_opts vo = *vf->vo;
	struct cms_result r;
	struct io_in in;
	struct io_out o;
	int rc;

	/* A Maildir message takes a decryption record only if smime-decrypt wrote it (its name
	 * says so: only we name the files there); any other's record is forged. */
	if (m->decrypted == 0)
		vo.after_decrypt = 0;
	if (io_in_init(&in, m->in, m->name, e) != 0)
		return -1;
	if (io_out_init(&o, m->out, m->out_name, e) != 0) {
		io_in_free(&in);
		return -1;
	}
	/* One revocation fetch budget per message (issue 13): one hostile message cannot
	 * starve the next ones of a verdict. */
	revoke_begin(vo.cms.revoke);
	rc = smime_verify(&in, &o, &vo, &r, e);
	io_in_free(&in);
	if (rc < 0 || io_out_finish(&o) != 0) {
		if (rc >= 0) {
			*e = o.e;
			cms_result_free(&r);
		}
		io_out_free(&o);
		return -1;
	}
	if (m->out == STDOUT_FILENO && close(STDOUT_FILENO) != 0 && errno != EBADF) {
		cms_result_free(&r);
		return err_sys(e, EX_IOERR, "write error: standard output");
	}
	/* The message is out: from here on nothing may turn into a failure exit without -E
	 * (procmail would file the original message, and with it a forged verdict). */
	if (r.verdict != CMS_V_PASS)
		cli_warn("%s: %s", cms_verdict_name(r.verdict), r.reason);
	else if (r.enc_note[0] != '\0')
		cli_warn("the signer's encryption certificate was ignored: %s", r.enc_note);
	if (r.warning[0] != '\0')
		cli_warn("%s", r.warning);
	if (vo.cms.revoke != NULL && revoke_warning(vo.cms.revoke)[0] != '\0'
	    && strcmp(revoke_warning(vo.cms.revoke), vf->rv_warned) != 0) {
		cli_warn("%s", revoke_warning(vo.cms.revoke));
		snprintf(vf->rv_warned, sizeof vf->rv_warned, "%s", revoke_warning(vo.cms.revoke));
	}
	vf->verdict = r.verdict;
	vf->withheld = rc == 1;
	cms_result_free(&r);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "exit-code", no_argument, NULL, 'E' },
		{ "after-decrypt", no_argument, NULL, 'd' },
		{ "accept-sender", no_argument, NULL, 'p' },
		{ "ca-file", required_argument, NULL, 'A' },
		{ "ca-path", required_argument, NULL, 'P' },
		{ "keep", no_argument, NULL, 'k' },
		{ "strict", no_argument, NULL, 's' },
		{ "save-certs", required_argument, NULL, 'S' },
		{ "cert-dir", required_argument, NULL, 'D' },
		{ "authserv-id", required_argument, NULL, 'a' },
		REVOKE_LONGOPTS,	/* issue 13 */
		{ "config", required_argument, NULL, 'C' },
		{ "require-signature", required_argument, NULL, OPT_REQUIRE_SIGNATURE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		BATCH_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct smime_verify_opts vo;
	struct verifier vf;
	struct batch bt;
	struct batch_msg m;
	const char *bad;
	const char *save_dir = NULL, *cert_dir = NULL, *now, *config = NULL;
	char defdir[4096], cachedir[4096];
	struct revoke_opts ro;
	struct revoke *rv;
	struct conf cf;
	struct err e;
	int c, exit_code = 0, status, rc;
	const char *require = NULL;

	cli_init(argc, argv);
	memset(&vo, 0, sizeof vo);
	batch_init(&bt, "verified", 0);
	revoke_opts_init(&ro);
	while ((c = getopt_long(argc, argv, "EksC:hV", longopts, NULL)) != -1) {
		if ((rc = revoke_getopt(c, optarg, &ro, &e)) < 0)
			cli_usage(usage, "%s", e.msg);
		if (rc > 0)
			continue;
		switch (c) {
		case 'E': exit_code = 1; break;
		case 'd': vo.after_decrypt = 1; break;
		case 'p': vo.accept_sender = 1; break;
		case 'A': vo.cms.ca_file = optarg; break;
		case 'P': vo.cms.ca_path = optarg; break;
		case 'k': vo.keep = 1; break;
		case 's': vo.strict = 1; break;
		case 'S': save_dir = optarg; break;
		case 'D': cert_dir = optarg; break;
		case 'a': vo.authserv_id = optarg; break;
		case 'C': config = optarg; break;
		case OPT_REQUIRE_SIGNATURE: require = optarg; break;
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
	if (batch_active(&bt) && (exit_code || vo.strict))
		cli_usage(usage, "-E and --strict are for one message: in batch mode every message "
		    "is written with its verdict in its header");
	/* Built-in < configuration file < environment < command line. */
	conf_init(&cf);
	if (conf_open(&cf, config, "smime.conf", &e) < 0)
		cli_die_err(&e);
	if (vo.cms.ca_file == NULL && vo.cms.ca_path == NULL) {
		vo.cms.ca_file = conf_setting(NULL, "SECMAIL_CA_FILE", NULL);
		vo.cms.ca_path = conf_setting(NULL, "SECMAIL_CA_PATH", NULL);
		if (vo.cms.ca_file == NULL && vo.cms.ca_path == NULL) {
			vo.cms.ca_file = conf_get(&cf, NULL, "ca_file");
			vo.cms.ca_path = conf_get(&cf, NULL, "ca_path");
		}
	}
	/* One default store for every tool: the one smime-encrypt reads. */
	if (cert_dir == NULL)
		cert_dir = save_dir;
	if (cert_dir == NULL)
		cert_dir = conf_setting(&cf, "SECMAIL_CERT_DIR", "cert_dir");
	if (cert_dir == NULL)
		cert_dir = certstore_default_dir(defdir, sizeof defdir);
	if (vo.authserv_id == NULL)
		vo.authserv_id = conf_setting(&cf, "SECMAIL_AUTHSERV_ID", "authserv_id");
	check_authserv(vo.authserv_id);
	setup_require(&vo.cms, require, &cf);
	/* Tests inject the clock here. */
	if ((now = conf_setting(NULL, "SECMAIL_NOW", NULL)) != NULL)
		vo.cms.now = (time_t)cli_number(now, (long long)1 << 40);
	ro.now = vo.cms.now;
	if (revoke_setup(&ro, &cf, cachedir, sizeof cachedir, &rv, &e) != 0)
		cli_die_err(&e);
	vo.cms.revoke = rv;

	if (!batch_active(&bt) && batch_single(&m, optind < argc ? argv[optind] : NULL, &e) != 0)
		cli_die_err(&e);
	vo.save = open_store(save_dir);
	vo.store = save_dir != NULL && cert_dir != NULL && strcmp(save_dir, cert_dir) == 0 ? vo.save
	    : open_store(cert_dir);
	memset(&vf, 0, sizeof vf);
	vf.vo = &vo;
	/* Batch mode: stores and options set up once, verify_one for every message. */
	if (batch_active(&bt)) {
		/* The trust anchors too: read once, not for each message. */
		if ((vo.cms.anchors = cms_load_anchors(&vo.cms, &e)) == NULL)
			die_filter(&e);
		status = batch_run(&bt, argv + optind, argc - optind, verify_one, &vf, &e);
		X509_STORE_free(vo.cms.anchors);
		if (status < 0)
			cli_die_err(&e);
	} else {
		if (verify_one(&vf, &m, &e) != 0)
			die_filter(&e);
		status = vf.withheld ? 1 : exit_code && vf.verdict != CMS_V_PASS ? 1 : EX_OK;
	}
	if (vo.store != vo.save)
		certstore_close(vo.store);
	certstore_close(vo.save);
	revoke_free(rv);
	conf_free(&cf);
	return status;
}
