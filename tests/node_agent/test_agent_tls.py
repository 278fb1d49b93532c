"""TLS: the agent serves HTTPS with a certificate it is given; clients that verify against that
certificate (httpx, the official openai client) get through, clients that do not trust it do not."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import openai
import pytest

from node_agent.config import DEFAULT_TOKEN_ENV
from tests.support.agent_harness import (
    FAKE_MODEL,
    GatedUpstream,
    bearer,
    proxy_config,
    running_agent,
    self_signed_cert,
    token,
)
from transcript_foundry.llm.backend import SamplingParams
from transcript_foundry.llm.openai_backend import OpenAICompatibleBackend
from transcript_foundry.pool.node_spec import NodeSpec


def test_agent_serves_https_verified_against_its_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed_cert(tmp_path / "tls")
    trusted = ssl.create_default_context(cafile=str(cert))
    with GatedUpstream() as upstream:
        config = proxy_config(upstream.url, tmp_path, tls_cert=cert, tls_key=key)
        with running_agent(config) as agent:
            assert agent.url.startswith("https://127.0.0.1:")
            node = httpx.get(f"{agent.url}/node", headers=bearer("viewer"), verify=trusted)
            assert node.status_code == 200
            assert node.json()["spec"]["url"].startswith("https://")  # what the registry would advertise

            client = openai.OpenAI(
                base_url=agent.url,
                api_key=token("operator", "orchestrator"),
                max_retries=0,
                http_client=openai.DefaultHttpxClient(verify=trusted),
            )
            reply = client.chat.completions.create(
                model=FAKE_MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4
            )
            assert reply.choices[0].message.content == "Hello from upstream"

            # The orchestrator's own backend, built from the advertised spec, trusts it via SSL_CERT_FILE.
            monkeypatch.setenv("SSL_CERT_FILE", str(cert))
            monkeypatch.setenv(DEFAULT_TOKEN_ENV, token("operator", "orchestrator"))
            backend = OpenAICompatibleBackend(NodeSpec.model_validate(node.json()["spec"]))
            assert backend.complete("Hi", SamplingParams(max_tokens=4)).text == "Hello from upstream"
            backend.close()
            monkeypatch.delenv("SSL_CERT_FILE")

            untrusting = openai.OpenAI(base_url=agent.url, api_key="x", max_retries=0, timeout=5)
            with pytest.raises(openai.APIConnectionError):
                untrusting.models.list()
            with pytest.raises(httpx.HTTPError):  # plain HTTP to the TLS port gets no answer
                httpx.get(agent.url.replace("https://", "http://") + "/models", timeout=5)
