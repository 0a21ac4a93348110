#!/usr/bin/env bats
# smime-certs (issue 13): the certificate store users manage - list, show, import (verified,
# never blindly), pin, remove, export, expiring - and the one default store every tool uses.
# Cross-checked with openssl (fingerprints, PEM, PKCS#7).

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() {
	common_setup
	sample_msg >"$T/msg"
	export SECMAIL_AUTHSERV_ID=mx.test
	S=$XDG_DATA_HOME/secmail/certs	# the default store
}
teardown() { common_teardown; }

certs() { smime-certs --ca-file "$PKI/ca.pem" "$@"; }
sign() { smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$PKI/chain.pem" "$@"; }
ar() { sed -n '1{p;:a;n;/^[ \t]/{p;ba};q}' "$1" | tr -d '\r\n' | tr -s ' \t' ' '; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
field() { awk -F'\t' -v n="$1" '{print $n}'; }

@test "certs: a signed message that verifies is imported with what it announced; list shows it" {
	sign --encrypt-cert "$PKI/aliceenc.pem" "$T/msg" >"$T/s"
	run --separate-stderr certs import "$T/s"
	assert_success
	[ "$output" = "imported alice@example.org (SHA-256 $(fp "$PKI/aliceenc.pem"))" ]
	# the default store, created private with its parents
	[ "$(stat -c %a "$S")" = 700 ]
	[ "$(stat -c %a "$XDG_DATA_HOME/secmail")" = 700 ]
	run certs -m list
	assert_success
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	[ "$(echo "$output" | field 1)" = alice@example.org ]
	[ "$(echo "$output" | field 2)" = imported ]
	[ "$(echo "$output" | field 6)" = "$(fp "$PKI/aliceenc.pem")" ]
	[ "$(echo "$output" | field 8)" = "CN=Test Intermediate CA" ]
	[ "$(echo "$output" | field 9)" = "aes-256-gcm,aes-128-gcm,aes-256-cbc,aes-128-cbc" ]
	[ "$(echo "$output" | field 10)" = separate ]
	[ "$(echo "$output" | field 4)" = "$(date -u -d "$(openssl x509 -in "$PKI/aliceenc.pem" -noout -enddate | sed 's/.*=//')" +%Y-%m-%dT%H:%M:%SZ)" ]
	run certs list
	[[ $output == "alice@example.org  imported  "*"  rsa2048  aes-256-gcm,aes-128-gcm,aes-256-cbc,aes-128-cbc  "*"CN=aliceenc  issuer CN=Test Intermediate CA" ]]
	grep -q '^origin: imported$' "$S/alice@example.org"
	# smime-encrypt uses it without being told where the store is
	printf 'From: bob@example.org\nTo: alice@example.org\nSubject: s\n\nx\n' >"$T/p"
	smime-encrypt --no-self "$T/p" | grep -q 'smime-type=authEnveloped-data'
}

@test "certs: a signed message that does not verify is refused (65) and nothing is stored" {
	sign "$T/msg" >"$T/s"
	sed 's/^Hello Bob,/Hello Eve,/' "$T/s" >"$T/altered"
	run --separate-stderr certs import "$T/altered"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"$T/altered: the signature does not pass (smime=fail: message digest mismatch: the content was altered after signing): nothing imported"* ]]
	[ -z "$(ls "$S" 2>/dev/null | grep -v '^\.')" ]
	# a signer that From does not name
	sample_msg "Mallory <mallory@example.net>" | sign --no-from-check >"$T/s2"
	run --separate-stderr certs import "$T/s2"
	assert_failure 65
	[[ $stderr == *"the signature does not pass (smime=policy: "* ]]
	# a chain to no trust anchor
	run --separate-stderr smime-certs --ca-file "$PKI/rogue-ca.pem" import "$T/s"
	assert_failure 65
	[[ $stderr == *"smime=fail: the signer's certificate does not chain to a trusted root"* ]]
	# not signed at all
	run --separate-stderr certs import "$T/msg"
	assert_failure 65
	[[ $stderr == *"$T/msg: neither a signed message nor certificates"* ]]
	[ -z "$(ls "$S" 2>/dev/null | grep -v '^\.')" ]
}

