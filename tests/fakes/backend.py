"""A test backend (Python standard library only) for the proxy tests.

Run as `python3 backend.py`; it binds 127.0.0.1 on a free port and prints
`listening PORT` on stdout once it accepts connections.

Paths:
  /echo...          JSON with method, path, headers, body length, sha256 and
                    (up to 64 KiB) the body itself
  /stream?size=N    N bytes of a repeating pattern; &chunked=1 for chunked
                    framing; &delay_ms=D to pause D ms between 64 KiB pieces
  /slow?ms=N        answers after N ms (&body=... to choose the body)
  /reset            closes the connection without answering
  /reset-mid        sends the head and part of the body, then closes
  /status/NNN       answers with that status and a small JSON body
"""
import hashlib
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PATTERN = bytes(range(256)) * 256  # 64 KiB


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        h = hashlib.sha256()
        n = 0
        keep = bytearray()
        if "chunked" in te.lower():
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    piece = self.rfile.read(min(left, 65536))
                    if not piece:
                        raise ConnectionError("short chunk")
                    h.update(piece)
                    if len(keep) < 65536:
                        keep += piece[: 65536 - len(keep)]
                    n += len(piece)
                    left -= len(piece)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0") or 0)
            while left:
                piece = self.rfile.read(min(left, 65536))
                if not piece:
                    raise ConnectionError("short body")
                h.update(piece)
                if len(keep) < 65536:
                    keep += piece[: 65536 - len(keep)]
                n += len(piece)
                left -= len(piece)
        return n, h.hexdigest(), bytes(keep)

    def send_json(self, status, obj):
        data = json.dumps(obj).encode() if status not in (204, 304) else b""
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        n, digest, body = self.read_body()
        if url.path.startswith("/echo"):
            self.send_json(200, {
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_length": n,
                "body_sha256": digest,
                "body": body.decode("latin-1"),
                "protocol": self.request_version,
            })
        elif url.path == "/stream":
            size = int(q.get("size", "0"))
            delay = int(q.get("delay_ms", "0")) / 1000.0
            chunked = q.get("chunked") == "1"
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            left = size
            while left:
                piece = PATTERN[: min(left, len(PATTERN))]
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    self.wfile.write(piece)
                left -= len(piece)
                if delay:
                    time.sleep(delay)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/slow":
            time.sleep(int(q.get("ms", "1000")) / 1000.0)
            self.send_json(200, {"slow": True, "body": q.get("body", "")})
        elif url.path == "/reset-mid":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif url.path.startswith("/status/"):
            self.send_json(int(url.path[8:11]), {"status": url.path[8:11]})
        else:
            self.send_json(404, {"backend": "no such path"})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = \
        do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main():
    srv = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0),
                 Handler)
    print("listening", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
