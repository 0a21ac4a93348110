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
	# the signing certificate alone: the intermediate ends a day earlier (see below)
	sign1() { smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" "$@"; }
	na=$(notafter alice)
	SECMAIL_NOW=$((na - 10 * 86400 - 60)) run --separate-stderr sign1 "$T/msg"
	assert_success
	[[ $output == *"multipart/signed"* ]]
	[ "$stderr" = "smime-sign: warning: the signing certificate expires on $(utc "$na"), in 10 days: renew it" ]
	# 31 days before: silent
	SECMAIL_NOW=$((na - 31 * 86400)) run --separate-stderr sign1 "$T/msg"
	assert_success
	[ -z "$stderr" ]
	# the window: option, environment, configuration; 0 turns the warning off
	SECMAIL_NOW=$((na - 31 * 86400)) run --separate-stderr sign1 --expiry-warning 40 "$T/msg"
	[[ $stderr == *"in 31 days: renew it" ]]
	SECMAIL_NOW=$((na - 31 * 86400)) SECMAIL_EXPIRY_WARNING=40 run --separate-stderr sign1 "$T/msg"
	[[ $stderr == *"in 31 days: renew it" ]]
	echo "expiry_warning 40" >"$T/conf"
	SECMAIL_NOW=$((na - 31 * 86400)) run --separate-stderr sign1 -C "$T/conf" "$T/msg"
	[[ $stderr == *"in 31 days: renew it" ]]
	SECMAIL_NOW=$((na - 86400)) run --separate-stderr sign1 --expiry-warning 0 "$T/msg"
	assert_success
	[ -z "$stderr" ]
	# the day it expires: refused
	SECMAIL_NOW=$((na + 1)) run --separate-stderr sign1 "$T/msg"
	assert_failure 65
	run --separate-stderr sign1 --expiry-warning soon "$T/msg"
	assert_failure 64
	echo "expiry_warning soon" >"$T/conf"
	run --separate-stderr sign1 -C "$T/conf" "$T/msg"
	assert_failure 78
}

# ---- expiry of the other certificates the signature carries (issue 13, item 1) ----

# selfcert NAME DAYS [FAKETIME]: a self-signed CA certificate "/CN=NAME" valid for DAYS from
# now (or from the faketime clock spec), in $T/NAME.pem
selfcert() {
	${3:+faketime -f "$3"} openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.pem" \
		-subj "/CN=$1" -days "$2" -addext basicConstraints=critical,CA:true 2>/dev/null
}
# subj FILE: the subject as RFC 2253 text (what the messages name)
subj() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }

# oldint: an old copy of the intermediate (same name and key, issued by the root 400 days ago
# for 30 days), as a chain file that was never updated holds it, in $T/int-old.pem
oldint() {
	openssl req -new -key "$PKI/int.key" -subj "/CN=Test Intermediate CA" -out "$T/int.csr"
	printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$T/int.ext"
	faketime -f -400d openssl x509 -req -in "$T/int.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" \
		-set_serial 4242 -days 30 -extfile "$T/int.ext" -out "$T/int-old.pem" 2>/dev/null
	old_nb=$(date -u -d "$(openssl x509 -in "$T/int-old.pem" -noout -startdate | sed 's/notBefore=//')" +%s)
	old_na=$(date -u -d "$(openssl x509 -in "$T/int-old.pem" -noout -enddate | sed 's/notAfter=//')" +%s)
}

