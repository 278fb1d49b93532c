"""The node-routing executor's config: mode, concurrency, polling, and the Kubernetes step-job settings.

Set in code (``node_routing_executor.configured({...})``) or per run under ``execution: config:``.
Kubernetes settings reuse dagster-k8s's job schema, plus what the step handler needs when the instance's
run launcher is not a ``K8sRunLauncher`` (dagster-k8s 0.29.27 would read those from the launcher).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dagster import Enum, EnumValue, Field, IntSource, Map, Noneable, Shape, StringSource
from dagster._core.execution.retries import get_retries_config
from dagster._core.execution.tags import get_tag_concurrency_limits_config
from dagster_k8s.job import USER_DEFINED_K8S_JOB_CONFIG_SCHEMA, DagsterK8sJobConfig

Mode = Literal["local", "kubernetes"]
PinWith = Literal["node_selector", "node_affinity"]

DEFAULT_DAGSTER_HOME_IN_POD = "/opt/dagster/dagster_home"
HOSTNAME_LABEL = "kubernetes.io/hostname"
NVIDIA_GPU = "nvidia.com/gpu"

KUBERNETES_CONFIG_SCHEMA = Shape(
    {
        **DagsterK8sJobConfig.config_type_job(),
        "job_namespace": Field(StringSource, is_required=False, description="Namespace of the step jobs."),
        "load_incluster_config": Field(
            bool,
            is_required=False,
            description="Load the in-cluster config (default: the K8sRunLauncher's setting, else true).",
        ),
        "kubeconfig_file": Field(
            Noneable(str), is_required=False, description="Kubeconfig outside a cluster."
        ),
        "dagster_home": Field(
            StringSource,
            is_required=False,
            description=f"DAGSTER_HOME in the step pod when there is no K8sRunLauncher (default {DEFAULT_DAGSTER_HOME_IN_POD}).",
        ),
        "postgres_password_secret": Field(StringSource, is_required=False),
        "step_k8s_config": Field(USER_DEFINED_K8S_JOB_CONFIG_SCHEMA, is_required=False),
        "per_step_k8s_config": Field(
            Map(str, USER_DEFINED_K8S_JOB_CONFIG_SCHEMA, key_label_name="op_name"),
            is_required=False,
            default_value={},
        ),
        "enable_owner_references": Field(bool, is_required=False, default_value=False),
        "pin_with": Field(
            Enum("NodeRoutingPinWith", [EnumValue("node_selector"), EnumValue("node_affinity")]),
            default_value="node_selector",
            description="How a step pod is pinned to its node: a nodeSelector or required node affinity.",
        ),
        "node_label": Field(
            str,
            default_value=HOSTNAME_LABEL,
            description="The node label that names a Kubernetes node (matched against the chosen node).",
        ),
        "gpu_resource": Field(
            str, default_value=NVIDIA_GPU, description="Extended resource a step that needs a GPU asks for."
        ),
    }
)

NODE_ROUTING_CONFIG_SCHEMA = {
    "mode": Field(
        Enum("NodeRoutingMode", [EnumValue("local"), EnumValue("kubernetes")]),
        default_value="local",
        description="local: a `dagster api execute_step` subprocess per step; kubernetes: a Job per step.",
    ),
    "max_concurrent": Field(
        IntSource, is_required=False, description="Steps of one run running at once (default: no limit)."
    ),
    "retries": get_retries_config(),
    "tag_concurrency_limits": get_tag_concurrency_limits_config(),
    "poll_interval_seconds": Field(
        float,
        default_value=0.5,
        description="How often the executor reads new step events from the event log.",
    ),
    "health_check_interval_seconds": Field(
        int, default_value=10, description="How often each running step's worker is checked."
    ),
    "kubernetes": Field(KUBERNETES_CONFIG_SCHEMA, is_required=False, description="Kubernetes mode settings."),
}


@dataclass(frozen=True)
class KubernetesSettings:
    """The ``kubernetes:`` block, typed; ``job_config`` holds dagster-k8s's own job fields."""

    job_config: Mapping[str, Any] = field(default_factory=dict)
    job_namespace: str | None = None
    load_incluster_config: bool | None = None
    kubeconfig_file: str | None = None
    dagster_home: str | None = None
    postgres_password_secret: str | None = None
    step_k8s_config: Mapping[str, Any] = field(default_factory=dict)
    per_step_k8s_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    enable_owner_references: bool = False
    pin_with: PinWith = "node_selector"
    node_label: str = HOSTNAME_LABEL
    gpu_resource: str = NVIDIA_GPU

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KubernetesSettings:
        own = {name for name in cls.__dataclass_fields__ if name != "job_config"}
        return cls(
            job_config={k: v for k, v in config.items() if k not in own},
            **{k: v for k, v in config.items() if k in own},
        )


@dataclass(frozen=True)
class NodeRoutingSettings:
    mode: Mode = "local"
    max_concurrent: int | None = None
    retries: Mapping[str, Any] = field(default_factory=lambda: {"enabled": {}})
    tag_concurrency_limits: list[dict[str, Any]] | None = None
    poll_interval_seconds: float = 0.5
    health_check_interval_seconds: int = 10
    kubernetes: KubernetesSettings = field(default_factory=KubernetesSettings)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NodeRoutingSettings:
        return cls(
            mode=config.get("mode", "local"),
            max_concurrent=config.get("max_concurrent"),
            retries=config.get("retries", {"enabled": {}}),
            tag_concurrency_limits=config.get("tag_concurrency_limits"),
            poll_interval_seconds=float(config.get("poll_interval_seconds", 0.5)),
            health_check_interval_seconds=int(config.get("health_check_interval_seconds", 10)),
            kubernetes=KubernetesSettings.from_config(config.get("kubernetes") or {}),
        )
