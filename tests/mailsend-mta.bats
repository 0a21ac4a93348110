#!/usr/bin/env bats
# mailsend against a real MTA: a private Postfix on loopback (tests/helpers/mta.sh) with
# STARTTLS and Cyrus SASL AUTH, started for this suite and stopped after it, running in a
# private mount namespace so that nothing in /etc changes; the delivered Maildir files are
# checked.

load helpers/common
load helpers/mailsend

setup_file() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root: tests/helpers/mta.sh runs a private Postfix in a mount namespace"
	fi
	# Postfix's own processes must reach the instance: a world-traversable directory.
	MTA=$(mktemp -d /tmp/secmail-mta.XXXXXX)
	chmod 755 "$MTA"
	export PKI="$MTA/pki" MTA
	MTA_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	export MTA_PORT
	"$BATS_TEST_DIRNAME/helpers/mta.sh" start "$MTA" "$MTA_PORT"
}

teardown_file() {
	[ -n "${MTA:-}" ] || return 0
	"$BATS_TEST_DIRNAME/helpers/mta.sh" stop "$MTA"
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

# wait_mail ADDR SUBJECT: path of the delivered message with this subject (10 s at most)
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

# What the system's Postfix and SASL configuration look like: names, sizes, modes, owners,
# ctimes and SHA-256 of everything under /etc/postfix, and /etc/sasldb2.
etc_snapshot() {
	find /etc/postfix /etc/sasldb2 -printf '%p %s %m %u:%g %C@\n' 2>/dev/null | sort
	find /etc/postfix /etc/sasldb2 -type f -exec sha256sum {} + 2>/dev/null | sort
	ls -d /etc/sasldb2 2>&1
}

@test "mta: STARTTLS + AUTH delivers; Return-Path, Delivered-To, body bytes, Bcc removed" {
	s="plain-$RANDOM"
	{
		printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.org>\nBcc: carol@example.org\nSubject: %s\n\n' "$s"
		printf 'first line\n.a dot line\n..two dots\n\nlast\n'
	} >"$T/in"
	send <"$T/in"
	f=$(wait_mail bob@example.org "$s")
	grep -qx 'Return-Path: <alice@example.org>' "$f"
	grep -qx 'Delivered-To: bob@example.org' "$f"
	refute grep -qi '^Bcc:' "$f"
	sed '1,/^$/d' "$f" | cmp - <(sed '1,/^$/d' "$T/in")
	g=$(wait_mail carol@example.org "$s")
	grep -qx 'Delivered-To: carol@example.org' "$g"
	refute grep -qi '^Bcc:' "$g"
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
	f=$(wait_mail bob@example.org "$s")
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
	assert_output --partial "none of AUTH SCRAM-SHA-256-PLUS, SCRAM-SHA-256, PLAIN or LOGIN"
}

@test "mta: an unknown recipient is named and refused (EX_NOUSER); the others get it" {
	s="mixed-$RANDOM"
	run send bob@example.org nobody@example.org < <(msg "$s")
	assert_failure 67
	assert_output --partial "<nobody@example.org>"
	wait_mail bob@example.org "$s"
}

@test "mta: queued while the server is unreachable, then --flush delivers exactly once" {
	s="queued-$RANDOM"
	run mailsend --server 127.0.0.1:1 --queue "$T/q" bob@example.org < <(msg "$s")
	assert_success
	assert_output --partial "queued as"
	send --flush --force
	f=$(wait_mail bob@example.org "$s")
	[ "$(ls "$T/q/new" | wc -l)" -eq 0 ]
	send --flush --force
	sleep 1
	[ "$(grep -l "^Subject: $s\$" "$MTA/Maildir/bob@example.org/new/"* | wc -l)" -eq 1 ]
}

@test "mta: DSN NOTIFY=SUCCESS brings back a delivery report to the sender" {
	s="dsn-$RANDOM"
	send --notify SUCCESS --envid "env-$s" bob@example.org < <(msg "$s")
	wait_mail bob@example.org "$s"
	for i in $(seq 100); do
		f=$(grep -l "^Original-Envelope-Id: env-$s" "$MTA/Maildir/alice@example.org/new/"* 2>/dev/null | head -1)
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
	wait_mail bob@example.org "$s"
	grep -q "$id: to=<bob@example.org>.*status=sent" "$MTA/maillog"
}

@test "mta: SCRAM-SHA-256 against Cyrus SASL (an independent implementation) logs in" {
	s="scram-$RANDOM"
	send bob@example.org < <(msg "$s")
	wait_mail bob@example.org "$s"
	grep -q 'sasl_method=SCRAM-SHA-256, sasl_username=alice' "$MTA/maillog"
}

@test "mta: the instance reads its own configuration; the system's is not the one in use" {
	run "$BATS_TEST_DIRNAME/helpers/mta.sh" exec "$MTA" postconf -h queue_directory
	assert_success
	assert_output "$MTA/spool"
	# outside the instance's mount namespace, /etc/postfix is the system's
	run postconf -h queue_directory
	refute_output "$MTA/spool"
	refute grep -rq "$MTA" /etc/postfix
}

@test "mta: /etc/postfix and /etc/sasldb2 stay byte-identical with their ctimes, even when a run fails half-way" {
	before=$(etc_snapshot)
	[ -n "$before" ]
	d1=$(mktemp -d /tmp/secmail-mta.XXXXXX) d2=$(mktemp -d /tmp/secmail-mta.XXXXXX)
	p1=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# A test that fails half-way, its trap stopping the instance.
	run bash -c '
		trap "\"$1\" stop \"$2\"" EXIT
		"$1" start "$2" "$3" --user "dora:pw" --mailbox dora@example.org --domain example.org
		printf "From: dora@example.org\nTo: dora@example.org\nSubject: half\n\nx\n" |
			"$1" exec "$2" sendmail -i -f dora@example.org dora@example.org
		exit 3
	' half "$BATS_TEST_DIRNAME/helpers/mta.sh" "$d1" "$p1"
	assert_failure 3
	[ -z "$("$BATS_TEST_DIRNAME/helpers/mta.sh" pid "$d1" 2>/dev/null)" ]
	# A start killed with SIGKILL at some point, then cleaned up by stop.
	p2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$BATS_TEST_DIRNAME/helpers/mta.sh" start "$d2" "$p2" & k=$!
	sleep 1
	kill -9 "$k" 2>/dev/null || true
	wait "$k" 2>/dev/null || true
	"$BATS_TEST_DIRNAME/helpers/mta.sh" stop "$d2"
	after=$(etc_snapshot)
	rm -rf "$d1" "$d2"
	[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); return 1; }
}

