"""Plain-English generation requests -> validated ``JobSpec``.

"Generate 500 healthcare transcripts with frustrated callers" becomes
``JobSpec(count=500, domain="healthcare", emotional_tone="frustrated")``. Exact rules come first: regular
expressions and word tables, deterministic and without a model. It reads the fields in a fixed order and blanks
out ("masks") each phrase it has used, so that a number or word that belongs to one field is not read
again as another: "seed 42", "quality 0.9", "10 to 15 turns" and "in 2 days" are taken out before the
count is looked for, and a caller type such as "long-time customers" before the complexity word "long".

Everything a request can say:

* count: digits, separators, ``2k``, number words (see ``number_words``); 1 to ``MAX_COUNT``.
* domain: the domain packs' keywords (longest match wins; the pack name breaks ties).
* emotional_tone, complexity, caller_type: synonym tables below; caller types checked against the pack.
* scenarios: the chosen pack's scenario keywords, in order of first mention.
* exchanges: "10-15 turns", "between 8 and 12 exchanges", "at least 10 turns", "about 20 turns", "12 turns".
* formats, language, seed, quality_threshold.

The words no rule read ("ISP outage", "someone took my wallet") then go to the semantic layer when a field
still needs them: domain (when no keyword named one and scenario words do not point at one pack only),
scenarios, tone and caller type are matched by meaning against the packs' own text (``semantic_match``,
``semantic_fields``), with calibrated thresholds; below them the request is refused with the closest
candidates. A request the rules settle never loads the model. ``understand_request`` returns the JobSpec
with the readings behind it (``explanation``), which ``transcripts plan`` prints.

Problems are collected and reported together in one ``RequestError``, one line per field, each naming the
field, what is wrong and how to phrase it instead.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from transcript_foundry.contract.job_spec import DEFAULT_EXCHANGES, MAX_COUNT, JobSpec
from transcript_foundry.contract.validation_errors import did_you_mean, validation_problems
from transcript_foundry.domains.domain_pack import DomainPack, unknown_domain_message
from transcript_foundry.request.explanation import Reading, Understanding, closest_candidates
from transcript_foundry.request.residue import leftover_phrases
from transcript_foundry.request.vague_counts import rewrite_vague_counts
from transcript_foundry.request.word_tables import (
    CALLER_WORDS,
    COMPLEXITY_IN_CONTEXT,
    COMPLEXITY_WORDS,
    COUNT_NOUN,
    FILLER_WORDS,
    FORMAT_WORDS,
    LANGUAGES,
    NOISE,
    NOT_SCENARIO,
    SINGULAR_NOUN,
    STOP_WORDS,
    TONE_IN_CONTEXT,
    TONE_WORDS,
    TURN_UNIT,
)
from transcript_foundry.text.number_words import (
    NUMBER_PATTERN,
    NUMBER_WORDS,
    NumberMatch,
    find_numbers,
    format_number,
    parse_number,
)
from transcript_foundry.text.text_file import TextFileError, read_utf8

if TYPE_CHECKING:  # numpy and the matcher load only when a request needs a match by meaning
    from transcript_foundry.request.semantic_match import Match, SemanticMatcher

EXAMPLE = "Generate 50 healthcare transcripts with frustrated callers"
SPEC_FILE_SUFFIXES: tuple[str, ...] = (".yaml", ".yml", ".json")

_N = NUMBER_PATTERN

Packs = Mapping[str, DomainPack]


class RequestError(ValueError):
    """A request that cannot become a JobSpec. Each line names the field, the problem and a fix."""


# ------------------------------------------------------------------------------------- text matching


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    value: str
    phrase: str


def _inflections(word: str) -> str:
    """A regex for ``word`` and its simple inflections: plurals, -ed, -ing, -ion, -er, possessive."""
    base = re.escape(word)
    forms = [base + r"(?:s|es|'s|ed|d|ing|ion|ions|er|ers)?"]
    if word.endswith("e"):
        forms.append(re.escape(word[:-1]) + r"(?:ing|ion|ions)")
    if len(word) > 2 and word[-1] in "bdglmnprt" and word[-2] in "aeiou" and word[-3] not in "aeiou":
        forms.append(base + re.escape(word[-1]) + r"(?:ed|ing|er|ers)")
    if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
        forms.append(re.escape(word[:-1]) + "ies")
    return "(?:" + "|".join(forms) + ")"


def keyword_pattern(keyword: str) -> str:
    """Case-folded keyword -> regex on word boundaries; spaces, hyphens and underscores are interchangeable
    ("e-commerce" finds "ecommerce", "first time" finds "first-time") and the last word may be inflected."""
    words = [w for w in re.split(r"[\s_-]+", keyword.strip().lower()) if w]
    if not words:
        raise ValueError("empty keyword")
    parts = [re.escape(w) for w in words[:-1]] + [_inflections(words[-1])]
    return r"\b" + r"[\s_-]*".join(parts) + r"\b"


def _phrase_table(words: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    return [(keyword_pattern(phrase), value) for value, phrases in words.items() for phrase in phrases]


def _find_hits(text: str, table: Iterable[tuple[str, str]]) -> list[_Hit]:
    """All matches of a (pattern, value) table; overlaps go to the longest match; in text order."""
    candidates = [
        _Hit(m.start(), m.end(), value, m.group())
        for pattern, value in table
        for m in re.finditer(pattern, text)
        if m.end() > m.start()
    ]
    chosen: list[_Hit] = []
    for hit in sorted(candidates, key=lambda h: (h.start - h.end, h.start)):
        if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Blank out used phrases (same length, so positions stay valid)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _mask_hits(text: str, hits: Iterable[_Hit]) -> str:
    return _mask(text, ((h.start, h.end) for h in hits))


def _mask_patterns(text: str, patterns: Iterable[str]) -> str:
    for pattern in patterns:
        text = _mask(text, (m.span() for m in re.finditer(pattern, text)))
    return text


def _negated(text: str, start: int) -> bool:
    """Whether the word at ``start`` is negated ("not angry", "without anxious callers")."""
    negation = r"\b(?:not|no|never|without|non)(?:\s+(?:too|very|overly|so|particularly))?[\s-]*$"
    return re.search(negation, text[:start]) is not None


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _normalize(text: str, lower: bool = True) -> str:
    text = (text.lower() if lower else text).translate({ord(c): "-" for c in "‐‑‒–—−"})
    text = text.translate({ord("’"): "'", ord("‘"): "'", ord("“"): '"', ord("”"): '"'}).replace("&", " and ")
    return " ".join(text.split())


def _quote(phrase: str) -> str:
    return repr(" ".join(phrase.split()))


# --------------------------------------------------------------------------------------- numbers


def _whole(phrase: str, field: str, unit: str, problems: list[str]) -> int | None:
    try:
        value = parse_number(phrase)
    except ValueError:  # the pattern took words that are no number on their own ("dozen turns")
        problems.append(
            f"{field}: {_quote(phrase)} is not a number of {unit}; give one, e.g. '12 turns' or 'a dozen turns'"
        )
        return None
    if value.denominator != 1:
        problems.append(f"{field}: {format_number(value)} is not a whole number of {unit}; use whole numbers")
        return None
    return int(value)


def _extract_seed(text: str, problems: list[str]) -> tuple[int | None, str]:
    pattern = (
        r"\b(?:random\s+|rng\s+)?seed(?:ed)?(?:\s+(?:number|value|of|is|with|to|at))*\s*[:=]?\s*"
        r"(-?\d+)(?!\w|\.\d)"
    )
    matches = list(re.finditer(pattern, text))
    seeds = _distinct(m.group(1) for m in matches)
    if len(seeds) > 1:
        problems.append(f"seed: the request gives several seeds ({', '.join(seeds)}); give one, e.g. seed 42")
    text = _mask(text, (m.span() for m in matches))
    return (int(seeds[0]) if len(seeds) == 1 else None), text


_QUALITY_NUMBER = (
    r"(?P<n>\d+(?:\.\d+)?|\.\d+)(?!\d|\.\d)\s*(?P<pct>%|percent\b|per\s+cent\b)?"
    rf"(?!\s*(?:[a-z][a-z'-]*\s+){{0,3}}{COUNT_NOUN}\b)"
)
_QUALITY_PATTERNS = (
    # quality threshold 0.9 / min quality 0.8 / quality above 90% / quality of at least 0.85
    r"\b(?:(?:min(?:imum)?|minimal)\s+)?quality(?:[\s-]+(?:threshold|score|bar|gate|cut-?off|level))?"
    r"(?:\s*(?:[:=]|>=?|\b(?:of|at|least|above|over|must|should|be|is|no\s+less\s+than|min(?:imum)?)\b))*\s*"
    + _QUALITY_NUMBER,
    r"\bthreshold(?:\s+(?:of|at|is))?\s*[:=]?\s*" + _QUALITY_NUMBER,
    # at least 85% quality / 0.9 quality
    r"(?:\b(?:at\s+least|above|over|min(?:imum)?(?:\s+of)?)\s+|>=?\s*)?"
    r"(?:(?P<n>\d+(?:\.\d+)?|\.\d+)\s*(?P<pct>%|percent\b|per\s+cent\b)|(?P<d>0?\.\d+|1\.0+)(?!\d))"
    r"\s+(?:min(?:imum)?\s+)?quality\b(?:[\s-]+(?:threshold|score|bar))?",
)


def _quality_value(match: re.Match[str]) -> Fraction:
    """0.9 and 90% both mean 0.9; a bare whole number up to 100 ("quality 95") is read as a percentage."""
    value = Fraction(match.group("n") or match.groupdict().get("d") or "0")
    if match.group("pct") or (value.denominator == 1 and 1 < value <= 100):
        value /= 100
    return value


def _extract_quality(text: str, problems: list[str]) -> tuple[float | None, str]:
    found: list[tuple[str, Fraction]] = []
    for pattern in _QUALITY_PATTERNS:
        for m in list(re.finditer(pattern, text)):
            found.append((m.group(), _quality_value(m)))
            text = _mask(text, [m.span()])
    values = _distinct(format_number(v) for _, v in found)
    if len(values) > 1:
        problems.append(
            f"quality_threshold: the request gives several quality thresholds ({', '.join(values)}); "
            "give one, e.g. 'quality threshold 0.9'"
        )
        return None, text
    if not found:
        return None, text
    phrase, value = found[0]
    if not 0 <= value <= 1:
        problems.append(
            f"quality_threshold: {_quote(phrase)} is out of range; give a score between 0 and 1 or a "
            "percentage, e.g. 'quality threshold 0.9' or 'at least 90% quality'"
        )
        return None, text
    return float(value), text


@dataclass(frozen=True)
class _TurnsAsk:
    """What the request said about turns per call; resolved once the complexity is known."""

    kind: str  # range, at_least, at_most, about
    low: int
    high: int
    phrase: str

    def resolve(self, complexity: str | None) -> tuple[int, int]:
        default_low, default_high = DEFAULT_EXCHANGES[complexity]
        if self.kind == "at_least":
            return self.low, max(self.low, default_high)
        if self.kind == "at_most":
            return (default_low if default_low < self.high else max(2, self.high // 2)), self.high
        if self.kind == "about":
            delta = max(1, round(self.low / 10))
            return max(2, self.low - delta), self.low + delta
        return self.low, self.high


_TURN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("range", rf"\b(?:between|from)\s+(?P<a>{_N})\s*(?:and|to|-)\s*(?P<b>{_N})\s*-?\s*{TURN_UNIT}"),
    ("range", rf"(?P<a>{_N})\s*(?:-|to|or)\s*(?P<b>{_N})\s*-?\s*{TURN_UNIT}"),
    ("range", rf"{TURN_UNIT}\s*(?:[:=]\s*|\s+(?:of\s+)?(?:between|from)\s+)"
              rf"(?P<a>{_N})\s*(?:-|to|and)\s*(?P<b>{_N})"),
    ("at_least", rf"\b(?:at\s+least|a\s+minimum\s+of|minimum\s+of|min(?:imum)?\.?|no\s+(?:fewer|less)\s+than"
                 rf"|not\s+(?:fewer|less)\s+than)\s+(?P<a>{_N})\s*-?\s*{TURN_UNIT}"),
    ("more_than", rf"\b(?:more\s+than|over)\s+(?P<a>{_N})\s*-?\s*{TURN_UNIT}"),
    ("at_least", rf"(?P<a>{_N})\s*(?:\+|\s+or\s+more)\s*-?\s*{TURN_UNIT}"),
    ("at_least", rf"(?P<a>{_N})\s*-?\s*{TURN_UNIT}\s+or\s+more\b"),
    ("at_most", rf"\b(?:at\s+most|a\s+maximum\s+of|maximum\s+of|max(?:imum)?\.?|no\s+more\s+than"
                rf"|not\s+more\s+than|up\s+to)\s+(?P<a>{_N})\s*-?\s*{TURN_UNIT}"),
    ("at_most", rf"(?P<a>{_N})\s*-?\s*{TURN_UNIT}\s+(?:or\s+(?:less|fewer)|max(?:imum)?|tops)\b"),
    ("less_than", rf"\b(?:fewer\s+than|less\s+than|under)\s+(?P<a>{_N})\s*-?\s*{TURN_UNIT}"),
    ("about", rf"(?:\b(?:about|around|approximately|approx\.?|roughly|circa|some)\s+|~\s*)"
              rf"(?P<a>{_N})\s*-?\s*{TURN_UNIT}"),
    ("range", rf"(?P<a>{_N})\s*-?\s*{TURN_UNIT}"),
    ("range", rf"{TURN_UNIT}\s*[:=]\s*(?P<a>{_N})"),
)  # fmt: skip


def _turns_ask(kind: str, match: re.Match[str], problems: list[str]) -> _TurnsAsk | None:
    low = _whole(match.group("a"), "exchanges", "turns", problems)
    high = _whole(match.group("b"), "exchanges", "turns", problems) if match.groupdict().get("b") else low
    if low is None or high is None:
        return None
    if kind == "more_than":
        kind, low, high = "at_least", low + 1, high + 1
    elif kind == "less_than":
        kind, low, high = "at_most", low - 1, high - 1
    return _TurnsAsk(kind, min(low, high), max(low, high), match.group())


def _extract_turns(text: str, problems: list[str]) -> tuple[_TurnsAsk | None, str]:
    asks: list[_TurnsAsk] = []
    for kind, pattern in _TURN_PATTERNS:
        for m in list(re.finditer(pattern, text)):
            text = _mask(text, [m.span()])
            ask = _turns_ask(kind, m, problems)
            if ask is not None:
                asks.append(ask)
    distinct = list(dict.fromkeys((a.kind, a.low, a.high) for a in asks))
    if len(distinct) > 1:
        phrases = ", ".join(_quote(a.phrase) for a in asks)
        problems.append(
            f"exchanges: the request gives several turn counts ({phrases}); give one range, "
            "e.g. '10 to 15 turns'"
        )
        return None, text
    return (asks[0] if asks else None), text


def _count_anchored(text: str, number: NumberMatch) -> bool:
    """A count stands before what it counts ("500 healthcare transcripts") or after a label ("count: 500")."""
    if re.match(rf"(?:\s+[a-z][a-z'-]*){{0,4}}?\s+{COUNT_NOUN}\b", text[number.end :]):
        return True
    before = text[: number.start]
    return bool(
        re.search(r"\b(?:count|number|total|quantity|amount)\s*(?:[:=]|of|is)?\s*$", before)
        or re.search(rf"\b(?:number\s+of\s+)?{COUNT_NOUN}\s*[:=]\s*$", before)
    )


def _range_before(text: str, number: NumberMatch) -> str | None:
    """The range's words when a count ends one ("10 to 15 calls", "between 10 and 15 calls")."""
    before = text[: number.start]
    m = re.search(rf"(?:\bbetween\s+)?(?:{_N})\s*(?:-|to|or|and)\s*$", before)
    if m is None or (m.group().rstrip().endswith("and") and not m.group().startswith("between")):
        return None
    return " ".join(f"{m.group()}{number.text}".split())


