"""What happened to the runs the sensors launched for one purpose (one shard, one library fold, one export).

Every run a sensor launches carries the tag ``transcripts/run`` (its purpose, e.g. ``shard:r1a2-s0003``) and
``transcripts/attempt``. The run key is ``<purpose>#<attempt>``: the same tick evaluated twice asks for the
same key (Dagster launches it once), and a failed run is retried under the next attempt number.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

PURPOSE_TAG = "transcripts/run"
ATTEMPT_TAG = "transcripts/attempt"
REQUEST_TAG = "transcripts/request"

ACTIVE_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
FAILED_STATUSES = {DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


@dataclass(frozen=True)
class RunHistory:
    purpose: str
    active_run: str | None  # a run queued or running now
    failures: int
    succeeded: bool
    last_failed_run: str | None = None
    finished: int = 0  # runs that ended (failed, canceled or succeeded)

    @property
    def next_attempt(self) -> int:
        return self.finished + 1

    def run_key(self) -> str:
        return f"{self.purpose}#{self.next_attempt}"


def run_history(instance: DagsterInstance, purpose: str) -> RunHistory:
    runs = instance.get_runs(filters=RunsFilter(tags={PURPOSE_TAG: purpose}))
    active = [r.run_id for r in runs if r.status in ACTIVE_STATUSES]
    failed = [r.run_id for r in runs if r.status in FAILED_STATUSES]
    return RunHistory(
        purpose=purpose,
        active_run=active[0] if active else None,
        failures=len(failed),
        succeeded=any(r.status == DagsterRunStatus.SUCCESS for r in runs),
        last_failed_run=failed[0] if failed else None,  # get_runs is newest first
        finished=sum(1 for r in runs if r.status in FAILED_STATUSES or r.status == DagsterRunStatus.SUCCESS),
    )


def active_runs(instance: DagsterInstance, job_name: str) -> int:
    return instance.get_runs_count(filters=RunsFilter(job_name=job_name, statuses=ACTIVE_STATUSES))
