#!/usr/bin/env bats
# smime-decrypt: envelopes made by openssl cms, gpgsm, NSS cmsutil and smime-encrypt open
# byte-exact under a Secmail-Decryption record; what cannot be decrypted is written as it came
# with a `failed` record (exit 0, the filter contract), or nothing with --strict.

load helpers/common
load helpers/smimeenv

setup_file() {
	export PKI="$BATS_FILE_TMPDIR/pki"
	envpki "$PKI"
}

setup() {
	# Issue 14: these tests state the behaviour without header protection (RFC 9788),
	# which tests/hp-*.bats covers.
	export SECMAIL_HEADER_PROTECTION=none
	common_setup
	unset SECMAIL_CERT SECMAIL_KEY SECMAIL_P12 SECMAIL_PASS_FILE
	export XDG_CONFIG_HOME="$T/config"
	plain_msg >"$T/msg"
	entity_of "$T/msg" >"$T/entity"
	outer_of "$T/msg" >"$T/outer"
	# what smime-decrypt must give back for an LF message: outer fields, then the entity
	# with LF line ends
	{ cat "$T/outer"; tr -d '\r' <"$T/entity"; } >"$T/want"
}
teardown() { common_teardown; }

# unrec OUT: the output without its (first, only) Secmail-Decryption record; rec OUT: the record
unrec() { python3 "$TOP/tests/helpers/decrypt-check.py" strip "$1"; }
rec() { python3 "$TOP/tests/helpers/decrypt-check.py" record "$1"; }
# as_came IN OUT: OUT is IN under a `failed` record, byte for byte
as_came() { unrec "$2" | cmp - "$1" && rec "$2" | grep -q '; failed reason="'; }

# ossl_msg ARGS...: the entity encrypted by openssl cms, wrapped with the outer fields.
ossl_msg() {
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/ossl.der" "$@" || return 1
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/ossl.der"; } >"$T/in"
}

@test "decrypt: openssl cms AES-128/256-CBC and GCM, RSA PKCS#1 v1.5, decrypts byte-exact" {
	for c in aes-128-cbc aes-256-cbc aes-128-gcm aes-256-gcm; do
		ossl_msg "-$c" "$PKI/bob.pem"
		smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >"$T/out"
		unrec "$T/out" | cmp - "$T/want"
	done
}

@test "decrypt: openssl cms RSA-OAEP recipients decrypt" {
	for c in aes-256-cbc aes-256-gcm; do
		ossl_msg "-$c" -recip "$PKI/bob.pem" -keyopt rsa_padding_mode:oaep
		smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >"$T/out"
		unrec "$T/out" | cmp - "$T/want"
	done
}

@test "decrypt: openssl cms EC (ECDH) recipients decrypt, CBC and GCM" {
	for c in aes-128-cbc aes-256-gcm; do
		ossl_msg "-$c" "$PKI/carol.pem" "$PKI/bob.pem"
		smime-decrypt --cert "$PKI/carol.pem" --key "$PKI/carol.key" "$T/in" >"$T/out"
		unrec "$T/out" | cmp - "$T/want"
	done
}

@test "decrypt: openssl's own S/MIME output (smime.p7m with its MIME header) decrypts" {
	openssl cms -encrypt -aes-256-cbc -in "$T/entity" -binary "$PKI/bob.pem" >"$T/p7m"
	# openssl writes its own MIME-Version; the message already has one
	{ cat "$T/outer"; grep -v '^MIME-Version' "$T/p7m"; } >"$T/in"
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" <"$T/in" >"$T/out"
	unrec "$T/out" | cmp - "$T/want"
}

@test "decrypt: a key alone (no --cert) is tried on every RecipientInfo" {
	ossl_msg -aes-256-cbc "$PKI/alice.pem" "$PKI/bob.pem"
	smime-decrypt --key "$PKI/bob.key" "$T/in" >"$T/out"
	unrec "$T/out" | cmp - "$T/want"
}

@test "decrypt: application/x-pkcs7-mime and CRLF messages" {
	ossl_msg -aes-256-cbc "$PKI/bob.pem"
	sed -i 's|application/pkcs7-mime|application/x-pkcs7-mime|' "$T/in"
	sed 's/$/\r/' "$T/in" >"$T/in.crlf"
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in.crlf" >"$T/out"
	{ sed 's/$/\r/' "$T/outer"; cat "$T/entity"; } | cmp - <(unrec "$T/out")
	# the record too ends in CRLF, like the message
	head -1 "$T/out" | grep -q $'\r$'
}

