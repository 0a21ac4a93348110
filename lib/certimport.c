/* certimport.c — checking certificates and signed messages before they enter the certificate
 * store (smime-certs import, pin). Nothing goes in unverified: a certificate chains to a
 * trust anchor, a message's signature passes smime-verify's policy, or the user pins it. */
#include "certimport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "buf.h"
#include "io.h"
#include "keys.h"
#include "smime.h"

/* ---- describing a certificate ---- */

void
certimport_fingerprint(X509 *x, char out[96])
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	out[0] = '\0';
	if (!X509_digest(x, EVP_sha256(), md, &len) || len != 32) {
		ERR_clear_error();
		snprintf(out, 96, "?");
		return;
	}
	for (i = 0; i < len; i++) {
		out[3 * i] = hex[md[i] >> 4];
		out[3 * i + 1] = hex[md[i] & 15];
		out[3 * i + 2] = i + 1 < len ? ':' : '\0';
	}
}

void
certimport_keytype(X509 *x, char *out, size_t n)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	char group[64];
	size_t glen = 0;

	if (pk == NULL) {
		ERR_clear_error();
		snprintf(out, n, "unknown");
	} else if (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) {
		snprintf(out, n, "rsa%d", EVP_PKEY_get_bits(pk));
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof group, &glen) != 1)
			snprintf(group, sizeof group, "%d", EVP_PKEY_get_bits(pk));
		snprintf(out, n, "ec-%s", group);
	} else {
		snprintf(out, n, "%s", EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk)
		    : "unknown");
		for (glen = 0; out[glen]; glen++)
			if (out[glen] >= 'A' && out[glen] <= 'Z')
				out[glen] = (char)(out[glen] - 'A' + 'a');
	}
	ERR_clear_error();
}

void
certimport_name(const X509_NAME *nm, char *out, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long len;
	size_t i;

	snprintf(out, n, "?");
	if (b == NULL)
		return;
	/* RFC 2253 with ASN1_STRFLGS_ESC_CTRL | ESC_MSB: only printable ASCII comes out. */
	if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0
	    && (len = BIO_get_mem_data(b, &p)) >= 0)
		snprintf(out, n, "%.*s", (int)len, p);
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
	BIO_free(b);
	ERR_clear_error();
}

/* ---- reading what a file holds ---- */

enum kind { K_CERTS, K_MESSAGE };

/* The file as a descriptor we can read twice: standard input is spooled. */
static int
open_input(const char *path, struct err *e)
{
	unsigned char buf[65536];
	ssize_t r;
	int fd;

	if (strcmp(path, "-") != 0) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return err_sys(e, EX_NOINPUT, "cannot open %s", path);
		return fd;
	}
	if ((fd = io_spool(e)) < 0)
		return -1;
	while ((r = io_read(STDIN_FILENO, buf, sizeof buf)) > 0)
		if (io_write_all(fd, buf, (size_t)r) != 0) {
			close(fd);
			return err_sys(e, EX_IOERR, "cannot write a temporary file");
		}
	if (r < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return err_sys(e, EX_IOERR, "cannot read standard input");
	}
	return fd;
}

/* Certificates (PEM CERTIFICATE, PEM PKCS7/CMS, DER certificate, DER CMS) or a message? */
static enum kind
classify(int fd)
{
	unsigned char head[64];
	ssize_t r = pread(fd, head, sizeof head, 0);

	if (r >= 2 && head[0] == 0x30)
		return K_CERTS;
	if (r >= 11 && memcmp(head, "-----BEGIN ", 11) == 0)
		return K_CERTS;
	return K_MESSAGE;
}

static int
push_all(STACK_OF(X509) *to, STACK_OF(X509) *from)
{
	while (sk_X509_num(from) > 0) {
		X509 *x = sk_X509_shift(from);

		if (!sk_X509_push(to, x)) {
			X509_free(x);
			return -1;
		}
	}
	return 0;
}

