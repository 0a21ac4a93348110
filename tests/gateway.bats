#!/usr/bin/env bats
# secmail-gateway without Postfix: what it does with a message for one recipient (written
# with --stdout, or handed to a stand-in sendmail that records its arguments), its policy
# and its exit statuses. The results are checked with openssl cms, independently of lib/.
# The end-to-end run under Postfix is tests/gateway-mta.bats.

load helpers/common
load helpers/delivery

setup_file() {
	corpus_setup
	# bob's certificate, learnt the way the gateway learns certificates: from his signature
	export BOBSIGNED="$BATS_FILE_TMPDIR/bob-signed.eml"
	printf 'From: Bob <bob@example.org>\nTo: alice@example.org\nSubject: hi\n\nhello\n' |
		smime-sign --cert "$PKI/bob.pem" --key "$PKI/bob.key" --chain "$PKI/chain.pem" >"$BOBSIGNED"
}

setup() {
	common_setup
	mkdir -m 700 "$T/keys"
	cat "$PKI/alice.pem" "$PKI/int.pem" >"$T/keys/alice@example.org.pem"
	cp "$PKI/alice.key" "$T/keys/alice@example.org.key"
	smime-verify --ca-file "$PKI/ca.pem" --save-certs "$T/certs" <"$BOBSIGNED" >/dev/null
	[ -f "$T/certs/bob@example.org" ]
	cat >"$T/sendmail" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$@" >"$T/sendmail.args"
	cat >"$T/sendmail.in"
	[ -f "$T/sendmail.fail" ] && { echo "postdrop: No space left on device" >&2; exit 75; }
	exit 0
	EOF
	chmod 700 "$T/sendmail"
	policy
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.org>, dave@nowhere.example\nCc: carol@example.org\nSubject: gateway test\nDate: Sun, 29 Nov 2026 04:00:00 +0000\nMessage-ID: <gw@example.org>\n\nPay 100 EUR to account 12345.\n' >"$T/draft"
}

teardown() { common_teardown; }

