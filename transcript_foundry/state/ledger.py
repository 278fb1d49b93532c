"""The ledger: every request, shard and conversation slot, and the state each slot ended in.

A slot moves planned → generated → passed → accepted, or ends in rejected_quality, duplicate or
failed (with a reason). Transcripts are stored with their slot, so an interrupted request resumes without
generating accepted (or already generated) work again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, PrivateAttr
from sqlalchemy import Engine, and_, func, select, update

from transcript_foundry.state.state_db import (
    IN_PROGRESS_STATES,
    TERMINAL_STATES,
    open_state_db,
    performance_samples,
    quality_rounds,
    requests,
    shards,
    slots,
)


class LedgerError(RuntimeError):
    """The ledger was asked for something it does not hold."""


@dataclass(frozen=True)
class RequestRow:
    request_id: str
    request_text: str
    spec: dict[str, Any]
    count: int
    seed: int
    out_dir: str | None
    status: str
    status_reason: str | None


@dataclass(frozen=True)
class SlotRow:
    slot_id: str
    request_id: str
    shard_key: str
    slot_index: int
    plan: dict[str, Any]
    state: str
    reason: str | None
    attempts: int
    transcript: dict[str, Any] | None
    quality: dict[str, Any] | None
    content_hash: str | None
    duplicate_of: str | None
    duplicate_rule: str | None = None
    duplicate_similarity: float | None = None
    planted: dict[str, Any] | None = None  # {"said": [mention], "survived": [mention]} (phi/planted.py)


def _slot(row: Any) -> SlotRow:
    return SlotRow(
        slot_id=row.slot_id,
        request_id=row.request_id,
        shard_key=row.shard_key,
        slot_index=row.slot_index,
        plan=row.plan,
        state=row.state,
        reason=row.reason,
        attempts=row.attempts,
        transcript=row.transcript,
        quality=row.quality,
        content_hash=row.content_hash,
        duplicate_of=row.duplicate_of,
        duplicate_rule=row.duplicate_rule,
        duplicate_similarity=row.duplicate_similarity,
        planted=row.planted,
    )


class RequestLedger(BaseModel):
    """The state database (SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql://...``).

    Plain pydantic, so the CLI, the sensors and tests use it without Dagster; ``resources.ledger.Ledger`` is
    the same class as a Dagster resource."""

    url: str

    _engine: Engine | None = PrivateAttr(default=None)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_state_db(self.url)
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # ---- requests -------------------------------------------------------------------------------
    def create_request(
        self,
        request_id: str,
        request_text: str,
        spec: dict[str, Any],
        count: int,
        seed: int,
        out_dir: str | None,
    ) -> bool:
        """Insert the request unless it exists; True when it was new."""
        with self.engine.begin() as conn:
            if conn.execute(select(requests.c.request_id).where(requests.c.request_id == request_id)).first():
                return False
            conn.execute(
                requests.insert().values(
                    request_id=request_id,
                    request_text=request_text,
                    spec=spec,
                    count=count,
                    seed=seed,
                    out_dir=out_dir,
                    status="open",
                )
            )
            return True

    def get_request(self, request_id: str) -> RequestRow:
        with self.engine.connect() as conn:
            row = conn.execute(select(requests).where(requests.c.request_id == request_id)).first()
        if row is None:
            raise LedgerError(f"no request {request_id!r} in the ledger")
        return RequestRow(
            request_id=row.request_id,
            request_text=row.request_text,
            spec=row.spec,
            count=row.count,
            seed=row.seed,
            out_dir=row.out_dir,
            status=row.status,
            status_reason=row.status_reason,
        )

    def list_requests(self) -> list[RequestRow]:
        with self.engine.connect() as conn:
            ids = [
                r.request_id
                for r in conn.execute(select(requests.c.request_id).order_by(requests.c.created_at))
            ]
        return [self.get_request(i) for i in ids]

    def set_request_status(self, request_id: str, status: str, reason: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(requests)
                .where(requests.c.request_id == request_id)
                .values(status=status, status_reason=reason)
            )

    def state_counts(self, request_id: str) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(slots.c.state, func.count())
                .where(slots.c.request_id == request_id)
                .group_by(slots.c.state)
            ).all()
        counts = Counter({state: 0 for state in (*IN_PROGRESS_STATES, *TERMINAL_STATES)})
        counts.update({state: n for state, n in rows})
        return dict(counts)

    def next_slot_index(self, request_id: str) -> int:
        with self.engine.connect() as conn:
            top = conn.execute(
                select(func.max(slots.c.slot_index)).where(slots.c.request_id == request_id)
            ).scalar()
        return 0 if top is None else top + 1

    # ---- shards and slots ---------------------------------------------------------------------------
    def add_shard(self, shard_key: str, request_id: str, plans: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(shards.insert().values(shard_key=shard_key, request_id=request_id, size=len(plans)))
            conn.execute(
                slots.insert(),
                [
                    {
                        "slot_id": p["slot_id"],
                        "request_id": request_id,
                        "shard_key": shard_key,
                        "slot_index": p["index"],
                        "plan": p,
                        "state": "planned",
                        "attempts": 0,
                    }
                    for p in plans
                ],
            )

    def shard_keys(self, request_id: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(shards.c.shard_key)
                .where(shards.c.request_id == request_id)
                .order_by(shards.c.shard_key)
            )
            return [r.shard_key for r in rows]

    def shard_request(self, shard_key: str) -> str:
        with self.engine.connect() as conn:
            row = conn.execute(select(shards.c.request_id).where(shards.c.shard_key == shard_key)).first()
        if row is None:
            raise LedgerError(
                f"shard {shard_key!r} is not in the ledger: shards are created by `transcripts generate` or "
                "`transcripts submit`, not by hand"
            )
        return row.request_id

    def shard_slots(self, shard_key: str) -> list[SlotRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(slots).where(slots.c.shard_key == shard_key).order_by(slots.c.slot_index)
            )
            return [_slot(r) for r in rows]

    def unfinished_shards(self, request_id: str) -> list[str]:
        """Shards with slots not yet generated or not yet scored (an interrupted run left them)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(slots.c.shard_key)
                .where(and_(slots.c.request_id == request_id, slots.c.state.in_(("planned", "generated"))))
                .group_by(slots.c.shard_key)
                .order_by(slots.c.shard_key)
            )
            return [r.shard_key for r in rows]

    def _set(self, slot_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(update(slots).where(slots.c.slot_id == slot_id).values(**values)).rowcount
        if done != 1:
            raise LedgerError(f"no slot {slot_id!r} in the ledger")

    def record_generated(self, slot_id: str, transcript: dict[str, Any], attempts: int) -> None:
        self._set(slot_id, state="generated", transcript=transcript, attempts=attempts, reason=None)

    def record_scrubbed(self, slot_id: str, transcript: dict[str, Any], planted: dict[str, Any]) -> None:
        """The scrubbed text replaces the raw one; ``planted`` says which planted values the raw call said
        and which the scrubber left (``PlantedRecall.slot_record``)."""
        self._set(slot_id, transcript=transcript, planted=planted)

    def record_planted(self, slot_id: str, planted: dict[str, Any]) -> None:
        """The slot's planted record after the quality loop rewrote (and re-scrubbed) some of its turns."""
        self._set(slot_id, planted=planted)

    def record_failed(self, slot_id: str, reason: str, attempts: int) -> None:
        self._set(slot_id, state="failed", reason=reason, attempts=attempts)

    def record_passed(
        self, slot_id: str, transcript: dict[str, Any], quality: dict[str, Any], attempts: int
    ) -> None:
        self._set(
            slot_id, state="passed", transcript=transcript, quality=quality, attempts=attempts, reason=None
        )

    def record_rejected(
        self, slot_id: str, reason: str, quality: dict[str, Any], transcript: dict[str, Any]
    ) -> None:
        self._set(slot_id, state="rejected_quality", reason=reason, quality=quality, transcript=transcript)

    # ---- library ------------------------------------------------------------------------------------
    def passed_slots(self) -> list[SlotRow]:
        """Slots that passed quality and are not yet in the library, oldest request first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(slots)
                .join(requests, requests.c.request_id == slots.c.request_id)
                .where(slots.c.state == "passed")
                .order_by(requests.c.created_at, slots.c.request_id, slots.c.slot_index)
            )
            return [_slot(r) for r in rows]

    def accepted_with_hash(self, content_hash: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(slots.c.slot_id)
                .where(and_(slots.c.content_hash == content_hash, slots.c.state == "accepted"))
                .limit(1)
            ).first()
        return row.slot_id if row else None

    def next_library_seq(self) -> int:
        with self.engine.connect() as conn:
            top = conn.execute(select(func.max(slots.c.library_seq))).scalar()
        return 0 if top is None else top + 1

    def record_accepted(self, slot_id: str, content_hash: str, library_seq: int) -> None:
        self._set(slot_id, state="accepted", content_hash=content_hash, library_seq=library_seq)

    def record_duplicate(
        self,
        slot_id: str,
        content_hash: str,
        duplicate_of: str,
        rule: str = "exact",
        similarity: float = 1.0,
    ) -> None:
        """The slot duplicates the accepted ``duplicate_of``: which dedup ``rule`` fired, at what similarity."""
        self._set(
            slot_id,
            state="duplicate",
            content_hash=content_hash,
            duplicate_of=duplicate_of,
            duplicate_rule=rule,
            duplicate_similarity=similarity,
            reason=f"{rule} duplicate of {duplicate_of} (similarity {similarity:.3f})",
        )

    def duplicates_by_rule(self, request_id: str | None = None) -> dict[str, int]:
        """How many slots each dedup rule dropped (of one request, or of all)."""
        query = select(slots.c.duplicate_rule, func.count()).where(slots.c.state == "duplicate")
        if request_id is not None:
            query = query.where(slots.c.request_id == request_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.group_by(slots.c.duplicate_rule)).all()
        counts: Counter[str] = Counter()
        for rule, n in rows:
            counts[rule or "exact"] += n  # duplicates recorded before migration 3 were exact ones
        return dict(counts)

    def accepted_slots(self, request_id: str | None = None) -> list[SlotRow]:
        query = select(slots).where(slots.c.state == "accepted")
        if request_id is not None:
            query = query.where(slots.c.request_id == request_id)
        with self.engine.connect() as conn:
            return [_slot(r) for r in conn.execute(query.order_by(slots.c.library_seq))]

    def slots_in_state(self, request_id: str, states: tuple[str, ...]) -> list[SlotRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(slots)
                .where(and_(slots.c.request_id == request_id, slots.c.state.in_(states)))
                .order_by(slots.c.slot_index)
            )
            return [_slot(r) for r in rows]

    # ---- quality rounds ------------------------------------------------------------------------------
    def add_quality_round(self, *, run_id: str, shard_key: str, request_id: str, **values: Any) -> None:
        """One round of the quality loop (columns: see ``state_db.quality_rounds``)."""
        with self.engine.begin() as conn:
            conn.execute(
                quality_rounds.insert().values(
                    run_id=run_id, shard_key=shard_key, request_id=request_id, **values
                )
            )

    def quality_rounds(self, shard_key: str | None = None, run_id: str | None = None) -> list[dict[str, Any]]:
        query = select(quality_rounds).order_by(quality_rounds.c.id)
        if shard_key is not None:
            query = query.where(quality_rounds.c.shard_key == shard_key)
        if run_id is not None:
            query = query.where(quality_rounds.c.run_id == run_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # ---- telemetry ----------------------------------------------------------------------------------
    def add_performance_sample(
        self,
        *,
        run_id: str,
        concurrency: int,
        throughput_per_sec: float,
        p50_latency_ms: float,
        p95_latency_ms: float,
        error_rate: float,
        queue_depth: int,
        node_id: str | None = None,
        shard_key: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                performance_samples.insert().values(
                    run_id=run_id,
                    concurrency=concurrency,
                    throughput_per_sec=throughput_per_sec,
                    p50_latency_ms=p50_latency_ms,
                    p95_latency_ms=p95_latency_ms,
                    error_rate=error_rate,
                    queue_depth=queue_depth,
                    node_id=node_id,
                    shard_key=shard_key,
                )
            )

    def performance_samples(self, run_id: str | None = None) -> list[dict[str, Any]]:
        query = select(performance_samples).order_by(performance_samples.c.id)
        if run_id is not None:
            query = query.where(performance_samples.c.run_id == run_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
