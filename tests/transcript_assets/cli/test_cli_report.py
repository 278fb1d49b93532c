"""`transcripts report IN.jsonl -o DIR` on any transcript file, as a user runs it."""

import json
from pathlib import Path

from tests.support.cli_runner import run_cli
from tests.support.golden_files import FIXTURE


def test_report_on_a_file_with_other_tools_records_and_a_bad_line(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    other_tool = {
        "turns": [
            {"speaker": "agent", "text": "Hi, how can I help?"},
            {"speaker": "user", "text": "My bill is wrong."},
        ]
    }
    bad = {"id": "x", "turns": [{"speaker": "AGENT"}]}
    source.write_text(FIXTURE.read_text() + json.dumps(other_tool) + "\n" + json.dumps(bad) + "\nnot json\n")
    out = tmp_path / "report"
    done = run_cli(
        [
            "report",
            str(source),
            "-o",
            str(out),
            "--no-embeddings",
            "--request",
            "Generate 5 healthcare transcripts",
        ],
        tmp_path / "home",
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{source}: line 6: turns[0].text: missing" in done.stderr
    assert f"{source}: line 7: not JSON" in done.stderr
    data = json.loads((out / "report.json").read_text())
    assert data["headline"]["transcripts"] == 5  # the four contract records and the other tool's
    assert data["diversity"]["by_speaker"].keys() == {"AGENT", "CUSTOMER"}
    assert data["coverage"]["dimensions"]["emotional_tone"]["asked"] == "even mix"
    assert data["headline"]["embedding_spread"] is None and data["realism"]["classifier_auc"] is None
    assert (out / "report.html").exists() and "dataset: 5 transcripts" in done.stdout


def test_report_refuses_a_bad_reference_file_naming_it(tmp_path: Path) -> None:
    reference = tmp_path / "ref.jsonl"
    reference.write_text('{"utterance": 3}\n')
    done = run_cli(
        ["report", str(FIXTURE), "-o", str(tmp_path / "r"), "--reference", str(reference)], tmp_path / "h"
    )
    assert done.returncode == 2
    assert f"error: {reference}:1: needs an 'utterance' or 'text' string field" in done.stderr
    assert not (tmp_path / "r").exists()
