/* hp_test.c — header protection (RFC 9788, lib/hp.c) rule by rule: which fields a sender
 * protects, what the payload header and HP-Outer say under each confidentiality policy, what
 * the outer header keeps, and what a reader gets back from hp_merge (hp=clear and hp=cipher,
 * encrypted or not, forged HP-Outer, verdicts and Bcc inside, line ends). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp.h"
#include "io.h"
#include "msg.h"
#include "tap.h"

/* A header from name/value pairs (NULL-terminated). */
static void
header(struct msg_header *h, int crlf, const char *const *fields)
{
	struct err e;
	size_t i;

	msg_header_init(h);
	h->crlf = crlf;
	for (i = 0; fields[i] != NULL; i += 2)
		if (msg_header_add(h, fields[i], fields[i + 1], &e) != 0)
			printf("# cannot add %s: %s\n", fields[i], e.msg);
}

/* A header read from text (raw bytes as a parser keeps them). 0, or -1. */
static int
parse(struct msg_header *h, const char *text)
{
	FILE *f = tmpfile();
	struct io_in in;
	struct err e;
	int fd, rc;

	msg_header_init(h);
	if (f == NULL)
		return -1;
	fd = dup(fileno(f));
	if (fwrite(text, 1, strlen(text), f) != strlen(text) || fflush(f) != 0) {
		fclose(f);
		close(fd);
		return -1;
	}
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	if (io_in_init(&in, fd, "test", &e) != 0) {
		close(fd);
		return -1;
	}
	rc = msg_header_read(&in, h, &e);
	io_in_free(&in);
	close(fd);
	return rc;
}

/* The value of the n-th (0-based) field called name, or NULL. */
static const char *
nth(const struct msg_header *h, const char *name, size_t n)
{
	size_t i = msg_header_next(h, name, 0);

	while (i != (size_t)-1 && n-- > 0)
		i = msg_header_next(h, name, i + 1);
	return i == (size_t)-1 ? NULL : h->f[i].value;
}

/* The field names of h, comma-separated, into buf. */
static const char *
names(const struct msg_header *h, char *buf, size_t n)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < h->n && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? "," : "", h->f[i].name);
	return buf;
}

static void
test_protectable(void)
{
	static const char *const yes[] = { "From", "To", "Cc", "Subject", "Date", "Message-ID",
	    "Reply-To", "In-Reply-To", "References", "Keywords", "X-Mailer", "subject", NULL };
	static const char *const no[] = { "Bcc", "bcc", "Received", "Return-Path", "Delivered-To",
	    "DKIM-Signature", "ARC-Seal", "Authentication-Results", "Secmail-Decryption",
	    "HP-Outer", "hp-outer", "Content-Type", "content-transfer-encoding", "MIME-Version",
	    NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++)
		ok(hp_protectable(yes[i]), "%s is protected", yes[i]);
	for (i = 0; no[i] != NULL; i++)
		ok(!hp_protectable(no[i]), "%s is never protected", no[i]);
	ok(hp_user_facing("Subject") && hp_user_facing("reply-to") && !hp_user_facing("Received")
	    && !hp_user_facing("X-Mailer"), "user-facing fields: Subject, Reply-To; not Received");
}

static void
test_hcp(void)
{
	const char *v = "Alice <alice@example.org>";

	is_str(hp_hcp_baseline("Subject", "merger"), HP_OBSCURED_SUBJECT,
	    "hcp_baseline: the Subject is obscured");
	ok(hp_hcp_baseline("keywords", "x") == NULL && hp_hcp_baseline("Comments", "x") == NULL,
	    "hcp_baseline: Keywords and Comments are removed");
	ok(hp_hcp_baseline("From", v) == v && hp_hcp_baseline("To", v) == v,
	    "hcp_baseline: From and To stay as they are");
	ok(hp_hcp_none("Subject", v) == v && hp_hcp_none("Keywords", v) == v,
	    "hcp_no_confidentiality: everything stays");
}

