#!/usr/bin/env bats
# smime-encrypt against hostile input (adversarial review of the envelope side): who a
# message is encrypted to and with what. Each test builds its hostile input itself (store
# entries, certificates from the openssl CLI, messages) and failed on the code before its fix;
# the envelopes are read back with openssl cms and python3's email package.

load helpers/common
load helpers/smimeenv

setup_file() {
	export PKI="$BATS_FILE_TMPDIR/pki"
	envpki "$PKI"
	# weak keys a CA signed for encryption: RSA-1024, RSA-512, an EC key on P-192
	(
	cd "$PKI" || exit 1
	openssl ecparam -name prime192v1 >p192.param || exit 1
	for w in rsa1024:rsa:1024 rsa512:rsa:512 p192:ec:p192.param; do
		n=${w%%:*} spec=${w#*:}
		openssl req -new -newkey "$spec" -nodes -keyout "$n.key" -out "$n.csr" \
			-subj "/CN=$n/emailAddress=$n@example.org" \
			-addext "subjectAltName=email:$n@example.org" \
			-addext "keyUsage=keyEncipherment,keyAgreement" \
			-addext extendedKeyUsage=emailProtection 2>/dev/null || exit 1
		openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in "$n.csr" \
			-out "$n.pem" -notext -days 30 >/dev/null 2>&1 || exit 1
	done
	)
}

setup() { env_setup; }
teardown() { common_teardown; }

# serials DER: the serial numbers the envelope's RecipientInfos name, one a line (openssl)
serials() {
	openssl cms -cmsout -print -inform DER -in "$1" | awk '/serialNumber:/ { print $2 }' | sort
}
serial_of() { openssl x509 -in "$PKI/$1.pem" -noout -serial | sed 's/^serial=//; s/^0*//'; }

# planted DIR ADDR NAME: a store entry for ADDR holding NAME's certificate
planted() {
	mkdir -p -m 700 "$1"
	{
		echo "secmail-certstore: 1"
		echo "address: $2"
		echo "signing-time: 20261101000000Z"
		echo "encryption-certificate: signer"
		echo
		cat "$PKI/$3.pem"
	} >"$1/$2"
}

@test "attack: a store entry for bob holding another's certificate (planted, or a symlink to another entry) is refused, nothing written" {
	# the control: bob's own entry works, and names bob's key in the envelope
	store_entry "$T/store" bob
	smime-encrypt --cert-dir "$T/store" --no-self "$T/msg" >"$T/out"
	payload "$T/out" "$T/env.der"
	[ "$(serials "$T/env.der")" = "$(serial_of bob)" ]
	# a file dropped in under bob's name with mallory's (here: dave's) certificate
	planted "$T/store" bob@example.org dave
	run --separate-stderr smime-encrypt --cert-dir "$T/store" --no-self "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"bob@example.org: the store entry's certificate does not name this address"* ]]
	# bob's entry a symlink to carol's (a valid entry, for another address)
	rm "$T/store/bob@example.org"
	store_entry "$T/store" carol
	ln -s carol@example.org "$T/store/bob@example.org"
	run --separate-stderr smime-encrypt --cert-dir "$T/store" --no-self "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"bob@example.org: the store entry's certificate does not name this address"* ]]
	# a Bcc recipient's entry is checked the same way
	store_entry "$T/store" bob
	planted "$T/store" erin@example.org dave
	plain_msg bob@example.org "Bcc: erin@example.org" >"$T/m2"
	mkdir "$T/bcc"
	run --separate-stderr smime-encrypt --cert-dir "$T/store" --no-self --bcc-dir "$T/bcc" "$T/m2"
	assert_failure 65
	[ -z "$output" ]
	[ -z "$(ls "$T/bcc")" ]
	[[ $stderr == *"erin@example.org: the store entry's certificate does not name this address"* ]]
}

@test "encrypt: a store entry's address compares without case: Bob@Example.org's certificate serves bob@example.org" {
	# the store keys entries by the lowercased address; a certificate may spell it otherwise
	(
	cd "$PKI" || exit 1
	openssl req -new -newkey rsa:2048 -nodes -keyout upper.key -out upper.csr \
		-subj "/CN=upper" -addext "subjectAltName=email:Upper@Example.ORG" \
		-addext "keyUsage=keyEncipherment" -addext extendedKeyUsage=emailProtection 2>/dev/null
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in upper.csr -out upper.pem \
		-notext -days 30 >/dev/null 2>&1
	) || return 1
	planted "$T/store" upper@example.org upper
	plain_msg upper@example.org >"$T/m2"
	smime-encrypt --cert-dir "$T/store" --no-self "$T/m2" >"$T/out"
	payload "$T/out" "$T/env.der"
	openssl cms -decrypt -binary -inform DER -in "$T/env.der" -inkey "$PKI/upper.key" \
		-recip "$PKI/upper.pem" | cmp - <(entity_of "$T/m2")
}

@test "attack: recipient certificates with a tiny RSA key or a weak curve are refused (-r and the store), nothing written" {
	for n in rsa1024 rsa512 p192; do
		plain_msg "$n@example.org" >"$T/m2"
		run --separate-stderr smime-encrypt -r "$PKI/$n.pem" --no-self "$T/m2"
		assert_failure 65
		[ -z "$output" ]
		[[ $stderr == *"$n@example.org: certificate has a "*"too weak to encrypt to"* ]]
		rm -rf "$T/store"
		planted "$T/store" "$n@example.org" "$n"
		run --separate-stderr smime-encrypt --cert-dir "$T/store" --no-self "$T/m2"
		assert_failure 65
		[ -z "$output" ]
		[[ $stderr == *"$n@example.org: certificate has a "*"too weak to encrypt to"* ]]
	done
	# a weak sender certificate (--self) too: the sender's copy would be as readable
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" --self "$PKI/rsa1024.pem" "$T/msg"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"too weak to encrypt to"* ]]
	# the control: 2048-bit RSA and P-256 are fine (and openssl opens them)
	smime-encrypt -r "$PKI/bob.pem" -r "$PKI/carol.pem" --no-self "$T/msg" >"$T/out"
	payload "$T/out" "$T/env.der"
	openssl cms -decrypt -binary -inform DER -in "$T/env.der" -inkey "$PKI/carol.key" \
		-recip "$PKI/carol.pem" | cmp - "$T/entity"
}

@test "attack: a re-sent message is encrypted for Resent-To/Cc, and its Resent-Bcc recipients are hidden like Bcc ones (header and protected header)" {
	unset SECMAIL_HEADER_PROTECTION	# the protected header inside is what every reader sees
	for n in alice bob carol dave m1; do store_entry "$T/store" "$n"; done
	# RFC 5322 section 3.6.6: mailsend (and sendmail -t) deliver it to Resent-To/Cc/Bcc only
	plain_msg bob@example.org "Resent-From: alice@example.org" \
		"Resent-Date: Mon, 30 Nov 2026 08:00:00 +0000" "Resent-To: carol@example.org" \
		"Resent-Bcc: Dave <dave@example.org>" >"$T/rs"
	run --separate-stderr smime-encrypt --cert-dir "$T/store" --no-self "$T/rs"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"Bcc recipients (dave@example.org)"* ]]
	mkdir -m 700 "$T/bcc"
	smime-encrypt --cert-dir "$T/store" --no-self --bcc-dir "$T/bcc" "$T/rs" >"$T/out"
	# the shared envelope: carol's key alone (not bob's: he is not sent this copy; not dave's)
	payload "$T/out" "$T/env.der"
	[ "$(serials "$T/env.der")" = "$(serial_of carol)" ]
	# dave is named nowhere in what carol gets: not outside, not in the decrypted header
	if grep -qi dave "$T/out"; then echo "dave outside"; return 1; fi
	openssl cms -decrypt -binary -inform DER -in "$T/env.der" -inkey "$PKI/carol.key" \
		-recip "$PKI/carol.pem" >"$T/inner"
	if grep -qi dave "$T/inner"; then echo "dave inside:"; cat "$T/inner"; return 1; fi
	# the field stays, empty: the message is still a re-sent one for mailsend
	python3 - "$T/out" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
