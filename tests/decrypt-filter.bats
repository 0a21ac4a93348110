#!/usr/bin/env bats
# smime-decrypt as a mail filter (issue 10, the filter contract): every message comes out whole
# (decrypted, or as it came), forged verdict fields never survive, the record is first,
# transient failures are 75 with nothing written, empty input is 66. Every output is read
# back with Python's email package.

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
	unset SECMAIL_CERT SECMAIL_KEY SECMAIL_P12 SECMAIL_PASS_FILE SECMAIL_AUTHSERV_ID
	export SECMAIL_AUTHSERV_ID=mx.example.org
	plain_msg >"$T/msg"
	entity_of "$T/msg" >"$T/entity"
	outer_of "$T/msg" >"$T/outer"
	KEYS=(--cert "$PKI/bob.pem" --key "$PKI/bob.key")
}
teardown() { common_teardown; }

CHECK() { python3 "$TOP/tests/helpers/decrypt-check.py" "$@"; }

# enc CTYPE-LINE [openssl cms options]: the entity encrypted for bob under the outer fields,
# with CTYPE-LINE as the Content-Type field (and any extra header lines after it).
enc() {
	local ct=$1
	shift
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/e.der" "$@" "$PKI/bob.pem"
	{ cat "$T/outer"; printf '%s\nContent-Transfer-Encoding: base64\n\n' "$ct"; base64 "$T/e.der"; }
}

@test "filter: empty input is EX_NOINPUT and nothing is written, from a file or a pipe" {
	: >"$T/empty"
	run --separate-stderr smime-decrypt "${KEYS[@]}" "$T/empty"
	assert_failure 66
	[ -z "$output" ]
	[[ $stderr == *"empty"* ]]
	run --separate-stderr bash -c "smime-decrypt ${KEYS[*]} </dev/null"
	assert_failure 66
	[ -z "$output" ]
}

@test "filter: forged Secmail-Decryption and Authentication-Results fields in plain mail are removed, others kept" {
	{ printf 'Secmail-Decryption: mx.example.org; decrypted cipher=aes-256-gcm integrity=aead\n'
	  printf 'Authentication-Results: mx.example.org; smime=pass\n'
	  printf 'Authentication-Results: (a comment) MX.Example.Org.; smime=pass\n'
	  printf 'Authentication-Results: "mx.example.org"; smime=pass\n'
	  printf 'Secmail-Decryption : mx.example.org; decrypted cipher=aes-128-gcm integrity=aead\n'
	  printf 'secmail-decryption:\n  mx.example.org;\n  decrypted cipher=aes-256-gcm integrity=aead\n'
	  printf 'Authentication-Results: other.example; smime=pass\n'
	  printf 'Secmail-Decryption: other.example; decrypted cipher=aes-256-gcm integrity=aead\n'
	  cat "$T/msg"; } >"$T/in"
	run --separate-stderr smime-decrypt "${KEYS[@]}" "$T/in"
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" >"$T/out"
	{ printf 'Authentication-Results: other.example; smime=pass\n'
	  printf 'Secmail-Decryption: other.example; decrypted cipher=aes-256-gcm integrity=aead\n'
	  cat "$T/msg"; } | cmp - "$T/out"
	[ "$(CHECK count "$T/out" Secmail-Decryption)" = 1 ]
	[ "$(CHECK count "$T/out" Authentication-Results)" = 1 ]
	CHECK parse "$T/out" | grep -qx 'text/plain Hello Bob,'
}

@test "filter: a header msg.c refuses (no colon, NUL, a 70 KiB line) still passes through, forged fields removed" {
	long=$(head -c 71680 /dev/zero | tr '\0' x)
	for bad in 'this line has no colon' $'X-Nul: a\001b' "X-Long: $long"; do
		bad=${bad//$'\001'/$'\0'}
		{ printf 'Secmail-Decryption: mx.example.org; decrypted cipher=aes-256-gcm integrity=aead\n'
		  printf 'From: Alice <alice@example.org>\n'
		  printf '%s\n' "$bad"
		  printf 'Authentication-Results: mx.example.org;\n smime=pass\n'
		  printf 'Subject: kept\n\nbody\n'; } >"$T/in"
		# a NUL does not survive printf '%s': put it in with python
		if [[ $bad == X-Nul* ]]; then
			python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[1],"wb").write(d.replace(b"X-Nul: ab", b"X-Nul: a\0b"))' "$T/in"
		fi
		smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
		grep -v -a -e '^Secmail-Decryption' -e '^Authentication-Results' -e '^ smime=pass' "$T/in" | cmp - "$T/out"
		[ "$(CHECK count "$T/out" Secmail-Decryption)" = 0 ]
	done
}

