"""Translating a request's OpenAI ``response_format`` for the backend behind the agent.

The agent advertises ``structured_output: json_schema`` to the orchestrator: clients always send
``{"type": "json_schema", "json_schema": {"schema": ...}}``. Backends differ: llama-cpp-python (in-process
or its server) wants ``{"type": "json_object", "schema": ...}`` and silently ignores ``json_schema``;
older Ollama takes only ``json_object``; some servers take none. ``translate`` rewrites the format for
the backend's mode (``--upstream-structured-output``), so the schema still constrains the answer.
"""

from __future__ import annotations

from typing import Any

from node_agent.upstream import UpstreamError
from transcript_foundry.pool.node_spec import StructuredOutput

_KINDS = ("text", "json_object", "json_schema")


def _schema(value: dict[str, Any]) -> dict[str, Any] | None:
    if value.get("type") == "json_object":
        schema = value.get("schema")
        return schema if isinstance(schema, dict) else None
    schema = (value.get("json_schema") or {}).get("schema")
    if not isinstance(schema, dict):
        raise UpstreamError(
            400,
            "invalid_response_format",
            "response_format.json_schema.schema: give the JSON Schema object the answer must match",
        )
    return schema


def translate(value: Any, mode: StructuredOutput) -> dict[str, Any] | None:
    """``value`` (a request's response_format, or None) as the backend in ``mode`` takes it; None: omit it."""
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in _KINDS:
        raise UpstreamError(
            400,
            "invalid_response_format",
            f"response_format.type {kind!r}: use text, json_object or json_schema",
        )
    if kind == "text" or mode == "none":
        return None
    schema = _schema(value)
    if mode == "json_object" or schema is None:
        return {"type": "json_object"}
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    if kind == "json_schema":
        return value
    return {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
