#!/usr/bin/env bats
# secmail-gateway end to end under Postfix: two private instances on loopback
# (tests/helpers/mta.sh), alice's site A and bob's site B, each running the README's
# master.cf and main.cf lines as printed there (only the ports, the chroot column and the
# installation paths changed) with its own policy and keys. A relays everything to B's
# public port. The gateway runs as the user "secmail", which exists only inside the
# instances' private mount namespaces (a copy of /etc/passwd bind-mounted there): no system
# file changes.

load helpers/common
load helpers/delivery

MTA_SH="$BATS_TEST_DIRNAME/helpers/mta.sh"

freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# site X IN SUB PORT [MAIN-LINE...]: instance X with the README's lines; the gateway's policy
# in $G/X/gateway.conf, its keys in $G/X/keys, its store in $G/X/certs.
site() {
	local x=$1 in=$2 sub=$3 port=$4 m l
	shift 4
	local args=()
	mkdir -p "$G/$x/keys"
	m=$(readme_block "S/MIME gateway with Postfix" 1 | sed \
		-e "s|^smtp      inet  n       -       y |$in inet  n       -       n |" \
		-e "s|^submission inet n       -       y |$sub inet n       -       n |" \
		-e "s|/usr/local/bin/|$G/bin/|g" -e "s|/etc/secmail/gateway.conf|$G/$x/gateway.conf|g")
	args+=(--master "$m")
	while IFS= read -r l; do args+=(--main "$l"); done < <(readme_block "S/MIME gateway with Postfix" 2)
	for l in "$@"; do args+=(--main "$l"); done
	"$MTA_SH" start "$G/mta-$x" "$port" --hostname "mx-$x.example.org" "${args[@]}" >&2 || return 1
	"$MTA_SH" exec "$G/mta-$x" mount --bind "$G/passwd" /etc/passwd
	"$MTA_SH" exec "$G/mta-$x" mount --bind "$G/group" /etc/group
	# the README's sender_logins, as /etc/postfix/sender_logins inside the instance
	echo "alice@example.org alice" >"$G/mta-$x/etc/sender_logins"
	printf 'keys %s/%s/keys\ncert_dir %s/%s/certs\nca_file %s/ca.pem\nauthserv_id %s\n' \
		"$G" "$x" "$G" "$x" "$G" "$AUTHSERV" >"$G/$x/gateway.conf"
	# readable by the gateway's user (the suite runs under umask 077), writable by root only
	chmod 755 "$G/$x"
	chmod 644 "$G/$x/gateway.conf"
}

# What the tests must leave as it was: the bytes and change times of /etc/passwd and /etc/group.
etc_state() {
	sha256sum /etc/passwd /etc/group
	stat -c '%n %Z' /etc/passwd /etc/group
}

