/* msg_test.c — RFC 5322 header reading and writing: unfolding, LF and CRLF, byte-exact raw
 * fields, the mbox From line, limits, editing, folding (never over 998), Date, Message-ID. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "tap.h"

/* An io_in over a string (through a temporary file). */
static int
open_str(struct io_in *in, const char *s, size_t n)
{
	FILE *f = tmpfile();
	struct err e;
	int fd;

	if (f == NULL)
		return -1;
	fd = dup(fileno(f));
	if (fwrite(s, 1, n, f) != n || fflush(f) != 0) {
		fclose(f);
		return -1;
	}
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	return io_in_init(in, fd, "test", &e);
}

static void
close_in(struct io_in *in)
{
	close(in->fd);
	io_in_free(in);
}

/* Read a header from s; returns 0/-1, fills h and e, and the rest of the input in rest. */
static int
parse(const char *s, size_t n, struct msg_header *h, struct err *e, char *rest, size_t restn)
{
	struct io_in in;
	ssize_t r;
	int rc;

	if (open_str(&in, s, n) != 0)
		return -2;
	msg_header_init(h);
	err_clear(e);
	rc = msg_header_read(&in, h, e);
	if (rest != NULL) {
		r = rc == 0 ? io_in_read(&in, rest, restn - 1) : 0;
		rest[r > 0 ? r : 0] = '\0';
	}
	close_in(&in);
	return rc;
}

/* As parse, but lenient (msg.h: the filter's reading). */
static int
parse_lenient(const char *s, size_t n, struct msg_header *h, struct err *e, char *rest,
    size_t restn)
{
	struct io_in in;
	ssize_t r, k;
	int rc;

	if (open_str(&in, s, n) != 0)
		return -2;
	msg_header_init(h);
	h->lenient = 1;
	err_clear(e);
	rc = msg_header_read(&in, h, e);
	for (k = 0; rc == 0 && (r = io_in_read(&in, rest + k, restn - 1 - (size_t)k)) > 0;)
		k += r;
	rest[k] = '\0';
	close_in(&in);
	return rc;
}

/* Lenient reading: nothing in the input is an error; the header ends before the first line
 * that is not a field, which is left for the body, and every byte is accounted for. */
