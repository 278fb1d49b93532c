"""Replacement values: realistic, format-preserving surrogates (Faker), or typed masks like ``[NAME]``.

One ``SurrogateBook`` per transcript, seeded from the transcript id: the same original value gets the same
surrogate in every turn ("Dana" → "Priscilla" everywhere, "Whitfield" → "Moreno" whether said alone, after
"Mrs." or spelled out as W-H-I-T-F-I-E-L-D), and the same record always scrubs to the same text. Numbers
keep their shape (separators, length, letters where letters were) and are said back in words when the
caller said them in words. The book lives only while one transcript is scrubbed; nothing is stored.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

from transcript_foundry.phi.entity_kinds import mask_for
from transcript_foundry.phi.spoken_numbers import say_digits, say_number, say_ordinal, say_year

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_RE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)(?:[a-z]*)\.?", re.IGNORECASE)
_SPELLED = re.compile(r"^[A-Z](?:(?:-|\s|\.\s?)[A-Z]){2,}$")
_STREET_START = re.compile(r"^\d")
_NUMBER_KINDS = frozenset(
    {"PHONE", "SSN", "CARD", "MRN", "MEMBER_ID", "ACCOUNT", "LICENSE", "PLATE", "DEVICE", "ZIP", "ID"}
)


def transcript_seed(transcript_id: str) -> int:
    return int.from_bytes(hashlib.sha256(transcript_id.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class Occurrence:
    """One detected identifier: its kind, the original text, the normalised (digits) form, and whether
    the caller said it in words."""

    kind: str
    original: str
    normalised: str
    spoken: bool
    after_title: bool = False


def _luhn_fix(digits: list[int]) -> list[int]:
    total = 0
    for i, d in enumerate(reversed(digits[:-1])):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return [*digits[:-1], (10 - total % 10) % 10]


class SurrogateBook:
    def __init__(self, faker: Faker, seed: int, avoid: frozenset[str] = frozenset()) -> None:
        faker.seed_instance(seed)
        self._fake = faker
        self._rng = random.Random(seed)
        self._avoid = {a.lower() for a in avoid}
        self._names: dict[str, str] = {}
        self._values: dict[tuple[str, str], str] = {}

    # ---- names -----------------------------------------------------------------------------------
    def _name_part(self, token: str, last: bool) -> str:
        key = token.lower()
        if key not in self._names:
            for _ in range(20):
                candidate = self._fake.last_name() if last else self._fake.first_name()
                if candidate.lower() != key and candidate.lower() not in self._avoid:
                    break
            self._names[key] = candidate
        return self._names[key]

    def name(self, occurrence: Occurrence) -> str:
        text = occurrence.original
        if _SPELLED.match(text):
            letters = re.sub(r"[^A-Z]", "", text)
            separator = re.search(r"[^A-Z]+", text).group(0)  # type: ignore[union-attr]
            surrogate = self._name_part(letters, last=True).upper()
            return separator.join(surrogate)
        tokens = re.findall(r"[A-Za-z][A-Za-z'’-]*|[^A-Za-z]+", text)
        words = [t for t in tokens if t[0].isalpha()]
        out: list[str] = []
        seen = 0
        for token in tokens:
            if not token[0].isalpha():
                out.append(token)
                continue
            seen += 1
            if len(token) <= 2 and token.endswith("."):
                out.append(token)  # a middle initial
                continue
            last = seen == len(words) and (len(words) > 1 or occurrence.after_title)
            if token.lower() in self._names:
                surrogate = self._names[token.lower()]
            else:
                surrogate = self._name_part(token, last=last)
            out.append(surrogate.upper() if token.isupper() and len(token) > 1 else surrogate)
        return "".join(out)

    # ---- numbers and codes -------------------------------------------------------------------------
    def _reshape(self, kind: str, shape: str) -> str:
        chars: list[str] = []
        for char in shape:
            if char.isdigit():
                chars.append(str(self._rng.randrange(10)))
            elif char.isalpha():
                letter = chr(self._rng.randrange(26) + ord("A"))
                chars.append(letter if char.isupper() else letter.lower())
            else:
                chars.append(char)
        digit_at = [i for i, c in enumerate(chars) if c.isdigit()]
        digits = [int(chars[i]) for i in digit_at]
        if kind == "CARD" and len(digits) >= 13:
            digits = _luhn_fix(digits)
        if kind == "PHONE" and len(digits) >= 10:
            offset = len(digits) - 10
            digits[offset] = self._rng.randrange(2, 10)
            digits[offset + 3] = self._rng.randrange(2, 10)
        if kind == "SSN" and len(digits) == 9:
            digits[0] = self._rng.randrange(1, 9)
        if kind == "ZIP" and digits:
            digits[0] = self._rng.randrange(1, 10)
        for i, d in zip(digit_at, digits, strict=True):
            chars[i] = str(d)
        result = "".join(chars)
        return result if result != shape else self._reshape(kind, shape)

    def _pour(self, core: str, shape: str) -> str:
        """Lay the surrogate's characters into this occurrence's shape (its own separators)."""
        source = iter(c for c in core if c.isalnum())
        out = []
        for char in shape:
            out.append(next(source, char) if char.isalnum() else char)
        return "".join(out)

    def _numbered(self, occurrence: Occurrence) -> str:
        canonical = re.sub(r"[^0-9a-z]", "", occurrence.normalised.lower())
        key = (occurrence.kind, canonical)
        if key not in self._values:
            self._values[key] = self._reshape(occurrence.kind, occurrence.normalised)
        value = self._pour(self._values[key], occurrence.normalised)
        return say_digits(value) if occurrence.spoken else value

    # ---- dates ---------------------------------------------------------------------------------------
    def _date(self, occurrence: Occurrence) -> str:
        text = occurrence.normalised
        canonical = re.sub(r"(\d)(?:st|nd|rd|th)", r"\1", text.lower())
        key = ("DATE", re.sub(r"[^0-9a-z]", "", canonical))
        if key not in self._values:
            self._values[key] = (
                f"{self._rng.randrange(1, 13)}/{self._rng.randrange(1, 29)}/{self._rng.randrange(-6, 7)}"
            )
        month, day, shift = (int(x) for x in self._values[key].split("/"))
        month_match = _MONTH_RE.search(text)
        if month_match is None:
            return self._numeric_date(text, month, day, shift, occurrence.spoken)
        word = _MONTHS[month - 1]
        if len(month_match.group(0).rstrip(".")) <= 4 and month_match.group(0).lower() not in (
            "may",
            "june",
            "july",
        ):
            word = word[:3] + ("." if month_match.group(0).endswith(".") else "")
        year_match = re.search(r"\b(\d{4})\b", text)
        year = int(year_match.group(1)) + shift if year_match else None
        day_match = re.search(
            r"\b(\d{1,2})(st|nd|rd|th)?\b(?!\d)",
            text.replace(year_match.group(1), "") if year_match else text,
        )
        if occurrence.spoken:
            spoken_day = say_ordinal(day) if day_match else ""
            if text.lstrip().lower().startswith(("the", "1", "2", "3", "4", "5", "6", "7", "8", "9")):
                said = f"the {spoken_day} of {word}"
            else:
                said = f"{word} {spoken_day}".strip()
            return said + (f", {say_year(year)}" if year else "")
        out = text[: month_match.start()] + word + text[month_match.end() :]
        if year_match:
            out = re.sub(rf"\b{year_match.group(1)}\b", str(year), out)
        if day_match:
            suffix = day_match.group(2)
            new_day = str(day) + (_ordinal_suffix(day) if suffix else "")
            out = re.sub(r"\b\d{1,2}(?:st|nd|rd|th)?\b(?!\d)", new_day, out, count=1)
        return out

    def _numeric_date(self, text: str, month: int, day: int, shift: int, spoken: bool) -> str:
        parts = re.split(r"([/.-])", text)
        numbers = parts[0::2]
        if len(numbers) != 3:
            return self._reshape("DATE", text)
        if len(numbers[0]) == 4:  # ISO
            values = [str(int(numbers[0]) + shift), f"{month:02d}", f"{day:02d}"]
        else:
            year = numbers[2]
            new_year = str(int(year) + shift).zfill(len(year))[-len(year) :]
            first, second = (day, month) if int(numbers[0]) > 12 else (month, day)
            values = [str(first).zfill(len(numbers[0])), str(second).zfill(len(numbers[1])), new_year]
        parts[0::2] = values
        value = "".join(parts)
        return say_digits(value) if spoken else value

    # ---- the rest ---------------------------------------------------------------------------------------
    def _remembered(self, occurrence: Occurrence, make: Callable[[], str]) -> str:
        key = (occurrence.kind, re.sub(r"[^0-9a-z]", "", occurrence.normalised.lower()))
        if key not in self._values:
            self._values[key] = make()
        return self._values[key]

    def surrogate(self, occurrence: Occurrence) -> str:
        kind = occurrence.kind
        if kind == "NAME":
            return self.name(occurrence)
        if kind in ("DATE", "DOB"):
            return self._date(occurrence)
        if kind in _NUMBER_KINDS:
            return self._numbered(occurrence)
        if kind == "AGE":
            age = int(self._remembered(occurrence, lambda: str(self._rng.randrange(90, 105))))
            return say_number(age) if occurrence.spoken else str(age)
        if kind == "EMAIL":
            value = self._remembered(
                occurrence,
                lambda: f"{self._fake.user_name()}@{self._fake.free_email_domain()}",
            )
            return _say_address(value) if occurrence.spoken else value
        if kind == "URL":
            value = self._remembered(
                occurrence, lambda: self._fake.domain_name() + "/" + self._fake.uri_page()
            )
            if occurrence.normalised.lower().startswith(("http", "www")):
                value = ("https://" if occurrence.normalised.lower().startswith("http") else "www.") + value
            return _say_address(value) if occurrence.spoken else value
        if kind == "IP":
            value = self._remembered(occurrence, self._fake.ipv4_public)
            return say_digits(value) if occurrence.spoken else value
        if kind == "CITY":
            return self._remembered(occurrence, self._fake.city)
        if kind == "ADDRESS":
            if not _STREET_START.match(occurrence.normalised):
                return self._numbered(Occurrence("ID", occurrence.original, occurrence.original, False))
            value = self._remembered(
                occurrence, lambda: f"{self._fake.building_number()} {self._fake.street_name()}"
            )
            if occurrence.spoken:
                number, _, street = value.partition(" ")
                return f"{say_digits(number)} {street}"
            return value
        return mask_for(kind)


def _ordinal_suffix(day: int) -> str:
    if 10 < day % 100 < 14:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _say_address(value: str) -> str:
    return value.replace(".", " dot ").replace("@", " at ").replace("/", " slash ")
