"""Whole-word phrase matching shared by the turn checks and the quality gate."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def has_phrase(text: str, phrase: str, *, inflected: bool = False) -> bool:
    """Whole-word match in lower-case ``text``; a trailing ``*`` matches any word ending; a phrase ending
    in punctuation matches anywhere. ``inflected`` also accepts plural and verb endings (router → routers,
    reboot → rebooting)."""
    if not phrase[-1].isalnum() and phrase[-1] != "*":
        return phrase in text
    stem = phrase.endswith("*")
    core = re.escape(phrase.rstrip("*"))
    ending = "" if stem else ("(?:s|es|d|ed|ing)?(?![a-z0-9])" if inflected else "(?![a-z0-9])")
    return re.search(rf"(?<![a-z0-9]){core}{ending}", text) is not None


def has_any(text: str, phrases: Iterable[str]) -> bool:
    lowered = text.lower()
    return any(has_phrase(lowered, p) for p in phrases)


def near_repeat(bag: set[str], earlier: Iterable[set[str]], threshold: float = 0.8) -> bool:
    """Whether a turn's word set overlaps an earlier turn's by more than ``threshold`` (Jaccard)."""
    return len(bag) >= 5 and any(len(bag & s) / len(bag | s) > threshold for s in earlier)


def shared_run(tokens: list[str], earlier: Iterable[list[str]], n: int = 8) -> bool:
    """Whether ``tokens`` repeats a run of ``n`` consecutive words from an earlier turn (an echo loop)."""
    grams = {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}
    if not grams:
        return False
    return any(tuple(e[i : i + n]) in grams for e in earlier for i in range(len(e) - n + 1))
