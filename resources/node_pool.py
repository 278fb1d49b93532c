"""The node pool as a Dagster resource: ``NodeFleet`` (transcript_foundry/pool/fleet.py) with Dagster's
configuration and lifecycle. A step refreshes the fleet when it starts and closes its clients when it ends."""

from __future__ import annotations

from dagster import ConfigurableResource, InitResourceContext

from transcript_foundry.pool.fleet import NodeFleet


class NodePool(ConfigurableResource, NodeFleet):
    """The LLM nodes generation may use, scored and dispatched to (fields: see ``NodeFleet``)."""

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self.refresh(force=True)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.close()
