"""Contact Lens voice 1.1.0 export (also the Lex V2 chatbot designer's input): golden files, the
consistency rules on the real generated fixture records, the timing and sentiment models, validation.

Golden files: ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/transcript_foundry/formats/test_contact_lens.py`` rewrites
tests/golden/contact_lens/ from tests/fixtures/generated_sample.jsonl (default options) instead of
comparing; review the diff before committing it.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.support.golden_files import GOLDEN_ROOT, check_golden, sample_records
from transcript_foundry.formats.contact_lens import (
    NON_TALK_THRESHOLD_MS,
    SCHEMA_PATH,
    ContactLensOptions,
    contact_id,
    key_sentence,
    render,
    sentences,
)
from transcript_foundry.formats.contact_lens_checks import validate
from transcript_foundry.formats.export_file import ExportFile
from transcript_foundry.formats.timing_model import (
    TimingParams,
    overlaps,
    silences,
    talk_union_ms,
    turn_timings,
)
from transcript_foundry.formats.turn_sentiment import TurnSentiment, quarters, turn_sentiments, weighted_score

GOLDEN = GOLDEN_ROOT / "contact_lens"


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return sample_records()


def _docs(files: list[ExportFile]) -> list[dict[str, Any]]:
    return [json.loads(f.content) for f in files]


def _with_phi(record: dict[str, Any]) -> dict[str, Any]:
    """Fixture record 3 with PHI spans on turn 3 ("The member ID is CL-20598134, Dr. Nguyen.")."""
    scrubbed = copy.deepcopy(record)
    text = scrubbed["turns"][3]["text"]
    member, doctor = text.index("CL-20598134"), text.index("Dr. Nguyen")
    scrubbed["phi"] = [
        {"turn": 3, "start": doctor, "end": doctor + len("Dr. Nguyen"), "kind": "person_name"},
        {"turn": 3, "start": member, "end": member + len("CL-20598134"), "kind": "member_id"},
    ]
    return scrubbed


def _write(tmp_path: Path, files: list[ExportFile]) -> list[str]:
    for f in files:
        f.write(tmp_path)
    return [f.relative_path for f in files]


# --- golden files -------------------------------------------------------------------------------------


def test_golden_files(records: list[dict[str, Any]]) -> None:
    check_golden(render(records, ContactLensOptions()), GOLDEN)


def test_golden_files_are_valid() -> None:
    names = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.json"))
    assert len(names) == 4
    assert validate(GOLDEN, names) == []


def test_golden_files_start_with_the_lex_key_order() -> None:
    """The Lex chatbot designer's validator rejects a file whose top-level keys start otherwise."""
    lead = ["Participants", "Version", "ContentMetadata", "CustomerMetadata", "Transcript"]
    for path in sorted(GOLDEN.rglob("*.json")):
        keys = list(json.loads(path.read_text(encoding="utf-8")))
        assert keys[:5] == lead, path.name
        assert len(keys) > 5, "the other keys follow the five"


def test_validate_rejects_another_key_order(records: list[dict[str, Any]], tmp_path: Path) -> None:
    names = _write(tmp_path, render(records[:1]))
    path = tmp_path / names[0]
    doc = json.loads(path.read_text())
    reordered = {"Version": doc.pop("Version"), **doc}
    path.write_text(json.dumps(reordered))
    problems = validate(tmp_path, names)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{names[0]}: $: top-level keys must start with Participants, Version,")
    assert "found Version, Participants," in problems[0]


# --- exact values on the fixture ----------------------------------------------------------------------


def test_file_names_follow_the_contact_lens_key_convention(records: list[dict[str, Any]]) -> None:
    files = render(records)
    assert [f.relative_path for f in files] == [
        "Analysis/Voice/2026/01/05/9440da0f-155a-5214-a672-b142fd8e2460_analysis_2026-01-05T12-13-40Z.json",
        "Analysis/Voice/2026/01/05/20327e7f-c52c-5954-9c97-df43ccd455eb_analysis_2026-01-05T13-40-49Z.json",
        "Analysis/Voice/2026/01/05/18a53f97-4a26-5878-a86e-4657d3961387_analysis_2026-01-05T11-35-04Z.json",
        "Analysis/Voice/2026/01/05/c695c439-0eef-5236-9d88-b33d781fe0e6_analysis_2026-01-05T11-19-16Z.json",
    ]
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://transcript-foundry.local/formats/contact-lens")
    assert contact_id(records[0]["id"]) == str(uuid.uuid5(namespace, records[0]["id"]))


