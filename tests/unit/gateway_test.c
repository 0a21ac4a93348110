/* gateway_test — secmail-gateway's policy (lib/gateway): settings and their errors, the
 * domains that require encryption, identities in the keys directory, what a message is. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"
#include "io.h"
#include "tap.h"

static char dir[] = "/tmp/gateway_test.XXXXXX";
static char keys[600];

static const char *
put(const char *name, const char *text, int mode)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
	return path;
}

/* A policy file: the keys line first, then text. */
static const char *
policy(const char *text)
{
	char buf[2048];

	snprintf(buf, sizeof buf, "keys %s\ncert_dir %s/certs\n%s", keys, dir, text);
	return put("gateway.conf", buf, 0600);
}

static int
load_fails(const char *text, const char *want)
{
	struct gw_policy p;
	struct err e;
	int rc = gw_policy_load(&p, policy(text), "/usr/bin", &e);

	gw_policy_free(&p);
	if (rc == 0 || e.code != EX_CONFIG || strstr(e.msg, want) == NULL)
		printf("#   got: rc %d code %d '%s'\n", rc, e.code, rc ? e.msg : "");
	return rc == -1 && e.code == EX_CONFIG && strstr(e.msg, want) != NULL;
}

/* inspect a message given as text */
static int
kind(const char *msg, char **from)
{
	enum gw_kind k;
	struct err e;
	int fd = io_spool(&e);

	if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg) || gw_inspect(fd, &k, from, &e) != 0)
		k = -1;
	if (lseek(fd, 0, SEEK_CUR) != 0)	/* rewound for the next reader */
		k = -2;
	close(fd);
	return (int)k;
}

