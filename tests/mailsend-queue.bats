#!/usr/bin/env bats
# mailsend's queue: store on temporary failure, --flush with the retry schedule (fake clock),
# bounces (RFC 3464), failed/, concurrent flushes, kill -9 while queueing.

load helpers/common
load helpers/mailsend

setup_file() {
	export PKI="$BATS_FILE_TMPDIR/pki"
	"$BATS_TEST_DIRNAME/helpers/mailsend-pki.sh" "$PKI"
}

T0=1800000000

setup() {
	common_setup
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state HOME=$T
	export SECMAIL_NOW=$T0
	S=$T/srv
	Q=$T/state/secmail/queue	# the default queue: --flush needs no option to find it
	# The server the messages are queued for, down until a test starts it (start_fault).
	FAULT_PORT=$(free_port)
	export FAULT_PORT
}
teardown() { stop_faults; common_teardown; }

# Queue a message while its server is down, with command-line settings only: the entry
# carries them, so a later `mailsend --flush` needs no option and no configuration.
queue_down() {	# queue_down SUBJECT [ARGS...]
	local s=$1
	shift
	msg "$s" | mailsend --server "127.0.0.1:$FAULT_PORT" --tls-trust-file "$PKI/ca.pem" \
		--timeout 3 "$@" 2>/dev/null
}

flush() { mailsend --flush "$@"; }
count() { ls "$Q/$1" 2>/dev/null | wc -l; }
sent() { ls "$S"/msg.* 2>/dev/null | wc -l; }

@test "queue: a queued message holds its envelope and the exact message, written via tmp/" {
	queue_down one x@example.org
	[ "$(count new)" -eq 1 ]
	[ "$(count tmp)" -eq 0 ]
	f=$(ls "$Q/new/"*)
	run sed -n '1,/^$/p' "$f"
	assert_line --index 0 "secmail-queue 1"
	assert_line "created $T0"
	assert_line "from alice@example.org"
	assert_line "rcpt x@example.org"
	sed '1,/^$/d' "$f" | grep -qx 'Subject: one'
	[ "$(stat -c %a "$f")" = 600 ]
}

@test "queue: failure then recovery: --flush before the first retry time does nothing; after, delivers once" {
	queue_down one
	start_fault "$S"
	SECMAIL_NOW=$((T0 + 1799)) flush
	[ "$(sent)" -eq 0 ]
	[ ! -f "$S/transcript" ]
	SECMAIL_NOW=$((T0 + 1800)) flush
	[ "$(sent)" -eq 1 ]
	[ "$(count new)" -eq 0 ]
	[ "$(count state)" -eq 0 ]
	tr -d '\r' <"$S/msg.1" | grep -qx 'Subject: one'
	SECMAIL_NOW=$((T0 + 99999)) flush --force
	[ "$(sent)" -eq 1 ]
}

@test "queue: --force ignores the schedule" {
	queue_down one
	start_fault "$S"
	flush --force
	[ "$(sent)" -eq 1 ]
}

@test "queue: one connection per server for many messages" {
	for i in 1 2 3 4 5; do SECMAIL_NOW=$((T0 + i)) queue_down "m$i"; done
	start_fault "$S"
	flush --force
	[ "$(sent)" -eq 5 ]
	run grep -c '^EHLO' "$S/transcript"
	assert_output 2	# before and after STARTTLS, once
	# oldest first
	tr -d '\r' <"$S/msg.1" | grep -qx 'Subject: m1'
	tr -d '\r' <"$S/msg.5" | grep -qx 'Subject: m5'
}

@test "queue: the retry interval doubles from 30 minutes up to 4 hours" {
	queue_down one
	start_fault "$S" --mode mail-4xx
	now=$((T0 + 1800))
	for want in 3600 7200 14400 14400 14400; do
		SECMAIL_NOW=$now run flush
		assert_failure 75	# EX_TEMPFAIL: something due is left
		assert_output --regexp ': deferred for 1 recipient: MAIL FROM: server said: 451 4.3.0 mail later; next attempt '
		f=$(ls "$Q/state/"*)
		next=$(sed -n 's/^next //p' "$f")
		[ "$next" -eq $((now + want)) ] || { echo "at $now: next $next, want $((now + want))"; return 1; }
		# not due one second before
		before=$(grep -c '^MAIL' "$S/transcript")
		SECMAIL_NOW=$((next - 1)) run flush
		assert_success	# nothing was due: silent, status 0
		assert_output ""
		[ "$(grep -c '^MAIL' "$S/transcript")" -eq "$before" ]
		now=$next
	done
	run grep -c '^attempts 6$' "$f"
	assert_output 1
}

