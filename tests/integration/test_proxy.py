"""The reverse proxy with real clients: HTTP/1.1 and h2c (prior knowledge
and Upgrade) through curl, nghttp and Node's http2 module, against the
Python backend in tests/fakes/."""
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import unittest

from harness import (SOURCE_ROOT, Backend, Gateway, curl, http_get, metric,
                     raw_exchange)

ROUTES = """
routes:
  - name: echo
    prefix: /echo
    upstream: {backend}
  - name: only-get
    path: /status/200
    methods: [GET]
    upstream: {backend}
  - name: rest
    prefix: /
    upstream: {backend}
"""


def pattern_sha(size):
    p = bytes(range(256)) * 256
    h = hashlib.sha256()
    while size:
        k = min(size, len(p))
        h.update(p[:k])
        size -= k
    return h.hexdigest()


def sanitized(pid):
    """True when the process runs under AddressSanitizer (its quarantine
    keeps freed memory, so RSS says nothing about buffering there)."""
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.backend = Backend()
        cls.gw = Gateway(ROUTES + "limits:\n  request_body_size: 200m\n",
                         backend=cls.backend, workers=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.signal(15)
        code = cls.gw.wait_exit()
        cls.gw.stop()
        cls.backend.stop()
        # Non-zero under the sanitizers means a leak or an error report.
        assert code == 0, cls.gw.seen[-40:]

    def echo(self, *args, path="/echo/x"):
        r = curl(*args, self.gw.base + path)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_http1_get_headers_forwarded(self):
        r = curl("-i", "-H", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                 "-H", "Connection: keep-alive, X-Drop", "-H", "X-Drop: 1",
                 "-H", "Keep-Alive: timeout=5",
                 self.gw.base + "/echo/a?b=c")
        head, _, body = r.stdout.partition(b"\r\n\r\n")
        d = json.loads(body)
        names = {k.lower(): v for k, v in d["headers"]}
        self.assertEqual(d["method"], "GET")
        self.assertEqual(d["path"], "/echo/a?b=c")
        self.assertEqual(names["traceparent"],
                         "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        self.assertEqual(names["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(names["x-forwarded-proto"], "http")
        self.assertEqual(names["x-forwarded-host"], f"127.0.0.1:{self.gw.port}")
        self.assertEqual(names["via"], "1.1 parley")
        self.assertNotIn("x-drop", names)
        self.assertNotIn("keep-alive", names)
        self.assertNotIn("connection", names)
        rid = names["x-request-id"]
        self.assertRegex(rid, r"^[0-9a-f]{32}$")
        self.assertIn(f"X-Request-Id: {rid}".encode(), head)
        self.assertIn(b"Via: 1.1 parley", head)

    def test_request_id_kept_and_echoed(self):
        r = curl("-i", "-H", "X-Request-Id: abc-123", self.gw.base + "/echo")
        head, _, body = r.stdout.partition(b"\r\n\r\n")
        names = {k.lower(): v for k, v in json.loads(body)["headers"]}
        self.assertEqual(names["x-request-id"], "abc-123")
        self.assertIn(b"X-Request-Id: abc-123", head)

    def test_post_body_and_methods(self):
        for m in ("POST", "PUT", "PATCH", "DELETE"):
            d = self.echo("-X", m, "--data-binary", "hello " + m)
            self.assertEqual(d["method"], m)
            self.assertEqual(d["body"], "hello " + m)

    def test_chunked_upload(self):
        d = self.echo("-H", "Transfer-Encoding: chunked", "--data-binary", "x" * 70000)
        self.assertEqual(d["body_length"], 70000)

    def test_head_and_no_content(self):
        for args in ((), ("--http2-prior-knowledge",)):
            r = curl(*args, "-I", "-w", "%{http_code}", self.gw.base + "/echo/head")
            self.assertTrue(r.stdout.endswith(b"200"), r.stdout)
            self.assertRegex(r.stdout.lower(), rb"content-length: [1-9]")
            r = curl(*args, "-s", "-w", "|%{http_code}|%{size_download}",
                     self.gw.base + "/status/204")
            self.assertEqual(r.stdout, b"|204|0")

    def test_keepalive_reuses_connection(self):
        r = curl("-v", self.gw.base + "/echo/1", self.gw.base + "/echo/2")
        self.assertIn(b"Re-using existing connection", r.stderr)

    def test_h2c_prior_knowledge(self):
        r = curl("--http2-prior-knowledge", "-w", "\n%{http_version}",
                 "--data-binary", "h2 body", self.gw.base + "/echo/h2")
        body, _, version = r.stdout.rpartition(b"\n")
        self.assertEqual(version, b"2")
        d = json.loads(body)
        self.assertEqual(d["body"], "h2 body")
        names = {k.lower(): v for k, v in d["headers"]}
        self.assertEqual(names["via"], "2 parley")

    def test_h2c_upgrade(self):
        r = curl("--http2", "-w", "\n%{http_version} %{http_code}",
                 self.gw.base + "/echo/up")
        body, _, tail = r.stdout.rpartition(b"\n")
        self.assertEqual(tail, b"2 200")
        self.assertEqual(json.loads(body)["path"], "/echo/up")

    def test_nghttp_client(self):
        r = subprocess.run(["nghttp", "-v", self.gw.base + "/echo/ng"],
                           capture_output=True, timeout=30)
        self.assertIn(b":status: 200", r.stdout)
        self.assertIn(b'"path": "/echo/ng"', r.stdout)
        r = subprocess.run(["nghttp", "-u", "-v", self.gw.base + "/echo/ngu"],
                           capture_output=True, timeout=30)
        self.assertIn(b"HTTP Upgrade success", r.stdout)
        self.assertIn(b'"path": "/echo/ngu"', r.stdout)

    @unittest.skipUnless(shutil.which("node"), "node not installed")
    def test_node_http2_concurrent_streams(self):
        script = os.path.join(SOURCE_ROOT, "tests", "integration", "h2_client.js")
        r = subprocess.run(["node", script, self.gw.base + "/echo/node", "50"],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["statuses"], [200] * 50)
        idx = sorted(int({k.lower(): v for k, v in json.loads(b)["headers"]}["x-test-index"])
                     for b in out["bodies"])
        self.assertEqual(idx, list(range(50)))
        self.assertEqual(out["headers"]["via"], "2 parley")

    def test_large_download_streams_in_bounded_memory(self):
        size = 100 * 1000 * 1000
        for args in ((), ("--http2-prior-knowledge",)):
            p = subprocess.Popen(["curl", "-sS", *args,
                                  self.gw.base + f"/stream?size={size}&chunked=1"],
                                 stdout=subprocess.PIPE)
            h = hashlib.sha256()
            n = 0
            peak = 0
            while True:
                b = p.stdout.read(1 << 20)
                if not b:
                    break
                h.update(b)
                n += len(b)
                peak = max(peak, rss_kb(self.gw.proc.pid))
            p.wait()
            p.stdout.close()
            self.assertEqual(n, size)
            self.assertEqual(h.hexdigest(), pattern_sha(size))
            if not sanitized(self.gw.proc.pid):
                self.assertLess(peak, 64 * 1024, "RSS grew with the body size")

    def test_large_upload_streams_in_bounded_memory(self):
        size = 100 * 1000 * 1000
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"parley-up-{os.getpid()}")
        with open(path, "wb") as f:
            p = bytes(range(256)) * 256
            left = size
            while left:
                f.write(p[:min(left, len(p))])
                left -= min(left, len(p))
        self.addCleanup(os.unlink, path)
        for args in ((), ("--http2-prior-knowledge",)):
            r = curl(*args, "-T", path, self.gw.base + "/echo/upload")
            d = json.loads(r.stdout)
            self.assertEqual(d["body_length"], size)
            self.assertEqual(d["body_sha256"], pattern_sha(size))
            if not sanitized(self.gw.proc.pid):
                self.assertLess(rss_kb(self.gw.proc.pid), 64 * 1024)

    def test_clients_that_vanish_mid_response(self):
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", self.gw.port)) as s:
                s.sendall(b"GET /stream?size=50000000 HTTP/1.1\r\nHost: a\r\n\r\n")
                self.assertTrue(s.recv(1000))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))  # close with a reset
        r = curl("-w", "%{http_code}", "-o", "/dev/null", self.gw.base + "/echo/alive")
        self.assertEqual(r.stdout, b"200")

    def test_upstream_reset_is_502(self):
        r = curl("-w", "\n%{http_code}", self.gw.base + "/reset")
        body, _, code = r.stdout.rpartition(b"\n")
        self.assertEqual(code, b"502")
        self.assertEqual(json.loads(body)["error"]["code"], "upstream_reset")
        self.assertGreaterEqual(
            metric(self.gw.admin_base, 'parley_upstream_errors_total{kind="reset"}'), 1)

    def test_upstream_reset_mid_body_aborts(self):
        r = curl(self.gw.base + "/reset-mid")
        self.assertNotEqual(r.returncode, 0)  # truncated, not a clean 200
        r = curl("--http2-prior-knowledge", self.gw.base + "/reset-mid")
        self.assertNotEqual(r.returncode, 0)

    def test_admin_endpoints(self):
        self.assertEqual(http_get(self.gw.admin_base + "/healthz")[0], 200)
        status, body = http_get(self.gw.admin_base + "/readyz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ready")
        curl(self.gw.base + "/echo/m")
        _, text = http_get(self.gw.admin_base + "/metrics")
        text = text.decode()
        self.assertRegex(text, r'parley_requests_total\{route="echo",method="GET",'
                               r'status="200",protocol="http1"\} [1-9]')
        for name in ("parley_request_duration_seconds_bucket",
                     "parley_upstream_duration_seconds_bucket",
                     "parley_requests_in_flight", "parley_connections{protocol=\"h2c\"}",
                     "parley_upstream_errors_total{kind=\"connect\"}",
                     "parley_received_bytes_total", "parley_sent_bytes_total",
                     "parley_http2_abuse_closes_total{kind=\"rapid_reset\"}"):
            self.assertIn(name, text)

    def test_access_log_line(self):
        curl("-H", "X-Request-Id: log-me-1", self.gw.base + "/echo/logged")
        # The access log goes to stdout, which the harness discards; the
        # file variant is covered in test_limits. Here: metrics count it.
        self.assertGreaterEqual(metric(self.gw.admin_base,
                                       'parley_requests_total{route="echo"'), 1)


