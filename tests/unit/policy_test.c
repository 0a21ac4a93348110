/* policy_test.c — the S/MIME mail policy rule by rule (lib/policy.c): content type, signing
 * time, From, display names, inner header fields, and policy_apply's wrapping and
 * decryption record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "policy.h"
#include "tap.h"

static void
header(struct msg_header *h, const char *const *fields)
{
	struct err e;
	size_t i;

	msg_header_init(h);
	for (i = 0; fields[i] != NULL; i += 2)
		if (msg_header_add(h, fields[i], fields[i + 1], &e) != 0)
			printf("# cannot add %s: %s\n", fields[i], e.msg);
}

static void
test_content_type(void)
{
	char why[200];

	ok(policy_content_type(NID_pkcs7_data, "pkcs7-data", why, sizeof why) == CMS_V_PASS,
	    "id-data is mail");
	ok(policy_content_type(NID_id_smime_ct_TSTInfo, "id-smime-ct-TSTInfo", why, sizeof why)
	    == CMS_V_POLICY && strstr(why, "id-smime-ct-TSTInfo, not a MIME entity") != NULL,
	    "a time-stamp token is not: %s", why);
	ok(policy_content_type(NID_undef, "", why, sizeof why) == CMS_V_POLICY
	    && strstr(why, "of an unknown type") != NULL, "nor is an unknown type: %s", why);
}

static void
test_signing_time(void)
{
	time_t now = 1800000000;
	char why[200];

	ok(policy_signing_time(0, now, why, sizeof why) == CMS_V_PASS, "no signing time: pass");
	ok(policy_signing_time(now - 86400, now, why, sizeof why) == CMS_V_PASS, "a day ago: pass");
	ok(policy_signing_time(now + POLICY_CLOCK_SKEW, now, why, sizeof why) == CMS_V_PASS,
	    "exactly the allowance ahead: pass");
	ok(policy_signing_time(now + POLICY_CLOCK_SKEW + 1, now, why, sizeof why) == CMS_V_POLICY
	    && strstr(why, "2027-01-15 08:") != NULL && strstr(why, "more than 15 minutes") != NULL,
	    "a second more: policy: %s", why);
}

static enum cms_verdict
from(const char *const *fields, char *const *signer, int accept, char **matched, int *by,
    char *why, size_t n)
{
	struct msg_header h;
	enum cms_verdict v;

	header(&h, fields);
	v = policy_from(&h, signer, accept, matched, by, why, n);
	msg_header_free(&h);
	return v;
}

static void
test_from(void)
{
	char *alice[] = { "alice@example.org", "Alice.Two@Example.ORG", NULL };
	char *none[] = { NULL };
	char why[400], *m = NULL;
	int by;

#define FROM(...) ((const char *const[]){ __VA_ARGS__, NULL })
	ok(from(FROM("From", "Alice <alice@EXAMPLE.org>"), alice, 0, &m, &by, why, sizeof why)
	    == CMS_V_PASS && m != NULL && strcmp(m, "alice@example.org") == 0 && !by,
	    "From named by the certificate: pass, the certificate's spelling");
	free(m);
	ok(from(FROM("From", "Alice.Two@example.org"), alice, 0, &m, &by, why, sizeof why)
	    == CMS_V_PASS && strcmp(m, "Alice.Two@Example.ORG") == 0,
	    "any address of the certificate");
	free(m);
	ok(from(FROM("From", "alice.two@example.org"), alice, 0, &m, &by, why, sizeof why)
	    == CMS_V_POLICY && m == NULL, "local parts compare exactly (RFC 8550 section 3)");
	ok(from(FROM("Subject", "x"), alice, 0, &m, &by, why, sizeof why) == CMS_V_POLICY
	    && strstr(why, "no From field") != NULL, "no From: %s", why);
	ok(from(FROM("From", "alice@example.org", "From", "mallory@example.net"), alice, 0, &m,
	    &by, why, sizeof why) == CMS_V_POLICY && strstr(why, "2 From fields") != NULL,
	    "two From fields: %s", why);
	ok(from(FROM("From", "mallory@example.net", "From", "alice@example.org"), alice, 0, &m,
	    &by, why, sizeof why) == CMS_V_POLICY, "two From fields, the signer's second");
	ok(from(FROM("From", "<<<"), alice, 0, &m, &by, why, sizeof why) == CMS_V_POLICY
	    && strstr(why, "cannot be read") != NULL, "unreadable From: %s", why);
	ok(from(FROM("From", "undisclosed:;"), alice, 0, &m, &by, why, sizeof why) == CMS_V_POLICY
	    && strstr(why, "names no mailbox") != NULL, "an empty group: %s", why);
	ok(from(FROM("From", "alice@example.org"), none, 0, &m, &by, why, sizeof why)
	    == CMS_V_POLICY && strstr(why, "names no e-mail address") != NULL,
	    "a certificate without addresses: %s", why);
	ok(from(FROM("From", "alice@example.org, ceo@example.org", "Sender", "alice@example.org"),
	    alice, 0, &m, &by, why, sizeof why) == CMS_V_POLICY
	    && strstr(why, "not for the From address ceo@example.org") != NULL,
	    "every From mailbox must be the signer's: %s", why);
	ok(from(FROM("From", "bob@example.org", "Sender", "alice@example.org"), alice, 0, &m, &by,
	    why, sizeof why) == CMS_V_POLICY && strstr(why, "alice@example.org, the Sender") != NULL,
	    "a Sender-only match: policy: %s", why);
	ok(from(FROM("From", "bob@example.org", "Sender", "alice@example.org"), alice, 1, &m, &by,
	    why, sizeof why) == CMS_V_PASS && by && strcmp(m, "alice@example.org") == 0,
	    "... pass with accept_sender");
	free(m);
	ok(from(FROM("From", "bob@example.org", "Sender", "alice@example.org", "Sender",
	    "alice@example.org"), alice, 1, &m, &by, why, sizeof why) == CMS_V_POLICY,
	    "... but not with two Sender fields");
	ok(from(FROM("From", "\"bob@example.org\" <alice@example.org>"), alice, 0, &m, &by, why,
	    sizeof why) == CMS_V_POLICY && strstr(why, "shows the address bob@example.org, but the "
	    "mailbox is alice@example.org") != NULL, "a display name showing another address: %s",
	    why);
	/* a comment or a group name shows an address too */
	ok(from(FROM("From", "alice@example.org (bob@example.org)"), alice, 0, &m, &by, why,
	    sizeof why) == CMS_V_POLICY && strstr(why, "shows the address bob@example.org in a "
	    "comment or group name, but its mailbox is alice@example.org") != NULL,
	    "a comment showing another address: %s", why);
	ok(from(FROM("From", "(=?utf-8?q?bob=40example.org?=) alice@example.org"), alice, 0, &m,
	    &by, why, sizeof why) == CMS_V_POLICY && strstr(why, "bob@example.org") != NULL,
	    "... RFC 2047-encoded, before the address: %s", why);
	ok(from(FROM("From", "\"bob@example.org\": alice@example.org;"), alice, 0, &m, &by, why,
	    sizeof why) == CMS_V_POLICY && strstr(why, "bob@example.org") != NULL,
	    "a group name showing another address: %s", why);
	ok(from(FROM("From", "Alice <alice@example.org> (alice@EXAMPLE.org)"), alice, 0, &m, &by,
	    why, sizeof why) == CMS_V_PASS, "a comment repeating the address itself: %s", why);
	free(m);
	ok(from(FROM("From", "alice@example.org (Alice at home)"), alice, 0, &m, &by, why,
	    sizeof why) == CMS_V_PASS, "an old-style comment name: %s", why);
	free(m);
