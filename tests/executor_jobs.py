"""Small jobs run through the node_routing executor by tests/test_executor_*.py (steps import this file).
``fleet_ranker`` stands in for the pool's scoring where a test wants a ranking it controls: it reads a
fleet (node id, capabilities, GPU, score, paused) from the YAML file named by ``TRANSCRIPTS_TEST_FLEET``
and ranks it for each step's requirements, as the ``NodeRanker`` interface asks.
"""

import os
import signal
import time
from pathlib import Path
from typing import Any

import yaml
from dagster import (
    Definitions,
    EnvVar,
    In,
    InitExecutorContext,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    job,
    op,
)

from executors.node_routing import build_node_routing_executor
from resources.llm_pool import LLMPool
from resources.node_choice import (
    PINNED_NODE_ENV,
    TAG_CAPABILITIES,
    TAG_NEEDS_GPU,
    RankedNode,
    StepRequirements,
)

FLEET_ENV = "TRANSCRIPTS_TEST_FLEET"


class FleetRanker:
    def __init__(self, fleet_file: Path):
        self.fleet: list[dict[str, Any]] = yaml.safe_load(fleet_file.read_text())["nodes"]

    def rank(self, requirements: StepRequirements) -> list[RankedNode]:
        ranked = []
        for node in self.fleet:
            caps = set(node.get("capabilities", []))
            excluded = None
            if node.get("paused"):
                excluded = "paused"
            elif requirements.needs_gpu and not node.get("gpu"):
                excluded = "no GPU"
            elif not set(requirements.capabilities) <= caps:
                excluded = "lacks " + ",".join(sorted(set(requirements.capabilities) - caps))
            ranked.append(
                RankedNode(
                    node_id=node["id"],
                    score=float(node["score"]),
                    components={"thermal": float(node["score"]), "queue": 1.0},
                    eligible=excluded is None,
                    excluded_because=excluded,
                    kubernetes_node=node.get("kubernetes_node"),
                )
            )
        return sorted(ranked, key=lambda n: (not n.eligible, -n.score))


def fleet_ranker(init_context: InitExecutorContext) -> FleetRanker:
    return FleetRanker(Path(os.environ[FLEET_ENV]))


fleet_routing_executor = build_node_routing_executor(fleet_ranker)


def where_am_i(llm_pool: LLMPool) -> dict[str, Any]:
    return {
        "pinned": os.environ.get(PINNED_NODE_ENV),
        "pool_nodes": [spec.id for spec in llm_pool.node_specs()],
        "pid": os.getpid(),
    }


@op(tags={TAG_CAPABILITIES: "chat_json"})
def needs_chat(llm_pool: LLMPool) -> Output[dict[str, Any]]:
    seen = where_am_i(llm_pool)
    return Output(seen, metadata={"pinned": str(seen["pinned"]), "pool_nodes": ",".join(seen["pool_nodes"])})


@op(tags={TAG_NEEDS_GPU: "true"})
def needs_gpu(llm_pool: LLMPool, upstream: dict[str, Any]) -> Output[dict[str, Any]]:
    seen = where_am_i(llm_pool)
    return Output(seen, metadata={"pinned": str(seen["pinned"]), "pool_nodes": ",".join(seen["pool_nodes"])})


@op
def killed_by_the_kernel(context: OpExecutionContext) -> None:
    context.log.info("about to be killed")
    os.kill(os.getpid(), signal.SIGKILL)


@op(out=Out(Nothing))
def runs_for_a_long_time(context: OpExecutionContext) -> None:
    context.log.info(f"long step running as pid {os.getpid()}")
    time.sleep(300)


@op(ins={"start": In(Nothing)})
def after_the_long_one() -> None:
    pass


POOL = {"llm_pool": LLMPool(nodes_file=EnvVar("TRANSCRIPTS_NODES_FILE"))}


@job(executor_def=fleet_routing_executor, resource_defs=POOL)
def routed_job() -> None:
    needs_gpu(upstream=needs_chat())


@job(executor_def=fleet_routing_executor, resource_defs=POOL)
def killed_job() -> None:
    killed_by_the_kernel()


@job(executor_def=fleet_routing_executor, resource_defs=POOL)
def long_job() -> None:
    after_the_long_one(start=runs_for_a_long_time())


defs = Definitions(jobs=[routed_job, killed_job, long_job])  # for `dagster job execute -f ... -j NAME`
