"""A request file dropped into the inbox is driven to fulfilled by request_intake ticks alone.

Each tick's RunRequests are executed for real (materialize on the embedded model, on the project's
persistent Dagster instance, with the run request's tags) as the daemon would launch them; the daemon and
the node-routing executor themselves are exercised by the end-to-end test of the executor.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, RunRequest, SensorResult, build_sensor_context, materialize

from transcript_assets.dataset_report import dataset_report
from transcript_assets.definitions import build_resources, request_intake_sensor
from transcript_assets.raw_transcripts import raw_transcripts
from transcript_assets.request_exports import export_assets
from transcript_assets.scored_transcripts import scored_transcripts
from transcript_assets.scrubbed_transcripts import scrubbed_transcripts
from transcript_assets.transcript_library import transcript_library
from transcript_foundry.settings.store import SettingsStore

ASSETS_BY_JOB = {
    "generate_shard": [raw_transcripts, scrubbed_transcripts, scored_transcripts],
    "build_library": [transcript_library],
    "export_request": [*export_assets, dataset_report],
}


def launch(request: RunRequest, instance: DagsterInstance, resources: dict) -> None:
    selection: list[AssetKey] | None = list(request.asset_selection) if request.asset_selection else None
    result = materialize(
        ASSETS_BY_JOB[request.job_name],
        partition_key=request.partition_key,
        selection=selection,
        resources=resources,
        instance=instance,
        tags=request.tags,
    )
    assert result.success


@pytest.mark.slow
def test_inbox_request_is_fulfilled_by_sensor_ticks(project_home: Path, embedded_model_path: Path) -> None:
    inbox = project_home / "inbox"
    inbox.mkdir()
    (inbox / "retail.yaml").write_text(
        "count: 1\ndomain: retail\nemotional_tone: confused\nexchanges: [6, 8]\nquality_threshold: 0.7\n"
    )
    instance = DagsterInstance.get()
    resources = build_resources()
    ledger = resources["ledger"]
    SettingsStore(ledger.engine).set("intake.shard_size", "1")  # one conversation per run: quick
    cursor, jobs = None, []
    for _ in range(12):
        with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
            result = request_intake_sensor(context)
        assert isinstance(result, SensorResult)
        cursor = result.cursor
        for partitions in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(partitions.partitions_def_name, list(partitions.partition_keys))
        for request in result.run_requests or []:
            jobs.append(request.job_name)
            launch(request, instance, resources)
        (row,) = ledger.list_requests()
        if row.status != "open":
            break
    assert row.status == "fulfilled", (row.status, row.status_reason, jobs)
    assert jobs[0] == "generate_shard" and jobs[-2:] == ["build_library", "export_request"]
    assert ledger.state_counts(row.request_id)["accepted"] >= 1
    exported = list((project_home / "exports" / "custom_json" / row.request_id).iterdir())
    assert exported, "the export run wrote nothing"
    # The dataset report of a request without an output folder goes under the project home.
    report = project_home / "reports" / row.request_id / "report.html"
    assert report.exists() and "Dataset report" in report.read_text()
    assert (inbox / "processed" / "retail.yaml").exists()
