"""Kubernetes mode: dagster-k8s's step handler, with each step Job pinned to the node the router chose.

On top of ``K8sStepHandler`` (dagster-k8s 0.29.27) the step pod gets, for its placement:
- a nodeSelector (or required node affinity) on ``node_label`` = the chosen node's Kubernetes node name
  (``RankedNode.kubernetes_node``) or the labels it reports (``details["kubernetes_labels"]``); a node
  outside the cluster (a remote API, an agent on a desktop) gets no selector, the pod runs anywhere;
- ``<gpu_resource>: 1`` in its limits when the step needs a GPU and runs on a Kubernetes node;
- ``TRANSCRIPTS_PINNED_NODE`` in its environment and a ``transcripts/node`` pod label.

dagster-k8s 0.29.27's handler reads image, namespace and pod defaults from the instance's run launcher and
crashes (``'DefaultRunLauncher' object has no attribute 'image_pull_policy'``) when it is not a
``K8sRunLauncher``. Here the launcher is used only when it is one; otherwise the executor's ``kubernetes``
config supplies them (``job_image``, ``job_namespace``, ``service_account_name``, ``dagster_home`` ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import kubernetes.client
from dagster import MetadataValue
from dagster._core.events import DagsterEvent
from dagster._core.executor.step_delegating import StepHandlerContext
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.executor import K8sStepHandler
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    OwnerReference,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)
from dagster_k8s.launcher import K8sRunLauncher

from executors.node_routing_config import DEFAULT_DAGSTER_HOME_IN_POD, KubernetesSettings
from executors.step_placement import NoEligibleNode, StepPlacement
from executors.step_router import StepRouter, report_unplaceable_step
from transcript_foundry.pool.node_choice import PINNED_NODE_ENV

NODE_POD_LABEL = "transcripts/node"


def label_value(text: str) -> str:
    """``text`` as a valid Kubernetes label value (63 characters of [A-Za-z0-9._-], alphanumeric ends)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)[:63].strip("-_.") or "node"


def node_selector_for(placement: StepPlacement, node_label: str) -> dict[str, str]:
    """The labels that select the chosen node's Kubernetes node; empty for a node outside the cluster."""
    if placement.node.kubernetes_node:
        return {node_label: placement.node.kubernetes_node}
    labels = placement.node.details.get("kubernetes_labels")
    if isinstance(labels, Mapping):
        return {str(k): str(v) for k, v in labels.items()}
    return {}


def placement_k8s_config(
    placement: StepPlacement, settings: KubernetesSettings
) -> UserDefinedDagsterK8sConfig:
    """The pod settings that pin a step to its placement (merged last, over any user k8s config)."""
    selector = node_selector_for(placement, settings.node_label)
    pod_spec: dict[str, Any] = {}
    if selector and settings.pin_with == "node_selector":
        pod_spec["node_selector"] = selector
    elif selector:
        expressions = [{"key": k, "operator": "In", "values": [v]} for k, v in selector.items()]
        pod_spec["affinity"] = {
            "node_affinity": {
                "required_during_scheduling_ignored_during_execution": {
                    "node_selector_terms": [{"match_expressions": expressions}]
                }
            }
        }
    container: dict[str, Any] = {"env": [{"name": PINNED_NODE_ENV, "value": placement.node.node_id}]}
    if selector and placement.requirements.needs_gpu:
        container["resources"] = {"limits": {settings.gpu_resource: "1"}}
    return UserDefinedDagsterK8sConfig.from_dict(
        {
            "container_config": container,
            "pod_spec_config": pod_spec,
            "pod_template_spec_metadata": {"labels": {NODE_POD_LABEL: label_value(placement.node.node_id)}},
        }
    )


def executor_container_context(settings: KubernetesSettings) -> K8sContainerContext:
    job = settings.job_config
    return K8sContainerContext(
        image_pull_policy=job.get("image_pull_policy"),
        image_pull_secrets=job.get("image_pull_secrets"),
        service_account_name=job.get("service_account_name"),
        env_config_maps=job.get("env_config_maps"),
        env_secrets=job.get("env_secrets"),
        env_vars=job.get("env_vars"),
        volume_mounts=job.get("volume_mounts"),
        volumes=job.get("volumes"),
        labels=job.get("labels"),
        namespace=settings.job_namespace,
        resources=job.get("resources"),
        scheduler_name=job.get("scheduler_name"),
        security_context=job.get("security_context"),
        run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(dict(settings.step_k8s_config)),
    )


