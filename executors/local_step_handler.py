"""Local mode: each step runs as a ``dagster api execute_step`` subprocess pinned to its node.

The subprocess inherits the run worker's environment plus ``TRANSCRIPTS_PINNED_NODE``, so the node pool
inside it uses only the chosen node. Its pid is written to the event log (an engine event) so a resumed run
worker can still check on it or stop it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import psutil
from dagster import MetadataValue
from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
from dagster._core.executor.step_delegating import (
    CheckStepHealthResult,
    StepHandler,
    StepHandlerContext,
)
from dagster._grpc.types import ExecuteStepArgs

from executors.step_placement import NoEligibleNode
from executors.step_router import PlacementKey, StepRouter, placement_key, report_unplaceable_step
from transcript_foundry.pool.node_choice import PINNED_NODE_ENV

WORKER_PID_KEY = "worker_pid"
TERMINATE_GRACE_SECONDS = 10.0
_FINISHED = {DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_UP_FOR_RETRY}


def exit_description(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def step_worker_command(args: ExecuteStepArgs) -> list[str]:
    """``dagster api execute_step`` run by the code location's own Python (a bare ``dagster`` entry point
    would depend on PATH, which a virtualenv that is not activated lacks)."""
    argv = list(args.get_command_args(skip_serialized_namedtuple=True))
    if argv[0] == "dagster":
        argv[:1] = [args.job_origin.executable_path or sys.executable, "-m", "dagster"]
    return argv


class LocalStepHandler(StepHandler):
    def __init__(self, router: StepRouter):
        self._router = router
        self._workers: dict[PlacementKey, subprocess.Popen[bytes]] = {}

    @property
    def name(self) -> str:
        return "NodeRoutingLocalStepHandler"

    def launch_step(self, step_handler_context: StepHandlerContext) -> Iterator[DagsterEvent]:
        key = placement_key(step_handler_context)
        step_key = key[1]
        try:
            placement = self._router.place(step_handler_context)
        except NoEligibleNode:
            yield from report_unplaceable_step(step_handler_context)
            return
        step_context = step_handler_context.get_step_context(step_key)
        yield DagsterEvent.step_worker_starting(
            step_context, message=f"Launching {placement.describe()}", metadata=placement.metadata()
        )
        args = step_handler_context.execute_step_args
        env = dict(os.environ)
        env.update({e["name"]: e["value"] for e in args.get_command_env()})
        env[PINNED_NODE_ENV] = placement.node.node_id
        worker = subprocess.Popen(step_worker_command(args), env=env)
        self._workers[key] = worker
        yield DagsterEvent.engine_event(
            step_context,
            f"Step worker pid {worker.pid} runs {step_key} pinned to node {placement.node.node_id}",
            EngineEventData(
                metadata={
                    WORKER_PID_KEY: MetadataValue.int(worker.pid),
                    "node": MetadataValue.text(placement.node.node_id),
                }
            ),
        )

    def check_step_health(self, step_handler_context: StepHandlerContext) -> CheckStepHealthResult:
        key = placement_key(step_handler_context)
        worker = self._workers.get(key)
        if worker is not None:
            returncode = worker.poll()
            if returncode is None or returncode == 0:
                return CheckStepHealthResult.healthy()  # success or failure comes from the event log
            problem = f"step worker pid {worker.pid} {exit_description(returncode)}"
        else:
            pid = self._logged_worker_pid(step_handler_context, key[1])
            if pid is None:
                return CheckStepHealthResult.unhealthy(f"no step worker was launched for step {key[1]}")
            if psutil.pid_exists(pid):
                return CheckStepHealthResult.healthy()
            problem = f"step worker pid {pid} is no longer running"
        if self._step_finished(step_handler_context, key[1], key[2]):
            return CheckStepHealthResult.healthy()  # it reported its outcome before exiting
        placement = self._router.known_placement(step_handler_context)
        where = f" on node {placement.node.node_id}" if placement else ""
        return CheckStepHealthResult.unhealthy(f"{problem}{where} before reporting a result")

    def terminate_step(self, step_handler_context: StepHandlerContext) -> Iterator[DagsterEvent]:
        key = placement_key(step_handler_context)
        step_key = key[1]
        worker = self._workers.get(key)
        pid = worker.pid if worker else self._logged_worker_pid(step_handler_context, step_key)
        if pid is None:
            return
        yield DagsterEvent.engine_event(
            step_handler_context.get_step_context(step_key),
            f"Terminating step worker pid {pid} of step {step_key}",
            EngineEventData(metadata={WORKER_PID_KEY: MetadataValue.int(pid)}),
        )
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(TERMINATE_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            return
        try:
            process = psutil.Process(pid)
            process.terminate()
            process.wait(TERMINATE_GRACE_SECONDS)
        except psutil.TimeoutExpired:
            process.kill()
        except psutil.NoSuchProcess:
            pass

    @staticmethod
    def _logged_worker_pid(context: StepHandlerContext, step_key: str) -> int | None:
        """The pid the launch recorded, for a run worker that resumed without its own process table."""
        pid = None
        for entry in context.instance.all_logs(
            context.execute_step_args.run_id, of_type=DagsterEventType.ENGINE_EVENT
        ):
            event = entry.dagster_event
            if event is None or event.step_key != step_key:
                continue
            value = event.engine_event_data.metadata.get(WORKER_PID_KEY)
            if value is not None:
                pid = int(value.value)  # the newest launch wins
        return pid

    @staticmethod
    def _step_finished(context: StepHandlerContext, step_key: str, attempt: int) -> bool:
        """Whether this attempt of the step logged its outcome (each attempt ends in one such event)."""
        entries = context.instance.all_logs(context.execute_step_args.run_id, of_type=_FINISHED)
        outcomes = sum(
            1 for e in entries if e.dagster_event is not None and e.dagster_event.step_key == step_key
        )
        return outcomes > attempt
