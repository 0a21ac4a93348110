/* cms_test.c — lib/cms through its API: detached and opaque signatures verified back, the
 * signed attributes read back (capabilities, encryption key preference, signing time), each
 * failure verdict, certs-only; the DER is also checked by the openssl CLI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/objects.h>

#include "cms.h"
#include "io.h"
#include "keys.h"
#include "tap.h"

static char dir[256];
static const char content[] = "Content-Type: text/plain\r\n\r\nhello, world\r\n";

static const char *
P(const char *name)
{
	static char buf[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

struct mem {
	unsigned char *p;
	size_t n;
};

static int
mem_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct mem *m = ctx;
	unsigned char *q = realloc(m->p, m->n + n);

	if (q == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	memcpy(q + m->n, p, n);
	m->p = q;
	m->n += n;
	return 0;
}

static int
sign(const char *who, const struct cms_sign_opts *o, struct mem *der)
{
	struct keys_opts ko;
	struct keys_identity id;
	struct cms_sign *s;
	struct sink sk = { mem_write, der };
	struct err e;
	char cert[64], key[64];
	int r;

	snprintf(cert, sizeof cert, "%s.pem", who);
	snprintf(key, sizeof key, "%s.key", who);
	keys_opts_init(&ko);
	ko.cert = P(cert);
	ko.key = P(key);
	ko.chain = P("chain.pem");
	memset(der, 0, sizeof *der);
	if (keys_load_identity(&ko, &id, &e) != 0)
		return -1;
	s = cms_sign_new(&id, o, &sk, &e);
	r = s != NULL && cms_sign_write(s, content, sizeof content - 1, &e) == 0
	    && cms_sign_finish(s, &e) == 0 ? 0 : -1;
	if (r != 0)
		printf("# %s\n", e.msg);
	cms_sign_free(s);
	keys_identity_free(&id);
	return r;
}

static BIO *
content_bio(const char *text)
{
	struct err e;
	int fd = io_spool(&e);

	if (fd < 0 || io_write_all(fd, text, strlen(text)) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		return NULL;
	return BIO_new_fd(fd, BIO_CLOSE);
}

/* cms_verify reports what the signature proves; matching From is the mail policy's
 * (policy_test.c). from names the address the signer's certificate must carry first. */
static enum cms_verdict
verify(const struct mem *der, const char *text, const char *ca, const char *from,
    struct cms_result *r)
{
	struct cms_verify_opts o;
	struct err e;
	BIO *c = text ? content_bio(text) : NULL;
	BIO *out = BIO_new(BIO_s_mem());
	int rc;

	memset(&o, 0, sizeof o);
	o.ca_file = ca;
	rc = cms_verify(der->p, der->n, c, text ? NULL : out, &o, r, &e);
	BIO_free(c);
	BIO_free(out);
	if (rc != 0) {
		printf("# error: %s\n", e.msg);
		return CMS_V_TEMPERROR;
	}
	if (r->signer != NULL && (r->signer_addrs == NULL || r->signer_addrs[0] == NULL
	    || strcmp(r->signer_addrs[0], from) != 0)) {
		printf("# signer's first address: %s\n", r->signer_addrs && r->signer_addrs[0]
		    ? r->signer_addrs[0] : "(none)");
		return CMS_V_TEMPERROR;
	}
	return r->verdict;
}

