/* smime-encrypt — encrypt a message's content for its recipients (S/MIME, RFC 8551), or
 * re-wrap an encrypted message for the members of a list. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "addr.h"
#include "batch.h"
#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "envelope.h"
#include "envmsg.h"
#include "hp.h"
#include "io.h"
#include "msg.h"
#include "recips.h"
#include "revoke.h"

static const char usage[] =
    "usage: smime-encrypt [-r CERTFILE]... [-R ADDRESS]... [--cert-dir DIR]\n"
    "                     [--self CERTFILE | --no-self] [--cipher NAME] [--oaep]\n"
    "                     [--allow-weak] [--bcc-dir DIR] [--recipients-only]\n"
    "                     [--no-header-protection | --no-header-confidentiality]\n"
    "                     [--crl-file FILE] [--crl-path DIR] [--revocation MODE]\n"
    "                     [--no-fetch] [FILE]\n"
    "       smime-encrypt --rewrap --cert LISTCERT (--key LISTKEY | --p12 FILE)\n"
    "                     [--pass-file FILE | --pass-fd FD | --pass-env VAR]\n"
    "                     [-r CERTFILE]... [-R ADDRESS]... [--members FILE] [FILE]\n"
    "       smime-encrypt [options] --out-dir DIR [--force] FILE...\n"
    "       smime-encrypt [options] --maildir DIR (--to-maildir DIR | --in-place | --exec CMD)\n"
    "                     [--cur] [--force]\n"
    "\n"
    "Encrypt the content of the message in FILE (or standard input) for every To and Cc\n"
    "recipient and the sender, keeping the outer header fields; write it to standard output.\n"
    "\n"
    "  -r, --recipient CERTFILE          add the recipient certificate(s) in CERTFILE\n"
    "  -R, --recipient-address ADDRESS   add ADDRESS, looked up in the certificate store\n"
    "      --cert-dir DIR    the certificate store (as filled by smime-verify --save-certs)\n"
    "      --self CERTFILE   the sender's own certificate (added to every envelope)\n"
    "      --no-self         do not add the sender's certificate\n"
    "      --cipher NAME     aes-256-gcm, aes-128-gcm, aes-256-cbc or aes-128-cbc\n"
    "      --oaep            RSA-OAEP (SHA-256) key transport instead of PKCS#1 v1.5\n"
    "      --allow-weak      permit a weak cipher (des-ede3-cbc) named with --cipher\n"
    "      --bcc-dir DIR     write one separately encrypted copy per Bcc recipient to DIR\n"
    "      --recipients-only encrypt for -r and -R only, not for To, Cc and Bcc (gateways)\n"
    "      --no-header-protection  keep the header outside as it is (RFC 9788 off): no\n"
    "                        protected copy inside, the Subject not obscured\n"
    "      --no-header-confidentiality  protect the header inside but obscure nothing\n"
    "                        outside (hcp_no_confidentiality): for readers that do not\n"
    "                        restore a protected Subject\n"
    "      --rewrap          re-wrap an encrypted message for list members (exploder)\n"
    "      --cert FILE, --key FILE, --p12 FILE   the list's certificate and key\n"
    "      --pass-file FILE, --pass-fd FD, --pass-env VAR   the key's passphrase\n"
    "      --members FILE    member addresses, one per line\n"
    "      --crl-file FILE   revocation: also the CRLs in FILE (PEM or DER)\n"
    "      --crl-path DIR    revocation: also the CRLs in the files of DIR\n"
    "      --revocation MODE soft (default: refuse certificates known to be revoked),\n"
    "                        strict (also those whose status is unknown) or off\n"
    "      --no-fetch        never fetch CRLs or ask OCSP responders (files, cache)\n"
    "  -C, --config FILE     read FILE instead of ~/.config/secmail/smime.conf\n"
    "  -h, --help            show this help and exit\n"
    "  -V, --version         show the version and exit\n"
    "\n"
    BATCH_USAGE
    "  Encrypted messages are skipped unless --force; not with --rewrap or --bcc-dir.\n"
    "\n"
    "Defaults: the configuration file (cert_dir, self, cipher, oaep, header_protection; for\n"
    "--rewrap cert, key, p12, pass_file, pass_env), then SECMAIL_CERT_DIR, SECMAIL_SELF_CERT\n"
    "(else SECMAIL_CERT),\n"
    "SECMAIL_HEADER_PROTECTION, and for --rewrap SECMAIL_CERT, SECMAIL_KEY, SECMAIL_P12,\n"
    "SECMAIL_PASS_FILE; revocation as smime-verify (crl_file, crl_path, revocation, fetch,\n"
    "fetch_timeout, fetch_budget, revocation_cache; issuers from ca_file or\n"
    "SECMAIL_CA_FILE).\n";

/* The content entity goes into the envelope through this sink. */
static int
enc_write(void *ctx, const void *p, size_t n, struct err *e)
{
	return env_enc_write(ctx, p, n, e);
}

