#!/usr/bin/env python3
"""pertime.py RUNS CMD_A CMD_B — per-process wall time of two short commands, run in turn
(A, B, A, B, ...) after 10 warm-up runs each, without a shell: each CMD is split like a shell
word list and may end in "< FILE" for its standard input; output goes to /dev/null. Prints
the two medians in seconds. For commands too short for hyperfine's shell correction."""
import shlex
import statistics
import subprocess
import sys
import time


def parse(cmd):
    words = shlex.split(cmd)
    stdin = None
    if len(words) >= 2 and words[-2] == "<":
        stdin, words = words[-1], words[:-2]
    return words, stdin


def once(argv, stdin):
    with open(stdin or "/dev/null", "rb") as f:
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t1 = time.perf_counter()
    if r.returncode != 0:
        sys.exit("pertime: %s exited %d" % (" ".join(argv), r.returncode))
    return t1 - t0


runs = int(sys.argv[1])
cmds = [parse(c) for c in sys.argv[2:4]]
for _ in range(10):
    for argv, stdin in cmds:
        once(argv, stdin)
times = [[], []]
for _ in range(runs):
    for k, (argv, stdin) in enumerate(cmds):
        times[k].append(once(argv, stdin))
print(statistics.median(times[0]), statistics.median(times[1]))