static const char *const draft[] = {
	"Received", "from x by y",
	"From", "Alice <alice@example.org>",
	"To", "Bob <bob@example.org>",
	"Bcc", "hidden@example.org",
	"Subject", "merger",
	"Keywords", "secret",
	"Authentication-Results", "mx.test; smime=pass",
	"MIME-Version", "1.0",
	"Content-Type", "text/plain; charset=utf-8; hp=cipher",
	"Content-Transfer-Encoding", "8bit",
	NULL,
};

static void
test_payload_clear(void)
{
	struct msg_header h, p;
	struct err e;
	char buf[300];

	header(&h, 0, draft);
	ok(hp_payload_header(&h, HP_CLEAR, NULL, &p, &e) == 0, "hp=clear payload header");
	is_str(names(&p, buf, sizeof buf), "From,To,Subject,Keywords,Content-Type,"
	    "Content-Transfer-Encoding", "copied: the protectable fields, then Content-*; not "
	    "Bcc, Received, Authentication-Results, MIME-Version");
	ok(hp_mode_of(&p) == HP_CLEAR, "its Content-Type says hp=clear");
	ok(strstr(nth(&p, "Content-Type", 0), "charset") != NULL
	    && strstr(nth(&p, "Content-Type", 0), "cipher") == NULL,
	    "the old hp parameter is replaced, the others kept: %s", nth(&p, "Content-Type", 0));
	ok(msg_header_count(&p, HP_OUTER_FIELD) == 0, "no HP-Outer with hp=clear");
	msg_header_free(&p);
	msg_header_remove(&h, "Content-Type");
	ok(hp_payload_header(&h, HP_CLEAR, NULL, &p, &e) == 0 && nth(&p, "Content-Type", 0) != NULL
	    && strncmp(nth(&p, "Content-Type", 0), "text/plain; charset=us-ascii", 28) == 0
	    && hp_mode_of(&p) == HP_CLEAR, "no Content-Type: text/plain; charset=us-ascii with hp");
	msg_header_free(&p);
	msg_header_free(&h);
}

static void
test_payload_cipher(void)
{
	struct msg_header h, p;
	struct err e;
	size_t i;
	int bad = 0;

	header(&h, 0, draft);
	ok(hp_payload_header(&h, HP_CIPHER, hp_hcp_baseline, &p, &e) == 0, "hp=cipher payload");
	ok(hp_mode_of(&p) == HP_CIPHER, "its Content-Type says hp=cipher");
	is_str(nth(&p, HP_OUTER_FIELD, 0), "From: Alice <alice@example.org>",
	    "HP-Outer records From as it stays outside");
	is_str(nth(&p, HP_OUTER_FIELD, 1), "To: Bob <bob@example.org>", "and To");
	is_str(nth(&p, HP_OUTER_FIELD, 2), "Subject: [...]", "and the obscured Subject");
	ok(nth(&p, HP_OUTER_FIELD, 3) == NULL, "nothing for Keywords (removed outside), Bcc, "
	    "Received or the verdict");
	is_str(nth(&p, "Subject", 0), "merger", "the real Subject is inside");
	msg_header_free(&p);
	ok(hp_payload_header(&h, HP_CIPHER, hp_hcp_none, &p, &e) == 0, "hcp_no_confidentiality");
	for (i = 0; nth(&p, HP_OUTER_FIELD, i) != NULL; i++)
		bad += strstr(nth(&p, HP_OUTER_FIELD, i), "[...]") != NULL;
	ok(bad == 0 && i == 4, "HP-Outer records every field as it is (%zu, %d obscured)", i, bad);
	is_str(nth(&p, HP_OUTER_FIELD, 3), "Keywords: secret", "Keywords included");
	msg_header_free(&p);
	msg_header_free(&h);
}

static void
test_obscure(void)
{
	struct msg_header h;
	struct err e;
	char buf[300];

	header(&h, 0, draft);
	ok(hp_obscure(&h, &e) == 2, "hp_obscure changes two fields");
	is_str(nth(&h, "Subject", 0), HP_OBSCURED_SUBJECT, "the outer Subject is [...]");
	is_str(names(&h, buf, sizeof buf), "Received,From,To,Bcc,Subject,Authentication-Results,"
	    "MIME-Version,Content-Type,Content-Transfer-Encoding",
	    "Keywords removed; the order and every other field kept");
	msg_header_free(&h);
}

