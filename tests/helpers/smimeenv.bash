# Shared fixtures for the smime-encrypt/smime-decrypt suites: a throwaway PKI made with the
# openssl CLI (a CA; RSA and EC users; an expired, a signing-only and a server-only
# certificate; a list and its members), and helpers that wrap and unwrap envelopes with
# independent tools (python3 email, openssl cms).

# envpki DIR: make the PKI in DIR (once per suite, in setup_file).
envpki() {
	local d=$1 n
	mkdir -p "$d"
	(
	cd "$d" || exit 1
	cat >ca.cnf <<'CNF'
[ca]
default_ca = d
[d]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
emailAddress = optional
CNF
	: >index.txt
	echo 01 >serial
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj "/CN=Test CA" \
		-days 30 -addext basicConstraints=critical,CA:true \
		-addext keyUsage=keyCertSign,cRLSign 2>/dev/null || exit 1
	# name keyspec keyUsage [extendedKeyUsage] [start end]
	issue() {
		local name=$1 spec=$2 ku=$3 eku=${4:-emailProtection} start=${5:-} end=${6:-}
		local ext=(-addext "subjectAltName=email:$name@example.org" -addext "keyUsage=$ku")
		[ "$eku" != none ] && ext+=(-addext "extendedKeyUsage=$eku")
		openssl req -new -newkey "$spec" -nodes -keyout "$name.key" -out "$name.csr" \
			-subj "/CN=$name/emailAddress=$name@example.org" "${ext[@]}" 2>/dev/null || return 1
		if [ -n "$start" ]; then
			openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in "$name.csr" \
				-out "$name.pem" -notext -startdate "$start" -enddate "$end" >/dev/null 2>&1
		else
			openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in "$name.csr" \
				-out "$name.pem" -notext -days 30 >/dev/null 2>&1
		fi
	}
	issue alice rsa:2048 keyEncipherment,digitalSignature || exit 1
	issue bob rsa:2048 keyEncipherment,digitalSignature || exit 1
	issue carol ec:<(openssl ecparam -name prime256v1) keyAgreement,digitalSignature || exit 1
	issue dave rsa:2048 keyEncipherment || exit 1
	issue erin rsa:2048 keyEncipherment emailProtection 20200101000000Z 20210101000000Z || exit 1
	issue frank rsa:2048 digitalSignature || exit 1
	issue gina rsa:2048 keyEncipherment serverAuth || exit 1
	issue list rsa:2048 keyEncipherment || exit 1
	issue m1 rsa:2048 keyEncipherment || exit 1
	issue m2 ec:<(openssl ecparam -name prime256v1) keyAgreement || exit 1
	for n in alice bob carol dave list m1 m2; do
		cat "$n.pem" >/dev/null || exit 1
	done
	) || return 1
}

# A plain test message (LF line ends) to stdout: msg [To] [extra header lines...]
plain_msg() {
	local to=${1:-bob@example.org}
	shift || true
	printf 'From: Alice <alice@example.org>\n'
	printf 'To: %s\n' "$to"
	printf 'Subject: envelope test\n'
	printf 'Date: Sun, 29 Nov 2026 04:00:00 +0000\n'
	printf 'Message-ID: <env-test@example.org>\n'
	for h in "$@"; do printf '%s\n' "$h"; done
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf 'Content-Transfer-Encoding: 8bit\n'
	printf '\n'
	printf 'Hello Bob,\n\nthis is secret: gr\303\274\303\237e.\nFrom here on, a line that starts with From.\n'
}

# The body of a message, base64-decoded by python's email package: payload MSG OUT
payload() {
	python3 - "$1" "$2" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
p = m.get_payload(decode=True)
if p is None:
    sys.exit("no payload")
open(sys.argv[2], 'wb').write(p)
PY
}

# A header field's value via python: hdr MSG NAME
hdr() {
	python3 - "$1" "$2" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
v = m.get(sys.argv[2])
print('' if v is None else ' '.join(str(v).split()))
PY
}

# Wrap DER in a message the way a mail client would: wrap_der DER [smime-type] [ctype]
wrap_der() {
	local st=${2:-enveloped-data} ct=${3:-application/pkcs7-mime}
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: wrapped\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: %s; smime-type=%s; name=smime.p7m\n' "$ct" "$st"
	printf 'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=smime.p7m\n\n'
	base64 "$1"
}

# The content entity of plain_msg's output, canonical CRLF: what goes into the envelope.
entity_of() {	# entity_of MSGFILE
	python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n')
head, _, body = data.partition(b'\n\n')
lines = head.split(b'\n')
fields, cur = [], []
for l in lines:
    if l[:1] in (b' ', b'\t') and cur:
        cur.append(l)
    else:
        if cur: fields.append(cur)
        cur = [l]
if cur: fields.append(cur)
inner = [f for f in fields if f[0].lower().startswith(b'content-')]
out = b''.join(b'\r\n'.join(f) + b'\r\n' for f in inner) + b'\r\n' + body.replace(b'\n', b'\r\n')
sys.stdout.buffer.write(out)
PY
}