def test_first_record_exact_values(records: list[dict[str, Any]]) -> None:
    doc = _docs(render(records[:1]))[0]
    assert doc["Version"] == "1.1.0"
    assert doc["AccountId"] == "111122223333"
    assert doc["ContentMetadata"] == {"Output": "Raw", "RedactionTypes": ["PII"]}
    assert doc["CustomerMetadata"] == {
        "InputS3Uri": "s3://transcript-foundry-recordings/connect/CallRecordings/2026/01/05/"
        "9440da0f-155a-5214-a672-b142fd8e2460_20260105T1213_UTC.wav",
        "ContactId": "9440da0f-155a-5214-a672-b142fd8e2460",
        "InstanceId": "5d6f1b0e-3c2a-4e8b-9f71-2a4c6e8b0d13",
    }
    assert doc["Participants"] == [
        {"ParticipantId": "AGENT", "ParticipantRole": "AGENT"},
        {"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"},
    ]
    chars = doc["ConversationCharacteristics"]
    assert chars["TotalConversationDurationMillis"] == 108771
    assert chars["Sentiment"]["OverallSentiment"] == {"AGENT": 1.3, "CUSTOMER": -0.5}
    assert [q["Score"] for q in chars["Sentiment"]["SentimentByPeriod"]["QUARTER"]["CUSTOMER"]] == [
        -3.0,
        -2.5,
        -0.3,
        2.0,
    ]
    assert chars["TalkTime"] == {
        "TotalTimeMillis": 100193,
        "DetailsByParticipant": {"AGENT": {"TotalTimeMillis": 66562}, "CUSTOMER": {"TotalTimeMillis": 33631}},
    }
    assert chars["TalkSpeed"]["DetailsByParticipant"] == {
        "AGENT": {"AverageWordsPerMinute": 144},
        "CUSTOMER": {"AverageWordsPerMinute": 155},
    }
    transcript = doc["Transcript"]
    assert [t["Sentiment"] for t in transcript] == [
        "POSITIVE",  # agent greet
        "NEGATIVE",  # frustrated problem statement
        "NEUTRAL",
        "MIXED",  # information while the problem is still open
        "POSITIVE",  # agent offer
        "NEGATIVE",  # rejection
        "NEUTRAL",
        "POSITIVE",  # accepts the escalation: resolved from here on
        "NEUTRAL",
        "NEUTRAL",
        "POSITIVE",
        "POSITIVE",
    ]
    assert (transcript[0]["BeginOffsetMillis"], transcript[0]["EndOffsetMillis"]) == (0, 15729)
    assert transcript[1]["Content"] == records[0]["turns"][1]["text"]
    assert transcript[1]["IssuesDetected"] == [
        {"CharacterOffsets": {"BeginOffsetChar": 0, "EndOffsetChar": 20}, "Text": "I don't remember it."}
    ]
    outcome = transcript[4]["OutcomesDetected"][0]
    assert outcome["Text"].startswith("I'll contact the billing office")
    assert outcome["CharacterOffsets"]["BeginOffsetChar"] == len("Thank you, Marcus. ")
    assert doc["Categories"] == {
        "MatchedCategories": ["claim_status"],
        "MatchedDetails": {
            "claim_status": {"PointsOfInterest": [{"BeginOffsetMillis": 16154, "EndOffsetMillis": 17791}]}
        },
    }


def test_lookup_pause_shows_as_non_talk_time(records: list[dict[str, Any]]) -> None:
    chars = _docs(render(records[1:2]))[0]["ConversationCharacteristics"]
    assert chars["NonTalkTime"] == {
        "TotalTimeMillis": 4430,
        "Instances": [{"BeginOffsetMillis": 34407, "DurationMillis": 4430, "EndOffsetMillis": 38837}],
    }


# --- consistency rules on the real records ------------------------------------------------------------


