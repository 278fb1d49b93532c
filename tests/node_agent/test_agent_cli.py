"""`transcripts agent` as a process: it prints where it listens, registers, and on SIGTERM or Ctrl-C
(SIGINT) shuts down cleanly, deregistering the node and exiting 0."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.agent_harness import FAKE_MODEL, GatedUpstream, url_from_banner, wait_for_health
from tests.support.llm_server import closed_port_url
from transcript_assets.cli.main import main
from transcript_foundry.pool.node_registry import NodeRegistry
from transcript_foundry.state.state_db import open_state_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_agent_process_registers_and_deregisters_on_signal(tmp_path: Path, stop: signal.Signals) -> None:
    state_url = f"sqlite:///{tmp_path / 'state.db'}"
    registry = NodeRegistry(open_state_db(state_url))
    with GatedUpstream() as upstream:
        command = [
            sys.executable, "-m", "transcript_assets.cli.main", "agent", "--no-auth", "--port", "0",
            "--node-id", "cli-node", "--upstream", upstream.url, "--upstream-model", FAKE_MODEL,
            "--state-url", state_url, "--audit-log", str(tmp_path / "audit.jsonl"),
        ]  # fmt: skip
        proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            url = url_from_banner(proc.stderr.readline() if proc.stderr else "")
            health = wait_for_health(url)
            assert health["node_id"] == "cli-node"
            assert [n.spec.url for n in registry.all()] == [url]
            proc.send_signal(stop)
            assert proc.wait(timeout=30) == 0
            assert "cli-node stopped" in (proc.stderr.read() if proc.stderr else "")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert registry.all() == []


def test_agent_start_failures_name_the_cause_and_the_fix(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["agent", "--no-auth", "--port", "0", "--audit-log", str(tmp_path / "audit.jsonl")]
    no_server = runner.invoke(main, [*base, "--upstream", closed_port_url(), "--no-register"])
    assert no_server.exit_code == 2
    assert "cannot reach the upstream server" in no_server.output and "--upstream" in no_server.output
    with GatedUpstream() as upstream:
        no_db = runner.invoke(
            main, [*base, "--upstream", upstream.url, "--state-url", "postgresql://nobody@127.0.0.1:1/none"]
        )
    assert no_db.exit_code == 2
    assert "cannot register in postgresql://nobody@127.0.0.1:1/none" in no_db.output
    assert "--no-register" in no_db.output
