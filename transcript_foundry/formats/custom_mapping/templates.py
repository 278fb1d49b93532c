"""Mapping templates: the output contract's field set a template may reference, and the compiled template
nodes (constants, references, text with placeholders, objects, arrays, the turns block)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeAlias

from pydantic import TypeAdapter

from transcript_foundry.contract.transcript import Transcript, Turn
from transcript_foundry.contract.validation_errors import did_you_mean
from transcript_foundry.quality.gate import CHECKS, QualityReport

MAPPINGS_DIR = Path(__file__).parents[1] / "mappings"
DEFAULT_MAPPING = "contract"
DOCS = "see docs/formats/custom-json.md"
Layout = Literal["jsonl", "json_array", "one_file_per_conversation"]
DEFAULT_FILE_NAMES: dict[str, str] = {
    "jsonl": "{request_id}.jsonl",
    "json_array": "{request_id}.json",
    "one_file_per_conversation": "{id}.json",
}
EACH_KEYS = ("$each", "item", "prepend", "append")
SPEAKERS = ("AGENT", "CUSTOMER")
MAX_PROBLEMS_PER_FILE = 20
MAPPING_SUFFIXES = (".yaml", ".yml", ".json")
_SCHEMA_NOISE = ("title", "description", "default")


class MappingError(ValueError):
    """A mapping file that cannot be used; each problem reads ``<file>: <key path>: <problem>``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ------------------------------------------------------------------ the output contract's field set


