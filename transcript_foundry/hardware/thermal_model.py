"""A node's cooling curve: a first-order temperature model fitted from the node's own telemetry.

    dT/dt = (a + b * load - T) / tau        steady state T_ss(load) = a + b * load, time constant tau

``load`` is the node's calls in flight (what the pool's concurrency limit controls); a sample's load is
taken as the load since the sample before (the limit set then). ``fit_first_order`` regresses the observed
slope between consecutive samples on [1, load, T] (trapezoid on T, so ticks 30 s
apart on a 2-minute time constant still fit well); under a constant load the model has the closed form
``T(t + h) = T_ss + (T - T_ss) * exp(-h / tau)``, which ``forecast`` uses and ``max_load`` inverts: the
largest load that keeps the temperature below a limit for the next ``h`` seconds. Pure numpy; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_TAU_S = 1.0
MAX_TAU_S = 24 * 3600.0


@dataclass(frozen=True)
class Sample:
    t: float  # seconds (any epoch)
    temp_c: float
    load: float


@dataclass(frozen=True)
class ThermalModel:
    ambient_c: float  # a: steady state with no load
    per_load_c: float  # b: degrees per unit of load at steady state
    tau_s: float
    samples: int
    rms_error_c: float  # of the fitted slopes x tau: how far off a one-tau forecast may be

    def steady_state(self, load: float) -> float:
        return self.ambient_c + self.per_load_c * load

    def forecast(self, temp_c: float, load: float, horizon_s: float) -> float:
        target = self.steady_state(load)
        return target + (temp_c - target) * math.exp(-horizon_s / self.tau_s)

    def max_load(self, temp_c: float, limit_c: float, horizon_s: float) -> float:
        """The largest constant load whose forecast ``horizon_s`` ahead stays below ``limit_c`` (may be
        negative: even no load does not cool it below the limit in time); +inf when load does not heat."""
        if self.per_load_c <= 0:
            return math.inf
        decay = math.exp(-horizon_s / self.tau_s)
        return ((limit_c - temp_c * decay) / (1 - decay) - self.ambient_c) / self.per_load_c

    def describe(self) -> str:
        return (
            f"T_ss = {self.ambient_c:.1f} + {self.per_load_c:.2f} x load °C, tau {self.tau_s:.0f} s "
            f"({self.samples} samples)"
        )


def fit_first_order(samples: Sequence[Sample], min_samples: int = 6) -> ThermalModel | None:
    """The model of these samples (oldest first); None with too few samples, a load that never changed
    (heat from load cannot be told apart from ambient), or a fit that is not a cooling curve."""
    if len(samples) < max(min_samples, 3):
        return None
    t = np.array([s.t for s in samples], dtype=float)
    temp = np.array([s.temp_c for s in samples], dtype=float)
    load = np.array([s.load for s in samples], dtype=float)
    dt = np.diff(t)
    keep = dt > 0
    during = load[1:][keep]  # a sample's load is what ran since the one before (the limit set then)
    if keep.sum() < 3 or np.ptp(during) == 0:
        return None
    slope = np.diff(temp)[keep] / dt[keep]
    mid_temp = ((temp[:-1] + temp[1:]) / 2)[keep]
    design = np.column_stack([np.ones(keep.sum()), during, mid_temp])
    coef, *_ = np.linalg.lstsq(design, slope, rcond=None)
    c0, c1, c2 = (float(c) for c in coef)
    if c2 >= 0:  # temperature that does not pull back toward a steady state: no cooling curve in the data
        return None
    tau = -1.0 / c2
    if not MIN_TAU_S <= tau <= MAX_TAU_S:
        return None
    residual = slope - design @ coef
    return ThermalModel(
        ambient_c=c0 * tau,
        per_load_c=c1 * tau,
        tau_s=tau,
        samples=len(samples),
        rms_error_c=float(np.sqrt(np.mean(residual**2))) * tau,
    )
