"""custom_json mappings: the shipped ones against golden files, and the mistakes a mapping author can make.

Golden files live in tests/golden/custom_json/<mapping>/ and are rendered from
tests/fixtures/generated_sample.jsonl (real generated records). After an intended change to a shipped
mapping or to the renderer, rewrite them and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/transcript_foundry/formats/test_custom_mapping.py
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.golden_files import GOLDEN_ROOT, check_golden, sample_records
from transcript_foundry.contract.transcript import Transcript
from transcript_foundry.formats.custom_mapping import (
    MappingError,
    load_mapping,
    parse_mapping,
    render,
    shipped_mappings,
    validate,
)

GOLDEN = GOLDEN_ROOT / "custom_json"

# OpenAI's chat fine-tuning format, written from its documentation independently of openai_chat.yaml.
FINE_TUNING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "messages": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"enum": ["system", "user", "assistant"]},
                    "content": {"type": "string", "minLength": 1},
                    "weight": {"enum": [0, 1]},
                },
                "additionalProperties": False,
            },
        }
    },
}


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return sample_records()


def write_mapping(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    return str(info.value)


def export(records: list[dict[str, Any]], mapping_text: str, tmp_path: Path) -> list[Any]:
    """Render with an ad-hoc mapping and return the parsed records of its only file."""
    mapping = load_mapping(write_mapping(tmp_path, mapping_text))
    [file] = render(records, mapping)
    return [json.loads(line) for line in file.content.splitlines()]


# ------------------------------------------------------------------------------------- shipped mappings


def test_the_three_mappings_are_shipped() -> None:
    assert {"contract", "openai_chat", "sharegpt"} <= set(shipped_mappings())


@pytest.mark.parametrize("name", shipped_mappings())
def test_shipped_mapping_renders_the_golden_files(name: str, records: list[dict[str, Any]]) -> None:
    check_golden(render(records, load_mapping(name)), GOLDEN / name)


@pytest.mark.parametrize("name", shipped_mappings())
def test_shipped_mapping_output_validates(name: str, records: list[dict[str, Any]], tmp_path: Path) -> None:
    mapping = load_mapping(name)
    files = render(records, mapping)
    for file in files:
        file.write(tmp_path)
    assert validate(tmp_path, [f.relative_path for f in files], mapping) == []


def test_render_is_deterministic(records: list[dict[str, Any]]) -> None:
    mapping = load_mapping("openai_chat")
    assert render(records, mapping) == render(records, mapping)


def test_one_file_per_request(records: list[dict[str, Any]]) -> None:
    files = render(records, load_mapping("contract"))
    assert [f.relative_path for f in files] == ["r423add8d20c.jsonl", "r1bdcf77b701.jsonl"]


def test_openai_chat_is_fine_tuning_data_with_alternating_roles(records: list[dict[str, Any]]) -> None:
    files = render(records, load_mapping("openai_chat"))
    lines = [json.loads(line) for f in files for line in f.content.splitlines()]
    assert len(lines) == len(records)
    for line, record in zip(lines, records, strict=True):
        jsonschema.validate(line, FINE_TUNING_SCHEMA)
        system, *messages = line["messages"]
        assert system["role"] == "system"
        assert record["agent_name"] in system["content"] and record["company"] in system["content"]
        roles = [m["role"] for m in messages]
        assert set(roles) == {"user", "assistant"}
        assert all(a != b for a, b in itertools.pairwise(roles)), roles
        assert roles == ["assistant" if t["speaker"] == "AGENT" else "user" for t in record["turns"]]
        assert [m["content"] for m in messages] == [t["text"] for t in record["turns"]]


def test_sharegpt_is_one_array_of_conversations(records: list[dict[str, Any]]) -> None:
    files = render(records, load_mapping("sharegpt"))
    conversations = [c for f in files for c in json.loads(f.content)]
    assert [c["id"] for c in conversations] == [r["id"] for r in records]
    for conversation, record in zip(conversations, records, strict=True):
        assert set(conversation) == {"id", "conversations"}
        assert [(m["from"], m["value"]) for m in conversation["conversations"]] == [
            ("gpt" if t["speaker"] == "AGENT" else "human", t["text"]) for t in record["turns"]
        ]


def test_contract_mapping_reproduces_the_records(records: list[dict[str, Any]]) -> None:
    files = render(records, load_mapping("contract"))
    assert [json.loads(line) for f in files for line in f.content.splitlines()] == records


def test_contract_mapping_lists_every_contract_field() -> None:
    mapping = load_mapping("contract")
    assert [key for key, _ in mapping.record.items] == list(Transcript.model_fields)


# --------------------------------------------------------------------------------- language features


def test_one_file_per_conversation_in_nested_folders(records: list[dict[str, Any]], tmp_path: Path) -> None:
    mapping = load_mapping(
        write_mapping(
            tmp_path,
            'layout: one_file_per_conversation\nfile_name: "{request_id}/{id}.json"\nrecord: {id: $id}\n',
        )
    )
    files = render(records, mapping)
    assert [f.relative_path for f in files] == [f"{r['request_id']}/{r['id']}.json" for r in records]
    assert json.loads(files[0].content) == {"id": records[0]["id"]}
    for file in files:
        file.write(tmp_path / "out")
    assert validate(tmp_path / "out", [f.relative_path for f in files], mapping) == []


def test_omit_null_drops_keys_whose_value_is_null(records: list[dict[str, Any]], tmp_path: Path) -> None:
    record = {**records[0], "caller_type": None}
    template = "record: {id: $id, caller: $caller_type, meta: {company: $company, none: null}}\n"
    assert export([record], f"omit_null: true\n{template}", tmp_path) == [
        {"id": record["id"], "meta": {"company": record["company"]}}
    ]
    assert export([record], f"omit_null: false\n{template}", tmp_path) == [
        {"id": record["id"], "caller": None, "meta": {"company": record["company"], "none": None}}
    ]


def test_references_keep_their_json_type_and_text_templates_make_strings(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    mapping = """
record:
  score: $quality.overall
  passed: $quality.passed
  checks: $quality.checks
  tone: $quality.checks.tone
  model: $generation.model
  summary: "{domain}/{scenario} scored {quality.overall}, passed {quality.passed}"
  price: "$$5"
  braces: "{{not a placeholder}}"
  $$schema: v1
