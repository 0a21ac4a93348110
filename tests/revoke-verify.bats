#!/usr/bin/env bats
# Revocation (issue 13): smime-verify against real servers on loopback - a CRL server
# (tests/helpers/crl-http.py) and `openssl ocsp` as the OCSP responder - and smime-encrypt's
# refusal of revoked recipients. Cross-checked with `openssl verify -crl_check` and the
# `openssl ocsp` client.

load helpers/common
load helpers/revoke

setup_file() { revoke_setup_file; }
teardown_file() { revoke_teardown_file; }
setup() {
	common_setup
	export SECMAIL_AUTHSERV_ID=mx.test
}
teardown() {
	ocsp_stop
	common_teardown
}

verify() { smime-verify --ca-file "$P/ca.pem" "$@"; }

# ---- CRLs from distribution points ----

@test "revoke: a certificate its CRL does not list passes without a note; fetched once, then cached" {
	local n1 n2
	n1=$(requests /int.crl) n2=$(requests /root.crl)
	verify "$R/crlgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by crlgood@example.org; the header is protected (hp=clear)" '* ]]
	grep -q '^signed by crlgood' "$T/v"
	[ "$(requests /int.crl)" -eq $((n1 + 1)) ]
	[ "$(requests /root.crl)" -eq $((n2 + 1)) ]	# the intermediate, against the root's CRL
	# The cache: private, and used - no second fetch.
	[ "$(stat -c %a "$XDG_CACHE_HOME/secmail/revocation")" = 700 ]
	[ -z "$(find "$XDG_CACHE_HOME/secmail/revocation" -type f ! -perm 600)" ]
	verify "$R/crlgood.eml" | cmp - "$T/v"
	[ "$(requests /int.crl)" -eq $((n1 + 1)) ]
	# openssl agrees the certificate is good.
	openssl verify -crl_check_all -CAfile "$P/ca.pem" -untrusted "$P/int.pem" \
		-CRLfile "$P/int.crl.pem" -CRLfile "$P/root.crl.pem" "$P/crlgood.pem"
}

@test "revoke: a certificate revoked for keyCompromise fails, naming the time, the reason and the CRL" {
	run --separate-stderr verify "$R/crlkc.eml"
	assert_success	# the filter contract: the verdict travels in the header
	when=$(revdate crlkc)
	[ -n "$when" ]
	[[ "$(ar <(echo "$output"))" == *"smime=fail reason=\"the signer's certificate was revoked on $when (keyCompromise; CRL http://127.0.0.1:$HTTP_PORT/int.crl)\""* ]]
	[[ $stderr == *"fail: the signer's certificate was revoked on $when (keyCompromise"* ]]
	[[ $output == *"signed by crlkc"* ]]
	run verify -E "$R/crlkc.eml"
	assert_failure 1
	# openssl says the same.
	run openssl verify -crl_check -CAfile "$P/ca.pem" -untrusted "$P/int.pem" \
		-CRLfile "$P/int.crl.pem" "$P/crlkc.pem"
	assert_failure
	assert_output --partial "certificate revoked"
}

@test "revoke: revoked after the signing time: superseded is policy, keyCompromise still fails" {
	when=$(revdate crlsup)
	verify "$R/crlsup-past.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=policy reason=\"the signer's certificate was revoked on $when (superseded), after the signing time "*"that reason does not void earlier signatures, but the signing time is the signer's own claim and the certificate is no longer valid (CRL http://127.0.0.1:$HTTP_PORT/int.crl)\""* ]]
	verify "$R/crlkc-past.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the signer's certificate was revoked on $(revdate crlkc) (keyCompromise), after the signing time "*", which a stolen key can set to anything ("* ]]
	# Signed after the revocation: superseded fails too.
	verify "$R/crlsup.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the signer's certificate was revoked on $when (superseded; a cached CRL from http://127.0.0.1:$HTTP_PORT/int.crl)\""* ]]
}

@test "revoke: a revoked intermediate CA fails, named" {
	verify "$R/underbad.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the certificate of \\\"Rev Bad CA\\\", a CA in the signer's chain was revoked on "*" (cACompromise; CRL http://127.0.0.1:$HTTP_PORT/root.crl)\""* ]]
	openssl verify -crl_check_all -CAfile "$P/ca.pem" -untrusted "$P/bad.pem" \
		-CRLfile "$P/bad.crl.pem" -CRLfile "$P/root.crl.pem" "$P/underbad.pem" && return 1
	return 0
}

@test "revoke: a CRL signed by another key under the issuer's name is not believed" {
	# Served for the certificate "forged": it vouches for nothing.
	verify "$R/forged.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=pass reason=\"good signature by forged@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (CRL http://127.0.0.1:$HTTP_PORT/forged.crl: its signature does not verify with the issuer's key)\""* ]]
	# Given as a file, it cannot clear a revoked certificate.
	verify --crl-file "$P/forged.crl.pem" "$R/crlkc.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the signer's certificate was revoked on"* ]]
}

