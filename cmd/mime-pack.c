/* mime-pack — turn a plain message on stdin into a MIME message with attachments. */
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "charset.h"
#include "cli.h"
#include "io.h"
#include "mimetypes.h"
#include "pack.h"

static const char usage[] =
    "usage: mime-pack [--crlf] [--utf8-headers] [-c CHARSET] [--html FILE]\n"
    "                 [[-t TYPE] [-i] [-d TEXT] [--content-id ID] [-n NAME] -a FILE]...\n"
    "                 [--forward FILE]... [--split SIZE --split-dir DIR]\n"
    "\n"
    "Read a message on standard input and write it as a MIME message, with attachments.\n"
    "\n"
    "  -a, --attach=FILE       attach FILE (FILE;type=TYPE gives its type)\n"
    "  -t, --type=TYPE         content type of the next attachment\n"
    "  -i, --inline            mark the next attachment inline\n"
    "  -d, --description=TEXT  Content-Description of the next attachment\n"
    "      --content-id=ID     Content-ID of the next attachment\n"
    "  -n, --name=NAME         file name to announce for the next attachment\n"
    "      --forward=FILE      attach the message in FILE as message/rfc822\n"
    "      --html=FILE         add FILE as the text/html alternative of the body\n"
    "  -c, --charset=CHARSET   charset of the body (converted to UTF-8)\n"
    "      --utf8-headers      leave non-ASCII header text as UTF-8 (RFC 6532)\n"
    "      --crlf              end output lines with CRLF\n"
    "      --split=SIZE        cut the result into message/partial fragments of SIZE octets\n"
    "      --split-dir=DIR     where --split writes part-001.eml, part-002.eml, ...\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n";

enum { OPT_CID = 256, OPT_FORWARD, OPT_HTML, OPT_UTF8, OPT_CRLF, OPT_SPLIT, OPT_SPLITDIR };

/*
 * The locale is needed only for its charset (lib/pack.h), and only when text or a file name
 * is neither ASCII nor UTF-8: setlocale(3) reads the locale files then, not at every start
 * (it cost more than packing a small message). Everything else mime-pack compares is ASCII
 * (field names, types, parameters) and is compared as ASCII.
 */
static const char *
locale_charset_lazy(void)
{
	static int set;

	if (!set) {
		setlocale(LC_CTYPE, "");
		set = 1;
	}
	return charset_locale();
}

/* "10M", "512k", "4096" -> octets; -1 if malformed. */
static long long
parse_size(const char *s)
{
	char num[32];
	size_t n = strlen(s);
	long long mult = 1, v;

	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': mult = 1024; num[--n] = '\0'; break;
	case 'm': case 'M': mult = 1024 * 1024; num[--n] = '\0'; break;
	}
	if ((v = cli_number(num, (1LL << 40) / mult)) < 0)
		return -1;
	return v * mult;
}

/* "FILE;type=TYPE": split off the type when what follows the last ";type=" is a valid one. */
static void
split_type(char *arg, struct pack_att *a)
{
	char *p = NULL, *q = arg;

	while ((q = strstr(q, ";type=")) != NULL)
		p = q++;
	if (p != NULL && mimetypes_valid(p + 6)) {
		*p = '\0';
		a->type = p + 6;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "attach", required_argument, NULL, 'a' },
		{ "type", required_argument, NULL, 't' },
		{ "inline", no_argument, NULL, 'i' },
		{ "description", required_argument, NULL, 'd' },
		{ "content-id", required_argument, NULL, OPT_CID },
		{ "name", required_argument, NULL, 'n' },
		{ "forward", required_argument, NULL, OPT_FORWARD },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "charset", required_argument, NULL, 'c' },
		{ "utf8-headers", no_argument, NULL, OPT_UTF8 },
		{ "crlf", no_argument, NULL, OPT_CRLF },
		{ "split", required_argument, NULL, OPT_SPLIT },
		{ "split-dir", required_argument, NULL, OPT_SPLITDIR },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct pack_att *att, next;
	struct pack_opts o;
	struct mimetypes types;
	struct io_in in;
	struct io_out out;
	struct err e;
	const char *splitdir = NULL;
	long long split = 0;
	unsigned nparts;
	int c, fd, pending = 0;

	cli_init(argc, argv);
	/* A handful of fixed buffers (256 KiB at most each) live for the whole run: from the
	 * heap, not one mmap/munmap pair each; untouched pages cost nothing. */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
	mallopt(M_TOP_PAD, 2 * 1024 * 1024);	/* one brk(2) for them all */
	memset(&o, 0, sizeof o);
	o.locale_charset = locale_charset_lazy;
	memset(&next, 0, sizeof next);
	/* At most one attachment per argument. */
	if ((att = calloc((size_t)argc, sizeof *att)) == NULL)
		cli_die(EX_OSERR, "out of memory");
	o.att = att;
	while ((c = getopt_long(argc, argv, "a:t:id:n:c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
		case OPT_FORWARD:
			next.path = optarg;
			if (c == 'a')
				split_type(optarg, &next);
			else
				next.forward = 1;
			if (next.type != NULL && !mimetypes_valid(next.type))
				cli_usage(usage, "invalid content type: '%s'", next.type);
			att[o.natt++] = next;
			memset(&next, 0, sizeof next);
			pending = 0;
			break;
		case 't': next.type = optarg; pending = 1; break;
		case 'i': next.is_inline = 1; pending = 1; break;
		case 'd': next.desc = optarg; pending = 1; break;
		case OPT_CID: next.cid = optarg; pending = 1; break;
		case 'n': next.name = optarg; pending = 1; break;
		case OPT_HTML: o.html = optarg; break;
		case 'c': o.charset = optarg; break;
		case OPT_UTF8: o.utf8_headers = 1; break;
		case OPT_CRLF: o.crlf = 1; break;
		case OPT_SPLIT:
			if ((split = parse_size(optarg)) < PACK_SPLIT_MIN)
				cli_usage(usage, "invalid fragment size: '%s' (at least %d)", optarg,
				    PACK_SPLIT_MIN);
			break;
		case OPT_SPLITDIR: splitdir = optarg; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: cli_usage(usage, NULL);
		}
	}
	if (optind < argc)
		cli_usage(usage, "unexpected argument: '%s'", argv[optind]);
	if (pending)
		cli_usage(usage, "-t, -i, -d, -n and --content-id must come before the -a they describe");
	if ((split != 0) != (splitdir != NULL))
		cli_usage(usage, "--split and --split-dir go together");

	if (mimetypes_load(&types, NULL, &e) != 0)
		cli_die_err(&e);
	o.types = &types;
	if (io_in_init(&in, STDIN_FILENO, "standard input", &e) != 0)
		cli_die_err(&e);
	fd = STDOUT_FILENO;
	if (split && (fd = io_spool(&e)) < 0)
		cli_die_err(&e);
	if (io_out_init(&out, fd, split ? "spool file" : "standard output", &e) != 0)
		cli_die_err(&e);
	if (pack_message(&in, &out, &o, &e) != 0)
		cli_die_err(&e);
	if (io_out_finish(&out) != 0)
		cli_die_err(&out.e);
	if (split) {
		if (pack_split(fd, splitdir, (uint64_t)split, o.crlf, &nparts, &e) != 0)
			cli_die_err(&e);
		close(fd);
	}
	cli_close_stdout();
	io_in_free(&in);
	mimetypes_free(&types);
	free(att);
	return EX_OK;
}
