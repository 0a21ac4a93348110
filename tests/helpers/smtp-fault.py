#!/usr/bin/env python3
"""smtp-fault.py — an SMTP server for tests that misbehaves on demand.

    smtp-fault.py --port-file F --dir D [--port P] [--mode M ...] [--cert C --key K] [--implicit]

Listens on 127.0.0.1 (port P, else a free port; written to F), serves connections until killed, and
stores each accepted message as D/msg.N (the DATA bytes, dot-unstuffed, CRLF as received)
with its envelope in D/env.N ("from X" / "rcpt Y" lines plus the MAIL parameters). Every
command line received is appended to D/transcript. Modes (combinable):
  greeting-4xx greeting-5xx  ehlo-5xx (EHLO refused, HELO accepted)  mail-4xx mail-5xx
  rcpt-4xx rcpt-5xx (every recipient)  rcpt-bad (refuse recipients starting with "bad", 550 5.1.1;
  "later" ones 450 4.2.1)  data-4xx data-5xx  end-4xx end-5xx  drop-data (close mid-DATA)
  stall (never greet)  stall-data (stop answering after DATA's 354)  no-starttls
  long-greeting (a 600-octet greeting line)  huge-greeting (10000 octets, no line end)
  garbage (replies that are not SMTP)  size-100 (SIZE 100)  no-8bitmime  no-pipelining
  no-dsn  auth-fail (535)  fail-first (4xx at MAIL for the first connection only)
  scram-no-final (SCRAM: 235 at once after the client's proof, no server signature)
  scram-bad-binding (SCRAM-PLUS: compute the binding over the wrong bytes)
Authentication, each written from its specification (hashlib, hmac, base64, ssl):
  --scram-pass P     AUTH SCRAM-SHA-256 (RFC 5802, RFC 7677) for password P, any user
  --scram-plus       also SCRAM-SHA-256-PLUS: the tls-exporter binding (RFC 9266) computed
                     here from the TLS 1.3 exporter secret (RFC 8446 section 7.5), which the
                     server's key log (D/keylog) gives
  --oauth-token T    AUTH XOAUTH2 and OAUTHBEARER (RFC 7628) accepting bearer token T only;
                     a wrong token gets the JSON error challenge and then 535
  --client-ca F      ask for a client certificate (verified against F) and offer AUTH
                     EXTERNAL, which succeeds when one was presented
The raw bytes of each DATA phase, from after the 354 reply up to and including the
"<CR><LF>.<CR><LF>" that ended it, are kept in D/raw.N as they came off the wire.
"""
import argparse
import os
import ssl
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import smtpbase  # noqa: E402 (after the line above)
from smtpbase import Conn

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--mode", action="append", default=[])
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--implicit", action="store_true")
ap.add_argument("--scram-pass", help="offer AUTH SCRAM-SHA-256 for this password (any user)")
ap.add_argument("--scram-plus", action="store_true")
ap.add_argument("--oauth-token")
ap.add_argument("--client-ca")
ap.add_argument("--rcpt-limit", type=int, default=0,
                help="452 4.5.3 for recipients past this many in one transaction")
args = ap.parse_args()
modes = set(m for s in args.mode for m in s.split(","))
lock = smtpbase.lock
counter = [0, 0]  # messages, connections


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(args.cert, args.key)
    c.keylog_filename = os.path.join(args.dir, "keylog")
    if args.client_ca:
        c.verify_mode = ssl.CERT_OPTIONAL
        c.load_verify_locations(args.client_ca)
    return c


def hkdf_expand_label(h, secret, label, context, length):
    """RFC 8446 section 7.1, with HKDF-Expand of RFC 5869 section 2.3."""
    import hmac
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(secret, t + info + bytes([i]), h).digest()
        out += t
        i += 1
    return out[:length]


def tls_exporter(sock):
    """RFC 9266 tls-exporter: TLS-Exporter("EXPORTER-Channel-Binding", "", 32), RFC 8446
    section 7.5, from the exporter_master_secret in the key log."""
    import hashlib
    if sock.version() != "TLSv1.3":
        raise ValueError("tls-exporter here needs TLS 1.3")
    h = "sha384" if sock.cipher()[0].endswith("SHA384") else "sha256"
    secret = None
    with open(os.path.join(args.dir, "keylog")) as f:
        for line in f:
            if line.startswith("EXPORTER_SECRET "):
                secret = bytes.fromhex(line.split()[2])
    empty = hashlib.new(h, b"").digest()
    derived = hkdf_expand_label(h, secret, b"EXPORTER-Channel-Binding", empty, len(empty))
    return hkdf_expand_label(h, derived, b"exporter", empty, 32)


def log(line):
    smtpbase.log(args.dir, line)


