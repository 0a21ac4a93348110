#!/usr/bin/env bats
# mailsend's adversarial review: a hostile or broken server, a queue damaged by a crash, and
# hostile messages. Each test builds its hostile input or server itself (helpers/smtp-script.py).

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
	Q=$T/q
	SCRIPT_PIDS=()
}
teardown() {
	local p
	for p in "${SCRIPT_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	stop_faults
	common_teardown
}

# start_script DIR [smtp-script.py options...]: the scripted server, with the test PKI's
# certificate for STARTTLS; sets FPORT.
start_script() {
	local d=$1 i
	shift
	mkdir -p "$d"
	python3 "$TOP/tests/helpers/smtp-script.py" --port-file "$d/port" --dir "$d" \
		--cert "$PKI/server.pem" --key "$PKI/server.key" "$@" 2>"$d/server.err" &
	SCRIPT_PIDS+=($!)
	for i in $(seq 100); do
		[ -s "$d/port" ] && break
		sleep 0.05
	done
	FPORT=$(cat "$d/port")
}

send() {
	mailsend --server "127.0.0.1:$FPORT" --tls-trust-file "$PKI/ca.pem" --timeout 3 \
		--queue "$Q" "$@"
}
entries() { ls "$Q/new" 2>/dev/null | wc -l; }
rcpts_of() { sed -n '/^$/q; s/^rcpt //p' "$Q/new/"*; }

# RFC 5321 4.5.3.1.10: the recipients past the server's limit (452) go in a second transaction.
# When that one fails at DATA, its recipients do not have the message, whatever RCPT said.
@test "review: a second transaction (after 452) refused at DATA: its recipients are queued, not counted as sent" {
	start_script "$S" --rcpt-limit 1 --data-reply '2=451 4.3.0 try again later'
	run send r1@example.org r2@example.org < <(msg two)
	assert_success
	assert_output --partial "queued as"
	grep -qx 'rcpt <r1@example.org>' "$S/env.1"
	[ ! -e "$S/msg.2" ]
	[ "$(entries)" -eq 1 ]
	run rcpts_of
	assert_output "r2@example.org"
}

@test "review: the same at --flush: the entry keeps the undelivered recipient, nothing is sent twice" {
	start_script "$S" --rcpt-limit 1 --data-reply '2=451 4.3.0 try again later'
	send -odq r1@example.org r2@example.org < <(msg two)
	[ "$(entries)" -eq 1 ]
	run mailsend --flush --queue "$Q"
	assert_failure 75
	assert_output --partial "deferred for 1 recipient"
	[ "$(entries)" -eq 1 ]
	run sed -n 's/^done //p' "$Q/state/"*
	assert_output "r1@example.org"
	# the next flush, with the server healthy, sends to r2 only
	SECMAIL_NOW=$((T0 + 4000)) mailsend --flush --queue "$Q"
	[ "$(entries)" -eq 0 ]
	run cat "$S/env.2"
	assert_output --partial "rcpt <r2@example.org>"
	refute_output --partial "r1@"
	[ ! -e "$S/msg.3" ]
}

# A queue file is complete when it appears (fsync, then rename), but a crash of the machine
# on a file system that does not order data before names, a restore or a copy can still cut
# it short. Its envelope says how long the message is: a shorter or longer one is never sent.
@test "review: a queue entry cut short (or grown) after a crash is reported and kept, never sent half" {
	start_script "$S"
	printf 'From: alice@example.org\nTo: bob@example.org\nSubject: long\n\n' >"$T/m"
	seq 1 2000 >>"$T/m"
	send -odq <"$T/m"
	f=$(ls "$Q/new/"*)
	cp "$f" "$T/whole"
	truncate -s -3000 "$f"
	run mailsend --flush --queue "$Q"
	assert_failure 75
	assert_output --partial "cut short or damaged"
	[ ! -e "$S/msg.1" ]
	[ "$(entries)" -eq 1 ]
	# grown: a line of junk after the message
	cp "$T/whole" "$f"
	echo junk >>"$f"
	run mailsend --flush --queue "$Q"
	assert_failure 75
	[ ! -e "$S/msg.1" ]
	# whole again: sent, exactly the message queued
	cp "$T/whole" "$f"
	mailsend --flush --queue "$Q"
	[ "$(entries)" -eq 0 ]
	tr -d '\r' <"$S/msg.1" | tail -1 | grep -qx 2000
	grep -qx "size $(printf '%020d' "$(sed '1,/^$/d' "$T/whole" | wc -c)")" "$T/whole"
}

@test "review: an entry of an older version (no size line) is still sent" {
	start_script "$S"
	send -odq < <(msg old)
	f=$(ls "$Q/new/"*)
	sed -i '/^size [0-9]*$/d' "$f"
	mailsend --flush --queue "$Q"
	[ "$(entries)" -eq 0 ]
	tr -d '\r' <"$S/msg.1" | grep -qx 'Subject: old'
}

