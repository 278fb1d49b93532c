"""Numbers as people type them: digits, separators, ``k`` suffixes and English number words.

``NUMBER_PATTERN`` is a regular-expression fragment (for lower-case text) that finds a number phrase:
``500``, ``1,500``, ``1_000``, ``2.5k``, ``3 thousand``, ``1.5 thousand``, ``two hundred``,
``one hundred and twenty``, ``twenty-five``, ``a dozen``, ``half a dozen``, ``a couple of``, ``-5``.
``parse_number`` turns such a phrase into an exact ``Fraction`` (so ``2.5k`` is exactly 2500 and
``2.5`` is visibly not a whole number). ``"1 500"`` (a space as thousands separator) is only matched by
``SPACE_GROUPED_PATTERN``, because a space between two numbers is often not a separator at all.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

UNITS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS: dict[str, int] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
# Multipliers that close a group: "three thousand", "2 million", "2k".
BIG_SCALES: dict[str, int] = {"thousand": 1_000, "k": 1_000, "million": 1_000_000}

NUMBER_WORDS: frozenset[str] = frozenset(
    [*UNITS, *TEENS, *TENS, "hundred", "thousand", "million", "dozen", "couple", "pair", "half"]
)

_WORD = r"(?:{})\b".format(
    "|".join(
        sorted([*UNITS, *TEENS, *TENS, "hundred", "thousand", "million", "dozen"], key=len, reverse=True)
    )
)
_SCALE = r"(?:hundred|thousand|million|dozen)\b"
# "and" only joins after a scale word: "one hundred and twenty", never "between eight and twelve".
_JOIN = r"(?:[\s-]+|(?<=hundred)\s+and\s+|(?<=thousand)\s+and\s+|(?<=million)\s+and\s+)"
_DIGITS = r"(?:(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:_\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
_DIGIT_NUMBER = rf"{_DIGITS}(?:k\b|[\s-]*{_SCALE}(?:{_JOIN}{_WORD})*|(?![\w]|[.,_]\d))"
_WORD_NUMBER = rf"(?:(?:half\s+)?a\s+(?={_SCALE}))?{_WORD}(?:{_JOIN}{_WORD})*"
_PAIR = r"(?:an?\s+(?:couple|pair)(?:\s+of\b)?|couple\s+of\b)"
_SIGN = r"(?:(?:minus|negative)\s+|(?<![^\s(])-(?=[\d.]))"

NUMBER_PATTERN = rf"(?<![\w.,])(?:{_SIGN})?(?:{_DIGIT_NUMBER}|{_PAIR}|{_WORD_NUMBER})"
SPACE_GROUPED_PATTERN = r"(?<![\w.,])[1-9]\d{0,2}(?: \d{3})+(?![\w.,]| \d)"

_NUMBER_RE = re.compile(NUMBER_PATTERN)
_SPACE_GROUPED_RE = re.compile(SPACE_GROUPED_PATTERN)
_TOKEN_RE = re.compile(r"\d[\d,_]*(?:\.\d+)?|\.\d+|[a-z]+")


class NumberMatch(NamedTuple):
    start: int
    end: int
    text: str
    value: Fraction


class _Accumulator:
    """Left-to-right evaluation of number tokens with a small grammar check ("five five" is not a number)."""

    def __init__(self) -> None:
        self.total = Fraction(0)
        self.current = Fraction(0)
        self.factor = Fraction(1)
        self.last: str | None = None
        self.last_big_scale: int | None = None

    def add(self, token: str, phrase: str) -> None:
        if self.last == "dozen":
            raise ValueError(f"not a number: {phrase!r} (nothing may follow 'dozen')")
        if token[0].isdigit() or token[0] == ".":
            self._expect(self.last is None, phrase)
            self.current = Fraction(token.replace(",", "").replace("_", ""))
            self.last = "literal"
        elif token == "half":
            self._expect(self.last is None, phrase)
            self.factor = Fraction(1, 2)
            self.last = "half"
        elif token in ("a", "an"):
            self._expect(self.last in (None, "half"), phrase)
            self.current = Fraction(1)
            self.last = "a"
        elif token == "and":
            self._expect(self.last in ("hundred", "big"), phrase)
        elif token in UNITS:
            self._expect(self.last in (None, "tens", "hundred", "big"), phrase)
            self._expect(token != "zero" or self.last is None, phrase)
            self.current += UNITS[token]
            self.last = "unit"
        elif token in TEENS or token in TENS:
            self._expect(self.last in (None, "hundred", "big"), phrase)
            self.current += TEENS.get(token) or TENS[token]
            self.last = "teen" if token in TEENS else "tens"
        elif token == "hundred":
            self._expect(self.last in ("a", "unit", "teen", "tens", "literal") and self.current < 100, phrase)
            self.current *= 100
            self.last = "hundred"
        elif token in BIG_SCALES:
            scale = BIG_SCALES[token]
            self._expect(self.last in ("a", "unit", "teen", "tens", "literal", "hundred"), phrase)
            self._expect(self.last_big_scale is None or scale < self.last_big_scale, phrase)
            self.total += self.current * scale
            self.current = Fraction(0)
            self.last_big_scale = scale
            self.last = "big"
        elif token == "dozen":
            self._expect(self.last in ("a", "unit", "teen", "tens", "literal"), phrase)
            self.current *= 12
            self.last = "dozen"
        else:
            raise ValueError(f"not a number: {phrase!r} ({token!r} is not a number word)")

    def result(self, phrase: str) -> Fraction:
        self._expect(self.last not in (None, "half", "a"), phrase)
        return (self.total + self.current) * self.factor

    @staticmethod
    def _expect(condition: bool, phrase: str) -> None:
        if not condition:
            raise ValueError(f"not a number: {phrase!r}")


def parse_number(phrase: str) -> Fraction:
    """The exact value of one number phrase; raises ``ValueError`` if it is not one.

    >>> parse_number("one hundred and twenty"), parse_number("2.5k"), parse_number("half a dozen")
    (Fraction(120, 1), Fraction(2500, 1), Fraction(6, 1))
    """
    text = " ".join(phrase.strip().lower().split())
    if _SPACE_GROUPED_RE.fullmatch(text):
        return Fraction(int(text.replace(" ", "")))
    if not _NUMBER_RE.fullmatch(text):
        raise ValueError(f"not a number: {phrase!r}")
    sign = 1
    for prefix in ("minus ", "negative ", "-"):
        if text.startswith(prefix):
            sign, text = -1, text.removeprefix(prefix)
    if re.fullmatch(_PAIR, text):
        return Fraction(2 * sign)
    accumulator = _Accumulator()
    for token in _TOKEN_RE.findall(text):
        accumulator.add(token, phrase)
    return accumulator.result(phrase) * sign


def find_numbers(text: str, *, space_groups: bool = False) -> list[NumberMatch]:
    """Every number phrase in ``text`` (lower-cased first), left to right.

    With ``space_groups`` a run like ``1 500`` is read as one number (1500); use it only where other
    numbers have already been taken out of the text, so that "2 100-turn calls" is not misread.
    Phrases that look like numbers but do not parse ("five five") are skipped.
    """
    lowered = text.lower()
    found: list[NumberMatch] = []
    taken: list[tuple[int, int]] = []
    if space_groups:
        for m in _SPACE_GROUPED_RE.finditer(lowered):
            found.append(NumberMatch(m.start(), m.end(), m.group(), parse_number(m.group())))
            taken.append(m.span())
    for m in _NUMBER_RE.finditer(lowered):
        if any(start < m.end() and m.start() < end for start, end in taken):
            continue
        try:
            value = parse_number(m.group())
        except ValueError:
            continue
        found.append(NumberMatch(m.start(), m.end(), m.group(), value))
    return sorted(found)


def format_number(value: Fraction) -> str:
    """A value as a person would write it back: ``1,500``, ``2.5``, ``-3``."""
    if value.denominator == 1:
        return f"{int(value):,}"
    return f"{float(value):,.6g}"