def _extract_count(text: str, problems: list[str]) -> int | None:
    numbers = find_numbers(text, space_groups=True)
    anchored = [n for n in numbers if _count_anchored(text, n)]
    loose = [n for n in numbers if n.text != "one"] or numbers
    candidates = anchored or loose
    if not candidates:
        single = rf"\b(?:an?|a\s+single|single)\s+(?:[a-z][a-z'-]*\s+){{0,3}}?{SINGULAR_NOUN}\b(?!\s+cent)"
        if re.search(single, text):
            return 1
        problems.append(
            "count: the request does not say how many transcripts to generate; say how many, "
            "e.g. 'Generate 50 healthcare transcripts'"
        )
        return None
    ranges = [r for n in anchored if (r := _range_before(text, n))]
    if ranges:
        problems.append(
            f"count: {ranges[0]!r} is a range; a job needs one count, say exactly how many, "
            "e.g. 'Generate 50 healthcare transcripts'"
        )
        return None
    values = _distinct(format_number(n.value) for n in candidates)
    if len(values) > 1:
        where = "counts" if anchored else "numbers"
        problems.append(
            f"count: the request gives several {where} ({', '.join(values)}) and one job has one count; "
            "put the count right before the word 'transcripts', e.g. 'Generate 50 healthcare transcripts' "
            "(submit separate requests for separate batches)"
        )
        return None
    value = candidates[0].value
    if value.denominator != 1:
        problems.append(
            f"count: {format_number(value)} is not a whole number; ask for a whole number of transcripts, "
            "e.g. 'Generate 50 healthcare transcripts'"
        )
        return None
    if value < 1:
        problems.append(
            f"count: {format_number(value)} is not a count of transcripts; ask for at least 1, "
            "e.g. 'Generate 50 healthcare transcripts'"
        )
        return None
    if value > MAX_COUNT:
        problems.append(
            f"count: {format_number(value)} is more than the limit of {MAX_COUNT:,} transcripts per job; "
            f"ask for at most {MAX_COUNT:,}, e.g. 'Generate 100,000 healthcare transcripts' "
            "(split bigger batches into several jobs)"
        )
        return None
    return int(value)


