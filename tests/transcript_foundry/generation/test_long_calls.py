"""Calls as long as the seed specifies (complex: 80–150 exchanges) on the embedded model: the prompt rolls
inside a small context window, the plan's facts stay in it, and the entity rules hold from the first turn
to the last."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import pytest

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.call_stats import CallStats
from transcript_foundry.generation.conversation_plan import plan_conversation
from transcript_foundry.generation.few_shot_prompt import select_exemplars, shared_prefix
from transcript_foundry.generation.outcome import GenerationFailed
from transcript_foundry.generation.resumed_attempt import resume_plan
from transcript_foundry.generation.turn_by_turn import write_conversation
from transcript_foundry.llm.llama_cpp_backend import LlamaCppBackend
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.entity_rules import entity_findings

pytestmark = pytest.mark.slow

# Small on purpose: 100 turns of a call do not fit beside the few-shot prefix, so the prompt must roll.
# A window no other test module uses (each window gets its own model and decoder in the process).
CONTEXT = 1536


@pytest.fixture(scope="module")
def backend() -> Iterator[LlamaCppBackend]:
    b = LlamaCppBackend(NodeSpec(id="local", backend="llama_cpp", context_window=CONTEXT, n_threads=2))
    yield b
    b.close()


def test_a_100_turn_call_rolls_its_prompt_and_keeps_its_facts(
    backend: LlamaCppBackend, packs: dict[str, DomainPack]
) -> None:
    pack = packs["healthcare"]
    spec = JobSpec(count=1, domain="healthcare", complexity="complex", exchanges=(100, 100))
    plan = plan_conversation(spec, pack, "rlong", 5, 1)
    assert len(plan.turns) == 100
    prefix = shared_prefix(pack, select_exemplars(pack, plan.emotional_tone, 1, random.Random(2)))
    stats = CallStats()
    # As the pipeline writes it: a turn that stays degenerate after its re-samples ends the attempt, and the
    # next attempt resumes at that turn (resumed_attempt), up to 3 attempts.
    planned = plan
    for attempt in range(1, 4):
        try:
            t = write_conversation(backend, prefix, 2, planned, attempt=attempt, round_=0, stats=stats)
            break
        except GenerationFailed as failed:
            planned = resume_plan(plan, failed.written)
    else:
        pytest.fail("the 100-turn call was not written in 3 attempts")
    assert len(t.turns) == 100
    assert all(a.speaker != b.speaker for a, b in itertools.pairwise(t.turns))
    assert stats.calls >= 100
    # The prompt rolled (the whole call never fit), yet every prompt stayed inside the window: no call failed.
    assert sum(backend.count_tokens(f"{x.text}\n") for x in t.turns) + backend.count_tokens(prefix) > CONTEXT
    view = CallView(
        turns=tuple((x.speaker, x.text) for x in t.turns),
        company=plan.company,
        agent_name=plan.agent_name,
        customer_name=plan.customer_name,
        facts=plan.facts,
    )
    contradictions = [
        f.reason
        for f in entity_findings(view)
        if f.rule
        in ("identifier_contradiction", "date_contradiction", "fact_contradiction", "implausible_birth_date")
    ]
    assert contradictions == []
    giving = [i for i, p in enumerate(plan.turns) if p.says]
    assert giving, "the plan gives the caller's details somewhere"
