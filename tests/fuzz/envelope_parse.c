/* envelope_parse.c — libFuzzer target for the envelope decoder: arbitrary bytes as a CMS
 * ContentInfo, decrypted with a fixed RSA key (made once). It must never crash, and when it
 * fails it must write nothing. The first input byte picks the read chunk size, so the BER
 * reader meets every element split across refills. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct chunked {
	struct env_mem m;
	size_t step;
};

static ssize_t
chunk_read(void *ctx, void *p, size_t n, struct err *e)
{
	struct chunked *c = ctx;

	(void)e;
	if (n > c->step)
		n = c->step;
	if (n > c->m.len - c->m.pos)
		n = c->m.len - c->m.pos;
	if (n > 0)
		memcpy(p, c->m.p + c->m.pos, n);
	c->m.pos += n;
	return (ssize_t)n;
}

static size_t written;

static int
count(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)ctx, (void)p, (void)e;
	written += n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	struct chunked c;
	struct ber_src src = { chunk_read, &c };
	struct sink out = { count, NULL };
	struct env_info info;
	struct err e;

	if (key == NULL && (key = EVP_RSA_gen(1024)) == NULL)
		abort();
	if (size < 1)
		return 0;
	c.step = (size_t)data[0] % 64 + 1;
	c.m.p = data + 1;
	c.m.len = size - 1;
	c.m.pos = 0;
	written = 0;
	if (env_decrypt(&src, key, NULL, &out, &info, &e) != 0 && written != 0)
		abort();	/* a failure released plaintext */
	return 0;
}
