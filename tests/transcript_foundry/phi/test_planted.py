"""Planted identifiers (a plan's facts) found where a text still says them, written or spoken."""

from __future__ import annotations

import pytest

from transcript_foundry.phi.planted import PlantedRecall, planted_mentions

FACTS = {
    "person_name": "Priya Patel",
    "member_id": "EVH-48213907",
    "date_of_birth": "March 4, 1961",
    "phone_number": "(415) 555-0142",
    "street_address": "4821 Maple Street",
}


@pytest.mark.parametrize(
    ("text", "kind", "form"),
    [
        ("My member ID is EVH 4821-3907.", "member_id", "written"),
        ("It's four eight two one, three nine oh seven... sorry, E V H four eight two one three nine zero seven.", "member_id", "spoken"),
        ("Call me back at four one five, five five five, oh one four two.", "phone_number", "spoken"),
        ("I was born March 4th, 1961.", "date_of_birth", "written"),
        ("Born 3/4 in 1961.", "date_of_birth", "written"),
        ("This is Priya.", "person_name", "written"),
        ("Ship it to 4821 Maple Street please.", "street_address", "written"),
    ],
)  # fmt: skip
def test_a_planted_value_is_found_in_each_form(text: str, kind: str, form: str) -> None:
    found = planted_mentions(FACTS, [text])
    assert (kind, form) in {(m.kind, m.form) for m in found}


def test_other_values_are_not_taken_for_planted_ones() -> None:
    text = "My member ID is EVH-48213970, I'm Priyanka, born in 1962, at 4812 Maple Street."
    assert planted_mentions(FACTS, [text]) == []


def test_recall_counts_what_scrubbing_left() -> None:
    raw = {"id": "c1", "turns": [{"text": "I'm Priya Patel, member ID EVH-48213907."}, {"text": "Thanks."}]}
    half = {"id": "c1", "turns": [{"text": "I'm Dana Ruiz, member ID EVH-48213907."}, {"text": "Thanks."}]}
    recall = PlantedRecall()
    recall.add(FACTS, raw, half)
    assert recall.said == {"person_name/written": 1, "member_id/written": 1}
    assert recall.survived == {"member_id/written": 1}
    assert recall.recall() == 0.5
    assert recall.survivors == [{"id": "c1", "turn": 0, "kind": "member_id", "form": "written"}]
