#!/usr/bin/env bats
# mime-pack: structure, encodings, names and headers, each output checked by Python's email
# package (and munpack/reformime), round trips through mime-unpack, errors, memory.

load helpers/common

PY="python3 $BATS_TEST_DIRNAME/helpers/pyemail.py"

setup() {
	common_setup
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: hello\nX-Custom: kept\n\nHi Bob,\nsee attached.\n' >"$T/draft"
}
teardown() { common_teardown; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

# Python sees no defects, and the given leaf has this type, name and content.
py_leaf() {	# py_leaf MSG INDEX(1-based among leaves) TYPE NAME FILE
	local line
	run $PY defects "$1"
	assert_output ""
	line=$($PY tree "$1" | awk -F'\t' 'NF > 2' | sed -n "${2}p")
	[ "$(cut -f2 <<<"$line")" = "$3" ] || { echo "type: $line"; return 1; }
	[ "$(cut -f3 <<<"$line")" = "$4" ] || { echo "name: $line"; return 1; }
	[ "$(cut -f6 <<<"$line")" = "$(sha "$5")" ] || { echo "content: $line"; return 1; }
}

@test "mime-pack: a message without attachments becomes one text/plain part" {
	mime-pack <"$T/draft" >"$T/out"
	run $PY tree "$T/out"
	assert_output --regexp $'^0\ttext/plain\t-\tus-ascii\t'
	[ "$(grep -c '' <<<"$output")" -eq 1 ]
	printf 'Hi Bob,\nsee attached.\n' >"$T/body"
	py_leaf "$T/out" 1 text/plain - "$T/body"
	grep -q '^MIME-Version: 1.0$' "$T/out"
}

@test "mime-pack: does not load libcrypto (boundaries from getrandom(2), not RAND_bytes)" {
	run readelf -d "$(command -v mime-pack)"
	assert_success
	assert_output --partial "libc.so"
	refute_output --partial "libcrypto"
}

@test "mime-pack: existing header fields are kept in order, byte for byte" {
	mime-pack <"$T/draft" >"$T/out"
	sed -n '1,4p' "$T/draft" >"$T/want"
	grep -v -e '^MIME-Version:' -e '^Content-' "$T/out" | sed -n '1,4p' >"$T/got"
	cmp "$T/want" "$T/got"
}

@test "mime-pack: a body alone (no header) is accepted" {
	printf 'just text\n' | mime-pack >"$T/out"
	run $PY text "$T/out" 1
	assert_output "just text"
}

@test "mime-pack: a UTF-8 body is declared utf-8 and decodes to the same text" {
	printf 'Subject: x\n\nGrüße aus Köln — €\n' | mime-pack >"$T/out"
	run $PY tree "$T/out"
	assert_output --regexp $'text/plain\t-\tutf-8'
	run $PY text "$T/out" 1
	assert_output "Grüße aus Köln — €"
}

@test "mime-pack: a Latin-1 body needs --charset, then is labelled with it" {
	printf 'Subject: x\n\ncaf\xe9 cr\xe8me\n' >"$T/latin"
	run mime-pack <"$T/latin"
	assert_failure 65
	assert_output --partial "--charset"
	mime-pack --charset iso-8859-1 <"$T/latin" >"$T/out"
	run $PY text "$T/out" 1
	assert_output "café crème"
}

@test "mime-pack: binary attachments of many sizes survive Python and mime-unpack byte-exact" {
	for n in 0 1 2 3 57 58 76 77 1000 65536 262143 262144 262145 1048576; do
		head -c "$n" /dev/urandom >"$T/f$n.bin"
	done
	args=()
	for n in 0 1 2 3 57 58 76 77 1000 65536 262143 262144 262145 1048576; do args+=(-a "$T/f$n.bin"); done
	mime-pack "${args[@]}" <"$T/draft" >"$T/out"
	i=2
	for n in 0 1 2 3 57 58 76 77 1000 65536 262143 262144 262145 1048576; do
		py_leaf "$T/out" "$i" application/octet-stream "f$n.bin" "$T/f$n.bin"
		mime-unpack -p "$i" "$T/out" | cmp - "$T/f$n.bin"
		i=$((i + 1))
	done
}

@test "mime-pack: munpack extracts the same bytes" {
	head -c 5000 /dev/urandom >"$T/data.bin"
	mime-pack -a "$T/data.bin" <"$T/draft" >"$T/out"
	mkdir "$T/mp"
	(cd "$T/mp" && munpack -q "$T/out" >/dev/null)
	cmp "$T/mp/data.bin" "$T/data.bin"
}

@test "mime-pack: reformime sees the same structure and extracts the same bytes" {
	head -c 3000 /dev/urandom >"$T/x.bin"
	mime-pack -a "$T/x.bin" <"$T/draft" >"$T/out"
	run reformime -i <"$T/out"
	assert_success
	assert_output --partial "content-type: multipart/mixed"
	assert_output --partial "content-type: application/octet-stream"
	reformime -e -s 1.2 <"$T/out" | cmp - "$T/x.bin"
}

@test "mime-pack: the content type comes from mime.types, else the built-in table" {
	printf '%%PDF-1.4 fake\n' >"$T/r.pdf"
	printf 'a,b\n1,2\n' >"$T/t.csv"
	mime-pack -a "$T/r.pdf" -a "$T/t.csv" <"$T/draft" >"$T/out"
	py_leaf "$T/out" 2 application/pdf r.pdf "$T/r.pdf"
	py_leaf "$T/out" 3 text/csv t.csv "$T/t.csv"
	SECMAIL_MIME_TYPES= mime-pack -a "$T/r.pdf" <"$T/draft" >"$T/out2"
	py_leaf "$T/out2" 2 application/pdf r.pdf "$T/r.pdf"
	printf 'application/x-mine pdf\n' >"$T/types"
	SECMAIL_MIME_TYPES="$T/types" mime-pack -a "$T/r.pdf" <"$T/draft" >"$T/out3"
	py_leaf "$T/out3" 2 application/x-mine r.pdf "$T/r.pdf"
}

@test "mime-pack: unknown extensions are sniffed: text/plain or application/octet-stream" {
	printf 'plain words\n' >"$T/notes"
	printf 'a\0b' >"$T/blob"
	mime-pack -a "$T/notes" -a "$T/blob" <"$T/draft" >"$T/out"
	py_leaf "$T/out" 2 text/plain notes "$T/notes"
	py_leaf "$T/out" 3 application/octet-stream blob "$T/blob"
}

@test "mime-pack: --type and FILE;type= override the type of one attachment" {
	printf 'x\n' >"$T/a.txt"
	cp "$T/a.txt" "$T/b.txt"
	cp "$T/a.txt" "$T/c.txt"
	mime-pack -t application/x-one -a "$T/a.txt" -a "$T/b.txt;type=application/x-two" -a "$T/c.txt" <"$T/draft" >"$T/out"
	py_leaf "$T/out" 2 application/x-one a.txt "$T/a.txt"
	py_leaf "$T/out" 3 application/x-two b.txt "$T/b.txt"
	py_leaf "$T/out" 4 text/plain c.txt "$T/c.txt"
}

@test "mime-pack: text attachments keep their bytes: short lines, long lines, UTF-8, trailing space" {
	printf 'short ascii\nlines\n' >"$T/a.txt"
	python3 -c 'print("x" * 5000)' >"$T/long.txt"
	printf 'Grüße \nend  \n' >"$T/u.txt"
	printf 'no final newline' >"$T/n.txt"
	printf 'From the start\n.\n' >"$T/f.txt"
	mime-pack -a "$T/a.txt" -a "$T/long.txt" -a "$T/u.txt" -a "$T/n.txt" -a "$T/f.txt" <"$T/draft" >"$T/out"
	py_leaf "$T/out" 2 text/plain a.txt "$T/a.txt"
	py_leaf "$T/out" 3 text/plain long.txt "$T/long.txt"
	py_leaf "$T/out" 4 text/plain u.txt "$T/u.txt"
	py_leaf "$T/out" 5 text/plain n.txt "$T/n.txt"
	py_leaf "$T/out" 6 text/plain f.txt "$T/f.txt"
	run awk 'length > 998' "$T/out"
	assert_output ""
	run grep -c '^From ' "$T/out"
	assert_output "0"
}

@test "mime-pack: a non-ASCII file name goes out as RFC 2231 filename* and RFC 2047 name" {
	printf 'data' >"$T/Übersicht – März.pdf"
	mime-pack -a "$T/Übersicht – März.pdf" <"$T/draft" >"$T/out"
	py_leaf "$T/out" 2 application/pdf "Übersicht – März.pdf" "$T/Übersicht – März.pdf"
	grep -qi "filename\*" "$T/out"
	grep -qi 'name="=?utf-8?' "$T/out"
	run env LC_ALL=C grep -c -P '[\x80-\xff]' "$T/out"
	assert_output "0"
	# The old form alone (Content-Type name=) decodes to the same name in Python.
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
p = list(m.iter_attachments())[0]
print(p.get_param("name", header="content-type"))' "$T/out" >"$T/name"
	run cat "$T/name"
	assert_output "Übersicht – März.pdf"
}

@test "mime-pack: a decomposed file name is announced in NFC" {
	name=$(printf 'Cafe\xcc\x81.txt')	# e + combining acute
	printf 'x\n' >"$T/$name"
	mime-pack -a "$T/$name" <"$T/draft" >"$T/out"
	run $PY tree "$T/out"
	assert_output --partial $'\tCafé.txt\t'
}

@test "mime-pack: --name, --inline, --description and --content-id describe one attachment" {
	printf 'png' >"$T/logo.png"
	mime-pack -i -d 'Das Logo – groß' --content-id logo@x -n brand.png -a "$T/logo.png" -a "$T/logo.png" <"$T/draft" >"$T/out"
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
a, b = [p for p in m.walk() if not p.is_multipart()][1:]
print(a.get_content_disposition(), a.get_filename(), a["Content-Description"], a["Content-ID"])
print(b.get_content_disposition(), b.get_filename(), b["Content-Description"], b["Content-ID"])' "$T/out" >"$T/got"
	printf 'inline brand.png Das Logo – groß <logo@x>\nattachment logo.png None None\n' >"$T/want"
	diff "$T/want" "$T/got"
}

@test "mime-pack: non-ASCII Subject and display names are RFC 2047 encoded and decode back" {
	printf 'From: Jörg Müller <joerg@example.org>\nTo: "Ann" <ann@example.org>, Zoë <zoe@example.org>\nSubject: Grüße – ein sehr langer Betreff, der gefaltet werden muss, weil er über achtundsiebzig Zeichen hinausgeht\n\nbody\n' >"$T/in"
	mime-pack <"$T/in" >"$T/out"
	run env LC_ALL=C grep -c -P '[\x80-\xff]' "$T/out"
	assert_output "0"
	run $PY header "$T/out" Subject
	assert_output "Grüße – ein sehr langer Betreff, der gefaltet werden muss, weil er über achtundsiebzig Zeichen hinausgeht"
	run $PY header "$T/out" From
	assert_output "Jörg Müller <joerg@example.org>"
	run $PY header "$T/out" To
	assert_output "Ann <ann@example.org>, Zoë <zoe@example.org>"
	run awk 'length > 78' "$T/out"
	assert_output ""
}

@test "mime-pack: --utf8-headers leaves UTF-8 header text as it is (RFC 6532)" {
	printf 'Subject: Grüße\n\nbody\n' >"$T/in"
	mime-pack --utf8-headers <"$T/in" >"$T/out"
	grep -q '^Subject: Grüße$' "$T/out"
}

@test "mime-pack: --html makes multipart/alternative with the plain text first" {
	printf '<p>Hi</p>\n' >"$T/b.html"
	mime-pack --html "$T/b.html" <"$T/draft" >"$T/out"
	run $PY tree "$T/out"
	assert_line --index 0 $'0\tmultipart/alternative'
	assert_line --index 1 --regexp $'^1\ttext/plain'
	assert_line --index 2 --regexp $'^1\ttext/html'
	py_leaf "$T/out" 2 text/html - "$T/b.html"
}

@test "mime-pack: --html with attachments nests the alternative inside multipart/mixed" {
	printf '<p>Hi</p>\n' >"$T/b.html"
	printf 'zz' >"$T/z.bin"
	mime-pack --html "$T/b.html" -a "$T/z.bin" <"$T/draft" >"$T/out"
	run $PY tree "$T/out"
	assert_line --index 0 $'0\tmultipart/mixed'
	assert_line --index 1 $'1\tmultipart/alternative'
	assert_line --index 2 --regexp $'^2\ttext/plain'
	assert_line --index 3 --regexp $'^2\ttext/html'
	assert_line --index 4 --regexp $'^1\tapplication/octet-stream\tz.bin'
}

@test "mime-pack: --forward and .eml files attach a message/rfc822" {
	printf 'From: c@example.org\nSubject: inner one\n\ninner body\n' >"$T/fw.eml"
	cp "$T/fw.eml" "$T/fw2"
	mime-pack --forward "$T/fw2" -a "$T/fw.eml" <"$T/draft" >"$T/out"
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for p in m.iter_attachments():
    inner = p.get_content()
    print(p.get_content_type(), inner["Subject"], inner.get_content().strip())' "$T/out" >"$T/got"
	printf 'message/rfc822 inner one inner body\nmessage/rfc822 inner one inner body\n' >"$T/want"
	diff "$T/want" "$T/got"
}

@test "mime-pack: an input that already is MIME is nested as the first part" {
	printf 'Subject: m\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße\n' >"$T/in"
	printf 'q' >"$T/q.bin"
	mime-pack -a "$T/q.bin" <"$T/in" >"$T/out"
	run $PY tree "$T/out"
	assert_line --index 0 $'0\tmultipart/mixed'
	assert_line --index 1 --regexp $'^1\ttext/plain\t-\tutf-8'
	run $PY text "$T/out" 1
	assert_output "Grüße"
	[ "$(grep -c '^MIME-Version:' "$T/out")" -eq 1 ]
}

@test "mime-pack: an empty body with an attachment gives just the attachment" {
	printf 'Subject: s\n\n' >"$T/in"
	printf 'k' >"$T/k.bin"
	mime-pack -a "$T/k.bin" <"$T/in" >"$T/out"
	run $PY tree "$T/out"
	assert_line --index 0 $'0\tmultipart/mixed'
	assert_line --index 1 --regexp $'^1\tapplication/octet-stream\tk.bin'
	[ "${#lines[@]}" -eq 2 ]
}

@test "mime-pack: --crlf ends every line with CRLF and Python reads the same parts" {
	head -c 2000 /dev/urandom >"$T/r.bin"
	printf 'text\nlines\n' >"$T/t.txt"
	mime-pack --crlf -a "$T/r.bin" -a "$T/t.txt" <"$T/draft" >"$T/out"
	run env LC_ALL=C grep -c -v $'\r$' "$T/out"
	assert_output "0"
	py_leaf "$T/out" 2 application/octet-stream r.bin "$T/r.bin"
	run $PY text "$T/out" 3
	assert_output $'text\nlines'
}

@test "mime-pack: the boundary does not occur in the content" {
	for i in 1 2 3; do
		mime-pack -a "$BATS_TEST_DIRNAME/mime-pack.bats" <"$T/draft" >"$T/out"
		b=$(python3 -c 'import sys,email; print(email.message_from_binary_file(open(sys.argv[1],"rb")).get_boundary())' "$T/out")
		[ "$(grep -c -F -- "--$b" "$T/out")" -eq 3 ]
	done
}

@test "mime-pack: --split writes message/partial fragments and mime-unpack --join restores the message" {
	head -c 300000 /dev/urandom >"$T/big.bin"
	mime-pack -a "$T/big.bin" <"$T/draft" >"$T/whole"
	mkdir "$T/frags"
	run mime-pack --split 64k --split-dir "$T/frags" -a "$T/big.bin" <"$T/draft"
	assert_success
	assert_output ""
	n=$(ls "$T/frags" | wc -l)
	[ "$n" -ge 6 ]
	for f in "$T"/frags/*; do
		[ "$(stat -c %s "$f")" -le 65536 ]
		run $PY tree "$f"
		assert_output --regexp $'^0\tmessage/partial'
		grep -q '^From: Alice <alice@example.org>$' "$f"
	done
	mime-unpack --join $(ls -r "$T"/frags/*) >"$T/joined"
	# munpack reassembles the same fragments to the same file.
	mkdir "$T/mp"
	for f in "$T"/frags/*; do munpack -q -C "$T/mp" "$f" >/dev/null 2>&1 || true; done
	cmp "$T/mp/big.bin" "$T/big.bin"
	py_leaf "$T/joined" 2 application/octet-stream big.bin "$T/big.bin"
	run $PY header "$T/joined" Subject
	assert_output "hello"
}

@test "mime-pack: --split never overwrites an existing fragment" {
	mkdir "$T/frags"
	echo keep >"$T/frags/part-001.eml"
	run mime-pack --split 4k --split-dir "$T/frags" <"$T/draft"
	assert_failure 73
	[ "$(cat "$T/frags/part-001.eml")" = keep ]
}

@test "mime-pack: a malformed header is an error, not a guess" {
	printf 'Subject: ok\nthis is not a field\n\nbody\n' >"$T/bad"
	run mime-pack <"$T/bad"
	assert_failure 65
	[ "${#lines[@]}" -eq 1 ]
	assert_output --regexp '^mime-pack: '
}

@test "mime-pack: a missing attachment fails with EX_NOINPUT, names it, and writes nothing" {
	run --separate-stderr mime-pack -a "$T/draft" -a "$T/nope" <"$T/draft"
	assert_failure 66
	[ -z "$output" ]
	[[ $stderr == *"$T/nope"* ]]
	run --separate-stderr mime-pack --html "$T/nope.html" <"$T/draft"
	assert_failure 66
	[ -z "$output" ]
}

@test "mime-pack: an address field that cannot be parsed is an error, not a guess" {
	printf 'From: Jörg <broken@
Subject: x

body
' >"$T/in"
	run mime-pack <"$T/in"
	assert_failure 65
	assert_output --regexp '^mime-pack: .*From'
}

@test "mime-pack: a directory cannot be attached" {
	run mime-pack -a "$T" <"$T/draft"
	assert_failure 66
}

@test "mime-pack: a write error exits EX_IOERR" {
	run bash -c "mime-pack <'$T/draft' >/dev/full"
	assert_failure 74
	assert_output --partial "write error"
}

@test "mime-pack: attachment options after the last -a are a usage error" {
	run mime-pack -a "$T/draft" -t text/plain <"$T/draft"
	assert_failure 64
	run mime-pack -t 'not a type' -a "$T/draft" <"$T/draft"
	assert_failure 64
	run mime-pack --split 10 --split-dir "$T" <"$T/draft"
	assert_failure 64
	run mime-pack --split 1M <"$T/draft"
	assert_failure 64
}

@test "mime-pack: --help, --version and unknown options" {
	run --separate-stderr mime-pack --help
	assert_success
	assert_output --partial "usage: mime-pack"
	[ -z "$stderr" ]
	run mime-pack --version
	assert_success
	assert_output --regexp '^mime-pack \(secmail\) [0-9]+\.[0-9]+'
	run --separate-stderr mime-pack --bogus
	assert_failure 64
	[ -z "$output" ]
	[[ $stderr == *"usage: mime-pack"* ]]
}

@test "mime-pack: peak memory stays under 16 MiB attaching a 256 MiB file, and mime-unpack's extracting it" {
	head -c 268435456 /dev/urandom >"$T/huge.bin"
	rss=$( { /usr/bin/time -f %M mime-pack -a "$T/huge.bin" <"$T/draft" >"$T/out"; } 2>&1 )
	echo "peak RSS: $rss KiB"
	[ "$rss" -lt 16384 ]
	urss=$( { /usr/bin/time -f %M mime-unpack -p 2 "$T/out" >"$T/back"; } 2>&1 )
	echo "mime-unpack peak RSS: $urss KiB"
	[ "$urss" -lt 16384 ]
	cmp "$T/back" "$T/huge.bin"
	rm -f "$T/huge.bin" "$T/out" "$T/back"
}

@test "mime-pack: the man page is mandoc -Tlint clean" {
	run mandoc -Tlint -W warning "$TOP/man/mime-pack.1"
	assert_success
	assert_output ""
}

@test "mime-pack: bash, zsh and fish completions load and offer the long options" {
	run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/mime-pack' && COMP_WORDS=(mime-pack --utf) COMP_CWORD=1 && _mime_pack && echo \"\${COMPREPLY[@]}\""
	assert_success
	assert_output --partial -- "--utf8-headers"
	run zsh -n "$TOP/completions/zsh/_mime-pack"
	assert_success
	run zsh -c "fpath=('$TOP/completions/zsh' \$fpath); autoload -U compinit; compinit -u -D; print \$_comps[mime-pack]"
	assert_success
	assert_output "_mime-pack"
	run fish -c "source '$TOP/completions/fish/mime-pack.fish'; complete -C'mime-pack --spl'"
	assert_success
	assert_output --partial -- "--split"
}

@test "mime-pack: a body that is one 3 MB line is encoded and decodes to the same bytes" {
	{ printf 'Subject: long\n\n'; head -c 3000000 /dev/zero | tr '\0' x; printf '\n'; } >"$T/in"
	mime-pack <"$T/in" >"$T/out"
	run awk 'length > 78' "$T/out"
	assert_output ""
	{ head -c 3000000 /dev/zero | tr '\0' x; printf '\n'; } >"$T/want"
	$PY save "$T/out" "$T"
	cmp "$T/1" "$T/want"
	mime-unpack -p 1 "$T/out" | cmp - "$T/want"
}

@test "mime-pack: text with CRLF line ends is sent as base64 and arrives unchanged" {
	printf 'dos\r\nlines\r\n' >"$T/dos.txt"
	mime-pack -a "$T/dos.txt" <"$T/draft" >"$T/out"
	py_leaf "$T/out" 2 text/plain dos.txt "$T/dos.txt"
	mime-unpack -p 2 "$T/out" | cmp - "$T/dos.txt"
}

@test "mime-pack: group syntax and quoted display names survive header encoding" {
	printf 'From: "Müller, Jörg" <j@example.org>\nTo: Team Ä: a@example.org, "B. B." <b@example.org>;\nSubject: x\n\nbody\n' >"$T/in"
	mime-pack <"$T/in" >"$T/out"
	run $PY header "$T/out" From
	assert_output '"Müller, Jörg" <j@example.org>'
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
g = m["To"].groups[0]
print(g.display_name, [a.addr_spec for a in g.addresses])' "$T/out" >"$T/got"
	echo "Team Ä ['a@example.org', 'b@example.org']" >"$T/want"
	diff "$T/want" "$T/got"
}

# The first text part of message $1 is labelled utf-8 and Python's email package decodes it
# to what Python's own codec $3 makes of the body of input $2 (the bytes after the header).
py_same_text() {	# py_same_text OUT IN CODEC
	python3 - "$1" "$2" "$3" <<'PYEOF'
import email, email.policy, sys
out, inp, codec = sys.argv[1:]
m = email.message_from_binary_file(open(out, 'rb'), policy=email.policy.default)
part = next(p for p in m.walk() if p.get_content_maintype() == 'text')
assert part.get_content_charset() == 'utf-8', part.get_content_charset()
raw = open(inp, 'rb').read().split(b'\n\n', 1)[1]
want = raw.decode(codec)
got = part.get_content()
assert got == want, (got, want)
assert not m.defects and not part.defects
PYEOF
}

@test "mime-pack: a Latin-1 body with --charset is converted to a utf-8 part" {
	printf 'Subject: x\n\ncaf\xe9 \xe0 la cr\xe8me br\xfbl\xe9e \xab\xa0\xbb \xff\n' >"$T/in"
	mime-pack --charset ISO-8859-1 <"$T/in" >"$T/out"
	run grep -ci 'charset=.*8859' "$T/out"
	assert_output 0
	py_same_text "$T/out" "$T/in" latin-1
}

@test "mime-pack: a Shift_JIS body with --charset is converted to a utf-8 part" {
	python3 -c 'import sys; sys.stdout.buffer.write(b"Subject: x\n\n" + ("日本語のテキスト、ｶﾀｶﾅ。\n" * 3000).encode("shift_jis"))' >"$T/in"
	mime-pack --charset Shift_JIS <"$T/in" >"$T/out"
	py_same_text "$T/out" "$T/in" shift_jis
	# and mime-unpack gives back the UTF-8 text
	python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read().split(b"\n\n", 1)[1].decode("shift_jis").encode("utf-8"))' "$T/in" >"$T/want"
	mime-unpack -p 1 "$T/out" | cmp - "$T/want"
}

@test "mime-pack: --charset also converts a body whose bytes happen to be valid UTF-8" {
	# "Ã©" in UTF-8 is C3 83 C2 A9; read as Latin-1 those are four characters.
	printf 'Subject: x\n\n\xc3\xa9\n' >"$T/in"
	mime-pack --charset ISO-8859-1 <"$T/in" >"$T/out"
	py_same_text "$T/out" "$T/in" latin-1
}

@test "mime-pack: a body invalid in the named charset fails with 65 and no message" {
	# Shift_JIS: lead byte 0x93 needs a trail byte in 0x40-0xFC; 0x20 is not one.
	{ printf 'Subject: x\n\n'; head -c 300000 /dev/zero | tr '\0' 'a'; printf '\x93\xfa\x93\x20\n'; } >"$T/in"
	run --separate-stderr mime-pack --charset Shift_JIS <"$T/in"
	assert_failure 65
	[[ "$stderr" == "mime-pack: "*"not valid Shift_JIS at byte 300002"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	# nothing of the body made it out, so no message that looks complete
	[[ "$output" != *aaaa* ]]
	[[ "$output" != *Content-Transfer-Encoding* ]]
	# a character cut off at the end is just as fatal
	printf 'Subject: x\n\nabc\x93' >"$T/in2"
	run mime-pack --charset Shift_JIS <"$T/in2"
	assert_failure 65
	assert_output --partial "ends inside a character at byte 3"
}

# A body of $1 bytes of UTF-8 text lines, after a header ($T/in), and its bytes alone ($T/body).
body_of_size() {
	python3 - "$1" "$T/in" "$T/body" <<'PYEOF'
import sys
n, inp, body = int(sys.argv[1]), sys.argv[2], sys.argv[3]
line = "Grüße, line %07d: the quick brown fox jumps over the lazy dog\n"
b = b"".join(line.encode() % i for i in range(n // 40 + 2))[:n - 1] + b"\n"
assert len(b) == n
open(body, "wb").write(b)
open(inp, "wb").write(b"From: a@example.org\nSubject: size\n\n" + b)
PYEOF
}

# Python's email package reads the first text/plain part of $1 back as exactly $2's bytes.
py_body_is() {	# py_body_is OUT BODYFILE
	python3 - "$1" "$2" <<'PYEOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
part = next(p for p in m.walk() if p.get_content_type() == "text/plain")
want = open(sys.argv[2], "rb").read().decode("utf-8")
got = part.get_content()
assert got == want, (len(got), len(want))
assert not m.defects and not part.defects
PYEOF
}

@test "mime-pack: bodies on either side of the in-memory bound (64 KiB) come out whole" {
	printf 'attached\n' >"$T/a.txt"
	for n in 1 65535 65536 65537 300000; do
		body_of_size "$n"
		mime-pack <"$T/in" >"$T/out"
		py_body_is "$T/out" "$T/body"
		mime-pack -a "$T/a.txt" <"$T/in" >"$T/out2"
		py_body_is "$T/out2" "$T/body"
		py_leaf "$T/out2" 2 text/plain a.txt "$T/a.txt"
	done
}

@test "mime-pack: a small body is kept in memory (no temp file); a big one is spooled to TMPDIR" {
	body_of_size 65536
	TMPDIR="$T/missing" mime-pack <"$T/in" >"$T/out"
	py_body_is "$T/out" "$T/body"
	body_of_size 65537
	run --separate-stderr env TMPDIR="$T/missing" mime-pack <"$T/in"
	[ "$status" -eq 73 ]
	[ -z "$output" ]
	[[ "$stderr" == "mime-pack: cannot create temporary file in $T/missing: "* ]]
	TMPDIR="$T" mime-pack <"$T/in" >"$T/out"
	py_body_is "$T/out" "$T/body"
}

@test "mime-pack: text in no known charset is named by the locale's charset, read only when needed" {
	printf 'Subject: x\n\ncaf\xe9\n' >"$T/latin"
	run --separate-stderr env LC_ALL=C.UTF-8 mime-pack <"$T/latin"
	[ "$status" -eq 65 ]
	[ "$stderr" = "mime-pack: standard input: the plain text is not valid UTF-8; name its charset with --charset" ]
	run --separate-stderr env LC_ALL=C mime-pack <"$T/latin"
	[ "$status" -eq 65 ]
	[ "$stderr" = "mime-pack: standard input: the plain text is not valid ANSI_X3.4-1968; name its charset with --charset" ]
	printf 'x\n' >"$T/$(printf 'caf\xe9.txt')"
	run --separate-stderr env LC_ALL=C mime-pack -a "$T/$(printf 'caf\xe9.txt')" <"$T/draft"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"file name of"*"not valid ANSI_X3.4-1968" ]]
}

# A file is read twice: once to choose type, charset and encoding, once to encode it. What
# another process changes in between must not go out under the first read's declarations.
reread() {	# reread FILE AT|'' HEXBYTES MIME-PACK-ARGS...: change FILE at mime-pack's rewind
	local f=$1 at=$2 bytes=$3
	shift 3
	[ -e "$T/reread.so" ] ||
		cc -shared -fPIC -o "$T/reread.so" "$BATS_TEST_DIRNAME/helpers/reread-shim.c" -ldl
	run env REREAD_FILE="$(realpath "$f")" ${at:+REREAD_AT=$at} REREAD_BYTES="$bytes" \
	    LD_PRELOAD="$T/reread.so" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    mime-pack "$@" <"$T/draft"
}

@test "mime-pack: a file changed between its two reads is refused, never sent as pass 1 saw it" {
	printf 'one\ntwo\n' >"$T/orig"
	# the line end after "one" becomes a bare CR: 7bit text would carry it as a line break
	cp "$T/orig" "$T/a.txt"
	reread "$T/a.txt" 3 0d -a "$T/a.txt"
	assert_failure 75
	assert_output --regexp '^mime-pack: .*/a\.txt changed while it was being read$'
	# "two" becomes "From": a 7bit line that mbox transports rewrite (and signatures break on)
	printf 'one\ntwo\n' >"$T/a.txt"
	reread "$T/a.txt" 4 46726f6d20 -a "$T/a.txt"
	assert_failure 75
	# cut short after pass 1
	printf 'one\ntwo\n' >"$T/a.txt"
	reread "$T/a.txt" 4 '' -a "$T/a.txt"
	assert_failure 75
	# an attached message (message/rfc822 in 7bit) whose body is rewritten
	printf 'Subject: fw\n\nshort\n' >"$T/fw.eml"
	reread "$T/fw.eml" 13 "$(printf '41%.0s' $(seq 100))" --forward "$T/fw.eml"
	assert_failure 75
	assert_output --partial 'fw.eml changed while it was being read'
	# the same runs without a change succeed (the shim itself changes nothing else)
	printf 'one\ntwo\n' >"$T/a.txt"
	run env LD_PRELOAD="$T/reread.so" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    mime-pack -a "$T/a.txt" <"$T/draft"
	assert_success
}

@test "mime-pack: bytes appended to a file after its first read are left out" {
	printf 'one\ntwo\n' >"$T/orig"
	cp "$T/orig" "$T/a.txt"
	reread "$T/a.txt" '' 00ff0d0a46726f6d20780a -a "$T/a.txt"
	assert_success
	printf '%s\n' "$output" >"$T/out"
	py_leaf "$T/out" 2 text/plain a.txt "$T/orig"
	grep -q '^Content-Transfer-Encoding: 7bit' <(sed -n '/name=a.txt/,$p' "$T/out")
}

@test "mime-pack: a file name that looks like an RFC 2047 word is announced so readers take it literally" {
	printf 'x\n' >"$T/f"
	n='=?utf-8?q?invoice.exe=00?=.txt'
	mime-pack -n "$n" -a "$T/f" <"$T/draft" >"$T/out"
	# Python's email, both policies: filename and the old name= parameter
	run python3 - "$T/out" <<'PY'
import email, sys
from email import policy
from email.header import decode_header, make_header
for pol in (policy.compat32, policy.default):
    m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=pol)
    for p in m.walk():
        if p.get_filename():
            print(p.get_filename())
            print(str(make_header(decode_header(email.message_from_binary_file(open(sys.argv[1], "rb")).get_payload()[1].get_param("name")))))
PY
	assert_success
	assert_output "$n
$n
$n
$n"
	run mime-unpack -l "$T/out"
	assert_line --index 2 --partial "$n"
}

