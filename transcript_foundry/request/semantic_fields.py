"""Scenario, tone and caller type read by meaning from the phrases the rules left, once the domain is known.

Each leftover phrase goes to at most one field: the one whose best match clears its threshold by the
most. A phrase that is closest to the domain itself ("ISP" in a telecom request) names the domain and is
not read again. Several phrases may each name a scenario; tone and caller type take the best phrase.
"""

from __future__ import annotations

from collections.abc import Sequence

from transcript_foundry.request.explanation import Reading
from transcript_foundry.request.semantic_match import Match, SemanticMatcher


def _best(matcher: SemanticMatcher, phrase: str, field: str, domain: str) -> Match | None:
    if field == "domain":
        ranked = [m for m in matcher.rank_domains([phrase], [domain]) if m.anchor.field != "other_industry"]
        return ranked[0] if ranked and ranked[0].anchor.field == "domain" else None
    ranked = matcher.rank_field([phrase], field, None if field == "emotional_tone" else domain)
    return ranked[0] if ranked else None


def read_by_meaning(
    matcher: SemanticMatcher, phrases: Sequence[str], domain: str, fields: Sequence[str]
) -> list[Reading]:
    """Readings for ``fields`` (scenario, emotional_tone, caller_type) of ``domain`` from ``phrases``."""
    chosen: list[Match] = []
    for phrase in phrases:
        options = [m for f in (*fields, "domain") if (m := _best(matcher, phrase, f, domain))]
        lead = [(m.score - matcher.thresholds.of(m.anchor.field), m) for m in options]
        lead = [(margin, m) for margin, m in lead if margin >= 0]
        if lead:
            winner = max(lead, key=lambda pair: pair[0])[1]
            if winner.anchor.field != "domain":
                chosen.append(winner)
    readings: list[Reading] = []
    for field in fields:
        matches = sorted((m for m in chosen if m.anchor.field == field), key=lambda m: -m.score)
        if field != "scenario":
            matches = matches[:1]
        else:
            matches = sorted(matches, key=lambda m: phrases.index(m.phrase))
        seen: set[str] = set()
        for m in matches:
            if m.value not in seen:
                seen.add(m.value)
                readings.append(Reading(field, m.value, m.phrase, "meaning", m))
    return readings
