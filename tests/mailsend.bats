#!/usr/bin/env bats
# mailsend against the fault-injecting server: the protocol, TLS policy, AUTH, failures.

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
}
teardown() { stop_faults; common_teardown; }

send() {	# send ARGS...: mailsend to the fault server with the test CA and a short timeout
	mailsend --server "127.0.0.1:$FPORT" --tls-trust-file "$PKI/ca.pem" --timeout 3 \
		--queue "$T/q" "$@"
}

queued() { ls "$T/q/new" 2>/dev/null | wc -l; }

# deferred WHY: the run that just ended sent nothing and queued the message (exit 0, the
# default --queued-exit), saying WHY: a server that fails TLS or SMTP itself is retried
# later, as --flush does, never taken at its word and never the end of the message
deferred() {
	assert_success
	assert_output --partial "queued as "
	assert_output --partial "$1"
	[ "$(queued)" -eq 1 ]
	[ ! -e "$S/msg.1" ]
	refute grep -qs '^MAIL' "$S/transcript"
}

@test "mailsend: delivers over STARTTLS; envelope from To, Cc and Bcc; Bcc removed" {
	start_fault "$S"
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org, Team: carol@example.org, "D" <dave@example.org>;\nCc: erin@example.org\nBcc: frank@example.org\nSubject: hi\n\nbody\n' |
		send
	run cat "$S/env.1"
	assert_output "from <alice@example.org> SIZE=$(wc -c <"$S/msg.1")
rcpt <bob@example.org>
rcpt <carol@example.org>
rcpt <dave@example.org>
rcpt <erin@example.org>
rcpt <frank@example.org>"
	run grep -ci '^bcc:' "$S/msg.1"
	assert_output 0
	grep -q '^STARTTLS' "$S/transcript"
	[ "$(queued)" -eq 0 ]
}

@test "mailsend: the transmitted message is the input with CRLF, Date and Message-ID added (python email)" {
	start_fault "$S"
	printf 'From: alice@example.org\nTo: bob@example.org\nSubject: s\n\nline 1\n.dot line\n..two\n.\nend' | send
	python3 - "$S/msg.1" <<'PY'
import sys, email, email.utils
raw = open(sys.argv[1], 'rb').read()
assert b'\n' not in raw.replace(b'\r\n', b''), "bare LF on the wire"
m = email.message_from_bytes(raw)
assert email.utils.parsedate_to_datetime(m['Date']).timestamp() == 1800000000, m['Date']
assert m['Message-ID'].startswith('<') and m['Message-ID'].endswith('@example.org>'), m['Message-ID']
assert m.get_payload() == 'line 1\r\n.dot line\r\n..two\r\n.\r\nend\r\n', repr(m.get_payload())
PY
}

@test "mailsend: an existing Date and Message-ID are kept" {
	start_fault "$S"
	printf 'From: a@example.org\nTo: b@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <keep@x>\n\nb\n' | send
	run grep -c '^Date: Mon, 1 Jan 2024 00:00:00 +0000' "$S/msg.1"
	assert_output 1
	run grep -c '^Message-ID: <keep@x>' "$S/msg.1"
	assert_output 1
}

@test "mailsend: recipients as arguments replace the header's; -f sets the envelope sender" {
	start_fault "$S"
	msg | send -f bounce@example.org x@example.org 'Y <y@example.org>'
	run cat "$S/env.1"
	assert_line --index 0 --partial "from <bounce@example.org>"
	assert_line --index 1 "rcpt <x@example.org>"
	assert_line --index 2 "rcpt <y@example.org>"
	run grep -c rcpt "$S/env.1"
	assert_output 2
}

@test "mailsend: sendmail flags -i -oi -t are accepted" {
	start_fault "$S"
	msg | send -i -oi -t
	grep -q 'rcpt <bob@example.org>' "$S/env.1"
}

@test "mailsend: pipelining sends MAIL, RCPT and DATA together; without it, one by one" {
	start_fault "$S" --mode no-pipelining
	msg | send x@example.org y@example.org
	[ -f "$S/msg.1" ]
}

@test "mailsend: EHLO refused falls back to HELO" {
	start_fault "$S" --mode ehlo-5xx
	msg | send --tls none
	grep -q '^HELO' "$S/transcript"
	[ -f "$S/msg.1" ]
}

@test "mailsend: no STARTTLS offered: nothing sent in clear; queued for a later try, or 76 with --no-queue" {
	start_fault "$S" --mode no-starttls
	run send < <(msg)
	deferred "does not offer STARTTLS"
	rm -rf "$T/q"
	run send --no-queue < <(msg)
	assert_failure 76	# EX_PROTOCOL
	assert_output --partial "does not offer STARTTLS"
	run grep -c '^MAIL' "$S/transcript"
	assert_output 0
	[ "$(queued)" -eq 0 ]
}