@test "revoke: --crl-file and --crl-path with --no-fetch answer without any request" {
	local n
	n=$(wc -l <"$R/srv/log")
	mkdir "$T/crls"
	cp "$P/int.crl.pem" "$P/root.crl.pem" "$T/crls/"
	echo "not a CRL" >"$T/crls/README"
	verify --no-fetch --crl-path "$T/crls" "$R/crlkc.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the signer's certificate was revoked on $(revdate crlkc) (keyCompromise; CRL file $T/crls/int.crl.pem)\""* ]]
	verify --no-fetch --crl-path "$T/crls" "$R/crlgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by crlgood@example.org; the header is protected (hp=clear)" '* ]]
	# DER works as well as PEM; configuration and environment name files too.
	openssl crl -in "$P/int.crl.pem" -outform DER -out "$T/int.der"
	SECMAIL_CRL_FILE=$T/int.der verify --no-fetch "$R/crlkc.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"(keyCompromise; CRL file $T/int.der)"* ]]
	printf 'crl_file %s\nfetch off\n' "$T/int.der" >"$T/conf"
	verify -C "$T/conf" "$R/crlkc.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"(keyCompromise; CRL file $T/int.der)"* ]]
	[ "$(wc -l <"$R/srv/log")" -eq "$n" ]
	# Without a file and without fetching: unknown, and said so.
	verify --no-fetch "$R/crlgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"good signature by crlgood@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (CRL not fetched (fetching is off))"* ]]
}

@test "revoke: an expired CRL does not vouch for anyone, but a revocation in it stands" {
	later=$(( $(date +%s) + 8 * 86400 ))	# int.crl's nextUpdate is 7 days away
	SECMAIL_NOW=$later verify --no-fetch --crl-file "$P/int.crl.pem" "$R/crlgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"good signature by crlgood@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (CRL file $P/int.crl.pem: it expired on "* ]]
	SECMAIL_NOW=$later verify --no-fetch --crl-file "$P/int.crl.pem" "$R/crlkc.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the signer's certificate was revoked on"* ]]
	# A CRL valid for one hour: fetched answers are cached only while fresh.
	SECMAIL_NOW=$(( $(date +%s) + 7200 )) verify --no-fetch --revocation strict \
		--crl-file "$P/int-hour.crl.pem" "$R/crlgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=temperror reason=\"revocation status of the signer's certificate unknown (CRL file $P/int-hour.crl.pem: it expired on"*"(strict revocation checking)"* ]]
}

@test "revoke: an unreachable distribution point: pass with a note, temperror in strict mode, the message whole" {
	run --separate-stderr verify "$R/deadcrl.eml"
	assert_success
	[[ "$(ar <(echo "$output"))" == *"smime=pass reason=\"good signature by deadcrl@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (CRL http://127.0.0.1:$DEAD_PORT/int.crl: Connection refused)\""* ]]
	[[ $output == *"signed by deadcrl"* ]]
	run --separate-stderr verify --revocation strict "$R/deadcrl.eml"
	assert_success
	[[ "$(ar <(echo "$output"))" == *"smime=temperror reason=\"revocation status of the signer's certificate unknown (CRL http://127.0.0.1:$DEAD_PORT/int.crl: "* ]]
	[[ $output == *"signed by deadcrl"* ]]
	[[ $stderr == *"temperror: revocation status of the signer's certificate unknown"* ]]
	SECMAIL_REVOCATION=strict run verify -E "$R/deadcrl.eml"
	assert_failure 1
}

