#!/usr/bin/env bats
# The README's procmail recipe and maildrop line, copied out of README.md and run for real
# with Debian's procmail and maildrop, fed from files as an MTA would, delivering into a
# Maildir in a temp dir, over the corpus of tests/helpers/corpus.py. For every message:
# delivered exactly once, never empty, with the right verdict and no forged one; transient
# failures make the MDA exit 75 with nothing delivered. No system file is read or written:
# HOME, MAILDIR and DEFAULT point into the test's directory.

load helpers/common
load helpers/delivery

setup_file() {
	corpus_setup
}

setup() {
	common_setup
	H=$T/home
	M=$T/Maildir
	mkdir -p "$H" "$M/new" "$M/cur" "$M/tmp"
	smime_conf "$H"
}

teardown() { common_teardown; }

# procmail_rc [HEADER-LINES...]: an rcfile: where to deliver and where the tools are, then
# the README's recipe exactly as printed there.
procmail_rc() {
	{
		printf 'SHELL=/bin/sh\nPATH=%s:/usr/bin:/bin\nHOME=%s\nMAILDIR=%s/\nDEFAULT=%s/\n' \
			"$SECMAIL_BIN" "$H" "$M" "$M"
		printf 'LOGFILE=%s/procmail.log\n' "$T"
		for l in "$@"; do printf '%s\n' "$l"; done
		readme_block procmail
	} >"$T/procmailrc"
}

# maildrop_rc [HEADER-LINES...]: the same for maildrop.
maildrop_rc() {
	{
		printf 'PATH="%s:/usr/bin:/bin"\nHOME="%s"\nDEFAULT="%s/"\n' "$SECMAIL_BIN" "$H" "$M"
		for l in "$@"; do printf '%s\n' "$l"; done
		readme_block maildrop
	} >"$T/mailfilter"
	chmod 600 "$T/mailfilter"
}

# deliver MDA NAME: feed corpus message NAME to the MDA as an MTA would (standard input, a
# cleared environment); sets status and F (the one delivered file; the test fails if there
# is not exactly one).
deliver() {
	local mda=$1 name=$2 n
	run_mda "$mda" "$CORPUS/$name.eml"
	[ "$status" -eq 0 ] || { echo "$mda exited $status: $output"; cat "$T/procmail.log" 2>/dev/null; return 1; }
	n=$(maildir_files "$M" | wc -l)
	[ "$n" -eq 1 ] || { echo "$n messages delivered, want 1"; return 1; }
	F=$(maildir_files "$M")
}

run_mda() {
	local mda=$1 in=$2
	if [ "$mda" = procmail ]; then
		[ -f "$T/procmailrc" ] || procmail_rc
		run env -i procmail "$T/procmailrc" <"$in"
	else
		[ -f "$T/mailfilter" ] || maildrop_rc
		run env -i HOME="$H" maildrop "$T/mailfilter" <"$in"
	fi
}

# same_body DELIVERED INPUT: the body came through unchanged. procmail ends what it files
# with an empty line, adding a newline when the message does not end with one already:
# that one byte is procmail's, not the filter's.
same_body() {
	body_of "$1" >"$T/body.out"
	body_of "$2" >"$T/body.in"
	cmp "$T/body.out" "$T/body.in" && return 0
	printf '\n' >>"$T/body.in"
	cmp "$T/body.out" "$T/body.in"
}

# undecrypted INPUT WORD: an encrypted message that could not be decrypted was delivered as
# it came (the same base64 body), with a failed record and a permerror verdict saying why.
undecrypted() {
	check_verdict "$F" "$1" permerror "failed reason=.*$2" 'could not be decrypted' "$2"
	same_body "$F" "$1"
}

