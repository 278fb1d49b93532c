"""The ``node_control`` job: pause, resume, drain or re-weight an LLM node from the Launchpad, no shell.

Its typed run config (``NodeControlConfig``) names the node, the action, who is acting and why (and the
weight for ``reweight``); the Launchpad shows the fields with their descriptions and the action as a choice.
The op writes the operator's restriction of the node (``node_restrictions``, source ``operator``) beside the
sensors' own, so the thermal_guard and activity sensors never lift it, and the pool reads the combined
control at its next refresh. Every change is a row in ``node_events`` whose reason names the operator and
the run (``transcripts nodes`` and the fleet view show it).

- ``pause``: no new work at once; calls in flight finish.
- ``drain``: the same restriction, then the run waits until the node reports nothing in flight (or
  ``drain_timeout_s`` passes) and records a ``drained`` event: when the run succeeds, the node is idle.
- ``resume``: lifts the operator's restriction (a sensor's stays).
- ``reweight``: sets the node's score multiplier (0 < weight <= 1) over its nodes.yaml weight; ``weight``
  absent with ``reweight``: back to the nodes.yaml weight.
"""

import time
from enum import StrEnum
from typing import Any

from dagster import Config, OpExecutionContext, Output, ResourceParam, in_process_executor, job, op
from pydantic import Field

from resources.ledger import Ledger
from sensors.node_guard import restrict
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_restrictions import Restriction

OPERATOR_SOURCE = "operator"


class NodeAction(StrEnum):
    pause = "pause"
    resume = "resume"
    drain = "drain"
    reweight = "reweight"


class NodeControlConfig(Config):
    node_id: str = Field(description="The node to control, as `transcripts nodes` lists it.")
    action: NodeAction = Field(description="pause | resume | drain | reweight")
    operator: str = Field(description="Who is acting (name or e-mail): recorded in the node's events.")
    reason: str = Field(default="", description="Why, for the node's events.")
    weight: float | None = Field(
        default=None,
        description="reweight only: the node's score multiplier, 0 < weight <= 1; empty: nodes.yaml's.",
    )
    drain_timeout_s: float = Field(default=600.0, gt=0, description="drain only: how long to wait for idle.")
    poll_s: float = Field(default=2.0, gt=0, description="drain only: how often to look at the node.")


class NodeControlError(ValueError):
    """The run config names something that cannot be done; the message names the field and the fix."""


def _busy(pool: Any, node_id: str) -> int:
    """Calls in flight on the node: its agent's heartbeat or its server's /metrics, whichever says more."""
    pool.refresh(force=True, probe_servers=True)
    runtime = pool.runtime(node_id)
    live = runtime.live.in_flight if runtime.live else 0
    server = runtime.signals.running if runtime.signals and runtime.signals.running else 0
    return max(live, server, runtime.in_flight)


def check_config(config: NodeControlConfig, known: list[str]) -> None:
    if config.node_id not in known:
        raise NodeControlError(
            f"node_id {config.node_id!r} is not a known node; known: {', '.join(sorted(known)) or 'none'} "
            "(`transcripts nodes` lists them)"
        )
    if not config.operator.strip():
        raise NodeControlError("operator is empty: say who is acting (a name or an e-mail address)")
    if config.weight is not None and config.action != NodeAction.reweight:
        raise NodeControlError(
            f"weight is only for action reweight, not {config.action.value}: leave it empty"
        )
    if config.weight is not None and not 0.0 < config.weight <= 1.0:
        raise NodeControlError(
            f"weight {config.weight} is out of range: give 0 < weight <= 1 (1 = full share)"
        )


@op(
    description="Pause, resume, drain or re-weight one LLM node; recorded in its node events with who did it."
)
def control_node(
    context: OpExecutionContext, config: NodeControlConfig, ledger: Ledger, llm_pool: ResourceParam[Any]
) -> Output[str]:
    check_config(config, [spec.id for spec in llm_pool.node_specs()])
    who = config.operator.strip()
    why = f"{config.action.value} by {who} (run {context.run_id[:8]})" + (
        f": {config.reason}" if config.reason else ""
    )
    controls = NodeControls(ledger.engine)
    if config.action == NodeAction.reweight:
        controls.set_weight(config.node_id, config.weight, source=OPERATOR_SOURCE, reason=why)
        done = f"{config.node_id}: weight {config.weight if config.weight is not None else 'from nodes.yaml'}"
    else:
        state = "normal" if config.action == NodeAction.resume else "paused"
        change = restrict(ledger.engine, Restriction(config.node_id, OPERATOR_SOURCE, state, 1.0, why))
        done = change or f"{config.node_id}: already {controls.get(config.node_id).state} ({why})"
    context.log.info(done)
    if config.action == NodeAction.drain:
        deadline = time.monotonic() + config.drain_timeout_s
        while (busy := _busy(llm_pool, config.node_id)) and time.monotonic() < deadline:
            context.log.info(f"{config.node_id}: {busy} call(s) in flight, waiting")
            time.sleep(config.poll_s)
        if busy:
            raise NodeControlError(
                f"{config.node_id} still has {busy} call(s) in flight after drain_timeout_s "
                f"{config.drain_timeout_s:g}: it takes no new work; run the drain again or raise drain_timeout_s"
            )
        controls.record_event(
            config.node_id, source=OPERATOR_SOURCE, from_state="paused", to_state="drained", reason=why
        )
        done += "; drained: nothing in flight"
    control = controls.get(config.node_id)
    return Output(
        done,
        metadata={
            "node": config.node_id,
            "action": config.action.value,
            "operator": who,
            "state": control.state,
            "reason": control.reason or "",
        },
    )


@job(
    executor_def=in_process_executor,
    description="Pause, resume, drain or re-weight an LLM node (Launchpad: node_id, action, operator, reason).",
    tags={"transcripts/purpose": "node_control"},
)
def node_control() -> None:
    control_node()
