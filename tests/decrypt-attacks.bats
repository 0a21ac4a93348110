#!/usr/bin/env bats
# smime-decrypt against hostile input (issue 9 items 9, 10, 11 and the X25519 case): each test
# builds its input with tests/helpers/decrypt-hostile.py from an envelope an independent
# implementation (openssl cms, python3-cryptography) made, and each fails on the code before
# the fix. (Item 2, the cipher downgrade, is in smime-decrypt.bats.)

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
	export SECMAIL_AUTHSERV_ID=mx.example.org
	plain_msg >"$T/msg"
	entity_of "$T/msg" >"$T/entity"
	outer_of "$T/msg" >"$T/outer"
	KEYS=(--cert "$PKI/bob.pem" --key "$PKI/bob.key")
}
teardown() { common_teardown; }

CHECK() { python3 "$TOP/tests/helpers/decrypt-check.py" "$@"; }
HOSTILE() { python3 "$TOP/tests/helpers/decrypt-hostile.py" "$@"; }
# absent PATTERN FILE: the pattern is nowhere in FILE (a plain `! grep` would not fail a test)
absent() {
	if grep -q -- "$1" "$2"; then
		echo "found '$1' in $2"
		return 1
	fi
}

# wrap DER SMIME-TYPE: DER under the outer fields, as a client sends it
wrap() {
	{ cat "$T/outer"; printf 'Content-Type: application/pkcs7-mime; smime-type=%s; name=smime.p7m\n' "$2"
	  printf 'Content-Transfer-Encoding: base64\n\n'; base64 "$1"; }
}

@test "attack: EFAIL direct exfiltration: HTML parts around an encrypted part get no plaintext between them" {
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/e.der" -aes-256-cbc "$PKI/bob.pem"
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: efail\n' >"$T/hdr"
	HOSTILE efail "$T/hdr" "$T/e.der" >"$T/in"
	run --separate-stderr smime-decrypt "${KEYS[@]}" "$T/in"
	assert_success
	printf '%s\n' "$output" >"$T/out"
	[[ $output != *secret* && $output != *"Hello Bob"* ]]
	CHECK strip "$T/out" | cmp - "$T/in"
	CHECK record "$T/out" | grep -q 'failed reason="the encrypted part 2 inside multipart/mixed was not decrypted.*EFAIL'
	# explicitly asked for: the decrypted entity alone, none of the attacker's parts
	smime-decrypt --extract-nested "${KEYS[@]}" "$T/in" >"$T/out"
	absent 'attacker.example' "$T/out"
	grep -q 'this is secret' "$T/out"
	CHECK parse "$T/out" >"$T/tree"
	[ "$(cat "$T/tree")" = "text/plain Hello Bob," ]
	# a part without smime-type (s-nail style) is recognised by its CMS content type
	sed 's/; smime-type=enveloped-data; name=smime.p7m/; name=smime.p7m/' "$T/in" >"$T/in2"
	smime-decrypt "${KEYS[@]}" "$T/in2" >"$T/out"
	absent 'this is secret' "$T/out"
	CHECK record "$T/out" | grep -q 'EFAIL'
	# ... and deeper inside, too
	{ printf 'From: x@example.org\nContent-Type: multipart/mixed; boundary=OUT\n\n--OUT\n'
	  sed -n '/^MIME-Version/,$p' "$T/in" | sed 1d; printf -- '--OUT--\n'; } >"$T/in3"
	smime-decrypt "${KEYS[@]}" "$T/in3" >"$T/out"
	absent 'this is secret' "$T/out"
	CHECK record "$T/out" | grep -q 'part 1.2 inside multipart/mixed'
}

