"""The critique becomes something a generator can follow: beat guidance on weak turns, feedback for chat."""

from __future__ import annotations

from transcript_foundry.contract.job_spec import JobSpec
from transcript_foundry.contract.transcript import GenerationInfo, Transcript, Turn
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.generation.conversation_plan import (
    ConversationPlan,
    plan_conversation,
    planned_transcript,
)
from transcript_foundry.generation.few_shot_prompt import planned_label
from transcript_foundry.generation.json_batch import build_messages
from transcript_foundry.quality.critique import regenerated_turns, revise_plan
from transcript_foundry.quality.feedback_loop import reason_key, with_earlier_cost
from transcript_foundry.quality.gate import assess


def _plan(pack: DomainPack, tone: str = "frustrated") -> ConversationPlan:
    spec = JobSpec(count=1, domain=pack.name, emotional_tone=tone, exchanges=(8, 8))  # type: ignore[arg-type]
    return plan_conversation(spec, pack, "rtest", 11, 0)


def _bland_draft(plan: ConversationPlan) -> Transcript:
    """A draft that follows the plan but says nothing domain-specific, in no mood, and loops once."""
    texts = [
        "Hello, this is the help line.",
        "I have a question about something on my side.",
        "Okay, can you tell me a bit more about it?",
        "It is the thing I mentioned, it does not look right to me.",
        "Okay, can you tell me a bit more about it please?",
        "Sure, it is the one from last week that I told you about.",
        "Alright, I have made a note of it for you now.",
        "Okay.",
    ]
    turns = [
        Turn(speaker=p.speaker, text=t, beat=p.beat, act=p.act)
        for p, t in zip(plan.turns, texts, strict=True)
    ]
    return planned_transcript(
        plan, turns, GenerationInfo(node_id="test", model="none", strategy="turn_by_turn")
    )


def test_weak_turns_get_guidance_and_the_rest_is_kept(packs: dict[str, DomainPack]) -> None:
    pack = packs["healthcare"]
    plan = _plan(pack)
    draft = _bland_draft(plan)
    report = assess(draft, pack, (8, 8), 0.85)
    assert not report.passed
    kinds = {i.kind for i in report.issues}
    assert {"loop", "few_terms", "few_tone_cues", "no_closing"} <= kinds, kinds

    revised = revise_plan(plan, report, draft)
    weak = [i for i, t in enumerate(revised.turns) if t.guidance]
    kept = [i for i, t in enumerate(revised.turns) if t.keep_text is not None]
    assert weak and kept and set(weak).isdisjoint(kept)
    assert set(weak) | set(kept) == set(range(len(plan.turns)))
    assert regenerated_turns(revised) == len(weak)
    assert all(revised.turns[i].keep_text == draft.turns[i].text for i in kept)
    assert 4 in weak  # the looping turn is rewritten ...
    assert "says something new" in (revised.turns[4].guidance or "")
    assert "goodbye" in (revised.turns[-1].guidance or "")  # ... and the missing closing
    guidance = " ".join(t.guidance or "" for t in revised.turns)
    assert "using the words '" in guidance and "sounding frustrated" in guidance
    # The guidance is in the beat label the base model continues from; the plan itself is unchanged.
    label = planned_label(revised.turns[weak[0]], revised.emotional_tone)
    assert revised.turns[weak[0]].guidance in label and label.endswith(":")
    assert plan.turns[weak[0]].guidance is None and plan.feedback is None
    # For chat models the critique goes into the JSON-batch prompt.
    assert (
        revised.feedback and "Fix: " in revised.feedback and "turn 5 says something new" in revised.feedback
    )
    prompt = build_messages(pack, [revised])[1]["content"]
    assert "A reviewer rejected the previous draft" in prompt and "says something new" in prompt
    assert f'(keep as: "{draft.turns[kept[0]].text}")' in prompt


def test_a_draft_that_does_not_line_up_is_written_again_whole(packs: dict[str, DomainPack]) -> None:
    pack = packs["retail"]
    plan = _plan(pack, "neutral")
    draft = _bland_draft(plan)
    short = draft.model_copy(update={"turns": draft.turns[:6]})
    revised = revise_plan(plan, assess(short, pack, (8, 8), 0.85), short)
    assert all(t.keep_text is None for t in revised.turns)
    assert regenerated_turns(revised) == len(plan.turns)


def test_reason_keys_group_equal_causes() -> None:
    assert reason_key("only 1 domain term(s) from the retail pack") == reason_key(
        "only 2 domain term(s) from the retail pack"
    )
    assert reason_key("overall 0.71 below the threshold 0.85") == "overall N"
    assert (
        reason_key("a turn nearly repeats an earlier one (loop: turn 5)")
        == "a turn nearly repeats an earlier one"
    )


def test_a_regenerated_draft_carries_the_cost_of_the_one_it_replaces(packs: dict[str, DomainPack]) -> None:
    plan = _plan(packs["telecom"])
    first = _bland_draft(plan)
    first.generation = first.generation.model_copy(
        update={"output_tokens": 300, "text_tokens": 280, "llm_calls": 9, "seconds": 4.25}
    )
    second = _bland_draft(plan)
    second.generation = second.generation.model_copy(
        update={"output_tokens": 40, "text_tokens": 310, "llm_calls": 2, "seconds": 0.5, "round": 1}
    )
    merged = with_earlier_cost(second, first).generation
    assert (merged.output_tokens, merged.llm_calls, merged.seconds) == (340, 11, 4.75)
    assert merged.text_tokens == 310 and merged.round == 1  # what the new draft holds, and its round
    assert second.generation.output_tokens == 40  # the draft itself is not changed
