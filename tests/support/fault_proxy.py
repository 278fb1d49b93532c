"""A fault-injecting HTTP proxy on 127.0.0.1 in front of one LLM server (an agent, llama-server, a simulated
node): real sockets both ways, faults the way a flaky network and a busy server make them.

Each request is either passed through (forwarded to the upstream with its headers and body, the answer sent
back as it came) or answered with one injected fault, drawn with ``FaultMix``'s shares:

- ``rate_limited``: HTTP 429 with ``Retry-After`` of ``retry_after_s`` (a range, whole or fractional s);
- ``server_error``: HTTP 500 with an OpenAI-style error body;
- ``dropped``: the connection is closed without an answer;
- ``truncated``: the upstream's real answer, cut to half its body (a 200 whose JSON is malformed).

``refuse_for(seconds)`` closes the listening socket: connections are refused until it listens again on the
same port. Only ``/v1/completions`` and ``/v1/chat/completions`` get faults; every other path (``/metrics``,
``/slots``, ``/v1/models``) passes through. ``counts`` says how many calls and faults of each kind it saw.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOST = "127.0.0.1"
FAULT_PATHS = ("/v1/completions", "/v1/chat/completions")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class FaultMix:
    rate_limited: float = 0.0
    server_error: float = 0.0
    dropped: float = 0.0
    truncated: float = 0.0
    retry_after_s: tuple[float, float] = (1.0, 2.0)

    def draw(self, rng: random.Random) -> str | None:
        x = rng.random()
        for kind in ("rate_limited", "server_error", "dropped", "truncated"):
            share = getattr(self, kind)
            if x < share:
                return kind
            x -= share
        return None


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length))

    def _handle(self, body: bytes) -> None:
        proxy = self.server.proxy
        fault = proxy.fault_for(self.path)
        if fault == "dropped":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "rate_limited":
            wait = proxy.retry_after()
            self._answer(
                429, b'{"error": {"message": "rate limited (injected)"}}', {"Retry-After": f"{wait:g}"}
            )
            return
        if fault == "server_error":
            self._answer(500, b'{"error": {"message": "internal error (injected)"}}', {})
            return
        try:
            status, headers, answer = proxy.forward(self.command, self.path, dict(self.headers), body)
        except OSError as exc:  # the upstream is down: a gateway error, as a real proxy would say
            self._answer(502, f'{{"error": {{"message": "upstream: {exc}"}}}}'.encode(), {})
            return
        if fault == "truncated":
            answer = answer[: len(answer) // 2]
        self._answer(status, answer, headers)

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, proxy: FaultProxy):
        super().__init__((HOST, port), _ProxyHandler)
        self.proxy = proxy

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up mid-answer is part of the weather here


class FaultProxy:
    def __init__(self, upstream_url: str, mix: FaultMix | None = None, *, seed: int = 0):
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or HOST, parts.port or 80)
        self.prefix = parts.path.rstrip("/").removesuffix("/v1")  # the upstream's path before /v1
        self.mix = mix or FaultMix()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.port = 0
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None
        self._refusing: threading.Timer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def faults(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind not in ("calls", "passed"))

    # ---- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        self._server = _ProxyServer(self.port, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"fault-proxy-{self.port}",
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def refuse_for(self, seconds: float) -> None:
        """Stop listening now (connections refused) and listen again on the same port after ``seconds``."""
        self.stop()
        self._count("refusing_periods")
        self._refusing = threading.Timer(seconds, self.start)
        self._refusing.daemon = True
        self._refusing.start()

    def close(self) -> None:
        if self._refusing is not None:
            self._refusing.cancel()
        self.stop()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the proxy's side -----------------------------------------------------------------------------
    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def fault_for(self, path: str) -> str | None:
        if not path.startswith(FAULT_PATHS):
            return None
        with self._lock:
            fault = self.mix.draw(self._rng)
        self._count("calls")
        self._count(fault or "passed")
        return fault

    def retry_after(self) -> float:
        low, high = self.mix.retry_after_s
        with self._lock:
            return round(self._rng.uniform(low, high), 1)

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """The upstream's answer: status, headers, body (a fresh connection per call, as clients reconnect)."""
        host, port = self.upstream
        conn = http.client.HTTPConnection(host, port, timeout=120)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(method, self.prefix + path, body=body or None, headers=sent)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()
