"""The GAN-style loop: score, feed the critique of each failure back into its prompt, regenerate, re-score.

Round 0 scores the shard's transcripts. Each later round (up to ``max_rounds``) regenerates the ones
still below the threshold from a revised plan (critique.revise_plan: guidance on the weak turns, the
others kept; for chat models the critique goes into the JSON-batch prompt) and scores the new drafts. A
transcript that passes in any round is final; one still failing after the last round is rejected with its
latest reasons. A regeneration that fails keeps the earlier draft (still rejected unless it passed).

Each round's record: candidates scored, passed, the cumulative pass rate (the shard's yield so far), the
failure reasons, the judge outcomes, the turns regenerated and the tokens spent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.generation.call_stats import CallStats
from transcript_foundry.generation.conversation_plan import ConversationPlan
from transcript_foundry.generation.generator import TranscriptGenerator
from transcript_foundry.generation.outcome import GenerationCost
from transcript_foundry.quality.critique import regenerated_turns, revise_plan
from transcript_foundry.quality.discriminator import Discriminator
from transcript_foundry.quality.gate import QualityReport


@dataclass
class RoundRecord:
    round: int
    scored: int
    passed: int
    cumulative_passed: int
    shard_scored: int
    pass_rate: float
    cumulative_pass_rate: float
    reasons: dict[str, int]
    judge: dict[str, int]
    regenerated_turns: int = 0
    output_tokens: int = 0
    final: bool = False
    discriminator: str = ""  # the coherence discriminator's version
    signals: dict[str, float] = field(default_factory=dict)  # its mean contribution per signal, this round

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class LoopResult:
    passed: dict[str, Transcript] = field(default_factory=dict)
    rejected: dict[str, Transcript] = field(default_factory=dict)
    reports: dict[str, QualityReport] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    rounds: list[RoundRecord] = field(default_factory=list)
    feedback: dict[str, list[str]] = field(default_factory=dict)  # slot -> the critique sent, per round
    revisions: dict[str, list[ConversationPlan]] = field(default_factory=dict)  # slot -> revised plans

    @property
    def final_yield(self) -> float:
        return self.rounds[-1].cumulative_pass_rate if self.rounds else 1.0


def reason_key(reason: str) -> str:
    """A failure reason without its numbers and details, so that equal causes count together.

    "turn 4 (AGENT): addresses the caller by the agent's own name 'Tasha'" counts as "addresses the caller
    by the agent's own name" (the turn and the quoted names are details)."""
    turn = re.match(r"turn \d+ \((?:AGENT|CUSTOMER)\): (.*)", reason)
    if turn:
        return re.sub(r"\s*\(.*|\s+'[^']*'.*|\s+\d.*", "", turn.group(1)).strip()
    head = reason.split("(")[0].split(" below ")[0].split(":")[0].strip()
    return re.sub(r"\d+(?:\.\d+)?", "N", head)


def with_earlier_cost(draft: Transcript, earlier: Transcript) -> Transcript:
    """``draft`` carrying the generation cost of the draft it replaces, so that a slot's ``output_tokens``,
    ``llm_calls`` and ``seconds`` stay what the whole slot cost (its ``text_tokens`` are the new draft's)."""
    done = earlier.generation
    return GenerationCost(done.output_tokens, done.llm_calls, done.seconds).charged_to(draft)