@test "certs: PEM, DER, PKCS#7 and certs-only messages are imported when they chain, from files and stdin" {
	run --separate-stderr certs import "$PKI/bob-full.pem"
	assert_success
	[ "$output" = "imported bob@example.org (SHA-256 $(fp "$PKI/bob.pem"))" ]
	openssl x509 -in "$PKI/carol.pem" -outform DER -out "$T/carol.der"
	cat "$PKI/ca.pem" "$PKI/int.pem" >"$T/anchors.pem"
	run --separate-stderr smime-certs --ca-file "$T/anchors.pem" import "$T/carol.der"
	assert_success
	[ "$output" = "imported carol@example.org (SHA-256 $(fp "$PKI/carol.pem"))" ]
	openssl crl2pkcs7 -nocrl -certfile "$PKI/subj.pem" -certfile "$PKI/int.pem" >"$T/subj.p7"
	head -1 "$T/subj.p7" | grep -q 'BEGIN PKCS7'
	run --separate-stderr certs -m import - <"$T/subj.p7"
	assert_success
	[ "$output" = "$(printf 'imported\tsubj@example.org\t%s' "$(fp "$PKI/subj.pem")")" ]
	sample_msg "Dave <dave@example.org>" | smime-sign --certs-only --cert "$PKI/dave.pem" \
		--key "$PKI/dave.key" --chain "$PKI/chain.pem" >"$T/certsonly"
	run --separate-stderr certs import "$T/certsonly"
	assert_success
	[ "$output" = "imported dave@example.org (SHA-256 $(fp "$PKI/dave.pem"))" ]
	run certs list
	[ "$(echo "$output" | cut -d' ' -f1 | tr '\n' ' ')" = "bob@example.org carol@example.org dave@example.org subj@example.org " ]
	# the same certificate again: unchanged
	run certs import "$PKI/bob-full.pem"
	assert_success
	[ "$output" = "unchanged bob@example.org (SHA-256 $(fp "$PKI/bob.pem"))" ]
}

@test "certs: only what chains is imported; an attacker's certificate beside it is refused, and pin stores it" {
	cat "$PKI/bob-full.pem" "$PKI/rogue.pem" >"$T/mixed.pem"
	run --separate-stderr certs import "$T/mixed.pem"
	assert_failure 65
	[ "$output" = "imported bob@example.org (SHA-256 $(fp "$PKI/bob.pem"))" ]
	[[ $stderr == *"$T/mixed.pem: rogue@example.org: it does not chain to a trust anchor: unable to get local issuer certificate (to trust it as it is, check its fingerprint with its owner and use pin)"* ]]
	[ ! -e "$S/rogue@example.org" ]
	# not a CA, but no CA vouches for it: the user's decision
	run --separate-stderr certs pin "$PKI/rogue.pem"
	assert_success
	[ "$output" = "pinned rogue@example.org (SHA-256 $(fp "$PKI/rogue.pem"))" ]
	grep -q '^origin: pinned$' "$S/rogue@example.org"
	# smime-verify trusts it as it is, from the default store; before the pin it did not
	sample_msg "Rogue <rogue@example.org>" | smime-sign --cert "$PKI/rogue.pem" --key "$PKI/rogue.key" >"$T/s"
	smime-verify --ca-file "$PKI/ca.pem" "$T/s" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by rogue@example.org; the header is protected (hp=clear)"'* ]]
	smime-verify --ca-file "$PKI/ca.pem" --cert-dir "$T/empty" "$T/s" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=fail'* ]]
	# a harvested signature by the same certificate keeps it pinned
	smime-verify --ca-file "$PKI/ca.pem" --save-certs "$S" "$T/s" >/dev/null
	grep -q '^origin: pinned$' "$S/rogue@example.org"
}

