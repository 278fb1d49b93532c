"""The quality discriminator: the model-free scorer, joined by the LLM judge where one is configured.

Every transcript gets the four scores (naturalness, coherence, domain_accuracy, emotional_consistency)
from the model-free checks. With a judge, each dimension becomes ``(1 - judge_weight) * model_free +
judge_weight * judge`` and ``overall`` is recomputed with the configured weights; the model-free hard rules
(turn count, alternation, loops) still fail a transcript whatever the judge says. A judge answer that is
unparseable, or a judge call that fails, leaves that transcript on its model-free scores; its report says
so (``judge.outcome``), and the shard's metadata counts the outcomes.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.quality.gate import (
    DEFAULT_WEIGHTS,
    DIMENSIONS,
    QualityIssue,
    QualityReport,
    assess,
    validate_weights,
    weighted_overall,
)
from transcript_foundry.quality.llm_judge import LLMJudge

JudgeMode = Literal["auto", "on", "off"]
JUDGE_ENV = "TRANSCRIPTS_JUDGE"
JUDGE_NODE_ENV = "TRANSCRIPTS_JUDGE_NODE"


class JudgeConfigError(ValueError):
    """The judge setting names a mode or node that does not exist; the message says which and the fix."""


@dataclass(frozen=True)
class DiscriminatorSettings:
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    judge: JudgeMode = "auto"
    judge_node: str | None = None
    judge_weight: float = 0.5

    def __post_init__(self) -> None:
        validate_weights(self.weights)
        if self.judge not in ("auto", "on", "off"):
            raise JudgeConfigError(f"judge: {self.judge!r} is not one of auto, on, off")
        if not 0.0 <= self.judge_weight <= 1.0:
            raise JudgeConfigError(f"judge_weight: {self.judge_weight} must be between 0 and 1")


def judge_settings_from_env(judge: str | None, judge_node: str | None) -> tuple[JudgeMode, str | None]:
    """Run config first, then ``TRANSCRIPTS_JUDGE`` / ``TRANSCRIPTS_JUDGE_NODE``, then auto."""
    mode = (judge or os.environ.get(JUDGE_ENV) or "auto").strip().lower()
    if mode not in ("auto", "on", "off"):
        raise JudgeConfigError(f"judge: {mode!r} is not one of auto, on, off (run config or {JUDGE_ENV})")
    return mode, judge_node or os.environ.get(JUDGE_NODE_ENV) or None  # type: ignore[return-value]


def resolve_judge_node(pool: NodeFleet, mode: JudgeMode, node: str | None) -> str | None:
    """The node id that judges, or None. auto: the named node, else the first chat-capable node."""
    if mode == "off":
        return None
    specs = pool.node_specs()
    if node is not None:
        if node not in {s.id for s in specs}:
            raise JudgeConfigError(
                f"judge_node: no node {node!r} in the pool (nodes: {', '.join(s.id for s in specs)}); name one "
                "of them or leave judge_node unset"
            )
        return node
    chat = [s.id for s in specs if s.resolved_prompt_style == "chat_json"]
    if chat:
        return chat[0]
    return specs[0].id if mode == "on" else None


class Discriminator:
    """Scores transcripts of one shard: ``score(t)`` returns its QualityReport; ``judge_outcomes`` counts."""

    def __init__(
        self,
        pack: DomainPack,
        bounds: tuple[int, int],
        threshold: float,
        settings: DiscriminatorSettings = DiscriminatorSettings(),
        judge: LLMJudge | None = None,
    ):
        self.pack = pack
        self.bounds = bounds
        self.threshold = threshold
        self.settings = settings
        self.judge = judge
        self.judge_outcomes: Counter[str] = Counter()
        self.judge_tokens = 0

    def score(self, t: Transcript) -> QualityReport:
        report = assess(t, self.pack, self.bounds, self.threshold, self.settings.weights)
        if self.judge is None:
            self.judge_outcomes["off"] += 1
            return report
        verdict = self.judge.judge(t, self.pack)
        self.judge_outcomes[verdict.outcome] += 1
        self.judge_tokens += verdict.output_tokens
        report.judge = verdict.as_dict()
        if not verdict.ok or verdict.scores is None:
            report.judge["fallback"] = "model-free scores used for this transcript"
            report.reasons.append(f"judge {verdict.outcome} ({verdict.detail[:120]}); model-free scores used")
            return report
        w = self.settings.judge_weight
        report.scores = {d: round((1 - w) * report.scores[d] + w * verdict.scores[d], 4) for d in DIMENSIONS}
        report.overall = weighted_overall(report.scores, self.settings.weights)
        report.scorer = "model_free+judge"
        report.passed = not report.hard_failure and report.overall >= self.threshold
        report.reasons = [r for r in report.reasons if not r.startswith("overall ")]
        if report.overall < self.threshold:
            report.reasons.insert(0, f"overall {report.overall:.2f} below the threshold {self.threshold:.2f}")
        if verdict.critique:
            report.reasons.append(f"judge: {verdict.critique}")
        known = {i.turn for i in report.issues}
        report.issues.extend(
            QualityIssue("judge", i, "says it more naturally and to the point")
            for i in verdict.weak_turns
            if i not in known
        )
        return report
