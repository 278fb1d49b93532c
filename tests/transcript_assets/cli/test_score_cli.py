"""`transcripts score`: any output-contract file scored with the pipeline's discriminator, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_runner import run_cli
from transcript_foundry.quality.coherence.corruptions import role_swap
from transcript_foundry.quality.coherence.reference_calls import CALLS_FILE, reference_calls


def _record(view, **extra):  # type: ignore[no-untyped-def]
    return {
        "id": view.id,
        "domain": view.domain,
        "company": view.company,
        "agent_name": view.agent_name,
        "turns": [{"speaker": s, "text": t} for s, t in view.turns],
        **extra,
    }


@pytest.mark.slow
def test_score_ranks_coherent_calls_above_broken_ones_and_names_bad_lines(tmp_path: Path) -> None:
    clean = [v for v in reference_calls("heldout") if v.domain in ("healthcare", "retail", "telecom")][:3]
    other_tool = [v for v in reference_calls("heldout") if v.domain in ("banking", "insurance")][:1]
    assert clean and other_tool, CALLS_FILE
    lines = [json.dumps(_record(v, source="another-tool")) for v in clean]
    lines.append(json.dumps(_record(role_swap(clean[0]))))  # the agent's lines said by the caller
    lines.append(json.dumps({"id": "only-id-and-turns", "turns": [{"speaker": "AGENT", "text": "Hello."}, {"speaker": "CUSTOMER", "text": "Hi, I need help with my bill."}]}))  # fmt: skip
    lines.append(json.dumps(_record(other_tool[0])))
    lines.append('{"id": "bad", "turns": [{"speaker": "BOT", "text": "hi"}]}')
    lines.append("not json")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_cli(
        ["score", str(source), "-o", str(tmp_path / "out.jsonl"), "--report", str(tmp_path / "r.json")],
        tmp_path / "home",
    )
    assert done.returncode == 2, done.stderr
    assert "line 7: turns[0].speaker: 'BOT' is not a speaker; write AGENT or CUSTOMER" in done.stderr
    assert "line 8: not JSON" in done.stderr
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in out] == [v.id for v in clean] + [
        clean[0].id,
        "only-id-and-turns",
        other_tool[0].id,
    ]
    assert all(r["source"] == "another-tool" for r in out[:3])  # other fields kept
    for record in out:
        q = record["quality"]
        assert set(q["scores"]) == {"naturalness", "coherence", "domain_accuracy", "emotional_consistency"}
        assert q["coherence"]["version"] == "coherence-v1"
    assert all(r["quality"]["passed"] for r in out[:3]), [r["quality"]["reasons"] for r in out[:3]]
    swapped = out[3]["quality"]
    assert not swapped["passed"]
    assert swapped["overall"] < min(r["quality"]["overall"] for r in out[:3])
    assert any(reason.startswith("turn ") for reason in swapped["reasons"])
    assert out[5]["quality"]["scores"]["domain_accuracy"] is None  # banking/insurance: no pack
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["records_scored"] == 6 and report["records_rejected"] == 2
