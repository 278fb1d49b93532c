"""`dagster-daemon run -w workspace.yaml` in a subprocess for end-to-end tests, its output in a log file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Daemon:
    """The daemon with TRANSCRIPTS_HOME = ``home`` and DAGSTER_HOME = ``home/dagster_home``; ``env`` on top."""

    def __init__(self, home: Path, log: Path, env: dict[str, str] | None = None):
        self.log = log
        full_env = {
            **os.environ,
            "TRANSCRIPTS_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster_home"),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            # One llama.cpp thread: with more threads than free cores its spin-waits collapse throughput.
            "TRANSCRIPTS_THREADS": "1",
            **(env or {}),
        }
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dagster._daemon", "run", "-w", str(ROOT / "workspace.yaml")],
            cwd=ROOT,
            env=full_env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its run workers and step workers go with it on stop
        )

    def tail(self, chars: int = 6000) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM to the daemon's process group, then SIGKILL to whatever outlived it (code servers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)
        with contextlib.suppress(ProcessLookupError):  # ProcessLookupError: the whole group is gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log_file.close()
