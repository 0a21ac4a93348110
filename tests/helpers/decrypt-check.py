#!/usr/bin/env python3
"""decrypt-check.py — an independent look, through Python's email package, at what
smime-decrypt wrote.

  decrypt-check.py record FILE      the Secmail-Decryption record, unfolded and with runs of
                                    white space made one space; it must be the first field
                                    (after an mbox "From " line) and the only one: exit 1 if not
  decrypt-check.py strip FILE       FILE without that first record field, byte for byte
  decrypt-check.py count FILE NAME  how many NAME fields the header has
  decrypt-check.py parse FILE       one line per leaf part: content type, then the decoded
                                    payload's first line; exit 1 when Python finds a defect in
                                    the structure of the message (a header without its
                                    separator, a broken multipart)
"""
import re
import sys
from email import policy
from email.parser import BytesParser

FIELD = b"secmail-decryption"


def split(data):
    """(mbox line, list of raw fields, rest) of a message."""
    mbox = b""
    if data.startswith(b"From "):
        end = data.index(b"\n") + 1
        mbox, data = data[:end], data[end:]
    fields, pos = [], 0
    while pos < len(data) and data[pos:pos + 1] not in (b"\n", b"\r"):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end + 1
        if data[pos:pos + 1] in (b" ", b"\t") and fields:
            fields[-1] += data[pos:end]
        else:
            fields.append(data[pos:end])
        pos = end
    return mbox, fields, data[pos:]


def name(f):
    return f.split(b":", 1)[0].strip().lower()


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    data = open(path, "rb").read()
    mbox, fields, rest = split(data)
    if cmd in ("record", "strip"):
        if not fields or name(fields[0]) != FIELD:
            sys.exit("no Secmail-Decryption record first")
        if sum(1 for f in fields if name(f) == FIELD) != 1:
            sys.exit("more than one Secmail-Decryption field")
        if cmd == "strip":
            sys.stdout.buffer.write(mbox + b"".join(fields[1:]) + rest)
            return
        msg = BytesParser(policy=policy.compat32).parsebytes(data)
        print(" ".join(str(msg[FIELD.decode()]).split()))
    elif cmd == "count":
        print(sum(1 for f in fields if name(f) == sys.argv[3].lower().encode()))
    elif cmd == "parse":
        msg = BytesParser(policy=policy.default).parsebytes(data)
        bad = [d for p in msg.walk() for d in p.defects
               if type(d).__name__ in ("MissingHeaderBodySeparatorDefect",
                                       "StartBoundaryNotFoundDefect",
                                       "CloseBoundaryNotFoundDefect",
                                       "MultipartInvariantViolationDefect",
                                       "InvalidHeaderDefect")]
        for p in msg.walk():
            if p.is_multipart():
                continue
            body = p.get_payload(decode=True) or b""
            first = body.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
            print(p.get_content_type(), first)
        if bad:
            sys.exit("defects: " + ", ".join(type(d).__name__ for d in bad))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
