/* cms_verify.c — libFuzzer target: arbitrary DER as a detached S/MIME signature over a fixed
 * content, and as an opaque one. Never a crash; never a pass (no trust anchor). */
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
	static const char content[] = "Content-Type: text/plain\r\n\r\nhello\r\n";
	struct cms_verify_opts o;
	struct cms_result r;
	struct err e;
	BIO *c, *out;
	int fd;

	memset(&o, 0, sizeof o);
	o.ca_file = "/dev/null";
	/* A file BIO, as smime-verify uses (OpenSSL 3.0's CMS_verify copies memory BIOs and
	 * leaks the copy on some error paths). */
	if ((fd = io_spool(&e)) < 0 || io_write_all(fd, content, sizeof content - 1) != 0
	    || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	c = BIO_new_fd(fd, BIO_CLOSE);
	out = BIO_new(BIO_s_mem());
	if (c == NULL || out == NULL)
		abort();
	if (cms_verify(data, size, c, NULL, &o, &r, &e) == 0) {
		if (r.verdict == CMS_V_PASS)
			abort();
		cms_result_free(&r);
	}
	if (cms_verify(data, size, NULL, out, &o, &r, &e) == 0) {
		if (r.verdict == CMS_V_PASS)
			abort();
		cms_result_free(&r);
	}
	BIO_free(c);
	BIO_free(out);
	return 0;
}
