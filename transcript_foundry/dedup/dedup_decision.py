"""What dedup decided for one transcript: kept, or dropped by a rule as a duplicate of a kept one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DedupDecision:
    id: str
    rule: str | None = None
    """The rule that fired (exact, minhash, flow, semantic); None when the transcript is kept."""
    similarity: float | None = None
    """The rule's similarity to the kept transcript (1.0 for exact)."""
    duplicate_of: str | None = None
    """The id of the kept transcript this one duplicates."""
    content_hash: str = ""
    """The transcript's normalised content hash (what the ledger stores for exact lookups)."""

    @property
    def kept(self) -> bool:
        return self.rule is None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dropped_by_rule(decisions: Iterable[DedupDecision], rules: Iterable[str]) -> dict[str, int]:
    """Dropped transcripts per rule (every rule named, zero included)."""
    counts = Counter(d.rule for d in decisions if d.rule is not None)
    return {rule: counts.get(rule, 0) for rule in rules}
