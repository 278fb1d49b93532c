"""Several sources restrict one node; the effective control is the most restrictive of them.

The thermal guard, the activity sensor and an operator each keep their own restriction of a node here
(``node_restrictions``: state, throttle factor, reason). ``apply`` writes the combination to
``node_controls`` (which the pool reads): paused if any source pauses it, else the smallest throttle
factor, with every restricting source and its reason. So a node paused for heat stays paused when the
activity sensor finds nobody at the keyboard, and each source lifts only its own restriction.

A control written by someone else (``transcripts nodes pause`` by an operator) is adopted as that
source's restriction on the next ``apply``, so sensors never overwrite it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.state.state_db import node_restrictions


@dataclass(frozen=True)
class Restriction:
    node_id: str
    source: str
    state: str = "normal"  # normal | throttled | paused
    throttle_factor: float = 1.0
    reason: str | None = None


def combine(node_id: str, restrictions: list[Restriction]) -> Restriction:
    """The effective restriction: paused wins, else the smallest factor; names every restricting source."""
    active = [r for r in restrictions if r.state != "normal"]
    if not active:
        return Restriction(node_id, "+".join(sorted(r.source for r in restrictions)) or "none")
    paused = [r for r in active if r.state == "paused"]
    chosen = paused or active
    factor = 1.0 if paused else min(r.throttle_factor for r in active)
    return Restriction(
        node_id,
        "+".join(sorted(r.source for r in chosen)),
        "paused" if paused else "throttled",
        factor,
        "; ".join(f"{r.source}: {r.reason}" for r in sorted(chosen, key=lambda r: r.source)),
    )


class NodeRestrictions:
    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, node_id: str, source: str) -> Restriction:
        return next((r for r in self.for_node(node_id) if r.source == source), Restriction(node_id, source))

    def for_node(self, node_id: str) -> list[Restriction]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(node_restrictions)
                .where(node_restrictions.c.node_id == node_id)
                .order_by(node_restrictions.c.source)
            )
            return [
                Restriction(r.node_id, r.source, r.state, float(r.throttle_factor), r.reason) for r in rows
            ]

    def put(self, restriction: Restriction) -> None:
        values = {
            "state": restriction.state,
            "throttle_factor": restriction.throttle_factor,
            "reason": restriction.reason,
            "updated_at": datetime.now(UTC),
        }
        key = (node_restrictions.c.node_id == restriction.node_id) & (
            node_restrictions.c.source == restriction.source
        )
        with self.engine.begin() as conn:
            if not conn.execute(update(node_restrictions).where(key).values(**values)).rowcount:
                conn.execute(
                    node_restrictions.insert().values(
                        node_id=restriction.node_id, source=restriction.source, **values
                    )
                )

    def apply(self, node_id: str, controls: NodeControls, *, by: str, sensor_sources: frozenset[str]) -> bool:
        """Write the effective control of ``node_id`` (``by``: the source applying it). True if it changed."""
        current = controls.get(node_id)
        sources = set(current.source.split("+")) if current.source else set()
        # a control nobody here wrote (e.g. an old `transcripts` pause): adopt it; never the applier's own
        foreign = sources and not sources & sensor_sources and by not in sources
        if foreign and current.source:
            self.put(
                Restriction(node_id, current.source, current.state, current.throttle_factor, current.reason)
            )
        effective = combine(node_id, self.for_node(node_id))
        if effective.state == "normal":
            mine = self.get(node_id, by)
            return controls.set(node_id, reason=mine.reason, source=by)
        return controls.set(
            node_id,
            throttle_factor=effective.throttle_factor,
            paused=effective.state == "paused",
            reason=effective.reason,
            source=effective.source,
        )