@test "mailsend: a certificate from an unknown CA is refused (EX_PROTOCOL), nothing sent" {
	start_fault "$S" --cert self
	run send < <(msg)
	deferred "certificate not trusted"
}

@test "mailsend: a certificate for another host name is refused" {
	start_fault "$S" --cert wrong
	run send < <(msg)
	deferred "not trusted"
}

@test "mailsend: --tls-fingerprint pins the certificate (openssl x509 -fingerprint)" {
	start_fault "$S" --cert self
	fp=$(openssl x509 -in "$PKI/self.pem" -noout -fingerprint -sha256 | cut -d= -f2)
	msg | send --tls-fingerprint "$fp"
	[ -f "$S/msg.1" ]
}

@test "mailsend: a wrong --tls-fingerprint is refused" {
	start_fault "$S"
	fp=$(openssl x509 -in "$PKI/self.pem" -noout -fingerprint -sha256 | cut -d= -f2)
	run send --tls-fingerprint "$fp" < <(msg)
	deferred "does not match"
}

@test "mailsend: implicit TLS" {
	start_fault "$S" --implicit
	msg | send --tls implicit
	[ -f "$S/msg.1" ]
}

@test "mailsend: AUTH PLAIN sends RFC 4616 credentials; the password is in no output" {
	start_fault "$S"
	printf 's3cret-pw\n' >"$T/pw"
	run send --user alice --pass-file "$T/pw" < <(msg)
	assert_success
	refute_output --partial s3cret
	want=$(printf '\0alice\0s3cret-pw' | base64 -w0)
	grep -qx "auth: $want" "$S/transcript"
}

@test "mailsend: AUTH LOGIN via config, password from --pass-fd" {
	start_fault "$S"
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'account a\nauth login\nuser alice\n' >"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	msg | send -a a --pass-fd 3 3< <(printf 'pw2\n')
	grep -qx "auth-user: $(printf alice | base64)" "$S/transcript"
	grep -qx "auth-pass: $(printf pw2 | base64)" "$S/transcript"
}

@test "mailsend: AUTH without TLS is refused unless --auth-in-clear" {
	start_fault "$S"
	printf 'pw\n' >"$T/pw"
	run send --tls none --user alice --pass-file "$T/pw" < <(msg)
	assert_failure 77	# EX_NOPERM
	assert_output --partial "without TLS"
	run grep -c '^AUTH' "$S/transcript"
	assert_output 0
	msg | send --tls none --user alice --pass-file "$T/pw" --auth-in-clear
	grep -q '^AUTH PLAIN' "$S/transcript"
}

@test "mailsend: refused authentication is EX_NOPERM and not queued" {
	start_fault "$S" --mode auth-fail
	printf 'pw\n' >"$T/pw"
	run send --user alice --pass-file "$T/pw" < <(msg)
	assert_failure 77
	assert_output --partial "535"
	[ "$(queued)" -eq 0 ]
}

@test "mailsend: passwordeval from the configuration" {
	start_fault "$S"
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'defaults\nuser alice\npasswordeval printf evalpw\n' >"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	msg | send
	grep -qx "auth: $(printf '\0alice\0evalpw' | base64 -w0)" "$S/transcript"
}

@test "mailsend: the account is chosen by the From address" {
	start_fault "$S"
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	cat >"$XDG_CONFIG_HOME/secmail/mailsend.conf" <<-EOC
	account other
	server 127.0.0.1:1
	from zed@example.org
	account mine
	server 127.0.0.1:$FPORT
	from alice@example.org
	tls_trust_file $PKI/ca.pem
	account default : other
	EOC
	msg | mailsend --timeout 3 --queue "$T/q"
	[ -f "$S/msg.1" ]
}

@test "mailsend: 4xx at each step queues the message and exits 0" {
	for m in greeting-4xx mail-4xx rcpt-4xx data-4xx end-4xx drop-data; do
		rm -rf "$T/q"
		start_fault "$S.$m" --mode "$m"
		run send < <(msg "$m")
		assert_success
		assert_output --partial "queued as"
		[ "$(queued)" -eq 1 ] || { echo "mode $m: not queued"; return 1; }
		grep -q "Subject: $m" "$T/q/new/"*
	done
}

@test "mailsend: 4xx with --no-queue is EX_TEMPFAIL and queues nothing" {
	start_fault "$S" --mode mail-4xx
	run send --no-queue < <(msg)
	assert_failure 75
	[ "$(queued)" -eq 0 ]
}

