#!/usr/bin/env bats
# Batch mode over FILE arguments (--out-dir): every tool, the per-message contract kept for
# each message, one bad input named and the rest done, skips, --force, the exit status, keys
# and passphrases read once, and no file descriptor or memory growing with the count.

load helpers/common
load helpers/batch

setup_file() { batch_pki; }
setup() {
	batch_setup
	mkdir "$T/in"
	for i in 1 2 3; do small_msg "$i" >"$T/in/m$i.eml"; done
}
teardown() { common_teardown; }

@test "batch: sign --out-dir signs every file under its name; openssl cms verifies each and gets the entity the one-message path signs" {
	run "${SIGN[@]}" --out-dir "$T/out" "$T"/in/*.eml
	assert_success
	assert_output ""
	[ "$(files "$T/out")" = "$(printf 'm1.eml\nm2.eml\nm3.eml')" ]
	verify_all "$T"/out/*.eml
	for i in 1 2 3; do
		"${SIGN[@]}" "$T/in/m$i.eml" >"$T/one"
		openssl cms -verify -in "$T/one" -CAfile "$PKI/ca.pem" -out "$T/a" 2>/dev/null
		openssl cms -verify -in "$T/out/m$i.eml" -CAfile "$PKI/ca.pem" -out "$T/b" 2>/dev/null
		cmp "$T/a" "$T/b"
		# the outer fields are the input's, byte for byte
		head -5 "$T/in/m$i.eml" | cmp - <(head -5 "$T/out/m$i.eml")
	done
	# private: outputs may be decrypted mail
	[ "$(stat -c %a "$T/out/m1.eml")" = 600 ]
	# nothing left behind but the outputs
	[ "$(ls -A "$T/out" | wc -l)" -eq 3 ]
}

@test "batch: a message that is signed already is skipped with a message naming it; --force signs it again" {
	"${SIGN[@]}" "$T/in/m2.eml" >"$T/signed.eml"
	mv "$T/signed.eml" "$T/in/m2.eml"
	cp "$T/in/m2.eml" "$T/before"
	run --separate-stderr "${SIGN[@]}" --out-dir "$T/out" "$T"/in/*.eml
	assert_success
	[ "$stderr" = "smime-sign: $T/in/m2.eml: already signed: skipped (--force does it again)" ]
	[ "$(files "$T/out")" = "$(printf 'm1.eml\nm3.eml')" ]
	cmp "$T/before" "$T/in/m2.eml"
	run "${SIGN[@]}" --force --out-dir "$T/out2" "$T/in/m2.eml"
	assert_success
	# signed twice: the inner entity is the first signature's multipart/signed
	openssl cms -verify -in "$T/out2/m2.eml" -CAfile "$PKI/ca.pem" -out "$T/inner" 2>/dev/null
	grep -qi '^Content-Type: multipart/signed' "$T/inner"
}

@test "batch: an output that exists is kept and the input skipped; --force replaces it" {
	mkdir "$T/out"
	echo precious >"$T/out/m1.eml"
	run --separate-stderr "${SIGN[@]}" --out-dir "$T/out" "$T"/in/*.eml
	assert_success
	[ "$stderr" = "smime-sign: $T/in/m1.eml: $T/out/m1.eml exists: skipped (--force replaces it)" ]
	[ "$(cat "$T/out/m1.eml")" = precious ]
	verify_all "$T/out/m2.eml" "$T/out/m3.eml"
	run "${SIGN[@]}" --force --out-dir "$T/out" "$T/in/m1.eml"
	assert_success
	verify_all "$T/out/m1.eml"
}

@test "batch: inputs that fail are named, one line each, the others are signed; exit 1" {
	small_msg 4 'Mallory <mallory@example.net>' >"$T/in/m4.eml"
	mkdir "$T/in/m5.eml"
	run --separate-stderr "${SIGN[@]}" --out-dir "$T/out" "$T/in/m1.eml" "$T/in/m4.eml" \
		"$T/in/missing.eml" "$T/in/m5.eml" "$T/in/m2.eml"
	assert_failure 1
	[ "$(files "$T/out")" = "$(printf 'm1.eml\nm2.eml')" ]
	verify_all "$T/out/m1.eml" "$T/out/m2.eml"
	grep -q "^smime-sign: $T/in/m4.eml: .*mallory@example.net" <<<"$stderr"
	grep -q "^smime-sign: $T/in/missing.eml: cannot open: No such file or directory$" <<<"$stderr"
	grep -q "^smime-sign: $T/in/m5.eml: a directory, not a message$" <<<"$stderr"
	grep -q "^smime-sign: 3 of 5 messages not signed: 3 failed, 0 to retry, 0 in doubt$" <<<"$stderr"
	[ "$(grep -c . <<<"$stderr")" -eq 4 ]
}

@test "batch: when every failure is transient (writes fail as on a full disk) the exit is 75, nothing half-written is left" {
	# RLIMIT_FSIZE: writes past 2 KiB fail with EFBIG (SIGXFSZ ignored), as on a full disk.
	run --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 2; "$@"' sh "${SIGN[@]}" \
		--out-dir "$T/out" "$T"/in/*.eml
	assert_failure 75
	[ "$(ls -A "$T/out" | wc -l)" -eq 0 ]
	grep -q "^smime-sign: $T/in/m1.eml: write error: " <<<"$stderr"
	grep -q "3 of 3 messages not signed: 0 failed, 3 to retry" <<<"$stderr"
	# the inputs are untouched, and the next run does them
	run "${SIGN[@]}" --out-dir "$T/out" "$T"/in/*.eml
	assert_success
	verify_all "$T"/out/*.eml
}

@test "batch: the passphrase is read once: --pass-fd from a pipe signs every message" {
	run "${SIGN[@]/alice.key/alice-pass.key}" --pass-fd 3 --jobs 2 --out-dir "$T/out" \
		"$T"/in/*.eml 3< <(cat "$PKI/pass.txt")
	assert_success
	verify_all "$T"/out/*.eml
	[ "$(ls "$T/out" | wc -l)" -eq 3 ]
}

@test "batch: verify writes every message with its verdict; an empty file is named and fails (never made a message), the rest is written" {
	"${SIGN[@]}" "$T/in/m1.eml" >"$T/in/s1.eml"
	printf 'not a message\0 at all\n' >"$T/in/garbage.eml"
	: >"$T/in/empty.eml"
	run --separate-stderr smime-verify --ca-file "$PKI/ca.pem" --out-dir "$T/out" \
		"$T/in/s1.eml" "$T/in/m2.eml" "$T/in/garbage.eml" "$T/in/empty.eml"
	assert_failure 1
	[ "$(files "$T/out")" = "$(printf 'garbage.eml\nm2.eml\ns1.eml')" ]
	head -1 "$T/out/s1.eml" | grep -q '^Authentication-Results: mx.example.org; smime=pass'
	head -1 "$T/out/m2.eml" | grep -q '^Authentication-Results: mx.example.org; smime=none'
	head -1 "$T/out/garbage.eml" | grep -q '^Authentication-Results: mx.example.org; smime=permerror'
	grep -q "^smime-verify: $T/in/empty.eml: .*empty" <<<"$stderr"
	grep -q "^smime-verify: $T/in/m2.eml: none: " <<<"$stderr"
	grep -q "1 of 4 messages not verified: 1 failed" <<<"$stderr"
}

@test "batch: decrypt gives what openssl cms -decrypt gives; a message for someone else is written as it came with its record, exit 0" {
	for i in 1 2; do
		smime-encrypt -r "$PKI/bob.pem" --no-self "$T/in/m$i.eml" >"$T/in/e$i.eml"
	done
	smime-encrypt -r "$PKI/carol.pem" --no-self -R carol@example.org --recipients-only \
		"$T/in/m3.eml" >"$T/in/e3.eml"
	run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" \
		--out-dir "$T/out" "$T"/in/e*.eml
	assert_success
	for i in 1 2; do
		openssl cms -decrypt -in "$T/in/e$i.eml" -recip "$PKI/bob.pem" -inkey "$PKI/bob.key" \
			-out "$T/plain$i"
		grep -q "^Secmail-Decryption: mx.example.org; decrypted cipher=" "$T/out/e$i.eml"
		sed '1,/^$/d' "$T/out/e$i.eml" >"$T/body$i"
		sed '1,/^\r\{0,1\}$/d' "$T/plain$i" | tr -d '\r' | cmp - "$T/body$i"
	done
	head -1 "$T/out/e3.eml" | grep -q '^Secmail-Decryption: mx.example.org; failed reason='
	# the record (folded) and then the message as it came
	sed -n '/^From: /,$p' "$T/out/e3.eml" | cmp - "$T/in/e3.eml"
	grep -q "^smime-decrypt: $T/in/e3.eml: not decrypted, written as it came" <<<"$stderr"
}

@test "batch: encrypt: every output decrypts with openssl cms; identical messages get different keys in every worker, also after one restarted" {
	for i in 1 2 3 4 5 6; do cp "$T/in/m1.eml" "$T/in/same$i.eml"; done
	# one that fails (a recipient without a certificate) ends its worker half-way
	small_msg 9 | sed 's/^To: .*/To: nobody@example.org/' >"$T/in/same35.eml"
	run --separate-stderr smime-encrypt -r "$PKI/bob.pem" --no-self --jobs 2 \
		--out-dir "$T/out" "$T"/in/same*.eml
	assert_failure 1
	grep -q "^smime-encrypt: $T/in/same35.eml: .*nobody@example.org" <<<"$stderr"
	[ "$(ls "$T/out" | wc -l)" -eq 6 ]
	for f in "$T"/out/*.eml; do
		openssl cms -decrypt -in "$f" -recip "$PKI/bob.pem" -inkey "$PKI/bob.key" -out "$T/p"
		grep -q '^Message number 1\.' "$T/p"
		# the envelope's encrypted key and IV, as openssl sees them
		openssl cms -cmsout -print -in "$f" | grep -A3 -E 'encryptedKey|iv:' >>"$T/keys"
		sed '1,/^$/d' "$f" | md5sum >>"$T/bodies"
	done
	[ "$(sort "$T/bodies" | uniq | wc -l)" -eq 6 ]
	[ "$(grep -c encryptedKey "$T/keys")" -eq 6 ]
}

@test "batch: bad combinations are usage errors and touch nothing" {
	for args in "--in-place $T/in/m1.eml" "--exec true $T/in/m1.eml" "--cur --out-dir $T/o $T/in/m1.eml" \
		"--out-dir $T/o" "--maildir $T/in" "--maildir $T/in --in-place --to-maildir $T/o" \
		"--maildir $T/in --in-place $T/in/m1.eml" "--jobs 0 --out-dir $T/o $T/in/m1.eml" \
		"--jobs 65 --out-dir $T/o $T/in/m1.eml" "--force" \
		"--out-dir $T/o $T/in/m1.eml $T/in/../in/m1.eml" "--out-dir $T/o -"; do
		run --separate-stderr "${SIGN[@]}" $args
		assert_failure 64
		[ ! -e "$T/o" ]
	done
	run smime-verify -E --out-dir "$T/o" "$T/in/m1.eml"
	assert_failure 64
	run smime-verify --strict --out-dir "$T/o" "$T/in/m1.eml"
	assert_failure 64
	run smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" -E --out-dir "$T/o" "$T/in/m1.eml"
	assert_failure 64
	run smime-encrypt -r "$PKI/bob.pem" --bcc-dir "$T/b" --out-dir "$T/o" "$T/in/m1.eml"
	assert_failure 64
	run smime-encrypt --rewrap --cert "$PKI/bob.pem" --key "$PKI/bob.key" --out-dir "$T/o" "$T/in/m1.eml"
	assert_failure 64
	[ ! -e "$T/o" ]
}

@test "batch: a file name with terminal controls is reported escaped" {
	n=$'m\e]0;owned\a\u202e.eml'
	: >"$T/in/$n"
	run --separate-stderr smime-verify --out-dir "$T/out" "$T/in/$n"
	assert_failure 1
	[[ "$stderr" != *$'\e'* ]]
	[[ "$stderr" != *$'\u202e'* ]]
	grep -qF 'm\x1b]0;owned\x07\u202e.eml' <<<"$stderr"
}

@test "batch: no file descriptor leaks: 150 messages of every kind under a limit of 24 open files" {
	for i in $(seq 4 150); do small_msg "$i" >"$T/in/m$i.eml"; done
	lim() { bash -c 'ulimit -n 24; "$@"' sh "$@"; }
	run lim "${SIGN[@]}" --jobs 1 --out-dir "$T/s" "$T"/in/*.eml
	assert_success
	run lim smime-encrypt -r "$PKI/bob.pem" --no-self --jobs 1 --out-dir "$T/e" "$T"/s/*.eml
	assert_success
	run lim smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" --jobs 1 --out-dir "$T/d" "$T"/e/*.eml
	assert_success
	run lim smime-verify --ca-file "$PKI/ca.pem" --jobs 1 --out-dir "$T/v" "$T"/d/*.eml
	assert_success
	[ "$(ls "$T/v" | wc -l)" -eq 150 ]
	[ "$(grep -l '^Authentication-Results: mx.example.org; smime=pass' "$T"/v/*.eml | wc -l)" -eq 150 ]
}

@test "batch: memory does not grow with the count: 1000 messages take the peak RSS of 100" {
	mkdir "$T/many"
	for i in $(seq 1000); do small_msg "$i" >"$T/many/m$i.eml"; done
	# Small sanitizer quarantine, so that freed memory is not held back (ASan builds).
	export ASAN_OPTIONS=quarantine_size_mb=1:${ASAN_OPTIONS:-}
	/usr/bin/time -f %M -o "$T/rss100" "${SIGN[@]}" --jobs 1 --out-dir "$T/o100" $(ls "$T"/many/m*.eml | head -100)
	/usr/bin/time -f %M -o "$T/rss1000" "${SIGN[@]}" --jobs 1 --out-dir "$T/o1000" "$T"/many/m*.eml
	[ "$(ls "$T/o1000" | wc -l)" -eq 1000 ]
	a=$(tail -1 "$T/rss100") b=$(tail -1 "$T/rss1000")
	echo "peak RSS: 100 messages $a KiB, 1000 messages $b KiB" >&3
	# A leak of 1 KiB per message would add 900 KiB.
	[ "$b" -lt $((a + 512)) ]
}

@test "batch: --help, the man pages (mandoc -Tlint clean) and the bash, zsh and fish completions name every batch option" {
	for t in sign encrypt decrypt verify; do
		run smime-$t --help
		assert_success
		for o in --out-dir --maildir --to-maildir --in-place --exec --cur --force --jobs; do
			grep -q -- "$o" <<<"$output" || { echo "smime-$t --help: no $o" >&2; false; }
			grep -q -- "^\.It Fl Fl ${o#--}" "$TOP/man/smime-$t.1" || { echo "smime-$t.1: no $o" >&2; false; }
			grep -q -- "$o" "$TOP/completions/zsh/_smime-$t"
			grep -q -- "-l ${o#--} " "$TOP/completions/fish/smime-$t.fish"
		done
		grep -q '^\.Ss Batch mode$' "$TOP/man/smime-$t.1"
		run mandoc -Tlint -W warning "$TOP/man/smime-$t.1"
		assert_success
		assert_output ""
		run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/smime-$t' && COMP_WORDS=(smime-$t --to-m) COMP_CWORD=1 && _smime_$t && echo \"\${COMPREPLY[@]}\""
		assert_output "--to-maildir"
		run zsh -n "$TOP/completions/zsh/_smime-$t"
		assert_success
		run fish -c "source '$TOP/completions/fish/smime-$t.fish'; complete -C'smime-$t --in-pl'"
		assert_output --partial "--in-place"
	done
}