static void
test_lenient(void)
{
	static const struct {
		const char *in;
		size_t n;		/* 0: strlen */
		size_t fields;
		const char *rest, *defect;
	} c[] = {
		{ "From: a@b\nno colon\nSubject: s\n\nbody\n", 0, 1,
		    "no colon\nSubject: s\n\nbody\n", "header line 2 is not a header field" },
		{ "From: a@b\nSubject: s\0x\n\nbody\n", 29, 1, "Subject: s\0x\n\nbody\n",
		    "NUL byte in header line 2" },
		{ " folded first\nFrom: a@b\n\n", 0, 0, " folded first\nFrom: a@b\n\n",
		    "header line 1 is not a header field" },
		{ "garbage\n", 0, 0, "garbage\n", "header line 1 is not a header field" },
		{ "From: a@b\nSubject: s\n\nbody\n", 0, 2, "body\n", "" },
		{ "\nbody\n", 0, 0, "body\n", "" },
		{ "From x@y Sun Nov 29 00:00:00 2026\nFrom: a@b\nbad\n", 0, 1, "bad\n",
		    "header line 3 is not a header field" },
	};
	struct msg_header h;
	struct err e;
	static char rest[300000];
	size_t i, tot;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		size_t n = c[i].n ? c[i].n : strlen(c[i].in);

		ok(parse_lenient(c[i].in, n, &h, &e, rest, sizeof rest) == 0, "lenient case %zu reads",
		    i);
		ok(h.n == c[i].fields, "case %zu: %zu fields (got %zu)", i, c[i].fields, h.n);
		is_str(h.defect, c[i].defect, "case %zu: defect", i);
		ok(memcmp(rest, c[i].rest, n - h.bytes) == 0 && n - h.bytes == (c[i].n ? n - h.bytes
		    : strlen(c[i].rest)), "case %zu: the rest of the input is left for the body", i);
		msg_header_free(&h);
	}
	/* the same inputs are errors for strict readers (every other tool) */
	ok(parse("From: a@b\nno colon\n\n", 21, &h, &e, NULL, 0) != 0 && e.code == EX_DATAERR,
	    "strict: a line without a colon is still an error");
	msg_header_free(&h);
	/* a line over MSG_MAX_LINE, a field over MSG_MAX_FIELD */
	{
		static char big[MSG_MAX_FIELD + 4096];
		size_t k = 0, j;


		k += (size_t)snprintf(big + k, sizeof big - k, "From: a@b\nX-Long: ");
		for (j = 0; j < MSG_MAX_LINE + 10; j++)
			big[k++] = 'x';
		k += (size_t)snprintf(big + k, sizeof big - k, "\nSubject: s\n\nbody\n");
		ok(parse_lenient(big, k, &h, &e, rest, sizeof rest) == 0 && h.n == 1
		    && strstr(h.defect, "header line 2 is longer than 65536 bytes") != NULL
		    && strncmp(rest, "X-Long: xxx", 11) == 0 && strlen(rest) == k - h.bytes,
		    "a 64 KiB line ends the header and stays for the body: %s", h.defect);
		msg_header_free(&h);
		k = (size_t)snprintf(big, sizeof big, "From: a@b\nX-Many: x\n");
		while (k < MSG_MAX_FIELD + 1500)
			k += (size_t)snprintf(big + k, sizeof big - k, " %0998d\n", 0);
		k += (size_t)snprintf(big + k, sizeof big - k, "\nbody\n");
		ok(parse_lenient(big, k, &h, &e, rest, sizeof rest) == 0 && h.n == 2
		    && strstr(h.defect, "field longer than") != NULL && rest[0] == ' '
		    && strlen(rest) == k - h.bytes, "a field over the limit is kept up to it: n=%zu '%s' rest=%.10s", h.n,
		    h.defect, rest);
		for (i = 0, tot = 0; i < h.n; i++)
			tot += h.f[i].rawlen;
		ok(tot == h.bytes, "lenient: the fields are every byte consumed");
		msg_header_free(&h);
	}
}

static void
test_basic(void)
{
	static const char m[] = "From: a@example.org\r\nSubject: hello\r\n  world\r\n\tagain\r\n"
	    "X-Empty:\r\nX-Obs : obsolete\r\n\r\nbody\r\n";
	struct msg_header h;
	struct err e;
	char rest[64];
	size_t i, tot = 0;

	ok(parse(m, sizeof m - 1, &h, &e, rest, sizeof rest) == 0, "CRLF header parses");
	ok(h.n == 4, "four fields (got %zu)", h.n);
	ok(h.crlf == 1, "CRLF detected");
	is_str(h.f[1].value, "hello  world\tagain", "unfolded value keeps the fold's white space");
	is_str(h.f[1].raw, "Subject: hello\r\n  world\r\n\tagain\r\n", "raw bytes byte-exact");
	is_str(h.f[2].value, "", "empty value");
	is_str(h.f[3].name, "X-Obs", "obsolete white space before the colon (RFC 5322 §4.5)");
	is_str(h.f[3].value, "obsolete", "obsolete field value");
	is_str(rest, "body\r\n", "the input stands at the first body byte");
	for (i = 0; i < h.n; i++)
		tot += h.f[i].rawlen;
	ok(h.bytes == tot + 2, "bytes counts the fields and the blank line");
	ok(msg_header_get(&h, "SUBJECT") == &h.f[1], "lookup is case-insensitive");
	ok(msg_header_get(&h, "To") == NULL, "missing field is NULL");
	msg_header_free(&h);
}

