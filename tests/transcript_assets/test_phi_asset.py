"""scrubbed_transcripts[shard] in a real Dagster run: raw → scrubbed → scored, no LLM needed.

The shard is seeded into the ledger by hand (the way `transcripts generate` leaves it after generation:
every slot `generated`, its transcript stored), so raw_transcripts reuses the stored transcripts and
calls no model; the quality threshold is 0, so scored_transcripts regenerates nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from dagster import DagsterInstance, materialize

from transcript_assets.definitions import build_resources, defs
from transcript_assets.raw_transcripts import raw_transcripts
from transcript_assets.scored_transcripts import scored_transcripts
from transcript_assets.scrubbed_transcripts import scrubbed_transcripts
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import load_domain_packs
from transcript_foundry.generation.conversation_plan import plan_conversation
from transcript_foundry.phi.evaluation import load_planted

PLANTED = Path(__file__).resolve().parents[1] / "fixtures" / "phi" / "planted_transcripts.jsonl"


def test_the_shard_job_runs_the_scrubber_between_generation_and_scoring() -> None:
    job = defs.resolve_job_def("generate_shard")
    assert {n.name for n in job.nodes} >= {"raw_transcripts", "scrubbed_transcripts", "scored_transcripts"}
    graph = defs.resolve_asset_graph()
    [scored] = [k for k in graph.get_all_asset_keys() if k.to_user_string() == "scored_transcripts"]
    assert {k.to_user_string() for k in graph.get(scored).parent_keys} == {"scrubbed_transcripts"}


@pytest.mark.slow
def test_materialize_raw_scrubbed_scored(project_home: Path) -> None:
    planted = [(r, s) for r, s in load_planted(PLANTED) if r["domain"] == "healthcare"][:3]
    resources = build_resources()
    ledger = resources["ledger"]
    request_id, shard = "rphi", "rphi-s0000"
    spec = {"count": 3, "domain": "healthcare", "exchanges": [6, 10], "quality_threshold": 0.0}
    ledger.create_request(request_id, "phi test", spec, 3, 7, str(project_home / "out"))
    job_spec = JobSpec.model_validate(spec)
    pack = load_domain_packs()["healthcare"]
    plans = [plan_conversation(job_spec, pack, request_id, 7, i) for i in range(len(planted))]
    slot_ids = [p.slot_id for p in plans]
    ledger.add_shard(shard, request_id, [p.model_dump(mode="json") for p in plans])
    for slot_id, (record, _) in zip(slot_ids, planted, strict=True):
        ledger.record_generated(slot_id, {**record, "id": slot_id, "request_id": request_id}, 1)
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions("transcript_shards", [shard])

    result = materialize(
        [raw_transcripts, scrubbed_transcripts, scored_transcripts],
        partition_key=shard,
        resources=resources,
        instance=instance,
    )
    assert result.success
    scrubbed = result.output_for_node("scrubbed_transcripts")
    assert [r["id"] for r in scrubbed] == slot_ids
    meta = result.asset_materializations_for_node("scrubbed_transcripts")[0].metadata
    by_kind = meta["entities_by_kind"].value
    assert meta["transcripts_scrubbed"].value == 3
    assert meta["turns_scrubbed"].value == sum(len(r["turns"]) for r, _ in planted)
    assert meta["entities_found"].value == sum(by_kind.values()) == sum(len(r["phi"]) for r in scrubbed)
    assert {"NAME", "MEMBER_ID", "DOB", "PHONE", "MRN"} <= set(by_kind)
    assert meta["turns_per_second"].value > 0 and meta["mode"].value == "by_domain"

    originals = [record["turns"][p.turn]["text"][p.start : p.end] for record, spans in planted for p in spans]
    # Nothing downstream of the scrubber holds an original value: not the ledger, not the stored
    # scrubbed or scored shards.
    stored = {
        "ledger": json.dumps([s.transcript for s in ledger.shard_slots(shard)]),
        "scrubbed store": json.dumps(
            pl.read_parquet(project_home / "store" / "scrubbed_transcripts" / f"{shard}.parquet").to_dicts()
        ),
        "scored store": json.dumps(
            pl.read_parquet(project_home / "store" / "scored_transcripts" / f"{shard}.parquet").to_dicts()
        ),
    }
    for where, text in stored.items():
        leaked = [v for v in originals if len(v) >= 5 and v in text]
        assert not leaked, (where, leaked)
    # Scored after scrubbing: every slot passed or was rejected by the gate (these hand-written calls are
    # about PHI, not coherence: the plan's agent and the fixture's may differ, which the gate rejects).
    states = {s.slot_id: s.state for s in ledger.shard_slots(shard)}
    assert set(states.values()) <= {"passed", "rejected_quality"}
    scored = result.output_for_node("scored_transcripts")
    by_id = {r["id"]: r["phi"] for r in scrubbed}
    assert [r["id"] for r in scored] == [i for i, state in states.items() if state == "passed"]
    assert all(r["phi"] == by_id[r["id"]] for r in scored)

    # A second run finds the transcripts already scrubbed and passes them through unchanged.
    again = materialize(
        [raw_transcripts, scrubbed_transcripts], partition_key=shard, resources=resources, instance=instance
    )
    meta = again.asset_materializations_for_node("scrubbed_transcripts")[0].metadata
    assert meta["already_scrubbed"].value == 3 and meta["transcripts_scrubbed"].value == 0
    # (The ledger now holds them scored: same turns and spans, with their quality report.)
    # (A rejected slot holds the quality loop's last draft, itself scrubbed.)
    passed = {i for i, state in states.items() if state == "passed"}
    assert [
        (r["turns"], r["phi"]) for r in again.output_for_node("scrubbed_transcripts") if r["id"] in passed
    ] == [(r["turns"], r["phi"]) for r in scrubbed if r["id"] in passed]
