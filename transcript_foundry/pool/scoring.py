"""Node scoring and choice: pure functions over snapshots of the nodes' state.

First the filters (paused, circuit open, cooling down after a Retry-After, stale heartbeat, model not
loaded, context too small, a step requirement not met, critically hot); then the score of each node left:

    score = w_thermal * thermal headroom + w_queue * queue headroom
          + w_capability * capability match + w_history * history        (weights 0.4 / 0.3 / 0.2 / 0.1)

each component in [0, 1] and kept in ``RankedNode.components``; the node's ``weight`` (nodes.yaml)
multiplies the sum. The weights are the ``scoring`` settings and each node's thermal marks its host's
``thermal`` settings (the ones the thermal_guard sensor uses), both read by the pool at each refresh. ``choose`` picks by power-of-two-choices: two nodes drawn at random (weighted by
score), the better one wins, so the best node is preferred without being stampeded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from transcript_foundry.pool.node_choice import RankedNode, StepRequirements

COMPONENTS = ("thermal", "queue", "capability", "history")
ANY_STEP = StepRequirements()  # no requirements


@dataclass(frozen=True)
class ScoringWeights:
    thermal: float = 0.4
    queue: float = 0.3
    capability: float = 0.2
    history: float = 0.1

    def __post_init__(self) -> None:
        for name in COMPONENTS:
            if getattr(self, name) < 0:
                raise ValueError(f"score weight {name} must be >= 0, got {getattr(self, name)}")
        if self.total <= 0:
            raise ValueError("score weights: at least one of thermal, queue, capability, history must be > 0")

    @property
    def total(self) -> float:
        return self.thermal + self.queue + self.capability + self.history

    @classmethod
    def from_settings(cls, scoring: Any) -> ScoringWeights:
        """From a ``transcript_foundry.settings.model.ScoringSettings``."""
        return cls(scoring.thermal, scoring.queue, scoring.capability, scoring.history)


@dataclass(frozen=True)
class ThermalLimits:
    """Degrees C: headroom falls from 1 at ``*_warm`` to 0 at ``*_hot``; ``*_critical`` excludes the node.

    The pool builds them from the node's ``thermal`` settings (``from_settings``): warm = ``*_warm_c``,
    hot = ``*_throttle_c``, critical = ``*_critical_c``. The defaults here equal the shipped defaults.yaml
    (a test holds them together) and serve pure-function callers only."""

    cpu_warm: float = 60.0
    cpu_hot: float = 80.0
    cpu_critical: float = 95.0
    gpu_warm: float = 65.0
    gpu_hot: float = 85.0
    gpu_critical: float = 92.0
    unknown_headroom: float = 0.75  # a node that reports no temperature ranks below a measured cool one

    @classmethod
    def from_settings(cls, thermal: Any) -> ThermalLimits:
        """From a ``transcript_foundry.settings.model.ThermalSettings``."""
        return cls(
            cpu_warm=thermal.cpu_warm_c,
            cpu_hot=thermal.cpu_throttle_c,
            cpu_critical=thermal.cpu_critical_c,
            gpu_warm=thermal.gpu_warm_c,
            gpu_hot=thermal.gpu_throttle_c,
            gpu_critical=thermal.gpu_critical_c,
        )


@dataclass(frozen=True)
class NodeSnapshot:
    """What scoring needs to know about one node at one moment."""

    node_id: str
    context_window: int
    concurrency_limit: int
    in_flight: int = 0
    backend_waiting: int = 0  # the server's own queue (llama-server deferred, vLLM waiting, agent queue)
    capabilities: frozenset[str] = frozenset()
    cpu_temp_c: float | None = None
    gpu_temp_c: float | None = None
    gpu_count: int = 0
    vram_free_mb: int | None = None
    vram_total_mb: int = 0
    tokens_per_s: float | None = None  # measured (EWMA) or declared
    success_rate: float | None = None  # EWMA of call successes; None = no history yet
    weight: float = 1.0
    blocked: str | None = None  # a filter already decided outside scoring (paused, circuit open, stale ...)
    kubernetes_node: str | None = None
    thermal: ThermalLimits = ThermalLimits()  # the node's host's limits
    details: dict[str, object] = field(default_factory=dict)


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low))) if high > low else float(value >= high)


def thermal_headroom(
    cpu_c: float | None, gpu_c: float | None, limits: ThermalLimits = ThermalLimits()
) -> float:
    """1 when cool, falling quadratically to 0 at the hot threshold of the hotter of CPU and GPU."""
    if cpu_c is None and gpu_c is None:
        return limits.unknown_headroom
    heat = max(
        _ramp(cpu_c, limits.cpu_warm, limits.cpu_hot) if cpu_c is not None else 0.0,
        _ramp(gpu_c, limits.gpu_warm, limits.gpu_hot) if gpu_c is not None else 0.0,
    )
    return 1.0 - heat * heat


def is_hot(cpu_c: float | None, gpu_c: float | None, limits: ThermalLimits = ThermalLimits()) -> bool:
    """At or above the hot threshold: the pool caps the node at one request in flight."""
    return (cpu_c is not None and cpu_c >= limits.cpu_hot) or (gpu_c is not None and gpu_c >= limits.gpu_hot)


def queue_headroom(in_flight: int, waiting: int, limit: int) -> float:
    """1 when idle, 0 when the queue is half again the concurrency limit."""
    load = (in_flight + waiting) / max(1, limit)
    return 1.0 - min(load, 1.5) / 1.5


def capability_match(
    node: NodeSnapshot, requirements: StepRequirements, fleet_max_tps: float | None, fleet_max_context: int
) -> float:
    """Speed relative to the fastest node (0.6), context headroom (0.2), memory for the step (0.2)."""
    if node.tokens_per_s is not None and fleet_max_tps:
        speed = min(1.0, node.tokens_per_s / fleet_max_tps)
    else:
        speed = 0.5  # not measured, not declared
    context = min(1.0, node.context_window / max(1, fleet_max_context))
    if requirements.min_vram_mb and node.vram_free_mb is not None:
        memory = min(1.0, node.vram_free_mb / (2 * requirements.min_vram_mb))
    elif node.gpu_count or "gpu" in node.capabilities:
        memory = 1.0
    else:
        memory = 0.5
    return 0.6 * speed + 0.2 * context + 0.2 * memory


def history_score(success_rate: float | None) -> float:
    return 0.5 if success_rate is None else min(1.0, max(0.0, success_rate))


def exclusion(node: NodeSnapshot, requirements: StepRequirements) -> str | None:
    """Why the node may not take this work, or None (thermal limits: the node's own)."""
    limits = node.thermal
    if node.blocked:
        return node.blocked
    if node.cpu_temp_c is not None and node.cpu_temp_c >= limits.cpu_critical:
        return f"critically hot: CPU {node.cpu_temp_c:.0f} C >= {limits.cpu_critical:.0f} C"
    if node.gpu_temp_c is not None and node.gpu_temp_c >= limits.gpu_critical:
        return f"critically hot: GPU {node.gpu_temp_c:.0f} C >= {limits.gpu_critical:.0f} C"
    if requirements.min_context and node.context_window < requirements.min_context:
        return f"context too small: {node.context_window} < {requirements.min_context} tokens"
    if requirements.needs_gpu and not (node.gpu_count or "gpu" in node.capabilities):
        return "the step needs a GPU and the node has none"
    if requirements.min_vram_mb:
        vram = node.vram_free_mb if node.vram_free_mb is not None else node.vram_total_mb
        if vram < requirements.min_vram_mb:
            return f"not enough free VRAM: {vram} MB < {requirements.min_vram_mb} MB"
    missing = [c for c in requirements.capabilities if c not in node.capabilities]
    if missing:
        return f"lacks capability {', '.join(missing)}"
    return None


@dataclass(frozen=True)
class FleetScale:
    """What capability is measured against: the fastest node's tokens/s, the largest context window."""

    tokens_per_s: float | None
    context_window: int


def fleet_scale(nodes: Sequence[NodeSnapshot]) -> FleetScale:
    measured = [n.tokens_per_s for n in nodes if n.tokens_per_s]
    return FleetScale(max(measured) if measured else None, max((n.context_window for n in nodes), default=1))


def score_node(
    node: NodeSnapshot,
    scale: FleetScale,
    requirements: StepRequirements = ANY_STEP,
    weights: ScoringWeights = ScoringWeights(),
) -> RankedNode:
    """One node's filters and score within a fleet."""
    components = {
        "thermal": thermal_headroom(node.cpu_temp_c, node.gpu_temp_c, node.thermal),
        "queue": queue_headroom(node.in_flight, node.backend_waiting, node.concurrency_limit),
        "capability": capability_match(node, requirements, scale.tokens_per_s, scale.context_window),
        "history": history_score(node.success_rate),
    }
    total = sum(getattr(weights, k) * v for k, v in components.items()) / weights.total
    why = exclusion(node, requirements)
    return RankedNode(
        node_id=node.node_id,
        score=round(total * node.weight, 4) if why is None else 0.0,
        components={k: round(v, 4) for k, v in components.items()},
        eligible=why is None,
        excluded_because=why,
        kubernetes_node=node.kubernetes_node,
        details=node.details,
    )


def rank(
    nodes: Sequence[NodeSnapshot],
    requirements: StepRequirements = ANY_STEP,
    weights: ScoringWeights = ScoringWeights(),
) -> list[RankedNode]:
    """Every node: eligible ones best first, then the excluded ones with the reason."""
    scale = fleet_scale(nodes)
    ranked = [score_node(node, scale, requirements, weights) for node in nodes]
    eligible = sorted((r for r in ranked if r.eligible), key=lambda r: r.score, reverse=True)
    return eligible + [r for r in ranked if not r.eligible]


def choose(candidates: Sequence[RankedNode], rng: random.Random, choices: int = 2) -> RankedNode | None:
    """Power-of-``choices``: draw that many distinct eligible nodes weighted by score; the best wins."""
    pool = [c for c in candidates if c.eligible]
    if len(pool) <= 1:
        return pool[0] if pool else None
    drawn: list[RankedNode] = []
    for _ in range(min(choices, len(pool))):
        weights = [max(c.score, 1e-6) for c in pool]
        pick = rng.choices(range(len(pool)), weights=weights)[0]
        drawn.append(pool.pop(pick))
    return max(drawn, key=lambda c: c.score)
