"""One tick of driving requests forward: which runs to launch for each submitted or open request.

The decision for one request is ``transcript_foundry.request.progress.next_step`` (shared with
``transcripts generate``); this module turns it into RunRequests under the tick's limits: at most
``max_runs`` run requests, at most ``free_shard_slots`` new shard runs (the pool's free capacity), one
library fold at a time, ``shards_per_request`` shards in flight per request (1; more while the machine is
idle), and ``max_shard_attempts`` tries of a run before its request stops as ``failed``. Each decision
leaves a note that the sensors show as their SkipReason or log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from dagster import AssetKey, DagsterInstance, RunRequest

from sensors.request_planner import (
    BUILD_LIBRARY_JOB,
    EXPORT_REQUEST_JOB,
    GENERATE_SHARD_JOB,
    RequestPlanner,
)
from sensors.run_history import (
    ATTEMPT_TAG,
    PURPOSE_TAG,
    REQUEST_TAG,
    RunHistory,
    active_runs,
    run_history,
)
from transcript_foundry.request.progress import next_shard_size, next_step
from transcript_foundry.settings.model import IntakeSettings
from transcript_foundry.state.ledger import RequestLedger, RequestRow
from transcript_foundry.state.request_queue import OPEN, SUBMITTED, RequestQueue

FAILED = "failed"


@dataclass
class TickLimits:
    max_runs: int
    free_shard_slots: int
    shards_per_request: int = 1
    max_shard_attempts: int = 3
    # Shards planned earlier that never got a run (a crash between planning and launching) are launched
    # after this many seconds; None: leave them to another sensor (the activity sensor plans new shards only).
    orphan_grace_s: float | None = 60.0
    retry_failed: bool = True
    # The activity sensor while idle: only extra shards beside ones in flight; the rest is the intake's.
    extra_shards_only: bool = False


@dataclass
class Launches:
    limits: TickLimits
    run_requests: list[RunRequest] = field(default_factory=list)
    new_shards: list[str] = field(default_factory=list)
    new_requests: list[str] = field(default_factory=list)  # request partitions for export runs
    notes: list[str] = field(default_factory=list)
    library_busy: bool = False

    def room(self) -> bool:
        return len(self.run_requests) < self.limits.max_runs

    def note(self, text: str) -> None:
        self.notes.append(text)

    def add(
        self,
        history: RunHistory,
        job_name: str,
        request_id: str,
        partition_key: str | None = None,
        asset_selection: list[AssetKey] | None = None,
    ) -> None:
        self.run_requests.append(
            RunRequest(
                run_key=history.run_key(),
                job_name=job_name,
                partition_key=partition_key,
                asset_selection=asset_selection,
                tags={
                    PURPOSE_TAG: history.purpose,
                    ATTEMPT_TAG: str(history.next_attempt),
                    REQUEST_TAG: request_id,
                },
            )
        )


def _age_s(created_at: datetime | None) -> float:
    if created_at is None:
        return 0.0
    created = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    return (datetime.now(UTC) - created).total_seconds()


class RequestDriver:
    """Advances every submitted or open request by one tick, oldest first."""

    def __init__(
        self,
        planner: RequestPlanner,
        ledger: RequestLedger,
        instance: DagsterInstance,
        settings: IntakeSettings,
        limits: TickLimits,
    ):
        self.planner = planner
        self.ledger = ledger
        self.queue = RequestQueue(ledger.engine)
        self.instance = instance
        self.settings = settings
        self.out = Launches(limits)
        self.out.library_busy = active_runs(instance, BUILD_LIBRARY_JOB) > 0

    @property
    def limits(self) -> TickLimits:
        return self.out.limits

    def advance_all(self) -> Launches:
        for queued in self.queue.in_status(SUBMITTED, OPEN):
            self._advance(self.ledger.get_request(queued.request_id))
        return self.out

    # ---- one request ----------------------------------------------------------------------------------
    def _stop(self, request: RequestRow, history: RunHistory, what: str) -> None:
        reason = (
            f"{what} failed {history.failures} time(s) (last run {history.last_failed_run}); the request stops "
            f"after intake.max_shard_attempts={self.limits.max_shard_attempts}. See the run in the Dagster UI, "
            "fix the cause, then raise intake.max_shard_attempts and set the request's status back to open, "
            "or submit it again with another --out folder"
        )
        self.ledger.set_request_status(request.request_id, FAILED, reason)
        self.out.note(f"{request.request_id}: stopped, {reason}")

    def _launch_shard(self, request: RequestRow, key: str, history: RunHistory, new: bool) -> bool:
        if not self.out.room():
            self.out.note(f"{request.request_id}: shard {key} waits: intake.max_runs_per_tick reached")
            return False
        if self.limits.free_shard_slots <= 0:
            self.out.note(f"{request.request_id}: shard {key} waits for pool capacity")
            return False
        self.limits.free_shard_slots -= 1
        self.out.add(history, GENERATE_SHARD_JOB, request.request_id, partition_key=key)
        if not self.instance.has_dynamic_partition(self.planner.shard_partitions, key):
            self.out.new_shards.append(key)
        verb = "new shard" if new else f"shard (attempt {history.next_attempt})"
        self.out.note(f"{request.request_id}: launching {verb} {key}")
        return True

    def _unfinished(self, request: RequestRow, keys: list[str]) -> int | None:
        """Launch or wait for the shards already planned; the number in flight, None when the request stopped."""
        in_flight = 0
        ages = self.queue.shard_created_at(keys)
        for key in keys:
            history = run_history(self.instance, f"shard:{key}")
            if history.active_run:
                in_flight += 1
                self.out.note(f"{request.request_id}: shard {key} running (run {history.active_run[:8]})")
                continue
            if history.finished >= self.limits.max_shard_attempts:
                if self.limits.retry_failed:
                    self._stop(request, history, f"shard {key}")
                return None
            if history.finished == 0:
                grace = self.limits.orphan_grace_s
                if grace is None or _age_s(ages.get(key)) < grace:
                    self.out.note(f"{request.request_id}: shard {key} planned, its run is on its way")
                    in_flight += 1
                    continue
            elif not self.limits.retry_failed:
                continue
            if self._launch_shard(request, key, history, new=False):
                in_flight += 1
        return in_flight

    def _advance(self, request: RequestRow) -> None:
        rid, count = request.request_id, request.count
        if self.limits.extra_shards_only and request.status != OPEN:
            return
        counts = self.ledger.state_counts(rid)
        unfinished = self.ledger.unfinished_shards(rid)
        in_flight = self._unfinished(request, unfinished)
        if in_flight is None:
            return
        size = next_shard_size(counts, count, self.settings.budget_factor, self.settings.shard_size)
        step = next_step(counts, count, unfinished, size)
        if step.kind == "run_shards":
            # Every planned shard is running: room for one more beside them (the activity sensor, idle)?
            if in_flight == len(unfinished) < self.limits.shards_per_request and size > 0:
                self._plan(request, extra=True)
            return
        if self.limits.extra_shards_only:
            return
        if step.kind == "plan_shard":
            self._plan(request, extra=False)
        elif step.kind == "build_library":
            self._library(request, counts, step.why)
        else:
            self._finish(request, counts["accepted"], step.why)

    def _plan(self, request: RequestRow, extra: bool) -> None:
        rid = request.request_id
        if not self.out.room() or self.limits.free_shard_slots <= 0:
            why = "intake.max_runs_per_tick reached" if not self.out.room() else "no free pool capacity"
            self.out.note(f"{rid}: next shard waits: {why}")
            return
        key = self.planner.plan_shard(rid)
        if key is None:
            self.out.note(f"{rid}: no further shard needed")
            return
        if request.status == SUBMITTED:
            self.ledger.set_request_status(rid, OPEN)
        self._launch_shard(request, key, run_history(self.instance, f"shard:{key}"), new=True)
        if extra:
            self.out.note(
                f"{rid}: shard {key} is an extra one beside those in flight (intake.shards_per_request, or idle)"
            )

    def _library(self, request: RequestRow, counts: dict[str, int], why: str) -> None:
        rid = request.request_id
        history = run_history(self.instance, f"library:{rid}:{counts['accepted']}+{counts['passed']}")
        if history.active_run or self.out.library_busy:
            self.out.note(f"{rid}: waiting for the library fold ({why})")
            return
        if history.failures >= self.limits.max_shard_attempts:
            self._stop(request, history, "the library fold")
            return
        if not self.out.room():
            self.out.note(f"{rid}: library fold waits: intake.max_runs_per_tick reached")
            return
        self.out.add(history, BUILD_LIBRARY_JOB, rid)
        self.out.library_busy = True
        self.out.note(f"{rid}: launching the library fold ({why})")

    def _finish(self, request: RequestRow, accepted: int, why: str) -> None:
        rid = request.request_id
        if accepted:
            history = run_history(self.instance, f"export:{rid}")
            if history.active_run:
                self.out.note(f"{rid}: export running (run {history.active_run[:8]})")
                return
            if not history.succeeded and history.failures < self.limits.max_shard_attempts:
                if not self.out.room():
                    self.out.note(f"{rid}: export waits: intake.max_runs_per_tick reached")
                    return
                keys = [AssetKey(k) for k in self.planner.export_assets(rid)]
                self.out.add(history, EXPORT_REQUEST_JOB, rid, partition_key=rid, asset_selection=keys)
                if not self.instance.has_dynamic_partition(self.planner.request_partitions, rid):
                    self.out.new_requests.append(rid)
                self.out.note(f"{rid}: launching the export ({why})")
                return
        status, reason = self.planner.finish(rid)
        self.out.note(
            f"{rid}: {status} ({why})" + (f": {reason}" if reason and status != "fulfilled" else "")
        )