setup_file() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root: tests/helpers/mta.sh runs a private Postfix in a mount namespace"
	fi
	[ -x "$MTA_SH" ] || { echo "tests/helpers/mta.sh is missing (the mailsend branch)" >&2; return 1; }
	corpus_setup
	export ETC_BEFORE="$BATS_FILE_TMPDIR/etc.before"
	etc_state >"$ETC_BEFORE"
	G=$(mktemp -d /tmp/secmail-gw.XXXXXX)
	chmod 755 "$G"
	export G
	# the gateway's user: "secmail" in copies of passwd and group that only the instances see
	SMUID=$(getent passwd secmail | cut -d: -f3)
	if [ -z "$SMUID" ]; then
		SMUID=64000
		while getent passwd "$SMUID" >/dev/null || getent group "$SMUID" >/dev/null; do
			SMUID=$((SMUID + 1))
		done
	fi
	export SMUID
	cp /etc/passwd "$G/passwd"
	cp /etc/group "$G/group"
	getent passwd secmail >/dev/null || echo "secmail:x:$SMUID:$SMUID:secmail gateway:/nonexistent:/usr/sbin/nologin" >>"$G/passwd"
	getent group secmail >/dev/null || echo "secmail:x:$SMUID:" >>"$G/group"
	chmod 644 "$G/passwd" "$G/group"
	mkdir "$G/bin"
	cp "$SECMAIL_BIN"/* "$G/bin/"
	chmod 755 "$G/bin" "$G/bin"/*
	# Built against a private OpenSSL (make check OPENSSL=3.6): its libraries go next to the
	# copies, where their rpath ($ORIGIN/../openssl/lib) finds them, since the cache may be
	# in a home the gateway's user cannot enter.
	local lib
	lib=$(ldd "$SECMAIL_BIN/smime-sign" | awk '$1 == "libcrypto.so.3" { print $3 }')
	case $lib in
	/usr/* | /lib/*) ;;
	*)	mkdir -p "$G/openssl/lib"
		cp -L "$(dirname "$lib")"/libcrypto.so.3 "$(dirname "$lib")"/libssl.so.3 "$G/openssl/lib/"
		chmod -R go+rX "$G/openssl" ;;
	esac
	cp "$PKI/ca.pem" "$G/ca.pem"
	chmod 644 "$G/ca.pem"
	A_IN=$(freeport) A_SUB=$(freeport) A_PORT=$(freeport) B_IN=$(freeport) B_SUB=$(freeport) B_PORT=$(freeport)
	export A_IN A_SUB A_PORT B_IN B_SUB B_PORT
	# alice's site has no mailboxes: everything goes to bob's site, as to the Internet
	site a "$A_IN" "$A_SUB" "$A_PORT" 'virtual_mailbox_domains =' "relayhost = [127.0.0.1]:$B_IN"
	site b "$B_IN" "$B_SUB" "$B_PORT"
	# bob's site restores a protected Subject: alice's may hide it from the wire (RFC 9788)
	printf 'require_encryption partner.example\nobscure_subject example.org\n' >>"$G/a/gateway.conf"
	# keys: alice's at A, bob's at B; A knows bob's certificate from a signed mail of his
	cat "$PKI/alice.pem" "$PKI/int.pem" >"$G/a/keys/alice@example.org.pem"
	cp "$PKI/alice.key" "$G/a/keys/alice@example.org.key"
	cp "$PKI/bob.pem" "$G/b/keys/bob@example.org.pem"
	cp "$PKI/bob.key" "$G/b/keys/bob@example.org.key"
	printf 'From: Bob <bob@example.org>\nTo: alice@example.org\nSubject: hi\n\nhello\n' |
		smime-sign --cert "$PKI/bob.pem" --key "$PKI/bob.key" --chain "$PKI/chain.pem" |
		smime-verify --ca-file "$PKI/ca.pem" --save-certs "$G/a/certs" >/dev/null
	# the store B harvests into: the gateway's user's, as the README's set-up says
	mkdir "$G/b/certs"
	chown -R "$SMUID:$SMUID" "$G/a/keys" "$G/a/certs" "$G/b/keys" "$G/b/certs"
	chmod 700 "$G/a/certs" "$G/b/certs"
	chmod 700 "$G/a/keys" "$G/b/keys"
	chmod 600 "$G"/a/keys/* "$G"/b/keys/*
}

teardown_file() {
	[ -n "${G:-}" ] || return 0
	"$MTA_SH" stop "$G/mta-a"
	"$MTA_SH" stop "$G/mta-b"
	rm -rf "$G"
}

setup() {
	common_setup
	export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
	printf 'wonderland\n' >"$T/pw"
}

teardown() {
	# a test that changed B's policy gets it back, pass or fail
	[ -f "$T/policy.saved" ] && cp "$T/policy.saved" "$G/b/gateway.conf"
	common_teardown
}

pf() { local x=$1; shift; "$MTA_SH" exec "$G/mta-$x" "$@"; }

# submit SUBJECT TO [FROM]: alice submits a message at her site (STARTTLS, AUTH)
submit() {
	local from=${3:-alice@example.org}
	printf 'From: Alice <%s>\nTo: %s\nSubject: %s\nMessage-ID: <%s@example.org>\n\nPay 100 EUR to account 12345.\n' \
		"$from" "$2" "$1" "$1" |
		mailsend --server "127.0.0.1:$A_SUB" --tls-trust-file "$G/mta-a/pki/ca.pem" --timeout 20 \
			--user alice --pass-file "$T/pw" --queue "$T/q" -f "$from" "$2"
}

# inject PORT FROM TO FILE: a message from outside, plain SMTP (Python's smtplib)
inject() {
	python3 - "$@" <<'PY'
import smtplib, sys
port, frm, to, path = sys.argv[1:5]
s = smtplib.SMTP("127.0.0.1", int(port), timeout=20)
s.sendmail(frm, [to], open(path, "rb").read())
s.quit()
PY
}

# unique FILE ID: a copy of corpus message FILE with Message-ID <ID@example.org> and an
# X-E2E-Id: ID field, outer fields outside any signature, so that each test finds its own
# delivery. (Where the signature protects the header, RFC 9788, the reader gets the signed
# Message-ID back: such a test looks for X-E2E-Id, which nobody protects.)
unique() {
	sed -e "s/^Message-ID: .*/Message-ID: <$2@example.org>/" -e "1i X-E2E-Id: $2" "$1" >"$T/$2.eml"
	grep -q "^Message-ID: <$2@example.org>" "$T/$2.eml"
	echo "$T/$2.eml"
}

