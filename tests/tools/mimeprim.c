/* mimeprim.c — test driver over the MIME primitives (param, rfc2047, qp, canon, cte,
 * charset) so that tests/mimeprims.bats can compare them with Python's email package.
 * Not installed. Data on stdin, result on stdout; errors as "mimeprim: message", exit code
 * from the library's struct err. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canon.h"
#include "charset.h"
#include "cli.h"
#include "cte.h"
#include "io.h"
#include "param.h"
#include "qp.h"
#include "rfc2047.h"

static const char usage[] =
    "usage: mimeprim qp-encode [--binary] [--crlf] [--terminate]\n"
    "       mimeprim qp-decode [--crlf]\n"
    "       mimeprim 2047-encode [text|phrase|comment] [COLUMN]   (text on stdin)\n"
    "       mimeprim 2047-decode\n"
    "       mimeprim param-parse [--disposition]\n"
    "       mimeprim param-encode TYPE NAME VALUE [NAME VALUE]...\n"
    "       mimeprim cte-encode|cte-decode NAME [--text] [--crlf] [--strict]\n"
    "       mimeprim cte-choose [--8bit] [--binary] [--signed]\n"
    "       mimeprim canon crlf|lf|lf-text\n"
    "       mimeprim charset CHARSET | nfc\n";

static struct io_out out;

/* All of stdin (these are test inputs: small). */
static char *
slurp(size_t *n)
{
	struct buf b = BUF_INIT;
	char tmp[65536];
	ssize_t k;
	struct err e;

	while ((k = io_read(0, tmp, sizeof tmp)) > 0)
		buf_add(&b, tmp, (size_t)k);
	if (k < 0)
		cli_die(EX_IOERR, "read: standard input");
	if (buf_check(&b, &e) != 0)
		cli_die_err(&e);
	*n = b.len;
	return b.p ? b.p : calloc(1, 1);
}

/* stdin without one trailing newline, as a string */
static char *
slurp_line(void)
{
	size_t n;
	char *s = slurp(&n);

	if (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	return s;
}

static int
has(int argc, char **argv, const char *opt)
{
	int i;

	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], opt) == 0)
			return 1;
	return 0;
}

static void
put(const void *p, size_t n)
{
	if (io_out_write(&out, p, n) != 0)
		cli_die_err(&out.e);
}

static int
qp(int argc, char **argv, int encode)
{
	static char ibuf[4096];
	char *obuf = malloc(qp_enc_bound(sizeof ibuf) + qp_dec_bound(sizeof ibuf) + 64);
	struct qp_enc x;
	struct qp_dec y;
	ssize_t k;
	int flags = (has(argc, argv, "--binary") ? QP_BINARY : 0)
	    | (has(argc, argv, "--crlf") ? QP_CRLF : 0) | (has(argc, argv, "--terminate") ? QP_TERMINATE : 0);

	qp_enc_init(&x, flags);
	qp_dec_init(&y, flags);
	while ((k = io_read(0, ibuf, sizeof ibuf)) > 0)
		put(obuf, encode ? qp_enc_update(&x, ibuf, (size_t)k, obuf)
		    : qp_dec_update(&y, ibuf, (size_t)k, (unsigned char *)obuf));
	if (k < 0)
		cli_die(EX_IOERR, "read: standard input");
	put(obuf, encode ? qp_enc_final(&x, obuf) : qp_dec_final(&y, (unsigned char *)obuf));
	free(obuf);
	return 0;
}

static int
enc2047(int argc, char **argv)
{
	enum rfc2047_ctx ctx = RFC2047_TEXT;
	struct buf b = BUF_INIT;
	struct err e;
	char *s = slurp_line();

	if (argc > 2 && strcmp(argv[2], "phrase") == 0)
		ctx = RFC2047_PHRASE;
	else if (argc > 2 && strcmp(argv[2], "comment") == 0)
		ctx = RFC2047_COMMENT;
	err_clear(&e);
	if (rfc2047_encode(&b, s, ctx, argc > 3 ? (size_t)atoi(argv[3]) : 0, &e) != 0
	    || buf_check(&b, &e) != 0)
		cli_die_err(&e);
	put(b.p ? b.p : "", b.len);
	put("\n", 1);
	buf_free(&b);
	free(s);
	return 0;
}

static int
dec2047(void)
{
	struct err e;
	char *s = slurp_line(), *d;

	err_clear(&e);
	if ((d = rfc2047_decode(s, &e)) == NULL)
		cli_die_err(&e);
	put(d, strlen(d));
	put("\n", 1);
	free(d);
	free(s);
	return 0;
}

static int
param_parse(int argc, char **argv)
{
	struct mime_type t;
	struct err e;
	char *s = slurp_line();
	size_t i;

	err_clear(&e);
	if (mime_type_parse(s, has(argc, argv, "--disposition"), &t, &e) != 0)
		cli_die_err(&e);
	put(t.type, strlen(t.type));
	if (t.subtype != NULL) {
		put("/", 1);
		put(t.subtype, strlen(t.subtype));
	}
	put("\n", 1);
	for (i = 0; i < t.nparams; i++) {
		const struct mime_param *p = &t.params[i];

		put(p->name, strlen(p->name));
		put("=", 1);
		put(p->value, strlen(p->value));
		put("\n", 1);
		if (p->charset != NULL || p->lang != NULL) {
			char line[256];

			snprintf(line, sizeof line, "  charset=%s lang=%s\n",
			    p->charset ? p->charset : "", p->lang ? p->lang : "");
			put(line, strlen(line));
		}
	}
	mime_type_free(&t);
	free(s);
	return 0;
}

