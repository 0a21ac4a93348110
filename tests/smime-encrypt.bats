#!/usr/bin/env bats
# smime-encrypt: outer fields byte-exact, the entity canonical inside an envelope that
# openssl cms, gpgsm and NSS cmsutil open; recipients, Bcc, algorithms, re-wrapping for a
# list, and failures that write nothing.

load helpers/common
load helpers/smimeenv

setup_file() {
	export PKI="$BATS_FILE_TMPDIR/pki"
	envpki "$PKI"
}

setup() {
	env_setup
	outer_of "$T/msg" >"$T/outer"
}
teardown() { common_teardown; }
# smime-decrypt's output without its Secmail-Decryption record (fails when there is none)
unrec() { python3 "$TOP/tests/helpers/decrypt-check.py" strip /dev/stdin; }

# odec OUTMSG NAME: decrypt an smime-encrypt output with openssl cms as NAME
odec() {
	payload "$1" "$T/env.der"
	openssl cms -decrypt -binary -inform DER -in "$T/env.der" -inkey "$PKI/$2.key" -recip "$PKI/$2.pem"
}

@test "encrypt: outer fields stay byte-exact, the canonical entity is inside, openssl decrypts" {
	smime-encrypt -r "$PKI/bob.pem" --self "$PKI/alice.pem" "$T/msg" >"$T/out"
	outer_of "$T/out" >"$T/out.outer"
	# every original outer field, in order, byte for byte
	cmp "$T/out.outer" "$T/outer"
	[ "$(hdr "$T/out" Content-Type)" = "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m" ]
	[ "$(hdr "$T/out" Content-Transfer-Encoding)" = "base64" ]
	[ "$(hdr "$T/out" Content-Disposition)" = "attachment; filename=smime.p7m" ]
	odec "$T/out" bob | cmp - "$T/entity"
	odec "$T/out" alice | cmp - "$T/entity"
	# the default algorithm with nothing known about the recipients
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-256-cbc'
}

@test "encrypt: every --cipher is what the envelope says and openssl decrypts it" {
	for c in aes-128-cbc aes-256-cbc aes-128-gcm aes-256-gcm; do
		smime-encrypt --cipher "$c" -r "$PKI/bob.pem" --no-self "$T/msg" >"$T/out"
		odec "$T/out" bob | cmp - "$T/entity"
		openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -qi "algorithm: id-$c\|algorithm: $c"
		case $c in
		*gcm) [ "$(hdr "$T/out" Content-Type)" = "application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m" ] ;;
		*) [ "$(hdr "$T/out" Content-Type)" = "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m" ] ;;
		esac
	done
}

@test "encrypt: --oaep uses RSAES-OAEP and openssl decrypts" {
	smime-encrypt --oaep -r "$PKI/bob.pem" --no-self "$T/msg" >"$T/out"
	odec "$T/out" bob | cmp - "$T/entity"
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q rsaesOaep
}

@test "encrypt: an EC recipient gets ECDH key agreement (RFC 5753), CBC and GCM" {
	for c in aes-256-cbc aes-128-gcm; do
		smime-encrypt --cipher "$c" -r "$PKI/carol.pem" -r "$PKI/bob.pem" --no-self "$T/msg" >"$T/out"
		odec "$T/out" carol | cmp - "$T/entity"
		odec "$T/out" bob | cmp - "$T/entity"
		openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'd.kari'
	done
}

@test "encrypt: smime-decrypt opens it and gives back the message byte-exact, LF and CRLF" {
	smime-encrypt --cipher aes-256-gcm -r "$PKI/bob.pem" --no-self "$T/msg" >"$T/out"
	smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/out" | unrec | cmp - "$T/msg"
	sed 's/$/\r/' "$T/msg" >"$T/msg.crlf"
	smime-encrypt -r "$PKI/bob.pem" --no-self "$T/msg.crlf" >"$T/out"
	refute grep -q $'[^\r]$' <(head -n -1 "$T/out")
	smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/out" | unrec | cmp - "$T/msg.crlf"
	# an mbox "From " line stays in front
	{ printf 'From alice@example.org Sun Nov 29 04:00:00 2026\n'; cat "$T/msg"; } >"$T/mbox"
	smime-encrypt -r "$PKI/bob.pem" --no-self "$T/mbox" >"$T/out"
	head -n 1 "$T/out" | grep -q '^From alice@example.org '
	smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/out" | unrec | cmp - "$T/mbox"
}