@test "revoke: a distribution point that never answers costs one short timeout, then rests" {
	local n
	n=$(requests /hang/int.crl)
	SECMAIL_FETCH_TIMEOUT=1 verify "$R/hang.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"revocation status of the signer's certificate unknown (CRL http://127.0.0.1:$HTTP_PORT/hang/int.crl: transfer timeout)"* ]]
	SECMAIL_FETCH_TIMEOUT=1 verify "$R/hang.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"(CRL http://127.0.0.1:$HTTP_PORT/hang/int.crl: failed (transfer timeout), not asked again before "* ]]
	[ "$(requests /hang/int.crl)" -eq $((n + 1)) ]
	# Ten minutes later it is asked again.
	SECMAIL_NOW=$(( $(date +%s) + 601 )) SECMAIL_FETCH_TIMEOUT=1 verify "$R/hang.eml" >/dev/null
	[ "$(requests /hang/int.crl)" -eq $((n + 2)) ]
}

# ---- one budget for all fetches of a verification ----

# slow_msg: $R/slow.eml, signed by "slow", whose certificate names three OCSP responders and
# three CRL distribution points on the test server that accept the request and never answer
slow_msg() {
	[ -f "$R/slow.eml" ] && return 0
	local H=http://127.0.0.1:$HTTP_PORT
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$R/slow.key" 2>/dev/null
	openssl req -new -key "$R/slow.key" -subj "/CN=slow/emailAddress=slow@example.org" -out "$R/slow.csr"
	cat >"$R/slow.ext" <<EXT
keyUsage=critical,digitalSignature,keyAgreement
basicConstraints=CA:false
subjectAltName=email:slow@example.org
extendedKeyUsage=emailProtection
authorityInfoAccess=OCSP;URI:$H/hang/o1,OCSP;URI:$H/hang/o2,OCSP;URI:$H/hang/o3
crlDistributionPoints=URI:$H/hang/c1,URI:$H/hang/c2,URI:$H/hang/c3
EXT
	openssl x509 -req -in "$R/slow.csr" -CA "$P/int.pem" -CAkey "$P/int.key" -set_serial 0x5105 \
		-days 30 -extfile "$R/slow.ext" -out "$R/slow.pem" 2>/dev/null
	rev_msg slow | smime-sign --cert "$R/slow.pem" --key "$R/slow.key" --chain "$P/int.pem" >"$R/slow.eml"
}
posts() { grep -c "^POST $1\$" "$R/srv/log" || true; }

@test "revoke: responders and distribution points that all hang cost one budget (fetch_budget), then the status is unknown" {
	local n1 n2 n3 g1
	slow_msg
	n1=$(posts /hang/o1) n2=$(posts /hang/o2) n3=$(posts /hang/o3) g1=$(requests /hang/c1)
	# Each fetch may take 5 seconds (six sources: 30); the budget of 2 ends the walk. The outer
	# timeout is only a guard against a hang.
	SECMAIL_FETCH_TIMEOUT=5 SECMAIL_FETCH_BUDGET=2 run --separate-stderr timeout 60 smime-verify \
		--ca-file "$P/ca.pem" "$R/slow.eml"
	assert_success
	[[ $output == *"signed by slow"* ]]
	reason=$(ar <(echo "$output"))
	[[ $reason == *"smime=pass reason=\"good signature by slow@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$HTTP_PORT/hang/o1: transfer timeout (cut short: the 2 seconds for revocation fetches ran out); OCSP http://127.0.0.1:$HTTP_PORT/hang/o2: not asked, the 2 seconds for revocation fetches were spent;"* ]]
	# the first responder was asked once, the others never
	[ "$(posts /hang/o1)" -eq $((n1 + 1)) ]
	[ "$(posts /hang/o2)" -eq "$n2" ]
	[ "$(posts /hang/o3)" -eq "$n3" ]
	[ "$(requests /hang/c1)" -eq "$g1" ]
	# strict mode: temperror, the message written whole
	SECMAIL_FETCH_TIMEOUT=5 run --separate-stderr timeout 60 smime-verify --ca-file "$P/ca.pem" \
		--revocation strict -C <(printf 'fetch_budget 2\n') "$R/slow.eml"
	assert_success
	[[ $output == *"signed by slow"* ]]
	[[ "$(ar <(echo "$output"))" == *"smime=temperror reason=\"revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$HTTP_PORT/hang/o1: transfer timeout (cut short: the 2 seconds for revocation fetches ran out); OCSP http://127.0.0.1:$HTTP_PORT/hang/o2: not asked"*"(strict revocation checking)\""* ]]
	[[ $stderr == *"temperror: revocation status of the signer's certificate unknown"* ]]
	# a source cut short by the budget does not rest: it had less than its own timeout
	[ "$(posts /hang/o1)" -eq $((n1 + 2)) ]
}

@test "revoke: the budget is per message: in batch mode every message gets its own" {
	local n1
	slow_msg
	mkdir "$T/in" "$T/out"
	cp "$R/slow.eml" "$T/in/a.eml"
	cp "$R/slow.eml" "$T/in/b.eml"
	n1=$(posts /hang/o1)
	SECMAIL_FETCH_TIMEOUT=5 SECMAIL_FETCH_BUDGET=1 run --separate-stderr timeout 60 smime-verify \
		--ca-file "$P/ca.pem" --out-dir "$T/out" "$T/in/a.eml" "$T/in/b.eml"
	assert_success
	for m in a b; do
		[[ "$(ar "$T/out/$m.eml")" == *"smime=pass reason=\"good signature by slow@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$HTTP_PORT/hang/o1: transfer timeout (cut short: the 1 seconds for revocation fetches ran out); OCSP http://127.0.0.1:$HTTP_PORT/hang/o2: not asked"* ]]
	done
	[ "$(posts /hang/o1)" -eq $((n1 + 2)) ]
}

# int_cert NAME EMAIL KEYUSAGE EXT...: $R/NAME.pem/.key, for EMAIL, issued by Rev Int CA, with
# the extension lines EXT (AIA, CDP) - made once per suite.
int_cert() {
	local name=$1 email=$2 ku=$3 ext
	shift 3
	[ -f "$R/$name.pem" ] && return 0
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$R/$name.key" 2>/dev/null
	openssl req -new -key "$R/$name.key" -subj "/CN=$name/emailAddress=$email" -out "$R/$name.csr"
	{
		printf 'keyUsage=critical,%s\nbasicConstraints=CA:false\n' "$ku"
		printf 'subjectAltName=email:%s\nextendedKeyUsage=emailProtection\n' "$email"
		for ext; do printf '%s\n' "$ext"; done
	} >"$R/$name.ext"
	openssl x509 -req -in "$R/$name.csr" -CA "$P/int.pem" -CAkey "$P/int.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$R/$name.ext" \
		-out "$R/$name.pem" 2>/dev/null
}

# two_msg: $R/two.eml, signed twice by slow@example.org: the first SignerInfo by "slow" (six
# sources that hang), the second by "slow2", whose two OCSP responders hang too.
two_msg() {
	local H=http://127.0.0.1:$HTTP_PORT
	slow_msg
	int_cert slow2 slow@example.org digitalSignature \
		"authorityInfoAccess=OCSP;URI:$H/hang/p1,OCSP;URI:$H/hang/p2"
	[ -f "$R/two.eml" ] || rev_msg slow | smime-sign --cert "$R/slow.pem" --key "$R/slow.key" \
		--cert "$R/slow2.pem" --key "$R/slow2.key" --chain "$P/int.pem" >"$R/two.eml"
}

@test "revoke: two signers whose sources all hang share the one budget: soft passes with the note, strict is temperror" {
	local o1 p1 p2
	two_msg
	# both SignerInfos are there (openssl agrees)
	[ "$(openssl cms -cmsout -print -in "$R/two.eml" 2>/dev/null | grep -c 'signatureAlgorithm:')" -eq 2 ]
	o1=$(posts /hang/o1) p1=$(posts /hang/p1) p2=$(posts /hang/p2)
	# The outer timeout is only a guard against a hang.
	SECMAIL_FETCH_TIMEOUT=5 SECMAIL_FETCH_BUDGET=2 run --separate-stderr timeout 60 smime-verify \
		--ca-file "$P/ca.pem" "$R/two.eml"
	assert_success
	[[ $output == *"signed by slow"* ]]
	[[ "$(ar <(echo "$output"))" == *"smime=pass reason=\"good signature by slow@example.org; the header is protected (hp=clear); signers: EC pass, EC pass; revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$HTTP_PORT/hang/o1: transfer timeout (cut short: the 2 seconds for revocation fetches ran out); OCSP http://127.0.0.1:$HTTP_PORT/hang/o2: not asked, the 2 seconds for revocation fetches were spent;"* ]]
	# the first signer's first responder spent the budget; the second signer's were not asked
	[ "$(posts /hang/o1)" -eq $((o1 + 1)) ]
	[ "$(posts /hang/p1)" -eq "$p1" ]
	[ "$(posts /hang/p2)" -eq "$p2" ]
	SECMAIL_FETCH_TIMEOUT=5 SECMAIL_FETCH_BUDGET=2 run --separate-stderr timeout 60 smime-verify \
		--ca-file "$P/ca.pem" --revocation strict "$R/two.eml"
	assert_success
	[[ $output == *"signed by slow"* ]]
	[[ "$(ar <(echo "$output"))" == *"smime=temperror reason=\"revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$HTTP_PORT/hang/o1: transfer timeout (cut short: the 2 seconds for revocation fetches ran out); OCSP http://127.0.0.1:$HTTP_PORT/hang/o2: not asked"*"(strict revocation checking)"* ]]
	[ "$(posts /hang/p1)" -eq "$p1" ]
}

@test "revoke: the encryption certificate a message names is checked within the message's budget, not a fresh one" {
	local H=http://127.0.0.1:$HTTP_PORT e1 o1
	slow_msg
	int_cert slowenc slow@example.org keyAgreement "authorityInfoAccess=OCSP;URI:$H/hang/e1"
	rev_msg slow | smime-sign --cert "$R/slow.pem" --key "$R/slow.key" --chain "$P/int.pem" \
		--encrypt-cert "$R/slowenc.pem" >"$T/s"
	e1=$(posts /hang/e1) o1=$(posts /hang/o1)
	SECMAIL_FETCH_TIMEOUT=5 SECMAIL_FETCH_BUDGET=2 run --separate-stderr timeout 60 smime-verify \
		--ca-file "$P/ca.pem" --save-certs "$T/store" "$T/s"
	assert_success
	[[ "$(ar <(echo "$output"))" == *"smime=pass reason=\"good signature by slow@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$HTTP_PORT/hang/o1: transfer timeout (cut short"* ]]
	[ "$(posts /hang/o1)" -eq $((o1 + 1)) ]
	# Before: the encryption certificate started a new budget and its responder was asked
	# (another two seconds). Now the budget is spent: not asked, status unknown, and an
	# unknown status does not keep it out of the store (as documented).
	[ "$(posts /hang/e1)" -eq "$e1" ]
	run smime-certs --cert-dir "$T/store" list
	assert_success
	assert_output --partial slow@example.org
}

@test "revoke: a further signer of the same address whose certificate is revoked does not count" {
	local D=$T/ca
	# A second certificate for crlgood@example.org, revoked (keyCompromise) in a CRL of Rev
	# Int CA made here from a copy of its database, given with --crl-file.
	int_cert crlgood2 crlgood@example.org digitalSignature
	mkdir "$D"
	cp -r "$P/int.db" "$P/int.cnf" "$P/int.pem" "$P/int.key" "$D/"
	(cd "$D" && openssl ca -batch -config int.cnf -cert int.pem -keyfile int.key \
		-revoke "$R/crlgood2.pem" -crl_reason keyCompromise 2>/dev/null \
		&& openssl ca -batch -config int.cnf -cert int.pem -keyfile int.key -gencrl \
		-crldays 7 -out crl.pem 2>/dev/null)
	cat "$P/root.crl.pem" >>"$D/crl.pem"	# the intermediate's status too: no note
	# openssl agrees it is revoked, and that crlgood is not
	run openssl verify -crl_check -CAfile "$P/ca.pem" -untrusted "$P/int.pem" -CRLfile "$D/crl.pem" "$R/crlgood2.pem"
	assert_failure
	assert_output --partial "certificate revoked"
	openssl verify -crl_check -CAfile "$P/ca.pem" -untrusted "$P/int.pem" -CRLfile "$D/crl.pem" "$P/crlgood.pem"
	rev_msg crlgood | smime-sign --cert "$P/crlgood.pem" --key "$P/crlgood.key" \
		--cert "$R/crlgood2.pem" --key "$R/crlgood2.key" --chain "$P/int.pem" >"$T/s"
	run --separate-stderr smime-verify --ca-file "$P/ca.pem" --no-fetch --crl-file "$D/crl.pem" "$T/s"
	assert_success
	[[ "$(ar <(echo "$output"))" == *'smime=pass reason="good signature by crlgood@example.org; the header is protected (hp=clear); signers: EC pass, EC not counted (another signer or untrusted)"'* ]]
	# the same message with a CRL that does not list it: both count
	cat "$P/int.crl.pem" "$P/root.crl.pem" >"$D/old.pem"
	run --separate-stderr smime-verify --ca-file "$P/ca.pem" --no-fetch --crl-file "$D/old.pem" "$T/s"
	[[ "$(ar <(echo "$output"))" == *'signers: EC pass, EC pass"'* ]]
}

@test "revoke: in batch mode a message that spends the budget does not starve the next: it gets a real answer" {
	local n
	two_msg
	mkdir "$T/in" "$T/out"
	cp "$R/two.eml" "$T/in/a.eml"
	cp "$R/crlkc.eml" "$T/in/b.eml"
	n=$(requests /int.crl)
	SECMAIL_FETCH_TIMEOUT=5 SECMAIL_FETCH_BUDGET=2 run --separate-stderr timeout 60 smime-verify \
		--ca-file "$P/ca.pem" --out-dir "$T/out" "$T/in/a.eml" "$T/in/b.eml"
	assert_success
	[[ "$(ar "$T/out/a.eml")" == *"smime=pass reason=\"good signature by slow@example.org; the header is protected (hp=clear); signers: EC pass, EC pass; revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$HTTP_PORT/hang/o1: transfer timeout (cut short"* ]]
	# b, after a: its CRL was fetched (not "not asked") and says revoked
	[[ "$(ar "$T/out/b.eml")" == *"smime=fail reason=\"the signer's certificate was revoked on $(revdate crlkc) (keyCompromise; CRL http://127.0.0.1:$HTTP_PORT/int.crl)\""* ]]
	[ "$(requests /int.crl)" -eq $((n + 1)) ]
	grep -q '^signed by crlkc' "$T/out/b.eml"
}

@test "revoke: within the budget a source that hangs has its own timeout and rests; bad fetch_budget values are refused (78)" {
	local n1 n2
	slow_msg
	n1=$(posts /hang/o1) n2=$(posts /hang/o2)
	# a budget of 3 and fetches of 1 second: o1 and o2 time out in full (and rest), o3 is cut
	SECMAIL_FETCH_TIMEOUT=1 SECMAIL_FETCH_BUDGET=3 run --separate-stderr timeout 60 smime-verify \
		--ca-file "$P/ca.pem" "$R/slow.eml"
	assert_success
	[[ "$(ar <(echo "$output"))" == *"unknown (OCSP http://127.0.0.1:$HTTP_PORT/hang/o1: transfer timeout; OCSP http://127.0.0.1:$HTTP_PORT/hang/o2: transfer timeout; "* ]]
	SECMAIL_FETCH_TIMEOUT=1 SECMAIL_FETCH_BUDGET=3 run --separate-stderr timeout 60 smime-verify \
		--ca-file "$P/ca.pem" "$R/slow.eml"
	[[ "$(ar <(echo "$output"))" == *"unknown (OCSP http://127.0.0.1:$HTTP_PORT/hang/o1: failed (transfer timeout), not asked again before "* ]]
	[ "$(posts /hang/o1)" -eq $((n1 + 1)) ]
	[ "$(posts /hang/o2)" -eq $((n2 + 1)) ]
	for bad in 0 -1 3601 soon; do
		SECMAIL_FETCH_BUDGET=$bad run --separate-stderr smime-verify --ca-file "$P/ca.pem" "$R/slow.eml"
		assert_failure 78
		[ -z "$output" ]
		[[ $stderr == *"fetch_budget: '$bad' is not a number of seconds from 1 to 3600"* ]]
	done
}

@test "revoke: no source at all: silent by default, temperror in strict mode" {
	verify "$R/nosrc.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by nosrc@example.org; the header is protected (hp=clear)" '* ]]
	verify --revocation strict "$R/nosrc.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=temperror reason=\"revocation status of the signer's certificate unknown: it names no CRL distribution point or OCSP responder (strict revocation checking)\""* ]]
	verify --revocation strict "$R/ldaponly.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"it names no CRL distribution point or OCSP responder; CRL distribution point ldap: only http: URLs are fetched (strict"* ]]
	# --crl-file covering the issuer is a source.
	verify --revocation strict --crl-file "$P/int.crl.pem" "$R/nosrc.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by nosrc@example.org; the header is protected (hp=clear)" '* ]]
}

