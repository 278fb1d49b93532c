"""Running the `transcripts` CLI as a user does: a real process, a project home of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "transcript_assets.cli.main"]
ROOT = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], home: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRANSCRIPTS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home")}
    return subprocess.run([*CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
