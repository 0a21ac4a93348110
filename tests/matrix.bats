#!/usr/bin/env bats
# The OpenSSL build matrix (make check OPENSSL=3.5|3.6): the binaries use the OpenSSL whose
# openssl command the suite cross-checks with, the probed features agree with what that
# command can do, the test PKI's new certificates are sound, and scripts/openssl-build's cache
# logic (without the network). Runs against whichever OpenSSL the build used.

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() { common_setup; }
teardown() { common_teardown; }

FEATURES="$SECMAIL_BIN/../gen/ossl_features.h"
has() { grep -qx "#define HAVE_$1 1" "$FEATURES"; }

# The library a program loads libcrypto from, resolved.
libcrypto_of() { realpath "$(ldd "$1" | awk '$1 ~ /^libcrypto\.so/ {print $3}')"; }

@test "matrix: the tools load the libcrypto of the openssl command the tests cross-check with" {
	a=$(libcrypto_of "$SECMAIL_BIN/smime-sign")
	b=$(libcrypto_of "$(command -v openssl)")
	[ -n "$a" ] && [ "$a" = "$b" ]
}

@test "matrix: the features header was probed for this OpenSSL and says which" {
	[ -f "$FEATURES" ]
	# "OpenSSL 3.6.3 9 Jun 2026" as the header names it and as the command reports it
	v=$(openssl version | sed 's/ (Library.*//')
	grep -qF "for $v:" "$FEATURES"
}

# has FEATURE agrees with CMD succeeding (CMD: the openssl command asked independently)
agree() {
	local f=$1
	shift
	if "$@" >/dev/null 2>&1; then has "$f"; else refute has "$f"; fi
}

@test "matrix: Ed25519 CMS signing is probed as the openssl command finds it (RFC 8419, SHA-512)" {
	printf 'probe\n' >"$T/m"
	agree CMS_ED25519_SIGN openssl cms -sign -binary -md sha512 -in "$T/m" \
		-signer "$PKI/dave.pem" -inkey "$PKI/dave.key" -out /dev/null
}

@test "matrix: Ed448 is never claimed while OpenSSL writes id-shake256 without the length RFC 8419 wants" {
	printf 'probe\n' >"$T/m"
	if openssl cms -sign -binary -md shake256 -in "$T/m" -signer "$PKI/erin.pem" \
		-inkey "$PKI/erin.key" -outform DER -out "$T/s" 2>/dev/null; then
		openssl cms -cmsout -print -inform DER -in "$T/s" >"$T/p"
		# id-shake256-len (…2.18) with 512 is RFC 8419 §3.1; id-shake256 (…2.12) is not
		if grep -q '2.16.840.1.101.3.4.2.18' "$T/p"; then has CMS_ED448_SIGN; else refute has CMS_ED448_SIGN; fi
	else
		refute has CMS_ED448_SIGN
	fi
}

@test "matrix: ML-DSA and SLH-DSA are probed as openssl list shows them" {
	openssl list -signature-algorithms >"$T/sig"
	if grep -q 'ML-DSA-65' "$T/sig"; then has ML_DSA; else refute has ML_DSA; fi
	if grep -q 'SLH-DSA-SHA2-128f' "$T/sig"; then has SLH_DSA; else refute has SLH_DSA; fi
}

@test "matrix: ML-DSA CMS signing is probed as the openssl command finds it (RFC 9882, SHA-512)" {
	printf 'probe\n' >"$T/m"
	if [ -f "$PKI/alice-mldsa.pem" ]; then
		agree CMS_ML_DSA_SIGN openssl cms -sign -binary -md sha512 -in "$T/m" \
			-signer "$PKI/alice-mldsa.pem" -inkey "$PKI/alice-mldsa.key" -out /dev/null
	else
		refute has CMS_ML_DSA_SIGN
	fi
}

@test "matrix: ML-KEM is probed as openssl list shows it" {
	if openssl list -kem-algorithms | grep -q 'ML-KEM-768'; then has ML_KEM; else refute has ML_KEM; fi
}

@test "matrix: KEMRecipientInfo is probed as openssl cms finds it: an envelope to bob-mlkem opens" {
	printf 'probe\n' >"$T/m"
	kemri() {
		openssl cms -encrypt -binary -aes256 -in "$T/m" -outform DER -out "$T/e" \
			"$PKI/bob-mlkem.pem" &&
		openssl cms -decrypt -binary -inform DER -in "$T/e" -inkey "$PKI/bob-mlkem.key" \
			-recip "$PKI/bob-mlkem.pem" | cmp -s - "$T/m"
	}
	if [ -f "$PKI/bob-mlkem.pem" ]; then agree CMS_KEMRI kemri; else refute has CMS_KEMRI; fi
}