static int
param_encode(int argc, char **argv)
{
	struct buf b = BUF_INIT;
	struct err e;
	int i;

	if (argc < 3 || argc % 2 == 0)
		cli_usage(usage, "param-encode: TYPE and NAME VALUE pairs");
	buf_adds(&b, argv[2]);
	err_clear(&e);
	for (i = 3; i + 1 < argc; i += 2)
		if (mime_param_append(&b, argv[i], argv[i + 1], &e) != 0)
			cli_die_err(&e);
	if (buf_check(&b, &e) != 0)
		cli_die_err(&e);
	put(b.p, b.len);
	put("\n", 1);
	buf_free(&b);
	return 0;
}

static int
cte(int argc, char **argv, int encode)
{
	static char ibuf[65536];
	struct sink s = io_out_sink(&out);
	struct cte_enc x;
	struct cte_dec y;
	struct err e;
	enum cte c;
	ssize_t k;
	int flags = (has(argc, argv, "--text") ? CTE_TEXT : 0) | (has(argc, argv, "--crlf") ? CTE_CRLF : 0)
	    | (has(argc, argv, "--strict") ? CTE_STRICT : 0);

	if (argc < 3)
		cli_usage(usage, "%s: encoding name missing", argv[1]);
	c = cte_parse(argv[2]);
	err_clear(&e);
	if (encode ? cte_enc_init(&x, c, flags, &e) : cte_dec_init(&y, c, flags, &e))
		cli_die_err(&e);
	while ((k = io_read(0, ibuf, sizeof ibuf)) > 0)
		if ((encode ? cte_enc_write(&x, &s, ibuf, (size_t)k, &e)
		    : cte_dec_write(&y, &s, ibuf, (size_t)k, &e)) != 0)
			cli_die_err(&e);
	if (k < 0)
		cli_die(EX_IOERR, "read: standard input");
	if ((encode ? cte_enc_finish(&x, &s, &e) : cte_dec_finish(&y, &s, &e)) != 0)
		cli_die_err(&e);
	if (encode)
		cte_enc_free(&x);
	else
		cte_dec_free(&y);
	return 0;
}

static int
choose(int argc, char **argv)
{
	static char ibuf[65536];
	struct cte_stats st;
	const char *name;
	ssize_t k;

	cte_scan_init(&st);
	while ((k = io_read(0, ibuf, sizeof ibuf)) > 0)
		cte_scan(&st, ibuf, (size_t)k);
	if (k < 0)
		cli_die(EX_IOERR, "read: standard input");
	cte_scan_final(&st);
	name = cte_name(cte_choose(&st, (has(argc, argv, "--8bit") ? CTE_ALLOW_8BIT : 0)
	    | (has(argc, argv, "--binary") ? CTE_ALLOW_BINARY : 0) | (has(argc, argv, "--signed") ? CTE_SIGNED : 0)));
	put(name, strlen(name));
	put("\n", 1);
	return 0;
}

static int
canon(int argc, char **argv)
{
	static char ibuf[65536], obuf[2 * 65536 + 2];
	struct canon c;
	ssize_t k;

	if (argc < 3)
		cli_usage(usage, "canon: mode missing");
	canon_init(&c, strcmp(argv[2], "crlf") == 0 ? CANON_CRLF : strcmp(argv[2], "lf") == 0 ? CANON_LF
	    : CANON_LF_TEXT);
	while ((k = io_read(0, ibuf, sizeof ibuf)) > 0)
		put(obuf, canon_update(&c, ibuf, (size_t)k, obuf));
	if (k < 0)
		cli_die(EX_IOERR, "read: standard input");
	put(obuf, canon_final(&c, obuf));
	return 0;
}

static int
conv(int argc, char **argv, int nfc)
{
	struct err e;
	size_t n, on;
	char *s = slurp(&n), *r;

	if (!nfc && argc < 3)
		cli_usage(usage, "charset: name missing");
	err_clear(&e);
	r = nfc ? charset_nfc(s, n, &on, &e) : charset_to_utf8(argv[2], s, n, &on, &e);
	if (r == NULL)
		cli_die_err(&e);
	put(r, on);
	free(r);
	free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	struct err e;
	const char *cmd;
	int rc;

	cli_init(argc, argv);
	if (argc < 2)
		cli_usage(usage, "no command");
	if (io_out_init(&out, 1, "standard output", &e) != 0)
		cli_die_err(&e);
	cmd = argv[1];
	if (strcmp(cmd, "qp-encode") == 0 || strcmp(cmd, "qp-decode") == 0)
		rc = qp(argc, argv, cmd[3] == 'e');
	else if (strcmp(cmd, "2047-encode") == 0)
		rc = enc2047(argc, argv);
	else if (strcmp(cmd, "2047-decode") == 0)
		rc = dec2047();
	else if (strcmp(cmd, "param-parse") == 0)
		rc = param_parse(argc, argv);
	else if (strcmp(cmd, "param-encode") == 0)
		rc = param_encode(argc, argv);
	else if (strcmp(cmd, "cte-encode") == 0 || strcmp(cmd, "cte-decode") == 0)
		rc = cte(argc, argv, cmd[4] == 'e');
	else if (strcmp(cmd, "cte-choose") == 0)
		rc = choose(argc, argv);
	else if (strcmp(cmd, "canon") == 0)
		rc = canon(argc, argv);
	else if (strcmp(cmd, "charset") == 0 || strcmp(cmd, "nfc") == 0)
		rc = conv(argc, argv, cmd[0] == 'n');
	else
		cli_usage(usage, "unknown command %s", cmd);
	if (io_out_finish(&out) != 0)
		cli_die_err(&out.e);
	return rc;
}