@test "encrypt: input that is not a message is refused, nothing written" {
	printf '\nno header at all\n' >"$T/bad"
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" --no-self "$T/bad"
	assert_failure 65
	[ -z "$output" ]
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" --no-self "$T/nonexistent"
	assert_failure 66
}

@test "encrypt: gpgsm decrypts the output (AES-CBC) for a key gpgsm generated" {
	gpgsm_user "$T/gnupg"
	plain_msg gpg@example.org >"$T/msg"
	entity_of "$T/msg" >"$T/entity"
	for c in aes-128-cbc aes-256-cbc; do
		smime-encrypt --cipher "$c" -r "$GNUPGHOME/gpg.pem" --no-self "$T/msg" >"$T/out"
		payload "$T/out" "$T/env.der"
		$G --decrypt "$T/env.der" 3< <(echo '') >"$T/dec"
		cmp "$T/dec" "$T/entity"
	done
	gpgconf --kill all || true
}

@test "encrypt: NSS cmsutil decrypts the output (AES-CBC)" {
	mkdir "$T/nss"
	certutil -N -d "sql:$T/nss" --empty-password
	openssl pkcs12 -export -in "$PKI/bob.pem" -inkey "$PKI/bob.key" -out "$T/bob.p12" -passout pass:pw -name bob
	pk12util -i "$T/bob.p12" -d "sql:$T/nss" -W pw
	smime-encrypt --cipher aes-256-cbc -r "$PKI/bob.pem" --no-self "$T/msg" >"$T/out"
	payload "$T/out" "$T/env.der"
	cmsutil -D -d "sql:$T/nss" -i "$T/env.der" -o "$T/dec"
	cmp "$T/dec" "$T/entity"
}

@test "encrypt: To and Cc are found in the certificate store (--cert-dir, SECMAIL_CERT_DIR)" {
	store_entry "$T/store" bob
	store_entry "$T/store" carol
	store_entry "$T/store" alice
	plain_msg bob@example.org "Cc: Carol <carol@example.org>" >"$T/m2"
	smime-encrypt --cert-dir "$T/store" --self "$PKI/alice.pem" "$T/m2" >"$T/out"
	payload "$T/out" "$T/env.der"
	[ "$(nrecips "$T/env.der")" = 3 ]
	odec "$T/out" carol | cmp - <(entity_of "$T/m2")
	SECMAIL_CERT_DIR="$T/store" smime-encrypt -R alice@example.org --no-self "$T/m2" >"$T/out"
	odec "$T/out" alice | cmp - <(entity_of "$T/m2")
	odec "$T/out" bob >/dev/null
}

