"""Kubernetes mode, offline: the step Job the node_routing executor would create, checked field by field.

No cluster: the handler loads a throwaway kubeconfig, and the batch API it posts to is an in-memory
recorder (the absent cluster), so the test sees exactly the V1Job that would be sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, reconstructable
from dagster._config import process_config, resolve_to_config_type
from dagster._core.execution.api import create_execution_plan
from dagster._core.execution.context.system import PlanData, PlanOrchestrationContext
from dagster._core.execution.context_creation_job import create_context_free_log_manager
from dagster._core.execution.retries import RetryMode
from dagster._core.executor.init import InitExecutorContext
from dagster._core.executor.step_delegating import StepHandlerContext
from dagster._core.test_utils import create_run_for_test, instance_for_test
from dagster._grpc.types import ExecuteStepArgs
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.executor import K8sStepHandler

from executors.k8s_step_handler import NodeRoutingK8sStepHandler
from executors.node_ranker import PoolNodeRanker
from executors.node_routing import node_routing_executor
from executors.node_routing_config import NODE_ROUTING_CONFIG_SCHEMA, NodeRoutingSettings
from executors.step_router import StepRouter
from tests.support import executor_jobs
from tests.support.executor_fleet import install_fleet
from transcript_foundry.pool.node_controls import NodeControls

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:1"}}],
    "users": [{"name": "offline", "user": {"token": "offline"}}],
    "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline"}}],
    "current-context": "offline",
}


class AbsentCluster:
    """The cluster's batch and core APIs, absent: records jobs created and deleted, reports a preset status."""

    def __init__(self) -> None:
        self.created: list[tuple[str, kubernetes.client.V1Job]] = []
        self.deleted: list[str] = []
        self.failed = 0

    def create_namespaced_job(self, body: kubernetes.client.V1Job, namespace: str, **_: Any) -> None:
        self.created.append((namespace, body))

    def read_namespaced_job_status(self, name: str, namespace: str, **_: Any) -> kubernetes.client.V1Job:
        return kubernetes.client.V1Job(status=kubernetes.client.V1JobStatus(failed=self.failed or None))

    def delete_namespaced_job(self, name: str, namespace: str, **_: Any) -> None:
        self.deleted.append(name)

    def list_namespaced_pod(
        self, namespace: str, label_selector: str, **_: Any
    ) -> kubernetes.client.V1PodList:
        job_name = label_selector.removeprefix("job-name=")
        pod = kubernetes.client.V1Pod(metadata=kubernetes.client.V1ObjectMeta(name=f"{job_name}-x1"))
        return kubernetes.client.V1PodList(items=[pod])

    def delete_namespaced_pod(self, name: str, namespace: str, **_: Any) -> None:
        self.deleted.append(name)


@pytest.fixture
def controls(project_home: Path, monkeypatch: pytest.MonkeyPatch) -> NodeControls:
    return NodeControls(install_fleet(project_home, monkeypatch))


@pytest.fixture
def kubeconfig(tmp_path: Path, controls: NodeControls) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(KUBECONFIG))
    return str(path)


def executor_config(kubeconfig: str, **kubernetes_settings: Any) -> dict[str, Any]:
    raw = {
        "mode": "kubernetes",
        "kubernetes": {
            "load_incluster_config": False,
            "kubeconfig_file": kubeconfig,
            "job_image": "ghcr.io/example/transcript-foundry:1",
            "job_namespace": "transcripts",
            "service_account_name": "generator",
            **kubernetes_settings,
        },
    }
    processed = process_config(resolve_to_config_type(NODE_ROUTING_CONFIG_SCHEMA), raw)
    assert processed.success, processed.errors
    return processed.value  # type: ignore[return-value]


