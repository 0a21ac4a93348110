#!/usr/bin/env bats
# Issue 13 for the signer: expired and not yet valid signing certificates, the expiry
# warning, the announced SMIMECapabilities (decoded with `openssl cms -cmsout -print`), PKCS#12
# files in the legacy layout; and smime-encrypt's expiry message.

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() {
	common_setup
	sample_msg >"$T/msg"
}
teardown() { common_teardown; }

sign() { smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$PKI/chain.pem" "$@"; }
# notafter NAME: the certificate's notAfter as seconds since the epoch
notafter() { date -u -d "$(openssl x509 -in "$PKI/$1.pem" -noout -enddate | sed 's/notAfter=//')" +%s; }
notbefore() { date -u -d "$(openssl x509 -in "$PKI/$1.pem" -noout -startdate | sed 's/notBefore=//')" +%s; }
utc() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S UTC'; }
# caps MSG: the SMIMECapabilities of a multipart/signed message, in order, as openssl names them
caps() {
	split_signed "$1" "$T/content" "$T/sig.der"
	openssl cms -cmsout -print -inform DER -in "$T/sig.der" \
		| awk '/S\/MIME Capabilities/{on=1; next} on && /^ *$/{exit} on && /OBJECT/{sub(/.*:/, ""); printf "%s%s", n++ ? "," : "", $0} END{print ""}'
}

# ---- expiry ----

@test "sign: an expired signing certificate is refused (65), naming its dates; nothing written" {
	sample_msg "E <expired@example.org>" >"$T/m"
	run --separate-stderr smime-sign --cert "$PKI/expired.pem" --key "$PKI/expired.key" "$T/m"
	assert_failure 65
	[ -z "$output" ]
	[ "$stderr" = "smime-sign: cannot sign: the signing certificate expired on 2021-01-01 00:00:00 UTC (it was valid from 2020-01-01 00:00:00 UTC to 2021-01-01 00:00:00 UTC)" ]
	# --certs-only signs nothing: it still carries the certificate.
	smime-sign --certs-only --cert "$PKI/expired.pem" --key "$PKI/expired.key" "$T/m" | grep -q certs-only
}

@test "sign: a certificate that is not valid yet is refused, naming when it will be" {
	nb=$(notbefore alice)
	run --separate-stderr env SECMAIL_NOW=$((nb - 3600)) smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == "smime-sign: cannot sign: the signing certificate is not valid before $(utc "$nb") (it is valid from $(utc "$nb") to $(utc "$(notafter alice)"))" ]]
	# one second later it signs
	SECMAIL_NOW=$nb sign "$T/msg" | grep -q multipart/signed
}

@test "sign: within 30 days of expiry it warns on stderr and still signs" {
	na=$(notafter alice)
	SECMAIL_NOW=$((na - 10 * 86400 - 60)) run --separate-stderr sign "$T/msg"
	assert_success
	[[ $output == *"multipart/signed"* ]]
	[ "$stderr" = "smime-sign: warning: the signing certificate expires on $(utc "$na"), in 10 days: renew it" ]
	# 31 days before: silent
	SECMAIL_NOW=$((na - 31 * 86400)) run --separate-stderr sign "$T/msg"
	assert_success
	[ -z "$stderr" ]
	# the window: option, environment, configuration; 0 turns the warning off
	SECMAIL_NOW=$((na - 31 * 86400)) run --separate-stderr sign --expiry-warning 40 "$T/msg"
	[[ $stderr == *"in 31 days: renew it" ]]
	SECMAIL_NOW=$((na - 31 * 86400)) SECMAIL_EXPIRY_WARNING=40 run --separate-stderr sign "$T/msg"
	[[ $stderr == *"in 31 days: renew it" ]]
	echo "expiry_warning 40" >"$T/conf"
	SECMAIL_NOW=$((na - 31 * 86400)) run --separate-stderr sign -C "$T/conf" "$T/msg"
	[[ $stderr == *"in 31 days: renew it" ]]
	SECMAIL_NOW=$((na - 86400)) run --separate-stderr sign --expiry-warning 0 "$T/msg"
	assert_success
	[ -z "$stderr" ]
	# the day it expires: refused
	SECMAIL_NOW=$((na + 1)) run --separate-stderr sign "$T/msg"
	assert_failure 65
	run --separate-stderr sign --expiry-warning soon "$T/msg"
	assert_failure 64
	echo "expiry_warning soon" >"$T/conf"
	run --separate-stderr sign -C "$T/conf" "$T/msg"
	assert_failure 78
}