#undef FROM
}

static void
test_name_spoof(void)
{
	static const struct {
		const char *name, *shown;	/* shown NULL: not a spoof */
	} c[] = {
		{ "Alice", NULL },
		{ "Alice @ home", NULL },
		{ "alice@example.org", NULL },
		{ "ALICE@EXAMPLE.ORG", "ALICE@EXAMPLE.ORG" },	/* local parts are exact */
		{ "alice@EXAMPLE.org", NULL },
		{ "bob@example.org", "bob@example.org" },
		{ "Alice (bob@example.org)", "bob@example.org" },
		{ "=?utf-8?q?bob=40example=2Eorg?=", "bob@example.org" },
		{ "=?utf-8?b?Ym9iQGV4YW1wbGUub3Jn?=", "bob@example.org" },
		{ "alice\xef\xbc\xa0" "example.org", "alice\xef\xbc\xa0" "example.org" },
		{ "alice\xef\xb9\xab" "example.org", "alice\xef\xb9\xab" "example.org" },
		{ "via alice@example.org and bob@example.org", "bob@example.org" },
		{ "'alice@example.org'", NULL },
		{ "write to alice@example.org.", NULL },
		{ "o'brien@example.org", "o'brien@example.org" },
	};
	char shown[256];
	size_t i;
	int r;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		shown[0] = '\0';
		r = policy_name_spoof(c[i].name, "alice@example.org", shown, sizeof shown);
		ok(r == (c[i].shown != NULL) && (r == 0 || strcmp(shown, c[i].shown) == 0),
		    "display name '%s': %s", c[i].name, r ? shown : "not another address");
	}
}

