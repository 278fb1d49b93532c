"""Cleaning and checking one generated turn before it joins a conversation."""

from __future__ import annotations

import re

MAX_TURN_WORDS = 90
_LABEL_LEAK = re.compile(r"\((?:Agent|Customer)\b|\b(?:Agent|Customer|Caller|Representative)\s*:|###", re.I)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_LETTER = re.compile(r"[A-Za-z]")


class DegenerateTurn(ValueError):
    """A generated turn that cannot be used; the message says why."""


def clean_turn(raw: str, *, truncated: bool, previous: list[str]) -> str:
    """Return the usable text of one generated turn, or raise DegenerateTurn with the reason.

    ``truncated`` says the model hit its token limit mid-turn: the turn is cut back to its last complete
    sentence. ``previous`` are the conversation's earlier turn texts (a verbatim repeat is a loop).
    """
    text = raw.replace("\r", " ").split("\n", 1)[0].strip()
    leak = _LABEL_LEAK.search(text)
    if leak:
        text = text[: leak.start()].strip()
    text = text.strip(" \"'`*-").strip()
    if truncated:
        ends = list(_SENTENCE_END.finditer(text))
        if not ends:
            raise DegenerateTurn("ran past the token limit without finishing a sentence")
        text = text[: ends[-1].end()]
    if len(_LETTER.findall(text)) < 2:
        raise DegenerateTurn(f"no words in {raw.strip()[:40]!r}")
    words = text.split()
    if len(words) > MAX_TURN_WORDS:
        raise DegenerateTurn(f"too long ({len(words)} words)")
    normal = " ".join(w.lower().strip(".,!?") for w in words)
    if any(normal == " ".join(w.lower().strip(".,!?") for w in p.split()) for p in previous):
        raise DegenerateTurn("repeats an earlier turn word for word")
    if len(words) >= 8 and len(set(words)) / len(words) < 0.4:
        raise DegenerateTurn("loops on the same words")
    return text
