/* envelope_test.c — lib/envelope: cipher choice (RFC 8551 §2.7), recipient certificate
 * checks, and round trips through every cipher with failures that must write nothing:
 * tampered tag, truncation at many offsets, the wrong key, 1-byte reads, list re-wrapping. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "envelope.h"
#include "tap.h"

struct mbuf {
	unsigned char *p;
	size_t len, cap;
};

static int
mbuf_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct mbuf *b = ctx;

	(void)e;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

struct stepper {
	const unsigned char *p;
	size_t len, pos, step;
};

static ssize_t
step_read(void *ctx, void *p, size_t n, struct err *e)
{
	struct stepper *s = ctx;

	(void)e;
	if (n > s->step)
		n = s->step;
	if (n > s->len - s->pos)
		n = s->len - s->pos;
	if (n > 0)
		memcpy(p, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

/* A self-signed certificate: valid from `from` to `to` days from now, with keyUsage ku
 * (0: none) and, if xku, an extended key usage of serverAuth only. */
static X509 *
mkcert(EVP_PKEY *k, const char *cn, long from, long to, const char *ku, int xku)
{
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(rand() & 0x7fffffff));
	X509_gmtime_adj(X509_getm_notBefore(x), from * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), to * 86400);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (ku != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, ku);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (xku) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "serverAuth");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, k, EVP_sha256()) <= 0)
		abort();
	return x;
}

static int
enc(STACK_OF(X509) *rs, enum env_cipher c, int flags, const unsigned char *pt, size_t n,
    struct mbuf *out)
{
	struct sink s = { mbuf_write, out };
	struct env_enc *x;
	struct err e;
	size_t i, step;

	out->len = 0;
	if ((x = env_enc_new(rs, c, flags, &s, &e)) == NULL)
		return -1;
	for (i = 0; i < n; i += step) {	/* uneven writes */
		step = (i % 7 + 1) * 1000;
		if (step > n - i)
			step = n - i;
		if (env_enc_write(x, pt + i, step, &e) != 0)
			return -1;
	}
	if (env_enc_final(x, &e) != 0)
		return -1;
	env_enc_free(x);
	return 0;
}

static int
dec(const struct mbuf *in, size_t step, EVP_PKEY *k, X509 *c, struct mbuf *out,
    struct env_info *info, struct err *e)
{
	struct stepper st = { in->p, in->len, 0, step };
	struct ber_src src = { step_read, &st };
	struct sink s = { mbuf_write, out };

	out->len = 0;
	return env_decrypt(&src, k, c, &s, info, e);
}