@test "revoke: --revocation off checks nothing and asks no one" {
	local n
	n=$(wc -l <"$R/srv/log")
	verify --revocation off "$R/crlkc.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by crlkc@example.org; the header is protected (hp=clear)" '* ]]
	printf 'revocation off\n' >"$T/conf"
	verify -C "$T/conf" "$R/crlkc.eml" | grep -q 'smime=pass'
	[ "$(wc -l <"$R/srv/log")" -eq "$n" ]
	[ ! -e "$XDG_CACHE_HOME/secmail" ]
}

@test "revoke: a certificate that does not chain to a trust anchor makes us fetch nothing" {
	verify "$R/roguecdp.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the signer's certificate does not chain to a trusted root"* ]]
	[ "$(requests /probe.crl)" -eq 0 ]
}

@test "revoke: a revoked encryption certificate is not taken, the signature still passes" {
	rev_msg crlgood | smime-sign --cert "$P/crlgood.pem" --key "$P/crlgood.key" \
		--chain "$P/int.pem" --encrypt-cert "$P/encrev.pem" >"$T/s"
	verify --save-certs "$T/store" "$T/s" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=pass reason=\"good signature by crlgood@example.org; the header is protected (hp=clear); its encryption certificate was ignored: it was revoked on $(revdate encrev) (keyCompromise)\""* ]]
	grep -q '^encryption-certificate: signer$' "$T/store/crlgood@example.org"
}

