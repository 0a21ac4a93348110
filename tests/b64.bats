#!/usr/bin/env bats
# b64: the command line, byte equality with coreutils, errors, I/O failures, memory.

load helpers/common

setup() {
	common_setup
	head -c 100000 /dev/urandom >"$T/rand"
}
teardown() { common_teardown; }

each_kernel() {	# run "$@" under each kernel; fail if any differs from the first
	local k
	for k in scalar avx2 avx512; do
		SECMAIL_B64_KERNEL=$k "$@" >"$T/out.$k" || return 1
	done
	cmp "$T/out.scalar" "$T/out.avx2"
	cmp "$T/out.scalar" "$T/out.avx512"
}

@test "b64: RFC 4648 section 10 vectors encode" {
	for pair in ":" "f:Zg==" "fo:Zm8=" "foo:Zm9v" "foob:Zm9vYg==" "fooba:Zm9vYmE=" "foobar:Zm9vYmFy"; do
		in=${pair%%:*} want=${pair#*:}
		run b64 -w 0 < <(printf %s "$in")
		assert_success
		assert_output "$want"
	done
}

@test "b64: RFC 4648 section 10 vectors decode" {
	for pair in "f:Zg==" "fo:Zm8=" "foo:Zm9v" "foob:Zm9vYg==" "fooba:Zm9vYmE=" "foobar:Zm9vYmFy"; do
		run b64 -d < <(printf %s "${pair#*:}")
		assert_success
		assert_output "${pair%%:*}"
	done
}

@test "b64: encoding is byte-identical to coreutils base64 at wraps 76, 0, 1, 57 and 100" {
	for w in 76 0 1 57 100; do
		for k in scalar avx2 avx512; do
			SECMAIL_B64_KERNEL=$k b64 -w "$w" "$T/rand" >"$T/mine"
			base64 -w "$w" "$T/rand" >"$T/theirs"
			cmp "$T/mine" "$T/theirs"
		done
	done
}

# Issue 12: SECMAIL_B64_KERNEL=avx512 runs the AVX-512 VBMI kernel where the CPU has it and
# the best kernel it does have elsewhere (this machine's CPU lacks AVX-512): either way the
# bytes are coreutils' own, wrapped, unwrapped, CRLF, base64url, and decoding long runs.
@test "b64: SECMAIL_B64_KERNEL=avx512 gives coreutils' bytes whether or not the CPU has AVX-512" {
	head -c 1000000 /dev/urandom >"$T/big"
	for w in 76 0 64; do
		SECMAIL_B64_KERNEL=avx512 b64 -w "$w" "$T/big" >"$T/mine"
		base64 -w "$w" "$T/big" | cmp - "$T/mine"
		SECMAIL_B64_KERNEL=avx512 b64 -d "$T/mine" | cmp - "$T/big"
	done
	SECMAIL_B64_KERNEL=avx512 b64 --crlf "$T/big" >"$T/crlf"
	base64 "$T/big" | sed 's/$/\r/' | cmp - "$T/crlf"
	SECMAIL_B64_KERNEL=avx512 b64 -d "$T/crlf" | cmp - "$T/big"
	basenc --base64url "$T/big" >"$T/url"
	SECMAIL_B64_KERNEL=avx512 b64 -u "$T/big" | cmp - "$T/url"
	SECMAIL_B64_KERNEL=avx512 b64 -d -u "$T/url" | cmp - "$T/big"
}

@test "b64: a kernel name that does not exist falls back to a working kernel" {
	SECMAIL_B64_KERNEL=avx1024 b64 "$T/rand" | cmp - <(base64 "$T/rand")
	base64 "$T/rand" | SECMAIL_B64_KERNEL=avx1024 b64 -d | cmp - "$T/rand"
}

@test "b64: default wrap is 76 columns, as coreutils" {
	b64 "$T/rand" >"$T/mine"
	base64 "$T/rand" >"$T/theirs"
	cmp "$T/mine" "$T/theirs"
	run awk 'length > 76' "$T/mine"
	assert_output ""
}

@test "b64: every input length 0..300 matches coreutils through the scalar and avx2 kernels" {
	for n in $(seq 0 300); do
		head -c "$n" "$T/rand" >"$T/in"
		base64 "$T/in" >"$T/theirs"
		for k in scalar avx2; do
			SECMAIL_B64_KERNEL=$k b64 "$T/in" | cmp - "$T/theirs"
			SECMAIL_B64_KERNEL=$k b64 -d "$T/theirs" | cmp - "$T/in"
		done
	done
}

@test "b64: decoding coreutils output gives back the bytes, every kernel" {
	base64 "$T/rand" >"$T/enc"
	each_kernel b64 -d "$T/enc"
	cmp "$T/out.avx512" "$T/rand"
	base64 -d "$T/enc" | cmp - "$T/out.scalar"
}

@test "b64: -u is byte-identical to basenc --base64url both ways" {
	basenc --base64url "$T/rand" >"$T/theirs"
	each_kernel b64 -u "$T/rand"
	cmp "$T/out.avx2" "$T/theirs"
	each_kernel b64 -d -u "$T/theirs"
	cmp "$T/out.avx2" "$T/rand"
}

@test "b64: --url decodes input without padding" {
	run b64 -d --url < <(printf '%s' '-_8')
	assert_success
	[ "$(printf '%s' "$output" | od -An -tx1 | tr -d ' ')" = "fbff" ]
}

@test "b64: --crlf ends lines with CRLF" {
	b64 --crlf "$T/rand" >"$T/mine"
	base64 "$T/rand" | sed 's/$/\r/' >"$T/theirs"
	cmp "$T/mine" "$T/theirs"
	b64 -d "$T/mine" | cmp - "$T/rand"
}

@test "b64: files as arguments are concatenated, - is standard input" {
	printf 'foo' >"$T/a"
	run bash -c "printf bar | b64 '$T/a' -"
	assert_success
	assert_output "Zm9vYmFy"
}

@test "b64: decode skips CR, LF, spaces and tabs anywhere" {
	run b64 -d < <(printf ' Zm9v\r\n\tYm Fy \n')
	assert_success
	assert_output "foobar"
}

# Issue 9 item 12: white space used to cost a 16 KiB copy per byte (about 3 s of CPU per MiB
# of spaces). The input is built here; the decoded bytes are compared with the generator's
# own and decoding must finish inside a CPU-time limit (ulimit -t, not wall-clock time) some
# 50 times what linear decoding takes, yet a fraction of what the quadratic decoder needed.
ws_layout() {	# ws_layout LAYOUT MIB [b64 options]: decode under a 3 s CPU limit
	local layout=$1 mib=$2
	shift 2
	python3 "$TOP/tests/helpers/b64_layouts.py" "$layout" "$mib" "$T/raw" "$T/text"
	run bash -c 'ulimit -t 3; exec b64 -d "$@" <"$0" >"$0.out"' "$T/text" "$@"
	[ "$status" -eq 0 ] || { echo "b64 -d on $layout: status $status (152: CPU limit hit)"; return 1; }
	cmp "$T/text.out" "$T/raw"
}

@test "b64: decoding three spaces after every quad is linear (4 MiB under a CPU limit)" {
	ws_layout quad-spaces 4
}

@test "b64: decoding a space after every character is linear (4 MiB under a CPU limit)" {
	ws_layout char-spaces 4
}

@test "b64: decoding random runs of every kind of white space is linear (CPU limit)" {
	ws_layout mixed 2
}

@test "b64: decoding 1 MiB runs of spaces between 64 KiB of text is linear (CPU limit)" {
	ws_layout long-runs 2
}

@test "b64: -i skips garbage after every character in linear time (CPU limit)" {
	python3 "$TOP/tests/helpers/b64_layouts.py" char-spaces 4 "$T/raw" "$T/text"
	tr ' ' '*' <"$T/text" >"$T/garbage"
	run bash -c 'ulimit -t 3; exec b64 -d -i "$0" >"$1"' "$T/garbage" "$T/out"
	assert_success
	cmp "$T/out" "$T/raw"
	base64 -d -i "$T/garbage" | cmp - "$T/raw"
}

@test "b64: lines of 75 (breaks inside quads) decode through every kernel as coreutils does" {
	python3 "$TOP/tests/helpers/b64_layouts.py" lines-75 1 "$T/raw" "$T/text"
	base64 -d "$T/text" | cmp - "$T/raw"
	each_kernel b64 -d "$T/text"
	cmp "$T/out.scalar" "$T/raw"
}

@test "b64: an invalid character fails with EX_DATAERR and names the byte offset" {
	run b64 -d < <(printf 'Zm9vYmFy\nZm!v')
	assert_failure 65
	assert_output --partial "b64: standard input: invalid character at offset 11 (byte 0x21)"
}

@test "b64: bad padding fails with EX_DATAERR" {
	run b64 -d < <(printf 'Z===')
	assert_failure 65
	assert_output --partial "bad padding at offset 1"
}

@test "b64: data after padding fails with EX_DATAERR" {
	run b64 -d < <(printf 'Zg==Zm9v')
	assert_failure 65
	assert_output --partial "data after padding at offset 4"
}

@test "b64: truncated input fails with EX_DATAERR and is not passed off as success" {
	run b64 -d < <(printf 'Zm9vYmF')
	assert_failure 65
	assert_output --partial "truncated input"
}

@test "b64: -i skips garbage that would otherwise fail" {
	run b64 -d -i < <(printf 'Zm9v!!Ym*Fy')
	assert_success
	assert_output "foobar"
}

@test "b64: a file that does not exist fails with EX_NOINPUT" {
	run b64 "$T/nope"
	assert_failure 66
	assert_output --partial "cannot open $T/nope"
}

@test "b64: a write error (/dev/full) is reported and exits EX_IOERR" {
	run bash -c "b64 '$T/rand' >/dev/full"
	assert_failure 74
	assert_output --partial "write error"
	run bash -c "base64 '$T/rand' | b64 -d >/dev/full"
	assert_failure 74
}

@test "b64: a closed downstream pipe ends quietly by SIGPIPE, never status 0" {
	head -c 5000000 /dev/urandom >"$T/big"
	run bash -c "b64 '$T/big' 2>'$T/err' | head -c 10 >/dev/null; echo \${PIPESTATUS[0]}"
	assert_output "141"
	[ ! -s "$T/err" ]
}

@test "b64: --help prints usage to stdout and exits 0" {
	run --separate-stderr b64 --help
	assert_success
	assert_output --partial "usage: b64"
	[ -z "$stderr" ]
}

@test "b64: --version prints the version" {
	run b64 --version
	assert_success
	assert_output --regexp '^b64 \(secmail\) [0-9]+\.[0-9]+'
}

@test "b64: an unknown option is a usage error (EX_USAGE)" {
	run --separate-stderr b64 --bogus
	assert_failure 64
	[ -z "$output" ]
	[[ $stderr == *"usage: b64"* ]]
}

@test "b64: a bad wrap width is a usage error" {
	run b64 -w abc
	assert_failure 64
	assert_output --partial "invalid wrap width"
}

@test "b64: peak memory is the same for 1 MiB and 4 GiB of input" {
	small=$( { head -c 1048576 /dev/zero | /usr/bin/time -f %M b64 >/dev/null; } 2>&1 )
	large=$( { head -c 4294967296 /dev/zero | /usr/bin/time -f %M b64 >/dev/null; } 2>&1 )
	echo "small=$small KiB large=$large KiB"
	[ "$large" -le $((small + 512)) ]
	dsmall=$( { head -c 1048576 /dev/zero | b64 | /usr/bin/time -f %M b64 -d >/dev/null; } 2>&1 )
	dlarge=$( { head -c 1073741824 /dev/zero | b64 | /usr/bin/time -f %M b64 -d >/dev/null; } 2>&1 )
	echo "decode small=$dsmall KiB large=$dlarge KiB"
	[ "$dlarge" -le $((dsmall + 512)) ]
}

@test "b64: does not load libcrypto (no cryptography, no OpenSSL start-up per process)" {
	run readelf -d "$(command -v b64)"
	assert_success
	assert_output --partial "libc.so"
	refute_output --partial "libcrypto"
	refute_output --partial "libssl"
}

@test "b64: the man page is mandoc -Tlint clean" {
	run mandoc -Tlint -W warning "$TOP/man/b64.1"
	assert_success
	assert_output ""
}

@test "b64: bash, zsh and fish completions load and offer the long options" {
	run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/b64' && COMP_WORDS=(b64 --cr) COMP_CWORD=1 && _b64 && echo \"\${COMPREPLY[@]}\""
	assert_success
	assert_output --partial -- "--crlf"
	run zsh -n "$TOP/completions/zsh/_b64"
	assert_success
	run zsh -c "fpath=('$TOP/completions/zsh' \$fpath); autoload -U compinit; compinit -u -D; print \$_comps[b64]"
	assert_success
	assert_output "_b64"
	run fish -c "source '$TOP/completions/fish/b64.fish'; complete -C'b64 --ig'"
	assert_success
	assert_output --partial -- "--ignore-garbage"
}
