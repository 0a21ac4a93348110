#!/usr/bin/env bats
# reviewbatch: a second adversarial review of batch mode. Each test builds its hostile input
# (or the crash, or the race) itself and failed before the fix it names.

load helpers/common
load helpers/batch

setup_file() { batch_pki; }
setup() { batch_setup; }
teardown() { common_teardown; }

# A script that names its drafts itself reuses the names; the output of yesterday's message
# of that name is still in the output Maildir (a Sent folder, a spool nobody empties).
@test "attack: today's message under the name of one signed yesterday is never taken for done and removed unsigned" {
	small_msg 1 >"$T/box/new/daily-report"
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	out=$T/out/new/daily-report,secmail=signed
	[ -f "$out" ]
	touch -d '1 day ago' "$out"
	small_msg 2 >"$T/box/new/daily-report"
	fill "$T/box" 1 3
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_failure 1
	[ "$stderr" = "smime-sign: $T/box/new/daily-report: an output named daily-report,secmail=signed,... is older than this message (another message of that name was signed before it): left in place, not signed; rename it to have it signed (or remove it if that output is this message)
smime-sign: 1 of 2 messages not signed: 1 failed, 0 to retry, 0 in doubt" ]
	# today's message is still there, as it came; yesterday's output is untouched
	[ "$(subjects "$T/box/new/daily-report")" = "batch 2" ]
	[ "$(subjects "$out")" = "batch 1" ]
	[ "$(files "$T/out/new")" = "$(printf '1700000003.M3P4242.test,secmail=signed\ndaily-report,secmail=signed')" ]
	# renamed as told, it is signed; every message is somewhere, once
	mv "$T/box/new/daily-report" "$T/box/new/daily-report-2"
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	[ "$(files "$T/box/new")" = "" ]
	[ "$(subjects "$T"/out/new/*)" = "$(expect_subjects 1 3)" ]
	verify_all "$T"/out/new/*
	# in place, the same: the old output of that name takes no new message away
	small_msg 4 >"$T/box/new/weekly"
	run "${SIGN[@]}" --maildir "$T/box" --in-place
	assert_success
	touch -d '1 day ago' "$T/box/new/weekly,secmail=signed"
	small_msg 5 >"$T/box/new/weekly"
	run "${SIGN[@]}" --maildir "$T/box" --in-place
	assert_failure 1
	[ "$(subjects "$T/box/new/weekly")" = "batch 5" ]
	[ "$(subjects "$T/box/new/weekly,secmail=signed")" = "batch 4" ]
}

# A mail reader moves a message from new/ to cur/ (it was read) while the run works on it.
# The output is linked in when its group is committed; the worker hangs on the next message
# (SECMAIL_BATCH_FAULT=hang) so the move surely falls between the two.
@test "race: a message a mail reader moves to cur/ while it is being verified in place is not there twice afterwards" {
	small_msg 1 >"$T/m1"
	"${SIGN[@]}" "$T/m1" >"$T/box/new/1700000001.M1P4242.test"
	fill "$T/box" 1 2
	SECMAIL_BATCH_TIMEOUT=3 SECMAIL_BATCH_FAULT=hang:2 timeout -s KILL 60 smime-verify --jobs 1 \
		--ca-file "$PKI/ca.pem" --maildir "$T/box" --in-place 2>"$T/err" &
	pid=$!
	# the first message's output complete in tmp/: the reader moves the input away
	for ((n = 0; n < 200; n++)); do
		[ -n "$(ls -A "$T/box/tmp")" ] && break
		sleep 0.05
	done
	[ -n "$(ls -A "$T/box/tmp")" ]
	mv "$T/box/new/1700000001.M1P4242.test" "$T/box/cur/1700000001.M1P4242.test:2,S"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 75 ]
	grep -q "^smime-verify: $T/box/new/1700000001.M1P4242.test: gone (moved or removed while it was being verified): no output, so it is not there twice$" "$T/err"
	# the message once, where the reader put it; its verified copy not beside it
	[ "$(files "$T/box/new")" = "1700000002.M2P4242.test" ]
	[ "$(files "$T/box/cur")" = "1700000001.M1P4242.test:2,S" ]
	[ "$(files "$T/box/tmp")" = "" ]
	# --cur verifies it where it is now, once
	run smime-verify --ca-file "$PKI/ca.pem" --maildir "$T/box" --in-place --cur
	assert_success
	[ "$(files "$T/box/cur")" = "1700000001.M1P4242.test,secmail=verified:2,S" ]
	[ "$(files "$T/box/new")" = "1700000002.M2P4242.test,secmail=verified" ]
	head -1 "$T/box/cur/1700000001.M1P4242.test,secmail=verified:2,S" | grep -q '^Authentication-Results: mx.example.org; smime=pass'
}

# The supervisor looked at a worker's slot just as it went from one message to the next
# (-1: between messages) and then waited for the worker's next word without a time limit: a
# worker that hung on the next message hung the run for ever, holding the Maildir's lock, so
# that every later cron run exited 75 and no mail went out. It happened about every other run.
@test "crash: a worker that hangs on the message after one it did is stopped after SECMAIL_BATCH_TIMEOUT, every time" {
	for round in 1 2 3 4 5 6; do
		rm -rf "$T/box" "$T/out"
		mkmaildir "$T/box"
		fill "$T/box" 3
		# timeout(1): a run that hangs for ever ends here with 137
		SECMAIL_BATCH_TIMEOUT=1 SECMAIL_BATCH_FAULT=hang:2 run --separate-stderr \
			timeout -s KILL 60 "${SIGN[@]}" --jobs 1 --maildir "$T/box" --to-maildir "$T/out"
		[ "$status" -eq 75 ] || { echo "round $round: status $status" >&2; false; }
		grep -q "^smime-sign: $T/box/new/1700000002.M2P4242.test: no result after 1 seconds: stopped, left in place$" <<<"$stderr"
		[ "$(files "$T/box/new")" = "1700000002.M2P4242.test" ]
		[ "$(ls "$T/out/new" | wc -l)" -eq 2 ]
	done
}

# A shared directory as --out-dir: whoever can write there plants a file under an output's
# name; it passed for the output ("exists: skipped", exit 0), a forged verdict included.
@test "attack: an --out-dir others can write to is refused: a planted file would pass for a verified output" {
	mkdir "$T/in" "$T/shared"
	chmod 1777 "$T/shared"
	small_msg 1 >"$T/in/m1.eml"
	{ printf 'Authentication-Results: mx.example.org; smime=pass header.from=alice@example.org\n'
	  small_msg 1; } >"$T/shared/m1.eml"
	cp "$T/shared/m1.eml" "$T/planted"
	run --separate-stderr smime-verify --ca-file "$PKI/ca.pem" --out-dir "$T/shared" "$T/in/m1.eml"
	assert_failure 78
	[ "$stderr" = "smime-verify: --out-dir: $T/shared is writable by others: refusing to use it (chmod go-w $T/shared)" ]
	cmp "$T/shared/m1.eml" "$T/planted"
	chmod 775 "$T/shared"
	run --separate-stderr "${SIGN[@]}" --out-dir "$T/shared" "$T/in/m1.eml"
	assert_failure 78
	grep -q "is writable by its group: refusing" <<<"$stderr"
	cmp "$T/shared/m1.eml" "$T/planted"
	# the user's own directory as before
	chmod 755 "$T/shared"
	rm "$T/shared/m1.eml"
	run smime-verify --ca-file "$PKI/ca.pem" --out-dir "$T/shared" "$T/in/m1.eml"
	assert_success
	head -1 "$T/shared/m1.eml" | grep -q '^Authentication-Results: mx.example.org; smime=none'
}

@test "batch: a FILE that is its own output (in --out-dir already) is refused, also with --force: the message is never replaced by its output" {
	mkdir "$T/d"
	for i in 1 2; do small_msg "$i" >"$T/d/m$i.eml"; done
	cp "$T/d/m1.eml" "$T/orig"
	for force in "" --force; do
		run --separate-stderr smime-decrypt --cert "$PKI/bob.pem" --key "$PKI/bob.key" $force \
			--out-dir "$T/d" "$T/d/m1.eml"
		assert_failure 1
		grep -q "^smime-decrypt: $T/d/m1.eml: is its own output in $T/d: not decrypted (give another --out-dir)$" <<<"$stderr"
		cmp "$T/d/m1.eml" "$T/orig"
	done
	# the same directory under another path; the other FILE is done all the same
	small_msg 3 >"$T/m3.eml"
	run "${SIGN[@]}" --force --out-dir "$T/d/." "$T/d/../d/m2.eml" "$T/m3.eml"
	assert_failure 1
	[ "$(subjects "$T/d/m2.eml")" = "batch 2" ]
	refute grep -q 'multipart/signed' "$T/d/m2.eml"
	verify_all "$T/d/m3.eml"
	[ "$(files "$T/d")" = "$(printf 'm1.eml\nm2.eml\nm3.eml')" ]
}

# Verdict isolation: one worker takes every message in turn, so whatever message N leaves
# (a chain, a cached answer, an error) is there for N+1. Each output must be byte for byte
# what the one-message path writes for that message alone.
@test "batch: verdicts do not leak from message to message: each output is the one-message path's, in any order" {
	mkdir "$T/in"
	small_msg 1 | "${SIGN[@]}" >"$T/good"
	sed 's/Message number 1/Message number 9/' "$T/good" >"$T/tampered"
	small_msg 3 "Mallory <mallory@example.org>" | "${SIGN[@]}" --no-from-check >"$T/wrongfrom"
	small_msg 5 "Mallory <mallory@example.net>" \
		| smime-sign --cert "$PKI/mallory-full.pem" --key "$PKI/mallory.key" >"$T/mallory"
	small_msg 6 >"$T/plain"
	i=0
	for k in tampered good wrongfrom good mallory good plain good tampered mallory; do
		i=$((i + 1))
		cp "$T/$k" "$T/in/$(printf %02d $i)-$k"
	done
	# a verdict is written into its message, not a failure of the run
	run smime-verify --ca-file "$PKI/ca.pem" --jobs 1 --out-dir "$T/out" "$T"/in/*
	assert_success
	for f in "$T"/in/*; do
		smime-verify --ca-file "$PKI/ca.pem" <"$f" >"$T/single" 2>/dev/null || true
		cmp "$T/single" "$T/out/${f##*/}"
	done
	# and the verdicts are the ones expected, not all alike
	[ "$(head -qn1 "$T"/out/*-good | grep -c 'smime=pass')" -eq 4 ]
	[ "$(head -qn1 "$T"/out/*-tampered | grep -c 'smime=fail')" -eq 2 ]
	[ "$(head -qn1 "$T"/out/*-mallory | grep -c 'smime=pass reason="good signature by$')" -eq 2 ]
	grep -q '^ mallory@example.net;' "$T"/out/05-mallory
	refute grep -q 'smime=pass' <(head -qn1 "$T"/out/*-wrongfrom "$T"/out/*-plain)
}

# A disk that reports a write error when the outputs are synced (syncfs fails, then fsync of
# one file): that output is not known to be on disk. It was linked all the same and its input
# removed, the error only printed: after a crash the message could be nowhere.
@test "crash: an output that cannot be synced (EIO) is dropped and its input kept; the rest is done; exit 75" {
	fill "$T/box" 3
	SECMAIL_BATCH_FAULT=fsync:2 run --separate-stderr "${SIGN[@]}" --jobs 1 --maildir "$T/box" --to-maildir "$T/out"
	assert_failure 75
	grep -q "^smime-sign: $T/box/new/1700000002.M2P4242.test: its output cannot be made durable: Input/output error; left in place$" <<<"$stderr"
	[ "$(files "$T/box/new")" = "1700000002.M2P4242.test" ]
	[ "$(files "$T/out/new")" = "$(printf '1700000001.M1P4242.test,secmail=signed\n1700000003.M3P4242.test,secmail=signed')" ]
	[ "$(files "$T/out/tmp")" = "" ]
	# the re-run does it
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	[ "$(files "$T/box/new")" = "" ]
	[ "$(subjects "$T"/out/new/*)" = "$(expect_subjects 1 3)" ]
	# FILE arguments: no output under its name
	mkdir "$T/in"
	for i in 1 2; do small_msg "$i" >"$T/in/m$i.eml"; done
	SECMAIL_BATCH_FAULT=fsync:1 run "${SIGN[@]}" --jobs 1 --out-dir "$T/o" "$T"/in/*.eml
	assert_failure 75
	[ "$(files "$T/o")" = "m2.eml" ]
}

# A message swapped for a FIFO after the listing (by whoever can write the Maildir): opening
# it blocked the worker until the timeout (600 s by default) and the run said "no result".
@test "attack: a Maildir entry replaced by a FIFO after the listing never blocks the run; it is left alone, the rest is done" {
	fill "$T/box" 3
	export SECMAIL_BATCH_GATE=$T/gate
	# the worker waits before message 2 (SECMAIL_BATCH_FAULT=gate:2) while it is swapped
	SECMAIL_BATCH_TIMEOUT=60 SECMAIL_BATCH_FAULT=gate:2 timeout -s KILL 120 "${SIGN[@]}" --jobs 1 \
		--maildir "$T/box" --to-maildir "$T/out" >"$T/out.log" 2>"$T/err.log" &
	pid=$!
	for _ in $(seq 600); do [ -e "$T/gate.waiting" ] && break; sleep 0.1; done
	[ -e "$T/gate.waiting" ]
	mv "$T/box/new/1700000002.M2P4242.test" "$T/m2"
	mkfifo "$T/box/new/1700000002.M2P4242.test"
	touch "$T/gate"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
	run cat "$T/err.log"
	assert_output "smime-sign: $T/box/new/1700000002.M2P4242.test: not a regular file (replaced since the run started?): left alone
smime-sign: 1 of 3 messages not signed: 1 failed, 0 to retry, 0 in doubt"
	[ "$(files "$T/out/new")" = "$(printf '1700000001.M1P4242.test,secmail=signed\n1700000003.M3P4242.test,secmail=signed')" ]
	[ -p "$T/box/new/1700000002.M2P4242.test" ]
}

# --exec CMD that never answers (a hung MTA, a lock held elsewhere) held the whole run, and
# with it every message after, for ever: it had no timeout.
@test "exec: a command that hangs is stopped after SECMAIL_BATCH_TIMEOUT; its message is in doubt, never handed over twice" {
	fill "$T/box" 3
	export SENT=$T/sent
	mkdir "$SENT"
	# message 2 is taken (kept in $SENT), then the command hangs, with a child of its own
	# (a duration of its own, so that pgrep below sees no other run's sleep; their output
	# elsewhere, or run would wait for them to close it)
	nap=300.$$
	EXEC='f=$(mktemp "$SENT/m.XXXXXX") && cat >"$f" && if grep -q "^Subject: batch 2$" "$f"; then sleep '$nap' >/dev/null 2>&1 & sleep '$nap' >/dev/null 2>&1; fi'
	SECMAIL_BATCH_TIMEOUT=2 run --separate-stderr timeout -s KILL 120 "${SIGN[@]}" --jobs 1 \
		--maildir "$T/box" --exec "$EXEC"
	assert_failure 1
	doubt=1700000002.M2P4242.test,secmail=exec
	[ "$stderr" = "smime-sign: $T/box/new/1700000002.M2P4242.test: '$EXEC' gave no answer in 2 seconds: stopped; in doubt (it may have taken it): check (mailsend --list), then remove it, or hand it over again with --force
smime-sign: 1 of 3 messages not signed: 0 failed, 0 to retry, 1 in doubt" ]
	[ "$(files "$T/box/new")" = "$doubt" ]
	[ "$(ls "$SENT" | wc -l)" -eq 3 ]
	[ "$(subjects "$SENT"/*)" = "$(expect_subjects 1 3)" ]
	# the whole process group was stopped: no sleep of the command's is left
	refute pgrep -f "^sleep $nap\$"
	# a re-run leaves it in doubt; --force hands it over again
	run "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC"
	assert_failure 1
	[ "$(ls "$SENT" | wc -l)" -eq 3 ]
	EXEC='f=$(mktemp "$SENT/m.XXXXXX") && cat >"$f"'
	run "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC" --force
	assert_success
	[ "$(files "$T/box/new")" = "" ]
	[ "$(ls "$SENT" | wc -l)" -eq 4 ]
}
