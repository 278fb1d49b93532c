"""The node_routing executor in local mode, through dagster.execute_job on a real DagsterInstance.

Each step runs as a real `dagster api execute_step` subprocess; the tests read what the subprocess saw
(its TRANSCRIPTS_PINNED_NODE and the nodes its pool used) and what the event log says about the choice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import executor_jobs
import psutil
import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, execute_job, reconstructable
from executor_jobs import FLEET_ENV

ROOT = Path(__file__).resolve().parents[1]

NODES = {
    "nodes": [
        {"id": "cpu-box", "backend": "openai_compatible", "url": "http://127.0.0.1:9/v1", "model": "m"},
        {"id": "chat-box", "backend": "openai_compatible", "url": "http://127.0.0.1:9/v1", "model": "m"},
        {"id": "gpu-hot", "backend": "openai_compatible", "url": "http://127.0.0.1:9/v1", "model": "m"},
        {"id": "gpu-cool", "backend": "openai_compatible", "url": "http://127.0.0.1:9/v1", "model": "m"},
    ]
}
FLEET = {
    "nodes": [
        {"id": "cpu-box", "score": 0.95, "capabilities": []},
        {"id": "chat-box", "score": 0.60, "capabilities": ["chat_json"]},
        {"id": "gpu-hot", "score": 0.20, "capabilities": ["chat_json"], "gpu": True},
        {"id": "gpu-cool", "score": 0.90, "capabilities": ["chat_json"], "gpu": True, "paused": False},
    ]
}
FAST = {"execution": {"config": {"poll_interval_seconds": 0.2, "health_check_interval_seconds": 1}}}


@pytest.fixture
def fleet(project_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    nodes_file = project_home / "nodes.yaml"
    nodes_file.write_text(yaml.safe_dump(NODES))
    monkeypatch.setenv("TRANSCRIPTS_NODES_FILE", str(nodes_file))
    monkeypatch.delenv("TRANSCRIPTS_PINNED_NODE", raising=False)
    # Step subprocesses import executor_jobs by module name, as pytest did.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(ROOT / "tests"), str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    fleet = {"nodes": [dict(n) for n in FLEET["nodes"]]}
    write_fleet(project_home, fleet, monkeypatch)
    return fleet


def write_fleet(home: Path, fleet: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    path = home / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet))
    monkeypatch.setenv(FLEET_ENV, str(path))


def step_events(instance: DagsterInstance, run_id: str, event_type: DagsterEventType) -> dict[str, Any]:
    return {
        e.dagster_event.step_key: e.dagster_event
        for e in instance.all_logs(run_id, of_type=event_type)
        if e.dagster_event is not None
    }


@pytest.mark.slow
def test_each_step_runs_pinned_to_the_best_eligible_node(fleet: dict[str, Any]) -> None:
    instance = DagsterInstance.get()
    with execute_job(reconstructable(executor_jobs.routed_job), instance, run_config=FAST) as result:
        assert result.success
        chat = result.output_for_node("needs_chat")
        gpu = result.output_for_node("needs_gpu")
    # needs_chat: cpu-box scores best but lacks chat_json; gpu-cool (0.90) beats chat-box (0.60).
    assert chat["pinned"] == "gpu-cool"
    assert chat["pool_nodes"] == ["gpu-cool"]  # the pool inside the step process used only that node
    # needs_gpu: only the GPU nodes qualify.
    assert gpu["pinned"] == "gpu-cool"
    assert chat["pid"] != os.getpid() and gpu["pid"] != chat["pid"]  # each step in its own process

    starting = step_events(instance, result.run_id, DagsterEventType.STEP_WORKER_STARTING)
    meta = starting["needs_chat"].engine_event_data.metadata
    assert meta["node"].value == "gpu-cool"
    assert meta["score"].value == pytest.approx(0.90)
    assert meta["score_components"].value == {"thermal": 0.90, "queue": 1.0}
    assert "capabilities chat_json" in meta["requirements"].value
    assert "| cpu-box | 0.950 | no | lacks chat_json |" in meta["ranking"].value
    assert "step needs_chat → node gpu-cool" in starting["needs_chat"].message


@pytest.mark.slow
def test_a_paused_node_loses_the_step_to_the_next_best(
    fleet: dict[str, Any], project_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet["nodes"][3]["paused"] = True  # gpu-cool
    write_fleet(project_home, fleet, monkeypatch)
    instance = DagsterInstance.get()
    with execute_job(reconstructable(executor_jobs.routed_job), instance, run_config=FAST) as result:
        assert result.success
        assert result.output_for_node("needs_chat")["pinned"] == "chat-box"
        gpu = result.output_for_node("needs_gpu")
    assert gpu == {**gpu, "pinned": "gpu-hot", "pool_nodes": ["gpu-hot"]}


def test_a_step_no_node_can_take_fails_with_every_reason(
    fleet: dict[str, Any], project_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for node in fleet["nodes"]:
        node["paused"] = node["id"] != "cpu-box"
    write_fleet(project_home, fleet, monkeypatch)
    instance = DagsterInstance.get()
    with execute_job(reconstructable(executor_jobs.routed_job), instance, run_config=FAST) as result:
        assert not result.success
        failure = step_events(instance, result.run_id, DagsterEventType.STEP_FAILURE)["needs_chat"]
    message = failure.step_failure_data.error.message
    assert "no node can run it now" in message
    assert "cpu-box: lacks chat_json" in message and "gpu-cool: paused" in message
    assert not step_events(instance, result.run_id, DagsterEventType.STEP_WORKER_STARTING)  # nothing launched


@pytest.mark.slow
def test_a_killed_step_worker_fails_its_health_check(fleet: dict[str, Any]) -> None:
    instance = DagsterInstance.get()
    with execute_job(reconstructable(executor_jobs.killed_job), instance, run_config=FAST) as result:
        assert not result.success
        failure = step_events(instance, result.run_id, DagsterEventType.STEP_FAILURE)["killed_by_the_kernel"]
    message = failure.step_failure_data.error.message
    assert "failed health check" in message
    assert "was killed by SIGKILL on node cpu-box before reporting a result" in message


def wait_for(predicate: Any, timeout: float, what: str, log: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")


@pytest.mark.slow
def test_interrupting_the_run_terminates_the_step_worker(fleet: dict[str, Any], tmp_path: Path) -> None:
    """`dagster job execute` with the executor; SIGINT to it must reach the running step's subprocess."""
    log_path = tmp_path / "job.log"
    log = log_path.open("w")
    runner = subprocess.Popen(
        [sys.executable, "-m", "dagster", "job", "execute", "-f", str(ROOT / "tests" / "executor_jobs.py"),
         "-j", "long_job", "-c", str(write_config(tmp_path))],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    instance = DagsterInstance.get()
    try:
        run = wait_for(lambda: instance.get_runs(limit=1), 60, "the run to be created", log_path)[0]
        pid_event = wait_for(
            lambda: [
                e
                for e in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT)
                if "worker_pid" in e.dagster_event.engine_event_data.metadata
            ],
            60,
            "the step worker to start",
            log_path,
        )[0]
        worker_pid = pid_event.dagster_event.engine_event_data.metadata["worker_pid"].value
        wait_for(
            lambda: any("long step running" in (e.user_message or "") for e in instance.all_logs(run.run_id)),
            60,
            "the step to run",
            log_path,
        )
        runner.send_signal(signal.SIGINT)
        runner.wait(60)
    finally:
        if runner.poll() is None:
            runner.kill()
        log.close()
    assert not psutil.pid_exists(worker_pid) or psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE
    messages = [e.message or "" for e in instance.all_logs(run.run_id) if e.dagster_event]
    assert any(
        f"Terminating step worker pid {worker_pid} of step runs_for_a_long_time" in m for m in messages
    )
    assert instance.get_run_by_id(run.run_id).status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "run_config.yaml"
    path.write_text(yaml.safe_dump(FAST))
    return path


def test_the_project_runs_its_jobs_on_the_node_routing_executor() -> None:
    from transcript_assets.definitions import defs
    from transcript_assets.generation_tags import GENERATION_OP_TAGS

    for name in ("generate_shard", "build_library", "export_request", "__ASSET_JOB"):
        assert defs.resolve_job_def(name).executor_def.name == "node_routing"
    shard_job = defs.resolve_job_def("generate_shard")
    assert shard_job.get_node_named("raw_transcripts").definition.tags == GENERATION_OP_TAGS