@test "encrypt: the cipher follows the stored SMIMECapabilities (RFC 8551 section 2.7)" {
	store_entry "$T/store" bob "$OID_AES128GCM" "$OID_AES256GCM" "$OID_AES256CBC"
	smime-encrypt --cert-dir "$T/store" --no-self "$T/msg" >"$T/out"
	odec "$T/out" bob | cmp - "$T/entity"
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-128-gcm'
	[ "$(hdr "$T/out" Content-Type)" = "application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m" ]
	# two recipients: the first of bob's list that carol announced too
	store_entry "$T/store" bob "$OID_DES3" "$OID_AES256GCM" "$OID_AES256CBC" "$OID_AES128CBC"
	store_entry "$T/store" carol "$OID_AES128CBC" "$OID_AES256CBC"
	plain_msg "bob@example.org, carol@example.org" >"$T/m2"
	smime-encrypt --cert-dir "$T/store" --no-self "$T/m2" >"$T/out"
	odec "$T/out" carol >/dev/null
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-256-cbc'
	# carol announced nothing: only CBC, in bob's order
	store_entry "$T/store" bob "$OID_AES256GCM" "$OID_AES128CBC"
	store_entry "$T/store" carol
	smime-encrypt --cert-dir "$T/store" --no-self "$T/m2" >"$T/out"
	odec "$T/out" bob >/dev/null
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-128-cbc'
	# --cipher overrides
	smime-encrypt --cipher aes-256-gcm --cert-dir "$T/store" --no-self "$T/m2" >"$T/out"
	odec "$T/out" bob >/dev/null
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-256-gcm'
}

@test "encrypt: an expired certificate in the store is refused with its address" {
	store_entry "$T/store" erin
	plain_msg erin@example.org >"$T/m2"
	run --separate-stderr smime-encrypt --cert-dir "$T/store" --no-self "$T/m2"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"erin@example.org: certificate has expired"* ]]
}

@test "encrypt: a To recipient without a certificate: nothing written, each address listed" {
	plain_msg "bob@example.org, nobody@example.org" "Cc: ghost@example.org" >"$T/m2"
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" --no-self "$T/m2"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"nobody@example.org"* ]]
	[[ $stderr == *"ghost@example.org"* ]]
	[[ $stderr != *"bob@example.org"* ]]
}

@test "encrypt: expired, signing-only and non-emailProtection certificates are refused" {
	for who in erin frank gina; do
		run --separate-stderr smime-encrypt -r "$PKI/$who.pem" --no-self "$T/msg"
		assert_failure 65
		[ -z "$output" ]
		[[ $stderr == *"$who@example.org"* ]]
	done
	run --separate-stderr smime-encrypt -r "$PKI/erin.pem" --no-self "$T/msg"
	[[ $stderr == *"expired"* ]]
}

@test "encrypt: recipients are de-duplicated" {
	# the domain compares case-insensitively, the local part exactly (RFC 8550 section 3)
	plain_msg "bob@example.org, Bob <bob@EXAMPLE.ORG>" "Cc: bob@example.org" >"$T/m2"
	smime-encrypt -r "$PKI/bob.pem" -r "$PKI/bob.pem" --self "$PKI/bob.pem" "$T/m2" >"$T/out"
	payload "$T/out" "$T/env.der"
	[ "$(nrecips "$T/env.der")" = 1 ]
	smime-encrypt -r "$PKI/bob.pem" -r "$PKI/carol.pem" --self "$PKI/alice.pem" "$T/m2" >"$T/out"
	payload "$T/out" "$T/env.der"
	[ "$(nrecips "$T/env.der")" = 3 ]
}

@test "encrypt: without a sender certificate it says so once and goes on" {
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" "$T/msg"
	assert_success
	[ "$(grep -c 'sender' <<<"$stderr")" = 1 ]
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" --no-self "$T/msg"
	assert_success
	[ -z "$stderr" ]
}

@test "encrypt: Bcc recipients are refused without --bcc-dir, and nothing is written" {
	plain_msg bob@example.org "Bcc: dave@example.org" >"$T/m2"
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" -r "$PKI/dave.pem" --no-self "$T/m2"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"dave@example.org"* ]]
	[[ $stderr == *"--bcc-dir"* ]]
}

