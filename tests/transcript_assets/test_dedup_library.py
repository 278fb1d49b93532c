"""transcript_library + dedup_index via materialize(): the ledger records the rule, similarity and kept id;
a second run compares only the new transcripts with the stored index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance, materialize

from resources.ledger import Ledger
from tests.support.dedup_corpus import (
    case_punct_copy,
    exemplar_records,
    paraphrase,
    structural_clone,
    vocabulary,
    word_edits,
)
from transcript_assets.definitions import build_resources
from transcript_assets.transcript_library import transcript_library
from transcript_foundry.dedup.dedup_config import DedupConfig
from transcript_foundry.dedup.dedup_index import DedupIndex
from transcript_foundry.domains.domain_pack import DomainPack

LEXICAL = ["exact", "minhash", "flow"]


def _seed_shard(ledger: Ledger, request_id: str, shard: int, records: list[dict[str, Any]]) -> list[dict]:
    """A request's shard whose slots all passed the quality gate, as scored_transcripts leaves them."""
    if shard == 0:
        ledger.create_request(request_id, "t", {"count": 50, "domain": "healthcare"}, 50, 1, None)
    base = ledger.next_slot_index(request_id)
    renamed = [
        dict(r, id=f"{request_id}-{base + i:06d}", request_id=request_id) for i, r in enumerate(records)
    ]
    plans = [{"slot_id": r["id"], "index": base + i} for i, r in enumerate(renamed)]
    ledger.add_shard(f"{request_id}-s{shard:04d}", request_id, plans)
    for r in renamed:
        ledger.record_passed(r["id"], r, {"overall": 0.9, "passed": True}, 1)
    return renamed


def _run(resources: dict[str, Any], rules: list[str]) -> dict[str, dict[str, Any]]:
    result = materialize(
        [transcript_library],
        resources=resources,
        instance=DagsterInstance.get(),
        run_config={"ops": {"transcript_library": {"config": {"rules": rules}}}},
    )
    assert result.success
    return {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("transcript_library")
    }


