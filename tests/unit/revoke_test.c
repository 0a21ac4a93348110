/* revoke_test.c — the revocation settings (built-in < configuration < environment < command
 * line), reason codes and their policy (RFC 5280 §5.3.1), and what a CRL built here in
 * memory says (entry extensions), and that the fetch budget is one per message. The other
 * fetching checks run against real servers in tests/revoke-verify.bats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "revoke.h"
#include "tap.h"

static int
conf_text(struct conf *c, const char *text)
{
	char path[] = "/tmp/revoke_test.XXXXXX";
	struct err e;
	int fd = mkstemp(path), rc;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	conf_init(c);
	rc = conf_load(c, path, 0, &e);
	unlink(path);
	return rc;
}

/* ---- a CA, a certificate it issued, and CRLs it signs ---- */

static EVP_PKEY *
ec_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* With aia, an Authority Information Access naming that OCSP responder. */
static X509 *
cert_aia(const char *cn, EVP_PKEY *key, X509 *ca, EVP_PKEY *cakey, long serial, const char *aia)
{
	X509 *x = X509_new();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, ca ? ca : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf(NULL, &ctx, "basicConstraints", ca ? "CA:FALSE" : "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (aia != NULL) {
		char v[200];

		snprintf(v, sizeof v, "OCSP;URI:%s", aia);
		ext = X509V3_EXT_conf(NULL, &ctx, "authorityInfoAccess", v);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, cakey, EVP_sha256());
	return x;
}

static X509 *
cert(const char *cn, EVP_PKEY *key, X509 *ca, EVP_PKEY *cakey, long serial)
{
	return cert_aia(cn, key, ca, cakey, serial, NULL);
}

/* A CRL of ca, fresh for a week, listing serial 99 (not our certificate); with crit, that
 * entry carries a critical extension of a private OID (RFC 5280 §5.3: a CRL with one the
 * application does not process MUST NOT be used). Written PEM to path. */
static int
write_crl(const char *path, X509 *ca, EVP_PKEY *cakey, int crit)
{
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), -1, 0);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	X509_EXTENSION *ext;
	FILE *f;
	int rc;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_adj(t, time(NULL), 7, 0);
	X509_CRL_set1_nextUpdate(crl, t);
	ASN1_INTEGER_set(serial, 99);
	X509_REVOKED_set_serialNumber(r, serial);
	ASN1_TIME_adj(t, time(NULL), -1, 0);
	X509_REVOKED_set_revocationDate(r, t);
	if (crit) {
		ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00", 2);	/* NULL */
		ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, v);
		X509_REVOKED_add_ext(r, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_CRL_add0_revoked(crl, r);
	X509_CRL_sort(crl);
	X509_CRL_sign(crl, cakey, EVP_sha256());
	rc = (f = fopen(path, "w")) != NULL && PEM_write_X509_CRL(f, crl) == 1 ? 0 : -1;
	if (f != NULL)
		fclose(f);
	X509_CRL_free(crl);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(t);
	ASN1_OCTET_STRING_free(v);
	ASN1_OBJECT_free(oid);
	return rc;
}

/* What revoke_check says about x (issued by ca) with only the CRL file path: no fetching. */
static int
check_with(const char *path, X509 *x, X509 *ca, struct revoke_answer *a)
{
	struct revoke_opts o;
	struct revoke *rv;
	struct err e;
	int rc;

	revoke_opts_init(&o);
	o.mode = REVOKE_SOFT;
	o.crl_file = path;
	o.fetch = 0;
	if ((rv = revoke_new(&o, &e)) == NULL)
		return -1;
	rc = revoke_check(rv, x, ca, a, &e);
	revoke_free(rv);
	return rc;
}

static void
crl_entries(void)
{
	char path[] = "/tmp/revoke_test_crl.XXXXXX";
	EVP_PKEY *cakey = ec_key(), *key = ec_key();
	X509 *ca = cert("Unit CA", cakey, NULL, cakey, 1);
	X509 *x = cert("unit user", key, ca, cakey, 2);
	struct revoke_answer a;
	int fd = mkstemp(path);

	ok(fd >= 0 && cakey != NULL && key != NULL && ca != NULL && x != NULL, "a CA and a user");
	close(fd);
	/* The control: the same CRL without the critical entry extension says "good". */
	ok(write_crl(path, ca, cakey, 0) == 0 && check_with(path, x, ca, &a) == 0
	    && a.status == REVOKE_GOOD, "a CRL not listing the certificate: good");
	/* RFC 5280 §5.3: an entry extension we do not process, marked critical, makes the
	 * whole CRL unusable (it could, say, qualify which certificates the list covers). */
	ok(write_crl(path, ca, cakey, 1) == 0 && check_with(path, x, ca, &a) == 0
	    && a.status == REVOKE_UNKNOWN && strstr(a.why, "critical") != NULL,
	    "a CRL with an unknown critical entry extension is not used: %s", a.why);
	unlink(path);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
}

