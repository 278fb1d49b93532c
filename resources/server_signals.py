"""What an inference server says about its own load: llama-server ``/metrics`` and ``/slots``, vLLM
``/metrics`` (Prometheus text), and ``/v1/models`` (is our model loaded?).

A server without an endpoint (Ollama, LM Studio, OpenAI: 404, 401, not JSON) simply gives None for it; the
pool then relies on its own in-flight counters. Probes use short timeouts: a busy server that does not
answer in time is busy, not dead (llama.cpp PR #9056), so a probe failure never counts against the node.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

# metric name -> what it counts, for each server family (summed over labels)
WAITING_METRICS = ("llamacpp:requests_deferred", "vllm:num_requests_waiting")
RUNNING_METRICS = ("llamacpp:requests_processing", "vllm:num_requests_running")


@dataclass(frozen=True)
class ServerSignals:
    waiting: int | None = None  # requests queued inside the server
    running: int | None = None  # requests being decoded
    slots_total: int | None = None  # llama-server parallel slots
    slots_busy: int | None = None
    models: tuple[str, ...] | None = None  # what /v1/models lists
    error: str | None = None  # why nothing could be read (the server itself did not answer)

    @property
    def backend_waiting(self) -> int:
        """Requests the server holds beyond those it decodes (0 where it does not say)."""
        return self.waiting or 0


def parse_prometheus(text: str) -> dict[str, float]:
    """Sample name -> value summed over label sets (``llamacpp:requests_deferred`` -> 3.0)."""
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[sample.name] = values.get(sample.name, 0.0) + float(sample.value)
    return values


def _first(values: dict[str, float], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in values:
            return int(values[name])
    return None


def server_root(base_url: str) -> str:
    """``http://host:8080/v1`` -> ``http://host:8080`` (where /metrics, /slots and /health live)."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def fetch_server_signals(base_url: str, client: httpx.Client) -> ServerSignals:
    root = server_root(base_url)
    waiting = running = slots_total = slots_busy = None
    models: tuple[str, ...] | None = None
    reached = False
    try:
        response = client.get(f"{root}/metrics")
        reached = True
        if response.status_code == 200:
            values = parse_prometheus(response.text)
            waiting, running = _first(values, WAITING_METRICS), _first(values, RUNNING_METRICS)
    except (httpx.HTTPError, ValueError):
        pass  # no metrics endpoint we can read: the counters will do
    try:
        response = client.get(f"{root}/slots")
        reached = True
        if response.status_code == 200:
            slots = response.json()
            if isinstance(slots, list):
                slots_total = len(slots)
                slots_busy = sum(1 for s in slots if isinstance(s, dict) and s.get("is_processing"))
    except (httpx.HTTPError, ValueError):
        pass
    try:
        response = client.get(f"{base_url.rstrip('/')}/models")
        reached = True
        if response.status_code == 200:
            data = response.json().get("data", [])
            models = tuple(str(m.get("id")) for m in data if isinstance(m, dict))
    except (httpx.HTTPError, ValueError, AttributeError):
        pass
    return ServerSignals(
        waiting=waiting,
        running=running,
        slots_total=slots_total,
        slots_busy=slots_busy,
        models=models,
        error=None if reached else f"{root} did not answer the load probes",
    )
