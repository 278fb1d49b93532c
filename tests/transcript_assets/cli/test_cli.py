"""The `transcripts` CLI end to end, as a user runs it: real processes, the embedded model, real Dagster runs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli_runner import CLI, ROOT, run_cli
from transcript_foundry.phi.scrubber import PhiScrubber
from transcript_foundry.quality.coherence.call_view import CallView
from transcript_foundry.quality.coherence.entity_rules import entity_findings
from transcript_foundry.quality.coherence.role_rules import role_findings


def slot_states(home: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(home / "state.db") as db:
        return db.execute("select slot_id, state, transcript from slots order by slot_id").fetchall()


def test_plan_prints_the_jobspec(tmp_path: Path) -> None:
    done = run_cli(
        ["plan", "Generate two hundred and five telco transcripts with irate callers", "--json"], tmp_path
    )
    assert done.returncode == 0, done.stderr
    spec = json.loads(done.stdout)
    assert (spec["count"], spec["domain"], spec["emotional_tone"]) == (205, "telecom", "angry")


def test_plan_says_what_it_understood_and_why(tmp_path: Path) -> None:
    done = run_cli(["plan", "3 thousand ISP outage calls, customers fed up"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "understood:" in lines
    assert any(line.strip().startswith("domain telecom from 'ISP outage' ≈ ") for line in lines)
    assert "  emotional_tone frustrated from 'fed up'" in lines


def test_plan_rules_only_refuses_what_needs_meaning(tmp_path: Path) -> None:
    done = run_cli(["plan", "3 thousand ISP outage calls", "--rules-only"], tmp_path)
    assert done.returncode == 2
    assert "unknown domain 'isp outage'" in done.stderr


@pytest.mark.parametrize(
    ("request_text", "message"),
    [
        ("make me a sandwich", "could not find what to generate"),
        ("Generate 50 banking transcripts", "unknown domain 'banking'"),
        ("Generate 0 healthcare transcripts", "count"),
    ],
)
def test_plan_refuses_nonsense(tmp_path: Path, request_text: str, message: str) -> None:
    done = run_cli(["plan", request_text, "--json"], tmp_path)
    assert done.returncode != 0
    assert message in done.stderr
    assert done.stdout == ""


def test_plan_accepts_a_jobspec_file(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text("count: 12\ndomain: retail\nemotional_tone: sad\nscenarios: [return_refund]\n")
    done = run_cli(["plan", str(path), "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scenarios"] == ["return_refund"]


@pytest.mark.slow
def test_generate_end_to_end_on_the_embedded_model(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    done = run_cli(
        [
            "generate",
            "Generate 2 short healthcare transcripts with anxious callers",
            "--out",
            str(out),
            "--shard-size",
            "3",
            "--budget-factor",
            "6",
            "--formats",
            "contact_lens,ccai,rasa,custom",
            "--mapping",
            "openai_chat",
        ],
        home,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fulfilled" in done.stdout and "accepted 2/2" in done.stdout
    lines = [json.loads(x) for x in (out / "transcripts.jsonl").read_text().splitlines()]
    assert len(lines) == 2
    for record in lines:
        assert {
            "id",
            "request_id",
            "domain",
            "scenario",
            "emotional_tone",
            "complexity",
            "turns",
            "quality",
            "generation",
        } <= set(record)
        assert record["domain"] == "healthcare" and record["emotional_tone"] == "anxious"
        assert {t["speaker"] for t in record["turns"]} == {"AGENT", "CUSTOMER"}
        assert record["quality"]["passed"] is True
        # What the gate promises of every delivered call: no role or entity rule broken anywhere in it
        # (nobody addressed by their own name, the caller never speaking as the company, no identifier,
        # amount or date contradicted, no implausible date of birth), and the discriminator's version.
        assert record["quality"]["coherence"]["version"] == "coherence-v1"
        view = CallView.from_record(record)
        assert [f.reason for f in (*role_findings(view), *entity_findings(view)) if f.hard] == []
    summary = json.loads((out / "summary.json").read_text())
    states = slot_states(home)
    assert summary["accepted"] == 2 and summary["fulfilled"] is True
    terminal = ("accepted", "rejected_quality", "duplicate", "failed")
    assert all(s in terminal for _, s, _ in states), states
    assert summary["accepted"] + len(summary["surplus_accepted"]) + summary["rejected_quality"] + summary[
        "duplicate"
    ] + summary["failed"] == len(states)
    chat_lines = (out / "exports" / "custom_json" / f"{summary['request_id']}.jsonl").read_text().splitlines()
    assert len(chat_lines) == 2 and json.loads(chat_lines[0])["messages"][0]["role"] == "system"
    assert len(list((out / "exports" / "contact_lens").rglob("*_analysis_*.json"))) == 2
    assert len(list((out / "exports" / "ccai" / "conversations").glob("*.json"))) == 2
    assert {p.name for p in (out / "exports" / "rasa").rglob("*.yml")} == {
        "nlu.yml",
        "stories.yml",
        "domain.yml",
    }
    # The dataset report is written beside the output, its headline in the summary and on the terminal.
    report = json.loads((out / "report" / "report.json").read_text())
    assert summary["report"] == report["headline"] and report["headline"]["transcripts"] == 2
    assert (
        summary["paths"]["report"] == str(out / "report" / "report.html")
        and "realism vs real callers" in done.stdout
    )
    assert report["coverage"]["dimensions"]["emotional_tone"]["delivered"] == {"anxious": 2}
    # Healthcare plans plant identifiers (the caller's name, member ID, date of birth ...); every delivered slot
    # records which its raw call said and which survived scrubbing, and none survived: the export's blocking
    # no_planted_phi check passed (the run would have failed otherwise) and the report's recall agrees.
    with sqlite3.connect(home / "state.db") as db:
        rows = db.execute("select plan, planted from slots where state = 'accepted'").fetchall()
    assert rows and all(json.loads(plan)["facts"] and planted is not None for plan, planted in rows)
    assert all(json.loads(planted)["survived"] == [] for _, planted in rows)
    if report["planted_phi"] is not None:  # the delivered calls said some planted value (sampled text)
        assert report["planted_phi"]["recall"] == 1.0 and report["planted_phi"]["survivors"] == []
    # The runs are real Dagster runs on the project's instance (what `dagster dev` shows).
    from dagster import DagsterInstance, DagsterRunStatus
    from dagster._core.instance.ref import InstanceRef

    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home / "dagster_home")))
    runs = instance.get_runs()
    assert {r.job_name for r in runs} == {"generate_shard", "build_library", "export_request"}
    assert all(r.status == DagsterRunStatus.SUCCESS for r in runs)
    assert set(summary["dagster_runs"]) == {r.run_id for r in runs}


@pytest.mark.slow
def test_an_interrupted_request_resumes_without_regenerating(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    args = [
        "generate",
        "Generate 3 retail transcripts",
        "--out",
        str(out),
        "--shard-size",
        "4",
        "--budget-factor",
        "6",
        "--no-progress",
    ]
    env = {**os.environ, "TRANSCRIPTS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home")}
    proc = subprocess.Popen([*CLI, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    before: dict[str, str] = {}
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        if (home / "state.db").exists():
            try:
                before = {sid: t for sid, s, t in slot_states(home) if t is not None}
            except sqlite3.OperationalError:
                continue
            if len(before) >= 2:
                break
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)  # the harshest interruption: no cleanup at all
    proc.wait()
    assert before, "nothing was generated before the interruption"

    done = run_cli(args, home)
    assert done.returncode == 0, done.stdout + done.stderr
    after = {sid: t for sid, _, t in slot_states(home) if t is not None}
    unchanged = 0
    rewritten: dict[str, tuple[int, int]] = {}
    for slot_id, transcript in before.items():
        kept = json.loads(after[slot_id])
        original = json.loads(transcript)
        # Never generated again from scratch: the same generation attempt as before the kill.
        assert kept["generation"]["attempt"] == original["generation"]["attempt"], slot_id
        if original.get("phi") is None:  # killed before its shard was scrubbed: scrubbed since (seeded)
            original = PhiScrubber().scrub_record(original)
        if kept["generation"]["round"] > original["generation"]["round"]:
            # below the quality threshold: revised by the quality loop, as it would have been anyway; the
            # loop rewrites the turns the gate named and keeps the others as written
            rewritten[slot_id] = (original["generation"]["round"], kept["generation"]["round"])
            continue
        # Generated before the kill: carried over, not generated again (same text, same generation record).
        assert kept["turns"] == original["turns"], slot_id
        assert kept["generation"]["seconds"] == original["generation"]["seconds"], slot_id
        unchanged += 1
    assert unchanged + len(rewritten) == len(before)
    lines = (out / "transcripts.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert len({json.loads(x)["id"] for x in lines}) == 3


def test_an_unreachable_node_fails_every_slot_at_its_deadline_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused connection is a transport fault: it costs time, not attempts; the slot fails only when the
    retry.slot_deadline_s setting (here 3 s) has passed, and says so."""
    import socket

    monkeypatch.setenv("TRANSCRIPTS__RETRY__SLOT_DEADLINE_S", "3")

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text(
        "nodes:\n  - id: dead\n    backend: openai_compatible\n"
        f"    url: http://127.0.0.1:{port}/v1\n    model: m\n    prompt_style: completion\n    timeout_s: 2\n"
    )
    home, out = tmp_path / "home", tmp_path / "out"
    done = run_cli(
        [
            "generate",
            "Generate 2 telecom transcripts",
            "--out",
            str(out),
            "--nodes",
            str(nodes),
            "--budget-factor",
            "1",
            "--shard-size",
            "7",
        ],
        home,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT fulfilled" in done.stdout
    states = slot_states(home)
    assert len(states) == 7 and {s for _, s, _ in states} == {"failed"}
    with sqlite3.connect(home / "state.db") as db:
        reasons = [r for (r,) in db.execute("select reason from slots")]
    assert all("cannot reach http://127.0.0.1" in r for r in reasons), reasons
    assert all(": deadline passed: " in r and "retry.slot_deadline_s 3 s" in r for r in reasons), reasons
    summary = json.loads((out / "summary.json").read_text())
    assert summary["failed"] == 7 and summary["status"] == "exhausted" and "budget" in summary["reason"]


def test_a_node_without_a_model_is_the_first_line_the_user_sees(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text("nodes:\n  - id: gpu1\n    backend: openai_compatible\n    url: http://127.0.0.1:9/v1\n")
    home = tmp_path / "home"
    done = run_cli(["generate", "Generate 6 short retail transcripts", "--out", str(tmp_path / "out"),
                    "--nodes", str(nodes)], home, timeout=300)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"error: nodes file {nodes}: nodes[0]: ") and "model" in first, done.stderr
    assert "resource_fn" not in done.stderr and "Traceback" not in done.stderr
    assert not (home / "state.db").exists(), "nothing was submitted"


FIXTURE = ROOT / "tests" / "fixtures" / "generated_sample.jsonl"


@pytest.mark.parametrize(
    ("fmt", "mapping", "expect"),
    [
        ("contact_lens", None, "Analysis/Voice"),
        ("ccai", None, "conversations"),
        ("rasa", None, "domain.yml"),
        ("custom", "sharegpt", ".json"),
        ("custom", None, ".jsonl"),
    ],
)
def test_export_command_writes_and_validates(
    tmp_path: Path, fmt: str, mapping: str | None, expect: str
) -> None:
    args = ["export", "--format", fmt, "--in", str(FIXTURE), "--out", str(tmp_path / "x")]
    done = run_cli([*args, *(["--mapping", mapping] if mapping else [])], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every file validates" in done.stdout
    written = [str(p.relative_to(tmp_path / "x")) for p in (tmp_path / "x").rglob("*") if p.is_file()]
    assert any(expect in w for w in written), written


def test_export_command_names_a_typo_in_a_mapping(tmp_path: Path) -> None:
    mapping = tmp_path / "mine.yaml"
    mapping.write_text("layuot: jsonl\nrecord:\n  id: $id\n")
    done = run_cli(
        [
            "export",
            "--format",
            "custom",
            "--mapping",
            str(mapping),
            "--in",
            str(FIXTURE),
            "--out",
            str(tmp_path / "x"),
        ],
        tmp_path,
    )
    assert done.returncode == 2
    assert "mine.yaml" in done.stderr and "layuot" in done.stderr and "did you mean 'layout'" in done.stderr


def test_export_command_refuses_a_file_outside_the_contract(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "turns": []}\nnot json\n')
    done = run_cli(["export", "--format", "ccai", "--in", str(bad), "--out", str(tmp_path / "x")], tmp_path)
    assert done.returncode == 2
    assert "line 1" in done.stderr and "line 2: not JSON" in done.stderr
