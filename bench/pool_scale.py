"""Benchmark: the dispatcher at fleet scale, over real sockets on 127.0.0.1.

    .venv/bin/python bench/pool_scale.py [--nodes 200] [--slots 5000] [--tokens 32] [--processes 2]

``--nodes`` simulated OpenAI-compatible nodes (tests/support/simulated_node.py, served from ``--processes``
worker processes by tests/support/node_farm.py), each a registered node agent in a state DB with
heartbeats, called through the real openai client by one dispatcher (``NodeFleet.dispatcher``):

- 75 % healthy nodes of mixed speeds (1, 2 or 4 parallel slots x 8, 16 or 32 tokens/s per slot); most
  report their slots through /slots and /metrics like llama-server, some do not (Ollama-like);
- 7.5 % hot: their agents report 86 °C (routing gives them one call at a time) and they run at 1/4 speed;
- 7.5 % flaky: 30 % of their requests fail (HTTP 500 or a connection dropped mid-response);
- 5 % rate-limited: above 1 request/s, HTTP 429 with Retry-After: 1;
- 2.5 % join after ``--join-at`` s (start and register), 2.5 % leave at ``--leave-at`` s (stop serving,
  deregister: their calls in flight fail and are retried elsewhere).

``--slots`` work items, one completion of ``--tokens`` output tokens each, every one must end done (up to
4 attempts). Printed: goodput (output tokens/s of successful calls over the wall time) against the healthy
nodes' capacity (target >= 0.9), the peak calls in flight against the fleet's slots (no ceiling below what
the fleet can take), the dispatcher process's CPU per call and peak memory, and the routing decision
time at 50 / 500 / 5,000 nodes: the routing index (incremental) against a full rescore per decision.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)

from tests.support.node_farm import NodeFarm  # noqa: E402
from tests.support.simulated_node import KeyedRequests, NodeBehaviour  # noqa: E402
from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState  # noqa: E402
from transcript_foundry.pool.fleet import NodeFleet  # noqa: E402
from transcript_foundry.pool.node_registry import NodeRegistry  # noqa: E402
from transcript_foundry.pool.node_spec import NodeSpec  # noqa: E402
from transcript_foundry.pool.percentiles import percentile  # noqa: E402
from transcript_foundry.settings.store import SettingsStore  # noqa: E402
from transcript_foundry.state.state_db import nodes as nodes_table  # noqa: E402
from transcript_foundry.state.state_db import open_state_db  # noqa: E402

MAX_ATTEMPTS = 4
HEARTBEAT_S = 5.0  # agents' heartbeat interval (the pool takes a node out after 30 s of silence)


@dataclass(frozen=True)
class FarmNode:
    node_id: str
    kind: str  # healthy | hot | flaky | rate_limited | joining | leaving
    behaviour: NodeBehaviour
    cpu_temp_c: float = 50.0


def plan_fleet(n: int, tokens: int, seed: int = 0) -> list[FarmNode]:
    rng = random.Random(seed)
    counts = {
        "hot": round(n * 0.075),
        "flaky": round(n * 0.075),
        "rate_limited": round(n * 0.05),
        "joining": max(1, round(n * 0.025)),
        "leaving": max(1, round(n * 0.025)),
    }
    kinds = [k for k, c in counts.items() for _ in range(c)]
    kinds += ["healthy"] * (n - len(kinds))
    rng.shuffle(kinds)
    nodes = []
    for i, kind in enumerate(kinds):
        slots, tps = rng.choice((1, 2, 2, 4)), rng.choice((8.0, 16.0, 32.0))
        metrics = rng.random() < 0.8 or slots <= 2  # a node that hides its slots has at most 2
        faults: dict[str, Any] = {}
        temp = 50.0
        if kind == "hot":
            tps, temp = tps / 4, 86.0
        elif kind == "flaky":
            faults = {"fail_rate": 0.3, "fail_mode": rng.choice(("status-500", "drop"))}
        elif kind == "rate_limited":
            faults = {"rate_limit_per_s": 1, "retry_after_s": 1.0}
        behaviour = NodeBehaviour(
            slots=slots, tokens_per_s=tps, completion_tokens=tokens, metrics=metrics, **faults
        )
        nodes.append(FarmNode(f"{kind}-{i:04d}", kind, behaviour, temp))
    return nodes


def _spec(node: FarmNode, url: str) -> NodeSpec:
    return NodeSpec(
        id=node.node_id,
        backend="openai_compatible",
        url=url,
        model="sim",
        timeout_s=30.0,
        server_signals=node.behaviour.metrics,
    )


def _profile(node: FarmNode) -> HardwareProfile:
    return HardwareProfile(hostname=node.node_id, architecture="x86_64", cpu_cores=8, ram_mb=16000)


def heartbeat_all(registry: NodeRegistry, alive: list[FarmNode]) -> None:
    """Every live agent's heartbeat, in one transaction (what 200 agents do, each on its own machine)."""
    now = datetime.now(UTC)
    with registry.engine.begin() as conn:
        conn.execute(
            update(nodes_table)
            .where(nodes_table.c.node_id == bindparam("nid"))
            .values(live=bindparam("live"), heartbeat_at=now),
            [
                {"nid": n.node_id, "live": LiveState(cpu_temp_c=n.cpu_temp_c).model_dump(mode="json")}
                for n in alive
            ],
        )


