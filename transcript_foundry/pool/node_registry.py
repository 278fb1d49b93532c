"""The node registry: generator machines whose agents registered in the state DB, with their heartbeats.

A node agent (``transcripts agent``) registers its NodeSpec and HardwareProfile once and then heartbeats
its LiveState. The pool routes only to nodes whose heartbeat is fresher than ``max_age_s``; a stale node
stays listed (``stale=True``) so ``transcripts nodes`` can show it, but gets no work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select, update

from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.state.state_db import nodes

DEFAULT_MAX_HEARTBEAT_AGE_S = 30.0


class UnknownNode(KeyError):
    """A heartbeat or lookup named a node that never registered."""


@dataclass(frozen=True)
class RegisteredNode:
    spec: NodeSpec
    source: str
    hostname: str | None
    profile: HardwareProfile | None
    live: LiveState | None
    registered_at: datetime
    heartbeat_at: datetime
    heartbeat_age_s: float

    def stale(self, max_age_s: float = DEFAULT_MAX_HEARTBEAT_AGE_S) -> bool:
        return self.heartbeat_age_s > max_age_s


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite hands back naive datetimes


class NodeRegistry:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(
        self,
        spec: NodeSpec,
        profile: HardwareProfile | None,
        *,
        source: str = "agent",
        live: LiveState | None = None,
    ) -> None:
        """Insert or replace the node (a restarted agent registers again under the same id)."""
        now = datetime.now(UTC)
        values = {
            "source": source,
            "spec": spec.model_dump(mode="json"),
            "hostname": profile.hostname if profile else None,
            "profile": profile.model_dump(mode="json") if profile else None,
            "live": live.model_dump(mode="json") if live else None,
            "heartbeat_at": now,
        }
        with self.engine.begin() as conn:
            found = conn.execute(update(nodes).where(nodes.c.node_id == spec.id).values(**values)).rowcount
            if not found:
                conn.execute(nodes.insert().values(node_id=spec.id, registered_at=now, **values))

    def heartbeat(self, node_id: str, live: LiveState) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(
                update(nodes)
                .where(nodes.c.node_id == node_id)
                .values(live=live.model_dump(mode="json"), heartbeat_at=datetime.now(UTC))
            ).rowcount
        if not found:
            raise UnknownNode(f"node {node_id!r} has not registered: register it before sending heartbeats")

    def deregister(self, node_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(nodes).where(nodes.c.node_id == node_id))

    def all(self) -> list[RegisteredNode]:
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            rows = conn.execute(select(nodes).order_by(nodes.c.node_id)).all()
        return [
            RegisteredNode(
                spec=NodeSpec.model_validate(r.spec),
                source=r.source,
                hostname=r.hostname,
                profile=HardwareProfile.model_validate(r.profile) if r.profile else None,
                live=LiveState.model_validate(r.live) if r.live else None,
                registered_at=_utc(r.registered_at),
                heartbeat_at=_utc(r.heartbeat_at),
                heartbeat_age_s=max(0.0, (now - _utc(r.heartbeat_at)).total_seconds()),
            )
            for r in rows
        ]

    def fresh(self, max_age_s: float = DEFAULT_MAX_HEARTBEAT_AGE_S) -> list[RegisteredNode]:
        """Nodes whose heartbeat is recent enough to route to."""
        return [n for n in self.all() if not n.stale(max_age_s)]
