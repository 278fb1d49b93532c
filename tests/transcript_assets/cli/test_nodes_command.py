"""`transcripts nodes`: the configured and registered nodes with scores, controls and events."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from tests.support.simulated_node import NodeBehaviour, SimulatedNode
from transcript_assets.cli.main import main
from transcript_foundry.hardware.node_telemetry import HardwareProfile, LiveState
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_registry import NodeRegistry
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.state.state_db import open_state_db


def test_nodes_lists_configured_and_registered_nodes(project_home: Path, tmp_path: Path) -> None:
    with SimulatedNode(NodeBehaviour()) as server:
        nodes_file = tmp_path / "nodes.yaml"
        nodes_file.write_text(
            yaml.safe_dump(
                {
                    "nodes": [
                        {"id": "gpu-box", "backend": "openai_compatible", "url": server.url, "model": "sim"}
                    ]
                }
            )
        )
        engine = open_state_db(project_paths().state_url)
        agent = NodeSpec(id="pi", backend="openai_compatible", url="http://127.0.0.1:9/v1", model="sim")
        profile = HardwareProfile(
            hostname="pi", node_type="raspberry_pi", architecture="aarch64", cpu_cores=4, ram_mb=8000
        )
        NodeRegistry(engine).register(agent, profile, live=LiveState(cpu_temp_c=71.5))
        NodeControls(engine).set("pi", throttle_factor=0.7, reason="CPU 81 C", source="thermal_guard")

        result = CliRunner().invoke(main, ["nodes", "--nodes", str(nodes_file), "--json"])
        assert result.exit_code == 0, result.output
        reports = {r["node_id"]: r for r in json.loads(result.output)}
        assert set(reports) == {"gpu-box", "pi"}
        box, pi = reports["gpu-box"], reports["pi"]
        assert box["eligible"] and box["server_signals"]["models"] == ["sim"] and box["circuit"] == "closed"
        assert set(box["components"]) == {"thermal", "queue", "capability", "history"}
        assert pi["source"] == "agent" and pi["profile"]["node_type"] == "raspberry_pi"
        assert pi["live"]["cpu_temp_c"] == 71.5 and pi["components"]["thermal"] < box["components"]["thermal"]
        assert pi["controls"] == {
            "state": "throttled",
            "throttle_factor": 0.7,
            "paused": False,
            "reason": "CPU 81 C",
            "source": "thermal_guard",
        }
        assert pi["recent_events"][0]["to_state"] == "throttled"

        text = CliRunner().invoke(main, ["nodes", "--nodes", str(nodes_file), "--no-probe"])
        assert text.exit_code == 0, text.output
        assert "gpu-box  [config, openai_compatible, sim]  eligible" in text.output
        assert "controls: throttled (x0.7) by thermal_guard: CPU 81 C" in text.output
        assert "live: CPU 72 C" in text.output


def test_nodes_reports_a_bad_nodes_file(project_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "nodes.yaml"
    bad.write_text("nodes:\n  - id: x\n    backend: openai_compatible\n    model: m\n")
    result = CliRunner().invoke(main, ["nodes", "--nodes", str(bad)])
    assert result.exit_code == 2 and "nodes[0]" in result.output and "url" in result.output