def _assert_consistent(doc: dict[str, Any]) -> None:
    chars = doc["ConversationCharacteristics"]
    total = chars["TotalConversationDurationMillis"]
    items = doc["Transcript"]
    spans = [(t["BeginOffsetMillis"], t["EndOffsetMillis"]) for t in items]
    for k, (begin, end) in enumerate(spans):
        assert 0 <= begin < end <= total
        assert k == 0 or begin >= spans[k - 1][0]
        assert len(items[k]["LoudnessScore"]) == math.ceil((end - begin) / 1000)
    assert spans[0][0] == 0 and max(e for _, e in spans) == total
    for role in ("AGENT", "CUSTOMER"):
        periods = chars["Sentiment"]["SentimentByPeriod"]["QUARTER"][role]
        assert len(periods) == 4
        assert periods[0]["BeginOffsetMillis"] == 0 and periods[-1]["EndOffsetMillis"] == total
        assert all(periods[k]["EndOffsetMillis"] == periods[k + 1]["BeginOffsetMillis"] for k in range(3))
        assert all(-5 <= p["Score"] <= 5 for p in periods)
        assert -5 <= chars["Sentiment"]["OverallSentiment"][role] <= 5
        mine = [(t, s) for t, s in zip(items, spans, strict=True) if t["ParticipantId"] == role]
        talk = sum(e - b for _, (b, e) in mine)
        assert chars["TalkTime"]["DetailsByParticipant"][role]["TotalTimeMillis"] == talk
        words = sum(len(t["Content"].split()) for t, _ in mine)
        assert chars["TalkSpeed"]["DetailsByParticipant"][role]["AverageWordsPerMinute"] == round(
            words * 60000 / talk
        )
    # Overlapping speech counted once: talk time + every silence == the call.
    union = chars["TalkTime"]["TotalTimeMillis"]
    assert union <= total
    assert union <= sum(
        chars["TalkTime"]["DetailsByParticipant"][r]["TotalTimeMillis"] for r in ("AGENT", "CUSTOMER")
    )
    gaps = [(spans[k][0], max(e for _, e in spans[:k])) for k in range(1, len(spans))]
    silent = [(end, begin) for begin, end in gaps if begin > end]
    overlapped = sum(end - begin for begin, end in gaps if begin < end)
    assert union + sum(e - b for b, e in silent) == total
    assert union == sum(e - b for b, e in spans) - overlapped
    long_silences = [
        {"BeginOffsetMillis": b, "DurationMillis": e - b, "EndOffsetMillis": e}
        for b, e in silent
        if e - b >= NON_TALK_THRESHOLD_MS
    ]
    assert chars["NonTalkTime"]["Instances"] == long_silences
    assert chars["NonTalkTime"]["TotalTimeMillis"] == sum(i["DurationMillis"] for i in long_silences)
    listed = [i for v in chars["Interruptions"]["InterruptionsByInterrupter"].values() for i in v]
    assert chars["Interruptions"]["TotalCount"] == len(listed) == sum(1 for b, e in gaps if b < e)
    assert chars["Interruptions"]["TotalTimeMillis"] == sum(i["DurationMillis"] for i in listed) == overlapped


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_consistency_rules_hold_on_the_fixture(
    records: list[dict[str, Any]], seed: int, tmp_path: Path
) -> None:
    files = render(records, ContactLensOptions(seed=seed))
    for doc in _docs(files):
        _assert_consistent(doc)
    assert validate(tmp_path, _write(tmp_path, files)) == []


def test_seed_one_has_exact_interruptions(records: list[dict[str, Any]]) -> None:
    doc = _docs(render(records[:1], ContactLensOptions(seed=1)))[0]
    assert doc["ConversationCharacteristics"]["Interruptions"] == {
        "InterruptionsByInterrupter": {
            "CUSTOMER": [
                {"BeginOffsetMillis": 14055, "DurationMillis": 304, "EndOffsetMillis": 14359},
                {"BeginOffsetMillis": 94482, "DurationMillis": 537, "EndOffsetMillis": 95019},
            ]
        },
        "TotalCount": 2,
        "TotalTimeMillis": 841,
    }
    transcript = doc["Transcript"]
    # The customer's turns 1 and 11 start before the agent's turns 0 and 10 end.
    assert (transcript[1]["BeginOffsetMillis"], transcript[0]["EndOffsetMillis"]) == (14055, 14359)
    assert (transcript[11]["BeginOffsetMillis"], transcript[10]["EndOffsetMillis"]) == (94482, 95019)
    _assert_consistent(doc)


