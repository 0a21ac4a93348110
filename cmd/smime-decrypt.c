/* smime-decrypt — open an S/MIME enveloped-data or authEnveloped-data message. */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "addr.h"
#include "certstore.h"
#include "cli.h"
#include "conf.h"
#include "envelope.h"
#include "envmsg.h"
#include "io.h"
#include "keys.h"
#include "msg.h"
#include "param.h"
#include "recips.h"

static const char usage[] =
    "usage: smime-decrypt [--cert FILE] [--key FILE | --p12 FILE]\n"
    "                     [--pass-file FILE | --pass-fd FD | --pass-env VAR] [--cert-dir DIR]\n"
    "                     [-C FILE] [FILE]\n"
    "\n"
    "Decrypt the S/MIME enveloped-data or authEnveloped-data message in FILE (or standard\n"
    "input) and write it, outer header fields unchanged, to standard output. Nothing is\n"
    "written unless the whole content decrypted and, for AES-GCM, its tag verified.\n"
    "\n"
    "      --cert FILE       recipient certificate (PEM)\n"
    "      --key FILE        private key (PEM)\n"
    "      --p12 FILE        certificate and key from a PKCS#12 file\n"
    "      --pass-file FILE  passphrase: first line of FILE\n"
    "      --pass-fd FD      passphrase: first line read from file descriptor FD\n"
    "      --pass-env VAR    passphrase: environment variable VAR\n"
    "      --cert-dir DIR    certificate store in which to note the sender's cipher\n"
    "  -C, --config FILE     read FILE instead of ~/.config/secmail/smime.conf\n"
    "  -h, --help            show this help and exit\n"
    "  -V, --version         show the version and exit\n"
    "\n"
    "Defaults: the configuration file (cert, key, p12, pass_file, pass_env, cert_dir), then\n"
    "SECMAIL_CERT, SECMAIL_KEY, SECMAIL_P12, SECMAIL_PASS_FILE, SECMAIL_CERT_DIR.\n";

/* The decrypted entity goes out through this sink: outer header first, on the first byte
 * (env_decrypt calls it only once everything has been checked). */
struct outctx {
	struct io_out *o;
	struct msg_header *h;	/* top level: the outer fields to write first */
	int spool;		/* nested: the spooled input, whose first `prefix` bytes go first */
	uint64_t prefix;
	int started;
};

static int
start(struct outctx *c, struct err *e)
{
	if (c->started)
		return 0;
	c->started = 1;
	if (c->h == NULL)
		return envmsg_copy_range(c->spool, 0, c->prefix, c->o, e);
	if (msg_header_write(c->o, c->h) != 0) {
		*e = c->o->e;
		return -1;
	}
	return 0;
}

static int
out_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct outctx *c = ctx;

	if (start(c, e) != 0)
		return -1;
	if (io_out_write(c->o, p, n) != 0) {
		*e = c->o->e;
		return -1;
	}
	return 0;
}

/* Content-Type says enveloped or authEnveloped data (RFC 8551 §3.3; x- type of older
 * agents accepted): 0; a multipart that may hold one: 1; else an EX_DATAERR error saying
 * what it is. */
static int
check_type(const struct msg_header *h, struct err *e)
{
	const struct msg_field *f = msg_header_get(h, "Content-Type");
	struct mime_type t;
	const char *st;
	int r = 0;

	if (f == NULL)
		return err_set(e, EX_DATAERR, "not an S/MIME encrypted message (no Content-Type)");
	if (mime_type_parse(f->value, 0, &t, e) != 0)
		return err_wrap(e, "Content-Type");
	if (mime_type_is(&t, "multipart", NULL)) {
		mime_type_free(&t);
		return 1;	/* look one level down */
	}
	if (!mime_type_is(&t, "application", "pkcs7-mime")
	    && !mime_type_is(&t, "application", "x-pkcs7-mime"))
		r = err_set(e, EX_DATAERR, "not an S/MIME encrypted message (Content-Type %s/%s)",
		    t.type, t.subtype);
	else if ((st = mime_type_param(&t, "smime-type")) != NULL
	    && strcasecmp(st, "enveloped-data") != 0 && strcasecmp(st, "authEnveloped-data") != 0)
		r = err_set(e, EX_DATAERR, "not an S/MIME encrypted message (smime-type=%s%s)", st,
		    strcasecmp(st, "signed-data") == 0 || strcasecmp(st, "certs-only") == 0
		    ? "; use smime-verify" : "");
	mime_type_free(&t);
	return r;
}

static int
is_b64(const struct msg_header *h, struct err *e)
{
	const struct msg_field *f = msg_header_get(h, "Content-Transfer-Encoding");
	const char *v;

	if (f == NULL)
		return 0;
	for (v = f->value; *v == ' ' || *v == '\t'; v++)
		;
	if (strncasecmp(v, "base64", 6) == 0)
		return 1;
	if (strncasecmp(v, "binary", 6) == 0 || strncasecmp(v, "7bit", 4) == 0
	    || strncasecmp(v, "8bit", 4) == 0)
		return 0;
	return err_set(e, EX_DATAERR, "unsupported Content-Transfer-Encoding for an S/MIME "
	    "body: %s", v);
}

/*
 * RFC 8551 §2.7.1.2: remember the cipher the sender used, so that replies to an address that
 * announced no capabilities use it. Only for an address the store already holds; only a
 * note: a failure is a warning, never a lost message.
 */
