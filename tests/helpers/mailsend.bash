# Shared setup for the mailsend suites: a test PKI, fault servers, messages.

FAULT_PIDS=()

# start_fault DIR [--mode M]... [--implicit] [--cert NAME] [--port P]: a fault server (on
# port P, or $FAULT_PORT when set, else a free one); sets FPORT.
start_fault() {
	local d=$1 cert=server
	shift
	local a=()
	while [ $# -gt 0 ]; do
		case $1 in
		--cert) cert=$2; shift 2 ;;
		*) a+=("$1"); shift ;;
		esac
	done
	mkdir -p "$d"
	rm -f "$d/port"
	[ -n "${FAULT_PORT:-}" ] && a+=(--port "$FAULT_PORT")
	python3 "$TOP/tests/helpers/smtp-fault.py" --port-file "$d/port" --dir "$d" \
		--cert "$PKI/$cert.pem" --key "$PKI/$cert.key" "${a[@]}" 2>"$d/server.err" &
	FAULT_PIDS+=($!)
	local i
	for i in $(seq 100); do
		[ -s "$d/port" ] && break
		sleep 0.05
	done
	FPORT=$(cat "$d/port")
}

stop_faults() {
	local p
	for p in "${FAULT_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	FAULT_PIDS=()
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A small message to stdin of mailsend.
msg() {
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: %s\n\nHello.\n' "${1:-test}"
}
