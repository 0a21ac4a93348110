#!/usr/bin/env bats
# MIME primitives (lib/param, rfc2047, qp, canon, cte, charset) through the test driver
# build/tools/mimeprim, cross-checked with Python's email package, quopri, base64 and codecs.

load helpers/common

setup() {
	common_setup
	M="$SECMAIL_TOOLS/mimeprim"
}
teardown() { common_teardown; }

py() { python3 -c "$@"; }

@test "mimeprims: quoted-printable of random binary data decodes with Python's quopri" {
	for n in 0 1 75 76 77 1000 65536 200000; do
		head -c "$n" /dev/urandom >"$T/in"
		"$M" qp-encode --binary <"$T/in" >"$T/enc"
		py 'import quopri,sys; sys.stdout.buffer.write(quopri.decodestring(open(sys.argv[1],"rb").read()))' \
			"$T/enc" >"$T/out"
		cmp "$T/in" "$T/out"
		run awk 'length > 76' "$T/enc"
		assert_output ""
	done
}

@test "mimeprims: quoted-printable text (LF and CRLF output) decodes with quopri to the same text" {
	py 'import random,sys
random.seed(5)
alpha = "ab \t.=F\xe9\n"
out = "".join(random.choice(alpha) for _ in range(50000)) + "From here\n.\nend  \n"
sys.stdout.buffer.write(out.encode("utf-8"))' >"$T/in"
	"$M" qp-encode <"$T/in" >"$T/enc"
	py 'import quopri,sys; sys.stdout.buffer.write(quopri.decodestring(open(sys.argv[1],"rb").read()))' \
		"$T/enc" >"$T/out"
	cmp "$T/in" "$T/out"
	"$M" qp-encode --crlf <"$T/in" >"$T/enc2"
	py 'import quopri,sys; sys.stdout.buffer.write(quopri.decodestring(open(sys.argv[1],"rb").read()).replace(b"\r\n", b"\n"))' \
		"$T/enc2" >"$T/out2"
	cmp "$T/in" "$T/out2"
	run grep -c '^From ' "$T/enc"
	assert_output 0
	run grep -cx '\.' "$T/enc"
	assert_output 0
	run grep -c '[ 	]$' "$T/enc"
	assert_output 0
}

@test "mimeprims: our quoted-printable decoder reads what quopri encodes" {
	# Seeded, so a failure can be reproduced; the data holds CR LF pairs on purpose.
	for seed in 1 2 3 4 5 6 7 8; do
		for qt in False True; do
			py "import random,sys; r=random.Random($seed)
sys.stdout.buffer.write(bytes(r.choice(b'\r\n \tab=\x80\xff') if r.random() < .3 else r.randrange(256) for _ in range(30000)))" >"$T/in"
			py "import quopri,sys; sys.stdout.buffer.write(quopri.encodestring(open(sys.argv[1],'rb').read(), quotetabs=$qt))" \
				"$T/in" >"$T/enc"
			"$M" qp-decode <"$T/enc" >"$T/out"
			# quopri leaves CR and LF of binary data as line breaks, so compare with its own
			# decode; a CR it left before such a LF is a CRLF line break to us (qp.h: line
			# breaks, LF or CRLF, become LF), data to quopri: compare line breaks as LF.
			py 'import quopri,sys; sys.stdout.buffer.write(quopri.decodestring(open(sys.argv[1],"rb").read()).replace(b"\r\n", b"\n"))' \
				"$T/enc" >"$T/want"
			cmp "$T/want" "$T/out" || { echo "seed $seed quotetabs $qt"; return 1; }
		done
	done
}

@test "mimeprims: quoted-printable decoding agrees with Python's email package on RFC 2045 cases" {
	printf 'soft=\nbreak =3D=e9=C3=A9  \nline=20\n=G1 = x =4\nlast=' >"$T/enc"
	"$M" qp-decode <"$T/enc" >"$T/out"
	py 'import email.quoprimime as q,sys; sys.stdout.buffer.write(q.decode(open(sys.argv[1]).read()).encode("latin-1"))' \
		"$T/enc" >"$T/want"
	run cmp "$T/want" "$T/out"
	# quoprimime keeps "=G1" and "= x" too, and strips trailing white space: same bytes
	assert_success
}

