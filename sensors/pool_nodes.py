"""What the sensors need from the node pool resource (``llm_pool``): its nodes' specs.

The sensors take the ``llm_pool`` resource as ``ResourceParam[PoolNodes]``, not by its class, so any pool
resource with ``node_specs()`` (NodePool) serves. A node with the ``llama_cpp`` backend runs
in-process: the local machine's probes describe it.
"""

from __future__ import annotations

from typing import Protocol

from transcript_foundry.pool.node_spec import NodeSpec


class PoolNodes(Protocol):
    def node_specs(self) -> list[NodeSpec]: ...


def local_node_ids(pool: PoolNodes) -> list[str]:
    return [s.id for s in pool.node_specs() if s.backend == "llama_cpp"]
