"""Few-shot completion prompts for base models: beat-labelled exemplar calls, then the call to write.

Every line of a call is ``(<Speaker> <beat>) <Speaker>: <text>``. The model is asked for one turn at a
time: the prompt ends with the next beat label and the speaker's name, and generation stops at the
newline. The prefix (intro + exemplars) is identical for all calls of a shard, so llama.cpp keeps it in
its KV cache and only evaluates each call's own lines.
"""

from __future__ import annotations

import random
import re
import zlib

from transcript_foundry.contract.job_spec import TONES
from transcript_foundry.domains.domain_pack import DomainPack, Exemplar
from transcript_foundry.generation.conversation_plan import TONED_ACTS, ConversationPlan, PlannedTurn
from transcript_foundry.generation.plan_facts import stated

_TONE_PREFIX = re.compile(rf"^(?:{'|'.join(TONES)}|annoyed|upset|irritated|worried|relieved|polite)\b,", re.I)


def speaker_name(speaker: str) -> str:
    return "Agent" if speaker == "AGENT" else "Customer"


def beat_label(speaker: str, beat: str) -> str:
    name = speaker_name(speaker)
    sep = ", " if _TONE_PREFIX.match(beat) else " "
    return f"({name}{sep}{beat}) {name}:"


def planned_label(turn: PlannedTurn, tone: str) -> str:
    beat = f"{turn.beat}: {stated(turn.says)}" if turn.says else turn.beat
    if turn.speaker == "CUSTOMER" and turn.act in TONED_ACTS and tone not in ("neutral", "calm"):
        beat = f"{tone}, {beat}"
    if turn.guidance:
        beat = f"{beat}, {turn.guidance}"
    return beat_label(turn.speaker, beat)


def call_header(
    number: int, company: str, agent: str, reason: str, tone: str, caller: str | None = None
) -> str:
    who = f" Caller: {caller}." if caller else ""
    return (
        f"### Call {number}\nCompany: {company}. Agent: {agent}.{who} Reason for the call: {reason}. "
        f"Caller mood: {tone}.\n"
    )


def _named_in(text: str, names: list[str], fallback: str) -> str:
    return next((n for n in names if n in text), fallback)


def render_exemplar(number: int, exemplar: Exemplar, pack: DomainPack) -> str:
    opening = exemplar.turns[0].text
    company = _named_in(" ".join(t.text for t in exemplar.turns), pack.companies, pack.companies[0])
    agent = _named_in(opening, pack.agent_names, pack.agent_names[0])
    header = call_header(number, company, agent, pack.scenario(exemplar.scenario).title, exemplar.tone)
    lines = [f"{beat_label(t.speaker, t.beat)} {t.text}" for t in exemplar.turns]
    return header + "\n".join(lines) + "\n\n"


EXEMPLAR_ROTATION_SHARDS = 5  # shards that share one exemplar set (and so one cached few-shot prefix)


def exemplar_seed(request_seed: int, shard: int) -> int:
    """The seed that picks a shard's exemplars: the same for ``EXEMPLAR_ROTATION_SHARDS`` shards in a row.

    Every shard of a group (and every regeneration round in it) gets the same prefix, which llama.cpp then
    keeps in its KV cache instead of evaluating ~1,000 prompt tokens again; the next group rotates.
    """
    return zlib.crc32(f"{request_seed}:exemplars:{shard // EXEMPLAR_ROTATION_SHARDS}".encode()) & 0x7FFFFFFF


def select_exemplars(pack: DomainPack, tone: str | None, k: int, rng: random.Random) -> list[Exemplar]:
    """Up to ``k`` exemplars: those in the requested tone first, the rest in a seeded random order."""
    pool = list(pack.exemplars)
    rng.shuffle(pool)
    pool.sort(key=lambda e: 0 if tone and e.tone == tone else 1)
    return pool[:k]


def shared_prefix(pack: DomainPack, exemplars: list[Exemplar]) -> str:
    intro = (
        f"Transcripts of phone calls to the customer service line of {pack.description}. Each line starts "
        "with a note in parentheses that says what the turn does, then the speaker and what they say.\n\n"
    )
    return intro + "".join(render_exemplar(i + 1, ex, pack) for i, ex in enumerate(exemplars))


def conversation_header(plan: ConversationPlan, number: int) -> str:
    return call_header(
        number, plan.company, plan.agent_name, plan.scenario_title, plan.emotional_tone, plan.customer_name
    )
