# Shared pieces of the delivery-path suites (tests/delivery.bats, tests/gateway.bats): the
# recipes and configuration lines taken out of README.md, the message corpus, and an
# independent check of the verdict a delivered message carries.

AUTHSERV=mx.test

# readme_block HEADING [N]: the N-th (default 1) indented code block that follows an HTML
# comment line "<!-- tests/... -->" after the "## HEADING" line of README.md, with its
# four-space indent removed. The tests run what the documentation shows.
readme_block() {
	python3 - "$TOP/README.md" "$1" "${2:-1}" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
head, want = "## " + sys.argv[2], int(sys.argv[3])
i = lines.index(head)
seen = 0
while True:
    i += 1
    if i >= len(lines) or lines[i].startswith("## "):
        sys.exit("readme_block: no block %d under %s" % (want, head))
    if lines[i].startswith("<!-- tests/"):
        seen += 1
        if seen == want:
            break
i += 1
while not lines[i].strip():
    i += 1
out = []
while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
    out.append(lines[i][4:])
    i += 1
while out and not out[-1].strip():
    out.pop()
print("\n".join(out))
PY
}

# In setup_file: the PKI and the corpus, once per suite. Sets PKI and CORPUS.
corpus_setup() {
	export PKI="$BATS_FILE_TMPDIR/pki" CORPUS="$BATS_FILE_TMPDIR/corpus"
	[ -f "$PKI/alice.pem" ] || "$TOP/tests/helpers/pki" "$PKI"
	[ -f "$CORPUS/plain.eml" ] || python3 "$TOP/tests/helpers/corpus.py" "$PKI" "$CORPUS" "$AUTHSERV"
}

# smime_conf HOME [KEYNAME]: the settings a user keeps in ~/.config/secmail/smime.conf for
# the recipes: bob's key (or KEYNAME's), the test CA, our authserv-id.
smime_conf() {
	local h=$1 who=${2:-bob}
	mkdir -p "$h/.config/secmail"
	cat >"$h/.config/secmail/smime.conf" <<-EOF
	cert $PKI/$who.pem
	key $PKI/$who.key
	ca_file $PKI/ca.pem
	authserv_id $AUTHSERV
	EOF
}

# maildir_files DIR: the delivered files (new/ and cur/), one per line.
maildir_files() {
	find "$1/new" "$1/cur" -type f 2>/dev/null | sort
}

# check_verdict FILE INPUT RESULT RECORD [WORD...]: the delivered message FILE (made from
# INPUT) is a message that Python's email package reads, carries exactly one
# Authentication-Results field claiming our authserv-id, with smime=RESULT and a reason that
# contains every WORD (a regular expression, case ignored); and exactly one Secmail-
# Decryption record claiming it matching the regular expression RECORD, or none when RECORD
# is "-". The authserv-id is read here as RFC 8601 §2.2 defines it (comments, quoted
# strings), independently of lib/ar.c. On failure it says why and shows the header.
check_verdict() {
	python3 - "$AUTHSERV" "$@" <<'PY'
import email, email.policy, re, sys
authserv, path, inp, result, record = sys.argv[1:6]
words = sys.argv[6:]
raw = open(path, "rb").read()

def fail(why):
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", "replace")
    sys.exit("check_verdict %s: %s\n--- delivered header:\n%s" % (path, why, head))

if not raw.strip():
    fail("the delivered message is empty")

def authserv_id(v):
    """[CFWS] value: a token or a quoted-string, comments skipped (RFC 8601 §2.2)."""
    i, n = 0, len(v)
    while i < n:
        if v[i] in " \t\r\n":
            i += 1
        elif v[i] == "(":
            depth = 0
            while i < n:
                if v[i] == "\\":
                    i += 2
                    continue
                depth += v[i] == "("
                depth -= v[i] == ")"
                i += 1
                if depth == 0:
                    break
        else:
            break
    if i < n and v[i] == '"':
        out, i = "", i + 1
        while i < n and v[i] != '"':
            if v[i] == "\\":
                i += 1
            out += v[i] if i < n else ""
            i += 1
        return out
    m = re.match(r"[^\s;()\"]+", v[i:])
    return m.group(0) if m else ""

msg = email.message_from_bytes(raw, policy=email.policy.compat32)
mine = lambda name: [str(v) for k, v in msg.items() if k.lower() == name.lower()
                     and authserv_id(str(v)).lower() == authserv.lower()]
ar = mine("Authentication-Results")
if len(ar) != 1:
    fail("%d Authentication-Results fields claim %s (want exactly ours): %r" % (len(ar), authserv, ar))
v = " ".join(ar[0].split())
m = re.search(r"\bsmime=([a-z]+)", v)
if not m or m.group(1) != result:
    fail("want smime=%s in %r" % (result, v))
m = re.search(r'reason="((?:[^"\\]|\\.)*)"', v)
reason = m.group(1) if m else ""
for w in words:
    if not re.search(w, reason, re.I):
        fail("the reason %r does not say /%s/" % (reason, w))
rec = mine("Secmail-Decryption")
if record == "-":
    if rec:
        fail("a Secmail-Decryption record claims %s: %r" % (authserv, rec))
else:
    if len(rec) != 1:
        fail("%d Secmail-Decryption records claim %s (want 1): %r" % (len(rec), authserv, rec))
    if not re.search(record, " ".join(rec[0].split())):
        fail("the record %r does not match /%s/" % (rec[0], record))
PY
}

# body_of FILE: the body (after the first blank line), LF line ends.
body_of() {
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read().replace(b"\r\n",b"\n"); sys.stdout.buffer.write(d.split(b"\n\n",1)[1] if b"\n\n" in d else b"")' "$1"
}
