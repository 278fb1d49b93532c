"""The next step of a request from its ledger counts (shared by `transcripts generate` and the sensors)."""

from __future__ import annotations

from transcript_foundry.request.progress import next_shard_size, next_step, slot_budget


def counts(**kw: int) -> dict[str, int]:
    base = dict.fromkeys(
        ("planned", "generated", "passed", "accepted", "rejected_quality", "duplicate", "failed"), 0
    )
    return {**base, **kw}


def test_shard_size_from_the_yield_so_far() -> None:
    assert next_shard_size(counts(), 4, 3.0, 10) == 4  # prior yield 1.0: exactly the need, topped up later
    assert next_shard_size(counts(), 40, 3.0, 10) == 10  # capped by the shard size
    assert next_shard_size(counts(passed=2, rejected_quality=8), 4, 3.0, 10) == 2  # budget 12 - 10 planned
    assert (
        next_shard_size(counts(passed=2, rejected_quality=8), 5, 3.0, 20) == 5
    )  # 20% yield: 3 / 0.2 = 15 > 5 left
    assert next_shard_size(counts(planned=5), 4, 3.0, 10) == 0  # in flight covers it
    assert next_shard_size(counts(failed=12), 4, 3.0, 10) == 0  # budget max(9, 12) spent
    assert slot_budget(4, 3.0) == 12 and slot_budget(1, 1.0) == 6


def test_next_step_order() -> None:
    assert next_step(counts(planned=3), 4, ["r-s0000"], 0).kind == "run_shards"
    done = next_step(counts(accepted=4, passed=1), 4, [], 0)
    assert done.kind == "finish" and done.fulfilled
    assert next_step(counts(accepted=1, passed=3), 4, [], 2).kind == "build_library"  # could complete it
    step = next_step(counts(accepted=1, passed=1), 4, [], 3)
    assert (step.kind, step.size) == ("plan_shard", 3)
    assert next_step(counts(passed=2, failed=10), 4, [], 0).kind == "build_library"  # last fold
    spent = next_step(counts(accepted=2, failed=10), 4, [], 0)
    assert spent.kind == "finish" and not spent.fulfilled and "budget spent" in spent.why
