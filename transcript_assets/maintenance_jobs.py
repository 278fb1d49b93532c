"""The maintenance jobs the schedules launch (transcript_assets/schedules.py); each op a thin body over the
library, its numbers in the op's output metadata.

- ``top_up_standing_requests``: submit a request for each domain short of its ``schedules.standing_requests``
  count (transcript_foundry/request/standing.py); request_intake drives it like any other.
- ``library_compaction``: merge the dedup index's segments into one (transcript_foundry/dedup/index_store.py).
- ``report_refresh``: rewrite each finished request's dataset report, transcripts.jsonl and summary.json from
  the ledger.
- ``retention_cleanup``: for requests finished more than ``schedules.retention_days`` ago, delete their shard
  partitions and stored shard files; delete finished runs older than that (the ledger keeps every outcome).

They run in-process (no node routing: they call no LLM).
"""

from datetime import UTC, datetime, timedelta

from dagster import (
    Config,
    DagsterRunStatus,
    OpExecutionContext,
    Output,
    RunsFilter,
    in_process_executor,
    job,
    op,
)

from resources.ledger import Ledger
from transcript_foundry.dedup.index_store import compact_index
from transcript_foundry.domains.domain_pack import load_domain_packs
from transcript_foundry.report.dataset_report import write_report
from transcript_foundry.report.request_report import report_dir, request_report
from transcript_foundry.request.lifecycle import (
    REQUESTS_PARTITION_NAME,
    SHARDS_PARTITION_NAME,
    summarize_request,
    write_summary,
)
from transcript_foundry.request.retention import FINISHED, expired_requests, stored_shard_files
from transcript_foundry.request.standing import submit_top_ups
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.store import SettingsStore

FINISHED_RUNS = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]


class TopUpConfig(Config):
    tick: str = ""
    """The schedule's time (ISO 8601); one request per domain and tick. Empty: now."""


@op(description="Submit requests that bring each standing request's domain back to its count.")
def submit_standing_top_ups(context: OpExecutionContext, config: TopUpConfig, ledger: Ledger) -> Output[int]:
    standing = SettingsStore(ledger.engine).load().settings.schedules.standing()
    tick = config.tick or datetime.now(UTC).isoformat(timespec="minutes")
    submitted = submit_top_ups(ledger, standing, tick=tick)
    for top_up, request_id in submitted:
        context.log.info(
            f"{top_up.domain}: {top_up.accepted} accepted + {top_up.pending} on the way < {top_up.wanted}: "
            f"submitted {request_id} for {top_up.shortfall}"
        )
    return Output(
        len(submitted),
        metadata={"standing": str(standing or "none"), "requests_submitted": len(submitted)},
    )


@op(description="Merge the dedup index's segments into one.")
def compact_dedup_index(context: OpExecutionContext) -> Output[int]:
    folder = project_paths().store_dir / "dedup_index"
    before, rows = compact_index(folder)
    context.log.info(f"dedup index {folder}: {before} segment(s) -> {min(before, 1)}, {rows} row(s)")
    return Output(rows, metadata={"segments_before": before, "rows": rows, "index_dir": str(folder)})


@op(
    description="Rewrite every finished request's dataset report, transcripts.jsonl and summary.json from "
    "the ledger."
)
def refresh_request_reports(context: OpExecutionContext, ledger: Ledger) -> Output[int]:
    budget_factor = SettingsStore(ledger.engine).load().settings.intake.budget_factor
    refreshed = 0
    packs = load_domain_packs()
    for request in ledger.list_requests():
        if request.status in FINISHED[:2] and request.out_dir:
            write_report(request_report(ledger, request.request_id, packs), report_dir(request))
            write_summary(summarize_request(ledger, request.request_id, budget_factor=budget_factor))
            refreshed += 1
    context.log.info(f"refreshed the reports of {refreshed} finished request(s)")
    return Output(refreshed, metadata={"reports_refreshed": refreshed})


@op(
    description="Remove what finished longer than schedules.retention_days ago: shard partitions and files, runs."
)
def clean_up_expired(context: OpExecutionContext, ledger: Ledger) -> Output[int]:
    days = SettingsStore(ledger.engine).load().settings.schedules.retention_days
    cutoff = datetime.now(UTC) - timedelta(days=days)
    instance, store = context.instance, project_paths().store_dir
    files = partitions = 0
    for request in expired_requests(ledger, cutoff):
        for path in stored_shard_files(store, request.shard_keys):
            path.unlink()
            files += 1
        for key in request.shard_keys:
            if instance.has_dynamic_partition(SHARDS_PARTITION_NAME, key):
                instance.delete_dynamic_partition(SHARDS_PARTITION_NAME, key)
                partitions += 1
        if instance.has_dynamic_partition(REQUESTS_PARTITION_NAME, request.request_id):
            instance.delete_dynamic_partition(REQUESTS_PARTITION_NAME, request.request_id)
            partitions += 1
    old_runs = instance.get_run_records(RunsFilter(statuses=FINISHED_RUNS, updated_before=cutoff))
    for record in old_runs:
        instance.delete_run(record.dagster_run.run_id)
    context.log.info(
        f"retention {days:g} days (before {cutoff:%Y-%m-%d %H:%M} UTC): {files} shard file(s), "
        f"{partitions} partition(s), {len(old_runs)} run(s) removed"
    )
    return Output(
        files + partitions + len(old_runs),
        metadata={
            "shard_files": files,
            "partitions": partitions,
            "runs": len(old_runs),
            "retention_days": days,
        },
    )


@job(executor_def=in_process_executor, description=submit_standing_top_ups.description)
def top_up_standing_requests() -> None:
    submit_standing_top_ups()


@job(executor_def=in_process_executor, description=compact_dedup_index.description)
def library_compaction() -> None:
    compact_dedup_index()


@job(executor_def=in_process_executor, description=refresh_request_reports.description)
def report_refresh() -> None:
    refresh_request_reports()


@job(executor_def=in_process_executor, description=clean_up_expired.description)
def retention_cleanup() -> None:
    clean_up_expired()


maintenance_jobs = [top_up_standing_requests, library_compaction, report_refresh, retention_cleanup]