# policy [LINES...]: the policy file, with extra lines.
policy() {
	{
		printf 'keys %s/keys\ncert_dir %s/certs\nca_file %s/ca.pem\n' "$T" "$T" "$PKI"
		printf 'authserv_id %s\nrequire_encryption partner.example\nsendmail %s/sendmail\n' "$AUTHSERV" "$T"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$T/gateway.conf"
}

gw() { secmail-gateway -c "$T/gateway.conf" "$@"; }

# bob_local: the gateway holds bob's key (bob is a local user: inbound mail for him is
# decrypted, outbound mail to him is not encrypted)
bob_local() {
	cp "$PKI/bob.pem" "$T/keys/bob@example.org.pem"
	cp "$PKI/bob.key" "$T/keys/bob@example.org.key"
}

# der_of MSG DER: the base64 body of an S/MIME message, decoded
der_of() { body_of "$1" | base64 -d >"$2"; }

# unwrap MSG KEYNAME OUT: decrypt with openssl cms (KEYNAME's key); fails if it cannot
unwrap() {
	der_of "$1" "$T/env.der"
	openssl cms -decrypt -binary -inform DER -in "$T/env.der" -recip "$PKI/$2.pem" -inkey "$PKI/$2.key" -out "$3"
}

nrecips() {
	openssl cms -cmsout -print -inform DER -in "$1" | grep -c 'd\.ktri\|d\.kari'
}

# openssl_verify ENTITY: an S/MIME signed entity (multipart/signed) verified by openssl
openssl_verify() {
	openssl smime -verify -CAfile "$PKI/ca.pem" -in "$1" -out "$T/verified" 2>"$T/verify.err"
}

@test "gateway: --help, --version, and the man pages are mandoc -Tlint clean" {
	run secmail-gateway --help
	[ "$status" -eq 0 ]
	[[ $output == *"--outbound"* && $output == *"--inbound"* && $output == *"--stdout"* ]]
	run secmail-gateway --version
	[ "$status" -eq 0 ]
	run mandoc -Tlint -W warning "$TOP/man/secmail-gateway.8" "$TOP/man/secmail-gateway.conf.5"
	[ "$status" -eq 0 ]
}

@test "gateway: bash, zsh and fish completions load and offer the long options" {
	run bash -c "source '$TOP/completions/bash/secmail-gateway' && COMP_WORDS=(secmail-gateway --out) COMP_CWORD=1 && _secmail_gateway && echo \"\${COMPREPLY[@]}\""
	[ "$output" = "--outbound" ]
	run zsh -n "$TOP/completions/zsh/_secmail-gateway"
	[ "$status" -eq 0 ]
	run fish -c "source '$TOP/completions/fish/secmail-gateway.fish'; complete -C'secmail-gateway --inb'"
	[[ $output == *"--inbound"* ]]
}

@test "gateway outbound: signed by the sender, encrypted for the envelope recipient alone (openssl checks both)" {
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft"
	[ "$status" -eq 0 ]
	[[ $output == *"secmail-gateway: outbound: signed by alice@example.org, encrypted for bob@example.org"* ]]
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft" >"$T/out" 2>/dev/null
	grep -qi '^Content-Type: application/pkcs7-mime; smime-type=\(authEnveloped\|enveloped\)-data' "$T/out"
	# the outer fields stay as they were (header protection without confidentiality unless
	# the policy names the domain: obscure_subject), the text is gone from the wire
	cmp <(grep -v -i '^content-\|^ name=\|^MIME-Version' "$T/out" | sed '/^$/,$d') <(sed '/^$/,$d' "$T/draft")
	refute grep -q 'Pay 100 EUR' "$T/out"
	# one RecipientInfo: bob's (To and Cc name others, without certificates: no matter)
	der_of "$T/out" "$T/env.der"
	[ "$(nrecips "$T/env.der")" -eq 1 ]
	unwrap "$T/out" bob "$T/plain"
	refute unwrap "$T/out" alice "$T/x" 2>/dev/null
	grep -qi '^Content-Type: multipart/signed' "$T/plain"
	openssl_verify "$T/plain"
	grep -q 'Pay 100 EUR' "$T/verified"
}

@test "gateway outbound: the header is protected inside; only obscure_subject domains get Subject [...] outside" {
	# default: signed with hp=clear, the outer Subject as it was (hcp_no_confidentiality)
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft" >"$T/out" 2>/dev/null
	grep -q '^Subject: gateway test$' "$T/out"
	unwrap "$T/out" bob "$T/plain"
	openssl_verify "$T/plain"
	python3 - "$T/plain" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
inner = m.get_payload()[0]
assert inner.get_param('hp') == 'clear', inner['Content-Type']
assert inner['Subject'] == 'gateway test' and inner['From'] == 'Alice <alice@example.org>'
assert inner['HP-Outer'] is None
PY
	# a sender without a key: the unsigned payload has hp=cipher and HP-Outer with the real Subject
	gw --outbound -f erin@example.org --stdout -- bob@example.org <"$T/draft" >"$T/out" 2>/dev/null
	grep -q '^Subject: gateway test$' "$T/out"
	unwrap "$T/out" bob "$T/plain"
	grep -q '^Content-Type: text/plain; .*hp=.\?cipher' "$T/plain"
	grep -q '^HP-Outer: Subject: gateway test' "$T/plain"
	# a domain the policy names: Subject [...] on the wire, back at the end
	policy "obscure_subject partner.example, example.org"
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft"
	[[ $output == *"signed by alice@example.org, encrypted for bob@example.org (Subject obscured)"* ]]
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft" >"$T/out" 2>/dev/null
	grep -q '^Subject: \[\.\.\.\]$' "$T/out"
	refute grep -q 'gateway test' "$T/out"
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" --authserv-id "$AUTHSERV" <"$T/out" |
		smime-verify --after-decrypt --ca-file "$PKI/ca.pem" --authserv-id "$AUTHSERV" >"$T/v"
	grep -q '^Subject: gateway test$' "$T/v"
	grep -q 'smime=pass.*the header is protected (hp=clear); confidential: Subject' <(tr -d '\n' <"$T/v" | tr -s ' \t' ' ') || { cat "$T/v"; false; }
	# header_protection off: the content alone is signed and encrypted, as before RFC 9788
	policy "header_protection off" "obscure_subject *"
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft" >"$T/out" 2>/dev/null
	grep -q '^Subject: gateway test$' "$T/out"
	unwrap "$T/out" bob "$T/plain"
	refute grep -q '^Subject:\|hp=' "$T/plain"
	policy "header_protection maybe"
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == *"header_protection: expected on or off"* ]]
}

