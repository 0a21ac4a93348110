/* mime-unpack — list, extract or print the parts of a MIME message; join message/partial. */
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cte.h"
#include "io.h"
#include "mime.h"
#include "msg.h"
#include "pack.h"
#include "param.h"
#include "rfc2047.h"
#include "unpack.h"

static const char usage[] =
    "usage: mime-unpack -l [FILE]\n"
    "       mime-unpack -x DIR [-f] [FILE]\n"
    "       mime-unpack -p PART [FILE]\n"
    "       mime-unpack --join FILE...\n"
    "\n"
    "List, extract or print the parts of a MIME message (FILE or standard input).\n"
    "\n"
    "  -l, --list          one line per part: number, type, encoding, size, file name\n"
    "  -x, --extract=DIR   write the attachments into DIR (safe, unique names)\n"
    "  -f, --force         with -x, replace existing files\n"
    "  -p, --part=PART     write part PART (e.g. 2 or 1.3) decoded to standard output\n"
    "      --join          reassemble message/partial fragments to standard output\n"
    "  -h, --help          show this help and exit\n"
    "  -V, --version       show the version and exit\n";

enum mode { M_NONE, M_LIST, M_EXTRACT, M_PART, M_JOIN };
enum { OPT_JOIN = 256 };

#define MAX_DEPTH MIME_MAX_DEPTH

/* What the command does with the part being walked. */
struct unpack {
	enum mode mode;
	const char *dir;
	int force;
	const char *want;		/* -p */
	int found;
	struct io_out *out;
	unsigned counter[MAX_DEPTH + 2];
	/* the current leaf */
	char number[8 * (MAX_DEPTH + 2)];
	unsigned depth;
	char type[160];
	char encoding[40];
	enum cte cte;
	char *filename;			/* decoded, UTF-8, or NULL */
	int attachment;
	int active;			/* its decoded bytes go somewhere */
	uint64_t size;
	struct cte_dec dec;
	struct sink snk;
	struct io_atomic at;
	struct io_out file;
	int decoding;
};

/* Sink that only counts (for --list). */
static int
count_write(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)p;
	(void)e;
	((struct unpack *)ctx)->size += n;
	return 0;
}

/* Sink into the part's destination, counting too. */
static int
dest_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct unpack *u = ctx;
	struct io_out *o = u->mode == M_EXTRACT ? &u->file : u->out;

	u->size += n;
	if (io_out_write(o, p, n) != 0) {
		*e = o->e;
		return -1;
	}
	return 0;
}

/* The file name of a part: Content-Disposition filename (RFC 2183, RFC 2231), else the
 * Content-Type name; plain values may carry RFC 2047 words, which are decoded. */
static char *
part_filename(const struct msg_header *h, const struct mime_type *ct, struct err *e)
{
	const struct msg_field *f = msg_header_get(h, "Content-Disposition");
	struct mime_type d;
	const char *v = NULL;
	char *r = NULL;

	memset(&d, 0, sizeof d);
	if (f != NULL && mime_type_parse(f->value, 1, &d, e) == 0)
		v = mime_type_param(&d, "filename");
	if (v == NULL && ct != NULL)
		v = mime_type_param(ct, "name");
	if (v != NULL)
		r = rfc2047_decode(v, e);
	mime_type_free(&d);
	return r;
}

static int
is_attachment(const struct msg_header *h, const char *filename)
{
	const struct msg_field *f = msg_header_get(h, "Content-Disposition");

	return filename != NULL || (f != NULL && strncasecmp(f->value, "attachment", 10) == 0);
}

static void
set_number(struct unpack *u, unsigned depth, int multipart)
{
	size_t n = 0;
	unsigned i;

	if (depth == 0) {
		snprintf(u->number, sizeof u->number, "%s", multipart ? "0" : "1");
		return;
	}
	u->counter[depth]++;
	u->counter[depth + 1] = 0;
	u->number[0] = '\0';
	for (i = 1; i <= depth; i++)
		n += (size_t)snprintf(u->number + n, sizeof u->number - n, "%s%u", i > 1 ? "." : "",
		    u->counter[i]);
}