# expect NAME: what the delivered $F must be for corpus message NAME (both MDAs).
expect() {
	local n=$1 in=$CORPUS/$1.eml
	case $n in
	plain | forged-plain)
		check_verdict "$F" "$in" none - 'not.*signed'
		same_body "$F" "$in" ;;
	signed-good)
		check_verdict "$F" "$in" pass - 'alice@example.org'
		grep -q 'Pay 100 EUR' "$F" ;;
	signed-bad | forged-ar)
		check_verdict "$F" "$in" fail - 'digest|altered'
		grep -q 'Pay 900 EUR' "$F" ;;
	signed-untrusted)
		check_verdict "$F" "$in" fail - 'trust|issuer|chain' ;;
	signed-mismatch)
		check_verdict "$F" "$in" policy - 'alice@example.org|From' ;;
	opaque)
		check_verdict "$F" "$in" pass - 'alice@example.org'
		grep -q 'Pay 100 EUR' "$F" ;;
	signenc-gcm | forged-enc)
		check_verdict "$F" "$in" pass 'decrypted cipher=aes-256-gcm integrity=aead' 'decrypted' 'alice@example.org'
		grep -q 'Pay 100 EUR' "$F"
		refute grep -qi 'pkcs7-mime' "$F" ;;
	signenc-cbc)
		check_verdict "$F" "$in" pass 'decrypted cipher=aes-256-cbc integrity=none' 'decrypted' 'cbc' 'alice@example.org'
		grep -q 'Pay 100 EUR' "$F" ;;
	snail)
		check_verdict "$F" "$in" pass 'decrypted cipher=aes-256-cbc integrity=none' 'decrypted' 'alice@example.org'
		grep -q 'Pay 100 EUR' "$F" ;;
	enc-gcm)
		check_verdict "$F" "$in" none 'decrypted cipher=aes-256-gcm integrity=aead' 'decrypted' 'not.*signed'
		grep -q 'Pay 100 EUR' "$F" ;;
	enc-cbc)
		check_verdict "$F" "$in" none 'decrypted cipher=aes-256-cbc integrity=none' 'decrypted' 'alter'
		grep -q 'Pay 100 EUR' "$F" ;;
	cbc-altered)
		check_verdict "$F" "$in" fail 'decrypted cipher=aes-256-cbc integrity=none' 'digest|altered' ;;
	enc-other)
		undecrypted "$in" 'not encrypted for this certificate' ;;
	truncated)
		undecrypted "$in" 'truncated' ;;
	tampered-gcm)
		undecrypted "$in" 'tag does not match' ;;
	tampered-cbc)
		undecrypted "$in" 'padding' ;;
	certs-only)
		check_verdict "$F" "$in" neutral - ;;
	not-a-message)
		check_verdict "$F" "$in" permerror -
		grep -q 'This is not a message at all' "$F" ;;
	*) echo "no expectation for $n"; return 1 ;;
	esac
}

@test "delivery: the README holds the recipes the tests run (w flag, tempfail rule, xfilter)" {
	run readme_block procmail
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ':0 fw' ]
	[ "${lines[1]}" = '| smime-decrypt | smime-verify --after-decrypt' ]
	[ "${lines[2]}" = ':0 e' ]
	[ "${lines[3]}" = '{ EXITCODE=75 HOST }' ]
	run readme_block maildrop
	[ "$output" = 'xfilter "smime-decrypt | smime-verify --after-decrypt"' ]
}

