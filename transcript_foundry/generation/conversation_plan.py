"""Conversation plans: everything decided about a call before a model writes a word of it.

A plan fixes the scenario, tone, persona, company, agent and the beat plan (one beat per turn, speakers
alternating, AGENT first) for one conversation slot. Plans are a pure function of the JobSpec, the domain
pack, the request seed and the slot index, so a resumed request re-plans exactly the same slots.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.contract.transcript import GenerationInfo, Transcript, Turn
from transcript_foundry.domains.domain_pack import Beat, DomainPack
from transcript_foundry.generation.plan_facts import facts_for_beat, plan_facts

# The tone mix used when a request does not name one.
MIXED_TONES: tuple[tuple[str, float], ...] = (
    ("neutral", 0.22),
    ("calm", 0.14),
    ("satisfied", 0.08),
    ("frustrated", 0.16),
    ("angry", 0.08),
    ("confused", 0.12),
    ("anxious", 0.1),
    ("impatient", 0.06),
    ("sad", 0.04),
)
# Customer turns that carry the caller's tone in their beat label.
TONED_ACTS = frozenset({"state_problem", "express_emotion", "reject_solution", "ask_followup", "escalate"})
# Caller turns that give the plan's facts when their beat names them, and agent turns that ask for them.
FACT_ACTS = frozenset({"provide_info", "confirm", "answer_followup"})
ASKING_ACTS = frozenset({"verify_identity", "request_info"})


class PlannedTurn(BaseModel):
    model_config = ConfigDict(frozen=True)

    speaker: Literal["AGENT", "CUSTOMER"]
    beat: str
    act: str
    guidance: str | None = None  # the quality loop's note for a turn to rewrite (added to its beat label)
    keep_text: str | None = None  # the quality loop keeps this turn as written (not generated again)
    says: dict[str, str] = {}  # the plan's facts this turn gives (shown in its label, not in the transcript)


class ConversationPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    slot_id: str
    request_id: str
    index: int
    domain: str
    scenario: str
    scenario_title: str
    emotional_tone: str
    complexity: Literal["simple", "complex"]
    caller_type: str
    persona: str
    company: str
    agent_name: str
    turns: list[PlannedTurn]
    customer_name: str | None = None
    facts: dict[str, str] = {}  # fixed before writing: the caller's identifiers (plan_facts.py)
    seed: int
    feedback: str | None = None  # the quality loop's critique of the previous draft (chat prompts)


def slot_id_for(request_id: str, index: int) -> str:
    return f"{request_id}-{index:06d}"


def _merge_same_speaker(beats: list[Beat]) -> list[PlannedTurn]:
    turns: list[PlannedTurn] = []
    for b in beats:
        if turns and turns[-1].speaker == b.speaker:
            prev = turns[-1]
            turns[-1] = PlannedTurn(speaker=prev.speaker, beat=f"{prev.beat}, then {b.beat}", act=prev.act)
        else:
            turns.append(PlannedTurn(speaker=b.speaker, beat=b.beat, act=b.act))
    return turns


def _fit_length(
    turns: list[PlannedTurn], fillers: list[Beat], target: int, high: int, rng: random.Random
) -> list[PlannedTurn]:
    agent_fill = [b for b in fillers if b.speaker == "AGENT"]
    customer_fill = [b for b in fillers if b.speaker == "CUSTOMER"]
    # Lengthen: a customer follow-up and the agent's answer, inserted after an agent turn before the closing.
    while len(turns) < target and len(turns) + 2 <= high:
        # After the problem statement and verification (index >= 3), before the closing pair.
        # Never between a question and its answer: after an agent turn that asks for information.
        spots = [
            i
            for i in range(3, len(turns) - 1)
            if turns[i - 1].speaker == "AGENT" and turns[i - 1].act not in ASKING_ACTS
        ]
        spots = spots or [
            i
            for i in range(1, len(turns))
            if turns[i - 1].speaker == "AGENT" and turns[i - 1].act not in ASKING_ACTS
        ]
        if not spots:
            break
        at = rng.choice(spots)
        c, a = rng.choice(customer_fill), rng.choice(agent_fill)
        turns[at:at] = [
            PlannedTurn(speaker="CUSTOMER", beat=c.beat, act=c.act),
            PlannedTurn(speaker="AGENT", beat=a.beat, act=a.act),
        ]
    # Shorten: drop customer/agent pairs from the middle, keeping the greeting and the closing.
    while len(turns) > high and len(turns) > 4:
        middle = [i for i in range(1, len(turns) - 3) if turns[i].speaker == "CUSTOMER"]
        middle = [i for i in middle if i >= 3] or middle  # keep the problem statement where possible
        if not middle:
            break
        at = rng.choice(middle)
        del turns[at : at + 2]
    return turns


def _with_facts(turns: list[PlannedTurn], facts: dict[str, str]) -> list[PlannedTurn]:
    """Caller turns that give information say the plan's values: those their beat names, else (a beat
    such as "gives their details") those the agent's last request named."""
    out: list[PlannedTurn] = []
    asked: dict[str, str] = {}
    for turn in turns:
        if turn.speaker == "AGENT":
            if turn.act in ASKING_ACTS:
                asked = facts_for_beat(turn.beat, facts)
            out.append(turn)
            continue
        says = facts_for_beat(turn.beat, facts) if turn.act in FACT_ACTS else {}
        if not says and turn.act == "provide_info":
            says, asked = asked, {}
        out.append(turn.model_copy(update={"says": says}) if says else turn)
    return out