@test "decrypt: gpgsm --encrypt output decrypts (a key gpgsm generated)" {
	gpgsm_user "$T/gnupg"
	$G --encrypt -r gpg@example.org 3< <(echo '') <"$T/entity" >"$T/g.der"
	gpgconf --kill all || true
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/g.der"; } >"$T/in"
	smime-decrypt --cert "$GNUPGHOME/gpg.pem" --key "$GNUPGHOME/gpg.key" "$T/in" >"$T/out"
	unrec "$T/out" | cmp - "$T/want"
}

@test "decrypt: NSS cmsutil -E output decrypts" {
	mkdir "$T/nss"
	certutil -N -d "sql:$T/nss" --empty-password
	certutil -A -d "sql:$T/nss" -n bob -t ",P," -i "$PKI/bob.pem"
	certutil -A -d "sql:$T/nss" -n ca -t "C,C,C" -i "$PKI/ca.pem"
	cmsutil -E -r bob@example.org -d "sql:$T/nss" -i "$T/entity" -o "$T/n.der"
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/n.der"; } >"$T/in"
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >"$T/out"
	unrec "$T/out" | cmp - "$T/want"
}

@test "decrypt: an enveloped part nested inside multipart/mixed: not decrypted (EFAIL); --extract-nested writes it alone" {
	openssl cms -encrypt -aes-256-gcm -binary -outform DER -in "$T/entity" -out "$T/n.der" "$PKI/bob.pem"
	pre=$'From: a@example.org\nTo: bob@example.org\nSubject: nested\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="XX"\n\npreamble\n--XX\nContent-Type: text/plain\n\nintro text\n--XX\n'
	{ printf '%s' "$pre"
	  printf 'Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/n.der"; printf -- '--XX--\nepilogue\n'; } >"$T/in"
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_success
	printf '%s' "$output" >"$T/out"; echo >>"$T/out"
	as_came "$T/in" "$T/out"
	rec "$T/out" | grep -q 'encrypted part 2 inside multipart/mixed was not decrypted.*EFAIL'
	[[ $stderr == *"EFAIL"* ]]
	# --strict: nothing; --extract-nested: the outer fields and the decrypted entity alone
	run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_failure 65
	[ -z "$output" ]
	smime-decrypt --extract-nested --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >"$T/out"
	rec "$T/out" | grep -q 'decrypted cipher=aes-256-gcm integrity=aead (the encrypted part 2 of multipart/mixed, written alone: the other parts were left out)'
	{ printf 'From: a@example.org\nTo: bob@example.org\nSubject: nested\nMIME-Version: 1.0\n'
	  tr -d '\r' <"$T/entity"; } | cmp - <(unrec "$T/out")
	python3 "$TOP/tests/helpers/decrypt-check.py" parse "$T/out" >"$T/tree"
	[ "$(cat "$T/tree")" = "text/plain Hello Bob," ]
}

@test "decrypt: a multipart without an enveloped part passes through unchanged; --strict refuses it" {
	printf 'From: a@example.org\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nhi\n--XX--\n' >"$T/in"
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" | cmp - "$T/in"
	run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"not an S/MIME encrypted message"* ]]
}

@test "decrypt: keys from PKCS#12 and encrypted PEM, passphrase from file, fd and environment" {
	ossl_msg -aes-256-gcm "$PKI/bob.pem"
	printf 'sekrit pass\n' >"$T/pass"
	openssl pkcs12 -export -in "$PKI/bob.pem" -inkey "$PKI/bob.key" -out "$T/bob.p12" -passout file:"$T/pass"
	openssl pkey -in "$PKI/bob.key" -aes-256-cbc -passout file:"$T/pass" -out "$T/bob-enc.key"
	smime-decrypt --p12 "$T/bob.p12" --pass-file "$T/pass" "$T/in" >"$T/out"; unrec "$T/out" | cmp - "$T/want"
	smime-decrypt --p12 "$T/bob.p12" --pass-fd 3 "$T/in" 3<"$T/pass" >"$T/out"; unrec "$T/out" | cmp - "$T/want"
	SMIME_PASS='sekrit pass' smime-decrypt --cert "$PKI/bob.pem" --key "$T/bob-enc.key" \
		--pass-env SMIME_PASS "$T/in" >"$T/out"; unrec "$T/out" | cmp - "$T/want"
	# no passphrase, or a wrong one: an error, nothing written
	run --separate-stderr smime-decrypt --p12 "$T/bob.p12" "$T/in"
	assert_failure
	[ -z "$output" ]
	run --separate-stderr env SMIME_PASS=wrong smime-decrypt --p12 "$T/bob.p12" --pass-env SMIME_PASS "$T/in"
	assert_failure 78
	[ -z "$output" ]
}