@test "procmail: plain mail, smime=none, body unchanged" { deliver procmail plain; expect plain; }
@test "procmail: clear-signed good, smime=pass" { deliver procmail signed-good; expect signed-good; }
@test "procmail: body altered after signing (100 -> 900 EUR), smime=fail" { deliver procmail signed-bad; expect signed-bad; }
@test "procmail: untrusted signer, smime=fail" { deliver procmail signed-untrusted; expect signed-untrusted; }
@test "procmail: signer is not the From address, smime=policy" { deliver procmail signed-mismatch; expect signed-mismatch; }
@test "procmail: opaque signed, smime=pass" { deliver procmail opaque; expect opaque; }
@test "procmail: signed+encrypted AES-GCM, decrypted, smime=pass, integrity=aead" { deliver procmail signenc-gcm; expect signenc-gcm; }
@test "procmail: signed+encrypted AES-CBC, decrypted, smime=pass, integrity=none" { deliver procmail signenc-cbc; expect signenc-cbc; }
@test "procmail: encrypted only (GCM), decrypted, smime=none" { deliver procmail enc-gcm; expect enc-gcm; }
@test "procmail: encrypted only (CBC), decrypted, may have been altered" { deliver procmail enc-cbc; expect enc-cbc; }
@test "procmail: encrypted for someone else, kept as it came with a failed record" { deliver procmail enc-other; expect enc-other; }
@test "procmail: truncated envelope, kept as it came with a failed record" { deliver procmail truncated; expect truncated; }
@test "procmail: tampered GCM, kept as it came with a failed record" { deliver procmail tampered-gcm; expect tampered-gcm; }
@test "procmail: tampered CBC (padding), kept as it came with a failed record" { deliver procmail tampered-cbc; expect tampered-cbc; }
@test "procmail: CBC altered under the signature, decrypted, smime=fail" { deliver procmail cbc-altered; expect cbc-altered; }
@test "procmail: certs-only, smime=neutral" { deliver procmail certs-only; expect certs-only; }
@test "procmail: not a message, delivered with smime=permerror" { deliver procmail not-a-message; expect not-a-message; }
@test "procmail: forged pass fields on a bad signature are removed, smime=fail" { deliver procmail forged-ar; expect forged-ar; }
@test "procmail: forged fields on plain mail are removed, smime=none" { deliver procmail forged-plain; expect forged-plain; }
@test "procmail: a forged decryption record is removed, ours kept, smime=pass" { deliver procmail forged-enc; expect forged-enc; }
@test "procmail: s-nail's x-pkcs7-mime without smime-type, decrypted, smime=pass" { deliver procmail snail; expect snail; }

@test "procmail: empty input becomes one empty line, delivered with smime=permerror" {
	deliver procmail empty
	check_verdict "$F" "$CORPUS/empty.eml" permerror -
}

@test "procmail: with an mbox From_ line (procmail -f), the verdict is right and the line gone" {
	procmail_rc
	run env -i procmail -f alice@example.org "$T/procmailrc" <"$CORPUS/signenc-gcm.eml"
	[ "$status" -eq 0 ]
	F=$(maildir_files "$M")
	[ "$(echo "$F" | wc -l)" -eq 1 ]
	expect signenc-gcm
	! head -1 "$F" | grep -q '^From ' || false
}

@test "procmail: a key that cannot be read makes procmail exit 75, nothing delivered" {
	sed -i "s|^key .*|key $T/no-such-key.pem|" "$H/.config/secmail/smime.conf"
	run_mda procmail "$CORPUS/signenc-gcm.eml"
	[ "$status" -eq 75 ]
	[ -z "$(maildir_files "$M")" ]
	grep -q 'no-such-key' "$T/procmail.log"
}

@test "procmail: a temporary directory that cannot be used makes procmail exit 75, nothing delivered" {
	procmail_rc "TMPDIR=$T/no-such-dir"
	run_mda procmail "$CORPUS/signed-good.eml"
	[ "$status" -eq 75 ]
	[ -z "$(maildir_files "$M")" ]
}

@test "procmail: without the w flag a failing filter files an empty message (why the recipe has w)" {
	sed -i "s|^key .*|key $T/no-such-key.pem|" "$H/.config/secmail/smime.conf"
	procmail_rc
	sed -i 's/^:0 fw$/:0 f/' "$T/procmailrc"
	grep -qx ':0 f' "$T/procmailrc"
	run_mda procmail "$CORPUS/signenc-gcm.eml"
	[ "$status" -eq 0 ]
	F=$(maildir_files "$M")
	[ "$(echo "$F" | wc -l)" -eq 1 ]
	[ ! -s "$F" ]	# procmail filed the filter's empty output: the message is lost
}

@test "procmail: without the tempfail rule a failing filter files the original, forged verdict and all" {
	sed -i "s|^key .*|key $T/no-such-key.pem|" "$H/.config/secmail/smime.conf"
	procmail_rc
	sed -i '/^:0 e$/,$d' "$T/procmailrc"
	run_mda procmail "$CORPUS/forged-enc.eml"
	[ "$status" -eq 0 ]
	F=$(maildir_files "$M")
	cmp "$F" "$CORPUS/forged-enc.eml"
	grep -q "^Authentication-Results: $AUTHSERV; smime=pass" "$F"
}