"""
    [out] = export(records[:1], mapping, tmp_path)
    quality = records[0]["quality"]
    assert out == {
        "score": quality["overall"],
        "passed": True,
        "checks": quality["checks"],
        "tone": quality["checks"]["tone"],
        "model": "gemma3-270m-q4_k_m",
        "summary": f"healthcare/claim_status scored {quality['overall']}, passed true",
        "price": "$5",
        "braces": "{not a placeholder}",
        "$schema": "v1",
    }


def test_each_block_with_index_prepend_append_and_partial_speakers(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    mapping = """
speakers: {CUSTOMER: caller}
record:
  lines:
    $each: turns
    prepend: ["call {id}"]
    item: "{index} {speaker} ({act}): {text}"
    append: [{end: true, turns_of: $request_id}]
"""
    [out] = export(records[:1], mapping, tmp_path)
    turns = records[0]["turns"]
    assert out["lines"][0] == f"call {records[0]['id']}"
    assert out["lines"][1] == f"0 AGENT (greet): {turns[0]['text']}"
    assert out["lines"][2].startswith("1 caller (state_problem): ")
    assert out["lines"][-1] == {"end": True, "turns_of": records[0]["request_id"]}
    assert len(out["lines"]) == len(turns) + 2


def test_a_json_mapping_file_works_too(records: list[dict[str, Any]], tmp_path: Path) -> None:
    path = write_mapping(tmp_path, json.dumps({"layout": "jsonl", "record": {"id": "$id"}}), "mine.json")
    [file] = render(records[3:], load_mapping(path))
    assert file.content == json.dumps({"id": records[3]["id"]}) + "\n"


def test_a_declared_schema_file_is_read_relative_to_the_mapping(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    (tmp_path / "schema.json").write_text(json.dumps({"type": "object", "required": ["call"]}))
    mapping = load_mapping(write_mapping(tmp_path, "json_schema: schema.json\nrecord: {id: $id}\n"))
    assert mapping.json_schema() == {"type": "object", "required": ["call"]}
    [file] = render(records[3:], mapping)
    file.write(tmp_path)
    assert validate(tmp_path, [file.relative_path], mapping) == [
        f"{file.relative_path}: line 1: 'call' is a required property"
    ]


# ----------------------------------------------------------------------------------- mapping errors


def test_a_misspelt_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "layuot: jsonl\nrecord: {id: $id}\n")
    message = load_error(path)
    assert message.startswith(
        f"{path}: layuot: unknown field: remove it or fix its spelling (did you mean 'layout'?"
    )


def test_an_unknown_reference_names_the_key_path(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "record:\n  id: $id\n  score: $qualty.overall\n")
    message = load_error(path)
    assert message.startswith(f"{path}: record.score: reference '$qualty.overall': unknown field 'qualty'")
    assert "did you mean 'quality'?" in message


def test_an_unknown_nested_reference_suggests_the_sibling(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "record:\n  meta: {score: $quality.overal, tone: $quality.checks.tnoe}\n")
    lines = load_error(path).splitlines()
    assert lines[0].startswith(f"{path}: record.meta.score: reference '$quality.overal'")
    assert "did you mean 'overall'?" in lines[0]
    assert lines[1].startswith(f"{path}: record.meta.tone: reference '$quality.checks.tnoe'")
    assert "did you mean 'tone'?" in lines[1]


def test_a_placeholder_typo_in_a_prepended_item_is_caught(tmp_path: Path) -> None:
    path = write_mapping(
        tmp_path,
        "record:\n  messages:\n    $each: turns\n    prepend: [{content: 'You are {agent_nmae}.'}]\n"
        "    item: {content: $text}\n",
    )
    message = load_error(path)
    assert message.startswith(
        f"{path}: record.messages.prepend[0].content: reference '{{agent_nmae}}': unknown field 'agent_nmae'"
    )
    assert "did you mean 'agent_name'?" in message


def test_an_unknown_layout_value_lists_the_layouts(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "layout: jsonlines\nrecord: {id: $id}\n")
    assert load_error(path) == (
        f"{path}: layout: Input should be 'jsonl', 'json_array' or 'one_file_per_conversation'"
    )


def test_a_bad_speakers_key_is_named(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "speakers: {BOT: assistant, CUSTOMER: user}\nrecord: {id: $id}\n")
    assert load_error(path) == (
        f"{path}: speakers.BOT: unknown field: remove it or fix its spelling (speakers are: AGENT, CUSTOMER)"
    )


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "record:\n  id: $id\n    score: [\n")
    message = load_error(path)
    assert message.startswith(f"{path}: line 3, column ")
    assert "the mapping is not valid YAML" in message


def test_invalid_json_mapping_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, '{"record": {"id": "$id",}}', "mine.json")
    assert load_error(path).startswith(f"{path}: line 1, column 25: the mapping is not valid JSON")


def test_a_turn_field_outside_an_each_block(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "record: {text: $text}\n")
    assert load_error(path) == (
        f"{path}: record.text: reference '$text': 'text' is a field of a turn: "
        "use it inside the item of a '$each: turns' block"
    )


def test_a_misspelt_each_key_and_the_missing_item(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "record:\n  messages: {$each: turns, itme: {content: $text}}\n")
    lines = load_error(path).splitlines()
    assert lines[0].startswith(f"{path}: record.messages.itme: unknown field: remove it or fix its spelling")
    assert "did you mean 'item'?" in lines[0]
    assert lines[1].startswith(f"{path}: record.messages.item: field required: add it")


def test_only_turns_can_be_expanded(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "record:\n  r: {$each: quality.reasons, item: x}\n")
    assert load_error(path) == f"{path}: record.r.$each: only 'turns' can be expanded, not 'quality.reasons'"


def test_a_missing_record_template(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "layout: jsonl\n")
    assert load_error(path).startswith(f"{path}: record: field required: add it")


def test_one_file_per_conversation_needs_the_id_in_the_name(tmp_path: Path) -> None:
    path = write_mapping(
        tmp_path, 'layout: one_file_per_conversation\nfile_name: "{request_id}.json"\nrecord: {id: $id}\n'
    )
    assert load_error(path).startswith(
        f"{path}: file_name: one_file_per_conversation needs {{id}} in the name"
    )


def test_a_file_name_outside_the_export_folder(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, 'file_name: "../{id}.jsonl"\nrecord: {id: $id}\n')
    assert load_error(path).startswith(f"{path}: file_name: must be a relative path")


def test_an_invalid_declared_schema(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "json_schema: {type: 12}\nrecord: {id: $id}\n")
    assert load_error(path).startswith(f"{path}: json_schema.type: not a valid JSON Schema")


def test_a_missing_schema_file(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, "json_schema: nowhere.json\nrecord: {id: $id}\n")
    assert load_error(path).startswith(f"{path}: json_schema: cannot read the schema file")


def test_an_unknown_shipped_name_suggests_one() -> None:
    with pytest.raises(
        MappingError, match=r"openai_chatt: unknown mapping name: did you mean 'openai_chat'\?"
    ):
        load_mapping("openai_chatt")


def test_a_mapping_that_is_not_a_mapping() -> None:
    with pytest.raises(MappingError, match=r"^inline: \(file\): expected a mapping"):
        parse_mapping(["record"], source="inline")


# --------------------------------------------------------------------------------- validating output


def rendered(records: list[dict[str, Any]], name: str, root: Path) -> tuple[Any, list[str]]:
    mapping = load_mapping(name)
    files = render(records, mapping)
    for file in files:
        file.write(root)
    return mapping, [f.relative_path for f in files]


def test_validate_reports_an_invalid_json_line(records: list[dict[str, Any]], tmp_path: Path) -> None:
    mapping, files = rendered(records, "openai_chat", tmp_path)
    path = tmp_path / files[0]
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:40]
    path.write_text("\n".join(lines) + "\n")
    problems = validate(tmp_path, files, mapping)
    assert len(problems) == 1
    assert problems[0].startswith(f"{files[0]}: line 2: invalid JSON: Unterminated string")


def test_validate_names_line_and_field_of_a_schema_violation(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    mapping, files = rendered(records, "openai_chat", tmp_path)
    path = tmp_path / files[0]
    lines = path.read_text().splitlines()
    broken = json.loads(lines[2])
    broken["messages"][1]["role"] = "bot"
    lines[2] = json.dumps(broken)
    path.write_text("\n".join(lines) + "\n")
    assert validate(tmp_path, files, mapping) == [
        f"{files[0]}: line 3: messages[1].role: 'bot' is not one of ['system', 'user', 'assistant']"
    ]


def test_validate_checks_the_implied_schema_of_an_array_file(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    mapping, files = rendered(records, "sharegpt", tmp_path)
    path = tmp_path / files[0]
    data = json.loads(path.read_text())
    del data[1]["id"]
    data[0]["conversations"][2]["from"] = "system"
    path.write_text(json.dumps(data))
    assert validate(tmp_path, files, mapping) == [
        f"{files[0]}: [0].conversations[2].from: 'system' is not one of ['gpt', 'human']",
        f"{files[0]}: [1]: 'id' is a required property",
    ]


def test_validate_reports_a_file_that_is_not_an_array_or_is_missing(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    mapping, files = rendered(records, "sharegpt", tmp_path)
    (tmp_path / files[0]).write_text("{}")
    problems = validate(tmp_path, [*files, "gone.json"], mapping)
    assert problems == [
        f"{files[0]}: (top level): expected a JSON array of records, found an object",
        "gone.json: (file): cannot read: No such file or directory",
    ]


def test_the_mappings_in_the_docs_load() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "formats" / "custom-json.md").read_text(
        encoding="utf-8"
    )
    blocks = [b.split("```", 1)[0] for b in doc.split("```yaml\n")[1:]]
    mappings = [yaml.safe_load(b) for b in blocks if b.startswith(("layout:", "description:"))]
    assert len(mappings) >= 4
    for i, data in enumerate(mappings):
        parse_mapping(data, source=f"docs block {i}")
