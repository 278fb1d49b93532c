"""The public API: ``score_call(view) -> CoherenceResult`` (and ``CoherenceScorer`` for batches).

``overall`` (0..1) is the learned discriminator's probability that the call is a coherent one rather than
a broken one. ``contributions`` give each signal's share of the logit (positive = pulls the score up),
``groups`` the sums per group (roles, entities, turn_coherence). ``reasons`` name the 0-based turn:
every rule violation, every soft signal finding, and the turn where a strongly negative signal is weakest.
``passed(threshold)`` is ``overall >= threshold`` with no rule violation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.classifier import DiscriminatorWeights, load_weights
from transcript_foundry.quality.coherence.embedding import Encoder, default_encoder
from transcript_foundry.quality.coherence.features import FEATURE_GROUPS, FEATURE_NAMES, call_features
from transcript_foundry.quality.coherence.findings import Finding

DEFAULT_THRESHOLD = 0.5
# A signal pulling the logit down by more than this is named among the reasons, at its weakest turn.
REASON_CONTRIBUTION = -1.0
SIGNAL_TEXT: dict[str, str] = {
    "adjacent_sim": "turns relate weakly to the turns they follow",
    "locality_margin": "replies are no closer to what they answer than to distant turns",
    "reply_min": "the weakest reply in the call",
    "topic_split_min": "the call changes subject here (its two halves talk about different things)",
    "role_centroid_sim": "the agent and the caller talk about different things",
    "role_fit": "lines read like the other speaker's",
    "role_worst": "the line least like its speaker's",
    "order_fit": "turn order looks wrong (this turn belongs elsewhere in the call)",
    "opening_relevance": "the call has drifted away from what the caller called about",
    "vocabulary_continuity": "from here on the call uses words of another call (few are said before)",
}


@dataclass(frozen=True)
class CoherenceResult:
    overall: float
    version: str
    signals: Mapping[str, float]
    contributions: Mapping[str, float]
    groups: Mapping[str, float]
    findings: tuple[Finding, ...]
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def violations(self) -> tuple[Finding, ...]:
        """The hard rule findings (role and entity rules)."""
        return tuple(f for f in self.findings if f.hard)

    def passed(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.overall >= threshold and not self.violations

    def weakest_turns(self) -> list[int]:
        """Turns named by findings, hard ones first (what a feedback loop should rewrite)."""
        seen: list[int] = []
        for f in self.findings:
            if f.turn not in seen:
                seen.append(f.turn)
        return seen

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall,
            "version": self.version,
            "signals": dict(self.signals),
            "contributions": dict(self.contributions),
            "groups": dict(self.groups),
            "violations": len(self.violations),
            "reasons": list(self.reasons),
            "findings": [
                {"rule": f.rule, "turn": f.turn, "speaker": f.speaker, "message": f.message, "hard": f.hard}
                for f in self.findings
            ],
        }


class CoherenceScorer:
    """Scores calls with one set of weights and one encoder; ``score_many`` embeds all turns in one batch."""

    def __init__(
        self,
        weights: DiscriminatorWeights | None = None,
        encoder: Encoder | None = None,
        today: date | None = None,
    ):
        self.weights = weights or load_weights()
        self.encoder = encoder or default_encoder()
        self.today = today

    def score(self, view: CallView) -> CoherenceResult:
        return self.score_many([view])[0]

    def score_many(self, views: Sequence[CallView]) -> list[CoherenceResult]:
        texts = [t for v in views for t in v.texts]
        emb = self.encoder(texts) if texts else np.zeros((0, len(self.weights.heads.role_w)))
        out: list[CoherenceResult] = []
        start = 0
        for view in views:
            n = len(view.turns)
            out.append(self.score_embedded(view, emb[start : start + n]))
            start += n
        return out

    def score_embedded(self, view: CallView, emb: np.ndarray) -> CoherenceResult:
        """The result for ``view`` given its turns' embeddings (what ``score_many`` calls per call)."""
        w = self.weights
        feats = call_features(view, emb, w.heads, self.today)
        x = feats.vector()
        contrib = w.contributions(x)
        contributions = {name: round(float(c), 4) for name, c in zip(FEATURE_NAMES, contrib, strict=True)}
        groups = {g: round(sum(contributions[n] for n in names), 4) for g, names in FEATURE_GROUPS.items()}
        overall = round(w.probability(x), 4)
        reasons = [f.reason for f in feats.findings]
        named = {(f.turn, f.rule) for f in feats.findings}
        coef = dict(zip(FEATURE_NAMES, w.coef, strict=True))
        for name, c in sorted(contributions.items(), key=lambda kv: kv[1]):
            # Only signals the classifier reads as "higher = more coherent" explain a low score in words.
            if c > REASON_CONTRIBUTION or name not in SIGNAL_TEXT or coef[name] <= 0:
                continue
            turn = feats.anchors.get(name, 0)
            if (turn, name) in named:
                continue
            reasons.append(
                f"turn {turn} ({view.turns[turn][0]}): {SIGNAL_TEXT[name]} ({name} {feats.values[name]:.2f}, "
                f"contribution {c:+.1f})"
            )
        return CoherenceResult(
            overall=overall,
            version=w.version,
            signals={k: round(v, 4) for k, v in feats.values.items()},
            contributions=contributions,
            groups=groups,
            findings=feats.findings,
            reasons=tuple(reasons),
        )


@lru_cache(maxsize=1)
def default_scorer() -> CoherenceScorer:
    return CoherenceScorer()


def score_call(view: CallView, scorer: CoherenceScorer | None = None) -> CoherenceResult:
    """Score one call with the packaged weights and embedding model (or ``scorer``'s)."""
    return (scorer or default_scorer()).score(view)


def score_record(record: Any, scorer: CoherenceScorer | None = None) -> CoherenceResult:
    """Score one output-contract JSON record (raises ``CallRecordError`` naming a malformed field)."""
    return score_call(CallView.from_record(record), scorer)