/* RFC 5322 §3.6.6: Resent-Bcc is to a re-sent message what Bcc is to the first sending.
 * Every copy keeps the field, empty (the message stays a re-sent one), so that its addresses
 * are neither in the outer header nor in the protected header inside (RFC 9788) that every
 * recipient reads. */
static int
hide_resent_bcc(struct msg_header *h, struct err *e)
{
	size_t i, first = msg_header_next(h, "Resent-Bcc", 0);

	if (first == (size_t)-1)
		return 0;
	while ((i = msg_header_next(h, "Resent-Bcc", first + 1)) != (size_t)-1)
		msg_header_delete(h, i);
	if (msg_header_insert(h, first, "Resent-Bcc", "", e) != 0)
		return -1;
	msg_header_delete(h, first + 1);
	return 0;
}

/* One encrypted message to o; ph: the header-protection payload header (RFC 9788), or NULL
 * for the content entity of h alone. */
static int
emit(const struct msg_header *h, const struct msg_header *ph, const char *mbox_from,
    const char *bcc, STACK_OF(X509) *certs, enum env_cipher c, int flags, struct io_in *in,
    int sp, struct io_out *o, struct err *e)
{
	struct msg_header oh;
	struct envmsg_b64out b;
	struct env_enc *x = NULL;
	struct sink bs, es;
	int rc = -1;

	memset(&b, 0, sizeof b);
	if (envmsg_outer_header(h, env_cipher_is_aead(c), bcc, &oh, e) != 0)
		goto out;
	if ((mbox_from != NULL && io_out_puts(o, mbox_from) != 0) || msg_header_write(o, &oh) != 0
	    || io_out_puts(o, h->crlf ? "\r\n" : "\n") != 0) {
		*e = o->e;
		goto out;
	}
	if (envmsg_b64out_init(&b, o, h->crlf, e) != 0)
		goto out;
	bs = envmsg_b64out_sink(&b);
	if ((x = env_enc_new(certs, c, flags, &bs, e)) == NULL)
		goto out;
	es.write = enc_write;
	es.ctx = x;
	if ((sp >= 0 ? envmsg_copy_fd(sp, &es, e) : ph != NULL ? envmsg_write_payload(ph, in, &es, e)
	    : envmsg_write_entity(h, in, &es, e)) != 0 || env_enc_final(x, e) != 0
	    || envmsg_b64out_final(&b, e) != 0)
		goto out;
	rc = 0;
out:
	env_enc_free(x);
	envmsg_b64out_free(&b);
	msg_header_free(&oh);
	return rc;
}

/* The copy in a->tmp (synced) linked under path, or when that name is taken (a copy of an
 * earlier message not sent yet, two addresses that map to one name) under path with "-2",
 * "-3" ... before ".eml": never over another copy, which would be mail lost. */