@test "sign: an expired intermediate in --chain is refused (65), naming its subject and dates; nothing written" {
	oldint
	# why: a signature that carries it does not verify for anyone (openssl cms as the reader)
	openssl cms -sign -nodetach -binary -in "$T/msg" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" \
		-certfile "$T/int-old.pem" -outform DER -out "$T/ossl.der"
	run openssl cms -verify -binary -inform DER -in "$T/ossl.der" -CAfile "$PKI/ca.pem" -purpose any -out /dev/null
	assert_failure
	[[ $output == *"certificate has expired"* ]]
	run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$T/int-old.pem" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[ "$stderr" = "smime-sign: cannot sign: the certificate \"CN=Test Intermediate CA\" in the chain expired on $(utc "$old_na") (it was valid from $(utc "$old_nb") to $(utc "$old_na"))" ]
	# the same certificate in the --cert file (as its chain) and in a PKCS#12 bundle
	cat "$PKI/alice.pem" "$T/int-old.pem" >"$T/alice-old.pem"
	run --separate-stderr smime-sign --cert "$T/alice-old.pem" --key "$PKI/alice.key" "$T/msg"
	assert_failure 65
	[[ $stderr == *"\"CN=Test Intermediate CA\" in the chain expired on $(utc "$old_na")"* ]]
	openssl pkcs12 -export -inkey "$PKI/alice.key" -in "$PKI/alice.pem" -certfile "$T/int-old.pem" \
		-passout "file:$PKI/pass.txt" -out "$T/old.p12"
	run --separate-stderr smime-sign --p12 "$T/old.p12" --pass-file "$PKI/pass.txt" "$T/msg"
	assert_failure 65
	[[ $stderr == *"\"CN=Test Intermediate CA\" in the chain expired on $(utc "$old_na")"* ]]
	# a certificate of 2020 put into the chain file
	cat "$PKI/int.pem" "$PKI/expired.pem" >"$T/chain"
	run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$T/chain" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[ "$stderr" = "smime-sign: cannot sign: the certificate \"$(subj "$PKI/expired.pem")\" in the chain expired on 2021-01-01 00:00:00 UTC (it was valid from 2020-01-01 00:00:00 UTC to 2021-01-01 00:00:00 UTC)" ]
	# with the current intermediate instead, it signs and the signature verifies
	sign "$T/msg" >"$T/s"
	smime-verify -E --ca-file "$PKI/ca.pem" "$T/s" | grep -q 'smime=pass'
}

@test "sign: a chain certificate that is not valid yet is refused, naming when it will be" {
	selfcert "Future CA" 30 "+5d"
	nb=$(date -u -d "$(openssl x509 -in "$T/Future CA.pem" -noout -startdate | sed 's/notBefore=//')" +%s)
	na=$(date -u -d "$(openssl x509 -in "$T/Future CA.pem" -noout -enddate | sed 's/notAfter=//')" +%s)
	[ "$nb" -gt "$(date +%s)" ]
	cat "$PKI/int.pem" "$T/Future CA.pem" >"$T/chain"
	run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$T/chain" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[ "$stderr" = "smime-sign: cannot sign: the certificate \"CN=Future CA\" in the chain is not valid before $(utc "$nb") (it is valid from $(utc "$nb") to $(utc "$na"))" ]
}

@test "sign: a chain certificate expiring within --expiry-warning DAYS is warned about, naming it, and the message is signed" {
	selfcert "Short CA" 5
	na=$(date -u -d "$(openssl x509 -in "$T/Short CA.pem" -noout -enddate | sed 's/notAfter=//')" +%s)
	cat "$PKI/int.pem" "$T/Short CA.pem" >"$T/chain"
	run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$T/chain" "$T/msg"
	assert_success
	[[ $output == *"multipart/signed"* ]]
	[[ $stderr =~ ^"smime-sign: warning: the certificate \"CN=Short CA\" in the chain expires on $(utc "$na"), in "[45]" days: renew it"$ ]]
	# outside the window, or with the warning off: silent
	run --separate-stderr smime-sign --expiry-warning 3 --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$T/chain" "$T/msg"
	assert_success
	[ -z "$stderr" ]
	SECMAIL_EXPIRY_WARNING=0 run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$T/chain" "$T/msg"
	assert_success
	[ -z "$stderr" ]
	# the intermediate near its end: the warning names it beside the signing certificate's
	int_na=$(notafter int)
	SECMAIL_NOW=$((int_na - 10 * 86400 - 60)) run --separate-stderr sign "$T/msg"
	assert_success
	[[ $stderr == *"smime-sign: warning: the signing certificate expires on $(utc "$(notafter alice)")"* ]]
	[[ $stderr == *"smime-sign: warning: the certificate \"CN=Test Intermediate CA\" in the chain expires on $(utc "$int_na"), in 10 days: renew it"* ]]
}

