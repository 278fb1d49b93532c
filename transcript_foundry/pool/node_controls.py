"""Node controls: throttle and pause flags that sensors and operators set, with a log of every change.

The thermal guard throttles a hot node (concurrency x ``throttle_factor``) or pauses it; the activity
sensor suspends a node while someone games or a camera is on. The pool reads these flags before routing
(a paused node gets nothing; a throttled one a smaller concurrency limit). Each change of a node's state
is appended to ``node_events`` with its source and reason, so ``transcripts nodes`` and the Dagster UI can
say why a node is slow or idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update

from transcript_foundry.state.state_db import node_controls, node_events


@dataclass(frozen=True)
class NodeControl:
    node_id: str
    throttle_factor: float = 1.0
    paused: bool = False
    reason: str | None = None
    source: str | None = None
    weight: float | None = None  # an operator's score multiplier; None: the node's nodes.yaml weight

    @property
    def state(self) -> str:
        """``paused``, ``throttled`` or ``normal``: the state name recorded in node_events."""
        if self.paused:
            return "paused"
        return "throttled" if self.throttle_factor < 1.0 else "normal"


class NodeControls:
    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, node_id: str) -> NodeControl:
        return self.all().get(node_id, NodeControl(node_id=node_id))

    def all(self) -> dict[str, NodeControl]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(node_controls)).all()
        return {
            r.node_id: NodeControl(
                node_id=r.node_id,
                throttle_factor=float(r.throttle_factor),
                paused=bool(r.paused),
                reason=r.reason,
                source=r.source,
                weight=None if r.weight is None else float(r.weight),
            )
            for r in rows
        }

    def set(
        self,
        node_id: str,
        *,
        throttle_factor: float = 1.0,
        paused: bool = False,
        reason: str | None = None,
        source: str,
    ) -> bool:
        """Set the node's control; records a node event when its state changes. True when it changed."""
        if not 0.0 < throttle_factor <= 1.0:
            raise ValueError(f"throttle_factor must be in (0, 1], got {throttle_factor}")
        before = self.get(node_id)
        after = NodeControl(node_id, throttle_factor, paused, reason, source)
        now = datetime.now(UTC)
        values = {
            "throttle_factor": throttle_factor,
            "paused": int(paused),
            "reason": reason,
            "source": source,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            found = conn.execute(
                update(node_controls).where(node_controls.c.node_id == node_id).values(**values)
            ).rowcount
            if not found:
                conn.execute(node_controls.insert().values(node_id=node_id, **values))
            changed = (before.state, before.throttle_factor) != (after.state, after.throttle_factor)
            if changed:
                conn.execute(
                    node_events.insert().values(
                        node_id=node_id,
                        timestamp=now,
                        source=source,
                        from_state=before.state,
                        to_state=after.state,
                        reason=reason,
                    )
                )
        return changed

    def set_weight(self, node_id: str, weight: float | None, *, source: str, reason: str | None) -> None:
        """Override the node's score multiplier (None: back to nodes.yaml's); logged as a ``reweighted``
        node event. The throttle / pause state is left as it is."""
        if weight is not None and not 0.0 < weight <= 1.0:
            raise ValueError(f"weight must be in (0, 1], got {weight}")
        before = self.get(node_id).weight
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            found = conn.execute(
                update(node_controls).where(node_controls.c.node_id == node_id).values(weight=weight)
            ).rowcount
            if not found:
                conn.execute(
                    node_controls.insert().values(
                        node_id=node_id, weight=weight, throttle_factor=1.0, paused=0, updated_at=now
                    )
                )
            conn.execute(
                node_events.insert().values(
                    node_id=node_id,
                    timestamp=now,
                    source=source,
                    from_state=f"weight {'default' if before is None else f'{before:g}'}",
                    to_state="reweighted",
                    reason=reason,
                )
            )

    def record_event(
        self, node_id: str, *, source: str, to_state: str, from_state: str | None = None, reason: str | None
    ) -> None:
        """Log a transition that is not a control change (e.g. a circuit opening, a heartbeat going stale)."""
        with self.engine.begin() as conn:
            conn.execute(
                node_events.insert().values(
                    node_id=node_id,
                    timestamp=datetime.now(UTC),
                    source=source,
                    from_state=from_state,
                    to_state=to_state,
                    reason=reason,
                )
            )

    def events(self, node_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest events first."""
        query = select(node_events).order_by(node_events.c.id.desc()).limit(limit)
        if node_id is not None:
            query = query.where(node_events.c.node_id == node_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
