/* smime-verify — verify an S/MIME signed message and say so in Authentication-Results. */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certstore.h"
#include "cli.h"
#include "conf.h"
#include "io.h"
#include "smime.h"

static const char usage[] =
    "usage: smime-verify [--ca-file FILE] [--ca-path DIR] [--keep] [--strict]\n"
    "                    [--save-certs DIR] [--cert-dir DIR] [--authserv-id ID] [FILE]\n"
    "\n"
    "Verify the S/MIME signature of the message in FILE (or standard input) and write the\n"
    "message to standard output with an Authentication-Results field. Exit 0 when the\n"
    "signature passes, 1 otherwise.\n"
    "\n"
    "      --ca-file FILE      trust the CA certificates in FILE (instead of the system's)\n"
    "      --ca-path DIR       trust the CA certificates in DIR (hashed names)\n"
    "  -k, --keep              write the signed message unchanged (only add the field)\n"
    "  -s, --strict            write nothing unless the signature passes\n"
    "      --save-certs DIR    store the signer's certificate and preferences in DIR\n"
    "      --cert-dir DIR      certificate store whose entries are trusted as pinned\n"
    "      --authserv-id ID    the authentication service name (default: host name)\n"
    "  -C, --config FILE       read FILE instead of ~/.config/secmail/smime.conf\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "Defaults: the configuration file (ca_file, ca_path, cert_dir, authserv_id), then\n"
    "SECMAIL_CA_FILE, SECMAIL_CA_PATH, SECMAIL_CERT_DIR, SECMAIL_AUTHSERV_ID.\n";

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ca-file", required_argument, NULL, 'A' },
		{ "ca-path", required_argument, NULL, 'P' },
		{ "keep", no_argument, NULL, 'k' },
		{ "strict", no_argument, NULL, 's' },
		{ "save-certs", required_argument, NULL, 'S' },
		{ "cert-dir", required_argument, NULL, 'D' },
		{ "authserv-id", required_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct smime_verify_opts vo;
	struct cms_result r;
	struct certstore *save = NULL, *pins = NULL;
	const char *name = "standard input", *save_dir = NULL, *cert_dir = NULL, *now, *config = NULL;
	struct conf cf;
	struct io_in in;
	struct io_out o;
	struct err e;
	int c, fd = STDIN_FILENO, rc, pass;

	cli_init(argc, argv);
	memset(&vo, 0, sizeof vo);
	while ((c = getopt_long(argc, argv, "ksC:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'A': vo.cms.ca_file = optarg; break;
		case 'P': vo.cms.ca_path = optarg; break;
		case 'k': vo.keep = 1; break;
		case 's': vo.strict = 1; break;
		case 'S': save_dir = optarg; break;
		case 'D': cert_dir = optarg; break;
		case 'a': vo.authserv_id = optarg; break;
		case 'C': config = optarg; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: cli_usage(usage, NULL);
		}
	}
	if (argc - optind > 1)
		cli_usage(usage, "too many arguments");
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
	if (cert_dir == NULL)
		cert_dir = save_dir != NULL ? save_dir :
		    conf_setting(&cf, "SECMAIL_CERT_DIR", "cert_dir");
	if (vo.authserv_id == NULL)
		vo.authserv_id = conf_setting(&cf, "SECMAIL_AUTHSERV_ID", "authserv_id");
	/* Tests inject the clock here. */
	if ((now = conf_setting(NULL, "SECMAIL_NOW", NULL)) != NULL)
		vo.cms.now = (time_t)cli_number(now, (long long)1 << 40);

	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		name = argv[optind];
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0) {
			err_sys(&e, EX_NOINPUT, "cannot open %s", name);
			cli_die_err(&e);
		}
	}
	if ((save_dir != NULL && certstore_open(&save, save_dir, &e) != 0)
	    || (cert_dir != NULL && certstore_open(&pins, cert_dir, &e) != 0))
		cli_die_err(&e);
	vo.store = pins;
	if (io_in_init(&in, fd, name, &e) != 0 || io_out_init(&o, STDOUT_FILENO, "standard output",
	    &e) != 0)
		cli_die_err(&e);
	rc = smime_verify(&in, &o, &vo, &r, &e);
	if (rc < 0)
		cli_die_err(&e);
	if (io_out_finish(&o) != 0)
		cli_die_err(&o.e);
	cli_close_stdout();
	/* The message is out: a store that cannot be written is only a warning, never a
	 * failure exit after a complete output (procmail would deliver it twice). */
	pass = r.verdict == CMS_V_PASS;
	if (!pass)
		cli_warn("%s: %s", cms_verdict_name(r.verdict), r.reason);
	else if (save != NULL && smime_save_certs(save, &r, &e) < 0)
		cli_warn("cannot save the signer's certificate: %s", e.msg);
	cms_result_free(&r);
	certstore_close(save);
	certstore_close(pins);
	io_in_free(&in);
	conf_free(&cf);
	return pass && rc == 0 ? EX_OK : 1;
}
