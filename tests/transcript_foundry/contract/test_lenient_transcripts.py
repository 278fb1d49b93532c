"""The lenient transcript reader: records from other tools (only id and turns) read; a bad record names
its field and the fix; a bad file names each line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from transcript_foundry.contract.lenient_transcripts import (
    TranscriptFileError,
    TranscriptRecordError,
    read_transcript_record,
    read_transcripts,
    with_contract_defaults,
)
from transcript_foundry.contract.transcript import Transcript

TURNS = [{"speaker": "AGENT", "text": "Thanks for calling."}, {"speaker": "CUSTOMER", "text": "Hi, my bill."}]


def test_minimal_record_reads_unchanged() -> None:
    record = {"id": "call-1", "turns": TURNS}
    read = read_transcript_record(record)
    assert read == record
    assert read is not record and read["turns"][0] is not TURNS[0]  # a copy: the input is never changed


def test_aliases_case_and_integer_ids_are_normalised_and_other_keys_kept() -> None:
    record = {
        "id": 17,
        "source": "other-tool",
        "turns": [
            {"speaker": "assistant", "text": "Hello.", "ts": 1.5},
            {"speaker": " Customer ", "text": " Hi. "},
            {"speaker": "human", "text": "Me again."},
        ],
    }
    read = read_transcript_record(record)
    assert read["id"] == "17" and read["source"] == "other-tool"
    assert [t["speaker"] for t in read["turns"]] == ["AGENT", "CUSTOMER", "CUSTOMER"]
    assert read["turns"][0]["ts"] == 1.5
    assert read["turns"][1]["text"] == " Hi. "  # texts untouched: phi offsets point into them


def test_scrub_takes_a_record_without_id() -> None:
    assert "id" not in read_transcript_record({"turns": TURNS}, id_required=False)
    with pytest.raises(TranscriptRecordError, match=r"^id: missing; give every transcript its own id"):
        read_transcript_record({"turns": TURNS})


@pytest.mark.parametrize(
    ("record", "start", "fix"),
    [
        (["a"], "record: expected a JSON object", '{"id": "call-0001"'),
        ({"id": True, "turns": TURNS}, "id: expected non-empty text, got bool", '"id": "call-0001"'),
        ({"id": " ", "turns": TURNS}, "id: expected non-empty text", '"id": "call-0001"'),
        ({"id": "x"}, "turns: missing", '"turns": [{"speaker": "AGENT"'),
        ({"id": "x", "turns": []}, "turns: a call needs at least 2 turns, this one has 0", '"turns": [{'),
        ({"id": "x", "turns": "AGENT: hi"}, "turns: expected a list of turns, got str", '"turns": [{'),
        ({"id": "x", "turns": [TURNS[0], "hi"]}, "turns[1]: expected an object", '"turns": [{'),
        ({"id": "x", "turns": [{"text": "hi"}]}, "turns[0].speaker: missing", '"turns": [{'),
        (
            {"id": "x", "turns": [{"speaker": "BOT", "text": "hi"}]},
            "turns[0].speaker: 'BOT' is not a speaker",
            "write AGENT or CUSTOMER",
        ),
        (
            {"id": "x", "turns": [{"speaker": "AGENT", "text": " "}]},
            "turns[0].text: expected non-empty text",
            "drop the turn",
        ),
        (
            {"id": "x", "turns": TURNS, "domain": 5},
            "domain: expected text or null, got int",
            "quote it or leave it out",
        ),
        ({"id": "x", "turns": TURNS, "phi": {}}, "phi: expected a list of spans", '"phi": []'),
        ({"id": "x", "turns": TURNS, "phi": [{"turn": 0}]}, "phi[0]: expected", '"start": int'),
        (
            {"id": "x", "turns": TURNS, "phi": [{"turn": 2, "start": 0, "end": 1, "kind": "x"}]},
            "phi[0].turn: 2 is not a turn",
            "has 2",
        ),
        (
            {"id": "x", "turns": TURNS, "phi": [{"turn": 0, "start": 3, "end": 99, "kind": "x"}]},
            "phi[0]: 3-99 is not a span of turn 0",
            "start < end",
        ),
    ],
)
def test_bad_record_names_the_field_and_the_fix(record: Any, start: str, fix: str) -> None:
    with pytest.raises(TranscriptRecordError) as err:
        read_transcript_record(record)
    assert str(err.value).startswith(start), err.value
    assert fix in str(err.value)


def test_contract_defaults_make_a_valid_contract_record() -> None:
    filled = with_contract_defaults(read_transcript_record({"id": "x", "turns": TURNS}))
    Transcript.model_validate(filled)
    assert (filled["request_id"], filled["domain"], filled["scenario"]) == ("external", "unknown", "unknown")
    kept = with_contract_defaults({"id": "x", "turns": TURNS, "domain": "retail", "request_id": "r1"})
    assert (kept["domain"], kept["request_id"]) == ("retail", "r1")


def test_file_errors_name_every_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "turns": TURNS}),
        "",
        "{oops",
        json.dumps({"id": "b", "turns": [{"speaker": "AGENT"}]}),
        json.dumps({"id": "a", "turns": TURNS}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TranscriptFileError) as err:
        read_transcripts(path)
    message = str(err.value)
    assert f"{path}: line 3: not JSON" in message
    assert f"{path}: line 4: turns[0].text: missing" in message
    assert f"{path}: line 5: id: 'a' is already the id of line 1" in message
    assert "line 1:" not in message


def test_empty_and_binary_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(TranscriptFileError, match="holds no transcripts"):
        read_transcripts(empty)
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TranscriptFileError, match="not UTF-8 text"):
        read_transcripts(binary)


def test_a_file_of_minimal_records_reads(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps({"id": f"c{i}", "turns": TURNS}) + "\n" for i in range(3)), encoding="utf-8"
    )
    assert [r["id"] for r in read_transcripts(path)] == ["c0", "c1", "c2"]
