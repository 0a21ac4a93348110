/* mimetypes_test.c — mime.types parsing and lookup precedence, the built-in fallback, and the
 * text/binary/charset sniffer (including split UTF-8 sequences across chunks). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mimetypes.h"
#include "mimetypes_ref.h"
#include "tap.h"

static enum sniff_kind
sniff_str(const char *s, size_t n, size_t step)
{
	struct sniff sn;
	size_t i, k;

	sniff_init(&sn);
	for (i = 0; i < n; i += k) {
		k = step < n - i ? step : n - i;
		sniff_update(&sn, s + i, k);
	}
	return sniff_result(&sn);
}

static const char *
look(struct mimetypes *t, const char *name)
{
	const char *ty = NULL;
	struct err e;

	if (mimetypes_lookup(t, name, &ty, &e) != 0)
		return "(error)";
	return ty;
}

/* The block search against the reference on random files over a small alphabet (white space,
 * '#', NUL, case, types valid and not) and lines longer than a read block, for every
 * extension in a short list: the same type or the same miss each time. */
static void
differential(void)
{
	static const char *const exts[] = { "a", "ab", "b", "ba", "aa", "x", "pdf", "a.b" };
	static const char *const bits[] = { "a", "b", "A", "B", " ", "\t", "\r", "\n", "\n", "#",
	    "/", "x", ".", "\f", "\v", "text/plain", "application/pdf", "a/b", "Ab/Ba", "pdf",
	    "PDF", "x/y z", "\n#", "\0" };
	char path[] = "/tmp/mimetypes_diff.XXXXXX";
	static char body[70000];
	unsigned long seed = 12345;
	size_t i, j, n, bad = 0, runs = 0;
	int fd = mkstemp(path);

	ok(fd >= 0, "differential: temp file");
	for (i = 0; i < 3000; i++) {
		struct mimetypes t;
		struct err e;
		size_t want = i % 100 == 0 ? sizeof body - 64 : (i % 200) + 1;

		for (n = 0; n < want;) {
			const char *b;
			size_t bl;

			seed = seed * 6364136223846793005u + 1442695040888963407u;
			b = bits[(seed >> 33) % (sizeof bits / sizeof bits[0])];
			bl = b[0] == '\0' ? 1 : strlen(b);
			if (n + bl > want)
				break;
			memcpy(body + n, b, bl);
			n += bl;
		}
		if (ftruncate(fd, 0) != 0 || pwrite(fd, body, n, 0) != (ssize_t)n)
			break;
		for (j = 0; j < sizeof exts / sizeof exts[0]; j++) {
			char name[16], *rt;
			const char *ty;

			snprintf(name, sizeof name, "f.%s", exts[j]);
			if (mimetypes_load(&t, path, &e) != 0 || mimetypes_lookup(&t, name, &ty, &e) != 0)
				ty = "(error)";
			/* A name with a dot looks up its last extension; the reference is given
			 * the same one. */
			if (ref_lookup(path, strrchr(name, '.') + 1, &rt) != 0)
				rt = strdup("(error)");
			/* No line names it: the built-in table answers (as with no file). */
			if (rt == NULL) {
				struct mimetypes none = { NULL, NULL, 0 };
				const char *bt;

				if (mimetypes_lookup(&none, name, &bt, &e) == 0 && bt != NULL)
					rt = strdup(bt);
			}
			if ((ty == NULL) != (rt == NULL) || (ty != NULL && strcmp(ty, rt) != 0)) {
				if (bad++ < 5)
					printf("# differ on %s (run %zu): %s vs reference %s\n", name, i,
					    ty ? ty : "(none)", rt ? rt : "(none)");
			}
			runs++;
			free(rt);
			mimetypes_free(&t);
		}
	}
	close(fd);
	unlink(path);
	ok(bad == 0 && runs == 3000 * sizeof exts / sizeof exts[0],
	    "differential: the block search finds what the line-by-line reference finds (%zu runs)",
	    runs);
}

/* Hostile files just under the size limit (a user may point SECMAIL_MIME_TYPES anywhere):
 * one line of 4 MiB with a near-miss of the extension every three bytes, the same after a
 * '#', and one line that never ends. The search looks at each line once and each hit in
 * constant time: linear, not quadratic. Under a CPU-time limit (RLIMIT_CPU, not wall-clock
 * time) a few seconds above what the test has used, which a quadratic search would exceed
 * by hours. */
