#!/usr/bin/env bats
# smime-verify: verdicts and Authentication-Results, interop with openssl cms and gpgsm,
# line-end conversions, every bad input, the certificate store.

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() {
	# Issue 14: these tests state the behaviour without header protection (RFC 9788),
	# which tests/hp-*.bats covers.
	export SECMAIL_HEADER_PROTECTION=none
	common_setup
	sample_msg >"$T/msg"
	export SECMAIL_AUTHSERV_ID=mx.test
}
teardown() { common_teardown; }

sign() { smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$PKI/chain.pem" "$@"; }
# -E: the verdict as the exit status (0 pass, 1 otherwise), which these tests assert on.
verify() { smime-verify -E --ca-file "$PKI/ca.pem" "$@"; }
ar() { sed -n '1{p;:a;n;/^[ \t]/{p;ba};q}' "$1" | tr -d '\r\n' | tr -s ' \t' ' '; }

@test "verify: a good signature passes: exit 0, Authentication-Results first, entity in place" {
	sign "$T/msg" >"$T/s"
	verify "$T/s" >"$T/v"
	# a pipe (spooled) and a redirected file (read in place) give the same bytes
	cat "$T/s" | verify | cmp - "$T/v"
	verify < <(cat "$T/s") | cmp - "$T/v"
	[[ "$(ar "$T/v")" == "Authentication-Results: mx.test; smime=pass reason=\"good signature by alice@example.org; the header is not protected (only the content is)\" body.smime-identifier=alice@example.org body.smime-serial="* ]]
	outer_fields "$T/msg" | cmp - <(outer_fields "$T/v")
	python3 -c '
import email, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
assert m.get_content_type() == "text/plain", m.get_content_type()
assert m.get_payload(decode=True).decode("utf-8") == "Hello Bob,\n\ngr\u00fc\u00dfe aus K\u00f6ln.\nFrom here on, a line that starts with From.\n"
' "$T/v"
}

@test "verify: messages signed by openssl cms -sign, clear and opaque, and openssl smime pass" {
	printf 'Content-Type: text/plain\n\nsigned by openssl\n' >"$T/c"
	for kind in "cms -sign" "cms -sign -nodetach" "cms -sign -nodetach -stream" "smime -sign"; do
		openssl $kind -in "$T/c" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" \
			-from alice@example.org -to bob@example.org -subject t >"$T/s"
		run verify "$T/s"
		assert_success
		assert_output --partial "smime=pass"
		assert_output --partial "signed by openssl"
	done
}

@test "verify: a message signed by gpgsm passes" {
	gpgsm_home "$T/gnupg"
	gpgsm_key
	printf 'Content-Type: text/plain\r\n\r\nsigned by gpgsm\r\n' >"$T/c"
	$G -u gpg@example.org --detach-sign --include-certs 1 -o "$T/sig" "$T/c" 3< <(echo '') 2>/dev/null
	gpgsm_stop
	wrap_signed "$T/c" "$T/sig" >"$T/s"
	run smime-verify --ca-file "$GNUPGHOME/gpg.pem" "$T/s"
	assert_success
	assert_output --partial "smime=pass"
	assert_output --partial "body.smime-identifier=gpg@example.org"
}

@test "verify: LF to CRLF and CRLF to LF conversion of the whole message still passes" {
	sign "$T/msg" >"$T/s"
	sed 's/$/\r/' "$T/s" >"$T/crlf"
	run verify "$T/crlf"
	assert_success
	sed 's/$/\r/' "$T/msg" | sign >"$T/s2"
	tr -d '\r' <"$T/s2" >"$T/lf"
	run verify "$T/lf"
	assert_success
	openssl cms -sign -in "$T/msg" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -from alice@example.org >"$T/o"
	tr -d '\r' <"$T/o" | sed 's/$/\r/' >"$T/ocrlf"
	run verify "$T/ocrlf"
	assert_success
}

@test "verify: altered content fails with a digest mismatch and the message is still written" {
	sign "$T/msg" >"$T/s"
	sed -i 's/^Hello Bob,/Hello Eve,/' "$T/s"
	run --separate-stderr verify "$T/s"
	assert_failure 1
	[[ $stderr == *"smime-verify: fail: message digest mismatch: the content was altered after signing"* ]]
	printf '%s\n' "$output" | head -1 | grep -q 'smime=fail'
	printf '%s\n' "$output" | grep -q 'Hello Eve'
	printf '%s\n' "$output" | grep -q 'multipart/signed'
}

@test "verify: --strict writes nothing when the signature does not pass" {
	sign "$T/msg" >"$T/s"
	sed -i 's/^Hello Bob,/Hello Eve,/' "$T/s"
	run --separate-stderr smime-verify --strict --ca-file "$PKI/ca.pem" "$T/s"
	assert_failure 1
	[ -z "$output" ]
}

@test "verify: a signature over different content fails" {
	sign "$T/msg" >"$T/s1"
	sample_msg | sed 's/Bob,/Bobby,/' | sign >"$T/s2"
	split_signed "$T/s1" "$T/c1" "$T/sig1"
	split_signed "$T/s2" "$T/c2" "$T/sig2"
	wrap_signed "$T/c1" "$T/sig2" "alice@example.org" >"$T/mixed"
	run verify "$T/mixed"
	assert_failure 1
	assert_output --partial "smime=fail"
	assert_output --partial "message digest mismatch"
}

@test "verify: a corrupted signature value fails, a truncated one is a permerror" {
	sign "$T/msg" >"$T/s"
	split_signed "$T/s" "$T/c" "$T/sig"
	python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-10]^=1; open(sys.argv[2],"wb").write(b)' "$T/sig" "$T/badsig"
	wrap_signed "$T/c" "$T/badsig" "alice@example.org" >"$T/m1"
	run verify "$T/m1"
	assert_failure 1
	assert_output --partial "smime=fail"
	assert_output --partial "the signature does not verify with the signer's key"
	head -c 500 "$T/sig" >"$T/short"
	wrap_signed "$T/c" "$T/short" "alice@example.org" >"$T/m2"
	run verify "$T/m2"
	assert_failure 1
	assert_output --partial "smime=permerror"
	assert_output --partial "not a valid CMS structure"
}

