"""What a request needs next, decided from its ledger counts alone (pure functions).

Both drivers of a request use it: ``RequestRunner.run`` (``transcripts generate``, runs in-process one after
the other) and the ``request_intake`` sensor (launches the same runs through the Dagster daemon, a tick at
a time). The order of steps: finish the shards already planned; fold passed transcripts into the library
once they could complete the request; plan another shard while the request is short and budget is left;
fold the rest into the library; finish (fulfilled, or exhausted when the slot budget is spent).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

# Expected accepted share of slots before any is known. 1.0: the quality loop recovers most failures, and
# a missing transcript costs a small top-up shard (one more Dagster run) where a surplus one costs a whole
# generated call.
PRIOR_YIELD = 1.0

StepKind = Literal["run_shards", "build_library", "plan_shard", "finish"]


@dataclass(frozen=True)
class NextStep:
    kind: StepKind
    shards: tuple[str, ...] = ()  # run_shards: the planned shards to run
    size: int = 0  # plan_shard: conversation slots in the next shard
    fulfilled: bool = False  # finish: count reached (else exhausted)
    why: str = ""


def slot_budget(count: int, budget_factor: float) -> int:
    return max(count + 5, math.ceil(count * budget_factor))


def next_shard_size(counts: dict[str, int], count: int, budget_factor: float, shard_size: int) -> int:
    """Slots the next shard should have (0: none needed), sized by the yield seen so far."""
    good = counts["accepted"] + counts["passed"]  # passed: scored, waiting for the library
    in_flight = counts["planned"] + counts["generated"]
    planned_total = sum(counts.values())
    done = good + counts["rejected_quality"] + counts["duplicate"] + counts["failed"]
    observed = good / done if done >= 5 else PRIOR_YIELD
    expected_yield = min(1.0, max(0.2, observed))
    need = count - good - math.floor(in_flight * expected_yield)
    if need <= 0:
        return 0
    budget_left = slot_budget(count, budget_factor) - planned_total
    # The expected number, rounded, not rounded up: a surplus conversation costs a whole call, a top-up
    # shard for the one that was missing only one more Dagster run.
    slots_wanted = min(budget_left, max(need, round(need / expected_yield)))
    return max(0, min(shard_size, slots_wanted))


def next_step(counts: dict[str, int], count: int, unfinished: list[str], next_size: int) -> NextStep:
    """The next step of a request with ``counts`` (ledger slot states) that wants ``count`` transcripts.

    ``unfinished``: shards with slots still planned or generated; ``next_size``: ``next_shard_size(...)``.
    """
    accepted, passed = counts["accepted"], counts["passed"]
    if unfinished:
        return NextStep(
            "run_shards", shards=tuple(unfinished), why=f"{len(unfinished)} shard(s) not finished"
        )
    if accepted >= count:
        return NextStep("finish", fulfilled=True, why=f"{accepted} of {count} accepted")
    # Passed transcripts are folded into the library only when they could complete the request (or nothing
    # more will be planned): one library run instead of one per shard. Dedup may still drop some, and the
    # request then tops up.
    if passed and accepted + passed >= count:
        return NextStep("build_library", why=f"{accepted} accepted + {passed} passed could complete {count}")
    if next_size > 0:
        return NextStep("plan_shard", size=next_size, why=f"{accepted + passed} of {count} so far")
    if passed:
        return NextStep("build_library", why=f"slot budget spent; folding the last {passed} passed in")
    return NextStep("finish", fulfilled=False, why=f"slot budget spent with {accepted} of {count} accepted")
