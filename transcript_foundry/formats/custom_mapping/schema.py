"""The JSON Schema a mapping's template implies, for mappings that declare none."""

from __future__ import annotations

from typing import Any

from transcript_foundry.formats.custom_mapping.templates import (
    CONTRACT_FIELDS,
    SPEAKERS,
    TURN_FIELDS,
    Arr,
    Const,
    Each,
    Node,
    Obj,
    Ref,
    Text,
)

# ------------------------------------------------------------------------------------ implied schema


def _nullable(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return (
        ("const" in schema and schema["const"] is None)
        or kind == "null"
        or (isinstance(kind, list) and "null" in kind)
        or any(_nullable(s) for s in schema.get("anyOf", []))
    )


def implied_schema(node: Node, speakers: dict[str, str], omit_null: bool) -> dict[str, Any]:
    """The JSON Schema a compiled template's output meets (speakers: the relabelling of AGENT / CUSTOMER;
    omit_null: whether null-valued keys are left out of the output)."""
    match node:
        case Const(value):
            return {"const": value}
        case Text():
            return {"type": "string"}
        case Ref(path, turn=True) if path == ("speaker",):
            return {
                "type": "string",
                "enum": list(dict.fromkeys(speakers.get(s, s) for s in SPEAKERS)),
            }
        case Ref(path, turn=True):
            return TURN_FIELDS[path[0]]
        case Ref(path):
            return CONTRACT_FIELDS[path]
        case Obj(items):
            props = {key: implied_schema(child, speakers, omit_null) for key, child in items}
            required = [k for k, s in props.items() if not (omit_null and _nullable(s))]
            return {
                "type": "object",
                "properties": props,
                "required": required,
                "additionalProperties": False,
            }
        case Arr(items):
            schemas = [implied_schema(child, speakers, omit_null) for child in items]
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
                schema["prefixItems"] = [implied_schema(p, speakers, omit_null) for p in prepend]
            item_schema = implied_schema(item, speakers, omit_null)
            extra = [implied_schema(a, speakers, omit_null) for a in append]
            schema["items"] = {"anyOf": [item_schema, *extra]} if extra else item_schema
            if prepend or append:
                schema["minItems"] = len(prepend) + len(append)
            return schema
    raise TypeError(f"not a template node: {node!r}")
