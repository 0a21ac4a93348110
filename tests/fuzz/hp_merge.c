/* hp_merge.c — libFuzzer target for header protection (lib/hp.c). The input is an outer
 * header, a blank line, and a payload header (the first byte's low bit: the message came
 * encrypted). Receiving: hp_merge never crashes and shows no Content-* or HP-Outer field,
 * nothing from the payload but protectable fields (never a verdict, trace field or Bcc),
 * those with the outer header's line ends, and reports in bounded, terminated strings;
 * hp_describe fits any buffer. Sending: the payload header hp_payload_header makes from the
 * outer header carries the mode asked for, and merged back against the outer header as
 * hcp_baseline obscures it, in an encrypted message, nothing is reported altered. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hp.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

/* Read a header (lenient, as smime-verify does) from data; the io_in's offset after it into
 * *used. */
static void
read_header(const uint8_t *data, size_t size, struct msg_header *h, size_t *used)
{
	struct io_in in;
	struct err e;

	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size
	    || lseek(memfd, 0, SEEK_SET) != 0 || io_in_init(&in, memfd, "fuzz", &e) != 0)
		abort();
	msg_header_init(h);
	h->lenient = 1;
	if (msg_header_read(&in, h, &e) != 0)
		abort();
	*used = h->bytes;
	io_in_free(&in);
}

static int
bounded(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* The same bytes, but that a bare CR in a may be a space in b (hp_merge writes it so). */
static int
same_raw(const char *a, const char *b, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (a[k] != b[k] && !(a[k] == '\r' && b[k] == ' ' && (k + 1 == n || a[k + 1] != '\n')))
			return 0;
	return 1;
}

static int
from_outer(const struct msg_header *outer, const struct msg_field *f)
{
	size_t i;

	for (i = 0; i < outer->n; i++)
		if (outer->f[i].rawlen == f->rawlen && same_raw(outer->f[i].raw, f->raw, f->rawlen))
			return 1;
	return 0;
}

static void
check_merge(const struct msg_header *outer, const struct msg_header *payload, int encrypted)
{
	struct msg_header out;
	struct hp_info info;
	struct err e;
	char d[512];
	size_t i, n;

	if (hp_merge(outer, payload, encrypted, &out, &info, &e) != 0) {
		/* Fields as they came never stop it (a bare CR, a word too long to fold): only
		 * memory, or more fields together than one header may have. */
		if (e.code != EX_OSERR && (e.code != EX_DATAERR
		    || outer->n + payload->n < MSG_MAX_FIELDS))
			abort();
		if (out.n != 0 || out.f != NULL)
			abort();	/* a failed merge leaves nothing half made */
		return;
	}
	if (!bounded(info.differ, sizeof info.differ) || !bounded(info.added, sizeof info.added)
	    || !bounded(info.confidential, sizeof info.confidential))
		abort();
	if (info.trusted_cipher && (!encrypted || info.mode != HP_CIPHER))
		abort();
	for (i = 0; i < out.n; i++) {
		const struct msg_field *f = &out.f[i];

		if (strncasecmp(f->name, "Content-", 8) == 0 || strcasecmp(f->name, HP_OUTER_FIELD) == 0)
			abort();
		/* no bare CR: a reader could take it for a line end */
		for (n = 0; n < f->rawlen; n++)
			if (f->raw[n] == '\r' && (n + 1 == f->rawlen || f->raw[n + 1] != '\n'))
				abort();
		if (from_outer(outer, f))
			continue;
		/* from the payload: protectable, named there, in our line ends */
		if (!hp_protectable(f->name) || msg_header_get(payload, f->name) == NULL)
			abort();
		if (!out.crlf && memmem(f->raw, f->rawlen, "\r\n", 2) != NULL)
			abort();
	}
	for (n = 0; n <= sizeof d; n += 37) {
		memset(d, 'x', sizeof d);
		hp_describe(&info, d, n);
		if (n > 0 && !bounded(d, n))
			abort();
		if (n < sizeof d && d[n] != 'x')
			abort();
	}
	msg_header_free(&out);
}

/* The sender's side, then the receiver's: a round trip reports nothing altered. */
static void
round_trip(const struct msg_header *h, enum hp_mode mode)
{
	struct msg_header p, obscured, out;
	struct hp_info info;
	struct err e;
	size_t i;

	if (hp_payload_header(h, mode, hp_hcp_baseline, &p, &e) != 0) {
		if (e.code != EX_OSERR && e.code != EX_DATAERR)
			abort();
		msg_header_free(&p);
		return;
	}
	if (hp_mode_of(&p) != mode)
		abort();
	for (i = 0; i < p.n; i++)
		if (!hp_protectable(p.f[i].name) && strncasecmp(p.f[i].name, "Content-", 8) != 0
		    && strcasecmp(p.f[i].name, HP_OUTER_FIELD) != 0)
			abort();
	msg_header_init(&obscured);
	obscured.crlf = h->crlf;
	for (i = 0; i < h->n; i++)
		if (msg_header_add(&obscured, h->f[i].name, h->f[i].value, &e) != 0)
			goto out;
	if (hp_obscure(&obscured, &e) < 0)
		goto out;
	if (hp_merge(&obscured, &p, 1, &out, &info, &e) == 0) {
		if (info.differ[0] != '\0')
			abort();
		msg_header_free(&out);
	}
out:
	msg_header_free(&obscured);
	msg_header_free(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_header outer, payload;
	size_t used = 0, used2;
	int encrypted;

	if (size < 1)
		return 0;
	if (memfd < 0 && (memfd = memfd_create("fuzz", 0)) < 0)
		abort();
	encrypted = data[0] & 1;
	data++;
	size--;
	read_header(data, size, &outer, &used);
	read_header(data + used, size - used, &payload, &used2);
	check_merge(&outer, &payload, encrypted);
	check_merge(&payload, &outer, !encrypted);
	round_trip(&outer, HP_CIPHER);
	round_trip(&outer, HP_CLEAR);
	msg_header_free(&outer);
	msg_header_free(&payload);
	return 0;
}