static int
bcc_commit(struct io_atomic *a, const char *dir, const char *path, struct err *e)
{
	char alt[4096];
	size_t n = strlen(path) - 4;	/* path ends in ".eml" */
	int i;

	if (io_atomic_sync(a, e) != 0)
		return -1;
	for (i = 1; i <= 1000; i++) {
		if (i == 1)
			snprintf(alt, sizeof alt, "%s", path);
		else if ((size_t)snprintf(alt, sizeof alt, "%.*s-%d.eml", (int)n, path, i)
		    >= sizeof alt)
			break;
		if (link(a->tmp, alt) == 0) {
			io_atomic_abort(a);	/* removes the temporary name */
			return io_fsync_dir(dir, e);
		}
		if (errno != EEXIST) {
			err_sys(e, EX_CANTCREAT, "cannot create %s", alt);
			io_atomic_abort(a);
			return -1;
		}
	}
	io_atomic_abort(a);
	return err_set(e, EX_CANTCREAT, "cannot create %s: that name and 999 others are taken",
	    path);
}

/* --bcc-dir: one copy per Bcc recipient, for them and the sender only, written atomically. */
static int
bcc_copies(const struct msg_header *h, const struct recips *r, const char *dir, int sp,
    enum env_cipher c, int flags, struct err *e)
{
	struct io_atomic a;
	struct io_out o;
	char path[4096], *p;
	size_t i;

	for (i = 0; i < r->nbcc; i++) {
		STACK_OF(X509) *one = sk_X509_dup(r->bcc[i].certs);
		int j, has_self = r->self == NULL;

		if (sk_X509_num(r->bcc[i].certs) == 0) {
			sk_X509_free(one);
			return err_set(e, EX_SOFTWARE, "Bcc copy for %s: no certificate",
			    r->bcc[i].addr);
		}
		for (j = 0; j < sk_X509_num(r->bcc[i].certs) && !has_self; j++)
			has_self = X509_cmp(r->self, sk_X509_value(r->bcc[i].certs, j)) == 0;
		if (one == NULL || (!has_self && !sk_X509_push(one, r->self))) {
			sk_X509_free(one);
			return err_sys(e, EX_OSERR, "out of memory");
		}
		if ((size_t)snprintf(path, sizeof path, "%s/bcc-%s.eml", dir, r->bcc[i].addr)
		    >= sizeof path) {
			sk_X509_free(one);
			return err_set(e, EX_USAGE, "--bcc-dir path too long");
		}
		for (p = path + strlen(dir) + 1; *p; p++)
			if (*p == '/' || (unsigned char)*p < 0x20)
				*p = '_';
		if (io_atomic_open(&a, path, 0600, e) != 0) {
			sk_X509_free(one);
			return -1;
		}
		if (io_out_init(&o, a.fd, path, e) != 0
		    || emit(h, NULL, NULL, r->bcc[i].addr, one, c, flags, NULL, sp, &o, e) != 0
		    || io_out_finish(&o) != 0 || bcc_commit(&a, dir, path, e) != 0) {
			if (o.failed)
				*e = o.e;
			io_out_free(&o);
			io_atomic_abort(&a);
			sk_X509_free(one);
			return err_wrap(e, "Bcc copy for %s", r->bcc[i].addr);
		}
		sk_X509_free(one);
	}
	return 0;
}

/*
 * RFC 9788 header protection, once recipients are known: a content that is not signed becomes
 * the payload (*ph: the header fields, HP-Outer, hp=cipher), and the outer header h is
 * obscured (hcp_baseline: Subject "[...]"; with confidential 0, hcp_no_confidentiality: left
 * as it is). A signed content is already a payload and is not protected again; its outer
 * Subject is obscured only when the signed part protects one (the reader gets it back from
 * there). 1 with *ph set, 0 without, -1 on errors.
 */
static int
protect(struct msg_header *h, struct msg_header *ph, int confidential, struct io_in *in,
    struct err *e)
{
	const struct msg_field *f = msg_header_get(h, "Content-Type");
	struct mime_type ct;
	struct err ignore;
	int signed_content = 0;

