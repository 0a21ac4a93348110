# bench/lib.sh — shared timing for the benchmark scripts (sourced).
# compare CMD_A CMD_B: time both in one hyperfine run (RUNS runs each after warm-up), set
# MED_A and MED_B to the median wall times in seconds. Commands are run without a shell
# wrapper where possible, so start-up costs are the programs' own.
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

ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
