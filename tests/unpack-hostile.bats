#!/usr/bin/env bats
# mime-unpack against hostile messages (issue 9 item 17, the nested message/rfc822 torture
# case, leftover temp files) and the signature part of multipart/signed (issue 10). Each
# message is built here by tests/helpers/unpack-gen.py or openssl.

load helpers/common

GEN="python3 $BATS_TEST_DIRNAME/helpers/unpack-gen.py"

setup() {
	common_setup
	mkdir "$T/out"
}
teardown() { common_teardown; }

# No file in DIR other than the names given, and nothing hidden (no .tmp.* left behind).
only_files() {	# only_files DIR NAME...
	local dir=$1
	shift
	[ "$(cd "$dir" && ls -A | LC_ALL=C sort)" = "$(printf '%s\n' "$@" | LC_ALL=C sort | sed '/^$/d')" ]
}

@test "unpack: -l escapes control characters in encodings and RFC 2047/2231 file names" {
	$GEN terminal "$T/m"
	run --separate-stderr mime-unpack -l "$T/m"
	assert_success
	# Nothing but tabs and line ends below 0x20, no C1 control (U+009B is a CSI).
	! printf '%s' "$output" | LC_ALL=C tr -d '\t\n' | LC_ALL=C grep -q '[[:cntrl:]]' || false
	! printf '%s' "$output" | grep -q $'\u009b' || false
	# Four lines: an LF in a name does not start a new one, and tabs do not add columns.
	[ "${#lines[@]}" -eq 4 ]
	for l in "${lines[@]}"; do [ "$(printf '%s' "$l" | awk -F'\t' '{print NF}')" -eq 5 ]; done
	assert_line --index 1 $'  1\tapplication/octet-stream\tx-\\x1b]0;owned\\x07\\x1b[2J\t3\t-'
	assert_line --index 2 $'  2\tapplication/octet-stream\tbase64\t3\tred\\x1b[31m\\x1b]0;t\\x07.txt'
	assert_line --index 3 $'  3\tapplication/octet-stream\tbase64\t3\ttab\\x09nl\\x0aesc\\x1b[1m\\u009b.txt'
}

@test "unpack: extracted names lose bidi controls and other format characters" {
	$GEN bidi "$T/m"
	run mime-unpack -x "$T/out" "$T/m"
	assert_success
	# <RLO>txt.exe must not pose as exe.txt: the name is what the bytes say.
	[ "$(cat "$T/out/txt.exe")" = "file 0" ]
	[ "$(cat "$T/out/abc.pdf")" = "file 1" ]
	[ "$(cat "$T/out/evil.doc")" = "file 2" ]
	[ "$(cat "$T/out/line_sep_.txt")" = "file 3" ]
	only_files "$T/out" txt.exe abc.pdf evil.doc line_sep_.txt
	# Python's unicodedata agrees: no format (Cf), control (Cc) or separator (Zl, Zp) left.
	python3 - "$T/out" <<'EOF'
import os, sys, unicodedata
for name in os.listdir(sys.argv[1]):
    bad = [c for c in name if unicodedata.category(c) in ("Cf", "Cc", "Zl", "Zp")]
    assert not bad, (name, bad)
EOF
}

@test "unpack: extracted files honour the umask" {
	head -c 100 /dev/urandom >"$T/data"
	python3 - "$T/m" "$T/data" <<'EOF'
import sys
from email.message import EmailMessage
m = EmailMessage()
m.set_content("body\n")
m.add_attachment(open(sys.argv[2], "rb").read(), maintype="application",
                 subtype="octet-stream", filename="a.bin")
open(sys.argv[1], "wb").write(bytes(m))
EOF
	for mask in 077 027 022 002; do
		rm -f "$T/out/a.bin"
		(umask "$mask" && mime-unpack -x "$T/out" "$T/m" >/dev/null)
		want=$(printf '%o' $((0666 & ~0$mask)))
		[ "$(stat -c %a "$T/out/a.bin")" = "$want" ]
		cmp "$T/out/a.bin" "$T/data"
	done
}

@test "unpack: a message/rfc822 in a message/rfc822 in a message/rfc822 is extracted whole" {
	$GEN torture "$T/m"
	run --separate-stderr mime-unpack -x "$T/out" "$T/m"
	assert_success
	assert_output "$T/out/level1.eml"
	only_files "$T/out" level1.eml
	# What -x wrote is what -p writes, and that is the enclosed message byte for byte.
	mime-unpack -p 2 "$T/m" | cmp - "$T/out/level1.eml"
	# (the line end before the delimiter belongs to the delimiter: RFC 2046 §5.1.1)
	sed -n '/^From: l1@/,/^innermost$/p' "$T/m" | head -c -1 | cmp - "$T/out/level1.eml"
	# Python reads the same three levels out of it.
	python3 - "$T/out/level1.eml" <<'EOF'
import sys
from email import message_from_binary_file, policy
m = message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
subjects = []
while m.get_content_type() == "message/rfc822":
    subjects.append(m["subject"])
    m = m.get_payload(0)
assert subjects == ["level 1", "level 2"], subjects
assert m["subject"] == "level 3" and m.get_content() in ("innermost", "innermost\n")
EOF
	# Each level on its own, by number.
	mime-unpack -p 2.1 "$T/m" | head -2 | grep -qx 'Subject: level 2'
	mime-unpack -p 2.1.1 "$T/m" | head -2 | grep -qx 'Subject: level 3'
	[ "$(mime-unpack -p 2.1.1.1 "$T/m")" = innermost ]
}