	if (f != NULL && mime_type_parse(f->value, 0, &ct, &ignore) == 0) {
		const char *st = mime_type_param(&ct, "smime-type");

		signed_content = mime_type_is(&ct, "multipart", "signed")
		    || ((mime_type_is(&ct, "application", "pkcs7-mime")
		    || mime_type_is(&ct, "application", "x-pkcs7-mime"))
		    && (st == NULL || strcasecmp(st, "signed-data") == 0));
		mime_type_free(&ct);
	}
	if (signed_content)
		return confidential && envmsg_signed_hp(h, in) && hp_obscure(h, e) < 0 ? -1 : 0;
	if (hp_complete(h, time(NULL), e) != 0 || hp_payload_header(h, HP_CIPHER,
	    confidential ? hp_hcp_baseline : hp_hcp_none, ph, e) != 0
	    || (confidential && hp_obscure(h, e) < 0))
		return -1;
	return 1;
}

struct encrypter {
	const struct recips_opts *ro;
	enum env_cipher c;	/* --cipher, else ENV_CIPHER_NONE: chosen per message */
	int flags;
	const char *bccdir;
	int rewrap;
	int hp, hp_conf;	/* header protection (RFC 9788): -1/1 on, 0 off; confidentiality */
	int warned;		/* the missing sender certificate was reported */
	char rv_warned[300];	/* the revocation warning said already (once a worker) */
};

/* One message, from m->in to m->out: the single-message path and every message of a batch.
 * Errors end the process, as they always did; in a batch, only its worker. */
