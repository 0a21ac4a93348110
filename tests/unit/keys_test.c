/* keys_test.c — identities from PEM and PKCS#12 with passphrases, certificate addresses, and
 * the certificate store (RFC 8551 §2.7.1 newer-only updates), over a PKI that
 * tests/helpers/pki makes with the openssl CLI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/objects.h>

#include "certstore.h"
#include "keys.h"
#include "tap.h"

static char dir[256];

static const char *
P(const char *name)
{
	static char buf[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

static X509 *
cert(const char *name)
{
	STACK_OF(X509) *xs;
	struct err e;
	X509 *x;

	if (keys_load_certs(P(name), &xs, &e) != 0)
		return NULL;
	x = sk_X509_shift(xs);
	sk_X509_pop_free(xs, X509_free);
	return x;
}

static void
test_identity(void)
{
	struct keys_opts o;
	struct keys_identity id;
	struct err e;

	keys_opts_init(&o);
	o.cert = P("alice.pem");
	o.key = P("alice.key");
	o.chain = P("chain.pem");
	ok(keys_load_identity(&o, &id, &e) == 0, "PEM certificate, key and chain load");
	ok(id.pkey != NULL && id.cert != NULL && sk_X509_num(id.chain) == 1, "key, certificate, one chain certificate");
	keys_identity_free(&id);

	keys_opts_init(&o);
	o.cert = P("alice-full.pem");
	o.key = P("alice.key");
	ok(keys_load_identity(&o, &id, &e) == 0 && sk_X509_num(id.chain) == 1,
	    "further certificates in the --cert file become chain");
	keys_identity_free(&id);

	keys_opts_init(&o);
	o.cert = P("alice.pem");
	o.key = P("bob.key");
	ok(keys_load_identity(&o, &id, &e) != 0 && e.code == EX_DATAERR
	    && strstr(e.msg, "does not match") != NULL, "a key that does not match: %s", e.msg);

	keys_opts_init(&o);
	o.cert = P("alice.pem");
	o.key = P("alice-pass.key");
	ok(keys_load_identity(&o, &id, &e) != 0 && e.code == EX_USAGE
	    && strstr(e.msg, "needs a passphrase") != NULL, "encrypted key, no passphrase: %s", e.msg);
	o.pass_file = P("pass.txt");
	ok(keys_load_identity(&o, &id, &e) == 0 && id.pkey != NULL, "encrypted key with --pass-file");
	keys_identity_free(&id);
	o.pass_file = P("alice.pem");	/* the wrong passphrase */
	ok(keys_load_identity(&o, &id, &e) != 0 && e.code == EX_DATAERR
	    && strstr(e.msg, "wrong passphrase") != NULL, "wrong passphrase: %s", e.msg);
	o.pass_file = NULL;
	setenv("KEYS_TEST_PASS", "correct horse battery staple", 1);
	o.pass_env = "KEYS_TEST_PASS";
	ok(keys_load_identity(&o, &id, &e) == 0, "encrypted key with --pass-env");
	keys_identity_free(&id);
	o.pass_file = P("pass.txt");
	ok(keys_load_identity(&o, &id, &e) != 0 && e.code == EX_USAGE, "two passphrase sources are refused");

	keys_opts_init(&o);
	o.p12 = P("alice.p12");
	ok(keys_load_identity(&o, &id, &e) != 0 && e.code == EX_USAGE, "PKCS#12 without passphrase: %s", e.msg);
	o.pass_file = P("pass.txt");
	ok(keys_load_identity(&o, &id, &e) == 0 && id.cert != NULL && sk_X509_num(id.chain) == 1,
	    "PKCS#12 with --pass-file: key, certificate, chain");
	keys_identity_free(&id);
	o.pass_file = P("chain.pem");
	ok(keys_load_identity(&o, &id, &e) != 0 && e.code == EX_DATAERR, "PKCS#12, wrong passphrase: %s", e.msg);
	o.pass_file = NULL;
	o.p12 = P("alice-nopass.p12");
	ok(keys_load_identity(&o, &id, &e) == 0, "PKCS#12 with an empty password needs none");
	keys_identity_free(&id);

	keys_opts_init(&o);
	o.cert = P("alice.pem");
	ok(keys_load_identity(&o, &id, &e) != 0 && e.code == EX_USAGE, "no key given: %s", e.msg);
	o.key = P("nonexistent.key");
	ok(keys_load_identity(&o, &id, &e) != 0 && e.code == EX_NOINPUT, "missing key file: %s", e.msg);
	o.key = P("alice.pem");
	ok(keys_load_identity(&o, &id, &e) != 0 && e.code == EX_DATAERR, "a certificate is not a key: %s", e.msg);
}

