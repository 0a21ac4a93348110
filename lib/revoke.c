/* revoke.c — revocation status from CRLs and OCSP (RFC 5280 §6.3, RFC 6960), with a cache of
 * verified answers; HTTP is OpenSSL's own client (OSSL_HTTP_*), with a timeout. */
#include "revoke.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "io.h"

struct local_crl {
	X509_CRL *crl;
	char *src;	/* "CRL file PATH" */
};

struct revoke {
	struct revoke_opts o;
	struct local_crl *crls;
	size_t ncrls;
	int loaded;
	int cache;	/* 0 not looked at, 1 usable, 2 missing (created on first write), -1 not
			 * usable (see warning) */
	char warning[300];
	/* The fetch budget of the message under way (see revoke_begin). */
	struct timespec deadline;
	int started;		/* deadline is set (by the message's first revoke_check) */
	int cut;		/* the last fetch had less than the per-fetch timeout */
};

/* ---- options ---- */

/* A decimal number of at most 9 digits, else -1. */
static long long
small_number(const char *s)
{
	long long v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 9)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return i > 0 ? v : -1;
}

void
revoke_opts_init(struct revoke_opts *o)
{
	memset(o, 0, sizeof *o);
	o->mode = REVOKE_UNSET;
	o->fetch = -1;
}

int
revoke_mode_parse(const char *s, enum revoke_mode *m)
{
	if (strcmp(s, "soft") == 0)
		*m = REVOKE_SOFT;
	else if (strcmp(s, "strict") == 0)
		*m = REVOKE_STRICT;
	else if (strcmp(s, "off") == 0)
		*m = REVOKE_OFF;
	else
		return -1;
	return 0;
}

int
revoke_getopt(int c, const char *arg, struct revoke_opts *o, struct err *e)
{
	switch (c) {
	case REVOKE_OPT_CRL_FILE:
		o->crl_file = arg;
		return 1;
	case REVOKE_OPT_CRL_PATH:
		o->crl_path = arg;
		return 1;
	case REVOKE_OPT_NO_FETCH:
		o->fetch = 0;
		return 1;
	case REVOKE_OPT_MODE:
		if (revoke_mode_parse(arg, &o->mode) != 0)
			return err_set(e, EX_USAGE, "--revocation: '%s' is not soft, strict or off",
			    arg);
		return 1;
	}
	return 0;
}

int
revoke_setup(struct revoke_opts *o, const struct conf *cf, char *buf, size_t n,
    struct revoke **rv, struct err *e)
{
	*rv = NULL;
	if (revoke_opts_defaults(o, cf, buf, n, e) != 0)
		return -1;
	if (o->mode == REVOKE_OFF)
		return 0;
	return (*rv = revoke_new(o, e)) != NULL ? 0 : -1;
}

const char *
revoke_default_cache(char *buf, size_t n)
{
	const char *d;

	if ((d = getenv("XDG_CACHE_HOME")) != NULL && *d == '/') {
		if ((size_t)snprintf(buf, n, "%s/secmail/revocation", d) < n)
			return buf;
	} else if ((d = getenv("HOME")) != NULL && *d == '/') {
		if ((size_t)snprintf(buf, n, "%s/.cache/secmail/revocation", d) < n)
			return buf;
	}
	return NULL;
}

int
revoke_opts_defaults(struct revoke_opts *o, const struct conf *cf, char *buf, size_t n,
    struct err *e)
{
	const char *v;
	long long t;

	if (o->mode == REVOKE_UNSET) {
		o->mode = REVOKE_SOFT;
		if ((v = conf_setting(cf, "SECMAIL_REVOCATION", "revocation")) != NULL
		    && revoke_mode_parse(v, &o->mode) != 0)
			return err_set(e, EX_CONFIG, "revocation: '%s' is not soft, strict or off", v);
	}
	if (o->crl_file == NULL && o->crl_path == NULL) {
		o->crl_file = conf_setting(NULL, "SECMAIL_CRL_FILE", NULL);
		o->crl_path = conf_setting(NULL, "SECMAIL_CRL_PATH", NULL);
		if (o->crl_file == NULL && o->crl_path == NULL) {
			o->crl_file = conf_get(cf, NULL, "crl_file");
			o->crl_path = conf_get(cf, NULL, "crl_path");
		}
	}
	if (o->fetch < 0) {
		o->fetch = 1;
		if ((v = conf_get(cf, NULL, "fetch")) != NULL && (o->fetch = conf_bool(v)) < 0)
			return err_set(e, EX_CONFIG, "fetch: '%s' is not on or off", v);
	}
	if (o->timeout <= 0) {
		o->timeout = REVOKE_TIMEOUT;
		if ((v = conf_setting(cf, "SECMAIL_FETCH_TIMEOUT", "fetch_timeout")) != NULL) {
			if ((t = small_number(v)) < 1 || t > 300)
				return err_set(e, EX_CONFIG, "fetch_timeout: '%s' is not a number of "
				    "seconds from 1 to 300", v);
			o->timeout = (int)t;
		}
	}
	if (o->budget <= 0) {
		o->budget = REVOKE_BUDGET;
		if ((v = conf_setting(cf, "SECMAIL_FETCH_BUDGET", "fetch_budget")) != NULL) {
			if ((t = small_number(v)) < 1 || t > 3600)
				return err_set(e, EX_CONFIG, "fetch_budget: '%s' is not a number of "
				    "seconds from 1 to 3600", v);
			o->budget = (int)t;
		}
	}
	if (o->cache_dir == NULL
	    && (o->cache_dir = conf_setting(cf, "SECMAIL_REVOCATION_CACHE", "revocation_cache"))
	    == NULL)
		o->cache_dir = revoke_default_cache(buf, n);
	return 0;
}

/* ---- names and small helpers ---- */

