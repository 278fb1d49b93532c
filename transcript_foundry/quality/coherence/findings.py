"""One rule violation at one turn: what the reasons of a coherence result are made of."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """``rule`` (a feature name of the discriminator), the 0-based ``turn``, its ``speaker`` and a message.

    ``hard``: a rule violation (fails the call whatever the score); soft findings come from the embedding
    signals and only explain a low score.
    """

    rule: str
    turn: int
    speaker: str
    message: str
    hard: bool = True

    @property
    def reason(self) -> str:
        return f"turn {self.turn} ({self.speaker}): {self.message}"
