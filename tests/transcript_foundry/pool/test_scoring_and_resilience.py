"""Pure routing logic: score components and filters, power-of-two choices, the circuit breaker, adaptive
concurrency, the retry budget, server signals and Retry-After parsing (fake clocks, no servers)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from transcript_foundry.llm.openai_backend import retry_after_seconds
from transcript_foundry.pool.circuit import CircuitBreaker, CircuitSettings
from transcript_foundry.pool.concurrency import AdaptiveConcurrency, ConcurrencySettings
from transcript_foundry.pool.node_choice import StepRequirements
from transcript_foundry.pool.retry_budget import RetryBudget, RetryBudgetSettings
from transcript_foundry.pool.scoring import (
    NodeSnapshot,
    ScoringWeights,
    choose,
    queue_headroom,
    rank,
    thermal_headroom,
)
from transcript_foundry.pool.server_signals import parse_prometheus, server_root


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def snap(node_id: str, **fields: object) -> NodeSnapshot:
    base: dict[str, object] = {"context_window": 8192, "concurrency_limit": 4}
    return NodeSnapshot(node_id=node_id, **{**base, **fields})  # type: ignore[arg-type]


# ---- scoring ------------------------------------------------------------------------------------------


def test_components_are_in_unit_range_and_weighted_as_configured() -> None:
    assert thermal_headroom(50, None) == 1.0
    assert thermal_headroom(80, None) == 0.0
    assert thermal_headroom(70, 40) == pytest.approx(0.75)  # halfway from 60 to 80: 1 - 0.5^2
    assert thermal_headroom(None, 85) == 0.0
    assert (
        queue_headroom(0, 0, 4) == 1.0 and queue_headroom(6, 0, 4) == 0.0 and queue_headroom(2, 1, 4) == 0.5
    )
    (ranked,) = rank([snap("a", cpu_temp_c=50.0, tokens_per_s=100.0, success_rate=1.0, gpu_count=1)])
    assert set(ranked.components) == {"thermal", "queue", "capability", "history"}
    assert all(0.0 <= v <= 1.0 for v in ranked.components.values())
    assert ranked.score == pytest.approx(1.0)
    only_queue = rank([snap("a", in_flight=2)], weights=ScoringWeights(0, 1, 0, 0))
    assert only_queue[0].score == pytest.approx(queue_headroom(2, 0, 4), abs=1e-3)
    with pytest.raises(ValueError, match="at least one"):
        ScoringWeights(0, 0, 0, 0)


def test_cool_idle_capable_nodes_rank_first() -> None:
    nodes = [
        snap("hot", cpu_temp_c=79.0, tokens_per_s=100.0),
        snap("busy", cpu_temp_c=50.0, in_flight=4, tokens_per_s=100.0),
        snap("slow", cpu_temp_c=50.0, tokens_per_s=10.0),
        snap("best", cpu_temp_c=50.0, tokens_per_s=100.0),
    ]
    order = [r.node_id for r in rank(nodes)]
    assert order[0] == "best"
    assert order.index("hot") > order.index("slow")  # heat weighs 0.4, speed 0.2 x 0.6


def test_filters_name_their_reason() -> None:
    needs = StepRequirements(min_vram_mb=8000, needs_gpu=True, capabilities=("chat_json",), min_context=16000)
    nodes = [
        snap("paused", blocked="paused by thermal_guard: CPU 91 C"),
        snap("critical", gpu_temp_c=95.0, gpu_count=1),
        snap("small", context_window=4096, gpu_count=1),
        snap("cpu", context_window=32768),
        snap("vram", context_window=32768, gpu_count=1, vram_free_mb=4000),
        snap("nochat", context_window=32768, gpu_count=1, vram_free_mb=20000),
        snap(
            "ok", context_window=32768, gpu_count=1, vram_free_mb=20000, capabilities=frozenset({"chat_json"})
        ),
    ]
    ranked = {r.node_id: r for r in rank(nodes, needs)}
    assert [r.node_id for r in rank(nodes, needs) if r.eligible] == ["ok"]
    assert ranked["paused"].excluded_because == "paused by thermal_guard: CPU 91 C"
    assert "critically hot: GPU 95" in (ranked["critical"].excluded_because or "")
    assert "context too small: 4096 < 16000" in (ranked["small"].excluded_because or "")
    assert ranked["cpu"].excluded_because == "the step needs a GPU and the node has none"
    assert "not enough free VRAM: 4000 MB < 8000 MB" in (ranked["vram"].excluded_because or "")
    assert ranked["nochat"].excluded_because == "lacks capability chat_json"
    assert all(r.score == 0.0 for r in ranked.values() if not r.eligible)


def test_power_of_two_choices_prefers_the_best_without_stampeding_it() -> None:
    ranked = rank([snap("a", tokens_per_s=100.0), snap("b", tokens_per_s=90.0), snap("c", tokens_per_s=80.0)])
    rng = random.Random(7)
    picks = Counter(choose(ranked, rng).node_id for _ in range(3000))  # type: ignore[union-attr]
    assert picks["a"] > picks["b"] > 0
    assert picks["a"] < 0.8 * 3000, "the best node gets most, not all"
    # The dispatcher offers only nodes with room: once the best two are full, the third gets the work.
    assert choose([r for r in ranked if r.node_id == "c"], rng).node_id == "c"  # type: ignore[union-attr]
    assert choose([], random.Random(1)) is None


# ---- circuit breaker ----------------------------------------------------------------------------------


def test_circuit_opens_probes_and_recovers() -> None:
    clock = Clock()
    changes: list[tuple[str, str]] = []
    breaker = CircuitBreaker(
        CircuitSettings(failure_threshold=3, open_s=10, max_open_s=25),
        clock=clock,
        on_change=lambda a, b, why: changes.append((a, b)),
    )
    for _ in range(3):
        assert breaker.try_acquire()
        breaker.record_failure("HTTP 500")
    assert breaker.state == "open" and not breaker.try_acquire()
    assert "circuit open" in (breaker.blocked_reason() or "")
    clock.now += 10
    assert breaker.try_acquire() and breaker.state == "half_open"
    assert not breaker.try_acquire(), "one probe at a time"
    breaker.record_failure("still down")
    assert breaker.state == "open" and breaker.reopens_in() == pytest.approx(20)  # doubled
    clock.now += 20
    assert breaker.try_acquire()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.try_acquire()
    assert changes == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


def test_circuit_opens_on_failure_rate() -> None:
    breaker = CircuitBreaker(
        CircuitSettings(failure_threshold=100, min_calls=10, failure_rate=0.5), clock=Clock()
    )
    for i in range(10):
        if i % 2:
            breaker.record_failure("HTTP 502")
        else:
            breaker.record_success()
    assert breaker.state == "open" and "5 of the last 10 calls failed" in (breaker.last_reason or "")


# ---- adaptive concurrency -----------------------------------------------------------------------------


def _feed(limiter: AdaptiveConcurrency, clock: Clock, capacity_slots: int, windows: int) -> None:
    """Simulate a node with ``capacity_slots`` parallel slots at 100 tokens/s each, kept full."""
    for _ in range(windows):
        for _ in range(limiter.settings.window_calls):
            busy = min(limiter.limit, capacity_slots)
            queued = max(0, limiter.limit - capacity_slots)
            per_call_s = 1.0 * (1 + queued / capacity_slots)  # 100 tokens at 100/s, plus waiting for a slot
            clock.now += per_call_s / busy
            limiter.observe(100, per_call_s, limiter.limit)


def test_concurrency_climbs_to_the_node_capacity_and_no_further() -> None:
    clock = Clock()
    limiter = AdaptiveConcurrency(2, 8, ConcurrencySettings(window_calls=10), clock=clock)
    _feed(limiter, clock, capacity_slots=5, windows=40)
    assert 4 <= limiter.limit <= 6, limiter.changes
    assert any("probe up" in c[3] for c in limiter.changes)
    assert limiter.effective(throttle_factor=0.5) == max(1, int(limiter.limit * 0.5))
    assert limiter.effective(hot=True) == 1


def test_overload_cuts_and_respects_bounds() -> None:
    clock = Clock()
    limiter = AdaptiveConcurrency(2, 6, clock=clock)
    limiter.limit = 6
    limiter.overload("HTTP 503")
    assert limiter.limit == 4
    limiter.overload("HTTP 429")
    assert limiter.limit == 2
    limiter.overload("timeout")
    assert limiter.limit == 2, "never below the lower bound"
    with pytest.raises(ValueError, match="1 <= min <= max"):
        AdaptiveConcurrency(3, 2)


def test_server_slots_cap_and_seed_the_limit() -> None:
    limiter = AdaptiveConcurrency(2, 6, clock=Clock())
    limiter.hint_capacity(6)
    assert limiter.limit == 6 and limiter.high == 6, "a server with as many slots as the bound starts there"
    limiter.hint_capacity(4)
    assert limiter.limit == 4 and limiter.high == 4
    limiter.hint_capacity(16)
    assert limiter.high == 6, "never above the configured bound"
    limiter.hint_capacity(1)
    assert limiter.limit == 1 and limiter.high == 1, "one slot: one call (a second would only queue there)"
    limiter.hint_capacity(4)
    limiter.overload("HTTP 503")
    limiter.hint_capacity(4)
    assert limiter.limit == 2, "after a cut, the hint no longer resets the limit"


def test_a_node_that_is_not_kept_busy_teaches_nothing() -> None:
    clock = Clock()
    limiter = AdaptiveConcurrency(2, 6, ConcurrencySettings(window_calls=5), clock=clock)
    for _ in range(50):
        clock.now += 1
        limiter.observe(100, 1.0, in_flight=0)
    assert limiter.limit == 2 and not limiter.changes


# ---- retry budget ---------------------------------------------------------------------------------------


def test_retry_budget_caps_retries_to_a_share_of_requests() -> None:
    clock = Clock()
    budget = RetryBudget(RetryBudgetSettings(ratio=0.2, min_retries=2, window_s=10), clock=clock)
    for _ in range(50):
        budget.record_request()
    granted = sum(budget.try_spend() for _ in range(100))
    assert granted == 10 and budget.refused == 90
    clock.now += 11  # the window moved on: only the floor is left
    assert sum(budget.try_spend() for _ in range(10)) == 2


def test_a_spent_retry_budget_books_retries_for_later_never_more_than_it_allows() -> None:
    clock = Clock()
    budget = RetryBudget(RetryBudgetSettings(ratio=0.2, min_retries=2, window_s=10), clock=clock)
    for _ in range(50):
        budget.record_request()
    start = clock.now
    booked = [budget.reserve() for _ in range(35)]  # allowance 10 per 10 s window
    assert booked[:10] == [start] * 10 and budget.paced == 25
    assert booked == sorted(booked)
    # No window of 10 s ending at a booking holds more than the allowance: the retries are spread out.
    for end in booked:
        assert sum(1 for t in booked if end - 10 < t <= end) <= 10
    assert booked[-1] - start > 20  # 35 retries at 10 per 10 s take over 20 s
    # A retry booked for a later moment (a backoff) counts there, and goes no earlier.
    later = RetryBudget(RetryBudgetSettings(ratio=0.2, min_retries=2, window_s=10), clock=clock)
    assert later.reserve(earliest=clock.now + 5) == clock.now + 5 and later.paced == 0


# ---- server signals and Retry-After ---------------------------------------------------------------------


def test_prometheus_text_of_llama_server_and_vllm() -> None:
    llama = "# TYPE llamacpp:requests_deferred gauge\nllamacpp:requests_deferred 3\nllamacpp:requests_processing 2\n"
    values = parse_prometheus(llama)
    assert values["llamacpp:requests_deferred"] == 3 and values["llamacpp:requests_processing"] == 2
    vllm = (
        "# TYPE vllm:num_requests_waiting gauge\n"
        'vllm:num_requests_waiting{model_name="a"} 4.0\n'
        'vllm:num_requests_waiting{model_name="b"} 1.0\n'
    )
    assert parse_prometheus(vllm)["vllm:num_requests_waiting"] == 5.0
    assert server_root("http://h:8080/v1/") == "http://h:8080"


def test_retry_after_forms() -> None:
    assert retry_after_seconds(httpx.Headers({"retry-after": "2"})) == 2.0
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(httpx.Headers({"retry-after": when})) or 0) <= 30
    assert retry_after_seconds(httpx.Headers({"retry-after": "9999"})) == 120.0
    assert retry_after_seconds(httpx.Headers({})) is None
    assert retry_after_seconds(httpx.Headers({"retry-after": "soon"})) is None