# ------------------------------------------------------------------------------------- word fields


def _extract_formats(text: str) -> tuple[list[str], str]:
    hits = _find_hits(text, _phrase_table(FORMAT_WORDS))
    return _distinct(h.value for h in hits), _mask_hits(text, hits)


def _extract_language(text: str, problems: list[str]) -> tuple[str | None, str]:
    hits = _find_hits(text, [(keyword_pattern(name), code) for name, code in LANGUAGES.items()])
    tag = r"\blanguage\s*[:=]\s*([a-z]{2,3}(?:-[a-z]{2,4})?)\b"
    codes = [(m.group(1), m.span()) for m in re.finditer(tag, text)]
    text = _mask(text, [span for _, span in codes])
    text = _mask_hits(text, hits)
    languages = _distinct([h.value for h in hits] + [code for code, _ in codes])
    if len(languages) > 1:
        problems.append(
            f"language: the request names several languages ({', '.join(languages)}); one job has one "
            "language, e.g. 'in English'"
        )
        return None, text
    return (languages[0] if languages else None), text


def _said_as(value: str, hits: Sequence[_Hit]) -> str:
    """' (from 'irate')' when the words used differ from the value's name."""
    phrases = _distinct(" ".join(h.phrase.split()) for h in hits if h.value == value)
    phrases = [p for p in phrases if p != value]
    return f" (from {', '.join(repr(p) for p in phrases)})" if phrases else ""


