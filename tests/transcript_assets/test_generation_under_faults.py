"""Faults cost time, not slots: issue 17's chaos run as a test.

Two live OpenAI-compatible nodes on loopback (simulated: a known speed and a fresh line per completion),
each behind its own fault-injecting HTTP proxy on real sockets (tests/support/fault_proxy.py): 429 with
Retry-After 1-2 s on 10-25 % of calls, 500s, dropped connections, truncated JSON, and one node refusing
connections for 15 s. "Generate 6 short retail transcripts" is parsed, planned in the ledger and its shard
materialized as a real Dagster run of ``raw_transcripts``: every slot must come back generated, each in one
terminal state, none failed for a transport fault, and the turns written before a fault kept.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, materialize

from tests.support.fault_proxy import FaultMix, FaultProxy
from tests.support.simulated_node import NodeBehaviour, SimulatedNode
from transcript_assets.definitions import build_resources, defs
from transcript_assets.raw_transcripts import raw_transcripts
from transcript_assets.request_runner import RequestRunner
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.request.parser import parse_request

REQUEST = "Generate 6 short retail transcripts"
MIXES = [  # the two proxies: 429 shares of 10 % and 25 %, the other faults beside them
    FaultMix(rate_limited=0.10, server_error=0.06, dropped=0.05, truncated=0.05),
    FaultMix(rate_limited=0.25, server_error=0.05, dropped=0.05, truncated=0.05),
]


@pytest.fixture
def proxied_nodes() -> Iterator[list[FaultProxy]]:
    nodes = [
        SimulatedNode(NodeBehaviour(slots=2, tokens_per_s=400, reply="chatter"), seed=i) for i in range(2)
    ]
    proxies = [
        FaultProxy(node.url, mix, seed=17 + i) for i, (node, mix) in enumerate(zip(nodes, MIXES, strict=True))
    ]
    yield proxies
    for proxy in proxies:
        proxy.close()
    for node in nodes:
        node.close()


@pytest.mark.slow
def test_six_transcripts_through_faulty_proxies_lose_no_slot(
    project_home: Path,
    packs: dict[str, DomainPack],
    proxied_nodes: list[FaultProxy],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nodes_file = project_home / "nodes.yaml"
    entries = [
        {
            "id": f"node{i}",
            "backend": "openai_compatible",
            "url": proxy.url,
            "model": "sim",
            "prompt_style": "completion",
            "timeout_s": 5,
            "connect_timeout_s": 2,
        }
        for i, proxy in enumerate(proxied_nodes)
    ]
    nodes_file.write_text(yaml.safe_dump({"nodes": entries}), encoding="utf-8")
    monkeypatch.setenv("TRANSCRIPTS_NODES_FILE", str(nodes_file))
    # Test-sized pacing: shorter backoff and circuit periods (the defaults are 1-8 s and 15 s).
    monkeypatch.setenv("TRANSCRIPTS__RETRY__BACKOFF_BASE_S", "0.2")
    monkeypatch.setenv("TRANSCRIPTS__RETRY__BACKOFF_MAX_S", "2")
    monkeypatch.setenv("TRANSCRIPTS__CIRCUIT__OPEN_S", "2")
    monkeypatch.setenv("TRANSCRIPTS__CIRCUIT__MAX_OPEN_S", "4")

    spec = parse_request(REQUEST, packs, semantic=False)
    assert (spec.count, spec.domain, spec.complexity) == (6, "retail", "simple")
    resources = build_resources()
    ledger = resources["ledger"]
    instance = DagsterInstance.get()
    runner = RequestRunner(defs, instance, ledger, packs, shard_size=6)
    request_id = runner.submit(spec, REQUEST, project_home / "out")
    shard = runner.plan_next_shard(request_id)
    assert shard is not None and len(ledger.shard_slots(shard)) == 6

    refuser = threading.Timer(0.5, proxied_nodes[0].refuse_for, args=(15.0,))  # node0 refuses for 15 s
    refuser.start()
    try:
        result = materialize([raw_transcripts], partition_key=shard, resources=resources, instance=instance)
    finally:
        refuser.cancel()
    assert result.success

    slots = ledger.shard_slots(shard)
    assert Counter(s.state for s in slots) == Counter({"generated": 6}), [(s.state, s.reason) for s in slots]
    assert all(s.reason in (None, "") for s in slots)
    records = result.output_for_node("raw_transcripts")
    assert len(records) == 6 and len({r["id"] for r in records}) == 6
    assert all(len(r["turns"]) >= 8 for r in records)  # short: 4-6 exchanges, every planned turn written

    counts = [p.counts for p in proxied_nodes]
    injected = Counter()
    for c in counts:
        injected.update({k: v for k, v in c.items() if k not in ("calls", "passed")})
    # The weather happened: every kind of fault was injected, and the refusal period ran.
    assert {"rate_limited", "server_error", "dropped", "truncated", "refusing_periods"} <= set(injected), (
        counts
    )
    assert sum(p.faults for p in proxied_nodes) >= 5, counts
    # Every call a model answered is charged to its slot, those of attempts a fault cut off included.
    delivered_calls = sum(r["generation"]["llm_calls"] for r in records)
    passed = sum(c.get("passed", 0) for c in counts)
    assert passed == delivered_calls, (passed, delivered_calls, counts)