@test "mailsend: connection refused queues" {
	run mailsend --server 127.0.0.1:1 --queue "$T/q" < <(msg)
	assert_success
	assert_output --partial "queued as"
	[ "$(queued)" -eq 1 ]
}

@test "mailsend: a stalled server times out and the message is queued" {
	start_fault "$S" --mode stall
	run send --timeout 1 < <(msg)
	assert_success
	assert_output --partial "timed out"
	[ "$(queued)" -eq 1 ]
}

@test "mailsend: 5xx at each step is refused with EX_UNAVAILABLE or EX_NOUSER, not queued" {
	for m in greeting-5xx:69 mail-5xx:69 rcpt-5xx:67 data-5xx:69 end-5xx:69; do
		start_fault "$S.${m%:*}" --mode "${m%:*}"
		run send < <(msg)
		[ "$status" -eq "${m#*:}" ] || { echo "mode $m: status $status: $output"; return 1; }
		[ "$(queued)" -eq 0 ]
	done
}

@test "mailsend: some recipients refused: the others get it, the refused are named, EX_NOUSER" {
	start_fault "$S" --mode rcpt-bad
	run send ok@example.org bad1@example.org ok2@example.org < <(msg)
	assert_failure 67
	assert_output --partial "<bad1@example.org> (550 5.1.1"
	run grep -c rcpt "$S/env.1"
	assert_output 2
}

@test "mailsend: a deferred recipient is queued alone while the others are delivered" {
	start_fault "$S" --mode rcpt-bad
	run send ok@example.org later@example.org < <(msg)
	assert_success
	[ "$(queued)" -eq 1 ]
	run grep '^rcpt' "$T/q/new/"*
	assert_output "rcpt later@example.org"
}

@test "mailsend: a greeting line over 512 octets is accepted; one over 4096 is a protocol error" {
	start_fault "$S" --mode long-greeting
	msg | send
	[ -f "$S/msg.1" ]
	start_fault "$S.2" --mode huge-greeting
	run send --no-queue < <(msg)
	assert_failure 76
	assert_output --partial "too long"
}

@test "mailsend: garbage replies are a protocol error" {
	start_fault "$S" --mode garbage
	run send < <(msg)
	deferred "garbled reply"
}

@test "mailsend: SIZE: a message larger than the server's limit is refused before MAIL" {
	start_fault "$S" --mode size-100
	run send < <(msg "$(head -c 200 /dev/zero | tr '\0' x)")
	assert_failure 69
	assert_output --partial "exceeds the server's limit of 100"
	run grep -c '^MAIL' "$S/transcript"
	assert_output 0
}

@test "mailsend: 8-bit body uses BODY=8BITMIME; without 8BITMIME it is a clear error" {
	start_fault "$S"
	printf 'From: a@example.org\nTo: b@example.org\n\ncaf\xc3\xa9\n' | send
	grep -q 'BODY=8BITMIME' "$S/env.1"
	start_fault "$S.2" --mode no-8bitmime
	run send < <(printf 'From: a@example.org\nTo: b@example.org\n\ncaf\xc3\xa9\n')
	assert_failure 65
	assert_output --partial "8BITMIME"
}

@test "mailsend: non-ASCII address uses SMTPUTF8" {
	start_fault "$S"
	printf 'From: a@example.org\nTo: j\xc3\xb6rg@example.org\n\nx\n' | send
	grep -q 'SMTPUTF8' "$S/env.1"
	grep -q "rcpt <j$(printf '\xc3\xb6')rg@example.org>" "$S/env.1"
}

@test "mailsend: DSN parameters: NOTIFY and ORCPT on RCPT, RET and ENVID (xtext) on MAIL" {
	start_fault "$S"
	msg | send --notify SUCCESS,FAILURE --ret HDRS --envid 'id+1=x'
	grep -q '^MAIL FROM:<alice@example.org> SIZE=[0-9]* RET=HDRS ENVID=id+2B1+3Dx$' "$S/transcript"
	grep -q '^RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org$' "$S/transcript"
}

@test "mailsend: a line over 998 octets is refused with EX_DATAERR" {
	start_fault "$S"
	run send < <(printf 'From: a@example.org\nTo: b@example.org\n\n%s\n' "$(head -c 999 /dev/zero | tr '\0' x)")
	assert_failure 65
	assert_output --partial "longer than 998"
	[ ! -f "$S/transcript" ] || ! grep -q '^MAIL' "$S/transcript"
}

@test "mailsend: a line of exactly 998 octets passes" {
	start_fault "$S"
	printf 'From: a@example.org\nTo: b@example.org\n\n%s\n' "$(head -c 998 /dev/zero | tr '\0' x)" | send
	[ -f "$S/msg.1" ]
}

