"""Test helpers: a real OpenAI-compatible model server and a fault-injecting HTTP server, both on loopback.

``llama_server()`` runs llama-cpp-python's own OpenAI-compatible server on the embedded Gemma 3 270M
model as a subprocess and yields its base URL (``http://127.0.0.1:PORT/v1``). ``FaultServer`` is a
stdlib HTTP server in a thread whose answer is chosen by the first path segment of the base URL:

- ``status-<code>``: answers that HTTP status with a JSON error body (429 and 503 carry ``Retry-After``);
- ``close``: sends the status line, headers and part of the body, then drops the connection;
- ``garbage``: answers 200 with a body that is not JSON;
- ``hang``: reads the request and never answers (until the server is closed).

Nothing here listens on or connects to anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

from tests.support.json_response import send_json

HOST = "127.0.0.1"
MODEL_ALIAS = "gemma"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def closed_port_url() -> str:
    """A base URL whose port refuses connections."""
    return f"http://{HOST}:{free_port()}/v1"


def _tail(log: IO[bytes], chars: int = 4000) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-chars:]


@contextlib.contextmanager
def llama_server(
    model_path: Path | None = None,
    *,
    n_ctx: int = 4096,
    n_threads: int = 2,
    alias: str = MODEL_ALIAS,
    startup_timeout_s: float = 120.0,
) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on 127.0.0.1 and yield its base URL; stop it on exit."""
    if model_path is None:
        from transcript_foundry.llm.embedded_model import ensure_embedded_model

        model_path = ensure_embedded_model()
    port = free_port()
    base_url = f"http://{HOST}:{port}/v1"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--host",
        HOST,
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(n_threads),
        "--n_threads_batch",
        str(n_threads),
        "--model_alias",
        alias,
    ]
    # No proxy may come between the tests and a loopback server.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + startup_timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"llama-cpp-python's server exited with code {proc.returncode} before answering "
                        f"GET {base_url}/models; its last output:\n{_tail(log)}"
                    )
                try:
                    with opener.open(f"{base_url}/models", timeout=2) as response:
                        served = [m.get("id") for m in json.load(response).get("data", [])]
                    if alias in served:
                        break
                except (OSError, ValueError):
                    pass  # not listening yet
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"llama-cpp-python's server did not answer GET {base_url}/models within "
                        f"{startup_timeout_s:.0f} s; its last output:\n{_tail(log)}"
                    )
                time.sleep(0.25)
            yield base_url
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)


class _FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FaultHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        send_json(self, status, body, headers)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.record(self.path)
        mode = self.path.strip("/").split("/", 1)[0]
        if mode.startswith("status-"):
            code = int(mode.removeprefix("status-"))
            body = json.dumps({"error": {"message": f"injected HTTP {code}", "type": "fault_injection"}})
            extra = {"Retry-After": "1"} if code in (429, 503) else {}
            self._send(code, body.encode(), extra)
        elif mode == "close":
            # Promise a 4 KiB body, send a few bytes of it, then drop the connection.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'{"id": "cmpl-1", "choices": [')
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        elif mode == "garbage":
            self.send_response(200)
            body = b"<html>upstream proxy error</html>"
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "hang":
            self.server.stopping.wait(60)
            self.close_connection = True
        else:
            self._send(404, json.dumps({"error": {"message": f"unknown fault mode {mode!r}"}}).encode())


class _FaultHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((HOST, 0), _FaultHandler)
        self.stopping = threading.Event()
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def record(self, path: str) -> None:
        with self._lock:
            self.paths.append(path)


class FaultServer:
    """A loopback HTTP server that fails on purpose. Use as a context manager, or call close()."""

    def __init__(self) -> None:
        self._httpd = _FaultHTTPServer()
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="fault-server", daemon=True
        )
        self._thread.start()

    def url(self, mode: str) -> str:
        """A fresh base URL (``.../v1``) answered in ``mode``; hits() counts the requests made to it."""
        return f"http://{HOST}:{self.port}/{mode}/{uuid.uuid4().hex[:10]}/v1"

    def hits(self, base_url: str) -> int:
        prefix = base_url.split(f"{HOST}:{self.port}", 1)[1]
        with self._httpd._lock:
            return sum(1 for p in self._httpd.paths if p.startswith(prefix))

    def close(self) -> None:
        self._httpd.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
