"""Work hours: the configured local-time window and weekdays (``activity.work_hours`` / ``work_days``)."""

from __future__ import annotations

from datetime import datetime

from sensors.probes.probe_result import ProbeResult
from transcript_foundry.settings.model import WEEKDAYS, ActivitySettings

PROBE = "work_hours"


def work_hours_probe(now: datetime, settings: ActivitySettings) -> ProbeResult:
    window = settings.work_window()
    if window is None:
        return ProbeResult.unavailable(PROBE, "no work hours configured (activity.work_hours is empty)")
    start, end = window
    day = WEEKDAYS[now.weekday()]
    clock = now.time()
    inside = start <= clock < end if start <= end else (clock >= start or clock < end)  # over midnight
    working = inside and day in settings.work_days
    when = f"{day} {clock.strftime('%H:%M')}"
    if working:
        return ProbeResult(PROBE, True, True, f"{when} is within work hours {settings.work_hours}")
    return ProbeResult(PROBE, True, False, f"{when} is outside work hours {settings.work_hours}")
