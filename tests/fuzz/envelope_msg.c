/* envelope_msg.c — libFuzzer target for smime-decrypt's message path: header, Content-Type,
 * an enveloped part one level down (spooled, found by the MIME walker), the strict base64
 * body source and the envelope decoder. Never a crash; on failure nothing is written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "envelope.h"
#include "envmsg.h"
#include "io.h"
#include "msg.h"
#include "param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t written;

static int
count(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)ctx, (void)p, (void)e;
	written += n;
	return 0;
}

static void
run(int fd, EVP_PKEY *key)
{
	struct msg_header h;
	struct io_in in, in2;
	struct envmsg_part part;
	struct envmsg_bodysrc bs;
	struct ber_src src;
	struct sink out = { count, NULL };
	struct mime_type t;
	const struct msg_field *ct, *cte;
	struct err e;
	int spool = -1, multi = 0, b64;

	if (io_in_init(&in, fd, "fuzz", &e) != 0)
		return;
	msg_header_init(&h);
	if (msg_header_read(&in, &h, &e) != 0 || (ct = msg_header_get(&h, "Content-Type")) == NULL
	    || mime_type_parse(ct->value, 0, &t, &e) != 0)
		goto out;
	multi = mime_type_is(&t, "multipart", NULL);
	mime_type_free(&t);
	cte = msg_header_get(&h, "Content-Transfer-Encoding");
	b64 = cte != NULL && cte_parse(cte->value) == CTE_BASE64;
	if (multi) {
		if (envmsg_find_enveloped(&in, &h, &spool, &part, &e) != 0
		    || lseek(spool, (off_t)part.body_offset, SEEK_SET) < 0
		    || io_in_init(&in2, spool, "spool", &e) != 0)
			goto out;
		b64 = part.cte == CTE_BASE64;
	}
	if (envmsg_bodysrc_init(&bs, multi ? &in2 : &in, b64, &e) == 0) {
		if (multi)
			bs.limit = part.body_end - part.body_offset;
		src = envmsg_bodysrc_src(&bs);
		written = 0;
		if (env_decrypt(&src, key, NULL, &out, NULL, &e) != 0 && written != 0)
			abort();	/* a failure released plaintext */
	}
	envmsg_bodysrc_free(&bs);
	if (multi)
		io_in_free(&in2);
out:
	if (spool >= 0)
		close(spool);
	msg_header_free(&h);
	io_in_free(&in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	struct err e;
	int fd;

	if (key == NULL && (key = EVP_RSA_gen(1024)) == NULL)
		abort();
	if ((fd = io_spool(&e)) < 0)
		abort();
	if (io_write_all(fd, data, size) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	run(fd, key);
	close(fd);
	return 0;
}
