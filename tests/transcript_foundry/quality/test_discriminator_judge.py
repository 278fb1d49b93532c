"""The LLM judge against real servers on loopback (llama-cpp-python's server on the embedded model, through
the real ``openai`` client), and what the discriminator does when the judge's answer is unusable."""

from __future__ import annotations

import pytest

from tests.support.llm_server import FaultServer
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.llm.openai_backend import OpenAICompatibleBackend
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.quality.degradations import exemplar_transcript
from transcript_foundry.quality.discriminator import Discriminator, DiscriminatorSettings
from transcript_foundry.quality.llm_judge import DIMENSIONS, JudgeAnswer, LLMJudge, judge_schema

BOUNDS = (4, 40)


def _backend(url: str, style: str, structured: str = "json_object_schema") -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(
        NodeSpec(
            id="judge",
            backend="openai_compatible",
            url=url,
            model="gemma",
            prompt_style=style,  # type: ignore[arg-type]
            structured_output=structured,  # type: ignore[arg-type]
            timeout_s=300,
        )
    )


def test_the_schema_asks_for_every_dimension_and_a_bounded_critique() -> None:
    schema = judge_schema()
    assert set(schema["required"]) == {*DIMENSIONS, "critique", "weak_turns"}  # type: ignore[index]
    with pytest.raises(ValueError):
        JudgeAnswer.model_validate({**dict.fromkeys(DIMENSIONS, 6), "critique": "x"})


@pytest.mark.slow
def test_chat_judge_gives_schema_valid_scores_that_join_the_model_free_ones(
    llama_server_url: str, packs: dict[str, DomainPack]
) -> None:
    pack = packs["healthcare"]
    transcript = exemplar_transcript(pack, 1)
    judge = LLMJudge(_backend(llama_server_url, "chat_json"), packs)
    discriminator = Discriminator(pack, BOUNDS, 0.85, DiscriminatorSettings(judge_weight=0.5), judge)
    report = discriminator.score(transcript)  # one judge call, the answer joined with the model-free scores
    verdict = report.judge or {}
    assert verdict["outcome"] == "ok", verdict["detail"]
    assert verdict["mode"] == "chat_json" and verdict["node_id"] == "judge"
    judged = verdict["scores"]
    assert isinstance(judged, dict) and set(judged) == set(DIMENSIONS)
    assert all(0.0 <= v <= 1.0 for v in judged.values())
    assert all(1 <= r <= 5 for r in verdict["ratings"].values())  # type: ignore[union-attr]
    assert 0 < len(str(verdict["critique"])) <= 240

    without_judge = Discriminator(pack, BOUNDS, 0.85).score(transcript)  # model-free checks + coherence
    assert report.scorer == "model_free+judge"
    for d in DIMENSIONS:
        assert report.scores[d] == pytest.approx(0.5 * without_judge.scores[d] + 0.5 * judged[d], abs=1e-3)
    assert discriminator.judge_outcomes == {"ok": 1}


@pytest.mark.slow
def test_a_cut_off_judge_answer_is_recorded_and_the_model_free_scores_stand(
    llama_server_url: str, packs: dict[str, DomainPack]
) -> None:
    pack = packs["retail"]
    transcript = exemplar_transcript(pack, 0)
    judge = LLMJudge(_backend(llama_server_url, "chat_json"), packs, max_tokens=6)
    discriminator = Discriminator(pack, BOUNDS, 0.85, DiscriminatorSettings(), judge)
    report = discriminator.score(transcript)
    assert report.judge and report.judge["outcome"] == "unparseable"
    assert "cut off at the token limit" in str(report.judge["detail"])
    assert report.scorer == "model_free"
    assert report.scores == Discriminator(pack, BOUNDS, 0.85).score(transcript).scores
    assert any("judge unparseable" in r and "model-free scores used" in r for r in report.reasons)
    assert discriminator.judge_outcomes == {"unparseable": 1}


@pytest.mark.slow
def test_base_model_judge_answers_one_digit_per_dimension(
    llama_server_url: str, packs: dict[str, DomainPack]
) -> None:
    pack = packs["telecom"]
    judge = LLMJudge(_backend(llama_server_url, "completion"), packs)
    verdict = judge.judge(exemplar_transcript(pack, 0), pack)
    assert verdict.mode == "completion"
    # A base model may or may not write a digit: either way the outcome is recorded, never raised.
    assert verdict.outcome in ("ok", "unparseable"), verdict.detail
    if verdict.outcome == "ok":
        assert verdict.ratings and set(verdict.ratings) == set(DIMENSIONS)
        assert verdict.output_tokens <= 2 * len(DIMENSIONS)
    else:
        assert "expected a digit 1-5" in verdict.detail
    prefix = judge.few_shot_prefix(pack)
    assert "Domain: telecom" not in prefix  # the examples come from another pack than the judged call


def test_a_garbage_answering_judge_is_a_recorded_call_failure(
    fault_server: FaultServer, packs: dict[str, DomainPack]
) -> None:
    pack = packs["healthcare"]
    transcript = exemplar_transcript(pack, 2)
    for style in ("chat_json", "completion"):
        judge = LLMJudge(_backend(fault_server.url("garbage"), style), packs)
        discriminator = Discriminator(pack, BOUNDS, 0.85, DiscriminatorSettings(), judge)
        report = discriminator.score(transcript)
        assert report.judge and report.judge["outcome"] == "call_failed"
        assert "not an OpenAI response" in str(report.judge["detail"])
        assert report.scorer == "model_free" and report.passed
