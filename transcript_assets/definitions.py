"""The code location: assets, jobs and resources, configured from the environment (embedded defaults)."""

from __future__ import annotations

from dagster import Definitions

from executors.node_routing import node_routing_executor
from io_managers.transcript_store import TranscriptStore
from resources.ledger import Ledger
from resources.node_pool import NodePool
from sensors.activity import build_activity_sensor
from sensors.alerting import build_node_health_alerts_sensor, build_run_failure_alerts_sensor
from sensors.fleet_view import build_fleet_view_sensor
from sensors.request_intake import build_request_intake_sensor
from sensors.thermal_guard import build_thermal_guard_sensor
from transcript_assets.dataset_report import dataset_report
from transcript_assets.fleet_assets import fleet_asset_specs
from transcript_assets.jobs import build_library_job, export_request_job, generate_shard_job
from transcript_assets.maintenance_jobs import maintenance_jobs
from transcript_assets.node_control_job import node_control
from transcript_assets.raw_transcripts import raw_transcripts
from transcript_assets.request_exports import export_assets
from transcript_assets.schedules import build_schedules
from transcript_assets.scored_transcripts import scored_transcripts
from transcript_assets.scrubbed_transcripts import scrubbed_transcripts
from transcript_assets.transcript_library import transcript_library
from transcript_foundry.pool.node_spec import NodeConfigError
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.store import SettingsStore


def build_resources() -> dict[str, object]:
    paths = project_paths()
    return {
        "ledger": Ledger(url=paths.state_url),
        "llm_pool": NodePool.from_env(state_url=paths.state_url),
        "transcript_store": TranscriptStore(base_dir=str(paths.store_dir)),
    }


def known_node_ids(pool: NodePool) -> list[str]:
    """The nodes known when the code location loads (each gets a fleet/<id> asset); none on a bad nodes.yaml,
    whose error the runs and `transcripts nodes` report."""
    try:
        return [spec.id for spec in pool.node_specs()]
    except NodeConfigError:
        return []


resources = build_resources()


request_intake_sensor = build_request_intake_sensor(
    [generate_shard_job, build_library_job, export_request_job]
)
thermal_guard_sensor = build_thermal_guard_sensor()
activity_sensor = build_activity_sensor([generate_shard_job])
alerting_sensors = [build_run_failure_alerts_sensor(), build_node_health_alerts_sensor()]
fleet_view_sensor = build_fleet_view_sensor()

defs = Definitions(
    assets=[
        raw_transcripts,
        scrubbed_transcripts,
        scored_transcripts,
        transcript_library,
        *export_assets,
        dataset_report,
        *fleet_asset_specs(known_node_ids(resources["llm_pool"])),  # type: ignore[arg-type]
    ],
    jobs=[generate_shard_job, build_library_job, export_request_job, *maintenance_jobs, node_control],
    schedules=build_schedules(SettingsStore(resources["ledger"].engine).load().settings.schedules),  # type: ignore[attr-defined]
    resources=resources,
    sensors=[
        request_intake_sensor,
        thermal_guard_sensor,
        activity_sensor,
        *alerting_sensors,
        fleet_view_sensor,
    ],
    executor=node_routing_executor,  # dagster dev / daemon runs; execute_in_process stays in-process
)
