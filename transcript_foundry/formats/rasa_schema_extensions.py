"""pykwalify extension functions that Rasa's schemas name with ``func:`` (schemas/rasa/responses.yml).

pykwalify loads this file by path (``Core(..., extensions=[str(EXTENSIONS_FILE)])``) and calls a function
as ``func(value, rule, path)``. It must return ``True`` when the value is valid; any other truthy value is
recorded as a validation error whose message is that value (pykwalify appends ``". Path: <path>"`` and
fills ``{...}`` placeholders from the error, so messages here contain no braces).
"""

from __future__ import annotations

from typing import Any

# A response variation must have one of these (Rasa: text, or rich content instead of text).
RESPONSE_KEYS: tuple[str, ...] = ("text", "image", "custom", "buttons", "attachment")


def require_response_keys(responses: Any, rule: Any, path: str) -> bool | str:
    """Every variation of a response has ``text``, ``image``, ``custom``, ``buttons`` or ``attachment``
    (and a non-null ``text`` when it has one); other shapes are left to the schema's own rules."""
    if not isinstance(responses, list):
        return True
    for i, response in enumerate(responses):
        if not isinstance(response, dict):
            continue
        if "text" in response and response["text"] is None:
            return f"response variation {i} has a null 'text'"
        if not any(response.get(key) is not None for key in RESPONSE_KEYS):
            return f"response variation {i} needs one of the keys {', '.join(RESPONSE_KEYS)}"
    return True
