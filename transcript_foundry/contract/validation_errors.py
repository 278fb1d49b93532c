"""One wording for pydantic validation errors in user-written files (nodes.yaml, domain packs, JobSpecs)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from pydantic import ValidationError


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def validation_problems(
    err: ValidationError, *, missing_hint: str, unknown_hint: Callable[[str], str]
) -> list[tuple[str, str]]:
    """(dotted field path, message) for each error: a missing field says how to add it, an unknown field
    says to remove or respell it (``unknown_hint`` gets the field's name), a rule's own message is kept."""
    problems = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            msg = f"field required: add it ({missing_hint})"
        elif e["type"] == "extra_forbidden":
            msg = f"unknown field: remove it or fix its spelling ({unknown_hint(str(e['loc'][-1]))})"
        problems.append((loc, msg))
    return problems
