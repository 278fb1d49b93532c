"""What the parser understood and why: one reading per field, and the candidates a refusal offers.

    count 3000 from '3 thousand'
    domain telecom from 'ISP outage' ≈ scenario service_outage ('outage'), 0.71
    emotional_tone frustrated from 'fed up'

``transcripts plan`` prints these lines under the JobSpec.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from transcript_foundry.contract.job_spec import JobSpec

if TYPE_CHECKING:
    from transcript_foundry.request.semantic_match import Match


@dataclass(frozen=True)
class Reading:
    """``field`` is ``value`` because of ``phrase``: read by a rule (``how``), or by meaning (``match``)."""

    field: str
    value: str
    phrase: str
    how: str = "rule"  # rule, keyword, scenario word, meaning
    match: Match | None = None

    def describe(self) -> str:
        head = f"{self.field} {self.value} from {self.phrase!r}"
        if self.match is not None:
            anchor = self.match.anchor
            what = f"{anchor.field.replace('_', ' ')} {anchor.value}"
            if anchor.field == "domain" and anchor.value == self.value:
                what = "domain"
            said = f" ({anchor.text!r})" if anchor.text.lower() != anchor.value.replace("_", " ") else ""
            return f"{head} ≈ {what}{said}, {self.match.score:.2f}"
        if self.how != "rule":
            return f"{head} ({self.how})"
        return head


@dataclass(frozen=True)
class Understanding:
    """The JobSpec, the readings behind it, and whether the embedding model was needed."""

    spec: JobSpec
    readings: tuple[Reading, ...] = ()
    semantic: bool = False

    def explain(self) -> list[str]:
        return [r.describe() for r in self.readings]


def candidate(match: Match) -> str:
    """'telecom (service_outage, 0.41)': a domain with the scenario that brought it closest."""
    anchor = match.anchor
    detail = [anchor.value] if anchor.field == "scenario" else []
    score = match.score if match.support is None else match.support
    return f"{anchor.domain or anchor.value} ({', '.join([*detail, f'{score:.2f}'])})"


def closest_candidates(ranked: Sequence[Match], limit: int = 3) -> str:
    """'Did you mean telecom (service_outage, 0.41) or retail (order_status, 0.38)?'"""
    names = [candidate(m) for m in ranked[:limit]]
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"Did you mean {listed}?"
