"""Secrets hygiene after a real run: marker secrets are planted where an operator puts them (the agent's
JWT secret and upstream API key, the operator token the orchestrator sends, the SMTP password and Slack
webhook URL in the settings), a request is generated through the agent on the embedded model, and every
byte written is searched for them: the project home (state database, Dagster run storage, event logs and
run config, compute logs), the output folder (transcripts, summary.json, exports), the agent's audit log,
every log record of the test process, the CLI's output and `config show`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from node_agent.auth import Role, mint_token
from tests.support.agent_harness import proxy_config, running_agent
from tests.support.cli_runner import run_cli
from tests.support.llm_server import MODEL_ALIAS
from transcript_assets.cli.main import main

JWT_SECRET = "marker-jwt-secret-" + "7" * 32
UPSTREAM_KEY = "marker-upstream-api-key-5b1c"
SMTP_PASSWORD = "marker-smtp-password-93ad"
WEBHOOK = "https://hooks.slack.com/services/T000/B000/marker-webhook-0c4e"


def _leaks(root: Path, markers: dict[str, str], skip: set[Path]) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path in skip:
            continue
        data = path.read_bytes()
        found += [
            f"{path.relative_to(root)}: {name}" for name, value in markers.items() if value.encode() in data
        ]
    return found


@pytest.mark.slow
def test_no_secret_is_written_anywhere_after_a_real_run(
    llama_server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    operator_token = mint_token(Role.operator, "orchestrator", 3600, secret=JWT_SECRET)
    markers = {
        "jwt secret": JWT_SECRET,
        "operator token": operator_token,
        "token signature": operator_token.rsplit(".", 1)[-1],
        "upstream api key": UPSTREAM_KEY,
        "smtp password": SMTP_PASSWORD,
        "webhook url": WEBHOOK,
        "webhook path": WEBHOOK.rsplit("/", 1)[-1],
    }
    home, out = tmp_path / "home", tmp_path / "out"
    monkeypatch.setenv("TRANSCRIPTS_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    monkeypatch.setenv("TF_TEST_UPSTREAM_KEY", UPSTREAM_KEY)
    runner = CliRunner()
    for key, value in (("alerting.smtp_password", SMTP_PASSWORD), ("alerting.slack_webhook_url", WEBHOOK)):
        done = runner.invoke(main, ["config", "set", key], input=f"{value}\n")
        assert done.exit_code == 0, done.output
    config = proxy_config(
        llama_server_url,
        tmp_path,
        upstream_model=MODEL_ALIAS,
        upstream_api_key_env="TF_TEST_UPSTREAM_KEY",
        jwt_secret=JWT_SECRET,
        node_id="hygiene-node",
    )
    with running_agent(config) as agent:
        nodes = tmp_path / "nodes.yaml"
        nodes.write_text(
            "nodes:\n  - id: hygiene-node\n    backend: openai_compatible\n"
            f"    url: {agent.url}\n    model: {MODEL_ALIAS}\n    prompt_style: completion\n"
            "    api_key_env: TF_TEST_NODE_TOKEN\n    context_window: 4096\n",
            encoding="utf-8",
        )
        os.environ["TF_TEST_NODE_TOKEN"] = operator_token  # what the orchestrator's environment holds
        try:
            done = run_cli(
                [
                    "generate",
                    "Generate 1 short retail transcript",
                    "--out",
                    str(out),
                    "--nodes",
                    str(nodes),
                    "--shard-size",
                    "2",
                    "--budget-factor",
                    "4",
                    "--formats",
                    "contact_lens,custom",
                    "--no-progress",
                ],
                home,
            )
        finally:
            del os.environ["TF_TEST_NODE_TOKEN"]
    assert (out / "summary.json").exists(), done.stdout + done.stderr
    assert (tmp_path / "audit.jsonl").read_text(encoding="utf-8").strip(), "the agent audited nothing"
    assert "operator" in (tmp_path / "audit.jsonl").read_text(encoding="utf-8")  # the run went through it
    shown = runner.invoke(main, ["config", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    written = _leaks(tmp_path, markers, skip={nodes})
    said = [
        f"{where}: {name}"
        for where, text in (
            ("generate stdout", done.stdout),
            ("generate stderr", done.stderr),
            ("config show", shown.output),
            ("log records", caplog.text),
        )
        for name, value in markers.items()
        if value in text
    ]
    assert written + said == []
    # The search can find what it looks for: the database holds the encrypted settings, not the markers.
    assert (home / "state.db").exists() and any((home / "dagster_home").rglob("*"))
