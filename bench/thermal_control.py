"""Benchmark: predictive thermal control against the reactive guard alone, on a simulated node.

    .venv/bin/python bench/thermal_control.py [--hours 3] [--seeds 7 8 9]

The node (tests/support/thermal_sim.py) heats by a first-order law, 40 + 8 x calls °C with a 120 s time
constant: at its full 6 calls it would settle at 88 °C, over the 80 °C throttle limit. Work never runs out.
Every 30 s the real decision (sensors/thermal_forecast.thermal_decision) sets its throttle: with
``forecast_horizon_s`` 0 the reactive guard (throttle x 0.7 at 80 °C, recover below 75 °C), with the
default 60 s the cooling curve fitted from the node's own telemetry throttles before the limit. Printed per
seed: limit crossings, seconds at or over 80 °C, peak temperature and goodput (tokens/s while busy).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine_description import describe_machine  # noqa: E402  (bench/, the script's folder)

from tests.support.thermal_sim import simulate  # noqa: E402
from transcript_foundry.settings.store import SettingsStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    args = parser.parse_args()
    predictive = SettingsStore(None, environ={}).load().settings.thermal
    reactive = predictive.model_copy(update={"forecast_horizon_s": 0.0})
    duration = int(args.hours * 3600)
    print(f"machine: {describe_machine('numpy')}")
    print(f"simulated {args.hours:g} h per run; throttle limit {predictive.cpu_throttle_c} °C\n")
    print("| seed | guard | crossings | s >= limit | peak °C | goodput tok/s |")
    print("|---|---|---:|---:|---:|---:|")
    totals: dict[str, list[float]] = {"reactive": [0, 0, 0.0], "predictive": [0, 0, 0.0]}
    for seed in args.seeds:
        for name, limits in (("reactive", reactive), ("predictive", predictive)):
            r = simulate(limits, duration_s=duration, seed=seed)
            totals[name][0] += r.crossings
            totals[name][1] += r.seconds_over_limit
            totals[name][2] += r.goodput_tokens_per_s
            print(
                f"| {seed} | {name} | {r.crossings} | {r.seconds_over_limit} | {r.peak_c:.1f} | "
                f"{r.goodput_tokens_per_s:.2f} |"
            )
    n = len(args.seeds)
    (rc, rs, rg), (pc, ps, pg) = totals["reactive"], totals["predictive"]
    print(
        f"\npredictive vs reactive: crossings {pc:.0f} vs {rc:.0f}, seconds over {ps:.0f} vs {rs:.0f}, "
        f"goodput {pg / n:.2f} vs {rg / n:.2f} tok/s ({(pg - rg) / rg:+.1%})"
    )


if __name__ == "__main__":
    main()
