"""Small jobs run through the node_routing executor by tests/test_executor_*.py (steps import this file).

They use the project's real NodePool (nodes.yaml from TRANSCRIPTS_NODES_FILE, controls and registry in the
state DB at TRANSCRIPTS_STATE_URL) and the executor's default ranking, the pool's ``rank_nodes``; each op
reports what its step process saw: the pinned node and the nodes its own pool would use.
"""

import os
import signal
import time
from typing import Any

from dagster import (
    Definitions,
    EnvVar,
    In,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    RetryPolicy,
    job,
    op,
)

from executors.node_routing import node_routing_executor
from resources.node_pool import NodePool
from transcript_foundry.pool.node_choice import PINNED_NODE_ENV, TAG_CAPABILITIES, TAG_NEEDS_GPU


def where_am_i(llm_pool: NodePool) -> Output[dict[str, Any]]:
    seen = {
        "pinned": os.environ.get(PINNED_NODE_ENV),
        "pool_nodes": [spec.id for spec in llm_pool.node_specs()],
        "pid": os.getpid(),
    }
    return Output(seen, metadata={"pinned": str(seen["pinned"]), "pool_nodes": ",".join(seen["pool_nodes"])})


@op(tags={TAG_CAPABILITIES: "chat_json"})
def needs_chat(llm_pool: NodePool) -> Output[dict[str, Any]]:
    return where_am_i(llm_pool)


@op(tags={TAG_NEEDS_GPU: "true"})
def needs_gpu(llm_pool: NodePool, upstream: dict[str, Any]) -> Output[dict[str, Any]]:
    return where_am_i(llm_pool)


@op(tags={TAG_CAPABILITIES: "telepathy"}, retry_policy=RetryPolicy(max_retries=1, delay=0.5))
def needs_what_no_node_has() -> None:
    pass


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


POOL = {
    "llm_pool": NodePool(
        nodes_file=EnvVar("TRANSCRIPTS_NODES_FILE"), state_url=EnvVar("TRANSCRIPTS_STATE_URL")
    )
}


@job(executor_def=node_routing_executor, resource_defs=POOL)
def routed_job() -> None:
    needs_gpu(upstream=needs_chat())


@job(executor_def=node_routing_executor, resource_defs=POOL)
def unplaceable_job() -> None:
    needs_what_no_node_has()


@job(executor_def=node_routing_executor, resource_defs=POOL)
def killed_job() -> None:
    killed_by_the_kernel()


@job(executor_def=node_routing_executor, resource_defs=POOL)
def long_job() -> None:
    after_the_long_one(start=runs_for_a_long_time())


defs = Definitions(
    jobs=[routed_job, unplaceable_job, killed_job, long_job]
)  # for `dagster job execute -f ... -j NAME`
