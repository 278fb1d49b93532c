"""The agent in front of a local OpenAI-compatible server: model discovery and substitution, streams
passed through as they come, the server's own 429 + Retry-After passed on, and each way a server can
fail (unreachable, garbage, dropped connection, no answer) turned into a clear 502 / 504."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest

from node_agent.response_format import translate
from node_agent.upstream import UpstreamError
from tests.support.agent_harness import FAKE_MODEL, GatedUpstream, bearer, proxy_config, running_agent, token
from tests.support.llm_server import FaultServer, closed_port_url

SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA}}
CHAT = {"model": "whatever-the-client-says", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def test_proxy_discovers_the_model_substitutes_it_and_streams_through(tmp_path: Path) -> None:
    with GatedUpstream() as upstream:
        config = proxy_config(upstream.url, tmp_path, upstream_model=None, model_name=None)
        with running_agent(config) as agent:
            client = openai.OpenAI(base_url=agent.url, api_key=token("operator"), max_retries=0)
            assert [m.id for m in client.models.list().data] == [FAKE_MODEL]
            reply = httpx.post(f"{agent.url}/chat/completions", json=CHAT, headers=bearer("operator"))
            assert reply.status_code == 200
            assert upstream.bodies[-1]["model"] == FAKE_MODEL  # the agent serves one model

            stream = client.chat.completions.create(
                model=FAKE_MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4, stream=True
            )
            pieces = [c.choices[0].delta.content for c in stream if c.choices]
            assert pieces == ["Hello", " from", " upstream"]
            queue = httpx.get(f"{agent.url}/node", headers=bearer("viewer")).json()["queue"]
            assert (queue["in_flight"], queue["queue_depth"]) == (
                0,
                0,
            )  # the slot was released after the stream


def test_upstream_failures_become_clear_errors(tmp_path: Path, fault_server: FaultServer) -> None:
    cases = [
        (fault_server.url("status-429"), 429, None),  # the server's own overload signal, passed on
        (fault_server.url("garbage"), 502, "not JSON"),
        (fault_server.url("close"), 502, "dropped the connection"),
        (closed_port_url(), 502, "cannot reach the upstream"),
        (fault_server.url("hang"), 504, "did not answer in time"),
    ]
    for i, (url, status, message) in enumerate(cases):
        config = proxy_config(url, tmp_path / str(i), upstream_timeout_s=1.0)
        with running_agent(config) as agent:
            reply = httpx.post(
                f"{agent.url}/chat/completions", json=CHAT, headers=bearer("operator"), timeout=10
            )
            assert reply.status_code == status, (url, reply.text)
            if status == 429:
                assert reply.headers["retry-after"] == "1"
                assert reply.json()["error"]["type"] == "fault_injection"
            else:
                assert message in reply.json()["error"]["message"], reply.text
            queue = httpx.get(f"{agent.url}/node", headers=bearer("viewer")).json()["queue"]
            assert queue["in_flight"] == 0  # a failed call gives its slot back


def test_response_format_is_translated_for_the_backend() -> None:
    assert translate(JSON_SCHEMA, "json_schema") == JSON_SCHEMA
    assert translate(JSON_SCHEMA, "json_object_schema") == {"type": "json_object", "schema": SCHEMA}
    assert translate(JSON_SCHEMA, "json_object") == {"type": "json_object"}
    assert translate(JSON_SCHEMA, "none") is None
    assert translate({"type": "text"}, "json_schema") is None
    assert translate({"type": "json_object", "schema": SCHEMA}, "json_schema") == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": SCHEMA},
    }
    with pytest.raises(UpstreamError, match=r"response_format\.type"):
        translate({"type": "yaml"}, "json_schema")
    with pytest.raises(UpstreamError, match=r"json_schema\.schema"):
        translate({"type": "json_schema", "json_schema": {"name": "x"}}, "json_object_schema")


def test_proxy_sends_the_schema_the_way_the_upstream_takes_it(tmp_path: Path) -> None:
    with GatedUpstream() as upstream:
        config = proxy_config(upstream.url, tmp_path, upstream_structured_output="json_object_schema")
        with running_agent(config) as agent:
            reply = httpx.post(
                f"{agent.url}/chat/completions",
                json={**CHAT, "response_format": JSON_SCHEMA},
                headers=bearer("operator"),
            )
            assert reply.status_code == 200
            assert upstream.bodies[-1]["response_format"] == {"type": "json_object", "schema": SCHEMA}
            node = httpx.get(f"{agent.url}/node", headers=bearer("viewer")).json()
            assert node["backend"]["structured_output"] == "json_object_schema"
            bad = httpx.post(
                f"{agent.url}/chat/completions",
                json={**CHAT, "response_format": {"type": "yaml"}},
                headers=bearer("operator"),
            )
            assert bad.status_code == 400 and len(upstream.bodies) == 1  # refused before the upstream
