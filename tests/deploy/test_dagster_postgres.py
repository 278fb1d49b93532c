"""The Postgres instance: tools/write-dagster-yaml.sh writes deploy/dagster.yaml.template into DAGSTER_HOME, a
real DagsterInstance loads from it, and a materialization's run and events land in Postgres (no SQLite).

Each test gets a database of its own on the test server (created and dropped here), so Dagster's tables
never meet another test's.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, asset, materialize
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from tests.support import pg_database

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "tools" / "write-dagster-yaml.sh"
PG_VARS = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")


@pytest.fixture
def fresh_database(postgres_base_url: str) -> Iterator[tuple[str, str]]:
    """A new, empty database on the test server: (base url, database name); dropped afterwards."""
    with pg_database.fresh_database(postgres_base_url) as name:
        yield postgres_base_url, name


@pytest.fixture
def pg_env(fresh_database: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """DAGSTER_PG_* for the fresh database, in this process's environment (Dagster reads them at load)."""
    env = pg_database.pg_env(*fresh_database)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def write_yaml(home: Path, *args: str, **limits: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in PG_VARS}
    env.update(limits, DAGSTER_HOME=str(home))
    return subprocess.run(
        ["bash", str(WRITER), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


@asset
def tiny_numbers() -> list[int]:
    return [1, 2, 3]


def test_instance_from_written_yaml_stores_runs_and_events_in_postgres(
    tmp_path: Path, fresh_database: tuple[str, str], pg_env: dict[str, str]
) -> None:
    home = tmp_path / "dagster_home"
    done = write_yaml(home, DAGSTER_MAX_CONCURRENT_RUNS="6", DAGSTER_RUNS_PER_REQUEST="3")
    assert done.returncode == 0, done.stderr
    # The note names every credential variable, since the writer ran without them.
    assert all(var in done.stderr for var in PG_VARS), done.stderr
    written = (home / "dagster.yaml").read_text()
    assert not re.search(r"@[A-Z_]+@", written)  # every placeholder filled
    assert "DAGSTER_PG_PASSWORD" in written and pg_env["DAGSTER_PG_DB"] not in written  # env:, not values

    instance = DagsterInstance.from_config(str(home))
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        coordinator = instance.run_coordinator
        assert isinstance(coordinator, QueuedRunCoordinator)
        assert coordinator.get_run_queue_config().max_concurrent_runs == 6
        limits = coordinator.get_run_queue_config().tag_concurrency_limits
        assert {
            "key": "transcripts/request",
            "value": {"applyLimitPerUniqueValue": True},
            "limit": 3,
        } in limits
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 60

        result = materialize([tiny_numbers], instance=instance)
        assert result.success
        run_ids = [run.run_id for run in instance.get_runs()]
        assert run_ids == [result.run_id]
        materializations = instance.fetch_materializations(AssetKey("tiny_numbers"), limit=10).records
        assert [m.run_id for m in materializations] == [result.run_id]
        successes = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.RUN_SUCCESS).records
        assert len(successes) == 1
    finally:
        instance.dispose()

    # The rows are in Postgres, in the fresh database, and nothing went to SQLite.
    url, name = fresh_database
    conn = pg_database.connect(url, dbname=name)
    try:
        with conn.cursor() as cur:
            cur.execute("select tablename from pg_tables where schemaname = 'public'")
            tables = {row[0] for row in cur.fetchall()}
            assert {"runs", "event_logs", "jobs", "job_ticks", "instigators"} <= tables, tables
            cur.execute("select run_id, status from runs")
            assert cur.fetchall() == [(result.run_id, "SUCCESS")]
            cur.execute(
                "select count(*) from event_logs where run_id = %s and dagster_event_type = %s",
                (result.run_id, "ASSET_MATERIALIZATION"),
            )
            assert cur.fetchone()[0] == 1
    finally:
        conn.close()
    sqlite_files = [p for p in home.rglob("*") if p.suffix in {".db", ".sqlite"}]
    assert sqlite_files == [], sqlite_files


def test_instance_names_the_missing_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dagster_home"
    assert write_yaml(home).returncode == 0
    for var in PG_VARS:
        monkeypatch.setenv(var, "x")
    monkeypatch.setenv("DAGSTER_PG_PORT", "5432")
    monkeypatch.delenv("DAGSTER_PG_HOST")
    with pytest.raises(Exception, match="DAGSTER_PG_HOST"):
        DagsterInstance.from_config(str(home))


def test_writer_defaults_refusals_and_force(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    done = write_yaml(home)
    assert done.returncode == 0, done.stderr
    text = (home / "dagster.yaml").read_text()
    assert "max_concurrent_runs: 8" in text and "limit: 4" in text and "start_timeout_seconds: 600" in text

    bad = write_yaml(home, DAGSTER_MAX_CONCURRENT_RUNS="0")
    assert bad.returncode == 2 and "DAGSTER_MAX_CONCURRENT_RUNS" in bad.stderr

    # Rewriting the same content is fine; different content needs --force, and the file is kept until then.
    assert write_yaml(home).returncode == 0
    kept = write_yaml(home, DAGSTER_MAX_CONCURRENT_RUNS="12")
    assert kept.returncode == 1 and "--force" in kept.stderr
    assert "max_concurrent_runs: 8" in (home / "dagster.yaml").read_text()
    forced = write_yaml(home, "--force", DAGSTER_MAX_CONCURRENT_RUNS="12")
    assert forced.returncode == 0, forced.stderr
    assert "max_concurrent_runs: 12" in (home / "dagster.yaml").read_text()
    assert not list(home.glob(".dagster.yaml.*"))  # no temporary file left behind

    unset = subprocess.run(
        ["bash", str(WRITER)],
        env={k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert unset.returncode == 2 and "DAGSTER_HOME" in unset.stderr