@test "matrix: X25519/X448 key agreement is probed as openssl cms finds it (RFC 8418)" {
	printf 'probe\n' >"$T/m"
	kari() {
		openssl cms -encrypt -binary -aes256 -in "$T/m" -outform DER -out "$T/e" "$PKI/$1.pem" &&
		openssl cms -decrypt -binary -inform DER -in "$T/e" -inkey "$PKI/$1.key" \
			-recip "$PKI/$1.pem" | cmp -s - "$T/m"
	}
	agree CMS_X25519 kari carol-x25519
	agree CMS_X448 kari carol-x448
}

@test "matrix: each new PKI certificate chains to the root, holds its own key, and has the right usage" {
	[ -f "$PKI/HAVE" ]
	declare -A cert=([ed448]=erin [ml-dsa]=alice-mldsa [slh-dsa]=alice-slhdsa
		[x25519]=carol-x25519 [x448]=carol-x448 [ml-kem]=bob-mlkem)
	declare -A ku=([ed448]="Digital Signature, Non Repudiation"
		[ml-dsa]="Digital Signature, Non Repudiation" [slh-dsa]="Digital Signature, Non Repudiation"
		[x25519]="Key Agreement" [x448]="Key Agreement" [ml-kem]="Key Encipherment")
	n=0
	while read -r kind; do
		c=$PKI/${cert[$kind]}.pem k=$PKI/${cert[$kind]}.key
		run openssl verify -CAfile "$PKI/ca.pem" -untrusted "$PKI/int.pem" "$c"
		assert_success
		case $kind in
		ed448 | ml-dsa | slh-dsa)	# fit for S/MIME signing, as OpenSSL judges it
			run openssl verify -CAfile "$PKI/ca.pem" -untrusted "$PKI/int.pem" \
				-purpose smimesign "$c"
			assert_success ;;
		esac
		# the certificate carries the key file's public key
		cmp <(openssl x509 -in "$c" -noout -pubkey) <(openssl pkey -in "$k" -pubout)
		openssl x509 -in "$c" -noout -text >"$T/text"
		grep -A1 'X509v3 Key Usage: critical' "$T/text" | tail -1 | grep -qx " *${ku[$kind]}"
		grep -q "email:${cert[$kind]%%-*}@example.org" "$T/text"
		n=$((n + 1))
	done <"$PKI/HAVE"
	# Debian 12's openssl issues the Ed448 and X25519/X448 ones at least
	[ "$n" -ge 3 ]
}

@test "matrix: openssl-build takes the newest cached build of the series and links it, offline" {
	c=$T/cache/openssl
	for v in 3.6.2-1 3.6.10-1 3.6.9-2 3.5.20-1; do
		mkdir -p "$c/$v/bin"
		printf '#!/bin/sh\necho fake %s\n' "$v" >"$c/$v/bin/openssl"
		chmod +x "$c/$v/bin/openssl"
	done
	mkdir -p "$c/3.6.99-1/bin"	# no openssl in it: an incomplete build, never taken
	run --separate-stderr env SECMAIL_CACHE="$T/cache" SECMAIL_DEBIAN_MIRROR=http://0.0.0.0/ \
		"$TOP/scripts/openssl-build" 3.6 "$T/link"
	assert_success
	assert_output "$c/3.6.10-1"
	[ "$(readlink "$T/link")" = "$c/3.6.10-1" ]
	[ "$("$T/link/bin/openssl")" = "fake 3.6.10-1" ]
	# a second call replaces the link in place
	run --separate-stderr env SECMAIL_CACHE="$T/cache" "$TOP/scripts/openssl-build" 3.5 "$T/link"
	assert_success
	[ "$(readlink "$T/link")" = "$c/3.5.20-1" ]
}

@test "matrix: openssl-build refuses a malformed series" {
	for s in "" 3 3.6.1 "3.6; rm -rf /" x.y; do
		run --separate-stderr env SECMAIL_CACHE="$T/cache" "$TOP/scripts/openssl-build" "$s"
		assert_failure 1
		[[ $stderr == "openssl-build: usage: "* ]]
	done
	[ ! -e "$T/cache" ] || [ -z "$(ls "$T/cache/openssl" 2>/dev/null)" ]
}
