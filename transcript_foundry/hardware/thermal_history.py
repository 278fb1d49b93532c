"""Each node's temperature and load history (``thermal_samples``), written by the thermal guard every tick.

The history is what the node's cooling curve is fitted from (``thermal_model.fit_first_order``); each row
also keeps the model's forecasts, so the fleet view can show forecast against actual: ``*_predicted_c`` is
what the model, fitted at the previous sample, expected for this moment, ``*_forecast_c`` what it expects
``horizon_s`` ahead at this load. Only the newest ``KEEP_PER_NODE`` rows of a node are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select

from transcript_foundry.hardware.thermal_model import Sample
from transcript_foundry.state.state_db import thermal_samples

KEEP_PER_NODE = 120
READINGS = ("cpu", "gpu")


@dataclass(frozen=True)
class ThermalRow:
    node_id: str
    at: datetime
    load: float
    temps: dict[str, float | None]  # cpu / gpu
    predicted: dict[str, float | None]
    forecast: dict[str, float | None]
    horizon_s: float | None

    def sample(self, reading: str) -> Sample | None:
        temp = self.temps.get(reading)
        return None if temp is None else Sample(self.at.timestamp(), temp, self.load)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ThermalHistory:
    def __init__(self, engine: Engine):
        self.engine = engine

    def record(self, row: ThermalRow) -> None:
        values = {
            "node_id": row.node_id,
            "timestamp": row.at,
            "load": row.load,
            "horizon_s": row.horizon_s,
            **{f"{r}_temp_c": row.temps.get(r) for r in READINGS},
            **{f"{r}_predicted_c": row.predicted.get(r) for r in READINGS},
            **{f"{r}_forecast_c": row.forecast.get(r) for r in READINGS},
        }
        with self.engine.begin() as conn:
            conn.execute(thermal_samples.insert().values(**values))
            old = (
                select(thermal_samples.c.id)
                .where(thermal_samples.c.node_id == row.node_id)
                .order_by(thermal_samples.c.id.desc())
                .offset(KEEP_PER_NODE)
            )
            conn.execute(delete(thermal_samples).where(thermal_samples.c.id.in_(old.scalar_subquery())))

    def recent(self, node_id: str, limit: int = KEEP_PER_NODE) -> list[ThermalRow]:
        """Oldest first."""
        query = (
            select(thermal_samples)
            .where(thermal_samples.c.node_id == node_id)
            .order_by(thermal_samples.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            ThermalRow(
                node_id=r.node_id,
                at=_utc(r.timestamp),
                load=float(r.load),
                temps={x: getattr(r, f"{x}_temp_c") for x in READINGS},
                predicted={x: getattr(r, f"{x}_predicted_c") for x in READINGS},
                forecast={x: getattr(r, f"{x}_forecast_c") for x in READINGS},
                horizon_s=r.horizon_s,
            )
            for r in reversed(rows)
        ]
