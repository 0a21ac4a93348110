#!/usr/bin/env bats
# msgcore: lib/msg, lib/addr and lib/mime cross-checked with Python's email package over
# generated messages (trees, decoded bytes, raw capture, addresses), plus bad input and
# memory. Drivers: $SECMAIL_TOOLS/mimetree and $SECMAIL_TOOLS/addrparse.
#
# Python parses with email.message_from_bytes (policy default): message_from_binary_file
# reads through a TextIOWrapper that turns CRLF into LF, which would hide line-end bugs.

load helpers/common

setup() {
	common_setup
	MT=$SECMAIL_TOOLS/mimetree
	AP=$SECMAIL_TOOLS/addrparse
	write_gen
	write_tree
}
teardown() { common_teardown; }

write_gen() {
	cat >"$T/gen.py" <<'EOF'
import base64, quopri, random, sys, os

def words(rnd, n):
    return " ".join(rnd.choice(["alpha", "beta", "--x", "gamma", "From", ".", "=", "delta"]) for _ in range(n))

def leaf(rnd, eol, top=False):
    kind = rnd.choice(["7bit", "qp", "b64", "noheader", "empty"])
    if kind == "7bit":
        body = eol.join(words(rnd, rnd.randint(0, 12)) for _ in range(rnd.randint(1, 5)))
        return ["Content-Type: text/plain; charset=us-ascii"], body.encode()
    if kind == "qp":
        data = bytes(rnd.choice(b"abc xyz\xe9\xfc=\t.\n") for _ in range(rnd.randint(0, 300)))
        enc = quopri.encodestring(data).decode().replace("\n", eol)
        return ["Content-Type: text/plain; charset=iso-8859-1",
                "Content-Transfer-Encoding: quoted-printable"], enc.encode()
    if kind == "b64":
        data = os.urandom(rnd.randint(0, 2000)) if rnd.random() < 0.5 else bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 500)))
        enc = base64.encodebytes(data).decode().replace("\n", eol)
        return ["Content-Type: application/octet-stream; name=\"f%d.bin\"" % rnd.randint(0, 99),
                "Content-Disposition: attachment; filename=\"f.bin\"",
                "Content-Transfer-Encoding: base64"], enc.encode()
    if kind == "noheader" and not top:
        return [], (eol.join(words(rnd, 3) for _ in range(2))).encode()
    return ["Content-Type: text/plain"], b""

def entity(rnd, depth, eol, top=False):
    r = rnd.random()
    if depth < 5 and r < 0.35:
        sub = rnd.choice(["mixed", "alternative", "related", "digest"])
        b = "b%d'()+_,-./:=?%d" % (depth, rnd.randint(0, 10**9)) if rnd.random() < 0.5 else "=_%x" % rnd.getrandbits(64)
        hdr = ['Content-Type: multipart/%s;%s boundary="%s"' % (sub, eol + " " if rnd.random() < 0.5 else "", b)]
        out = b""
        if rnd.random() < 0.5:
            out += b"This is a preamble." + eol.encode()
        for i in range(rnd.randint(1, 4)):
            pad = rnd.choice(["", " ", "\t ", ""])
            out += ("--" + b + pad + eol).encode()
            if sub == "digest":
                # default message/rfc822: a message without Content-Type of its own
                h2, b2 = entity(rnd, depth + 2, eol)
                out += b"" + eol.encode() + ("Subject: digest item" + eol).encode() + (eol.join(h2) + eol if h2 else "").encode() + eol.encode() + b2
            else:
                out += entity_bytes(rnd, depth + 1, eol)
            out += eol.encode()
        out += ("--" + b + "--" + rnd.choice(["", "  "])).encode()
        if rnd.random() < 0.5:
            out += (eol + "epilogue text" + eol).encode()
        return hdr, out
    if depth < 5 and r < 0.45:
        inner = ["Subject: inner", "From: inner@example.org"]
        h2, b2 = entity(rnd, depth + 2, eol)
        return ["Content-Type: message/rfc822"], (eol.join(inner + h2) + eol + eol).encode() + b2
    return leaf(rnd, eol, top)

