"""A local OpenAI-compatible server as the upstream: llama-server, Ollama, LM Studio, vLLM.

Calls are proxied with httpx: the body goes through with ``model`` set to the upstream's model, the
answer (JSON or a server-sent-event stream) comes back as the server gave it, status and Retry-After
included, so the orchestrator sees the server's own overload signals. The client's bearer token is never
forwarded; the upstream gets its own API key (``--upstream-api-key-env``) or none.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

from node_agent.response_format import translate
from node_agent.upstream import Upstream, UpstreamError, UpstreamReply
from transcript_foundry.pool.node_spec import StructuredOutput

_PASSED_HEADERS = ("retry-after", "retry-after-ms", "x-request-id")


class HttpUpstream(Upstream):
    kind = "openai_compatible"

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None,
        context_window: int,
        api_key_env: str | None = None,
        timeout_s: float = 600.0,
        model_name: str | None = None,
        structured_output: StructuredOutput = "json_schema",
    ):
        self.base_url = base_url.rstrip("/")
        self.upstream_model = model
        self.model_name = model_name or model or ""
        self.context_window = context_window
        self.structured_output: StructuredOutput = structured_output
        headers = {}
        if api_key_env:
            key = os.environ.get(api_key_env, "")
            if not key:
                raise ValueError(f"--upstream-api-key-env names {api_key_env}, but that variable is empty")
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(timeout_s, connect=5.0), trust_env=False
        )

    async def start(self) -> None:
        """Learn the model name from the server when it was not given."""
        if self.upstream_model:
            return
        listing = await self.models()
        served = [m.get("id") for m in listing.get("data", []) if isinstance(m, dict) and m.get("id")]
        if not served:
            raise UpstreamError(
                502, "no_model", f"{self.base_url}/models lists no model: load one, or give --upstream-model"
            )
        self.upstream_model = served[0]
        self.model_name = self.model_name or served[0]

    async def models(self) -> dict[str, Any]:
        reply = await self._send("GET", "/models", None)
        if reply.status != 200 or reply.body is None:
            raise UpstreamError(502, "upstream_error", f"{self.base_url}/models answered HTTP {reply.status}")
        return reply.body

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.base_url,
            "upstream_model": self.upstream_model,
            "model": self.model_name,
            "context_window": self.context_window,
            "structured_output": self.structured_output,
        }

    async def chat(self, body: dict[str, Any]) -> UpstreamReply:
        body = {**body, "model": self.upstream_model}
        fmt = translate(body.pop("response_format", None), self.structured_output)
        if fmt is not None:
            body["response_format"] = fmt
        return await self._send("POST", "/chat/completions", body)

    async def completion(self, body: dict[str, Any]) -> UpstreamReply:
        return await self._send("POST", "/completions", {**body, "model": self.upstream_model})

    async def _send(self, method: str, path: str, body: dict[str, Any] | None) -> UpstreamReply:
        url = self.base_url + path
        request = self._client.build_request(method, url, json=body)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise UpstreamError(504, "upstream_timeout", f"{url} did not answer in time ({exc!r})") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(
                502, "upstream_unreachable", f"cannot reach the upstream server at {url}: {exc!r}"
            ) from exc
        headers = {k: response.headers[k] for k in _PASSED_HEADERS if k in response.headers}
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            headers["content-type"] = "text/event-stream"
            return UpstreamReply(status=response.status_code, chunks=self._relay(response), headers=headers)
        try:
            await response.aread()
        except httpx.HTTPError as exc:
            raise UpstreamError(
                502, "upstream_error", f"{url} dropped the connection mid-answer ({exc!r})"
            ) from exc
        finally:
            await response.aclose()
        try:
            data = response.json()
        except ValueError:
            raise UpstreamError(
                502,
                "upstream_error",
                f"{url} answered HTTP {response.status_code} with something that is not JSON: "
                f"{response.text[:120]!r}",
            ) from None
        if not isinstance(data, dict):
            raise UpstreamError(502, "upstream_error", f"{url} answered JSON that is not an object")
        return UpstreamReply(status=response.status_code, body=data, headers=headers)

    async def _relay(self, response: httpx.Response) -> AsyncIterator[bytes]:
        try:
            async for data in response.aiter_bytes():
                yield data
        except httpx.HTTPError as exc:  # the server died mid-stream: say so in the stream
            yield f'data: {{"error": {{"message": "upstream dropped the stream: {type(exc).__name__}"}}}}\n\n'.encode()
        finally:
            await response.aclose()

    async def close(self) -> None:
        await self._client.aclose()
