"""CallView.from_record: any output-contract record reads; a malformed one names its bad field."""

from __future__ import annotations

from typing import Any

import pytest

from transcript_foundry.quality.coherence.call_view import CallRecordError, CallView


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "call-1",
        "turns": [
            {"speaker": "AGENT", "text": "Harborstone Bank, this is Daniel. How can I help?"},
            {"speaker": "CUSTOMER", "text": "Hi Daniel, my card was declined."},
        ],
    }
    base.update(changes)
    return base


def test_minimal_record_reads_and_extra_fields_are_ignored() -> None:
    view = CallView.from_record(
        record(domain="banking", company="Harborstone Bank", quality={"overall": 1}, generation={"x": 1})
    )
    assert view.id == "call-1"
    assert view.speakers == ("AGENT", "CUSTOMER")
    assert view.domain == "banking" and view.company == "Harborstone Bank"
    assert view.agent_name is None and dict(view.facts) == {}


def test_integer_ids_and_speaker_aliases_read() -> None:
    rec = record(id=7, turns=[{"speaker": "assistant", "text": "Hello."}, {"speaker": "user", "text": "Hi."}])
    view = CallView.from_record(rec)
    assert view.id == "7"
    assert view.turns == (("AGENT", "Hello."), ("CUSTOMER", "Hi."))


def test_speaker_case_and_spaces_are_normalised() -> None:
    rec = record(turns=[{"speaker": " agent ", "text": " Hello. "}, {"speaker": "customer", "text": "Hi."}])
    assert CallView.from_record(rec).turns == (("AGENT", "Hello."), ("CUSTOMER", "Hi."))


@pytest.mark.parametrize(
    ("rec", "field"),
    [
        (["not", "an", "object"], "record:"),
        ({"turns": []}, "id: missing"),
        (record(id=True), "id:"),
        (record(id="  "), "id:"),
        ({"id": "x"}, "turns: missing"),
        (record(turns="AGENT: hi"), "turns:"),
        (record(turns=[{"speaker": "AGENT", "text": "hi"}, "CUSTOMER: hello"]), "turns[1]:"),
        (record(turns=[{"speaker": "AGENT", "text": "hi"}, {"text": "hello"}]), "turns[1].speaker: missing"),
        (
            record(turns=[{"speaker": "AGENT", "text": "hi"}, {"speaker": "BOT", "text": "x"}]),
            "turns[1].speaker:",
        ),
        (
            record(turns=[{"speaker": "AGENT", "text": "hi"}, {"speaker": "CUSTOMER", "text": "  "}]),
            "turns[1].text:",
        ),
        (record(company=12), "company:"),
        (record(facts=["member_id"]), "facts:"),
    ],
)
def test_malformed_record_names_the_field(rec: Any, field: str) -> None:
    with pytest.raises(CallRecordError) as err:
        CallView.from_record(rec)
    assert str(err.value).startswith(field)


def test_facts_are_read_and_frozen() -> None:
    view = CallView.from_record(record(facts={"member_id": "BP48213907", "copay": 50}))
    assert dict(view.facts) == {"member_id": "BP48213907", "copay": "50"}
    with pytest.raises(TypeError):
        view.facts["member_id"] = "other"  # type: ignore[index]
