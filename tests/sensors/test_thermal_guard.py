"""thermal_guard: the decision table (pure) and the sensor on a real state DB with injected readings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dagster import DagsterInstance, SensorResult, build_sensor_context

from resources.ledger import Ledger
from sensors.node_readings import NodeReading
from sensors.thermal_guard import build_thermal_guard_sensor
from sensors.thermal_policy import thermal_verdict
from transcript_foundry.hardware.node_telemetry import LiveState
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.settings.store import SettingsStore

LIMITS = SettingsStore(None, environ={}).load("test-host").settings.thermal


@pytest.mark.parametrize(
    ("previous", "cpu", "gpu", "expected", "reason_part"),
    [
        ("normal", 70.0, 60.0, "normal", "< recover_below_c 75.0"),
        ("normal", 79.9, 84.9, "normal", "between recover_below_c"),  # below both limits: stays normal
        ("normal", 80.0, None, "throttled", "CPU 80.0 °C >= cpu_throttle_c 80.0"),
        ("normal", 60.0, 85.0, "throttled", "GPU 85.0 °C >= gpu_throttle_c 85.0"),
        ("throttled", 77.0, 60.0, "throttled", "stays throttled"),  # the hysteresis band
        ("throttled", 75.0, None, "throttled", "stays throttled"),  # 75 is not below 75
        ("throttled", 74.9, 70.0, "normal", "< recover_below_c"),
        ("normal", 95.0, None, "paused", "CPU 95.0 °C >= cpu_critical_c 95.0"),
        ("throttled", 60.0, 92.0, "paused", "GPU 92.0 °C >= gpu_critical_c 92.0"),
        ("paused", 88.0, None, "paused", "stays paused until below recover_below_c"),
        ("paused", 76.0, None, "paused", "stays paused"),
        ("paused", 74.0, 60.0, "normal", "< recover_below_c"),
        ("throttled", None, None, "throttled", "no temperature reading (cpu_temp: no sensors)"),
    ],
)
def test_thermal_decision_table(
    previous: str, cpu: float | None, gpu: float | None, expected: str, reason_part: str
) -> None:
    verdict = thermal_verdict(previous, cpu, gpu, LIMITS, {"cpu_temp": "no sensors"})
    assert verdict.state == expected
    assert reason_part in verdict.reason


class Readings:
    """Injected node readings (the hardware is the part we cannot heat up in a test)."""

    def __init__(self) -> None:
        self.temps: dict[str, tuple[float | None, float | None]] = {}

    def read(self) -> dict[str, NodeReading]:
        return {
            node: NodeReading(node, f"host-{node}", LiveState(cpu_temp_c=cpu, gpu_temp_c=gpu), local=False)
            for node, (cpu, gpu) in self.temps.items()
        }


def run_tick(sensor, ledger: Ledger, cursor: str | None = None) -> SensorResult:  # type: ignore[no-untyped-def]
    with build_sensor_context(
        instance=DagsterInstance.ephemeral(),
        cursor=cursor,
        resources={"ledger": ledger, "llm_pool": object()},
    ) as context:
        result = sensor(context)
    assert isinstance(result, SensorResult)
    return result


def _walk_through_transitions(url: str) -> None:
    ledger = Ledger(url=url)
    readings = Readings()
    sensor = build_thermal_guard_sensor(lambda engine, pool: readings)
    controls = NodeControls(ledger.engine)

    def step(cpu: float | None, gpu: float | None = None, cursor: str | None = None) -> SensorResult:
        readings.temps["gpu-a"] = (cpu, gpu)
        return run_tick(sensor, ledger, cursor)

    cool = step(70.0, 60.0)
    assert controls.get("gpu-a").state == "normal" and not controls.events()
    hot = step(82.0, 60.0, cool.cursor)
    control = controls.get("gpu-a")
    assert (control.state, control.throttle_factor, control.source) == ("throttled", 0.7, "thermal_guard")
    assert "changed: gpu-a: normal -> throttled x0.7" in hot.skip_reason.skip_message
    assert json.loads(hot.cursor)["states"] == {"gpu-a": "throttled"}
    band = step(78.0, 60.0)  # hysteresis: no change, no event
    assert controls.get("gpu-a").state == "throttled" and "changed" not in band.skip_reason.skip_message
    step(60.0, 93.0)  # GPU critical
    assert controls.get("gpu-a").paused
    step(80.0, 70.0)  # cooling, but not below 75: stays paused
    assert controls.get("gpu-a").paused
    step(70.0, 74.0)
    assert controls.get("gpu-a").state == "normal"
    events = [(e["from_state"], e["to_state"], e["source"]) for e in reversed(controls.events("gpu-a"))]
    assert events == [
        ("normal", "throttled", "thermal_guard"),
        ("throttled", "paused", "thermal_guard"),
        ("paused", "normal", "thermal_guard"),
    ]
    assert "GPU 93.0 °C >= gpu_critical_c 92.0" in controls.events("gpu-a")[1]["reason"]

    # Settings are re-read each tick, with the node's host profile: 82 °C is fine on host-gpu-a now.
    SettingsStore(ledger.engine).set("profiles.host-gpu-a.thermal.cpu_throttle_c", "90")
    step(82.0, 60.0)
    assert controls.get("gpu-a").state == "normal"
    SettingsStore(ledger.engine).set("thermal.throttle_factor", "0.5")  # another host: default limits apply
    readings.temps["cpu-b"] = (85.0, None)
    run_tick(sensor, ledger)
    assert controls.get("cpu-b").throttle_factor == 0.5
    ledger.dispose()


def test_thermal_guard_transitions_sqlite(project_home: Path) -> None:
    _walk_through_transitions(f"sqlite:///{project_home / 'state.db'}")


@pytest.mark.postgres
def test_thermal_guard_transitions_postgres(project_home: Path, postgres_url: str) -> None:
    _walk_through_transitions(postgres_url)


def test_operator_pause_is_kept(project_home: Path) -> None:
    ledger = Ledger(url=f"sqlite:///{project_home / 'state.db'}")
    readings = Readings()
    readings.temps["gpu-a"] = (60.0, 50.0)
    sensor = build_thermal_guard_sensor(lambda engine, pool: readings)
    controls = NodeControls(ledger.engine)
    controls.set("gpu-a", paused=True, reason="maintenance", source="operator")
    run_tick(sensor, ledger)
    assert controls.get("gpu-a").paused and controls.get("gpu-a").source == "operator"
    readings.temps["gpu-a"] = (83.0, 50.0)
    run_tick(sensor, ledger)
    assert controls.get("gpu-a").paused  # paused wins over throttled
    controls.set("gpu-a", reason="maintenance done", source="operator")  # the operator resumes it
    run_tick(sensor, ledger)
    control = controls.get("gpu-a")
    assert (control.state, control.source) == ("throttled", "thermal_guard")