# RFC 5322 3.6.6: Resent-Bcc is as blind as Bcc. A message re-sent with -t goes to its Resent-
# recipients (as sendmail and Postfix read it), and the Resent-Bcc never reaches anyone.
@test "review: -t on a re-sent message: Resent-To/Cc/Bcc are the recipients, Resent-Bcc is removed" {
	start_script "$S"
	printf 'Resent-From: alice@example.org\nResent-To: dave@example.org\nResent-Cc: erin@example.org\nResent-Bcc: hidden@example.org\nFrom: carol@example.org\nTo: bob@example.org\nSubject: fwd\n\nbody\n' |
		send -t -f alice@example.org
	run cat "$S/env.1"
	assert_output --partial "rcpt <dave@example.org>"
	assert_output --partial "rcpt <erin@example.org>"
	assert_output --partial "rcpt <hidden@example.org>"
	refute_output --partial "bob@"
	python3 - "$S/msg.1" <<'PY'
import sys, email
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert m['Resent-Bcc'] is None, m['Resent-Bcc']
assert b'hidden' not in open(sys.argv[1], 'rb').read()
assert m['Resent-To'] == 'dave@example.org' and m['To'] == 'bob@example.org'
PY
}

# RFC 5322 3.6.6: each resent block has a Resent-Date and a Resent-From (and should have a
# Resent-Message-ID). What the topmost block lacks is added at its top, as sendmail and
# Postfix do; an older block and a complete one are left as they are.
@test "review: -t on a re-sent message adds the Resent-Date, Resent-From and Resent-Message-ID its block lacks" {
	start_script "$S"
	printf 'Resent-To: dave@example.org\nFrom: carol@example.org\nTo: bob@example.org\nDate: Sun, 31 Dec 2023 00:00:00 +0000\nMessage-ID: <orig@example.org>\nSubject: fwd\n\nbody\n' |
		send -t -f alice@example.org -F 'Alice "the boss" Q'
	python3 - "$S/msg.1" <<'PY'
import sys, email, email.utils
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw)
names = [k.lower() for k in m.keys()]
top = names[:4]
assert sorted(top) == ['resent-date', 'resent-from', 'resent-message-id', 'resent-to'], names
assert email.utils.parsedate_to_datetime(m['Resent-Date']) is not None
name, addr = email.utils.parseaddr(str(email.header.make_header(email.header.decode_header(m['Resent-From']))))
assert addr == 'alice@example.org' and name == 'Alice "the boss" Q', (name, addr)
rid = m['Resent-Message-ID']
assert rid.startswith('<') and rid.endswith('@example.org>') and rid != '<orig@example.org>', rid
# the original fields are untouched, and there is one of each
assert m['Date'] == 'Sun, 31 Dec 2023 00:00:00 +0000' and m['Message-ID'] == '<orig@example.org>'
for k in ('resent-date', 'resent-from', 'resent-message-id', 'date', 'message-id', 'from'):
    assert names.count(k) == 1, (k, names)
PY
	# a complete block is left as it is: nothing added
	printf 'Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\nResent-From: eve@example.org\nResent-Message-ID: <r1@example.org>\nResent-To: dave@example.org\nFrom: carol@example.org\nTo: bob@example.org\nDate: Sun, 31 Dec 2023 00:00:00 +0000\nMessage-ID: <orig@example.org>\nSubject: fwd\n\nbody\n' >"$T/full"
	send -t -f alice@example.org <"$T/full"
	tr -d '\r' <"$S/msg.2" | cmp - "$T/full"
	# only the top block is completed: an older one lacking a Resent-Message-ID stays so
	printf 'Resent-To: dave@example.org\nReceived: by relay; Mon, 1 Jan 2024 00:00:00 +0000\nResent-Date: Mon, 1 Jan 2024 00:00:00 +0000\nResent-From: eve@example.org\nResent-To: old@example.org\nFrom: carol@example.org\nTo: bob@example.org\nDate: Sun, 31 Dec 2023 00:00:00 +0000\nMessage-ID: <orig@example.org>\nSubject: fwd\n\nbody\n' |
		send -t -f alice@example.org
	[ "$(tr -d '\r' <"$S/msg.3" | grep -c '^Resent-Message-ID:')" = 1 ]
	[ "$(tr -d '\r' <"$S/msg.3" | sed -n '4p')" = "Resent-To: dave@example.org" ]
	[ "$(tr -d '\r' <"$S/msg.3" | grep -c '^Resent-Date:')" = 2 ]
}

@test "review: a Resent-Bcc is removed with recipients given as arguments too" {
	start_script "$S"
	printf 'From: a@example.org\nTo: b@example.org\nResent-Bcc: hidden@example.org\nSubject: s\n\nbody\n' |
		send b@example.org
	run grep -ci 'hidden' "$S/msg.1"
	assert_output 0
	run cat "$S/env.1"
	refute_output --partial "hidden"
}