def run_scale(
    n_nodes: int = 200,
    n_slots: int = 5000,
    tokens: int = 32,
    processes: int = 2,
    join_at: float = 5.0,
    leave_at: float = 10.0,
    seed: int = 0,
) -> dict[str, Any]:
    """One scale run; the numbers the table prints (also what the test of its short form asserts)."""
    nodes = plan_fleet(n_nodes, tokens, seed)
    joining = {i for i, n in enumerate(nodes) if n.kind == "joining"}
    leaving = [i for i, n in enumerate(nodes) if n.kind == "leaving"]
    healthy = sum(n.behaviour.capacity_tokens_per_s for n in nodes if n.kind == "healthy")
    fleet_slots = sum(n.behaviour.slots for n in nodes)
    with (
        tempfile.TemporaryDirectory() as tmp,
        NodeFarm([n.behaviour for n in nodes], processes=processes, absent=joining) as farm,
    ):
        state_url = f"sqlite:///{Path(tmp) / 'state.db'}"
        registry = NodeRegistry(open_state_db(state_url))
        present = {i for i in range(len(nodes)) if i not in joining}
        lock = threading.Lock()
        for i in sorted(present):
            node = nodes[i]
            registry.register(
                _spec(node, farm.url(i)), _profile(node), live=LiveState(cpu_temp_c=node.cpu_temp_c)
            )
        stop = threading.Event()
        t0 = time.perf_counter()
        last_beat = [t0]

        def agents() -> None:  # what each node's agent does: heartbeat, and the joins and leaves
            joined = left = False
            while not stop.wait(1.0):
                beat_now = time.perf_counter() - last_beat[0] >= HEARTBEAT_S
                elapsed = time.perf_counter() - t0
                if not joined and elapsed >= join_at:
                    joined = True
                    for i in sorted(joining):
                        url = farm.start(i)
                        registry.register(
                            _spec(nodes[i], url), _profile(nodes[i]), live=LiveState(cpu_temp_c=50.0)
                        )
                        with lock:
                            present.add(i)
                if not left and elapsed >= leave_at:
                    left = True
                    for i in leaving:
                        with lock:
                            present.discard(i)
                        farm.stop(i)
                        registry.deregister(nodes[i].node_id)
                if not beat_now:
                    continue
                last_beat[0] = time.perf_counter()
                with lock:
                    beating = sorted(present)
                heartbeat_all(registry, [nodes[i] for i in beating])

        beat = threading.Thread(target=agents, daemon=True)
        beat.start()
        fleet = NodeFleet(state_url=state_url, refresh_interval_s=2.0, heartbeat_max_age_s=30.0, seed=seed)
        fleet.use_settings(
            SettingsStore(fleet.engine(), environ={"TRANSCRIPTS__RETRY__BACKOFF_BASE_S": "0.25"})
        )
        source = KeyedRequests(max_tokens=tokens)
        items = source.items(n_slots)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        stats = fleet.dispatcher(max_attempts=MAX_ATTEMPTS).run_sync(source, items)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        stop.set()
        beat.join(timeout=10)
        limits = [r.concurrency.limit for r in fleet.runtimes()]
        fleet_limits = {r.node_id: r.concurrency.limit for r in fleet.runtimes()}
        fleet.close()
        counts = farm.counts()
    ok = sum(1 for state, _ in source.outcomes.values() if state == "ok")
    reasons = Counter(
        re.sub(r"\d+", "N", why)[:120] for state, why in source.outcomes.values() if state != "ok"
    )
    calls = sum(stats.units_by_node.values())
    by_kind: dict[str, int] = {}
    for n in nodes:
        by_kind[n.kind] = by_kind.get(n.kind, 0) + stats.units_by_node.get(n.node_id, 0)
    return {
        "nodes": len(nodes),
        "slots": n_slots,
        "ok": ok,
        "failed": n_slots - ok,
        "exactly_once": set(source.finals.values()) == {1} and len(source.finals) == n_slots,
        "wall_s": wall,
        "goodput": ok * tokens / wall,
        "healthy_capacity": healthy,
        "goodput_ratio": ok * tokens / wall / healthy,
        "fleet_slots": fleet_slots,
        "max_in_flight": stats.max_in_flight,
        "calls": calls,
        "cpu_ms_per_call": cpu * 1000 / max(1, calls),
        "cpu_share": cpu / wall,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "p95_s": percentile(source.latencies, 0.95),
        "retries_rerouted": stats.retries_rerouted,
        "retries_backed_off": stats.retries_backed_off,
        "calls_by_kind": by_kind,
        "server_requests": sum(int(c.get("requests", 0)) for c in counts.values()),
        "median_limit": statistics.median(limits) if limits else 0,
        "failure_reasons": reasons.most_common(3),
        "use_by_shape": {
            shape: round(statistics.mean(u), 2)
            for shape, u in _group(
                (
                    (n.behaviour.slots, n.behaviour.tokens_per_s, n.behaviour.metrics),
                    counts[i]["busy_slot_s"] / (n.behaviour.slots * wall),
                )
                for i, n in enumerate(nodes)
                if n.kind == "healthy"
            ).items()
        },
        "healthy_slot_use": statistics.mean(
            counts[i]["busy_slot_s"] / (n.behaviour.slots * wall)
            for i, n in enumerate(nodes)
            if n.kind == "healthy"
        ),
        "limit_vs_slots": Counter(
            (n.behaviour.slots, fleet_limits.get(n.node_id)) for n in nodes if n.kind == "healthy"
        ).most_common(8),
    }


