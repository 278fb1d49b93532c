"""The ledger on SQLite (the embedded default) and on a real Postgres server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from resources.ledger import Ledger
from transcript_foundry.state.ledger import LedgerError
from transcript_foundry.state.state_db import (
    LATEST_VERSION,
    MIGRATIONS,
    TERMINAL_STATES,
    migrate,
    schema_version,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Ledger:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    led = Ledger(url=url)
    yield led
    led.dispose()


def _plans(request_id: str, start: int, n: int) -> list[dict]:
    return [
        {"slot_id": f"{request_id}-{i:06d}", "index": i, "scenario": "billing_dispute"}
        for i in range(start, start + n)
    ]


def _turns(text: str) -> dict:
    return {"id": "x", "turns": [{"speaker": "AGENT", "text": text}, {"speaker": "CUSTOMER", "text": "ok"}]}


def test_request_roundtrip_and_idempotent_create(ledger: Ledger) -> None:
    assert ledger.create_request("r1", "Generate 3 healthcare", {"count": 3}, 3, 42, "/tmp/out")
    assert not ledger.create_request("r1", "again", {"count": 9}, 9, 1, None)
    row = ledger.get_request("r1")
    assert (row.request_text, row.count, row.seed, row.out_dir, row.status) == (
        "Generate 3 healthcare",
        3,
        42,
        "/tmp/out",
        "open",
    )
    with pytest.raises(LedgerError, match="no request 'nope'"):
        ledger.get_request("nope")


def test_every_slot_ends_in_exactly_one_terminal_state(ledger: Ledger) -> None:
    ledger.create_request("r2", "t", {}, 4, 1, None)
    ledger.add_shard("r2-s0000", "r2", _plans("r2", 0, 4))
    assert ledger.state_counts("r2")["planned"] == 4
    assert ledger.next_slot_index("r2") == 4
    assert ledger.unfinished_shards("r2") == ["r2-s0000"]
    ledger.record_failed("r2-000000", "turn 3 degenerate", 3)
    ledger.record_generated("r2-000001", _turns("a"), 1)
    ledger.record_generated("r2-000002", _turns("b"), 1)
    ledger.record_generated("r2-000003", _turns("a"), 2)
    ledger.record_rejected("r2-000002", "overall 0.5 below 0.85", {"overall": 0.5}, _turns("b"))
    ledger.record_passed("r2-000001", _turns("a"), {"overall": 0.9}, 1)
    ledger.record_passed("r2-000003", _turns("a"), {"overall": 0.9}, 2)
    assert [s.slot_id for s in ledger.passed_slots()] == ["r2-000001", "r2-000003"]
    ledger.record_accepted("r2-000001", "h1", ledger.next_library_seq())
    assert ledger.accepted_with_hash("h1") == "r2-000001"
    ledger.record_duplicate("r2-000003", "h1", "r2-000001")
    counts = ledger.state_counts("r2")
    assert {k: v for k, v in counts.items() if v} == {
        "accepted": 1,
        "rejected_quality": 1,
        "duplicate": 1,
        "failed": 1,
    }
    assert sum(counts[s] for s in TERMINAL_STATES) == 4
    assert ledger.unfinished_shards("r2") == []
    dup = ledger.slots_in_state("r2", ("duplicate",))[0]
    assert dup.duplicate_of == "r2-000001" and "exact duplicate of r2-000001" in (dup.reason or "")
    failed = ledger.slots_in_state("r2", ("failed",))[0]
    assert failed.reason == "turn 3 degenerate" and failed.attempts == 3


def test_unknown_slot_and_shard_are_errors(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="no slot"):
        ledger.record_failed("missing", "x", 1)
    with pytest.raises(LedgerError, match="not in the ledger"):
        ledger.shard_request("missing-s0000")


def test_performance_samples_keep_the_seed_fields(ledger: Ledger) -> None:
    ledger.add_performance_sample(
        run_id="run-1",
        concurrency=1,
        throughput_per_sec=55.5,
        p50_latency_ms=300.0,
        p95_latency_ms=900.0,
        error_rate=0.0,
        queue_depth=0,
        node_id="local",
        shard_key="r-s0000",
    )
    [row] = ledger.performance_samples("run-1")
    for field in (
        "run_id",
        "timestamp",
        "concurrency",
        "throughput_per_sec",
        "p50_latency_ms",
        "p95_latency_ms",
        "error_rate",
        "queue_depth",
    ):
        assert row[field] is not None, field
    assert row["throughput_per_sec"] == pytest.approx(55.5)


def test_migrations_run_once(ledger: Ledger) -> None:
    assert migrate(ledger.engine) == LATEST_VERSION
    assert migrate(ledger.engine) == LATEST_VERSION
    with ledger.engine.connect() as conn:
        versions = [r.version for r in conn.execute(select(schema_version.c.version))]
    assert versions == [version for version, _ in MIGRATIONS]  # each once, in order


def test_quality_rounds_are_recorded_per_shard(ledger: Ledger) -> None:
    ledger.create_request("rq", "text", {"count": 1}, 1, 1, None)
    ledger.add_shard("rq-s0000", "rq", [{"slot_id": "rq-000000", "index": 0}])
    for round_, passed in ((0, 3), (1, 2)):
        ledger.add_quality_round(
            run_id="run1",
            shard_key="rq-s0000",
            request_id="rq",
            round=round_,
            scored=6 if round_ == 0 else 3,
            passed=passed,
            cumulative_passed=3 if round_ == 0 else 5,
            shard_scored=6,
            pass_rate=passed / (6 if round_ == 0 else 3),
            cumulative_pass_rate=(3 if round_ == 0 else 5) / 6,
            reasons={"few cues of a N caller": 3},
            judge={"off": 6},
            final=round_ == 1,
        )
    rows = ledger.quality_rounds("rq-s0000")
    assert [(r["round"], r["cumulative_passed"], bool(r["final"])) for r in rows] == [
        (0, 3, False),
        (1, 5, True),
    ]
    assert rows[0]["reasons"] == {"few cues of a N caller": 3}
    assert ledger.quality_rounds(run_id="other") == []