/* Every certificate in p/n: PEM certificates, PEM PKCS7/CMS, one DER certificate or CMS. */
static int
certs_of(const unsigned char *p, size_t n, STACK_OF(X509) *out, const char *path, struct err *e)
{
	const unsigned char *q = p;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *xs = NULL;
	PKCS7 *p7 = NULL;
	X509 *x;
	BIO *b;
	int rc = 0, i;

	if ((b = BIO_new_mem_buf(p, (int)n)) == NULL)
		return err_ssl(e, EX_OSERR, "out of memory");
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			rc = err_ssl(e, EX_OSERR, "out of memory");
		}
	ERR_clear_error();
	if (rc == 0 && sk_X509_num(out) == 0) {
		(void)BIO_reset(b);
		/* "-----BEGIN PKCS7-----": its certificates (RFC 8551 §3.6 certs-only) */
		if ((p7 = PEM_read_bio_PKCS7(b, NULL, NULL, NULL)) != NULL && PKCS7_type_is_signed(p7)
		    && p7->d.sign != NULL && p7->d.sign->cert != NULL) {
			for (i = 0; i < sk_X509_num(p7->d.sign->cert) && rc == 0; i++)
				if (!X509_up_ref(sk_X509_value(p7->d.sign->cert, i))
				    || !sk_X509_push(out, sk_X509_value(p7->d.sign->cert, i)))
					rc = err_ssl(e, EX_OSERR, "out of memory");
		}
		if (p7 == NULL && (x = d2i_X509(NULL, &q, (long)n)) != NULL
		    && !sk_X509_push(out, x)) {
			X509_free(x);
			rc = err_ssl(e, EX_OSERR, "out of memory");
		}
		q = p;
		if (p7 == NULL && sk_X509_num(out) == 0)
			cms = d2i_CMS_ContentInfo(NULL, &q, (long)n);
		if (cms != NULL && (xs = CMS_get1_certs(cms)) != NULL && push_all(out, xs) != 0)
			rc = err_ssl(e, EX_OSERR, "out of memory");
	}
	sk_X509_pop_free(xs, X509_free);
	PKCS7_free(p7);
	CMS_ContentInfo_free(cms);
	BIO_free(b);
	ERR_clear_error();
	if (rc == 0 && sk_X509_num(out) == 0)
		rc = err_set(e, EX_DATAERR, "%s: no certificate in the file (PEM, DER or PKCS#7)",
		    path);
	return rc;
}