# RFC 4954 section 4: the AUTH line obeys SMTP's 512 octets; a longer initial response goes
# after an empty 334. Microsoft 365's OAuth access tokens are 1500-3000 octets or more.
@test "review: a long OAuth token (2500 octets) is sent after an empty 334, not on an over-long AUTH line" {
	tok=$(head -c 1875 /dev/urandom | base64 -w0 | tr '+/' '-_')
	[ "${#tok}" -eq 2500 ]
	start_script "$S" --oauth-token "$tok"
	printf '%s' "$tok" >"$T/tok"
	msg | send --user alice@example.org --auth xoauth2 --passwordeval "cat $T/tok"
	grep -q '^auth-form: after-334 ' "$S/transcript"
	grep -qx 'auth: oauth ok' "$S/transcript"
	[ -f "$S/msg.1" ]
	# no line we sent was over 512 octets, but for the SASL response
	run awk 'length($0) > 510 && !/^[A-Za-z0-9+\/=]+$/' "$S/transcript"
	assert_output ""
}

@test "review: a short OAuth token still goes on the AUTH line (one round trip)" {
	start_script "$S" --oauth-token short-token
	msg | send --user alice@example.org --auth xoauth2 --passwordeval 'echo short-token'
	grep -q '^auth-form: initial ' "$S/transcript"
	[ -f "$S/msg.1" ]
}

# The state file records the recipients already served ("done ADDR"), and its lines were read
# into 1024 octets: a longer address was cut, never found done, and sent again at every retry
# (its rest, read as a line of its own, could even set a key).
@test "review: a delivered recipient with a long address is not sent the message again at the next retry" {
	start_fault "$S" --mode rcpt-bad
	long=$(printf 'x%.0s' $(seq 1 1100))@example.org
	send -odq "$long" later@example.org < <(msg long)
	run mailsend --flush --queue "$Q"
	assert_failure 75
	grep -qx "rcpt <$long>" "$S/env.1"
	SECMAIL_NOW=$((T0 + 1800)) run mailsend --flush --queue "$Q"
	assert_failure 75
	[ "$(grep -c 'RCPT TO:<later@example.org>' "$S/transcript")" -eq 2 ]
	[ "$(grep -c 'RCPT TO:<xxxx' "$S/transcript")" -eq 1 ]
	[ ! -e "$S/msg.2" ]
}

# CVE-2011-0411 class: what a man in the middle sends in clear right after the 220 to
# STARTTLS must never be read as a reply inside TLS (it would answer EHLO or AUTH for the
# real server). Sound on main; this test keeps it so.
@test "review: replies injected in clear after the STARTTLS 220 end the session; no AUTH, no mail" {
	start_script "$S" --starttls-inject '250-script.example\r\n250 AUTH PLAIN\r\n235 2.7.0 ok\r\n'
	run send --no-queue --user alice --pass-file /dev/null < <(msg)
	assert_failure 76
	assert_output --partial "data after the STARTTLS reply"
	run grep -cE '^(AUTH|MAIL|EHLO)' "$S/transcript"
	assert_output 1
	[ ! -e "$S/msg.1" ]
}

# A flush that delivered to some recipients and then dies (kill -9, a reboot) while sending the
# bounce for the others must not deliver to the first ones again: what was delivered is on
# disk before the bounce is tried.
@test "review: kill -9 while a flush sends a bounce: the recipients already served do not get it twice" {
	start_script "$S" --refuse bad --stall-bounce-once
	send -odq ok@example.org bad@example.org < <(msg partial)
	mailsend --flush --queue "$Q" 2>"$T/flush.err" &
	pid=$!
	for i in $(seq 200); do
		grep -q '^MAIL FROM:<>' "$S/transcript" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '^MAIL FROM:<>' "$S/transcript"
	kill -9 "$pid"
	wait "$pid" || true
	grep -qx 'rcpt <ok@example.org>' "$S/env.1"
	# the next flush bounces bad@ to the sender and sends nothing more to ok@
	SECMAIL_NOW=$((T0 + 4000)) run mailsend --flush --force --queue "$Q"
	[ "$(grep -c 'RCPT TO:<ok@example.org>' "$S/transcript")" -eq 1 ]
	[ "$(entries)" -eq 0 ]
	grep -qx 'rcpt <alice@example.org>' "$S/env.2"
	[ ! -e "$S/msg.3" ]
}

# A queue entry's lines are read back in 4096 octets: one that cannot be read back must not
# be written, or the message is "queued" (exit 0) and then never sent.
@test "review: a recipient too long for a queue entry is refused at queueing time, not queued unreadable" {
	long=$(printf 'y%.0s' $(seq 1 5000))@example.org
	run send -odq --server 127.0.0.1:1 "$long" < <(msg)
	assert_failure 65
	assert_output --partial "cannot queue the message"
	[ "$(entries)" -eq 0 ]
}
