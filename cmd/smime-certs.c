/* smime-certs — list, show, import, pin, remove, export the certificate store that
 * smime-verify --save-certs fills and smime-encrypt reads; `expiring` for cron. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/objects.h>
#include <openssl/pem.h>

#include "buf.h"
#include "certimport.h"
#include "certstore.h"
#include "cli.h"
#include "conf.h"
#include "io.h"
#include "keys.h"
#include "revoke.h"

static const char usage[] =
    "usage: smime-certs [-m] [--cert-dir DIR] [-C FILE] list [ADDRESS...]\n"
    "       smime-certs [-m] show ADDRESS\n"
    "       smime-certs [-m] [--ca-file FILE] [--ca-path DIR] [--crl-file FILE]\n"
    "                   [--crl-path DIR] [--revocation MODE] [--no-fetch] import FILE...\n"
    "       smime-certs [-m] [--fingerprint SHA256] pin|trust FILE...\n"
    "       smime-certs remove ADDRESS...\n"
    "       smime-certs export ADDRESS\n"
    "       smime-certs [-m] expiring DAYS\n"
    "\n"
    "Manage the certificate store smime-verify --save-certs fills and smime-encrypt reads.\n"
    "\n"
    "  list [ADDRESS...]   one line per entry: address, origin, validity, key, capabilities,\n"
    "                      subject, issuer\n"
    "  show ADDRESS        the entry, field by field, with every certificate\n"
    "  import FILE...      certificates (PEM, DER, PKCS#7, certs-only message) that chain\n"
    "                      to a trust anchor, or a signed message that verifies (\"-\": stdin)\n"
    "  pin FILE...         trust the certificates in FILE as they are (no CA); alias trust\n"
    "  remove ADDRESS...   delete entries\n"
    "  export ADDRESS      the entry's certificates, PEM, on standard output\n"
    "  expiring DAYS       entries whose certificate expires within DAYS (or has expired);\n"
    "                      exit 1 when there are none\n"
    "\n"
    "  -m, --machine       tab-separated fields, times as 2026-11-30T09:55:00Z\n"
    "      --cert-dir DIR  the store (default: ~/.local/share/secmail/certs)\n"
    "      --ca-file FILE, --ca-path DIR   trust anchors for import (default: the system's)\n"
    "      --crl-file FILE, --crl-path DIR, --revocation soft|strict|off, --no-fetch\n"
    "                      revocation checks for import, as smime-verify\n"
    "      --fingerprint SHA256  pin only the certificate with this fingerprint\n"
    "  -C, --config FILE   read FILE instead of ~/.config/secmail/smime.conf\n"
    "  -h, --help          show this help and exit\n"
    "  -V, --version       show the version and exit\n"
    "\n"
    "Defaults: the configuration file (cert_dir, ca_file, ca_path, revocation settings), then\n"
    "SECMAIL_CERT_DIR, SECMAIL_CA_FILE, SECMAIL_CA_PATH.\n";

static int machine;
static time_t now;
static struct io_out out;	/* standard output */

/* Formatted output through io_out (errors are sticky and reported at the end). */
static void
outf(const char *fmt, ...) ERR_PRINTF(1, 2);

