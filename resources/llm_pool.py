"""LLMPool: the Dagster resource that owns the configured LLM nodes and hands them to generators.

Nodes come from a nodes.yaml file (``TRANSCRIPTS_NODES_FILE``), or from the environment: an
OpenAI-compatible server (``TRANSCRIPTS_OPENAI_BASE_URL`` + ``TRANSCRIPTS_OPENAI_MODEL``) or a GGUF file
(``TRANSCRIPTS_MODEL_PATH``); with nothing configured, the embedded model runs in-process. Backends are
created lazily, once per run. Ordering is by configuration; a node whose call failed is moved to the back
so the next attempt goes to another node first.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from resources.llm_backend import LLMBackend
from resources.node_choice import PINNED_NODE_ENV
from resources.node_spec import NodeConfigError, NodeSpec, load_nodes_file


def build_backend(spec: NodeSpec) -> LLMBackend:
    if spec.backend == "llama_cpp":
        from resources.llama_cpp_backend import LlamaCppBackend

        return LlamaCppBackend(spec)
    from resources.openai_backend import OpenAICompatibleBackend

    return OpenAICompatibleBackend(spec)


class LLMPool(ConfigurableResource):
    """The LLM nodes generation may use."""

    nodes_file: str | None = None
    model_path: str | None = None
    openai_base_url: str | None = None
    openai_model: str | None = None
    api_key_env: str | None = None
    n_threads: int | None = None
    context_window: int = 4096

    _backends: dict[str, LLMBackend] = PrivateAttr(default_factory=dict)
    _order: list[str] = PrivateAttr(default_factory=list)

    def node_specs(self) -> list[NodeSpec]:
        """The configured nodes; only the pinned one when ``TRANSCRIPTS_PINNED_NODE`` names a node."""
        specs = self._configured_specs()
        pinned = os.environ.get(PINNED_NODE_ENV)
        if not pinned:
            return specs
        chosen = [s for s in specs if s.id == pinned]
        if not chosen:
            known = ", ".join(s.id for s in specs)
            raise NodeConfigError(
                f"{PINNED_NODE_ENV}={pinned!r} names no configured node (known: {known}); unset it or name one"
            )
        return chosen

    def _configured_specs(self) -> list[NodeSpec]:
        if self.nodes_file:
            return load_nodes_file(Path(self.nodes_file))
        if self.openai_base_url or self.openai_model:
            return [
                NodeSpec(
                    id="openai",
                    backend="openai_compatible",
                    url=self.openai_base_url,
                    model=self.openai_model,
                    api_key_env=self.api_key_env,
                    context_window=self.context_window,
                )
            ]
        return [
            NodeSpec(
                id="local",
                backend="llama_cpp",
                model_path=self.model_path,
                n_threads=self.n_threads,
                context_window=self.context_window,
            )
        ]

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._order = [spec.id for spec in self.node_specs()]

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.close()

    def _spec(self, node_id: str) -> NodeSpec:
        for spec in self.node_specs():
            if spec.id == node_id:
                return spec
        raise KeyError(node_id)

    def backend(self, node_id: str) -> LLMBackend:
        if node_id not in self._backends:
            self._backends[node_id] = build_backend(self._spec(node_id))
        return self._backends[node_id]

    def candidates(self) -> list[LLMBackend]:
        """Backends in the order to try them."""
        if not self._order:
            self._order = [spec.id for spec in self.node_specs()]
        return [self.backend(node_id) for node_id in self._order]

    def report_failure(self, node_id: str) -> None:
        if node_id in self._order and len(self._order) > 1:
            self._order.remove(node_id)
            self._order.append(node_id)

    def close(self) -> None:
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()
