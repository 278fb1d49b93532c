"""The quality discriminator: the coherence discriminator and the model-free checks, joined by the LLM judge
where one is configured.

Every transcript gets the four scores (naturalness, coherence, domain_accuracy, emotional_consistency)
from the model-free checks; the coherence dimension is then mostly the learned coherence discriminator's
probability that the call hangs together (``COHERENCE_SHARE``; quality/coherence), and any of its role or
entity rules broken (the caller speaking as the company, someone addressed by their own name, a member ID
said twice differently ...) fails the transcript whatever its score, with the turn named for the
feedback loop to rewrite. With a judge, each dimension becomes ``(1 - judge_weight) * model_free +
judge_weight * judge`` and ``overall`` is recomputed with the configured weights; the model-free hard rules
(turn count, alternation, loops) still fail a transcript whatever the judge says. A judge answer that is
unparseable, or a judge call that fails, leaves that transcript on its model-free scores; its report says
so (``judge.outcome``), and the shard's metadata counts the outcomes.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.score import CoherenceResult, CoherenceScorer, default_scorer
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
COHERENCE_SHARE = 0.7  # of the coherence dimension; the rest is the structural checks (alternation, ...)
COHERENCE_FLOOR = 0.5  # below it the coherence discriminator fails a call on its own
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
        pack: DomainPack | None,
        bounds: tuple[int, int],
        threshold: float,
        settings: DiscriminatorSettings = DiscriminatorSettings(),
        judge: LLMJudge | None = None,
        coherence: CoherenceScorer | None = None,
    ):
        self.coherence = coherence or default_scorer()
        self.pack = pack
        self.bounds = bounds
        self.threshold = threshold
        self.settings = settings
        self.judge = judge
        # Without a domain pack (a transcript from elsewhere) domain accuracy is not scored.
        self.weights = (
            {**settings.weights, "domain_accuracy": 0.0} if pack is None else dict(settings.weights)
        )
        self.judge_outcomes: Counter[str] = Counter()
        self.judge_tokens = 0

    def score(self, t: Transcript) -> QualityReport:
        report = assess(t, self.pack, self.bounds, self.threshold, self.weights)
        self._add_coherence(report, self.coherence.score(call_view(t)))
        if self.judge is None:
            self.judge_outcomes["off"] += 1
            return report
        assert self.pack is not None, "the judge needs the transcript's domain pack"
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
        report.overall = weighted_overall(report.scores, self.weights)
        report.scorer = "model_free+judge"
        self._settle(report)
        if verdict.critique:
            report.reasons.append(f"judge: {verdict.critique}")
        known = {i.turn for i in report.issues}
        report.issues.extend(
            QualityIssue("judge", i, "says it more naturally and to the point")
            for i in verdict.weak_turns
            if i not in known
        )
        return report

    def _add_coherence(self, report: QualityReport, result: CoherenceResult) -> None:
        report.coherence = result.as_dict()
        structural = report.scores["coherence"]
        report.scores["coherence"] = round(
            (1 - COHERENCE_SHARE) * structural + COHERENCE_SHARE * result.overall, 4
        )
        report.overall = weighted_overall(report.scores, self.weights)
        for finding in result.violations:
            report.hard_failure = True
            report.reasons.append(finding.reason)
            report.issues.append(
                QualityIssue("coherence", finding.turn, COHERENCE_HINTS.get(finding.rule, DEFAULT_HINT))
            )
        if result.overall < COHERENCE_FLOOR:
            report.hard_failure = True
            report.reasons.append(f"coherence {result.overall:.2f} below {COHERENCE_FLOOR:.2f}")
            named = {i.turn for i in report.issues}
            # the turns the rules named, else those the weakest signals point at ("turn 7 (CUSTOMER): ...")
            turns = result.weakest_turns() or [
                int(m.group(1)) for r in result.reasons if (m := re.match(r"turn (\d+) \(", r))
            ]
            report.issues.extend(
                QualityIssue("coherence", turn, DEFAULT_HINT)
                for turn in list(dict.fromkeys(turns))[:3]
                if turn not in named
            )
        report.reasons.extend(r for r in result.reasons if r not in report.reasons)
        self._settle(report)

    def _settle(self, report: QualityReport) -> None:
        """``passed`` and the overall reason from the current scores and hard failures."""
        report.passed = not report.hard_failure and report.overall >= self.threshold
        report.reasons = [r for r in report.reasons if not r.startswith("overall ")]
        if report.overall < self.threshold:
            report.reasons.insert(0, f"overall {report.overall:.2f} below the threshold {self.threshold:.2f}")


DEFAULT_HINT = "answering what was just said and keeping to the call's facts"
# How the feedback loop asks for a turn that broke a rule to be written again (appended to its beat label).
COHERENCE_HINTS: dict[str, str] = {
    "customer_speaks_as_company": "speaking as the caller, not as the company",
    "agent_speaks_as_caller": "speaking as the agent, not as a caller",
    "own_name_address": "using the other person's name, never the speaker's own",
    "name_inconsistency": "keeping every name as it was given before",
    "company_inconsistency": "naming only the company the call is to",
    "identifier_contradiction": "repeating numbers exactly as they were given before",
    "amount_contradiction": "repeating amounts exactly as they were given before",
    "date_contradiction": "repeating dates exactly as they were given before",
    "fact_contradiction": "giving the details exactly as planned",
    "implausible_birth_date": "with a date of birth that fits an adult caller",
    "unanswered_request": "answering the question that was asked",
}


def call_view(t: Transcript) -> CallView:
    """What the coherence discriminator reads of a transcript: its turns and the names the call is about."""
    return CallView(
        turns=tuple((turn.speaker, turn.text) for turn in t.turns),
        id=t.id,
        company=t.company,
        agent_name=t.agent_name,
        domain=t.domain,
    )
