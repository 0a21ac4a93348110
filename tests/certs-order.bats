#!/usr/bin/env bats
# smime-certs import and several certificates for one address (issue 13): the store keeps
# the newer one to encrypt to (valid now first, then the later notBefore, then the later
# notAfter; secmail-certstore(5)), whatever the order of the imports - in one run or over
# several, from certificate files or signed messages. Cross-checked with openssl cms: what
# smime-encrypt then writes opens with the newer key only.

load helpers/common
load helpers/smime

setup_file() {
	smime_pki
	# alice's certificates of different ages for the same address and key kind, issued by
	# the intermediate: old (issued 200 days ago), new (yesterday), short (today, for 30 days)
	local name ago days
	for spec in old:200:3650 new:1:3650 short:0:30; do
		IFS=: read -r name ago days <<<"$spec"
		[ -f "$PKI/alice-$name.pem" ] && continue
		openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/alice-$name.key" \
			-subj "/CN=alice-$name/emailAddress=alice@example.org" -out "$PKI/alice-$name.csr" 2>/dev/null
		printf '%s\n' "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment" \
			"basicConstraints=CA:false" "subjectAltName=email:alice@example.org" \
			"extendedKeyUsage=emailProtection" >"$PKI/alice-$name.ext"
		faketime -f "-${ago}d" openssl x509 -req -in "$PKI/alice-$name.csr" -CA "$PKI/int.pem" \
			-CAkey "$PKI/int.key" -set_serial "0x$(openssl rand -hex 8)" -days "$days" \
			-extfile "$PKI/alice-$name.ext" -out "$PKI/alice-$name.pem" 2>/dev/null
		cat "$PKI/alice-$name.pem" "$PKI/int.pem" >"$PKI/alice-$name-full.pem"
	done
}
setup() {
	common_setup
	export SECMAIL_AUTHSERV_ID=mx.test
	S=$XDG_DATA_HOME/secmail/certs
}
teardown() { common_teardown; }

