"""Any OpenAI-compatible HTTP server through the official ``openai`` client.

llama-server, llama-cpp-python's server, vLLM, Ollama (/v1), LM Studio and OpenAI itself. The client runs
with ``max_retries=0`` and explicit timeouts: retries belong to the node pool, not to the client.
"""

from __future__ import annotations

import email.utils
import os
import ssl
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import openai

from transcript_foundry.llm.backend import BackendInfo, Completion, LLMBackend, LLMCallError, SamplingParams
from transcript_foundry.pool.node_spec import NodeSpec

_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
MAX_RETRY_AFTER_S = 120.0  # a longer wait is not honoured as such (the openai client's own cap)


def retry_after_seconds(headers: Any) -> float | None:
    """``retry-after-ms``, ``retry-after`` in seconds or as an HTTP date; None when absent or unusable."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return min(MAX_RETRY_AFTER_S, max(0.0, float(raw_ms) / 1000))
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(MAX_RETRY_AFTER_S, max(0.0, seconds))


def _response_format(mode: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    if mode == "json_schema":  # OpenAI, vLLM, llama-server, LM Studio
        return {
            "type": "json_schema",
            "json_schema": {"name": "transcripts", "schema": schema, "strict": True},
        }
    if mode == "json_object_schema":  # llama-cpp-python's server
        return {"type": "json_object", "schema": schema}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


_SSL_CONTEXTS: dict[tuple[str | None, str | None], ssl.SSLContext] = {}
_SSL_LOCK = threading.Lock()


def shared_ssl_context() -> ssl.SSLContext:
    """The default TLS context (CA bundle, ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` honoured), built once per
    process and setting: loading the CA bundle costs about 20 ms, which every one of 200 backends paid."""
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    with _SSL_LOCK:
        if key not in _SSL_CONTEXTS:
            _SSL_CONTEXTS[key] = httpx.create_ssl_context(trust_env=True)
        return _SSL_CONTEXTS[key]


class OpenAICompatibleBackend(LLMBackend):
    def __init__(self, spec: NodeSpec):
        assert spec.url and spec.model, "validated by NodeSpec"
        api_key = os.environ.get(spec.api_key_env, "") if spec.api_key_env else ""
        if spec.api_key_env and not api_key:
            raise ValueError(
                f"node {spec.id}: api_key_env names {spec.api_key_env}, "
                "but that environment variable is empty"
            )
        self._spec = spec
        self._client = openai.OpenAI(
            base_url=spec.url,
            api_key=api_key or "not-needed",
            max_retries=0,
            timeout=openai.Timeout(spec.timeout_s, connect=spec.connect_timeout_s),
            http_client=openai.DefaultHttpxClient(verify=shared_ssl_context()),
        )
        self._info = BackendInfo(
            node_id=spec.id,
            backend="openai_compatible",
            model=spec.model,
            prompt_style=spec.resolved_prompt_style,
            context_window=spec.context_window,
            details={"url": spec.url, "structured_output": spec.structured_output},
        )

    @property
    def info(self) -> BackendInfo:
        return self._info

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)  # the OpenAI API has no tokenizer endpoint; ~4 characters a token

    def _call(self, fn: Any) -> tuple[Any, float]:
        started = time.perf_counter()
        try:
            response = fn()
        except openai.APIStatusError as exc:
            raise LLMCallError(
                f"{self._spec.url} answered HTTP {exc.status_code}: {exc.message}",
                node_id=self._spec.id,
                retryable=exc.status_code in _RETRYABLE_STATUS,
                status=exc.status_code,
                retry_after=retry_after_seconds(getattr(exc.response, "headers", None)),
            ) from exc
        except openai.APITimeoutError as exc:
            raise LLMCallError(f"{self._spec.url} timed out", node_id=self._spec.id, timed_out=True) from exc
        except openai.APIConnectionError as exc:
            raise LLMCallError(f"cannot reach {self._spec.url}: {exc}", node_id=self._spec.id) from exc
        except ValueError as exc:  # a 200 that says it is JSON and is not (json.JSONDecodeError)
            raise LLMCallError(
                f"{self._spec.url} answered with a body that is not valid JSON: {exc}", node_id=self._spec.id
            ) from exc
        if not hasattr(response, "choices"):  # a 200 whose body is not OpenAI JSON: a proxy page, a wrong URL
            raise LLMCallError(
                f"{self._spec.url} answered with something that is not an OpenAI response: "
                f"{str(response)[:120]!r}",
                node_id=self._spec.id,
            )
        return response, time.perf_counter() - started

    def _extra(self, params: SamplingParams) -> dict[str, Any]:
        return {"repeat_penalty": params.repeat_penalty} if params.repeat_penalty != 1.0 else {}

    def complete(self, prompt: str, params: SamplingParams) -> Completion:
        response, seconds = self._call(
            lambda: self._client.completions.create(
                model=self._info.model,
                prompt=prompt,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                stop=list(params.stop) or None,
                seed=params.seed,
                extra_body=self._extra(params),
            )
        )
        if not response.choices:
            raise LLMCallError("the server returned no choices", node_id=self._spec.id)
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=choice.text or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else self.count_tokens(choice.text or ""),
            seconds=seconds,
            finish_reason=choice.finish_reason,
            node_id=self._spec.id,
            model=self._info.model,
        )

    def chat_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], params: SamplingParams
    ) -> Completion:
        kwargs: dict[str, Any] = {}
        fmt = _response_format(self._spec.structured_output, schema)
        if fmt is not None:
            kwargs["response_format"] = fmt
        response, seconds = self._call(
            lambda: self._client.chat.completions.create(
                model=self._info.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                seed=params.seed,
                extra_body=self._extra(params),
                **kwargs,
            )
        )
        if not response.choices:
            raise LLMCallError("the server returned no choices", node_id=self._spec.id)
        choice = response.choices[0]
        text = choice.message.content or ""
        usage = response.usage
        return Completion(
            text=text,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else self.count_tokens(text),
            seconds=seconds,
            finish_reason=choice.finish_reason,
            node_id=self._spec.id,
            model=self._info.model,
        )

    def close(self) -> None:
        self._client.close()
