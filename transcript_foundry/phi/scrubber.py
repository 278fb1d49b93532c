"""``PhiScrubber``: find the PHI / PII in a transcript's turns and replace it, recording where.

Per transcript:

1. each turn is normalised for detection (spoken e-mails and URLs, days after month names, spoken
   numbers → digits; ``normalised_text`` keeps the map back to the original characters);
2. Presidio (spaCy names and places, e-mail, URL, IP, phone, SSN, card) plus ``recognizers`` run on the
   normalised turns, the spaCy pipeline batched over the transcript;
3. the previous turn's question labels or finds the answer ("...your date of birth?" → the date is a DOB);
4. every name token and value found anywhere in the transcript is found again in every turn (the agent
   reading a member ID back, "Thanks, Dana");
5. overlapping detections merge (the more specific kind names the span), the agent's name and the
   company stay, and the spans are mapped back to the original text and replaced: by a surrogate that is
   consistent across the transcript, or by a typed mask.

The record comes back with the scrubbed turn texts and ``phi: [{turn, start, end, kind}]`` locating each
replacement in the scrubbed text. Original values are never stored, logged or returned.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from faker import Faker
from presidio_analyzer import RecognizerResult

from transcript_foundry.contract.lenient_transcripts import TranscriptRecordError, read_transcript_record
from transcript_foundry.phi.analyzer_engine import nlp_engine, phi_analyzer
from transcript_foundry.phi.entity_kinds import (
    MODE_KINDS,
    MODES,
    PRESIDIO_KINDS,
    PRIORITY,
    REPLACEMENTS,
    Mode,
    Replacement,
    analyzer_entities,
    mask_for,
    mode_for_domain,
)
from transcript_foundry.phi.known_values import known_value_spans
from transcript_foundry.phi.normalised_text import NormalisedText, merge_rewrites
from transcript_foundry.phi.not_identifiers import NOT_A_NAME, NOT_A_PLACE
from transcript_foundry.phi.spoken_contacts import spoken_contact_rewrites
from transcript_foundry.phi.spoken_numbers import spoken_date_rewrites, spoken_number_rewrites
from transcript_foundry.phi.surrogates import Occurrence, SurrogateBook, transcript_seed
from transcript_foundry.phi.turn_context import asked_for

SCORE_THRESHOLD = 0.35
_TITLE_BEFORE = re.compile(r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Doctor|Prof)\.?\s+$")
_LEADING_WORD = re.compile(r"(?i:her|his|my|our|their|your|the|a|an)\s+(?=\S)")
_BIRTH = re.compile(r"\b(?:born|birth|DOB|birthday|birthdate|b-day)\b", re.IGNORECASE)
_NAME_TOKEN = re.compile(r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)?")


class PhiInputError(ValueError):
    """A record the scrubber cannot read; the message names the field."""


@dataclass(frozen=True)
class Detection:
    """One identifier in one turn: ``start``/``end`` in the original turn text."""

    start: int
    end: int
    kind: str
    normalised: str
    spoken: bool


@dataclass
class _Span:
    norm_start: int
    norm_end: int
    kind: str


def _merge(spans: list[_Span]) -> list[_Span]:
    merged: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.norm_start, -s.norm_end)):
        if merged and span.norm_start < merged[-1].norm_end:
            last = merged[-1]
            last.norm_end = max(last.norm_end, span.norm_end)
            if PRIORITY[span.kind] < PRIORITY[last.kind]:
                last.kind = span.kind
        else:
            merged.append(_Span(span.norm_start, span.norm_end, span.kind))
    return merged


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in ",;:!?\"'"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:!?\"'"):
        end -= 1
    if (
        end > start
        and text[end - 1] == "."
        and (end - start < 2 or text[end - 2].isdigit() or len(text[start:end].split()[-1]) > 4)
    ):
        end -= 1
    return start, end


_GREETING = frozenset(
    {"hi", "hello", "hey", "thanks", "thank", "dear", "yes", "okay", "sure", "so", "oh", "and"}
)


def _trim_name(text: str, start: int, end: int, protected: list[str]) -> tuple[int, int]:
    """A name span without a greeting at its start, nor the agent's or company's name set off by a comma
    ("Hi Maria, Dana" → "Dana"). "Maria Bates" stays whole: a caller may share the agent's first name."""
    own = {p.lower() for p in protected}
    while True:
        m = re.match(r"([A-Za-z']+)([\s,]+)", text[start:end])
        word = m.group(1).lower() if m else ""
        if not m or not (word in _GREETING or (word in own and "," in m.group(2))):
            break
        start += m.end()
    while True:
        m = re.search(r"([\s,]+)([A-Za-z']+)$", text[start:end])
        if not m or not (m.group(2).lower() in own and "," in m.group(1)):
            break
        end = start + m.start()
    return start, end