@test "decrypt: the key defaults to SECMAIL_CERT/SECMAIL_KEY or SECMAIL_P12 with SECMAIL_PASS_FILE" {
	ossl_msg -aes-256-cbc "$PKI/bob.pem"
	SECMAIL_CERT="$PKI/bob.pem" SECMAIL_KEY="$PKI/bob.key" smime-decrypt "$T/in" >"$T/out"; unrec "$T/out" | cmp - "$T/want"
	printf 'pw\n' >"$T/pass"
	openssl pkcs12 -export -in "$PKI/bob.pem" -inkey "$PKI/bob.key" -out "$T/bob.p12" -passout pass:pw
	SECMAIL_P12="$T/bob.p12" SECMAIL_PASS_FILE="$T/pass" smime-decrypt "$T/in" >"$T/out"; unrec "$T/out" | cmp - "$T/want"
	# the command line wins
	SECMAIL_CERT="$PKI/alice.pem" SECMAIL_KEY="$PKI/alice.key" smime-decrypt --cert "$PKI/bob.pem" \
		--key "$PKI/bob.key" "$T/in" >"$T/out"; unrec "$T/out" | cmp - "$T/want"
}

@test "decrypt: keys from the configuration file (smime.conf, or --config); environment wins" {
	ossl_msg -aes-256-cbc "$PKI/bob.pem"
	mkdir -p "$T/config/secmail"
	printf 'cert %s\nkey %s\n' "$PKI/bob.pem" "$PKI/bob.key" >"$T/config/secmail/smime.conf"
	chmod 600 "$T/config/secmail/smime.conf"
	smime-decrypt "$T/in" >"$T/out"; unrec "$T/out" | cmp - "$T/want"
	printf 'p12 %s\npass_file %s\n' "$T/bob.p12" "$T/pass" >"$T/other.conf"
	chmod 600 "$T/other.conf"
	printf 'pw\n' >"$T/pass"
	openssl pkcs12 -export -in "$PKI/bob.pem" -inkey "$PKI/bob.key" -out "$T/bob.p12" -passout pass:pw
	smime-decrypt --config "$T/other.conf" "$T/in" >"$T/out"; unrec "$T/out" | cmp - "$T/want"
	# the environment overrides the file: alice's key cannot open it
	env SECMAIL_CERT="$PKI/alice.pem" SECMAIL_KEY="$PKI/alice.key" smime-decrypt "$T/in" >"$T/out"
	as_came "$T/in" "$T/out"
}

@test "decrypt: a message for someone else: written as it came with a failed record; --strict 65, nothing" {
	ossl_msg -aes-256-cbc "$PKI/alice.pem"
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >"$T/out"
	as_came "$T/in" "$T/out"
	rec "$T/out" | grep -q 'failed reason="the message is not encrypted for this certificate'
	run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"not encrypted for this certificate"* ]]
	# -E: the message is written, and the status says it was not decrypted
	run --separate-stderr smime-decrypt -E --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_failure 1
	[[ $output == *"failed reason="* ]]
}

@test "decrypt: the wrong key for the certificate is a configuration error (78), nothing written" {
	ossl_msg -aes-256-cbc "$PKI/bob.pem"
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/dave.key" "$T/in"
	assert_failure 78
	[ -z "$output" ]
}

@test "decrypt: the wrong key alone: written as it came (GCM), --strict 65" {
	ossl_msg -aes-256-gcm "$PKI/bob.pem"
	smime-decrypt --key "$PKI/dave.key" "$T/in" >"$T/out"
	as_came "$T/in" "$T/out"
	run --separate-stderr smime-decrypt --strict --key "$PKI/dave.key" "$T/in"
	assert_failure 65
	[ -z "$output" ]
}

@test "decrypt: tampered GCM content: no plaintext, written as it came (openssl cms writes it)" {
	ossl_msg -aes-256-gcm "$PKI/bob.pem"
	python3 - "$T/ossl.der" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); d[len(d) - 40] ^= 1