def handler_context(instance: DagsterInstance, step_key: str, config: dict[str, Any]) -> StepHandlerContext:
    job = reconstructable(executor_jobs.routed_job)
    executor = node_routing_executor.executor_creation_fn(  # type: ignore[misc]
        InitExecutorContext(
            job=job, executor_def=node_routing_executor, executor_config=config, instance=instance
        )
    )
    run = create_run_for_test(instance, job_name="routed_job", job_code_origin=job.get_python_origin())
    plan = create_execution_plan(job)
    plan_context = PlanOrchestrationContext(
        plan_data=PlanData(
            job=job,
            dagster_run=run,
            instance=instance,
            execution_plan=plan,
            raise_on_error=True,
            retry_mode=RetryMode.DISABLED,
        ),
        log_manager=create_context_free_log_manager(instance, run),
        executor=executor,
        output_capture=None,
    )
    return StepHandlerContext(
        instance=instance,
        plan_context=plan_context,
        steps=plan.steps,
        execute_step_args=ExecuteStepArgs(job.get_python_origin(), run.run_id, [step_key]),
    )


def routing_handler(
    instance: DagsterInstance, config: dict[str, Any], api: AbsentCluster
) -> NodeRoutingK8sStepHandler:
    """The executor's handler with its default ranking (the job's NodePool), around the absent cluster."""
    settings = NodeRoutingSettings.from_config(config)
    ranker = PoolNodeRanker.for_job(executor_jobs.routed_job)
    return NodeRoutingK8sStepHandler(
        StepRouter(ranker), settings.kubernetes, None, k8s_client_batch_api=api, k8s_client_core_api=api
    )


def env_of(job: kubernetes.client.V1Job) -> dict[str, str]:
    return {e.name: e.value for e in job.spec.template.spec.containers[0].env if e.value is not None}


def test_the_gpu_step_job_is_pinned_to_its_kubernetes_node_with_a_gpu_limit(kubeconfig: str) -> None:
    instance = DagsterInstance.get()  # the default run launcher: dagster-k8s's handler would crash here
    config = executor_config(kubeconfig)
    api = AbsentCluster()
    handler = routing_handler(instance, config, api)
    context = handler_context(instance, "needs_gpu", config)
    list(handler.launch_step(context))

    [(namespace, job)] = api.created
    assert namespace == "transcripts"
    pod = job.spec.template.spec
    assert isinstance(pod, kubernetes.client.V1PodSpec)
    assert pod.node_selector == {"kubernetes.io/hostname": "k8s-gpu-1"}
    assert pod.service_account_name == "generator"
    container = pod.containers[0]
    assert container.image == "ghcr.io/example/transcript-foundry:1"
    assert container.resources.limits == {"nvidia.com/gpu": "1"}
    env = env_of(job)
    assert env["TRANSCRIPTS_PINNED_NODE"] == "gpu-fast"
    assert env["DAGSTER_RUN_STEP_KEY"] == "needs_gpu"
    assert "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS" in env
    assert job.spec.template.metadata.labels["transcripts/node"] == "gpu-fast"
    assert container.args[-2:] == ["api", "execute_step"]

    # What goes over the wire: the Kubernetes API's camelCase JSON.
    wire = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    assert wire["spec"]["template"]["spec"]["nodeSelector"] == {"kubernetes.io/hostname": "k8s-gpu-1"}
    assert wire["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": "1"}

    starting = instance.all_logs(
        context.execute_step_args.run_id, of_type=DagsterEventType.STEP_WORKER_STARTING
    )
    meta = starting[0].dagster_event.engine_event_data.metadata
    assert meta["node"].value == "gpu-fast"
    assert meta["kubernetes_node"].value == "k8s-gpu-1"
    assert meta["Kubernetes Job name"].value == job.metadata.name


def test_node_affinity_instead_of_a_selector(kubeconfig: str) -> None:
    instance = DagsterInstance.get()
    config = executor_config(kubeconfig, pin_with="node_affinity", gpu_resource="amd.com/gpu")
    handler = routing_handler(instance, config, AbsentCluster())
    context = handler_context(instance, "needs_gpu", config)
    handler._router.place(context)
    job, _ = handler.build_step_job(context)
    pod = job.spec.template.spec
    assert not pod.node_selector
    [term] = (
        pod.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    )
    [expression] = term.match_expressions
    assert (expression.key, expression.operator, expression.values) == (
        "kubernetes.io/hostname",
        "In",
        ["k8s-gpu-1"],
    )
    assert pod.containers[0].resources.limits == {"amd.com/gpu": "1"}


