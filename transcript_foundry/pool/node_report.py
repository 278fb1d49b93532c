"""What ``transcripts nodes`` shows about every known node, as plain JSON-ready dicts.

Profile and live state, eligibility (or the filter that excludes it), the score and its components,
circuit state and concurrency limit, the sensors' controls (throttled / paused and why) and recent node
events. Circuit and concurrency live inside the process that dispatches; a fresh CLI process shows its
own view plus the last ones the state DB recorded (circuit events, the last performance sample).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from transcript_foundry.hardware.thermal_history import READINGS, ThermalHistory
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.pool.node_choice import StepRequirements
from transcript_foundry.state.state_db import performance_samples

RECENT_EVENTS = 5


def _json_time(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def thermal_forecast(history: ThermalHistory | None, node_id: str) -> dict[str, float | None]:
    """The thermal guard's last forecast against the actual reading (``thermal_samples``): per reading the
    temperature, what the cooling curve predicted for that moment and what it expects ``horizon_s`` ahead."""
    rows = history.recent(node_id, limit=1) if history is not None else []
    if not rows:
        return {}
    row = rows[0]
    out: dict[str, float | None] = {}
    for reading in READINGS:
        actual, predicted, ahead = (
            row.temps.get(reading),
            row.predicted.get(reading),
            row.forecast.get(reading),
        )
        if predicted is not None:
            out[f"{reading}_temp_predicted_c"] = predicted
            if actual is not None:
                out[f"{reading}_temp_prediction_error_c"] = actual - predicted
        if ahead is not None:
            out[f"{reading}_temp_forecast_c"] = ahead
    return out


def node_reports(pool: NodeFleet, *, probe_servers: bool = True) -> list[dict[str, Any]]:
    pool.refresh(force=True, probe_servers=probe_servers)
    ranked = pool.rank_nodes(StepRequirements(), refresh=False)
    controls = pool.controls()
    engine = pool.engine()
    history = ThermalHistory(engine) if engine is not None else None
    reports = []
    for r in ranked:
        runtime = pool.runtime(r.node_id)
        spec = runtime.spec
        control = runtime.control
        events = controls.events(r.node_id, limit=RECENT_EVENTS) if controls is not None else []
        last_circuit = next((e for e in events if str(e["to_state"]).startswith("circuit_")), None)
        last_sample = None
        if engine is not None:
            with engine.connect() as conn:
                row = conn.execute(
                    select(performance_samples)
                    .where(performance_samples.c.node_id == r.node_id)
                    .order_by(performance_samples.c.id.desc())
                    .limit(1)
                ).first()
            if row is not None:
                last_sample = {k: _json_time(v) for k, v in row._mapping.items()}
        signals = runtime.signals
        reports.append(
            {
                "node_id": r.node_id,
                "source": runtime.source,
                "backend": spec.backend,
                "url": spec.url,
                "model": spec.model or spec.model_path or "embedded",
                "prompt_style": spec.resolved_prompt_style,
                "context_window": spec.context_window,
                "kubernetes_node": spec.kubernetes_node,
                "eligible": r.eligible,
                "excluded_because": r.excluded_because,
                "score": r.score,
                "components": r.components,
                "circuit": runtime.circuit.state,
                "last_circuit_event": last_circuit and {k: _json_time(v) for k, v in last_circuit.items()},
                "concurrency_limit": runtime.limit(),
                "weight": runtime.weight,
                "concurrency_bounds": list(spec.concurrency_bounds),
                "last_sample": last_sample,
                "controls": {
                    "state": control.state if control else "normal",
                    "throttle_factor": control.throttle_factor if control else 1.0,
                    "paused": control.paused if control else False,
                    "reason": control.reason if control else None,
                    "source": control.source if control else None,
                },
                "heartbeat_age_s": runtime.heartbeat_age_s,
                "profile": runtime.profile.model_dump(mode="json") if runtime.profile else None,
                "live": runtime.live.model_dump(mode="json") if runtime.live else None,
                "server_signals": None
                if signals is None
                else {
                    "waiting": signals.waiting,
                    "running": signals.running,
                    "slots_total": signals.slots_total,
                    "slots_busy": signals.slots_busy,
                    "models": list(signals.models) if signals.models is not None else None,
                    "error": signals.error,
                },
                "forecast": thermal_forecast(history, r.node_id),
                "recent_events": [{k: _json_time(v) for k, v in e.items()} for e in events],
            }
        )
    return reports
