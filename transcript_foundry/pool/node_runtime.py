"""NodeRuntime: everything the pool knows about one node while it works: its spec, where it came from,
hardware profile and live state, controls, in-flight count, server signals, measured speed and success,
its circuit breaker and its adaptive concurrency limit. ``snapshot()`` is what scoring sees.

Counters are updated from worker threads (one per call in flight), so they sit behind one lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState
from transcript_foundry.pool.circuit import CircuitBreaker
from transcript_foundry.pool.concurrency import AdaptiveConcurrency
from transcript_foundry.pool.node_controls import NodeControl
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.pool.performance_window import PerformanceWindow
from transcript_foundry.pool.scoring import NodeSnapshot, ThermalLimits, is_hot
from transcript_foundry.pool.server_signals import ServerProbe, ServerSignals

EWMA_ALPHA = 0.1


def derived_capabilities(spec: NodeSpec, profile: HardwareProfile | None) -> frozenset[str]:
    caps = set(spec.capabilities)
    caps.add(spec.resolved_prompt_style)  # completion | chat_json
    if profile is not None:
        caps.update(profile.capabilities)
        if profile.gpu_count:
            caps.add("gpu")
    return frozenset(caps)


@dataclass
class NodeRuntime:
    spec: NodeSpec
    source: str  # config | agent | local
    circuit: CircuitBreaker
    concurrency: AdaptiveConcurrency
    clock: Callable[[], float] = time.monotonic
    profile: HardwareProfile | None = None
    live: LiveState | None = None
    heartbeat_age_s: float | None = None
    stale_reason: str | None = None
    control: NodeControl | None = None
    hostname: str | None = None  # picks the node's settings profile
    thermal: ThermalLimits = field(default_factory=ThermalLimits)  # its host's thermal settings
    signals: ServerSignals | None = None
    probe: ServerProbe | None = None  # its server's load probes (HTTP nodes)
    in_flight: int = 0
    cooldown_until: float = 0.0
    cooldown_reason: str | None = None
    last_sample: tuple[float, float] | None = None  # (tokens/s, error ratio) of its last closed window
    call_seconds: float | None = None  # EWMA of a successful call's duration
    tokens_per_s: float | None = None  # EWMA of measured output tokens/s per call
    success_rate: float | None = None  # EWMA of call outcomes, from an optimistic prior of 1
    window: PerformanceWindow = field(init=False)
    _capability_cache: tuple[HardwareProfile | None, frozenset[str]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.window = PerformanceWindow(self.spec.id, clock=self.clock)

    @property
    def node_id(self) -> str:
        return self.spec.id

    # ---- limits ---------------------------------------------------------------------------------------
    def hot(self) -> bool:
        live = self.live
        return live is not None and is_hot(live.cpu_temp_c, live.gpu_temp_c, self.thermal)

    def limit(self, hot: bool | None = None) -> int:
        throttle = self.control.throttle_factor if self.control else 1.0
        effective = self.concurrency.effective(throttle, self.hot() if hot is None else hot)
        return 1 if self.circuit.state == "half_open" else effective

    def has_capacity(self) -> bool:
        return self.in_flight < self.limit()

    def waiting_out_faults(self) -> bool:
        """Kept from work only by faults it recovers from by itself: an open circuit (a half-open probe
        follows) or a Retry-After cooldown; not paused, not stale."""
        if (self.control is not None and self.control.paused) or self.stale_reason:
            return False
        return self.circuit.state != "closed" or self.clock() < self.cooldown_until

    @property
    def weight(self) -> float:
        """The score multiplier: an operator's (node_controls) over the spec's (nodes.yaml)."""
        if self.control is not None and self.control.weight is not None:
            return self.control.weight
        return self.spec.weight

    def blocked(self) -> str | None:
        """A filter that scoring cannot see: paused, stale, circuit, cooldown, model not loaded."""
        if self.control is not None and self.control.paused:
            return f"paused by {self.control.source or 'an operator'}: {self.control.reason or 'no reason given'}"
        if self.stale_reason:
            return self.stale_reason
        circuit = self.circuit.blocked_reason()
        if circuit:
            return circuit
        if self.clock() < self.cooldown_until:
            return f"cooling down {self.cooldown_until - self.clock():.1f} s more ({self.cooldown_reason})"
        signals = self.signals
        models = signals.models if signals is not None else None
        if models is not None and self.spec.model and self.spec.model not in models:
            served = ", ".join(models) or "nothing"
            return f"model {self.spec.model!r} not loaded (the server serves: {served})"
        return None

    # ---- calls ----------------------------------------------------------------------------------------
    def started(self) -> None:
        with self._lock:
            self.in_flight += 1

    def finished(self) -> None:
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)

    def call_succeeded(self, tokens: int, seconds: float) -> None:
        with self._lock:
            in_flight = self.in_flight
            if seconds > 0:
                self.call_seconds = (
                    seconds if self.call_seconds is None else _ewma(self.call_seconds, seconds)
                )
            if seconds > 0 and tokens > 0:
                rate = tokens / seconds
                self.tokens_per_s = rate if self.tokens_per_s is None else _ewma(self.tokens_per_s, rate)
            self.success_rate = _ewma(1.0 if self.success_rate is None else self.success_rate, 1.0)
        self.window.success(tokens, seconds)
        self.concurrency.observe(tokens, seconds, in_flight)

    def call_failed(self, seconds: float) -> None:
        with self._lock:
            self.success_rate = _ewma(1.0 if self.success_rate is None else self.success_rate, 0.0)
        self.window.failure(seconds)

    def cool_down(self, seconds: float, reason: str) -> None:
        with self._lock:
            until = self.clock() + seconds
            if until > self.cooldown_until:
                self.cooldown_until, self.cooldown_reason = until, reason

    def _capabilities(self, profile: HardwareProfile | None) -> frozenset[str]:
        cached = self._capability_cache
        if cached is None or cached[0] is not profile:
            cached = self._capability_cache = (profile, derived_capabilities(self.spec, profile))
        return cached[1]

    def token_budget(self) -> int:
        """Tokens one call may use: the context window, bounded by free VRAM where the KV size is known."""
        budget = self.spec.context_window
        free_mb = self.live.gpu_memory_free_mb if self.live else None
        if self.spec.kv_bytes_per_token and free_mb is not None:
            budget = min(budget, free_mb * 1024 * 1024 // self.spec.kv_bytes_per_token)
        return max(1, budget)

    # ---- scoring --------------------------------------------------------------------------------------
    def snapshot(self) -> NodeSnapshot:
        live, profile, signals = self.live, self.profile, self.signals
        waiting = signals.backend_waiting if signals else 0
        if live is not None:
            waiting = max(waiting, live.queue_depth)
        vram_free = live.gpu_memory_free_mb if live else None
        if vram_free is None and profile is not None and profile.gpus:
            free = [g.memory_free_mb for g in profile.gpus if g.memory_free_mb is not None]
            vram_free = sum(free) if free else None
        hot = self.hot()
        limit = self.limit(hot)
        return NodeSnapshot(
            node_id=self.node_id,
            context_window=self.spec.context_window,
            concurrency_limit=limit,
            in_flight=max(self.in_flight, live.in_flight if live else 0),
            backend_waiting=waiting,
            capabilities=self._capabilities(profile),
            cpu_temp_c=live.cpu_temp_c if live else None,
            gpu_temp_c=live.gpu_temp_c if live else None,
            gpu_count=profile.gpu_count if profile else 0,
            vram_free_mb=vram_free,
            vram_total_mb=profile.gpu_memory_mb if profile else 0,
            tokens_per_s=self.tokens_per_s or self.spec.tokens_per_s,
            success_rate=self.success_rate,
            weight=self.weight,
            blocked=self.blocked(),
            kubernetes_node=self.spec.kubernetes_node,
            thermal=self.thermal,
            details={
                "source": self.source,
                "circuit": self.circuit.state,
                "concurrency_limit": limit,
                "concurrency_bounds": list(self.spec.concurrency_bounds),
                "in_flight": self.in_flight,
                "backend_waiting": waiting,
                "throttle_factor": self.control.throttle_factor if self.control else 1.0,
                "hot": hot,
                "heartbeat_age_s": None if self.heartbeat_age_s is None else round(self.heartbeat_age_s, 1),
            },
        )


def _ewma(old: float, new: float) -> float:
    return (1 - EWMA_ALPHA) * old + EWMA_ALPHA * new
