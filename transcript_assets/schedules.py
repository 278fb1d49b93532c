"""The schedules: overnight top-up of the standing requests, library compaction, report refresh, retention.

Each is a Dagster ScheduleDefinition over a maintenance job (transcript_assets/maintenance_jobs.py) whose
cron time and time zone come from the ``schedules`` settings. Cron times are read when the code location
loads: after ``transcripts config set schedules.top_up_cron "0 2 * * *"``, reload the code location (UI:
Deployment -> Reload; or restart the daemon) and the Automation page shows the new time. What a run does
(``standing_requests``, ``retention_days``) is read by the run itself. Running by default, as the sensors.
"""

from __future__ import annotations

from dagster import (
    DefaultScheduleStatus,
    JobDefinition,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)

from transcript_assets.maintenance_jobs import (
    library_compaction,
    report_refresh,
    retention_cleanup,
    top_up_standing_requests,
)
from transcript_foundry.settings.model import ScheduleSettings


def _plain(name: str, cron: str, zone: str, target: JobDefinition, what: str) -> ScheduleDefinition:
    return ScheduleDefinition(
        name=name,
        cron_schedule=cron,
        execution_timezone=zone,
        job=target,
        default_status=DefaultScheduleStatus.RUNNING,
        description=what,
    )


def build_schedules(settings: ScheduleSettings) -> list[ScheduleDefinition]:
    zone = settings.timezone

    @schedule(
        name="standing_requests_top_up",
        cron_schedule=settings.top_up_cron,
        execution_timezone=zone,
        job=top_up_standing_requests,
        default_status=DefaultScheduleStatus.RUNNING,
        description="Overnight: submit requests that keep schedules.standing_requests topped up.",
    )
    def standing_requests_top_up(context: ScheduleEvaluationContext) -> RunRequest:
        tick = context.scheduled_execution_time.isoformat(timespec="minutes")
        config = {"ops": {"submit_standing_top_ups": {"config": {"tick": tick}}}}
        return RunRequest(run_key=f"top-up:{tick}", run_config=config)

    return [
        standing_requests_top_up,
        _plain(
            "library_compaction",
            settings.compaction_cron,
            zone,
            library_compaction,
            "Merge the dedup index's segments into one (dedup-index maintenance).",
        ),
        _plain(
            "report_refresh",
            settings.report_cron,
            zone,
            report_refresh,
            "Rewrite every finished request's transcripts.jsonl and summary.json from the ledger.",
        ),
        _plain(
            "retention_cleanup",
            settings.retention_cron,
            zone,
            retention_cleanup,
            "Remove runs, shard partitions and stored shards of requests finished more than "
            "schedules.retention_days ago.",
        ),
    ]
