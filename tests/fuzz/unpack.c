/* unpack.c — libFuzzer target: mime-unpack's listing and part printing over any message (the
 * MIME walker, parameter and RFC 2047 name decoding, transfer decoding): a result or a clean
 * error, never a crash or a leak. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct unpack_opts runs[] = {
		{ UNPACK_LIST, NULL, 0, NULL },
		{ UNPACK_PART, NULL, 0, "1" },
		{ UNPACK_PART, NULL, 0, "2.1" },
	};
	struct io_in in;
	struct io_out out;
	struct err e;
	size_t i;
	int fd, null;

	for (i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		if ((fd = io_spool(&e)) < 0)
			abort();
		if (io_write_all(fd, data, size) != 0 || lseek(fd, 0, SEEK_SET) != 0)
			abort();
		if ((null = open("/dev/null", O_WRONLY)) < 0)
			abort();
		if (io_in_init(&in, fd, "input", &e) != 0 || io_out_init(&out, null, "null", &e) != 0)
			abort();
		(void)unpack_message(&runs[i], &in, &out, &e);
		io_out_finish(&out);
		io_in_free(&in);
		close(null);
		close(fd);
	}
	return 0;
}
