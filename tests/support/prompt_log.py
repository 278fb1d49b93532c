"""Test helpers: the real backend with every completion prompt written down, and a pool that wraps its
backends so (observation, or fault injection by a subclass that overrides ``complete``)."""

from __future__ import annotations

from typing import Any

from resources.node_pool import NodePool
from transcript_foundry.llm.backend import BackendInfo, Completion, LLMBackend, SamplingParams


class PromptLog(LLMBackend):
    """The real backend, with every completion prompt written down (observation only)."""

    def __init__(self, inner: LLMBackend):
        self.inner = inner
        self.prompts: list[str] = []

    @property
    def info(self) -> BackendInfo:
        return self.inner.info

    def complete(self, prompt: str, params: SamplingParams) -> Completion:
        self.prompts.append(prompt)
        return self.inner.complete(prompt, params)

    def chat_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], params: SamplingParams
    ) -> Completion:
        return self.inner.chat_json(messages, schema, params)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


class PromptLogPool(NodePool):
    """The pool with each backend wrapped by ``wrap`` (a PromptLog unless a subclass says otherwise)."""

    def wrap(self, backend: LLMBackend) -> PromptLog:
        return PromptLog(backend)

    def backend(self, node_id: str) -> LLMBackend:
        backend = super().backend(node_id)
        if not isinstance(backend, PromptLog):
            backend = self._backends[node_id] = self.wrap(backend)
        return backend