def scram(c, plus=False):
    """RFC 5802/7677 server side, written from the RFC with hashlib and hmac."""
    import base64, hashlib, hmac
    first = base64.b64decode(c.line().strip()).decode()
    log(b"scram-client-first: " + first.encode())
    if plus:
        assert first.startswith("p=tls-exporter,,"), first
        gs2 = "p=tls-exporter,,"
        binding = tls_exporter(c.s)
        if "scram-bad-binding" in modes:
            binding = bytes(32)
        log(b"scram-binding: " + binding.hex().encode())
    else:
        assert first.startswith("n,,")
        gs2, binding = "n,,", b""
    bare = first[len(gs2):]
    attrs = dict(kv.split("=", 1) for kv in bare.split(","))
    salt, it = b"fault-salt-1234", 4096
    rnonce = attrs["r"] + "SERVERNONCE"
    sfirst = "r=%s,s=%s,i=%d" % (rnonce, base64.b64encode(salt).decode(), it)
    c.send("334 " + base64.b64encode(sfirst.encode()).decode() + "\r\n")
    final = base64.b64decode(c.line().strip()).decode()
    log(b"scram-client-final: " + final.encode())
    without_proof, proof = final.rsplit(",p=", 1)
    authmsg = ",".join([bare, sfirst, without_proof]).encode()
    salted = hashlib.pbkdf2_hmac("sha256", args.scram_pass.encode(), salt, it)
    ckey = hmac.new(salted, b"Client Key", "sha256").digest()
    stored = hashlib.sha256(ckey).digest()
    csig = hmac.new(stored, authmsg, "sha256").digest()
    want = bytes(a ^ b for a, b in zip(ckey, csig))
    cbind = base64.b64encode(gs2.encode() + binding).decode()
    if without_proof != "c=" + cbind + ",r=" + rnonce or base64.b64decode(proof) != want:
        c.send("535 5.7.8 bad proof\r\n")
        return False
    skey = hmac.new(salted, b"Server Key", "sha256").digest()
    ssig = hmac.new(skey, authmsg, "sha256").digest()
    if "scram-bad-sig" in modes:
        ssig = bytes(32)
    if "scram-no-final" in modes:
        return True
    c.send("334 " + base64.b64encode(b"v=" + base64.b64encode(ssig)).decode() + "\r\n")
    if c.line().strip() != b"":
        return False
    return True