def _choose_tone(spec: JobSpec, rng: random.Random) -> str:
    if spec.emotional_tone:
        return spec.emotional_tone
    names, weights = zip(*MIXED_TONES, strict=True)
    return rng.choices(names, weights=weights)[0]


def plan_conversation(
    spec: JobSpec, pack: DomainPack, request_id: str, request_seed: int, index: int
) -> ConversationPlan:
    rng = random.Random(f"{request_seed}:{index}")
    scenario_ids = spec.scenarios or [s.id for s in pack.scenarios]
    scenario = pack.scenario(
        scenario_ids[index % len(scenario_ids)] if spec.scenarios else rng.choice(scenario_ids)
    )
    complexity = spec.complexity or ("complex" if rng.random() < 0.25 else "simple")
    personas = [p for p in pack.personas if spec.caller_type in (None, p.caller_type)] or list(pack.personas)
    persona = rng.choice(personas)
    low, high = spec.turn_bounds
    target = rng.randint(low, high)

    beats: list[Beat] = []
    keep_block = True
    for i, b in enumerate(scenario.beats):
        if b.complex_only and complexity != "complex":
            continue
        if b.optional:
            # Consecutive optional beats (a question and its answer) are kept or dropped together.
            if i == 0 or not scenario.beats[i - 1].optional:
                keep_block = rng.random() < (0.3 if complexity == "simple" else 0.7)
            if not keep_block:
                continue
        beats.append(b)
    turns = _fit_length(_merge_same_speaker(beats), list(pack.filler_beats), target, high, rng)
    tone, company, agent_name = (
        _choose_tone(spec, rng),
        rng.choice(pack.companies),
        rng.choice(pack.agent_names),
    )
    avoid = frozenset(w.lower() for w in f"{agent_name} {company}".split())
    customer_name, facts = plan_facts(
        scenario.phi_slots, random.Random(f"{request_seed}:{index}:facts"), avoid
    )
    turns = _with_facts(turns, facts)
    return ConversationPlan(
        slot_id=slot_id_for(request_id, index),
        request_id=request_id,
        index=index,
        domain=pack.name,
        scenario=scenario.id,
        scenario_title=scenario.title,
        emotional_tone=tone,
        complexity=complexity,
        caller_type=persona.caller_type,
        persona=persona.description,
        company=company,
        agent_name=agent_name,
        turns=turns,
        seed=rng.randrange(2**31),
        customer_name=customer_name,
        facts=facts,
    )


def planned_transcript(plan: ConversationPlan, turns: list[Turn], generation: GenerationInfo) -> Transcript:
    """The transcript a generator wrote for ``plan``: the plan's identity and labels, the model's turns."""
    return Transcript(
        id=plan.slot_id,
        request_id=plan.request_id,
        domain=plan.domain,
        scenario=plan.scenario,
        emotional_tone=plan.emotional_tone,
        complexity=plan.complexity,
        caller_type=plan.caller_type,
        company=plan.company,
        agent_name=plan.agent_name,
        turns=turns,
        generation=generation,
    )
