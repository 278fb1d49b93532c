"""Dialogflow ES agent export (transcript_foundry/formats/dialogflow_es.py) on real generated records.

Golden files: tests/golden/dialogflow_es/ holds the export of tests/fixtures/generated_sample.jsonl with
default options; ``test_golden`` re-renders and compares byte for byte. After an intended format change,
rewrite them with ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/transcript_foundry/formats/test_dialogflow_es.py`` and review
the diff.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.support.golden_files import GOLDEN_ROOT, check_golden, sample_records, write
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.formats import dialogflow_es as df
from transcript_foundry.formats.export_file import ExportFile
from transcript_foundry.formats.turn_labels import GENERIC_INTENTS

GOLDEN = GOLDEN_ROOT / "dialogflow_es"


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return sample_records()


def phrases(files: list[ExportFile]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in files:
        if f.relative_path.endswith("_usersays_en.json"):
            name = f.relative_path.removeprefix("intents/").removesuffix("_usersays_en.json")
            out[name] = ["".join(p["text"] for p in entry["data"]) for entry in json.loads(f.content)]
    return out


def test_golden(records: list[dict[str, Any]]) -> None:
    check_golden(df.render(records), GOLDEN)


def test_rendered_agent_validates_and_zips(records: list[dict[str, Any]], tmp_path: Path) -> None:
    files = df.render(records)
    names = write(files, tmp_path / "agent")
    assert df.validate(tmp_path / "agent", names) == []
    assert names[:2] == ["agent.json", "package.json"]
    assert json.loads(files[1].content) == {"version": "1.0.0"}
    intents = {n.removeprefix("intents/").removesuffix(".json") for n in names if not n.endswith("_en.json")}
    assert {f"intents/{i}_usersays_en.json" for i in intents - {"agent", "package"}} <= set(names)
    with zipfile.ZipFile(tmp_path / "agent.zip", "w") as zf:  # "Restore from ZIP": agent.json at the root
        for name in names:
            zf.write(tmp_path / "agent" / name, name)
    assert "agent.json" in zipfile.ZipFile(tmp_path / "agent.zip").namelist()


def test_intent_file_fields(records: list[dict[str, Any]]) -> None:
    files = {f.relative_path: json.loads(f.content) for f in df.render(records)}
    intent = files["intents/claim_status.json"]
    assert intent["id"] == str(uuid.uuid5(df.ID_NAMESPACE, "intent\x1fclaim_status"))
    assert intent["name"] == "claim_status" and intent["auto"] is True and intent["priority"] == 500000
    assert set(intent) == {
        "id", "name", "auto", "contexts", "responses", "priority",
        "webhookUsed", "webhookForSlotFilling", "fallbackIntent", "events",
    }  # fmt: skip
    message = intent["responses"][0]["messages"][0]
    assert message["type"] == "0" and message["lang"] == "en" and message["speech"] == []
    entry = files["intents/claim_status_usersays_en.json"][0]
    assert set(entry) == {"id", "data", "isTemplate", "count", "lang", "updated"}
    assert entry["data"] == [{"text": "I don't remember it.", "userDefined": False}]
    assert entry["isTemplate"] is False and entry["count"] == 0 and entry["updated"] == 0


def test_phrases_are_the_customer_turns(records: list[dict[str, Any]], packs: dict[str, DomainPack]) -> None:
    by_intent = phrases(df.render(records))
    all_phrases = [p for texts in by_intent.values() for p in texts]
    assert len(all_phrases) == len(set(all_phrases)), "each distinct phrase trains one intent"
    customer = {
        " ".join(t["text"].split()) for r in records for t in r["turns"] if t["speaker"] == "CUSTOMER"
    }
    assert set(all_phrases) == customer
    labels = set(GENERIC_INTENTS) | {s.id for p in packs.values() for s in p.scenarios}
    assert set(by_intent) <= labels
    # the problem statement of each call trains its scenario's intent
    for record in records:
        first = next(t for t in record["turns"] if t["speaker"] == "CUSTOMER")
        assert " ".join(first["text"].split()) in by_intent[record["scenario"]]


def test_conflicting_phrase_goes_to_its_most_frequent_intent(records: list[dict[str, Any]]) -> None:
    def call(cid: str, acts: list[str]) -> dict[str, Any]:
        turns = []
        for act in acts:
            turns += [{"speaker": "AGENT", "text": "Okay.", "act": "confirm"}]
            turns += [{"speaker": "CUSTOMER", "text": "Thank you.", "act": act}]
        return {**records[0], "id": cid, "turns": turns}

    by_intent = df.phrases_by_intent([call("a", ["thank", "accept_solution", "thank"])], df.normalise_space)
    assert by_intent == {"affirm": [], "thank": ["Thank you."]}
    tie = df.phrases_by_intent([call("b", ["accept_solution", "thank"])], df.normalise_space)
    assert tie == {"affirm": ["Thank you."], "thank": []}
    assert phrases(df.render([call("b", ["accept_solution", "thank"])])) == {"affirm": ["Thank you."]}


def test_turns_without_acts_use_the_classifier(records: list[dict[str, Any]], tmp_path: Path) -> None:
    texts = [
        ("AGENT", "Thanks for calling, how can I help?"),
        ("CUSTOMER", "My bill shows a charge I don't recognise."),
        ("AGENT", "Let me look into that."),
        ("CUSTOMER", "Can you tell me when it was made?"),
        ("AGENT", "It was made on the fifth."),
        ("CUSTOMER", "No, that wasn't me."),
        ("AGENT", "I'll reverse it."),
        ("CUSTOMER", "Yeah, please do."),
        ("AGENT", "Done."),
        ("CUSTOMER", "Thanks so much."),
        ("AGENT", "Anything else?"),
        ("CUSTOMER", "The new amount is 40 dollars"),
        ("AGENT", "Correct."),
        ("CUSTOMER", "Okay, bye."),
    ]
    record = {**records[0], "id": "no-acts", "scenario": "billing_dispute"}
    record["turns"] = [{"speaker": s, "text": t} for s, t in texts]
    by_intent = phrases(df.render([record]))
    assert by_intent == {
        "billing_dispute": ["My bill shows a charge I don't recognise."],
        "ask_question": ["Can you tell me when it was made?"],
        "deny": ["No, that wasn't me."],
        "affirm": ["Yeah, please do."],
        "thank": ["Thanks so much."],
        "inform": ["The new amount is 40 dollars"],
        "goodbye": ["Okay, bye."],
    }
    assert df.validate(tmp_path, write(df.render([record]), tmp_path)) == []


def test_options_and_quota(records: list[dict[str, Any]], tmp_path: Path) -> None:
    files = df.render(records, {"agent_name": "Clinic bot", "language": "pt-br", "max_phrases_per_intent": 1})
    agent = json.loads(files[0].content)
    assert agent["displayName"] == "Clinic bot" and agent["language"] == "pt-br"
    usersays = [f for f in files if f.relative_path.endswith("_usersays_pt-br.json")]
    assert usersays and all(len(json.loads(f.content)) == 1 for f in usersays)
    assert df.validate(tmp_path, write(files, tmp_path)) == []
    long_turn = {
        **records[0],
        "turns": [{"speaker": "CUSTOMER", "text": "word " * 200, "act": "state_problem"}],
    }
    assert [f.relative_path for f in df.render([long_turn])] == ["agent.json", "package.json"]
    with pytest.raises(ValidationError):
        df.render(records, {"language": "English"})


def test_broken_files_are_reported(records: list[dict[str, Any]], tmp_path: Path) -> None:
    names = write(df.render(records), tmp_path)
    usersays = tmp_path / "intents/deny_usersays_en.json"
    data = json.loads(usersays.read_text(encoding="utf-8"))
    data[0]["data"][0]["userdefined"] = False
    data[1]["count"] = -1
    data.append(dict(data[0], id=data[0]["id"]))
    usersays.write_text(json.dumps(data), encoding="utf-8")
    intent = tmp_path / "intents/goodbye.json"
    intent.write_text(
        json.dumps(dict(json.loads(intent.read_text(encoding="utf-8")), name="bye")), encoding="utf-8"
    )
    (tmp_path / "intents/inform.json").unlink()
    problems = df.validate(tmp_path, [n for n in names if n != "intents/inform.json"] + ["notes.txt"])
    assert problems == [
        "intents/deny_usersays_en.json: [0].data[0]: Additional properties are not allowed ('userdefined' was unexpected)",
        "intents/deny_usersays_en.json: [1].count: -1 is less than the minimum of 0",
        "intents/deny_usersays_en.json: [2].data[0]: Additional properties are not allowed ('userdefined' was unexpected)",
        "intents/deny_usersays_en.json: [2].data: same phrase as [0]",
        f"intents/deny_usersays_en.json: [2].id: {data[0]['id']} is also the id of [0]",
        "intents/goodbye.json: name: 'bye' differs from the file name 'goodbye'",
        "intents/inform_usersays_en.json: $: no intents/inform.json defines the intent these phrases train",
        "notes.txt: $: not a Dialogflow ES agent file (expected agent.json, package.json, "
        "intents/<name>.json or intents/<name>_usersays_<lang>.json)",
    ]
    lone = tmp_path / "lone"
    write([f for f in df.render(records) if f.relative_path.startswith("intents/deny")], lone)
    assert df.validate(lone, ["intents/deny.json", "intents/deny_usersays_en.json"]) == [
        "agent.json: $: missing; an agent ZIP needs it at its root",
        "package.json: $: missing; an agent ZIP needs it at its root",
    ]
