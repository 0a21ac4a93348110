/* keys.c — certificates, private keys and PKCS#12 bundles from files, with passphrases that
 * never touch argv and key bytes that are wiped after parsing. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>

#include "io.h"
#include "secret.h"

void
keys_opts_init(struct keys_opts *o)
{
	memset(o, 0, sizeof *o);
}

static unsigned char *
read_file(const char *path, size_t max, int secret, size_t *len, struct err *e);

unsigned char *
keys_read_file(const char *path, size_t max, size_t *len, struct err *e)
{
	return read_file(path, max, 0, len, e);
}

/* A private key: the process stops dumping core before it is read, and the file must be
 * ours (or root's), not writable by group or others, not readable by others. */
static unsigned char *
read_key_file(const char *path, size_t *len, struct err *e)
{
	secret_no_core();
	return read_file(path, KEYS_MAX_FILE, 1, len, e);
}

static unsigned char *
read_file(const char *path, size_t max, int secret, size_t *len, struct err *e)
{
	unsigned char *p;
	struct stat st;
	size_t cap;
	ssize_t r;
	int fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(e, EX_NOINPUT, "cannot open %s", path);
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		err_sys(e, EX_NOINPUT, "cannot stat %s", path);
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		err_set(e, EX_NOINPUT, "%s: is a directory", path);
		close(fd);
		return NULL;
	}
	if (secret && io_file_private(fd, path, 1, e) != 0) {
		close(fd);
		return NULL;
	}
	/* Pipes (--cert <(...)) have no size: read up to max and see. The secure heap is used
	 * when there is one (OpenSSL falls back to malloc); the buffer is wiped on free. */
	cap = max + 1;
	if ((p = OPENSSL_secure_malloc(cap + 1)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		close(fd);
		return NULL;
	}
	r = io_read_full(fd, p, cap);
	if (r < 0) {
		err_sys(e, EX_IOERR, "cannot read %s", path);
		close(fd);
		OPENSSL_secure_clear_free(p, cap + 1);	/* partly read: wipe it all */
		return NULL;
	}
	close(fd);
	if ((size_t)r > max) {
		err_set(e, EX_DATAERR, "%s: too large for a key or certificate file (over %zu bytes)",
		    path, max);
		OPENSSL_secure_clear_free(p, cap + 1);
		return NULL;
	}
	p[r] = '\0';
	*len = (size_t)r;
	return p;
}

void
keys_file_free(unsigned char *p, size_t len)
{
	/* Only the first len + 1 bytes were ever written. */
	if (p != NULL) {
		OPENSSL_cleanse(p, len + 1);
		OPENSSL_secure_free(p);
	}
}

/* The passphrase, read from the one source given. 0 with s->p NULL when none is given. */
static int
get_pass(const struct keys_opts *o, struct secret *s, struct err *e)
{
	int n = (o->pass_file != NULL) + (o->pass_fd != NULL) + (o->pass_env != NULL);
	char *end;
	long fd;

	s->p = NULL;
	s->len = 0;
	if (n == 0)
		return 0;
	if (n > 1)
		return err_set(e, EX_USAGE, "give only one of --pass-file, --pass-fd and --pass-env");
	if (o->pass_file != NULL)
		return secret_from_file(s, o->pass_file, e);
	if (o->pass_env != NULL)
		return secret_from_env(s, o->pass_env, e);
	errno = 0;
	fd = strtol(o->pass_fd, &end, 10);
	if (*o->pass_fd == '\0' || *end != '\0' || errno != 0 || fd < 0 || fd > 1000000)
		return err_set(e, EX_USAGE, "invalid file descriptor for --pass-fd: '%s'", o->pass_fd);
	return secret_from_fd(s, (int)fd, e);
}

struct passcb {
	const struct secret *s;
	int asked;
};

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct passcb *pc = u;

	(void)rwflag;
	pc->asked = 1;
	if (pc->s->p == NULL || pc->s->len >= (size_t)size)
		return -1;
	memcpy(buf, pc->s->p, pc->s->len);
	return (int)pc->s->len;
}

/* Certificates from a PEM buffer (all of them) or one DER certificate. */
static int
certs_from_mem(const unsigned char *p, size_t n, STACK_OF(X509) *out,
    struct err *e)
{
	BIO *b;
	X509 *x;
	int got = 0;

