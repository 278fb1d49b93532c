"""fleet_view: the real thermal_guard throttles a heating Pi; fleet_view records numbers, state and why."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetKey, DagsterInstance

from tests.support.fleet_scenario import PI, PI_TEMPERATURES, run_fleet_scenario
from transcript_assets.fleet_assets import FLEET_SUMMARY_KEY, fleet_asset_specs, fleet_node_key


def _value(observation, label: str):  # type: ignore[no-untyped-def]
    return observation.metadata[label].value


def test_fleet_view_records_each_node_and_every_transition_with_its_reason(project_home: Path) -> None:
    instance = DagsterInstance.get()
    scenario = run_fleet_scenario(project_home, instance)
    pi_key = fleet_node_key(PI)

    readings = [o for o in scenario.observations if o.asset_key == pi_key and "cpu_temp_c" in o.metadata]
    assert [_value(o, "cpu_temp_c") for o in readings] == list(PI_TEMPERATURES)
    states = [_value(o, "state") for o in readings]
    # thermal_guard throttles at 83.5 (>= 80), keeps it through the hysteresis band, recovers at 73.5 (< 75)
    assert states == ["normal"] * 4 + ["throttled"] * 4 + ["normal"] * 2
    throttled = readings[4]
    assert "CPU 83.5 °C >= cpu_throttle_c 80.0" in _value(throttled, "reason")
    assert _value(throttled, "restricted_by") == "thermal_guard"
    assert _value(throttled, "throttle_factor") == 0.7 and _value(readings[0], "throttle_factor") == 1.0
    assert {"score", "score_thermal", "concurrency_limit", "circuit_state", "cpu_util_pct"} <= set(
        throttled.metadata
    )
    assert _value(throttled, "score_thermal") < _value(readings[0], "score_thermal")

    transitions = [o for o in scenario.observations if o.asset_key == pi_key and "transition" in o.metadata]
    assert [_value(o, "transition") for o in transitions] == ["normal -> throttled", "throttled -> normal"]
    assert transitions[0].description.startswith("thermal_guard: normal -> throttled (")
    assert "CPU 83.5 °C >= cpu_throttle_c 80.0" in transitions[0].description
    assert _value(transitions[1], "changed_by") == "thermal_guard"

    summaries = [o for o in scenario.observations if o.asset_key == FLEET_SUMMARY_KEY]
    assert len(summaries) == len(PI_TEMPERATURES)
    table = _value(summaries[4], "nodes")
    rows = {r.data["node"]: r.data for r in table.records}
    assert set(rows) == {"gpu-box", PI}
    assert rows[PI]["state"] == "throttled" and rows["gpu-box"]["state"] == "normal"
    assert _value(summaries[4], "nodes_throttled") == 1 and _value(summaries[-1], "nodes_throttled") == 0

    stored = instance.fetch_observations(pi_key, limit=100).records  # what the UI reads
    assert len(stored) == len(PI_TEMPERATURES) + 2
    assert f"{PI}: throttled" in scenario.skip_reasons[4] and "1 transition(s)" in scenario.skip_reasons[4]


def test_fleet_assets_one_per_node_and_a_summary() -> None:
    keys = [s.key for s in fleet_asset_specs(["b", "a", "a"])]
    assert keys == [AssetKey(["fleet", "a"]), AssetKey(["fleet", "b"]), FLEET_SUMMARY_KEY]


def test_the_code_location_defines_the_fleet_view_sensor_and_node_assets() -> None:
    from transcript_assets.definitions import defs

    assert defs.get_sensor_def("fleet_view") is not None
    specs = defs.resolve_all_asset_specs()
    assert FLEET_SUMMARY_KEY in {s.key for s in specs}
    assert any(s.key.path[0] == "fleet" and s.group_name == "fleet" for s in specs)
