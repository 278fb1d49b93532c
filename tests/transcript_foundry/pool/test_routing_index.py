"""The routing index (incremental scores, O(log n) choices), the dispatcher's backlog, and the 1/2/4/8 s
backoff schedule on a fake clock."""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from transcript_foundry.hardware.node_telemetry import LiveState
from transcript_foundry.llm.backend import LLMCallError
from transcript_foundry.pool.circuit import CircuitBreaker
from transcript_foundry.pool.concurrency import AdaptiveConcurrency
from transcript_foundry.pool.dispatch import Backlog, Dispatcher, WorkItem
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.pool.node_choice import StepRequirements
from transcript_foundry.pool.node_runtime import NodeRuntime
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.pool.routing_index import RoutingIndex
from transcript_foundry.pool.scoring import ScoringWeights, choose, fleet_scale, rank, score_node
from transcript_foundry.settings.store import SettingsStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def runtimes(n: int, seed: int = 0, clock: Clock | None = None) -> list[NodeRuntime]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        spec = NodeSpec(
            id=f"n{i}", backend="openai_compatible", url=f"http://10.0.0.{i % 250}:80/v1", model="m"
        )
        runtime = NodeRuntime(
            spec=spec,
            source="agent",
            circuit=CircuitBreaker(clock=clock or time.monotonic),
            concurrency=AdaptiveConcurrency(2, 6),
            clock=clock or time.monotonic,
        )
        runtime.live = LiveState(cpu_temp_c=rng.uniform(40, 97))
        runtime.tokens_per_s = rng.uniform(10, 400)
        out.append(runtime)
    return out


def test_index_scores_equal_a_full_rescore_after_updates() -> None:
    clock = Clock()
    nodes = runtimes(300, clock=clock)
    index = RoutingIndex(StepRequirements(), ScoringWeights(), clock)
    index.rebuild(nodes)
    rng = random.Random(1)
    for _ in range(500):  # calls start and end on random nodes
        node = rng.choice(nodes)
        if rng.random() < 0.6:
            node.started()
        else:
            node.finished()
        index.update(node.node_id)
    scale = index.scale
    for node in nodes:
        fresh = score_node(node.snapshot(), scale, StepRequirements(), ScoringWeights())
        assert index.ranked[node.node_id].score == fresh.score
        assert (node.node_id in index.eligible) == fresh.eligible
    assert index.open_nodes() == sum(
        1 for n in nodes if index.ranked[n.node_id].eligible and n.has_capacity()
    )
    excluded = {n.node_id for n in nodes if (n.live.cpu_temp_c or 0) >= 95}
    assert excluded and not (excluded & index.eligible), "critically hot nodes are never eligible"


def test_choices_prefer_high_scores_and_skip_nodes_without_room() -> None:
    clock = Clock()
    nodes = runtimes(3, clock=clock)
    for node, temp in zip(nodes, (40.0, 78.0, 70.0), strict=True):
        node.live = LiveState(cpu_temp_c=temp)
        node.tokens_per_s = 100.0
    index = RoutingIndex(StepRequirements(), ScoringWeights(), clock)
    index.rebuild(nodes)
    rng = random.Random(2)
    picks = Counter(index.choose(rng).node_id for _ in range(2000))  # type: ignore[union-attr]
    assert picks["n0"] > picks["n2"] > 0 and picks["n1"] == 0  # of three, the worst never wins a pair
    # The same law as the full scoring's choose() (power of two, weighted by score).
    ranked, full_rng = rank([n.snapshot() for n in nodes]), random.Random(2)
    full = Counter(choose(ranked, full_rng).node_id for _ in range(2000))  # type: ignore[union-attr]
    for node_id in ("n0", "n1", "n2"):
        assert abs(picks[node_id] - full[node_id]) < 200
    for _ in range(nodes[0].limit()):
        nodes[0].started()
    index.update("n0")
    assert all(index.choose(rng).node_id != "n0" for _ in range(200))  # type: ignore[union-attr]
    index.suspend("n2")
    assert {index.choose(rng).node_id for _ in range(50)} == {"n1"}  # type: ignore[union-attr]
    index.resume()
    nodes[1].cool_down(5.0, "Retry-After 5 s")
    index.update("n1")
    assert {index.choose(rng).node_id for _ in range(50)} == {"n2"}  # type: ignore[union-attr]
    assert index.next_wake_in() == pytest.approx(5.0)
    clock.now += 5.0
    index.wake_due()
    assert "n1" in index.eligible and index.open_nodes() == 2  # back in the draw, without a refresh


