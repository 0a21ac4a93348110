#!/usr/bin/env bats
# mailsend as sendmail: the exact argument vectors that cron, neomutt, s-nail, git send-email
# and PHP's mail() pass, -bs sessions, local names and aliases (in the envelope and the
# header), -oeX error modes, -odq, the log file, the kept copy, --bcc-dir.

load helpers/common
load helpers/mailsend

setup_file() {
	export PKI="$BATS_FILE_TMPDIR/pki"
	"$BATS_TEST_DIRNAME/helpers/mailsend-pki.sh" "$PKI"
}

setup() {
	common_setup
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state HOME=$T
	export SECMAIL_NOW=1800000000
	S=$T/srv
	Q=$T/state/secmail/queue
	export TOP
}
teardown() { stop_faults; common_teardown; }

# The configuration a sendmail caller relies on: the server only, nothing about names.
configure() {
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'server 127.0.0.1:%s\ntls_trust_file %s\ntimeout 5\n%s' "$FPORT" "$PKI/ca.pem" "${1:-}" \
		>"$XDG_CONFIG_HOME/secmail/mailsend.conf"
}

# with_mailname NAME CMD...: run CMD where /etc/mailname says NAME, in a private mount
# namespace over an overlay of /etc (the real /etc is never written).
with_mailname() {
	local name=$1
	shift
	mkdir -p "$T/etc-up" "$T/etc-work"
	unshare --mount --propagation private bash -c '
		set -e
		mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/etc-up,workdir=$1/etc-work" /etc
		printf "%s\n" "$2" >/etc/mailname
		shift 2
		exec "$@"' with_mailname "$T" "$name" "$@"
}

# What cron (Debian's 3.0pl1) writes to sendmail, and how it calls it.
cron_message() {
	printf 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> /usr/local/bin/backup\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nX-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\n\nbackup: 3 files, caf\xc3\xa9\n'
}

@test "sendmail: cron's vector (-FCronDaemon -i -B8BITMIME -oem -oi -t) with bare root, no alias configuration" {
	start_fault "$S"
	configure
	cron_message >"$T/in"
	with_mailname mail.example.net mailsend -FCronDaemon -i -B8BITMIME -oem -oi -t <"$T/in"
	run cat "$S/env.1"
	assert_line --index 0 --regexp '^from <root@mail.example.net> SIZE=[0-9]+ BODY=8BITMIME$'
	assert_line --index 1 "rcpt <root@mail.example.net>"
	# the header too (msmtp rewrites only the envelope); Python's email package reads it back
	run python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m["From"].addresses[0].addr_spec, "|", m["To"].addresses[0].addr_spec)' "$S/msg.1"
	assert_output "root@mail.example.net | root@mail.example.net"
	tr -d '\r' <"$S/msg.1" | grep -qx 'From: root@mail.example.net (Cron Daemon)'
	[ "$(grep -c '^X-Cron-Env:' "$S/msg.1")" -eq 2 ]
}

@test "sendmail: cron's root goes where the aliases file says, in the envelope and the header" {
	start_fault "$S"
	printf '# aliases(5)\nroot: admin@example.org\npostmaster: root\nops: root,\n  bob@example.org\n' >"$T/aliases"
	configure "aliases $T/aliases
default_domain host.example.net
"
	cron_message | sed 's/^To: root$/To: root, ops, postmaster/' |
		mailsend -FCronDaemon -i -B8BITMIME -oem -oi -t
	run cat "$S/env.1"
	assert_line --index 0 --partial "from <admin@example.org>"
	assert_line --index 1 "rcpt <admin@example.org>"
	assert_line --index 2 "rcpt <bob@example.org>"
	[ "${#lines[@]}" -eq 3 ]	# root, ops and postmaster lead to two addresses
	tr -d '\r' <"$S/msg.1" | grep -qx 'From: admin@example.org (Cron Daemon)'
	# ops has two addresses: the header names the list, qualified
	tr -d '\r' <"$S/msg.1" | grep -qx 'To: admin@example.org, ops@host.example.net, admin@example.org'
}

