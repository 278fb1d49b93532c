"""custom_json export driven by a mapping file: reshape output-contract records into any JSON format, no code.

A mapping (YAML or JSON) names a ``layout`` (``jsonl``, ``json_array`` or ``one_file_per_conversation``),
a ``file_name`` template and a ``record`` template. Template leaves are literals, references
(``"$quality.overall"``: the value at that dotted path of the record, any JSON type) or text with
placeholders (``"You are {agent_name}, an agent at {company}."``). A ``{"$each": "turns", "item": ...}``
block expands the turns; inside ``item``, ``$speaker``, ``$text``, ``$beat``, ``$act`` and ``$index`` name
the current turn, and ``speakers`` relabels ``$speaker``. Every reference is checked against the output
contract when the mapping loads, so a typo fails with the file and the key path that hold it.
The language reference is docs/formats/custom-json.md; shipped mappings live in ``mappings/``.

API: ``load_mapping(path_or_name)`` (or ``parse_mapping(data, source)`` for a mapping already in memory),
``render(records, mapping)`` (pure) and ``validate(root, files, mapping)`` (each record against the JSON
Schema the mapping declares in ``json_schema:`` or, without one, the schema its template implies).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeAlias

import jsonschema
import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from resources.validation_errors import did_you_mean, validation_problems
from transcript_assets.formats.export_file import ExportFile
from transcript_assets.quality_gate import CHECKS, QualityReport
from transcript_assets.transcript import Transcript, Turn

MAPPINGS_DIR = Path(__file__).parent / "mappings"
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
_MAPPING_SUFFIXES = (".yaml", ".yml", ".json")
_SCHEMA_NOISE = ("title", "description", "default")


class MappingError(ValueError):
    """A mapping file that cannot be used; each problem reads ``<file>: <key path>: <problem>``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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


class _Compiler:
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
            **_implied_schema(self.record, self),
        }


def shipped_mappings() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def _looks_like_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.endswith(_MAPPING_SUFFIXES)


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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError([f"{path}: cannot read the mapping file: {exc.strerror}"]) from None
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
    if _unsafe_path("".join(p if isinstance(p, str) else "x" for p in parts)):
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
    compiler = _Compiler()
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


def _unsafe_path(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        not name or "\\" in name or path.is_absolute() or any(part in ("", "..") for part in name.split("/"))
    )


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
        if _unsafe_path(name):
            raise MappingError(
                [f"{mapping.source}: file_name: record {record.get('id')!r} gives the unsafe path {name!r}"]
            )
        if mapping.layout == "one_file_per_conversation" and name in groups:
            raise MappingError(
                [f"{mapping.source}: file_name: two conversations would both be written to {name!r}"]
            )
        groups.setdefault(name, []).append(render_record(record, mapping))
    return [ExportFile(name, _file_content(mapping.layout, rendered)) for name, rendered in groups.items()]


# ------------------------------------------------------------------------------------ implied schema


def _nullable(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return (
        ("const" in schema and schema["const"] is None)
        or kind == "null"
        or (isinstance(kind, list) and "null" in kind)
        or any(_nullable(s) for s in schema.get("anyOf", []))
    )


def _implied_schema(node: Node, mapping: Mapping) -> dict[str, Any]:
    match node:
        case Const(value):
            return {"const": value}
        case Text():
            return {"type": "string"}
        case Ref(path, turn=True) if path == ("speaker",):
            return {
                "type": "string",
                "enum": list(dict.fromkeys(mapping.speakers.get(s, s) for s in SPEAKERS)),
            }
        case Ref(path, turn=True):
            return TURN_FIELDS[path[0]]
        case Ref(path):
            return CONTRACT_FIELDS[path]
        case Obj(items):
            props = {key: _implied_schema(child, mapping) for key, child in items}
            required = [k for k, s in props.items() if not (mapping.omit_null and _nullable(s))]
            return {
                "type": "object",
                "properties": props,
                "required": required,
                "additionalProperties": False,
            }
        case Arr(items):
            schemas = [_implied_schema(child, mapping) for child in items]
            return {
                "type": "array",
                "prefixItems": schemas,
                "minItems": len(schemas),
                "maxItems": len(schemas),
            }
        case Each(prepend, item, append):
            # The turns follow the prepended items; an appended item can only be told from a turn by shape.
            schema: dict[str, Any] = {"type": "array"}
            if prepend:
                schema["prefixItems"] = [_implied_schema(p, mapping) for p in prepend]
            item_schema = _implied_schema(item, mapping)
            extra = [_implied_schema(a, mapping) for a in append]
            schema["items"] = {"anyOf": [item_schema, *extra]} if extra else item_schema
            if prepend or append:
                schema["minItems"] = len(prepend) + len(append)
            return schema
    raise TypeError(f"not a template node: {node!r}")


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
