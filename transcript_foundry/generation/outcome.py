"""What became of one conversation slot's generation: a transcript, or the reason it failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from transcript_foundry.contract.transcript import GenerationInfo, Transcript, Turn
from transcript_foundry.generation.conversation_plan import ConversationPlan, planned_transcript
from transcript_foundry.llm.backend import BackendInfo


class GenerationFailed(Exception):
    """One attempt at a conversation produced nothing usable; the message is the recorded reason.

    ``written``: the turns the attempt wrote before it gave up (a retry can resume from them); ``cost``:
    what the attempt spent (output_tokens, llm_calls, seconds), so that the slot's totals stay honest.
    """

    def __init__(self, reason: str, written: list[Turn] | None = None, cost: GenerationCost | None = None):
        super().__init__(reason)
        self.written = list(written or [])
        self.cost = cost or GenerationCost()


@dataclass
class InterruptedAttempt:
    """What an attempt had written and spent when a transport fault (an ``LLMCallError``) cut it off: the
    retry keeps these turns and writes on from the next one."""

    written: list[Turn] = field(default_factory=list)
    cost: GenerationCost = field(default_factory=lambda: GenerationCost())


@dataclass
class GenerationCost:
    """Tokens, calls and seconds spent on a slot by attempts whose output was not delivered."""

    output_tokens: int = 0
    llm_calls: int = 0
    seconds: float = 0.0

    def add(self, other: GenerationCost) -> None:
        self.output_tokens += other.output_tokens
        self.llm_calls += other.llm_calls
        self.seconds += other.seconds

    def charged_to(self, transcript: Transcript) -> Transcript:
        """``transcript`` with this cost added to its generation totals (a copy; nothing when zero)."""
        if not (self.output_tokens or self.llm_calls):
            return transcript
        g = transcript.generation
        update = {
            "output_tokens": g.output_tokens + self.output_tokens,
            "llm_calls": g.llm_calls + self.llm_calls,
            "seconds": round(g.seconds + self.seconds, 3),
        }
        return transcript.model_copy(update={"generation": g.model_copy(update=update)})


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


def written_transcript(
    plan: ConversationPlan,
    turns: list[Turn],
    node: BackendInfo,
    strategy: Literal["turn_by_turn", "json_batch"],
    spent: GenerationCost,
    *,
    text_tokens: int,
    attempt: int,
    round_: int,
) -> Transcript:
    """The transcript a generator wrote for ``plan`` on ``node``, with what writing it cost."""
    generation = GenerationInfo(
        node_id=node.node_id,
        model=node.model,
        strategy=strategy,
        output_tokens=spent.output_tokens,
        text_tokens=text_tokens,
        llm_calls=spent.llm_calls,
        seconds=round(spent.seconds, 3),
        attempt=attempt,
        round=round_,
        seed=plan.seed,
    )
    return planned_transcript(plan, turns, generation)
