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