# ---- SMIMECapabilities ----

@test "sign: by default the signature announces AES-GCM first, then CBC" {
	sign "$T/msg" >"$T/s"
	[ "$(caps "$T/s")" = "aes-256-gcm,aes-128-gcm,aes-256-cbc,aes-128-cbc" ]
	sign --capabilities secmail "$T/msg" >"$T/s"
	[ "$(caps "$T/s")" = "aes-256-gcm,aes-128-gcm,aes-256-cbc,aes-128-cbc" ]
}

@test "sign: the announced capabilities follow --capabilities, the environment and the configuration" {
	for p in cbc openssl-smime neomutt mutt s-nail gpgsm nss; do
		sign --capabilities $p "$T/msg" >"$T/s"
		[ "$(caps "$T/s")" = "aes-256-cbc,aes-128-cbc" ]
	done
	sign --capabilities aes-128-cbc,aes-256-gcm "$T/msg" >"$T/s"
	[ "$(caps "$T/s")" = "aes-128-cbc,aes-256-gcm" ]
	echo "capabilities neomutt" >"$T/conf"
	sign -C "$T/conf" "$T/msg" >"$T/s"
	[ "$(caps "$T/s")" = "aes-256-cbc,aes-128-cbc" ]
	SECMAIL_CAPABILITIES=aes-128-gcm sign -C "$T/conf" "$T/msg" >"$T/s"
	[ "$(caps "$T/s")" = "aes-128-gcm" ]
	SECMAIL_CAPABILITIES=aes-128-gcm sign -C "$T/conf" --capabilities secmail "$T/msg" >"$T/s"
	[ "$(caps "$T/s")" = "aes-256-gcm,aes-128-gcm,aes-256-cbc,aes-128-cbc" ]
	# opaque signatures carry them too
	sign --opaque --capabilities cbc "$T/msg" >"$T/o"
	python3 -c '
import email, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
open(sys.argv[2], "wb").write(m.get_payload(decode=True))' "$T/o" "$T/o.der"
	openssl cms -cmsout -print -inform DER -in "$T/o.der" | grep -A8 'S/MIME Capabilities' >"$T/p"
	grep -q ':aes-256-cbc' "$T/p"
	refute grep -q 'gcm' "$T/p"
}

@test "sign: a capability list that is not ours is refused: 64 from the command line, 78 from the configuration" {
	for bad in des-ede3-cbc rc2-40 aes-256-gcm,aes-256-gcm "" ",,"; do
		run --separate-stderr sign --capabilities "$bad" "$T/msg"
		assert_failure 64
		[ -z "$output" ]
	done
	echo "capabilities outlook" >"$T/conf"
	run --separate-stderr sign -C "$T/conf" "$T/msg"
	assert_failure 78
	[[ $stderr == *"capabilities: 'outlook' is neither a preset"* ]]
}

@test "sign: the cbc presets say the truth: openssl smime and NSS cannot read GCM, and correspondents then encrypt with CBC" {
	# What the presets are for: these readers cannot open authEnveloped-data ...
	printf 'From: bob@example.org\nTo: alice@example.org\nSubject: s\n\nsecret\n' >"$T/p"
	smime-encrypt --no-self --cipher aes-256-gcm -r "$PKI/alice.pem" "$T/p" >"$T/gcm"
	run openssl smime -decrypt -in "$T/gcm" -recip "$PKI/alice.pem" -inkey "$PKI/alice.key"
	assert_failure
	sed '1,/^$/d' "$T/gcm" | base64 -d >"$T/gcm.der"
	mkdir "$T/nss"
	certutil -N -d "sql:$T/nss" --empty-password
	openssl pkcs12 -export -legacy -inkey "$PKI/alice.key" -in "$PKI/alice.pem" -passout pass:x -out "$T/a.p12"
	pk12util -i "$T/a.p12" -d "sql:$T/nss" -W x >/dev/null
	run cmsutil -D -d "sql:$T/nss" -i "$T/gcm.der"
	assert_failure
	# ... so a signer who reads mail with them announces CBC, the correspondent's
	# smime-encrypt (RFC 8551 section 2.7.1) chooses CBC, and the reader opens it.
	sign --capabilities neomutt "$T/msg" >"$T/s"
	smime-verify --ca-file "$PKI/ca.pem" --save-certs "$T/store" "$T/s" | grep -q 'smime=pass'
	smime-encrypt --no-self --cert-dir "$T/store" -R alice@example.org --recipients-only "$T/p" >"$T/cbc"
	openssl smime -decrypt -in "$T/cbc" -recip "$PKI/alice.pem" -inkey "$PKI/alice.key" | grep -q secret
	sed '1,/^$/d' "$T/cbc" | base64 -d >"$T/cbc.der"
	cmsutil -D -d "sql:$T/nss" -i "$T/cbc.der" | grep -q secret
	# with the default, GCM
	sign "$T/msg" >"$T/s"
	rm -rf "$T/store"
	smime-verify --ca-file "$PKI/ca.pem" --save-certs "$T/store" "$T/s" >/dev/null
	smime-encrypt --no-self --cert-dir "$T/store" -R alice@example.org --recipients-only "$T/p" \
		| grep -q 'smime-type=authEnveloped-data'
}

