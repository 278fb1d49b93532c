"""The activity sensor's decision for one node, as a pure function of its probes.

In order: gaming (another program using the GPU heavily) suspends the node; a user present (camera or
microphone in use, when ``presence_suspends``) suspends generation; work hours throttle it
(``work_hours_factor``); otherwise it runs normally, and it is idle when the first available idle probe
(X11 idle time, then logind IdleHint, then the load average) says so. The reason names the probe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sensors.probes.probe_result import ProbeResult
from transcript_foundry.settings.model import ActivitySettings


@dataclass(frozen=True)
class ActivityVerdict:
    state: str  # normal | throttled | paused
    throttle_factor: float
    reason: str
    driver: str | None  # the probe that decided; None: nothing restricts the node
    idle: bool = False
    idle_reason: str = ""


def idle_verdict(idle_probes: Sequence[ProbeResult]) -> tuple[bool, str]:
    for probe in idle_probes:
        if probe.available:
            return probe.active, f"{'idle' if probe.active else 'in use'} by {probe}"
    reasons = (
        "; ".join(str(p) for p in idle_probes) or "no idle probe runs for this node (not the local machine)"
    )
    return False, f"idleness unknown ({reasons})"


def activity_verdict(
    gaming: ProbeResult,
    presence: Sequence[ProbeResult],
    work_hours: ProbeResult,
    idle_probes: Sequence[ProbeResult],
    settings: ActivitySettings,
) -> ActivityVerdict:
    if gaming.active:
        return ActivityVerdict("paused", 1.0, f"gaming mode: {gaming}", gaming.probe)
    if settings.presence_suspends:
        for probe in presence:
            if probe.active:
                return ActivityVerdict("paused", 1.0, f"user present: {probe}", probe.probe)
    if work_hours.active:
        return ActivityVerdict(
            "throttled",
            settings.work_hours_factor,
            f"{work_hours}: concurrency x {settings.work_hours_factor}",
            work_hours.probe,
        )
    idle, idle_reason = idle_verdict(idle_probes)
    seen = "; ".join(str(p) for p in (gaming, *presence, work_hours))
    return ActivityVerdict("normal", 1.0, seen, None, idle, idle_reason)
