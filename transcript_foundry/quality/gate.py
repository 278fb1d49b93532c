"""The model-free scorer: cheap checks that catch what small models get wrong, mapped onto the four scores.

Each check scores 0..1. The checks feed the discriminator's four dimensions (``DIMENSION_CHECKS``):

- naturalness: distinct word 4-grams (repetition), loops (a turn that nearly repeats or echoes an earlier
  one), distinct bigrams, turn lengths, and the two speakers' turn-length statistics;
- coherence: speaker alternation, the turn count within the request's bounds, the agent's greeting and
  the closing, and a last turn that finishes its sentence;
- domain_accuracy: distinct domain terms of the pack and the scenario used;
- emotional_consistency: cues of the requested caller tone, and no strong cues of the opposite mood.

``overall`` is the weighted mean of the four dimensions (weights from config, ``DEFAULT_WEIGHTS``). A
transcript passes when ``overall`` reaches the request's ``quality_threshold`` and no hard rule is broken
(wrong turn count, speakers not alternating, a looping conversation). The report names every check that
fell short, and its ``issues`` say which turn to fix and how: the feedback loop turns them into guidance.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.text.phrase_match import has_phrase, near_repeat, shared_run, words
from transcript_foundry.text.tone_lexicon import (
    CLOSING_CUES,
    GREETING_CUES,
    NEGATIVE_CUES,
    NEGATIVE_TONES,
    POSITIVE_CUES,
    POSITIVE_TONES,
    TONE_CUES,
    UNHAPPY_CUES,
)

DIMENSIONS: tuple[str, ...] = ("naturalness", "coherence", "domain_accuracy", "emotional_consistency")
DEFAULT_WEIGHTS: dict[str, float] = {
    "naturalness": 0.3,
    "coherence": 0.3,
    "domain_accuracy": 0.2,
    "emotional_consistency": 0.2,
}
# How the model-free checks make up each dimension (weights within a dimension sum to 1).
DIMENSION_CHECKS: dict[str, dict[str, float]] = {
    "naturalness": {
        "repetition": 0.35,
        "loops": 0.25,
        "distinct_2": 0.15,
        "length": 0.15,
        "speaker_balance": 0.1,
    },
    "coherence": {"alternation": 0.3, "turn_count": 0.2, "opening_closing": 0.35, "completeness": 0.15},
    "domain_accuracy": {"domain_terms": 1.0},
    "emotional_consistency": {"tone": 0.5, "tone_contrast": 0.5},
}
CHECKS: tuple[str, ...] = tuple(c for checks in DIMENSION_CHECKS.values() for c in checks)
_SENTENCE_END = (".", "!", "?", '"', "'", ")")


@dataclass
class QualityIssue:
    """One thing to fix: ``kind`` (loop, short_turn, long_turn, no_greeting, no_closing, unfinished,
    few_terms, few_tone_cues, opposite_tone, judge), the 0-based ``turn`` it concerns (None: the whole
    call) and a ``hint`` phrased as what the turn should do."""

    kind: str
    turn: int | None
    hint: str


@dataclass
class QualityReport:
    overall: float
    passed: bool
    checks: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    threshold: float = 0.85
    scores: dict[str, float] = field(default_factory=dict)
    scorer: str = "model_free"  # model_free | model_free+judge
    issues: list[QualityIssue] = field(default_factory=list)
    hard_failure: bool = False
    judge: dict[str, Any] | None = None  # the judge's outcome, scores and critique (see llm_judge)
    coherence: dict[str, Any] | None = None  # the coherence discriminator's result (quality/coherence)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def weighted_overall(scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    total = sum(weights[d] for d in DIMENSIONS)
    return round(sum(weights[d] * scores[d] for d in DIMENSIONS) / total, 4)


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The four dimension weights, checked: every dimension named, none negative, not all zero."""
    unknown = sorted(set(weights) - set(DIMENSIONS))
    missing = [d for d in DIMENSIONS if d not in weights]
    if unknown or missing:
        raise ValueError(
            f"quality weights: give exactly the dimensions {', '.join(DIMENSIONS)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError("quality weights: each weight must be >= 0 and at least one > 0")
    return {d: float(weights[d]) for d in DIMENSIONS}


# ------------------------------------------------------------------------------------------ the checks


def _alternation(t: Transcript) -> tuple[float, list[int]]:
    pairs = list(itertools.pairwise(t.turns))
    same = [i + 1 for i, (a, b) in enumerate(pairs) if a.speaker == b.speaker]
    return ((len(pairs) - len(same)) / len(pairs) if pairs else 0.0), same


def _repetition(t: Transcript) -> tuple[float, float, list[int]]:
    """Distinct word 4-grams and bigrams over all of them, and the turns that nearly repeat or echo an
    earlier turn (loops)."""
    grams: list[tuple[str, ...]] = []
    bigrams: list[tuple[str, ...]] = []
    seen: list[set[str]] = []
    earlier: list[list[str]] = []
    looping: list[int] = []
    for i, turn in enumerate(t.turns):
        w = words(turn.text)
        grams.extend(zip(w, w[1:], w[2:], w[3:], strict=False))
        bigrams.extend(itertools.pairwise(w))
        bag = set(w)
        if near_repeat(bag, seen) or shared_run(w, earlier):
            looping.append(i)
        seen.append(bag)
        earlier.append(w)
    distinct4 = len(set(grams)) / len(grams) if grams else 1.0
    distinct2 = len(set(bigrams)) / len(bigrams) if bigrams else 1.0
    return min(1.0, distinct4 / 0.9), min(1.0, distinct2 / 0.75), looping


def _lengths(t: Transcript) -> tuple[float, float, list[int], list[int], str | None]:
    """Share of turns of 2-90 words; the speakers' mean turn lengths in a plausible range and ratio."""
    sizes = [len(words(x.text)) for x in t.turns]
    short = [i for i, s in enumerate(sizes) if s < 2]
    long = [i for i, s in enumerate(sizes) if s > 90]
    ok = (len(sizes) - len(short) - len(long)) / len(sizes)
    means = {
        speaker: statistics.fmean(s for s, x in zip(sizes, t.turns, strict=True) if x.speaker == speaker)
        for speaker in ("AGENT", "CUSTOMER")
        if any(x.speaker == speaker for x in t.turns)
    }
    balance = 1.0
    problem = None
    if len(means) < 2:
        balance, problem = 0.0, "only one speaker talks"
    else:
        low, high = min(means.values()), max(means.values())
        if low < 3:
            balance -= 0.5
            problem = f"one speaker's turns average {low:.1f} words"
        if high > 60 or high > 5 * max(low, 1.0):
            balance -= 0.5
            problem = f"turn lengths are lopsided (agent {means['AGENT']:.0f}, customer {means['CUSTOMER']:.0f} words)"
    return ok, max(0.0, balance), short, long, problem


def _domain_terms(t: Transcript, pack: DomainPack) -> tuple[float, int, list[str]]:
    """Distinct domain words used: the pack's terms and keywords plus the scenario's. Full score at three
    terms, or one per four turns in a long call. Also the scenario's terms not yet used (suggestions)."""
    text = " ".join(x.text for x in t.turns).lower()
    terms = set(pack.terms) | set(pack.keywords)
    suggestions: list[str] = []
    try:
        scenario = pack.scenario(t.scenario)
        terms |= set(scenario.terms) | set(scenario.keywords)
        suggestions = list(scenario.terms)
    except KeyError:
        pass
    found = sum(has_phrase(text, term.lower(), inflected=True) for term in terms)
    unused = [s for s in [*suggestions, *pack.terms] if not has_phrase(text, s.lower(), inflected=True)]
    needed = max(3, len(t.turns) // 4)
    return min(1.0, found / needed), found, list(dict.fromkeys(unused))


def _cue_hits(text: str, cues: tuple[str, ...]) -> int:
    return sum(has_phrase(text, c) for c in cues)


def _customer_text(t: Transcript) -> str:
    return " ".join(x.text for x in t.turns if x.speaker == "CUSTOMER").lower()


def _tone(t: Transcript) -> tuple[float, int]:
    tone = t.emotional_tone or "neutral"
    cues = TONE_CUES.get(tone, ())
    if not cues:
        return 1.0, 0
    hits = _cue_hits(_customer_text(t), cues)
    return (1.0 if hits >= 2 else 0.75 if hits == 1 else 0.4), hits


def _opposite_cues(tone: str) -> tuple[str, ...]:
    if tone in NEGATIVE_TONES or tone == "confused":
        return POSITIVE_CUES
    if tone in POSITIVE_TONES:
        return UNHAPPY_CUES
    if tone == "neutral":
        return NEGATIVE_CUES
    return ()


def _tone_contrast(t: Transcript) -> tuple[float, list[int]]:
    """How much the caller's strong mood cues agree with the asked tone: 1.0 without cues of the opposite
    mood, falling as they outnumber the strong cues of the asked one (thanks and goodbyes do not count)."""
    tone = t.emotional_tone or "neutral"
    opposite = _opposite_cues(tone)
    if tone in NEGATIVE_TONES:
        own = TONE_CUES[tone] + NEGATIVE_CUES
    elif tone in POSITIVE_TONES:
        own = POSITIVE_CUES
    else:
        own = TONE_CUES.get(tone, ())
    customer = [(i, x.text.lower()) for i, x in enumerate(t.turns) if x.speaker == "CUSTOMER"]
    turns = [i for i, text in customer if _cue_hits(text, opposite)]
    against = sum(_cue_hits(text, opposite) for _, text in customer)
    if not against:
        return 1.0, []
    mine = sum(_cue_hits(text, own) for _, text in customer)
    return round(min(1.0, 1.5 * mine / (mine + against)), 4), turns


def _opening_closing(t: Transcript) -> tuple[bool, bool]:
    first = t.turns[0]
    opening = first.speaker == "AGENT" and any(has_phrase(first.text.lower(), c) for c in GREETING_CUES)
    tail = " ".join(x.text for x in t.turns[-2:]).lower()
    closing = any(has_phrase(tail, c) for c in CLOSING_CUES)
    return opening, closing


def _tone_hint(tone: str) -> str:
    examples = [c for c in TONE_CUES.get(tone, ()) if c.replace(" ", "").replace("'", "").isalpha()][:3]
    return f"sounding {tone}" + (f" ('{examples[0]}', '{examples[1]}')" if len(examples) >= 2 else "")


# ------------------------------------------------------------------------------------------ the scorer


def assess(
    t: Transcript,
    pack: DomainPack | None,
    bounds: tuple[int, int],
    threshold: float,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> QualityReport:
    """Score one transcript with the model-free checks; the report's ``scores`` are the four dimensions.

    Without a domain pack (a transcript of a domain no pack describes) domain accuracy is not scored: its
    weight is left out of ``overall`` and its score is None."""
    reasons: list[str] = []
    issues: list[QualityIssue] = []
    hard = False
    last = len(t.turns) - 1

    alternation, same_speaker = _alternation(t)
    if alternation < 0.8:
        hard = True
        reasons.append(f"speakers alternate in only {alternation:.0%} of adjacent turns")
    repetition, distinct_2, looping = _repetition(t)
    loops = max(0.0, 1.0 - len(looping) / 3)
    if looping:
        hard = True
        reasons.append(
            f"a turn nearly repeats an earlier one (loop: turn {', '.join(str(i + 1) for i in looping)})"
        )
        issues.extend(
            QualityIssue("loop", i, "says something new, not repeating an earlier line") for i in looping
        )
    elif repetition < 0.9:
        reasons.append(f"repetitive wording ({repetition:.2f})")
    if distinct_2 < 0.9 and not looping:
        reasons.append(f"few distinct word pairs ({distinct_2:.2f})")

    low, high = bounds
    turn_count = 1.0 if low <= len(t.turns) <= high else 0.0
    if not turn_count:
        hard = True
        reasons.append(f"{len(t.turns)} turns, outside the requested {low}-{high}")
    length, balance, short, long, balance_problem = _lengths(t)
    if short:
        reasons.append(f"{len(short)} turn(s) under two words")
        issues.extend(QualityIssue("short_turn", i, "in a full sentence") for i in short)
    if long:
        reasons.append(f"{len(long)} turn(s) over 90 words")
        issues.extend(QualityIssue("long_turn", i, "in one or two short sentences") for i in long)
    if balance_problem:
        reasons.append(balance_problem)

    if pack is None:
        weights = {**weights, "domain_accuracy": 0.0}
        domain, found, unused = 1.0, 0, []
    else:
        domain, found, unused = _domain_terms(t, pack)
    if pack is not None and domain < 1.0:
        reasons.append(f"only {found} domain term(s) from the {pack.name} pack")
        issues.append(QualityIssue("few_terms", None, ", ".join(unused[:3])))

    tone_name = t.emotional_tone or "neutral"
    tone, hits = _tone(t)
    if tone < 1.0:
        reasons.append(f"few cues of a {t.emotional_tone} caller ({hits})")
        issues.append(QualityIssue("few_tone_cues", None, _tone_hint(tone_name)))
    contrast, flipped = _tone_contrast(t)
    if contrast < 1.0:
        reasons.append(
            f"the caller sounds the opposite of {tone_name} (turn {', '.join(str(i + 1) for i in flipped)})"
        )
        unlike = "cheerful" if tone_name in NEGATIVE_TONES or tone_name == "confused" else "upset"
        issues.extend(QualityIssue("opposite_tone", i, f"still {tone_name}, not {unlike}") for i in flipped)

    opening, closing = _opening_closing(t)
    if not (opening and closing):
        reasons.append("missing the agent's greeting or the closing")
    if not opening:
        issues.append(QualityIssue("no_greeting", 0, "greets the caller with the company's name"))
    if not closing:
        issues.append(QualityIssue("no_closing", last, "thanks the other speaker and says goodbye"))
    completeness = 1.0 if t.turns[-1].text.rstrip().endswith(_SENTENCE_END) else 0.0
    if not completeness:
        reasons.append("the last turn stops mid-sentence")
        issues.append(QualityIssue("unfinished", last, "in complete sentences"))
    if same_speaker:
        issues.extend(QualityIssue("alternation", i, "answers the other speaker") for i in same_speaker)

    checks = {
        "repetition": repetition,
        "loops": loops,
        "distinct_2": distinct_2,
        "length": length,
        "speaker_balance": balance,
        "alternation": alternation,
        "turn_count": turn_count,
        "opening_closing": 0.5 * opening + 0.5 * closing,
        "completeness": completeness,
        "domain_terms": domain,
        "tone": tone,
        "tone_contrast": contrast,
    }
    checks = {k: round(v, 4) for k, v in checks.items()}
    scores = {
        d: round(sum(w * checks[c] for c, w in parts.items()), 4) for d, parts in DIMENSION_CHECKS.items()
    }
    overall = weighted_overall(scores, weights)
    if overall < threshold:
        reasons.insert(0, f"overall {overall:.2f} below the threshold {threshold:.2f}")
    return QualityReport(
        overall=overall,
        passed=not hard and overall >= threshold,
        checks=checks,
        reasons=reasons,
        threshold=threshold,
        scores=scores,
        issues=issues,
        hard_failure=hard,
    )