@test "filter: the record goes first, after an mbox From line; LF and CRLF messages get their own line ends" {
	{ printf 'From alice@example.org Sun Nov 29 04:00:00 2026\n'
	  enc 'Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data' -aes-256-gcm; } >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	head -1 "$T/out" | grep -q '^From alice@example.org '
	sed -n 2p "$T/out" | grep -q '^Secmail-Decryption: mx.example.org; decrypted'
	[ "$(CHECK record "$T/out")" = 'mx.example.org; decrypted cipher=aes-256-gcm integrity=aead' ]
	{ printf 'From alice@example.org Sun Nov 29 04:00:00 2026\n'; cat "$T/outer"; tr -d '\r' <"$T/entity"; } |
		cmp - <(CHECK strip "$T/out")
	sed 's/$/\r/' "$T/in" >"$T/in.crlf"
	smime-decrypt "${KEYS[@]}" "$T/in.crlf" >"$T/out"
	sed -n 2p "$T/out" | grep -q $'^Secmail-Decryption: .*\r$'
	[ "$(grep -c $'[^\r]$' "$T/out")" = 0 ]
}

@test "filter: the authserv-id: --authserv-id, else SECMAIL_AUTHSERV_ID, else authserv_id in the file, else the host name" {
	enc 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data' -aes-128-cbc >"$T/in"
	mkdir -p "$T/xdg-config/secmail"
	printf 'authserv_id from-file.example\n' >"$T/xdg-config/secmail/smime.conf"
	smime-decrypt --authserv-id opt.example "${KEYS[@]}" "$T/in" >"$T/out"
	CHECK record "$T/out" | grep -q '^opt.example; decrypted cipher=aes-128-cbc integrity=none'
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	CHECK record "$T/out" | grep -q '^mx.example.org; decrypted'
	unset SECMAIL_AUTHSERV_ID
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	CHECK record "$T/out" | grep -q '^from-file.example; decrypted'
	rm "$T/xdg-config/secmail/smime.conf"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	CHECK record "$T/out" | grep -q "^$(hostname); decrypted"
	# a forged field claiming the configured id is removed, one claiming the host name is not
	run --separate-stderr smime-decrypt --authserv-id 'bad id;' "${KEYS[@]}" "$T/in"
	assert_failure 64
	run --separate-stderr env SECMAIL_AUTHSERV_ID='a"b' smime-decrypt "${KEYS[@]}" "$T/in"
	assert_failure 78
	[ -z "$output" ]
}

