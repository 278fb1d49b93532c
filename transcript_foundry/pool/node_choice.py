"""What a step needs from a node, and a node as the pool ranks it: the values routing decisions use.

The node-routing executor reads a step's op tags into ``StepRequirements`` and asks the pool
(``NodePool.rank_nodes``) for ``RankedNode``s, best first; it then pins the step to the winner
(``PINNED_NODE_ENV`` for a local subprocess, node affinity / selector on Kubernetes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PINNED_NODE_ENV = "TRANSCRIPTS_PINNED_NODE"  # set: the pool in this process uses only this node

# Op tags a step may carry to say what it needs (all optional).
TAG_MIN_VRAM_MB = "transcripts/min_vram_mb"
TAG_NEEDS_GPU = "transcripts/needs_gpu"
TAG_CAPABILITIES = "transcripts/capabilities"  # comma-separated, e.g. "chat_json"
TAG_MIN_CONTEXT = "transcripts/min_context"


@dataclass(frozen=True)
class StepRequirements:
    min_vram_mb: int = 0
    needs_gpu: bool = False
    capabilities: tuple[str, ...] = ()
    min_context: int = 0

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> StepRequirements:
        def number(key: str) -> int:
            raw = tags.get(key, "0") or "0"
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"op tag {key}={raw!r} must be a whole number, e.g. {key}=8192") from None

        caps = tuple(c.strip() for c in tags.get(TAG_CAPABILITIES, "").split(",") if c.strip())
        needs_gpu = tags.get(TAG_NEEDS_GPU, "false").strip().lower() in ("1", "true", "yes")
        return cls(
            min_vram_mb=number(TAG_MIN_VRAM_MB),
            needs_gpu=needs_gpu,
            capabilities=caps,
            min_context=number(TAG_MIN_CONTEXT),
        )


@dataclass(frozen=True)
class RankedNode:
    node_id: str
    score: float  # weighted sum of the components, in [0, 1]
    components: dict[str, float]  # thermal, queue, capability, history: each in [0, 1]
    eligible: bool = True
    excluded_because: str | None = None  # the filter that removed it (paused, circuit open, ...)
    kubernetes_node: str | None = None  # the Kubernetes node name it runs on, when known
    details: dict[str, object] = field(default_factory=dict)