@test "revoke: bad CRL settings: unreadable 75, not a CRL 78, nothing written" {
	run --separate-stderr verify --crl-file "$T/missing.pem" "$R/crlgood.eml"
	assert_failure 75
	[ -z "$output" ]
	[[ $stderr == *"--crl-file: cannot open $T/missing.pem"* ]]
	echo "garbage" >"$T/bad.pem"
	run --separate-stderr verify --crl-file "$T/bad.pem" "$R/crlgood.eml"
	assert_failure 78
	[ -z "$output" ]
	[[ $stderr == *"$T/bad.pem: no CRL in the file"* ]]
	run --separate-stderr verify --revocation maybe "$R/crlgood.eml"
	assert_failure 64
	printf 'revocation maybe\n' >"$T/conf"
	run --separate-stderr verify -C "$T/conf" "$R/crlgood.eml"
	assert_failure 78
	[ -z "$output" ]
	# An unsigned message needs no CRL: it is written as always.
	printf 'From: a@example.org\n\nplain\n' | verify --crl-file "$T/missing.pem" | grep -q 'smime=none'
}

@test "revoke: a cache directory others can change is not used, and said so" {
	mkdir -p "$XDG_CACHE_HOME/secmail/revocation"
	chmod 777 "$XDG_CACHE_HOME/secmail/revocation"
	run --separate-stderr verify "$R/crlkc.eml"
	assert_success
	[[ $output == *"smime=fail"* ]]
	[[ $stderr == *"the revocation cache is not used: "* ]]
	[ -z "$(ls "$XDG_CACHE_HOME/secmail/revocation")" ]
}

