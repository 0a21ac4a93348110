#!/usr/bin/env python3
"""syslog-sink.py SOCKET OUT — receive syslog(3) datagrams on the Unix socket SOCKET and
append each, one per line, to OUT; writes OUT.ready once listening."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(out + ".ready", "w").close()
while True:
    d = s.recv(65536)
    with open(out, "ab") as f:
        f.write(d.rstrip(b"\0\n") + b"\n")
