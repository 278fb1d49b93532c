"""The ``node_routing`` executor: a StepDelegatingExecutor that launches each step pinned to the best node.

For every step it reads the op's tags (``transcripts/min_vram_mb``, ``transcripts/needs_gpu``,
``transcripts/capabilities``, ``transcripts/min_context``) into ``StepRequirements``, asks the node pool to
rank the nodes, and launches the step on the winner: a local ``dagster api execute_step`` subprocess
with ``TRANSCRIPTS_PINNED_NODE`` set (mode ``local``), or a Kubernetes Job with node selector / affinity
and GPU limits (mode ``kubernetes``). The choice is written to the run's event log, so the Dagster UI
shows where each step ran and why. Set it once, in the root Definitions.
"""

from __future__ import annotations

from collections.abc import Callable

from dagster import ExecutorDefinition, InitExecutorContext, executor
from dagster._core.definitions.executor_definition import multiple_process_executor_requirements
from dagster._core.execution.retries import RetryMode
from dagster._core.executor.step_delegating import StepDelegatingExecutor, StepHandler
from dagster_k8s.launcher import K8sRunLauncher

from executors.k8s_step_handler import NodeRoutingK8sStepHandler
from executors.local_step_handler import LocalStepHandler
from executors.node_ranker import NodeRanker, PoolNodeRanker
from executors.node_routing_config import NODE_ROUTING_CONFIG_SCHEMA, NodeRoutingSettings
from executors.step_router import StepRouter

RankerFactory = Callable[[InitExecutorContext], NodeRanker]


def pool_ranker(init_context: InitExecutorContext) -> NodeRanker:
    """The default ranking: the job's own ``llm_pool`` resource."""
    return PoolNodeRanker.for_job(init_context.job.get_definition())


def build_step_handler(
    settings: NodeRoutingSettings, router: StepRouter, init_context: InitExecutorContext
) -> StepHandler:
    if settings.mode == "local":
        return LocalStepHandler(router)
    launcher = init_context.instance.run_launcher
    return NodeRoutingK8sStepHandler(
        router, settings.kubernetes, launcher if isinstance(launcher, K8sRunLauncher) else None
    )


def build_node_routing_executor(
    ranker_factory: RankerFactory = pool_ranker, name: str = "node_routing"
) -> ExecutorDefinition:
    """The executor definition; ``ranker_factory`` decides where rankings come from (the pool by default)."""

    @executor(
        name=name,
        config_schema=NODE_ROUTING_CONFIG_SCHEMA,
        requirements=multiple_process_executor_requirements(),
    )
    def _node_routing_executor(init_context: InitExecutorContext) -> StepDelegatingExecutor:
        settings = NodeRoutingSettings.from_config(init_context.executor_config)
        router = StepRouter(ranker_factory(init_context))
        return StepDelegatingExecutor(
            build_step_handler(settings, router, init_context),
            retries=RetryMode.from_config(settings.retries),  # type: ignore[arg-type]
            sleep_seconds=settings.poll_interval_seconds,
            check_step_health_interval_seconds=settings.health_check_interval_seconds,
            max_concurrent=settings.max_concurrent,
            tag_concurrency_limits=settings.tag_concurrency_limits,
            should_verify_step=settings.mode == "kubernetes",
        )

    return _node_routing_executor


node_routing_executor = build_node_routing_executor()
