"""Where a call still says a value its plan planted (the caller's name, member ID, phone, date of birth,
address ...), as spans of the scrubber's normalised text (spoken digits already written as digits), so that
a planted identifier is replaced wherever it is said, whatever the recognizers make of the sentence.

A generated call's plan knows its identifiers; the recognizers are a net for what nobody planted. This is
the second net: a digit identifier said with other separators ("415 555 0123"), split over a sentence
("415 ... 555 ... 0123"), or an address without its street type ("1094 Cedar") is found here by value.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

from transcript_foundry.phi.planted import DIGIT_KINDS

# The plan's fact kinds -> the scrubber's kinds (entity_kinds.KINDS).
SCRUB_KIND = {
    "person_name": "NAME",
    "member_id": "MEMBER_ID",
    "medical_record_number": "MRN",
    "account_number": "ACCOUNT",
    "order_number": "ID",
    "card_number": "CARD",
    "ssn": "SSN",
    "phone_number": "PHONE",
    "zip_code": "ZIP",
    "device_serial": "DEVICE",
    "licence_plate": "PLATE",
    "date_of_birth": "DOB",
    "email_address": "EMAIL",
    "street_address": "ADDRESS",
    "ip_address": "IP",
    "url": "URL",
}
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
)  # fmt: skip
_JOIN = re.compile(r"[^A-Za-z0-9]*")  # what may stand between two digits of one mention


def _digit_spans(text: str, digits: str) -> list[tuple[int, int]]:
    """Each mention of ``digits`` in ``text``: its digits in order with only punctuation, spaces or "..."
    between them; a mention interrupted by words becomes one span per uninterrupted part."""
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    stream = "".join(text[i] for i in positions)
    spans: list[tuple[int, int]] = []
    start = stream.find(digits)
    while start >= 0:
        chosen = positions[start : start + len(digits)]
        run_start = chosen[0]
        for before, after in itertools.pairwise(chosen):
            if not _JOIN.fullmatch(text[before + 1 : after]):
                spans.append((run_start, before + 1))
                run_start = after
        spans.append((run_start, chosen[-1] + 1))
        start = stream.find(digits, start + len(digits))
    return spans


def _date_spans(text: str, value: str) -> list[tuple[int, int]]:
    match = re.match(r"([A-Za-z]+) (\d+), (\d{4})", value)
    if match is None:
        return []
    month, day, year = match.group(1), match.group(2), match.group(3)
    number = str(_MONTHS.index(month.lower()) + 1) if month.lower() in _MONTHS else "0"
    patterns = [
        rf"(?i)\b(?:the\s+)?{day}(?:st|nd|rd|th)?\s+(?:of\s+)?{month}\b,?\s*{year}\b",
        rf"(?i)\b{month}\s+(?:the\s+)?{day}(?:st|nd|rd|th)?\b,?\s*(?:of\s+)?{year}\b",
        rf"\b0?{number}[/-]0?{day}[/-]{year}\b",
        rf"\b{year}-0?{number}-0?{day}\b",
    ]
    spans = [m.span() for p in patterns for m in re.finditer(p, text)]
    if not spans and re.search(rf"\b{year}\b", text) and re.search(rf"(?i)\b{month}\b", text):
        # Said apart ("born in 1987 ... March the 4th"): the year and the month with its day.
        spans += [m.span() for m in re.finditer(rf"\b{year}\b", text)]
        spans += [
            m.span()
            for m in re.finditer(rf"(?i)\b{month}\b(?:\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?)?", text)
        ]
    return spans


def _address_spans(text: str, value: str) -> list[tuple[int, int]]:
    number, _, street = value.partition(" ")
    words = street.split()
    if not number or not words:
        return []
    rest = "".join(rf"(?:\s+{re.escape(w)})?" for w in words[1:])
    return [
        m.span() for m in re.finditer(rf"(?i)\b{re.escape(number)}\s+{re.escape(words[0])}\b{rest}", text)
    ]


def known_value_spans(text: str, facts: Mapping[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, scrubber kind) of every planted value said in ``text`` (the normalised turn).
    Names are left to the scrubber's own known-name pass, which also finds a first name said alone."""
    found: list[tuple[int, int, str]] = []
    for kind, value in facts.items():
        scrub_kind = SCRUB_KIND.get(kind)
        if scrub_kind is None or kind == "person_name":
            continue
        if kind in DIGIT_KINDS:
            digits = re.sub(r"\D", "", value)
            spans = _digit_spans(text, digits) if len(digits) >= 4 else []
        elif kind == "date_of_birth":
            spans = _date_spans(text, value)
        elif kind == "street_address":
            spans = _address_spans(text, value)
        else:
            spans = [m.span() for m in re.finditer(re.escape(value), text, re.IGNORECASE)]
        found += [(start, end, scrub_kind) for start, end in spans]
    return found