@test "verify: bad base64 in the signature part is a permerror" {
	sign "$T/msg" >"$T/s"
	awk '/^Content-Description: S\/MIME/{print; getline; print; print "!!!not*base64!!!"; next} {print}' "$T/s" >"$T/m"
	run verify "$T/m"
	assert_failure 1
	assert_output --partial "smime=permerror"
	assert_output --partial "invalid character"
}

@test "verify: a wrong boundary, a missing signature part and a wrong part type are permerrors" {
	sign "$T/msg" >"$T/s"
	sed 's/boundary="=_/boundary="=X/' "$T/s" >"$T/m1"
	run verify "$T/m1"
	assert_failure 1
	assert_output --partial "no parts (wrong boundary?)"
	python3 - "$T/s" "$T/m2" <<'PY'
import sys, re
raw = open(sys.argv[1]).read()
b = re.search(r'boundary="([^"]+)"', raw).group(1)
i = raw.index('\n--' + b + '\nContent-Type: application/pkcs7-signature')
open(sys.argv[2], 'w').write(raw[:i] + '\n--' + b + '--\n')
PY
	run verify "$T/m2"
	assert_failure 1
	assert_output --partial "has no signature part"
	sed 's#^Content-Type: application/pkcs7-signature#Content-Type: text/plain#' "$T/s" >"$T/m3"
	run verify "$T/m3"
	assert_failure 1
	assert_output --partial "is text/plain, not application/pkcs7-signature"
}

@test "verify: application/x-pkcs7-signature and legacy micalg are accepted" {
	sign "$T/msg" | sed -e 's#application/pkcs7-signature#application/x-pkcs7-signature#g' -e 's/micalg=sha-256/micalg=rsa-sha1/' >"$T/s"
	grep -q 'x-pkcs7-signature' "$T/s"
	run verify "$T/s"
	assert_success
	# an old SHA-1 signature with micalg="sha1", as openssl makes it
	printf 'Content-Type: text/plain\n\nold\n' >"$T/c"
	openssl cms -sign -md sha1 -in "$T/c" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -from alice@example.org >"$T/s1"
	grep -q 'micalg="sha1"' "$T/s1"
	run verify "$T/s1"
	assert_success
}

@test "verify: a chain that does not lead to a trusted root fails" {
	sample_msg "R <rogue@example.org>" | smime-sign --cert "$PKI/rogue.pem" --key "$PKI/rogue.key" >"$T/s"
	run verify "$T/s"
	assert_failure 1
	assert_output --partial "smime=fail"
	assert_output --partial "does not chain to a trusted root"
	sign "$T/msg" >"$T/s2"
	run smime-verify -E --ca-file "$PKI/rogue-ca.pem" "$T/s2"
	assert_failure 1
	assert_output --partial "does not chain to a trusted root"
}

