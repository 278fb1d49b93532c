"""Turn sentiment: a label per turn from the call's emotional tone and the turn's dialogue act, and the
talk-time-weighted scores (−5..5) Contact Lens reports for a whole call and for each quarter of it.

Customer turns follow the caller's tone: a negative tone (angry, frustrated, impatient, sad, anxious)
makes the problem statement, complaints and rejections NEGATIVE; while the problem is still open (before
the agent's first offer) a heated caller's information turns are MIXED. Once the caller has accepted a
solution that they did not later reject, their accepting, thanking and closing turns are POSITIVE.
Agent turns are NEUTRAL, or POSITIVE when greeting, offering a solution, thanking or closing.
Customer turns without an act get one from the rule-based classifier in ``turn_labels``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from transcript_foundry.formats.turn_labels import classify_customer_turn

Sentiment = Literal["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"]
SENTIMENTS: tuple[str, ...] = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")

NEGATIVE_TONES = frozenset({"angry", "frustrated", "impatient", "sad", "anxious"})
HEATED_TONES = frozenset({"angry", "frustrated", "impatient"})
# Score of a NEGATIVE customer turn is minus this; of a POSITIVE turn, plus POSITIVE_SCORE's value.
NEGATIVE_INTENSITY: dict[str, float] = {
    "angry": 4.0,
    "frustrated": 3.0,
    "impatient": 2.5,
    "sad": 2.5,
    "anxious": 2.0,
    "confused": 1.5,
}
DEFAULT_NEGATIVE_INTENSITY = 1.5
POSITIVE_SCORE: dict[str, float] = {"satisfied": 3.0}
DEFAULT_POSITIVE_SCORE = 2.0
MIXED_SCORE = -0.5

AGENT_POSITIVE_ACTS = frozenset({"greet", "offer_solution", "thank", "close"})
COMPLAINT_ACTS = frozenset({"state_problem", "express_emotion"})
PUSHBACK_ACTS = frozenset({"reject_solution", "escalate"})
CLOSING_ACTS = frozenset({"accept_solution", "thank", "close"})
INFO_ACTS = frozenset(
    {"provide_info", "verify_identity", "answer_followup", "request_info", "explain", "offer_solution"}
)
# Intents of the fallback classifier, as acts.
_ACT_BY_INTENT = {
    "state_problem": "state_problem",
    "goodbye": "close",
    "thank": "thank",
    "deny": "reject_solution",
    "affirm": "confirm",
    "ask_question": "request_info",
    "inform": "provide_info",
}


@dataclass(frozen=True)
class TurnSentiment:
    label: Sentiment
    score: float  # −5..5


def effective_acts(turns: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """Each turn's act (customer turns without one are classified; agent turns keep theirs or None)."""
    customer = [i for i, t in enumerate(turns) if t["speaker"] == "CUSTOMER"]
    acts: list[str | None] = []
    for i, turn in enumerate(turns):
        act = turn.get("act")
        if act is None and turn["speaker"] == "CUSTOMER":
            intent = classify_customer_turn(
                str(turn["text"]), i, first_customer=i == customer[0], last=i == len(turns) - 1
            )
            act = _ACT_BY_INTENT.get(intent, "provide_info")
        acts.append(act)
    return acts


def resolution_index(turns: Sequence[Mapping[str, Any]], acts: Sequence[str | None]) -> int | None:
    """The customer's last ``accept_solution`` turn, unless a rejection follows it (then unresolved)."""
    resolved: int | None = None
    for i, (turn, act) in enumerate(zip(turns, acts, strict=True)):
        if turn["speaker"] != "CUSTOMER":
            continue
        if act == "accept_solution":
            resolved = i
        elif act == "reject_solution":
            resolved = None
    return resolved


def _score(label: Sentiment, tone: str | None, speaker: str) -> float:
    if label == "NEGATIVE":
        return -NEGATIVE_INTENSITY.get(tone or "", DEFAULT_NEGATIVE_INTENSITY)
    if label == "POSITIVE":
        return (
            DEFAULT_POSITIVE_SCORE
            if speaker == "AGENT"
            else POSITIVE_SCORE.get(tone or "", DEFAULT_POSITIVE_SCORE)
        )
    return MIXED_SCORE if label == "MIXED" else 0.0


def _customer_label(act: str | None, tone: str | None, problem_open: bool, resolved: bool) -> Sentiment:
    negative = tone in NEGATIVE_TONES
    if act in COMPLAINT_ACTS:
        if negative:
            return "NEGATIVE"
        if tone == "confused":
            return "MIXED"
        return "POSITIVE" if act == "express_emotion" and tone == "satisfied" else "NEUTRAL"
    if act in PUSHBACK_ACTS:
        return "NEGATIVE" if negative else "MIXED"
    if act in CLOSING_ACTS:
        if resolved:
            return "POSITIVE"
        return "MIXED" if negative else "NEUTRAL"
    if act == "ask_followup":
        return "MIXED" if negative else "NEUTRAL"
    if act in INFO_ACTS and problem_open and tone in HEATED_TONES:
        return "MIXED"
    return "NEUTRAL"


def turn_sentiments(turns: Sequence[Mapping[str, Any]], tone: str | None) -> list[TurnSentiment]:
    acts = effective_acts(turns)
    resolved_at = resolution_index(turns, acts)
    first_offer = next(
        (
            i
            for i, (t, a) in enumerate(zip(turns, acts, strict=True))
            if t["speaker"] == "AGENT" and a == "offer_solution"
        ),
        len(turns),
    )
    result: list[TurnSentiment] = []
    for i, (turn, act) in enumerate(zip(turns, acts, strict=True)):
        speaker = str(turn["speaker"])
        label: Sentiment
        if speaker == "AGENT":
            label = "POSITIVE" if act in AGENT_POSITIVE_ACTS else "NEUTRAL"
        else:
            resolved = resolved_at is not None and i >= resolved_at
            label = _customer_label(act, tone, problem_open=i < first_offer, resolved=resolved)
        result.append(TurnSentiment(label, _score(label, tone, speaker)))
    return result


def _clamp(score: float) -> float:
    return round(max(-5.0, min(5.0, score)), 1)


def weighted_score(
    sentiments: Sequence[TurnSentiment],
    spans: Sequence[tuple[int, int]],
    window: tuple[int, int] | None = None,
) -> float:
    """Mean turn score weighted by each turn's talk time inside ``window`` (whole turns when None);
    0.0 when nobody in ``sentiments`` talks there. Rounded to one decimal, clamped to [−5, 5]."""
    weight_sum = 0
    total = 0.0
    for sentiment, (begin, end) in zip(sentiments, spans, strict=True):
        if window is not None:
            begin, end = max(begin, window[0]), min(end, window[1])
        if end > begin:
            weight_sum += end - begin
            total += sentiment.score * (end - begin)
    return _clamp(total / weight_sum) if weight_sum else 0.0


def quarters(total_ms: int) -> list[tuple[int, int]]:
    """Four contiguous periods covering [0, total_ms] (integer bounds; the last absorbs rounding)."""
    bounds = [total_ms * k // 4 for k in range(5)]
    return [(bounds[k], bounds[k + 1]) for k in range(4)]
