"""The JobSpec: what one generation request asks for, validated at the edge."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Tone = Literal[
    "neutral", "calm", "satisfied", "frustrated", "angry", "confused", "anxious", "impatient", "sad"
]
Complexity = Literal["simple", "complex"]

TONES: tuple[str, ...] = Tone.__args__  # type: ignore[attr-defined]
COMPLEXITIES: tuple[str, ...] = Complexity.__args__  # type: ignore[attr-defined]

# Export formats a request may ask for. Each one is produced by an export asset ("custom" = custom_json).
KNOWN_FORMATS: tuple[str, ...] = ("custom_json", "contact_lens", "ccai", "rasa")
FORMAT_ALIASES = {
    "custom": "custom_json",
    "lex": "contact_lens",
    "dialogflow": "ccai",
    "dialogflow_es": "ccai",
}

# Turns per conversation (one turn = one speaker's utterance) by complexity.
DEFAULT_QUALITY_THRESHOLD = 0.85
DEFAULT_EXCHANGES: dict[str | None, tuple[int, int]] = {
    "simple": (6, 10),
    None: (8, 14),
    "complex": (16, 28),
}

MAX_COUNT = 1_000_000
_ENGLISH_TAG = re.compile(r"^en(?:[-_]([A-Za-z]{2}))?$", re.IGNORECASE)


class JobSpec(BaseModel):
    """A validated generation request. Field names are part of the public contract."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=MAX_COUNT, description="Accepted transcripts wanted.")
    domain: str = Field(min_length=1, description="Domain pack name (healthcare, retail, telecom or custom).")
    emotional_tone: Tone | None = Field(default=None, description="The caller's tone; null mixes tones.")
    complexity: Complexity | None = Field(default=None, description="simple, complex or null (mixed).")
    caller_type: str | None = Field(default=None, description="A caller persona type from the domain pack.")
    scenarios: list[str] = Field(default_factory=list, description="Scenario ids; empty means all.")
    exchanges: tuple[int, int] | None = Field(
        default=None, description="[min, max] turns per conversation; default by complexity."
    )
    formats: list[str] = Field(default_factory=lambda: ["custom_json"])
    language: str = Field(default="en", description="BCP-47 language tag of the transcripts.")
    quality_threshold: float = Field(default=DEFAULT_QUALITY_THRESHOLD, ge=0.0, le=1.0)
    seed: int | None = Field(default=None, description="Sampling seed; null derives one from the request id.")

    @field_validator("domain", mode="before")
    @classmethod
    def _lower_domain(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if not value:
                raise ValueError("domain is blank: name a domain pack, e.g. healthcare")
        return value

    @field_validator("quality_threshold", mode="before")
    @classmethod
    def _no_bool_threshold(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("quality_threshold must be a number between 0 and 1, e.g. 0.85, not true/false")
        return value

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        cleaned = [FORMAT_ALIASES.get(v.strip().lower(), v.strip().lower()) for v in value]
        unknown = [v for v in cleaned if v not in KNOWN_FORMATS]
        if unknown:
            raise ValueError(
                f"unknown export format(s) {unknown}; available formats: {', '.join(KNOWN_FORMATS)}"
            )
        if not cleaned:
            raise ValueError(f"formats must name at least one of: {', '.join(KNOWN_FORMATS)}")
        return list(dict.fromkeys(cleaned))

    @field_validator("language")
    @classmethod
    def _english_only(cls, value: str) -> str:
        match = _ENGLISH_TAG.match(value.strip())
        if not match:
            raise ValueError(
                f"language {value!r} is not supported yet: the domain packs and quality checks are English "
                "(use 'en' or a regional tag such as 'en-US')"
            )
        region = match.group(1)
        return f"en-{region.upper()}" if region else "en"

    @model_validator(mode="after")
    def _default_exchanges(self) -> JobSpec:
        if self.exchanges is None:
            self.exchanges = DEFAULT_EXCHANGES[self.complexity]
        low, high = self.exchanges
        if low < 2:
            raise ValueError("exchanges: the minimum must be at least 2 turns (one agent, one customer)")
        if high < low:
            raise ValueError(f"exchanges: [min, max] must have min <= max, got [{low}, {high}]")
        if high > 400:
            raise ValueError(f"exchanges: at most 400 turns per conversation, got {high}")
        return self

    @property
    def turn_bounds(self) -> tuple[int, int]:
        assert self.exchanges is not None
        return self.exchanges

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def fingerprint(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]