# --- Lex designer requirements ------------------------------------------------------------------------


def test_lex_designer_required_fields(records: list[dict[str, Any]]) -> None:
    for f, doc in zip(render(records), _docs(render(records)), strict=True):
        assert doc["Version"] == "1.1.0"
        assert doc["ContentMetadata"]["RedactionTypes"] == ["PII"]
        assert doc["ContentMetadata"]["Output"] in ("Raw", "Redacted")
        assert doc["CustomerMetadata"]["ContactId"]
        assert {p["ParticipantRole"] for p in doc["Participants"]} == {"AGENT", "CUSTOMER"}
        ids = [t["Id"] for t in doc["Transcript"]]
        assert len(set(ids)) == len(ids)
        assert all(t["Content"].strip() and t["ParticipantId"] for t in doc["Transcript"])
        assert doc["LanguageCode"] == "en-US"
        assert "2026-01-05" in f.relative_path.rsplit("/", 1)[-1]


# --- redaction ----------------------------------------------------------------------------------------


def test_record_with_phi_becomes_the_redacted_variant(records: list[dict[str, Any]], tmp_path: Path) -> None:
    scrubbed = _with_phi(records[3])
    files = render([scrubbed])
    assert files[0].relative_path == (
        "Analysis/Voice/Redacted/2026/01/05/"
        "c695c439-0eef-5236-9d88-b33d781fe0e6_analysis_redacted_2026-01-05T11-19-16Z.json"
    )
    doc = _docs(files)[0]
    assert doc["ContentMetadata"] == {
        "Output": "Redacted",
        "RedactionTypes": ["PII"],
        "RedactionTypesMetadata": {
            "PII": {"RedactionEntitiesRequested": ["MEMBER_ID", "PERSON_NAME"], "RedactionMaskMode": "PII"}
        },
    }
    item = doc["Transcript"][3]
    assert item["Content"] == "I'm on the form. The member ID is [PII], [PII]."
    stamps = item["Redaction"]["RedactedTimestamps"]
    assert len(stamps) == 2
    assert item["BeginOffsetMillis"] < stamps[0]["BeginOffsetMillis"] < stamps[0]["EndOffsetMillis"]
    assert stamps[0]["EndOffsetMillis"] <= stamps[1]["BeginOffsetMillis"] < stamps[1]["EndOffsetMillis"]
    assert stamps[1]["EndOffsetMillis"] <= item["EndOffsetMillis"]
    assert all("Redaction" not in t for k, t in enumerate(doc["Transcript"]) if k != 3)
    # Timing comes from the spoken (original) words, so raw and redacted twins line up.
    raw = _docs(render([scrubbed], ContactLensOptions(redacted=False)))[0]
    assert raw["ContentMetadata"]["Output"] == "Raw"
    assert raw["Transcript"][3]["Content"] == scrubbed["turns"][3]["text"]
    assert [t["EndOffsetMillis"] for t in raw["Transcript"]] == [
        t["EndOffsetMillis"] for t in doc["Transcript"]
    ]
    _assert_consistent(doc)
    assert validate(tmp_path, _write(tmp_path, files)) == []


def test_forced_redaction_without_phi(records: list[dict[str, Any]]) -> None:
    doc = _docs(render(records[:1], ContactLensOptions(redacted=True)))[0]
    assert doc["ContentMetadata"]["RedactionTypesMetadata"]["PII"]["RedactionEntitiesRequested"] == []
    assert all("Redaction" not in t for t in doc["Transcript"])


