/* revoke.h — is a certificate revoked? RFC 5280 CRLs (files and directories given by the user,
 * or fetched from the certificate's CRL distribution points) and RFC 6960 OCSP (the responder
 * its Authority Information Access names). Every answer is checked before it counts: signed
 * by the issuer (or, for OCSP, a responder the issuer authorised), in scope, fresh; fetched
 * answers are cached on disk until their nextUpdate. */
#ifndef SECMAIL_REVOKE_H
#define SECMAIL_REVOKE_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "conf.h"
#include "err.h"

#define REVOKE_TIMEOUT	5			/* seconds per fetch, by default */
#define REVOKE_BUDGET	15			/* seconds for all fetches of one
						 * message, by default */
#define REVOKE_MAX_CRL	(16 * 1024 * 1024)	/* a CRL file or download */
#define REVOKE_MAX_OCSP	(64 * 1024)		/* an OCSP response */
#define REVOKE_SKEW	(5 * 60)		/* a thisUpdate may lie this far ahead */
#define REVOKE_MAX_AGE	(60 * 60)		/* an OCSP answer without nextUpdate */
#define REVOKE_RETRY	(10 * 60)		/* a source that failed rests this long */
#define REVOKE_MAX_URLS	3			/* per certificate and kind */

enum revoke_mode {
	REVOKE_UNSET,		/* not given: revoke_opts_defaults fills it */
	REVOKE_SOFT,		/* status unknown: pass, with a note (the default) */
	REVOKE_STRICT,		/* status unknown: temperror (gateways) */
	REVOKE_OFF,		/* no revocation checks at all */
};

struct revoke_opts {
	enum revoke_mode mode;
	const char *crl_file;	/* CRLs, PEM (any number) or one DER; NULL: none */
	const char *crl_path;	/* a directory of such files; NULL: none */
	const char *cache_dir;	/* where fetched answers are kept; NULL: not kept */
	int fetch;		/* ask distribution points and responders over HTTP: 1, 0, or
				 * -1 (not given) */
	int timeout;		/* seconds per fetch; 0: not given */
	int budget;		/* seconds for all fetches of one message (revoke_begin);
				 * 0: not given */
	time_t now;		/* 0: time(NULL) */
};

struct revoke;

void revoke_opts_init(struct revoke_opts *o);

/* The options of every tool that checks revocation (long only), for a getopt_long table:
 * --crl-file FILE, --crl-path DIR, --revocation soft|strict|off, --no-fetch. */
enum { REVOKE_OPT_CRL_FILE = 0x1300, REVOKE_OPT_CRL_PATH, REVOKE_OPT_MODE, REVOKE_OPT_NO_FETCH };
#define REVOKE_LONGOPTS \
	{ "crl-file", required_argument, NULL, REVOKE_OPT_CRL_FILE }, \
	{ "crl-path", required_argument, NULL, REVOKE_OPT_CRL_PATH }, \
	{ "revocation", required_argument, NULL, REVOKE_OPT_MODE }, \
	{ "no-fetch", no_argument, NULL, REVOKE_OPT_NO_FETCH }
/* 1 when getopt's c is one of them (o updated), 0 when not, -1 with e set (EX_USAGE). */
int revoke_getopt(int c, const char *arg, struct revoke_opts *o, struct err *e);
/* "soft", "strict", "off": 0, else -1. */
int revoke_mode_parse(const char *s, enum revoke_mode *m);
/*
 * Fill what the command line left unset, built-in < configuration file < environment:
 * mode (SECMAIL_REVOCATION, "revocation"), crl_file (SECMAIL_CRL_FILE, "crl_file"), crl_path
 * (SECMAIL_CRL_PATH, "crl_path"), fetch ("fetch" on/off), timeout (SECMAIL_FETCH_TIMEOUT,
 * "fetch_timeout"), budget (SECMAIL_FETCH_BUDGET, "fetch_budget"), cache_dir (SECMAIL_REVOCATION_CACHE, "revocation_cache", else
 * revoke_default_cache; buf holds it). -1 with EX_CONFIG for a bad value.
 */
int revoke_opts_defaults(struct revoke_opts *o, const struct conf *cf, char *buf, size_t n,
    struct err *e);