@test "gateway outbound: no certificate for the recipient: signed only, and says why" {
	run gw --outbound -f alice@example.org --stdout -- dave@nowhere.example <"$T/draft"
	[ "$status" -eq 0 ]
	[[ $output == *"signed by alice@example.org, not encrypted"*"dave@nowhere.example: no certificate"* ]]
	gw --outbound -f alice@example.org --stdout -- dave@nowhere.example <"$T/draft" >"$T/out" 2>/dev/null
	grep -qi '^Content-Type: multipart/signed' "$T/out"
	openssl_verify "$T/out"
}

@test "gateway outbound: a local recipient (the gateway holds their key) gets the message signed, not encrypted" {
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft"
	[[ $output == *"encrypted for bob@example.org"* ]]
	bob_local
	run gw --outbound -f alice@example.org --stdout -- Bob@Example.org <"$T/draft"
	[ "$status" -eq 0 ]
	[[ $output == *"signed by alice@example.org, not encrypted (Bob@Example.org is a local recipient)"* ]]
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft" >"$T/out" 2>/dev/null
	grep -qi '^Content-Type: multipart/signed' "$T/out"
	openssl_verify "$T/out"
}

@test "gateway outbound: a domain that requires encryption, no certificate: 69, the reason, nothing sent" {
	run gw --outbound -f alice@example.org -- carol@partner.example <"$T/draft"
	[ "$status" -eq 69 ]
	[[ $output == "secmail-gateway: carol@partner.example: the policy requires encryption for this domain, and the message cannot be encrypted for it: "*"no certificate"* ]]
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	[ ! -e "$T/sendmail.args" ]
}

@test "gateway outbound: a From that is not the envelope sender is not signed with the sender's key" {
	sed -i 's/^From: .*/From: Boss <boss@example.org>/' "$T/draft"
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft"
	[ "$status" -eq 0 ]
	[[ $output == *"not signed (From is not the sender), encrypted for bob@example.org"* ]]
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft" >"$T/out" 2>/dev/null
	unwrap "$T/out" bob "$T/plain"
	refute grep -qi 'multipart/signed' "$T/plain"
	grep -q 'Pay 100 EUR' "$T/plain"
}

@test "gateway outbound: a sender without a key, or sign off: encrypted, not signed" {
	run gw --outbound -f erin@example.org --stdout -- bob@example.org <"$T/draft"
	[ "$status" -eq 0 ]
	[[ $output == *"not signed (no key for the sender), encrypted for bob@example.org"* ]]
	policy "sign off"
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft"
	[ "$status" -eq 0 ]
	[[ $output == *"not signed (sign off), encrypted"* ]]
}

@test "gateway outbound: an encrypted message passes unchanged; a signed one is encrypted, not signed again" {
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$CORPUS/signenc-gcm.eml" >"$T/out" 2>"$T/err"
	cmp "$T/out" "$CORPUS/signenc-gcm.eml"
	grep -q 'already encrypted' "$T/err"
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$CORPUS/signed-good.eml" >"$T/out" 2>"$T/err"
	grep -q 'already signed, encrypted for bob@example.org' "$T/err"
	unwrap "$T/out" bob "$T/plain"
	[ "$(grep -ci 'application/pkcs7-signature' "$T/plain")" -eq 2 ]	# one part: type and its name
	openssl_verify "$T/plain"
}

