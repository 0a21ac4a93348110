/* sasl.c — SASL client mechanisms (see sasl.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "b64.h"
#include "sasl.h"

/* RFC 5802 §5.1 saslname: "," and "=" escaped as "=2C" and "=3D"; no control octets. */
static int
saslname(const char *user, char *out, size_t cap)
{
	size_t k = 0;

	for (; *user; user++) {
		const char *esc = *user == ',' ? "=2C" : *user == '=' ? "=3D" : NULL;
		size_t n = esc ? 3 : 1;

		if ((unsigned char)*user < 0x20 || *user == 0x7f || k + n >= cap)
			return -1;
		memcpy(out + k, esc ? esc : user, n);
		k += n;
	}
	out[k] = '\0';
	return 0;
}

static int
hmac256(const unsigned char *key, size_t kl, const void *msg, size_t ml, unsigned char *out,
    struct err *e)
{
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), key, (int)kl, msg, ml, out, &n) == NULL || n != 32)
		return err_ssl(e, EX_SOFTWARE, "HMAC-SHA-256");
	return 0;
}

/* The value of attribute a in a SCRAM message ("r=...,s=...,i=..."), or -1. */
static int
scram_attr(const char *m, char a, char *out, size_t cap)
{
	const char *p = m;

	for (;;) {
		if (p[0] == a && p[1] == '=') {
			size_t n = strcspn(p + 2, ",");

			if (n >= cap)
				return -1;
			memcpy(out, p + 2, n);
			out[n] = '\0';
			return 0;
		}
		if ((p = strchr(p, ',')) == NULL)
			return -1;
		p++;
	}
}