def _one_choice(hits: Sequence[_Hit], field: str, fix: str, problems: list[str]) -> str | None:
    values = _distinct(h.value for h in hits if h.value)
    if len(values) > 1:
        named = " and ".join(f"{v!r}{_said_as(v, hits)}" for v in values)
        problems.append(f"{field}: the request asks for both {named}; {fix}")
        return None
    return values[0] if values else None


def _extract_tone(text: str, problems: list[str]) -> tuple[str | None, list[_Hit], str]:
    hits = _find_hits(text, [*TONE_IN_CONTEXT, *_phrase_table(TONE_WORDS)])
    text = _mask_hits(text, hits)
    kept = [h for h in hits if not _negated(text, h.start)]
    tone = _one_choice(
        kept,
        "emotional_tone",
        "choose one tone, or none for a mix, e.g. 'Generate 50 retail transcripts with angry callers'",
        problems,
    )
    return tone, hits, text


def _extract_complexity(text: str, problems: list[str]) -> tuple[str | None, list[_Hit], str]:
    hits = _find_hits(text, [*COMPLEXITY_IN_CONTEXT, *_phrase_table(COMPLEXITY_WORDS)])
    complexity = _one_choice(
        hits,
        "complexity",
        "choose one ('short' or 'complex'), or neither for a mix, e.g. 'Generate 50 short telecom calls'",
        problems,
    )
    return complexity, hits, _mask_hits(text, hits)


