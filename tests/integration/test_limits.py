"""Limits, timeouts and HTTP/1.1 request-smuggling defences: each limit is
hit on purpose and must give its status; malformed framing must give 400
and close the connection without reaching the backend."""
import json
import os
import socket
import subprocess
import tempfile
import time
import unittest

from harness import Backend, Gateway, curl, metric, raw_exchange

CONFIG = """
limits:
  header_block_size: 2k
  request_body_size: 100k
  connections: 4
  h2_max_concurrent_streams: 7
  h2_max_header_list_size: 4k
timeouts:
  header_read: 400ms
  body_idle: 400ms
  keepalive_idle: 400ms
access_log:
  path: {log}
routes:
  - prefix: /
    upstream: {backend}
"""


def status_of(raw):
    line = raw.split(b"\r\n", 1)[0]
    return int(line.split()[1]) if line.startswith(b"HTTP/1.") else None


class Limits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.backend = Backend()
        fd, cls.log = tempfile.mkstemp(prefix="parley-access-")
        os.close(fd)
        cls.gw = Gateway(CONFIG.replace("{log}", cls.log), backend=cls.backend).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.signal(15)
        code = cls.gw.wait_exit()
        cls.gw.stop()
        cls.backend.stop()
        os.unlink(cls.log)
        assert code == 0, cls.gw.seen[-40:]

    def setUp(self):
        # Tests share one gateway with `connections: 4`: wait until the
        # previous test's connections are gone (the scrape itself is one).
        deadline = time.monotonic() + 30
        while (metric(self.gw.admin_base, "parley_connections{") or 0) > 1:
            if time.monotonic() > deadline:
                raise TimeoutError("connections of earlier tests stay open")
            time.sleep(0.01)

    def expect_400_and_close(self, raw):
        out = raw_exchange(self.gw.port, raw)
        self.assertEqual(status_of(out), 400, out)
        self.assertIn(b"Connection: close", out)
        body = out.split(b"\r\n\r\n", 1)[1]
        self.assertEqual(json.loads(body)["error"]["code"], "bad_request")
        # No second response: the smuggled request behind it was not served.
        self.assertNotIn(b"HTTP/1.1 200", out)

    def test_content_length_with_transfer_encoding(self):
        self.expect_400_and_close(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo/smuggled HTTP/1.1\r\nHost: a\r\n\r\n")

    def test_duplicate_content_length(self):
        self.expect_400_and_close(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
            b"Content-Length: 5\r\n\r\nhello")

    def test_bad_chunk_size(self):
        self.expect_400_and_close(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\nhello\r\n0\r\n\r\n")

    def test_transfer_encoding_other_than_chunked(self):
        self.expect_400_and_close(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n")

    def test_obs_fold(self):
        self.expect_400_and_close(
            b"GET /echo HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n")

    def test_bare_lf(self):
        self.expect_400_and_close(b"GET /echo HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n")

    def test_missing_host(self):
        self.expect_400_and_close(b"GET /echo HTTP/1.1\r\n\r\n")

    def test_pipelined_requests_are_served_in_order(self):
        out = raw_exchange(self.gw.port,
                           b"GET /echo/1 HTTP/1.1\r\nHost: a\r\n\r\n"
                           b"GET /echo/2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        self.assertEqual(out.count(b"HTTP/1.1 200"), 2)
        self.assertLess(out.index(b'"/echo/1"'), out.index(b'"/echo/2"'))

    def test_header_block_too_large_431(self):
        out = raw_exchange(self.gw.port, b"GET /echo HTTP/1.1\r\nHost: a\r\nX-Big: "
                           + b"a" * 3000 + b"\r\n\r\n")
        self.assertEqual(status_of(out), 431)
        r = curl("--http2-prior-knowledge", "-w", "\n%{http_code}", "-H",
                 "x-big: " + "a" * 5000, self.gw.base + "/echo")
        self.assertTrue(r.stdout.endswith(b"\n431"), r.stdout[-200:])

    def test_body_too_large_413(self):
        big = tempfile.NamedTemporaryFile(prefix="parley-body-")
        big.write(b"x" * 200000)
        big.flush()
        self.addCleanup(big.close)
        ok = tempfile.NamedTemporaryFile(prefix="parley-body-")
        ok.write(b"x" * 90000)
        ok.flush()
        self.addCleanup(ok.close)
        r = curl("-w", "\n%{http_code}", "--data-binary", "@" + big.name,
                 self.gw.base + "/echo")
        body, _, code = r.stdout.rpartition(b"\n")
        self.assertEqual(code, b"413")
        self.assertEqual(json.loads(body)["error"]["code"], "body_too_large")
        # Chunked: the size is only known while the body arrives.
        r = curl("-w", "\n%{http_code}", "-H", "Transfer-Encoding: chunked",
                 "--data-binary", "@" + big.name, self.gw.base + "/echo")
        self.assertTrue(r.stdout.endswith(b"\n413"), r.stdout[-200:])
        for extra in ((), ("-H", "Content-Length:")):
            r = curl("--http2-prior-knowledge", *extra, "-w", "\n%{http_code}",
                     "--data-binary", "@" + big.name, self.gw.base + "/echo")
            self.assertTrue(r.stdout.endswith(b"\n413"), r.stdout[-200:])
        r = curl("-w", "\n%{http_code}", "--data-binary", "@" + ok.name,
                 self.gw.base + "/echo")
        self.assertTrue(r.stdout.endswith(b"\n200"))

    def test_header_read_timeout_408(self):
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as s:
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n")
            out = s.recv(65536)
            self.assertEqual(status_of(out), 408, out)
            self.assertEqual(s.recv(1), b"")  # then closed

    def test_body_idle_timeout_408(self):
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab")
            t0 = time.monotonic()
            out = s.recv(65536)
            self.assertEqual(status_of(out), 408, out)
            self.assertGreater(time.monotonic() - t0, 0.3)

    def test_keepalive_idle_closes(self):
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as s:
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            buf = b""
            while b'"protocol"' not in buf:
                buf += s.recv(65536)
            t0 = time.monotonic()
            self.assertEqual(s.recv(1), b"")
            self.assertGreater(time.monotonic() - t0, 0.3)

    def test_connection_limit_503(self):
        socks = [socket.create_connection(("127.0.0.1", self.gw.port)) for _ in range(4)]
        try:
            # The limit is 4: these four are open (and idle); one more is refused.
            for s in socks:
                s.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
                buf = b""
                while b'"protocol"' not in buf:
                    buf += s.recv(65536)
            out = raw_exchange(self.gw.port, b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            self.assertEqual(status_of(out), 503)
            self.assertIn(b'"overloaded"', out)
        finally:
            for s in socks:
                s.close()

    def test_h2_settings_advertised(self):
        r = subprocess.run(["nghttp", "-v", self.gw.base + "/echo"],
                           capture_output=True, timeout=30)
        self.assertIn(b"SETTINGS_MAX_CONCURRENT_STREAMS(0x03):7", r.stdout)
        self.assertIn(b"SETTINGS_MAX_HEADER_LIST_SIZE(0x06):4096", r.stdout)

    def test_access_log_lines(self):
        curl("-H", "X-Request-Id: access-log-test", self.gw.base + "/echo/logged?q=1")
        # Lines are written once per loop iteration; wait for ours to appear.
        deadline = time.monotonic() + 10
        while True:
            with open(self.log, encoding="utf-8") as f:
                lines = [json.loads(l) for l in f if "access-log-test" in l]
            if lines or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.assertEqual(len(lines), 1)
        e = lines[0]
        self.assertEqual((e["method"], e["path"], e["status"], e["protocol"]),
                         ("GET", "/echo/logged?q=1", 200, "http1"))
        for k in ("bytes_in", "bytes_out", "duration_ms", "upstream_ms", "route"):
            self.assertIn(k, e)
        self.assertGreater(e["bytes_out"], 0)


if __name__ == "__main__":
    unittest.main()