# wait_mail ADDR PATTERN: the file in B's Maildir for ADDR that matches PATTERN (30 s)
wait_mail() {
	local f end=$((SECONDS + 30))
	while [ "$SECONDS" -lt "$end" ]; do
		f=$(grep -l -- "$2" "$G/mta-b/Maildir/$1/new/"* 2>/dev/null)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.2
	done
	echo "no message /$2/ for $1; B's queue: $(pf b postqueue -j)" >&2
	tail -n 20 "$G/mta-a/maillog" "$G/mta-b/maillog" >&2
	return 1
}

# wait_queue X ID-PATTERN: the queue id of the message in X's queue whose JSON matches (30 s)
wait_queue() {
	local q end=$((SECONDS + 30))
	while [ "$SECONDS" -lt "$end" ]; do
		q=$(pf "$1" postqueue -j | grep -- "$2" | sed -n 's/.*"queue_id": "\([0-9A-F]*\)".*/\1/p' | head -1)
		[ -n "$q" ] && { echo "$q"; return 0; }
		sleep 0.2
	done
	echo "nothing matching /$2/ in $1's queue" >&2
	tail -n 20 "$G/mta-$1/maillog" >&2
	return 1
}

@test "gateway-mta: the instances run the README's lines; the filters run as secmail, not as root" {
	grep -q "^secmail-in  unix -      n       n       -       4       pipe$" "$G/mta-b/etc/master.cf"
	grep -q "^  -o content_filter=secmail-in:dummy$" "$G/mta-b/etc/master.cf"
	grep -q "^  -o content_filter=secmail-out:dummy$" "$G/mta-a/etc/master.cf"
	grep -q "^secmail-out_destination_recipient_limit = 1$" "$G/mta-a/etc/main.cf"
	run pf b postconf -P "$B_IN/inet/content_filter"
	[ "$output" = "$B_IN/inet/content_filter = secmail-in:dummy" ]
	run pf a getent passwd secmail
	[ "$status" -eq 0 ]
	run getent passwd secmail
	[ "$output" = "" ] || [ "$(echo "$output" | cut -d: -f3)" = "$SMUID" ]
}

@test "gateway-mta: alice's mail leaves signed and encrypted for bob (seen in B's queue) and arrives decrypted, smime=pass" {
	pf b postconf -e 'defer_transports = secmail-in'
	pf b postfix reload
	submit e2e-1 bob@example.org
	q=$(wait_queue b '"sender": "alice@example.org".*deferred transport')
	pf b postcat -h -b -q "$q" >"$T/wire"
	# what travelled between the sites: an envelope for bob only, alice's signature inside
	grep -qi '^Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data' "$T/wire"
	refute grep -q 'Pay 100 EUR' "$T/wire"
	body_of "$T/wire" | base64 -d >"$T/env.der"
	openssl cms -decrypt -binary -inform DER -in "$T/env.der" -recip "$PKI/bob.pem" -inkey "$PKI/bob.key" -out "$T/inner"
	refute openssl cms -decrypt -binary -inform DER -in "$T/env.der" -recip "$PKI/alice.pem" -inkey "$PKI/alice.key" -out /dev/null 2>/dev/null
	grep -qi '^Content-Type: multipart/signed' "$T/inner"
	openssl smime -verify -CAfile "$PKI/ca.pem" -in "$T/inner" -out "$T/text" 2>/dev/null
	grep -q 'Pay 100 EUR' "$T/text"
	# pipe(8) keeps the first 100 characters of the summary: " (Subject obscured)" is cut
	grep -q 'status=sent (delivered via secmail-out service (secmail-gateway: outbound: signed by alice@example.org, encrypted for bob@example.org (Subject obscu' "$G/mta-a/maillog"
	# the Subject travelled obscured (A's policy: obscure_subject example.org)
	grep -q '^Subject: \[\.\.\.\]$' "$T/wire"
	refute grep -q '^Subject: e2e-1' "$T/wire"
	# the gateway reinjected as its own user
	grep -q "pickup.*uid=$SMUID from=<alice@example.org>" "$G/mta-a/maillog"
	pf b postconf -e 'defer_transports ='
	pf b postfix reload
	pf b postqueue -f
	f=$(wait_mail bob@example.org '^Subject: e2e-1$')
	check_verdict "$f" "$T/wire" pass 'decrypted cipher=aes-256-gcm integrity=aead' 'decrypted' 'alice@example.org' \
		'the header is protected \(hp=clear\); confidential: Subject'
	grep -q 'Pay 100 EUR' "$f"
	[ "$(grep -l '^Subject: e2e-1$' "$G/mta-b/Maildir/bob@example.org/new/"* | wc -l)" -eq 1 ]
	# B learnt alice's certificate from her signature, in a store only secmail can read
	[ -f "$G/b/certs/alice@example.org" ]
	[ "$(stat -c '%u %a' "$G/b/certs")" = "$SMUID 700" ]
}