@test "verify: --ca-path trusts a hashed directory" {
	sign "$T/msg" >"$T/s"
	run smime-verify --ca-path "$PKI/capath" "$T/s"
	assert_success
}

@test "verify: an expired signer fails" {
	# smime-sign refuses to sign with an expired certificate (issue 13); openssl does.
	printf 'Content-Type: text/plain\n\nexpired\n' >"$T/c"
	openssl smime -sign -in "$T/c" -signer "$PKI/expired.pem" -inkey "$PKI/expired.key" \
		-certfile "$PKI/chain.pem" -from expired@example.org -to bob@example.org -subject t >"$T/s"
	run verify "$T/s"
	assert_failure 1
	assert_output --partial "smime=fail"
	assert_output --partial "the signer's certificate expired on"
	# valid then, at a signing time inside its validity: still refused now (documented policy).
	# (openssl at a faked clock: smime-sign refuses the chain, which was not valid in 2020.)
	faketime '2020-05-20 18:40:00' openssl smime -sign -in "$T/c" -signer "$PKI/expired.pem" \
		-inkey "$PKI/expired.key" -certfile "$PKI/chain.pem" -from expired@example.org \
		-to bob@example.org -subject t >"$T/s2"
	openssl smime -pk7out -in "$T/s2" | openssl pkcs7 -print | grep -q 'UTCTIME:May 20 18:40:00 2020 GMT'
	run verify "$T/s2"
	assert_failure 1
	assert_output --partial "expired on"
}

@test "verify: a signing time outside the certificate's validity fails" {
	# Dated before the certificate was issued: smime-sign refuses to make such a signature
	# (issue 13), openssl at a faked clock does not.
	printf 'Content-Type: text/plain\n\nold\n' >"$T/c"
	faketime '2000-01-01 00:00:00' openssl smime -sign -in "$T/c" -signer "$PKI/alice.pem" \
		-inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -from alice@example.org -to bob@example.org \
		-subject t >"$T/s"
	run verify "$T/s"
	assert_failure 1
	assert_output --partial "the signing time is outside the signer's certificate validity"
}

@test "verify: a certificate without emailProtection is refused by policy" {
	sample_msg "N <noeku@example.org>" | smime-sign --cert "$PKI/noeku.pem" --key "$PKI/noeku.key" --chain "$PKI/chain.pem" >"$T/s"
	run verify "$T/s"
	assert_failure 1
	assert_output --partial "smime=policy"
	assert_output --partial "not for e-mail protection"
}

@test "verify: a signer that does not match From is refused by policy; a Sender match only with --accept-sender" {
	sample_msg "Alice <alice@example.org>" | smime-sign --no-from-check --cert "$PKI/mallory.pem" --key "$PKI/mallory.key" --chain "$PKI/chain.pem" >"$T/s"
	run verify "$T/s"
	assert_failure 1
	assert_output --partial "smime=policy"
	assert_output --partial "is for mallory@example.net, not for the From address alice@example.org"
	# issue 9 item 5b: the author a reader sees is From; a Sender that matches is not enough
	# (it was until this change)
	sed '1a Sender: mallory@EXAMPLE.NET' "$T/s" >"$T/s2"
	run verify "$T/s2"
	assert_failure 1
	assert_output --partial "smime=policy"
	[[ "$(ar <(printf '%s\n' "$output"))" == *"is for mallory@example.net, the Sender, not for the From address alice@example.org (the author a reader sees)"* ]]
	run verify --accept-sender "$T/s2"
	assert_success
	assert_output --partial "body.smime-identifier=mallory@example.net"
	[[ "$(ar <(printf '%s\n' "$output"))" == *"good signature by mallory@example.net (the Sender, accepted with --accept-sender; not the From address)"* ]]
}

@test "verify: the subject emailAddress names the signer when there is no subjectAltName" {
	sample_msg "S <subj@example.org>" | smime-sign --cert "$PKI/subj.pem" --key "$PKI/subj.key" --chain "$PKI/chain.pem" >"$T/s"
	run verify "$T/s"
	assert_success
	assert_output --partial "body.smime-identifier=subj@example.org"
}