class ProxyThroughLibcurlTest(ProxyTest):
    """The same cases with the upstream on libcurl (`client: curl`) rather
    than the native HTTP/1.1 client: both must behave alike."""

    @classmethod
    def setUpClass(cls):
        cls.backend = Backend()
        upstreams = "upstreams:\n  - name: be\n    url: {backend}\n    client: curl\n"
        cls.gw = Gateway(upstreams + ROUTES.replace("upstream: {backend}", "upstream: be") +
                         "limits:\n  request_body_size: 200m\n",
                         backend=cls.backend, workers=2).start()


class UpstreamErrors(unittest.TestCase):
    def test_unreachable_is_502_and_timeout_is_504(self):
        backend = Backend()
        self.addCleanup(backend.stop)
        from harness import free_port
        dead = free_port()
        gw = Gateway(f"""
timeouts:
  upstream_response: 300ms
routes:
  - prefix: /dead
    upstream: http://127.0.0.1:{dead}
  - prefix: /
    upstream: {{backend}}
""", backend=backend).start()
        self.addCleanup(gw.stop)
        r = curl("-w", "\n%{http_code}", gw.base + "/dead")
        body, _, code = r.stdout.rpartition(b"\n")
        self.assertEqual(code, b"502")
        self.assertEqual(json.loads(body)["error"]["code"], "upstream_unreachable")
        r = curl("-w", "\n%{http_code}", gw.base + "/slow?ms=3000")
        body, _, code = r.stdout.rpartition(b"\n")
        self.assertEqual(code, b"504")
        self.assertEqual(json.loads(body)["error"]["code"], "upstream_timeout")
        r = curl("-w", "\n%{http_code}", gw.base + "/nothing-here-but-routed")
        self.assertTrue(r.stdout.endswith(b"404"))
        self.assertEqual(metric(gw.admin_base, 'parley_upstream_errors_total{kind="connect"}'), 1)
        self.assertEqual(metric(gw.admin_base, 'parley_upstream_errors_total{kind="timeout"}'), 1)

    def test_trailers_after_an_early_answer_are_dropped(self):
        # The answer (502) comes before the chunked body ends; the trailers
        # that follow must be ignored, not crash the worker.
        from harness import free_port
        dead = free_port()
        gw = Gateway(f"routes:\n  - prefix: /\n    upstream: http://127.0.0.1:{dead}\n"
                     ).start()
        self.addCleanup(gw.stop)
        with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as s:
            s.sendall(b"POST /dead HTTP/1.1\r\nHost: x\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(65536)
                self.assertTrue(chunk, "connection closed before the answer")
                head += chunk
            self.assertTrue(head.startswith(b"HTTP/1.1 502"), head)
            s.sendall(b"0\r\nX-Trailer: y\r\nX-Other: z\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):  # the server closes once it read our end
                pass
        # The worker is still alive and serving.
        r = curl("-w", "\n%{http_code}", gw.base + "/again")
        self.assertTrue(r.stdout.endswith(b"502"), r.stdout)
        self.assertIsNone(gw.proc.poll())

    def test_no_route_is_404_and_wrong_method_405(self):
        gw = Gateway("routes:\n  - path: /only\n    methods: [GET]\n"
                     "    upstream: http://127.0.0.1:9\n").start()
        self.addCleanup(gw.stop)
        r = curl("-w", "\n%{http_code}", gw.base + "/other")
        body, _, code = r.stdout.rpartition(b"\n")
        self.assertEqual(code, b"404")
        self.assertEqual(json.loads(body), {"error": {"code": "no_route",
                                                      "message": "no route matches this request"}})
        for args in ((), ("--http2-prior-knowledge",)):
            r = curl(*args, "-w", "\n%{http_code}", "-X", "POST", gw.base + "/only")
            body, _, code = r.stdout.rpartition(b"\n")
            self.assertEqual(code, b"405")
            self.assertEqual(json.loads(body)["error"]["code"], "method_not_allowed")


if __name__ == "__main__":
    unittest.main()