@test "gateway: the result is handed to sendmail -G -i -f SENDER -- RECIPIENT; the null sender as <>" {
	run gw --outbound -f alice@example.org -- bob@example.org <"$T/draft"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/sendmail.args")" = "$(printf '%s\n' -G -i -f alice@example.org -- bob@example.org)" ]
	grep -qi '^Content-Type: application/pkcs7-mime' "$T/sendmail.in"
	run gw --inbound -f '' -- carol@example.org <"$CORPUS/plain.eml"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/sendmail.args")" = "$(printf '%s\n' -G -i -f '<>' -- carol@example.org)" ]
}

@test "gateway: a reinjection that fails exits 75 (Postfix keeps the message), saying why" {
	touch "$T/sendmail.fail"
	run gw --outbound -f alice@example.org -- bob@example.org <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == "secmail-gateway: cannot hand the message back to Postfix: $T/sendmail exited with status 75: postdrop: No space left on device" ]]
	rm "$T/sendmail.fail"
	policy "sendmail $T/no-such-sendmail"
	run gw --outbound -f alice@example.org -- bob@example.org <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == *"exited with status 127: cannot run $T/no-such-sendmail"* ]]
}

@test "gateway: transient faults exit 75: a key that cannot be loaded, a key others can read, no TMPDIR" {
	echo garbage >"$T/keys/alice@example.org.key"
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == "secmail-gateway: cannot sign: smime-sign exited with status "* ]]
	cp "$PKI/alice.key" "$T/keys/alice@example.org.key"
	chmod 644 "$T/keys/alice@example.org.key"
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == *"readable by others"* ]]
	chmod 600 "$T/keys/alice@example.org.key"
	run env TMPDIR="$T/no-such-dir" secmail-gateway -c "$T/gateway.conf" --outbound -f alice@example.org --stdout -- bob@example.org <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == *"no-such-dir"* ]]
}

@test "gateway: configuration errors exit 75, never a status pipe(8) would bounce" {
	for c in "--outbound -f a@x" "--outbound -- b@y" "-f a@x -- b@y" "--outbound -f a@x -- b@y c@z" \
	    "--inbound --outbound -f a@x -- b@y" "--no-such-option -f a@x -- b@y"; do
		run gw $c <"$T/draft"
		[ "$status" -eq 75 ] || { echo "$c: $status $output"; return 1; }
		[[ $output == "secmail-gateway: configuration error: "* ]]
	done
	policy "ciper aes-128-gcm"
	run gw --outbound -f alice@example.org -- bob@example.org <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == *"gateway.conf:7: unknown setting 'ciper'"* ]]
	policy
	chmod 777 "$T/keys"
	run gw --outbound -f alice@example.org -- bob@example.org <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == "secmail-gateway: configuration error: "*"keys"* ]]
	chmod 700 "$T/keys"
	run secmail-gateway -c "$T/no-such.conf" --outbound -f a@x -- b@y <"$T/draft"
	[ "$status" -eq 75 ]
	[ ! -e "$T/sendmail.args" ]
}

@test "gateway: empty input is not a message (66), nothing sent" {
	run gw --inbound -f alice@example.org -- bob@example.org </dev/null
	[ "$status" -eq 66 ]
	[ ! -e "$T/sendmail.args" ]
}

@test "gateway inbound: decrypted with the recipient's key, verified, the signer's certificate harvested" {
	bob_local
	[ ! -e "$T/certs/alice@example.org" ]
	run gw --inbound -f alice@example.org --stdout -- bob@example.org <"$CORPUS/signenc-gcm.eml"
	[ "$status" -eq 0 ]
	[[ $output == *"secmail-gateway: inbound: for bob@example.org (key held), smime=pass" ]]
	gw --inbound -f alice@example.org --stdout -- bob@example.org <"$CORPUS/signenc-gcm.eml" >"$T/out" 2>/dev/null
	check_verdict "$T/out" "$CORPUS/signenc-gcm.eml" pass 'decrypted cipher=aes-256-gcm integrity=aead' decrypted
	grep -q 'Pay 100 EUR' "$T/out"
	[ -f "$T/certs/alice@example.org" ]
}

