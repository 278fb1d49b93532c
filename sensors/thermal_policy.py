"""The thermal guard's decision for one node, as a pure function of its temperatures and last state.

- CPU >= ``cpu_critical_c`` or GPU >= ``gpu_critical_c``: paused (no work at all).
- CPU >= ``cpu_throttle_c`` or GPU >= ``gpu_throttle_c``: throttled (concurrency x ``throttle_factor``);
  a paused node stays paused (it must cool down first).
- Every known temperature below ``recover_below_c``: normal.
- In between (the hysteresis band, 75 °C up to the limit by default): the node keeps its state, so it does
  not flap between throttled and normal around one threshold.
- No temperature known (probe unavailable): the node keeps its state, and the reason says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from transcript_foundry.settings.model import ThermalSettings

ThermalState = Literal["normal", "throttled", "paused"]


@dataclass(frozen=True)
class ThermalVerdict:
    state: ThermalState
    reason: str

    def changed_from(self, previous: str) -> bool:
        return self.state != previous


def _fmt(value: float) -> str:
    return f"{value:.1f} °C"


def thermal_verdict(
    previous: str,
    cpu_c: float | None,
    gpu_c: float | None,
    limits: ThermalSettings,
    unavailable: dict[str, str] | None = None,
) -> ThermalVerdict:
    readings = {"CPU": cpu_c, "GPU": gpu_c}
    known = {name: value for name, value in readings.items() if value is not None}
    kept: ThermalState = previous if previous in ("normal", "throttled", "paused") else "normal"  # type: ignore[assignment]
    if not known:
        why = "; ".join(f"{k}: {v}" for k, v in (unavailable or {}).items()) or "no temperature reported"
        return ThermalVerdict(kept, f"no temperature reading ({why}): stays {kept}")
    critical = {"CPU": limits.cpu_critical_c, "GPU": limits.gpu_critical_c}
    throttle = {"CPU": limits.cpu_throttle_c, "GPU": limits.gpu_throttle_c}
    for name, value in known.items():
        if value >= critical[name]:
            return ThermalVerdict(
                "paused", f"{name} {_fmt(value)} >= {name.lower()}_critical_c {critical[name]}"
            )
    for name, value in known.items():
        if value >= throttle[name]:
            why = f"{name} {_fmt(value)} >= {name.lower()}_throttle_c {throttle[name]}"
            if kept == "paused":
                return ThermalVerdict("paused", f"{why}; stays paused until below recover_below_c")
            return ThermalVerdict("throttled", f"{why}: concurrency x {limits.throttle_factor}")
    shown = ", ".join(f"{name} {_fmt(value)}" for name, value in known.items())
    if all(value < limits.recover_below_c for value in known.values()):
        return ThermalVerdict("normal", f"{shown} < recover_below_c {limits.recover_below_c}")
    return ThermalVerdict(
        kept, f"{shown}: between recover_below_c {limits.recover_below_c} and the limits, stays {kept}"
    )
