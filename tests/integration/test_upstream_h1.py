"""The native HTTP/1.1 upstream client against a scripted raw-socket
backend: connection reuse, the one retry after a stale keep-alive
connection, close-delimited and 1xx responses, malformed responses, early
answers to uploads, host-name upstreams, and `client: curl` still working.
"""
import json
import os
import shutil
import socket
import tempfile
import threading
import unittest

from harness import Gateway, curl, metric


class ScriptedBackend:
    """A raw HTTP/1.1 server whose answer depends on the request path.

    /keep             200 "ok", connection kept open
    /drop-next        200 "first"; the next request on that connection is
                      dropped unanswered (an upstream closing an idle
                      connection just as a request arrives)
    /close-delimited  200 without length, ended by closing the connection
    /continue         100 Continue, then 200 "done"
    /garbage          a status line that is not HTTP
    /early            answers 413 after the head, without reading the body
    /dribble          the response written a few bytes at a time
    """

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
        self.lock = threading.Lock()
        self.connections = 0
        self.heads = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.stopping = True
        self.sock.close()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_head(conn, buf):
        while b"\r\n\r\n" not in buf:
            b = conn.recv(65536)
            if not b:
                return None, buf
            buf += b
        head, _, rest = buf.partition(b"\r\n\r\n")
        return head.decode("latin-1"), rest

    def _serve(self, conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        drop_next = False
        try:
            while True:
                head, buf = self._read_head(conn, buf)
                if head is None:
                    return
                with self.lock:
                    self.heads.append(head)
                if drop_next:
                    return
                lines = head.split("\r\n")
                path = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                if path == "/early":
                    conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n"
                                 b"Connection: close\r\n\r\nfull")
                    # Lingering close: a close with unread data would reset
                    # the connection and could discard the answer in flight.
                    conn.shutdown(socket.SHUT_WR)
                    while conn.recv(65536):
                        pass
                    return
                while len(buf) < length:
                    b = conn.recv(65536)
                    if not b:
                        return
                    buf += b
                buf = buf[length:]
                if path == "/keep":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                elif path == "/drop-next":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
                    drop_next = True
                elif path == "/close-delimited":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                                 + b"z" * 100000)
                    return
                elif path == "/continue":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Final: yes\r\nContent-Length: 4\r\n"
                                 b"\r\ndone")
                elif path == "/garbage":
                    conn.sendall(b"SPDY/9 what\r\n\r\n")
                    return
                elif path == "/dribble":
                    data = (b"HTTP/1.1 200 OK\r\nX-Long-Header: " + b"v" * 3000 +
                            b"\r\nContent-Length: 6\r\n\r\nbit by")
                    for i in range(0, len(data), 7):
                        conn.sendall(data[i:i + 7])
                else:
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            return
        finally:
            conn.close()


def status_and_body(r):
    body, _, code = r.stdout.rpartition(b"\n")
    return int(code), body


