"""A simulated OpenAI-compatible LLM node on 127.0.0.1 with a known capacity and injectable faults.

``SimulatedNode`` answers ``/v1/completions`` and ``/v1/chat/completions`` like llama-server would: it has
``slots`` requests decoding at once at ``tokens_per_s`` each (so its capacity is ``slots x tokens_per_s``
output tokens/s); more requests wait for a slot. It also serves llama-server's ``/metrics`` (requests
processing / deferred), ``/slots`` and ``/v1/models``. Faults, all changeable while it runs:

- ``fail_rate`` of requests answer ``fail_mode``: HTTP 500, a dropped connection mid-response, or a 200
  whose body is not JSON;
- ``rate_limit_per_s``: above that many requests per second, HTTP 429 with ``Retry-After``;
- ``overload_above``: with more requests than that inside, HTTP 503 with ``Retry-After``;
- ``stop()`` / ``start()``: the node dies (connections refused) and comes back on the same port.

Each completed request's prompt is logged in ``completed`` so tests can check nothing ran twice. The
completion text echoes the prompt's ``key=<...>`` token. Used by tests/transcript_foundry/pool/test_node_pool.py and
bench/pool_efficiency.py; binds nothing but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from tests.support.json_response import send_json

HOST = "127.0.0.1"
MODEL = "sim"
CHATTER_WORDS = [
    "claim",
    "invoice",
    "deductible",
    "pharmacy",
    "referral",
    "copay",
    "premium",
    "appointment",
    "refill",
    "portal",
    "address",
    "balance",
    "coverage",
    "network",
    "specialist",
    "statement",
    "transfer",
    "account",
    "member",
    "plan",
    "doctor",
    "clinic",
    "visit",
    "renewal",
    "payment",
    "schedule",
    "letter",
    "form",
    "number",
    "office",
    "update",
    "record",
    "review",
    "approval",
]


@dataclass
class NodeBehaviour:
    slots: int = 2
    tokens_per_s: float = 400.0  # per slot
    completion_tokens: int = 16
    fail_rate: float = 0.0
    fail_mode: Literal["status-500", "drop", "garbage"] = "status-500"
    rate_limit_per_s: float | None = None
    overload_above: int | None = None
    retry_after_s: float = 1.0
    metrics: bool = True
    reply: Literal["echo", "chatter"] = "echo"  # chatter: a fresh spoken-style line for each completion

    @property
    def capacity_tokens_per_s(self) -> float:
        return self.slots * self.tokens_per_s


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
    server: _SimHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        send_json(self, status, payload, headers)

    def do_GET(self) -> None:
        node = self.server.node
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": node.model, "object": "model"}]})
        elif self.path == "/metrics" and node.behaviour.metrics:
            text = (
                "# HELP llamacpp:requests_processing Number of requests processing.\n"
                "# TYPE llamacpp:requests_processing gauge\n"
                f"llamacpp:requests_processing {node.processing}\n"
                "# HELP llamacpp:requests_deferred Number of requests deferred.\n"
                "# TYPE llamacpp:requests_deferred gauge\n"
                f"llamacpp:requests_deferred {node.deferred}\n"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
        elif self.path == "/slots" and node.behaviour.metrics:
            busy = node.processing
            self._send(200, [{"id": i, "is_processing": i < busy} for i in range(node.behaviour.slots)])
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        node = self.server.node
        chat = self.path.endswith("/chat/completions")
        prompt = json.dumps(request.get("messages")) if chat else str(request.get("prompt", ""))
        verdict = node.admit()
        b = node.behaviour
        try:
            if verdict == "rate_limited":
                self._send(
                    429, {"error": {"message": "rate limited"}}, {"Retry-After": f"{b.retry_after_s:g}"}
                )
                return
            if verdict == "overloaded":
                self._send(
                    503, {"error": {"message": "server busy"}}, {"Retry-After": f"{b.retry_after_s:g}"}
                )
                return
            if node.rng_fail():
                node.count("failed")
                if b.fail_mode == "status-500":
                    self._send(500, {"error": {"message": "injected failure"}})
                elif b.fail_mode == "garbage":
                    self._send(200, b"<html>bad gateway</html>")
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "4096")
                    self.end_headers()
                    self.wfile.write(b'{"id": "x", "choices": [')
                    self.wfile.flush()
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                return
            tokens = int(request.get("max_tokens") or b.completion_tokens)
            tokens = min(tokens, b.completion_tokens)
            node.decode(tokens)
            key = re.search(r"key=([\w.-]+)", prompt)
            text = node.chatter() if b.reply == "chatter" else f"done {key.group(1) if key else '?'}"
            node.completed_request(prompt)
            usage = {"prompt_tokens": len(prompt) // 4, "completion_tokens": tokens, "total_tokens": tokens}
            if chat:
                choice = {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
                self._send(
                    200,
                    {
                        "id": "c",
                        "object": "chat.completion",
                        "created": 0,
                        "model": node.model,
                        "choices": [choice],
                        "usage": usage,
                    },
                )
            else:
                choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
                self._send(
                    200,
                    {
                        "id": "c",
                        "object": "text_completion",
                        "created": 0,
                        "model": node.model,
                        "choices": [choice],
                        "usage": usage,
                    },
                )
        finally:
            node.leave()


class _SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, node: SimulatedNode):
        self.node = node
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (a probe's short timeout, a dropped test connection) is not an error."""


