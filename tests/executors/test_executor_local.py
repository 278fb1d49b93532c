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

import psutil
import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, execute_job, reconstructable

from resources.node_pool import NodePool
from tests.support import executor_jobs
from tests.support.executor_fleet import install_fleet
from transcript_foundry.pool.node_choice import StepRequirements
from transcript_foundry.pool.node_controls import NodeControls

ROOT = Path(__file__).resolve().parents[2]
FAST = {"execution": {"config": {"poll_interval_seconds": 0.2, "health_check_interval_seconds": 1}}}


@pytest.fixture
def controls(project_home: Path, monkeypatch: pytest.MonkeyPatch) -> NodeControls:
    engine = install_fleet(project_home, monkeypatch)
    # Step subprocesses import executor_jobs by module name, as pytest did.
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path)
    return NodeControls(engine)


def pool_ranking(requirements: StepRequirements) -> list[Any]:
    """What the pool itself ranks, for comparison with what the executor chose."""
    pool = NodePool(
        nodes_file=os.environ["TRANSCRIPTS_NODES_FILE"], state_url=os.environ["TRANSCRIPTS_STATE_URL"]
    )
    return pool.rank_nodes(requirements)


def step_events(instance: DagsterInstance, run_id: str, event_type: DagsterEventType) -> dict[str, Any]:
    return {
        e.dagster_event.step_key: e.dagster_event
        for e in instance.all_logs(run_id, of_type=event_type)
        if e.dagster_event is not None
    }


@pytest.mark.slow
def test_each_step_runs_pinned_to_the_node_the_pool_ranks_best(controls: NodeControls) -> None:
    instance = DagsterInstance.get()
    with execute_job(reconstructable(executor_jobs.routed_job), instance, run_config=FAST) as result:
        assert result.success
        chat = result.output_for_node("needs_chat")
        gpu = result.output_for_node("needs_gpu")
    # needs_chat: "plain" is fastest but lacks chat_json; gpu-fast outscores chat and gpu-slow.
    best_chat = pool_ranking(StepRequirements(capabilities=("chat_json",)))[0]
    assert best_chat.node_id == "gpu-fast"
    assert chat["pinned"] == "gpu-fast"
    assert chat["pool_nodes"] == ["gpu-fast"]  # the pool inside the step process used only that node
    assert gpu["pinned"] == "gpu-fast" and gpu["pool_nodes"] == ["gpu-fast"]
    assert len({os.getpid(), chat["pid"], gpu["pid"]}) == 3  # each step in its own process

    starting = step_events(instance, result.run_id, DagsterEventType.STEP_WORKER_STARTING)
    meta = starting["needs_chat"].engine_event_data.metadata
    assert meta["node"].value == "gpu-fast"
    assert meta["score"].value == pytest.approx(best_chat.score)
    assert meta["score_components"].value == pytest.approx(best_chat.components)
    assert set(meta["score_components"].value) == {"thermal", "queue", "capability", "history"}
    assert meta["kubernetes_node"].value == "k8s-gpu-1"
    assert meta["node_state"].value["circuit"] == "closed"
    assert "capabilities chat_json" in meta["requirements"].value
    assert "| plain | 0.000 | no | lacks capability chat_json |" in meta["ranking"].value
    assert "step needs_chat → node gpu-fast" in starting["needs_chat"].message


@pytest.mark.slow
def test_a_paused_node_loses_its_steps_to_the_next_best(controls: NodeControls) -> None:
    controls.set("gpu-fast", paused=True, reason="GPU 93 C", source="thermal_guard")
    instance = DagsterInstance.get()
    with execute_job(reconstructable(executor_jobs.routed_job), instance, run_config=FAST) as result:
        assert result.success
        chat = result.output_for_node("needs_chat")
        gpu = result.output_for_node("needs_gpu")
    assert (chat["pinned"], chat["pool_nodes"]) == ("chat", ["chat"])
    assert (gpu["pinned"], gpu["pool_nodes"]) == ("gpu-slow", ["gpu-slow"])
    ranking = step_events(instance, result.run_id, DagsterEventType.STEP_WORKER_STARTING)["needs_gpu"]
    assert "| gpu-fast | 0.000 | no | paused by thermal_guard: GPU 93 C |" in (
        ranking.engine_event_data.metadata["ranking"].value
    )


def test_a_step_no_node_can_take_fails_alone_with_every_reason(controls: NodeControls) -> None:
    for node_id in ("chat", "gpu-fast", "gpu-slow"):
        controls.set(node_id, paused=True, reason="someone is gaming", source="activity")
    instance = DagsterInstance.get()
    with execute_job(reconstructable(executor_jobs.routed_job), instance, run_config=FAST) as result:
        assert not result.success
        failure = step_events(instance, result.run_id, DagsterEventType.STEP_FAILURE)["needs_chat"]
    message = failure.step_failure_data.error.message
    assert "step 'needs_chat' needs capabilities chat_json, and no node can run it now" in message
    assert "plain: lacks capability chat_json" in message
    assert "gpu-fast: paused by activity: someone is gaming" in message
    assert not step_events(instance, result.run_id, DagsterEventType.STEP_WORKER_STARTING)  # nothing launched


def test_an_unplaceable_step_with_a_retry_policy_is_retried_before_it_fails(controls: NodeControls) -> None:
    instance = DagsterInstance.get()
    with execute_job(reconstructable(executor_jobs.unplaceable_job), instance, run_config=FAST) as result:
        assert not result.success
    kinds = [
        e.dagster_event.event_type
        for e in instance.all_logs(result.run_id)
        if e.dagster_event is not None and e.dagster_event.step_key == "needs_what_no_node_has"
    ]
    assert (
        kinds.count(DagsterEventType.STEP_UP_FOR_RETRY) == 1
        and kinds.count(DagsterEventType.STEP_FAILURE) == 1
    )
    assert kinds.index(DagsterEventType.STEP_UP_FOR_RETRY) < kinds.index(DagsterEventType.STEP_FAILURE)
    assert DagsterEventType.STEP_WORKER_STARTING not in kinds
    failure = step_events(instance, result.run_id, DagsterEventType.STEP_FAILURE)["needs_what_no_node_has"]
    assert "lacks capability telepathy" in failure.step_failure_data.error.message


@pytest.mark.slow
def test_a_killed_step_worker_fails_its_health_check(controls: NodeControls) -> None:
    instance = DagsterInstance.get()
    with execute_job(reconstructable(executor_jobs.killed_job), instance, run_config=FAST) as result:
        assert not result.success
        failure = step_events(instance, result.run_id, DagsterEventType.STEP_FAILURE)["killed_by_the_kernel"]
    message = failure.step_failure_data.error.message
    assert "failed health check" in message
    best = pool_ranking(StepRequirements())[0].node_id
    assert f"was killed by SIGKILL on node {best} before reporting a result" in message


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
def test_interrupting_the_run_terminates_the_step_worker(controls: NodeControls, tmp_path: Path) -> None:
    """`dagster job execute` with the executor; SIGINT to it must reach the running step's subprocess."""
    log_path = tmp_path / "job.log"
    log = log_path.open("w")
    runner = subprocess.Popen(
        [sys.executable, "-m", "dagster", "job", "execute", "-f", str(ROOT / "tests" / "support" / "executor_jobs.py"),
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
