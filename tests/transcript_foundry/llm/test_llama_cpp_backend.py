"""The in-process llama.cpp backend running the real embedded model."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.json_prefix import is_json_prefix
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.call_stats import CallStats
from transcript_foundry.generation.conversation_plan import plan_conversation
from transcript_foundry.generation.few_shot_prompt import select_exemplars, shared_prefix
from transcript_foundry.generation.turn_by_turn import write_conversation
from transcript_foundry.llm.backend import LLMCallError, SamplingParams
from transcript_foundry.llm.embedded_model import EMBEDDED_MODEL_FILE, ensure_embedded_model
from transcript_foundry.llm.llama_cpp_backend import LlamaCppBackend
from transcript_foundry.pool.node_spec import NodeSpec

pytestmark = pytest.mark.slow


# A window no other test module uses, so this module's model and decoder (held per window in the process)
# are its own: their cache holds only what these tests evaluated, in order. With several sequences in
# flight (other modules' pipeline runs) the cache contents, and with them the last bits of the logits, would
# depend on thread timing, and these single-attempt checks would pass or fail by chance.
CONTEXT = 3584


@pytest.fixture(scope="module")
def backend() -> Iterator[LlamaCppBackend]:
    b = LlamaCppBackend(NodeSpec(id="local", backend="llama_cpp", context_window=CONTEXT, n_threads=2))
    yield b
    b.close()


def test_embedded_model_is_assembled_once_into_the_cache(embedded_model_path: Path) -> None:
    assert embedded_model_path.name == EMBEDDED_MODEL_FILE
    assert embedded_model_path.read_bytes()[:4] == b"GGUF"
    mtime = embedded_model_path.stat().st_mtime_ns
    assert ensure_embedded_model() == embedded_model_path
    assert embedded_model_path.stat().st_mtime_ns == mtime


def test_completion_stops_at_newline_and_counts_tokens(backend: LlamaCppBackend) -> None:
    prompt = "(Agent greets the caller) Agent: Thank you for calling Evergreen Health, this is Maria.\n(Customer explains the problem) Customer:"
    c = backend.complete(prompt, SamplingParams(max_tokens=40, stop=("\n",), seed=3))
    assert c.text.strip()
    assert "\n" not in c.text
    assert 0 < c.completion_tokens <= 40
    assert c.prompt_tokens == backend.count_tokens(prompt) + 1  # + BOS
    assert c.finish_reason in ("stop", "length")
    assert (c.node_id, c.model) == ("local", "gemma3-270m-q4_k_m")


def test_a_prompt_longer_than_the_context_window_fails_naming_the_field(backend: LlamaCppBackend) -> None:
    prompt = "word " * 4100
    with pytest.raises(
        LLMCallError, match=f"exceeds node local's context_window {CONTEXT}; raise context_window"
    ):
        backend.complete(prompt, SamplingParams(max_tokens=20, seed=1))
    assert backend.info.details["sequences"] == 4  # the default node decodes 4 sequences together


def test_same_seed_same_text(backend: LlamaCppBackend) -> None:
    prompt = "(Agent asks for the member ID) Agent:"
    params = SamplingParams(max_tokens=20, stop=("\n",), seed=11)
    assert backend.complete(prompt, params).text == backend.complete(prompt, params).text


def test_chat_json_is_grammar_constrained(backend: LlamaCppBackend) -> None:
    """What the grammar guarantees, whatever a CPU samples: the text never leaves the JSON grammar (a valid
    prefix even when cut by max_tokens), and a completion that stopped by itself is a whole object that
    meets the schema."""
    schema = {
        "type": "object",
        "properties": {
            "speaker": {"type": "string", "enum": ["AGENT", "CUSTOMER"]},
            "text": {"type": "string"},
        },
        "required": ["speaker", "text"],
    }
    for seed in (5, 6, 7):
        c = backend.chat_json(
            [{"role": "user", "content": "Write one line an agent says when answering a call, as JSON."}],
            schema,
            SamplingParams(max_tokens=60, seed=seed, repeat_penalty=1.0),
        )
        assert c.text.lstrip().startswith("{"), c.text
        assert is_json_prefix(c.text), f"seed {seed}: left the JSON grammar: {c.text!r}"
        if c.finish_reason == "stop":
            data = json.loads(c.text)
            assert set(data) == {"speaker", "text"}
            assert data["speaker"] in ("AGENT", "CUSTOMER")
            assert isinstance(data["text"], str)
        else:
            assert c.finish_reason == "length" and c.completion_tokens == 60, (c.finish_reason, c.text)


def test_a_whole_conversation_turn_by_turn(backend: LlamaCppBackend, packs: dict[str, DomainPack]) -> None:
    pack = packs["telecom"]
    spec = JobSpec(count=1, domain="telecom", emotional_tone="angry", exchanges=(8, 10))
    plan = plan_conversation(spec, pack, "rtest", 9, 0)
    prefix = shared_prefix(pack, select_exemplars(pack, "angry", 2, random.Random(1)))
    stats = CallStats()
    t = write_conversation(backend, prefix, 3, plan, attempt=1, round_=0, stats=stats)
    assert [x.speaker for x in t.turns] == [x.speaker for x in plan.turns]
    assert all(a.speaker != b.speaker for a, b in itertools.pairwise(t.turns))
    assert all(x.text.strip() for x in t.turns)
    assert t.generation.strategy == "turn_by_turn"
    assert t.generation.output_tokens == stats.output_tokens > 0
    # Kept turns only: re-sampled (degenerate) completions cost tokens but are not in the transcript.
    assert 0 < t.generation.text_tokens <= t.generation.output_tokens
    assert (t.generation.text_tokens == t.generation.output_tokens) == (stats.degenerate == 0)
    assert stats.calls >= len(plan.turns)


def test_missing_model_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"model_path .*does not exist .*\.gguf"):
        LlamaCppBackend(NodeSpec(id="x", backend="llama_cpp", model_path=str(tmp_path / "nope.gguf")))


def test_a_second_backend_reuses_the_loaded_model_and_its_kv_cache(backend: LlamaCppBackend) -> None:
    prompt = "(Agent greets the caller) Agent: Thank you for calling Evergreen Health, this is Maria.\n(Customer explains the problem) Customer:"
    backend.complete(prompt, SamplingParams(max_tokens=8, stop=("\n",), seed=5))
    again = LlamaCppBackend(NodeSpec(id="local", backend="llama_cpp", context_window=CONTEXT, n_threads=2))
    assert again._llm is backend._llm  # the next Dagster run of this process loads nothing
    again.close()  # frees nothing: the model stays for the next run
    c = again.complete(prompt, SamplingParams(max_tokens=8, stop=("\n",), seed=5))
    assert c.text.strip()


def test_dry_sampling_keeps_a_turn_from_echoing_the_previous_one(backend: LlamaCppBackend) -> None:
    line = "I have been waiting on hold for forty minutes and nobody can explain this charge on my bill."
    prompt = (
        f"(Customer explains the problem) Customer: {line}\n"
        "(Agent apologises and asks for the member ID) Agent: I am sorry about that. May I have your member ID?\n"
        "(Customer repeats the problem) Customer:"
    )
    echoes = {}
    for dry in (0.0, 2.0):
        params = [
            SamplingParams(max_tokens=32, stop=("\n",), seed=s, temperature=0.3, dry_multiplier=dry)
            for s in range(6)
        ]
        texts = [backend.complete(prompt, p).text for p in params]
        echoes[dry] = sum(" ".join(line.lower().split()[:6]) in t.lower() for t in texts)
    assert echoes[0.0] >= 2, echoes  # asked to repeat the problem, the model copies the line...
    assert echoes[2.0] < echoes[0.0], echoes  # ...and DRY makes it say it in other words