@test "verify: a signed message nested in multipart/mixed or message/rfc822 is verified, reported as a part and kept" {
	# issue 9 item 4: a signature over a part is no longer a pass for the whole message
	sign "$T/msg" >"$T/s"
	{
		printf 'From: Alice <alice@example.org>\nTo: list@example.org\nSubject: fwd\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary=OUTER\n\n--OUTER\n'
		sed -n '/^MIME-Version:/,$p' "$T/s" | tail -n +2
		printf '\n--OUTER\nContent-Type: text/plain\n\nfooter\n--OUTER--\n'
	} >"$T/mixed"
	run --separate-stderr verify "$T/mixed"
	assert_failure 1
	assert_output --partial "smime=policy"
	assert_output --partial "body.smime-part=1"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'reason="only part 1 is signed (good signature by alice@example.org); the rest of the message is not"'* ]]
	printf '%s\n' "$output" | awk 'NR == 1 { next } !done && /^[ \t]/ { next } { done = 1; print }' | cmp - "$T/mixed"
	{
		printf 'From: Bob <bob@example.org>\nTo: carol@example.org\nSubject: fwd\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary=OUTER\n\n--OUTER\nContent-Type: text/plain\n\nsee below\n'
		printf -- '--OUTER\nContent-Type: message/rfc822\n\n'
		cat "$T/s"
		printf '\n--OUTER--\n'
	} >"$T/fwd"
	run --separate-stderr verify "$T/fwd"
	assert_failure 1
	assert_output --partial "smime=policy"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'reason="only the message forwarded in part 2.1 is signed (good signature by alice@example.org); the message around it (From: Bob <bob@example.org>) is not"'* ]]
	assert_output --partial "body.smime-part=2.1"
	sed -i 's/^Hello Bob,/Hello Eve,/' "$T/fwd"
	run --separate-stderr verify "$T/fwd"
	assert_failure 1
	assert_output --partial "smime=fail"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'reason="part 2.1: message digest mismatch'* ]]
}

@test "verify: --keep writes the signed message unchanged after the field" {
	sign "$T/msg" >"$T/s"
	verify --keep "$T/s" >"$T/v"
	tail -n +2 "$T/v" | sed '/^[ \t]/d' >"$T/rest"
	# the field may be folded over several lines: drop them, the rest is the input
	sed -n '/^Received:/,$p' "$T/v" | cmp - "$T/s"
}

@test "verify: an opaque signed message passes and is unwrapped" {
	sign --opaque "$T/msg" >"$T/s"
	run verify "$T/s"
	assert_success
	assert_output --partial "smime=pass"
	assert_output --partial "gr=C3=BC=C3=9Fe"
	refute_output --partial "pkcs7-mime"
}

@test "verify: certs-only is neutral and passes through" {
	sign --certs-only "$T/msg" >"$T/s"
	run verify "$T/s"
	assert_failure 1
	assert_output --partial "smime=neutral"
	assert_output --partial "certs-only"
}

@test "verify: an unsigned message passes through with smime=none" {
	run --separate-stderr verify "$T/msg"
	assert_failure 1
	assert_output --partial "smime=none"
	printf '%s\n' "$output" | awk 'NR == 1 { next } !done && /^[ \t]/ { next } { done = 1; print }' | cmp - "$T/msg"
}

@test "verify: earlier Authentication-Results with our authserv-id are removed, others kept" {
	sign "$T/msg" | sed '1i Authentication-Results: mx.test; smime=pass\nAuthentication-Results: other.example; spf=pass' >"$T/s"
	run verify "$T/s"
	assert_success
	[ "$(printf '%s\n' "$output" | grep -c '^Authentication-Results: mx.test')" -eq 1 ]
	assert_output --partial "Authentication-Results: other.example; spf=pass"
}

