"""A small fleet whose Pi heats up and cools down, observed by the real thermal_guard and fleet_view sensors.

``run_fleet_scenario(home)`` writes a nodes.yaml (one HTTP node, ``gpu-box``), registers a node agent
``pi-4`` whose heartbeats carry the temperatures of ``PI_TEMPERATURES``, and for each heartbeat ticks the
project's ``thermal_guard`` sensor (it reads the heartbeat, throttles the Pi at 80 °C, lets it recover below
75 °C) and then ``fleet_view``; the observations of each tick are stored in the Dagster instance as the
daemon stores them (``report_runless_asset_event``). Only the temperatures are made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from dagster import AssetObservation, DagsterInstance, SensorResult, build_sensor_context

from resources.ledger import Ledger
from sensors.fleet_view import build_fleet_view_sensor
from sensors.thermal_guard import build_thermal_guard_sensor
from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.pool.node_registry import NodeRegistry
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.settings.store import SettingsStore

PI = "pi-4"
PI_TEMPERATURES = (61.0, 66.0, 72.0, 78.0, 83.5, 86.0, 82.0, 77.0, 73.5, 70.0)


@dataclass
class FleetScenario:
    ledger: Ledger
    pool: NodeFleet
    observations: list[AssetObservation]
    skip_reasons: list[str]


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
    nodes_file.write_text(
        yaml.safe_dump(
            {
                "nodes": [
                    {
                        "id": "gpu-box",
                        "backend": "openai_compatible",
                        "url": "http://127.0.0.1:9/v1",
                        "model": "m",
                    }
                ]
            }
        )
    )
    state_url = f"sqlite:///{home / 'state.db'}"
    ledger = Ledger(url=state_url)
    pool = NodeFleet(state_url=state_url, nodes_file=str(nodes_file))
    # the reactive guard's scenario: ticks here are milliseconds apart, too close for a cooling curve
    SettingsStore(ledger.engine).set("thermal.forecast_horizon_s", "0")
    registry = NodeRegistry(ledger.engine)
    profile = HardwareProfile(
        hostname=PI, node_type="raspberry_pi", architecture="aarch64", cpu_cores=4, ram_mb=8000
    )
    spec = NodeSpec(id=PI, backend="openai_compatible", url="http://127.0.0.1:9/v1", model="m")
    registry.register(spec, profile, live=LiveState(cpu_temp_c=PI_TEMPERATURES[0]))
    thermal, fleet = build_thermal_guard_sensor(), build_fleet_view_sensor()
    thermal_cursor = fleet_cursor = None
    observations: list[AssetObservation] = []
    skip_reasons: list[str] = []
    for step, temperature in enumerate(PI_TEMPERATURES):
        load = 40.0 + 5 * step
        registry.heartbeat(PI, LiveState(cpu_temp_c=temperature, cpu_util_pct=load, in_flight=step % 3))
        thermal_cursor = _tick(thermal, ledger, pool, instance, thermal_cursor).cursor
        result = _tick(fleet, ledger, pool, instance, fleet_cursor)
        fleet_cursor = result.cursor
        for event in result.asset_events:
            assert isinstance(event, AssetObservation)
            instance.report_runless_asset_event(event)  # what the daemon does with a tick's asset events
            observations.append(event)
        skip_reasons.append(str(result.skip_reason.skip_message if result.skip_reason else ""))
    return FleetScenario(ledger, pool, observations, skip_reasons)