certs() { smime-certs --ca-file "$PKI/ca.pem" "$@"; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
# stored: the SHA-256 fingerprint of alice's certificate to encrypt to (smime-certs -m list)
stored() { smime-certs -m list alice@example.org | awk -F'\t' '{print $6}'; }
# opens_with NAME: smime-encrypt -R alice@example.org, and openssl cms opens it with NAME's key
opens_with() {
	printf 'From: bob@example.org\nTo: alice@example.org\nSubject: s\n\nfor alice\n' \
		| smime-encrypt --no-self -R alice@example.org >"$T/enc"
	openssl cms -decrypt -in "$T/enc" -recip "$PKI/alice-$1.pem" -inkey "$PKI/alice-$1.key" \
		| grep -q 'for alice'
}

@test "certs order: old then new and new then old leave the new certificate, and encryption uses it" {
	# the fixtures are what they claim
	[ "$(openssl x509 -in "$PKI/alice-old.pem" -noout -startdate | sed 's/.*=//' | xargs -I{} date -u -d {} +%s)" \
		-lt "$(( $(date +%s) - 199 * 86400 ))" ]
	run --separate-stderr certs import "$PKI/alice-old-full.pem"
	assert_success
	[ "$output" = "imported alice@example.org (SHA-256 $(fp "$PKI/alice-old.pem"))" ]
	run --separate-stderr certs import "$PKI/alice-new-full.pem"
	assert_success
	[ "$output" = "imported alice@example.org (SHA-256 $(fp "$PKI/alice-new.pem"))" ]
	[ "$(stored)" = "$(fp "$PKI/alice-new.pem")" ]
	cp "$S/alice@example.org" "$T/first"
	opens_with new
	run opens_with old
	assert_failure
	# the other order
	smime-certs remove alice@example.org
	certs import "$PKI/alice-new-full.pem"
	run --separate-stderr certs import "$PKI/alice-old-full.pem"
	assert_success
	[ "$output" = "kept alice@example.org (SHA-256 $(fp "$PKI/alice-old.pem"))" ]
	[ -z "$stderr" ]
	[ "$(stored)" = "$(fp "$PKI/alice-new.pem")" ]
	# the same entry as in the first order, but for the time it was written
	diff <(grep -v '^stored:\|^signing-time:' "$T/first") <(grep -v '^stored:\|^signing-time:' "$S/alice@example.org")
	opens_with new
}

@test "certs order: in one run the order of the files and of the certificates in a file does not matter" {
	for order in "old new" "new old"; do
		rm -rf "$S"
		set -- $order
		run --separate-stderr certs import "$PKI/alice-$1-full.pem" "$PKI/alice-$2-full.pem"
		assert_success
		[ "$(stored)" = "$(fp "$PKI/alice-new.pem")" ]
		rm -rf "$S"
		cat "$PKI/alice-$1.pem" "$PKI/alice-$2.pem" "$PKI/int.pem" >"$T/both.pem"
		run --separate-stderr certs import "$T/both.pem"
		assert_success
		[ "$(stored)" = "$(fp "$PKI/alice-new.pem")" ]
		# as a PKCS#7 bundle too
		rm -rf "$S"
		openssl crl2pkcs7 -nocrl -certfile "$T/both.pem" >"$T/both.p7"
		certs import "$T/both.p7" >/dev/null
		[ "$(stored)" = "$(fp "$PKI/alice-new.pem")" ]
	done
	opens_with new
}

@test "certs order: a certificate valid now beats a newer one that has expired" {
	# the short certificate is the newest, but 40 days from now it has expired: then the old
	# one, still valid, replaces it; and it is not replaced by the expired one again
	later=$(( $(date +%s) + 40 * 86400 ))
	certs import "$PKI/alice-short-full.pem" >/dev/null
	run --separate-stderr certs import "$PKI/alice-old-full.pem"
	assert_success
	[ "$output" = "kept alice@example.org (SHA-256 $(fp "$PKI/alice-old.pem"))" ]
	SECMAIL_NOW=$later run --separate-stderr certs import "$PKI/alice-old-full.pem"
	assert_success
	[ "$output" = "imported alice@example.org (SHA-256 $(fp "$PKI/alice-old.pem"))" ]
	[ "$(stored)" = "$(fp "$PKI/alice-old.pem")" ]
	# an expired certificate is not imported at all
	SECMAIL_NOW=$later run --separate-stderr certs import "$PKI/alice-short-full.pem"
	assert_failure 65
	[ "$(stored)" = "$(fp "$PKI/alice-old.pem")" ]
}

@test "certs order: signed messages follow the same rule: a later signature by the older certificate does not replace the newer one" {
	sample_msg >"$T/msg"
	now=$(date +%s)
	SECMAIL_NOW=$((now - 60)) smime-sign --cert "$PKI/alice-new.pem" --key "$PKI/alice-new.key" \
		--chain "$PKI/chain.pem" "$T/msg" >"$T/new.eml"
	SECMAIL_NOW=$now smime-sign --cert "$PKI/alice-old.pem" --key "$PKI/alice-old.key" \
		--chain "$PKI/chain.pem" "$T/msg" >"$T/old.eml"
	run --separate-stderr certs import "$T/new.eml" "$T/old.eml"
	assert_success
	[ "$output" = "imported alice@example.org (SHA-256 $(fp "$PKI/alice-new.pem"))
kept alice@example.org (SHA-256 $(fp "$PKI/alice-old.pem"))" ]
	[ "$(stored)" = "$(fp "$PKI/alice-new.pem")" ]
	rm -rf "$S"
	run --separate-stderr certs import "$T/old.eml" "$T/new.eml"
	assert_success
	[ "$(stored)" = "$(fp "$PKI/alice-new.pem")" ]
	# a certificate file and a message mixed
	rm -rf "$S"
	certs import "$PKI/alice-new-full.pem" "$T/old.eml" >/dev/null
	[ "$(stored)" = "$(fp "$PKI/alice-new.pem")" ]
	rm -rf "$S"
	certs import "$T/old.eml" "$PKI/alice-new-full.pem" >/dev/null
	[ "$(stored)" = "$(fp "$PKI/alice-new.pem")" ]
	# with the same certificate the signing time still decides (RFC 8551 section 2.7.1): the
	# later signature's capabilities replace the earlier one's
	rm -rf "$S"
	SECMAIL_NOW=$((now - 120)) smime-sign --capabilities cbc --cert "$PKI/alice-new.pem" \
		--key "$PKI/alice-new.key" --chain "$PKI/chain.pem" "$T/msg" >"$T/new-cbc.eml"
	certs import "$T/new.eml" "$T/new-cbc.eml" >"$T/out"
	grep -q '^kept ' "$T/out"
	grep -q '^capabilities: 2.16.840.1.101.3.4.1.46 ' "$S/alice@example.org"
	opens_with new
}
