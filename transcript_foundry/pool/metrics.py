"""Orchestrator metrics for Prometheus: the fleet as routing sees it, what the dispatcher did, the ledger.

Two producers, one naming scheme (``transcripts_`` prefix; counters end in ``_total``; units in the name):

- ``DispatchMetrics``: counters the dispatcher updates in the process that dispatches (``transcripts
  generate``, a Dagster step): routing decisions per node, retries by reason and action, item outcomes,
  output tokens per node, and the dispatch queue depth.
- ``FleetCollector``: read at scrape time from a ``NodeFleet`` and the state DB: per node in-flight calls,
  concurrency limit, goodput (output tokens/s of the last performance window), circuit state, eligibility,
  paused / throttle factor; the ledger's slots by state and requests by status; the queue depth.

``serve_metrics`` exposes a registry on ``/metrics`` (prometheus_client's own HTTP server);
``transcripts metrics`` runs it as a long-lived exporter next to the daemon (docs/metrics.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from transcript_foundry.state.state_db import node_events, performance_samples, requests, slots


class ObservedFleet(Protocol):
    """What the collector reads of the fleet (``transcript_foundry.pool.fleet.NodeFleet``)."""

    def refresh(self, *, force: bool = False, probe_servers: bool = False) -> None: ...
    def runtimes(self, refresh: bool = False) -> list[Any]: ...
    def rank_nodes(self, *args: Any, refresh: bool = True) -> list[Any]: ...
    def engine(self) -> Engine | None: ...


PREFIX = "transcripts"
CIRCUIT_STATES = ("closed", "open", "half_open")
SLOT_STATES = ("planned", "generated", "passed", "accepted", "rejected_quality", "duplicate", "failed")
RETRY_ACTIONS = ("rerouted", "backed_off", "retried", "refused", "exhausted", "deferred")


def failure_reason(status: int | None, overload: bool, retryable: bool) -> str:
    """A bounded label for why a call failed: http_429, http_503, http_5xx, http_4xx, timeout, connection."""
    if status == 429 or status == 503:
        return f"http_{status}"
    if status is not None and status >= 500:
        return "http_5xx"
    if status is not None:
        return "http_4xx"
    return "timeout" if overload else ("connection" if retryable else "other")


class DispatchMetrics:
    """Counters of one process's dispatching, in ``registry``."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.routing_decisions = Counter(
            f"{PREFIX}_routing_decisions",
            "Units of work routed, by the node chosen.",
            ["node"],
            registry=registry,
        )
        self.retries = Counter(
            f"{PREFIX}_retries",
            "Work items that failed and were retried or not, by reason (http_429, http_503, http_5xx, "
            "timeout, connection, content) and action (rerouted, backed_off, retried, refused, exhausted, "
            "deferred).",
            ["reason", "action"],
            registry=registry,
        )
        self.items = Counter(
            f"{PREFIX}_dispatch_items",
            "Work items (conversation slots) that reached their final outcome, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.output_tokens = Counter(
            f"{PREFIX}_node_output_tokens",
            "Output tokens of successful calls, by node (rate() of it is the node's goodput).",
            ["node"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            f"{PREFIX}_dispatch_queue_depth",
            "Work items waiting in this process's dispatcher (ready or backing off).",
            registry=registry,
        )


class FleetCollector(Collector):
    """Per-node gauges from the fleet, slot and request gauges from the ledger, read at each scrape.

    ``refresh``: re-read registry, controls and settings before collecting (the exporter); an in-process
    collector reports the fleet as its dispatcher last refreshed it. ``circuits_from_events``: the circuit
    state is the node's last circuit event in the state DB (the exporter's own breakers see no calls)."""

    def __init__(self, fleet: ObservedFleet, *, refresh: bool = False, circuits_from_events: bool = False):
        self.fleet = fleet
        self.refresh = refresh
        self.circuits_from_events = circuits_from_events
        self._lock = threading.Lock()

    def describe(self) -> list[Any]:
        return []  # collected lazily: no fleet or database access at registration

    def collect(self) -> Iterator[Any]:
        with self._lock:
            yield from self._collect()

    def _collect(self) -> Iterator[Any]:
        fleet = self.fleet
        if self.refresh:
            fleet.refresh(force=True)
        ranked = {r.node_id: r for r in fleet.rank_nodes(refresh=False)}
        engine = fleet.engine()
        last_events = _last_circuit_events(engine) if engine is not None and self.circuits_from_events else {}
        last_samples = _last_samples(engine) if engine is not None else {}

        def gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=labels)

        in_flight = gauge(
            "node_in_flight", "Calls in flight on the node (ours, or its agent's count).", ["node"]
        )
        limit = gauge("node_concurrency_limit", "The node's adaptive concurrency limit now.", ["node"])
        goodput = gauge(
            "node_goodput_tokens_per_second",
            "Output tokens per second of successful calls in the node's last performance window.",
            ["node"],
        )
        error_rate = gauge("node_error_ratio", "Failed share of the calls of the last window.", ["node"])
        circuit = gauge("node_circuit_state", "1 for the node's circuit breaker state.", ["node", "state"])
        eligible = gauge("node_eligible", "1 when routing may choose the node now.", ["node"])
        score = gauge("node_score", "The node's routing score (0 when excluded).", ["node"])
        throttle = gauge("node_throttle_factor", "Concurrency factor from the sensors' controls.", ["node"])
        paused = gauge("node_paused", "1 while a sensor or an operator pauses the node.", ["node"])
        temperature = gauge(
            "node_temperature_celsius", "The node's reported temperature.", ["node", "sensor"]
        )
        for runtime in fleet.runtimes():
            node = runtime.node_id
            snapshot = runtime.snapshot()
            in_flight.add_metric([node], snapshot.in_flight)
            limit.add_metric([node], snapshot.concurrency_limit)
            sample = runtime.last_sample or last_samples.get(node)
            if sample is not None:
                goodput.add_metric([node], sample[0])
                error_rate.add_metric([node], sample[1])
            state = (
                last_events.get(node, runtime.circuit.state)
                if self.circuits_from_events
                else runtime.circuit.state
            )
            for name in CIRCUIT_STATES:
                circuit.add_metric([node, name], 1.0 if state == name else 0.0)
            r = ranked.get(node)
            eligible.add_metric([node], 1.0 if r is not None and r.eligible else 0.0)
            score.add_metric([node], r.score if r is not None else 0.0)
            control = runtime.control
            throttle.add_metric([node], control.throttle_factor if control else 1.0)
            paused.add_metric([node], 1.0 if control is not None and control.paused else 0.0)
            for kind, value in (("cpu", snapshot.cpu_temp_c), ("gpu", snapshot.gpu_temp_c)):
                if value is not None:
                    temperature.add_metric([node, kind], value)
        yield from (
            in_flight,
            limit,
            goodput,
            error_rate,
            circuit,
            eligible,
            score,
            throttle,
            paused,
            temperature,
        )
        if engine is not None:
            yield from _ledger_gauges(engine)