static void
test_lf(void)
{
	static const char m[] = "From: a@example.org\nTo: b@example.org,\n c@example.org\n\nbody";
	struct msg_header h;
	struct err e;
	char rest[64];

	ok(parse(m, sizeof m - 1, &h, &e, rest, sizeof rest) == 0, "LF header parses");
	ok(h.crlf == 0, "LF detected");
	is_str(h.f[1].value, "b@example.org, c@example.org", "LF unfolding");
	is_str(rest, "body", "LF body follows");
	msg_header_free(&h);
}

static void
test_mbox_and_none(void)
{
	static const char m1[] = "From a@b Sat Jan  1 00:00:00 2000\nSubject: x\n\nb\n";
	static const char m2[] = "just a body line\nSubject: not a header\n";
	static const char m3[] = "\nbody after an empty header\n";
	static const char m4[] = "Subject: no body, no blank line";
	static const char m5[] = "From : a@b.test\nTo: c@d.test\n\n";
	struct msg_header h;
	struct err e;
	char rest[128];

	ok(parse(m1, sizeof m1 - 1, &h, &e, rest, sizeof rest) == 0, "mbox header parses");
	is_str(h.mbox_from, "From a@b Sat Jan  1 00:00:00 2000\n", "mbox From line kept raw");
	ok(h.n == 1, "mbox From line is not a field");
	msg_header_free(&h);

	ok(parse(m5, sizeof m5 - 1, &h, &e, rest, sizeof rest) == 0 && h.mbox_from == NULL
	    && h.n == 2, "an obsolete \"From : x\" is a field, not an mbox line");
	is_str(h.f[0].value, "a@b.test", "its value");
	msg_header_free(&h);

	ok(parse(m2, sizeof m2 - 1, &h, &e, rest, sizeof rest) == 0, "headerless input is fine");
	ok(h.n == 0 && h.bytes == 0, "no header, nothing consumed");
	is_str(rest, m2, "the whole input is left as body");
	msg_header_free(&h);

	ok(parse(m3, sizeof m3 - 1, &h, &e, rest, sizeof rest) == 0, "empty header parses");
	ok(h.n == 0 && h.bytes == 1, "the empty first line is consumed as the header's end");
	is_str(rest, "body after an empty header\n", "body follows the empty header");
	msg_header_free(&h);

	ok(parse(m4, sizeof m4 - 1, &h, &e, rest, sizeof rest) == 0, "header ending at EOF");
	ok(h.n == 1, "one field");
	is_str(h.f[0].raw, "Subject: no body, no blank line", "raw without a line end");
	is_str(h.f[0].value, "no body, no blank line", "value without a line end");
	msg_header_free(&h);
}

