#!/usr/bin/env python3
"""smtp-script.py — a hostile SMTP server for mailsend's review tests: it answers like a
plain server except where told otherwise, per transaction.

    smtp-script.py --port-file F --dir D [--cert C --key K] [options]

Listens on 127.0.0.1 (a free port, written to F). Each message the server accepts (250 after
the data) is stored as D/msg.N (dot-unstuffed, CRLF as received) with D/env.N ("from X" and
"rcpt Y" lines); every command line received goes to D/transcript. Options:
  --rcpt-limit N        452 4.5.3 for recipients past N in one transaction
  --data-reply K=TEXT   answer the K-th DATA command of the run (1-based) with TEXT, not 354
  --end-reply K=TEXT    answer the end of the K-th message's data with TEXT, not 250
  --ehlo-lines L1|L2..  the EHLO reply as these lines (CRLF added), instead of the usual one
  --starttls-inject T   after "220 go ahead" to STARTTLS, send T too in the same write
                        ("\\r\\n" written as such is turned into CRLF), before TLS starts
  --oauth-token T       offer AUTH XOAUTH2 (after STARTTLS) and accept bearer token T only,
                        with the response on the AUTH line or after an empty 334 (RFC 4954
                        section 4); the way it came is logged ("auth-form: ...")
  --refuse PREFIX       550 5.1.1 for recipients whose address starts with PREFIX
  --stall-bounce-once   the first MAIL FROM:<> of the run gets no reply, ever (the
                        client is stuck in sending a bounce)
Strict on lengths as RFC 5321 4.5.3.1.4 and RFC 4954 section 4 allow: a command line over
512 octets with its CRLF is answered 500 5.5.2; a SASL response line may have 12288.
"""
import argparse
import ssl
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import smtpbase  # noqa: E402 (after the line above)
from smtpbase import Conn

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--rcpt-limit", type=int, default=0)
ap.add_argument("--data-reply", action="append", default=[])
ap.add_argument("--end-reply", action="append", default=[])
ap.add_argument("--ehlo-lines")
ap.add_argument("--starttls-inject")
ap.add_argument("--oauth-token")
ap.add_argument("--refuse")
ap.add_argument("--stall-bounce-once", action="store_true")
args = ap.parse_args()


def by_index(items):
    out = {}
    for it in items:
        k, v = it.split("=", 1)
        out[int(k)] = v
    return out


data_reply = by_index(args.data_reply)
end_reply = by_index(args.end_reply)
lock = smtpbase.lock
count = {"data": 0, "end": 0, "msg": 0, "bounce": 0}


def log(line):
    smtpbase.log(args.dir, line)


def bump(key):
    with lock:
        count[key] += 1
        return count[key]


def serve(sock):
    c = Conn(sock)
    c.send("220 script.example ESMTP\r\n")
    tls = False
    mail, rcpts = None, []
    while True:
        l = c.line()
        log(l.rstrip(b"\r\n"))
        cmd = l.decode("utf-8", "replace").strip()
        up = cmd.upper()
        if len(l) > 512:
            c.send("500 5.5.2 line too long\r\n")
            continue
        if up.startswith("EHLO"):
            if args.ehlo_lines is not None:
                c.send("".join(x + "\r\n" for x in args.ehlo_lines.split("|")))
                continue
            ext = ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE 100000000"]
            if args.cert and not tls:
                ext.append("STARTTLS")
            if args.oauth_token and tls:
                ext.append("AUTH XOAUTH2")
            c.send("250-script.example\r\n" + "".join("250-%s\r\n" % e for e in ext[:-1]) +
                   "250 %s\r\n" % ext[-1])
        elif up.startswith("HELO"):
            c.send("250 script.example\r\n")
        elif up == "STARTTLS" and args.cert:
            extra = (args.starttls_inject or "").replace("\\r\\n", "\r\n")
            c.send("220 2.0.0 go ahead\r\n" + extra)
            cx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cx.load_cert_chain(args.cert, args.key)
            c.starttls(cx)
            tls = True
        elif up.startswith("AUTH XOAUTH2") and args.oauth_token:
            import base64
            parts = cmd.split(" ")
            if len(parts) == 3:
                resp, form = parts[2], "initial"
            else:
                c.send("334 \r\n")
                r = c.line()
                if len(r) > 12288:
                    c.send("500 5.5.6 response too long\r\n")
                    continue
                resp, form = r.decode().strip(), "after-334"
            log(("auth-form: %s %d" % (form, len(resp))).encode())
            kv = dict(p.split("=", 1) for p in base64.b64decode(resp).decode().split("\x01") if p)
            if kv.get("auth") == "Bearer " + args.oauth_token:
                log(b"auth: oauth ok")
                c.send("235 2.7.0 ok\r\n")
            else:
                c.send("535 5.7.8 token refused\r\n")
        elif up.startswith("MAIL FROM:"):
            if args.stall_bounce_once and up.startswith("MAIL FROM:<>") and bump("bounce") == 1:
                time.sleep(3600)
            mail, rcpts = cmd[10:], []
            c.send("250 2.1.0 ok\r\n")
        elif up.startswith("RCPT TO:"):
            if mail is None:
                c.send("503 5.5.1 need MAIL\r\n")
            elif args.refuse and cmd[8:].strip().startswith("<" + args.refuse):
                c.send("550 5.1.1 no such user\r\n")
            elif args.rcpt_limit and len(rcpts) >= args.rcpt_limit:
                c.send("452 4.5.3 too many recipients\r\n")
            else:
                rcpts.append(cmd[8:].strip())
                c.send("250 2.1.5 ok\r\n")
        elif up == "DATA":
            k = bump("data")
            if mail is None or not rcpts:
                c.send("554 5.5.1 no valid recipients\r\n")
                continue
            if k in data_reply:
                c.send(data_reply[k] + "\r\n")
                if data_reply[k].startswith("354"):
                    pass
                else:
                    mail = None
                    continue
            else:
                c.send("354 go ahead\r\n")
            body = []
            while True:
                l = c.line()
                if l == b".\r\n":
                    break
                body.append(l[1:] if l.startswith(b".") else l)
            k = bump("end")
            if k in end_reply:
                c.send(end_reply[k] + "\r\n")
            else:
                n = bump("msg")
                smtpbase.store(args.dir, n, body, mail, rcpts)
                c.send("250 2.0.0 queued as SCRIPT%d\r\n" % n)
            mail = None
        elif up == "RSET":
            mail = None
            c.send("250 2.0.0 ok\r\n")
        elif up == "QUIT":
            c.send("221 2.0.0 bye\r\n")
            return
        elif up == "NOOP":
            c.send("250 2.0.0 ok\r\n")
        else:
            c.send("500 5.5.2 what?\r\n")


smtpbase.serve_forever(0, args.port_file, serve)
