"""NodeAgent: the parts of one running agent (upstream, admission, limits, auth, metrics, audit,
registration) built from an AgentConfig, and the NodeSpec it advertises to the orchestrator."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from node_agent.admission import Admission
from node_agent.audit import AuditLog
from node_agent.auth import Principal, Role, TokenVerifier
from node_agent.config import AgentConfig
from node_agent.http_upstream import HttpUpstream
from node_agent.llama_upstream import LlamaCppUpstream
from node_agent.metrics import AgentMetrics
from node_agent.rate_limit import RateLimiter
from node_agent.registration import CONTROL_SOURCE, NodeRegistration
from node_agent.upstream import Upstream
from transcript_foundry.hardware import profile as hardware
from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState
from transcript_foundry.pool.node_spec import DEFAULT_MIN_CONCURRENCY, NodeSpec
from transcript_foundry.settings.environment import project_paths

# What the agent adds to the machine's capabilities: the pool matches steps' needs against these.
AGENT_CAPABILITIES = ("agent", "completion", "chat_json", "json_schema", "stream")


def build_upstream(config: AgentConfig) -> Upstream:
    if config.upstream_url:
        return HttpUpstream(
            config.upstream_url,
            model=config.upstream_model,
            context_window=config.context_window,
            api_key_env=config.upstream_api_key_env,
            timeout_s=config.upstream_timeout_s,
            model_name=config.model_name,
            structured_output=config.upstream_structured_output,
        )
    return LlamaCppUpstream(
        config.model_path,
        context_window=config.context_window,
        n_threads=config.n_threads,
        model_name=config.model_name,
    )


def default_advertise_url(config: AgentConfig, port: int) -> str:
    host = config.host
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"{config.scheme}://{host}:{port}/v1"


class NodeAgent:
    def __init__(
        self,
        config: AgentConfig,
        upstream: Upstream | None = None,
        *,
        probe_profile: Callable[[], HardwareProfile] | None = None,
        probe_live: Callable[[], LiveState] | None = None,
    ):
        config.check()
        self.config = config
        self.upstream = upstream or build_upstream(config)
        self._probe_profile = probe_profile or hardware.probe_profile
        self._probe_live = probe_live or hardware.probe_live
        self.admission = Admission(config.concurrency, config.max_queue)
        self.limiter = RateLimiter(config.rate_limit_rps, config.rate_limit_burst)
        self.verifier = (
            None
            if config.no_auth
            else TokenVerifier(secret=config.jwt_secret, public_key=config.jwt_public_key)
        )
        self.audit = AuditLog(config.audit_log or project_paths().home / "agent-audit.jsonl")
        self.metrics: AgentMetrics | None = None
        self.profile: HardwareProfile | None = None
        self.spec: NodeSpec | None = None
        self.registration: NodeRegistration | None = None

    # ---- start-up, once the upstream answers and the port is known --------------------------------
    def prepare(self, port: int) -> None:
        self.spec = self.node_spec(self.config.advertise_url or default_advertise_url(self.config, port))
        profile = self._probe_profile()
        capabilities = sorted({*profile.capabilities, *AGENT_CAPABILITIES})
        self.profile = profile.model_copy(update={"capabilities": capabilities})
        self.metrics = AgentMetrics(
            self.admission,
            {
                "node_id": self.spec.id,
                "model": self.upstream.model_name,
                "backend": self.upstream.kind,
                "url": self.spec.url or "",
            },
        )
        if self.config.register:
            from transcript_foundry.state.state_db import open_state_db

            engine = open_state_db(self.config.state_url or project_paths().state_url)
            self.registration = NodeRegistration(
                engine, self.spec, self.profile, self.live_state, self.config.heartbeat_s
            )

    def node_spec(self, url: str) -> NodeSpec:
        """How the orchestrator reaches this node: an OpenAI-compatible server at ``url``."""
        style = self.config.prompt_style
        concurrency = self.admission.max_concurrency
        pool_max = concurrency + min(self.admission.max_queue, concurrency)
        if style == "auto":
            style = "completion" if self.upstream.kind == "llama_cpp" else "chat_json"
        return NodeSpec(
            id=self.config.node_id,
            backend="openai_compatible",
            url=url.rstrip("/"),
            model=self.upstream.model_name,
            api_key_env=None if self.config.no_auth else self.config.token_env,
            prompt_style=style,  # type: ignore[arg-type]
            structured_output="json_schema",
            context_window=self.upstream.context_window,
            timeout_s=self.config.upstream_timeout_s,
            capabilities=list(AGENT_CAPABILITIES),
            # Enough calls to keep the model busy between answers, never more than the agent admits.
            min_concurrency=min(DEFAULT_MIN_CONCURRENCY, pool_max),
            max_concurrency=pool_max,
            # The heartbeat carries the queue (LiveState.in_flight / queue_depth): no need to scrape.
            server_signals=False,
        )

    def register(self) -> None:
        if self.registration is None:
            return
        self.registration.register()
        control = self.registration.controls.get(self.config.node_id)
        if control.paused and control.source == CONTROL_SOURCE:  # our own drain from before a restart
            self.registration.set_paused(False, "agent restarted: admitting again")

    def deregister(self) -> None:
        if self.registration is not None:
            self.registration.deregister()

    # ---- what the endpoints ask ---------------------------------------------------------------------
    def live_state(self) -> LiveState:
        return self._probe_live().model_copy(
            update={"in_flight": self.admission.in_flight, "queue_depth": self.admission.waiting}
        )

    def authenticate(self, authorization: str | None) -> Principal:
        if self.verifier is None:
            return Principal(subject="anonymous", role=Role.admin)
        return self.verifier.verify(authorization)

    def set_draining(self, draining: bool, by: str) -> None:
        self.admission.draining = draining
        if self.registration is not None:
            reason = f"drained by {by} through the agent" if draining else f"resumed by {by}"
            self.registration.set_paused(draining, reason)

    def node_status(self) -> dict[str, Any]:
        assert self.spec and self.profile, "prepare() runs before serving"
        a = self.admission
        return {
            "node_id": self.spec.id,
            "spec": self.spec.model_dump(mode="json"),
            "backend": self.upstream.describe(),
            "profile": self.profile.model_dump(mode="json"),
            "live": self.live_state().model_dump(mode="json"),
            "queue": {
                "in_flight": a.in_flight,
                "queue_depth": a.waiting,
                "max_concurrency": a.max_concurrency,
                "max_queue": a.max_queue,
                "draining": a.draining,
                "mean_latency_s": round(a.mean_latency_s(), 3),
            },
            "limits": {
                "rate_limit_rps": self.limiter.rate,
                "rate_limit_burst": self.limiter.burst,
                "auth": "none" if self.verifier is None else "jwt",
            },
            "registration": {
                "registered": self.registration is not None,
                "heartbeat_s": self.config.heartbeat_s,
                "heartbeats": self.registration.beats if self.registration else 0,
                "last_error": self.registration.last_error if self.registration else None,
            },
        }
