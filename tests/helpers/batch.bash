# Shared fixtures for the batch-mode suites (tests/batch-*.bats): the throwaway PKI, small
# messages, Maildirs, and independent checks of what a run left behind.

# In setup_file: the PKI once per suite.
batch_pki() {
	export PKI="$BATS_FILE_TMPDIR/pki"
	[ -f "$PKI/alice.pem" ] || "$BATS_TEST_DIRNAME/helpers/pki" "$PKI"
}

# small_msg N [FROM]: a small plain-text message, its Subject and Message-ID numbered N.
small_msg() {
	printf 'From: %s\nTo: Bob <bob@example.org>\nSubject: batch %s\n' "${2:-Alice <alice@example.org>}" "$1"
	printf 'Message-ID: <batch-%s@example.org>\nDate: Sun, 29 Nov 2026 04:00:00 +0000\n' "$1"
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
	printf 'Message number %s.\n' "$1"
}

# mkmaildir DIR: an empty Maildir only the user can change.
mkmaildir() {
	mkdir -p "$1/tmp" "$1/new" "$1/cur"
	chmod 700 "$1" "$1/tmp" "$1/new" "$1/cur"
}

# fill DIR COUNT [FIRST]: COUNT messages into DIR/new under Maildir-style unique names.
fill() {
	local i first=${3:-1}
	for ((i = first; i < first + $2; i++)); do
		small_msg "$i" >"$1/new/$((1700000000 + i)).M${i}P4242.test"
	done
}

# files DIR: the names in DIR, one per line, sorted (none: nothing).
files() { ls -A "$1" 2>/dev/null | LC_ALL=C sort; }

# subjects FILE...: the Subject of each message (python's email package), sorted.
subjects() {
	python3 - "$@" <<'PY'
import email, sys
out = []
for p in sys.argv[1:]:
    m = email.message_from_bytes(open(p, "rb").read())
    out.append(str(m["Subject"]))
print("\n".join(sorted(out)))
PY
}

# expect_subjects FIRST LAST: what `subjects` prints for "batch FIRST" .. "batch LAST".
expect_subjects() {
	local i
	for ((i = $1; i <= $2; i++)); do echo "batch $i"; done | LC_ALL=C sort
}

# verify_all FILE...: each is a signature by alice that openssl cms accepts.
verify_all() {
	local f
	for f in "$@"; do
		openssl cms -verify -in "$f" -CAfile "$PKI/ca.pem" -purpose smimesign -out /dev/null \
			2>/dev/null || { echo "openssl cms -verify refuses $f" >&2; return 1; }
	done
}

# The per-test setup of the batch suites: $T (common_setup), our authserv-id, SIGN (smime-sign
# with Alice's key and chain) and an empty Maildir $T/box.
batch_setup() {
	common_setup
	export SECMAIL_AUTHSERV_ID=mx.example.org
	SIGN=(smime-sign --cert "$PKI/alice-full.pem" --key "$PKI/alice.key")
	mkmaildir "$T/box"
}
