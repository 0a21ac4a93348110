#!/usr/bin/env bats
# smime-verify under attack (issue 9's verifying items, issue 10's verify side): every test
# builds its hostile input itself and failed before these fixes. The verdict is read back
# with Python's email package where that matters, as an independent parser.

load helpers/common
load helpers/smime

FORGE="$BATS_TEST_DIRNAME/helpers/verify-forge.py"

# The attacker's PKI, next to the test PKI: a CA with the same name as the test
# intermediate but its own key, and certificates it makes.
evil_pki() {
	E="$BATS_FILE_TMPDIR/evil"
	mkdir -p "$E"
	(
		cd "$E"
		exec 2>evil.log
		openssl req -x509 -newkey rsa:2048 -nodes -keyout fakeint.key -out fakeint.pem \
			-subj "/CN=Test Intermediate CA" -days 3650 \
			-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
		serial=$(openssl x509 -in "$PKI/aliceenc.pem" -noout -serial | sed 's/.*=//')
		# fake encryption certificates with aliceenc's issuer name and serial number
		for who in mallory@example.net alice@example.org; do
			n=${who%@*}
			openssl req -new -newkey rsa:2048 -nodes -keyout "fake-$n.key" -out "fake-$n.csr" \
				-subj "/CN=aliceenc/emailAddress=$who"
			printf 'subjectAltName=email:%s\nkeyUsage=critical,keyEncipherment\nextendedKeyUsage=emailProtection\n' "$who" >"fake-$n.ext"
			openssl x509 -req -in "fake-$n.csr" -CA fakeint.pem -CAkey fakeint.key \
				-set_serial "0x$serial" -days 365 -extfile "fake-$n.ext" -out "fake-$n.pem"
		done
		# a certificate with a 550-octet serial number, issued by the test intermediate
		openssl req -new -newkey rsa:2048 -nodes -keyout big.key -out big.csr \
			-subj "/CN=big/emailAddress=big@example.org"
		printf 'subjectAltName=email:big@example.org\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n' >big.ext
		openssl x509 -req -in big.csr -CA "$PKI/int.pem" -CAkey "$PKI/int.key" \
			-set_serial "0x7$(head -c 549 /dev/zero | tr '\0' 'A' | xxd -p -c 1000 | head -c 1097)" \
			-days 365 -extfile big.ext -out big.pem
		# encryption certificates for Alice under sub-CAs of the test intermediate: one whose
		# extended key usage is TLS only, one for e-mail (the control)
		for eku in serverAuth emailProtection; do
			openssl req -new -newkey rsa:2048 -nodes -keyout "sub-$eku.key" -out "sub-$eku.csr" \
				-subj "/CN=Sub CA $eku"
			printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nextendedKeyUsage=%s\n' "$eku" >"sub-$eku.ext"
			openssl x509 -req -in "sub-$eku.csr" -CA "$PKI/int.pem" -CAkey "$PKI/int.key" \
				-set_serial "0x5$RANDOM" -days 365 -extfile "sub-$eku.ext" -out "sub-$eku.pem"
			openssl req -new -newkey rsa:2048 -nodes -keyout "enc-$eku.key" -out "enc-$eku.csr" \
				-subj "/CN=alice enc/emailAddress=alice@example.org"
			printf 'subjectAltName=email:alice@example.org\nkeyUsage=critical,keyEncipherment\nextendedKeyUsage=emailProtection\n' >"enc-$eku.ext"
			openssl x509 -req -in "enc-$eku.csr" -CA "sub-$eku.pem" -CAkey "sub-$eku.key" \
				-set_serial 0x6006 -days 365 -extfile "enc-$eku.ext" -out "enc-$eku.pem"
			cat "$PKI/chain.pem" "sub-$eku.pem" >"chain-$eku.pem"
		done
		# a DSA signer
		openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa.param
		openssl genpkey -paramfile dsa.param -out dsa.key
		openssl req -new -key dsa.key -out dsa.csr -subj "/CN=dsa/emailAddress=dsa@example.org"
		printf 'subjectAltName=email:dsa@example.org\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n' >dsa.ext
		openssl x509 -req -in dsa.csr -CA "$PKI/int.pem" -CAkey "$PKI/int.key" -set_serial 0x4444 \
			-days 365 -extfile dsa.ext -out dsa.pem
	) || { cat "$E/evil.log" >&2; return 1; }
}

setup_file() {
	smime_pki
	evil_pki
}
setup() {
	# Issue 14: these tests state the behaviour without header protection (RFC 9788),
	# which tests/hp-*.bats covers.
	export SECMAIL_HEADER_PROTECTION=none
	common_setup
	E="$BATS_FILE_TMPDIR/evil"
	sample_msg >"$T/msg"
	export SECMAIL_AUTHSERV_ID=mx.test
}
teardown() { common_teardown; }

