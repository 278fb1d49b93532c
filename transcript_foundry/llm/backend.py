"""The one interface every LLM backend implements, and the values it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

PromptStyle = Literal["completion", "chat_json"]


class LLMCallError(RuntimeError):
    """One LLM call failed (connection, HTTP status, timeout, bad response). A recorded, retryable outcome."""

    def __init__(
        self,
        message: str,
        *,
        node_id: str,
        retryable: bool = True,
        status: int | None = None,
        retry_after: float | None = None,
        timed_out: bool = False,
    ):
        super().__init__(message)
        self.node_id = node_id
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait (Retry-After), if it did
        self.timed_out = timed_out

    @property
    def overload(self) -> bool:
        """The node says it is too busy (429 / 503) or did not answer in time: lower its concurrency."""
        return self.timed_out or self.status in (429, 503)


@dataclass(frozen=True)
class Completion:
    """The text of one call plus what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    finish_reason: str | None
    node_id: str
    model: str


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = 96
    temperature: float = 0.8
    top_p: float = 0.95
    repeat_penalty: float = 1.15
    stop: tuple[str, ...] = ()
    seed: int | None = None
    # DRY sampling over the whole prompt (transcript_foundry/llm/dry_penalty.py); 0 = off. In-process llama.cpp only.
    dry_multiplier: float = 0.0
    dry_base: float = 1.75
    dry_allowed_length: int = 2


@dataclass
class BackendInfo:
    node_id: str
    backend: str
    model: str
    prompt_style: PromptStyle
    context_window: int
    details: dict[str, Any] = field(default_factory=dict)


class LLMBackend(ABC):
    """A model that can continue a prompt and, where supported, answer chat messages as constrained JSON."""

    @property
    @abstractmethod
    def info(self) -> BackendInfo: ...

    @abstractmethod
    def complete(self, prompt: str, params: SamplingParams) -> Completion:
        """Continue ``prompt`` as plain text (few-shot completion)."""

    @abstractmethod
    def chat_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], params: SamplingParams
    ) -> Completion:
        """Answer chat ``messages`` with JSON that matches ``schema`` (constrained where the server can)."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes for this model (an estimate where the server does not say)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the model or connection."""
