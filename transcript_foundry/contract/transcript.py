"""Typed transcripts: what every generator must produce and every export reads (the output contract)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Speaker = Literal["AGENT", "CUSTOMER"]


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Speaker
    text: str = Field(min_length=1)
    beat: str | None = Field(default=None, description="The plan step this turn was generated for.")
    act: str | None = Field(default=None, description="Dialogue-act label from the domain pack.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("turn text is empty")
        return value


class GenerationInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    node_id: str
    model: str
    strategy: Literal["turn_by_turn", "json_batch"]
    output_tokens: int = 0  # every token generated for this transcript, re-sampled turns included (cost)
    text_tokens: int = 0  # the tokens of the turns kept (what the transcript holds)
    llm_calls: int = 0
    seconds: float = 0.0
    attempt: int = 1
    round: int = 0
    seed: int | None = None


class PhiSpan(BaseModel):
    """Where a scrubbed identifier's replacement sits in the scrubbed turn text (see transcript_assets/phi)."""

    model_config = ConfigDict(extra="forbid")

    turn: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    kind: str


class Transcript(BaseModel):
    """One generated call. ``quality`` is filled by the quality gate, ``phi`` by the PHI scrubber."""

    model_config = ConfigDict(extra="forbid")

    id: str
    request_id: str
    domain: str
    scenario: str
    emotional_tone: str | None
    complexity: str | None
    caller_type: str | None = None
    company: str | None = None
    agent_name: str | None = None
    turns: list[Turn] = Field(min_length=2)
    quality: dict[str, Any] | None = None
    generation: GenerationInfo
    phi: list[PhiSpan] | None = None

    def to_record(self) -> dict[str, Any]:
        """The JSON record written to transcripts.jsonl."""
        return self.model_dump(mode="json")

    @property
    def text(self) -> str:
        return "\n".join(f"{t.speaker}: {t.text}" for t in self.turns)

    def preview_markdown(self, max_turns: int = 14) -> str:
        head = (
            f"**{self.id}** · {self.domain} / {self.scenario} · tone: {self.emotional_tone or 'mixed'} · "
            f"{len(self.turns)} turns\n\n"
        )
        body = "\n".join(f"- **{t.speaker.title()}:** {t.text}" for t in self.turns[:max_turns])
        more = f"\n- … {len(self.turns) - max_turns} more turns" if len(self.turns) > max_turns else ""
        return head + body + more
