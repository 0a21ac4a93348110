#!/usr/bin/env bats
# Batch mode over Maildirs: --to-maildir, --in-place, --cur; the names outputs get; what is
# never taken as input (outputs, drafts, trashed messages, links, files others could plant);
# the lock against a second run; and decrypt then verify --after-decrypt through Maildirs,
# where only a message smime-decrypt wrote may carry a decryption record.

load helpers/common
load helpers/batch

setup_file() { batch_pki; }
setup() { batch_setup; }
teardown() { common_teardown; }

@test "maildir: --to-maildir signs DIR/new into another Maildir under marked names and removes each input after" {
	fill "$T/box" 5
	small_msg 6 >"$T/box/new/1700000006.M6P4242.test,S=300,W=310"
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	[ "$stderr" = "" ]
	[ "$(files "$T/box/new")" = "" ]
	[ "$(files "$T/box/tmp")" = "" ]
	run files "$T/out/new"
	assert_line --index 0 "1700000001.M1P4242.test,secmail=signed"
	# Dovecot's size fields are dropped: the size changed
	assert_line --index 5 "1700000006.M6P4242.test,secmail=signed"
	[ "$(files "$T/out/tmp")" = "" ]
	verify_all "$T"/out/new/*
	[ "$(subjects "$T"/out/new/*)" = "$(expect_subjects 1 6)" ]
	# the output Maildir is made private, its messages too
	[ "$(stat -c %a "$T/out")" = 700 ]
	[ "$(stat -c %a "$T/out/new/1700000001.M1P4242.test,secmail=signed")" = 600 ]
}

@test "maildir: --cur takes cur/ too and keeps the flags; drafts and trashed messages stay" {
	fill "$T/box" 2
	small_msg 3 >"$T/box/cur/1700000003.M3P4242.test:2,S"
	small_msg 4 >"$T/box/cur/1700000004.M4P4242.test:2,DS"
	small_msg 5 >"$T/box/cur/1700000005.M5P4242.test:2,ST"
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	[ "$(ls "$T/box/cur" | wc -l)" -eq 3 ]
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out" --cur
	assert_success
	[ "$(files "$T/out/cur")" = "1700000003.M3P4242.test,secmail=signed:2,S" ]
	[ "$(files "$T/box/cur")" = "$(printf '1700000004.M4P4242.test:2,DS\n1700000005.M5P4242.test:2,ST')" ]
	[ "$(ls "$T/out/new" | wc -l)" -eq 2 ]
}

@test "maildir: --in-place replaces each message by its output; a second run finds nothing to do and says nothing" {
	fill "$T/box" 4
	run "${SIGN[@]}" --maildir "$T/box" --in-place
	assert_success
	[ "$(ls "$T/box/new" | grep -c ',secmail=signed$')" -eq 4 ]
	[ "$(ls "$T/box/new" | wc -l)" -eq 4 ]
	verify_all "$T"/box/new/*
	ls -l --time-style=+%s "$T/box/new" >"$T/before"
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --in-place
	assert_success
	[ "$stderr" = "" ]
	ls -l --time-style=+%s "$T/box/new" | cmp - "$T/before"
	[ "$(files "$T/box/tmp")" = "" ]
}

@test "maildir: a message named as an output of ours (left by an --in-place run) is reported by --to-maildir, never taken, never removed" {
	fill "$T/box" 1
	f=$T/box/new/1700000002.M2P4242.test,secmail=signed
	small_msg 2 >"$f"
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	[ "$stderr" = "smime-sign: $f: named as signed by secmail already: never taken as an input (rename it without ',secmail=signed' to do it again)" ]
	[ -f "$f" ]
	[ "$(files "$T/out/new")" = "1700000001.M1P4242.test,secmail=signed" ]
	# --in-place: such names are its own outputs, and it says nothing about them
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --in-place
	assert_success
	[ "$stderr" = "" ]
	[ -f "$f" ]
}

@test "maildir: a message signed already stays where it is, reported; --force signs it" {
	fill "$T/box" 2
	f=$T/box/new/1700000002.M2P4242.test
	"${SIGN[@]}" "$f" >"$T/s"
	mv "$T/s" "$f"
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	[ "$stderr" = "smime-sign: $f: already signed: skipped (--force does it again)" ]
	[ -f "$f" ]
	[ "$(ls "$T/out/new")" = "1700000001.M1P4242.test,secmail=signed" ]
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out" --force
	assert_success
	[ ! -e "$f" ]
	[ "$(ls "$T/out/new" | wc -l)" -eq 2 ]
}

@test "attack: a link planted in new/ is not followed: the file it names is never signed" {
	echo 'secret: the signing key passphrase' >"$T/secret"
	ln -s "$T/secret" "$T/box/new/1700000001.M1P4242.test"
	fill "$T/box" 1 2
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	grep -q "^smime-sign: $T/box/new/1700000001.M1P4242.test: not a regular file: skipped$" <<<"$stderr"
	[ "$(ls "$T/out/new")" = "1700000002.M2P4242.test,secmail=signed" ]
	refute grep -rq 'passphrase' "$T/out"
}

@test "attack: a Maildir others can write to is refused: they could plant a message to be signed with your key" {
	fill "$T/box" 1
	chmod 770 "$T/box/new"
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_failure 78
	grep -q "box/new is writable by its group: refusing to use it" <<<"$stderr"
	chmod 700 "$T/box/new"
	chmod 777 "$T/box"
	run "${SIGN[@]}" --maildir "$T/box" --in-place
	assert_failure 78
	chmod 700 "$T/box"
	mkmaildir "$T/out"
	chmod 775 "$T/out/new"
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_failure 78
	[ "$(ls "$T/box/new" | wc -l)" -eq 1 ]
	[ "$(ls "$T/out/new" | wc -l)" -eq 0 ]
}

@test "maildir: a second run on the same Maildir while one holds it exits 75 at once and touches nothing" {
	fill "$T/box" 3
	flock "$T/box" sleep 30 &
	holder=$!
	for i in $(seq 50); do
		flock -n "$T/box" true 2>/dev/null || break
		sleep 0.1
	done
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --in-place
	kill "$holder"
	wait "$holder" 2>/dev/null || true
	assert_failure 75
	grep -q "cannot lock $T/box (another run is working on it)" <<<"$stderr"
	[ "$(ls "$T/box/new" | grep -c secmail)" -eq 0 ]
}

@test "maildir: a missing Maildir or a directory that is none is a clear error" {
	run --separate-stderr "${SIGN[@]}" --maildir "$T/nothere" --in-place
	assert_failure 66
	grep -q "does not exist" <<<"$stderr"
	mkdir -m 700 "$T/plain"
	run --separate-stderr "${SIGN[@]}" --maildir "$T/plain" --in-place
	assert_failure 78
	grep -q "is not a Maildir: it has no tmp/" <<<"$stderr"
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/box/../box"
	assert_failure 64
}

@test "maildir: sign, encrypt, decrypt and verify in place, one after the other, give every message back verified" {
	fill "$T/box" 6
	run "${SIGN[@]}" --maildir "$T/box" --in-place
	assert_success
	run smime-encrypt -r "$PKI/bob.pem" --no-self --maildir "$T/box" --in-place
	assert_success
	run smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" --maildir "$T/box" --in-place
	assert_success
	run smime-verify --after-decrypt --ca-file "$PKI/ca.pem" --maildir "$T/box" --in-place
	assert_success
	[ "$(ls "$T/box/new" | grep -c ',secmail=signed,secmail=encrypted,secmail=decrypted,secmail=verified$')" -eq 6 ]
	for f in "$T"/box/new/*; do
		head -1 "$f" | grep -q '^Authentication-Results: mx.example.org; smime=pass'
	done
}

# The pipeline in a spool: decrypt into a staging Maildir, then verify --after-decrypt.
@test "attack: in a Maildir, verify --after-decrypt trusts a decryption record only in a message smime-decrypt wrote" {
	mkmaildir "$T/stage"
	# Really encrypted (AES-CBC, signed inside) and decrypted by us: the record is ours.
	small_msg 1 >"$T/m1"
	"${SIGN[@]}" "$T/m1" | smime-encrypt -r "$PKI/bob.pem" --no-self --cipher aes-256-gcm \
		>"$T/box/new/1700000001.M1P4242.test"
	run smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" --maildir "$T/box" --to-maildir "$T/stage"
	assert_success
	# Delivered straight into the stage by an MDA: a signed message whose sender wrote a
	# record claiming AES-GCM decryption under our authserv-id.
	small_msg 2 >"$T/m2"
	{ printf 'Secmail-Decryption: mx.example.org; decrypted cipher=aes-256-gcm integrity=aead\n'
	  "${SIGN[@]}" "$T/m2"; } >"$T/stage/new/1700000002.M2P4242.test"
	run smime-verify --after-decrypt --ca-file "$PKI/ca.pem" --maildir "$T/stage" --to-maildir "$T/inbox"
	assert_success
	ours=$T/inbox/new/1700000001.M1P4242.test,secmail=decrypted,secmail=verified
	forged=$T/inbox/new/1700000002.M2P4242.test,secmail=verified
	head -3 "$ours" | tr -d '\n' | grep -q 'smime=pass reason="decrypted (aes-256-gcm'
	grep -q '^Secmail-Decryption: mx.example.org; decrypted cipher=aes-256-gcm' "$ours"
	head -1 "$forged" | grep -q '^Authentication-Results: mx.example.org; smime=pass'
	refute grep -qi 'decrypted' <(sed '/^$/q' "$forged")
}

@test "maildir: messages moved away while a run works are skipped, not failed" {
	fill "$T/box" 40
	# The worker opens each message when it gets to it; take some away under it.
	( sleep 0.05; rm -f "$T"/box/new/*M3[0-9]P* ) &
	run --separate-stderr "${SIGN[@]}" --jobs 1 --maildir "$T/box" --to-maildir "$T/out"
	wait
	assert_success
	n=$(ls "$T/out/new" | wc -l)
	[ "$n" -ge 30 ]
	[ "$n" -le 40 ]
	[ "$(ls "$T/box/new" | wc -l)" -eq 0 ]
	! grep -v -e 'gone (moved or removed since the run started): skipped$' -e 'gone (moved or removed while it was being signed): no output, so it is not there twice$' <<<"$stderr" | grep . || false
}

# review12: the mark drops ",S=" and ",W=", so two inputs can map to one output name.
@test "attack: two messages whose names differ only in their size fields are both kept: neither is removed unprocessed" {
	small_msg 1 >"$T/box/new/1700000001.M1P4242.test,S=100"
	small_msg 2 >"$T/box/new/1700000001.M1P4242.test,S=200"
	fill "$T/box" 1 3
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_failure 1
	[ "$(files "$T/out/new")" = "1700000003.M3P4242.test,secmail=signed" ]
	[ "$(files "$T/box/new")" = "$(printf '1700000001.M1P4242.test,S=100\n1700000001.M1P4242.test,S=200')" ]
	grep -q "^smime-sign: $T/box/new/1700000001.M1P4242.test,S=100: another message here would get the same output name" <<<"$stderr"
	# every message is still somewhere: the two as they came, the third signed
	[ "$(subjects "$T"/box/new/* "$T"/out/new/*)" = "$(expect_subjects 1 3)" ]
	# an output of that name from an earlier run takes neither input away
	small_msg 9 >"$T/out/new/1700000001.M1P4242.test,secmail=signed"
	rm "$T/box/new/1700000001.M1P4242.test,S=100"
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	[ "$(files "$T/box/new")" = "" ]
	small_msg 1 >"$T/box/new/1700000001.M1P4242.test,S=100"
	small_msg 2 >"$T/box/new/1700000001.M1P4242.test,S=200"
	run "${SIGN[@]}" --maildir "$T/box" --in-place
	assert_failure 1
	[ "$(subjects "$T"/box/new/*S=*)" = "$(expect_subjects 1 2)" ]
}
