"""Several completions decoded together on the real embedded model (transcript_foundry/llm/batched_decoder.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from transcript_foundry.llm.batched_decoder import BatchedDecoder, DecodeError, DecodeRequest
from transcript_foundry.llm.dry_penalty import DryPenalty

pytestmark = pytest.mark.slow

PREFIX = (
    "### Call 1\nCompany: Evergreen Health. Agent: Maria. Reason for the call: Booking an appointment.\n"
    "(Agent greets the caller) Agent: Thank you for calling Evergreen Health, this is Maria. How can I help?\n"
    "(Customer asks for an appointment) Customer: Hi, I need to see Dr. Patel about my knee sometime next week.\n"
    "(Agent asks for the member ID) Agent: I can help with that. Could I have your member ID and date of birth?\n"
    "(Customer gives their details) Customer: Sure, it's EV-4471-2290, and I was born on March 3rd, 1968.\n"
    "(Agent offers two times) Agent: Thanks. Dr. Patel has Tuesday at 9:40 or Thursday at 2:15. Which works?\n"
    "(Customer picks one) Customer: Thursday afternoon is better for me.\n"
    "(Agent confirms and says goodbye) Agent: You're booked for Thursday at 2:15. Take care, goodbye now.\n\n"
    "### Call 2\nCompany: Evergreen Health. Agent: Omar. Reason for the call: A billing question.\n"
)


@pytest.fixture(scope="module")
def llm(embedded_model_path: Path) -> Iterator[Any]:
    from llama_cpp import Llama

    model = Llama(model_path=str(embedded_model_path), n_ctx=1024, n_threads=2, n_batch=512, verbose=False)
    yield model
    model.close()


@pytest.fixture
def decoder(llm: Any) -> Iterator[BatchedDecoder]:
    d = BatchedDecoder(llm, sequences=4, n_ctx=4096, n_threads=2)
    yield d
    d.close()


def tokens(llm: Any, text: str) -> list[int]:
    return llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)


def request(llm: Any, text: str, **kw: Any) -> DecodeRequest:
    defaults: dict[str, Any] = dict(
        max_tokens=40, temperature=0.8, top_p=0.95, repeat_penalty=1.15, stop=("\n",)
    )
    return DecodeRequest(prompt=tokens(llm, text), **{**defaults, **kw})


def run_together(decoder: BatchedDecoder, requests: list[DecodeRequest]) -> list[Any]:
    results: list[Any] = [None] * len(requests)

    def call(i: int) -> None:
        results[i] = decoder.complete(requests[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


LABELS = [
    "(Agent greets the caller) Agent:",
    "(Agent asks how they can help) Agent:",
    "(Agent greets the caller and gives their name) Agent:",
    "(Agent says hello) Agent:",
]


def test_concurrent_requests_are_decoded_together_and_each_finishes(
    llm: Any, decoder: BatchedDecoder
) -> None:
    reqs = [request(llm, PREFIX + label, seed=i) for i, label in enumerate(LABELS)]
    results = run_together(decoder, reqs)
    for req, result in zip(reqs, results, strict=True):
        assert result.text.strip() and "\n" not in result.text
        assert result.finish_reason in ("stop", "length")
        assert 0 < result.completion_tokens <= 40
        assert result.prompt_tokens == len(req.prompt)
    assert decoder.peak_sequences >= 2  # they shared decode steps


def test_a_prefix_shared_by_requests_that_start_together_is_evaluated_once(
    llm: Any, decoder: BatchedDecoder
) -> None:
    prefix_len = len(tokens(llm, PREFIX))
    run_together(decoder, [request(llm, PREFIX + label, seed=i) for i, label in enumerate(LABELS)])
    assert decoder.copied_tokens >= 3 * (prefix_len - 2)  # three sequences copied it from the first
    assert decoder.evaluated_prompt_tokens < prefix_len + 4 * 20  # once, plus each label


def test_the_next_turn_only_evaluates_its_new_suffix(llm: Any, decoder: BatchedDecoder) -> None:
    first = decoder.complete(request(llm, PREFIX + LABELS[0], seed=5))
    before = decoder.evaluated_prompt_tokens
    follow = PREFIX + LABELS[0] + " " + first.text.strip() + "\n(Customer explains the problem) Customer:"
    decoder.complete(request(llm, follow, seed=6))
    suffix = len(tokens(llm, follow)) - len(tokens(llm, PREFIX + LABELS[0]))
    assert decoder.evaluated_prompt_tokens - before <= suffix + 2


def test_the_same_request_from_the_same_state_gives_the_same_text(llm: Any) -> None:
    # From a fresh cache the prompt is evaluated the same way each time; from a warm one only its last
    # token is, whose logits differ in the last bits (another kernel), so a near tie may sample otherwise.
    req = request(llm, PREFIX + LABELS[1], seed=11)
    texts = []
    for _ in range(2):
        d = BatchedDecoder(llm, sequences=2, n_ctx=1024, n_threads=2)
        try:
            texts.append(d.complete(req).text)
        finally:
            d.close()
    assert texts[0] == texts[1] and texts[0].strip()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_request_samples_as_llama_cpp_pythons_create_completion_would(llm: Any, seed: int) -> None:
    # Same context settings and sampler chain (penalties, top-k 40, top-p, min-p, temperature, seeded draw),
    # both from a fresh cache: the same text.
    prompt = PREFIX + LABELS[seed]
    llm.reset()
    llm._ctx.kv_cache_clear()
    expected = llm.create_completion(
        prompt, max_tokens=30, temperature=0.8, top_p=0.95, repeat_penalty=1.15, stop=["\n"], seed=seed
    )
    d = BatchedDecoder(llm, sequences=2, n_ctx=1024, n_threads=2)
    try:
        got = d.complete(request(llm, prompt, max_tokens=30, seed=seed))
    finally:
        d.close()
    assert got.text == expected["choices"][0]["text"]
    assert got.completion_tokens == expected["usage"]["completion_tokens"]


def test_max_tokens_ends_with_length(llm: Any, decoder: BatchedDecoder) -> None:
    result = decoder.complete(request(llm, PREFIX + LABELS[2], max_tokens=3, stop=(), seed=2))
    assert (result.finish_reason, result.completion_tokens) == ("length", 3)


def test_logits_processors_see_the_whole_context_and_steer_sampling(
    llm: Any, decoder: BatchedDecoder
) -> None:
    target = llm.tokenize(b" yes", add_bos=False)[0]
    seen: list[int] = []

    def only_yes(context: np.ndarray, scores: np.ndarray) -> np.ndarray:
        seen.append(len(context))
        scores[:] = -np.inf
        scores[target] = 0.0
        return scores

    req = request(llm, PREFIX + LABELS[3], max_tokens=4, stop=(), seed=1, processors=(only_yes,))
    result = decoder.complete(req)
    assert result.text == " yes" * 4
    assert seen[0] == len(req.prompt) and seen[-1] == len(req.prompt) + 3  # prompt + tokens so far


def test_dry_penalty_runs_inside_the_batch(llm: Any, decoder: BatchedDecoder) -> None:
    dry = DryPenalty(lambda t: llm.detokenize([t]).decode("utf-8", errors="ignore"))
    reqs = [request(llm, PREFIX + label, seed=i, processors=(dry,)) for i, label in enumerate(LABELS)]
    assert all(r.text.strip() for r in run_together(decoder, reqs))


def test_a_prompt_that_cannot_fit_is_refused_naming_the_fix(llm: Any, decoder: BatchedDecoder) -> None:
    huge = DecodeRequest(prompt=[1] * 4090, max_tokens=40, temperature=0.8, top_p=0.95, repeat_penalty=1.1)
    with pytest.raises(DecodeError, match="does not fit the context of 4096 tokens"):
        decoder.complete(huge)


def test_a_closed_decoder_refuses_new_work(llm: Any) -> None:
    d = BatchedDecoder(llm, sequences=2, n_ctx=1024, n_threads=2)
    d.close()
    with pytest.raises(DecodeError, match="closed"):
        d.complete(request(llm, LABELS[0], seed=1))


def test_a_full_cache_drops_what_idle_sequences_keep(llm: Any) -> None:
    d = BatchedDecoder(llm, sequences=2, n_ctx=1024, n_threads=2)
    try:
        first = " ".join(f"apple{i}" for i in range(200))  # about 600 tokens each, two do not fit in 1024
        second = " ".join(f"river{i}" for i in range(200))
        a = d.complete(request(llm, first, max_tokens=4, stop=(), seed=1))
        b = d.complete(request(llm, second, max_tokens=4, stop=(), seed=1))
        assert a.completion_tokens == b.completion_tokens == 4
        assert len(tokens(llm, first)) + len(tokens(llm, second)) > 1024
        assert d.evictions == 1  # the second did not fit beside the first sequence's kept cache
    finally:
        d.close()