@test "queue: --list shows sender, recipients, attempts and the last error" {
	queue_down listed x@example.org y@example.org
	start_fault "$S" --mode mail-4xx
	run flush --force
	assert_failure 75
	run mailsend --list
	assert_success
	assert_line --index 0 --regexp '^[0-9]+\.P[0-9]+R[0-9a-f]+\..* [0-9]+ 2027-01-15T08:00:00Z <alice@example.org>$'
	assert_line --partial "attempts 2"
	assert_line --partial "451 4.3.0 mail later"
	assert_line "  <x@example.org>"
	assert_line "  <y@example.org>"
}

@test "queue: --list on an empty queue" {
	run mailsend --list
	assert_success
	assert_output "queue is empty"
}

@test "queue: giving up after 5 days sends an RFC 3464 bounce to the sender (python email)" {
	start_fault "$S" --mode rcpt-bad
	msg doomed | mailsend --server "127.0.0.1:$FPORT" --tls-trust-file "$PKI/ca.pem" \
		ok@example.org later@example.org 2>/dev/null
	[ "$(count new)" -eq 1 ]
	SECMAIL_NOW=$((T0 + 5 * 86400)) flush
	[ "$(count new)" -eq 0 ]
	[ "$(count failed)" -eq 0 ]
	run cat "$S/env.2"
	assert_line --index 0 --regexp '^from <> SIZE=[0-9]+$'
	assert_line --index 1 "rcpt <alice@example.org>"
	python3 - "$S/msg.2" <<'PY'
import sys, email
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert m.get_content_type() == 'multipart/report', m.get_content_type()
assert m.get_param('report-type') == 'delivery-status'
parts = m.get_payload()
assert [p.get_content_type() for p in parts] == ['text/plain', 'message/delivery-status', 'text/rfc822-headers'], [p.get_content_type() for p in parts]
groups = parts[1].get_payload()   # python splits delivery-status into field groups
assert groups[0]['Reporting-MTA'].startswith('dns;'), groups[0]['Reporting-MTA']
rcpts = groups[1:]
assert len(rcpts) == 1, len(rcpts)
assert rcpts[0]['Final-Recipient'] == 'rfc822; later@example.org', rcpts[0]['Final-Recipient']
assert rcpts[0]['Action'] == 'failed'
assert rcpts[0]['Status'] == '4.4.7', rcpts[0]['Status']
assert '450 4.2.1' in rcpts[0]['Diagnostic-Code'] or 'deferred' in rcpts[0]['Diagnostic-Code'], rcpts[0]['Diagnostic-Code']
assert 'Subject: doomed' in parts[2].get_payload(), parts[2].get_payload()
assert m['To'] == '<alice@example.org>'
PY
}

@test "queue: a permanent 5xx at --flush bounces at once with the server's status" {
	queue_down perm bad1@example.org good@example.org
	start_fault "$S" --mode rcpt-bad
	flush --force
	[ "$(count new)" -eq 0 ]
	grep -qx 'rcpt <good@example.org>' "$S/env.1"
	grep -q '^from <> ' "$S/env.2"
	grep -q '^Status: 5.1.1' "$S/msg.2"
	grep -q '^Final-Recipient: rfc822; bad1@example.org' "$S/msg.2"
}

@test "queue: when the bounce cannot be sent either, the message is kept in failed/" {
	queue_down kept bad@example.org
	start_fault "$S" --mode rcpt-5xx
	run flush --force
	assert_output --partial "kept in failed/"
	[ "$(count new)" -eq 0 ]
	[ "$(count failed)" -eq 1 ]
	sed '1,/^$/d' "$Q/failed/"* | grep -qx 'Subject: kept'
}

@test "queue: a message that keeps failing stays queued and is never lost" {
	queue_down stays
	start_fault "$S" --mode drop-data
	for i in 1 2 3; do
		run flush --force
		assert_failure 75
		assert_output --partial "deferred for 1 recipient"
	done
	[ "$(count new)" -eq 1 ]
	grep -q '^attempts 4$' "$Q/state/"*
}

