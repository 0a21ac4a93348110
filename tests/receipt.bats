#!/usr/bin/env bats
# Signed receipts (RFC 2634, issue 14): smime-sign --receipt-request, smime-receipt both ways,
# and interop with openssl cms (-receipt_request_to, -sign_receipt, -verify_receipt).

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() {
	common_setup
	export SECMAIL_AUTHSERV_ID=mx.test
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.org>\nSubject: contract\nDate: Sun, 29 Nov 2026 04:00:00 +0000\nMessage-ID: <rr-1@example.org>\n\nPlease sign.\n' >"$T/msg"
}
teardown() { common_teardown; }

sign() { smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$PKI/chain.pem" "$@"; }
answer() { smime-receipt --cert "$PKI/bob-full.pem" --key "$PKI/bob.key" --ca-file "$PKI/ca.pem" "$@"; }
check() { smime-receipt --check --ca-file "$PKI/ca.pem" "$@"; }

@test "receipt: secmail asks, secmail answers, the sender's check names the message delivered" {
	sign --receipt-request "$T/msg" >"$T/s"
	d="$XDG_STATE_HOME/secmail/receipts"
	[ "$(stat -c %a "$d")" = 700 ]
	[ "$(ls "$d" | wc -l)" -eq 1 ]
	[ "$(stat -c %a "$d"/*.req)" = 600 ]
	smime-verify --ca-file "$PKI/ca.pem" "$T/s" | sed -n '1{p;:a;n;/^[ \t]/{p;ba};q}' | tr -d '\n' | tr -s ' ' >"$T/ar"
	grep -q 'smime=pass reason="good signature by alice@example.org; the header is protected (hp=clear); a signed receipt is requested to alice@example.org"' "$T/ar"
	answer "$T/s" >"$T/r"
	python3 - "$T/r" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert m.get_content_type() == 'application/pkcs7-mime' and m.get_param('smime-type') == 'signed-receipt'
assert m['To'] == 'alice@example.org' and m['From'] == 'bob@example.org', (m['To'], m['From'])
assert m['In-Reply-To'] == '<rr-1@example.org>' and 'contract' not in m['Subject']
PY
	run check "$T/r"
	assert_success
	assert_output --regexp '^delivered: <rr-1@example.org> "contract" sent Sun, 29 Nov 2026 04:00:00 \+0000 to Bob <bob@example.org>; receipt signed by bob@example.org at [0-9-]+ [0-9:]+ UTC$'
	# openssl cms -verify_receipt agrees
	openssl cms -verify_receipt "$T/r" -in "$T/s" -CAfile "$PKI/ca.pem" 2>&1 | grep -q 'Verification successful'
}

@test "receipt: a receipt made by openssl cms -sign_receipt for secmail's request verifies" {
	sign --receipt-request=alice@example.org "$T/msg" >"$T/s"
	openssl cms -sign_receipt -in "$T/s" -signer "$PKI/bob.pem" -inkey "$PKI/bob.key" -certfile "$PKI/int.pem" -CAfile "$PKI/ca.pem" -out "$T/r"
	run check "$T/r"
	assert_success
	assert_output --partial 'delivered: <rr-1@example.org> "contract"'
}

@test "receipt: a request made by openssl cms -receipt_request_to is answered; openssl verifies the receipt" {
	printf 'Content-Type: text/plain\n\nhello\n' >"$T/c"
	openssl cms -sign -in "$T/c" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" \
		-receipt_request_to alice@example.org -receipt_request_all >"$T/body"
	{ printf 'From: alice@example.org\nTo: bob@example.org\nSubject: q\nMessage-ID: <o1@example.org>\n'; cat "$T/body"; } >"$T/s"
	answer "$T/s" >"$T/r"
	openssl cms -verify_receipt "$T/r" -in "$T/body" -CAfile "$PKI/ca.pem" 2>&1 | grep -q 'Verification successful'
}

@test "receipt: never for a receipt, never unasked, never for a signature that does not pass, never to one not named" {
	sign --receipt-request "$T/msg" >"$T/s"
	answer "$T/s" >"$T/r"
	run --separate-stderr smime-receipt --cert "$PKI/alice-full.pem" --key "$PKI/alice.key" --ca-file "$PKI/ca.pem" "$T/r"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"is itself a signed receipt"* ]]
	sign "$T/msg" >"$T/plain"
	run --separate-stderr answer "$T/plain"
	assert_failure 1
	[[ $stderr == *"the sender asked for no receipt"* ]]
	sed 's/^Please sign\./Please pay./' "$T/s" >"$T/bad"
	run --separate-stderr answer "$T/bad"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"only for a validly signed message (smime=fail"* ]]
	printf 'Content-Type: text/plain\n\nhello\n' >"$T/c"
	openssl cms -sign -in "$T/c" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" \
		-receipt_request_to alice@example.org -receipt_request_from carol@example.org >"$T/body"
	{ printf 'From: alice@example.org\nTo: bob@example.org\n'; cat "$T/body"; } >"$T/s2"
	run --separate-stderr answer "$T/s2"
	assert_failure 1
	[[ $stderr == *"receipts from named recipients only, and bob@example.org is not one of them"* ]]
}