@test "mailsend: no recipients is EX_USAGE" {
	run mailsend --server 127.0.0.1:1 < <(printf 'From: a@example.org\nSubject: x\n\nb\n')
	assert_failure 64
	assert_output --partial "no recipients"
}

@test "mailsend: a malformed To is EX_DATAERR" {
	run mailsend --server 127.0.0.1:1 < <(printf 'From: a@example.org\nTo: <<<\n\nb\n')
	assert_failure 65
}

@test "mailsend: --receipt records reply, fingerprint, recipients and the SHA-256 of the message as sent" {
	start_fault "$S"
	msg | send --receipt "$T/r"
	fp=$(openssl x509 -in "$PKI/server.pem" -noout -fingerprint -sha256 | cut -d= -f2)
	grep -qx "certificate-sha256: $fp" "$T/r"
	grep -qx "reply: 250 2.0.0 queued as FAULT1" "$T/r"
	grep -qx "accepted: <bob@example.org> 250 2.1.5 ok" "$T/r"
	grep -qx "sha256: $(sha256sum <"$S/msg.1" | cut -d' ' -f1)" "$T/r"
}

@test "mailsend: options: --help, --version, bad option, bad --tls" {
	run mailsend --help
	assert_success
	assert_output --partial "usage: mailsend"
	run mailsend --version
	assert_success
	run mailsend --bogus
	assert_failure 64
	run mailsend --tls maybe --server 127.0.0.1:1 < <(msg)
	assert_failure 64
	run mailsend --ret SOME < <(msg)
	assert_failure 64
	run mailsend --notify SOMETIMES < <(msg)
	assert_failure 64
}

@test "mailsend: no server configured is EX_CONFIG" {
	run mailsend < <(msg)
	assert_failure 78
	assert_output --partial "no server"
}

@test "mailsend: the man pages are mandoc -Tlint clean" {
	run mandoc -Tlint -W warning "$TOP/man/mailsend.1" "$TOP/man/mailsend.conf.5"
	assert_success
	assert_output ""
}

@test "mailsend: every long option of --help is in the man page and the completions" {
	opts=$(mailsend --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ "$(echo "$opts" | wc -l)" -gt 20 ]
	for o in $opts; do
		grep -q -- "Fl Fl ${o#--}" "$TOP/man/mailsend.1" || { echo "man: $o"; return 1; }
		grep -q -- "$o" "$TOP/completions/bash/mailsend" || { echo "bash: $o"; return 1; }
		grep -q -- "$o" "$TOP/completions/zsh/_mailsend" || { echo "zsh: $o"; return 1; }
		grep -q -- "-l ${o#--}" "$TOP/completions/fish/mailsend.fish" || { echo "fish: $o"; return 1; }
	done
}

@test "mailsend: bash, zsh and fish completions load and offer options and accounts" {
	run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/mailsend' && COMP_WORDS=(mailsend --fl) COMP_CWORD=1 && _mailsend && echo \"\${COMP_REPLY[@]}\${COMPREPLY[@]}\""
	assert_output "--flush"
	run bash -c "source '$TOP/completions/bash/mailsend' && COMP_WORDS=(mailsend --tls i) COMP_CWORD=2 && _mailsend && echo \"\${COMPREPLY[@]}\""
	assert_output "implicit"
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'account work\naccount home : work\naccount default : home\n' >"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	run bash -c "source '$TOP/completions/bash/mailsend' && COMP_WORDS=(mailsend -a '') COMP_CWORD=2 && _mailsend && echo \"\${COMPREPLY[@]}\""
	assert_output "work home"
	run zsh -n "$TOP/completions/zsh/_mailsend"
	assert_success
	run zsh -c "fpath=('$TOP/completions/zsh' \$fpath); autoload -U compinit; compinit -u -D; print \$_comps[mailsend]"
	assert_output "_mailsend"
	run fish -c "source '$TOP/completions/fish/mailsend.fish'; complete -C'mailsend --no-q'"
	assert_output --partial "--no-queue"
	run fish -c "source '$TOP/completions/fish/mailsend.fish'; complete -C'mailsend -a '"
	assert_line --partial "home"
	assert_line --partial "work"
}

# with_syslog OUT CMD...: run CMD in a private mount namespace whose /dev/log is a sink
# writing to OUT (there is no syslog daemon here, and the real /dev stays untouched).
with_syslog() {
	local out=$1
	shift
	mkdir -p "$T/dev"
	unshare -m bash -c '
		set -e
		d=$1 out=$2; shift 2
		for n in null zero urandom random full; do : >"$d/$n"; mount --bind "/dev/$n" "$d/$n"; done
		ln -s /proc/self/fd "$d/fd"
		mount --rbind "$d" /dev
		python3 "$TOP/tests/helpers/syslog-sink.py" /dev/log "$out" & sink=$!
		for i in $(seq 100); do [ -e "$out.ready" ] && break; sleep 0.05; done
		rc=0
		"$@" || rc=$?
		sleep 0.2
		kill $sink
		exit $rc
	' with_syslog "$T/dev" "$out" "$@"
}