def _caller_hits(text: str, packs: Packs) -> list[_Hit]:
    own_types = {t: (t.replace("_", " "),) for pack in packs.values() for t in pack.caller_types}
    return _find_hits(text, [*_phrase_table(CALLER_WORDS), *_phrase_table(own_types)])


def _resolve_caller_type(
    hits: Sequence[_Hit], pack: DomainPack, packs: Packs, problems: list[str]
) -> str | None:
    """The one caller type asked for, if the pack has it; types no pack knows are ignored."""
    known_anywhere = {t for p in packs.values() for t in p.caller_types}
    types = [t for t in _distinct(h.value for h in hits) if t in known_anywhere]
    if not types:
        return None
    valid = ", ".join(pack.caller_types)
    example = f"e.g. 'from {pack.caller_types[0].replace('_', ' ')} callers'"
    if len(types) > 1:
        problems.append(
            f"caller_type: the request names several caller types ({', '.join(types)}); choose one of the "
            f"{pack.name} caller types ({valid}), {example}"
        )
        return None
    if types[0] not in pack.caller_types:
        phrase = _quote(next(h.phrase for h in hits if h.value == types[0]))
        problems.append(
            f"caller_type: the {pack.name} domain has no {types[0]!r} callers (from {phrase}); "
            f"its caller types are {valid}, {example}"
        )
        return None
    return types[0]


# ------------------------------------------------------------------------------------------ domain


def _domain_hits(text: str, packs: Packs) -> list[_Hit]:
    table = [(keyword_pattern(kw), name) for name, pack in packs.items() for kw in (name, *pack.keywords)]
    return _find_hits(text, table)


def _scenario_table(pack: DomainPack) -> list[tuple[str, str]]:
    return [(keyword_pattern(kw), s.id) for s in pack.scenarios for kw in (s.id, *s.keywords)]


_SUFFIXES = ("s", "es", "'s", "ed", "d", "ing", "ion", "ions", "er", "ers")


def _word_bases(word: str) -> set[str]:
    """The words ``word`` may be an inflection of (the reverse of ``_inflections``): 'refills' -> 'refill',
    'cancelling' -> 'cancel', 'deliveries' -> 'delivery', 'scheduling' -> 'schedule'."""
    bases = {word}
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            stem = word[: -len(suffix)]
            bases.add(stem)
            if suffix in ("ing", "ion", "ions"):
                bases.add(stem + "e")
            if suffix in ("ed", "ing", "er", "ers") and len(stem) > 1 and stem[-1] == stem[-2]:
                bases.add(stem[:-1])
    if word.endswith("ies"):
        bases.add(word[:-3] + "y")
    return bases


class _Vocabulary:
    """Known words and their inflections, by set lookup (a regex of them all took 0.2 s to compile)."""

    def __init__(self, words: set[str]) -> None:
        self.words = words

    def fullmatch(self, word: str) -> bool:
        return not self.words.isdisjoint(_word_bases(word))


def _vocabulary(packs: Packs) -> _Vocabulary:
    """Every word the parser knows, for telling an unknown domain word ("banking") from a known one."""
    phrases: list[str] = [*FILLER_WORDS, *STOP_WORDS, *NUMBER_WORDS, *LANGUAGES]
    for table in (TONE_WORDS, COMPLEXITY_WORDS, CALLER_WORDS, FORMAT_WORDS):
        phrases.extend(p for ps in table.values() for p in ps)
    phrases.extend(["long", "longer", "patient", "lost", "turns", "exchanges"])
    for name, pack in packs.items():
        phrases.extend([name, *pack.keywords, *pack.caller_types])
        phrases.extend(kw for s in pack.scenarios for kw in (s.id, *s.keywords))
    return _Vocabulary({w for p in phrases for w in re.split(r"[\s_-]+", p.lower()) if w})


