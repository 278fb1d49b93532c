"""One node's state as plottable numbers and short labels: what the fleet view records per observation.

``node_readout`` turns a ``node_report`` (``transcript_foundry/pool/node_report.py``) into numbers (each one a
series the Dagster UI plots over time: temperatures, utilisation, free VRAM, score and its components,
concurrency limit, goodput, circuit state) and labels (state, why, who restricted it). Pure: no Dagster, no
database; the sensor in ``sensors/fleet_view.py`` turns a readout into an ``AssetObservation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CIRCUIT_CODES = {"closed": 0, "half_open": 1, "open": 2}
"""The circuit state as a number, so its history plots (0 closed, 1 half-open, 2 open)."""

LIVE_NUMBERS = (
    "cpu_temp_c",
    "gpu_temp_c",
    "cpu_util_pct",
    "gpu_util_pct",
    "gpu_memory_free_mb",
    "in_flight",
    "queue_depth",
)


@dataclass(frozen=True)
class NodeReadout:
    node_id: str
    numbers: dict[str, float | int]  # absent readings are left out, never 0
    labels: dict[str, str]

    @property
    def state(self) -> str:
        return self.labels["state"]

    @property
    def reason(self) -> str:
        return self.labels["reason"]


def node_readout(report: dict[str, Any]) -> NodeReadout:
    live = report.get("live") or {}
    numbers: dict[str, float | int] = {
        name: live[name] for name in LIVE_NUMBERS if live.get(name) is not None
    }
    controls = report["controls"]
    numbers["score"] = round(float(report["score"]), 4)
    numbers.update({f"score_{k}": float(v) for k, v in report["components"].items()})
    numbers["eligible"] = int(bool(report["eligible"]))
    numbers["concurrency_limit"] = int(report["concurrency_limit"])
    numbers["throttle_factor"] = float(controls["throttle_factor"])
    numbers["weight"] = float(report.get("weight", 1.0))
    numbers["circuit_state"] = CIRCUIT_CODES.get(str(report["circuit"]), -1)
    sample = report.get("last_sample")
    if sample and sample.get("throughput_per_sec") is not None:
        numbers["goodput_tokens_per_s"] = round(float(sample["throughput_per_sec"]), 3)
    if report.get("heartbeat_age_s") is not None:
        numbers["heartbeat_age_s"] = round(float(report["heartbeat_age_s"]), 1)
    if report.get("forecast"):
        numbers.update({k: round(float(v), 2) for k, v in report["forecast"].items() if v is not None})
    reason = controls["reason"] or ("" if report["eligible"] else str(report["excluded_because"]))
    labels = {
        "state": str(controls["state"]),
        "reason": reason or "no restriction",
        "restricted_by": str(controls["source"] or "nobody"),
        "circuit": str(report["circuit"]),
        "eligibility": "yes" if report["eligible"] else f"no: {report['excluded_because']}",
    }
    return NodeReadout(node_id=str(report["node_id"]), numbers=numbers, labels=labels)
