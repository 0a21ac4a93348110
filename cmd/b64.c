/* b64 — base64 / base64url encode and decode, streaming. */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "cli.h"
#include "io.h"

/* 64 KiB: input, output and kernel tables stay in L2; 256 KiB was 4x the system time of
 * cat on the same file (read(2) copying into buffers that no longer fit the cache). */
#define CHUNK (64 * 1024)

static const char usage[] =
    "usage: b64 [-d] [-u] [-i] [-w COLS] [--crlf] [FILE...]\n"
    "\n"
    "Base64-encode FILEs (or standard input) to standard output; -d decodes.\n"
    "\n"
    "  -d, --decode          decode instead of encode\n"
    "  -u, --url             use the URL and file name safe alphabet (RFC 4648 section 5)\n"
    "  -i, --ignore-garbage  when decoding, skip bytes outside the alphabet\n"
    "  -w, --wrap=COLS       wrap encoded lines after COLS characters (default 76, 0: no wrap)\n"
    "      --crlf            end encoded lines with CRLF, as MIME does on the wire\n"
    "  -h, --help            show this help and exit\n"
    "  -V, --version         show the version and exit\n"
    "\n"
    "With no FILE, or when FILE is -, read standard input. Decoding skips white space.\n";

struct run {
	int decode;
	int flags;
	unsigned wrap;
	unsigned char *in;
	unsigned char *out;
	size_t outcap;
	struct b64_enc *enc;	/* allocated, not zeroed: its 48 KiB scratch needs no clearing */
	struct b64_dec dec;
};

static void
put(const void *p, size_t n)
{
	struct err e;

	if (n > 0 && io_write_all(STDOUT_FILENO, p, n) != 0) {
		err_sys(&e, EX_IOERR, "write error: standard output");
		cli_die_err(&e);
	}
}

static void
feed(struct run *r, int fd, const char *name)
{
	struct err e;
	ssize_t n;
	size_t outn;

	r->dec.off = 0;		/* offsets in messages are per file */
	while ((n = io_read(fd, r->in, CHUNK)) > 0) {
		if (!r->decode) {
			put(r->out, b64_enc_update(r->enc, r->in, (size_t)n, (char *)r->out));
			continue;
		}
		if (b64_dec_update(&r->dec, r->in, (size_t)n, r->out, &outn) != 0) {
			put(r->out, outn);
			cli_die(EX_DATAERR, "%s: %s", name, r->dec.msg);
		}
		put(r->out, outn);
	}
	if (n < 0) {
		err_sys(&e, EX_IOERR, "read error: %s", name);
		cli_die_err(&e);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "decode", no_argument, NULL, 'd' },
		{ "url", no_argument, NULL, 'u' },
		{ "ignore-garbage", no_argument, NULL, 'i' },
		{ "wrap", required_argument, NULL, 'w' },
		{ "crlf", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r;
	long long w;
	size_t outn;
	int c, i, fd;

	cli_init(argc, argv);
	memset(&r, 0, sizeof r);
	r.wrap = 76;
	while ((c = getopt_long(argc, argv, "duiw:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': r.decode = 1; break;
		case 'u': r.flags |= B64_URL; break;
		case 'i': r.flags |= B64_IGNORE_GARBAGE; break;
		case 'C': r.flags |= B64_CRLF; break;
		case 'w':
			if ((w = cli_number(optarg, 1 << 30)) < 0)
				cli_usage(usage, "invalid wrap width: '%s'", optarg);
			r.wrap = (unsigned)w;
			break;
		case 'h': cli_help(usage);
		case 'V': cli_version();
		default: cli_usage(usage, NULL);
		}
	}

	r.in = malloc(CHUNK);
	if (r.decode) {
		b64_dec_init(&r.dec, r.flags);
		r.outcap = b64_dec_bound(CHUNK);
	} else {
		if ((r.enc = malloc(sizeof *r.enc)) == NULL)
			cli_die(EX_OSERR, "out of memory");
		b64_enc_init(r.enc, r.flags, r.wrap);
		r.outcap = b64_enc_bound(r.enc, CHUNK) + 16;
	}
	r.out = malloc(r.outcap);
	if (r.in == NULL || r.out == NULL)
		cli_die(EX_OSERR, "out of memory");

	if (optind == argc)
		feed(&r, STDIN_FILENO, "standard input");
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			feed(&r, STDIN_FILENO, "standard input");
			continue;
		}
		fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			struct err e;

			err_sys(&e, EX_NOINPUT, "cannot open %s", argv[i]);
			cli_die_err(&e);
		}
		feed(&r, fd, argv[i]);
		close(fd);
	}

	if (r.decode) {
		if (b64_dec_final(&r.dec, r.out, &outn) != 0)
			cli_die(EX_DATAERR, "%s: %s", optind + 1 == argc && strcmp(argv[optind], "-") != 0
			    ? argv[optind] : "input", r.dec.msg);
		put(r.out, outn);
	} else {
		put(r.out, b64_enc_final(r.enc, (char *)r.out));
	}
	cli_close_stdout();
	free(r.in);
	free(r.out);
	free(r.enc);
	return EX_OK;
}
