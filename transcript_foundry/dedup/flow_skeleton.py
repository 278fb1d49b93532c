"""The flow of a call: its speaker / dialogue-act skeleton, and how far two skeletons are apart."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any


def skeleton(turns: Iterable[Mapping[str, Any]]) -> str:
    """``A:greet C:state_problem A:verify_identity ...``: one token per turn (``-`` where no act is given)."""
    return " ".join(f"{str(t['speaker'])[:1]}:{t.get('act') or '-'}" for t in turns)


def skeleton_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def within_edits(one: str, other: str, limit: int) -> bool:
    """True when the skeletons are at most ``limit`` token insertions, deletions or substitutions apart."""
    a, b = one.split(), other.split()
    if abs(len(a) - len(b)) > limit:
        return False
    if a == b:
        return True
    previous = list(range(len(b) + 1))
    for i, token in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, theirs in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (token != theirs))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit
