"""Predictive thermal control: throttle a node before its cooling curve says it will cross a limit.

``thermal_decision`` combines the reactive guard (``thermal_policy.thermal_verdict``) with the forecast of
the node's first-order model (``transcript_foundry/hardware/thermal_model.py``), fitted from the node's own
history. A reading already at or over a limit, a critical pause or a node without a trusted model: the
reactive verdict stands. Otherwise the forecast decides, at the load the node would carry unthrottled (its
calls in flight / its current throttle factor, at least the most it has carried): when that load would reach a throttle limit within
``forecast_horizon_s`` (less a 1 °C margin for sensor noise), the node is throttled to the largest share of its concurrency that keeps the forecast
below the limit (a whole number of calls, factor at least 0.1) — so it runs as fast as it may without crossing; otherwise
it runs normally. Pure functions: the sensor passes the history and the readings in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sensors.thermal_policy import ThermalVerdict, thermal_verdict
from transcript_foundry.hardware.thermal_history import READINGS, ThermalRow
from transcript_foundry.hardware.thermal_model import Sample, ThermalModel, fit_first_order
from transcript_foundry.settings.model import ThermalSettings

MIN_FACTOR = 0.1
SAFETY_MARGIN_C = 1.0  # aim this far below the limit: sensor noise and the model's error


@dataclass(frozen=True)
class ThermalDecision:
    verdict: ThermalVerdict
    factor: float  # concurrency x this when throttled
    models: dict[str, ThermalModel]  # cpu / gpu: the fitted cooling curves
    forecast: dict[str, float]  # cpu / gpu: horizon_s ahead at the current load


def fit_models(history: list[ThermalRow], min_samples: int) -> dict[str, ThermalModel]:
    models = {}
    for reading in READINGS:
        samples = [s for s in (row.sample(reading) for row in history) if s is not None]
        model = fit_first_order(samples, min_samples)
        if model is not None:
            models[reading] = model
    return models


def _share(allowed_calls: float, full_load: float) -> float:
    """The throttle factor that leaves the node the largest whole number of calls under ``allowed_calls``
    (the pool's limit is floor(limit x factor)); rounded up in the third decimal so the floor lands on it."""
    if full_load <= 0 or not math.isfinite(allowed_calls):
        return 1.0
    return math.ceil(1000 * max(0.0, math.floor(allowed_calls)) / full_load) / 1000


def thermal_decision(
    previous: str,
    temps: dict[str, float | None],
    load: float,
    current_factor: float,
    history: list[ThermalRow],
    limits: ThermalSettings,
    unavailable: dict[str, str] | None = None,
) -> ThermalDecision:
    reactive = thermal_verdict(previous, temps.get("cpu"), temps.get("gpu"), limits, unavailable)
    models = fit_models(history, limits.forecast_min_samples) if limits.forecast_horizon_s > 0 else {}
    horizon = limits.forecast_horizon_s
    forecast = {
        r: models[r].forecast(t, load, horizon) for r, t in temps.items() if t is not None and r in models
    }
    throttle = {"cpu": limits.cpu_throttle_c, "gpu": limits.gpu_throttle_c}
    over = any(t is not None and t >= throttle[r] for r, t in temps.items())
    if reactive.state == "paused" or over or not forecast or current_factor <= 0:
        factor = limits.throttle_factor if reactive.state == "throttled" else 1.0
        return ThermalDecision(reactive, factor, models, forecast)
    # unthrottled, the node would carry its current load / factor, and at least the most it has carried
    # (integer concurrency makes load / factor an underestimate: 5 calls at x 0.95 of 6)
    full_load = max([load / current_factor, *(row.load for row in history)])
    factor, reasons = 1.0, []
    for reading, model in models.items():
        temp = temps.get(reading)
        if temp is None:
            continue
        expected = model.forecast(temp, full_load, horizon)
        if expected < throttle[reading] - SAFETY_MARGIN_C:
            continue
        allowed = model.max_load(temp, throttle[reading] - SAFETY_MARGIN_C, horizon)
        share = _share(allowed, full_load)
        factor = min(factor, max(MIN_FACTOR, min(1.0, share)))
        reasons.append(
            f"forecast {reading.upper()} {expected:.1f} °C in {horizon:g} s at full load >= "
            f"{reading}_throttle_c {throttle[reading]} ({model.describe()})"
        )
    if reasons and factor < 1.0:
        why = "; ".join(reasons) + f": concurrency x {factor:g} before the limit"
        return ThermalDecision(ThermalVerdict("throttled", why), factor, models, forecast)
    shown = ", ".join(f"{r.upper()} {v:.1f} °C" for r, v in forecast.items())
    return ThermalDecision(
        ThermalVerdict("normal", f"forecast {shown} in {horizon:g} s: below the limits"),
        1.0,
        models,
        forecast,
    )


def predicted_now(
    history: list[ThermalRow], models: dict[str, ThermalModel], at: float, load: float
) -> dict[str, float]:
    """What the models expect for this moment from the previous sample under the load that ran since
    (``load``, this tick's calls in flight): the forecast the fleet view shows against the actual."""
    if not history:
        return {}
    last = history[-1]
    out = {}
    for reading, model in models.items():
        sample: Sample | None = last.sample(reading)
        if sample is not None and at > sample.t:
            out[reading] = model.forecast(sample.temp_c, load, at - sample.t)
    return out
