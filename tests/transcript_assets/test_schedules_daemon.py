"""The schedules on the real webserver and daemon: listed on the Automation page (GraphQL) with the times the
settings give them, and one of them, due every minute, launched by dagster-daemon and run to success."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from tests.support.dagster_processes import Daemon, DagsterWebserver
from tests.transcript_assets.test_schedules import _segment
from transcript_assets.cli.main import main
from transcript_foundry.settings.environment import project_paths

DAGSTER_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""
# The automation page's query, trimmed to what the test reads.
SCHEDULES = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes { schedules { name cronSchedule executionTimezone pipelineName scheduleState { status } } }
    }
  }
}
"""
DEADLINE_S = 240.0  # the next minute boundary, a tick, a run; the rest guards against a busy machine


def config_set(key: str, value: str) -> None:
    result = CliRunner().invoke(main, ["config", "set", key, value])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_schedules_show_on_the_automation_page_and_the_daemon_runs_one(
    project_home: Path, tmp_path: Path
) -> None:
    (project_home / "dagster_home" / "dagster.yaml").write_text(DAGSTER_YAML)
    config_set("schedules.top_up_cron", "45 23 * * *")
    config_set("schedules.timezone", "Europe/Berlin")
    config_set("schedules.compaction_cron", "* * * * *")  # due every minute: the daemon launches it now
    index = project_paths().store_dir / "dedup_index"
    _segment(index, 0, 2)
    _segment(index, 2, 2)
    DagsterInstance.get().dispose()  # create the instance's storage before two processes race to

    webserver = DagsterWebserver(project_home, tmp_path / "webserver.log")
    try:
        nodes = webserver.graphql(SCHEDULES)["repositoriesOrError"]["nodes"]
    finally:
        webserver.stop()
    shown = {s["name"]: s for node in nodes for s in node["schedules"]}
    assert set(shown) == {
        "standing_requests_top_up",
        "library_compaction",
        "report_refresh",
        "retention_cleanup",
    }
    top_up = shown["standing_requests_top_up"]
    assert (top_up["cronSchedule"], top_up["executionTimezone"]) == ("45 23 * * *", "Europe/Berlin")
    assert top_up["pipelineName"] == "top_up_standing_requests"
    assert {s["scheduleState"]["status"] for s in shown.values()} == {"RUNNING"}
    assert shown["library_compaction"]["cronSchedule"] == "* * * * *"

    daemon = Daemon(project_home, tmp_path / "daemon.log")
    try:
        instance = DagsterInstance.get()
        deadline = time.monotonic() + DEADLINE_S
        runs = []
        while time.monotonic() < deadline and not runs:
            if daemon.process.poll() is not None:
                pytest.fail(f"dagster-daemon exited with {daemon.process.returncode}:\n{daemon.tail()}")
            runs = instance.get_runs(
                RunsFilter(
                    tags={"dagster/schedule_name": "library_compaction"},
                    statuses=[DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE],
                )
            )
            time.sleep(2)
        assert runs, f"no library_compaction run finished within {DEADLINE_S:.0f} s:\n{daemon.tail()}"
        assert runs[-1].status == DagsterRunStatus.SUCCESS, daemon.tail()
    finally:
        daemon.stop()
    assert [p.name for p in index.glob("seg-*")] == ["seg-0000000000"]
