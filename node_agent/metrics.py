"""The agent's Prometheus metrics, in a registry of its own (several agents can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from node_agent.admission import Admission

PREFIX = "transcripts_agent"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class AgentMetrics:
    def __init__(self, admission: Admission, info: dict[str, str]):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            f"{PREFIX}_requests",
            "Requests answered, by route and HTTP status.",
            ["route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "Time from request to the last byte of the answer, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(f"{PREFIX}_tokens", "Tokens processed, by type.", ["type"], registry=r)
        self.rejected = Counter(
            f"{PREFIX}_rejected",
            "Requests refused before reaching the model, by reason.",
            ["reason"],
            registry=r,
        )
        queue = Gauge(f"{PREFIX}_queue_depth", "Calls waiting for a slot.", registry=r)
        queue.set_function(lambda: admission.waiting)
        in_flight = Gauge(f"{PREFIX}_in_flight", "Calls running on the model now.", registry=r)
        in_flight.set_function(lambda: admission.in_flight)
        limit = Gauge(f"{PREFIX}_max_concurrency", "Calls the agent runs at once.", registry=r)
        limit.set(admission.max_concurrency)
        queue_limit = Gauge(f"{PREFIX}_max_queue", "Calls the agent lets wait.", registry=r)
        queue_limit.set(admission.max_queue)
        draining = Gauge(f"{PREFIX}_draining", "1 while an admin has stopped admissions.", registry=r)
        draining.set_function(lambda: int(admission.draining))
        Info(f"{PREFIX}_node", "The node this agent serves.", registry=r).info(info)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
