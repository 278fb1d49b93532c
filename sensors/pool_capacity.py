"""How many more shard runs the node pool can take now: routable nodes x runs per node - runs in flight.

A paused node (thermal_guard, activity, an operator) counts 0; a throttled one ``runs_per_node`` x its
throttle factor, at least 1. Nodes are the pool's configured nodes plus agents with a fresh heartbeat.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dagster import DagsterInstance
from sqlalchemy import Engine

from sensors.pool_nodes import PoolNodes
from sensors.request_planner import GENERATE_SHARD_JOB
from sensors.run_history import active_runs
from transcript_foundry.pool.node_controls import NodeControl, NodeControls
from transcript_foundry.pool.node_registry import NodeRegistry


@dataclass(frozen=True)
class PoolCapacity:
    slots: int
    active_runs: int
    why: str  # e.g. "2 node(s): local paused (thermal_guard: CPU 96 °C); gpu-a 1 slot"

    @property
    def free(self) -> int:
        return max(0, self.slots - self.active_runs)


def pool_capacity(
    node_ids: Iterable[str], controls: dict[str, NodeControl], runs_per_node: int, active_runs: int
) -> PoolCapacity:
    slots, parts = 0, []
    ids = sorted(set(node_ids))
    for node_id in ids:
        control = controls.get(node_id, NodeControl(node_id))
        if control.paused:
            parts.append(f"{node_id} paused ({control.source}: {control.reason})")
            continue
        n = max(1, int(runs_per_node * control.throttle_factor))
        slots += n
        parts.append(
            f"{node_id} {n} slot(s)" + (f" (throttled by {control.source})" if n < runs_per_node else "")
        )
    why = f"{len(ids)} node(s): " + "; ".join(parts) if ids else "no nodes configured or registered"
    return PoolCapacity(slots=slots, active_runs=active_runs, why=why)


def pool_node_ids(configured: Iterable[str], registered: Iterable[str]) -> list[str]:
    """The pool's configured nodes (NodePool.node_specs) and the agents whose heartbeat is fresh."""
    return sorted({*configured, *registered})


def shard_capacity(
    instance: DagsterInstance, engine: Engine, pool: PoolNodes, runs_per_node: int
) -> PoolCapacity:
    """The pool's capacity for shard runs now (``generate_shard`` runs queued or running count against it)."""
    registered = [n.spec.id for n in NodeRegistry(engine).fresh()]
    return pool_capacity(
        pool_node_ids([s.id for s in pool.node_specs()], registered),
        NodeControls(engine).all(),
        runs_per_node,
        active_runs(instance, GENERATE_SHARD_JOB),
    )