def _planted(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    vocab = vocabulary(records)
    return [case_punct_copy(records[0]), word_edits(records[1], 0.1, 5, vocab), structural_clone(records[2])]


def test_library_records_rule_similarity_and_kept_id_and_grows_incrementally(
    project_home: Path, packs: dict[str, DomainPack]
) -> None:
    resources = build_resources()
    ledger: Ledger = resources["ledger"]
    exemplars = exemplar_records(packs)
    first_batch = exemplars[:6] + _planted(exemplars[:6])
    first = _seed_shard(ledger, "rone", 0, first_batch)

    meta = _run(resources, LEXICAL)
    lib = meta["transcript_library"]
    assert (lib["compared"], lib["added"], lib["duplicates_dropped"], lib["library_size"]) == (9, 6, 3, 6)
    assert lib["dropped_by_rule"] == {"exact": 1, "minhash": 1, "flow": 1}
    slots = {s.slot_id: s for s in ledger.slots_in_state("rone", ("accepted", "duplicate"))}
    for planted, original, rule in zip(first[6:], first[:3], ["exact", "minhash", "flow"], strict=True):
        row = slots[planted["id"]]
        assert (row.state, row.duplicate_rule, row.duplicate_of) == ("duplicate", rule, original["id"])
        assert row.duplicate_similarity is not None and 0 < row.duplicate_similarity <= 1
        assert f"{rule} duplicate of {original['id']}" in (row.reason or "")
    assert ledger.duplicates_by_rule("rone") == {"exact": 1, "minhash": 1, "flow": 1}
    index_dir = project_home / "store" / "dedup_index"
    assert meta["dedup_index"]["rows"] == 6 and len(list(index_dir.glob("seg-*"))) == 1

    # A second request's shard: new calls plus duplicates of the first request's calls, across requests.
    second_batch = [*exemplars[6:10], case_punct_copy(exemplars[4]), structural_clone(exemplars[7])]
    second = _seed_shard(ledger, "rtwo", 0, second_batch)
    meta = _run(resources, LEXICAL)
    lib = meta["transcript_library"]
    assert (lib["compared"], lib["added"], lib["library_size"]) == (6, 4, 10)  # only the new ones compared
    assert meta["dedup_index"]["rows"] == 10 and len(list(index_dir.glob("seg-*"))) == 2
    rows = {s.slot_id: s for s in ledger.slots_in_state("rtwo", ("accepted", "duplicate"))}
    assert (rows[second[4]["id"]].duplicate_rule, rows[second[4]["id"]].duplicate_of) == (
        "exact",
        first[4]["id"],
    )
    assert (rows[second[5]["id"]].duplicate_rule, rows[second[5]["id"]].duplicate_of) == (
        "flow",
        second[1]["id"],
    )

    # The same decisions as one run over everything at once.
    one_shot = DedupIndex(DedupConfig(rules=LEXICAL)).add_batch(first + second)
    states = {s.slot_id: s for s in ledger.slots_in_state("rone", ("accepted", "duplicate"))} | rows
    assert [(d.id, d.rule, d.duplicate_of) for d in one_shot] == [
        (r["id"], states[r["id"]].duplicate_rule, states[r["id"]].duplicate_of) for r in first + second
    ]

    # Nothing new: nothing compared; other rules: the index is rebuilt from the ledger, decisions stay.
    assert _run(resources, LEXICAL)["transcript_library"]["compared"] == 0
    rebuilt = _run(resources, ["exact", "minhash"])
    assert "rebuilt" in rebuilt["dedup_index"]["rebuilt"] and rebuilt["dedup_index"]["rows"] == 10


@pytest.mark.slow
def test_library_with_every_rule_drops_a_paraphrase_semantically(
    project_home: Path, packs: dict[str, DomainPack]
) -> None:
    resources = build_resources()
    ledger: Ledger = resources["ledger"]
    exemplars = exemplar_records(packs)[:5]
    seeded = _seed_shard(ledger, "rsem", 0, [*exemplars, paraphrase(exemplars[3])])
    meta = _run(resources, ["exact", "semantic"])
    lib = meta["transcript_library"]
    assert (lib["added"], lib["dropped_by_rule"], lib["embedded"]) == (5, {"exact": 0, "semantic": 1}, 6)
    [dup] = ledger.slots_in_state("rsem", ("duplicate",))
    assert (dup.slot_id, dup.duplicate_rule, dup.duplicate_of) == (
        seeded[5]["id"],
        "semantic",
        seeded[3]["id"],
    )
    assert (dup.duplicate_similarity or 0) >= 0.95
    assert (project_home / "store" / "dedup_index" / "seg-0000000000" / "embeddings.npy").exists()


def test_the_build_library_job_runs_dedup_as_generate_does(
    project_home: Path, packs: dict[str, DomainPack]
) -> None:
    """RequestRunner runs the build_library job: both assets, in one step, on the project's instance."""
    from dagster import Definitions

    from transcript_assets.jobs import build_library_job
    from transcript_assets.raw_transcripts import raw_transcripts
    from transcript_assets.scored_transcripts import scored_transcripts
    from transcript_assets.scrubbed_transcripts import scrubbed_transcripts

    resources = build_resources()
    defs = Definitions(
        assets=[raw_transcripts, scrubbed_transcripts, scored_transcripts, transcript_library],
        jobs=[build_library_job],
        resources=resources,
    )
    exemplars = exemplar_records(packs)[:4]
    seeded = _seed_shard(resources["ledger"], "rjob", 0, [*exemplars, case_punct_copy(exemplars[2])])
    result = defs.resolve_job_def("build_library").execute_in_process(
        instance=DagsterInstance.get(),
        run_config={"ops": {"transcript_library": {"config": {"rules": LEXICAL}}}},
    )
    assert result.success
    keys = {
        m.asset_key.to_user_string() for m in result.asset_materializations_for_node("transcript_library")
    }
    assert keys == {"dedup_index", "transcript_library"}
    counts = resources["ledger"].state_counts("rjob")
    assert (counts["accepted"], counts["duplicate"]) == (4, 1)
    [dup] = resources["ledger"].slots_in_state("rjob", ("duplicate",))
    assert (dup.duplicate_rule, dup.duplicate_of) == ("exact", seeded[2]["id"])