sign() { smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$PKI/chain.pem" "$@"; }
verify() { smime-verify --ca-file "$PKI/ca.pem" "$@"; }
# The first field (ours), unfolded.
ar() { sed -n '1{p;:a;n;/^[ \t]/{p;ba};q}' "$1" | tr -d '\r\n' | tr -s ' \t' ' '; }
# The Authentication-Results fields of a message as Python's email package reads them, one
# per line, unfolded.
py_ar() {
	python3 - "$1" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
for v in m.get_all("Authentication-Results") or []:
    print(" ".join(str(v).split()))
PY
}
fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'; }

# ---- 1. encryption-certificate substitution ----

@test "attack: an encryption certificate swapped for one from another CA of the same name is ignored, never stored" {
	sign --encrypt-cert "$PKI/aliceenc.pem" "$T/msg" >"$T/s"
	split_signed "$T/s" "$T/c" "$T/sig"
	# the attacker replaces aliceenc (same issuer name, same serial, their own CA's key)
	python3 "$FORGE" certs "$T/sig" "$T/evil.der" --drop "$PKI/aliceenc.pem" --add "$E/fake-mallory.pem"
	wrap_signed "$T/c" "$T/evil.der" "Alice <alice@example.org>" >"$T/m"
	run --separate-stderr verify --save-certs "$T/store" "$T/m"
	assert_success
	# the signature itself is Alice's and sound: pass, with the refusal told
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=pass reason="good signature by alice@example.org; the header is not protected (only the content is); its encryption certificate was ignored: it does not verify ('* ]]
	[[ $stderr == *"the signer's encryption certificate was ignored: it does not verify"* ]]
	f="$T/store/alice@example.org"
	grep -q '^encryption-certificate: signer$' "$f"
	# nothing in the entry is the attacker's
	refute grep -q "$(sed -n 2p "$E/fake-mallory.pem")" "$f"
	refute grep -q "$(sed -n 2p "$E/fakeint.pem")" "$f"
	# smime-encrypt now encrypts to Alice's own certificate: she can read it, the attacker cannot
	printf 'From: bob@example.org\nTo: alice@example.org\nSubject: s\n\nsecret\n' |
		smime-encrypt --cert-dir "$T/store" >"$T/enc"
	openssl cms -decrypt -in "$T/enc" -inkey "$PKI/alice.key" -recip "$PKI/alice.pem" | grep -q secret
	refute openssl cms -decrypt -in "$T/enc" -inkey "$E/fake-mallory.key" -recip "$E/fake-mallory.pem" 2>/dev/null
}

@test "attack: a forged certificate naming Alice, with aliceenc's issuer name and serial, is ignored too" {
	sign --encrypt-cert "$PKI/aliceenc.pem" "$T/msg" >"$T/s"
	split_signed "$T/s" "$T/c" "$T/sig"
	python3 "$FORGE" certs "$T/sig" "$T/evil.der" --drop "$PKI/aliceenc.pem" --add "$E/fake-alice.pem"
	wrap_signed "$T/c" "$T/evil.der" "Alice <alice@example.org>" >"$T/m"
	# the attacker's CA is even trusted alongside the real one: its key still does not
	# make it the issuer the real intermediate's name stands for in the chain to the root
	run --separate-stderr verify --save-certs "$T/store" "$T/m"
	assert_success
	assert_output --partial "smime=pass"
	grep -q '^encryption-certificate: signer$' "$T/store/alice@example.org"
}

@test "attack: with the genuine and a forged encryption certificate in the set, the genuine one is stored" {
	sign --encrypt-cert "$PKI/aliceenc.pem" "$T/msg" >"$T/s"
	split_signed "$T/s" "$T/c" "$T/sig"
	python3 "$FORGE" certs "$T/sig" "$T/evil.der" --first "$E/fake-alice.pem" --first "$E/fake-mallory.pem"
	wrap_signed "$T/c" "$T/evil.der" "Alice <alice@example.org>" >"$T/m"
	run --separate-stderr verify --save-certs "$T/store" "$T/m"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=pass reason="good signature by alice@example.org; the header is not protected (only the content is)" '* ]]
	f="$T/store/alice@example.org"
	grep -q '^encryption-certificate: separate$' "$f"
	awk '/BEGIN CERT/{n++} n==2' "$f" >"$T/second.pem"
	[ "$(fp "$T/second.pem")" = "$(fp "$PKI/aliceenc.pem")" ]
}

@test "attack: certificates the attacker adds to the set are not stored as the chain" {
	sign "$T/msg" >"$T/s"
	split_signed "$T/s" "$T/c" "$T/sig"
	python3 "$FORGE" certs "$T/sig" "$T/evil.der" --add "$E/fakeint.pem" --add "$E/fake-mallory.pem"
	wrap_signed "$T/c" "$T/evil.der" "Alice <alice@example.org>" >"$T/m"
	run verify --save-certs "$T/store" "$T/m"
	assert_success
	assert_output --partial "smime=pass"
	f="$T/store/alice@example.org"
	# the signer, then the chain that verified it: the intermediate and the root
	[ "$(grep -c 'BEGIN CERTIFICATE' "$f")" -eq 3 ]
	for x in fakeint fake-mallory; do refute grep -q "$(sed -n 2p "$E/$x.pem")" "$f"; done
	grep -q "$(sed -n 2p "$PKI/int.pem")" "$f"
}

@test "attack: an encryption certificate for another address or not for e-mail is not stored" {
	for enc in bob noeku; do
		sign --encrypt-cert "$PKI/$enc.pem" "$T/msg" >"$T/s"
		rm -rf "$T/store"
		run --separate-stderr verify --save-certs "$T/store" "$T/s"
		assert_success
		assert_output --partial "smime=pass"
		grep -q '^encryption-certificate: signer$' "$T/store/alice@example.org"
		[ "$(grep -c 'BEGIN CERTIFICATE' "$T/store/alice@example.org")" -eq 3 ]
		case $enc in
		bob) [[ $stderr == *"ignored: it is for bob@example.org, not for the signer's address alice@example.org"* ]] ;;
		noeku) [[ $stderr == *"ignored: it is not for e-mail protection"* ]] ;;
		esac
	done
}

@test "attack: an encryption certificate under a CA that is not for e-mail (TLS only) is not stored" {
	for eku in emailProtection serverAuth; do
		sign --chain "$E/chain-$eku.pem" --encrypt-cert "$E/enc-$eku.pem" "$T/msg" >"$T/s"
		rm -rf "$T/store"
		run --separate-stderr verify --save-certs "$T/store" "$T/s"
		assert_success
		assert_output --partial "smime=pass"
		case $eku in
		emailProtection)	# the control: the same certificate under an e-mail CA is stored
			grep -q '^encryption-certificate: ' "$T/store/alice@example.org"
			refute grep -q '^encryption-certificate: signer$' "$T/store/alice@example.org"
			grep -q "$(sed -n 2p "$E/enc-$eku.pem")" "$T/store/alice@example.org" ;;
		serverAuth)
			grep -q '^encryption-certificate: signer$' "$T/store/alice@example.org"
			refute grep -q "$(sed -n 2p "$E/enc-$eku.pem")" "$T/store/alice@example.org"
			[[ $stderr == *"ignored: a CA above it is not for e-mail protection"* ]] ;;
		esac
	done
}

@test "attack: smime-certs import refuses a certificate under a CA that is not for e-mail" {
	export XDG_DATA_HOME="$T/data"
	cat "$E/enc-serverAuth.pem" "$E/chain-serverAuth.pem" >"$T/tls.pem"
	cat "$E/enc-emailProtection.pem" "$E/chain-emailProtection.pem" >"$T/mail.pem"
	run --separate-stderr smime-certs --ca-file "$PKI/ca.pem" import "$T/tls.pem"
	assert_failure
	[[ $stderr == *"a CA above it is not for e-mail protection"* ]]
	[ ! -e "$T/data/secmail/certs/alice@example.org" ]
	run --separate-stderr smime-certs --ca-file "$PKI/ca.pem" import "$T/mail.pem"
	assert_success
	[ -e "$T/data/secmail/certs/alice@example.org" ]
}