# ---- PKCS#12 in the legacy layout ----

@test "sign: a PKCS#12 file with pbeWithSHA1And40BitRC2-CBC is read; without the legacy provider: 69, saying what to do" {
	openssl pkcs12 -export -legacy -inkey "$PKI/alice.key" -in "$PKI/alice.pem" -certfile "$PKI/int.pem" \
		-passout "file:$PKI/pass.txt" -out "$T/legacy.p12"
	openssl pkcs12 -legacy -info -noout -in "$T/legacy.p12" -passin "file:$PKI/pass.txt" 2>&1 \
		| grep -q 'pbeWithSHA1And40BitRC2-CBC'
	smime-sign --p12 "$T/legacy.p12" --pass-file "$PKI/pass.txt" "$T/msg" >"$T/s"
	smime-verify -E --ca-file "$PKI/ca.pem" "$T/s" | grep -q 'smime=pass'
	# the chain came out of the bundle too
	split_signed "$T/s" "$T/c" "$T/sig.der"
	openssl cms -cmsout -print -inform DER -in "$T/sig.der" | grep -q 'CN=Test Intermediate CA'
	run --separate-stderr env OPENSSL_MODULES=/nonexistent smime-sign --p12 "$T/legacy.p12" \
		--pass-file "$PKI/pass.txt" "$T/msg"
	assert_failure 69
	[ -z "$output" ]
	[[ $stderr == *"legacy.p12: the PKCS#12 file is protected with a legacy algorithm (such as RC2 with a 40-bit key) and OpenSSL's legacy provider cannot be loaded; convert the file with"* ]]
	# a wrong passphrase is still just that
	echo wrong >"$T/wrong"
	run --separate-stderr smime-sign --p12 "$T/legacy.p12" --pass-file "$T/wrong" "$T/msg"
	assert_failure 65
	[[ $stderr == *"wrong passphrase"* ]]
}

# ---- smime-encrypt ----

@test "encrypt: an expired recipient certificate is refused, naming the address and since when" {
	printf 'From: alice@example.org\nTo: expired@example.org\nSubject: s\n\nx\n' >"$T/m"
	run --separate-stderr smime-encrypt --no-self -r "$PKI/expired.pem" "$T/m"
	assert_failure 65
	[ -z "$output" ]
	days=$(( ($(date +%s) - $(date -u -d 2021-01-01 +%s)) / 86400 ))
	[[ $stderr == *"expired@example.org: certificate has expired (since 2021-01-01 00:00:00 UTC, $days days ago)"* ]]
	# SECMAIL_NOW is the clock: bob's certificate, once it has expired
	na=$(notafter bob)
	printf 'From: alice@example.org\nTo: bob@example.org\nSubject: s\n\nx\n' >"$T/m"
	SECMAIL_NOW=$((na + 2 * 86400)) run --separate-stderr smime-encrypt --no-self -r "$PKI/bob.pem" "$T/m"
	assert_failure 65
	[[ $stderr == *"bob@example.org: certificate has expired (since $(utc "$na"), 2 days ago)"* ]]
	nb=$(notbefore bob)
	SECMAIL_NOW=$((nb - 60)) run --separate-stderr smime-encrypt --no-self -r "$PKI/bob.pem" "$T/m"
	assert_failure 65
	[[ $stderr == *"bob@example.org: certificate is not yet valid (not before $(utc "$nb"))"* ]]
}