assert m.get_all('Resent-Bcc') == [''], m.get_all('Resent-Bcc')
assert m['Resent-To'] == 'carol@example.org'
PY
	# dave's own copy opens with dave's key, and only his and the sender's keys are in it
	[ -f "$T/bcc/bcc-dave@example.org.eml" ]
	payload "$T/bcc/bcc-dave@example.org.eml" "$T/dave.der"
	[ "$(serials "$T/dave.der")" = "$(serial_of dave)" ]
	openssl cms -decrypt -binary -inform DER -in "$T/dave.der" -inkey "$PKI/dave.key" \
		-recip "$PKI/dave.pem" >/dev/null
	# a Resent-Cc recipient without a certificate: refused, never sent unreadable (or clear)
	plain_msg bob@example.org "Resent-From: alice@example.org" "Resent-To: carol@example.org" \
		"Resent-Cc: ghost@example.org" >"$T/rs2"
	run --separate-stderr smime-encrypt --cert-dir "$T/store" --no-self "$T/rs2"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"ghost@example.org: no certificate in the store"* ]]
	# not re-sent: To and Cc as always
	smime-encrypt --cert-dir "$T/store" --no-self "$T/msg" >"$T/out"
	payload "$T/out" "$T/env.der"
	[ "$(serials "$T/env.der")" = "$(serial_of bob)" ]
}

@test "attack: a Bcc copy not sent yet is never overwritten by the next message's copy for the same address" {
	store_entry "$T/store" bob
	store_entry "$T/store" dave
	mkdir -m 700 "$T/bcc"
	plain_msg bob@example.org "Bcc: dave@example.org" >"$T/m1"
	sed 's/envelope test/second message/' "$T/m1" >"$T/m2"
	sed 's/envelope test/third message/' "$T/m1" >"$T/m3"
	for m in m1 m2 m3; do
		smime-encrypt --cert-dir "$T/store" --no-self --bcc-dir "$T/bcc" "$T/$m" >/dev/null
	done
	# three copies, each the message it was made from (dave's key opens each)
	[ "$(ls "$T/bcc" | wc -l)" = 3 ]
	for f in "$T"/bcc/bcc-dave@example.org*.eml; do
		payload "$f" "$T/d.der"
		openssl cms -decrypt -binary -inform DER -in "$T/d.der" -inkey "$PKI/dave.key" \
			-recip "$PKI/dave.pem" >"$T/d.ent"
		python3 - "$f" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
print(m['Subject'])
PY
	done | sort >"$T/subjects"
	printf 'envelope test\nsecond message\nthird message\n' | cmp - "$T/subjects"
	[ -f "$T/bcc/bcc-dave@example.org.eml" ]
	[ -f "$T/bcc/bcc-dave@example.org-2.eml" ]
	[ -f "$T/bcc/bcc-dave@example.org-3.eml" ]
	# no temporary file is left behind
	[ -z "$(find "$T/bcc" -name '*.tmp*' -o -name '.*' -type f)" ]
}
