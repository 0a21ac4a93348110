#!/usr/bin/env bats
# Issue 15: ML-KEM recipients (RFC 9629 KEMRecipientInfo, RFC 9936), hybrid envelopes (a
# classical and an ML-KEM RecipientInfo for one address), X25519/X448 refused (RFC 8418 is not
# in OpenSSL's CMS). Success paths where the OpenSSL under test has KEMRecipientInfo (3.6),
# checked with its `openssl cms`; the clean refusals elsewhere (3.0). Never a skip.

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() {
	common_setup
	mkdir "$T/fx"
	cp "$BATS_TEST_DIRNAME"/helpers/pq/* "$T/fx/"
	chmod 600 "$T"/fx/*.key
	printf 'From: alice@example.org\nTo: bob@example.org\nSubject: harvest now\n\nThe launch codes.\n' >"$T/msg"
}
teardown() { common_teardown; }

FEATURES="$SECMAIL_BIN/../gen/ossl_features.h"
ossl_has() { grep -qx "#define HAVE_$1 1" "$FEATURES"; }

# The RecipientInfo kinds in an envelope, in order: "ktri kemri".
ri_kinds() {
	openssl cms -cmsout -print -in "$1" | awk '/^      d\.ktri:/ { printf "%sktri", s; s = " " }
		/^        d\.kemri:/ { printf "%skemri", s; s = " " } END { print "" }'
}

# mlkem_cert NAME ALG ADDR: an ML-KEM certificate issued by the test PKI's intermediate
mlkem_cert() {
	openssl genpkey -algorithm "$2" -out "$T/$1.key" 2>/dev/null
	openssl pkey -in "$T/$1.key" -pubout -out "$T/$1.pub"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.tmp" \
		-out "$T/$1.csr" -subj "/CN=$1" 2>/dev/null
	printf '%s\n' keyUsage=critical,keyEncipherment basicConstraints=CA:false \
		"subjectAltName=email:$3" extendedKeyUsage=emailProtection >"$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$PKI/int.pem" -CAkey "$PKI/int.key" \
		-force_pubkey "$T/$1.pub" -days 30 -extfile "$T/$1.ext" -set_serial 4242 \
		-out "$T/$1.pem" 2>/dev/null
}

@test "pq-encrypt: -r with bob's RSA and ML-KEM certificates gives a hybrid envelope either key opens, else 69" {
	if ! ossl_has CMS_KEMRI; then
		run --separate-stderr smime-encrypt --no-self --recipients-only -r "$PKI/bob.pem" \
			-r "$T/fx/bob-mlkem.pem" "$T/msg"
		[ "$status" -eq 69 ]
		[ -z "$output" ]
		[[ $stderr == *"bob@example.org: certificate has an ML-KEM-768 key: this OpenSSL"*"has no ML-KEM"* ]]
		return
	fi
	smime-encrypt --no-self --recipients-only -r "$PKI/bob.pem" -r "$PKI/bob-mlkem.pem" \
		"$T/msg" >"$T/out"
	[ "$(ri_kinds "$T/out")" = "ktri kemri" ]
	# RFC 9936: HKDF-SHA256 and, for ML-KEM-768, id-aes256-wrap
	openssl cms -cmsout -print -in "$T/out" >"$T/p"
	grep -A1 ' kdf:' "$T/p" | grep -q 'hkdf-with-sha256\|1.2.840.113549.1.9.16.3.28'
	grep -A1 ' wrap:' "$T/p" | grep -q 'id-aes256-wrap'
	openssl cms -decrypt -in "$T/out" -inkey "$PKI/bob-mlkem.key" -recip "$PKI/bob-mlkem.pem" \
		-out "$T/d1"
	openssl cms -decrypt -in "$T/out" -inkey "$PKI/bob.key" -recip "$PKI/bob.pem" -out "$T/d2"
	grep -q 'The launch codes.' "$T/d1"
	cmp "$T/d1" "$T/d2"
	smime-decrypt --cert "$PKI/bob-mlkem.pem" --key "$PKI/bob-mlkem.key" "$T/out" >"$T/d3"
	grep -q '^Secmail-Decryption: .*decrypted cipher=aes-256' "$T/d3"
	grep -q '^The launch codes.' "$T/d3"
	# the key alone (every RecipientInfo tried)
	smime-decrypt --key "$PKI/bob-mlkem.key" "$T/out" | grep -q '^The launch codes.'
}

@test "pq-encrypt: an envelope openssl cms made for bob-mlkem decrypts, else the ML-KEM key is refused naming it" {
	if ! ossl_has CMS_KEMRI; then
		run --separate-stderr smime-decrypt --cert "$T/fx/bob-mlkem.pem" --key "$T/fx/bob-mlkem.key" "$T/fx/mlkem.eml"
		[ "$status" -ne 0 ]
		[ -z "$output" ]
		[[ $stderr == *"this OpenSSL has no ML-KEM-768"* ]]
		return
	fi
	smime-decrypt --cert "$T/fx/bob-mlkem.pem" --key "$T/fx/bob-mlkem.key" "$T/fx/mlkem.eml" >"$T/d"
	grep -q '^Secmail-Decryption: .*decrypted cipher=aes-256-gcm integrity=aead' "$T/d"
	grep -q '^Signed after the quantum computer.' "$T/d"
	# and one this build's openssl makes now, to the test PKI's bob-mlkem
	printf 'Content-Type: text/plain\r\n\r\nfresh\r\n' >"$T/ent"
	openssl cms -encrypt -aes-128-cbc -in "$T/ent" -recip "$PKI/bob-mlkem.pem" -out "$T/e"
	{ printf 'From: alice@example.org\n'; cat "$T/e"; } >"$T/in"
	smime-decrypt --cert "$PKI/bob-mlkem.pem" --key "$PKI/bob-mlkem.key" "$T/in" >"$T/d2"
	grep -q '^Secmail-Decryption: .*decrypted cipher=aes-128-cbc' "$T/d2"
	grep -q '^fresh' "$T/d2"
	# a classical key for the wrong recipient says so, and the message passes through
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_success
	[[ $output == *'failed reason="the message is not encrypted for this'* ]]
}

@test "pq-encrypt: ML-KEM-512 wraps with id-aes128-wrap (RFC 9936), else 69" {
	if ! ossl_has CMS_KEMRI; then
		! ossl_has API_CMS_KEMRI || ossl_has ML_KEM
		run smime-encrypt --no-self --recipients-only -r "$T/fx/bob-mlkem.pem" "$T/msg"
		[ "$status" -eq 69 ]
		return
	fi
	mlkem_cert bob512 ML-KEM-512 bob@example.org
	smime-encrypt --no-self --recipients-only -r "$T/bob512.pem" "$T/msg" >"$T/out"
	[ "$(ri_kinds "$T/out")" = "kemri" ]
	openssl cms -cmsout -print -in "$T/out" | grep -A1 ' wrap:' | grep -q 'id-aes128-wrap'
	openssl cms -decrypt -in "$T/out" -inkey "$T/bob512.key" -recip "$T/bob512.pem" -out "$T/d"
	grep -q 'The launch codes.' "$T/d"
	smime-decrypt --cert "$T/bob512.pem" --key "$T/bob512.key" "$T/out" | grep -q '^The launch codes.'
}

@test "pq-encrypt: an ML-KEM key usage other than keyEncipherment alone is refused (RFC 9936)" {
	if ! ossl_has CMS_KEMRI; then
		! [ -f "$PKI/bob-mlkem.pem" ] || ossl_has ML_KEM
		run smime-encrypt --no-self --recipients-only -r "$T/fx/bob-mlkem.pem" "$T/msg"
		[ "$status" -eq 69 ]
		return
	fi
	mlkem_cert bad ML-KEM-768 bob@example.org
	printf '%s\n' keyUsage=critical,keyEncipherment,digitalSignature basicConstraints=CA:false \
		"subjectAltName=email:bob@example.org" >"$T/bad.ext"
	openssl x509 -req -in "$T/bad.csr" -CA "$PKI/int.pem" -CAkey "$PKI/int.key" \
		-force_pubkey "$T/bad.pub" -days 30 -extfile "$T/bad.ext" -set_serial 4243 \
		-out "$T/bad.pem" 2>/dev/null
	run --separate-stderr smime-encrypt --no-self --recipients-only -r "$T/bad.pem" "$T/msg"
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	[[ $stderr == *"key usage for an ML-KEM key must be keyEncipherment alone"* ]]
}

@test "pq-encrypt: X25519 and X448 recipients are refused with 69 naming RFC 8418" {
	for c in "$T/fx/carol-x25519.pem" "$PKI/carol-x448.pem"; do
		[ -f "$c" ] || continue
		run --separate-stderr smime-encrypt --no-self --recipients-only -r "$c" "$T/msg"
		[ "$status" -eq 69 ]
		[ -z "$output" ]
		[[ $stderr == *"carol@example.org: certificate has an X"*" key: OpenSSL's CMS cannot encrypt to it (RFC 8418 key agreement is not implemented"* ]]
	done
	# and the probes agree: no OpenSSL here has RFC 8418 in CMS
	refute ossl_has CMS_X25519
}

# bob announces an ML-KEM encryption certificate in a signed message; alice's store learns it
learn_bob() {
	printf 'From: bob@example.org\nTo: alice@example.org\nSubject: my keys\n\nhi\n' |
		smime-sign --cert "$PKI/bob.pem" --key "$PKI/bob.key" --chain "$PKI/chain.pem" \
			--encrypt-cert "$1" "${@:2}" >"$T/bs"
	smime-verify --ca-file "$PKI/ca.pem" --save-certs "$T/store" "$T/bs" >/dev/null
}

@test "pq-encrypt: a store entry with bob's RSA signer and ML-KEM encryption certificate gives both RecipientInfos" {
	if ! ossl_has CMS_KEMRI; then
		# 3.0: the ML-KEM certificate is not taken; bob's RSA one still is: nothing breaks
		learn_bob "$T/fx/bob-mlkem.pem"
		smime-encrypt --no-self --cert-dir "$T/store" "$T/msg" >"$T/out"
		[ "$(ri_kinds "$T/out")" = "ktri" ]
		openssl cms -decrypt -in "$T/out" -inkey "$PKI/bob.key" -recip "$PKI/bob.pem" -out /dev/null
		return
	fi
	learn_bob "$PKI/bob-mlkem.pem"
	grep -qx 'encryption-certificate: separate' "$T/store/bob@example.org"
	smime-encrypt --no-self --cert-dir "$T/store" "$T/msg" >"$T/out"
	[ "$(ri_kinds "$T/out")" = "ktri kemri" ]
	openssl cms -decrypt -in "$T/out" -inkey "$PKI/bob-mlkem.key" -recip "$PKI/bob-mlkem.pem" -out /dev/null
	openssl cms -decrypt -in "$T/out" -inkey "$PKI/bob.key" -recip "$PKI/bob.pem" -out /dev/null
}

@test "pq-encrypt: with an ML-KEM-768 recipient AES-128 becomes AES-256 (RFC 9936 security considerations)" {
	if ! ossl_has CMS_KEMRI; then
		learn_bob "$T/fx/bob-mlkem.pem" --capabilities aes-128-cbc
		smime-encrypt --no-self --cert-dir "$T/store" "$T/msg" >"$T/out"
		openssl cms -cmsout -print -in "$T/out" | grep -A1 contentEncryptionAlgorithm | grep -q 'aes-128-cbc'
		return
	fi
	# control: bob's RSA certificate alone, announcing AES-128-CBC only: AES-128-CBC
	printf 'From: bob@example.org\nTo: alice@example.org\nSubject: my keys\n\nhi\n' |
		smime-sign --cert "$PKI/bob.pem" --key "$PKI/bob.key" --chain "$PKI/chain.pem" \
			--capabilities aes-128-cbc >"$T/bs0"
	smime-verify --ca-file "$PKI/ca.pem" --save-certs "$T/store0" "$T/bs0" >/dev/null
	smime-encrypt --no-self --cert-dir "$T/store0" "$T/msg" >"$T/out0"
	openssl cms -cmsout -print -in "$T/out0" | grep -A1 contentEncryptionAlgorithm | grep -q 'aes-128-cbc'
	learn_bob "$PKI/bob-mlkem.pem" --capabilities aes-128-cbc
	smime-encrypt --no-self --cert-dir "$T/store" "$T/msg" >"$T/out"
	openssl cms -cmsout -print -in "$T/out" | grep -A1 contentEncryptionAlgorithm | grep -q 'aes-256-cbc'
}

@test "pq-encrypt: a signature announcing an ML-KEM encryption certificate lists ML-KEM in SMIMECapabilities, others do not" {
	smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" "$T/msg" >"$T/s"
	openssl cms -cmsout -print -in "$T/s" >"$T/p"
	refute grep -q 'ML-KEM\|2.16.840.1.101.3.4.4' "$T/p"
	if ossl_has CMS_KEMRI; then
		learn_bob "$PKI/bob-mlkem.pem"
		openssl cms -cmsout -print -in "$T/bs" | grep -q 'OBJECT *:ML-KEM-768'
		grep -q '^capabilities: .* 2.16.840.1.101.3.4.4.2$' "$T/store/bob@example.org"
	else
		learn_bob "$T/fx/bob-mlkem.pem"
		grep -q '^capabilities: ' "$T/store/bob@example.org"
		refute grep -q '^capabilities: .*2.16.840.1.101.3.4.4' "$T/store/bob@example.org"
	fi
}

@test "pq-encrypt: --rewrap for an ML-KEM member and an RSA one: both open it (openssl cms too), the list key no longer does; else 69" {
	# bob plays the list: the message is encrypted to bob, then re-wrapped for the members
	printf 'From: alice@example.org\nTo: bob@example.org\nSubject: to the list\n\nThe launch codes.\n' >"$T/m"
	smime-encrypt --no-self --recipients-only -r "$PKI/bob.pem" "$T/m" >"$T/tolist"
	if ! ossl_has CMS_KEMRI; then
		run --separate-stderr smime-encrypt --rewrap --cert "$PKI/bob.pem" --key "$PKI/bob.key" \
			-r "$PKI/alice.pem" -r "$T/fx/bob-mlkem.pem" "$T/tolist"
		[ "$status" -eq 69 ]
		[ -z "$output" ]
		[[ $stderr == *"ML-KEM-768"*"this OpenSSL"* ]]
		return
	fi
	mlkem_cert carol512 ML-KEM-512 carol@example.org
	smime-encrypt --rewrap --cert "$PKI/bob.pem" --key "$PKI/bob.key" \
		-r "$PKI/bob-mlkem.pem" -r "$PKI/alice.pem" -r "$T/carol512.pem" "$T/tolist" >"$T/out"
	# (a DER SET OF: sorted by encoding, so the ktri's SEQUENCE tag comes first)
	[ "$(ri_kinds "$T/out")" = "ktri kemri kemri" ]
	# RFC 9936: id-aes256-wrap for ML-KEM-768, id-aes128-wrap for ML-KEM-512, HKDF-SHA256
	openssl cms -cmsout -print -in "$T/out" >"$T/p"
	[ "$(grep -A1 ' wrap:' "$T/p" | grep -o 'id-aes[0-9]*-wrap' | sort | tr '\n' ' ')" = "id-aes128-wrap id-aes256-wrap " ]
	[ "$(grep -A1 ' kdf:' "$T/p" | grep -c 'hkdf-with-sha256\|1.2.840.113549.1.9.16.3.28')" = 2 ]
	openssl cms -decrypt -in "$T/out" -inkey "$PKI/bob-mlkem.key" -recip "$PKI/bob-mlkem.pem" -out "$T/d1"
	openssl cms -decrypt -in "$T/out" -inkey "$PKI/alice.key" -recip "$PKI/alice.pem" -out "$T/d2"
	openssl cms -decrypt -in "$T/out" -inkey "$T/carol512.key" -recip "$T/carol512.pem" -out "$T/d3"
	grep -q 'The launch codes.' "$T/d1"
	cmp "$T/d1" "$T/d2"
	cmp "$T/d1" "$T/d3"
	smime-decrypt --cert "$PKI/bob-mlkem.pem" --key "$PKI/bob-mlkem.key" "$T/out" | grep -q '^The launch codes.'
	# the list's own key is no longer among the recipients
	run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/out"
	assert_failure 65
	[ -z "$output" ]
}

@test "pq-encrypt: a Bcc recipient with an RSA signer and ML-KEM encryption certificate in the store gets both in their copy, the shared envelope neither" {
	printf 'From: carol@example.org\nTo: alice@example.org\nBcc: bob@example.org\nSubject: x\n\nThe launch codes.\n' >"$T/m"
	mkdir "$T/bcc"
	if ! ossl_has CMS_KEMRI; then
		learn_bob "$T/fx/bob-mlkem.pem"
		smime-encrypt --no-self -r "$PKI/alice.pem" --cert-dir "$T/store" --bcc-dir "$T/bcc" "$T/m" >"$T/out"
		[ "$(ri_kinds "$T/out")" = "ktri" ]
		[ "$(ri_kinds "$T/bcc/bcc-bob@example.org.eml")" = "ktri" ]
		openssl cms -decrypt -in "$T/bcc/bcc-bob@example.org.eml" -inkey "$PKI/bob.key" -recip "$PKI/bob.pem" -out /dev/null
		return
	fi
	learn_bob "$PKI/bob-mlkem.pem" --capabilities aes-128-cbc
	smime-encrypt --no-self -r "$PKI/alice.pem" --cert-dir "$T/store" --bcc-dir "$T/bcc" "$T/m" >"$T/out"
	[ "$(ri_kinds "$T/out")" = "ktri" ]
	for k in bob bob-mlkem; do
		run openssl cms -decrypt -in "$T/out" -inkey "$PKI/$k.key" -recip "$PKI/$k.pem" -out /dev/null
		assert_failure
	done
	b="$T/bcc/bcc-bob@example.org.eml"
	[ "$(ri_kinds "$b")" = "ktri kemri" ]
	openssl cms -decrypt -in "$b" -inkey "$PKI/bob-mlkem.key" -recip "$PKI/bob-mlkem.pem" -out "$T/d1"
	openssl cms -decrypt -in "$b" -inkey "$PKI/bob.key" -recip "$PKI/bob.pem" -out "$T/d2"
	grep -q 'The launch codes.' "$T/d1"
	cmp "$T/d1" "$T/d2"
	# RFC 9936: the ML-KEM-768 key in a Bcc copy makes the content key AES-256 too
	openssl cms -cmsout -print -in "$b" | grep -A1 contentEncryptionAlgorithm | grep -q 'aes-256-cbc'
}
