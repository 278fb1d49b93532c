"""Crash matrix: `kill -9` of the CLI during export (a real process, real files).

A valid export of 4 transcripts is in place; an export of 1,600 into the same folder is killed while it
writes. The folder must still hold the previous export, whole and valid (never a mix, never a half-written
file); the export run again completes, every file valid, with no staging folder left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli_runner import CLI, ROOT, run_cli
from transcript_foundry.formats.export_formats import export_format

FIXTURE = ROOT / "tests" / "fixtures" / "generated_sample.jsonl"


def many_transcripts(path: Path, copies: int) -> int:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    with path.open("w", encoding="utf-8") as out:
        for k in range(copies):
            for line in lines:
                record = json.loads(line)
                record["id"] = f"{record['id']}-{k}"
                out.write(json.dumps(record) + "\n")
    return copies * len(lines)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def export_args(source: Path, out: Path) -> list[str]:
    return ["export", "--format", "contact_lens", "--in", str(source), "--out", str(out)]


@pytest.mark.slow
def test_a_killed_export_leaves_the_previous_one_whole_and_resumes(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "exports" / "contact_lens"
    done = run_cli(export_args(FIXTURE, out), home, timeout=300)
    assert done.returncode == 0, done.stderr
    before = {name: (out / name).read_bytes() for name in files_under(out)}
    assert len(before) == 4

    big = tmp_path / "big.jsonl"
    n = many_transcripts(big, 400)
    env = {**os.environ, "TRANSCRIPTS_HOME": str(home)}
    proc = subprocess.Popen(
        [*CLI, *export_args(big, out)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    staging = out.with_name(f".{out.name}.partial-{proc.pid}")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if staging.is_dir() and len(files_under(staging)) >= 20:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the export ended before it could be killed mid-write"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    # The previous export is there, byte for byte, and nothing of the killed one is mixed into it.
    assert {name: (out / name).read_bytes() for name in files_under(out)} == before
    assert export_format("contact_lens", None).validate(out, list(before)) == []

    again = run_cli(export_args(big, out), home, timeout=600)
    assert again.returncode == 0 and "every file validates" in again.stdout, again.stderr
    written = files_under(out)
    assert len(written) == n and not any(name.startswith(".") or ".partial" in name for name in written)
    assert [p.name for p in out.parent.iterdir()] == [out.name], "no staging folder left behind"
