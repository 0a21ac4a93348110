#!/usr/bin/env bats
# mime-unpack: listing, extraction with safe names, single parts, RFC 2047/2231 names,
# message/partial joining, and bad input; messages built by Python's email package and
# makemime so the parser is checked against independent writers.

load helpers/common

PY="python3 $BATS_TEST_DIRNAME/helpers/pyemail.py"

setup() {
	common_setup
	mkdir "$T/out"
}
teardown() { common_teardown; }

# A multipart/mixed message from Python: text body plus attachments given as NAME=FILE.
pymsg() {	# pymsg OUT NAME=FILE...
	python3 - "$@" <<'EOF'
import sys
from email.message import EmailMessage
from email import policy
out = sys.argv[1]
m = EmailMessage()
m["From"] = "a@example.org"
m["Subject"] = "test"
m.set_content("body text\n")
for arg in sys.argv[2:]:
    name, path = arg.split("=", 1)
    data = open(path, "rb").read()
    m.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
open(out, "wb").write(m.as_bytes(policy=policy.SMTP))
EOF
}

@test "mime-unpack: --list shows numbers, types, encodings, sizes and names" {
	head -c 1000 /dev/urandom >"$T/a.bin"
	pymsg "$T/m" report.bin="$T/a.bin"
	run mime-unpack -l "$T/m"
	assert_success
	assert_line --index 0 --regexp $'^0\tmultipart/mixed\t'
	assert_line --index 1 --regexp $'^  1\ttext/plain\t(7bit|quoted-printable)\t10\t-$'
	assert_line --index 2 $'  2\tapplication/octet-stream\tbase64\t1000\treport.bin'
}

@test "mime-unpack: -x extracts attachments byte-exact, as Python decodes them" {
	for n in 0 1 2 3 57 76 1000 100000; do head -c "$n" /dev/urandom >"$T/f$n"; done
	pymsg "$T/m" f0=$T/f0 f1=$T/f1 f2=$T/f2 f3=$T/f3 f57=$T/f57 f76=$T/f76 f1000=$T/f1000 f100000=$T/f100000
	run mime-unpack -x "$T/out" "$T/m"
	assert_success
	for n in 0 1 2 3 57 76 1000 100000; do cmp "$T/out/f$n" "$T/f$n"; done
	[ "$(ls "$T/out" | wc -l)" -eq 8 ]
}

@test "mime-unpack: -p writes one decoded part; a missing part is an error" {
	printf 'hello part\n' >"$T/h"
	pymsg "$T/m" h.txt="$T/h"
	mime-unpack -p 2 "$T/m" | cmp - "$T/h"
	run mime-unpack -p 1 <"$T/m"
	assert_output "body text"
	run mime-unpack -p 7 "$T/m"
	assert_failure 65
	assert_output --partial "no part 7"
}

@test "mime-unpack: parts of a makemime message extract like reformime's" {
	head -c 4000 /dev/urandom >"$T/d.bin"
	makemime -c application/octet-stream -N d.bin "$T/d.bin" >"$T/part"
	makemime -m multipart/mixed -a "Mime-Version: 1.0" -a "Subject: mm" "$T/part" >"$T/m"
	reformime -e -s 1.1 <"$T/m" >"$T/theirs"
	cmp "$T/theirs" "$T/d.bin"
	mime-unpack -p 1 "$T/m" | cmp - "$T/d.bin"
}

@test "mime-unpack: names in RFC 2231 (with continuations) and RFC 2047 form are decoded" {
	cat >"$T/m" <<'EOF'
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: application/octet-stream
Content-Disposition: attachment;
 filename*0*=utf-8''%C3%9Cbersicht%20;
 filename*1*=M%C3%A4rz.pdf
Content-Transfer-Encoding: base64

YWJj
--b
Content-Type: application/octet-stream; name="=?iso-8859-1?Q?caf=E9?= =?utf-8?B?LnR4dA==?="
Content-Transfer-Encoding: base64

ZGVm
--b--
EOF
	run mime-unpack -l "$T/m"
	assert_line --index 1 $'  1\tapplication/octet-stream\tbase64\t3\tÜbersicht März.pdf'
	assert_line --index 2 $'  2\tapplication/octet-stream\tbase64\t3\tcafé.txt'
	mime-unpack -x "$T/out" "$T/m"
	[ "$(cat "$T/out/Übersicht März.pdf")" = abc ]
	[ "$(cat "$T/out/café.txt")" = def ]
}

