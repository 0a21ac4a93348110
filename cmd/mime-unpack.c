/* mime-unpack — list, extract or print the parts of a MIME message; join message/partial. */
#include <fcntl.h>
#include <stdint.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
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

/* An extracted file waiting for the walk to succeed before it gets its name. */
struct pending {
	char *tmp;
	char *name;
};

/* What the command does with the part being walked. */
struct unpack {
	enum mode mode;
	const char *dir;
	int force;
	const char *want;		/* -p */
	int found;
	struct io_out *out;
	/* the current leaf (or enclosed message) whose bytes go somewhere */
	struct mime_part *cur;
	struct mime_part *msg_sel;	/* a selected message/rfc822 part: its child goes raw */
	char number[MIME_PATH_MAX];
	char *filename;			/* decoded, UTF-8, or NULL */
	uint64_t size;
	int decoding;			/* through dec, else raw bytes */
	struct cte_dec dec;
	struct sink snk;
	struct io_atomic at;
	int at_open;
	struct io_out file;
	struct pending *pend;
	size_t npend, cappend;
};

/* Text for standard output, through the one buffered writer (errors are sticky there and
 * reported at the end). */
static void
outf(struct unpack *u, const char *fmt, ...) ERR_PRINTF(2, 3);

static void
outf(struct unpack *u, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		io_out_write(u->out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* IMAP-style number: the walker's path, except that the body of a message that is not
 * multipart is part 1 (RFC 3501 §6.4.5), not the message itself. */
static const char *
part_number(const struct mime_part *p)
{
	return p->depth == 0 && !(p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE)) ? "1" : p->path;
}

/* Sink into the part's destination, counting. */
static int
dest_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct unpack *u = ctx;
	struct io_out *o;

	u->size += n;
	if (u->mode == M_LIST)
		return 0;
	o = u->mode == M_EXTRACT ? &u->file : u->out;
	if (io_out_write(o, p, n) != 0) {
		*e = o->e;
		return -1;
	}
	return 0;
}

/* The file name of a part: Content-Disposition filename (RFC 2183, RFC 2231), else the
 * Content-Type name; plain values may carry RFC 2047 words, which are decoded. NULL if none
 * (or out of memory, which only loses the name). */
static char *
part_filename(const struct mime_part *p)
{
	const struct msg_field *f = msg_header_get(p->h, "Content-Disposition");
	struct mime_type d;
	const char *v = NULL;
	struct err e;
	char *r = NULL;

	memset(&d, 0, sizeof d);
	if (f != NULL && mime_type_parse(f->value, 1, &d, &e) == 0)
		v = mime_type_param(&d, "filename");
	if (v == NULL)
		v = mime_type_param(&p->ct, "name");
	if (v != NULL)
		r = rfc2047_decode(v, &e);
	mime_type_free(&d);
	return r;
}

static int
is_attachment(const struct mime_part *p, const char *filename)
{
	const struct msg_field *f = msg_header_get(p->h, "Content-Disposition");

	return filename != NULL || (f != NULL && strncasecmp(f->value, "attachment", 10) == 0);
}

static const char *
encoding_name(const struct mime_part *p)
{
	const struct msg_field *f;

	if (p->cte != CTE_UNKNOWN)
		return cte_name(p->cte);
	f = msg_header_get(p->h, "Content-Transfer-Encoding");
	return f ? f->value : "unknown";
}

static void
list_line(struct unpack *u, const struct mime_part *p, const char *number, const char *size,
    const char *name)
{
	outf(u, "%*s%s\t%s/%s\t%s\t%s\t%s\n", 2 * p->depth, "", number, p->ct.type,
	    p->ct.subtype ? p->ct.subtype : "", encoding_name(p), size, name ? name : "-");
}

/* Open the destination of a selected part: a file in the directory for -x. */
static int
open_dest(struct unpack *u, const char *number, int message, struct err *e)
{
	char fallback[MIME_PATH_MAX + 16], dst[4096], *safe;
	size_t i;

	u->size = 0;
	if (u->mode != M_EXTRACT)
		return 0;
	snprintf(fallback, sizeof fallback, "part-%s%s", number, message ? ".eml" : "");
	for (i = 5; fallback[i] && strcmp(fallback + i, ".eml") != 0; i++)
		if (fallback[i] == '.')
			fallback[i] = '-';
	if ((safe = unpack_safe_name(u->filename ? u->filename : "", fallback, e)) == NULL)
		return -1;
	free(u->filename);
	u->filename = safe;
	snprintf(dst, sizeof dst, "%s/%s", u->dir, safe);
	if (io_atomic_open(&u->at, dst, 0644, e) != 0)
		return -1;
	if (io_out_init(&u->file, u->at.fd, safe, e) != 0) {
		io_atomic_abort(&u->at);
		return -1;
	}
	u->at_open = 1;
	return 0;
}

