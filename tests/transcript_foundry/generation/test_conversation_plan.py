from __future__ import annotations

import itertools

import pytest

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.conversation_plan import plan_conversation, slot_id_for


@pytest.mark.parametrize("domain", ["healthcare", "retail", "telecom"])
@pytest.mark.parametrize("complexity", ["simple", None, "complex"])
def test_plans_alternate_start_with_agent_and_fit_the_bounds(
    packs: dict[str, DomainPack], domain: str, complexity: str | None
) -> None:
    spec = JobSpec(count=40, domain=domain, complexity=complexity)
    low, high = spec.turn_bounds
    for index in range(40):
        plan = plan_conversation(spec, packs[domain], "rtest", 7, index)
        speakers = [t.speaker for t in plan.turns]
        assert speakers[0] == "AGENT"
        assert all(a != b for a, b in itertools.pairwise(speakers)), speakers
        assert low <= len(plan.turns) <= high, (len(plan.turns), low, high)
        assert plan.slot_id == slot_id_for("rtest", index)


def test_plans_are_deterministic_and_vary_by_index(packs: dict[str, DomainPack]) -> None:
    spec = JobSpec(count=10, domain="healthcare")
    first = [plan_conversation(spec, packs["healthcare"], "r1", 3, i) for i in range(10)]
    again = [plan_conversation(spec, packs["healthcare"], "r1", 3, i) for i in range(10)]
    assert first == again
    assert len({(p.scenario, p.company, p.agent_name, p.seed) for p in first}) > 5
    other_seed = [plan_conversation(spec, packs["healthcare"], "r1", 4, i) for i in range(10)]
    assert [p.seed for p in other_seed] != [p.seed for p in first]


def test_plan_honours_tone_scenarios_and_caller_type(packs: dict[str, DomainPack]) -> None:
    spec = JobSpec(
        count=6,
        domain="telecom",
        emotional_tone="angry",
        scenarios=["service_outage", "cancel_service"],
        caller_type="business",
    )
    plans = [plan_conversation(spec, packs["telecom"], "r2", 1, i) for i in range(6)]
    assert {p.emotional_tone for p in plans} == {"angry"}
    assert [p.scenario for p in plans] == ["service_outage", "cancel_service"] * 3
    assert {p.caller_type for p in plans} == {"business"}


def test_mixed_tone_when_none_requested(packs: dict[str, DomainPack]) -> None:
    spec = JobSpec(count=60, domain="retail")
    tones = {plan_conversation(spec, packs["retail"], "r3", 5, i).emotional_tone for i in range(60)}
    assert len(tones) >= 5


def test_complex_calls_include_complex_only_beats(packs: dict[str, DomainPack]) -> None:
    pack = packs["healthcare"]
    complex_beats = {b.beat for s in pack.scenarios for b in s.beats if b.complex_only}
    simple = JobSpec(count=20, domain="healthcare", complexity="simple")
    complex_ = JobSpec(count=20, domain="healthcare", complexity="complex")
    simple_beats = {t.beat for i in range(20) for t in plan_conversation(simple, pack, "r", 1, i).turns}
    complex_seen = {t.beat for i in range(20) for t in plan_conversation(complex_, pack, "r", 1, i).turns}
    assert not simple_beats & complex_beats
    assert complex_seen & complex_beats


def test_filler_beats_come_after_the_problem_statement(packs: dict[str, DomainPack]) -> None:
    pack = packs["retail"]
    fillers = {b.beat for b in pack.filler_beats}
    spec = JobSpec(count=30, domain="retail", exchanges=(20, 24))
    for i in range(30):
        plan = plan_conversation(spec, pack, "r", 2, i)
        assert not {t.beat for t in plan.turns[:3]} & fillers


def test_the_callers_name_never_shares_a_word_with_the_agents_or_the_companys() -> None:
    """An agent called Marcus and a caller called Marcus Harper: the agent's own name would read as the
    caller's planted identifier (and be protected from scrubbing as the agent's)."""
    from transcript_foundry.contract.job_spec import JobSpec
    from transcript_foundry.domains.domain_pack import load_domain_packs
    from transcript_foundry.generation.conversation_plan import plan_conversation
    from transcript_foundry.generation.plan_facts import FIRST_NAMES

    packs = load_domain_packs()
    collisions_possible = 0
    for domain, pack in packs.items():
        spec = JobSpec(count=400, domain=domain)
        collisions_possible += len({a.split()[0] for a in pack.agent_names} & set(FIRST_NAMES))
        for index in range(400):
            plan = plan_conversation(spec, pack, "rcollide", 11, index)
            caller = {w.lower() for w in plan.customer_name.split()}
            assert not caller & {w.lower() for w in f"{plan.agent_name} {plan.company}".split()}, plan
    assert collisions_possible > 0  # the packs' agent names do overlap the caller names: the guard matters