static void
outf(const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		io_out_write(&out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void
out_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	if (b == NULL || PEM_write_bio_X509(b, x) != 1 || (n = BIO_get_mem_data(b, &p)) <= 0)
		cli_die(EX_SOFTWARE, "cannot write a certificate as PEM");
	io_out_write(&out, p, (size_t)n);
	BIO_free(b);
}

/* ---- formatting ---- */

/* An address as the tool shows it: it comes from a certificate someone sent, so controls,
 * bidirectional overrides and bytes that are not UTF-8 are escaped (buf_add_printable), in
 * the machine form too (no tab or line break gets through). */
struct shown {
	char s[2048];
};

static const char *
shown(const char *addr, struct shown *sh)
{
	struct buf b = BUF_INIT;

	buf_add_printable(&b, addr, strlen(addr));
	snprintf(sh->s, sizeof sh->s, "%s", b.p != NULL && !b.oom ? b.p : "?");
	buf_free(&b);
	return sh->s;
}

static void
fmt_t(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL
	    || strftime(buf, n, machine ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, n, "-");
}

/* Certificate fields for output: subject, issuer, dates, key, fingerprint, serial. */
struct desc {
	char subject[512], issuer[512], nb[40], na[40], key[64], fp[96], serial[80];
	time_t not_before, not_after;
};

static void
describe(X509 *x, struct desc *d)
{
	ASN1_INTEGER *s = X509_get_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	certimport_name(X509_get_subject_name(x), d->subject, sizeof d->subject);
	certimport_name(X509_get_issuer_name(x), d->issuer, sizeof d->issuer);
	if (keys_cert_dates(x, &d->not_before, &d->not_after) != 0)
		d->not_before = d->not_after = 0;
	fmt_t(d->not_before, d->nb, sizeof d->nb);
	fmt_t(d->not_after, d->na, sizeof d->na);
	certimport_keytype(x, d->key, sizeof d->key);
	certimport_fingerprint(x, d->fp);
	snprintf(d->serial, sizeof d->serial, "%s", hex != NULL ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

static void
caps_text(const struct certstore_entry *ent, char sep, char *buf, size_t n)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < ent->ncaps && len + 1 < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? (sep == ',' ? "," : " ") : "",
		    ent->caps[i] != NID_undef ? OBJ_nid2ln(ent->caps[i]) : "unknown");
	if (len >= n)
		buf[n - 1] = '\0';
	if (buf[0] == '\0')
		snprintf(buf, n, "-");
}

static struct certstore *
open_store(const struct conf *cf, const char *given)
{
	char defdir[4096];
	const char *dir = given;
	struct certstore *cs;
	struct err e;

	if (dir == NULL)
		dir = conf_setting(cf, "SECMAIL_CERT_DIR", "cert_dir");
	if (dir == NULL && (dir = certstore_default_dir(defdir, sizeof defdir)) == NULL)
		cli_die(EX_CONFIG, "no certificate store: give --cert-dir or set SECMAIL_CERT_DIR");
	if (certstore_open(&cs, dir, &e) != 0)
		cli_die_err(&e);
	return cs;
}

static int
get(struct certstore *cs, const char *addr, struct certstore_entry *ent)
{
	struct err e;

	if (certstore_get(cs, addr, ent, &e) == 0)
		return 0;
	cli_warn("%s", e.msg);
	return e.code;
}

/* ---- commands ---- */

static int
cmd_list(struct certstore *cs, char **addrs)
{
	struct certstore_entry ent;
	struct shown a;
	struct desc d;
	struct err e;
	char **all = NULL, caps[300], st[40], stored[40];
	int i, rc = EX_OK, k;

	if (addrs[0] == NULL) {
		if ((all = certstore_addresses(cs, &e)) == NULL)
			cli_die_err(&e);
		addrs = all;
	}
	for (i = 0; addrs[i] != NULL; i++) {
		if ((k = get(cs, addrs[i], &ent)) != 0) {
			rc = k;
			continue;
		}
		describe(ent.cert, &d);
		caps_text(&ent, ',', caps, sizeof caps);
		if (machine) {
			fmt_t(ent.signing_time, st, sizeof st);
			fmt_t(ent.stored, stored, sizeof stored);
			outf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shown(ent.addr, &a),
			    certstore_origin_name(ent.origin), d.nb, d.na, d.key, d.fp, d.subject,
			    d.issuer, caps, ent.enc_separate ? "separate" : "signer", st, stored);
		} else {
			outf("%s  %s  %.10s..%.10s  %s  %s  %s  issuer %s\n", shown(ent.addr, &a),
			    certstore_origin_name(ent.origin), d.nb, d.na, d.key, caps, d.subject,
			    d.issuer);
		}
		certstore_entry_free(&ent);
	}
	keys_addrs_free(all);
	return rc;
}

static void
show_cert(const char *addr, const char *role, X509 *x)
{
	struct shown a;
	struct desc d;

	describe(x, &d);
	if (machine) {
		outf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shown(addr, &a), role, d.subject, d.issuer,
		    d.serial, d.nb, d.na, d.key, d.fp);
		return;
	}
	outf("certificate: %s\n  subject: %s\n  issuer: %s\n  serial: %s\n  valid: %s to %s\n"
	    "  key: %s\n  sha256: %s\n", role, d.subject, d.issuer, d.serial, d.nb, d.na, d.key,
	    d.fp);
}

static int
cmd_show(struct certstore *cs, const char *addr)
{
	struct certstore_entry ent;
	struct shown a;
	char caps[300], st[40], stored[40];
	int i, k;

	if ((k = get(cs, addr, &ent)) != 0)
		return k;
	if (!machine) {
		caps_text(&ent, ' ', caps, sizeof caps);
		fmt_t(ent.signing_time, st, sizeof st);
		fmt_t(ent.stored, stored, sizeof stored);
		outf("address: %s\norigin: %s\nstored: %s\nsigning-time: %s\ncapabilities: %s\n"
		    "received-cipher: %s\nencryption-certificate: %s\n", shown(ent.addr, &a),
		    certstore_origin_name(ent.origin), stored, st, caps,
		    ent.received_cipher != NID_undef ? OBJ_nid2ln(ent.received_cipher) : "-",
		    ent.enc_separate ? "separate" : "signer");
	}
	show_cert(ent.addr, ent.enc_separate ? "signer" : "signer+encryption", ent.signer);
	if (ent.enc_separate)
		show_cert(ent.addr, "encryption", ent.cert);
	for (i = 0; i < sk_X509_num(ent.chain); i++)
		show_cert(ent.addr, "chain", sk_X509_value(ent.chain, i));
	certstore_entry_free(&ent);
	return EX_OK;
}

