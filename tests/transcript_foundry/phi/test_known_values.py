"""The scrubber's second net: a value the plan planted is replaced wherever it is said, in any form the
planted-identifier check counts (tests/transcript_foundry/phi/test_planted.py), including the forms the
recognizers miss. The check after scrubbing is the same one the export's blocking check runs."""

from typing import Any

import pytest

from transcript_foundry.phi.known_values import _digit_spans, known_value_spans
from transcript_foundry.phi.planted import planted_mentions
from transcript_foundry.phi.scrubber import PhiScrubber

FACTS = {
    "person_name": "Marisol Okafor",
    "member_id": "KQW-48213907",
    "phone_number": "(415) 555-0142",
    "date_of_birth": "March 4, 1987",
    "street_address": "1094 Cedar Lane",
    "email_address": "marisol.okafor@example.com",
    "account_number": "88123409",
}


@pytest.fixture(scope="module")
def scrubber() -> PhiScrubber:
    return PhiScrubber()


def record(*texts: str, domain: str = "healthcare") -> dict[str, Any]:
    speakers = ["agent", "customer"]
    return {
        "id": "t-planted",
        "domain": domain,
        "turns": [{"speaker": speakers[i % 2], "text": t} for i, t in enumerate(texts)],
    }


def test_digit_spans_join_separators_and_split_runs_at_words() -> None:
    text = "It's 415 555 ... 0142, and the other one, 415, let me see, 5550142."
    spans = _digit_spans(text, "4155550142")
    assert [text[a:b] for a, b in spans] == ["415 555 ... 0142", "415", "5550142"]
    assert _digit_spans("nothing here 1234", "4155550142") == []


def test_every_planted_kind_is_found_by_value() -> None:
    text = (
        "Member KQW 4821 3907, phone 415.555.0142, born 3/4/1987, at 1094 Cedar, marisol.okafor@example.com"
    )
    kinds = {kind for _, _, kind in known_value_spans(text, FACTS)}
    assert kinds == {"MEMBER_ID", "PHONE", "DOB", "ADDRESS", "EMAIL"}


@pytest.mark.parametrize(
    "text",
    [
        "Sure, my member ID is K Q W four eight two one three nine oh seven.",
        "The number is four one five, five five five, oh one four two.",
        "I live at 1094 Cedar, the blue house.",
        "My birthday? The 4th of March, 1987.",
        "Call me back at 415 555 0142 please.",
        "Account eight eight one two three four oh nine.",
        "It's four one five... sorry, five five five, zero one four two.",
    ],
)
def test_a_planted_value_does_not_survive_scrubbing(scrubber: PhiScrubber, text: str) -> None:
    raw = record("Can I have your details?", text)
    assert planted_mentions(FACTS, [t["text"] for t in raw["turns"]]), "the check must see the raw value"
    # In PII mode too (retail): the plan said it is an identifier, so it goes whatever the mode.
    for domain in ("healthcare", "retail"):
        raw["domain"] = domain
        scrubbed = scrubber.scrub_record(raw, planted=FACTS)
        survivors = planted_mentions(FACTS, [t["text"] for t in scrubbed["turns"]])
        assert survivors == [], (domain, scrubbed["turns"][1]["text"])
