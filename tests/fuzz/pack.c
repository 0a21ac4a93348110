/* pack.c — libFuzzer target: mime-pack's whole path over any input message (header reading,
 * RFC 2047 re-encoding of text and address fields, charset sniffing, transfer encoding):
 * a result or a clean error, never a crash, with and without CRLF output. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "mimetypes.h"
#include "pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mimetypes types;
	static int loaded;
	struct pack_opts o;
	struct io_in in;
	struct io_out out;
	struct err e;
	int fd, null, crlf;

	if (!loaded) {
		if (mimetypes_load(&types, "", &e) != 0)
			abort();
		loaded = 1;
	}
	for (crlf = 0; crlf < 2; crlf++) {
		if ((fd = io_spool(&e)) < 0)
			abort();
		if (io_write_all(fd, data, size) != 0 || lseek(fd, 0, SEEK_SET) != 0)
			abort();
		if ((null = open("/dev/null", O_WRONLY)) < 0)
			abort();
		memset(&o, 0, sizeof o);
		o.types = &types;
		o.crlf = crlf;
		o.charset = crlf ? "Shift_JIS" : "iso-8859-1";	/* converted to UTF-8; may fail */
		if (io_in_init(&in, fd, "input", &e) != 0 || io_out_init(&out, null, "null", &e) != 0)
			abort();
		(void)pack_message(&in, &out, &o, &e);
		io_out_finish(&out);
		io_in_free(&in);
		close(null);
		close(fd);
	}
	return 0;
}