@test "mailsend: one syslog line per attempt at LOG_MAIL, without the password" {
	export TOP
	start_fault "$S"
	printf 's3cret-pw\n' >"$T/pw"
	msg >"$T/m"
	with_syslog "$T/log" sh -c "mailsend --server 127.0.0.1:$FPORT --tls-trust-file $PKI/ca.pem --user alice --pass-file $T/pw --queue $T/q bob@example.org <$T/m
		mailsend --server 127.0.0.1:1 --queue $T/q carol@example.org <$T/m 2>/dev/null"
	run cat "$T/log"
	assert_equal "${#lines[@]}" 2
	size=$(wc -c <"$S/msg.1")
	# <22>: facility mail (2) * 8 + severity info (6), RFC 5424 section 6.2.1
	assert_line --index 0 --regexp "^<22>.*mailsend\[[0-9]+\]: from=<alice@example.org> to=<bob@example.org> size=$size status=sent \(250 2.0.0 queued as FAULT1\)$"
	assert_line --index 1 --regexp "^<22>.*mailsend\[[0-9]+\]: from=<alice@example.org> to=<carol@example.org> size=[0-9]+ status=deferred \(cannot connect to 127.0.0.1 port 1: Connection refused\)$"
	refute_output --partial s3cret
}

@test "mailsend: memory does not grow with the message (60 MB body, peak RSS)" {
	start_fault "$S"
	{ msg big; head -c 60000000 /dev/zero | tr "\\0" x | fold -w 998; echo; } >"$T/big"
	peak_rss mailsend --server "127.0.0.1:$FPORT" --tls-trust-file "$PKI/ca.pem" --queue "$T/q" <"$T/big" 3>"$T/rss"
	[ "$(cat "$T/rss")" -lt 30000 ] || { echo "peak RSS $(cat "$T/rss") KiB"; return 1; }
	[ "$(tr -d '\r' <"$S/msg.1" | sed '1,/^$/d' | wc -c)" -eq "$(sed '1,/^$/d' "$T/big" | wc -c)" ]
}

@test "mailsend: -F names the sender in a From field added to a message without one" {
	start_fault "$S"
	printf 'To: bob@example.org\nSubject: s\n\nb\n' | send -f alice@example.org -F 'Alice Liddell'
	tr -d '\r' <"$S/msg.1" | grep -qx 'From: Alice Liddell <alice@example.org>'
}

# The attack of the adversarial review (issue 9, item 15): quotes and an address in the full
# name must not make a second mailbox. Python's email package reads the From field back.
@test "mailsend: -F with quotes, '<' and a comma stays one display name (no forged mailbox)" {
	start_fault "$S"
	printf 'To: bob@example.org\nSubject: s\n\nb\n' |
		send -f alice@example.org -F 'Alice" <ceo@bank.example>, "x'
	run python3 -c '
import sys, email, email.policy, email.utils
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
addrs = m["From"].addresses
print(len(addrs), addrs[0].addr_spec, addrs[0].display_name)' "$S/msg.1"
	assert_output '1 alice@example.org Alice" <ceo@bank.example>, "x'
}

@test "mailsend: a non-ASCII -F name is RFC 2047-encoded" {
	start_fault "$S"
	printf 'To: bob@example.org\nSubject: s\n\nb\n' | send -f alice@example.org -F 'Zoë Ærø'
	tr -d '\r' <"$S/msg.1" | grep -q '^From: =?utf-8?'
	run python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
a = m["From"].addresses
print(len(a), a[0].addr_spec, a[0].display_name)' "$S/msg.1"
	assert_output '1 alice@example.org Zoë Ærø'
}

@test "mailsend: every recipient refused names each of them" {
	start_fault "$S" --mode rcpt-bad
	run send bad1@example.org bad2@example.org < <(msg)
	assert_failure 67
	assert_output --partial "<bad1@example.org> (550 5.1.1 no such user)"
	assert_output --partial "<bad2@example.org> (550 5.1.1 no such user)"
}

@test "mailsend: an IPv6 literal server in brackets" {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null ||
		{ echo "no IPv6 loopback here"; return 1; }
	run mailsend --server '[::1]:1' --tls none --no-queue < <(msg)
	assert_failure 75
	assert_output --partial "cannot connect to ::1 port 1"
}

