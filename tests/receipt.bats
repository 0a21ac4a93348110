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

@test "receipt: --check fails a good receipt from someone the message was not sent to" {
	# Review of issue 14: any holder of a trusted certificate who saw the signed message (a
	# list member, an interceptor) could answer it, and --check said "delivered".
	sign --receipt-request "$T/msg" >"$T/s"
	for who in carol mallory; do
		smime-receipt --cert "$PKI/$who-full.pem" --key "$PKI/$who.key" --ca-file "$PKI/ca.pem" "$T/s" >"$T/r-$who"
		# the control: a receipt sound as far as RFC 2634 §2.8 goes (openssl agrees) ...
		openssl cms -verify_receipt "$T/r-$who" -in "$T/s" -CAfile "$PKI/ca.pem" 2>&1 | grep -q 'Verification successful'
	done
	# ... yet not from a recipient: it proves nothing about delivery to Bob
	run --separate-stderr check "$T/r-carol"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"fail: the receipt is signed by carol@example.org, who was not asked for one: the message was addressed to bob@example.org"* ]]
	run --separate-stderr check "$T/r-mallory"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"signed by mallory@example.net, who was not asked for one"* ]]
	# the recipient's own receipt still passes
	answer "$T/s" >"$T/r-bob"
	run check "$T/r-bob"
	assert_success
	assert_output --partial 'receipt signed by bob@example.org'
}