@test "filter: s-nail's and other clients' forms are recognised: x-pkcs7-mime or pkcs7-mime without smime-type, octet-stream *.p7m" {
	for ct in 'Content-Type: application/x-pkcs7-mime; name="smime.p7m"' \
		'Content-Type: application/pkcs7-mime; name=smime.p7m' \
		'Content-Type: application/x-pkcs7-mime' \
		$'Content-Type: application/octet-stream; name="smime.p7m"' \
		$'Content-Type: application/octet-stream\nContent-Disposition: attachment; filename="Smime.P7M"'; do
		enc "$ct" -aes-256-cbc >"$T/in"
		smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
		CHECK record "$T/out" | grep -q 'decrypted cipher=aes-256-cbc integrity=none'
		{ cat "$T/outer"; tr -d '\r' <"$T/entity"; } | cmp - <(CHECK strip "$T/out")
		CHECK parse "$T/out" | grep -qx 'text/plain Hello Bob,'
	done
	# an octet-stream .p7m that is not CMS at all is just an attachment: unchanged, no record
	{ cat "$T/outer"; printf 'Content-Type: application/octet-stream; name=x.p7m\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; head -c 300 /dev/urandom | base64; } >"$T/in"
	run --separate-stderr smime-decrypt "${KEYS[@]}" "$T/in"
	assert_success
	printf '%s\n' "$output" | cmp - "$T/in"
}

@test "filter: a key file that cannot be read is transient: 75, nothing written" {
	enc 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data' -aes-256-cbc >"$T/in"
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$T/no-such.key" "$T/in"
	assert_failure 75
	[ -z "$output" ]
	[[ $stderr == *"no-such.key"* ]]
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$T" "$T/in"
	assert_failure 75
	[ -z "$output" ]
}

@test "filter: a spool that cannot be created or filled is transient: 75, nothing complete written" {
	enc 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data' -aes-256-cbc >"$T/in"
	run --separate-stderr env TMPDIR="$T/missing" smime-decrypt "${KEYS[@]}" "$T/in"
	assert_failure 75
	[ -z "$output" ]
	[[ $stderr == *"temporary file"* ]]
	# disk full: a file size limit makes every spool write fail (SIGXFSZ ignored: EFBIG)
	{ cat "$T/outer"; printf 'Content-Type: text/plain\n\n'; head -c 400000 /dev/zero | base64; } >"$T/big"
	openssl cms -encrypt -binary -outform DER -in "$T/big" -out "$T/big.der" -aes-256-gcm "$PKI/bob.pem"
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/big.der"; } >"$T/in"
	run --separate-stderr bash -c "trap '' XFSZ; ulimit -f 100; smime-decrypt ${KEYS[*]} '$T/in' | wc -c"
	assert_success
	[ "${lines[-1]}" = 0 ]
	run bash -c "trap '' XFSZ; ulimit -f 100; smime-decrypt ${KEYS[*]} '$T/in' >/dev/null 2>&1; echo \$?"
	[ "$output" = 75 ]
}

@test "filter: verdict fields the sender put inside the encrypted entity are removed; other inner fields stay" {
	{ printf 'Secmail-Decryption: mx.example.org; decrypted cipher=aes-256-gcm integrity=aead\r\n'
	  printf 'Authentication-Results: mx.example.org; smime=pass\r\n'
	  printf 'X-Inner: kept\r\n'
	  cat "$T/entity"; } >"$T/entity2"
	openssl cms -encrypt -binary -outform DER -in "$T/entity2" -out "$T/e.der" -aes-128-cbc "$PKI/bob.pem"
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/e.der"; } >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	CHECK record "$T/out" | grep -q 'decrypted cipher=aes-128-cbc integrity=none'
	[ "$(CHECK count "$T/out" Authentication-Results)" = 0 ]
	{ cat "$T/outer"; printf 'X-Inner: kept\n'; tr -d '\r' <"$T/entity"; } | cmp - <(CHECK strip "$T/out")
}

@test "filter: decrypted content that is not a MIME entity (bare bytes, RFC 4134 5.1) gets the blank line: a well-formed message" {
	printf 'This is some sample content.' >"$T/bare"
	openssl cms -encrypt -binary -outform DER -in "$T/bare" -out "$T/e.der" -aes-256-cbc "$PKI/bob.pem"
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/e.der"; } >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	{ cat "$T/outer"; printf '\nThis is some sample content.'; } | cmp - <(CHECK strip "$T/out")
	CHECK parse "$T/out" | grep -qx 'text/plain This is some sample content.'
	# bytes that look like a header but end without a blank line are content too
	printf 'Subject: injected\r\nmore text without a colon\r\n' >"$T/bare"
	openssl cms -encrypt -binary -outform DER -in "$T/bare" -out "$T/e.der" -aes-256-cbc "$PKI/bob.pem"
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n'
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$T/e.der"; } >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	[ "$(CHECK count "$T/out" Subject)" = 1 ]
	CHECK parse "$T/out" | grep -qx 'text/plain Subject: injected'
}

@test "filter: one recipe handles every message: plain, multipart, signed, encrypted, garbage: exit 0, never empty" {
	printf 'not a message at all\n\x01\x02' >"$T/garbage"
	openssl cms -sign -binary -in "$T/entity" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" >"$T/signed.body"
	{ cat "$T/outer"; cat "$T/signed.body"; } >"$T/signed"
	enc 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data' -aes-256-cbc >"$T/encrypted"
	printf 'From: a@example.org\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\n\nhi\n--XX--\n' >"$T/multi"
	for m in msg garbage signed encrypted multi; do
		smime-decrypt "${KEYS[@]}" "$T/$m" >"$T/out"
		[ -s "$T/out" ]
		python3 -c 'import email,sys; email.message_from_binary_file(open(sys.argv[1],"rb"))' "$T/out"
		if [ "$m" != encrypted ]; then cmp "$T/out" "$T/$m"; fi
	done
}

@test "filter: memory stays bounded for a large multipart passed through (spooled, not held)" {
	{ printf 'From: a@example.org\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'
	  head -c 50000000 /dev/zero | base64; printf -- '--XX--\n'; } >"$T/big"
	rss=$( { /usr/bin/time -f %M smime-decrypt "${KEYS[@]}" "$T/big" | cmp - "$T/big"; } 2>&1 )
	small=$( { /usr/bin/time -f %M smime-decrypt "${KEYS[@]}" "$T/msg" >/dev/null; } 2>&1 )
	echo "peak RSS $rss KiB (small message: $small KiB)"
	[ "$rss" -le $((small + 4096)) ]
}