@test "gateway inbound: forged verdicts are removed; a recipient without a key gets the message verified, not decrypted" {
	bob_local
	gw --inbound -f mallory@example.net --stdout -- bob@example.org <"$CORPUS/forged-ar.eml" >"$T/out" 2>/dev/null
	check_verdict "$T/out" "$CORPUS/forged-ar.eml" fail - 'digest|altered'
	gw --inbound -f mallory@example.net --stdout -- carol@example.org <"$CORPUS/forged-enc.eml" >"$T/out" 2>"$T/err"
	grep -q 'for carol@example.org (no key: not decrypted), smime=none' "$T/err"
	check_verdict "$T/out" "$CORPUS/forged-enc.eml" none - 'not decrypted'
}

@test "gateway inbound: harvest off stores nothing" {
	policy "harvest off"
	gw --inbound -f alice@example.org --stdout -- bob@example.org <"$CORPUS/signed-good.eml" >/dev/null 2>&1
	[ ! -e "$T/certs/alice@example.org" ]
}

@test "smime-encrypt --recipients-only: only -r/-R recipients in the envelope; To, Cc, Bcc ignored" {
	printf 'From: alice@example.org\nTo: dave@nowhere.example\nCc: carol@example.org\nBcc: x@y.example\nSubject: t\n\nhi\n' >"$T/m"
	run smime-encrypt --no-self -r "$PKI/bob.pem" <"$T/m"
	[ "$status" -eq 65 ]
	smime-encrypt --recipients-only --no-self -r "$PKI/bob.pem" <"$T/m" >"$T/out"
	der_of "$T/out" "$T/env.der"
	[ "$(nrecips "$T/env.der")" -eq 1 ]
	unwrap "$T/out" bob "$T/plain"
	grep -q '^hi' "$T/plain"
	refute grep -qi '^Bcc:' "$T/out"	# as smime-encrypt always does: never in the encrypted message
	run smime-encrypt --recipients-only <"$T/m"
	[ "$status" -eq 64 ]
	[[ $output == *"--recipients-only needs recipients"* ]]
	run smime-encrypt --recipients-only -R bob@example.org --bcc-dir "$T" <"$T/m"
	[ "$status" -eq 64 ]
}

# ours_in FILE: the header fields of FILE that claim our authserv-id, as Python's email
# package reads the header (an independent parser), one per line.
ours_in() {
	python3 - "$1" "$AUTHSERV" <<'PY'
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.compat32)
for k, v in m.items():
    if k.lower() in ('authentication-results', 'secmail-decryption') \
            and sys.argv[2] in str(email.header.make_header(email.header.decode_header(v))).lower():
        print(k, v)
PY
}

# forge OUT: alice's draft with verdicts claiming our authserv-id, the ways a sender can
# write them, and one from another service (kept)
forge() {
	{
		printf 'Authentication-Results: %s; smime=pass\n' "$AUTHSERV"
		printf 'authentication-results: (ours) "%s"; smime=pass\n' "${AUTHSERV^^}"
		printf 'Authentication-Results: =?us-ascii?q?%s?=; smime=pass\n' "$AUTHSERV"
		printf 'Secmail-Decryption: %s; decrypted cipher=aes-256-gcm integrity=aead\n' "$AUTHSERV"
		printf 'Authentication-Results: mx.elsewhere.example; spf=pass\n'
		cat "$T/draft"
	} >"$1"
}

@test "gateway outbound attack: a local user's forged verdicts never reach a local recipient as ours" {
	bob_local
	# From names the boss: not signed, not encrypted (bob is local), and no inbound filter
	# runs for bob afterwards: whatever verdict the header carries, bob's reader shows
	forge "$T/forged"
	sed -i 's/^From: .*/From: Boss <boss@example.org>/' "$T/forged"
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/forged" >"$T/out" 2>/dev/null
	[ -z "$(ours_in "$T/out")" ]
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/forged"
	[ "$status" -eq 0 ]
	[[ $output == *"4 forged verdict fields removed, not signed (From is not the sender), not encrypted (bob@example.org is a local recipient)"* ]]
	grep -q '^Authentication-Results: mx.elsewhere.example; spf=pass$' "$T/out"
	grep -q '^From: Boss <boss@example.org>$' "$T/out"
	grep -q 'Pay 100 EUR' "$T/out"
	# signed by alice: her signature does not cover a verdict in our name either
	forge "$T/forged"
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/forged" >"$T/out" 2>/dev/null
	[ -z "$(ours_in "$T/out")" ]
	openssl_verify "$T/out"
	refute grep -qi "$AUTHSERV" "$T/verified"
}

