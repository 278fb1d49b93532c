from __future__ import annotations

import pytest

from transcript_foundry.generation.turn_text import DegenerateTurn, clean_turn


def test_keeps_a_normal_turn() -> None:
    assert clean_turn(" Sure, it's H48213907.", truncated=False, previous=[]) == "Sure, it's H48213907."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Thanks. (Customer gives the ID) Customer: It's 123", "Thanks."),
        ("Okay, one moment. Agent: Anything else?", "Okay, one moment."),
        ("I can help with that.\n(Agent asks) Agent: hi", "I can help with that."),
        ('"Of course, let me check."', "Of course, let me check."),
        ("Yes please ### Call 4", "Yes please"),
    ],
)
def test_cuts_label_leaks(raw: str, expected: str) -> None:
    assert clean_turn(raw, truncated=False, previous=[]) == expected


def test_truncated_turn_is_cut_to_its_last_sentence() -> None:
    text = "I see the charge. It was posted twice on the fourth and I will"
    assert clean_turn(text, truncated=True, previous=[]) == "I see the charge."


@pytest.mark.parametrize(
    ("raw", "truncated", "previous", "why"),
    [
        ("", False, [], "no words"),
        ("  ...  ", False, [], "no words"),
        ("and then the the the and then", True, [], "without finishing a sentence"),
        ("Thank you for calling.", False, ["thank you for calling"], "repeats an earlier turn"),
        ("no no no no no no no no no no", False, [], "loops on the same words"),
        (" ".join(["word"] * 30 + [f"w{i}" for i in range(70)]), False, [], "too long"),
    ],
)
def test_degenerate_turns_are_refused_with_a_reason(
    raw: str, truncated: bool, previous: list[str], why: str
) -> None:
    with pytest.raises(DegenerateTurn, match=why):
        clean_turn(raw, truncated=truncated, previous=previous)


def test_near_repeat_of_an_earlier_turn_is_refused() -> None:
    earlier = ["I see the claim was submitted twice so the copay was billed two times."]
    with pytest.raises(DegenerateTurn, match="nearly repeats"):
        clean_turn(
            "I see the claim was submitted twice, so the copay was billed two times now.",
            truncated=False,
            previous=earlier,
        )


def test_greeting_and_closing_beats_must_do_their_job() -> None:
    assert clean_turn(
        "Good morning, Evergreen Health, this is Maria.", truncated=False, previous=[], act="greet"
    )
    with pytest.raises(DegenerateTurn, match="greeting"):
        clean_turn("Your member ID, please.", truncated=False, previous=[], act="greet")
    assert clean_turn("Thanks so much, bye now.", truncated=False, previous=[], act="close")
    with pytest.raises(DegenerateTurn, match="closing"):
        clean_turn("The refund posts in five days.", truncated=False, previous=[], act="close")


def test_echoing_a_long_run_of_an_earlier_turn_is_refused() -> None:
    earlier = ["The claim is pending because the billing office has not been able to process it yet."]
    with pytest.raises(DegenerateTurn, match="echoes eight or more words"):
        clean_turn(
            "Okay, so the billing office has not been able to process it yet, right?",
            truncated=False,
            previous=earlier,
        )
    assert clean_turn(
        "Thank you for calling Evergreen Health Plan, goodbye.",
        truncated=False,
        previous=["Thank you for calling Evergreen Health Plan, this is Maria."],
    )
