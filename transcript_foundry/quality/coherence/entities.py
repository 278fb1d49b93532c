"""What a turn states: identifiers, amounts and dates, with where they sit and what they are called.

Extraction is plain regular expressions over the written forms calls use: ``BP48213907``, ``CL-5503-1187``,
``614-555-0187``, ``$1,842.17``, ``March 22nd, 1986``, ``5-14-1981``. Spoken digits ("four one seven") are
not read. Each mention gets a ``label`` (member_id, account_number, date_of_birth, ...) from the words just
before it in the turn, else from what the agent's previous turn asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

EntityKind = Literal["identifier", "amount", "date"]

MONTHS: dict[str, int] = {
    name: i
    for i, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
DATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b", re.IGNORECASE),
    re.compile(rf"\b(?:the\s+)?{_DAY}\s+of\s+{_MONTH}(?:,?\s+{_YEAR})?\b", re.IGNORECASE),
    re.compile(r"\b(?P<month>[01]?\d)[/-](?P<day>[0-3]?\d)[/-](?P<year>(?:19|20)\d\d)\b"),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
)
AMOUNT_PATTERN = re.compile(r"\$\s?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<cents>\d{2}))?")
_TOKEN = re.compile(r"(?<![\w$.:/-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?![\w:/]|\.\d|-\w)")

# Label keywords, most specific first. The label of a mention is the nearest keyword before it.
LABELS: tuple[tuple[str, str], ...] = (
    ("member_id", r"member (?:id|number)|member\s?id|subscriber id"),
    ("policy_number", r"policy(?: number)?"),
    ("claim_number", r"claim(?: number)?"),
    ("order_number", r"order(?: number)?"),
    ("loan_number", r"loan(?: number)?"),
    (
        "reference_number",
        r"reference(?: number)?|confirmation(?: number)?|case(?: number)?|ticket(?: number)?|dispute(?: number)?|claim number",
    ),
    ("card_last4", r"card (?:ending|ends)|ending in|ends in|last four(?: digits)?|last 4"),
    ("account_number", r"account(?: number)?"),
    ("phone_number", r"phone(?: number)?|mobile(?: number)?|cell(?: number)?|call(?:back)? (?:me )?at"),
    ("zip_code", r"zip(?: code)?|postal code"),
    ("pin", r"\bpin\b|passcode"),
    ("date_of_birth", r"date of birth|birth ?date|birthday|born|\bdob\b"),
)
LABEL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (n, re.compile(p, re.IGNORECASE)) for n, p in LABELS
)
_LOOKBACK = 48


@dataclass(frozen=True)
class Mention:
    """One stated value: its ``turn``, character span, normalised ``value`` and guessed ``label``."""

    kind: EntityKind
    turn: int
    start: int
    end: int
    text: str
    value: str
    label: str | None


@dataclass(frozen=True)
class DateValue:
    month: int
    day: int
    year: int | None

    def __str__(self) -> str:
        return f"{self.year or '????'}-{self.month:02d}-{self.day:02d}"


def parse_date(match: re.Match[str]) -> DateValue | None:
    month_text = match.group("month").lower().rstrip(".")
    month = MONTHS.get(month_text) if not month_text.isdigit() else int(month_text)
    day = int(match.group("day"))
    year_text = match.groupdict().get("year")
    if not month or not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    return DateValue(month, day, int(year_text) if year_text else None)


def labels_asked(text: str) -> set[str]:
    """The label kinds a turn mentions anywhere (what an agent's question asks for)."""
    return {name for name, pattern in LABEL_PATTERNS if pattern.search(text)}


def _label_before(text: str, start: int) -> str | None:
    window = text[max(0, start - _LOOKBACK) : start]
    best: tuple[int, str] | None = None
    for name, pattern in LABEL_PATTERNS:
        for m in pattern.finditer(window):
            if best is None or m.end() > best[0]:
                best = (m.end(), name)
    return best[1] if best else None


def normalise_identifier(token: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", token.upper())


def _is_identifier(token: str) -> bool:
    digits = sum(c.isdigit() for c in token)
    letters = [c for c in token if c.isalpha()]
    if any(c.islower() for c in letters):
        return False
    if not letters and re.fullmatch(r"(?:19|20)\d\d", token):
        return False  # a year
    return digits >= 4 or (digits >= 3 and bool(letters))


def turn_mentions(turn: int, text: str, asked: set[str] | None = None) -> list[Mention]:
    """Every date, amount and identifier ``text`` states, in order, each with its label."""
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def label_for(start: int, kind: EntityKind) -> str | None:
        label = _label_before(text, start)
        if label is None and kind == "date" and asked and "date_of_birth" in asked:
            label = "date_of_birth"
        if label is None and kind == "identifier" and asked:
            ids = asked - {"date_of_birth"}
            label = next(iter(ids)) if len(ids) == 1 else None
        return label

    for pattern in DATE_PATTERNS:
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            value = parse_date(m)
            if value is None:
                continue
            taken.append((m.start(), m.end()))
            found.append(
                Mention(
                    "date", turn, m.start(), m.end(), m.group(0), str(value), label_for(m.start(), "date")
                )
            )
    for m in AMOUNT_PATTERN.finditer(text):
        if not free(m.start(), m.end()):
            continue
        taken.append((m.start(), m.end()))
        value = m.group("int").replace(",", "") + "." + (m.group("cents") or "00")
        found.append(Mention("amount", turn, m.start(), m.end(), m.group(0), value, None))
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if not free(m.start(), m.end()) or not _is_identifier(token):
            continue
        taken.append((m.start(), m.end()))
        found.append(
            Mention(
                "identifier",
                turn,
                m.start(),
                m.end(),
                token,
                normalise_identifier(token),
                label_for(m.start(), "identifier"),
            )
        )
    return sorted(found, key=lambda x: x.start)


def call_mentions(turns: tuple[tuple[str, str], ...]) -> list[Mention]:
    """All mentions of a call in order; a customer turn inherits the labels its preceding agent turn asked."""
    mentions: list[Mention] = []
    for i, (speaker, text) in enumerate(turns):
        asked: set[str] | None = None
        if speaker == "CUSTOMER" and i > 0 and turns[i - 1][0] == "AGENT":
            asked = labels_asked(turns[i - 1][1])
        mentions.extend(turn_mentions(i, text, asked))
    return mentions
