"""Generating the transcripts of a list of conversation plans across the pool's nodes, concurrently.

Each node has a prompt style: ``completion`` (base models: one conversation, turn by turn along its beat
plan, pinned to that node for its whole length) or ``chat_json`` (chat models: several conversations per
call as constrained JSON, as many as the node's context window and free VRAM allow). The pool's
dispatcher (transcript_foundry/pool/dispatch.py) runs these units on every node with room, retries a failed call on
another node first and bounds every slot to ``max_attempts`` attempts. Every slot comes back with exactly
one outcome, a transcript or its failure reasons, and is passed to ``on_outcome`` once, when final.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.call_stats import CallStats
from transcript_foundry.generation.conversation_plan import ConversationPlan
from transcript_foundry.generation.few_shot_prompt import select_exemplars, shared_prefix
from transcript_foundry.generation.json_batch import (
    MAX_BATCH_CANDIDATES,
    batch_size,
    build_messages,
    write_batch,
)
from transcript_foundry.generation.outcome import (
    GenerationCost,
    GenerationFailed,
    InterruptedAttempt,
    SlotOutcome,
)
from transcript_foundry.generation.resumed_attempt import resume_after_fault, resume_plan
from transcript_foundry.generation.turn_by_turn import TurnByTurnSettings, write_conversation
from transcript_foundry.llm.backend import LLMBackend, LLMCallError
from transcript_foundry.pool.dispatch import ItemResult, WorkItem
from transcript_foundry.pool.fleet import NodeFleet
from transcript_foundry.pool.node_runtime import NodeRuntime
from transcript_foundry.pool.performance_window import PerformanceSample


@dataclass(frozen=True)
class GeneratorSettings:
    max_attempts: int | None = None  # None: the retry.max_attempts setting, read at each outcome
    exemplars: int = 2
    turn_by_turn: TurnByTurnSettings = field(default_factory=TurnByTurnSettings)


class TranscriptGenerator:
    def __init__(
        self,
        pool: NodeFleet,
        pack: DomainPack,
        *,
        settings: GeneratorSettings | None = None,
        stats: CallStats | None = None,
        on_outcome: Callable[[SlotOutcome], None] | None = None,
        on_sample: Callable[[PerformanceSample], None] | None = None,
    ):
        self.pool = pool
        self.pack = pack
        self.settings = settings or GeneratorSettings()
        self.stats = stats or CallStats()
        self._on_outcome = on_outcome
        self._on_sample = on_sample

    def generate(
        self, plans: list[ConversationPlan], *, exemplar_seed: int, round_: int = 0
    ) -> list[SlotOutcome]:
        """One outcome per plan, in order; each outcome is also passed to ``on_outcome`` once, when final."""
        if not plans:
            return []
        tone = plans[0].emotional_tone if len({p.emotional_tone for p in plans}) == 1 else None
        exemplars = select_exemplars(self.pack, tone, self.settings.exemplars, random.Random(exemplar_seed))
        work = _GenerationWork(self, shared_prefix(self.pack, exemplars), len(exemplars), round_)
        items = [WorkItem(key=p.slot_id, payload=p) for p in plans]
        for item in items:
            work.outcomes[item.key] = SlotOutcome(slot_id=item.key)
        dispatcher = self.pool.dispatcher(max_attempts=self.settings.max_attempts, on_sample=self._on_sample)
        dispatcher.run_sync(work, items)
        return [work.outcomes[p.slot_id] for p in plans]

    def emit(self, outcome: SlotOutcome) -> None:
        if self._on_outcome is not None:
            self._on_outcome(outcome)


class _GenerationWork:
    """The dispatcher's work source: conversation plans, shaped into units by each node's prompt style."""

    def __init__(self, generator: TranscriptGenerator, prefix: str, n_exemplars: int, round_: int):
        self.generator = generator
        self.prefix = prefix
        self.n_exemplars = n_exemplars
        self.round_ = round_
        self.outcomes: dict[str, SlotOutcome] = {}
        self.spent: dict[str, GenerationCost] = {}  # slot -> what its failed attempts cost

    def take(self, node: NodeRuntime, ready: list[WorkItem]) -> list[WorkItem]:
        if node.spec.resolved_prompt_style == "completion":
            return ready[:1]
        plans: list[ConversationPlan] = [i.payload for i in ready[:MAX_BATCH_CANDIDATES]]
        backend = self.generator.pool.backend(node.node_id)
        prompt_tokens = backend.count_tokens(str(build_messages(self.generator.pack, plans[:1])))
        return ready[: batch_size(plans, node.token_budget(), prompt_tokens)]

    def run(self, backend: LLMBackend, node: NodeRuntime, items: list[WorkItem]) -> list[ItemResult]:
        stats = self.generator.stats
        try:
            if node.spec.resolved_prompt_style == "completion":
                return [self._conversation(backend, items[0])]
            return self._batch(backend, items)
        except LLMCallError:
            stats.record_error()
            raise

    def _conversation(self, backend: LLMBackend, item: WorkItem) -> ItemResult:
        spent = self.spent.setdefault(item.key, GenerationCost())
        interrupted = InterruptedAttempt()
        try:
            transcript = write_conversation(
                backend,
                self.prefix,
                self.n_exemplars + 1,
                item.payload,
                attempt=item.attempts,
                round_=self.round_,
                stats=self.generator.stats,
                settings=self.generator.settings.turn_by_turn,
                interrupted=interrupted,
            )
        except LLMCallError:  # a transport fault: the retry (on any node) keeps every turn written so far
            spent.add(interrupted.cost)
            item.payload = resume_after_fault(item.payload, interrupted.written)
            raise
        except GenerationFailed as exc:
            spent.add(exc.cost)
            item.payload = resume_plan(item.payload, exc.written)  # the next attempt writes on from there
            return ItemResult(failure=str(exc))
        return ItemResult(value=spent.charged_to(transcript))

    def _batch(self, backend: LLMBackend, items: list[WorkItem]) -> list[ItemResult]:
        plans = [i.payload for i in items]
        results = write_batch(
            backend,
            self.generator.pack,
            plans,
            attempt=max(i.attempts for i in items),
            round_=self.round_,
            stats=self.generator.stats,
        )
        by_slot = {r.slot_id: r for r in results}
        out: list[ItemResult] = []
        for item in items:
            result = by_slot[item.key]
            if result.transcript is not None:
                out.append(ItemResult(value=result.transcript))
            else:
                out.append(ItemResult(failure="; ".join(result.failures) or "no transcript in the batch"))
        return out

    def on_success(self, item: WorkItem, node_id: str, value: Any) -> None:
        outcome = self.outcomes[item.key]
        outcome.transcript = value
        self.generator.emit(outcome)

    def on_failure(self, item: WorkItem, node_id: str, reason: str, final: bool) -> None:
        outcome = self.outcomes[item.key]
        outcome.failures.append(f"attempt {item.attempts} on {node_id}: {reason}")
        if final:
            self.generator.emit(outcome)
