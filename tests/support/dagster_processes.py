"""The real Dagster processes for tests: ``dagster-daemon run`` and ``dagster-webserver`` on a test instance.

Both load the project's ``workspace.yaml`` with the test's TRANSCRIPTS_HOME and DAGSTER_HOME, write their
output to a log file and stop with their whole process group (code servers, run and step workers).
``DagsterWebserver`` binds 127.0.0.1 on a free port and waits until ``/server_info`` answers;
``graphql(query)`` posts to its GraphQL endpoint.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.llm_server import free_port

ROOT = Path(__file__).resolve().parents[2]


class DagsterProcess:
    """A Dagster command line in a subprocess of its own process group, its output in a log file."""

    def __init__(self, args: list[str], home: Path, log: Path, env: dict[str, str] | None = None):
        self.log = log
        environ = {
            **os.environ,
            "TRANSCRIPTS_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster_home"),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            **(env or {}),
        }
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", *args, "-w", str(ROOT / "workspace.yaml")],
            cwd=ROOT,
            env=environ,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its children go with it on stop
        )

    def tail(self, chars: int = 6000) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM to the process group, then SIGKILL to whatever outlived it (code servers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)
        with contextlib.suppress(ProcessLookupError):  # ProcessLookupError: the whole group is gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log_file.close()


class Daemon(DagsterProcess):
    """`dagster-daemon run -w workspace.yaml`."""

    def __init__(self, home: Path, log: Path, env: dict[str, str] | None = None):
        # One llama.cpp thread unless told otherwise: with more threads than free cores its spin-waits
        # collapse throughput.
        super().__init__(["dagster._daemon", "run"], home, log, {"TRANSCRIPTS_THREADS": "1", **(env or {})})


class DagsterWebserver(DagsterProcess):
    """`dagster-webserver -h 127.0.0.1 -p <free port> -w workspace.yaml`, up once it answers."""

    def __init__(self, home: Path, log: Path, *, start_timeout_s: float = 120.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["dagster_webserver", "-h", "127.0.0.1", "-p", str(self.port)]
        super().__init__(args, home, log)
        self._wait_until_up(start_timeout_s)

    def _wait_until_up(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster-webserver exited with {self.process.returncode}:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/server_info", timeout=2).status_code == 200:
                    return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"dagster-webserver did not answer within {timeout_s:.0f} s:\n{self.tail()}")

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]