	if ((b = BIO_new_mem_buf(p, (int)n)) == NULL)
		return err_ssl(e, EX_OSERR, "out of memory");
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			BIO_free(b);
			return err_ssl(e, EX_OSERR, "out of memory");
		}
		got++;
	}
	BIO_free(b);
	ERR_clear_error();	/* the end of the PEM data is reported as an error */
	if (got == 0) {
		const unsigned char *q = p;

		if ((x = d2i_X509(NULL, &q, (long)n)) != NULL) {
			if (!sk_X509_push(out, x)) {
				X509_free(x);
				return err_ssl(e, EX_OSERR, "out of memory");
			}
			got++;
		}
		ERR_clear_error();
	}
	return got;
}

int
keys_load_certs(const char *path, STACK_OF(X509) **out, struct err *e)
{
	unsigned char *p;
	size_t n;
	int got;

	*out = NULL;
	if ((p = keys_read_file(path, KEYS_MAX_FILE, &n, e)) == NULL)
		return -1;
	if ((*out = sk_X509_new_null()) == NULL) {
		keys_file_free(p, n);
		return err_ssl(e, EX_OSERR, "out of memory");
	}
	got = certs_from_mem(p, n, *out, e);
	keys_file_free(p, n);
	if (got <= 0) {
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
		return got < 0 ? -1 : err_set(e, EX_DATAERR, "%s: no certificate in the file", path);
	}
	return 0;
}

int
keys_check_pair(X509 *cert, EVP_PKEY *pkey, struct err *e)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);

	if (pub == NULL || EVP_PKEY_eq(pub, pkey) != 1) {
		ERR_clear_error();
		return err_set(e, EX_DATAERR, "the private key does not match the certificate");
	}
	return 0;
}

/* Issue 15: the algorithm of an unencrypted PKCS#8 key this OpenSSL could not decode, when it
 * is one of issue 15's (an ML-DSA or ML-KEM key on OpenSSL 3.0), else NULL. */
static const char *
pkcs8_new_alg(const unsigned char *p, size_t n)
{
	PKCS8_PRIV_KEY_INFO *p8;
	const ASN1_OBJECT *obj = NULL;
	const char *name = NULL;
	char oid[80];
	BIO *b;

	if ((b = BIO_new_mem_buf(p, (int)n)) == NULL)
		return NULL;
	p8 = PEM_read_bio_PKCS8_PRIV_KEY_INFO(b, NULL, NULL, NULL);
	BIO_free(b);
	if (p8 == NULL) {
		const unsigned char *q = p;

		p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, (long)n);
	}
	if (p8 != NULL && PKCS8_pkey_get0(&obj, NULL, NULL, NULL, p8) && obj != NULL
	    && OBJ_obj2txt(oid, sizeof oid, obj, 1) > 0)
		name = keys_alg_by_oid(oid);
	PKCS8_PRIV_KEY_INFO_free(p8);	/* wipes the key octets */
	ERR_clear_error();
	return name;
}

static int
load_key(const char *path, const struct secret *s, struct keys_identity *id, struct err *e)
{
	struct passcb pc = { s, 0 };
	unsigned char *p;
	size_t n;
	BIO *b;
	int got;

	if ((p = read_key_file(path, &n, e)) == NULL)
		return -1;
	if ((b = BIO_new_mem_buf(p, (int)n)) == NULL) {
		keys_file_free(p, n);
		return err_ssl(e, EX_OSERR, "out of memory");
	}
	id->pkey = PEM_read_bio_PrivateKey(b, NULL, pass_cb, &pc);
	BIO_free(b);
	if (id->pkey == NULL) {
		const unsigned char *q = p;

		ERR_clear_error();
		id->pkey = d2i_AutoPrivateKey(NULL, &q, (long)n);
	}
	if (id->pkey == NULL) {
		const char *alg = pc.asked ? NULL : pkcs8_new_alg(p, n);

		keys_file_free(p, n);
		ERR_clear_error();
		if (alg != NULL)
			return err_set(e, EX_UNAVAILABLE, "%s: this OpenSSL has no %s (%s)", path, alg,
			    OpenSSL_version(OPENSSL_VERSION));
		if (pc.asked && s->p == NULL)
			return err_set(e, EX_USAGE, "%s: the key is encrypted and needs a passphrase "
			    "(--pass-file, --pass-fd or --pass-env)", path);
		if (pc.asked)
			return err_set(e, EX_DATAERR, "%s: wrong passphrase, or the key is corrupt",
			    path);
		return err_set(e, EX_DATAERR, "%s: no private key in the file", path);
	}
	/* A key file may carry the certificate too (openssl's combined PEM). */
	if (id->cert == NULL) {
		STACK_OF(X509) *xs = sk_X509_new_null();

		if (xs == NULL) {
			keys_file_free(p, n);
			return err_ssl(e, EX_OSERR, "out of memory");
		}
		got = certs_from_mem(p, n, xs, e);
		if (got > 0) {
			id->cert = sk_X509_shift(xs);
			while (sk_X509_num(xs) > 0)
				if (!sk_X509_push(id->chain, sk_X509_shift(xs)))
					break;
		}
		sk_X509_pop_free(xs, X509_free);
		if (got < 0) {
			keys_file_free(p, n);
			return -1;
		}
	}
	keys_file_free(p, n);
	return 0;
}

