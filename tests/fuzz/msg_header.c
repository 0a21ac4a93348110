/* msg_header.c — libFuzzer target: the header reader, strict and lenient, must never crash,
 * must account for every byte it consumed (mbox line + raw fields + blank line == the
 * input's first h.bytes), must produce values without line feeds, and every field it read
 * must re-fold within 998 octets or be refused cleanly. Lenient reading must never fail on
 * input, leave nothing between the fields it read and the line it stopped at (with a
 * defect, no blank line was consumed), and read everything strict reading reads. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

/* Read once; returns the read's result, h filled (the caller frees it). */
static int
read_one(const uint8_t *data, size_t size, int lenient, struct msg_header *h)
{
	struct io_in in;
	struct err e;
	size_t i, off = 0;
	int rc;

	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size
	    || lseek(memfd, 0, SEEK_SET) != 0)
		abort();
	if (io_in_init(&in, memfd, "fuzz", &e) != 0)
		abort();
	msg_header_init(h);
	h->lenient = lenient;
	rc = msg_header_read(&in, h, &e);
	if (lenient && rc != 0)
		abort();
	if (rc == 0) {
		if (h->bytes > size || in.off != h->bytes)
			abort();
		if (h->mbox_from != NULL) {
			size_t n = strlen(h->mbox_from);

			if (memcmp(data, h->mbox_from, n) != 0)
				abort();
			off += n;
		}
		for (i = 0; i < h->n; i++) {
			char *f;

			if (off + h->f[i].rawlen > size || memcmp(data + off, h->f[i].raw, h->f[i].rawlen))
				abort();
			off += h->f[i].rawlen;
			if (strchr(h->f[i].value, '\n') != NULL)
				abort();
			f = msg_fold(h->f[i].name, h->f[i].value, "\r\n", &e);
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
		if (h->bytes - off > 2)	/* only the blank line remains */
			abort();
		if (h->defect[0] != '\0' && h->bytes != off)	/* stopped before a bad line */
			abort();
	}
	io_in_free(&in);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_header strict, lenient;
	size_t i;
	int rc;

	if (memfd < 0 && (memfd = memfd_create("fuzz", 0)) < 0)
		abort();
	rc = read_one(data, size, 0, &strict);
	read_one(data, size, 1, &lenient);
	/* What strict reading accepts, lenient reading reads the same way. */
	if (rc == 0) {
		if (strict.n != lenient.n || strict.bytes != lenient.bytes)
			abort();
		for (i = 0; i < strict.n; i++)
			if (strict.f[i].rawlen != lenient.f[i].rawlen
			    || memcmp(strict.f[i].raw, lenient.f[i].raw, strict.f[i].rawlen) != 0)
				abort();
	}
	msg_header_free(&strict);
	msg_header_free(&lenient);
	return 0;
}
