"""What became of one conversation slot's generation: a transcript, or the reason it failed."""

from __future__ import annotations

from dataclasses import dataclass, field

from transcript_assets.transcript import Transcript


class GenerationFailed(Exception):
    """One attempt at a conversation produced nothing usable; the message is the recorded reason."""


@dataclass
class SlotOutcome:
    slot_id: str
    transcript: Transcript | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.transcript is not None

    @property
    def attempts(self) -> int:
        return len(self.failures) + (1 if self.transcript else 0)

    @property
    def reason(self) -> str:
        return self.failures[-1] if self.failures else ""