@test "verify: --save-certs stores the signer for smime-encrypt, only from newer passing signatures" {
	# signing times inside the certificates' validity (they were made a day ago)
	t0=$(($(date +%s) - 7200)) t1=$(($(date +%s) - 3600)) t2=$(($(date +%s) - 60))
	SECMAIL_NOW=$t1 sign --encrypt-cert "$PKI/aliceenc.pem" "$T/msg" >"$T/s1"
	verify --save-certs "$T/store" "$T/s1" >/dev/null
	f="$T/store/alice@example.org"
	[ -f "$f" ]
	grep -q "^signing-time: $(date -u -d "@$t1" +%Y%m%d%H%M%SZ)\$" "$f"
	grep -q '^capabilities: 2.16.840.1.101.3.4.1.46 2.16.840.1.101.3.4.1.6 2.16.840.1.101.3.4.1.42 2.16.840.1.101.3.4.1.2$' "$f"
	grep -q '^encryption-certificate: separate' "$f"
	# the second certificate in the entry is the encryption certificate
	# (-nameopt oneline: OpenSSL 3.5 and later print "CN=x" by default, 3.0 "CN = x")
	openssl x509 -noout -subject -nameopt oneline -in <(awk '/BEGIN CERT/{n++} n==2' "$f") |
		grep -q '^subject=CN = aliceenc, '
	cp "$f" "$T/before"
	SECMAIL_NOW=$t0 sign "$T/msg" >"$T/s0"
	verify --save-certs "$T/store" "$T/s0" >/dev/null
	cmp "$f" "$T/before"
	SECMAIL_NOW=$t2 sign "$T/msg" >"$T/s2"
	verify --save-certs "$T/store" "$T/s2" >/dev/null
	grep -q '^encryption-certificate: signer' "$f"
	sed -i 's/^Hello Bob,/Hello Eve,/' "$T/s2"
	rm -rf "$T/store"
	run verify --save-certs "$T/store" "$T/s2"
	assert_failure 1
	[ ! -e "$T/store/alice@example.org" ]
}

@test "verify: a certificate pinned in the store is trusted without a chain" {
	sample_msg "R <rogue@example.org>" | smime-sign --cert "$PKI/rogue.pem" --key "$PKI/rogue.key" >"$T/s"
	mkdir -p "$T/pins"
	{ printf 'secmail-certstore: 1\naddress: rogue@example.org\nsigning-time: 20260101000000Z\nencryption-certificate: signer\n\n'; cat "$PKI/rogue.pem"; } >"$T/pins/rogue@example.org"
	run smime-verify --ca-file "$PKI/ca.pem" --cert-dir "$T/pins" "$T/s"
	assert_success
}

@test "verify: trust anchors and authserv-id come from the configuration file" {
	sign "$T/msg" >"$T/s"
	printf 'ca_file %s\nauthserv_id conf.example\n' "$PKI/ca.pem" >"$T/smime.conf"
	chmod 600 "$T/smime.conf"
	unset SECMAIL_AUTHSERV_ID
	run smime-verify --config "$T/smime.conf" "$T/s"
	assert_success
	assert_output --partial "Authentication-Results: conf.example; smime=pass"
}

@test "verify: input without header fields is written back with permerror; empty input and a missing file are EX_NOINPUT" {
	# The filter contract (issue 10): any input but an empty one is written back as a
	# message (it was EX_DATAERR with nothing written until this change).
	run --separate-stderr bash -c "printf '\nbody\n' | smime-verify"
	assert_success
	[ "${lines[0]}" = 'Authentication-Results: mx.test; smime=permerror reason="the input is not a' ]
	[ "$(printf '%s\n' "$output" | tail -2)" = "$(printf '\nbody')" ]
	run --separate-stderr bash -c "smime-verify </dev/null"
	assert_failure 66
	[ -z "$output" ]
	[[ $stderr == *"the input is empty"* ]]
	run smime-verify "$T/nope"
	assert_failure 66
}

@test "verify: a write error is EX_TEMPFAIL (nothing complete was written: the MTA retries)" {
	# The filter contract: an I/O error is transient (it was EX_IOERR until this change).
	sign "$T/msg" >"$T/s"
	run bash -c "smime-verify --ca-file '$PKI/ca.pem' '$T/s' >/dev/full"
	assert_failure 75
}

@test "verify: peak memory stays under 16 MiB for a 64 MiB clear-signed message, as for a small one" {
	{ sample_msg; head -c 50000000 /dev/urandom | base64; } >"$T/big"
	{ sample_msg; head -c 100000 /dev/urandom | base64; } >"$T/small"
	sign "$T/big" >"$T/s"
	sign "$T/small" >"$T/s0"
	small=$(rss_kib smime-verify --ca-file "$PKI/ca.pem" "$T/s0")
	big=$(rss_kib smime-verify --ca-file "$PKI/ca.pem" "$T/s")
	echo "small=$small big=$big KiB"
	[ "$big" -le $((small + 2048)) ]
	asan_build smime-verify || [ "$big" -lt 16384 ]
	smime-verify --ca-file "$PKI/ca.pem" "$T/s" | head -1 | grep -q 'smime=pass'
}

