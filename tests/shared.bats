#!/usr/bin/env bats
# What every tool shares (lib/cli, lib/io, lib/keys, lib/secret): input quoted in error
# messages cannot steer the terminal; private keys and password files that others can read or
# change are refused; a process holding secrets cannot dump core.

load helpers/common
load helpers/smime

setup_file() { smime_pki; }
setup() {
	common_setup
	sample_msg >"$T/msg"
}
teardown() { common_teardown; }

@test "shared: an escape sequence in a file name reaches stderr escaped, never raw" {
	name=$(printf 'no\033[31mfile\342\200\256txt')
	run b64 "$T/$name"
	assert_failure 66
	assert_output --partial 'no\x1b[31mfile\u202etxt'
	refute_output --partial $'\033'
	refute_output --partial $'\342\200\256'
}

@test "shared: a private key readable by others is refused (EX_CONFIG) and named" {
	cp "$PKI/alice.key" "$T/k"
	chmod 644 "$T/k"
	run smime-sign --cert "$PKI/alice.pem" --key "$T/k" "$T/msg"
	assert_failure 78
	assert_output --partial "$T/k holds a secret and is readable by others"
	chmod 640 "$T/k"
	run smime-sign --cert "$PKI/alice.pem" --key "$T/k" "$T/msg"
	assert_success
}

@test "shared: a private key writable by its group is refused" {
	cp "$PKI/alice.key" "$T/k"
	chmod 620 "$T/k"
	run smime-decrypt --cert "$PKI/alice.pem" --key "$T/k" "$T/msg"
	assert_failure 78
	assert_output --partial "$T/k is writable by its group"
}

@test "shared: a passphrase file readable by others is refused; the passphrase is not printed" {
	printf 'sesame-7\n' >"$T/pw"
	chmod 604 "$T/pw"
	run smime-sign --p12 "$PKI/alice.p12" --pass-file "$T/pw" "$T/msg"
	assert_failure 78
	assert_output --partial "$T/pw holds a secret and is readable by others"
	refute_output --partial sesame
}

@test "shared: a process that reads a passphrase cannot dump core (RLIMIT_CORE 0)" {
	mkfifo "$T/fifo"
	# The passphrase is read from a pipe nobody writes to yet: look at the limits meanwhile.
	smime-sign --p12 "$PKI/alice.p12" --pass-fd 3 "$T/msg" 3<>"$T/fifo" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		grep -q '^Max core file size *0 *0' "/proc/$pid/limits" && break
		sleep 0.1
	done
	run grep '^Max core file size' "/proc/$pid/limits"
	kill "$pid"
	assert_output --regexp '^Max core file size +0 +0 +bytes'
}

# Honest tests: bats runs a test under set -e, which ignores a negated status, so '! cmd'
# on its own line in a test (or in a loop, or a branch) passes whatever cmd does. About 70
# checks had crept in; refute, or '! pipeline || false', can fail. ('! a || b' is live: b,
# the last command of the list, fails the test. The last line of a function would count
# too, but one rule is simpler to keep.)
@test "shared: no test asserts with a bare '! cmd', which bats would never fail" {
	run bash -c "grep -nE '^[[:space:]]*! |(then|else|do|;)[[:space:]]+! ' \"\$1\"/tests/*.bats |
		grep -vE '(if|while|until|elif) ! ' | grep -v '|| '" _ "$TOP"
	assert_output ""
}
