"""Idleness from the load average: the fallback where neither X11 nor logind can tell.

Coarse: our own generation on this machine raises the load too, so it reports idle only while little
runs (between shards, or on a node whose model runs elsewhere).
"""

from __future__ import annotations

import os

from sensors.probes.probe_result import ProbeResult

PROBE = "load_idle"


def load_idle_probe(
    idle_load_per_cpu: float, load_1m: float | None = None, cpus: int | None = None
) -> ProbeResult:
    if load_1m is None:
        try:
            load_1m = os.getloadavg()[0]
        except OSError:
            return ProbeResult.unavailable(PROBE, "os.getloadavg is not available on this platform")
    cpus = cpus or os.cpu_count() or 1
    per_cpu = load_1m / cpus
    return ProbeResult(
        PROBE,
        True,
        per_cpu < idle_load_per_cpu,
        f"1-min load {load_1m:.2f} on {cpus} CPU(s) = {per_cpu:.2f} per CPU",
    )
