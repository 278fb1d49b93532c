"""OpenAICompatibleBackend over real HTTP on 127.0.0.1.

The ``slow`` tests talk to llama-cpp-python's own OpenAI-compatible server running the embedded Gemma 3
270M model (one server for the whole session, see tests/support/llm_server.py): plain completions, schema-
constrained chat JSON, and both generation strategies through the NodePool. The fault tests (not slow)
talk to a stdlib server that answers 429/503/400, drops the connection, sends a non-JSON page or never
answers: every one must become an LLMCallError quickly, with the client never retrying on its own.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import build_init_resource_context

from resources.node_pool import NodePool
from tests.support.llm_server import MODEL_ALIAS, FaultServer, closed_port_url
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.conversation_plan import ConversationPlan, plan_conversation
from transcript_foundry.generation.generator import GeneratorSettings, TranscriptGenerator
from transcript_foundry.generation.outcome import SlotOutcome
from transcript_foundry.llm.backend import LLMBackend, LLMCallError, SamplingParams
from transcript_foundry.llm.openai_backend import OpenAICompatibleBackend
from transcript_foundry.pool.node_spec import NodeSpec

FEW_SHOT = (
    "Q: What colour is the sky on a clear day?\nA: Blue.\n"
    "Q: What colour is fresh grass?\nA: Green.\n"
    "Q: What colour is snow?\nA:"
)


def _spec(url: str, **fields: Any) -> NodeSpec:
    return NodeSpec.model_validate(
        {"id": "node", "backend": "openai_compatible", "url": url, "model": MODEL_ALIAS, **fields}
    )


@pytest.fixture
def make_backend() -> Iterator[Callable[..., OpenAICompatibleBackend]]:
    made: list[OpenAICompatibleBackend] = []

    def make(url: str, **fields: Any) -> OpenAICompatibleBackend:
        made.append(OpenAICompatibleBackend(_spec(url, **fields)))
        return made[-1]

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def make_pool(tmp_path: Path) -> Iterator[Callable[..., NodePool]]:
    """An NodePool over a temporary nodes.yaml, set up the way Dagster sets it up."""
    pools: list[NodePool] = []

    def make(*nodes: dict[str, Any]) -> NodePool:
        path = tmp_path / f"nodes-{len(pools)}.yaml"
        path.write_text(yaml.safe_dump({"nodes": list(nodes)}), encoding="utf-8")
        pool = NodePool(nodes_file=str(path))
        pool.setup_for_execution(build_init_resource_context())
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def _node(node_id: str, url: str, prompt_style: str = "completion", **fields: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "backend": "openai_compatible",
        "url": url,
        "model": MODEL_ALIAS,
        "prompt_style": prompt_style,
        "context_window": 4096,
        **fields,
    }


def _plans(pack: DomainPack, n: int, request_id: str) -> list[ConversationPlan]:
    spec = JobSpec(count=n, domain=pack.name, complexity="simple", exchanges=(4, 6))
    return [plan_conversation(spec, pack, request_id, 2024, i) for i in range(n)]


def _node_order(pool: NodePool) -> list[str]:
    return [b.info.node_id for b in pool.candidates()]


def _check_one_outcome_per_slot(
    outcomes: list[SlotOutcome], emitted: list[SlotOutcome], plans: list[ConversationPlan]
) -> None:
    ids = [p.slot_id for p in plans]
    assert [o.slot_id for o in outcomes] == ids
    assert Counter(o.slot_id for o in emitted) == Counter(ids), "each slot's outcome is emitted exactly once"
    for o in outcomes:
        assert o.ok or o.failures, f"{o.slot_id} has neither a transcript nor a failure reason"
        assert all(isinstance(f, str) and f for f in o.failures)


def _schema_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """The JSON Schema subset these tests send (type, enum, lengths, properties, items); jsonschema is not
    a dependency of the project."""
    types: dict[str, type | tuple[type, ...]] = {
        "object": dict,
        "array": list,
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
    }
    kind = schema.get("type")
    if kind and (not isinstance(value, types[kind]) or (kind != "boolean" and isinstance(value, bool))):
        return [f"{path}: expected {kind}, got {type(value).__name__}"]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if kind == "string" and not schema.get("minLength", 0) <= len(value) <= schema.get(
        "maxLength", len(value)
    ):
        errors.append(f"{path}: length {len(value)} out of bounds")
    if kind == "object":
        props = schema.get("properties", {})
        errors += [f"{path}: missing {key!r}" for key in schema.get("required", []) if key not in value]
        if schema.get("additionalProperties") is False:
            errors += [f"{path}: unexpected {key!r}" for key in value if key not in props]
        for key, item in value.items():
            if key in props:
                errors += _schema_errors(item, props[key], f"{path}.{key}")
    if kind == "array":
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            errors.append(f"{path}: {len(value)} items out of bounds")
        for i, item in enumerate(value):
            errors += _schema_errors(item, schema.get("items", {}), f"{path}[{i}]")
    return errors


SMALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 24},
        "age": {"type": "integer"},
        "mood": {"type": "string", "enum": ["calm", "angry", "confused"]},
        "topics": {
            "type": "array",
            "items": {"type": "string", "enum": ["billing", "appointment", "refill"]},
            "minItems": 1,
            "maxItems": 2,
        },
    },
    "required": ["name", "age", "mood", "topics"],
    "additionalProperties": False,
}


def test_schema_checker_rejects_what_the_schema_forbids() -> None:
    good = {"name": "Ana", "age": 40, "mood": "calm", "topics": ["refill"]}
    assert _schema_errors(good, SMALL_SCHEMA) == []
    bad = [
        {**good, "mood": "happy"},
        {**good, "age": "40"},
        {**good, "age": True},
        {**good, "topics": []},
        {**good, "name": "x" * 30},
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "name"},
    ]
    for value in bad:
        assert _schema_errors(value, SMALL_SCHEMA), value


# --- the real server (slow) ----------------------------------------------------------------------------


@pytest.mark.slow
def test_complete_continues_a_few_shot_prompt(
    llama_server_url: str, make_backend: Callable[..., OpenAICompatibleBackend]
) -> None:
    backend = make_backend(llama_server_url, prompt_style="completion")
    params = SamplingParams(max_tokens=12, temperature=0.7, stop=("\n",), seed=11)
    completion = backend.complete(FEW_SHOT, params)
    assert completion.text.strip(), completion
    assert "\n" not in completion.text  # stopped at the newline
    assert completion.completion_tokens > 0 and completion.prompt_tokens > 10
    assert completion.finish_reason in ("stop", "length")
    assert completion.node_id == "node" and completion.model == MODEL_ALIAS
    assert completion.seconds > 0
    again = backend.complete(FEW_SHOT, params)
    assert again.text == completion.text, "the same seed gives the same text"


@pytest.mark.slow
def test_chat_json_honours_the_schema(
    llama_server_url: str, make_backend: Callable[..., OpenAICompatibleBackend]
) -> None:
    backend = make_backend(llama_server_url, structured_output="json_object_schema")
    messages = [
        {"role": "system", "content": "Answer only with JSON."},
        {"role": "user", "content": "Describe a caller to a clinic: name, age, mood and call topics."},
    ]
    completion = backend.chat_json(messages, SMALL_SCHEMA, SamplingParams(max_tokens=96, seed=5))
    assert completion.finish_reason == "stop", f"the grammar should close the object: {completion.text!r}"
    value = json.loads(completion.text)
    assert _schema_errors(value, SMALL_SCHEMA) == [], completion.text
    assert completion.completion_tokens > 0 and completion.node_id == "node"


@pytest.mark.slow
def test_turn_by_turn_over_http(
    llama_server_url: str, make_pool: Callable[..., NodePool], packs: dict[str, DomainPack]
) -> None:
    pack = packs["healthcare"]
    pool = make_pool(_node("tbt", llama_server_url))
    plans = _plans(pack, 2, "rtbt")
    emitted: list[SlotOutcome] = []
    generator = TranscriptGenerator(pool, pack, on_outcome=emitted.append)
    outcomes = generator.generate(plans, exemplar_seed=3)

    _check_one_outcome_per_slot(outcomes, emitted, plans)
    done = [(o, p) for o, p in zip(outcomes, plans, strict=True) if o.ok]
    assert done, f"no transcript at all: {[o.failures for o in outcomes]}"
    for outcome, plan in done:
        t = outcome.transcript
        assert t is not None
        speakers = [turn.speaker for turn in t.turns]
        assert speakers[0] == "AGENT"
        assert all(a != b for a, b in itertools.pairwise(speakers)), speakers
        assert len(t.turns) == len(plan.turns) and speakers == [p.speaker for p in plan.turns]
        assert all(turn.text.strip() and "\n" not in turn.text for turn in t.turns)
        assert [turn.beat for turn in t.turns] == [p.beat for p in plan.turns]
        g = t.generation
        assert (g.strategy, g.node_id, g.model) == ("turn_by_turn", "tbt", MODEL_ALIAS)
        assert g.llm_calls >= len(plan.turns) and g.output_tokens > 0
    assert generator.stats.errors == 0 and generator.stats.by_node.get("tbt", 0) >= len(done[0][1].turns)


@pytest.mark.slow
def test_json_batch_over_http(
    llama_server_url: str, make_pool: Callable[..., NodePool], packs: dict[str, DomainPack]
) -> None:
    pack = packs["healthcare"]
    # server_signals off: with the pool's load probes on, this batch call on llama-cpp-python's server ran
    # past its 120 s timeout on the 2-core machine (92 s without them); the cause is not yet known.
    pool = make_pool(
        _node(
            "batch",
            llama_server_url,
            "chat_json",
            structured_output="json_object_schema",
            server_signals=False,
        )
    )
    plans = _plans(pack, 2, "rjson")
    emitted: list[SlotOutcome] = []
    generator = TranscriptGenerator(
        pool, pack, settings=GeneratorSettings(max_attempts=1), on_outcome=emitted.append
    )
    outcomes = generator.generate(plans, exemplar_seed=3)  # a 270M model may fail: then it is a reason

    _check_one_outcome_per_slot(outcomes, emitted, plans)
    assert generator.stats.calls == 1, "both short conversations go in one JSON batch call"
    assert generator.stats.errors == 0
    # The server decodes under the batch schema, so the answer parses and holds every conversation, each
    # well-formed: only the checks the schema cannot express (plan fidelity) may fail a slot. Before, this
    # test passed when every conversation failed, for any reason.
    failures = [f for o in outcomes for f in o.failures]
    assert not [f for f in failures if "invalid conversation" not in f], failures
    for outcome in outcomes:
        if outcome.ok:
            assert outcome.transcript is not None
            g = outcome.transcript.generation
            assert (g.strategy, g.node_id, g.llm_calls) == ("json_batch", "batch", 1)
            assert all(turn.speaker in ("AGENT", "CUSTOMER") for turn in outcome.transcript.turns)
        else:
            assert all(f.startswith("attempt 1 on batch: ") for f in outcome.failures), outcome.failures


# --- faults (no model needed) --------------------------------------------------------------------------


def _call(backend: LLMBackend, method: str) -> None:
    params = SamplingParams(max_tokens=4)
    if method == "complete":
        backend.complete("Hello", params)
    else:
        backend.chat_json([{"role": "user", "content": "Hello"}], {"type": "object"}, params)


@pytest.mark.parametrize("method", ["complete", "chat_json"])
@pytest.mark.parametrize(("status", "retryable"), [(429, True), (503, True), (400, False)])
def test_http_error_status_becomes_llm_call_error(
    fault_server: FaultServer,
    make_backend: Callable[..., OpenAICompatibleBackend],
    method: str,
    status: int,
    retryable: bool,
) -> None:
    url = fault_server.url(f"status-{status}")
    backend = make_backend(url, timeout_s=5.0)
    started = time.perf_counter()
    with pytest.raises(LLMCallError) as info:
        _call(backend, method)
    assert info.value.status == status and info.value.retryable is retryable
    assert info.value.node_id == "node" and f"HTTP {status}" in str(info.value)
    # max_retries=0: one request, even though 429/503 carry Retry-After (retries belong to the pool).
    assert fault_server.hits(url) == 1
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("method", ["complete", "chat_json"])
def test_connection_dropped_mid_response(
    fault_server: FaultServer, make_backend: Callable[..., OpenAICompatibleBackend], method: str
) -> None:
    url = fault_server.url("close")
    with pytest.raises(LLMCallError) as info:
        _call(make_backend(url, timeout_s=5.0), method)
    assert info.value.status is None and info.value.retryable is True
    assert "cannot reach" in str(info.value)
    assert fault_server.hits(url) == 1


@pytest.mark.parametrize("method", ["complete", "chat_json"])
def test_a_page_that_is_not_openai_json(
    fault_server: FaultServer, make_backend: Callable[..., OpenAICompatibleBackend], method: str
) -> None:
    url = fault_server.url("garbage")
    with pytest.raises(LLMCallError, match="not an OpenAI response") as info:
        _call(make_backend(url, timeout_s=5.0), method)
    assert info.value.node_id == "node"


def test_connection_refused_fails_fast(make_backend: Callable[..., OpenAICompatibleBackend]) -> None:
    backend = make_backend(closed_port_url(), timeout_s=5.0, connect_timeout_s=2.0)
    started = time.perf_counter()
    with pytest.raises(LLMCallError, match="cannot reach") as info:
        _call(backend, "complete")
    assert time.perf_counter() - started < 3
    assert info.value.retryable is True and info.value.status is None


@pytest.mark.parametrize("method", ["complete", "chat_json"])
def test_a_server_that_never_answers_trips_the_timeout(
    fault_server: FaultServer, make_backend: Callable[..., OpenAICompatibleBackend], method: str
) -> None:
    url = fault_server.url("hang")
    backend = make_backend(url, timeout_s=1.0, connect_timeout_s=1.0)
    started = time.perf_counter()
    with pytest.raises(LLMCallError, match="timed out") as info:
        _call(backend, method)
    elapsed = time.perf_counter() - started
    assert 0.9 <= elapsed < 5, elapsed
    assert info.value.retryable is True
    assert fault_server.hits(url) == 1


def test_a_failing_node_is_recorded_never_raised(
    fault_server: FaultServer,
    make_pool: Callable[..., NodePool],
    packs: dict[str, DomainPack],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A node that answers every call with 503 + Retry-After: 1. Each 503 is a transport fault, retried after
    the Retry-After without using up an attempt, and recorded; the slot fails at its deadline (here 2.5 s)."""
    monkeypatch.setenv("TRANSCRIPTS__RETRY__SLOT_DEADLINE_S", "2.5")
    pack = packs["healthcare"]
    url = fault_server.url("status-503")
    # no load probes (GET /v1/models), so every hit on the server is a generation call
    pool = make_pool(_node("down", url, timeout_s=2.0, server_signals=False))
    plans = _plans(pack, 2, "rdown")
    emitted: list[SlotOutcome] = []
    generator = TranscriptGenerator(
        pool, pack, settings=GeneratorSettings(max_attempts=1), on_outcome=emitted.append
    )
    outcomes = generator.generate(plans, exemplar_seed=1)

    _check_one_outcome_per_slot(outcomes, emitted, plans)
    for outcome in outcomes:
        assert not outcome.ok and len(outcome.failures) >= 2, outcome.failures  # more than max_attempts
        assert outcome.failures[0].startswith("attempt 1 on down: LLM call failed:")
        assert all("HTTP 503" in f for f in outcome.failures)
        assert (
            "deadline passed" in outcome.failures[-1]
            and "retry.slot_deadline_s 2.5 s" in outcome.failures[-1]
        )
    recorded = sum(len(o.failures) for o in outcomes)
    assert generator.stats.errors == fault_server.hits(url)
    # One recorded fault per call, and per slot at most one more: the deadline may pass while the slot waits
    # out a Retry-After, without a call.
    assert recorded - len(outcomes) <= fault_server.hits(url) <= recorded