const char *
revoke_reason_name(int reason)
{
	/* RFC 5280 §5.3.1 CRLReason; 7 is not used. */
	static const char *const names[] = { "unspecified", "keyCompromise", "cACompromise",
	    "affiliationChanged", "superseded", "cessationOfOperation", "certificateHold", "7",
	    "removeFromCRL", "privilegeWithdrawn", "aACompromise" };

	if (reason < 0 || reason >= (int)(sizeof names / sizeof names[0]))
		return "unspecified";
	return names[reason];
}

int
revoke_reason_voids_past(int reason)
{
	switch (reason) {
	case 3:		/* affiliationChanged */
	case 4:		/* superseded */
	case 5:		/* cessationOfOperation */
	case 9:		/* privilegeWithdrawn */
		return 0;
	default:
		return 1;
	}
}

enum revoke_mode
revoke_mode(const struct revoke *rv)
{
	return rv->o.mode;
}

const char *
revoke_warning(const struct revoke *rv)
{
	return rv->warning;
}

static time_t
now_of(const struct revoke *rv)
{
	return rv->o.now ? rv->o.now : time(NULL);
}

static void
fmt_utc(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, n, "?");
}

static int
asn1_time_t(const ASN1_TIME *a, time_t *t)
{
	struct tm tm;

	if (a == NULL || !ASN1_TIME_to_tm(a, &tm))
		return -1;
	*t = timegm(&tm);
	return 0;
}

/* Append "; what" to a->why (truncating: it is one line for people). */
static void
why_add(struct revoke_answer *a, const char *fmt, ...) ERR_PRINTF(2, 3);

