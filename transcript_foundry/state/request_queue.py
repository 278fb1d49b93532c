"""The request queue: requests waiting for the ``request_intake`` sensor, and where each came from.

A request enters the ledger with status ``submitted`` (``transcripts submit``, a file dropped into the
inbox, or any program that inserts a row into ``requests`` with that status). The sensor plans its first
shard and sets it ``open``; it stays open until fulfilled, exhausted or failed. ``request_sources`` says
who submitted it (cli / inbox / generate / api) and from what (the inbox file's name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from transcript_foundry.state.state_db import request_sources, requests, shards

SUBMITTED = "submitted"
OPEN = "open"


@dataclass(frozen=True)
class QueuedRequest:
    request_id: str
    status: str
    created_at: datetime
    source: str | None
    origin: str | None


class RequestQueue:
    def __init__(self, engine: Engine):
        self.engine = engine

    def record_source(self, request_id: str, source: str, origin: str | None = None) -> None:
        with self.engine.begin() as conn:
            known = conn.execute(
                select(request_sources.c.request_id).where(request_sources.c.request_id == request_id)
            ).first()
            if not known:
                conn.execute(
                    request_sources.insert().values(request_id=request_id, source=source, origin=origin)
                )

    def in_status(self, *statuses: str) -> list[QueuedRequest]:
        """Requests in one of ``statuses``, oldest first."""
        query = (
            select(
                requests.c.request_id,
                requests.c.status,
                requests.c.created_at,
                request_sources.c.source,
                request_sources.c.origin,
            )
            .select_from(
                requests.outerjoin(request_sources, request_sources.c.request_id == requests.c.request_id)
            )
            .where(requests.c.status.in_(statuses))
            .order_by(requests.c.created_at, requests.c.request_id)
        )
        with self.engine.connect() as conn:
            return [
                QueuedRequest(r.request_id, r.status, r.created_at, r.source, r.origin)
                for r in conn.execute(query)
            ]

    def shard_created_at(self, shard_keys: list[str]) -> dict[str, datetime]:
        if not shard_keys:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(shards.c.shard_key, shards.c.created_at).where(shards.c.shard_key.in_(shard_keys))
            )
            return {r.shard_key: r.created_at for r in rows}
