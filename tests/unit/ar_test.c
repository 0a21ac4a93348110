/* ar_test.c — the authserv-id as RFC 8601 §2.2 reads it (CFWS, quoted-string), removal of
 * forged fields, the Secmail-Decryption record both ways, and the printable escaping that
 * every message quoting the input goes through (buf_add_printable). */
#include <stdlib.h>
#include <string.h>

#include "ar.h"
#include "buf.h"
#include "msg.h"
#include "tap.h"

static void
test_authserv(void)
{
	static const struct { const char *value; int claims; } cases[] = {
		{ "mx.example.org; smime=pass", 1 },
		{ "MX.Example.ORG; smime=pass", 1 },
		{ "  mx.example.org ; smime=pass", 1 },
		{ "mx.example.org. ; smime=pass", 1 },
		{ "(comment) mx.example.org; smime=pass", 1 },
		{ "(nested (comment) \\) here)mx.example.org; smime=pass", 1 },
		{ "\r\n (folded)\r\n mx.example.org; smime=pass", 1 },
		{ "\"mx.example.org\"; smime=pass", 1 },
		{ "\"mx.exa\\mple.org\"; smime=pass", 1 },
		{ "mx.example.org 1; smime=pass", 1 },		/* authres-version */
		{ "mx.example.org(c); none", 1 },
		{ "mx.example.org.evil; smime=pass", 0 },
		{ "evil.mx.example.org; smime=pass", 0 },
		{ "\"mx.example.org; smime=pass", 0 },		/* unclosed quote */
		{ "; smime=pass", 0 },
		{ "", 0 },
		{ "(mx.example.org) other.example; smime=pass", 0 },
		/* RFC 2047, which readers decode for display */
		{ "=?us-ascii?q?mx.example.org?=; smime=pass", 1 },
		{ "=?utf-8?b?bXguZXhhbXBsZS5vcmc=?= ; smime=pass", 1 },
		{ "\"=?us-ascii?q?MX.example.org?=\"; smime=pass", 1 },
		{ "(=?us-ascii?q?x?=) mx.example.org; smime=pass", 1 },
		{ "=?us-ascii?q?other.example?=; smime=pass", 0 },
		{ "=?us-ascii?q?mx.example.org.evil?=; smime=pass", 0 },
	};
	size_t i;
	char id[64];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ok(ar_claims(cases[i].value, "mx.example.org") == cases[i].claims,
		    "ar_claims case %zu: %s", i, cases[i].claims ? "claims it" : "does not");
	ok(ar_authserv("\"a b\\\"c\" ; x", id, sizeof id) == 0 && strcmp(id, "a b\"c") == 0,
	    "a quoted authserv-id is unquoted");
	ok(ar_authserv("averyveryverylongname", id, 6) == 0 && strcmp(id, "avery") == 0,
	    "a long authserv-id is truncated, not overflowed");
}

static void
test_strip(void)
{
	struct msg_header h;
	struct err e;
	size_t n;

	msg_header_init(&h);
	msg_header_add(&h, "Authentication-Results", "(x) mx.example.org; smime=pass", &e);
	msg_header_add(&h, "From", "a@example.org", &e);
	msg_header_add(&h, "authentication-results", "\"mx.example.org\"; smime=pass", &e);
	msg_header_add(&h, "Authentication-Results", "other.example; smime=pass", &e);
	msg_header_add(&h, "Secmail-Decryption", "mx.example.org; decrypted cipher=aes-256-gcm "
	    "integrity=aead", &e);
	msg_header_add(&h, "Subject", "mx.example.org; smime=pass", &e);
	n = ar_strip(&h, "mx.example.org");
	ok(n == 3, "three forged fields removed (got %zu)", n);
	ok(h.n == 3 && strcmp(h.f[0].name, "From") == 0 && strcmp(h.f[1].value,
	    "other.example; smime=pass") == 0 && strcmp(h.f[2].name, "Subject") == 0,
	    "another service's field and other fields are kept, in order");
	msg_header_free(&h);
}

static void
test_record(void)
{
	struct ar_decrypt d, p;
	struct err e;
	char *v;

	memset(&d, 0, sizeof d);
	d.result = AR_DEC_DECRYPTED;
	strcpy(d.cipher, "aes-256-gcm");
	d.aead = 1;
	v = ar_decrypt_value("mx.example.org", &d, &e);
	is_str(v, "mx.example.org; decrypted cipher=aes-256-gcm integrity=aead",
	    "an AEAD record");
	ok(v && ar_decrypt_parse(v, &p) == 0 && p.result == AR_DEC_DECRYPTED && p.aead
	    && strcmp(p.cipher, "aes-256-gcm") == 0, "an AEAD record reads back");
	free(v);

	strcpy(d.cipher, "aes-128-cbc");
	d.aead = 0;
	v = ar_decrypt_value("mx.example.org", &d, &e);
	ok(v && strstr(v, "integrity=none (CBC") != NULL, "a CBC record says it is not "
	    "integrity-protected");
	ok(v && ar_decrypt_parse(v, &p) == 0 && !p.aead && strcmp(p.cipher, "aes-128-cbc") == 0,
	    "a CBC record reads back");
	free(v);

	memset(&d, 0, sizeof d);
	d.result = AR_DEC_FAILED;
	strcpy(d.reason, "no \"RecipientInfo\" for us\\ here\n");
	v = ar_decrypt_value("mx.example.org", &d, &e);
	ok(v && ar_decrypt_parse(v, &p) == 0 && p.result == AR_DEC_FAILED
	    && strcmp(p.reason, "no \"RecipientInfo\" for us\\ here ") == 0,
	    "a failure record quotes its reason and reads back");
	free(v);

	ok(ar_decrypt_parse("mx; decrypted cipher=aes-256-gcm", &p) != 0,
	    "a record without integrity is malformed");
	ok(ar_decrypt_parse("mx; decrypted cipher=aes-256-gcm integrity=maybe", &p) != 0,
	    "an unknown integrity value is malformed");
	ok(ar_decrypt_parse("mx; decrypted cipher=aes;x integrity=aead", &p) != 0,
	    "a cipher name with odd characters is malformed");
	ok(ar_decrypt_parse("mx; smime=pass", &p) != 0, "an A-R value is not a record");
	ok(ar_decrypt_parse("mx; failed reason=\"unterminated", &p) != 0,
	    "an unterminated reason is malformed");
}

static void
test_printable(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain text", "plain text" },
		{ "a\x1b[31mred", "a\\x1b[31mred" },
		{ "tab\there\r\n", "tab\\x09here\\x0d\\x0a" },
		{ "del\x7f", "del\\x7f" },
		{ "back\\slash", "back\\\\slash" },
		{ "\xc3\xbc" "ber", "\xc3\xbc" "ber" },			/* ü kept */
		{ "\xe2\x80\xaetxt.exe", "\\u202etxt.exe" },		/* RLO */
		{ "\xe2\x81\xa6x", "\\u2066x" },			/* LRI */
		{ "\xc2\x9b" "31m", "\\u009b31m" },			/* C1 CSI */
		{ "\xff\xfe", "\\xff\\xfe" },				/* not UTF-8 */
		{ "\xe2\x80", "\\xe2\\x80" },				/* truncated */
		{ "\xe2\x80\xa8", "\\u2028" },				/* line separator */
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;

		buf_add_printable(&b, cases[i].in, strlen(cases[i].in));
		is_str(b.p ? b.p : "", cases[i].out, "printable case %zu", i);
		buf_free(&b);
	}
}

int
main(void)
{
	test_authserv();
	test_strip();
	test_record();
	test_printable();
	return tap_done();
}