static int
read_certs(int fd, const char *path, STACK_OF(X509) *out, struct err *e)
{
	unsigned char *p;
	ssize_t r;
	int rc;

	if ((p = malloc(KEYS_MAX_FILE + 1)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	r = io_read_full(fd, p, KEYS_MAX_FILE + 1);
	if (r < 0)
		rc = err_sys(e, EX_IOERR, "cannot read %s", path);
	else if (r > KEYS_MAX_FILE)
		rc = err_set(e, EX_DATAERR, "%s: too large for a certificate file", path);
	else
		rc = certs_of(p, (size_t)r, out, path, e);
	free(p);
	return rc;
}

/* ---- into the store ---- */

struct run {
	const struct certimport_opts *o;
	certimport_report_fn *rep;
	void *ctx;
	struct buf refused;	/* "; "-separated reasons */
	int nrefused;
};

static void
refuse(struct run *u, const char *fmt, ...) ERR_PRINTF(2, 3);

static void
refuse(struct run *u, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	buf_addf(&u->refused, "%s%s", u->nrefused++ ? "; " : "", line);
}

static time_t
now_of(const struct certimport_opts *o)
{
	return o->cms.now ? o->cms.now : time(NULL);
}

/* A short name for messages: the first address, else the subject. */
static void
label(X509 *x, char *out, size_t n)
{
	struct err e;
	char **v = keys_cert_addrs(x, &e);

	if (v != NULL && v[0] != NULL)
		snprintf(out, n, "%s", v[0]);
	else
		certimport_name(X509_get_subject_name(x), out, n);
	keys_addrs_free(v);
}

/* Store x (with chain above it) under every address it names, replacing what is there
 * unless it is the same certificate. */
static int
store_cert(struct run *u, X509 *x, STACK_OF(X509) *chain, int origin, struct err *e)
{
	struct certstore_entry ent, old;
	struct err ignore;
	char **addrs;
	size_t i;
	int rc = 0, k;

	if ((addrs = keys_cert_addrs(x, e)) == NULL)
		return -1;
	for (i = 0; addrs[i] != NULL && rc == 0; i++) {
		if (certstore_get(u->o->store, addrs[i], &old, &ignore) == 0) {
			int same = X509_cmp(old.signer, x) == 0 && (origin != CERTSTORE_PINNED
			    || old.origin == CERTSTORE_PINNED);

			certstore_entry_free(&old);
			if (same) {
				u->rep(u->ctx, "unchanged", addrs[i], x);
				continue;
			}
		}
		certstore_entry_init(&ent);
		ent.addr = addrs[i];
		ent.signer = ent.cert = x;
		ent.chain = chain;
		ent.signing_time = now_of(u->o);
		ent.origin = origin;
		ent.received_cipher = NID_undef;
		/* A pin replaces only the same certificate (pin_conflict); an import keeps the
		 * newer of two certificates (certstore_import). */
		if (origin == CERTSTORE_PINNED) {
			if ((rc = certstore_replace(u->o->store, &ent, e)) == 0)
				u->rep(u->ctx, "pinned", addrs[i], x);
		} else if ((k = certstore_import(u->o->store, &ent, now_of(u->o),
		    now_of(u->o) + CERTSTORE_SKEW, e)) >= 0) {
			u->rep(u->ctx, k ? "imported" : "kept", addrs[i], x);
		} else {
			rc = -1;
		}
	}
	keys_addrs_free(addrs);
	return rc;
}

/* The end-entity certificates of a set that name an address: the ones worth storing. */
static int
wanted(X509 *x)
{
	struct err e;
	char **v;
	int yes;

	if (X509_check_ca(x) != 0) {
		ERR_clear_error();
		return 0;
	}
	v = keys_cert_addrs(x, &e);
	yes = v != NULL && v[0] != NULL;
	keys_addrs_free(v);
	return yes;
}

static int
import_certs(struct run *u, STACK_OF(X509) *set, const char *path, struct err *e)
{
	STACK_OF(X509) *chain;
	char why[400], name[200];
	int i, k, any = 0;

	for (i = 0; i < sk_X509_num(set); i++) {
		X509 *x = sk_X509_value(set, i);

		if (!wanted(x))
			continue;
		any = 1;
		label(x, name, sizeof name);
		if ((k = cms_cert_verify(x, set, &u->o->cms, &chain, why, sizeof why, e)) < 0)
			return -1;
		if (k > 0) {
			refuse(u, "%s: %s: %s (to trust it as it is, check its fingerprint with its "
			    "owner and use pin)", path, name, why);
			continue;
		}
		k = store_cert(u, x, chain, CERTSTORE_IMPORTED, e);
		sk_X509_pop_free(chain, X509_free);
		if (k != 0)
			return -1;
	}
	if (!any)
		refuse(u, "%s: no end-entity certificate with an e-mail address", path);
	return 0;
}

/* Does x name addr? */
static int
names(X509 *x, const char *addr)
{
	struct err e;
	char **v = keys_cert_addrs(x, &e);
	size_t i;
	int yes = 0;

	for (i = 0; v != NULL && v[i] != NULL && !yes; i++)
		yes = addr_spec_eq(v[i], addr);
	keys_addrs_free(v);
	return yes;
}

/* A signed message: verified as smime-verify would, then stored as --save-certs would (newer
 * signatures only, RFC 8551 §2.7.1), marked imported. */
static int
import_message(struct run *u, int fd, const char *path, struct err *e)
{
	struct smime_verify_opts vo;
	struct certstore_entry ent;
	struct cms_result r;
	struct io_in in;
	struct io_out out;
	size_t i;
	int null, rc = -1, k;

	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return err_sys(e, EX_OSERR, "cannot open /dev/null");
	memset(&vo, 0, sizeof vo);
	vo.cms = u->o->cms;
	vo.store = u->o->store;
	vo.authserv_id = u->o->authserv_id;
	if (io_in_init(&in, fd, path, e) != 0 || io_out_init(&out, null, "/dev/null", e) != 0) {
		close(null);
		return -1;
	}
	k = smime_verify(&in, &out, &vo, &r, e);
	io_out_free(&out);
	io_in_free(&in);
	close(null);
	if (k < 0)
		return err_wrap(e, "%s", path);
	if (r.certs_only) {
		rc = import_certs(u, r.certs, path, e);
		goto out;
	}
	if (r.verdict != CMS_V_PASS) {
		if (r.verdict == CMS_V_NONE)
			refuse(u, "%s: neither a signed message nor certificates", path);
		else
			refuse(u, "%s: the signature does not pass (smime=%s: %s): nothing imported",
			    path, cms_verdict_name(r.verdict), r.reason);
		rc = 0;
		goto out;
	}
	rc = 0;
	for (i = 0; r.signer_addrs[i] != NULL && rc == 0; i++) {
		certstore_entry_init(&ent);
		ent.addr = r.signer_addrs[i];
		ent.signer = r.signer;
		/* Only what passed the signer's policy, for this very address. */
		ent.cert = r.enc_cert != NULL && names(r.enc_cert, ent.addr) ? r.enc_cert : r.signer;
		ent.signing_time = r.signing_time ? r.signing_time : now_of(u->o);
		ent.ncaps = r.ncaps < CERTSTORE_MAX_CAPS ? r.ncaps : CERTSTORE_MAX_CAPS;
		memcpy(ent.caps, r.caps, (size_t)ent.ncaps * sizeof ent.caps[0]);
		ent.chain = r.chain;
		/* "imported" says a CA vouched for it. A signer that passed only because the
		 * store already trusts it as it is (no chain) is not; as a harvested signature,
		 * the entry keeps the origin it has (pinned). */
		ent.origin = sk_X509_num(r.chain) > 0 ? CERTSTORE_IMPORTED : CERTSTORE_HARVESTED;
		ent.received_cipher = NID_undef;
		if ((k = certstore_import(u->o->store, &ent, now_of(u->o),
		    now_of(u->o) + CERTSTORE_SKEW, e)) < 0)
			rc = -1;
		else
			u->rep(u->ctx, k ? "imported" : "kept", ent.addr, ent.cert);
	}
out:
	cms_result_free(&r);
	return rc;
}

static int
finish(struct run *u, int rc, struct err *e)
{
	if (rc == 0 && u->nrefused > 0 && buf_check(&u->refused, e) == 0)
		rc = err_set(e, EX_DATAERR, "%s", u->refused.p);
	buf_free(&u->refused);
	return rc;
}

int
certimport_file(const char *path, const struct certimport_opts *o, certimport_report_fn *rep,
    void *ctx, struct err *e)
{
	struct run u = { o, rep, ctx, BUF_INIT, 0 };
	STACK_OF(X509) *set = NULL;
	int fd, rc;

	if ((fd = open_input(path, e)) < 0)
		return -1;
	if (classify(fd) == K_MESSAGE) {
		rc = import_message(&u, fd, path, e);
	} else if ((set = sk_X509_new_null()) == NULL) {
		rc = err_set(e, EX_OSERR, "out of memory");
	} else if ((rc = read_certs(fd, path, set, e)) == 0) {
		rc = import_certs(&u, set, path, e);
	}
	sk_X509_pop_free(set, X509_free);
	close(fd);
	return finish(&u, rc, e);
}

/* "AB:CD..." or "abcd..." against x's SHA-256 fingerprint. */
static int
fingerprint_is(X509 *x, const char *want)
{
	char fp[96], a[65], b[65];
	size_t i, n = 0, m = 0;

	certimport_fingerprint(x, fp);
	for (i = 0; fp[i] && n < 64; i++)
		if (fp[i] != ':')
			a[n++] = fp[i];
	for (i = 0; want[i] && m < 65; i++)
		if (want[i] != ':')
			b[m++] = (char)(want[i] >= 'a' && want[i] <= 'f' ? want[i] - 'a' + 'A' : want[i]);
	return n == 64 && m == 64 && memcmp(a, b, 64) == 0;
}

/* Would pinning x take an address from another certificate? A pinned certificate vouches
 * for itself only: checking its fingerprint with its owner says whose it is, not that every
 * address it claims is theirs. So it never replaces what the store holds for an address
 * (verified by a CA, or pinned before); the user removes that entry first. 1 with why, 0
 * no, -1 out of memory. */
static int
pin_conflict(X509 *x, struct certstore *cs, char *why, size_t n)
{
	struct certstore_entry old;
	struct err e;
	char **addrs, fp[96];
	size_t i;
	int k = 0;

	if ((addrs = keys_cert_addrs(x, &e)) == NULL)
		return -1;
	for (i = 0; addrs[i] != NULL && k == 0; i++) {
		if (certstore_get(cs, addrs[i], &old, &e) != 0)
			continue;	/* none (or a corrupt one, which a pin may replace) */
		/* The same signer (with or without a separate encryption certificate) is the
		 * same correspondent: pinning it only changes how it is trusted. */
		if (X509_cmp(old.signer, x) != 0) {
			certimport_fingerprint(old.signer, fp);
			snprintf(why, n, "%s already has another certificate in the store (SHA-256 "
			    "%s); to pin this one instead, remove it first", addrs[i], fp);
			k = 1;
		}
		certstore_entry_free(&old);
	}
	keys_addrs_free(addrs);
	return k;
}

int
certimport_pin(const char *path, const struct certimport_opts *o, certimport_report_fn *rep,
    void *ctx, struct err *e)
{
	struct run u = { o, rep, ctx, BUF_INIT, 0 };
	STACK_OF(X509) *set = NULL, *none = NULL;
	char name[200], why[600];
	int fd, i, k, rc = -1, any = 0;

	if ((fd = open_input(path, e)) < 0)
		return -1;
	if ((set = sk_X509_new_null()) == NULL || (none = sk_X509_new_null()) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	if (read_certs(fd, path, set, e) != 0)
		goto out;
	rc = 0;
	for (i = 0; i < sk_X509_num(set) && rc == 0; i++) {
		X509 *x = sk_X509_value(set, i);
		struct err ve;

		if (!wanted(x) || (o->fingerprint != NULL && !fingerprint_is(x, o->fingerprint)))
			continue;
		any = 1;
		label(x, name, sizeof name);
		if (keys_check_validity(x, now_of(o), 0, NULL, 0, &ve) != 0) {
			refuse(&u, "%s: %s: %s", path, name, ve.msg);
			continue;
		}
		/* RFC 8550 §4.4.4: with an extended key usage, emailProtection. */
		if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE)
		    && !(X509_get_extended_key_usage(x) & (XKU_SMIME | XKU_ANYEKU))) {
			snprintf(why, sizeof why, "it is not for e-mail protection (extended key "
			    "usage)");
			refuse(&u, "%s: %s: %s", path, name, why);
			continue;
		}
		if ((k = pin_conflict(x, o->store, why, sizeof why)) != 0) {
			if (k < 0) {
				rc = err_set(e, EX_OSERR, "out of memory");
				break;
			}
			refuse(&u, "%s: %s: %s", path, name, why);
			continue;
		}
		rc = store_cert(&u, x, none, CERTSTORE_PINNED, e);
	}
	if (rc == 0 && !any)
		refuse(&u, "%s: %s", path, o->fingerprint != NULL ? "no certificate with that "
		    "fingerprint" : "no end-entity certificate with an e-mail address");
out:
	sk_X509_pop_free(set, X509_free);
	sk_X509_free(none);
	close(fd);
	return finish(&u, rc, e);
}
