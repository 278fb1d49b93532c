"""Google CCAI conversation JSON: the format CCAI Insights and Agent Assist datasets ingest.

One file per conversation, ``<transcript id>.json``::

    {"conversation_info": {"categories": [{"display_name": "claim_status"}]},
     "entries": [{"text": "...", "role": "AGENT", "user_id": 1, "start_timestamp_usec": 1767603600000000},
                 ...]}

Timestamps are synthetic but deterministic: a conversation starts at ``base_time`` plus an offset (0-8 h)
derived from its transcript id, and each turn starts where ``timing_model`` puts it (word count at the
speaker's rate, ~150 wpm, plus a pause; strictly increasing): the same clock as the Contact Lens export.
``user_id`` is 1 for the agent and 2 for the customer (``user_ids="role"``, Google's own sample), or
stable per agent across conversations (``user_ids="agent"``). Field reference:
docs/formats/ccai-dialogflow.md.

Also home of the JSON Schema helpers the JSON formats share (``load_json_schema``, ``json_schema_problems``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from transcript_foundry.formats.export_file import ExportFile
from transcript_foundry.formats.timing_model import TimingParams, deterministic_unit, turn_timings
from transcript_foundry.formats.utc_time import UtcDateTime

SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMA_FILE = "ccai_conversation.schema.json"

ROLES: dict[str, str] = {"AGENT": "AGENT", "CUSTOMER": "CUSTOMER"}
AGENT_USER_ID = 1
CUSTOMER_USER_ID = 2
# Record fields a conversation can be categorised by; the scenario is written as-is (its id), the others
# as "<field>:<value>" (e.g. "emotional_tone:frustrated") so values of different fields never collide.
CATEGORY_FIELDS: tuple[str, ...] = ("scenario", "domain", "emotional_tone", "complexity", "caller_type")
CALL_WINDOW_S = 8 * 3600  # calls start within eight hours of base_time (as in the Contact Lens export)
_USER_ID_SPACE = 2**31 - 1_000_000  # "agent" ids live in [1_000_000, 2**31): positive int32, never 1 or 2
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class CcaiOptions(BaseModel):
    """How conversations are rendered; ``CcaiOptions.model_validate(dict)`` takes the same keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_time: UtcDateTime = Field(
        default=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        description="Calls start at base_time plus an offset (0-8 h) fixed by the transcript id.",
    )
    categories: tuple[str, ...] = Field(
        default=("scenario",), description=f"Record fields written as categories: any of {CATEGORY_FIELDS}."
    )
    user_ids: Literal["role", "agent"] = Field(
        default="role",
        description="'role': agent 1, customer 2. 'agent': one id per company+agent name, one per caller.",
    )
    agent_wpm: float = Field(default=150.0, gt=40, le=400)
    customer_wpm: float = Field(default=160.0, gt=40, le=400)
    seed: int = Field(default=0, description="Varies the timing jitter (pauses, speaking rate).")

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in CATEGORY_FIELDS]
        if unknown:
            raise ValueError(f"unknown categories {unknown}; use any of {list(CATEGORY_FIELDS)}")
        return value


def coerce_options(options: CcaiOptions | Mapping[str, Any] | None) -> CcaiOptions:
    if options is None:
        return CcaiOptions()
    return options if isinstance(options, CcaiOptions) else CcaiOptions.model_validate(dict(options))


# --- shared helpers for the JSON formats -----------------------------------------------------------------


def stable_int(*parts: str) -> int:
    """A 64-bit integer from ``parts`` that is the same on every machine and run (unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def file_stem(transcript_id: str) -> str:
    """A transcript id as a file name: characters other than letters, digits, ``._-`` become ``_``."""
    return _UNSAFE_NAME.sub("_", transcript_id) or "_"


def field_path(parts: Iterable[str | int]) -> str:
    """``["entries", 3, "role"]`` -> ``entries[3].role``; the document itself is ``$``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def dump_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


@cache
def load_json_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def json_schema_problems(file: str, data: Any, schema: dict[str, Any]) -> list[str]:
    """``"<file>: <field path>: <message>"`` for every JSON Schema (draft 2020-12) violation in ``data``."""
    from jsonschema import Draft202012Validator  # imported late: only validation needs it

    errors = sorted(
        Draft202012Validator(schema).iter_errors(data),
        key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in e.absolute_path],
    )
    return [f"{file}: {field_path(e.absolute_path)}: {e.message}" for e in errors]


