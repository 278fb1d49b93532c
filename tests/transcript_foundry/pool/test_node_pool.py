"""The NodePool and its dispatcher against real servers on 127.0.0.1, called through the real openai client
(OpenAICompatibleBackend): simulated nodes with known capacity and injected faults (tests/support/simulated_node.py),
the node registry and controls on SQLite and on the real Postgres."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from resources.node_pool import NodePool
from tests.support.simulated_node import KeyedRequests, SimulatedNode
from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState
from transcript_foundry.llm.backend import SamplingParams
from transcript_foundry.pool.node_choice import StepRequirements
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_registry import NodeRegistry
from transcript_foundry.pool.node_spec import NodeConfigError, NodeSpec
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.state.state_db import nodes as nodes_table
from transcript_foundry.state.state_db import open_state_db

# Settings given to make_pool by these names go into the pool's settings (as the environment layer).
SETTINGS = {
    "backoff_base_s": "retry.backoff_base_s",
    "backoff_max_s": "retry.backoff_max_s",
    "retry_budget_ratio": "retry.budget_ratio",
    "retry_budget_window_s": "retry.budget_window_s",
    "slot_deadline_s": "retry.slot_deadline_s",
    "circuit_open_s": "circuit.open_s",
    "circuit_failure_threshold": "circuit.failure_threshold",
}
FAST = {  # test-sized timings: backoff, circuit open period, refresh and tuning windows
    "backoff_base_s": 0.05,
    "backoff_max_s": 0.4,
    "circuit_open_s": 0.4,
    "circuit_failure_threshold": 3,
    "refresh_interval_s": 0.2,
    "concurrency_window_calls": 5,
    "no_node_wait_s": 1.0,
    "seed": 11,
}


def node_entry(node_id: str, server: SimulatedNode, **fields: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "backend": "openai_compatible",
        "url": server.url,
        "model": "sim",
        "timeout_s": 2.0,
        **fields,
    }


@pytest.fixture
def make_pool(tmp_path: Path) -> Iterator[Callable[..., NodePool]]:
    pools: list[NodePool] = []

    def make(*entries: dict[str, Any], **config: Any) -> NodePool:
        kwargs = {**FAST, **config}
        environ = {
            "TRANSCRIPTS__" + SETTINGS[k].upper().replace(".", "__"): str(kwargs.pop(k))
            for k in list(kwargs)
            if k in SETTINGS
        }
        if entries:
            path = tmp_path / f"nodes-{len(pools)}.yaml"
            path.write_text(yaml.safe_dump({"nodes": list(entries)}), encoding="utf-8")
            kwargs["nodes_file"] = str(path)
        pool = NodePool(**kwargs)
        pool.use_settings(SettingsStore(pool.engine(), environ=environ))
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def check_exactly_once(source: KeyedRequests, n: int, servers: list[SimulatedNode]) -> None:
    """Every request ended once; a successful one was completed by exactly one server, a failed one by none."""
    assert len(source.outcomes) == n and set(source.finals.values()) == {1}
    done = Counter(p.removeprefix("key=") for s in servers for p in s.completed)
    for key, (state, _) in source.outcomes.items():
        assert done.get(key, 0) == (1 if state == "ok" else 0), (key, source.attempts[key])


def profile(**fields: Any) -> HardwareProfile:
    return HardwareProfile(hostname="box", architecture="x86_64", cpu_cores=8, ram_mb=32000, **fields)


# ---- routing preferences ---------------------------------------------------------------------------------


def test_load_prefers_cool_idle_capable_nodes(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    servers = {name: sim(slots=4, tokens_per_s=400) for name in ("cool", "warm", "hot")}
    pool = make_pool(*(node_entry(n, s, min_concurrency=2, max_concurrency=4) for n, s in servers.items()))
    pool.refresh(force=True)
    temps = {"cool": 45.0, "warm": 74.0, "hot": 83.0}
    for name, temp in temps.items():
        pool.set_live(name, LiveState(cpu_temp_c=temp))
    ranked = pool.rank_nodes()
    assert [r.node_id for r in ranked] == ["cool", "warm", "hot"]
    assert ranked[0].components["thermal"] == 1.0 and ranked[2].components["thermal"] < 0.2
    assert ranked[2].details["hot"] is True and ranked[2].details["concurrency_limit"] == 1

    # A fleet with room to spare (3 requests at a time, 9 slots): where work goes is the pool's choice.
    done: Counter[str] = Counter()
    for round_ in range(12):
        source = KeyedRequests()
        pool.dispatcher().run_sync(source, source.items(3, prefix=f"r{round_}-"))
        check_exactly_once(source, 3, list(servers.values()))
        done.update(node for state, node in source.outcomes.values() if state == "ok")
    assert done["cool"] >= 18 and done["cool"] > done["warm"] >= done["hot"], done

    # Saturated (everyone busy), the hot node still gets only one request at a time.
    source = KeyedRequests()
    pool.dispatcher().run_sync(source, source.items(40, prefix="sat"))
    check_exactly_once(source, 40, list(servers.values()))
    assert servers["hot"].max_inside <= 1, "a hot node gets one request at a time"


def test_capability_and_context_requirements_filter(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    a, b = sim(), sim()
    pool = make_pool(
        node_entry("gpu", a, capabilities=["gpu"], context_window=32768),
        node_entry("cpu", b, context_window=4096),
    )
    ranked = {r.node_id: r for r in pool.rank_nodes(StepRequirements(needs_gpu=True, min_context=8192))}
    assert ranked["gpu"].eligible and not ranked["cpu"].eligible
    assert "context too small" in (ranked["cpu"].excluded_because or "")
    assert "chat_json" in pool.runtime("gpu").snapshot().capabilities  # from its prompt style


# ---- resilience ------------------------------------------------------------------------------------------


def test_a_failing_node_circuit_opens_and_recovers(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool], tmp_path: Path
) -> None:
    good, bad = sim(slots=4), sim(slots=4, fail_rate=1.0)
    url = f"sqlite:///{tmp_path / 'state.db'}"
    pool = make_pool(node_entry("good", good), node_entry("bad", bad), state_url=url)
    source = KeyedRequests()
    pool.dispatcher(max_attempts=3).run_sync(source, source.items(40))
    check_exactly_once(source, 40, [good, bad])
    assert all(state == "ok" for state, _ in source.outcomes.values()), (
        "every request rerouted to the good node",
        [r for s, r in source.outcomes.values() if s != "ok"][:3],
    )
    # Its first few requests (as many as its slots) fail at once, then the open circuit stops its traffic.
    assert bad.counts.get("failed", 0) <= 10, "the open circuit stops traffic to the failing node"
    events = NodeControls(open_state_db(url)).events("bad")
    assert any(e["to_state"] == "circuit_open" for e in events)

    bad.behaviour.fail_rate = 0.0  # it recovers
    time.sleep(FAST["circuit_open_s"] * 2.5)
    source2 = KeyedRequests()
    pool.dispatcher().run_sync(source2, source2.items(40, prefix="s"))
    check_exactly_once(source2, 40, [good, bad])
    assert pool.runtime("bad").circuit.state == "closed"
    assert any(n == "bad" for _, n in source2.outcomes.values()), "the recovered node gets work again"
    states = [e["to_state"] for e in reversed(NodeControls(open_state_db(url)).events("bad"))]
    assert states[-2:] == ["circuit_half_open", "circuit_closed"], states


@pytest.mark.parametrize("fail_mode", ["drop", "garbage", "status-500"])
def test_no_request_lost_or_done_twice_under_faults(
    fail_mode: str, sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    healthy = sim(slots=3)
    flaky = sim(slots=3, fail_rate=0.5, fail_mode=fail_mode)
    limited = sim(slots=3, rate_limit_per_s=5, retry_after_s=0.3)
    servers = [healthy, flaky, limited]
    pool = make_pool(*(node_entry(f"n{i}", s) for i, s in enumerate(servers)))
    source = KeyedRequests()
    stats = pool.dispatcher(max_attempts=4).run_sync(source, source.items(50))
    check_exactly_once(source, 50, servers)
    assert stats.node_failures > 0 and stats.retries_rerouted > 0
    assert sum(1 for state, _ in source.outcomes.values() if state == "ok") >= 48


def test_a_node_that_dies_and_comes_back(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    a, b = sim(slots=3), sim(slots=3)
    pool = make_pool(node_entry("a", a), node_entry("b", b))
    a.stop()
    source = KeyedRequests()
    pool.dispatcher().run_sync(source, source.items(30))
    check_exactly_once(source, 30, [a, b])
    assert {n for _, n in source.outcomes.values()} == {"b"}
    assert pool.runtime("a").circuit.state == "open"
    a.start()  # same port
    time.sleep(FAST["circuit_open_s"] * 2.5)
    again = KeyedRequests()
    pool.dispatcher().run_sync(again, again.items(30, prefix="t"))
    check_exactly_once(again, 30, [a, b])
    assert Counter(n for _, n in again.outcomes.values())["a"] > 0


def test_retry_after_is_honoured(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    only = sim(slots=4, rate_limit_per_s=4, retry_after_s=0.5)
    pool = make_pool(node_entry("only", only), backoff_base_s=0.01)
    source = KeyedRequests()
    started = time.perf_counter()
    pool.dispatcher(max_attempts=6).run_sync(source, source.items(12))
    elapsed = time.perf_counter() - started
    check_exactly_once(source, 12, [only])
    assert all(state == "ok" for state, _ in source.outcomes.values())
    assert elapsed >= 1.0, "12 requests at 4/s with 0.5 s Retry-After pauses take over a second"
    # Only the requests already in flight when a 429 comes back meet the limit too; without honouring
    # Retry-After the 10 ms backoff would hammer the node with dozens of 429s and use up the attempts.
    assert only.counts.get("rate_limited", 0) <= 12, only.counts


def test_the_retry_budget_paces_retries_in_an_outage_and_the_deadline_ends_it(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    servers = [sim(slots=4, fail_rate=1.0) for _ in range(3)]
    pool = make_pool(
        *(node_entry(f"n{i}", s) for i, s in enumerate(servers)),
        circuit_failure_threshold=1000,  # no opening on consecutive failures (the failure rate still counts)
        retry_budget_ratio=0.2,
        retry_budget_window_s=1.0,
        slot_deadline_s=3.0,
    )
    source = KeyedRequests()
    n = 60
    started = time.perf_counter()
    stats = pool.dispatcher(max_attempts=1).run_sync(source, source.items(n))
    elapsed = time.perf_counter() - started
    check_exactly_once(source, n, servers)
    sent = sum(s.counts.get("requests", 0) for s in servers)
    # Retries are at most 20 % of the 60 items (12) per 1 s window, with the floor of 3 while nothing is
    # outstanding: the budget paced them, it did not fail a slot.
    windows = elapsed / 1.0 + 1
    assert sent <= n + 12 * windows, (
        f"{sent} requests for {n} in {elapsed:.1f} s: retries multiplied the load"
    )
    assert stats.retries_paced > 0 and stats.transport_faults > 0 and stats.deadline_failures == n
    reasons = [reason for state, reason in source.outcomes.values() if state == "failed"]
    # max_attempts=1 is never what ends them: a transport fault uses up no attempt; the deadline does.
    assert len(reasons) == n and all(r.startswith("deadline passed") for r in reasons), reasons[:3]
    assert all("retry.slot_deadline_s 3 s" in r for r in reasons)
    assert elapsed >= 3.0


def test_faults_cost_time_not_slots(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    """An outage of every node, with 500s, then 429 storms with Retry-After: every slot waits it out and ends
    done, none failed, even with one attempt per slot and a tight retry budget."""
    servers = [sim(slots=3, fail_rate=1.0), sim(slots=3, fail_rate=1.0, fail_mode="drop")]
    pool = make_pool(
        *(node_entry(f"n{i}", s) for i, s in enumerate(servers)),
        retry_budget_ratio=0.1,
        retry_budget_window_s=1.0,
        slot_deadline_s=60.0,
    )

    def recover() -> None:
        time.sleep(1.5)
        for server in servers:
            server.behaviour.fail_rate = 0.0
            server.behaviour.rate_limit_per_s = 8
            server.behaviour.retry_after_s = 0.3

    healer = threading.Thread(target=recover)
    healer.start()
    source = KeyedRequests()
    n = 40
    stats = pool.dispatcher(max_attempts=1).run_sync(source, source.items(n))
    healer.join()
    check_exactly_once(source, n, servers)
    assert {state for state, _ in source.outcomes.values()} == {"ok"}, stats
    assert stats.transport_faults > 0 and stats.items_failed == 0
    assert sum(s.counts.get("rate_limited", 0) for s in servers) > 0


# ---- adaptive concurrency on real servers ------------------------------------------------------------------


def test_concurrency_rises_on_a_healthy_node_and_falls_when_it_is_overloaded(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    server = sim(slots=6, tokens_per_s=200, completion_tokens=16)
    pool = make_pool(
        node_entry("n", server, min_concurrency=1, max_concurrency=6), concurrency_window_calls=4
    )
    source = KeyedRequests()
    pool.dispatcher().run_sync(source, source.items(80))
    risen = pool.runtime("n").concurrency.limit
    assert risen >= 3, pool.runtime("n").concurrency.changes
    server.behaviour.overload_above = 1  # now it answers 503 to all but one request at a time
    over = KeyedRequests()
    pool.dispatcher(max_attempts=6).run_sync(over, over.items(20, prefix="o"))
    check_exactly_once(over, 20, [server])
    assert all(state == "ok" for state, _ in over.outcomes.values()), "the 503s were deferrals, all retried"
    limit = pool.runtime("n").concurrency.limit
    assert limit < risen and limit <= 2, pool.runtime("n").concurrency.changes
    assert any(c[3].startswith("cut: HTTP 503") for c in pool.runtime("n").concurrency.changes)


def test_server_queue_signals_feed_the_queue_score(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    server = sim(slots=1, tokens_per_s=16, completion_tokens=8)  # 0.5 s a request, one at a time
    pool = make_pool(node_entry("n", server, timeout_s=10.0))
    backend = pool.backend("n")
    calls = [
        threading.Thread(target=backend.complete, args=("key=x", SamplingParams(max_tokens=8)))
        for _ in range(3)
    ]
    for call in calls:
        call.start()
    time.sleep(0.25)
    pool.refresh(force=True, probe_servers=True)
    signals = pool.runtime("n").signals
    for call in calls:
        call.join()
    assert signals is not None and signals.running == 1 and signals.waiting == 2 and signals.slots_total == 1
    assert signals.models == ("sim",)
    node = pool.runtime("n").snapshot()
    assert node.backend_waiting == 2
    assert pool.runtime("n").concurrency.high == 1, "one slot caps the limit, below the lower bound (2)"


def test_a_model_the_server_does_not_serve_is_not_routed_to(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    server = sim()
    pool = make_pool(node_entry("n", server, model="llama-70b"))
    pool.refresh(force=True, probe_servers=True)
    (ranked,) = pool.rank_nodes()
    assert not ranked.eligible and "model 'llama-70b' not loaded (the server serves: sim)" in (
        ranked.excluded_because or ""
    )


# ---- sources: registry, controls, local default, pinning -------------------------------------------------


def _registry_pool_checks(
    url: str, sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    engine = open_state_db(url)
    registry, controls = NodeRegistry(engine), NodeControls(engine)
    servers = {name: sim(slots=4) for name in ("fresh", "paused", "stale", "throttled")}
    for name, server in servers.items():
        spec = NodeSpec(
            id=name,
            backend="openai_compatible",
            url=server.url,
            model="sim",
            min_concurrency=4,
            max_concurrency=4,
        )
        registry.register(spec, profile(gpu_count=1, gpu_memory_mb=24000), live=LiveState(cpu_temp_c=50.0))
    with engine.begin() as conn:  # the stale agent's last heartbeat was two minutes ago
        two_minutes_ago = datetime.now(UTC) - timedelta(seconds=120)
        conn.execute(
            update(nodes_table).where(nodes_table.c.node_id == "stale").values(heartbeat_at=two_minutes_ago)
        )
    controls.set("paused", paused=True, reason="gaming: steam.exe on the GPU", source="activity")
    controls.set("throttled", throttle_factor=0.5, reason="CPU 82 C", source="thermal_guard")
    pool = make_pool(state_url=url)
    ranked = {r.node_id: r for r in pool.rank_nodes()}
    assert set(ranked) == set(servers), "agents in the registry are the pool's nodes"
    assert ranked["fresh"].eligible and ranked["throttled"].eligible
    assert ranked["paused"].excluded_because == "paused by activity: gaming: steam.exe on the GPU"
    assert "heartbeat stale" in (ranked["stale"].excluded_because or "")
    assert (
        ranked["throttled"].details["concurrency_limit"] == 2
        and ranked["fresh"].details["concurrency_limit"] == 4
    )
    source = KeyedRequests()
    pool.dispatcher().run_sync(source, source.items(30))
    check_exactly_once(source, 30, list(servers.values()))
    used = Counter(n for _, n in source.outcomes.values())
    assert set(used) <= {"fresh", "throttled"} and used["fresh"] > 0
    assert servers["throttled"].max_inside <= 2


def test_registry_and_controls_on_sqlite(
    tmp_path: Path, sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    _registry_pool_checks(f"sqlite:///{tmp_path / 'state.db'}", sim, make_pool)


@pytest.mark.postgres
def test_registry_and_controls_on_postgres(
    postgres_url: str, sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool]
) -> None:
    _registry_pool_checks(postgres_url, sim, make_pool)


def test_nothing_configured_means_the_local_machine(
    make_pool: Callable[..., NodePool], tmp_path: Path
) -> None:
    pool = make_pool(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    (runtime,) = pool.runtimes()
    assert (
        runtime.node_id == "local" and runtime.source == "local" and runtime.spec.concurrency_bounds == (4, 4)
    )
    assert runtime.profile is not None and runtime.live is not None  # probed on this machine
    (ranked,) = pool.rank_nodes()
    assert ranked.eligible and ranked.details["concurrency_limit"] == 4  # four sequences decoded together


def test_the_local_nodes_sequences_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRANSCRIPTS_SEQUENCES", "2")
    pool = NodePool.from_env(state_url=f"sqlite:///{tmp_path / 'state.db'}", **FAST)
    try:
        (runtime,) = pool.runtimes()
        assert runtime.spec.concurrency_bounds == (2, 2)
    finally:
        pool.close()
    monkeypatch.setenv("TRANSCRIPTS_SEQUENCES", "four")
    with pytest.raises(ValueError, match="TRANSCRIPTS_SEQUENCES='four' must be a whole number of sequences"):
        NodePool.from_env(state_url=f"sqlite:///{tmp_path / 'state.db'}")


def test_pinning_restricts_the_pool(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = sim(), sim()
    pool = make_pool(node_entry("a", a), node_entry("b", b))
    monkeypatch.setenv("TRANSCRIPTS_PINNED_NODE", "b")
    assert [s.id for s in pool.node_specs()] == ["b"]
    assert [r.node_id for r in pool.rank_nodes()] == ["b"]
    monkeypatch.setenv("TRANSCRIPTS_PINNED_NODE", "nope")
    with pytest.raises(NodeConfigError, match="names no configured node"):
        pool.refresh(force=True)


def test_vram_bounds_the_token_budget(
    make_pool: Callable[..., NodePool], sim: Callable[..., SimulatedNode]
) -> None:
    server = sim()
    pool = make_pool(node_entry("g", server, context_window=32768, kv_bytes_per_token=131072))
    pool.refresh(force=True)
    runtime = pool.runtime("g")
    assert runtime.token_budget() == 32768
    runtime.live = LiveState(gpu_memory_free_mb=1024)  # 1 GiB free at 128 KiB per token: 8192 tokens
    assert runtime.token_budget() == 8192


def test_node_spec_concurrency_bounds_validation() -> None:
    # An in-process llama.cpp node decodes a fixed number of sequences together (4 unless told).
    assert NodeSpec(id="l", backend="llama_cpp").concurrency_bounds == (4, 4)
    assert NodeSpec(id="l", backend="llama_cpp", max_concurrency=1).concurrency_bounds == (1, 1)
    assert NodeSpec(id="l", backend="llama_cpp", max_concurrency=8).concurrency_bounds == (8, 8)
    web = {"id": "w", "backend": "openai_compatible", "url": "http://127.0.0.1:1/v1", "model": "m"}
    assert NodeSpec.model_validate(web).concurrency_bounds == (2, 6)
    assert NodeSpec.model_validate({**web, "max_concurrency": 1}).concurrency_bounds == (1, 1)
    with pytest.raises(ValueError, match="min_concurrency: 5 is above max_concurrency 3"):
        NodeSpec.model_validate({**web, "min_concurrency": 5, "max_concurrency": 3})
    with pytest.raises(ValueError, match="min_concurrency: 6 is above max_concurrency 2"):
        NodeSpec(id="l", backend="llama_cpp", min_concurrency=6, max_concurrency=2)


# ---- generation through the pool -------------------------------------------------------------------------


def test_generation_runs_conversations_concurrently_each_pinned_to_one_node(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool], packs: dict[str, Any]
) -> None:
    from transcript_foundry.contract.job_spec import JobSpec
    from transcript_foundry.generation.conversation_plan import plan_conversation
    from transcript_foundry.generation.generator import GeneratorSettings, TranscriptGenerator
    from transcript_foundry.generation.outcome import SlotOutcome

    pack = packs["healthcare"]
    spec = JobSpec(count=6, domain=pack.name, complexity="simple", exchanges=(4, 6))
    plans = [plan_conversation(spec, pack, "rpool", 2024, i) for i in range(6)]
    servers = {f"n{i}": sim(slots=2, tokens_per_s=400, reply="chatter") for i in range(2)}
    pool = make_pool(*(node_entry(n, s, prompt_style="completion") for n, s in servers.items()))
    emitted: list[SlotOutcome] = []
    generator = TranscriptGenerator(
        pool, pack, settings=GeneratorSettings(max_attempts=2), on_outcome=emitted.append
    )
    outcomes = generator.generate(plans, exemplar_seed=1)

    assert [o.slot_id for o in outcomes] == [p.slot_id for p in plans]
    assert Counter(o.slot_id for o in emitted) == Counter(p.slot_id for p in plans), (
        "each outcome emitted once"
    )
    assert all(o.ok for o in outcomes), [o.failures for o in outcomes]
    written = Counter(o.transcript.generation.node_id for o in outcomes if o.transcript)
    assert set(written) == {"n0", "n1"}, "both nodes wrote conversations"
    for node_id, server in servers.items():
        calls = sum(
            o.transcript.generation.llm_calls
            for o in outcomes
            if o.transcript and o.transcript.generation.node_id == node_id
        )
        assert len(server.completed) == calls, "every turn of a conversation ran on the node that wrote it"
    assert max(s.max_inside for s in servers.values()) >= 2, "conversations ran concurrently"


def test_a_failed_refresh_mid_run_keeps_routing_on_the_last_known_state(
    sim: Callable[..., SimulatedNode], make_pool: Callable[..., NodePool], caplog: pytest.LogCaptureFixture
) -> None:
    server = sim(slots=2)
    pool = make_pool(node_entry("n", server))
    pool.refresh(force=True)
    Path(pool.nodes_file or "").write_text("nodes: [oops", encoding="utf-8")  # broken while work runs
    source = KeyedRequests()
    with caplog.at_level("WARNING", logger="transcript_foundry.pool.dispatch"):
        pool.dispatcher().run_sync(source, source.items(10))
    check_exactly_once(source, 10, [server])
    assert all(state == "ok" for state, _ in source.outcomes.values())
    assert "node pool refresh failed, routing on the last known state" in caplog.text
    assert "not valid YAML" in caplog.text