open(sys.argv[1], 'wb').write(d)
PY
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/ossl.der"; } >"$T/in"
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_success
	printf '%s\n' "$output" >"$T/out"
	as_came "$T/in" "$T/out"
	rec "$T/out" | grep -q 'failed reason="authentication failed'
	[[ $output != *secret* ]]
	[[ $stderr == *"authentication failed"* ]]
	# the independent implementation shows why spooling matters: it releases plaintext
	run openssl cms -decrypt -inform DER -in "$T/ossl.der" -inkey "$PKI/bob.key" -recip "$PKI/bob.pem"
	assert_failure
	[ -n "$output" ]
}

@test "decrypt: truncated ciphertext at many points: never plaintext, always the message as it came" {
	ossl_msg -aes-256-cbc "$PKI/bob.pem"
	size=$(stat -c %s "$T/ossl.der")
	for cut in 1 10 100 300 $((size / 2)) $((size - 20)) $((size - 1)); do
		head -c "$cut" "$T/ossl.der" >"$T/cut.der"
		{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n'
		  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/cut.der"; } >"$T/in"
		smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >"$T/out" 2>/dev/null
		as_came "$T/in" "$T/out"
		run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
		assert_failure 65
		[ -z "$output" ]
	done
}

@test "decrypt: bad base64 is a failure naming the problem" {
	ossl_msg -aes-256-cbc "$PKI/bob.pem"
	sed -i '$s/.$/!/' "$T/in"
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >"$T/out"
	as_came "$T/in" "$T/out"
	rec "$T/out" | grep -q 'bad base64'
	run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"bad base64"* ]]
}

@test "decrypt: corrupt DER (garbage, not a SEQUENCE) fails with a clear message" {
	head -c 600 /dev/urandom | (printf '\004\001\000'; cat) >"$T/g.der"
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/g.der"; } >"$T/in"
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >"$T/out"
	as_came "$T/in" "$T/out"
	rec "$T/out" | grep -q 'failed reason="malformed CMS data'
	run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"malformed CMS data"* ]]
}

@test "decrypt: an unsupported content-encryption algorithm: a failed record naming it; --strict EX_UNAVAILABLE" {
	ossl_msg -aes-256-cbc "$PKI/bob.pem"
	# aes-256-cbc is 2.16.840.1.101.3.4.1.42; make it .1.99, which nobody implements
	python3 - "$T/ossl.der" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
oid = bytes.fromhex('060960864801650304012a')
assert d.count(oid) == 1
open(sys.argv[1], 'wb').write(d.replace(oid, oid[:-1] + b'\x63'))
PY
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/ossl.der"; } >"$T/in"
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >"$T/out"
	as_came "$T/in" "$T/out"
	rec "$T/out" | grep -q 'algorithm 2.16.840.1.101.3.4.1.99 is not supported'
	run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_failure 69
	[ -z "$output" ]
}

@test "decrypt: signed-data passes through for smime-verify, also without smime-type; --strict points there" {
	openssl cms -sign -nodetach -binary -outform DER -in "$T/entity" -signer "$PKI/alice.pem" \
		-inkey "$PKI/alice.key" -out "$T/s.der"
	wrap_der "$T/s.der" signed-data >"$T/in"
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in"
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" | cmp - "$T/in"
	# the CMS content type decides when the Content-Type does not say
	sed 's/; smime-type=signed-data//' "$T/in" >"$T/in2"
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in2" | cmp - "$T/in2"
	run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in2"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"smime-verify"* ]]
}

@test "decrypt: a plain message passes through unchanged, no record; -E 1; --strict 65" {
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/msg"
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" | cmp - "$T/msg"
	run --separate-stderr smime-decrypt -E --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/msg"
	assert_failure 1
	printf '%s\n' "$output" | cmp - "$T/msg"
	run --separate-stderr smime-decrypt --strict --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"not an S/MIME encrypted message"* ]]
}

@test "decrypt: no key given is a configuration error (78), nothing written" {
	ossl_msg -aes-256-cbc "$PKI/bob.pem"
	run --separate-stderr env -u XDG_CONFIG_HOME HOME="$T" smime-decrypt "$T/in"
	assert_failure 78
	[ -z "$output" ]
}

@test "decrypt: a write error is transient: EX_TEMPFAIL" {
	ossl_msg -aes-256-cbc "$PKI/bob.pem"
	run bash -c "smime-decrypt --cert '$PKI/bob.pem' --key '$PKI/bob.key' '$T/in' >/dev/full"
	assert_failure 75
	run bash -c "smime-decrypt --cert '$PKI/bob.pem' --key '$PKI/bob.key' '$T/msg' >/dev/full"
	assert_failure 75
}

