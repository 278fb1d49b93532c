"""Retention: what of a finished request may go once it is older than ``schedules.retention_days``.

A request that ended (fulfilled, exhausted, failed) before the cut-off keeps its ledger rows (its record:
slots, outcomes, summary) and its exports; its shard partitions and the shard files in the transcript store
(``<store>/<asset>/<shard>.parquet`` of the per-shard assets) are garbage once its transcripts are exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from transcript_foundry.state.ledger import RequestLedger
from transcript_foundry.state.state_db import requests

FINISHED = ("fulfilled", "exhausted", "failed")
SHARD_ASSETS = ("raw_transcripts", "scrubbed_transcripts", "scored_transcripts")


@dataclass(frozen=True)
class ExpiredRequest:
    request_id: str
    status: str
    shard_keys: list[str]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite hands back naive datetimes


def expired_requests(ledger: RequestLedger, cutoff: datetime) -> list[ExpiredRequest]:
    """Finished requests created before ``cutoff``, with their shard keys."""
    query = select(requests.c.request_id, requests.c.status, requests.c.created_at).where(
        requests.c.status.in_(FINISHED)
    )
    with ledger.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        ExpiredRequest(r.request_id, r.status, ledger.shard_keys(r.request_id))
        for r in rows
        if _utc(r.created_at) < cutoff
    ]


def stored_shard_files(store_dir: Path, shard_keys: list[str]) -> list[Path]:
    """The transcript store's files of these shards that exist."""
    paths = (store_dir / asset / f"{key}.parquet" for asset in SHARD_ASSETS for key in shard_keys)
    return [p for p in paths if p.exists()]
