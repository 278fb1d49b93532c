"""Where the node-routing executor gets its ranking of nodes for a step.

``NodeRanker`` is the small interface the executor depends on; ``PoolNodeRanker``, the default, asks the
job's ``llm_pool`` resource (the same ``NodePool`` the assets generate with) to ``rank_nodes``, so the
executor and the assets agree on which nodes exist and how they score.
"""

from __future__ import annotations

from typing import Protocol

from dagster import JobDefinition, ResourceDefinition, build_resources

from transcript_foundry.pool.node_choice import RankedNode, StepRequirements

POOL_RESOURCE_KEY = "llm_pool"


class NodeRanker(Protocol):
    def rank(self, requirements: StepRequirements) -> list[RankedNode]:
        """Every known node, best first and eligible ones before ineligible ones."""
        ...


class MissingPoolResource(ValueError):
    """The job the executor runs has no node pool resource to rank nodes with."""


class PoolNodeRanker:
    """Ranks nodes with the job's node pool resource, initialised fresh for each ranking."""

    def __init__(self, pool_resource: ResourceDefinition):
        self._pool_resource = pool_resource

    @classmethod
    def for_job(cls, job_def: JobDefinition, resource_key: str = POOL_RESOURCE_KEY) -> PoolNodeRanker:
        resource = job_def.resource_defs.get(resource_key)
        if resource is None:
            raise MissingPoolResource(
                f"the node_routing executor ranks nodes with the {resource_key!r} resource, but job "
                f"{job_def.name!r} has none: add the node pool to the Definitions' resources as {resource_key!r}"
            )
        return cls(resource)

    def rank(self, requirements: StepRequirements) -> list[RankedNode]:
        with build_resources({POOL_RESOURCE_KEY: self._pool_resource}) as resources:
            pool = getattr(resources, POOL_RESOURCE_KEY)
            return list(pool.rank_nodes(requirements))
