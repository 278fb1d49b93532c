"""fleet_view: the real thermal_guard throttles a heating Pi before its limit; fleet_view records numbers, forecast
against actual, state and why."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetKey, DagsterInstance

from tests.support.fleet_scenario import PI, run_fleet_scenario
from transcript_assets.fleet_assets import FLEET_SUMMARY_KEY, fleet_asset_specs, fleet_node_key


def _value(observation, label: str):  # type: ignore[no-untyped-def]
    return observation.metadata[label].value


def test_fleet_view_records_each_node_and_every_transition_with_its_reason(project_home: Path) -> None:
    instance = DagsterInstance.get()
    scenario = run_fleet_scenario(project_home, instance)
    pi_key = fleet_node_key(PI)

    readings = [o for o in scenario.observations if o.asset_key == pi_key and "cpu_temp_c" in o.metadata]
    assert [_value(o, "cpu_temp_c") for o in readings] == scenario.temperatures
    states = [_value(o, "state") for o in readings]
    first = states.index("throttled")
    assert set(states[:first]) == {"normal"} and set(states[first:]) == {"throttled"}
    # the cooling curve throttles the Pi before 80 °C: no reading ever reaches the limit
    assert max(scenario.temperatures) < 80.0 and max(scenario.calls) == 6 and scenario.calls[-1] < 6
    throttled = readings[first]
    assert "forecast CPU" in _value(throttled, "reason") and "before the limit" in _value(throttled, "reason")
    assert _value(throttled, "restricted_by") == "thermal_guard"
    assert _value(throttled, "throttle_factor") < 1.0 == _value(readings[0], "throttle_factor")
    assert {"score", "score_thermal", "concurrency_limit", "circuit_state", "cpu_util_pct", "weight"} <= set(
        throttled.metadata
    )
    assert _value(throttled, "score_thermal") < _value(readings[0], "score_thermal")
    # forecast against actual: what the curve expected for each tick, beside the reading
    forecast = [o for o in readings if "cpu_temp_predicted_c" in o.metadata]
    assert len(forecast) >= len(readings) // 2
    assert all(abs(_value(o, "cpu_temp_predicted_c") - _value(o, "cpu_temp_c")) < 0.5 for o in forecast)
    assert all("cpu_temp_forecast_c" in o.metadata for o in forecast)

    transitions = [o for o in scenario.observations if o.asset_key == pi_key and "transition" in o.metadata]
    assert _value(transitions[0], "transition") == "normal -> throttled"
    assert transitions[0].description.startswith("thermal_guard: normal -> throttled (")
    assert _value(transitions[0], "changed_by") == "thermal_guard" and "forecast CPU" in _value(
        transitions[0], "why"
    )

    summaries = [o for o in scenario.observations if o.asset_key == FLEET_SUMMARY_KEY]
    assert len(summaries) == len(scenario.temperatures)
    rows = {r.data["node"]: r.data for r in _value(summaries[-1], "nodes").records}
    assert set(rows) == {"gpu-box", PI}
    assert rows[PI]["state"] == "throttled" and rows["gpu-box"]["state"] == "normal"
    assert _value(summaries[-1], "nodes_throttled") == 1 and _value(summaries[0], "nodes_throttled") == 0

    stored = instance.fetch_observations(pi_key, limit=100).records  # what the UI reads
    assert len(stored) == len(readings) + len(transitions)
    assert (
        f"{PI}: throttled" in scenario.skip_reasons[-1] and "1 transition(s)" in scenario.skip_reasons[first]
    )


def test_fleet_assets_one_per_node_and_a_summary() -> None:
    keys = [s.key for s in fleet_asset_specs(["b", "a", "a"])]
    assert keys == [AssetKey(["fleet", "a"]), AssetKey(["fleet", "b"]), FLEET_SUMMARY_KEY]


def test_the_code_location_defines_the_fleet_view_sensor_and_node_assets() -> None:
    from transcript_assets.definitions import defs

    assert defs.get_sensor_def("fleet_view") is not None
    specs = defs.resolve_all_asset_specs()
    assert FLEET_SUMMARY_KEY in {s.key for s in specs}
    assert any(s.key.path[0] == "fleet" and s.group_name == "fleet" for s in specs)
