#!/usr/bin/env bats
# Header protection (RFC 9788, issue 14): what smime-sign and smime-encrypt put inside, what
# smime-decrypt and smime-verify give back, and the attacks on the outer header. Structure is
# read back with Python's email package and openssl cms, independently of secmail's parsers.

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() {
	common_setup
	export SECMAIL_AUTHSERV_ID=mx.test
	{ printf 'Received: from x by y; Sun, 29 Nov 2026 03:59:00 +0000\n'
	  printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.org>\n'
	  printf 'Bcc: hidden@example.org\nSubject: merger with ACME\nKeywords: secret\n'
	  printf 'Date: Sun, 29 Nov 2026 04:00:00 +0000\nMessage-ID: <hp-test@example.org>\n'
	  printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHello Bob\n'; } >"$T/msg"
}
teardown() {
	# only the agent of a test's own GnuPG home (the notmuch test), never the tester's
	[ -n "${GNUPGHOME:-}" ] && [[ $GNUPGHOME == "$T"/* ]] && gpgsm_stop
	common_teardown
}

sign() { smime-sign --cert "$PKI/alice.pem" --key "$PKI/alice.key" --chain "$PKI/chain.pem" "$@"; }
encrypt() { smime-encrypt -r "$PKI/bob.pem" --self "$PKI/alice.pem" "$@"; }
decrypt() { smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" "$@"; }
verify() { smime-verify --ca-file "$PKI/ca.pem" "$@"; }
ar() { sed -n '1{p;:a;n;/^[ \t]/{p;ba};q}' "$1" | tr -d '\r\n' | tr -s ' \t' ' '; }
# edit the outer header only (up to the first empty line): outer FILE SED-SCRIPT
outer() { python3 - "$1" "$2" <<'PY'
import sys, re
raw = open(sys.argv[1], 'rb').read()
head, body = raw.split(b'\n\n', 1)
for rule in sys.argv[2].split(';;'):
    old, new = rule.split('=>')
    head = re.sub(old.encode(), new.encode(), head, flags=re.M)
open(sys.argv[1], 'wb').write(head + b'\n\n' + body)
PY
}

@test "hp sign: the signed entity carries the header fields and hp=clear; Bcc and Received stay out" {
	sign "$T/msg" >"$T/s"
	split_signed "$T/s" "$T/c" "$T/sig"
	openssl cms -verify -binary -inform DER -in "$T/sig" -content "$T/c" -CAfile "$PKI/ca.pem" -out /dev/null
	python3 - "$T/c" "$T/s" <<'PY'
import email, sys
e = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert e['Subject'] == 'merger with ACME' and e['From'] == 'Alice <alice@example.org>', e.items()
assert e['To'] == 'Bob <bob@example.org>' and e['Message-ID'] == '<hp-test@example.org>'
assert e['Keywords'] == 'secret' and e['Date'] is not None
assert e.get_param('hp') == 'clear', e['Content-Type']
assert e['Bcc'] is None and e['Received'] is None and e['HP-Outer'] is None
o = email.message_from_bytes(open(sys.argv[2], 'rb').read())
assert o['Subject'] == 'merger with ACME'     # signed only: nothing is confidential
PY
	# without header protection: the content entity alone, as before
	sign --no-header-protection "$T/msg" >"$T/n"
	split_signed "$T/n" "$T/c2" "$T/sig2"
	refute grep -qi '^Subject:' "$T/c2"
	refute grep -q 'hp=' "$T/c2"
}

@test "hp sign: Date and Message-ID are added before protecting when the draft has none" {
	grep -v -e '^Date:' -e '^Message-ID:' "$T/msg" >"$T/d"
	# a clock a minute ahead: the certificates are made at setup, valid from then on
	now=$(($(date +%s) + 60))
	SECMAIL_NOW=$now sign "$T/d" >"$T/s"
	split_signed "$T/s" "$T/c" "$T/sig"
	[ "$(grep -c '^Message-ID: <' "$T/s")" -eq 2 ]
	[ "$(grep '^Message-ID:' "$T/s" | sort -u | wc -l)" -eq 1 ]
	[ "$(grep '^Date:' "$T/s" | sort -u | wc -l)" -eq 1 ]
	[ "$(date -u -d "$(grep -m1 '^Date:' "$T/s" | sed 's/^Date: //')" +%s)" -eq "$now" ]
	verify "$T/s" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by alice@example.org; the header is protected (hp=clear)"'* ]]
}

@test "hp encrypt: the outer Subject is [...], Keywords gone, the payload has hp=cipher and HP-Outer" {
	sed -i 's/^Bcc: .*/Bcc: carol@example.org/' "$T/msg"
	mkdir "$T/bcc"
	encrypt -r "$PKI/carol.pem" --bcc-dir "$T/bcc" "$T/msg" >"$T/e"
	refute grep -q 'merger' "$T/e" "$T/bcc/bcc-carol@example.org.eml"
	refute grep -q 'secret' "$T/e"
	grep -q '^Subject: \[\.\.\.\]$' "$T/e"
	openssl cms -decrypt -in "$T/e" -recip "$PKI/bob.pem" -inkey "$PKI/bob.key" -out "$T/p"
	python3 - "$T/p" "$T/e" <<'PY'
import email, sys
p = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert p.get_param('hp') == 'cipher', p['Content-Type']
assert p['Subject'] == 'merger with ACME' and p['Keywords'] == 'secret'
assert p['Bcc'] is None, 'a Bcc inside would show the blind recipient to everyone'
outer = sorted(v for v in p.get_all('HP-Outer'))
assert 'Subject: [...]' in outer and not any(v.startswith('Keywords') for v in outer), outer
o = email.message_from_bytes(open(sys.argv[2], 'rb').read())
for v in outer:
    name, val = v.split(': ', 1)
    assert o[name] == val, (name, o[name], val)
assert p.get_payload().strip() == 'Hello Bob'
PY
	run encrypt --no-header-protection -r "$PKI/carol.pem" --bcc-dir "$T/bcc" "$T/msg"
	assert_output --partial 'Subject: merger with ACME'
}

@test "hp decrypt: the obscured Subject comes back and the record says the header was protected" {
	grep -v '^Bcc:' "$T/msg" | encrypt >"$T/e"
	decrypt "$T/e" >"$T/d"
	python3 - "$T/d" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert m.get_all('Subject') == ['merger with ACME'], m.get_all('Subject')
assert m.get_all('Keywords') == ['secret']
assert m['HP-Outer'] is None and m['Received'] is not None
assert 'the header is protected (hp=cipher); confidential: Subject, Keywords' in ' '.join(m['Secmail-Decryption'].split())
assert m.get_payload().strip() == 'Hello Bob'
PY
}

@test "hp pipeline: sign | encrypt | decrypt | verify: Subject obscured on the wire, restored at the end" {
	grep -v '^Bcc:' "$T/msg" >"$T/m"
	for mode in clear cipher; do
		sign --header-protection $mode "$T/m" | encrypt >"$T/w"
		grep -q '^Subject: \[\.\.\.\]$' "$T/w"
		refute grep -q merger "$T/w"
		decrypt "$T/w" | verify --after-decrypt >"$T/v"
		[[ "$(ar "$T/v")" == *"smime=pass reason=\"decrypted (aes-256-cbc, no integrity protection of its own; the signature inside covers the content); good signature by alice@example.org; the header is protected (hp=$mode); confidential: Subject, Keywords\""* ]]
		python3 - "$T/v" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert m.get_all('Subject') == ['merger with ACME'], m.get_all('Subject')
assert m.get_content_type() == 'text/plain' and m.get_payload().strip() == 'Hello Bob'
PY
	done
	# the signed copy is protected once: no second set of fields inside the envelope
	sign "$T/m" | encrypt | openssl cms -decrypt -recip "$PKI/bob.pem" -inkey "$PKI/bob.key" >"$T/inner"
	refute grep -q '^HP-Outer' "$T/inner"
	[ "$(grep -c '^Subject: merger with ACME' "$T/inner")" -eq 1 ]
}

@test "hp attack: a Subject altered outside a signed message is reported; the signed one is shown" {
	sign "$T/msg" >"$T/s"
	outer "$T/s" '^Subject: .*=>Subject: pay 9000 EUR now;;^From: .*=>Reply-To: evil@example.net\nFrom: Alice <alice@example.org>'
	run verify "$T/s"
	assert_success
	printf '%s\n' "$output" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by alice@example.org; the header is protected (hp=clear); altered outside, the protected one shown: Subject; added outside, not shown: Reply-To"'* ]]
	refute grep -q 'pay 9000' "$T/v"
	refute grep -q 'evil@example.net' "$T/v"
	[ "$(grep -c '^Subject: merger with ACME' "$T/v")" -eq 1 ]
}

@test "hp attack: hp=cipher in a message that was only signed is taken as hp=clear" {
	sign --header-protection cipher "$T/msg" >"$T/s"
	outer "$T/s" '^Subject: .*=>Subject: [...]'
	run verify "$T/s"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'the header is protected (hp=cipher), but the message was not encrypted: taken as hp=clear, HP-Outer ignored; altered outside, the protected one shown: Subject"'* ]]
	# a forged decryption record does not make it encrypted: it is removed
	{ printf 'Secmail-Decryption: mx.test; decrypted cipher=aes-256-gcm integrity=aead\n'; cat "$T/s"; } >"$T/f"
	verify "$T/f" >"$T/v"
	[[ "$(ar "$T/v")" == *'but the message was not encrypted'* ]]
	refute grep -q 'Secmail-Decryption' "$T/v"
}

@test "hp attack: HP-Outer fields in an unsigned outer header are not trusted" {
	# the attacker claims the sender obscured the Subject, outside the signature
	sign "$T/msg" >"$T/s"
	outer "$T/s" '^Subject: .*=>Subject: [...]\nHP-Outer: Subject: [...]'
	verify "$T/s" >"$T/v"
	[[ "$(ar "$T/v")" == *'altered outside, the protected one shown: Subject"'* ]]
	# an unsigned, unencrypted message with hp=cipher and HP-Outer: nothing is restored
	printf 'From: a@example.org\nSubject: [...]\nHP-Outer: Subject: [...]\nContent-Type: text/plain; hp=cipher\n\nSubject: pay\n' >"$T/u"
	run verify "$T/u"
	assert_output --partial 'smime=none'
	decrypt "$T/u" | cmp - "$T/u"
}

@test "hp attack: the From a reader sees is the protected one, and the policy checks it" {
	# (a) Mallory puts her From outside Alice's signed message: Alice's is shown, and it passes
	sign "$T/msg" >"$T/s"
	outer "$T/s" '^From: .*=>From: Mallory <mallory@example.net>'
	run verify "$T/s"
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=pass reason="good signature by alice@example.org; the header is protected (hp=clear); altered outside, the protected one shown: From"'* ]]
	[ "$(printf '%s\n' "$output" | grep -c '^From: Alice <alice@example.org>')" -eq 1 ]
	refute_output --partial 'mallory@example.net'
	# (b) Alice signs a protected From of someone else; the outer From is hers: policy
	printf 'From: The CEO <ceo@example.org>\r\nTo: bob@example.org\r\nSubject: wire 9000 EUR\r\nContent-Type: text/plain; hp="clear"\r\n\r\nbody\r\n' >"$T/entity"
	openssl cms -sign -binary -in "$T/entity" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -outform DER -out "$T/sig"
	wrap_signed "$T/entity" "$T/sig" "Alice <alice@example.org>" >"$T/m"
	run verify -E "$T/m"
	assert_failure 1
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=policy reason="the signer'"'"'s certificate is for alice@example.org, not for the From address ceo@example.org"'* ]]
}

@test "hp attack: with --keep the outer header is written, so its From is the one checked (and the protected one too)" {
	# (a) Mallory puts the CEO's From outside Alice's protected message; --keep writes it
	sign "$T/msg" >"$T/s"
	outer "$T/s" '^From: .*=>From: The CEO <ceo@example.org>;;^Subject: .*=>Subject: wire 9000 EUR'
	run --separate-stderr verify -E --keep "$T/s"
	assert_failure 1
	printf '%s\n' "$output" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=policy reason="the signer'"'"'s certificate is for alice@example.org, not for the From address ceo@example.org"'* ]]
	# what a reader without RFC 9788 shows: the CEO's From, so no pass may stand next to it
	python3 -c 'import email, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert m["From"] == "The CEO <ceo@example.org>", m["From"]' "$T/v"
	# without --keep the protected From is written, and it passes
	run verify -E "$T/s"
	assert_success
	# (b) only the Subject altered: a pass, whose reason says the altered one is what is written
	sign "$T/msg" >"$T/s"
	outer "$T/s" '^Subject: .*=>Subject: wire 9000 EUR;;^To: =>Reply-To: evil@example.net\nTo: '
	run verify -E --keep "$T/s"
	assert_success
	[[ "$(ar <(printf '%s\n' "$output"))" == *'the header is protected (hp=clear); altered outside, the altered one shown: Subject; added outside, shown: Reply-To"'* ]]
	# (c) Alice's own protected From names the CEO, the outer one is hers: policy with --keep too
	printf 'From: The CEO <ceo@example.org>\r\nTo: bob@example.org\r\nSubject: wire 9000 EUR\r\nContent-Type: text/plain; hp="clear"\r\n\r\nbody\r\n' >"$T/entity"
	openssl cms -sign -binary -in "$T/entity" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" -certfile "$PKI/int.pem" -outform DER -out "$T/sig"
	wrap_signed "$T/entity" "$T/sig" "Alice <alice@example.org>" >"$T/m"
	run verify -E --keep "$T/m"
	assert_failure 1
	[[ "$(ar <(printf '%s\n' "$output"))" == *'smime=policy reason="the protected header (what a reader of RFC 9788 shows): the signer'"'"'s certificate is for alice@example.org, not for the From address ceo@example.org"'* ]]
	# the control: an untouched protected message passes with --keep
	sign "$T/msg" | verify -E --keep >/dev/null
}

@test "hp: a message without header protection behaves as before and says so" {
	sign --no-header-protection "$T/msg" >"$T/s"
	verify "$T/s" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by alice@example.org; the header is not protected (only the content is)"'* ]]
	outer_fields "$T/msg" >"$T/want"
	outer_fields "$T/v" | cmp - "$T/want"
}

# count_claims FILE NAME: the fields NAME of FILE's header whose authserv-id is mx.test, read
# with Python's email package (a token or quoted-string after optional comments).
count_claims() { python3 - "$1" "$2" <<'PY'
import email, re, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
n = 0
for v in m.get_all(sys.argv[2]) or []:
    v = re.sub(r'\([^()]*\)', ' ', ' '.join(v.split())).strip()
    n += v.split(';', 1)[0].strip().strip('"').lower() == 'mx.test'
print(n)
PY
}

@test "hp attack: verdicts, trace fields and Bcc inside an encrypted payload are never shown, and never hide ours" {
	# Mallory encrypts to Bob (CBC, unsigned) a payload with hp=cipher that carries a forged
	# decryption record (claiming authenticated encryption), a forged pass, a Received that
	# would replace the real one, and a Bcc
	printf 'From: Mallory <mallory@example.net>\r\nTo: bob@example.org\r\nSubject: hi\r\nReceived: from trusted.example.org by mx.test\r\nBcc: everyone@example.org\r\nAuthentication-Results: mx.test; smime=pass reason="good signature by ceo@example.org"\r\nSecmail-Decryption: mx.test; decrypted cipher=aes-256-gcm integrity=aead\r\nContent-Type: text/plain; hp="cipher"\r\n\r\nbody\r\n' >"$T/payload"
	openssl cms -encrypt -aes-256-cbc -binary -in "$T/payload" -out "$T/env" "$PKI/bob.pem"
	{ printf 'Received: from mallory.example.net by mx.test\nFrom: Mallory <mallory@example.net>\nTo: bob@example.org\nSubject: [...]\n'; cat "$T/env"; } >"$T/e"
	decrypt "$T/e" >"$T/d"
	[ "$(count_claims "$T/d" Secmail-Decryption)" -eq 1 ]
	[ "$(count_claims "$T/d" Authentication-Results)" -eq 0 ]
	python3 - "$T/d" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
rec = ' '.join(m['Secmail-Decryption'].split())
assert 'cipher=aes-256-cbc integrity=none' in rec and 'aead' not in rec, rec
assert m.get_all('Received') == ['from mallory.example.net by mx.test'], m.get_all('Received')
assert m['Bcc'] is None and m['Subject'] == 'hi', m.items()
PY
	decrypt "$T/e" | verify --after-decrypt >"$T/v"
	[ "$(count_claims "$T/v" Authentication-Results)" -eq 1 ]
	[[ "$(ar "$T/v")" == *'smime=none reason="decrypted (aes-256-cbc, no integrity protection'* ]]
	refute grep -q 'ceo@example.org\|aes-256-gcm' "$T/v"
}

@test "hp attack: a verdict inside a signed payload is not shown next to ours" {
	# Mallory signs, with her own certificate, a protected header that carries a pass for
	# someone else; her signature is good, her fields are shown, the forged verdict is not
	printf 'From: Mallory <mallory@example.net>\r\nTo: bob@example.org\r\nSubject: hi\r\nAuthentication-Results: mx.test; smime=pass reason="good signature by ceo@example.org"\r\nReceived: from trusted.example.org by mx.test\r\nContent-Type: text/plain; hp="clear"\r\n\r\nbody\r\n' >"$T/entity"
	openssl cms -sign -binary -in "$T/entity" -signer "$PKI/mallory.pem" -inkey "$PKI/mallory.key" -certfile "$PKI/int.pem" -outform DER -out "$T/sig"
	wrap_signed "$T/entity" "$T/sig" "Mallory <mallory@example.net>" | sed '1i Received: from mallory.example.net by mx.test' >"$T/m"
	verify "$T/m" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by mallory@example.net; the header is protected (hp=clear)'* ]]
	[ "$(count_claims "$T/v" Authentication-Results)" -eq 1 ]
	refute grep -q 'ceo@example.org' "$T/v"
	[ "$(grep -c '^Received:' "$T/v")" -eq 1 ]
	grep -q '^Received: from mallory.example.net by mx.test' "$T/v"
}

@test "hp encrypt --no-header-confidentiality: the header inside, HP-Outer as outside, nothing obscured; a change outside is still seen" {
	grep -v '^Bcc:' "$T/msg" | encrypt --no-header-confidentiality >"$T/e"
	grep -q '^Subject: merger with ACME$' "$T/e"
	grep -q '^Keywords: secret$' "$T/e"
	openssl cms -decrypt -in "$T/e" -recip "$PKI/bob.pem" -inkey "$PKI/bob.key" -out "$T/p"
	python3 - "$T/p" <<'PY'
import email, sys
p = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert p.get_param('hp') == 'cipher', p['Content-Type']
outer = p.get_all('HP-Outer')
assert 'Subject: merger with ACME' in outer and 'Keywords: secret' in outer, outer
PY
	decrypt "$T/e" >"$T/d"
	[[ "$(tr -d '\n' <"$T/d" | tr -s ' \t' ' ')" == *'(the header is protected (hp=cipher))'* ]]
	# a relay changes the Subject: the protected one is shown, and the change reported
	outer "$T/e" '^Subject: .*=>Subject: pay 9000 EUR now'
	decrypt "$T/e" >"$T/d"
	grep -q '^Subject: merger with ACME$' "$T/d" || { cat "$T/d"; false; }
	refute grep -q 'pay 9000' "$T/d"
	[[ "$(tr -d '\n' <"$T/d" | tr -s ' \t' ' ')" == *'the header is protected (hp=cipher); altered outside, the protected one shown: Subject'* ]]
	# a signed content keeps its outer Subject too
	sign "$T/msg" | grep -v '^Bcc:' | encrypt --no-header-confidentiality >"$T/se"
	grep -q '^Subject: merger with ACME$' "$T/se"
}

@test "hp: restored fields take the message's line ends, never a mix (the payload inside is CRLF)" {
	grep -v '^Bcc:' "$T/msg" >"$T/m"
	sign --opaque "$T/m" | verify >"$T/v1"
	encrypt "$T/m" | decrypt >"$T/v2"
	sign "$T/m" | encrypt | decrypt | verify --after-decrypt >"$T/v3"
	for f in "$T/v1" "$T/v2" "$T/v3"; do
		grep -q '^Subject: merger with ACME$' "$f"
		[ -z "$(sed '/^$/q' "$f" | tr -cd '\r')" ]
	done
	# and a CRLF message gets CRLF throughout
	sed 's/$/\r/' "$T/m" >"$T/crlf"
	encrypt "$T/crlf" | decrypt >"$T/v4"
	sed $'/^\r$/q' "$T/v4" >"$T/h4"
	grep -q $'^Subject: merger with ACME\r$' "$T/h4"
	[ "$(grep -c $'\r$' "$T/h4")" -eq "$(wc -l <"$T/h4")" ]
}

@test "hp interop: notmuch (gmime, gpgsm) decrypts and verifies the protected messages; the copied fields stay out of the text" {
	# a second implementation reads the structure: a throwaway gpgsm home with Bob's key
	# (legacy PKCS#12, which gpgsm 2.2 reads; no passphrase, so the agent needs no pinentry)
	gpgsm_home "$T/gnupg"
	openssl pkcs12 -export -legacy -in "$PKI/bob.pem" -inkey "$PKI/bob.key" -passout pass: -out "$T/bob.p12"
	out=$($G --import "$T/bob.p12" 3< <(echo '') 2>&1) || true
	[[ $out == *'secret keys imported: 1'* ]] || { echo "$out" >&2; false; }
	mkdir -p "$T/mail/new" "$T/mail/cur" "$T/mail/tmp"
	grep -v '^Bcc:' "$T/msg" >"$T/m"
	sign "$T/m" >"$T/mail/new/s:2,"
	sed 's/hp-test/hp-e/' "$T/m" | encrypt >"$T/mail/new/e:2,"
	sed 's/hp-test/hp-se/' "$T/m" | sign --header-protection cipher | encrypt >"$T/mail/new/se:2,"
	grep -q '^Subject: \[\.\.\.\]$' "$T/mail/new/se:2,"
	export NOTMUCH_CONFIG=$T/notmuch.conf
	printf '[database]\npath=%s\n[user]\nprimary_email=bob@example.org\n' "$T/mail" >"$NOTMUCH_CONFIG"
	notmuch new --quiet
	for id in hp-test hp-e hp-se; do
		notmuch show --decrypt=true --format=json "id:$id@example.org" >"$T/$id.json"
	done
	python3 - "$T" <<'PY'
import json, sys
def show(id):
    return json.load(open(f"{sys.argv[1]}/{id}.json"))[0][0][0]
def texts(parts):
    for p in parts:
        c = p.get("content")
        if isinstance(c, list):
            yield from texts(c)
        elif p["content-type"] == "text/plain":
            yield c
def good(sig):
    assert [s["status"] for s in sig["status"]] == ["good"], sig
    assert sig["status"][0]["email"] == "alice@example.org", sig
s, e, se = show("hp-test"), show("hp-e"), show("hp-se")
good(s["crypto"]["signed"])
assert e["crypto"]["decrypted"]["status"] == "full", e["crypto"]
assert se["crypto"]["decrypted"]["status"] == "full", se["crypto"]
good(se["crypto"]["signed"])
assert se["crypto"]["signed"].get("encrypted") is True, se["crypto"]
# the header fields copied inside are MIME header fields to gmime, never text
for m in (s, e, se):
    assert list(texts(m["body"])) == ["Hello Bob\n"], m["body"]
PY
	gpgsm_stop
}

@test "hp: a bad header protection setting: usage error on the command line, configuration error from the environment, nothing written" {
	run --separate-stderr sign --header-protection maybe "$T/msg"
	assert_failure 64
	[ -z "$output" ]
	[[ $stderr == *"--header-protection: 'maybe' is not clear, cipher or none"* ]]
	SECMAIL_HEADER_PROTECTION=maybe run --separate-stderr sign "$T/msg"
	assert_failure 78
	[ -z "$output" ]
	[[ $stderr == *"header_protection (SECMAIL_HEADER_PROTECTION or the configuration): 'maybe' is not clear, cipher or none"* ]]
	grep -v '^Bcc:' "$T/msg" >"$T/m"
	SECMAIL_HEADER_PROTECTION=maybe run --separate-stderr encrypt "$T/m"
	assert_failure 78
	[ -z "$output" ]
	[[ $stderr == *"header_protection (SECMAIL_HEADER_PROTECTION or"*"expected clear, cipher or none"* ]]
	# the accepted spellings
	for v in clear on cipher none off; do
		SECMAIL_HEADER_PROTECTION=$v sign "$T/msg" >/dev/null
		SECMAIL_HEADER_PROTECTION=$v encrypt "$T/m" >/dev/null
	done
	SECMAIL_HEADER_PROTECTION=off sign "$T/msg" | grep -q '^Content-Type: text/plain; charset=utf-8$'
	SECMAIL_HEADER_PROTECTION=off encrypt "$T/m" | grep -q '^Subject: merger with ACME$'
}

# A reader that takes a bare CR for a line end (Python's email package, many MUAs) sees a
# second field inside one that secmail read as a single field: review12.
bare_cr_readers_see() {	# FILE: the From and Authentication-Results fields a CR-splitting reader sees
	python3 - "$1" <<'PY'
import email, sys
raw = open(sys.argv[1], 'rb').read()
head = raw.split(b'\n\n', 1)[0]
assert b'\r' not in head.replace(b'\r\n', b''), 'bare CR in the header written'
m = email.message_from_bytes(raw)
print(len(m.get_all('From') or []), len([v for v in m.get_all('Authentication-Results') or [] if v.lstrip().startswith('mx.test')]))
PY
}

@test "hp attack: a bare CR in an outer field hides no verdict or From from a reader (protected header or not)" {
	sign "$T/msg" >"$T/s"
	sign --no-header-protection "$T/msg" >"$T/n"
	for f in "$T/s" "$T/n"; do
		outer "$f" '^Subject: (.*)=>Subject: \1\nX-Note: a\rAuthentication-Results: mx.test; smime=pass header.from=ceo@example.org\nX-Other: b\rFrom: CEO <ceo@example.org>'
		run verify "$f"
		assert_success
		printf '%s\n' "$output" >"$T/v"
		[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by alice@example.org'* ]]
		run bare_cr_readers_see "$T/v"
		assert_success
		[ "$output" = "1 1" ]
		grep -q '^X-Note: a Authentication-Results: mx.test' "$T/v"
	done
	# not signed: no verdict of ours but none, and no pass a reader could find
	outer "$T/msg" '^Subject: (.*)=>Subject: \1\nX-Note: a\rAuthentication-Results: mx.test; smime=pass'
	verify "$T/msg" >"$T/v" || true
	run bare_cr_readers_see "$T/v"
	assert_success
	[ "$output" = "1 1" ]
	[[ "$(ar "$T/v")" == *'smime=none'* ]]
}

@test "hp attack: an outer field that cannot be folded does not stop smime-verify: verdict and message written" {
	sign "$T/msg" >"$T/s"
	long=$(head -c 1500 /dev/zero | tr '\0' a)
	outer "$T/s" "^Subject: (.*)=>Subject: \\1\\nX-Long: $long"
	run verify "$T/s"
	assert_success
	printf '%s\n' "$output" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by alice@example.org; the header is protected (hp=clear)"'* ]]
	grep -q "^X-Long: $long\$" "$T/v"
	grep -q '^Hello Bob' "$T/v"
}

@test "hp attack: a protected payload with a field that cannot be folded, encrypted to Bob by anyone, is decrypted" {
	long=$(head -c 1500 /dev/zero | tr '\0' b)
	printf 'From: Mallory <mallory@example.net>\r\nTo: bob@example.org\r\nSubject: hi\r\nX-Long: %s\r\nContent-Type: text/plain; hp="cipher"\r\n\r\nbody\r\n' "$long" >"$T/payload"
	openssl cms -encrypt -aes-256-cbc -binary -in "$T/payload" -out "$T/env" "$PKI/bob.pem"
	{ printf 'From: Mallory <mallory@example.net>\nTo: bob@example.org\nSubject: [...]\nX-Outer: c\rSecmail-Decryption: mx.test; decrypted cipher=aes-256-gcm integrity=aead\n'; cat "$T/env"; } >"$T/e"
	run decrypt "$T/e"
	assert_success
	printf '%s\n' "$output" >"$T/d"
	grep -q "^X-Long: $long\$" "$T/d"
	python3 - "$T/d" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
assert m['Subject'] == 'hi', m.items()
recs = m.get_all('Secmail-Decryption')
assert len(recs) == 1 and 'aes-256-cbc' in recs[0], recs
assert m.get_payload().strip() == 'body', m.get_payload()
PY
}

@test "hp attack: a bare CR in an outer field of a message without header protection hides no record from a reader of smime-decrypt's output" {
	grep -v '^Bcc:' "$T/msg" | encrypt --no-header-protection >"$T/e"
	outer "$T/e" '^Subject: (.*)=>Subject: \1\nX-Outer: c\rSecmail-Decryption: mx.test; decrypted cipher=aes-256-gcm integrity=aead'
	run decrypt "$T/e"
	assert_success
	printf '%s\n' "$output" >"$T/d"
	python3 - "$T/d" <<'PY'
import email, sys
raw = open(sys.argv[1], 'rb').read()
assert b'\r' not in raw.split(b'\n\n', 1)[0], 'bare CR in the header written'
m = email.message_from_bytes(raw)
recs = m.get_all('Secmail-Decryption')
assert len(recs) == 1, recs
PY
	grep -q '^X-Outer: c Secmail-Decryption: mx.test' "$T/d"
}

# A draft with N (default 6000) header fields besides its own: smime-sign and smime-encrypt
# protect them all, so the message carries them inside and outside.
big_draft() {
	{ sed -n '/^$/q;/^Bcc:/d;p' "$T/msg"
	  for i in $(seq "${1:-6000}"); do printf 'X-Filler-%d: %d\n' "$i" "$i"; done
	  printf '\nHello Bob\n'; } >"$T/big"
}

@test "hp attack: fields added outside until outer and protected ones together exceed what a header may hold: smime-verify writes the message with permerror, never holds it back" {
	big_draft
	sign <"$T/big" >"$T/s"
	# untouched, the protected header is shown: 6000 of each is within bounds
	run verify <"$T/s"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by alice@example.org; the header is protected (hp=clear)"'* ]]
	# on the way the 6000 outside become 6000 others: more than 10000 fields to show
	outer "$T/s" '^X-Filler-=>X-Added-'
	run verify <"$T/s"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=permerror reason="the header is protected (hp=clear), but it cannot be shown: more than 10000 header fields"'* ]]
	# the message as it came, after the verdict: every outer field, the signed body
	[ "$(grep -c '^X-Added-' "$T/v")" -eq 6000 ]
	[ "$(tail -n +2 "$T/v" | cmp - "$T/s" && echo same)" = same ] || diff <(tail -n +2 "$T/v") "$T/s" | head -5
	run verify -E <"$T/s"
	[ "$status" -eq 1 ]
}

@test "hp attack: an encrypted message whose outer and protected fields together exceed what a header may hold is decrypted with the outer header and a record saying so" {
	# inside, 4000 fields and their 4000 HP-Outer copies; outside, the 4000 become others
	# and 5000 more are added: 9000 outside, 13000 to show
	big_draft 4000
	encrypt <"$T/big" >"$T/e"
	outer "$T/e" '^X-Filler-=>X-Added-'
	{ for i in $(seq 5000); do printf 'X-More-%d: %d\n' "$i" "$i"; done; cat "$T/e"; } >"$T/e2"
	mv "$T/e2" "$T/e"
	[ "$(grep -c '^X-Added-' "$T/e")" -eq 4000 ]
	run decrypt <"$T/e"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/d"
	python3 - "$T/d" <<'PY'
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.compat32)
rec = ' '.join(m['Secmail-Decryption'].split())
assert rec.startswith('mx.test; decrypted cipher='), rec
assert 'the header is protected (hp=cipher), but it cannot be shown: more than 10000 header fields' in rec, rec
assert m['Subject'] == '[...]', m['Subject']	# the obscured one: nothing restored
assert len(m.get_all('X-Added-1') or []) == 1
assert m.get_payload(decode=True).endswith(b'Hello Bob\n'), m.get_payload()
PY
}