# ---- OCSP ----

@test "revoke: OCSP good passes without a note, as the openssl ocsp client sees it" {
	ocsp_start -rsigner "$P/responder.pem" -rkey "$P/responder.key" -nmin 60
	verify "$R/ocspgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *'smime=pass reason="good signature by ocspgood@example.org; the header is protected (hp=clear)" '* ]]
	[ "$(ocsp_requests)" -eq 1 ]
	run openssl ocsp -issuer "$P/int.pem" -cert "$P/ocspgood.pem" -url "http://127.0.0.1:$OCSP_PORT/" \
		-CAfile "$P/ca.pem" -verify_other "$P/int.pem"
	assert_output --partial "ocspgood.pem: good"
}

@test "revoke: OCSP revoked fails, naming the time, the reason and the responder" {
	ocsp_start -rsigner "$P/responder.pem" -rkey "$P/responder.key" -nmin 60
	verify "$R/ocsprev.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the signer's certificate was revoked on $(revdate ocsprev) (keyCompromise; OCSP http://127.0.0.1:$OCSP_PORT/)\""* ]]
	run openssl ocsp -issuer "$P/int.pem" -cert "$P/ocsprev.pem" -url "http://127.0.0.1:$OCSP_PORT/" \
		-CAfile "$P/ca.pem" -verify_other "$P/int.pem"
	assert_output --partial "ocsprev.pem: revoked"
	assert_output --partial "Reason: keyCompromise"
}