/* A decimal number of at most 9 digits, or -1. */
static long long
small_number(const char *p)
{
	long long v = 0;
	size_t i;

	if (*p == '\0' || strlen(p) > 9)
		return -1;
	for (i = 0; p[i]; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

int
sasl_scram_first(struct sasl_scram *x, const char *user, const char *nonce,
    const unsigned char *cbind, int server_plus, char *out, size_t cap, struct err *e)
{
	char name[600];

	memset(x, 0, sizeof *x);
	x->plus = cbind != NULL;
	x->mech = x->plus ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-256";
	if (saslname(user, name, sizeof name) != 0)
		return err_set(e, EX_CONFIG, "AUTH %s: the user name is too long or has control "
		    "characters", x->mech);
	if (nonce == NULL) {
		unsigned char r[24];

		if (RAND_bytes(r, sizeof r) != 1)
			return err_ssl(e, EX_SOFTWARE, "random nonce");
		x->nonce[b64_encode(r, sizeof r, x->nonce, 0)] = '\0';
	} else if (snprintf(x->nonce, sizeof x->nonce, "%s", nonce) >= (int)sizeof x->nonce) {
		return err_set(e, EX_SOFTWARE, "nonce too long");
	}
	if (x->plus) {
		memcpy(x->cbind, cbind, SASL_CBIND_LEN);
		snprintf(x->gs2, sizeof x->gs2, "p=tls-exporter,,");
	} else {
		/* RFC 5802 §6: "y" says "I could bind, but you offered no PLUS"; when the server
		 * did offer it and we still cannot bind (no usable TLS exporter), "n" is true. */
		(void)server_plus;
		snprintf(x->gs2, sizeof x->gs2, "n,,");
	}
	if ((size_t)snprintf(x->first_bare, sizeof x->first_bare, "n=%s,r=%s", name, x->nonce) >=
	    sizeof x->first_bare || (size_t)snprintf(out, cap, "%s%s", x->gs2, x->first_bare) >= cap)
		return err_set(e, EX_SOFTWARE, "AUTH %s: message too long", x->mech);
	return 0;
}

int
sasl_scram_final(struct sasl_scram *x, const char *srv, const char *pw, char *out, size_t cap,
    struct err *e)
{
	unsigned char salt[256], salted[32], ckey[32], skey[32], stored[32], csig[32], proof[32];
	unsigned char cb[sizeof x->gs2 + SASL_CBIND_LEN];
	char r[400], sb64[400], it[16], without[1000], msg[2600], c64[200], p64[64];
	long long sl, iter;
	size_t i, cbl;
	int rc = -1;

	if (scram_attr(srv, 'r', r, sizeof r) != 0 || scram_attr(srv, 's', sb64, sizeof sb64) != 0 ||
	    scram_attr(srv, 'i', it, sizeof it) != 0 || srv[0] == 'm')
		return err_set(e, EX_PROTOCOL, "AUTH %s: malformed server-first-message", x->mech);
	if (strncmp(r, x->nonce, strlen(x->nonce)) != 0 || strlen(r) == strlen(x->nonce))
		return err_set(e, EX_PROTOCOL, "AUTH %s: server nonce does not extend ours", x->mech);
	iter = small_number(it);
	if (iter < SASL_SCRAM_MIN_ITER || iter > SASL_SCRAM_MAX_ITER)
		return err_set(e, EX_PROTOCOL, "AUTH %s: iteration count %s refused", x->mech, it);
	if (strlen(sb64) / 4 * 3 > sizeof salt ||
	    (sl = b64_decode(sb64, strlen(sb64), salt, 0)) <= 0)
		return err_set(e, EX_PROTOCOL, "AUTH %s: bad salt", x->mech);
	/* c= is the GS2 header and, with PLUS, the binding data (RFC 5802 §7 cbind-input). */
	cbl = strlen(x->gs2);
	memcpy(cb, x->gs2, cbl);
	if (x->plus) {
		memcpy(cb + cbl, x->cbind, SASL_CBIND_LEN);
		cbl += SASL_CBIND_LEN;
	}
	c64[b64_encode(cb, cbl, c64, 0)] = '\0';
	snprintf(without, sizeof without, "c=%s,r=%s", c64, r);
	if ((size_t)snprintf(msg, sizeof msg, "%s,%s,%s", x->first_bare, srv, without) >= sizeof msg)
		return err_set(e, EX_PROTOCOL, "AUTH %s: messages too long", x->mech);
	if (PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)sl, (int)iter, EVP_sha256(),
	    sizeof salted, salted) != 1) {
		err_ssl(e, EX_SOFTWARE, "PBKDF2");
		goto out;
	}
	if (hmac256(salted, 32, "Client Key", 10, ckey, e) != 0)
		goto out;
	if (EVP_Digest(ckey, 32, stored, NULL, EVP_sha256(), NULL) != 1) {
		err_ssl(e, EX_SOFTWARE, "SHA-256");
		goto out;
	}
	if (hmac256(stored, 32, msg, strlen(msg), csig, e) != 0 ||
	    hmac256(salted, 32, "Server Key", 10, skey, e) != 0 ||
	    hmac256(skey, 32, msg, strlen(msg), x->server_sig, e) != 0)
		goto out;
	for (i = 0; i < 32; i++)
		proof[i] = ckey[i] ^ csig[i];
	p64[b64_encode(proof, 32, p64, 0)] = '\0';
	if ((size_t)snprintf(out, cap, "%s,p=%s", without, p64) >= cap) {
		err_set(e, EX_PROTOCOL, "AUTH %s: message too long", x->mech);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(salted, sizeof salted);
	OPENSSL_cleanse(ckey, sizeof ckey);
	OPENSSL_cleanse(stored, sizeof stored);
	OPENSSL_cleanse(csig, sizeof csig);
	OPENSSL_cleanse(proof, sizeof proof);
	OPENSSL_cleanse(skey, sizeof skey);
	OPENSSL_cleanse(p64, sizeof p64);
	return rc;
}

int
sasl_scram_verify(const struct sasl_scram *x, const char *srv, struct err *e)
{
	char v64[100], why[200];
	unsigned char v[64];

	if (scram_attr(srv, 'e', why, sizeof why) == 0 && srv[0] == 'e')
		return err_set(e, EX_NOPERM, "AUTH %s: the server says: %s", x->mech, why);
	if (scram_attr(srv, 'v', v64, sizeof v64) != 0 || strlen(v64) != 44 ||
	    b64_decode(v64, strlen(v64), v, 0) != 32 || CRYPTO_memcmp(v, x->server_sig, 32) != 0)
		return err_set(e, EX_PROTOCOL, "AUTH %s: the server's signature is wrong (it does "
		    "not know the password%s)", x->mech, x->plus ? ", or the TLS connection is "
		    "not the one it sees" : "");
	return 0;
}

void
sasl_scram_clear(struct sasl_scram *x)
{
	OPENSSL_cleanse(x, sizeof *x);
}

/* RFC 6750 §2.1 b64token: ALPHA / DIGIT / "-" "." "_" "~" "+" "/", then "=" padding. */
static int
b64token(const char *t)
{
	size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

	if (n == 0)
		return 0;
	return t[n + strspn(t + n, "=")] == '\0';
}

static int
no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* printf into memory of the exact size, so no stray copy of the token is left behind by a
 * growing buffer (the caller wipes the one returned). */
static char *
exact(size_t *len, struct err *e, const char *fmt, ...) ERR_PRINTF(3, 4);
static char *
exact(size_t *len, struct err *e, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = malloc((size_t)n + 1)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len = (size_t)n;
	return p;
}

char *
sasl_xoauth2(const char *user, const char *token, size_t *len, struct err *e)
{
	if (!b64token(token)) {
		err_set(e, EX_CONFIG, "AUTH XOAUTH2: the access token is not an RFC 6750 bearer "
		    "token (one line of letters, digits and -._~+/)");
		return NULL;
	}
	if (!no_controls(user)) {
		err_set(e, EX_CONFIG, "AUTH XOAUTH2: control character in the user name");
		return NULL;
	}
	return exact(len, e, "user=%s\001auth=Bearer %s\001\001", user, token);
}

char *
sasl_oauthbearer(const char *user, const char *host, const char *port, const char *token,
    size_t *len, struct err *e)
{
	char name[600];

	if (!b64token(token)) {
		err_set(e, EX_CONFIG, "AUTH OAUTHBEARER: the access token is not an RFC 6750 bearer "
		    "token (one line of letters, digits and -._~+/)");
		return NULL;
	}
	if (saslname(user, name, sizeof name) != 0 || !no_controls(host) || !no_controls(port)) {
		err_set(e, EX_CONFIG, "AUTH OAUTHBEARER: the user name is too long or has control "
		    "characters");
		return NULL;
	}
	/* RFC 7628 §3.1: gs2-header (no channel binding, authzid = the user), then kvpairs */
	return exact(len, e, "n,a=%s,\001host=%s\001port=%s\001auth=Bearer %s\001\001", name, host,
	    port, token);
}
