"""Predictive thermal control: the cooling curve fitted from a node's own telemetry, its forecast, the
decision to throttle before the limit, and the simulated node against the reactive guard alone."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from resources.ledger import Ledger
from sensors.node_readings import NodeReading
from sensors.thermal_forecast import thermal_decision
from sensors.thermal_guard import build_thermal_guard_sensor
from tests.sensors.test_thermal_guard import run_tick
from tests.support.thermal_sim import NodePhysics, simulate
from transcript_assets.cli.main import main
from transcript_foundry.hardware.node_telemetry import LiveState
from transcript_foundry.hardware.thermal_history import ThermalHistory, ThermalRow
from transcript_foundry.hardware.thermal_model import Sample, fit_first_order
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_readout import node_readout
from transcript_foundry.pool.node_report import thermal_forecast
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.store import SettingsStore

LIMITS = SettingsStore(None, environ={}).load("test-host").settings.thermal
REACTIVE = LIMITS.model_copy(update={"forecast_horizon_s": 0.0})


def heating(
    loads: list[int], tick_s: float = 30.0, a: float = 40.0, b: float = 8.0, tau: float = 120.0
) -> list[Sample]:
    """Samples of a node following the first-order law exactly, each tick's load running until the next."""
    temp, samples = a, [Sample(0.0, a, 0.0)]
    for k, load in enumerate(loads, start=1):
        target = a + b * load
        temp = target + (temp - target) * math.exp(-tick_s / tau)
        samples.append(Sample(k * tick_s, temp, float(load)))
    return samples


def test_the_fit_recovers_the_cooling_curve_and_its_forecast() -> None:
    model = fit_first_order(heating([0, 0, 6, 6, 6, 6, 3, 3, 3, 6, 6]))
    assert model is not None
    # the trapezoid slope on 30 s ticks of a 120 s curve: within a few per cent
    assert model.tau_s == pytest.approx(120, rel=0.03)
    assert model.steady_state(6) == pytest.approx(88, abs=1.0) and model.ambient_c == pytest.approx(
        40, abs=1.0
    )
    assert model.forecast(70.0, 6, 120.0) == pytest.approx(88 - 18 * math.exp(-1), abs=0.6)
    allowed = model.max_load(70.0, 80.0, 60.0)
    assert model.forecast(70.0, allowed, 60.0) == pytest.approx(80.0, abs=1e-6)


def test_no_model_without_enough_samples_or_without_varied_load() -> None:
    assert fit_first_order(heating([6, 6, 6]), min_samples=6) is None
    assert fit_first_order(heating([6] * 10)[1:]) is None  # constant load: heat and ambient inseparable


def _history(samples: list[Sample]) -> list[ThermalRow]:
    return [
        ThermalRow(
            "n", datetime.fromtimestamp(1_800_000_000 + s.t, UTC), s.load, {"cpu": s.temp_c}, {}, {}, None
        )
        for s in samples
    ]


def test_the_decision_throttles_before_the_limit_to_the_share_that_stays_below() -> None:
    history = _history(heating([0, 0, 6, 6, 6, 6, 3, 3, 6, 6]))
    temps = {"cpu": 76.0, "gpu": None}  # under the 80 °C limit: the reactive guard would do nothing
    reactive = thermal_decision("normal", temps, 6.0, 1.0, history, REACTIVE)
    assert reactive.verdict.state == "normal"
    decision = thermal_decision("normal", temps, 6.0, 1.0, history, LIMITS)
    assert decision.verdict.state == "throttled"
    assert "forecast CPU" in decision.verdict.reason and "cpu_throttle_c 80.0" in decision.verdict.reason
    assert 0.5 <= decision.factor < 1.0
    model = decision.models["cpu"]
    horizon = LIMITS.forecast_horizon_s
    assert (
        model.forecast(76.0, math.floor(6 * decision.factor + 1e-9), horizon)
        < 80.0
        <= model.forecast(76.0, 6.0, horizon) + 1.0
    )

    cool = thermal_decision("throttled", {"cpu": 60.0, "gpu": None}, 4.0, 0.7, history, LIMITS)
    assert cool.verdict.state == "normal" and "below the limits" in cool.verdict.reason
    hot = thermal_decision("normal", {"cpu": 81.0, "gpu": None}, 6.0, 1.0, history, LIMITS)
    assert hot.verdict.state == "throttled" and hot.factor == LIMITS.throttle_factor  # over it: reactive