@test "revoke: OCSP unknown: pass with a note, temperror in strict mode" {
	ocsp_start -rsigner "$P/responder.pem" -rkey "$P/responder.key" -nmin 60
	verify "$R/ocspunk.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=pass reason=\"good signature by ocspunk@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$OCSP_PORT/: the responder does not know the certificate (status unknown))\""* ]]
	verify --revocation strict "$R/ocspunk.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=temperror reason=\"revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$OCSP_PORT/: the responder does not know the certificate (status unknown)) (strict revocation checking)\""* ]]
	run openssl ocsp -issuer "$P/int.pem" -cert "$P/ocspunk.pem" -url "http://127.0.0.1:$OCSP_PORT/" \
		-CAfile "$P/ca.pem" -verify_other "$P/int.pem"
	assert_output --partial "ocspunk.pem: unknown"
}

@test "revoke: an expired OCSP response vouches for nothing" {
	ocsp_start -rsigner "$P/responder.pem" -rkey "$P/responder.key" -nmin 1
	SECMAIL_NOW=$(( $(date +%s) + 3600 )) verify "$R/ocspgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"good signature by ocspgood@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$OCSP_PORT/: the response expired on "* ]]
	SECMAIL_NOW=$(( $(date +%s) + 3600 )) verify --revocation strict "$R/ocspgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=temperror reason=\"revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$OCSP_PORT/: the response expired on "* ]]
}

@test "revoke: an OCSP response with a bad signature vouches for nothing" {
	ocsp_start -rsigner "$P/responder.pem" -rkey "$P/responder.key" -nmin 60 -badsig
	verify "$R/ocspgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"good signature by ocspgood@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$OCSP_PORT/: the response signature does not verify)"* ]]
	verify --revocation strict "$R/ocspgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=temperror"* ]]
	# Nothing unverified was cached.
	[ -z "$(ls "$XDG_CACHE_HOME/secmail/revocation" | grep '^ocsp-')" ]
}

@test "revoke: OCSP from a responder the issuer did not authorise is not believed, either way" {
	ocsp_start -rsigner "$P/crlgood.pem" -rkey "$P/crlgood.key" -nmin 60
	verify "$R/ocspgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$OCSP_PORT/: signed by neither the issuer nor a responder it authorised)"* ]]
	verify "$R/ocsprev.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=pass reason=\"good signature by ocsprev@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$OCSP_PORT/: signed by neither the issuer"* ]]
	ocsp_stop
	# The issuer itself may sign its answers.
	ocsp_start -rsigner "$P/int.pem" -rkey "$P/int.key" -nmin 60
	verify "$R/ocsprev.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the signer's certificate was revoked on"*"(keyCompromise; OCSP "* ]]
}

@test "revoke: an unreachable OCSP responder: pass with a note" {
	verify "$R/ocspgood.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"good signature by ocspgood@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$OCSP_PORT/: Connection refused)"* ]]
}

@test "revoke: OCSP answers are cached until their nextUpdate; a procmail rule does not ask for every message" {
	ocsp_start -rsigner "$P/responder.pem" -rkey "$P/responder.key" -nmin 60 -nrequest 1
	verify "$R/ocspgood.eml" >"$T/v1"
	[[ "$(ar "$T/v1")" == *'smime=pass reason="good signature by ocspgood@example.org; the header is protected (hp=clear)" '* ]]
	wait "$(cat "$T/ocsp.pid")"	# -nrequest 1: the responder is gone
	verify "$R/ocspgood.eml" | cmp - "$T/v1"
	# Past nextUpdate the cached answer is not used.
	SECMAIL_NOW=$(( $(date +%s) + 3700 )) verify "$R/ocspgood.eml" >"$T/v2"
	[[ "$(ar "$T/v2")" == *"revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$OCSP_PORT/: Connection refused)"* ]]
}

