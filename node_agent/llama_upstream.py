"""The in-process llama.cpp upstream: one GGUF model (the embedded default, or --model) in this process.

Requests are checked field by field (an unknown field is a 400 naming it) and handed to llama-cpp-python
the way its own server does. One difference: an OpenAI ``response_format`` of type ``json_schema`` is
turned into llama.cpp's ``{"type": "json_object", "schema": ...}`` (node_agent/response_format.py), so
the schema becomes a grammar and the answer is constrained (llama-cpp-python's server ignores it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from node_agent.response_format import translate
from node_agent.upstream import Upstream, UpstreamError, UpstreamReply
from transcript_foundry.llm.embedded_model import EMBEDDED_MODEL_NAME, ensure_embedded_model
from transcript_foundry.settings.environment import default_threads

_SAMPLING = {
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "stop",
    "seed",
    "stream",
    "presence_penalty",
    "frequency_penalty",
    "repeat_penalty",
    "logit_bias",
}
_IGNORED = {"model", "user", "n", "stream_options", "max_completion_tokens"}
CHAT_FIELDS = _SAMPLING | {"messages", "response_format", "logprobs", "top_logprobs"}
COMPLETION_FIELDS = _SAMPLING | {"prompt", "echo", "logprobs", "suffix"}


def _fields(body: dict[str, Any], allowed: set[str], endpoint: str) -> dict[str, Any]:
    unknown = sorted(set(body) - allowed - _IGNORED)
    if unknown:
        raise UpstreamError(
            400,
            "unsupported_field",
            f"{endpoint}: field(s) {', '.join(unknown)} are not supported by the in-process llama.cpp "
            f"backend; supported: {', '.join(sorted(allowed))}",
        )
    if body.get("n", 1) != 1:
        raise UpstreamError(
            400, "unsupported_field", f"{endpoint}: n must be 1 (llama.cpp answers one choice)"
        )
    kwargs = {k: v for k, v in body.items() if k in allowed}
    if "max_tokens" not in kwargs and body.get("max_completion_tokens") is not None:
        kwargs["max_tokens"] = body["max_completion_tokens"]
    return kwargs


class LlamaCppUpstream(Upstream):
    kind = "llama_cpp"

    def __init__(
        self,
        model_path: Path | None,
        *,
        context_window: int,
        n_threads: int | None = None,
        model_name: str | None = None,
    ):
        self.model_path = model_path
        self.context_window = context_window
        self.n_threads = n_threads or default_threads()
        if model_path is None:
            self.model_name = model_name or EMBEDDED_MODEL_NAME
        else:
            self.model_name = model_name or model_path.stem
        self._llm: Any = None
        self._lock = threading.Lock()  # one llama.cpp context runs one call at a time
        self._created = int(time.time())

    async def start(self) -> None:
        await run_in_threadpool(self._load)

    def _load(self) -> None:
        from llama_cpp import Llama

        path = self.model_path or ensure_embedded_model()
        self._llm = Llama(
            model_path=str(path),
            n_ctx=self.context_window,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads,
            verbose=os.environ.get("TRANSCRIPTS_LLAMA_VERBOSE") == "1",
        )
        self.model_path = path

    async def models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": self.model_name, "object": "model", "created": self._created, "owned_by": "node"}
            ],
        }

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model": self.model_name,
            "model_path": str(self.model_path) if self.model_path else None,
            "context_window": self.context_window,
            "n_threads": self.n_threads,
        }

    async def chat(self, body: dict[str, Any]) -> UpstreamReply:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise UpstreamError(400, "invalid_request", "messages: give a non-empty list of chat messages")
        kwargs = _fields(body, CHAT_FIELDS, "/v1/chat/completions")
        fmt = translate(kwargs.pop("response_format", None), "json_object_schema")
        if fmt is not None:
            kwargs["response_format"] = fmt
        return await self._call(lambda **kw: self._llm.create_chat_completion(**kw), kwargs)

    async def completion(self, body: dict[str, Any]) -> UpstreamReply:
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise UpstreamError(400, "invalid_request", "prompt: give the prompt as one string")
        kwargs = _fields(body, COMPLETION_FIELDS, "/v1/completions")
        kwargs["prompt"] = prompt
        return await self._call(lambda **kw: self._llm.create_completion(**kw), kwargs)

    async def _call(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> UpstreamReply:
        if self._llm is None:
            raise UpstreamError(503, "model_loading", "the model is still loading; retry in a few seconds")
        kwargs["model"] = self.model_name
        if kwargs.get("stream"):
            return UpstreamReply(
                chunks=self._stream(fn, kwargs), headers={"content-type": "text/event-stream"}
            )

        def run() -> Any:
            with self._lock:
                return fn(**kwargs)

        try:
            result = await run_in_threadpool(run)
        except ValueError as exc:  # context overflow, a schema llama.cpp cannot turn into a grammar
            raise UpstreamError(400, "invalid_request", f"llama.cpp refused the call: {exc}") from exc
        except RuntimeError as exc:
            raise UpstreamError(500, "llama_cpp_error", f"llama.cpp failed: {exc}") from exc
        return UpstreamReply(body=result)

    async def _stream(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> AsyncIterator[bytes]:
        """Run the streaming call in a thread that holds the model; pass each chunk on as an SSE event."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def put(kind: str, item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed under us at shutdown
                loop.call_soon_threadsafe(queue.put_nowait, (kind, item))

        def produce() -> None:
            try:
                with self._lock:
                    chunks: Iterator[Any] = fn(**kwargs)
                    for chunk in chunks:
                        if stop.is_set():
                            break
                        put("chunk", chunk)
            except (ValueError, RuntimeError) as exc:
                put("error", exc)
            finally:
                put("end", None)

        threading.Thread(target=produce, name=f"llama-stream-{uuid.uuid4().hex[:6]}", daemon=True).start()
        try:
            while True:
                kind, item = await queue.get()
                if kind == "end":
                    break
                if kind == "error":
                    error = {"error": {"message": f"llama.cpp failed: {item}", "type": "llama_cpp_error"}}
                    yield f"data: {json.dumps(error)}\n\n".encode()
                    break
                yield f"data: {json.dumps(item)}\n\n".encode()
            yield b"data: [DONE]\n\n"
        finally:
            stop.set()

    async def close(self) -> None:
        if self._llm is not None:
            with self._lock:
                self._llm.close()
            self._llm = None