static int
encrypt_one(void *ctx, const struct batch_msg *m, struct err *e)
{
	struct encrypter *x = ctx;
	enum env_cipher c = x->c;
	struct recips r;
	struct msg_header h, ph;
	struct io_in in;
	struct io_out o;
	int sp = -1, have_ph = 0;

	revoke_begin(x->ro->revoke);	/* one revocation fetch budget per message */
	if (io_in_init(&in, m->in, m->name, e) != 0 || io_out_init(&o, m->out, m->out_name,
	    e) != 0)
		cli_die_err(e);
	msg_header_init(&h);
	if (msg_header_read(&in, &h, e) != 0)
		cli_die_err(e);
	if (h.n == 0)
		cli_die(EX_DATAERR, "%s: not a message (no header fields)", m->name);

	if (x->rewrap) {
		struct envmsg_bodysrc bs;
		struct envmsg_b64out b;
		struct env_info info;
		struct ber_src src;
		struct sink bsk, os;
		struct msg_header oh;
		struct io_out so;

		if (recips_rewrap(x->ro, &h, &r, e) != 0)
			cli_die_err(e);
		if (envmsg_bodysrc_init(&bs, &in, 1, e) != 0)
			cli_die_err(e);
		/* Spool the re-wrapped envelope: the header is written only once it succeeded,
		 * and says what the envelope is (enveloped or authEnveloped data). */
		if ((sp = io_spool(e)) < 0 || io_out_init(&so, sp, "temporary file", e) != 0
		    || envmsg_b64out_init(&b, &so, h.crlf, e) != 0)
			cli_die_err(e);
		bsk = envmsg_b64out_sink(&b);
		src = envmsg_bodysrc_src(&bs);
		if (env_rewrap(&src, r.list_key, r.list_cert, r.certs, x->flags, &bsk, &info, e) != 0
		    || envmsg_b64out_final(&b, e) != 0)
			cli_die_err(e);
		if (io_out_finish(&so) != 0)
			cli_die_err(&so.e);
		envmsg_b64out_free(&b);
		if (envmsg_outer_header(&h, info.auth, NULL, &oh, e) != 0)
			cli_die_err(e);
		if ((h.mbox_from != NULL && io_out_puts(&o, h.mbox_from) != 0)
		    || msg_header_write(&o, &oh) != 0 || io_out_puts(&o, h.crlf ? "\r\n" : "\n") != 0)
			cli_die_err(&o.e);
		os = io_out_sink(&o);
		if (envmsg_copy_fd(sp, &os, e) != 0)
			cli_die_err(e);
		msg_header_free(&oh);
		envmsg_bodysrc_free(&bs);
	} else {
		if (recips_resolve(x->ro, &h, x->bccdir != NULL, &r, e) != 0)
			cli_die_err(e);
		if (r.nbcc > 0 && x->bccdir == NULL)
			cli_die(EX_DATAERR, "the message has Bcc recipients (%s): one envelope "
			    "would show them to every recipient; use --bcc-dir DIR for separately "
			    "encrypted copies, or remove the Bcc field", r.bcc_list);
		if (hide_resent_bcc(&h, e) != 0)
			cli_die_err(e);
		if (r.self_missing && !x->warned++)
			cli_warn("no sender certificate configured (--self or SECMAIL_SELF_CERT): "
			    "you will not be able to read this message yourself");
		if (c == ENV_CIPHER_NONE)
			c = r.cipher;
		if (x->hp != 0)
			have_ph = protect(&h, &ph, x->hp_conf, &in, e);
		if (have_ph < 0)
			cli_die_err(e);
		if (r.nbcc > 0) {
			/* The entity is needed once per copy: spool it (canonical) first. */
			struct io_out so;
			struct sink ss;

			if ((sp = io_spool(e)) < 0 || io_out_init(&so, sp, "temporary file", e) != 0)
				cli_die_err(e);
			ss = io_out_sink(&so);
			if ((have_ph ? envmsg_write_payload(&ph, &in, &ss, e)
			    : envmsg_write_entity(&h, &in, &ss, e)) != 0)
				cli_die_err(e);
			if (io_out_finish(&so) != 0)
				cli_die_err(&so.e);
			if (bcc_copies(&h, &r, x->bccdir, sp, c, x->flags, e) != 0)
				cli_die_err(e);
		}
		if (emit(&h, have_ph ? &ph : NULL, h.mbox_from, NULL, r.certs, c, x->flags, &in, sp,
		    &o, e) != 0)
			cli_die_err(e);
	}
	if (io_out_finish(&o) != 0)
		cli_die_err(&o.e);
	if (sp >= 0)
		close(sp);
	recips_free(&r);
	if (x->ro->revoke != NULL && revoke_warning(x->ro->revoke)[0] != '\0'
	    && strcmp(revoke_warning(x->ro->revoke), x->rv_warned) != 0) {
		cli_warn("%s", revoke_warning(x->ro->revoke));
		snprintf(x->rv_warned, sizeof x->rv_warned, "%s", revoke_warning(x->ro->revoke));
	}
	msg_header_free(&h);
	if (have_ph)
		msg_header_free(&ph);
	io_in_free(&in);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "recipient", required_argument, NULL, 'r' },
		{ "recipient-address", required_argument, NULL, 'R' },
		{ "cert-dir", required_argument, NULL, 'd' },
		{ "self", required_argument, NULL, 's' },
		{ "no-self", no_argument, NULL, 'n' },
		{ "cipher", required_argument, NULL, 'X' },
		{ "oaep", no_argument, NULL, 'O' },
		{ "allow-weak", no_argument, NULL, 'W' },
		{ "bcc-dir", required_argument, NULL, 'b' },
		{ "recipients-only", no_argument, NULL, 'o' },
		{ "no-header-protection", no_argument, NULL, 'N' },	/* issue 14 */
		{ "no-header-confidentiality", no_argument, NULL, 'Y' },
		{ "rewrap", no_argument, NULL, 'w' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "p12", required_argument, NULL, 'p' },
		{ "pass-file", required_argument, NULL, 'F' },
		{ "pass-fd", required_argument, NULL, 'D' },
		{ "pass-env", required_argument, NULL, 'E' },
		{ "members", required_argument, NULL, 'm' },
		REVOKE_LONGOPTS,	/* issue 13 */
		{ "config", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		BATCH_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct recips_opts ro;
	struct encrypter x;
	struct batch bt;
	struct batch_msg m;
	struct err e;
	const char *cipher = NULL, *bccdir = NULL, *config = NULL, *bad;
	struct conf cf;
	struct revoke_opts rvo;
	char cachedir[4096];
	const char *now, *cafile, *hpv;
	enum env_cipher c;
	int ch, flags = 0, weak = 0, rewrap = 0, rc, k, hp = -1, hp_conf = 1;

	cli_init(argc, argv);
	batch_init(&bt, "encrypted", BATCH_SKIP_ENCRYPTED);
	recips_opts_init(&ro);
	revoke_opts_init(&rvo);
	while ((ch = getopt_long(argc, argv, "r:R:C:hV", longopts, NULL)) != -1) {
		if ((k = revoke_getopt(ch, optarg, &rvo, &e)) < 0)
			cli_usage(usage, "%s", e.msg);
		if (k > 0)
			continue;
		switch (ch) {
		case 'r':
			if (recips_opts_add(&ro.files, optarg) != 0)
				cli_die(EX_OSERR, "out of memory");
			break;
		case 'R':
			if (recips_opts_add(&ro.addrs, optarg) != 0)
				cli_die(EX_OSERR, "out of memory");
			break;
		case 'd': ro.cert_dir = optarg; break;
		case 's': ro.self = optarg; break;
		case 'n': ro.no_self = 1; break;
		case 'X': cipher = optarg; break;
		case 'O': flags |= ENV_OAEP; break;
		case 'W': weak = 1; break;
		case 'b': bccdir = optarg; break;
		case 'o': ro.only_named = 1; break;
		case 'N': hp = 0; break;
		case 'Y': hp_conf = 0; break;
		case 'w': rewrap = 1; break;
		case 'c': ro.keys.cert = optarg; break;
		case 'k': ro.keys.key = optarg; break;
		case 'p': ro.keys.p12 = optarg; break;
		case 'F': ro.keys.pass_file = optarg; break;
		case 'D': ro.keys.pass_fd = optarg; break;
		case 'E': ro.keys.pass_env = optarg; break;
		case 'm': ro.members = optarg; break;
		case 'K': case 'C': config = optarg; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default:
			if (batch_option(&bt, ch, optarg))
				break;
			cli_usage(usage, NULL);
		}
	}
	if (!batch_active(&bt) && argc - optind > 1)
		cli_usage(usage, "too many arguments");
	if (batch_active(&bt) && (bad = batch_check(&bt, argc - optind)) != NULL)
		cli_usage(usage, "%s", bad);
	/* --rewrap would read the list key (and its passphrase) again for each message, and
	 * Bcc copies of different messages would share their names. */
	if (batch_active(&bt) && (rewrap || bccdir != NULL))
		cli_usage(usage, "--rewrap and --bcc-dir are for one message, not for batch mode");
	/* Built-in < configuration file < environment < command line. */
	conf_init(&cf);
	if (conf_open(&cf, config, "smime.conf", &e) < 0)
		cli_die_err(&e);
	if (ro.cert_dir == NULL)
		ro.cert_dir = conf_setting(&cf, "SECMAIL_CERT_DIR", "cert_dir");
	/* The sender's certificate: --self, SECMAIL_SELF_CERT, "self" in the file; else the
	 * signing certificate (SECMAIL_CERT, "cert") when it can encrypt. */
	if (ro.self == NULL && (ro.self = conf_setting(&cf, "SECMAIL_SELF_CERT", "self")) == NULL) {
		ro.self = conf_setting(&cf, "SECMAIL_CERT", "cert");
		ro.self_implicit = ro.self != NULL;
	}
	if (cipher == NULL)
		cipher = conf_get(&cf, NULL, "cipher");
	if (!(flags & ENV_OAEP) && conf_get(&cf, NULL, "oaep") != NULL) {
		int b = conf_bool(conf_get(&cf, NULL, "oaep"));

		if (b < 0)
			cli_die(EX_CONFIG, "%s:%d: oaep: expected on or off", cf.path,
			    conf_line(&cf, NULL, "oaep"));
		if (b)
			flags |= ENV_OAEP;
	}
	keys_opts_defaults(&ro.keys, &cf, (rewrap ? KEYS_DEF_IDENTITY : 0) | KEYS_DEF_PASS);
	if (hp < 0 && (hpv = conf_setting(&cf, "SECMAIL_HEADER_PROTECTION", "header_protection"))
	    != NULL) {
		enum hp_mode hm;

		if (hp_mode_parse(hpv, &hm) != 0)
			cli_die(EX_CONFIG, "header_protection (SECMAIL_HEADER_PROTECTION or %s): "
			    "expected clear, cipher or none", cf.path ? cf.path : "smime.conf");
		if (hm == HP_NONE)
			hp = 0;
	}
	/* Issue 13: the clock (tests inject it), revocation, the issuers to check it with. */
	if ((now = conf_setting(NULL, "SECMAIL_NOW", NULL)) != NULL)
		ro.now = rvo.now = (time_t)cli_number(now, (long long)1 << 40);
	if (revoke_setup(&rvo, &cf, cachedir, sizeof cachedir, &ro.revoke, &e) != 0
	    || (ro.revoke != NULL && revoke_load(ro.revoke, &e) != 0))
		cli_die_err(&e);
	if (ro.revoke != NULL && (cafile = conf_setting(&cf, "SECMAIL_CA_FILE", "ca_file")) != NULL
	    && keys_load_certs(cafile, &ro.issuers, &e) != 0)
		cli_die_err(&e);
	c = ENV_CIPHER_NONE;
	if (cipher != NULL) {
		if ((c = env_cipher_parse(cipher)) == ENV_CIPHER_NONE)
			cli_usage(usage, "unknown cipher '%s' (aes-256-gcm, aes-128-gcm, "
			    "aes-256-cbc, aes-128-cbc)", cipher);
		if (env_cipher_is_weak(c) && !weak)
			cli_usage(usage, "%s is weak: refused without --allow-weak", cipher);
		if (env_cipher_is_weak(c))
			cli_warn("warning: %s is a weak cipher; use it only for recipients that "
			    "can read nothing else", cipher);
	}
	if (ro.only_named && ro.files.n == 0 && ro.addrs.n == 0)
		cli_usage(usage, "--recipients-only needs recipients: -r or -R");
	if (ro.only_named && bccdir != NULL)
		cli_usage(usage, "--recipients-only ignores Bcc: --bcc-dir does not apply");
	if (rewrap && (cipher != NULL || bccdir != NULL))
		cli_usage(usage, "--rewrap keeps the content and its cipher: --cipher and "
		    "--bcc-dir do not apply");
	if (!batch_active(&bt) && batch_single(&m, optind < argc ? argv[optind] : NULL, &e) != 0)
		cli_die_err(&e);
	x.ro = &ro;
	x.c = c;
	x.flags = flags;
	x.bccdir = bccdir;
	x.rewrap = rewrap;
	x.hp = hp;
	x.hp_conf = hp_conf;
	x.warned = 0;
	x.rv_warned[0] = '\0';
	/* Batch mode: options and the store set up once, encrypt_one for every message. */
	if (batch_active(&bt)) {
		rc = batch_run(&bt, argv + optind, argc - optind, encrypt_one, &x, &e);
		revoke_free(ro.revoke);
		sk_X509_pop_free(ro.issuers, X509_free);
		recips_opts_free(&ro);
		conf_free(&cf);
		if (rc < 0)
			cli_die_err(&e);
		return rc;
	}
	encrypt_one(&x, &m, &e);
	revoke_free(ro.revoke);
	sk_X509_pop_free(ro.issuers, X509_free);
	recips_opts_free(&ro);
	conf_free(&cf);
	return EX_OK;
}