static void
why_add(struct revoke_answer *a, const char *fmt, ...)
{
	size_t len = strlen(a->why);
	va_list ap;

	if (len + 3 >= sizeof a->why)
		return;
	if (len > 0) {
		memcpy(a->why + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(a->why + len, sizeof a->why - len, fmt, ap);
	va_end(ap);
}

/* The newest OpenSSL error as a short phrase, and the queue cleared. */
static const char *
ssl_reason(char *buf, size_t n, const char *dflt)
{
	unsigned long ec = ERR_peek_last_error();
	const char *s = ec != 0 ? ERR_reason_error_string(ec) : NULL;

	snprintf(buf, n, "%s", s != NULL ? s : dflt);
	ERR_clear_error();
	return buf;
}

/* A URL we are willing to fetch and to name in messages: http:, printable, bounded. */
static int
url_ok(const char *u)
{
	size_t i;

	if (strncasecmp(u, "http://", 7) != 0 || strlen(u) > 1000)
		return 0;
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return 0;
	return 1;
}

/* The SHA-256 of p as lower-case hex (65 bytes with the NUL). */
static int
hex_sha256(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (!EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) || len != 32)
		return -1;
	for (i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

X509 *
revoke_find_issuer(X509 *x, STACK_OF(X509) *certs)
{
	int i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		EVP_PKEY *pk = X509_get0_pubkey(c);

		if (X509_check_issued(c, x) == X509_V_OK && pk != NULL && X509_verify(x, pk) == 1) {
			ERR_clear_error();
			return c;
		}
	}
	ERR_clear_error();
	return NULL;
}

/* A whole file of at most max bytes (not secret: CRLs, cached answers), NUL-terminated, sized
 * by fstat so that a small file costs a small buffer. NULL with e set. */
static unsigned char *
read_file(const char *path, size_t max, size_t *len, struct err *e)
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
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			errno = EISDIR;
		err_sys(e, EX_NOINPUT, "cannot read %s", path);
		close(fd);
		return NULL;
	}
	/* Pipes have no size: up to max. One byte more shows a file that is too large. */
	cap = S_ISREG(st.st_mode) && (uintmax_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	if ((p = malloc(cap + 1)) == NULL) {
		close(fd);
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	r = io_read_full(fd, p, cap);
	close(fd);
	if (r < 0 || (size_t)r > max) {
		if (r < 0)
			err_sys(e, EX_IOERR, "cannot read %s", path);
		else
			err_set(e, EX_DATAERR, "%s: larger than %zu bytes", path, max);
		free(p);
		return NULL;
	}
	p[r] = '\0';
	*len = (size_t)r;
	return p;
}

/* ---- local CRLs ---- */

static int
add_crl(struct revoke *rv, X509_CRL *crl, const char *path, struct err *e)
{
	struct local_crl *v = realloc(rv->crls, (rv->ncrls + 1) * sizeof *v);
	struct buf b = BUF_INIT;

	if (v == NULL) {
		X509_CRL_free(crl);
		return err_set(e, EX_OSERR, "out of memory");
	}
	rv->crls = v;
	buf_addf(&b, "CRL file %s", path);
	if ((v[rv->ncrls].src = buf_take(&b, e)) == NULL) {
		X509_CRL_free(crl);
		return -1;
	}
	v[rv->ncrls++].crl = crl;
	return 0;
}

/* Every CRL in a file (PEM, any number; or one DER): how many, or -1. */
static int
load_crl_file(struct revoke *rv, const char *path, struct err *e)
{
	unsigned char *p;
	const unsigned char *q;
	size_t n;
	X509_CRL *crl;
	BIO *b;
	int got = 0;

	if ((p = read_file(path, REVOKE_MAX_CRL, &n, e)) == NULL) {
		/* The filter contract: a file we cannot read now may be readable later; one
		 * too large to be a CRL is a configuration error. */
		e->code = e->code == EX_DATAERR ? EX_CONFIG : EX_TEMPFAIL;
		return -1;
	}
	if ((b = BIO_new_mem_buf(p, (int)n)) == NULL) {
		free(p);
		return err_ssl(e, EX_OSERR, "out of memory");
	}
	while ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		if (add_crl(rv, crl, path, e) != 0) {
			BIO_free(b);
			free(p);
			return -1;
		}
		got++;
	}
	BIO_free(b);
	ERR_clear_error();
	q = p;
	if (got == 0 && (crl = d2i_X509_CRL(NULL, &q, (long)n)) != NULL) {
		if (add_crl(rv, crl, path, e) != 0) {
			free(p);
			return -1;
		}
		got++;
	}
	ERR_clear_error();
	free(p);
	return got;
}

static int
load_crl_dir(struct revoke *rv, const char *dir, struct err *e)
{
	struct dirent *d;
	struct stat st;
	struct buf b = BUF_INIT;
	DIR *dp;
	int rc = 0, files = 0;

	if ((dp = opendir(dir)) == NULL)
		return err_sys(e, EX_TEMPFAIL, "cannot open CRL directory %s", dir);
	while (rc == 0 && (d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (++files > 10000) {
			rc = err_set(e, EX_CONFIG, "%s: more than 10000 files", dir);
			break;
		}
		buf_reset(&b);
		buf_addf(&b, "%s/%s", dir, d->d_name);
		if (buf_check(&b, e) != 0) {
			rc = -1;
			break;
		}
		/* Other files (certificates of a hashed directory, a README) are no CRLs. */
		if (stat(b.p, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (load_crl_file(rv, b.p, e) < 0)
			rc = -1;
	}
	closedir(dp);
	buf_free(&b);
	return rc;
}

static int
load_local(struct revoke *rv, struct err *e)
{
	int k;

	if (rv->loaded)
		return 0;
	rv->loaded = 1;
	if (rv->o.crl_file != NULL) {
		if ((k = load_crl_file(rv, rv->o.crl_file, e)) < 0)
			return err_wrap(e, "--crl-file");
		if (k == 0)
			return err_set(e, EX_CONFIG, "%s: no CRL in the file", rv->o.crl_file);
	}
	if (rv->o.crl_path != NULL && load_crl_dir(rv, rv->o.crl_path, e) != 0)
		return err_wrap(e, "--crl-path");
	return 0;
}

int
revoke_load(struct revoke *rv, struct err *e)
{
	return load_local(rv, e);
}

struct revoke *
revoke_new(const struct revoke_opts *o, struct err *e)
{
	struct revoke *rv = calloc(1, sizeof *rv);

	if (rv == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	rv->o = *o;
	if (rv->o.timeout <= 0)
		rv->o.timeout = REVOKE_TIMEOUT;
	if (rv->o.budget <= 0)
		rv->o.budget = REVOKE_BUDGET;
	if (rv->o.mode == REVOKE_UNSET)
		rv->o.mode = REVOKE_SOFT;
	if (rv->o.fetch < 0)
		rv->o.fetch = 1;
	return rv;
}

void
revoke_free(struct revoke *rv)
{
	size_t i;

	if (rv == NULL)
		return;
	for (i = 0; i < rv->ncrls; i++) {
		X509_CRL_free(rv->crls[i].crl);
		free(rv->crls[i].src);
	}
	free(rv->crls);
	free(rv);
}

/* ---- what a CRL says ---- */

static int
is_ca(X509 *x)
{
	int k = X509_check_ca(x);

	ERR_clear_error();
	return k > 0;
}

/* Does one of the names in idp equal a full name of x's CRL distribution points? */
static int
idp_covers(const DIST_POINT_NAME *dpn, X509 *x)
{
	STACK_OF(DIST_POINT) *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	int i, j, k, hit = 0;

	for (i = 0; cdp != NULL && i < sk_DIST_POINT_num(cdp) && !hit; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(cdp, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname) && !hit; j++)
			for (k = 0; k < sk_GENERAL_NAME_num(dpn->name.fullname) && !hit; k++)
				hit = GENERAL_NAME_cmp(sk_GENERAL_NAME_value(dp->distpoint->name.fullname,
				    j), sk_GENERAL_NAME_value(dpn->name.fullname, k)) == 0;
	}
	sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
	ERR_clear_error();
	return hit;
}

/* RFC 5280 §5.2: the CRL extensions we understand; any other critical one makes the CRL
 * unusable. The issuing distribution point must cover x (§5.2.5, §6.3.3 b). 0 usable, else
 * -1 with why. */
static int
crl_scope(X509_CRL *crl, X509 *x, char *why, size_t n)
{
	STACK_OF(X509_REVOKED) *revs;
	ISSUING_DIST_POINT *idp;
	int i, crit = -1, nid;

	for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		X509_EXTENSION *ext = X509_CRL_get_ext(crl, i);

		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		if (nid == NID_delta_crl)
			return snprintf(why, n, "a delta CRL (not supported)"), -1;
		if (X509_EXTENSION_get_critical(ext) && nid != NID_issuing_distribution_point
		    && nid != NID_crl_number && nid != NID_authority_key_identifier)
			return snprintf(why, n, "an unknown critical extension"), -1;
	}
	/* RFC 5280 §5.3: the same for entry extensions. reasonCode and invalidityDate are never
	 * critical; certificateIssuer (critical) belongs to indirect CRLs, which we do not use,
	 * and would move the entries after it to another CA. */
	revs = X509_CRL_get_REVOKED(crl);
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		const STACK_OF(X509_EXTENSION) *exts =
		    X509_REVOKED_get0_extensions(sk_X509_REVOKED_value(revs, i));
		int j;

		for (j = 0; j < sk_X509_EXTENSION_num(exts); j++)
			if (X509_EXTENSION_get_critical(sk_X509_EXTENSION_value(exts, j)))
				return snprintf(why, n, "an entry with a critical extension (not "
				    "supported)"), -1;
	}
	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
	ERR_clear_error();
	if (idp == NULL)
		return crit == -1 ? 0 : (snprintf(why, n, "its issuing distribution point cannot "
		    "be read"), -1);
	i = 0;
	if (idp->indirectCRL)
		i = snprintf(why, n, "an indirect CRL (not supported)");
	else if (idp->onlysomereasons != NULL)
		i = snprintf(why, n, "covers only some reasons (not supported)");
	else if (idp->onlyattr)
		i = snprintf(why, n, "covers attribute certificates only");
	else if (idp->onlyuser && is_ca(x))
		i = snprintf(why, n, "covers end-entity certificates only");
	else if (idp->onlyCA && !is_ca(x))
		i = snprintf(why, n, "covers CA certificates only");
	else if (idp->distpoint != NULL && (idp->distpoint->type != 0 || !idp_covers(idp->distpoint,
	    x)))
		i = snprintf(why, n, "a CRL for another distribution point");
	ISSUING_DIST_POINT_free(idp);
	return i > 0 ? -1 : 0;
}

/* What crl (from source) says about x, issued by issuer: 1 with a filled, 0 when it cannot
 * say (why). A listed revocation counts even from a CRL that is no longer fresh (revocation
 * is final), except certificateHold; "good" only from a fresh one. */
static int
crl_answer(X509_CRL *crl, X509 *x, X509 *issuer, time_t now, const char *source,
    struct revoke_answer *a, char *why, size_t n)
{
	EVP_PKEY *pk = X509_get0_pubkey(issuer);
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *re;
	time_t t, next = 0;
	char s[40];
	int k, reason = -1, stale;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
		return snprintf(why, n, "issued by another CA"), 0;
	/* RFC 5280 §6.3.3 (f), (g): the issuer's key signed it, and it may sign CRLs. */
	if (pk == NULL || X509_CRL_verify(crl, pk) != 1) {
		ERR_clear_error();
		return snprintf(why, n, "its signature does not verify with the issuer's key"), 0;
	}
	if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE)
	    && !(X509_get_key_usage(issuer) & KU_CRL_SIGN))
		return snprintf(why, n, "the issuer's key usage does not permit CRL signing"), 0;
	if (crl_scope(crl, x, why, n) != 0)
		return 0;
	if (asn1_time_t(X509_CRL_get0_lastUpdate(crl), &t) != 0 || t > now + REVOKE_SKEW) {
		ERR_clear_error();
		return snprintf(why, n, "its thisUpdate lies in the future"), 0;
	}
	/* RFC 5280 §5.1.2.5: conforming CRLs have a nextUpdate; without one, never fresh. */
	stale = asn1_time_t(X509_CRL_get0_nextUpdate(crl), &next) != 0 || next < now;
	ERR_clear_error();
	k = X509_CRL_get0_by_serial(crl, &rev, (ASN1_INTEGER *)X509_get0_serialNumber(x));
	if (k == 1 && rev != NULL) {
		if ((re = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL)) != NULL) {
			reason = (int)ASN1_ENUMERATED_get(re);
			ASN1_ENUMERATED_free(re);
		}
		ERR_clear_error();
		if (!(stale && reason == 6)) {
			a->status = REVOKE_REVOKED;
			a->reason = reason;
			if (asn1_time_t(X509_REVOKED_get0_revocationDate(rev), &a->when) != 0)
				a->when = 0;
			snprintf(a->source, sizeof a->source, "%s", source);
			return 1;
		}
	}
	ERR_clear_error();
	if (stale) {
		if (X509_CRL_get0_nextUpdate(crl) == NULL)
			return snprintf(why, n, "it has no nextUpdate"), 0;
		fmt_utc(next, s, sizeof s);
		return snprintf(why, n, "it expired on %s", s), 0;
	}
	a->status = REVOKE_GOOD;
	snprintf(a->source, sizeof a->source, "%s", source);
	return 1;
}