def serve(sock, n):
    if "stall" in modes:
        time.sleep(3600)
        return
    if args.implicit:
        sock = ctx().wrap_socket(sock, server_side=True)
    c = Conn(sock)
    if "greeting-4xx" in modes:
        c.send("421 4.3.2 try later\r\n")
        return
    if "greeting-5xx" in modes:
        c.send("554 5.3.2 go away\r\n")
        return
    if "huge-greeting" in modes:
        c.send("220 " + "x" * 10000)
        time.sleep(5)
        return
    if "long-greeting" in modes:
        c.send("220 fault.example " + "y" * 600 + "\r\n")
    elif "garbage" in modes:
        c.send("hello there, this is not SMTP\r\n")
        return
    else:
        c.send("220-fault.example ESMTP\r\n220 fault.example ready\r\n")
    tls = args.implicit
    mail = None
    rcpts = []
    while True:
        l = c.line()
        log(l.rstrip(b"\r\n"))
        cmd = l.decode("utf-8", "replace").strip()
        up = cmd.upper()
        if up.startswith("EHLO"):
            if "ehlo-5xx" in modes:
                c.send("502 5.5.1 no EHLO here\r\n")
                continue
            mechs = []
            if args.scram_pass and args.scram_plus and tls:
                mechs.append("SCRAM-SHA-256-PLUS")
            if args.scram_pass:
                mechs.append("SCRAM-SHA-256")
            if args.oauth_token:
                mechs += ["XOAUTH2", "OAUTHBEARER"]
            if args.client_ca and tls:
                mechs.append("EXTERNAL")
            mechs += ["PLAIN", "LOGIN"]
            ext = ["ENHANCEDSTATUSCODES", "AUTH " + " ".join(mechs), "SMTPUTF8"]
            if "no-pipelining" not in modes:
                ext.append("PIPELINING")
            if "no-8bitmime" not in modes:
                ext.append("8BITMIME")
            if "no-dsn" not in modes:
                ext.append("DSN")
            ext.append("SIZE 100" if "size-100" in modes else "SIZE 200000000")
            if args.cert and not tls and "no-starttls" not in modes:
                ext.append("STARTTLS")
            c.send("250-fault.example\r\n" + "".join("250-%s\r\n" % e for e in ext[:-1]) + "250 %s\r\n" % ext[-1])
        elif up.startswith("HELO"):
            c.send("250 fault.example\r\n")
        elif up == "STARTTLS":
            c.send("220 2.0.0 go ahead\r\n")
            c.starttls(ctx())
            tls = True
        elif up.startswith("AUTH"):
            if "auth-fail" in modes:
                if up == "AUTH LOGIN":
                    c.send("334 VXNlcm5hbWU6\r\n")
                    c.line()
                    c.send("334 UGFzc3dvcmQ6\r\n")
                    c.line()
                elif up == "AUTH PLAIN":
                    c.send("334 \r\n")
                    c.line()
                c.send("535 5.7.8 authentication failed\r\n")
                continue
            if up in ("AUTH SCRAM-SHA-256", "AUTH SCRAM-SHA-256-PLUS"):
                plus = up.endswith("-PLUS")
                c.send("334 \r\n")
                if not scram(c, plus):
                    continue
                c.send("235 2.7.0 ok\r\n")
                log(b"auth: scram-plus ok" if plus else b"auth: scram ok")
                continue
            if up.startswith("AUTH XOAUTH2 ") or up.startswith("AUTH OAUTHBEARER "):
                import base64, json
                mech, resp = cmd.split(" ", 2)[1:]
                raw = base64.b64decode(resp)
                log(b"auth-" + mech.lower().encode() + b": " + raw.replace(b"\x01", b"^A"))
                if mech.upper() == "XOAUTH2":
                    kv = dict(p.split("=", 1) for p in raw.decode().split("\x01") if p)
                    ok = kv.get("auth") == "Bearer " + args.oauth_token and "user" in kv
                else:
                    gs2, _, rest = raw.decode().partition("\x01")
                    kv = dict(p.split("=", 1) for p in rest.split("\x01") if p)
                    ok = (gs2.startswith("n,a=") and gs2.endswith(",") and "host" in kv and
                          "port" in kv and kv.get("auth") == "Bearer " + args.oauth_token and
                          rest.endswith("\x01\x01"))
                if ok:
                    c.send("235 2.7.0 ok\r\n")
                    log(b"auth: oauth ok")
                else:
                    err = base64.b64encode(json.dumps({"status": "invalid_token", "scope": "mail"}).encode())
                    c.send(b"334 " + err + b"\r\n")
                    log(b"auth-oauth-answer: " + c.line().rstrip(b"\r\n"))
                    c.send("535 5.7.8 token refused\r\n")
                continue
            if up in ("AUTH EXTERNAL =", "AUTH EXTERNAL"):
                peer = c.s.getpeercert() if tls and hasattr(c.s, "getpeercert") else None
                if peer:
                    cn = dict(x[0] for x in peer["subject"]).get("commonName", "")
                    log(b"auth: external " + cn.encode())
                    c.send("235 2.7.0 ok\r\n")
                else:
                    c.send("535 5.7.1 no client certificate\r\n")
                continue
            if up == "AUTH PLAIN":
                c.send("334 \r\n")
                log(b"auth: " + c.line().rstrip(b"\r\n"))
            elif up == "AUTH LOGIN":
                c.send("334 VXNlcm5hbWU6\r\n")
                log(b"auth-user: " + c.line().rstrip(b"\r\n"))
                c.send("334 UGFzc3dvcmQ6\r\n")
                log(b"auth-pass: " + c.line().rstrip(b"\r\n"))
            c.send("235 2.7.0 ok\r\n")
        elif up.startswith("MAIL FROM:"):
            if "mail-4xx" in modes or ("fail-first" in modes and n == 1):
                c.send("451 4.3.0 mail later\r\n")
            elif "mail-5xx" in modes:
                c.send("550 5.7.1 sender refused\r\n")
            else:
                mail = cmd[10:]
                rcpts = []
                c.send("250 2.1.0 ok\r\n")
        elif up.startswith("RCPT TO:"):
            a = cmd[8:].strip()
            if mail is None:
                c.send("503 5.5.1 need MAIL\r\n")
            elif args.rcpt_limit and len(rcpts) >= args.rcpt_limit:
                c.send("452 4.5.3 too many recipients\r\n")
            elif "rcpt-4xx" in modes:
                c.send("450 4.2.0 mailbox busy\r\n")
            elif "rcpt-5xx" in modes or ("rcpt-bad" in modes and a.startswith("<bad")):
                c.send("550 5.1.1 no such user\r\n")
            elif "rcpt-bad" in modes and a.startswith("<later"):
                c.send("450 4.2.1 try later\r\n")
            else:
                rcpts.append(a)
                c.send("250 2.1.5 ok\r\n")
        elif up == "DATA":
            if mail is None or not rcpts:
                c.send("554 5.5.1 no valid recipients\r\n")
                continue
            if "data-4xx" in modes:
                c.send("451 4.3.0 data later\r\n")
                continue
            if "data-5xx" in modes:
                c.send("554 5.6.0 no data\r\n")
                continue
            c.send("354 go ahead\r\n")
            if "stall-data" in modes:
                time.sleep(3600)
            body = []
            raw = []
            n = 0
            while True:
                l = c.line()
                raw.append(l)
                # RFC 5321 §4.1.1.4: the data ends at CRLF "." CRLF and nowhere else
                if l == b".\r\n":
                    break
                if "drop-data" in modes and n > 10:
                    c.s.close()
                    return
                if l.startswith(b"."):
                    l = l[1:]
                body.append(l)
                n += len(l)
            if "end-4xx" in modes:
                c.send("452 4.3.1 out of space\r\n")
            elif "end-5xx" in modes:
                c.send("554 5.6.0 content refused\r\n")
            else:
                with lock:
                    counter[0] += 1
                    k = counter[0]
                smtpbase.store(args.dir, k, body, mail, rcpts, raw)
                c.send("250 2.0.0 queued as FAULT%d\r\n" % k)
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


def handle(sock):
    with lock:
        counter[1] += 1
        n = counter[1]
    serve(sock, n)


smtpbase.serve_forever(args.port, args.port_file, handle)
