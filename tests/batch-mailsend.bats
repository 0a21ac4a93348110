#!/usr/bin/env bats
# Batch mode with mailsend: the cron line the README and smime-sign(1) document, run verbatim
# (through /bin/sh, as cron runs it) with a fake HOME and XDG directories, against the
# fault-injecting SMTP server: sign everything in an outbox, queue it, one flush sends it.

load helpers/common
load helpers/batch

setup_file() {
	batch_pki
	export MPKI="$BATS_FILE_TMPDIR/mpki"
	[ -f "$MPKI/server.pem" ] || "$BATS_TEST_DIRNAME/helpers/mailsend-pki.sh" "$MPKI"
}
setup() {
	common_setup
	export HOME=$T/home
	export XDG_CONFIG_HOME=$HOME/.config XDG_STATE_HOME=$HOME/.local/state
	mkdir -p "$XDG_CONFIG_HOME/secmail" "$HOME/Mail"
	mkmaildir "$HOME/Mail/outbox"
	S=$T/srv
	mkdir "$S"
	python3 "$TOP/tests/helpers/smtp-fault.py" --port-file "$S/port" --dir "$S" \
		--cert "$MPKI/server.pem" --key "$MPKI/server.key" 2>"$S/server.err" &
	SRV=$!
	for _ in $(seq 100); do [ -s "$S/port" ] && break; sleep 0.05; done
	# The user's configuration: the signing key, and the server (nothing on the cron line).
	printf 'cert %s\nkey %s\n' "$PKI/alice-full.pem" "$PKI/alice.key" \
		>"$XDG_CONFIG_HOME/secmail/smime.conf"
	printf 'server 127.0.0.1:%s\ntls_trust_file %s\ntimeout 5\n' "$(cat "$S/port")" "$MPKI/ca.pem" \
		>"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	# The command part of the crontab line, exactly as the README shows it.
	CRON=$(grep -E '^    \*/10 \* \* \* \* smime-sign --maildir' "$TOP/README.md" \
		| sed -E 's/^    ([^ ]+ ){5}//')
}
teardown() {
	kill "$SRV" 2>/dev/null || true
	wait "$SRV" 2>/dev/null || true
	common_teardown
}

sent() { ls "$S"/msg.* 2>/dev/null | wc -l; }

@test "cron: the documented line signs the outbox, queues each message and one flush sends each once, signed" {
	[ "$CRON" = "smime-sign --maildir ~/Mail/outbox --exec 'mailsend -t --queue-only'; mailsend --flush" ]
	# the same line in smime-sign(1)
	grep -qF "smime-sign --maildir ~/Mail/outbox --exec 'mailsend -t --queue-only'; mailsend --flush" \
		"$TOP/man/smime-sign.1"
	fill "$HOME/Mail/outbox" 5
	run --separate-stderr /bin/sh -c "$CRON"
	assert_success
	[ "$stderr" = "" ]
	[ "$(files "$HOME/Mail/outbox/new")" = "" ]
	[ "$(sent)" -eq 5 ]
	for f in "$S"/msg.*; do
		openssl cms -verify -in "$f" -CAfile "$PKI/ca.pem" -purpose smimesign -out "$T/inner" 2>/dev/null
		grep -q '^Message number [1-5]\.' "$T/inner"
	done
	[ "$(subjects "$S"/msg.*)" = "$(expect_subjects 1 5)" ]
	# each to the To address only
	[ "$(grep -h '^rcpt ' "$S"/env.* | sort -u)" = "$(grep -h '^rcpt ' "$S"/env.1)" ]
	grep -q '^rcpt <\{0,1\}bob@example.org' "$S"/env.1
	# the next run finds nothing to do, sends nothing again, and says nothing
	run --separate-stderr /bin/sh -c "$CRON"
	assert_success
	[ "$stderr" = "" ]
	[ "$(sent)" -eq 5 ]
}

@test "cron: a draft that cannot be signed stays in the outbox, named; the others go; nothing is sent twice" {
	fill "$HOME/Mail/outbox" 3
	small_msg 4 'Mallory <mallory@example.net>' >"$HOME/Mail/outbox/new/1700000004.M4P4242.test"
	run --separate-stderr /bin/sh -c "$CRON"
	# the flush decides the exit status: everything queued went out
	assert_success
	grep -q "^smime-sign: $HOME/Mail/outbox/new/1700000004.M4P4242.test: .*mallory@example.net" <<<"$stderr"
	grep -q "1 of 4 messages not signed: 1 failed" <<<"$stderr"
	[ "$(files "$HOME/Mail/outbox/new")" = "1700000004.M4P4242.test" ]
	[ "$(sent)" -eq 3 ]
	run /bin/sh -c "$CRON"
	[ "$(sent)" -eq 3 ]
	[ "$(subjects "$S"/msg.*)" = "$(expect_subjects 1 3)" ]
}

@test "cron: with the server down the signed messages wait in mailsend's queue, not in the outbox; a later flush sends them once" {
	kill "$SRV"
	wait "$SRV" 2>/dev/null || true
	fill "$HOME/Mail/outbox" 3
	# the clock of the first run: now (the certificates are made at setup, valid from then on)
	export SECMAIL_NOW=$(($(date +%s) + 60))
	run --separate-stderr /bin/sh -c "$CRON"
	assert_failure 75
	[ "$(files "$HOME/Mail/outbox/new")" = "" ]
	[ "$(ls "$XDG_STATE_HOME/secmail/queue/new" | wc -l)" -eq 3 ]
	python3 "$TOP/tests/helpers/smtp-fault.py" --port-file "$S/port2" --dir "$S" \
		--port "$(cat "$S/port")" --cert "$MPKI/server.pem" --key "$MPKI/server.key" \
		2>>"$S/server.err" &
	SRV=$!
	for _ in $(seq 100); do [ -s "$S/port2" ] && break; sleep 0.05; done
	# past the first retry time (30 minutes)
	SECMAIL_NOW=$((SECMAIL_NOW + 3600)) run /bin/sh -c "$CRON"
	assert_success
	[ "$(sent)" -eq 3 ]
	verify_all "$S"/msg.*
	[ "$(subjects "$S"/msg.*)" = "$(expect_subjects 1 3)" ]
	[ "$(ls "$XDG_STATE_HOME/secmail/queue/new" | wc -l)" -eq 0 ]
}
