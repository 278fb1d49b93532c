"""A fleet of four LLM nodes for the executor tests: nodes.yaml plus the state DB the pool reads.

No server answers these URLs; the executor only ranks them and the test ops never call a model. Scores
differ by declared speed, weight and capabilities (see the tests for who wins what).
"""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine

from transcript_foundry.state.state_db import open_state_db

URL = "http://127.0.0.1:9/v1"


def node(node_id: str, **fields: object) -> dict[str, object]:
    return {
        "id": node_id,
        "backend": "openai_compatible",
        "url": URL,
        "model": "m",
        "server_signals": False,
        **fields,
    }


NODES = [
    node("plain", prompt_style="completion", tokens_per_s=300),  # fastest, but no chat_json
    node("chat", tokens_per_s=20),
    node("gpu-fast", capabilities=["gpu"], tokens_per_s=200, kubernetes_node="k8s-gpu-1"),
    node("gpu-slow", capabilities=["gpu"], tokens_per_s=50, weight=0.6, kubernetes_node="k8s-gpu-2"),
]


def install_fleet(home: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """Write nodes.yaml, point the pool at it and at a state DB; returns the state DB engine."""
    nodes_file = home / "nodes.yaml"
    nodes_file.write_text(yaml.safe_dump({"nodes": NODES}))
    state_url = f"sqlite:///{home / 'state.db'}"
    monkeypatch.setenv("TRANSCRIPTS_NODES_FILE", str(nodes_file))
    monkeypatch.setenv("TRANSCRIPTS_STATE_URL", state_url)
    monkeypatch.delenv("TRANSCRIPTS_PINNED_NODE", raising=False)
    return open_state_db(state_url)