@test "encrypt: --bcc-dir writes one separate copy per Bcc recipient; the main one hides them" {
	plain_msg bob@example.org "Bcc: dave@example.org, carol@example.org" >"$T/m2"
	mkdir "$T/bcc"
	smime-encrypt -r "$PKI/bob.pem" -r "$PKI/dave.pem" -r "$PKI/carol.pem" --self "$PKI/alice.pem" \
		--bcc-dir "$T/bcc" "$T/m2" >"$T/out"
	refute grep -qi '^Bcc:' "$T/out"
	payload "$T/out" "$T/env.der"
	[ "$(nrecips "$T/env.der")" = 2 ]	# bob and alice only
	odec "$T/out" bob >/dev/null
	run openssl cms -decrypt -binary -inform DER -in "$T/env.der" -inkey "$PKI/dave.key" -recip "$PKI/dave.pem"
	assert_failure
	[ "$(ls "$T/bcc" | sort | tr '\n' ' ')" = "bcc-carol@example.org.eml bcc-dave@example.org.eml " ]
	[ "$(hdr "$T/bcc/bcc-dave@example.org.eml" Bcc)" = "dave@example.org" ]
	[ "$(hdr "$T/bcc/bcc-dave@example.org.eml" To)" = "bob@example.org" ]
	payload "$T/bcc/bcc-dave@example.org.eml" "$T/d.der"
	[ "$(nrecips "$T/d.der")" = 2 ]	# dave and alice
	openssl cms -decrypt -binary -inform DER -in "$T/d.der" -inkey "$PKI/dave.key" -recip "$PKI/dave.pem" \
		| cmp - <(entity_of "$T/m2")
	run openssl cms -decrypt -binary -inform DER -in "$T/d.der" -inkey "$PKI/bob.key" -recip "$PKI/bob.pem"
	assert_failure
	smime-decrypt --strict --cert "$PKI/carol.pem" --key "$PKI/carol.key" "$T/bcc/bcc-carol@example.org.eml" >/dev/null
}

@test "attack: a Bcc recipient with two certificates (-r twice) is in neither copy but their own: the shared envelope names none of their keys" {
	# dave's second certificate (a renewal, say), with its own key
	openssl req -new -newkey rsa:2048 -nodes -keyout "$T/dave2.key" -out "$T/dave2.csr" \
		-subj "/CN=dave2/emailAddress=dave@example.org" \
		-addext "subjectAltName=email:dave@example.org" -addext keyUsage=keyEncipherment 2>/dev/null
	openssl x509 -req -in "$T/dave2.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -days 30 \
		-copy_extensions copy -set_serial 777 -out "$T/dave2.pem" 2>/dev/null
	plain_msg bob@example.org "Bcc: dave@example.org" >"$T/m2"
	mkdir "$T/bcc"
	smime-encrypt -r "$PKI/bob.pem" -r "$PKI/dave.pem" -r "$T/dave2.pem" --self "$PKI/alice.pem" \
		--bcc-dir "$T/bcc" "$T/m2" >"$T/out"
	payload "$T/out" "$T/env.der"
	[ "$(nrecips "$T/env.der")" = 2 ]	# bob and alice only
	for k in "$PKI/dave" "$T/dave2"; do
		run openssl cms -decrypt -binary -inform DER -in "$T/env.der" -inkey "$k.key" -recip "$k.pem"
		assert_failure
	done
	# dave's copy opens with either of dave's keys (and the sender's), not with bob's
	payload "$T/bcc/bcc-dave@example.org.eml" "$T/d.der"
	[ "$(nrecips "$T/d.der")" = 3 ]
	for k in "$PKI/dave" "$T/dave2"; do
		openssl cms -decrypt -binary -inform DER -in "$T/d.der" -inkey "$k.key" -recip "$k.pem" |
			cmp - <(entity_of "$T/m2")
	done
	run openssl cms -decrypt -binary -inform DER -in "$T/d.der" -inkey "$PKI/bob.key" -recip "$PKI/bob.pem"
	assert_failure
}