# The outer fields (not Content-*) of a message, raw, as one blob: outer_of MSGFILE
outer_of() {
	python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
eol = b'\r\n' if b'\r\n' in data.split(b'\n', 1)[0] + b'\n' else b'\n'
head = data.split(eol + eol, 1)[0]
fields, cur = [], []
for l in head.split(eol):
    if l[:1] in (b' ', b'\t') and cur:
        cur.append(l)
    else:
        if cur: fields.append(cur)
        cur = [l]
if cur: fields.append(cur)
sys.stdout.buffer.write(b''.join(eol.join(f) + eol for f in fields if not f[0].lower().startswith(b'content-')))
PY
}

# Number of RecipientInfos in a DER envelope.
nrecips() {
	openssl cms -cmsout -print -inform DER -in "$1" | grep -c 'd\.ktri\|d\.kari'
}

# gpgsm_user DIR: a GnuPG home in DIR with a key and self-signed certificate generated by
# gpgsm itself for gpg@example.org (trusted), exported as DIR/gpg.pem and, converted by
# openssl, DIR/gpg.key. Sets GNUPGHOME and G (the gpgsm command line to use).
gpgsm_user() {
	export GNUPGHOME=$1
	mkdir -p -m 700 "$GNUPGHOME"
	echo disable-crl-checks >"$GNUPGHOME/gpgsm.conf"
	echo allow-loopback-pinentry >"$GNUPGHOME/gpg-agent.conf"
	G="gpgsm --batch --pinentry-mode loopback --passphrase-fd 3"
	printf '%s\n' 'Key-Type: RSA' 'Key-Length: 2048' 'Key-Usage: sign, encrypt' 'Serial: random' \
		'Name-DN: CN=Gpg User' 'Name-Email: gpg@example.org' '%commit' >"$GNUPGHOME/parm"
	$G --gen-key "$GNUPGHOME/parm" 3< <(echo '') >"$GNUPGHOME/gpg.der" 2>/dev/null || return 1
	$G --import "$GNUPGHOME/gpg.der" 3< <(echo '') 2>/dev/null || return 1
	echo "$(gpgsm --with-colons --list-keys gpg@example.org | awk -F: '/^fpr/{print $10; exit}') S relax" \
		>"$GNUPGHOME/trustlist.txt"
	openssl x509 -inform DER -in "$GNUPGHOME/gpg.der" -out "$GNUPGHOME/gpg.pem" || return 1
	# the raw (PKCS#1) export needs no second passphrase round trip with the agent
	$G --export-secret-key-raw gpg@example.org 3< <(echo '') >"$GNUPGHOME/gpg.raw" 2>/dev/null || return 1
	openssl pkey -inform DER -in "$GNUPGHOME/gpg.raw" -out "$GNUPGHOME/gpg.key"
}

# Is this an ASan build (its shadow memory inflates RSS)? asan_build PROGRAM
asan_build() {
	ldd "$(command -v "$1")" 2>/dev/null | grep -q libasan
}

# store_entry DIR NAME [CAPS...]: a certificate-store entry for NAME@example.org written by
# hand in the documented format (lib/certstore.h, version 1); CAPS are dotted OIDs.
store_entry() {
	local dir=$1 name=$2
	shift 2
	mkdir -p -m 700 "$dir"
	{
		echo "secmail-certstore: 1"
		echo "address: $name@example.org"
		echo "signing-time: 20261101000000Z"
		[ $# -gt 0 ] && echo "capabilities: $*"
		echo "encryption-certificate: signer"
		echo
		cat "$PKI/$name.pem"
	} >"$dir/$name@example.org"
}
OID_AES256GCM=2.16.840.1.101.3.4.1.46
OID_AES128GCM=2.16.840.1.101.3.4.1.6
OID_AES256CBC=2.16.840.1.101.3.4.1.42
OID_AES128CBC=2.16.840.1.101.3.4.1.2
OID_DES3=1.2.840.113549.3.7

# The per-test setup of the smime-encrypt suites: $T (common_setup), no header protection
# (tests/hp-*.bats cover it), a private HOME and XDG dirs, no SECMAIL_* settings from outside,
# and $T/msg with its entity $T/entity.
env_setup() {
	export SECMAIL_HEADER_PROTECTION=none
	common_setup
	export XDG_CONFIG_HOME="$T/config" XDG_DATA_HOME="$T/data" HOME="$T"
	unset SECMAIL_CERT_DIR SECMAIL_SELF_CERT SECMAIL_CERT SECMAIL_KEY SECMAIL_P12 SECMAIL_PASS_FILE
	plain_msg >"$T/msg"
	entity_of "$T/msg" >"$T/entity"
}