@test "mimeprims: RFC 2047 encoded text decodes with Python's email package to the same string" {
	while IFS= read -r line; do
		printf '%s\n' "$line" >"$T/in"
		for ctx in text phrase; do
			"$M" 2047-encode "$ctx" 9 <"$T/in" >"$T/enc"
			py 'import sys
from email.header import decode_header, make_header
enc = open(sys.argv[1], encoding="ascii").read().rstrip("\n")
ctx = sys.argv[3]
if ctx == "phrase" and enc.startswith("\""):
    got = enc[1:-1].replace("\\\"", "\"").replace("\\\\", "\\")
else:
    got = str(make_header(decode_header(enc)))
want = open(sys.argv[2], encoding="utf-8").read().rstrip("\n")
if got != want:
    sys.exit("mismatch: %r != %r (encoded %r)" % (got, want, enc))' "$T/enc" "$T/in" "$ctx"
			# every encoded-word within 75 characters (folding between them is msg_fold's)
			run awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^=\?/ && length($i) > 75) print $i }' "$T/enc"
			assert_output ""
		done
	done <<'LINES'
Hello world
café au lait
Grüße aus Köln, schöne Grüße!
日本語のテキストです、とても長い件名を書いてみます。まだ続きます。さらに続きます。もっと続きます。
mixed 日本 and English words, with émojis 😀😀😀 and more words to make it long enough to wrap
Смотрите: это тема письма на русском языке, довольно длинная, чтобы занять несколько слов
=?utf-8?q?looks_encoded?= but is not
ǅemo (comment) "quoted" \back\slash
LINES
}

@test "mimeprims: an RFC 2047 Subject we encode parses back through Python's email policy.default" {
	printf 'Grüße — ein sehr langer Betreff mit Umlauten: äöü ÄÖÜ ß, und noch mehr Text dahinter\n' >"$T/in"
	"$M" 2047-encode text 9 <"$T/in" >"$T/enc"
	py 'import sys, email, email.policy
enc = open(sys.argv[1]).read().rstrip("\n")
msg = email.message_from_string("Subject: " + enc + "\n\nbody\n", policy=email.policy.default)
want = open(sys.argv[2], encoding="utf-8").read().rstrip("\n")
assert msg["subject"] == want, (msg["subject"], want)' "$T/enc" "$T/in"
}

@test "mimeprims: we decode what Python's email.header encodes, in several charsets" {
	for cs in utf-8 iso-8859-1 iso-8859-15 koi8-r shift_jis iso-2022-jp; do
		case $cs in
		koi8-r) text='Привет, как дела? Это тест.' ;;
		shift_jis|iso-2022-jp) text='こんにちは世界、テストです' ;;
		*) text='Grüße, café, naïve façade' ;;
		esac
		py 'import sys
from email.header import Header
print(Header(sys.argv[1], sys.argv[2]).encode())' "$text" "$cs" >"$T/enc"
		run "$M" 2047-decode <"$T/enc"
		assert_success
		assert_output "$text"
	done
}

@test "mimeprims: RFC 2047 section 8 examples decode as the RFC and Python say" {
	while IFS='|' read -r in want; do
		run "$M" 2047-decode <<<"$in"
		assert_output "$want"
		run py 'import sys
from email.header import decode_header, make_header
print(str(make_header(decode_header(sys.argv[1]))))' "$in"
		assert_output "$want"
	done <<'CASES'
(=?ISO-8859-1?Q?a?=)|(a)
(=?ISO-8859-1?Q?a?= b)|(a b)
(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)|(ab)
(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)|(ab)
(=?ISO-8859-1?Q?a_b?=)|(a b)
(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)|(a b)
=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=|Keld Jørn Simonsen
CASES
}

@test "mimeprims: filenames we write as RFC 2231 parameters read back through Python's get_filename" {
	long=$(printf 'Ein sehr langer Dateiname mit Umlauten äöü und Leerzeichen %.0s' 1 2 3)
	for name in "report.pdf" "my file.txt" 'quote"and\back.txt' "résumé.pdf" "日本語のファイル名.docx" \
		"$long.pdf" "$(printf 'a%.0s' $(seq 1 200)).bin" "emoji 😀 name.png"; do
		"$M" param-encode attachment filename "$name" >"$T/cd"
		run awk 'length > 76' "$T/cd"
		py 'import sys, email
cd = open(sys.argv[1], encoding="ascii").read().rstrip("\n")
folded = cd.replace("; ", ";\n ")
m = email.message_from_string("Content-Disposition: " + folded + "\n\n")
got = m.get_filename()
want = sys.argv[2]
if got != want:
    sys.exit("mismatch: %r != %r (%s)" % (got, want, cd))
for line in ("Content-Disposition: " + folded).split("\n"):
    if len(line) > 78:
        sys.exit("line over 78: %r" % line)' "$T/cd" "$name"
	done
}