/* ---- the cache ---- */

/* The cache directory, looked at once: 1 usable, 0 not (missing and not create, or refused:
 * then the warning says why). Reading needs it private too: a "failed" marker planted by
 * someone else would silence a source. */
static int
cache_ready(struct revoke *rv, int create)
{
	struct err e;
	int k;

	if (rv->o.cache_dir == NULL || rv->cache < 0)
		return 0;
	if (rv->cache == 1)
		return 1;
	if (rv->cache == 2 && !create)
		return 0;
	if ((k = io_dir_private(rv->o.cache_dir, create, &e)) == 0) {
		rv->cache = 1;
		return 1;
	}
	if (k > 0) {
		rv->cache = 2;
		return 0;
	}
	rv->cache = -1;
	snprintf(rv->warning, sizeof rv->warning, "the revocation cache is not used: %.250s",
	    e.msg);
	return 0;
}

/* DIR/KIND-SHA256(key), malloc'd; NULL when out of memory. */
static char *
cache_path(const struct revoke *rv, const char *kind, const void *key, size_t len)
{
	struct buf b = BUF_INIT;
	struct err e;
	char hex[65];

	if (hex_sha256(key, len, hex) != 0)
		return NULL;
	buf_addf(&b, "%s/%s-%s", rv->o.cache_dir, kind, hex);
	return buf_take(&b, &e);
}

/* The cached bytes for kind/key, or NULL. */
static unsigned char *
cache_get(struct revoke *rv, const char *kind, const void *key, size_t len, size_t max,
    size_t *n)
{
	unsigned char *p = NULL;
	struct err e;
	char *path;

	*n = 0;
	if (!cache_ready(rv, 0) || (path = cache_path(rv, kind, key, len)) == NULL)
		return NULL;
	p = read_file(path, max, n, &e);
	free(path);
	return p;
}

static void
cache_put(struct revoke *rv, const char *kind, const void *key, size_t len, const void *p,
    size_t n)
{
	struct io_atomic a;
	struct err e;
	char *path;

	if (!cache_ready(rv, 1))
		return;
	if ((path = cache_path(rv, kind, key, len)) == NULL)
		return;
	if (io_atomic_open(&a, path, 0600, &e) == 0) {
		if (io_write_all(a.fd, p, n) != 0) {
			err_sys(&e, EX_IOERR, "cannot write %s", a.tmp);
			io_atomic_abort(&a);
		} else if (io_atomic_commit(&a, &e) == 0) {
			free(path);
			return;
		}
	}
	snprintf(rv->warning, sizeof rv->warning, "the revocation cache was not updated: %.250s",
	    e.msg);
	free(path);
}

