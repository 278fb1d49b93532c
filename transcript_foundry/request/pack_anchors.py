"""The texts a request's words are compared with by meaning: each pack's own words, and the tones.

An anchor is one short text that stands for one value of one field: the telecom pack's description
stands for ``domain=telecom``, the title "Reporting an internet, TV or mobile outage" for
``scenario=service_outage`` (and so for its domain too), a persona's description for its ``caller_type``.
A custom pack brings its own anchors, so it is understood from its own text, not from a word list in code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.request.word_tables import OTHER_INDUSTRIES, TONE_DESCRIPTIONS, TONE_WORDS


@dataclass(frozen=True)
class Anchor:
    """``text`` stands for ``field=value``; scenario and caller anchors also carry their pack's ``domain``."""

    field: str  # domain, scenario, emotional_tone, caller_type, other_industry
    value: str
    text: str
    source: str  # where the text comes from: keyword, description, title, term, persona, synonym, example
    domain: str | None = None


def _spaced(identifier: str) -> str:
    return identifier.replace("_", " ")


def _anchors(field: str, value: str, domain: str | None, source: str, texts: Iterable[str]) -> list[Anchor]:
    return [Anchor(field, value, t.strip(), source, domain) for t in texts if t.strip()]


def pack_anchors(pack: DomainPack) -> list[Anchor]:
    """Everything in ``pack`` that says what its calls are about, and who makes them."""
    name = pack.name
    found = _anchors("domain", name, name, "name", [_spaced(name)])
    found += _anchors("domain", name, name, "description", [pack.description])
    found += _anchors("domain", name, name, "keyword", pack.keywords)
    found += _anchors("domain", name, name, "synonym", pack.synonyms)
    found += _anchors("domain", name, name, "example", pack.example_requests)
    for scenario in pack.scenarios:
        sid = scenario.id
        found += _anchors("scenario", sid, name, "title", [scenario.title, _spaced(sid)])
        found += _anchors("scenario", sid, name, "keyword", scenario.keywords)
        found += _anchors("scenario", sid, name, "synonym", scenario.synonyms)
        found += _anchors("scenario", sid, name, "term", scenario.terms)
    for persona in pack.personas:
        kind = persona.caller_type
        found += _anchors(
            "caller_type", kind, name, "persona", [persona.description, f"{_spaced(kind)} callers"]
        )
        found += _anchors("caller_type", kind, name, "synonym", persona.synonyms)
    # Last: a scenario anchor with the same text wins the tie, and says more.
    found += _anchors("domain", name, name, "term", pack.terms)
    return found


def tone_anchors() -> list[Anchor]:
    found: list[Anchor] = []
    for tone, words in TONE_WORDS.items():
        if tone:
            found += _anchors("emotional_tone", tone, None, "word", words)
            found += _anchors("emotional_tone", tone, None, "description", TONE_DESCRIPTIONS.get(tone, ()))
    return found


def other_industry_anchors(packs: Mapping[str, DomainPack]) -> list[Anchor]:
    """Industries without a pack, less those a pack names (its name, keywords or synonyms)."""
    named = {
        p.replace("_", " ").lower()
        for pack in packs.values()
        for p in (pack.name, *pack.keywords, *pack.synonyms)
    }
    found: list[Anchor] = []
    for industry, texts in OTHER_INDUSTRIES.items():
        if industry in named or any(t in named for t in texts):
            continue
        found += _anchors("other_industry", industry, None, "other industry", texts)
    return found


def all_anchors(packs: Mapping[str, DomainPack]) -> list[Anchor]:
    """Tone anchors, industries without a pack, then each pack's in name order (a stable order, so the
    embedding cache is reused)."""
    found = tone_anchors() + other_industry_anchors(packs)
    for name in sorted(packs):
        found += pack_anchors(packs[name])
    return list(dict.fromkeys(found))