/* revoke_opts_defaults (o->now set by the caller), then the checker: *rv is NULL when the
 * mode is off. 0, or -1 with e set. */
int revoke_setup(struct revoke_opts *o, const struct conf *cf, char *buf, size_t n,
    struct revoke **rv, struct err *e);
/* $XDG_CACHE_HOME/secmail/revocation, else ~/.cache/secmail/revocation (in buf); NULL when
 * neither variable names an absolute directory. */
const char *revoke_default_cache(char *buf, size_t n);

enum revoke_status { REVOKE_GOOD, REVOKE_REVOKED, REVOKE_UNKNOWN };

struct revoke_answer {
	enum revoke_status status;
	time_t when;		/* REVOKED: the revocation time */
	int reason;		/* REVOKED: the CRLReason (RFC 5280 §5.3.1), -1 when none given */
	int asked;		/* some source could have answered (a CRL file of the issuer, a
				 * distribution point, a responder) */
	char source[240];	/* GOOD, REVOKED: who said so ("CRL http://...", "OCSP ...") */
	char why[400];		/* UNKNOWN: what each source said, "; "-separated */
};

/* A checker with o's settings (copied; the strings must outlive it). Local CRLs are read on
 * first use. NULL with e set (EX_OSERR) when out of memory. */
struct revoke *revoke_new(const struct revoke_opts *o, struct err *e);
void revoke_free(struct revoke *rv);
/* Read the local CRLs now (revoke_check does on first use): 0, or -1 as revoke_check. */
int revoke_load(struct revoke *rv, struct err *e);
enum revoke_mode revoke_mode(const struct revoke *rv);
/*
 * A new message: the fetches from the next revoke_check until the next revoke_begin share
 * one budget of o->budget seconds (on the monotonic clock, from that first check on),
 * whatever they are for - the signer's chain, a further signer's, an encryption
 * certificate, each recipient of smime-encrypt. A command calls it once per message before
 * checking anything for it, so that in a batch each message has the whole budget, however
 * much the one before spent. A checker never begun has one budget for all it is asked.
 * Nothing happens when rv is NULL (revocation off).
 */
void revoke_begin(struct revoke *rv);

/*
 * The status of x, issued by issuer (whose certificate the caller has verified). Sources in
 * this order, the first answer wins: the local CRLs; cached OCSP responses and CRLs; the OCSP
 * responders of x's Authority Information Access (POST with a nonce); the CRL distribution
 * points of x (http: URLs only, at most REVOKE_MAX_URLS of each). A revocation listed in an
 * answer that is no longer fresh still counts (revocation is final), except certificateHold;
 * a "good" only from a fresh one. A source that failed is not asked again for REVOKE_RETRY
 * seconds. Returns 0 with a filled (any status), -1 with e set when the local CRLs cannot be
 * read (EX_TEMPFAIL; EX_CONFIG when a file holds no CRL) or memory runs out.
 *
 * All fetches since revoke_begin share one budget (o->budget seconds, one message). Each
 * fetch gets the per-fetch timeout or what is left of the budget, whichever is less; once
 * it is spent no source is asked, and what the local CRLs and the cache do not answer is
 * UNKNOWN, saying so in why. A source cut short by the budget does
 * not rest (it was not given its full time).
 */
int revoke_check(struct revoke *rv, X509 *x, X509 *issuer, struct revoke_answer *a,
    struct err *e);

/* A problem that did not change any answer (the cache could not be written), or "". */
const char *revoke_warning(const struct revoke *rv);

/* RFC 5280 §5.3.1 name of a CRLReason ("keyCompromise", ...), "unspecified" for -1. */
const char *revoke_reason_name(int reason);
/* Does a revocation for this reason void signatures made before it? keyCompromise,
 * cACompromise, aACompromise, unspecified (or none given) and certificateHold do: the key may
 * have been in other hands, and the signing time is the signer's own claim. */
int revoke_reason_voids_past(int reason);

/* The issuer of x among certs (name and signature checked), or NULL. */
X509 *revoke_find_issuer(X509 *x, STACK_OF(X509) *certs);

#endif
