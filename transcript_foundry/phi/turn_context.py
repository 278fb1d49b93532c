"""What the previous turn asked for: "Can I get your date of birth?" makes the answer's date a DOB, and its
bare number ("Nine oh two one oh.") the thing asked for."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class AskedFor:
    question: re.Pattern[str]
    kind: str
    answer: re.Pattern[str] | None  # a value to find in the answer (its "value" group if any), or None
    relabels: frozenset[str]  # detected kinds in the answer that become ``kind``


def _q(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_NAME = r"[A-Z][a-z]+(?:['’-][A-Za-z]?[a-z]+)?"
ASKED_FOR: tuple[AskedFor, ...] = (
    # "Who am I speaking with?" → "Hye-jin Park. My account email is ..."
    AskedFor(
        _q(
            r"\b(?:who am I speaking|who's calling|who is calling|your name|the name|patient's name|full name"
            r"|account holder|who's the)\b"
        ),
        "NAME",
        re.compile(
            rf"^(?:(?:yes|sure|okay|it's|this is|I'm|that's me|my name is)[,.]?\s+)*(?P<value>{_NAME}(?:\s+{_NAME}){{1,2}})\b"
        ),
        frozenset(),
    ),
    AskedFor(_q(r"\b(?:date of birth|birth ?date|birthday|DOB|born)\b"), "DOB", None, frozenset({"DATE"})),
    AskedFor(
        _q(r"\blast (?:four|4)\b.*\b(?:social|SSN)\b|\b(?:social|SSN)\b.*\blast (?:four|4)\b"),
        "SSN",
        re.compile(r"(?<![\w-])\d{4}(?![\w-])"),
        frozenset({"ID"}),
    ),
    AskedFor(
        _q(r"\b(?:social security|SSN|social)\b"),
        "SSN",
        re.compile(r"(?<![\w-])\d{3}-?\d{2}-?\d{4}(?![\w-])"),
        frozenset({"ID"}),
    ),
    AskedFor(
        _q(r"\blast (?:four|4)\b.*\bcard\b|\bcard\b.*\blast (?:four|4)\b"),
        "CARD",
        re.compile(r"(?<![\w-])\d{4}(?![\w-])"),
        frozenset({"ID"}),
    ),
    AskedFor(
        _q(r"\bzip\b|\bpostal code\b"),
        "ZIP",
        re.compile(r"(?<![\w-])\d{5}(?:-\d{4})?(?![\w-])"),
        frozenset({"ID"}),
    ),
    AskedFor(
        _q(r"\b(?:how old|age)\b"), "AGE", re.compile(r"(?<![\w.-])(?:9\d|1[01]\d)(?![\w.])"), frozenset()
    ),
    AskedFor(
        _q(r"\b(?:member|subscriber|policy|group|beneficiary|medicare|medicaid)\b.*\b(?:ID|number)\b"),
        "MEMBER_ID",
        None,
        frozenset({"ID"}),
    ),
    AskedFor(_q(r"\b(?:medical record|MRN|chart number)\b"), "MRN", None, frozenset({"ID"})),
    AskedFor(_q(r"\baccount\b"), "ACCOUNT", None, frozenset({"ID"})),
    AskedFor(_q(r"\b(?:serial|IMEI|MAC address)\b"), "DEVICE", None, frozenset({"ID"})),
    AskedFor(_q(r"\b(?:licen[cs]e plate|plate)\b"), "PLATE", None, frozenset({"ID"})),
    AskedFor(_q(r"\b(?:driver'?s licen[cs]e|licen[cs]e number)\b"), "LICENSE", None, frozenset({"ID"})),
    AskedFor(
        _q(r"\bcard number\b"),
        "CARD",
        re.compile(r"(?<![\w-])\d{4}(?:[- ]?\d{4}){2,3}(?![\w-])"),
        frozenset({"ID"}),
    ),
)


def asked_for(previous_turn: str | None) -> list[AskedFor]:
    """The identifiers the previous turn asked for (its last 200 characters), most specific first."""
    if not previous_turn:
        return []
    tail = previous_turn[-200:]
    return [a for a in ASKED_FOR if a.question.search(tail)]
