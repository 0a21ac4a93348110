/* smime_verify.c — libFuzzer target: a whole message through smime_verify (header, MIME walk
 * of multipart/signed or pkcs7-mime, base64, CMS parsing and verification). It must never
 * crash, and a verdict other than pass must come with a reason; nothing can pass, since no
 * trust anchor is given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smime_verify_opts vo;
	struct cms_result r;
	struct io_in in;
	struct io_out o;
	struct err e;
	int in_fd, out_fd, rc;

	if ((in_fd = io_spool(&e)) < 0 || (out_fd = io_spool(&e)) < 0)
		abort();
	if (io_write_all(in_fd, data, size) != 0 || lseek(in_fd, 0, SEEK_SET) != 0)
		abort();
	memset(&vo, 0, sizeof vo);
	vo.authserv_id = "fuzz";
	vo.cms.ca_file = "/dev/null";	/* nothing is trusted */
	if (io_in_init(&in, in_fd, "fuzz", &e) != 0 || io_out_init(&o, out_fd, "out", &e) != 0)
		abort();
	rc = smime_verify(&in, &o, &vo, &r, &e);
	if (rc == 0 && (r.verdict == CMS_V_PASS || r.reason[0] == '\0'))
		abort();
	if (rc < 0 && e.msg[0] == '\0')
		abort();
	if (rc >= 0)
		cms_result_free(&r);
	io_out_free(&o);
	io_in_free(&in);
	close(in_fd);
	close(out_fd);
	return 0;
}
