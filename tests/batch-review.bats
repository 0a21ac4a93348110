#!/usr/bin/env bats
# reviewbatch: a second adversarial review of batch mode. Each test builds its hostile input
# (or the crash, or the race) itself and failed before the fix it names.

load helpers/common
load helpers/batch

setup_file() { batch_pki; }
setup() {
	common_setup
	export SECMAIL_AUTHSERV_ID=mx.example.org
	SIGN=(smime-sign --cert "$PKI/alice-full.pem" --key "$PKI/alice.key")
	mkmaildir "$T/box"
}
teardown() { common_teardown; }

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
