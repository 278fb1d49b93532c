"""Placing steps on nodes: read a step's op tags, rank the nodes, keep the winner per step attempt.

Both step handlers (local subprocess, Kubernetes job) route through one ``StepRouter``. A placement is
decided once per (run, step, attempt) and kept, so health checks and termination talk about the node the
step was launched on; a retried step is ranked again, so a retry can land on another node.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import cast

from dagster._core.events import DagsterEvent, StepFailureData, StepRetryData
from dagster._core.executor.step_delegating import StepHandlerContext
from dagster._utils.error import serializable_error_info_from_exc_info

from executors.node_ranker import NodeRanker
from executors.step_placement import StepPlacement, choose_node
from transcript_foundry.pool.node_choice import StepRequirements

PlacementKey = tuple[str, str, int]  # (run_id, step_key, attempt)


def single_step_key(context: StepHandlerContext) -> str:
    keys = cast("list[str]", context.execute_step_args.step_keys_to_execute)
    if len(keys) != 1:
        raise ValueError(f"the node_routing executor launches one step at a time, got {keys}")
    return keys[0]


def step_attempt(context: StepHandlerContext, step_key: str) -> int:
    """0 for the first run of a step, n for its n-th retry."""
    known_state = context.execute_step_args.known_state
    return known_state.get_retry_state().get_attempt_count(step_key) if known_state else 0


def placement_key(context: StepHandlerContext) -> PlacementKey:
    step_key = single_step_key(context)
    return (context.execute_step_args.run_id, step_key, step_attempt(context, step_key))


class StepRouter:
    def __init__(self, ranker: NodeRanker):
        self._ranker = ranker
        self._placements: dict[PlacementKey, StepPlacement] = {}

    def place(self, context: StepHandlerContext) -> StepPlacement:
        """The step's placement, ranking the nodes the first time it is asked for this attempt."""
        key = placement_key(context)
        if key not in self._placements:
            run_id, step_key, attempt = key
            requirements = StepRequirements.from_tags(dict(context.step_tags[step_key]))
            ranking = self._ranker.rank(requirements)
            node = choose_node(step_key, requirements, ranking)
            self._placements[key] = StepPlacement(
                run_id=run_id,
                step_key=step_key,
                attempt=attempt,
                requirements=requirements,
                node=node,
                ranking=tuple(ranking),
            )
        return self._placements[key]

    def known_placement(self, context: StepHandlerContext) -> StepPlacement | None:
        return self._placements.get(placement_key(context))


def report_unplaceable_step(context: StepHandlerContext) -> Iterator[DagsterEvent]:
    """Fail (or, under the op's retry policy, retry later) a step no node can take; call in an except block.

    The step fails alone with the router's explanation instead of the whole run crashing, and a
    ``RetryPolicy`` with a delay lets it wait for a node to cool down or be resumed.
    """
    step_key = single_step_key(context)
    step_context = context.get_step_context(step_key)
    error = serializable_error_info_from_exc_info(sys.exc_info())
    policy = step_context.op_retry_policy
    attempts = step_attempt(context, step_key)
    if policy and not step_context.retry_mode.disabled and attempts < policy.max_retries:
        yield DagsterEvent.step_retry_event(
            step_context, StepRetryData(error=error, seconds_to_wait=policy.calculate_delay(attempts + 1))
        )
    else:
        yield DagsterEvent.step_failure_event(
            step_context=step_context, step_failure_data=StepFailureData(error=error, user_failure_data=None)
        )
