/* unpack.c — libFuzzer target: mime-unpack's listing, part printing and extraction over any
 * message (the MIME walker, IMAP numbering, parameter and RFC 2047 name decoding, transfer
 * decoding, safe names): a result or a clean error, never a crash or a leak; extraction
 * leaves no temporary file, and nothing at all when it fails. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Remove what extraction created; abort on a temp file, or on any file after a failure. */
static void
check_and_empty(const char *dir, int failed)
{
	char path[4096];
	struct dirent *d;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		abort();
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (failed || strncmp(d->d_name, ".tmp.", 5) == 0)
			abort();
		snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
		if (unlink(path) != 0)
			abort();
	}
	closedir(dp);
}

static char dir[] = "/tmp/fuzz-unpack.XXXXXX";

static void
remove_dir(void)
{
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int have_dir;
	static struct unpack_opts runs[] = {
		{ UNPACK_LIST, NULL, 0, NULL, 0, 0 },
		{ UNPACK_PART, NULL, 0, "1", 0, 0 },
		{ UNPACK_PART, NULL, 0, "2.1", 0, 0 },
		{ UNPACK_PART, NULL, 0, "2.2", 0, 0 },
		{ UNPACK_PART, NULL, 0, "1.1.1", 0, 0 },
		{ UNPACK_EXTRACT, NULL, 0, NULL, 0, 0600 },	/* keep_signatures: size & 1 */
	};
	struct io_in in;
	struct io_out out;
	struct err e;
	size_t i;
	int fd, null, r;

	if (!have_dir) {
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(remove_dir);
		have_dir = 1;
	}
	for (i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		runs[i].dir = dir;
		runs[i].keep_signatures = (int)(size & 1);
		if ((fd = io_spool(&e)) < 0)
			abort();
		if (io_write_all(fd, data, size) != 0 || lseek(fd, 0, SEEK_SET) != 0)
			abort();
		if ((null = open("/dev/null", O_WRONLY)) < 0)
			abort();
		if (io_in_init(&in, fd, "input", &e) != 0 || io_out_init(&out, null, "null", &e) != 0)
			abort();
		r = unpack_message(&runs[i], &in, &out, &e);
		io_out_finish(&out);
		io_in_free(&in);
		close(null);
		close(fd);
		if (runs[i].mode == UNPACK_EXTRACT)
			check_and_empty(dir, r != 0);
	}
	return 0;
}
