#!/usr/bin/env bats
# smime-certs against hostile certificates (issue 13 review): what a certificate claims is
# shown so that a terminal cannot be steered by it, and pinning a certificate someone sent
# never silently takes over an address the store already holds another certificate for.

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() {
	common_setup
	S=$XDG_DATA_HOME/secmail/certs	# the default store
}
teardown() { common_teardown; }

certs() { smime-certs --ca-file "$PKI/ca.pem" "$@"; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }

# selfsigned NAME SAN: a self-signed end-entity certificate for e-mail in $T/NAME.pem
selfsigned() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
		-out "$T/$1.pem" -subj "/CN=$1" -days 30 -addext "subjectAltName=$2" \
		-addext "keyUsage=critical,digitalSignature,keyAgreement" \
		-addext "extendedKeyUsage=emailProtection" -addext "basicConstraints=CA:false" 2>/dev/null
}

# The raw bytes a terminal acts on: C1 CSI (U+009B), RIGHT-TO-LEFT OVERRIDE (U+202E).
has_controls() { LC_ALL=C grep -q $'\xc2\x9b\|\xe2\x80\xae' "$1"; }

@test "certs attacks: an address with terminal controls and a bidi override is shown escaped everywhere" {
	# Shows as "eve@example.org" followed by a CSI sequence (red) in a terminal that reads
	# RIGHT-TO-LEFT OVERRIDE and C1 controls.
	local addr=$'eve\xe2\x80\xaegro.elpmaxe@\xc2\x9b31mx.org'
	selfsigned spoof "email:$addr"
	# the raw bytes really are in the certificate (openssl prints them as they are)
	openssl x509 -in "$T/spoof.pem" -noout -ext subjectAltName >"$T/raw"
	has_controls "$T/raw"
	certs pin "$T/spoof.pem" >"$T/o1"
	certs list >"$T/o2"
	certs -m list >"$T/o3"
	certs show "$addr" >"$T/o4"
	certs -m show "$addr" >"$T/o5"
	SECMAIL_NOW=$(( $(date +%s) + 40 * 86400 )) certs expiring 10 >"$T/o6"
	certs remove "$addr" >"$T/o7"
	for f in "$T"/o[1-7]; do
		if has_controls "$f"; then echo "raw controls in $f" >&2; return 1; fi
		grep -qF 'eve\u202egro.elpmaxe@\u009b31mx.org' "$f"
	done
	[ "$(cat "$T/o1")" = "pinned eve\\u202egro.elpmaxe@\\u009b31mx.org (SHA-256 $(fp "$T/spoof.pem"))" ]
	[ "$(cut -f1 "$T/o3")" = 'eve\u202egro.elpmaxe@\u009b31mx.org' ]
}

@test "certs attacks: an address in a non-ASCII script is shown as it is" {
	# only controls are escaped: UTF-8 text stays readable
	local addr=$'j\xc3\xb6rg@example.org'
	selfsigned joerg "email:$addr"
	run --separate-stderr certs pin "$T/joerg.pem"
	assert_success
	[ "$output" = "pinned $addr (SHA-256 $(fp "$T/joerg.pem"))" ]
}

@test "certs attacks: pin does not take over an address the store holds another certificate for" {
	certs import "$PKI/bob-full.pem" >/dev/null
	cp "$S/bob@example.org" "$T/bob-entry"
	# Mallory's own certificate, whose fingerprint Alice checked with Mallory, also claims
	# Bob's address: pinned as it is, it would receive mail for Bob and sign as Bob.
	selfsigned mallory "email:mallory@example.net,email:bob@example.org"
	run --separate-stderr certs pin "$T/mallory.pem"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"$T/mallory.pem: mallory@example.net: bob@example.org already has another certificate in the store (SHA-256 $(fp "$PKI/bob.pem")); to pin this one instead, remove it first"* ]]
	cmp "$S/bob@example.org" "$T/bob-entry"
	[ ! -e "$S/mallory@example.net" ]
	# smime-encrypt still encrypts to Bob's certificate
	printf 'From: alice@example.org\nTo: bob@example.org\nSubject: s\n\nx\n' >"$T/p"
	smime-encrypt --no-self "$T/p" >"$T/enc"
	smime-decrypt --key "$PKI/bob.key" --cert "$PKI/bob.pem" "$T/enc" | grep -q '^x$'
	# a pinned certificate is not replaced either, and the same certificate again is unchanged
	selfsigned carol "email:carol@example.net"
	certs pin "$T/carol.pem" >/dev/null
	selfsigned carol2 "email:carol@example.net"
	run --separate-stderr certs pin "$T/carol2.pem"
	assert_failure 65
	[[ $stderr == *"carol@example.net already has another certificate in the store"* ]]
	run certs pin "$T/carol.pem"
	assert_success
	[ "$output" = "unchanged carol@example.net (SHA-256 $(fp "$T/carol.pem"))" ]
	# the decision made explicit: remove, then pin
	certs remove bob@example.org >/dev/null
	run --separate-stderr certs pin "$T/mallory.pem"
	assert_success
	[[ $output == *"pinned bob@example.org (SHA-256 $(fp "$T/mallory.pem"))"* ]]
}

@test "certs attacks: importing a message signed by a pinned certificate does not relabel it as CA-verified" {
	certs pin "$PKI/rogue.pem" >/dev/null
	grep -q '^origin: pinned$' "$S/rogue@example.org"
	# a newer signature by the pinned certificate (it passes only because it is pinned)
	sample_msg "Rogue <rogue@example.org>" | SECMAIL_NOW=$(( $(date +%s) + 60 )) \
		smime-sign --cert "$PKI/rogue.pem" --key "$PKI/rogue.key" >"$T/s"
	run --separate-stderr env SECMAIL_NOW=$(( $(date +%s) + 120 )) smime-certs --ca-file "$PKI/ca.pem" import "$T/s"
	assert_success
	[ "$(awk -F'\t' '{print $2}' <(certs -m list rogue@example.org))" = pinned ]
	grep -q '^origin: pinned$' "$S/rogue@example.org"
	# the chain still shows no CA
	[ "$(grep -c 'BEGIN CERTIFICATE' "$S/rogue@example.org")" -eq 1 ]
}
