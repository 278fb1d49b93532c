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

from transcript_foundry.formats.custom_mapping.model import (
    Mapping,
    load_mapping,
    parse_mapping,
    shipped_mappings,
)
from transcript_foundry.formats.custom_mapping.render import render, render_record
from transcript_foundry.formats.custom_mapping.templates import (
    DEFAULT_MAPPING,
    MappingError,
)
from transcript_foundry.formats.custom_mapping.validate import validate

__all__ = [
    "DEFAULT_MAPPING",
    "Mapping",
    "MappingError",
    "load_mapping",
    "parse_mapping",
    "render",
    "render_record",
    "shipped_mappings",
    "validate",
]
