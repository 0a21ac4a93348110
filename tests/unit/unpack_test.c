/* unpack_test.c — safe file names for extraction, and the no-clobber unique commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "unpack.h"

static void
name_is(const char *in, const char *want, const char *what)
{
	struct err e;
	char *got = unpack_safe_name(in, "part-1", &e);

	is_str(got, want, "%s", what);
	free(got);
}

static int
make_file(const char *dir, const char *name, const char *content, int force, char *used)
{
	struct io_atomic a;
	struct err e;
	char dst[4096];

	snprintf(dst, sizeof dst, "%s/%s", dir, name);
	if (io_atomic_open(&a, dst, 0644, &e) != 0)
		return -1;
	if (write(a.fd, content, strlen(content)) != (ssize_t)strlen(content))
		return -1;
	return unpack_commit(&a, dir, name, force, used, 4096, &e);
}

static int
file_has(const char *path, const char *want)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	return strcmp(buf, want) == 0;
}

int
main(void)
{
	char dir[] = "/tmp/unpack_test.XXXXXX", used[4096], path[4200], longname[600], want[300];
	struct err e;
	char *got;
	int i;

	name_is("report.pdf", "report.pdf", "a plain name is kept");
	name_is("../../etc/passwd", "_.._etc_passwd", "separators become _ and leading dots go");
	name_is("/abs", "_abs", "an absolute path is not one");
	name_is("..", "part-1", "'..' becomes the fallback");
	name_is(".", "part-1", "'.' becomes the fallback");
	name_is("", "part-1", "empty becomes the fallback");
	name_is("  .hidden", "hidden", "leading white space and dots are dropped");
	name_is("name. ", "name", "trailing dots and spaces are dropped");
	name_is("a\\b", "a_b", "backslash is replaced");
	name_is("ctl\x01\x1b\x7fx", "ctl___x", "C0 controls and DEL are replaced");
	name_is("c1\xc2\x85x", "c1_x", "C1 controls are replaced");
	name_is("bad\xff.txt", "bad\xef\xbf\xbd.txt", "ill-formed UTF-8 becomes U+FFFD");
	name_is("Cafe\xcc\x81.txt", "Caf\xc3\xa9.txt", "NFC");
	name_is("\xe2\x80\xaetxt.exe", "txt.exe", "U+202E (RLO) is dropped: <RLO>txt.exe cannot pose as exe.txt");
	name_is("a\xe2\x81\xa6" "b\xe2\x81\xa9\xd8\x9c\xe2\x80\x8f.pdf", "ab.pdf",
	    "isolates, ALM and RLM are dropped");
	name_is("z\xe2\x80\x8bw\xc2\xadj\xef\xbb\xbf.txt", "zwj.txt",
	    "zero-width space, soft hyphen and BOM (format characters) are dropped");
	name_is("tag\xf3\xa0\x80\x81.txt", "tag.txt", "Unicode tag characters are dropped");
	name_is("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "a_b_c", "line and paragraph separators become _");
	name_is("\xe2\x80\xae", "part-1", "a name of format characters only becomes the fallback");
	name_is("\xe2\x80\xae.hidden", "hidden", "a leading dot behind a dropped character still goes");

	memset(longname, 0, sizeof longname);
	for (i = 0; i < 150; i++)
		strcat(longname, "\xc3\xa9");	/* 300 octets of é */
	strcat(longname, ".pdf");
	got = unpack_safe_name(longname, "x", &e);
	ok(got != NULL && strlen(got) <= UNPACK_NAME_MAX, "a long name is cut to %d octets", UNPACK_NAME_MAX);
	ok(got != NULL && strlen(got) >= 4 && strcmp(got + strlen(got) - 4, ".pdf") == 0,
	    "the extension is kept");
	memset(want, 0, sizeof want);
	for (i = 0; i < 98; i++)
		strcat(want, "\xc3\xa9");
	strcat(want, ".pdf");
	is_str(got, want, "cut at a character boundary");
	free(got);

	ok(mkdtemp(dir) != NULL, "temp dir");
	ok(make_file(dir, "x.txt", "one", 0, used) == 0, "create x.txt");
	snprintf(path, sizeof path, "%s/x.txt", dir);
	is_str(used, path, "first name used as is");
	ok(make_file(dir, "x.txt", "two", 0, used) == 0, "create again");
	snprintf(path, sizeof path, "%s/x-1.txt", dir);
	is_str(used, path, "a taken name gets -1 before the extension");
	ok(file_has(path, "two"), "new content in x-1.txt");
	snprintf(path, sizeof path, "%s/x.txt", dir);
	ok(file_has(path, "one"), "x.txt untouched");
	ok(make_file(dir, "x.txt", "three", 1, used) == 0, "force replaces");
	ok(file_has(path, "three"), "x.txt replaced with force");
	ok(make_file(dir, "noext", "a", 0, used) == 0 && make_file(dir, "noext", "b", 0, used) == 0,
	    "names without extension");
	snprintf(path, sizeof path, "%s/noext-1", dir);
	is_str(used, path, "suffix at the end without an extension");
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	ok(system(path) == 0, "cleanup");
	return tap_done();
}