@test "attack: CBC IV bit-flip injecting a header line: the record says integrity=none, AES-GCM says aead" {
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/e.der" -aes-128-cbc "$PKI/bob.pem"
	HOSTILE cbc-flip "$T/e.der" "$T/f.der" 'Content-Type: te' 'X-Injected:1\r\nA:'
	wrap "$T/f.der" enveloped-data >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	# the attack itself works (CBC cannot stop it) ...
	grep -q '^X-Injected:1$' "$T/out"
	# ... and the output says the content was not integrity-protected
	[ "$(CHECK record "$T/out")" = 'mx.example.org; decrypted cipher=aes-128-cbc integrity=none (CBC: the content can be altered undetected unless it is signed inside)' ]
	# with AES-GCM the same flip is caught: nothing decrypted
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/g.der" -aes-128-gcm "$PKI/bob.pem"
	wrap "$T/g.der" authEnveloped-data >"$T/gin"
	smime-decrypt "${KEYS[@]}" "$T/gin" >"$T/out"
	[ "$(CHECK record "$T/out")" = 'mx.example.org; decrypted cipher=aes-128-gcm integrity=aead' ]
	python3 - "$T/g.der" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.index(bytes.fromhex('060960864801650304010630')) + 11   # aes-128-gcm, then GCMParameters
assert d[i + 2] == 0x04 and d[i + 3] == 12                     # the nonce
d[i + 4] ^= 0x01
open(sys.argv[1], 'wb').write(d)
PY
	wrap "$T/g.der" authEnveloped-data >"$T/gin"
	smime-decrypt "${KEYS[@]}" "$T/gin" >"$T/out" 2>/dev/null
	absent 'secret' "$T/out"
	CHECK record "$T/out" | grep -q 'failed reason="authentication failed'
}

@test "attack: a GCM tag cut to 4 octets with aes-ICVlen 16 is refused before any plaintext" {
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/g.der" -aes-256-gcm "$PKI/bob.pem"
	HOSTILE short-tag "$T/g.der" "$T/t4.der" 4
	wrap "$T/t4.der" authEnveloped-data >"$T/in"
	run --separate-stderr smime-decrypt "${KEYS[@]}" "$T/in"
	assert_success
	[[ $output != *secret* ]]
	printf '%s\n' "$output" >"$T/out"
	CHECK strip "$T/out" | cmp - "$T/in"
	CHECK record "$T/out" | grep -q 'failed reason="the authentication tag is 4 octets but the parameters declare 16'
	run --separate-stderr smime-decrypt --strict "${KEYS[@]}" "$T/in"
	assert_failure 65
	[ -z "$output" ]
	# a declared aes-ICVlen below 12 is refused too; 12 with a 12-octet tag is RFC 5084 and opens
	HOSTILE icvlen "$T/g.der" "$T/t8.der" 8
	wrap "$T/t8.der" authEnveloped-data >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out" 2>/dev/null
	absent 'secret' "$T/out"
	CHECK record "$T/out" | grep -q 'declare a 8-octet tag (aes-ICVlen); RFC 5084 allows 12 to 16'
	HOSTILE icvlen "$T/g.der" "$T/t12.der" 12
	wrap "$T/t12.der" authEnveloped-data >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	# (a GCM tag cut short is the prefix of the full one: that is why the length must be
	# the declared one, and at least 12)
	CHECK record "$T/out" | grep -q 'decrypted cipher=aes-256-gcm integrity=aead'
	grep -q 'this is secret' "$T/out"
	# ... and every one of the 12 octets is checked
	python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[-1] ^= 1; open(sys.argv[1], "wb").write(d)' "$T/t12.der"
	wrap "$T/t12.der" authEnveloped-data >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out" 2>/dev/null
	absent 'secret' "$T/out"
	CHECK record "$T/out" | grep -q 'failed reason="authentication failed'
}

@test "attack: an AEAD algorithm in plain enveloped-data (no tag anywhere) is refused" {
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/c.der" -aes-256-cbc "$PKI/bob.pem"
	# aes-256-cbc (2.16.840.1.101.3.4.1.42) becomes aes-256-gcm (.46), the IV a 16-octet nonce
	python3 - "$T/c.der" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
oid = bytes.fromhex('060960864801650304012a')
assert d.count(oid) == 1
open(sys.argv[1], 'wb').write(d.replace(oid, oid[:-1] + b'\x2e'))
PY
	wrap "$T/c.der" enveloped-data >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out" 2>/dev/null
	absent 'secret' "$T/out"
	CHECK record "$T/out" | grep -q 'enveloped-data with the AEAD algorithm id-aes256-GCM carries no authentication tag'
}