@test "certs: pin --fingerprint pins only that certificate; a wrong one pins nothing" {
	cat "$PKI/rogue.pem" "$PKI/bob.pem" >"$T/two.pem"
	run --separate-stderr certs pin --fingerprint "$(fp "$PKI/bob.pem" | tr -d : | tr A-F a-f)" "$T/two.pem"
	assert_success
	[ "$output" = "pinned bob@example.org (SHA-256 $(fp "$PKI/bob.pem"))" ]
	[ ! -e "$S/rogue@example.org" ]
	run --separate-stderr certs trust --fingerprint "00:11" "$PKI/rogue.pem"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"$PKI/rogue.pem: no certificate with that fingerprint"* ]]
	[ ! -e "$S/rogue@example.org" ]
}

@test "certs: expired certificates and certificates not for e-mail are neither imported nor pinned" {
	run --separate-stderr certs import "$PKI/expired-full.pem" "$PKI/noeku-full.pem"
	assert_failure 65
	[[ $stderr == *"expired@example.org: it does not verify: certificate has expired"* ]]
	run --separate-stderr certs pin "$PKI/expired.pem"
	assert_failure 65
	[[ $stderr == *"expired@example.org: certificate expired on 2021-01-01 00:00:00 UTC"* ]]
	run --separate-stderr certs pin "$PKI/noeku.pem"
	assert_failure 65
	[[ $stderr == *"noeku@example.org: it is not for e-mail protection (extended key usage)"* ]]
	run --separate-stderr certs pin "$PKI/ca.pem"
	assert_failure 65
	[[ $stderr == *"no end-entity certificate with an e-mail address"* ]]
	[ -z "$(ls "$S" 2>/dev/null | grep -v '^\.')" ]
}

@test "certs: show lists the entry and every certificate; export gives them back as PEM" {
	sign --encrypt-cert "$PKI/aliceenc.pem" "$T/msg" >"$T/s"
	smime-verify --ca-file "$PKI/ca.pem" --save-certs "$S" "$T/s" >/dev/null
	run certs show alice@example.org
	assert_success
	assert_line "address: alice@example.org"
	assert_line "origin: harvested"
	assert_line "capabilities: aes-256-gcm aes-128-gcm aes-256-cbc aes-128-cbc"
	assert_line "encryption-certificate: separate"
	assert_line "certificate: signer"
	assert_line "certificate: encryption"
	assert_line "  sha256: $(fp "$PKI/alice.pem")"
	assert_line "  sha256: $(fp "$PKI/aliceenc.pem")"
	assert_line "  serial: $(openssl x509 -in "$PKI/alice.pem" -noout -serial | sed 's/.*=//')"
	run certs -m show alice@example.org
	[ "$(echo "$output" | field 2 | tr '\n' ' ')" = "signer encryption chain chain " ]
	certs export alice@example.org >"$T/out.pem"
	[ "$(grep -c 'BEGIN CERTIFICATE' "$T/out.pem")" -eq 4 ]
	openssl x509 -in "$T/out.pem" | cmp - <(openssl x509 -in "$PKI/alice.pem")
	# what export gives, another store imports (it chains)
	run smime-certs --ca-file "$PKI/ca.pem" --cert-dir "$T/other" import "$T/out.pem"
	assert_success
	assert_line "imported alice@example.org (SHA-256 $(fp "$PKI/alice.pem"))"
	run --separate-stderr certs show nobody@example.org
	assert_failure 66
	[[ $stderr == *"nobody@example.org: no certificate in the store"* ]]
}

@test "certs: remove deletes entries; smime-encrypt then has no certificate; a missing one is 66" {
	certs import "$PKI/bob-full.pem" "$PKI/carol.pem" 2>/dev/null || true
	[ -f "$S/bob@example.org" ]
	run --separate-stderr certs remove bob@example.org nobody@example.org
	assert_failure 66
	[ "$output" = "removed bob@example.org" ]
	[[ $stderr == *"nobody@example.org: no certificate in the store"* ]]
	[ ! -e "$S/bob@example.org" ]
	printf 'From: alice@example.org\nTo: bob@example.org\nSubject: s\n\nx\n' >"$T/p"
	run --separate-stderr smime-encrypt --no-self "$T/p"
	assert_failure 65
	[[ $stderr == *"bob@example.org: no certificate in the store"* ]]
}

