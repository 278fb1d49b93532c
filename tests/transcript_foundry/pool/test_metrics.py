"""Orchestrator metrics: a real dispatch to simulated nodes on loopback, scraped over HTTP from the
Prometheus endpoint and parsed with prometheus_client's own text parser; the exporter's view of a state DB
(circuit events, performance windows, the ledger); the naming conventions."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import CliRunner
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from tests.support.simulated_node import KeyedRequests, SimulatedNode
from transcript_assets.cli.main import main
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.pool.metrics import FleetCollector, serve_metrics
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.request.lifecycle import plan_shard, submit_request
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.state.ledger import RequestLedger


def scrape(registry: CollectorRegistry) -> dict[str, Any]:
    """GET /metrics from a real server on 127.0.0.1 and parse it: family name -> family."""
    server, thread = serve_metrics(registry, 0)
    try:
        port = server.server_address[1]
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10, trust_env=False)
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(response.text)}


def value(families: dict[str, Any], name: str, **labels: str) -> float:
    family_name = name.removesuffix("_total")
    samples = [
        s
        for s in families[family_name].samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return sum(s.value for s in samples)


def fleet_of(tmp_path: Path, state_url: str | None, **nodes: SimulatedNode) -> NodeFleet:
    entries = [
        {"id": node_id, "backend": "openai_compatible", "url": s.url, "model": "sim", "timeout_s": 5.0}
        for node_id, s in nodes.items()
    ]
    path = tmp_path / "nodes.yaml"
    path.write_text(yaml.safe_dump({"nodes": entries}), encoding="utf-8")
    fleet = NodeFleet(nodes_file=str(path), state_url=state_url, refresh_interval_s=0.2, seed=3)
    environ = {
        "TRANSCRIPTS__RETRY__BACKOFF_BASE_S": "0.02",
        "TRANSCRIPTS__RETRY__BACKOFF_MAX_S": "0.1",
        "TRANSCRIPTS__CIRCUIT__FAILURE_THRESHOLD": "3",
    }
    fleet.use_settings(SettingsStore(fleet.engine(), environ=environ))
    return fleet


def test_dispatch_metrics_over_http(tmp_path: Path, sim: Callable[..., SimulatedNode]) -> None:
    good = sim(slots=4, tokens_per_s=800, completion_tokens=8)
    broken = sim(slots=4, fail_rate=1.0, fail_mode="status-500")
    fleet = fleet_of(tmp_path, None, good=good, broken=broken)
    try:
        source = KeyedRequests(max_tokens=8)
        stats = fleet.dispatcher(max_attempts=4).run_sync(source, source.items(40))
        families = scrape(fleet.metrics_registry())
    finally:
        fleet.close()
    assert stats.items_done == 40
    assert value(families, "transcripts_dispatch_items_total", outcome="done") == 40
    decisions = value(families, "transcripts_routing_decisions_total")
    assert decisions == sum(stats.units_by_node.values()) and decisions > 40
    assert (
        value(families, "transcripts_routing_decisions_total", node="broken") == stats.units_by_node["broken"]
    )
    assert value(families, "transcripts_retries_total", reason="http_5xx") == stats.node_failures > 0
    assert value(families, "transcripts_node_output_tokens_total", node="good") == 40 * 8
    assert value(families, "transcripts_node_output_tokens_total", node="broken") == 0
    assert (
        value(families, "transcripts_node_circuit_state", node="broken", state="open")
        + value(families, "transcripts_node_circuit_state", node="broken", state="half_open")
        == 1
    )
    assert value(families, "transcripts_node_circuit_state", node="good", state="closed") == 1
    assert value(families, "transcripts_node_goodput_tokens_per_second", node="good") > 0
    assert value(families, "transcripts_node_in_flight", node="good") == 0
    assert value(families, "transcripts_dispatch_queue_depth") == 0
    assert families["transcripts_retries"].type == "counter"
    assert families["transcripts_node_concurrency_limit"].type == "gauge"


def test_exporter_reads_circuits_windows_controls_and_the_ledger(
    project_home: Path, packs: dict[str, Any], sim: Callable[..., SimulatedNode]
) -> None:
    url = project_paths().state_url
    ledger = RequestLedger(url=url)
    request_id, _ = submit_request(ledger, JobSpec(count=4, domain="retail"), "probe", None)
    plan_shard(ledger, packs, request_id, 10, 3.0)
    ledger.add_performance_sample(
        run_id="run-1", concurrency=3, throughput_per_sec=123.5, p50_latency_ms=10.0, p95_latency_ms=20.0,
        error_rate=0.25, queue_depth=1, node_id="a",
    )  # fmt: skip
    controls = NodeControls(ledger.engine)
    controls.record_event(
        "a", source="circuit", from_state="circuit_closed", to_state="circuit_open", reason="x"
    )
    controls.set("b", throttle_factor=0.5, reason="CPU 83 °C", source="thermal_guard")
    fleet = fleet_of(project_home, url, a=sim(), b=sim())
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(fleet, refresh=True, circuits_from_events=True))
    try:
        families = scrape(registry)
    finally:
        fleet.close()
    assert value(families, "transcripts_node_circuit_state", node="a", state="open") == 1
    assert value(families, "transcripts_node_circuit_state", node="b", state="closed") == 1
    assert value(families, "transcripts_node_goodput_tokens_per_second", node="a") == 123.5
    assert value(families, "transcripts_node_error_ratio", node="a") == 0.25
    assert value(families, "transcripts_node_throttle_factor", node="b") == 0.5
    assert value(families, "transcripts_slots", state="planned") == 4
    assert value(families, "transcripts_queue_depth", kind="slots_planned") == 4
    assert value(families, "transcripts_requests", status="open") == 1
    ledger.dispose()


NAME = re.compile(r"^transcripts_[a-z][a-z0-9_]*$")


def test_names_follow_prometheus_conventions(tmp_path: Path, sim: Callable[..., SimulatedNode]) -> None:
    fleet = fleet_of(tmp_path, None, a=sim())
    try:
        source = KeyedRequests(max_tokens=4)
        fleet.dispatcher().run_sync(source, source.items(3))
        families = scrape(fleet.metrics_registry())
    finally:
        fleet.close()
    assert len(families) >= 15
    for name, family in families.items():
        assert NAME.match(name), name
        assert family.documentation, name
        for sample in family.samples:
            if family.type == "counter":
                assert sample.name in (f"{name}_total", f"{name}_created"), sample.name
            else:
                assert not sample.name.endswith("_total"), sample.name
            assert all(re.match(r"^[a-z_]+$", label) for label in sample.labels), sample.labels
        if "temperature" in name:
            assert name.endswith("_celsius")
        if "ratio" in name or "per_second" in name:
            assert family.type == "gauge"


def test_metrics_command_is_listed(project_home: Path) -> None:
    result = CliRunner().invoke(main, ["metrics", "--help"])
    assert result.exit_code == 0 and "--port" in result.output