@test "mimeprims: Content-Disposition values Python writes parse to the same file name" {
	for name in "report.pdf" "my file.txt" "résumé.pdf" "日本語のファイル名.docx" 'x"y.txt'; do
		py 'import sys
from email.message import EmailMessage
m = EmailMessage()
m["Content-Disposition"] = "attachment"
m.set_param("filename", sys.argv[1], header="Content-Disposition")
print(str(m["Content-Disposition"]).replace("\n", ""))' "$name" >"$T/cd"
		run "$M" param-parse --disposition <"$T/cd"
		assert_success
		assert_line --index 0 "attachment"
		assert_line --index 1 "filename=$name"
	done
}

@test "mimeprims: Content-Type parameters agree with Python's parser on RFC examples" {
	# (Python's compat32 parser keeps comments in values, RFC 2045 §5.1 does not: the
	# comment cases are in tests/unit/param_test.c.)
	while IFS= read -r ct; do
		printf '%s\n' "$ct" >"$T/ct"
		"$M" param-parse <"$T/ct" | grep -v '^  charset=' >"$T/mine"
		py 'import sys, email
from email.utils import collapse_rfc2231_value
ct = open(sys.argv[1]).read().rstrip("\n")
m = email.message_from_string("Content-Type: " + ct + "\n\n")
print(m.get_content_type())
for k, v in m.get_params()[1:]:
    print("%s=%s" % (k.lower(), collapse_rfc2231_value(v)))' "$T/ct" >"$T/py"
		run diff "$T/py" "$T/mine"
		assert_success
	done <<'CTS'
text/plain; charset=us-ascii
TEXT/HTML; CHARSET="UTF-8"
multipart/mixed; boundary="----=_Part_0_1234.5678"
message/external-body; access-type=URL; URL*0="ftp://"; URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"
application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A
application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2="isn't it!"
application/octet-stream; name*=utf-8''%E2%82%AC%20rates.pdf
text/plain; name="a\"b\\c"; format=flowed
CTS
}

@test "mimeprims: base64 from the cte facade decodes with Python; text is canonical CRLF" {
	head -c 100000 /dev/urandom >"$T/in"
	"$M" cte-encode base64 --crlf <"$T/in" >"$T/enc"
	py 'import base64,sys; sys.stdout.buffer.write(base64.b64decode(open(sys.argv[1],"rb").read()))' "$T/enc" >"$T/out"
	cmp "$T/in" "$T/out"
	run awk 'length > 77' "$T/enc"
	assert_output ""
	printf 'line one\nline two\r\nthree' >"$T/text"
	"$M" cte-encode base64 --text <"$T/text" >"$T/enc"
	run py 'import base64,sys; print(repr(base64.b64decode(open(sys.argv[1],"rb").read())))' "$T/enc"
	assert_output "b'line one\\r\\nline two\\r\\nthree'"
	"$M" cte-decode base64 --text <"$T/enc" >"$T/back"
	printf 'line one\nline two\nthree' | cmp - "$T/back"
}

@test "mimeprims: every encoding round-trips binary data through the cte facade" {
	head -c 300000 /dev/urandom >"$T/in"
	for c in binary quoted-printable base64; do
		"$M" cte-encode "$c" <"$T/in" | "$M" cte-decode "$c" >"$T/out"
		cmp "$T/in" "$T/out"
	done
}

@test "mimeprims: the chooser's decisions on typical content" {
	printf 'Hello,\nshort lines only.\n' >"$T/a"
	run "$M" cte-choose <"$T/a"
	assert_output 7bit
	printf 'Grüße aus Köln, and mostly English text after it.\n' >"$T/b"
	run "$M" cte-choose <"$T/b"
	assert_output quoted-printable
	run "$M" cte-choose --8bit <"$T/b"
	assert_output 8bit
	run "$M" cte-choose --8bit --signed <"$T/b"
	assert_output quoted-printable
	head -c 5000 /dev/urandom >"$T/c"
	run "$M" cte-choose <"$T/c"
	assert_output base64
	printf 'Привет мир, это русский текст\n' >"$T/d"
	run "$M" cte-choose <"$T/d"
	assert_output base64
	printf 'From me\n' >"$T/e"
	run "$M" cte-choose --signed <"$T/e"
	assert_output quoted-printable
}

@test "mimeprims: charset conversion agrees with Python's codecs" {
	for cs in iso-8859-1 iso-8859-2 windows-1252 koi8-r shift_jis euc-jp iso-2022-jp gb2312 big5 utf-16; do
		case $cs in
		koi8-r) text='Привет, мир' ;;
		shift_jis|euc-jp|iso-2022-jp) text='こんにちは世界' ;;
		gb2312) text='你好世界' ;;
		big5) text='你好世界' ;;
		iso-8859-2) text='Zażółć gęślą jaźń' ;;
		*) text='Grüße, café' ;;
		esac
		[ "$cs" = big5 ] && text='中文測試'
		py 'import sys; sys.stdout.buffer.write(sys.argv[1].encode(sys.argv[2]))' "$text" "$cs" >"$T/in"
		run "$M" charset "$cs" <"$T/in"
		assert_success
		assert_output "$text"
	done
}