static void
note_cipher(const struct msg_header *h, const char *cipher, const char *given_dir)
{
	const struct msg_field *from = msg_header_get(h, "From");
	struct addr_list l = { NULL, 0, 0 };
	struct certstore *cs;
	struct stat st;
	struct err e;
	const char *dir;
	char buf[4096];
	int nid = OBJ_sn2nid(cipher);

	if (nid == NID_undef || from == NULL
	    || (dir = recips_cert_dir(given_dir, buf, sizeof buf)) == NULL
	    || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return;
	if (addr_parse(from->value, &l, &e) == 0 && l.n == 1 && certstore_open(&cs, dir, &e) == 0) {
		if (certstore_note_received(cs, l.v[0].spec, nid, &e) < 0)
			cli_warn("warning: cannot note the cipher used by %s: %s", l.v[0].spec, e.msg);
		certstore_close(cs);
	}
	addr_list_free(&l);
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
		{ "config", required_argument, NULL, 'C' },
		{ "cert-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct keys_opts ko;
	struct keys_identity id;
	struct msg_header h;
	struct io_in in;
	struct io_out o;
	struct envmsg_bodysrc bs;
	struct envmsg_eol eol;
	struct ber_src src;
	struct outctx oc;
	struct sink raw, sk;
	struct err e;
	const char *name = "standard input", *config = NULL, *cert_dir = NULL;
	struct env_info info;
	struct conf cf;
	struct envmsg_part f;
	size_t i;
	int c, fd = STDIN_FILENO, b64, kind;

	cli_init(argc, argv);
	keys_opts_init(&ko);
	while ((c = getopt_long(argc, argv, "C:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': ko.cert = optarg; break;
		case 'k': ko.key = optarg; break;
		case 'p': ko.p12 = optarg; break;
		case 'F': ko.pass_file = optarg; break;
		case 'D': ko.pass_fd = optarg; break;
		case 'E': ko.pass_env = optarg; break;
		case 'C': config = optarg; break;
		case 'd': cert_dir = optarg; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: cli_usage(usage, NULL);
		}
	}
	if (argc - optind > 1)
		cli_usage(usage, "too many arguments");
	/* Built-in < configuration file < environment < command line, as smime-sign. */
	conf_init(&cf);
	if (conf_open(&cf, config, "smime.conf", &e) < 0)
		cli_die_err(&e);
	keys_opts_defaults(&ko, &cf, KEYS_DEF_IDENTITY | KEYS_DEF_PASS);
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		name = argv[optind];
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0) {
			err_sys(&e, EX_NOINPUT, "cannot open %s", name);
			cli_die_err(&e);
		}
	}
	if (keys_load_identity(&ko, &id, &e) != 0)
		cli_die_err(&e);

	if (io_in_init(&in, fd, name, &e) != 0 || io_out_init(&o, STDOUT_FILENO,
	    "standard output", &e) != 0)
		cli_die_err(&e);
	msg_header_init(&h);
	if (msg_header_read(&in, &h, &e) != 0)
		cli_die_err(&e);
	memset(&oc, 0, sizeof oc);
	oc.o = &o;
	oc.h = &h;
	oc.spool = -1;
	if ((kind = check_type(&h, &e)) < 0)
		cli_die_err(&e);
	if (kind == 1) {
		/* RFC 8551 §3.1: an enveloped part inside a multipart. The message comes out
		 * whole with that part's bytes replaced by the decrypted entity. */
		if (envmsg_find_enveloped(&in, &h, &oc.spool, &f, &e) != 0)
			cli_die_err(&e);
		io_in_free(&in);
		if (lseek(oc.spool, (off_t)f.body_offset, SEEK_SET) < 0
		    || io_in_init(&in, oc.spool, "temporary file", &e) != 0)
			cli_die_err(&e);
		oc.h = NULL;
		oc.prefix = f.offset;
		b64 = f.cte == CTE_BASE64;
	} else {
		if ((b64 = is_b64(&h, &e)) < 0)
			cli_die_err(&e);
		/* The outer header loses the envelope's Content-* fields; the decrypted entity
		 * brings its own. Everything else is written as it came. */
		for (i = h.n; i-- > 0;)
			if (envmsg_is_inner(h.f[i].name))
				msg_header_delete(&h, i);
	}
	raw.write = out_write;
	raw.ctx = &oc;
	if (envmsg_eol_init(&eol, &raw, 0, &e) != 0 || envmsg_bodysrc_init(&bs, &in, b64, &e) != 0)
		cli_die_err(&e);
	/* Inside the envelope the entity is canonical CRLF (RFC 8551 §3.1.1); an LF message gets
	 * it back with LF. */
	sk = h.crlf ? raw : envmsg_eol_sink(&eol);
	if (kind == 1)
		bs.limit = f.body_end - f.body_offset;
	src = envmsg_bodysrc_src(&bs);
	if (env_decrypt(&src, id.pkey, id.cert, &sk, &info, &e) != 0
	    || (!h.crlf && envmsg_eol_final(&eol, &e) != 0) || start(&oc, &e) != 0)
		cli_die_err(&e);
	if (kind == 1) {
		struct stat st;

		if (fstat(oc.spool, &st) != 0) {
			err_sys(&e, EX_IOERR, "cannot stat the temporary file");
			cli_die_err(&e);
		}
		if (envmsg_copy_range(oc.spool, f.body_end, (uint64_t)st.st_size - f.body_end, &o, &e) != 0)
			cli_die_err(&e);
	}
	if (io_out_finish(&o) != 0)
		cli_die_err(&o.e);
	if (cert_dir == NULL)
		cert_dir = conf_setting(&cf, "SECMAIL_CERT_DIR", "cert_dir");
	note_cipher(&h, info.cipher, cert_dir);
	keys_identity_free(&id);
	conf_free(&cf);
	envmsg_bodysrc_free(&bs);
	envmsg_eol_free(&eol);
	msg_header_free(&h);
	io_in_free(&in);
	return EX_OK;
}