int
main(void)
{
	struct gw_policy p;
	struct gw_ident id;
	struct err e;
	char *from = NULL, v[64];
	int fd;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(keys, sizeof keys, "%s/keys", dir);
	mkdir(keys, 0700);

	/* defaults and settings */
	ok(gw_policy_load(&p, policy(""), "/opt/secmail/bin", &e) == 0, "a policy with keys only loads");
	is_str(p.sendmail, "/usr/sbin/sendmail", "sendmail defaults to /usr/sbin/sendmail");
	is_str(p.tools, "/opt/secmail/bin", "tools default to the program's own directory");
	ok(p.sign == 1 && p.harvest == 1 && p.cipher == NULL && p.authserv == NULL,
	    "sign and harvest default on, no cipher, no authserv-id");
	gw_policy_free(&p);
	ok(gw_policy_load(&p, policy("sign off\nharvest no\ncipher aes-128-gcm\nauthserv_id mx.test\n"
	    "require_encryption Partner.Example, other.example\n"), "/usr/bin", &e) == 0,
	    "every setting loads");
	ok(p.sign == 0 && p.harvest == 0, "sign off, harvest no");
	is_str(p.cipher, "aes-128-gcm", "cipher");
	is_str(p.authserv, "mx.test", "authserv_id");
	ok(gw_required(&p, "carol@partner.example") && gw_required(&p, "x@PARTNER.EXAMPLE")
	    && gw_required(&p, "y@other.example"), "listed domains require encryption, case aside");
	ok(!gw_required(&p, "z@sub.partner.example") && !gw_required(&p, "z@example")
	    && !gw_required(&p, "partner.example") && !gw_required(&p, "z@artner.example"),
	    "a subdomain, a suffix, a bare domain are not listed domains");
	gw_policy_free(&p);
	ok(gw_policy_load(&p, policy("require_encryption *\n"), "/usr/bin", &e) == 0
	    && gw_required(&p, "anyone@anywhere.example"), "'*' requires encryption everywhere");
	gw_policy_free(&p);

	/* errors */
	ok(load_fails("ciper aes-128-gcm\n", "unknown setting 'ciper'"), "a misspelt key is an error");
	ok(load_fails("cipher des-ede3-cbc\n", "weak"), "a weak cipher is refused");
	ok(load_fails("cipher rot13\n", "unknown cipher"), "an unknown cipher is refused");
	ok(load_fails("sign maybe\n", "expected on or off"), "sign takes on or off");
	ok(load_fails("account x\n", "no account sections"), "no sections");
	ok(load_fails("tools relative/bin\n", "not an absolute path"), "tools must be absolute");
	chmod(keys, 0777);
	ok(load_fails("", "keys"), "a keys directory others can write is refused");
	chmod(keys, 0700);
	{
		char buf[1200];

		snprintf(buf, sizeof buf, "keys %s/missing\n", dir);
		put("missing.conf", buf, 0600);
		snprintf(buf, sizeof buf, "%s/missing.conf", dir);
		ok(gw_policy_load(&p, buf, "/usr/bin", &e) == -1 && e.code == EX_CONFIG
		    && strstr(e.msg, "no such directory"), "a missing keys directory is a config error");
		gw_policy_free(&p);
		snprintf(buf, sizeof buf, "%s/nonexistent.conf", dir);
		ok(gw_policy_load(&p, buf, "/usr/bin", &e) == -1 && e.code == EX_CONFIG,
		    "a missing policy file is a config error (Postfix defers, never bounces)");
		gw_policy_free(&p);
	}
	(void)policy("");
	{
		char path[700];

		snprintf(path, sizeof path, "%s/gateway.conf", dir);
		chmod(path, 0666);
		ok(gw_policy_load(&p, path, "/usr/bin", &e) == -1 && e.code == EX_CONFIG,
		    "a policy file others may write is refused");
		gw_policy_free(&p);
		chmod(path, 0600);
	}

	/* identities */
	ok(gw_policy_load(&p, policy(""), "/usr/bin", &e) == 0, "policy for identities");
	ok(gw_ident(&p, "alice@example.org", &id) == 0, "no files, no identity");
	put("keys/alice@example.org.pem", "x", 0600);
	ok(gw_ident(&p, "alice@example.org", &id) == 0, "a certificate without a key is none");
	put("keys/alice@example.org.key", "x", 0600);
	ok(gw_ident(&p, "Alice@Example.ORG", &id) == 1 && id.n == 4
	    && strcmp(id.argv[0], "--cert") == 0 && strcmp(id.argv[2], "--key") == 0
	    && strstr(id.cert, "/keys/alice@example.org.pem") && strstr(id.key, "/keys/alice@example.org.key"),
	    "ADDRESS.pem and ADDRESS.key, the address lower-cased");
	put("keys/alice@example.org.pass", "pw\n", 0600);
	ok(gw_ident(&p, "alice@example.org", &id) == 1 && id.n == 6
	    && strcmp(id.argv[4], "--pass-file") == 0, "ADDRESS.pass adds --pass-file");
	put("keys/%2E.%2Fx@example.org.pem", "x", 0600);
	put("keys/%2E.%2Fx@example.org.key", "x", 0600);
	ok(gw_ident(&p, "../x@example.org", &id) == 1 && strstr(id.cert, "/keys/%2E.%2Fx@example.org.pem"),
	    "an address with a path in it stays in the keys directory (escaped)");
	ok(gw_ident(&p, "", &id) == 0, "the null sender has no identity");
	gw_policy_free(&p);

	/* what a message is */
	ok(kind("From: Alice <alice@example.org>\nSubject: x\n\nhi\n", &from) == GW_PLAIN
	    && from && strcmp(from, "alice@example.org") == 0, "plain, From read, fd rewound");
	free(from);
	ok(kind("From: a@x, b@y\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\n\n", &from) == GW_SIGNED
	    && from == NULL, "multipart/signed; two From addresses give none");
	ok(kind("From: a@x\nFrom: b@y\n\n", &from) == GW_PLAIN && from == NULL,
	    "two From fields give none");
	/* the CMS content type of the body decides, not the label (the start of a ContentInfo,
	 * base64: signedData, id-ct-authEnvelopedData, envelopedData) */
	ok(kind("Content-Type: application/pkcs7-mime; smime-type=signed-data\n"
	    "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCA\n", &from) == GW_SIGNED,
	    "opaque signed-data");
	ok(kind("Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data\n"
	    "Content-Transfer-Encoding: base64\n\nMIAGCyqGSIb3DQEJEAEXoIA=\n", &from) == GW_ENCRYPTED,
	    "authEnveloped-data");
	ok(kind("Content-Type: application/x-pkcs7-mime; name=smime.p7m\n"
	    "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CA\n", &from) == GW_ENCRYPTED,
	    "x-pkcs7-mime without smime-type (s-nail) holding an envelope counts as encrypted");
	ok(kind("Content-Type: application/x-pkcs7-mime; name=smime.p7m\n"
	    "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCA\n", &from) == GW_SIGNED,
	    "signed-data without smime-type counts as signed, not encrypted");
	ok(kind("Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n"
	    "Content-Transfer-Encoding: base64\n\nUGF5IDEwMCBFVVIK\n", &from) == GW_PLAIN,
	    "text under an enveloped-data label is plain");
	ok(kind("Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n\n", &from) == GW_PLAIN,
	    "an empty body under an enveloped-data label is plain");
	ok(kind("From: =?utf-8?q?Boss_=3Cboss=40example=2Eorg=3E?= <alice@example.org>\n\n", &from) == GW_PLAIN
	    && from == NULL, "a display name that shows another address gives no From");
	ok(kind("From: \"alice@example.org\" <alice@example.org>\n\n", &from) == GW_PLAIN
	    && from && strcmp(from, "alice@example.org") == 0, "the address itself as display name is fine");
	free(from);
	ok(kind("not a header at all\n\0binary", &from) == GW_PLAIN && from == NULL,
	    "no header: plain, no From");

	/* the verdict for the log line */
	fd = io_spool(&e);
	{
		const char *m = "Authentication-Results: mx.evil; smime=pass\n"
		    "Authentication-Results: (c) mx.test; smime=fail reason=\"x\"\n\nbody\n";

		if (write(fd, m, strlen(m)) < 0)
			return 1;
	}
	ok(gw_verdict(fd, "mx.test", v, sizeof v, &e) == 0, "verdict read");
	is_str(v, "smime=fail", "the verdict is the one claiming our authserv-id");
	ok(gw_verdict(fd, "mx.other", v, sizeof v, &e) == 0 && v[0] == '\0', "none claims another id");
	close(fd);
	{
		char cmd[700];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