def decision_ms(n_nodes: int, decisions: int = 200) -> tuple[float, float]:
    """(median ms of one routing decision: draw + rescore of the chosen node, ms of a full rebuild)."""
    clock = Clock()
    nodes = runtimes(n_nodes, seed=n_nodes, clock=clock)
    index = RoutingIndex(StepRequirements(), ScoringWeights(), clock)
    started = time.perf_counter()
    index.rebuild(nodes)
    rebuild = (time.perf_counter() - started) * 1000
    rng = random.Random(3)
    times = []
    for _ in range(decisions):
        t0 = time.perf_counter()
        pick = index.choose(rng)
        assert pick is not None
        node = index.runtimes[pick.node_id]
        node.started()
        index.update(node.node_id)
        times.append((time.perf_counter() - t0) * 1000)
        node.finished()  # the call ends (not timed): the fleet stays as busy as it was
        index.update(node.node_id)
    return statistics.median(times), rebuild


def test_a_routing_decision_at_5000_nodes_takes_under_10_ms() -> None:
    small, _ = decision_ms(50)
    large, rebuild = decision_ms(5000)
    assert large < 10.0, f"{large:.3f} ms per decision at 5,000 nodes"
    assert large < 20 * max(small, 0.01), (small, large)  # logarithmic, not linear (100x the nodes)
    assert rebuild > large  # the full rescore is what a refresh pays, once


def test_backlog_orders_retries_first_and_waits_for_not_before() -> None:
    items = [WorkItem(key=f"k{i}", payload=None) for i in range(5)]
    backlog = Backlog(items)
    retry = backlog.ready.popleft()
    retry.not_before = 10.0
    backlog.put_back(retry, now=5.0)
    assert [i.key for i in backlog.ready] == ["k1", "k2", "k3", "k4"] and len(backlog) == 5
    assert backlog.next_wait(5.0) == 5.0
    backlog.release(9.99)
    assert backlog.ready[0].key == "k1"
    backlog.release(10.0)
    assert backlog.ready[0].key == "k0"  # it waited already: ahead of the fresh backlog
    backlog.ready[1].tried.add("a")
    assert [i.key for i in backlog.window("a", {"a", "b"}, 2)] == ["k0", "k2"]
    assert [i.key for i in backlog.window("a", {"a"}, 2)] == ["k0", "k1"]  # every node tried it: any


def test_backoff_schedule_1_2_4_8_seconds_on_a_fake_clock(tmp_path: Path) -> None:
    """One node, failing every time: each retry waits base x 1, 2, 4, 8, 8 s (+ up to base / 2 jitter),
    and the backlog holds the item until then."""
    path = tmp_path / "nodes.yaml"
    node = {"id": "only", "backend": "openai_compatible", "url": "http://127.0.0.1:9/v1", "model": "m"}
    path.write_text(yaml.safe_dump({"nodes": [node]}), encoding="utf-8")
    fleet = NodeFleet(nodes_file=str(path))
    environ = {
        "TRANSCRIPTS__RETRY__BUDGET_MIN_RETRIES": "100",
        "TRANSCRIPTS__CIRCUIT__FAILURE_THRESHOLD": "100",
    }
    fleet.use_settings(SettingsStore(None, environ=environ))
    clock = Clock()
    dispatcher = Dispatcher(fleet, max_attempts=10, clock=clock, rng=random.Random(7))
    dispatcher.index.rebuild(fleet.runtimes(refresh=True), fleet.weights)
    runtime = fleet.runtime("only")

    class Source:
        def __init__(self) -> None:
            self.failures: list[str] = []

        def on_failure(self, item: WorkItem, node_id: str, reason: str, final: bool) -> None:
            self.failures.append(reason)

    item = WorkItem(key="k", payload=None)
    backlog = Backlog([])
    waits = []
    for attempt in range(1, 6):
        item.attempts = attempt
        runtime.started()
        runtime.finished()
        error = LLMCallError("HTTP 500", node_id="only", status=500)
        dispatcher._call_failed(Source(), runtime, [item], error, backlog)  # type: ignore[arg-type]
        wait = item.not_before - clock.now
        waits.append(wait)
        backlog.release(item.not_before - 0.001)
        assert not backlog.ready, "released before its backoff ran out"
        clock.now = item.not_before
        backlog.release(clock.now)
        assert backlog.ready.popleft() is item
    for wait, base in zip(waits, (1, 2, 4, 8, 8), strict=True):
        assert base <= wait <= base + 0.5, waits
    assert dispatcher.stats.retries_backed_off == 5 and dispatcher.stats.retries_rerouted == 0
    fleet.close()


def test_fleet_scale_is_what_capability_is_relative_to() -> None:
    nodes = runtimes(4)
    scale = fleet_scale([n.snapshot() for n in nodes])
    assert scale.tokens_per_s == max(n.tokens_per_s for n in nodes)  # type: ignore[type-var]
