/* hp.h — header protection for S/MIME (RFC 9788): the sender copies the header fields into the
 * cryptographic payload (the entity that is signed or encrypted), marks its Content-Type with
 * hp="clear" or hp="cipher", and for encrypted messages obscures the outer Subject and records
 * what the outer header said (HP-Outer); the receiver shows the protected fields instead of
 * the outer ones and tells where the two differ. */
#ifndef SECMAIL_HP_H
#define SECMAIL_HP_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "msg.h"

#define HP_OUTER_FIELD "HP-Outer"
#define HP_OBSCURED_SUBJECT "[...]"	/* RFC 9788 §3.2.2, hcp_baseline */

enum hp_mode {
	HP_NONE,	/* no hp parameter: the header is not protected */
	HP_CLEAR,	/* hp="clear": signed, the header fields are not confidential */
	HP_CIPHER,	/* hp="cipher": encrypted, HP-Outer says what was outside */
};

const char *hp_mode_name(enum hp_mode m);
/* The setting header_protection, SECMAIL_HEADER_PROTECTION, --header-protection: clear (or
 * on), cipher, none (or off). 0, or -1 for anything else. */
int hp_mode_parse(const char *s, enum hp_mode *m);

/* Is this a field the sender protects? Every field but the structural ones (Content-*,
 * MIME-Version), trace fields that MTAs add (Received, Return-Path, DKIM-Signature, ...),
 * verdicts (Authentication-Results, Secmail-Decryption), HP-Outer itself, and Bcc (a protected
 * copy would show the blind recipients to every recipient). */
int hp_protectable(const char *name);

/* Is this a field a reader sees or replies by (From, To, Cc, Subject, Date, Reply-To,
 * Message-ID, References, ...)? Such a field outside that the sender did not protect was
 * added on the way, and is not shown when the header is protected. */
int hp_user_facing(const char *name);

/* The RFC 9788 §3.2.2 baseline header confidentiality policy (hcp_baseline): the outer value
 * for a field of an encrypted message: Subject becomes "[...]", Comments and Keywords are
 * removed (NULL), everything else stays. */
const char *hp_hcp_baseline(const char *name, const char *value);
/* RFC 9788 §3.2.3 hcp_no_confidentiality: every value stays as it is. The header is still
 * protected (signed, copied into the encrypted payload, HP-Outer recorded), but a reader
 * that does not know header protection still sees the real Subject outside. */
const char *hp_hcp_none(const char *name, const char *value);

/* A header confidentiality policy: the outer value for a field, or NULL to remove it. */
typedef const char *(*hp_hcp)(const char *name, const char *value);

/* Complete h as a submission agent would (Date, Message-ID; msg_complete_submission) before
 * it is protected, so that the protected header and the outer one agree: a Date or
 * Message-ID added after signing would be reported as added on the way. Needs a From field
 * with one address; without one, nothing is added. */
int hp_complete(struct msg_header *h, time_t now, struct err *e);

/*
 * The header of the cryptographic payload for message header h: the protectable fields of h
 * (raw bytes kept), with HP_CIPHER one "HP-Outer: Name: value" per protectable field the outer
 * header keeps after hcp (hp_hcp_baseline, hp_hcp_none; unused for HP_CLEAR), then h's
 * Content-* fields with the Content-Type (default text/plain; charset=us-ascii) given
 * hp=mode (an hp parameter already there is replaced). out is initialised here; its line
 * ends are h's.
 */
int hp_payload_header(const struct msg_header *h, enum hp_mode mode, hp_hcp hcp,
    struct msg_header *out, struct err *e);

/* Apply hcp_baseline to h in place (the outer header of an encrypted message). Returns how
 * many fields were changed or removed, or -1. */
int hp_obscure(struct msg_header *h, struct err *e);

/* The hp parameter of a payload header's Content-Type (HP_NONE when absent or unknown). */
enum hp_mode hp_mode_of(const struct msg_header *payload);

/* What the receiver learnt from comparing the protected header with the outer one. */
struct hp_info {
	enum hp_mode mode;	/* what the payload declares */
	int trusted_cipher;	/* hp="cipher" in a message that was encrypted: HP-Outer used */
	int cipher_ignored;	/* hp="cipher" in a message that was not encrypted */
	char differ[160];	/* fields outside that differ from what the sender protected
				 * (hp="clear") or recorded in HP-Outer (hp="cipher") */
	char added[160];	/* fields a reader sees, present outside only: not shown */
	char confidential[160];	/* hp="cipher": fields the sender obscured or removed outside */
	int outer_written;	/* the caller writes the outer fields, not the merged ones
				 * (smime-verify --keep): differ and added are what a reader
				 * sees */
};

/*
 * The header a reader gets (RFC 9788 §4): the outer fields that are neither Content-* nor
 * HP-Outer nor user-facing nor named by a protected field, in their order, with the protected fields of
 * payload (only the hp_protectable ones: never its Content-*, HP-Outer, trace, verdict or Bcc
 * fields, which the sender does not protect and which would pass for ours) put where the
 * first replaced outer field was (else at the end); raw bytes kept. encrypted: the message came encrypted (HP-Outer is
 * believed only then). out is initialised here; info says what differed. -1 with e set when
 * out cannot be made (out is then empty): EX_DATAERR when the two together have more fields
 * than a header may hold (MSG_MAX_FIELDS), EX_OSERR when memory runs out.
 */
int hp_merge(const struct msg_header *outer, const struct msg_header *payload, int encrypted,
    struct msg_header *out, struct hp_info *info, struct err *e);

/* One line for people about info ("the header is protected (hp=clear); ..."), into buf. */
void hp_describe(const struct hp_info *info, char *buf, size_t n);

#endif