@test "mime-pack: a draft's header line over 998 octets is folded (or refused), never sent as it is" {
	python3 - "$T/d" <<'PY'
import sys
open(sys.argv[1], "w").write("From: a@example.org\nTo: " +
    ", ".join("user%d@example.org" % i for i in range(100)) + "\nSubject: " + "x" * 2500 +
    "\nX-Long: " + "abc " * 400 + "end\n\nbody\n")
PY
	run mime-pack <"$T/d"
	assert_success
	printf '%s\n' "$output" >"$T/out"
	[ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/out")" -le 998 ]
	# Python's email reads the same field values back
	run python3 - "$T/d" "$T/out" <<'PY'
import email, sys
from email import policy
a, b = (email.message_from_binary_file(open(f, "rb"), policy=policy.default) for f in sys.argv[1:])
for k in ("To", "Subject", "X-Long"):
    print(k, str(a[k]) == str(b[k]))
PY
	assert_output $'To True\nSubject True\nX-Long True'
	# a field that must stay as written cannot be folded for it
	printf 'Message-ID: <%s@example.org>\n\nbody\n' "$(printf 'x%.0s' $(seq 1200))" >"$T/d"
	run mime-pack <"$T/d"
	assert_failure 65
	assert_output 'mime-pack: header field Message-ID has a line over 998 octets'
}

@test "mime-pack: long non-ASCII names: every line with RFC 2047 words within 76 columns, both names decode" {
	printf 'x\n' >"$T/f"
	for n in "$(python3 -c "print('日本語のファイル名' * 20 + '.docx')")" \
	    "$(python3 -c "print('a' * 1500 + 'é.bin')")" "$(python3 -c "print('😀' * 80 + '.txt')")"; do
		mime-pack -n "$n" -a "$T/f" <"$T/draft" >"$T/out"
		# RFC 2047 section 2: a line holding encoded words is at most 76 characters
		[ "$(grep -F '=?' "$T/out" | awk '{ if (length($0) > m) m = length($0) } END { print m }')" -le 76 ]
		run python3 - "$T/out" "$n" <<'PY'
import email, sys
from email.header import decode_header, make_header
p = email.message_from_binary_file(open(sys.argv[1], "rb")).get_payload()[1]
print(p.get_filename() == sys.argv[2], str(make_header(decode_header(p.get_param("name")))) == sys.argv[2])
PY
		assert_output "True True"
	done
}
