/* smime_verify.c — libFuzzer target: a whole message through smime_verify (lenient header,
 * forged-field removal, the decryption record, MIME walk of multipart/signed or pkcs7-mime,
 * base64, CMS parsing and verification, the mail policy). It must never crash; every input
 * but an empty one must be written back (the filter contract: only I/O errors may stop it),
 * starting with our Authentication-Results field or an mbox line; a verdict other than pass
 * must come with a reason; nothing can pass, since no trust anchor is given. The options
 * come from the input's size, so the corpus keeps its meaning. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A trust anchor nobody in the input can chain to (so nothing passes, while the chain and
 * the mail policy still run): a throwaway self-signed certificate, no key kept. */
static const char anchor[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgzCCASmgAwIBAgIUE3S/hQ9vSMBuHJUlcIlgn3ItPlkwCgYIKoZIzj0EAwIw\n"
    "FjEUMBIGA1UEAwwLZnV6eiBhbmNob3IwIBcNMjYxMTMwMDgwNjMwWhgPMjEyNjEx\n"
    "MDYwODA2MzBaMBYxFDASBgNVBAMMC2Z1enogYW5jaG9yMFkwEwYHKoZIzj0CAQYI\n"
    "KoZIzj0DAQcDQgAEMOH7YLWpCfMjVuYs/D+kX6tbdrxKlUVY216a087v390tppFu\n"
    "5aPlPrVpWLokVs+VHKgE4RogrNnTuFtOmyREHaNTMFEwHQYDVR0OBBYEFIQXvn6F\n"
    "cRp71CnGykKyAiXBpIJNMB8GA1UdIwQYMBaAFIQXvn6FcRp71CnGykKyAiXBpIJN\n"
    "MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgHDKZOr737d2ESvJk\n"
    "cwwhZgD9oCLpGfHn0cXaHXHSoKgCIQDzD3BtOzwle30cJ4d74LqASVCmdrPuAa5j\n"
    "1zzLPkZovQ==\n"
    "-----END CERTIFICATE-----\n";
static char anchor_file[64];

static void
drop_anchor(void)
{
	unlink(anchor_file);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smime_verify_opts vo;
	struct cms_result r;
	struct io_in in;
	struct io_out o;
	struct err e;
	int in_fd, out_fd, rc;

	if (anchor_file[0] == '\0') {
		int fd;

		snprintf(anchor_file, sizeof anchor_file, "/tmp/fuzz-anchor.XXXXXX");
		if ((fd = mkstemp(anchor_file)) < 0 || io_write_all(fd, anchor, sizeof anchor - 1)
		    != 0 || close(fd) != 0)
			abort();
		atexit(drop_anchor);
	}
	if ((in_fd = io_spool(&e)) < 0 || (out_fd = io_spool(&e)) < 0)
		abort();
	if (io_write_all(in_fd, data, size) != 0 || lseek(in_fd, 0, SEEK_SET) != 0)
		abort();
	memset(&vo, 0, sizeof vo);
	vo.authserv_id = "fuzz";
	vo.after_decrypt = size & 1;
	vo.keep = (size >> 1) & 1;
	vo.accept_sender = (size >> 2) & 1;
	vo.cms.ca_file = anchor_file;
	if (io_in_init(&in, in_fd, "fuzz", &e) != 0 || io_out_init(&o, out_fd, "out", &e) != 0)
		abort();
	rc = smime_verify(&in, &o, &vo, &r, &e);
	if (rc == 0 && (r.verdict == CMS_V_PASS || r.reason[0] == '\0'))
		abort();
	if (rc < 0 && (e.msg[0] == '\0' || size > 0))
		abort();
	if (rc == 0) {
		char head[32] = "";
		ssize_t n = pread(out_fd, head, sizeof head - 1, 0);

		if (n < 0 || (strncmp(head, "Authentication-Results: fuzz;", 29) != 0
		    && strncmp(head, "From ", 5) != 0))
			abort();
	}
	if (rc >= 0)
		cms_result_free(&r);
	io_out_free(&o);
	io_in_free(&in);
	close(in_fd);
	close(out_fd);
	return 0;
}
