"""Transcripts from other tools (only ``id`` and ``turns``, chat-style speaker names, no domain) go through
``export`` (every format), ``dedup``, ``scrub`` and ``score``: the lenient reader is what they share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support.golden_files import sample_records
from transcript_assets.cli.main import main

SPEAKER_NAMES = {"AGENT": "assistant", "CUSTOMER": "user"}


def _minimal(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """The fixture's real transcripts stripped to id and turns, speakers written as a chat tool does."""
    records = [
        {
            "id": r["id"],
            "turns": [{"speaker": SPEAKER_NAMES[t["speaker"]], "text": t["text"]} for t in r["turns"]],
        }
        for r in sample_records()
    ]
    records[1]["domain"] = "retail"  # domain is optional, used when present
    path = tmp_path / "other_tool.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path, records


@pytest.mark.parametrize(("fmt", "mapping"), [("contact_lens", None), ("ccai", None), ("rasa", None), ("custom", None), ("custom", "sharegpt")])  # fmt: skip
def test_export_takes_records_with_only_id_and_turns(
    project_home: Path, tmp_path: Path, fmt: str, mapping: str | None
) -> None:
    source, records = _minimal(tmp_path)
    args = ["export", "--format", fmt, "--in", str(source), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args + (["--mapping", mapping] if mapping else []))
    assert result.exit_code == 0, result.output
    assert f"{len(records)} transcript(s)" in result.output and "every file validates" in result.output
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert written
    if fmt == "custom" and mapping is None:  # the contract mapping: contract records, fields filled
        (only,) = written
        assert only.name == "external.jsonl"
        out = [json.loads(line) for line in only.read_text(encoding="utf-8").splitlines()]
        assert [(r["id"], r["domain"], r["turns"][0]["speaker"]) for r in out[:2]] == [
            (records[0]["id"], "unknown", "AGENT"),
            (records[1]["id"], "retail", "AGENT"),
        ]


def test_dedup_takes_records_with_only_id_and_turns(project_home: Path, tmp_path: Path) -> None:
    source, records = _minimal(tmp_path)
    copy = {**records[2], "id": "copy-of-2"}
    source.write_text(source.read_text(encoding="utf-8") + json.dumps(copy) + "\n", encoding="utf-8")
    out = tmp_path / "kept.jsonl"
    result = CliRunner().invoke(main, ["dedup", str(source), "-o", str(out), "--rules", "exact,minhash"])
    assert result.exit_code == 0, result.output
    kept = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in kept] == [r["id"] for r in records]
    assert {t["speaker"] for r in kept for t in r["turns"]} == {"AGENT", "CUSTOMER"}
    assert "dropped 1 (exact 1" in result.output


@pytest.mark.slow
def test_scrub_and_score_take_records_with_only_id_and_turns(project_home: Path, tmp_path: Path) -> None:
    source, records = _minimal(tmp_path)
    scrubbed = tmp_path / "scrubbed.jsonl"
    result = CliRunner().invoke(main, ["scrub", str(source), "-o", str(scrubbed)])
    assert result.exit_code == 0, result.output
    scored = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(main, ["score", str(scrubbed), "-o", str(scored)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in scored.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in out] == [r["id"] for r in records]
    for record in out:
        assert isinstance(record["phi"], list)
        assert 0.0 <= record["quality"]["overall"] <= 1.0
        assert "request_id" not in record  # nothing invented for the user's own file
