#!/usr/bin/env bats
# Issue 15: EdDSA, ML-DSA and SLH-DSA signatures and dual (classical + post-quantum) signing.
# Each test asserts the success path (with the `openssl cms` of the same build as the
# independent check) where the OpenSSL under test has the feature, and the clean
# EX_UNAVAILABLE refusal where it has not (Debian 12's 3.0): never a skip. The fixtures in
# tests/helpers/pq (made by tests/helpers/pq-fixtures with OpenSSL 3.6) stand in for
# certificates an old OpenSSL cannot make.

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() {
	common_setup
	FX="$BATS_TEST_DIRNAME/helpers/pq"
	# the checked-in keys, private as the tools require
	mkdir "$T/fx"
	cp "$FX"/* "$T/fx/"
	chmod 600 "$T"/fx/*.key
}
teardown() { common_teardown; }

FEATURES="$SECMAIL_BIN/../gen/ossl_features.h"
ossl_has() { grep -qx "#define HAVE_$1 1" "$FEATURES"; }

# The SignerInfos' digest and signature algorithm OIDs, one "DIGEST SIG" line per signer.
signer_algs() {
	openssl cms -cmsout -print -in "$1" | awk '
		/^    signerInfos:/ { on = 1 }
		on && /digestAlgorithm:/ { getline; d = $NF }
		on && /signatureAlgorithm:/ { getline; print d, $NF }'
}

# The CMSAlgorithmProtection value (RFC 6211) of every SignerInfo as "DIGEST SIG", via asn1parse.
alg_protection() {
	openssl cms -cmsout -print -in "$1" | awk '
		/id-aa-CMSAlgorithmProtection/ { on = 1; next }
		on && /OBJECT/ { sub(/.*:/, ""); v = v " " $0; n++; if (n == 2) { print substr(v, 2); on = 0; n = 0; v = "" } }'
}

@test "pq-sign: Ed25519 signs with SHA-512 and micalg sha-512 where OpenSSL can (RFC 8419), else 69 naming RFC 8419" {
	sample_msg "Dave <dave@example.org>" >"$T/msg"
	run --separate-stderr smime-sign --cert "$PKI/dave.pem" --key "$PKI/dave.key" \
		--chain "$PKI/chain.pem" "$T/msg"
	if ossl_has CMS_ED25519_SIGN; then
		assert_success
		printf '%s\n' "$output" >"$T/out"
		grep -q 'micalg=sha-512;' "$T/out"
		run openssl cms -verify -in "$T/out" -CAfile "$PKI/ca.pem" -purpose smimesign -out /dev/null
		assert_success
		[ "$(signer_algs "$T/out")" = "(2.16.840.1.101.3.4.2.3) (1.3.101.112)" ]
		[ "$(alg_protection "$T/out")" = "sha512 ED25519" ]
	else
		[ "$status" -eq 69 ]
		[ -z "$output" ]
		[[ $stderr == "smime-sign: this OpenSSL cannot make Ed25519 CMS signatures (RFC 8419): OpenSSL 3."* ]]
	fi
}

@test "pq-sign: --digest cannot weaken Ed25519 or ML-DSA: the key's algorithm prescribes SHA-512" {
	if ! ossl_has CMS_ML_DSA_SIGN; then
		# 3.0: the ML-DSA certificate itself is refused before any digest is chosen
		sample_msg >"$T/msg"
		run --separate-stderr smime-sign --digest sha256 --cert "$T/fx/alice-mldsa.pem" \
			--key "$T/fx/alice-mldsa.key" "$T/msg"
		[ "$status" -eq 69 ]
		[[ $stderr == *"this OpenSSL has no ML-DSA-65"* ]]
		return
	fi
	sample_msg >"$T/msg"
	smime-sign --digest sha256 --cert "$PKI/alice-mldsa.pem" --key "$PKI/alice-mldsa.key" \
		--chain "$PKI/chain.pem" "$T/msg" >"$T/out"
	grep -q 'micalg=sha-512;' "$T/out"
	[ "$(signer_algs "$T/out")" = "(2.16.840.1.101.3.4.2.3) (2.16.840.1.101.3.4.3.18)" ]
}

@test "pq-sign: ML-DSA-65 signature verifies with openssl cms, SHA-512, CMSAlgorithmProtection (RFC 9882), else 69" {
	sample_msg >"$T/msg"
	if ossl_has CMS_ML_DSA_SIGN; then
		smime-sign --cert "$PKI/alice-mldsa.pem" --key "$PKI/alice-mldsa.key" \
			--chain "$PKI/chain.pem" "$T/msg" >"$T/out"
		grep -q 'micalg=sha-512;' "$T/out"
		run openssl cms -verify -in "$T/out" -CAfile "$PKI/ca.pem" -purpose smimesign -out /dev/null
		assert_success
		[ "$(signer_algs "$T/out")" = "(2.16.840.1.101.3.4.2.3) (2.16.840.1.101.3.4.3.18)" ]
		[ "$(alg_protection "$T/out")" = "sha512 ML-DSA-65" ]
		# and the opaque form, streamed
		smime-sign --opaque --cert "$PKI/alice-mldsa.pem" --key "$PKI/alice-mldsa.key" \
			"$T/msg" >"$T/opq"
		run openssl cms -verify -in "$T/opq" -CAfile "$PKI/ca.pem" -certfile "$PKI/int.pem" \
			-purpose smimesign -out /dev/null
		assert_success
	else
		run --separate-stderr smime-sign --cert "$T/fx/alice-mldsa.pem" --key "$T/fx/alice-mldsa.key" "$T/msg"
		[ "$status" -eq 69 ]
		[ -z "$output" ]
		[[ $stderr == "smime-sign: $T/fx/alice-mldsa.pem: this OpenSSL has no ML-DSA-65 (OpenSSL 3."* ]]
	fi
}

@test "pq-sign: SLH-DSA-SHA2-128f signs with SHA-256 and micalg sha-256 (RFC 9814), else 69" {
	sample_msg >"$T/msg"
	if ossl_has CMS_SLH_DSA_SIGN; then
		smime-sign --cert "$PKI/alice-slhdsa.pem" --key "$PKI/alice-slhdsa.key" \
			--chain "$PKI/chain.pem" "$T/msg" >"$T/out"
		grep -q 'micalg=sha-256;' "$T/out"
		run openssl cms -verify -in "$T/out" -CAfile "$PKI/ca.pem" -purpose smimesign -out /dev/null
		assert_success
		[ "$(signer_algs "$T/out")" = "(2.16.840.1.101.3.4.2.1) (2.16.840.1.101.3.4.3.21)" ]
		[ "$(alg_protection "$T/out")" = "sha256 SLH-DSA-SHA2-128f" ]
	else
		run --separate-stderr smime-sign --cert "$T/fx/alice-slhdsa.pem" --key "$T/fx/alice-slhdsa.key" "$T/msg"
		[ "$status" -eq 69 ]
		[[ $stderr == *"this OpenSSL has no SLH-DSA-SHA2-128f"* ]]
	fi
}

@test "pq-sign: Ed448 is refused with 69 saying why (OpenSSL writes id-shake256 without the length RFC 8419 wants)" {
	if [ ! -f "$PKI/erin.pem" ]; then
		! openssl list -signature-algorithms | grep -qi ed448 || false
		return
	fi
	ossl_has CMS_ED448_SIGN && false
	sample_msg "erin@example.org" >"$T/msg"
	run --separate-stderr smime-sign --cert "$PKI/erin.pem" --key "$PKI/erin.key" "$T/msg"
	[ "$status" -eq 69 ]
	[ -z "$output" ]
	[[ $stderr == "smime-sign: this OpenSSL cannot make Ed448 CMS signatures (RFC 8419 §3.1"*"id-shake256-len"* ]]
}

@test "pq-sign: a signature openssl cms makes with ML-DSA-65 verifies, else it is neutral naming ML-DSA-65" {
	run --separate-stderr smime-verify --ca-file "$T/fx/ca.pem" "$T/fx/mldsa.eml"
	assert_success
	if ossl_has ML_DSA; then
		[[ $output == *"smime=pass reason=\"good signature by"* ]]
	else
		[[ $output == *"smime=neutral reason=\"unsupported signature"*"algorithm ML-DSA-65"* ]]
	fi
	# and made now by this build's openssl, where it can
	if ossl_has CMS_ML_DSA_SIGN; then
		printf 'Content-Type: text/plain\r\n\r\nfresh\r\n' >"$T/ent"
		openssl cms -sign -md sha512 -in "$T/ent" -signer "$PKI/alice-mldsa.pem" \
			-inkey "$PKI/alice-mldsa.key" -certfile "$PKI/int.pem" -out "$T/s"
		{ printf 'From: alice@example.org\n'; cat "$T/s"; } >"$T/in"
		run --separate-stderr smime-verify --ca-file "$PKI/ca.pem" "$T/in"
		[[ $output == *"smime=pass"* ]]
	fi
}

@test "pq-sign: --cert/--key twice make one SignedData with two SignerInfos that openssl cms verifies; micalg lists both" {
	sample_msg >"$T/msg"
	if ! ossl_has CMS_ML_DSA_SIGN; then
		run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
			--cert "$T/fx/alice-mldsa.pem" --key "$T/fx/alice-mldsa.key" "$T/msg"
		[ "$status" -eq 69 ]
		[ -z "$output" ]
		[[ $stderr == *"this OpenSSL has no ML-DSA-65"* ]]
		return
	fi
	smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --cert "$PKI/alice-mldsa.pem" \
		--key "$PKI/alice-mldsa.key" --chain "$PKI/chain.pem" "$T/msg" >"$T/out"
	grep -q 'micalg="\?sha-256,sha-512"\?;' "$T/out"
	[ "$(signer_algs "$T/out" | tr '\n' ' ')" = "(2.16.840.1.101.3.4.2.1) (1.2.840.113549.1.1.1) (2.16.840.1.101.3.4.2.3) (2.16.840.1.101.3.4.3.18) " ]
	run openssl cms -verify -in "$T/out" -CAfile "$PKI/ca.pem" -purpose smimesign -out /dev/null
	assert_success
	# Python's email package reads the micalg parameter as one value listing both
	python3 -c '
import email, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
assert m.get_param("micalg") == "sha-256,sha-512", m.get_param("micalg")
' "$T/out"
	# both signers, with the same digest: micalg names it once
	smime-sign --digest sha512 --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		--cert "$PKI/alice-mldsa.pem" --key "$PKI/alice-mldsa.key" "$T/msg" >"$T/out2"
	grep -q 'micalg=sha-512;' "$T/out2"
}

@test "pq-sign: a second signer whose certificate does not name the From address is refused" {
	sample_msg >"$T/msg"
	run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		--cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/msg"
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	[[ $stderr == *"for bob@example.org, not for the From address alice@example.org"* ]]
}

@test "pq-sign: a third --cert, a lone second --key or --p12 with a second signer are usage errors" {
	sample_msg >"$T/msg"
	run smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --cert "$PKI/bob.pem" \
		--key "$PKI/bob.key" --cert "$PKI/carol.pem" "$T/msg"
	[ "$status" -eq 64 ]
	[[ $output == *"at most two signers"* ]]
	run smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --key "$PKI/bob.key" "$T/msg"
	[ "$status" -eq 64 ]
	[[ $output == *"a second signer needs both --cert and --key"* ]]
	run smime-sign --p12 "$PKI/alice-nopass.p12" --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/msg"
	[ "$status" -eq 64 ]
}
