#!/usr/bin/env bats
# mime-unpack's part numbers are IMAP's (RFC 3501 §6.4.5), checked against a hand-written
# expectation (the RFC's own example) and against Python's email package walked with IMAP's
# rules (tests/helpers/unpack-imap.py), over our messages and over CPython's test_email
# corpus (Debian's libpython3.11-testsuite).

load helpers/common

GEN="python3 $BATS_TEST_DIRNAME/helpers/unpack-gen.py"
IMAP="python3 $BATS_TEST_DIRNAME/helpers/unpack-imap.py"
CORPUS=/usr/lib/python3.11/test/test_email/data

setup() { common_setup; }
teardown() { common_teardown; }

# Number and type columns of mime-unpack -l, without the indentation.
numbers() { mime-unpack -l "$1" | awk -F'\t' '{sub(/^ +/, "", $1); print $1 " " $2}'; }

@test "imap: the parts of RFC 3501's example are numbered as the RFC numbers them" {
	$GEN rfc3501 "$T/m"
	numbers "$T/m" >"$T/got"
	# RFC 3501 §6.4.5, plus part 5 (a message/rfc822 whose message is not multipart). The
	# multipart bodies of the messages have no IMAP number: 0, 3.0, 4.2.0.
	cat >"$T/want" <<'WANT'
0 multipart/mixed
1 text/plain
2 application/octet-stream
3 message/rfc822
3.0 multipart/mixed
3.1 text/plain
3.2 application/octet-stream
4 multipart/mixed
4.1 image/gif
4.2 message/rfc822
4.2.0 multipart/mixed
4.2.1 text/plain
4.2.2 multipart/alternative
4.2.2.1 text/plain
4.2.2.2 text/richtext
5 message/rfc822
5.1 text/plain
WANT
	diff "$T/want" "$T/got"
	# Every leaf says its own number.
	for n in 1 2 3.1 3.2 4.1 4.2.1 4.2.2.1 4.2.2.2 5.1; do
		[ "$(mime-unpack -p "$n" "$T/m")" = "body of $n" ]
	done
	# A message/rfc822 part is its message; a multipart is not a leaf.
	mime-unpack -p 3 "$T/m" | head -1 | grep -qx 'Subject: message in 3'
	mime-unpack -p 4.2 "$T/m" | head -1 | grep -qx 'Subject: message in 4.2'
	for n in 0 3.0 4 4.2.0 4.2.2; do
		run mime-unpack -p "$n" "$T/m"
		assert_failure 65
		assert_output --partial "choose one of its parts"
	done
	run mime-unpack -p 3.1.1 "$T/m"
	assert_failure 65
	assert_output --partial "no part 3.1.1"
}

@test "imap: Python's email walked with IMAP's rules agrees on RFC 3501's example" {
	$GEN rfc3501 "$T/m"
	run $IMAP compare "$T/m"
	assert_success
	assert_output --partial "1 messages, 17 parts agree, 0 messages differ"
}

@test "imap: a message whose body is a message/rfc822 is part 1, its parts 1.1 and 1.2" {
	$GEN toprfc822 "$T/m"
	numbers "$T/m" >"$T/got"
	printf '%s\n' '1 message/rfc822' '1.0 multipart/alternative' '1.1 text/plain' \
	    '1.2 text/html' | diff - "$T/got"
	[ "$(mime-unpack -p 1.2 "$T/m")" = "body of 1.2" ]
	mime-unpack -p 1 "$T/m" | head -1 | grep -qx 'Subject: inside'
	run $IMAP compare "$T/m"
	assert_success
}

@test "imap: numbers, names and decoded bytes of messages built by Python and mime-pack agree" {
	head -c 3000 /dev/urandom >"$T/bin"
	printf 'From: c@example.org\nSubject: inner\n\ninner body\n' >"$T/fw.eml"
	printf 'Subject: outer\n\nsee below\n' |
	    mime-pack -a "$T/bin" -a "$T/fw.eml" --forward "$T/fw.eml" >"$T/m1"
	python3 - "$T/m2" "$T/bin" <<'PY'
import sys
from email.message import EmailMessage
inner = EmailMessage()
inner["Subject"] = "inner"
inner.set_content("inner text\n")
inner.add_alternative("<p>inner</p>\n", subtype="html")
inner.add_attachment(open(sys.argv[2], "rb").read(), maintype="image", subtype="png",
                     filename="Grüße.png")
outer = EmailMessage()
outer["Subject"] = "outer"
outer.set_content("outer text\n")
outer.add_attachment(inner)
outer.add_attachment(b"\x00\x01 binary", maintype="application", subtype="octet-stream",
                     filename="x.bin")
open(sys.argv[1], "wb").write(bytes(outer))
PY
	run $IMAP compare "$T/m1" "$T/m2"
	assert_success
	assert_output --partial "2 messages,"
	assert_output --partial "0 messages differ"
	# The multipart inside the enclosed message of part 2 has its parts at 2.1, 2.2 ...
	numbers "$T/m2" | grep -qx '2.1 multipart/alternative'
	numbers "$T/m2" | grep -qx '2.2 image/png'
	mime-unpack -p 2.2 "$T/m2" | cmp - "$T/bin"
}

@test "imap: every part of CPython's test_email corpus agrees with Python's email, or differs as explained" {
	msgs=("$CORPUS"/msg_*.txt)
	# The corpus is there (scripts/deps.d/mimepack installs it): never a vacuous pass.
	[ "${#msgs[@]}" -ge 40 ]
	run $IMAP compare "${msgs[@]}"
	echo "$output" >&3
	assert_success
	assert_output --regexp "${#msgs[@]} messages, [0-9]{3} parts agree, 0 messages differ"
}
