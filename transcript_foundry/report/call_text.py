"""The words of a call as the report counts them: lower-cased word tokens per turn, speakers normalised."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def speaker(turn: Mapping[str, Any]) -> str:
    """AGENT or CUSTOMER (other tools' "agent", "caller", "user" and "assistant" mapped onto them)."""
    name = str(turn.get("speaker", "")).strip().upper()
    if name in ("CUSTOMER", "CALLER", "USER", "CLIENT"):
        return "CUSTOMER"
    return "AGENT" if name in ("AGENT", "ASSISTANT", "REP", "REPRESENTATIVE") else name or "UNKNOWN"


def turns_of(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(speaker, text) of each turn of an output-contract record (or any record with turns)."""
    return [(speaker(t), str(t.get("text", ""))) for t in record.get("turns", []) if isinstance(t, Mapping)]


def customer_turns(records: Sequence[Mapping[str, Any]]) -> list[str]:
    return [text for r in records for who, text in turns_of(r) if who == "CUSTOMER" and text.strip()]


def record_problem(record: Any) -> str | None:
    """Why a record cannot be reported on (naming the field and the fix), or None. A record needs only
    ``turns: [{speaker, text}, ...]``; everything else (id, domain, scenario ...) is optional."""
    if not isinstance(record, dict):
        return f"expected a JSON object with turns, got {type(record).__name__}"
    turns = record.get("turns")
    if not isinstance(turns, list) or not turns:
        return "turns: missing or empty (a transcript needs turns: [{speaker, text}, ...])"
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            return f"turns.{i}: expected an object with speaker and text, got {type(turn).__name__}"
        if not isinstance(turn.get("speaker"), str) or not turn["speaker"].strip():
            return f"turns.{i}.speaker: missing (AGENT or CUSTOMER)"
        if not isinstance(turn.get("text"), str):
            return f"turns.{i}.text: missing or not a string"
    return None