@test "mailsend: AUTH SCRAM-SHA-256 is preferred and agrees with a Python (hashlib) server" {
	start_fault "$S" --scram-pass 'pw,=x'
	printf 'pw,=x\n' >"$T/pw"
	msg | send --user 'al,ice=' --pass-file "$T/pw"
	grep -qx 'auth: scram ok' "$S/transcript"
	grep -q '^scram-client-first: n,,n=al=2Cice=3D,r=' "$S/transcript"
	[ -f "$S/msg.1" ]
}

@test "mailsend: SCRAM with the wrong password is EX_NOPERM" {
	start_fault "$S" --scram-pass right
	printf 'wrong\n' >"$T/pw"
	run send --user alice --pass-file "$T/pw" < <(msg)
	assert_failure 77
	assert_output --partial "535"
}

@test "mailsend: SCRAM: a server that cannot prove it knows the password is not believed" {
	start_fault "$S" --scram-pass pw --mode scram-bad-sig
	printf 'pw\n' >"$T/pw"
	run send --user alice --pass-file "$T/pw" < <(msg)
	deferred "signature is wrong"
}

@test "mailsend: a CR or LF in -f or --helo cannot inject SMTP commands" {
	start_fault "$S"
	run send -f "$(printf 'a@example.org>\r\nRCPT TO:<evil@example.org')" < <(msg)
	assert_failure 65
	run send --helo "$(printf 'x\r\nMAIL FROM:<evil@example.org>')" < <(msg)
	assert_failure 64
	run grep -c evil "$S/transcript"
	assert_output 0
}

@test "mailsend: a leading mbox From line is not transmitted" {
	start_fault "$S"
	{ echo 'From alice@example.org Sat Jan  3 01:05:34 1996'; msg; } | send
	run grep -c '^From alice' "$S/msg.1"
	assert_output 0
	tr -d '\r' <"$S/msg.1" | grep -qx 'From: Alice <alice@example.org>'
}

@test "mailsend: none accepted, one refused and one deferred: the deferred is queued, the refused named" {
	start_fault "$S" --mode rcpt-bad
	run send bad1@example.org later@example.org < <(msg)
	assert_failure 67
	assert_output --partial "<bad1@example.org> (550 5.1.1"
	assert_output --partial "queued as"
	run grep '^rcpt' "$T/q/new/"*
	assert_output "rcpt later@example.org"
}

@test "mailsend: DSN with a non-ASCII recipient uses ORCPT=utf-8 with utf-8-addr-xtext (RFC 6533)" {
	start_fault "$S"
	printf 'From: a@example.org\nTo: "q+r"@example.org, j\xc3\xb6rg@example.org\n\nx\n' | send --notify FAILURE
	grep -q "^RCPT TO:<j$(printf '\xc3\xb6')rg@example.org> NOTIFY=FAILURE ORCPT=utf-8;j$(printf '\xc3\xb6')rg@example.org\$" "$S/transcript"
	grep -qF 'RCPT TO:<q+r@example.org> NOTIFY=FAILURE ORCPT=utf-8;q\x{2B}r@example.org' "$S/transcript"
}

# Issue 9 item 14, the 2023 SMTP smuggling attacks: a body whose bare CR or bare LF around a
# dot would end the data early at a server that takes them for line ends must go out with
# every line ending in CRLF, so that the only end of data is the final one. The fault server
# keeps the raw DATA bytes.
@test "mailsend: bare CR and bare LF in the body go out as CRLF; no early end of data (smuggling)" {
	start_fault "$S"
	printf 'From: a@example.org\nTo: b@example.org\nSubject: s\n\nline1\r.\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nsmuggled\r\n.\r\nline2\n.\nline3\r\n.\rline4\rend' >"$T/in"
	send <"$T/in"
	python3 - "$S/raw.1" <<'PY'
import re, sys
raw = open(sys.argv[1], 'rb').read()
assert re.search(rb'\r(?!\n)', raw) is None, "bare CR on the wire"
assert re.search(rb'(?<!\r)\n', raw) is None, "bare LF on the wire"
assert raw.endswith(b'\r\n.\r\n') and raw.count(b'\r\n.\r\n') == 1, "data ended early"
assert b'line1\r\n..\r\nMAIL FROM:<evil@example.org>\r\n' in raw, raw
assert b'smuggled\r\n..\r\nline2\r\n..\r\nline3\r\n..\r\nline4\r\nend\r\n.\r\n' in raw, raw
PY
	[ ! -e "$S/msg.2" ]
	run grep -c '^MAIL FROM:<evil' "$S/transcript"
	assert_output 0
}

