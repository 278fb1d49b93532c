"""NodeFleet: every LLM node the project knows, scored, and work dispatched to them (``resources.node_pool.
NodePool`` is the same class as a Dagster resource).

Nodes come from (1) a nodes.yaml file (``TRANSCRIPTS_NODES_FILE``, docs/nodes.md) or an OpenAI-compatible
server named in the environment, (2) node agents that registered in the state DB (``state_url``) and
heartbeat there: a stale heartbeat takes a node out of rotation, and (3) the local machine itself (the
embedded llama.cpp model in-process) when nothing else is configured. ``TRANSCRIPTS_PINNED_NODE``
restricts the pool to one node (the node-routing executor sets it for a step it pinned).

Settings (transcript_foundry/settings/, docs/config.md) are re-read at every refresh (every
``refresh_interval_s`` while dispatching, and on ``refresh(force=True)``): the ``scoring`` weights, ``retry``
and the retry budget for the fleet, and per node, with the node's host profile, its ``thermal`` limits,
``pool`` concurrency bounds and ``circuit`` breaker settings. A changed value applies to the next routing
decision after that refresh.

``rank_nodes`` scores the nodes (transcript_foundry/pool/scoring.py) from their profile, live state, NodeControls
(paused / throttled by the sensors), circuit breakers, in-flight counts and the servers' own queue signals.
``dispatcher`` hands out a Dispatcher (transcript_foundry/pool/dispatch.py) that runs units of work across the nodes.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, PrivateAttr
from sqlalchemy import Engine

from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState
from transcript_foundry.llm.backend import LLMBackend
from transcript_foundry.pool.circuit import CircuitBreaker, CircuitSettings
from transcript_foundry.pool.concurrency import AdaptiveConcurrency, ConcurrencySettings
from transcript_foundry.pool.dispatch import Dispatcher
from transcript_foundry.pool.metrics import DispatchMetrics, FleetCollector
from transcript_foundry.pool.node_choice import PINNED_NODE_ENV, RankedNode, StepRequirements
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_registry import NodeRegistry
from transcript_foundry.pool.node_runtime import NodeRuntime
from transcript_foundry.pool.node_spec import NodeConfigError, NodeSpec, load_nodes_file
from transcript_foundry.pool.retry_budget import RetryBudgetSettings
from transcript_foundry.pool.scoring import ANY_STEP, ScoringWeights, ThermalLimits, rank
from transcript_foundry.pool.server_signals import ServerProbe
from transcript_foundry.settings.model import Settings
from transcript_foundry.settings.store import SettingsStore

LOCAL_SOURCES = ("local", "config-local")
PROBE_THREADS = 16  # servers whose load probes are read at once  # in-process nodes: the local machine's probes describe them


def build_backend(spec: NodeSpec) -> LLMBackend:
    if spec.backend == "llama_cpp":
        from transcript_foundry.llm.llama_cpp_backend import LlamaCppBackend

        return LlamaCppBackend(spec)
    from transcript_foundry.llm.openai_backend import OpenAICompatibleBackend

    return OpenAICompatibleBackend(spec)


class NodeFleet(BaseModel):
    """The LLM nodes generation may use, scored and dispatched to."""

    nodes_file: str | None = None
    model_path: str | None = None
    openai_base_url: str | None = None
    openai_model: str | None = None
    api_key_env: str | None = None
    n_threads: int | None = None
    sequences: int | None = None  # the local node's sequences decoded together (None: 4)
    context_window: int = 4096
    state_url: str | None = None
    """State DB with the node registry and controls (agents' heartbeats, sensors' pause / throttle)."""
    heartbeat_max_age_s: float = 30.0
    refresh_interval_s: float = 2.0
    """How often registry, controls, settings, local probes and server signals are re-read while dispatching."""
    probes_per_refresh: int = 64
    """Servers whose load probes (/metrics, /slots) a dispatcher's periodic refresh reads, in rotation: at
    200 nodes every server every few refreshes, not 400 extra requests every 2 s."""
    concurrency_window_calls: int = 10
    performance_window_s: float = 10.0
    no_node_wait_s: float = 30.0
    """How long work waits for an eligible node before its slots fail with the reason (while no node is
    only waiting out faults: an open circuit or a Retry-After; then the retry.slot_deadline_s setting)."""
    seed: int | None = None

    _runtimes: dict[str, NodeRuntime] = PrivateAttr(default_factory=dict)
    _backends: dict[str, LLMBackend] = PrivateAttr(default_factory=dict)
    _engine: Engine | None = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.RLock)
    _rng: random.Random = PrivateAttr(default_factory=random.Random)
    _local_profile: HardwareProfile | None = PrivateAttr(default=None)
    _refreshed_at: float = PrivateAttr(default=0.0)
    _http: httpx.Client | None = PrivateAttr(default=None)
    _probe_cursor: int = PrivateAttr(default=0)
    _settings_store: SettingsStore | None = PrivateAttr(default=None)
    _settings: Settings | None = PrivateAttr(default=None)  # the orchestrator's (this machine's) view
    _metrics: DispatchMetrics | None = PrivateAttr(default=None)

    @classmethod
    def from_env(cls, state_url: str | None = None, **overrides: Any) -> NodeFleet:
        """The pool as the environment configures it (what Definitions and the CLI use)."""
        from transcript_foundry.settings.environment import (
            MODEL_PATH_ENV,
            NODES_FILE_ENV,
            OPENAI_BASE_URL_ENV,
            OPENAI_MODEL_ENV,
            local_sequences,
        )

        config: dict[str, Any] = {
            "nodes_file": os.environ.get(NODES_FILE_ENV) or None,
            "model_path": os.environ.get(MODEL_PATH_ENV) or None,
            "openai_base_url": os.environ.get(OPENAI_BASE_URL_ENV) or None,
            "openai_model": os.environ.get(OPENAI_MODEL_ENV) or None,
            "sequences": local_sequences(),
            "api_key_env": "OPENAI_API_KEY" if os.environ.get("OPENAI_API_KEY") else None,
            "state_url": state_url,
        }
        return cls(**{**config, **overrides})

    # ---- metrics --------------------------------------------------------------------------------------
    @property
    def dispatch_metrics(self) -> DispatchMetrics:
        """This process's dispatch counters and the fleet's gauges, in one registry (``metrics_registry``)."""
        if self._metrics is None:
            registry = CollectorRegistry(auto_describe=False)
            self._metrics = DispatchMetrics(registry)
            registry.register(FleetCollector(self))
        return self._metrics

    def metrics_registry(self) -> CollectorRegistry:
        return self.dispatch_metrics.registry

    # ---- configuration --------------------------------------------------------------------------------
    def use_settings(self, store: SettingsStore) -> None:
        """Read settings from ``store`` (default: the state DB's, with this process's environment)."""
        self._settings_store = store
        self._settings = None

    def settings_store(self) -> SettingsStore:
        if self._settings_store is None:
            self._settings_store = SettingsStore(self.engine())
        return self._settings_store

    @property
    def settings(self) -> Settings:
        """The fleet-wide settings as of the last refresh."""
        if self._settings is None:
            self._settings = self.settings_store().load().settings
        return self._settings

    @property
    def weights(self) -> ScoringWeights:
        return ScoringWeights.from_settings(self.settings.scoring)

    @property
    def retry_budget_settings(self) -> RetryBudgetSettings:
        return RetryBudgetSettings.from_settings(self.settings.retry)

    @property
    def max_attempts(self) -> int:
        return self.settings.retry.max_attempts

    @property
    def slot_deadline_s(self) -> float:
        return self.settings.retry.slot_deadline_s

    @property
    def backoff_base_s(self) -> float:
        return self.settings.retry.backoff_base_s

    @property
    def backoff_max_s(self) -> float:
        return self.settings.retry.backoff_max_s

    def engine(self) -> Engine | None:
        if self.state_url is None:
            return None
        if self._engine is None:
            from transcript_foundry.state.state_db import open_state_db

            self._engine = open_state_db(self.state_url)
        return self._engine

    def registry(self) -> NodeRegistry | None:
        engine = self.engine()
        return NodeRegistry(engine) if engine is not None else None

    def controls(self) -> NodeControls | None:
        engine = self.engine()
        return NodeControls(engine) if engine is not None else None

    def _configured_specs(self) -> list[tuple[NodeSpec, str]]:
        """(spec, source) of nodes.yaml or the OpenAI environment; empty when neither is set."""
        if self.nodes_file:
            return [
                (s, "config-local" if s.backend == "llama_cpp" else "config")
                for s in load_nodes_file(Path(self.nodes_file))
            ]
        if self.openai_base_url or self.openai_model:
            spec = NodeSpec(
                id="openai",
                backend="openai_compatible",
                url=self.openai_base_url,
                model=self.openai_model,
                api_key_env=self.api_key_env,
                context_window=self.context_window,
            )
            return [(spec, "config")]
        return []

    def check_config(self) -> list[NodeSpec]:
        """The configured nodes (nodes.yaml or the OpenAI environment), read and checked now, before any run
        starts: a NodeConfigError names the file, the node, the field and the fix."""
        specs = [spec for spec, _ in self._configured_specs()]
        for spec in specs:
            if spec.api_key_env and not os.environ.get(spec.api_key_env):
                raise NodeConfigError(
                    f"node {spec.id}: api_key_env names {spec.api_key_env}, but that environment variable "
                    "is empty; export it or remove api_key_env"
                )
        return specs

    def _local_spec(self) -> NodeSpec:
        return NodeSpec(
            id="local",
            backend="llama_cpp",
            model_path=self.model_path,
            n_threads=self.n_threads,
            context_window=self.context_window,
            max_concurrency=self.sequences,
        )

    def node_specs(self) -> list[NodeSpec]:
        """Every known node's spec (configured, then registered); only the pinned one when pinned."""
        return [r.spec for r in self.runtimes(refresh=True)]

    # ---- state ----------------------------------------------------------------------------------------
    def runtimes(self, refresh: bool = False) -> list[NodeRuntime]:
        if refresh or not self._runtimes:
            self.refresh(force=True)
        with self._lock:
            return list(self._runtimes.values())

    def runtime(self, node_id: str) -> NodeRuntime:
        with self._lock:
            if node_id not in self._runtimes:
                self.refresh(force=True)
            return self._runtimes[node_id]

    def _new_runtime(self, spec: NodeSpec, source: str, node_settings: Settings) -> NodeRuntime:
        low, high = spec.bounds_within(node_settings.pool.min_concurrency, node_settings.pool.max_concurrency)
        controls = self.controls()

        def on_change(before: str, after: str, reason: str, node_id: str = spec.id) -> None:
            if controls is not None:
                controls.record_event(
                    node_id,
                    source="circuit",
                    from_state=f"circuit_{before}",
                    to_state=f"circuit_{after}",
                    reason=reason,
                )

        return NodeRuntime(
            spec=spec,
            source=source,
            circuit=CircuitBreaker(CircuitSettings.from_settings(node_settings.circuit), on_change=on_change),
            concurrency=AdaptiveConcurrency(
                low, high, ConcurrencySettings(window_calls=self.concurrency_window_calls)
            ),
        )

    def refresh(self, *, force: bool = False, probe_servers: bool = False) -> None:
        """Re-read the node list, registry heartbeats, controls and the local machine's live state."""
        now = time.monotonic()
        if not force and now - self._refreshed_at < self.refresh_interval_s:
            return
        with self._lock:
            self._refreshed_at = now
            found: dict[str, tuple[NodeSpec, str]] = {s.id: (s, src) for s, src in self._configured_specs()}
            registry = self.registry()
            registered = {n.spec.id: n for n in registry.all()} if registry is not None else {}
            for node_id, node in registered.items():
                if node_id not in found:
                    found[node_id] = (node.spec, node.source)
            if not found:
                spec = self._local_spec()
                found[spec.id] = (spec, "local")
            pinned = os.environ.get(PINNED_NODE_ENV)
            if pinned:
                if pinned not in found:
                    known = ", ".join(found)
                    raise NodeConfigError(
                        f"{PINNED_NODE_ENV}={pinned!r} names no configured node (known: {known}); "
                        "unset it or name one"
                    )
                found = {pinned: found[pinned]}
            for node_id in list(self._runtimes):
                if node_id not in found:
                    del self._runtimes[node_id]
            hosts = {
                node_id: self._node_host(spec, source, registered.get(node_id))
                for node_id, (spec, source) in found.items()
            }
            by_host = self.settings_store().load_hosts([None, *sorted(set(hosts.values()))])
            self._settings = by_host[None].settings
            for node_id, (spec, source) in found.items():
                node_settings = by_host[hosts[node_id]].settings
                current = self._runtimes.get(node_id)
                if current is None or current.spec != spec:
                    if current is not None and node_id in self._backends:
                        self._backends.pop(node_id).close()
                    current = self._runtimes[node_id] = self._new_runtime(spec, source, node_settings)
                self._apply_settings(current, hosts[node_id], node_settings)
            control_rows = self.controls().all() if self.state_url else {}
            local_live = None
            if any(src in LOCAL_SOURCES for _, src in found.values()):
                from transcript_foundry.hardware.profile import probe_live, probe_profile

                if self._local_profile is None:
                    self._local_profile = probe_profile()
                local_live = probe_live(cpu_sample_s=0.0)
            for node_id, runtime in self._runtimes.items():
                runtime.control = control_rows.get(node_id)
                node = registered.get(node_id)
                if node is not None:
                    runtime.profile, runtime.live = node.profile, node.live
                    runtime.heartbeat_age_s = node.heartbeat_age_s
                    runtime.stale_reason = (
                        f"heartbeat stale: {node.heartbeat_age_s:.0f} s old > {self.heartbeat_max_age_s:.0f} s"
                        if node.stale(self.heartbeat_max_age_s)
                        else None
                    )
                elif runtime.source in LOCAL_SOURCES:
                    runtime.profile, runtime.live = self._local_profile, local_live
        if probe_servers:
            self.probe_servers()

    @staticmethod
    def _node_host(spec: NodeSpec, source: str, registered: Any) -> str:
        """The hostname whose settings profile applies to the node: the agent's machine, this machine for
        in-process nodes, else the spec's ``hostname`` (default: the node id)."""
        if registered is not None and registered.hostname:
            return str(registered.hostname)
        if source in LOCAL_SOURCES:
            return socket.gethostname()
        return spec.hostname or spec.id

    @staticmethod
    def _apply_settings(runtime: NodeRuntime, host: str, node_settings: Settings) -> None:
        runtime.hostname = host
        runtime.thermal = ThermalLimits.from_settings(node_settings.thermal)
        runtime.circuit.configure(CircuitSettings.from_settings(node_settings.circuit))
        runtime.concurrency.set_bounds(
            *runtime.spec.bounds_within(
                node_settings.pool.min_concurrency, node_settings.pool.max_concurrency
            )
        )

    def probe_servers(self, limit: int | None = None) -> None:
        """Read each HTTP node's /metrics, /slots and /v1/models (short timeouts; absent ones give None);
        with ``limit``, only that many servers, the next ones in rotation."""
        if self._http is None:
            limits = httpx.Limits(
                max_connections=PROBE_THREADS * 2, max_keepalive_connections=PROBE_THREADS * 2
            )
            self._http = httpx.Client(timeout=httpx.Timeout(1.0, connect=0.5), trust_env=False, limits=limits)
        http = self._http
        probed = [
            r
            for r in self.runtimes()
            if r.spec.backend == "openai_compatible" and r.spec.server_signals and r.spec.url
        ]
        if limit is not None and len(probed) > limit:
            start = self._probe_cursor % len(probed)
            probed = (probed[start:] + probed[:start])[:limit]
            self._probe_cursor = start + limit

        def probe(runtime: NodeRuntime) -> None:
            if runtime.probe is None:
                runtime.probe = ServerProbe(runtime.spec.url or "")
            runtime.signals = runtime.probe.fetch(http, idle=runtime.in_flight == 0)
            if runtime.signals.slots_total:
                runtime.concurrency.hint_capacity(runtime.signals.slots_total)

        if len(probed) <= 1:
            for runtime in probed:
                probe(runtime)
            return
        # Servers answer in parallel: 200 nodes read one after the other took seconds per refresh.
        with ThreadPoolExecutor(
            max_workers=min(PROBE_THREADS, len(probed)), thread_name_prefix="probe"
        ) as pool:
            list(pool.map(probe, probed))

    def set_live(self, node_id: str, live: LiveState) -> None:
        """Inject a node's live state (a probe of one's own, or a test)."""
        self.runtime(node_id).live = live

    # ---- routing --------------------------------------------------------------------------------------
    def rank_nodes(
        self, requirements: StepRequirements = ANY_STEP, *, refresh: bool = True
    ) -> list[RankedNode]:
        """Every known node, eligible ones best first with their score components, then the excluded ones
        with the reason (paused, circuit open, stale heartbeat, model not loaded, context too small ...).
        ``refresh`` re-reads registry and controls when the last read is older than refresh_interval_s."""
        if refresh:
            self.refresh()
        return rank([r.snapshot() for r in self.runtimes()], requirements, self.weights)

    def backend(self, node_id: str) -> LLMBackend:
        with self._lock:
            backend = self._backends.get(node_id)
            if backend is not None:
                return backend
            spec = self.runtime(node_id).spec
        built = build_backend(spec)  # outside the lock: calls to other nodes go on meanwhile
        with self._lock:
            backend = self._backends.setdefault(node_id, built)
        if backend is not built:
            built.close()
        return backend

    def candidates(self, requirements: StepRequirements = ANY_STEP) -> list[LLMBackend]:
        """Backends of the eligible nodes, best first."""
        return [self.backend(r.node_id) for r in self.rank_nodes(requirements) if r.eligible]

    def dispatcher(self, **kwargs: Any) -> Dispatcher:
        """A Dispatcher over this pool (see transcript_foundry/pool/dispatch.py for its keyword arguments)."""
        return Dispatcher(self, **kwargs)

    def close(self) -> None:
        with self._lock:
            for backend in self._backends.values():
                backend.close()
            self._backends.clear()
        if self._http is not None:
            self._http.close()
            self._http = None
