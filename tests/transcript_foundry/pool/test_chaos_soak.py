"""The short form of bench/chaos_soak.py: 300 slots on 6 simulated HTTP nodes on loopback (real sockets,
served from worker processes) under standing 500s, truncated JSON, non-JSON answers and a slow node, with
429 storms and nodes dying and coming back on a compressed timetable. The full run (1,000 slots, a longer
timetable, and the same slots without faults beside it) is the benchmark's default."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "chaos_soak.py"


def load_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("chaos_soak", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chaos_soak"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_chaos_soak_loses_no_slot_and_generates_none_twice() -> None:
    bench = load_bench()
    weather = bench.Weather(storm_every_s=1.5, storm_s=0.8, death_every_s=1.0, death_s=0.8)
    r = bench.run_soak(300, 6, 48, chaos=True, weather=weather, seed=3)
    assert r.lost == 0 and r.generated_twice == 0
    assert (r.done, r.failed) == (300, 0), r.failure_reasons
    assert r.faults["node_deaths"] >= 1 and r.faults["storms"] >= 1, r.faults
    assert r.faults.get("failed", 0) > 0 and r.stats["transport_faults"] > 0, r.faults
    assert r.retries > 0 and r.peak_retries_per_window <= r.budget_allowance, r


def test_peak_in_window_counts_the_busiest_window() -> None:
    bench = load_bench()
    assert bench.peak_in_window([0.0, 1.0, 5.0, 10.5, 11.0, 12.0], 10.0) == 4  # 1.0, 5.0, 10.5, 11.0
    assert bench.peak_in_window([], 10.0) == 0