@test "verify: peak memory stays under 16 MiB for a 64 MiB opaque-signed message, as for a small one" {
	{ sample_msg; head -c 48000000 /dev/urandom | base64; } >"$T/big"
	{ sample_msg; head -c 100000 /dev/urandom | base64; } >"$T/small"
	sign --opaque "$T/big" >"$T/s"
	sign --opaque "$T/small" >"$T/s0"
	small=$(rss_kib smime-verify --ca-file "$PKI/ca.pem" "$T/s0")
	big=$(rss_kib smime-verify --ca-file "$PKI/ca.pem" "$T/s")
	echo "small=$small big=$big KiB"
	[ "$big" -le $((small + 2048)) ]
	asan_build smime-verify || [ "$big" -lt 16384 ]
	smime-verify --ca-file "$PKI/ca.pem" "$T/s" >"$T/out"
	head -1 "$T/out" | grep -q 'smime=pass'
	# the unwrapped content ends as openssl cms extracts it
	openssl cms -verify -noverify -binary -in "$T/s" -out "$T/ref" 2>/dev/null
	[ "$(tr -d '\r' <"$T/out" | tail -c 65536 | sha256sum)" = "$(tr -d '\r' <"$T/ref" | tail -c 65536 | sha256sum)" ]
}

@test "verify: truncated or altered opaque signed-data fails cleanly" {
	sign --opaque "$T/msg" >"$T/s"
	# truncated: the last lines of the base64 body cut off
	n=$(wc -l <"$T/s")
	head -n $((n - 3)) "$T/s" >"$T/t"
	run verify "$T/t"
	assert_failure 1
	assert_output --partial "smime=permerror"
	assert_output --partial "not a valid CMS structure"
	# one byte of the encapsulated content changed (python3 email decodes and re-encodes)
	python3 - "$T/s" "$T/a" <<'PY'
import sys, email, email.policy, base64
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
der = bytearray(base64.b64decode(m.get_payload()))
i = der.find(b"gr=C3")
assert i > 0
der[i + 4] ^= 1
m.set_payload(base64.encodebytes(bytes(der)).decode())
open(sys.argv[2], "wb").write(m.as_bytes())
PY
	run verify "$T/a"
	assert_failure 1
	assert_output --partial "smime=fail"
	assert_output --partial "message digest mismatch"
}

@test "verify: --help, --version and unknown options" {
	run --separate-stderr smime-verify --help
	assert_success
	assert_output --partial "usage: smime-verify"
	run smime-verify --version
	assert_output --regexp '^smime-verify \(secmail\) '
	run smime-verify --bogus
	assert_failure 64
}

@test "verify: the man page is mandoc -Tlint clean" {
	run mandoc -Tlint -W warning "$TOP/man/smime-verify.1"
	assert_success
	assert_output ""
}

@test "verify: bash, zsh and fish completions offer the long options" {
	run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/smime-verify' && COMP_WORDS=(smime-verify --sa) COMP_CWORD=1 && _smime_verify && echo \"\${COMPREPLY[@]}\""
	assert_success
	assert_output --partial -- "--save-certs"
	run zsh -n "$TOP/completions/zsh/_smime-verify"
	assert_success
	run zsh -c "fpath=('$TOP/completions/zsh' \$fpath); autoload -U compinit; compinit -u -D; print \$_comps[smime-verify]"
	assert_output "_smime-verify"
	run fish -c "source '$TOP/completions/fish/smime-verify.fish'; complete -C'smime-verify --str'"
	assert_output --partial -- "--strict"
	# the filter contract's options, everywhere
	for o in --exit-code --after-decrypt --accept-sender; do
		run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/smime-verify' && COMP_WORDS=(smime-verify ${o:0:5}) COMP_CWORD=1 && _smime_verify && echo \"\${COMPREPLY[@]}\""
		assert_output --partial -- "$o"
		run fish -c "source '$TOP/completions/fish/smime-verify.fish'; complete -C'smime-verify ${o:0:5}'"
		assert_output --partial -- "$o"
		grep -q -- "$o" "$TOP/completions/zsh/_smime-verify"
		smime-verify --help | grep -q -- "$o"
		grep -q -- "Fl Fl ${o#--}" "$TOP/man/smime-verify.1"
	done
}