@test "gateway outbound attack: forged verdicts do not leave in our name, outside or inside the encryption" {
	forge "$T/forged"
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/forged" >"$T/out" 2>/dev/null
	[ -z "$(ours_in "$T/out")" ]
	unwrap "$T/out" bob "$T/plain"
	refute grep -qi "$AUTHSERV" "$T/plain"
	# an encrypted message passes unchanged but for the outer forged fields
	{ head -4 "$T/forged"; cat "$CORPUS/signenc-gcm.eml"; } >"$T/forged-enc"
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/forged-enc" >"$T/out" 2>/dev/null
	cmp "$T/out" "$CORPUS/signenc-gcm.eml"
}

@test "gateway outbound attack: a verdict hidden behind a bare CR or after a broken header line is not delivered" {
	bob_local
	# our header parser reads one field where a reader that ends lines at CR sees two; a
	# line without a colon ends our header, a lax reader reads on
	printf 'X-Note: hi\rAuthentication-Results: %s; smime=pass\nFrom: Boss <boss@example.org>\nnot a field\nAuthentication-Results: %s; smime=pass\nSubject: pay\n\nPay 900 EUR\n' \
		"$AUTHSERV" "$AUTHSERV" >"$T/m"
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/m" >"$T/out" 2>/dev/null
	refute grep -q $'\r' "$T/out"
	[ -z "$(ours_in "$T/out")" ]
	[ -z "$(tr '\r' '\n' <"$T/out" | sed '/^$/,$d' | grep -i "^Authentication-Results: $AUTHSERV")" ]
	grep -q 'Pay 900 EUR' "$T/out"
}

@test "gateway attack: a recipient sendmail would read as several addresses is refused (75), nothing sent" {
	# Postfix's sendmail parses each argument as an address list; without pipe(8)'s flags=q
	# this recipient reaches carol@partner.example in the clear, under nowhere.example's policy
	r='carol@partner.example, x@nowhere.example'
	python3 -c 'import sys, email.utils; assert len(email.utils.getaddresses([sys.argv[1]])) == 2' "$r"
	run gw --outbound -f alice@example.org -- "$r" <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == "secmail-gateway: configuration error: the recipient is not one address as sendmail reads it (pipe(8) needs flags=q): $r" ]]
	[ ! -e "$T/sendmail.args" ]
	for r in 'Carol <carol@partner.example>' 'carol@partner.example (x)' 'carol'; do
		run gw --inbound -f mallory@example.net -- "$r" <"$CORPUS/plain.eml"
		[ "$status" -eq 75 ] || { echo "$r: $status"; return 1; }
	done
	run gw --outbound -f 'alice@example.org, boss@example.org' -- bob@example.org <"$T/draft"
	[ "$status" -eq 75 ]
	[[ $output == *"the sender is not one address"* ]]
	[ ! -e "$T/sendmail.args" ]
	# what flags=q writes is one address, and passes as it is
	run gw --outbound -f alice@example.org -- '"x, carol@partner.example"@nowhere.example' <"$T/draft"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/sendmail.args")" = "$(printf '%s\n' -G -i -f alice@example.org -- '"x, carol@partner.example"@nowhere.example')" ]
	run gw --inbound -f '' -- '-dash@example.org' <"$CORPUS/plain.eml"
	[ "$status" -eq 0 ]
	[ "$(tail -1 "$T/sendmail.args")" = "-dash@example.org" ]
}

