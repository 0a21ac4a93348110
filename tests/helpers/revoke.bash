# Shared fixtures for the revocation suites (tests/revoke-*.bats): a CRL server
# (tests/helpers/crl-http.py), the PKI of tests/helpers/revoke-pki, messages signed by each of
# its users, and an `openssl ocsp` responder per test.

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# In setup_file: server, PKI and signed messages once per suite. Sets R, P (the PKI), the ports.
revoke_setup_file() {
	export R=$BATS_FILE_TMPDIR/rev P=$BATS_FILE_TMPDIR/rev/pki
	mkdir -p "$R/srv" "$P/www"
	python3 "$BATS_TEST_DIRNAME/helpers/crl-http.py" "$P/www" "$R/srv/port" "$R/srv/log" \
		>/dev/null 2>&1 3>&- &
	echo $! >"$R/srv/pid"
	local i
	for i in $(seq 100); do [ -s "$R/srv/port" ] && break; sleep 0.05; done
	export HTTP_PORT=$(cat "$R/srv/port") OCSP_PORT=$(free_port) DEAD_PORT=$(free_port)
	: >"$R/srv/log"
	"$BATS_TEST_DIRNAME/helpers/revoke-pki" "$P" "$HTTP_PORT" "$OCSP_PORT" "$DEAD_PORT"
	local now u ca
	now=$(date +%s)
	for u in crlgood crlkc crlsup ocspgood ocsprev ocspunk deadcrl hang forged ldaponly nosrc \
		underbad roguecdp ocspstatic; do
		ca=$P/int.pem
		[ $u = underbad ] && ca=$P/bad.pem
		[ $u = roguecdp ] && ca=$P/rogue.pem
		rev_msg $u | SECMAIL_NOW=$now smime-sign --cert "$P/$u.pem" --key "$P/$u.key" \
			--chain "$ca" >"$R/$u.eml"
	done
	# Signed two days before the revocations (the certificates are ten days old).
	for u in crlkc crlsup; do
		rev_msg $u | SECMAIL_NOW=$((now - 2 * 86400)) smime-sign --cert "$P/$u.pem" \
			--key "$P/$u.key" --chain "$P/int.pem" >"$R/$u-past.eml"
	done
}

revoke_teardown_file() {
	[ -f "$R/srv/pid" ] && kill "$(cat "$R/srv/pid")" 2>/dev/null
	return 0
}

rev_msg() {
	printf 'From: %s@example.org\nTo: bob@example.org\nSubject: revocation test\n' "$1"
	printf 'Date: Mon, 30 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=us-ascii\n\nsigned by %s\n' "$1"
}

# requests PATH: how many times the CRL server was asked for PATH.
requests() { grep -c "^GET $1\$" "$R/srv/log" || true; }

# ocsp_start [ARGS]: an `openssl ocsp` responder for Rev Int CA on OCSP_PORT (its log in
# $T/ocsp.log); ocsp_stop ends it (teardown does too).
ocsp_start() {
	openssl ocsp -port "$OCSP_PORT" -index "$P/ocsp-index.txt" -CA "$P/int.pem" "$@" \
		>"$T/ocsp.log" 2>&1 3>&- &
	echo $! >"$T/ocsp.pid"
	local i
	for i in $(seq 100); do
		grep -q "waiting for OCSP client" "$T/ocsp.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "ocsp responder did not start:" >&2
	cat "$T/ocsp.log" >&2
	return 1
}

ocsp_stop() {
	if [ -f "$T/ocsp.pid" ]; then
		kill "$(cat "$T/ocsp.pid")" 2>/dev/null
		wait "$(cat "$T/ocsp.pid")" 2>/dev/null || true
		rm -f "$T/ocsp.pid"
	fi
	return 0
}

ocsp_requests() { grep -ci "received request" "$T/ocsp.log" || true; }

# The Authentication-Results field of a message, unfolded.
ar() { sed -n '1{p;:a;n;/^[ \t]/{p;ba};q}' "$1" | tr -d '\r\n' | tr -s ' \t' ' '; }

# revdate NAME: the revocation time of NAME's certificate in Rev Int CA's database, as
# smime-verify writes times ("2026-11-30 09:55:11 UTC"), read with openssl.
revdate() {
	local serial d
	serial=$(openssl x509 -in "$P/$1.pem" -noout -serial | sed 's/serial=//')
	d=$(openssl crl -in "$P/int.crl.pem" -noout -text | grep -A1 "Serial Number: $serial" \
		| sed -n 's/.*Revocation Date: //p')
	[ -n "$d" ] && date -u -d "$d" '+%Y-%m-%d %H:%M:%S UTC'
}
