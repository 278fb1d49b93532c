"""A small fleet whose Pi heats with its load, watched by the real thermal_guard and fleet_view sensors.

``run_fleet_scenario(home, instance)`` writes a nodes.yaml (one HTTP node, ``gpu-box``), registers a node
agent ``pi-4`` and replays ``TICKS`` sensor ticks, ``TICK_S`` apart in the node's history: the Pi idles for
``IDLE_TICKS`` ticks, then runs as many calls as its concurrency (6) x its throttle factor allows, and its
temperature follows that load by a first-order law (40 + 8 °C per call, tau 120 s: 88 °C at full load, over
the 80 °C limit). Each tick its heartbeat carries the temperature and calls in flight, the project's
``thermal_guard`` decides (reactive at first; predictive once the Pi's own samples fit its cooling curve) and
``fleet_view`` observes; the observations are stored as the daemon stores them
(``report_runless_asset_event``). Only the physics is made up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from dagster import AssetObservation, DagsterInstance, SensorResult, build_sensor_context

from resources.ledger import Ledger
from sensors.fleet_view import build_fleet_view_sensor
from sensors.thermal_guard import build_thermal_guard_sensor
from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_registry import NodeRegistry
from transcript_foundry.pool.node_spec import NodeSpec

PI = "pi-4"
TICK_S = 30.0
TICKS = 16
IDLE_TICKS = 3
MAX_CALLS = 6


def heat(temp_c: float, calls: int, seconds: float = TICK_S) -> float:
    target = 40.0 + 8.0 * calls
    return target + (temp_c - target) * math.exp(-seconds / 120.0)


@dataclass
class FleetScenario:
    ledger: Ledger
    pool: NodeFleet
    observations: list[AssetObservation]
    skip_reasons: list[str]
    temperatures: list[float] = field(default_factory=list)  # the Pi's, one per tick
    calls: list[int] = field(default_factory=list)  # in flight at each tick (since the tick before)


def _tick(
    sensor, ledger: Ledger, pool: NodeFleet, instance: DagsterInstance, cursor: str | None
) -> SensorResult:  # type: ignore[no-untyped-def]
    with build_sensor_context(
        instance=instance, cursor=cursor, resources={"ledger": ledger, "llm_pool": pool}
    ) as context:
        result = sensor(context)
    assert isinstance(result, SensorResult)
    return result


def run_fleet_scenario(home: Path, instance: DagsterInstance) -> FleetScenario:
    nodes_file = home / "nodes.yaml"
    node = {"id": "gpu-box", "backend": "openai_compatible", "url": "http://127.0.0.1:9/v1", "model": "m"}
    nodes_file.write_text(yaml.safe_dump({"nodes": [node]}))
    state_url = f"sqlite:///{home / 'state.db'}"
    ledger = Ledger(url=state_url)
    pool = NodeFleet(state_url=state_url, nodes_file=str(nodes_file))
    registry, controls = NodeRegistry(ledger.engine), NodeControls(ledger.engine)
    profile = HardwareProfile(
        hostname=PI, node_type="raspberry_pi", architecture="aarch64", cpu_cores=4, ram_mb=8000
    )
    spec = NodeSpec(id=PI, backend="openai_compatible", url="http://127.0.0.1:9/v1", model="m")
    registry.register(spec, profile, live=LiveState(cpu_temp_c=40.0))
    start = datetime.now(UTC) - timedelta(seconds=TICK_S * TICKS)
    clock = iter(start + timedelta(seconds=TICK_S * k) for k in range(TICKS))
    thermal = build_thermal_guard_sensor(clock=lambda: next(clock))
    fleet = build_fleet_view_sensor()
    scenario = FleetScenario(ledger, pool, [], [])
    thermal_cursor = fleet_cursor = None
    temp, calls = 40.0, 0
    for step in range(TICKS):
        registry.heartbeat(
            PI, LiveState(cpu_temp_c=round(temp, 2), cpu_util_pct=calls * 15.0, in_flight=calls)
        )
        scenario.temperatures.append(round(temp, 2))
        scenario.calls.append(calls)
        thermal_cursor = _tick(thermal, ledger, pool, instance, thermal_cursor).cursor
        result = _tick(fleet, ledger, pool, instance, fleet_cursor)
        fleet_cursor = result.cursor
        for event in result.asset_events:
            assert isinstance(event, AssetObservation)
            instance.report_runless_asset_event(event)  # what the daemon does with a tick's asset events
            scenario.observations.append(event)
        scenario.skip_reasons.append(str(result.skip_reason.skip_message if result.skip_reason else ""))
        control = controls.get(PI)
        busy = step + 1 >= IDLE_TICKS
        calls = (
            0
            if not busy or control.paused
            else max(1, math.floor(MAX_CALLS * control.throttle_factor + 1e-9))
        )
        temp = heat(temp, calls)
    return scenario
