"""Validation: every written record against the JSON Schema the mapping declares, or the one its template
implies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from transcript_foundry.formats.custom_mapping.model import (
    Mapping,
)
from transcript_foundry.formats.custom_mapping.templates import (
    MAX_PROBLEMS_PER_FILE,
)

# --------------------------------------------------------------------------------------- validation


def _field_path(path: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _where(prefix: str, path: Any) -> str:
    """``line 3: messages[1].role`` (JSONL), ``[2].conversations[0].from`` (array), ``id`` (one object)."""
    field = _field_path(path)
    if prefix.startswith("line"):
        return f"{prefix}: {field.lstrip('.')}" if field else prefix
    return prefix + field if prefix else field.lstrip(".") or "(record)"


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "a scalar")


@dataclass(frozen=True)
class _Unparsed:
    """A JSON syntax problem found where a record should be."""

    problem: str


def _records_in(text: str, layout: str) -> list[tuple[str, Any]]:
    """(where, record) for every record a file holds, in file order; an unparseable one as ``_Unparsed``."""
    if layout == "jsonl":
        found: list[tuple[str, Any]] = []
        lines = text.split("\n")  # not splitlines(): U+2028 may sit unescaped inside a JSON string
        for n, line in enumerate(lines[:-1] if lines[-1] == "" else lines, 1):
            try:
                found.append((f"line {n}", json.loads(line)))
            except json.JSONDecodeError as exc:
                blank = "empty line: JSON Lines holds one record per line"
                found.append(
                    (
                        f"line {n}",
                        _Unparsed(
                            blank if not line.strip() else f"invalid JSON: {exc.msg} (column {exc.colno})"
                        ),
                    )
                )
        return found
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [(f"line {exc.lineno}", _Unparsed(f"invalid JSON: {exc.msg} (column {exc.colno})"))]
    if layout == "one_file_per_conversation":
        return [("", data)]
    if not isinstance(data, list):
        return [("(top level)", _Unparsed(f"expected a JSON array of records, found {_json_type(data)}"))]
    return [(f"[{i}]", r) for i, r in enumerate(data)]


def _validate_file(root: Path, name: str, layout: str, validator: Any) -> list[str]:
    try:
        text = (root / name).read_text(encoding="utf-8")
    except OSError as exc:
        return [f"{name}: (file): cannot read: {exc.strerror}"]
    except UnicodeDecodeError:
        return [f"{name}: (file): not UTF-8 text"]
    records = _records_in(text, layout)
    if not records:
        return [f"{name}: (file): holds no records"]
    problems: list[str] = []
    for where, record in records:
        if isinstance(record, _Unparsed):
            problems.append(f"{name}: {where}: {record.problem}")
            continue
        errors = validator.iter_errors(record)
        problems += [f"{name}: {_where(where, e.absolute_path)}: {_short(e.message)}" for e in errors]
    if len(problems) > MAX_PROBLEMS_PER_FILE:
        more = len(problems) - MAX_PROBLEMS_PER_FILE
        problems = [*problems[:MAX_PROBLEMS_PER_FILE], f"{name}: (file): {more} more problem(s) not shown"]
    return problems


def validate(root: Path, files: list[str], mapping: Mapping) -> list[str]:
    """Problems in exported files (relative to ``root``): JSON syntax per the layout, then each record
    against ``mapping.json_schema()``. Empty when every file is valid."""
    schema = mapping.json_schema()
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema)
    return [p for name in files for p in _validate_file(root, name, mapping.layout, validator)]
