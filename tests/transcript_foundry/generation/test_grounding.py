"""Facts fixed before writing, and the per-turn check that keeps a turn to them (plan_facts, grounding)."""

from __future__ import annotations

import itertools

import pytest

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.contract.transcript import Turn
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.conversation_plan import ASKING_ACTS, plan_conversation
from transcript_foundry.generation.few_shot_prompt import conversation_header, planned_label
from transcript_foundry.generation.grounding import fact_said, grounding_problem
from transcript_foundry.generation.plan_facts import FACT_LABELS, facts_for_beat


def test_plans_fix_the_callers_name_and_the_scenarios_identifiers(packs: dict[str, DomainPack]) -> None:
    for domain, index in itertools.product(("healthcare", "retail", "telecom"), range(12)):
        pack = packs[domain]
        plan = plan_conversation(JobSpec(count=1, domain=domain), pack, "rgrnd", 11, index)
        scenario = pack.scenario(plan.scenario)
        assert plan.customer_name and plan.facts["person_name"] == plan.customer_name
        assert set(plan.facts) == {"person_name", *(k for k in scenario.phi_slots if k in FACT_LABELS)}
        again = plan_conversation(JobSpec(count=1, domain=domain), pack, "rgrnd", 11, index)
        assert again.facts == plan.facts  # a pure function of the seed: a resumed request plans the same
        for before, after in itertools.pairwise(plan.turns):
            # a question for the caller's details is answered by the next turn, with the planned values
            asked = facts_for_beat(before.beat, plan.facts)
            if before.speaker == "AGENT" and before.act in ASKING_ACTS and asked:
                assert after.act == "provide_info" and after.says, (domain, index, before.beat, after.beat)
                assert all(plan.facts[k] == v for k, v in after.says.items())


def test_the_prompt_states_the_caller_and_the_values_a_turn_gives(packs: dict[str, DomainPack]) -> None:
    plan = plan_conversation(JobSpec(count=1, domain="healthcare"), packs["healthcare"], "rgrnd", 3, 3)
    assert f"Caller: {plan.customer_name}." in conversation_header(plan, 3)
    giving = next(t for t in plan.turns if t.says)
    label = planned_label(giving, plan.emotional_tone)
    assert all(value in label for value in giving.says.values())
    assert all(v not in giving.beat for v in giving.says.values())  # the transcript's beat keeps no values


@pytest.mark.parametrize(
    ("kind", "value", "said", "expected"),
    [
        ("member_id", "EVH-48213907", "Sure, it's E V H 4821 3907.", True),
        ("member_id", "EVH-48213907", "It's EVH 48213970.", False),
        ("date_of_birth", "March 4, 1961", "I was born on the fourth of March, 1961.", True),
        ("date_of_birth", "March 4, 1961", "My birthday is in March.", False),
        ("person_name", "Priya Patel", "This is Priya.", True),
        ("phone_number", "(415) 555-0142", "You can reach me at 415 555 0142.", True),
    ],
)
def test_a_fact_is_said_when_its_value_is(kind: str, value: str, said: str, expected: bool) -> None:
    assert fact_said(kind, value, said) is expected


def test_a_turn_that_breaks_a_role_rule_or_leaves_out_a_fact_is_caught(packs: dict[str, DomainPack]) -> None:
    plan = plan_conversation(JobSpec(count=1, domain="healthcare"), packs["healthcare"], "rgrnd", 3, 3)
    greeting = f"Thank you for calling {plan.company}, this is {plan.agent_name}. How can I help you?"
    assert grounding_problem(plan, [], plan.turns[0], greeting) is None
    own_name = f"Good afternoon, {plan.agent_name}. How can I help you today?"
    assert "own name" in (grounding_problem(plan, [], plan.turns[0], own_name) or "")
    written = [Turn(speaker="AGENT", text=greeting)]
    as_company = f"Hi, I'm from {plan.company} and I'm calling about my refill."
    assert grounding_problem(plan, written, plan.turns[1], as_company) is not None
    giving_at = next(i for i, t in enumerate(plan.turns) if t.says)
    giving = plan.turns[giving_at]
    silent = "Sure, one moment while I find it."
    problem = grounding_problem(plan, written, giving, silent) or ""
    assert problem.startswith("does not give the") and FACT_LABELS[next(iter(giving.says))] in problem
    full = "Yes: " + ", ".join(giving.says.values()) + "."
    assert grounding_problem(plan, written, giving, full) is None