static int
cmd_export(struct certstore *cs, const char *addr)
{
	struct certstore_entry ent;
	int i, k;

	if ((k = get(cs, addr, &ent)) != 0)
		return k;
	out_pem(ent.signer);
	if (ent.enc_separate)
		out_pem(ent.cert);
	for (i = 0; i < sk_X509_num(ent.chain); i++)
		out_pem(sk_X509_value(ent.chain, i));
	certstore_entry_free(&ent);
	return EX_OK;
}

static int
cmd_remove(struct certstore *cs, char **addrs)
{
	struct shown a;
	struct err e;
	int i, rc = EX_OK;

	for (i = 0; addrs[i] != NULL; i++) {
		if (certstore_remove(cs, addrs[i], &e) != 0) {
			cli_warn("%s", e.msg);
			rc = e.code;
			continue;
		}
		outf(machine ? "removed\t%s\n" : "removed %s\n", shown(addrs[i], &a));
	}
	return rc;
}

/* Entries whose certificate to encrypt to, or signer, expires before now + days. */
static int
cmd_expiring(struct certstore *cs, const char *arg)
{
	struct certstore_entry ent;
	struct desc d, sd;
	struct shown a;
	struct err e;
	long long days = cli_number(arg, 36500);
	char **all;
	int i, found = 0;

	if (days < 0)
		cli_usage(usage, "expiring: '%s' is not a number of days", arg);
	if ((all = certstore_addresses(cs, &e)) == NULL)
		cli_die_err(&e);
	for (i = 0; all[i] != NULL; i++) {
		long long left;

		if (get(cs, all[i], &ent) != 0)
			continue;
		describe(ent.cert, &d);
		describe(ent.signer, &sd);
		if (sd.not_after < d.not_after)
			d = sd;
		if (d.not_after - now < days * 86400) {
			found = 1;
			left = (long long)(d.not_after - now) / 86400;
			if (machine)
				outf("%s\t%s\t%lld\t%s\n", shown(ent.addr, &a), d.na, d.not_after < now
				    ? -(long long)((now - d.not_after + 86399) / 86400) : left, d.fp);
			else if (d.not_after < now)
				outf("%s  expired %s (%lld days ago)\n", shown(ent.addr, &a), d.na,
				    (long long)(now - d.not_after) / 86400);
			else
				outf("%s  expires %s (in %lld day%s)\n", shown(ent.addr, &a), d.na, left,
				    left == 1 ? "" : "s");
		}
		certstore_entry_free(&ent);
	}
	keys_addrs_free(all);
	return found ? EX_OK : 1;
}

static void
report(void *ctx, const char *what, const char *addr, X509 *x)
{
	struct shown a;
	char fp[96];

	(void)ctx;
	certimport_fingerprint(x, fp);
	outf(machine ? "%s\t%s\t%s\n" : "%s %s (SHA-256 %s)\n", what, shown(addr, &a), fp);
}

static int
cmd_import(const struct certimport_opts *o, char **files, int pin)
{
	struct err e;
	int i, rc = EX_OK;

	for (i = 0; files[i] != NULL; i++) {
		if ((pin ? certimport_pin(files[i], o, report, NULL, &e)
		    : certimport_file(files[i], o, report, NULL, &e)) != 0) {
			cli_warn("%s", e.msg);
			rc = e.code;
		}
	}
	return rc;
}