/* A source that did not answer less than REVOKE_RETRY seconds ago rests: 1 (why added), else 0. The
 * marker holds the time of the failure and what it was. */
static int
resting(struct revoke *rv, const char *url, time_t now, struct revoke_answer *a,
    const char *kind)
{
	unsigned char *p;
	char *end, s[40];
	long long t;
	size_t n;
	int yes = 0;

	if ((p = cache_get(rv, "failed", url, strlen(url), 4096, &n)) == NULL)
		return 0;
	errno = 0;
	t = strtoll((char *)p, &end, 10);
	if (errno == 0 && end != (char *)p && *end == ' ' && t <= now + REVOKE_SKEW
	    && now - t < REVOKE_RETRY) {
		end[strcspn(end, "\n")] = '\0';
		fmt_utc((time_t)t + REVOKE_RETRY, s, sizeof s);
		why_add(a, "%s %s: failed (%.100s), not asked again before %s", kind, url, end + 1,
		    s);
		yes = 1;
	}
	free(p);
	return yes;
}

static void
failed(struct revoke *rv, const char *url, time_t now, const char *why)
{
	char line[200];
	int n = snprintf(line, sizeof line, "%lld %.150s\n", (long long)now, why);

	if (n > 0)
		cache_put(rv, "failed", url, strlen(url), line, (size_t)n);
}

/* ---- the fetch budget of one message ---- */

void
revoke_begin(struct revoke *rv)
{
	if (rv != NULL)
		rv->started = 0;
}

/* The budget runs from the message's first check, not from revoke_begin: reading and
 * hashing a large message is not fetching. */
static void
budget_start(struct revoke *rv)
{
	rv->started = 1;
	if (clock_gettime(CLOCK_MONOTONIC, &rv->deadline) != 0)
		rv->deadline.tv_sec = 0;	/* no clock: no fetches */
	else
		rv->deadline.tv_sec += rv->o.budget;
}