@test "sendmail: -n does not use the aliases; --default-domain completes bare names" {
	start_fault "$S"
	printf 'root: admin@example.org\n' >"$T/aliases"
	configure "aliases $T/aliases
"
	cron_message | mailsend -n --default-domain d.example -t
	grep -qx 'rcpt <root@d.example>' "$S/env.1"
}

@test "sendmail: an alias to a pipe is refused with the file and line; an alias loop ends" {
	start_fault "$S"
	printf 'root: |/usr/bin/procmail\nloop1: loop2\nloop2: loop1\n' >"$T/aliases"
	configure "aliases $T/aliases
default_domain d.example
"
	run mailsend -t < <(cron_message)
	assert_failure 78
	assert_output --partial "$T/aliases:1: alias root: '|/usr/bin/procmail' needs a local delivery agent"
	printf 'From: a@example.org\nTo: loop1\n\nx\n' | mailsend -t
	grep -qx 'rcpt <loop1@d.example>' "$S/env.1"
}

@test "sendmail: neomutt with DSN (-oi -N failure,delay -R hdrs -- rcpt)" {
	start_fault "$S"
	configure
	msg | mailsend -oi -N failure,delay -R hdrs -- bob@example.org
	grep -q '^MAIL FROM:<alice@example.org> SIZE=[0-9]* RET=hdrs$' "$S/transcript"
	grep -qx 'RCPT TO:<bob@example.org> NOTIFY=failure,delay ORCPT=rfc822;bob@example.org' "$S/transcript"
}

@test "sendmail: s-nail (-i [-m] [-v] -- rcpt...)" {
	start_fault "$S"
	configure
	msg | mailsend -i -m -- bob@example.org carol@example.org
	run grep rcpt "$S/env.1"
	assert_output "rcpt <bob@example.org>
rcpt <carol@example.org>"
	run mailsend -i -v -- dave@example.org < <(msg)
	assert_success
	assert_output --regexp '^mailsend: from=<alice@example.org> to=<dave@example.org> size=[0-9]+ status=sent \(250 2.0.0 queued as FAULT2\)$'
}

@test "sendmail: git send-email (-f sender -i rcpt...)" {
	start_fault "$S"
	configure
	printf 'From: Dev <dev@example.org>\nTo: list@example.org\nCc: rev@example.org\nSubject: [PATCH] x\n\n---\n diff\n' |
		mailsend -f bounces@example.org -i list@example.org rev@example.org
	run cat "$S/env.1"
	assert_line --index 0 --partial "from <bounces@example.org>"
	assert_line --index 1 "rcpt <list@example.org>"
	assert_line --index 2 "rcpt <rev@example.org>"
}

@test "sendmail: PHP's mail() (sendmail_path 'sendmail -t -i', additional_params -fsender)" {
	start_fault "$S"
	configure
	# what PHP writes: To and Subject first, then the additional headers, a blank line, the body
	printf 'To: bob@example.org\nSubject: Contact form\nFrom: web@example.org\nX-Mailer: PHP/8.2\n\nHello\n' |
		mailsend -t -i -fwww-data@example.org
	grep -q '^from <www-data@example.org>' "$S/env.1"
	grep -qx 'rcpt <bob@example.org>' "$S/env.1"
}

@test "sendmail: -bs: an SMTP session on standard input and output submits through the normal path" {
	start_fault "$S"
	configure
	printf 'EHLO app.example\r\nMAIL FROM:<app@example.org> RET=HDRS ENVID=e+2B1\r\nRCPT TO:<bob@example.org> NOTIFY=FAILURE\r\nRCPT TO:<root>\r\nDATA\r\nSubject: one\r\n\r\n..dot\r\nbody\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\nSubject: two\r\n\r\nb\r\n.\r\nQUIT\r\n' >"$T/session"
	run bash -c 'mailsend -bs --default-domain d.example <"$1" | tr -d "\r"' bs "$T/session"
	assert_success
	assert_line --index 0 --regexp '^220 .* ESMTP mailsend'
	assert_line --partial "250 2.0.0 Ok: sent (250 2.0.0 queued as FAULT1)"
	assert_line --partial "250 2.0.0 Ok: sent (250 2.0.0 queued as FAULT2)"
	assert_line --regexp '^221 '
	run cat "$S/env.1"
	assert_line --index 0 --regexp '^from <app@example.org> SIZE=[0-9]+ RET=HDRS ENVID=e\+2B1$'
	# one NOTIFY for the message (the first given): mailsend's envelope has one
	assert_line --index 1 "rcpt <bob@example.org> NOTIFY=FAILURE ORCPT=rfc822;bob@example.org"
	assert_line --index 2 "rcpt <root@d.example> NOTIFY=FAILURE ORCPT=rfc822;root@d.example"
	grep -q '^MAIL FROM:<app@example.org> SIZE=[0-9]* RET=HDRS ENVID=e+2B1$' "$S/transcript"
	tr -d '\r' <"$S/msg.1" | grep -qx '.dot'
	grep -q '^from <> ' "$S/env.2"
	grep -qx 'rcpt <carol@example.org>' "$S/env.2"
}

