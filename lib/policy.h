/* policy.h — the S/MIME mail policy: what the signature proves (cms_verify) and what the
 * message shows (its header, where the signed part sits, what smime-decrypt did) turned into
 * one verdict. Each rule is a small function, unit-tested in tests/unit/policy_test.c; the
 * rules and their order are documented in smime-verify(1). */
#ifndef SECMAIL_POLICY_H
#define SECMAIL_POLICY_H

#include <stddef.h>
#include <time.h>

#include "addr.h"
#include "ar.h"
#include "certstore.h"
#include "cms.h"
#include "hp.h"
#include "msg.h"

#define POLICY_CLOCK_SKEW CERTSTORE_SKEW	/* how far a signing time may lie ahead */

struct policy_facts {
	const struct msg_header *author;	/* the header whose From names the author: the
						 * message's, or a forwarded message's */
	const struct msg_header *outer;		/* the message's own header */
	const struct msg_header *entity;	/* the signed entity's header, or NULL */
	const char *part;	/* the signed part when it is not the whole message ("1",
				 * "2.1"), else NULL */
	int forwarded;		/* part is a message inside a message/rfc822 part */
	time_t now;
	int accept_sender;	/* a signer named only by Sender passes */
	const struct ar_decrypt *dec;	/* smime-decrypt's record (--after-decrypt), or NULL */
	const struct hp_info *hp;	/* header protection (RFC 9788) of a signature over the
					 * whole message: author is then the header a reader gets
					 * (hp_merge), and a pass says whether the header was
					 * protected and what differed outside; or NULL */
};

/*
 * Apply every rule to r (its verdict and reason as cms_verify left them), in this order; a
 * rule only turns a pass into something else, the first one to do so gives the reason:
 *  1. policy_content_type: only id-data is mail (RFC 8551 §3.1);
 *  2. policy_signing_time: not beyond now + POLICY_CLOCK_SKEW;
 *  3. policy_from: the author (From) matches the signer (sets r->identifier on any verdict
 *     with a signer);
 *  4. a pass carries notes that do not change it: whether the header was protected
 *     (RFC 9788) and what differed outside (hp_describe), or, without header protection,
 *     signed header fields that differ from the message's (policy_inner_fields); an
 *     encryption certificate that was ignored;
 *  5. wrapping: a signature that covers only a part is policy, naming the part;
 *  6. the decryption record, when given, is folded into the reason (a failed decryption is
 *     permerror).
 */
void policy_apply(const struct policy_facts *f, struct cms_result *r);

/* Rule 1. CMS_V_PASS, or CMS_V_POLICY with why. */
enum cms_verdict policy_content_type(int nid, const char *name, char *why, size_t n);
/* Rule 2. */
enum cms_verdict policy_signing_time(time_t t, time_t now, char *why, size_t n);
/*
 * Rule 3 (RFC 8550 §3, made stricter): the header must have exactly one From field, naming
 * at least one mailbox; the signer's certificate must name every From mailbox; no display
 * name may show an address other than its mailbox's (policy_name_spoof), nor may a comment
 * or group name (policy_field_spoof: readers show a comment as the name). A Sender that the
 * certificate names instead passes only with accept_sender. CMS_V_PASS with *matched (the
 * certificate's spelling of the author's address, malloc'd; NULL when out of memory) and
 * *by_sender, or CMS_V_POLICY with why.
 */
enum cms_verdict policy_from(const struct msg_header *h, char *const *signer,
    int accept_sender, char **matched, int *by_sender, char *why, size_t n);
/* Does the display name (as written; RFC 2047 is decoded here) show an address that is not
 * spec (an "@", or the full-width or small commercial at, between two non-empty runs)? 1
 * with the address shown in shown (n bytes), else 0. */
int policy_name_spoof(const char *name, const char *spec, char *shown, size_t n);
/* The same over a whole address field (comments, group names and quoted local parts
 * included): every address it shows must be a mailbox of l. 1 with the first other one in
 * shown, else 0. */
int policy_field_spoof(const char *value, const struct addr_list *l, char *shown, size_t n);
/* Rule 4: the signed entity's header fields other than Content-* and MIME-Version that no
 * outer field of the same name carries with the same value: 1 with their names in why, else
 * 0. They are never written into the output header. */
int policy_inner_fields(const struct msg_header *entity, const struct msg_header *outer,
    char *why, size_t n);

#endif