@test "encrypt: only Bcc recipients: the sender keeps the main copy; without one it is refused" {
	printf 'From: alice@example.org\nTo: undisclosed-recipients:;\nBcc: bob@example.org\nSubject: x\n\nhi\n' >"$T/m2"
	mkdir "$T/bcc"
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" --no-self --bcc-dir "$T/bcc" "$T/m2"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"only Bcc recipients"* ]]
	smime-encrypt -r "$PKI/bob.pem" --self "$PKI/alice.pem" --bcc-dir "$T/bcc" "$T/m2" >"$T/out"
	payload "$T/out" "$T/env.der"
	[ "$(nrecips "$T/env.der")" = 1 ]
	odec "$T/out" alice >/dev/null
	smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/bcc/bcc-bob@example.org.eml" >"$T/dec"
	grep -q '^Bcc: bob@example.org' "$T/dec"
}

@test "encrypt: weak ciphers only with --allow-weak, with a warning; unknown ones refused" {
	run --separate-stderr smime-encrypt --cipher des-ede3-cbc -r "$PKI/bob.pem" --no-self "$T/msg"
	assert_failure 64
	[ -z "$output" ]
	run --separate-stderr smime-encrypt --cipher des-ede3-cbc --allow-weak -r "$PKI/bob.pem" --no-self "$T/msg"
	assert_success
	[[ $stderr == *"weak"* ]]
	printf '%s\n' "$output" >"$T/out"
	odec "$T/out" bob | cmp - "$T/entity"
	run --separate-stderr smime-encrypt --cipher rc2-40 --allow-weak -r "$PKI/bob.pem" --no-self "$T/msg"
	assert_failure 64
}

@test "encrypt: a message without Content-Type gets text/plain explicitly inside" {
	printf 'From: alice@example.org\nTo: bob@example.org\nSubject: x\n\nhi\n' >"$T/m2"
	smime-encrypt -r "$PKI/bob.pem" --no-self "$T/m2" >"$T/out"
	odec "$T/out" bob | cmp - <(printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nhi\r\n')
	[ "$(hdr "$T/out" MIME-Version)" = "1.0" ]
}

@test "encrypt: --rewrap re-wraps for the members; they read it, the list key no longer does" {
	for c in aes-256-cbc aes-256-gcm; do
		plain_msg list@example.org >"$T/m2"
		smime-encrypt --cipher "$c" -r "$PKI/list.pem" --no-self "$T/m2" >"$T/tolist"
		smime-encrypt --rewrap --cert "$PKI/list.pem" --key "$PKI/list.key" \
			-r "$PKI/m1.pem" -r "$PKI/m2.pem" "$T/tolist" >"$T/out"
		outer_of "$T/out" | cmp - <(outer_of "$T/tolist")
		odec "$T/out" m1 | cmp - <(entity_of "$T/m2")
		odec "$T/out" m2 | cmp - <(entity_of "$T/m2")
		smime-decrypt --strict --cert "$PKI/m1.pem" --key "$PKI/m1.key" "$T/out" | unrec | cmp - "$T/m2"
		run --separate-stderr smime-decrypt --strict --cert "$PKI/list.pem" --key "$PKI/list.key" "$T/out"
		assert_failure 65
		[ -z "$output" ]
		# the encrypted content itself was not re-encrypted: same ciphertext bytes
		payload "$T/tolist" "$T/a.der"
		payload "$T/out" "$T/b.der"
		python3 - "$T/a.der" "$T/b.der" <<'PY'
import sys
a = open(sys.argv[1], 'rb').read(); b = open(sys.argv[2], 'rb').read()
# the last 64 ciphertext bytes of the original appear in the re-wrapped one
tail = a[-200:-150]
assert tail in b, "content changed"
PY
	done
}

@test "encrypt: --rewrap takes members from a list file via the store, and the list key from PKCS#12" {
	store_entry "$T/store" m1
	store_entry "$T/store" m2
	printf '# members\nm1@example.org\n  m2@example.org  \n\n' >"$T/members"
	printf 'pw\n' >"$T/pass"
	openssl pkcs12 -export -in "$PKI/list.pem" -inkey "$PKI/list.key" -out "$T/list.p12" -passout pass:pw
	plain_msg list@example.org >"$T/m2"
	smime-encrypt --cipher aes-128-gcm -r "$PKI/list.pem" --no-self "$T/m2" >"$T/tolist"
	smime-encrypt --rewrap --p12 "$T/list.p12" --pass-file "$T/pass" --cert-dir "$T/store" \
		--members "$T/members" "$T/tolist" >"$T/out"
	[ "$(hdr "$T/out" Content-Type)" = "application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m" ]
	payload "$T/out" "$T/env.der"
	[ "$(nrecips "$T/env.der")" = 2 ]
	smime-decrypt --strict --cert "$PKI/m2.pem" --key "$PKI/m2.key" "$T/out" | unrec | cmp - "$T/m2"
	# a member without a certificate: nothing written
	echo ghost@example.org >>"$T/members"
	run --separate-stderr smime-encrypt --rewrap --p12 "$T/list.p12" --pass-file "$T/pass" \
		--cert-dir "$T/store" --members "$T/members" "$T/tolist"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"ghost@example.org"* ]]
}