# ---- 2. the cipher noted for a sender ----

# decrypted_record CIPHER INTEGRITY: a Secmail-Decryption field as smime-decrypt writes it.
decrypted_record() {
	printf 'Secmail-Decryption: mx.test; decrypted cipher=%s integrity=%s\n' "$1" "$2"
}

@test "attack: the cipher is noted only for a sender whose signature on that message passed" {
	sign "$T/msg" >"$T/s"
	verify --save-certs "$T/store" "$T/s" >/dev/null
	f="$T/store/alice@example.org"
	refute grep -q '^received-cipher:' "$f"
	# an unsigned message claiming to be from Alice, "decrypted" with AES-128-CBC
	{ decrypted_record aes-128-cbc none; cat "$T/msg"; } >"$T/unsigned"
	run verify --after-decrypt --save-certs "$T/store" "$T/unsigned"
	assert_success
	assert_output --partial "smime=none"
	refute grep -q '^received-cipher:' "$f"
	# Alice's signed message, altered: not noted either
	{ decrypted_record aes-128-cbc none; sed 's/^Hello Bob,/Hello Eve,/' "$T/s"; } >"$T/bad"
	run verify --after-decrypt --save-certs "$T/store" "$T/bad"
	assert_output --partial "smime=fail"
	refute grep -q '^received-cipher:' "$f"
	# her genuine message that came in AES-256-GCM: noted
	{ decrypted_record aes-256-gcm aead; cat "$T/s"; } >"$T/good"
	run verify --after-decrypt --save-certs "$T/store" "$T/good"
	assert_output --partial "smime=pass"
	grep -q '^received-cipher: 2.16.840.1.101.3.4.1.46$' "$f"
	# without --after-decrypt the record is not believed (and is removed)
	{ decrypted_record aes-128-cbc none; cat "$T/s"; } >"$T/forged"
	run verify --save-certs "$T/store" "$T/forged"
	assert_output --partial "smime=pass"
	refute_output --partial "Secmail-Decryption"
	grep -q '^received-cipher: 2.16.840.1.101.3.4.1.46$' "$f"
}

# ---- 3. signing time in the future ----

@test "attack: a signing time years ahead is refused, one within the allowance is not" {
	SECMAIL_NOW=$(($(date +%s) + 3 * 365 * 86400)) sign "$T/msg" >"$T/s"
	run --separate-stderr verify --save-certs "$T/store" "$T/s"
	assert_success
	assert_output --partial "smime=policy"
	[[ "$(ar <(printf '%s\n' "$output"))" == *"is in the future (more than 15 minutes ahead of this host's clock)"* ]]
	[ ! -e "$T/store/alice@example.org" ]
	SECMAIL_NOW=$(($(date +%s) + 600)) sign "$T/msg" >"$T/s2"
	run verify -E "$T/s2"
	assert_success
}

@test "attack: a stored signing time from the future does not freeze the entry" {
	sign --encrypt-cert "$PKI/aliceenc.pem" "$T/msg" >"$T/s"
	verify --save-certs "$T/store" "$T/s" >/dev/null
	f="$T/store/alice@example.org"
	# an entry frozen in 2090 (as an older smime-verify let a future signing time in)
	sed -i 's/^signing-time: .*/signing-time: 20900101000000Z/' "$f"
	grep -q '^encryption-certificate: separate$' "$f"
	SECMAIL_NOW=$(($(date +%s) - 60)) sign "$T/msg" >"$T/s2"
	run verify --save-certs "$T/store" "$T/s2"
	assert_output --partial "smime=pass"
	grep -q '^encryption-certificate: signer$' "$f"
	refute grep -q '^signing-time: 2090' "$f"
}

# ---- 4. wrapping ----

@test "attack: attacker text before Alice's signed part in a multipart/mixed is not a pass" {
	sign "$T/msg" >"$T/s"
	{
		printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: invoice\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary=EVIL\n\n--EVIL\nContent-Type: text/plain\n\n'
		printf 'Please pay 9000 EUR to the account below.\n\n--EVIL\n'
		sed -n '/^MIME-Version:/,$p' "$T/s" | tail -n +2
		printf '\n--EVIL--\n'
	} >"$T/m"
	run --separate-stderr verify "$T/m"
	assert_success		# written: the verdict travels in the header
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=policy reason="only part 2 is signed (good signature by alice@example.org); the rest of the message is not" body.smime-identifier=alice@example.org body.smime-part=2'* ]]
	run verify -E "$T/m"
	assert_failure 1
	printf '%s\n' "$output" >"$T/out"
	py_ar "$T/out" | grep -q '^mx.test; smime=policy'
}

