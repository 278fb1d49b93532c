"""PHI recall and ordinary-word retention on a hand-built set of transcripts with planted identifiers.

tests/fixtures/phi/planted_transcripts.jsonl: 33 calls (healthcare, retail, telecom) where every planted
identifier is marked inline as {{KIND:value}}, written as a caller would say it, in digits and in words.
Healthcare calls are scrubbed in HIPAA mode, the others in PII mode (the default by domain).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from transcript_foundry.phi.entity_kinds import KINDS, MODE_KINDS
from transcript_foundry.phi.evaluation import PlantedSpan, Score, load_planted, score_record
from transcript_foundry.phi.scrubber import PhiScrubber, protected_phrases

PLANTED = Path(__file__).resolve().parents[2] / "fixtures" / "phi" / "planted_transcripts.jsonl"
NUMBER_KINDS = {
    "PHONE",
    "SSN",
    "CARD",
    "MRN",
    "MEMBER_ID",
    "ACCOUNT",
    "DEVICE",
    "ZIP",
    "IP",
    "AGE",
    "DOB",
    "DATE",
}
NUMBER_KINDS |= {"LICENSE", "PLATE", "ID", "ADDRESS", "EMAIL", "URL"}
SPOKEN = re.compile(
    r"\b(?:dot|one|two|three|four|five|six|seven|eight|nine|oh|zero|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|third|fourth|fifth|eighteenth|first)\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def planted() -> list[tuple[dict[str, Any], list[PlantedSpan]]]:
    return load_planted(PLANTED)


def measure(scrubber: PhiScrubber, planted: list[tuple[dict[str, Any], list[PlantedSpan]]]) -> Score:
    total = Score()
    for record, spans in planted:
        texts = [t["text"] for t in record["turns"]]
        found = scrubber.detect(texts, scrubber.mode_for(record), protected_phrases(record))
        total.add(score_record(record, spans, [[(d.start, d.end) for d in turn] for turn in found]))
    return total


def test_the_set_is_honest(planted: list[tuple[dict[str, Any], list[PlantedSpan]]]) -> None:
    """30+ calls over the three domains, every kind planted, number kinds both in digits and in words."""
    assert len(planted) >= 30
    assert {r["domain"] for r, _ in planted} == {"healthcare", "retail", "telecom"}
    kinds = {p.kind for _, spans in planted for p in spans}
    assert kinds == set(KINDS)
    forms: dict[str, set[str]] = {}
    for record, spans in planted:
        for p in spans:
            value = record["turns"][p.turn]["text"][p.start : p.end]
            forms.setdefault(p.kind, set()).add("spoken" if SPOKEN.search(value) else "digits")
            # Planted in a sentence, never as a bare token of its own.
            assert len(record["turns"][p.turn]["text"].split()) > len(value.split())
            # PII-mode calls only plant what PII mode covers.
            if record["domain"] != "healthcare":
                assert p.kind in MODE_KINDS["pii"], (record["id"], p.kind)
    for kind in NUMBER_KINDS:
        assert forms[kind] == {"spoken", "digits"}, (kind, forms[kind])


def test_recall_and_retention(planted: list[tuple[dict[str, Any], list[PlantedSpan]]]) -> None:
    score = measure(PhiScrubber(), planted)
    print(
        f"\nrecall {score.recall:.4f} ({score.caught}/{score.planted}), "
        f"retention {score.retention:.4f} ({score.kept}/{score.words}); lost: {score.lost_words.most_common(10)}"
    )
    assert score.recall >= 0.99, score.misses
    assert score.retention >= 0.90, score.lost_words.most_common(20)
    for kind in KINDS:
        assert score.caught_by_kind[kind] >= 0.9 * score.planted_by_kind[kind], (kind, score.misses)


def test_pii_mode_keeps_what_only_hipaa_removes() -> None:
    """Outside healthcare an appointment date, an age over 89 or a chart number is not PII."""
    record = {
        "id": "pii-1",
        "domain": "retail",
        "agent_name": "Sofia",
        "company": "Brightcart",
        "turns": [
            {"speaker": "AGENT", "text": "Brightcart, this is Sofia. How can I help?"},
            {
                "speaker": "CUSTOMER",
                "text": "My grandmother is 92 years old and the delivery is set for March 3rd. "
                "I'm Dana Whitfield, born July 9, 1948, and my email is dana.w@example.org.",
            },
        ],
    }
    scrubber = PhiScrubber()
    pii = scrubber.scrub_record(record)
    kinds = {p["kind"] for p in pii["phi"]}
    assert kinds == {"NAME", "DOB", "EMAIL"}
    assert "92 years old" in pii["turns"][1]["text"] and "March 3rd" in pii["turns"][1]["text"]
    hipaa = PhiScrubber(mode="hipaa").scrub_record(record)
    assert {"AGE", "DATE", "NAME", "DOB", "EMAIL"} <= {p["kind"] for p in hipaa["phi"]}
    assert "92 years old" not in hipaa["turns"][1]["text"] and "March 3rd" not in hipaa["turns"][1]["text"]
