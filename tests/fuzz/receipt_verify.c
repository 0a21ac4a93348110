/* receipt_verify.c — libFuzzer target for the sender's side of RFC 2634 (lib/receipt.c): the
 * input is what smime-sign --receipt-request kept (a header, a blank line, the base64 DER of
 * the signature), the separator "\n--receipt--\n", and a receipt's DER. The record is
 * written where receipt_store would have put it for the receipt's identifier; reading it
 * back (header, strict base64, the kept SignedData) and checking the receipt
 * (CMS_verify_receipt) must never crash, and with no trust anchor nothing passes. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "io.h"
#include "receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/secmail-fuzz-receipt.XXXXXX";
static int have_dir;

static const char SEP[] = "\n--receipt--\n";
static char ca[sizeof dir + 8];

/* A trust anchor that signs nothing here: a fresh self-signed certificate in DIR/ca.pem. */
static void
anchor(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *c = X509_new();
	FILE *f;

	if (k == NULL || c == NULL || !X509_set_version(c, 2)
	    || !X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
	    (const unsigned char *)"fuzz root", -1, -1, 0)
	    || !X509_set_issuer_name(c, X509_get_subject_name(c))
	    || !X509_gmtime_adj(X509_getm_notBefore(c), 0)
	    || !X509_gmtime_adj(X509_getm_notAfter(c), 86400) || !X509_set_pubkey(c, k)
	    || !X509_sign(c, k, EVP_sha256()))
		abort();
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	if ((f = fopen(ca, "w")) == NULL || !PEM_write_X509(f, c) || fclose(f) != 0)
		abort();
	X509_free(c);
	EVP_PKEY_free(k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cms_verify_opts o;
	struct receipt_result r;
	unsigned char id[RECEIPT_MAX_ID];
	const uint8_t *rder;
	char path[256];
	size_t idlen = 0, rlen, reclen, i;
	struct err e;
	int fd;

	if (!have_dir) {
		if (mkdtemp(dir) == NULL)
			abort();
		anchor();
		have_dir = 1;
	}
	rder = memmem(data, size, SEP, sizeof SEP - 1);
	reclen = rder != NULL ? (size_t)(rder - data) : 0;
	rder = rder != NULL ? rder + sizeof SEP - 1 : data;
	rlen = size - (size_t)(rder - data);
	memset(&o, 0, sizeof o);
	o.ca_file = ca;
	path[0] = '\0';
	if (receipt_identifier(rder, rlen, id, &idlen) == 0) {
		if (idlen == 0 || idlen > RECEIPT_MAX_ID)
			abort();
		i = (size_t)snprintf(path, sizeof path, "%s/", dir);
		for (size_t k = 0; k < idlen && i + 3 < sizeof path - 5; k++)
			i += (size_t)snprintf(path + i, sizeof path - i, "%02x", id[k]);
		snprintf(path + i, sizeof path - i, ".req");
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0
		    || io_write_all(fd, data, reclen) != 0 || close(fd) != 0)
			abort();
	}
	if (receipt_verify(rder, rlen, dir, &o, &r, &e) == 0) {
		if (r.verdict == CMS_V_PASS || memchr(r.reason, '\0', sizeof r.reason) == NULL
		    || memchr(r.signer, '\0', sizeof r.signer) == NULL)
			abort();
		receipt_result_free(&r);
	} else {
		receipt_result_free(&r);
	}
	if (path[0] != '\0')
		unlink(path);
	return 0;
}