class NativeClient(unittest.TestCase):
    def setUp(self):
        self.backend = ScriptedBackend()
        self.addCleanup(self.backend.stop)
        self.gw = Gateway("routes:\n  - upstream: {backend}\n", backend=self.backend).start()
        self.addCleanup(self.gw.stop)
        self.addCleanup(self.clean_exit)

    def clean_exit(self):
        # Pooled connections are closed and freed on the way out: under
        # the sanitizers a leak makes the exit status non-zero.
        self.gw.signal(15)
        self.assertEqual(self.gw.wait_exit(), 0, self.gw.seen[-20:])

    def get(self, path, *args):
        return status_and_body(curl("-w", "\n%{http_code}", *args, self.gw.base + path))

    def test_sequential_requests_share_one_connection(self):
        for _ in range(5):
            self.assertEqual(self.get("/keep"), (200, b"ok"))
        self.assertEqual(self.backend.connections, 1)
        self.assertEqual(len(self.backend.heads), 5)

    def test_request_head_is_well_formed(self):
        self.get("/keep?q=1", "-H", "X-Custom: a b", "-H", "Accept;")
        head = self.backend.heads[-1].split("\r\n")
        self.assertEqual(head[0], "GET /keep?q=1 HTTP/1.1")
        names = [l.split(":")[0].lower() for l in head[1:]]
        self.assertIn("x-custom", names)
        self.assertIn("x-forwarded-for", names)
        self.assertIn("x-request-id", names)
        self.assertNotIn("expect", names)
        self.assertNotIn("connection", names)
        self.assertEqual(names.count("host"), 1)
        # An HTTP/1.0 client need not send Host; the upstream still gets one.
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=30) as s:
            s.sendall(b"GET /keep HTTP/1.0\r\n\r\n")
            answer = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                answer += b
        self.assertTrue(answer.startswith(b"HTTP/1.0 200"), answer)
        head = self.backend.heads[-1].split("\r\n")
        self.assertIn(f"Host: 127.0.0.1:{self.backend.port}", head)

    def test_stale_keepalive_connection_is_retried_once(self):
        self.assertEqual(self.get("/drop-next"), (200, b"first"))
        # The pooled connection dies when this request arrives on it.
        self.assertEqual(self.get("/keep"), (200, b"ok"))
        self.assertEqual(self.backend.connections, 2)

    def test_stale_connection_with_a_consumed_body_is_not_resent(self):
        self.assertEqual(self.get("/drop-next"), (200, b"first"))
        code, body = self.get("/keep", "--data-binary", "payload")
        self.assertEqual(code, 502)
        self.assertEqual(json.loads(body)["error"]["code"], "upstream_reset")
        self.assertEqual(metric(self.gw.admin_base,
                                'parley_upstream_errors_total{kind="reset"}'), 1)

    def test_close_delimited_response(self):
        for args in ((), ("--http2-prior-knowledge",)):
            code, body = self.get("/close-delimited", *args)
            self.assertEqual(code, 200)
            self.assertEqual(body, b"z" * 100000)
        # Such a connection cannot be reused.
        self.assertEqual(self.get("/keep"), (200, b"ok"))
        self.assertEqual(self.backend.connections, 3)

    def test_interim_response_is_not_forwarded(self):
        r = curl("-i", self.gw.base + "/continue")
        self.assertNotIn(b"100 Continue", r.stdout)
        self.assertIn(b"x-final: yes", r.stdout.lower())
        self.assertTrue(r.stdout.endswith(b"done"), r.stdout)

    def test_malformed_response_is_502(self):
        code, body = self.get("/garbage")
        self.assertEqual(code, 502)
        self.assertEqual(json.loads(body)["error"]["code"], "upstream_protocol")
        self.assertEqual(metric(self.gw.admin_base,
                                'parley_upstream_errors_total{kind="protocol"}'), 1)

    def test_early_answer_to_an_upload(self):
        upload = os.path.join(tempfile.mkdtemp(), "upload")
        self.addCleanup(shutil.rmtree, os.path.dirname(upload))
        with open(upload, "wb") as f:
            f.write(b"x" * 2000000)
        code, body = self.get("/early", "--data-binary", "@" + upload)
        self.assertEqual((code, body), (413, b"full"))
        self.assertEqual(self.get("/keep"), (200, b"ok"))

    def test_response_split_in_small_pieces(self):
        r = curl("-i", self.gw.base + "/dribble")
        self.assertIn(b"x-long-header: " + b"v" * 3000, r.stdout.lower())
        self.assertTrue(r.stdout.endswith(b"bit by"), r.stdout)


class Settings(unittest.TestCase):
    def test_upstream_idle_zero_means_a_connection_per_request(self):
        backend = ScriptedBackend()
        self.addCleanup(backend.stop)
        gw = Gateway("timeouts:\n  upstream_idle: 0\nroutes:\n  - upstream: {backend}\n",
                     backend=backend).start()
        self.addCleanup(gw.stop)
        for _ in range(3):
            r = curl("-w", "\n%{http_code}", gw.base + "/keep")
            self.assertEqual(status_and_body(r), (200, b"ok"))
        self.assertEqual(backend.connections, 3)

class HostNamesAndCurl(unittest.TestCase):
    def test_ipv6_literal_upstream(self):
        try:
            backend = ScriptedBackend("::1")
        except OSError:
            self.skipTest("no IPv6 loopback here")
        self.addCleanup(backend.stop)
        gw = Gateway("routes:\n  - upstream: {backend}\n", backend=backend).start()
        self.addCleanup(gw.stop)
        r = curl("-w", "\n%{http_code}", gw.base + "/keep")
        self.assertEqual(status_and_body(r), (200, b"ok"))
        self.assertIn(f"Host: 127.0.0.1:{gw.port}", backend.heads[-1])

    def test_host_name_upstream_and_curl_client(self):
        backend = ScriptedBackend()
        self.addCleanup(backend.stop)
        gw = Gateway(f"""
upstreams:
  - name: by-name
    url: http://localhost:{backend.port}
  - name: with-curl
    url: http://127.0.0.1:{backend.port}
    client: curl
routes:
  - prefix: /curl/
    upstream: with-curl
  - upstream: by-name
""").start()
        self.addCleanup(gw.stop)
        r = curl("-w", "\n%{http_code}", gw.base + "/keep")
        self.assertEqual(status_and_body(r), (200, b"ok"))
        # Through libcurl the path keeps its prefix; the backend 404s it.
        r = curl("-w", "\n%{http_code}", gw.base + "/curl/keep")
        self.assertEqual(status_and_body(r)[0], 404)
        self.assertTrue(any(h.startswith("GET /curl/keep ") for h in backend.heads))


if __name__ == "__main__":
    unittest.main()