static void
test_errors(void)
{
	static const char bad1[] = "Subject: x\nthis is not a field\n\n";
	static const char bad2[] = "Subject: x\n: empty name\n\n";
	static const char bad3[] = "Subject: a\0b\n\n";
	struct msg_header h;
	struct err e;
	char *big;
	size_t i, n;

	ok(parse(bad1, sizeof bad1 - 1, &h, &e, NULL, 0) == -1 && e.code == EX_DATAERR,
	    "a non-field line after the first is EX_DATAERR");
	ok(strstr(e.msg, "line 2") != NULL, "the error names the line: %s", e.msg);
	msg_header_free(&h);
	ok(parse(bad2, sizeof bad2 - 1, &h, &e, NULL, 0) == -1, "empty field name is an error");
	msg_header_free(&h);
	ok(parse(bad3, sizeof bad3 - 1, &h, &e, NULL, 0) == -1 && strstr(e.msg, "NUL") != NULL,
	    "NUL byte in a header is an error");
	msg_header_free(&h);

	/* One physical line over MSG_MAX_LINE. */
	n = MSG_MAX_LINE + 100;
	big = malloc(n + 16);
	memcpy(big, "X-Long: ", 8);
	memset(big + 8, 'a', n - 8);
	memcpy(big + n, "\n\n", 2);
	ok(parse(big, n + 2, &h, &e, NULL, 0) == -1 && e.code == EX_DATAERR,
	    "a header line over the limit is EX_DATAERR: %s", e.msg);
	msg_header_free(&h);
	free(big);

	/* One field over MSG_MAX_FIELD through folds. */
	n = 0;
	big = malloc(MSG_MAX_FIELD + 4096);
	n += (size_t)sprintf(big, "X-Folded: a\n");
	while (n < MSG_MAX_FIELD + 100)
		n += (size_t)sprintf(big + n, " %s\n", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	big[n++] = '\n';
	ok(parse(big, n, &h, &e, NULL, 0) == -1 && strstr(e.msg, "field longer") != NULL,
	    "a folded field over the limit is an error: %s", e.msg);
	msg_header_free(&h);
	free(big);

	/* Too many fields. */
	big = malloc((size_t)(MSG_MAX_FIELDS + 10) * 8 + 2);
	for (i = 0, n = 0; i < MSG_MAX_FIELDS + 10; i++)
		n += (size_t)sprintf(big + n, "X-A: b\n");
	big[n++] = '\n';
	ok(parse(big, n, &h, &e, NULL, 0) == -1 && strstr(e.msg, "fields") != NULL,
	    "too many fields is an error: %s", e.msg);
	msg_header_free(&h);
	free(big);
}

static int
max_line(const char *s)
{
	int m = 0, c = 0;

	for (; *s; s++) {
		if (*s == '\n') {
			if (c > m)
				m = c;
			c = 0;
		} else if (*s != '\r')
			c++;
	}
	return c > m ? c : m;
}

/* A line over the fold column that could have been broken: white space after its first
 * word (its leading white space and, on the first line, "Name: " aside). */
static int
breakable_long_line(const char *s)
{
	const char *line = s, *p, *end;

	while (*line) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		p = line;
		if (line == s)
			p = strchr(line, ':') + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - line - (end > line && end[-1] == '\r') > MSG_FOLD_COLUMN && p < end
		    && *p != '\r')
			return 1;
		line = *end ? end + 1 : end;
	}
	return 0;
}

/* Unfold a folded field (remove CRLF/LF before white space) and drop the final line end. */
static void
unfold(const char *s, char *out)
{
	for (; *s; s++)
		if (*s != '\r' && *s != '\n')
			*out++ = *s;
	*out = '\0';
}

