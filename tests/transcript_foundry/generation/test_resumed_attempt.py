"""A conversation whose attempt gives up at one turn resumes there on the next attempt (real embedded model).

Fault injection: the real llama.cpp backend, except that the completions for one turn of the first attempt
are replaced by a word-for-word echo of the previous turn, so that turn stays degenerate and the attempt
fails. The retry must keep the turns written before it (all but the last), write on from there, and the
delivered transcript must carry what the failed attempt cost.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.prompt_log import PromptLog, PromptLogPool
from tests.support.simulated_node import NodeBehaviour, SimulatedNode
from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.contract.transcript import Turn
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.call_stats import CallStats
from transcript_foundry.generation.conversation_plan import ConversationPlan, PlannedTurn, plan_conversation
from transcript_foundry.generation.few_shot_prompt import planned_label
from transcript_foundry.generation.generator import GeneratorSettings, TranscriptGenerator
from transcript_foundry.generation.resumed_attempt import resume_plan
from transcript_foundry.llm.backend import Completion, LLMBackend, LLMCallError, SamplingParams

STUCK_TURN = 5  # 0-based index of the turn that stays degenerate in the first attempt


def _plan(pack: DomainPack) -> ConversationPlan:
    spec = JobSpec(count=1, domain=pack.name, emotional_tone="confused", exchanges=(8, 8), seed=5)
    return plan_conversation(spec, pack, "rresume", 5, 0)


class EchoOnceAtTurn(PromptLog):
    """The real backend; the first ``times`` completions of one turn echo the previous turn instead."""

    def __init__(self, inner: LLMBackend, label: str, times: int):
        super().__init__(inner)
        self.label, self.left = label, times
        self.echoed: list[int] = []  # indices (in prompts) of the completions replaced by an echo

    def complete(self, prompt: str, params: SamplingParams) -> Completion:
        real = super().complete(prompt, params)
        if self.left and prompt.endswith(self.label):
            self.left -= 1
            previous = prompt.rsplit("\n", 2)[-2].split(":", 1)[1]  # the last written turn, as written
            self.echoed.append(len(self.prompts) - 1)
            return Completion(**{**real.__dict__, "text": previous})
        return real


class FaultyPool(PromptLogPool):
    label: str = ""
    times: int = 3

    def wrap(self, backend: LLMBackend) -> PromptLog:
        return EchoOnceAtTurn(backend, self.label, self.times)


def test_resume_keeps_all_written_turns_but_the_last(packs: dict[str, DomainPack]) -> None:
    plan = _plan(packs["healthcare"])
    written = [
        Turn(speaker=t.speaker, text=f"turn {i} text", beat=t.beat) for i, t in enumerate(plan.turns[:4])
    ]
    resumed = resume_plan(plan, written)
    assert [t.keep_text for t in resumed.turns[:3]] == ["turn 0 text", "turn 1 text", "turn 2 text"]
    assert all(t.keep_text is None for t in resumed.turns[3:])
    assert [t.beat for t in resumed.turns] == [t.beat for t in plan.turns]
    assert resume_plan(plan, written[:1]) == plan  # nothing worth keeping: a fresh start
    swapped = [written[1], written[0], written[2]]  # does not line up with the plan's speakers
    assert resume_plan(plan, swapped) == plan


@pytest.mark.slow
def test_a_failed_attempt_resumes_at_the_stuck_turn(
    embedded_model_path: object, packs: dict[str, DomainPack]
) -> None:
    pack = packs["healthcare"]
    plan = _plan(pack)
    stuck: PlannedTurn = plan.turns[STUCK_TURN]
    pool = FaultyPool(label=planned_label(stuck, plan.emotional_tone), times=3)
    stats = CallStats()
    generator = TranscriptGenerator(pool, pack, settings=GeneratorSettings(max_attempts=2), stats=stats)
    try:
        [outcome] = generator.generate([plan], exemplar_seed=1)
        backend = pool.candidates()[0]
    finally:
        pool.close()
    assert isinstance(backend, EchoOnceAtTurn) and backend.left == 0
    assert outcome.ok and outcome.attempts == 2, outcome.failures
    assert "word for word" in outcome.failures[0] and f"turn {STUCK_TURN + 1} " in outcome.failures[0]

    # The first attempt wrote turns 0..STUCK_TURN-1; the second kept all of them but the last, so its first
    # prompt ends at the label of turn STUCK_TURN-1 (and nothing before it was asked again).
    stuck_at = backend.echoed[-1]
    assert len(backend.echoed) == 3  # the turn's three samples, all degenerate
    resumed = backend.prompts[stuck_at + 1]
    assert resumed.endswith(planned_label(plan.turns[STUCK_TURN - 1], plan.emotional_tone))
    first_attempt = backend.prompts[: stuck_at + 1]
    assert len(backend.prompts) - len(first_attempt) < len(plan.turns)
    transcript = outcome.transcript
    assert transcript is not None and [t.speaker for t in transcript.turns] == [t.speaker for t in plan.turns]
    for i in range(STUCK_TURN - 1):
        assert f"{transcript.turns[i].text}\n" in resumed  # kept as the first attempt wrote it
    # Every token generated for the slot is charged to it, the failed attempt's included.
    assert transcript.generation.output_tokens == stats.output_tokens
    assert transcript.generation.llm_calls == stats.calls == len(backend.prompts)
    assert transcript.generation.text_tokens < transcript.generation.output_tokens


class RefusedOnceAtCall(PromptLog):
    """The real HTTP backend; call number ``at`` (0-based) fails as a dropped connection would."""

    def __init__(self, inner: LLMBackend, at: int):
        super().__init__(inner)
        self.at = at
        self.answers: list[str] = []  # the texts of the calls that were answered

    def complete(self, prompt: str, params: SamplingParams) -> Completion:
        if len(self.prompts) == self.at:
            self.prompts.append(prompt)
            raise LLMCallError("connection dropped (injected)", node_id=self.info.node_id)
        completion = super().complete(prompt, params)
        self.answers.append(completion.text)
        return completion


class DropOncePool(PromptLogPool):
    at: int = 4

    def wrap(self, backend: LLMBackend) -> PromptLog:
        return RefusedOnceAtCall(backend, self.at)


def test_a_transport_fault_keeps_every_turn_written_and_uses_no_attempt(
    packs: dict[str, DomainPack], tmp_path: Path
) -> None:
    """max_attempts=1, a dropped connection at the fifth call: the slot is still delivered, its retry keeps
    the four turns written before the fault and asks for none of them again."""
    pack = packs["healthcare"]
    plan = _plan(pack)
    with SimulatedNode(NodeBehaviour(slots=1, reply="chatter")) as server:
        nodes = tmp_path / "nodes.yaml"
        entry = {"id": "sim", "backend": "openai_compatible", "url": server.url, "model": "sim"}
        nodes.write_text(yaml.safe_dump({"nodes": [{**entry, "prompt_style": "completion"}]}))
        pool = DropOncePool(nodes_file=str(nodes), at=4)
        stats = CallStats()
        generator = TranscriptGenerator(pool, pack, settings=GeneratorSettings(max_attempts=1), stats=stats)
        try:
            [outcome] = generator.generate([plan], exemplar_seed=1)
            backend = pool.backend("sim")
        finally:
            pool.close()
    assert isinstance(backend, RefusedOnceAtCall)
    assert outcome.ok, outcome.failures
    assert len(outcome.failures) == 1 and "connection dropped" in outcome.failures[0]
    transcript = outcome.transcript
    assert transcript is not None and len(transcript.turns) == len(plan.turns)
    # The retry asks the failed prompt again, word for word: every turn written before the fault is in it as
    # it was. A prompt carries the turns written so far, so with re-samples of a turn collapsed (they repeat
    # their prompt), no prompt comes twice: nothing was written again from an earlier turn.
    prompts = backend.prompts
    assert prompts[5] == prompts[4]
    collapsed = [p for i, p in enumerate(prompts) if i == 0 or p != prompts[i - 1]]
    assert len(set(collapsed)) == len(collapsed)
    assert len(collapsed) == len(plan.turns)
    assert transcript.generation.llm_calls == len(backend.answers) == stats.calls
