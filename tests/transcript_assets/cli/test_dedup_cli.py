"""`transcripts dedup` on a user's file, run as a user runs it (a real process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from tests.support.dedup_corpus import (
    case_punct_copy,
    exemplar_records,
    paraphrase,
    structural_clone,
    vocabulary,
    word_edits,
)
from transcript_foundry.domains.domain_pack import DomainPack


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_dedup_keeps_the_first_of_each_group_and_reports_every_drop(
    packs: dict[str, DomainPack], tmp_path: Path
) -> None:
    records = exemplar_records(packs)[:8]
    vocab = vocabulary(records)
    planted = {
        "exact": case_punct_copy(records[1]),
        "minhash": word_edits(records[2], 0.1, 4, vocab),
        "flow": structural_clone(records[3]),
    }
    given = [
        records[0],
        records[1],
        planted["exact"],
        records[2],
        records[3],
        planted["minhash"],
        planted["flow"],
        *records[4:],
    ]
    out, report_path = tmp_path / "out.jsonl", tmp_path / "report.json"
    done = run_cli(
        [
            "dedup",
            str(_write(tmp_path / "in.jsonl", given)),
            "-o",
            str(out),
            "--report",
            str(report_path),
            "--rules",
            "exact,minhash,flow",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert kept == records  # unchanged records, input order
    report = json.loads(report_path.read_text())
    assert report["dropped_by_rule"] == {"exact": 1, "minhash": 1, "flow": 1}
    assert (report["transcripts"], report["kept"], report["dropped"]) == (len(given), 8, 3)
    by_id = {d["id"]: d for d in report["duplicates"]}
    for rule, record in planted.items():
        entry = by_id[record["id"]]
        assert entry["rule"] == rule and entry["duplicate_of"] == record["id"].rsplit("-", 1)[0]
        assert 0 < entry["similarity"] <= 1
    assert "kept 8, dropped 3" in done.stdout


@pytest.mark.slow
def test_dedup_with_every_rule_catches_a_paraphrase(packs: dict[str, DomainPack], tmp_path: Path) -> None:
    records = exemplar_records(packs)[:4]
    para = paraphrase(records[0])
    out, report_path = tmp_path / "out.jsonl", tmp_path / "report.json"
    given = _write(tmp_path / "in.jsonl", [*records, para])
    done = run_cli(
        ["dedup", str(given), "-o", str(out), "--report", str(report_path), "--rules", "exact,semantic"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    [entry] = json.loads(report_path.read_text())["duplicates"]
    assert (entry["id"], entry["rule"], entry["duplicate_of"]) == (para["id"], "semantic", records[0]["id"])
    assert entry["similarity"] >= 0.95
    assert len(out.read_text().splitlines()) == 4


def test_a_bad_line_is_named_with_its_field(packs: dict[str, DomainPack], tmp_path: Path) -> None:
    good = exemplar_records(packs)[0]
    broken = good | {"id": "b", "turns": [{"speaker": "BOT", "text": "hello"}]}
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(broken) + "\n{not json\n", encoding="utf-8")
    done = run_cli(["dedup", str(path), "-o", str(tmp_path / "out.jsonl")], tmp_path)
    assert done.returncode == 2
    assert "line 2: turns[0].speaker: 'BOT' is not a speaker; write AGENT or CUSTOMER" in done.stderr
    assert "line 3: not JSON" in done.stderr
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rules", "exact,fuzzy"], "--rules: Value error, unknown dedup rule(s) ['fuzzy']"),
        (["--threshold", "semantic=high"], "'high' is not a number"),
        (["--threshold", "cosine=0.9"], "RULE one of minhash, flow, semantic"),
        (
            ["--threshold", "semantic=1.5"],
            "--threshold (semantic_threshold): Input should be less than or equal to 1",
        ),
    ],
)
def test_bad_options_get_a_specific_error(
    packs: dict[str, DomainPack], tmp_path: Path, args: list[str], message: str
) -> None:
    path = _write(tmp_path / "in.jsonl", exemplar_records(packs)[:2])
    done = run_cli(["dedup", str(path), "-o", str(tmp_path / "out.jsonl"), *args], tmp_path)
    assert done.returncode == 2
    assert message in done.stderr, done.stderr


def test_repeated_ids_in_the_file_are_refused(packs: dict[str, DomainPack], tmp_path: Path) -> None:
    first = exemplar_records(packs)[0]
    path = _write(tmp_path / "in.jsonl", [first, dict(first)])
    done = run_cli(["dedup", str(path), "-o", str(tmp_path / "out.jsonl")], tmp_path)
    assert done.returncode == 2
    assert f"line 2: id: {first['id']!r} is already the id of line 1" in done.stderr
