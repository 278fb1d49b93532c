"""`transcripts scrub IN.jsonl -o OUT.jsonl`: the round trip, the report, and bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from transcript_assets.cli.main import main
from transcript_foundry.phi.evaluation import load_planted

PLANTED = Path(__file__).resolve().parents[2] / "fixtures" / "phi" / "planted_transcripts.jsonl"


def write_input(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_round_trip_keeps_every_other_field(tmp_path: Path) -> None:
    planted = load_planted(PLANTED)[:6]
    records = [r for r, _ in planted]
    # A user's own records: extra fields of their own, fewer of ours.
    records[0] = {"call_id": "mine-1", "turns": records[0]["turns"], "agent_name": "Maria", "labels": ["x"]}
    source = write_input(tmp_path / "in.jsonl", [json.dumps(r) for r in records])
    out, report = tmp_path / "out" / "scrubbed.jsonl", tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["scrub", str(source), "-o", str(out), "--mode", "hipaa", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert "scrubbed 6 transcript(s)" in result.output
    scrubbed = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(scrubbed) == 6
    for before, after in zip(records, scrubbed, strict=True):
        assert {k: v for k, v in after.items() if k not in ("turns", "phi")} == {
            k: v for k, v in before.items() if k != "turns"
        }
        assert after["phi"] and len(after["turns"]) == len(before["turns"])
    for (record, spans), after in zip(planted, scrubbed, strict=True):
        text = json.dumps(after)
        for p in spans:
            value = record["turns"][p.turn]["text"][p.start : p.end]
            assert len(value) < 5 or value not in text
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["records_written"] == 6 and data["records_rejected"] == 0 and data["mode"] == "hipaa"
    assert sum(data["entities_by_kind"].values()) == sum(len(r["phi"]) for r in scrubbed)
    assert data["turns"] == sum(len(r["turns"]) for r in scrubbed) and data["turns_per_second"] > 0
    assert [r["line"] for r in data["records"]] == [1, 2, 3, 4, 5, 6]
    # The report holds counts, never values.
    report_text = report.read_text(encoding="utf-8")
    for record, spans in planted:
        for p in spans:
            assert record["turns"][p.turn]["text"][p.start : p.end] not in report_text


def test_mask_replacement_from_the_command_line(tmp_path: Path) -> None:
    record, _ = load_planted(PLANTED)[0]
    source = write_input(tmp_path / "in.jsonl", [json.dumps(record)])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["scrub", str(source), "-o", str(out), "--replacement", "mask"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "[NAME]" in text and "[DOB]" in text and "[MEMBER_ID]" in text


def test_bad_lines_are_named_and_nothing_else_is_lost(tmp_path: Path) -> None:
    good = [json.dumps(r) for r, _ in load_planted(PLANTED)[:3]]
    lines = [
        good[0],
        '{"id": "no-turns", "domain": "retail"}',
        good[1],
        "{not json",
        '{"id": "bad-turn", "turns": [{"speaker": "AGENT", "text": "hi"}, {"speaker": "CUSTOMER", "txt": "x"}]}',
        "",
        good[2],
    ]
    source = write_input(tmp_path / "in.jsonl", lines)
    out, report = tmp_path / "out.jsonl", tmp_path / "report.json"
    result = CliRunner().invoke(main, ["scrub", str(source), "-o", str(out), "--report", str(report)])
    assert result.exit_code == 2
    assert f"{source}: line 2: turns: missing" in result.output
    assert f"{source}: line 4: not JSON" in result.output
    assert f"{source}: line 5: turns[1].text: missing" in result.output
    assert "3 line(s)" in result.output
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in written] == [json.loads(g)["id"] for g in good]
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [e["line"] for e in data["errors"]] == [2, 4, 5] and data["records_written"] == 3


def test_out_must_not_be_the_input(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", ['{"turns": [{"speaker": "AGENT", "text": "hi"}]}'])
    result = CliRunner().invoke(main, ["scrub", str(source), "-o", str(source)])
    assert result.exit_code == 2 and "must not be the input file" in result.output
    assert source.read_text(encoding="utf-8").startswith('{"turns"')
