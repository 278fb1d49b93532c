"""A backend that reports every call it makes to its node's runtime: tokens and latency of each success
(speed, history, concurrency tuning, performance windows) and the latency of each failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from transcript_foundry.llm.backend import BackendInfo, Completion, LLMBackend, LLMCallError, SamplingParams
from transcript_foundry.pool.node_runtime import NodeRuntime


class ObservedBackend(LLMBackend):
    def __init__(self, inner: LLMBackend, node: NodeRuntime, on_tokens: Callable[[int], None] | None = None):
        self.inner = inner
        self.node = node
        self.on_tokens = on_tokens

    @property
    def info(self) -> BackendInfo:
        return self.inner.info

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def _observe(self, call: Callable[[], Completion]) -> Completion:
        started = time.perf_counter()
        try:
            completion = call()
        except LLMCallError:
            self.node.call_failed(time.perf_counter() - started)
            raise
        self.node.call_succeeded(completion.completion_tokens, completion.seconds)
        if self.on_tokens is not None:
            self.on_tokens(completion.completion_tokens)
        return completion

    def complete(self, prompt: str, params: SamplingParams) -> Completion:
        return self._observe(lambda: self.inner.complete(prompt, params))

    def chat_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], params: SamplingParams
    ) -> Completion:
        return self._observe(lambda: self.inner.chat_json(messages, schema, params))

    def close(self) -> None:
        """The pool owns the inner backend and closes it."""