def _last_circuit_events(engine: Engine) -> dict[str, str]:
    latest = (
        select(node_events.c.node_id, func.max(node_events.c.id).label("id"))
        .where(node_events.c.source == "circuit")
        .group_by(node_events.c.node_id)
        .subquery()
    )
    query = select(node_events.c.node_id, node_events.c.to_state).join(
        latest, node_events.c.id == latest.c.id
    )
    with engine.connect() as conn:
        return {row.node_id: str(row.to_state).removeprefix("circuit_") for row in conn.execute(query)}


def _last_samples(engine: Engine) -> dict[str, tuple[float, float]]:
    latest = (
        select(performance_samples.c.node_id, func.max(performance_samples.c.id).label("id"))
        .where(performance_samples.c.node_id.is_not(None))
        .group_by(performance_samples.c.node_id)
        .subquery()
    )
    query = select(
        performance_samples.c.node_id,
        performance_samples.c.throughput_per_sec,
        performance_samples.c.error_rate,
    ).join(latest, performance_samples.c.id == latest.c.id)
    with engine.connect() as conn:
        return {r.node_id: (float(r.throughput_per_sec), float(r.error_rate)) for r in conn.execute(query)}


def _ledger_gauges(engine: Engine) -> Iterator[GaugeMetricFamily]:
    with engine.connect() as conn:
        slot_counts = dict(conn.execute(select(slots.c.state, func.count()).group_by(slots.c.state)).all())
        request_counts = dict(
            conn.execute(select(requests.c.status, func.count()).group_by(requests.c.status)).all()
        )
    by_state = GaugeMetricFamily(
        f"{PREFIX}_slots", "Conversation slots in the ledger, by state.", labels=["state"]
    )
    for state in sorted({*SLOT_STATES, *slot_counts}):
        by_state.add_metric([state], float(slot_counts.get(state, 0)))
    by_status = GaugeMetricFamily(
        f"{PREFIX}_requests", "Requests in the ledger, by status.", labels=["status"]
    )
    for status, n in sorted(request_counts.items()):
        by_status.add_metric([status], float(n))
    queue = GaugeMetricFamily(
        f"{PREFIX}_queue_depth",
        "Work waiting: slots planned but not generated yet, requests submitted but not started.",
        labels=["kind"],
    )
    queue.add_metric(["slots_planned"], float(slot_counts.get("planned", 0)))
    queue.add_metric(["requests_submitted"], float(request_counts.get("submitted", 0)))
    yield from (by_state, by_status, queue)


def serve_metrics(
    registry: CollectorRegistry, port: int, addr: str = "127.0.0.1"
) -> tuple[Any, threading.Thread]:
    """Serve ``registry`` on http://addr:port/metrics; returns (server, thread): ``server.shutdown()`` stops it."""
    from prometheus_client import start_http_server

    return start_http_server(port, addr=addr, registry=registry)
