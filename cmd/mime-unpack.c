/* mime-unpack — list, extract or print the parts of a MIME message; join message/partial. */
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "io.h"
#include "pack.h"
#include "unpack.h"

static const char usage[] =
    "usage: mime-unpack -l [FILE]\n"
    "       mime-unpack -x DIR [-f] [-s] [FILE]\n"
    "       mime-unpack -p PART [FILE]\n"
    "       mime-unpack --join FILE...\n"
    "\n"
    "List, extract or print the parts of a MIME message (FILE or standard input).\n"
    "\n"
    "  -l, --list          one line per part: number, type, encoding, size, file name\n"
    "  -x, --extract=DIR   write the attachments into DIR (safe, unique names)\n"
    "  -f, --force         with -x, replace existing files\n"
    "  -s, --signatures    with -x, also extract the signatures of multipart/signed\n"
    "                      (smime.p7s, signature.asc), skipped by default\n"
    "  -p, --part=PART     write part PART (e.g. 2 or 1.3) decoded to standard output\n"
    "      --join          reassemble message/partial fragments to standard output\n"
    "  -h, --help          show this help and exit\n"
    "  -V, --version       show the version and exit\n";

enum { M_JOIN = 100, OPT_JOIN = 256 };

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "extract", required_argument, NULL, 'x' },
		{ "force", no_argument, NULL, 'f' },
		{ "signatures", no_argument, NULL, 's' },
		{ "part", required_argument, NULL, 'p' },
		{ "join", no_argument, NULL, OPT_JOIN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct unpack_opts u;
	struct io_out out;
	struct io_in in;
	struct stat st;
	struct err e;
	mode_t old_mask;
	const char *path;
	int c, fd = STDIN_FILENO;
	unsigned mode = 0;

	cli_init(argc, argv);
	setlocale(LC_CTYPE, "");
	memset(&u, 0, sizeof u);
	while ((c = getopt_long(argc, argv, "lx:fsp:hV", longopts, NULL)) != -1) {
		unsigned m = 0;

		switch (c) {
		case 'l': m = UNPACK_LIST; break;
		case 'x': m = UNPACK_EXTRACT; u.dir = optarg; break;
		case 'f': u.force = 1; break;
		case 's': u.keep_signatures = 1; break;
		case 'p': m = UNPACK_PART; u.part = optarg; break;
		case OPT_JOIN: m = M_JOIN; break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: cli_usage(usage, NULL);
		}
		if (m != 0) {
			if (mode != 0 && mode != m)
				cli_usage(usage, "-l, -x, -p and --join exclude each other");
			mode = m;
		}
	}
	if (mode == 0)
		cli_usage(usage, "one of -l, -x, -p or --join is needed");
	if (u.force && mode != UNPACK_EXTRACT)
		cli_usage(usage, "-f goes with -x");
	if (u.keep_signatures && mode != UNPACK_EXTRACT)
		cli_usage(usage, "-s goes with -x");
	if (mode == M_JOIN) {
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
	u.mode = (enum unpack_mode)mode;
	/* Extracted files are created as other tools create files: 0666 less the umask. */
	old_mask = umask(077);
	umask(old_mask);
	u.file_mode = (int)(0666 & ~old_mask);
	if (u.mode == UNPACK_EXTRACT && (stat(u.dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		cli_die(EX_CANTCREAT, "cannot extract into %s: not a directory", u.dir);
	path = optind < argc && strcmp(argv[optind], "-") != 0 ? argv[optind] : NULL;
	if (path != NULL && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(&e, EX_NOINPUT, "cannot open %s", path);
		cli_die_err(&e);
	}
	if (io_in_init(&in, fd, path ? path : "standard input", &e) != 0 ||
	    io_out_init(&out, STDOUT_FILENO, "standard output", &e) != 0)
		cli_die_err(&e);
	if (unpack_message(&u, &in, &out, &e) != 0) {
		io_out_flush(&out);	/* what was listed or printed, then the reason */
		cli_die_err(&e);
	}
	if (io_out_finish(&out) != 0)
		cli_die_err(&out.e);
	io_in_free(&in);
	if (fd != STDIN_FILENO)
		close(fd);
	cli_close_stdout();
	return EX_OK;
}
