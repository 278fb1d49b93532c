"""The agent serving the embedded model in-process, called with the official openai client: text
completions, streaming, and chat constrained by a JSON schema (json_schema becomes a llama.cpp grammar)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import openai
import pytest

from node_agent.config import AgentConfig
from node_agent.server import AgentServer
from tests.support.agent_harness import SECRET, bearer, proxy_config, running_agent, token
from transcript_foundry.llm.embedded_model import EMBEDDED_MODEL_NAME

# Small on purpose: grammar-constrained sampling over Gemma 3's 262k-token vocabulary costs ~0.3 s a
# token on a busy 2-core machine, and this answer is about ten tokens.
SCHEMA = {
    "type": "object",
    "properties": {"mood": {"type": "string", "enum": ["calm", "angry", "confused"]}},
    "required": ["mood"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, embedded_model_path: Path) -> Iterator[AgentServer]:
    folder = tmp_path_factory.mktemp("embedded-agent")
    config = AgentConfig(
        port=0,
        node_id="laptop",
        jwt_secret=SECRET,
        audit_log=folder / "audit.jsonl",
        register=False,
        context_window=1024,
        n_threads=2,
    )
    with running_agent(config) as server:
        yield server


@pytest.fixture
def client(agent: AgentServer) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=agent.url, api_key=token("operator", "orchestrator"), max_retries=0, timeout=120
    )


@pytest.mark.slow
def test_completions_and_streaming_with_the_openai_client(agent: AgentServer, client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list().data] == [EMBEDDED_MODEL_NAME]
    reply = client.completions.create(
        model=EMBEDDED_MODEL_NAME, prompt="Agent: Thank you for calling, how can I", max_tokens=8, seed=7
    )
    assert reply.choices[0].text.strip()
    assert reply.usage is not None and 0 < reply.usage.completion_tokens <= 8
    assert reply.usage.prompt_tokens > 5

    stream = client.completions.create(
        model=EMBEDDED_MODEL_NAME, prompt="Caller: Hi, I need help with", max_tokens=6, stream=True, seed=7
    )
    pieces = [c.choices[0].text for c in stream if c.choices]
    assert 1 <= len([p for p in pieces if p]) <= 6 and "".join(pieces).strip()

    node = httpx.get(f"{agent.url}/node", headers=bearer("viewer")).json()
    assert node["backend"]["kind"] == "llama_cpp" and node["queue"]["max_concurrency"] == 1
    assert node["spec"]["prompt_style"] == "completion"  # a base model: the orchestrator should complete


@pytest.mark.slow
def test_chat_with_a_json_schema_answers_matching_json(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model=EMBEDDED_MODEL_NAME,
        messages=[{"role": "user", "content": "What is the caller's mood? Answer as JSON."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "call", "schema": SCHEMA, "strict": True},
        },
        max_tokens=24,
        temperature=0.2,
        seed=3,
    )
    content = reply.choices[0].message.content or ""
    data = json.loads(content)
    jsonschema.validate(data, SCHEMA)
    assert reply.choices[0].finish_reason == "stop"  # the grammar closed the object; nothing was cut off


@pytest.mark.slow
def test_unsupported_fields_are_named(agent: AgentServer) -> None:
    reply = httpx.post(
        f"{agent.url}/completions", json={"prompt": "x", "mirostat_mode": 2}, headers=bearer("operator")
    )
    assert reply.status_code == 400
    assert "mirostat_mode" in reply.json()["error"]["message"]
    bad_format = httpx.post(
        f"{agent.url}/chat/completions",
        json={"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "yaml"}},
        headers=bearer("operator"),
    )
    assert bad_format.status_code == 400 and "response_format.type" in bad_format.json()["error"]["message"]


@pytest.mark.slow
def test_agent_in_front_of_llama_cpp_pythons_server(llama_server_url: str, tmp_path: Path) -> None:
    """A real upstream server: the agent learns its model and passes completions through. (That the
    json_schema reaches this server as the json_object + schema it understands is checked against the
    gated upstream in test_agent_upstream.py; that llama.cpp then constrains the answer, in-process above.)"""
    config = proxy_config(
        llama_server_url, tmp_path, upstream_model=None, upstream_structured_output="json_object_schema"
    )
    with running_agent(config) as agent:
        client = openai.OpenAI(base_url=agent.url, api_key=token("operator"), max_retries=0, timeout=120)
        assert [m.id for m in client.models.list().data] == ["gemma"]  # discovered from the server
        text = client.completions.create(model="gemma", prompt="Caller: Hello, I", max_tokens=4, seed=1)
        assert text.choices[0].text and text.usage is not None and 0 < text.usage.completion_tokens <= 4
        streamed = client.completions.create(
            model="gemma", prompt="Agent: Thanks for", max_tokens=4, stream=True
        )
        assert "".join(c.choices[0].text for c in streamed if c.choices).strip()
