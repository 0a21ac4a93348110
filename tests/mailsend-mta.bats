#!/usr/bin/env bats
# mailsend against a real MTA: a private Postfix instance on loopback with STARTTLS and
# Cyrus SASL AUTH, started for this suite and stopped after it; the delivered Maildir files
# are checked.

load helpers/common
load helpers/mailsend

setup_file() {
	# Postfix's own processes must reach the instance: a world-traversable directory.
	MTA=$(mktemp -d /tmp/secmail-mta.XXXXXX)
	chmod 755 "$MTA"
	export PKI="$BATS_FILE_TMPDIR/pki" MTA
	"$BATS_TEST_DIRNAME/helpers/mailsend-pki.sh" "$PKI"
	MTA_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	export MTA_PORT
	"$BATS_TEST_DIRNAME/helpers/mailsend-mta.sh" start "$MTA" "$MTA_PORT" "$PKI"
}

teardown_file() {
	"$BATS_TEST_DIRNAME/helpers/mailsend-mta.sh" stop "$MTA"
	rm -rf "$MTA"
}

setup() {
	common_setup
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state HOME=$T
	printf 'wonderland\n' >"$T/pw"
}
teardown() { common_teardown; }

send() {
	mailsend --server "127.0.0.1:$MTA_PORT" --tls-trust-file "$PKI/ca.pem" --timeout 20 \
		--user alice --pass-file "$T/pw" --queue "$T/q" "$@"
}

# wait_mail USER SUBJECT: path of the delivered message with this subject (10 s at most)
wait_mail() {
	local i f
	for i in $(seq 100); do
		f=$(grep -l "^Subject: $2\$" "$MTA/Maildir/$1/new/"* 2>/dev/null | head -1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	echo "no message '$2' for $1" >&2
	return 1
}

@test "mta: STARTTLS + AUTH PLAIN delivers; Return-Path, Delivered-To, body bytes, Bcc removed" {
	s="plain-$RANDOM"
	{
		printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.org>\nBcc: carol@example.org\nSubject: %s\n\n' "$s"
		printf 'first line\n.a dot line\n..two dots\n\nlast\n'
	} >"$T/in"
	send <"$T/in"
	f=$(wait_mail bob "$s")
	grep -qx 'Return-Path: <alice@example.org>' "$f"
	grep -qx 'Delivered-To: bob@example.org' "$f"
	! grep -qi '^Bcc:' "$f"
	sed '1,/^$/d' "$f" | cmp - <(sed '1,/^$/d' "$T/in")
	g=$(wait_mail carol "$s")
	grep -qx 'Delivered-To: carol@example.org' "$g"
	! grep -qi '^Bcc:' "$g"
	grep -q '^Message-ID: <' "$f"
	grep -q '^Date: ' "$f"
}

@test "mta: AUTH LOGIN from the configuration file, one-megabyte 8-bit body intact" {
	s="login-$RANDOM"
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	cat >"$XDG_CONFIG_HOME/secmail/mailsend.conf" <<-EOC
	account test
	server 127.0.0.1:$MTA_PORT
	tls_trust_file $PKI/ca.pem
	user alice
	auth login
	pass_file $T/pw
	from alice@example.org
	EOC
	{
		printf 'From: alice@example.org\nTo: bob@example.org\nSubject: %s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n' "$s"
		for i in $(seq 1 16000); do printf 'line %05d caf\xc3\xa9 \xe2\x82\xac %s\n' "$i" "$(printf '%040d' "$i")"; done
	} >"$T/in"
	mailsend --timeout 20 <"$T/in"
	f=$(wait_mail bob "$s")
	sed '1,/^$/d' "$f" | cmp - <(sed '1,/^$/d' "$T/in")
}

@test "mta: a wrong password is EX_NOPERM and nothing is queued" {
	printf 'not-it\n' >"$T/bad"
	run mailsend --server "127.0.0.1:$MTA_PORT" --tls-trust-file "$PKI/ca.pem" --user alice \
		--pass-file "$T/bad" --queue "$T/q" bob@example.org < <(msg wrongpw)
	assert_failure 77
	refute_output --partial not-it
	[ ! -d "$T/q/new" ] || [ "$(ls "$T/q/new" | wc -l)" -eq 0 ]
}

@test "mta: without TLS Postfix offers no AUTH: refused, nothing sent" {
	run mailsend --server "127.0.0.1:$MTA_PORT" --tls none --auth-in-clear --user alice \
		--pass-file "$T/pw" --queue "$T/q" bob@example.org < <(msg cleartext)
	assert_failure 69
	assert_output --partial "none of AUTH SCRAM-SHA-256, PLAIN or LOGIN"
}

@test "mta: an unknown recipient is named and refused (EX_NOUSER); the others get it" {
	s="mixed-$RANDOM"
	run send bob@example.org nobody@example.org < <(msg "$s")
	assert_failure 67
	assert_output --partial "<nobody@example.org>"
	wait_mail bob "$s"
}

@test "mta: queued while the server is unreachable, then --flush delivers exactly once" {
	s="queued-$RANDOM"
	run mailsend --server 127.0.0.1:1 --queue "$T/q" bob@example.org < <(msg "$s")
	assert_success
	assert_output --partial "queued as"
	send --flush --force
	f=$(wait_mail bob "$s")
	[ "$(ls "$T/q/new" | wc -l)" -eq 0 ]
	send --flush --force
	sleep 1
	[ "$(grep -l "^Subject: $s\$" "$MTA/Maildir/bob/new/"* | wc -l)" -eq 1 ]
}

@test "mta: DSN NOTIFY=SUCCESS brings back a delivery report to the sender" {
	s="dsn-$RANDOM"
	send --notify SUCCESS --envid "env-$s" bob@example.org < <(msg "$s")
	wait_mail bob "$s"
	for i in $(seq 100); do
		f=$(grep -l "^Original-Envelope-Id: env-$s" "$MTA/Maildir/alice/new/"* 2>/dev/null | head -1)
		[ -n "$f" ] && break
		sleep 0.1
	done
	[ -n "$f" ]
	grep -q '^Action: delivered' "$f"
	grep -q 'report-type=delivery-status' "$f"
}

@test "mta: --receipt names the Postfix queue id and the certificate" {
	s="receipt-$RANDOM"
	send --receipt "$T/r" bob@example.org < <(msg "$s")
	fp=$(openssl x509 -in "$PKI/server.pem" -noout -fingerprint -sha256 | cut -d= -f2)
	grep -qx "certificate-sha256: $fp" "$T/r"
	id=$(sed -n 's/^reply: 250 2.0.0 Ok: queued as \([0-9A-F]*\)$/\1/p' "$T/r")
	[ -n "$id" ]
	wait_mail bob "$s"
	grep -q "$id: to=<bob@example.org>.*status=sent" "$MTA/maillog"
}