/* Milliseconds left of the budget, 0 when it is spent. */
static long long
budget_left(const struct revoke *rv)
{
	struct timespec now;
	long long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	ms = ((long long)rv->deadline.tv_sec - now.tv_sec) * 1000
	    + (rv->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/* The timeout of the next fetch in seconds: the per-fetch one, or what is left of the budget
 * (rounded up) when that is less; 0 when the budget is spent. */
static int
fetch_timeout(struct revoke *rv)
{
	long long left = budget_left(rv);

	rv->cut = 0;
	if (left <= 0)
		return 0;
	if (left < (long long)rv->o.timeout * 1000) {
		rv->cut = 1;
		return (int)((left + 999) / 1000);
	}
	return rv->o.timeout;
}

/* Before a fetch: 1 when the budget is spent (the source is not asked, why added). */
static int
spent(struct revoke *rv, struct revoke_answer *a, const char *kind, const char *url)
{
	if (budget_left(rv) > 0)
		return 0;
	why_add(a, "%s %s: not asked, the %d seconds for revocation fetches were spent", kind,
	    url, rv->o.budget);
	return 1;
}

/* After a fetch that failed: a source the budget cut short does not rest; what it said gets
 * the reason. */
static void
fetch_failed(struct revoke *rv, const char *url, time_t now, char *why, size_t n)
{
	size_t len;

	if (rv->cut && budget_left(rv) <= 0) {
		len = strlen(why);
		snprintf(why + len, n - len, " (cut short: the %d seconds for revocation fetches "
		    "ran out)", rv->o.budget);
		return;
	}
	failed(rv, url, now, why);
}

/* ---- HTTP ---- */

/* A connection to host:port within timeout seconds, as a non-blocking socket BIO (OpenSSL's
 * HTTP client then waits with the same timeout). Our own connect: OpenSSL's retries a refused
 * connection until the timeout, and an unreachable source must cost nothing. No proxy, no
 * redirects: CRL and OCSP URLs name the server itself (RFC 5280 §4.2.1.13, RFC 6960 A.1). */
static BIO *
http_connect(const char *host, const char *port, int timeout, char *why, size_t n)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct pollfd p;
	socklen_t len;
	BIO *b;
	int fd = -1, k, soerr = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((k = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(why, n, "cannot resolve %.100s: %s", host, gai_strerror(k));
		return NULL;
	}
	snprintf(why, n, "no address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd < 0) {
			snprintf(why, n, "%s", strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			p.fd = fd;
			p.events = POLLOUT;
			do
				k = poll(&p, 1, timeout * 1000);
			while (k < 0 && errno == EINTR);
			len = sizeof soerr;
			if (k == 0) {
				snprintf(why, n, "no connection within %d seconds", timeout);
			} else if (k > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0) {
				if (soerr == 0)
					break;
				snprintf(why, n, "%s", strerror(soerr));
			} else {
				snprintf(why, n, "%s", strerror(errno));
			}
		} else {
			snprintf(why, n, "%s", strerror(errno));
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return NULL;
	if ((b = BIO_new_socket(fd, BIO_CLOSE)) == NULL) {
		close(fd);
		snprintf(why, n, "out of memory");
		return NULL;
	}
	BIO_set_nbio(b, 1);
	return b;
}

/* GET url (http:) or, with req, POST it: the answer's body in a memory BIO, at most max
 * bytes, or NULL with why. */
static BIO *
http_fetch(const char *url, BIO *req, const char *ctype, const char *want, size_t max,
    int timeout, char *why, size_t n)
{
	char *host = NULL, *port = NULL, *path = NULL, *query = NULL, tmp[120];
	struct buf full = BUF_INIT;
	struct err e;
	BIO *conn = NULL, *body = NULL;
	int ssl = 0;

	ERR_clear_error();
	if (!OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path, &query, NULL)
	    || ssl) {
		snprintf(why, n, "cannot use the URL");
		goto out;
	}
	if ((conn = http_connect(host, port, timeout, why, n)) == NULL)
		goto out;
	buf_addf(&full, "%s%s%s", path, query != NULL && *query ? "?" : "",
	    query != NULL ? query : "");
	if (buf_check(&full, &e) != 0) {
		snprintf(why, n, "out of memory");
		goto out;
	}
	body = OSSL_HTTP_transfer(NULL, host, port, full.p, 0, NULL, NULL, conn, conn, NULL, NULL,
	    0, NULL, ctype, req, want, 1, max, timeout, 0);
	if (body == NULL)
		snprintf(why, n, "%s", ssl_reason(tmp, sizeof tmp, "no answer"));
out:
	BIO_free_all(conn);
	buf_free(&full);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	OPENSSL_free(query);
	ERR_clear_error();
	return body;
}

/* ---- OCSP (RFC 6960) ---- */

/* RFC 6960 §4.2.2.2: the issuer itself, or a responder it issued with id-kp-OCSPSigning,
 * valid now. (Its own revocation is not checked: RFC 6960 §4.2.2.2.1 lets the CA decide, and
 * such responders are short-lived.) */
static int
responder_ok(X509 *signer, X509 *issuer, time_t now)
{
	EVP_PKEY *ipk = X509_get0_pubkey(issuer);
	int ok;

	if (X509_cmp(signer, issuer) == 0)
		return 1;
	ok = ipk != NULL && X509_check_issued(issuer, signer) == X509_V_OK
	    && X509_verify(signer, ipk) == 1
	    && (X509_get_extension_flags(signer) & EXFLAG_XKUSAGE)
	    && (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN)
	    && X509_cmp_time(X509_get0_notBefore(signer), &now) <= 0
	    && X509_cmp_time(X509_get0_notAfter(signer), &now) >= 0;
	ERR_clear_error();
	return ok;
}

/* What resp says about id: 1 with a filled, 0 not (why). req: the request whose nonce it must
 * echo when it has one, NULL for a cached response. *fresh_until: its nextUpdate when it
 * answered and may be cached, else 0. */
static int
ocsp_answer(OCSP_RESPONSE *resp, OCSP_REQUEST *req, OCSP_CERTID *id, X509 *issuer, time_t now,
    const char *source, struct revoke_answer *a, time_t *fresh_until, char *why, size_t n)
{
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	STACK_OF(X509) *extra = NULL;
	OCSP_BASICRESP *bs = NULL;
	X509 *signer = NULL;
	time_t tu, nu = 0;
	char s[40];
	int st, status = -1, reason = -1, rc = 0, stale, k;

	*fresh_until = 0;
	if ((st = OCSP_response_status(resp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(why, n, "the responder answered %s", OCSP_response_status_str(st));
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		snprintf(why, n, "not a basic OCSP response");
		goto out;
	}
	/* RFC 8954 §2.1: a nonce we sent must come back unchanged; a responder may leave it
	 * out (answers produced ahead of time, RFC 5019), and then thisUpdate/nextUpdate alone
	 * bound a replay, as for a CRL. OCSP_check_nonce: 1 equal, 0 different, -1 not in the
	 * response, 2 and 3 cannot happen (we always send one). */
	if (req != NULL && (k = OCSP_check_nonce(req, bs)) != 1 && k != -1) {
		snprintf(why, n, "the response does not carry our nonce (replayed?)");
		goto out;
	}
	if ((extra = sk_X509_new_null()) == NULL || !sk_X509_push(extra, issuer)) {
		snprintf(why, n, "out of memory");
		goto out;
	}
	if (OCSP_resp_get0_signer(bs, &signer, extra) != 1 || signer == NULL) {
		snprintf(why, n, "the responder's certificate is not in the response");
		goto out;
	}
	/* The signature only (OCSP_NOVERIFY): who may sign is decided by responder_ok. */
	if (OCSP_basic_verify(bs, extra, NULL, OCSP_NOVERIFY) <= 0) {
		snprintf(why, n, "the response signature does not verify");
		goto out;
	}
	if (!responder_ok(signer, issuer, now)) {
		snprintf(why, n, "signed by neither the issuer nor a responder it authorised");
		goto out;
	}
	if (!OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd)) {
		snprintf(why, n, "the response does not cover the certificate");
		goto out;
	}
	if (asn1_time_t(thisupd, &tu) != 0 || tu > now + REVOKE_SKEW) {
		snprintf(why, n, "its thisUpdate lies in the future");
		goto out;
	}
	if (nextupd != NULL && asn1_time_t(nextupd, &nu) != 0) {
		snprintf(why, n, "its nextUpdate cannot be read");
		goto out;
	}
	stale = nextupd != NULL ? nu < now : tu < now - REVOKE_MAX_AGE;
	if (status == V_OCSP_CERTSTATUS_REVOKED && !(stale && reason == 6)) {
		a->status = REVOKE_REVOKED;
		a->reason = reason >= 0 ? reason : -1;
		if (asn1_time_t(rev, &a->when) != 0)
			a->when = 0;
	} else if (stale && nextupd != NULL) {
		fmt_utc(nu, s, sizeof s);
		snprintf(why, n, "the response expired on %s", s);
		goto out;
	} else if (stale) {
		snprintf(why, n, "the response has no nextUpdate and is over %d minutes old",
		    REVOKE_MAX_AGE / 60);
		goto out;
	} else if (status == V_OCSP_CERTSTATUS_GOOD) {
		a->status = REVOKE_GOOD;
	} else {
		snprintf(why, n, "the responder does not know the certificate (status unknown)");
		goto out;
	}
	snprintf(a->source, sizeof a->source, "%s", source);
	if (nextupd != NULL && nu > now)
		*fresh_until = nu;
	rc = 1;
out:
	sk_X509_free(extra);
	OCSP_BASICRESP_free(bs);
	ERR_clear_error();
	return rc;
}

/* The cache key of an OCSP answer: the CertID (issuer name and key hashes, serial). */
static int
certid_der(OCSP_CERTID *id, unsigned char **der)
{
	*der = NULL;
	return i2d_OCSP_CERTID(id, der);
}

static int
ocsp_cached(struct revoke *rv, OCSP_CERTID *id, X509 *issuer, time_t now,
    struct revoke_answer *a)
{
	unsigned char *der = NULL, *p;
	const unsigned char *q;
	OCSP_RESPONSE *resp;
	time_t until;
	char why[200];
	size_t n;
	int len, rc = 0;

	if ((len = certid_der(id, &der)) <= 0)
		return 0;
	if ((p = cache_get(rv, "ocsp", der, (size_t)len, REVOKE_MAX_OCSP, &n)) != NULL) {
		q = p;
		if ((resp = d2i_OCSP_RESPONSE(NULL, &q, (long)n)) != NULL) {
			rc = ocsp_answer(resp, NULL, id, issuer, now, "a cached OCSP response", a,
			    &until, why, sizeof why);
			OCSP_RESPONSE_free(resp);
		}
		free(p);
	}
	OPENSSL_free(der);
	ERR_clear_error();
	return rc;
}

static OCSP_RESPONSE *
ocsp_post(const char *url, OCSP_REQUEST *req, int timeout, char *why, size_t n)
{
	OCSP_RESPONSE *resp = NULL;
	BIO *rq, *rs = NULL;

	if ((rq = ASN1_item_i2d_mem_bio(ASN1_ITEM_rptr(OCSP_REQUEST), (const ASN1_VALUE *)req))
	    == NULL) {
		snprintf(why, n, "out of memory");
		goto out;
	}
	if ((rs = http_fetch(url, rq, "application/ocsp-request", "application/ocsp-response",
	    REVOKE_MAX_OCSP, timeout, why, n)) == NULL)
		goto out;
	if ((resp = d2i_OCSP_RESPONSE_bio(rs, NULL)) == NULL)
		snprintf(why, n, "the answer is not an OCSP response");
out:
	BIO_free(rq);
	BIO_free(rs);
	ERR_clear_error();
	return resp;
}

static int
ocsp_fetch(struct revoke *rv, const char *url, OCSP_CERTID *id, X509 *issuer, time_t now,
    struct revoke_answer *a)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *rid = OCSP_CERTID_dup(id);
	OCSP_RESPONSE *resp = NULL;
	unsigned char *der = NULL, *kd = NULL;
	char why[200] = "", src[240];
	time_t until = 0;
	int len, klen, rc = 0;

	if (req == NULL || rid == NULL || !OCSP_request_add0_id(req, rid)) {
		OCSP_CERTID_free(rid);
		snprintf(why, sizeof why, "out of memory");
		goto out;
	}
	if (!OCSP_request_add1_nonce(req, NULL, -1)) {
		snprintf(why, sizeof why, "out of memory");
		goto out;
	}
	snprintf(src, sizeof src, "OCSP %s", url);
	/* Only a responder that did not answer rests: one that answered "unknown" for this
	 * certificate may know the next. */
	if ((resp = ocsp_post(url, req, fetch_timeout(rv), why, sizeof why)) == NULL) {
		fetch_failed(rv, url, now, why, sizeof why);
		goto out;
	}
	rc = ocsp_answer(resp, req, id, issuer, now, src, a, &until, why, sizeof why);
	if (rc == 1 && until > now && (len = i2d_OCSP_RESPONSE(resp, &der)) > 0
	    && (klen = certid_der(id, &kd)) > 0)
		cache_put(rv, "ocsp", kd, (size_t)klen, der, (size_t)len);
out:
	if (rc == 0)
		why_add(a, "OCSP %s: %s", url, why);
	OPENSSL_free(der);
	OPENSSL_free(kd);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return rc;
}

/* ---- CRLs from distribution points ---- */

/* The http: URLs of x's CRL distribution points (RFC 5280 §4.2.1.13) that name the full CRL
 * of its issuer (no reasons subset, no other CRL issuer). */
static int
crl_urls(X509 *x, char **v, int max, struct revoke_answer *a)
{
	STACK_OF(DIST_POINT) *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	int i, j, k = 0;

	for (i = 0; cdp != NULL && i < sk_DIST_POINT_num(cdp) && k < max; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(cdp, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0 || dp->reasons != NULL
		    || dp->CRLissuer != NULL)
			continue;
		for (j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname) && k < max; j++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j);
			const char *u;

			if (g->type != GEN_URI)
				continue;
			u = (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
			if ((size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier) != strlen(u))
				continue;	/* an embedded NUL */
			if (!url_ok(u)) {
				if (strncasecmp(u, "http://", 7) != 0 && strchr(u, ':') != NULL)
					why_add(a, "CRL distribution point %.*s: only http: URLs are "
					    "fetched", (int)(strchr(u, ':') - u), u);
				continue;
			}
			if ((v[k] = strdup(u)) != NULL)
				k++;
		}
	}
	sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
	ERR_clear_error();
	return k;
}

/* A CRL from bytes (DER). */
static X509_CRL *
crl_from(const unsigned char *p, size_t n)
{
	const unsigned char *q = p;
	X509_CRL *crl = n <= LONG_MAX ? d2i_X509_CRL(NULL, &q, (long)n) : NULL;

	ERR_clear_error();
	return crl;
}

static int
crl_cached(struct revoke *rv, const char *url, X509 *x, X509 *issuer, time_t now,
    struct revoke_answer *a)
{
	unsigned char *p;
	X509_CRL *crl;
	char why[200], src[240];
	size_t n;
	int rc = 0;

	if ((p = cache_get(rv, "crl", url, strlen(url), REVOKE_MAX_CRL, &n)) == NULL)
		return 0;
	snprintf(src, sizeof src, "a cached CRL from %s", url);
	if ((crl = crl_from(p, n)) != NULL) {
		rc = crl_answer(crl, x, issuer, now, src, a, why, sizeof why);
		X509_CRL_free(crl);
	}
	free(p);
	return rc;
}

static int
crl_fetch(struct revoke *rv, const char *url, X509 *x, X509 *issuer, time_t now,
    struct revoke_answer *a)
{
	X509_CRL *crl = NULL;
	char why[200] = "", src[240];
	const unsigned char *p = NULL;
	time_t next;
	BIO *b;
	long n = 0;
	int rc = 0;

	snprintf(src, sizeof src, "CRL %s", url);
	b = http_fetch(url, NULL, NULL, NULL, REVOKE_MAX_CRL, fetch_timeout(rv), why, sizeof why);
	if (b != NULL && ((n = BIO_get_mem_data(b, (char **)&p)) <= 0
	    || (crl = crl_from(p, (size_t)n)) == NULL))
		snprintf(why, sizeof why, "the answer is not a CRL (DER)");
	if (b == NULL)
		fetch_failed(rv, url, now, why, sizeof why);
	else if (crl == NULL)
		failed(rv, url, now, why);
	if (crl != NULL && (rc = crl_answer(crl, x, issuer, now, src, a, why, sizeof why)) == 1
	    && asn1_time_t(X509_CRL_get0_nextUpdate(crl), &next) == 0 && next > now)
		cache_put(rv, "crl", url, strlen(url), p, (size_t)n);
	if (rc == 0)
		why_add(a, "CRL %s: %s", url, why);
	X509_CRL_free(crl);
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

/* ---- the check ---- */

/* The local CRLs of issuer: a revocation in any wins, else a "good" from any. */
static int
local_answer(struct revoke *rv, X509 *x, X509 *issuer, time_t now, struct revoke_answer *a)
{
	struct revoke_answer t, good;
	char why[200];
	size_t i;
	int have_good = 0;

	for (i = 0; i < rv->ncrls; i++) {
		if (X509_NAME_cmp(X509_CRL_get_issuer(rv->crls[i].crl),
		    X509_get_subject_name(issuer)) != 0)
			continue;
		a->asked = 1;
		memset(&t, 0, sizeof t);
		t.reason = -1;
		if (crl_answer(rv->crls[i].crl, x, issuer, now, rv->crls[i].src, &t, why,
		    sizeof why) == 0) {
			why_add(a, "%s: %s", rv->crls[i].src, why);
			continue;
		}
		if (t.status == REVOKE_REVOKED) {
			a->status = t.status;
			a->when = t.when;
			a->reason = t.reason;
			memcpy(a->source, t.source, sizeof a->source);
			return 1;
		}
		if (!have_good)
			good = t;
		have_good = 1;
	}
	if (have_good) {
		a->status = REVOKE_GOOD;
		memcpy(a->source, good.source, sizeof a->source);
	}
	return have_good;
}

int
revoke_check(struct revoke *rv, X509 *x, X509 *issuer, struct revoke_answer *a, struct err *e)
{
	STACK_OF(OPENSSL_STRING) *aia = NULL;
	char *crl[REVOKE_MAX_URLS], *ocsp[REVOKE_MAX_URLS];
	OCSP_CERTID *id = NULL;
	time_t now = now_of(rv);
	int i, ncrl = 0, nocsp = 0, done = 0;

	memset(a, 0, sizeof *a);
	a->status = REVOKE_UNKNOWN;
	a->reason = -1;
	if (load_local(rv, e) != 0)
		return -1;
	/* One budget per message: the command begins each (revoke_begin). */
	if (!rv->started)
		budget_start(rv);
	if (local_answer(rv, x, issuer, now, a))
		return 0;
	/* RFC 5280 §4.2.2.1: id-ad-ocsp access locations. */
	aia = X509_get1_ocsp(x);
	for (i = 0; i < sk_OPENSSL_STRING_num(aia) && nocsp < REVOKE_MAX_URLS; i++) {
		const char *u = sk_OPENSSL_STRING_value(aia, i);

		if (url_ok(u) && (ocsp[nocsp] = strdup(u)) != NULL)
			nocsp++;
	}
	X509_email_free(aia);
	ncrl = crl_urls(x, crl, REVOKE_MAX_URLS, a);
	ERR_clear_error();
	if (nocsp + ncrl == 0)
		return 0;
	a->asked = 1;
	if ((id = OCSP_cert_to_id(EVP_sha1(), x, issuer)) == NULL) {
		err_ssl(e, EX_OSERR, "cannot make an OCSP certificate id");
		done = -1;
		goto out;
	}
	/* The cache first: a procmail rule must not fetch for every message. */
	if (nocsp > 0 && ocsp_cached(rv, id, issuer, now, a))
		goto out;
	for (i = 0; i < ncrl; i++)
		if (crl_cached(rv, crl[i], x, issuer, now, a))
			goto out;
	if (!rv->o.fetch) {
		why_add(a, "%s not fetched (fetching is off)", nocsp ? "OCSP" : "CRL");
		goto out;
	}
	for (i = 0; i < nocsp; i++)
		if (!resting(rv, ocsp[i], now, a, "OCSP") && !spent(rv, a, "OCSP", ocsp[i])
		    && ocsp_fetch(rv, ocsp[i], id, issuer, now, a))
			goto out;
	for (i = 0; i < ncrl; i++)
		if (!resting(rv, crl[i], now, a, "CRL") && !spent(rv, a, "CRL", crl[i])
		    && crl_fetch(rv, crl[i], x, issuer, now, a))
			goto out;
out:
	for (i = 0; i < nocsp; i++)
		free(ocsp[i]);
	for (i = 0; i < ncrl; i++)
		free(crl[i]);
	OCSP_CERTID_free(id);
	ERR_clear_error();
	return done;
}
