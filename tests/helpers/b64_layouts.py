#!/usr/bin/env python3
"""b64_layouts.py — base64 text of random bytes in hostile layouts, for the linear-time tests.

usage: b64_layouts.py LAYOUT MIB RAW_OUT B64_OUT

Writes MIB MiB of random bytes to RAW_OUT and their base64 (Python's own encoder, as a
cross-check) to B64_OUT, laid out as LAYOUT:
  quad-spaces   three spaces after every quad (white space between quads)
  char-spaces   a space after every character (white space inside every quad)
  mixed         tabs, CR, LF, VT, FF and spaces in random runs between random characters
  long-runs     a run of 1 MiB of spaces after every 64 KiB of base64
  lines-75      lines of 75 characters (a line break inside every 19th quad)
"""
import base64
import random
import sys

layout, mib, raw_out, b64_out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
rng = random.Random(20261130)
raw = rng.randbytes(int(mib * 1048576))
text = base64.b64encode(raw)

if layout == "quad-spaces":
    out = b"   ".join(text[i:i + 4] for i in range(0, len(text), 4))
elif layout == "char-spaces":
    out = bytearray(len(text) * 2)
    out[0::2] = text
    out[1::2] = b" " * len(text)
    out = bytes(out)
elif layout == "mixed":
    ws = b" \t\r\n\v\f"
    parts, i = [], 0
    while i < len(text):
        k = rng.randint(1, 9)
        parts.append(text[i:i + k])
        parts.append(bytes(rng.choice(ws) for _ in range(rng.randint(1, 5))))
        i += k
    out = b"".join(parts)
elif layout == "long-runs":
    run = b" " * 1048576
    out = run.join(text[i:i + 65536] for i in range(0, len(text), 65536))
elif layout == "lines-75":
    out = b"\n".join(text[i:i + 75] for i in range(0, len(text), 75)) + b"\n"
else:
    sys.exit("unknown layout: " + layout)

with open(raw_out, "wb") as f:
    f.write(raw)
with open(b64_out, "wb") as f:
    f.write(out)