static void
test_choose(void)
{
	static const enum env_cipher gcm_first[] = { ENV_AES128_GCM, ENV_AES256_GCM,
	    ENV_CIPHER_NONE };
	static const enum env_cipher a[] = { ENV_AES256_GCM, ENV_AES256_CBC, ENV_AES128_CBC,
	    ENV_CIPHER_NONE };
	static const enum env_cipher b[] = { ENV_AES128_CBC, ENV_AES256_CBC, ENV_CIPHER_NONE };
	static const enum env_cipher weak[] = { ENV_DES3_CBC, ENV_AES128_CBC, ENV_CIPHER_NONE };
	static const enum env_cipher g[] = { ENV_AES256_GCM, ENV_AES128_CBC, ENV_CIPHER_NONE };
	static const enum env_cipher onlygcm[] = { ENV_AES128_GCM, ENV_CIPHER_NONE };
	static const enum env_cipher onlycbc[] = { ENV_AES256_CBC, ENV_CIPHER_NONE };
	const enum env_cipher *caps[3];
	enum env_cipher prev[3] = { ENV_CIPHER_NONE, ENV_CIPHER_NONE, ENV_CIPHER_NONE };

	ok(env_cipher_choose(NULL, NULL, 2) == ENV_AES256_CBC, "choose: nothing known gives AES-256-CBC");
	caps[0] = gcm_first;
	ok(env_cipher_choose(caps, NULL, 1) == ENV_AES128_GCM,
	    "choose: one recipient's first preference is used, in their order");
	caps[0] = a, caps[1] = b;
	ok(env_cipher_choose(caps, NULL, 2) == ENV_AES256_CBC,
	    "choose: two recipients get the first of the first list that both announce");
	caps[0] = g, caps[1] = NULL;
	ok(env_cipher_choose(caps, prev, 2) == ENV_AES128_CBC,
	    "choose: a recipient with nothing known restricts the choice to CBC");
	caps[0] = weak;
	ok(env_cipher_choose(caps, NULL, 1) == ENV_AES128_CBC, "choose: weak ciphers are skipped");
	caps[0] = onlygcm, caps[1] = onlycbc;
	ok(env_cipher_choose(caps, NULL, 2) == ENV_AES256_CBC,
	    "choose: nothing in common falls back to the default");
	caps[0] = NULL, caps[1] = NULL;
	prev[0] = ENV_AES128_GCM;
	ok(env_cipher_choose(caps, prev, 1) == ENV_AES128_GCM, "choose: previous use counts");
	/* issue 9 item 2: history never below the signed capabilities */
	{
		static const enum env_cipher gcm_cbc[] = { ENV_AES256_GCM, ENV_AES256_CBC,
		    ENV_CIPHER_NONE };
		static const enum env_cipher cbc_gcm[] = { ENV_AES256_CBC, ENV_AES128_GCM,
		    ENV_CIPHER_NONE };
		static const enum env_cipher gcm128_cbc[] = { ENV_AES128_GCM, ENV_AES256_CBC,
		    ENV_CIPHER_NONE };

		caps[0] = gcm_cbc;
		prev[0] = ENV_AES128_CBC;
		ok(env_cipher_choose(caps, prev, 1) == ENV_AES256_GCM,
		    "choose: a received AES-128-CBC never lowers a recipient who announced AES-256-GCM");
		caps[0] = NULL;
		prev[0] = ENV_DES3_CBC;
		ok(env_cipher_choose(caps, prev, 1) == ENV_AES256_CBC,
		    "choose: a weak cipher in the history is never used");
		/* issue 9 item 10: steer towards authenticated encryption */
		caps[0] = cbc_gcm;
		prev[0] = ENV_CIPHER_NONE;
		ok(env_cipher_choose(caps, prev, 1) == ENV_AES128_GCM,
		    "choose: AES-GCM is preferred when the recipient announces it, even after CBC");
		caps[0] = cbc_gcm, caps[1] = gcm128_cbc;
		ok(env_cipher_choose(caps, NULL, 2) == ENV_AES128_GCM,
		    "choose: the AEAD cipher both recipients announce wins over a common CBC one");
		caps[0] = cbc_gcm, caps[1] = NULL;
		ok(env_cipher_choose(caps, NULL, 2) == ENV_AES256_CBC,
		    "choose: ... but not when a recipient's abilities are unknown");
		caps[0] = caps[1] = NULL;
		prev[0] = ENV_CIPHER_NONE;
	}
	ok(env_cipher_parse("AES-256-GCM") == ENV_AES256_GCM && env_cipher_parse("rc4") ==
	    ENV_CIPHER_NONE && env_cipher_is_weak(env_cipher_parse("3des")),
	    "cipher names parse, 3des is weak, unknown names are refused");
	ok(env_cipher_from_nid(NID_aes_128_cbc) == ENV_AES128_CBC
	    && env_cipher_from_nid(NID_rc2_cbc) == ENV_CIPHER_NONE, "cipher by NID");
}

