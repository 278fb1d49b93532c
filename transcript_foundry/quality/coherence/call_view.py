"""The discriminator's input: one call as speaker-labelled turns, plus what the plan fixed about it.

``CallView.from_record`` reads any transcript record through the lenient reader
(``transcript_foundry.contract.lenient_transcripts``): only ``id`` and ``turns`` (each with ``speaker`` and
``text``) are required; ``company``, ``agent_name``, ``customer_name``, ``domain`` and
``facts`` are used when present; every other field is ignored. A malformed record raises
``CallRecordError`` naming the field, e.g. ``turns[3].speaker: 'BOT' is not a speaker; write AGENT or CUSTOMER``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from transcript_foundry.contract.lenient_transcripts import TranscriptRecordError, read_transcript_record

SPEAKERS: tuple[str, ...] = ("AGENT", "CUSTOMER")
_OPTIONAL_TEXT_FIELDS: tuple[str, ...] = ("company", "agent_name", "customer_name", "domain")


class CallRecordError(ValueError):
    """A record is not a readable call; the message starts with the offending field."""


@dataclass(frozen=True)
class CallView:
    """``turns``: ``(speaker, text)`` pairs in call order, speaker ``AGENT`` or ``CUSTOMER``."""

    turns: tuple[tuple[str, str], ...]
    id: str | None = None
    company: str | None = None
    agent_name: str | None = None
    customer_name: str | None = None
    domain: str | None = None
    facts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not self.turns:
            raise CallRecordError("turns: a call needs at least one turn")
        for i, turn in enumerate(self.turns):
            if len(turn) != 2:
                raise CallRecordError(f"turns[{i}]: expected a (speaker, text) pair")
            speaker, text = turn
            if speaker not in SPEAKERS:
                raise CallRecordError(f"turns[{i}].speaker: {speaker!r} is not AGENT or CUSTOMER")
            if not isinstance(text, str) or not text.strip():
                raise CallRecordError(f"turns[{i}].text: empty")
        object.__setattr__(self, "facts", MappingProxyType(dict(self.facts)))

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.turns)

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.turns)

    def __len__(self) -> int:
        return len(self.turns)

    def with_turns(self, turns: tuple[tuple[str, str], ...]) -> CallView:
        """The same call's metadata over other turns (used by the corruptions)."""
        return CallView(
            turns=turns,
            id=self.id,
            company=self.company,
            agent_name=self.agent_name,
            customer_name=self.customer_name,
            domain=self.domain,
            facts=self.facts,
        )

    @classmethod
    def from_record(cls, record: Any) -> CallView:
        """A view of an output-contract record (a transcript from this pipeline or from any other tool)."""
        try:
            read = read_transcript_record(record)
        except TranscriptRecordError as exc:
            raise CallRecordError(str(exc)) from None
        turns = [(t["speaker"], t["text"].strip()) for t in read["turns"]]
        optional: dict[str, str | None] = {}
        for key in _OPTIONAL_TEXT_FIELDS:
            value = record.get(key)
            if value is not None and not isinstance(value, str):
                raise CallRecordError(f"{key}: expected a string or null, got {type(value).__name__}")
            optional[key] = (value.strip() or None) if isinstance(value, str) else None
        facts = record.get("facts") or {}
        if not isinstance(facts, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str | int | float) for k, v in facts.items()
        ):
            raise CallRecordError("facts: expected an object of name -> text values")
        return cls(
            turns=tuple(turns),
            id=read["id"],
            facts={k: str(v) for k, v in facts.items()},
            **optional,
        )