static void
hostile_linear(void)
{
	static const struct {
		const char *head, *rep, *tail, *want;
	} cases[] = {
		{ "x/y", " xa", "\nt/a a\n", "t/a" },
		{ "x/y #", " a", "\nt/b a\n", "t/b" },
		{ "x/y", " xa", "", NULL },
	};
	char path[] = "/tmp/mimetypes_hostile.XXXXXX";
	size_t i, n, room = MIMETYPES_MAX_FILE - 64;
	char *body = malloc(MIMETYPES_MAX_FILE);
	unsigned long factor = 1;
	struct rlimit rl;
	struct rusage ru;
	int fd = mkstemp(path);

	if (getenv("SECMAIL_TEST_CPU_FACTOR") != NULL)
		factor = strtoul(getenv("SECMAIL_TEST_CPU_FACTOR"), NULL, 10);
	getrusage(RUSAGE_SELF, &ru);
	getrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = (rlim_t)ru.ru_utime.tv_sec + (rlim_t)ru.ru_stime.tv_sec
	    + 4 * (rlim_t)(factor > 0 ? factor : 1);
	setrlimit(RLIMIT_CPU, &rl);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mimetypes t;
		struct err e;
		const char *ty = "(error)";
		size_t rl_ = strlen(cases[i].rep), tl = strlen(cases[i].tail);

		n = strlen(cases[i].head);
		memcpy(body, cases[i].head, n);
		while (n + rl_ + tl <= room) {
			memcpy(body + n, cases[i].rep, rl_);
			n += rl_;
		}
		memcpy(body + n, cases[i].tail, tl);
		n += tl;
		if (ftruncate(fd, 0) != 0 || pwrite(fd, body, n, 0) != (ssize_t)n)
			break;
		if (mimetypes_load(&t, path, &e) == 0 && mimetypes_lookup(&t, "f.a", &ty, &e) != 0)
			ty = "(error)";
		ok(cases[i].want ? ty != NULL && strcmp(ty, cases[i].want) == 0 : ty == NULL,
		    "hostile mime.types %zu (%zu bytes): %s in linear time", i, n,
		    cases[i].want ? cases[i].want : "no match");
		mimetypes_free(&t);
	}
	getrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = RLIM_INFINITY;
	setrlimit(RLIMIT_CPU, &rl);
	close(fd);
	unlink(path);
	free(body);
}

