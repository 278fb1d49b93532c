"""Benchmark: a chaos soak of the dispatcher, over real sockets on 127.0.0.1.

    .venv/bin/python bench/chaos_soak.py [--slots 1000] [--nodes 6] [--tokens 16] [--seed 7]

``--nodes`` simulated OpenAI-compatible nodes (tests/support/simulated_node.py, served from two worker
processes by tests/support/node_farm.py), called through the real openai client by one dispatcher
(``NodeFleet.dispatcher``), under weather that does not let up:

- standing faults: one node answers 12 % of calls with HTTP 500, one drops 12 % of connections after half
  a JSON body (truncated JSON), one answers 12 % with a 200 that is not JSON, one is slow (1/5 speed);
- 429 storms: every ``storm_every_s`` half the nodes answer above 1 request/s with 429 and
  ``Retry-After: 1`` for ``storm_s``;
- nodes die and come back: every ``death_every_s`` the next node stops listening (calls in flight fail,
  new ones are refused) for ``death_s``, then listens again on the same port.

The same slots then run on the same fleet without any fault. Every slot must end done: 0 lost (each key one
final outcome), 0 generated twice (each key completed by exactly one server), the retries inside the retry
budget (no window of ``retry.budget_window_s`` holds more retries than the budget allows), and the time to
fulfil with and without faults printed side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)

from tests.support.node_farm import NodeFarm  # noqa: E402
from tests.support.simulated_node import KeyedRequests, NodeBehaviour  # noqa: E402
from transcript_foundry.pool.fleet import NodeFleet  # noqa: E402
from transcript_foundry.settings.store import SettingsStore  # noqa: E402

SETTINGS = {  # soak-sized pacing: the defaults wait seconds where this run has seconds in all
    "TRANSCRIPTS__RETRY__BACKOFF_BASE_S": "0.1",
    "TRANSCRIPTS__RETRY__BACKOFF_MAX_S": "1",
    "TRANSCRIPTS__CIRCUIT__OPEN_S": "0.5",
    "TRANSCRIPTS__CIRCUIT__MAX_OPEN_S": "2",
}
BUDGET_RATIO, BUDGET_MIN, BUDGET_WINDOW_S = 0.2, 3, 10.0  # the retry.budget_* defaults


@dataclass
class Weather:
    storm_every_s: float = 5.0
    storm_s: float = 2.0
    death_every_s: float = 4.0
    death_s: float = 3.0


@dataclass
class SoakResult:
    slots: int
    seconds: float
    done: int
    failed: int
    lost: int
    generated_twice: int
    retries: int
    peak_retries_per_window: int
    budget_allowance: int
    faults: dict[str, int]
    failure_reasons: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


class TimedRequests(KeyedRequests):
    """KeyedRequests that also notes when each dispatch of a key began (its retries, after the first)."""

    def __init__(self, max_tokens: int):
        super().__init__(max_tokens)
        self.dispatched: list[tuple[float, str]] = []

    def run(self, backend: Any, node: Any, items: list[Any]) -> list[Any]:
        self.dispatched.append((time.monotonic(), items[0].key))
        return super().run(backend, node, items)


def behaviours(n_nodes: int, tokens: int, chaos: bool) -> list[NodeBehaviour]:
    base = {"slots": 4, "tokens_per_s": 200.0, "completion_tokens": tokens, "retry_after_s": 1.0}
    out = [NodeBehaviour(**base) for _ in range(n_nodes)]
    if chaos:
        out[1].fail_rate, out[1].fail_mode = 0.12, "status-500"
        out[2].fail_rate, out[2].fail_mode = 0.12, "drop"
        out[3].fail_rate, out[3].fail_mode = 0.12, "garbage"
        out[4].tokens_per_s = base["tokens_per_s"] / 5  # slow answers
    return out


def _weather(
    farm: NodeFarm, n_nodes: int, weather: Weather, stop: threading.Event, log: Counter[str]
) -> None:
    """Storms and deaths on a timetable until ``stop``; every node is back and calm when it returns."""
    started = time.monotonic()
    next_storm, next_death = weather.storm_every_s / 2, weather.death_every_s
    storming: list[int] = []
    storm_ends = death_ends = float("inf")
    dead: int | None = None
    victim = 0
    while not stop.wait(0.05):
        t = time.monotonic() - started
        if t >= next_storm and not storming:
            storming = list(range(victim % 2, n_nodes, 2))
            for i in storming:
                farm.set(i, rate_limit_per_s=1)
            log["storms"] += 1
            storm_ends, next_storm = t + weather.storm_s, t + weather.storm_every_s
        if storming and t >= storm_ends:
            for i in storming:
                farm.set(i, rate_limit_per_s=None)
            storming = []
        if t >= next_death and dead is None:
            dead = victim % n_nodes
            victim += 1
            farm.stop(dead)
            log["deaths"] += 1
            death_ends, next_death = t + weather.death_s, t + weather.death_every_s
        if dead is not None and t >= death_ends:
            farm.start(dead)
            dead = None
    for i in storming:
        farm.set(i, rate_limit_per_s=None)
    if dead is not None:
        farm.start(dead)


def peak_in_window(times: list[float], window_s: float) -> int:
    times = sorted(times)
    peak, low = 0, 0
    for high, t in enumerate(times):
        while t - times[low] > window_s:
            low += 1
        peak = max(peak, high - low + 1)
    return peak


def run_soak(
    n_slots: int = 1000,
    n_nodes: int = 6,
    tokens: int = 16,
    *,
    chaos: bool = True,
    weather: Weather | None = None,
    seed: int = 7,
) -> SoakResult:
    if n_nodes < 6:
        raise ValueError("the soak needs at least 6 nodes (4 with standing faults, 2 healthy)")
    weather = weather or Weather()
    with (
        NodeFarm(behaviours(n_nodes, tokens, chaos), processes=2) as farm,
        tempfile.TemporaryDirectory() as tmp,
    ):
        nodes_file = Path(tmp) / "nodes.yaml"
        entries = [
            {
                "id": f"n{i}",
                "backend": "openai_compatible",
                "url": farm.url(i),
                "model": "sim",
                "prompt_style": "completion",
                "timeout_s": 10,
                "connect_timeout_s": 2,
                "max_concurrency": 4,
            }
            for i in range(n_nodes)
        ]
        nodes_file.write_text(json.dumps({"nodes": entries}), encoding="utf-8")
        fleet = NodeFleet(nodes_file=str(nodes_file), refresh_interval_s=0.5, no_node_wait_s=30.0, seed=seed)
        fleet.use_settings(SettingsStore(fleet.engine(), environ=SETTINGS))
        source = TimedRequests(max_tokens=tokens)
        items = source.items(n_slots)
        stop, log = threading.Event(), Counter[str]()
        storms = threading.Thread(target=_weather, args=(farm, n_nodes, weather, stop, log), daemon=True)
        started = time.monotonic()
        if chaos:
            storms.start()
        try:
            stats = fleet.dispatcher().run_sync(source, items)
        finally:
            stop.set()
            if chaos:
                storms.join(timeout=10)
        seconds = time.monotonic() - started
        completed = Counter(p.removeprefix("key=") for prompts in farm.completed().values() for p in prompts)
        counts = farm.counts()
        fleet.close()
    outcomes = source.outcomes
    first: dict[str, float] = {}
    retry_times: list[float] = []
    for when, key in sorted(source.dispatched):
        if key in first:
            retry_times.append(when)
        else:
            first[key] = when
    faults = Counter[str]()
    for c in counts.values():
        faults.update({k: int(v) for k, v in c.items() if k in ("failed", "rate_limited", "overloaded")})
    faults.update({"node_deaths": log["deaths"], "storms": log["storms"]})
    return SoakResult(
        slots=n_slots,
        seconds=seconds,
        done=sum(1 for state, _ in outcomes.values() if state == "ok"),
        failed=sum(1 for state, _ in outcomes.values() if state == "failed"),
        lost=n_slots - sum(1 for item in items if source.finals.get(item.key) == 1),
        generated_twice=sum(1 for n in completed.values() if n > 1),
        retries=len(retry_times),
        peak_retries_per_window=peak_in_window(retry_times, BUDGET_WINDOW_S),
        budget_allowance=max(BUDGET_MIN, int(BUDGET_RATIO * n_slots)),
        faults=dict(faults),
        failure_reasons=[reason for state, reason in outcomes.values() if state == "failed"][:5],
        stats={
            "transport_faults": stats.transport_faults,
            "retries_paced": stats.retries_paced,
            "retries_rerouted": stats.retries_rerouted,
            "retries_backed_off": stats.retries_backed_off,
            "units_by_node": dict(stats.units_by_node),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--slots", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=48, help="output tokens per call")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(describe_machine("openai", "httpx"))
    chaos = run_soak(args.slots, args.nodes, args.tokens, chaos=True, seed=args.seed)
    calm = run_soak(args.slots, args.nodes, args.tokens, chaos=False, seed=args.seed)
    rows = [
        ("time to fulfil", f"{chaos.seconds:.1f} s", f"{calm.seconds:.1f} s"),
        ("slots done / failed", f"{chaos.done} / {chaos.failed}", f"{calm.done} / {calm.failed}"),
        ("slots lost", str(chaos.lost), str(calm.lost)),
        ("slots generated twice", str(chaos.generated_twice), str(calm.generated_twice)),
        (
            "transport faults met",
            str(chaos.stats["transport_faults"]),
            str(calm.stats["transport_faults"]),
        ),
        ("retries (all)", str(chaos.retries), str(calm.retries)),
        (
            f"peak retries per {BUDGET_WINDOW_S:g} s (budget {chaos.budget_allowance})",
            str(chaos.peak_retries_per_window),
            str(calm.peak_retries_per_window),
        ),
        ("retries paced by the budget", str(chaos.stats["retries_paced"]), str(calm.stats["retries_paced"])),
    ]
    print(f"\n{args.slots} slots, {args.nodes} nodes on loopback, {args.tokens} output tokens per call")
    print(f"{'':44} {'with faults':>14} {'fault-free':>14}")
    for name, a, b in rows:
        print(f"{name:44} {a:>14} {b:>14}")
    print(f"time ratio (faults / fault-free): {chaos.seconds / calm.seconds:.2f}")
    print(f"faults injected: {chaos.faults}")
    print(f"calls by node (with faults): {chaos.stats['units_by_node']}")
    if chaos.failure_reasons:
        print(f"failure reasons: {chaos.failure_reasons}")
    ok = (
        chaos.failed == chaos.lost == chaos.generated_twice == 0
        and chaos.peak_retries_per_window <= chaos.budget_allowance
    )
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
