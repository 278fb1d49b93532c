"""Registration and heartbeat in the state DB (SQLite and the real Postgres): the agent registers its
NodeSpec and HardwareProfile, heartbeats its LiveState (queue included), registers again when its row
vanishes, writes drain/resume as node controls, and deregisters on a clean shutdown. The orchestrator
can call the node straight from its registry entry."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from node_agent.config import DEFAULT_TOKEN_ENV
from tests.support.agent_harness import FAKE_MODEL, GatedUpstream, bearer, proxy_config, running_agent, token
from transcript_foundry.llm.backend import SamplingParams
from transcript_foundry.llm.openai_backend import OpenAICompatibleBackend
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_registry import NodeRegistry, RegisteredNode
from transcript_foundry.state.state_db import open_state_db


@pytest.fixture(params=["sqlite", "postgres"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("postgres_url")


def _until(check: Callable[[], RegisteredNode | None], what: str, timeout_s: float = 10.0) -> RegisteredNode:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_agent_registers_heartbeats_and_deregisters(
    state_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_state_db(state_url)
    registry, controls = NodeRegistry(engine), NodeControls(engine)
    with GatedUpstream() as upstream:
        config = proxy_config(
            upstream.url, tmp_path, node_id="gpu-box", register=True, state_url=state_url, heartbeat_s=0.1
        )
        with running_agent(config) as agent:
            [node] = registry.all()
            assert node.source == "agent" and node.hostname == socket.gethostname()
            spec = node.spec
            assert (spec.id, spec.backend, spec.url, spec.model) == (
                "gpu-box",
                "openai_compatible",
                agent.url,
                FAKE_MODEL,
            )
            assert spec.api_key_env == DEFAULT_TOKEN_ENV and spec.prompt_style == "chat_json"
            # The pool keeps at most what the agent admits busy (4 running + 4 of its 16 queue places).
            assert spec.concurrency_bounds == (2, 8) and spec.server_signals is False
            assert node.profile is not None and {"agent", "chat_json"} <= set(node.profile.capabilities)
            assert node.profile.cpu_cores >= 1 and node.profile.ram_mb > 0

            # A call in flight shows up in the next heartbeat.
            upstream.hold()
            with httpx.Client(timeout=30) as client:
                pending = client.build_request(
                    "POST", f"{agent.url}/completions", json={"prompt": "x"}, headers=bearer("operator")
                )
                answered: list[int] = []
                thread = threading.Thread(target=lambda: answered.append(client.send(pending).status_code))
                thread.start()
                busy = _until(
                    lambda: next((n for n in registry.fresh() if n.live and n.live.in_flight == 1), None),
                    "a heartbeat with one call in flight",
                )
                assert busy.heartbeat_age_s < 5
                upstream.release()
                thread.join(10)
            assert answered == [200]
            _until(
                lambda: next((n for n in registry.all() if n.live and n.live.in_flight == 0), None),
                "idle again",
            )

            # Someone removed the row (a DB reset): the next heartbeat registers the node again.
            registry.deregister("gpu-box")
            _until(lambda: next(iter(registry.all()), None), "registration after the row vanished")

            # Drain and resume are node controls the pool reads.
            assert httpx.post(f"{agent.url}/admin/drain", headers=bearer("admin", "alice")).status_code == 200
            control = controls.get("gpu-box")
            assert (control.paused, control.source) == (True, "agent") and "alice" in (control.reason or "")
            assert (
                httpx.post(f"{agent.url}/admin/resume", headers=bearer("admin", "alice")).status_code == 200
            )
            assert controls.get("gpu-box").paused is False

            # The orchestrator's own backend works from the registry entry (token from the advertised env).
            monkeypatch.setenv(DEFAULT_TOKEN_ENV, token("operator", "orchestrator"))
            backend = OpenAICompatibleBackend(registry.all()[0].spec)
            completion = backend.complete("Once upon a time", SamplingParams(max_tokens=4))
            backend.close()
            assert completion.text == "Hello from upstream" and completion.node_id == "gpu-box"
        assert registry.all() == []  # a clean shutdown deregisters
    engine.dispose()


def test_a_restarted_agent_lifts_its_own_old_drain(tmp_path: Path) -> None:
    state_url = f"sqlite:///{tmp_path / 'state.db'}"
    controls = NodeControls(open_state_db(state_url))
    controls.set("pi-4", paused=True, reason="drained by alice through the agent", source="agent")
    controls.set("laptop", paused=True, reason="gaming", source="activity")
    with GatedUpstream() as upstream:
        for node_id, still_paused in (("pi-4", False), ("laptop", True)):
            config = proxy_config(upstream.url, tmp_path, node_id=node_id, register=True, state_url=state_url)
            with running_agent(config):
                assert controls.get(node_id).paused is still_paused, node_id


def test_the_orchestrators_pool_routes_to_a_registered_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real NodePool reads the agent from the registry, generates through it, honours a drain,
    and forgets the node when the agent shuts down."""
    from resources.node_pool import NodePool

    for var in ("TRANSCRIPTS_NODES_FILE", "TRANSCRIPTS_OPENAI_BASE_URL", "TRANSCRIPTS_OPENAI_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(DEFAULT_TOKEN_ENV, token("operator", "orchestrator"))
    state_url = f"sqlite:///{tmp_path / 'state.db'}"
    pool = NodePool(state_url=state_url)
    with GatedUpstream() as upstream:
        config = proxy_config(upstream.url, tmp_path, node_id="gpu-box", register=True, state_url=state_url)
        with running_agent(config) as agent:
            pool.refresh(force=True)
            [ranked] = pool.rank_nodes(refresh=False)
            assert (ranked.node_id, ranked.eligible) == ("gpu-box", True)
            [backend] = pool.candidates()
            assert backend.complete("Caller:", SamplingParams(max_tokens=4)).text == "Hello from upstream"

            assert httpx.post(f"{agent.url}/admin/drain", headers=bearer("admin")).status_code == 200
            pool.refresh(force=True)
            [drained] = pool.rank_nodes(refresh=False)
            assert drained.eligible is False and "drained" in (drained.excluded_because or "")
        pool.refresh(force=True)
        assert [r.node_id for r in pool.rank_nodes(refresh=False)] == [
            "local"
        ]  # back to the embedded default
    pool.close()