class FeedbackLoop:
    """Runs the rounds for one shard. ``use_critique=False`` regenerates with new sampling only (baseline)."""

    def __init__(
        self,
        discriminator: Discriminator,
        generator: TranscriptGenerator,
        stats: CallStats,
        *,
        max_rounds: int = 2,
        use_critique: bool = True,
        exemplar_seed: Callable[[int], int] = lambda round_: round_,
        postprocess: Callable[[Transcript], Transcript] | None = None,
    ):
        if max_rounds < 0:
            raise ValueError("max_rounds must be >= 0")
        self.discriminator = discriminator
        self.generator = generator
        self.stats = stats
        self.max_rounds = max_rounds
        self.use_critique = use_critique
        self.exemplar_seed = exemplar_seed
        self.postprocess = postprocess  # e.g. PHI scrubbing of regenerated drafts

    def run(
        self,
        candidates: dict[str, Transcript],
        plans: dict[str, ConversationPlan],
        attempts: dict[str, int] | None = None,
    ) -> LoopResult:
        result = LoopResult(attempts=dict(attempts or {s: 1 for s in candidates}))
        to_score = dict(candidates)
        shard_scored = len(to_score)
        regenerated = 0
        tokens_before = self.stats.output_tokens
        for round_ in range(self.max_rounds + 1):
            judge_before = Counter(self.discriminator.judge_outcomes)
            failing: dict[str, QualityReport] = {}
            reasons: Counter[str] = Counter()
            round_reports: list[QualityReport] = []
            for slot_id, transcript in to_score.items():
                report = self.discriminator.score(transcript)
                round_reports.append(report)
                transcript.quality = report.as_dict()
                result.reports[slot_id] = report
                if report.passed:
                    result.passed[slot_id] = transcript
                else:
                    failing[slot_id] = report
                    reasons.update(reason_key(r) for r in report.reasons)
            last = not failing or round_ == self.max_rounds
            judge = Counter(self.discriminator.judge_outcomes)
            judge.subtract(judge_before)
            result.rounds.append(
                RoundRecord(
                    round=round_,
                    scored=len(to_score),
                    passed=len(to_score) - len(failing),
                    cumulative_passed=len(result.passed),
                    shard_scored=shard_scored,
                    pass_rate=round((len(to_score) - len(failing)) / len(to_score), 4) if to_score else 1.0,
                    cumulative_pass_rate=round(len(result.passed) / shard_scored, 4) if shard_scored else 1.0,
                    reasons=dict(reasons.most_common()),
                    judge={k: v for k, v in judge.items() if v},
                    regenerated_turns=regenerated,
                    output_tokens=self.stats.output_tokens - tokens_before,
                    final=last,
                    **signal_summary(round_reports),
                )
            )
            if last:
                for slot_id in failing:
                    result.rejected[slot_id] = to_score[slot_id]
                break
            tokens_before = self.stats.output_tokens
            to_score, regenerated = self._regenerate(failing, to_score, plans, round_ + 1, result)
        return result

    def _regenerate(
        self,
        failing: dict[str, QualityReport],
        drafts: dict[str, Transcript],
        plans: dict[str, ConversationPlan],
        round_: int,
        result: LoopResult,
    ) -> tuple[dict[str, Transcript], int]:
        revised: list[ConversationPlan] = []
        for slot_id, report in failing.items():
            plan = plans[slot_id]
            if self.use_critique:
                plan = revise_plan(plan, report, drafts[slot_id])
                result.feedback.setdefault(slot_id, []).append(plan.feedback or "")
                result.revisions.setdefault(slot_id, []).append(plan)
            revised.append(plan)
        outcomes = self.generator.generate(revised, exemplar_seed=self.exemplar_seed(round_), round_=round_)
        kept = {s: drafts[s] for s in failing}
        for outcome in outcomes:
            result.attempts[outcome.slot_id] = result.attempts.get(outcome.slot_id, 0) + outcome.attempts
            if outcome.transcript is not None:
                draft = with_earlier_cost(outcome.transcript, drafts[outcome.slot_id])
                kept[outcome.slot_id] = self.postprocess(draft) if self.postprocess else draft
        return kept, sum(regenerated_turns(p) for p in revised)


def signal_summary(reports: list[QualityReport]) -> dict[str, Any]:
    """The coherence discriminator's version and its mean contribution per signal over ``reports``."""
    results = [r.coherence for r in reports if r.coherence]
    if not results:
        return {}
    names = results[0]["contributions"]
    return {
        "discriminator": results[0]["version"],
        "signals": {n: round(sum(r["contributions"][n] for r in results) / len(results), 4) for n in names},
    }