@test "maildrop: plain mail, smime=none, body unchanged" { deliver maildrop plain; expect plain; }
@test "maildrop: clear-signed good, smime=pass" { deliver maildrop signed-good; expect signed-good; }
@test "maildrop: body altered after signing (100 -> 900 EUR), smime=fail" { deliver maildrop signed-bad; expect signed-bad; }
@test "maildrop: untrusted signer, smime=fail" { deliver maildrop signed-untrusted; expect signed-untrusted; }
@test "maildrop: signer is not the From address, smime=policy" { deliver maildrop signed-mismatch; expect signed-mismatch; }
@test "maildrop: opaque signed, smime=pass" { deliver maildrop opaque; expect opaque; }
@test "maildrop: signed+encrypted AES-GCM, decrypted, smime=pass, integrity=aead" { deliver maildrop signenc-gcm; expect signenc-gcm; }
@test "maildrop: signed+encrypted AES-CBC, decrypted, smime=pass, integrity=none" { deliver maildrop signenc-cbc; expect signenc-cbc; }
@test "maildrop: encrypted only (GCM), decrypted, smime=none" { deliver maildrop enc-gcm; expect enc-gcm; }
@test "maildrop: encrypted only (CBC), decrypted, may have been altered" { deliver maildrop enc-cbc; expect enc-cbc; }
@test "maildrop: encrypted for someone else, kept as it came with a failed record" { deliver maildrop enc-other; expect enc-other; }
@test "maildrop: truncated envelope, kept as it came with a failed record" { deliver maildrop truncated; expect truncated; }
@test "maildrop: tampered GCM, kept as it came with a failed record" { deliver maildrop tampered-gcm; expect tampered-gcm; }
@test "maildrop: tampered CBC (padding), kept as it came with a failed record" { deliver maildrop tampered-cbc; expect tampered-cbc; }
@test "maildrop: CBC altered under the signature, decrypted, smime=fail" { deliver maildrop cbc-altered; expect cbc-altered; }
@test "maildrop: certs-only, smime=neutral" { deliver maildrop certs-only; expect certs-only; }
@test "maildrop: not a message, delivered with smime=permerror" { deliver maildrop not-a-message; expect not-a-message; }
@test "maildrop: forged pass fields on a bad signature are removed, smime=fail" { deliver maildrop forged-ar; expect forged-ar; }
@test "maildrop: forged fields on plain mail are removed, smime=none" { deliver maildrop forged-plain; expect forged-plain; }
@test "maildrop: a forged decryption record is removed, ours kept, smime=pass" { deliver maildrop forged-enc; expect forged-enc; }
@test "maildrop: s-nail's x-pkcs7-mime without smime-type, decrypted, smime=pass" { deliver maildrop snail; expect snail; }

@test "maildrop: empty input makes maildrop exit 75, nothing delivered (66 from the filter)" {
	run_mda maildrop "$CORPUS/empty.eml"
	[ "$status" -eq 75 ]
	[ -z "$(maildir_files "$M")" ]
}

@test "maildrop: a key that cannot be read makes maildrop exit 75, nothing delivered" {
	sed -i "s|^key .*|key $T/no-such-key.pem|" "$H/.config/secmail/smime.conf"
	run_mda maildrop "$CORPUS/signenc-gcm.eml"
	[ "$status" -eq 75 ]
	[ -z "$(maildir_files "$M")" ]
}

@test "maildrop: a temporary directory that cannot be used makes maildrop exit 75, nothing delivered" {
	# (maildrop replaces TMPDIR from its own environment; a setting in the filter file counts)
	maildrop_rc "TMPDIR=\"$T/no-such-dir\""
	run env -i HOME="$H" maildrop "$T/mailfilter" <"$CORPUS/signed-good.eml"
	[ "$status" -eq 75 ]
	[ -z "$(maildir_files "$M")" ]
}