int
main(int argc, char **argv)
{
	enum { OPT_CERT_DIR = 0x1320, OPT_CA_FILE, OPT_CA_PATH, OPT_FINGERPRINT };
	static const struct option longopts[] = {
		{ "machine", no_argument, NULL, 'm' },
		{ "cert-dir", required_argument, NULL, OPT_CERT_DIR },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "ca-path", required_argument, NULL, OPT_CA_PATH },
		{ "fingerprint", required_argument, NULL, OPT_FINGERPRINT },
		REVOKE_LONGOPTS,
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct certimport_opts io;
	struct revoke_opts ro;
	struct certstore *cs;
	struct conf cf;
	struct err e;
	const char *cert_dir = NULL, *config = NULL, *cmd, *v;
	char cachedir[4096];
	char **args;
	int c, k, nargs, rc;

	cli_init(argc, argv);
	memset(&io, 0, sizeof io);
	if (io_out_init(&out, STDOUT_FILENO, "standard output", &e) != 0)
		cli_die_err(&e);
	revoke_opts_init(&ro);
	while ((c = getopt_long(argc, argv, "mC:hV", longopts, NULL)) != -1) {
		if ((k = revoke_getopt(c, optarg, &ro, &e)) < 0)
			cli_usage(usage, "%s", e.msg);
		if (k > 0)
			continue;
		switch (c) {
		case 'm': machine = 1; break;
		case OPT_CERT_DIR: cert_dir = optarg; break;
		case OPT_CA_FILE: io.cms.ca_file = optarg; break;
		case OPT_CA_PATH: io.cms.ca_path = optarg; break;
		case OPT_FINGERPRINT: io.fingerprint = optarg; break;
		case 'C': config = optarg; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: cli_usage(usage, NULL);
		}
	}
	if (optind >= argc)
		cli_usage(usage, "no command: list, show, import, pin, remove, export or expiring");
	cmd = argv[optind];
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	conf_init(&cf);
	if (conf_open(&cf, config, "smime.conf", &e) < 0)
		cli_die_err(&e);
	/* Tests inject the clock here. */
	now = (v = conf_setting(NULL, "SECMAIL_NOW", NULL)) != NULL
	    ? (time_t)cli_number(v, (long long)1 << 40) : time(NULL);
	if (strcmp(cmd, "list") != 0 && strcmp(cmd, "show") != 0 && strcmp(cmd, "import") != 0
	    && strcmp(cmd, "pin") != 0 && strcmp(cmd, "trust") != 0 && strcmp(cmd, "remove") != 0
	    && strcmp(cmd, "export") != 0 && strcmp(cmd, "expiring") != 0)
		cli_usage(usage, "unknown command '%s'", cmd);
	if ((strcmp(cmd, "show") == 0 || strcmp(cmd, "export") == 0
	    || strcmp(cmd, "expiring") == 0) && nargs != 1)
		cli_usage(usage, "%s takes one argument", cmd);
	if ((strcmp(cmd, "import") == 0 || strcmp(cmd, "pin") == 0 || strcmp(cmd, "trust") == 0
	    || strcmp(cmd, "remove") == 0) && nargs < 1)
		cli_usage(usage, "%s needs at least one argument", cmd);
	cs = open_store(&cf, cert_dir);
	if (strcmp(cmd, "list") == 0) {
		rc = cmd_list(cs, args);
	} else if (strcmp(cmd, "show") == 0) {
		rc = cmd_show(cs, args[0]);
	} else if (strcmp(cmd, "export") == 0) {
		rc = cmd_export(cs, args[0]);
	} else if (strcmp(cmd, "remove") == 0) {
		rc = cmd_remove(cs, args);
	} else if (strcmp(cmd, "expiring") == 0) {
		rc = cmd_expiring(cs, args[0]);
	} else {
		if (io.cms.ca_file == NULL && io.cms.ca_path == NULL) {
			io.cms.ca_file = conf_setting(NULL, "SECMAIL_CA_FILE", NULL);
			io.cms.ca_path = conf_setting(NULL, "SECMAIL_CA_PATH", NULL);
			if (io.cms.ca_file == NULL && io.cms.ca_path == NULL) {
				io.cms.ca_file = conf_get(&cf, NULL, "ca_file");
				io.cms.ca_path = conf_get(&cf, NULL, "ca_path");
			}
		}
		io.cms.now = ro.now = now;
		if (revoke_setup(&ro, &cf, cachedir, sizeof cachedir, &io.cms.revoke, &e) != 0
		    || (io.cms.revoke != NULL && revoke_load(io.cms.revoke, &e) != 0))
			cli_die_err(&e);
		io.store = cs;
		io.authserv_id = conf_setting(&cf, "SECMAIL_AUTHSERV_ID", "authserv_id");
		rc = cmd_import(&io, args, strcmp(cmd, "import") != 0);
		if (io.cms.revoke != NULL && revoke_warning(io.cms.revoke)[0] != '\0')
			cli_warn("%s", revoke_warning(io.cms.revoke));
		revoke_free(io.cms.revoke);
	}
	certstore_close(cs);
	conf_free(&cf);
	if (io_out_finish(&out) != 0)
		cli_die_err(&out.e);
	cli_close_stdout();
	return rc;
}
