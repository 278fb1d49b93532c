"""The request_intake sensor on a real ledger (SQLite), a real Dagster instance and the real planner."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance, DagsterRunStatus, SensorResult, build_sensor_context
from dagster._core.test_utils import create_run_for_test
from sqlalchemy import update

from resources.ledger import Ledger
from sensors.run_history import ATTEMPT_TAG, PURPOSE_TAG, REQUEST_TAG
from transcript_assets.cli.main import main
from transcript_assets.definitions import build_resources, request_intake_sensor
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.state.state_db import shards

HEALTHCARE_YAML = "count: 4\ndomain: healthcare\nemotional_tone: anxious\n"


@pytest.fixture
def ledger(project_home: Path) -> Ledger:
    return Ledger(url=project_paths().state_url)


@pytest.fixture
def instance() -> DagsterInstance:
    return DagsterInstance.ephemeral()


def tick(instance: DagsterInstance, ledger: Ledger, cursor: str | None = None) -> SensorResult:
    with build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"ledger": ledger, "llm_pool": build_resources()["llm_pool"]},
    ) as context:
        result = request_intake_sensor(context)
    assert isinstance(result, SensorResult)
    return result


def launched(result: SensorResult) -> list[tuple[str, str | None, str]]:
    return [(r.job_name, r.partition_key, r.run_key) for r in result.run_requests or []]


def add_partitions(instance: DagsterInstance, result: SensorResult) -> None:
    """What the daemon does with the SensorResult's dynamic partition requests."""
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def record_run(instance: DagsterInstance, result_run, status: DagsterRunStatus) -> str:  # type: ignore[no-untyped-def]
    run = create_run_for_test(instance, job_name=result_run.job_name, tags=result_run.tags, status=status)
    return run.run_id


def finish_shard(ledger: Ledger, key: str, passed: int) -> None:
    for i, slot in enumerate(ledger.shard_slots(key)):
        record = {"id": slot.slot_id, "turns": []}
        if i < passed:
            ledger.record_passed(slot.slot_id, record, {"overall": 0.9}, 1)
        else:
            ledger.record_rejected(slot.slot_id, "too short", {"overall": 0.2}, record)


def test_inbox_files_become_partitions_and_runs_in_one_result(
    project_home: Path, ledger: Ledger, instance: DagsterInstance
) -> None:
    inbox = project_home / "inbox"
    inbox.mkdir()
    (inbox / "a.yaml").write_text(HEALTHCARE_YAML)
    (inbox / "b.txt").write_text("Generate 3 retail transcripts with confused callers")
    (inbox / "c.json").write_text('{"count": 2, "domain": "healthcare", "colour": "blue"}')
    (inbox / "d.yaml.tmp").write_text(HEALTHCARE_YAML)  # still being written: left alone
    (inbox / "e.txt").write_bytes(b"\xff\xfe\x00\x81 not text")
    SettingsStore(ledger.engine).set("intake.runs_per_node", "2")  # the one local node takes two runs

    result = tick(instance, ledger)

    runs = launched(result)
    assert [job for job, _, _ in runs] == ["generate_shard", "generate_shard"]
    shard_keys = [key for _, key, _ in runs]
    assert all(run_key == f"shard:{key}#1" for _, key, run_key in runs)
    (partitions,) = result.dynamic_partitions_requests
    assert partitions.partitions_def_name == "transcript_shards"
    assert sorted(partitions.partition_keys) == sorted(shard_keys)
    for request in result.run_requests:
        assert request.tags[PURPOSE_TAG] == f"shard:{request.partition_key}"
        assert request.tags[ATTEMPT_TAG] == "1"
        assert request.partition_key.startswith(request.tags[REQUEST_TAG])
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["a.yaml", "b.txt"]
    error = (inbox / "rejected" / "c.json.error.txt").read_text()
    assert "colour" in error and "unknown field" in error
    assert (inbox / "d.yaml.tmp").exists()
    assert "not a text file" in (inbox / "rejected" / "e.txt.error.txt").read_text()
    assert {r.status for r in ledger.list_requests()} == {"open"}
    cursor = json.loads(result.cursor)
    assert (cursor["inbox_accepted"], cursor["inbox_rejected"], cursor["launched"]) == (2, 2, 2)