/*
 * Issue 13: the MAC checked out (the passphrase is right) but the contents would not decrypt:
 * most likely pbeWithSHA1And40BitRC2-CBC or another algorithm only OpenSSL's legacy provider
 * has (gpgsm, older OpenSSL and Windows exports use them). Load that provider for this one
 * parse and unload it again, so nothing else can use those algorithms.
 */
static int
parse_legacy(PKCS12 *p12, const char *pass, const char *path, struct keys_identity *id,
    STACK_OF(X509) **ca, struct err *e)
{
	OSSL_PROVIDER *legacy;
	int ok;

	ERR_clear_error();
	EVP_PKEY_free(id->pkey);
	X509_free(id->cert);
	id->pkey = NULL;
	id->cert = NULL;
	if ((legacy = OSSL_PROVIDER_try_load(NULL, "legacy", 1)) == NULL) {
		ERR_clear_error();
		return err_set(e, EX_UNAVAILABLE, "%s: the PKCS#12 file is protected with a legacy "
		    "algorithm (such as RC2 with a 40-bit key) and OpenSSL's legacy provider cannot "
		    "be loaded; convert the file with `openssl pkcs12 -legacy` and `openssl pkcs12 "
		    "-export`, or give --cert and --key", path);
	}
	ok = PKCS12_parse(p12, pass, &id->pkey, &id->cert, ca);
	if (!ok)
		err_ssl(e, EX_DATAERR, "%s: cannot read the PKCS#12 contents", path);
	ERR_clear_error();
	OSSL_PROVIDER_unload(legacy);
	return ok ? 0 : -1;
}

static int
load_p12(const char *path, const struct secret *s, struct keys_identity *id, struct err *e)
{
	STACK_OF(X509) *ca = NULL;
	const char *pass;
	unsigned char *p;
	const unsigned char *q;
	PKCS12 *p12;
	size_t n;

	if ((p = read_key_file(path, &n, e)) == NULL)
		return -1;
	q = p;
	p12 = d2i_PKCS12(NULL, &q, (long)n);
	keys_file_free(p, n);
	if (p12 == NULL) {
		ERR_clear_error();
		return err_set(e, EX_DATAERR, "%s: not a PKCS#12 file", path);
	}
	/* RFC 7292 §4: the MAC shows whether the password is right before anything is
	 * decrypted; an unprotected bundle may use "" or no password at all. */
	pass = s->p;
	if (pass == NULL) {
		if (PKCS12_verify_mac(p12, "", 0))
			pass = "";
		else if (PKCS12_verify_mac(p12, NULL, 0))
			pass = NULL;
		else {
			PKCS12_free(p12);
			ERR_clear_error();
			return err_set(e, EX_USAGE, "%s: the PKCS#12 file needs a passphrase "
			    "(--pass-file, --pass-fd or --pass-env)", path);
		}
	} else if (!PKCS12_verify_mac(p12, pass, (int)s->len)) {
		PKCS12_free(p12);
		ERR_clear_error();
		return err_set(e, EX_DATAERR, "%s: wrong passphrase, or the PKCS#12 file is corrupt",
		    path);
	}
	if (!PKCS12_parse(p12, pass, &id->pkey, &id->cert, &ca)
	    && parse_legacy(p12, pass, path, id, &ca, e) != 0) {
		PKCS12_free(p12);
		return -1;
	}
	PKCS12_free(p12);
	while (ca != NULL && sk_X509_num(ca) > 0) {
		X509 *x = sk_X509_shift(ca);

		if (!sk_X509_push(id->chain, x)) {
			X509_free(x);
			sk_X509_pop_free(ca, X509_free);
			return err_ssl(e, EX_OSERR, "out of memory");
		}
	}
	sk_X509_free(ca);
	if (id->pkey == NULL)
		return err_set(e, EX_DATAERR, "%s: no private key in the PKCS#12 file", path);
	return 0;
}

