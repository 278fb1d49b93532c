"""scored_transcripts materialized by Dagster on a seeded shard: rounds in the ledger and metadata, and the
blocking pass-rate check failing a shard below the floor and passing one above it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance, materialize

from io_managers.transcript_store import records_to_frame
from transcript_assets.definitions import build_resources
from transcript_assets.quality_checks import PASS_RATE_CHECK, TABLE_CHECK
from transcript_assets.raw_transcripts import raw_transcripts
from transcript_assets.request_runner import only_failed_checks
from transcript_assets.scored_transcripts import scored_transcripts
from transcript_assets.scrubbed_transcripts import scrubbed_transcripts
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.conversation_plan import plan_conversation
from transcript_foundry.quality.degradations import exemplar_transcript, looped
from transcript_foundry.request.lifecycle import SHARDS_PARTITION_NAME


def _seed_shard(resources: dict[str, Any], home: Path, pack: DomainPack, request_id: str, bad: int) -> str:
    """A shard of four generated slots: hand-written calls, ``bad`` of them looped (a hard failure)."""
    ledger = resources["ledger"]
    spec = JobSpec(count=4, domain=pack.name, exchanges=(4, 40))
    ledger.create_request(request_id, "seeded", spec.model_dump(mode="json"), 4, 1, None)
    plans = [plan_conversation(spec, pack, request_id, 1, i) for i in range(4)]
    shard = f"{request_id}-s0000"
    ledger.add_shard(shard, request_id, [p.model_dump(mode="json") for p in plans])
    records = []
    for i, plan in enumerate(plans):
        t = exemplar_transcript(pack, i)
        t = (looped(t) if i < bad else t).model_copy(update={"id": plan.slot_id, "request_id": request_id})
        ledger.record_generated(plan.slot_id, t.to_record(), 1)
        records.append(t.to_record())
    path = home / "store" / "scrubbed_transcripts" / f"{shard}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    records_to_frame(records).write_parquet(path)
    DagsterInstance.get().add_dynamic_partitions(SHARDS_PARTITION_NAME, [shard])
    return shard


def _run(resources: dict[str, Any], shard: str, floor: float) -> Any:
    return materialize(
        [raw_transcripts, scrubbed_transcripts, scored_transcripts],
        partition_key=shard,
        resources=resources,
        instance=DagsterInstance.get(),
        run_config={
            "ops": {
                "scored_transcripts": {
                    "config": {"max_rounds": 0, "pass_rate_floor": floor, "pass_rate_min_scored": 1}
                }
            }
        },
        raise_on_error=False,
        selection=[scored_transcripts],
    )


@pytest.mark.slow
def test_the_pass_rate_check_fails_a_shard_below_the_floor_and_passes_one_above(
    project_home: Path, packs: dict[str, DomainPack]
) -> None:
    resources = build_resources()
    ledger = resources["ledger"]
    pack = packs["retail"]

    below = _seed_shard(resources, project_home, pack, "rbelow", bad=3)
    result = _run(resources, below, floor=0.5)
    assert not result.success  # the blocking check failed the shard's run ...
    assert only_failed_checks(result.all_events)  # ... and nothing else did: `generate` carries on
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks[PASS_RATE_CHECK].passed
    assert checks[PASS_RATE_CHECK].metadata["pass_rate"].value == 0.25
    assert checks[PASS_RATE_CHECK].metadata["floor"].value == 0.5
    assert checks[TABLE_CHECK].passed
    # The slots were recorded before the check failed the run: one passed, three rejected with the loop.
    states = {s.slot_id: (s.state, s.reason or "") for s in ledger.shard_slots(below)}
    assert sorted(st for st, _ in states.values()) == [
        "passed",
        "rejected_quality",
        "rejected_quality",
        "rejected_quality",
    ]
    assert all("loop" in reason for st, reason in states.values() if st == "rejected_quality")
    [round0] = ledger.quality_rounds(below)
    assert (round0["round"], round0["scored"], round0["passed"], round0["final"]) == (0, 4, 1, True)
    assert round0["judge"] == {"off": 4}
    assert round0["reasons"]["a turn nearly repeats an earlier one"] == 3

    above = _seed_shard(resources, project_home, pack, "rabove", bad=1)
    result = _run(resources, above, floor=0.5)
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks[PASS_RATE_CHECK].passed and checks[PASS_RATE_CHECK].metadata["pass_rate"].value == 0.75
    meta = result.asset_materializations_for_node("scored_transcripts")[0].metadata
    assert meta["final_yield"].value == 0.75 and meta["passed"].value == 3
    assert [r["round"] for r in meta["rounds"].value] == [0]
    assert meta["judge"].value["mode"] == "off"
    passed = result.output_for_node("scored_transcripts")
    assert len(passed) == 3 and all(
        set(r["quality"]["scores"])
        == {"naturalness", "coherence", "domain_accuracy", "emotional_consistency"}
        for r in passed
    )
