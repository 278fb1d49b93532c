"""Benchmark: the node pool's dispatch against round-robin on the same simulated fleet, in one run.

    .venv/bin/python bench/pool_efficiency.py [--requests 400] [--tokens 64]

Nine OpenAI-compatible nodes on 127.0.0.1 (tests/support/simulated_node.py) with known capacities (parallel
slots x tokens/s per slot), called through the real openai client:

- six healthy nodes of different sizes (some report their slots through /slots and /metrics like
  llama-server, some do not, like Ollama, and are tuned by hill climbing alone);
- one hot node: its agent reports 86 C in the registry and it runs thermally throttled (1/4 speed);
- one flaky node: 40 % of its requests fail (HTTP 500 or a connection dropped mid-response);
- one rate-limited node: above 1 request/s it answers 429 with Retry-After: 1.

Every node is an agent in a state DB (registry + heartbeats). Both sides must finish every request (a
failed one is retried, up to 4 attempts). Printed: goodput (output tokens/s of successful requests over
the wall time) of the pool and of round-robin, the pool's goodput as a fraction of the healthy fleet's
capacity (target >= 0.9) and its ratio to round-robin (target >= 1.5), p95 latency of both, and the
routing decision time (snapshot + score + choose) at 50, 500 and 5,000 nodes.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the simulated node server is a test helper
sys.path.insert(0, str(ROOT / "bench"))

from pool_scale import decision_ms  # noqa: E402  (bench/, the script's folder)

from tests.support.simulated_node import KeyedRequests, NodeBehaviour, SimulatedNode  # noqa: E402
from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState  # noqa: E402
from transcript_foundry.llm.backend import LLMCallError, SamplingParams  # noqa: E402
from transcript_foundry.llm.openai_backend import OpenAICompatibleBackend  # noqa: E402
from transcript_foundry.pool.node_registry import NodeRegistry  # noqa: E402
from transcript_foundry.pool.node_spec import NodeSpec  # noqa: E402
from transcript_foundry.pool.percentiles import percentile  # noqa: E402
from transcript_foundry.settings.store import SettingsStore  # noqa: E402

MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class FleetNode:
    node_id: str
    behaviour: NodeBehaviour
    kind: str  # healthy | hot | flaky | rate_limited
    cpu_temp_c: float = 50.0


def fleet(tokens: int) -> list[FleetNode]:
    def b(slots: int, tps: float, **faults: Any) -> NodeBehaviour:
        return NodeBehaviour(slots=slots, tokens_per_s=tps, completion_tokens=tokens, **faults)

    return [
        FleetNode("gpu-a", b(4, 50), "healthy"),
        FleetNode("gpu-b", b(4, 50, metrics=False), "healthy"),
        FleetNode("desk-a", b(3, 60), "healthy"),
        FleetNode("desk-b", b(2, 75, metrics=False), "healthy"),
        FleetNode("cpu-big", b(6, 30), "healthy"),
        FleetNode("laptop", b(2, 40, metrics=False), "healthy"),
        FleetNode("hot", b(4, 12.5), "hot", cpu_temp_c=86.0),  # thermally throttled: a quarter of 50
        FleetNode("flaky", b(4, 50, fail_rate=0.4, fail_mode="status-500"), "flaky"),
        FleetNode("limited", b(4, 50, rate_limit_per_s=1, retry_after_s=1.0), "rate_limited"),
    ]


def spec(node: FleetNode, server: SimulatedNode) -> NodeSpec:
    return NodeSpec(id=node.node_id, backend="openai_compatible", url=server.url, model="sim", timeout_s=30.0)


def run_pool(nodes: list[FleetNode], servers: list[SimulatedNode], n: int, state_url: str) -> dict[str, Any]:
    from resources.node_pool import NodePool
    from transcript_foundry.state.state_db import open_state_db

    registry = NodeRegistry(open_state_db(state_url))
    profile = HardwareProfile(hostname="sim", architecture="x86_64", cpu_cores=8, ram_mb=32000)
    for node, server in zip(nodes, servers, strict=True):
        registry.register(spec(node, server), profile, live=LiveState(cpu_temp_c=node.cpu_temp_c))
    stop = threading.Event()

    def heartbeat() -> None:  # what each node's agent does
        while not stop.wait(2.0):
            for node in nodes:
                registry.heartbeat(node.node_id, LiveState(cpu_temp_c=node.cpu_temp_c))

    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    pool = NodePool(state_url=state_url, refresh_interval_s=1.0, seed=5)
    pool.use_settings(SettingsStore(pool.engine(), environ={"TRANSCRIPTS__RETRY__BACKOFF_BASE_S": "0.25"}))
    source = KeyedRequests(max_tokens=nodes[0].behaviour.completion_tokens)
    started = time.perf_counter()
    stats = pool.dispatcher(max_attempts=MAX_ATTEMPTS).run_sync(source, source.items(n))
    wall = time.perf_counter() - started
    stop.set()
    limits = {r.node_id: r.concurrency.limit for r in pool.runtimes()}
    pool.close()
    ok = sum(1 for state, _ in source.outcomes.values() if state == "ok")
    return {
        "wall_s": wall,
        "ok": ok,
        "failed": n - ok,
        "latencies": source.latencies,
        "by_node": dict(stats.units_by_node),
        "limits": limits,
        "retries": stats.retries_rerouted + stats.retries_backed_off,
    }


def run_round_robin(
    nodes: list[FleetNode], servers: list[SimulatedNode], n: int, per_node: int
) -> dict[str, Any]:
    """The naive router: request i goes to node i mod N; a failure is resent to the next node at once."""
    backends = [OpenAICompatibleBackend(spec(node, s)) for node, s in zip(nodes, servers, strict=True)]
    tokens = nodes[0].behaviour.completion_tokens
    counter = iter(range(10**9))
    lock = threading.Lock()
    latencies: list[float] = []
    outcomes: list[bool] = []
    by_node: dict[str, int] = {}

    def one(i: int) -> None:
        started = time.perf_counter()  # a worker picked it up: the first dispatch
        for _attempt in range(MAX_ATTEMPTS):
            with lock:
                k = next(counter)
            backend = backends[k % len(backends)]
            with lock:
                by_node[backend.info.node_id] = by_node.get(backend.info.node_id, 0) + 1
            try:
                backend.complete(f"key=rr{i}", SamplingParams(max_tokens=tokens))
            except LLMCallError:
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                outcomes.append(True)
            return
        with lock:
            latencies.append(time.perf_counter() - started)
            outcomes.append(False)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=per_node * len(nodes)) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - started
    for backend in backends:
        backend.close()
    ok = sum(outcomes)
    return {"wall_s": wall, "ok": ok, "failed": n - ok, "latencies": latencies, "by_node": by_node}


def summary(name: str, result: dict[str, Any], tokens: int) -> dict[str, float]:
    goodput = result["ok"] * tokens / result["wall_s"]
    p95 = percentile(result["latencies"], 0.95)
    print(
        f"{name:<12} {result['ok']:>4} ok {result['failed']:>3} failed in {result['wall_s']:6.1f} s: "
        f"goodput {goodput:7.1f} tokens/s, p95 latency {p95:5.2f} s"
    )
    return {"goodput": goodput, "p95": p95}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--tokens", type=int, default=64, help="output tokens per request")
    parser.add_argument("--rr-concurrency", type=int, default=4, help="round-robin workers per node")
    args = parser.parse_args()

    nodes = fleet(args.tokens)
    servers = [SimulatedNode(node.behaviour, seed=i) for i, node in enumerate(nodes)]
    healthy = sum(n.behaviour.capacity_tokens_per_s for n in nodes if n.kind == "healthy")
    usable = healthy + sum(
        {
            "hot": n.behaviour.capacity_tokens_per_s,
            "flaky": n.behaviour.capacity_tokens_per_s * (1 - n.behaviour.fail_rate),
            "rate_limited": min(
                n.behaviour.capacity_tokens_per_s, (n.behaviour.rate_limit_per_s or 0) * args.tokens
            ),
        }.get(n.kind, 0.0)
        for n in nodes
    )
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(
        f"fleet: {len(nodes)} nodes; healthy capacity {healthy:.0f} tokens/s; with what the hot, flaky and "
        f"rate-limited nodes can still give: {usable:.0f} tokens/s; {args.requests} requests x {args.tokens} tokens"
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pool_result = run_pool(nodes, servers, args.requests, f"sqlite:///{Path(tmp) / 'state.db'}")
        ours = summary("node pool", pool_result, args.tokens)
        use = {
            n.node_id: round(s.busy_slot_s / (n.behaviour.slots * pool_result["wall_s"]), 2)
            for n, s in zip(nodes, servers, strict=True)
        }
        print(f"  pool: share of each node's slots kept busy: {use}")
        rr_result = run_round_robin(nodes, servers, args.requests, args.rr_concurrency)
        rr = summary("round-robin", rr_result, args.tokens)
    finally:
        for server in servers:
            server.close()
    print(f"  pool units per node: {pool_result['by_node']}")
    print(f"  pool concurrency limits at the end: {pool_result['limits']}")
    print(f"  round-robin attempts per node: {rr_result['by_node']}")
    print(f"goodput / healthy fleet capacity: {ours['goodput'] / healthy:.2f} (target >= 0.9)")
    print(f"goodput / all usable capacity:    {ours['goodput'] / usable:.2f}")
    print(f"goodput vs round-robin:           {ours['goodput'] / rr['goodput']:.2f}x (target >= 1.5)")
    print(f"p95 latency: pool {ours['p95']:.2f} s, round-robin {rr['p95']:.2f} s")
    for n_nodes in (50, 500, 5000):
        index_ms, _, full_ms = decision_ms(n_nodes)  # bench/pool_scale.py
        print(f"routing decision at {n_nodes:>5} nodes: {index_ms:.3f} ms (a full rescore: {full_ms:.1f} ms)")


if __name__ == "__main__":
    main()