@test "revoke: an OCSP answer without a nonce counts (pre-produced answers); one with another request's nonce is a replay" {
	# Responders that pre-produce their answers leave the nonce out (RFC 8954 section 2.1
	# lets them); a revocation they report must not be dropped for it.
	cp "$P/www/ocspstatic-nononce" "$P/www/ocspstatic"
	openssl ocsp -respin "$P/www/ocspstatic" -resp_text -noverify | grep -q 'Cert Status: revoked'
	run openssl ocsp -respin "$P/www/ocspstatic" -resp_text -noverify
	refute_output --partial 'OCSP Nonce'
	verify "$R/ocspstatic.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=fail reason=\"the signer's certificate was revoked on $(revdate ocspstatic) (keyCompromise; OCSP http://127.0.0.1:$HTTP_PORT/ocsp/ocspstatic)\""* ]]
	[ "$(grep -c '^POST /ocsp/ocspstatic$' "$R/srv/log")" -ge 1 ]
	# An answer that carries a nonce must carry ours: this one answered another request.
	cp "$P/www/ocspstatic-nonce" "$P/www/ocspstatic"
	openssl ocsp -respin "$P/www/ocspstatic" -resp_text -noverify | grep -q 'OCSP Nonce'
	rm -rf "$XDG_CACHE_HOME/secmail/revocation"
	verify "$R/ocspstatic.eml" >"$T/v"
	[[ "$(ar "$T/v")" == *"smime=pass reason=\"good signature by ocspstatic@example.org; the header is protected (hp=clear); revocation status of the signer's certificate unknown (OCSP http://127.0.0.1:$HTTP_PORT/ocsp/ocspstatic: the response does not carry our nonce (replayed?))\""* ]]
	cp "$P/www/ocspstatic-nononce" "$P/www/ocspstatic"
}

# ---- smime-encrypt ----

enc_msg() { printf 'From: alice@example.org\nTo: %s\nSubject: s\n\nsecret\n' "$1"; }

@test "revoke: smime-encrypt refuses a recipient certificate known to be revoked; nothing written" {
	cat "$P/crlkc.pem" "$P/int.pem" >"$T/crlkc-chain.pem"
	enc_msg crlkc@example.org >"$T/m"
	run --separate-stderr smime-encrypt --no-self -r "$P/crlkc.pem" -r "$P/crlgood.pem" \
		--crl-file "$P/int.crl.pem" --no-fetch "$T/m"
	# The issuer is not known from -r alone: not known to be revoked.
	assert_success
	SECMAIL_CA_FILE=$P/int.pem run --separate-stderr smime-encrypt --no-self -r "$P/crlkc.pem" \
		--crl-file "$P/int.crl.pem" --no-fetch "$T/m"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"crlkc@example.org: certificate was revoked on $(revdate crlkc) (keyCompromise; CRL file $P/int.crl.pem)"* ]]
	# The issuer from the store entry's chain, the CRL fetched.
	smime-verify --revocation off --ca-file "$P/ca.pem" --save-certs "$T/store" "$R/crlkc.eml" >/dev/null
	run --separate-stderr smime-encrypt --no-self --cert-dir "$T/store" "$T/m"
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *"crlkc@example.org: certificate was revoked on $(revdate crlkc) (keyCompromise; CRL http://127.0.0.1:$HTTP_PORT/int.crl)"* ]]
	run --separate-stderr smime-encrypt --no-self --cert-dir "$T/store" --revocation off "$T/m"
	assert_success
}

@test "revoke: smime-encrypt goes ahead when the status is unknown, unless --revocation strict" {
	smime-verify --revocation off --ca-file "$P/ca.pem" --save-certs "$T/store" "$R/deadcrl.eml" >/dev/null
	enc_msg deadcrl@example.org >"$T/m"
	smime-encrypt --no-self --cert-dir "$T/store" "$T/m" >"$T/out"
	grep -q 'application/pkcs7-mime' "$T/out"
	run --separate-stderr smime-encrypt --no-self --cert-dir "$T/store" --revocation strict "$T/m"
	assert_failure 65
	[ -z "$output" ]
	# Refused a moment ago: that distribution point rests (tells when it failed and why).
	[[ $stderr == *"deadcrl@example.org: revocation status unknown (CRL http://127.0.0.1:$DEAD_PORT/int.crl: failed (Connection refused), not asked again before "*"; strict revocation checking)"* ]]
}

@test "revoke: smime-certs import refuses a revoked certificate, and a message its signer's revocation fails" {
	cat "$P/crlkc.pem" "$P/int.pem" >"$T/crlkc-chain.pem"
	cat "$P/crlgood.pem" "$P/int.pem" >"$T/crlgood-chain.pem"
	run --separate-stderr smime-certs --ca-file "$P/ca.pem" --cert-dir "$T/store" import \
		"$T/crlkc-chain.pem" "$T/crlgood-chain.pem"
	assert_failure 65
	[ "$output" = "imported crlgood@example.org (SHA-256 $(openssl x509 -in "$P/crlgood.pem" -noout -fingerprint -sha256 | sed 's/.*=//'))" ]
	[[ $stderr == *"crlkc@example.org: the certificate was revoked on $(revdate crlkc) (keyCompromise; "* ]]
	run --separate-stderr smime-certs --ca-file "$P/ca.pem" --cert-dir "$T/store" import "$R/crlkc.eml"
	assert_failure 65
	[[ $stderr == *"the signature does not pass (smime=fail: the signer's certificate was revoked on"* ]]
	[ ! -e "$T/store/crlkc@example.org" ]
}