static void
test_merge_clear(void)
{
	static const char *const outer[] = {
		"Received", "from relay by mx",
		"From", "Alice <alice@example.org>",
		"Reply-To", "evil@example.net",
		"Subject", "pay 9000 EUR",
		"Date", "Sun, 29 Nov 2026 04:00:00 +0000",
		"HP-Outer", "Subject: pay 9000 EUR",
		"X-Spam", "no",
		"Content-Type", "multipart/signed; boundary=x",
		NULL,
	};
	static const char *const payload[] = {
		"From", "Alice <alice@example.org>",
		"To", "Bob <bob@example.org>",
		"Subject", "merger",
		"Bcc", "hidden@example.org",
		"Authentication-Results", "mx.test; smime=pass",
		"Secmail-Decryption", "mx.test; decrypted cipher=aes-256-gcm integrity=aead",
		"Received", "from forged by mx",
		"Content-Type", "text/plain; hp=\"clear\"",
		NULL,
	};
	struct msg_header o, p, out;
	struct hp_info info;
	struct err e;
	char buf[400];

	header(&o, 0, outer);
	header(&p, 1, payload);
	ok(hp_merge(&o, &p, 0, &out, &info, &e) == 0, "hp_merge, hp=clear, signed only");
	ok(info.mode == HP_CLEAR && !info.trusted_cipher && !info.cipher_ignored, "mode clear");
	is_str(names(&out, buf, sizeof buf), "Received,From,To,Subject,Date,X-Spam",
	    "the protected fields where the first replaced one was; Received, the unprotected Date, "
	    "X-Spam kept; Reply-To and the forged HP-Outer not shown; no Content-*; nothing but "
	    "protectable fields from inside");
	is_str(nth(&out, "Subject", 0), "merger", "the protected Subject is shown");
	is_str(nth(&out, "Received", 0), "from relay by mx", "the MTA's Received, not the payload's");
	ok(msg_header_count(&out, "Received") == 1 && msg_header_count(&out, "Bcc") == 0
	    && msg_header_count(&out, "Authentication-Results") == 0
	    && msg_header_count(&out, "Secmail-Decryption") == 0,
	    "a Bcc, verdicts or a Received inside are never shown");
	is_str(info.differ, "Subject, To", "differ: Subject, and To (protected, missing outside)");
	is_str(info.added, "Reply-To", "added outside, not shown: Reply-To");
	is_str(info.confidential, "", "nothing confidential in a signed-only message");
	ok(strchr(out.f[2].raw, '\r') == NULL && out.f[2].rawlen == strlen("To: Bob <bob@example.org>\n")
	    && memcmp(out.f[2].raw, "To: Bob <bob@example.org>\n", out.f[2].rawlen) == 0,
	    "a CRLF payload field takes the LF outer header's line end");
	hp_describe(&info, buf, sizeof buf);
	is_str(buf, "the header is protected (hp=clear); altered outside, the protected ones shown: "
	    "Subject, To; added outside, not shown: Reply-To", "hp_describe");
	msg_header_free(&out);
	msg_header_free(&o);
	msg_header_free(&p);
}

