"""Degraded copies of good transcripts: what the discriminator must rank below the original.

Four kinds, each the failure a generator really produces: ``looped`` (a stretch of the call said twice),
``truncated`` (the call stops early, mid-sentence), ``tone_flipped`` (the words do not carry the mood the
request asked for) and ``off_domain`` (a call from another business, delivered as this domain). Used by
the judge's few-shot calibration and by the discriminator's tests and measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from transcript_foundry.contract.transcript import GenerationInfo, Transcript, Turn
from transcript_foundry.domains.domain_pack import DomainPack, Exemplar
from transcript_foundry.text.tone_lexicon import NEGATIVE_TONES

DEGRADATIONS: tuple[str, ...] = ("looped", "truncated", "tone_flipped", "off_domain")


@dataclass(frozen=True)
class Scored:
    """A transcript with the pack it is judged against (an off-domain copy is judged as the other domain)."""

    transcript: Transcript
    pack: DomainPack


def exemplar_transcript(pack: DomainPack, index: int) -> Transcript:
    """A domain pack's hand-written exemplar as a transcript of that domain."""
    ex: Exemplar = pack.exemplars[index]
    return Transcript(
        id=f"{pack.name}-exemplar-{index}",
        request_id="exemplars",
        domain=pack.name,
        scenario=ex.scenario,
        emotional_tone=ex.tone,
        complexity=None,
        turns=[Turn(speaker=t.speaker, text=t.text, beat=t.beat) for t in ex.turns],
        generation=GenerationInfo(node_id="hand-written", model="none", strategy="turn_by_turn"),
    )


def looped(t: Transcript) -> Transcript:
    """Turns 2-5 said a second time right after themselves (speakers still alternate)."""
    block = [turn.model_copy() for turn in t.turns[1:5]]
    return t.model_copy(update={"turns": [*t.turns[:5], *block, *t.turns[5:]]})


def truncated(t: Transcript) -> Transcript:
    """The first 60 % of the turns; the last one cut off halfway through, without its ending."""
    keep = max(3, math.ceil(len(t.turns) * 0.6))
    turns = [turn.model_copy() for turn in t.turns[:keep]]
    cut = turns[-1].text.split()
    turns[-1] = turns[-1].model_copy(update={"text": " ".join(cut[: max(2, len(cut) // 2)]).rstrip(".,!?")})
    return t.model_copy(update={"turns": turns})


def flipped_tone(tone: str | None) -> str:
    return "satisfied" if tone in NEGATIVE_TONES else "angry"


def tone_flipped(t: Transcript) -> Transcript:
    """The same words, delivered for the opposite caller mood."""
    return t.model_copy(update={"emotional_tone": flipped_tone(t.emotional_tone)})


def off_domain(t: Transcript, other: DomainPack) -> Scored:
    """The same call, delivered as a call of another domain pack (its first scenario)."""
    moved = t.model_copy(update={"domain": other.name, "scenario": other.scenarios[0].id})
    return Scored(moved, other)


def degrade(kind: str, t: Transcript, pack: DomainPack, packs: dict[str, DomainPack]) -> Scored:
    if kind == "looped":
        return Scored(looped(t), pack)
    if kind == "truncated":
        return Scored(truncated(t), pack)
    if kind == "tone_flipped":
        return Scored(tone_flipped(t), pack)
    if kind == "off_domain":
        other = next(p for name, p in sorted(packs.items()) if name != pack.name)
        return off_domain(t, other)
    raise ValueError(f"unknown degradation {kind!r}; use one of {', '.join(DEGRADATIONS)}")