int
main(void)
{
	struct mimetypes t;
	struct err e;
	char path[] = "/tmp/mimetypes_test.XXXXXX";
	const char *text =
	    "# comment\n"
	    "\n"
	    "application/x-first\tfoo bar # trailing comment\n"
	    "Text/X-Upper   UPX\n"
	    "application/x-second foo\n"
	    "not-a-type qqq\n"
	    "image/png png\n";
	size_t step;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ok(fd >= 0, "temp file");
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);

	ok(mimetypes_load(&t, path, &e) == 0, "load a mime.types file");
	is_str(look(&t, "a/b/x.foo"), "application/x-first", "first mention of an extension wins");
	is_str(look(&t, "x.BAR"), "application/x-first", "extension lookup ignores case");
	is_str(look(&t, "x.upx"), "text/x-upper", "types are lower-cased");
	ok(look(&t, "x.qqq") == NULL, "a line with an invalid type is ignored");
	is_str(look(&t, "report.pdf"), "application/pdf", "the built-in table fills gaps");
	is_str(look(&t, "a.tar.gz"), "application/gzip", "only the last extension counts");
	ok(look(&t, ".profile") == NULL, "a leading dot is not an extension");
	ok(look(&t, "dir.d/README") == NULL, "a dot in a directory is not an extension");
	ok(look(&t, "x.") == NULL, "an empty extension is unknown");
	is_str(look(&t, "photo.png"), "image/png", "the file's entry for png");
	mimetypes_free(&t);

	/* Read only when a lookup needs it: after the load the file is replaced by a directory,
	 * which no lookup can read. */
	ok(mimetypes_load(&t, path, &e) == 0, "load again");
	unlink(path);
	mkdir(path, 0700);
	{
		const char *ty = "x";

		ok(mimetypes_lookup(&t, "README", &ty, &e) == 0 && ty == NULL,
		    "no extension: nothing to look up, the file is not read");
		ok(mimetypes_lookup(&t, "x.foo", &ty, &e) == -1, "a lookup reads the file "
		    "(a directory now: an error, not a silent fallback)");
	}
	rmdir(path);
	mimetypes_free(&t);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	/* Only until found: a line after the match that would be an error if read (past the
	 * size limit) is never reached. */
	{
		FILE *g = fopen(path, "a");
		static char big[1 << 20];
		int i;

		memset(big, 'x', sizeof big - 1);
		for (i = 0; i < 5; i++)
			fputs(big, g);
		fclose(g);
		ok(mimetypes_load(&t, path, &e) == -1 && e.code == EX_DATAERR,
		    "a file over the size limit is refused at load (stat)");
	}
	unlink(path);
	{
		FILE *g;

		strcpy(path, "/tmp/mimetypes_test.XXXXXX");
		fd = mkstemp(path);
		g = fdopen(fd, "w");
		fputs("application/x-early early\n", g);
		fclose(g);
		ok(mimetypes_load(&t, path, &e) == 0, "a small file loads");
		g = fopen(path, "a");	/* grows past the limit after the load */
		{
			static char big[1 << 20];
			int i;

			memset(big, 'x', sizeof big - 1);
			for (i = 0; i < 5; i++)
				fputs(big, g);
		}
		fclose(g);
		is_str(look(&t, "a.early"), "application/x-early",
		    "a match in the first line stops the reading (the oversized rest is never read)");
		{
			const char *ty;

			ok(mimetypes_lookup(&t, "a.late", &ty, &e) == -1 && e.code == EX_DATAERR,
			    "a miss reads on and meets the size limit: an error, not a wrong type");
		}
		mimetypes_free(&t);
		unlink(path);
	}

	ok(mimetypes_load(&t, "/nonexistent/mime.types", &e) == 0, "a missing file is not an error");
	is_str(look(&t, "photo.JPG"), "image/jpeg", "built-in table alone");
	is_str(look(&t, "a.7z"), "application/x-7z-compressed", "built-in: first entry");
	is_str(look(&t, "a.zst"), "application/zstd", "built-in: last entry");
	is_str(look(&t, "a.pdf"), "application/pdf", "built-in: middle entry");
	ok(look(&t, "a.unknownext") == NULL, "built-in: unknown extension");
	mimetypes_free(&t);
	ok(mimetypes_load(&t, "/", &e) == -1, "a directory is an error");

	ok(mimetypes_valid("text/plain"), "valid type");
	ok(!mimetypes_valid("text/"), "empty subtype invalid");
	ok(!mimetypes_valid("/plain"), "empty type invalid");
	ok(!mimetypes_valid("text/pl ain"), "space invalid");
	ok(!mimetypes_valid("text/plain;x=y"), "parameters are not part of a type");

	for (step = 1; step <= 4; step++) {
		ok(sniff_str("", 0, step) == SNIFF_ASCII, "empty is ascii (step %zu)", step);
		ok(sniff_str("hello\r\nworld\n", 13, step) == SNIFF_ASCII, "ascii with CRLF (step %zu)", step);
		ok(sniff_str("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80\n", 16, step) == SNIFF_UTF8,
		    "utf-8 split across chunks (step %zu)", step);
		ok(sniff_str("caf\xe9 cr\xe8me au lait\n", 19, step) == SNIFF_8BIT, "latin-1 text (step %zu)", step);
		ok(sniff_str("a\0b", 3, step) == SNIFF_BINARY, "NUL is binary (step %zu)", step);
		ok(sniff_str("a\rb", 3, step) == SNIFF_BINARY, "bare CR is binary (step %zu)", step);
		ok(sniff_str("ab\r", 3, step) == SNIFF_BINARY, "final bare CR is binary (step %zu)", step);
		ok(sniff_str("\xc0\xaf", 2, step) == SNIFF_BINARY, "overlong, mostly high: binary (step %zu)", step);
		ok(sniff_str("x\xed\xa0\x80yyyyyyyyyyyyyy", 18, step) == SNIFF_8BIT, "surrogate is not utf-8 (step %zu)", step);
		ok(sniff_str("abcdefgh\xe2\x82", 10, step) == SNIFF_8BIT, "truncated sequence is not utf-8 (step %zu)", step);
		ok(sniff_str("\x01\x02", 2, step) == SNIFF_BINARY, "C0 controls are binary (step %zu)", step);
	}
	differential();
	hostile_linear();
	is_str(sniff_charset(SNIFF_ASCII), "us-ascii", "ascii charset name");
	is_str(sniff_charset(SNIFF_UTF8), "utf-8", "utf-8 charset name");
	ok(sniff_charset(SNIFF_8BIT) == NULL, "no charset for 8-bit");
	return tap_done();
}