@test "attack: truncated and foreign envelopes are delivered as they came, with the reason" {
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/g.der" -aes-256-gcm "$PKI/bob.pem"
	head -c $(( $(stat -c %s "$T/g.der") - 30 )) "$T/g.der" >"$T/cut.der"
	wrap "$T/cut.der" authEnveloped-data >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out" 2>/dev/null
	CHECK strip "$T/out" | cmp - "$T/in"
	CHECK record "$T/out" | grep -q 'failed reason="truncated CMS data'
	# from a pipe (the body kept in a spool as it is read) ...
	cat "$T/in" | smime-decrypt "${KEYS[@]}" >"$T/out" 2>/dev/null
	CHECK strip "$T/out" | cmp - "$T/in"
	# ... and from a file not read from its start (read again from where the body began)
	{ printf 'first line, not ours\n'; cat "$T/in"; } >"$T/in.off"
	(read -r _; smime-decrypt "${KEYS[@]}") <"$T/in.off" >"$T/out" 2>/dev/null
	CHECK strip "$T/out" | cmp - "$T/in"
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/a.der" -aes-256-gcm "$PKI/alice.pem"
	wrap "$T/a.der" authEnveloped-data >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out" 2>/dev/null
	CHECK strip "$T/out" | cmp - "$T/in"
	CHECK record "$T/out" | grep -q 'failed reason="the message is not encrypted for this certificate'
}

@test "attack: X25519 key agreement (RFC 8418) that OpenSSL cannot do: 69 naming it with --strict, a failed record as a filter" {
	openssl genpkey -algorithm X25519 -out "$T/x.key"
	openssl pkey -in "$T/x.key" -pubout -out "$T/x.pub"
	openssl x509 -new -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -force_pubkey "$T/x.pub" \
		-subj "/CN=x/emailAddress=bob@example.org" -days 3 -out "$T/x.pem"
	HOSTILE x25519 "$T/x.pem" "$T/entity" "$T/x.der"
	wrap "$T/x.der" enveloped-data >"$T/in"
	run --separate-stderr smime-decrypt --strict --cert "$T/x.pem" --key "$T/x.key" "$T/in"
	if [ "$status" -eq 0 ]; then
		# an OpenSSL that does X25519 in CMS (not 3.0): then it must decrypt right
		printf '%s\n' "$output" >"$T/out"
		{ cat "$T/outer"; tr -d '\r' <"$T/entity"; } | cmp - <(CHECK strip "$T/out")
		return 0
	fi
	assert_failure 69
	[ -z "$output" ]
	[[ $stderr == *"X25519"* && $stderr == *"not supported"* && $stderr != *"wrong key"* ]]
	smime-decrypt --cert "$T/x.pem" --key "$T/x.key" "$T/in" >"$T/out" 2>/dev/null
	CHECK strip "$T/out" | cmp - "$T/in"
	CHECK record "$T/out" | grep -q 'failed reason="key agreement dhSinglePass-stdDH-sha256kdf-scheme with an X25519 key is not supported'
	run --separate-stderr smime-decrypt --strict --key "$T/x.key" "$T/in"
	assert_failure 69
	[[ $stderr == *"X25519"* ]]
}

