"""End to end: dagster-daemon with the project, a request file in the inbox, runs through node_routing.

The daemon (default run launcher, a queued run coordinator that dequeues every second) evaluates the
project's request_intake sensor, which turns the dropped request into shard runs and a library fold; the
runs execute through the node_routing executor (each step a subprocess pinned to the embedded node) until
the ledger holds the accepted transcripts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from resources.ledger import Ledger
from tests.support.dagster_processes import Daemon

REQUEST = "Generate 2 healthcare transcripts with 6 to 8 turns, quality above 70%\n"
# About 2 minutes on an idle 2-core machine (one shard run of 2 conversations, then the library fold after
# the sensor's next 30 s tick); the deadline only guards against a hang on a busy one.
DEADLINE_S = 540.0
DAGSTER_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 2
    dequeue_interval_seconds: 1
"""


@pytest.fixture
def daemon(project_home: Path, embedded_model_path: Path, tmp_path: Path) -> Iterator[Daemon]:
    (project_home / "dagster_home" / "dagster.yaml").write_text(DAGSTER_YAML)
    inbox = project_home / "inbox"
    inbox.mkdir()
    (inbox / "two-healthcare.txt").write_text(REQUEST)
    DagsterInstance.get().dispose()  # create the instance's SQLite storage before two processes race to
    running = Daemon(
        project_home,
        tmp_path / "daemon.log",
        env={
            # One llama.cpp thread: with more threads than free cores its spin-waits collapse throughput.
            "TRANSCRIPTS_THREADS": "1",
            "TRANSCRIPTS__INTAKE__SHARD_SIZE": "2",  # settings' environment layer: 2 slots per shard
        },
    )
    yield running
    running.stop()


def run_failures(instance: DagsterInstance, run_id: str) -> str:
    messages = [
        e.dagster_event.event_specific_data.error.to_string()  # type: ignore[union-attr]
        for e in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
        if e.dagster_event is not None
    ]
    return "\n".join(messages) or "(no step failure recorded)"


def wait_for_accepted(daemon: Daemon, ledger: Ledger, instance: DagsterInstance, want: int) -> str:
    """The request id once ``want`` transcripts are accepted; fails fast on a failed run or a dead daemon."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            pytest.fail(f"dagster-daemon exited with {daemon.process.returncode}:\n{daemon.tail()}")
        failed = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
        if failed:
            run = failed[0]
            pytest.fail(f"run {run.run_id} ({run.job_name}) failed:\n{run_failures(instance, run.run_id)}")
        requests = ledger.list_requests()
        if requests and len(ledger.accepted_slots(requests[0].request_id)) >= want:
            return requests[0].request_id
        time.sleep(2)
    runs = [(r.job_name, r.status.value) for r in instance.get_runs()]
    pytest.fail(f"no {want} accepted transcripts within {DEADLINE_S:.0f} s; runs: {runs}\n{daemon.tail()}")


@pytest.mark.slow
@pytest.mark.timeout(660)
def test_a_dropped_request_is_generated_by_sensor_runs_through_the_node_routing_executor(
    daemon: Daemon, project_home: Path
) -> None:
    instance = DagsterInstance.get()
    ledger = Ledger(url=f"sqlite:///{project_home / 'state.db'}")
    request_id = wait_for_accepted(daemon, ledger, instance, want=2)

    assert (project_home / "inbox" / "processed" / "two-healthcare.txt").exists()
    assert ledger.get_request(request_id).count == 2
    runs = instance.get_runs(RunsFilter(tags={"dagster/sensor_name": "request_intake"}))
    shard_runs = [r for r in runs if r.job_name == "generate_shard"]
    assert shard_runs and {r.job_name for r in runs} >= {"generate_shard", "build_library"}
    for run in shard_runs:
        if run.status != DagsterRunStatus.SUCCESS:
            continue
        logs = instance.all_logs(run.run_id)
        messages = [e.dagster_event.message or "" for e in logs if e.dagster_event is not None]
        assert "Starting execution with step handler NodeRoutingLocalStepHandler." in messages
        starting = {
            e.dagster_event.step_key: e.dagster_event.engine_event_data.metadata
            for e in logs
            if e.dagster_event is not None
            and e.dagster_event.event_type == DagsterEventType.STEP_WORKER_STARTING
        }
        assert set(starting) == {"raw_transcripts", "scrubbed_transcripts", "scored_transcripts"}
        assert starting["raw_transcripts"]["node"].value == "local"  # the embedded node, the only one
        assert "a 2048-token context" in starting["raw_transcripts"]["requirements"].value