static void
test_fold(void)
{
	char value[4000], *f, *un;
	struct err e;
	size_t i;

	f = msg_fold("Subject", "short", "\r\n", &e);
	is_str(f, "Subject: short\r\n", "short field is one line");
	free(f);

	for (i = 0; i < 60; i++)
		memcpy(value + i * 10, "word12345 ", 10);
	value[599] = '\0';
	f = msg_fold("To", value, "\n", &e);
	ok(f != NULL && max_line(f) <= MSG_FOLD_COLUMN, "folded at 78 (longest %d)", max_line(f));
	un = malloc(strlen(f) + 1);
	unfold(f, un);
	ok(strncmp(un, "To: ", 4) == 0 && strcmp(un + 4, value) == 0, "unfolds to the value");
	ok(strstr(f, "\n\n") == NULL && strstr(f, "\n \n") == NULL, "no empty folded lines");
	free(un);
	free(f);

	/* A 900-octet word: over 78 but legal. */
	memset(value, 'x', 900);
	memcpy(value + 900, " tail", 6);
	f = msg_fold("X-Word", value, "\r\n", &e);
	ok(f != NULL && max_line(f) <= MSG_MAX_OUT_LINE && max_line(f) > 78,
	    "long word kept whole within 998");
	free(f);

	memset(value, 'x', 1000);
	value[1000] = '\0';
	f = msg_fold("X-Word", value, "\r\n", &e);
	ok(f == NULL && e.code == EX_DATAERR, "a word that cannot fit 998 octets is an error");

	f = msg_fold("Subject", "evil\r\nBcc: x@y", "\r\n", &e);
	ok(f == NULL && e.code == EX_DATAERR, "a line break in a value is refused (injection)");
	f = msg_fold("Bad Name", "x", "\r\n", &e);
	ok(f == NULL, "a field name with a space is refused");

	/* A long word after a short one on a continuation line goes to a line of its own. */
	memset(value, 'y', 200);
	memcpy(value + 200, "\tw\t", 3);
	memset(value + 203, 'x', 85);
	value[288] = '\0';
	f = msg_fold("Subject", value, "\n", &e);
	ok(f != NULL && !breakable_long_line(f), "no long line that could have been broken");
	free(f);

	f = msg_fold("Subject", "trailing   ", "\n", &e);
	is_str(f, "Subject: trailing   \n", "trailing white space stays on its line");
	free(f);

	/* Random values: every folded line within 998 and the value survives unfolding. */
	srand(7);
	for (i = 0; i < 300; i++) {
		size_t n = (size_t)rand() % 3000, j;
		int okk;

		for (j = 0; j < n; j++) {
			int r = rand() % 100;

			value[j] = r < 10 ? ' ' : r < 12 ? '\t' : (char)('a' + r % 26);
			if (rand() % 500 == 0)	/* occasional long word */
				while (j + 1 < n && rand() % 300)
					value[++j] = 'z';
		}
		value[n] = '\0';
		f = msg_fold("X-R", value, "\r\n", &e);
		if (f == NULL) {
			/* Only legitimate when some word cannot fit. */
			size_t run = 0, longest = 0;

			for (j = 0; j < n; j++) {
				run = (value[j] == ' ' || value[j] == '\t') ? 0 : run + 1;
				if (run > longest)
					longest = run;
			}
			ok(longest > 900, "fold %zu refused only for a long word (%zu)", i, longest);
			continue;
		}
		un = malloc(strlen(f) + 1);
		unfold(f, un);
		/* "X-R:" then a space unless the value starts with white space or is empty. */
		okk = max_line(f) <= MSG_MAX_OUT_LINE && !breakable_long_line(f)
		    && strcmp(un + (n == 0 || value[0] == ' ' || value[0] == '\t' ? 4 : 5), value) == 0;
		ok(okk, "random fold %zu: within 998 and unfolds exactly", i);
		free(un);
		free(f);
	}
}