class SimulatedNode:
    def __init__(self, behaviour: NodeBehaviour | None = None, *, model: str = MODEL, seed: int = 0):
        self.behaviour = behaviour or NodeBehaviour()
        self.model = model
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(self.behaviour.slots)
        self._inside = 0
        self.processing = 0
        self.deferred = 0
        self._arrivals: deque[float] = deque()
        self.completed: list[str] = []
        self.counts: dict[str, int] = {}
        self.max_inside = 0
        self.busy_slot_s = 0.0  # slot-seconds spent decoding: utilisation = busy_slot_s / (slots x wall)
        self.port = 0
        self._httpd: _SimHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.start()

    # ---- lifecycle ------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def start(self) -> None:
        self._httpd = _SimHTTPServer(self.port, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"sim-{self.port}",
        )
        self._thread.start()

    def stop(self) -> None:
        """Die: stop listening (new connections are refused) until start()."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def set_slots(self, slots: int) -> None:
        self.behaviour.slots = slots
        self._slots = threading.Semaphore(slots)

    # ---- the server's side ----------------------------------------------------------------------------
    def count(self, what: str) -> None:
        with self._lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def rng_fail(self) -> bool:
        with self._lock:
            return self.behaviour.fail_rate > 0 and self._rng.random() < self.behaviour.fail_rate

    def admit(self) -> str:
        b = self.behaviour
        now = time.monotonic()
        with self._lock:
            self.counts["requests"] = self.counts.get("requests", 0) + 1
            if b.rate_limit_per_s is not None:
                while self._arrivals and now - self._arrivals[0] > 1.0:
                    self._arrivals.popleft()
                if len(self._arrivals) >= b.rate_limit_per_s:
                    self.counts["rate_limited"] = self.counts.get("rate_limited", 0) + 1
                    self._inside += 1
                    return "rate_limited"
                self._arrivals.append(now)
            if b.overload_above is not None and self._inside >= b.overload_above:
                self.counts["overloaded"] = self.counts.get("overloaded", 0) + 1
                self._inside += 1
                return "overloaded"
            self._inside += 1
            self.max_inside = max(self.max_inside, self._inside)
            return "ok"

    def leave(self) -> None:
        with self._lock:
            self._inside -= 1

    def decode(self, tokens: int) -> None:
        with self._lock:
            self.deferred += 1
        slots = self._slots
        slots.acquire()
        with self._lock:
            self.deferred -= 1
            self.processing += 1
        seconds = tokens / self.behaviour.tokens_per_s
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self.processing -= 1
                self.busy_slot_s += seconds
            slots.release()

    def chatter(self) -> str:
        """A line that greets and takes leave, in words no earlier line used together (never a repeat)."""
        with self._lock:
            picked = self._rng.sample(CHATTER_WORDS, 6)
        return f"Hello, thank you for calling; {' '.join(picked)}. Goodbye."

    def completed_request(self, prompt: str) -> None:
        with self._lock:
            self.completed.append(prompt)
            self.counts["completed"] = self.counts.get("completed", 0) + 1

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> SimulatedNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class KeyedRequests:
    """A dispatcher work source of plain completion requests, one per key, each sent as ``key=<key>``.

    ``outcomes`` maps each key to ("ok", node) or ("failed", reason); ``finals`` counts the final outcomes
    reported per key (exactly one each, or the dispatcher lost or doubled something); ``latencies`` run
    from a request's first dispatch to its final outcome."""

    def __init__(self, max_tokens: int = 16):
        self.max_tokens = max_tokens
        self.outcomes: dict[str, tuple[str, str]] = {}
        self.finals: dict[str, int] = {}
        self.attempts: dict[str, list[str]] = {}
        self.latencies: list[float] = []
        self._started: dict[str, float] = {}

    def items(self, n: int, prefix: str = "r") -> list[Any]:
        from transcript_foundry.pool.dispatch import WorkItem

        return [WorkItem(key=f"{prefix}{i}", payload=None) for i in range(n)]

    def take(self, node: Any, ready: list[Any]) -> list[Any]:
        self._started.setdefault(ready[0].key, time.perf_counter())  # latency runs from the first dispatch
        return ready[:1]

    def run(self, backend: Any, node: Any, items: list[Any]) -> list[Any]:
        from transcript_foundry.llm.backend import SamplingParams
        from transcript_foundry.pool.dispatch import ItemResult

        completion = backend.complete(f"key={items[0].key}", SamplingParams(max_tokens=self.max_tokens))
        return [ItemResult(value=completion.text)]

    def _final(self, key: str, outcome: tuple[str, str]) -> None:
        self.finals[key] = self.finals.get(key, 0) + 1
        self.outcomes[key] = outcome
        self.latencies.append(time.perf_counter() - self._started.get(key, time.perf_counter()))

    def on_success(self, item: Any, node_id: str, value: Any) -> None:
        self.attempts.setdefault(item.key, []).append(f"{node_id}: ok")
        self._final(item.key, ("ok", node_id))

    def on_failure(self, item: Any, node_id: str, reason: str, final: bool) -> None:
        self.attempts.setdefault(item.key, []).append(f"{node_id}: {reason}")
        if final:
            self._final(item.key, ("failed", reason))