def entity_bytes(rnd, depth, eol):
    h, b = entity(rnd, depth, eol)
    return (eol.join(h) + eol if h else "").encode() + eol.encode() + b

def message(seed):
    rnd = random.Random(seed)
    eol = "\r\n" if rnd.random() < 0.5 else "\n"
    h, b = entity(rnd, 0, eol, top=True)
    top = ["From: Sender <sender@example.org>", "To: a@example.org, B <b@example.net>",
           "Subject: test %d" % seed, "MIME-Version: 1.0"] + h
    return (eol.join(top) + eol + eol).encode() + b + (eol.encode() if rnd.random() < 0.7 else b"")

if __name__ == "__main__":
    d = sys.argv[1]
    for s in range(int(sys.argv[2]), int(sys.argv[3])):
        with open(os.path.join(d, "m%03d.eml" % s), "wb") as f:
            f.write(message(s))
EOF
}

write_tree() {
	cat >"$T/tree.py" <<'EOF'
import email, email.policy, os, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
out = sys.argv[2] if len(sys.argv) > 2 else None
def walk(p, path):
    print(path, p.get_content_type())
    if p.is_multipart():
        for i, s in enumerate(p.get_payload(), 1):
            walk(s, str(i) if path == "0" else "%s.%d" % (path, i))
    elif out:
        with open(os.path.join(out, path), "wb") as f:
            f.write(p.get_payload(decode=True) or b"")
walk(m, "0")
EOF
}

gen() {	# gen FROM TO: messages m000.eml... in $T/msgs
	mkdir -p "$T/msgs"
	python3 "$T/gen.py" "$T/msgs" "$1" "$2"
}

@test "msgcore: part trees of 120 generated messages match Python's email" {
	gen 0 120
	local f n=0
	for f in "$T"/msgs/*.eml; do
		python3 "$T/tree.py" "$f" >"$T/py"
		"$MT" "$f" >"$T/c"
		diff -u "$T/py" "$T/c"
		n=$((n + 1))
	done
	[ "$n" -eq 120 ]
	# The generator did produce nesting, digests and messages (the comparison means something).
	cat "$T"/msgs/*.eml | grep -q 'multipart/digest'
	cat "$T"/msgs/*.eml | grep -q 'Content-Type: message/rfc822'
	cat "$T"/msgs/*.eml | grep -q 'Content-Transfer-Encoding: quoted-printable'
}

@test "msgcore: decoded bytes of every leaf match Python's email" {
	gen 200 260
	local f p leaves=0
	for f in "$T"/msgs/*.eml; do
		rm -rf "$T/exp"
		mkdir "$T/exp"
		python3 "$T/tree.py" "$f" "$T/exp" >/dev/null
		for p in "$T"/exp/*; do
			"$MT" -d "${p##*/}" "$f" >"$T/got"
			cmp "$T/got" "$p"
			leaves=$((leaves + 1))
		done
	done
	[ "$leaves" -gt 100 ]
}