class NodeRoutingK8sStepHandler(K8sStepHandler):
    def __init__(
        self,
        router: StepRouter,
        settings: KubernetesSettings,
        run_launcher: K8sRunLauncher | None,
        k8s_client_batch_api: Any = None,
        k8s_client_core_api: Any = None,
    ):
        if settings.load_incluster_config is not None:
            load_incluster_config = settings.load_incluster_config
        else:
            load_incluster_config = run_launcher.load_incluster_config if run_launcher else True
        kubeconfig_file = settings.kubeconfig_file
        if kubeconfig_file is None and run_launcher and not load_incluster_config:
            kubeconfig_file = run_launcher.kubeconfig_file
        super().__init__(
            image=settings.job_config.get("job_image"),
            container_context=executor_container_context(settings),
            load_incluster_config=load_incluster_config,
            kubeconfig_file=kubeconfig_file,
            k8s_client_batch_api=k8s_client_batch_api,
            k8s_client_core_api=k8s_client_core_api,
            per_step_k8s_config=dict(settings.per_step_k8s_config),
            enable_owner_references=settings.enable_owner_references,
        )
        self._router = router
        self._settings = settings

    @property
    def name(self) -> str:
        return "NodeRoutingK8sStepHandler"

    @staticmethod
    def _k8s_run_launcher(context: StepHandlerContext) -> K8sRunLauncher | None:
        launcher = context.instance.run_launcher
        return launcher if isinstance(launcher, K8sRunLauncher) else None

    def _get_container_context(self, step_handler_context: StepHandlerContext) -> K8sContainerContext:
        # The parent's merge order (run launcher ← executor ← op tag ← per-op config), with the run launcher
        # only when it is a K8sRunLauncher, and the step's placement merged last.
        step_key = self._get_step_key(step_handler_context)
        context = K8sContainerContext.create_for_run(
            step_handler_context.dagster_run,
            self._k8s_run_launcher(step_handler_context),
            include_run_tags=False,
        ).merge(self._executor_container_context)
        op_tag_config = get_user_defined_k8s_config(step_handler_context.step_tags[step_key])
        op_name = step_handler_context.get_step_context(step_key).step.op_name
        per_op_config = UserDefinedDagsterK8sConfig.from_dict(self._per_step_k8s_config.get(op_name, {}))
        context = context.merge(K8sContainerContext(run_k8s_config=op_tag_config)).merge(
            K8sContainerContext(run_k8s_config=per_op_config)
        )
        placement = self._router.known_placement(step_handler_context)
        if placement is not None:
            context = context.merge(
                K8sContainerContext(run_k8s_config=placement_k8s_config(placement, self._settings))
            )
        if not context.namespace:
            context = context.merge(K8sContainerContext(namespace="default"))
        return context

    def _job_config(
        self, context: StepHandlerContext, container_context: K8sContainerContext
    ) -> DagsterK8sJobConfig:
        launcher = self._k8s_run_launcher(context)
        if launcher is not None:
            job_config = container_context.get_k8s_job_config(self._executor_image, launcher)
        else:
            job_config = DagsterK8sJobConfig(
                job_image=self._executor_image,
                dagster_home=self._settings.dagster_home or DEFAULT_DAGSTER_HOME_IN_POD,
                postgres_password_secret=self._settings.postgres_password_secret,
            )
        if not job_config.job_image:
            job_config = job_config.with_image(
                context.execute_step_args.job_origin.repository_origin.container_image
            )
        if not job_config.job_image:
            raise ValueError(
                "kubernetes mode needs an image for the step pods: set execution.config.kubernetes.job_image, "
                "or run from a code location whose container image is known (Helm user deployment)"
            )
        return job_config

    def build_step_job(self, step_handler_context: StepHandlerContext) -> tuple[kubernetes.client.V1Job, str]:
        """The step's Kubernetes Job, pinned to its placement, and the namespace to create it in."""
        step_key = self._get_step_key(step_handler_context)
        job_name = self._get_k8s_step_job_name(step_handler_context)
        container_context = self._get_container_context(step_handler_context)
        run = step_handler_context.dagster_run
        labels = {
            "dagster/job": run.job_name,
            "dagster/op": step_key,
            "dagster/run-id": step_handler_context.execute_step_args.run_id,
        }
        owner_references = []
        if self._enable_owner_references:
            my_pod = self._detect_current_name_and_uid()
            if my_pod:
                owner_references = [OwnerReference(kind="Pod", name=my_pod[0], uid=my_pod[1])]
        job = construct_dagster_k8s_job(
            job_config=self._job_config(step_handler_context, container_context),
            args=step_handler_context.execute_step_args.get_command_args(skip_serialized_namedtuple=True),
            job_name=job_name,
            pod_name=job_name,
            component="step_worker",
            user_defined_k8s_config=container_context.run_k8s_config,
            labels=labels,
            env_vars=[
                *step_handler_context.execute_step_args.get_command_env(),
                {"name": "DAGSTER_RUN_JOB_NAME", "value": run.job_name},
                {"name": "DAGSTER_RUN_STEP_KEY", "value": step_key},
            ],
            owner_references=owner_references,
        )
        return job, container_context.namespace or "default"

    def launch_step(self, step_handler_context: StepHandlerContext) -> Iterator[DagsterEvent]:
        step_key = self._get_step_key(step_handler_context)
        try:
            placement = self._router.place(step_handler_context)
        except NoEligibleNode:
            yield from report_unplaceable_step(step_handler_context)
            return
        job, namespace = self.build_step_job(step_handler_context)
        yield DagsterEvent.step_worker_starting(
            step_handler_context.get_step_context(step_key),
            message=f"Launching {placement.describe()} as Kubernetes job {job.metadata.name}",
            metadata={
                **placement.metadata(),
                "Kubernetes Job name": MetadataValue.text(job.metadata.name),
                "namespace": MetadataValue.text(namespace),
            },
        )
        self._api_client.create_namespaced_job_with_retries(body=job, namespace=namespace)
