#!/usr/bin/env python3
"""pyemail.py — an independent view of a MIME message through Python's `email` package, for
the mime-pack/mime-unpack tests.

  pyemail.py tree FILE          one line per part: depth, content type, filename, charset,
                                decoded length and sha256 of the decoded payload (leaves)
  pyemail.py header FILE NAME   the decoded value of header NAME (RFC 2047 decoded)
  pyemail.py save FILE DIR      write each leaf's decoded payload to DIR/<n> (n = 1, 2, ...)
  pyemail.py text FILE N        the Nth leaf decoded as text (its charset) to stdout, as UTF-8
  pyemail.py defects FILE       every defect Python found, one per line (nothing if clean)
"""
import hashlib
import os
import sys
from email import policy
from email.parser import BytesParser


def load(path):
    with open(path, "rb") as f:
        return BytesParser(policy=policy.default).parse(f)


def leaves(msg):
    out = []

    def walk(p, depth):
        if p.is_multipart():
            out.append((depth, p, None))
            for sub in p.get_payload():
                walk(sub, depth + 1)
        else:
            out.append((depth, p, p.get_payload(decode=True) or b""))
    walk(msg, 0)
    return out


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    msg = load(path)
    if cmd == "tree":
        for depth, p, data in leaves(msg):
            if data is None:
                print(f"{depth}\t{p.get_content_type()}")
                continue
            name = p.get_filename() or "-"
            cs = p.get_content_charset() or "-"
            print(f"{depth}\t{p.get_content_type()}\t{name}\t{cs}\t{len(data)}\t"
                  f"{hashlib.sha256(data).hexdigest()}")
    elif cmd == "header":
        v = msg[sys.argv[3]]
        print("" if v is None else str(v))
    elif cmd == "save":
        d, n = sys.argv[3], 0
        for _, p, data in leaves(msg):
            if data is None:
                continue
            n += 1
            with open(os.path.join(d, str(n)), "wb") as f:
                f.write(data)
    elif cmd == "text":
        want, n = int(sys.argv[3]), 0
        for _, p, data in leaves(msg):
            if data is None:
                continue
            n += 1
            if n == want:
                sys.stdout.write(p.get_content())
    elif cmd == "defects":
        for part in msg.walk():
            for d in part.defects:
                print(type(d).__name__)
    else:
        sys.exit("unknown command " + cmd)


main()