@test "attack: a multipart/signed readers may take apart differently (boundary twice, two Content-Type, a transfer encoding) is permerror, with --keep too" {
	sign "$T/msg" >"$T/s"
	# $1: what to do to the header (a Python expression over h, the header bytes, and b, the
	# boundary); the attacker's part goes before Alice's parts, as a preamble to us
	# mangle HOW: the header changed so (sections, twice, ct, cte=X, none), and the attacker's
	# part put before Alice's parts (a preamble to us)
	mangle() {
		python3 - "$T/s" "$1" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read()
h, body = raw.split(b"\n\n", 1)
b = re.search(rb'boundary="([^"]+)"', h).group(1)
how = sys.argv[2]
if how == "sections":
    h = h.replace(b'boundary="' + b + b'"', b'boundary*0="' + b + b'"; boundary="EVIL"')
elif how == "twice":
    h = h.replace(b'boundary="' + b + b'"', b'boundary="' + b + b'"; boundary="EVIL"')
elif how == "ct":
    h += b"\nContent-Type: multipart/mixed; boundary=EVIL"
elif how.startswith("cte="):
    h += b"\nContent-Transfer-Encoding: " + how[4:].encode()
evil = b"--EVIL\nContent-Type: text/plain\n\nPlease pay 9000 EUR to Mallory.\n--EVIL--\n"
sys.stdout.buffer.write(h + b"\n\n" + evil + body)
PY
	}
	# RFC 2231 section 0 next to a plain boundary: we took the section, Python takes the plain one
	mangle sections >"$T/m"
	python3 -c 'import email, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert m.get_boundary() == "EVIL" and "9000 EUR" in m.get_payload(0).get_payload()' "$T/m"
	run verify --keep "$T/m"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=permerror reason="the multipart/signed gives its boundary 2 times: readers differ on which one holds, so they may see other parts"'* ]]
	# the same boundary given twice, plain
	mangle twice >"$T/m"
	run verify "$T/m"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=permerror reason="the multipart/signed gives its boundary 2 times'* ]]
	# a second Content-Type field (RFC 2045 allows one; some readers take the last)
	mangle ct >"$T/m"
	python3 -c 'import email, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert len(m.get_all("Content-Type")) == 2' "$T/m"
	run verify --keep "$T/m"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=permerror reason="the message has 2 Content-Type fields (RFC 2045 allows one): a reader may take another than the one checked"'* ]]
	# a transfer encoding on the multipart/signed
	for cte in quoted-printable base64; do
		mangle "cte=$cte" >"$T/m"
		run verify --keep "$T/m"
		[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=permerror reason="the multipart/signed has a Content-Transfer-Encoding (RFC 2045 allows none on a multipart)'* ]]
	done
	# the control: the preamble alone (no reader shows it) still passes
	mangle none >"$T/m"
	run verify -E --keep "$T/m"
	assert_success
}

@test "attack: a boundary after or before a bare CR (Thunderbird and Python end a line there) is permerror, never a pass" {
	sign "$T/msg" >"$T/s"
	# inject WHERE: the attacker's part hidden in one line for us, a part of its own to
	# readers that end lines at a bare CR; "control" puts spaces where the CRs were
	inject() {
		python3 - "$T/s" "$1" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read()
h, body = raw.split(b"\n\n", 1)
b = re.search(rb'boundary="([^"]+)"', h).group(1)
evil = b"Content-Type: text/plain\r\rPlease pay 9000 EUR to Mallory."
where = sys.argv[2]
if where == "after":		# in the preamble, after a bare CR
    body = b"Signed.\r--" + b + b"\r" + evil + b"\n" + body
elif where == "before":		# a delimiter line ended by a bare CR
    body = b"--" + b + b"\r" + evil + b"\n" + body
elif where == "header":		# in the signature part's header
    i = body.index(b"Content-Type: application/pkcs7-signature")
    body = body[:i] + b"X-Note: x\r--" + b + b"\r" + evil + b"\n" + body[i:]
elif where == "control":
    body = b"Signed. --" + b + b" " + evil.replace(b"\r", b" ") + b"\n" + body
sys.stdout.buffer.write(h + b"\n\n" + body)
PY
	}
	for where in after before; do
		inject "$where" >"$T/m"
		# the attack is real: Python's email shows Mallory's part first
		python3 -c 'import email, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"))
p = m.get_payload()
assert len(p) == 3 and "9000 EUR" in p[0].get_payload(), [x.get_payload()[:40] for x in p]' "$T/m"
		run --separate-stderr verify "$T/m"
		assert_success
		[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=permerror reason="a MIME boundary after or before a bare CR: readers that end lines there see other parts than the ones checked"'* ]]
		# written back whole
		[[ $output == *"Please pay 9000 EUR"* ]]
		[ "$(printf '%s\n' "$output" | sed 1,/^$/d | cmp - <(sed 1,/^$/d "$T/m") && echo same)" = same ]
	done
	inject header >"$T/m"
	python3 -c 'import email, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert len(m.get_payload()) == 3' "$T/m"
	run verify "$T/m"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=permerror reason="a MIME boundary after or before a bare CR'* ]]
	# the control: the same bytes without the bare CRs are one line to every reader, and pass
	inject control >"$T/m"
	python3 -c 'import email, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert len(m.get_payload()) == 2' "$T/m"
	run verify -E "$T/m"
	assert_success
	assert_output --partial "smime=pass"
}

@test "attack: Alice's signed mail forwarded inside a message/rfc822 under another From is not a pass" {
	sign "$T/msg" >"$T/s"
	{
		printf 'From: Carol <carol@example.org>\nTo: bob@example.org\nSubject: Fwd\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary=EVIL\n\n--EVIL\nContent-Type: text/plain\n\n'
		printf 'Alice agreed, see her signed mail.\n--EVIL\nContent-Type: message/rfc822\n\n'
		cat "$T/s"
		printf '\n--EVIL--\n'
	} >"$T/m"
	run verify "$T/m"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=policy reason="only the message forwarded in part 2.1 is signed (good signature by alice@example.org); the message around it (From: Carol <carol@example.org>) is not"'* ]]
	assert_output --partial "body.smime-part=2.1"
}

# ---- 5. From checks ----

@test "attack: two From fields are policy, whichever the signer matches" {
	sign "$T/msg" >"$T/s"
	sed '2a From: Mallory <mallory@example.net>' "$T/s" >"$T/m"
	[ "$(grep -c '^From:' "$T/m")" -eq 2 ]
	run verify "$T/m"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=policy reason="the message has 2 From fields (RFC 5322 allows one): a reader may show either author"'* ]]
}

@test "attack: a From with a second mailbox the signer does not own is policy" {
	sign "$T/msg" >"$T/s"
	sed 's/^From: Alice <alice@example.org>/From: Alice <alice@example.org>, CEO <ceo@example.org>\nSender: alice@example.org/' "$T/s" >"$T/m"
	run verify "$T/m"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'is for alice@example.org, the Sender, not for the From address ceo@example.org (the author a reader sees)"'* ]]
}