@test "decrypt: peak memory stays under 16 MiB for a 128 MiB message" {
	{ printf 'Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'
	  head -c 100663296 /dev/zero | base64; } >"$T/bigentity"
	openssl cms -encrypt -aes-256-gcm -stream -binary -outform DER -in "$T/bigentity" \
		-out "$T/big.der" "$PKI/bob.pem"
	rm "$T/bigentity"
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/big.der"; } >"$T/in"
	rm "$T/big.der"
	rss=$( { /usr/bin/time -f %M smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" | tail -c 100 >/dev/null; } 2>&1 )
	ossl_msg -aes-256-gcm "$PKI/bob.pem"
	small=$( { /usr/bin/time -f %M smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" >/dev/null; } 2>&1 )
	echo "peak RSS $rss KiB (small message: $small KiB)"
	[ "$rss" -le $((small + 2048)) ]
	asan_build smime-decrypt || [ "$rss" -lt 16384 ]
}

@test "decrypt: the man page is mandoc -Tlint clean" {
	run mandoc -Tlint -W warning "$TOP/man/smime-decrypt.1"
	assert_success
	assert_output ""
}

@test "decrypt: bash, zsh and fish completions load and offer the long options" {
	run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/smime-decrypt' && COMP_WORDS=(smime-decrypt --pass-f) COMP_CWORD=1 && _smime_decrypt && echo \"\${COMPREPLY[@]}\""
	assert_success
	assert_output --partial -- "--pass-file"
	run zsh -n "$TOP/completions/zsh/_smime-decrypt"
	assert_success
	run zsh -c "fpath=('$TOP/completions/zsh' \$fpath); autoload -U compinit; compinit -u -D; print \$_comps[smime-decrypt]"
	assert_success
	assert_output "_smime-decrypt"
	run fish -c "source '$TOP/completions/fish/smime-decrypt.fish'; complete -C'smime-decrypt --p1'"
	assert_success
	assert_output --partial -- "--p12"
	# the filter options are offered by all three
	run bash -c "source '$TOP/completions/bash/smime-decrypt' && COMP_WORDS=(smime-decrypt --ext) COMP_CWORD=1 && _smime_decrypt && echo \"\${COMPREPLY[@]}\""
	assert_output "--extract-nested"
	grep -q -- '--authserv-id' "$TOP/completions/zsh/_smime-decrypt"
	grep -q -- '--exit-code' "$TOP/completions/zsh/_smime-decrypt"
	run fish -c "source '$TOP/completions/fish/smime-decrypt.fish'; complete -C'smime-decrypt --str'"
	assert_output --partial -- "--strict"
}

@test "decrypt: --help to stdout, unknown option EX_USAGE" {
	run --separate-stderr smime-decrypt --help
	assert_success
	assert_output --partial "usage: smime-decrypt"
	for o in --exit-code --strict --extract-nested --authserv-id --cert-dir; do
		assert_output --partial -- "$o"
		grep -q -- "Fl Fl ${o#--}" "$TOP/man/smime-decrypt.1"
	done
	run --separate-stderr smime-decrypt --bogus
	assert_failure 64
}

@test "decrypt: --cert-dir is accepted and notes nothing: an unsigned message claiming to be from Alice cannot lower later mail to her (issue 9 item 2)" {
	store_entry "$T/store" alice	# alice is known, without capabilities
	cp "$T/store/alice@example.org" "$T/entry.before"
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: hi\n\nhello\n' >"$T/forged"
	smime-encrypt -r "$PKI/bob.pem" --no-self --cipher aes-128-cbc --cert-dir "$T/none" \
		"$T/forged" >"$T/enc"
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" \
		--cert-dir "$T/store" "$T/enc"
	assert_success
	[ -z "$stderr" ]
	cmp "$T/store/alice@example.org" "$T/entry.before"
	# what bob sends alice next: the default, not the cipher of the forged message
	printf 'From: bob@example.org\nTo: alice@example.org\nSubject: re\n\nreply\n' >"$T/reply"
	smime-encrypt --cert-dir "$T/store" --no-self "$T/reply" >"$T/out"
	payload "$T/out" "$T/env.der"
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-256-cbc'
	# SECMAIL_CERT_DIR and cert_dir in the configuration file change nothing either
	SECMAIL_CERT_DIR="$T/store" smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/enc" >/dev/null
	cmp "$T/store/alice@example.org" "$T/entry.before"
}
