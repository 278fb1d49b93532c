"""The normalised content hash behind exact dedup."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]")


def normalise(text: str) -> str:
    """NFKC, lower case, punctuation dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def content_hash(turns: Iterable[dict[str, str]]) -> str:
    """SHA-256 of the speaker-tagged, normalised turns: same words by the same speakers = same hash."""
    canonical = "\n".join(f"{t['speaker']}|{normalise(t['text'])}" for t in turns)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
