"""Strategy for small base models: one turn per completion along the plan's beats.

Asked for a whole call at once, a 270M base model drifts and loops. Asked for one line at a time, with a
beat label saying what the line must do, it stays on track. A degenerate line is re-sampled a few times
with another seed and a slightly higher temperature (to leave a repetition loop) before the attempt is
given up (a recorded failure, never filler text).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from transcript_foundry.contract.transcript import Transcript, Turn
from transcript_foundry.generation.call_stats import CallStats
from transcript_foundry.generation.conversation_plan import ConversationPlan
from transcript_foundry.generation.few_shot_prompt import conversation_header, planned_label
from transcript_foundry.generation.grounding import grounding_problem
from transcript_foundry.generation.outcome import (
    GenerationCost,
    GenerationFailed,
    InterruptedAttempt,
    written_transcript,
)
from transcript_foundry.generation.rolling_prompt import RollingPrompt
from transcript_foundry.generation.turn_text import DegenerateTurn, clean_turn
from transcript_foundry.llm.backend import LLMBackend, LLMCallError, SamplingParams


@dataclass(frozen=True)
class TurnByTurnSettings:
    max_turn_tokens: int = 64  # a longer turn is cut back to its last full sentence
    temperature: float = 0.8
    retry_temperature_step: float = 0.15  # each re-sample of a degenerate turn runs a little hotter
    top_p: float = 0.95
    repeat_penalty: float = 1.15
    turn_retries: int = 3
    # DRY over the whole prompt: the tokens that would continue a run already in the context (an echo of
    # an earlier turn, a copied exemplar line) are penalised (transcript_foundry/llm/dry_penalty.py).
    dry_multiplier: float = 0.8
    dry_base: float = 1.75
    dry_allowed_length: int = 2


PROMPT_MARGIN_TOKENS = 16


def derived_seed(*parts: object) -> int:
    return zlib.crc32(":".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


def write_conversation(
    backend: LLMBackend,
    prefix: str,
    call_number: int,
    plan: ConversationPlan,
    *,
    attempt: int,
    round_: int,
    stats: CallStats,
    settings: TurnByTurnSettings = TurnByTurnSettings(),
    interrupted: InterruptedAttempt | None = None,
) -> Transcript:
    """The transcript of ``plan``, one completion per turn. A degenerate turn that stays so raises
    GenerationFailed; a failed call raises its LLMCallError, after recording in ``interrupted`` (when
    given) the turns written and the cost so far, so that the retry writes on from there."""
    # The prompt stays inside the node's window however long the call (the oldest lines roll out).
    budget = backend.info.context_window - settings.max_turn_tokens - PROMPT_MARGIN_TOKENS
    rolling = RollingPrompt(backend, prefix + conversation_header(plan, call_number), budget)
    turns: list[Turn] = []
    output_tokens = 0
    text_tokens = 0
    calls = 0
    seconds = 0.0
    for i, planned in enumerate(plan.turns):
        label = planned_label(planned, plan.emotional_tone)
        prompt = rolling.prompt(label)
        if planned.keep_text is not None:  # kept from the previous draft by the quality loop
            turns.append(
                Turn(speaker=planned.speaker, text=planned.keep_text, beat=planned.beat, act=planned.act)
            )
            # The kept turn is model output the transcript delivers, written by an earlier round or attempt
            # whose cost is charged to the slot already (by the quality loop, or by the generator when an
            # attempt resumes): it counts in text_tokens, not again in output_tokens.
            text_tokens += backend.count_tokens(f" {planned.keep_text}")
            rolling.add(label, planned.keep_text, planned.says)
            continue
        problem: DegenerateTurn | None = None
        fallback: tuple[str, int] | None = (
            None  # a usable turn that strays from the plan, if none keeps to it
        )
        for retry in range(settings.turn_retries):
            try:
                completion = backend.complete(
                    prompt,
                    SamplingParams(
                        max_tokens=settings.max_turn_tokens,
                        temperature=settings.temperature + retry * settings.retry_temperature_step,
                        top_p=settings.top_p,
                        repeat_penalty=settings.repeat_penalty,
                        stop=("\n",),
                        seed=derived_seed(plan.seed, attempt, round_, i, retry),
                        dry_multiplier=settings.dry_multiplier,
                        dry_base=settings.dry_base,
                        dry_allowed_length=settings.dry_allowed_length,
                    ),
                )
            except LLMCallError:
                if interrupted is not None:
                    interrupted.written = list(turns)
                    interrupted.cost = GenerationCost(
                        output_tokens=output_tokens, llm_calls=calls, seconds=seconds
                    )
                raise
            stats.record(completion)
            calls += 1
            output_tokens += completion.completion_tokens
            seconds += completion.seconds
            try:
                cleaned = clean_turn(
                    completion.text,
                    truncated=completion.finish_reason == "length",
                    previous=[t.text for t in turns],
                    act=planned.act,
                )
            except DegenerateTurn as exc:
                stats.degenerate += 1
                problem = exc
                continue
            if grounding_problem(plan, turns, planned, cleaned) is not None:
                stats.ungrounded += 1
                fallback = fallback or (cleaned, completion.completion_tokens)
                continue
            text_tokens += completion.completion_tokens
            break
        else:
            if fallback is None:
                raise GenerationFailed(
                    f"turn {i + 1} ({planned.speaker}) degenerate after {settings.turn_retries} tries: {problem}",
                    written=turns,
                    cost=GenerationCost(output_tokens=output_tokens, llm_calls=calls, seconds=seconds),
                )
            cleaned, tokens = fallback  # the gate judges the whole call; its loop can rewrite this turn
            text_tokens += tokens
        turns.append(Turn(speaker=planned.speaker, text=cleaned, beat=planned.beat, act=planned.act))
        rolling.add(label, cleaned, planned.says)
    return written_transcript(
        plan,
        turns,
        backend.info,
        "turn_by_turn",
        GenerationCost(output_tokens=output_tokens, llm_calls=calls, seconds=seconds),
        text_tokens=text_tokens,
        attempt=attempt,
        round_=round_,
    )
