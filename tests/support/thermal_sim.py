"""A simulated node whose temperature follows its load, under the real thermal decision every tick.

Physics (the part a test cannot heat up): first-order, ``dT/dt = (ambient + heat_per_call * calls - T) / tau``,
integrated each second, with seeded sensor noise. Work: demand always exceeds the node's concurrency (a busy
fleet), so the node runs ``max(1, floor(max_concurrency * factor))`` calls; each call-second yields
``tokens_per_call_s`` tokens (goodput). The node is idle for ``idle_s`` first (the load its history needs to
tell heat from load). Every ``tick_s`` the guard decides with ``sensors/thermal_forecast.thermal_decision`` —
reactive only (``forecast_horizon_s`` 0) or predictive — from the node's own history, as the sensor does.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sensors.thermal_forecast import thermal_decision
from transcript_foundry.hardware.thermal_history import KEEP_PER_NODE, ThermalRow
from transcript_foundry.settings.model import ThermalSettings


@dataclass(frozen=True)
class NodePhysics:
    ambient_c: float = 40.0
    heat_per_call_c: float = 8.0  # steady state at 6 calls: 88 °C, over the 80 °C throttle limit
    tau_s: float = 120.0
    max_concurrency: int = 6
    tokens_per_call_s: float = 10.0
    noise_c: float = 0.3


@dataclass
class SimResult:
    seconds_over_limit: int = 0
    crossings: int = 0  # times the temperature went from below the throttle limit to at or above it
    tokens: float = 0.0
    peak_c: float = 0.0
    temps: list[float] = field(default_factory=list)  # one per tick
    busy_s: int = 0

    @property
    def goodput_tokens_per_s(self) -> float:
        return self.tokens / max(1, self.busy_s)


def simulate(
    limits: ThermalSettings,
    physics: NodePhysics = NodePhysics(),
    *,
    duration_s: int = 3 * 3600,
    idle_s: int = 300,
    tick_s: int = 30,
    seed: int = 7,
) -> SimResult:
    rng = random.Random(seed)
    temp, factor, state = physics.ambient_c, 1.0, "normal"
    history: list[ThermalRow] = []
    result = SimResult()
    calls = 0
    for second in range(duration_s):
        if second % tick_s == 0:
            reading = temp + rng.gauss(0.0, physics.noise_c)
            load = float(calls)
            decision = thermal_decision(state, {"cpu": reading, "gpu": None}, load, factor, history, limits)
            state = decision.verdict.state
            factor = decision.factor if state == "throttled" else (0.0 if state == "paused" else 1.0)
            at = datetime.fromtimestamp(1_800_000_000 + second, UTC)
            history = [*history, ThermalRow("sim", at, load, {"cpu": reading, "gpu": None}, {}, {}, None)]
            history = history[-KEEP_PER_NODE:]
            result.temps.append(temp)
        busy = second >= idle_s
        calls = max(1, math.floor(physics.max_concurrency * factor + 1e-9)) if busy and factor > 0 else 0
        before = temp
        target = physics.ambient_c + physics.heat_per_call_c * calls
        temp += (target - temp) / physics.tau_s
        if temp >= limits.cpu_throttle_c:
            result.seconds_over_limit += 1
            if before < limits.cpu_throttle_c:
                result.crossings += 1
        result.peak_c = max(result.peak_c, temp)
        result.tokens += calls * physics.tokens_per_call_s
    result.busy_s = max(0, duration_s - idle_s)
    return result