@test "certs: expiring DAYS lists what expires within DAYS and what has expired; exit 1 when nothing does" {
	certs import "$PKI/bob-full.pem" >/dev/null
	na=$(date -u -d "$(openssl x509 -in "$PKI/bob.pem" -noout -enddate | sed 's/.*=//')" +%s)
	run certs expiring 30
	assert_failure 1
	[ -z "$output" ]
	SECMAIL_NOW=$((na - 10 * 86400 - 60)) run certs expiring 30
	assert_success
	[ "$output" = "bob@example.org  expires $(date -u -d "@$na" '+%Y-%m-%d %H:%M:%S UTC') (in 10 days)" ]
	SECMAIL_NOW=$((na - 10 * 86400 - 60)) run certs expiring 5
	assert_failure 1
	SECMAIL_NOW=$((na + 2 * 86400 + 60)) run certs -m expiring 0
	assert_success
	[ "$output" = "$(printf 'bob@example.org\t%s\t-3\t%s' "$(date -u -d "@$na" +%Y-%m-%dT%H:%M:%SZ)" "$(fp "$PKI/bob.pem")")" ]
	SECMAIL_NOW=$((na + 2 * 86400 + 60)) run certs expiring 0
	[ "$output" = "bob@example.org  expired $(date -u -d "@$na" '+%Y-%m-%d %H:%M:%S UTC') (2 days ago)" ]
	run certs expiring soon
	assert_failure 64
}

@test "certs: one default store for every tool: smime-verify --save-certs fills what smime-certs lists" {
	sign "$T/msg" >"$T/s"
	smime-verify --ca-file "$PKI/ca.pem" --save-certs "$S" "$T/s" >/dev/null
	run certs -m list
	[ "$(echo "$output" | field 1)" = alice@example.org ]
	[ "$(echo "$output" | field 2)" = harvested ]
	# SECMAIL_CERT_DIR and --cert-dir move it for all of them
	SECMAIL_CERT_DIR=$T/elsewhere certs import "$PKI/bob-full.pem" >/dev/null
	[ -f "$T/elsewhere/bob@example.org" ]
	[ ! -e "$S/bob@example.org" ]
	run smime-certs --cert-dir "$T/elsewhere" list
	[[ $output == "bob@example.org  imported  "* ]]
}

@test "certs: a store that others may change is refused (78); an empty one lists nothing" {
	run certs list
	assert_success
	[ -z "$output" ]
	mkdir -p "$T/open"
	chmod 777 "$T/open"
	run --separate-stderr smime-certs --cert-dir "$T/open" list
	assert_failure 78
	[[ $stderr == *"certificate store"* ]]
	run --separate-stderr smime-certs --cert-dir "$T/open" import "$PKI/bob-full.pem"
	assert_failure 78
	# files that are not entries are not listed
	certs import "$PKI/bob-full.pem" >/dev/null
	touch "$S/README" "$S/.hidden" "$S/A%ZZ"
	run certs list
	[ "$(echo "$output" | wc -l)" -eq 1 ]
}

@test "certs: usage errors and unreadable input" {
	run --separate-stderr smime-certs
	assert_failure 64
	run --separate-stderr smime-certs frobnicate
	assert_failure 64
	[[ $stderr == *"unknown command 'frobnicate'"* ]]
	run --separate-stderr smime-certs show
	assert_failure 64
	run --separate-stderr smime-certs import
	assert_failure 64
	run --separate-stderr certs import "$T/missing"
	assert_failure 66
	[[ $stderr == *"cannot open $T/missing"* ]]
	printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' >"$T/bad.pem"
	run --separate-stderr certs import "$T/bad.pem"
	assert_failure 65
	[[ $stderr == *"$T/bad.pem: no certificate in the file (PEM, DER or PKCS#7)"* ]]
	run smime-certs --help
	assert_success
	[[ $output == *"expiring DAYS"* ]]
}
