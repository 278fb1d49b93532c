"""Rasa 3.1 YAML export (transcript_foundry/formats/rasa.py) on real generated records.

Rasa itself does not install on Python 3.11; the files are checked with pykwalify against Rasa's own
schemas (transcript_foundry/formats/schemas/rasa/) plus the cross-file rules of ``rasa data validate``.

Golden files: tests/golden/rasa/ holds the export of tests/fixtures/generated_sample.jsonl with default
options; ``test_golden`` re-renders and compares byte for byte. After an intended format change, rewrite
them with ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/transcript_foundry/formats/test_rasa.py`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from tests.support.golden_files import GOLDEN_ROOT, check_golden, sample_records, write
from transcript_foundry.domains.domain_pack import DomainPack
from transcript_foundry.formats import rasa
from transcript_foundry.formats.export_file import ExportFile
from transcript_foundry.formats.turn_labels import GENERIC_INTENTS

GOLDEN = GOLDEN_ROOT / "rasa"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "formats" / "rasa.md"
FILES = ["data/nlu.yml", "data/stories.yml", "domain.yml"]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return sample_records()


def parsed(files: list[ExportFile]) -> dict[str, Any]:
    return {f.relative_path: yaml.safe_load(f.content) for f in files}


def nlu_examples(nlu: dict[str, Any]) -> dict[str, list[str]]:
    return {item["intent"]: [line[2:] for line in item["examples"].splitlines()] for item in nlu["nlu"]}


def test_golden(records: list[dict[str, Any]]) -> None:
    check_golden(rasa.render(records), GOLDEN)


def test_rendered_files_validate(records: list[dict[str, Any]], tmp_path: Path) -> None:
    files = rasa.render(records)
    assert [f.relative_path for f in files] == FILES
    assert rasa.validate(tmp_path, write(files, tmp_path)) == []
    for f in files:
        assert f.content.startswith("version: '3.1'\n")


def test_nlu_examples_are_real_customer_turns(
    records: list[dict[str, Any]], packs: dict[str, DomainPack]
) -> None:
    files = parsed(rasa.render(records))
    examples = nlu_examples(files["data/nlu.yml"])
    flat = [e for texts in examples.values() for e in texts]
    assert len(flat) == len(set(flat))
    customer = [t["text"] for r in records for t in r["turns"] if t["speaker"] == "CUSTOMER"]
    plain = [t for t in customer if not set(t) & set("[](){}")]
    assert plain and set(plain) <= set(flat)  # verbatim where nothing needed cleaning
    assert {rasa.user_text(t) for t in customer} == set(flat)
    assert (
        "Thank you, Marcus. I'm sorry to hear that your claim has been denied and a reimbursement request is pending for October 31st 40 days ago."
        in flat
    )
    assert set(examples) <= set(GENERIC_INTENTS) | {s.id for p in packs.values() for s in p.scenarios}
    assert "I don't remember it." in examples["claim_status"]


def test_stories_follow_the_calls(records: list[dict[str, Any]]) -> None:
    files = parsed(rasa.render(records))
    stories = files["data/stories.yml"]["stories"]
    assert [s["story"] for s in stories] == [r["id"] for r in records]
    for record, story in zip(records, stories, strict=True):
        assert len(story["steps"]) == len(record["turns"])
        for turn, step in zip(record["turns"], story["steps"], strict=True):
            if turn["speaker"] == "AGENT":
                assert step == {"action": f"utter_{turn['act']}"}
            else:
                assert set(step) == {"user", "intent"}
                assert step["user"] == rasa.user_text(turn["text"]) + "\n"
        assert story["steps"][1]["intent"] == record["scenario"]  # the problem statement
    domain = files["domain.yml"]
    used = {s["action"] for st in stories for s in st["steps"] if "action" in s}
    assert domain["actions"] == sorted(used) == sorted(domain["responses"])
    assert set(domain["intents"]) == {s["intent"] for st in stories for s in st["steps"] if "intent" in s}
    greetings = [t["text"] for r in records for t in r["turns"] if t.get("act") == "greet"]
    assert [r["text"] for r in domain["responses"]["utter_greet"]] == greetings[:5]
    assert all(1 <= len(v) <= 5 for v in domain["responses"].values())


def test_bot_steps_option(records: list[dict[str, Any]], tmp_path: Path) -> None:
    files = rasa.render(records, {"agent_steps": "bot"})
    assert rasa.validate(tmp_path, write(files, tmp_path)) == []
    data = parsed(files)
    first = data["data/stories.yml"]["stories"][0]["steps"][0]
    assert first == {"bot": rasa.bot_text(records[0]["turns"][0]["text"])}
    assert set(data["domain.yml"]) == {"version", "intents"}
    with pytest.raises(ValidationError):
        rasa.render(records, {"agent_steps": "utter"})


def test_tricky_text_survives_yaml_and_rasa_syntax(records: list[dict[str, Any]], tmp_path: Path) -> None:
    tricky = [
        "- I was charged [twice](charge_count) for {this}",
        "/greet hello",
        "no",
        "3.1",
        'He said: "it\'s fine" # not a comment',
        "line one\nline two   with   spaces",
        "Ünïcödé – “quotes” and emoji 🙂",
        "  leading and trailing  ",
        "null",
        "key: value",
        "* starred",
    ]
    turns = []
    for text in tricky:
        turns += [{"speaker": "AGENT", "text": "{name}: ok\n- sure", "act": "confirm"}]
        turns += [{"speaker": "CUSTOMER", "text": text, "act": "provide_info"}]
    record = {**records[0], "id": "tricky", "turns": turns}
    files = rasa.render([record])
    assert rasa.validate(tmp_path, write(files, tmp_path)) == []
    data = parsed(files)
    examples = nlu_examples(data["data/nlu.yml"])["inform"]
    assert examples == [rasa.user_text(t) for t in tricky]
    assert examples[0] == "I was charged twice charge_count for this"
    assert examples[1] == "greet hello" and examples[2] == "no" and examples[3] == "3.1"
    assert not any(set(e) & set("[]{}()") for e in examples)
    users = [s["user"] for s in data["data/stories.yml"]["stories"][0]["steps"] if "user" in s]
    assert users == [e + "\n" for e in examples]
    assert data["domain.yml"]["responses"]["utter_confirm"] == [{"text": "(name): ok - sure"}]


def test_turns_without_acts_use_the_classifier(records: list[dict[str, Any]], tmp_path: Path) -> None:
    bare = [
        {**r, "turns": [{"speaker": t["speaker"], "text": t["text"]} for t in r["turns"]]} for r in records
    ]
    files = rasa.render(bare)
    assert rasa.validate(tmp_path, write(files, tmp_path)) == []
    data = parsed(files)
    stories = data["data/stories.yml"]["stories"]
    assert {s["action"] for st in stories for s in st["steps"] if "action" in s} == {"utter_respond"}
    first = stories[0]["steps"]
    assert [s["intent"] for s in first if "intent" in s] == [
        "claim_status",  # the first customer turn states the problem
        "affirm",  # "Yes, I'm sure you remember that."
        "deny",  # "No, I'm sorry. ..."
        "thank",  # "Thank you."
        "affirm",  # "Yes, you're right. ..."
        "thank",  # "Thank you, Marcus. I'm sorry ..." (last turn, no goodbye word)
    ]


def _break(tmp_path: Path, records: list[dict[str, Any]], file: str, edit: Any) -> list[str]:
    names = write(rasa.render(records), tmp_path)
    data = yaml.safe_load((tmp_path / file).read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / file).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return rasa.validate(tmp_path, names)


def test_unknown_story_step_key_is_reported(records: list[dict[str, Any]], tmp_path: Path) -> None:
    problems = _break(
        tmp_path, records, "data/stories.yml", lambda d: d["stories"][0]["steps"][2].update(say="hi")
    )
    assert problems == ["data/stories.yml: stories[0].steps[2].say: Key 'say' was not defined"]
    problems = _break(
        tmp_path, records, "data/stories.yml", lambda d: d["stories"][1]["steps"][0].update(bot="Hello")
    )
    assert problems == [
        "data/stories.yml: stories[1].steps[0]: keys 'action', 'bot' cannot be combined here "
        "(no alternative of the schema allows them together)"
    ]


def test_missing_response_for_used_action_is_reported(records: list[dict[str, Any]], tmp_path: Path) -> None:
    problems = _break(tmp_path, records, "domain.yml", lambda d: d["responses"].pop("utter_escalate"))
    assert problems == [
        "domain.yml: responses.utter_escalate: missing; 'utter_escalate' is used in "
        "data/stories.yml stories[0].steps[6]"
    ]


def test_other_breakage_is_reported(records: list[dict[str, Any]], tmp_path: Path) -> None:
    def domain_edit(d: dict[str, Any]) -> None:
        d["intents"].remove("deny")
        d["actions"].remove("utter_close")
        d["responses"].pop("utter_close")
        d["responses"]["utter_greet"] = [{"channel": "voice"}]

    problems = _break(tmp_path, records, "domain.yml", domain_edit)
    assert (
        "domain.yml: responses.utter_greet: response variation 0 needs one of the keys text, image, custom, buttons, attachment"
        in problems
    )
    assert "data/nlu.yml: nlu[5].intent: 'deny' is not declared in domain.yml (intents)" in problems
    assert (
        "data/stories.yml: stories[0].steps[5].intent: 'deny' is not declared in domain.yml (intents)"
        in problems
    )
    assert (
        "data/stories.yml: stories[0].steps[10].action: 'utter_close' is not declared in domain.yml (actions or responses)"
        in problems
    )

    def nlu_edit(d: dict[str, Any]) -> None:
        d["version"] = "2.0"
        d["nlu"][0]["examples"] += "- I was billed [twice](charge_count)\nnot a list line\n"

    assert _break(tmp_path, records, "data/nlu.yml", nlu_edit) == [
        "data/nlu.yml: version: '2.0'; this export writes and checks version \"3.1\"",
        "data/nlu.yml: nlu[0].examples: line 8 'not a list line' does not start with '- '",
        "data/nlu.yml: nlu[0].examples: 'I was billed [twice](charge_count)' annotates "
        "'[twice](charge_count)' as entity charge_count, which domain.yml does not declare",
    ]
    problems = _break(
        tmp_path, records, "data/stories.yml", lambda d: d["stories"][0]["steps"][1].update(user="a [b](c)")
    )
    assert problems == [
        "data/stories.yml: stories[0].steps[1].user: 'a [b](c)' annotates '[b](c)' as entity c, "
        "which domain.yml does not declare"
    ]
    (tmp_path / "broken.yml").write_text("stories: [\n", encoding="utf-8")
    assert rasa.validate(tmp_path, ["broken.yml"])[0].startswith("broken.yml: $: not valid YAML")
    lone = tmp_path / "lone"
    write(rasa.render(records)[:2], lone)
    assert rasa.validate(lone, FILES[:2]) == [
        "domain.yml: $: missing; intents and actions of data/nlu.yml, data/stories.yml are unchecked"
    ]


def test_docs_list_every_label(packs: dict[str, DomainPack]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for intent in GENERIC_INTENTS:
        assert f"`{intent}`" in text
    for pack in packs.values():
        for scenario in pack.scenarios:
            assert f"`{scenario.id}`" in text, f"docs/formats/rasa.md lacks {pack.name}/{scenario.id}"