@test "encrypt: --rewrap of a message not for the list fails and writes nothing" {
	smime-encrypt -r "$PKI/bob.pem" --no-self "$T/msg" >"$T/tobob"
	run --separate-stderr smime-encrypt --rewrap --cert "$PKI/list.pem" --key "$PKI/list.key" \
		-r "$PKI/m1.pem" "$T/tobob"
	assert_failure 65
	[ -z "$output" ]
}

@test "encrypt: sign | encrypt | decrypt | verify round-trips byte-exact with smime=pass" {
	smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" "$T/msg" >"$T/signed"
	for c in aes-256-cbc aes-256-gcm; do
		smime-encrypt --cipher "$c" -r "$PKI/bob.pem" --self "$PKI/alice.pem" <"$T/signed" >"$T/enc"
		smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" <"$T/enc" | unrec >"$T/dec"
		cmp "$T/dec" "$T/signed"
		smime-verify --ca-file "$PKI/ca.pem" <"$T/dec" >"$T/verified"
		grep -q 'smime=pass' "$T/verified"
		smime-verify --ca-file "$PKI/ca.pem" <"$T/signed" | cmp - "$T/verified"
	done
	# and the sender reads her own sent copy
	smime-decrypt --strict --cert "$PKI/alice.pem" --key "$PKI/alice.key" <"$T/enc" | unrec | cmp - "$T/signed"
}

@test "encrypt: the sender certificate defaults to SECMAIL_SELF_CERT, else SECMAIL_CERT" {
	SECMAIL_SELF_CERT="$PKI/alice.pem" smime-encrypt -r "$PKI/bob.pem" "$T/msg" >"$T/out"
	odec "$T/out" alice | cmp - "$T/entity"
	run --separate-stderr env SECMAIL_CERT="$PKI/alice.pem" smime-encrypt -r "$PKI/bob.pem" "$T/msg"
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" >"$T/out"
	odec "$T/out" alice | cmp - "$T/entity"
	# a signing-only SECMAIL_CERT cannot encrypt: skipped with the notice, not an error
	run --separate-stderr env SECMAIL_CERT="$PKI/frank.pem" smime-encrypt -r "$PKI/bob.pem" "$T/msg"
	assert_success
	[[ $stderr == *"no sender certificate"* ]]
	# an explicit --self that cannot encrypt is an error
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" --self "$PKI/frank.pem" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
}