static void
test_merge_cipher(void)
{
	static const char *const outer[] = {
		"From", "Alice <alice@example.org>",
		"To", "Bob <bob@example.org>",
		"Subject", "[...]",
		"Content-Type", "application/pkcs7-mime; smime-type=enveloped-data",
		NULL,
	};
	static const char *const payload[] = {
		"From", "Alice <alice@example.org>",
		"To", "Bob <bob@example.org>",
		"Subject", "merger",
		"Keywords", "secret",
		"HP-Outer", "From: Alice <alice@example.org>",
		"HP-Outer", "To: Bob <bob@example.org>",
		"HP-Outer", "Subject: [...]",
		"Content-Type", "text/plain; hp=cipher",
		NULL,
	};
	struct msg_header o, p, out;
	struct hp_info info;
	struct err e;
	char buf[400];

	header(&o, 1, outer);
	header(&p, 1, payload);
	ok(hp_merge(&o, &p, 1, &out, &info, &e) == 0 && info.trusted_cipher,
	    "hp=cipher in an encrypted message: HP-Outer believed");
	is_str(nth(&out, "Subject", 0), "merger", "the obscured Subject comes back");
	is_str(nth(&out, "Keywords", 0), "secret", "and the removed Keywords");
	ok(msg_header_count(&out, HP_OUTER_FIELD) == 0, "HP-Outer is not shown");
	is_str(info.differ, "", "nothing altered: the outer header is as HP-Outer says");
	is_str(info.confidential, "Subject, Keywords", "confidential: Subject, Keywords");
	msg_header_free(&out);

	/* a relay changes the obscured Subject: reported */
	msg_header_remove(&o, "Subject");
	msg_header_add(&o, "Subject", "pay now", &e);
	ok(hp_merge(&o, &p, 1, &out, &info, &e) == 0, "an altered outer Subject");
	is_str(info.differ, "Subject", "differs from HP-Outer: Subject");
	is_str(nth(&out, "Subject", 0), "merger", "the protected Subject is shown");
	msg_header_free(&out);

	/* the same payload in a message that was not encrypted: HP-Outer is ignored */
	msg_header_remove(&o, "Subject");
	msg_header_add(&o, "Subject", "[...]", &e);
	ok(hp_merge(&o, &p, 0, &out, &info, &e) == 0 && info.cipher_ignored
	    && !info.trusted_cipher, "hp=cipher without encryption: taken as hp=clear");
	is_str(info.differ, "Subject, Keywords", "the [...] outside now differs from the protected "
	    "Subject, and the missing Keywords count as removed on the way");
	is_str(info.confidential, "", "and nothing is called confidential");
	hp_describe(&info, buf, sizeof buf);
	ok(strstr(buf, "but the message was not encrypted: taken as hp=clear, HP-Outer ignored")
	    != NULL, "hp_describe says so: %s", buf);
	msg_header_free(&out);
	msg_header_free(&o);
	msg_header_free(&p);
}

static void
test_merge_forged_outer(void)
{
	/* HP-Outer fields outside, next to a protected Subject: no weight, not shown */
	struct msg_header o, p, out;
	struct hp_info info;
	struct err e;

	if (parse(&o, "From: a@example.org\nSubject: [...]\nHP-Outer: Subject: [...]\n"
	    "Content-Type: multipart/signed; boundary=x\n\n") != 0
	    || parse(&p, "From: a@example.org\r\nSubject: real\r\n"
	    "Content-Type: text/plain; hp=clear\r\n\r\n") != 0) {
		ok(0, "parse the test headers");
		return;
	}
	ok(hp_merge(&o, &p, 1, &out, &info, &e) == 0, "encrypted, hp=clear, forged HP-Outer outside");
	ok(msg_header_count(&out, HP_OUTER_FIELD) == 0, "the outer HP-Outer is not shown");
	is_str(nth(&out, "Subject", 0), "real", "the protected Subject is shown");
	is_str(info.differ, "", "an obscured Subject outside an encrypted message is no alteration");
	is_str(info.confidential, "Subject", "it was kept confidential");
	ok(out.f[1].rawlen == strlen("Subject: real\n") && memcmp(out.f[1].raw, "Subject: real\n",
	    out.f[1].rawlen) == 0, "raw bytes kept, line end the outer header's");
	msg_header_free(&out);
	ok(hp_merge(&o, &p, 0, &out, &info, &e) == 0 && strcmp(info.differ, "Subject") == 0,
	    "not encrypted: the same outer Subject is an alteration");
	msg_header_free(&out);
	msg_header_free(&o);
	msg_header_free(&p);
}

