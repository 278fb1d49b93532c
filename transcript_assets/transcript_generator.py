"""Generating the transcripts of a list of conversation plans on the pool's nodes, with bounded retries.

Each node has a prompt style: ``completion`` (base models: turn by turn along the beat plan) or
``chat_json`` (chat models: several conversations per call as constrained JSON). A slot gets up to
``max_attempts`` attempts; a failed call moves its node to the back of the pool so the next attempt runs
elsewhere. Every slot comes back with exactly one outcome: a transcript or its failure reasons.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from resources.llm_backend import LLMBackend, LLMCallError
from resources.llm_pool import LLMPool
from transcript_assets.call_stats import CallStats
from transcript_assets.conversation_plan import ConversationPlan
from transcript_assets.domain_pack import DomainPack
from transcript_assets.few_shot_prompt import select_exemplars, shared_prefix
from transcript_assets.generation_outcome import GenerationFailed, SlotOutcome
from transcript_assets.json_batch_generator import batch_size, build_messages, write_batch
from transcript_assets.turn_by_turn_generator import TurnByTurnSettings, write_conversation


@dataclass(frozen=True)
class GeneratorSettings:
    max_attempts: int = 3
    exemplars: int = 2
    turn_by_turn: TurnByTurnSettings = field(default_factory=TurnByTurnSettings)


class TranscriptGenerator:
    def __init__(
        self,
        pool: LLMPool,
        pack: DomainPack,
        *,
        settings: GeneratorSettings | None = None,
        stats: CallStats | None = None,
        on_outcome: Callable[[SlotOutcome], None] | None = None,
    ):
        self.pool = pool
        self.pack = pack
        self.settings = settings or GeneratorSettings()
        self.stats = stats or CallStats()
        self._on_outcome = on_outcome

    def _emit(self, outcome: SlotOutcome) -> None:
        if self._on_outcome is not None:
            self._on_outcome(outcome)

    def generate(
        self, plans: list[ConversationPlan], *, exemplar_seed: int, round_: int = 0
    ) -> list[SlotOutcome]:
        """One outcome per plan, in order; each outcome is also passed to ``on_outcome`` once, when final."""
        outcomes = {p.slot_id: SlotOutcome(slot_id=p.slot_id) for p in plans}
        tone = plans[0].emotional_tone if plans and len({p.emotional_tone for p in plans}) == 1 else None
        exemplars = select_exemplars(self.pack, tone, self.settings.exemplars, random.Random(exemplar_seed))
        prefix = shared_prefix(self.pack, exemplars)
        pending = list(plans)
        for attempt in range(1, self.settings.max_attempts + 1):
            last_attempt = attempt == self.settings.max_attempts
            queue = list(pending)
            while queue:
                # The node at the front of the pool now: a failed call has moved its node to the back.
                backend = self.pool.candidates()[0]
                if backend.info.prompt_style == "completion":
                    batch = [queue.pop(0)]
                    self._turn_by_turn(
                        backend, batch[0], outcomes[batch[0].slot_id], prefix, len(exemplars), attempt, round_
                    )
                else:
                    prompt_tokens = backend.count_tokens(str(build_messages(self.pack, queue[:1])))
                    size = batch_size(queue[:40], backend.info.context_window, prompt_tokens)
                    batch, queue = queue[:size], queue[size:]
                    self._json_batch(backend, batch, outcomes, attempt, round_)
                for plan in batch:
                    if outcomes[plan.slot_id].ok or last_attempt:
                        self._emit(outcomes[plan.slot_id])
            pending = [p for p in pending if not outcomes[p.slot_id].ok]
            if not pending:
                break
        return [outcomes[p.slot_id] for p in plans]

    def _call_failed(self, backend: LLMBackend) -> None:
        self.stats.record_error()
        self.pool.report_failure(backend.info.node_id)

    def _turn_by_turn(
        self,
        backend: LLMBackend,
        plan: ConversationPlan,
        outcome: SlotOutcome,
        prefix: str,
        n_exemplars: int,
        attempt: int,
        round_: int,
    ) -> None:
        where = f"attempt {attempt} on {backend.info.node_id}"
        try:
            outcome.transcript = write_conversation(
                backend,
                prefix,
                n_exemplars + 1,
                plan,
                attempt=attempt,
                round_=round_,
                stats=self.stats,
                settings=self.settings.turn_by_turn,
            )
        except GenerationFailed as exc:
            outcome.failures.append(f"{where}: {exc}")
        except LLMCallError as exc:
            outcome.failures.append(f"{where}: LLM call failed: {exc}")
            self._call_failed(backend)

    def _json_batch(
        self,
        backend: LLMBackend,
        batch: list[ConversationPlan],
        outcomes: dict[str, SlotOutcome],
        attempt: int,
        round_: int,
    ) -> None:
        where = f"attempt {attempt} on {backend.info.node_id}"
        try:
            results = write_batch(backend, self.pack, batch, attempt=attempt, round_=round_, stats=self.stats)
        except LLMCallError as exc:
            for plan in batch:
                outcomes[plan.slot_id].failures.append(f"{where}: LLM call failed: {exc}")
            self._call_failed(backend)
            return
        for result in results:
            outcome = outcomes[result.slot_id]
            if result.transcript is not None:
                outcome.transcript = result.transcript
            outcome.failures.extend(f"{where}: {f}" for f in result.failures)