def _clean_schema(schema: Any, defs: dict[str, Any]) -> Any:
    """Inline ``$ref``s and drop pydantic's titles, descriptions and defaults."""
    if isinstance(schema, list):
        return [_clean_schema(s, defs) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return _clean_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    return {k: _clean_schema(v, defs) for k, v in schema.items() if k not in _SCHEMA_NOISE}


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    """The named fields of an object schema, looking through ``anyOf`` (a nullable object)."""
    found = dict(schema.get("properties", {}))
    for branch in schema.get("anyOf", []):
        found.update(branch.get("properties", {}))
    return found


def _contract_fields() -> dict[tuple[str, ...], dict[str, Any]]:
    """Every path a reference may name, with the JSON Schema of its value (from the contract models)."""
    top = Transcript.model_json_schema()
    defs = top.get("$defs", {})
    report = TypeAdapter(QualityReport).json_schema()
    quality = _clean_schema(report, report.get("$defs", {}))
    fields: dict[tuple[str, ...], dict[str, Any]] = {}
    for name, raw in top["properties"].items():
        schema = _clean_schema(raw, defs)
        if name == "quality":
            schema = {"anyOf": [quality, {"type": "null"}]}
        fields[(name,)] = schema
        for sub, sub_schema in _properties(schema).items():
            fields[(name, sub)] = sub_schema
    for check in CHECKS:
        fields[("quality", "checks", check)] = {"type": "number"}
    return fields


def _turn_fields() -> dict[str, dict[str, Any]]:
    fields = {k: _clean_schema(v, {}) for k, v in Turn.model_json_schema()["properties"].items()}
    fields["index"] = {"type": "integer", "minimum": 0}
    return fields


CONTRACT_FIELDS = _contract_fields()
TURN_FIELDS = _turn_fields()


def _children(parent: tuple[str, ...]) -> list[str]:
    return [p[-1] for p in CONTRACT_FIELDS if len(p) == len(parent) + 1 and p[:-1] == parent]


# ------------------------------------------------------------------------------ compiled templates


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Ref:
    path: tuple[str, ...]
    turn: bool  # a field of the current turn (inside a $each item) rather than of the record


@dataclass(frozen=True)
class Text:
    parts: tuple[str | Ref, ...]


@dataclass(frozen=True)
class Obj:
    items: tuple[tuple[str, Node], ...]


@dataclass(frozen=True)
class Arr:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Each:
    prepend: tuple[Node, ...]
    item: Node
    append: tuple[Node, ...]


Node: TypeAlias = Const | Ref | Text | Obj | Arr | Each


def _reference_problem(path: tuple[str, ...], in_item: bool) -> str | None:
    """Why ``path`` names nothing in a record (or the current turn), or None when it is fine."""
    head = path[0]
    if head in TURN_FIELDS:
        if not in_item:
            return f"{head!r} is a field of a turn: use it inside the item of a '$each: turns' block"
        return f"the turn field {head!r} has no fields" if len(path) > 1 else None
    for depth in range(1, len(path) + 1):
        if path[:depth] in CONTRACT_FIELDS:
            continue
        parent, name = path[: depth - 1], path[depth - 1]
        choices = _children(parent) + (list(TURN_FIELDS) if in_item and not parent else [])
        if parent == ("turns",):
            return "'turns' is a list: use a '$each: turns' block to reach its items"
        if not choices:
            return f"{'.'.join(parent)!r} has no fields"
        return (
            f"unknown field {name!r}: remove it or fix its spelling "
            f"({did_you_mean(name, choices)}fields are: {', '.join(choices)})"
        )
    return None


class Compiler:
    """Turns the raw template into nodes, collecting every problem as (key path, message)."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def node(self, raw: Any, where: str, in_item: bool) -> Node:
        if isinstance(raw, dict):
            return self.each(raw, where, in_item) if "$each" in raw else self.obj(raw, where, in_item)
        if isinstance(raw, list):
            return Arr(tuple(self.node(v, f"{where}[{i}]", in_item) for i, v in enumerate(raw)))
        if isinstance(raw, str):
            return self.leaf(raw, where, in_item)
        if raw is None or isinstance(raw, bool | int | float):
            return Const(raw)
        self.problems.append((where, f"{raw!r} is not a JSON value (a date or time? quote it)"))
        return Const(None)

    def leaf(self, raw: str, where: str, in_item: bool) -> Node:
        if raw.startswith("$$"):
            return Const(raw[1:])
        if raw.startswith("$"):
            return self.ref(raw, raw[1:], where, in_item) or Const(None)
        return self.text(raw, where, in_item)

    def ref(self, spelled: str, dotted: str, where: str, in_item: bool) -> Ref | None:
        path = tuple(dotted.split("."))
        if not all(path):
            self.problems.append((where, f"reference {spelled!r}: name a field, e.g. '$id' or '{{id}}'"))
            return None
        problem = _reference_problem(path, in_item)
        if problem:
            self.problems.append((where, f"reference {spelled!r}: {problem}"))
            return None
        return Ref(path, turn=path[0] in TURN_FIELDS)

    def text(self, raw: str, where: str, in_item: bool) -> Node:
        try:
            pieces = list(string.Formatter().parse(raw))
        except ValueError as exc:
            self.problems.append(
                (where, f"bad template {raw!r}: {exc}; write {{{{ and }}}} for literal braces")
            )
            return Const(raw)
        parts: list[str | Ref] = []
        for literal, field, spec, conversion in pieces:
            if literal:
                parts.append(literal)
            if field is None:
                continue
            if spec or conversion:
                self.problems.append(
                    (
                        where,
                        f"placeholder in {raw!r}: formats and conversions are not supported; write {{{field}}}",
                    )
                )
                continue
            ref = self.ref("{" + field + "}", field, where, in_item)
            if ref:
                parts.append(ref)
        if all(isinstance(p, str) for p in parts):
            return Const("".join(p for p in parts if isinstance(p, str)))
        return Text(tuple(parts))

    def obj(self, raw: dict[Any, Any], where: str, in_item: bool) -> Obj:
        items: list[tuple[str, Node]] = []
        for key, value in raw.items():
            at = f"{where}.{key}"
            if not isinstance(key, str):
                self.problems.append((at, f"key {key!r} must be text: quote it"))
            elif key.startswith("$") and not key.startswith("$$"):
                self.problems.append(
                    (
                        at,
                        f"unknown directive {key!r}: $each is the only one; write '${key}' for a key that starts with '$'",
                    )
                )
            else:
                items.append((key.removeprefix("$"), self.node(value, at, in_item)))
        return Obj(tuple(items))

    def each(self, raw: dict[Any, Any], where: str, in_item: bool) -> Node:
        if in_item:
            self.problems.append((where, "a '$each' block cannot sit inside another one's item"))
        for key in raw:
            if key not in EACH_KEYS:
                self.problems.append(
                    (
                        f"{where}.{key}",
                        "unknown field: remove it or fix its spelling "
                        f"({did_you_mean(str(key), EACH_KEYS)}a '$each' block has: {', '.join(EACH_KEYS)})",
                    )
                )
        if raw["$each"] != "turns":
            self.problems.append((f"{where}.$each", f"only 'turns' can be expanded, not {raw['$each']!r}"))
        if "item" not in raw:
            self.problems.append(
                (
                    f"{where}.item",
                    "field required: add it (the template of one turn, e.g. {role: $speaker, content: $text})",
                )
            )
        return Each(
            prepend=self.items(raw.get("prepend", []), f"{where}.prepend"),
            item=self.node(raw.get("item"), f"{where}.item", in_item=True),
            append=self.items(raw.get("append", []), f"{where}.append"),
        )

    def items(self, raw: Any, where: str) -> tuple[Node, ...]:
        if not isinstance(raw, list):
            self.problems.append((where, "must be a list of items"))
            return ()
        return tuple(self.node(v, f"{where}[{i}]", in_item=False) for i, v in enumerate(raw))


def unsafe_path(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        not name or "\\" in name or path.is_absolute() or any(part in ("", "..") for part in name.split("/"))
    )