def test_on_a_simulated_node_fewer_crossings_and_no_less_goodput_than_the_reactive_guard() -> None:
    for seed in (7, 8, 9):
        reactive = simulate(REACTIVE, seed=seed)
        predictive = simulate(LIMITS, seed=seed)
        assert reactive.crossings >= 20  # the reactive guard crosses on every heat cycle
        assert predictive.crossings * 3 <= reactive.crossings
        assert predictive.seconds_over_limit * 5 <= reactive.seconds_over_limit
        assert predictive.goodput_tokens_per_s >= reactive.goodput_tokens_per_s


def test_a_node_that_cannot_overheat_is_never_throttled() -> None:
    cool_node = NodePhysics(heat_per_call_c=4.0)  # 64 °C at full load
    result = simulate(LIMITS, cool_node, duration_s=3600)
    assert result.crossings == 0 and result.goodput_tokens_per_s == pytest.approx(60.0)


def node_readout_numbers(forecast: dict[str, float | None]) -> dict[str, float | int]:
    report = {
        "node_id": "pi",
        "live": {"cpu_temp_c": 76.0},
        "controls": {"state": "throttled", "throttle_factor": 0.9, "reason": "r", "source": "thermal_guard"},
        "score": 0.5,
        "components": {},
        "eligible": True,
        "excluded_because": None,
        "concurrency_limit": 5,
        "circuit": "closed",
        "forecast": forecast,
    }
    return node_readout(report).numbers


def test_the_sensor_throttles_a_heating_agent_before_the_limit_and_records_the_forecast(
    project_home: Path,
) -> None:
    ledger = Ledger(url=project_paths().state_url)
    history = ThermalHistory(ledger.engine)
    samples = heating([0, 0, 6, 6, 6, 6, 3, 3, 6, 6])
    start = datetime.now(UTC).timestamp() - 30.0 * len(samples)
    for row in _history(samples):  # the node's last five minutes, 30 s apart, as earlier ticks wrote them
        history.record(
            replace(
                row, node_id="pi", at=datetime.fromtimestamp(start + row.at.timestamp() - 1_800_000_000, UTC)
            )
        )

    class Readings:
        def read(self) -> dict[str, NodeReading]:
            return {"pi": NodeReading("pi", "pi", LiveState(cpu_temp_c=76.0, in_flight=6), local=False)}

    result = run_tick(build_thermal_guard_sensor(lambda engine, pool: Readings()), ledger)
    control = NodeControls(ledger.engine).get("pi")
    assert control.state == "throttled" and 0.5 <= control.throttle_factor < 1.0
    assert "forecast CPU" in (control.reason or "") and "before the limit" in result.skip_reason.skip_message  # type: ignore[union-attr]
    newest = history.recent("pi")[-1]
    assert (
        newest.temps["cpu"] == 76.0 and newest.load == 6.0 and newest.horizon_s == LIMITS.forecast_horizon_s
    )
    assert newest.forecast["cpu"] is not None and newest.forecast["cpu"] > 76.0  # still heating at this load
    assert newest.predicted["cpu"] == pytest.approx(
        samples[-1].temp_c, abs=3.0
    )  # what the last tick expected

    shown = node_readout_numbers(
        thermal_forecast(history, "pi")
    )  # what the fleet view plots beside the actual
    assert shown["cpu_temp_forecast_c"] == pytest.approx(newest.forecast["cpu"], abs=0.01)
    assert shown["cpu_temp_predicted_c"] == pytest.approx(newest.predicted["cpu"], abs=0.01)
    assert "cpu_temp_prediction_error_c" in shown

    config_set = CliRunner().invoke(main, ["config", "set", "thermal.forecast_horizon_s", "0"])
    assert config_set.exit_code == 0, config_set.output
    run_tick(build_thermal_guard_sensor(lambda engine, pool: Readings()), ledger)
    reactive = NodeControls(ledger.engine).get("pi")  # reactive only: the hysteresis band keeps the state
    assert "forecast" not in (reactive.reason or "") and "between recover_below_c" in (reactive.reason or "")