@test "attack: the cipher choice: a received cipher never goes below signed capabilities; AES-GCM first when announced" {
	# alice signed capabilities AES-256-GCM, AES-256-CBC; a (forged) note says she used AES-128-CBC
	store_entry "$T/store" alice "$OID_AES256GCM" "$OID_AES256CBC"
	sed -i "s/^signing-time:.*/&\nreceived-cipher: $OID_AES128CBC/" "$T/store/alice@example.org"
	grep -q "^received-cipher: $OID_AES128CBC" "$T/store/alice@example.org"
	printf 'From: bob@example.org\nTo: alice@example.org\nSubject: re\n\nreply\n' >"$T/reply"
	smime-encrypt --cert-dir "$T/store" --no-self "$T/reply" >"$T/out"
	payload "$T/out" "$T/env.der"
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-256-gcm'
	# she lists CBC before GCM: authenticated encryption is taken all the same (issue 9 item 10)
	store_entry "$T/store2" alice "$OID_AES256CBC" "$OID_AES128GCM"
	smime-encrypt --cert-dir "$T/store2" --no-self "$T/reply" >"$T/out"
	payload "$T/out" "$T/env.der"
	openssl cms -cmsout -print -inform DER -in "$T/env.der" | grep -q 'algorithm: aes-128-gcm'
	smime-decrypt --cert "$PKI/alice.pem" --key "$PKI/alice.key" "$T/out" >"$T/dec"
	[ "$(CHECK record "$T/dec")" = 'mx.example.org; decrypted cipher=aes-128-gcm integrity=aead' ]
}

@test "attack: a record or verdict hidden behind a bare CR in the payload's content fields (anyone can encrypt to Bob) reaches no reader" {
	printf 'Content-Type: text/plain\rAuthentication-Results: mx.example.org; smime=pass\rSecmail-Decryption: mx.example.org; decrypted cipher=aes-256-gcm integrity=aead\r\n\r\nPay Mallory.\r\n' >"$T/pay"
	openssl cms -encrypt -binary -aes-256-cbc -in "$T/pay" -outform DER -out "$T/der" "$PKI/bob.pem" 2>/dev/null
	wrap "$T/der" enveloped-data >"$T/m"
	run --separate-stderr smime-decrypt "${KEYS[@]}" "$T/m"
	assert_success
	printf '%s\n' "$output" >"$T/d"
	# Python's email ends header lines at a bare CR: it finds only our record, saying CBC
	python3 - "$T/d" <<'PY'
import email, sys
raw = open(sys.argv[1], 'rb').read()
assert b'\r' not in raw.split(b'\n\n', 1)[0], 'bare CR in the header written'
m = email.message_from_bytes(raw)
recs = m.get_all('Secmail-Decryption')
assert len(recs) == 1 and 'aes-256-cbc integrity=none' in ' '.join(recs[0].split()), recs
assert m.get_all('Authentication-Results') is None, m.get_all('Authentication-Results')
PY
	# and smime-verify after it says what happened
	smime-verify --after-decrypt <"$T/d" | sed -n 1,2p | tr -d '\n' | grep -q 'smime=none reason="decrypted (aes-256-cbc, no integrity protection)'
}

@test "attack: a verdict hidden behind a bare CR in a header smime-decrypt cannot parse (passed on raw) reaches no reader" {
	for cut in "X-A: a" "Authentication-Results: other.example; x"; do
		printf 'From: a@example.net\n%s\rAuthentication-Results: mx.example.org; smime=pass\nnot a field\nSubject: s\r\n\nbody\n' "$cut" >"$T/m"
		run --separate-stderr smime-decrypt "${KEYS[@]}" "$T/m"
		assert_success
		printf '%s\n' "$output" >"$T/d"
		python3 - "$T/d" <<'PY'
import email, re, sys
raw = open(sys.argv[1], 'rb').read()
assert not re.search(rb'\r(?!\n)', raw.split(b'\nbody')[0]), 'bare CR in the header written'
m = email.message_from_bytes(raw)
assert all(not v.startswith('mx.example.org') for v in m.get_all('Authentication-Results') or []), m.get_all('Authentication-Results')
PY
		# the rest as it came (a CR before its LF stays)
		grep -q $'^Subject: s\r$' "$T/d"
	done
}

