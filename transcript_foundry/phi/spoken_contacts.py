"""E-mail and web addresses as callers say them: "jane dot doe at gmail dot com", "www dot x dot org slash y".

``spoken_contact_rewrites(text)`` rewrites each into its written form (jane.doe@gmail.com) for detection.
"""

from __future__ import annotations

import re

from transcript_foundry.phi.normalised_text import NormalisedText, Rewrite
from transcript_foundry.phi.spoken_numbers import spoken_number_rewrites

_TLD = r"(?:com|net|org|edu|gov|io|us|co|info|biz|me|health|mail)"
_PART = r"[A-Za-z0-9]+"
_JOIN = r"\s+(?:dot|underscore|dash|hyphen|period)\s+"
# A number said after the name part belongs to it: "tom underscore riley eighty at hotmail dot com".
_NUMBER_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|\d+)"
_EMAIL = re.compile(
    rf"(?<![\w.@])(?P<local>{_PART}(?:{_JOIN}{_PART})*(?:\s+{_NUMBER_WORD}\b)*)\s+at\s+(?P<domain>{_PART}(?:\s+dot\s+{_PART})*\s+dot\s+{_TLD})\b",
    re.IGNORECASE,
)
_URL = re.compile(
    rf"(?<![\w.@])(?:(?:https?\s+colon\s+slash\s+slash\s+)?www\s+dot\s+)?{_PART}(?:\s+dot\s+{_PART})*\s+dot\s+{_TLD}"
    rf"(?:\s+(?:forward\s+)?slash\s+{_PART})*\b",
    re.IGNORECASE,
)
_EMAIL_CUE = re.compile(r"\b(?:e-?mail|address|reach me|write to|send it to|username)\b", re.IGNORECASE)
_WORDS = {"dot": ".", "period": ".", "underscore": "_", "dash": "-", "hyphen": "-", "at": "@", "slash": "/"}
_NOT_LOCAL = frozenset(
    {"me", "us", "him", "her", "them", "you", "it", "this", "that", "is", "email", "address"}
)


def _written(spoken: str) -> str:
    spoken = NormalisedText(spoken, spoken_number_rewrites(spoken)).text  # "riley eighty" → "riley 80"
    spoken = re.sub(r"(?i)https?\s+colon\s+slash\s+slash\s+", "https://", spoken)
    spoken = re.sub(r"(?i)\bforward\s+slash\b", "slash", spoken)
    words = spoken.split()
    return "".join(_WORDS.get(w.lower(), w.lower()) for w in words)


def spoken_contact_rewrites(text: str) -> list[Rewrite]:
    rewrites: list[Rewrite] = []
    for m in _EMAIL.finditer(text):
        local = m.group("local")
        words = local.split()
        # One plain word before "at", no digit and no e-mail cue before it: "upload the receipts at
        # tidewell dot org" is a web address, not an e-mail.
        plain = len(words) == 1 and not any(c.isdigit() for c in local)
        if plain and (words[0].lower() in _NOT_LOCAL or not _EMAIL_CUE.search(text[: m.start()][-60:])):
            continue
        rewrites.append(Rewrite(m.start(), m.end(), _written(m.group(0))))
    for m in _URL.finditer(text):
        if any(m.start() < r.end and r.start < m.end() for r in rewrites):
            continue
        rewrites.append(Rewrite(m.start(), m.end(), _written(m.group(0))))
    return rewrites
