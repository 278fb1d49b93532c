"""The Grafana dashboard (k8s/grafana/) queries only metrics the orchestrator or the node agents export."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from node_agent.admission import Admission
from node_agent.metrics import AgentMetrics
from transcript_foundry.pool.fleet import NodeFleet

DASHBOARD = Path(__file__).resolve().parents[3] / "k8s" / "grafana" / "transcripts-fleet-dashboard.json"


def exported_sample_names(registry: CollectorRegistry) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        names.add(family.name)
        names.update(s.name for s in family.samples)
    return names


def test_every_panel_queries_exported_metrics(project_home: Path) -> None:
    fleet = NodeFleet(state_url=None)
    try:
        fleet.dispatch_metrics.routing_decisions.labels("local").inc()  # counters appear once labelled
        fleet.dispatch_metrics.retries.labels("http_503", "deferred").inc()
        fleet.dispatch_metrics.items.labels("done").inc()
        fleet.dispatch_metrics.output_tokens.labels("local").inc(3)
        orchestrator = exported_sample_names(fleet.metrics_registry())
    finally:
        fleet.close()
    agent = AgentMetrics(Admission(2, 4), {"node_id": "a"})
    agent.requests.labels("/v1/completions", "200").inc()
    agent.latency.labels("/v1/completions").observe(0.1)
    agent.tokens.labels("completion").inc()
    agent.rejected.labels("queue_full").inc()
    known = orchestrator | exported_sample_names(agent.registry)
    # The ledger gauges need a state DB; the exporter test scrapes them (test_metrics.py).
    known |= {"transcripts_slots", "transcripts_requests", "transcripts_queue_depth"}

    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    assert len(exprs) >= 20
    used = {name for expr in exprs for name in re.findall(r"\btranscripts_[a-z_]+\b", expr)}
    assert used - known == set(), f"panels query metrics nobody exports: {sorted(used - known)}"
    assert any(n.startswith("transcripts_agent_") for n in used) and "transcripts_retries_total" in used
    panel_ids = [p["id"] for p in dashboard["panels"]]
    assert len(panel_ids) == len(set(panel_ids))
