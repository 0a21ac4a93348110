/* mimetree.c — test driver for lib/mime and lib/msg: prints a message's part tree, or one
 * part's decoded or raw bytes, so bats can cross-check the walker against Python's email.
 *
 *   mimetree [-l] [FILE]      one line per part, in order: "PATH TYPE/SUBTYPE"; with -l also
 *                             the encoding, encoded body size and flags
 *   mimetree -d PATH [FILE]   the decoded body of leaf PATH on stdout (quoted-printable
 *                             line breaks as the part's header's line ends)
 *   mimetree -r PATH [FILE]   the raw bytes of part PATH (header included) on stdout
 *   mimetree -H [FILE]        the top-level header fields, "name: unfolded value" per line
 *   mimetree -F NAME VALUE    VALUE folded by msg_fold as field NAME (CRLF line ends)
 *   mimetree -b               a fresh boundary
 * Walker warnings (unterminated multiparts ...) go to stderr as "mimetree: warning: ...".
 * Limits can be lowered with -D DEPTH and -P PARTS. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cte.h"
#include "mime.h"

struct tree {
	const char *want;	/* -d / -r PATH */
	int raw, lng;
	struct io_out *out;
	struct cte_dec dec;
	int decoding, found;
	char **lines;		/* one per part, completed at end() */
	size_t nlines;
};

static int
t_begin(void *ctx, struct mime_part *p, struct err *e)
{
	struct tree *t = ctx;
	size_t *slot;

	if (t->want != NULL) {
		if (strcmp(p->path, t->want) != 0)
			return 0;
		t->found = 1;
		if (t->raw) {
			p->want_raw = 1;
			return 0;
		}
		if (p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE))
			return err_set(e, EX_USAGE, "part %s is not a leaf", p->path);
		t->decoding = 1;
		/* Quoted-printable hard line breaks come out as the input's line ends, as
		 * Python's email does (the cte default would be canonical CRLF). */
		return cte_dec_init(&t->dec, p->cte,
		    p->cte == CTE_QP ? CTE_TEXT | (p->h->crlf ? CTE_CRLF : 0) : 0, e);
	}
	slot = malloc(sizeof *slot);
	if (slot == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	*slot = t->nlines;
	p->user = slot;
	t->lines = realloc(t->lines, (t->nlines + 1) * sizeof *t->lines);
	if (t->lines == NULL)
		return err_sys(e, EX_OSERR, "out of memory");
	t->lines[t->nlines++] = NULL;
	return 0;
}

static int
t_data(void *ctx, struct mime_part *p, const void *b, size_t n, struct err *e)
{
	struct tree *t = ctx;
	struct sink s = io_out_sink(t->out);

	(void)p;
	if (!t->decoding || strcmp(p->path, t->want) != 0)
		return 0;
	return cte_dec_write(&t->dec, &s, b, n, e);
}

static int
t_raw(void *ctx, struct mime_part *p, const void *b, size_t n, struct err *e)
{
	struct tree *t = ctx;

	(void)p;
	if (io_out_write(t->out, b, n) != 0) {
		*e = t->out->e;
		return -1;
	}
	return 0;
}

static int
t_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct tree *t = ctx;
	struct buf b = BUF_INIT;
	size_t *slot = p->user, idx;

	if (t->want != NULL) {
		if (t->decoding && strcmp(p->path, t->want) == 0) {
			struct sink s = io_out_sink(t->out);

			t->decoding = 0;
			if (cte_dec_finish(&t->dec, &s, e) != 0)
				return -1;
			cte_dec_free(&t->dec);
		}
		return 0;
	}
	buf_addf(&b, "%s %s/%s", p->path, p->ct.type, p->ct.subtype ? p->ct.subtype : "");
	if (t->lng)
		buf_addf(&b, " %s %llu%s%s%s%s", cte_name(p->cte), (unsigned long long)p->body_bytes,
		    p->flags & MIME_F_UNTERMINATED ? " unterminated" : "",
		    p->flags & MIME_F_BAD_TYPE ? " bad-type" : "",
		    p->flags & MIME_F_NO_BOUNDARY ? " no-boundary" : "",
		    p->flags & MIME_F_MESSAGE ? " message" : "");
	idx = *slot;
	free(slot);
	p->user = NULL;
	t->lines[idx] = buf_take(&b, e);
	return t->lines[idx] == NULL ? -1 : 0;
}