# --- a dead node in front of the real one (slow) -------------------------------------------------------


@pytest.mark.slow
def test_a_dead_node_hands_the_slot_to_the_next_node(
    llama_server_url: str,
    fault_server: FaultServer,
    make_pool: Callable[..., NodePool],
    packs: dict[str, DomainPack],
) -> None:
    pack = packs["healthcare"]
    dead_url = fault_server.url("status-503")
    # weight 0.5 ranks the real node second, so the dead node certainly gets the first attempt; no load
    # probes (GET /v1/models) on the dead node, so every hit on it is a generation call
    pool = make_pool(
        _node("dead", dead_url, server_signals=False), _node("real", llama_server_url, weight=0.5)
    )
    assert _node_order(pool) == ["dead", "real"]
    plans = _plans(pack, 1, "rdead")
    emitted: list[SlotOutcome] = []
    generator = TranscriptGenerator(pool, pack, on_outcome=emitted.append)
    outcomes = generator.generate(plans, exemplar_seed=2)

    _check_one_outcome_per_slot(outcomes, emitted, plans)
    (outcome,) = outcomes
    assert outcome.failures, "the dead node's failure is recorded"
    assert outcome.failures[0].startswith("attempt 1 on dead: LLM call failed:")
    assert all("on dead" in f and "HTTP 503" in f for f in outcome.failures), outcome.failures
    assert outcome.ok, f"the real node should have written it: {outcome.failures}"
    assert outcome.transcript is not None and outcome.transcript.generation.node_id == "real"
    assert len(outcome.transcript.turns) == len(plans[0].turns)
    assert fault_server.hits(dead_url) >= 1 and generator.stats.errors == fault_server.hits(dead_url)
    dead = pool.runtime("dead")
    assert dead.success_rate is not None and dead.success_rate < 1.0, "the failure lowers its history score"