static int
add_chain(const char *path, STACK_OF(X509) *chain, struct err *e)
{
	STACK_OF(X509) *xs;

	if (keys_load_certs(path, &xs, e) != 0)
		return -1;
	while (sk_X509_num(xs) > 0) {
		X509 *x = sk_X509_shift(xs);

		if (!sk_X509_push(chain, x)) {
			X509_free(x);
			sk_X509_pop_free(xs, X509_free);
			return err_ssl(e, EX_OSERR, "out of memory");
		}
	}
	sk_X509_free(xs);
	return 0;
}

/* Issue 15: the algorithms of issue 15 by OID (NIST CSOR sigAlgs and kems), for naming what
 * an OpenSSL that does not know them cannot use. */
static const struct {
	const char *oid, *name;
} new_algs[] = {
	{ "2.16.840.1.101.3.4.3.17", "ML-DSA-44" }, { "2.16.840.1.101.3.4.3.18", "ML-DSA-65" },
	{ "2.16.840.1.101.3.4.3.19", "ML-DSA-87" },
	{ "2.16.840.1.101.3.4.3.20", "SLH-DSA-SHA2-128s" },
	{ "2.16.840.1.101.3.4.3.21", "SLH-DSA-SHA2-128f" },
	{ "2.16.840.1.101.3.4.3.22", "SLH-DSA-SHA2-192s" },
	{ "2.16.840.1.101.3.4.3.23", "SLH-DSA-SHA2-192f" },
	{ "2.16.840.1.101.3.4.3.24", "SLH-DSA-SHA2-256s" },
	{ "2.16.840.1.101.3.4.3.25", "SLH-DSA-SHA2-256f" },
	{ "2.16.840.1.101.3.4.3.26", "SLH-DSA-SHAKE-128s" },
	{ "2.16.840.1.101.3.4.3.27", "SLH-DSA-SHAKE-128f" },
	{ "2.16.840.1.101.3.4.3.28", "SLH-DSA-SHAKE-192s" },
	{ "2.16.840.1.101.3.4.3.29", "SLH-DSA-SHAKE-192f" },
	{ "2.16.840.1.101.3.4.3.30", "SLH-DSA-SHAKE-256s" },
	{ "2.16.840.1.101.3.4.3.31", "SLH-DSA-SHAKE-256f" },
	{ "2.16.840.1.101.3.4.4.1", "ML-KEM-512" }, { "2.16.840.1.101.3.4.4.2", "ML-KEM-768" },
	{ "2.16.840.1.101.3.4.4.3", "ML-KEM-1024" },
};

const char *
keys_alg_by_oid(const char *oid)
{
	size_t i;

	for (i = 0; i < sizeof new_algs / sizeof new_algs[0]; i++)
		if (strcmp(oid, new_algs[i].oid) == 0)
			return new_algs[i].name;
	return NULL;
}

/* A certificate whose public key this OpenSSL cannot decode: EX_UNAVAILABLE naming the
 * algorithm when it is one of issue 15's, else the key is left for the usual checks. */
static int
known_key(X509 *x, const char *path, struct err *e)
{
	ASN1_OBJECT *alg = NULL;
	X509_PUBKEY *pub;
	const char *name;
	char oid[80];

	if (X509_get0_pubkey(x) != NULL)
		return 0;
	ERR_clear_error();
	if ((pub = X509_get_X509_PUBKEY(x)) == NULL
	    || !X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, pub)
	    || OBJ_obj2txt(oid, sizeof oid, alg, 1) <= 0)
		return err_set(e, EX_DATAERR, "%s: the certificate's public key cannot be read",
		    path);
	if ((name = keys_alg_by_oid(oid)) != NULL)
		return err_set(e, EX_UNAVAILABLE, "%s: this OpenSSL has no %s (%s)", path, name,
		    OpenSSL_version(OPENSSL_VERSION));
	return err_set(e, EX_DATAERR, "%s: the certificate's public key algorithm %s is not "
	    "supported", path, oid);
}

