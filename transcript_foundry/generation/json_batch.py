"""Strategy for capable chat models: several whole conversations per call, as schema-constrained JSON.

The request lists one plan per conversation (company, agent, caller, reason, mood, number of turns, the
beat outline); the response must match a JSON schema. Each conversation in the answer is validated on its
own: a malformed one fails only its own slot, and a slot missing from the answer is a recorded failure.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transcript_foundry.contract.transcript import Transcript, Turn
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.call_stats import CallStats
from transcript_foundry.generation.conversation_plan import ConversationPlan
from transcript_foundry.generation.outcome import GenerationCost, SlotOutcome, written_transcript
from transcript_foundry.generation.plan_facts import stated
from transcript_foundry.generation.turn_by_turn import derived_seed
from transcript_foundry.llm.backend import LLMBackend, SamplingParams

TOKENS_PER_TURN = 80  # budget for one turn's JSON (text up to MAX_TURN_CHARS + keys)
MAX_TURN_CHARS = 240
# Conversations per call by the JobSpec's complexity (simple: 20-40 exchanges, complex: 80-150): the most
# of the range that fits the node's token budget (context window, free VRAM), never fewer than fit.
BATCH_RANGE_BY_COMPLEXITY = {"simple": (15, 30), "complex": (5, 10)}
MAX_BATCH_CANDIDATES = max(high for _, high in BATCH_RANGE_BY_COMPLEXITY.values())

SYSTEM_PROMPT = (
    "You write realistic synthetic transcripts of customer-service phone calls for training contact-center "
    "AI. Spoken, natural English; the agent is professional and empathetic; the caller's mood shows in "
    "their words; invented but plausible details (names, amounts, dates, ID numbers); every call opens "
    "with the agent's greeting and ends with goodbyes. Answer only with JSON matching the schema."
)


class _JsonTurn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    speaker: str
    text: str = Field(min_length=1)


class _JsonConversation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    slot: int
    turns: list[_JsonTurn] = Field(min_length=2)


def batch_schema(n: int, min_turns: int, max_turns: int) -> dict[str, Any]:
    turn = {
        "type": "object",
        "properties": {
            "speaker": {"type": "string", "enum": ["AGENT", "CUSTOMER"]},
            "text": {"type": "string"},
        },
        "required": ["speaker", "text"],
        "additionalProperties": False,
    }
    conversation = {
        "type": "object",
        "properties": {
            "slot": {"type": "integer"},
            "turns": {"type": "array", "items": turn, "minItems": min_turns, "maxItems": max_turns},
        },
        "required": ["slot", "turns"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "conversations": {"type": "array", "items": conversation, "minItems": n, "maxItems": n}
        },
        "required": ["conversations"],
        "additionalProperties": False,
    }


def batch_size(plans: list[ConversationPlan], token_budget: int, prompt_tokens: int) -> int:
    """Conversations per call: up to the top of the complexity's range, bounded by what fits in the node's
    token budget (its context window, or less where free VRAM is the tighter bound)."""
    longest = max(len(p.turns) for p in plans)
    wanted = min(BATCH_RANGE_BY_COMPLEXITY[p.complexity][1] for p in plans)
    fits = (token_budget - prompt_tokens) // max(1, longest * TOKENS_PER_TURN + 16)
    return max(1, min(wanted, fits, len(plans)))


def _describe(number: int, plan: ConversationPlan) -> str:
    outline = "; ".join(
        f"{t.speaker.lower()} {t.beat}"
        + (f" ({stated(t.says)})" if t.says else "")
        + (f" ({t.guidance})" if t.guidance else "")
        + (f' (keep as: "{t.keep_text}")' if t.keep_text else "")
        for t in plan.turns
    )
    feedback = f" A reviewer rejected the previous draft: {plan.feedback}" if plan.feedback else ""
    return (
        f"Conversation slot {number}: company {plan.company}; agent {plan.agent_name}; caller: "
        f"{plan.customer_name + ', ' if plan.customer_name else ''}{plan.persona}; "
        f"reason: {plan.scenario_title}; caller mood: {plan.emotional_tone}; exactly {len(plan.turns)} turns, "
        f"alternating, AGENT first. Outline: {outline}.{feedback}"
    )


def build_messages(pack: DomainPack, plans: list[ConversationPlan]) -> list[dict[str, str]]:
    example = pack.exemplars[0]
    example_json = json.dumps(
        {
            "conversations": [
                {"slot": 0, "turns": [{"speaker": t.speaker, "text": t.text} for t in example.turns]}
            ]
        }
    )
    user = (
        f"Domain: {pack.description}.\nStyle example (slot 0, do not copy it):\n{example_json}\n\n"
        f"Write these {len(plans)} conversations:\n"
        + "\n".join(_describe(i + 1, p) for i, p in enumerate(plans))
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _to_transcript(
    conv: _JsonConversation,
    plan: ConversationPlan,
    backend: LLMBackend,
    attempt: int,
    round_: int,
    share: tuple[int, float],
) -> Transcript:
    turns = []
    for i, t in enumerate(conv.turns):
        speaker = t.speaker.strip().upper()
        if speaker not in ("AGENT", "CUSTOMER"):
            raise ValueError(f"turn {i + 1}: speaker {t.speaker!r} is not AGENT or CUSTOMER")
        beat = plan.turns[i] if i < len(plan.turns) else None
        turns.append(
            Turn(
                speaker=speaker,  # type: ignore[arg-type]
                text=t.text,
                beat=beat.beat if beat and beat.speaker == speaker else None,
                act=beat.act if beat and beat.speaker == speaker else None,
            )
        )
    tokens, seconds = share
    return written_transcript(
        plan,
        turns,
        backend.info,
        "json_batch",
        GenerationCost(output_tokens=tokens, llm_calls=1, seconds=seconds),
        text_tokens=tokens,
        attempt=attempt,
        round_=round_,
    )


def write_batch(
    backend: LLMBackend,
    pack: DomainPack,
    plans: list[ConversationPlan],
    *,
    attempt: int,
    round_: int,
    stats: CallStats,
    temperature: float = 0.9,
) -> list[SlotOutcome]:
    """One chat call for ``plans``; returns one outcome per plan (transcript or failure reason)."""
    messages = build_messages(pack, plans)
    low = min(len(p.turns) for p in plans)
    high = max(len(p.turns) for p in plans)
    max_tokens = sum(len(p.turns) for p in plans) * TOKENS_PER_TURN + 64 * len(plans)
    completion = backend.chat_json(
        messages,
        batch_schema(len(plans), low, high),
        SamplingParams(
            max_tokens=max_tokens,
            temperature=temperature,
            repeat_penalty=1.0,
            seed=derived_seed(plans[0].seed, attempt, round_, len(plans)),
        ),
    )
    stats.record(completion)
    outcomes = {p.slot_id: SlotOutcome(slot_id=p.slot_id) for p in plans}
    try:
        data = json.loads(completion.text)
        items = data.get("conversations") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ValueError("no 'conversations' list")
    except (ValueError, KeyError, TypeError) as exc:
        why = "output cut off at the token limit" if completion.finish_reason == "length" else str(exc)
        for outcome in outcomes.values():
            outcome.failures.append(f"unparseable JSON batch from {backend.info.node_id}: {why}")
        return list(outcomes.values())
    share = (completion.completion_tokens // len(plans), completion.seconds / len(plans))
    for n, item in enumerate(items):
        try:
            conv = _JsonConversation.model_validate(item)
        except ValidationError as exc:
            reason = f"conversation {n + 1} of the batch is malformed: {exc.errors()[0]['msg']}"
            if 0 <= n < len(plans) and not outcomes[plans[n].slot_id].ok:
                outcomes[plans[n].slot_id].failures.append(reason)
            continue
        index = conv.slot - 1 if 1 <= conv.slot <= len(plans) else n
        if 0 <= index < len(plans) and outcomes[plans[index].slot_id].ok and index != n:
            index = n  # the slot number is taken twice: fall back to the position in the answer
        if not 0 <= index < len(plans) or outcomes[plans[index].slot_id].ok:
            continue
        plan = plans[index]
        try:
            outcomes[plan.slot_id].transcript = _to_transcript(conv, plan, backend, attempt, round_, share)
        except (ValueError, ValidationError) as exc:
            outcomes[plan.slot_id].failures.append(f"invalid conversation: {exc}")
    for outcome in outcomes.values():
        if not outcome.ok and not outcome.failures:
            outcome.failures.append(f"missing from the JSON batch returned by {backend.info.node_id}")
    return list(outcomes.values())