def _group(pairs: Any) -> dict[Any, list[float]]:
    out: dict[Any, list[float]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return dict(sorted(out.items()))


def decision_ms(n_nodes: int, decisions: int = 200) -> tuple[float, float, float]:
    """(routing index: ms per decision, ms per rebuild; full rescore: ms per decision) at ``n_nodes``."""
    from transcript_foundry.pool.circuit import CircuitBreaker
    from transcript_foundry.pool.concurrency import AdaptiveConcurrency
    from transcript_foundry.pool.node_choice import StepRequirements
    from transcript_foundry.pool.node_runtime import NodeRuntime
    from transcript_foundry.pool.routing_index import RoutingIndex
    from transcript_foundry.pool.scoring import ScoringWeights, choose, rank

    rng = random.Random(n_nodes)
    runtimes = []
    for i in range(n_nodes):
        spec = NodeSpec(
            id=f"n{i}",
            backend="openai_compatible",
            url=f"http://10.0.{i // 250}.{i % 250}:8080/v1",
            model="m",
        )
        runtime = NodeRuntime(
            spec=spec, source="agent", circuit=CircuitBreaker(), concurrency=AdaptiveConcurrency(2, 6)
        )
        runtime.live = LiveState(cpu_temp_c=rng.uniform(40, 88), in_flight=rng.randint(0, 1))
        runtime.tokens_per_s = rng.uniform(10, 400)
        runtimes.append(runtime)
    index = RoutingIndex(StepRequirements(), ScoringWeights(), time.monotonic)
    started = time.perf_counter()
    index.rebuild(runtimes)
    rebuild = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(decisions):
        t = time.perf_counter()
        pick = index.choose(rng)
        node = index.runtimes[pick.node_id]  # type: ignore[union-attr]
        node.started()
        index.update(node.node_id)
        times.append((time.perf_counter() - t) * 1000)
        node.finished()
        index.update(node.node_id)
    full = []
    for _ in range(3):
        t = time.perf_counter()
        choose(rank([r.snapshot() for r in runtimes]), rng)
        full.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), rebuild, statistics.median(full)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--slots", type=int, default=5000)
    parser.add_argument("--tokens", type=int, default=32, help="output tokens per call")
    parser.add_argument("--processes", type=int, default=2, help="worker processes serving the nodes")
    parser.add_argument("--join-at", type=float, default=5.0)
    parser.add_argument("--leave-at", type=float, default=10.0)
    args = parser.parse_args()
    print(f"machine: {describe_machine('openai', 'httpx')}")
    r = run_scale(args.nodes, args.slots, args.tokens, args.processes, args.join_at, args.leave_at)
    print(
        f"fleet: {r['nodes']} simulated nodes on 127.0.0.1 ({r['fleet_slots']} parallel slots), "
        f"{r['slots']} work items x {args.tokens} output tokens; healthy capacity {r['healthy_capacity']:.0f} tokens/s"
    )
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(
        f"| items done / failed (each ended exactly once: {r['exactly_once']}) | {r['ok']} / {r['failed']} |"
    )
    print(f"| wall time | {r['wall_s']:.1f} s |")
    print(f"| goodput | {r['goodput']:.0f} tokens/s |")
    print(f"| **goodput / healthy capacity** (target >= 0.9) | **{r['goodput_ratio']:.2f}** |")
    print(
        f"| peak calls in flight / the fleet's parallel slots | {r['max_in_flight']} / {r['fleet_slots']} |"
    )
    print(f"| calls (retries included) / requests the servers saw | {r['calls']} / {r['server_requests']} |")
    print(f"| dispatcher CPU per call (process CPU time / calls) | {r['cpu_ms_per_call']:.2f} ms |")
    print(f"| dispatcher CPU share of one core over the run | {r['cpu_share']:.2f} |")
    print(f"| dispatcher peak memory (max RSS) | {r['peak_rss_mib']:.0f} MiB |")
    print(f"| p95 latency, first dispatch to outcome | {r['p95_s']:.2f} s |")
    print(f"| retries rerouted / backed off | {r['retries_rerouted']} / {r['retries_backed_off']} |")
    print(f"| calls by kind of node | {r['calls_by_kind']} |")
    print(f"| healthy nodes: share of their slots kept busy | {r['healthy_slot_use']:.2f} |")
    print(f"| healthy nodes: (slots, concurrency limit at the end) | {r['limit_vs_slots']} |")
    if r["failure_reasons"]:
        print(f"| top reasons of failed items | {r['failure_reasons']} |")
    print()
    print(
        "| nodes | routing decision (index) | index rebuild (per refresh) | full rescore per decision (before) |"
    )
    print("|---:|---:|---:|---:|")
    for n in (50, 500, 5000):
        d, rebuild, full = decision_ms(n)
        print(f"| {n:,} | {d:.3f} ms | {rebuild:.1f} ms | {full:.1f} ms |")


if __name__ == "__main__":
    main()