def test_phi_span_outside_the_turn_is_an_error(records: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(records[0])
    broken["phi"] = [{"turn": 1, "start": 5, "end": 500, "kind": "member_id"}]
    with pytest.raises(ValueError, match="outside turn 1"):
        render([broken])
    broken["phi"] = [{"turn": 12, "start": 0, "end": 4, "kind": "member_id"}]
    with pytest.raises(ValueError, match="turn 12, which does not exist"):
        render([broken])


# --- options and purity -------------------------------------------------------------------------------


def test_options_are_validated() -> None:
    with pytest.raises(ValidationError, match="12 digits"):
        ContactLensOptions(account_id="12345")
    with pytest.raises(ValidationError, match="time zone"):
        ContactLensOptions(base_time="2026-01-05T09:00:00")
    with pytest.raises(ValidationError):
        ContactLensOptions(instance_id="not-a-uuid")
    with pytest.raises(ValidationError):
        ContactLensOptions(colour="blue")
    assert (
        ContactLensOptions(base_time="2026-03-01T10:00:00+02:00").base_time.isoformat()
        == "2026-03-01T08:00:00+00:00"
    )


def test_options_change_the_output(records: list[dict[str, Any]]) -> None:
    moved = render(
        records[:1], ContactLensOptions(base_time="2027-06-30T00:00:00Z", account_id="999988887777")
    )
    assert moved[0].relative_path.startswith("Analysis/Voice/2027/06/30/")
    assert json.loads(moved[0].content)["AccountId"] == "999988887777"
    slow = _docs(render(records[:1], ContactLensOptions(agent_wpm=100, customer_wpm=100)))[0]
    assert slow["ConversationCharacteristics"]["TotalConversationDurationMillis"] > 108771


def test_render_is_deterministic_and_pure(records: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(records)
    assert render(records) == render(records)
    assert records == before
    assert render(records[::-1]) == render(records)[::-1]


# --- validation of broken files -----------------------------------------------------------------------


def test_validate_reports_file_and_field(records: list[dict[str, Any]], tmp_path: Path) -> None:
    files = render(records[:2])
    names = _write(tmp_path, files)
    broken_path = tmp_path / names[0]
    doc = json.loads(broken_path.read_text())
    del doc["CustomerMetadata"]["ContactId"]
    doc["Transcript"][3]["EndOffsetMillis"] = doc["Transcript"][3]["BeginOffsetMillis"] - 10
    doc["Transcript"][5]["Sentiment"] = "ANGRY"
    broken_path.write_text(json.dumps(doc))
    problems = validate(tmp_path, names)
    assert all(p.startswith(f"{names[0]}: ") for p in problems), problems
    assert f"{names[0]}: CustomerMetadata.ContactId: is a required property" in problems
    assert any(p.startswith(f"{names[0]}: Transcript[5].Sentiment: 'ANGRY' is not one of") for p in problems)
    assert any(
        p.startswith(f"{names[0]}: Transcript[3].EndOffsetMillis: ") and "not after BeginOffsetMillis" in p
        for p in problems
    )


def test_validate_catches_inconsistent_statistics(records: list[dict[str, Any]], tmp_path: Path) -> None:
    names = _write(tmp_path, render(records[1:2]))
    path = tmp_path / names[0]
    doc = json.loads(path.read_text())
    chars = doc["ConversationCharacteristics"]
    chars["TalkTime"]["DetailsByParticipant"]["AGENT"]["TotalTimeMillis"] += 1
    chars["NonTalkTime"]["Instances"] = []
    chars["Interruptions"]["TotalCount"] = 3
    chars["Sentiment"]["SentimentByPeriod"]["QUARTER"]["CUSTOMER"][1]["BeginOffsetMillis"] += 5
    doc["Transcript"][2]["LoudnessScore"].append(60.0)
    doc["Transcript"][1]["IssuesDetected"][0]["CharacterOffsets"]["EndOffsetChar"] += 3
    doc["Transcript"][4]["BeginOffsetMillis"] = doc["Transcript"][3]["BeginOffsetMillis"] - 1
    del chars["TalkSpeed"]["DetailsByParticipant"]["CUSTOMER"]
    del doc["ContentMetadata"]["RedactionTypes"]  # the Lex designer requires it, raw files included
    path.write_text(json.dumps(doc))
    fields = {p.split(": ")[1] for p in validate(tmp_path, names)}
    assert {
        "ConversationCharacteristics.TalkTime.DetailsByParticipant.AGENT.TotalTimeMillis",
        "ConversationCharacteristics.NonTalkTime.Instances",
        "ConversationCharacteristics.NonTalkTime.TotalTimeMillis",
        "ConversationCharacteristics.Interruptions.TotalCount",
        "ConversationCharacteristics.Sentiment.SentimentByPeriod.QUARTER.CUSTOMER",
        "Transcript[2].LoudnessScore",
        "Transcript[1].IssuesDetected[0]",
        "Transcript[4].BeginOffsetMillis",
        "ConversationCharacteristics.TalkSpeed.DetailsByParticipant.CUSTOMER",
        "ContentMetadata.RedactionTypes",
    } <= fields


def test_validate_checks_redaction_and_names(records: list[dict[str, Any]], tmp_path: Path) -> None:
    names = _write(tmp_path, render([_with_phi(records[3])]))
    path = tmp_path / names[0]
    doc = json.loads(path.read_text())
    del doc["ContentMetadata"]["RedactionTypesMetadata"]
    doc["Transcript"][3]["Content"] = "The member ID is [PII]."
    path.write_text(json.dumps(doc))
    renamed = "Analysis/Voice/Redacted/2026/01/05/00000000-0000-0000-0000-000000000000_analysis_redacted_2026-01-05T11-19-16Z.json"
    (tmp_path / renamed).write_text(json.dumps(doc))
    undated = "transcript.json"
    (tmp_path / undated).write_text(json.dumps(doc))
    (tmp_path / "bad.json").write_text("{not json")
    problems = validate(tmp_path, [names[0], renamed, undated, "bad.json"])
    assert f"{names[0]}: ContentMetadata.RedactionTypesMetadata: is a required property" in problems
    assert f"{names[0]}: Transcript[3].Redaction.RedactedTimestamps: 2 stamps for 1 [PII] marks" in problems
    assert any(
        p.startswith(f"{renamed}: CustomerMetadata.ContactId: differs from the file name") for p in problems
    )
    assert any(p.startswith(f"{undated}: (file name): needs a yyyy-mm-dd date") for p in problems)
    assert any(p.startswith("bad.json: $: cannot read as JSON") for p in problems)


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# --- timing model -------------------------------------------------------------------------------------


def _turns(*texts: str, acts: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    speakers = ("AGENT", "CUSTOMER")
    return [
        {"speaker": speakers[k % 2], "text": t, **({"act": acts[k]} if k < len(acts) else {})}
        for k, t in enumerate(texts)
    ]


def test_duration_follows_words_per_minute() -> None:
    turns = _turns(" ".join(["word"] * 150), " ".join(["word"] * 80))
    timings = turn_timings("t1", turns, "neutral", TimingParams(rate_jitter=0.0, pause_ms=(500, 500)))
    assert [(t.begin_ms, t.end_ms) for t in timings] == [(0, 60000), (60500, 90500)]
    assert turn_timings("t1", turns, "neutral") == turn_timings("t1", turns, "neutral")
    assert turn_timings("t1", turns, "neutral", seed=1) != turn_timings("t1", turns, "neutral", seed=0)


def test_short_turns_last_at_least_the_minimum() -> None:
    timings = turn_timings("t2", _turns("Hi.", "Yes."), None, TimingParams(min_turn_ms=700))
    assert all(t.duration_ms >= 700 for t in timings)


def test_hold_and_lookup_pauses_are_longer() -> None:
    params = TimingParams(rate_jitter=0.0)
    hold = turn_timings("t3", _turns("Let me check that for you.", "Sure."), None, params)
    assert params.hold_pause_ms[0] <= hold[1].begin_ms - hold[0].end_ms <= params.hold_pause_ms[1]
    lookup = turn_timings(
        "t3",
        _turns("What is your member ID?", "It is H123.", acts=("verify_identity", "provide_info")),
        None,
        params,
    )
    assert params.lookup_pause_ms[0] <= lookup[1].begin_ms - lookup[0].end_ms <= params.lookup_pause_ms[1]
    plain = turn_timings("t3", _turns("Anything else today?", "No."), None, params)
    assert params.pause_ms[0] <= plain[1].begin_ms - plain[0].end_ms <= params.pause_ms[1]


def test_interruptions_overlap_the_previous_turn() -> None:
    texts = [" ".join(["word"] * 20)] * 8
    always = TimingParams(customer_interrupt_rate_heated=1.0, agent_interrupt_rate=0.0)
    timings = turn_timings("t4", _turns(*texts), "angry", always)
    interrupting = [k for k, t in enumerate(timings) if t.interrupts]
    assert interrupting == [1, 3, 5, 7]  # every customer turn, never the agent's
    for k in interrupting:
        assert timings[k].begin_ms < timings[k - 1].end_ms < timings[k].end_ms
    assert all(b.begin_ms > a.begin_ms and b.end_ms > a.end_ms for a, b in itertools.pairwise(timings))
    calm = turn_timings("t4", _turns(*texts), "calm", always)
    assert not any(t.interrupts for t in calm)  # the heated rate only applies to heated tones


def test_interruption_rate_is_rare_and_tone_dependent() -> None:
    texts = [" ".join(["word"] * 20)] * 400
    heated = sum(t.interrupts for t in turn_timings("t5", _turns(*texts), "frustrated"))
    calm = sum(t.interrupts for t in turn_timings("t5", _turns(*texts), "calm"))
    # Expected ~18 (8% of 200 customer turns + 1% of 200 agent turns) and ~6 (2% + 1%); exact by determinism.
    assert (heated, calm) == (19, 4)


def test_overlaps_silences_and_union() -> None:
    spans = [(0, 1000), (800, 2000), (5000, 6000)]
    assert [(k, o.begin_ms, o.end_ms) for k, o in overlaps(spans)] == [(1, 800, 1000)]
    assert [(g.begin_ms, g.end_ms) for g in silences(spans, 7000)] == [(2000, 5000), (6000, 7000)]
    assert talk_union_ms(spans) == 3000


# --- turn sentiment -----------------------------------------------------------------------------------


def test_satisfied_caller_is_not_negative() -> None:
    turns = _turns(
        "Hello.",
        "My order is late.",
        "I can resend it.",
        "Great, thanks!",
        acts=("greet", "state_problem", "offer_solution", "accept_solution"),
    )
    labels = [s.label for s in turn_sentiments(turns, "satisfied")]
    assert labels == ["POSITIVE", "NEUTRAL", "POSITIVE", "POSITIVE"]
    assert turn_sentiments(turns, "satisfied")[3].score == 3.0


def test_rejection_after_acceptance_leaves_the_call_unresolved() -> None:
    acts = (
        "greet",
        "state_problem",
        "offer_solution",
        "accept_solution",
        "explain",
        "reject_solution",
        "close",
        "close",
    )
    turns = _turns(*["Some words here."] * 8, acts=acts)
    result = turn_sentiments(turns, "angry")
    assert [s.label for s in result] == [
        "POSITIVE",
        "NEGATIVE",
        "POSITIVE",
        "MIXED",
        "NEUTRAL",
        "NEGATIVE",
        "POSITIVE",
        "MIXED",
    ]
    assert result[1].score == -4.0


def test_turns_without_acts_are_classified() -> None:
    turns = _turns("Hello, how can I help?", "I was charged twice.", "I refunded it.", "Thank you so much.")
    assert [s.label for s in turn_sentiments(turns, "frustrated")] == [
        "NEUTRAL",
        "NEGATIVE",
        "NEUTRAL",
        "MIXED",
    ]


def test_weighted_scores_and_quarters() -> None:
    sentiments = [TurnSentiment("NEGATIVE", -3.0), TurnSentiment("POSITIVE", 2.0)]
    spans = [(0, 3000), (3000, 4000)]
    assert weighted_score(sentiments, spans) == -1.8
    assert weighted_score(sentiments, spans, (2500, 4000)) == 0.3
    assert weighted_score(sentiments, spans, (4000, 5000)) == 0.0
    assert weighted_score([TurnSentiment("NEGATIVE", -9.0)], [(0, 10)]) == -5.0
    assert quarters(10) == [(0, 2), (2, 5), (5, 7), (7, 10)]


# --- sentences -----------------------------------------------------------------------------------------


def test_sentences_and_key_sentence() -> None:
    text = "Thanks, Ines. I'm sorry to hear that. Dr. Patel will refill it today! OK"
    assert [text[b:e] for b, e in sentences(text)] == [
        "Thanks, Ines.",
        "I'm sorry to hear that.",
        "Dr. Patel will refill it today!",
        "OK",
    ]
    assert key_sentence(text) == {
        "CharacterOffsets": {"BeginOffsetChar": 38, "EndOffsetChar": 69},
        "Text": "Dr. Patel will refill it today!",
    }
    assert key_sentence("Thank you.")["Text"] == "Thank you."