@test "sendmail: -bs: bad commands get SMTP errors, the session goes on; a cut-off DATA sends nothing" {
	start_fault "$S"
	configure
	run bash -c 'mailsend -bs | tr -d "\r"' bs < <(printf 'MAIL FROM:<a@example.org>\r\nEHLO x\r\nRCPT TO:<b@example.org>\r\nMAIL FROM:a@example.org\r\nMAIL FROM:<a@example.org> BOGUS=1\r\nFOO\r\nMAIL FROM:<a@example.org>\r\nDATA\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: cut\r\n\r\npartial')
	assert_success
	assert_line --index 1 "503 5.5.1 EHLO or HELO first"
	assert_line "503 5.5.1 MAIL first"
	assert_line "501 5.1.7 bad sender address syntax"
	assert_line "555 5.5.4 unsupported or bad MAIL parameter"
	assert_line "502 5.5.2 command not recognised"
	assert_line "554 5.5.1 no valid recipients"
	[ ! -e "$S/msg.1" ]
}

@test "sendmail: -bs: a recipient the server refuses for good gets the sender a notification (as -oem)" {
	start_fault "$S" --mode rcpt-bad
	configure
	run bash -c 'mailsend -bs | tr -d "\r"' bs < <(printf 'HELO x\r\nMAIL FROM:<app@example.org>\r\nRCPT TO:<ok@example.org>\r\nRCPT TO:<bad1@example.org>\r\nDATA\r\nSubject: s\r\n\r\nb\r\n.\r\nQUIT\r\n')
	assert_success
	assert_line --partial "250 2.0.0 Ok: sent"
	grep -qx 'rcpt <ok@example.org>' "$S/env.1"
	grep -q '^from <> ' "$S/env.2"
	grep -qx 'rcpt <app@example.org>' "$S/env.2"
	grep -q '^Final-Recipient: rfc822; bad1@example.org' "$S/msg.2"
	grep -q '^Status: 5.1.1' "$S/msg.2"
}

@test "sendmail: -oem mails refused recipients back; -oee also exits 0; -oep prints; -oeq is quiet" {
	start_fault "$S" --mode rcpt-bad
	configure
	run mailsend -oep ok@example.org bad1@example.org < <(msg)
	assert_failure 67
	assert_output --partial "recipients refused: <bad1@example.org>"
	[ ! -e "$S/msg.2" ]
	run mailsend -oeq ok@example.org bad1@example.org < <(msg)
	assert_failure 67
	assert_output ""
	run mailsend -oem ok@example.org bad1@example.org < <(msg)
	assert_failure 67
	grep -q '^from <> ' "$S/env.4"
	grep -q '^Final-Recipient: rfc822; bad1@example.org' "$S/msg.4"
	run mailsend -oee ok@example.org bad1@example.org < <(msg)
	assert_success
	grep -q '^Final-Recipient: rfc822; bad1@example.org' "$S/msg.6"
}

@test "sendmail: -odq queues without trying; --queued-exit tells queued from sent; -q sends it" {
	start_fault "$S"
	configure
	run mailsend -odq bob@example.org < <(msg held)
	assert_success
	[ ! -e "$S/transcript" ]
	[ "$(ls "$Q/new" | wc -l)" -eq 1 ]
	run mailsend --queue-only --queued-exit 3 bob@example.org < <(msg held2)
	assert_failure 3
	run mailsend -bp
	assert_success
	assert_output --partial "<bob@example.org>"
	mailsend -q
	[ "$(ls "$Q/new" | wc -l)" -eq 0 ]
	[ -e "$S/msg.2" ]
	# a sent message exits 0 even with --queued-exit
	mailsend --queued-exit 3 bob@example.org < <(msg sent)
}

