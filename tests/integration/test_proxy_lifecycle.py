"""Lifecycle of the proxy: the runnable example, draining on SIGTERM
(requests in flight finish, readiness turns 503, GOAWAY for HTTP/2),
drain_timeout, and SIGHUP reloads under load without failed requests."""
import json
import os
import signal
import socket
import subprocess
import time
import unittest

from harness import (PORT_IN_USE, SOURCE_ROOT, Backend, Gateway, Server, curl, free_port,
                     http_get, metric, wait_for_port, write_temp, WAIT_SECONDS)

EXAMPLE = os.path.join(SOURCE_ROOT, "docs", "examples", "passthrough.yaml")


def wait_until(predicate, what, timeout=WAIT_SECONDS):
    """Polls a condition the server reports (metrics, readiness)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.01)


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.backend = Backend()
        self.addCleanup(self.backend.stop)

    def test_passthrough_example_runs_as_is(self):
        for attempt in range(3):  # free_port() can race with other tests
            port, admin = free_port(), free_port()
            s = Server(EXAMPLE, env={"PARLEY_LISTEN": f"127.0.0.1:{port}",
                                     "PARLEY_ADMIN": f"127.0.0.1:{admin}",
                                     "PARLEY_UPSTREAM": self.backend.url,
                                     "PARLEY_WORKERS": "1"})
            self.addCleanup(s.stop)
            try:
                s.wait_ready()
                break
            except AssertionError:
                if attempt == 2 or not any(PORT_IN_USE in l for l in s.seen):
                    raise
        wait_for_port(port)
        r = curl("-w", "\n%{http_code}", f"http://127.0.0.1:{port}/echo/example")
        body, _, code = r.stdout.rpartition(b"\n")
        self.assertEqual(code, b"200", f"curl exit {r.returncode}: {r.stderr!r}")
        self.assertEqual(json.loads(body)["path"], "/echo/example")
        self.assertEqual(http_get(f"http://127.0.0.1:{admin}/readyz")[0], 200)
        s.signal(signal.SIGTERM)
        self.assertEqual(s.wait_exit(), 0)

    def test_port_held_by_another_process_is_refused(self):
        # SO_REUSEPORT would let a second server share the port silently.
        gw = Gateway("routes:\n  - upstream: {backend}\n",
                     backend=self.backend).start()
        self.addCleanup(gw.stop)
        text = gw.config_text.replace(f"127.0.0.1:{gw.admin}\n",
                                      f"127.0.0.1:{free_port()}\n")
        path = write_temp(text)
        self.addCleanup(os.unlink, path)
        second = Server(path)
        self.addCleanup(second.stop)
        self.assertNotEqual(second.wait_exit(), 0)
        self.assertTrue(any(PORT_IN_USE in l for l in second.seen), second.seen)
        self.assertEqual(http_get(gw.admin_base + "/readyz")[0], 200)

    def in_flight(self, gw):
        return (metric(gw.admin_base, "parley_requests_in_flight") or 0) >= 1

    def test_drain_finishes_requests_in_flight(self):
        gw = Gateway("drain_timeout: 20s\nroutes:\n  - upstream: {backend}\n",
                     backend=self.backend, workers=2).start()
        self.addCleanup(gw.stop)
        h1 = subprocess.Popen(["curl", "-sS", "-w", "\n%{http_code}",
                               gw.base + "/slow?ms=1500&body=h1"], stdout=subprocess.PIPE)
        h2 = subprocess.Popen(["nghttp", gw.base + "/slow?ms=1500&body=h2"],
                              stdout=subprocess.PIPE)
        wait_until(lambda: (metric(gw.admin_base, "parley_requests_in_flight") or 0) >= 2,
                   "two requests in flight")
        idle = socket.create_connection(("127.0.0.1", gw.port))
        gw.signal(signal.SIGTERM)
        gw.wait_line("draining")
        # Not ready any more, and no new connections are accepted.
        wait_until(lambda: http_get(gw.admin_base + "/readyz")[0] == 503,
                   "readyz 503 while draining")
        wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", gw.port)) != 0,
                   "listener closed")
        # The idle connection is closed.
        idle.settimeout(10)
        self.assertEqual(idle.recv(1), b"")
        idle.close()
        out1, _ = h1.communicate(timeout=30)
        out2, _ = h2.communicate(timeout=30)
        self.assertTrue(out1.endswith(b"\n200"), out1)
        self.assertIn(b'"body": "h1"', out1)
        self.assertIn(b'"body": "h2"', out2)
        self.assertEqual(gw.wait_exit(), 0)

    def test_drain_timeout_cuts_long_requests(self):
        gw = Gateway("drain_timeout: 300ms\nroutes:\n  - upstream: {backend}\n",
                     backend=self.backend).start()
        self.addCleanup(gw.stop)
        p = subprocess.Popen(["curl", "-sS", "-w", "\n%{http_code}",
                              gw.base + "/slow?ms=20000"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        wait_until(lambda: self.in_flight(gw), "request in flight")
        t0 = time.monotonic()
        gw.signal(signal.SIGTERM)
        self.assertEqual(gw.wait_exit(), 0)
        self.assertLess(time.monotonic() - t0, 10)
        out, _ = p.communicate(timeout=30)
        self.assertFalse(out.endswith(b"\n200"))
        self.assertTrue(any("drain_timeout reached" in l for l in gw.seen), gw.seen)

    def test_reload_under_load_swaps_routes_without_failures(self):
        other = Backend()
        self.addCleanup(other.stop)
        gw = Gateway("routes:\n  - name: before\n    upstream: {backend}\n",
                     backend=self.backend, workers=2).start()
        self.addCleanup(gw.stop)
        loads = [subprocess.Popen(["h2load", *args, "-n", "3000", "-c", "4", "-m", "2",
                                   gw.base + "/echo/load"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for args in ((), ("--h1",))]
        wait_until(lambda: (metric(gw.admin_base, 'parley_requests_total{route="before"') or 0) > 50,
                   "load running")
        # A broken file is rejected and changes nothing ...
        with open(gw.config_path, "w", encoding="utf-8") as f:
            f.write(gw.config_text + "routs: []\n")
        gw.signal(signal.SIGHUP)
        gw.wait_line("keeping the running configuration")
        # ... a valid one is swapped in while requests keep flowing.
        gw.rewrite("routes:\n  - name: after\n    upstream: {backend}\n", backend=other)
        gw.signal(signal.SIGHUP)
        gw.wait_line("configuration reloaded (generation 2)")
        for p in loads:
            out, _ = p.communicate(timeout=120)
            self.assertIn(b"3000 succeeded, 0 failed, 0 errored", out, out.decode())
            self.assertIn(b"status codes: 3000 2xx", out, out.decode())
        self.assertGreater(metric(gw.admin_base, 'parley_requests_total{route="before"'), 0)
        self.assertGreater(metric(gw.admin_base, 'parley_requests_total{route="after"'), 0)
        r = json.loads(curl(gw.base + "/echo/x").stdout)
        self.assertEqual(r["path"], "/echo/x")
        self.assertEqual(metric(gw.admin_base,
                                'parley_config_reloads_total{result="rejected"}'), 1)

    def test_watch_config_reloads_when_the_file_changes(self):
        gw = Gateway("watch_config: true\nroutes:\n  - path: /echo/old\n"
                     "    upstream: {backend}\n", backend=self.backend).start()
        self.addCleanup(gw.stop)
        self.assertTrue(any("watching " + gw.config_path in l for l in gw.seen), gw.seen)
        code = lambda path: curl("-o", "/dev/null", "-w", "%{http_code}", gw.base + path).stdout
        self.assertEqual(code("/echo/new"), b"404")
        # An edit is a reload, no signal needed ...
        gw.rewrite("watch_config: true\nroutes:\n  - path: /echo/new\n"
                   "    upstream: {backend}\n", backend=self.backend)
        gw.wait_line("configuration reloaded (generation 2)")
        self.assertEqual(code("/echo/new"), b"200")
        # ... and a broken edit is refused with its position.
        gw.rewrite("watch_config: true\nroutes: 5\n")
        self.assertIn(gw.config_path + ":7:9:", gw.wait_line("reload rejected"))
        gw.wait_line("keeping the running configuration")
        self.assertEqual(code("/echo/new"), b"200")
        gw.signal(signal.SIGTERM)
        self.assertEqual(gw.wait_exit(), 0)


if __name__ == "__main__":
    unittest.main()
