"""The first quality gate: cheap, model-free checks that catch what small models get wrong.

Each check scores 0..1; ``overall`` is their weighted mean. A transcript passes when ``overall`` reaches
the request's ``quality_threshold`` and no hard rule is broken (wrong turn count, speakers not
alternating, a looping conversation). The report names every check that fell short.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from transcript_assets.domain_pack import DomainPack
from transcript_assets.phrase_match import has_phrase, near_repeat, shared_run, words
from transcript_assets.tone_lexicon import CLOSING_CUES, GREETING_CUES, TONE_CUES
from transcript_assets.transcript import Transcript

WEIGHTS: dict[str, float] = {
    "alternation": 0.15,
    "repetition": 0.2,
    "length": 0.15,
    "domain_terms": 0.2,
    "tone": 0.15,
    "opening_closing": 0.15,
}


@dataclass
class QualityReport:
    overall: float
    passed: bool
    checks: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    threshold: float = 0.85

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _alternation(t: Transcript) -> float:
    pairs = list(zip(t.turns, t.turns[1:], strict=False))
    return sum(a.speaker != b.speaker for a, b in pairs) / len(pairs) if pairs else 0.0


def _repetition(t: Transcript) -> tuple[float, bool]:
    """Distinct word 4-grams over all 4-grams, and whether a turn nearly repeats or echoes an earlier one."""
    grams: list[tuple[str, ...]] = []
    seen: list[set[str]] = []
    earlier: list[list[str]] = []
    looping = False
    for turn in t.turns:
        w = words(turn.text)
        grams.extend(zip(w, w[1:], w[2:], w[3:], strict=False))
        bag = set(w)
        if near_repeat(bag, seen) or shared_run(w, earlier):
            looping = True
        seen.append(bag)
        earlier.append(w)
    distinct = len(set(grams)) / len(grams) if grams else 1.0
    return min(1.0, distinct / 0.9), looping


def _length(t: Transcript, bounds: tuple[int, int]) -> tuple[float, str | None]:
    low, high = bounds
    n = len(t.turns)
    if not low <= n <= high:
        return 0.0, f"{n} turns, outside the requested {low}-{high}"
    sizes = [len(words(x.text)) for x in t.turns]
    ok = sum(2 <= s <= 90 for s in sizes) / len(sizes)
    short = sum(s < 2 for s in sizes)
    return ok, (f"{short} turn(s) under two words" if short else None)


def _domain_terms(t: Transcript, pack: DomainPack) -> tuple[float, int]:
    """Distinct domain words used: the pack's terms and keywords plus the scenario's; three score full."""
    text = " ".join(x.text for x in t.turns).lower()
    terms = set(pack.terms) | set(pack.keywords)
    try:
        scenario = pack.scenario(t.scenario)
        terms |= set(scenario.terms) | set(scenario.keywords)
    except KeyError:
        pass
    found = sum(has_phrase(text, term.lower(), inflected=True) for term in terms)
    return min(1.0, found / 3), found


def _tone(t: Transcript) -> tuple[float, int]:
    tone = t.emotional_tone or "neutral"
    cues = TONE_CUES.get(tone, ())
    if not cues:
        return 1.0, 0
    text = " ".join(x.text for x in t.turns if x.speaker == "CUSTOMER").lower()
    hits = sum(has_phrase(text, c) for c in cues)
    return (1.0 if hits >= 2 else 0.75 if hits == 1 else 0.4), hits


def _opening_closing(t: Transcript) -> float:
    first = t.turns[0]
    opening = first.speaker == "AGENT" and any(has_phrase(first.text.lower(), c) for c in GREETING_CUES)
    tail = " ".join(x.text for x in t.turns[-2:]).lower()
    closing = any(has_phrase(tail, c) for c in CLOSING_CUES)
    return 0.5 * opening + 0.5 * closing


def assess(t: Transcript, pack: DomainPack, bounds: tuple[int, int], threshold: float) -> QualityReport:
    reasons: list[str] = []
    hard = False
    alternation = _alternation(t)
    if alternation < 0.8:
        hard = True
        reasons.append(f"speakers alternate in only {alternation:.0%} of adjacent turns")
    repetition, looping = _repetition(t)
    if looping:
        hard = True
        reasons.append("a turn nearly repeats an earlier one (loop)")
    elif repetition < 0.9:
        reasons.append(f"repetitive wording ({repetition:.2f})")
    length, length_problem = _length(t, bounds)
    if length == 0.0:
        hard = True
    if length_problem:
        reasons.append(length_problem)
    domain, found = _domain_terms(t, pack)
    if domain < 1.0:
        reasons.append(f"only {found} domain term(s) from the {pack.name} pack")
    tone, hits = _tone(t)
    if tone < 1.0:
        reasons.append(f"few cues of a {t.emotional_tone} caller ({hits})")
    opening_closing = _opening_closing(t)
    if opening_closing < 1.0:
        reasons.append("missing the agent's greeting or the closing")
    checks = {
        "alternation": round(alternation, 4),
        "repetition": round(repetition, 4),
        "length": round(length, 4),
        "domain_terms": round(domain, 4),
        "tone": round(tone, 4),
        "opening_closing": round(opening_closing, 4),
    }
    overall = round(sum(WEIGHTS[k] * v for k, v in checks.items()) / sum(WEIGHTS.values()), 4)
    passed = not hard and overall >= threshold
    if overall < threshold:
        reasons.insert(0, f"overall {overall:.2f} below the threshold {threshold:.2f}")
    return QualityReport(overall=overall, passed=passed, checks=checks, reasons=reasons, threshold=threshold)
