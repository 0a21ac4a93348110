/* envtool.c — test driver for lib/envelope over raw DER on stdin/stdout:
 *   envtool enc CIPHER [oaep] CERT...          plaintext in, DER envelope out
 *   envtool dec KEY [CERT]                     DER in, plaintext out
 *   envtool rewrap KEY CERT [oaep] MEMBER...   DER in, re-wrapped DER out */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "envelope.h"
#include "io.h"

static int
fd_write(void *ctx, const void *p, size_t n, struct err *e)
{
	if (io_write_all(*(int *)ctx, p, n) != 0)
		return err_sys(e, EX_IOERR, "write error");
	return 0;
}

static ssize_t
fd_read(void *ctx, void *p, size_t n, struct err *e)
{
	ssize_t r = io_read(*(int *)ctx, p, n);

	if (r < 0)
		err_sys(e, EX_IOERR, "read error");
	return r;
}

static X509 *
cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL || (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "envtool: cannot read certificate %s\n", path);
		exit(2);
	}
	fclose(f);
	return x;
}

static EVP_PKEY *
key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL || (k = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "envtool: cannot read key %s\n", path);
		exit(2);
	}
	fclose(f);
	return k;
}

static int
die(const struct err *e)
{
	fprintf(stderr, "envtool: %s\n", e->msg);
	return e->code ? e->code : 1;
}

int
main(int argc, char **argv)
{
	int in = 0, outfd = 1, i = 2, flags = 0;
	struct sink out = { fd_write, &outfd };
	struct ber_src src = { fd_read, &in };
	STACK_OF(X509) *xs = sk_X509_new_null();
	struct env_info info;
	struct err e;

	if (argc < 3)
		return 2;
	if (strcmp(argv[1], "enc") == 0) {
		enum env_cipher c = env_cipher_parse(argv[i++]);
		struct env_enc *x;
		char buf[65536];
		ssize_t r;

		if (i < argc && strcmp(argv[i], "oaep") == 0)
			flags |= ENV_OAEP, i++;
		for (; i < argc; i++)
			sk_X509_push(xs, cert(argv[i]));
		if ((x = env_enc_new(xs, c, flags, &out, &e)) == NULL)
			return die(&e);
		while ((r = io_read(0, buf, sizeof buf)) > 0)
			if (env_enc_write(x, buf, (size_t)r, &e) != 0)
				return die(&e);
		if (env_enc_final(x, &e) != 0)
			return die(&e);
		env_enc_free(x);
	} else if (strcmp(argv[1], "dec") == 0) {
		EVP_PKEY *k = key(argv[2]);
		X509 *c = argc > 3 ? cert(argv[3]) : NULL;

		if (env_decrypt(&src, k, c, &out, &info, &e) != 0)
			return die(&e);
		fprintf(stderr, "envtool: %s %s, %d recipients\n",
		    info.auth ? "authEnveloped" : "enveloped", info.cipher, info.nrecips);
		EVP_PKEY_free(k);
		X509_free(c);
	} else if (strcmp(argv[1], "rewrap") == 0 && argc > 4) {
		EVP_PKEY *k = key(argv[2]);
		X509 *c = cert(argv[3]);

		i = 4;
		if (strcmp(argv[i], "oaep") == 0)
			flags |= ENV_OAEP, i++;
		for (; i < argc; i++)
			sk_X509_push(xs, cert(argv[i]));
		if (env_rewrap(&src, k, c, xs, flags, &out, &info, &e) != 0)
			return die(&e);
		EVP_PKEY_free(k);
		X509_free(c);
	} else {
		return 2;
	}
	sk_X509_pop_free(xs, X509_free);
	return 0;
}