int
keys_alg_available(const char *alg, int kind, struct err *e)
{
	EVP_SIGNATURE *sig;
	EVP_KEM *kem;

	if (kind == KEYS_ALG_KEM) {
		if ((kem = EVP_KEM_fetch(NULL, alg, NULL)) != NULL) {
			EVP_KEM_free(kem);
			return 0;
		}
	} else if ((sig = EVP_SIGNATURE_fetch(NULL, alg, NULL)) != NULL) {
		EVP_SIGNATURE_free(sig);
		return 0;
	}
	ERR_clear_error();
	return err_set(e, EX_UNAVAILABLE, "%s is not available in this OpenSSL's providers (%s): "
	    "check its configuration (openssl.cnf, FIPS mode)", alg,
	    OpenSSL_version(OPENSSL_VERSION));
}

int
keys_is_pq(EVP_PKEY *pk)
{
	const char *name = pk != NULL ? EVP_PKEY_get0_type_name(pk) : NULL;

	return name != NULL && (strncmp(name, "ML-DSA-", 7) == 0
	    || strncmp(name, "SLH-DSA-", 8) == 0 || strncmp(name, "ML-KEM-", 7) == 0);
}

static int
load(const struct keys_opts *o, const struct secret *s, struct keys_identity *id, struct err *e)
{
	if (o->p12 != NULL && (o->key != NULL || o->cert != NULL))
		return err_set(e, EX_USAGE, "give either --p12 or --cert/--key, not both");
	if (o->p12 != NULL) {
		if (load_p12(o->p12, s, id, e) != 0)
			return -1;
	} else {
		if (o->key == NULL)
			return err_set(e, EX_USAGE, "no private key: give --key (and --cert) or --p12");
		if (o->cert != NULL && add_chain(o->cert, id->chain, e) == 0)
			id->cert = sk_X509_shift(id->chain);	/* the rest is chain */
		if (o->cert != NULL && id->cert == NULL)
			return -1;
		if (id->cert != NULL && known_key(id->cert, o->cert, e) != 0)
			return -1;
		if (load_key(o->key, s, id, e) != 0)
			return -1;
	}
	if (o->chain != NULL && add_chain(o->chain, id->chain, e) != 0)
		return -1;
	if (id->cert != NULL && keys_check_pair(id->cert, id->pkey, e) != 0)
		return err_wrap(e, "%s", o->p12 ? o->p12 : o->cert ? o->cert : o->key);
	return 0;
}

int
keys_load_identity(const struct keys_opts *o, struct keys_identity *id, struct err *e)
{
	struct secret s;
	int r;

	memset(id, 0, sizeof *id);
	if ((id->chain = sk_X509_new_null()) == NULL)
		return err_ssl(e, EX_OSERR, "out of memory");
	if (get_pass(o, &s, e) != 0) {
		keys_identity_free(id);
		return -1;
	}
	r = load(o, &s, id, e);
	secret_free(&s);
	if (r != 0)
		keys_identity_free(id);
	return r;
}

void
keys_identity_free(struct keys_identity *id)
{
	/* EVP_PKEY_free clears the private components (BN_clear_free and the providers'
	 * cleanse); nothing else holds key bytes. */
	EVP_PKEY_free(id->pkey);
	X509_free(id->cert);
	sk_X509_pop_free(id->chain, X509_free);
	memset(id, 0, sizeof *id);
}

static int
addr_ok(const unsigned char *p, int n)
{
	int i, at = 0;

	if (n <= 0 || n > 320)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] <= 0x20 || p[i] == 0x7f)
			return 0;
		at += p[i] == '@';
	}
	return at >= 1;
}

static int
push_addr(char ***v, size_t *n, const unsigned char *p, int len)
{
	char **nv, *s;

	if (!addr_ok(p, len))
		return 0;
	if ((s = malloc((size_t)len + 1)) == NULL)
		return -1;
	memcpy(s, p, (size_t)len);
	s[len] = '\0';
	if ((nv = realloc(*v, (*n + 2) * sizeof *nv)) == NULL) {
		free(s);
		return -1;
	}
	*v = nv;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	return 0;
}

