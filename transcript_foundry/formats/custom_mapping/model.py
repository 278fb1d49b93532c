"""The mapping file: its model and loading (``load_mapping`` / ``parse_mapping``), with errors that name the
file and the key path; a loaded ``Mapping`` is what ``render`` and ``validate`` take."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transcript_foundry.contract.validation_errors import did_you_mean, validation_problems
from transcript_foundry.formats.custom_mapping.schema import implied_schema
from transcript_foundry.formats.custom_mapping.templates import (
    DEFAULT_FILE_NAMES,
    DOCS,
    MAPPING_SUFFIXES,
    MAPPINGS_DIR,
    Compiler,
    Const,
    Layout,
    MappingError,
    Node,
    Obj,
    Ref,
    Text,
    unsafe_path,
)
from transcript_foundry.text.text_file import TextFileError, read_utf8

# ------------------------------------------------------------------------------------ the file model


class SpeakerLabels(BaseModel):
    """What ``$speaker`` becomes for each contract speaker; an unnamed speaker keeps its contract label."""

    model_config = ConfigDict(extra="forbid")

    AGENT: str | None = Field(default=None, min_length=1)
    CUSTOMER: str | None = Field(default=None, min_length=1)


class MappingFile(BaseModel):
    """A mapping file as written; ``record`` and ``file_name`` are compiled and checked after this."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    layout: Layout = "jsonl"
    file_name: str | None = None
    speakers: SpeakerLabels = SpeakerLabels()
    omit_null: bool = False
    record: dict[str, Any]
    json_schema: Any = None  # an inline schema (a mapping) or a schema file's path; checked by hand


# -------------------------------------------------------------------------------------- the mapping


@dataclass(frozen=True)
class Mapping:
    """A loaded, checked mapping: what ``render`` and ``validate`` take."""

    name: str
    source: str
    layout: Layout
    file_name: Node
    speakers: dict[str, str]
    omit_null: bool
    record: Obj
    declared_schema: dict[str, Any] | None = None
    description: str = ""

    def json_schema(self) -> dict[str, Any]:
        """The schema every output record must meet: the declared one, else the one the template implies."""
        if self.declared_schema is not None:
            return self.declared_schema
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **implied_schema(self.record, self.speakers, self.omit_null),
        }


def shipped_mappings() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def _looks_like_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.endswith(MAPPING_SUFFIXES)


def _mapping_path(path_or_name: str | Path) -> Path:
    if isinstance(path_or_name, Path) or _looks_like_path(path_or_name):
        return Path(path_or_name)
    names = shipped_mappings()
    if path_or_name not in names:
        raise MappingError(
            [
                f"{path_or_name}: unknown mapping name: {did_you_mean(path_or_name, names)}shipped mappings are: "
                f"{', '.join(names)}; or give the path of a .yaml or .json mapping file"
            ]
        )
    return MAPPINGS_DIR / f"{path_or_name}.yaml"


