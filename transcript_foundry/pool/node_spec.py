"""NodeSpec: the configuration of one LLM node, as written in nodes.yaml or built from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from transcript_foundry.contract.validation_errors import did_you_mean, validation_problems
from transcript_foundry.text.text_file import TextFileError, read_utf8

BackendKind = Literal["llama_cpp", "openai_compatible"]
StructuredOutput = Literal["json_schema", "json_object_schema", "json_object", "none"]


DEFAULT_MIN_CONCURRENCY = 2
DEFAULT_MAX_CONCURRENCY = 6
# An in-process llama.cpp node decodes this many conversations together (transcript_foundry/llm/batched_decoder.py).
DEFAULT_LLAMA_SEQUENCES = 4


class NodeConfigError(ValueError):
    """nodes.yaml or the node environment variables are invalid. The message names the field."""


class NodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    backend: BackendKind
    model_path: str | None = Field(default=None, description="GGUF file (llama_cpp); null = embedded model.")
    url: str | None = Field(default=None, description="Base URL ending in /v1 (openai_compatible).")
    model: str | None = Field(default=None, description="Model name sent to the server.")
    api_key_env: str | None = Field(default=None, description="Environment variable holding the API key.")
    prompt_style: Literal["auto", "completion", "chat_json"] = "auto"
    structured_output: StructuredOutput = "json_schema"
    context_window: int = Field(default=8192, ge=512)
    n_threads: int | None = Field(default=None, ge=1)
    timeout_s: float = Field(default=120.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    # ---- routing ---------------------------------------------------------------------------------------
    capabilities: list[str] = Field(
        default_factory=list, description="What the node offers beyond its profile, e.g. gpu, chat_json."
    )
    min_concurrency: int | None = Field(
        default=None, ge=1, description="Lower concurrency bound (default 2; llama_cpp: max_concurrency)."
    )
    max_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="Upper concurrency bound (default 6); llama_cpp: sequences decoded together (default 4).",
    )
    kubernetes_node: str | None = Field(default=None, description="Kubernetes node name the node runs on.")
    hostname: str | None = Field(
        default=None, description="Host whose settings profile applies (default: the node id)."
    )
    weight: float = Field(
        default=1.0, gt=0, le=1, description="Score multiplier: 0.5 = use when others are busy."
    )
    tokens_per_s: float | None = Field(
        default=None, gt=0, description="Expected speed until one is measured."
    )
    server_signals: bool = Field(
        default=True, description="Read the server's /metrics and /slots for its queue."
    )
    kv_bytes_per_token: int | None = Field(
        default=None, ge=1, description="KV-cache bytes per token; with free VRAM it bounds the batch size."
    )

    @model_validator(mode="after")
    def _backend_fields(self) -> NodeSpec:
        if self.backend == "openai_compatible":
            if not self.url:
                raise ValueError("url: an openai_compatible node needs url, e.g. http://127.0.0.1:8080/v1")
            if not self.model:
                raise ValueError("model: an openai_compatible node needs the model name the server serves")
        low, high = self.concurrency_bounds
        if low > high:
            raise ValueError(
                f"min_concurrency: {low} is above max_concurrency {high}; make min_concurrency <= max_concurrency"
            )
        return self

    @property
    def concurrency_bounds(self) -> tuple[int, int]:
        """(min, max) requests in flight: 2-6 by default. An in-process llama.cpp node decodes its requests
        together, one sequence each: 4-4 by default, ``max_concurrency: 1`` for one sequence at a time."""
        if self.backend == "llama_cpp":
            high = self.max_concurrency or max(DEFAULT_LLAMA_SEQUENCES, self.min_concurrency or 0)
            return self.min_concurrency or high, high
        high = self.max_concurrency or max(DEFAULT_MAX_CONCURRENCY, self.min_concurrency or 0)
        low = self.min_concurrency or min(DEFAULT_MIN_CONCURRENCY, high)
        return low, high

    def bounds_within(self, default_low: int, default_high: int) -> tuple[int, int]:
        """(min, max) in flight with the ``pool`` settings' bounds for an HTTP node whose entry sets none;
        an in-process llama.cpp node keeps its sequences (``concurrency_bounds``)."""
        if self.backend == "llama_cpp":
            return self.concurrency_bounds
        high = self.max_concurrency or max(default_high, self.min_concurrency or 0)
        low = self.min_concurrency or min(default_low, high)
        return low, high

    @property
    def resolved_prompt_style(self) -> Literal["completion", "chat_json"]:
        if self.prompt_style != "auto":
            return self.prompt_style
        return "completion" if self.backend == "llama_cpp" else "chat_json"


def load_nodes_file(path: Path) -> list[NodeSpec]:
    try:
        data = yaml.safe_load(read_utf8(path, "nodes file"))
    except TextFileError as exc:
        raise NodeConfigError(f"nodes file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise NodeConfigError(f"nodes file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not data["nodes"]:
        raise NodeConfigError(f"nodes file {path}: expected a top-level 'nodes:' list with at least one node")
    nodes: list[NodeSpec] = []
    fields = list(NodeSpec.model_fields)
    for i, raw in enumerate(data["nodes"]):
        try:
            nodes.append(NodeSpec.model_validate(raw))
        except ValidationError as exc:
            problems = "; ".join(
                f"{loc}: {msg}" if loc else msg
                for loc, msg in validation_problems(
                    exc,
                    missing_hint="see docs/nodes.md for every field",
                    unknown_hint=lambda name: f"{did_you_mean(name, fields)}fields are: {', '.join(fields)}",
                )
            )
            raise NodeConfigError(f"nodes file {path}: nodes[{i}]: {problems}") from None
    first_index: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if node.id in first_index:
            first = first_index[node.id]
            raise NodeConfigError(
                f"nodes file {path}: nodes[{i}]: id: duplicate node id {node.id!r} "
                f"(nodes[{first}] has it too); each node needs its own id"
            )
        first_index[node.id] = i
    return nodes