@test "gateway outbound attack: only a real envelope passes as encrypted; signed-data labelled without smime-type is encrypted" {
	# an opaque-signed message from a client that leaves out smime-type: base64 of the text,
	# readable by anyone on the way (openssl sees signedData)
	sed 's/; smime-type=signed-data//' "$CORPUS/opaque.eml" >"$T/op"
	der_of "$T/op" "$T/op.der"
	openssl cms -cmsout -print -inform DER -in "$T/op.der" | grep -q 'contentType: pkcs7-signedData'
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/op"
	[ "$status" -eq 0 ]
	[[ $output == *"already signed, encrypted for bob@example.org"* ]]
	gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/op" >"$T/out" 2>/dev/null
	unwrap "$T/out" bob "$T/plain"
	refute grep -q 'Pay 100 EUR' "$T/out"
	# text under an enveloped-data label, for a domain that requires encryption: returned
	{ sed '/^$/q' "$T/draft" | sed '/^$/i Content-Type: application/pkcs7-mime; smime-type=enveloped-data\nContent-Transfer-Encoding: base64'
	  sed '1,/^$/d' "$T/draft" | base64; } >"$T/fake"
	der_of "$T/fake" "$T/fake.der"
	refute openssl cms -cmsout -print -inform DER -in "$T/fake.der" 2>/dev/null
	run gw --outbound -f alice@example.org -- carol@partner.example <"$T/fake"
	[ "$status" -eq 69 ]
	[ ! -e "$T/sendmail.args" ]
	# a real envelope still passes unchanged
	gw --outbound -f alice@example.org --stdout -- carol@partner.example <"$CORPUS/enc-gcm.eml" >"$T/out" 2>/dev/null
	cmp "$T/out" "$CORPUS/enc-gcm.eml"
}

@test "gateway outbound attack: a message smime-encrypt cannot take does not leave in the clear when the recipient has a certificate" {
	# a header word too long to fold (RFC 5322 §2.1.1: 998): smime-encrypt refuses the
	# message with the status it uses for a missing certificate
	python3 -c 'import sys; sys.stdout.write("X-Long: " + "B" * 5000 + "\n")' >"$T/m"
	cat "$T/draft" >>"$T/m"
	run smime-encrypt --recipients-only -R bob@example.org --cert-dir "$T/certs" --no-self <"$T/m"
	[ "$status" -eq 65 ]
	run gw --outbound -f alice@example.org -- bob@example.org <"$T/m"
	[ "$status" -eq 69 ]
	[[ $output == "secmail-gateway: bob@example.org: the message cannot be encrypted, and the recipient's certificate is in the store: "*"too long to fold"* ]]
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	[ ! -e "$T/sendmail.args" ]
	# without a certificate the policy sends it signed only, as before
	run gw --outbound -f alice@example.org --stdout -- dave@nowhere.example <"$T/m"
	[ "$status" -eq 0 ]
	[[ $output == *"not encrypted"*"no certificate"* ]]
}

@test "gateway outbound attack: a From whose display name, comment or group shows another address is not signed" {
	for f in '=?utf-8?q?Boss_=3Cboss=40example=2Eorg=3E?= <alice@example.org>' \
	    'alice@example.org (Boss <boss@example.org>)' \
	    '"Boss <boss＠example.org>" <alice@example.org>' \
	    'boss@example.org: Alice <alice@example.org>;'; do
		sed "s/^From: .*/From: $f/" "$T/draft" >"$T/m"
		# what a reader may show: Python's email package decodes the boss's address
		python3 - "$T/m" <<'PY'
import email, email.header, sys
v = email.message_from_bytes(open(sys.argv[1], 'rb').read())['From']
shown = str(email.header.make_header(email.header.decode_header(v)))
assert 'boss' in shown.lower(), shown
PY
		run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/m"
		[ "$status" -eq 0 ]
		[[ $output == *"not signed (From is not the sender), encrypted for bob@example.org"* ]] || { echo "$f: $output"; return 1; }
	done
	# the sender's own address in the display name is no other address
	sed 's/^From: .*/From: "alice@example.org" (alice@example.org) <alice@example.org>/' "$T/draft" >"$T/m"
	run gw --outbound -f alice@example.org --stdout -- bob@example.org <"$T/m"
	[[ $output == *"signed by alice@example.org, encrypted for bob@example.org"* ]]
}