static void
test_addrs(void)
{
	struct err e;
	char **v;
	X509 *x;

	x = cert("alice.pem");
	v = keys_cert_addrs(x, &e);
	ok(v != NULL && v[0] != NULL && strcmp(v[0], "alice@example.org") == 0 && v[1] == NULL,
	    "subjectAltName rfc822Name");
	keys_addrs_free(v);
	X509_free(x);
	x = cert("subj.pem");
	v = keys_cert_addrs(x, &e);
	ok(v != NULL && v[0] != NULL && strcmp(v[0], "subj@example.org") == 0,
	    "emailAddress in the subject when there is no subjectAltName");
	keys_addrs_free(v);
	X509_free(x);
}

static void
test_store(void)
{
	struct certstore *cs;
	struct certstore_entry ent, got;
	struct err e;
	char *name;

	name = certstore_filename("Alice@Example.ORG", &e);
	is_str(name, "alice@example.org", "file name is the lower-cased address");
	free(name);
	name = certstore_filename("../x/y@z", &e);
	is_str(name, "%2E.%2Fx%2Fy@z", "dots and slashes cannot escape the directory");
	free(name);

	ok(certstore_open(&cs, P("store"), &e) == 0, "a missing store directory opens");
	ok(certstore_get(cs, "alice@example.org", &got, &e) != 0 && e.code == EX_NOINPUT,
	    "lookup in an empty store: %s", e.msg);

	certstore_entry_init(&ent);
	ent.addr = strdup("Alice@Example.org");
	ent.signer = cert("alice.pem");
	ent.cert = cert("aliceenc.pem");
	ent.chain = sk_X509_new_null();
	sk_X509_push(ent.chain, cert("int.pem"));
	ent.caps[0] = NID_aes_256_gcm;
	ent.caps[1] = NID_aes_128_cbc;
	ent.ncaps = 2;
	ent.signing_time = 1764390000;
	ok(certstore_put(cs, &ent, &e) == 1, "first save writes");
	ok(certstore_get(cs, "ALICE@example.org", &got, &e) == 0, "lookup is case-insensitive");
	ok(got.ncaps == 2 && got.caps[0] == NID_aes_256_gcm && got.caps[1] == NID_aes_128_cbc,
	    "capabilities kept in order");
	ok(got.enc_separate && X509_cmp(got.cert, ent.cert) == 0 && X509_cmp(got.signer, ent.signer) == 0,
	    "separate encryption certificate and signer");
	ok(sk_X509_num(got.chain) == 1 && got.signing_time == 1764390000, "chain and signing time");
	certstore_entry_free(&got);

	X509_free(ent.cert);
	ent.cert = cert("bob.pem");
	ent.signing_time = 1764380000;
	ok(certstore_put(cs, &ent, &e) == 0, "an older signature does not replace the entry");
	ent.signing_time = 1764390000;
	ok(certstore_put(cs, &ent, &e) == 0, "nor does one with the same signing time");
	ok(certstore_get(cs, "alice@example.org", &got, &e) == 0 && X509_cmp(got.cert,
	    ent.signer) != 0 && got.signing_time == 1764390000, "the stored entry is unchanged");
	certstore_entry_free(&got);
	X509_free(ent.cert);
	ent.cert = NULL;
	ent.ncaps = 0;
	ent.signing_time = 1764400000;
	ok(certstore_put(cs, &ent, &e) == 1, "a newer signature replaces it");
	ok(certstore_get(cs, "alice@example.org", &got, &e) == 0 && !got.enc_separate
	    && X509_cmp(got.cert, ent.signer) == 0 && got.ncaps == 0, "now the signer's certificate, no capabilities");
	certstore_entry_free(&got);
	certstore_entry_free(&ent);
	certstore_close(cs);

	ok(certstore_open(&cs, P("pass.txt"), &e) != 0 && e.code == EX_CONFIG, "a file is not a store");
}

int
main(void)
{
	char cmd[1200];

	snprintf(dir, sizeof dir, "%s/keys_test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(cmd, sizeof cmd, "tests/helpers/pki '%s/pki' && mv '%s/pki' '%s/p'", dir, dir, dir);
	ok(system(cmd) == 0, "test PKI made");
	strcat(dir, "/p");
	test_identity();
	test_addrs();
	test_store();
	snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(dir) - 2), dir);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	return tap_done();
}