/* A part begins: its header has been read. */
static int
on_begin(struct unpack *u, unsigned depth, const struct msg_header *h, int multipart,
    struct err *e)
{
	const struct msg_field *f;
	struct mime_type ct;
	struct sink snk;
	char *safe, fallback[64];
	size_t i;

	set_number(u, depth, multipart);
	u->depth = depth;
	u->size = 0;
	u->active = 0;
	free(u->filename);
	u->filename = NULL;
	memset(&ct, 0, sizeof ct);
	/* RFC 2045 §5.2: no (or an unparsable) Content-Type means text/plain. */
	f = msg_header_get(h, "Content-Type");
	if (f != NULL && mime_type_parse(f->value, 0, &ct, e) == 0)
		snprintf(u->type, sizeof u->type, "%s/%s", ct.type, ct.subtype);
	else
		snprintf(u->type, sizeof u->type, "text/plain");
	f = msg_header_get(h, "Content-Transfer-Encoding");
	u->cte = cte_parse(f ? f->value : NULL);
	snprintf(u->encoding, sizeof u->encoding, "%s", u->cte == CTE_UNKNOWN ? f->value :
	    cte_name(u->cte));
	u->filename = part_filename(h, f != NULL ? &ct : NULL, e);
	u->attachment = is_attachment(h, u->filename);
	mime_type_free(&ct);
	if (multipart) {
		if (u->mode == M_LIST)
			printf("%*s%s\t%s\t%s\t-\t-\n", (int)(2 * depth), "", u->number, u->type,
			    u->encoding);
		if (u->mode == M_PART && strcmp(u->number, u->want) == 0)
			return err_set(e, EX_DATAERR, "part %s is a %s: choose one of its parts",
			    u->number, u->type);
		return 0;
	}
	switch (u->mode) {
	case M_LIST:
		snk.write = count_write;
		break;
	case M_PART:
		if (strcmp(u->number, u->want) != 0)
			return 0;
		u->found = 1;
		snk.write = dest_write;
		break;
	case M_EXTRACT:
		if (!u->attachment)
			return 0;
		snprintf(fallback, sizeof fallback, "part-%s", u->number);
		for (i = 0; fallback[i]; i++)
			if (fallback[i] == '.')
				fallback[i] = '-';
		if ((safe = unpack_safe_name(u->filename ? u->filename : "", fallback, e)) == NULL)
			return -1;
		free(u->filename);
		u->filename = safe;
		{
			char dst[4096];

			snprintf(dst, sizeof dst, "%s/%s", u->dir, safe);
			if (io_atomic_open(&u->at, dst, 0644, e) != 0)
				return -1;
		}
		if (io_out_init(&u->file, u->at.fd, safe, e) != 0) {
			io_atomic_abort(&u->at);
			return -1;
		}
		snk.write = dest_write;
		break;
	default:
		return 0;
	}
	snk.ctx = u;
	u->snk = snk;
	/* Bytes as sent (no line-end rewriting); bad base64 is an error, never a silently
	 * different file. */
	if (cte_dec_init(&u->dec, u->cte, CTE_STRICT, e) != 0)
		return -1;
	u->active = 1;
	return 0;
}

static int
on_data(struct unpack *u, const void *p, size_t n, struct err *e)
{
	if (!u->active)
		return 0;
	if (cte_dec_write(&u->dec, &u->snk, p, n, e) != 0)
		return err_wrap(e, "part %s", u->number);
	return 0;
}

