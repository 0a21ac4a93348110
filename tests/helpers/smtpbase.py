"""smtpbase.py — what the test SMTP servers (smtp-fault.py, smtp-script.py) share: a line
reader over a socket, the transcript, how an accepted message is stored, and the listening
loop that publishes the port.

    D/transcript   every command line received, one per line, CRLF removed
    D/msg.N        message N's data, dot-unstuffed, CRLF as received
    D/env.N        "from X" and "rcpt Y" lines
    D/raw.N        (when given) the raw bytes of the DATA phase as they came off the wire
"""
import os
import socket
import ssl
import threading

lock = threading.Lock()


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def send(self, text):
        self.s.sendall(text.encode() if isinstance(text, str) else text)

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l + b"\n"

    def starttls(self, context):
        """Wrap the socket (after our 220 to STARTTLS); what was read ahead in clear is
        dropped, as RFC 3207 section 4.2 requires of a server."""
        self.s = context.wrap_socket(self.s, server_side=True)
        self.buf = b""


def log(dirname, line):
    with lock, open(os.path.join(dirname, "transcript"), "ab") as f:
        f.write(line + b"\n")


def store(dirname, n, body, mail, rcpts, raw=None):
    with open(os.path.join(dirname, "msg.%d" % n), "wb") as f:
        f.write(b"".join(body))
    if raw is not None:
        with open(os.path.join(dirname, "raw.%d" % n), "wb") as f:
            f.write(b"".join(raw))
    with open(os.path.join(dirname, "env.%d" % n), "w") as f:
        f.write("from %s\n" % mail + "".join("rcpt %s\n" % r for r in rcpts))


def serve_forever(port, port_file, serve):
    """Listen on 127.0.0.1:port (0: a free one), write the port to port_file atomically,
    and run serve(sock) for each connection in its own thread until killed."""
    def handle(sock):
        try:
            serve(sock)
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, port_file)
    while True:
        s, _ = srv.accept()
        threading.Thread(target=handle, args=(s,), daemon=True).start()
