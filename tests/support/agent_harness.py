"""Test helpers for the node agent: the real agent served by uvicorn in a thread on 127.0.0.1, a gated
OpenAI-compatible upstream to put in front of it, tokens, and a self-signed certificate.

``running_agent(config)`` starts ``AgentServer`` (the same class `transcripts agent` runs) on a free port
and stops it on exit, so registration, heartbeats and deregistration happen as in production.
``GatedUpstream`` answers like an OpenAI server but holds every completion until the test opens its gate,
so tests can fill the agent's queue deterministically without a model.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from node_agent.agent import NodeAgent
from node_agent.auth import Role, mint_token
from node_agent.config import AgentConfig
from node_agent.server import AgentServer

HOST = "127.0.0.1"
SECRET = "test-secret-" + "x" * 40
FAKE_MODEL = "fake-model"


def token(role: str, subject: str = "tester", ttl_s: int = 600, secret: str = SECRET) -> str:
    return mint_token(Role[role], subject, ttl_s, secret=secret)


def bearer(role: str, subject: str = "tester") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, subject)}"}


@contextlib.contextmanager
def running_agent(config: AgentConfig, startup_timeout_s: float = 120.0) -> Iterator[AgentServer]:
    server = AgentServer(NodeAgent(config))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="node-agent", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(f"the agent did not start: {failure[0] if failure else 'thread exited'}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the agent did not start within {startup_timeout_s:.0f} s")
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.stop()
        thread.join(timeout=30)
        if thread.is_alive():
            raise RuntimeError("the agent did not stop within 30 s")


def proxy_config(upstream_url: str, tmp_path: Path, **overrides: Any) -> AgentConfig:
    """An agent on a free loopback port in front of ``upstream_url``, HS256 auth, no registration."""
    values: dict[str, Any] = {
        "port": 0,
        "node_id": "test-node",
        "upstream_url": upstream_url,
        "upstream_model": FAKE_MODEL,
        "jwt_secret": SECRET,
        "audit_log": tmp_path / "audit.jsonl",
        "register": False,
        "rate_limit_rps": 0.0,
    }
    values.update(overrides)
    return AgentConfig(**values)


class _GatedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
    server: _GatedHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _json(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": FAKE_MODEL, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.server.arrive(body, dict(self.headers))
        self.server.gate.wait(30)
        chat = self.path.endswith("/chat/completions")
        words = ["Hello", " from", " upstream"]
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for word in words:
                choice = {"index": 0, "delta": {"content": word}} if chat else {"index": 0, "text": word}
                self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                self.wfile.flush()
            usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
            self.wfile.write(
                f"data: {json.dumps({'choices': [], 'usage': usage})}\n\ndata: [DONE]\n\n".encode()
            )
            self.close_connection = True
            return
        text = "".join(words)
        choice: dict[str, Any] = (
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            if chat
            else {"index": 0, "text": text, "finish_reason": "stop"}
        )
        self._json(
            200,
            {
                "id": "cmpl-test",
                "object": "chat.completion" if chat else "text_completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [choice],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            },
        )


class _GatedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((HOST, 0), _GatedHandler)
        self.gate = threading.Event()
        self.gate.set()
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.changed = threading.Condition()

    def arrive(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self.changed:
            self.bodies.append(body)
            self.headers.append(headers)
            self.changed.notify_all()


class GatedUpstream:
    """An OpenAI-compatible server on loopback whose completions wait while the gate is closed."""

    def __init__(self) -> None:
        self._httpd = _GatedHTTPServer()
        self.url = f"http://{HOST}:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return self._httpd.bodies

    @property
    def headers(self) -> list[dict[str, str]]:
        return self._httpd.headers

    def hold(self) -> None:
        self._httpd.gate.clear()

    def release(self) -> None:
        self._httpd.gate.set()

    def wait_for_arrivals(self, count: int, timeout_s: float = 10.0) -> None:
        with self._httpd.changed:
            if not self._httpd.changed.wait_for(lambda: len(self._httpd.bodies) >= count, timeout_s):
                raise TimeoutError(
                    f"{len(self._httpd.bodies)} request(s) reached the upstream, wanted {count}"
                )

    def close(self) -> None:
        self.release()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> GatedUpstream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def self_signed_cert(folder: Path, common_name: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, written as PEM files in ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "agent.crt", folder / "agent.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for_audit(path: Path, count: int, timeout_s: float = 5.0) -> list[dict[str, Any]]:
    """The audit lines once there are at least ``count`` (each is written just after its answer is sent)."""
    deadline = time.monotonic() + timeout_s
    while True:
        lines = audit_lines(path) if path.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def url_from_banner(banner: str) -> str:
    """The /v1 URL a `transcripts agent` process prints on its first stderr line."""
    found = re.search(r"at (http://127\.0\.0\.1:\d+/v1) ", banner)
    assert found, banner
    return found.group(1)


def wait_for_health(url: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """The agent's /healthz once it answers (``url`` ends in /v1)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return httpx.get(url.removesuffix("/v1") + "/healthz", timeout=2).json()
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "the agent did not answer /healthz"
            time.sleep(0.1)