@test "mimeprims: bad charsets and bytes fail with EX_DATAERR and one line" {
	run "$M" charset x-no-such <<<"abc"
	assert_failure 65
	assert_output "mimeprim: unknown charset x-no-such"
	run "$M" charset 'utf-8//IGNORE' <<<"abc"
	assert_failure 65
	assert_output "mimeprim: bad charset name"
	run "$M" charset us-ascii < <(printf 'caf\xe9')
	assert_failure 65
	assert_output "mimeprim: text is not valid us-ascii"
	# iconv(1) agrees that this is not a whole character; nothing may be dropped silently
	run iconv -f shift_jis -t utf-8 < <(printf 'a\x82')
	assert_failure
	run "$M" charset shift_jis < <(printf 'a\x82')
	assert_failure 65
	assert_output "mimeprim: text in shift_jis ends inside a character"
}

@test "mimeprims: NFC agrees with Python's unicodedata" {
	py 'import sys; sys.stdout.write("e\u0301 A\u030a \u212b \uac00\u11a8 fi\ufb01")' >"$T/in"
	"$M" nfc <"$T/in" >"$T/out"
	py 'import sys, unicodedata; sys.stdout.write(unicodedata.normalize("NFC", open(sys.argv[1], encoding="utf-8").read()))' \
		"$T/in" >"$T/want"
	cmp "$T/want" "$T/out"
}

@test "mimeprims: canonical CRLF form agrees with a Python reference" {
	py 'import random,sys; random.seed(3); sys.stdout.buffer.write(bytes(random.choice(b"ab\r\n") for _ in range(20000)))' >"$T/in"
	"$M" canon crlf <"$T/in" >"$T/out"
	py 'import re,sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(re.sub(rb"\r\n|\r|\n", b"\r\n", d))' "$T/in" >"$T/want"
	cmp "$T/want" "$T/out"
	"$M" canon lf <"$T/in" >"$T/out"
	py 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d.replace(b"\r\n", b"\n"))' "$T/in" >"$T/want"
	cmp "$T/want" "$T/out"
}

@test "mimeprims: malformed Content-Type values fail with EX_DATAERR" {
	run "$M" param-parse <<<"text"
	assert_failure 65
	assert_output "mimeprim: media type text has no subtype"
	run "$M" param-parse <<<""
	assert_failure 65
	assert_output "mimeprim: no media type"
	run "$M" param-encode attachment 'bad name' x
	assert_failure 65
	assert_output "mimeprim: bad parameter name"
}

@test "mimeprims: a 70-character boundary is written whole and Python's get_boundary reads it" {
	bd="=_$(printf 'x%.0s' $(seq 1 60))'()+_,-./:?"
	[ "${#bd}" -eq 71 ] && bd=${bd:0:70}
	run "$M" param-encode multipart/mixed boundary "$bd"
	assert_success
	refute_output --partial 'boundary*'
	printf '%s\n' "$output" >"$T/ct"
	py 'import sys, email
ct = open(sys.argv[1]).read().rstrip("\n")
m = email.message_from_string("Content-Type: " + ct + "\n\n")
assert m.get_boundary() == sys.argv[2], (m.get_boundary(), sys.argv[2])' "$T/ct" "$bd"
}

@test "mimeprims: display names we encode as phrases read back through Python's address parser" {
	while IFS= read -r name; do
		printf '%s\n' "$name" >"$T/in"
		"$M" 2047-encode phrase 6 <"$T/in" >"$T/enc"
		py 'import sys, email, email.policy
enc = open(sys.argv[1]).read().rstrip("\n")
want = open(sys.argv[2], encoding="utf-8").read().rstrip("\n")
msg = email.message_from_string("From: " + enc + " <someone@example.org>\n\nx\n", policy=email.policy.default)
a = msg["from"].addresses[0]
assert a.addr_spec == "someone@example.org", a.addr_spec
assert a.display_name == want, (a.display_name, want, enc)' "$T/enc" "$T/in"
	done <<'NAMES'
John Smith
J. R. "Bob" Dobbs
Smith, John
Jürgen Müller
Ærøskøbing (Fyn), Danmark
山田 太郎
=?utf-8?q?not_really?=
back\slash user
NAMES
}
