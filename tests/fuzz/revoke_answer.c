/* revoke_answer.c — libFuzzer target: arbitrary bytes as every answer revoke.c reads from disk
 * (a --crl-file, a cached CRL, a cached OCSP response, a "failed" marker) for a certificate
 * with a CRL distribution point and an OCSP responder. Never a crash; never an answer: bytes
 * that the issuer's key did not sign cannot say "good" or "revoked". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "io.h"
#include "revoke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define URL_CRL "http://127.0.0.1:9/int.crl"
#define URL_OCSP "http://127.0.0.1:9/"

static X509 *issuer, *leaf;
static char dir[64], crlfile[128], names[3][256];

static X509 *
make_cert(const char *cn, EVP_PKEY *key, EVP_PKEY *signkey, X509 *ca, int serial)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	const char *exts[][2] = {
		{ "crlDistributionPoints", "URI:" URL_CRL },
		{ "authorityInfoAccess", "OCSP;URI:" URL_OCSP },
	};
	size_t i;

	if (x == NULL)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, ca ? ca : x, x, NULL, NULL, 0);
	for (i = 0; ca != NULL && i < 2; i++) {
		if ((ext = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1])) == NULL)
			abort();
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(x, signkey, EVP_sha256()))
		abort();
	return x;
}

static void
name(char *out, const char *kind, const void *key, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	char h[65];
	int i;

	EVP_Digest(key, len, md, NULL, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++) {
		h[2 * i] = hex[md[i] >> 4];
		h[2 * i + 1] = hex[md[i] & 15];
	}
	h[64] = '\0';
	snprintf(out, 256, "%s/%s-%s", dir, kind, h);
}

static void
cleanup(void)
{
	int i;

	for (i = 0; i < 3; i++)
		unlink(names[i]);
	unlink(crlfile);
	rmdir(dir);
}

static void
init(void)
{
	EVP_PKEY *ck = EVP_EC_gen("P-256"), *lk = EVP_EC_gen("P-256");
	OCSP_CERTID *id;
	unsigned char *der = NULL;
	int len;

	if (ck == NULL || lk == NULL)
		abort();
	issuer = make_cert("Fuzz CA", ck, ck, NULL, 1);
	leaf = make_cert("fuzz", lk, ck, issuer, 2);
	snprintf(dir, sizeof dir, "/tmp/secmail-fuzz-revoke.%d", (int)getpid());
	snprintf(crlfile, sizeof crlfile, "%s/file.crl", dir);
	if (io_dir_private(dir, 1, &(struct err){ 0 }) != 0)
		abort();
	id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
	len = i2d_OCSP_CERTID(id, &der);
	name(names[0], "crl", URL_CRL, strlen(URL_CRL));
	name(names[1], "ocsp", der, (size_t)len);
	name(names[2], "failed", URL_CRL, strlen(URL_CRL));
	OPENSSL_free(der);
	OCSP_CERTID_free(id);
	atexit(cleanup);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(lk);
}

static void
put(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct revoke_opts o;
	struct revoke_answer a;
	struct revoke *rv;
	struct err e;
	int i, k;

	if (issuer == NULL)
		init();
	for (i = 0; i < 3; i++)
		put(names[i], data, size);
	put(crlfile, data, size);
	for (i = 0; i < 2; i++) {
		revoke_opts_init(&o);
		o.mode = REVOKE_STRICT;
		o.fetch = 0;
		o.cache_dir = dir;
		o.crl_file = i ? crlfile : NULL;
		if ((rv = revoke_new(&o, &e)) == NULL)
			abort();
		k = revoke_check(rv, leaf, issuer, &a, &e);
		if (k == 0 && a.status != REVOKE_UNKNOWN)
			abort();
		revoke_free(rv);
	}
	return 0;
}