@test "receipt: a receipt whose msgSigDigest does not match what was sent fails" {
	sign --receipt-request "$T/msg" >"$T/s1"
	sed 's/contract/contract 2/' "$T/msg" | sign --receipt-request >"$T/s2"
	answer "$T/s1" >"$T/r1"
	d="$XDG_STATE_HOME/secmail/receipts"
	# the receipt for message 1 names message 1's identifier; what was kept under it now
	# holds message 2's signature: the msgSigDigest does not match it
	f1=$(grep -l 'Subject: contract$' "$d"/*.req)
	f2=$(grep -l 'Subject: contract 2$' "$d"/*.req)
	{ sed '/^$/q' "$f1"; sed '1,/^$/d' "$f2"; } >"$T/x" && cat "$T/x" >"$f1"
	run --separate-stderr check "$T/r1"
	assert_failure 1
	[[ $stderr == *"fail: the receipt's msgSigDigest does not match the signature of the message it names"* ]]
	# a receipt for a message not sent from here
	rm "$d"/*.req
	run --separate-stderr check "$T/r1"
	assert_failure 1
	[[ $stderr == *"no message with this receipt identifier was sent from here"* ]]
}

@test "receipt: a receipt signed by the recipient over another msgSigDigest or another identifier does not pass" {
	# Bob's own key signs each forgery (tests/helpers/receipt-forge.py): only the binding to
	# what was sent can catch them. Message 2 gives the other digest and identifier.
	sign --receipt-request "$T/msg" >"$T/s1"
	sed 's/contract/contract 2/' "$T/msg" | sign --receipt-request >"$T/s2"
	answer "$T/s1" >"$T/r1"
	answer "$T/s2" >"$T/r2"
	forge() { python3 "$TOP/tests/helpers/receipt-forge.py" "$T/r1" "$T/$1" "$PKI/bob.key" "${@:2}"; }
	# the control: signed again unchanged, the receipt still proves message 1
	forge same
	run --separate-stderr check "$T/same"
	assert_success
	assert_output --partial 'delivered: <rr-1@example.org> "contract" sent'
	openssl cms -verify_receipt "$T/same" -in "$T/s1" -CAfile "$PKI/ca.pem" 2>&1 | grep -q 'Verification successful'
	# message 1's identifier with message 2's msgSigDigest
	forge digest --digest-from "$T/r2"
	run --separate-stderr check "$T/digest"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"fail: the receipt's msgSigDigest does not match the signature of the message it names"* ]]
	run ! openssl cms -verify_receipt "$T/digest" -in "$T/s1" -CAfile "$PKI/ca.pem"
	# message 2's identifier over message 1's msgSigDigest and originator signature
	forge id --id-from "$T/r2"
	run --separate-stderr check "$T/id"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"fail: "* ]]
	[[ $stderr != *"delivered"* ]]
	run ! openssl cms -verify_receipt "$T/id" -in "$T/s2" -CAfile "$PKI/ca.pem"
	# both swapped and the originator signature left: still message 1's signature inside
	forge both --id-from "$T/r2" --digest-from "$T/r2"
	run --separate-stderr check "$T/both"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"fail: "* ]]
}

@test "receipt: --help, unknown options, empty input, the man page and completions" {
	run smime-receipt --help
	assert_success
	assert_output --partial "--check"
	run smime-receipt --bogus
	assert_failure 64
	run smime-receipt --check </dev/null
	assert_failure 66
	run mandoc -Tlint -W warning "$TOP/man/smime-receipt.1"
	assert_success
	[ -z "$output" ]
	run bash -c "source '$TOP/completions/bash/smime-receipt' && COMP_WORDS=(smime-receipt --ch) COMP_CWORD=1 && _smime_receipt && echo \"\${COMPREPLY[@]}\""
	assert_output --partial -- "--check"
	run zsh -n "$TOP/completions/zsh/_smime-receipt"
	assert_success
	run fish -c "source '$TOP/completions/fish/smime-receipt.fish'; complete -C'smime-receipt --receipt-d'"
	assert_output --partial -- "--receipt-dir"
}