int
main(void)
{
	enum env_cipher cs[] = { ENV_AES256_GCM, ENV_AES128_GCM, ENV_AES256_CBC, ENV_AES128_CBC };
	EVP_PKEY *rk = EVP_RSA_gen(2048), *rk2 = EVP_RSA_gen(2048);
	EVP_PKEY *ek = EVP_EC_gen("P-256");
	X509 *rc = mkcert(rk, "rsa", -1, 30, "keyEncipherment", 0);
	X509 *rc2 = mkcert(rk2, "rsa2", -1, 30, NULL, 0);
	X509 *ec = mkcert(ek, "ec", -1, 30, "keyAgreement", 0);
	X509 *old = mkcert(rk, "old", -30, -1, NULL, 0);
	X509 *signonly = mkcert(rk, "sign", -1, 30, "digitalSignature", 0);
	X509 *server = mkcert(rk, "srv", -1, 30, NULL, 1);
	STACK_OF(X509) *rs = sk_X509_new_null(), *members = sk_X509_new_null();
	struct mbuf ct = { 0 }, pt = { 0 }, t = { 0 };
	unsigned char *plain;
	struct env_info info;
	struct err e;
	size_t n = 200000, i, off, bad;
	int ci;

	test_choose();
	ok(env_cert_usable(rc, &e) == 0 && env_cert_usable(ec, &e) == 0 &&
	    env_cert_usable(rc2, &e) == 0, "usable: RSA and EC certificates for encryption");
	ok(env_cert_usable(old, &e) != 0 && strstr(e.msg, "expired") != NULL, "usable: expired is refused");
	ok(env_cert_usable(signonly, &e) != 0 && strstr(e.msg, "key encipherment") != NULL,
	    "usable: keyUsage without keyEncipherment is refused");
	ok(env_cert_usable(server, &e) != 0 && strstr(e.msg, "emailProtection") != NULL,
	    "usable: an EKU without emailProtection is refused");

	plain = malloc(n);
	for (i = 0; i < n; i++)
		plain[i] = (unsigned char)(i * 7 + i / 251);
	sk_X509_push(rs, rc);
	sk_X509_push(rs, ec);
	for (ci = 0; ci < 4; ci++) {
		const char *name = env_cipher_name(cs[ci]);

		ok(enc(rs, cs[ci], ci % 2 ? ENV_OAEP : 0, plain, n, &ct) == 0, "%s: encrypts", name);
		ok(dec(&ct, 65536, rk, rc, &pt, &info, &e) == 0 && pt.len == n &&
		    memcmp(pt.p, plain, n) == 0, "%s: RSA recipient decrypts", name);
		ok(info.auth == env_cipher_is_aead(cs[ci]) && info.nrecips == 2,
		    "%s: info says auth=%d and 2 recipients", name, info.auth);
		ok(dec(&ct, 1, ek, ec, &pt, &info, &e) == 0 && pt.len == n &&
		    memcmp(pt.p, plain, n) == 0, "%s: EC recipient decrypts, 1-byte reads", name);
		ok(dec(&ct, 4096, rk, NULL, &pt, &info, &e) == 0 && pt.len == n,
		    "%s: key without certificate tries every RecipientInfo", name);
		ok(dec(&ct, 4096, rk2, rc2, &pt, &info, &e) != 0 && pt.len == 0 &&
		    strstr(e.msg, "not encrypted for this certificate") != NULL,
		    "%s: a certificate not among the recipients: error, nothing written", name);
		/* truncation anywhere: error, nothing written */
		bad = 0;
		for (off = 0; off < ct.len; off += ct.len / 97 + 1) {
			t.p = ct.p, t.len = off;
			if (dec(&t, 65536, rk, rc, &pt, &info, &e) == 0 || pt.len != 0)
				bad++;
		}
		ok(bad == 0, "%s: truncated at 98 offsets: all fail, nothing written", name);
		/* a flipped bit in the middle of the content */
		t.p = malloc(ct.len);
		memcpy(t.p, ct.p, ct.len);
		t.len = ct.len;
		t.p[ct.len / 2] ^= 0x01;
		if (env_cipher_is_aead(cs[ci]))
			ok(dec(&t, 65536, rk, rc, &pt, &info, &e) != 0 && pt.len == 0 &&
			    strstr(e.msg, "authentication failed") != NULL,
			    "%s: tampered content fails authentication, nothing written", name);
		else
			ok(dec(&t, 65536, rk, rc, &pt, &info, &e) != 0 || (pt.len == n &&
			    memcmp(pt.p, plain, n) != 0), "%s: tampered CBC never yields the plaintext", name);
		/* the tag itself altered */
		if (env_cipher_is_aead(cs[ci])) {
			memcpy(t.p, ct.p, ct.len);
			t.p[ct.len - 10] ^= 0x80;	/* inside the mac before the 4 EOCs */
			ok(dec(&t, 65536, rk, rc, &pt, &info, &e) != 0 && pt.len == 0,
			    "%s: altered tag fails, nothing written", name);
		}
		/* issue 9 item 11: the tag is cut to 4 octets (aes-ICVlen still 16): refused.
		 * The envelope ends with the mac and three end-of-contents octet pairs. */
		if (env_cipher_is_aead(cs[ci])) {
			size_t m = ct.len - 6 - 18;

			ok(ct.p[m] == 0x04 && ct.p[m + 1] == 16, "%s: the tag is where expected", name);
			memcpy(t.p, ct.p, m);
			t.p[m] = 0x04, t.p[m + 1] = 4;
			memcpy(t.p + m + 2, ct.p + m + 2, 4);
			memset(t.p + m + 6, 0, 6);
			t.len = m + 12;
			ok(dec(&t, 4096, rk, rc, &pt, &info, &e) != 0 && pt.len == 0
			    && strstr(e.msg, "tag is 4 octets") != NULL,
			    "%s: a 4-octet tag is refused, nothing written: %s", name, e.msg);
			/* the same tag with a long-form length (BER allows it) still checks */
			t.p = realloc(t.p, ct.len + 1);
			memcpy(t.p, ct.p, m);
			t.p[m] = 0x04, t.p[m + 1] = 0x81, t.p[m + 2] = 16;
			memcpy(t.p + m + 3, ct.p + m + 2, ct.len - m - 2);
			t.len = ct.len + 1;
			ok(dec(&t, 4096, rk, rc, &pt, &info, &e) == 0 && pt.len == n,
			    "%s: a tag with a long-form length decrypts", name);
			t.p[t.len - 7] ^= 1;
			ok(dec(&t, 4096, rk, rc, &pt, &info, &e) != 0 && pt.len == 0,
			    "%s: ... and its last octet is checked", name);
			t.len = ct.len;
		}
		free(t.p);
		t.p = NULL;
		/* re-wrap for rc2 */
		{
			struct env_mem m = { ct.p, ct.len, 0 };
			struct ber_src src = env_mem_src(&m);
			struct sink s = { mbuf_write, &t };

			t.len = 0;
			sk_X509_zero(members);
			sk_X509_push(members, rc2);
			ok(env_rewrap(&src, rk, rc, members, 0, &s, &info, &e) == 0,
			    "%s: re-wraps for a member", name);
			ok(dec(&t, 3, rk2, rc2, &pt, &info, &e) == 0 && pt.len == n &&
			    memcmp(pt.p, plain, n) == 0 && info.nrecips == 1,
			    "%s: the member decrypts the re-wrapped message", name);
			ok(dec(&t, 65536, rk, rc, &pt, &info, &e) != 0 && pt.len == 0,
			    "%s: the list key no longer does", name);
			/* an EC list key (key agreement) re-wrapping for RSA and EC members */
			m.pos = 0;
			t.len = 0;
			sk_X509_push(members, ec);
			ok(env_rewrap(&src, ek, ec, members, ENV_OAEP, &s, &info, &e) == 0
			    && dec(&t, 777, rk2, rc2, &pt, &info, &e) == 0 && pt.len == n
			    && memcmp(pt.p, plain, n) == 0 && info.nrecips == 2,
			    "%s: an EC list key re-wraps for RSA (OAEP) and EC members", name);
			ok(dec(&t, 4096, ek, ec, &pt, &info, &e) == 0 && pt.len == n,
			    "%s: the EC member decrypts", name);
			free(t.p);
			t.p = NULL;
			t.cap = 0;
		}
	}
	{
		struct mbuf garbage = { (unsigned char *)"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02", 13, 0 };

		ok(dec(&garbage, 10, rk, rc, &pt, &info, &e) != 0 && strstr(e.msg, "signed-data") != NULL
		    && info.content == ENV_CT_SIGNED,
		    "signed-data is recognised and refused with a pointer to smime-verify");
		{
			struct env_mem m = { garbage.p, garbage.len, 0 };
			struct ber_src src = env_mem_src(&m);

			ok(env_content_type(&src) == ENV_CT_SIGNED, "env_content_type: signed-data");
			m.pos = 0, m.len = 5;
			ok(env_content_type(&src) == ENV_CT_UNKNOWN, "env_content_type: cut short");
			m.p = ct.p, m.len = 40, m.pos = 0;
			ok(env_content_type(&src) == ENV_CT_ENVELOPED, "env_content_type: enveloped-data");
		}
		garbage.p = (unsigned char *)"\x04\x01\x00";
		garbage.len = 3;
		ok(dec(&garbage, 10, rk, rc, &pt, &info, &e) != 0 && strstr(e.msg, "malformed") != NULL,
		    "a non-SEQUENCE is malformed");
	}
	{
		static const unsigned char big[] = { 0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
		    0xf7, 0x0d, 0x01, 0x07, 0x03, 0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x00, 0x31,
		    0x84, 0x00, 0x20, 0x00, 0x00 };
		struct mbuf m = { (unsigned char *)big, sizeof big, 0 };

		ok(dec(&m, 4096, rk, rc, &pt, &info, &e) != 0 && strstr(e.msg, "too large") != NULL,
		    "an oversized RecipientInfos is refused before it is read: %s", e.msg);
		/* a whole valid envelope with one byte after it */
		ok(enc(rs, ENV_AES128_CBC, 0, plain, 100, &ct) == 0, "small envelope");
		ct.p = realloc(ct.p, ct.len + 1);
		ct.p[ct.len++] = 0x00;
		ok(dec(&ct, 4096, rk, rc, &pt, &info, &e) != 0 && pt.len == 0
		    && strstr(e.msg, "data after the end") != NULL, "trailing data is refused");
	}
	free(plain);
	free(ct.p);
	free(pt.p);
	sk_X509_free(rs);
	sk_X509_free(members);
	X509_free(rc), X509_free(rc2), X509_free(ec), X509_free(old), X509_free(signonly),
	    X509_free(server);
	EVP_PKEY_free(rk), EVP_PKEY_free(rk2), EVP_PKEY_free(ek);
	return tap_done();
}
