"""The ``request_intake`` sensor: new requests become shard partitions and runs, and open ones keep going.

Each tick (30 s by default) it
1. reads the inbox folder: every request file becomes a ``submitted`` request (or is rejected with a
   ``.error.txt`` naming the problem);
2. drives every ``submitted`` and ``open`` request one step (``sensors/request_advance.py``): the first or
   next shard (``generate_shard`` on a new ``<request>-sNNNN`` partition), the library fold
   (``build_library``) once passed transcripts could complete it, the export (``export_request``) when it is
   fulfilled, retries of failed runs;
3. returns ONE SensorResult: the new dynamic partitions and the run requests (at most
   ``intake.max_runs_per_tick``, shard runs also capped by the pool's free capacity), with idempotent run
   keys (``<purpose>#<attempt>``), a JSON cursor of running totals, or a SkipReason that says why nothing
   was launched.
Settings are read on every tick, so a changed cap applies on the next tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster import (
    ResourceParam,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
)

from resources.ledger import Ledger
from sensors.inbox import inbox_dir, mark_processed, mark_rejected, pending_files
from sensors.launch_result import sensor_result
from sensors.pool_capacity import shard_capacity
from sensors.pool_nodes import PoolNodes
from sensors.request_advance import RequestDriver, TickLimits
from sensors.request_planner import RequestPlanner, RequestRejected
from sensors.sensor_cursor import read_cursor
from sensors.ticking import ticking_sensor
from transcript_assets.jobs import build_library_job, export_request_job, generate_shard_job
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.state.request_queue import RequestQueue

SENSOR_NAME = "request_intake"


def ingest_inbox(planner: RequestPlanner, queue: RequestQueue, inbox: Path) -> tuple[list[str], int, int]:
    """Submit every request file in ``inbox``; (notes, accepted, rejected)."""
    notes, accepted, rejected = [], 0, 0
    for path in pending_files(inbox):
        try:
            request_id, new = planner.submit_file(path)
        except RequestRejected as exc:
            moved = mark_rejected(path, str(exc))
            notes.append(f"inbox: rejected {path.name} ({str(exc).splitlines()[0]}); see {moved}.error.txt")
            rejected += 1
            continue
        queue.record_source(request_id, "inbox", path.name)
        mark_processed(path)
        notes.append(f"inbox: {path.name} -> request {request_id}" + ("" if new else " (already known)"))
        accepted += 1
    return notes, accepted, rejected


def build_request_intake_sensor(
    jobs: Sequence[Any] = (generate_shard_job, build_library_job, export_request_job),
    *,
    every_s: int = 30,
) -> SensorDefinition:

    @ticking_sensor(
        SENSOR_NAME,
        "New requests (state DB rows with status submitted, files in the inbox folder) become "
        "shard partitions and runs; open requests get their next shard, library fold and export.",
        every_s=every_s,
        jobs=jobs,
    )
    def request_intake(
        context: SensorEvaluationContext, ledger: Ledger, llm_pool: ResourceParam[PoolNodes]
    ) -> SensorResult:
        settings = SettingsStore(ledger.engine).load().settings  # every tick: hot reload
        planner = RequestPlanner(ledger, settings.intake)
        cursor = read_cursor(context.cursor)
        cursor["ticks"] = int(cursor.get("ticks", 0)) + 1
        inbox = inbox_dir(settings.intake)
        notes, accepted, rejected = ingest_inbox(planner, RequestQueue(ledger.engine), inbox)
        cursor["inbox_accepted"] = int(cursor.get("inbox_accepted", 0)) + accepted
        cursor["inbox_rejected"] = int(cursor.get("inbox_rejected", 0)) + rejected
        capacity = shard_capacity(context.instance, ledger.engine, llm_pool, settings.intake.runs_per_node)
        limits = TickLimits(
            max_runs=settings.intake.max_runs_per_tick,
            free_shard_slots=capacity.free,
            shards_per_request=settings.intake.shards_per_request,
            max_shard_attempts=settings.intake.max_shard_attempts,
        )
        out = RequestDriver(planner, ledger, context.instance, settings.intake, limits).advance_all()
        out.notes[:0] = notes
        if any("pool capacity" in n for n in out.notes):
            out.note(
                f"pool at the start of the tick: {capacity.free} of {capacity.slots} shard slot(s) free, {capacity.why}"
            )
        return sensor_result(
            context, planner, out, cursor, f"no new requests in {inbox} and no submitted or open request"
        )

    return request_intake