@test "encrypt: what smime-verify --save-certs learnt is used: certificate, capabilities, encryption certificate" {
	"$TOP/tests/helpers/pki" "$T/pki" >/dev/null
	P="$T/pki"
	smime-sign --cert "$P/alice.pem" --key "$P/alice.key" --chain "$P/chain.pem" \
		--encrypt-cert "$P/aliceenc.pem" "$T/msg" >"$T/signed"
	smime-verify --ca-file "$P/ca.pem" --save-certs "$T/store" <"$T/signed" >/dev/null
	printf 'From: bob@example.org\nTo: alice@example.org\nSubject: re\n\nreply\n' >"$T/reply"
	smime-encrypt --cert-dir "$T/store" --no-self "$T/reply" >"$T/out"
	payload "$T/out" "$T/env.der"
	# alice announced AES-256-GCM first (smime-sign's SMIMECapabilities)
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-256-gcm'
	# encrypted to the separate encryption certificate she named, not her signing one
	smime-decrypt --strict --cert "$P/aliceenc.pem" --key "$P/aliceenc.key" "$T/out" >"$T/dec"
	grep -q '^reply' "$T/dec"
	run --separate-stderr smime-decrypt --strict --cert "$P/alice.pem" --key "$P/alice.key" "$T/out"
	assert_failure 65
}

@test "encrypt: defaults from smime.conf: cert_dir, self, cipher, oaep" {
	store_entry "$T/store" bob
	mkdir -p "$T/config/secmail"
	printf 'cert_dir %s\nself %s\ncipher aes-128-gcm\noaep on\n' "$T/store" "$PKI/alice.pem" \
		>"$T/config/secmail/smime.conf"
	chmod 600 "$T/config/secmail/smime.conf"
	run --separate-stderr smime-encrypt "$T/msg"
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" >"$T/out"
	odec "$T/out" alice | cmp - "$T/entity"
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-128-gcm'
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q rsaesOaep
	# options win over the file
	smime-encrypt --cipher aes-256-cbc --no-self "$T/msg" >"$T/out"
	odec "$T/out" bob >/dev/null
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-256-cbc'
	[ "$(nrecips "$T/env.der")" = 1 ]
}

@test "encrypt: a write error is EX_IOERR" {
	run bash -c "smime-encrypt -r '$PKI/bob.pem' --no-self '$T/msg' >/dev/full"
	assert_failure 74
}

@test "encrypt: peak memory stays under 16 MiB for a 128 MiB message" {
	{ cat "$T/outer"; printf 'Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'
	  head -c 100663296 /dev/zero | base64; } >"$T/big"
	rss=$( { /usr/bin/time -f %M smime-encrypt --cipher aes-256-gcm -r "$PKI/bob.pem" --no-self "$T/big" | tail -c 100 >/dev/null; } 2>&1 )
	small=$( { /usr/bin/time -f %M smime-encrypt --cipher aes-256-gcm -r "$PKI/bob.pem" --no-self "$T/msg" >/dev/null; } 2>&1 )
	echo "peak RSS $rss KiB (small message: $small KiB)"
	[ "$rss" -le $((small + 2048)) ]
	asan_build smime-encrypt || [ "$rss" -lt 16384 ]
}

@test "encrypt: the man page is mandoc -Tlint clean" {
	run mandoc -Tlint -W warning "$TOP/man/smime-encrypt.1"
	assert_success
	assert_output ""
}

@test "encrypt: bash, zsh and fish completions load and offer the long options" {
	run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/smime-encrypt' && COMP_WORDS=(smime-encrypt --rew) COMP_CWORD=1 && _smime_encrypt && echo \"\${COMPREPLY[@]}\""
	assert_success
	assert_output --partial -- "--rewrap"
	run zsh -n "$TOP/completions/zsh/_smime-encrypt"
	assert_success
	run zsh -c "fpath=('$TOP/completions/zsh' \$fpath); autoload -U compinit; compinit -u -D; print \$_comps[smime-encrypt]"
	assert_success
	assert_output "_smime-encrypt"
	run fish -c "source '$TOP/completions/fish/smime-encrypt.fish'; complete -C'smime-encrypt --allow'"
	assert_success
	assert_output --partial -- "--allow-weak"
}

@test "encrypt: --help to stdout, unknown option EX_USAGE" {
	run --separate-stderr smime-encrypt --help
	assert_success
	assert_output --partial "usage: smime-encrypt"
	run --separate-stderr smime-encrypt --bogus
	assert_failure 64
}
