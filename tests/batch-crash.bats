#!/usr/bin/env bats
# Batch mode killed at every step (SECMAIL_BATCH_FAULT=POINT:N makes the run kill itself
# with SIGKILL there, as kill -9 would; and real kill -9 at random moments): a re-run neither
# loses nor duplicates a message. A worker that crashes or hangs costs only its message.

load helpers/common
load helpers/batch

setup_file() { batch_pki; }
setup() {
	batch_setup
	N=150	# more than two groups of 64 outputs made durable together
	fill "$T/box" "$N"
}
teardown() { common_teardown; }

# Every message exactly once in the output Maildir, signed; none left in the input.
exactly_once() {	# exactly_once OUT
	[ "$(files "$T/box/new")" = "" ]
	[ "$(ls "$1/new" | wc -l)" -eq "$N" ]
	[ "$(subjects "$1"/new/*)" = "$(expect_subjects 1 "$N")" ]
	verify_all $(ls "$1"/new/* | awk 'NR % 10 == 1')
}

@test "crash: killed at each step of a message, to another Maildir: the re-run finishes, every message once" {
	for point in tmp:1 tmp:70 output:1 output:64 output:70 input:1 input:65 input:150; do
		rm -rf "$T/out" "$T/box"
		mkmaildir "$T/box"
		fill "$T/box" "$N"
		SECMAIL_BATCH_FAULT=$point run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
		[ "$status" -eq 137 ] || { echo "$point: status $status" >&2; false; }
		# nothing a reader sees is half-written
		for f in "$T"/out/new/*; do
			[ -e "$f" ] || continue
			tail -c 200 "$f" | grep -q -- '--$' || { echo "$point: $f incomplete" >&2; false; }
		done
		run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
		assert_success
		case $point in
		output:*) grep -q 'by a run that was interrupted: the input is removed$' <<<"$stderr" ;;
		esac
		exactly_once "$T/out"
	done
}

@test "crash: killed in place, with two workers: the re-run finishes and leaves no temporary file" {
	for point in tmp:5 output:66 input:2; do
		rm -rf "$T/box"
		mkmaildir "$T/box"
		fill "$T/box" "$N"
		SECMAIL_BATCH_FAULT=$point run "${SIGN[@]}" --jobs 2 --maildir "$T/box" --in-place
		[ "$status" -eq 137 ]
		run "${SIGN[@]}" --jobs 2 --maildir "$T/box" --in-place
		assert_success
		[ "$(files "$T/box/tmp")" = "" ]
		[ "$(ls "$T/box/new" | grep -vc ',secmail=signed$')" -eq 0 ]
		[ "$(ls "$T/box/new" | wc -l)" -eq "$N" ]
		[ "$(subjects "$T"/box/new/*)" = "$(expect_subjects 1 "$N")" ]
	done
}

@test "crash: kill -9 at random moments, five times over: the last run leaves every message exactly once" {
	for delay in 0.05 0.2 0.1 0.35 0.15; do
		"${SIGN[@]}" --jobs 2 --maildir "$T/box" --to-maildir "$T/out" 2>/dev/null &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		# the workers die with it
		sleep 0.1
		refute pgrep -f -- "--to-maildir $T/out" >/dev/null
	done
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	exactly_once "$T/out"
}

@test "crash: a worker that crashes on a message costs that message only, named; the rest is done" {
	SECMAIL_BATCH_FAULT=crash:7 run --separate-stderr "${SIGN[@]}" --jobs 1 --maildir "$T/box" --to-maildir "$T/out"
	assert_failure 1
	grep -q "^smime-sign: $T/box/new/1700000007.M7P4242.test: the worker crashed on it (signal 11): left in place$" <<<"$stderr"
	grep -q "1 of $N messages not signed: 1 failed" <<<"$stderr"
	[ "$(files "$T/box/new")" = "1700000007.M7P4242.test" ]
	[ "$(ls "$T/out/new" | wc -l)" -eq $((N - 1)) ]
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	exactly_once "$T/out"
}

@test "crash: a worker that exits on a message without a word (status 3) costs that message only, named" {
	SECMAIL_BATCH_FAULT=exit:9 run --separate-stderr "${SIGN[@]}" --jobs 2 --maildir "$T/box" --to-maildir "$T/out"
	assert_failure 1
	grep -q "^smime-sign: $T/box/new/1700000009.M9P4242.test: the worker ended on it (exit status 3): left in place$" <<<"$stderr"
	[ "$(files "$T/box/new")" = "1700000009.M9P4242.test" ]
	[ "$(ls "$T/out/new" | wc -l)" -eq $((N - 1)) ]
}

@test "crash: a worker that hangs on a message is stopped after SECMAIL_BATCH_TIMEOUT; exit 75, the rest is done" {
	# timeout(1): a supervisor that missed the hang would wait for ever (exit 124 here)
	SECMAIL_BATCH_TIMEOUT=1 SECMAIL_BATCH_FAULT=hang:3 run --separate-stderr timeout -s KILL 120 \
		"${SIGN[@]}" --jobs 2 --maildir "$T/box" --to-maildir "$T/out"
	assert_failure 75
	grep -q "^smime-sign: $T/box/new/1700000003.M3P4242.test: no result after 1 seconds: stopped, left in place$" <<<"$stderr"
	[ "$(files "$T/box/new")" = "1700000003.M3P4242.test" ]
	run "${SIGN[@]}" --maildir "$T/box" --to-maildir "$T/out"
	assert_success
	exactly_once "$T/out"
}

# --exec: the hand-over to a command. CMD keeps each message it takes as a file in $T/sent.
handed() { ls "$T/sent" | wc -l; }
EXEC='f=$(mktemp "$SENT/m.XXXXXX") && cat >"$f"'

@test "exec: each output goes to the command once; a command that fails leaves its message in place" {
	export SENT=$T/sent
	mkdir "$SENT"
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" \
		--exec "$EXEC"' && if grep -q "^Subject: batch 5$" "$f"; then rm "$f"; exit 75; fi'
	assert_failure 75
	[ "$(handed)" -eq $((N - 1)) ]
	grep -q "^smime-sign: $T/box/new/1700000005.M5P4242.test: 'f=.*' failed (exit status 75): left in place$" <<<"$stderr"
	[ "$(files "$T/box/new")" = "1700000005.M5P4242.test" ]
	verify_all "$SENT"/*
	run "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC"
	assert_success
	[ "$(subjects "$SENT"/*)" = "$(expect_subjects 1 "$N")" ]
}

@test "exec: killed after the command took a message: the re-run says it is in doubt and never hands it over twice" {
	export SENT=$T/sent
	mkdir "$SENT"
	SECMAIL_BATCH_FAULT=exec-done:3 run "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC"
	[ "$status" -eq 137 ]
	[ "$(handed)" -eq 3 ]
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC"
	assert_failure 1
	doubt=$(ls "$T/box/new")
	[ "$(wc -l <<<"$doubt")" -eq 1 ]
	[[ "$doubt" == *",secmail=exec" ]]
	grep -q "^smime-sign: $T/box/new/$doubt: in doubt: a run was stopped while handing it to " <<<"$stderr"
	grep -q "1 of $((N - 3 + 1)) messages not signed: 0 failed, 0 to retry, 1 in doubt" <<<"$stderr"
	# each message went to the command exactly once
	[ "$(handed)" -eq "$N" ]
	[ "$(subjects "$SENT"/*)" = "$(expect_subjects 1 "$N")" ]
	# the in-doubt one stays until someone decides: removing it is the answer here
	run "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC"
	assert_failure 1
	[ "$(handed)" -eq "$N" ]
}

@test "exec: killed after marking, before the command ran: in doubt, not sent; --force hands it over, once" {
	export SENT=$T/sent
	mkdir "$SENT"
	SECMAIL_BATCH_FAULT=exec-mark:2 run "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC"
	[ "$status" -eq 137 ]
	[ "$(handed)" -eq 1 ]
	run "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC"
	assert_failure 1
	[ "$(handed)" -eq $((N - 1)) ]
	run --separate-stderr "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC" --force
	assert_success
	[ "$(files "$T/box/new")" = "" ]
	[ "$(handed)" -eq "$N" ]
	[ "$(subjects "$SENT"/*)" = "$(expect_subjects 1 "$N")" ]
}

@test "exec attack: a message whose hand-over name is that of one left in doubt never replaces it" {
	export SENT=$T/sent
	mkdir "$SENT"
	rm "$T"/box/new/*
	small_msg 1 >"$T/box/new/1700000001.M1P4242.test,S=100"
	SECMAIL_BATCH_FAULT=exec-mark:1 run "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC"
	[ "$status" -eq 137 ]
	[ "$(files "$T/box/new")" = "1700000001.M1P4242.test,secmail=exec" ]
	# a second message whose name differs only in its size field
	small_msg 2 >"$T/box/new/1700000001.M1P4242.test,S=200"
	run "${SIGN[@]}" --maildir "$T/box" --exec "$EXEC"
	assert_failure
	# the one in doubt is still there, as it was: never overwritten by the other
	[ "$(subjects "$T/box/new/1700000001.M1P4242.test,secmail=exec")" = "batch 1" ]
	[ "$(subjects "$T"/box/new/*)" = "$(expect_subjects 1 2)" ]
	[ "$(files "$SENT")" = "" ]
}
