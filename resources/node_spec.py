"""NodeSpec: the configuration of one LLM node, as written in nodes.yaml or built from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from resources.validation_errors import did_you_mean, validation_problems

BackendKind = Literal["llama_cpp", "openai_compatible"]
StructuredOutput = Literal["json_schema", "json_object_schema", "json_object", "none"]


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

    @model_validator(mode="after")
    def _backend_fields(self) -> NodeSpec:
        if self.backend == "openai_compatible":
            if not self.url:
                raise ValueError("url: an openai_compatible node needs url, e.g. http://127.0.0.1:8080/v1")
            if not self.model:
                raise ValueError("model: an openai_compatible node needs the model name the server serves")
        return self

    @property
    def resolved_prompt_style(self) -> Literal["completion", "chat_json"]:
        if self.prompt_style != "auto":
            return self.prompt_style
        return "completion" if self.backend == "llama_cpp" else "chat_json"


def load_nodes_file(path: Path) -> list[NodeSpec]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NodeConfigError(f"cannot read nodes file {path}: {exc.strerror}") from exc
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
                    missing_hint="see the nodes.yaml example in the README",
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
