"""What the agent forwards calls to: an in-process llama.cpp model or a local OpenAI-compatible server.

An upstream answers with an ``UpstreamReply``: a JSON body, or a stream of server-sent-event bytes that
the agent passes through as it arrives. ``StreamUsage`` reads token counts out of such a stream on the
way, so streamed calls are counted in metrics and the audit log too.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

UpstreamKind = Literal["llama_cpp", "openai_compatible"]


class UpstreamError(Exception):
    """A call the upstream could not take or answer: the status and message the client gets."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class UpstreamReply:
    status: int = 200
    body: dict[str, Any] | None = None
    chunks: AsyncIterator[bytes] | None = None  # text/event-stream bytes, passed through as they come
    headers: dict[str, str] = field(default_factory=dict)

    def usage(self) -> tuple[int | None, int | None]:
        usage = (self.body or {}).get("usage") or {}
        return usage.get("prompt_tokens"), usage.get("completion_tokens")


class StreamUsage:
    """Reads ``data: {...}`` events as bytes pass by: the final ``usage`` if the server sends one, else
    the number of content chunks (one token each for llama.cpp)."""

    def __init__(self) -> None:
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self._chunks = 0
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            line = line.strip()
            if not line.startswith(b"data:") or line == b"data: [DONE]":
                continue
            try:
                event = json.loads(line[5:])
            except ValueError:
                continue
            usage = event.get("usage") if isinstance(event, dict) else None
            if isinstance(usage, dict):
                self.prompt_tokens = usage.get("prompt_tokens", self.prompt_tokens)
                self.completion_tokens = usage.get("completion_tokens", self.completion_tokens)
            elif isinstance(event, dict) and any(_has_content(c) for c in event.get("choices") or []):
                self._chunks += 1

    def totals(self) -> tuple[int | None, int | None]:
        if self.completion_tokens is not None:
            return self.prompt_tokens, self.completion_tokens
        return self.prompt_tokens, self._chunks or None


def _has_content(choice: dict[str, Any]) -> bool:
    return bool(choice.get("text") or (choice.get("delta") or {}).get("content"))


class Upstream(ABC):
    kind: UpstreamKind
    model_name: str
    context_window: int

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect or load; called once before the agent serves."""

    @abstractmethod
    async def models(self) -> dict[str, Any]:
        """The OpenAI ``/v1/models`` answer."""

    @abstractmethod
    async def chat(self, body: dict[str, Any]) -> UpstreamReply: ...

    @abstractmethod
    async def completion(self, body: dict[str, Any]) -> UpstreamReply: ...

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What /v1/node shows about the backend."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release the model or connection."""