@test "receipt: smime-sign keeps To, Cc and Bcc; a receipt from a Cc or Bcc recipient passes" {
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.org>\nCc: undisclosed:;\nBcc: Carol <carol@example.org>\nSubject: q\nMessage-ID: <rr-b@example.org>\n\nhi\n' >"$T/m"
	sign --receipt-request "$T/m" >"$T/s"
	d="$XDG_STATE_HOME/secmail/receipts"
	grep -qx 'To: Bob <bob@example.org>' "$d"/*.req
	grep -qx 'Bcc: Carol <carol@example.org>' "$d"/*.req
	smime-receipt --cert "$PKI/carol-full.pem" --key "$PKI/carol.key" --ca-file "$PKI/ca.pem" "$T/s" >"$T/r"
	run check "$T/r"
	assert_success
	assert_output --partial 'receipt signed by carol@example.org'
	smime-receipt --cert "$PKI/mallory-full.pem" --key "$PKI/mallory.key" --ca-file "$PKI/ca.pem" "$T/s" >"$T/rm"
	run --separate-stderr check "$T/rm"
	assert_failure 1
	[[ $stderr == *"signed by mallory@example.net, who was not asked for one: the message was addressed to bob@example.org, carol@example.org"* ]]
}

@test "receipt: --check with a receiptList request passes only a recipient on the list" {
	# openssl cms makes the request (receiptsFrom receiptList: Bob only) and answers it for
	# Carol too (-sign_receipt does not look at the list); the record is what smime-sign
	# would have kept for a message to Bob and Carol (tests/helpers/receipt-record.py).
	printf 'Content-Type: text/plain\n\nhello\n' >"$T/c"
	openssl cms -sign -in "$T/c" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" \
		-receipt_request_from bob@example.org -receipt_request_to alice@example.org >"$T/body"
	{ printf 'From: alice@example.org\nTo: bob@example.org, carol@example.org\nMessage-ID: <rl@example.org>\n'; cat "$T/body"; } >"$T/s"
	python3 "$TOP/tests/helpers/receipt-record.py" "$T/s" "$XDG_STATE_HOME/secmail/receipts" \
		'Message-ID: <rl@example.org>' 'To: bob@example.org, carol@example.org' >/dev/null
	for who in bob carol; do
		openssl cms -sign_receipt -in "$T/s" -signer "$PKI/$who.pem" -inkey "$PKI/$who.key" -certfile "$PKI/int.pem" -CAfile "$PKI/ca.pem" -out "$T/r-$who"
		openssl cms -verify_receipt "$T/r-$who" -in "$T/s" -CAfile "$PKI/ca.pem" 2>&1 | grep -q 'Verification successful'
	done
	run check "$T/r-bob"
	assert_success
	assert_output --partial 'delivered: <rl@example.org>'
	run --separate-stderr check "$T/r-carol"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"fail: the receipt is signed by carol@example.org, who was not asked for one: the request's receiptList names bob@example.org"* ]]
}

@test "receipt: a kept record without recipients (older or hand-made) passes no receipt" {
	sign --receipt-request "$T/msg" >"$T/s"
	answer "$T/s" >"$T/r"
	f=$(ls "$XDG_STATE_HOME"/secmail/receipts/*.req)
	grep -v '^To:' "$f" >"$T/x" && cat "$T/x" >"$f"
	run --separate-stderr check "$T/r"
	assert_failure 1
	[[ $stderr == *"fail: what was kept for this message names no recipient (To, Cc, Bcc): the receipt's signer bob@example.org cannot be checked"* ]]
}

@test "receipt: a request for receipts to a third party is not answered unless --any-receipts-to" {
	# Review of issue 14: a stranger's signed message could make the user sign and send
	# receipts (and the news that the mail was read) to addresses the stranger picks.
	printf 'From: mallory@example.net\nTo: Bob <bob@example.org>\nSubject: hi\nMessage-ID: <m1@example.net>\n\nhi\n' >"$T/m"
	msign() { smime-sign --cert "$PKI/mallory.pem" --key "$PKI/mallory.key" --chain "$PKI/int.pem" "$@" "$T/m"; }
	msign --receipt-request=victim@example.com >"$T/s1"
	run --separate-stderr answer "$T/s1"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"warning: not sending the receipt to victim@example.com: the sender's certificate does not name it"* ]]
	[[ $stderr == *"no receipt: the request names no address of the sender (mallory@example.net) to send it to (--any-receipts-to sends it anyway)"* ]]
	# one of the sender's own addresses and a third party: only the sender's is kept
	msign --receipt-request=victim@example.com,mallory@example.net >"$T/s2"
	run --separate-stderr answer "$T/s2"
	assert_success
	[[ $stderr == *"warning: not sending the receipt to victim@example.com: the sender's certificate does not name it"* ]]
	printf '%s' "$output" >"$T/r2"
	python3 - "$T/r2" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert m['To'] == 'mallory@example.net', m['To']
assert m.get_param('smime-type') == 'signed-receipt'
PY
	openssl cms -verify_receipt "$T/r2" -in "$T/s2" -CAfile "$PKI/ca.pem" 2>&1 | grep -q 'Verification successful'
	# the explicit choice restores every receiptsTo address
	run --separate-stderr answer --any-receipts-to "$T/s2"
	assert_success
	[[ $stderr != *warning* ]]
	printf '%s' "$output" >"$T/r3"
	python3 - "$T/r3" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert m['To'] == 'victim@example.com, mallory@example.net', m['To']
PY
	# a request by openssl cms to a third party is held back the same way
	printf 'Content-Type: text/plain\n\nhello\n' >"$T/c"
	openssl cms -sign -in "$T/c" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" \
		-receipt_request_to carol@example.org -receipt_request_all >"$T/body"
	{ printf 'From: alice@example.org\nTo: bob@example.org\n'; cat "$T/body"; } >"$T/s4"
	run --separate-stderr answer "$T/s4"
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"not sending the receipt to carol@example.org"* ]]
}

@test "receipt: --help, unknown options, empty input, the man page and completions" {
	run smime-receipt --help
	assert_success
	assert_output --partial "--check"
	assert_output --partial "--any-receipts-to"
	grep -q 'any-receipts-to' "$TOP/man/smime-receipt.1"
	run smime-receipt --bogus
	assert_failure 64
	run smime-receipt --check </dev/null
	assert_failure 66
	run mandoc -Tlint -W warning "$TOP/man/smime-receipt.1"
	assert_success
	[ -z "$output" ]
	run bash -c "source '$TOP/completions/bash/smime-receipt' && COMP_WORDS=(smime-receipt --ch) COMP_CWORD=1 && _smime_receipt && echo \"\${COMPREPLY[@]}\""
	assert_output --partial -- "--check"
	run bash -c "source '$TOP/completions/bash/smime-receipt' && COMP_WORDS=(smime-receipt --any) COMP_CWORD=1 && _smime_receipt && echo \"\${COMPREPLY[@]}\""
	assert_output "--any-receipts-to"
	run zsh -n "$TOP/completions/zsh/_smime-receipt"
	assert_success
	grep -q -- "'--any-receipts-to\[" "$TOP/completions/zsh/_smime-receipt"
	run fish -c "source '$TOP/completions/fish/smime-receipt.fish'; complete -C'smime-receipt --receipt-d'"
	assert_output --partial -- "--receipt-dir"
	run fish -c "source '$TOP/completions/fish/smime-receipt.fish'; complete -C'smime-receipt --any'"
	assert_output --partial -- "--any-receipts-to"
}
