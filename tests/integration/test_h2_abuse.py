"""HTTP/2 attacks from a raw-frame client: rapid reset (CVE-2023-44487),
CONTINUATION flood, PING and SETTINGS floods. Each must end with GOAWAY
(ENHANCE_YOUR_CALM), be counted in metrics, and leave the gateway serving
other clients."""
import socket
import struct
import unittest

from harness import Backend, Gateway, curl, metric

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS = 0x1, 0x4
ENHANCE_YOUR_CALM = 0xB


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def literal(name, value):
    """HPACK literal header field without indexing, new name."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def request_block(path=b"/nowhere"):
    # :method GET (static 2), :scheme http (static 6), :path, :authority
    return b"\x82\x86" + b"\x04" + bytes([len(path)]) + path + \
        b"\x01" + bytes([9]) + b"localhost"


class H2Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.sendall(PREFACE + frame(SETTINGS, 0, 0))
        self.buf = b""

    def send(self, data):
        try:
            self.s.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def frames(self):
        """Yields (type, flags, stream, payload) until the peer closes."""
        while True:
            while len(self.buf) >= 9:
                n = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) < 9 + n:
                    break
                t, f = self.buf[3], self.buf[4]
                sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
                payload = self.buf[9:9 + n]
                self.buf = self.buf[9 + n:]
                yield t, f, sid, payload
            try:
                b = self.s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                return
            if not b:
                return
            self.buf += b

    def goaway_code(self):
        for t, _, _, payload in self.frames():
            if t == GOAWAY:
                return struct.unpack(">I", payload[4:8])[0]
        return None

    def close(self):
        self.s.close()


class H2Abuse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.backend = Backend()
        cls.gw = Gateway("""
limits:
  h2_max_resets_per_second: 50
  h2_max_control_frames_per_second: 50
routes:
  - prefix: /echo
    upstream: {backend}
""", backend=cls.backend).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.signal(15)
        code = cls.gw.wait_exit()
        cls.gw.stop()
        cls.backend.stop()
        assert code == 0, cls.gw.seen[-40:]

    def still_serving(self):
        r = curl("--http2-prior-knowledge", "-w", "%{http_code}", "-o", "/dev/null",
                 self.gw.base + "/echo/ok")
        self.assertEqual(r.stdout, b"200")

    def counted(self, kind):
        return metric(self.gw.admin_base,
                      f'parley_http2_abuse_closes_total{{kind="{kind}"}}')

    def test_rapid_reset(self):
        before = self.counted("rapid_reset")
        c = H2Conn(self.gw.port)
        burst = b""
        for i in range(1000):
            sid = 2 * i + 1
            burst += frame(HEADERS, END_STREAM | END_HEADERS, sid, request_block())
            burst += frame(RST_STREAM, 0, sid, struct.pack(">I", 8))  # CANCEL
        c.send(burst)
        self.assertEqual(c.goaway_code(), ENHANCE_YOUR_CALM)
        c.close()
        self.assertEqual(self.counted("rapid_reset"), before + 1)
        self.still_serving()

    def test_legitimate_resets_are_fine(self):
        c = H2Conn(self.gw.port)
        burst = b""
        for i in range(20):
            sid = 2 * i + 1
            burst += frame(HEADERS, END_STREAM | END_HEADERS, sid, request_block())
            burst += frame(RST_STREAM, 0, sid, struct.pack(">I", 8))
        burst += frame(HEADERS, END_STREAM | END_HEADERS, 41, request_block())
        c.send(burst)
        for t, f, sid, _ in c.frames():
            self.assertNotEqual(t, GOAWAY)
            if t == HEADERS and sid == 41:
                break
        c.close()

    def test_continuation_flood(self):
        before = self.counted("continuation_flood")
        c = H2Conn(self.gw.port)
        burst = frame(HEADERS, 0, 1, request_block())
        for i in range(200):
            burst += frame(CONTINUATION, 0, 1, literal(b"x-flood-%d" % i, b"v" * 10))
        c.send(burst)
        self.assertEqual(c.goaway_code(), ENHANCE_YOUR_CALM)
        c.close()
        self.assertEqual(self.counted("continuation_flood"), before + 1)
        self.still_serving()

    def test_ping_flood(self):
        before = self.counted("control_frame_flood")
        c = H2Conn(self.gw.port)
        c.send(b"".join(frame(PING, 0, 0, struct.pack(">Q", i)) for i in range(1000)))
        self.assertEqual(c.goaway_code(), ENHANCE_YOUR_CALM)
        c.close()
        self.assertEqual(self.counted("control_frame_flood"), before + 1)
        self.still_serving()

    def test_settings_flood(self):
        before = self.counted("control_frame_flood")
        c = H2Conn(self.gw.port)
        c.send(b"".join(frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 65535 + i))
                        for i in range(1000)))
        self.assertEqual(c.goaway_code(), ENHANCE_YOUR_CALM)
        c.close()
        self.assertEqual(self.counted("control_frame_flood"), before + 1)
        self.still_serving()


if __name__ == "__main__":
    unittest.main()