static int
on_end(struct unpack *u, struct err *e)
{
	char used[4096];

	if (!u->active)
		return 0;
	u->active = 0;
	if (cte_dec_finish(&u->dec, &u->snk, e) != 0) {
		cte_dec_free(&u->dec);
		if (u->mode == M_EXTRACT) {
			io_out_free(&u->file);
			io_atomic_abort(&u->at);
		}
		return err_wrap(e, "part %s", u->number);
	}
	cte_dec_free(&u->dec);
	switch (u->mode) {
	case M_LIST:
		printf("%*s%s\t%s\t%s\t%llu\t%s\n", (int)(2 * u->depth), "", u->number, u->type,
		    u->encoding, (unsigned long long)u->size, u->filename ? u->filename : "-");
		break;
	case M_EXTRACT:
		if (io_out_finish(&u->file) != 0) {
			*e = u->file.e;
			io_atomic_abort(&u->at);
			return -1;
		}
		if (unpack_commit(&u->at, u->dir, u->filename, u->force, used, sizeof used, e) != 0)
			return -1;
		printf("%s\n", used);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- adapter: the library's MIME walker calls these ---- */

static int
cb_begin(void *ctx, const struct mime_part *p, struct err *e)
{
	return on_begin(ctx, p->depth, p->header, p->is_multipart, e);
}

static int
cb_data(void *ctx, const struct mime_part *p, const void *data, size_t n, struct err *e)
{
	(void)p;
	return on_data(ctx, data, n, e);
}

static int
cb_end(void *ctx, const struct mime_part *p, struct err *e)
{
	(void)p;
	return on_end(ctx, e);
}

static void
walk(struct unpack *u, const char *path)
{
	struct mime_walker_cb cb = { cb_begin, cb_data, cb_end };
	struct io_in in;
	struct err e;
	int fd = STDIN_FILENO;

	if (path != NULL && strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(&e, EX_NOINPUT, "cannot open %s", path);
		cli_die_err(&e);
	}
	if (io_in_init(&in, fd, path ? path : "standard input", &e) != 0)
		cli_die_err(&e);
	if (mime_walk(&in, &cb, u, &e) != 0) {
		fflush(stdout);
		cli_die_err(&e);
	}
	io_in_free(&in);
	if (fd != STDIN_FILENO)
		close(fd);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "extract", required_argument, NULL, 'x' },
		{ "force", no_argument, NULL, 'f' },
		{ "part", required_argument, NULL, 'p' },
		{ "join", no_argument, NULL, OPT_JOIN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct unpack u;
	struct io_out out;
	struct stat st;
	struct err e;
	int c;

	cli_init(argc, argv);
	setlocale(LC_CTYPE, "");
	memset(&u, 0, sizeof u);
	while ((c = getopt_long(argc, argv, "lx:fp:hV", longopts, NULL)) != -1) {
		enum mode m = M_NONE;

		switch (c) {
		case 'l': m = M_LIST; break;
		case 'x': m = M_EXTRACT; u.dir = optarg; break;
		case 'f': u.force = 1; break;
		case 'p': m = M_PART; u.want = optarg; break;
		case OPT_JOIN: m = M_JOIN; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: cli_usage(usage, NULL);
		}
		if (m != M_NONE) {
			if (u.mode != M_NONE && u.mode != m)
				cli_usage(usage, "-l, -x, -p and --join exclude each other");
			u.mode = m;
		}
	}
	if (u.mode == M_NONE)
		cli_usage(usage, "one of -l, -x, -p or --join is needed");
	if (u.force && u.mode != M_EXTRACT)
		cli_usage(usage, "-f goes with -x");
	if (u.mode == M_JOIN) {
		if (optind == argc)
			cli_usage(usage, "--join needs the fragment files");
		if (io_out_init(&out, STDOUT_FILENO, "standard output", &e) != 0)
			cli_die_err(&e);
		if (pack_join(argv + optind, (size_t)(argc - optind), &out, &e) != 0)
			cli_die_err(&e);
		if (io_out_finish(&out) != 0)
			cli_die_err(&out.e);
		cli_close_stdout();
		return EX_OK;
	}
	if (argc - optind > 1)
		cli_usage(usage, "one message at a time");
	if (u.mode == M_EXTRACT && (stat(u.dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		cli_die(EX_CANTCREAT, "cannot extract into %s: not a directory", u.dir);
	if (io_out_init(&out, STDOUT_FILENO, "standard output", &e) != 0)
		cli_die_err(&e);
	u.out = &out;
	walk(&u, optind < argc ? argv[optind] : NULL);
	if (u.mode == M_PART && !u.found)
		cli_die(EX_DATAERR, "no part %s in the message", u.want);
	if (io_out_finish(&out) != 0)
		cli_die_err(&out.e);
	free(u.filename);
	cli_close_stdout();
	return EX_OK;
}
