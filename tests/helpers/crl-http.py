#!/usr/bin/env python3
"""tests/helpers/crl-http.py DIR PORTFILE LOG - a small HTTP server on 127.0.0.1 for the
revocation tests (tests/revoke-*.bats).

  GET /NAME             DIR/NAME as application/pkix-crl, 404 when there is none
  GET /hang/...         read the request, then never answer (a fetch that times out)
  POST /hang/...        the same for an OCSP request
  GET /status/CODE/...  answer with status CODE and an empty body
  POST /ocsp/NAME       DIR/NAME as application/ocsp-response, whatever was asked (OCSP
                        answers made ahead, as responders that pre-produce them send)

Every request line is appended to LOG as it arrives, so tests can count fetches. The port,
chosen by the kernel, is written to PORTFILE once the server listens."""
import http.server
import os
import sys
import time

root, portfile, logfile = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        with open(logfile, "a") as f:
            f.write("GET %s\n" % self.path)
        parts = self.path.split("/")
        if len(parts) > 1 and parts[1] == "hang":
            time.sleep(120)
            return
        if len(parts) > 2 and parts[1] == "status":
            self.send_response(int(parts[2]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        name = os.path.basename(self.path)
        path = os.path.join(root, name)
        if not name or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-crl")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n > 0:
            self.rfile.read(min(n, 65536))
        with open(logfile, "a") as f:
            f.write("POST %s\n" % self.path)
        parts = self.path.split("/")
        if len(parts) > 1 and parts[1] == "hang":
            time.sleep(120)
            return
        path = os.path.join(root, os.path.basename(self.path))
        if len(parts) != 3 or parts[1] != "ocsp" or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(tmp, portfile)
srv.serve_forever()