@pytest.mark.slow
def test_the_attempt_after_a_failure_runs_elsewhere(
    llama_server_url: str,
    fault_server: FaultServer,
    make_pool: Callable[..., NodePool],
    packs: dict[str, DomainPack],
) -> None:
    pack = packs["healthcare"]
    dead_url = fault_server.url("status-503")
    pool = make_pool(
        _node("dead", dead_url, server_signals=False), _node("real", llama_server_url, weight=0.5)
    )
    plans = _plans(pack, 1, "rnext")
    generator = TranscriptGenerator(pool, pack, settings=GeneratorSettings(max_attempts=2))
    (outcome,) = generator.generate(plans, exemplar_seed=2)
    assert fault_server.hits(dead_url) == 1, "a failed node is not tried again while a healthy one waits"
    assert outcome.ok and outcome.transcript is not None
    assert outcome.transcript.generation.node_id == "real"


def test_switching_to_a_chat_node_on_the_last_attempt_leaves_no_slot_without_an_outcome(
    fault_server: FaultServer,
    make_pool: Callable[..., NodePool],
    packs: dict[str, DomainPack],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRANSCRIPTS__RETRY__SLOT_DEADLINE_S", "2")  # 503s cost time: they end at the deadline
    pack = packs["healthcare"]
    pool = make_pool(
        _node("base", fault_server.url("status-503")),
        _node("chat", fault_server.url("status-503"), "chat_json"),
    )
    plans = _plans(pack, 2, "rswitch")
    emitted: list[SlotOutcome] = []
    generator = TranscriptGenerator(
        pool, pack, settings=GeneratorSettings(max_attempts=1), on_outcome=emitted.append
    )
    outcomes = generator.generate(plans, exemplar_seed=1)
    _check_one_outcome_per_slot(outcomes, emitted, plans)
    assert all(not o.ok for o in outcomes)
    assert all("deadline passed" in o.reason for o in outcomes), [o.reason for o in outcomes]
