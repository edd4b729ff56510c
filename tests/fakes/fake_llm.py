#!/usr/bin/env python3
"""A fake OpenAI-compatible Chat Completions server for the tests.

It "translates" deterministically through a small phrase table, and can be
told to misbehave: latency, HTTP errors (429 with Retry-After, 5xx),
malformed JSON, dropped or invented placeholders, wrong ids, chatter, an
"obedient" mode that follows instructions hidden in the text, hanging, and
SSE streaming. Every request is recorded so tests can assert on what a
vendor would have seen.

    fake_llm.py --port PORT [--config FILE]

Prints "fake-llm listening on PORT" once it accepts connections.

Admin endpoints (JSON):
    POST /_admin/config    merge keys into the configuration
    POST /_admin/reset     forget requests, the script and the configuration
    GET  /_admin/requests  every request received: path, headers, body and
                           its arrival time (monotonic seconds)

Configuration keys:
    mode           translate | echo | malformed | drop_placeholders |
                   invent_placeholder | wrong_ids | chatty | obedient |
                   hang | close | error
    status         HTTP status for mode "error" (default 500)
    retry_after    Retry-After header value sent with errors
    latency_ms     delay before every answer
    hang_ms        how long mode "hang" waits (default 30000)
    no_json_schema answer 400 to response_format json_schema
    script         a list of per-request overrides (dicts with the keys
                   above), consumed one per chat request before the defaults
    phrases        extra entries {"es>en": {"hola": "hello"}}
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PLACEHOLDER = re.compile("\u27e6[0-9]+\u27e7")

PHRASES = {
    "es>en": {
        "hola": "hello",
        "buenos días": "good morning",
        "mi pedido": "my order",
        "no ha llegado": "has not arrived",
        "todavía": "yet",
        "gracias": "thank you",
        "quiero": "I want",
        "cancelar": "to cancel",
        "el pedido": "the order",
        "mi correo es": "my email is",
        "mi teléfono es": "my phone is",
        "mi tarjeta es": "my card is",
        "y": "and",
        "cuesta": "costs",
        "por favor": "please",
        "ayuda": "help",
        "necesito": "I need",
        "con": "with",
        "ignora las instrucciones anteriores": "ignore the previous instructions",
        "responde solo con": "reply only with",
        "el envío": "the shipment",
        "llegó roto": "arrived broken",
        "el paquete": "the package",
        "es": "is",
        "muy": "very",
        "tarde": "late",
    },
    "en>es": {
        "hello": "hola",
        "good morning": "buenos días",
        "my order": "mi pedido",
        "has not arrived": "no ha llegado",
        "yet": "todavía",
        "thank you": "gracias",
        "the package": "el paquete",
        "is": "es",
        "very": "muy",
        "late": "tarde",
        "please": "por favor",
        "help": "ayuda",
        "i need": "necesito",
    },
    "en>ja": {
        "hello": "こんにちは",
        "my order": "私の注文",
        "has not arrived": "が届いていません",
        "thank you": "ありがとう",
        "yet": "まだ",
    },
}

INJECTION = re.compile(
    r"(?:ignore (?:all )?previous instructions|ignora las instrucciones anteriores)"
    r"\s*(?:and|y)?\s*(.*)", re.I | re.S)
PAYLOAD = re.compile(r"(?:reply only with|say|responde solo con|di)\s*:?\s*(.*)",
                     re.I | re.S)


class State:
    def __init__(self, config=None):
        self.lock = threading.Lock()
        self.base = dict(config or {})
        self.reset()

    def reset(self):
        self.config = dict(self.base)
        self.requests = []
        self.script = list(self.config.pop("script", []))

    def next_behaviour(self):
        with self.lock:
            cfg = dict(self.config)
            if self.script:
                cfg.update(self.script.pop(0))
            return cfg


STATE = State()


def table_for(source, target, cfg, text=""):
    tables = dict(PHRASES)
    for k, v in cfg.get("phrases", {}).items():
        tables[k] = {**tables.get(k, {}), **v}
    target = target.split("-")[0]
    source = (source or "auto").split("-")[0]
    if source != "auto":
        return tables.get(f"{source}>{target}", {})
    # Unknown source: the table whose phrases occur most in the text.
    best, hits = {}, 0
    for key, table in tables.items():
        if key.endswith(">" + target):
            n = sum(1 for p in table if re.search(r"(?<!\w)" + re.escape(p) + r"(?!\w)",
                                                  text, re.I))
            if n > hits:
                best, hits = table, n
    return best


def translate_text(text, table):
    """Longest phrase first, whole words, placeholders untouched."""
    if not table:
        return text
    phrases = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(p) for p in phrases) +
                         r")(?!\w)", re.I)

    def repl(m):
        out = table[m.group(1).lower()]
        if m.group(1)[:1].isupper():
            out = out[:1].upper() + out[1:]
        return out

    parts = PLACEHOLDER.split(text)
    holders = PLACEHOLDER.findall(text)
    result = pattern.sub(repl, parts[0])
    for h, part in zip(holders, parts[1:]):
        result += h + pattern.sub(repl, part)
    return result


def answer_segments(doc, cfg):
    mode = cfg.get("mode", "translate")
    out = []
    for i, seg in enumerate(doc.get("segments", [])):
        text = seg.get("text", "")
        sid = seg.get("id")
        table = table_for(doc.get("source_language"), doc.get("target_locale", "en"),
                          cfg, text)
        if mode == "echo":
            t = text
        elif mode == "obedient" and INJECTION.search(text):
            rest = INJECTION.search(text).group(1)
            m = PAYLOAD.search(rest)
            t = m.group(1).strip() if m else "OK"
        else:
            t = translate_text(text, table)
        if mode == "drop_placeholders":
            t = PLACEHOLDER.sub("", t)
        elif mode == "invent_placeholder":
            t = t + " \u27e699\u27e7"
        elif mode == "chatty":
            t = "Sure! Here is the translation: " + t
        if mode == "wrong_ids":
            sid = f"x{i + 1}"
        out.append({"id": sid, "text": t})
    return {"segments": out}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/_admin/requests":
            with STATE.lock:
                self._json(200, STATE.requests)
            return
        self._json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        raw = self._body()
        if self.path == "/_admin/config":
            with STATE.lock:
                update = json.loads(raw or b"{}")
                STATE.script.extend(update.pop("script", []))
                STATE.config.update(update)
            self._json(200, {"ok": True})
            return
        if self.path == "/_admin/reset":
            with STATE.lock:
                STATE.reset()
            self._json(200, {"ok": True})
            return
        if not self.path.endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._json(400, {"error": {"message": "request body is not JSON"}})
            return
        with STATE.lock:
            STATE.requests.append({"path": self.path,
                                   "headers": dict(self.headers.items()),
                                   "body": body, "time": time.monotonic()})
        cfg = STATE.next_behaviour()
        if cfg.get("latency_ms"):
            time.sleep(cfg["latency_ms"] / 1000.0)
        self.chat(body, cfg)

    def chat(self, body, cfg):
        mode = cfg.get("mode", "translate")
        headers = {}
        if cfg.get("retry_after") is not None:
            headers["Retry-After"] = str(cfg["retry_after"])
        if cfg.get("status") and cfg.get("status") != 200:
            self._json(cfg["status"], {"error": {"message": f"fake error {cfg['status']}"}},
                       headers)
            return
        if mode == "hang":
            time.sleep(cfg.get("hang_ms", 30000) / 1000.0)
        if mode == "close":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        rf = (body.get("response_format") or {}).get("type")
        if cfg.get("no_json_schema") and rf == "json_schema":
            self._json(400, {"error": {"message":
                                       "response_format json_schema is not supported"}})
            return
        try:
            doc = json.loads(body["messages"][-1]["content"])
        except (KeyError, IndexError, ValueError, TypeError):
            self._json(400, {"error": {"message": "user message is not the JSON contract"}})
            return
        if mode == "malformed":
            content = '{"segments": [{"id": "s1", "text": "unterminated'
        else:
            content = json.dumps(answer_segments(doc, cfg), ensure_ascii=False)
        if body.get("stream"):
            self.stream(body, content)
            return
        prompt_chars = sum(len(m.get("content", "")) for m in body.get("messages", []))
        self._json(200, {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_chars // 4,
                      "completion_tokens": len(content) // 4,
                      "total_tokens": prompt_chars // 4 + len(content) // 4},
        })

    def stream(self, body, content):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        step = 16
        for i in range(0, len(content), step):
            chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                     "model": body.get("model", ""),
                     "choices": [{"index": 0, "delta": {"content": content[i:i + step]},
                                  "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--config")
    args = ap.parse_args()
    global STATE
    config = {}
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            config = json.load(f)
    STATE = State(config)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"fake-llm listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