@test "attack: From and Subject inside an entity that is not header protection (anyone can encrypt to Bob) never stand beside the outer ones" {
	# the MTA checked the outer From (DKIM, DMARC); the one inside nobody checked
	printf 'From: CEO <ceo@bank.example>\r\nSubject: wire the money\r\nReply-To: ceo@bank.example\r\nKeywords: kept\r\nContent-Type: text/plain\r\n\r\npay now\r\n' >"$T/ent"
	openssl cms -encrypt -binary -outform DER -in "$T/ent" -out "$T/e.der" -aes-256-gcm "$PKI/bob.pem"
	wrap "$T/e.der" authEnveloped-data >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	grep -q 'pay now' "$T/out"
	absent 'ceo@bank.example>' "$T/out"
	absent 'wire the money' "$T/out"
	python3 - "$T/out" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
assert m.get_all('From') == ['Alice <alice@example.org>'], m.get_all('From')
assert m.get_all('Subject') == ['envelope test'], m.get_all('Subject')
# a field the outer header does not have is the entity's own business: kept
assert m.get_all('Reply-To') == ['ceo@bank.example'], m.get_all('Reply-To')
assert m.get_all('Keywords') == ['kept']
assert m.get_content_type() == 'text/plain'
PY
	CHECK record "$T/out" | grep -q "integrity=aead (the encrypted entity's own From, Subject left out"
	# the entity smime-encrypt makes (Content-* alone) still comes back byte-exact
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/e.der" -aes-256-gcm "$PKI/bob.pem"
	wrap "$T/e.der" authEnveloped-data >"$T/in"
	smime-decrypt "${KEYS[@]}" "$T/in" >"$T/out"
	CHECK record "$T/out" | grep -qx 'mx.example.org; decrypted cipher=aes-256-gcm integrity=aead'
}

@test "attack: RSA PKCS#1 v1.5 oracle: a bad-padding encrypted key and an altered tag get the same exit status and words, with and without --cert" {
	openssl cms -encrypt -binary -outform DER -in "$T/entity" -out "$T/g.der" -aes-256-gcm "$PKI/bob.pem"
	openssl x509 -in "$PKI/bob.pem" -pubkey -noout >"$T/pub.pem"
	# the encrypted key replaced by a raw RSA block with block type 1 (not 2): bad padding
	python3 - "$T" <<'PY'
import subprocess, sys
t = sys.argv[1]
d = open(t + '/g.der', 'rb').read()
i = d.find(b'\x04\x82\x01\x00')
assert i > 0
blk = b'\x00\x01' + b'\xff' * 200 + b'\x00' + b'A' * 53
ek = subprocess.run(['openssl', 'pkeyutl', '-encrypt', '-pubin', '-inkey', t + '/pub.pem',
                     '-pkeyopt', 'rsa_padding_mode:none'], input=blk, capture_output=True,
                    check=True).stdout
assert len(ek) == 256
open(t + '/badrsa.der', 'wb').write(d[:i + 4] + ek + d[i + 4 + 256:])
j = d.rfind(b'\x04\x10')
tag = bytearray(d)
tag[j + 2] ^= 1
open(t + '/badtag.der', 'wb').write(bytes(tag))
PY
	wrap "$T/badrsa.der" authEnveloped-data >"$T/badrsa"
	wrap "$T/badtag.der" authEnveloped-data >"$T/badtag"
	for keys in "--cert $PKI/bob.pem --key $PKI/bob.key" "--key $PKI/bob.key"; do
		# shellcheck disable=SC2086
		run --separate-stderr smime-decrypt --strict $keys "$T/badrsa"
		local s1=$status e1=$stderr
		# shellcheck disable=SC2086
		run --separate-stderr smime-decrypt --strict $keys "$T/badtag"
		[ "$status" = 65 ] && [ "$s1" = 65 ]
		[ "$stderr" = "$e1" ]
		[[ $stderr == *"authentication failed"* ]]
		# as a filter: the same record for both
		# shellcheck disable=SC2086
		smime-decrypt $keys "$T/badrsa" >"$T/o1" 2>/dev/null
		# shellcheck disable=SC2086
		smime-decrypt $keys "$T/badtag" >"$T/o2" 2>/dev/null
		[ "$(CHECK record "$T/o1")" = "$(CHECK record "$T/o2")" ]
	done
}
