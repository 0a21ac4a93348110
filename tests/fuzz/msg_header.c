/* msg_header.c — libFuzzer target: the header reader must never crash, must account for
 * every byte it consumed (mbox line + raw fields + blank line == the input's first h.bytes),
 * must produce values without line feeds, and every field it read must re-fold within 998
 * octets or be refused cleanly. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_header h;
	struct io_in in;
	struct err e;
	size_t i, off = 0;

	if (memfd < 0 && (memfd = memfd_create("fuzz", 0)) < 0)
		abort();
	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size
	    || lseek(memfd, 0, SEEK_SET) != 0)
		abort();
	if (io_in_init(&in, memfd, "fuzz", &e) != 0)
		abort();
	msg_header_init(&h);
	if (msg_header_read(&in, &h, &e) == 0) {
		if (h.bytes > size || in.off != h.bytes)
			abort();
		if (h.mbox_from != NULL) {
			size_t n = strlen(h.mbox_from);

			if (memcmp(data, h.mbox_from, n) != 0)
				abort();
			off += n;
		}
		for (i = 0; i < h.n; i++) {
			char *f;

			if (off + h.f[i].rawlen > size || memcmp(data + off, h.f[i].raw, h.f[i].rawlen))
				abort();
			off += h.f[i].rawlen;
			if (strchr(h.f[i].value, '\n') != NULL)
				abort();
			f = msg_fold(h.f[i].name, h.f[i].value, "\r\n", &e);
			if (f != NULL) {
				size_t col = 0;
				const char *p;

				for (p = f; *p; p++) {
					col = *p == '\n' ? 0 : col + 1;
					if (col > MSG_MAX_OUT_LINE + 1)	/* + the CR */
						abort();
				}
				free(f);
			}
		}
		if (h.bytes - off > 2)	/* only the blank line remains */
			abort();
	}
	msg_header_free(&h);
	io_in_free(&in);
	return 0;
}
