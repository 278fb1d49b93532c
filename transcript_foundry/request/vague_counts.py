"""Counts people give loosely: "a few hundred", "a couple of thousand", "several dozen", "a handful of".

Each is read as one number ("a few" = 3, "a couple" = 2, "several" = 5, "a handful" = 5) and written into
the request as digits before the count is looked for, so that every other count rule applies unchanged; the
reading says which phrase became which number, and ``transcripts plan`` shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VAGUE: dict[str, int] = {
    "a few": 3,
    "a couple": 2,
    "a couple of": 2,
    "couple": 2,
    "couple of": 2,
    "several": 5,
    "a handful of": 5,
}
SCALES: dict[str, int] = {"dozen": 12, "hundred": 100, "thousand": 1_000}

_PATTERN = re.compile(
    r"\b(?P<vague>a\s+few|(?:a\s+)?couple(?:\s+of)?|several|a\s+handful\s+of)\s+"
    r"(?P<scale>dozen|hundred|thousand)\b(?:\s+of\b)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class VagueCount:
    phrase: str
    value: int


def rewrite_vague_counts(text: str) -> tuple[str, list[VagueCount]]:
    """``text`` with each loose count replaced by its digits, and what was replaced."""
    found: list[VagueCount] = []

    def digits(m: re.Match[str]) -> str:
        vague = " ".join(m.group("vague").lower().split())
        value = VAGUE[vague] * SCALES[m.group("scale").lower()]
        found.append(VagueCount(" ".join(m.group().split()), value))
        return str(value)

    return _PATTERN.sub(digits, text), found