@test "sign: an expired --encrypt-cert is refused (replies would go to a dead key); one expiring soon is warned about" {
	run --separate-stderr sign --encrypt-cert "$PKI/expired.pem" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[ "$stderr" = "smime-sign: cannot sign: the certificate \"$(subj "$PKI/expired.pem")\" given with --encrypt-cert expired on 2021-01-01 00:00:00 UTC (it was valid from 2020-01-01 00:00:00 UTC to 2021-01-01 00:00:00 UTC)" ]
	# not yet valid
	selfcert "Future" 30 "+5d"
	nb=$(date -u -d "$(openssl x509 -in "$T/Future.pem" -noout -startdate | sed 's/notBefore=//')" +%s)
	run --separate-stderr sign --encrypt-cert "$T/Future.pem" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == "smime-sign: cannot sign: the certificate \"CN=Future\" given with --encrypt-cert is not valid before $(utc "$nb") (it is valid from"* ]]
	# expiring within the window: a warning, and the signature still carries it
	na=$(notafter aliceenc)
	SECMAIL_NOW=$((na - 3 * 86400 - 60)) run --separate-stderr sign --expiry-warning 2 \
		--encrypt-cert "$PKI/aliceenc.pem" "$T/msg"
	assert_success
	[ -z "$stderr" ]
	SECMAIL_NOW=$((na - 3 * 86400 - 60)) run --separate-stderr sign --encrypt-cert "$PKI/aliceenc.pem" "$T/msg"
	assert_success
	[[ $stderr == *"smime-sign: warning: the certificate \"$(subj "$PKI/aliceenc.pem")\" given with --encrypt-cert expires on $(utc "$na"), in 3 days: renew it"* ]]
	printf '%s\n' "$output" >"$T/s"
	split_signed "$T/s" "$T/c" "$T/sig.der"
	openssl cms -cmsout -print -inform DER -in "$T/sig.der" | grep -q 'CN=aliceenc'
}

@test "sign: batch mode checks the chain and --encrypt-cert once, before any message, and writes nothing when refused" {
	mkdir "$T/in" "$T/out"
	for i in 1 2 3; do sample_msg >"$T/in/m$i.eml"; done
	run --separate-stderr sign --encrypt-cert "$PKI/expired.pem" --out-dir "$T/out" "$T"/in/*.eml
	assert_failure 65
	[[ $stderr == "smime-sign: cannot sign: the certificate \"$(subj "$PKI/expired.pem")\" given with --encrypt-cert expired on 2021-01-01"* ]]
	[ -z "$(ls -A "$T/out")" ]
	oldint
	run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		--chain "$T/int-old.pem" --out-dir "$T/out" "$T"/in/*.eml
	assert_failure 65
	[[ $stderr == *"\"CN=Test Intermediate CA\" in the chain expired"* ]]
	[ -z "$(ls -A "$T/out")" ]
	# the warning comes once for the whole batch, not once per message
	int_na=$(notafter int)
	SECMAIL_NOW=$((int_na - 10 * 86400)) run --separate-stderr sign --expiry-warning 0 --out-dir "$T/out" "$T"/in/*.eml
	assert_success
	[ "$(printf '%s\n' "$stderr" | grep -c 'in the chain expires')" = 0 ]
	rm -f "$T"/out/*
	SECMAIL_NOW=$((int_na - 10 * 86400)) run --separate-stderr sign --expiry-warning 20 --out-dir "$T/out" "$T"/in/*.eml
	assert_success
	[ "$(printf '%s\n' "$stderr" | grep -c '"CN=Test Intermediate CA" in the chain expires')" = 1 ]
	[ "$(ls "$T/out" | wc -l)" = 3 ]
}

@test "sign: with two signers, the second one's chain is checked too" {
	# a second certificate for alice's key, and the second --cert file carries a chain
	openssl req -x509 -key "$PKI/alice.key" -out "$T/alice2.pem" -subj "/CN=alice2/emailAddress=alice@example.org" \
		-days 20 -addext subjectAltName=email:alice@example.org -addext keyUsage=critical,digitalSignature \
		-addext extendedKeyUsage=emailProtection 2>/dev/null
	cat "$T/alice2.pem" "$PKI/expired.pem" >"$T/alice2-full.pem"
	run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		--cert "$T/alice2.pem" --key "$PKI/alice.key" "$T/msg"
	assert_success
	# 20 days: within the default window, named as a signing certificate
	[[ $stderr =~ ^"smime-sign: warning: the signing certificate expires on ".*", in "(19|20)" days: renew it"$ ]]
	run --separate-stderr smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		--cert "$T/alice2-full.pem" --key "$PKI/alice.key" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	# (after the warning about alice2 itself)
	[[ $stderr == *"
smime-sign: cannot sign: the certificate \"$(subj "$PKI/expired.pem")\" in the chain expired on 2021-01-01 00:00:00 UTC"* ]]
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