static void
test_mode_of(void)
{
	static const struct { const char *ct; enum hp_mode m; } cases[] = {
		{ "text/plain; hp=clear", HP_CLEAR },
		{ "text/plain; HP=\"Cipher\"", HP_CIPHER },
		{ "multipart/mixed; boundary=x; hp=cipher", HP_CIPHER },
		{ "text/plain; hp=other", HP_NONE },
		{ "text/plain; hp=", HP_NONE },
		{ "text/plain", HP_NONE },
		{ "not a type; hp=clear", HP_NONE },
	};
	struct msg_header h;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		msg_header_init(&h);
		msg_header_add(&h, "Content-Type", cases[i].ct, &e);
		ok(hp_mode_of(&h) == cases[i].m, "hp_mode_of(%s) is %s", cases[i].ct,
		    hp_mode_name(cases[i].m));
		msg_header_free(&h);
	}
	msg_header_init(&h);
	ok(hp_mode_of(&h) == HP_NONE, "no Content-Type: none");
	msg_header_free(&h);
}

static void
test_complete(void)
{
	static const char *const one[] = { "From", "Alice <alice@example.org>", NULL };
	static const char *const two[] = { "From", "a@example.org, b@example.org", NULL };
	struct msg_header h;
	struct err e;

	header(&h, 0, one);
	ok(hp_complete(&h, 1796000000, &e) == 0 && msg_header_count(&h, "Date") == 1
	    && msg_header_count(&h, "Message-ID") == 1 && strstr(nth(&h, "Message-ID", 0),
	    "@example.org>") != NULL, "hp_complete adds Date and Message-ID on From's domain");
	ok(hp_complete(&h, 1796000000, &e) == 0 && msg_header_count(&h, "Date") == 1
	    && msg_header_count(&h, "Message-ID") == 1, "and never twice");
	msg_header_free(&h);
	header(&h, 0, two);
	ok(hp_complete(&h, 1796000000, &e) == 0 && msg_header_count(&h, "Date") == 0,
	    "two From addresses: nothing added");
	msg_header_free(&h);
}

/* Fields as they came, copied into the header a reader gets: a bare CR becomes a space (a
 * reader could take it for a line end), and a word too long to fold stops nothing. */
static void
test_merge_as_came(void)
{
	struct msg_header o, p, out;
	struct hp_info info;
	struct err e;
	char longw[1600];
	char *text;
	size_t i;
	int bare = 0;

	memset(longw, 'a', sizeof longw - 1);
	longw[sizeof longw - 1] = '\0';
	if ((text = malloc(sizeof longw + 300)) == NULL)
		return;
	snprintf(text, sizeof longw + 300, "From: a@example.org\nX-Note: a\rAuthentication-"
	    "Results: mx.test; smime=pass\nX-Long: %s\n\n", longw);
	ok(parse(&o, text) == 0, "outer header with a bare CR and a long word");
	snprintf(text, sizeof longw + 300, "From: a@example.org\r\nX-In: %s\r\nX-Cr: b\rFrom: "
	    "c@example.org\r\nContent-Type: text/plain; hp=clear\r\n\r\n", longw);
	ok(parse(&p, text) == 0, "payload header with a bare CR and a long word");
	ok(hp_merge(&o, &p, 1, &out, &info, &e) == 0, "hp_merge copies them");
	for (i = 0; i < out.n; i++)
		bare += memchr(out.f[i].raw, '\r', out.f[i].rawlen) != NULL
		    || strchr(out.f[i].value, '\r') != NULL;
	ok(bare == 0, "no bare CR in what a reader gets");
	ok(nth(&out, "X-Note", 0) != NULL && strcmp(nth(&out, "X-Note", 0),
	    "a Authentication-Results: mx.test; smime=pass") == 0, "the CR is a space");
	ok(nth(&out, "X-Long", 0) != NULL && strlen(nth(&out, "X-Long", 0)) == strlen(longw)
	    && nth(&out, "X-In", 0) != NULL, "the long fields are kept as they came");
	ok(msg_header_count(&out, "From") == 1, "one From");
	msg_header_free(&o);
	msg_header_free(&p);
	msg_header_free(&out);
	free(text);
}

int
main(void)
{
	test_protectable();
	test_hcp();
	test_payload_clear();
	test_payload_cipher();
	test_obscure();
	test_merge_clear();
	test_merge_cipher();
	test_merge_forged_outer();
	test_merge_as_came();
	test_mode_of();
	test_complete();
	return tap_done();
}