@test "mailsend: the SIZE announced counts the normalised line ends" {
	start_fault "$S"
	printf 'From: a@example.org\nTo: b@example.org\n\na\rb\nc\r\nd' | send
	size=$(sed -n 's/.*SIZE=\([0-9]*\).*/\1/p' "$S/env.1")
	[ "$size" -eq "$(wc -c <"$S/msg.1")" ]
}

@test "mailsend: a bare CR inside a header field is refused (EX_DATAERR), nothing sent" {
	start_fault "$S"
	run send < <(printf 'From: a@example.org\nTo: b@example.org\nSubject: hi\rBcc: victim@example.org\n\nx\n')
	assert_failure 65
	assert_output --partial "Subject: a CR that does not end a line"
	[ ! -e "$S/msg.1" ]
}

@test "mailsend: SCRAM: a 235 without the server's signature is refused (RFC 5802 section 5)" {
	start_fault "$S" --scram-pass pw --mode scram-no-final
	printf 'pw\n' >"$T/pw"
	run send --user alice --pass-file "$T/pw" < <(msg)
	deferred "without proving it knows the password"
}

# Issue 9 item 13: 150,000 To addresses in 30 fields (one in three a repeat, some with the domain in
# another case) must be de-duplicated in O(n log n); the result is asserted, not the time.
@test "mailsend: 150,000 recipients are de-duplicated (domain without case), first order kept" {
	start_fault "$S"
	python3 - "$T/in" "$T/want" <<'PY'
import sys
n, fields, want, seen = 150000, [], [], set()
addrs = []
for i in range(n):
    k = (i * 7919) % (i + 1) if i % 3 == 2 else i
    dom = "DOM.example" if i % 3 == 2 else "dom.example"
    addrs.append("u%d@%s" % (k, dom))
    if k not in seen:
        seen.add(k)
        want.append("u%d@%s" % (k, dom))
with open(sys.argv[1], "w") as f:
    f.write("From: a@example.org\n")
    for j in range(0, n, 5000):
        chunk = addrs[j:j + 5000]
        lines = [", ".join(chunk[m:m + 8]) for m in range(0, len(chunk), 8)]
        f.write("To: %s\n" % ",\n ".join(lines))
    f.write("Subject: many\n\nx\n")
with open(sys.argv[2], "w") as f:
    f.write("".join("rcpt <%s>\n" % a for a in want))
PY
	send --timeout 60 <"$T/in"
	grep '^rcpt' "$S/env.1" | cmp - "$T/want"
}

# Issue 11: OAuth 2.0 (the access token from a command, as msmtp's passwordeval), against a
# server that checks the token and the message format of each mechanism.
@test "mailsend: XOAUTH2 with the token from passwordeval in the configuration" {
	start_fault "$S" --oauth-token 'ya29.tok-en_1~+/='
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'account gmail\nuser alice@example.org\nauth xoauth2\npasswordeval printf %%s ya29.tok-en_1~+/=\n' \
		>"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	msg | send -a gmail
	grep -qxF 'auth-xoauth2: user=alice@example.org^Aauth=Bearer ya29.tok-en_1~+/=^A^A' "$S/transcript"
	grep -qx 'auth: oauth ok' "$S/transcript"
	[ -f "$S/msg.1" ]
}

@test "mailsend: OAUTHBEARER (RFC 7628) with --passwordeval: GS2 header, host and port" {
	start_fault "$S" --oauth-token tok123
	msg | send --user alice@example.org --auth oauthbearer --passwordeval 'echo tok123'
	grep -qxF "auth-oauthbearer: n,a=alice@example.org,^Ahost=127.0.0.1^Aport=$FPORT^Aauth=Bearer tok123^A^A" "$S/transcript"
	grep -qx 'auth: oauth ok' "$S/transcript"
	[ -f "$S/msg.1" ]
}

@test "mailsend: a refused OAuth token: the error challenge is answered, EX_NOPERM, not queued" {
	start_fault "$S" --oauth-token right
	run send --user alice --auth oauthbearer --passwordeval 'echo wrong' < <(msg)
	assert_failure 77
	assert_output --partial "AUTH OAUTHBEARER: token refused"
	grep -qx 'auth-oauth-answer: AQ==' "$S/transcript"	# RFC 7628 3.2.3: a lone ^A
	run send --user alice --auth xoauth2 --passwordeval 'echo wrong' < <(msg)
	assert_failure 77
	grep -qx 'auth-oauth-answer: ' "$S/transcript"
	[ "$(queued)" -eq 0 ]
	[ ! -f "$S/msg.1" ]
}

@test "mailsend: a failing token command names the account" {
	start_fault "$S" --oauth-token t
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'account work\nuser alice\nauth xoauth2\npasswordeval exit 3\n' >"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	run send -a work < <(msg)
	assert_failure 78
	assert_output "mailsend: account work: password command failed (status 3)"
}

