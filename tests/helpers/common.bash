# Shared bats setup: binaries on PATH, bats-assert, a private temp dir per test.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

export PATH="$SECMAIL_BIN:$PATH"
export LC_ALL=C.UTF-8
TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
# Keys and password files must not be readable by others (the tools refuse them), as a careful
# user's would be: create everything private.
umask 077

common_setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/secmail-test.XXXXXX")
	export TMPDIR=$T
	# Tools default to stores and queues under these: never the tester's own.
	export XDG_DATA_HOME=$T/xdg-data XDG_STATE_HOME=$T/xdg-state XDG_CACHE_HOME=$T/xdg-cache
	# ... and configuration: never the tester's ~/.config/secmail.
	export XDG_CONFIG_HOME=$T/xdg-config
}

common_teardown() {
	[ -n "${T:-}" ] && rm -rf "$T"
}

# Peak resident set size (KiB) of a command: peak_rss CMD... (stdin/stdout as given).
peak_rss() {
	local f
	f=$(mktemp)
	/usr/bin/time -f '%M' -o "$f" "$@"
	local rc=$?
	cat "$f" >&3
	rm -f "$f"
	return $rc
}
