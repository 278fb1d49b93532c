"""Bounded admission and per-client rate limits on the real agent, in front of a gated upstream: 503 +
Retry-After (estimated from recent latency) once the queue is full, 429 + Retry-After per client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from node_agent.server import AgentServer
from tests.support.agent_harness import GatedUpstream, bearer, proxy_config, running_agent

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


@pytest.fixture
def upstream() -> Iterator[GatedUpstream]:
    with GatedUpstream() as server:
        yield server


def _post_in_thread(url: str, results: list[httpx.Response]) -> threading.Thread:
    def call() -> None:
        results.append(
            httpx.post(f"{url}/chat/completions", json=CHAT, headers=bearer("operator"), timeout=30)
        )

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def _wait_queue(agent: AgentServer, depth: int, timeout_s: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        node = httpx.get(f"{agent.url}/node", headers=bearer("viewer")).json()
        if node["queue"]["queue_depth"] >= depth or time.monotonic() > deadline:
            return node
        time.sleep(0.02)


def test_full_queue_answers_503_with_retry_after_from_recent_latency(
    upstream: GatedUpstream, tmp_path: Path
) -> None:
    config = proxy_config(upstream.url, tmp_path, max_concurrency=1, max_queue=1)
    with running_agent(config) as agent:
        # One call that takes ~1.5 s teaches the agent its latency.
        upstream.hold()
        results: list[httpx.Response] = []
        first = _post_in_thread(agent.url, results)
        upstream.wait_for_arrivals(1)
        time.sleep(1.5)
        upstream.release()
        first.join(10)
        assert results[0].status_code == 200

        upstream.hold()
        running, waiting = _post_in_thread(agent.url, results), None
        upstream.wait_for_arrivals(2)  # the second call is at the upstream: in flight
        waiting = _post_in_thread(agent.url, results)
        node = _wait_queue(agent, 1)
        assert node["queue"] | {"mean_latency_s": None} == {
            "in_flight": 1,
            "queue_depth": 1,
            "max_concurrency": 1,
            "max_queue": 1,
            "draining": False,
            "mean_latency_s": None,
        }
        assert (node["live"]["in_flight"], node["live"]["queue_depth"]) == (1, 1)
        metrics = httpx.get(f"{agent.url.removesuffix('/v1')}/metrics", headers=bearer("viewer")).text
        assert "transcripts_agent_in_flight 1.0" in metrics
        assert "transcripts_agent_queue_depth 1.0" in metrics

        refused = httpx.post(f"{agent.url}/chat/completions", json=CHAT, headers=bearer("operator"))
        assert refused.status_code == 503
        error = refused.json()["error"]
        assert error["code"] == "queue_full"
        assert "--max-queue 1" in error["message"]
        # Two calls ahead x ~1.5 s each, one at a time: about 3 s (whole seconds, rounded up; a busy
        # machine stretches the measured latency a little).
        assert 3 <= int(refused.headers["retry-after"]) <= 6

        upstream.release()
        running.join(10)
        waiting.join(10)
        assert [r.status_code for r in results] == [200, 200, 200]
        assert len(upstream.bodies) == 3  # the refused call never reached the upstream
        after = httpx.get(f"{agent.url}/node", headers=bearer("viewer")).json()["queue"]
        assert (after["in_flight"], after["queue_depth"]) == (0, 0)


def test_concurrency_admits_up_to_the_limit_at_once(upstream: GatedUpstream, tmp_path: Path) -> None:
    config = proxy_config(upstream.url, tmp_path, max_concurrency=3, max_queue=0)
    with running_agent(config) as agent:
        upstream.hold()
        results: list[httpx.Response] = []
        threads = [_post_in_thread(agent.url, results) for _ in range(3)]
        upstream.wait_for_arrivals(3)  # all three reach the upstream together
        refused = httpx.post(f"{agent.url}/chat/completions", json=CHAT, headers=bearer("operator"))
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "queue_full"
        upstream.release()
        for thread in threads:
            thread.join(10)
        assert sorted(r.status_code for r in results) == [200, 200, 200]


def test_rate_limit_is_per_client_with_retry_after(upstream: GatedUpstream, tmp_path: Path) -> None:
    config = proxy_config(upstream.url, tmp_path, rate_limit_rps=2.0, rate_limit_burst=2)
    with running_agent(config) as agent:
        url = f"{agent.url}/chat/completions"
        alice, bob = bearer("operator", "alice"), bearer("operator", "bob")
        assert [httpx.post(url, json=CHAT, headers=alice).status_code for _ in range(2)] == [200, 200]
        limited = httpx.post(url, json=CHAT, headers=alice)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert (
            "'alice'" not in limited.json()["error"]["message"]
            and "alice" in limited.json()["error"]["message"]
        )
        assert limited.headers["retry-after"] == "1"  # one token comes back in 0.5 s
        # Another client has its own bucket.
        assert httpx.post(url, json=CHAT, headers=bob).status_code == 200
        time.sleep(0.6)
        assert httpx.post(url, json=CHAT, headers=alice).status_code == 200
        assert len(upstream.bodies) == 4  # the limited call never reached the upstream
