"""Google CCAI conversation JSON export (transcript_foundry/formats/ccai.py) on real generated records.

Golden files: tests/golden/ccai/ holds the export of tests/fixtures/generated_sample.jsonl with default
options; ``test_golden`` re-renders and compares byte for byte. After an intended format change, rewrite
them with ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/transcript_foundry/formats/test_ccai.py`` and review the diff.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.support.golden_files import GOLDEN_ROOT, check_golden, sample_records, write
from transcript_foundry.formats import ccai

GOLDEN = GOLDEN_ROOT / "ccai"


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return sample_records()


def test_golden(records: list[dict[str, Any]]) -> None:
    check_golden(ccai.render(records), GOLDEN)


def test_rendered_files_validate(records: list[dict[str, Any]], tmp_path: Path) -> None:
    files = ccai.render(records)
    assert [f.relative_path for f in files] == [f"{r['id']}.json" for r in records]
    assert ccai.validate(tmp_path, write(files, tmp_path)) == []


def test_entries_follow_the_turns(records: list[dict[str, Any]]) -> None:
    base = int(datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp()) * 1_000_000
    for record, f in zip(records, ccai.render(records), strict=True):
        doc = json.loads(f.content)
        entries = doc["entries"]
        assert doc["conversation_info"] == {"categories": [{"display_name": record["scenario"]}]}
        assert [e["text"] for e in entries] == [" ".join(t["text"].split()) for t in record["turns"]]
        assert [e["role"] for e in entries] == [t["speaker"] for t in record["turns"]]
        assert {e["role"] for e in entries} <= {"AGENT", "CUSTOMER"}
        assert all(e["user_id"] == (1 if e["role"] == "AGENT" else 2) for e in entries)
        stamps = [e["start_timestamp_usec"] for e in entries]
        assert all(isinstance(s, int) for s in stamps)
        assert all(a < b for a, b in itertools.pairwise(stamps)), "strictly increasing"
        assert base <= stamps[0] < base + 8 * 3600 * 1_000_000
        # ~150 wpm: a call of N words lasts at least N * 0.3 s and not absurdly long
        words = sum(len(t["text"].split()) for t in record["turns"][:-1])
        assert words * 300_000 < stamps[-1] - stamps[0] < words * 1_000_000 + 60_000_000


def test_render_is_deterministic_and_per_record(records: list[dict[str, Any]]) -> None:
    assert ccai.render(records) == ccai.render(records)
    assert ccai.render(records[2:3]) == ccai.render(records)[2:3]
    assert ccai.render(list(reversed(records))) == list(reversed(ccai.render(records)))


def test_options(records: list[dict[str, Any]]) -> None:
    opts = {
        "base_time": "2026-03-02T14:00:00+01:00",
        "categories": ["scenario", "domain", "emotional_tone"],
        "user_ids": "agent",
    }
    docs = [json.loads(f.content) for f in ccai.render(records, opts)]
    assert docs[0]["conversation_info"]["categories"] == [
        {"display_name": "claim_status"},
        {"display_name": "domain:healthcare"},
        {"display_name": "emotional_tone:frustrated"},
    ]
    base = int(datetime(2026, 3, 2, 13, 0, tzinfo=UTC).timestamp()) * 1_000_000
    assert all(base <= d["entries"][0]["start_timestamp_usec"] < base + 8 * 3600 * 1_000_000 for d in docs)
    # one id per agent (company + name) across calls, one per caller, never the role defaults 1/2
    agent_ids = {
        (r["company"], r["agent_name"]): d["entries"][0]["user_id"]
        for r, d in zip(records, docs, strict=True)
    }
    for record, doc in zip(records, docs, strict=True):
        ids = {e["role"]: e["user_id"] for e in doc["entries"]}
        assert ids["AGENT"] == agent_ids[(record["company"], record["agent_name"])]
        assert 1_000_000 <= ids["CUSTOMER"] < 2**31 and ids["CUSTOMER"] != ids["AGENT"]
    assert len({json.loads(f.content)["entries"][1]["user_id"] for f in ccai.render(records, opts)}) == len(
        records
    )
    no_categories = json.loads(ccai.render(records[:1], {"categories": []})[0].content)
    assert "conversation_info" not in no_categories


def test_bad_options_and_records(records: list[dict[str, Any]]) -> None:
    with pytest.raises(ValidationError, match="categories"):
        ccai.render(records, {"categories": ["mood"]})
    with pytest.raises(ValidationError, match="time zone"):
        ccai.render(records, {"base_time": "2026-01-05T09:00:00"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        ccai.render(records, {"colour": "blue"})
    with pytest.raises(ValueError, match="would both be written"):
        ccai.render([records[0], records[0]])
    odd = {**records[0], "turns": [{**records[0]["turns"][0], "speaker": "BOT"}]}
    with pytest.raises(ValueError, match="not AGENT/CUSTOMER"):
        ccai.render([odd])


def test_turns_without_acts_render(records: list[dict[str, Any]], tmp_path: Path) -> None:
    bare = [
        {**r, "turns": [{"speaker": t["speaker"], "text": t["text"]} for t in r["turns"]]} for r in records
    ]
    assert ccai.validate(tmp_path, write(ccai.render(bare), tmp_path)) == []


def _broken(tmp_path: Path, records: list[dict[str, Any]], edit: Any) -> tuple[str, list[str]]:
    names = write(ccai.render(records[:1]), tmp_path)
    doc = json.loads((tmp_path / names[0]).read_text(encoding="utf-8"))
    edit(doc)
    (tmp_path / names[0]).write_text(json.dumps(doc), encoding="utf-8")
    return names[0], ccai.validate(tmp_path, names)


def test_wrong_role_is_reported(records: list[dict[str, Any]], tmp_path: Path) -> None:
    name, problems = _broken(tmp_path, records, lambda d: d["entries"][1].update(role="BOT"))
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}: entries[1].role: ")
    assert "'BOT' is not one of" in problems[0]


def test_other_breakage_is_reported(records: list[dict[str, Any]], tmp_path: Path) -> None:
    def unordered(doc: dict[str, Any]) -> None:
        doc["entries"][3]["start_timestamp_usec"] = doc["entries"][2]["start_timestamp_usec"]

    name, problems = _broken(tmp_path, records, unordered)
    at = json.loads(ccai.render(records[:1])[0].content)["entries"][2]["start_timestamp_usec"]
    assert problems == [
        f"{name}: entries[3].start_timestamp_usec: {at} is not later than the previous entry's {at}; "
        "entries must be in chronological order"
    ]
    _, problems = _broken(
        tmp_path, records, lambda d: d["entries"][0].update(user_id="1", start_timestamp_usec=1.5)
    )
    assert sorted(p.split(": ")[1] for p in problems) == [
        "entries[0].start_timestamp_usec",
        "entries[0].user_id",
    ]
    _, problems = _broken(tmp_path, records, lambda d: d.pop("entries"))
    assert problems == [f"{name}: $: 'entries' is a required property"]
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert ccai.validate(tmp_path, ["bad.json", "absent.json"])[0].startswith("bad.json: $: not valid JSON")
    assert ccai.validate(tmp_path, ["absent.json"]) == ["absent.json: $: file not found"]