@test "attack: a display name that is another address is policy, plain, RFC 2047-encoded or full-width" {
	for from in '"alice@example.org" <mallory@example.net>' \
		'=?utf-8?q?alice=40example=2Eorg?= <mallory@example.net>' \
		'"alice＠example.org" <mallory@example.net>' \
		'"Alice (alice@example.org)" <mallory@example.net>'; do
		sample_msg "$from" | smime-sign --cert "$PKI/mallory.pem" --key "$PKI/mallory.key" --chain "$PKI/chain.pem" >"$T/s"
		run verify "$T/s"
	assert_success
		[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=policy reason="the From display name shows the address alice'*'example.org, but the mailbox is mallory@example.net"'* ]]
	done
	# what the reason quotes from the input cannot steer a reader's screen
	sample_msg "$(printf '"alice@example.org\342\200\256gro.elpmaxe" <mallory@example.net>')" | smime-sign --cert "$PKI/mallory.pem" --key "$PKI/mallory.key" --chain "$PKI/chain.pem" >"$T/s"
	verify "$T/s" >"$T/out"
	ar "$T/out" | grep -q 'shows the address alice@example.org\\\\u202[eE]gro.elpmaxe'
	! ar "$T/out" | grep -q "$(printf '\342\200\256')" || false
	# a display name that is the mailbox itself is fine
	sample_msg '"mallory@example.net" <mallory@example.net>' | smime-sign --cert "$PKI/mallory.pem" --key "$PKI/mallory.key" --chain "$PKI/chain.pem" >"$T/s"
	run verify -E "$T/s"
	assert_success
}

@test "attack: a comment or group name that is another address is policy (readers show it as the name)" {
	for from in 'mallory@example.net (alice@example.org)' \
		'(=?utf-8?q?alice=40example.org?=) mallory@example.net' \
		'"alice@example.org": mallory@example.net;'; do
		sample_msg "$from" | smime-sign --cert "$PKI/mallory.pem" --key "$PKI/mallory.key" --chain "$PKI/chain.pem" >"$T/s"
		# what a reader shows: Python's parseaddr and its group parser name alice@example.org
		python3 -c 'import sys, email.utils as u, email.policy as p, email, email.header as h
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=p.default)
g = m["From"].groups[0]
name = str(h.make_header(h.decode_header(u.parseaddr(sys.argv[2])[0])))
assert "alice@example.org" in (name, g.display_name), (sys.argv[2], g)' "$T/s" "$from"
		run verify "$T/s"
		assert_success
		[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=policy reason="the From field shows the address alice@example.org in a comment or group name, but its mailbox is mallory@example.net"'* ]]
	done
	# a comment that is a name, or the address itself, is fine
	for from in 'mallory@example.net (Mallory)' 'Mallory <mallory@example.net> (mallory@EXAMPLE.net)'; do
		sample_msg "$from" | smime-sign --cert "$PKI/mallory.pem" --key "$PKI/mallory.key" --chain "$PKI/chain.pem" >"$T/s"
		run verify -E "$T/s"
		assert_success
	done
}

@test "attack: header fields inside the signed entity are never promoted; a difference is reported" {
	# Alice signs an entity that carries its own From and Subject
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: outer\nMIME-Version: 1.0\nContent-Type: text/plain\n\nbody\n' >"$T/plain"
	printf 'From: The CEO <ceo@example.org>\r\nSubject: wire 9000 EUR\r\nContent-Type: text/plain\r\n\r\nbody\r\n' >"$T/entity"
	openssl cms -sign -binary -in "$T/entity" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -outform DER -out "$T/sig"
	wrap_signed "$T/entity" "$T/sig" "Alice <alice@example.org>" >"$T/m"
	run verify "$T/m"
	assert_success
	printf '%s\n' "$output" >"$T/out"
	[ "$(grep -c '^From:' "$T/out")" -eq 1 ]
	refute grep -q 'ceo@example.org' "$T/out"
	refute grep -q '^Subject: wire' "$T/out"
	[[ "$(ar "$T/out")" == *'smime=pass reason="good signature by alice@example.org; the header is not protected (only the content is); the signed part carries header fields that differ from the message'"'"'s, not shown: From, Subject"'* ]]
	python3 - "$T/out" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert m.get_all("From") == ["Alice <alice@example.org>"], m.get_all("From")
assert m.get_all("Subject") == ["wrapped"], m.get_all("Subject")
assert m.get_content_type() == "text/plain"
assert m.get_payload().strip() == "body"
PY
	# opaque: the same
	openssl cms -sign -binary -nodetach -in "$T/entity" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -outform DER -out "$T/op"
	{ printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: outer\nMIME-Version: 1.0\n'
	  printf 'Content-Type: application/pkcs7-mime; smime-type=signed-data\nContent-Transfer-Encoding: base64\n\n'
	  base64 "$T/op"; } >"$T/m2"
	run verify "$T/m2"
	assert_success
	[ "$(printf '%s\n' "$output" | grep -c '^From:')" -eq 1 ]
	refute_output --partial "ceo@example.org"
	[[ "$(ar <(printf '%s\n' "$output"))" == *"not shown: From, Subject"* ]]
}

# ---- 6. eContentType ----

@test "attack: signed header lines joined with bare CRs (the digest reads them as line ends) never surface as fields" {
	# Alice signs an entity whose content field is followed by a From and a Subject of its own
	printf 'Content-Type: text/plain\r\nFrom: The CEO <ceo@example.org>\r\nSubject: wire 9000 EUR\r\n\r\nbody\r\n' >"$T/entity"
	openssl cms -sign -binary -in "$T/entity" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -outform DER -out "$T/sig"
	# on the way, the CRLFs inside that header become bare CRs: the signature still verifies
	wrap_signed "$T/entity" "$T/sig" "Alice <alice@example.org>" \
		| sed '/^Content-Type: text\/plain$/{N;N;s/\n/\r/g}' >"$T/m"
	grep -q "$(printf 'text/plain\rFrom: The CEO')" "$T/m"
	# openssl cms agrees: the part, its line ends made canonical, is what Alice signed
	python3 - "$T/m" "$T/canon" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read()
part = raw.split(b"--XyZ\n")[1].rsplit(b"\n", 1)[0]
open(sys.argv[2], "wb").write(re.sub(b"\r\n|\r|\n", b"\r\n", part))
PY
	openssl cms -verify -binary -inform DER -in "$T/sig" -content "$T/canon" -CAfile "$PKI/ca.pem" -purpose any -out /dev/null 2>/dev/null
	run verify "$T/m"
	assert_success
	printf '%s\n' "$output" >"$T/out"
	[[ "$(ar "$T/out")" == *'smime=pass reason="good signature by alice@example.org'* ]]
	# no reader that ends lines at a bare CR finds the CEO's From or the signed Subject
	[ "$(grep -c $'\r' "$T/out")" -eq 0 ]
	python3 - "$T/out" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert m.get_all("From") == ["Alice <alice@example.org>"], m.get_all("From")
assert m.get_all("Subject") == ["wrapped"], m.get_all("Subject")
PY
}

@test "attack: opaque signed-data whose eContentType is not id-data is not a pass and not unwrapped" {
	printf 'Content-Type: text/plain\r\n\r\nPay 9000 EUR.\r\n' >"$T/c"
	openssl cms -sign -binary -nodetach -econtent_type 1.2.840.113549.1.9.16.1.4 -in "$T/c" \
		-signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -outform DER -out "$T/tst"
	{ printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: s\nMIME-Version: 1.0\n'
	  printf 'Content-Type: application/pkcs7-mime; smime-type=signed-data\nContent-Transfer-Encoding: base64\n\n'
	  base64 "$T/tst"; } >"$T/m"
	run verify "$T/m"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=policy reason="the signed content is id-smime-ct-TSTInfo, not a MIME entity (id-data): it is not mail"'* ]]
	assert_output --partial "application/pkcs7-mime"
	refute_output --partial "Pay 9000"
}

# ---- 7. forged Authentication-Results ----

@test "attack: forged Authentication-Results claiming our authserv-id never survive, on any path" {
	forged=(
		'Authentication-Results: (comment) mx.test; smime=pass'
		'Authentication-Results: "mx.test"; smime=pass'
		'Authentication-Results : mx.test; smime=pass'
		'authentication-results:mx.test;smime=pass'
		'Authentication-Results: MX.TEST.; smime=pass'
		'Authentication-Results:
 mx.test; smime=pass'
		'Secmail-Decryption: mx.test; decrypted cipher=aes-256-gcm integrity=aead'
	)
	sign "$T/msg" >"$T/good"
	sed 's/^Hello Bob,/Hello Eve,/' "$T/good" >"$T/bad"
	printf 'From: a@example.org\nSubject: junk\nthis line has no colon\n\nbody\n' >"$T/broken"
	for m in "$T/good" "$T/bad" "$T/msg" "$T/broken"; do
		# --after-decrypt trusts the record at its input (smime-verify(1), "Decrypted
		# mail"): it runs as documented, behind smime-decrypt, which removes forged ones
		for opt in "" --keep --after-decrypt; do
			{ printf '%s\n' "${forged[@]}"; printf 'Authentication-Results: other.example; spf=pass\n'; cat "$m"; } >"$T/in"
			if [ "$opt" = --after-decrypt ]; then
				smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/in" |
					verify --after-decrypt >"$T/out"
			else
				verify $opt "$T/in" >"$T/out"
			fi
			py_ar "$T/out" >"$T/ars"
			# exactly one field claims mx.test: ours, first
			[ "$(grep -ci '^[("]*mx\.test' "$T/ars")" -eq 1 ] || { cat "$T/out"; false; }
			head -1 "$T/out" | grep -q '^Authentication-Results: mx.test; smime='
			grep -q '^other.example; spf=pass$' "$T/ars"
			refute grep -qi '^secmail-decryption' "$T/out"
			refute grep -qi 'comment) mx.test' "$T/out"
		done
	done
}

# ---- 8. the message is never dropped ----

@test "attack: a signer certificate with a 550-octet serial still gives the message with a verdict" {
	[ "$(openssl x509 -in "$E/big.pem" -noout -serial | sed 's/.*=//' | wc -c)" -gt 1100 ]
	sample_msg "Big <big@example.org>" | smime-sign --cert "$E/big.pem" --key "$E/big.key" --chain "$PKI/chain.pem" >"$T/s"
	run --separate-stderr verify "$T/s"
	assert_success
	[[ "${lines[0]}" == "Authentication-Results: mx.test; smime="* ]]
	refute_output --partial "body.smime-serial"
	printf '%s\n' "$output" | grep -q 'Hello Bob'
	printf '%s\n' "$output" | awk 'length > 998 { bad = 1 } END { exit bad }'
}

@test "attack: a header line without a colon, a NUL, a 70 KiB line: written back with permerror" {
	printf 'From: a@example.org\nSubject: s\nno colon here\nAuthentication-Results: mx.test; smime=pass\n\nbody\n' >"$T/m1"
	printf 'From: a@example.org\nSubject: s\0x\nAuthentication-Results: mx.test; smime=pass\n\nbody\n' >"$T/m2"
	{ printf 'From: a@example.org\nX-Long: '; head -c 71680 /dev/zero | tr '\0' 'x'; printf '\nAuthentication-Results: mx.test; smime=pass\n\nbody\n'; } >"$T/m3"
	for i in 1 2 3; do
		verify "$T/m$i" >"$T/out" 2>/dev/null	# a file: bash variables drop NUL bytes
		[[ "$(ar "$T/out")" == 'Authentication-Results: mx.test; smime=permerror reason="the header is malformed: '* ]]
		# every byte of the input is there, after our field, with one blank line put where
		# the header had to end: Python's email package sees the forged field in the body
		tail -n +2 "$T/out" | sed '/^[ \t]/d' | tr -d '\n' >"$T/rest"
		tr -d '\n' <"$T/m$i" | cmp - "$T/rest"
		[ "$(py_ar "$T/out" | wc -l)" -eq 1 ]
	done
	[[ "$(ar <(verify "$T/m1"))" == *'header line 3 is not a header field'* ]]
	[[ "$(ar <(verify "$T/m2"))" == *'NUL byte in header line 2'* ]]
	[[ "$(ar <(verify "$T/m3"))" == *'header line 2 is longer than 65536 bytes'* ]]
}

@test "attack: garbage, a lone blank line and a header without a body are written back" {
	printf '\x01\x02 garbage \xff\n' >"$T/g"
	printf '\n' >"$T/b"
	printf 'From: a@example.org' >"$T/h"
	for m in g b h; do
		run --separate-stderr verify "$T/$m"
		assert_success
		[[ "${lines[0]}" == "Authentication-Results: mx.test; smime="* ]]
	done
}

# ---- RFC 4134 section 4.6: a DSA key that inherits its parameters ----

@test "attack: a signer key that cannot be used is neutral, never 'altered'" {
	python3 "$FORGE" dsa-noparams "$E/dsa.pem" "$PKI/int.pem" "$PKI/int.key" "$T/dsa-noparams.pem"
	openssl asn1parse -in "$T/dsa-noparams.pem" | grep -A1 ':dsaEncryption' | grep -q BIT	# no parameters
	printf 'Content-Type: text/plain\r\n\r\nsigned with DSA\r\n' >"$T/c"
	for attrs in "" -noattr; do
		openssl cms -sign -binary $attrs -in "$T/c" -signer "$E/dsa.pem" -inkey "$E/dsa.key" -certfile "$PKI/int.pem" -md sha256 -outform DER -out "$T/sig"
		python3 "$FORGE" certs "$T/sig" "$T/sig2" --drop "$E/dsa.pem" --add "$T/dsa-noparams.pem"
		wrap_signed "$T/c" "$T/sig2" "D <dsa@example.org>" >"$T/m"
		run --separate-stderr verify "$T/m"
		assert_success
		[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=neutral reason="the signer'"'"'s DSA key has no domain parameters (inherited from its issuer, RFC 3279 section 2.3.2, which is not supported), so the signature cannot be checked"'* ]]
		refute_output --partial "altered"
		# with the full certificate the same signature passes
		wrap_signed "$T/c" "$T/sig" "D <dsa@example.org>" >"$T/ok"
		run verify -E "$T/ok"
		assert_success
	done
	# a wrong key without signed attributes: a failure that does not claim to know which
	openssl cms -sign -binary -noattr -in "$T/c" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -outform DER -out "$T/sig3"
	printf 'Content-Type: text/plain\r\n\r\nsigned with DSA, altered\r\n' >"$T/c2"
	wrap_signed "$T/c2" "$T/sig3" "Alice <alice@example.org>" >"$T/m3"
	run verify "$T/m3"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=fail reason="the signature does not match the content: the content was altered after signing, or the signature was not made with the signer'"'"'s key'* ]]
}

# ---- issue 10: encrypted mail that was not decrypted ----

@test "encrypted: s-nail's application/x-pkcs7-mime without smime-type is none, not permerror" {
	printf 'Content-Type: text/plain\n\nsecret\n' | openssl cms -encrypt -aes-256-cbc -outform DER -out "$T/env" "$PKI/bob.pem"
	for ct in 'application/x-pkcs7-mime; name="smime.p7m"' 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'; do
		{ printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: s\nMIME-Version: 1.0\n'
		  printf 'Content-Type: %s\nContent-Transfer-Encoding: base64\n\n' "$ct"
		  base64 "$T/env"; } >"$T/m"
		run verify "$T/m"
	assert_success
		[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=none reason="the message is encrypted'*'and was not decrypted: there is no signature to check"'* ]]
	done
}

@test "after-decrypt: one verdict says what happened to the message as a whole" {
	sign "$T/msg" >"$T/s"
	{ decrypted_record aes-256-gcm aead; cat "$T/s"; } >"$T/m1"
	run verify --after-decrypt "$T/m1"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=pass reason="decrypted (aes-256-gcm, authenticated encryption); good signature by alice@example.org; the header is not protected (only the content is)"'* ]]
	# the record stays, right after our field
	[ "$(printf '%s\n' "$output" | grep -c '^Secmail-Decryption: mx.test; decrypted cipher=aes-256-gcm integrity=aead$')" -eq 1 ]
	{ decrypted_record aes-256-cbc none; cat "$T/s"; } >"$T/m2"
	run verify --after-decrypt "$T/m2"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=pass reason="decrypted (aes-256-cbc, no integrity protection of its own; the signature inside covers the content); good signature by alice@example.org; the header is not protected (only the content is)"'* ]]
	{ decrypted_record aes-256-cbc none; cat "$T/msg"; } >"$T/m3"
	run verify --after-decrypt "$T/m3"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=none reason="decrypted (aes-256-cbc, no integrity protection): the content is not signed, so it may have been altered on the way"'* ]]
	{ printf 'Secmail-Decryption: mx.test; failed reason="the authentication tag does not match: the message was altered"\n'; cat "$T/msg"; } >"$T/m4"
	run verify --after-decrypt "$T/m4"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=permerror reason="the message could not be decrypted: the authentication tag does not match: the message was altered"'* ]]
	# a second record claiming us is removed; only the first is believed
	{ decrypted_record aes-256-gcm aead; decrypted_record aes-128-cbc none; cat "$T/s"; } >"$T/m5"
	run verify --after-decrypt "$T/m5"
	[ "$(printf '%s\n' "$output" | grep -c '^Secmail-Decryption:')" -eq 1 ]
	assert_output --partial "integrity=aead"
}

# ---- issue 10: exit status, --save-certs, the default store ----

@test "contract: exit 0 whenever the message was written; -E for the verdict; --strict withholds" {
	sign "$T/msg" >"$T/s"
	sed 's/^Hello Bob,/Hello Eve,/' "$T/s" >"$T/bad"
	for m in "$T/s" "$T/bad" "$T/msg"; do
		run verify "$m"
		assert_success
		assert_output --partial "Authentication-Results: mx.test; smime="
	done
	run verify -E "$T/s"
	assert_success
	for m in "$T/bad" "$T/msg"; do
		run verify --exit-code "$m"
		assert_failure 1
		assert_output --partial "Authentication-Results: mx.test; smime="
	done
	run --separate-stderr verify --strict "$T/bad"
	assert_failure 1
	[ -z "$output" ]
}

@test "contract: transient failures are EX_TEMPFAIL with nothing written" {
	sign "$T/msg" >"$T/s"
	run --separate-stderr smime-verify --ca-file "$T/missing.pem" "$T/s"
	assert_failure 75
	[ -z "$output" ]
	[[ $stderr == *"cannot load trust anchors"* ]]
	run --separate-stderr bash -c "cat '$T/s' | TMPDIR='$T/nonexistent' smime-verify --ca-file '$PKI/ca.pem'"
	assert_failure 75
	[ -z "$output" ]
}

@test "contract: --save-certs creates missing parents 0700; a store that cannot be written is told in the verdict, exit 0" {
	sign "$T/msg" >"$T/s"
	run verify --save-certs "$T/a/b/certs" "$T/s"
	assert_success
	[ -f "$T/a/b/certs/alice@example.org" ]
	[ "$(stat -c %a "$T/a")" = 700 ] && [ "$(stat -c %a "$T/a/b/certs")" = 700 ]
	: >"$T/file"
	run --separate-stderr verify --save-certs "$T/file/certs" "$T/s"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=pass reason="good signature by alice@example.org; the header is not protected (only the content is); (certificate store not updated: certificate store: '* ]]
	[[ $stderr == *"the certificate store was not updated"* ]]
	printf '%s\n' "$output" | grep -q 'Hello Bob'
}

@test "contract: the default store (the one smime-encrypt reads) is trusted without --cert-dir" {
	sample_msg "R <rogue@example.org>" | smime-sign --cert "$PKI/rogue.pem" --key "$PKI/rogue.key" >"$T/s"
	run verify -E "$T/s"
	assert_failure 1
	d="$XDG_DATA_HOME/secmail/certs"
	mkdir -p "$d"
	{ printf 'secmail-certstore: 1\naddress: rogue@example.org\nsigning-time: 20260101000000Z\nencryption-certificate: signer\n\n'; cat "$PKI/rogue.pem"; } >"$d/rogue@example.org"
	run verify -E "$T/s"
	assert_success
	# and a pinned certificate is still held to everything else: not one signed by another key
	sample_msg "R <rogue@example.org>" | smime-sign --no-from-check --cert "$PKI/mallory.pem" --key "$PKI/mallory.key" --chain "$PKI/chain.pem" >"$T/s2"
	run verify -E "$T/s2"
	assert_failure 1
}

@test "contract: a store someone else can change is refused (EX_CONFIG), nothing written" {
	sign "$T/msg" >"$T/s"
	mkdir -m 770 "$T/gw"
	chmod 770 "$T/gw"
	run --separate-stderr verify --cert-dir "$T/gw" "$T/s"
	assert_failure 78
	[ -z "$output" ]
	[[ $stderr == *"is writable by its group: refusing to use it"* ]]
	mkdir -m 700 "$T/other"
	if [ "$(id -u)" -eq 0 ]; then chown 65534 "$T/other"; o="$T/other"; else o=/; fi
	run --separate-stderr verify --save-certs "$o" "$T/s"
	assert_failure 78
	[[ $stderr == *"not to you"* ]]
}

# ---- real corpora: CPython's test_email messages (libpython3.11-testsuite) ----

@test "corpus: every message of CPython's test_email is written back whole, with one verdict of ours" {
	corpus=/usr/lib/python3.11/test/test_email/data
	[ -d "$corpus" ]
	n=0
	for m in "$corpus"/msg_*.txt; do
		verify "$m" >"$T/out" 2>/dev/null || { echo "exit $? for $m"; false; }
		# our field first (after an mbox "From " line, which stays first)
		sed '/^From /d' "$T/out" | head -1 |
			grep -q '^Authentication-Results: mx.test; smime=\(none\|permerror\|neutral\|fail\|policy\)' ||
			{ echo "no verdict first for $m"; false; }
		# unsigned messages come through byte for byte after our field (a malformed
		# header with one blank line put where it ends)
		python3 - "$m" "$T/out" <<'PY' || { echo "differs: $m"; false; }
import email, email.policy, sys
src, out = (open(p, "rb").read() for p in sys.argv[1:3])
if src.startswith(b"From "):
    mbox = src.split(b"\n", 1)[0] + b"\n"
    assert out.startswith(mbox)
    src, out = src[len(mbox):], out[len(mbox):]
lines = out.split(b"\n")
i = 1
while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
    i += 1
rest = b"\n".join(lines[i:])
ours = b"\n".join(lines[:i])
if b"smime=permerror" in ours and b"header is malformed" in ours:
    assert rest.replace(b"\n\n", b"\n") .replace(b"\n", b"") == src.replace(b"\n", b""), "not the input"
elif b"smime=none" in ours:
    assert rest == src, "not the input"
m = email.message_from_bytes(out, policy=email.policy.compat32)
ars = m.get_all("Authentication-Results") or []
assert sum(1 for v in ars if str(v).split(";")[0].strip().lower() == "mx.test") == 1
PY
		n=$((n + 1))
	done
	[ "$n" -gt 40 ]
}

@test "attack: a signature over encrypted content (sign after encrypt, RFC 2634 triple wrapping) says the pass covers the ciphertext" {
	# anyone's ciphertext to Bob, signed by Alice (a signing gateway, or a re-signed message)
	printf 'Content-Type: text/plain\r\n\r\nI, the CEO, order a transfer.\r\n' >"$T/pay"
	openssl cms -encrypt -binary -aes-256-cbc -in "$T/pay" -outform DER -out "$T/der" "$PKI/bob.pem" 2>/dev/null
	{ printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n'
	  printf 'Content-Transfer-Encoding: base64\r\n\r\n'; base64 "$T/der" | sed 's/$/\r/'; } >"$T/entity"
	openssl cms -sign -binary -in "$T/entity" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -outform DER -out "$T/sig"
	wrap_signed "$T/entity" "$T/sig" "Alice <alice@example.org>" >"$T/m"
	run --separate-stderr verify "$T/m"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=pass reason="good signature by alice@example.org; the header is not protected (only the content is); the signed content is encrypted: the signature covers the ciphertext, not what it decrypts to"'* ]]
	# what it decrypts to is there for the reader: openssl cms opens the part written
	printf '%s\n' "$output" >"$T/out"
	python3 -c 'import email, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"))
sys.stdout.buffer.write(m.get_payload(decode=True))' "$T/out" >"$T/der2"
	openssl cms -decrypt -binary -inform DER -in "$T/der2" -recip "$PKI/bob.pem" -inkey "$PKI/bob.key" | grep -q 'the CEO'
	# a signed message that is not encrypted has no such note
	sign "$T/msg" | verify >"$T/out"
	[[ "$(ar "$T/out")" == *'smime=pass'* && "$(ar "$T/out")" != *ciphertext* ]]
}

@test "attack: a verdict or record whose authserv-id is RFC 2047-encoded (readers show it decoded, as ours) is removed" {
	sign "$T/msg" >"$T/s"
	{ printf 'Authentication-Results: =?us-ascii?q?mx.test?=; smime=pass\n'
	  printf 'Authentication-Results: "=?utf-8?b?bXgudGVzdA==?="; smime=pass\n'
	  printf 'Secmail-Decryption: =?us-ascii?q?mx.test?=; decrypted cipher=aes-256-gcm integrity=aead\n'
	  cat "$T/s"; } >"$T/m"
	# what a header view that decodes encoded-words shows (Python's, outside quotes; mutt's
	# inside them too): our authserv-id
	python3 -c 'import email, sys, email.header as h
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for v in m.get_all("Authentication-Results") + m.get_all("Secmail-Decryption"):
    assert v.startswith("\"") or str(h.make_header(h.decode_header(v))).replace(" ;", ";").startswith("mx.test;"), v' "$T/m"
	for cmd in "verify" "verify --keep" "smime-decrypt --cert $PKI/bob.pem --key $PKI/bob.key"; do
		$cmd "$T/m" >"$T/out" 2>/dev/null
		[ "$(grep -c -e '=?us-ascii?q?mx' -e 'bXgudGVzdA' "$T/out")" -eq 0 ]
		grep -q '^Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=' "$T/out"
	done
	# smime-decrypt | smime-verify --after-decrypt: no record taken for one of ours
	smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$T/m" | verify --after-decrypt >"$T/out"
	[[ "$(ar "$T/out")" == *'smime=pass reason="good signature by alice@example.org; the header is not protected (only the content is)"'* ]]
}