@test "queue: two --flush at once deliver every message exactly once" {
	for i in $(seq 1 40); do queue_down "m$i"; done
	start_fault "$S"
	flush --force & p1=$!
	flush --force & p2=$!
	wait $p1
	wait $p2
	[ "$(count new)" -eq 0 ]
	run sh -c "grep -h '^Subject:' '$S'/msg.* | sort | uniq -d"
	assert_output ""
	[ "$(sent)" -eq 40 ]
}

@test "queue: kill -9 while queueing leaves complete messages or none" {
	head -c 20000000 /dev/zero | tr '\0' 'x' | fold -w 500 >"$T/body"
	echo >>"$T/body"
	{ msg big; cat "$T/body"; } >"$T/in"
	want=$(wc -c <"$T/in")
	# How long a whole run takes here; the kills then sweep across that span so that some
	# land while the queue file is being written (timing only steers, never asserts).
	t0=$(date +%s%N)
	mailsend --server 127.0.0.1:1 --queue "$T/q0" <"$T/in" 2>/dev/null
	span=$((($(date +%s%N) - t0) / 1000000))
	for i in $(seq 0 15); do
		mailsend --server 127.0.0.1:1 --queue "$T/q" <"$T/in" 2>/dev/null & pid=$!
		ms=$((span * i / 16))
		sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "# $(ls "$T/q/new" | wc -l) complete, $(ls "$T/q/tmp" | wc -l) cut short in tmp/" >&3
	for f in "$T/q/new/"*; do
		[ -e "$f" ] || continue
		got=$(sed '1,/^$/d' "$f" | wc -c)
		# the queued message has Date and Message-ID added
		[ "$got" -gt "$want" ] || { echo "$f: $got octets, want more than $want"; return 1; }
		sed '1,/^$/d' "$f" | tail -c 502 | cmp - <(tail -c 502 "$T/body")
	done
}

@test "queue: --flush removes tmp/ files older than 36 hours and old orphaned state files only" {
	queue_down keep
	mkdir -p "$Q/tmp"
	echo partial >"$Q/tmp/old"
	touch -d '3 days ago' "$Q/tmp/old"
	echo partial >"$Q/tmp/fresh"
	echo 'attempts 1' >"$Q/state/orphan"
	touch -d '2 hours ago' "$Q/state/orphan"
	echo 'attempts 1' >"$Q/state/young"
	start_fault "$S" --mode mail-4xx
	flush
	[ ! -e "$Q/tmp/old" ]
	[ -e "$Q/tmp/fresh" ]
	[ ! -e "$Q/state/orphan" ]
	[ -e "$Q/state/young" ]
	[ "$(count state)" -eq 2 ]
	[ "$(count new)" -eq 1 ]
}

@test "queue: a refused recipient whose bounce fails stays queued while others are pending" {
	queue_down partial -f bad-sender@example.org bad1@example.org later@example.org
	start_fault "$S" --mode rcpt-bad
	run flush --force
	assert_output --partial "bounce not sent"
	assert_output --partial "will try again"
	[ "$(count new)" -eq 1 ]
	[ "$(count failed)" -eq 0 ]
	run grep -c '^done' "$Q/state/"*
	assert_output 0
	grep -q '^attempts 2$' "$Q/state/"*
}

# Issue 9 item 16: a queue someone else owns or can write to may hold a message they planted,
# to be sent with the victim's account. Each setup below plants one; none may be sent.
plant() {	# plant DIR: a queue entry written by hand, as an attacker would
	mkdir -p "$1/new" "$1/tmp" "$1/state" "$1/failed"
	printf 'secmail-queue 1\ncreated %s\nfrom victim@example.org\nrcpt mallory@example.net\n\nFrom: victim@example.org\nTo: mallory@example.net\nSubject: planted\n\nwire the money\n' "$T0" >"$1/new/1800000000.P1R00.evil"
}

@test "queue: a queue directory owned by another user is refused; the planted message is not sent" {
	start_fault "$S"
	plant "$Q"
	chown -R nobody "$Q"
	run flush --force
	assert_failure 78
	assert_output --partial "belongs to uid $(id -u nobody), not to you"
	[ "$(sent)" -eq 0 ]
	[ ! -e "$S/transcript" ] || ! grep -q '^MAIL' "$S/transcript"
	run mailsend --server "127.0.0.1:$FPORT" --tls-trust-file "$PKI/ca.pem" --no-queue \
		bob@example.org < <(msg)
	[ "$(sent)" -le 1 ]
	refute grep -q planted "$S"/msg.* 2>/dev/null
}

