"""The JSON batch strategy without a server: the schema, the batch size, and parsing of model answers.

A tiny in-test backend returns canned answers (fault injection of model output): a good batch, a batch
with one malformed conversation, a missing slot, invalid or cut-off JSON, a speaker that is neither
AGENT nor CUSTOMER. Each slot must come back with exactly one outcome: a transcript or recorded reasons.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.call_stats import CallStats
from transcript_foundry.generation.conversation_plan import ConversationPlan, plan_conversation
from transcript_foundry.generation.json_batch import (
    BATCH_RANGE_BY_COMPLEXITY,
    TOKENS_PER_TURN,
    batch_schema,
    batch_size,
    write_batch,
)
from transcript_foundry.generation.outcome import SlotOutcome
from transcript_foundry.llm.backend import BackendInfo, Completion, LLMBackend, LLMCallError, SamplingParams


class CannedBackend(LLMBackend):
    """Answers every chat_json call with the same text; remembers what it was asked."""

    def __init__(self, text: str = "", *, finish_reason: str = "stop", error: LLMCallError | None = None):
        self.text = text
        self.finish_reason = finish_reason
        self.error = error
        self.calls: list[tuple[list[dict[str, str]], dict[str, Any], SamplingParams]] = []
        self._info = BackendInfo(
            node_id="canned",
            backend="test",
            model="canned-model",
            prompt_style="chat_json",
            context_window=8192,
        )

    @property
    def info(self) -> BackendInfo:
        return self._info

    def complete(self, prompt: str, params: SamplingParams) -> Completion:
        raise AssertionError("the JSON batch strategy must not use complete()")

    def chat_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], params: SamplingParams
    ) -> Completion:
        self.calls.append((messages, schema, params))
        if self.error is not None:
            raise self.error
        return Completion(
            text=self.text,
            prompt_tokens=400,
            completion_tokens=120,
            seconds=0.6,
            finish_reason=self.finish_reason,
            node_id="canned",
            model="canned-model",
        )

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)


def _plans(
    pack: DomainPack, n: int, *, complexity: str = "simple", exchanges=(4, 6)
) -> list[ConversationPlan]:
    spec = JobSpec(count=n, domain=pack.name, complexity=complexity, exchanges=exchanges)
    return [plan_conversation(spec, pack, "rjson", 11, i) for i in range(n)]


def _conversation(slot: int, plan: ConversationPlan) -> dict[str, Any]:
    return {
        "slot": slot,
        "turns": [
            {"speaker": t.speaker, "text": f"Line {i + 1} of {plan.slot_id}."}
            for i, t in enumerate(plan.turns)
        ],
    }


def _answer(*conversations: dict[str, Any]) -> str:
    return json.dumps({"conversations": list(conversations)})


def _run(backend: CannedBackend, pack: DomainPack, plans: list[ConversationPlan]) -> list[SlotOutcome]:
    stats = CallStats()
    outcomes = write_batch(backend, pack, plans, attempt=2, round_=1, stats=stats)
    assert [o.slot_id for o in outcomes] == [p.slot_id for p in plans], "one outcome per slot, in order"
    for o in outcomes:
        assert o.ok != bool(o.failures), f"{o.slot_id}: a transcript xor failure reasons, got {o}"
    assert len(backend.calls) == 1 and stats.calls == 1 and stats.output_tokens == 120
    return outcomes


@pytest.fixture
def pack(packs: dict[str, DomainPack]) -> DomainPack:
    return packs["healthcare"]


# --- the schema --------------------------------------------------------------------------------------


def test_batch_schema_fixes_the_number_of_conversations_and_turns() -> None:
    schema = batch_schema(3, 4, 9)
    json.dumps(schema)  # sent as-is in the request
    assert schema["required"] == ["conversations"] and schema["additionalProperties"] is False
    conversations = schema["properties"]["conversations"]
    assert conversations["type"] == "array"
    assert conversations["minItems"] == 3 and conversations["maxItems"] == 3
    conversation = conversations["items"]
    assert conversation["required"] == ["slot", "turns"] and conversation["additionalProperties"] is False
    assert conversation["properties"]["slot"]["type"] == "integer"
    turns = conversation["properties"]["turns"]
    assert turns["minItems"] == 4 and turns["maxItems"] == 9
    turn = turns["items"]
    assert turn["required"] == ["speaker", "text"] and turn["additionalProperties"] is False
    assert turn["properties"]["speaker"]["enum"] == ["AGENT", "CUSTOMER"]
    assert turn["properties"]["text"]["type"] == "string"


# --- the batch size ----------------------------------------------------------------------------------


def test_batch_size_by_complexity(pack: DomainPack) -> None:
    simple = _plans(pack, 40)
    assert BATCH_RANGE_BY_COMPLEXITY == {"simple": (15, 30), "complex": (5, 10)}
    assert batch_size(simple, 10**6, 500) == 30  # the top of the simple range when the budget allows
    complex_ = _plans(pack, 30, complexity="complex", exchanges=(6, 8))
    assert batch_size(complex_, 10**6, 500) == 10
    mixed = simple[:15] + complex_[:1]  # one complex call makes the whole batch small
    assert batch_size(mixed, 10**6, 500) == 10


def test_batch_size_never_exceeds_the_plans(pack: DomainPack) -> None:
    assert batch_size(_plans(pack, 3), 10**6, 500) == 3


def test_batch_size_is_bounded_by_the_context_window(pack: DomainPack) -> None:
    plans = _plans(pack, 20, exchanges=(8, 10))
    longest = max(len(p.turns) for p in plans)
    per_conversation = longest * TOKENS_PER_TURN + 16
    window = 700 + 2 * per_conversation + per_conversation // 2  # room for two and a half conversations
    assert batch_size(plans, window, 700) == 2
    assert batch_size(plans, window + per_conversation, 700) == 3
    assert batch_size(plans, 600, 700) == 1, "a prompt that barely fits still gets one conversation per call"


def test_longer_conversations_mean_smaller_batches(pack: DomainPack) -> None:
    short = _plans(pack, 20, exchanges=(4, 4))
    long = _plans(pack, 20, exchanges=(20, 24))
    assert max(len(p.turns) for p in long) > max(len(p.turns) for p in short)
    assert batch_size(long, 6000, 800) < batch_size(short, 6000, 800)


# --- parsing the answer ------------------------------------------------------------------------------


def test_valid_batch_gives_every_slot_a_transcript(pack: DomainPack) -> None:
    plans = _plans(pack, 2)
    backend = CannedBackend(_answer(_conversation(1, plans[0]), _conversation(2, plans[1])))
    outcomes = _run(backend, pack, plans)

    messages, schema, params = backend.calls[0]
    low, high = min(len(p.turns) for p in plans), max(len(p.turns) for p in plans)
    assert schema == batch_schema(2, low, high)
    assert params.max_tokens == sum(len(p.turns) for p in plans) * TOKENS_PER_TURN + 64 * 2
    assert [m["role"] for m in messages] == ["system", "user"]
    assert all(p.company in messages[1]["content"] for p in plans)
    assert "slot 1" in messages[1]["content"] and "slot 2" in messages[1]["content"]

    for outcome, plan in zip(outcomes, plans, strict=True):
        assert outcome.ok and outcome.failures == []
        t = outcome.transcript
        assert t is not None
        assert t.id == plan.slot_id and t.request_id == "rjson" and t.domain == "healthcare"
        assert (t.scenario, t.emotional_tone, t.company, t.agent_name) == (
            plan.scenario,
            plan.emotional_tone,
            plan.company,
            plan.agent_name,
        )
        assert [x.speaker for x in t.turns] == [p.speaker for p in plan.turns]
        assert [x.beat for x in t.turns] == [p.beat for p in plan.turns]
        assert [x.act for x in t.turns] == [p.act for p in plan.turns]
        assert t.turns[0].text == f"Line 1 of {plan.slot_id}."
        g = t.generation
        assert (g.strategy, g.node_id, g.model, g.llm_calls) == ("json_batch", "canned", "canned-model", 1)
        assert (g.attempt, g.round, g.seed) == (2, 1, plan.seed)
        assert g.output_tokens == 60 and g.seconds == pytest.approx(0.3)  # the call's cost, shared


def test_conversations_are_matched_by_slot_number_not_position(pack: DomainPack) -> None:
    plans = _plans(pack, 2)
    outcomes = _run(
        CannedBackend(_answer(_conversation(2, plans[1]), _conversation(1, plans[0]))), pack, plans
    )
    for outcome, plan in zip(outcomes, plans, strict=True):
        assert outcome.transcript is not None
        assert outcome.transcript.turns[0].text == f"Line 1 of {plan.slot_id}."


def test_a_slot_number_used_twice_falls_back_to_the_position(pack: DomainPack) -> None:
    plans = _plans(pack, 2)
    outcomes = _run(
        CannedBackend(_answer(_conversation(1, plans[0]), _conversation(1, plans[1]))), pack, plans
    )
    assert [o.transcript.turns[0].text for o in outcomes if o.transcript] == [
        f"Line 1 of {plans[0].slot_id}.",
        f"Line 1 of {plans[1].slot_id}.",
    ]


def test_speaker_case_is_normalised(pack: DomainPack) -> None:
    plans = _plans(pack, 1)
    conversation = _conversation(1, plans[0])
    for turn in conversation["turns"]:
        turn["speaker"] = f" {turn['speaker'].lower()} "
    (outcome,) = _run(CannedBackend(_answer(conversation)), pack, plans)
    assert outcome.transcript is not None
    assert [t.speaker for t in outcome.transcript.turns] == [p.speaker for p in plans[0].turns]


def test_one_malformed_conversation_fails_only_its_slot(pack: DomainPack) -> None:
    plans = _plans(pack, 3)
    broken = {"slot": 2, "turns": [{"speaker": "AGENT"}]}  # no text, too few turns
    backend = CannedBackend(_answer(_conversation(1, plans[0]), broken, _conversation(3, plans[2])))
    first, second, third = _run(backend, pack, plans)
    assert first.ok and third.ok
    assert not second.ok
    assert len(second.failures) == 1 and "conversation 2 of the batch is malformed" in second.reason


def test_a_slot_missing_from_the_answer_is_a_recorded_failure(pack: DomainPack) -> None:
    plans = _plans(pack, 3)
    first, second, third = _run(
        CannedBackend(_answer(_conversation(1, plans[0]), _conversation(3, plans[2]))), pack, plans
    )
    assert first.ok and third.ok
    assert second.failures == ["missing from the JSON batch returned by canned"]


def test_an_empty_batch_fails_every_slot_as_missing(pack: DomainPack) -> None:
    outcomes = _run(CannedBackend(_answer()), pack, _plans(pack, 2))
    assert all(o.failures == ["missing from the JSON batch returned by canned"] for o in outcomes)


def test_invalid_json_fails_every_slot(pack: DomainPack) -> None:
    outcomes = _run(CannedBackend('{"conversations": [{"slot": 1, "turns": [oops]}]}'), pack, _plans(pack, 3))
    for o in outcomes:
        assert not o.ok and len(o.failures) == 1
        assert o.reason.startswith("unparseable JSON batch from canned: ")
        assert "Expecting value" in o.reason  # the parser's own words say what was wrong


def test_output_cut_off_at_the_token_limit_fails_every_slot(pack: DomainPack) -> None:
    plans = _plans(pack, 2)
    full = _answer(_conversation(1, plans[0]), _conversation(2, plans[1]))
    outcomes = _run(CannedBackend(full[: len(full) // 2], finish_reason="length"), pack, plans)
    for o in outcomes:
        assert not o.ok
        assert o.failures == ["unparseable JSON batch from canned: output cut off at the token limit"]


@pytest.mark.parametrize(
    "text", ['[{"slot": 1, "turns": []}]', '{"dialogues": []}', '{"conversations": "none"}', '"just text"']
)
def test_json_without_a_conversations_list_fails_every_slot(pack: DomainPack, text: str) -> None:
    outcomes = _run(CannedBackend(text), pack, _plans(pack, 2))
    for o in outcomes:
        assert not o.ok
        assert o.reason.startswith("unparseable JSON batch from canned") and "conversations" in o.reason


def test_a_speaker_other_than_agent_or_customer_fails_its_slot(pack: DomainPack) -> None:
    plans = _plans(pack, 2)
    narrated = _conversation(1, plans[0])
    narrated["turns"][1]["speaker"] = "NARRATOR"
    first, second = _run(CannedBackend(_answer(narrated, _conversation(2, plans[1]))), pack, plans)
    assert not first.ok and second.ok
    assert first.reason.startswith("invalid conversation: turn 2: speaker 'NARRATOR'")
    assert "not AGENT or CUSTOMER" in first.reason


def test_a_blank_turn_fails_its_slot(pack: DomainPack) -> None:
    plans = _plans(pack, 1)
    blank = _conversation(1, plans[0])
    blank["turns"][2]["text"] = "   "
    (outcome,) = _run(CannedBackend(_answer(blank)), pack, plans)
    assert not outcome.ok and outcome.reason.startswith("invalid conversation") and "empty" in outcome.reason


def test_a_failed_call_is_raised_for_the_generator_to_record(pack: DomainPack) -> None:
    backend = CannedBackend(error=LLMCallError("HTTP 503", node_id="canned", status=503))
    with pytest.raises(LLMCallError) as info:
        write_batch(backend, pack, _plans(pack, 2), attempt=1, round_=0, stats=CallStats())
    assert info.value.status == 503 and info.value.node_id == "canned"