def read_json(root: Path, file: str) -> tuple[Any, list[str]]:
    """The parsed file, or a problem naming why it could not be read."""
    try:
        return json.loads((root / file).read_text(encoding="utf-8")), []
    except FileNotFoundError:
        return None, [f"{file}: $: file not found"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{file}: $: cannot read: {exc}"]
    except json.JSONDecodeError as exc:
        return None, [f"{file}: $: not valid JSON: {exc}"]


# --- render ----------------------------------------------------------------------------------------------


def _epoch_usec(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def call_start(transcript_id: str, opts: CcaiOptions) -> datetime:
    """``base_time`` plus a whole-second offset in [0, 8 h) fixed by the transcript id (the Contact Lens
    export uses the same rule, so one call starts at the same moment in both exports)."""
    offset = int(deterministic_unit(transcript_id, "call-start") * CALL_WINDOW_S)
    return opts.base_time + timedelta(seconds=offset)


def entry_timestamps(record: Mapping[str, Any], opts: CcaiOptions) -> list[int]:
    """Start of each turn in µs since the epoch: the call start plus the turn's begin offset from
    ``timing_model`` (speaking rate, pauses, holds, interruptions); strictly increasing."""
    params = TimingParams(agent_wpm=opts.agent_wpm, customer_wpm=opts.customer_wpm)
    timings = turn_timings(
        str(record["id"]), record["turns"], record.get("emotional_tone"), params, opts.seed
    )
    start = _epoch_usec(call_start(str(record["id"]), opts))
    return [start + t.begin_ms * 1000 for t in timings]


def _categories(record: Mapping[str, Any], opts: CcaiOptions) -> list[dict[str, str]]:
    names: list[str] = []
    for name in opts.categories:
        value = record.get(name)
        if value in (None, ""):
            continue
        label = str(value) if name == "scenario" else f"{name}:{value}"
        if label not in names:
            names.append(label)
    return [{"display_name": n} for n in names]


def _user_ids(record: Mapping[str, Any], opts: CcaiOptions) -> dict[str, int]:
    if opts.user_ids == "role":
        return {"AGENT": AGENT_USER_ID, "CUSTOMER": CUSTOMER_USER_ID}
    agent = stable_int("ccai-agent", str(record.get("company", "")), str(record.get("agent_name", "")))
    customer = stable_int("ccai-customer", str(record["id"]))
    return {
        "AGENT": 1_000_000 + agent % _USER_ID_SPACE,
        "CUSTOMER": 1_000_000 + customer % _USER_ID_SPACE,
    }


def conversation(record: Mapping[str, Any], opts: CcaiOptions) -> dict[str, Any]:
    """One record as a CCAI conversation document."""
    user_ids = _user_ids(record, opts)
    entries: list[dict[str, Any]] = []
    for i, (turn, at) in enumerate(zip(record["turns"], entry_timestamps(record, opts), strict=True)):
        role = ROLES.get(turn["speaker"])
        if role is None:
            raise ValueError(
                f"transcript {record['id']}: turns[{i}].speaker {turn['speaker']!r} is not AGENT/CUSTOMER"
            )
        text = " ".join(str(turn["text"]).split())
        if not text:
            continue  # an empty turn says nothing; CCAI requires non-empty text
        entries.append({"text": text, "role": role, "user_id": user_ids[role], "start_timestamp_usec": at})
    doc: dict[str, Any] = {}
    categories = _categories(record, opts)
    if categories:
        doc["conversation_info"] = {"categories": categories}
    doc["entries"] = entries
    return doc


def render(
    records: list[dict[str, Any]], options: CcaiOptions | Mapping[str, Any] | None = None
) -> list[ExportFile]:
    """One ``<transcript id>.json`` per record, in record order. Duplicate ids are an error."""
    opts = coerce_options(options)
    files: list[ExportFile] = []
    seen: dict[str, str] = {}
    for record in records:
        name = f"{file_stem(str(record['id']))}.json"
        if name in seen:
            raise ValueError(
                f"transcripts {seen[name]!r} and {record['id']!r} would both be written to {name}"
            )
        seen[name] = str(record["id"])
        files.append(ExportFile(name, dump_json(conversation(record, opts))))
    return files


# --- validate --------------------------------------------------------------------------------------------


def _timestamp_problems(file: str, data: Any) -> list[str]:
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    problems: list[str] = []
    previous: int | None = None
    for i, entry in enumerate(entries):
        at = entry.get("start_timestamp_usec") if isinstance(entry, dict) else None
        if not isinstance(at, int) or isinstance(at, bool):
            previous = None
            continue
        if previous is not None and at <= previous:
            problems.append(
                f"{file}: entries[{i}].start_timestamp_usec: {at} is not later than the previous entry's "
                f"{previous}; entries must be in chronological order"
            )
        previous = at
    return problems


def validate(root: Path, files: list[str]) -> list[str]:
    """Check each file against schemas/ccai_conversation.schema.json and for chronological entries."""
    schema = load_json_schema(SCHEMA_FILE)
    problems: list[str] = []
    for file in files:
        data, read_problems = read_json(root, file)
        if read_problems:
            problems.extend(read_problems)
            continue
        problems.extend(json_schema_problems(file, data, schema))
        problems.extend(_timestamp_problems(file, data))
    return problems