static void
test_inner_fields(void)
{
	struct msg_header outer, ent;
	char why[120];

#define H(...) ((const char *const[]){ __VA_ARGS__, NULL })
	header(&outer, H("From", "Alice <alice@example.org>", "Subject", "hi", "MIME-Version",
	    "1.0"));
	header(&ent, H("Content-Type", "text/plain", "MIME-Version", "1.0"));
	ok(!policy_inner_fields(&ent, &outer, why, sizeof why), "content fields only: nothing");
	msg_header_free(&ent);
	header(&ent, H("From", "Alice <alice@example.org>  ", "Content-Type", "text/plain"));
	ok(!policy_inner_fields(&ent, &outer, why, sizeof why), "the same From (RFC 7508 style)");
	msg_header_free(&ent);
	header(&ent, H("From", "CEO <ceo@example.org>", "Subject", "wire", "Subject", "more",
	    "Content-Type", "text/plain", "X-New", "x"));
	ok(policy_inner_fields(&ent, &outer, why, sizeof why) && strcmp(why, "From, Subject, X-New")
	    == 0, "differing fields named once each: %s", why);
	msg_header_free(&ent);
	msg_header_free(&outer);
#undef H
}

static void
result(struct cms_result *r, enum cms_verdict v, const char *reason)
{
	memset(r, 0, sizeof *r);
	r->verdict = v;
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	r->signer = X509_new();
	r->signer_addrs = calloc(2, sizeof *r->signer_addrs);
	r->signer_addrs[0] = strdup("alice@example.org");
	r->econtent_type = NID_pkcs7_data;
}

