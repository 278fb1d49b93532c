"""What the agent tells operators: Prometheus /metrics (requests by route and status, tokens, latency,
refusals, queue gauges) and one audit line per request, including refused and streamed ones."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
from prometheus_client.parser import text_string_to_metric_families

from tests.support.agent_harness import (
    FAKE_MODEL,
    GatedUpstream,
    bearer,
    proxy_config,
    running_agent,
    token,
    wait_for_audit,
)

AUDIT_FIELDS = {
    "time",
    "client",
    "subject",
    "role",
    "method",
    "path",
    "status",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "refusal",
}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_and_audit_cover_answers_refusals_and_streams(tmp_path: Path) -> None:
    with GatedUpstream() as upstream:
        config = proxy_config(
            upstream.url, tmp_path, rate_limit_rps=0.01, rate_limit_burst=3, node_id="box-7"
        )
        with running_agent(config) as agent:
            url, root = agent.url, agent.url.removesuffix("/v1")
            client = openai.OpenAI(base_url=url, api_key=token("operator", "orchestrator"), max_retries=0)
            chat = client.chat.completions.create(
                model=FAKE_MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4
            )
            assert chat.usage is not None and chat.usage.completion_tokens == 3
            stream = client.completions.create(model=FAKE_MODEL, prompt="Once", max_tokens=4, stream=True)
            assert "".join(c.choices[0].text for c in stream if c.choices) == "Hello from upstream"
            assert upstream.bodies[-1]["stream"] is True and upstream.bodies[-1]["model"] == FAKE_MODEL

            assert httpx.post(f"{url}/chat/completions", json={}).status_code == 401
            viewer = bearer("viewer", "grafana")
            assert httpx.post(f"{url}/completions", json={"prompt": "x"}, headers=viewer).status_code == 403
            assert httpx.get(f"{url}/nope", headers=viewer).status_code == 404
            # The orchestrator's bucket (burst 3) is empty after one more call.
            assert client.models.list().data[0].id == FAKE_MODEL
            limited = httpx.get(f"{url}/models", headers=bearer("operator", "orchestrator"))
            assert limited.status_code == 429

            text = httpx.get(f"{root}/metrics", headers=viewer).text
            audit = wait_for_audit(tmp_path / "audit.jsonl", 8)

    samples = _samples(text)

    def requests(route: str, status: str) -> float:
        return samples.get(("transcripts_agent_requests_total", (("route", route), ("status", status))), 0.0)

    assert requests("/v1/chat/completions", "200") == 1
    assert requests("/v1/completions", "200") == 1
    assert requests("/v1/chat/completions", "401") == 1
    assert requests("/v1/completions", "403") == 1
    assert requests("other", "404") == 1  # unknown paths share one label: bounded cardinality
    assert requests("/v1/models", "429") == 1
    assert samples[("transcripts_agent_tokens_total", (("type", "prompt"),))] == 10  # 5 + 5 (streamed)
    assert samples[("transcripts_agent_tokens_total", (("type", "completion"),))] == 6
    for reason in ("missing_token", "insufficient_role", "rate_limited"):
        assert samples[("transcripts_agent_rejected_total", (("reason", reason),))] == 1, reason
    assert (
        samples[("transcripts_agent_request_duration_seconds_count", (("route", "/v1/chat/completions"),))]
        == 2  # the answer and the 401: every request is timed
    )
    assert samples[("transcripts_agent_max_concurrency", ())] == 4  # the default in front of a server
    assert samples[("transcripts_agent_queue_depth", ())] == 0
    info = next(labels for (name, labels) in samples if name == "transcripts_agent_node_info")
    assert ("node_id", "box-7") in info and ("backend", "openai_compatible") in info

    assert all(set(line) == AUDIT_FIELDS for line in audit)
    by_status = {(line["path"], line["status"]): line for line in audit}
    ok = by_status[("/v1/chat/completions", 200)]
    assert (ok["subject"], ok["role"], ok["prompt_tokens"], ok["completion_tokens"]) == (
        "orchestrator",
        "operator",
        5,
        3,
    )
    assert ok["client"] == "127.0.0.1" and ok["latency_ms"] > 0 and ok["refusal"] is None
    streamed = by_status[("/v1/completions", 200)]
    assert (streamed["prompt_tokens"], streamed["completion_tokens"]) == (5, 3)
    missing = by_status[("/v1/chat/completions", 401)]
    assert (missing["subject"], missing["refusal"]) == (None, "missing_token")
    forbidden = by_status[("/v1/completions", 403)]
    assert (forbidden["subject"], forbidden["role"], forbidden["refusal"]) == (
        "grafana",
        "viewer",
        "insufficient_role",
    )
    assert by_status[("/v1/models", 429)]["refusal"] == "rate_limited"
