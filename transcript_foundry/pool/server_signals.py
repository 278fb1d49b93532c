"""What an inference server says about its own load: llama-server ``/metrics`` and ``/slots``, vLLM
``/metrics`` (Prometheus text), and ``/v1/models`` (is our model loaded?).

A server without an endpoint (Ollama, LM Studio, OpenAI: 404, 401, not JSON) simply gives None for it, and
is not asked for it again for a while; the pool then relies on its own in-flight counters. Probes use short timeouts: a busy server that does not
answer in time is busy, not dead (llama.cpp PR #9056), so a probe failure never counts against the node.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


class ServerProbe:
    """The load probes of one server, polite to it: an endpoint it lacks (404 / 405 / not parseable) is
    skipped for ``skip_s``; the model list, which rarely changes and on some servers (llama-cpp-python)
    waits for the model lock behind the running generation, is read every ``models_every_s`` only."""

    def __init__(
        self,
        base_url: str,
        *,
        skip_s: float = 300.0,
        models_every_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.base_url = base_url.rstrip("/")
        self.root = server_root(base_url)
        self.skip_s = skip_s
        self.models_every_s = models_every_s
        self._clock = clock
        self._skip_until: dict[str, float] = {}
        self._models: tuple[str, ...] | None = None
        self._models_at = float("-inf")

    def _get(self, client: httpx.Client, name: str, url: str) -> httpx.Response | None:
        if self._clock() < self._skip_until.get(name, float("-inf")):
            return None
        response = client.get(url)
        if response.status_code != 200:
            self._skip_until[name] = self._clock() + self.skip_s  # absent here: ask again much later
            return None
        return response

    def fetch(self, client: httpx.Client, *, idle: bool = True) -> ServerSignals:
        """One reading. The model list is asked for only while we run nothing on the server (``idle``):
        llama-cpp-python's server answers it only between generations, and a probe queued behind a long
        generation there was seen to slow it past its timeout."""
        waiting = running = slots_total = slots_busy = None
        reached = False
        try:
            response = self._get(client, "metrics", f"{self.root}/metrics")
            reached = True
            if response is not None:
                values = parse_prometheus(response.text)
                waiting, running = _first(values, WAITING_METRICS), _first(values, RUNNING_METRICS)
        except httpx.HTTPError:
            pass  # busy or unreachable: the counters will do
        except ValueError:
            self._skip_until["metrics"] = self._clock() + self.skip_s
        try:
            response = self._get(client, "slots", f"{self.root}/slots")
            reached = True
            if response is not None:
                slots = response.json()
                if isinstance(slots, list):
                    slots_total = len(slots)
                    slots_busy = sum(1 for s in slots if isinstance(s, dict) and s.get("is_processing"))
        except httpx.HTTPError:
            pass
        except ValueError:
            self._skip_until["slots"] = self._clock() + self.skip_s
        if idle and self._clock() - self._models_at >= self.models_every_s:
            self._models_at = self._clock()
            try:
                response = self._get(client, "models", f"{self.base_url}/models")
                reached = True
                if response is not None:
                    data = response.json().get("data", [])
                    self._models = tuple(str(m.get("id")) for m in data if isinstance(m, dict))
            except httpx.HTTPError:
                pass
            except (ValueError, AttributeError):
                self._skip_until["models"] = self._clock() + self.skip_s
        else:
            reached = True  # not asked this time
        return ServerSignals(
            waiting=waiting,
            running=running,
            slots_total=slots_total,
            slots_busy=slots_busy,
            models=self._models,
            error=None if reached else f"{self.root} did not answer the load probes",
        )