static void
test_apply(void)
{
	struct msg_header h, fwd;
	struct policy_facts f;
	struct cms_result r;
	struct ar_decrypt d;
	struct err e;

	msg_header_init(&h);
	msg_header_add(&h, "From", "Carol <carol@example.org>", &e);
	msg_header_init(&fwd);
	msg_header_add(&fwd, "From", "alice@example.org", &e);
	memset(&f, 0, sizeof f);
	f.outer = f.author = &h;
	f.now = 1800000000;

	result(&r, CMS_V_PASS, "good signature by alice@example.org");
	policy_apply(&f, &r);
	ok(r.verdict == CMS_V_POLICY && strcmp(r.identifier, "alice@example.org") == 0,
	    "From mismatch: policy, the identifier still the signer's: %s", r.reason);
	cms_result_free(&r);

	result(&r, CMS_V_FAIL, "message digest mismatch");
	policy_apply(&f, &r);
	ok(r.verdict == CMS_V_FAIL && strcmp(r.reason, "message digest mismatch") == 0,
	    "a failure keeps its reason");
	cms_result_free(&r);

	f.author = &fwd;
	f.part = "2.1";
	f.forwarded = 1;
	result(&r, CMS_V_PASS, "x");
	policy_apply(&f, &r);
	is_str(r.reason, "only the message forwarded in part 2.1 is signed (good signature by "
	    "alice@example.org); the message around it (From: Carol <carol@example.org>) is not",
	    "forwarded: policy");
	ok(r.verdict == CMS_V_POLICY, "... verdict policy");
	cms_result_free(&r);

	f.author = &h;
	f.part = "1";
	f.forwarded = 0;
	result(&r, CMS_V_FAIL, "message digest mismatch");
	policy_apply(&f, &r);
	is_str(r.reason, "part 1: message digest mismatch", "a failing part is named");
	cms_result_free(&r);

	f.part = NULL;
	f.author = &fwd;
	f.outer = &fwd;
	result(&r, CMS_V_PASS, "x");
	r.signing_time = f.now + 3600;
	policy_apply(&f, &r);
	ok(r.verdict == CMS_V_POLICY && strstr(r.reason, "in the future") != NULL,
	    "a future signing time wins over a good From: %s", r.reason);
	cms_result_free(&r);

	result(&r, CMS_V_PASS, "x");
	snprintf(r.enc_note, sizeof r.enc_note, "it does not verify (bad signature)");
	policy_apply(&f, &r);
	is_str(r.reason, "good signature by alice@example.org; its encryption certificate was "
	    "ignored: it does not verify (bad signature)", "an ignored encryption certificate is "
	    "told, the pass stays");
	ok(r.verdict == CMS_V_PASS, "... pass");
	cms_result_free(&r);

	/* the decryption record */
	memset(&d, 0, sizeof d);
	f.dec = &d;
	d.result = AR_DEC_DECRYPTED;
	snprintf(d.cipher, sizeof d.cipher, "aes-128-gcm");
	d.aead = 1;
	result(&r, CMS_V_PASS, "x");
	policy_apply(&f, &r);
	is_str(r.reason, "decrypted (aes-128-gcm, authenticated encryption); good signature by "
	    "alice@example.org", "AEAD and a pass");
	cms_result_free(&r);
	d.aead = 0;
	snprintf(d.cipher, sizeof d.cipher, "aes-256-cbc");
	memset(&r, 0, sizeof r);
	r.verdict = CMS_V_NONE;
	policy_apply(&f, &r);
	ok(r.verdict == CMS_V_NONE && strstr(r.reason, "not signed, so it may have been altered")
	    != NULL, "CBC without a signature inside: %s", r.reason);
	cms_result_free(&r);
	result(&r, CMS_V_FAIL, "message digest mismatch");
	policy_apply(&f, &r);
	ok(r.verdict == CMS_V_FAIL && strstr(r.reason, "may have been altered): message digest")
	    != NULL, "CBC and a bad signature inside: %s", r.reason);
	cms_result_free(&r);
	d.result = AR_DEC_FAILED;
	snprintf(d.reason, sizeof d.reason, "not encrypted for this key");
	memset(&r, 0, sizeof r);
	r.verdict = CMS_V_NONE;
	policy_apply(&f, &r);
	ok(r.verdict == CMS_V_PERMERROR && strcmp(r.reason, "the message could not be decrypted: "
	    "not encrypted for this key") == 0, "a failed decryption is permerror: %s", r.reason);
	cms_result_free(&r);
	msg_header_free(&h);
	msg_header_free(&fwd);
}

int
main(void)
{
	test_content_type();
	test_signing_time();
	test_from();
	test_name_spoof();
	test_inner_fields();
	test_apply();
	return tap_done();
}
