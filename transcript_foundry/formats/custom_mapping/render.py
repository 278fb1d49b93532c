"""Rendering: output-contract records through a compiled mapping into export files (pure)."""

from __future__ import annotations

import json
from typing import Any

from transcript_foundry.formats.custom_mapping.model import (
    Mapping,
)
from transcript_foundry.formats.custom_mapping.templates import (
    Arr,
    Const,
    Each,
    MappingError,
    Node,
    Obj,
    Ref,
    Text,
    unsafe_path,
)
from transcript_foundry.formats.export_file import ExportFile

# ---------------------------------------------------------------------------------------- rendering


def _as_text(value: Any) -> str:
    """A value placed in text: strings as they are, null as nothing, anything else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _resolve(
    ref: Ref, record: dict[str, Any], turn: tuple[int, dict[str, Any]] | None, speakers: dict[str, str]
) -> Any:
    if ref.turn and turn is not None:
        index, fields = turn
        name = ref.path[0]
        if name == "index":
            return index
        value = fields.get(name)
        return speakers.get(value, value) if name == "speaker" else value
    value: Any = record
    for segment in ref.path:
        value = value.get(segment) if isinstance(value, dict) else None
    return value


def _render(
    node: Node,
    record: dict[str, Any],
    turn: tuple[int, dict[str, Any]] | None,
    speakers: dict[str, str],
    omit_null: bool,
) -> Any:
    def again(child: Node, at: tuple[int, dict[str, Any]] | None = turn) -> Any:
        return _render(child, record, at, speakers, omit_null)

    match node:
        case Const(value):
            return value
        case Ref():
            return _resolve(node, record, turn, speakers)
        case Text(parts):
            return "".join(
                p if isinstance(p, str) else _as_text(_resolve(p, record, turn, speakers)) for p in parts
            )
        case Obj(items):
            rendered = {key: again(child) for key, child in items}
            return {k: v for k, v in rendered.items() if v is not None} if omit_null else rendered
        case Arr(items):
            return [again(child) for child in items]
        case Each(prepend, item, append):
            turns = record.get("turns") or []
            expanded = [again(item, (i, t)) for i, t in enumerate(turns)]
            return [again(p, None) for p in prepend] + expanded + [again(a, None) for a in append]
    raise TypeError(f"not a template node: {node!r}")


def render_record(record: dict[str, Any], mapping: Mapping) -> Any:
    """One output-contract record in the mapping's shape."""
    return _render(mapping.record, record, None, mapping.speakers, mapping.omit_null)


def _file_content(layout: str, rendered: list[Any]) -> str:
    if layout == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rendered)
    body = rendered if layout == "json_array" else rendered[0]
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def render(records: list[dict[str, Any]], mapping: Mapping) -> list[ExportFile]:
    """Records grouped into files by their rendered ``file_name`` (in order of first appearance)."""
    groups: dict[str, list[Any]] = {}
    for record in records:
        name = _render(mapping.file_name, record, None, {}, omit_null=False)
        if unsafe_path(name):
            raise MappingError(
                [f"{mapping.source}: file_name: record {record.get('id')!r} gives the unsafe path {name!r}"]
            )
        if mapping.layout == "one_file_per_conversation" and name in groups:
            raise MappingError(
                [f"{mapping.source}: file_name: two conversations would both be written to {name!r}"]
            )
        groups.setdefault(name, []).append(render_record(record, mapping))
    return [ExportFile(name, _file_content(mapping.layout, rendered)) for name, rendered in groups.items()]