def _unknown_domain_name(text: str, packs: Packs) -> str | None:
    """A domain-like phrase the packs do not know: 'banking' in "50 banking transcripts", "the banking
    industry", "domain: banking"."""
    vocabulary = _vocabulary(packs)
    text = _mask(text, ((n.start, n.end) for n in find_numbers(text)))

    def unknown(words: list[str]) -> str | None:
        words = [w for w in words if w not in FILLER_WORDS]
        while words and words[0] in STOP_WORDS:
            words = words[1:]
        if any(not vocabulary.fullmatch(w) for w in words):
            return " ".join(words)
        return None

    explicit = re.search(r"\bdomain\s*(?:[:=]|is|of)\s*([a-z][a-z0-9_-]*)", text) or re.search(
        r"\b([a-z][a-z0-9_-]*(?:\s+[a-z][a-z0-9_-]*)?)\s+(?:domain|industry|sector|vertical)\b", text
    )
    if explicit and (name := unknown(explicit.group(1).split())):
        return name
    for noun in re.finditer(rf"\b{COUNT_NOUN}\b", text):
        tokens = re.findall(r"[a-z][a-z'-]*|\S", text[: noun.start()])
        words: list[str] = []
        for token in reversed(tokens):
            if not re.fullmatch(r"[a-z][a-z'-]*", token) or token in STOP_WORDS or token in NUMBER_WORDS:
                break
            words.insert(0, token)
        if name := unknown(words[-3:]):
            return name
    return None


def _pick_domain(hits: Sequence[_Hit], text: str, packs: Packs, problems: list[str]) -> str | None:
    domains = _distinct(h.value for h in hits)
    if len(domains) == 1:
        return domains[0]
    named = _distinct(h.value for h in hits if re.fullmatch(keyword_pattern(h.value), h.phrase))
    if len(named) == 1:
        return named[0]
    before_noun = _distinct(
        h.value for h in hits if re.match(rf"(?:\s+[a-z][a-z'-]*){{0,2}}?\s+{COUNT_NOUN}\b", text[h.end :])
    )
    if len(before_noun) == 1:
        return before_noun[0]
    mentions = "; ".join(
        f"{d}: {', '.join(_distinct(_quote(h.phrase) for h in hits if h.value == d))}" for d in domains
    )
    problems.append(
        f"domain: the request mentions several domains ({mentions}); one job has one domain, name it "
        f"before the word 'transcripts', e.g. 'Generate 50 {domains[0]} transcripts'"
    )
    return None


def _scenario_words(text: str, packs: Packs) -> dict[str, list[_Hit]]:
    """Per pack, its scenario keywords the text uses ("prescription refills" -> healthcare)."""
    found = {name: _find_hits(text, _scenario_table(pack)) for name, pack in packs.items()}
    return {name: hits for name, hits in found.items() if hits}


@dataclass(frozen=True)
class _DomainChoice:
    name: str | None
    hits: list[_Hit]  # the domain keywords read (masked before scenarios are looked for)
    reading: Reading | None = None


def _no_domain_problem(
    unknown: str | None, ranked: Sequence[Match], by_scenario: Mapping[str, list[_Hit]], packs: Packs
) -> str:
    """The refusal when no domain is settled: what was not close enough, and the closest candidates."""
    offers = [m for m in ranked if m.anchor.field != "other_industry"]
    if offers:
        offer = closest_candidates(offers)
    elif by_scenario:
        offer = (
            "did you mean " + " or ".join(f"{d} ({hits[0].value})" for d, hits in by_scenario.items()) + "?"
        )
    else:
        offer = ""
    other = ranked[0] if ranked and ranked[0].anchor.field == "other_industry" else None
    beyond = ""
    if other is not None:
        industry = other.anchor.value.replace("_", " ")
        said = other.anchor.text.lower() in (industry, other.phrase.lower())
        like = "" if said else f" ({other.anchor.text!r}, {other.score:.2f})"
        beyond = f"{other.phrase!r} sounds like {industry}{like}, which no domain pack covers. "
    if unknown:
        closest = f" Closest by meaning: {beyond}{offer}" if beyond or offer else ""
        return unknown_domain_message(unknown, dict(packs)) + closest.rstrip()
    best = offers[0].anchor.domain if offers else (next(iter(by_scenario)) if by_scenario else None)
    example = best or (sorted(packs)[0] if packs else "healthcare")
    return (
        f"domain: the request does not name a domain; known domains are {', '.join(sorted(packs))}. "
        f"{beyond}{offer + ' ' if offer else ''}Name one, e.g. 'Generate 50 {example} transcripts'"
    )


def _extract_domain(
    text: str,
    scenario_text: str,
    phrases: Sequence[str],
    packs: Packs,
    meaning: Callable[[], SemanticMatcher | None] | None,
    problems: list[str],
) -> _DomainChoice:
    """By rules first (a domain keyword; else scenario words of one pack only), then by meaning."""
    hits = _domain_hits(text, packs)
    if hits:
        name = _pick_domain(hits, text, packs, problems)
        said = next((h.phrase for h in hits if h.value == name), "")
        return _DomainChoice(
            name, hits, Reading("domain", name, " ".join(said.split()), "keyword") if name else None
        )
    unknown = _unknown_domain_name(text, packs)
    by_scenario = _scenario_words(scenario_text, packs)
    if not unknown and len(by_scenario) == 1:
        (name, scenario_hits), *_ = by_scenario.items()
        word = scenario_hits[0]
        return _DomainChoice(name, [], Reading("domain", name, word.phrase, f"scenario word of {word.value}"))
    asked = [next((p for p in phrases if p.lower() == unknown), unknown)] if unknown else list(phrases)
    ranked: list[Match] = []
    matcher = meaning() if meaning is not None and asked else None
    if matcher is not None:
        ranked = matcher.rank_domains(asked)
        chosen = matcher.decide_domain(ranked)
        if chosen is not None and chosen.anchor.domain:
            return _DomainChoice(
                chosen.anchor.domain,
                [],
                Reading("domain", chosen.anchor.domain, chosen.phrase, "meaning", chosen),
            )
    problems.append(_no_domain_problem(unknown, ranked, by_scenario, packs))
    return _DomainChoice(None, [])