@test "msgcore: raw capture of the top level reproduces each message byte for byte" {
	gen 300 360
	local f
	for f in "$T"/msgs/*.eml; do
		"$MT" -r 0 "$f" | cmp - "$f"
	done
}

@test "msgcore: the first part of a multipart/signed is captured exactly as signed (RFC 1847)" {
	python3 - "$T" <<'EOF'
import os, random, sys
d = sys.argv[1]
for s in range(20):
    rnd = random.Random(s)
    eol = "\r\n" if s % 2 else "\n"
    b = "=_%x" % rnd.getrandbits(64)
    inner = "=_in%x" % rnd.getrandbits(32)
    # The signed entity: a nested multipart with trailing white space and blank lines.
    signed = eol.join(["Content-Type: multipart/mixed; boundary=\"%s\"" % inner, "",
                       "--" + inner, "Content-Type: text/plain", "", "line with space  ",
                       "", "--" + inner + "  ", "", "x" * rnd.randint(0, 3000), "--" + inner + "--",
                       "" if rnd.random() < 0.5 else "epilogue"])
    msg = eol.join(["From: a@example.org", "Content-Type: multipart/signed;",
                    " protocol=\"application/pkcs7-signature\"; micalg=sha-256;",
                    " boundary=\"%s\"" % b, "", "preamble", "--" + b, signed, "--" + b,
                    "Content-Type: application/pkcs7-signature", "Content-Transfer-Encoding: base64",
                    "", "AAECAw==", "--" + b + "--", ""])
    open(os.path.join(d, "s%02d.eml" % s), "w", newline="").write(msg)
    # Independent extraction: what lies between the first two delimiters, RFC 2046 style.
    raw = msg.encode()
    delim = (eol + "--" + b).encode()
    start = raw.index(("--" + b + eol).encode()) + len("--" + b + eol)
    end = raw.index(delim, start)
    open(os.path.join(d, "s%02d.want" % s), "wb").write(raw[start:end])
EOF
	local f
	for f in "$T"/s*.eml; do
		"$MT" -r 1 "$f" | cmp - "${f%.eml}.want"
		"$MT" -d 2 "$f" | cmp - <(printf '\0\1\2\3')
	done
}

@test "msgcore: addresses and display names match Python's header registry" {
	cat >"$T/values" <<'EOF'
John Doe <jdoe@machine.example>
"Joe Q. Public" <john.q.public@example.com>
Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>
<boss@nil.test>, "Giant; \"Big\" Box" <sysservices@example.net>
A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;
Undisclosed recipients:;
Pete(A nice \) chap) <pete(his account)@silly.test(his host)>
A Group(Some people) :Chris Jones <c@(Chris's host.)public.example>, joe@example.org, John <jdoe@one.test> (my dear friend); (the end of the group)
(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;
Joe Q. Public <john.q.public@example.com>
Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example
John Doe <jdoe@machine(comment).  example>
"john doe"@example.com
"jdoe"@example.com
"a\"b"@x.test
first."quoted".last@x.test
jdoe@[192.0.2.1]
J <jdoe@[IPv6:2001:db8::1]>
x@y.test, team: a@b.test;, z@w.test
"Doe, John" <j@x.test>, Doe John <k@x.test>
<@a.test,@b.test:joe@c.test>
Jörg <jörg@bücher.example>
a@b.test,,c@d.test
EOF
	python3 - "$T/values" >"$T/py" <<'EOF'
import email, email.policy, sys
for v in open(sys.argv[1], encoding="utf-8").read().splitlines():
    h = email.message_from_string("To: " + v + "\n\n", policy=email.policy.default)["To"]
    print(" | ".join("%s\t%s" % (a.addr_spec, a.display_name) for a in h.addresses))
EOF
	"$AP" <"$T/values" >"$T/c"
	diff -u "$T/py" "$T/c"
	[ "$(wc -l <"$T/c")" -eq 23 ]
}

@test "msgcore: addr-specs match email.utils.getaddresses on generated plain lists" {
	python3 - >"$T/values" <<'EOF'
import random
rnd = random.Random(5)
atoms = ["a", "bob", "x.y", "first.last", "o'neil", "a+tag", "z_9"]
doms = ["example.org", "EXAMPLE.net", "sub.example.co.uk", "[192.0.2.7]"]
for i in range(200):
    out = []
    for j in range(rnd.randint(1, 5)):
        spec = rnd.choice(atoms) + "@" + rnd.choice(doms)
        form = rnd.randint(0, 3)
        if form == 0: out.append(spec)
        elif form == 1: out.append("Name %d <%s>" % (j, spec))
        elif form == 2: out.append('"Last, First" <%s>' % spec)
        else: out.append("%s (comment %d)" % (spec, j))
    print(", ".join(out))
EOF
	python3 - "$T/values" >"$T/py" <<'EOF'
import sys
from email.utils import getaddresses
for v in open(sys.argv[1]).read().splitlines():
    print(" ".join(a for n, a in getaddresses([v])))
EOF
	"$AP" <"$T/values" | awk -F' [|] ' '{ s = ""; for (i = 1; i <= NF; i++) { split($i, a, "\t"); s = s (i > 1 ? " " : "") a[1] } print s }' >"$T/c"
	diff -u "$T/py" "$T/c"
}

@test "msgcore: an unterminated multipart gives Python's tree and a warning" {
	printf 'Content-Type: multipart/mixed; boundary=b\n\npre\n--b\nContent-Type: text/html\n\n<p>\n--b\nContent-Type: multipart/alternative; boundary=c\n\n--c\n\nalt\n' >"$T/u.eml"
	python3 "$T/tree.py" "$T/u.eml" >"$T/py"
	run --separate-stderr "$MT" "$T/u.eml"
	assert_success
	[ "$output" = "$(cat "$T/py")" ]
	[[ $stderr == *"warning: unterminated multipart"* ]]
}

@test "msgcore: a nesting bomb fails with EX_DATAERR and one line on stderr" {
	python3 -c '
import sys
sys.stdout.write("".join("Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(1000)))' >"$T/bomb"
	run --separate-stderr "$MT" "$T/bomb"
	[ "$status" -eq 65 ]
	[ "$output" = "" ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == *"nested deeper than 32"* ]]
}

@test "msgcore: a part bomb fails at the part limit" {
	{ printf 'Content-Type: multipart/mixed; boundary=b\n\n'; yes -- $'--b\n' | head -n 20000; } >"$T/bomb"
	run --separate-stderr "$MT" "$T/bomb"
	[ "$status" -eq 65 ]
	[[ $stderr == *"more than 10000 MIME parts"* ]]
}

@test "msgcore: a 48 MiB one-line body streams in bounded memory" {
	{ printf 'Content-Type: multipart/mixed; boundary=b\n\n--b\n\n'; head -c 50331648 /dev/zero | tr '\0' 'x'; printf '\n--b--\n'; } >"$T/big"
	peak_rss "$MT" -d 1 "$T/big" >"$T/out" 3>"$T/rss"
	[ "$(wc -c <"$T/out")" -eq 50331648 ]
	[ "$(tr -d x <"$T/out" | wc -c)" -eq 0 ]
	[ "$(cat "$T/rss")" -lt 16384 ]
}

@test "msgcore: boundaries are unique and cannot occur in base64 or quoted-printable output" {
	for i in $(seq 200); do "$MT" -b; done >"$T/b"
	[ "$(sort -u "$T/b" | wc -l)" -eq 200 ]
	refute grep -Ev '^=_[0-9a-f]{32}$' "$T/b"
	python3 - "$T/b" <<'EOF'
import base64, os, quopri, sys
data = bytes(range(256)) * 4 + os.urandom(100000) + b"=_" * 100 + b"\n--=_abc\n"
enc = base64.encodebytes(data) + quopri.encodestring(data) + quopri.encodestring(data, header=True)
assert b"=_" not in enc, "=_ in encoded output"
for b in open(sys.argv[1]).read().split():
    assert len(b) <= 70
EOF
}

@test "msgcore: an mbox From line is not part of the message" {
	printf 'From a@b Sat Jan  1 00:00:00 2000\nSubject: x\n\nbody\n' >"$T/m"
	"$MT" -r 0 "$T/m" | cmp - <(tail -n +2 "$T/m")
	run "$MT" -d 0 "$T/m"
	assert_output "body"
}

@test "msgcore: header fields and unfolded values match Python's parser" {
	python3 - "$T" <<'PY'
import os, random, sys
d = sys.argv[1]
for s in range(40):
    rnd = random.Random(s)
    eol = "\r\n" if s % 2 else "\n"
    lines = []
    for i in range(rnd.randint(1, 30)):
        name = rnd.choice(["Subject", "To", "X-Long", "Received", "x-lower", "X-Empty", "Content-Type"])
        words = [rnd.choice(["a", "bb", "=?utf-8?q?x?=", "\t", "", "(c)", "a@b.test,"]) for _ in range(rnd.randint(0, 60))]
        v = rnd.choice([" ", "", "  ", "\t"]) + " ".join(words)
        # fold at random white space
        out = name + ":"
        for ch in v:
            if ch in " \t" and rnd.random() < 0.2 and out.strip(" \t") and not out.endswith(":"):
                out += eol
            out += ch
        lines.append(out.rstrip("\r\n"))
    msg = eol.join(lines) + eol + eol + "body" + eol
    open(os.path.join(d, "h%02d.eml" % s), "w", newline="").write(msg)
PY
	local f
	for f in "$T"/h*.eml; do
		python3 - "$f" >"$T/py" <<'PY'
import email.parser, email.policy, re, sys
m = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(open(sys.argv[1], "rb").read())
for k, v in m.items():
    print("%s: %s" % (k, re.sub(r"\r?\n", "", v)))
PY
		"$MT" -H "$f" >"$T/c"
		diff -u "$T/py" "$T/c"
	done
}

@test "msgcore: folded fields stay within 78 (998 for long words) and Python unfolds them to the value" {
	python3 - >"$T/values" <<'PY'
import random
rnd = random.Random(9)
for i in range(150):
    ws = [rnd.choice(["w", "word", "longerword", "x" * rnd.randint(70, 120), "=?utf-8?b?AAAA?="]) for _ in range(rnd.randint(1, 60))]
    print(rnd.choice([" ", "  ", "\t"]).join(ws))
PY
	local v n=0
	while IFS= read -r v; do
		"$MT" -F Subject "$v" >"$T/f"
		awk '{ sub(/\r$/, "") } length > 998 { exit 1 } length > 78 && !/^[ \t]*[^ \t]+$/ && !/^Subject: [^ \t]+$/ { exit 1 }' "$T/f"
		python3 - "$T/f" "$v" <<'PY'
import email.parser, email.policy, re, sys
raw = open(sys.argv[1], "rb").read()
m = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw + b"\r\n")
assert re.sub(r"\r\n", "", m["Subject"]) == sys.argv[2], (m["Subject"], sys.argv[2])
PY
		n=$((n + 1))
	done <"$T/values"
	[ "$n" -eq 150 ]
}

@test "msgcore: 2000 generated address lists (obsolete forms, comments, groups) agree with Python" {
	python3 - >"$T/values" <<'PY'
import random
rnd = random.Random(3)
def mbox(in_group=False):
    # Not '"a..b"': Python writes it back unquoted, which is not an RFC 5322 addr-spec
    # (addr_test checks that we keep the quotes).
    local = rnd.choice(['a', 'b.c', '"q s"', "o'n", '"x\\"y"', 'first.last'])
    dom = rnd.choice(['ex.org', 'EX.net', '[1.2.3.4]', 'a.b.c', 'a . b'])
    spec = local + rnd.choice(['@', ' @ ', '(c)@', '@(c)']) + dom
    f = rnd.randint(0, 5 if in_group else 6)
    if f <= 1: return spec
    if f == 2: return rnd.choice(['Name', '"Disp, Q"', 'J. R.', 'A (c) B', '"A" "B"']) + ' <' + spec + '>'
    if f == 3: return '<' + spec + '>'
    if f == 4: return spec + ' (comment (nested))'
    if f == 5: return '<@route.test,@r2.test:' + spec + '>'
    return 'G%d: ' % rnd.randint(0, 9) + ', '.join(mbox(True) if rnd.random() < 0.8 else '' for _ in range(rnd.randint(0, 3))) + ';'
for i in range(2000):
    print(rnd.choice([', ', ',', ' ,', ',,', ',\t']).join(mbox() for _ in range(rnd.randint(1, 4))))
PY
	python3 - "$T/values" >"$T/py" <<'PY'
import email, email.policy, sys
for v in open(sys.argv[1]).read().splitlines():
    h = email.message_from_string("To: " + v + "\n\n", policy=email.policy.default)["To"]
    bad = [d for d in h.defects if d.__class__.__name__ != "ObsoleteHeaderDefect"]
    assert not bad, (v, bad)
    print(" | ".join("%s\t%s" % (a.addr_spec, a.display_name) for a in h.addresses))
PY
	"$AP" <"$T/values" >"$T/c"
	diff -u "$T/py" "$T/c"
	[ "$(grep -c . "$T/c")" -gt 1900 ]
}