def test_a_step_for_a_node_outside_the_cluster_runs_anywhere_without_a_gpu(
    kubeconfig: str, controls: NodeControls
) -> None:
    for node_id in ("gpu-fast", "gpu-slow"):  # the in-cluster nodes; "chat" runs outside the cluster
        controls.set(node_id, paused=True, reason="maintenance", source="operator")
    instance = DagsterInstance.get()
    config = executor_config(kubeconfig)
    handler = routing_handler(instance, config, AbsentCluster())
    context = handler_context(instance, "needs_chat", config)
    assert handler._router.place(context).node.node_id == "chat"
    job, _ = handler.build_step_job(context)
    pod = job.spec.template.spec
    assert not pod.node_selector and not pod.affinity
    assert not (pod.containers[0].resources.limits or {})
    assert env_of(job)["TRANSCRIPTS_PINNED_NODE"] == "chat"


def test_health_and_termination_go_to_the_step_job(kubeconfig: str) -> None:
    instance = DagsterInstance.get()
    config = executor_config(kubeconfig)
    api = AbsentCluster()
    handler = routing_handler(instance, config, api)
    context = handler_context(instance, "needs_gpu", config)
    list(handler.launch_step(context))
    name = api.created[0][1].metadata.name
    assert handler.check_step_health(context).is_healthy
    api.failed = 1
    health = handler.check_step_health(context)
    assert not health.is_healthy and name in (health.unhealthy_reason or "")
    list(handler.terminate_step(context))
    assert api.deleted == [name, f"{name}-x1"]  # the job and its pod


def test_dagster_k8s_alone_crashes_without_a_k8s_run_launcher(kubeconfig: str) -> None:
    """The 0.29.27 caveat the routing handler works around (if this starts passing, the pin moved)."""
    instance = DagsterInstance.get()
    config = executor_config(kubeconfig)
    context = handler_context(instance, "needs_gpu", config)
    plain = K8sStepHandler(
        image="x",
        container_context=K8sContainerContext(namespace="transcripts"),
        load_incluster_config=False,
        kubeconfig_file=kubeconfig,
        k8s_client_batch_api=AbsentCluster(),
    )
    with pytest.raises(AttributeError, match="image_pull_policy"):
        plain._get_container_context(context)


@pytest.fixture
def k8s_launcher_instance(kubeconfig: str) -> Iterator[DagsterInstance]:
    launcher = {
        "module": "dagster_k8s",
        "class": "K8sRunLauncher",
        "config": {
            "service_account_name": "launcher-sa",
            "instance_config_map": "dagster-instance",
            "dagster_home": "/opt/dagster/dagster_home",
            "job_image": "launcher-image:2",
            "job_namespace": "launcher-ns",
            "load_incluster_config": False,
            "kubeconfig_file": kubeconfig,
        },
    }
    with instance_for_test(overrides={"run_launcher": launcher}) as instance:
        yield instance


def test_with_a_k8s_run_launcher_its_defaults_apply_under_the_pinning(
    k8s_launcher_instance: DagsterInstance, kubeconfig: str
) -> None:
    raw = {
        "mode": "kubernetes",
        "kubernetes": {"load_incluster_config": False, "kubeconfig_file": kubeconfig},
    }
    processed = process_config(resolve_to_config_type(NODE_ROUTING_CONFIG_SCHEMA), raw)
    assert processed.success
    config = processed.value
    api = AbsentCluster()
    handler = routing_handler(k8s_launcher_instance, config, api)  # type: ignore[arg-type]
    context = handler_context(k8s_launcher_instance, "needs_gpu", config)  # type: ignore[arg-type]
    list(handler.launch_step(context))
    [(namespace, job)] = api.created
    assert namespace == "launcher-ns"
    pod = job.spec.template.spec
    assert pod.service_account_name == "launcher-sa"
    assert pod.containers[0].image == "launcher-image:2"
    assert pod.node_selector == {"kubernetes.io/hostname": "k8s-gpu-1"}
    assert env_of(job)["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