def _scenario_hits(text: str, pack: DomainPack) -> list[_Hit]:
    return _find_hits(_mask_patterns(text, NOT_SCENARIO), _scenario_table(pack))


# --------------------------------------------------------------------------------------------- API


def _format_validation_error(err: ValidationError, prefix: str = "") -> str:
    fields = list(JobSpec.model_fields)
    problems = validation_problems(
        err,
        missing_hint="e.g. count: 50, domain: healthcare",
        unknown_hint=lambda name: f"{did_you_mean(name, fields)}fields are: {', '.join(fields)}",
    )
    return "\n".join(f"{prefix}{loc}: {msg}" if loc else f"{prefix}{msg}" for loc, msg in problems)


def validate_against_packs(spec: JobSpec, packs: Packs) -> JobSpec:
    """Check that the spec's domain, scenario ids and caller type exist in the domain packs."""
    pack = packs.get(spec.domain)
    if pack is None:
        raise RequestError(unknown_domain_message(spec.domain, dict(packs)))
    problems: list[str] = []
    ids = [s.id for s in pack.scenarios]
    unknown = [s for s in spec.scenarios if s not in ids]
    if unknown:
        close = [m for s in unknown for m in difflib.get_close_matches(s, ids, n=1)]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        problems.append(
            f"scenarios: unknown scenario id(s) {', '.join(repr(s) for s in unknown)} for domain "
            f"{pack.name!r}{hint}; valid ids: {', '.join(ids)}"
        )
    if spec.caller_type is not None and spec.caller_type not in pack.caller_types:
        problems.append(
            f"caller_type: {spec.caller_type!r} is not a caller type of the {pack.name} domain; "
            f"choose one of: {', '.join(pack.caller_types)}"
        )
    if problems:
        raise RequestError("\n".join(problems))
    return spec


def _semantic_layer_runs() -> bool:
    """False where no embedding model is installed (an agent-only install): the rules alone then. Finds
    the model folder without loading it (and without numpy)."""
    from transcript_foundry.dedup.embedding_model import EmbeddingModelError, resolve_model_dir

    try:
        resolve_model_dir()
    except EmbeddingModelError:
        return False
    return True


def _mask_for_meaning(text: str, scenario_hits: Sequence[_Hit]) -> str:
    """The words no rule read: numbers, nouns, the scenario words used and the pronouns of place blanked."""
    text = _mask(text, ((n.start, n.end) for n in find_numbers(text)))
    text = _mask_patterns(text, [rf"\b{COUNT_NOUN}\b", *NOT_SCENARIO])
    return _mask_hits(text, scenario_hits)


def parse_request(
    text: str, packs: Packs, *, matcher: SemanticMatcher | None = None, semantic: bool = True
) -> JobSpec:
    """Turn a plain-English request into a validated JobSpec, or raise ``RequestError`` naming what to fix."""
    return understand_request(text, packs, matcher=matcher, semantic=semantic).spec