@test "unpack: an attached message is written whole, its own attachments stay inside it" {
	$GEN forward "$T/m"
	run --separate-stderr mime-unpack -x "$T/out" "$T/m"
	assert_success
	only_files "$T/out" fw.eml
	mime-unpack -p 2 "$T/m" | cmp - "$T/out/fw.eml"
	# ... from where mime-unpack takes them out on request.
	run mime-unpack -x "$T/out" "$T/out/fw.eml"
	assert_success
	[ "$(cat "$T/out/report.bin")" = report ]
	[ "$(mime-unpack -p 2.2 "$T/m")" = report ]
}

@test "unpack: an error while an attached message is being written leaves nothing behind" {
	$GEN deepinside "$T/m"
	run mime-unpack -x "$T/out" "$T/m"
	assert_failure 65
	assert_output --partial "deeper than"
	only_files "$T/out"
}

@test "unpack: bad base64 in a later attachment leaves no file and no temp file" {
	$GEN badlater "$T/m"
	run mime-unpack -x "$T/out" "$T/m"
	assert_failure 65
	assert_output --partial "part 2"
	only_files "$T/out"
}

@test "unpack: a truncated message leaves no file and no temp file" {
	$GEN forward "$T/full"
	head -c "$(( $(wc -c <"$T/full") - 10 ))" "$T/full" >"$T/m"
	run mime-unpack -x "$T/out" "$T/m"
	assert_failure 65
	assert_output --partial "closing boundary"
	only_files "$T/out"
}

@test "unpack: when a name cannot be found, the files already named are removed again" {
	python3 - "$T/m" <<'EOF'
import sys
parts = []
for name in ("first.bin", "x.bin"):
    parts.append('--b\nContent-Type: application/octet-stream\n'
                 'Content-Disposition: attachment; filename="%s"\n'
                 'Content-Transfer-Encoding: base64\n\nYWJj\n' % name)
open(sys.argv[1], "w").write('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
                             + "".join(parts) + "--b--\n")
EOF
	touch "$T/out/x.bin"
	for i in $(seq 1 999); do : >"$T/out/x-$i.bin"; done
	run mime-unpack -x "$T/out" "$T/m"
	assert_failure 73
	[ ! -e "$T/out/first.bin" ]
	[ "$(ls -A "$T/out" | wc -l)" -eq 1000 ]
	[ -z "$(find "$T/out" -name '.tmp.*')" ]
	[ ! -s "$T/out/x.bin" ]
}

# A clear-signed message made by openssl (not by us), holding an attachment.
signed_msg() {
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=alice \
	    -keyout "$T/key" -out "$T/cert" -days 2 2>/dev/null
	printf 'PDF' >"$T/doc.pdf"
	printf 'Subject: signed\n\nsee attachment\n' | mime-pack -a "$T/doc.pdf" >"$T/content"
	openssl smime -sign -signer "$T/cert" -inkey "$T/key" -in "$T/content" >"$T/m"
	grep -q 'filename="smime.p7s"' "$T/m"
}

@test "unpack: -x skips the signature of a multipart/signed; -s keeps it" {
	signed_msg
	run --separate-stderr mime-unpack -x "$T/out" "$T/m"
	assert_success
	only_files "$T/out" doc.pdf
	cmp "$T/out/doc.pdf" "$T/doc.pdf"
	# -l and -p still show and give the signature.
	run mime-unpack -l "$T/m"
	assert_line --index 4 --regexp $'^  2\tapplication/(x-)?pkcs7-signature\tbase64\t[0-9]+\tsmime.p7s$'
	mime-unpack -p 2 "$T/m" | openssl cms -cmsout -inform DER -print >/dev/null
	rm -rf "$T/out" && mkdir "$T/out"
	run --separate-stderr mime-unpack -s -x "$T/out" "$T/m"
	assert_success
	only_files "$T/out" doc.pdf smime.p7s
	mime-unpack -p 2 "$T/m" | cmp - "$T/out/smime.p7s"
	# It is the real signature: openssl verifies the (canonical, CRLF) content with it.
	sed 's/$/\r/' "$T/content" >"$T/content.crlf"
	openssl cms -verify -noverify -inform DER -in "$T/out/smime.p7s" -content "$T/content.crlf" \
	    -binary -out /dev/null
	run mime-unpack -s -l "$T/m"
	assert_failure 64
}

@test "unpack: the man page's pipeline smime-decrypt | mime-unpack -x writes no smime.p7s" {
	signed_msg
	# Encrypted to alice by openssl; decrypted by smime-decrypt, as mime-unpack(1) shows.
	openssl smime -encrypt -aes256 -in "$T/m" "$T/cert" >"$T/enc"
	smime-decrypt --cert "$T/cert" --key "$T/key" <"$T/enc" >"$T/dec"
	run --separate-stderr mime-unpack -x "$T/out" "$T/dec"
	assert_success
	only_files "$T/out" doc.pdf
	cmp "$T/out/doc.pdf" "$T/doc.pdf"
}
