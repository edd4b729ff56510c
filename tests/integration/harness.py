"""Shared helpers for the integration tests: run the real `parley` binary,
start `parley serve` and wait on what it reports, never on sleeps.

Environment (set by meson): PARLEY_BIN, PARLEY_SOURCE_ROOT.
"""
import os
import queue
import signal
import socket
import subprocess
import tempfile
import threading
import time

BIN = os.environ.get("PARLEY_BIN", "parley")
SOURCE_ROOT = os.environ.get(
    "PARLEY_SOURCE_ROOT",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# Upper bound for anything a test waits on; generous for sanitizer builds.
WAIT_SECONDS = 30


def run(*args, env=None, stdin=None, timeout=WAIT_SECONDS):
    """Runs `parley ARGS...` to completion; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([BIN, *args], capture_output=True, text=True,
                          env=full_env, input=stdin, timeout=timeout)


def write_temp(text, suffix=".yaml"):
    """Writes `text` to a new temporary file and returns its path."""
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="parley-test-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# What Parley logs when another process holds a listen address.
PORT_IN_USE = "in use by another process"


def free_port():
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, host="127.0.0.1", timeout=WAIT_SECONDS):
    """Blocks until a TCP connect to host:port succeeds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing accepts on {host}:{port}")
            # Back off briefly between connect attempts (polling a port,
            # not synchronising on time).
            time.sleep(0.02)


class Server:
    """A `parley serve` process whose stderr lines are collected."""

    def __init__(self, config_path, extra_args=(), env=None):
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            [BIN, "serve", "-c", config_path, *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=full_env)
        self.lines = queue.Queue()
        self.seen = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_line(self, needle, timeout=WAIT_SECONDS):
        """Returns the first new stderr line containing `needle`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line with {needle!r}; saw {self.seen}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(
                    f"server exited ({self.proc.wait()}) before {needle!r}; "
                    f"saw {self.seen}")
            self.seen.append(line)
            if needle in line:
                return line

    def wait_ready(self):
        return self.wait_line("ready")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=WAIT_SECONDS):
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout)
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.seen.append(line)
        self.proc.stderr.close()
        return code

    def stop(self):
        """Stops the process by its PID if it still runs (test cleanup)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(WAIT_SECONDS)
        if not self.proc.stderr.closed:
            self.proc.stderr.close()


class Backend:
    """tests/fakes/backend.py on a free loopback port (stopped by PID)."""

    def __init__(self):
        script = os.path.join(SOURCE_ROOT, "tests", "fakes", "backend.py")
        self.proc = subprocess.Popen(
            ["python3", script], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            self.proc.kill()
            raise RuntimeError(f"backend did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=WAIT_SECONDS)
        self.proc.stdout.close()


class Gateway(Server):
    """`parley serve` with a generated configuration on free ports.

    `body` is YAML added after the listen/admin sections; the strings
    {backend}, {port} and {admin} in it are replaced.
    """

    def __init__(self, body="", backend=None, workers=1, listen_extra="",
                 env=None):
        self.port = free_port()
        self.admin = free_port()
        text = (f"workers: {workers}\n"
                f"listen:\n  - address: 127.0.0.1:{self.port}\n{listen_extra}"
                f"admin:\n  address: 127.0.0.1:{self.admin}\n")
        text += body.replace("{backend}", backend.url if backend else "") \
                    .replace("{port}", str(self.port)) \
                    .replace("{admin}", str(self.admin))
        self.config_text = text
        self.config_path = write_temp(text)
        self.env = env
        super().__init__(self.config_path, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        self.admin_base = f"http://127.0.0.1:{self.admin}"

    def start(self):
        # free_port() races with other tests: a port can be taken between
        # the check and the bind. Parley refuses a port another process
        # holds; pick new ports then.
        for attempt in range(3):
            try:
                self.wait_ready()
                break
            except AssertionError:
                if attempt == 2 or not any(PORT_IN_USE in l for l in self.seen):
                    raise
                self.wait_exit()
                self._respawn()
        wait_for_port(self.port)
        return self

    def _respawn(self):
        old_port, old_admin = self.port, self.admin
        self.port, self.admin = free_port(), free_port()
        self.config_text = self.config_text \
            .replace(f"127.0.0.1:{old_port}\n", f"127.0.0.1:{self.port}\n") \
            .replace(f"127.0.0.1:{old_admin}\n", f"127.0.0.1:{self.admin}\n")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(self.config_text)
        Server.__init__(self, self.config_path, env=self.env)
        self.base = f"http://127.0.0.1:{self.port}"
        self.admin_base = f"http://127.0.0.1:{self.admin}"

    def rewrite(self, body, backend=None):
        text = self.config_text.split("admin:\n")[0] + \
            f"admin:\n  address: 127.0.0.1:{self.admin}\n" + \
            body.replace("{backend}", backend.url if backend else "")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def stop(self):
        super().stop()
        if os.path.exists(self.config_path):
            os.unlink(self.config_path)


def curl(*args, timeout=WAIT_SECONDS):
    """Runs curl with ARGS; returns CompletedProcess (bytes)."""
    return subprocess.run(["curl", "-sS", *args], capture_output=True,
                          timeout=timeout)


def http_get(url, timeout=WAIT_SECONDS):
    """(status, body bytes) of a GET with the standard library."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes, returns everything read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)


def metric(admin_base, name_and_labels):
    """The value of one metric line (summed if it matches several)."""
    _, body = http_get(admin_base + "/metrics")
    total = 0.0
    found = False
    for line in body.decode().splitlines():
        if line.startswith(name_and_labels):
            total += float(line.rsplit(" ", 1)[1])
            found = True
    return total if found else None