def understand_request(
    text: str, packs: Packs, *, matcher: SemanticMatcher | None = None, semantic: bool = True
) -> Understanding:
    """The JobSpec and how each field was read. Rules first; the words they leave are matched by meaning
    (``matcher``, by default the shipped MiniLM against the packs' text) only when a field is still open,
    so a request the rules settle never loads the model. ``semantic=False``: rules only."""
    original = " ".join(text.split())
    cased, vague = rewrite_vague_counts(_normalize(text, lower=False))
    normalized = cased.lower()
    if not normalized:
        raise RequestError(
            f"request: the request is empty; say how many transcripts of which domain, e.g. {EXAMPLE!r}"
        )
    problems: list[str] = []

    seed, rest = _extract_seed(normalized, problems)
    quality, rest = _extract_quality(rest, problems)
    turns, rest = _extract_turns(rest, problems)
    formats, rest = _extract_formats(rest)
    language, rest = _extract_language(rest, problems)
    rest = _mask_patterns(rest, NOISE)

    if not (find_numbers(rest) or re.search(rf"\b{COUNT_NOUN}\b", rest) or _domain_hits(rest, packs)):
        raise RequestError(
            f"request: could not find what to generate in {original!r}; say how many transcripts of which "
            f"domain, e.g. {EXAMPLE!r} (known domains: {', '.join(sorted(packs))})"
        )
    count = _extract_count(rest, problems)
    tone, tone_hits, rest = _extract_tone(rest, problems)
    callers = _caller_hits(rest, packs)
    complexity, complexity_hits, without_words = _extract_complexity(_mask_hits(rest, callers), problems)

    matchers = [matcher] if matcher is not None else []

    def matcher_for_packs() -> SemanticMatcher | None:
        if not matchers:
            if not _semantic_layer_runs():
                return None
            from transcript_foundry.request.semantic_match import SemanticMatcher

            matchers.append(SemanticMatcher(packs))
        return matchers[0]

    meaning = matcher_for_packs if semantic or matchers else None
    open_text = _mask_for_meaning(without_words, [])
    choice = _extract_domain(
        rest, without_words, leftover_phrases(open_text, cased), packs, meaning, problems
    )
    readings = [Reading("count", str(v.value), v.phrase) for v in vague]
    readings += [r for r in [choice.reading] if r is not None]

    scenarios: list[str] = []
    caller_type: str | None = None
    if choice.name is not None:
        pack = packs[choice.name]
        scenario_hits = _scenario_hits(_mask_hits(without_words, choice.hits), pack)
        scenarios = _distinct(h.value for h in scenario_hits)
        caller_type = _resolve_caller_type(callers, pack, packs, problems)
        masked = _mask_for_meaning(_mask_hits(without_words, choice.hits), scenario_hits)
        phrases = leftover_phrases(masked, cased)
        wanted = {
            "scenario": not scenarios,
            "emotional_tone": not tone_hits,
            "caller_type": not callers,
        }
        matcher = meaning() if meaning is not None and phrases and any(wanted.values()) else None
        if matcher is not None:
            from transcript_foundry.request.semantic_fields import read_by_meaning

            by_meaning = read_by_meaning(matcher, phrases, pack.name, [f for f, w in wanted.items() if w])
            scenarios = [r.value for r in by_meaning if r.field == "scenario"] or scenarios
            tone = next((r.value for r in by_meaning if r.field == "emotional_tone"), tone)
            caller_type = next((r.value for r in by_meaning if r.field == "caller_type"), caller_type)
            readings += by_meaning
        chosen = {"scenario": set(scenarios), "emotional_tone": {tone}, "complexity": {complexity}}
        chosen["caller_type"] = {caller_type}
        readings += _rule_readings([*scenario_hits, *tone_hits, *complexity_hits, *callers], chosen)
    if problems:
        raise RequestError("\n".join(problems))

    fields: dict[str, object] = {
        "count": count,
        "domain": choice.name,
        "emotional_tone": tone,
        "complexity": complexity,
        "caller_type": caller_type,
        "scenarios": scenarios,
        "exchanges": turns.resolve(complexity) if turns else None,
        "seed": seed,
    }
    if formats:
        fields["formats"] = formats
    if language:
        fields["language"] = language
    if quality is not None:
        fields["quality_threshold"] = quality
    try:
        spec = JobSpec.model_validate(fields)
    except ValidationError as exc:
        raise RequestError(_format_validation_error(exc)) from None
    order = {"count": 0, "domain": 1, "scenario": 2, "emotional_tone": 3, "complexity": 4, "caller_type": 5}
    readings.sort(key=lambda r: order.get(r.field, 9))
    used_model = bool(matchers) and matchers[0].loaded
    return Understanding(validate_against_packs(spec, packs), tuple(readings), used_model)


def _rule_readings(hits: Sequence[_Hit], chosen: Mapping[str, set[str | None]]) -> list[Reading]:
    """Readings of the words the rules took for the values chosen ('irate' -> emotional_tone angry)."""
    readings = [
        Reading(field, hit.value, " ".join(hit.phrase.split()))
        for hit in hits
        for field, values in chosen.items()
        if hit.value and hit.value in values
    ]
    return list(dict.fromkeys(readings))


def load_job_spec_file(path: Path, packs: Packs) -> JobSpec:
    """Read a YAML or JSON file of JobSpec fields; errors read '<file>: <field>: <problem>'."""
    path = Path(path)
    try:
        raw = read_utf8(path, "job spec file")
    except TextFileError as exc:
        raise RequestError(f"{path}: {exc}") from None
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except json.JSONDecodeError as exc:
        raise RequestError(
            f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except yaml.YAMLError as exc:
        raise RequestError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RequestError(
            f'{path}: a job spec file must hold a mapping of JobSpec fields, e.g. {{"count": 50, '
            '"domain": "healthcare"}'
        )
    try:
        spec = JobSpec.model_validate(data)
    except ValidationError as exc:
        raise RequestError(_format_validation_error(exc, prefix=f"{path}: ")) from None
    try:
        return validate_against_packs(spec, packs)
    except RequestError as exc:
        raise RequestError("\n".join(f"{path}: {line}" for line in str(exc).splitlines())) from None


def resolve_request(arg: str, packs: Packs, *, semantic: bool = True) -> JobSpec:
    """A job spec file (``.yaml``, ``.yml``, ``.json``) or a plain-English request."""
    return resolve_understanding(arg, packs, semantic=semantic).spec


def resolve_understanding(arg: str, packs: Packs, *, semantic: bool = True) -> Understanding:
    """``resolve_request`` with the readings behind a plain-English request (a file has none)."""
    candidate = arg.strip()
    if candidate.lower().endswith(SPEC_FILE_SUFFIXES):
        path = Path(candidate).expanduser()
        if not path.is_file():
            raise RequestError(
                f"job spec file {candidate} not found: check the path, or pass a plain-English request "
                f"instead, e.g. {EXAMPLE!r}"
            )
        return Understanding(load_job_spec_file(path, packs))
    return understand_request(arg, packs, semantic=semantic)
