"""The sensors' cursors: JSON objects of running totals and the last tick's states."""

from __future__ import annotations

import json
from typing import Any


def read_cursor(cursor: str | None) -> dict[str, Any]:
    """The cursor as a dict; an empty or foreign cursor (e.g. set by hand in the UI) starts afresh."""
    try:
        data = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        data = {}
    return data if isinstance(data, dict) else {}
