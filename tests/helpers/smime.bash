# Shared fixtures for the smime-sign/smime-verify suites: the throwaway PKI (tests/helpers/pki),
# a sample message, and independent tools to take signed messages apart and check them
# (python3 email, openssl cms, gpgsm, NSS cmsutil).

# In setup_file: the PKI once per suite.
smime_pki() {
	export PKI="$BATS_FILE_TMPDIR/pki"
	[ -f "$PKI/alice.pem" ] || "$BATS_TEST_DIRNAME/helpers/pki" "$PKI"
}

# sample_msg [FROM]: a message with an 8-bit UTF-8 body and outer fields, LF line ends.
sample_msg() {
	local from=${1:-Alice <alice@example.org>}
	printf 'Received: from x by y; Sun, 29 Nov 2026 03:59:00 +0000\n'
	printf 'From: %s\n' "$from"
	printf 'To: Bob <bob@example.org>\n'
	printf 'Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\n'
	printf 'Date: Sun, 29 Nov 2026 04:00:00 +0000\n'
	printf 'Message-ID: <sign-test@example.org>\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf 'Content-Transfer-Encoding: 8bit\n'
	printf '\n'
	printf 'Hello Bob,\n\ngr\303\274\303\237e aus K\303\266ln.\nFrom here on, a line that starts with From.\n'
}

# split_signed MSG CONTENT SIG: the signed entity (canonical CRLF) and the decoded signature of
# a multipart/signed message, taken apart with python3's email package and plain splitting.
split_signed() {
	python3 - "$@" <<'PY'
import sys, re, email
raw = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n')
msg = email.message_from_bytes(raw)
assert msg.get_content_type() == 'multipart/signed', msg.get_content_type()
b = msg.get_param('boundary').encode()
body = raw.split(b'\n\n', 1)[1]
parts = re.split(b'(?:^|\n)--' + re.escape(b) + b'(?:--)?[ \t]*\n', body)
open(sys.argv[2], 'wb').write(parts[1].replace(b'\n', b'\r\n'))
sig = email.message_from_bytes(parts[2])
assert sig.get_content_type() in ('application/pkcs7-signature', 'application/x-pkcs7-signature')
open(sys.argv[3], 'wb').write(sig.get_payload(decode=True))
PY
}

# outer_fields MSG: the header fields other than Content-* and MIME-Version, as python sees them.
outer_fields() {
	python3 - "$1" <<'PY'
import sys, email
raw = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n')
head = raw.split(b'\n\n', 1)[0].decode('utf-8', 'replace')
out, cur = [], None
for line in head.split('\n'):
    if line[:1] in (' ', '\t'):
        cur.append(line)
        continue
    cur = [line]
    out.append(cur)
for f in out:
    name = f[0].split(':', 1)[0].lower()
    if name.startswith('content-') or name == 'mime-version' or name == 'authentication-results':
        continue
    print('\n'.join(f))
PY
}

# gpgsm_home DIR: a GnuPG home trusting the test root, CRL checks off. Sets GNUPGHOME and G.
gpgsm_home() {
	export GNUPGHOME=$1
	mkdir -p -m 700 "$GNUPGHOME"
	echo disable-crl-checks >"$GNUPGHOME/gpgsm.conf"
	echo allow-loopback-pinentry >"$GNUPGHOME/gpg-agent.conf"
	G="gpgsm --batch --pinentry-mode loopback --passphrase-fd 3"
	# The agent up before the first use: gpgsm's own start gives it a few seconds, which a
	# loaded machine (a sanitizer build next door) can exceed.
	gpgconf --launch gpg-agent || return 1
	gpgsm --batch --import "$PKI/ca.pem" "$PKI/int.pem" 2>/dev/null || return 1
	echo "$(openssl x509 -in "$PKI/ca.pem" -noout -fingerprint -sha1 | sed 's/.*=//') S relax" \
		>"$GNUPGHOME/trustlist.txt"
}

# gpgsm_key: a key and self-signed certificate made by gpgsm itself for gpg@example.org,
# trusted; exported as $GNUPGHOME/gpg.pem.
gpgsm_key() {
	printf '%s\n' 'Key-Type: RSA' 'Key-Length: 2048' 'Key-Usage: sign, encrypt' 'Serial: random' \
		'Name-DN: CN=Gpg User' 'Name-Email: gpg@example.org' '%commit' >"$GNUPGHOME/parm"
	$G --gen-key "$GNUPGHOME/parm" 3< <(echo '') >"$GNUPGHOME/gpg.der" 2>/dev/null || return 1
	$G --import "$GNUPGHOME/gpg.der" 3< <(echo '') 2>/dev/null || return 1
	echo "$(gpgsm --with-colons --list-keys gpg@example.org | awk -F: '/^fpr/{print $10; exit}') S relax" \
		>>"$GNUPGHOME/trustlist.txt"
	gpgconf --reload gpg-agent	# the agent reads trustlist.txt at start and on reload
	openssl x509 -inform DER -in "$GNUPGHOME/gpg.der" -out "$GNUPGHOME/gpg.pem"
}

gpgsm_stop() { gpgconf --kill gpg-agent 2>/dev/null || true; }

# nss_db DIR: an NSS database trusting the test root.
nss_db() {
	mkdir -p "$1"
	certutil -N -d "sql:$1" --empty-password &&
	certutil -A -n testca -t "C,C,C" -i "$PKI/ca.pem" -d "sql:$1"
}

# wrap_signed CONTENT SIGDER [FROM]: a multipart/signed message around an entity and a DER
# signature made by another tool (LF line ends, like a mailbox).
wrap_signed() {
	local from=${3:-Gpg User <gpg@example.org>}
	printf 'From: %s\nTo: bob@example.org\nSubject: wrapped\nMIME-Version: 1.0\n' "$from"
	printf 'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="XyZ"\n\n'
	printf -- '--XyZ\n'
	tr -d '\r' <"$1"
	printf -- '\n--XyZ\nContent-Type: application/pkcs7-signature; name=smime.p7s\nContent-Transfer-Encoding: base64\n\n'
	base64 <"$2"
	printf -- '--XyZ--\n'
}

# Is this an ASan build (its shadow memory inflates RSS)? asan_build PROGRAM
asan_build() {
	ldd "$(command -v "$1")" 2>/dev/null | grep -q libasan
}

# rss_kib CMD...: peak RSS in KiB of CMD (stdout to /dev/null).
rss_kib() {
	{ /usr/bin/time -f %M "$@" >/dev/null; } 2>&1 | tail -1
}
