"""Helpers for translation tests: the fake OpenAI-compatible server
(tests/fakes/fake_llm.py) on a free loopback port, and configurations that
point Parley at it."""
import json
import os
import signal
import subprocess
import sys
import urllib.request

from harness import SOURCE_ROOT, WAIT_SECONDS, free_port, wait_for_port, write_temp

FAKE = os.path.join(SOURCE_ROOT, "tests", "fakes", "fake_llm.py")
DRIVER = os.environ.get("PARLEY_TRANSLATE_DRIVER", "")


class FakeLLM:
    """A fake LLM process; stop() ends it by its PID."""

    def __init__(self, config=None):
        self.port = free_port()
        args = [sys.executable, FAKE, "--port", str(self.port)]
        if config is not None:
            args += ["--config", write_temp(json.dumps(config), ".json")]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                     data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=WAIT_SECONDS) as r:
            return json.loads(r.read())

    def configure(self, **kw):
        self._call("POST", "/_admin/config", kw)

    def requests(self):
        return self._call("GET", "/_admin/requests")

    def chat_requests(self):
        return [r for r in self.requests() if r["path"].endswith("/chat/completions")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def provider(name, url, **kw):
    """One provider item as YAML lines."""
    lines = [f"    - name: {name}", f"      base_url: {url}",
             "      model: fake-model"]
    for k, v in kw.items():
        if isinstance(v, dict):
            lines.append(f"      {k}:")
            lines += [f"        {kk}: {vv}" for kk, vv in v.items()]
        else:
            lines.append(f"      {k}: {v}")
    return "\n".join(lines)


def config(*providers, **kw):
    """A parley.yaml with a translation section; returns its path."""
    text = "log:\n  level: error\ntranslation:\n  providers:\n" + \
        "\n".join(providers) + "\n"
    for k, v in kw.items():
        if isinstance(v, dict):
            text += f"  {k}:\n" + "".join(f"    {kk}: {vv}\n" for kk, vv in v.items())
        else:
            text += f"  {k}: {v}\n"
    return write_temp(text)


def run_driver(*args):
    """Runs the C driver; returns (result lines, stats)."""
    r = subprocess.run([DRIVER, *args], capture_output=True, text=True,
                       timeout=WAIT_SECONDS * 4)
    if r.returncode != 0:
        raise AssertionError(f"driver failed ({r.returncode}): {r.stderr}")
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return [x for x in lines if "stats" not in x], lines[-1]["stats"]
