"""TLS listeners with ALPN (h2 and http/1.1) using a certificate made at
test time, and HTTP/2 upstreams: h2c by prior knowledge and h2 over TLS
(a second gateway serves as the upstream)."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import SOURCE_ROOT, Backend, Gateway, curl, free_port


def make_cert(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="parley-tls-")
        cls.cert, cls.key = make_cert(cls.dir)
        cls.backend = Backend()
        cls.tls_port = free_port()
        cls.gw = Gateway("routes:\n  - prefix: /\n    upstream: {backend}\n",
                         backend=cls.backend,
                         listen_extra=f"  - address: 127.0.0.1:{cls.tls_port}\n"
                                      f"    tls: {{cert: {cls.cert}, key: {cls.key}}}\n"
                         ).start()
        cls.tls_base = f"https://127.0.0.1:{cls.tls_port}"

    @classmethod
    def tearDownClass(cls):
        cls.gw.signal(15)
        code = cls.gw.wait_exit()
        cls.gw.stop()
        cls.backend.stop()
        shutil.rmtree(cls.dir)
        assert code == 0, cls.gw.seen[-40:]

    def test_h2_over_tls_with_alpn(self):
        r = curl("-v", "--cacert", self.cert, "--http2", "-w", "\n%{http_version}",
                 "--data-binary", "tls body", self.tls_base + "/echo/tls")
        self.assertIn(b"ALPN: server accepted h2", r.stderr)
        body, _, version = r.stdout.rpartition(b"\n")
        self.assertEqual(version, b"2")
        d = json.loads(body)
        self.assertEqual(d["body"], "tls body")
        names = {k.lower(): v for k, v in d["headers"]}
        self.assertEqual(names["x-forwarded-proto"], "https")

    def test_http11_over_tls(self):
        r = curl("-v", "--cacert", self.cert, "--http1.1", "-w", "\n%{http_version}",
                 self.tls_base + "/echo/one", self.tls_base + "/echo/two")
        self.assertIn(b"ALPN: server accepted http/1.1", r.stderr)
        self.assertIn(b"Re-using existing connection", r.stderr)
        self.assertTrue(r.stdout.endswith(b"\n1.1"))

    def test_no_alpn_means_http11(self):
        r = curl("--cacert", self.cert, "--no-alpn", "--http1.1", "-w", "\n%{http_code}",
                 self.tls_base + "/echo/noalpn")
        self.assertTrue(r.stdout.endswith(b"\n200"))

    def test_nghttp_over_tls(self):
        r = subprocess.run(["nghttp", "-v", self.tls_base + "/echo/ng"],
                           capture_output=True, timeout=30)
        self.assertIn(b"negotiated protocol: h2", r.stdout)
        self.assertIn(b":status: 200", r.stdout)

    @unittest.skipUnless(shutil.which("node"), "node not installed")
    def test_node_http2_over_tls(self):
        script = os.path.join(SOURCE_ROOT, "tests", "integration", "h2_client.js")
        r = subprocess.run(["node", script, self.tls_base + "/echo/node", "20"],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["statuses"], [200] * 20)

    def test_large_download_over_tls(self):
        size = 20 * 1000 * 1000
        r = subprocess.run(["curl", "-sS", "--cacert", self.cert, "--http2",
                            self.tls_base + f"/stream?size={size}"],
                           capture_output=True, timeout=120)
        self.assertEqual(len(r.stdout), size)

    def test_http2_upstreams(self):
        """gateway -> (h2c | h2 over TLS) -> this gateway -> backend."""
        for url, extra in ((self.gw.base, ""),
                           (self.tls_base, f"    ca_file: {self.cert}\n")):
            front = Gateway("upstreams:\n  - name: next\n"
                            f"    url: {url.replace('127.0.0.1', 'localhost')}\n"
                            "    protocol: http2\n" + extra +
                            "routes:\n  - prefix: /\n    upstream: next\n").start()
            self.addCleanup(front.stop)
            r = curl("-w", "\n%{http_code}", "--data-binary", "via h2",
                     front.base + "/echo/chain")
            body, _, code = r.stdout.rpartition(b"\n")
            self.assertEqual(code, b"200", r.stdout[-300:])
            d = json.loads(body)
            names = {k.lower(): v for k, v in d["headers"]}
            self.assertEqual(d["body"], "via h2")
            # The second hop saw HTTP/2 from the first.
            self.assertEqual(names["via"], "1.1 parley, 2 parley")


if __name__ == "__main__":
    unittest.main()
