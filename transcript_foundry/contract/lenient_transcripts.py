"""The lenient transcript reader: records from this pipeline or from any other tool.

Every command that reads a user's transcripts file (``export``, ``dedup``, ``scrub``, ``score``,
``report``) reads it through this module, so they all accept the same records and word their errors the
same way. A record needs only:

- ``id``: non-empty text (an integer id is read as its decimal text); ``scrub`` also takes records
  without one;
- ``turns``: a list of at least two ``{"speaker": ..., "text": ...}``, the speaker ``AGENT`` or ``CUSTOMER``
  in any case, or one of the aliases in ``SPEAKER_ALIASES`` (``user`` / ``assistant`` from chat exports,
  ``human`` / ``gpt`` from ShareGPT, ``caller``, ``rep`` ...), the text non-blank.

Everything else is optional (``with_contract_defaults`` fills the contract's required fields for
consumers that write output-contract records, such as ``export``): ``domain``, ``scenario``, ``emotional_tone``, ``complexity``,
``caller_type``, ``company`` and ``agent_name`` are text or null when present, ``phi`` is a list of spans
inside the turns, and any other key is kept as it is. The reader fills nothing in: a missing field stays
missing and each consumer uses its own default (``domain`` missing: no domain pack; ``scenario`` missing:
the generic problem-statement intent). The record that comes back is a copy with ``id`` as text and each speaker in its
canonical form; turn texts are not changed (``phi`` offsets point into them).

A bad record raises ``TranscriptRecordError`` whose message starts with the field
(``turns[3].speaker: 'BOT' is not a speaker; write AGENT or CUSTOMER``) and says what to write instead;
``read_transcripts`` adds the file and line.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from transcript_foundry.text.text_file import TextFileError, read_utf8

SPEAKERS: tuple[str, ...] = ("AGENT", "CUSTOMER")
SPEAKER_ALIASES: dict[str, str] = {
    "agent": "AGENT",
    "assistant": "AGENT",
    "gpt": "AGENT",
    "rep": "AGENT",
    "representative": "AGENT",
    "customer": "CUSTOMER",
    "caller": "CUSTOMER",
    "user": "CUSTOMER",
    "human": "CUSTOMER",
    "client": "CUSTOMER",
}
OPTIONAL_TEXT_FIELDS: tuple[str, ...] = (
    "domain",
    "scenario",
    "emotional_tone",
    "complexity",
    "caller_type",
    "company",
    "agent_name",
)
_SPAN_KEYS: tuple[str, ...] = ("turn", "start", "end")
_TURNS_FIX = 'write "turns": [{"speaker": "AGENT", "text": "..."}, {"speaker": "CUSTOMER", "text": "..."}]'
MAX_ERRORS_SHOWN = 20
MIN_TURNS = 2  # as in the output contract: every export format needs a conversation
EXTERNAL = "external"  # request_id and generation.node_id of a transcript from another tool
UNKNOWN = "unknown"  # domain, scenario and generation.model when the record does not say


class TranscriptRecordError(ValueError):
    """A record is not a readable transcript; the message starts with the field and says the fix."""


class TranscriptFileError(ValueError):
    """A transcripts file has unreadable lines (each named by line and field) or no transcripts at all."""


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _record_id(record: Mapping[str, Any]) -> str:
    if "id" not in record:
        raise TranscriptRecordError('id: missing; give every transcript its own id, e.g. "id": "call-0001"')
    value = record["id"]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise TranscriptRecordError(
            f'id: expected non-empty text, got {_kind(value)} {value!r}; write e.g. "id": "call-0001"'
        )
    return value


def canonical_speaker(value: Any) -> str | None:
    """``AGENT`` / ``CUSTOMER`` for a speaker name in any case or one of the aliases; None otherwise."""
    if not isinstance(value, str):
        return None
    name = value.strip()
    return name.upper() if name.upper() in SPEAKERS else SPEAKER_ALIASES.get(name.lower())


def read_turns(turns: Any) -> list[dict[str, Any]]:
    """Copies of the turns with canonical speakers, or ``TranscriptRecordError`` naming the bad turn."""
    if not isinstance(turns, list):
        raise TranscriptRecordError(f"turns: expected a list of turns, got {_kind(turns)}; {_TURNS_FIX}")
    out: list[dict[str, Any]] = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, Mapping):
            raise TranscriptRecordError(
                f"turns[{i}]: expected an object with speaker and text, got {_kind(turn)}; {_TURNS_FIX}"
            )
        for key in ("speaker", "text"):
            if key not in turn:
                raise TranscriptRecordError(f"turns[{i}].{key}: missing; {_TURNS_FIX}")
        speaker = canonical_speaker(turn["speaker"])
        if speaker is None:
            raise TranscriptRecordError(
                f"turns[{i}].speaker: {turn['speaker']!r} is not a speaker; write AGENT or CUSTOMER "
                f"(also read: {', '.join(sorted(SPEAKER_ALIASES))})"
            )
        text = turn["text"]
        if not isinstance(text, str) or not text.strip():
            raise TranscriptRecordError(
                f"turns[{i}].text: expected non-empty text, got {_kind(text)} {text!r}; "
                "drop the turn or write what was said"
            )
        out.append({**copy.deepcopy(dict(turn)), "speaker": speaker})
    if len(out) < MIN_TURNS:
        raise TranscriptRecordError(
            f"turns: a call needs at least {MIN_TURNS} turns, this one has {len(out)}; {_TURNS_FIX}"
        )
    return out


def _check_optional_text(record: Mapping[str, Any]) -> None:
    for key in OPTIONAL_TEXT_FIELDS:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise TranscriptRecordError(
                f"{key}: expected text or null, got {_kind(value)} {value!r}; quote it or leave it out"
            )


def _check_phi(phi: Any, turns: list[dict[str, Any]]) -> None:
    if phi is None:
        return
    if not isinstance(phi, list):
        raise TranscriptRecordError(
            f'phi: expected a list of spans, got {_kind(phi)}; write "phi": [] or leave it out'
        )
    for k, span in enumerate(phi):
        where = f"phi[{k}]"
        if not isinstance(span, Mapping) or not all(
            isinstance(span.get(key), int) and not isinstance(span.get(key), bool) for key in _SPAN_KEYS
        ):
            raise TranscriptRecordError(
                f'{where}: expected {{"turn": int, "start": int, "end": int, "kind": text}}, got {span!r}'
            )
        if not isinstance(span.get("kind"), str):
            raise TranscriptRecordError(f"{where}.kind: expected text such as person_name, got {span!r}")
        turn, start, end = (int(span[key]) for key in _SPAN_KEYS)
        if not 0 <= turn < len(turns):
            raise TranscriptRecordError(f"{where}.turn: {turn} is not a turn (the record has {len(turns)})")
        length = len(turns[turn]["text"])
        if not 0 <= start < end <= length:
            raise TranscriptRecordError(
                f"{where}: {start}-{end} is not a span of turn {turn} ({length} characters); "
                "start < end, both inside the turn text"
            )


def read_transcript_record(record: Any, *, id_required: bool = True) -> dict[str, Any]:
    """The lenient reader for one record (see the module docstring): a normalised copy, or
    ``TranscriptRecordError`` naming the field and the fix. ``id_required=False`` (``scrub``) also takes a
    record without ``id``."""
    if not isinstance(record, Mapping):
        raise TranscriptRecordError(
            f'record: expected a JSON object such as {{"id": "call-0001", "turns": [...]}}, got {_kind(record)}'
        )
    out = copy.deepcopy(dict(record))
    if id_required or "id" in record:
        out["id"] = _record_id(record)
    if "turns" not in record:
        raise TranscriptRecordError(f"turns: missing; {_TURNS_FIX}")
    out["turns"] = read_turns(record["turns"])
    _check_optional_text(record)
    _check_phi(record.get("phi"), out["turns"])
    return out


def numbered_records(
    lines: Iterable[str], *, id_required: bool = True
) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, record, None) for each readable non-blank line of a JSON Lines file, or
    (line number, None, what is wrong with it): the streaming form of the reader (``scrub``, ``score``)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"not JSON ({exc.msg} at column {exc.colno})"
            continue
        try:
            yield number, read_transcript_record(parsed, id_required=id_required), None
        except TranscriptRecordError as exc:
            yield number, None, str(exc)


def read_transcripts(path: Path) -> list[dict[str, Any]]:
    """Every record of a transcripts.jsonl file, read leniently (see the module docstring), with
    distinct ids; ``TranscriptFileError`` lists each bad line as ``<file>: line <n>: <field>: <problem>``."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        lines = read_utf8(path, "transcripts file").splitlines()
    except TextFileError as exc:
        raise TranscriptFileError(f"{path}: {exc}") from None
    for number, record, problem in numbered_records(lines):
        if record is None:
            problems.append(f"{path}: line {number}: {problem}")
            continue
        if record["id"] in seen:
            problems.append(
                f"{path}: line {number}: id: {record['id']!r} is already the id of line {seen[record['id']]};"
                " every transcript needs its own id"
            )
            continue
        seen[record["id"]] = number
        records.append(record)
    if problems:
        more = (
            f"\n  ... and {len(problems) - MAX_ERRORS_SHOWN} more" if len(problems) > MAX_ERRORS_SHOWN else ""
        )
        raise TranscriptFileError(
            "not a transcripts file: each line needs at least id and turns [{speaker, text}] (see the README)"
            ":\n  " + "\n  ".join(problems[:MAX_ERRORS_SHOWN]) + more
        )
    if not records:
        raise TranscriptFileError(f"{path} holds no transcripts (no non-blank lines)")
    return records


def with_contract_defaults(record: dict[str, Any]) -> dict[str, Any]:
    """A read record with the output contract's required fields filled where it lacks them:
    ``request_id`` and ``generation.node_id`` ``external``; ``domain``, ``scenario`` and
    ``generation.model`` ``unknown``; ``emotional_tone`` and ``complexity`` null. Present fields are kept."""
    filled = dict(record)
    filled.setdefault("request_id", EXTERNAL)
    for key in ("domain", "scenario"):
        if filled.get(key) is None:
            filled[key] = UNKNOWN
    filled.setdefault("emotional_tone", None)
    filled.setdefault("complexity", None)
    if not isinstance(filled.get("generation"), Mapping):
        filled["generation"] = {"node_id": EXTERNAL, "model": UNKNOWN, "strategy": "json_batch"}
    return filled