def test_submit_command_queues_a_db_row_the_sensor_launches(
    project_home: Path, ledger: Ledger, instance: DagsterInstance, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cli = CliRunner().invoke(main, ["submit", "Generate 4 telecom transcripts", "--out", str(out), "--json"])
    assert cli.exit_code == 0, cli.output
    submitted = json.loads(cli.output)
    assert submitted["status"] == "submitted" and submitted["new"]
    request_id = submitted["request_id"]
    again = CliRunner().invoke(main, ["submit", "Generate 4 telecom transcripts", "--out", str(out)])
    assert "already known, status submitted" in again.output

    result = tick(instance, ledger)
    assert launched(result) == [("generate_shard", f"{request_id}-s0000", f"shard:{request_id}-s0000#1")]
    assert ledger.get_request(request_id).status == "open"
    assert len(ledger.shard_slots(f"{request_id}-s0000")) == 4  # 4 wanted / prior yield 1.0

    bad = CliRunner().invoke(main, ["submit", "Generate 4 transcripts about gardening"])
    assert bad.exit_code == 2 and "domain" in bad.output


def test_run_keys_are_idempotent_across_ticks_and_failed_runs_retry(
    project_home: Path, ledger: Ledger, instance: DagsterInstance
) -> None:
    CliRunner().invoke(main, ["submit", "Generate 4 telecom transcripts"])
    first = tick(instance, ledger)
    add_partitions(instance, first)
    (request,) = first.run_requests

    # The daemon has not created the run yet: the next tick waits instead of planning or launching again.
    second = tick(instance, ledger, first.cursor)
    assert not second.run_requests
    assert "its run is on its way" in second.skip_reason.skip_message
    # Long after (the daemon crashed before launching): the same run key again, so Dagster launches it once.
    with ledger.engine.begin() as conn:
        conn.execute(update(shards).values(created_at=datetime(2000, 1, 1, tzinfo=UTC)))
    orphan = tick(instance, ledger, second.cursor)
    assert launched(orphan) == launched(first)
    assert orphan.dynamic_partitions_requests == []  # the partition exists already

    record_run(instance, request, DagsterRunStatus.STARTED)
    running = tick(instance, ledger, orphan.cursor)
    assert "running (run" in running.skip_reason.skip_message

    # The run fails: retried under attempt 2, then 3; after max_shard_attempts (3) the request stops.
    instance.delete_run(instance.get_runs()[0].run_id)
    record_run(instance, request, DagsterRunStatus.FAILURE)
    retry = tick(instance, ledger)
    assert [k for _, _, k in launched(retry)] == [request.run_key.replace("#1", "#2")]
    assert retry.run_requests[0].tags[ATTEMPT_TAG] == "2"
    record_run(instance, retry.run_requests[0], DagsterRunStatus.FAILURE)
    record_run(instance, tick(instance, ledger).run_requests[0], DagsterRunStatus.FAILURE)
    stopped = tick(instance, ledger)
    assert not stopped.run_requests
    row = ledger.list_requests()[0]
    assert row.status == "failed" and "max_shard_attempts=3" in row.status_reason


def test_per_tick_cap_and_pool_capacity_hot_reloaded(
    project_home: Path, ledger: Ledger, instance: DagsterInstance
) -> None:
    for domain in ("healthcare", "retail", "telecom"):
        CliRunner().invoke(main, ["submit", f"Generate 4 {domain} transcripts"])
    store = SettingsStore(ledger.engine)
    # One configured node (the embedded "local") x 1 run per node: one shard run at a time.
    capped = tick(instance, ledger)
    assert len(capped.run_requests) == 1
    store.set("intake.runs_per_node", "5")
    store.set("intake.max_runs_per_tick", "1")
    assert len(tick(instance, ledger).run_requests) == 1  # the next request, cut by the tick cap
    store.set("intake.max_runs_per_tick", "10")  # picked up on the next tick, no restart
    third = tick(instance, ledger)
    assert len(third.run_requests) == 1  # the last submitted request
    assert {r.status for r in ledger.list_requests()} == {"open"}

    NodeControls(ledger.engine).set(
        "local", paused=True, reason="CPU 97 °C >= cpu_critical_c 95", source="thermal_guard"
    )
    CliRunner().invoke(main, ["submit", "Generate 9 retail transcripts"])
    paused = tick(instance, ledger)
    assert not paused.run_requests
    message = paused.skip_reason.skip_message
    assert "waits: no free pool capacity" in message
    assert "local paused (thermal_guard: CPU 97 °C" in message
    assert sum(r.status == "submitted" for r in ledger.list_requests()) == 1


def test_open_request_gets_next_shard_library_and_export(
    project_home: Path, ledger: Ledger, instance: DagsterInstance
) -> None:
    CliRunner().invoke(main, ["submit", "Generate 4 retail transcripts"])
    first = tick(instance, ledger)
    add_partitions(instance, first)
    (shard_run,) = first.run_requests
    request_id = shard_run.tags[REQUEST_TAG]
    finish_shard(ledger, shard_run.partition_key, passed=2)  # 2 of 5 pass: not enough
    record_run(instance, shard_run, DagsterRunStatus.SUCCESS)

    second = tick(instance, ledger)
    (next_shard,) = second.run_requests
    assert next_shard.partition_key == f"{request_id}-s0001"
    finish_shard(ledger, next_shard.partition_key, passed=len(ledger.shard_slots(next_shard.partition_key)))
    record_run(instance, next_shard, DagsterRunStatus.SUCCESS)

    library = tick(instance, ledger)
    (fold,) = library.run_requests
    assert fold.job_name == "build_library" and fold.run_key.startswith(f"library:{request_id}:")
    for n, slot in enumerate(ledger.passed_slots()):
        ledger.record_accepted(slot.slot_id, f"h{n}", n)
    record_run(instance, fold, DagsterRunStatus.SUCCESS)

    export = tick(instance, ledger)
    (export_run,) = export.run_requests
    assert (export_run.job_name, export_run.partition_key) == ("export_request", request_id)
    assert [k.to_user_string() for k in export_run.asset_selection] == [
        "custom_json_export",
        "dataset_report",
    ]
    assert [(p.partitions_def_name, list(p.partition_keys)) for p in export.dynamic_partitions_requests] == [
        ("transcript_requests", [request_id])
    ]
    assert ledger.get_request(request_id).status == "open"  # until its export succeeded
    record_run(instance, export_run, DagsterRunStatus.SUCCESS)

    done = tick(instance, ledger)
    assert not done.run_requests and "fulfilled" in done.skip_reason.skip_message
    assert ledger.get_request(request_id).status == "fulfilled"
    idle = tick(instance, ledger)
    assert "no new requests" in idle.skip_reason.skip_message


@pytest.mark.postgres
def test_intake_on_postgres(
    project_home: Path, postgres_url: str, instance: DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRANSCRIPTS_STATE_URL", postgres_url)
    ledger = Ledger(url=postgres_url)
    inbox = project_home / "inbox"
    inbox.mkdir()
    (inbox / "a.yaml").write_text(HEALTHCARE_YAML)
    assert CliRunner().invoke(main, ["submit", "Generate 3 retail transcripts"]).exit_code == 0
    SettingsStore(ledger.engine).set("intake.runs_per_node", "2")
    first = tick(instance, ledger)
    assert sorted(r.run_key for r in first.run_requests) == sorted(
        f"shard:{r.partition_key}#1" for r in first.run_requests
    )
    assert len(first.run_requests) == 2
    add_partitions(instance, first)
    second = tick(instance, ledger, first.cursor)
    assert not second.run_requests and second.skip_reason.skip_message.count("on its way") == 2
    assert {r.status for r in ledger.list_requests()} == {"open"}
    ledger.dispose()