/* A loopback port that accepts connections (the kernel does, into the backlog) and never
 * answers: every fetch from it times out. -1 on failure. */
static int
silent_listener(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0
	    || getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Issue 13: the fetch budget is one per message (revoke_begin), whatever certificates it
 * covers: two unrelated certificates (two signers, a signer and an encryption certificate)
 * share it, and the next message has it whole again. Budget 1 second, fetches of 5. */
static void
budget_per_message(void)
{
	EVP_PKEY *cakey = ec_key(), *k1 = ec_key(), *k2 = ec_key();
	X509 *ca = cert("Unit CA", cakey, NULL, cakey, 1), *x1, *x2;
	struct revoke_opts o;
	struct revoke_answer a;
	struct revoke *rv;
	struct err e;
	char url[80];
	int port = 0, fd = silent_listener(&port);

	snprintf(url, sizeof url, "http://127.0.0.1:%d/ocsp", port);
	x1 = cert_aia("signer one", k1, ca, cakey, 2, url);
	x2 = cert_aia("signer two", k2, ca, cakey, 3, url);
	revoke_opts_init(&o);
	o.mode = REVOKE_SOFT;
	o.fetch = 1;
	o.timeout = 5;
	o.budget = 1;
	o.now = time(NULL);
	rv = revoke_new(&o, &e);
	ok(fd >= 0 && ca != NULL && x1 != NULL && x2 != NULL && rv != NULL,
	    "a CA, two users, a responder that never answers");
	if (fd < 0 || rv == NULL)
		return;
	revoke_begin(rv);
	ok(revoke_check(rv, x1, ca, &a, &e) == 0 && a.status == REVOKE_UNKNOWN && a.asked
	    && strstr(a.why, "cut short: the 1 seconds") != NULL,
	    "the first certificate's fetch is cut short by the budget: %s", a.why);
	/* Not the first one's issuer: before, this started a new budget (another second). */
	ok(revoke_check(rv, x2, ca, &a, &e) == 0 && a.status == REVOKE_UNKNOWN
	    && strstr(a.why, "not asked, the 1 seconds for revocation fetches were spent") != NULL,
	    "the second certificate of the same message is not asked: %s", a.why);
	revoke_begin(rv);
	ok(revoke_check(rv, x2, ca, &a, &e) == 0 && a.status == REVOKE_UNKNOWN
	    && strstr(a.why, "cut short") != NULL,
	    "the next message has the whole budget: it is asked: %s", a.why);
	revoke_begin(NULL);	/* revocation off: nothing to begin */
	revoke_free(rv);
	close(fd);
	X509_free(x1);
	X509_free(x2);
	X509_free(ca);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(cakey);
}

int
main(void)
{
	struct revoke_opts o;
	struct conf c;
	struct err e;
	enum revoke_mode m;
	char buf[256];

	ok(revoke_mode_parse("soft", &m) == 0 && m == REVOKE_SOFT, "soft");
	ok(revoke_mode_parse("strict", &m) == 0 && m == REVOKE_STRICT, "strict");
	ok(revoke_mode_parse("off", &m) == 0 && m == REVOKE_OFF, "off");
	ok(revoke_mode_parse("Strict", &m) != 0 && revoke_mode_parse("", &m) != 0, "nothing else");

	is_str(revoke_reason_name(1), "keyCompromise", "reason 1");
	is_str(revoke_reason_name(2), "cACompromise", "reason 2");
	is_str(revoke_reason_name(4), "superseded", "reason 4");
	is_str(revoke_reason_name(10), "aACompromise", "reason 10");
	is_str(revoke_reason_name(-1), "unspecified", "no reason");
	is_str(revoke_reason_name(99), "unspecified", "an unknown reason");
	ok(revoke_reason_voids_past(1) && revoke_reason_voids_past(2) && revoke_reason_voids_past(10)
	    && revoke_reason_voids_past(0) && revoke_reason_voids_past(-1)
	    && revoke_reason_voids_past(6), "compromise, unspecified, none, hold void the past");
	ok(!revoke_reason_voids_past(3) && !revoke_reason_voids_past(4) && !revoke_reason_voids_past(5)
	    && !revoke_reason_voids_past(9), "affiliationChanged, superseded, cessation, "
	    "privilegeWithdrawn do not");

	/* Built-in defaults. */
	unsetenv("SECMAIL_REVOCATION");
	unsetenv("SECMAIL_CRL_FILE");
	unsetenv("SECMAIL_CRL_PATH");
	unsetenv("SECMAIL_FETCH_TIMEOUT");
	unsetenv("SECMAIL_FETCH_BUDGET");
	unsetenv("SECMAIL_REVOCATION_CACHE");
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	conf_init(&c);
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) == 0, "defaults");
	ok(o.mode == REVOKE_SOFT && o.fetch == 1 && o.timeout == REVOKE_TIMEOUT && o.crl_file == NULL,
	    "soft, fetching, %d seconds", REVOKE_TIMEOUT);
	ok(o.budget == REVOKE_BUDGET && REVOKE_BUDGET == 15, "a budget of 15 seconds for all "
	    "fetches of a verification");
	is_str(o.cache_dir, "/x/cache/secmail/revocation", "cache under XDG_CACHE_HOME");
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/home/u", 1);
	ok(revoke_default_cache(buf, sizeof buf) != NULL, "a cache under HOME");
	is_str(buf, "/home/u/.cache/secmail/revocation", "~/.cache/secmail/revocation");
	conf_free(&c);

	/* Configuration, then the environment over it, then the command line over both. */
	ok(conf_text(&c, "revocation strict\ncrl_file /c/file\nfetch off\nfetch_timeout 2\n"
	    "fetch_budget 7\nrevocation_cache /c/cache\n") == 0, "a configuration");
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) == 0 && o.mode == REVOKE_STRICT
	    && o.fetch == 0 && o.timeout == 2 && o.budget == 7 && strcmp(o.crl_file, "/c/file") == 0
	    && strcmp(o.cache_dir, "/c/cache") == 0, "taken from the file");
	setenv("SECMAIL_FETCH_BUDGET", "3600", 1);
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) == 0 && o.budget == 3600,
	    "SECMAIL_FETCH_BUDGET over fetch_budget");
	unsetenv("SECMAIL_FETCH_BUDGET");
	setenv("SECMAIL_REVOCATION", "off", 1);
	setenv("SECMAIL_CRL_PATH", "/env/crls", 1);
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) == 0 && o.mode == REVOKE_OFF
	    && o.crl_file == NULL && strcmp(o.crl_path, "/env/crls") == 0,
	    "the environment wins (the CRL settings as one group)");
	revoke_opts_init(&o);
	o.mode = REVOKE_SOFT;
	o.crl_file = "/cli/file";
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) == 0 && o.mode == REVOKE_SOFT
	    && strcmp(o.crl_file, "/cli/file") == 0 && o.crl_path == NULL, "the command line wins");
	unsetenv("SECMAIL_REVOCATION");
	unsetenv("SECMAIL_CRL_PATH");
	conf_free(&c);

	/* Bad values are configuration errors. */
	ok(conf_text(&c, "revocation maybe\n") == 0, "a bad mode");
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) != 0 && e.code == EX_CONFIG,
	    "refused: %s", e.msg);
	conf_free(&c);
	ok(conf_text(&c, "fetch_timeout 0\n") == 0, "a zero timeout");
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) != 0 && e.code == EX_CONFIG,
	    "refused: %s", e.msg);
	conf_free(&c);
	setenv("SECMAIL_FETCH_TIMEOUT", "12x", 1);
	conf_init(&c);
	revoke_opts_init(&o);
	ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) != 0 && e.code == EX_CONFIG,
	    "a bad SECMAIL_FETCH_TIMEOUT refused: %s", e.msg);
	unsetenv("SECMAIL_FETCH_TIMEOUT");
	conf_free(&c);
	{
		static const char *const bad[] = { "fetch_budget 0\n", "fetch_budget 3601\n",
		    "fetch_budget 1s\n", "fetch_budget -2\n", "fetch_budget 99999999999\n" };
		size_t k;

		for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
			ok(conf_text(&c, bad[k]) == 0, "a configuration");
			revoke_opts_init(&o);
			ok(revoke_opts_defaults(&o, &c, buf, sizeof buf, &e) != 0
			    && e.code == EX_CONFIG && strstr(e.msg, "fetch_budget") != NULL,
			    "refused: %s", e.msg);
			conf_free(&c);
		}
	}

	/* The option parser. */
	revoke_opts_init(&o);
	ok(revoke_getopt(REVOKE_OPT_MODE, "strict", &o, &e) == 1 && o.mode == REVOKE_STRICT,
	    "--revocation strict");
	ok(revoke_getopt(REVOKE_OPT_MODE, "never", &o, &e) == -1 && e.code == EX_USAGE,
	    "--revocation never: usage");
	ok(revoke_getopt(REVOKE_OPT_NO_FETCH, NULL, &o, &e) == 1 && o.fetch == 0, "--no-fetch");
	ok(revoke_getopt('x', NULL, &o, &e) == 0, "other options are not ours");

	crl_entries();
	budget_per_message();
	return tap_done();
}
