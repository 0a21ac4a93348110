# bench/lib.sh — shared timing for the benchmark scripts (sourced).
# compare CMD_A CMD_B: time both in one hyperfine run (RUNS runs each after warm-up), set
# MED_A and MED_B to the median wall times in seconds. Commands are run without a shell
# wrapper where possible, so start-up costs are the programs' own. compare_sh does the same
# through the shell (for redirections; the shell's own start-up is subtracted by hyperfine),
# with an optional PREPARE command run before each timing run.
# row WORK ANCHOR MED_A MED_B TARGET RSS_A RSS_B: one line of the summary table `make bench`
# prints (bench/run), appended to $BENCH_TABLE when set and echoed. The ratio is anchor time
# / our time (above 1: we are faster); TARGET is the least ratio the issue asks for, or "-".
RUNS=${RUNS:-9}

compare() {
	local json
	json=$(mktemp)
	hyperfine -N -w 2 -r "$RUNS" --output=null --export-json "$json" -- "$1" "$2" >/dev/null 2>&1 \
		|| hyperfine -w 2 -r "$RUNS" --output=null --export-json "$json" -- "$1" "$2" >/dev/null \
		|| { rm -f "$json"; echo "bench: hyperfine failed on: $1 / $2" >&2; return 1; }
	read -r MED_A MED_B < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["median"], r[1]["median"])' "$json")
	rm -f "$json"
}

compare_sh() {
	local json prep=()
	json=$(mktemp)
	[ -n "${3:-}" ] && prep=(--prepare "$3")
	hyperfine -w 2 -r "$RUNS" "${prep[@]}" --output=null --export-json "$json" -- "$1" "$2" >/dev/null \
		|| { rm -f "$json"; echo "bench: hyperfine failed on: $1 / $2" >&2; return 1; }
	read -r MED_A MED_B < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["median"], r[1]["median"])' "$json")
	rm -f "$json"
}

# compare_proc CMD_A CMD_B: per-process medians for short commands (bench/pertime.py: no shell,
# "< FILE" allowed at the end), RUNS runs each, interleaved: wall times in MED_A/MED_B, CPU
# times (user + system) in CPU_A/CPU_B.
compare_proc() {
	read -r MED_A MED_B CPU_A CPU_B < <(python3 "$(dirname "${BASH_SOURCE[0]}")/pertime.py" "$RUNS" "$1" "$2") \
		|| { echo "bench: timing failed on: $1 / $2" >&2; return 1; }
}

ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

# Peak resident set size in KiB of a shell command line (its output discarded).
rss() {
	local f
	f=$(mktemp)
	/usr/bin/time -f %M -o "$f" sh -c "$1 >/dev/null 2>&1" || { rm -f "$f"; echo "?"; return 0; }
	tail -1 "$f"
	rm -f "$f"
}

# awk: a time in seconds as the table shows it, in ms below 0.1 s (per-process rows).
BENCH_SECS='function secs(t) { return t < 0.1 ? sprintf("%.3fms", t * 1000) : sprintf("%.3fs", t) }'

row() {
	local line
	line=$(python3 - "$@" <<'PY'
import sys
work, anchor, a, b, target, ra, rb = sys.argv[1:8]
r = float(a) / float(b)
verdict = "" if target == "-" else ("ok" if r >= float(target) else "MISSED")
tgt = "-" if target == "-" else ">=%s" % target
print("%s\t%s\t%.6g\t%.6g\t%.2f\t%s\t%s\t%s\t%s" % (work, anchor, float(a), float(b), r, tgt, verdict, ra, rb))
PY
)
	[ -n "${BENCH_TABLE:-}" ] && printf '%s\n' "$line" >>"$BENCH_TABLE"
	printf '%s\n' "$line" | awk -F'\t' "$BENCH_SECS"'{ printf "%-46s %-28s %9s %9s %6sx %7s %-6s\n", $1, $2, secs($3), secs($4), $5, $6, $7 }'
}

# A row that is not measured (yet), with the reason.
row_note() {
	[ -n "${BENCH_TABLE:-}" ] && printf 'NOTE\t%s\t%s\n' "$1" "$2" >>"$BENCH_TABLE"
	printf '%-46s %s\n' "$1" "$2"
}