@test "mta: cron's message and argument vector through Postfix: root, aliased, reaches the Maildir rewritten" {
	s="cron-$RANDOM"
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'root: bob@example.org\n' >"$T/aliases"
	cat >"$XDG_CONFIG_HOME/secmail/mailsend.conf" <<-EOC
	server 127.0.0.1:$MTA_PORT
	tls_trust_file $PKI/ca.pem
	user alice
	pass_file $T/pw
	aliases $T/aliases
	default_domain example.org
	EOC
	printf 'From: root (Cron Daemon)\nTo: root\nSubject: %s\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\nout\n' "$s" |
		mailsend -FCronDaemon -i -B8BITMIME -oem -oi -t
	f=$(wait_mail bob@example.org "$s")
	grep -qx 'Return-Path: <bob@example.org>' "$f"
	grep -qx 'From: bob@example.org (Cron Daemon)' "$f"
	grep -qx 'To: bob@example.org' "$f"
}

@test "mta: a message queued (-odq) with command-line settings only is delivered by a bare --flush" {
	s="later-$RANDOM"
	mailsend --server "127.0.0.1:$MTA_PORT" --tls-trust-file "$PKI/ca.pem" --user alice \
		--pass-file "$T/pw" -odq bob@example.org < <(msg "$s")
	[ ! -e "$XDG_CONFIG_HOME/secmail/mailsend.conf" ]
	run mailsend --flush
	assert_success
	assert_output ""
	wait_mail bob@example.org "$s"
}