static void
test_edit(void)
{
	static const char m[] = "From: a@b\r\nTo: c@d\r\nBcc: x@y\r\nbcc: z@w\r\n\r\n";
	struct msg_header h;
	struct err e;

	parse(m, sizeof m - 1, &h, &e, NULL, 0);
	ok(msg_header_count(&h, "BCC") == 2, "count is case-insensitive");
	ok(msg_header_remove(&h, "bcc") == 2 && h.n == 2, "remove drops every Bcc");
	ok(msg_header_insert(&h, 0, "Date", "Thu, 01 Jan 1970 00:00:00 +0000", &e) == 0,
	    "insert");
	is_str(h.f[0].raw, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n", "generated field uses CRLF");
	ok(msg_header_add(&h, "Message-ID", "<1@x>", &e) == 0 && h.n == 4, "add appends");
	ok(msg_header_next(&h, "message-id", 0) == 3, "next finds the appended field");
	msg_header_delete(&h, 0);
	is_str(h.f[0].name, "From", "delete removes by index");
	ok(msg_is_content_field("content-type") && msg_is_content_field("MIME-Version")
	    && !msg_is_content_field("Contents") && !msg_is_content_field("Subject"),
	    "content fields recognised");
	msg_header_free(&h);
}

/* Parse, write back: byte-exact, mbox line first, no blank line. */
static void
test_write(void)
{
	static const char m[] = "From x@y Thu Jan  1 00:00:00 1970\r\nReceived: from a\r\n\tby b;"
	    " Thu, 1 Jan 1970\r\nX-Odd :  spaced  \r\nsubject:lower\r\n\r\nbody";
	struct msg_header h;
	struct io_out o;
	struct err e;
	FILE *f = tmpfile();
	char got[256];
	size_t n;

	parse(m, sizeof m - 1, &h, &e, NULL, 0);
	io_out_init(&o, dup(fileno(f)), "tmp", &e);
	ok(msg_header_write(&o, &h) == 0 && io_out_finish(&o) == 0, "header written");
	close(o.fd);
	rewind(f);
	n = fread(got, 1, sizeof got, f);
	ok(n == sizeof m - 1 - 6 && memcmp(got, m, n) == 0,
	    "written bytes are the input's header exactly, without the blank line");
	is_str(h.f[1].name, "X-Odd", "name without the obsolete white space");
	is_str(h.f[1].value, "spaced  ", "value keeps trailing white space");
	fclose(f);
	msg_header_free(&h);
}

static void
test_date_id(void)
{
	char d[64], *a, *b;
	struct err e;

	setenv("TZ", "UTC", 1);
	tzset();
	ok(msg_date(0, d, sizeof d) == 0, "date formats");
	is_str(d, "Thu, 01 Jan 1970 00:00:00 +0000", "the epoch in UTC");
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	tzset();
	msg_date(1000000000, d, sizeof d);
	is_str(d, "Sat, 08 Sep 2001 21:46:40 -0400", "a negative zone with DST");
	setenv("TZ", "IST-5:30", 1);
	tzset();
	msg_date(1000000000, d, sizeof d);
	is_str(d, "Sun, 09 Sep 2001 07:16:40 +0530", "a half-hour zone");
	ok(msg_date(0, d, 10) == -1, "too small a buffer is refused");

	a = msg_message_id("example.org", &e);
	b = msg_message_id("example.org", &e);
	ok(a != NULL && b != NULL && strcmp(a, b) != 0, "two Message-IDs differ");
	ok(a != NULL && a[0] == '<' && strstr(a, "@example.org>") != NULL, "msg-id form: %s", a);
	free(a);
	free(b);
	ok(msg_message_id("bad domain", &e) == NULL && e.code == EX_DATAERR, "bad domain refused");
	a = msg_message_id(NULL, &e);
	ok(a != NULL && strchr(a, '@') != NULL, "default domain: %s", a);
	free(a);
}

/* RFC 2047 §2: lines holding encoded-words stay within 76 characters. */
static void
test_fold_encoded_words(void)
{
	const char *v = "=?utf-8?q?Gr=C3=BC=C3=9Fe?= =?utf-8?q?aus?= =?utf-8?q?M=C3=BCnchen?= "
	    "=?utf-8?q?und?= =?utf-8?q?K=C3=B6ln?= =?utf-8?q?an?= =?utf-8?q?alle?= "
	    "=?utf-8?q?Empf=C3=A4nger?= =?utf-8?q?dieser?= =?utf-8?q?Nachricht?=";
	/* Two words making a 77-column line: fine at 78, folded at 76. */
	const char *tight = "=?utf-8?q?aaaaaaaaaaaaaaaaaaaaaaaaaaaa?= =?utf-8?q?bbbbbbbbbbbbbbb?=";
	const char *plain = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nn";
	struct err e;
	char *f, *line, *save;
	size_t longest = 0, lines = 0;

	f = msg_fold("Subject", v, "\n", &e);
	ok(f != NULL, "fold a value of encoded-words");
	for (line = strtok_r(f, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		lines++;
		if (strlen(line) > longest)
			longest = strlen(line);
	}
	ok(lines > 1 && longest <= 76, "encoded-word lines within 76 (longest %zu, %zu lines)",
	    longest, lines);
	free(f);
	f = msg_fold("Subject", tight, "\n", &e);
	ok(f != NULL && strchr(f, '\n') != strrchr(f, '\n'), "a 77-column line of encoded-words is folded");
	free(f);
	f = msg_fold("Subject", plain, "\n", &e);
	ok(f != NULL && strchr(f, '\n') == strrchr(f, '\n') && strlen(f) == 9 + strlen(plain) + 1,
	    "a plain 77-column line is not folded (78 is the limit without encoded-words)");
	free(f);
}

/* RFC 6409 §8: what submission adds, and only when missing; the spool holds it all. */
static void
test_submission(void)
{
	struct msg_header h;
	struct io_in in;
	struct err e;
	char path[] = "/tmp/msg_test.XXXXXX", out[512];
	int fd = mkstemp(path), sp;
	ssize_t n;

	ok(fd >= 0 && write(fd, "Subject: x\nDate: keep\n\nbody\n", 29) == 29, "fixture");
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	msg_header_init(&h);
	ok(io_in_init(&in, fd, "fixture", &e) == 0 && msg_header_read(&in, &h, &e) == 0, "read");
	ok(msg_complete_submission(&h, "a@example.org", "A B", 0, &e) == 0, "complete");
	is_str(msg_header_get(&h, "From")->value, "A B <a@example.org>", "From added with the name");
	is_str(msg_header_get(&h, "Date")->value, "keep", "an existing Date is kept");
	ok(msg_header_count(&h, "Date") == 1, "and not doubled");
	ok(strstr(msg_header_get(&h, "Message-ID")->value, "@example.org>") != NULL,
	    "Message-ID on the sender's domain");
	sp = msg_spool(&in, &h, &e);
	ok(sp >= 0, "spooled");
	n = read(sp, out, sizeof out - 1);
	out[n > 0 ? n : 0] = '\0';
	ok(strncmp(out, "Subject: x\nDate: keep\nFrom: ", 28) == 0 && strstr(out, "\n\nbody\n") != NULL,
	    "the spool holds the edited header, the blank line and the body");
	close(sp);
	io_in_free(&in);
	msg_header_free(&h);
	close(fd);
}

static void
test_is_resent(void)
{
	static const char plain[] = "From: a@x\nTo: b@x\nX-Resent: no\n\n";
	static const char resent[] = "From: a@x\nTo: b@x\nresent-to: c@x\n\n";
	struct msg_header h;
	struct err e;

	ok(parse(plain, sizeof plain - 1, &h, &e, NULL, 0) == 0 && !msg_is_resent(&h),
	    "no Resent- field: not re-sent (X-Resent does not count)");
	msg_header_free(&h);
	ok(parse(resent, sizeof resent - 1, &h, &e, NULL, 0) == 0 && msg_is_resent(&h),
	    "a Resent- field in any case: re-sent");
	msg_header_free(&h);
}

static void
test_no_bare_cr(void)
{
	static const char in[] = "X-A: a\rFrom: x\r\nSubject: b\r\n c\r\r\nTo: d\r\n\r\n";
	struct msg_header h;
	struct err e;

	ok(parse(in, sizeof in - 1, &h, &e, NULL, 0) == 0 && h.n == 3, "three fields");
	msg_header_no_bare_cr(&h);
	ok(h.n == 3 && strcmp(h.f[0].raw, "X-A: a From: x\r\n") == 0
	    && strcmp(h.f[1].raw, "Subject: b\r\n c \r\n") == 0
	    && strcmp(h.f[2].raw, "To: d\r\n") == 0, "bare CRs made spaces, CRLFs kept");
	msg_header_free(&h);
}

int
main(void)
{
	test_basic();
	test_lf();
	test_mbox_and_none();
	test_errors();
	test_fold();
	test_edit();
	test_write();
	test_date_id();
	test_fold_encoded_words();
	test_submission();
	test_is_resent();
	test_lenient();
	test_no_bare_cr();
	return tap_done();
}
