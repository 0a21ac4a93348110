#!/usr/bin/env python3
"""pertime.py RUNS CMD_A CMD_B — per-process time of two short commands, run in turn
(A, B, A, B, ...) after 10 warm-up runs each, without a shell: each CMD is split like a shell
word list and may end in "< FILE" for its standard input; output goes to /dev/null. Prints
the median wall times of A and B, then their median CPU times (user + system, from wait4),
in seconds. For commands too short for hyperfine's shell correction; the CPU times matter on
a shared machine, where a short process's wall time is mostly waiting for a CPU."""
import os
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
        p = subprocess.Popen(argv, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        t1 = time.perf_counter()
        p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("pertime: %s exited %d" % (" ".join(argv), p.returncode))
    return t1 - t0, ru.ru_utime + ru.ru_stime


runs = int(sys.argv[1])
cmds = [parse(c) for c in sys.argv[2:4]]
for _ in range(10):
    for argv, stdin in cmds:
        once(argv, stdin)
wall, cpu = [[], []], [[], []]
for _ in range(runs):
    for k, (argv, stdin) in enumerate(cmds):
        w, c = once(argv, stdin)
        wall[k].append(w)
        cpu[k].append(c)
print(statistics.median(wall[0]), statistics.median(wall[1]),
      statistics.median(cpu[0]), statistics.median(cpu[1]))
