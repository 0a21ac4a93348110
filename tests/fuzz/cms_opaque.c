/* cms_opaque.c — libFuzzer target: arbitrary BER as opaque signed-data, split by the
 * streaming reader into content and a detached ContentInfo, then verified. Never a crash,
 * never a pass (no trust anchor). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>

#include "cms.h"
#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cms_verify_opts o;
	struct cms_result r;
	struct buf der = { 0 };
	struct err e;
	BIO *c = NULL;
	int in, content, has;

	memset(&o, 0, sizeof o);
	o.ca_file = "/dev/null";
	if ((in = io_spool(&e)) < 0 || io_write_all(in, data, size) != 0
	    || lseek(in, 0, SEEK_SET) != 0 || (content = io_spool(&e)) < 0)
		abort();
	if (cms_opaque_split(in, content, &der, &has, NULL, &e) == 0) {
		if (has && (c = BIO_new_fd(content, BIO_NOCLOSE)) == NULL)
			abort();
		if (has && lseek(content, 0, SEEK_SET) != 0)
			abort();
		if (cms_verify((const unsigned char *)der.p, der.len, c, NULL, &o, &r, &e) == 0) {
			if (r.verdict == CMS_V_PASS)
				abort();
			cms_result_free(&r);
		}
	}
	BIO_free(c);
	buf_free(&der);
	close(in);
	close(content);
	return 0;
}