@test "sendmail: the usage error is printed once; unknown -b modes and -q intervals are refused" {
	run mailsend -Z
	assert_failure 64
	[ "$(grep -c 'unknown option -Z' <<<"$output")" -eq 1 ]
	assert_line --index 0 "mailsend: unknown option -Z"
	run mailsend --bogus
	assert_failure 64
	[ "$(grep -c 'unknown option --bogus' <<<"$output")" -eq 1 ]
	run mailsend -f
	assert_failure 64
	assert_line --index 0 "mailsend: option -f needs a value"
	run mailsend -bd
	assert_failure 64
	assert_output --partial "-bd is not supported"
	run mailsend -q30m
	assert_failure 64
	assert_output --partial "periodic queue runs are for cron"
	run mailsend -B BINARYMIME bob@example.org
	assert_failure 64
	run mailsend -bi
	assert_success
	run mailsend -V
	assert_success
	assert_output --partial "mailsend"
}

@test "sendmail: -G relays the header untouched (no Date, Message-ID or rewriting)" {
	start_fault "$S"
	configure
	printf 'From: root\nTo: bob@example.org\nSubject: relay\n\nx\n' | mailsend -G -f relay@example.org -t
	run tr -d '\r' <"$S/msg.1"
	assert_output "From: root
To: bob@example.org
Subject: relay

x"
}

@test "sendmail: empty input says 'empty message'" {
	run mailsend bob@example.org </dev/null
	assert_failure 66
	assert_output "mailsend: empty message: nothing to send"
}

@test "sendmail: the log file gets one line per attempt; -L sets the tag" {
	start_fault "$S"
	configure "logfile $T/mail.log
"
	msg | mailsend -L cronmail bob@example.org
	mailsend --server 127.0.0.1:1 carol@example.org < <(msg) 2>/dev/null
	run cat "$T/mail.log"
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --regexp '^[0-9T:+-]+ cronmail\[[0-9]+\]: from=<alice@example.org> to=<bob@example.org> size=[0-9]+ status=sent \(250 2.0.0 queued as FAULT1\)$'
	assert_line --index 1 --regexp ' mailsend\[[0-9]+\]: from=<alice@example.org> to=<carol@example.org> size=[0-9]+ status=deferred \(cannot connect to 127.0.0.1 port 1: Connection refused\)$'
	[ "$(stat -c %a "$T/mail.log")" = 600 ]
	mailsend -X "$T/other.log" bob@example.org < <(msg)
	grep -q 'status=sent' "$T/other.log"
}

@test "sendmail: --sent-maildir keeps a copy of what was sent in a Maildir; none when refused" {
	start_fault "$S" --mode rcpt-bad
	configure
	msg kept | mailsend --sent-maildir "$T/Sent" bob@example.org
	f=$(ls "$T/Sent/cur/")
	[[ $f == *:2,S ]]
	cmp <(tr -d '\r' <"$S/msg.1") "$T/Sent/cur/$f"
	[ "$(ls "$T/Sent/tmp" | wc -l)" -eq 0 ]
	run mailsend --sent-maildir "$T/Sent" bad1@example.org < <(msg refused)
	assert_failure 67
	[ "$(ls "$T/Sent/cur" | wc -l)" -eq 1 ]
	[ "$(ls "$T/Sent/tmp" | wc -l)" -eq 0 ]
	python3 -c 'import mailbox, sys; print(len(mailbox.Maildir(sys.argv[1])))' "$T/Sent" | grep -qx 1
}

@test "sendmail: --list | head ends quietly (SIGPIPE), as the README promises" {
	configure
	# more than a pipe holds (64 KiB), so the writer meets the closed pipe
	msg | mailsend -odq $(seq -f 'recipient-number-%06g@example.org' 1 4000)
	run bash -c 'mailsend --list | head -1; echo "status ${PIPESTATUS[0]}"'
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 "status 141"	# 128 + SIGPIPE, and not a word on stderr
}

