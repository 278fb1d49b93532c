"""Coverage: what was delivered against what was asked for, per dimension (scenario, emotional tone, caller
type, complexity) and in turn counts, with every gap named.

A dimension the request fixed ("frustrated callers") expects that one value; one it left open expects an
even mix of the domain pack's values. A value asked for and never delivered is a gap; one delivered at
under half its target share is under-represented; one delivered and not asked for is off-spec.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from transcript_foundry.contract.job_spec import COMPLEXITIES, TONES, JobSpec
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.report.call_text import turns_of

DIMENSIONS = ("scenario", "emotional_tone", "caller_type", "complexity")
UNDER_SHARE = 0.5  # delivered share under this fraction of the target share: under-represented


@dataclass(frozen=True)
class Requested:
    """Per dimension the values asked for (one when fixed, all when open) and the turn-count bounds."""

    values: dict[str, list[str]] = field(default_factory=dict)
    turn_bounds: tuple[int, int] | None = None
    fixed: frozenset[str] = frozenset()


def requested_from_spec(spec: JobSpec, pack: DomainPack | None) -> Requested:
    open_values = {
        "scenario": [s.id for s in pack.scenarios] if pack else [],
        "emotional_tone": list(TONES),
        "caller_type": list(pack.caller_types) if pack else [],
        "complexity": list(COMPLEXITIES),
    }
    asked = {
        "scenario": list(spec.scenarios),
        "emotional_tone": [spec.emotional_tone] if spec.emotional_tone else [],
        "caller_type": [spec.caller_type] if spec.caller_type else [],
        "complexity": [spec.complexity] if spec.complexity else [],
    }
    values = {d: asked[d] or open_values[d] for d in DIMENSIONS if asked[d] or open_values[d]}
    return Requested(values, spec.turn_bounds, frozenset(d for d in DIMENSIONS if asked[d]))


def _dimension(name: str, delivered: Counter[str], expected: list[str], fixed: bool) -> dict[str, Any]:
    total = sum(delivered.values())
    target = 1 / len(expected) if expected else 0.0
    gaps = [v for v in expected if delivered.get(v, 0) == 0]
    under = [v for v in expected if 0 < delivered.get(v, 0) < UNDER_SHARE * target * total]
    off_spec = sorted(v for v in delivered if expected and v not in expected)
    named = [f"{name}: no '{v}' call delivered" for v in gaps]
    named += [f"{name}: '{v}' under-represented ({delivered[v]}/{total}, target {target:.0%})" for v in under]
    named += [f"{name}: '{v}' delivered but not asked for ({delivered[v]})" for v in off_spec]
    return {
        "asked": "fixed" if fixed else ("even mix" if expected else "not known"),
        "expected": expected,
        "delivered": dict(delivered.most_common()),
        "covered": round(1 - len(gaps) / len(expected), 4) if expected else None,
        "gaps": named,
    }


def coverage(records: Sequence[Mapping[str, Any]], requested: Requested | None) -> dict[str, Any]:
    requested = requested or Requested()
    dims = {}
    for name in DIMENSIONS:
        delivered = Counter(str(r[name]) for r in records if r.get(name) is not None)
        expected = requested.values.get(name, [])
        if delivered or expected:
            dims[name] = _dimension(name, delivered, expected, name in requested.fixed)
    turn_counts = [len(turns_of(r)) for r in records]
    turns: dict[str, Any] = {"histogram": dict(sorted(Counter(turn_counts).items()))}
    gaps = [g for d in dims.values() for g in d["gaps"]]
    if requested.turn_bounds is not None and turn_counts:
        low, high = requested.turn_bounds
        outside = [n for n in turn_counts if not low <= n <= high]
        turns.update({"asked": [low, high], "within": round(1 - len(outside) / len(turn_counts), 4)})
        if outside:
            gaps.append(f"turns: {len(outside)} call(s) outside the asked {low}-{high} turns")
    return {"dimensions": dims, "turns": turns, "gaps": gaps}
