"""The project's sensor conventions in one place: running by default (the daemon ticks them as soon as it
starts), at most one tick every ``every_s`` seconds, a description the UI shows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dagster import DefaultSensorStatus, SensorDefinition, sensor


def ticking_sensor(
    name: str, description: str, *, every_s: int, jobs: Sequence[Any] = ()
) -> Callable[[Callable[..., Any]], SensorDefinition]:
    return sensor(
        name=name,
        jobs=list(jobs) or None,
        minimum_interval_seconds=every_s,
        default_status=DefaultSensorStatus.RUNNING,
        description=description,
    )