/* Does the command want this part's content? */
static int
selected(struct unpack *u, const char *number, int attachment)
{
	switch (u->mode) {
	case M_LIST: return 1;
	case M_PART: return strcmp(number, u->want) == 0;
	case M_EXTRACT: return attachment;
	default: return 0;
	}
}

static int
cb_begin(void *ctx, struct mime_part *p, struct err *e)
{
	struct unpack *u = ctx;
	const char *number = part_number(p);
	int attachment;

	if (p->parent != NULL && p->parent == u->msg_sel) {
		/* The message inside a selected message/rfc822 part: its bytes as they are. */
		u->msg_sel = NULL;
		p->want_raw = 1;
		p->no_data = 1;
		u->cur = p;
		u->decoding = 0;
		return open_dest(u, u->number, 1, e);	/* named by the message/rfc822 part */
	}
	free(u->filename);
	u->filename = part_filename(p);
	attachment = is_attachment(p, u->filename);
	if (p->flags & MIME_F_MULTIPART) {
		if (u->mode == M_LIST)
			list_line(u, p, number, "-", NULL);
		if (u->mode == M_PART && strcmp(number, u->want) == 0)
			return err_set(e, EX_DATAERR, "part %s is a %s/%s: choose one of its parts",
			    number, p->ct.type, p->ct.subtype);
		return 0;
	}
	if (p->flags & MIME_F_MESSAGE) {
		if (u->mode == M_LIST)
			list_line(u, p, number, "-", u->filename);
		else if (selected(u, number, attachment)) {
			if (u->mode == M_PART)
				u->found = 1;
			u->msg_sel = p;
			snprintf(u->number, sizeof u->number, "%s", number);
		}
		return 0;
	}
	if (!selected(u, number, attachment)) {
		p->no_data = 1;
		return 0;
	}
	if (u->mode == M_PART)
		u->found = 1;
	snprintf(u->number, sizeof u->number, "%s", number);
	if (open_dest(u, number, 0, e) != 0)
		return -1;
	/* Bad base64 is an error, never a silently different file. Text that is not in base64
	 * gets local (LF) line ends; base64 content comes out exactly as it was encoded. */
	if (cte_dec_init(&u->dec, p->cte, CTE_STRICT | (strcmp(p->ct.type, "text") == 0 &&
	    p->cte != CTE_BASE64 ? CTE_TEXT : 0), e) != 0)
		return -1;
	u->decoding = 1;
	u->cur = p;
	return 0;
}

static int
cb_data(void *ctx, struct mime_part *p, const void *buf, size_t n, struct err *e)
{
	struct unpack *u = ctx;

	if (p != u->cur || !u->decoding)
		return 0;
	if (cte_dec_write(&u->dec, &u->snk, buf, n, e) != 0)
		return err_wrap(e, "part %s", u->number);
	return 0;
}

static int
cb_raw(void *ctx, struct mime_part *p, const void *buf, size_t n, struct err *e)
{
	struct unpack *u = ctx;

	if (p != u->cur || u->decoding)
		return 0;
	return dest_write(u, buf, n, e);
}

static int
keep_pending(struct unpack *u, struct err *e)
{
	struct pending *v;

	if (u->npend == u->cappend) {
		u->cappend = u->cappend ? 2 * u->cappend : 16;
		if ((v = realloc(u->pend, u->cappend * sizeof *v)) == NULL)
			return err_sys(e, EX_OSERR, "out of memory");
		u->pend = v;
	}
	v = &u->pend[u->npend];
	v->tmp = strdup(u->at.tmp);
	v->name = strdup(u->filename);
	if (v->tmp == NULL || v->name == NULL) {
		free(v->tmp);
		free(v->name);
		return err_sys(e, EX_OSERR, "out of memory");
	}
	u->npend++;
	return 0;
}