# Issue 11: smime-encrypt --bcc-dir writes one copy per Bcc recipient, whose header still
# names the To and Cc recipients; `mailsend -t < copy` sent it to them too (a Bcc leak).
# --bcc-dir sends each copy to the one address of its Bcc field only.
@test "sendmail: --bcc-dir sends each smime-encrypt Bcc copy only to its Bcc address; To/Cc never get one" {
	start_fault "$S"
	configure
	"$BATS_TEST_DIRNAME/helpers/pki" "$T/spki" 2>/dev/null
	printf 'From: zed@example.org\nTo: bob@example.org\nCc: carol@example.org\nBcc: alice@example.org, mallory@example.net\nSubject: secret\n\nhi\n' >"$T/m"
	mkdir -m 700 "$T/bcc"
	smime-encrypt -r "$T/spki/bob.pem" -r "$T/spki/carol.pem" -r "$T/spki/alice.pem" \
		-r "$T/spki/mallory.pem" --no-self --bcc-dir "$T/bcc" "$T/m" |
		mailsend -t --bcc-dir "$T/bcc"
	run grep -h '^rcpt' "$S/env.1"
	assert_output "rcpt <bob@example.org>
rcpt <carol@example.org>"
	run grep -h '^rcpt' "$S/env.2"
	assert_output "rcpt <alice@example.org>"
	run grep -h '^rcpt' "$S/env.3"
	assert_output "rcpt <mallory@example.net>"
	[ ! -e "$S/env.4" ]
	# every copy is what smime-encrypt made for that recipient, Bcc field removed
	refute grep -qi '^Bcc:' "$S/msg.2" "$S/msg.3"
	grep -q 'smime-type=enveloped-data' "$S/msg.2"
	[ "$(ls "$T/bcc" | wc -l)" -eq 0 ]	# sent: removed
}

@test "sendmail: --bcc-dir: only Bcc recipients (nothing for the main message); a copy naming two is refused" {
	start_fault "$S"
	configure
	mkdir -m 700 "$T/bcc"
	printf 'From: zed@example.org\nTo: bob@example.org\nBcc: dave@example.org\nSubject: c1\n\nx\n' >"$T/bcc/bcc-dave@example.org.eml"
	printf 'From: zed@example.org\nTo: bob@example.org\nBcc: a@example.org, b@example.org\nSubject: c2\n\nx\n' >"$T/bcc/bcc-two.eml"
	run mailsend -t --bcc-dir "$T/bcc" < <(printf 'From: zed@example.org\nTo: undisclosed-recipients:;\nSubject: main\n\nx\n')
	assert_failure 65
	assert_output --partial "Bcc copy bcc-two.eml: a Bcc copy must have one Bcc field naming one address"
	run grep -h '^rcpt' "$S/env.1"
	assert_output "rcpt <dave@example.org>"
	[ ! -e "$S/env.2" ]
	[ -e "$T/bcc/bcc-two.eml" ]
	[ ! -e "$T/bcc/bcc-dave@example.org.eml" ]
}

@test "sendmail: --bcc-dir that others can write to is refused: nothing planted there is sent" {
	start_fault "$S"
	configure
	mkdir -m 770 "$T/bcc"
	printf 'From: zed@example.org\nBcc: victim@example.org\nSubject: planted\n\nx\n' >"$T/bcc/bcc-victim@example.org.eml"
	run mailsend -t --bcc-dir "$T/bcc" < <(msg main)
	assert_failure 78
	assert_output --partial "$T/bcc is writable by its group"
	[ ! -e "$S/env.2" ]
}

@test "sendmail: -f '<>' is the null sender; a bare sender in a -bs session is completed" {
	start_fault "$S"
	configure
	msg | mailsend -f '<>' bob@example.org
	grep -q '^from <> ' "$S/env.1"
	run bash -c 'mailsend -bs --default-domain d.example | tr -d "\r"' bs < <(printf 'HELO x\r\nMAIL FROM:<root>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: s\r\n\r\nb\r\n.\r\nQUIT\r\n')
	assert_success
	grep -q '^from <root@d.example> ' "$S/env.2"
}