def _parse_text(text: str, path: Path, what: str) -> Any:
    """JSON for a .json file, YAML otherwise; a syntax error names the file, line and column."""
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise MappingError(
                [f"{path}: line {exc.lineno}, column {exc.colno}: {what} is not valid JSON: {exc.msg}"]
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError([f"{path}: {where}: {what} is not valid YAML: {problem}"]) from None


def load_mapping(path_or_name: str | Path) -> Mapping:
    """A shipped mapping by name (``"openai_chat"``) or a mapping file by path (``.yaml``, ``.yml``, ``.json``)."""
    path = _mapping_path(path_or_name)
    try:
        text = read_utf8(path, "mapping file")
    except TextFileError as exc:
        raise MappingError([f"{path}: (file): {exc}"]) from None
    data = _parse_text(text, path, "the mapping")
    return parse_mapping(data, source=str(path), base_dir=path.parent, name=path.stem)


def _file_problems(exc: ValidationError) -> list[tuple[str, str]]:
    hints: dict[str, str] = {}
    for e in exc.errors():
        if e["type"] == "extra_forbidden":
            name = str(e["loc"][-1])
            speakers = e["loc"][:-1] == ("speakers",)
            choices = list(SpeakerLabels.model_fields if speakers else MappingFile.model_fields)
            label = "speakers are" if speakers else "fields are"
            hints[name] = f"{did_you_mean(name, choices)}{label}: {', '.join(choices)}"
    return validation_problems(
        exc,
        missing_hint=f"the template of one output record; {DOCS}",
        unknown_hint=lambda name: hints.get(name, DOCS),
    )


def _declared_schema(
    raw: Any, base_dir: Path | None, problems: list[tuple[str, str]]
) -> dict[str, Any] | None:
    if raw is None:
        return None
    schema = raw
    if isinstance(raw, str):
        path = Path(raw) if Path(raw).is_absolute() else (base_dir or Path.cwd()) / raw
        try:
            schema = _parse_text(path.read_text(encoding="utf-8"), path, "the schema file")
        except OSError as exc:
            problems.append(("json_schema", f"cannot read the schema file {path}: {exc.strerror}"))
            return None
        except MappingError as exc:
            problems.append(("json_schema", str(exc)))
            return None
    if not isinstance(schema, dict):
        problems.append(
            ("json_schema", "expected a JSON Schema: an inline mapping or the path of a .json/.yaml file")
        )
        return None
    try:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(
            schema
        )
    except jsonschema.SchemaError as exc:
        at = "".join(f".{p}" for p in exc.path)
        problems.append((f"json_schema{at}", f"not a valid JSON Schema: {exc.message}"))
        return None
    return schema


def _file_name_problems(node: Node, layout: str) -> list[str]:
    refs = [p for p in node.parts if isinstance(p, Ref)] if isinstance(node, Text) else []
    problems = []
    if layout == "one_file_per_conversation" and not any(r.path == ("id",) for r in refs):
        problems.append(
            "one_file_per_conversation needs {id} in the name so that each conversation gets its own file"
        )
    parts = node.parts if isinstance(node, Text) else (node.value,) if isinstance(node, Const) else ()
    if unsafe_path("".join(p if isinstance(p, str) else "x" for p in parts)):
        problems.append("must be a relative path inside the export folder (no leading '/', no '..')")
    return problems


def parse_mapping(data: Any, source: str, base_dir: Path | None = None, name: str = "") -> Mapping:
    """Check a mapping already parsed from YAML/JSON; ``source`` names it in messages."""
    if not isinstance(data, dict):
        raise MappingError([f"{source}: (file): expected a mapping with at least a 'record:' key; {DOCS}"])
    try:
        spec = MappingFile.model_validate(data)
    except ValidationError as exc:
        raise MappingError(
            [f"{source}: {loc}: {msg}" if loc else f"{source}: {msg}" for loc, msg in _file_problems(exc)]
        ) from None
    compiler = Compiler()
    record = compiler.obj(spec.record, "record", in_item=False) if "$each" not in spec.record else None
    if record is None:
        compiler.problems.append(("record", "must be an object template; put the '$each' block under a key"))
    file_name = compiler.text(spec.file_name or DEFAULT_FILE_NAMES[spec.layout], "file_name", in_item=False)
    compiler.problems += [("file_name", p) for p in _file_name_problems(file_name, spec.layout)]
    declared = _declared_schema(spec.json_schema, base_dir, compiler.problems)
    if compiler.problems or record is None:
        raise MappingError([f"{source}: {where}: {msg}" for where, msg in compiler.problems])
    labels = {k: v for k, v in spec.speakers.model_dump().items() if v is not None}
    return Mapping(
        name=name or Path(source).stem,
        source=source,
        layout=spec.layout,
        file_name=file_name,
        speakers=labels,
        omit_null=spec.omit_null,
        record=record,
        declared_schema=declared,
        description=spec.description,
    )