int
main(void)
{
	struct cms_sign_opts so;
	struct cms_result r;
	struct mem der;
	STACK_OF(X509) *enc = NULL;
	struct err e;
	char cmd[1400];
	FILE *f;

	snprintf(dir, sizeof dir, "%s/cms_test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(cmd, sizeof cmd, "tests/helpers/pki '%s/p'", dir);
	ok(system(cmd) == 0, "test PKI made");
	strcat(dir, "/p");

	memset(&so, 0, sizeof so);
	so.signing_time = time(NULL) - 60;
	ok(sign("alice", &so, &der) == 0, "detached signature by alice");
	ok(verify(&der, content, P("ca.pem"), "alice@example.org", &r) == CMS_V_PASS, "verifies: %s", r.reason);
	ok(r.identifier == NULL && r.signer_addrs != NULL && r.signer_addrs[1] == NULL,
	    "the signer's one address is reported; matching From is left to the policy");
	ok(r.econtent_type == NID_pkcs7_data && strcmp(r.econtent_name, "pkcs7-data") == 0,
	    "eContentType id-data reported: %s", r.econtent_name);
	ok(r.chain != NULL && sk_X509_num(r.chain) == 2, "the verified chain: intermediate and root");
	ok(r.ncaps == 4 && r.caps[0] == NID_aes_256_gcm && r.caps[1] == NID_aes_128_gcm
	    && r.caps[2] == NID_aes_256_cbc && r.caps[3] == NID_aes_128_cbc, "capabilities read back in order");
	ok(r.signing_time == so.signing_time, "signing time read back");
	ok(r.enc_cert == NULL && sk_X509_num(r.certs) == 2, "no encryption preference; signer and chain carried");
	cms_result_free(&r);
	/* the same DER through the openssl CLI */
	snprintf(cmd, sizeof cmd, "%s/sig.der", dir);
	f = fopen(cmd, "wb");
	fwrite(der.p, 1, der.n, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s/content", dir);
	f = fopen(cmd, "wb");
	fwrite(content, 1, sizeof content - 1, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "openssl cms -verify -binary -inform DER -in '%s' -content '%s' -CAfile '%s' "
	    "-out /dev/null 2>/dev/null", P("sig.der"), P("content"), P("ca.pem"));
	ok(system(cmd) == 0, "openssl cms -verify accepts the DER");

	ok(verify(&der, "Content-Type: text/plain\r\n\r\nhello, World\r\n", P("ca.pem"), "alice@example.org", &r)
	    == CMS_V_FAIL && strstr(r.reason, "message digest mismatch") != NULL, "other content: %s", r.reason);
	cms_result_free(&r);
	ok(verify(&der, content, P("rogue-ca.pem"), "alice@example.org", &r) == CMS_V_FAIL
	    && strstr(r.reason, "does not chain") != NULL, "untrusted root: %s", r.reason);
	cms_result_free(&r);
	ok(r.chain == NULL, "no chain reported when it did not verify");
	cms_result_free(&r);
	der.p[der.n - 5] ^= 0x40;
	ok(verify(&der, content, P("ca.pem"), "alice@example.org", &r) == CMS_V_FAIL, "flipped signature bit: %s", r.reason);
	cms_result_free(&r);
	ok(verify(&der, NULL, P("ca.pem"), "alice@example.org", &r) == CMS_V_PERMERROR, "detached without content: %s", r.reason);
	cms_result_free(&r);
	der.n = 100;
	ok(verify(&der, content, P("ca.pem"), "alice@example.org", &r) == CMS_V_PERMERROR, "truncated: %s", r.reason);
	cms_result_free(&r);
	free(der.p);

	so.opaque = 1;
	so.pss = 1;
	ok(sign("alice", &so, &der) != 0, "opaque RSA-PSS is refused (OpenSSL cannot stream it)");
	free(der.p);
	so.pss = 0;
	ok(keys_load_certs(P("aliceenc.pem"), &enc, &e) == 0, "encryption certificate loaded");
	so.enc_cert = sk_X509_value(enc, 0);
	ok(sign("alice", &so, &der) == 0, "opaque signature with an encryption preference");
	ok(verify(&der, NULL, P("ca.pem"), "alice@example.org", &r) == CMS_V_PASS, "verifies: %s", r.reason);
	ok(r.enc_cert != NULL && X509_cmp(r.enc_cert, so.enc_cert) == 0 && r.enc_note[0] == '\0',
	    "SMIMEEncryptionKeyPreference names aliceenc, which passes: %s", r.enc_note);
	cms_result_free(&r);
	free(der.p);
	sk_X509_pop_free(enc, X509_free);
	/* Issue 9 item 1: an announced encryption certificate must pass the signer's policy. */
	{
		static const struct { const char *cert, *why, *what; } bad[] = {
			{ "bob.pem", "is for bob@example.org, not for the signer's address",
			    "one for another address" },
			{ "rogue.pem", "does not verify", "one from an untrusted CA" },
			{ "noeku.pem", "not for e-mail protection", "one without emailProtection" },
			{ "dave.pem", "does not permit key agreement", "one that cannot encrypt" },
		};
		size_t i;

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			ok(keys_load_certs(P(bad[i].cert), &enc, &e) == 0, "%s loaded", bad[i].cert);
			so.enc_cert = sk_X509_value(enc, 0);
			ok(sign("alice", &so, &der) == 0 && verify(&der, NULL, P("ca.pem"),
			    "alice@example.org", &r) == CMS_V_PASS && r.enc_cert == NULL
			    && strstr(r.enc_note, bad[i].why) != NULL, "%s is ignored: %s", bad[i].what,
			    r.enc_note);
			cms_result_free(&r);
			free(der.p);
			sk_X509_pop_free(enc, X509_free);
		}
		so.enc_cert = NULL;
	}

	memset(&so, 0, sizeof so);
	so.pss = 1;
	ok(sign("alice", &so, &der) == 0, "detached RSA-PSS");
	ok(verify(&der, content, P("ca.pem"), "alice@example.org", &r) == CMS_V_PASS, "verifies: %s", r.reason);
	cms_result_free(&r);
	free(der.p);
	so.pss = 0;
	so.digest = "sha384";
	ok(sign("carol", &so, &der) == 0, "ECDSA with SHA-384");
	ok(verify(&der, content, P("ca.pem"), "carol@example.org", &r) == CMS_V_PASS, "verifies: %s", r.reason);
	cms_result_free(&r);
	free(der.p);
	so.signing_time = 946684800;	/* 2000: before the certificate */
	ok(sign("alice", &so, &der) == 0, "signed with a signing time before the certificate");
	ok(verify(&der, content, P("ca.pem"), "alice@example.org", &r) == CMS_V_FAIL
	    && strstr(r.reason, "signing time") != NULL, "refused: %s", r.reason);
	cms_result_free(&r);
	free(der.p);
	so.signing_time = 0;
	ok(sign("expired", &so, &der) == 0, "signed by an expired certificate");
	ok(verify(&der, content, P("ca.pem"), "expired@example.org", &r) == CMS_V_FAIL
	    && strstr(r.reason, "expired") != NULL, "refused: %s", r.reason);
	cms_result_free(&r);
	free(der.p);
	so.signing_time = time(NULL) + 10 * 365 * 86400;
	ok(sign("alice", &so, &der) == 0 && verify(&der, content, P("ca.pem"), "alice@example.org",
	    &r) == CMS_V_FAIL && strstr(r.reason, "signing time is outside") != NULL,
	    "a signing time past the certificate's end: %s", r.reason);
	cms_result_free(&r);
	free(der.p);
	so.signing_time = 0;
	ok(sign("noeku", &so, &der) == 0, "signed by a serverAuth-only certificate");
	ok(verify(&der, content, P("ca.pem"), "noeku@example.org", &r) == CMS_V_POLICY, "policy: %s", r.reason);
	cms_result_free(&r);
	free(der.p);

	{
		STACK_OF(X509) *certs = NULL;
		struct sink sk = { mem_write, &der };

		memset(&der, 0, sizeof der);
		ok(keys_load_certs(P("alice-full.pem"), &certs, &e) == 0 && cms_certs_only(certs, &sk, &e) == 0,
		    "certs-only written");
		ok(verify(&der, NULL, P("ca.pem"), "alice@example.org", &r) == CMS_V_NEUTRAL && r.certs_only
		    && sk_X509_num(r.certs) == 2, "certs-only is neutral with its two certificates");
		cms_result_free(&r);
		sk_X509_pop_free(certs, X509_free);
		free(der.p);
	}
	is_str(cms_micalg("sha512"), "sha-512", "micalg for sha512");
	snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(dir) - 2), dir);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	return tap_done();
}