@test "mime-unpack: hostile file names stay inside the directory" {
	for name in '../../evil' '/etc/passwd' '.hidden' '..' 'a/../../b' $'ctl\x01\x1bname' 'back\\slash'; do
		python3 - "$T/m" "$name" <<'EOF'
import sys
sys.stdout = open(sys.argv[1], "w")
n = sys.argv[2].replace("\\", "\\\\").replace('"', '\\"')
print('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b')
print('Content-Type: application/octet-stream\nContent-Disposition: attachment; filename="%s"' % n)
print('Content-Transfer-Encoding: base64\n\nYWJj\n--b--')
EOF
		rm -rf "$T/out" && mkdir "$T/out"
		run mime-unpack -x "$T/out" "$T/m"
		assert_success
		[ "$(find "$T/out" -type f | wc -l)" -eq 1 ]
		f=$(ls -A "$T/out")
		[[ $f != .* ]]
		[[ $f != */* ]]
		! printf '%s' "$f" | LC_ALL=C grep -q '[[:cntrl:]]' || false
		[ "$(cat "$T/out/$f")" = abc ]
	done
	[ ! -e "$T/evil" ] && [ ! -e "$T/b" ]
}

@test "mime-unpack: existing files are not overwritten without -f" {
	printf 'new' >"$T/n"
	pymsg "$T/m" x.txt="$T/n"
	echo old >"$T/out/x.txt"
	run mime-unpack -x "$T/out" "$T/m"
	assert_success
	[ "$(cat "$T/out/x.txt")" = old ]
	[ "$(cat "$T/out/x-1.txt")" = new ]
	run mime-unpack -x "$T/out" "$T/m"
	[ "$(cat "$T/out/x-2.txt")" = new ]
	run mime-unpack -f -x "$T/out" "$T/m"
	assert_success
	[ "$(cat "$T/out/x.txt")" = new ]
}

@test "mime-unpack: a quoted-printable part decodes as Python decodes it" {
	python3 - "$T/m" <<'EOF'
import sys
from email.message import EmailMessage
from email import policy
m = EmailMessage()
m.set_content("Grüße = gleich\n" + "lang " * 40 + "\ntrailing space \n", cte="quoted-printable")
open(sys.argv[1], "wb").write(m.as_bytes(policy=policy.SMTP))
EOF
	$PY save "$T/m" "$T/out"
	mime-unpack -p 1 "$T/m" | cmp - "$T/out/1"
}

@test "mime-unpack: a multipart without its closing boundary is an error" {
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\ntext\n' >"$T/m"
	run mime-unpack -l "$T/m"
	assert_failure 65
	assert_output --partial "closing boundary"
}

@test "mime-unpack: bad base64 in a part is an error naming the part" {
	printf 'MIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nYW!j\n' >"$T/m"
	run mime-unpack -p 1 "$T/m"
	assert_failure 65
	assert_output --partial "part 1"
}

@test "mime-unpack: a nesting bomb is refused, not followed" {
	python3 - "$T/m" <<'EOF'
import sys
f = open(sys.argv[1], "w")
f.write("MIME-Version: 1.0\n")
for i in range(200):
    f.write('Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i))
f.write("Content-Type: text/plain\n\nx\n")
for i in reversed(range(200)):
    f.write("--b%d--\n" % i)
EOF
	run mime-unpack -l "$T/m"
	assert_failure 65
	assert_output --partial "deep"
}

@test "mime-unpack: a huge header line is an error, not unbounded memory" {
	{ printf 'Subject: '; head -c 10000000 /dev/zero | tr '\0' a; printf '\n\nbody\n'; } >"$T/m"
	run mime-unpack -l "$T/m"
	assert_failure 65
	[ "${#lines[@]}" -eq 1 ]
}

@test "mime-unpack: --join refuses missing, duplicate and foreign fragments" {
	for i in 1 2 3; do
		printf 'Subject: f\nMIME-Version: 1.0\nContent-Type: message/partial; id="abc"; number=%d; total=3\n\npiece%d\n' "$i" "$i" >"$T/p$i"
	done
	printf 'Subject: f\nMIME-Version: 1.0\nContent-Type: message/partial; id="zzz"; number=2; total=3\n\nx\n' >"$T/other"
	run mime-unpack --join "$T/p1" "$T/p3"
	assert_failure 65
	assert_output --partial "missing"
	run mime-unpack --join "$T/p1" "$T/p2" "$T/p2" "$T/p3"
	assert_failure 65
	run mime-unpack --join "$T/p1" "$T/other" "$T/p3"
	assert_failure 65
	assert_output --partial "id"
}

@test "mime-unpack: --join follows the RFC 2046 example's header rules" {
	printf 'X-Weird-Header-1: Foo\nFrom: Bill@host.com\nTo: joe@otherhost.com\nDate: Fri, 26 Mar 1993 12:59:38 -0500 (EST)\nSubject: Audio mail (part 1 of 2)\nMessage-ID: <id1@host.com>\nMIME-Version: 1.0\nContent-type: message/partial; id="ABC@host.com"; number=1; total=2\n\nX-Weird-Header-1: Bar\nX-Weird-Header-2: Hello\nMessage-ID: <anotherid@foo.com>\nSubject: Audio mail\nMIME-Version: 1.0\nContent-type: audio/basic\nContent-transfer-encoding: base64\n\nAAAA\n' >"$T/p1"
	printf 'From: Bill@host.com\nTo: joe@otherhost.com\nDate: Fri, 26 Mar 1993 12:59:38 -0500 (EST)\nSubject: Audio mail (part 2 of 2)\nMessage-ID: <id2@host.com>\nMIME-Version: 1.0\nContent-type: message/partial; id="ABC@host.com"; number=2; total=2\n\nBBBB\n' >"$T/p2"
	mime-unpack --join "$T/p2" "$T/p1" >"$T/j"
	printf 'X-Weird-Header-1: Foo\nFrom: Bill@host.com\nTo: joe@otherhost.com\nDate: Fri, 26 Mar 1993 12:59:38 -0500 (EST)\nMessage-ID: <anotherid@foo.com>\nSubject: Audio mail\nMIME-Version: 1.0\nContent-type: audio/basic\nContent-transfer-encoding: base64\n\nAAAA\nBBBB\n' >"$T/want"
	diff "$T/want" "$T/j"
}

@test "mime-unpack: --help, --version, unknown options and conflicting modes" {
	run --separate-stderr mime-unpack --help
	assert_success
	assert_output --partial "usage: mime-unpack"
	assert_output --partial "--signatures"
	run mime-unpack --version
	assert_output --regexp '^mime-unpack \(secmail\) [0-9]+\.[0-9]+'
	run --separate-stderr mime-unpack --bogus
	assert_failure 64
	run mime-unpack -l -p 1
	assert_failure 64
	run mime-unpack
	assert_failure 64
	run mime-unpack -l "$T/a" "$T/b"
	assert_failure 64
	run mime-unpack -f -l
	assert_failure 64
	printf 'Subject: s\n\nbody\n' >"$T/m"
	run mime-unpack -x "$T/nope" "$T/m"
	assert_failure 73
}

@test "mime-unpack: the man page is mandoc -Tlint clean" {
	run mandoc -Tlint -W warning "$TOP/man/mime-unpack.1"
	assert_success
	assert_output ""
}

@test "mime-unpack: bash, zsh and fish completions load and offer the long options" {
	run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/mime-unpack' && COMP_WORDS=(mime-unpack --jo) COMP_CWORD=1 && _mime_unpack && echo \"\${COMPREPLY[@]}\""
	assert_success
	assert_output --partial -- "--join"
	run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/mime-unpack' && COMP_WORDS=(mime-unpack --si) COMP_CWORD=1 && _mime_unpack && echo \"\${COMPREPLY[@]}\""
	assert_output -- "--signatures"
	grep -q -- "--signatures" "$TOP/completions/zsh/_mime-unpack"
	run zsh -n "$TOP/completions/zsh/_mime-unpack"
	assert_success
	run zsh -c "fpath=('$TOP/completions/zsh' \$fpath); autoload -U compinit; compinit -u -D; print \$_comps[mime-unpack]"
	assert_success
	assert_output "_mime-unpack"
	run fish -c "source '$TOP/completions/fish/mime-unpack.fish'; complete -C'mime-unpack --ex'"
	assert_success
	assert_output --partial -- "--extract"
	run fish -c "source '$TOP/completions/fish/mime-unpack.fish'; complete -C'mime-unpack --sig'"
	assert_output --partial -- "--signatures"
}

@test "mime-unpack: the RFC 2231 section 4.1 example and RFC 2047 section 8 words decode" {
	cat >"$T/m" <<'EOF2'
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: application/x-stuff
Content-Disposition: attachment;
 filename*0*=us-ascii'en'This%20is%20even%20more%20;
 filename*1*=%2A%2A%2Afun%2A%2A%2A%20;
 filename*2="isn't it!"
Content-Transfer-Encoding: base64

YWJj
--b
Content-Type: application/octet-stream; name="=?ISO-8859-1?Q?Andr=E9?= Pirard.txt"
Content-Transfer-Encoding: base64

ZGVm
--b
Content-Type: application/octet-stream; name="=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?="
Content-Transfer-Encoding: base64

Z2hp
--b--
EOF2
	run mime-unpack -l "$T/m"
	assert_success
	assert_line --index 1 $'  1\tapplication/x-stuff\tbase64\t3\tThis is even more ***fun*** isn\'t it!'
	assert_line --index 2 $'  2\tapplication/octet-stream\tbase64\t3\tAndré Pirard.txt'
	assert_line --index 3 $'  3\tapplication/octet-stream\tbase64\t3\tIf you can read this you understand the example.'
	# Python agrees on every name.
	run $PY tree "$T/m"
	assert_line --index 1 --regexp $'\tThis is even more \\*\\*\\*fun\\*\\*\\* isn\'t it!\t'
	assert_line --index 2 --regexp $'\tAndré Pirard.txt\t'
}

@test "mime-unpack: a forwarded message/rfc822 part comes out as the message itself" {
	printf 'From: c@example.org\nSubject: inner\n\ninner body\n' >"$T/fw.eml"
	printf 'Subject: outer\n\nsee below\n' | mime-pack --forward "$T/fw.eml" >"$T/m"
	run mime-unpack -l "$T/m"
	assert_line --index 2 --regexp $'^  2\tmessage/rfc822\t7bit\t-\t'
	mime-unpack -p 2 "$T/m" | cmp - "$T/fw.eml"
	mime-unpack -x "$T/out" "$T/m"
	cmp "$T/out/fw.eml" "$T/fw.eml"
}

@test "mime-unpack: a part in an unterminated multipart is not extracted" {
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=cut.bin\nContent-Transfer-Encoding: base64\n\nYWJj\n' >"$T/m"
	run mime-unpack -x "$T/out" "$T/m"
	assert_failure 65
	[ -z "$(ls -A "$T/out")" ]
}

# Attachments named as given, each FILE's content base64-encoded, written byte by byte.
named_parts() {	# named_parts OUT 'DISPOSITION-PARAMS' FILE ...
	python3 - "$@" <<'EOF2'
import base64, sys
out, args = sys.argv[1], sys.argv[2:]
m = ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '']
for params, path in zip(args[0::2], args[1::2]):
    m += ['--b', 'Content-Type: application/octet-stream',
          'Content-Disposition: attachment; ' + params, 'Content-Transfer-Encoding: base64', '',
          base64.b64encode(open(path, 'rb').read()).decode()]
m += ['--b--', '']
open(out, 'w').write('\n'.join(m))
EOF2
}

@test "mime-unpack: -f replaces files from before, never an attachment of the same message" {
	printf 'first' >"$T/1"; printf 'second' >"$T/2"; printf 'third' >"$T/3"
	named_parts "$T/m" 'filename="a.txt"' "$T/1" 'filename="a.txt"' "$T/2" 'filename="A.TXT"' "$T/3"
	echo old >"$T/out/a.txt"
	run mime-unpack -f -x "$T/out" "$T/m"
	assert_success
	assert_output "$T/out/a.txt
$T/out/a-1.txt
$T/out/A.TXT"
	[ "$(cat "$T/out/a.txt")" = first ]
	[ "$(cat "$T/out/a-1.txt")" = second ]
	[ "$(cat "$T/out/A.TXT")" = third ]
	[ "$(ls "$T/out" | wc -l)" -eq 3 ]
	# without -f every one has a name of its own too, and the old file stays
	rm -rf "$T/out" && mkdir "$T/out" && echo old >"$T/out/a.txt"
	run mime-unpack -x "$T/out" "$T/m"
	assert_success
	[ "$(cat "$T/out/a.txt")" = old ]
	[ "$(cat "$T/out/a-1.txt")" = first ] && [ "$(cat "$T/out/a-2.txt")" = second ]
	[ "$(cat "$T/out/A.TXT")" = third ]
}

@test "mime-unpack: characters drawn as slashes in names become '_'" {
	printf 'abc' >"$T/1"
	# U+2215 DIVISION SLASH, U+FF0F FULLWIDTH SOLIDUS, U+2044 FRACTION SLASH, U+FF3C
	# FULLWIDTH REVERSE SOLIDUS, U+29F8 BIG SOLIDUS; RFC 2231 and RFC 2047 forms
	named_parts "$T/m" "filename*=utf-8''..%E2%88%95..%E2%88%95etc%EF%BC%8Fpasswd" "$T/1" \
	    'filename="=?utf-8?q?x=E2=81=84y=EF=BC=BCz=E2=A7=B8w?="' "$T/1"
	run mime-unpack -x "$T/out" "$T/m"
	assert_success
	assert_output "$T/out/_.._etc_passwd
$T/out/x_y_z_w"
	# Python's email package reads the same names before they are made safe
	run python3 -c 'import email, sys
for p in email.message_from_binary_file(open(sys.argv[1], "rb")).walk():
    if p.get_filename(): print(p.get_filename())' "$T/m"
	assert_line --index 0 '..∕..∕etc／passwd'
	[ "$(ls "$T/out" | wc -l)" -eq 2 ]
	[ "$(cat "$T/out/_.._etc_passwd")" = abc ]
}

@test "mime-unpack: an RFC 2231 name is not decoded again as RFC 2047, as Python reads it" {
	printf 'abc' >"$T/1"
	named_parts "$T/m" "filename*=utf-8''%3D%3Futf-8%3Fq%3Fevil.exe%3F%3D.txt" "$T/1" \
	    'filename="=?utf-8?q?plain=2Etxt?="' "$T/1"
	run python3 -c 'import email, sys
for p in email.message_from_binary_file(open(sys.argv[1], "rb")).walk():
    if p.get_filename(): print(p.get_filename())' "$T/m"
	assert_line --index 0 '=?utf-8?q?evil.exe?=.txt'
	run mime-unpack -x "$T/out" "$T/m"
	assert_success
	assert_output "$T/out/=?utf-8?q?evil.exe?=.txt
$T/out/plain.txt"
	run mime-unpack -l "$T/m"
	assert_line --index 1 --regexp $'\t=\\?utf-8\\?q\\?evil\\.exe\\?=\\.txt$'
}

@test "mime-unpack: a bare CR in a header is refused, not read otherwise than Python reads it" {
	# Python's email ends a line at the bare CR and sees an attachment evil.exe
	printf 'From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\rContent-Disposition: attachment; filename=evil.exe\n\nMZ\n--b--\n' >"$T/m"
	run python3 -c 'import email, sys
print([p.get_filename() for p in email.message_from_binary_file(open(sys.argv[1], "rb")).walk()])' "$T/m"
	assert_output "[None, 'evil.exe']"
	for mode in -l "-x $T/out"; do
		run mime-unpack $mode "$T/m"
		assert_failure 65
		assert_line 'mime-unpack: part 1: a header field holds a bare CR (readers differ on where its lines end)'
	done
	[ -z "$(ls -A "$T/out")" ]
	# a whole message with bare CR line ends: Python sees the parts, mime-unpack refuses
	printf 'From: a@example.org\rContent-Type: multipart/mixed; boundary=b\r\r--b\rContent-Disposition: attachment; filename=x.bin\r\rMZ\r--b--\r' >"$T/m"
	run mime-unpack -x "$T/out" "$T/m"
	assert_failure 65
	[ -z "$(ls -A "$T/out")" ]
	# CR LF line ends are fine
	printf 'From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Disposition: attachment; filename=x.bin\r\n\r\nMZ\r\n--b--\r\n' >"$T/m"
	run mime-unpack -x "$T/out" "$T/m"
	assert_success
	assert_output "$T/out/x.bin"
}

@test "mime-unpack: -x skips only a signature in a multipart/signed's second place, not anything put there" {
	printf 'MZ payload' >"$T/evil"
	python3 - "$T/m" "$T/evil" <<'PY'
import base64, sys
m = ['MIME-Version: 1.0',
     'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="s"',
     '', '--s', 'Content-Type: text/plain', '', 'see the attachment', '--s',
     'Content-Type: application/octet-stream; name="invoice.exe"',
     'Content-Disposition: attachment; filename="invoice.exe"',
     'Content-Transfer-Encoding: base64', '', base64.b64encode(open(sys.argv[2], 'rb').read()).decode(),
     '--s--', '']
open(sys.argv[1], 'w').write('\n'.join(m))
PY
	run python3 -c 'import email, sys
print([p.get_filename() for p in email.message_from_binary_file(open(sys.argv[1], "rb")).walk()])' "$T/m"
	assert_output "[None, None, 'invoice.exe']"
	run mime-unpack -x "$T/out" "$T/m"
	assert_success
	assert_output "$T/out/invoice.exe"
	cmp "$T/out/invoice.exe" "$T/evil"
}

@test "mime-unpack: a boundary after or before a bare CR in a body is refused: readers see another attachment" {
	# to Python's email (and Thunderbird) the bare CRs end lines: a part evil.exe follows
	for m in 'MZ\r--b\rContent-Disposition: attachment; filename=evil.exe\r\rMZ' \
	    'MZ\n--b\rContent-Disposition: attachment; filename=evil.exe\r\rMZ'; do
		printf "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Disposition: attachment; filename=ok.txt\n\n$m\n--b--\n" >"$T/m"
		run python3 -c 'import email, sys
print([p.get_filename() for p in email.message_from_binary_file(open(sys.argv[1], "rb")).walk()])' "$T/m"
		assert_output "[None, 'ok.txt', 'evil.exe']"
		for mode in -l "-x $T/out"; do
			run --separate-stderr mime-unpack $mode "$T/m"
			assert_failure 65
			[ "$stderr" = "mime-unpack: $T/m: a MIME boundary after or before a bare CR: readers that end lines there see other parts" ]
		done
		[ -z "$(ls -A "$T/out")" ]
	done
	# a bare CR before no boundary of an open multipart is content, as it always was
	printf 'From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Disposition: attachment; filename=ok.txt\n\nMZ\r--c\rx\n--b--\n' >"$T/m"
	run mime-unpack -x "$T/out" "$T/m"
	assert_success
	assert_output "$T/out/ok.txt"
	grep -q -- '--c' "$T/out/ok.txt"
}
