"""Writing one sensor's restriction of a node and reporting the transition it caused, if any."""

from __future__ import annotations

from sqlalchemy import Engine

from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_restrictions import NodeRestrictions, Restriction

THERMAL_SOURCE = "thermal_guard"
ACTIVITY_SOURCE = "activity"
SENSOR_SOURCES = frozenset({THERMAL_SOURCE, ACTIVITY_SOURCE})


def restrict(engine: Engine, restriction: Restriction) -> str | None:
    """Store ``restriction`` and apply the node's effective control; the transition text when it changed."""
    restrictions, controls = NodeRestrictions(engine), NodeControls(engine)
    before = controls.get(restriction.node_id)
    restrictions.put(restriction)
    if not restrictions.apply(
        restriction.node_id, controls, by=restriction.source, sensor_sources=SENSOR_SOURCES
    ):
        return None
    after = controls.get(restriction.node_id)
    factor = f" x{after.throttle_factor:g}" if after.state == "throttled" else ""
    return f"{restriction.node_id}: {before.state} -> {after.state}{factor} ({after.reason})"