def _protected_intervals(text: str, protected: list[str]) -> list[tuple[int, int]]:
    intervals = []
    for phrase in protected:
        for m in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE):
            intervals.append(m.span())
    return intervals


def protected_phrases(record: dict[str, Any]) -> list[str]:
    """The call center's own agent name and company (and the company's distinctive words): not the caller's PHI."""
    phrases: list[str] = []
    agent = record.get("agent_name")
    if isinstance(agent, str) and agent.strip():
        phrases.append(agent.strip())
    company = record.get("company")
    if isinstance(company, str) and company.strip():
        phrases.append(company.strip())
        phrases += [w for w in re.findall(r"[A-Z][A-Za-z]{3,}", company)]
    return phrases


def turn_texts(record: Any) -> list[str]:
    """The turns' texts, or a ``PhiInputError`` naming the field that is missing or wrong (the lenient
    transcript reader's rules; the record needs no ``id``)."""
    try:
        turns = read_transcript_record(record, id_required=False)["turns"]
    except TranscriptRecordError as exc:
        raise PhiInputError(str(exc)) from None
    return [str(t["text"]) for t in turns]


class PhiScrubber:
    """Scrub output-contract transcript records. ``mode`` None: HIPAA for healthcare, PII otherwise."""

    def __init__(self, mode: Mode | None = None, replacement: Replacement = "surrogate") -> None:
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)} (or None: by domain)")
        if replacement not in REPLACEMENTS:
            raise ValueError(f"replacement: {replacement!r} is not one of {', '.join(REPLACEMENTS)}")
        self.mode = mode
        self.replacement = replacement
        self._analyzer = phi_analyzer()
        self._nlp = nlp_engine()
        self._faker = Faker("en_US")

    def mode_for(self, record: dict[str, Any]) -> Mode:
        return self.mode or mode_for_domain(record.get("domain"))

    # ---- detection --------------------------------------------------------------------------------
    def detect(
        self,
        texts: list[str],
        mode: Mode,
        protected: list[str] | None = None,
        planted: Mapping[str, str] | None = None,
    ) -> list[list[Detection]]:
        """Every identifier in each turn, in original-text coordinates. ``planted``: the identifiers a
        generated call's plan fixed (its facts: the caller's name, member ID, phone ...), found wherever
        they are said, in any mode, whatever the recognizers make of the sentence."""
        planted = planted or {}
        known_names = [planted["person_name"]] if planted.get("person_name") else []
        kinds = MODE_KINDS[mode]
        protected = protected or []
        normalised = [_normalise(t) for t in texts]
        artifacts = [a for _, a in self._nlp.process_batch([n.text for n in normalised], "en", batch_size=32)]
        # Dates are always looked for: in PII mode a date is kept unless it turns out to be a birth date.
        candidates = kinds | {"DATE"}
        entities = analyzer_entities(candidates)
        found: list[list[_Span]] = []
        for index, (norm, nlp_artifacts) in enumerate(zip(normalised, artifacts, strict=True)):
            results = self._analyzer.analyze(
                norm.text,
                language="en",
                entities=entities,
                nlp_artifacts=nlp_artifacts,
                score_threshold=SCORE_THRESHOLD,
                allow_list=protected or None,
            )
            spans = _merge(
                [s for r in results if (s := self._span(r, norm.text, candidates))]
                + _known_name_spans(norm.text, known_names, protected)
            )
            spans = self._from_question(texts[index - 1] if index else None, norm.text, spans, kinds)
            for span in spans:
                if span.kind == "DATE" and _BIRTH.search(
                    norm.text[max(0, span.norm_start - 60) : span.norm_start]
                ):
                    span.kind = "DOB"
            found.append(
                [s for s in spans if s.kind in kinds]
                + [_Span(start, end, kind) for start, end, kind in known_value_spans(norm.text, planted)]
            )
        found = self._repeat_across_turns(normalised, found, kinds, protected)
        return [
            self._to_original(text, norm, spans, protected)
            for text, norm, spans in zip(texts, normalised, found, strict=True)
        ]

    @staticmethod
    def _span(result: RecognizerResult, text: str, kinds: frozenset[str]) -> _Span | None:
        kind = PRESIDIO_KINDS.get(result.entity_type, result.entity_type)
        if kind not in kinds:
            return None
        start, value = result.start, text[result.start : result.end]
        if result.entity_type in ("PERSON", "LOCATION"):
            # spaCy's "Her Medicaid", "The Springfield": a possessive or article is not part of it.
            lead = _LEADING_WORD.match(value)
            if lead:
                start, value = start + lead.end(), value[lead.end() :]
            bare = value.strip().lower()
            if not any(c.isupper() for c in value) or bare in NOT_A_NAME:
                return None
            if result.entity_type == "LOCATION" and bare in NOT_A_PLACE:
                return None
            if any(c.isdigit() for c in value):
                return None  # spaCy's "Illinois 62704": the ZIP recognizer has the number
        return _Span(start, result.end, kind)

    @staticmethod
    def _from_question(
        previous: str | None, text: str, spans: list[_Span], kinds: frozenset[str]
    ) -> list[_Span]:
        for asked in asked_for(previous):
            if asked.kind not in kinds and not (asked.kind == "DOB" and "DATE" in kinds):
                continue
            kind = asked.kind if asked.kind in kinds else "DATE"
            relabel = next(
                (s for s in sorted(spans, key=lambda s: s.norm_start) if s.kind in asked.relabels), None
            )
            if relabel is not None:
                relabel.kind = kind
            elif asked.answer is not None:
                m = asked.answer.search(text)
                if m is not None:
                    start, end = m.span("value") if "value" in asked.answer.groupindex else m.span()
                    if not any(s.norm_start < end and start < s.norm_end for s in spans):
                        spans.append(_Span(start, end, kind))
        return spans

    @staticmethod
    def _repeat_across_turns(
        normalised: list[NormalisedText],
        found: list[list[_Span]],
        kinds: frozenset[str],
        protected: list[str],
    ) -> list[list[_Span]]:
        """A value found once is found wherever it is said again in the transcript."""
        names: set[str] = set()
        values: dict[str, str] = {}
        skip = {p.lower() for p in protected}
        for norm, spans in zip(normalised, found, strict=True):
            for span in spans:
                value = norm.text[span.norm_start : span.norm_end].strip(" ,.;:")
                if span.kind == "NAME":
                    names.update(
                        t
                        for t in _NAME_TOKEN.findall(value)
                        if len(t) >= 3 and t.lower() not in NOT_A_NAME | skip
                    )
                elif len(value) >= 4 and value.lower() not in skip:
                    values.setdefault(value, span.kind)
        if not names and not values:
            return found
        patterns: list[tuple[re.Pattern[str], str]] = []
        if names:
            alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
            patterns.append((re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])"), "NAME"))
        for value, kind in values.items():
            patterns.append((re.compile(rf"(?<![\w-]){re.escape(value)}(?![\w-])"), kind))
        for norm, spans in zip(normalised, found, strict=True):
            for pattern, kind in patterns:
                if kind not in kinds:
                    continue
                for m in pattern.finditer(norm.text):
                    if not any(s.norm_start <= m.start() and m.end() <= s.norm_end for s in spans):
                        spans.append(_Span(m.start(), m.end(), kind))
        return found

    @staticmethod
    def _to_original(
        text: str, norm: NormalisedText, spans: list[_Span], protected: list[str]
    ) -> list[Detection]:
        keep = _protected_intervals(text, protected)
        detections: list[Detection] = []
        for span in _merge(spans):
            start, end = norm.to_original(span.norm_start, span.norm_end)
            start, end = _trim(text, start, end)
            if span.kind == "NAME":
                start, end = _trim_name(text, start, end, protected)
            if start >= end or any(ps <= start and end <= pe for ps, pe in keep):
                continue
            n_start, n_end = _trim(norm.text, span.norm_start, span.norm_end)
            spoken = norm.touches_rewrite(span.norm_start, span.norm_end)
            if detections and start < detections[-1].end:
                last = detections.pop()
                kind = span.kind if PRIORITY[span.kind] < PRIORITY[last.kind] else last.kind
                detections.append(Detection(last.start, max(end, last.end), kind, last.normalised, spoken))
                continue
            detections.append(Detection(start, end, span.kind, norm.text[n_start:n_end], spoken))
        return detections

    # ---- replacement ------------------------------------------------------------------------------
    def scrub_record(
        self, record: dict[str, Any], planted: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """A copy of ``record`` with every turn's text scrubbed and ``phi`` spans (see the module docstring);
        ``planted``: the identifiers the call's plan fixed (its facts), replaced wherever said."""
        texts = turn_texts(record)
        protected = protected_phrases(record)
        detections = self.detect(texts, self.mode_for(record), protected, planted)
        seed_source = str(record.get("id") or "\n".join(texts[:1]))
        book = SurrogateBook(self._faker, transcript_seed(seed_source), frozenset(protected))
        scrubbed = copy.deepcopy(record)
        phi: list[dict[str, Any]] = []
        for index, (text, found) in enumerate(zip(texts, detections, strict=True)):
            parts: list[str] = []
            length = 0
            cursor = 0
            for d in found:
                parts.append(text[cursor : d.start])
                length += d.start - cursor
                if self.replacement == "mask":
                    replacement = mask_for(d.kind)
                else:
                    occurrence = Occurrence(
                        d.kind,
                        text[d.start : d.end],
                        d.normalised,
                        d.spoken,
                        after_title=bool(_TITLE_BEFORE.search(text[: d.start])),
                    )
                    replacement = book.surrogate(occurrence)
                parts.append(replacement)
                phi.append({"turn": index, "start": length, "end": length + len(replacement), "kind": d.kind})
                length += len(replacement)
                cursor = d.end
            parts.append(text[cursor:])
            scrubbed["turns"][index]["text"] = "".join(parts)
        scrubbed["phi"] = phi
        return scrubbed


def _known_name_spans(text: str, names: list[str], protected: list[str]) -> list[_Span]:
    """Each whole-word mention of a known name's parts (the first name alone, the surname alone ...)."""
    guarded = {w.lower() for phrase in protected for w in re.findall(r"[A-Za-z'’-]+", phrase)}
    parts = {
        p for n in names for p in re.findall(r"[A-Za-z'’-]+", n) if len(p) > 2 and p.lower() not in guarded
    }
    return [
        _Span(m.start(), m.end(), "NAME")
        for part in sorted(parts)
        for m in re.finditer(rf"(?<![\w'’-])(?:{re.escape(part)}|{re.escape(part.upper())})(?![\w’-])", text)
    ]


def _normalise(text: str) -> NormalisedText:
    contacts = spoken_contact_rewrites(text)
    dates = spoken_date_rewrites(text)
    taken = [(r.start, r.end) for r in contacts + dates]
    numbers = spoken_number_rewrites(text, taken)
    return NormalisedText(text, merge_rewrites(contacts, dates, numbers))