@test "queue: a queue directory (or a subdirectory) writable by group or others is refused" {
	start_fault "$S"
	for sub in "" /new /state; do
		rm -rf "$Q"
		plant "$Q"
		chmod 700 "$Q" "$Q"/*
		chmod g+w "$Q$sub"
		run flush --force
		assert_failure 78
		assert_output --partial "$Q$sub is writable by its group: refusing to use it"
	done
	chmod 777 "$Q/state"
	chmod 700 "$Q" "$Q/new"
	run flush --force
	assert_failure 78
	assert_output --partial "writable by others"
	[ "$(sent)" -eq 0 ]
}

@test "queue: a directory above the queue that others can write to (no sticky bit) is refused" {
	start_fault "$S"
	mkdir -p "$T/shared"
	chmod 777 "$T/shared"
	plant "$T/shared/q"
	chmod 700 "$T/shared/q"
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'server 127.0.0.1:%s\ntls_trust_file %s\ntimeout 3\nqueue %s\n' "$FPORT" "$PKI/ca.pem" "$T/shared/q" \
		>"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	run flush --force
	assert_failure 78
	assert_output --partial "$T/shared is writable by others"
	[ "$(sent)" -eq 0 ]
	chmod 1777 "$T/shared"	# sticky, like /tmp: others cannot rename what is ours
	run flush --force
	assert_success
}

@test "queue: in a private queue, an entry owned by someone else, writable by others or a symlink is not sent; the others are" {
	queue_down good
	start_fault "$S"
	printf 'secmail-queue 1\ncreated %s\nfrom victim@example.org\nrcpt mallory@example.net\n\nSubject: planted\n\nx\n' "$T0" >"$T/planted"
	cp "$T/planted" "$Q/new/1700000000.P1R01.other"
	chown nobody "$Q/new/1700000000.P1R01.other"
	cp "$T/planted" "$Q/new/1700000000.P1R02.writable"
	chmod 666 "$Q/new/1700000000.P1R02.writable"
	ln -s "$T/planted" "$Q/new/1700000000.P1R03.link"
	run flush --force
	assert_output --partial "1700000000.P1R01.other: $Q/new/1700000000.P1R01.other belongs to uid $(id -u nobody)"
	assert_output --partial "1700000000.P1R02.writable is writable by others"
	assert_output --partial "1700000000.P1R03.link is a symbolic link"
	[ "$(sent)" -eq 1 ]
	tr -d '\r' <"$S/msg.1" | grep -qx 'Subject: good'
	refute grep -q planted "$S"/msg.*
}

# Issue 11: a flush with nothing to do is silent (cron mails only on trouble); one with
# messages it could not deliver says which and why, and exits EX_TEMPFAIL.
@test "queue: --flush with nothing due is silent and exits 0; undeliverable entries are named, EX_TEMPFAIL" {
	run flush
	assert_success
	assert_output ""
	queue_down first
	queue_down second
	run flush --force	# the server is still down
	assert_failure 75
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --regexp "^mailsend: [^ ]+: deferred for 1 recipient: cannot connect to 127.0.0.1 port $FAULT_PORT: Connection refused; next attempt "
	run flush	# neither is due yet
	assert_success
	assert_output ""
}

@test "queue: an entry queued with command-line settings is sent by a flush with no options, after the configuration changed" {
	queue_down selfcontained
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'server 127.0.0.1:1\ntls none\n' >"$XDG_CONFIG_HOME/secmail/mailsend.conf"	# today's defaults point elsewhere
	start_fault "$S"
	flush --force
	[ "$(sent)" -eq 1 ]
	grep -q '^STARTTLS' "$S/transcript"
	f=$(ls "$Q/state" 2>/dev/null | wc -l)
	[ "$f" -eq 0 ]
}

@test "queue: the entry records where the secret comes from, never the secret" {
	printf 's3cret-pw\n' >"$T/pw"
	queue_down secret --user alice --pass-file "$T/pw"
	f=$(ls "$Q/new/"*)
	grep -qx "set pass_file $T/pw" "$f"
	grep -qx 'set user alice' "$f"
	grep -qx "set server 127.0.0.1:$FAULT_PORT" "$f"
	grep -qx "set tls_trust_file $PKI/ca.pem" "$f"
	refute grep -q s3cret "$f"
	start_fault "$S"
	flush --force
	grep -qx "auth: $(printf '\0alice\0s3cret-pw' | base64 -w0)" "$S/transcript"
}

@test "queue: a password given on a file descriptor is not there at flush time: said, and it stays queued" {
	queue_down fd --user alice --pass-fd 3 3< <(printf 'pw\n')
	start_fault "$S"
	run flush --force
	assert_failure 75
	assert_output --partial "its password came from file descriptor 3 when it was queued"
	[ "$(count new)" -eq 1 ]
	printf 'pw\n' >"$T/pw"
	flush --force --pass-file "$T/pw"
	[ "$(sent)" -eq 1 ]
}

@test "queue: an old entry whose account was renamed: the account and the entry are named, nothing lost" {
	mkdir -p "$XDG_CONFIG_HOME/secmail" "$Q/new" "$Q/tmp" "$Q/state" "$Q/failed"
	chmod -R 700 "$T/state"
	# an entry as mailsend wrote them before they carried their settings
	printf 'secmail-queue 1\ncreated %s\nfrom alice@example.org\nrcpt bob@example.org\naccount work\n\nSubject: old\n\nx\n' "$T0" >"$Q/new/1800000000.P1R00.old"
	start_fault "$S"
	printf 'account office\nserver 127.0.0.1:%s\ntls_trust_file %s\n' "$FPORT" "$PKI/ca.pem" >"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	run flush --force
	assert_failure 75
	assert_output "mailsend: 1800000000.P1R00.old: queue entry 1800000000.P1R00.old was queued for account work, which is not in $XDG_CONFIG_HOME/secmail/mailsend.conf (renamed or removed?)"
	[ "$(count new)" -eq 1 ]
	printf 'account work\nserver 127.0.0.1:%s\ntls_trust_file %s\n' "$FPORT" "$PKI/ca.pem" >"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	flush --force
	[ "$(sent)" -eq 1 ]
}

@test "queue: --flush ID sends that entry only, due or not; --remove ID removes one; unknown IDs are said" {
	queue_down one
	queue_down two
	start_fault "$S"
	ids=($(ls "$Q/new"))
	flush "${ids[1]}"
	[ "$(sent)" -eq 1 ]
	tr -d '\r' <"$S/msg.1" | grep -qx 'Subject: two'
	[ "$(count new)" -eq 1 ]
	run mailsend --remove "${ids[0]}" nonexistent.id
	assert_failure 66
	assert_output "mailsend: nonexistent.id: no such entry in the queue"
	[ "$(count new)" -eq 0 ]
	[ "$(count state)" -eq 0 ]
	run flush nonexistent.id
	assert_failure 66
	run mailsend --remove ../etc
	assert_failure 64
	run mailsend --remove
	assert_failure 64
}

@test "queue: a flush meets the server's recipient limit (452) with further transactions, not another day" {
	queue_down many a@example.org b@example.org c@example.org d@example.org e@example.org
	start_fault "$S" --rcpt-limit 2
	flush --force
	[ "$(sent)" -eq 3 ]
	[ "$(count new)" -eq 0 ]
	run sh -c "cat '$S'/env.* | grep -c rcpt"
	assert_output 5
}

# A man in the middle who strips STARTTLS (or shows a certificate we do not trust) must not
# make the message disappear: cron, which calls us as sendmail, throws away what we refuse.
# It is queued, nothing is sent in clear, and the next --flush delivers it over TLS, once.
@test "queue: a message deferred because STARTTLS was stripped goes out over TLS at the next --flush, once" {
	start_fault "$S" --mode no-starttls
	run mailsend --server "127.0.0.1:$FAULT_PORT" --tls-trust-file "$PKI/ca.pem" --timeout 3 \
		-FCronDaemon -i -B8BITMIME -oem bob@example.org < <(msg stripped)
	assert_success
	assert_output --partial "does not offer STARTTLS"
	[ "$(count new)" -eq 1 ]
	[ "$(sent)" -eq 0 ]
	refute grep -qs '^MAIL' "$S/transcript"
	stop_faults
	start_fault "$S.2"
	flush --force
	[ "$(ls "$S.2"/msg.* | wc -l)" -eq 1 ]
	grep -q '^STARTTLS' "$S.2/transcript"
	tr -d '\r' <"$S.2/msg.1" | grep -qx 'Subject: stripped'
	[ "$(count new)" -eq 0 ]
	flush --force
	[ "$(ls "$S.2"/msg.* | wc -l)" -eq 1 ]
}