/* The file is complete: synced and closed under its temp name, named after the walk. */
static int
finish_file(struct unpack *u, struct err *e)
{
	u->at_open = 0;
	if (io_out_finish(&u->file) != 0) {
		*e = u->file.e;
		io_atomic_abort(&u->at);
		return -1;
	}
	if (fsync(u->at.fd) != 0 || close(u->at.fd) != 0) {
		err_sys(e, EX_IOERR, "cannot write %s", u->at.tmp);
		u->at.fd = -1;
		io_atomic_abort(&u->at);
		return -1;
	}
	u->at.fd = -1;
	if (keep_pending(u, e) != 0) {
		io_atomic_abort(&u->at);
		return -1;
	}
	return 0;
}

static int
cb_end(void *ctx, struct mime_part *p, struct err *e)
{
	struct unpack *u = ctx;
	char size[32];

	if (p != u->cur)
		return 0;
	u->cur = NULL;
	if (u->decoding) {
		u->decoding = 0;
		if (cte_dec_finish(&u->dec, &u->snk, e) != 0) {
			cte_dec_free(&u->dec);
			return err_wrap(e, "part %s", u->number);
		}
		cte_dec_free(&u->dec);
	}
	if (u->mode == M_LIST) {
		snprintf(size, sizeof size, "%llu", (unsigned long long)u->size);
		list_line(u, p, u->number, size, u->filename);
	}
	if (u->mode == M_EXTRACT)
		return finish_file(u, e);
	return 0;
}

/* The walk ended early: release the part in progress (its file is dropped by drop_files). */
static void
cb_cancel(void *ctx, struct mime_part *p)
{
	struct unpack *u = ctx;

	if (p != u->cur)
		return;
	u->cur = NULL;
	if (u->decoding)
		cte_dec_free(&u->dec);
	u->decoding = 0;
}

/* After a successful walk: give the extracted files their names. */
static int
name_files(struct unpack *u, struct err *e)
{
	char used[4096];
	size_t i;

	for (i = 0; i < u->npend; i++) {
		if (unpack_link(u->pend[i].tmp, u->dir, u->pend[i].name, u->force, used, sizeof used,
		    e) != 0)
			return -1;
		free(u->pend[i].tmp);
		u->pend[i].tmp = NULL;
		outf(u, "%s\n", used);
	}
	return 0;
}

static void
free_pending(struct unpack *u)
{
	size_t i;

	for (i = 0; i < u->npend; i++) {
		free(u->pend[i].tmp);
		free(u->pend[i].name);
	}
	free(u->pend);
	u->pend = NULL;
	u->npend = u->cappend = 0;
}

static void
drop_files(struct unpack *u)
{
	size_t i;

	if (u->at_open) {
		io_out_free(&u->file);
		io_atomic_abort(&u->at);
		u->at_open = 0;
	}
	for (i = 0; i < u->npend; i++)
		if (u->pend[i].tmp != NULL)
			unlink(u->pend[i].tmp);
}

static void
walk(struct unpack *u, const char *path)
{
	struct mime_walk w;
	struct io_in in;
	struct err e;
	int fd = STDIN_FILENO;

	if (path != NULL && strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(&e, EX_NOINPUT, "cannot open %s", path);
		cli_die_err(&e);
	}
	if (io_in_init(&in, fd, path ? path : "standard input", &e) != 0)
		cli_die_err(&e);
	mime_walk_init(&w);
	w.begin = cb_begin;
	w.data = cb_data;
	w.raw = cb_raw;
	w.end = cb_end;
	w.cancel = cb_cancel;
	w.ctx = u;
	u->snk.write = dest_write;
	u->snk.ctx = u;
	if (mime_walk(&w, &in, NULL, &e) < 0) {
		drop_files(u);
		io_out_flush(u->out);
		cli_die_err(&e);
	}
	/* Best effort is not good enough for files: a multipart without its close delimiter
	 * may have lost its end, so nothing is extracted from it. */
	if (w.flags & MIME_F_UNTERMINATED) {
		drop_files(u);
		io_out_flush(u->out);
		cli_die(EX_DATAERR, "%s: a multipart lacks its closing boundary: the message is "
		    "truncated or malformed", path ? path : "standard input");
	}
	if (u->mode == M_EXTRACT && name_files(u, &e) != 0) {
		drop_files(u);
		io_out_flush(u->out);
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
	free_pending(&u);
	cli_close_stdout();
	return EX_OK;
}