char **
keys_cert_addrs(X509 *cert, struct err *e)
{
	GENERAL_NAMES *gens;
	X509_NAME *subj;
	char **v = NULL;
	size_t n = 0;
	int i, crit;

	if ((v = calloc(1, sizeof *v)) == NULL)
		goto oom;
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_EMAIL && push_addr(&v, &n, ASN1_STRING_get0_data(g->d.rfc822Name),
		    ASN1_STRING_length(g->d.rfc822Name)) != 0) {
			GENERAL_NAMES_free(gens);
			goto oom;
		}
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	/* RFC 8550 §3: emailAddress in the subject is for old certificates without one. */
	if (n == 0 && (subj = X509_get_subject_name(cert)) != NULL) {
		int at = -1;

		while ((at = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress, at)) >= 0) {
			ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, at));

			if (d != NULL && push_addr(&v, &n, ASN1_STRING_get0_data(d),
			    ASN1_STRING_length(d)) != 0)
				goto oom;
		}
	}
	return v;
oom:
	keys_addrs_free(v);
	err_set(e, EX_OSERR, "out of memory");
	return NULL;
}

void
keys_addrs_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
keys_check_validity(X509 *x, time_t now, int warn_days, char *warn, size_t n, struct err *e)
{
	char a[40], b[40];
	time_t nb, na;

	if (warn != NULL && n > 0)
		warn[0] = '\0';
	if (keys_cert_dates(x, &nb, &na) != 0)
		return err_set(e, EX_DATAERR, "certificate's validity dates cannot be read");
	keys_fmt_time(nb, a, sizeof a);
	keys_fmt_time(na, b, sizeof b);
	if (now > na)
		return err_set(e, EX_DATAERR, "certificate expired on %s (it was valid from %s to "
		    "%s)", b, a, b);
	if (now < nb)
		return err_set(e, EX_DATAERR, "certificate is not valid before %s (it is valid from "
		    "%s to %s)", a, a, b);
	if (warn != NULL && warn_days > 0 && na - now < (time_t)warn_days * 86400)
		snprintf(warn, n, "certificate expires on %s, in %lld day%s", b,
		    (long long)((na - now) / 86400), (na - now) / 86400 == 1 ? "" : "s");
	return 0;
}

int
keys_cert_dates(X509 *x, time_t *not_before, time_t *not_after)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm)) {
		ERR_clear_error();
		return -1;
	}
	*not_before = timegm(&tm);
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm)) {
		ERR_clear_error();
		return -1;
	}
	*not_after = timegm(&tm);
	return 0;
}

void
keys_fmt_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, n, "?");
}

void
keys_opts_defaults(struct keys_opts *o, const struct conf *cf, int what)
{
	const char *v;

	if ((what & KEYS_DEF_IDENTITY) && o->cert == NULL && o->key == NULL && o->p12 == NULL) {
		if (((v = getenv("SECMAIL_CERT")) != NULL && *v) || ((v = getenv("SECMAIL_KEY"))
		    != NULL && *v) || ((v = getenv("SECMAIL_P12")) != NULL && *v)) {
			o->cert = conf_setting(NULL, "SECMAIL_CERT", NULL);
			o->key = conf_setting(NULL, "SECMAIL_KEY", NULL);
			o->p12 = conf_setting(NULL, "SECMAIL_P12", NULL);
		} else {
			o->cert = conf_get(cf, NULL, "cert");
			o->key = conf_get(cf, NULL, "key");
			o->p12 = conf_get(cf, NULL, "p12");
		}
	}
	if ((what & KEYS_DEF_CHAIN) && o->chain == NULL)
		o->chain = conf_setting(cf, "SECMAIL_CHAIN", "chain");
	if ((what & KEYS_DEF_PASS) && o->pass_file == NULL && o->pass_fd == NULL
	    && o->pass_env == NULL) {
		if ((o->pass_file = conf_setting(cf, "SECMAIL_PASS_FILE", "pass_file")) == NULL)
			o->pass_env = conf_get(cf, NULL, "pass_env");
	}
}
