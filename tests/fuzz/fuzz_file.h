/* fuzz_file.h — for targets whose parser reads a file: the input written to one file per
 * process under /tmp, rewritten for every input and removed at exit. */
#ifndef SECMAIL_FUZZ_FILE_H
#define SECMAIL_FUZZ_FILE_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io.h"

static char fuzz_file_path[64];

static void
fuzz_file_cleanup(void)
{
	unlink(fuzz_file_path);
}

/* The file holding data, or NULL when it cannot be written (the input is then skipped). */
static const char *
fuzz_file(const char *tag, const uint8_t *data, size_t size)
{
	int fd;

	if (fuzz_file_path[0] == '\0') {
		snprintf(fuzz_file_path, sizeof fuzz_file_path, "/tmp/%s_fuzz.%ld", tag,
		    (long)getpid());
		atexit(fuzz_file_cleanup);
	}
	if ((fd = open(fuzz_file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return NULL;
	if (io_write_all(fd, data, size) != 0) {
		close(fd);
		return NULL;
	}
	return close(fd) == 0 ? fuzz_file_path : NULL;
}

#endif