@test "gateway-mta: a badly signed message from outside arrives with smime=fail, forged pass fields gone" {
	inject "$B_IN" mallory@example.net bob@example.org "$(unique "$CORPUS/forged-ar.eml" e2e-forged)"
	f=$(wait_mail bob@example.org '^Message-ID: <e2e-forged@example.org>')
	check_verdict "$f" "$CORPUS/forged-ar.eml" fail - 'digest|altered'
	grep -q 'Pay 900 EUR' "$f"
}

@test "gateway-mta: mail for a domain that requires encryption, without a certificate, comes back to alice with the reason" {
	submit e2e-bounce carol@partner.example
	f=$(wait_mail alice@example.org 'carol@partner.example: the policy requires encryption')
	grep -q '^From: Mail Delivery System <MAILER-DAEMON@mx-a.example.org>' "$f"
	grep -q 'no certificate' "$f"
	grep -q 'to=<carol@partner.example>, relay=secmail-out.*status=bounced' "$G/mta-a/maillog"
}

@test "gateway-mta: a failure half-way (the reinjection) defers the message; it is delivered once when the fault is gone" {
	cat >"$G/b/sendmail" <<-EOF
	#!/bin/sh
	if [ -e "$G/b/fault" ]; then cat >/dev/null; echo "postdrop: No space left on device" >&2; exit 75; fi
	exec /usr/sbin/sendmail "\$@"
	EOF
	chmod 755 "$G/b/sendmail"
	touch "$G/b/fault"
	cp "$G/b/gateway.conf" "$T/policy.saved"
	echo "sendmail $G/b/sendmail" >>"$G/b/gateway.conf"
	inject "$B_IN" alice@example.org bob@example.org "$(unique "$CORPUS/signenc-cbc.eml" e2e-fault)"
	q=$(wait_queue b 'cannot hand the message back to Postfix')
	[ -n "$q" ]
	refute grep -l '^X-E2E-Id: e2e-fault$' "$G/mta-b/Maildir/bob@example.org/new/"* 2>/dev/null
	grep -q 'status=deferred.*No space left on device' "$G/mta-b/maillog"
	rm "$G/b/fault"
	pf b postqueue -f
	f=$(wait_mail bob@example.org '^X-E2E-Id: e2e-fault$')
	# the Message-ID changed outside the signature: the signed one is shown, and said so
	check_verdict "$f" "$CORPUS/signenc-cbc.eml" pass 'decrypted cipher=aes-256-cbc integrity=none' decrypted \
		'altered outside, the protected one shown: Message-ID'
	grep -q '^Message-ID: <sc@example.org>$' "$f"
	sleep 1
	[ "$(grep -l '^X-E2E-Id: e2e-fault$' "$G/mta-b/Maildir/bob@example.org/new/"* | wc -l)" -eq 1 ]
}

@test "gateway-mta: a broken policy defers the message (never a bounce); fixed, it is delivered" {
	cp "$G/b/gateway.conf" "$T/policy.saved"
	echo "harvset off" >>"$G/b/gateway.conf"
	inject "$B_IN" carol@example.org bob@example.org "$(unique "$CORPUS/plain.eml" e2e-policy)"
	q=$(wait_queue b "configuration error: $G/b/gateway.conf:[0-9]*: unknown setting 'harvset'")
	[ -n "$q" ]
	cp "$T/policy.saved" "$G/b/gateway.conf"
	rm "$T/policy.saved"
	pf b postqueue -f
	f=$(wait_mail bob@example.org '^Message-ID: <e2e-policy@example.org>')
	check_verdict "$f" "$CORPUS/plain.eml" none -
	refute grep -q 'status=bounced' "$G/mta-b/maillog"
}

@test "gateway-mta: an authenticated user cannot send as someone else (the signing key follows the sender)" {
	run python3 - "$A_SUB" "$G/mta-a/pki/ca.pem" <<'PY'
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.starttls(context=ctx)
s.login("alice", "wonderland")
try:
    s.sendmail("bob@example.org", ["carol@example.org"], b"From: bob@example.org\n\nforged\n")
except smtplib.SMTPRecipientsRefused as x:
    print(list(x.recipients.values())[0][0])
except smtplib.SMTPSenderRefused as x:
    print(x.smtp_code)
PY
	[ "$output" = 553 ]
}

@test "gateway-mta: the keys are readable by the gateway's user only; /etc/passwd and /etc/group unchanged" {
	[ "$(stat -c '%u %a' "$G/a/keys")" = "$SMUID 700" ]
	[ "$(stat -c '%u %a' "$G/a/keys/alice@example.org.key")" = "$SMUID 600" ]
	refute setpriv --reuid=65534 --regid=65534 --clear-groups cat "$G/a/keys/alice@example.org.key" 2>/dev/null
	etc_state | cmp "$ETC_BEFORE" -
	! grep -q '^secmail:' /etc/passwd || [ "$(getent passwd secmail | cut -d: -f3)" = "$SMUID" ]
}
