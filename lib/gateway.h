/* gateway.h — the policy of secmail-gateway (secmail-gateway.conf(5)): where the local
 * users' keys and the certificate store are, which domains must get encrypted mail, and how
 * to look at a message before deciding what to do with it. */
#ifndef SECMAIL_GATEWAY_H
#define SECMAIL_GATEWAY_H

#include <limits.h>

#include "conf.h"
#include "err.h"

struct gw_policy {
	struct conf cf;		/* the values below point into it */
	const char *keys;	/* DIR/ADDRESS.{pem,key,pass}: the local identities */
	const char *store;	/* the certificate store */
	const char *ca_file, *ca_path, *authserv, *cipher, *sendmail, *tools;
	const char *require;	/* domains whose mail must leave encrypted */
	const char *obscure;	/* domains whose encrypted mail leaves with the Subject obscured
				 * (RFC 9788 hcp_baseline); others: hcp_no_confidentiality */
	int sign, harvest;
	int hp;			/* header protection (RFC 9788) on */
};

/*
 * Load the policy file at path. Unknown keys, sections, bad values (cipher, on/off), a file
 * others may write, and a keys directory that is missing or that others can change are
 * errors (EX_CONFIG, naming the file and line). tools_default is where the tools are when
 * the file does not say (NULL: it must say). Free with gw_policy_free.
 */
int gw_policy_load(struct gw_policy *p, const char *path, const char *tools_default,
    struct err *e);
void gw_policy_free(struct gw_policy *p);

/* Must mail to addr leave encrypted (its domain is listed in require_encryption, or "*")? */
int gw_required(const struct gw_policy *p, const char *addr);

/* Does encrypted mail to addr leave with its Subject obscured (its domain is listed in
 * obscure_subject, or "*"; header protection on)? */
int gw_obscured(const struct gw_policy *p, const char *addr);

/* A local user's identity: the options to give smime-sign and smime-decrypt. */
struct gw_ident {
	char *argv[6];
	int n;
	char cert[PATH_MAX], key[PATH_MAX], pass[PATH_MAX];
};

/* Look up addr in the keys directory: 1 and id filled when ADDRESS.pem and ADDRESS.key are
 * regular files there (ADDRESS.pass too, when it exists); 0 when addr has no identity. The
 * file names are the address as certstore_filename writes it. */
int gw_ident(const struct gw_policy *p, const char *addr, struct gw_ident *id);

enum gw_kind { GW_PLAIN, GW_SIGNED, GW_ENCRYPTED };

/* What the message on fd (read from its start, then rewound) already is, by its top-level
 * Content-Type and, for application/pkcs7-mime, the CMS content type of its body; and its
 * From address when it has exactly one and the field shows no other address (in a display
 * name, comment or group name, RFC 2047 decoded) (malloc'd, else NULL). A header that
 * cannot be read counts as plain. -1 with e set only on I/O errors. */
int gw_inspect(int fd, enum gw_kind *kind, char **from, struct err *e);

/*
 * Outbound mail carries no verdict of ours: remove from the message on *fd every
 * Authentication-Results and Secmail-Decryption field that claims authserv (RFC 8601 §5),
 * make bare CRs in the header spaces (no reader then sees a field there that we read as part
 * of another), and end the header with a blank line before a line that is not a field (every
 * reader then agrees where it ends). Only when something changed is *fd replaced by a new
 * spool holding the result. *fd is rewound. Returns how many fields were removed, or -1.
 */
int gw_strip_verdicts(int *fd, const char *authserv, struct err *e);

/* The smime= result in the first Authentication-Results field of the message on fd that
 * claims authserv, into out ("smime=pass"; "" when there is none); fd is rewound. */
int gw_verdict(int fd, const char *authserv, char *out, size_t n, struct err *e);

#endif