@test "mailsend: a password file others can read is refused, naming the account and the file" {
	start_fault "$S"
	printf 'pw\n' >"$T/pw"
	chmod 644 "$T/pw"
	mkdir -p "$XDG_CONFIG_HOME/secmail"
	printf 'account home\nuser alice\npass_file %s\n' "$T/pw" >"$XDG_CONFIG_HOME/secmail/mailsend.conf"
	run send -a home < <(msg)
	assert_failure 78
	assert_output --partial "account home: $T/pw holds a secret and is readable by others"
	[ ! -f "$S/msg.1" ]
}

@test "mailsend: a TLS client certificate logs in with AUTH EXTERNAL (no user, no password)" {
	start_fault "$S" --client-ca "$PKI/ca.pem"
	msg | send --tls-cert-file "$PKI/client.pem" --tls-key-file "$PKI/client.key"
	grep -qx 'AUTH EXTERNAL =' "$S/transcript"
	grep -qx 'auth: external alice' "$S/transcript"
	[ -f "$S/msg.1" ]
	# without a certificate, EXTERNAL is refused before anything is sent
	run send --auth external < <(msg)
	assert_failure 78
	assert_output --partial "AUTH EXTERNAL needs TLS and a client certificate"
}

@test "mailsend: a client key that others can read is refused (EX_CONFIG), nothing sent" {
	start_fault "$S" --client-ca "$PKI/ca.pem"
	cp "$PKI/client.key" "$T/k"
	chmod 644 "$T/k"
	run send --tls-cert-file "$PKI/client.pem" --tls-key-file "$T/k" < <(msg)
	assert_failure 78
	assert_output --partial "$T/k holds a secret and is readable by others"
	[ ! -f "$S/msg.1" ]
}

# RFC 9266: the server computes the tls-exporter binding itself from the TLS 1.3 exporter
# secret in its key log (RFC 8446 section 7.5), independently of OpenSSL's
# SSL_export_keying_material on our side.
@test "mailsend: SCRAM-SHA-256-PLUS with tls-exporter is preferred and agrees with a Python server" {
	start_fault "$S" --scram-pass pw --scram-plus
	printf 'pw\n' >"$T/pw"
	msg | send --user alice --pass-file "$T/pw"
	grep -q '^AUTH SCRAM-SHA-256-PLUS$' "$S/transcript"
	grep -q '^scram-client-first: p=tls-exporter,,n=alice,r=' "$S/transcript"
	grep -qx 'auth: scram-plus ok' "$S/transcript"
	[ -f "$S/msg.1" ]
}

@test "mailsend: SCRAM-SHA-256-PLUS: a binding that differs (another TLS connection) fails" {
	start_fault "$S" --scram-pass pw --scram-plus --mode scram-bad-binding
	printf 'pw\n' >"$T/pw"
	run send --user alice --pass-file "$T/pw" < <(msg)
	assert_failure 77
	assert_output --partial "535"
	[ ! -f "$S/msg.1" ]
}

@test "mailsend: --auth names the mechanism; one the server does not offer is refused" {
	start_fault "$S" --scram-pass pw --scram-plus
	printf 'pw\n' >"$T/pw"
	msg | send --user alice --pass-file "$T/pw" --auth scram-sha-256
	grep -qx 'auth: scram ok' "$S/transcript"
	run send --user alice --pass-file "$T/pw" --auth xoauth2 < <(msg)
	assert_failure 69
	assert_output --partial "does not offer AUTH xoauth2"
	run send --user alice --pass-file "$T/pw" --auth cram-md5 < <(msg)
	assert_failure 78
	assert_output --partial "unknown AUTH mechanism cram-md5"
}

# RFC 5321 4.5.3.1.10: a server's limit on recipients per message (Postfix: 1000) answers the
# rest 452; they go in another transaction at once, not to the queue for 30 minutes.
@test "mailsend: recipients past the server's limit (452 4.5.3) go in further transactions at once" {
	start_fault "$S" --rcpt-limit 3
	msg | send r1@example.org r2@example.org r3@example.org r4@example.org r5@example.org \
		r6@example.org r7@example.org
	run cat "$S/env.1" "$S/env.2" "$S/env.3"
	assert_output --regexp 'rcpt <r1@example.org>.*rcpt <r3@example.org>'
	[ "$(grep -c rcpt "$S/env.1")" -eq 3 ]
	[ "$(grep -c rcpt "$S/env.2")" -eq 3 ]
	grep -qx 'rcpt <r7@example.org>' "$S/env.3"
	cmp "$S/msg.1" "$S/msg.3"
	[ "$(queued)" -eq 0 ]
}