static void
t_cancel(void *ctx, struct mime_part *p)
{
	(void)ctx;
	free(p->user);
	p->user = NULL;
}

static int
print_header(const char *path)
{
	struct msg_header h;
	struct io_in in;
	struct err e;
	size_t i;
	int fd = 0;

	if (path != NULL && (fd = open(path, O_RDONLY)) < 0)
		cli_die(EX_NOINPUT, "cannot open %s", path);
	if (io_in_init(&in, fd, path ? path : "standard input", &e) != 0)
		cli_die_err(&e);
	msg_header_init(&h);
	if (msg_header_read(&in, &h, &e) != 0)
		cli_die_err(&e);
	for (i = 0; i < h.n; i++)
		printf("%s: %s\n", h.f[i].name, h.f[i].value);
	msg_header_free(&h);
	io_in_free(&in);
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

static const char usage[] = "usage: mimetree [-l] [-d PATH | -r PATH] [-D DEPTH] [-P PARTS] [FILE]\n"
    "       mimetree -H [FILE]\n       mimetree -F NAME VALUE\n       mimetree -b\n";

int
main(int argc, char **argv)
{
	struct tree t;
	struct mime_walk w;
	struct io_in in;
	struct io_out out;
	struct err e;
	size_t i;
	int c, fd = 0, r;
	long long depth = -1, parts = -1;

	cli_init(argc, argv);
	memset(&t, 0, sizeof t);
	while ((c = getopt(argc, argv, "bd:r:lD:P:HF")) != -1) {
		switch (c) {
		case 'H':
			return print_header(optind < argc ? argv[optind] : NULL);
		case 'F': {
			char *f;

			if (optind + 2 != argc)
				cli_usage(usage, "-F needs NAME and VALUE");
			f = msg_fold(argv[optind], argv[optind + 1], "\r\n", &e);
			if (f == NULL)
				cli_die_err(&e);
			fputs(f, stdout);
			free(f);
			return 0;
		}
		case 'b': {
			char bnd[MIME_BOUNDARY_LEN + 1];

			if (mime_boundary(bnd, sizeof bnd, &e) != 0)
				cli_die_err(&e);
			printf("%s\n", bnd);
			return 0;
		}
		case 'd':
			t.want = optarg;
			break;
		case 'r':
			t.want = optarg;
			t.raw = 1;
			break;
		case 'l':
			t.lng = 1;
			break;
		case 'D':
			depth = cli_number(optarg, 1000);
			break;
		case 'P':
			parts = cli_number(optarg, 1000000);
			break;
		default:
			cli_usage(usage, "unknown option");
		}
	}
	if (optind < argc && (fd = open(argv[optind], O_RDONLY)) < 0)
		cli_die(EX_NOINPUT, "cannot open %s", argv[optind]);
	if (io_in_init(&in, fd, optind < argc ? argv[optind] : "standard input", &e) != 0
	    || io_out_init(&out, 1, "standard output", &e) != 0)
		cli_die_err(&e);
	t.out = &out;
	mime_walk_init(&w);
	if (depth >= 0)
		w.max_depth = (int)depth;
	if (parts >= 0)
		w.max_parts = (size_t)parts;
	w.begin = t_begin;
	w.data = t_data;
	w.raw = t_raw;
	w.end = t_end;
	w.cancel = t_cancel;
	w.ctx = &t;
	r = mime_walk(&w, &in, NULL, &e);
	if (r != 0)
		cli_die_err(&e);
	if (t.want != NULL && !t.found)
		cli_die(EX_DATAERR, "no part %s", t.want);
	for (i = 0; i < t.nlines; i++) {
		io_out_puts(&out, t.lines[i]);
		io_out_puts(&out, "\n");
		free(t.lines[i]);
	}
	free(t.lines);
	if (w.flags & MIME_F_UNTERMINATED)
		cli_warn("warning: unterminated multipart");
	if (w.flags & MIME_F_BAD_TYPE)
		cli_warn("warning: unparsable Content-Type");
	if (w.flags & MIME_F_NO_BOUNDARY)
		cli_warn("warning: multipart without boundary");
	if (io_out_finish(&out) != 0)
		cli_die_err(&out.e);
	io_in_free(&in);
	return 0;
}
